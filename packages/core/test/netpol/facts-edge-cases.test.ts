/**
 * One test (at least) per edge case of /work/shared/facts/netpol.md, sections 1-4, in the
 * order of the facts file. Each builds a small cluster through the manifest loader and checks
 * `evaluateConnection` (and that the matrix agrees with it).
 */
import { describe, expect, it } from 'vitest';
import {
  buildClusterState,
  computeReachabilityMatrix,
  evaluateConnection,
  isKnetError,
  isReachable,
  loadExampleCluster,
  buildPolicyIndex,
} from '../../src/index.js';
import type { ConnectionVerdict, PolicyIndex, PolicyProtocol } from '../../src/index.js';
import { fixtureIndex, fixtureState } from './cluster-fixture.js';
import type { Fixture } from './cluster-fixture.js';

/** Evaluates a connection and checks the matrix cell agrees. */
function conn(index: PolicyIndex, src: string, dst: string, port = 80, protocol: PolicyProtocol = 'TCP'): ConnectionVerdict {
  const v = evaluateConnection(index, src, dst, port, protocol);
  const s = index.podByKey.get(src);
  const d = index.podByKey.get(dst);
  if (s !== undefined && d !== undefined) {
    const m = computeReachabilityMatrix(index, port, protocol, { pods: s === d ? [s] : [s, d] });
    expect(isReachable(m, 0, s === d ? 0 : 1), `matrix ${src} -> ${dst}`).toBe(v.allowed);
  }
  return v;
}
const ok = (index: PolicyIndex, src: string, dst: string, port = 80, protocol: PolicyProtocol = 'TCP'): boolean => conn(index, src, dst, port, protocol).allowed;

const twoNs: Fixture['pods'] = [
  { key: 'x/a', labels: { pod: 'a' } },
  { key: 'x/b', labels: { pod: 'b' } },
  { key: 'y/a', labels: { pod: 'a' }, node: 2 },
  { key: 'y/b', labels: { pod: 'b' }, node: 2 },
];

function expectInvalid(f: Fixture, field: string): void {
  try {
    fixtureState(f);
  } catch (e) {
    expect(isKnetError(e, 'EINVAL')).toBe(true);
    // Items of the fixture's `kind: List` carry their path in front of the field.
    expect((e as { details: { field?: string } }).details.field?.replace(/^items\[\d+\]\./, '')).toBe(field);
    return;
  }
  throw new Error(`expected EINVAL at ${field}`);
}

describe('facts 1: the core model', () => {
  it('isolation is per pod and per direction: an egress-only policy leaves ingress open', () => {
    const index = fixtureIndex({ pods: twoNs, policies: [{ namespace: 'x', name: 'egress-only', spec: { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'] } }] });
    expect(ok(index, 'y/a', 'x/a')).toBe(true);
    expect(ok(index, 'x/a', 'y/a')).toBe(false);
    expect(ok(index, 'x/b', 'y/a')).toBe(true);
    expect(conn(index, 'y/a', 'x/a').ingress.isolatedBy).toEqual([]);
    expect(conn(index, 'x/a', 'y/a').egress.isolatedBy).toEqual(['x/egress-only']);
  });

  it('a connection needs both ends: a client-side egress deny wins over an explicit server allow', () => {
    const index = fixtureIndex({
      pods: twoNs,
      policies: [
        { namespace: 'x', name: 'deny-egress', spec: { podSelector: {}, policyTypes: ['Egress'] } },
        { namespace: 'y', name: 'allow-from-x', spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'x' } } }] }] } },
      ],
    });
    const v = conn(index, 'x/a', 'y/a');
    expect([v.allowed, v.egress.allowed, v.ingress.allowed]).toEqual([false, false, true]);
  });

  it('pure union: an allow-all policy overrides a deny-all one, whatever the order', () => {
    for (const order of [0, 1]) {
      const policies = [
        { namespace: 'x', name: 'deny-all', spec: { podSelector: {}, policyTypes: ['Ingress'] } },
        { namespace: 'x', name: 'allow-all', spec: { podSelector: {}, ingress: [{}] } },
      ];
      const index = fixtureIndex({ pods: twoNs, policies: order === 0 ? policies : [...policies].reverse() });
      const v = conn(index, 'y/a', 'x/a');
      expect(v.allowed).toBe(true);
      expect([...v.ingress.isolatedBy].sort()).toEqual(['x/allow-all', 'x/deny-all']);
    }
  });

  it.each([
    ['ports AND peers: right peer, wrong port', { ports: [{ port: 81 }], from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }, 'x/b', false],
    ['ports AND peers: right port, wrong peer', { ports: [{ port: 80 }], from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }, 'y/b', false],
    ['ports AND peers: both match', { ports: [{ port: 80 }], from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }, 'x/b', true],
    ['missing ports = every port', { from: [{ podSelector: {} }] }, 'x/b', true],
    ['empty ports = every port', { ports: [], from: [{ podSelector: {} }] }, 'x/b', true],
    ['missing from = every peer', { ports: [{ port: 80 }] }, 'y/b', true],
    ['empty from = every peer', { ports: [{ port: 80 }], from: [] }, 'y/b', true],
    ['ingress: [{}] allows everything', {}, 'y/b', true],
  ])('within one rule, %s', (_name, rule, src, want) => {
    const index = fixtureIndex({ pods: twoNs, policies: [{ namespace: 'x', name: 'p', spec: { podSelector: { matchLabels: { pod: 'a' } }, ingress: [rule] } }] });
    expect(ok(index, src, 'x/a')).toBe(want);
  });

  it.each([
    ['ingress: []', { podSelector: {}, ingress: [] }],
    ['no ingress at all', { podSelector: {} }],
    ['ingress: [] with policyTypes [Ingress] (the e2e "updated policy" state)', { podSelector: {}, policyTypes: ['Ingress'], ingress: [] }],
  ])('%s allows nothing (an empty list is not allow-all)', (_name, spec) => {
    const index = fixtureIndex({ pods: twoNs, policies: [{ namespace: 'x', name: 'p', spec }] });
    expect(ok(index, 'y/a', 'x/a')).toBe(false);
    expect(conn(index, 'y/a', 'x/a').ingress.policies).toEqual([{ policy: 'x/p', allowed: false, rules: [] }]);
  });

  it('missing from admits addresses outside the cluster too; ports still apply', () => {
    const index = fixtureIndex({ pods: twoNs, policies: [{ namespace: 'x', name: 'p', spec: { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] } }] });
    expect(evaluateConnection(index, '203.0.113.9', 'x/a', 80, 'TCP').allowed).toBe(true);
    expect(evaluateConnection(index, '203.0.113.9', 'x/a', 81, 'TCP').allowed).toBe(false);
  });
});

