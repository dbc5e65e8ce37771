import { describe, expect, it } from 'vitest';
import { createSimHost, type SimHost } from '../src/kernel/sim-host.js';
import { PacketEngine } from '../src/kernel/packet-engine.js';
import { parseIpv4 } from '../src/ip/ipv4.js';
import { IPPROTO_ICMP } from '../src/packet/types.js';

/**
 * Two nodes joined by a fabric bridge, each with a bridge `cni0`, a pod, and a `flannel.1` VXLAN
 * device programmed as flanneld's vxlan backend does it: address `<subnet>.0/32`, an onlink route
 * per remote subnet via its `.0`, a permanent neighbour entry for that `.0` and a permanent FDB
 * entry sending the remote VTEP MAC to the remote node (learning off).
 */
async function twoNodes(): Promise<SimHost> {
  const host = createSimHost({ seed: 3 });
  const fab = 'knet-vx-fabric';
  await host.netnsAdd(fab, { role: 'fabric' });
  await host.linkAdd(fab, { kind: 'bridge', name: 'br0' });
  await host.linkSet(fab, 'br0', { up: true });
  const vtep = ['0a:00:00:00:01:01', '0a:00:00:00:02:01'];
  for (const i of [1, 2]) {
    const n = `knet-vx-node${i}`;
    await host.netnsAdd(n, { role: 'node', node: `node-${i}` });
    await host.linkSet(n, 'lo', { up: true });
    await host.linkAdd(n, { kind: 'veth', name: 'eth0', peer: { name: `p${i}`, netns: fab } });
    await host.linkSet(fab, `p${i}`, { master: 'br0', up: true });
    await host.addrAdd(n, 'eth0', `172.18.0.${i + 1}/24`);
    await host.linkSet(n, 'eth0', { up: true });
    await host.sysctlSet(n, 'net.ipv4.ip_forward', '1');
    await host.linkAdd(n, { kind: 'bridge', name: 'cni0' });
    await host.addrAdd(n, 'cni0', `10.244.${i}.1/24`);
    await host.linkSet(n, 'cni0', { up: true });
    await host.linkAdd(n, { kind: 'vxlan', name: 'flannel.1', id: 1, local: `172.18.0.${i + 1}`, dev: 'eth0', port: 8472, learning: false, mac: vtep[i - 1]! });
    await host.addrAdd(n, 'flannel.1', `10.244.${i}.0/32`);
    await host.linkSet(n, 'flannel.1', { up: true });
    const p = `knet-vx-pod${i}`;
    await host.netnsAdd(p, { role: 'pod', node: `node-${i}`, pod: `default/p${i}` });
    await host.linkSet(p, 'lo', { up: true });
    await host.linkAdd(p, { kind: 'veth', name: 'eth0', peer: { name: `veth${i}`, netns: n } });
    await host.linkSet(n, `veth${i}`, { master: 'cni0', up: true });
    await host.addrAdd(p, 'eth0', `10.244.${i}.2/24`);
    await host.linkSet(p, 'eth0', { up: true });
    await host.routeAdd(p, { dst: 'default', via: `10.244.${i}.1` });
  }
  for (const [i, j] of [[1, 2], [2, 1]] as const) {
    const n = `knet-vx-node${i}`;
    await host.routeAdd(n, { dst: `10.244.${j}.0/24`, via: `10.244.${j}.0`, dev: 'flannel.1', onlink: true });
    await host.neighReplace(n, { dst: `10.244.${j}.0`, dev: 'flannel.1', lladdr: vtep[j - 1]!, state: 'PERMANENT' });
    await host.fdbAdd(n, { mac: vtep[j - 1]!, dev: 'flannel.1', dst: `172.18.0.${j + 1}`, self: true });
  }
  return host;
}

