import { KnetError } from '../../errors/knet-error.js';
import type { NetfilterChain, NetfilterFamily, NetfilterRule, NetfilterTable, NetfilterTableName } from './netfilter-types.js';
import { NETFILTER_TABLES } from './netfilter-types.js';
import { createTable, ensureTable, isBuiltinChain, netfilterFamily, type NetfilterState } from './netfilter-state.js';
import { familyStaticProblem } from './family-static-problem.js';
import { formatRuleSpec, parseRuleCommand, splitRuleWords, type ParsedRule, type RuleCommand } from './parse-rule-command.js';
import { restoreError, RuleParseError, UnsupportedExtensionError } from './restore-error.js';
import { detach } from './parse-helpers.js';
import { checkTable, hookSensitive, loopError, staticProblem, type PendingProblem } from './check-table.js';
import { ChainOverlay } from './chain-overlay.js';
import { applyChainGraphUpdate, buildChainGraph, chainGraphOf, setChainGraph, updateChainGraph, type ChainGraph } from './chain-graph.js';
import { TABLE_BUILTIN_CHAINS } from './netfilter-types.js';

/**
 * iptables-restore: parse the text format iptables-save prints and apply it to a namespace's
 * tables, table by table, atomically at each `COMMIT`.
 *
 * @remarks
 * Linux equivalent: iptables/iptables-restore.c (legacy, 1.8.9) with libiptc's chain and rule
 * operations; a table is replaced in one `IPT_SO_SET_REPLACE`, so a refused COMMIT leaves it as it
 * was. Lines are read one at a time: tables before a failing line stay committed.
 * @see iptables-restore(8)
 */

/** Options of {@link parseIptablesRestore} and {@link applyIptablesRestore}. */
export interface IptablesRestoreOptions {
  /** `--noflush` (`-n`): keep existing rules and chains; `:CHAIN` lines flush only the chains they name. */
  readonly noflush?: boolean;
  /** `--counters` (`-c`): take policy counters from `:CHAIN POLICY [p:b]` and rule counters from `[p:b]`. */
  readonly counters?: boolean;
  /** `--test` (`-t`): parse only; nothing is changed (the kernel's COMMIT checks are not run, as in iptables). */
  readonly test?: boolean;
  /**
   * `ipv6` reads the file as ip6tables-restore does (IPv6 addresses, ip6tables extensions,
   * `ip6tables-restore` in messages). For {@link applyIptablesRestore} the state's family
   * decides; a different `family` here is refused.
   */
  readonly family?: NetfilterFamily;
}

/** One operation of a restore file, with its 1-based line number. */
export type RestoreOperation =
  | {
      readonly kind: 'chain';
      readonly line: number;
      readonly chain: string;
      /** `-` for user chains, else the policy word as written. */
      readonly policy: string;
      readonly counters?: { readonly packets: number; readonly bytes: number };
    }
  | { readonly kind: 'command'; readonly line: number; readonly command: RuleCommand };

/** The operations between `*table` and `COMMIT`. */
export interface RestoreTableBlock {
  readonly table: NetfilterTableName;
  /** Line of `*table`. */
  readonly line: number;
  /** Line of `COMMIT`. */
  readonly commitLine: number;
  readonly operations: readonly RestoreOperation[];
}

type RestoreEvent =
  | { readonly kind: 'table'; readonly line: number; readonly table: NetfilterTableName }
  | RestoreOperation
  | { readonly kind: 'commit'; readonly line: number };

const TABLE_NAMES = new Set<string>(NETFILTER_TABLES);

function parseCounterPair(text: string): { packets: number; bytes: number } | undefined {
  const m = /^\[(\d+):(\d+)\]/.exec(text);
  if (m === null) return undefined;
  return { packets: Number(m[1]), bytes: Number(m[2]) };
}

/** The lines of the input with their terminating newline (the last one may lack it), as fgets reads them. */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      lines.push(text.slice(start));
      break;
    }
    lines.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
  return lines;
}

/**
 * Reads a restore file line by line, yielding one event per meaningful line and throwing the
 * error iptables-restore reports when it reaches a bad line.
 */
