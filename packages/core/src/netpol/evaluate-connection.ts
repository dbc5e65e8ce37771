import { KnetError } from '../errors/knet-error.js';
import { formatIpv4, tryParseIpv4 } from '../ip/ipv4.js';
import { ipInBlock } from './build-policy-index.js';
import type { CompiledAdminPeer, CompiledAdminPolicy, CompiledAdminRule, CompiledNetworkPolicyPeer, IndexedPod, PolicyIndex } from './build-policy-index.js';
import { describeAdminPeer, describeAdminPort, describeNetworkPolicyPeer, describeNetworkPolicyPort } from './describe-policy.js';
import type { PolicyProtocol } from './network-policy-api.js';
import type { ParsedAdminPort, ParsedNetworkPolicyPort } from './parsed-policy.js';
import { podSetHas } from './pod-set.js';

/**
 * One end of a connection: a pod of the index, or an address (outside the cluster, or a node
 * — host-network traffic).
 */
export type PolicyEndpoint =
  | { readonly kind: 'pod'; readonly pod: number }
  | { readonly kind: 'ip'; readonly ip: number; readonly node?: string };

/** What decided one side of a connection. */
export type PolicyTier =
  /** The end is not a pod policies select (an outside address, a node, a host-network pod). */
  | 'not-subject'
  /** Ingress from the pod's own node, which NetworkPolicy always allows (kubelet probes). */
  | 'node'
  /** An AdminNetworkPolicy rule with action Allow or Deny. */
  | 'admin'
  /** The NetworkPolicies isolating the pod in this direction (allowed iff one of their rules matches). */
  | 'network-policy'
  /** A BaselineAdminNetworkPolicy rule. */
  | 'baseline'
  /** Nothing applied: Kubernetes allows by default. */
  | 'default';

/** How one rule of a NetworkPolicy fared against the connection. */
export interface NetworkPolicyRuleVerdict {
  /** Index in `spec.ingress` / `spec.egress`. */
  readonly rule: number;
  readonly matched: boolean;
  /** The first `ports` entry that matches; `'all'` when the rule lists no ports; `null` when none matches. */
  readonly port: number | 'all' | null;
  /** The first `from`/`to` entry that matches; `'all'` when the rule lists no peers; `null` when none matches. */
  readonly peer: number | 'all' | null;
  /** One sentence: what matched, or what did not. */
  readonly why: string;
}

/** How one isolating NetworkPolicy fared. */
export interface NetworkPolicyVerdict {
  /** `namespace/name`. */
  readonly policy: string;
  readonly allowed: boolean;
  /** Every rule of the policy in this direction; empty when it has none (it only isolates). */
  readonly rules: readonly NetworkPolicyRuleVerdict[];
}

/** An AdminNetworkPolicy or BaselineAdminNetworkPolicy rule that matched the connection. */
export interface AdminRuleVerdict {
  readonly kind: 'AdminNetworkPolicy' | 'BaselineAdminNetworkPolicy';
  /** The policy's name. */
  readonly policy: string;
  /** The AdminNetworkPolicy's priority (absent for the baseline). */
  readonly priority?: number;
  /** Index in `spec.ingress` / `spec.egress`. */
  readonly rule: number;
  /** The rule's `name` (may be empty). */
  readonly ruleName: string;
  readonly action: 'Allow' | 'Deny' | 'Pass';
  /** The first matching `ports` entry, `'all'` when the rule lists none (or fails closed). */
  readonly port: number | 'all';
  /** The first matching peer, `'all'` when the rule fails closed (a peer with unknown fields). */
  readonly peer: number | 'all';
  readonly why: string;
}

/** The verdict of one side of a connection (the source's egress, or the destination's ingress), with its reasons. */
export interface SideExplanation {
  readonly direction: 'egress' | 'ingress';
  /** The pod whose policies apply on this side (`namespace/name`), or `null` when that end is not such a pod. */
  readonly subject: string | null;
  readonly allowed: boolean;
  readonly tier: PolicyTier;
  /** One line for people. */
  readonly reason: string;
  /** The first AdminNetworkPolicy rule that matched: Allow/Deny decided, Pass handed over to the next tier. */
  readonly admin: AdminRuleVerdict | null;
  /** Other AdminNetworkPolicies of the same priority whose rules match with a different action (the API leaves the winner unspecified). */
  readonly adminConflicts: readonly AdminRuleVerdict[];
  /** The NetworkPolicies isolating the subject in this direction (`namespace/name`), also when a higher tier decided. */
  readonly isolatedBy: readonly string[];
  /** Per isolating NetworkPolicy, how each of its rules fared. */
  readonly policies: readonly NetworkPolicyVerdict[];
  /** The BaselineAdminNetworkPolicy rule that matched, when the baseline was consulted. */
  readonly baseline: AdminRuleVerdict | null;
}

