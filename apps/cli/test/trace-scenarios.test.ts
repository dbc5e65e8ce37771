import { describe, expect, it } from 'vitest';
import { resolveEndpoint, tracePacket, type TraceHop, type TraceResult } from '@knet/core';
import { buildSim, loadState, pickPlugin } from '../src/load-cluster.js';

const CLIENT = 'default/client'; // node-1, 10.244.0.4 (IPAM-assigned)
const FRONTEND1 = 'shop/frontend-7c9d6b8f4-2qzrt'; // node-1, 10.244.0.3
const CART2 = 'shop/cart-5d8b9c7f6-hv4nx'; // node-2, 10.244.1.3, containers cart:8080 + redis-sidecar:6379

async function example() {
  const state = loadState([]);
  return buildSim(state, pickPlugin(state, undefined), 1);
}

function trace(built: Awaited<ReturnType<typeof example>>, src: string, dst: string, proto: 'tcp' | 'udp' | 'icmp'): TraceResult {
  const d = resolveEndpoint(built.cluster, dst);
  return tracePacket(built.cluster, built.host, resolveEndpoint(built.cluster, src), d, { proto, ...(d.port !== undefined ? { dport: d.port } : {}) });
}

const main = (t: TraceResult, flow = 'request'): TraceHop[] => t.hops.filter((h) => h.flow === flow);

describe('same-node pod to pod (kubenet)', () => {
  it('shows eth0, the ARP exchange, the veth, cbr0 learning and forwarding, the peer veth and delivery', async () => {
    const built = await example();
    const t = trace(built, CLIENT, FRONTEND1 + ':8080', 'tcp');
    expect(t.verdict).toMatchObject({ kind: 'delivered', pod: FRONTEND1, socket: 'container frontend' });
    expect(t.reply).toMatchObject({ kind: 'delivered', pod: CLIENT, socket: 'pod default/client' });
    const steps = t.hops.filter((h) => h.flow !== 'reply').map((h) => `${h.pod ?? h.node}:${h.step}:${h.dev ?? ''}`);
    const expectInOrder = [
      `${CLIENT}:send:`,
      `${CLIENT}:route:eth0`,
      `${CLIENT}:neigh:eth0`, // miss: ARP starts
      `${CLIENT}:arp-request:eth0`,
      'node-1:bridge-learn:cbr0',
      `${FRONTEND1}:arp-reply:eth0`,
      `${CLIENT}:neigh:eth0`, // learned REACHABLE
      `${CLIENT}:xmit:eth0`,
      'node-1:receive:' + (t.hops.find((h) => h.step === 'receive' && h.node === 'node-1' && h.flow === 'request')?.dev ?? '?'),
      'node-1:bridge-forward:cbr0',
      `${FRONTEND1}:receive:eth0`,
      `${FRONTEND1}:deliver:eth0`,
    ];
    let at = 0;
    for (const s of expectInOrder) {
      const i = steps.indexOf(s, at);
      expect(i, `${s} after position ${at} in\n${steps.join('\n')}`).toBeGreaterThanOrEqual(at);
      at = i + 1;
    }
    // Same subnet: no routing through the host, the TTL arrives untouched.
    expect(t.hops.some((h) => h.flow === 'request' && h.step === 'forward')).toBe(false);
    expect(main(t).find((h) => h.step === 'deliver')?.packet).toBeDefined();
    const fwd = main(t).find((h) => h.step === 'bridge-forward')!;
    expect(fwd.detail).toMatchObject({ kind: 'fdb', bridge: 'cbr0', action: 'forward' });
  });

  it('a second packet uses the learnt ARP and FDB entries', async () => {
    const built = await example();
    trace(built, CLIENT, FRONTEND1, 'icmp');
    const second = trace(built, CLIENT, FRONTEND1, 'icmp');
    expect(second.verdict.kind).toBe('delivered');
    const req = main(second);
    expect(req.find((h) => h.step === 'neigh')?.detail).toMatchObject({ kind: 'neigh', action: 'hit', state: 'REACHABLE' });
    expect(req.some((h) => h.step === 'bridge-learn' || h.step === 'bridge-flood')).toBe(false);
    expect(second.hops.some((h) => h.flow === 'arp' && h.time < req[req.length - 1]!.time)).toBe(false);
  });
});

