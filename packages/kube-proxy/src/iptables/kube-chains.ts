/**
 * The fixed chain names of kube-proxy's iptables mode, as upstream declares them.
 *
 * @remarks
 * Linux equivalent: the user-defined chains `iptables-save` shows on a kube-proxy node.
 * @see kubernetes pkg/proxy/iptables/proxier.go (the `kube*Chain` constants)
 * @see /work/shared/facts/kube-proxy.md section 2.1
 */
export const KUBE_CHAINS = {
  /** nat and filter: entry point for service IPs. */
  services: 'KUBE-SERVICES',
  /** filter: REJECT/DROP for external IPs, LB IPs and node ports without usable endpoints. */
  externalServices: 'KUBE-EXTERNAL-SERVICES',
  /** nat: per-nodePort jumps; filter: health-check node port ACCEPTs. */
  nodePorts: 'KUBE-NODEPORTS',
  /** nat: turns the masquerade mark into MASQUERADE. */
  postrouting: 'KUBE-POSTROUTING',
  /** nat: sets the masquerade mark. */
  markMasq: 'KUBE-MARK-MASQ',
  /** filter: INVALID drop, marked and established traffic accepted. */
  forward: 'KUBE-FORWARD',
  /** filter: drops LB traffic that the KUBE-FW chain did not DNAT. */
  proxyFirewall: 'KUBE-PROXY-FIREWALL',
  /** mangle, nat, filter: the empty canary whose disappearance forces a full resync. */
  canary: 'KUBE-PROXY-CANARY',
  /** filter: kube-proxy's copy of kubelet's anti-martian rule. */
  kubeletFirewall: 'KUBE-FIREWALL',
} as const;

/**
 * More than this many endpoints in total (summed over all service ports) switches the proxier
 * into large-cluster mode: no comments on KUBE-SEP rules and on KUBE-SVC/KUBE-SVL jumps, and
 * stale chains deleted at most once per sync period.
 *
 * @see kubernetes pkg/proxy/iptables/proxier.go largeClusterEndpointsThreshold
 */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;
