import { describe, expect, it } from 'vitest';
import { fixtureIndex } from '../../test/netpol/cluster-fixture.js';
import type { Fixture } from '../../test/netpol/cluster-fixture.js';
import { SeededRng } from '../util/seeded-rng.js';
import { evaluateConnection } from './evaluate-connection.js';
import type { PolicyProtocol } from './network-policy-api.js';
import { computeReachabilityMatrix, groupEquivalentPods, isReachable } from './reachability-matrix.js';
import type { ReachabilityMatrix } from './reachability-matrix.js';

function pick<T>(rng: SeededRng, xs: readonly T[]): T {
  return xs[Math.floor(rng.nextFloat() * xs.length)] as T;
}

/** A random cluster exercising every feature: selectors, ipBlocks, named ports, endPort, host network, AdminNetworkPolicy, baseline. */
function randomFixture(seed: number): Fixture {
  const rng = new SeededRng(seed);
  const nss = ['x', 'y', 'z'];
  const pods: Fixture['pods'][number][] = [];
  for (let i = 0; i < 12; i++) {
    const hostNetwork = i >= 10;
    pods.push({
      key: `${pick(rng, nss)}/p${i}`,
      labels: { app: pick(rng, ['a', 'b', 'c']), ...(rng.nextFloat() < 0.5 ? { tier: pick(rng, ['web', 'db']) } : {}) },
      node: 1 + Math.floor(rng.nextFloat() * 3),
      hostNetwork,
      ports: [
        { name: 'http', containerPort: pick(rng, [80, 8080]) },
        { name: 'dns', containerPort: 53, protocol: 'UDP' },
      ],
    });
  }
  const selector = (): Record<string, unknown> =>
    pick(rng, [
      {},
      { matchLabels: { app: pick(rng, ['a', 'b', 'c']) } },
      { matchExpressions: [{ key: 'tier', operator: pick(rng, ['Exists', 'DoesNotExist']) }] },
      { matchExpressions: [{ key: 'app', operator: pick(rng, ['In', 'NotIn']), values: [pick(rng, ['a', 'b']), 'c'] }] },
    ]);
  const nsSelector = (): Record<string, unknown> => pick(rng, [{}, { matchLabels: { team: pick(rng, ['red', 'blue']) } }, { matchLabels: { 'kubernetes.io/metadata.name': pick(rng, nss) } }]);
  const npPorts = (): unknown[] | undefined =>
    pick(rng, [undefined, [{ port: 80 }], [{ port: 'http' }], [{ port: 79, endPort: 81 }], [{ protocol: 'UDP' }], [{ port: 'dns', protocol: 'UDP' }, { port: 8080 }]]);
  const npPeer = (): unknown =>
    pick(rng, [
      { podSelector: selector() },
      { namespaceSelector: nsSelector() },
      { namespaceSelector: nsSelector(), podSelector: selector() },
      { ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.1.0/24'] } },
      { ipBlock: { cidr: '172.18.0.0/30' } },
    ]);
  const npRule = (peersKey: 'from' | 'to'): Record<string, unknown> => {
    const rule: Record<string, unknown> = {};
    const ports = npPorts();
    if (ports !== undefined) rule['ports'] = ports;
    if (rng.nextFloat() < 0.8) rule[peersKey] = Array.from({ length: 1 + Math.floor(rng.nextFloat() * 2) }, npPeer);
    return rule;
  };
  const policies = Array.from({ length: 1 + Math.floor(rng.nextFloat() * 4) }, (_, i) => {
    const spec: Record<string, unknown> = { podSelector: selector() };
    const types = pick(rng, [undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
    if (types !== undefined) spec['policyTypes'] = types;
    if (rng.nextFloat() < 0.7) spec['ingress'] = Array.from({ length: Math.floor(rng.nextFloat() * 3) }, () => npRule('from'));
    if (rng.nextFloat() < 0.6) spec['egress'] = Array.from({ length: Math.floor(rng.nextFloat() * 3) }, () => npRule('to'));
    return { namespace: pick(rng, nss), name: `np${i}`, spec };
  });
  const adminPeer = (egress: boolean): unknown =>
    pick(rng, [
      { namespaces: nsSelector() },
      { pods: { namespaceSelector: nsSelector(), podSelector: selector() } },
      ...(egress ? [{ networks: ['10.244.2.0/24'] }, { nodes: { matchLabels: { zone: 'b' } } }] : []),
    ]);
  const adminPorts = (): unknown[] | undefined =>
    pick(rng, [undefined, [{ portNumber: { protocol: 'TCP', port: 80 } }], [{ portRange: { protocol: 'UDP', start: 50, end: 60 } }], [{ namedPort: 'http' }]]);
  const adminRules = (egress: boolean, actions: readonly string[]): unknown[] =>
    Array.from({ length: Math.floor(rng.nextFloat() * 3) }, () => {
      const ports = adminPorts();
      const peers = [adminPeer(egress)];
      const namedWithIp = ports !== undefined && JSON.stringify(ports).includes('namedPort') && JSON.stringify(peers).match(/networks|nodes/) !== null;
      return { action: pick(rng, actions), [egress ? 'to' : 'from']: peers, ...(ports === undefined || namedWithIp ? {} : { ports }) };
    });
  const adminPolicies = Array.from({ length: Math.floor(rng.nextFloat() * 3) }, (_, i) => ({
    name: `anp${i}`,
    spec: {
      priority: Math.floor(rng.nextFloat() * 3),
      subject: rng.nextFloat() < 0.5 ? { namespaces: nsSelector() } : { pods: { namespaceSelector: nsSelector(), podSelector: selector() } },
      ingress: adminRules(false, ['Allow', 'Deny', 'Pass']),
      egress: adminRules(true, ['Allow', 'Deny', 'Pass']),
    },
  }));
  const baseline =
    rng.nextFloat() < 0.5 ? { subject: { namespaces: nsSelector() }, ingress: adminRules(false, ['Allow', 'Deny']), egress: adminRules(true, ['Allow', 'Deny']) } : undefined;
  return {
    namespaces: { x: { team: 'red' }, y: { team: 'blue' }, z: { team: 'red' } },
    pods,
    policies,
    adminPolicies,
    ...(baseline === undefined ? {} : { baseline }),
  };
}

describe('computeReachabilityMatrix', () => {
  it('agrees with evaluateConnection on every cell of 40 random clusters (selectors, ipBlocks, named ports, endPort, host network, admin tiers)', () => {
    const probes: [number, PolicyProtocol][] = [
      [80, 'TCP'],
      [8080, 'TCP'],
      [53, 'UDP'],
      [55, 'UDP'],
    ];
    let allowed = 0;
    let denied = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const index = fixtureIndex(randomFixture(seed));
      for (const [port, protocol] of probes) {
        const m = computeReachabilityMatrix(index, port, protocol);
        for (let a = 0; a < m.pods.length; a++) {
          for (let b = 0; b < m.pods.length; b++) {
            const v = evaluateConnection(index, a, b, port, protocol);
            expect(isReachable(m, a, b), `seed ${seed} ${protocol}/${port} ${m.pods[a]} -> ${m.pods[b]}`).toBe(v.allowed);
            if (v.allowed) allowed++;
            else denied++;
          }
        }
      }
    }
    // Both outcomes are well represented, so the comparison means something.
    expect(allowed).toBeGreaterThan(5000);
    expect(denied).toBeGreaterThan(2000);
  });

  it('covers a subset of pods in the given order', () => {
    const index = fixtureIndex({
      pods: [{ key: 'x/a' }, { key: 'x/b' }, { key: 'y/c' }],
      policies: [{ namespace: 'x', name: 'deny', spec: { podSelector: {}, policyTypes: ['Ingress'] } }],
    });
    const m = computeReachabilityMatrix(index, 80, 'TCP', { pods: [2, 0] });
    expect(m.pods).toEqual(['y/c', 'x/a']);
    expect([isReachable(m, 0, 1), isReachable(m, 1, 0), isReachable(m, 0, 0)]).toEqual([false, true, true]);
  });

  it('always allows a pod to reach itself, even under deny-all', () => {
    const index = fixtureIndex({ pods: [{ key: 'x/a' }, { key: 'x/b' }], policies: [{ namespace: 'x', name: 'deny', spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } }] });
    const m = computeReachabilityMatrix(index, 80, 'TCP');
    expect([isReachable(m, 0, 0), isReachable(m, 1, 1), isReachable(m, 0, 1), isReachable(m, 1, 0)]).toEqual([true, true, false, false]);
  });
});

/** True when swapping positions a and b leaves the matrix unchanged. */
function swappable(m: ReachabilityMatrix, a: number, b: number): boolean {
  const sw = (i: number): number => (i === a ? b : i === b ? a : i);
  for (let i = 0; i < m.pods.length; i++) for (let j = 0; j < m.pods.length; j++) if (isReachable(m, i, j) !== isReachable(m, sw(i), sw(j))) return false;
  return true;
}

describe('groupEquivalentPods', () => {
  it('groups exactly the pods that can be swapped without changing the matrix (40 random clusters)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const m = computeReachabilityMatrix(fixtureIndex(randomFixture(seed)), 80, 'TCP');
      const groups = groupEquivalentPods(m);
      expect(groups.flat().sort((x, y) => x - y)).toEqual(m.pods.map((_, i) => i));
      const groupOf = new Map<number, number>();
      groups.forEach((g, gi) => g.forEach((p) => groupOf.set(p, gi)));
      for (let a = 0; a < m.pods.length; a++) {
        for (let b = a + 1; b < m.pods.length; b++) expect(groupOf.get(a) === groupOf.get(b), `seed ${seed}: ${m.pods[a]} ~ ${m.pods[b]}`).toBe(swappable(m, a, b));
      }
    }
  });

  it.each([
    ['mutually allowed pods', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] }, [[0, 1, 2], [3]]],
    ['mutually denied pods (default deny)', { podSelector: {}, policyTypes: ['Ingress'] }, [[0, 1, 2], [3]]],
  ])('puts %s of one namespace in one group', (_name, spec, want) => {
    const index = fixtureIndex({ pods: [{ key: 'x/a' }, { key: 'x/b' }, { key: 'x/c' }, { key: 'y/d' }], policies: [{ namespace: 'x', name: 'p', spec }] });
    expect(groupEquivalentPods(computeReachabilityMatrix(index, 80, 'TCP'))).toEqual(want);
  });
});
