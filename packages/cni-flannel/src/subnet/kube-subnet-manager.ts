import { KnetError, cidrContains, formatGoJson, formatIpv4Cidr, parseIpv4Cidr, tryParseIpv4 } from '@knet/core';
import type { ClusterNode, DatastoreClock, Ipv4Cidr } from '@knet/core';
import type { LeaseAttrs } from './lease-attrs.js';
import type { FlannelNetConf } from './net-conf.js';
import type { FlannelLease, SubnetManager } from './subnet-manager.js';

/** `--kube-annotation-prefix`'s default. */
export const DEFAULT_ANNOTATION_PREFIX = 'flannel.alpha.coreos.com';

/** The annotation keys flanneld reads and writes on its Node, for a prefix. @see flannel-io/flannel pkg/subnet/kube/annotations.go */
export function flannelAnnotations(prefix = DEFAULT_ANNOTATION_PREFIX): {
  readonly subnetKubeManaged: string;
  readonly backendType: string;
  readonly backendData: string;
  readonly backendV6Data: string;
  readonly backendPublicIP: string;
  readonly backendPublicIPv6: string;
  readonly backendPublicIPOverwrite: string;
  readonly backendPublicIPv6Overwrite: string;
} {
  return {
    subnetKubeManaged: `${prefix}/kube-subnet-manager`,
    backendType: `${prefix}/backend-type`,
    backendData: `${prefix}/backend-data`,
    backendV6Data: `${prefix}/backend-v6-data`,
    backendPublicIP: `${prefix}/public-ip`,
    backendPublicIPv6: `${prefix}/public-ipv6`,
    backendPublicIPOverwrite: `${prefix}/public-ip-overwrite`,
    backendPublicIPv6Overwrite: `${prefix}/public-ipv6-overwrite`,
  };
}

/** A Node as the kube subnet manager sees it: its pod CIDR and annotations. */
export interface KubeNode {
  readonly name: string;
  /** `spec.podCIDR` (`''` when the controller manager has not assigned one). */
  readonly podCIDR: string;
  readonly annotations: Readonly<Record<string, string>>;
}

/**
 * The Node API flanneld uses in kube mode: get a Node, patch its annotations, list Nodes.
 * {@link createKubeNodeStore} keeps them in memory, standing for the API server.
 */
export interface KubeNodeStore {
  get(name: string): Promise<KubeNode | undefined>;
  /** A strategic-merge patch of `metadata.annotations`. @throws `ENOENT` for an unknown Node */
  patchAnnotations(name: string, annotations: Readonly<Record<string, string>>): Promise<void>;
  list(): Promise<KubeNode[]>;
}

/**
 * An in-memory {@link KubeNodeStore} holding the cluster's Nodes (`spec.podCIDR` and whatever
 * annotations they are given).
 * @example
 * ```ts
 * import { createKubeNodeStore } from '@knet/cni-flannel';
 * const nodes = createKubeNodeStore([{ name: 'node-1', podCIDR: '10.244.0.0/24', annotations: {} }]);
 * ```
 */
export function createKubeNodeStore(nodes: readonly (KubeNode | ClusterNode)[]): KubeNodeStore {
  const byName = new Map<string, KubeNode>();
  for (const n of nodes) byName.set(n.name, { name: n.name, podCIDR: n.podCIDR, annotations: { ...('annotations' in n ? n.annotations : {}) } });
  return {
    async get(name) {
      return byName.get(name);
    },
    async patchAnnotations(name, annotations) {
      const n = byName.get(name);
      if (n === undefined) throw new KnetError('ENOENT', `nodes "${name}" not found`, { node: name });
      byName.set(name, { ...n, annotations: { ...n.annotations, ...annotations } });
    },
    async list() {
      return [...byName.values()];
    },
  };
}

