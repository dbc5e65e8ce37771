import type {
  AddressMask,
  IpHeaderMatch,
  Ipv6AddressMask,
  NetfilterFamily,
  NetfilterMatch,
  NetfilterTableName,
  NetfilterTarget,
} from './netfilter-types.js';
import { lookupProtocol, protocolName } from './netfilter-names.js';
import { MATCH_MODULES, matchModuleOf, protocolMatchName } from './match-modules.js';
import { STANDARD_TARGETS, TARGET_MODULES } from './target-modules.js';
import {
  checkInterface,
  formatAddressMask,
  formatIpv6AddressMask,
  parseAddressList,
  parseIpv6AddressList,
  parseUintIn,
} from './parse-helpers.js';
import { paramError, RuleParseError, unsupportedExtensions, UnsupportedExtensionError } from './restore-error.js';
import type { XtModule, XtOption, XtParseContext } from './xt-module.js';

/**
 * Parses one iptables (or ip6tables) command line (the words of a rule line of an
 * iptables-restore file) the way iptables 1.8.9 does: getopt_long with unique-prefix long
 * options, `!` before an option, extensions loaded by `-m`, `-j` and implicitly by `-p`.
 *
 * @remarks Linux equivalent: iptables/iptables.c `do_command4`, ip6tables.c `do_command6`,
 * xshared.c `do_parse`, `command_default`, libxtables `xtables_find_match`.
 * @see https://git.netfilter.org/iptables/tree/iptables/xshared.c
 */

/** A rule as parsed, before it is placed in a chain: its canonical iptables-save text included. */
export interface ParsedRule {
  readonly ip: IpHeaderMatch;
  readonly matches: readonly NetfilterMatch[];
  readonly target: NetfilterTarget;
  /** Canonical iptables-save text after `-A CHAIN `. */
  readonly spec: string;
  /** `-c packets bytes` given on the line. */
  readonly counters?: { readonly packets: number; readonly bytes: number };
}

/** One iptables command of a restore file. Chains are by name; rule numbers are 1-based. */
export type RuleCommand =
  | { readonly op: 'append'; readonly chain: string; readonly rules: readonly ParsedRule[] }
  | { readonly op: 'insert'; readonly chain: string; readonly num: number; readonly rules: readonly ParsedRule[] }
  | { readonly op: 'delete'; readonly chain: string; readonly rules: readonly ParsedRule[] }
  | { readonly op: 'delete-num'; readonly chain: string; readonly num: number }
  | { readonly op: 'replace'; readonly chain: string; readonly num: number; readonly rule: ParsedRule }
  | { readonly op: 'new-chain'; readonly chain: string }
  | { readonly op: 'delete-chain'; readonly chain?: string }
  | { readonly op: 'flush'; readonly chain?: string }
  | { readonly op: 'zero'; readonly chain?: string; readonly num?: number }
  | { readonly op: 'policy'; readonly chain: string; readonly policy: string }
  | { readonly op: 'rename'; readonly chain: string; readonly newName: string }
  /**
   * A line the restore skips: `-6` in iptables-restore input (`-4` in ip6tables-restore input)
   * ends the parse of a rule command there (do_parse returns early), so nothing is added.
   */
  | { readonly op: 'none' };

interface GlobalOption {
  readonly name: string;
  readonly short: string;
  readonly args: 0 | 1;
}

