/**
 * `@knet/cni-flannel`: flannel on the knet Host API — flanneld's subnet leases (etcd v3 with
 * flannel's own keys, or the Kubernetes subnet manager), the vxlan, host-gw and udp backends,
 * `subnet.env`, flanneld's iptables rules, and the `flannel` CNI plugin delegating to bridge.
 *
 * @packageDocumentation
 */

export { createFlannelPlugin } from './flannel-plugin.js';
export type { FlannelPlugin } from './flannel-plugin.js';
export { parseFlannelOptions } from './flannel-options.js';
export type { FlannelOptions } from './flannel-options.js';
export { createFlanneld, DEFAULT_RENEW_MARGIN_MINUTES } from './flanneld.js';
export type { Flanneld, FlanneldOptions } from './flanneld.js';
export {
  applyFlannelIptables,
  formatFlannelMasqRules,
  formatFlannelForwardRules,
  FLANNEL_MASQ_COMMENT,
  FLANNEL_FORWARD_COMMENT,
  KUBE_PROXY_MARK,
} from './flannel-iptables.js';
export type { FlannelIptablesOptions } from './flannel-iptables.js';

// subnet leases
export { parseNetConf, checkNetConf, goField, DEFAULT_ETCD_PREFIX, NET_CONF_PATH } from './subnet/net-conf.js';
export type { FlannelNetConf } from './subnet/net-conf.js';
export { formatLeaseAttrs, parseLeaseAttrs } from './subnet/lease-attrs.js';
export type { LeaseAttrs } from './subnet/lease-attrs.js';
export { formatSubnetKey, parseSubnetKey } from './subnet/subnet-key.js';
export { LeaseWatcher } from './subnet/subnet-manager.js';
export type { FlannelLease, LeaseEvent, SubnetManager } from './subnet/subnet-manager.js';
export { createSubnetRegistry } from './subnet/subnet-registry.js';
export type { SubnetRegistry, StoredLease } from './subnet/subnet-registry.js';
export {
  createLocalSubnetManager,
  freeSubnets,
  SUBNET_TTL_SECONDS,
  RACE_RETRIES,
  MAX_CANDIDATE_SUBNETS,
} from './subnet/local-subnet-manager.js';
export type { LocalSubnetManagerOptions } from './subnet/local-subnet-manager.js';
export {
  createKubeSubnetManager,
  createKubeNodeStore,
  flannelAnnotations,
  DEFAULT_ANNOTATION_PREFIX,
} from './subnet/kube-subnet-manager.js';
export type { KubeNode, KubeNodeStore, KubeSubnetManagerOptions } from './subnet/kube-subnet-manager.js';
export { formatSubnetEnv, parseSubnetEnv, SUBNET_ENV_PATH } from './subnet/subnet-env.js';
export type { SubnetEnv } from './subnet/subnet-env.js';

// backends
export { createBackend, FLANNEL_BACKENDS } from './backend/create-backend.js';
export { backendOption } from './backend/flannel-backend.js';
export type { BackendContext, ExternalInterface, FlannelBackend, FlannelNetwork } from './backend/flannel-backend.js';
export {
  createVxlanBackend,
  parseVxlanConfig,
  isDirectlyRouted,
  DEFAULT_VNI,
  LINUX_VXLAN_PORT,
  VXLAN_OVERHEAD,
} from './backend/vxlan-backend.js';
export type { VxlanBackendConfig } from './backend/vxlan-backend.js';
export { createHostGwBackend } from './backend/host-gw-backend.js';
export { createUdpBackend, FlannelUdpProxy, DEFAULT_UDP_PORT, UDP_OVERHEAD } from './backend/udp-backend.js';

// cni
export { createFlannelCniPlugin, flannelDelegateConf, inProcessDelegate } from './cni/flannel-cni-plugin.js';
export type { FlannelCniPluginOptions, FlannelDelegate, FlannelDelegateRequest } from './cni/flannel-cni-plugin.js';
export {
  parseFlannelCniConf,
  createFlannelConfList,
  FLANNEL_CNI_TYPE,
  DEFAULT_FLANNEL_DATA_DIR,
  FLANNEL_CONFLIST_PATH,
} from './cni/flannel-cni-conf.js';
export type { FlannelCniConf } from './cni/flannel-cni-conf.js';
