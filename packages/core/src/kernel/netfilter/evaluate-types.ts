import type {
  AddrType,
  CtStatus,
  NatRange,
  NetfilterTableName,
  NetfilterTarget,
  Reject6With,
  RejectWith,
} from './netfilter-types.js';
import type { Ipv6Words } from './ipv6-words.js';

/**
 * What the netfilter evaluator sees of a packet, and what the caller must tell it about the world.
 *
 * @remarks Linux equivalent: the `sk_buff` fields ip_tables reads (`ipt_do_table`,
 * `ip_packet_match`) plus the `xt_action_param` (in/out devices, hook).
 */

/**
 * The packet fields matches read. Addresses are unsigned 32-bit numbers for IPv4 (the default
 * `A`), {@link Ipv6Words} for IPv6 ({@link Ip6PacketView}).
 */
export interface PacketView<A extends number | Ipv6Words = number> {
  readonly src: A;
  readonly dst: A;
  /** IP protocol number (IPv6: the upper-layer protocol after the extension headers, as `ipv6_find_hdr` finds it). */
  readonly protocol: number;
  /** TCP/UDP/SCTP ports (absent for other protocols). */
  readonly sport?: number;
  readonly dport?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  /** TCP flags byte (FIN 0x01 … URG 0x20). */
  readonly tcpFlags?: number;
  /** TCP option kinds present. */
  readonly tcpOptions?: readonly number[];
  /** Input/output interface names; absent where the hook has none (`-i` never matches in OUTPUT). */
  readonly inIface?: string;
  readonly outIface?: string;
  /** Packet mark (`skb->mark`) on entry. */
  readonly mark: number;
  /** IP total length, for byte counters. */
  readonly length: number;
  /** True for a non-first fragment (fragment offset ≠ 0): port matches never match it. */
  readonly fragment: boolean;
  /** IP TTL, or the IPv6 hop limit (for `-m recent --rttl`). */
  readonly ttl?: number;
}

/**
 * An IPv6 packet as ip6tables matches read it: source and destination as {@link Ipv6Words};
 * `icmpType`/`icmpCode` are the ICMPv6 ones; `length` is the payload length plus 40.
 *
 * @remarks Linux equivalent: what `ip6t_do_table` and `ip6_packet_match` read from the skb.
 */
export type Ip6PacketView = PacketView<Ipv6Words>;

/** A conntrack tuple as the conntrack match reads it. */
export interface CtTuple {
  readonly src: number;
  readonly dst: number;
  readonly sport: number;
  readonly dport: number;
}

/** The packet's conntrack entry, as the caller's conntrack table reports it. */
export interface ConntrackView {
  /**
   * `NEW`, `ESTABLISHED`, `RELATED` for tracked packets; `UNTRACKED` after NOTRACK; `INVALID` when
   * conntrack could not track it.
   */
  readonly state: 'NEW' | 'ESTABLISHED' | 'RELATED' | 'UNTRACKED' | 'INVALID';
  /** Direction of this packet in the connection. Default `ORIGINAL`. */
  readonly direction?: 'ORIGINAL' | 'REPLY';
  /** Status bits set on the entry (`IPS_*`). */
  readonly status?: readonly CtStatus[];
  /** The entry has source NAT / destination NAT (`IPS_SRC_NAT`, `IPS_DST_NAT`). */
  readonly snat?: boolean;
  readonly dnat?: boolean;
  /** Layer-4 protocol of the entry. */
  readonly protocol?: number;
  readonly original?: CtTuple;
  readonly reply?: CtTuple;
  /** Seconds until the entry expires. */
  readonly expires?: number;
  /** The connection mark (`ct->mark`). */
  readonly mark?: number;
}

/** A rule that matched a packet. */
export interface MatchedRule {
  readonly table: NetfilterTableName;
  readonly chain: string;
  /** 1-based position in the chain (as `iptables -L --line-numbers`). */
  readonly ruleNumber: number;
  /** The rule's iptables-save text after `-A CHAIN `. */
  readonly spec: string;
  /** The whole iptables-save line, `-A CHAIN spec`. */
  readonly text: string;
  readonly target: NetfilterTarget;
}

/** How the caller answers `-m statistic --mode random`: true when the rule's draw matches. */
export type StatisticChooser = (probability: number, rule: { readonly table: NetfilterTableName; readonly chain: string; readonly ruleNumber: number }) => boolean;

