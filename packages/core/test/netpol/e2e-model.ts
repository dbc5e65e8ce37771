/**
 * Upstream's NetworkPolicy e2e model, re-expressed for knet: namespaces x, y, z with pods a, b, c
 * (labels `pod: <name>`, namespaces `ns: <name>` plus the immutable `kubernetes.io/metadata.name`),
 * one container per (port, protocol) with a port named `serve-<port>-<protocol>`, and the
 * truth-table helpers of reachability.go / truthtable.go.
 *
 * @see kubernetes test/e2e/network/netpol/model.go (NewModel, Container.PortName, Namespace.LabelSelector)
 * @see kubernetes test/e2e/network/netpol/reachability.go (Reachability, Peer, ExpectPeer, ExpectAllIngress, ExpectAllEgress)
 * @see kubernetes test/e2e/network/netpol/k8s_util.go (SetSpecIngressRules, SetSpecEgressRules)
 */
import { buildClusterState, loadManifests } from '../../src/index.js';
import type { ClusterState } from '../../src/index.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export const NAMESPACES = ['x', 'y', 'z'] as const;
export const POD_NAMES = ['a', 'b', 'c'] as const;
export const ALL_PODS: readonly string[] = NAMESPACES.flatMap((ns) => POD_NAMES.map((p) => `${ns}/${p}`));

/** The address knet gives pod `ns/name` in the model: three nodes, pods spread over them. */
export function podIP(pod: string): string {
  const i = ALL_PODS.indexOf(pod);
  if (i < 0) throw new Error(`no pod ${pod}`);
  return `10.244.${i % 3}.${10 + i}`;
}

type Obj = Record<string, unknown>;

/** A NetworkPolicy object under construction (the Go helpers mutate `spec`). */
export interface PolicyDraft {
  metadata: { name: string; namespace?: string };
  spec: { podSelector: Obj; policyTypes?: string[]; ingress?: Obj[]; egress?: Obj[] };
}
export type SetFunc = (p: PolicyDraft) => void;

/** `SetSpecIngressRules`: creates the list and adds `Ingress` to policyTypes on first use. */
export function setSpecIngressRules(...rules: Obj[]): SetFunc {
  return (p) => {
    if (p.spec.ingress === undefined) {
      p.spec.ingress = [];
      p.spec.policyTypes = [...(p.spec.policyTypes ?? []), 'Ingress'];
    }
    p.spec.ingress.push(...rules);
  };
}

/** `SetSpecEgressRules`: creates the list and adds `Egress` to policyTypes on first use. */
export function setSpecEgressRules(...rules: Obj[]): SetFunc {
  return (p) => {
    if (p.spec.egress === undefined) {
      p.spec.egress = [];
      p.spec.policyTypes = [...(p.spec.policyTypes ?? []), 'Egress'];
    }
    p.spec.egress.push(...rules);
  };
}

/** `GenNetworkPolicyWithNameAndPodSelector`. */
export function genPolicyWithPodSelector(name: string, podSelector: Obj, ...set: SetFunc[]): PolicyDraft {
  const p: PolicyDraft = { metadata: { name }, spec: { podSelector } };
  for (const f of set) f(p);
  return p;
}

/** `GenNetworkPolicyWithNameAndPodMatchLabel`. */
export function genPolicyWithPodMatchLabel(name: string, labels: Record<string, string>, ...set: SetFunc[]): PolicyDraft {
  return genPolicyWithPodSelector(name, Object.keys(labels).length === 0 ? {} : { matchLabels: labels }, ...set);
}

/** A policy placed in a namespace (`CreatePolicy(ctx, k8s, policy, ns)`). */
export interface PlacedPolicy {
  readonly namespace: string;
  readonly policy: PolicyDraft;
}

/** The mutable parts of the model a test changes: extra namespace and pod labels. */
export interface ModelChanges {
  readonly namespaceLabels?: Readonly<Record<string, Record<string, string>>>;
  readonly podLabels?: Readonly<Record<string, Record<string, string>>>;
}

/** Builds the cluster state of the model with the given policies (through the manifest loader and validators). */
export function modelState(ports: readonly number[], protocols: readonly Protocol[], policies: readonly PlacedPolicy[], changes: ModelChanges = {}): ClusterState {
  const items: Obj[] = [{ apiVersion: 'knet.dev/v1alpha1', kind: 'KnetCluster', metadata: { name: 'netpol-e2e' }, spec: {} }];
  for (let n = 0; n < 3; n++) {
    items.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: `node-${n + 1}` },
      spec: { podCIDR: `10.244.${n}.0/24` },
      status: { addresses: [{ type: 'InternalIP', address: `172.18.0.${n + 2}` }] },
    });
  }
  for (const ns of NAMESPACES) {
    items.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ns, ...(changes.namespaceLabels?.[ns] ?? {}) } } });
  }
  ALL_PODS.forEach((key, i) => {
    const [ns, name] = key.split('/') as [string, string];
    const containers = ports.flatMap((port) =>
      protocols.map((protocol) => ({
        name: `cont-${port}-${protocol.toLowerCase()}`,
        image: 'registry.k8s.io/e2e-test-images/agnhost:2.47',
        ports: [{ containerPort: port, name: `serve-${port}-${protocol.toLowerCase()}`, protocol }],
      })),
    );
    items.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, labels: changes.podLabels?.[key] ?? { pod: name } },
      spec: { nodeName: `node-${(i % 3) + 1}`, containers },
      status: { phase: 'Running', podIP: podIP(key) },
    });
  });
  for (const { namespace, policy } of policies) {
    items.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { ...policy.metadata, namespace },
      spec: structuredClone(policy.spec),
    });
  }
  return buildClusterState(loadManifests([{ file: 'netpol-e2e.json', text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) }]));
}

/** `Peer`: an empty field matches every namespace / pod. */
export interface Peer {
  readonly namespace?: string;
  readonly pod?: string;
}

/** The expected truth table (`NewReachability(pods, true)` and its setters). */
export class Reachability {
  readonly expected = new Map<string, boolean>();

  constructor(defaultExpectation = true) {
    for (const f of ALL_PODS) for (const t of ALL_PODS) this.expected.set(`${f}>${t}`, defaultExpectation);
  }

  private static matches(p: Peer, pod: string): boolean {
    const [ns, name] = pod.split('/');
    return (p.namespace === undefined || p.namespace === ns) && (p.pod === undefined || p.pod === name);
  }

  /** `Expect(from, to, connected)`. */
  expect(from: string, to: string, connected: boolean): this {
    this.expected.set(`${from}>${to}`, connected);
    return this;
  }

  /** `ExpectAllIngress(pod, connected)`: every source to `pod`. */
  expectAllIngress(pod: string, connected: boolean): this {
    for (const f of ALL_PODS) this.expected.set(`${f}>${pod}`, connected);
    return this;
  }

  /** `ExpectAllEgress(pod, connected)`: `pod` to every destination. */
  expectAllEgress(pod: string, connected: boolean): this {
    for (const t of ALL_PODS) this.expected.set(`${pod}>${t}`, connected);
    return this;
  }

  /** `ExpectPeer(from, to, connected)`. */
  expectPeer(from: Peer, to: Peer, connected: boolean): this {
    for (const f of ALL_PODS) {
      if (!Reachability.matches(from, f)) continue;
      for (const t of ALL_PODS) if (Reachability.matches(to, t)) this.expected.set(`${f}>${t}`, connected);
    }
    return this;
  }

  get(from: string, to: string): boolean {
    const v = this.expected.get(`${from}>${to}`);
    if (v === undefined) throw new Error(`no cell ${from}>${to}`);
    return v;
  }
}
