import { describe, expect, it } from 'vitest';
import { fixtureIndex } from '../../test/netpol/cluster-fixture.js';
import { buildClusterState } from '../cluster/build-cluster-state.js';
import { isKnetError } from '../errors/knet-error.js';
import { loadExampleCluster } from '../example/example-cluster.js';
import { parseIpv4 } from '../ip/ipv4.js';
import { buildPolicyIndex } from './build-policy-index.js';
import { adminPortMatches, evaluateConnection, npPortMatches, resolvePolicyEndpoint } from './evaluate-connection.js';

const example = buildPolicyIndex(buildClusterState(loadExampleCluster()));
const CART = 'shop/cart-5d8b9c7f6-hv4nx';
const FRONTEND = 'shop/frontend-7c9d6b8f4-2qzrt';

describe('resolvePolicyEndpoint', () => {
  it.each([
    ['shop/db-0', { kind: 'pod', pod: example.podByKey.get('shop/db-0') }],
    ['client', { kind: 'pod', pod: example.podByKey.get('default/client') }],
    ['10.244.1.3', { kind: 'pod', pod: example.podByKey.get(CART) }],
    ['172.18.0.3', { kind: 'ip', ip: parseIpv4('172.18.0.3'), node: 'node-2' }],
    ['node/node-3', { kind: 'ip', ip: parseIpv4('172.18.0.4'), node: 'node-3' }],
    ['203.0.113.10', { kind: 'ip', ip: parseIpv4('203.0.113.10') }],
    [0, { kind: 'pod', pod: 0 }],
  ])('%s', (ref, want) => {
    expect(resolvePolicyEndpoint(example, ref)).toEqual(want);
  });

  it.each([
    ['shop/nope', 'ENOENT'],
    ['node/node-9', 'ENOENT'],
    [99, 'EINVAL'],
  ])('%s → %s', (ref, code) => {
    expect(() => resolvePolicyEndpoint(example, ref)).toThrow();
    try {
      resolvePolicyEndpoint(example, ref);
    } catch (e) {
      expect(isKnetError(e, code as 'ENOENT')).toBe(true);
    }
  });
});