/** Options of {@link createKubeSubnetManager}. */
export interface KubeSubnetManagerOptions {
  readonly nodes: KubeNodeStore;
  /** This node (`NODE_NAME`). */
  readonly nodeName: string;
  /** net-conf.json, parsed (not checked: kube mode never runs `CheckNetworkConfig`). */
  readonly netConf: FlannelNetConf;
  /** `--kube-annotation-prefix`. */
  readonly annotationPrefix?: string;
  readonly clock: DatastoreClock;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * flanneld's Kubernetes subnet manager (`--kube-subnet-mgr`): the subnet is the Node's
 * `spec.podCIDR`; the lease is published as annotations on the Node.
 *
 * @remarks
 * Linux equivalent: `flanneld --kube-subnet-mgr` (kube-flannel.yml). `acquireLease` writes, when
 * any differs, `backend-type`, `backend-data` (the backend data's JSON, `null` when there is
 * none), `public-ip` (or keeps `public-ip-overwrite` when an operator set it) and
 * `kube-subnet-manager: "true"`; the lease "expires" 24 h after it is read, and is never renewed
 * (flannel's `RenewLease` is unimplemented in this mode). Other nodes' leases are the Nodes that
 * carry `kube-subnet-manager: "true"`. Errors: `node "<name>" pod cidr not assigned`; `subnet
 * "<Network>" specified in the flannel net config doesn't contain "<podCIDR>" PodCIDR of the
 * "<node>" node`.
 * @see flannel-io/flannel pkg/subnet/kube/kube.go
 */
export function createKubeSubnetManager(options: KubeSubnetManagerOptions): SubnetManager {
  const a = flannelAnnotations(options.annotationPrefix);
  const { nodes, nodeName, netConf } = options;

  // nodeToLease parses annotations; the parse is kept per Node while they are unchanged.
  const parsed = new WeakMap<Readonly<Record<string, string>>, { readonly subnet: Ipv4Cidr; readonly attrs: LeaseAttrs } | null>();

  function leaseOf(n: KubeNode): FlannelLease | undefined {
    let p = parsed.get(n.annotations);
    if (p === undefined) {
      p = nodeToLease(n);
      parsed.set(n.annotations, p);
    }
    return p === null ? undefined : { ...p, expiration: options.clock.now() + DAY_MS };
  }

  function nodeToLease(n: KubeNode): { readonly subnet: Ipv4Cidr; readonly attrs: LeaseAttrs } | null {
    if (n.annotations[a.subnetKubeManaged] !== 'true') return null;
    const ip = n.annotations[a.backendPublicIP] ?? '';
    if (tryParseIpv4(ip) === undefined || n.podCIDR === '') return null;
    let subnet: Ipv4Cidr;
    try {
      subnet = parseIpv4Cidr(n.podCIDR, { strict: false });
    } catch {
      return null;
    }
    const bt = n.annotations[a.backendType] ?? '';
    let data: unknown;
    try {
      data = JSON.parse(n.annotations[a.backendData] ?? 'null');
    } catch {
      data = null;
    }
    const attrs: LeaseAttrs = {
      publicIP: ip,
      ...(bt !== '' ? { backendType: bt } : {}),
      ...(data !== null && typeof data === 'object' && !Array.isArray(data) ? { backendData: data as Record<string, unknown> } : {}),
    };
    return { subnet, attrs };
  }

  return {
    name: `Kubernetes Subnet Manager - ${nodeName}`,
    async getNetworkConfig() {
      return netConf;
    },
    async acquireLease(attrs) {
      const n = await nodes.get(nodeName);
      if (n === undefined) throw new KnetError('ENOENT', `nodes "${nodeName}" not found`, { node: nodeName });
      if (n.podCIDR === '') throw new KnetError('EINVAL', `node "${nodeName}" pod cidr not assigned`, { node: nodeName, field: 'spec.podCIDR' });
      const bd = attrs.backendData === undefined ? 'null' : formatGoJson(attrs.backendData);
      const bt = attrs.backendType ?? '';
      const ann = n.annotations;
      const overwrite = ann[a.backendPublicIPOverwrite] ?? '';
      if (
        ann[a.backendData] !== bd ||
        (ann[a.backendType] ?? '') !== bt ||
        ann[a.backendPublicIP] !== attrs.publicIP ||
        ann[a.subnetKubeManaged] !== 'true' ||
        (overwrite !== '' && overwrite !== attrs.publicIP)
      ) {
        const patch: Record<string, string> = { [a.backendType]: bt };
        if ((bt === 'vxlan' && bd !== 'null') || (bt === 'wireguard' && bd !== 'null') || bt !== 'vxlan') {
          patch[a.backendData] = bd;
          if (overwrite !== '') {
            if (ann[a.backendPublicIP] !== overwrite) patch[a.backendPublicIP] = overwrite;
          } else {
            patch[a.backendPublicIP] = attrs.publicIP;
          }
        }
        patch[a.subnetKubeManaged] = 'true';
        await nodes.patchAnnotations(nodeName, patch);
      }
      const cidr = parseIpv4Cidr(n.podCIDR, { strict: false });
      if (!(netConf.network.prefix <= cidr.prefix && cidrContains(netConf.network, cidr.address))) {
        throw new KnetError(
          'EINVAL',
          `subnet "${formatIpv4Cidr(netConf.network)}" specified in the flannel net config doesn't contain "${formatIpv4Cidr(cidr)}" PodCIDR of the "${nodeName}" node`,
          { node: nodeName, field: 'spec.podCIDR', value: n.podCIDR },
        );
      }
      return { subnet: cidr, attrs, expiration: options.clock.now() + DAY_MS };
    },
    async renewLease() {
      throw new KnetError('EOPNOTSUPP', 'unimplemented', { manager: 'kube' });
    },
    async listLeases() {
      const out: FlannelLease[] = [];
      for (const n of await nodes.list()) {
        const l = leaseOf(n);
        if (l !== undefined) out.push(l);
      }
      return out;
    },
    async lookupLease(subnet) {
      for (const n of await nodes.list()) {
        if (n.podCIDR === '') continue;
        let c: Ipv4Cidr;
        try {
          c = parseIpv4Cidr(n.podCIDR, { strict: false });
        } catch {
          continue;
        }
        if (c.address === subnet.address && c.prefix === subnet.prefix) return leaseOf(n);
      }
      return undefined;
    },
    async storedVtepMac() {
      const n = await nodes.get(nodeName);
      const raw = n?.annotations[a.backendData];
      if (raw === undefined) return undefined;
      try {
        const d = JSON.parse(raw) as { VtepMAC?: unknown } | null;
        return typeof d?.VtepMAC === 'string' ? d.VtepMAC : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
