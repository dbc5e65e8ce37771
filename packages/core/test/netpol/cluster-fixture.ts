/**
 * Small clusters for policy tests, built through the real manifest loader and validators:
 * nodes `node-1`..`node-3` (172.18.0.2-4, pod CIDRs 10.244.0-2.0/24) and the pods and policies
 * a test lists.
 */
import { buildClusterState, buildPolicyIndex, loadManifests } from '../../src/index.js';
import type { BuildPolicyIndexOptions, ClusterState, PolicyIndex } from '../../src/index.js';

type Obj = Record<string, unknown>;

/** A pod of a fixture: `ns/name`, its labels, node (1-3), address and container ports. */
export interface FixturePod {
  readonly key: string;
  readonly labels?: Record<string, string>;
  readonly node?: number;
  /** `status.podIP`; default 10.244.<node-1>.<10 + position>; `null` for none. */
  readonly ip?: string | null;
  readonly hostNetwork?: boolean;
  readonly ports?: readonly { name?: string; containerPort: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[];
}

/** What a fixture holds. */
export interface Fixture {
  readonly namespaces?: Readonly<Record<string, Record<string, string>>>;
  readonly pods: readonly FixturePod[];
  /** NetworkPolicy objects (`metadata.namespace` required) or just `{ namespace, name, spec }`. */
  readonly policies?: readonly { namespace: string; name: string; spec: Obj }[];
  readonly adminPolicies?: readonly { name: string; spec: Obj }[];
  readonly baseline?: Obj;
  readonly extra?: readonly Obj[];
}

/** The manifest objects of a fixture. */
export function fixtureObjects(f: Fixture): Obj[] {
  const items: Obj[] = [{ apiVersion: 'knet.dev/v1alpha1', kind: 'KnetCluster', metadata: { name: 'fixture' }, spec: {} }];
  for (let n = 0; n < 3; n++) {
    items.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: `node-${n + 1}`, labels: { 'kubernetes.io/hostname': `node-${n + 1}`, zone: n === 0 ? 'a' : 'b' } },
      spec: { podCIDR: `10.244.${n}.0/24` },
      status: { addresses: [{ type: 'InternalIP', address: `172.18.0.${n + 2}` }] },
    });
  }
  for (const [name, labels] of Object.entries(f.namespaces ?? {})) items.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  f.pods.forEach((p, i) => {
    const [namespace, name] = p.key.split('/') as [string, string];
    const node = p.node ?? 1;
    const ip = p.ip === undefined ? (p.hostNetwork === true ? undefined : `10.244.${node - 1}.${10 + i}`) : p.ip;
    items.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels: p.labels ?? { app: name } },
      spec: {
        nodeName: `node-${node}`,
        ...(p.hostNetwork === true ? { hostNetwork: true } : {}),
        containers: [{ name: 'main', image: 'registry.k8s.io/e2e-test-images/agnhost:2.47', ports: p.ports ?? [] }],
      },
      status: { phase: 'Running', ...(ip === undefined || ip === null ? {} : { podIP: ip }) },
    });
  });
  for (const p of f.policies ?? []) {
    items.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: p.name, namespace: p.namespace }, spec: p.spec });
  }
  for (const a of f.adminPolicies ?? []) {
    items.push({ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'AdminNetworkPolicy', metadata: { name: a.name }, spec: a.spec });
  }
  if (f.baseline !== undefined) {
    items.push({ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'BaselineAdminNetworkPolicy', metadata: { name: 'default' }, spec: f.baseline });
  }
  items.push(...(f.extra ?? []));
  return items;
}

/** The cluster state of a fixture. */
export function fixtureState(f: Fixture): ClusterState {
  return buildClusterState(loadManifests([{ file: 'fixture.json', text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: fixtureObjects(f) }) }]));
}

/** The policy index of a fixture. */
export function fixtureIndex(f: Fixture, options?: BuildPolicyIndexOptions): PolicyIndex {
  return buildPolicyIndex(fixtureState(f), options);
}