/** The verdict on a connection (`src` opening a connection to `dst` on `port`/`protocol`). */
export interface ConnectionVerdict {
  /** `namespace/name` of a pod, or an address. */
  readonly src: string;
  readonly dst: string;
  readonly port: number;
  readonly protocol: PolicyProtocol;
  /** The answer: both sides allow it, or it is a pod's traffic to itself. */
  readonly allowed: boolean;
  /** True for a pod's traffic to itself, which knet always allows. */
  readonly self: boolean;
  /** What the policies alone say (`egress.allowed && ingress.allowed`); differs from `allowed` only for self traffic. */
  readonly policyAllowed: boolean;
  readonly egress: SideExplanation;
  readonly ingress: SideExplanation;
}

/**
 * Resolves an endpoint reference: a pod index, `namespace/name`, a bare pod name (namespace
 * `default`), `node/NAME`, or an IPv4 address (a pod's own address resolves to the pod, a
 * node's InternalIP to the node, anything else is outside the cluster).
 *
 * @remarks Linux equivalent: none.
 * @throws KnetError `ENOENT` for an unknown pod or node, `EINVAL` for a pod index out of range.
 * @example
 * ```ts
 * import { buildClusterState, buildPolicyIndex, loadExampleCluster, resolvePolicyEndpoint } from '@knet/core';
 * const index = buildPolicyIndex(buildClusterState(loadExampleCluster()));
 * resolvePolicyEndpoint(index, '203.0.113.7'); // { kind: 'ip', ip: 3405803783 }
 * ```
 */
export function resolvePolicyEndpoint(index: PolicyIndex, ref: string | number | PolicyEndpoint): PolicyEndpoint {
  if (typeof ref === 'object') return ref;
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref < 0 || ref >= index.pods.length) throw new KnetError('EINVAL', `no pod with index ${ref}`, { pod: ref });
    return { kind: 'pod', pod: ref };
  }
  const ip = tryParseIpv4(ref);
  if (ip !== undefined) {
    const pod = index.podByIp.get(ip);
    if (pod !== undefined) return { kind: 'pod', pod };
    const node = index.nodeByIp.get(ip);
    return node === undefined ? { kind: 'ip', ip } : { kind: 'ip', ip, node };
  }
  if (ref.startsWith('node/')) {
    const node = index.nodes.get(ref.slice(5));
    if (node === undefined) throw new KnetError('ENOENT', `no node "${ref.slice(5)}"`, { node: ref.slice(5) });
    return { kind: 'ip', ip: node.ip, node: node.name };
  }
  const key = ref.includes('/') ? ref : `default/${ref}`;
  const pod = index.podByKey.get(key);
  if (pod === undefined) throw new KnetError('ENOENT', `no pod "${key}"`, { pod: key });
  return { kind: 'pod', pod };
}

