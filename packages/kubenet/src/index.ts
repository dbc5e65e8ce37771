/**
 * `@knet/kubenet`: kubelet's kubenet network plugin (cbr0, host-local IPAM, per-node routes or a
 * cloud route table with its provider limit) on the knet Host API.
 *
 * @packageDocumentation
 */

export { createKubenetPlugin, KUBENET_ROUTE_PROTO } from './kubenet-plugin.js';
export type { KubenetPlugin } from './kubenet-plugin.js';
export {
  resolveKubenetOptions,
  parseKubenetOptions,
  HAIRPIN_MODES,
  DEFAULT_NON_MASQUERADE_CIDR,
  MIN_MTU,
} from './kubenet-options.js';
export type { KubenetOptions, ResolvedKubenetOptions, HairpinMode } from './kubenet-options.js';
export { kubenetMtu, FALLBACK_MTU } from './kubenet-mtu.js';
export { createKubenetNetConf, KUBENET_BRIDGE, KUBENET_NETWORK, KUBENET_POD_IFNAME } from './kubenet-net-conf.js';
export type { KubenetNetConf } from './kubenet-net-conf.js';
export { formatKubenetMasqueradeRule, KUBENET_MASQUERADE_COMMENT } from './kubenet-masquerade-rule.js';
export { checkCloudRouteLimit, CLOUD_ROUTE_LIMITS } from './cloud-route-limit.js';
export type { CloudRouteLimit } from './cloud-route-limit.js';

// cni — exports added below
export { createKubenetCniPlugin } from './cni/kubenet-cni-plugin.js';
export type { KubenetCniPluginOptions } from './cni/kubenet-cni-plugin.js';
export { parseKubenetCniConf, createKubenetCniConfList, KNET_KUBENET_CNI_TYPE } from './cni/kubenet-cni-conf.js';
export type { KubenetCniConf, KubenetCniConfListOptions } from './cni/kubenet-cni-conf.js';
export { bestEffort, ensureBridge, ensureBridgeAddr, setupVeth, teardownPodInterfaces, VETH_NAME_TRIES } from './bridge-steps.js';
export type { EnsureBridgeOptions, SetupVethOptions } from './bridge-steps.js';