describe('cross-node pod to pod (kubenet, routes on every node)', () => {
  it('goes pod → gateway → node routing → fabric → node-2 → cbr0 → pod with the right MACs and TTLs', async () => {
    const built = await example();
    const { host, cluster } = built;
    const t = trace(built, CLIENT, CART2 + ':8080', 'tcp');
    expect(t.verdict).toMatchObject({ kind: 'delivered', pod: CART2, node: 'node-2', socket: 'container cart' });
    const req = main(t);
    const ns = (n: string) => host.ns(n);
    const mac = (netns: string, dev: string) => ns(netns).links.get(dev)!.mac;
    const n1 = cluster.names.node('node-1');
    const n2 = cluster.names.node('node-2');
    const client = cluster.pods.get(CLIENT)!.netns;
    const cart = cluster.pods.get(CART2)!.netns;

    // 1. In the client: default via the gateway 10.244.0.1 (cbr0 on node-1).
    expect(req.find((h) => h.step === 'route' && h.netns === client)?.decision).toContain('default via 10.244.0.1 dev eth0');
    const out1 = t.frames[req.find((h) => h.step === 'xmit' && h.netns === client)!.frame!]!;
    expect(out1.frame).toMatchObject({ src: mac(client, 'eth0'), dst: mac(n1, 'cbr0') });
    expect((out1.frame as { payload: { ttl: number } }).payload.ttl).toBe(64);

    // 2. node-1 routes the pod CIDR of node-2 via node-2's InternalIP and decrements the TTL.
    expect(req.find((h) => h.step === 'route' && h.netns === n1)?.decision).toContain('10.244.1.0/24 via 172.18.0.3 dev eth0');
    expect(req.find((h) => h.step === 'forward' && h.netns === n1)?.detail).toEqual({ kind: 'forward', ttlBefore: 64, ttlAfter: 63 });
    const out2 = t.frames[req.find((h) => h.step === 'xmit' && h.netns === n1 && h.dev === 'eth0')!.frame!]!;
    expect(out2.frame).toMatchObject({ src: mac(n1, 'eth0'), dst: mac(n2, 'eth0') });
    expect((out2.frame as { payload: { ttl: number } }).payload.ttl).toBe(63);

    // 3. The fabric switches it (L2, no TTL change) to node-2's port.
    expect(req.some((h) => h.step === 'bridge-forward' && h.netns === cluster.names.fabric && h.decision.includes('n-node-2'))).toBe(true);

    // 4. node-2 delivers the pod CIDR on cbr0 (connected route), TTL 63 → 62, new MACs.
    expect(req.find((h) => h.step === 'route' && h.netns === n2)?.decision).toContain('10.244.1.0/24 dev cbr0 proto kernel scope link src 10.244.1.1');
    expect(req.find((h) => h.step === 'forward' && h.netns === n2)?.detail).toEqual({ kind: 'forward', ttlBefore: 63, ttlAfter: 62 });
    const rx = t.frames[req.find((h) => h.step === 'receive' && h.netns === cart)!.frame!]!;
    expect(rx.frame).toMatchObject({ src: mac(n2, 'cbr0'), dst: mac(cart, 'eth0') });
    expect((rx.frame as { payload: { ttl: number } }).payload.ttl).toBe(62);

    // The reply takes the symmetric path back.
    expect(t.reply).toMatchObject({ kind: 'delivered', pod: CLIENT });
    expect(main(t, 'reply').find((h) => h.step === 'route' && h.netns === n2)?.decision).toContain('10.244.0.0/24 via 172.18.0.2 dev eth0');
  });
});

describe('containers of one pod', () => {
  it('reach each other over localhost', async () => {
    const built = await example();
    const t = trace(built, `${CART2}:cart`, `${CART2}:redis-sidecar:6379`, 'tcp');
    expect(t.request.dst).toBe('127.0.0.1');
    expect(t.verdict).toMatchObject({ kind: 'delivered', socket: 'container redis-sidecar', pod: CART2 });
    expect(t.hops.filter((h) => h.flow === 'request' && h.dev !== undefined).every((h) => h.dev === 'lo')).toBe(true);
  });

  it('are refused on a port nobody listens on (TCP RST)', async () => {
    const built = await example();
    const t = trace(built, `${CART2}:cart`, `${CART2}:redis-sidecar:6380`, 'tcp');
    expect(t.verdict.kind).toBe('refused');
    expect(main(t, 'reply')[0]?.packet).toContain('Flags [R.]');
  });
});

describe('packets that leave or die', () => {
  it('a packet to an outside address leaves the cluster through the fabric', async () => {
    const built = await example();
    const t = trace(built, CLIENT, '203.0.113.7', 'icmp');
    expect(t.verdict.kind).toBe('left-cluster');
  });

  it('a packet to an unused pod address dies with neigh-failed after three ARP probes', async () => {
    const built = await example();
    const t = trace(built, CLIENT, '10.244.1.200', 'icmp');
    expect(t.verdict).toMatchObject({ kind: 'dropped', reason: 'neigh-failed', node: 'node-2' });
    const probes = t.hops.filter((h) => h.step === 'arp-request' && h.node === 'node-2' && h.decision.includes('who-has 10.244.1.200'));
    expect(probes.map((h) => h.decision.match(/probe \d\/3/)?.[0])).toEqual(['probe 1/3', 'probe 2/3', 'probe 3/3']);
    // retrans_time 1 s apart.
    expect(probes[1]!.time - probes[0]!.time).toBe(1e9);
    // node-2 forwarded the packet, so it tells the sender: ICMP host unreachable.
    expect(t.hops.some((h) => h.flow === 'icmp-error' && h.step === 'deliver' && h.pod === 'default/client')).toBe(true);
  });
});

describe('NetworkPolicy in traces', () => {
  it('reports the policy verdict at the destination; kubenet does not enforce it', async () => {
    const built = await example();
    const denied = trace(built, CLIENT, CART2 + ':8080', 'tcp');
    const hop = denied.hops.find((h) => h.step === 'policy')!;
    expect(hop).toMatchObject({ pod: CART2, detail: { kind: 'policy', allowed: false, enforced: false, port: 8080, protocol: 'TCP', ingress: 'network-policy' } });
    expect(hop.decision).toContain('kubenet does not enforce NetworkPolicy');
    expect(denied.verdict.kind).toBe('delivered');
    // The hop sits right before the delivery, and the indexes stay consecutive.
    const at = denied.hops.indexOf(hop);
    expect(denied.hops[at + 1]?.step).toBe('deliver');
    expect(denied.hops.every((h, i) => h.index === i)).toBe(true);

    const allowed = trace(built, 'shop/frontend-7c9d6b8f4-9wlmf', CART2 + ':8080', 'tcp');
    expect(allowed.hops.find((h) => h.step === 'policy')?.detail).toMatchObject({ allowed: true });
  });

  it('evaluates the port after DNAT: a Service port is judged at its target port', async () => {
    const built = await example();
    const t = trace(built, CLIENT, 'svc/shop/cart', 'tcp');
    expect(t.hops.find((h) => h.step === 'policy')?.detail).toMatchObject({ port: 8080, allowed: false });
  });
});
