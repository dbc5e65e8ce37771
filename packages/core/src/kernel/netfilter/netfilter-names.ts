import type { AddrType, CtState, CtStatus, Reject6With, RejectWith } from './netfilter-types.js';

/**
 * Names iptables and ipset translate to numbers: IP protocols, ICMP types, services, REJECT
 * types, address types, conntrack states, TCP flags.
 *
 * @remarks
 * Linux equivalent: `/etc/protocols` and `/etc/services` as shipped by Debian netbase 6.4 (iptables
 * resolves names with getprotobyname(3)/getservbyname(3)), and the tables compiled into
 * iptables 1.8.9 (libxt_icmp.c, libxt_REJECT.c, libxt_addrtype.c, libxt_conntrack.c, libxt_tcp.c)
 * and ipset 7.17 (lib/icmp.c).
 * @see https://git.netfilter.org/iptables/tree/extensions
 */

/** `/etc/protocols` (netbase 6.4): number → official name, as getprotobynumber(3) returns it. */
export const PROTOCOL_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'ip'], [1, 'icmp'], [2, 'igmp'], [3, 'ggp'], [4, 'ipencap'], [5, 'st'], [6, 'tcp'], [8, 'egp'],
  [9, 'igp'], [12, 'pup'], [17, 'udp'], [20, 'hmp'], [22, 'xns-idp'], [27, 'rdp'], [29, 'iso-tp4'],
  [33, 'dccp'], [36, 'xtp'], [37, 'ddp'], [38, 'idpr-cmtp'], [41, 'ipv6'], [43, 'ipv6-route'],
  [44, 'ipv6-frag'], [45, 'idrp'], [46, 'rsvp'], [47, 'gre'], [50, 'esp'], [51, 'ah'], [57, 'skip'],
  [58, 'ipv6-icmp'], [59, 'ipv6-nonxt'], [60, 'ipv6-opts'], [73, 'rspf'], [81, 'vmtp'], [88, 'eigrp'],
  [89, 'ospf'], [93, 'ax.25'], [94, 'ipip'], [97, 'etherip'], [98, 'encap'], [103, 'pim'], [108, 'ipcomp'],
  [112, 'vrrp'], [115, 'l2tp'], [124, 'isis'], [132, 'sctp'], [133, 'fc'], [135, 'mobility-header'],
  [136, 'udplite'], [137, 'mpls-in-ip'], [138, 'manet'], [139, 'hip'], [140, 'shim6'], [141, 'wesp'],
  [142, 'rohc'], [143, 'ethernet'],
]);

const PROTOCOL_NUMBERS = new Map<string, number>([...PROTOCOL_NAMES].map(([n, s]) => [s, n]));
// iptables' built-in fallbacks (xtables_chain_protos) for names /etc/protocols lacks.
for (const [name, num] of [
  ['icmpv6', 58],
  ['ipv6-mh', 135],
  ['mh', 135],
] as const) {
  if (!PROTOCOL_NUMBERS.has(name)) PROTOCOL_NUMBERS.set(name, num);
}

/**
 * Parses `-p` the way iptables does: lower-cased, a number 0–255, `all`, or a protocol name.
 *
 * @returns the protocol number, or `undefined` when unknown.
 */
export function lookupProtocol(text: string): number | undefined {
  const direct = PROTOCOL_NUMBERS.get(text);
  if (direct !== undefined) return direct;
  const s = text.toLowerCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n <= 255 ? n : undefined;
  }
  if (/^0x[0-9a-f]+$/.test(s)) {
    const n = parseInt(s, 16);
    return n <= 255 ? n : undefined;
  }
  if (s === 'all') return 0;
  return PROTOCOL_NUMBERS.get(s);
}

/** The name iptables-save prints for a protocol number (getprotobynumber, else the number). */
export function protocolName(n: number): string {
  return PROTOCOL_NAMES.get(n) ?? String(n);
}

