/**
 * flannel's host-gw and udp backends on the example cluster: the node state they leave and a
 * packet traced across nodes; host-gw's refusals (NAT, a remote node off the L2 segment).
 */
import {
  buildCluster,
  buildClusterState,
  createSimHost,
  formatTraceText,
  isKnetError,
  listenContainerPorts,
  loadExampleCluster,
  resolveEndpoint,
  tracePacket,
  type BuiltCluster,
  type Ipv4Packet,
  type SimHost,
} from '@knet/core';
import { describe, expect, it } from 'vitest';
import { createFlannelPlugin, type FlannelOptions, type FlannelPlugin } from '../src/index.js';

async function build(options: FlannelOptions): Promise<{ host: SimHost; cluster: BuiltCluster; flannel: FlannelPlugin }> {
  const host = createSimHost({ seed: 1 });
  const flannel = createFlannelPlugin(options);
  const cluster = await buildCluster(buildClusterState(loadExampleCluster()), flannel, host, { listen: async (ns, pod) => listenContainerPorts(host, ns, pod) });
  return { host, cluster, flannel };
}

const NODE2 = 'knet-example-node-node-2';

describe('flannel host-gw', () => {
  it('routes each remote subnet via the remote node on eth0, with the NIC\'s MTU for pods', async () => {
    const { host, flannel } = await build({ backend: 'host-gw' });
    const routes = (await host.routeList(NODE2)).filter((r) => r.table === 'main' && r.gateway !== undefined && r.dst !== 'default');
    expect(routes.map((r) => [r.dst, r.gateway, r.dev])).toEqual([
      ['10.244.0.0/24', '172.18.0.2', 'eth0'],
      ['10.244.2.0/24', '172.18.0.4', 'eth0'],
    ]);
    expect((await host.linkList(NODE2)).some((l) => l.kind === 'vxlan' || l.kind === 'tun')).toBe(false);
    expect(flannel.files('node-2').get('/run/flannel/subnet.env')).toBe('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1500\nFLANNEL_IPMASQ=true\n');
    expect((await flannel.kubeNodes!.get('node-2'))!.annotations['flannel.alpha.coreos.com/backend-data']).toBe('null');
  });

  it('forwards a pod\'s packet to the remote node\'s address on the fabric, without encapsulation', async () => {
    const { host, cluster } = await build({ backend: 'host-gw' });
    const t = tracePacket(cluster, host, resolveEndpoint(cluster, 'default/client'), resolveEndpoint(cluster, 'shop/cart-5d8b9c7f6-hv4nx:8080'), { proto: 'tcp' });
    expect(t.verdict).toMatchObject({ kind: 'delivered', pod: 'shop/cart-5d8b9c7f6-hv4nx' });
    const req = t.hops.filter((h) => h.flow === 'request');
    expect(req.some((h) => h.step === 'encap' || h.step === 'decap')).toBe(false);
    expect(req.find((h) => h.netns === 'knet-example-node-node-1' && h.step === 'route' && h.dev === 'eth0')?.decision).toBe('route to 10.244.1.3: 10.244.1.0/24 via 172.18.0.3 dev eth0');
    // The pod's own packet (10.244.0.4 → 10.244.1.3) crosses the fabric.
    const onFabric = t.frames.filter((f) => f.netns === 'knet-example-fabric' && 'payload' in f.frame && f.frame.payload.kind === 'ipv4');
    expect(onFabric.map((f) => (f.frame as { payload: Ipv4Packet }).payload.protocol)).toContain(6);
  });

  it('refuses a public IP that differs from the interface\'s (NAT), with flannel\'s message', async () => {
    const err = await build({ backend: 'host-gw', publicIPs: { 'node-2': '198.51.100.7' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EINVAL', message: "your PublicIP differs from interface IP, meaning that probably you're on a NAT, which is not supported by host-gw backend" });
  });

  it('names both nodes when a remote node is not on this node\'s L2 segment', async () => {
    const err = await build({ backend: 'host-gw', nodeAnnotations: { 'node-3': { 'flannel.alpha.coreos.com/public-ip-overwrite': '198.51.100.7' } } }).catch((e: unknown) => e);
    expect(isKnetError(err, 'ENETUNREACH')).toBe(true);
    expect((err as Error).message).toBe(
      "host-gw: node node-1 cannot route 10.244.2.0/24 via 198.51.100.7 dev eth0 (Network is unreachable): host-gw needs every node on one L2 segment, and 198.51.100.7 is not on node-1's (172.18.0.2 on eth0); use the vxlan backend (with DirectRouting) instead",
    );
  });
});

describe('flannel vxlan with DirectRouting', () => {
  it('routes remote subnets on the same segment directly, like host-gw, and keeps flannel.1 for the others', async () => {
    const { host } = await build({ backend: 'vxlan', directRouting: true });
    const routes = (await host.routeList(NODE2)).filter((r) => r.table === 'main' && r.dst.startsWith('10.244.') && r.gateway !== undefined);
    expect(routes.map((r) => [r.dst, r.gateway, r.dev])).toEqual([
      ['10.244.0.0/24', '172.18.0.2', 'eth0'],
      ['10.244.2.0/24', '172.18.0.4', 'eth0'],
    ]);
    expect((await host.neighList(NODE2)).filter((n) => n.dev === 'flannel.1')).toEqual([]);
  });
});

describe('flannel udp', () => {
  it('gives flannel0 the subnet address, MTU 1472 and the Network route; pods MTU 1472', async () => {
    const { host, flannel } = await build({ backend: 'udp' });
    const tun = (await host.linkList(NODE2)).find((l) => l.name === 'flannel0')!;
    expect(tun).toMatchObject({ kind: 'tun', tunMode: 'tun', mtu: 1472, up: true, noarp: true });
    expect((await host.addrList(NODE2)).filter((a) => a.dev === 'flannel0').map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['10.244.1.0/32']);
    expect((await host.routeList(NODE2)).find((r) => r.dev === 'flannel0' && r.table === 'main')).toMatchObject({ dst: '10.244.0.0/16', scope: 'global' });
    expect(flannel.files('node-2').get('/run/flannel/subnet.env')).toContain('FLANNEL_MTU=1472\n');
    // The udp backend sets no BackendType.
    expect((await flannel.kubeNodes!.get('node-2'))!.annotations['flannel.alpha.coreos.com/backend-type']).toBe('');
  });

  it('carries a ping through flanneld\'s proxy: read from flannel0, UDP 8285 across the fabric, written into the remote flannel0', async () => {
    const { host, cluster } = await build({ backend: 'udp' });
    const t = tracePacket(cluster, host, resolveEndpoint(cluster, 'default/client'), resolveEndpoint(cluster, 'shop/cart-5d8b9c7f6-hv4nx'), { proto: 'icmp' });
    expect(t.verdict, formatTraceText(t)).toMatchObject({ kind: 'delivered', pod: 'shop/cart-5d8b9c7f6-hv4nx' });
    expect(t.reply).toMatchObject({ kind: 'delivered', pod: 'default/client' });
    const req = t.hops.filter((h) => h.flow === 'request');
    expect(req.find((h) => h.step === 'xmit' && h.dev === 'flannel0')?.decision).toBe('sent on flannel0 (tun, no link layer): read by flanneld');
    expect(req.find((h) => h.step === 'encap')).toMatchObject({
      node: 'node-1',
      decision: 'flanneld (udp proxy): route 10.244.1.0/24 → 172.18.0.3:8285: ttl 63 → 62, sent in UDP 8285 → 172.18.0.3:8285 (+28 bytes)',
    });
    expect(req.find((h) => h.step === 'decap')).toMatchObject({ node: 'node-2', dev: 'flannel0' });
    const outer = t.frames.find((f) => f.netns === 'knet-example-fabric' && 'payload' in f.frame && f.frame.payload.kind === 'ipv4' && f.frame.payload.payload.kind === 'udp')!;
    const ip = (outer.frame as { payload: Ipv4Packet }).payload;
    expect(ip.payload).toMatchObject({ kind: 'udp', srcPort: 8285, dstPort: 8285 });
    // 84 bytes of ICMP echo in 28 bytes of IP and UDP.
    expect((ip.payload as { payload: Uint8Array }).payload.length).toBe(84);
    // TTL: 64 at the pod, 63 after node-1 forwards into flannel0, 62 and 61 after the two proxies, 60 after node-2.
    expect(req.filter((h) => h.step === 'forward').map((h) => h.detail)).toEqual([
      { kind: 'forward', ttlBefore: 64, ttlAfter: 63 },
      { kind: 'forward', ttlBefore: 61, ttlAfter: 60 },
    ]);
  });

  it('answers a destination no lease covers with flanneld\'s ICMP net unreachable, which the kernel drops as a martian (its source is flannel0\'s own address)', async () => {
    const { host, cluster } = await build({ backend: 'udp' });
    const t = tracePacket(cluster, host, resolveEndpoint(cluster, 'default/client'), resolveEndpoint(cluster, '10.244.200.5'), { proto: 'udp', dport: 9 });
    expect(t.verdict).toMatchObject({ kind: 'dropped', reason: 'no-route', node: 'node-1', dev: 'flannel0' });
    const err = t.hops.filter((h) => h.flow === 'icmp-error');
    expect(err.map((h) => h.step)).toEqual(['decap', 'receive', 'drop']);
    expect(err[0]).toMatchObject({ decision: 'flanneld (udp proxy): send_net_unreachable to 10.244.0.4', packet: 'IP 10.244.0.0 > 10.244.0.4: ICMP net 10.244.200.5 unreachable, length 36' });
    // proxy_amd64.c writes it with saddr = the tun's address; fib_validate_source refuses a local source (accept_local 0).
    expect(err[2]).toMatchObject({ netns: 'knet-example-node-node-1', dev: 'flannel0', detail: { kind: 'drop', reason: 'martian' } });
  });
});