const GLOBAL_OPTIONS: readonly GlobalOption[] = [
  { name: 'append', short: 'A', args: 1 },
  { name: 'delete', short: 'D', args: 1 },
  { name: 'check', short: 'C', args: 1 },
  { name: 'insert', short: 'I', args: 1 },
  { name: 'replace', short: 'R', args: 1 },
  { name: 'list', short: 'L', args: 0 },
  { name: 'list-rules', short: 'S', args: 0 },
  { name: 'flush', short: 'F', args: 0 },
  { name: 'zero', short: 'Z', args: 0 },
  { name: 'new-chain', short: 'N', args: 1 },
  { name: 'delete-chain', short: 'X', args: 0 },
  { name: 'rename-chain', short: 'E', args: 1 },
  { name: 'policy', short: 'P', args: 1 },
  { name: 'source', short: 's', args: 1 },
  { name: 'destination', short: 'd', args: 1 },
  { name: 'src', short: 's', args: 1 },
  { name: 'dst', short: 'd', args: 1 },
  { name: 'protocol', short: 'p', args: 1 },
  { name: 'in-interface', short: 'i', args: 1 },
  { name: 'jump', short: 'j', args: 1 },
  { name: 'table', short: 't', args: 1 },
  { name: 'match', short: 'm', args: 1 },
  { name: 'numeric', short: 'n', args: 0 },
  { name: 'out-interface', short: 'o', args: 1 },
  { name: 'verbose', short: 'v', args: 0 },
  { name: 'wait', short: 'w', args: 0 },
  { name: 'wait-interval', short: 'W', args: 0 },
  { name: 'exact', short: 'x', args: 0 },
  { name: 'fragments', short: 'f', args: 0 },
  { name: 'fragment', short: 'f', args: 0 },
  { name: 'version', short: 'V', args: 0 },
  { name: 'help', short: 'h', args: 0 },
  { name: 'line-numbers', short: '0', args: 0 },
  { name: 'modprobe', short: 'M', args: 1 },
  { name: 'set-counters', short: 'c', args: 1 },
  { name: 'goto', short: 'g', args: 1 },
  { name: 'ipv4', short: '4', args: 0 },
  { name: 'ipv6', short: '6', args: 0 },
];

/** Short options and whether they take an argument (iptables' optstring). */
const SHORT_ARGS: ReadonlyMap<string, 0 | 1> = new Map([
  ['A', 1], ['C', 1], ['D', 1], ['R', 1], ['I', 1], ['L', 0], ['S', 0], ['M', 1], ['F', 0], ['Z', 0],
  ['N', 1], ['X', 0], ['E', 1], ['P', 1], ['V', 0], ['h', 0], ['o', 1], ['p', 1], ['s', 1], ['d', 1],
  ['j', 1], ['i', 1], ['f', 0], ['b', 0], ['v', 0], ['w', 0], ['W', 0], ['n', 0], ['t', 1], ['m', 1],
  ['x', 0], ['c', 1], ['g', 1], ['4', 0], ['6', 0],
]);

/** Options that may follow `!`. */
const INVERTIBLE = new Set(['s', 'd', 'p', 'i', 'o', 'f']);

const RULE_OPTIONS = new Set(['s', 'd', 'p', 'i', 'o', 'f', 'j', 'g', 'm', 'c']);

interface LoadedExtension {
  readonly module: XtModule<unknown, unknown>;
  readonly kind: 'match' | 'target';
  state: unknown;
  completed: boolean;
}

/** Options for {@link parseRuleCommand}. */
export interface ParseRuleCommandOptions {
  /** The table the line belongs to (`*nat` etc.), for the nat-DROP check. */
  readonly table: NetfilterTableName;
  /** `ipv4` (iptables, default) or `ipv6` (ip6tables): addresses, extensions and `-4`/`-6`. */
  readonly family?: NetfilterFamily;
}

function hasArg(argv: readonly string[], i: number): boolean {
  const a = argv[i];
  return a !== undefined && !a.startsWith('-') && !a.startsWith('!');
}

function parseRuleNumber(text: string): number {
  const n = parseUintIn(text, 1, 0x7fffffff);
  if (n === undefined) throw paramError(`Invalid rule number \`${text}'`);
  return n;
}

/**
 * Parses the words of one command line.
 *
 * @throws RuleParseError with iptables' message (the restore loop adds the line number).
 */
