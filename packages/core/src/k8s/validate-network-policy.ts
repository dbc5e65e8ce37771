import { cidrContains, formatIpv4Cidr } from '../ip/ipv4.js';
import { manifestError } from './manifest-context.js';
import type { ManifestContext } from './manifest-context.js';
import {
  looksLikeIpv6,
  optArray,
  optInt,
  optObject,
  readIpv4Cidr,
  readPortNumberOrName,
  readProtocol,
} from './manifest-fields.js';
import type { ManifestObject } from './manifest-fields.js';
import { validateLabelSelector } from './validate-label-selector.js';
import { validateMetadata } from './validate-metadata.js';

const POLICY_TYPES = ['Ingress', 'Egress'] as const;

/** Identity of a validated NetworkPolicy (the object itself is kept as loaded). */
export interface ValidatedNetworkPolicy {
  readonly namespace: string;
  readonly name: string;
}

/**
 * Validates the shape of a NetworkPolicy (`networking.k8s.io/v1`); the semantics live in `netpol/`.
 *
 * @remarks
 * - Selectors: `matchLabels` and `matchExpressions` with `In`/`NotIn`/`Exists`/`DoesNotExist`.
 * - A peer has `podSelector` and/or `namespaceSelector`, or only `ipBlock`; a peer with none is
 *   invalid, as is `ipBlock` beside a selector.
 * - `ipBlock.cidr` is parsed leniently (host bits masked, as older upstream e2e tests write
 *   `<podIP>/4`); every `except` must lie strictly inside `cidr`.
 * - Ports: `protocol` TCP/UDP/SCTP (default TCP); `port` a number 1-65535 or a port name;
 *   `endPort` only with a numeric `port`, and `endPort >= port`.
 * - `policyTypes` entries are `Ingress` or `Egress`.
 * - IPv6 blocks are accepted unchecked (knet models IPv4; they never match an IPv4 address).
 * - Linux equivalent: none.
 * @throws KnetError `EINVAL` naming the field, e.g. `spec.ingress[0].from[1].ipBlock.except[0]`.
 * @see kubernetes pkg/apis/networking/validation/validation.go ValidateNetworkPolicySpec
 * @see /work/shared/facts/netpol.md sections 1-2
 */
export function validateNetworkPolicy(ctx: ManifestContext, object: ManifestObject): ValidatedNetworkPolicy {
  const meta = validateMetadata(ctx, object, true);
  const spec = optObject(ctx, object['spec'], 'spec') ?? {};
  validateLabelSelector(ctx, spec['podSelector'], 'spec.podSelector');
  const types = optArray(ctx, spec['policyTypes'], 'spec.policyTypes') ?? [];
  for (let i = 0; i < types.length; i++) {
    const t = types[i];
    if (typeof t !== 'string' || !(POLICY_TYPES as readonly string[]).includes(t)) {
      throw manifestError(ctx.source, `spec.policyTypes[${i}]`, `unsupported value ${JSON.stringify(t)}: must be Ingress or Egress`);
    }
  }
  for (const [dir, peersKey] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ] as const) {
    const rules = optArray(ctx, spec[dir], `spec.${dir}`) ?? [];
    for (let r = 0; r < rules.length; r++) {
      const rf = `spec.${dir}[${r}]`;
      const rule = optObject(ctx, rules[r], rf) ?? {};
      validatePorts(ctx, rule['ports'], `${rf}.ports`);
      const peers = optArray(ctx, rule[peersKey], `${rf}.${peersKey}`) ?? [];
      for (let p = 0; p < peers.length; p++) validatePeer(ctx, peers[p], `${rf}.${peersKey}[${p}]`);
    }
  }
  return { namespace: meta.namespace, name: meta.name };
}

function validatePeer(ctx: ManifestContext, v: unknown, field: string): void {
  const peer = optObject(ctx, v, field);
  if (peer === undefined) throw manifestError(ctx.source, field, 'expected a peer object');
  const hasPod = peer['podSelector'] !== undefined && peer['podSelector'] !== null;
  const hasNs = peer['namespaceSelector'] !== undefined && peer['namespaceSelector'] !== null;
  const hasBlock = peer['ipBlock'] !== undefined && peer['ipBlock'] !== null;
  if (!hasPod && !hasNs && !hasBlock) {
    throw manifestError(ctx.source, field, 'a peer needs podSelector, namespaceSelector or ipBlock');
  }
  if (hasBlock && (hasPod || hasNs)) {
    throw manifestError(ctx.source, `${field}.ipBlock`, 'ipBlock may not be combined with podSelector or namespaceSelector');
  }
  validateLabelSelector(ctx, peer['podSelector'], `${field}.podSelector`);
  validateLabelSelector(ctx, peer['namespaceSelector'], `${field}.namespaceSelector`);
  if (!hasBlock) return;
  const block = optObject(ctx, peer['ipBlock'], `${field}.ipBlock`) ?? {};
  const cidrText = block['cidr'];
  if (typeof cidrText === 'string' && looksLikeIpv6(cidrText)) return;
  const cidr = readIpv4Cidr(ctx, cidrText, `${field}.ipBlock.cidr`, false);
  const except = optArray(ctx, block['except'], `${field}.ipBlock.except`) ?? [];
  for (let i = 0; i < except.length; i++) {
    const ef = `${field}.ipBlock.except[${i}]`;
    const e = readIpv4Cidr(ctx, except[i], ef, false);
    if (e.prefix <= cidr.prefix || !cidrContains(cidr, e.address)) {
      throw manifestError(ctx.source, ef, `except ${formatIpv4Cidr(e)} must be strictly within cidr ${formatIpv4Cidr(cidr)}`);
    }
  }
}

function validatePorts(ctx: ManifestContext, v: unknown, field: string): void {
  const ports = optArray(ctx, v, field) ?? [];
  for (let i = 0; i < ports.length; i++) {
    const f = `${field}[${i}]`;
    const p = optObject(ctx, ports[i], f) ?? {};
    readProtocol(ctx, p['protocol'], `${f}.protocol`);
    const port = readPortNumberOrName(ctx, p['port'], `${f}.port`);
    const endPort = optInt(ctx, p['endPort'], `${f}.endPort`, 1, 65535);
    if (endPort === undefined) continue;
    if (typeof port !== 'number') {
      throw manifestError(ctx.source, `${f}.endPort`, 'endPort may only be set with a numeric port');
    }
    if (endPort < port) throw manifestError(ctx.source, `${f}.endPort`, `endPort ${endPort} is below port ${port}`);
  }
}
