import type { NetfilterChain, NetfilterHook, NetfilterRule, NetfilterTable, NetfilterTableName } from './netfilter-types.js';
import { TABLE_BUILTIN_CHAINS } from './netfilter-types.js';
import { MATCH_PROTOCOL } from './match-modules.js';
import { restoreError } from './restore-error.js';

/**
 * The checks the kernel runs when iptables-restore commits a table (`IPT_SO_SET_REPLACE`):
 * loops, and each match's and target's table, hook and protocol restrictions.
 *
 * @remarks
 * Linux equivalent: net/ipv4/netfilter/ip_tables.c `translate_table` → `mark_source_chains`
 * (loop detection and the hook mask each rule is reachable from) and `xt_check_match` /
 * `xt_check_target` with each extension's `checkentry`. A refusal makes iptables-restore print
 * `line N failed` for the COMMIT line.
 */

const IPPROTO_TCP = 6;
const MULTIPORT_PROTOS = new Set([6, 17, 136, 132, 33]);

/** Table and hooks each target is valid in (`xt_target.table` / `.hooks`). */
const TARGET_LIMITS: Readonly<Record<string, { table?: string; hooks?: readonly NetfilterHook[] }>> = {
  REJECT: { table: 'filter', hooks: ['INPUT', 'FORWARD', 'OUTPUT'] },
  DNAT: { table: 'nat', hooks: ['PREROUTING', 'OUTPUT'] },
  SNAT: { table: 'nat', hooks: ['POSTROUTING', 'INPUT'] },
  MASQUERADE: { table: 'nat', hooks: ['POSTROUTING'] },
  REDIRECT: { table: 'nat', hooks: ['PREROUTING', 'OUTPUT'] },
  CT: { table: 'raw' },
  NOTRACK: { table: 'raw' },
};

/** Target chains of the jumps and gotos of a rule array (cached per array: committed arrays do not change). */
const JUMPS = new WeakMap<readonly NetfilterRule[], readonly string[]>();

function jumpsOf(rules: readonly NetfilterRule[]): readonly string[] {
  let j = JUMPS.get(rules);
  if (j === undefined) {
    const out: string[] = [];
    for (const r of rules) if (r.target.kind === 'jump' || r.target.kind === 'goto') out.push(r.target.chain);
    j = out;
    JUMPS.set(rules, j);
  }
  return j;
}

/** Bit of each hook in a hook mask (the kernel's `1 << NF_INET_*`). */
export const HOOK_BITS: Readonly<Record<NetfilterHook, number>> = {
  PREROUTING: 1,
  INPUT: 2,
  FORWARD: 4,
  OUTPUT: 8,
  POSTROUTING: 16,
};

/** The hooks (as masks) each chain of a committed table is reachable from, as the last check computed them. */
const HOOKS = new WeakMap<NetfilterTable, Map<string, number>>();

/**
 * The hooks each chain of a table is reachable from, as a mask of {@link HOOK_BITS} (the
 * kernel's `comefrom`), or the name of a chain on a loop reachable from a built-in chain.
 *
 * @remarks Linux equivalent: `mark_source_chains` (net/ipv4/netfilter/ip_tables.c). One
 * depth-first walk from the built-in chains finds loops and a topological order; the masks then
 * flow along the jumps in that order, so the cost is linear in chains and jumps.
 */
export function chainHooks(table: NetfilterTable): { hooks: Map<string, number>; loop?: string } {
  const names = [...table.chains.keys()];
  const index = new Map<string, number>();
  names.forEach((n, i) => index.set(n, i));
  const n = names.length;
  const edges: (readonly number[])[] = new Array<readonly number[]>(n);
  for (let i = 0; i < n; i++) {
    const c = table.chains.get(names[i] as string) as NetfilterChain;
    const out: number[] = [];
    for (const target of jumpsOf(c.rules)) {
      const j = index.get(target);
      if (j !== undefined) out.push(j);
    }
    edges[i] = out;
  }
  const color = new Uint8Array(n);
  const order: number[] = [];
  let loop: string | undefined;
  const roots: number[] = [];
  for (const hook of TABLE_BUILTIN_CHAINS[table.name]) {
    const r = index.get(hook);
    if (r !== undefined) roots.push(r);
  }
  const stackNode: number[] = [];
  const stackEdge: number[] = [];
  for (const r of roots) {
    if (color[r] !== 0) continue;
    color[r] = 1;
    stackNode.push(r);
    stackEdge.push(0);
    while (stackNode.length > 0 && loop === undefined) {
      const top = stackNode.length - 1;
      const v = stackNode[top] as number;
      const out = edges[v] as readonly number[];
      const e = stackEdge[top] as number;
      if (e < out.length) {
        stackEdge[top] = e + 1;
        const w = out[e] as number;
        if (color[w] === 1) loop = names[w];
        else if (color[w] === 0) {
          color[w] = 1;
          stackNode.push(w);
          stackEdge.push(0);
        }
      } else {
        color[v] = 2;
        order.push(v);
        stackNode.pop();
        stackEdge.pop();
      }
    }
    if (loop !== undefined) break;
  }
  const mask = new Uint8Array(n);
  for (const hook of TABLE_BUILTIN_CHAINS[table.name]) {
    const r = index.get(hook);
    if (r !== undefined) mask[r] = (mask[r] as number) | HOOK_BITS[hook];
  }
  // Reverse postorder is a topological order of the reachable chains.
  for (let k = order.length - 1; k >= 0; k--) {
    const v = order[k] as number;
    const m = mask[v] as number;
    if (m === 0) continue;
    for (const w of edges[v] as readonly number[]) mask[w] = (mask[w] as number) | m;
  }
  const hooks = new Map<string, number>();
  for (let i = 0; i < n; i++) hooks.set(names[i] as string, mask[i] as number);
  return loop !== undefined ? { hooks, loop } : { hooks };
}

