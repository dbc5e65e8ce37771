import { SeededRng, createSimHost, isKnetError } from '@knet/core';
import type { MemoryIpamStore } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { RecordingHost } from '../test/recording-host.js';
import { addPod, attachment, buildUnderlay, makeCluster, makePod, names, nodeContext } from '../test/sim-cluster.js';
import { createKubenetPlugin } from './kubenet-plugin.js';
import type { KubenetOptions } from './kubenet-options.js';

const N1 = names.node('node-1');
const MAC = expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);

/** A 3-node cluster on SimHost behind a recording host, underlay built, nothing recorded yet. */
async function fixture(options: KubenetOptions = {}, nodes = 3) {
  const sim = createSimHost({ seed: 1 });
  const host = new RecordingHost(sim);
  const state = makeCluster({ nodes });
  await buildUnderlay(host, state);
  host.reset();
  const plugin = createKubenetPlugin(options);
  return { sim, host, state, plugin };
}

/** The host veth names node-1's RNG produces, in order. */
function vethNames(seed: string, n: number): string[] {
  const rng = new SeededRng(seed);
  return Array.from({ length: n }, () => `veth${rng.hex(4)}`);
}

describe('createKubenetPlugin', () => {
  it('setupNode: MTU read-back, br_netfilter, cbr0, gateway, MAC pin, forwarding, promisc, routes', async () => {
    const { host, state, plugin } = await fixture();
    await plugin.setupNode(nodeContext(host, state, 'node-1'));
    expect(host.calls).toEqual([
      ['linkList', N1],
      ['sysctlSet', N1, 'net.bridge.bridge-nf-call-iptables', '1'],
      ['linkAdd', N1, { kind: 'bridge', name: 'cbr0', mtu: 1500 }],
      ['linkGet', N1, 'cbr0'],
      ['sysctlSet', N1, 'net.ipv6.conf.cbr0.accept_ra', '0'],
      ['linkSet', N1, 'cbr0', { up: true }],
      ['addrList', N1],
      ['addrAdd', N1, 'cbr0', '10.244.0.1/24'],
      ['linkGet', N1, 'cbr0'],
      ['linkSet', N1, 'cbr0', { mac: MAC }],
      ['sysctlSet', N1, 'net.ipv4.ip_forward', '1'],
      ['linkSet', N1, 'cbr0', { promisc: true }],
      [
        'iptablesRestore',
        N1,
        '*nat\n-A POSTROUTING -m comment --comment "kubenet: SNAT for outbound traffic from cluster" -m addrtype ! --dst-type LOCAL ! -d 10.0.0.0/8 -j MASQUERADE\nCOMMIT\n',
        { noflush: true },
      ],
      ['routeAdd', N1, { dst: '10.244.1.0/24', via: '192.168.0.12', dev: 'eth0', proto: 'static' }],
      ['routeAdd', N1, { dst: '10.244.2.0/24', via: '192.168.0.13', dev: 'eth0', proto: 'static' }],
    ]);
  });

  it('setupNode with --network-plugin-mtu does not read the links', async () => {
    const { host, state, plugin } = await fixture({ mtu: 1450 });
    await plugin.setupNode(nodeContext(host, state, 'node-1'));
    expect(host.calls[0]).toEqual(['sysctlSet', N1, 'net.bridge.bridge-nf-call-iptables', '1']);
    expect(host.calls[1]).toEqual(['linkAdd', N1, { kind: 'bridge', name: 'cbr0', mtu: 1450 }]);
  });

  it.each<[KubenetOptions['hairpinMode'], unknown[][], boolean]>([
    ['promiscuous-bridge', [['linkSet', N1, 'cbr0', { promisc: true }]], false],
    ['hairpin-veth', [], true],
    ['none', [], false],
  ])('hairpin mode %s: cbr0 promisc calls %j, per-port hairpin %s', async (mode, promiscCalls, hairpin) => {
    const { host, state, plugin } = await fixture(mode === undefined ? {} : { hairpinMode: mode });
    await plugin.setupNode(nodeContext(host, state, 'node-1'));
    expect(host.calls.filter((c) => c[0] === 'linkSet' && (c[3] as { promisc?: boolean }).promisc !== undefined)).toEqual(promiscCalls);
    host.reset();
    const r = await addPod(host, state, plugin, makePod('web', 'node-1'));
    expect(host.calls).toContainEqual(['linkSet', N1, r.hostIfname, { hairpin }]);
  });

  it('addPod: dad off, lo up, veth pair, host end up and enslaved, host-local, address, up, default route', async () => {
    const { host, state, plugin } = await fixture();
    await plugin.setupNode(nodeContext(host, state, 'node-1'));
    const pod = makePod('web', 'node-1');
    const a = attachment(pod);
    await host.netnsAdd(a.netns, { role: 'pod', node: 'node-1', pod: 'default/web' });
    host.reset();
    const r = await plugin.addPod(nodeContext(host, state, 'node-1'), a);
    const [hv] = vethNames('node-1', 1);
    const P = a.netns;
    expect(r).toEqual({ ip: '10.244.0.2', prefixlen: 24, gateway: '10.244.0.1', hostIfname: hv });
    expect(host.calls).toEqual([
      ['sysctlSet', P, 'net.ipv6.conf.default.dad_transmits', '0'],
      ['linkSet', P, 'lo', { up: true }],
      ['linkAdd', P, { kind: 'veth', name: 'eth0', mtu: 1500, peer: { name: hv, netns: N1 } }],
      ['linkSet', N1, hv, { mtu: 1500, up: true }],
      ['sysctlSet', N1, `net.ipv6.conf.${hv}.accept_ra`, '0'],
      ['linkSet', N1, hv, { master: 'cbr0' }],
      ['linkSet', N1, hv, { hairpin: false }],
      ['sysctlSet', P, 'net.ipv6.conf.eth0.accept_dad', '0'],
      ['sysctlSet', P, 'net.ipv4.conf.eth0.arp_notify', '1'],
      ['addrAdd', P, 'eth0', '10.244.0.2/24'],
      ['linkSet', P, 'eth0', { up: true }],
      ['routeAdd', P, { dst: '0.0.0.0/0', via: '10.244.0.1', dev: 'eth0' }],
    ]);
  });

  it('delPod: lo down, eth0 deleted, IPAM released; a second delPod is harmless; a gone sandbox only releases', async () => {
    const { host, state, plugin } = await fixture();
    await plugin.setupNode(nodeContext(host, state, 'node-1'));
    const pod = makePod('web', 'node-1');
    await addPod(host, state, plugin, pod);
    const ctx = nodeContext(host, state, 'node-1');
    const a = attachment(pod);
    host.reset();
    await plugin.delPod(ctx, a);
    const expected = [
      ['netnsExists', a.netns],
      ['linkSet', a.netns, 'lo', { up: false }],
      ['linkDel', a.netns, 'eth0'],
    ];
    expect(host.calls).toEqual(expected);
    expect(plugin.ipamStore('node-1')?.getByID(a.containerId, 'eth0')).toEqual([]);
    host.reset();
    await plugin.delPod(ctx, a);
    expect(host.calls).toEqual(expected);
    await host.netnsDel(a.netns);
    host.reset();
    await plugin.delPod(ctx, a);
    expect(host.calls).toEqual([['netnsExists', a.netns]]);
  });

  it('hands out pod IPs in host-local order and round-robins after a delete', async () => {
    const { host, state, plugin } = await fixture();
    await plugin.setupNode(nodeContext(host, state, 'node-1'));
    const ips: string[] = [];
    for (const n of ['a', 'b', 'c']) ips.push((await addPod(host, state, plugin, makePod(n, 'node-1'))).ip);
    await plugin.delPod(nodeContext(host, state, 'node-1'), attachment(makePod('a', 'node-1')));
    ips.push((await addPod(host, state, plugin, makePod('d', 'node-1'))).ip);
    expect(ips).toEqual(['10.244.0.2', '10.244.0.3', '10.244.0.4', '10.244.0.5']);
    expect((plugin.ipamStore('node-1') as MemoryIpamStore).files()).toEqual({
      '10.244.0.3': 'cid-b\r\neth0',
      '10.244.0.4': 'cid-c\r\neth0',
      '10.244.0.5': 'cid-d\r\neth0',
      'last_reserved_ip.0': '10.244.0.5',
    });
  });

  it('requests status.podIP as CNI_ARGS IP= would', async () => {
    const { host, state, plugin } = await fixture();
    await plugin.setupNode(nodeContext(host, state, 'node-1'));
    expect((await addPod(host, state, plugin, makePod('pinned', 'node-1', { podIP: '10.244.0.77' }))).ip).toBe('10.244.0.77');
    expect((await addPod(host, state, plugin, makePod('next', 'node-1'))).ip).toBe('10.244.0.78');
  });

  it.each<[string, string, string, string]>([
    ['the gateway', '10.244.0.1', 'EINVAL', "pod default/p on node node-1: failed to allocate for range 0: requested ip 10.244.0.1 is subnet's gateway"],
    [
      'a taken IP',
      '10.244.0.2',
      'EBUSY',
      'pod default/p on node node-1: failed to allocate for range 0: requested IP address 10.244.0.2 is not available in range set 10.244.0.1-10.244.0.254',
    ],
    ['an IP of another node', '10.244.1.5', 'EINVAL', 'pod default/p on node node-1: failed to allocate all requested IPs: 10.244.1.5'],
  ])('a requested podIP that is %s fails on status.podIP and leaves nothing behind', async (_name, podIP, code, message) => {
    const { sim, host, state, plugin } = await fixture();
    await plugin.setupNode(nodeContext(host, state, 'node-1'));
    await addPod(host, state, plugin, makePod('first', 'node-1'));
    const before = (await sim.linkList(N1)).map((l) => l.name);
    let err: unknown;
    try {
      await addPod(host, state, plugin, makePod('p', 'node-1', { podIP }));
    } catch (e) {
      err = e;
    }
    expect(isKnetError(err, code as never)).toBe(true);
    expect((err as Error).message).toBe(message);
    expect((err as { details: { field: string } }).details.field).toBe('status.podIP');
    expect((await sim.linkList(N1)).map((l) => l.name)).toEqual(before);
    expect((await sim.linkList(names.pod('default', 'p'))).map((l) => l.name)).toEqual(['lo']);
  });

  it('retries the host veth name when it is taken on the node', async () => {
    const { sim, host, state, plugin } = await fixture();
    await plugin.setupNode(nodeContext(host, state, 'node-1'));
    const [first, second] = vethNames('node-1', 2);
    await sim.linkAdd(N1, { kind: 'dummy', name: first! });
    const pod = makePod('web', 'node-1');
    await host.netnsAdd(attachment(pod).netns, { role: 'pod' });
    host.reset();
    const r = await plugin.addPod(nodeContext(host, state, 'node-1'), attachment(pod));
    expect(r.hostIfname).toBe(second);
    expect(host.calls.slice(2, 5).map((c) => c.slice(0, 2))).toEqual([
      ['linkAdd', attachment(pod).netns],
      ['linkGet', attachment(pod).netns],
      ['linkAdd', attachment(pod).netns],
    ]);
  });

  it('fails when the pod already has the interface', async () => {
    const { sim, host, state, plugin } = await fixture();
    await plugin.setupNode(nodeContext(host, state, 'node-1'));
    const pod = makePod('web', 'node-1');
    const a = attachment(pod);
    await sim.netnsAdd(a.netns, { role: 'pod' });
    await sim.linkAdd(a.netns, { kind: 'dummy', name: 'eth0' });
    const [hv] = vethNames('node-1', 1);
    await expect(plugin.addPod(nodeContext(host, state, 'node-1'), a)).rejects.toThrow(
      `container veth name ("eth0") peer provided ("${hv}") already exists`,
    );
  });

  it('names veths from the seed and the node name, deterministically', async () => {
    const run = async (options: KubenetOptions): Promise<string[]> => {
      const { host, state, plugin } = await fixture(options);
      await plugin.setupNode(nodeContext(host, state, 'node-1'));
      await plugin.setupNode(nodeContext(host, state, 'node-2'));
      const out: string[] = [];
      for (const [p, n] of [['a', 'node-1'], ['b', 'node-1'], ['c', 'node-2']] as const) {
        out.push((await addPod(host, state, plugin, makePod(p, n))).hostIfname ?? '');
      }
      return out;
    };
    const byName = await run({});
    expect(byName).toEqual([...vethNames('node-1', 2), ...vethNames('node-2', 1)]);
    expect(await run({})).toEqual(byName);
    const seeded = await run({ seed: 42 });
    expect(seeded).toEqual([...vethNames('42/node-1', 2), ...vethNames('42/node-2', 1)]);
    expect(seeded).not.toEqual(byName);
    for (const n of byName) expect(n).toMatch(/^veth[0-9a-f]{8}$/);
  });

  it('refuses addPod before setupNode and for hostNetwork pods', async () => {
    const { host, state, plugin } = await fixture();
    await expect(addPod(host, state, plugin, makePod('early', 'node-1'))).rejects.toThrow(/setupNode has not run/);
    await plugin.setupNode(nodeContext(host, state, 'node-1'));
    await expect(addPod(host, state, plugin, makePod('h', 'node-1', { hostNetwork: true }))).rejects.toMatchObject({
      code: 'EINVAL',
      details: { field: 'spec.hostNetwork' },
    });
  });

  it('setupNode refuses a cbr0 that is not a bridge, or that holds another address', async () => {
    const a = await fixture();
    await a.sim.linkAdd(N1, { kind: 'dummy', name: 'cbr0' });
    await expect(a.plugin.setupNode(nodeContext(a.host, a.state, 'node-1'))).rejects.toThrow('"cbr0" already exists but is not a bridge');

    const b = await fixture();
    await b.sim.linkAdd(N1, { kind: 'bridge', name: 'cbr0' });
    await b.sim.addrAdd(N1, 'cbr0', '10.244.9.1/24');
    await expect(b.plugin.setupNode(nodeContext(b.host, b.state, 'node-1'))).rejects.toThrow(
      '"cbr0" already has an IP address different from 10.244.0.1/24',
    );
  });

  it('masqueradeRule gives the kubenet rule, or none for 0.0.0.0/0', () => {
    const node = makeCluster({ nodes: 1 }).nodes[0]!;
    expect(createKubenetPlugin().masqueradeRule(node)).toBe(
      '-A POSTROUTING -m comment --comment "kubenet: SNAT for outbound traffic from cluster" -m addrtype ! --dst-type LOCAL ! -d 10.0.0.0/8 -j MASQUERADE',
    );
    expect(createKubenetPlugin({ nonMasqueradeCIDR: '0.0.0.0/0' }).masqueradeRule(node)).toBeUndefined();
  });

  it('validate refuses a pod CIDR host-local cannot allocate from, naming the node', () => {
    const state = makeCluster({ nodes: 2, nodeCIDRMaskSize: 31 });
    let err: unknown;
    try {
      createKubenetPlugin().validate(state);
    } catch (e) {
      err = e;
    }
    expect(isKnetError(err, 'EINVAL')).toBe(true);
    expect((err as Error).message).toBe('node node-1: pod CIDR 10.244.0.0/31: invalid range set 0: Network 10.244.0.0/31 too small to allocate from');
    expect((err as { details: unknown }).details).toEqual({
      file: 'nodes.yaml',
      document: 0,
      field: 'spec.podCIDR',
      node: 'node-1',
      value: '10.244.0.0/31',
    });
  });

  it('validate enforces the cloud route limit (51 nodes on AWS default)', () => {
    const state = makeCluster({ nodes: 51, cloud: { provider: 'aws', routeLimit: 50 } });
    expect(() => createKubenetPlugin().validate(state)).toThrow(expect.objectContaining({ code: 'ELIMIT', details: expect.objectContaining({ limit: 50, routes: 51 }) }));
  });

  it('exposes the generated bridge config per node', async () => {
    const { host, state, plugin } = await fixture({ hairpinMode: 'hairpin-veth' });
    await plugin.setupNode(nodeContext(host, state, 'node-2'));
    expect(plugin.netConf('node-2')).toMatchObject({ bridge: 'cbr0', mtu: 1500, hairpinMode: true, ipam: { ranges: [[{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }]] } });
    expect(plugin.netConf('node-1')).toBeUndefined();
  });
});
