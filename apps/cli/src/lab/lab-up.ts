import { join } from 'node:path';
import {
  buildCluster,
  buildClusterState,
  clusterNames,
  EXAMPLE_CLUSTER_FILE,
  EXAMPLE_CLUSTER_YAML,
  KnetError,
  loadManifests,
  type BuiltCluster,
  type ClusterState,
  type Host,
  type ManifestInput,
} from '@knet/core';
import { createLinuxHost, createResidentRunner, probeLinuxCapabilities, type LinuxCapabilities } from '@knet/core/linux';
import { installIptablesProxier, iptablesOptionsForNode } from '@knet/kube-proxy';
import { UsageError } from '../cli-error.js';
import { pickPlugin, readInputs } from '../load-cluster.js';
import { echoPortsOf, startEchoServer } from './echo-servers.js';
import { labCapabilityProblems, labRequirements } from './lab-capabilities.js';
import { labNamespaces, removeLab } from './lab-down.js';
import { labNamesOverlap, labPrefix, parseLabName, withLabName } from './lab-name.js';
import { NO_PROGRESS, type LabProgress } from './lab-progress.js';
import { writeLabScripts } from './lab-scripts.js';
import { labPlugin, labWantsEtcd, startLabEtcd, stopLabEtcd } from './lab-etcd.js';
import { mapLimit } from './map-limit.js';
import { labFilesDir, listLabNames, readLabState, writeLabState, type LabEchoServer, type LabState } from './lab-state.js';

/** Options of {@link labUp}. */
export interface LabUpOptions {
  /** `-f` arguments; none: the embedded example cluster. */
  readonly files: readonly string[];
  /** `--name`; default the KnetCluster's name. */
  readonly name?: string;
  readonly progress?: LabProgress;
  /** The capability probe (tests pass a recorded result); default {@link probeLinuxCapabilities}. */
  readonly probe?: () => Promise<LinuxCapabilities>;
  /** How many echo servers start at once (default 8). */
  readonly concurrency?: number;
}

/** What {@link labUp} built. */
export interface LabUpResult {
  readonly state: LabState;
  readonly cluster: BuiltCluster;
  /** Wall-clock time of the whole `up`, in milliseconds. */
  readonly elapsedMs: number;
}

/** The manifests a lab is built from: the `-f` inputs, or the embedded example. */
export function labManifests(files: readonly string[]): ManifestInput[] {
  return files.length === 0 ? [{ file: EXAMPLE_CLUSTER_FILE, text: EXAMPLE_CLUSTER_YAML }] : readInputs(files);
}

/** Loads a lab's cluster from its manifests, under the lab's name. */
export function labClusterState(manifests: readonly ManifestInput[], name?: string): ClusterState {
  const state = buildClusterState(loadManifests([...manifests]));
  try {
    return withLabName(state, parseLabName(name ?? state.cluster.name));
  } catch (e) {
    if (name !== undefined || !(e instanceof UsageError)) throw e;
    throw new UsageError(`${e.message} (it is the KnetCluster's name: pass --name)`);
  }
}

/**
 * Runs kube-proxy in the cluster's mode on every node of a real lab (iptables: its rules
 * through `iptables-restore` in each node namespace). nfacct counters are not used, as in the
 * simulation the lab is compared with.
 * @throws UsageError for a mode knet does not implement yet.
 */
export async function installLabKubeProxy(cluster: BuiltCluster, host: Host, onNode: (node: string) => void = () => undefined): Promise<void> {
  const mode = cluster.state.cluster.kubeProxy.mode;
  if (mode === 'none') return;
  if (mode !== 'iptables') throw new UsageError(`kube-proxy mode "${mode}" is not available in knet yet (available: iptables, none)`);
  for (const n of cluster.state.nodes) {
    await installIptablesProxier(host, cluster.names.node(n.name), cluster.state, { ...iptablesOptionsForNode(cluster.state, n.name), nfacct: false });
    onNode(n.name);
  }
}

/**
 * `knet lab up`: builds the cluster for real in network namespaces `knet-<name>-...` — the
 * fabric, the outside world, one namespace per node and per pod, the CNI from the KnetCluster,
 * kube-proxy's rules in the node namespaces — and starts a TCP/UDP echo server on the
 * containerPorts of every pod. The state file is written before anything is created (status
 * `building`), so `lab down` finds a lab whose `up` crashed; a failed `up` removes what it built.
 *
 * @remarks Linux equivalent: `ip netns add`, `ip link add ... type veth|bridge`, `ip addr`,
 * `ip route`, `sysctl`, `iptables-restore` inside those namespaces, through LinuxHost. Nothing is
 * created in or attached to the root namespace.
 * @throws KnetError `EPERM` when the machine cannot run a lab (the reasons in the message),
 * `EEXIST` when the lab (or one whose names overlap) exists, or what the build threw.
 */
