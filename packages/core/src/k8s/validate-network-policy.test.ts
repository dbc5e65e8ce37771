import { describe, expect, it } from 'vitest';
import { isKnetError } from '../errors/knet-error.js';
import type { ManifestContext } from './manifest-context.js';
import { readPolicyCidr, validateNetworkPolicy } from './validate-network-policy.js';

const ctx = (): ManifestContext => ({ source: { file: 'np.yaml', document: 1 }, warnings: [] });
const np = (spec: unknown, metadata: unknown = { name: 'p', namespace: 'x' }) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata, spec });

function errorOf(f: () => unknown): { code: string; field: string | undefined; file: unknown } | undefined {
  try {
    f();
  } catch (e) {
    if (isKnetError(e)) return { code: e.code, field: e.details.field, file: e.details.file };
    throw e;
  }
  return undefined;
}

describe('validateNetworkPolicy', () => {
  it('normalises the policy: namespace default, protocol TCP, peers by kind, CIDRs parsed leniently', () => {
    const v = validateNetworkPolicy(
      ctx(),
      np(
        {
          podSelector: { matchLabels: { app: 'db' } },
          ingress: [
            {
              from: [{ podSelector: {} }, { namespaceSelector: {}, podSelector: { matchLabels: { a: 'b' } } }, { ipBlock: { cidr: '10.1.2.3/8', except: ['10.1.0.0/16'] } }],
              ports: [{ port: 5432 }, { port: 'metrics', protocol: 'UDP' }, { protocol: 'SCTP' }, { port: 8000, endPort: 8080 }],
            },
          ],
        },
        { name: 'p' },
      ),
    );
    expect(v.namespace).toBe('default');
    expect(v.policy.ingress[0]?.ports).toEqual([
      { protocol: 'TCP', port: 5432 },
      { protocol: 'UDP', port: 'metrics' },
      { protocol: 'SCTP' },
      { protocol: 'TCP', port: 8000, endPort: 8080 },
    ]);
    expect(v.policy.ingress[0]?.peers).toEqual([
      { kind: 'pods', podSelector: { matchLabels: {}, matchExpressions: [] } },
      { kind: 'pods', podSelector: { matchLabels: { a: 'b' }, matchExpressions: [] }, namespaceSelector: { matchLabels: {}, matchExpressions: [] } },
      {
        kind: 'ipBlock',
        block: { cidr: '10.1.2.3/8', except: ['10.1.0.0/16'], family: 'IPv4', v4: { address: 0x0a000000, prefix: 8 }, exceptV4: [{ address: 0x0a010000, prefix: 16 }] },
      },
    ]);
  });

  it.each([
    ['absent, no egress', {}, ['Ingress'], true],
    ['empty list', { policyTypes: [] }, ['Ingress'], true],
    ['absent, egress: []', { egress: [] }, ['Ingress'], true],
    ['absent, an egress rule', { egress: [{}] }, ['Ingress', 'Egress'], true],
    ['written [Egress]', { policyTypes: ['Egress'], ingress: [{}] }, ['Egress'], false],
    ['written twice', { policyTypes: ['Ingress', 'Ingress'] }, ['Ingress'], false],
  ])('policyTypes %s → %j', (_name, spec, types, inferred) => {
    const v = validateNetworkPolicy(ctx(), np({ podSelector: {}, ...spec }));
    expect(v.policy.policyTypes).toEqual(types);
    expect(v.policy.policyTypesInferred).toBe(inferred);
  });

  it.each([
    ['an invalid CIDR', { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] }, 'spec.ingress[0].from[0].ipBlock.cidr'],
    ['a CIDR without prefix', { egress: [{ to: [{ ipBlock: { cidr: '10.0.0.1' } }] }] }, 'spec.egress[0].to[0].ipBlock.cidr'],
    ['an except outside its cidr', { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] } }] }] }, 'spec.ingress[0].from[0].ipBlock.except[0]'],
    ['an except as wide as its cidr', { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.0.0/16'] } }] }] }, 'spec.ingress[0].from[0].ipBlock.except[0]'],
    ['an IPv6 except in an IPv4 cidr', { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['fd00::/64'] } }] }] }, 'spec.ingress[0].from[0].ipBlock.except[0]'],
    ['a malformed IPv6 cidr', { ingress: [{ from: [{ ipBlock: { cidr: 'fd00::1::2/64' } }] }] }, 'spec.ingress[0].from[0].ipBlock.cidr'],
    ['an unknown protocol', { egress: [{ ports: [{ protocol: 'ICMP', port: 1 }] }] }, 'spec.egress[0].ports[0].protocol'],
    ['a bad selector operator', { podSelector: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] } }, 'spec.podSelector.matchExpressions[0].operator'],
    ['a bad peer selector operator', { ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'in', values: ['b'] }] } }] }] }, 'spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].operator'],
    ['an unknown policy type', { policyTypes: ['Both'] }, 'spec.policyTypes[0]'],
    ['port 0', { ingress: [{ ports: [{ port: 0 }] }] }, 'spec.ingress[0].ports[0].port'],
    ['a quoted number as port', { ingress: [{ ports: [{ port: '80' }] }] }, 'spec.ingress[0].ports[0].port'],
  ])('refuses %s with EINVAL naming the field', (_name, spec, field) => {
    expect(errorOf(() => validateNetworkPolicy(ctx(), np({ podSelector: {}, ...spec })))).toEqual({ code: 'EINVAL', field, file: 'np.yaml' });
  });
});

describe('readPolicyCidr', () => {
  it.each([
    ['192.0.2.77/24', { family: 'IPv4', v4: { address: 0xc0000200, prefix: 24 } }],
    ['0.0.0.0/0', { family: 'IPv4', v4: { address: 0, prefix: 0 } }],
    ['2001:db8::/32', { family: 'IPv6' }],
  ])('%s', (text, want) => {
    expect(readPolicyCidr(ctx(), text, 'networks[0]')).toMatchObject({ cidr: text, ...want });
  });
});
