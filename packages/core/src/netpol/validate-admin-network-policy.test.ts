import { describe, expect, it } from 'vitest';
import { isKnetError } from '../errors/knet-error.js';
import type { ManifestContext } from '../k8s/manifest-context.js';
import { validateAdminNetworkPolicy, validateBaselineAdminNetworkPolicy } from './validate-admin-network-policy.js';

const ctx = (): ManifestContext => ({ source: { file: 'anp.yaml', document: 0 }, warnings: [] });
const anp = (spec: unknown, name = 'a') => ({ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'AdminNetworkPolicy', metadata: { name }, spec });
const banp = (spec: unknown, name = 'default') => ({ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'BaselineAdminNetworkPolicy', metadata: { name }, spec });
const ns = (name: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });

function fieldOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (isKnetError(e, 'EINVAL')) return e.details.field;
    throw e;
  }
  return undefined;
}

describe('validateAdminNetworkPolicy', () => {
  it('normalises subject, rules, peers and ports (protocol defaults to TCP, absent ports = all)', () => {
    const p = validateAdminNetworkPolicy(
      ctx(),
      anp({
        priority: 3,
        subject: { pods: { namespaceSelector: ns('x'), podSelector: { matchLabels: { app: 'db' } } } },
        ingress: [{ name: 'pass-monitoring', action: 'Pass', from: [{ namespaces: ns('monitoring') }] }],
        egress: [
          {
            action: 'Deny',
            to: [{ networks: ['192.0.2.7/24', '2001:db8::/32'] }, { nodes: {} }],
            ports: [{ portNumber: { port: 22 } }, { portRange: { protocol: 'UDP', start: 1000, end: 2000 } }],
          },
          { action: 'Allow', to: [{ pods: { namespaceSelector: {}, podSelector: {} } }], ports: [{ namedPort: 'http' }] },
        ],
      }),
    );
    expect(p).toMatchObject({
      kind: 'admin',
      name: 'a',
      priority: 3,
      subject: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'x' } }, podSelector: { matchLabels: { app: 'db' } } },
      ingress: [{ name: 'pass-monitoring', action: 'Pass', peers: [{ kind: 'namespaces' }] }],
    });
    expect(p.ingress[0]?.ports).toBeUndefined();
    expect(p.egress[0]?.ports).toEqual([
      { kind: 'portNumber', protocol: 'TCP', port: 22 },
      { kind: 'portRange', protocol: 'UDP', start: 1000, end: 2000 },
    ]);
    expect(p.egress[0]?.peers[0]).toMatchObject({ kind: 'networks', networks: [{ family: 'IPv4', v4: { address: 0xc0000200, prefix: 24 } }, { family: 'IPv6' }] });
    expect(p.egress[1]?.ports).toEqual([{ kind: 'namedPort', name: 'http' }]);
  });

  it('keeps a peer with only unknown fields, with a warning (it fails closed)', () => {
    const c = ctx();
    const p = validateAdminNetworkPolicy(c, anp({ priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ serviceAccounts: {} }] }] }));
    expect(p.egress[0]?.peers).toEqual([{ kind: 'unknown', fields: ['serviceAccounts'] }]);
    expect(c.warnings).toEqual([expect.objectContaining({ field: 'spec.egress[0].to[0]', message: expect.stringContaining('fails closed') })]);
  });

  it.each([
    ['a missing priority', { subject: { namespaces: {} } }, 'spec.priority'],
    ['a negative priority', { priority: -1, subject: { namespaces: {} } }, 'spec.priority'],
    ['a missing subject', { priority: 1 }, 'spec.subject'],
    ['an empty subject', { priority: 1, subject: {} }, 'spec.subject'],
    ['a pods subject without podSelector', { priority: 1, subject: { pods: { namespaceSelector: {} } } }, 'spec.subject.pods.podSelector'],
    ['an unknown action', { priority: 1, subject: { namespaces: {} }, ingress: [{ action: 'Drop', from: [{ namespaces: {} }] }] }, 'spec.ingress[0].action'],
    ['a missing action', { priority: 1, subject: { namespaces: {} }, ingress: [{ from: [{ namespaces: {} }] }] }, 'spec.ingress[0].action'],
    ['a missing from', { priority: 1, subject: { namespaces: {} }, ingress: [{ action: 'Deny' }] }, 'spec.ingress[0].from'],
    ['a peer with two fields', { priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ namespaces: {}, networks: ['10.0.0.0/8'] }] }] }, 'spec.egress[0].to[0]'],
    ['an empty peer', { priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{}] }] }, 'spec.egress[0].to[0]'],
    ['nodes on ingress', { priority: 1, subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ nodes: {} }] }] }, 'spec.ingress[0].from[0].nodes'],
    ['domainNames in a Deny rule', { priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ domainNames: ['example.com'] }] }] }, 'spec.egress[0].to[0].domainNames'],
    ['a bad domain name', { priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Allow', to: [{ domainNames: ['bad..name'] }] }] }, 'spec.egress[0].to[0].domainNames[0]'],
    ['26 networks', { priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ networks: Array.from({ length: 26 }, (_, i) => `10.${i}.0.0/16`) }] }] }, 'spec.egress[0].to[0].networks'],
    ['namedPort with networks', { priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ networks: ['10.0.0.0/8'] }], ports: [{ namedPort: 'http' }] }] }, 'spec.egress[0].ports'],
    ['a port entry with two fields', { priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ namespaces: {} }], ports: [{ portNumber: { port: 1 }, namedPort: 'a' }] }] }, 'spec.egress[0].ports[0]'],
    ['an empty ports list', { priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ namespaces: {} }], ports: [] }] }, 'spec.egress[0].ports'],
    ['port 0', { priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ namespaces: {} }], ports: [{ portNumber: { port: 0 } }] }] }, 'spec.egress[0].ports[0].portNumber.port'],
    ['an unknown protocol', { priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ namespaces: {} }], ports: [{ portNumber: { protocol: 'ICMP', port: 1 } }] }] }, 'spec.egress[0].ports[0].portNumber.protocol'],
    ['a range with start >= end', { priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ namespaces: {} }], ports: [{ portRange: { start: 80, end: 80 } }] }] }, 'spec.egress[0].ports[0].portRange.end'],
    ['an invalid named port', { priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ namespaces: {} }], ports: [{ namedPort: 'HTTP_PORT' }] }] }, 'spec.egress[0].ports[0].namedPort'],
    ['a 101-character rule name', { priority: 1, subject: { namespaces: {} }, egress: [{ name: 'n'.repeat(101), action: 'Deny', to: [{ namespaces: {} }] }] }, 'spec.egress[0].name'],
  ])('refuses %s', (_name, spec, field) => {
    expect(fieldOf(() => validateAdminNetworkPolicy(ctx(), anp(spec)))).toBe(field);
  });
});

describe('validateBaselineAdminNetworkPolicy', () => {
  it('reads the singleton with priority Infinity', () => {
    const p = validateBaselineAdminNetworkPolicy(ctx(), banp({ subject: { namespaces: {} }, egress: [{ action: 'Allow', to: [{ namespaces: {} }] }] }));
    expect([p.kind, p.name, p.priority, p.egress[0]?.action]).toEqual(['baseline', 'default', Number.POSITIVE_INFINITY, 'Allow']);
  });

  it.each([
    ['another name', banp({ subject: { namespaces: {} } }, 'strict'), 'metadata.name'],
    ['a Pass action', banp({ subject: { namespaces: {} }, ingress: [{ action: 'Pass', from: [{ namespaces: {} }] }] }), 'spec.ingress[0].action'],
    ['a missing spec', { ...banp({}), spec: undefined }, 'spec'],
  ])('refuses %s', (_name, object, field) => {
    expect(fieldOf(() => validateBaselineAdminNetworkPolicy(ctx(), object as Record<string, unknown>))).toBe(field);
  });
});