/** True when `table` has the chains of `previous` and each changed chain jumps to the same chains as before. */
function sameGraph(table: NetfilterTable, previous: NetfilterTable, changed: ReadonlySet<NetfilterChain>): boolean {
  if (table.chains.size !== previous.chains.size) return false;
  for (const c of changed) {
    const old = previous.chains.get(c.name);
    if (old === undefined || table.chains.get(c.name) !== c) return false;
    const a = jumpsOf(c.rules);
    const b = jumpsOf(old.rules);
    if (a.length === b.length && a.every((x, i) => x === b[i])) continue;
    const sa = new Set(a);
    const sb = new Set(b);
    if (sa.size !== sb.size) return false;
    for (const x of sa) if (!sb.has(x)) return false;
  }
  for (const name of table.chains.keys()) if (!previous.chains.has(name)) return false;
  return true;
}

/** The hook names of a mask. */
export function hookNames(mask: number): NetfilterHook[] {
  return (Object.keys(HOOK_BITS) as NetfilterHook[]).filter((h) => (mask & HOOK_BITS[h]) !== 0);
}

/** True when a rule's validity depends on the hooks it is reachable from. */
export function hookSensitive(rule: NetfilterRule): boolean {
  switch (rule.target.kind) {
    case 'REJECT':
    case 'DNAT':
    case 'SNAT':
    case 'MASQUERADE':
    case 'REDIRECT':
      return true;
  }
  for (const m of rule.matches) {
    if (m.kind === 'addrtype' && (m.limitIfaceIn || m.limitIfaceOut)) return true;
    if (m.kind === 'physdev' && (m.physdevOut !== undefined || m.isOut !== undefined)) return true;
  }
  return false;
}

/**
 * Why the kernel would refuse this rule whatever chain it sits in (table restrictions, protocol
 * requirements, recent's argument checks), or `undefined`.
 */
export function staticProblem(table: NetfilterTableName, rule: NetfilterRule): string | undefined {
  const ip = rule.ip;
  for (const m of rule.matches) {
    const proto = MATCH_PROTOCOL.get(m.kind);
    if (proto !== undefined && (ip.protocol !== proto || ip.protocolInvert)) {
      return `match ${m.kind} needs -p ${m.kind}`;
    }
    if (m.kind === 'multiport' && (!MULTIPORT_PROTOS.has(ip.protocol ?? 0) || ip.protocolInvert)) {
      return 'match multiport needs -p tcp, udp, udplite, sctp or dccp';
    }
    if (m.kind === 'recent') {
      if ((m.command === 'set' || m.command === 'remove') && (m.seconds !== 0 || m.hitcount !== 0 || m.rttl || m.reap)) {
        return `recent: --${m.command} cannot be combined with --seconds, --hitcount, --rttl or --reap`;
      }
      if (m.hitcount >= 256) return `recent: hitcount (${m.hitcount}) is larger than allowed maximum (255)`;
      if (m.name === '' || m.name === '.' || m.name === '..' || m.name.includes('/')) return `recent: invalid name "${m.name}"`;
      if (m.name.length >= 200) return 'recent: name too long (File name too long)';
    }
  }
  const t = rule.target;
  if (t.kind === 'REJECT' && t.with === 'tcp-reset' && (ip.protocol !== IPPROTO_TCP || ip.protocolInvert)) {
    return 'REJECT --reject-with tcp-reset is only valid with -p tcp';
  }
  const limits = TARGET_LIMITS[t.kind];
  if (limits?.table !== undefined && limits.table !== table) return `target ${t.kind} is only valid in the ${limits.table} table`;
  return undefined;
}

