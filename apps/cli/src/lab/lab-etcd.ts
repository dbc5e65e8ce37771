import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KnetError, type ClusterState, type NetworkPlugin } from '@knet/core';
import { startEtcdServer } from '@knet/core/linux';
import { createFlannelPlugin, parseFlannelOptions } from '@knet/cni-flannel';
import { pickPlugin } from '../load-cluster.js';
import { labFilesDir } from './lab-state.js';

/** The etcd a lab started for its CNI's datastore. */
export interface LabEtcd {
  readonly pid: number;
  /** Its client URL (`http://127.0.0.1:PORT`). */
  readonly endpoints: readonly string[];
  readonly dataDir: string;
}

/**
 * True when the cluster's CNI keeps its state in etcd and wants a real one in the lab: flannel
 * with `subnetManager: etcd` and `datastore: etcd`. (The simulation, `lab check`'s prediction
 * included, uses the embedded store in its place.)
 */
export function labWantsEtcd(state: ClusterState): boolean {
  const { plugin, options } = state.cluster.cni;
  return plugin === 'flannel' && options['subnetManager'] === 'etcd' && options['datastore'] === 'etcd';
}

/**
 * Starts the lab's etcd (Debian's etcd-server): a single member listening on 127.0.0.1 only,
 * with its data in `<lab dir>/<name>/etcd` and its log in `<lab dir>/<name>/etcd.log`, detached
 * so that it outlives `knet lab up`; `knet lab down` stops it.
 *
 * @remarks Linux equivalent: `etcd --data-dir ... --listen-client-urls http://127.0.0.1:PORT ...`
 * in the background. It binds loopback sockets of the machine; it adds nothing to any network
 * namespace (flanneld's model runs in knet's process and talks to it there).
 * @throws KnetError `ENOENT` when etcd is not installed, `EIO` when it does not start.
 */
export async function startLabEtcd(name: string): Promise<LabEtcd> {
  const dir = labFilesDir(name);
  const server = await startEtcdServer({ dataDir: join(dir, 'etcd'), logFile: join(dir, 'etcd.log'), name: `knet-${name}` });
  return { pid: server.pid, endpoints: server.endpoints, dataDir: server.dataDir };
}

/** True when `pid` runs etcd with this data dir (so a recycled pid is never killed). */
function isLabEtcd(e: LabEtcd): boolean {
  try {
    const args = readFileSync(`/proc/${e.pid}/cmdline`, 'utf8').split('\0');
    return /(^|\/)etcd$/.test(args[0] ?? '') && args.includes(e.dataDir);
  } catch {
    return false;
  }
}

/**
 * Stops a lab's etcd: SIGTERM to its pid once /proc shows it is that etcd (its binary and data
 * dir), then SIGKILL after 5 s. Resolves true when it was running.
 */
export async function stopLabEtcd(e: LabEtcd): Promise<boolean> {
  if (!isLabEtcd(e)) return false;
  process.kill(e.pid, 'SIGTERM');
  for (let i = 0; i < 50 && isLabEtcd(e); i++) await new Promise((r) => setTimeout(r, 100));
  if (isLabEtcd(e)) process.kill(e.pid, 'SIGKILL');
  return true;
}

/**
 * The plugin a lab builds with: the cluster's, with flannel pointed at the lab's etcd when it
 * started one.
 * @throws KnetError `EINVAL` for a cluster that wants etcd when none was started.
 */
export function labPlugin(state: ClusterState, etcd: LabEtcd | undefined): NetworkPlugin {
  if (!labWantsEtcd(state)) return pickPlugin(state, undefined);
  if (etcd === undefined) throw new KnetError('EINVAL', 'this cluster keeps flannel\'s leases in etcd, and the lab has no etcd', { field: 'spec.cni.options.datastore' });
  return createFlannelPlugin({ ...parseFlannelOptions(state.cluster.cni.options), etcdEndpoints: etcd.endpoints });
}