/**
 * Decides whether `src` may open a connection to `dst` on `port`/`protocol`, and why: the
 * source's egress and the destination's ingress are evaluated separately and both must allow.
 *
 * @remarks
 * Per side, the tiers of the network-policy-api, in order:
 * 1. AdminNetworkPolicies selecting the pod, by priority (then name), rules in order, first
 *    match wins: `Allow` and `Deny` are final, `Pass` skips every remaining AdminNetworkPolicy.
 * 2. NetworkPolicies: if any isolates the pod in this direction, the connection is allowed iff
 *    some rule of some of them matches (ports AND peers), else denied; a denial names every
 *    isolating policy and why each rule did not match.
 * 3. The BaselineAdminNetworkPolicy `default`, rules in order, first match wins.
 * 4. Otherwise allowed.
 *
 * Conventions (see docs/guides/network-policy.md):
 * - A pod's traffic to itself is always allowed (`self: true`); `policyAllowed` keeps what the
 *   policies alone would say, as upstream's e2e tables compute it.
 * - Host-network pods are not policy subjects and are matched only by their node's address
 *   (ipBlock, AdminNetworkPolicy `nodes` and `networks`); traffic from a pod's own node
 *   (a host-network pod on it, or the node's address) is always allowed in.
 * - Named ports resolve against the destination pod's container ports (name AND protocol);
 *   they never match a destination that is not a pod (or is a host-network pod).
 * - The verdict is about opening the connection; replies are allowed implicitly.
 * - Cost: O(rules of the policies selecting the two pods) with O(1) peer tests (bitsets).
 *
 * Linux equivalent: the policy chains a CNI programs (Calico's cali-pi-/cali-po- chains,
 * weave-npc's WEAVE-NPC-INGRESS/EGRESS with ipsets), evaluated for one packet.
 * @throws KnetError `ENOENT` for an unknown pod or node name.
 * @see kubernetes website content/en/docs/concepts/services-networking/network-policies.md
 * @see kubernetes-sigs/network-policy-api apis/v1alpha1 (AdminNetworkPolicy, BaselineAdminNetworkPolicy)
 * @see /work/shared/facts/netpol.md
 * @example
 * ```ts
 * import { buildClusterState, buildPolicyIndex, evaluateConnection, loadExampleCluster } from '@knet/core';
 * const index = buildPolicyIndex(buildClusterState(loadExampleCluster()));
 * const v = evaluateConnection(index, 'default/client', 'shop/cart-5d8b9c7f6-hv4nx', 8080, 'TCP');
 * v.allowed; // false: shop/default-deny-ingress isolates cart, and only frontend pods are admitted
 * ```
 */
export function evaluateConnection(
  index: PolicyIndex,
  src: string | number | PolicyEndpoint,
  dst: string | number | PolicyEndpoint,
  port: number,
  protocol: PolicyProtocol,
): ConnectionVerdict {
  const s = resolvePolicyEndpoint(index, src);
  const d = resolvePolicyEndpoint(index, dst);
  const srcPod = s.kind === 'pod' ? (index.pods[s.pod] as IndexedPod) : undefined;
  const dstPod = d.kind === 'pod' ? (index.pods[d.pod] as IndexedPod) : undefined;
  const self = srcPod !== undefined && srcPod === dstPod;
  const egress = evaluateSide(index, 'egress', srcPod, d, port, protocol, dstPod);
  let ingress: SideExplanation;
  const fromNode = dstPod !== undefined && !dstPod.hostNetwork ? sourceNode(index, s) : undefined;
  if (dstPod !== undefined && fromNode !== undefined && fromNode === dstPod.nodeName && !self) {
    const decided = evaluateSide(index, 'ingress', dstPod, s, port, protocol, dstPod);
    ingress = {
      ...decided,
      allowed: true,
      tier: 'node',
      reason: `traffic from ${dstPod.key}'s own node ${fromNode} is always allowed in (ingress isolation exempts the node)`,
    };
  } else {
    ingress = evaluateSide(index, 'ingress', dstPod, s, port, protocol, dstPod);
  }
  const policyAllowed = egress.allowed && ingress.allowed;
  return {
    src: endpointName(index, s),
    dst: endpointName(index, d),
    port,
    protocol,
    allowed: self || policyAllowed,
    self,
    policyAllowed,
    egress,
    ingress,
  };
}

/** The node an endpoint is host-network traffic of (a host-network pod, or a node address). */
function sourceNode(index: PolicyIndex, e: PolicyEndpoint): string | undefined {
  if (e.kind === 'ip') return e.node ?? index.nodeByIp.get(e.ip);
  const p = index.pods[e.pod] as IndexedPod;
  return p.hostNetwork ? p.nodeName : undefined;
}

/** `namespace/name` of a pod endpoint, the address of any other. */
export function endpointName(index: PolicyIndex, e: PolicyEndpoint): string {
  if (e.kind === 'pod') return (index.pods[e.pod] as IndexedPod).key;
  return e.node === undefined ? formatIpv4(e.ip) : `node/${e.node}`;
}

