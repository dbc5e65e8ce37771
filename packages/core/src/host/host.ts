import type { Mac } from '../ip/mac.js';
import type {
  AddressInfo,
  FdbInfo,
  LinkInfo,
  NeighInfo,
  NeighState,
  NetnsMeta,
  RouteInfo,
  RouteProto,
  RouteType,
  Scope,
} from './types.js';

/** Arguments of {@link Host.linkAdd}, one shape per kind (`ip link add ... type KIND`). @see ip-link(8) */
export type LinkAddOptions =
  | { readonly kind: 'dummy' | 'device'; readonly name: string; readonly mtu?: number; readonly mac?: Mac }
  | { readonly kind: 'bridge'; readonly name: string; readonly mtu?: number; readonly mac?: Mac; readonly ageingTime?: number }
  | {
      readonly kind: 'veth';
      readonly name: string;
      readonly mtu?: number;
      readonly mac?: Mac;
      /** The peer end: its name, and the namespace it is created in (default: the same). */
      readonly peer: { readonly name: string; readonly netns?: string; readonly mac?: Mac };
    }
  | {
      readonly kind: 'vxlan';
      readonly name: string;
      readonly mtu?: number;
      readonly mac?: Mac;
      readonly id: number;
      readonly local?: string;
      readonly dev?: string;
      /** UDP destination port; default 8472 (the Linux module default). */
      readonly port?: number;
      /** Default true, as iproute2. */
      readonly learning?: boolean;
      readonly group?: string;
    }
  | { readonly kind: 'tun'; readonly name: string; readonly mtu?: number; readonly mode?: 'tun' | 'tap' };

/** Arguments of {@link Host.linkSet} (`ip link set DEV ...`). Only the given fields change. */
export interface LinkSetOptions {
  readonly up?: boolean;
  readonly mtu?: number;
  readonly mac?: Mac;
  /** Enslave to this bridge; `null` releases (`nomaster`). */
  readonly master?: string | null;
  /** Move the link to another namespace (`netns NAME`). */
  readonly netns?: string;
  /** Rename (`name NEW`). */
  readonly name?: string;
  readonly promisc?: boolean;
  /** Bridge port flags (`bridge link set dev DEV hairpin on ...`). */
  readonly hairpin?: boolean;
  readonly learning?: boolean;
  readonly isolated?: boolean;
}

/** Arguments of {@link Host.routeAdd} (`ip route add ...`). @see ip-route(8) */
export interface RouteOptions {
  /** `default` or a CIDR (`10.244.1.0/24`); a bare address means /32. */
  readonly dst: string;
  readonly type?: RouteType;
  /** `main` (default), `local`, `default`, or a table number. */
  readonly table?: 'main' | 'local' | 'default' | number;
  readonly dev?: string;
  readonly via?: string;
  readonly src?: string;
  readonly metric?: number;
  /** Default: `link` for dev-only unicast routes, `host` for local, `global` otherwise. */
  readonly scope?: Scope;
  /** Default `boot`, as iproute2. */
  readonly proto?: RouteProto;
  readonly onlink?: boolean;
  readonly mtu?: number;
}

/** Arguments of {@link Host.neighReplace} (`ip neigh add ADDR lladdr MAC dev DEV nud STATE`). */
export interface NeighOptions {
  readonly dst: string;
  readonly dev: string;
  readonly lladdr?: Mac;
  /** Default `PERMANENT`. */
  readonly state?: NeighState;
}

/** Arguments of {@link Host.fdbAdd} (`bridge fdb add MAC dev DEV [dst IP] [master|self] ...`). */
export interface FdbOptions {
  readonly mac: Mac;
  readonly dev: string;
  /** VXLAN remote VTEP. */
  readonly dst?: string;
  /** Add to the device's own table (`self`, for vxlan) instead of its bridge's (`master`). */
  readonly self?: boolean;
  readonly vlan?: number;
}

/** Options of {@link Host.iptablesRestore}, as `iptables-restore [--noflush] [--counters]`. */
export interface HostIptablesRestoreOptions {
  /** Keep rules and chains the payload does not mention (`--noflush`). */
  readonly noflush?: boolean;
  /** Take counters from the payload (`--counters`). */
  readonly counters?: boolean;
}

/** Options of {@link Host.iptablesSave}, as `iptables-save [-t TABLE] [--counters]`. */
export interface HostIptablesSaveOptions {
  readonly table?: 'raw' | 'mangle' | 'nat' | 'filter' | 'security';
  readonly counters?: boolean;
}

