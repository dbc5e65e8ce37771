import {
  formatBridgeFdb,
  formatIpAddr,
  formatIpLink,
  formatIpNeigh,
  formatIpRoute,
  KnetError,
  type BuiltCluster,
  type SimHost,
} from '@knet/core';
import { UsageError } from '../cli-error.js';
import { buildSim, formatWarnings, loadState, pickPlugin } from '../load-cluster.js';

/** What `knet show` can print, and the command each one imitates. */
export const SHOW_OBJECTS = ['link', 'addr', 'route', 'neigh', 'fdb', 'iptables', 'ipset', 'conntrack'] as const;

/** Options of `knet show`. */
export interface ShowCommandOptions {
  readonly target: string;
  readonly object: string;
  readonly files: readonly string[];
  readonly cni?: string;
  readonly output: string;
  readonly seed: number;
}

/** Finds the namespace of `NODE`, `node/NODE`, `NS/POD`, `fabric` or `outside`. */
export function targetNetns(cluster: BuiltCluster, target: string): string {
  if (target === 'fabric') return cluster.names.fabric;
  if (target === 'outside') return cluster.names.outside;
  const node = target.startsWith('node/') ? target.slice(5) : target;
  if (cluster.nodes.has(node)) return cluster.names.node(node);
  const key = target.includes('/') ? target : `default/${target}`;
  const pod = cluster.pods.get(key);
  if (pod !== undefined) return pod.netns;
  throw new KnetError('ENOENT', `no node or pod "${target}" in the cluster (nodes: ${[...cluster.nodes.keys()].join(', ')})`, { value: target });
}

/**
 * Prints what `ip link|addr|route|neigh`, `bridge fdb` (with `-j` for JSON), `iptables-save`,
 * `ipset save` or `conntrack -L` would print in a namespace.
 */
export async function renderShow(host: SimHost, netns: string, object: string, json: boolean): Promise<string> {
  const links = await host.linkList(netns);
  switch (object) {
    case 'link':
      return formatIpLink(links, { json });
    case 'addr':
      return formatIpAddr(links, await host.addrList(netns), { json });
    case 'route':
      return formatIpRoute(await host.routeList(netns), { json, links });
    case 'neigh':
      return formatIpNeigh(await host.neighList(netns), { json });
    case 'fdb':
      return formatBridgeFdb(await host.fdbList(netns), { json });
    case 'iptables':
      if (json) throw new UsageError('iptables has no JSON form (iptables-save prints text)');
      return host.iptablesSave(netns);
    case 'ipset':
      if (json) throw new UsageError('ipset save has no JSON form');
      return host.ipsetSave(netns);
    case 'conntrack':
      if (json) throw new UsageError('conntrack -L has no JSON form');
      return host.conntrackList(netns);
    default:
      throw new UsageError(`unknown object "${object}" (one of ${SHOW_OBJECTS.join(', ')})`);
  }
}

/** `knet show NODE|NS/POD [link|addr|route|neigh|fdb]`. */
export async function showCommand(o: ShowCommandOptions): Promise<{ out: string; err: string }> {
  if (o.output !== 'text' && o.output !== 'json') throw new UsageError(`-o must be text or json, not "${o.output}"`);
  if (!(SHOW_OBJECTS as readonly string[]).includes(o.object)) throw new UsageError(`unknown object "${o.object}" (one of ${SHOW_OBJECTS.join(', ')})`);
  const state = loadState(o.files);
  const { host, cluster } = await buildSim(state, pickPlugin(state, o.cni), o.seed);
  const out = await renderShow(host, targetNetns(cluster, o.target), o.object, o.output === 'json');
  return { out: out.endsWith('\n') || out === '' ? out : `${out}\n`, err: formatWarnings(state) };
}
