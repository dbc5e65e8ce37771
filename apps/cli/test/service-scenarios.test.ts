import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveEndpoint, traceAllPaths, tracePacket, type TraceResult } from '@knet/core';
import { buildSim, loadState, pickPlugin } from '../src/load-cluster.js';

const FILE = fileURLToPath(new URL('./fixtures/services.yaml', import.meta.url));
const WEB1 = '10.244.0.2:8080'; // node-1
const WEB2 = '10.244.1.2:8080'; // node-2

async function cluster(seed = 1) {
  const state = loadState([FILE]);
  return buildSim(state, pickPlugin(state, undefined), seed);
}

async function trace(src: string, dst: string, options: { at?: string; seed?: number } = {}): Promise<TraceResult> {
  const b = await cluster(options.seed);
  const d = resolveEndpoint(b.cluster, dst);
  return tracePacket(b.cluster, b.host, resolveEndpoint(b.cluster, src), d, {
    proto: d.protocol ?? 'tcp',
    ...(d.port !== undefined ? { dport: d.port } : {}),
    ...(options.at !== undefined ? { at: options.at } : {}),
  });
}

async function allPaths(src: string, dst: string): Promise<TraceResult[]> {
  return traceAllPaths(async (choose) => {
    const b = await cluster();
    const d = resolveEndpoint(b.cluster, dst);
    return tracePacket(b.cluster, b.host, resolveEndpoint(b.cluster, src), d, { proto: 'tcp', ...(d.port !== undefined ? { dport: d.port } : {}), choose });
  });
}

const summary = (paths: readonly TraceResult[]) => paths.map((p) => [p.outcome.endpoint, p.outcome.masqueraded, p.outcome.verdict, p.outcome.probability]);

