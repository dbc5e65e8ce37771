/**
 * `@knet/core/linux`: the real dataplane. LinuxHost drives real network namespaces with
 * iproute2, sysctl, ethtool, iptables-restore, ipset and nft; it needs Node.js
 * (`node:child_process`, `node:fs`) and root, so it lives outside the main entry point, which
 * browsers and other runtimes import.
 *
 * @packageDocumentation
 */

export { LinuxHost, createLinuxHost } from './host/linux/linux-host.js';
export type {
  LinuxHostOptions,
  IptablesRestoreOptions,
  IptablesSaveOptions,
  IpsetRestoreOptions,
  ExecOptions,
} from './host/linux/linux-host.js';
export { probeLinuxCapabilities } from './host/linux/probe-linux-capabilities.js';
export type {
  FeatureStatus,
  LinuxTool,
  KernelFeature,
  LinuxCapabilities,
  ProbeLinuxCapabilitiesOptions,
} from './host/linux/probe-linux-capabilities.js';
export { cleanupNamespaces } from './host/linux/cleanup-namespaces.js';
export type { CleanupNamespacesOptions } from './host/linux/cleanup-namespaces.js';
export { spawnCommand } from './host/linux/command-runner.js';
export { createResidentRunner, createHelperSpares, commandNetns } from './host/linux/resident-runner.js';
export { createFlockHelper } from './ipam/flock-helper.js';
export type { FlockHelper, FlockHold } from './ipam/flock-helper.js';
export type { ResidentRunner, ResidentRunnerOptions, HelperSpares } from './host/linux/resident-runner.js';
export type { CommandRunner, CommandResult, CommandOptions } from './host/linux/command-runner.js';
export { commandError, errnoFromMessage } from './host/linux/command-error.js';
export type { CommandErrorContext } from './host/linux/command-error.js';
export { KNET_NETNS_PREFIX, NETNS_RUN_DIR, assertKnetNetns } from './host/linux/knet-netns.js';
export { netnsSysctlDefaults } from './host/linux/netns-sysctl-defaults.js';
export type { NetnsSysctlDefaultsOptions } from './host/linux/netns-sysctl-defaults.js';
export { sysctlPath } from './host/linux/sysctl-path.js';
export {
  linkAddArgs,
  linkSetArgs,
  addrArgs,
  routeArgs,
  neighReplaceArgs,
  neighDelArgs,
  fdbArgs,
  fdbIsSelf,
  checkIfname,
  checkAddress,
} from './host/linux/iproute2-commands.js';
export type { Iproute2Args } from './host/linux/iproute2-commands.js';
export { splitJsonValues } from './host/linux/split-json-values.js';
export { parseIpLinkJson, parseNetnsIdJson } from './host/linux/parse-ip-link-json.js';
export { parseIpAddrJson } from './host/linux/parse-ip-addr-json.js';
export { parseIpRouteJson } from './host/linux/parse-ip-route-json.js';
export { parseIpNeighJson } from './host/linux/parse-ip-neigh-json.js';
export { parseBridgeFdbJson } from './host/linux/parse-bridge-fdb-json.js';

// cni (Node.js: processes, files) — exports added below
export { runCniPluginMain, isOwnNetns } from './cni/cni-plugin-main.js';
export { startCniAgent, CNI_AGENT_BASE_DIR } from './cni/cni-agent.js';
export type { CniAgent, CniAgentOptions, CniAgentInvocation } from './cni/cni-agent.js';
export { findCniPlugin, cniPluginError, createProcessCniExec, createInProcessCniExec } from './cni/cni-exec.js';
export type { CniExec, ProcessCniExecOptions } from './cni/cni-exec.js';
export { CniRuntime, DEFAULT_CNI_CACHE_DIR, CNI_CACHE_KIND } from './cni/cni-runtime.js';
export type { CniRuntimeConf, CniRuntimeOptions, CniNetworkAttachment, CniGcArgs } from './cni/cni-runtime.js';
export { createHostLocalCniPlugin, loadHostLocalConfig, parseResolvConf, gcValidAttachments } from './cni/host-local-cni-plugin.js';
export type { HostLocalCniPluginOptions } from './cni/host-local-cni-plugin.js';
export { FileIpamStore, findFlockCommand, IPAM_LOCKFILE_NAME } from './ipam/file-ipam-store.js';
export type { FileIpamStoreOptions, FileIpamLocking } from './ipam/file-ipam-store.js';
export { cniConformanceCases, cniConformanceSkipReason } from './cni/conformance.js';
export type { CniConformanceOptions, CniConformanceCase, CniConformanceContext } from './cni/conformance.js';

// datastore (Node.js: an etcd process) — exports added below
export { startEtcdServer, findEtcdBinary, freeTcpPort } from './datastore/etcd-server.js';
export type { EtcdServer, EtcdServerOptions } from './datastore/etcd-server.js';