describe('facts 1.5: peers and selectors', () => {
  const pods: Fixture['pods'] = [
    { key: 'x/a', labels: { pod: 'a' } },
    { key: 'x/b', labels: { pod: 'b', tier: 'web' } },
    { key: 'y/a', labels: { pod: 'a' }, node: 2 },
    { key: 'y/b', labels: { pod: 'b', tier: 'web' }, node: 2 },
    { key: 'z/b', labels: { pod: 'b' }, node: 3 },
  ];
  const namespaces = { x: { team: 'red' }, y: { team: 'blue' }, z: {} };
  const from = (peers: unknown[]): Fixture => ({
    namespaces,
    pods,
    policies: [{ namespace: 'x', name: 'p', spec: { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: peers }] } }],
  });
  const admitted = (f: Fixture): string[] => {
    const index = fixtureIndex(f);
    return pods.map((p) => p.key).filter((k) => k !== 'x/a' && ok(index, k, 'x/a'));
  };

  it.each([
    ['podSelector only selects in the policy namespace', [{ podSelector: { matchLabels: { pod: 'b' } } }], ['x/b']],
    ['podSelector {} = every pod of the policy namespace', [{ podSelector: {} }], ['x/b']],
    ['namespaceSelector only = every pod of matching namespaces', [{ namespaceSelector: { matchLabels: { team: 'blue' } } }], ['y/a', 'y/b']],
    ['namespaceSelector {} = every namespace', [{ namespaceSelector: {} }], ['x/b', 'y/a', 'y/b', 'z/b']],
    ['both in one entry = AND', [{ namespaceSelector: { matchLabels: { team: 'blue' } }, podSelector: { matchLabels: { pod: 'b' } } }], ['y/b']],
    ['as two entries = OR', [{ namespaceSelector: { matchLabels: { team: 'blue' } } }, { podSelector: { matchLabels: { pod: 'b' } } }], ['x/b', 'y/a', 'y/b']],
    ['matchLabels AND matchExpressions', [{ namespaceSelector: {}, podSelector: { matchLabels: { pod: 'b' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }], ['x/b', 'y/b']],
    ['NotIn matches pods lacking the key', [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] } }], ['y/a', 'z/b']],
    ['DoesNotExist matches pods lacking the key', [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] } }], ['y/a', 'z/b']],
    ['NotIn on namespaces lacking the label', [{ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['red'] }] } }], ['y/a', 'y/b', 'z/b']],
    ['absent podSelector next to a namespaceSelector = every pod', [{ namespaceSelector: { matchLabels: { team: 'blue' } } }], ['y/a', 'y/b']],
    ['kubernetes.io/metadata.name selects a namespace by name (declared without it)', [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'z' } } }], ['z/b']],
  ])('%s', (_name, peers, want) => {
    expect(admitted(from(peers))).toEqual(want);
  });

  it('namespaces that are never declared still carry kubernetes.io/metadata.name', () => {
    const index = fixtureIndex({
      pods: [{ key: 'x/a' }, { key: 'undeclared/c', node: 2 }],
      policies: [{ namespace: 'x', name: 'p', spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'undeclared' } } }] }] } }],
    });
    expect(ok(index, 'undeclared/c', 'x/a')).toBe(true);
  });

  it('ipBlock = cidr minus except; an address excluded by one block is admitted by another peer', () => {
    const ipOf = (k: string): string => fixtureState({ pods }).pods.find((p) => `${p.namespace}/${p.name}` === k)?.podIP ?? '';
    const yb = ipOf('y/b');
    const only = admitted(from([{ ipBlock: { cidr: '10.244.0.0/16', except: [`${yb}/32`] } }]));
    expect(only).toEqual(['x/b', 'y/a', 'z/b']);
    const union = admitted(from([{ ipBlock: { cidr: '10.244.0.0/16', except: [`${yb}/32`] } }, { ipBlock: { cidr: `${yb}/32` } }]));
    expect(union).toEqual(['x/b', 'y/a', 'y/b', 'z/b']);
  });

  it.each([
    ['ipBlock beside a selector', [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }], 'spec.ingress[0].from[0].ipBlock'],
    ['a peer with none of the three fields', [{}], 'spec.ingress[0].from[0]'],
  ])('invalid: %s', (_name, peers, field) => {
    expectInvalid(from(peers), field);
  });
});

