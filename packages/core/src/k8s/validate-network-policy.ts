import { cidrContains, formatIpv4Cidr } from '../ip/ipv4.js';
import type { Ipv4Cidr } from '../ip/ipv4.js';
import { parseLabelSelector } from '../netpol/label-selector.js';
import type {
  ParsedIpBlock,
  ParsedNetworkPolicy,
  ParsedNetworkPolicyPeer,
  ParsedNetworkPolicyPort,
  ParsedNetworkPolicyRule,
} from '../netpol/parsed-policy.js';
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
  reqString,
} from './manifest-fields.js';
import type { ManifestObject } from './manifest-fields.js';
import { validateMetadata } from './validate-metadata.js';

const POLICY_TYPES = ['Ingress', 'Egress'] as const;

/** A validated NetworkPolicy: its identity and its normalised form (the object itself is kept as loaded). */
export interface ValidatedNetworkPolicy {
  readonly namespace: string;
  readonly name: string;
  /** Defaults applied, `policyTypes` inferred, CIDRs parsed. */
  readonly policy: ParsedNetworkPolicy;
}

/**
 * Validates a NetworkPolicy (`networking.k8s.io/v1`) and returns its normalised form; the
 * evaluation lives in `netpol/`.
 *
 * @remarks
 * - Selectors: `matchLabels` and `matchExpressions` with `In`/`NotIn`/`Exists`/`DoesNotExist`.
 * - A peer has `podSelector` and/or `namespaceSelector`, or only `ipBlock`; a peer with none is
 *   invalid, as is `ipBlock` beside a selector.
 * - `ipBlock.cidr` is parsed leniently (host bits masked, as older upstream e2e tests write
 *   `<podIP>/4`); every `except` must lie strictly inside `cidr`.
 * - Ports: `protocol` TCP/UDP/SCTP (default TCP); `port` a number 1-65535 or a port name;
 *   `endPort` only with a numeric `port`, and `endPort >= port`.
 * - `policyTypes` entries are `Ingress` or `Egress`. Absent or empty, they are inferred:
 *   `Ingress` always, `Egress` only when `spec.egress` has at least one rule.
 * - IPv6 blocks are accepted (`cidr` and `except` must be IPv6 too) and never match an IPv4
 *   address (knet models IPv4).
 * - `ingress: []` and an absent `ingress` are the same: no rule, nothing allowed (the API server
 *   drops empty lists); `ingress: [{}]` is one rule that allows everything.
 * - Linux equivalent: none.
 * @throws KnetError `EINVAL` naming the field, e.g. `spec.ingress[0].from[1].ipBlock.except[0]`.
 * @see kubernetes pkg/apis/networking/validation/validation.go ValidateNetworkPolicySpec
 * @see kubernetes pkg/apis/networking/v1/defaults.go (SetDefaults_NetworkPolicy: policyTypes)
 * @see /work/shared/facts/netpol.md sections 1-2
 * @example
 * ```ts
 * import { validateNetworkPolicy } from '@knet/core';
 * const v = validateNetworkPolicy({ source: { file: 'np.yaml', document: 0 }, warnings: [] }, {
 *   apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy',
 *   metadata: { name: 'deny', namespace: 'x' }, spec: { podSelector: {}, egress: [] },
 * });
 * v.policy.policyTypes; // ['Ingress']: an empty egress list does not isolate egress
 * ```
 */
