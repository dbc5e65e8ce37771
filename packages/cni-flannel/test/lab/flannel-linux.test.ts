/**
 * flannel on the real kernel (LinuxHost, namespaces knet-fl<pid>-...):
 * - the example cluster with flannel's vxlan backend leaves the same kernel state in every
 *   namespace as the simulation (links, addresses, routes, neighbours, FDB), and pods ping each
 *   other across nodes through real VXLAN;
 * - with a real etcd: a flanneld that restarts keeps its subnet and flannel.1's MAC in the kernel,
 *   and a stopped node's lease is freed after its TTL, after which the other nodes' kernels lose
 *   their route, neighbour and FDB entries to it.
 *
 * Runs as root with iproute2, ethtool, ping, the veth, bridge, vxlan and br_netfilter kernel
 * features (and etcd for the second part); skips with the reason printed otherwise. Every
 * namespace is deleted afterwards.
 */
import { spawnSync } from 'node:child_process';
import {
  EXAMPLE_CLUSTER_FILE,
  EXAMPLE_CLUSTER_YAML,
  buildCluster,
  buildClusterState,
  createSimHost,
  formatIpv4Cidr,
  loadManifests,
  type BuiltCluster,
  type NodeContext,
} from '@knet/core';
import { cleanupNamespaces, createLinuxHost, findEtcdBinary, startEtcdServer, type EtcdServer } from '@knet/core/linux';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseStates, readStates } from '../../../core/test/lab/host-state.js';
import { labSkipReason } from '../../../core/test/lab/lab-env.js';
import { createFlannelPlugin } from '../../src/index.js';

const { reason } = await labSkipReason(['ip', 'bridge', 'ethtool', 'ping'], ['veth', 'bridge', 'vxlan', 'br_netfilter']);
if (reason !== undefined) console.warn(`skipping flannel on LinuxHost: ${reason}`);
const etcdReason = reason ?? (findEtcdBinary() === undefined ? 'etcd is not installed (apt-get install etcd-server)' : undefined);
if (reason === undefined && etcdReason !== undefined) console.warn(`skipping flannel with a real etcd on LinuxHost: ${etcdReason}`);

const CLUSTER = `fl${process.pid}`;
const PREFIX = `knet-${CLUSTER}-`;

