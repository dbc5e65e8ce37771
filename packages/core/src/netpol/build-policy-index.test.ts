import { describe, expect, it } from 'vitest';
import { fixtureIndex, fixtureState } from '../../test/netpol/cluster-fixture.js';
import { isKnetError } from '../errors/knet-error.js';
import { parseIpv4 } from '../ip/ipv4.js';
import { buildPolicyIndex, ipInBlock } from './build-policy-index.js';
import type { ParsedIpBlock } from './parsed-policy.js';
import { podSetToArray } from './pod-set.js';

const pods = [
  { key: 'x/a', labels: { app: 'a' } },
  { key: 'x/b', labels: { app: 'b' } },
  { key: 'y/a', labels: { app: 'a' }, node: 2 },
  { key: 'x/host', labels: { app: 'a' }, hostNetwork: true },
  { key: 'x/noip', labels: { app: 'a' }, ip: null },
];

describe('buildPolicyIndex', () => {
  it('selects pods in the policy namespace, never host-network pods, and lists per pod the isolating policies', () => {
    const index = fixtureIndex({
      pods,
      policies: [
        { namespace: 'x', name: 'in', spec: { podSelector: { matchLabels: { app: 'a' } } } },
        { namespace: 'x', name: 'both', spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
      ],
    });
    expect(index.networkPolicies.map((p) => [p.key, podSetToArray(p.selected), p.isolatesIngress, p.isolatesEgress])).toEqual([
      ['x/in', [0, 4], true, false],
      ['x/both', [0, 1, 4], true, true],
    ]);
    expect(index.ingressPolicies).toEqual([[0, 1], [1], [], [], [0, 1]]);
    expect(index.egressPolicies).toEqual([[1], [1], [], [], [1]]);
    expect(podSetToArray(index.hostNetworkPods)).toEqual([3]);
  });

  it('gives host-network pods their node address and uses podIPs for pods without status.podIP', () => {
    const plain = fixtureIndex({ pods });
    expect(plain.pods.map((p) => p.ip)).toEqual([parseIpv4('10.244.0.10'), parseIpv4('10.244.0.11'), parseIpv4('10.244.1.12'), parseIpv4('172.18.0.2'), undefined]);
    const withIps = buildPolicyIndex(fixtureState({ pods }), { podIPs: new Map([['x/noip', '10.244.0.99']]) });
    expect(withIps.pods[4]?.ip).toBe(parseIpv4('10.244.0.99'));
    expect(withIps.podByIp.get(parseIpv4('10.244.0.99'))).toBe(4);
    expect(withIps.podByIp.has(parseIpv4('172.18.0.2'))).toBe(false);
    expect(withIps.nodeByIp.get(parseIpv4('172.18.0.2'))).toBe('node-1');
  });

  it('computes ipBlock peers over pod addresses (host-network pods by node address; pods without an address never match)', () => {
    const index = fixtureIndex({
      pods,
      policies: [{ namespace: 'x', name: 'p', spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.244.1.0/24'] } }] }] } }],
    });
    expect(podSetToArray(index.networkPolicies[0]?.ingress[0]?.peerPods as Uint32Array)).toEqual([0, 1, 3]);
    const analyser = buildPolicyIndex(fixtureState({ pods, policies: [{ namespace: 'x', name: 'p', spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] } }] }), {
      ipBlocksMatchPods: false,
    });
    expect(podSetToArray(analyser.networkPolicies[0]?.ingress[0]?.peerPods as Uint32Array)).toEqual([3]);
  });

  it('orders AdminNetworkPolicies by priority then name, and lists them per pod and direction', () => {
    const index = fixtureIndex({
      pods,
      adminPolicies: [
        { name: 'c', spec: { priority: 5, subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] } },
        { name: 'b', spec: { priority: 1, subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'b' } } } }, egress: [{ action: 'Deny', to: [{ namespaces: {} }] }] } },
        { name: 'a', spec: { priority: 5, subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } }, ingress: [{ action: 'Allow', from: [{ namespaces: {} }] }] } },
      ],
    });
    expect(index.adminNetworkPolicies.map((a) => a.policy.name)).toEqual(['b', 'a', 'c']);
    expect(index.adminIngress).toEqual([[2], [2], [1, 2], [], [2]]);
    expect(index.adminEgress).toEqual([[], [0], [], [], []]);
    expect(index.warnings).toEqual(['AdminNetworkPolicies a and c share priority 5: the API leaves their order unspecified; knet evaluates a first (by name)']);
  });

  it('re-validates policies of a hand-built state and names the list entry and field', () => {
    const state = fixtureState({ pods });
    const bad = { ...state, networkPolicies: [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'x' }, spec: { ingress: [{ ports: [{ protocol: 'ICMP' }] }] } }] } as unknown as typeof state;
    try {
      buildPolicyIndex(bad);
      throw new Error('no error');
    } catch (e) {
      expect(isKnetError(e, 'EINVAL')).toBe(true);
      expect((e as { details: Record<string, unknown> }).details).toMatchObject({ file: 'networkPolicies[0] (x/p)', field: 'spec.ingress[0].ports[0].protocol' });
    }
  });

  it('refuses two baselines', () => {
    const state = fixtureState({ pods, baseline: { subject: { namespaces: {} } } });
    const two = { ...state, baselineAdminNetworkPolicies: [...(state.baselineAdminNetworkPolicies ?? []), ...(state.baselineAdminNetworkPolicies ?? [])] };
    expect(() => buildPolicyIndex(two)).toThrow(/at most one BaselineAdminNetworkPolicy/);
  });
});

describe('ipInBlock', () => {
  const block: ParsedIpBlock = { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.2.3.4/32'], family: 'IPv4', v4: { address: 0x0a000000, prefix: 8 }, exceptV4: [{ address: 0x0a010000, prefix: 16 }, { address: 0x0a020304, prefix: 32 }] };
  it.each([
    ['10.0.0.1', true],
    ['10.255.255.255', true],
    ['10.1.200.1', false],
    ['10.2.3.4', false],
    ['10.2.3.5', true],
    ['11.0.0.0', false],
  ])('%s → %s', (ip, want) => {
    expect(ipInBlock(block, parseIpv4(ip))).toBe(want);
  });

  it('an IPv6 block never matches an IPv4 address', () => {
    expect(ipInBlock({ cidr: '::/0', except: [], family: 'IPv6', exceptV4: [] }, parseIpv4('10.0.0.1'))).toBe(false);
  });
});
