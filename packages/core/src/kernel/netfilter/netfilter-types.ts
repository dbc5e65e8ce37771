/**
 * Netfilter (iptables) as plain data: tables → chains → rules → matches + target.
 *
 * @remarks
 * Linux equivalent: the x_tables blobs of `ip_tables` (struct ipt_entry, xt_entry_match,
 * xt_entry_target) as iptables-save renders them. Every rule keeps both its parsed form (for
 * evaluation) and the canonical text iptables-save prints for it (for exact printing).
 * @see iptables(8), iptables-extensions(8), include/uapi/linux/netfilter_ipv4/ip_tables.h
 */

import type { Ipv6Words } from './ipv6-words.js';

/**
 * The address family of a namespace's netfilter tables: `ipv4` (iptables, `NFPROTO_IPV4`) or
 * `ipv6` (ip6tables, `NFPROTO_IPV6`). Each family has its own tables, chains and rules.
 */
export type NetfilterFamily = 'ipv4' | 'ipv6';

/** The netfilter tables (the same names for both families). `security` is parsed and printed but never evaluated by knet. */
export type NetfilterTableName = 'raw' | 'mangle' | 'nat' | 'filter' | 'security';

/** The netfilter hooks, named as iptables names the built-in chains. */
export type NetfilterHook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

/**
 * The built-in chains of each table, in the order iptables-save prints them (hook order).
 *
 * @remarks Linux equivalent: the `valid_hooks` of iptable_raw.c, iptable_mangle.c, iptable_nat.c,
 * iptable_filter.c and iptable_security.c.
 */
