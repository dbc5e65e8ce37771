import { isKnetError, KnetError } from '../../errors/knet-error.js';
import { IpsetSyntaxError, parseIpsetElements } from './ipset-element.js';
import type { IpsetAddOptions, IpsetStore } from './ipset-store.js';
import { IPSET_TYPES, type IpsetCreateOptions, type IpsetType } from './ipset-types.js';

/**
 * `ipset restore` and the command words of its input.
 *
 * @remarks
 * Linux equivalent: ipset 7.17 `ipset restore` (lib/ipset.c `ipset_parse_line` per line). Unlike
 * iptables-restore it is not transactional: lines before a failing one stay applied.
 * @see ipset(8)
 */

/** Options of {@link applyIpsetRestore}. */
export interface IpsetRestoreOptions {
  /** `-exist` (`-!`): ignore "already exists"/"already added"/"not added" errors. */
  readonly exist?: boolean;
  /** knet clock (ns) for element timeouts; default 0. */
  readonly now?: number;
  /**
   * Whether an iptables rule references a set: such a set cannot be destroyed or renamed. Pass
   * `(name) => isIpsetReferenced(netfilterState, name)`.
   */
  readonly inUse?: (set: string) => boolean;
}

/** One parsed line of an ipset restore file. */
export type IpsetCommand =
  | { readonly op: 'create'; readonly line: number; readonly name: string; readonly type: IpsetType; readonly options: Partial<IpsetCreateOptions> }
  | { readonly op: 'add' | 'del' | 'test'; readonly line: number; readonly name: string; readonly element: string; readonly add: IpsetAddOptions }
  | { readonly op: 'flush' | 'destroy'; readonly line: number; readonly name?: string }
  | { readonly op: 'rename' | 'swap'; readonly line: number; readonly name: string; readonly other: string };

const COMMANDS: ReadonlyMap<string, IpsetCommand['op']> = new Map([
  ['create', 'create'], ['n', 'create'], ['-N', 'create'], ['new', 'create'],
  ['add', 'add'], ['a', 'add'], ['-A', 'add'],
  ['del', 'del'], ['d', 'del'], ['-D', 'del'],
  ['test', 'test'], ['t', 'test'], ['-T', 'test'],
  ['flush', 'flush'], ['f', 'flush'], ['-F', 'flush'],
  ['destroy', 'destroy'], ['x', 'destroy'], ['-X', 'destroy'],
  ['rename', 'rename'], ['e', 'rename'], ['-E', 'rename'],
  ['swap', 'swap'], ['w', 'swap'], ['-W', 'swap'],
]);

