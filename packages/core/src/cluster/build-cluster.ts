import { KnetError } from '../errors/knet-error.js';
import type { Host } from '../host/host.js';
import { cidrContains, formatIpv4, parseIpv4, parseIpv4Cidr } from '../ip/ipv4.js';
import { hashString } from '../util/seeded-rng.js';
import type { ClusterNode, ClusterPod, ClusterState } from './cluster-state.js';
import type { FabricContext, NetworkPlugin, NodeContext, PodNetworkResult } from './network-plugin.js';

/** Names of everything the builder creates, derived from one prefix (`knet-<cluster>`). */
export interface ClusterNames {
  readonly prefix: string;
  /** The fabric namespace: the nodes' L2 segment and its router. */
  readonly fabric: string;
  /** The namespace standing for the world outside the cluster, behind the fabric's uplink. */
  readonly outside: string;
  /** A node's host namespace. */
  node(name: string): string;
  /** A pod's sandbox namespace. */
  pod(namespace: string, name: string): string;
}

/** The fabric's fixed devices and the transit link to the outside world (RFC 5737 TEST-NET-1). */
export const FABRIC = {
  bridge: 'br0',
  uplink: 'uplink',
  /** The fabric end of the transit link. */
  uplinkAddress: '192.0.2.2/24',
  /** The outside world's end of the transit link (the fabric's default gateway). */
  outsideAddress: '192.0.2.1/24',
  outsideDev: 'eth0',
} as const;

/**
 * Network namespace names for a cluster: `knet-<cluster>-fabric`, `knet-<cluster>-outside`,
 * `knet-<cluster>-node-<node>`, `knet-<cluster>-pod-<namespace>-<pod>`. Lab and simulation use
 * the same names, so `ip netns list` and `knet show` agree.
 */
export function clusterNames(cluster: string): ClusterNames {
  const prefix = `knet-${cluster}`;
  return {
    prefix,
    fabric: `${prefix}-fabric`,
    outside: `${prefix}-outside`,
    node: (name) => `${prefix}-node-${name}`,
    pod: (namespace, name) => `${prefix}-pod-${namespace}-${name}`,
  };
}

/**
 * The fabric-side name of a node's uplink veth: `n-<node>` when that fits in 15 characters,
 * else `n-` plus 8 hex characters of a hash of the node name.
 */
export function fabricPortName(node: string): string {
  const plain = `n-${node}`;
  return plain.length <= 15 ? plain : `n-${hashString(node).toString(16).padStart(8, '0')}`;
}

/** A pod as built: where it lives and its address. */
export interface BuiltPod {
  readonly pod: ClusterPod;
  readonly netns: string;
  readonly ip: string;
  readonly result?: PodNetworkResult;
  readonly containerId: string;
}

/** A cluster built on a host: the state, the names, and every pod's address. */
export interface BuiltCluster {
  readonly state: ClusterState;
  readonly host: Host;
  readonly plugin: NetworkPlugin;
  readonly names: ClusterNames;
  /** The router address on the fabric bridge (the nodes' default gateway). */
  readonly routerIP: string;
  /** Pods by `namespace/name`. */
  readonly pods: ReadonlyMap<string, BuiltPod>;
  /** Nodes by name. */
  readonly nodes: ReadonlyMap<string, ClusterNode>;
}

/** Options of {@link buildCluster}. */
export interface BuildClusterOptions {
  /** Called after each step, for progress output (`node 3/10`). */
  readonly progress?: (step: string, done: number, total: number) => void;
  /** Open the pods' listening sockets (from containerPorts) in the simulation. Default true. */
  readonly listen?: (netns: string, pod: ClusterPod, ip: string) => Promise<void>;
}

/**
 * The sandbox id knet uses for a pod: 64 hex characters derived from its namespace and name,
 * shaped like a container runtime's sandbox id.
 */
export function podContainerId(pod: ClusterPod): string {
  let out = '';
  for (let i = 0; out.length < 64; i++) out += hashString(`${i}/${pod.namespace}/${pod.name}/${pod.uid ?? ''}`).toString(16).padStart(8, '0');
  return out.slice(0, 64);
}

/**
 * Builds a cluster on a host: the fabric (an L2 segment with a router and an uplink to the
 * outside), one namespace per node with its uplink, then the plugin's fabric, node and pod
 * setup, in that order.
 *
 * @remarks
 * Linux equivalent: what cloud networking, kubelet and the CNI plugin do to bring nodes and
 * pods up. The fabric router holds the first address of the fabric CIDR, as a VPC router or a
 * docker network gateway does (kind puts its nodes on 172.18.0.0/16 with gateway 172.18.0.1).
 * @throws KnetError from the plugin's `validate` (limits) and from the Host API.
 */
