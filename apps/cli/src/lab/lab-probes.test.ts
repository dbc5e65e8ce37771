import { buildClusterState, loadExampleCluster, resolveEndpoint, tracePacket } from '@knet/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSim, pickPlugin } from '../load-cluster.js';
import { firstTcpPort, planLabProbes, predictProbe, probeOutcomeOfTrace, type LabProbe, type SimCluster } from './lab-probes.js';

const state = buildClusterState(loadExampleCluster());
const build = (): Promise<SimCluster> => buildSim(state, pickPlugin(state, undefined), 1);
let sim: SimCluster;
beforeAll(async () => {
  sim = await build();
});

describe('firstTcpPort', () => {
  it.each([
    ['kube-system/coredns-7db6d8ff4d-x5k8w', 53],
    ['shop/cart-5d8b9c7f6-hv4nx', 8080],
    ['default/client', undefined],
    ['kube-system/kube-proxy-7xkzp', undefined],
  ])('%s: %s', (pod, port) => {
    expect(firstTcpPort(sim.cluster.pods.get(pod)!)).toBe(port);
  });
});

describe('planLabProbes', () => {
  it('probes every ordered pod pair, then every Service port from every pod', () => {
    const probes = planLabProbes(sim.cluster);
    const pods = sim.cluster.pods.size;
    expect(pods).toBe(11);
    expect(probes.filter((p) => p.kind === 'pod')).toHaveLength(pods * (pods - 1));
    // kube-dns has 3 ports, frontend, cart and db one each.
    expect(probes.filter((p) => p.kind === 'service')).toHaveLength(6 * pods);
    expect(probes.map((p) => p.id)).toEqual(probes.map((_, i) => i));
    expect(probes.filter((p) => p.from === 'default/client' && p.kind === 'pod').map((p) => [p.to, p.proto, p.ip, p.port])).toEqual([
      ['kube-system/coredns-7db6d8ff4d-x5k8w', 'tcp', '10.244.0.2', 53],
      ['shop/frontend-7c9d6b8f4-2qzrt', 'tcp', '10.244.0.3', 8080],
      ['kube-system/kube-proxy-7xkzp', 'icmp', '172.18.0.2', undefined],
      ['shop/frontend-7c9d6b8f4-9wlmf', 'tcp', '10.244.1.2', 8080],
      ['shop/cart-5d8b9c7f6-hv4nx', 'tcp', '10.244.1.3', 8080],
      ['shop/loadgen-6f9c8d7b5-tq2mz', 'icmp', '10.244.1.4', undefined],
      ['kube-system/kube-proxy-b6dqs', 'icmp', '172.18.0.3', undefined],
      ['shop/cart-5d8b9c7f6-r8zjp', 'tcp', '10.244.2.2', 8080],
      ['shop/db-0', 'tcp', '10.244.2.3', 5432],
      ['kube-system/kube-proxy-mk9tf', 'icmp', '172.18.0.4', undefined],
    ]);
    expect(probes.filter((p) => p.from === 'default/client' && p.kind === 'service').map((p) => [p.to, p.proto, p.ip, p.port])).toEqual([
      ['svc/kube-system/kube-dns:dns', 'udp', '10.96.0.10', 53],
      ['svc/kube-system/kube-dns:dns-tcp', 'tcp', '10.96.0.10', 53],
      ['svc/kube-system/kube-dns:metrics', 'tcp', '10.96.0.10', 9153],
      ['svc/shop/frontend:http', 'tcp', '10.96.12.34', 80],
      ['svc/shop/cart:http', 'tcp', '10.96.45.67', 8080],
      ['svc/shop/db:postgres', 'tcp', '10.96.78.90', 5432],
    ]);
    // hostNetwork pods probe from their node's namespace.
    expect(probes.find((p) => p.from === 'kube-system/kube-proxy-7xkzp')?.fromNetns).toBe('knet-example-node-node-1');
  });
});

describe('probeOutcomeOfTrace', () => {
  const trace = (src: string, dst: string, proto: 'tcp' | 'udp' | 'icmp') =>
    tracePacket(sim.cluster, sim.host, resolveEndpoint(sim.cluster, src), resolveEndpoint(sim.cluster, dst), { proto, capture: false });
  it.each([
    ['a listening port', 'default/client', 'shop/db-0:5432', 'tcp', 'connected', undefined],
    ['a closed TCP port (RST)', 'default/client', 'shop/db-0:9999', 'tcp', 'refused', /^refused in shop\/db-0/],
    ['a closed UDP port (ICMP port unreachable)', 'default/client', 'shop/db-0:5353', 'udp', 'refused', /^refused in shop\/db-0/],
    ['a ping to a pod', 'default/client', 'shop/loadgen-6f9c8d7b5-tq2mz', 'icmp', 'connected', undefined],
    ['an address beyond the cluster', 'default/client', '10.96.1.1:80', 'tcp', 'timeout', /^left-cluster/],
    ['an unassigned pod address (no ARP answer)', 'default/client', '10.244.1.200', 'icmp', 'timeout', /^dropped: neigh-failed/],
  ] as const)('%s: %s', (_, src, dst, proto, outcome, why) => {
    const r = probeOutcomeOfTrace(trace(src, dst, proto));
    expect(r.outcome).toBe(outcome);
    if (why === undefined) expect(r.why).toBeUndefined();
    else expect(r.why).toMatch(why);
  });
});

describe('predictProbe', () => {
  const probe = (over: Partial<LabProbe>): LabProbe => ({ id: 0, kind: 'service', from: 'default/client', fromNetns: 'knet-example-pod-default-client', to: 'svc/shop/frontend:http', proto: 'tcp', ip: '10.96.12.34', port: 80, ...over });
  it('follows every endpoint kube-proxy may pick', async () => {
    expect(await predictProbe(sim, probe({}), build)).toEqual({ outcomes: ['connected'], paths: 2 });
  });
  it('predicts a pod-to-pod probe with one path', async () => {
    expect(await predictProbe(sim, probe({ kind: 'pod', to: 'shop/db-0', ip: '10.244.2.3', port: 5432 }), build)).toEqual({ outcomes: ['connected'], paths: 1 });
    const ping = await predictProbe(sim, probe({ kind: 'pod', to: 'kube-system/kube-proxy-mk9tf', proto: 'icmp', ip: '172.18.0.4' }), build);
    expect(ping).toEqual({ outcomes: ['connected'], paths: 1 });
  });
});