/** A few `/etc/services` names iptables accepts for ports (getservbyname). */
export const SERVICE_PORTS: ReadonlyMap<string, number> = new Map([
  ['ftp-data', 20], ['ftp', 21], ['ssh', 22], ['telnet', 23], ['smtp', 25], ['domain', 53],
  ['tftp', 69], ['http', 80], ['pop3', 110], ['ntp', 123], ['imap2', 143], ['snmp', 161], ['bgp', 179],
  ['ldap', 389], ['https', 443], ['syslog', 514], ['ldaps', 636], ['kerberos', 88], ['mysql', 3306],
  ['postgresql', 5432], ['http-alt', 8080],
]);

/** One entry of iptables' ICMP type table: name → type and code range. */
export interface IcmpTypeName {
  readonly name: string;
  readonly type: number;
  readonly codeMin: number;
  readonly codeMax: number;
}

/** iptables' `icmp_codes` table (libxt_icmp.c), in its order. */
export const ICMP_TYPE_NAMES: readonly IcmpTypeName[] = [
  { name: 'any', type: 0xff, codeMin: 0, codeMax: 0xff },
  { name: 'echo-reply', type: 0, codeMin: 0, codeMax: 0xff },
  { name: 'destination-unreachable', type: 3, codeMin: 0, codeMax: 0xff },
  { name: 'network-unreachable', type: 3, codeMin: 0, codeMax: 0 },
  { name: 'host-unreachable', type: 3, codeMin: 1, codeMax: 1 },
  { name: 'protocol-unreachable', type: 3, codeMin: 2, codeMax: 2 },
  { name: 'port-unreachable', type: 3, codeMin: 3, codeMax: 3 },
  { name: 'fragmentation-needed', type: 3, codeMin: 4, codeMax: 4 },
  { name: 'source-route-failed', type: 3, codeMin: 5, codeMax: 5 },
  { name: 'network-unknown', type: 3, codeMin: 6, codeMax: 6 },
  { name: 'host-unknown', type: 3, codeMin: 7, codeMax: 7 },
  { name: 'network-prohibited', type: 3, codeMin: 9, codeMax: 9 },
  { name: 'host-prohibited', type: 3, codeMin: 10, codeMax: 10 },
  { name: 'TOS-network-unreachable', type: 3, codeMin: 11, codeMax: 11 },
  { name: 'TOS-host-unreachable', type: 3, codeMin: 12, codeMax: 12 },
  { name: 'communication-prohibited', type: 3, codeMin: 13, codeMax: 13 },
  { name: 'host-precedence-violation', type: 3, codeMin: 14, codeMax: 14 },
  { name: 'precedence-cutoff', type: 3, codeMin: 15, codeMax: 15 },
  { name: 'source-quench', type: 4, codeMin: 0, codeMax: 0xff },
  { name: 'redirect', type: 5, codeMin: 0, codeMax: 0xff },
  { name: 'network-redirect', type: 5, codeMin: 0, codeMax: 0 },
  { name: 'host-redirect', type: 5, codeMin: 1, codeMax: 1 },
  { name: 'TOS-network-redirect', type: 5, codeMin: 2, codeMax: 2 },
  { name: 'TOS-host-redirect', type: 5, codeMin: 3, codeMax: 3 },
  { name: 'echo-request', type: 8, codeMin: 0, codeMax: 0xff },
  { name: 'router-advertisement', type: 9, codeMin: 0, codeMax: 0xff },
  { name: 'router-solicitation', type: 10, codeMin: 0, codeMax: 0xff },
  { name: 'time-exceeded', type: 11, codeMin: 0, codeMax: 0xff },
  { name: 'ttl-zero-during-transit', type: 11, codeMin: 0, codeMax: 0 },
  { name: 'ttl-zero-during-reassembly', type: 11, codeMin: 1, codeMax: 1 },
  { name: 'parameter-problem', type: 12, codeMin: 0, codeMax: 0xff },
  { name: 'ip-header-bad', type: 12, codeMin: 0, codeMax: 0 },
  { name: 'required-option-missing', type: 12, codeMin: 1, codeMax: 1 },
  { name: 'timestamp-request', type: 13, codeMin: 0, codeMax: 0xff },
  { name: 'timestamp-reply', type: 14, codeMin: 0, codeMax: 0xff },
  { name: 'address-mask-request', type: 17, codeMin: 0, codeMax: 0xff },
  { name: 'address-mask-reply', type: 18, codeMin: 0, codeMax: 0xff },
];