export async function labUp(o: LabUpOptions): Promise<LabUpResult> {
  const t0 = performance.now();
  const progress = o.progress ?? NO_PROGRESS;
  const manifests = labManifests(o.files);
  const state = labClusterState(manifests, o.name);
  const name = state.cluster.name;
  const prefix = labPrefix(name);

  if (readLabState(name) !== undefined || labNamespaces(name).mine.length > 0) {
    throw new KnetError('EEXIST', `lab "${name}" already exists (namespaces ${prefix}*): remove it with "knet lab down --name ${name}" or pick another --name`, { lab: name });
  }
  const overlapping = listLabNames().filter((l) => labNamesOverlap(l, name));
  if (overlapping.length > 0) {
    throw new KnetError('EEXIST', `lab name "${name}" overlaps lab "${overlapping[0]!}" (namespace prefixes ${prefix} and ${labPrefix(overlapping[0]!)}): pick another --name`, {
      lab: name,
      other: overlapping[0],
    });
  }
  // The plugin is made below, once the lab's etcd (if the CNI wants one) runs.
  pickPlugin(state, undefined);
  const caps = await (o.probe ?? probeLinuxCapabilities)();
  const problems = labCapabilityProblems(process.platform, caps, labRequirements(state.cluster.kubeProxy.mode));
  if (problems.length > 0) {
    throw new KnetError('EPERM', `this machine cannot run a lab: ${problems.join('; ')}`, { problems });
  }

  const filesDir = labFilesDir(name);
  const scripts = writeLabScripts(filesDir);
  const names = clusterNames(name);
  const etcd = labWantsEtcd(state) ? await startLabEtcd(name) : undefined;
  let plugin;
  try {
    plugin = labPlugin(state, etcd);
  } catch (e) {
    if (etcd !== undefined) await stopLabEtcd(etcd);
    throw e;
  }
  const base: Omit<LabState, 'pods' | 'echoServers' | 'nodes' | 'status'> = {
    version: 1,
    name,
    prefix,
    createdAt: new Date().toISOString(),
    pid: process.pid,
    cni: plugin.name,
    kubeProxy: state.cluster.kubeProxy.mode,
    manifests,
    fabric: names.fabric,
    outside: names.outside,
    ...(etcd !== undefined ? { etcd } : {}),
  };
  const nodes = Object.fromEntries(state.nodes.map((n) => [n.name, names.node(n.name)]));
  writeLabState({ ...base, status: 'building', nodes, pods: [], echoServers: [] });

  // Helpers kept per namespace while the lab is built: a pod's dozen commands start two programs, not a dozen.
  const runner = createResidentRunner();
  try {
    const host = createLinuxHost({ namespacePrefix: prefix, runner });
    const echoCount = new Set(
      state.pods
        .filter((p) => p.containers.some((c) => c.ports.some((x) => x.protocol !== 'SCTP')))
        .map((p) => (p.hostNetwork ? `node/${p.nodeName}` : `${p.namespace}/${p.name}`)),
    ).size;
    const proxyNodes = state.cluster.kubeProxy.mode === 'none' ? 0 : state.nodes.length;
    const total = state.nodes.length + state.pods.length + proxyNodes + echoCount;
    let done = 0;
    progress.step(done, total, `fabric ${base.fabric}`);
    const cluster = await buildCluster(state, plugin, host, {
      progress: (step) => progress.step(++done, total, step),
    });
    await installLabKubeProxy(cluster, host, (node) => progress.step(++done, total, `kube-proxy ${node}`));

    const echoServers: LabEchoServer[] = await mapLimit(echoPortsOf(cluster), o.concurrency ?? 8, async (ports) => {
      const server = await startEchoServer(scripts.echoServer, ports, join(filesDir, `${ports.netns}.log`));
      progress.step(++done, total, `echo server ${ports.netns.slice(prefix.length)} (tcp ${ports.tcp.join(',') || '-'}, udp ${ports.udp.join(',') || '-'})`);
      return server;
    });
    progress.end();
    const final: LabState = {
      ...base,
      status: 'up',
      nodes,
      pods: [...cluster.pods.values()].map((p) => ({ key: `${p.pod.namespace}/${p.pod.name}`, node: p.pod.nodeName, netns: p.netns, ip: p.ip, hostNetwork: p.pod.hostNetwork })),
      echoServers,
    };
    writeLabState(final);
    return { state: final, cluster, elapsedMs: performance.now() - t0 };
  } catch (e) {
    progress.end();
    await runner.close();
    await removeLab(name).catch(() => undefined);
    throw e;
  } finally {
    await runner.close();
  }
}