describe('facts 1.6: policyTypes inference', () => {
  it.each([
    ['absent with no egress: Ingress only', { podSelector: {} }, ['Ingress']],
    ['absent with only egress: [] isolates ingress, not egress', { podSelector: {}, egress: [] }, ['Ingress']],
    ['absent with egress rules: both', { podSelector: {}, egress: [{ to: [{ podSelector: {} }] }] }, ['Ingress', 'Egress']],
    ['explicit [Egress]', { podSelector: {}, policyTypes: ['Egress'], ingress: [{}] }, ['Egress']],
  ])('%s', (_name, spec, types) => {
    const index = fixtureIndex({ pods: twoNs, policies: [{ namespace: 'x', name: 'p', spec }] });
    expect(index.networkPolicies[0]?.policy.policyTypes).toEqual(types);
    expect(conn(index, 'y/a', 'x/a').ingress.isolatedBy.length > 0).toBe(types.includes('Ingress'));
    expect(conn(index, 'x/a', 'y/a').egress.isolatedBy.length > 0).toBe(types.includes('Egress'));
  });

  it('explicit policyTypes [Egress] makes the ingress rules dead: they allow nothing and isolate nothing', () => {
    const index = fixtureIndex({
      pods: twoNs,
      policies: [
        { namespace: 'x', name: 'deny-in', spec: { podSelector: {}, policyTypes: ['Ingress'] } },
        { namespace: 'x', name: 'dead', spec: { podSelector: {}, policyTypes: ['Egress'], ingress: [{}], egress: [{}] } },
      ],
    });
    expect(ok(index, 'y/a', 'x/a')).toBe(false);
    expect(conn(index, 'y/a', 'x/a').ingress.isolatedBy).toEqual(['x/deny-in']);
  });

  it('absent policyTypes with egress rules isolates egress: traffic not matched is denied', () => {
    const index = fixtureIndex({ pods: twoNs, policies: [{ namespace: 'x', name: 'p', spec: { podSelector: {}, egress: [{ to: [{ podSelector: {} }] }] } }] });
    expect(conn(index, 'x/a', 'x/b').egress.allowed).toBe(true);
    expect(conn(index, 'x/a', 'y/a').egress.allowed).toBe(false);
    expect(ok(index, 'x/a', 'y/a')).toBe(false);
    // The same policy isolates ingress (inferred) with no ingress rules: x/b accepts nothing.
    expect(ok(index, 'x/a', 'x/b')).toBe(false);
  });
});