/** ip6tables' `icmpv6_codes` table (libip6t_icmp6.c), in its order (aliases included). */
export const ICMP6_TYPE_NAMES: readonly IcmpTypeName[] = [
  { name: 'destination-unreachable', type: 1, codeMin: 0, codeMax: 0xff },
  { name: 'no-route', type: 1, codeMin: 0, codeMax: 0 },
  { name: 'communication-prohibited', type: 1, codeMin: 1, codeMax: 1 },
  { name: 'beyond-scope', type: 1, codeMin: 2, codeMax: 2 },
  { name: 'address-unreachable', type: 1, codeMin: 3, codeMax: 3 },
  { name: 'port-unreachable', type: 1, codeMin: 4, codeMax: 4 },
  { name: 'failed-policy', type: 1, codeMin: 5, codeMax: 5 },
  { name: 'reject-route', type: 1, codeMin: 6, codeMax: 6 },
  { name: 'packet-too-big', type: 2, codeMin: 0, codeMax: 0xff },
  { name: 'time-exceeded', type: 3, codeMin: 0, codeMax: 0xff },
  { name: 'ttl-exceeded', type: 3, codeMin: 0, codeMax: 0xff },
  { name: 'ttl-zero-during-transit', type: 3, codeMin: 0, codeMax: 0 },
  { name: 'ttl-zero-during-reassembly', type: 3, codeMin: 1, codeMax: 1 },
  { name: 'parameter-problem', type: 4, codeMin: 0, codeMax: 0xff },
  { name: 'bad-header', type: 4, codeMin: 0, codeMax: 0 },
  { name: 'unknown-header-type', type: 4, codeMin: 1, codeMax: 1 },
  { name: 'unknown-option', type: 4, codeMin: 2, codeMax: 2 },
  { name: 'echo-request', type: 128, codeMin: 0, codeMax: 0xff },
  { name: 'ping', type: 128, codeMin: 0, codeMax: 0xff },
  { name: 'echo-reply', type: 129, codeMin: 0, codeMax: 0xff },
  { name: 'pong', type: 129, codeMin: 0, codeMax: 0xff },
  { name: 'router-solicitation', type: 133, codeMin: 0, codeMax: 0xff },
  { name: 'router-advertisement', type: 134, codeMin: 0, codeMax: 0xff },
  { name: 'neighbour-solicitation', type: 135, codeMin: 0, codeMax: 0xff },
  { name: 'neighbor-solicitation', type: 135, codeMin: 0, codeMax: 0xff },
  { name: 'neighbour-advertisement', type: 136, codeMin: 0, codeMax: 0xff },
  { name: 'neighbor-advertisement', type: 136, codeMin: 0, codeMax: 0xff },
  { name: 'redirect', type: 137, codeMin: 0, codeMax: 0xff },
];

/** The REJECT types with the alias each also accepts (libxt_REJECT.c `reject_table`), in its order. */
export const REJECT_TYPES: readonly { readonly name: RejectWith; readonly alias: string }[] = [
  { name: 'icmp-net-unreachable', alias: 'net-unreach' },
  { name: 'icmp-host-unreachable', alias: 'host-unreach' },
  { name: 'icmp-proto-unreachable', alias: 'proto-unreach' },
  { name: 'icmp-port-unreachable', alias: 'port-unreach' },
  { name: 'icmp-net-prohibited', alias: 'net-prohib' },
  { name: 'icmp-host-prohibited', alias: 'host-prohib' },
  { name: 'tcp-reset', alias: 'tcp-rst' },
  { name: 'icmp-admin-prohibited', alias: 'admin-prohib' },
];

