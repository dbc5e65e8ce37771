import type { AdminRuleVerdict, ConnectionVerdict, SideExplanation } from './evaluate-connection.js';

/**
 * Renders a {@link ConnectionVerdict} for people: the answer, then per side (the source's
 * egress, the destination's ingress) the tier that decided, the isolating policies and, rule by
 * rule, what matched or why nothing did.
 *
 * @remarks Linux equivalent: none (`kubectl describe networkpolicy` describes one policy; this
 * describes one connection against all of them).
 * @example
 * ```ts
 * import { buildClusterState, buildPolicyIndex, evaluateConnection, formatConnectionVerdict, loadExampleCluster } from '@knet/core';
 * const index = buildPolicyIndex(buildClusterState(loadExampleCluster()));
 * formatConnectionVerdict(evaluateConnection(index, 'default/client', 'shop/db-0', 5432, 'TCP')).split('\n')[0];
 * // 'default/client -> shop/db-0 TCP/5432: denied'
 * ```
 */
export function formatConnectionVerdict(v: ConnectionVerdict): string {
  const lines: string[] = [];
  let head = `${v.src} -> ${v.dst} ${v.protocol}/${v.port}: ${v.allowed ? 'allowed' : 'denied'}`;
  if (v.self) head += ` (a pod may always reach itself; the policies alone would ${v.policyAllowed ? 'allow' : 'deny'} it)`;
  lines.push(head, '');
  lines.push(...formatSide(v.egress, v.src), '');
  lines.push(...formatSide(v.ingress, v.dst));
  return `${lines.join('\n')}\n`;
}

function formatSide(side: SideExplanation, endpoint: string): string[] {
  const out: string[] = [];
  out.push(`${side.direction} of ${endpoint}: ${side.allowed ? 'allowed' : 'denied'} [${side.tier}]`);
  out.push(`  ${side.reason}`);
  if (side.tier === 'not-subject') return out;
  if (side.admin !== null) out.push(`  ${formatAdmin(side.admin, side.direction)}`);
  for (const c of side.adminConflicts) out.push(`  same priority, other action (unspecified which wins): ${formatAdmin(c, side.direction)}`);
  if (side.isolatedBy.length > 0) {
    const consulted = side.tier === 'network-policy';
    out.push(`  NetworkPolicies isolating ${side.subject ?? endpoint} for ${side.direction}${consulted ? '' : ' (not consulted: a higher tier decided)'}:`);
    for (const p of side.policies) {
      if (p.rules.length === 0) {
        out.push(`    ${p.policy}: no ${side.direction} rules (it only isolates)`);
        continue;
      }
      out.push(`    ${p.policy}: ${p.allowed ? 'allows' : 'no rule matches'}`);
      for (const r of p.rules) out.push(`      ${r.matched ? '✓' : '✗'} ${r.why}`);
    }
  }
  if (side.baseline !== null) out.push(`  ${formatAdmin(side.baseline, side.direction)}`);
  return out;
}

function formatAdmin(a: AdminRuleVerdict, direction: string): string {
  const who = a.kind === 'AdminNetworkPolicy' ? `AdminNetworkPolicy ${a.policy} (priority ${a.priority ?? ''})` : `BaselineAdminNetworkPolicy ${a.policy}`;
  return `${who} ${direction}[${a.rule}]${a.ruleName === '' ? '' : ` "${a.ruleName}"`}: ${a.action}: ${a.why}`;
}