export function parseRuleCommand(argv: readonly string[], options: ParseRuleCommandOptions): RuleCommand {
  const family: NetfilterFamily = options.family ?? 'ipv4';
  const v6 = family === 'ipv6';
  let command: string | undefined;
  let chain: string | undefined;
  let num: number | undefined;
  let policy: string | undefined;
  let newName: string | undefined;
  let invert = false;
  const seen = new Set<string>();
  const ip: {
    src?: string;
    srcInvert: boolean;
    dst?: string;
    dstInvert: boolean;
    inIface?: string;
    inIfaceInvert: boolean;
    outIface?: string;
    outIfaceInvert: boolean;
    protocol?: number;
    protocolInvert: boolean;
    fragment?: 'fragment' | 'not-fragment';
  } = { srcInvert: false, dstInvert: false, inIfaceInvert: false, outIfaceInvert: false, protocolInvert: false };
  const extensions: LoadedExtension[] = [];
  let target: LoadedExtension | undefined;
  let jumpTo: string | undefined;
  let isGoto = false;
  let counters: { packets: number; bytes: number } | undefined;
  let protoLoaded = false;

  let ctxCache: XtParseContext = v6 ? NO_PROTOCOL6 : NO_PROTOCOL;
  const ctx = (): XtParseContext => ctxCache;

  const setCommand = (letter: string): void => {
    if (command !== undefined) throw paramError(`Cannot use -${letter} with -${command}\n`);
    command = letter;
  };

  const setOption = (letter: string): void => {
    if (seen.has(letter)) throw paramError(`multiple -${letter} flags not allowed`);
    if (invert && !INVERTIBLE.has(letter)) throw paramError(`cannot have ! before -${letter}`);
    seen.add(letter);
  };

  const loadMatch = (name: string): void => {
    const module = matchModuleOf(name, family);
    if (module === undefined) {
      if (unsupportedExtensions(family).has(name)) throw new UnsupportedExtensionError('match', name);
      throw paramError(`Couldn't load match \`${name}':No such file or directory\n`);
    }
    for (const e of extensions) if (e.module.name === name) e.completed = true;
    extensions.push({ module, kind: 'match', state: module.create(), completed: false });
  };

  /**
   * getopt_long over the merged option table (globals, then each loaded extension in load
   * order): an exact name wins, else a unique abbreviation.
   */
  const resolveLong = (name: string): ResolvedOption | undefined => {
    const g = GLOBAL_LONG.get(name);
    if (g !== undefined) return { name, owner: g, args: g.args };
    for (const e of extensions) {
      const o = optionMap(e.module).get(name);
      if (o !== undefined) return { name, owner: e, args: o.args };
    }
    if (target !== undefined) {
      const o = optionMap(target.module).get(name);
      if (o !== undefined) return { name, owner: target, args: o.args };
    }
    const prefixed: ResolvedOption[] = [];
    for (const g2 of GLOBAL_OPTIONS) if (g2.name.startsWith(name)) prefixed.push({ name: g2.name, owner: g2, args: g2.args });
    for (const e of [...extensions, ...(target !== undefined ? [target] : [])]) {
      for (const o of e.module.options) if (o.name.startsWith(name)) prefixed.push({ name: o.name, owner: e, args: o.args });
    }
    const first = prefixed[0];
    if (first === undefined) return undefined;
    return prefixed.every((o) => optionKey(o) === optionKey(first)) ? first : undefined;
  };

  let i = 0;
  while (i < argv.length) {
    const word = argv[i] ?? '';
    i++;
    if (word === '!') {
      if (invert) throw paramError('multiple consecutive ! not allowed');
      invert = true;
      continue;
    }
    let letter: string | undefined;
    let ext: { owner: LoadedExtension; name: string; args: number } | undefined;
    let inlineArg: string | undefined;
    if (word.startsWith('--') && word.length > 2) {
      const eq = word.indexOf('=');
      const name = eq >= 0 ? word.slice(2, eq) : word.slice(2);
      if (eq >= 0) inlineArg = word.slice(eq + 1);
      let found = resolveLong(name);
      if (found === undefined && !protoLoaded && ip.protocol !== undefined) {
        // command_default: an unknown option loads the -p protocol's match, then getopt retries.
        protoLoaded = true;
        const pm = protocolMatchName(ip.protocol, family);
        if (pm !== undefined && !extensions.some((e) => e.module.name === pm)) {
          loadMatch(pm);
          found = resolveLong(name);
        }
      }
      if (found === undefined) throw paramError(`unknown option "${word}"`);
      if ('short' in found.owner) letter = found.owner.short;
      else ext = { owner: found.owner, name: found.name, args: found.args };
    } else if (word.startsWith('-') && word.length >= 2) {
      letter = word[1];
      if (letter === undefined || !SHORT_ARGS.has(letter)) throw paramError(`unknown option "${word}"`);
      if (word.length > 2) inlineArg = word.slice(2);
    } else {
      throw new RuleParseError('bad-argument', `Bad argument \`${word}'`);
    }

    if (ext !== undefined) {
      // Dispatch: the target, or the first not-completed instance of the owning match.
      let owner: LoadedExtension = ext.owner;
      if (owner.kind === 'match') {
        const inst = extensions.find((e) => e.module.name === owner.module.name && !e.completed);
        if (inst !== undefined) owner = inst;
      }
      const args: string[] = [];
      if (ext.args >= 1) {
        const a = inlineArg ?? argv[i++];
        if (a === undefined) throw paramError(`option "${word}" requires an argument`);
        args.push(a);
      }
      if (ext.args === 2 && hasArg(argv, i)) args.push(argv[i++] ?? '');
      owner.module.parse(owner.state, ext.name, args, invert, ctx());
      invert = false;
      continue;
    }

    const takesArg = SHORT_ARGS.get(letter ?? '') === 1;
    let optarg: string | undefined;
    if (takesArg) {
      optarg = inlineArg ?? argv[i++];
      if (optarg === undefined) throw paramError(`option "${word}" requires an argument`);
    }
    const a = optarg ?? '';
    switch (letter) {
      case 'A':
        setCommand('A');
        chain = a;
        break;
      case 'C':
        throw paramError('knet: -C (check) is not supported in iptables-restore input');
      case 'D':
        setCommand('D');
        chain = a;
        if (hasArg(argv, i)) num = parseRuleNumber(argv[i++] ?? '');
        break;
      case 'R':
        setCommand('R');
        chain = a;
        if (hasArg(argv, i)) num = parseRuleNumber(argv[i++] ?? '');
        else throw paramError('-R requires a rule number');
        break;
      case 'I':
        setCommand('I');
        chain = a;
        num = hasArg(argv, i) ? parseRuleNumber(argv[i++] ?? '') : 1;
        break;
      case 'L':
      case 'S':
        throw paramError(`knet: -${letter} (listing) is not supported in iptables-restore input`);
      case 'F':
      case 'X':
      case 'Z':
        setCommand(letter);
        if (inlineArg !== undefined) chain = inlineArg;
        else if (hasArg(argv, i)) chain = argv[i++];
        if (letter === 'Z' && chain !== undefined && hasArg(argv, i)) num = parseRuleNumber(argv[i++] ?? '');
        break;
      case 'N':
        setCommand('N');
        if (a.startsWith('-') || a.startsWith('!')) throw paramError(`chain name not allowed to start with \`${a[0]}'`);
        if (TARGET_MODULES.has(a) || STANDARD_TARGETS.has(a)) throw paramError('chain name may not clash with target name');
        chain = a;
        break;
      case 'E':
        setCommand('E');
        chain = a;
        if (hasArg(argv, i)) newName = argv[i++];
        else throw paramError('-E requires old-chain-name and new-chain-name');
        break;
      case 'P':
        setCommand('P');
        chain = a;
        if (hasArg(argv, i)) policy = argv[i++];
        else throw paramError('-P requires a chain and a policy');
        break;
      case 's':
        setOption('s');
        // Addresses are resolved after the whole line is read (xtables_ipparse_multiple).
        ip.src = a;
        ip.srcInvert = invert;
        break;
      case 'd':
        setOption('d');
        ip.dst = a;
        ip.dstInvert = invert;
        break;
      case 'p': {
        setOption('p');
        const p = lookupProtocol(a);
        if (p === undefined) throw paramError(`unknown protocol "${a.toLowerCase()}" specified`);
        if (p === 0 && invert) throw paramError('rule would never match protocol');
        ip.protocol = p;
        ip.protocolInvert = invert;
        ctxCache = { protocol: p, protocolInvert: invert, family };
        break;
      }
      case 'i':
        setOption('i');
        checkInterface(a);
        ip.inIface = a;
        ip.inIfaceInvert = invert;
        break;
      case 'o':
        setOption('o');
        checkInterface(a);
        ip.outIface = a;
        ip.outIfaceInvert = invert;
        break;
      case 'f':
        if (v6) throw paramError("`-f' is not supported in IPv6, use -m frag instead");
        setOption('f');
        ip.fragment = invert ? 'not-fragment' : 'fragment';
        break;
      case 'j':
      case 'g': {
        setOption('j');
        if (letter === 'g') isGoto = true;
        jumpTo = a;
        if (unsupportedExtensions(family).has(a)) throw new UnsupportedExtensionError('target', a);
        const module = TARGET_MODULES.get(a);
        if (module !== undefined && !isGoto) target = { module, kind: 'target', state: module.create(), completed: false };
        break;
      }
      case 'm':
        if (invert) throw paramError('unexpected ! flag before --match');
        loadMatch(a);
        break;
      case 't':
        throw paramError('The -t option cannot be used in iptables-restore.\n');
      case 'c': {
        setOption('c');
        const bytesText = hasArg(argv, i) ? argv[i++] : undefined;
        if (bytesText === undefined) throw paramError('-c requires packet and byte counter');
        const p = parseUintIn(a, 0, Number.MAX_SAFE_INTEGER);
        if (p === undefined) throw paramError('-c packet counter not numeric');
        const b = parseUintIn(bytesText, 0, Number.MAX_SAFE_INTEGER);
        if (b === undefined) throw paramError('-c byte counter not numeric');
        counters = { packets: p, bytes: b };
        break;
      }
      case 'M':
      case 'n':
      case 'v':
      case 'x':
      case 'w':
      case 'W':
      case '0':
        break;
      case '4':
      case '6':
        // The other family's flag makes the restore skip what is left of the line.
        if ((letter === '6') !== v6) return skippedCommand(command, chain, num, policy, newName);
        break;
      default:
        throw paramError(`unknown option "${word}"`);
    }
    invert = false;
  }

  // do_parse after the option loop, in iptables' order.
  if ((options.table === 'nat' && jumpTo === 'DROP') || (options.table === 'nat' && command === 'P' && policy === 'DROP')) {
    throw natDrop();
  }
  const c = ctx();
  const matches = extensions.map((e) => e.module.finish(e.state, c) as NetfilterMatch);
  let tgt: NetfilterTarget;
  if (jumpTo === undefined) tgt = NO_TARGET;
  else if (target !== undefined && !isGoto) tgt = target.module.finish(target.state, c) as NetfilterTarget;
  else tgt = chainTarget(isGoto ? 'goto' : 'jump', jumpTo);
  if (command === undefined) throw paramError('no command specified');
  if (invert) throw paramError('nothing appropriate following !');
  const ruleCommand = command === 'A' || command === 'I' || command === 'R' || (command === 'D' && num === undefined);
  const parseList = v6 ? parseIpv6AddressList : parseAddressList;
  const srcList: readonly (AddressMask | Ipv6AddressMask)[] = ip.src !== undefined ? parseList(ip.src) : ANY_ADDRESS;
  const dstList: readonly (AddressMask | Ipv6AddressMask)[] = ip.dst !== undefined ? parseList(ip.dst) : ANY_ADDRESS;
  if ((srcList.length > 1 || dstList.length > 1) && (ip.srcInvert || ip.dstInvert)) {
    throw paramError('! not allowed with multiple source or destination IP addresses');
  }
  if (command === 'R' && (srcList.length !== 1 || dstList.length !== 1)) {
    throw paramError('Replacement rule does not specify a unique address');
  }
  if (!ruleCommand) {
    for (const l of seen) if (RULE_OPTIONS.has(l)) throw paramError(`Illegal option \`-${l}' with this command`);
  }
  const name = chain ?? '';
  if (name.length >= 29) throw paramError(`chain name \`${name}' too long (must be under 29 chars)`);
  switch (command) {
    case 'N':
      return { op: 'new-chain', chain: name };
    case 'X':
      return chain === undefined ? { op: 'delete-chain' } : { op: 'delete-chain', chain };
    case 'F':
      return chain === undefined ? { op: 'flush' } : { op: 'flush', chain };
    case 'Z':
      return { op: 'zero', ...(chain !== undefined ? { chain } : {}), ...(num !== undefined ? { num } : {}) };
    case 'E':
      if (newName !== undefined && newName.length >= 29) {
        throw paramError(`chain name \`${newName}' too long (must be under 29 chars)`);
      }
      return { op: 'rename', chain: name, newName: newName ?? '' };
    case 'P':
      return { op: 'policy', chain: name, policy: policy ?? '' };
    case 'D':
      if (num !== undefined) return { op: 'delete-num', chain: name, num };
      break;
  }
  if (name === 'PREROUTING' || name === 'INPUT') {
    if (ip.outIface !== undefined) throw paramError(`Can't use -o with ${name}\n`);
  }
  if (name === 'POSTROUTING' || name === 'OUTPUT') {
    if (ip.inIface !== undefined) throw paramError(`Can't use -i with ${name}\n`);
  }

  const rules: ParsedRule[] = [];
  const srcs: readonly (AddressMask | Ipv6AddressMask | undefined)[] = ip.src !== undefined ? srcList : [undefined];
  const dsts: readonly (AddressMask | Ipv6AddressMask | undefined)[] = ip.dst !== undefined ? dstList : [undefined];
  for (const s of srcs) {
    for (const d of dsts) {
      const simple = s === undefined && d === undefined && ip.inIface === undefined && ip.outIface === undefined && ip.fragment === undefined && !ip.srcInvert && !ip.dstInvert;
      const header: { -readonly [K in keyof IpHeaderMatch]: IpHeaderMatch[K] } = simple ? simpleHeader(ip.protocol, ip.protocolInvert) : {
        srcInvert: ip.srcInvert,
        dstInvert: ip.dstInvert,
        inIfaceInvert: ip.inIfaceInvert,
        outIfaceInvert: ip.outIfaceInvert,
        protocolInvert: ip.protocolInvert,
      };
      if (!simple) {
        if (s !== undefined) {
          if (isV6Mask(s)) header.src6 = s;
          else header.src = s;
        }
        if (d !== undefined) {
          if (isV6Mask(d)) header.dst6 = d;
          else header.dst = d;
        }
        if (ip.inIface !== undefined) header.inIface = ip.inIface;
        if (ip.outIface !== undefined) header.outIface = ip.outIface;
        if (ip.protocol !== undefined) header.protocol = ip.protocol;
        if (ip.fragment !== undefined) header.fragment = ip.fragment;
      }
      const rule: { -readonly [K in keyof ParsedRule]: ParsedRule[K] } = { ip: header, matches, target: tgt, spec: formatRuleSpec(header, matches, tgt, family) };
      if (counters !== undefined) rule.counters = counters;
      rules.push(rule);
    }
  }
  const first = rules[0] as ParsedRule;
  switch (command) {
    case 'A':
      return { op: 'append', chain: name, rules };
    case 'I':
      return { op: 'insert', chain: name, num: num ?? 1, rules };
    case 'R':
      if (rules.length > 1) throw paramError('Replacement rule does not specify a unique address');
      return { op: 'replace', chain: name, num: num ?? 1, rule: first };
    default:
      return { op: 'delete', chain: name, rules };
  }
}