function readRestore(
  text: string,
  options: IptablesRestoreOptions,
  visit: (ev: RestoreEvent, cached?: boolean) => void,
  cacheable: (line: string) => boolean = () => false,
): void {
  const lines = splitLines(text);
  const family = options.family ?? 'ipv4';
  let table: NetfilterTableName | undefined;
  let lineNo = 0;
  for (const buffer of lines) {
    lineNo++;
    if (buffer[0] === '\n' || buffer === '') continue;
    if (buffer[0] === '#') continue;
    if (buffer === 'COMMIT\n' && table !== undefined) {
      visit({ kind: 'commit', line: lineNo });
      table = undefined;
      continue;
    }
    if (buffer[0] === '*' && table === undefined) {
      const name = buffer.slice(1).split(/[ \t\n]/).find((w) => w !== '');
      if (name === undefined) {
        throw restoreError('parameter', lineNo, `iptables-restore: line ${lineNo} table name invalid`);
      }
      if (!TABLE_NAMES.has(name)) {
        throw restoreError('parameter', lineNo, `iptables-restore: unable to initialize table '${name}'`, {
          reason: `unable to initialize table '${name}'`,
        });
      }
      table = name as NetfilterTableName;
      visit({ kind: 'table', line: lineNo, table });
      continue;
    }
    if (buffer[0] === ':' && table !== undefined) {
      const words = buffer.slice(1).split(/[ \t\n]/).filter((w) => w !== '');
      const chain = words[0];
      if (chain === undefined) {
        throw restoreError('parameter', lineNo, `iptables-restore: line ${lineNo} chain name invalid`, {
          reason: 'chain name invalid',
        });
      }
      if (chain.length >= 29) {
        throw restoreError('parameter', lineNo, `Invalid chain name \`${chain}' (28 chars max)`);
      }
      const policy = words[1];
      if (policy === undefined) {
        throw restoreError('parameter', lineNo, `iptables-restore: line ${lineNo} policy invalid`, {
          reason: 'policy invalid',
        });
      }
      let counters: { packets: number; bytes: number } | undefined;
      if (policy !== '-' && options.counters === true) {
        counters = words[2] === undefined ? undefined : parseCounterPair(words[2]);
        if (counters === undefined) {
          throw restoreError('parameter', lineNo, `invalid policy counters for chain '${chain}'`);
        }
      }
      visit({ kind: 'chain', line: lineNo, chain, policy, ...(counters !== undefined ? { counters } : {}) });
      continue;
    }
    if (table === undefined) {
      throw restoreError('line-failed', lineNo, '', {
        reason: buffer.startsWith('COMMIT') ? 'COMMIT outside a table' : 'line outside a table (missing *table)',
      });
    }
    let start = buffer;
    const prefix: string[] = [];
    if (buffer[0] === '[') {
      const close = buffer.indexOf(']');
      if (close < 0) throw restoreError('parameter', lineNo, `Bad line ${lineNo}: need ]`);
      const inner = buffer.slice(1, close);
      const colon = inner.indexOf(':');
      if (colon < 0) throw restoreError('parameter', lineNo, `Bad line ${lineNo}: need :`);
      if (options.counters === true) prefix.push('--set-counters', inner.slice(0, colon), inner.slice(colon + 1));
      start = buffer.slice(close + 1);
    }
    let command: RuleCommand;
    let cached = false;
    try {
      if (prefix.length > 0) command = parseRuleCommand([...prefix, ...splitRuleWords(detach(start))], { table, family });
      else {
        const hit = cachedCommand(table, start, family);
        cached = hit !== undefined || cacheable(start);
        command = hit ?? (cached ? parseCachedCommand(table, start, family) : parseRuleCommand(splitRuleWords(detach(start)), { table, family }));
      }
    } catch (e) {
      if (e instanceof RuleParseError) throw restoreError(e.kind, lineNo, e.message);
      if (e instanceof UnsupportedExtensionError) {
        throw new KnetError('EOPNOTSUPP', `iptables-restore: line ${lineNo}: ${e.message}`, { line: lineNo, reason: e.message, extension: e.extension });
      }
      throw e;
    }
    visit({ kind: 'command', line: lineNo, command }, cached);
  }
  if (table !== undefined) {
    throw restoreError('commit-expected', lineNo + 1, '', { reason: 'COMMIT expected' });
  }
}

/**
 * Parsed command lines of big chains, by table and text. kube-proxy rewrites the same long
 * chains on every sync (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-EXTERNAL-SERVICES): parsing each
 * distinct line of them once makes partial syncs cheap, and the cache is shared by every
 * namespace (all nodes of a cluster). Lines of small chains are not cached (a full sync of
 * 10,000 services writes 350,000 of them, which would cost more to remember than to parse).
 * Parsed rules are immutable; rules holding per-rule state (`--mode nth`) are not cached.
 */
