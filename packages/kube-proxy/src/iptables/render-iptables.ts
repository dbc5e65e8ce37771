import type { ProxyInput } from '../proxy/proxy-input.js';
import { createIptablesProxier } from './iptables-proxier.js';
import type { IptablesSyncStats } from './iptables-proxier.js';
import type { IptablesProxierOptions } from './iptables-options.js';
import type { IptablesJumpRule } from './iptables-jump-rules.js';

/** Options of {@link renderIptables}: the proxier's, plus the nat chains that exist already. */
export interface RenderIptablesOptions extends IptablesProxierOptions {
  /** Service chains present in the nat table (`iptables-save -t nat`); stale ones get `-X`. Default none. */
  readonly existingNatChains?: Iterable<string>;
}

/** What {@link renderIptables} returns. */
export interface RenderIptablesResult {
  /** The full `iptables-restore --noflush` input: `*filter ... COMMIT`, `*nat ... COMMIT`. */
  readonly payload: string;
  readonly stats: IptablesSyncStats;
  /** The base-chain jumps kube-proxy ensures separately (not in the payload). */
  readonly ensureRules: readonly IptablesJumpRule[];
}

/**
 * Renders the full iptables-restore payload kube-proxy's iptables mode writes on a full sync.
 *
 * @remarks
 * One full sync of a fresh {@link createIptablesProxier}. Tables, chain declarations, rule
 * order inside each chain, comments, probabilities and chain hashes are upstream's; service
 * ports come in input order (upstream iterates a Go map, so its own tests sort before
 * comparing).
 * Linux equivalent: what `iptables-restore --noflush --counters` receives from kube-proxy.
 * @see kubernetes pkg/proxy/iptables/proxier.go syncProxyRules
 * @example
 * ```ts
 * import { renderIptables } from '@knet/kube-proxy';
 * const { payload } = renderIptables(
 *   {
 *     services: [{ namespace: 'ns1', name: 'svc1', clusterIP: '172.30.0.41', ports: [{ name: 'p80', protocol: 'TCP', port: 80 }] }],
 *     endpointSlices: [{ namespace: 'ns1', name: 'svc1-1', serviceName: 'svc1', addressType: 'IPv4',
 *       ports: [{ name: 'p80', port: 80, protocol: 'TCP' }], endpoints: [{ addresses: ['10.180.0.1'] }] }],
 *   },
 *   { nodeName: 'node-a', nodeIPs: ['192.168.0.2'], clusterCIDR: '10.0.0.0/8' },
 * );
 * payload.includes('-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80'); // true
 * ```
 */
export function renderIptables(input: ProxyInput, options: RenderIptablesOptions): RenderIptablesResult {
  const existing = options.existingNatChains === undefined ? [] : [...options.existingNatChains];
  const proxier = createIptablesProxier({ ...options, listNatChains: () => existing });
  const r = proxier.sync(input);
  return { payload: r.payload, stats: r.stats, ensureRules: r.ensureRules };
}
