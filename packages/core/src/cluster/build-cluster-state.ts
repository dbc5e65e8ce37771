import { isKnetError } from '../errors/knet-error.js';
import { cidrContains, cidrLast, formatIpv4, formatIpv4Cidr } from '../ip/ipv4.js';
import type { Ipv4Cidr } from '../ip/ipv4.js';
import type { LoadedManifests, LoadedObject } from '../k8s/load-manifests.js';
import { manifestError, manifestWarning } from '../k8s/manifest-context.js';
import type { ManifestContext } from '../k8s/manifest-context.js';
import { MIRRORING_CONTROLLER_NAME, mirrorEndpoints, shouldMirrorEndpoints } from '../k8s/mirror-endpoints.js';
import { validateEndpointSlice } from '../k8s/validate-endpoint-slice.js';
import { validateEndpoints } from '../k8s/validate-endpoints.js';
import type { ValidatedEndpoints } from '../k8s/validate-endpoints.js';
import { KNET_CLUSTER_API_VERSION, validateKnetCluster } from '../k8s/validate-knet-cluster.js';
import type { KnetClusterSpecInput } from '../k8s/validate-knet-cluster.js';
import { namespaceLabels, validateNamespace } from '../k8s/validate-namespace.js';
import { validateNetworkPolicy } from '../k8s/validate-network-policy.js';
import { validateNode } from '../k8s/validate-node.js';
import type { ValidatedNode } from '../k8s/validate-node.js';
import { validatePod } from '../k8s/validate-pod.js';
import type { ValidatedPod } from '../k8s/validate-pod.js';
import { validateService } from '../k8s/validate-service.js';
import { ADMIN_NETWORK_POLICY_API_VERSION } from '../netpol/network-policy-api.js';
import type { AdminNetworkPolicyObject, BaselineAdminNetworkPolicyObject, NetworkPolicyObject } from '../netpol/network-policy-api.js';
import { validateAdminNetworkPolicy, validateBaselineAdminNetworkPolicy } from '../netpol/validate-admin-network-policy.js';
import { CidrSet } from './cidr-set.js';
import type {
  ClusterEndpointSlice,
  ClusterNode,
  ClusterPod,
  ClusterService,
  ClusterState,
  Labels,
  ManifestWarning,
  SourceRef,
} from './cluster-state.js';
import { deriveFabricCidr } from './derive-fabric-cidr.js';

/** Options for {@link buildClusterState}. */
export interface BuildClusterStateOptions {
  /**
   * Fields that replace the `KnetCluster` spec's (the CLI's `--cni`, `--proxy-mode`), in the
   * manifest's shape. Checked on their own first: their errors name the file `<options>`.
   */
  readonly override?: KnetClusterSpecInput;
  /** kube-controller-manager `--mirroring-max-endpoints-per-subset` (default 1000). */
  readonly mirroringMaxEndpointsPerSubset?: number;
}

/** The kinds knet reads, with the one `apiVersion` it understands for each. */
export const KNOWN_KINDS: Readonly<Record<string, string>> = {
  Namespace: 'v1',
  Node: 'v1',
  Pod: 'v1',
  Service: 'v1',
  Endpoints: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  AdminNetworkPolicy: ADMIN_NETWORK_POLICY_API_VERSION,
  BaselineAdminNetworkPolicy: ADMIN_NETWORK_POLICY_API_VERSION,
  KnetCluster: KNET_CLUSTER_API_VERSION,
};

const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'KnetCluster', 'AdminNetworkPolicy', 'BaselineAdminNetworkPolicy']);

interface NodeEntry {
  readonly validated: ValidatedNode;
  readonly index: number;
  podCidr?: Ipv4Cidr;
  allocated: boolean;
}