const COMMAND_CACHE = new Map<string, Map<string, RuleCommand>>();
const COMMAND_CACHE_LIMIT = 500_000;

/** Lines appended to a chain that already holds this many rules go through the parse cache. */
const CACHE_CHAIN_RULES = 64;

function commandCache(table: NetfilterTableName, family: NetfilterFamily): Map<string, RuleCommand> {
  const key = family === 'ipv6' ? `${table}6` : table;
  let cache = COMMAND_CACHE.get(key);
  if (cache === undefined) {
    cache = new Map();
    COMMAND_CACHE.set(key, cache);
  }
  return cache;
}

/** A line parsed before (the text decides the parse, whatever the chain holds now). */
function cachedCommand(table: NetfilterTableName, line: string, family: NetfilterFamily): RuleCommand | undefined {
  return commandCache(table, family).get(line);
}

function parseCachedCommand(table: NetfilterTableName, line: string, family: NetfilterFamily): RuleCommand {
  const cache = commandCache(table, family);
  const hit = cache.get(line);
  if (hit !== undefined) return hit;
  // Parse from a copy of the line: the words a rule keeps (comments, chain names) are slices of
  // it, and must not keep the whole restore payload alive.
  const own = detach(line);
  const command = parseRuleCommand(splitRuleWords(own), { table, family });
  if (!hasRuleState(command)) {
    if (cache.size >= COMMAND_CACHE_LIMIT) cache.clear();
    cache.set(own, command);
  }
  return command;
}

function hasRuleState(cmd: RuleCommand): boolean {
  const rules = 'rules' in cmd ? cmd.rules : 'rule' in cmd ? [cmd.rule] : [];
  return rules.some((r) => r.matches.some((m) => m.kind === 'statistic' && m.mode === 'nth'));
}

/**
 * Parses an iptables-restore file into its table blocks, checking syntax only (chain and target
 * existence and the kernel's checks need a state: see {@link applyIptablesRestore}).
 *
 * @throws KnetError `EINVAL` with `details.line`, `details.reason` and `details.stderr` (the text
 * legacy iptables-restore 1.8.9 prints).
 */
export function parseIptablesRestore(text: string, options: IptablesRestoreOptions = {}): RestoreTableBlock[] {
  return inFamily(options.family ?? 'ipv4', () => parseRestore(text, options));
}

function parseRestore(text: string, options: IptablesRestoreOptions): RestoreTableBlock[] {
  const blocks: RestoreTableBlock[] = [];
  let current: { table: NetfilterTableName; line: number; operations: RestoreOperation[] } | undefined;
  readRestore(text, options, (ev) => {
    if (ev.kind === 'table') current = { table: ev.table, line: ev.line, operations: [] };
    else if (ev.kind === 'commit') {
      if (current !== undefined) blocks.push({ ...current, commitLine: ev.line });
      current = undefined;
    } else current?.operations.push(ev);
  });
  return blocks;
}

/** What {@link applyIptablesRestore} did. */
export interface IptablesRestoreResult {
  /** Tables committed, in order. */
  readonly tables: readonly NetfilterTableName[];
  /** Rules written by `-A`/`-I`/`-R` lines (the count kube-proxy reports for a sync). */
  readonly rulesWritten: number;
}

/**
 * Working copy of one table during a restore. Chains are copied on first change (copy-on-write)
 * into an overlay of the committed chains: unchanged chains keep their rule arrays, so what is
 * cached per array (the evaluator's index, jump lists) stays valid, and a partial sync costs
 * what it changes.
 */
