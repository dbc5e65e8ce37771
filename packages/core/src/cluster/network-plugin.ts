import type { Host } from '../host/host.js';
import type { ClusterNode, ClusterPod, ClusterState } from './cluster-state.js';

/** What a plugin gets to act on one node. */
export interface NodeContext {
  readonly host: Host;
  readonly cluster: ClusterState;
  readonly node: ClusterNode;
  /** The node's host network namespace. */
  readonly netns: string;
  /** The node's underlay interface inside `netns` (default `eth0`). */
  readonly uplink: string;
}

/** What a plugin gets to act on the fabric (the underlay the nodes share). */
export interface FabricContext {
  readonly host: Host;
  readonly cluster: ClusterState;
  /** The fabric's namespace. */
  readonly netns: string;
  /** The fabric bridge inside `netns`. */
  readonly bridge: string;
  /** The router address on the fabric bridge, when the fabric has a cloud route table. */
  readonly routerIP?: string;
}

/** A pod being attached to the network on its node. */
export interface PodAttachment {
  readonly pod: ClusterPod;
  /** The pod sandbox's network namespace (already created, with `lo`). */
  readonly netns: string;
  /** The sandbox (container) id the runtime uses for this pod. */
  readonly containerId: string;
  /** The interface to create inside the pod (`eth0`). */
  readonly ifname: string;
}

/** What a plugin reports for an attached pod. */
export interface PodNetworkResult {
  /** The pod's IP (dotted quad). */
  readonly ip: string;
  /** The pod interface's prefix length. */
  readonly prefixlen: number;
  readonly gateway?: string;
  /** The host-side interface (`veth...`, `cali...`). */
  readonly hostIfname?: string;
}

/**
 * The contract every CNI package implements. Plugins express what the real agents do; they
 * change nodes only through the {@link Host} API.
 *
 * @remarks Composition is explicit: the CLI or user code picks a plugin and calls
 * `buildCluster`; there is no global registry.
 */
export interface NetworkPlugin {
  /** The CNI's name as `KnetCluster.spec.cni.plugin` spells it (`kubenet`). */
  readonly name: string;
  /**
   * Whether the plugin enforces NetworkPolicy in the dataplane (Calico, Weave Net) or ignores
   * it (kubenet, flannel). Absent means it ignores it; traces then report what the policies say
   * without the dataplane acting on it.
   */
  readonly networkPolicy?: 'enforced' | 'ignored';
  /**
   * Checks the cluster against the plugin's limits before anything is built.
   * @throws KnetError with the field and the limit (e.g. `ELIMIT` for a cloud route table).
   */
  validate(cluster: ClusterState): void;
  /** Program the fabric (cloud route tables). Called once, before any node. */
  setupFabric?(ctx: FabricContext): Promise<void>;
  /** Program one node (bridges, tunnels, routes, rules). */
  setupNode(ctx: NodeContext): Promise<void>;
  /** Attach one pod on its node; returns the pod's address. */
  addPod(ctx: NodeContext, attachment: PodAttachment): Promise<PodNetworkResult>;
  /** Detach one pod (idempotent). */
  delPod(ctx: NodeContext, attachment: PodAttachment): Promise<void>;
}
