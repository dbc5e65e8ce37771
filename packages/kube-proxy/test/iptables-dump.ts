/**
 * Test helpers re-implementing upstream's iptables test infrastructure:
 *
 * - `parseIptablesDump`, `formatIptablesDump`, `parseRule`: kubernetes
 *   pkg/util/iptables/testing/parse.go (ParseIPTablesDump, IPTablesDump.String, ParseRule), at
 *   commit 21cd2f2472c2ee395680c70455af191bffcaaf78.
 * - `sortIptablesRules`, `checkIptablesRuleJumps`, `assertIptablesRulesEqual`, `countRules`,
 *   `chainRules`: pkg/proxy/iptables/proxier_test.go (sortIPTablesRules,
 *   orderByCommentServiceName, checkIPTablesRuleJumps, assertIPTablesRulesEqual, countRules,
 *   assertIPTablesChainEqual).
 * - `FakeIptables`: pkg/util/iptables/testing/fake.go (NewFake, RestoreAll with NoFlushTables,
 *   restoreTable's dangling-jump check, SaveInto, EnsureRule).
 */
import { expect } from 'vitest';

/** A parsed rule: the raw text plus the parameters upstream's tests look at. */
export interface DumpRule {
  readonly raw: string;
  readonly chain: string;
  readonly comment?: string;
  readonly jump?: string;
}

export interface DumpChain {
  readonly name: string;
  packets: number;
  bytes: number;
  rules: DumpRule[];
  deleted: boolean;
}

export interface DumpTable {
  readonly name: string;
  chains: DumpChain[];
}

export interface IptablesDump {
  tables: DumpTable[];
}

const DECLARE_TABLE = /^\*(.*)$/;
const DECLARE_CHAIN = /^:([^ ]*) - \[([0-9]*):([0-9]*)\]$/;
const ADD_RULE = /^-A ([^ ]*) (.*)$/;
const DELETE_CHAIN = /^-X (.*)$/;
// wordRegex: a quoted string or a word, at the start or after whitespace.
const WORD = /(?:^|\s)("[^"]*"|[^"]\S*)/g;

/** ParseRule(rule, false): the words, quotes trimmed, `-m MODULE` skipped. */
export function parseRule(raw: string): DumpRule {
  const words: string[] = [];
  for (const m of raw.matchAll(WORD)) words.push((m[1] as string).replace(/^"+|"+$/g, ''));
  if (words.length < 2 || words[0] !== '-A') throw new Error('bad iptables rule (does not start with "-A CHAIN")');
  if (words.length < 3) throw new Error('bad iptables rule (no match rules)');
  let comment: string | undefined;
  let jump: string | undefined;
  for (let w = 0; w < words.length; ) {
    const word = words[w] as string;
    if (word === '-m' && w < words.length - 1) {
      w += 2;
      continue;
    }
    if (word === '--comment' && w < words.length - 1) {
      comment = words[w + 1];
      w += 2;
      continue;
    }
    if (word === '-j' && w < words.length - 1) {
      jump = words[w + 1];
      w += 2;
      continue;
    }
    w++;
  }
  return { raw, chain: words[1] as string, ...(comment === undefined ? {} : { comment }), ...(jump === undefined ? {} : { jump }) };
}

export function getTable(dump: IptablesDump, table: string): DumpTable | undefined {
  return dump.tables.find((t) => t.name === table);
}

export function getChain(dump: IptablesDump, table: string, chain: string): DumpChain | undefined {
  return getTable(dump, table)?.chains.find((c) => c.name === chain);
}

/** ParseIPTablesDump. */
export function parseIptablesDump(data: string): IptablesDump {
  const dump: IptablesDump = { tables: [] };
  let state: 'table' | 'chains' | 'rules' = 'table';
  let t: DumpTable | undefined;
  for (const rawLine of data.replace(/^\n+|\n+$/g, '').split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    for (;;) {
      if (state === 'table') {
        const m = DECLARE_TABLE.exec(line);
        if (m === null) throw new Error(`could not parse iptables data (table ${dump.tables.length + 1} starts with "${line}" not a table name)`);
        t = { name: m[1] as string, chains: [] };
        dump.tables.push(t);
        state = 'chains';
        break;
      }
      if (state === 'chains') {
        const m = DECLARE_CHAIN.exec(line);
        if (m === null) {
          state = 'rules';
          continue;
        }
        (t as DumpTable).chains.push({ name: m[1] as string, packets: Number(m[2]), bytes: Number(m[3]), rules: [], deleted: false });
        break;
      }
      const add = ADD_RULE.exec(line);
      if (add !== null) {
        const c = getChain(dump, (t as DumpTable).name, add[1] as string);
        if (c === undefined) throw new Error(`error parsing rule "${line}": no such chain "${add[1]}"`);
        if (c.deleted) throw new Error(`cannot add rules to deleted chain "${add[1]}"`);
        c.rules.push(parseRule(line));
      } else {
        const del = DELETE_CHAIN.exec(line);
        if (del !== null) {
          const c = getChain(dump, (t as DumpTable).name, del[1] as string);
          if (c === undefined) throw new Error(`error parsing rule "${line}": no such chain "${del[1]}"`);
          if (c.rules.length !== 0) throw new Error(`cannot delete chain "${del[1]}" after adding rules`);
          c.deleted = true;
        } else if (line === 'COMMIT') {
          state = 'table';
        } else {
          throw new Error(`error parsing rule "${line}"`);
        }
      }
      break;
    }
  }
  if (state !== 'table') throw new Error('could not parse iptables data (no COMMIT line?)');
  return dump;
}