interface Working {
  readonly name: NetfilterTableName;
  readonly family: NetfilterFamily;
  /** The table the restore started from (committed, or new when the restore only tests). */
  readonly table: NetfilterTable;
  readonly chains: ChainOverlay;
  /** Chains this restore created or copied (so may change in place). */
  readonly owned: Set<NetfilterChain>;
  /** The chain {@link own} returned last, while the overlay is at `version` (lines append to one chain in a row). */
  lastOwned?: { readonly chain: NetfilterChain; readonly version: number };
  /** Source lines of the hook-sensitive rules this restore added (for error details). */
  readonly ruleLines: Map<NetfilterRule, number>;
  /** Rules this restore added that the kernel will refuse wherever they are. */
  readonly pending: Map<NetfilterRule, PendingProblem>;
  /** Built-in chains whose policy counters a `:CHAIN POLICY [p:b]` line set (with `--counters`). */
  readonly policyCounters: Set<string>;
  /**
   * Change of the number of jumps and gotos to each chain since the restore started: computed
   * on the first `-X` (the only reader) and kept up to date after it.
   */
  refDelta?: Map<string, number>;
  /** Jumps and gotos to each chain when the restore started (the graph's, or counted on the first `-X`). */
  baseRefs?: ReadonlyMap<string, number>;
}

/** The chain, copied into the working table first if this restore has not changed it yet. */
function own(work: Working, name: string, empty = false): NetfilterChain | undefined {
  const last = work.lastOwned;
  if (!empty && last !== undefined && last.version === work.chains.version && last.chain.name === name) return last.chain;
  const c = work.chains.get(name);
  if (c === undefined || work.owned.has(c)) {
    if (c !== undefined && empty) setRules(work, c, []);
    if (c !== undefined) work.lastOwned = { chain: c, version: work.chains.version };
    return c;
  }
  const copy: NetfilterChain = { name: c.name, policy: c.policy, counters: { ...c.counters }, rules: empty ? [] : c.rules.slice() };
  if (empty) countRefs(work, c.rules, -1);
  work.chains.set(name, copy);
  work.owned.add(copy);
  work.lastOwned = { chain: copy, version: work.chains.version };
  return copy;
}

function newChain(work: Working, name: string): void {
  const c: NetfilterChain = { name, policy: null, counters: { packets: 0, bytes: 0 }, rules: [] };
  work.chains.set(name, c);
  work.owned.add(c);
}

/** Replaces an owned chain's rules, keeping the reference counts right. */
function setRules(work: Working, c: NetfilterChain, rules: NetfilterRule[]): void {
  countRefs(work, c.rules, -1);
  c.rules = rules;
  countRefs(work, rules, 1);
}

function countRefs(work: Working, rules: readonly NetfilterRule[], delta: number): void {
  const refs = work.refDelta;
  if (refs === undefined) return;
  for (const r of rules) {
    if (r.target.kind === 'jump' || r.target.kind === 'goto') refs.set(r.target.chain, (refs.get(r.target.chain) ?? 0) + delta);
  }
}

function lineFailed(line: number, reason: string): KnetError {
  return restoreError('line-failed', line, '', { reason });
}

/** A chain rule from a parsed one; `-c`/`[p:b]` counters (the latter only with `--counters`) are kept. */
function toRule(p: ParsedRule): NetfilterRule {
  const c = p.counters !== undefined ? { ...p.counters } : { packets: 0, bytes: 0 };
  return { ip: p.ip, matches: p.matches, target: p.target, spec: p.spec, counters: c };
}

/**
 * Applies an iptables-restore file to a namespace's netfilter state, as `iptables-restore`
 * (legacy) would: each `*table … COMMIT` block is built on a copy and swapped in at COMMIT after
 * the kernel's checks; without `noflush` the table starts empty (policies kept).
 *
 * @returns the tables committed and the number of rules written.
 * @throws KnetError `EINVAL` at the first failing line, with `details.line`, `details.reason` and
 * `details.stderr`; tables committed before that line stay committed (iptables-restore does the
 * same), the failing table is left unchanged.
 * @example
 * ```ts
 * import { createNetfilterState, applyIptablesRestore } from '@knet/core';
 * const nf = createNetfilterState();
 * applyIptablesRestore(nf, '*nat\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n');
 * ```
 */
export function applyIptablesRestore(
  state: NetfilterState,
  text: string,
  options: IptablesRestoreOptions = {},
): IptablesRestoreResult {
  const family = netfilterFamily(state);
  if (options.family !== undefined && options.family !== family) {
    throw new KnetError('EINVAL', `an ${options.family} restore cannot be applied to ${family} tables`, { family });
  }
  if (family === 'ipv4') return applyRestore(state, text, options);
  return inFamily(family, () => applyRestore(state, text, { ...options, family }));
}