describe('facts 2: ports, named ports, endPort, protocols', () => {
  const ports = [
    { name: 'http', containerPort: 8080 },
    { name: 'dns', containerPort: 53, protocol: 'UDP' as const },
    { name: 'newport', containerPort: 9000, protocol: 'SCTP' as const },
  ];
  const pods: Fixture['pods'] = [
    { key: 'x/a', labels: { pod: 'a' }, ports },
    { key: 'x/b', labels: { pod: 'b' }, ports: [{ name: 'http', containerPort: 9090 }] },
    { key: 'y/c', labels: { pod: 'c' }, node: 2 },
  ];
  const ingress = (rule: unknown): Fixture => ({ pods, policies: [{ namespace: 'x', name: 'p', spec: { podSelector: {}, ingress: [rule] } }] });

  it('protocol defaults to TCP', () => {
    const index = fixtureIndex(ingress({ ports: [{ port: 80 }] }));
    expect(index.networkPolicies[0]?.policy.ingress[0]?.ports[0]?.protocol).toBe('TCP');
    expect([ok(index, 'y/c', 'x/a', 80, 'TCP'), ok(index, 'y/c', 'x/a', 80, 'UDP')]).toEqual([true, false]);
  });

  it('a port entry with only a protocol matches every port of that protocol and no other', () => {
    const index = fixtureIndex(ingress({ ports: [{ protocol: 'UDP' }] }));
    expect([ok(index, 'y/c', 'x/a', 1, 'UDP'), ok(index, 'y/c', 'x/a', 65535, 'UDP'), ok(index, 'y/c', 'x/a', 53, 'TCP'), ok(index, 'y/c', 'x/a', 53, 'SCTP')]).toEqual([true, true, false, false]);
  });

  it.each([['SCTP'], ['UDP']])('a rule allowing %s/81 does not allow TCP/81 and still isolates', (protocol) => {
    const index = fixtureIndex(ingress({ ports: [{ port: 81, protocol }] }));
    expect(ok(index, 'y/c', 'x/a', 81, protocol as PolicyProtocol)).toBe(true);
    expect(ok(index, 'y/c', 'x/a', 81, 'TCP')).toBe(false);
    expect(ok(index, 'y/c', 'x/a', 80, 'TCP')).toBe(false);
  });

  it('named ports resolve per destination pod: the same name maps to different numbers', () => {
    const index = fixtureIndex(ingress({ ports: [{ port: 'http' }] }));
    expect([ok(index, 'y/c', 'x/a', 8080), ok(index, 'y/c', 'x/a', 9090)]).toEqual([true, false]);
    expect([ok(index, 'y/c', 'x/b', 8080), ok(index, 'y/c', 'x/b', 9090)]).toEqual([false, true]);
  });

  it('named ports resolve per destination pod on egress too (the peer being contacted)', () => {
    const index = fixtureIndex({ pods, policies: [{ namespace: 'y', name: 'p', spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] } }] });
    expect([ok(index, 'y/c', 'x/a', 8080), ok(index, 'y/c', 'x/a', 9090), ok(index, 'y/c', 'x/b', 9090), ok(index, 'y/c', 'x/b', 8080)]).toEqual([true, false, true, false]);
  });

  it('a named port must match the name AND the protocol (newport exists only as SCTP; newport/UDP resolves to nothing)', () => {
    const udp = fixtureIndex(ingress({ ports: [{ port: 'newport', protocol: 'UDP' }] }));
    expect([ok(udp, 'y/c', 'x/a', 9000, 'UDP'), ok(udp, 'y/c', 'x/a', 9000, 'SCTP')]).toEqual([false, false]);
    const sctp = fixtureIndex(ingress({ ports: [{ port: 'newport', protocol: 'SCTP' }] }));
    expect(ok(sctp, 'y/c', 'x/a', 9000, 'SCTP')).toBe(true);
  });

  it('egress to an external address cannot resolve a named port', () => {
    const index = fixtureIndex({ pods, policies: [{ namespace: 'x', name: 'p', spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] } }] });
    const v = evaluateConnection(index, 'x/a', '198.51.100.7', 8080, 'TCP');
    expect(v.allowed).toBe(false);
    expect(v.egress.policies[0]?.rules[0]?.why).toContain('named ports resolve only against a destination pod');
  });

  it('ports are the pod port after Service DNAT (targetPort), never the Service port', () => {
    const state = buildClusterState(loadExampleCluster());
    const frontendSvc = state.services.find((s) => s.namespace === 'shop' && s.name === 'frontend');
    const svcPort = frontendSvc?.ports[0]?.port as number;
    const index = buildPolicyIndex(state);
    expect(svcPort).not.toBe(8080);
    expect(ok(index, 'default/client', 'shop/frontend-7c9d6b8f4-2qzrt', 8080)).toBe(true);
    expect(ok(index, 'default/client', 'shop/frontend-7c9d6b8f4-2qzrt', svcPort)).toBe(false);
  });

  it.each([['TCP'], ['UDP'], ['SCTP']])('endPort is an inclusive range (1-65535 on %s, as netpol-analyzer with_end_port_example)', (protocol) => {
    const full = fixtureIndex(ingress({ ports: [{ port: 1, endPort: 65535, protocol }] }));
    for (const p of [1, 80, 65535]) expect(ok(full, 'y/c', 'x/a', p, protocol as PolicyProtocol)).toBe(true);
    const range = fixtureIndex(ingress({ ports: [{ port: 8000, endPort: 8080, protocol }] }));
    expect([7999, 8000, 8040, 8080, 8081].map((p) => ok(range, 'y/c', 'x/a', p, protocol as PolicyProtocol))).toEqual([false, true, true, true, false]);
  });

  it.each([
    ['endPort with a named port', { ports: [{ port: 'http', endPort: 9000 }] }, 'spec.ingress[0].ports[0].endPort'],
    ['endPort below port', { ports: [{ port: 9000, endPort: 8000 }] }, 'spec.ingress[0].ports[0].endPort'],
    ['endPort without port', { ports: [{ endPort: 8000 }] }, 'spec.ingress[0].ports[0].endPort'],
    ['an unknown protocol (ICMP)', { ports: [{ protocol: 'ICMP' }] }, 'spec.ingress[0].ports[0].protocol'],
  ])('invalid: %s', (_name, rule, field) => {
    expectInvalid(ingress(rule), field);
  });
});