function evaluateSide(
  index: PolicyIndex,
  direction: 'egress' | 'ingress',
  subject: IndexedPod | undefined,
  peer: PolicyEndpoint,
  port: number,
  protocol: PolicyProtocol,
  target: IndexedPod | undefined,
): SideExplanation {
  const empty = { admin: null, adminConflicts: [], isolatedBy: [], policies: [], baseline: null } as const;
  if (subject === undefined || subject.hostNetwork) {
    return {
      direction,
      subject: null,
      allowed: true,
      tier: 'not-subject',
      reason:
        subject === undefined
          ? `the ${direction === 'egress' ? 'source' : 'destination'} is not a pod: no policy applies to its ${direction}`
          : `${subject.key} uses the host network: policies do not select it (its traffic is its node's)`,
      ...empty,
    };
  }
  const peerName = endpointName(index, peer);
  const namedTarget = target !== undefined && !target.hostNetwork ? target : undefined;
  const peerWord = direction === 'ingress' ? 'from' : 'to';

  // 1. AdminNetworkPolicies.
  let admin: AdminRuleVerdict | null = null;
  const adminConflicts: AdminRuleVerdict[] = [];
  const adminIds = (direction === 'ingress' ? index.adminIngress : index.adminEgress)[subject.index] ?? [];
  for (let k = 0; k < adminIds.length && admin === null; k++) {
    const policy = index.adminNetworkPolicies[adminIds[k] as number] as CompiledAdminPolicy;
    admin = firstAdminMatch(policy, direction, peer, port, protocol, namedTarget, peerName, peerWord);
    if (admin === null) continue;
    for (let j = k + 1; j < adminIds.length; j++) {
      const other = index.adminNetworkPolicies[adminIds[j] as number] as CompiledAdminPolicy;
      if (other.policy.priority !== policy.policy.priority) break;
      const m = firstAdminMatch(other, direction, peer, port, protocol, namedTarget, peerName, peerWord);
      if (m !== null && m.action !== admin.action) adminConflicts.push(m);
    }
  }

  // 2. NetworkPolicies (always evaluated, so the explanation can show them).
  const npIds = (direction === 'ingress' ? index.ingressPolicies : index.egressPolicies)[subject.index] ?? [];
  const isolatedBy: string[] = [];
  const policies: NetworkPolicyVerdict[] = [];
  let npAllowed = false;
  let admittedBy = '';
  for (const id of npIds) {
    const np = index.networkPolicies[id];
    if (np === undefined) continue;
    isolatedBy.push(np.key);
    const rules = direction === 'ingress' ? np.ingress : np.egress;
    const verdicts: NetworkPolicyRuleVerdict[] = [];
    let allowed = false;
    for (const r of rules) {
      const portIdx = r.rule.ports.length === 0 ? 'all' : firstNpPort(r.rule.ports, port, protocol, namedTarget);
      let peerIdx: number | 'all' | null;
      if (r.peers.length === 0) peerIdx = 'all';
      else {
        peerIdx = null;
        for (let p = 0; p < r.peers.length; p++) {
          if (npPeerMatches(r.peers[p] as CompiledNetworkPolicyPeer, peer)) {
            peerIdx = p;
            break;
          }
        }
      }
      const matched = portIdx !== null && peerIdx !== null;
      const field = `${direction}[${r.index}]`;
      const portText =
        portIdx === 'all'
          ? 'no ports: every port'
          : portIdx === null
            ? `no ports entry matches ${protocol}/${port}${namedPortNote(r.rule.ports, namedTarget)} (ports: ${r.rule.ports.map(describeNetworkPolicyPort).join(', ')})`
            : `ports[${portIdx}] ${describeNetworkPolicyPort(r.rule.ports[portIdx] as ParsedNetworkPolicyPort)} matches ${protocol}/${port}`;
      const peerText =
        peerIdx === 'all'
          ? `no ${peerWord}: every ${direction === 'ingress' ? 'source' : 'destination'}`
          : peerIdx === null
            ? `no ${peerWord} entry selects ${peerName} (${peerWord}: ${r.peers.map((p) => describeNetworkPolicyPeer(p.peer, np.policy.namespace)).join('; ')})${noAddressNote(index, peer, r.rule.peers)}`
            : `${peerWord}[${peerIdx}] ${describeNetworkPolicyPeer((r.peers[peerIdx] as CompiledNetworkPolicyPeer).peer, np.policy.namespace)} selects ${peerName}`;
      verdicts.push({ rule: r.index, matched, port: portIdx, peer: peerIdx, why: `${field}: ${portText}; ${peerText}` });
      if (matched && !allowed) {
        allowed = true;
        if (!npAllowed) admittedBy = `${np.key} ${field}`;
      }
    }
    if (allowed) npAllowed = true;
    policies.push({ policy: np.key, allowed, rules: verdicts });
  }

  if (admin !== null && admin.action !== 'Pass') {
    return {
      direction,
      subject: subject.key,
      allowed: admin.action === 'Allow',
      tier: 'admin',
      reason: `${admin.action === 'Allow' ? 'allowed' : 'denied'} by AdminNetworkPolicy ${admin.policy} (priority ${admin.priority ?? ''}) ${direction}[${admin.rule}]${admin.ruleName === '' ? '' : ` "${admin.ruleName}"`}: ${admin.action}`,
      admin,
      adminConflicts,
      isolatedBy,
      policies,
      baseline: null,
    };
  }
  const passed = admin === null ? '' : `AdminNetworkPolicy ${admin.policy} ${direction}[${admin.rule}] passed it on; `;
  if (isolatedBy.length > 0) {
    let reason: string;
    if (npAllowed) reason = `${passed}isolated by ${isolatedBy.join(', ')}; allowed by ${admittedBy}`;
    else {
      const why = policies.map((p) => (p.rules.length === 0 ? `${p.policy} has no ${direction} rules` : `${p.policy}: no rule matches`));
      reason = `${passed}isolated by ${isolatedBy.join(', ')}; denied: ${why.join('; ')}`;
    }
    return { direction, subject: subject.key, allowed: npAllowed, tier: 'network-policy', reason, admin, adminConflicts, isolatedBy, policies, baseline: null };
  }
  const banp = index.baselineAdminNetworkPolicy;
  if (banp !== undefined && podSetHas(index.baselineSelected, subject.index)) {
    const baseline = firstAdminMatch(banp, direction, peer, port, protocol, namedTarget, peerName, peerWord);
    if (baseline !== null) {
      return {
        direction,
        subject: subject.key,
        allowed: baseline.action === 'Allow',
        tier: 'baseline',
        reason: `${passed}no NetworkPolicy isolates ${subject.key} for ${direction}; ${baseline.action === 'Allow' ? 'allowed' : 'denied'} by BaselineAdminNetworkPolicy default ${direction}[${baseline.rule}]${baseline.ruleName === '' ? '' : ` "${baseline.ruleName}"`}: ${baseline.action}`,
        admin,
        adminConflicts,
        isolatedBy,
        policies,
        baseline,
      };
    }
  }
  return {
    direction,
    subject: subject.key,
    allowed: true,
    tier: 'default',
    reason: `${passed}no policy isolates ${subject.key} for ${direction}: allowed`,
    admin,
    adminConflicts,
    isolatedBy,
    policies,
    baseline: null,
  };
}