/** The ip6tables REJECT types with their aliases (libip6t_REJECT.c `reject_table`), in its order. */
export const REJECT6_TYPES: readonly { readonly name: Reject6With; readonly alias: string }[] = [
  { name: 'icmp6-no-route', alias: 'no-route' },
  { name: 'icmp6-adm-prohibited', alias: 'adm-prohibited' },
  { name: 'icmp6-addr-unreachable', alias: 'addr-unreach' },
  { name: 'icmp6-port-unreachable', alias: 'port-unreach' },
  { name: 'tcp-reset', alias: 'tcp-reset' },
  { name: 'icmp6-policy-fail', alias: 'policy-fail' },
  { name: 'icmp6-reject-route', alias: 'reject-route' },
];

/**
 * The ICMPv6 destination-unreachable (type 1) code each ip6tables REJECT type sends
 * (`tcp-reset` sends a TCP RST instead).
 *
 * @see https://github.com/torvalds/linux/blob/master/net/ipv6/netfilter/ip6t_REJECT.c
 * @see RFC 4443 section 3.1
 */
export const REJECT6_ICMP: Readonly<Record<Exclude<Reject6With, 'tcp-reset'>, { type: number; code: number }>> = {
  'icmp6-no-route': { type: 1, code: 0 },
  'icmp6-adm-prohibited': { type: 1, code: 1 },
  'icmp6-addr-unreachable': { type: 1, code: 3 },
  'icmp6-port-unreachable': { type: 1, code: 4 },
  'icmp6-policy-fail': { type: 1, code: 5 },
  'icmp6-reject-route': { type: 1, code: 6 },
};

/** The ICMP type/code a REJECT type sends (`tcp-reset` sends a TCP RST instead). @see net/ipv4/netfilter/ipt_REJECT.c */
export const REJECT_ICMP: Readonly<Record<Exclude<RejectWith, 'tcp-reset'>, { type: number; code: number }>> = {
  'icmp-net-unreachable': { type: 3, code: 0 },
  'icmp-host-unreachable': { type: 3, code: 1 },
  'icmp-proto-unreachable': { type: 3, code: 2 },
  'icmp-port-unreachable': { type: 3, code: 3 },
  'icmp-net-prohibited': { type: 3, code: 9 },
  'icmp-host-prohibited': { type: 3, code: 10 },
  'icmp-admin-prohibited': { type: 3, code: 13 },
};

/** Address types in RTN_* order (bit i of the addrtype mask is type i). */
export const ADDR_TYPES: readonly AddrType[] = [
  'UNSPEC',
  'UNICAST',
  'LOCAL',
  'BROADCAST',
  'ANYCAST',
  'MULTICAST',
  'BLACKHOLE',
  'UNREACHABLE',
  'PROHIBIT',
  'THROW',
  'NAT',
  'XRESOLVE',
];

/** `--ctstate` names in the order libxt_conntrack prints them. */
export const CT_STATES: readonly CtState[] = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'];

/** `--state` names (xt_state) in print order. */
export const STATE_STATES: readonly CtState[] = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED'];

/** `--ctstatus` names in print order (IPS_* bit order). */
export const CT_STATUSES: readonly CtStatus[] = ['EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED'];

/** TCP flag names in libxt_tcp's table order; `ALL` and `NONE` are parse-only. */
export const TCP_FLAG_NAMES: readonly { readonly name: string; readonly flag: number }[] = [
  { name: 'FIN', flag: 0x01 },
  { name: 'SYN', flag: 0x02 },
  { name: 'RST', flag: 0x04 },
  { name: 'PSH', flag: 0x08 },
  { name: 'ACK', flag: 0x10 },
  { name: 'URG', flag: 0x20 },
  { name: 'ALL', flag: 0x3f },
  { name: 'NONE', flag: 0 },
];

/** Syslog level names LOG's `--log-level` accepts. */
export const LOG_LEVELS: ReadonlyMap<string, number> = new Map([
  ['alert', 1], ['crit', 2], ['debug', 7], ['emerg', 0], ['error', 3], ['info', 6], ['notice', 5],
  ['panic', 0], ['warning', 4],
]);
