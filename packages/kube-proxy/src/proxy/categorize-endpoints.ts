import type { EndpointInfo } from './endpoint-info.js';
import type { ServicePortInfo } from './service-port-info.js';

/** The label holding a node's zone. */
export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';

/** What {@link categorizeEndpoints} returns. */
export interface CategorizedEndpoints {
  /** Endpoints for the Cluster traffic policy; undefined when the port never uses it. */
  readonly clusterEndpoints: readonly EndpointInfo[] | undefined;
  /** Endpoints for the Local traffic policy; undefined when the port never uses it. */
  readonly localEndpoints: readonly EndpointInfo[] | undefined;
  /** Every endpoint reachable from this node (the union of the two), sorted by `IP:port`. */
  readonly allReachableEndpoints: readonly EndpointInfo[];
  /** True when the Service has usable endpoints anywhere in the cluster. */
  readonly hasAnyEndpoints: boolean;
}

/** The node a proxier runs on, as topology-aware routing sees it. */
export interface CategorizeNode {
  readonly nodeName: string;
  readonly nodeLabels?: Readonly<Record<string, string>> | undefined;
  /** The PreferSameTrafficDistribution gate (node hints). Default false. */
  readonly preferSameTrafficDistribution?: boolean;
}

type TopologyMode = '' | 'PreferSameZone' | 'PreferSameNode';

function topologyModeFromHints(endpoints: readonly EndpointInfo[], nodeName: string, zone: string, nodeGate: boolean): TopologyMode {
  let hasEndpointForNode = false;
  let allHaveNodeHints = true;
  let hasEndpointForZone = false;
  let allHaveZoneHints = true;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    if (ep.nodeHints === undefined || ep.nodeHints.size === 0) allHaveNodeHints = false;
    else if (ep.nodeHints.has(nodeName)) hasEndpointForNode = true;
    if (ep.zoneHints === undefined || ep.zoneHints.size === 0) allHaveZoneHints = false;
    else if (ep.zoneHints.has(zone)) hasEndpointForZone = true;
  }
  if (nodeGate && allHaveNodeHints && hasEndpointForNode) return 'PreferSameNode';
  if (allHaveZoneHints && hasEndpointForZone) return 'PreferSameZone';
  return '';
}

function availableForTopology(ep: EndpointInfo, mode: TopologyMode, nodeName: string, zone: string): boolean {
  if (mode === '') return true;
  if (mode === 'PreferSameNode') return ep.nodeHints?.has(nodeName) ?? false;
  return ep.zoneHints?.has(zone) ?? false;
}

/**
 * Splits a service port's endpoints into those used by the Cluster and the Local traffic
 * policies, as kube-proxy does.
 *
 * @remarks
 * - Cluster endpoints (only if the port uses them): the ready endpoints, filtered by topology
 *   hints when hints apply; when there are none, the serving and terminating ones.
 * - Topology: PreferSameNode when the gate is on, every ready endpoint has a node hint and one
 *   is hinted for this node; else PreferSameZone when every ready endpoint has a zone hint and
 *   one is hinted for the node's `topology.kubernetes.io/zone`; else no filtering.
 * - Local endpoints (only if the port uses them): the local ready endpoints; if none, the local
 *   serving and terminating ones; else none. Topology is ignored for them. Any ready, or serving
 *   and terminating, endpoint anywhere makes `hasAnyEndpoints` true.
 * - Linux equivalent: none.
 * @see kubernetes pkg/proxy/topology.go CategorizeEndpoints
 * @see /work/shared/facts/kube-proxy.md section 1.3
 * @example
 * ```ts
 * import { buildServiceEndpoints, buildServicePorts, categorizeEndpoints } from '@knet/kube-proxy';
 * const [port] = buildServicePorts({ namespace: 'ns', name: 's', clusterIP: '10.96.0.1', internalTrafficPolicy: 'Local', ports: [{ protocol: 'TCP', port: 80 }] }, 'IPv4');
 * const eps = buildServiceEndpoints(
 *   [{ namespace: 'ns', name: 's-1', serviceName: 's', addressType: 'IPv4', ports: [{ port: 8080 }],
 *      endpoints: [{ addresses: ['10.244.1.5'], nodeName: 'node-a' }, { addresses: ['10.244.2.5'], nodeName: 'node-b' }] }],
 *   { family: 'IPv4', nodeName: 'node-a' });
 * const c = categorizeEndpoints(eps.get('ns/s/TCP') ?? [], port!, { nodeName: 'node-a' });
 * c.localEndpoints?.map((e) => e.endpoint); // ['10.244.1.5:8080']
 * c.clusterEndpoints; // undefined: an internal-only Service with iTP Local never uses them
 * ```
 */
export function categorizeEndpoints(endpoints: readonly EndpointInfo[], svc: ServicePortInfo, node: CategorizeNode): CategorizedEndpoints {
  const { nodeName } = node;
  const zone = node.nodeLabels?.[LABEL_TOPOLOGY_ZONE] ?? '';
  let mode: TopologyMode = '';
  let clusterEndpoints: EndpointInfo[] | undefined;
  let localEndpoints: EndpointInfo[] | undefined;
  let hasAnyEndpoints = false;
  let useServingTerminating = false;

  if (svc.usesClusterEndpoints) {
    mode = topologyModeFromHints(endpoints, nodeName, zone, node.preferSameTrafficDistribution ?? false);
    clusterEndpoints = endpoints.filter((ep) => ep.ready && availableForTopology(ep, mode, nodeName, zone));
    if (clusterEndpoints.length === 0) clusterEndpoints = endpoints.filter((ep) => ep.serving && ep.terminating);
    if (clusterEndpoints.length > 0) hasAnyEndpoints = true;
  }
  if (!svc.usesLocalEndpoints) {
    return { clusterEndpoints, localEndpoints: undefined, allReachableEndpoints: clusterEndpoints ?? [], hasAnyEndpoints };
  }

  let hasLocalReady = false;
  let hasLocalServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasAnyEndpoints = true;
      if (ep.isLocal) hasLocalReady = true;
    } else if (ep.serving && ep.terminating) {
      hasAnyEndpoints = true;
      if (ep.isLocal) hasLocalServingTerminating = true;
    }
  }
  if (hasLocalReady) {
    localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.ready);
  } else if (hasLocalServingTerminating) {
    useServingTerminating = true;
    localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.serving && ep.terminating);
  } else {
    localEndpoints = [];
  }

  if (clusterEndpoints === undefined) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: localEndpoints, hasAnyEndpoints };
  }
  if (mode === '' && !useServingTerminating) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: clusterEndpoints, hasAnyEndpoints };
  }
  // Remote cluster endpoints and terminating or topology-excluded local ones: merge them.
  // (Upstream merges through a map, in random order; knet keeps the sorted order.)
  const merged = new Map<string, EndpointInfo>();
  for (const ep of clusterEndpoints) merged.set(ep.endpoint, ep);
  for (const ep of localEndpoints) merged.set(ep.endpoint, ep);
  const all = [...merged.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
  return { clusterEndpoints, localEndpoints, allReachableEndpoints: all, hasAnyEndpoints };
}