function applyRestore(state: NetfilterState, text: string, options: IptablesRestoreOptions): IptablesRestoreResult {
  const family = options.family ?? 'ipv4';
  const committed: NetfilterTableName[] = [];
  let rulesWritten = 0;
  let pendingRules = 0;
  let work: Working | undefined;
  readRestore(text, options, (ev, cached) => {
    switch (ev.kind) {
      case 'table': {
        const existing = options.test === true ? state.tables.get(ev.table) : ensureTable(state, ev.table);
        const base = existing ?? createTable(ev.table);
        work = {
          name: ev.table,
          family,
          table: base,
          chains: new ChainOverlay(base.chains),
          owned: new Set(),
          ruleLines: new Map(),
          pending: new Map(),
          policyCounters: new Set(),
        };
        if (options.noflush !== true) {
          for (const name of [...work.chains.keys()]) {
            if (isBuiltinChain(ev.table, name)) own(work, name, true);
            else work.chains.delete(name);
          }
        }
        pendingRules = 0;
        break;
      }
      case 'chain':
        if (work !== undefined) applyChainLine(work, ev, options);
        break;
      case 'command':
        if (work !== undefined) pendingRules += applyCommand(work, ev.command, ev.line, state, cached === true);
        break;
      case 'commit': {
        if (work === undefined) break;
        const w: Working = work;
        const commitGraph = checkCommit(w, ev.line);
        if (options.test !== true) {
          // Policy counters restart at COMMIT unless the file set them (legacy libiptc behaviour).
          for (const name of TABLE_BUILTIN_CHAINS[w.name]) {
            const c = own(w, name);
            if (c !== undefined && !w.policyCounters.has(c.name)) {
              c.counters.packets = 0;
              c.counters.bytes = 0;
            }
          }
          // The table is replaced in place; Map.set keeps its instantiation position.
          w.chains.commit();
          commitGraph();
          state.tables.set(w.name, w.table);
          retainRecentLists(state);
        }
        committed.push(w.name);
        rulesWritten += pendingRules;
        work = undefined;
        break;
      }
    }
  }, (line) => {
    if (work === undefined || !line.startsWith('-A ')) return false;
    const end = line.indexOf(' ', 3);
    const c = work.chains.get(end < 0 ? line.slice(3) : line.slice(3, end));
    return c !== undefined && c.rules.length >= CACHE_CHAIN_RULES;
  });
  return { tables: committed, rulesWritten };
}

function applyChainLine(
  work: Working,
  ev: Extract<RestoreOperation, { kind: 'chain' }>,
  options: IptablesRestoreOptions,
): void {
  const builtin = isBuiltinChain(work.name, ev.chain);
  if (!builtin) {
    const existing = work.chains.get(ev.chain);
    if (options.noflush === true && existing !== undefined) own(work, ev.chain, true);
    else if (existing !== undefined) {
      throw restoreError('parameter', ev.line, `error creating chain '${ev.chain}':File exists`);
    } else {
      newChain(work, detach(ev.chain));
    }
  }
  if (ev.policy === '-') return;
  const chain = work.chains.get(ev.chain);
  if (chain === undefined || chain.policy === null) {
    throw restoreError('other', ev.line, `Can't set policy \`${ev.policy}' on \`${ev.chain}' line ${ev.line}: Bad built-in chain name`, {
      reason: `Can't set policy \`${ev.policy}' on \`${ev.chain}': Bad built-in chain name`,
    });
  }
  if (ev.policy !== 'ACCEPT' && ev.policy !== 'DROP') {
    throw restoreError('other', ev.line, `Can't set policy \`${ev.policy}' on \`${ev.chain}' line ${ev.line}: Bad policy name`, {
      reason: `Can't set policy \`${ev.policy}' on \`${ev.chain}': Bad policy name`,
    });
  }
  const owned = own(work, ev.chain) ?? chain;
  owned.policy = ev.policy;
  owned.counters.packets = ev.counters?.packets ?? 0;
  owned.counters.bytes = ev.counters?.bytes ?? 0;
  if (ev.counters !== undefined) work.policyCounters.add(owned.name);
}

/** Checks what iptables resolves at parse time against the table: jump targets and sets. */
/**
 * Parsed rules (of cached lines) whose jump target was found in a table, by the table's
 * {@link ChainOverlay.chainsToken}: until a chain is deleted there, the target still exists.
 */
const TARGET_FOUND = new WeakMap<ParsedRule, object>();

