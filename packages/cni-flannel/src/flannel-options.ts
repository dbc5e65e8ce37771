import { KnetError, isIpv4 } from '@knet/core';
import type { ClusterNode, Datastore, DatastoreClock, IpamStore } from '@knet/core';

/** Options of `createFlannelPlugin`: flanneld's and kube-flannel.yml's settings, plus knet's own. */
export interface FlannelOptions {
  /**
   * Where leases live: `kube` (default, `--kube-subnet-mgr` as kube-flannel.yml runs it: each node's
   * `spec.podCIDR`, leases as Node annotations) or `etcd` (flanneld's etcd subnet manager: leases
   * under `/coreos.com/network/subnets/` in a {@link Datastore}).
   */
  readonly subnetManager?: 'kube' | 'etcd';
  /**
   * `net-conf.json` (an object or its text). Default, as kube-flannel.yml with the cluster's pod
   * network: `{"Network": <clusterCIDR>, "EnableNFTables": false, "Backend": {"Type": <backend>}}`.
   * A net-conf without `Backend` gets flannel's code default, **udp**.
   */
  readonly netConf?: string | Readonly<Record<string, unknown>>;
  /** `Backend.Type` of the default net-conf: `vxlan` (default), `host-gw` or `udp`. */
  readonly backend?: 'vxlan' | 'host-gw' | 'udp';
  /** `Backend.DirectRouting` of the default vxlan net-conf. */
  readonly directRouting?: boolean;
  /** flanneld `--ip-masq`. Default true, as kube-flannel.yml passes it. */
  readonly ipMasq?: boolean;
  /** flanneld `--iptables-forward-rules`. Default true. */
  readonly iptablesForwardRules?: boolean;
  /** MASQUERADE with `--random-fully`. Default true. */
  readonly randomFully?: boolean;
  /**
   * etcd mode's store: `memory` (the embedded store, default) or `etcd`. The simulation always uses
   * the embedded store; `knet lab` starts a real etcd for `etcd` and passes its endpoints.
   */
  readonly datastore?: 'memory' | 'etcd';
  /** etcd client URLs (etcd mode): leases go to that etcd. */
  readonly etcdEndpoints?: readonly string[];
  /** `--etcd-prefix`. Default `/coreos.com/network`. */
  readonly etcdPrefix?: string;
  /**
   * etcd mode: write a reservation (a lease without TTL, `{"PublicIP": <InternalIP>}`) for every node
   * whose manifest sets `spec.podCIDR`, as an operator would with `etcdctl put`, so flanneld takes that
   * subnet. Default true.
   */
  readonly reservePodCIDRs?: boolean;
  /** The lease TTL in seconds (flannel: 24 h). */
  readonly subnetTtlSeconds?: number;
  /** flanneld `--public-ip` per node name. */
  readonly publicIPs?: Readonly<Record<string, string>>;
  /** Annotations the Nodes carry before flanneld starts (kube mode), e.g. `flannel.alpha.coreos.com/public-ip-overwrite`. */
  readonly nodeAnnotations?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Seed of the per-node random sources (subnet pick, VTEP MAC, veth names). */
  readonly seed?: number | string;
  /** A store to use instead (library use): etcd mode's leases go there. */
  readonly datastoreInstance?: Datastore;
  /** The clock leases run on (ms). Default: a manual clock at 0. */
  readonly clock?: DatastoreClock;
  /** The host-local store of a node (network `cbr0`). Default: a fresh `MemoryIpamStore` per node. */
  readonly ipamStore?: (node: ClusterNode) => IpamStore;
}

const KEYS: Readonly<Record<string, 'string' | 'boolean' | 'number' | 'seed' | 'object' | 'netConf' | 'strings'>> = {
  subnetManager: 'string',
  netConf: 'netConf',
  backend: 'string',
  directRouting: 'boolean',
  ipMasq: 'boolean',
  iptablesForwardRules: 'boolean',
  randomFully: 'boolean',
  datastore: 'string',
  etcdEndpoints: 'strings',
  etcdPrefix: 'string',
  reservePodCIDRs: 'boolean',
  subnetTtlSeconds: 'number',
  publicIPs: 'object',
  nodeAnnotations: 'object',
  seed: 'seed',
};

