#!/usr/bin/env node
/**
 * The `knet-kubenet` CNI plugin executable: kubenet's loopback + bridge + host-local for one pod,
 * on real network namespaces (LinuxHost), with host-local's state on disk in the reference
 * format. Install it as `knet-kubenet` in a `CNI_PATH` directory (`/opt/cni/bin`).
 *
 * @packageDocumentation
 */
import { createLinuxHost, FileIpamStore, runCniPluginMain } from '@knet/core/linux';
import pkg from '../../package.json' with { type: 'json' };
import { createKubenetCniPlugin } from '../cni/kubenet-cni-plugin.js';
import { resolveKnetNetns } from '../cni/resolve-knet-netns.js';

/** How long an ADD waits for host-local's lock before answering code 11 (try again later). */
const LOCK_TIMEOUT_MS = 60_000;

const plugin = createKubenetCniPlugin({
  // Checksum offload stays as the kernel sets it: a CNI plugin leaves devices as the reference does.
  host: createLinuxHost({ txChecksumOffload: true }),
  hostNetns: () => resolveKnetNetns('/proc/self/ns/net') ?? '',
  podNetns: (path) => resolveKnetNetns(path),
  ipamStore: (c) => new FileIpamStore(c.name, { dataDir: c.dataDir, lockTimeoutMs: LOCK_TIMEOUT_MS }),
  about: `CNI plugin knet-kubenet v${pkg.version}`,
});

await runCniPluginMain(plugin);
