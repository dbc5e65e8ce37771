/**
 * The bridge plugin's steps now live in `@knet/core` (every bridge-based CNI shares them); this
 * module re-exports them for kubenet's own modules and for users of `@knet/kubenet`.
 */
export { bestEffort, ensureBridge, ensureBridgeAddr, setupVeth, teardownPodInterfaces, VETH_NAME_TRIES } from '@knet/core';
export type { EnsureBridgeOptions, SetupVethOptions } from '@knet/core';