export async function buildCluster(
  state: ClusterState,
  plugin: NetworkPlugin,
  host: Host,
  options: BuildClusterOptions = {},
): Promise<BuiltCluster> {
  plugin.validate(state);
  const names = clusterNames(state.cluster.name);
  const fabric = state.cluster.fabric;
  const fabricCidr = parseIpv4Cidr(fabric.cidr);
  const router = formatIpv4(fabricCidr.address + 1);
  for (const n of state.nodes) {
    if (n.internalIP === router) {
      throw new KnetError('EINVAL', `node ${n.name} has the fabric router's address ${router}; choose another spec.fabric.cidr or node address`, {
        field: 'status.addresses',
        ...(n.source !== undefined ? { file: n.source.file, document: n.source.document } : {}),
      });
    }
    if (!cidrContains(fabricCidr, parseIpv4(n.internalIP))) {
      throw new KnetError('EINVAL', `node ${n.name} InternalIP ${n.internalIP} is outside the fabric ${fabric.cidr}`, {
        field: 'status.addresses',
        ...(n.source !== undefined ? { file: n.source.file, document: n.source.document } : {}),
      });
    }
  }
  const total = state.nodes.length + state.pods.length;
  let done = 0;

  // The outside world and the fabric.
  await host.netnsAdd(names.outside, { role: 'external' });
  await host.linkSet(names.outside, 'lo', { up: true });
  await host.netnsAdd(names.fabric, { role: 'fabric' });
  await host.linkSet(names.fabric, 'lo', { up: true });
  await host.linkAdd(names.fabric, { kind: 'bridge', name: FABRIC.bridge, mtu: fabric.mtu });
  await host.addrAdd(names.fabric, FABRIC.bridge, `${router}/${fabricCidr.prefix}`);
  await host.linkSet(names.fabric, FABRIC.bridge, { up: true });
  await host.linkAdd(names.fabric, { kind: 'veth', name: FABRIC.uplink, peer: { name: FABRIC.outsideDev, netns: names.outside } });
  await host.addrAdd(names.fabric, FABRIC.uplink, FABRIC.uplinkAddress);
  await host.linkSet(names.fabric, FABRIC.uplink, { up: true });
  await host.addrAdd(names.outside, FABRIC.outsideDev, FABRIC.outsideAddress);
  await host.linkSet(names.outside, FABRIC.outsideDev, { up: true });
  await host.sysctlSet(names.fabric, 'net.ipv4.ip_forward', '1');
  await host.routeAdd(names.fabric, { dst: 'default', via: FABRIC.outsideAddress.split('/')[0]! });
  // The outside world reaches the nodes' network through the fabric (node IPs are routable).
  await host.routeAdd(names.outside, { dst: fabric.cidr, via: FABRIC.uplinkAddress.split('/')[0]! });

  const fabricCtx: FabricContext = { host, cluster: state, netns: names.fabric, bridge: FABRIC.bridge, ...(fabric.cloud !== undefined ? { routerIP: router } : {}) };

  // Nodes and their uplinks.
  for (const n of state.nodes) {
    const ns = names.node(n.name);
    await host.netnsAdd(ns, { role: 'node', node: n.name });
    await host.linkSet(ns, 'lo', { up: true });
    const port = fabricPortName(n.name);
    await host.linkAdd(ns, { kind: 'veth', name: fabric.nodeInterface, mtu: fabric.mtu, peer: { name: port, netns: names.fabric } });
    await host.linkSet(names.fabric, port, { master: FABRIC.bridge, up: true });
    await host.addrAdd(ns, fabric.nodeInterface, `${n.internalIP}/${fabricCidr.prefix}`);
    await host.linkSet(ns, fabric.nodeInterface, { up: true });
    await host.routeAdd(ns, { dst: 'default', via: router, dev: fabric.nodeInterface });
  }
  // Service VIPs reachable from outside (LoadBalancer ingress IPs and externalIPs): the cloud
  // load balancer delivers them, destination unchanged, to a node (the first by name), as GCE's
  // network LB or MetalLB's L2 mode do; kube-proxy's KUBE-SERVICES rules take it from there.
  const vipNode = [...state.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))[0];
  if (vipNode !== undefined) {
    const vips = new Set<string>();
    for (const svc of state.services) for (const ip of [...svc.loadBalancerIPs, ...svc.externalIPs]) vips.add(ip);
    for (const ip of [...vips].sort()) {
      if (cidrContains(fabricCidr, parseIpv4(ip))) continue;
      await host.routeAdd(names.fabric, { dst: `${ip}/32`, via: vipNode.internalIP, proto: 'static' });
      await host.routeAdd(names.outside, { dst: `${ip}/32`, via: FABRIC.uplinkAddress.split('/')[0]!, proto: 'static' });
    }
  }
  if (plugin.setupFabric !== undefined) await plugin.setupFabric(fabricCtx);
  const nodeCtx = new Map<string, NodeContext>();
  for (const n of state.nodes) {
    const ctx: NodeContext = { host, cluster: state, node: n, netns: names.node(n.name), uplink: fabric.nodeInterface };
    nodeCtx.set(n.name, ctx);
    await plugin.setupNode(ctx);
    options.progress?.(`node ${n.name}`, ++done, total);
  }

  // Pods.
  const pods = new Map<string, BuiltPod>();
  for (const p of state.pods) {
    const key = `${p.namespace}/${p.name}`;
    const ctx = nodeCtx.get(p.nodeName)!;
    const containerId = podContainerId(p);
    if (p.hostNetwork) {
      pods.set(key, { pod: p, netns: ctx.netns, ip: ctx.node.internalIP, containerId });
      if (options.listen !== undefined) await options.listen(ctx.netns, p, ctx.node.internalIP);
    } else {
      const ns = names.pod(p.namespace, p.name);
      await host.netnsAdd(ns, { role: 'pod', node: p.nodeName, pod: key });
      const result = await plugin.addPod(ctx, { pod: p, netns: ns, containerId, ifname: 'eth0' });
      pods.set(key, { pod: p, netns: ns, ip: result.ip, result, containerId });
      if (options.listen !== undefined) await options.listen(ns, p, result.ip);
    }
    options.progress?.(`pod ${key}`, ++done, total);
  }
  return { state, host, plugin, names, routerIP: router, pods, nodes: new Map(state.nodes.map((n) => [n.name, n])) };
}
