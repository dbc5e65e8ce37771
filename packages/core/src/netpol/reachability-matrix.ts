import type { CompiledAdminRule, CompiledNetworkPolicyRule, IndexedPod, PolicyIndex } from './build-policy-index.js';
import { adminPortMatches, npPortMatches, resolvesNamedPort } from './evaluate-connection.js';
import type { PolicyProtocol } from './network-policy-api.js';
import type { ParsedAdminPort, ParsedNetworkPolicyPort } from './parsed-policy.js';
import { emptyPodSet, podSetAdd, podSetAndInto, podSetAndNotInto, podSetHas, podSetOrInto, podSetWords } from './pod-set.js';
import type { PodSet } from './pod-set.js';

/** Options of {@link computeReachabilityMatrix}. */
export interface ReachabilityMatrixOptions {
  /** The pods (indexes into `index.pods`) the matrix covers, in this order; default every pod. */
  readonly pods?: readonly number[];
}

/**
 * Which pod may open a connection to which, on one port and protocol: an `n × n` bit matrix
 * (row = source, column = destination).
 */
export interface ReachabilityMatrix {
  /** `namespace/name` of the covered pods, in matrix order. */
  readonly pods: readonly string[];
  /** The covered pods' indexes in the {@link PolicyIndex}. */
  readonly podIndexes: readonly number[];
  readonly port: number;
  readonly protocol: PolicyProtocol;
  /** 32-bit words per row. */
  readonly rowWords: number;
  /** Row-major bits: bit `j` of row `i` says whether pod `i` may connect to pod `j`. */
  readonly bits: Uint32Array;
}

/** True when matrix pod `from` may connect to matrix pod `to` (positions in `matrix.pods`). */
export function isReachable(matrix: ReachabilityMatrix, from: number, to: number): boolean {
  return (((matrix.bits[from * matrix.rowWords + (to >>> 5)] as number) >>> (to & 31)) & 1) === 1;
}

/**
 * Computes the pod-to-pod reachability matrix for one port and protocol, with exactly the
 * semantics of {@link evaluateConnection} (a test checks every cell against it).
 *
 * @remarks
 * - Per source pod, the set of destinations its egress allows; per destination pod, the set of
 *   sources its ingress allows; a cell is the AND of the two (or true on the diagonal: a pod may
 *   always reach itself). Both sets come from the index's bitsets with the tiers applied as
 *   bitset operations (AdminNetworkPolicy first match → NetworkPolicy union → baseline →
 *   allow), and are cached per distinct combination of applicable policies, so pods selected
 *   by the same policies share one computation.
 * - Named ports: an egress rule's peer set is intersected with the destinations on which its
 *   named ports resolve to `port`; an ingress rule applies to a destination iff its ports match
 *   there.
 * - 5,000 pods and 1,000 policies: see bench/netpol-matrix.mjs.
 * - Linux equivalent: none (what a connectivity probe over every pair measures; upstream's e2e
 *   suite probes the 81 pairs of its 9 pods this way).
 * @see kubernetes test/e2e/network/netpol/reachability.go
 * @example
 * ```ts
 * import { buildClusterState, buildPolicyIndex, computeReachabilityMatrix, isReachable, loadExampleCluster } from '@knet/core';
 * const index = buildPolicyIndex(buildClusterState(loadExampleCluster()));
 * const m = computeReachabilityMatrix(index, 8080, 'TCP');
 * isReachable(m, m.pods.indexOf('default/client'), m.pods.indexOf('shop/frontend-7c9d6b8f4-2qzrt')); // true
 * ```
 */
