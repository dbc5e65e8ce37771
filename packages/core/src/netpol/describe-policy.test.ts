import { describe, expect, it } from 'vitest';
import { describeAdminPeer, describeAdminPort, describeNetworkPolicyPeer, describeNetworkPolicyPort } from './describe-policy.js';

const sel = (matchLabels: Record<string, string> = {}) => ({ matchLabels, matchExpressions: [] });

describe('describeNetworkPolicyPort', () => {
  it.each([
    [{ protocol: 'TCP' as const, port: 80 }, 'TCP/80'],
    [{ protocol: 'UDP' as const, port: 8000, endPort: 8080 }, 'UDP/8000-8080'],
    [{ protocol: 'TCP' as const, port: 'http' }, 'TCP/http'],
    [{ protocol: 'SCTP' as const }, 'SCTP (every port)'],
  ])('%j → %s', (p, want) => {
    expect(describeNetworkPolicyPort(p)).toBe(want);
  });
});

describe('describeNetworkPolicyPeer', () => {
  it.each([
    [{ kind: 'pods' as const, podSelector: sel({ app: 'db' }) }, 'podSelector {app=db} (namespace shop)'],
    [{ kind: 'pods' as const, podSelector: sel() }, 'podSelector {} (namespace shop)'],
    [{ kind: 'pods' as const, namespaceSelector: sel() }, 'namespaceSelector {}'],
    [{ kind: 'pods' as const, namespaceSelector: sel({ team: 'a' }), podSelector: sel({ app: 'db' }) }, 'namespaceSelector {team=a} + podSelector {app=db}'],
    [{ kind: 'ipBlock' as const, block: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'], family: 'IPv4' as const, exceptV4: [] } }, 'ipBlock 10.0.0.0/8 except 10.1.0.0/16'],
  ])('%j → %s', (p, want) => {
    expect(describeNetworkPolicyPeer(p, 'shop')).toBe(want);
  });
});

describe('describeAdminPort', () => {
  it.each([
    [{ kind: 'portNumber' as const, protocol: 'TCP' as const, port: 22 }, 'TCP/22'],
    [{ kind: 'portRange' as const, protocol: 'UDP' as const, start: 1, end: 9 }, 'UDP/1-9'],
    [{ kind: 'namedPort' as const, name: 'http' }, 'namedPort http'],
  ])('%j → %s', (p, want) => {
    expect(describeAdminPort(p)).toBe(want);
  });
});

describe('describeAdminPeer', () => {
  it.each([
    [{ kind: 'namespaces' as const, namespaceSelector: sel({ team: 'a' }) }, 'namespaces {team=a}'],
    [{ kind: 'pods' as const, namespaceSelector: sel(), podSelector: sel({ app: 'db' }) }, 'pods namespaceSelector {} + podSelector {app=db}'],
    [{ kind: 'nodes' as const, nodeSelector: sel() }, 'nodes {}'],
    [{ kind: 'domainNames' as const, domainNames: ['*.example.com'] }, 'domainNames *.example.com'],
    [{ kind: 'unknown' as const, fields: ['serviceAccounts'] }, 'unknown peer (serviceAccounts)'],
  ])('%j → %s', (p, want) => {
    expect(describeAdminPeer(p)).toBe(want);
  });
});