/**
 * Builds the {@link ClusterState} from loaded manifests: validates every object, applies the
 * API server's defaults, allocates missing node pod CIDRs, converts Endpoints into
 * EndpointSlices, and checks the cluster as a whole.
 *
 * @remarks
 * - Kinds: Namespace, Node, Pod, Service, Endpoints (`v1`), EndpointSlice
 *   (`discovery.k8s.io/v1`), NetworkPolicy (`networking.k8s.io/v1`), AdminNetworkPolicy and
 *   BaselineAdminNetworkPolicy (`policy.networking.k8s.io/v1alpha1`; the baseline is the
 *   singleton named `default`) and at most one
 *   `KnetCluster` (`knet.dev/v1alpha1`; none means all defaults). Any other kind, or a known kind
 *   in another `apiVersion` (a Knative `serving.knative.dev/v1` Service), is left out with a
 *   warning, never silently and never as an error.
 * - Objects of the same kind, namespace and name may appear once.
 * - Node pod CIDRs: a node without `spec.podCIDR` gets one the way kube-controller-manager's
 *   range allocator assigns it: at start-up the allocator marks every CIDR already on a node as
 *   used (and the service range, where it overlaps the cluster CIDR), then handles node-add
 *   events, giving each node the next free `/nodeCIDRMaskSize` block of the cluster CIDR.
 *   knet processes the nodes without a CIDR in manifest order, the order an informer would
 *   deliver them from the input; the result is the lowest free block first.
 * - Pods: `spec.nodeName` is required ("unscheduled pod ignored" warning otherwise); pods in
 *   phase `Succeeded`/`Failed` are left out with a warning because their IPs are released and
 *   may be reused. `status.podIP` must lie in the node's pod CIDR and be unique; hostNetwork
 *   pods share the node's InternalIP and are exempt.
 * - Namespaces: listed in order of first appearance; a namespace referenced but not declared is
 *   created, and every namespace carries `kubernetes.io/metadata.name`.
 * - Endpoints are mirrored into slices only where the EndpointSliceMirroring controller would:
 *   a Service of the same name exists and has no selector, the Endpoints has no
 *   `skip-mirror` label, and the input does not already hold the controller's slices. Otherwise
 *   it is skipped (with a warning when the Service is missing, or has a selector but no slices).
 * - Validation is linear in the number of objects: IP uniqueness and node lookups use hash maps
 *   on numeric addresses; ip-num parses each distinct CIDR once.
 * - Linux equivalent: none; this is the API server's validation and defaulting plus
 *   kube-controller-manager's node IPAM and Endpoints mirroring.
 * @throws KnetError `EINVAL` (or `ENOSPC` when the cluster CIDR has fewer blocks than nodes) with
 * `details.file`, `details.document` and `details.field`.
 * @see kubernetes pkg/controller/nodeipam/ipam/range_allocator.go (NewCIDRRangeAllocator, AllocateOrOccupyCIDR)
 * @see kubernetes pkg/controller/nodeipam/ipam/cidrset/cidr_set.go
 * @see kubernetes pkg/controller/endpointslicemirroring/endpointslicemirroring_controller.go syncEndpoints
 * @example
 * ```ts
 * import { buildClusterState, loadExampleCluster } from '@knet/core';
 * const state = buildClusterState(loadExampleCluster());
 * state.nodes.map((n) => n.podCIDR); // ['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24']
 * ```
 */
