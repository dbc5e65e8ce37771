import { manifestError, manifestWarning } from '../k8s/manifest-context.js';
import type { ManifestContext } from '../k8s/manifest-context.js';
import { isManifestObject, isValidPortName, optArray, optInt, optObject, readProtocol, reqString } from '../k8s/manifest-fields.js';
import type { ManifestObject } from '../k8s/manifest-fields.js';
import { validateMetadata } from '../k8s/validate-metadata.js';
import { readPolicyCidr } from '../k8s/validate-network-policy.js';
import { parseLabelSelector } from './label-selector.js';
import type {
  AdminRuleAction,
  ParsedAdminNetworkPolicy,
  ParsedAdminPeer,
  ParsedAdminPort,
  ParsedAdminRule,
  ParsedAdminSubject,
  ParsedIpBlock,
} from './parsed-policy.js';

/** The largest number of rules per direction an AdminNetworkPolicy or BaselineAdminNetworkPolicy may hold. */
export const ADMIN_MAX_RULES = 100;
/** The largest `priority` of an AdminNetworkPolicy (lower numbers are evaluated first). */
export const ADMIN_MAX_PRIORITY = 1000;

const DOMAIN_NAME = /^(\*\.)?([a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$/;
const INGRESS_PEERS = ['namespaces', 'pods'] as const;
const EGRESS_PEERS = ['namespaces', 'pods', 'nodes', 'networks', 'domainNames'] as const;

/**
 * Validates an AdminNetworkPolicy (`policy.networking.k8s.io/v1alpha1`) and returns its
 * normalised form.
 *
 * @remarks
 * - `spec.priority` 0-1000 (lower first); `spec.subject` exactly one of `namespaces` and
 *   `pods` (`namespaceSelector` AND `podSelector`).
 * - At most 100 ingress and 100 egress rules; `action` `Allow`, `Deny` or `Pass`; `from`/`to`
 *   at least one peer; `ports` (absent = all) entries have exactly one of `portNumber`,
 *   `namedPort`, `portRange` (`start < end`); `protocol` defaults to TCP.
 * - Peers have exactly one field: `namespaces`, `pods`; on egress also `nodes`, `networks`
 *   (at most 25 CIDRs) and `domainNames` (Allow rules only). A `namedPort` may not be combined
 *   with `nodes`, `networks` or `domainNames` peers.
 * - A peer holding only fields knet does not know is kept as `unknown` with a warning: the API
 *   says such a rule fails closed (an Allow rule matches nothing, a Deny or Pass rule denies
 *   everything).
 * - Linux equivalent: none.
 * @throws KnetError `EINVAL` naming the field, e.g. `spec.egress[0].to[1].networks[0]`.
 * @see kubernetes-sigs/network-policy-api apis/v1alpha1/adminnetworkpolicy_types.go, shared_types.go
 * @see /work/shared/facts/netpol.md section 4
 * @example
 * ```ts
 * import { validateAdminNetworkPolicy } from '@knet/core';
 * const anp = validateAdminNetworkPolicy({ source: { file: 'anp.yaml', document: 0 }, warnings: [] }, {
 *   apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'AdminNetworkPolicy', metadata: { name: 'a' },
 *   spec: { priority: 10, subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] },
 * });
 * anp.ingress[0]?.action; // 'Deny'
 * ```
 */
export function validateAdminNetworkPolicy(ctx: ManifestContext, object: ManifestObject): ParsedAdminNetworkPolicy {
  const meta = validateMetadata(ctx, object, false);
  const spec = optObject(ctx, object['spec'], 'spec');
  if (spec === undefined) throw manifestError(ctx.source, 'spec', 'required value is missing');
  if (spec['priority'] === undefined || spec['priority'] === null) throw manifestError(ctx.source, 'spec.priority', 'required value is missing');
  const priority = optInt(ctx, spec['priority'], 'spec.priority', 0, ADMIN_MAX_PRIORITY) as number;
  return {
    kind: 'admin',
    name: meta.name,
    priority,
    subject: readSubject(ctx, spec['subject']),
    ingress: readRules(ctx, spec['ingress'], 'ingress', ['Allow', 'Deny', 'Pass']),
    egress: readRules(ctx, spec['egress'], 'egress', ['Allow', 'Deny', 'Pass']),
  };
}

/**
 * Validates a BaselineAdminNetworkPolicy (`policy.networking.k8s.io/v1alpha1`) and returns its
 * normalised form.
 *
 * @remarks
 * - The singleton: `metadata.name` must be `default`.
 * - As {@link validateAdminNetworkPolicy}, without `priority`, and `action` only `Allow` or `Deny`.
 * - Linux equivalent: none.
 * @throws KnetError `EINVAL` naming the field (`metadata.name` for another name).
 * @see kubernetes-sigs/network-policy-api apis/v1alpha1/baselineadminnetworkpolicy_types.go
 * @example
 * ```ts
 * import { validateBaselineAdminNetworkPolicy } from '@knet/core';
 * const banp = validateBaselineAdminNetworkPolicy({ source: { file: 'banp.yaml', document: 0 }, warnings: [] }, {
 *   apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'BaselineAdminNetworkPolicy', metadata: { name: 'default' },
 *   spec: { subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ networks: ['0.0.0.0/0'] }] }] },
 * });
 * banp.egress.length; // 1
 * ```
 */
export function validateBaselineAdminNetworkPolicy(ctx: ManifestContext, object: ManifestObject): ParsedAdminNetworkPolicy {
  const meta = validateMetadata(ctx, object, false);
  if (meta.name !== 'default') {
    throw manifestError(ctx.source, 'metadata.name', `a BaselineAdminNetworkPolicy must be named "default" (it is a singleton), not "${meta.name}"`);
  }
  const spec = optObject(ctx, object['spec'], 'spec');
  if (spec === undefined) throw manifestError(ctx.source, 'spec', 'required value is missing');
  return {
    kind: 'baseline',
    name: meta.name,
    priority: Number.POSITIVE_INFINITY,
    subject: readSubject(ctx, spec['subject']),
    ingress: readRules(ctx, spec['ingress'], 'ingress', ['Allow', 'Deny']),
    egress: readRules(ctx, spec['egress'], 'egress', ['Allow', 'Deny']),
  };
}

function readSubject(ctx: ManifestContext, v: unknown): ParsedAdminSubject {
  const subject = optObject(ctx, v, 'spec.subject');
  if (subject === undefined) throw manifestError(ctx.source, 'spec.subject', 'required value is missing');
  const keys = Object.keys(subject).filter((k) => subject[k] !== undefined && subject[k] !== null);
  if (keys.length !== 1 || (keys[0] !== 'namespaces' && keys[0] !== 'pods')) {
    throw manifestError(ctx.source, 'spec.subject', 'exactly one of namespaces and pods must be set');
  }
  if (keys[0] === 'namespaces') return { namespaceSelector: parseLabelSelector(ctx, subject['namespaces'], 'spec.subject.namespaces') };
  const pods = readNamespacedPod(ctx, subject['pods'], 'spec.subject.pods');
  return pods;
}

function readNamespacedPod(ctx: ManifestContext, v: unknown, field: string): { namespaceSelector: ParsedAdminSubject['namespaceSelector']; podSelector: NonNullable<ParsedAdminSubject['podSelector']> } {
  const o = optObject(ctx, v, field) ?? {};
  for (const k of ['namespaceSelector', 'podSelector']) {
    if (o[k] === undefined || o[k] === null) throw manifestError(ctx.source, `${field}.${k}`, 'required value is missing');
  }
  return {
    namespaceSelector: parseLabelSelector(ctx, o['namespaceSelector'], `${field}.namespaceSelector`),
    podSelector: parseLabelSelector(ctx, o['podSelector'], `${field}.podSelector`),
  };
}

function readRules(ctx: ManifestContext, v: unknown, dir: 'ingress' | 'egress', actions: readonly AdminRuleAction[]): ParsedAdminRule[] {
  const rules = optArray(ctx, v, `spec.${dir}`) ?? [];
  if (rules.length > ADMIN_MAX_RULES) {
    throw manifestError(ctx.source, `spec.${dir}`, `${rules.length} rules; at most ${ADMIN_MAX_RULES} are allowed`);
  }
  const peersKey = dir === 'ingress' ? 'from' : 'to';
  const out: ParsedAdminRule[] = [];
  for (let r = 0; r < rules.length; r++) {
    const rf = `spec.${dir}[${r}]`;
    const rule = optObject(ctx, rules[r], rf);
    if (rule === undefined) throw manifestError(ctx.source, rf, 'expected a rule object');
    const name = rule['name'] === undefined || rule['name'] === null ? '' : reqString(ctx, rule['name'], `${rf}.name`);
    if (name.length > 100) throw manifestError(ctx.source, `${rf}.name`, 'a rule name may be at most 100 characters');
    const actionRaw = rule['action'];
    if (actionRaw === undefined || actionRaw === null) throw manifestError(ctx.source, `${rf}.action`, 'required value is missing');
    if (typeof actionRaw !== 'string' || !(actions as readonly string[]).includes(actionRaw)) {
      throw manifestError(ctx.source, `${rf}.action`, `unsupported value ${JSON.stringify(actionRaw)}: must be one of ${actions.join(', ')}`);
    }
    const action = actionRaw as AdminRuleAction;
    const peersRaw = optArray(ctx, rule[peersKey], `${rf}.${peersKey}`);
    if (peersRaw === undefined || peersRaw.length === 0) {
      throw manifestError(ctx.source, `${rf}.${peersKey}`, `${peersKey} must hold at least one peer`);
    }
    if (peersRaw.length > ADMIN_MAX_RULES) {
      throw manifestError(ctx.source, `${rf}.${peersKey}`, `${peersRaw.length} peers; at most ${ADMIN_MAX_RULES} are allowed`);
    }
    const peers: ParsedAdminPeer[] = [];
    for (let p = 0; p < peersRaw.length; p++) peers.push(readPeer(ctx, peersRaw[p], `${rf}.${peersKey}[${p}]`, dir, action));
    const ports = readPorts(ctx, rule['ports'], `${rf}.ports`);
    if (ports?.some((p) => p.kind === 'namedPort') === true && peers.some((p) => p.kind === 'nodes' || p.kind === 'networks' || p.kind === 'domainNames')) {
      throw manifestError(ctx.source, `${rf}.ports`, 'networks/nodes/domainNames peers cannot be combined with namedPort: they have no named ports');
    }
    out.push({ name, action, peers, ...(ports === undefined ? {} : { ports }) });
  }
  return out;
}

function readPeer(ctx: ManifestContext, v: unknown, field: string, dir: 'ingress' | 'egress', action: AdminRuleAction): ParsedAdminPeer {
  if (!isManifestObject(v)) throw manifestError(ctx.source, field, 'expected a peer object');
  const present = Object.keys(v).filter((k) => v[k] !== undefined && v[k] !== null);
  const allowed: readonly string[] = dir === 'ingress' ? INGRESS_PEERS : EGRESS_PEERS;
  const known = present.filter((k) => allowed.includes(k));
  if (present.length === 0) throw manifestError(ctx.source, field, `a peer needs exactly one of ${allowed.join(', ')}`);
  if (known.length > 1) throw manifestError(ctx.source, field, `a peer may set only one of ${allowed.join(', ')} (found ${known.join(', ')})`);
  if (known.length === 0) {
    if (dir === 'ingress' && present.some((k) => (EGRESS_PEERS as readonly string[]).includes(k))) {
      throw manifestError(ctx.source, `${field}.${present[0] ?? ''}`, `${present[0] ?? ''} peers are only allowed in egress rules`);
    }
    manifestWarning(
      ctx,
      field,
      `peer with unknown field(s) ${present.join(', ')}: fails closed (${action === 'Allow' ? 'the Allow rule matches nothing through it' : `the ${action} rule denies all traffic`})`,
    );
    return { kind: 'unknown', fields: present };
  }
  const k = known[0] as (typeof EGRESS_PEERS)[number];
  switch (k) {
    case 'namespaces':
      return { kind: 'namespaces', namespaceSelector: parseLabelSelector(ctx, v['namespaces'], `${field}.namespaces`) };
    case 'pods': {
      const p = readNamespacedPod(ctx, v['pods'], `${field}.pods`);
      return { kind: 'pods', namespaceSelector: p.namespaceSelector, podSelector: p.podSelector };
    }
    case 'nodes':
      return { kind: 'nodes', nodeSelector: parseLabelSelector(ctx, v['nodes'], `${field}.nodes`) };
    case 'networks': {
      const list = optArray(ctx, v['networks'], `${field}.networks`) ?? [];
      if (list.length === 0 || list.length > 25) throw manifestError(ctx.source, `${field}.networks`, 'networks must hold 1 to 25 CIDRs');
      const networks: ParsedIpBlock[] = list.map((c, i) => readPolicyCidr(ctx, c, `${field}.networks[${i}]`));
      return { kind: 'networks', networks };
    }
    case 'domainNames': {
      if (action !== 'Allow') throw manifestError(ctx.source, `${field}.domainNames`, 'domainNames peers are only supported in Allow rules');
      const list = optArray(ctx, v['domainNames'], `${field}.domainNames`) ?? [];
      if (list.length === 0 || list.length > 25) throw manifestError(ctx.source, `${field}.domainNames`, 'domainNames must hold 1 to 25 names');
      const names = list.map((n, i) => {
        const s = reqString(ctx, n, `${field}.domainNames[${i}]`);
        if (!DOMAIN_NAME.test(s)) throw manifestError(ctx.source, `${field}.domainNames[${i}]`, `invalid domain name "${s}"`);
        return s;
      });
      return { kind: 'domainNames', domainNames: names };
    }
  }
}

function readPorts(ctx: ManifestContext, v: unknown, field: string): ParsedAdminPort[] | undefined {
  const list = optArray(ctx, v, field);
  if (list === undefined) return undefined;
  if (list.length === 0) throw manifestError(ctx.source, field, 'ports must hold at least one entry when set');
  if (list.length > ADMIN_MAX_RULES) throw manifestError(ctx.source, field, `${list.length} ports; at most ${ADMIN_MAX_RULES} are allowed`);
  return list.map((raw, i) => {
    const f = `${field}[${i}]`;
    const p = optObject(ctx, raw, f) ?? {};
    const keys = Object.keys(p).filter((k) => p[k] !== undefined && p[k] !== null);
    if (keys.length !== 1 || !['portNumber', 'namedPort', 'portRange'].includes(keys[0] as string)) {
      throw manifestError(ctx.source, f, 'exactly one of portNumber, namedPort and portRange must be set');
    }
    if (keys[0] === 'namedPort') {
      const name = reqString(ctx, p['namedPort'], `${f}.namedPort`);
      if (!isValidPortName(name)) throw manifestError(ctx.source, `${f}.namedPort`, `invalid port name "${name}"`);
      return { kind: 'namedPort', name };
    }
    if (keys[0] === 'portNumber') {
      const o = optObject(ctx, p['portNumber'], `${f}.portNumber`) ?? {};
      const protocol = readProtocol(ctx, o['protocol'], `${f}.portNumber.protocol`);
      if (o['port'] === undefined || o['port'] === null) throw manifestError(ctx.source, `${f}.portNumber.port`, 'required value is missing');
      const port = optInt(ctx, o['port'], `${f}.portNumber.port`, 1, 65535) as number;
      return { kind: 'portNumber', protocol, port };
    }
    const o = optObject(ctx, p['portRange'], `${f}.portRange`) ?? {};
    const protocol = readProtocol(ctx, o['protocol'], `${f}.portRange.protocol`);
    for (const k of ['start', 'end']) {
      if (o[k] === undefined || o[k] === null) throw manifestError(ctx.source, `${f}.portRange.${k}`, 'required value is missing');
    }
    const start = optInt(ctx, o['start'], `${f}.portRange.start`, 1, 65535) as number;
    const end = optInt(ctx, o['end'], `${f}.portRange.end`, 1, 65535) as number;
    if (start >= end) throw manifestError(ctx.source, `${f}.portRange.end`, `end ${end} must be greater than start ${start}`);
    return { kind: 'portRange', protocol, start, end };
  });
}
