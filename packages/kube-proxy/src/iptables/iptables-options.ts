import { KnetError } from '@knet/core';
import type { ClusterState, Labels } from '@knet/core';
import { parseIpSloppy } from '../ip/parse-ip-sloppy.js';
import type { IpFamily, ParsedIp } from '../ip/parse-ip-sloppy.js';
import { parseNodePortAddresses } from '../proxy/node-port-addresses.js';
import type { NodePortAddresses } from '../proxy/node-port-addresses.js';
import type { ProxyFeatureGates } from '../proxy/service-port-info.js';
import { formatMasqueradeMark } from './masquerade-mark.js';

/**
 * kube-proxy's `--detect-local-mode`: how a rule tells pod traffic from other traffic.
 *
 * @remarks
 * `ClusterCIDR`/`NodeCIDR` match `-s <cidr>`, `BridgeInterface` `-i <name>`,
 * `InterfaceNamePrefix` `-i <prefix>+`; `None` has no detector (upstream's no-op detector).
 * @see kubernetes pkg/proxy/util/localdetector.go
 */
export type LocalTrafficDetector =
  | { readonly mode: 'ClusterCIDR' | 'NodeCIDR'; readonly cidr: string }
  | { readonly mode: 'BridgeInterface'; readonly interfaceName: string }
  | { readonly mode: 'InterfaceNamePrefix'; readonly prefix: string }
  | { readonly mode: 'None' };

/** Which nfacct counters exist (kube-proxy references a counter only when it could create it). */
export interface NfacctCounters {
  /** `ct_state_invalid_dropped_pkts`, on the KUBE-FORWARD INVALID drop. */
  readonly ctStateInvalidDroppedPkts?: boolean;
  /** `localhost_nps_accepted_pkts`, on the `-d 127.0.0.0/8` KUBE-NODEPORTS rules. */
  readonly localhostNpsAcceptedPkts?: boolean;
}

/**
 * The configuration of kube-proxy's iptables proxier for one node and one IP family: the
 * fields of upstream's `Proxier` struct that shape the rules.
 */
export interface IptablesProxierOptions {
  /** `--hostname-override` / the Node name: endpoints with this `nodeName` are local. */
  readonly nodeName: string;
  /** The proxier's family (`IPv4` default). */
  readonly ipFamily?: IpFamily;
  /**
   * The node's addresses (InternalIP first). The first of the proxier's family is the node IP
   * (a loadBalancerSourceRange containing it lets the node reach its own LB IP); with loopback,
   * they are the local addresses `--nodeport-addresses` selects from.
   */
  readonly nodeIPs?: readonly string[];
  /** `--cluster-cidr` of this family: the ClusterCIDR local-traffic detector. */
  readonly clusterCIDR?: string;
  /** Another detector (overrides `clusterCIDR`); `{ mode: 'None' }` for none. */
  readonly localDetector?: LocalTrafficDetector;
  /** `--masquerade-all`. Default false. */
  readonly masqueradeAll?: boolean;
  /** `--iptables-masquerade-bit` (default 14), formatted as the real proxier does (`0x00004000`). */
  readonly masqueradeBit?: number;
  /** The mark text verbatim (upstream's unit tests use `0x4000`); overrides `masqueradeBit`. */
  readonly masqueradeMark?: string;
  /**
   * `--iptables-localhost-nodeports` as the proxier holds it (default true). NewProxier turns it
   * off without an IPv4 loopback in `nodePortAddresses`; see `resolveLocalhostNodePorts`.
   */
  readonly localhostNodePorts?: boolean;
  /** `--nodeport-addresses` (CIDRs); empty means every local address. */
  readonly nodePortAddresses?: readonly string[];
  /** `net.netfilter.nf_conntrack_tcp_be_liberal` is set: no INVALID drop rule. Default false. */
  readonly conntrackTCPLiberal?: boolean;
  /** iptables supports `--random-fully` (appended to the MASQUERADE rule). Default false. */
  readonly randomFully?: boolean;
  /** nfacct counters that exist; `true`/`false` for both. Default both present, as on a kernel with nfacct. */
  readonly nfacct?: boolean | NfacctCounters;
  /** The node's labels (topology zone); default: the node's labels from the input's `nodes`. */
  readonly nodeLabels?: Labels;
  readonly featureGates?: ProxyFeatureGates;
  /** `--iptables-sync-period` in ms (default 30000): large-cluster stale-chain cleanup interval. */
  readonly syncPeriodMs?: number;
  /** Full resync interval in ms (proxyutil.FullSyncPeriod, one hour). */
  readonly fullSyncPeriodMs?: number;
}

/** Options with defaults applied and texts pre-parsed. */
export interface ResolvedIptablesOptions {
  readonly nodeName: string;
  readonly family: IpFamily;
  readonly nodeIP: ParsedIp | undefined;
  readonly localAddresses: readonly string[];
  /** `-s 10.0.0.0/8` style texts, or undefined without a detector. */
  readonly detector: { readonly ifLocal: string; readonly ifNotLocal: string } | undefined;
  readonly masqueradeAll: boolean;
  readonly masqueradeMark: string;
  readonly localhostNodePorts: boolean;
  readonly nodePortAddresses: NodePortAddresses;
  readonly conntrackTCPLiberal: boolean;
  readonly randomFully: boolean;
  readonly nfacctInvalid: boolean;
  readonly nfacctLocalhost: boolean;
  readonly nodeLabels: Labels | undefined;
  readonly gates: ProxyFeatureGates;
  readonly syncPeriodMs: number;
  readonly fullSyncPeriodMs: number;
}