interface ResolvedOption {
  readonly name: string;
  readonly owner: LoadedExtension | GlobalOption;
  readonly args: number;
}

const NO_PROTOCOL: XtParseContext = { protocol: 0, protocolInvert: false, family: 'ipv4' };
const NO_PROTOCOL6: XtParseContext = { protocol: 0, protocolInvert: false, family: 'ipv6' };

function isV6Mask(a: AddressMask | Ipv6AddressMask): a is Ipv6AddressMask {
  return typeof a.address !== 'number';
}

/**
 * What is left of a command when the other family's `-4`/`-6` ends its parse: rule commands
 * (no addresses parsed yet) add or delete nothing; chain commands run as far as they were read.
 */
function skippedCommand(
  command: string | undefined,
  chain: string | undefined,
  num: number | undefined,
  policy: string | undefined,
  newName: string | undefined,
): RuleCommand {
  const name = chain ?? '';
  switch (command) {
    case 'N':
      return { op: 'new-chain', chain: name };
    case 'X':
      return chain === undefined ? { op: 'delete-chain' } : { op: 'delete-chain', chain };
    case 'F':
      return chain === undefined ? { op: 'flush' } : { op: 'flush', chain };
    case 'Z':
      return { op: 'zero', ...(chain !== undefined ? { chain } : {}), ...(num !== undefined ? { num } : {}) };
    case 'E':
      return { op: 'rename', chain: name, newName: newName ?? '' };
    case 'P':
      return { op: 'policy', chain: name, policy: policy ?? '' };
    case 'D':
      return num !== undefined ? { op: 'delete-num', chain: name, num } : { op: 'none' };
    case 'R':
      // iptables-restore 1.8.9 replaces with an address list it never parsed, and crashes.
      throw paramError('knet: -R cut short by the other family\'s -4/-6 crashes iptables-restore 1.8.9 (SIGSEGV)');
    default:
      return { op: 'none' };
  }
}