export function computeReachabilityMatrix(
  index: PolicyIndex,
  port: number,
  protocol: PolicyProtocol,
  options: ReachabilityMatrixOptions = {},
): ReachabilityMatrix {
  const n = index.pods.length;
  const full = index.allPods;
  const none = emptyPodSet(n);

  // Destinations on which a rule's ports match (named ports resolved per destination pod).
  const namedCache = new Map<string, PodSet>();
  const named = (name: string): PodSet => {
    let s = namedCache.get(name);
    if (s === undefined) {
      s = emptyPodSet(n);
      for (const p of index.pods) if (!p.hostNetwork && resolvesNamedPort(p, name, protocol, port)) podSetAdd(s, p.index);
      namedCache.set(name, s);
    }
    return s;
  };
  const npTargets = new Map<CompiledNetworkPolicyRule, PodSet>();
  const npPortTargets = (r: CompiledNetworkPolicyRule): PodSet => {
    let s = npTargets.get(r);
    if (s !== undefined) return s;
    if (r.rule.ports.length === 0) s = full;
    else if (r.rule.ports.some((p) => typeof p.port !== 'string' && npPortMatches(p, port, protocol, undefined))) s = full;
    else {
      const names = r.rule.ports.filter((p): p is ParsedNetworkPolicyPort & { port: string } => typeof p.port === 'string' && p.protocol === protocol);
      if (names.length === 0) s = none;
      else {
        s = emptyPodSet(n);
        for (const p of names) podSetOrInto(s, named(p.port));
      }
    }
    npTargets.set(r, s);
    return s;
  };
  const adminTargets = new Map<CompiledAdminRule, PodSet>();
  const adminPortTargets = (r: CompiledAdminRule): PodSet => {
    let s = adminTargets.get(r);
    if (s !== undefined) return s;
    const ports = r.rule.ports;
    if (ports === undefined || r.failClosed === 'deny-all') s = full;
    else if (ports.some((p) => p.kind !== 'namedPort' && adminPortMatches(p, port, protocol, undefined))) s = full;
    else {
      const names = ports.filter((p): p is ParsedAdminPort & { kind: 'namedPort' } => p.kind === 'namedPort');
      if (names.length === 0) s = none;
      else {
        s = emptyPodSet(n);
        for (const p of names) podSetOrInto(s, named(p.name));
      }
    }
    adminTargets.set(r, s);
    return s;
  };

  /**
   * One side's allowed peer set, with the tiers applied: `ruleSet(rule)` is the set of peers the
   * rule covers for this subject (ports already folded in).
   */
  const sideSet = (
    adminIds: readonly number[],
    npIds: readonly number[],
    baseline: boolean,
    direction: 'ingress' | 'egress',
    adminRuleSet: (r: CompiledAdminRule) => PodSet,
    npRuleSet: (r: CompiledNetworkPolicyRule) => PodSet,
  ): PodSet => {
    const allow = emptyPodSet(n);
    const undecided = full.slice();
    const passed = emptyPodSet(n);
    const newly = emptyPodSet(n);
    for (const id of adminIds) {
      const anp = index.adminNetworkPolicies[id];
      if (anp === undefined) continue;
      for (const r of direction === 'ingress' ? anp.ingress : anp.egress) {
        newly.set(undecided);
        podSetAndInto(newly, adminRuleSet(r));
        const action = r.failClosed === 'deny-all' ? 'Deny' : r.rule.action;
        if (action === 'Allow') podSetOrInto(allow, newly);
        else if (action === 'Pass') podSetOrInto(passed, newly);
        podSetAndNotInto(undecided, newly);
      }
    }
    podSetOrInto(undecided, passed);
    if (npIds.length > 0) {
      const npAllow = emptyPodSet(n);
      for (const id of npIds) {
        const np = index.networkPolicies[id];
        if (np === undefined) continue;
        for (const r of direction === 'ingress' ? np.ingress : np.egress) podSetOrInto(npAllow, npRuleSet(r));
      }
      podSetAndInto(undecided, npAllow);
      podSetOrInto(allow, undecided);
      return allow;
    }
    const banp = index.baselineAdminNetworkPolicy;
    if (baseline && banp !== undefined) {
      for (const r of direction === 'ingress' ? banp.ingress : banp.egress) {
        newly.set(undecided);
        podSetAndInto(newly, adminRuleSet(r));
        if (r.failClosed !== 'deny-all' && r.rule.action === 'Allow') podSetOrInto(allow, newly);
        podSetAndNotInto(undecided, newly);
      }
    }
    podSetOrInto(allow, undecided);
    return allow;
  };

  // Egress: per source, the destinations it may open connections to.
  const egressCache = new Map<string, PodSet>();
  const egressOf = (p: IndexedPod): PodSet => {
    if (p.hostNetwork) return full;
    const adminIds = index.adminEgress[p.index] ?? [];
    const npIds = index.egressPolicies[p.index] ?? [];
    const baseline = podSetHas(index.baselineSelected, p.index);
    const key = `${adminIds.join(',')}|${npIds.join(',')}|${baseline ? 1 : 0}`;
    let s = egressCache.get(key);
    if (s === undefined) {
      s = sideSet(
        adminIds,
        npIds,
        baseline,
        'egress',
        (r) => {
          const t = r.peerPods.slice();
          podSetAndInto(t, adminPortTargets(r));
          return t;
        },
        (r) => {
          const t = r.peerPods.slice();
          podSetAndInto(t, npPortTargets(r));
          return t;
        },
      );
      egressCache.set(key, s);
    }
    return s;
  };

  // Ingress: per destination, the sources that may connect to it (rules apply iff their ports match there).
  const ingressCache = new Map<string, PodSet>();
  const ingressOf = (p: IndexedPod): PodSet => {
    if (p.hostNetwork) return full;
    const adminIds = index.adminIngress[p.index] ?? [];
    const npIds = index.ingressPolicies[p.index] ?? [];
    const baseline = podSetHas(index.baselineSelected, p.index);
    let named = '';
    const note = (targets: PodSet, namedPorts: boolean): void => {
      if (namedPorts) named += podSetHas(targets, p.index) ? '1' : '0';
    };
    for (const id of adminIds) for (const r of index.adminNetworkPolicies[id]?.ingress ?? []) note(adminPortTargets(r), r.namedPorts);
    for (const id of npIds) for (const r of index.networkPolicies[id]?.ingress ?? []) note(npPortTargets(r), r.namedPorts);
    if (baseline) for (const r of index.baselineAdminNetworkPolicy?.ingress ?? []) note(adminPortTargets(r), r.namedPorts);
    const key = `${adminIds.join(',')}|${npIds.join(',')}|${baseline ? 1 : 0}|${named}`;
    let s = ingressCache.get(key);
    if (s === undefined) {
      s = sideSet(
        adminIds,
        npIds,
        baseline,
        'ingress',
        (r) => (podSetHas(adminPortTargets(r), p.index) ? r.peerPods : none),
        (r) => (podSetHas(npPortTargets(r), p.index) ? r.peerPods : none),
      );
      ingressCache.set(key, s);
    }
    return s;
  };

  const podIndexes = options.pods ?? index.pods.map((p) => p.index);
  const m = podIndexes.length;
  const rowWords = podSetWords(m);
  const bits = new Uint32Array(m * rowWords);
  const egress: PodSet[] = [];
  const ingress: PodSet[] = [];
  const members: IndexedPod[] = [];
  for (const i of podIndexes) {
    const p = index.pods[i];
    if (p === undefined) throw new RangeError(`no pod with index ${i}`);
    members.push(p);
    egress.push(egressOf(p));
    ingress.push(ingressOf(p));
  }
  for (let a = 0; a < m; a++) {
    const src = members[a] as IndexedPod;
    const e = egress[a] as PodSet;
    const row = a * rowWords;
    for (let b = 0; b < m; b++) {
      const dst = members[b] as IndexedPod;
      let ok: boolean;
      if (src.index === dst.index) ok = true;
      else if (!podSetHas(e, dst.index)) ok = false;
      else ok = podSetHas(ingress[b] as PodSet, src.index) || (src.hostNetwork && !dst.hostNetwork && src.nodeName === dst.nodeName);
      if (ok) bits[row + (b >>> 5)] = ((bits[row + (b >>> 5)] as number) | (1 << (b & 31))) >>> 0;
    }
  }
  return { pods: members.map((p) => p.key), podIndexes: [...podIndexes], port, protocol, rowWords, bits };
}