describe('evaluateConnection', () => {
  it('attributes a default deny to the policies that isolate the pod, with each rule\'s reason', () => {
    const v = evaluateConnection(example, 'default/client', CART, 8080, 'TCP');
    expect([v.allowed, v.self, v.policyAllowed, v.src, v.dst]).toEqual([false, false, false, 'default/client', CART]);
    expect(v.egress).toMatchObject({ direction: 'egress', subject: 'default/client', allowed: true, tier: 'default', isolatedBy: [] });
    expect(v.ingress).toMatchObject({
      direction: 'ingress',
      subject: CART,
      allowed: false,
      tier: 'network-policy',
      isolatedBy: ['shop/default-deny-ingress', 'shop/allow-frontend-to-cart'],
      policies: [
        { policy: 'shop/default-deny-ingress', allowed: false, rules: [] },
        { policy: 'shop/allow-frontend-to-cart', allowed: false, rules: [{ rule: 0, matched: false, port: 0, peer: null }] },
      ],
    });
    expect(v.ingress.policies[1]?.rules[0]?.why).toBe(
      'ingress[0]: ports[0] TCP/http matches TCP/8080; no from entry selects default/client (from: podSelector {app=frontend} (namespace shop))',
    );
    expect(v.ingress.reason).toBe(
      'isolated by shop/default-deny-ingress, shop/allow-frontend-to-cart; denied: shop/default-deny-ingress has no ingress rules; shop/allow-frontend-to-cart: no rule matches',
    );
  });

  it('names the rule, peer and port that admitted an allowed connection', () => {
    const v = evaluateConnection(example, FRONTEND, CART, 8080, 'TCP');
    expect(v.allowed).toBe(true);
    expect(v.ingress.policies[1]?.rules[0]).toEqual({
      rule: 0,
      matched: true,
      port: 0,
      peer: 0,
      why: `ingress[0]: ports[0] TCP/http matches TCP/8080; from[0] podSelector {app=frontend} (namespace shop) selects ${FRONTEND}`,
    });
    expect(v.ingress.reason).toBe('isolated by shop/default-deny-ingress, shop/allow-frontend-to-cart; allowed by shop/allow-frontend-to-cart ingress[0]');
  });

  it('reports a port mismatch when the named port resolves to another number on the destination', () => {
    const v = evaluateConnection(example, FRONTEND, CART, 6379, 'TCP');
    expect(v.ingress.policies[1]?.rules[0]).toMatchObject({ matched: false, port: null, peer: 0 });
    expect(v.ingress.policies[1]?.rules[0]?.why).toContain(`no ports entry matches TCP/6379 on ${CART} (ports: TCP/http)`);
  });

  it('treats outside addresses as peers only (no policy applies to their side) and matches ipBlocks against them', () => {
    const index = fixtureIndex({
      pods: [{ key: 'x/a' }],
      policies: [{ namespace: 'x', name: 'p', spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '198.51.100.0/24', except: ['198.51.100.128/25'] } }] }] } }],
    });
    const ok = evaluateConnection(index, '198.51.100.7', 'x/a', 443, 'TCP');
    expect([ok.allowed, ok.egress.tier, ok.egress.subject, ok.src]).toEqual([true, 'not-subject', null, '198.51.100.7']);
    expect(ok.ingress.policies[0]?.rules[0]?.why).toBe('ingress[0]: no ports: every port; from[0] ipBlock 198.51.100.0/24 except 198.51.100.128/25 selects 198.51.100.7');
    expect(evaluateConnection(index, '198.51.100.200', 'x/a', 443, 'TCP').allowed).toBe(false);
    const out = evaluateConnection(index, 'x/a', '198.51.100.200', 443, 'TCP');
    expect([out.allowed, out.ingress.tier]).toEqual([true, 'not-subject']);
  });

  it('says when an ipBlock cannot match a pod because the pod has no known address', () => {
    const index = fixtureIndex({
      pods: [{ key: 'x/a' }, { key: 'y/b', ip: null }],
      policies: [{ namespace: 'x', name: 'p', spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] } }],
    });
    expect(evaluateConnection(index, 'y/b', 'x/a', 80, 'TCP').ingress.policies[0]?.rules[0]?.why).toBe(
      'ingress[0]: no ports: every port; no from entry selects y/b (from: ipBlock 0.0.0.0/0); y/b has no known address, so no ipBlock can match it',
    );
  });

  it('explains the AdminNetworkPolicy tier, a Pass hand-over and the baseline', () => {
    const index = fixtureIndex({
      pods: [{ key: 'x/a' }, { key: 'y/b', node: 2 }],
      adminPolicies: [
        { name: 'ops', spec: { priority: 4, subject: { namespaces: {} }, egress: [{ name: 'pass-to-y', action: 'Pass', to: [{ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } }], ports: [{ portRange: { start: 80, end: 90 } }] }] } },
      ],
      baseline: { subject: { namespaces: {} }, egress: [{ name: 'default-deny', action: 'Deny', to: [{ namespaces: {} }] }] },
    });
    const v = evaluateConnection(index, 'x/a', 'y/b', 85, 'TCP');
    expect(v.egress.admin).toEqual({
      kind: 'AdminNetworkPolicy',
      policy: 'ops',
      priority: 4,
      rule: 0,
      ruleName: 'pass-to-y',
      action: 'Pass',
      port: 0,
      peer: 0,
      why: 'to[0] namespaces {kubernetes.io/metadata.name=y} selects y/b; ports[0] TCP/80-90 matches TCP/85',
    });
    expect(v.egress.baseline).toMatchObject({ kind: 'BaselineAdminNetworkPolicy', policy: 'default', ruleName: 'default-deny', action: 'Deny' });
    expect(v.egress.baseline?.priority).toBeUndefined();
    expect([v.allowed, v.egress.tier]).toEqual([false, 'baseline']);
    expect(v.egress.reason).toBe(
      'AdminNetworkPolicy ops egress[0] passed it on; no NetworkPolicy isolates x/a for egress; denied by BaselineAdminNetworkPolicy default egress[0] "default-deny": Deny',
    );
  });
});

describe('npPortMatches', () => {
  const pod = fixtureIndex({ pods: [{ key: 'x/a', ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] }] }).pods[0];
  it.each([
    [{ protocol: 'TCP' as const }, 1, 'TCP', true],
    [{ protocol: 'TCP' as const }, 1, 'UDP', false],
    [{ protocol: 'TCP' as const, port: 80 }, 80, 'TCP', true],
    [{ protocol: 'TCP' as const, port: 80, endPort: 90 }, 90, 'TCP', true],
    [{ protocol: 'TCP' as const, port: 80, endPort: 90 }, 91, 'TCP', false],
    [{ protocol: 'TCP' as const, port: 'http' }, 8080, 'TCP', true],
    [{ protocol: 'UDP' as const, port: 'http' }, 8080, 'UDP', false],
    [{ protocol: 'UDP' as const, port: 'dns' }, 53, 'UDP', true],
  ])('%j on %s/%s → %s', (p, port, protocol, want) => {
    expect(npPortMatches(p, port, protocol as 'TCP', pod)).toBe(want);
  });
});

describe('adminPortMatches', () => {
  it.each([
    [{ kind: 'portNumber' as const, protocol: 'UDP' as const, port: 53 }, 53, 'UDP', true],
    [{ kind: 'portNumber' as const, protocol: 'UDP' as const, port: 53 }, 53, 'TCP', false],
    [{ kind: 'portRange' as const, protocol: 'SCTP' as const, start: 1, end: 9 }, 9, 'SCTP', true],
    [{ kind: 'namedPort' as const, name: 'http' }, 8080, 'TCP', false],
  ])('%j on %s/%s → %s (no destination pod for named ports)', (p, port, protocol, want) => {
    expect(adminPortMatches(p, port, protocol as 'TCP', undefined)).toBe(want);
  });
});