/** Splits an ipset line into words; a double-quoted word keeps its blanks (comments). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) out.push(m[1] ?? m[2] ?? '');
  return out;
}

function uint(text: string | undefined, what: string, max = 0xffffffff): number {
  if (text === undefined) throw new IpsetSyntaxError(`Syntax error: ${what} requires a value`);
  const n = /^0[xX][0-9a-fA-F]+$/.test(text) ? parseInt(text, 16) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n)) throw new IpsetSyntaxError(`Syntax error: '${text}' is invalid as number`);
  if (n > max) throw new IpsetSyntaxError(`Syntax error: '${text}' is out of range 0-${max}`);
  return n;
}

function parseCreateOptions(type: IpsetType, args: readonly string[]): Partial<IpsetCreateOptions> {
  const o: { -readonly [K in keyof IpsetCreateOptions]?: IpsetCreateOptions[K] } = {};
  for (let i = 0; i < args.length; i++) {
    const w = args[i];
    switch (w) {
      case 'family':
        if (args[i + 1] !== 'inet') throw new IpsetSyntaxError(`knet: only family inet is supported`);
        i++;
        break;
      case 'hashsize':
        o.hashsize = uint(args[++i], w);
        break;
      case 'maxelem':
        o.maxelem = uint(args[++i], w);
        break;
      case 'bucketsize':
        o.bucketsize = uint(args[++i], w, 12);
        break;
      case 'initval':
        o.initval = uint(args[++i], w);
        break;
      case 'timeout':
        o.timeout = uint(args[++i], w, 2147483);
        break;
      case 'netmask':
        if (type !== 'hash:ip') throw new IpsetSyntaxError(`Syntax error: Unknown argument: 'netmask'`);
        o.netmask = uint(args[++i], w, 32);
        break;
      case 'range': {
        if (type !== 'bitmap:port') throw new IpsetSyntaxError(`Syntax error: Unknown argument: 'range'`);
        const r = args[++i] ?? '';
        const dash = r.indexOf('-');
        o.rangeFrom = uint(dash < 0 ? r : r.slice(0, dash), w, 65535);
        o.rangeTo = uint(dash < 0 ? r : r.slice(dash + 1), w, 65535);
        break;
      }
      case 'counters':
        o.counters = true;
        break;
      case 'comment':
        o.comment = true;
        break;
      case 'skbinfo':
        o.skbinfo = true;
        break;
      case 'forceadd':
        break;
      default:
        throw new IpsetSyntaxError(`Syntax error: Unknown argument: '${w}'`);
    }
  }
  if (type === 'bitmap:port' && o.rangeFrom === undefined) throw new IpsetSyntaxError("Mandatory option `range' is missing");
  return o;
}

function parseAddOptions(args: readonly string[]): IpsetAddOptions {
  const o: { -readonly [K in keyof IpsetAddOptions]?: IpsetAddOptions[K] } = {};
  for (let i = 0; i < args.length; i++) {
    const w = args[i];
    switch (w) {
      case 'timeout':
        o.timeout = uint(args[++i], w, 2147483);
        break;
      case 'nomatch':
        o.nomatch = true;
        break;
      case 'packets':
        o.packets = uint(args[++i], w, Number.MAX_SAFE_INTEGER);
        break;
      case 'bytes':
        o.bytes = uint(args[++i], w, Number.MAX_SAFE_INTEGER);
        break;
      case 'comment':
        o.comment = args[++i] ?? '';
        break;
      case 'skbmark': {
        const t = args[++i] ?? '';
        const slash = t.indexOf('/');
        o.skbmark = { value: uint(slash < 0 ? t : t.slice(0, slash), w), mask: slash < 0 ? 0xffffffff : uint(t.slice(slash + 1), w) };
        break;
      }
      default:
        throw new IpsetSyntaxError(`Syntax error: Unknown argument: '${w}'`);
    }
  }
  return o;
}

/** ipset's error line: `ipset v7.17: Error in line N: MESSAGE`. */
function lineError(code: KnetError['code'], line: number, message: string): KnetError {
  return new KnetError(code, `ipset restore: line ${line}: ${message}`, {
    line,
    reason: message,
    stderr: `ipset v7.17: Error in line ${line}: ${message}\n`,
  });
}

/**
 * Parses one line of an ipset restore file (or of `ipset` command words).
 *
 * @returns `undefined` for blank and comment lines.
 * @throws IpsetSyntaxError with ipset's message.
 */
export function parseIpsetLine(text: string, line: number): IpsetCommand | undefined {
  const w = words(text);
  const first = w[0];
  if (first === undefined || first.startsWith('#')) return undefined;
  const op = COMMANDS.get(first);
  if (op === undefined) throw new IpsetSyntaxError(`Syntax error: unknown command ${first}`);
  const name = w[1];
  switch (op) {
    case 'create': {
      const type = w[2];
      if (name === undefined || type === undefined) throw new IpsetSyntaxError('Syntax error: Missing settype');
      if (!(IPSET_TYPES as readonly string[]).includes(type)) {
        throw new IpsetSyntaxError(`Syntax error: typename '${type}' is unknown`);
      }
      return { op, line, name, type: type as IpsetType, options: parseCreateOptions(type as IpsetType, w.slice(3)) };
    }
    case 'add':
    case 'del':
    case 'test': {
      const element = w[2];
      if (name === undefined || element === undefined) throw new IpsetSyntaxError('Syntax error: Missing mandatory argument');
      return { op, line, name, element, add: parseAddOptions(w.slice(3)) };
    }
    case 'flush':
    case 'destroy':
      return name !== undefined ? { op, line, name } : { op, line };
    case 'rename':
    case 'swap': {
      const other = w[2];
      if (name === undefined || other === undefined) throw new IpsetSyntaxError('Syntax error: Missing mandatory argument');
      return { op, line, name, other };
    }
  }
}