/**
 * Groups pods that behave identically in the matrix: `a` and `b` are in one group when
 * swapping them leaves the matrix unchanged (same row and column, apart from the cells between
 * them, which agree with each other). Inside a group every cell between distinct members has
 * the same value; a group's members are interchangeable in the table.
 *
 * @returns groups of matrix positions, ordered by their first member.
 * @remarks Two candidate keys per pod find the groups in linear time: row and column as they
 * are (members that reach each other) and with the pod's own bit cleared (members that do not).
 * Linux equivalent: none.
 * @example
 * ```ts
 * import { buildClusterState, buildPolicyIndex, computeReachabilityMatrix, groupEquivalentPods, loadExampleCluster } from '@knet/core';
 * const m = computeReachabilityMatrix(buildPolicyIndex(buildClusterState(loadExampleCluster())), 8080, 'TCP');
 * groupEquivalentPods(m).some((g) => g.length > 1); // true: the two frontend replicas behave alike
 * ```
 */
export function groupEquivalentPods(matrix: ReachabilityMatrix): number[][] {
  const m = matrix.pods.length;
  const w = matrix.rowWords;
  const cols = new Uint32Array(m * w);
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) {
      if (isReachable(matrix, a, b)) cols[b * w + (a >>> 5)] = ((cols[b * w + (a >>> 5)] as number) | (1 << (a & 31))) >>> 0;
    }
  }
  const keyOf = (a: number, clearSelf: boolean): string => {
    const row = matrix.bits.slice(a * w, a * w + w);
    const col = cols.slice(a * w, a * w + w);
    if (clearSelf) {
      row[a >>> 5] = ((row[a >>> 5] as number) & ~(1 << (a & 31))) >>> 0;
      col[a >>> 5] = ((col[a >>> 5] as number) & ~(1 << (a & 31))) >>> 0;
    }
    let s = '';
    for (const v of row) s += String.fromCharCode(v & 0xffff, v >>> 16);
    for (const v of col) s += String.fromCharCode(v & 0xffff, v >>> 16);
    return s;
  };
  const byKey = new Map<string, number[]>();
  for (let a = 0; a < m; a++) {
    const k = keyOf(a, false);
    const g = byKey.get(k);
    if (g === undefined) byKey.set(k, [a]);
    else g.push(a);
  }
  const groups: number[][] = [];
  const singles = new Map<string, number[]>();
  for (const g of byKey.values()) {
    if (g.length > 1) {
      groups.push(g);
      continue;
    }
    const a = g[0] as number;
    const k = keyOf(a, true);
    const s = singles.get(k);
    if (s === undefined) singles.set(k, [a]);
    else s.push(a);
  }
  for (const g of singles.values()) groups.push(g);
  groups.sort((x, y) => (x[0] as number) - (y[0] as number));
  return groups;
}