describe('ClusterIP', () => {
  it('from a pod: either endpoint with p=1/2, not masqueraded, and the reply comes back from the ClusterIP', async () => {
    const paths = await allPaths('default/client-1', 'svc/default/web');
    expect(summary(paths)).toEqual([
      [WEB1, false, 'delivered', 0.5],
      [WEB2, false, 'delivered', 0.5],
    ]);
    for (const p of paths) {
      expect(p.reply).toMatchObject({ kind: 'delivered', pod: 'default/client-1' });
      const back = p.hops.filter((h) => h.flow === 'reply' && h.step === 'nat');
      expect(back.map((h) => h.detail)).toContainEqual(expect.objectContaining({ kind: 'nat', reverse: true, after: '10.96.0.100:80' }));
      // The client's socket sees the reply from the ClusterIP.
      const delivered = p.hops.filter((h) => h.flow === 'reply' && h.step === 'deliver').pop()!;
      expect(delivered.packet).toMatch(/^IP 10\.96\.0\.100\.80 > 10\.244\.0\.3\.\d+:/);
    }
    // The DNAT rule is named, with its chain and number.
    const nat = paths[0]!.hops.find((h) => h.step === 'netfilter' && h.detail?.kind === 'netfilter' && h.detail.table === 'nat')!;
    expect(nat.detail).toMatchObject({ hook: 'PREROUTING', verdict: 'DNAT' });
    expect(nat.decision).toContain('-j DNAT --to-destination 10.244.0.2:8080');
  });

  it('from a node: DNAT in OUTPUT and masqueraded (the source is not a pod address)', async () => {
    const paths = await allPaths('node/node-3', 'svc/default/web');
    expect(summary(paths)).toEqual([
      [WEB1, true, 'delivered', 0.5],
      [WEB2, true, 'delivered', 0.5],
    ]);
    expect(paths[0]!.hops.find((h) => h.step === 'netfilter' && h.decision.startsWith('nat OUTPUT'))).toBeDefined();
  });

  it('hairpin under promiscuous-bridge: the path back to the pod itself is dropped at the bridge (no hairpin flag), the other endpoint works', async () => {
    const paths = await allPaths('default/web-1', 'svc/default/web');
    expect(summary(paths)).toEqual([
      [WEB1, false, 'dropped', 0.5],
      [WEB2, false, 'delivered', 0.5],
    ]);
    const self = paths[0]!;
    expect(self.verdict).toMatchObject({ kind: 'dropped', reason: 'hairpin-denied', node: 'node-1' });
    // kube-proxy marked it for masquerade (the SEP's hairpin rule), but it never reached POSTROUTING.
    expect(self.hops.some((h) => h.decision.includes('-s 10.244.0.2/32') && h.decision.includes('KUBE-MARK-MASQ'))).toBe(true);
  });

  it('hairpin with a REACHABLE neighbour entry for the pod on the node: dropped the same way', async () => {
    const b = await cluster();
    // The node talks to web-1 first, so cbr0's neighbour entry for it becomes REACHABLE.
    tracePacket(b.cluster, b.host, resolveEndpoint(b.cluster, 'node/node-1'), resolveEndpoint(b.cluster, 'default/web-1:8080'), { proto: 'tcp', dport: 8080 });
    const d = resolveEndpoint(b.cluster, 'svc/default/web');
    const t = tracePacket(b.cluster, b.host, resolveEndpoint(b.cluster, 'default/web-1'), d, { proto: 'tcp', dport: 80, choose: () => true });
    expect(t.outcome.endpoint).toBe(WEB1);
    expect(t.verdict).toMatchObject({ kind: 'dropped', reason: 'hairpin-denied', node: 'node-1' });
    expect(t.hops.some((h) => h.decision.startsWith('bridged DNAT (br_netfilter)'))).toBe(true);
  });

  it('hairpin-veth mode sets the port flag, so the same bridged DNAT is delivered', async () => {
    const state = loadState([FILE]);
    const b = await buildSim(state, pickPlugin({ ...state, cluster: { ...state.cluster, cni: { plugin: 'kubenet', options: { hairpinMode: 'hairpin-veth' } } } }, undefined), 1);
    tracePacket(b.cluster, b.host, resolveEndpoint(b.cluster, 'node/node-1'), resolveEndpoint(b.cluster, 'default/web-1:8080'), { proto: 'tcp', dport: 8080 });
    const t = tracePacket(b.cluster, b.host, resolveEndpoint(b.cluster, 'default/web-1'), resolveEndpoint(b.cluster, 'svc/default/web'), { proto: 'tcp', dport: 80, choose: () => true });
    expect(t.outcome).toMatchObject({ endpoint: WEB1, masqueraded: true, verdict: 'delivered' });
    expect(t.hops.some((h) => h.step === 'bridge-forward' && h.detail?.kind === 'fdb' && h.detail.action === 'hairpin')).toBe(true);
  });

  it('without endpoints: REJECT, and the client gets ICMP port unreachable', async () => {
    const t = await trace('default/client-1', 'svc/default/web-empty');
    expect(t.verdict).toMatchObject({ kind: 'rejected', node: 'node-1' });
    expect(t.verdict.rule).toContain('has no endpoints');
    expect(t.outcome).toMatchObject({ endpoint: null, verdict: 'rejected' });
    expect(t.reply).toMatchObject({ kind: 'delivered', pod: 'default/client-1' });
    expect(t.hops.some((h) => h.flow === 'icmp-error' && h.packet.includes('port 80 unreachable'))).toBe(true);
  });
});

describe('sessionAffinity: ClientIP', () => {
  it('sends every connection of a client to the endpoint it chose first', async () => {
    const b = await cluster(7);
    const src = resolveEndpoint(b.cluster, 'default/client-1');
    const run = (svc: string) => {
      const d = resolveEndpoint(b.cluster, svc);
      return Array.from({ length: 8 }, () => tracePacket(b.cluster, b.host, src, d, { proto: 'tcp', dport: 80 }).outcome.endpoint);
    };
    const sticky = run('svc/default/web-sticky');
    expect(new Set(sticky).size).toBe(1);
    const plain = run('svc/default/web');
    expect(new Set(plain)).toEqual(new Set([WEB1, WEB2]));
    // After the first connection the recent list answers before the statistic rules.
    const again = tracePacket(b.cluster, b.host, src, resolveEndpoint(b.cluster, 'svc/default/web-sticky'), { proto: 'tcp', dport: 80 });
    expect(again.decisions).toEqual([]);
    expect(again.hops.some((h) => h.decision.includes('--rcheck --seconds 10800 --reap'))).toBe(true);
  });
});