function ping(ns: string, ip: string): boolean {
  return spawnSync('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '2', ip], { encoding: 'utf8' }).status === 0;
}

describe.skipIf(reason !== undefined)('flannel vxlan on the real kernel and in the simulation', () => {
  const yaml = EXAMPLE_CLUSTER_YAML.replace(/^ {2}name: example$/m, `  name: ${CLUSTER}`).replace('  cni:\n    plugin: kubenet\n', '  cni:\n    plugin: flannel\n');
  const state = buildClusterState(loadManifests([{ file: EXAMPLE_CLUSTER_FILE, text: yaml }]));
  const host = createLinuxHost({ namespacePrefix: PREFIX });
  const sim = createSimHost({ seed: 1 });
  let real: BuiltCluster;

  beforeAll(async () => {
    await cleanupNamespaces(PREFIX);
    await buildCluster(state, createFlannelPlugin(), sim);
    real = await buildCluster(state, createFlannelPlugin(), host);
  }, 120_000);

  afterAll(async () => {
    await cleanupNamespaces(PREFIX);
  });

  it('leaves the same kernel state in every namespace', async () => {
    const all = await host.netnsList();
    for (const ns of all) await host.settle(ns);
    const realState = normaliseStates(await readStates(host, all));
    const simState = normaliseStates(await readStates(sim, all));
    for (const ns of all) {
      const r = realState.get(ns)!;
      const s = simState.get(ns)!;
      expect({ ns, links: r.links }).toEqual({ ns, links: s.links });
      expect({ ns, addrs: r.addrs }).toEqual({ ns, addrs: s.addrs });
      expect({ ns, routes: r.routes }).toEqual({ ns, routes: s.routes });
      expect({ ns, neighs: r.neighs }).toEqual({ ns, neighs: s.neighs });
      expect({ ns, fdb: r.fdb }).toEqual({ ns, fdb: s.fdb });
    }
  });

  it('carries pings between pods on different nodes through flannel.1', () => {
    const client = real.pods.get('default/client')!;
    for (const target of ['shop/cart-5d8b9c7f6-hv4nx', 'shop/db-0']) expect([target, ping(client.netns, real.pods.get(target)!.ip)]).toEqual([target, true]);
  });
});

const SMALL = `apiVersion: knet.dev/v1alpha1
kind: KnetCluster
metadata: {name: ${CLUSTER}e}
spec:
  cni: {plugin: flannel}
  kubeProxy: {mode: none}
${[1, 2, 3]
  .map(
    (i) => `---
apiVersion: v1
kind: Node
metadata: {name: node-${i}}
status:
  addresses: [{type: InternalIP, address: 172.18.0.${i + 1}}]
---
apiVersion: v1
kind: Pod
metadata: {name: p${i}, namespace: default}
spec:
  nodeName: node-${i}
  containers: [{name: c, image: busybox}]`,
  )
  .join('\n')}
`;

describe.skipIf(etcdReason !== undefined)('flannel with a real etcd on the real kernel', () => {
  const prefix = `knet-${CLUSTER}e-`;
  const host = createLinuxHost({ namespacePrefix: prefix });
  let server: EtcdServer;
  let cluster: BuiltCluster;
  let flannel: ReturnType<typeof createFlannelPlugin>;
  const ctx = (node: string): NodeContext => ({ host, cluster: cluster.state, node: cluster.nodes.get(node)!, netns: cluster.names.node(node), uplink: 'eth0' });

  beforeAll(async () => {
    await cleanupNamespaces(prefix);
    server = await startEtcdServer();
    flannel = createFlannelPlugin({ subnetManager: 'etcd', etcdEndpoints: server.endpoints, subnetTtlSeconds: 2, seed: 'linux' });
    cluster = await buildCluster(buildClusterState(loadManifests([{ file: 'small.yaml', text: SMALL }])), flannel, host);
  }, 120_000);

  afterAll(async () => {
    await cleanupNamespaces(prefix);
    await server?.stop();
  });

  it('gives a restarted flanneld its subnet back and keeps flannel.1 (and its MAC) in the kernel', async () => {
    const ns = cluster.names.node('node-2');
    const before = flannel.agent('node-2')!.lease!.subnet;
    const mac = (await host.linkList(ns)).find((l) => l.name === 'flannel.1')!.mac;
    const agent = await flannel.restartAgent(ctx('node-2'));
    expect(agent.lease!.subnet).toEqual(before);
    expect((await host.linkList(ns)).find((l) => l.name === 'flannel.1')!.mac).toBe(mac);
    expect(ping(cluster.pods.get('default/p1')!.netns, cluster.pods.get('default/p2')!.ip)).toBe(true);
  });

  it('frees a stopped node\'s lease after its TTL; the other kernels lose their route, neighbour and FDB entry to it', async () => {
    const gone = flannel.agent('node-3')!.lease!.subnet;
    const goneText = formatIpv4Cidr(gone);
    const node1 = cluster.names.node('node-1');
    const macOf3 = (await host.linkList(cluster.names.node('node-3'))).find((l) => l.name === 'flannel.1')!.mac;
    expect((await host.routeList(node1)).some((r) => r.dst === goneText)).toBe(true);
    flannel.stopAgent('node-3');
    for (let i = 0; i < 10; i++) {
      for (const n of ['node-1', 'node-2']) await flannel.agent(n)!.renewIfDue();
      await new Promise((r) => setTimeout(r, 500));
    }
    const events = await flannel.sync();
    expect(events.get('node-1')?.map((e) => [e.type, formatIpv4Cidr(e.lease.subnet)])).toEqual([['removed', goneText]]);
    expect((await host.routeList(node1)).some((r) => r.dst === goneText)).toBe(false);
    expect((await host.neighList(node1)).some((n) => n.dev === 'flannel.1' && n.dst === goneText.split('/')[0])).toBe(false);
    expect((await host.fdbList(node1)).some((f) => f.mac === macOf3)).toBe(false);
  }, 30_000);
});