/** Rules share immutable parts that repeat: no target, verdicts and jumps by chain, bare headers. */
const NO_TARGET: NetfilterTarget = { kind: 'none' };
const CHAIN_TARGETS = new Map<string, NetfilterTarget>([
  ['jump ACCEPT', { kind: 'ACCEPT' }],
  ['jump DROP', { kind: 'DROP' }],
  ['jump RETURN', { kind: 'RETURN' }],
]);
const SIMPLE_HEADERS = new Map<string, IpHeaderMatch>();

/** The (shared) target of `-j CHAIN`/`-g CHAIN`, or of `-j ACCEPT|DROP|RETURN`. */
function chainTarget(kind: 'jump' | 'goto', chain: string): NetfilterTarget {
  const key = `${kind} ${chain}`;
  const found = CHAIN_TARGETS.get(key);
  if (found !== undefined) return found;
  const t: NetfilterTarget = kind === 'jump' ? { kind: 'jump', chain } : { kind: 'goto', chain };
  if (CHAIN_TARGETS.size > 200_000) CHAIN_TARGETS.clear();
  CHAIN_TARGETS.set(key, t);
  return t;
}

/** The (shared) header of a rule with at most `-p`. */
function simpleHeader(protocol: number | undefined, invert: boolean): IpHeaderMatch {
  const key = `${protocol ?? ''}${invert ? '!' : ''}`;
  let h = SIMPLE_HEADERS.get(key);
  if (h === undefined) {
    const m: { -readonly [K in keyof IpHeaderMatch]: IpHeaderMatch[K] } = {
      srcInvert: false,
      dstInvert: false,
      inIfaceInvert: false,
      outIfaceInvert: false,
      protocolInvert: invert,
    };
    if (protocol !== undefined) m.protocol = protocol;
    h = m;
    SIMPLE_HEADERS.set(key, h);
  }
  return h;
}