describe('NodePort', () => {
  it('from outside: masqueraded to the node, delivered, the reply un-NATed twice', async () => {
    const t = await trace('203.0.113.5', '172.18.0.3:30080');
    expect(t.outcome.masqueraded).toBe(true);
    expect([WEB1, WEB2]).toContain(t.outcome.endpoint);
    expect(t.verdict.kind).toBe('delivered');
    expect(t.reply).toMatchObject({ kind: 'delivered', netns: expect.stringMatching(/-outside$/) });
    const reverse = t.hops.filter((h) => h.flow === 'reply' && h.detail?.kind === 'nat').map((h) => (h.detail as { manip: string }).manip);
    expect(reverse.sort()).toEqual(['DNAT', 'SNAT']);
  });

  it('externalTrafficPolicy Local on a node with a local endpoint: the client address is kept', async () => {
    const t = await trace('203.0.113.5', '172.18.0.2:30081');
    expect(t.outcome).toMatchObject({ endpoint: WEB1, masqueraded: false, verdict: 'delivered' });
    const delivered = t.hops.find((h) => h.flow === 'request' && h.step === 'deliver')!;
    expect(delivered.packet).toMatch(/^IP 203\.0\.113\.5\.\d+ > 10\.244\.0\.2\.8080:/);
  });

  it('externalTrafficPolicy Local on a node without a local endpoint: dropped by KUBE-EXTERNAL-SERVICES', async () => {
    const t = await trace('203.0.113.5', '172.18.0.4:30081');
    expect(t.verdict).toMatchObject({ kind: 'dropped', reason: 'netfilter-drop', node: 'node-3' });
    expect(t.verdict.rule).toContain('default/web-local:http has no local endpoints');
    expect(t.outcome.verdict).toBe('dropped');
  });

  it('from a pod on another node (eTP Local short-circuits pod traffic to all endpoints)', async () => {
    const t = await trace('default/client-3', '172.18.0.4:30081');
    expect(t.outcome).toMatchObject({ endpoint: WEB1, verdict: 'delivered' });
  });
});

describe('LoadBalancer', () => {
  it('from an allowed source range: delivered, masqueraded (eTP Cluster)', async () => {
    const t = await trace('198.51.100.7', '203.0.113.20:80');
    expect(t.outcome).toMatchObject({ masqueraded: true, verdict: 'delivered' });
    expect(t.hops.some((h) => h.decision.includes('KUBE-FW-'))).toBe(true);
  });

  it('from outside the source ranges: dropped by KUBE-PROXY-FIREWALL', async () => {
    const t = await trace('203.0.113.5', '203.0.113.20:80');
    expect(t.verdict).toMatchObject({ kind: 'dropped', reason: 'netfilter-drop' });
    expect(t.verdict.rule).toMatch(/^-A KUBE-PROXY-FIREWALL .* -j DROP$/);
  });

  it('--at picks the node the load balancer delivers to', async () => {
    const t = await trace('198.51.100.7', '203.0.113.20:80', { at: 'node-3' });
    expect(t.request.at).toBe('node-3');
    expect(t.hops.find((h) => h.step === 'netfilter')?.node).toBe('node-3');
    expect(t.verdict.kind).toBe('delivered');
  });

  it('a node reaching a NodePort on 127.0.0.1 (localhost NodePorts): masqueraded to the node', async () => {
    const t = await trace('127.0.0.1', '127.0.0.1:30080', { at: 'node-2' });
    expect(t.verdict.kind).toBe('delivered');
    expect(t.outcome.masqueraded).toBe(true);
    const delivered = t.hops.find((h) => h.flow === 'request' && h.step === 'deliver')!;
    expect(delivered.packet).toMatch(/^IP (172\.18\.0\.3|10\.244\.1\.1)\.\d+ > /);
  });

  it('without route_localnet (kube-proxy sets it) a 127.0.0.1 source cannot leave the node', async () => {
    const b = await cluster();
    await b.host.sysctlSet(b.cluster.names.node('node-2'), 'net.ipv4.conf.all.route_localnet', '0');
    const d = resolveEndpoint(b.cluster, '127.0.0.1:30080');
    const t = tracePacket(b.cluster, b.host, resolveEndpoint(b.cluster, '127.0.0.1'), d, { proto: 'tcp', dport: 30080, at: 'node-2' });
    expect(t.verdict).toMatchObject({ kind: 'dropped', reason: 'martian', node: 'node-2' });
  });
});
