import type { AdminNetworkPolicyObject, BaselineAdminNetworkPolicyObject, NetworkPolicyObject } from '../netpol/network-policy-api.js';

/**
 * The cluster as knet sees it after loading and validating manifests: plain data, built by
 * `buildClusterState` from Kubernetes objects plus one `KnetCluster`.
 */

/** Where an object came from, so that later errors can still name the file and document. */
export interface SourceRef {
  readonly file: string;
  /** Zero-based document index inside the file (items of a `kind: List` share their document's index). */
  readonly document: number;
  /** For items of a `kind: List`: the path of the item (`items[3]`). */
  readonly path?: string;
}

/** Labels and selectors use the Kubernetes shapes. */
export type Labels = Readonly<Record<string, string>>;

/** `spec.cni` of a KnetCluster. */
export interface CniSpec {
  /** The CNI: `kubenet` today; `flannel`, `calico`, `weave` in later packages. */
  readonly plugin: string;
  /** Plugin-specific options, passed through to the plugin unchanged. */
  readonly options: Readonly<Record<string, unknown>>;
}

/** The cloud route table in front of the fabric, for route-based designs (kubenet). */
export interface CloudRouteTableSpec {
  /** `aws` (50 routes by default, adjustable up to 1,000) or `azure` (400). */
  readonly provider: 'aws' | 'azure';
  /** The table's limit; defaults to the provider's default. */
  readonly routeLimit: number;
}

/** `spec.fabric` of a KnetCluster: the nodes' underlay. */
export interface FabricSpec {
  /** The L2 segment holding the nodes' InternalIPs (derived from them when not given). */
  readonly cidr: string;
  /** MTU of the nodes' underlay interface (default 1500). */
  readonly mtu: number;
  /** The node-side interface name (default `eth0`). */
  readonly nodeInterface: string;
  /** A cloud route table in the fabric, or none (routes are then installed on every node). */
  readonly cloud?: CloudRouteTableSpec;
}

/** The `KnetCluster` object (`apiVersion: knet.dev/v1alpha1`), with defaults applied. */
export interface KnetClusterSpec {
  readonly name: string;
  /** Pod network (kube-controller-manager `--cluster-cidr`). Default `10.244.0.0/16`. */
  readonly clusterCIDR: string;
  /** Service network (`--service-cluster-ip-range`). Default `10.96.0.0/12`. */
  readonly serviceCIDR: string;
  /** `--node-cidr-mask-size` (IPv4 default 24). */
  readonly nodeCIDRMaskSize: number;
  readonly cni: CniSpec;
  readonly kubeProxy: { readonly mode: 'iptables' | 'ipvs' | 'nftables' | 'none' };
  readonly fabric: FabricSpec;
}

/** A Node. */
export interface ClusterNode {
  readonly name: string;
  readonly labels: Labels;
  /** `status.addresses[type=InternalIP]`. */
  readonly internalIP: string;
  /** `spec.podCIDR`, or the one allocated from the cluster CIDR as kube-controller-manager does. */
  readonly podCIDR: string;
  /** True when knet allocated the pod CIDR (it was absent from the manifest). */
  readonly podCIDRAllocated: boolean;
  readonly source?: SourceRef;
}

/** A container port. */
export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly hostPort?: number;
}

/** A container of a pod. */
export interface ClusterContainer {
  readonly name: string;
  readonly image?: string;
  readonly ports: readonly ContainerPort[];
}

/** A Pod. */
export interface ClusterPod {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  readonly labels: Labels;
  readonly nodeName: string;
  readonly hostNetwork: boolean;
  /** `status.podIP` when the manifest gives one (checked against the node's pod CIDR). */
  readonly podIP?: string;
  readonly containers: readonly ClusterContainer[];
  readonly source?: SourceRef;
}

/** A Service port. */
export interface ServicePort {
  readonly name?: string;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly port: number;
  /** A number or a named container port; defaults to `port`. */
  readonly targetPort: number | string;
  readonly nodePort?: number;
  readonly appProtocol?: string;
}

/** A Service (the fields networking needs). */
export interface ClusterService {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** `spec.clusterIP`: an address, `None` (headless), or absent (unallocated). */
  readonly clusterIP?: string;
  readonly clusterIPs: readonly string[];
  readonly selector?: Labels;
  readonly ports: readonly ServicePort[];
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  readonly loadBalancerSourceRanges: readonly string[];
  readonly externalTrafficPolicy: 'Cluster' | 'Local';
  readonly internalTrafficPolicy: 'Cluster' | 'Local';
  readonly sessionAffinity: 'None' | 'ClientIP';
  /** `sessionAffinityConfig.clientIP.timeoutSeconds` (default 10800). */
  readonly sessionAffinityTimeout: number;
  readonly healthCheckNodePort?: number;
  readonly externalName?: string;
  readonly source?: SourceRef;
}

/** One endpoint of an EndpointSlice (discovery.k8s.io/v1). */
export interface SliceEndpoint {
  readonly addresses: readonly string[];
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName?: string;
  readonly zone?: string;
  readonly targetRef?: { readonly kind: string; readonly namespace?: string; readonly name: string };
}

/** An EndpointSlice (also the result of converting a core/v1 Endpoints object). */
export interface ClusterEndpointSlice {
  readonly namespace: string;
  readonly name: string;
  /** `kubernetes.io/service-name`. */
  readonly serviceName: string;
  readonly addressType: 'IPv4' | 'IPv6' | 'FQDN';
  readonly ports: readonly { readonly name?: string; readonly port: number; readonly protocol: 'TCP' | 'UDP' | 'SCTP' }[];
  readonly endpoints: readonly SliceEndpoint[];
  /** True when converted from a core/v1 Endpoints object. */
  readonly fromEndpoints: boolean;
  readonly source?: SourceRef;
}

/** A manifest problem that does not stop loading (an unknown kind, an ignored field). */
export interface ManifestWarning {
  readonly file: string;
  readonly document: number;
  readonly field?: string;
  readonly message: string;
}

/** Everything knet knows about a cluster. */
export interface ClusterState {
  readonly cluster: KnetClusterSpec;
  readonly namespaces: readonly { readonly name: string; readonly labels: Labels }[];
  readonly nodes: readonly ClusterNode[];
  readonly pods: readonly ClusterPod[];
  readonly services: readonly ClusterService[];
  readonly endpointSlices: readonly ClusterEndpointSlice[];
  /** NetworkPolicy objects as loaded (validated shape; semantics live in `netpol/`). */
  readonly networkPolicies: NetworkPolicyObject[];
  /** AdminNetworkPolicy objects (`policy.networking.k8s.io/v1alpha1`) as loaded; absent means none. */
  readonly adminNetworkPolicies?: readonly AdminNetworkPolicyObject[];
  /** The BaselineAdminNetworkPolicy (at most one, named `default`) as loaded; absent means none. */
  readonly baselineAdminNetworkPolicies?: readonly BaselineAdminNetworkPolicyObject[];
  readonly warnings: readonly ManifestWarning[];
}