/** What an absent `-s`/`-d` stands for (`0.0.0.0/0`; only its length is used). */
const ANY_ADDRESS: readonly AddressMask[] = [{ address: 0, mask: 0 }];

/** Global long options by name. */
const GLOBAL_LONG: ReadonlyMap<string, GlobalOption> = new Map(GLOBAL_OPTIONS.map((g) => [g.name, g]));

const OPTION_MAPS = new WeakMap<object, Map<string, XtOption>>();

/** An extension's options by name (built once per extension). */
function optionMap(module: XtModule<unknown, unknown>): Map<string, XtOption> {
  let m = OPTION_MAPS.get(module);
  if (m === undefined) {
    m = new Map(module.options.map((o) => [o.name, o]));
    OPTION_MAPS.set(module, m);
  }
  return m;
}

function optionKey(o: { name: string; owner: LoadedExtension | GlobalOption }): string {
  return 'short' in o.owner ? `-${o.owner.short}` : `${o.owner.module.name}:${o.name}`;
}

function natDrop(): RuleParseError {
  return paramError('\nThe "nat" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n');
}

/**
 * The canonical iptables-save text of a rule (without `-A CHAIN`).
 *
 * @param family how addresses print (`ipv6`: ip6tables' `print_ip`); by default the family the
 * header's addresses are in.
 * @remarks Linux equivalent: iptables/iptables.c `print_rule4` (ip6tables.c `print_rule6`) in
 * save mode: addresses, interfaces, protocol, fragment flag, then each match as `-m NAME` and its
 * options, then the target.
 * @see https://git.netfilter.org/iptables/tree/iptables/iptables.c
 */
