import type { KnetError } from '../../errors/knet-error.js';
import type { NetfilterChain, NetfilterHook, NetfilterRule, NetfilterTableName } from './netfilter-types.js';
import { hookNames } from './chain-graph.js';
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

/** The error iptables-restore reports for a loop reachable from a built-in chain. */
export function loopError(table: NetfilterTableName, chain: string, commitLine: number): KnetError {
  return restoreError('line-failed', commitLine, '', {
    reason: `loop found in table ${table} through chain ${chain} (Too many levels of symbolic links)`,
    table,
  });
}

/**
 * Runs the commit-time checks on the rules of a table about to replace the kernel's.
 *
 * @param table the table's name
 * @param chains the chains to check: all of them, or (when the last commit's checks still hold
 * for the others) those created or changed since and those now reachable from other hooks
 * @param hooksOf the hook mask (`HOOK_BITS`) each chain is reachable from
 * @param pending static problems of rules this restore added, with their source lines
 * @param ruleLines source lines of the hook-sensitive rules this restore added
 * @param commitLine the COMMIT line iptables-restore reports
 * @throws KnetError `EINVAL` (`line N failed`) naming the first refused rule.
 */
export function checkTable(
  table: NetfilterTableName,
  chains: Iterable<NetfilterChain>,
  hooksOf: (chain: string) => number,
  pending: ReadonlyMap<NetfilterRule, PendingProblem>,
  ruleLines: ReadonlyMap<NetfilterRule, number>,
  commitLine: number,
): void {
  // Find the refused rules in any order first; the kernel reports the first in table order.
  const refused: { chain: NetfilterChain; rule: NetfilterRule; problem: string; ruleLine?: number }[] = [];
  for (const chain of chains) {
    const h = hooksOf(chain.name);
    if (pending.size === 0 && h === 0) continue;
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
      if (problem !== undefined) refused.push({ chain, rule, problem, ...(ruleLine !== undefined ? { ruleLine } : {}) });
    }
  }
  if (refused.length === 0) return;
  const builtins = TABLE_BUILTIN_CHAINS[table] as readonly string[];
  const rank = (chain: string): [number, string] => [builtins.includes(chain) ? builtins.indexOf(chain) : builtins.length, chain];
  refused.sort((a, b) => {
    const [ra, na] = rank(a.chain.name);
    const [rb, nb] = rank(b.chain.name);
    if (ra !== rb) return ra - rb;
    if (na !== nb) return na < nb ? -1 : 1;
    return a.chain.rules.indexOf(a.rule) - b.chain.rules.indexOf(b.rule);
  });
  const first = refused[0] as (typeof refused)[number];
  throw restoreError('line-failed', commitLine, '', {
    reason: `kernel refused "-A ${first.chain.name} ${first.rule.spec}": ${first.problem} (Invalid argument)`,
    table,
    ...(first.ruleLine !== undefined ? { ruleLine: first.ruleLine } : {}),
  });
}
