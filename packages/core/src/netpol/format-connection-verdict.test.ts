import { describe, expect, it } from 'vitest';
import { fixtureIndex } from '../../test/netpol/cluster-fixture.js';
import { buildClusterState } from '../cluster/build-cluster-state.js';
import { loadExampleCluster } from '../example/example-cluster.js';
import { buildPolicyIndex } from './build-policy-index.js';
import { evaluateConnection } from './evaluate-connection.js';
import { formatConnectionVerdict } from './format-connection-verdict.js';

describe('formatConnectionVerdict', () => {
  it('explains a denial by the isolating policies, rule by rule', () => {
    const index = buildPolicyIndex(buildClusterState(loadExampleCluster()));
    expect(formatConnectionVerdict(evaluateConnection(index, 'default/client', 'shop/db-0', 5432, 'TCP'))).toBe(
      [
        'default/client -> shop/db-0 TCP/5432: denied',
        '',
        'egress of default/client: allowed [default]',
        '  no policy isolates default/client for egress: allowed',
        '',
        'ingress of shop/db-0: denied [network-policy]',
        '  isolated by shop/default-deny-ingress, shop/allow-cart-to-db; denied: shop/default-deny-ingress has no ingress rules; shop/allow-cart-to-db: no rule matches',
        '  NetworkPolicies isolating shop/db-0 for ingress:',
        '    shop/default-deny-ingress: no ingress rules (it only isolates)',
        '    shop/allow-cart-to-db: no rule matches',
        '      ✗ ingress[0]: ports[0] TCP/postgres matches TCP/5432; no from entry selects default/client (from: podSelector {app=cart} (namespace shop))',
        '',
      ].join('\n'),
    );
  });

  it('marks self traffic and the admin tier, listing NetworkPolicies a higher tier overrode', () => {
    const index = fixtureIndex({
      pods: [{ key: 'x/a' }, { key: 'x/b' }],
      policies: [{ namespace: 'x', name: 'deny', spec: { podSelector: {}, policyTypes: ['Ingress'] } }],
      adminPolicies: [{ name: 'allow-x', spec: { priority: 9, subject: { namespaces: {} }, ingress: [{ action: 'Allow', from: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'b' } } } }] }] } }],
    });
    const self = formatConnectionVerdict(evaluateConnection(index, 'x/a', 'x/a', 80, 'TCP'));
    expect(self.split('\n')[0]).toBe('x/a -> x/a TCP/80: allowed (a pod may always reach itself; the policies alone would deny it)');
    const text = formatConnectionVerdict(evaluateConnection(index, 'x/b', 'x/a', 80, 'TCP'));
    expect(text.split('\n').slice(5)).toEqual([
      'ingress of x/a: allowed [admin]',
      '  allowed by AdminNetworkPolicy allow-x (priority 9) ingress[0]: Allow',
      '  AdminNetworkPolicy allow-x (priority 9) ingress[0]: Allow: from[0] pods namespaceSelector {} + podSelector {app=b} selects x/b; every port matches TCP/80',
      '  NetworkPolicies isolating x/a for ingress (not consulted: a higher tier decided):',
      '    x/deny: no ingress rules (it only isolates)',
      '',
    ]);
  });
});