/**
 * Parses a whole ipset restore file.
 *
 * @throws KnetError `EINVAL` with `details.line` and the `stderr` ipset prints.
 */
export function parseIpsetRestore(text: string): IpsetCommand[] {
  const out: IpsetCommand[] = [];
  text.split('\n').forEach((l, i) => {
    try {
      const c = parseIpsetLine(l, i + 1);
      if (c !== undefined) out.push(c);
    } catch (e) {
      if (e instanceof IpsetSyntaxError) throw lineError('EINVAL', i + 1, e.message);
      throw e;
    }
  });
  return out;
}

/**
 * Runs an ipset restore file against a namespace's sets, line by line.
 *
 * @returns the number of commands applied.
 * @throws KnetError at the first failing line (`EEXIST`, `ENOENT`, `ENOSPC` or `EINVAL`), with
 * `details.line`, `details.reason` and `details.stderr` as ipset prints them; earlier lines stay
 * applied, as with the real tool.
 * @example
 * ```ts
 * import { createNetfilterState, applyIpsetRestore } from '@knet/core';
 * const nf = createNetfilterState();
 * applyIpsetRestore(nf.ipsets, 'create KUBE-CLUSTER-IP hash:ip,port\nadd KUBE-CLUSTER-IP 10.96.0.1,tcp:443\n');
 * ```
 */
export function applyIpsetRestore(store: IpsetStore, text: string, options: IpsetRestoreOptions = {}): number {
  const now = options.now ?? 0;
  const exist = options.exist === true;
  let applied = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    try {
      const cmd = parseIpsetLine(lines[i] ?? '', line);
      if (cmd === undefined) continue;
      runIpsetCommand(store, cmd, now, exist, options.inUse);
      applied++;
    } catch (e) {
      if (e instanceof IpsetSyntaxError) throw lineError('EINVAL', line, e.message);
      if (isKnetError(e)) throw lineError(e.code, line, e.message);
      throw e;
    }
  }
  return applied;
}

/**
 * Runs one parsed ipset command.
 *
 * @throws KnetError as the kernel refuses it.
 */
export function runIpsetCommand(
  store: IpsetStore,
  cmd: IpsetCommand,
  now: number,
  exist: boolean,
  inUse: (set: string) => boolean = () => false,
): boolean {
  switch (cmd.op) {
    case 'create':
      store.create(cmd.name, cmd.type, cmd.options, exist);
      return true;
    case 'add':
    case 'del':
    case 'test': {
      const set = store.require(cmd.name);
      const elems = parseIpsetElements(set.type, cmd.element, set.options);
      if (cmd.op === 'test') {
        return elems.every((e) => set.lookup(e, now).result === 'match');
      }
      for (const e of elems) {
        if (cmd.op === 'add') set.add(e, now, { ...cmd.add, exist });
        else set.del(e, now, exist);
      }
      return true;
    }
    case 'flush':
      store.flush(cmd.name);
      return true;
    case 'destroy':
      store.destroy(cmd.name, inUse);
      return true;
    case 'rename':
      store.rename(cmd.name, cmd.other, inUse);
      return true;
    case 'swap':
      store.swap(cmd.name, cmd.other);
      return true;
  }
}