export function formatRuleSpec(
  ip: IpHeaderMatch,
  matches: readonly NetfilterMatch[],
  target: NetfilterTarget,
  family: NetfilterFamily = ip.src6 !== undefined || ip.dst6 !== undefined ? 'ipv6' : 'ipv4',
): string {
  let out = '';
  if (family === 'ipv6') {
    out += formatIpv6Address('-s', ip.src6, ip.srcInvert) + formatIpv6Address('-d', ip.dst6, ip.dstInvert);
  } else {
    if (ip.src !== undefined && (ip.src.mask !== 0 || ip.srcInvert)) out += `${ip.srcInvert ? ' !' : ''} -s ${formatAddressMask(ip.src)}`;
    else if (ip.src === undefined && ip.srcInvert) out += ' ! -s 0.0.0.0/0';
    if (ip.dst !== undefined && (ip.dst.mask !== 0 || ip.dstInvert)) out += `${ip.dstInvert ? ' !' : ''} -d ${formatAddressMask(ip.dst)}`;
    else if (ip.dst === undefined && ip.dstInvert) out += ' ! -d 0.0.0.0/0';
  }
  if (ip.inIface !== undefined && ip.inIface !== '') out += `${ip.inIfaceInvert ? ' !' : ''} -i ${ip.inIface}`;
  if (ip.outIface !== undefined && ip.outIface !== '') out += `${ip.outIfaceInvert ? ' !' : ''} -o ${ip.outIface}`;
  if (ip.protocol !== undefined && ip.protocol !== 0) out += `${ip.protocolInvert ? ' !' : ''} -p ${protocolName(ip.protocol)}`;
  if (ip.fragment !== undefined) out += ip.fragment === 'not-fragment' ? ' ! -f' : ' -f';
  for (const m of matches) {
    const module = MATCH_MODULES.get(m.kind);
    out += ` -m ${m.kind}${module !== undefined ? module.save(m) : ''}`;
  }
  switch (target.kind) {
    case 'none':
      break;
    case 'jump':
      out += ` -j ${target.chain}`;
      break;
    case 'goto':
      out += ` -g ${target.chain}`;
      break;
    case 'ACCEPT':
    case 'DROP':
    case 'RETURN':
      out += ` -j ${target.kind}`;
      break;
    default: {
      const module = TARGET_MODULES.get(target.kind);
      out += ` -j ${target.kind}${module !== undefined ? module.save(target) : ''}`;
    }
  }
  const spec = out.startsWith(' ') ? out.slice(1) : out;
  // Flatten the concatenation now: a rule keeps one flat string instead of a tree of pieces.
  spec.charCodeAt(0);
  return spec;
}

