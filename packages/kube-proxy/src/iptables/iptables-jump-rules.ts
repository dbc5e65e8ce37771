/** One jump rule kube-proxy installs in a built-in chain with `EnsureRule(Prepend, ...)`. */
export interface IptablesJumpRule {
  readonly table: 'filter' | 'nat';
  /** The built-in chain the rule goes into (INPUT, FORWARD, OUTPUT, PREROUTING, POSTROUTING). */
  readonly chain: string;
  /** The kube-proxy chain it jumps to (ensured to exist first). */
  readonly target: string;
  /** The arguments as kube-proxy passes them to `iptables` (one argv word each). */
  readonly args: readonly string[];
  /** The rule as an `iptables-restore --noflush` line: `-I <chain> ...`, multi-word comments quoted. */
  readonly line: string;
}

interface JumpSpec {
  readonly table: 'filter' | 'nat';
  readonly target: string;
  readonly chain: string;
  readonly comment: string;
  readonly extra: readonly string[];
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'] as const;

// upstream iptablesJumpChains, then iptablesKubeletJumpChains, in their order.
const SPECS: readonly JumpSpec[] = [
  { table: 'filter', target: 'KUBE-EXTERNAL-SERVICES', chain: 'INPUT', comment: 'kubernetes externally-visible service portals', extra: NEW },
  { table: 'filter', target: 'KUBE-EXTERNAL-SERVICES', chain: 'FORWARD', comment: 'kubernetes externally-visible service portals', extra: NEW },
  { table: 'filter', target: 'KUBE-NODEPORTS', chain: 'INPUT', comment: 'kubernetes health check service ports', extra: [] },
  { table: 'filter', target: 'KUBE-SERVICES', chain: 'FORWARD', comment: 'kubernetes service portals', extra: NEW },
  { table: 'filter', target: 'KUBE-SERVICES', chain: 'OUTPUT', comment: 'kubernetes service portals', extra: NEW },
  { table: 'filter', target: 'KUBE-FORWARD', chain: 'FORWARD', comment: 'kubernetes forwarding rules', extra: [] },
  { table: 'filter', target: 'KUBE-PROXY-FIREWALL', chain: 'INPUT', comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'filter', target: 'KUBE-PROXY-FIREWALL', chain: 'OUTPUT', comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'filter', target: 'KUBE-PROXY-FIREWALL', chain: 'FORWARD', comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'nat', target: 'KUBE-SERVICES', chain: 'OUTPUT', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', target: 'KUBE-SERVICES', chain: 'PREROUTING', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', target: 'KUBE-POSTROUTING', chain: 'POSTROUTING', comment: 'kubernetes postrouting rules', extra: [] },
  { table: 'filter', target: 'KUBE-FIREWALL', chain: 'INPUT', comment: '', extra: [] },
  { table: 'filter', target: 'KUBE-FIREWALL', chain: 'OUTPUT', comment: '', extra: [] },
];

function quote(word: string): string {
  return /\s/.test(word) ? `"${word}"` : word;
}

/**
 * The jump rules from the built-in chains into kube-proxy's chains, in the order kube-proxy
 * ensures them on every full sync. They are not part of the iptables-restore payload.
 *
 * @remarks
 * Linux equivalent: for each entry, `iptables -t <table> -C <chain> <args>` and, when missing,
 * `iptables -t <table> -I <chain> <args>` (after `iptables -t <table> -N <target>` if needed).
 * Because each is inserted at the top, a chain that held none of them ends up with them in
 * reverse order (`iptables-save` on a fresh node lists the KUBE-PROXY-FIREWALL jump first in
 * INPUT). The last two are duplicates of kubelet's KUBE-FIREWALL jumps (no comment).
 * @see kubernetes pkg/proxy/iptables/proxier.go iptablesJumpChains, iptablesKubeletJumpChains, syncProxyRules
 * @see /work/shared/facts/kube-proxy.md section 2.2
 * @example
 * ```ts
 * import { iptablesJumpRules } from '@knet/kube-proxy';
 * iptablesJumpRules()[9]?.line; // '-I OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
 * ```
 */
export function iptablesJumpRules(): readonly IptablesJumpRule[] {
  return SPECS.map((s) => {
    const args = [...s.extra, ...(s.comment === '' ? [] : ['-m', 'comment', '--comment', s.comment]), '-j', s.target];
    return { table: s.table, chain: s.chain, target: s.target, args, line: `-I ${s.chain} ${args.map(quote).join(' ')}` };
  });
}

/**
 * The tables holding kube-proxy's empty canary chain `KUBE-PROXY-CANARY`, which its iptables
 * monitor creates at start-up and polls; when the chain disappears (someone flushed the
 * tables), kube-proxy forces a full resync.
 *
 * @remarks Linux equivalent: `iptables -t mangle -N KUBE-PROXY-CANARY` (and nat, filter).
 * @see kubernetes pkg/util/iptables/iptables.go (runner).Monitor
 * @see kubernetes pkg/proxy/iptables/proxier.go NewProxier (ipt.Monitor call)
 */
export const KUBE_PROXY_CANARY_TABLES = ['mangle', 'nat', 'filter'] as const;
