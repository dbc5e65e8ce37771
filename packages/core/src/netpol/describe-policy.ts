import { formatLabelSelector, isEmptyLabelSelector } from './label-selector.js';
import type { ParsedAdminPeer, ParsedAdminPort, ParsedNetworkPolicyPeer, ParsedNetworkPolicyPort } from './parsed-policy.js';

/**
 * Renders a NetworkPolicy port entry: `TCP/80`, `TCP/8000-8080`, `TCP/http`, or `UDP (every port)`.
 *
 * @remarks Linux equivalent: none.
 * @example
 * ```ts
 * import { describeNetworkPolicyPort } from '@knet/core';
 * describeNetworkPolicyPort({ protocol: 'TCP', port: 8000, endPort: 8080 }); // 'TCP/8000-8080'
 * ```
 */
export function describeNetworkPolicyPort(p: ParsedNetworkPolicyPort): string {
  if (p.port === undefined) return `${p.protocol} (every port)`;
  if (p.endPort !== undefined) return `${p.protocol}/${p.port}-${p.endPort}`;
  return `${p.protocol}/${p.port}`;
}

/**
 * Renders a NetworkPolicy peer, keeping the combined-versus-separate selector distinction
 * visible: `podSelector {app=db} (namespace shop)`, `namespaceSelector {team=a} + podSelector
 * {app=db}`, `ipBlock 10.0.0.0/8 except 10.1.0.0/16`.
 *
 * @param namespace - the policy's namespace (a lone podSelector selects there).
 * @remarks Linux equivalent: none.
 * @example
 * ```ts
 * import { describeNetworkPolicyPeer } from '@knet/core';
 * describeNetworkPolicyPeer({ kind: 'pods', podSelector: { matchLabels: { app: 'db' }, matchExpressions: [] } }, 'shop'); // 'podSelector {app=db} (namespace shop)'
 * ```
 */
export function describeNetworkPolicyPeer(peer: ParsedNetworkPolicyPeer, namespace: string): string {
  if (peer.kind === 'ipBlock') {
    const b = peer.block;
    return `ipBlock ${b.cidr}${b.except.length > 0 ? ` except ${b.except.join(', ')}` : ''}`;
  }
  const pod = peer.podSelector === undefined ? undefined : `podSelector {${selectorText(peer.podSelector)}}`;
  if (peer.namespaceSelector === undefined) return `${pod ?? 'podSelector {}'} (namespace ${namespace})`;
  const ns = `namespaceSelector {${selectorText(peer.namespaceSelector)}}`;
  return pod === undefined ? ns : `${ns} + ${pod}`;
}

/**
 * Renders an AdminNetworkPolicy port entry: `TCP/80`, `TCP/8000-8080`, `namedPort http`.
 *
 * @remarks Linux equivalent: none.
 * @example
 * ```ts
 * import { describeAdminPort } from '@knet/core';
 * describeAdminPort({ kind: 'namedPort', name: 'http' }); // 'namedPort http'
 * ```
 */
export function describeAdminPort(p: ParsedAdminPort): string {
  switch (p.kind) {
    case 'portNumber':
      return `${p.protocol}/${p.port}`;
    case 'portRange':
      return `${p.protocol}/${p.start}-${p.end}`;
    case 'namedPort':
      return `namedPort ${p.name}`;
  }
}

/**
 * Renders an AdminNetworkPolicy peer: `namespaces {…}`, `pods {ns} + {pods}`, `nodes {…}`,
 * `networks 0.0.0.0/0`, `domainNames …`.
 *
 * @remarks Linux equivalent: none.
 * @example
 * ```ts
 * import { describeAdminPeer } from '@knet/core';
 * describeAdminPeer({ kind: 'networks', networks: [{ cidr: '0.0.0.0/0', except: [], family: 'IPv4', exceptV4: [] }] }); // 'networks 0.0.0.0/0'
 * ```
 */
export function describeAdminPeer(peer: ParsedAdminPeer): string {
  switch (peer.kind) {
    case 'namespaces':
      return `namespaces {${selectorText(peer.namespaceSelector)}}`;
    case 'pods':
      return `pods namespaceSelector {${selectorText(peer.namespaceSelector)}} + podSelector {${selectorText(peer.podSelector)}}`;
    case 'nodes':
      return `nodes {${selectorText(peer.nodeSelector)}}`;
    case 'networks':
      return `networks ${peer.networks.map((b) => b.cidr).join(', ')}`;
    case 'domainNames':
      return `domainNames ${peer.domainNames.join(', ')}`;
    case 'unknown':
      return `unknown peer (${peer.fields.join(', ')})`;
  }
}

function selectorText(sel: Parameters<typeof formatLabelSelector>[0]): string {
  return isEmptyLabelSelector(sel) ? '' : formatLabelSelector(sel);
}
