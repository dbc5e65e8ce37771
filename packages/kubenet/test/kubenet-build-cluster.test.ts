import { buildCluster, createSimHost, isKnetError } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { createKubenetPlugin } from '../src/kubenet-plugin.js';
import { makeCluster, makePod } from './sim-cluster.js';

describe("kubenet through core's buildCluster", () => {
  it('attaches every pod of the cluster and routes pod CIDRs between nodes', async () => {
    const pods = [makePod('a', 'node-1'), makePod('b', 'node-1'), makePod('c', 'node-2'), makePod('d', 'node-3', { podIP: '10.244.2.50' })];
    const state = makeCluster({ nodes: 3, pods });
    const host = createSimHost({ seed: 9 });
    const built = await buildCluster(state, createKubenetPlugin(), host);
    expect([...built.pods.values()].map((p) => [p.pod.name, p.ip])).toEqual([
      ['a', '10.244.0.2'],
      ['b', '10.244.0.3'],
      ['c', '10.244.1.2'],
      ['d', '10.244.2.50'],
    ]);
    const n1 = built.names.node('node-1');
    const routes = (await host.routeList(n1)).filter((r) => r.protocol === 'static').map((r) => `${r.dst} via ${r.gateway} dev ${r.dev}`);
    expect(routes).toEqual(['10.244.1.0/24 via 192.168.0.12 dev eth0', '10.244.2.0/24 via 192.168.0.13 dev eth0']);
    const podNs = built.pods.get('default/c')!.netns;
    expect((await host.addrList(podNs)).find((a) => a.dev === 'eth0')).toMatchObject({ local: '10.244.1.2', prefixlen: 24 });
  });

  it('puts the pod routes in the cloud route table of the fabric', async () => {
    const state = makeCluster({ nodes: 2, cloud: { provider: 'azure', routeLimit: 400 }, pods: [makePod('a', 'node-2')] });
    const host = createSimHost();
    const built = await buildCluster(state, createKubenetPlugin(), host);
    const fabric = (await host.routeList(built.names.fabric)).filter((r) => r.protocol === 'static');
    expect(fabric.map((r) => `${r.dst} via ${r.gateway} dev ${r.dev}`)).toEqual([
      '10.244.0.0/24 via 192.168.0.11 dev br0',
      '10.244.1.0/24 via 192.168.0.12 dev br0',
    ]);
    expect((await host.routeList(built.names.node('node-1'))).filter((r) => r.protocol === 'static')).toEqual([]);
  });

  it('refuses to build past the cloud route limit', async () => {
    const state = makeCluster({ nodes: 51, cloud: { provider: 'aws', routeLimit: 50 } });
    let err: unknown;
    try {
      await buildCluster(state, createKubenetPlugin(), createSimHost());
    } catch (e) {
      err = e;
    }
    expect(isKnetError(err, 'ELIMIT')).toBe(true);
  });
});