/** ip6tables.c `print_ip`: nothing for `::/0`, else `[!] -s addr/len`. */
function formatIpv6Address(option: '-s' | '-d', a: Ipv6AddressMask | undefined, invert: boolean): string {
  if (a === undefined) return invert ? ` ! ${option} ::/0` : '';
  const m = a.mask;
  if (m[0] === 0 && m[1] === 0 && m[2] === 0 && m[3] === 0 && !invert) return '';
  return `${invert ? ' !' : ''} ${option} ${formatIpv6AddressMask(a)}`;
}

/** Parses the rule part of a command line into a {@link ParsedRule} (for tests and callers building rules). */
export function parseRuleSpec(text: string, table: NetfilterTableName = 'filter', family: NetfilterFamily = 'ipv4'): ParsedRule {
  const cmd = parseRuleCommand(['-A', 'X', ...splitRuleWords(text)], { table, family });
  if (cmd.op !== 'append' || cmd.rules.length !== 1) throw paramError('expected exactly one rule');
  return cmd.rules[0] as ParsedRule;
}

/**
 * Splits a line into words as iptables-restore's `add_param_to_argv` does: blanks (space, tab,
 * newline) separate words; `"` opens a quote in which `\` escapes the next character; the closing
 * quote ends the word (an empty `""` is a word); outside quotes `\` is literal; an unterminated
 * quote runs to the end of the line, newline included.
 */
export function splitRuleWords(line: string): string[] {
  const words: string[] = [];
  const n = line.length;
  let i = 0;
  let buf = '';
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 34) {
      // Quoted: `\` escapes the next character; the closing quote ends the word.
      i++;
      let closed = false;
      while (i < n) {
        const q = line.charCodeAt(i);
        if (q === 92 && i + 1 < n) {
          buf += line[i + 1];
          i += 2;
          continue;
        }
        if (q === 92) {
          i++;
          continue;
        }
        if (q === 34) {
          closed = true;
          i++;
          break;
        }
        const start = i;
        while (i < n && line.charCodeAt(i) !== 34 && line.charCodeAt(i) !== 92) i++;
        buf += line.slice(start, i);
      }
      // An unterminated quote keeps what it collected (newline included), if anything.
      if (closed || buf.length > 0) words.push(buf);
      buf = '';
      continue;
    }
    if (c === 32 || c === 9 || c === 10) {
      if (buf.length > 0) {
        words.push(buf);
        buf = '';
      }
      i++;
      continue;
    }
    const start = i;
    while (i < n) {
      const d = line.charCodeAt(i);
      if (d === 32 || d === 9 || d === 10 || d === 34) break;
      i++;
    }
    buf += line.slice(start, i);
  }
  if (buf.length > 0) words.push(buf);
  return words;
}
