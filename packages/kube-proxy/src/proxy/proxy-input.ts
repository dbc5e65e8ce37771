import type { Labels } from '@knet/core';

/** A Service port as kube-proxy reads it (`spec.ports[]`). */
export interface ProxyServicePort {
  /** `name`; absent or empty for the single unnamed port. */
  readonly name?: string;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly port: number;
  /** `nodePort`; absent or 0 means none. */
  readonly nodePort?: number;
}

/** One `status.loadBalancer.ingress[]` entry. */
export interface ProxyLoadBalancerIngress {
  readonly ip?: string;
  /** `VIP` (or absent) is programmed; `Proxy` is ignored while the LoadBalancerIPMode gate is on. */
  readonly ipMode?: 'VIP' | 'Proxy';
}

/**
 * The fields of a Service that kube-proxy reads. Core's `ClusterService` satisfies it, so a
 * `ClusterState` can be passed as it is.
 *
 * @remarks
 * Two fields go beyond `ClusterService`, for inputs that core's validation cannot express:
 * `loadBalancerIngress` (with `ipMode`; when present it replaces `loadBalancerIPs`, which core
 * fills with the ingress IPs whose ipMode is not `Proxy`), and any address text kube-proxy's
 * sloppy parser accepts (leading zeros, IPv6).
 */
export interface ProxyService {
  readonly namespace: string;
  readonly name: string;
  /** `spec.type`; absent means ClusterIP. */
  readonly type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** `spec.clusterIP`: an address, `None` (headless), or absent. */
  readonly clusterIP?: string;
  /** `spec.clusterIPs` (dual-stack); the entry of the proxier's family is used. */
  readonly clusterIPs?: readonly string[];
  readonly ports: readonly ProxyServicePort[];
  readonly externalIPs?: readonly string[];
  /** LB ingress IPs (core: `status.loadBalancer.ingress[].ip` without ipMode Proxy). */
  readonly loadBalancerIPs?: readonly string[];
  /** Raw `status.loadBalancer.ingress`; replaces `loadBalancerIPs` when present. */
  readonly loadBalancerIngress?: readonly ProxyLoadBalancerIngress[];
  readonly loadBalancerSourceRanges?: readonly string[];
  readonly externalTrafficPolicy?: 'Cluster' | 'Local';
  readonly internalTrafficPolicy?: 'Cluster' | 'Local';
  readonly sessionAffinity?: 'None' | 'ClientIP';
  /** `sessionAffinityConfig.clientIP.timeoutSeconds` (default 10800). */
  readonly sessionAffinityTimeout?: number;
  readonly healthCheckNodePort?: number;
}

/** An endpoint of an EndpointSlice as kube-proxy reads it. */
export interface ProxyEndpoint {
  /** Only `addresses[0]` is used. */
  readonly addresses: readonly string[];
  /** `conditions.ready`; absent means true. */
  readonly ready?: boolean;
  /** `conditions.serving`; absent means true. */
  readonly serving?: boolean;
  /** `conditions.terminating`; absent means false. */
  readonly terminating?: boolean;
  readonly nodeName?: string;
  readonly zone?: string;
  /** `hints` (topology-aware routing); not carried by core's `SliceEndpoint`. */
  readonly hints?: {
    readonly forZones?: readonly string[];
    readonly forNodes?: readonly string[];
  };
}

/** A port of an EndpointSlice. */
export interface ProxyEndpointSlicePort {
  /** Absent is read as the empty name (core cannot tell a nil name from ""). */
  readonly name?: string;
  /** Absent or 0: the port is ignored, as kube-proxy ignores it. */
  readonly port?: number;
  /** Absent means TCP (the API server's default). */
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
}

/**
 * The fields of an EndpointSlice that kube-proxy reads. Core's `ClusterEndpointSlice`
 * satisfies it.
 */
export interface ProxyEndpointSlice {
  readonly namespace: string;
  readonly name: string;
  /** The `kubernetes.io/service-name` label. */
  readonly serviceName: string;
  readonly addressType: 'IPv4' | 'IPv6' | 'FQDN';
  readonly ports: readonly ProxyEndpointSlicePort[];
  readonly endpoints: readonly ProxyEndpoint[];
}

/** A Node, for its labels (the topology zone). */
export interface ProxyNode {
  readonly name: string;
  readonly labels: Labels;
}

/**
 * What a kube-proxy proxier reads: Services, EndpointSlices and (for the topology labels of
 * its own node) Nodes. A core `ClusterState` is one.
 */
export interface ProxyInput {
  readonly services: readonly ProxyService[];
  readonly endpointSlices: readonly ProxyEndpointSlice[];
  readonly nodes?: readonly ProxyNode[];
}