/** IPTablesDump.String(). */
export function formatIptablesDump(dump: IptablesDump): string {
  let out = '';
  for (const t of dump.tables) {
    out += `*${t.name}\n`;
    for (const c of t.chains) out += `:${c.name} - [${c.packets}:${c.bytes}]\n`;
    for (const c of t.chains) for (const r of c.rules) out += `${r.raw}\n`;
    for (const c of t.chains) if (c.deleted) out += `-X ${c.name}\n`;
    out += 'COMMIT\n';
  }
  return out;
}

/** orderByCommentServiceName: the service name is the comment up to the first space or colon. */
function serviceNameOfComment(comment: string): string {
  const i = comment.search(/[ :]/);
  return i === -1 ? comment : comment.slice(0, i);
}

function orderByCommentServiceName(a: DumpRule, b: DumpRule): boolean {
  if (a.comment === undefined || b.comment === undefined) return false;
  return serviceNameOfComment(a.comment) < serviceNameOfComment(b.comment);
}

/** Go's sort.SliceStable with a less function: a stable merge sort driven by `less`. */
function stableSort<T>(list: T[], less: (a: T, b: T) => boolean): void {
  const sorted = list
    .map((v, i) => ({ v, i }))
    .sort((x, y) => (less(x.v, y.v) ? -1 : less(y.v, x.v) ? 1 : x.i - y.i))
    .map((x) => x.v);
  list.splice(0, list.length, ...sorted);
}

function chainLess(a: string, b: string): boolean {
  if (a === 'KUBE-NODEPORTS') return true;
  if (b === 'KUBE-NODEPORTS') return false;
  if (a === 'KUBE-SERVICES') return true;
  if (b === 'KUBE-SERVICES') return false;
  const ak = a.startsWith('KUBE-');
  const bk = b.startsWith('KUBE-');
  if (ak && !bk) return true;
  if (!ak && bk) return false;
  return a < b;
}

/** sortIPTablesRules: sort tables, chains, and the KUBE-NODEPORTS / KUBE-SERVICES rules by service. */
export function sortIptablesRules(ruleData: string): string {
  const dump = parseIptablesDump(ruleData);
  dump.tables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const t of dump.tables) t.chains.sort((a, b) => (a.name === b.name ? 0 : chainLess(a.name, b.name) ? -1 : 1));
  for (const table of ['filter', 'nat']) {
    const np = getChain(dump, table, 'KUBE-NODEPORTS');
    if (np !== undefined) stableSort(np.rules, orderByCommentServiceName);
  }
  const fs = getChain(dump, 'filter', 'KUBE-SERVICES');
  if (fs !== undefined) stableSort(fs.rules, orderByCommentServiceName);
  const ns = getChain(dump, 'nat', 'KUBE-SERVICES');
  if (ns !== undefined) {
    const last = (r: DumpRule): boolean => r.comment !== undefined && r.comment.includes('must be the last rule');
    stableSort(ns.rules, (a, b) => {
      if (last(a)) return false;
      if (last(b)) return true;
      return orderByCommentServiceName(a, b);
    });
  }
  return formatIptablesDump(dump);
}

function matches(lines: readonly string[], pattern: RegExp): Set<string> {
  const out = new Set<string>();
  for (const line of lines) {
    const m = pattern.exec(line);
    if (m !== null && m[1] !== undefined) out.add(m[1]);
  }
  return out;
}

/** checkIPTablesRuleJumps: every jump target exists and has rules; no chain is created unused. */
export function checkIptablesRuleJumps(ruleData: string): void {
  const rawTables = ruleData.replace(/^\n/, '').split('COMMIT\n');
  for (const raw of rawTables.slice(0, -1)) {
    const lines = raw.replace(/^\n+|\n+$/g, '').split('\n');
    const tableName = (lines[0] as string).slice(1);
    const created = matches(lines, /^:([^ ]*)/);
    for (const c of matches(lines, /-X ([^ ]*)/)) created.delete(c);
    const filled = matches(lines, /-A ([^ ]*)/);
    const jumped = matches(lines, /-j ([^ ]*)/);
    for (const t of ['ACCEPT', 'REJECT', 'DROP', 'MARK', 'RETURN', 'DNAT', 'SNAT', 'MASQUERADE']) jumped.delete(t);
    const missing = [...jumped, ...filled].filter((c) => !created.has(c));
    if (missing.length > 0) throw new Error(`some chains in ${tableName} are used but were not created: ${[...new Set(missing)].join(' ')}`);
    const empty = [...jumped].filter((c) => !filled.has(c) && c !== 'KUBE-NODEPORTS');
    if (empty.length > 0) throw new Error(`some chains in ${tableName} are jumped to but have no rules: ${empty.join(' ')}`);
    const fixed = new Set(['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-FORWARD', 'KUBE-MARK-MASQ', 'KUBE-PROXY-FIREWALL', 'KUBE-FIREWALL']);
    const extra = [...created].filter((c) => !jumped.has(c) && !fixed.has(c));
    if (extra.length > 0) throw new Error(`some chains in ${tableName} are created but not used: ${extra.join(' ')}`);
  }
}

