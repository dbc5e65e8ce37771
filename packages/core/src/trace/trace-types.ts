import type { Mac } from '../ip/mac.js';
import type { NeighState, RouteInfo } from '../host/types.js';
import type { EthernetFrame, Ipv4Packet } from '../packet/types.js';

/**
 * Why a packet stopped, from a closed kebab-case set.
 *
 * - `no-route`: no route to the destination (ENETUNREACH / ICMP net unreachable).
 * - `neigh-failed`: ARP for the next hop got no answer (ICMP host unreachable).
 * - `netfilter-drop`: a netfilter rule dropped it. `policy-deny`: a network policy denied it.
 * - `ttl-exceeded`: TTL ran out while forwarding. `malformed`: bad bytes.
 * - `forwarding-disabled`: the packet needed forwarding and `ip_forward` is 0.
 * - `rp-filter`: reverse-path filtering. `martian`: an impossible source address.
 * - `link-down`: the output device is down or has no carrier.
 * - `mtu-exceeded`: larger than the path MTU with DF set. `fragmentation-unsupported`: the
 *   packet would be fragmented, which knet does not model yet.
 * - `hairpin-denied`: the bridge would send the frame back out the port it came in on, and
 *   hairpin mode is off on that port.
 * - `blackhole`, `unreachable-route`, `prohibit`: the matching route has that type.
 * - `not-for-host`: the frame was not addressed to this host (a flooded copy).
 * - `loop`: the simulation stopped a forwarding loop.
 * - `device-discard`: the device discards everything (dummy).
 * - `netfilter-reject`: a `-j REJECT` rule refused it (an ICMP error or TCP reset goes back).
 */
export type DropReason =
  | 'no-route'
  | 'neigh-failed'
  | 'netfilter-drop'
  | 'policy-deny'
  | 'ttl-exceeded'
  | 'malformed'
  | 'forwarding-disabled'
  | 'rp-filter'
  | 'martian'
  | 'link-down'
  | 'mtu-exceeded'
  | 'fragmentation-unsupported'
  | 'hairpin-denied'
  | 'blackhole'
  | 'unreachable-route'
  | 'prohibit'
  | 'not-for-host'
  | 'loop'
  | 'device-discard'
  | 'netfilter-reject';

/** Which packet of the exchange a hop belongs to. */
export type TraceFlow = 'request' | 'reply' | 'arp' | 'icmp-error';

/** What happened at a hop, from a closed kebab-case set. */
export type HopStep =
  | 'send'
  | 'route'
  | 'neigh'
  | 'arp-request'
  | 'arp-reply'
  | 'xmit'
  | 'receive'
  | 'bridge-learn'
  | 'bridge-forward'
  | 'bridge-flood'
  | 'bridge-local'
  | 'forward'
  | 'deliver'
  | 'refuse'
  | 'drop'
  | 'leave'
  | 'netfilter'
  | 'conntrack'
  | 'nat'
  | 'reject'
  | 'encap'
  | 'decap'
  | 'policy';

/** Structured reason of a hop, for machines. */
export type HopDetail =
  | { readonly kind: 'route'; readonly table: RouteInfo['table']; readonly route: RouteInfo; readonly text: string }
  | {
      readonly kind: 'neigh';
      readonly ip: string;
      readonly lladdr?: Mac;
      readonly state: NeighState;
      /** `hit`: a usable entry; `miss`: none, resolution started; `queued`: waiting for ARP; `learned`: created or updated from ARP. */
      readonly action: 'hit' | 'miss' | 'queued' | 'learned';
    }
  | {
      readonly kind: 'fdb';
      readonly mac: Mac;
      readonly bridge: string;
      readonly port?: string;
      readonly action: 'learned' | 'forward' | 'flood' | 'local' | 'hairpin';
      /** For floods: the ports the frame went out of. */
      readonly ports?: readonly string[];
    }
  | { readonly kind: 'socket'; readonly proto: 'tcp' | 'udp' | 'icmp'; readonly address: string; readonly port?: number; readonly owner: string }
  | { readonly kind: 'forward'; readonly ttlBefore: number; readonly ttlAfter: number }
  | { readonly kind: 'drop'; readonly reason: DropReason }
  | {
      readonly kind: 'netfilter';
      readonly table: 'raw' | 'mangle' | 'nat' | 'filter' | 'security';
      readonly hook: 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';
      /** `ACCEPT`, `DROP`, `REJECT`, `CONTINUE`, or the NAT target that ended the walk. */
      readonly verdict: string;
      /** True when the built-in chain's policy decided. */
      readonly policy: boolean;
      /** Every rule that matched, in order: chain, 1-based rule number, iptables-save text. */
      readonly rules: readonly { readonly chain: string; readonly ruleNumber: number; readonly text: string }[];
      /** Rules examined. */
      readonly traversed: number;
    }
  | {
      readonly kind: 'conntrack';
      readonly state: 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';
      readonly direction: 'ORIGINAL' | 'REPLY';
      readonly original?: string;
      readonly reply?: string;
    }
  | {
      readonly kind: 'policy';
      /** What the NetworkPolicies (and AdminNetworkPolicies) say about opening this connection. */
      readonly allowed: boolean;
      /** Whether the CNI enforces NetworkPolicy; when not, the dataplane ignores the answer. */
      readonly enforced: boolean;
      readonly port: number;
      readonly protocol: 'TCP' | 'UDP' | 'SCTP';
      /** The tier that decided each side (`network-policy`, `admin`, `baseline`, `default`, ...). */
      readonly egress: string;
      readonly ingress: string;
      /** `knet reach --explain`'s text for the connection. */
      readonly explanation: string;
    }
  | {
      readonly kind: 'vxlan';
      readonly vni: number;
      /** The local VTEP address. */
      readonly local: string;
      /** The remote VTEP address. */
      readonly remote: string;
      /** UDP destination port (8472 for Linux's default, 4789 IANA). */
      readonly port: number;
    }
  | {
      readonly kind: 'nat';
      readonly manip: 'DNAT' | 'SNAT';
      /** True for the reverse translation applied to a reply. */
      readonly reverse: boolean;
      readonly hook: 'PREROUTING' | 'INPUT' | 'OUTPUT' | 'POSTROUTING';
      readonly before: string;
      readonly after: string;
    };

