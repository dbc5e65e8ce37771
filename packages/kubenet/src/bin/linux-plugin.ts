/**
 * The `knet-kubenet` plugin on the machine's real network namespaces, as both the one-shot
 * executable and the agent run it.
 *
 * @packageDocumentation
 */
import type { CniPlugin } from '@knet/core';
import { createLinuxHost, FileIpamStore, type CommandRunner } from '@knet/core/linux';
import pkg from '../../package.json' with { type: 'json' };
import { createKubenetCniPlugin } from '../cni/kubenet-cni-plugin.js';
import { resolveKnetNetns } from '../cni/resolve-knet-netns.js';

/** How long an ADD waits for host-local's lock before answering code 11 (try again later). */
const LOCK_TIMEOUT_MS = 60_000;

/** Options of {@link createKubenetLinuxPlugin}. */
export interface KubenetLinuxPluginOptions {
  /** Runs the tools (default: one process per command). */
  readonly runner?: CommandRunner;
  /** The name of the node's namespace, when already known (default: looked up from `/proc/self/ns/net`). */
  readonly hostNetns?: string;
  /** `held`: the caller holds host-local's lock around the invocation (see `createFlockHelper`). */
  readonly ipamLocking?: 'held';
}

/** `knet-kubenet` on LinuxHost, with host-local's state on disk in the reference format. */
export function createKubenetLinuxPlugin(options: KubenetLinuxPluginOptions = {}): CniPlugin {
  return createKubenetCniPlugin({
    // Checksum offload stays as the kernel sets it: a CNI plugin leaves devices as the reference does.
    host: createLinuxHost({ txChecksumOffload: true, ...(options.runner !== undefined ? { runner: options.runner } : {}) }),
    hostNetns: options.hostNetns ?? (() => resolveKnetNetns('/proc/self/ns/net') ?? ''),
    podNetns: (path) => resolveKnetNetns(path),
    ipamStore: (c) => new FileIpamStore(c.name, { dataDir: c.dataDir, lockTimeoutMs: LOCK_TIMEOUT_MS, ...(options.ipamLocking !== undefined ? { locking: options.ipamLocking } : {}) }),
    about: `CNI plugin knet-kubenet v${pkg.version}`,
  });
}
