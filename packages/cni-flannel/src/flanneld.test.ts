import { buildCluster, buildClusterState, createSimHost, loadExampleCluster, type BuiltCluster, type NodeContext, type SimHost } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { createFlannelPlugin, type FlannelPlugin } from './flannel-plugin.js';

async function build(): Promise<{ host: SimHost; cluster: BuiltCluster; flannel: FlannelPlugin; ctx: (node: string) => NodeContext }> {
  const host = createSimHost({ seed: 7 });
  const flannel = createFlannelPlugin();
  const cluster = await buildCluster(buildClusterState(loadExampleCluster()), flannel, host);
  const ctx = (node: string): NodeContext => ({ host, cluster: cluster.state, node: cluster.nodes.get(node)!, netns: cluster.names.node(node), uplink: 'eth0' });
  return { host, cluster, flannel, ctx };
}

describe('createFlanneld (kube subnet manager)', () => {
  it('keeps flannel.1 and its MAC when flanneld restarts, and leaves one set of rules and entries', async () => {
    const { host, flannel, ctx } = await build();
    const ns = 'knet-example-node-node-2';
    const before = { mac: host.link(ns, 'flannel.1').mac, routes: await host.routeList(ns), fdb: await host.fdbList(ns), rules: await host.iptablesSave(ns) };
    const agent = await flannel.restartAgent(ctx('node-2'));
    expect(agent.lease?.subnet).toEqual({ address: 0x0af40100, prefix: 24 });
    expect(host.link(ns, 'flannel.1').mac).toBe(before.mac);
    expect(await host.routeList(ns)).toEqual(before.routes);
    expect(await host.fdbList(ns)).toEqual(before.fdb);
    expect(await host.iptablesSave(ns)).toBe(before.rules);
    expect(agent.remoteLeases.map((l) => l.attrs.publicIP).sort()).toEqual(['172.18.0.2', '172.18.0.4']);
  });

  it('recreates flannel.1 with the MAC stored in the node\'s backend-data annotation after the device is gone (a reboot)', async () => {
    const { host, flannel, ctx } = await build();
    const ns = 'knet-example-node-node-2';
    const mac = host.link(ns, 'flannel.1').mac;
    await host.linkDel(ns, 'flannel.1');
    await flannel.restartAgent(ctx('node-2'));
    expect(host.link(ns, 'flannel.1').mac).toBe(mac);
    expect((await host.routeList(ns)).filter((r) => r.dev === 'flannel.1' && r.table === 'main').map((r) => r.dst)).toEqual(['10.244.0.0/24', '10.244.2.0/24']);
  });

  it('replaces a flannel.1 whose VNI differs from the config', async () => {
    const { host, flannel, ctx } = await build();
    const ns = 'knet-example-node-node-2';
    await host.linkDel(ns, 'flannel.1');
    await host.linkAdd(ns, { kind: 'vxlan', name: 'flannel.1', id: 42, dev: 'eth0', local: '172.18.0.3', port: 8472, learning: false });
    await flannel.restartAgent(ctx('node-2'));
    expect((await host.linkList(ns)).find((l) => l.name === 'flannel.1')?.vxlan?.id).toBe(1);
  });

  it('does not renew in kube mode (no TTL there), and lets other nodes see a node\'s lease go when it leaves', async () => {
    const { host, flannel } = await build();
    expect(await flannel.agent('node-1')!.renewIfDue()).toBe(false);
    // kube mode: a removed Node takes its annotations with it; the others drop their entries at the next watch reset.
    const nodes = flannel.kubeNodes!;
    await nodes.patchAnnotations('node-3', { 'flannel.alpha.coreos.com/kube-subnet-manager': 'false' });
    flannel.stopAgent('node-3');
    const events = await flannel.sync();
    expect(events.get('node-1')?.map((e) => e.type)).toEqual(['removed']);
    expect((await host.routeList('knet-example-node-node-1')).some((r) => r.dst === '10.244.2.0/24')).toBe(false);
  });
});