export function validateNetworkPolicy(ctx: ManifestContext, object: ManifestObject): ValidatedNetworkPolicy {
  const meta = validateMetadata(ctx, object, true);
  const spec = optObject(ctx, object['spec'], 'spec') ?? {};
  const podSelector = parseLabelSelector(ctx, spec['podSelector'], 'spec.podSelector');
  const types = optArray(ctx, spec['policyTypes'], 'spec.policyTypes') ?? [];
  const written: ('Ingress' | 'Egress')[] = [];
  for (let i = 0; i < types.length; i++) {
    const t = types[i];
    if (typeof t !== 'string' || !(POLICY_TYPES as readonly string[]).includes(t)) {
      throw manifestError(ctx.source, `spec.policyTypes[${i}]`, `unsupported value ${JSON.stringify(t)}: must be Ingress or Egress`);
    }
    if (!written.includes(t as 'Ingress' | 'Egress')) written.push(t as 'Ingress' | 'Egress');
  }
  const ingress = readRules(ctx, spec['ingress'], 'ingress', 'from');
  const egress = readRules(ctx, spec['egress'], 'egress', 'to');
  const inferred = written.length === 0;
  const policyTypes: ('Ingress' | 'Egress')[] = inferred ? (egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress']) : written;
  return {
    namespace: meta.namespace,
    name: meta.name,
    policy: { namespace: meta.namespace, name: meta.name, podSelector, policyTypes, policyTypesInferred: inferred, ingress, egress },
  };
}

function readRules(ctx: ManifestContext, v: unknown, dir: 'ingress' | 'egress', peersKey: 'from' | 'to'): ParsedNetworkPolicyRule[] {
  const rules = optArray(ctx, v, `spec.${dir}`) ?? [];
  const out: ParsedNetworkPolicyRule[] = [];
  for (let r = 0; r < rules.length; r++) {
    const rf = `spec.${dir}[${r}]`;
    const rule = optObject(ctx, rules[r], rf) ?? {};
    const ports = readPorts(ctx, rule['ports'], `${rf}.ports`);
    const peersRaw = optArray(ctx, rule[peersKey], `${rf}.${peersKey}`) ?? [];
    const peers: ParsedNetworkPolicyPeer[] = [];
    for (let p = 0; p < peersRaw.length; p++) peers.push(readPeer(ctx, peersRaw[p], `${rf}.${peersKey}[${p}]`));
    out.push({ ports, peers });
  }
  return out;
}

function readPeer(ctx: ManifestContext, v: unknown, field: string): ParsedNetworkPolicyPeer {
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
  if (hasBlock) return { kind: 'ipBlock', block: readIpBlock(ctx, peer['ipBlock'], `${field}.ipBlock`) };
  const podSelector = hasPod ? parseLabelSelector(ctx, peer['podSelector'], `${field}.podSelector`) : undefined;
  const namespaceSelector = hasNs ? parseLabelSelector(ctx, peer['namespaceSelector'], `${field}.namespaceSelector`) : undefined;
  return {
    kind: 'pods',
    ...(podSelector === undefined ? {} : { podSelector }),
    ...(namespaceSelector === undefined ? {} : { namespaceSelector }),
  };
}

/**
 * Reads an `ipBlock` (`cidr` + `except`): IPv4 parsed leniently (host bits masked), every
 * `except` strictly inside `cidr` and of the same family.
 *
 * @remarks Linux equivalent: none.
 * @throws KnetError `EINVAL` naming `…ipBlock.cidr` or `…ipBlock.except[i]`.
 */
export function readIpBlock(ctx: ManifestContext, v: unknown, field: string): ParsedIpBlock {
  const block = optObject(ctx, v, field) ?? {};
  const base = readPolicyCidr(ctx, block['cidr'], `${field}.cidr`);
  const exceptRaw = optArray(ctx, block['except'], `${field}.except`) ?? [];
  const except: string[] = [];
  const exceptV4: Ipv4Cidr[] = [];
  for (let i = 0; i < exceptRaw.length; i++) {
    const ef = `${field}.except[${i}]`;
    const e = readPolicyCidr(ctx, exceptRaw[i], ef);
    if (e.family !== base.family) throw manifestError(ctx.source, ef, `except ${e.cidr} is not in the ${base.family} cidr ${base.cidr}`);
    if (e.v4 !== undefined && base.v4 !== undefined && (e.v4.prefix <= base.v4.prefix || !cidrContains(base.v4, e.v4.address))) {
      throw manifestError(ctx.source, ef, `except ${formatIpv4Cidr(e.v4)} must be strictly within cidr ${formatIpv4Cidr(base.v4)}`);
    }
    except.push(e.cidr);
    if (e.v4 !== undefined) exceptV4.push(e.v4);
  }
  return { ...base, except, exceptV4 };
}

/**
 * Reads one CIDR of a policy (`ipBlock.cidr`, `except[i]`, AdminNetworkPolicy `networks[i]`):
 * IPv4 parsed leniently (host bits masked, as Go's `net.ParseCIDR` allows), IPv6 checked for
 * shape only (knet evaluates IPv4).
 *
 * @remarks Linux equivalent: none.
 * @throws KnetError `EINVAL` naming the field.
 */
export function readPolicyCidr(ctx: ManifestContext, v: unknown, field: string): ParsedIpBlock {
  const text = reqString(ctx, v, field);
  if (looksLikeIpv6(text)) {
    checkIpv6Cidr(ctx, text, field);
    return { cidr: text, except: [], family: 'IPv6', exceptV4: [] };
  }
  return { cidr: text, except: [], family: 'IPv4', v4: readIpv4Cidr(ctx, text, field, false), exceptV4: [] };
}

/** A light IPv6 CIDR check (knet does not evaluate IPv6; it only refuses obvious garbage). */
function checkIpv6Cidr(ctx: ManifestContext, text: string, field: string): void {
  const m = /^([0-9A-Fa-f:.]+)\/(\d{1,3})$/.exec(text);
  if (m === null || Number(m[2]) > 128 || (m[1] ?? '').split('::').length > 2) {
    throw manifestError(ctx.source, field, `invalid CIDR "${text}"`, 'EINVAL', { value: text });
  }
}

function readPorts(ctx: ManifestContext, v: unknown, field: string): ParsedNetworkPolicyPort[] {
  const ports = optArray(ctx, v, field) ?? [];
  const out: ParsedNetworkPolicyPort[] = [];
  for (let i = 0; i < ports.length; i++) {
    const f = `${field}[${i}]`;
    const p = optObject(ctx, ports[i], f) ?? {};
    const protocol = readProtocol(ctx, p['protocol'], `${f}.protocol`);
    const port = readPortNumberOrName(ctx, p['port'], `${f}.port`);
    const endPort = optInt(ctx, p['endPort'], `${f}.endPort`, 1, 65535);
    if (endPort !== undefined) {
      if (typeof port !== 'number') {
        throw manifestError(ctx.source, `${f}.endPort`, 'endPort may only be set with a numeric port');
      }
      if (endPort < port) throw manifestError(ctx.source, `${f}.endPort`, `endPort ${endPort} is below port ${port}`);
    }
    out.push({ protocol, ...(port === undefined ? {} : { port }), ...(endPort === undefined ? {} : { endPort }) });
  }
  return out;
}