describe('VXLAN in the packet engine', () => {
  it('encapsulates on flannel.1, crosses the fabric as UDP 8472 and is decapsulated on the other node', async () => {
    const host = await twoNodes();
    const engine = new PacketEngine(host);
    const pod1 = host.ns('knet-vx-pod1');
    engine.begin();
    engine.localOut(pod1, engine.newPacket(pod1, 0, parseIpv4('10.244.2.2'), IPPROTO_ICMP, { kind: 'icmp', type: 8, code: 0, id: 7, seq: 1, data: new Uint8Array(56) }), { flow: 'request' }, 'ping');
    engine.run();
    const r = engine.results();
    expect(r.deliveries.map((d) => [d.flow, d.verdict.kind, d.verdict.pod])).toEqual([
      ['request', 'delivered', 'default/p2'],
      ['reply', 'delivered', 'default/p1'],
    ]);
    const req = r.hops.filter((h) => h.flow === 'request');
    const encap = req.find((h) => h.step === 'encap')!;
    expect(encap).toMatchObject({ node: 'node-1', dev: 'flannel.1', detail: { kind: 'vxlan', vni: 1, local: '172.18.0.2', remote: '172.18.0.3', port: 8472 } });
    expect(req.find((h) => h.step === 'route' && h.netns === 'knet-vx-node1')?.decision).toContain('10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink');
    expect(req.find((h) => h.step === 'neigh' && h.dev === 'flannel.1')?.detail).toMatchObject({ state: 'PERMANENT', lladdr: '0a:00:00:00:02:01' });
    // On the fabric: the outer packet, UDP to 8472, 50 bytes bigger than the inner frame's IP packet (84 + 50).
    const fabricFrame = r.frames.find((fr) => fr.netns === 'knet-vx-fabric' && 'payload' in fr.frame && fr.frame.payload.kind === 'ipv4' && fr.frame.payload.payload.kind === 'udp');
    expect(fabricFrame).toBeDefined();
    const outer = (fabricFrame!.frame as { payload: { src: number; dst: number; payload: { dstPort: number; payload: { kind: string; vni: number } } } }).payload;
    expect([outer.src, outer.dst, outer.payload.dstPort]).toEqual([parseIpv4('172.18.0.2'), parseIpv4('172.18.0.3'), 8472]);
    expect(outer.payload.payload).toMatchObject({ kind: 'vxlan', vni: 1 });
    const decap = req.find((h) => h.step === 'decap')!;
    expect(decap).toMatchObject({ node: 'node-2', dev: 'flannel.1' });
    // No ARP crosses the tunnel: the neighbour entries are permanent.
    expect(r.hops.some((h) => h.flow === 'arp' && h.dev === 'flannel.1')).toBe(false);
    // The inner TTL: 64 from the pod, 63 after node-1, 62 after node-2.
    expect(req.filter((h) => h.step === 'forward').map((h) => h.detail)).toEqual([
      { kind: 'forward', ttlBefore: 64, ttlAfter: 63 },
      { kind: 'forward', ttlBefore: 63, ttlAfter: 62 },
    ]);
  });

  it('drops when the FDB has no entry for the destination MAC and no flood entry', async () => {
    const host = await twoNodes();
    await host.fdbDel('knet-vx-node1', { mac: '0a:00:00:00:02:01', dev: 'flannel.1' });
    const engine = new PacketEngine(host);
    const pod1 = host.ns('knet-vx-pod1');
    engine.begin();
    engine.localOut(pod1, engine.newPacket(pod1, 0, parseIpv4('10.244.2.2'), IPPROTO_ICMP, { kind: 'icmp', type: 8, code: 0, id: 7, seq: 1, data: new Uint8Array(56) }), { flow: 'request' }, 'ping');
    engine.run();
    const drop = engine.results().drops.find((d) => d.flow === 'request');
    expect(drop?.verdict).toMatchObject({ kind: 'dropped', reason: 'no-route', node: 'node-1', dev: 'flannel.1' });
  });
});