export const TABLE_BUILTIN_CHAINS: Readonly<Record<NetfilterTableName, readonly NetfilterHook[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** All table names, in the kernel's hook priority order (raw −300 … security 50). */
export const NETFILTER_TABLES: readonly NetfilterTableName[] = ['raw', 'mangle', 'nat', 'filter', 'security'];

/** Policy of a built-in chain. */
export type ChainPolicy = 'ACCEPT' | 'DROP';

/** Packet and byte counters of a rule or a built-in chain (mutable: the evaluator bumps them). */
export interface Counters {
  packets: number;
  bytes: number;
}

/** An IPv4 address with a netmask, as `-s`/`-d` take it (the mask need not be contiguous). */
export interface AddressMask {
  /** Network address (already masked), unsigned 32-bit. */
  readonly address: number;
  /** Netmask, unsigned 32-bit. */
  readonly mask: number;
}

/** An IPv6 address with a netmask, as ip6tables' `-s`/`-d` take it (the mask need not be contiguous). */
export interface Ipv6AddressMask {
  /** Network address (already masked). */
  readonly address: Ipv6Words;
  readonly mask: Ipv6Words;
}

/**
 * The part of a rule that lives in `struct ipt_ip` (`struct ip6t_ip6` for ip6tables):
 * addresses, interfaces, protocol, fragments. An IPv4 rule uses `src`/`dst`, an IPv6 rule
 * `src6`/`dst6`; the inversion flags serve both.
 */
export interface IpHeaderMatch {
  readonly src?: AddressMask;
  readonly srcInvert: boolean;
  readonly dst?: AddressMask;
  readonly dstInvert: boolean;
  /** ip6tables `-s`: absent in IPv4 rules. */
  readonly src6?: Ipv6AddressMask;
  /** ip6tables `-d`: absent in IPv4 rules. */
  readonly dst6?: Ipv6AddressMask;
  /** Input interface; a trailing `+` is a prefix wildcard. */
  readonly inIface?: string;
  readonly inIfaceInvert: boolean;
  readonly outIface?: string;
  readonly outIfaceInvert: boolean;
  /** IP protocol number; absent (or 0) means any. */
  readonly protocol?: number;
  readonly protocolInvert: boolean;
  /** `-f` (second and further fragments), `! -f` (head fragments and unfragmented packets). IPv4 only. */
  readonly fragment?: 'fragment' | 'not-fragment';
}

/** An inclusive port range `min:max` (`min === max` for a single port). */
export interface PortRange {
  readonly min: number;
  readonly max: number;
  readonly invert: boolean;
}

/** `-m tcp`. */
export interface TcpMatch {
  readonly kind: 'tcp';
  readonly sport?: PortRange;
  readonly dport?: PortRange;
  /** `--tcp-flags mask comp` (`--syn` is `SYN,RST,ACK,FIN SYN`). Bits as TCP_* from packet/types. */
  readonly flags?: { readonly mask: number; readonly comp: number; readonly invert: boolean };
  /** `--tcp-option N`. */
  readonly option?: { readonly option: number; readonly invert: boolean };
}

/** `-m udp`. */
export interface UdpMatch {
  readonly kind: 'udp';
  readonly sport?: PortRange;
  readonly dport?: PortRange;
}

/** `-m sctp` (ports only). */
export interface SctpMatch {
  readonly kind: 'sctp';
  readonly sport?: PortRange;
  readonly dport?: PortRange;
}

/** `-m icmp --icmp-type`: `type` 255 means `any`; codes are an inclusive range. */
export interface IcmpMatch {
  readonly kind: 'icmp';
  readonly type: number;
  readonly codeMin: number;
  readonly codeMax: number;
  readonly invert: boolean;
}

/** `-m icmp6 --icmpv6-type` (ip6tables): codes are an inclusive range. */
export interface Icmp6Match {
  readonly kind: 'icmp6';
  readonly type: number;
  readonly codeMin: number;
  readonly codeMax: number;
  readonly invert: boolean;
}

/** `-m comment --comment`. Never affects matching. */
export interface CommentMatch {
  readonly kind: 'comment';
  readonly comment: string;
}

/** `-m mark --mark value[/mask]`: `(mark & mask) === value`. */
export interface MarkMatch {
  readonly kind: 'mark';
  readonly value: number;
  readonly mask: number;
  readonly invert: boolean;
}

/** Mutable per-rule state of `-m statistic --mode nth` (xt_statistic's `master->count`). */
export interface StatisticNthState {
  count: number;
}

/** `-m statistic`. */
export type StatisticMatch =
  | {
      readonly kind: 'statistic';
      readonly mode: 'random';
      /** The kernel's fixed-point probability: `lround(p · 2^31)`, matched as `(rand & 0x7fffffff) < value`. */
      readonly probability: number;
      readonly invert: boolean;
    }
  | {
      readonly kind: 'statistic';
      readonly mode: 'nth';
      readonly every: number;
      readonly packet: number;
      readonly invert: boolean;
      readonly state: StatisticNthState;
    };

/** The command of an `-m recent` match. */
export type RecentCommand = 'set' | 'rcheck' | 'update' | 'remove';

/** `-m recent`. */
export interface RecentMatch {
  readonly kind: 'recent';
  readonly command: RecentCommand;
  readonly invert: boolean;
  /** List name, `DEFAULT` when not given. */
  readonly name: string;
  /** `--rsource` (source address, default) or `--rdest`. */
  readonly side: 'source' | 'dest';
  /** `--mask`, default 255.255.255.255 (IPv4 rules). */
  readonly mask: number;
  /** `--mask` of an ip6tables rule, default all ones; absent in IPv4 rules. */
  readonly mask6?: Ipv6Words;
  /** `--seconds`, 0 when absent. */
  readonly seconds: number;
  readonly reap: boolean;
  /** `--hitcount`, 0 when absent. */
  readonly hitcount: number;
  readonly rttl: boolean;
}

/** Address types of `-m addrtype` (RTN_* names). */
export type AddrType =
  | 'UNSPEC'
  | 'UNICAST'
  | 'LOCAL'
  | 'BROADCAST'
  | 'ANYCAST'
  | 'MULTICAST'
  | 'BLACKHOLE'
  | 'UNREACHABLE'
  | 'PROHIBIT'
  | 'THROW'
  | 'NAT'
  | 'XRESOLVE';

/** `-m addrtype` (revision 1). */
export interface AddrtypeMatch {
  readonly kind: 'addrtype';
  readonly srcTypes?: readonly AddrType[];
  readonly srcInvert: boolean;
  readonly dstTypes?: readonly AddrType[];
  readonly dstInvert: boolean;
  readonly limitIfaceIn: boolean;
  readonly limitIfaceOut: boolean;
}

/** Connection tracking states as `--ctstate` names them. */
export type CtState = 'INVALID' | 'NEW' | 'RELATED' | 'ESTABLISHED' | 'UNTRACKED' | 'SNAT' | 'DNAT';

/** Conntrack status bits as `--ctstatus` names them. */
export type CtStatus = 'EXPECTED' | 'SEEN_REPLY' | 'ASSURED' | 'CONFIRMED';

/** `-m conntrack` (revision 3 fields that iptables-save prints). */
export interface ConntrackMatch {
  readonly kind: 'conntrack';
  readonly state?: { readonly states: readonly CtState[]; readonly invert: boolean };
  readonly proto?: { readonly protocol: number; readonly invert: boolean };
  readonly origSrc?: AddressMask & { readonly invert: boolean };
  readonly origDst?: AddressMask & { readonly invert: boolean };
  readonly replSrc?: AddressMask & { readonly invert: boolean };
  readonly replDst?: AddressMask & { readonly invert: boolean };
  readonly origSrcPort?: PortRange;
  readonly origDstPort?: PortRange;
  readonly replSrcPort?: PortRange;
  readonly replDstPort?: PortRange;
  readonly status?: { readonly statuses: readonly CtStatus[]; readonly invert: boolean };
  readonly expire?: { readonly min: number; readonly max: number; readonly invert: boolean };
  readonly dir?: 'ORIGINAL' | 'REPLY';
}

/** `-m state --state` (the old conntrack state match). */
export interface StateMatch {
  readonly kind: 'state';
  readonly states: readonly CtState[];
  readonly invert: boolean;
}

/** `-m set --match-set NAME src,dst,...`. */
export interface SetMatch {
  readonly kind: 'set';
  readonly name: string;
  /** One direction per set dimension. */
  readonly dirs: readonly ('src' | 'dst')[];
  readonly invert: boolean;
  /** `--return-nomatch`. */
  readonly returnNomatch: boolean;
  /** `! --update-counters`. */
  readonly noUpdateCounters: boolean;
  /** `! --update-subcounters`. */
  readonly noUpdateSubcounters: boolean;
}

/** `-m physdev` (bridge ports of a bridged packet, br_netfilter). */
export interface PhysdevMatch {
  readonly kind: 'physdev';
  readonly physdevIn?: { readonly name: string; readonly invert: boolean };
  readonly physdevOut?: { readonly name: string; readonly invert: boolean };
  readonly isIn?: { readonly invert: boolean };
  readonly isOut?: { readonly invert: boolean };
  readonly isBridged?: { readonly invert: boolean };
}

/** `-m multiport --sports|--dports|--ports` (revision 1, ranges allowed). */
export interface MultiportMatch {
  readonly kind: 'multiport';
  readonly which: 'sports' | 'dports' | 'ports';
  readonly ports: readonly { readonly min: number; readonly max: number }[];
  readonly invert: boolean;
}

/** `-m nfacct --nfacct-name` (accounting only; always matches). */
export interface NfacctMatch {
  readonly kind: 'nfacct';
  readonly name: string;
}

/** One `-m` match module of a rule, discriminated by `kind` (the module name). */
export type NetfilterMatch =
  | TcpMatch
  | UdpMatch
  | SctpMatch
  | IcmpMatch
  | Icmp6Match
  | CommentMatch
  | MarkMatch
  | StatisticMatch
  | RecentMatch
  | AddrtypeMatch
  | ConntrackMatch
  | StateMatch
  | SetMatch
  | PhysdevMatch
  | MultiportMatch
  | NfacctMatch;

/** The `--reject-with` types of the IPv4 REJECT target. */
export type RejectWith =
  | 'icmp-net-unreachable'
  | 'icmp-host-unreachable'
  | 'icmp-port-unreachable'
  | 'icmp-proto-unreachable'
  | 'icmp-net-prohibited'
  | 'icmp-host-prohibited'
  | 'icmp-admin-prohibited'
  | 'tcp-reset';

/**
 * The `--reject-with` types of the IPv6 REJECT target (ip6t_REJECT), as ip6tables-save prints
 * them.
 */
export type Reject6With =
  | 'icmp6-no-route'
  | 'icmp6-adm-prohibited'
  | 'icmp6-addr-unreachable'
  | 'icmp6-port-unreachable'
  | 'tcp-reset'
  | 'icmp6-policy-fail'
  | 'icmp6-reject-route';

/**
 * An address/port range of a NAT target (`--to-destination 10.0.0.1-10.0.0.2:80-81`, or
 * `[fd00::1]:80` in ip6tables). Absent addresses mean "keep the address" (port-only range).
 */
export interface NatRange {
  readonly minIp?: number;
  readonly maxIp?: number;
  /** IPv6 range of an ip6tables rule (instead of `minIp`/`maxIp`). */
  readonly minIp6?: Ipv6Words;
  readonly maxIp6?: Ipv6Words;
  readonly minPort?: number;
  readonly maxPort?: number;
  /** `:min-max/base` (DNAT revision 2, `NF_NAT_RANGE_PROTO_OFFSET`): the port mapped to `minPort`. */
  readonly basePort?: number;
}

/** The target of a rule, discriminated by `kind`. */
export type NetfilterTarget =
  | { readonly kind: 'none' }
  | { readonly kind: 'ACCEPT' }
  | { readonly kind: 'DROP' }
  | { readonly kind: 'RETURN' }
  | { readonly kind: 'jump'; readonly chain: string }
  | { readonly kind: 'goto'; readonly chain: string }
  | {
      readonly kind: 'REJECT';
      /** An IPv4 type in iptables rules, an IPv6 type in ip6tables rules (`tcp-reset` is both). */
      readonly with: RejectWith | Reject6With;
    }
  | {
      readonly kind: 'DNAT';
      readonly range?: NatRange;
      readonly random: boolean;
      readonly persistent: boolean;
    }
  | {
      readonly kind: 'SNAT';
      readonly range?: NatRange;
      readonly random: boolean;
      readonly randomFully: boolean;
      readonly persistent: boolean;
    }
  | {
      readonly kind: 'MASQUERADE';
      readonly minPort?: number;
      readonly maxPort?: number;
      /** `--to-ports min-max/base` sets the offset flag; MASQUERADE keeps no base, so it is 0. */
      readonly basePort?: number;
      readonly random: boolean;
      readonly randomFully: boolean;
    }
  | {
      /** `--to-ports` redirect to the local machine. */
      readonly kind: 'REDIRECT';
      readonly minPort?: number;
      readonly maxPort?: number;
      readonly random: boolean;
    }
  | {
      /** MARK revision 2: `mark = (mark & ~mask) ^ value` (`--set-xmark value/mask`). */
      readonly kind: 'MARK';
      readonly value: number;
      readonly mask: number;
    }
  | {
      readonly kind: 'LOG';
      /** Syslog level, default 4 (warning). */
      readonly level: number;
      /** Empty when not given. */
      readonly prefix: string;
      /** XT_LOG_* flags: 1 tcp-sequence, 2 tcp-options, 4 ip-options, 8 uid, 0x20 macdecode. */
      readonly flags: number;
    }
  | {
      readonly kind: 'NFLOG';
      readonly group: number;
      /** Empty when not given. */
      readonly prefix: string;
      /** `--nflog-size` (copy length) or the obsolete `--nflog-range`. */
      readonly size?: number;
      readonly range?: number;
      /** Default 1. */
      readonly threshold: number;
    }
  | { readonly kind: 'CT'; readonly notrack: true }
  | { readonly kind: 'NOTRACK' }
  | {
      /**
       * CONNMARK revision 1. `set`: ctmark = (ctmark & ~ctmask) ^ ctmark-value; `save`: ctmark =
       * (ctmark & ~ctmask) ^ (mark & nfmask); `restore`: mark = (mark & ~nfmask) ^ (ctmark & ctmask).
       */
      readonly kind: 'CONNMARK';
      readonly mode: 'set' | 'save' | 'restore';
      readonly ctmark: number;
      readonly ctmask: number;
      readonly nfmask: number;
    };

/** One rule: parsed matches and target, its canonical iptables-save text, and its counters. */
export interface NetfilterRule {
  readonly ip: IpHeaderMatch;
  /** Match modules in the order iptables-save prints them. */
  readonly matches: readonly NetfilterMatch[];
  readonly target: NetfilterTarget;
  /** Canonical rule text as iptables-save prints it after `-A <chain> `. */
  readonly spec: string;
  readonly counters: Counters;
}

/** A chain: built-in (with a policy) or user-defined. */
export interface NetfilterChain {
  readonly name: string;
  /** `null` for user chains (`-` in iptables-save). */
  policy: ChainPolicy | null;
  /** Policy counters of a built-in chain; user chains print `[0:0]`. */
  readonly counters: Counters;
  /**
   * The rules in order. Once a table is committed, change a chain by assigning a new array (as
   * applyIptablesRestore does): the evaluator caches a destination index per array.
   */
  rules: NetfilterRule[];
}

/** One table of one namespace. Chains are kept by name; printing orders them as iptables-save does. */
export interface NetfilterTable {
  readonly name: NetfilterTableName;
  readonly chains: Map<string, NetfilterChain>;
}
