import type { ClusterPod, ClusterState, ContainerPort, Labels } from '../cluster/cluster-state.js';
import { KnetError } from '../errors/knet-error.js';
import { prefixMask, tryParseIpv4 } from '../ip/ipv4.js';
import type { ManifestContext } from '../k8s/manifest-context.js';
import type { ManifestObject } from '../k8s/manifest-fields.js';
import { LABEL_METADATA_NAME } from '../k8s/validate-namespace.js';
import { validateNetworkPolicy } from '../k8s/validate-network-policy.js';
import { matchesLabelSelector } from './label-selector.js';
import type {
  ParsedAdminNetworkPolicy,
  ParsedAdminPeer,
  ParsedAdminRule,
  ParsedIpBlock,
  ParsedLabelSelector,
  ParsedNetworkPolicy,
  ParsedNetworkPolicyPeer,
  ParsedNetworkPolicyRule,
} from './parsed-policy.js';
import {
  emptyPodSet,
  fullPodSet,
  podSetAdd,
  podSetAndInto,
  podSetAndNotInto,
  podSetOrInto,
  podSetToArray,
} from './pod-set.js';
import type { PodSet } from './pod-set.js';
import { validateAdminNetworkPolicy, validateBaselineAdminNetworkPolicy } from './validate-admin-network-policy.js';

/** Options of {@link buildPolicyIndex}. */
export interface BuildPolicyIndexOptions {
  /**
   * Addresses of pods whose manifest has no `status.podIP` (the CNI's IPAM assigns them), by
   * `namespace/name`; used for ipBlock / `networks` matching. A pod without any address is never
   * matched by an ipBlock.
   */
  readonly podIPs?: ReadonlyMap<string, string>;
  /**
   * Whether NetworkPolicy ipBlocks match pod IPs. Default `true`, as upstream's e2e suite
   * requires; `false` is netpol-analyzer's convention (ipBlocks select only addresses outside the
   * pod network; host-network pods, which use their node's address, still match).
   */
  readonly ipBlocksMatchPods?: boolean;
}

/** A pod as the policy index sees it. */
export interface IndexedPod {
  readonly index: number;
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly nodeName: string;
  /** Host-network pods are not selected by pod or namespace selectors (knet's convention; see the guide). */
  readonly hostNetwork: boolean;
  /** The pod's IPv4 address as an unsigned 32-bit number, when known. */
  readonly ip: number | undefined;
  /** Every container's ports (named ports resolve against these). */
  readonly ports: readonly ContainerPort[];
  readonly pod: ClusterPod;
}

/** A node as the policy index sees it. */
export interface IndexedNode {
  readonly name: string;
  readonly labels: Labels;
  readonly ip: number;
}

/** A NetworkPolicy peer with the pods it selects. */
export interface CompiledNetworkPolicyPeer {
  readonly peer: ParsedNetworkPolicyPeer;
  /** Pods the peer selects (ipBlocks: pods whose address lies in the block). */
  readonly pods: PodSet;
}

/** A NetworkPolicy rule with its peers' pod sets. */
export interface CompiledNetworkPolicyRule {
  /** Index in `spec.ingress` / `spec.egress`. */
  readonly index: number;
  readonly rule: ParsedNetworkPolicyRule;
  readonly peers: readonly CompiledNetworkPolicyPeer[];
  /** Union of the peers' pods; every pod when the rule has no peers. */
  readonly peerPods: PodSet;
  /** True when a port entry names a container port (matching then depends on the destination pod). */
  readonly namedPorts: boolean;
}

/** A NetworkPolicy in the index. */
export interface CompiledNetworkPolicy {
  readonly id: number;
  /** `namespace/name`. */
  readonly key: string;
  readonly policy: ParsedNetworkPolicy;
  /** The pods the policy selects (`spec.podSelector` in its namespace, host-network pods excluded). */
  readonly selected: PodSet;
  readonly isolatesIngress: boolean;
  readonly isolatesEgress: boolean;
  /** Effective ingress rules (empty when `policyTypes` lacks Ingress). */
  readonly ingress: readonly CompiledNetworkPolicyRule[];
  readonly egress: readonly CompiledNetworkPolicyRule[];
}