/** One step of a packet through the model. */
export interface TraceHop {
  /** Position in the trace (0-based). */
  readonly index: number;
  /** Nanoseconds since the trace started. */
  readonly time: number;
  readonly flow: TraceFlow;
  /** The Kubernetes node the namespace belongs to. */
  readonly node?: string;
  /** The network namespace. */
  readonly netns: string;
  /** `namespace/name` of the pod when the namespace is a pod sandbox. */
  readonly pod?: string;
  /** The device involved. */
  readonly dev?: string;
  readonly step: HopStep;
  /** One line saying what decided (the route, the neighbour entry, the FDB entry, ...). */
  readonly decision: string;
  readonly detail?: HopDetail;
  /** The packet at this point, tcpdump style. */
  readonly packet: string;
  /** Index into {@link TraceResult.frames} of the frame seen on the wire at this hop. */
  readonly frame?: number;
}

/** A frame as a capture on one device saw it. */
export interface CapturedFrame {
  /** Nanoseconds since the trace started. */
  readonly time: number;
  readonly netns: string;
  readonly node?: string;
  readonly pod?: string;
  readonly dev: string;
  /** `out` when the device sent it, `in` when it received it. */
  readonly direction: 'in' | 'out';
  /** `ether` for Ethernet devices, `raw` for L3 devices (tun). */
  readonly linktype: 'ether' | 'raw';
  readonly frame: EthernetFrame | Ipv4Packet;
}

/** How the traced packet (or its reply) ended. */
export interface TraceVerdict {
  /**
   * `delivered`: a socket (or the kernel's ICMP echo) received it; `refused`: the host received
   * it but nothing listens (TCP RST / ICMP port unreachable follows); `dropped`: see `reason`;
   * `left-cluster`: it went out of the fabric's uplink; `rejected`: a netfilter REJECT refused it.
   */
  readonly kind: 'delivered' | 'refused' | 'dropped' | 'rejected' | 'left-cluster';
  readonly reason?: DropReason;
  /** For netfilter drops and rejects: the deciding rule, as iptables-save prints it. */
  readonly rule?: string;
  readonly netns?: string;
  readonly node?: string;
  readonly pod?: string;
  readonly dev?: string;
  /** For `delivered`: who got it (`container cart`, `kernel (ICMP echo)`). */
  readonly socket?: string;
}

/** One `-m statistic --mode random` draw a trace made. */
export interface TraceDecision {
  /** The rule's probability of matching. */
  readonly probability: number;
  /** Whether the draw matched. */
  readonly taken: boolean;
  readonly table: string;
  readonly chain: string;
  readonly ruleNumber: number;
}

/**
 * One possible fate of the traced packet, in kube-proxy's terms (`knet trace -o json` lists them
 * in `outcomes`; with `--all-paths` one per path).
 */
export interface TraceOutcome {
  /** `IP:PORT` the request was DNATed to, or `null` when no DNAT happened. */
  readonly endpoint: string | null;
  /**
   * `delivered` (translated, and a host took it), `accepted` (translated, went on without being
   * delivered), `dropped`, `rejected`, or `untouched` (no NAT rule changed it).
   */
  readonly verdict: 'delivered' | 'accepted' | 'dropped' | 'rejected' | 'untouched';
  /** True when the request was source-NATed (MASQUERADE / SNAT) on its way. */
  readonly masqueraded: boolean;
  /** Product of the path's statistic draws (1 without any). */
  readonly probability: number;
  /** Indexes into `hops` of the request's hops on this path. */
  readonly hops: readonly number[];
}

/** The result of tracing one packet (and its reply). */
export interface TraceResult {
  readonly request: {
    readonly proto: 'tcp' | 'udp' | 'icmp';
    readonly src: string;
    readonly dst: string;
    readonly sport?: number;
    readonly dport?: number;
    /** The source namespace. */
    readonly netns: string;
    /** The node the packet entered the cluster at (`--at`). */
    readonly at?: string;
  };
  /** The statistic draws the rules made on this path, in order. */
  readonly decisions: readonly TraceDecision[];
  /** What this path amounts to. */
  readonly outcome: TraceOutcome;
  readonly verdict: TraceVerdict;
  /** How the reply ended, when the request was delivered or refused and replies were traced. */
  readonly reply?: TraceVerdict;
  readonly hops: readonly TraceHop[];
  readonly frames: readonly CapturedFrame[];
}