/**
 * The Host API: the only way a plugin changes a node. It is shaped after netlink / iproute2,
 * addresses every object by network namespace name, and is implemented by SimHost (the
 * in-memory kernel) and LinuxHost (real namespaces), so that one plugin drives both.
 *
 * @remarks
 * Linux equivalent: `ip netns`, `ip link`, `ip addr`, `ip route`, `ip neigh`, `bridge fdb`,
 * `sysctl`, all run with `ip netns exec NS`. Errors are {@link KnetError}s with the errno code
 * the kernel would return (`EEXIST` for a duplicate route, `ENODEV` for a missing device, ...).
 */
export interface Host {
  /** Which dataplane this is. */
  readonly kind: 'sim' | 'linux';

  /** `ip netns add NAME`. @throws `EEXIST` */
  netnsAdd(name: string, meta: NetnsMeta): Promise<void>;
  /** `ip netns del NAME`: destroys its links (veth peers elsewhere go with them). @throws `ENOENT` */
  netnsDel(name: string): Promise<void>;
  /** `ip netns list`. */
  netnsList(): Promise<string[]>;
  /** True when the namespace exists. */
  netnsExists(name: string): Promise<boolean>;

  /** `ip link add`. @throws `EEXIST`, `ENOENT` (peer namespace) */
  linkAdd(netns: string, options: LinkAddOptions): Promise<void>;
  /** `ip link set`. @throws `ENODEV` */
  linkSet(netns: string, name: string, options: LinkSetOptions): Promise<void>;
  /** `ip link del`. @throws `ENODEV` */
  linkDel(netns: string, name: string): Promise<void>;
  /** `ip -d link show`. */
  linkList(netns: string): Promise<LinkInfo[]>;
  /** `ip -d link show dev NAME`: the one device (netlink's `LinkByName`), `undefined` when there is none. */
  linkGet(netns: string, name: string): Promise<LinkInfo | undefined>;

  /** `ip addr add CIDR dev DEV`: also installs the local and connected routes, as the kernel does. @throws `EEXIST`, `ENODEV` */
  addrAdd(netns: string, dev: string, cidr: string): Promise<void>;
  /** `ip addr del CIDR dev DEV`. @throws `EADDRNOTAVAIL` as `ENOENT` */
  addrDel(netns: string, dev: string, cidr: string): Promise<void>;
  /** `ip addr show`. */
  addrList(netns: string): Promise<AddressInfo[]>;

  /** `ip route add`. @throws `EEXIST`, `ENETUNREACH` (gateway not reachable), `ENODEV` */
  routeAdd(netns: string, route: RouteOptions): Promise<void>;
  /** `ip route replace`. */
  routeReplace(netns: string, route: RouteOptions): Promise<void>;
  /** `ip route del`. @throws `ENOENT` (the kernel's ESRCH) */
  routeDel(netns: string, route: RouteOptions): Promise<void>;
  /** `ip route show table all`. */
  routeList(netns: string): Promise<RouteInfo[]>;

  /** `ip neigh replace` (add or update). */
  neighReplace(netns: string, neigh: NeighOptions): Promise<void>;
  /** `ip neigh del`. @throws `ENOENT` */
  neighDel(netns: string, dst: string, dev: string): Promise<void>;
  /** `ip neigh show`. */
  neighList(netns: string): Promise<NeighInfo[]>;

  /** `bridge fdb append` (several vxlan remotes per MAC are allowed) or add. */
  fdbAdd(netns: string, entry: FdbOptions): Promise<void>;
  /** `bridge fdb del`. @throws `ENOENT` */
  fdbDel(netns: string, entry: FdbOptions): Promise<void>;
  /** `bridge fdb show`. */
  fdbList(netns: string): Promise<FdbInfo[]>;

  /** `sysctl -w KEY=VALUE` in the namespace (`net.ipv4.ip_forward`, `net.ipv4.conf.eth0.rp_filter`). @throws `ENOENT` */
  sysctlSet(netns: string, key: string, value: string): Promise<void>;
  /** `sysctl -n KEY`. @throws `ENOENT` */
  sysctlGet(netns: string, key: string): Promise<string>;

  /**
   * `iptables-restore [--noflush] < payload` in the namespace: atomic per table.
   * @throws `EINVAL` with iptables-restore's `line N failed` message.
   */
  iptablesRestore(netns: string, payload: string, options?: HostIptablesRestoreOptions): Promise<void>;
  /** `iptables-save [-t TABLE] [--counters]` in the namespace. */
  iptablesSave(netns: string, options?: HostIptablesSaveOptions): Promise<string>;
  /** `ipset restore [-exist] < payload` in the namespace. @throws `EINVAL` */
  ipsetRestore(netns: string, payload: string, options?: { readonly exist?: boolean }): Promise<void>;
  /** `ipset save` in the namespace. */
  ipsetSave(netns: string): Promise<string>;
  /** `conntrack -L` in the namespace (the entries, one per line, as conntrack prints them). */
  conntrackList(netns: string): Promise<string>;
}