export function buildClusterState(loaded: LoadedManifests, options: BuildClusterStateOptions = {}): ClusterState {
  const warnings: ManifestWarning[] = [...loaded.warnings];
  const ctxOf = (o: LoadedObject): ManifestContext => ({ source: o.source, warnings });

  // 1. Sort objects into kinds; unknown ones become warnings.
  const accepted: LoadedObject[] = [];
  let knetCluster: LoadedObject | undefined;
  for (const o of loaded.objects) {
    const wanted = KNOWN_KINDS[o.kind];
    if (wanted === undefined) {
      manifestWarning(ctxOf(o), 'kind', `kind ${o.kind} (${o.apiVersion}) is not used by knet; ignored`);
      continue;
    }
    if (o.apiVersion !== wanted) {
      manifestWarning(ctxOf(o), 'apiVersion', `${o.kind} in apiVersion ${o.apiVersion} is not known to knet (expected ${wanted}); ignored`);
      continue;
    }
    if (o.kind === 'KnetCluster') {
      if (knetCluster !== undefined) {
        throw manifestError(o.source, 'kind', `at most one KnetCluster is allowed; another is in ${describe(knetCluster.source)}`, 'EINVAL', {
          previous: knetCluster.source,
        });
      }
      knetCluster = o;
    }
    accepted.push(o);
  }

  const cluster = validateKnetCluster(
    knetCluster === undefined ? undefined : ctxOf(knetCluster),
    knetCluster?.object,
    options.override,
    { source: { file: '<options>', document: 0 }, warnings },
  );

  // 2. Validate each object on its own, in input order.
  const seen = new Map<string, SourceRef>();
  const namespaceOrder = new Map<string, Labels | undefined>();
  const referenceNamespace = (ns: string): void => {
    if (!namespaceOrder.has(ns)) namespaceOrder.set(ns, undefined);
  };
  const nodes: NodeEntry[] = [];
  const pods: ValidatedPod[] = [];
  const services: { service: ClusterService; clusterIPValue?: number }[] = [];
  const slices: ClusterEndpointSlice[] = [];
  const mirroredPresent = new Set<string>();
  const slicesPresent = new Set<string>();
  const endpoints: ValidatedEndpoints[] = [];
  const networkPolicies: NetworkPolicyObject[] = [];
  const adminNetworkPolicies: AdminNetworkPolicyObject[] = [];
  const baselineAdminNetworkPolicies: BaselineAdminNetworkPolicyObject[] = [];
  const cidrCache = new Map<string, Ipv4Cidr>();

  const checkDuplicate = (o: LoadedObject, namespace: string, name: string): void => {
    const key = `${o.kind}\u0000${namespace}\u0000${name}`;
    const previous = seen.get(key);
    if (previous !== undefined) {
      const what = namespace === '' ? `${o.kind} ${name}` : `${o.kind} ${namespace}/${name}`;
      throw manifestError(o.source, 'metadata.name', `duplicate ${what}; first defined in ${describe(previous)}`, 'EINVAL', {
        previous,
      });
    }
    seen.set(key, o.source);
    if (!CLUSTER_SCOPED.has(o.kind)) referenceNamespace(namespace);
  };

  for (const o of accepted) {
    const ctx = ctxOf(o);
    switch (o.kind) {
      case 'KnetCluster':
        break;
      case 'Namespace': {
        const ns = validateNamespace(ctx, o.object);
        checkDuplicate(o, '', ns.name);
        namespaceOrder.set(ns.name, ns.labels);
        break;
      }
      case 'Node': {
        const n = validateNode(ctx, o.object, cidrCache);
        checkDuplicate(o, '', n.name);
        nodes.push({ validated: n, index: nodes.length, allocated: false });
        break;
      }
      case 'Pod': {
        const p = validatePod(ctx, o.object);
        checkDuplicate(o, p.namespace, p.name);
        pods.push(p);
        break;
      }
      case 'Service': {
        const s = validateService(ctx, o.object, cluster.serviceCidr);
        checkDuplicate(o, s.service.namespace, s.service.name);
        services.push(s);
        break;
      }
      case 'EndpointSlice': {
        const v = validateEndpointSlice(ctx, o.object);
        checkDuplicate(o, v.namespace, v.name);
        if (v.slice === undefined) break;
        slices.push(v.slice);
        const key = `${v.slice.namespace}/${v.slice.serviceName}`;
        slicesPresent.add(key);
        if (v.managedBy === MIRRORING_CONTROLLER_NAME) mirroredPresent.add(key);
        break;
      }
      case 'Endpoints': {
        const e = validateEndpoints(ctx, o.object);
        checkDuplicate(o, e.namespace, e.name);
        endpoints.push(e);
        break;
      }
      case 'NetworkPolicy': {
        const np = validateNetworkPolicy(ctx, o.object);
        checkDuplicate(o, np.namespace, np.name);
        networkPolicies.push(o.object as unknown as NetworkPolicyObject);
        break;
      }
      case 'AdminNetworkPolicy': {
        const anp = validateAdminNetworkPolicy(ctx, o.object);
        checkDuplicate(o, '', anp.name);
        adminNetworkPolicies.push(o.object as unknown as AdminNetworkPolicyObject);
        break;
      }
      case 'BaselineAdminNetworkPolicy': {
        const banp = validateBaselineAdminNetworkPolicy(ctx, o.object);
        checkDuplicate(o, '', banp.name);
        baselineAdminNetworkPolicies.push(o.object as unknown as BaselineAdminNetworkPolicyObject);
        break;
      }
    }
  }

  // 3. Nodes: unique InternalIPs, pod CIDRs inside the cluster CIDR and disjoint, then allocation.
  const clusterText = formatIpv4Cidr(cluster.clusterCidr);
  const byIp = new Map<number, NodeEntry>();
  for (const e of nodes) {
    const n = e.validated;
    const other = byIp.get(n.internalIPValue);
    if (other !== undefined) {
      throw manifestError(n.source, n.internalIPField, `InternalIP ${n.internalIP} is also node ${other.validated.name}'s`);
    }
    byIp.set(n.internalIPValue, e);
    if (n.podCIDR !== undefined) {
      if (n.podCIDR.prefix < cluster.clusterCidr.prefix || !cidrContains(cluster.clusterCidr, n.podCIDR.address)) {
        throw manifestError(
          n.source,
          n.podCIDRField,
          `pod CIDR ${formatIpv4Cidr(n.podCIDR)} is outside the cluster CIDR ${clusterText}`,
          'EINVAL',
          { clusterCIDR: clusterText },
        );
      }
      e.podCidr = n.podCIDR;
    }
  }
  const cidrSet = new CidrSet(cluster.clusterCidr, cluster.spec.nodeCIDRMaskSize);
  if (nodes.length > cidrSet.maxCidrs) {
    const first = nodes[cidrSet.maxCidrs];
    if (first !== undefined) {
      throw manifestError(
        first.validated.source,
        first.validated.podCIDRField ?? 'spec.podCIDR',
        `cluster CIDR ${clusterText} has only ${cidrSet.maxCidrs} /${cluster.spec.nodeCIDRMaskSize} pod CIDRs for ${nodes.length} nodes`,
        'ENOSPC',
        { clusterCIDR: clusterText, subnets: cidrSet.maxCidrs, nodes: nodes.length },
      );
    }
  }
  checkPodCidrOverlaps(nodes);
  // filterOutServiceRange: service addresses are never handed to nodes.
  if (cidrsOverlapping(cluster.clusterCidr, cluster.serviceCidr)) cidrSet.occupy(cluster.serviceCidr);
  for (const e of nodes) if (e.podCidr !== undefined) cidrSet.occupy(e.podCidr);
  for (const e of nodes) {
    if (e.podCidr !== undefined) continue;
    try {
      e.podCidr = cidrSet.allocateNext();
      e.allocated = true;
    } catch (err) {
      if (isKnetError(err, 'ENOSPC')) {
        throw manifestError(
          e.validated.source,
          'spec.podCIDR',
          `no free /${cluster.spec.nodeCIDRMaskSize} pod CIDR left in cluster CIDR ${clusterText} (${cidrSet.maxCidrs} in all) for node ${e.validated.name}`,
          'ENOSPC',
          { clusterCIDR: clusterText, subnets: cidrSet.maxCidrs, nodes: nodes.length },
        );
      }
      throw err;
    }
  }

  // 4. The fabric: given, or derived from the InternalIPs.
  let fabricCidr = cluster.fabricCidr;
  if (fabricCidr === undefined) {
    fabricCidr = deriveFabricCidr(nodes.map((e) => e.validated.internalIPValue));
  } else {
    for (const e of nodes) {
      const n = e.validated;
      if (!cidrContains(fabricCidr, n.internalIPValue)) {
        throw manifestError(
          n.source,
          n.internalIPField,
          `InternalIP ${n.internalIP} is outside the fabric CIDR ${formatIpv4Cidr(fabricCidr)}`,
        );
      }
    }
  }

  const clusterNodes: ClusterNode[] = [];
  const nodeByName = new Map<string, { node: ClusterNode; cidr: Ipv4Cidr; ip: number }>();
  for (const e of nodes) {
    const n = e.validated;
    const cidr = e.podCidr as Ipv4Cidr;
    const node: ClusterNode = {
      name: n.name,
      labels: n.labels,
      internalIP: n.internalIP,
      podCIDR: formatIpv4Cidr(cidr),
      podCIDRAllocated: e.allocated,
      source: n.source,
    };
    clusterNodes.push(node);
    nodeByName.set(n.name, { node, cidr, ip: n.internalIPValue });
  }

  // 5. Pods: scheduled on a known node, IP inside the node's pod CIDR, unique.
  const clusterPods: ClusterPod[] = [];
  const podByIp = new Map<number, ValidatedPod>();
  for (const p of pods) {
    const ctx: ManifestContext = { source: p.source, warnings };
    if (p.phase === 'Succeeded' || p.phase === 'Failed') {
      manifestWarning(ctx, 'status.phase', `pod ${p.namespace}/${p.name} in phase ${p.phase} ignored (its IP is released)`);
      continue;
    }
    if (p.nodeName === undefined) {
      manifestWarning(ctx, 'spec.nodeName', `unscheduled pod ignored: ${p.namespace}/${p.name} has no spec.nodeName`);
      continue;
    }
    const entry = nodeByName.get(p.nodeName);
    if (entry === undefined) {
      throw manifestError(p.source, 'spec.nodeName', `pod ${p.namespace}/${p.name} is on unknown node "${p.nodeName}"`);
    }
    let podIP = p.podIP;
    if (p.hostNetwork) {
      if (p.podIP !== undefined && p.podIPValue !== entry.ip) {
        manifestWarning(ctx, p.podIPField, `hostNetwork pod IP ${p.podIP} is not node ${p.nodeName}'s InternalIP ${entry.node.internalIP}`);
      }
      podIP ??= entry.node.internalIP;
    } else if (p.podIPValue !== undefined) {
      if (!cidrContains(entry.cidr, p.podIPValue)) {
        throw manifestError(
          p.source,
          p.podIPField,
          `pod IP ${p.podIP ?? ''} is outside node ${p.nodeName}'s pod CIDR ${entry.node.podCIDR}`,
          'EINVAL',
          { podCIDR: entry.node.podCIDR },
        );
      }
      if (p.podIPValue === entry.cidr.address || p.podIPValue === cidrLast(entry.cidr)) {
        throw manifestError(
          p.source,
          p.podIPField,
          `pod IP ${p.podIP ?? ''} is the ${p.podIPValue === entry.cidr.address ? 'network' : 'broadcast'} address of pod CIDR ${entry.node.podCIDR}`,
        );
      }
      const other = podByIp.get(p.podIPValue);
      if (other !== undefined) {
        throw manifestError(
          p.source,
          p.podIPField,
          `pod IP ${p.podIP ?? ''} is also pod ${other.namespace}/${other.name}'s`,
          'EINVAL',
          { other: `${other.namespace}/${other.name}`, otherSource: other.source },
        );
      }
      podByIp.set(p.podIPValue, p);
    }
    clusterPods.push({
      namespace: p.namespace,
      name: p.name,
      ...(p.uid === undefined ? {} : { uid: p.uid }),
      labels: p.labels,
      nodeName: p.nodeName,
      hostNetwork: p.hostNetwork,
      ...(podIP === undefined ? {} : { podIP }),
      containers: p.containers,
      source: p.source,
    });
  }

  // 6. Services: cluster IPs are unique (the API server's allocator guarantees it).
  const svcByIp = new Map<number, ClusterService>();
  const serviceByName = new Map<string, ClusterService>();
  for (const { service, clusterIPValue } of services) {
    serviceByName.set(`${service.namespace}/${service.name}`, service);
    if (clusterIPValue === undefined) continue;
    const other = svcByIp.get(clusterIPValue);
    if (other !== undefined && service.source !== undefined) {
      throw manifestError(
        service.source,
        'spec.clusterIP',
        `cluster IP ${formatIpv4(clusterIPValue)} is also Service ${other.namespace}/${other.name}'s`,
      );
    }
    svcByIp.set(clusterIPValue, service);
  }

  // 7. Endpoints → EndpointSlices, where the mirroring controller would.
  for (const e of endpoints) {
    const ctx: ManifestContext = { source: e.source, warnings };
    if (!shouldMirrorEndpoints(e)) continue;
    const key = `${e.namespace}/${e.name}`;
    const svc = serviceByName.get(key);
    if (svc === undefined) {
      manifestWarning(ctx, undefined, `Endpoints ${key} not converted: no Service ${key} (only Endpoints of a Service without a selector are mirrored)`);
      continue;
    }
    if (svc.selector !== undefined) {
      if (!slicesPresent.has(key)) {
        manifestWarning(
          ctx,
          undefined,
          `Endpoints ${key} not converted: Service ${key} has a selector, so its EndpointSlices come from the EndpointSlice controller, and none were loaded`,
        );
      }
      continue;
    }
    if (mirroredPresent.has(key)) continue;
    const mirrorOptions =
      options.mirroringMaxEndpointsPerSubset === undefined ? {} : { maxEndpointsPerSubset: options.mirroringMaxEndpointsPerSubset };
    slices.push(...mirrorEndpoints(ctx, e, mirrorOptions));
  }

  // 8. Namespaces, in order of first appearance.
  const namespaces = [...namespaceOrder].map(([name, labels]) => ({ name, labels: labels ?? namespaceLabels(name) }));

  return {
    cluster: { ...cluster.spec, fabric: { ...cluster.spec.fabric, cidr: formatIpv4Cidr(fabricCidr) } },
    namespaces,
    nodes: clusterNodes,
    pods: clusterPods,
    services: services.map((s) => s.service),
    endpointSlices: slices,
    networkPolicies,
    adminNetworkPolicies,
    baselineAdminNetworkPolicies,
    warnings,
  };
}

