import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildCluster,
  buildClusterState,
  createSimHost,
  KnetError,
  listenContainerPorts,
  loadExampleCluster,
  loadManifests,
  type BuiltCluster,
  type ClusterState,
  type ManifestInput,
  type NetworkPlugin,
  type SimHost,
} from '@knet/core';
import { installIptablesProxier, iptablesOptionsForNode } from '@knet/kube-proxy';
import { createKubenetPlugin, parseKubenetOptions } from '@knet/kubenet';
import { createFlannelPlugin, parseFlannelOptions } from '@knet/cni-flannel';
import { UsageError } from './cli-error.js';

/** The CNI plugins this CLI can compose, by `spec.cni.plugin` name. */
export const PLUGINS: Readonly<Record<string, (options: Readonly<Record<string, unknown>>) => NetworkPlugin>> = {
  kubenet: (options) => createKubenetPlugin(parseKubenetOptions(options)),
  flannel: (options) => createFlannelPlugin(parseFlannelOptions(options)),
};

/**
 * Reads `-f` arguments like kubectl: files, directories (their `.yaml`, `.yml` and `.json`
 * files, sorted), or `-` for standard input.
 */
export function readInputs(files: readonly string[]): ManifestInput[] {
  const out: ManifestInput[] = [];
  for (const f of files) {
    if (f === '-') {
      out.push({ file: '<stdin>', text: readFileSync(0, 'utf8') });
      continue;
    }
    let st;
    try {
      st = statSync(f);
    } catch {
      throw new KnetError('ENOENT', `cannot read "${f}": no such file or directory`, { file: f });
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(f).sort()) {
        if (/\.(ya?ml|json)$/.test(name)) out.push({ file: join(f, name), text: readFileSync(join(f, name), 'utf8') });
      }
    } else {
      out.push({ file: f, text: readFileSync(f, 'utf8') });
    }
  }
  return out;
}

/** Loads and validates the cluster from `-f` files, or the embedded example without them. */
export function loadState(files: readonly string[]): ClusterState {
  const loaded = files.length === 0 ? loadExampleCluster() : loadManifests(readInputs(files));
  return buildClusterState(loaded);
}

/** Warnings of a loaded cluster as `knet: warning: FILE: document N: FIELD: message` lines. */
export function formatWarnings(state: ClusterState): string {
  return state.warnings
    .map((w) => `knet: warning: ${w.file}: document ${w.document}${w.field !== undefined ? `: ${w.field}` : ''}: ${w.message}\n`)
    .join('');
}

/** Picks the plugin: `--cni` over `spec.cni.plugin`. */
export function pickPlugin(state: ClusterState, cni: string | undefined): NetworkPlugin {
  const name = cni ?? state.cluster.cni.plugin;
  const make = PLUGINS[name];
  if (make === undefined) {
    throw new UsageError(`unknown CNI "${name}" (available: ${Object.keys(PLUGINS).join(', ')})`);
  }
  return make(cni !== undefined && cni !== state.cluster.cni.plugin ? {} : state.cluster.cni.options);
}

/** Builds the cluster on a fresh simulated kernel, pods listening on their containerPorts. */
export async function buildSim(state: ClusterState, plugin: NetworkPlugin, seed: number): Promise<{ host: SimHost; cluster: BuiltCluster }> {
  const host = createSimHost({ seed });
  const cluster = await buildCluster(state, plugin, host, {
    listen: async (netns, pod) => listenContainerPorts(host, netns, pod),
  });
  await installKubeProxy(cluster, host);
  return { host, cluster };
}

/**
 * Runs kube-proxy on every node in the cluster's mode (`spec.kubeProxy.mode`). nfacct counters
 * are not created on simulated nodes, so kube-proxy references none (as it does on a kernel
 * without nfacct).
 * @throws UsageError for a mode knet does not implement yet.
 */
export async function installKubeProxy(cluster: BuiltCluster, host: SimHost): Promise<void> {
  const mode = cluster.state.cluster.kubeProxy.mode;
  if (mode === 'none') return;
  if (mode !== 'iptables') throw new UsageError(`kube-proxy mode "${mode}" is not available in knet yet (available: iptables, none)`);
  for (const n of cluster.state.nodes) {
    await installIptablesProxier(host, cluster.names.node(n.name), cluster.state, { ...iptablesOptionsForNode(cluster.state, n.name), nfacct: false });
  }
}
