/**
 * flannel's vxlan backend on the example cluster (kube subnet manager, as kube-flannel.yml runs
 * it): the state flanneld and the flannel CNI leave on a node, and a TCP SYN from default/client
 * on node-1 to shop/cart on node-2 traced hop by hop — cni0, flannel.1 (route, permanent neighbour,
 * FDB), the outer UDP 8472 datagram on the fabric, decapsulation on node-2, cni0, the pod — then
 * written as a pcap that tshark decodes as VXLAN with the inner frames intact.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildCluster,
  buildClusterState,
  createSimHost,
  ipPacketLength,
  listenContainerPorts,
  loadExampleCluster,
  resolveEndpoint,
  tracePacket,
  writeTracePcap,
  type BuiltCluster,
  type Ipv4Packet,
  type SimHost,
} from '@knet/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFlannelPlugin, type FlannelPlugin } from '../src/index.js';

const TSHARK = ['/usr/bin/tshark', '/usr/local/bin/tshark'].find((p) => existsSync(p));
if (TSHARK === undefined) console.warn('skipping the tshark VXLAN decode: tshark is not installed (apt-get install tshark)');

let host: SimHost;
let cluster: BuiltCluster;
let flannel: FlannelPlugin;

beforeAll(async () => {
  host = createSimHost({ seed: 1 });
  flannel = createFlannelPlugin();
  cluster = await buildCluster(buildClusterState(loadExampleCluster()), flannel, host, { listen: async (ns, pod) => listenContainerPorts(host, ns, pod) });
});

const NODE2 = 'knet-example-node-node-2';

describe('flannel vxlan on the example cluster: node state', () => {
  it('gives flannel.1 VNI 1, UDP 8472, no learning, MTU 1450 and <subnet>.0/32; cni0 and pods MTU 1450', async () => {
    const links = await host.linkList(NODE2);
    const vx = links.find((l) => l.name === 'flannel.1')!;
    expect(vx).toMatchObject({ kind: 'vxlan', mtu: 1450, up: true, vxlan: { id: 1, port: 8472, learning: false, local: '172.18.0.3', dev: 'eth0' } });
    expect(vx.mac[1]! === '2' || vx.mac[1]! === '6' || vx.mac[1]! === 'a' || vx.mac[1]! === 'e').toBe(true); // locally administered, unicast
    expect((await host.addrList(NODE2)).filter((a) => a.dev === 'flannel.1').map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['10.244.1.0/32']);
    expect(links.find((l) => l.name === 'cni0')?.mtu).toBe(1450);
    expect((await host.linkList('knet-example-pod-shop-cart-5d8b9c7f6-hv4nx')).find((l) => l.name === 'eth0')?.mtu).toBe(1450);
  });

  it('programs one onlink route, one permanent neighbour and one FDB entry per remote node', async () => {
    const routes = (await host.routeList(NODE2)).filter((r) => r.dev === 'flannel.1' && r.table === 'main');
    expect(routes.map((r) => [r.dst, r.gateway, r.onlink, r.scope])).toEqual([
      ['10.244.0.0/24', '10.244.0.0', true, 'global'],
      ['10.244.2.0/24', '10.244.2.0', true, 'global'],
    ]);
    const macOf = async (node: string): Promise<string> => (await host.linkList(`knet-example-node-${node}`)).find((l) => l.name === 'flannel.1')!.mac;
    const neigh = (await host.neighList(NODE2)).filter((n) => n.dev === 'flannel.1');
    expect(neigh.map((n) => [n.dst, n.lladdr, n.state]).sort()).toEqual([
      ['10.244.0.0', await macOf('node-1'), 'PERMANENT'],
      ['10.244.2.0', await macOf('node-3'), 'PERMANENT'],
    ]);
    const fdb = (await host.fdbList(NODE2)).filter((f) => f.dev === 'flannel.1');
    expect(fdb.map((f) => [f.mac, f.dst, f.self, f.state]).sort()).toEqual(
      [
        [await macOf('node-1'), '172.18.0.2', true, 'permanent'],
        [await macOf('node-3'), '172.18.0.4', true, 'permanent'],
      ].sort(),
    );
  });

  it('publishes the lease as node annotations and writes subnet.env as flanneld does', async () => {
    const n2 = (await flannel.kubeNodes!.get('node-2'))!;
    const mac = (await host.linkList(NODE2)).find((l) => l.name === 'flannel.1')!.mac;
    expect(n2.annotations).toEqual({
      'flannel.alpha.coreos.com/backend-type': 'vxlan',
      'flannel.alpha.coreos.com/backend-data': `{"VNI":1,"VtepMAC":"${mac}"}`,
      'flannel.alpha.coreos.com/public-ip': '172.18.0.3',
      'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
    });
    expect(flannel.files('node-2').get('/run/flannel/subnet.env')).toBe('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
  });

  it('installs the rules real flanneld leaves (iptables-save of the real kernel)', async () => {
    const golden = readFileSync(new URL('./fixtures/flanneld-iptables-save.txt', import.meta.url), 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n');
    const tables = (await host.iptablesSave(NODE2)).split(/(?=^\*)/m).sort().join('');
    expect(tables).toBe(golden.split(/(?=^\*)/m).sort().join(''));
  });

  it('hands bridge the delegate config flannel builds, saved under /var/lib/cni/flannel/<container id>', () => {
    const cart = cluster.pods.get('shop/cart-5d8b9c7f6-hv4nx')!;
    expect(flannel.files('node-2').get(`/var/lib/cni/flannel/${cart.containerId}`)).toBe(
      '{"cniVersion":"0.3.1","hairpinMode":true,"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"10.244.0.0/16"}],"type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1450,"name":"cbr0","type":"bridge"}',
    );
  });
});

describe('flannel vxlan on the example cluster: a trace across nodes', () => {
  it('goes cni0 → flannel.1 (route, neighbour, FDB) → UDP 8472 on the fabric → decap on node-2 → cni0 → the pod', () => {
    const t = tracePacket(cluster, host, resolveEndpoint(cluster, 'default/client'), resolveEndpoint(cluster, 'shop/cart-5d8b9c7f6-hv4nx:8080'), { proto: 'tcp' });
    expect(t.verdict).toMatchObject({ kind: 'delivered', pod: 'shop/cart-5d8b9c7f6-hv4nx' });
    expect(t.reply).toMatchObject({ kind: 'delivered', pod: 'default/client' });
    const req = t.hops.filter((h) => h.flow === 'request');
    const at = (pred: (h: (typeof req)[number]) => boolean): number => req.findIndex(pred);
    const cni0In = at((h) => h.node === 'node-1' && h.step === 'bridge-local' && h.dev === 'cni0');
    const route = at((h) => h.node === 'node-1' && h.step === 'route' && h.dev === 'flannel.1');
    const neigh = at((h) => h.node === 'node-1' && h.step === 'neigh' && h.dev === 'flannel.1');
    const encap = at((h) => h.step === 'encap');
    const fabric = at((h) => h.netns === 'knet-example-fabric' && h.step === 'bridge-forward');
    const decap = at((h) => h.step === 'decap');
    const cni0Out = at((h) => h.node === 'node-2' && h.step === 'bridge-forward' && h.dev === 'cni0');
    const deliver = at((h) => h.step === 'deliver');
    expect([cni0In, route, neigh, encap, fabric, decap, cni0Out, deliver].every((i, k, all) => i >= 0 && (k === 0 || i > all[k - 1]!))).toBe(true);
    const node2Mac = host.link(NODE2, 'flannel.1').mac;
    expect(req[route]!.decision).toBe('route to 10.244.1.3: 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink');
    expect(req[neigh]!.detail).toEqual({ kind: 'neigh', ip: '10.244.1.0', lladdr: node2Mac, state: 'PERMANENT', action: 'hit' });
    expect(req[encap]).toMatchObject({ node: 'node-1', dev: 'flannel.1', detail: { kind: 'vxlan', vni: 1, local: '172.18.0.2', remote: '172.18.0.3', port: 8472 } });
    expect(req[encap]!.decision).toContain(`fdb ${node2Mac} dst 172.18.0.3`);
    expect(req[decap]).toMatchObject({ node: 'node-2', dev: 'flannel.1', detail: { kind: 'vxlan', vni: 1, local: '172.18.0.3', remote: '172.18.0.2', port: 8472 } });
    // No ARP crosses the tunnel: the neighbour entries are permanent.
    expect(t.hops.some((h) => h.flow === 'arp' && h.dev === 'flannel.1')).toBe(false);
    // On the fabric: the outer datagram, 50 bytes more than the inner IP packet (60-byte SYN).
    const outer = t.frames.filter((f) => f.netns === 'knet-example-fabric' && f.direction === 'in' && 'payload' in f.frame && f.frame.payload.kind === 'ipv4' && f.frame.payload.payload.kind === 'udp');
    const ip = (outer[0]!.frame as { payload: Ipv4Packet }).payload;
    expect(ip.payload).toMatchObject({ kind: 'udp', dstPort: 8472, payload: { kind: 'vxlan', vni: 1 } });
  });

  it.skipIf(TSHARK === undefined)('writes a pcap tshark decodes as VXLAN (-d udp.port==8472,vxlan), the inner SYN intact', () => {
    const t = tracePacket(cluster, host, resolveEndpoint(cluster, 'default/client'), resolveEndpoint(cluster, 'shop/cart-5d8b9c7f6-hv4nx:8080'), { proto: 'tcp', sport: 40000 });
    const file = join(mkdtempSync(join(tmpdir(), 'knet-flannel-')), 'vxlan.pcap');
    writeFileSync(file, writeTracePcap(t, 'pcap'));
    const tshark = (extra: string[]): string =>
      execFileSync(TSHARK!, ['-r', file, '-d', 'udp.port==8472,vxlan', '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', ...extra], { encoding: 'utf8' });
    const verbose = tshark(['-V']);
    expect(verbose.split('\n').filter((l) => /\[Malformed Packet|Bad checksum|incorrect, should be|\[Expert Info \(Error/.test(l))).toEqual([]);
    const rows = tshark(['-Y', 'vxlan', '-T', 'fields', '-E', 'separator=|', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'udp.dstport', '-e', 'vxlan.vni', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.flags.str'])
      .trim()
      .split('\n');
    // The request's outer frame on node-1's eth0, the fabric's two ports and node-2's eth0.
    const syn = rows.filter((r) => r.includes('|40000|8080|'));
    expect(syn.length).toBe(4);
    for (const r of syn) expect(r.split('|')).toEqual(['172.18.0.2,10.244.0.4', '172.18.0.3,10.244.1.3', '8472', '1', '40000', '8080', '··········S·']);
  });
});

describe('flannel vxlan on the example cluster: MTU', () => {
  it('refuses a node\'s own 1500-byte DF packet to a remote pod: flannel.1 has MTU 1450 (EMSGSIZE)', () => {
    const t = tracePacket(cluster, host, resolveEndpoint(cluster, 'node/node-1'), resolveEndpoint(cluster, 'shop/cart-5d8b9c7f6-hv4nx'), { proto: 'icmp', size: 1472 });
    expect(t.verdict).toMatchObject({ kind: 'dropped', reason: 'mtu-exceeded', node: 'node-1', dev: 'flannel.1' });
    expect(t.hops.find((h) => h.step === 'drop')?.decision).toBe('1500 bytes > mtu 1450 of flannel.1 with DF set: send() fails with EMSGSIZE');
  });

  it('answers a forwarded packet too big for flannel.1 with ICMP fragmentation needed, mtu 1450 (flanneld without --ip-masq)', async () => {
    // Without --ip-masq: with it, FLANNEL-POSTRTG masquerades outside → pod traffic, and knet's
    // engine checks the MTU after POSTROUTING where ip_forward checks it before FORWARD.
    const h = createSimHost({ seed: 1 });
    const c = await buildCluster(buildClusterState(loadExampleCluster()), createFlannelPlugin({ ipMasq: false }), h);
    const t = tracePacket(c, h, resolveEndpoint(c, '198.51.100.9'), resolveEndpoint(c, 'shop/cart-5d8b9c7f6-hv4nx'), { proto: 'icmp', size: 1472, at: 'node-1' });
    expect(t.verdict).toMatchObject({ kind: 'dropped', reason: 'mtu-exceeded', node: 'node-1', dev: 'flannel.1' });
    const err = t.hops.filter((h) => h.flow === 'icmp-error');
    expect(err[0]?.packet).toMatch(/^IP 172\.18\.0\.2 > 198\.51\.100\.9: ICMP 10\.244\.1\.3 unreachable - need to frag \(mtu 1450\)/);
  });

  it('sends the outer datagram without DF (the vxlan device\'s default, df unset), 50 bytes over the inner packet', () => {
    const t = tracePacket(cluster, host, resolveEndpoint(cluster, 'default/client'), resolveEndpoint(cluster, 'shop/cart-5d8b9c7f6-hv4nx'), { proto: 'icmp', size: 1422 });
    expect(t.verdict).toMatchObject({ kind: 'delivered', pod: 'shop/cart-5d8b9c7f6-hv4nx' });
    const outer = t.frames.find((f) => f.netns === 'knet-example-fabric' && 'payload' in f.frame && f.frame.payload.kind === 'ipv4' && f.frame.payload.payload.kind === 'udp')!;
    const ip = (outer.frame as { payload: Ipv4Packet }).payload;
    expect(ip.df).toBe(false);
    expect(ipPacketLength(ip)).toBe(1500);
  });
});
