import { createSimHost, isKnetError } from '@knet/core';
import type { CloudRouteTableSpec, RouteInfo, SimHost } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { createKubenetPlugin } from '../src/kubenet-plugin.js';
import type { KubenetOptions } from '../src/kubenet-options.js';
import { FABRIC_BRIDGE, addPod, attachment, buildUnderlay, makeCluster, makePod, names, nodeContext, setupCluster } from './sim-cluster.js';

/** Routes a plugin or operator installed (not the kernel's own). */
function staticRoutes(routes: RouteInfo[]): { dst: string; gateway?: string; dev?: string }[] {
  return routes
    .filter((r) => r.protocol === 'static')
    .map((r) => ({ dst: r.dst, ...(r.gateway !== undefined ? { gateway: r.gateway } : {}), ...(r.dev !== undefined ? { dev: r.dev } : {}) }));
}

async function cluster(nodes: number, options: KubenetOptions = {}, cloud?: CloudRouteTableSpec) {
  const host = createSimHost({ seed: 3 });
  const state = makeCluster({ nodes, ...(cloud !== undefined ? { cloud } : {}) });
  const plugin = createKubenetPlugin(options);
  const { routerIP } = await setupCluster(host, state, plugin);
  return { host, state, plugin, routerIP };
}

describe('kubenet on SimHost', () => {
  it('builds cbr0 with the gateway, a pinned MAC, forwarding and br_netfilter on every node', async () => {
    const { host } = await cluster(3);
    for (const [node, gw] of [['node-1', '10.244.0.1'], ['node-2', '10.244.1.1'], ['node-3', '10.244.2.1']] as const) {
      const ns = names.node(node);
      const cbr0 = (await host.linkList(ns)).find((l) => l.name === 'cbr0');
      expect(cbr0).toMatchObject({ kind: 'bridge', up: true, mtu: 1500, promisc: true });
      expect((await host.addrList(ns)).filter((a) => a.dev === 'cbr0').map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${gw}/24`]);
      expect(await host.sysctlGet(ns, 'net.ipv4.ip_forward')).toBe('1');
      expect(await host.sysctlGet(ns, 'net.bridge.bridge-nf-call-iptables')).toBe('1');
      // The connected route of the gateway address: how the node reaches its own pods.
      expect((await host.routeList(ns)).find((r) => r.dev === 'cbr0' && r.protocol === 'kernel' && r.table === 'main')).toMatchObject({
        dst: gw.replace(/1$/, '0') + '/24',
        scope: 'link',
        prefsrc: gw,
      });
    }
  });

  it('installs a route to every other node pod CIDR via its InternalIP when there is no cloud route table', async () => {
    const { host } = await cluster(4);
    const want: Record<string, { dst: string; gateway: string; dev: string }[]> = {};
    const all = [
      ['node-1', '10.244.0.0/24', '192.168.0.11'],
      ['node-2', '10.244.1.0/24', '192.168.0.12'],
      ['node-3', '10.244.2.0/24', '192.168.0.13'],
      ['node-4', '10.244.3.0/24', '192.168.0.14'],
    ] as const;
    for (const [n] of all) want[n] = all.filter(([o]) => o !== n).map(([, dst, gateway]) => ({ dst, gateway, dev: 'eth0' }));
    for (const [n] of all) expect(staticRoutes(await host.routeList(names.node(n)))).toEqual(want[n]);
    // The fabric has no cloud route table: nothing there.
    expect(staticRoutes(await host.routeList(names.fabric))).toEqual([]);
  });

  it('with a cloud route table puts one route per node in the fabric and none on the nodes', async () => {
    const { host, routerIP } = await cluster(3, {}, { provider: 'aws', routeLimit: 50 });
    expect(routerIP).toBe('192.168.0.1');
    expect(staticRoutes(await host.routeList(names.fabric))).toEqual([
      { dst: '10.244.0.0/24', gateway: '192.168.0.11', dev: FABRIC_BRIDGE },
      { dst: '10.244.1.0/24', gateway: '192.168.0.12', dev: FABRIC_BRIDGE },
      { dst: '10.244.2.0/24', gateway: '192.168.0.13', dev: FABRIC_BRIDGE },
    ]);
    for (const n of ['node-1', 'node-2', 'node-3']) {
      const routes = await host.routeList(names.node(n));
      expect(staticRoutes(routes)).toEqual([]);
      // Other nodes' pods are reached through the default route to the router.
      expect(routes.find((r) => r.dst === 'default')).toMatchObject({ gateway: '192.168.0.1', dev: 'eth0' });
    }
  });

  it.each<[string, number, CloudRouteTableSpec, string | undefined, number | undefined]>([
    ['AWS default: 51 nodes', 51, { provider: 'aws', routeLimit: 50 }, 'ELIMIT', 50],
    ['AWS raised: 1000 nodes', 1000, { provider: 'aws', routeLimit: 1000 }, undefined, undefined],
    ['AWS raised: 1001 nodes', 1001, { provider: 'aws', routeLimit: 1000 }, 'ELIMIT', 1000],
    ['Azure: 401 nodes', 401, { provider: 'azure', routeLimit: 400 }, 'ELIMIT', 400],
  ])('validate: %s', (_name, nodes, cloud, code, limit) => {
    const state = makeCluster({ nodes, cloud });
    let err: unknown;
    try {
      createKubenetPlugin().validate(state);
    } catch (e) {
      err = e;
    }
    if (code === undefined) {
      expect(err).toBeUndefined();
    } else {
      expect(isKnetError(err, 'ELIMIT')).toBe(true);
      expect((err as { details: unknown }).details).toEqual({
        field: 'spec.fabric.cloud.routeLimit',
        provider: cloud.provider,
        limit,
        routes: nodes,
      });
    }
  });

  it('attaches a pod: eth0 with its address and default route, lo up, host veth on cbr0', async () => {
    const { host, state, plugin } = await cluster(2);
    const r = await addPod(host, state, plugin, makePod('web', 'node-2'));
    const P = names.pod('default', 'web');
    const N = names.node('node-2');
    expect(r).toMatchObject({ ip: '10.244.1.2', prefixlen: 24, gateway: '10.244.1.1' });

    const podLinks = await host.linkList(P);
    expect(podLinks.map((l) => [l.name, l.kind, l.up, l.mtu])).toEqual([
      ['lo', 'loopback', true, 65536],
      ['eth0', 'veth', true, 1500],
    ]);
    expect((await host.addrList(P)).map((a) => [a.dev, `${a.local}/${a.prefixlen}`])).toEqual([
      ['lo', '127.0.0.1/8'],
      ['eth0', '10.244.1.2/24'],
    ]);
    const podRoutes = (await host.routeList(P)).filter((r) => r.table === 'main');
    expect(podRoutes.map((x) => [x.dst, x.gateway ?? null, x.dev, x.protocol])).toEqual([
      ['default', '10.244.1.1', 'eth0', 'boot'],
      ['10.244.1.0/24', null, 'eth0', 'kernel'],
    ]);

    const hostVeth = (await host.linkList(N)).find((l) => l.name === r.hostIfname);
    expect(hostVeth).toMatchObject({ kind: 'veth', up: true, operstate: 'UP', master: 'cbr0', mtu: 1500, peer: { netns: P } });
    expect(hostVeth?.bridgePort?.hairpin).toBe(false);
    expect(await host.sysctlGet(P, 'net.ipv4.conf.eth0.arp_notify')).toBe('1');
    expect(await host.sysctlGet(N, `net.ipv6.conf.${r.hostIfname}.accept_ra`)).toBe('0');
  });

  it.each<[KubenetOptions['hairpinMode'], boolean, boolean]>([
    ['promiscuous-bridge', true, false],
    ['hairpin-veth', false, true],
    ['none', false, false],
  ])('hairpin mode %s: cbr0 promisc %s, port hairpin %s', async (mode, promisc, hairpin) => {
    const { host, state, plugin } = await cluster(1, mode === undefined ? {} : { hairpinMode: mode });
    const r = await addPod(host, state, plugin, makePod('web', 'node-1'));
    const links = await host.linkList(names.node('node-1'));
    expect(links.find((l) => l.name === 'cbr0')?.promisc).toBe(promisc);
    expect(links.find((l) => l.name === r.hostIfname)?.bridgePort?.hairpin).toBe(hairpin);
  });

  it.each<[string, number, (h: SimHost, ns: string) => Promise<void>, KubenetOptions, number]>([
    ['the uplink MTU', 1500, async () => undefined, {}, 1500],
    ['a jumbo uplink', 9001, async () => undefined, {}, 9001],
    [
      'a smaller up dummy',
      1500,
      async (h, ns) => {
        await h.linkAdd(ns, { kind: 'dummy', name: 'dummy0', mtu: 1400 });
        await h.linkSet(ns, 'dummy0', { up: true });
      },
      {},
      1400,
    ],
    ['a smaller dummy that is down', 1500, async (h, ns) => h.linkAdd(ns, { kind: 'dummy', name: 'dummy0', mtu: 1400 }), {}, 1500],
    [
      'a point-to-point tun',
      1500,
      async (h, ns) => {
        await h.linkAdd(ns, { kind: 'tun', name: 'tun0', mtu: 1280 });
        await h.linkSet(ns, 'tun0', { up: true });
      },
      {},
      1500,
    ],
    [
      'an interface under 576: fallback 1460',
      1500,
      async (h, ns) => {
        await h.linkAdd(ns, { kind: 'dummy', name: 'dummy0', mtu: 500 });
        await h.linkSet(ns, 'dummy0', { up: true });
      },
      {},
      1460,
    ],
    ['--network-plugin-mtu', 9001, async () => undefined, { mtu: 1450 }, 1450],
  ])('MTU: %s', async (_name, fabricMtu, prepare, options, want) => {
    const host = createSimHost();
    const base = makeCluster({ nodes: 1 });
    const state = { ...base, cluster: { ...base.cluster, fabric: { ...base.cluster.fabric, mtu: fabricMtu } } };
    await buildUnderlay(host, state);
    await prepare(host, names.node('node-1'));
    const plugin = createKubenetPlugin(options);
    await plugin.setupNode(nodeContext(host, state, 'node-1'));
    const r = await addPod(host, state, plugin, makePod('web', 'node-1'));
    const nodeLinks = await host.linkList(names.node('node-1'));
    expect(nodeLinks.find((l) => l.name === 'cbr0')?.mtu).toBe(want);
    expect(nodeLinks.find((l) => l.name === r.hostIfname)?.mtu).toBe(want);
    expect((await host.linkList(names.pod('default', 'web'))).find((l) => l.name === 'eth0')?.mtu).toBe(want);
  });

  it('keeps the cbr0 MAC pinned while ports come and go', async () => {
    const { host, state, plugin } = await cluster(1);
    const N = names.node('node-1');
    const mac = (await host.linkList(N)).find((l) => l.name === 'cbr0')?.mac;
    const macs: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await addPod(host, state, plugin, makePod(`p${i}`, 'node-1'));
      macs.push((await host.linkList(N)).find((l) => l.name === r.hostIfname)!.mac);
    }
    // Some port MAC sorts below the bridge's; an unpinned bridge would have taken it.
    expect(macs.some((m) => m < mac!)).toBe(true);
    expect((await host.linkList(N)).find((l) => l.name === 'cbr0')?.mac).toBe(mac);
  });

  it('delPod removes the veth pair and frees the address; a repeat is harmless', async () => {
    const { host, state, plugin } = await cluster(1);
    const pod = makePod('web', 'node-1');
    const r = await addPod(host, state, plugin, pod);
    const ctx = nodeContext(host, state, 'node-1');
    await plugin.delPod(ctx, attachment(pod));
    await plugin.delPod(ctx, attachment(pod));
    expect((await host.linkList(names.node('node-1'))).some((l) => l.name === r.hostIfname)).toBe(false);
    expect((await host.linkList(names.pod('default', 'web'))).map((l) => [l.name, l.up])).toEqual([['lo', false]]);
    expect(plugin.ipamStore('node-1')?.findByID('cid-web', 'eth0')).toBe(false);
  });

  it('exhausting a node pod CIDR fails with host-local text as ENOSPC naming the node and pod', async () => {
    const host = createSimHost();
    const state = makeCluster({ nodes: 1, nodeCIDRMaskSize: 29 });
    const plugin = createKubenetPlugin();
    await setupCluster(host, state, plugin);
    const ips: string[] = [];
    for (let i = 1; i <= 5; i++) ips.push((await addPod(host, state, plugin, makePod(`p${i}`, 'node-1'))).ip);
    expect(ips).toEqual(['10.244.0.2', '10.244.0.3', '10.244.0.4', '10.244.0.5', '10.244.0.6']);
    const vethsBefore = (await host.linkList(names.node('node-1'))).filter((l) => l.kind === 'veth').length;
    let err: unknown;
    try {
      await addPod(host, state, plugin, makePod('p6', 'node-1'));
    } catch (e) {
      err = e;
    }
    expect(isKnetError(err, 'ENOSPC')).toBe(true);
    expect((err as Error).message).toBe(
      'pod default/p6 on node node-1: failed to allocate for range 0: no IP addresses available in range set: 10.244.0.1-10.244.0.6',
    );
    expect((err as { details: unknown }).details).toEqual({
      file: 'pods.yaml',
      document: 0,
      field: 'spec.nodeName',
      node: 'node-1',
      pod: 'default/p6',
      podCIDR: '10.244.0.0/29',
      cause: 'failed to allocate for range 0: no IP addresses available in range set: 10.244.0.1-10.244.0.6',
    });
    // The failed attachment was torn down: no extra veth on the node, no eth0 in the pod.
    expect((await host.linkList(names.node('node-1'))).filter((l) => l.kind === 'veth').length).toBe(vethsBefore);
    expect((await host.linkList(names.pod('default', 'p6'))).map((l) => l.name)).toEqual(['lo']);
  });

  it('attaches 110 pods on each of 3 nodes (kubelet maxPods) with distinct addresses', async () => {
    const { host, state, plugin } = await cluster(3);
    const seen = new Set<string>();
    for (const n of ['node-1', 'node-2', 'node-3']) {
      for (let i = 0; i < 110; i++) seen.add((await addPod(host, state, plugin, makePod(`${n}-p${i}`, n))).ip);
    }
    expect(seen.size).toBe(330);
    expect(seen.has('10.244.2.111')).toBe(true);
    expect((await host.linkList(names.node('node-2'))).filter((l) => l.master === 'cbr0').length).toBe(110);
  });
});
