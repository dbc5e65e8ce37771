import { formatIpv4, formatIpv4Cidr, nthSubnet, parseIpv4Cidr } from '@knet/core';
import type {
  CloudRouteTableSpec,
  ClusterNode,
  ClusterPod,
  ClusterState,
  Host,
  NetworkPlugin,
  NodeContext,
  PodAttachment,
  PodNetworkResult,
} from '@knet/core';

/** Test scaffolding: a cluster of `nodes` nodes named node-1..node-N. */
export interface ClusterFixtureOptions {
  readonly nodes: number;
  readonly cloud?: CloudRouteTableSpec;
  /** Default 10.244.0.0/16 (kube-flannel's and kubeadm docs' cluster CIDR); /9 for big clusters. */
  readonly clusterCIDR?: string;
  readonly nodeCIDRMaskSize?: number;
  readonly pods?: readonly ClusterPod[];
  /** Default 192.168.0.0/16; node-i gets .0.10+i. */
  readonly fabricCIDR?: string;
}

/** A ClusterState as core's loader would produce it (defaults applied). */
export function makeCluster(o: ClusterFixtureOptions): ClusterState {
  const clusterCIDR = o.clusterCIDR ?? (o.nodes > 256 ? '10.128.0.0/9' : '10.244.0.0/16');
  const mask = o.nodeCIDRMaskSize ?? 24;
  const fabricCIDR = o.fabricCIDR ?? '192.168.0.0/16';
  const fabric = parseIpv4Cidr(fabricCIDR);
  const parent = parseIpv4Cidr(clusterCIDR);
  const nodes: ClusterNode[] = [];
  for (let i = 1; i <= o.nodes; i++) {
    nodes.push({
      name: `node-${i}`,
      labels: {},
      internalIP: formatIpv4(fabric.address + 10 + i),
      podCIDR: formatIpv4Cidr(nthSubnet(parent, mask, i - 1)),
      podCIDRAllocated: true,
      source: { file: 'nodes.yaml', document: i - 1 },
    });
  }
  return {
    cluster: {
      name: 't',
      clusterCIDR,
      serviceCIDR: '10.96.0.0/12',
      nodeCIDRMaskSize: mask,
      cni: { plugin: 'kubenet', options: {} },
      kubeProxy: { mode: 'iptables' },
      fabric: { cidr: fabricCIDR, mtu: 1500, nodeInterface: 'eth0', ...(o.cloud !== undefined ? { cloud: o.cloud } : {}) },
    },
    namespaces: [{ name: 'default', labels: {} }],
    nodes,
    pods: o.pods ?? [],
    services: [],
    endpointSlices: [],
    networkPolicies: [],
    warnings: [],
  };
}

/** A pod on a node. */
export function makePod(name: string, nodeName: string, extra: Partial<ClusterPod> = {}): ClusterPod {
  return {
    namespace: 'default',
    name,
    labels: {},
    nodeName,
    hostNetwork: false,
    containers: [{ name: 'c', ports: [] }],
    source: { file: 'pods.yaml', document: 0 },
    ...extra,
  };
}

/** Namespace names, as core's cluster builder spells them. */
export const names = {
  fabric: 'knet-t-fabric',
  node: (n: string): string => `knet-t-node-${n}`,
  pod: (ns: string, name: string): string => `knet-t-pod-${ns}-${name}`,
};

/** The fabric bridge. */
export const FABRIC_BRIDGE = 'br0';

/**
 * Builds what core's cluster builder builds before the plugin runs: a fabric namespace with a
 * bridge holding the router (first address of the fabric CIDR), and per node a namespace with
 * `lo` up, the uplink `eth0` (a veth whose other end is a port of the fabric bridge) carrying the
 * InternalIP, and a default route via the router.
 */
export async function buildUnderlay(host: Host, state: ClusterState): Promise<{ routerIP: string }> {
  const f = state.cluster.fabric;
  const cidr = parseIpv4Cidr(f.cidr);
  const router = formatIpv4(cidr.address + 1);
  await host.netnsAdd(names.fabric, { role: 'fabric' });
  await host.linkSet(names.fabric, 'lo', { up: true });
  await host.linkAdd(names.fabric, { kind: 'bridge', name: FABRIC_BRIDGE, mtu: f.mtu });
  await host.addrAdd(names.fabric, FABRIC_BRIDGE, `${router}/${cidr.prefix}`);
  await host.linkSet(names.fabric, FABRIC_BRIDGE, { up: true });
  await host.sysctlSet(names.fabric, 'net.ipv4.ip_forward', '1');
  for (const [i, n] of state.nodes.entries()) {
    const ns = names.node(n.name);
    await host.netnsAdd(ns, { role: 'node', node: n.name });
    await host.linkSet(ns, 'lo', { up: true });
    const port = `n-${i + 1}`;
    await host.linkAdd(ns, { kind: 'veth', name: f.nodeInterface, mtu: f.mtu, peer: { name: port, netns: names.fabric } });
    await host.linkSet(names.fabric, port, { master: FABRIC_BRIDGE, up: true });
    await host.addrAdd(ns, f.nodeInterface, `${n.internalIP}/${cidr.prefix}`);
    await host.linkSet(ns, f.nodeInterface, { up: true });
    await host.routeAdd(ns, { dst: 'default', via: router, dev: f.nodeInterface });
  }
  return { routerIP: router };
}

/** The NodeContext core's builder passes for a node. */
export function nodeContext(host: Host, state: ClusterState, nodeName: string): NodeContext {
  const node = state.nodes.find((n) => n.name === nodeName);
  if (node === undefined) throw new Error(`no node ${nodeName}`);
  return { host, cluster: state, node, netns: names.node(nodeName), uplink: state.cluster.fabric.nodeInterface };
}

/** Validates, then runs setupFabric and setupNode for every node, as core's builder does. */
export async function setupCluster(host: Host, state: ClusterState, plugin: NetworkPlugin): Promise<{ routerIP: string }> {
  plugin.validate(state);
  const { routerIP } = await buildUnderlay(host, state);
  if (plugin.setupFabric !== undefined) {
    await plugin.setupFabric({
      host,
      cluster: state,
      netns: names.fabric,
      bridge: FABRIC_BRIDGE,
      ...(state.cluster.fabric.cloud !== undefined ? { routerIP } : {}),
    });
  }
  for (const n of state.nodes) await plugin.setupNode(nodeContext(host, state, n.name));
  return { routerIP };
}

/** The attachment core's builder makes for a pod (sandbox namespace created, `lo` down). */
export function attachment(pod: ClusterPod, containerId = `cid-${pod.name}`): PodAttachment {
  return { pod, netns: names.pod(pod.namespace, pod.name), containerId, ifname: 'eth0' };
}

/** Creates the pod's sandbox namespace and attaches the pod. */
export async function addPod(host: Host, state: ClusterState, plugin: NetworkPlugin, pod: ClusterPod, containerId?: string): Promise<PodNetworkResult> {
  const a = attachment(pod, containerId);
  if (!(await host.netnsExists(a.netns))) await host.netnsAdd(a.netns, { role: 'pod', node: pod.nodeName, pod: `${pod.namespace}/${pod.name}` });
  return plugin.addPod(nodeContext(host, state, pod.nodeName), a);
}