/**
 * Checks what iptables resolves at parse time against the table: jump targets and sets.
 *
 * @param cached the rule comes from the parse cache (it will be seen again: remember that its
 * target was found, which saves the lookup next time)
 */
function resolveRule(work: Working, p: ParsedRule, line: number, state: NetfilterState, cached: boolean): void {
  const t = p.target;
  if ((t.kind === 'jump' || t.kind === 'goto') && (!cached || TARGET_FOUND.get(p) !== work.chains.chainsToken)) {
    const c = work.chains.get(t.chain);
    if (c === undefined) {
      throw restoreError('parameter', line, `Couldn't load target \`${t.chain}':No such file or directory\n`);
    }
    if (c.policy !== null) throw lineFailed(line, `cannot jump to built-in chain ${t.chain} (Invalid argument)`);
    if (cached) TARGET_FOUND.set(p, work.chains.chainsToken);
  }
  for (const m of p.matches) {
    if (m.kind === 'set' && state.ipsets.get(m.name) === undefined) {
      throw restoreError('parameter', line, `Set ${m.name} doesn't exist.\n`);
    }
    // libxt_set get_set_byname: knet's sets are all family inet.
    if (m.kind === 'set' && work.family === 'ipv6') {
      throw restoreError('parameter', line, `The protocol family of set ${m.name} is IPv4, which is not applicable.\n`);
    }
  }
}

/** Records what the COMMIT checks need to know about a rule this restore added. */
function note(work: Working, rule: NetfilterRule, line: number): void {
  const problem = staticProblem(work.name, rule) ?? familyStaticProblem(work.family, rule);
  if (problem !== undefined) work.pending.set(rule, { line, problem });
  if (hookSensitive(rule)) work.ruleLines.set(rule, line);
}

/** The chain a command changes (copied into the working table), or `line N failed`. */
function getChain(work: Working, name: string, line: number): NetfilterChain {
  const c = own(work, name);
  if (c === undefined) throw lineFailed(line, 'No chain/target/match by that name.');
  return c;
}

function countReferences(work: Working, chain: string): number {
  if (work.baseRefs === undefined) {
    const graph = chainGraphOf(work.table);
    if (graph !== undefined) work.baseRefs = graph.refs;
    else {
      const refs = new Map<string, number>();
      for (const c of work.chains.base.values()) {
        for (const r of c.rules) if (r.target.kind === 'jump' || r.target.kind === 'goto') refs.set(r.target.chain, (refs.get(r.target.chain) ?? 0) + 1);
      }
      work.baseRefs = refs;
    }
  }
  if (work.refDelta === undefined) {
    const delta = new Map<string, number>();
    const add = (rules: readonly NetfilterRule[], d: number): void => {
      for (const r of rules) if (r.target.kind === 'jump' || r.target.kind === 'goto') delta.set(r.target.chain, (delta.get(r.target.chain) ?? 0) + d);
    };
    for (const [, before, after] of work.chains.changes()) {
      if (before !== undefined) add(before.rules, -1);
      if (after !== undefined) add(after.rules, 1);
    }
    work.refDelta = delta;
  }
  return (work.baseRefs.get(chain) ?? 0) + (work.refDelta.get(chain) ?? 0);
}

/**
 * The kernel's checks at COMMIT (loops, each rule's hooks, the static problems of new rules),
 * on the changed chains only when the table's jump graph could be updated incrementally.
 *
 * @returns what keeps the table's graph up to date once the COMMIT is done.
 * @throws KnetError `line N failed` as iptables-restore reports a refused COMMIT.
 */
function checkCommit(w: Working, commitLine: number): () => void {
  const graph = chainGraphOf(w.table);
  if (graph !== undefined) {
    const chains = w.chains;
    const update = updateChainGraph(graph, chains.changes(), (n) => chains.get(n));
    if (update !== undefined) {
      const scan = new Set<NetfilterChain>();
      for (const [, , after] of chains.changes()) if (after !== undefined) scan.add(after);
      for (const n of update.maskChanged) {
        const c = chains.get(n);
        if (c !== undefined) scan.add(c);
      }
      const hooksOf = (n: string): number => update.masks.get(n) ?? graph.masks.get(n) ?? 0;
      checkTable(w.name, scan, hooksOf, w.pending, w.ruleLines, commitLine);
      return () => applyChainGraphUpdate(graph, update);
    }
  }
  const full: NetfilterTable = { name: w.name, chains: w.chains.toMap() };
  const built = buildChainGraph(full);
  if ('loop' in built) throw loopError(w.name, built.loop, commitLine);
  checkTable(w.name, full.chains.values(), (n) => built.hooks.get(n) ?? 0, w.pending, w.ruleLines, commitLine);
  const fresh: ChainGraph = built.graph;
  return () => setChainGraph(w.table, fresh);
}