function describe(s: SourceRef): string {
  return `${s.file}: document ${s.document}${s.path === undefined ? '' : `: ${s.path}`}`;
}

function cidrsOverlapping(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return cidrContains(a, b.address) || cidrContains(b, a.address);
}

/** Pod CIDRs given in the manifests must be pairwise disjoint; O(n log n) by sorting. */
function checkPodCidrOverlaps(nodes: readonly NodeEntry[]): void {
  const withCidr = nodes.filter((e) => e.podCidr !== undefined);
  withCidr.sort((a, b) => {
    const x = a.podCidr as Ipv4Cidr;
    const y = b.podCidr as Ipv4Cidr;
    return x.address - y.address || x.prefix - y.prefix;
  });
  let holder: NodeEntry | undefined;
  let holderLast = -1;
  for (const e of withCidr) {
    const c = e.podCidr as Ipv4Cidr;
    if (holder !== undefined && c.address <= holderLast) {
      const [first, second] = holder.index < e.index ? [holder, e] : [e, holder];
      const n = second.validated;
      throw manifestError(
        n.source,
        n.podCIDRField,
        `pod CIDR ${formatIpv4Cidr(second.podCidr as Ipv4Cidr)} overlaps node ${first.validated.name}'s ${formatIpv4Cidr(first.podCidr as Ipv4Cidr)}`,
        'EINVAL',
        { otherNode: first.validated.name },
      );
    }
    const last = cidrLast(c);
    if (last > holderLast) {
      holder = e;
      holderLast = last;
    }
  }
}