function noAddressNote(index: PolicyIndex, peer: PolicyEndpoint, peers: readonly { kind: string }[]): string {
  if (peer.kind !== 'pod' || !peers.some((p) => p.kind === 'ipBlock')) return '';
  const p = index.pods[peer.pod] as IndexedPod;
  if (p.ip === undefined) return `; ${p.key} has no known address, so no ipBlock can match it`;
  return !index.ipBlocksMatchPods && !p.hostNetwork ? '; ipBlocks do not match pod addresses (ipBlocksMatchPods: false)' : '';
}

function namedPortNote(ports: readonly ParsedNetworkPolicyPort[], target: IndexedPod | undefined): string {
  if (!ports.some((p) => typeof p.port === 'string')) return '';
  return target === undefined ? '; named ports resolve only against a destination pod' : ` on ${target.key}`;
}

/** Index of the first NetworkPolicy port entry matching, or null. */
function firstNpPort(ports: readonly ParsedNetworkPolicyPort[], port: number, protocol: PolicyProtocol, target: IndexedPod | undefined): number | null {
  for (let i = 0; i < ports.length; i++) if (npPortMatches(ports[i] as ParsedNetworkPolicyPort, port, protocol, target)) return i;
  return null;
}

/**
 * True when a NetworkPolicy port entry matches `port`/`protocol`; a named port is resolved
 * against the destination pod's container ports (name and protocol).
 */