describe('facts 3: what implementations leave undefined (knet conventions)', () => {
  it('self traffic is always allowed; policyAllowed keeps the policy-computed value', () => {
    const index = fixtureIndex({ pods: twoNs, policies: [{ namespace: 'x', name: 'deny', spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } }] });
    const v = conn(index, 'x/a', 'x/a');
    expect([v.allowed, v.self, v.policyAllowed]).toEqual([true, true, false]);
    expect(conn(index, 'x/a', 'x/b').allowed).toBe(false);
  });

  const hostPods: Fixture['pods'] = [
    { key: 'x/a', labels: { pod: 'a' }, node: 1 },
    { key: 'x/far', labels: { pod: 'far' }, node: 2 },
    { key: 'kube-system/agent-1', labels: { pod: 'agent' }, node: 1, hostNetwork: true },
    { key: 'kube-system/agent-2', labels: { pod: 'agent' }, node: 2, hostNetwork: true },
  ];

  it('traffic from the pod\'s own node (a host-network pod there, or the node address) is always allowed in', () => {
    const index = fixtureIndex({ pods: hostPods, policies: [{ namespace: 'x', name: 'deny', spec: { podSelector: {}, policyTypes: ['Ingress'] } }] });
    const v = conn(index, 'kube-system/agent-1', 'x/a');
    expect([v.allowed, v.ingress.tier, v.ingress.isolatedBy]).toEqual([true, 'node', ['x/deny']]);
    expect(evaluateConnection(index, 'node/node-1', 'x/a', 80, 'TCP').allowed).toBe(true);
    expect(evaluateConnection(index, '172.18.0.2', 'x/a', 80, 'TCP').ingress.tier).toBe('node');
    expect(ok(index, 'kube-system/agent-2', 'x/a')).toBe(false);
    expect(evaluateConnection(index, 'node/node-2', 'x/a', 80, 'TCP').allowed).toBe(false);
  });

  it('host-network pods are ignored by pod and namespace selectors (as subjects and peers) and matched by their node address', () => {
    const index = fixtureIndex({
      pods: hostPods,
      policies: [
        { namespace: 'kube-system', name: 'deny-all', spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
        { namespace: 'x', name: 'from-agents', spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { pod: 'agent' } } }] }] } },
        { namespace: 'x', name: 'from-node-2', spec: { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ ipBlock: { cidr: '172.18.0.3/32' } }] }] } },
      ],
    });
    expect(index.networkPolicies[0]?.selected.every((w) => w === 0)).toBe(true);
    const out = conn(index, 'kube-system/agent-1', 'x/far');
    expect([out.allowed, out.egress.tier]).toEqual([false, 'not-subject']);
    expect(out.ingress.policies.find((p) => p.policy === 'x/from-agents')?.allowed).toBe(false);
    expect(ok(index, 'kube-system/agent-2', 'x/a')).toBe(true);
    expect(conn(index, 'kube-system/agent-2', 'x/a').ingress.reason).toContain('x/from-node-2');
    expect(ok(index, 'x/a', 'kube-system/agent-2')).toBe(true);
  });

  it('ipBlocks match pod addresses (upstream conformance), or not with ipBlocksMatchPods: false', () => {
    const f: Fixture = { pods: twoNs, policies: [{ namespace: 'x', name: 'p', spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.244.0.0/16' } }] }] } }] };
    expect(ok(fixtureIndex(f), 'y/a', 'x/a')).toBe(true);
    const analyser = fixtureIndex(f, { ipBlocksMatchPods: false });
    expect(evaluateConnection(analyser, 'y/a', 'x/a', 80, 'TCP').allowed).toBe(false);
    expect(isReachable(computeReachabilityMatrix(analyser, 80, 'TCP'), 2, 0)).toBe(false);
    expect(evaluateConnection(analyser, '10.244.9.9', 'x/a', 80, 'TCP').allowed).toBe(true);
  });

  it('CIDR hygiene: host bits are masked (<podIP>/4), except must lie inside cidr, IPv4 never matches an IPv6 block', () => {
    const sloppy = fixtureIndex({ pods: twoNs, policies: [{ namespace: 'x', name: 'p', spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.244.1.12/4' } }] }] } }] });
    expect(sloppy.networkPolicies[0]?.policy.ingress[0]?.peers[0]).toMatchObject({ kind: 'ipBlock', block: { v4: { address: 0, prefix: 4 } } });
    expect(ok(sloppy, 'y/a', 'x/a')).toBe(true);
    expectInvalid({ pods: twoNs, policies: [{ namespace: 'x', name: 'p', spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] } }] }] } }] }, 'spec.ingress[0].from[0].ipBlock.except[0]');
    const v6 = fixtureIndex({ pods: twoNs, policies: [{ namespace: 'x', name: 'p', spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '::/0' } }] }] } }] });
    expect(ok(v6, 'y/a', 'x/a')).toBe(false);
    expect(evaluateConnection(v6, '203.0.113.1', 'x/a', 80, 'TCP').allowed).toBe(false);
  });

  it('replies are implicit: a server whose egress is denied still accepts connections (the cell is about opening one)', () => {
    const index = fixtureIndex({ pods: twoNs, policies: [{ namespace: 'x', name: 'deny-egress', spec: { podSelector: {}, policyTypes: ['Egress'] } }] });
    expect(ok(index, 'y/a', 'x/a')).toBe(true);
    expect(ok(index, 'x/a', 'y/a')).toBe(false);
  });

  it('a Service connection is evaluated against the backend pod after DNAT: a named targetPort resolves on the pod', () => {
    const index = buildPolicyIndex(buildClusterState(loadExampleCluster()));
    const cart = buildClusterState(loadExampleCluster()).services.find((s) => s.name === 'cart');
    expect(cart?.ports[0]?.targetPort).toBe('http');
    expect(ok(index, 'shop/frontend-7c9d6b8f4-2qzrt', 'shop/cart-5d8b9c7f6-hv4nx', 8080)).toBe(true);
    expect(ok(index, 'default/client', 'shop/cart-5d8b9c7f6-hv4nx', 8080)).toBe(false);
  });

  it('an "update" of a policy is a replacement (same name): two policies of one name are refused', () => {
    expectInvalid(
      {
        pods: twoNs,
        policies: [
          { namespace: 'x', name: 'same', spec: { podSelector: {} } },
          { namespace: 'x', name: 'same', spec: { podSelector: {}, ingress: [{}] } },
        ],
      },
      'metadata.name',
    );
  });

  it('evaluation is cluster-wide: pods on every node are subjects and peers (not only one node\'s)', () => {
    const pods: Fixture['pods'] = [1, 2, 3].flatMap((n) => [{ key: `x/a${n}`, labels: { pod: 'a' }, node: n }, { key: `y/b${n}`, labels: { pod: 'b' }, node: n }]);
    const index = fixtureIndex({ pods, policies: [{ namespace: 'x', name: 'p', spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { pod: 'b' } } }] }] } }] });
    const m = computeReachabilityMatrix(index, 80, 'TCP');
    for (const [i, from] of m.pods.entries()) {
      for (const [j, to] of m.pods.entries()) expect(isReachable(m, i, j)).toBe(i === j || !to.startsWith('x/') || from.startsWith('y/'));
    }
  });
});