/** Why the kernel would refuse this rule when reachable from `hooks`, or `undefined`. */
export function hookProblem(rule: NetfilterRule, hookMask: number): string | undefined {
  const hooks = new Set(hookNames(hookMask));
  for (const m of rule.matches) {
    if (m.kind === 'addrtype') {
      if (m.limitIfaceIn && (hooks.has('OUTPUT') || hooks.has('POSTROUTING'))) {
        return '--limit-iface-in is not valid in the OUTPUT and POSTROUTING chains';
      }
      if (m.limitIfaceOut && (hooks.has('PREROUTING') || hooks.has('INPUT'))) {
        return '--limit-iface-out is not valid in the PREROUTING and INPUT chains';
      }
    }
    if (m.kind === 'physdev' && (m.physdevOut !== undefined || m.isOut !== undefined)) {
      if ((m.isBridged === undefined || m.isBridged.invert) && hooks.has('OUTPUT')) {
        return '--physdev-out and --physdev-is-out only supported in the FORWARD and POSTROUTING chains with bridged traffic';
      }
    }
  }
  const limits = TARGET_LIMITS[rule.target.kind];
  if (limits?.hooks !== undefined) {
    for (const h of hooks) {
      if (!limits.hooks.includes(h)) return `target ${rule.target.kind} is not valid in ${h} (only ${limits.hooks.join(', ')})`;
    }
  }
  return undefined;
}

/** A problem found when a rule was added, reported at COMMIT if the rule is still there. */
export interface PendingProblem {
  readonly line: number;
  readonly problem: string;
}

/** What {@link checkTable} may skip: chains unchanged since `previous` whose hooks are unchanged. */
export interface CheckTableIncremental {
  /** Chains created or changed since `previous` was committed. */
  readonly changed: ReadonlySet<NetfilterChain>;
  /** The table as committed before (its chains that are not in `changed` are unchanged). */
  readonly previous?: NetfilterTable;
}

/**
 * Runs the commit-time checks on a table about to replace the kernel's.
 *
 * @param pending static problems of rules this restore added, with their source lines
 * @param ruleLines source lines of the hook-sensitive rules this restore added
 * @param commitLine the COMMIT line iptables-restore reports
 * @param incremental lets unchanged chains reachable from the same hooks go unchecked
 * @throws KnetError `EINVAL` (`line N failed`) naming the first refused rule.
 */
export function checkTable(
  table: NetfilterTable,
  pending: ReadonlyMap<NetfilterRule, PendingProblem>,
  ruleLines: ReadonlyMap<NetfilterRule, number>,
  commitLine: number,
  incremental?: CheckTableIncremental,
): void {
  const before = incremental?.previous !== undefined ? HOOKS.get(incremental.previous) : undefined;
  // With the same chains and the same jumps, reachability (and so loops and hooks) is unchanged.
  const same = before !== undefined && incremental?.previous !== undefined && sameGraph(table, incremental.previous, incremental.changed);
  const { hooks, loop } = same && before !== undefined ? { hooks: before, loop: undefined } : chainHooks(table);
  if (loop !== undefined) {
    throw restoreError('line-failed', commitLine, '', {
      reason: `loop found in table ${table.name} through chain ${loop} (Too many levels of symbolic links)`,
      table: table.name,
    });
  }
  // Find the refused rules in any order first; the kernel reports the first in table order.
  const refused: { chain: string; rule: NetfilterRule; problem: string; ruleLine?: number }[] = [];
  // With an unchanged graph, only the changed chains can hold a refused rule.
  const scan: Iterable<[string, NetfilterChain]> =
    same && incremental !== undefined
      ? [...incremental.changed].filter((c) => table.chains.get(c.name) === c).map((c): [string, NetfilterChain] => [c.name, c])
      : table.chains;
  for (const [name, chain] of scan) {
    const h = hooks.get(name) ?? 0;
    // The kernel checked an unchanged chain already, from the same hooks.
    if (before !== undefined && incremental !== undefined && !incremental.changed.has(chain) && before.get(name) === h) continue;
    for (const rule of chain.rules) {
      let problem: string | undefined;
      let ruleLine: number | undefined;
      if (pending.size > 0) {
        const p = pending.get(rule);
        if (p !== undefined) {
          problem = p.problem;
          ruleLine = p.line;
        }
      }
      if (problem === undefined && h !== 0 && hookSensitive(rule)) {
        problem = hookProblem(rule, h);
        ruleLine = ruleLines.get(rule);
      }
      if (problem !== undefined) refused.push({ chain: name, rule, problem, ...(ruleLine !== undefined ? { ruleLine } : {}) });
    }
  }
  if (refused.length === 0) {
    HOOKS.set(table, hooks);
    return;
  }
  const builtins = TABLE_BUILTIN_CHAINS[table.name] as readonly string[];
  const rank = (chain: string): [number, string] => [builtins.includes(chain) ? builtins.indexOf(chain) : builtins.length, chain];
  refused.sort((a, b) => {
    const [ra, na] = rank(a.chain);
    const [rb, nb] = rank(b.chain);
    if (ra !== rb) return ra - rb;
    if (na !== nb) return na < nb ? -1 : 1;
    const rules = table.chains.get(a.chain)?.rules ?? [];
    return rules.indexOf(a.rule) - rules.indexOf(b.rule);
  });
  const first = refused[0] as (typeof refused)[number];
  throw restoreError('line-failed', commitLine, '', {
    reason: `kernel refused "-A ${first.chain} ${first.rule.spec}": ${first.problem} (Invalid argument)`,
    table: table.name,
    ...(first.ruleLine !== undefined ? { ruleLine: first.ruleLine } : {}),
  });
}