export function npPortMatches(p: ParsedNetworkPolicyPort, port: number, protocol: PolicyProtocol, target: IndexedPod | undefined): boolean {
  if (p.protocol !== protocol) return false;
  if (p.port === undefined) return true;
  if (typeof p.port === 'number') return p.endPort === undefined ? port === p.port : port >= p.port && port <= p.endPort;
  return target !== undefined && resolvesNamedPort(target, p.port, protocol, port);
}

/** True when the pod declares a container port `name` with `protocol` and number `port`. */
export function resolvesNamedPort(pod: IndexedPod, name: string, protocol: PolicyProtocol, port: number): boolean {
  for (const cp of pod.ports) if (cp.name === name && cp.protocol === protocol && cp.containerPort === port) return true;
  return false;
}

/** True when an AdminNetworkPolicy port entry matches. */
export function adminPortMatches(p: ParsedAdminPort, port: number, protocol: PolicyProtocol, target: IndexedPod | undefined): boolean {
  switch (p.kind) {
    case 'portNumber':
      return p.protocol === protocol && p.port === port;
    case 'portRange':
      return p.protocol === protocol && port >= p.start && port <= p.end;
    case 'namedPort':
      return target !== undefined && resolvesNamedPort(target, p.name, protocol, port);
  }
}

function npPeerMatches(c: CompiledNetworkPolicyPeer, peer: PolicyEndpoint): boolean {
  if (peer.kind === 'pod') return podSetHas(c.pods, peer.pod);
  return c.peer.kind === 'ipBlock' && ipInBlock(c.peer.block, peer.ip);
}

function adminPeerMatches(c: CompiledAdminPeer, peer: PolicyEndpoint): boolean {
  if (peer.kind === 'pod') return podSetHas(c.pods, peer.pod);
  if (c.peer.kind === 'networks') return c.peer.networks.some((b) => ipInBlock(b, peer.ip));
  if (c.peer.kind === 'nodes') return c.nodeIPs.has(peer.ip);
  return false;
}

function firstAdminMatch(
  policy: CompiledAdminPolicy,
  direction: 'egress' | 'ingress',
  peer: PolicyEndpoint,
  port: number,
  protocol: PolicyProtocol,
  target: IndexedPod | undefined,
  peerName: string,
  peerWord: string,
): AdminRuleVerdict | null {
  const rules: readonly CompiledAdminRule[] = direction === 'ingress' ? policy.ingress : policy.egress;
  const kind = policy.policy.kind === 'admin' ? 'AdminNetworkPolicy' : 'BaselineAdminNetworkPolicy';
  const base = { kind, policy: policy.policy.name, ...(policy.policy.kind === 'admin' ? { priority: policy.policy.priority } : {}) } as const;
  for (const r of rules) {
    if (r.failClosed === 'deny-all') {
      return { ...base, rule: r.index, ruleName: r.rule.name, action: 'Deny', port: 'all', peer: 'all', why: `a ${peerWord} peer has only unknown fields: the ${r.rule.action} rule fails closed and denies everything` };
    }
    let portIdx: number | 'all' | null = 'all';
    const ports = r.rule.ports;
    if (ports !== undefined) {
      portIdx = null;
      for (let i = 0; i < ports.length; i++) {
        if (adminPortMatches(ports[i] as ParsedAdminPort, port, protocol, target)) {
          portIdx = i;
          break;
        }
      }
    }
    if (portIdx === null) continue;
    for (let p = 0; p < r.peers.length; p++) {
      const c = r.peers[p] as CompiledAdminPeer;
      if (!adminPeerMatches(c, peer)) continue;
      const portText = portIdx === 'all' ? 'every port' : `ports[${portIdx}] ${describeAdminPort(ports?.[portIdx] as ParsedAdminPort)}`;
      return { ...base, rule: r.index, ruleName: r.rule.name, action: r.rule.action, port: portIdx, peer: p, why: `${peerWord}[${p}] ${describeAdminPeer(c.peer)} selects ${peerName}; ${portText} matches ${protocol}/${port}` };
    }
  }
  return null;
}