describe('facts 4: AdminNetworkPolicy and BaselineAdminNetworkPolicy', () => {
  const pods: Fixture['pods'] = [
    { key: 'x/a', labels: { pod: 'a' }, ports: [{ name: 'http', containerPort: 8080 }] },
    { key: 'x/b', labels: { pod: 'b' } },
    { key: 'y/a', labels: { pod: 'a' }, node: 2 },
    { key: 'kube-system/agent', labels: { pod: 'agent' }, node: 2, hostNetwork: true },
  ];
  const anp = (name: string, priority: number, ingress: unknown[], subject: unknown = { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'x' } } }) => ({
    name,
    spec: { priority, subject, ingress },
  });
  const fromY = [{ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } }];

  it('lower priority numbers are evaluated first; Allow is final even where NetworkPolicy denies', () => {
    const index = fixtureIndex({
      pods,
      policies: [{ namespace: 'x', name: 'deny', spec: { podSelector: {}, policyTypes: ['Ingress'] } }],
      adminPolicies: [anp('later-deny', 20, [{ action: 'Deny', from: fromY }]), anp('first-allow', 10, [{ action: 'Allow', from: fromY }])],
    });
    const v = conn(index, 'y/a', 'x/a');
    expect([v.allowed, v.ingress.tier, v.ingress.admin?.policy, v.ingress.isolatedBy]).toEqual([true, 'admin', 'first-allow', ['x/deny']]);
    expect(ok(index, 'x/b', 'x/a')).toBe(false);
  });

  it('Deny is final even where NetworkPolicy allows', () => {
    const index = fixtureIndex({
      pods,
      policies: [{ namespace: 'x', name: 'allow', spec: { podSelector: {}, ingress: [{}] } }],
      adminPolicies: [anp('deny-y', 5, [{ action: 'Deny', from: fromY }])],
    });
    const v = conn(index, 'y/a', 'x/a');
    expect([v.allowed, v.ingress.tier, v.ingress.admin?.action]).toEqual([false, 'admin', 'Deny']);
  });

  it('rules of one AdminNetworkPolicy are evaluated in order, first match wins', () => {
    const index = fixtureIndex({
      pods,
      adminPolicies: [anp('ordered', 1, [{ action: 'Allow', from: fromY, ports: [{ portNumber: { port: 80 } }] }, { action: 'Deny', from: fromY }])],
    });
    expect([ok(index, 'y/a', 'x/a', 80), ok(index, 'y/a', 'x/a', 81)]).toEqual([true, false]);
    expect(conn(index, 'y/a', 'x/a', 81).ingress.admin?.rule).toBe(1);
  });

  it('Pass skips every remaining AdminNetworkPolicy rule and hands over to NetworkPolicy, then the baseline', () => {
    const f: Fixture = {
      pods,
      adminPolicies: [anp('pass', 1, [{ action: 'Pass', from: fromY }]), anp('deny', 2, [{ action: 'Deny', from: fromY }])],
      baseline: { subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: fromY, ports: [{ portNumber: { protocol: 'TCP', port: 81 } }] }] },
    };
    const noNp = fixtureIndex(f);
    const v80 = conn(noNp, 'y/a', 'x/a', 80);
    expect([v80.allowed, v80.ingress.tier, v80.ingress.admin?.action]).toEqual([true, 'default', 'Pass']);
    const v81 = conn(noNp, 'y/a', 'x/a', 81);
    expect([v81.allowed, v81.ingress.tier, v81.ingress.baseline?.rule]).toEqual([false, 'baseline', 0]);
    const withNp = fixtureIndex({ ...f, policies: [{ namespace: 'x', name: 'allow-81', spec: { podSelector: {}, ingress: [{ ports: [{ port: 81 }] }] } }] });
    const np81 = conn(withNp, 'y/a', 'x/a', 81);
    expect([np81.allowed, np81.ingress.tier, np81.ingress.baseline]).toEqual([true, 'network-policy', null]);
    expect(conn(withNp, 'y/a', 'x/a', 80).ingress.tier).toBe('network-policy');
    expect(ok(withNp, 'y/a', 'x/a', 80)).toBe(false);
  });

  it('two AdminNetworkPolicies of one priority: knet orders them by name, warns, and reports the conflict', () => {
    const index = fixtureIndex({ pods, adminPolicies: [anp('b-deny', 7, [{ action: 'Deny', from: fromY }]), anp('a-allow', 7, [{ action: 'Allow', from: fromY }])] });
    expect(index.warnings.some((w) => w.includes('a-allow') && w.includes('b-deny') && w.includes('priority 7'))).toBe(true);
    const v = conn(index, 'y/a', 'x/a');
    expect([v.allowed, v.ingress.admin?.policy, v.ingress.adminConflicts.map((c) => `${c.policy}:${c.action}`)]).toEqual([true, 'a-allow', ['b-deny:Deny']]);
  });

  it('an AdminNetworkPolicy selecting a pod does not isolate it: no matching rule falls through', () => {
    const index = fixtureIndex({ pods, adminPolicies: [anp('deny-y', 1, [{ action: 'Deny', from: fromY }])] });
    const v = conn(index, 'x/b', 'x/a');
    expect([v.allowed, v.ingress.tier, v.ingress.admin]).toEqual([true, 'default', null]);
  });

  it('an AdminNetworkPolicy with no egress rules does not affect egress', () => {
    const index = fixtureIndex({ pods, adminPolicies: [anp('ingress-only', 1, [{ action: 'Deny', from: [{ namespaces: {} }] }])] });
    expect(index.adminEgress.every((ids) => ids.length === 0)).toBe(true);
    expect(ok(index, 'x/a', 'y/a')).toBe(true);
    expect(ok(index, 'y/a', 'x/a')).toBe(false);
  });

  it('a NetworkPolicy isolating the pod is final: the baseline is not consulted', () => {
    const index = fixtureIndex({
      pods,
      policies: [{ namespace: 'x', name: 'allow-y', spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] } }],
      baseline: { subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] },
    });
    expect(ok(index, 'y/a', 'x/a')).toBe(true);
    expect(ok(index, 'x/a', 'y/a')).toBe(false);
    expect(conn(index, 'x/a', 'y/a').ingress.tier).toBe('baseline');
  });

  it('baseline rules: first match wins, Allow and Deny; unmatched traffic is allowed', () => {
    const index = fixtureIndex({
      pods,
      baseline: {
        subject: { namespaces: {} },
        egress: [
          { name: 'allow-x', action: 'Allow', to: [{ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'x' } } }] },
          { name: 'deny-pods', action: 'Deny', to: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { pod: 'a' } } } }] },
        ],
      },
    });
    expect([ok(index, 'y/a', 'x/a'), ok(index, 'x/b', 'y/a'), ok(index, 'y/a', 'x/b')]).toEqual([true, false, true]);
    expect(conn(index, 'x/b', 'y/a').egress.baseline?.ruleName).toBe('deny-pods');
    const unmatched = fixtureIndex({ pods, baseline: { subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ networks: ['192.0.2.0/24'] }] }] } });
    expect(conn(unmatched, 'x/a', 'y/a').egress.tier).toBe('default');
    expect(evaluateConnection(unmatched, 'x/a', '192.0.2.5', 443, 'TCP').egress.tier).toBe('baseline');
  });

  it('the baseline must be the singleton named default; its actions are Allow and Deny only', () => {
    expectInvalid({ pods, extra: [{ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'BaselineAdminNetworkPolicy', metadata: { name: 'other' }, spec: { subject: { namespaces: {} } } }] }, 'metadata.name');
    expectInvalid({ pods, baseline: { subject: { namespaces: {} }, ingress: [{ action: 'Pass', from: [{ namespaces: {} }] }] } }, 'spec.ingress[0].action');
  });

  it('subjects: namespaces, or pods (namespaceSelector AND podSelector); host-network pods are never subjects', () => {
    const index = fixtureIndex({
      pods,
      adminPolicies: [anp('pods-subject', 1, [{ action: 'Deny', from: [{ namespaces: {} }] }], { pods: { namespaceSelector: {}, podSelector: { matchLabels: { pod: 'a' } } } })],
    });
    expect([ok(index, 'x/b', 'x/a'), ok(index, 'x/a', 'y/a'), ok(index, 'x/a', 'x/b')]).toEqual([false, false, true]);
    expect(conn(index, 'x/a', 'kube-system/agent').ingress.tier).toBe('not-subject');
  });

  it('peers: pods, namespaces (host-network pods excluded), nodes and networks (matching host-network pods by node address)', () => {
    const f = (to: unknown[]): Fixture => ({ pods, adminPolicies: [{ name: 'p', spec: { priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Deny', to }] } }] });
    const ns = fixtureIndex(f([{ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }]));
    expect(ok(ns, 'x/a', 'kube-system/agent')).toBe(true);
    const nodes = fixtureIndex(f([{ nodes: { matchLabels: { 'kubernetes.io/hostname': 'node-2' } } }]));
    expect([ok(nodes, 'x/a', 'kube-system/agent'), evaluateConnection(nodes, 'x/a', 'node/node-2', 10250, 'TCP').allowed, ok(nodes, 'x/a', 'y/a')]).toEqual([false, false, true]);
    const nets = fixtureIndex(f([{ networks: ['10.244.1.0/24'] }]));
    expect([ok(nets, 'x/a', 'y/a'), ok(nets, 'x/a', 'x/b')]).toEqual([false, true]);
  });

  it('ports: portNumber, portRange (inclusive) and namedPort (resolved on the destination pod)', () => {
    const f = (ports: unknown[]): Fixture => ({ pods, adminPolicies: [anp('p', 1, [{ action: 'Deny', from: fromY, ports }])] });
    const number = fixtureIndex(f([{ portNumber: { protocol: 'UDP', port: 53 } }]));
    expect([ok(number, 'y/a', 'x/a', 53, 'UDP'), ok(number, 'y/a', 'x/a', 53, 'TCP')]).toEqual([false, true]);
    const range = fixtureIndex(f([{ portRange: { start: 8000, end: 8080 } }]));
    expect([7999, 8000, 8080, 8081].map((p) => ok(range, 'y/a', 'x/a', p))).toEqual([true, false, false, true]);
    const named = fixtureIndex(f([{ namedPort: 'http' }]));
    expect([ok(named, 'y/a', 'x/a', 8080), ok(named, 'y/a', 'x/a', 80)]).toEqual([false, true]);
  });

  it('domainNames peers (Allow only) cannot be resolved offline: they match nothing, with a warning', () => {
    const index = fixtureIndex({
      pods,
      adminPolicies: [{ name: 'dns', spec: { priority: 1, subject: { namespaces: {} }, egress: [{ name: 'to-example', action: 'Allow', to: [{ domainNames: ['*.example.com'] }] }] } }],
    });
    expect(index.warnings).toEqual(['AdminNetworkPolicy dns rule 0 "to-example": domainNames peers (*.example.com) cannot be resolved offline; knet matches nothing through them']);
    expect(evaluateConnection(index, 'x/a', '93.184.216.34', 443, 'TCP').egress.tier).toBe('default');
  });

  it('a peer with only unknown fields fails closed: an Allow rule matches nothing, a Deny or Pass rule denies everything', () => {
    const f = (action: string): Fixture => ({ pods, adminPolicies: [anp('future', 1, [{ action, from: [{ serviceAccounts: { name: 'x' } }] }])] });
    const allow = fixtureIndex(f('Allow'));
    expect(allow.warnings.some((w) => w.includes('serviceAccounts'))).toBe(true);
    expect(conn(allow, 'y/a', 'x/a').ingress.tier).toBe('default');
    for (const action of ['Deny', 'Pass']) {
      const v = conn(fixtureIndex(f(action)), 'x/b', 'x/a', 4242, 'SCTP');
      expect([v.allowed, v.ingress.admin?.action, v.ingress.admin?.peer]).toEqual([false, 'Deny', 'all']);
    }
  });

  it.each([
    ['priority above 1000', { priority: 1001, subject: { namespaces: {} } }, 'spec.priority'],
    ['an empty from', { priority: 1, subject: { namespaces: {} }, ingress: [{ action: 'Allow', from: [] }] }, 'spec.ingress[0].from'],
    ['more than 100 rules', { priority: 1, subject: { namespaces: {} }, egress: Array.from({ length: 101 }, () => ({ action: 'Deny', to: [{ namespaces: {} }] })) }, 'spec.egress'],
    ['both subject kinds', { priority: 1, subject: { namespaces: {}, pods: { namespaceSelector: {}, podSelector: {} } } }, 'spec.subject'],
    ['networks on ingress', { priority: 1, subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ networks: ['10.0.0.0/8'] }] }] }, 'spec.ingress[0].from[0].networks'],
    ['an invalid network CIDR', { priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ networks: ['10.0.0.0/33'] }] }] }, 'spec.egress[0].to[0].networks[0]'],
    ['a bad selector operator', { priority: 1, subject: { namespaces: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] } } }, 'spec.subject.namespaces.matchExpressions[0].operator'],
  ])('invalid AdminNetworkPolicy: %s', (_name, spec, field) => {
    expectInvalid({ pods: [], adminPolicies: [{ name: 'bad', spec }] }, field);
  });
});
