import type { Mac } from '../ip/mac.js';

/**
 * Netlink-shaped records read back from a host. Field names follow what `ip -j` prints
 * where it has one, so that formatters can print iproute2's output directly.
 */

/** Link kinds knet models. `device` is a physical NIC (the fabric side of a node). */
export type LinkKind = 'loopback' | 'veth' | 'bridge' | 'vxlan' | 'dummy' | 'tun' | 'device';

/** RFC 2863 operational state as `ip link` prints it. */
export type OperState = 'UP' | 'DOWN' | 'UNKNOWN' | 'LOWERLAYERDOWN';

/** Per-port bridge settings (`bridge link`/`ip -d link` `bridge_slave`). @see linux net/bridge/br_if.c */
export interface BridgePortInfo {
  readonly hairpin: boolean;
  readonly learning: boolean;
  readonly flood: boolean;
  readonly isolated: boolean;
}

/** VXLAN device settings. @see linux Documentation/networking/vxlan.rst; ip-link(8) */
export interface VxlanInfo {
  readonly id: number;
  /** Local VTEP address (dotted quad). */
  readonly local?: string;
  /** Underlay device name. */
  readonly dev?: string;
  /** UDP destination port; the Linux default is 8472. */
  readonly port: number;
  readonly learning: boolean;
  /** Multicast group for BUM traffic, if any. */
  readonly group?: string;
}

/** One link as `ip -d -j link show` describes it. */
export interface LinkInfo {
  readonly ifindex: number;
  readonly name: string;
  readonly kind: LinkKind;
  readonly mac: Mac;
  readonly mtu: number;
  /** IFF_UP: administratively up. */
  readonly up: boolean;
  readonly operstate: OperState;
  /** Carrier present (IFF_LOWER_UP). */
  readonly lowerUp: boolean;
  readonly promisc: boolean;
  /** IFF_NOARP (tun, ipip). */
  readonly noarp: boolean;
  /** The bridge this link is enslaved to. */
  readonly master?: string;
  /** veth: the peer's ifindex and, when it lives in another namespace, that namespace's name. */
  readonly peer?: { readonly ifindex: number; readonly netns?: string };
  readonly bridgePort?: BridgePortInfo;
  readonly vxlan?: VxlanInfo;
  /** TUN/TAP mode. */
  readonly tunMode?: 'tun' | 'tap';
  /** Bridge: FDB ageing time in seconds (default 300). */
  readonly ageingTime?: number;
  /** Transmit queue length as ip link prints it (`qlen`). */
  readonly txqlen: number;
}

/** Address scopes. @see rtnetlink(7) rt_scope */
export type Scope = 'global' | 'site' | 'link' | 'host' | 'nowhere';

/** One IPv4 address as `ip -j addr` lists it. */
export interface AddressInfo {
  readonly ifindex: number;
  readonly dev: string;
  readonly family: 'inet';
  /** The address, dotted quad. */
  readonly local: string;
  readonly prefixlen: number;
  readonly broadcast?: string;
  readonly scope: Scope;
  /** The label (`eth0`, or `eth0:1`). */
  readonly label: string;
}

/** Route types. @see rtnetlink(7) rtm_type */
export type RouteType = 'unicast' | 'local' | 'broadcast' | 'blackhole' | 'unreachable' | 'prohibit';

/** Routing protocol (who installed the route): a name iproute2 knows or a number. */
export type RouteProto = 'kernel' | 'boot' | 'static' | 'bird' | number;

/** One route as `ip -j route show table all` lists it. */
export interface RouteInfo {
  readonly type: RouteType;
  /** `default` or `a.b.c.d/len` (`a.b.c.d` for /32, as ip prints it). */
  readonly dst: string;
  /** Table: `main` (254), `local` (255), `default` (253) or a number. */
  readonly table: 'main' | 'local' | 'default' | number;
  readonly dev?: string;
  readonly gateway?: string;
  readonly prefsrc?: string;
  readonly metric?: number;
  readonly scope: Scope;
  readonly protocol: RouteProto;
  readonly onlink: boolean;
  /** Route MTU lock/metric, when set. */
  readonly mtu?: number;
}

/** Neighbour states. @see rtnetlink(7) NUD_*; ip-neighbour(8) */
export type NeighState =
  | 'PERMANENT'
  | 'NOARP'
  | 'REACHABLE'
  | 'STALE'
  | 'DELAY'
  | 'PROBE'
  | 'INCOMPLETE'
  | 'FAILED';

/** One neighbour entry as `ip -j neigh` lists it. */
export interface NeighInfo {
  readonly dst: string;
  readonly dev: string;
  readonly lladdr?: Mac;
  readonly state: NeighState;
  readonly router: boolean;
}

/** One forwarding database entry as `bridge -j fdb` lists it. */
export interface FdbInfo {
  readonly mac: Mac;
  /** The port (or the vxlan device) the entry points at. */
  readonly dev: string;
  /** The bridge, for entries in a bridge's FDB. */
  readonly master?: string;
  /** VXLAN remote (dotted quad) for `self` entries on a vxlan device. */
  readonly dst?: string;
  readonly vlan?: number;
  /** `permanent` (local or static entries) or `learned` (from traffic; ages out). */
  readonly state: 'permanent' | 'static' | 'learned';
  /** `self`: the entry is in the device's own table (vxlan), not a bridge's. */
  readonly self: boolean;
  /** Seconds since the entry was last refreshed, for learned entries. */
  readonly updated?: number;
}

/** Metadata a namespace carries in knet (what it stands for in the cluster). */
export interface NetnsMeta {
  /** The Kubernetes node this namespace belongs to (the node's own namespace included). */
  readonly node?: string;
  /** `namespace/name` of the pod whose sandbox this namespace is. */
  readonly pod?: string;
  /** What the namespace is: a node's host namespace, a pod sandbox, or the fabric. */
  readonly role: 'node' | 'pod' | 'fabric' | 'external';
}
