import { describe, expect, it } from 'vitest';
import { formatIpv4, parseIpv4 } from '../src/ip/ipv4.js';
import { attachTunReader, PacketEngine, type TunReader } from '../src/kernel/packet-engine.js';
import { createSimHost, type SimHost } from '../src/kernel/sim-host.js';
import { decodeIpv4Packet } from '../src/packet/packet-decoder.js';
import { encodeIpv4Packet } from '../src/packet/packet-encoder.js';
import { IPPROTO_ICMP, type Ipv4Packet } from '../src/packet/types.js';

/**
 * Two nodes on a fabric bridge, each with a bridge `cni0` holding a pod, and a tun `flannel0`
 * held by a process that does what flanneld's udp backend does: the whole pod network routed
 * into the tun, each packet read from it sent in a UDP datagram to the remote node's port 8285,
 * and each datagram received there written into the remote tun.
 */
async function twoNodes(): Promise<{ host: SimHost; detach: (() => void)[] }> {
  const host = createSimHost({ seed: 5 });
  const fab = 'knet-tun-fabric';
  await host.netnsAdd(fab, { role: 'fabric' });
  await host.linkAdd(fab, { kind: 'bridge', name: 'br0' });
  await host.linkSet(fab, 'br0', { up: true });
  const detach: (() => void)[] = [];
  for (const i of [1, 2]) {
    const n = `knet-tun-node${i}`;
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
    host.tunOpen(n, 'flannel0', 'tun');
    await host.addrAdd(n, 'flannel0', `10.244.${i}.0/32`);
    await host.linkSet(n, 'flannel0', { mtu: 1472, up: true });
    await host.routeAdd(n, { dst: '10.244.0.0/16', dev: 'flannel0', scope: 'global' });
    const p = `knet-tun-pod${i}`;
    await host.netnsAdd(p, { role: 'pod', node: `node-${i}`, pod: `default/p${i}` });
    await host.linkSet(p, 'lo', { up: true });
    await host.linkAdd(p, { kind: 'veth', name: 'eth0', peer: { name: `veth${i}`, netns: n } });
    await host.linkSet(n, `veth${i}`, { master: 'cni0', up: true });
    await host.addrAdd(p, 'eth0', `10.244.${i}.2/24`);
    await host.linkSet(p, 'eth0', { up: true });
    await host.routeAdd(p, { dst: 'default', via: `10.244.${i}.1` });
    const remote = (dst: number): number | undefined =>
      (dst & 0xffffff00) >>> 0 === parseIpv4('10.244.1.0') ? parseIpv4('172.18.0.2') : (dst & 0xffffff00) >>> 0 === parseIpv4('10.244.2.0') ? parseIpv4('172.18.0.3') : undefined;
    const reader: TunReader = {
      owner: 'flanneld',
      onPacket(pkt, io) {
        const to = remote(pkt.dst);
        if (to === undefined) {
          io.discard('no-route', `flanneld: no route to ${formatIpv4(pkt.dst)}`, pkt);
          return;
        }
        const inner: Ipv4Packet = { ...pkt, ttl: pkt.ttl - 1 };
        io.sendUdp({ dst: to, dstPort: 8285, srcPort: 8285, payload: encodeIpv4Packet(inner) }, `flanneld: ${formatIpv4(pkt.dst)} → ${formatIpv4(to)}:8285`);
      },
      onDatagram(_pkt, udp, io) {
        if (!(udp.payload instanceof Uint8Array)) return;
        const d = decodeIpv4Packet(udp.payload);
        if (!d.ok) return;
        io.writeTun({ ...d.value, ttl: d.value.ttl - 1 }, 'flanneld: write to flannel0');
      },
    };
    detach.push(attachTunReader(host, n, 'flannel0', reader, { port: 8285 }));
  }
  return { host, detach };
}

function ping(engine: PacketEngine, host: SimHost, from: string, to: string): void {
  const ns = host.ns(from);
  engine.begin();
  engine.localOut(ns, engine.newPacket(ns, 0, parseIpv4(to), IPPROTO_ICMP, { kind: 'icmp', type: 8, code: 0, id: 9, seq: 1, data: new Uint8Array(56) }), { flow: 'request' }, 'ping');
  engine.run();
}

describe('attachTunReader', () => {
  it('hands packets sent on a tun to its reader, whose UDP datagrams cross the fabric and are written into the remote tun', async () => {
    const { host } = await twoNodes();
    const engine = new PacketEngine(host);
    ping(engine, host, 'knet-tun-pod1', '10.244.2.2');
    const r = engine.results();
    expect(r.deliveries.map((d) => [d.flow, d.verdict.kind, d.verdict.pod])).toEqual([
      ['request', 'delivered', 'default/p2'],
      ['reply', 'delivered', 'default/p1'],
    ]);
    const req = r.hops.filter((h) => h.flow === 'request');
    expect(req.find((h) => h.step === 'xmit' && h.dev === 'flannel0')?.decision).toBe('sent on flannel0 (tun, no link layer): read by flanneld');
    expect(req.find((h) => h.step === 'encap')).toMatchObject({ node: 'node-1', dev: 'flannel0', decision: 'flanneld: 10.244.2.2 → 172.18.0.3:8285' });
    expect(req.find((h) => h.step === 'decap')).toMatchObject({ node: 'node-2', dev: 'flannel0' });
    // The datagram on the fabric: 84 bytes of inner packet + 8 UDP + 20 IP.
    const outer = r.frames.find((fr) => fr.netns === 'knet-tun-fabric' && 'payload' in fr.frame && fr.frame.payload.kind === 'ipv4' && fr.frame.payload.payload.kind === 'udp');
    const ip = (outer!.frame as { payload: Ipv4Packet }).payload;
    expect([formatIpv4(ip.src), formatIpv4(ip.dst)]).toEqual(['172.18.0.2', '172.18.0.3']);
    expect(ip.payload).toMatchObject({ kind: 'udp', srcPort: 8285, dstPort: 8285 });
    expect((ip.payload as { payload: Uint8Array }).payload.length).toBe(84);
    // The inner TTL: 64 from the pod, 63 after node-1's forward, 62 and 61 after the two
    // proxies (each decrements it), 60 after node-2's forward.
    expect(req.filter((h) => h.step === 'forward').map((h) => h.detail)).toEqual([
      { kind: 'forward', ttlBefore: 64, ttlAfter: 63 },
      { kind: 'forward', ttlBefore: 61, ttlAfter: 60 },
    ]);
  });

  it('discards packets sent on a tun without a reader, and again after detaching', async () => {
    const { host, detach } = await twoNodes();
    detach[0]!();
    const engine = new PacketEngine(host);
    ping(engine, host, 'knet-tun-pod1', '10.244.2.2');
    expect(engine.results().drops.find((d) => d.flow === 'request')?.verdict).toMatchObject({ kind: 'dropped', reason: 'device-discard', dev: 'flannel0' });
    expect(host.ns('knet-tun-node1').sockets.inUse('udp', 8285)).toBe(false);
  });

  it('refuses a device that is not a tun', async () => {
    const { host } = await twoNodes();
    expect(() => attachTunReader(host, 'knet-tun-node1', 'cni0', { owner: 'x', onPacket: () => undefined })).toThrow(/not a tun/);
  });
});