/** An AdminNetworkPolicy / BaselineAdminNetworkPolicy peer with the pods it selects. */
export interface CompiledAdminPeer {
  readonly peer: ParsedAdminPeer;
  readonly pods: PodSet;
  /** For `nodes` peers: the selected nodes' addresses. */
  readonly nodeIPs: ReadonlySet<number>;
}

/** An admin rule in the index. */
export interface CompiledAdminRule {
  readonly index: number;
  readonly rule: ParsedAdminRule;
  readonly peers: readonly CompiledAdminPeer[];
  readonly peerPods: PodSet;
  readonly namedPorts: boolean;
  /**
   * `deny-all` when a peer has only unknown fields in a Deny or Pass rule (the API's "fail
   * closed": the rule becomes a Deny of everything); `none` otherwise (an Allow rule with an
   * unknown peer simply matches nothing through it).
   */
  readonly failClosed: 'none' | 'deny-all';
}

/** An AdminNetworkPolicy or the BaselineAdminNetworkPolicy in the index. */
export interface CompiledAdminPolicy {
  readonly id: number;
  readonly policy: ParsedAdminNetworkPolicy;
  readonly selected: PodSet;
  readonly ingress: readonly CompiledAdminRule[];
  readonly egress: readonly CompiledAdminRule[];
}

/**
 * Everything the policy evaluator needs, precomputed from a {@link ClusterState}: pod sets per
 * policy subject and rule peer, and per pod the policies that apply to it.
 */
export interface PolicyIndex {
  readonly state: ClusterState;
  readonly pods: readonly IndexedPod[];
  /** Pod index by `namespace/name`. */
  readonly podByKey: ReadonlyMap<string, number>;
  /** Pod index by address (pods with their own address; host-network pods share their node's). */
  readonly podByIp: ReadonlyMap<number, number>;
  readonly nodes: ReadonlyMap<string, IndexedNode>;
  readonly nodeByIp: ReadonlyMap<number, string>;
  readonly networkPolicies: readonly CompiledNetworkPolicy[];
  /** AdminNetworkPolicies in precedence order: priority, then name. */
  readonly adminNetworkPolicies: readonly CompiledAdminPolicy[];
  readonly baselineAdminNetworkPolicy: CompiledAdminPolicy | undefined;
  /** Per pod: the NetworkPolicies isolating it for ingress (ids, in input order). */
  readonly ingressPolicies: readonly (readonly number[])[];
  /** Per pod: the NetworkPolicies isolating it for egress. */
  readonly egressPolicies: readonly (readonly number[])[];
  /** Per pod: the AdminNetworkPolicies selecting it that have ingress rules, in precedence order. */
  readonly adminIngress: readonly (readonly number[])[];
  readonly adminEgress: readonly (readonly number[])[];
  /** Pods the BaselineAdminNetworkPolicy selects. */
  readonly baselineSelected: PodSet;
  readonly hostNetworkPods: PodSet;
  /** Every pod (the "all peers" set). */
  readonly allPods: PodSet;
  readonly ipBlocksMatchPods: boolean;
  /** Problems worth telling the user (two AdminNetworkPolicies sharing a priority, ...). */
  readonly warnings: readonly string[];
}

/**
 * Builds the {@link PolicyIndex} of a cluster: validates and normalises every NetworkPolicy,
 * AdminNetworkPolicy and the BaselineAdminNetworkPolicy, and precomputes as bitsets over pod
 * indexes which pods each policy selects and which pods each rule peer admits.
 *
 * @remarks
 * - Selectors are evaluated with an inverted label index (label key → value → pods), so a
 *   selector costs a few bitset operations; identical selectors are computed once.
 * - Host-network pods are never selected by pod or namespace selectors (neither as subjects nor
 *   as peers); they use their node's address and so are matched by ipBlocks and, in
 *   AdminNetworkPolicy, by `nodes` and `networks` peers.
 * - ipBlocks match pod addresses (upstream conformance) unless `ipBlocksMatchPods: false`.
 * - Two AdminNetworkPolicies with the same priority are ordered by name (the API leaves the
 *   order unspecified); a warning names them.
 * - Linux equivalent: none (a policy controller's selector caches: Calico's label index,
 *   kube-network-policies' pod lookups).
 * @throws KnetError `EINVAL` for a policy that fails validation, naming `networkPolicies[i]` (or
 * `adminNetworkPolicies[i]`) as the file and the field inside it.
 * @see /work/shared/facts/netpol.md
 * @example
 * ```ts
 * import { buildClusterState, buildPolicyIndex, loadExampleCluster } from '@knet/core';
 * const index = buildPolicyIndex(buildClusterState(loadExampleCluster()));
 * index.networkPolicies.map((p) => p.key); // ['shop/default-deny-ingress', ...]
 * ```
 */