/** What a match needs from the world beyond the packet. */
export interface EvaluateContext {
  /** knet clock in nanoseconds (recent lists, ipset timeouts). */
  readonly now: number;
  /**
   * `-m statistic --mode random`: returns whether the draw matches. A seeded RNG
   * (`rng.nextFloat() < p`) samples; an enumerator can explore both answers. Required when such a
   * rule is reached.
   */
  readonly choose?: StatisticChooser;
  /**
   * `-m addrtype`: the route type of `address` in this namespace (`inet_dev_addr_type`), limited
   * to the device `iface` when given. Required when such a rule is reached.
   */
  readonly addrType?: (address: number, iface: string | undefined) => AddrType;
  /**
   * `-m addrtype` in ip6tables: the route type of an IPv6 `address` in this namespace — `LOCAL`
   * for an address of the namespace (of `iface` when given), `UNREACHABLE` (or `PROHIBIT`,
   * `BLACKHOLE`) when the route rejects or there is none, `ANYCAST` for an anycast address,
   * else `UNICAST`. Required when such a rule is reached with `LOCAL`, `ANYCAST` or
   * `UNREACHABLE` asked for (the other types follow from the address itself).
   */
  readonly addrType6?: (address: Ipv6Words, iface: string | undefined) => AddrType;
  /** The packet's conntrack entry. Absent means conntrack has no entry: state INVALID. */
  readonly conntrack?: ConntrackView;
  /** Bridge ports of a bridged packet (br_netfilter); absent when the packet is not bridged. */
  readonly physdev?: { readonly physIn?: string; readonly physOut?: string };
  /**
   * When false, nothing is changed: rule and policy counters, `-m recent` lists, `--mode nth`
   * counters and set counters stay as they are (for what-if traces). Default true.
   */
  readonly sideEffects?: boolean;
}

/** A NAT binding a rule asked for; the caller sets it up through conntrack. */
export type NatRequest =
  | {
      readonly kind: 'DNAT' | 'SNAT';
      readonly range?: NatRange;
      readonly random: boolean;
      readonly randomFully: boolean;
      readonly persistent: boolean;
      readonly rule: MatchedRule;
    }
  | {
      readonly kind: 'MASQUERADE' | 'REDIRECT';
      readonly minPort?: number;
      readonly maxPort?: number;
      readonly random: boolean;
      readonly randomFully: boolean;
      readonly rule: MatchedRule;
    };

/** A `-j LOG` or `-j NFLOG` record. */
export interface LogRecord {
  readonly kind: 'LOG' | 'NFLOG';
  readonly prefix: string;
  /** Syslog level (LOG) or netlink group (NFLOG). */
  readonly level: number;
  readonly rule: MatchedRule;
}

/** A mark change by `-j MARK` or `-j CONNMARK --restore-mark`. */
export interface MarkChange {
  readonly from: number;
  readonly to: number;
  readonly rule: MatchedRule;
}

/** The result of walking one chain. */
export interface ChainEvaluation {
  /**
   * `ACCEPT`, `DROP` or `REJECT` (a DROP that also sends `reject`); `CONTINUE` when a user chain
   * evaluated on its own ran to its end or RETURNed. NAT targets end the walk with `ACCEPT`.
   */
  readonly verdict: 'ACCEPT' | 'DROP' | 'REJECT' | 'CONTINUE';
  /** How an IPv4 REJECT answers. */
  readonly reject?: RejectWith;
  /** How an IPv6 (ip6tables) REJECT answers. */
  readonly reject6?: Reject6With;
  /** The rule whose target decided the verdict; absent when the chain policy (or the end) did. */
  readonly decidedBy?: MatchedRule;
  /** True when a built-in chain's policy decided. */
  readonly policy: boolean;
  /** Every rule that matched, in order (jumps, marks and logs included). */
  readonly matched: readonly MatchedRule[];
  /** How many rules were examined (the work done). */
  readonly traversed: number;
  /** The packet mark after the walk. */
  readonly mark: number;
  readonly markChanges: readonly MarkChange[];
  readonly nat?: NatRequest;
  readonly logs: readonly LogRecord[];
  /** `-j NOTRACK` / `-j CT --notrack` was hit. */
  readonly notrack: boolean;
  /** New connection mark when `-j CONNMARK` set or saved it. */
  readonly connmark?: number;
}
