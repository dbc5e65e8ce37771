/**
 * `@knet/kube-proxy`: kube-proxy's proxiers on the knet model, rendering the exact rules
 * upstream kube-proxy writes from Services and EndpointSlices. This release: the iptables mode.
 *
 * @packageDocumentation
 */

// addresses
export { parseIpSloppy, parseCidrSloppy, formatIpSloppy, cidrContainsIp } from './ip/parse-ip-sloppy.js';
export type { IpFamily, ParsedIp, ParsedCidr } from './ip/parse-ip-sloppy.js';

// the shared front end: Services and EndpointSlices as kube-proxy reads them
export type {
  ProxyInput,
  ProxyService,
  ProxyServicePort,
  ProxyLoadBalancerIngress,
  ProxyEndpointSlice,
  ProxyEndpointSlicePort,
  ProxyEndpoint,
  ProxyNode,
} from './proxy/proxy-input.js';
export { buildServicePorts, servicePortsFingerprint, DEFAULT_STICKY_MAX_AGE_SECONDS } from './proxy/service-port-info.js';
export type { ServicePortInfo, ProxyFeatureGates } from './proxy/service-port-info.js';
export { buildServiceEndpoints, buildEndpointsMap, groupSlicesByService, localReadyEndpoints } from './proxy/endpoint-info.js';
export type { EndpointInfo, ServiceEndpoints, BuildEndpointsOptions } from './proxy/endpoint-info.js';
export { categorizeEndpoints, LABEL_TOPOLOGY_ZONE } from './proxy/categorize-endpoints.js';
export type { CategorizedEndpoints, CategorizeNode } from './proxy/categorize-endpoints.js';
export { parseNodePortAddresses, nodePortIPs, isLoopback, resolveLocalhostNodePorts } from './proxy/node-port-addresses.js';
export type { NodePortAddresses } from './proxy/node-port-addresses.js';

// iptables mode
export { KUBE_CHAINS, LARGE_CLUSTER_ENDPOINTS_THRESHOLD } from './iptables/kube-chains.js';
export {
  portProtoHash,
  servicePortChainNames,
  servicePortEndpointChainName,
  isServiceChainName,
} from './iptables/chain-names.js';
export type { ServicePortChainNames } from './iptables/chain-names.js';
export { computeProbability } from './iptables/compute-probability.js';
export { formatMasqueradeMark } from './iptables/masquerade-mark.js';
export {
  resolveIptablesOptions,
  iptablesOptionsForNode,
  FULL_SYNC_PERIOD_MS,
  DEFAULT_SYNC_PERIOD_MS,
} from './iptables/iptables-options.js';
export type {
  IptablesProxierOptions,
  ResolvedIptablesOptions,
  LocalTrafficDetector,
  NfacctCounters,
} from './iptables/iptables-options.js';
export { iptablesJumpRules, KUBE_PROXY_CANARY_TABLES } from './iptables/iptables-jump-rules.js';
export type { IptablesJumpRule } from './iptables/iptables-jump-rules.js';
export { renderServicePort } from './iptables/render-service-port.js';
export type { RenderedServicePort, ServicePortRenderContext } from './iptables/render-service-port.js';
export { createIptablesProxier } from './iptables/iptables-proxier.js';
export { installIptablesProxier } from './iptables/install-iptables-proxier.js';
export type { InstalledIptablesProxier } from './iptables/install-iptables-proxier.js';
export type {
  IptablesProxier,
  IptablesProxierHooks,
  CreateIptablesProxierOptions,
  IptablesSyncOptions,
  IptablesSyncResult,
  IptablesSyncStats,
} from './iptables/iptables-proxier.js';
export { renderIptables } from './iptables/render-iptables.js';
export type { RenderIptablesOptions, RenderIptablesResult } from './iptables/render-iptables.js';