export function buildPolicyIndex(state: ClusterState, options: BuildPolicyIndexOptions = {}): PolicyIndex {
  const ipBlocksMatchPods = options.ipBlocksMatchPods ?? true;
  const warnings: string[] = [];
  const n = state.pods.length;

  // Pods, nodes, namespaces.
  const nodes = new Map<string, IndexedNode>();
  const nodeByIp = new Map<number, string>();
  for (const node of state.nodes) {
    const ip = tryParseIpv4(node.internalIP);
    if (ip === undefined) continue;
    nodes.set(node.name, { name: node.name, labels: node.labels, ip });
    nodeByIp.set(ip, node.name);
  }
  const pods: IndexedPod[] = [];
  const podByKey = new Map<string, number>();
  const podByIp = new Map<number, number>();
  const hostNetworkPods = emptyPodSet(n);
  const nsIndex = new Map<string, number>();
  const nsLabels: Labels[] = [];
  const nsNames: string[] = [];
  const addNamespace = (name: string, labels: Labels | undefined): number => {
    let i = nsIndex.get(name);
    if (i === undefined) {
      i = nsNames.length;
      nsIndex.set(name, i);
      nsNames.push(name);
      nsLabels.push(labels ?? { [LABEL_METADATA_NAME]: name });
    }
    return i;
  };
  for (const ns of state.namespaces) addNamespace(ns.name, ns.labels);
  for (let i = 0; i < n; i++) {
    const p = state.pods[i] as ClusterPod;
    const key = `${p.namespace}/${p.name}`;
    addNamespace(p.namespace, undefined);
    const ipText = p.podIP ?? options.podIPs?.get(key);
    const ip = ipText === undefined ? (p.hostNetwork ? nodes.get(p.nodeName)?.ip : undefined) : tryParseIpv4(ipText);
    pods.push({
      index: i,
      key,
      namespace: p.namespace,
      name: p.name,
      labels: p.labels,
      nodeName: p.nodeName,
      hostNetwork: p.hostNetwork,
      ip,
      ports: p.containers.flatMap((c) => c.ports),
      pod: p,
    });
    podByKey.set(key, i);
    if (p.hostNetwork) podSetAdd(hostNetworkPods, i);
    else if (ip !== undefined) podByIp.set(ip, i);
  }
  const selectable = fullPodSet(n);
  podSetAndNotInto(selectable, hostNetworkPods);
  const allPods = fullPodSet(n);
  const nsPods: PodSet[] = nsNames.map(() => emptyPodSet(n));
  for (const p of pods) if (!p.hostNetwork) podSetAdd(nsPods[nsIndex.get(p.namespace) as number] as PodSet, p.index);

  // Inverted label index over selectable pods: key → value → pods, key → pods having it.
  const byValue = new Map<string, Map<string, number[]>>();
  const byKey = new Map<string, number[]>();
  for (const p of pods) {
    if (p.hostNetwork) continue;
    for (const k in p.labels) {
      let values = byValue.get(k);
      if (values === undefined) byValue.set(k, (values = new Map()));
      const v = p.labels[k] as string;
      let list = values.get(v);
      if (list === undefined) values.set(v, (list = []));
      list.push(p.index);
      let keyed = byKey.get(k);
      if (keyed === undefined) byKey.set(k, (keyed = []));
      keyed.push(p.index);
    }
  }
  const listSet = (list: readonly number[] | undefined): PodSet => {
    const s = emptyPodSet(n);
    if (list !== undefined) for (const i of list) podSetAdd(s, i);
    return s;
  };
  const podSelectorCache = new Map<string, PodSet>();
  /** Selectable pods (any namespace) whose labels satisfy the selector. Shared: never mutate. */
  const selectPods = (sel: ParsedLabelSelector): PodSet => {
    const key = selectorKey(sel);
    const hit = podSelectorCache.get(key);
    if (hit !== undefined) return hit;
    const out = selectable.slice();
    for (const k in sel.matchLabels) podSetAndInto(out, listSet(byValue.get(k)?.get(sel.matchLabels[k] as string)));
    for (const r of sel.matchExpressions) {
      switch (r.operator) {
        case 'In':
        case 'NotIn': {
          const any = emptyPodSet(n);
          for (const v of r.values) podSetOrInto(any, listSet(byValue.get(r.key)?.get(v)));
          if (r.operator === 'In') podSetAndInto(out, any);
          else podSetAndNotInto(out, any);
          break;
        }
        case 'Exists':
          podSetAndInto(out, listSet(byKey.get(r.key)));
          break;
        case 'DoesNotExist':
          podSetAndNotInto(out, listSet(byKey.get(r.key)));
          break;
      }
    }
    podSelectorCache.set(key, out);
    return out;
  };
  const nsSelectorCache = new Map<string, PodSet>();
  /** Selectable pods of the namespaces the selector matches. Shared: never mutate. */
  const podsOfNamespaces = (sel: ParsedLabelSelector): PodSet => {
    const key = selectorKey(sel);
    const hit = nsSelectorCache.get(key);
    if (hit !== undefined) return hit;
    const out = emptyPodSet(n);
    for (let i = 0; i < nsNames.length; i++) {
      if (matchesLabelSelector(sel, nsLabels[i] as Labels)) podSetOrInto(out, nsPods[i] as PodSet);
    }
    nsSelectorCache.set(key, out);
    return out;
  };
  const blockCache = new Map<string, PodSet>();
  /** Pods whose address lies in the block (host-network pods always; others when ipBlocks match pods). */
  const podsInBlocks = (blocks: readonly ParsedIpBlock[], includePods: boolean): PodSet => {
    const key = `${includePods ? 'p' : 'h'}|${blocks.map((b) => `${b.cidr}-${b.except.join(',')}`).join('|')}`;
    const hit = blockCache.get(key);
    if (hit !== undefined) return hit;
    const out = emptyPodSet(n);
    for (const p of pods) {
      if (p.ip === undefined || (!includePods && !p.hostNetwork)) continue;
      if (blocks.some((b) => ipInBlock(b, p.ip as number))) podSetAdd(out, p.index);
    }
    blockCache.set(key, out);
    return out;
  };
  const intersect = (a: PodSet, b: PodSet): PodSet => {
    const s = a.slice();
    podSetAndInto(s, b);
    return s;
  };

  // NetworkPolicies.
  const ingressPolicies: number[][] = pods.map(() => []);
  const egressPolicies: number[][] = pods.map(() => []);
  const networkPolicies: CompiledNetworkPolicy[] = [];
  for (let i = 0; i < state.networkPolicies.length; i++) {
    const object = state.networkPolicies[i] as unknown as ManifestObject;
    const policy = parseStatePolicy(i, 'networkPolicies', object, warnings, (ctx) => validateNetworkPolicy(ctx, object).policy);
    const nsi = nsIndex.get(policy.namespace);
    const selected = nsi === undefined ? emptyPodSet(n) : intersect(nsPods[nsi] as PodSet, selectPods(policy.podSelector));
    const compileRule = (rule: ParsedNetworkPolicyRule, index: number): CompiledNetworkPolicyRule => {
      const peers: CompiledNetworkPolicyPeer[] = rule.peers.map((peer) => {
        if (peer.kind === 'ipBlock') return { peer, pods: podsInBlocks([peer.block], ipBlocksMatchPods) };
        const inNamespaces = peer.namespaceSelector === undefined ? (nsi === undefined ? emptyPodSet(n) : (nsPods[nsi] as PodSet)) : podsOfNamespaces(peer.namespaceSelector);
        return { peer, pods: peer.podSelector === undefined ? inNamespaces : intersect(inNamespaces, selectPods(peer.podSelector)) };
      });
      let peerPods: PodSet;
      if (peers.length === 0) peerPods = allPods;
      else {
        peerPods = emptyPodSet(n);
        for (const p of peers) podSetOrInto(peerPods, p.pods);
      }
      return { index, rule, peers, peerPods, namedPorts: rule.ports.some((p) => typeof p.port === 'string') };
    };
    const isolatesIngress = policy.policyTypes.includes('Ingress');
    const isolatesEgress = policy.policyTypes.includes('Egress');
    const compiled: CompiledNetworkPolicy = {
      id: networkPolicies.length,
      key: `${policy.namespace}/${policy.name}`,
      policy,
      selected,
      isolatesIngress,
      isolatesEgress,
      ingress: isolatesIngress ? policy.ingress.map(compileRule) : [],
      egress: isolatesEgress ? policy.egress.map(compileRule) : [],
    };
    networkPolicies.push(compiled);
    for (const p of podSetToArray(selected)) {
      if (isolatesIngress) (ingressPolicies[p] as number[]).push(compiled.id);
      if (isolatesEgress) (egressPolicies[p] as number[]).push(compiled.id);
    }
  }

  // AdminNetworkPolicies and the BaselineAdminNetworkPolicy.
  const compileAdmin = (policy: ParsedAdminNetworkPolicy, id: number): CompiledAdminPolicy => {
    const subjectPods = podsOfNamespaces(policy.subject.namespaceSelector);
    const selected = policy.subject.podSelector === undefined ? subjectPods : intersect(subjectPods, selectPods(policy.subject.podSelector));
    const compileRule = (rule: ParsedAdminRule, index: number): CompiledAdminRule => {
      const peers: CompiledAdminPeer[] = rule.peers.map((peer) => {
        switch (peer.kind) {
          case 'namespaces':
            return { peer, pods: podsOfNamespaces(peer.namespaceSelector), nodeIPs: NO_IPS };
          case 'pods':
            return { peer, pods: intersect(podsOfNamespaces(peer.namespaceSelector), selectPods(peer.podSelector)), nodeIPs: NO_IPS };
          case 'nodes': {
            const names = new Set<string>();
            const ips = new Set<number>();
            for (const node of nodes.values()) {
              if (matchesLabelSelector(peer.nodeSelector, node.labels)) {
                names.add(node.name);
                ips.add(node.ip);
              }
            }
            const s = emptyPodSet(n);
            for (const i of podSetToArray(hostNetworkPods)) if (names.has((pods[i] as IndexedPod).nodeName)) podSetAdd(s, i);
            return { peer, pods: s, nodeIPs: ips };
          }
          case 'networks':
            return { peer, pods: podsInBlocks(peer.networks, true), nodeIPs: NO_IPS };
          case 'domainNames':
            warnings.push(
              `${policy.kind === 'admin' ? 'AdminNetworkPolicy' : 'BaselineAdminNetworkPolicy'} ${policy.name} rule ${index} "${rule.name}": domainNames peers (${peer.domainNames.join(', ')}) cannot be resolved offline; knet matches nothing through them`,
            );
            return { peer, pods: emptyPodSet(n), nodeIPs: NO_IPS };
          case 'unknown':
            return { peer, pods: emptyPodSet(n), nodeIPs: NO_IPS };
        }
      });
      const peerPods = emptyPodSet(n);
      for (const p of peers) podSetOrInto(peerPods, p.pods);
      const failClosed = rule.action !== 'Allow' && rule.peers.some((p) => p.kind === 'unknown') ? 'deny-all' : 'none';
      return {
        index,
        rule,
        peers,
        peerPods: failClosed === 'deny-all' ? allPods : peerPods,
        namedPorts: rule.ports?.some((p) => p.kind === 'namedPort') ?? false,
        failClosed,
      };
    };
    return { id, policy, selected, ingress: policy.ingress.map(compileRule), egress: policy.egress.map(compileRule) };
  };
  const adminObjects = state.adminNetworkPolicies ?? [];
  const parsedAdmins = adminObjects.map((o, i) =>
    parseStatePolicy(i, 'adminNetworkPolicies', o as unknown as ManifestObject, warnings, (ctx) => validateAdminNetworkPolicy(ctx, o as unknown as ManifestObject)),
  );
  parsedAdmins.sort((a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < parsedAdmins.length; i++) {
    const a = parsedAdmins[i - 1] as ParsedAdminNetworkPolicy;
    const b = parsedAdmins[i] as ParsedAdminNetworkPolicy;
    if (a.priority === b.priority) {
      warnings.push(
        `AdminNetworkPolicies ${a.name} and ${b.name} share priority ${a.priority}: the API leaves their order unspecified; knet evaluates ${a.name} first (by name)`,
      );
    }
  }
  const adminNetworkPolicies = parsedAdmins.map(compileAdmin);
  const adminIngress: number[][] = pods.map(() => []);
  const adminEgress: number[][] = pods.map(() => []);
  for (const a of adminNetworkPolicies) {
    for (const p of podSetToArray(a.selected)) {
      if (a.ingress.length > 0) (adminIngress[p] as number[]).push(a.id);
      if (a.egress.length > 0) (adminEgress[p] as number[]).push(a.id);
    }
  }
  const baselineObjects = state.baselineAdminNetworkPolicies ?? [];
  if (baselineObjects.length > 1) {
    throw new KnetError('EINVAL', `at most one BaselineAdminNetworkPolicy (named "default") may exist; found ${baselineObjects.length}`, {
      file: 'baselineAdminNetworkPolicies[1]',
      field: 'metadata.name',
    });
  }
  const baselineObject = baselineObjects[0];
  const baselineAdminNetworkPolicy =
    baselineObject === undefined
      ? undefined
      : compileAdmin(
          parseStatePolicy(0, 'baselineAdminNetworkPolicies', baselineObject as unknown as ManifestObject, warnings, (ctx) =>
            validateBaselineAdminNetworkPolicy(ctx, baselineObject as unknown as ManifestObject),
          ),
          0,
        );

  return {
    state,
    pods,
    podByKey,
    podByIp,
    nodes,
    nodeByIp,
    networkPolicies,
    adminNetworkPolicies,
    baselineAdminNetworkPolicy,
    ingressPolicies,
    egressPolicies,
    adminIngress,
    adminEgress,
    baselineSelected: baselineAdminNetworkPolicy?.selected ?? emptyPodSet(n),
    hostNetworkPods,
    allPods,
    ipBlocksMatchPods,
    warnings,
  };
}

const NO_IPS: ReadonlySet<number> = new Set();

/**
 * True when the IPv4 address lies in the block's CIDR and in none of its `except` CIDRs. An IPv6
 * block never matches.
 *
 * @remarks Linux equivalent: an ipset `hash:net` with `nomatch` entries, as Calico and
 * kube-router render ipBlocks.
 */
export function ipInBlock(block: ParsedIpBlock, ip: number): boolean {
  const c = block.v4;
  if (c === undefined) return false;
  if (((ip & prefixMask(c.prefix)) >>> 0) !== c.address) return false;
  for (const e of block.exceptV4) if (((ip & prefixMask(e.prefix)) >>> 0) === e.address) return false;
  return true;
}

function selectorKey(sel: ParsedLabelSelector): string {
  const labels = Object.keys(sel.matchLabels)
    .sort()
    .map((k) => [k, sel.matchLabels[k]]);
  return JSON.stringify([labels, sel.matchExpressions.map((r) => [r.key, r.operator, [...r.values].sort()])]);
}

/** Re-validates a policy object held in a ClusterState, naming `<list>[i]` as the file on error. */
function parseStatePolicy<T>(i: number, list: string, object: ManifestObject, warnings: string[], parse: (ctx: ManifestContext) => T): T {
  const meta = object['metadata'] as { name?: unknown; namespace?: unknown } | undefined;
  const what = typeof meta?.name === 'string' ? ` (${typeof meta.namespace === 'string' ? `${meta.namespace}/` : ''}${meta.name})` : '';
  const ctx: ManifestContext = { source: { file: `${list}[${i}]${what}`, document: 0 }, warnings: [] };
  const out = parse(ctx);
  for (const w of ctx.warnings) warnings.push(`${w.file}: ${w.field === undefined ? '' : `${w.field}: `}${w.message}`);
  return out;
}