/** assertIPTablesRulesEqual: `expected` (already in sorted form) equals the sorted `result`. */
export function assertIptablesRulesEqual(checkConsistency: boolean, expected: string, result: string): void {
  const want = expected.replace(/^[ \t\n]+/, '');
  const got = sortIptablesRules(result.replace(/^[ \t\n]+/, ''));
  expect(got).toBe(want);
  if (checkConsistency) checkIptablesRuleJumps(want);
}

/** The raw rules of one chain, one per line (assertIPTablesChainEqual's view). */
export function chainRules(ruleData: string, table: string, chain: string): string {
  const c = getChain(parseIptablesDump(ruleData), table, chain);
  return c === undefined ? '' : c.rules.map((r) => `${r.raw}\n`).join('');
}

/** countRules: `-A` rules of one table. */
export function countRules(table: string, ruleData: string): number {
  const t = getTable(parseIptablesDump(ruleData), table);
  if (t === undefined) return -1;
  return t.chains.reduce((n, c) => n + c.rules.length, 0);
}

/** dedent.Dedent for the expected texts written as indented template literals. */
export function dedent(text: string): string {
  const lines = text.split('\n');
  let indent = Number.POSITIVE_INFINITY;
  for (const l of lines) if (l.trim() !== '') indent = Math.min(indent, /^[ \t]*/.exec(l)?.[0].length ?? 0);
  return lines.map((l) => (l.trim() === '' ? '' : l.slice(indent))).join('\n');
}

const BUILTIN_TARGETS = new Set(['ACCEPT', 'DROP', 'RETURN', 'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'MARK']);

/** FakeIPTables: the table state, restored into with NoFlushTables semantics. */
export class FakeIptables {
  dump: IptablesDump = {
    tables: [
      { name: 'nat', chains: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'].map((n) => ({ name: n, packets: 0, bytes: 0, rules: [], deleted: false })) },
      { name: 'filter', chains: ['INPUT', 'FORWARD', 'OUTPUT'].map((n) => ({ name: n, packets: 0, bytes: 0, rules: [], deleted: false })) },
      { name: 'mangle', chains: [] },
    ],
  };

  /** RestoreAll(data, NoFlushTables, RestoreCounters). Throws like the fake on dangling jumps. */
  restoreAll(data: string): void {
    const newDump = parseIptablesDump(data);
    for (const newTable of newDump.tables) this.restoreTable(newDump, newTable);
  }

  private restoreTable(newDump: IptablesDump, newTable: DumpTable): void {
    const oldTable = getTable(this.dump, newTable.name);
    if (oldTable === undefined) throw new Error(`no such table "${newTable.name}"`);
    const backup = oldTable.chains.map((c) => ({ ...c }));
    for (const newChain of newTable.chains) {
      const oldChain = oldTable.chains.find((c) => c.name === newChain.name);
      if (oldChain === undefined && !newChain.deleted) oldTable.chains.push({ ...newChain, rules: [...newChain.rules] });
      else if (oldChain !== undefined && newChain.deleted) oldTable.chains = oldTable.chains.filter((c) => c.name !== newChain.name);
      else if (oldChain !== undefined) {
        oldChain.rules = [...newChain.rules];
        oldChain.packets = newChain.packets;
        oldChain.bytes = newChain.bytes;
      }
    }
    for (const chain of oldTable.chains) {
      for (const rule of chain.rules) {
        if (rule.jump === undefined || BUILTIN_TARGETS.has(rule.jump)) continue;
        if (oldTable.chains.some((c) => c.name === rule.jump)) continue;
        oldTable.chains = backup;
        if (getChain(newDump, oldTable.name, rule.jump) !== undefined) throw new Error(`deleted chain "${rule.jump}" is referenced by existing rules`);
        throw new Error(`rule "${rule.raw}" jumps to a non-existent chain`);
      }
    }
  }

  /** The chains of a table (SaveInto + GetChainsFromTable). */
  chains(table: string): string[] {
    return getTable(this.dump, table)?.chains.map((c) => c.name) ?? [];
  }

  chainExists(table: string, chain: string): boolean {
    return getChain(this.dump, table, chain) !== undefined;
  }

  /** EnsureRule(Append, ...). */
  appendRule(table: string, chain: string, args: string): void {
    const c = getChain(this.dump, table, chain);
    if (c === undefined) throw new Error(`no such chain "${chain}"`);
    const raw = `-A ${chain} ${args}`;
    if (!c.rules.some((r) => r.raw === raw)) c.rules.push(parseRule(raw));
  }
}