function applyCommand(work: Working, cmd: RuleCommand, line: number, state: NetfilterState, cached: boolean): number {
  switch (cmd.op) {
    case 'none':
      return 0;
    case 'append': {
      const c = getChain(work, cmd.chain, line);
      const rules = cmd.rules.map((p) => {
        resolveRule(work, p, line, state, cached);
        return toRule(p);
      });
      // The working copy owns this chain's rule array, so it can grow in place.
      for (const r of rules) {
        c.rules.push(r);
        note(work, r, line);
      }
      countRefs(work, rules, 1);
      return rules.length;
    }
    case 'insert': {
      const c = getChain(work, cmd.chain, line);
      if (cmd.num > c.rules.length + 1) throw lineFailed(line, 'Index of insertion too big.');
      for (const p of cmd.rules) {
        resolveRule(work, p, line, state, cached);
        const r = toRule(p);
        c.rules.splice(cmd.num - 1, 0, r);
        note(work, r, line);
        countRefs(work, [r], 1);
      }
      return cmd.rules.length;
    }
    case 'replace': {
      const c = getChain(work, cmd.chain, line);
      if (cmd.num > c.rules.length) throw lineFailed(line, 'Index of replacement too big.');
      resolveRule(work, cmd.rule, line, state, cached);
      const r = toRule(cmd.rule);
      countRefs(work, c.rules.slice(cmd.num - 1, cmd.num), -1);
      c.rules[cmd.num - 1] = r;
      note(work, r, line);
      countRefs(work, [r], 1);
      return 1;
    }
    case 'delete': {
      const c = getChain(work, cmd.chain, line);
      for (const p of cmd.rules) {
        const i = c.rules.findIndex((r) => r.spec === p.spec);
        if (i < 0) throw lineFailed(line, 'Bad rule (does a matching rule exist in that chain?).');
        countRefs(work, c.rules.splice(i, 1), -1);
      }
      return 0;
    }
    case 'delete-num': {
      const c = getChain(work, cmd.chain, line);
      if (cmd.num > c.rules.length) throw lineFailed(line, 'Index of deletion too big.');
      countRefs(work, c.rules.splice(cmd.num - 1, 1), -1);
      return 0;
    }
    case 'new-chain': {
      if (cmd.chain.length >= 29) {
        throw restoreError('parameter', line, `chain name \`${cmd.chain}' too long (must be under 29 chars)`);
      }
      if (work.chains.has(cmd.chain)) throw lineFailed(line, 'Chain already exists.');
      newChain(work, detach(cmd.chain));
      return 0;
    }
    case 'delete-chain': {
      const names =
        cmd.chain !== undefined ? [cmd.chain] : [...work.chains.keys()].filter((n) => !isBuiltinChain(work.name, n)).sort(byteOrder);
      for (const name of names) {
        const c = work.chains.get(name);
        if (c === undefined) throw lineFailed(line, 'No chain/target/match by that name.');
        if (c.policy !== null) throw lineFailed(line, "Can't delete built-in chain (Invalid argument).");
        if (countReferences(work, name) > 0) throw lineFailed(line, "Can't delete chain with references left (Too many links).");
        if (c.rules.length > 0) throw lineFailed(line, 'Chain is not empty (Directory not empty).');
        work.chains.delete(name);
      }
      return 0;
    }
    case 'flush': {
      if (cmd.chain !== undefined) {
        if (own(work, cmd.chain, true) === undefined) throw lineFailed(line, 'No chain/target/match by that name.');
      } else for (const name of [...work.chains.keys()]) own(work, name, true);
      return 0;
    }
    case 'zero': {
      const chains = cmd.chain !== undefined ? [getChain(work, cmd.chain, line)] : [...work.chains.keys()].map((n) => own(work, n) as NetfilterChain);
      for (const c of chains) {
        if (cmd.num !== undefined) {
          if (cmd.num > c.rules.length) throw lineFailed(line, 'Index of counter too big.');
          c.rules = c.rules.map((r, i) => (i === cmd.num! - 1 ? { ...r, counters: { packets: 0, bytes: 0 } } : r));
        } else {
          c.rules = c.rules.map((r) => ({ ...r, counters: { packets: 0, bytes: 0 } }));
          c.counters.packets = 0;
          c.counters.bytes = 0;
        }
      }
      return 0;
    }
    case 'policy': {
      const c = work.chains.get(cmd.chain);
      if (c === undefined || c.policy === null) throw lineFailed(line, 'Bad built-in chain name.');
      if (cmd.policy !== 'ACCEPT' && cmd.policy !== 'DROP') throw lineFailed(line, 'Bad policy name.');
      (own(work, cmd.chain) ?? c).policy = cmd.policy;
      return 0;
    }
    case 'rename': {
      const c = work.chains.get(cmd.chain);
      if (cmd.newName.length >= 29) {
        throw restoreError('parameter', line, `chain name \`${cmd.newName}' too long (must be under 29 chars)`);
      }
      if (work.chains.has(cmd.newName)) throw lineFailed(line, 'File exists.');
      if (c === undefined || c.policy !== null) throw lineFailed(line, 'No chain/target/match by that name.');
      work.chains.delete(cmd.chain);
      newChain(work, detach(cmd.newName));
      const renamed = work.chains.get(cmd.newName) as NetfilterChain;
      renamed.rules = c.rules.slice();
      // Jumps follow the chain: rewrite the rules that name it.
      for (const name of [...work.chains.keys()]) {
        const current = work.chains.get(name) as NetfilterChain;
        if (!current.rules.some((r) => (r.target.kind === 'jump' || r.target.kind === 'goto') && r.target.chain === cmd.chain)) continue;
        const other = own(work, name) as NetfilterChain;
        other.rules = other.rules.map((r) => {
          if ((r.target.kind === 'jump' || r.target.kind === 'goto') && r.target.chain === cmd.chain) {
            const target = { kind: r.target.kind, chain: cmd.newName } as const;
            const nr = { ...r, target, spec: formatRuleSpec(r.ip, r.matches, target) };
            countRefs(work, [r], -1);
            countRefs(work, [nr], 1);
            const l = work.ruleLines.get(r);
            if (l !== undefined) work.ruleLines.set(nr, l);
            const p = work.pending.get(r);
            if (p !== undefined) work.pending.set(nr, p);
            return nr;
          }
          return r;
        });
      }
      return 0;
    }
  }
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Keeps the recent lists some rule still names (xt_recent frees a list with its last rule). */
function retainRecentLists(state: NetfilterState): void {
  const family = netfilterFamily(state);
  // The lists are shared with the namespace's other family: it asks this state's names when it commits.
  state.recent.track(family, () => recentNamesIn(state));
  if (state.recent.names().length === 0) return;
  state.recent.retain(recentNamesIn(state), family);
}

/** The `-m recent` list names the rules of a state's tables use. */
function recentNamesIn(state: NetfilterState): Set<string> {
  const names = new Set<string>();
  for (const t of state.tables.values()) {
    for (const c of t.chains.values()) for (const n of recentNamesOf(c.rules)) names.add(n);
  }
  return names;
}

/**
 * Runs a restore for a family. ip6tables-restore prints the same messages as iptables-restore
 * under its own name: errors are built with the iptables wording and renamed here.
 */
function inFamily<T>(family: NetfilterFamily, run: () => T): T {
  if (family === 'ipv4') return run();
  try {
    return run();
  } catch (e) {
    if (!(e instanceof KnetError)) throw e;
    const rename = (v: unknown): unknown => (typeof v === 'string' ? v.replaceAll('iptables-restore', 'ip6tables-restore') : v);
    const details: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e.details)) details[k] = rename(v);
    throw new KnetError(e.code, rename(e.message) as string, details);
  }
}

/** `-m recent` list names of a rule array (cached per array: committed arrays do not change). */
const RECENT_NAMES = new WeakMap<readonly NetfilterRule[], readonly string[]>();

function recentNamesOf(rules: readonly NetfilterRule[]): readonly string[] {
  let names = RECENT_NAMES.get(rules);
  if (names === undefined) {
    const out: string[] = [];
    for (const r of rules) for (const m of r.matches) if (m.kind === 'recent') out.push(m.name);
    names = out;
    RECENT_NAMES.set(rules, names);
  }
  return names;
}