const ONE_OF: Readonly<Record<string, readonly string[]>> = {
  subnetManager: ['kube', 'etcd'],
  backend: ['vxlan', 'host-gw', 'udp'],
  datastore: ['memory', 'etcd'],
};

function bad(field: string, message: string, value: unknown): never {
  throw new KnetError('EINVAL', message, { field, value });
}

/**
 * Reads flannel's options from a `KnetCluster`'s `spec.cni.options` (plain data from YAML).
 *
 * @remarks Keys: `subnetManager` (`kube` | `etcd`), `netConf` (object or JSON text), `backend`
 * (`vxlan` | `host-gw` | `udp`), `directRouting`, `ipMasq`, `iptablesForwardRules`, `randomFully`,
 * `datastore` (`memory` | `etcd`), `etcdEndpoints`, `etcdPrefix`, `reservePodCIDRs`,
 * `subnetTtlSeconds`, `publicIPs` (node → address), `nodeAnnotations` (node → annotations),
 * `seed`. Unknown keys are refused, so that a typo does not fall back to a default; `netConf`
 * and `backend`/`directRouting` exclude each other.
 * @throws KnetError `EINVAL` with `details.field` (`spec.cni.options.<key>`).
 * @example
 * ```ts
 * import { parseFlannelOptions } from '@knet/cni-flannel';
 * parseFlannelOptions({ backend: 'host-gw', subnetManager: 'etcd' });
 * ```
 */
export function parseFlannelOptions(raw: Readonly<Record<string, unknown>>, field = 'spec.cni.options'): FlannelOptions {
  for (const [k, v] of Object.entries(raw)) {
    const kind = KEYS[k];
    const f = `${field}.${k}`;
    if (kind === undefined) bad(f, `flannel: unknown option "${k}" (known: ${Object.keys(KEYS).join(', ')})`, v);
    switch (kind) {
      case 'string':
        if (typeof v !== 'string') bad(f, `flannel: ${k} must be a string`, v);
        if (ONE_OF[k] !== undefined && !ONE_OF[k]!.includes(v)) bad(f, `flannel: ${k} "${v}" is not one of ${ONE_OF[k]!.join(', ')}`, v);
        break;
      case 'boolean':
        if (typeof v !== 'boolean') bad(f, `flannel: ${k} must be true or false`, v);
        break;
      case 'number':
        if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) bad(f, `flannel: ${k} must be a positive whole number`, v);
        break;
      case 'seed':
        if (typeof v !== 'number' && typeof v !== 'string') bad(f, 'flannel: seed must be a number or a string', v);
        break;
      case 'strings':
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) bad(f, `flannel: ${k} must be a list of strings`, v);
        break;
      case 'netConf':
        if (typeof v !== 'string' && (v === null || typeof v !== 'object' || Array.isArray(v))) bad(f, 'flannel: netConf must be the net-conf.json object or its text', v);
        break;
      case 'object':
        if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(f, `flannel: ${k} must be a map from node name`, v);
        for (const [node, x] of Object.entries(v as Record<string, unknown>)) {
          if (k === 'publicIPs' && (typeof x !== 'string' || !isIpv4(x))) bad(`${f}.${node}`, `flannel: publicIPs.${node} must be an IPv4 address`, x);
          if (k === 'nodeAnnotations' && (x === null || typeof x !== 'object' || Object.values(x as object).some((s) => typeof s !== 'string'))) {
            bad(`${f}.${node}`, `flannel: nodeAnnotations.${node} must map annotation keys to strings`, x);
          }
        }
        break;
    }
  }
  if (raw['netConf'] !== undefined && (raw['backend'] !== undefined || raw['directRouting'] !== undefined)) {
    bad(`${field}.netConf`, 'flannel: give the backend in netConf.Backend, or use backend/directRouting without netConf, not both', raw['netConf']);
  }
  if (raw['directRouting'] === true && raw['backend'] !== undefined && raw['backend'] !== 'vxlan') {
    bad(`${field}.directRouting`, 'flannel: directRouting is a vxlan backend option', raw['directRouting']);
  }
  return raw as FlannelOptions;
}