/** proxyutil.FullSyncPeriod. */
export const FULL_SYNC_PERIOD_MS = 3_600_000;
/** kube-proxy's default `iptables.syncPeriod` (30 s). */
export const DEFAULT_SYNC_PERIOD_MS = 30_000;

function detectorArgs(d: LocalTrafficDetector): { ifLocal: string; ifNotLocal: string } | undefined {
  switch (d.mode) {
    case 'ClusterCIDR':
    case 'NodeCIDR':
      return { ifLocal: `-s ${d.cidr}`, ifNotLocal: `! -s ${d.cidr}` };
    case 'BridgeInterface':
      return { ifLocal: `-i ${d.interfaceName}`, ifNotLocal: `! -i ${d.interfaceName}` };
    case 'InterfaceNamePrefix':
      return { ifLocal: `-i ${d.prefix}+`, ifNotLocal: `! -i ${d.prefix}+` };
    case 'None':
      return undefined;
  }
}

/**
 * Applies the defaults to {@link IptablesProxierOptions}.
 *
 * @remarks Linux equivalent: none.
 * @throws KnetError `EINVAL` for an empty node name, a node IP that is not an address, or a bad
 * masquerade bit (`details.field` names the option).
 * @example
 * ```ts
 * import { resolveIptablesOptions } from '@knet/kube-proxy';
 * resolveIptablesOptions({ nodeName: 'node-a', clusterCIDR: '10.244.0.0/16' }).detector; // { ifLocal: '-s 10.244.0.0/16', ifNotLocal: '! -s 10.244.0.0/16' }
 * ```
 */
export function resolveIptablesOptions(options: IptablesProxierOptions): ResolvedIptablesOptions {
  if (options.nodeName === '') throw new KnetError('EINVAL', 'nodeName must not be empty', { field: 'nodeName' });
  const family = options.ipFamily ?? 'IPv4';
  const nodeIPs = options.nodeIPs ?? [];
  let nodeIP: ParsedIp | undefined;
  for (const text of nodeIPs) {
    const ip = parseIpSloppy(text);
    if (ip === undefined) throw new KnetError('EINVAL', `node IP "${text}" is not an IP address`, { field: 'nodeIPs', value: text });
    if (nodeIP === undefined && ip.family === family) nodeIP = ip;
  }
  const detector =
    options.localDetector !== undefined
      ? detectorArgs(options.localDetector)
      : options.clusterCIDR !== undefined
        ? detectorArgs({ mode: 'ClusterCIDR', cidr: options.clusterCIDR })
        : undefined;
  const nf = options.nfacct ?? true;
  return {
    nodeName: options.nodeName,
    family,
    nodeIP,
    localAddresses: ['127.0.0.1', '::1', ...nodeIPs],
    detector,
    masqueradeAll: options.masqueradeAll ?? false,
    masqueradeMark: options.masqueradeMark ?? formatMasqueradeMark(options.masqueradeBit ?? 14),
    localhostNodePorts: options.localhostNodePorts ?? true,
    nodePortAddresses: parseNodePortAddresses(family, options.nodePortAddresses ?? []),
    conntrackTCPLiberal: options.conntrackTCPLiberal ?? false,
    randomFully: options.randomFully ?? false,
    nfacctInvalid: typeof nf === 'boolean' ? nf : (nf.ctStateInvalidDroppedPkts ?? false),
    nfacctLocalhost: typeof nf === 'boolean' ? nf : (nf.localhostNpsAcceptedPkts ?? false),
    nodeLabels: options.nodeLabels,
    gates: options.featureGates ?? {},
    syncPeriodMs: options.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS,
    fullSyncPeriodMs: options.fullSyncPeriodMs ?? FULL_SYNC_PERIOD_MS,
  };
}

/**
 * The iptables proxier options a node of a knet cluster gets: its name, its InternalIP, the
 * cluster CIDR as local-traffic detector (kube-proxy's default `--detect-local-mode
 * ClusterCIDR`), and its labels; everything else at kube-proxy's defaults.
 *
 * @remarks
 * Linux equivalent: the flags kubeadm gives kube-proxy (`--cluster-cidr`, `--hostname-override`).
 * `localhostNodePorts` is resolved as NewProxier does (on, since the default nodePortAddresses
 * include 127.0.0.1).
 * @throws KnetError `ENOENT` when the cluster has no such node (`details.node`).
 * @example
 * ```ts
 * import { buildClusterState, loadExampleCluster } from '@knet/core';
 * import { iptablesOptionsForNode, renderIptables } from '@knet/kube-proxy';
 * const state = buildClusterState(loadExampleCluster());
 * const node = state.nodes[0]!.name;
 * const { payload } = renderIptables(state, iptablesOptionsForNode(state, node));
 * payload.startsWith('*filter\n'); // true
 * ```
 */
export function iptablesOptionsForNode(state: ClusterState, nodeName: string): IptablesProxierOptions {
  const node = state.nodes.find((n) => n.name === nodeName);
  if (node === undefined) throw new KnetError('ENOENT', `no node named "${nodeName}"`, { node: nodeName });
  return {
    nodeName,
    ipFamily: 'IPv4',
    nodeIPs: [node.internalIP],
    clusterCIDR: state.cluster.clusterCIDR,
    nodeLabels: node.labels,
    localhostNodePorts: true,
  };
}
