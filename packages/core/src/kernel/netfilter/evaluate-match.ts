import { KnetError } from '../../errors/knet-error.js';
import { IPSET_DIMENSIONS, type IpsetElement } from '../ipset/ipset-types.js';
import type { AddrType, IpHeaderMatch, NetfilterMatch, NetfilterTableName, PortRange } from './netfilter-types.js';
import type { CtTuple, EvaluateContext, Ip6PacketView, PacketView } from './evaluate-types.js';
import { formatIpv6Words, IPV6_HOST_MASK, ipv6MaskedEquals, maskIpv6Words, type Ipv6Words } from './ipv6-words.js';
import type { NetfilterState } from './netfilter-state.js';
import { ifaceMatches } from './parse-helpers.js';
import { RECENT_IP_PKT_LIST_TOT } from './recent-table.js';

/**
 * One evaluator per match kind, with the kernel's semantics.
 *
 * @remarks Linux equivalent: `ip_packet_match` (net/ipv4/netfilter/ip_tables.c),
 * `ip6_packet_match` (net/ipv6/netfilter/ip6_tables.c) and each extension's `match` function:
 * xt_tcpudp.c, xt_sctp.c, ip_tables.c `icmp_match`, ip6_tables.c `icmp6_match`, xt_mark.c,
 * xt_statistic.c, xt_recent.c, xt_addrtype.c, xt_conntrack.c, xt_state.c, xt_set.c,
 * xt_physdev.c, xt_multiport.c.
 */

/** Where in the ruleset a match is evaluated (for the statistic chooser). */
export interface MatchSite {
  readonly table: NetfilterTableName;
  readonly chain: string;
  readonly ruleNumber: number;
}

/** The shared arguments of every match evaluator. */
export interface MatchInput {
  /** An IPv4 packet in iptables tables, an IPv6 one in ip6tables tables. */
  readonly packet: PacketView | Ip6PacketView;
  /** Current mark (MARK targets earlier in the walk change it). */
  readonly mark: number;
  readonly ctx: EvaluateContext;
  readonly state: NetfilterState;
  readonly site: MatchSite;
  readonly sideEffects: boolean;
}

/** `ip_packet_match`: addresses, interfaces, protocol and fragment flag. */
export function matchIpHeader(ip: IpHeaderMatch, p: PacketView): boolean {
  if (ip.src !== undefined && (((p.src & ip.src.mask) >>> 0) !== ip.src.address) !== ip.srcInvert) return false;
  if (ip.src === undefined && ip.srcInvert) return false;
  if (ip.dst !== undefined && (((p.dst & ip.dst.mask) >>> 0) !== ip.dst.address) !== ip.dstInvert) return false;
  if (ip.dst === undefined && ip.dstInvert) return false;
  if (ip.inIface !== undefined && ifaceMatches(ip.inIface, p.inIface) === ip.inIfaceInvert) return false;
  if (ip.outIface !== undefined && ifaceMatches(ip.outIface, p.outIface) === ip.outIfaceInvert) return false;
  if (ip.protocol !== undefined && ip.protocol !== 0 && (p.protocol !== ip.protocol) !== ip.protocolInvert) return false;
  if (ip.fragment === 'fragment' && !p.fragment) return false;
  if (ip.fragment === 'not-fragment' && p.fragment) return false;
  return true;
}

/**
 * `ip6_packet_match`: addresses (masked compare), interfaces and protocol. ip6tables has no
 * fragment flag: a port match sees `fragment` through the packet.
 */
export function matchIp6Header(ip: IpHeaderMatch, p: Ip6PacketView): boolean {
  const s = ip.src6;
  if (s !== undefined) {
    if (ipv6MaskedEquals(p.src, s.mask, s.address) === ip.srcInvert) return false;
  } else if (ip.srcInvert) return false;
  const d = ip.dst6;
  if (d !== undefined) {
    if (ipv6MaskedEquals(p.dst, d.mask, d.address) === ip.dstInvert) return false;
  } else if (ip.dstInvert) return false;
  if (ip.inIface !== undefined && ifaceMatches(ip.inIface, p.inIface) === ip.inIfaceInvert) return false;
  if (ip.outIface !== undefined && ifaceMatches(ip.outIface, p.outIface) === ip.outIfaceInvert) return false;
  if (ip.protocol !== undefined && ip.protocol !== 0 && (p.protocol !== ip.protocol) !== ip.protocolInvert) return false;
  return true;
}

function portIn(r: PortRange | undefined, port: number | undefined): boolean {
  if (r === undefined) return true;
  const v = port ?? 0;
  return (v >= r.min && v <= r.max) !== r.invert;
}

function matchTcp(m: Extract<NetfilterMatch, { kind: 'tcp' }>, { packet: p }: MatchInput): boolean {
  if (p.fragment) return false;
  if (!portIn(m.sport, p.sport) || !portIn(m.dport, p.dport)) return false;
  if (m.option !== undefined && (p.tcpOptions ?? []).includes(m.option.option) === m.option.invert) return false;
  if (m.flags !== undefined && (((p.tcpFlags ?? 0) & m.flags.mask) === m.flags.comp) === m.flags.invert) return false;
  return true;
}

function matchPorts(m: Extract<NetfilterMatch, { kind: 'udp' | 'sctp' }>, { packet: p }: MatchInput): boolean {
  if (p.fragment) return false;
  return portIn(m.sport, p.sport) && portIn(m.dport, p.dport);
}

function matchIcmp(m: Extract<NetfilterMatch, { kind: 'icmp' }>, { packet: p }: MatchInput): boolean {
  if (p.fragment) return false;
  const type = p.icmpType ?? -1;
  const code = p.icmpCode ?? 0;
  const hit = m.type === 0xff || (type === m.type && code >= m.codeMin && code <= m.codeMax);
  return hit !== m.invert;
}

function matchIcmp6(m: Extract<NetfilterMatch, { kind: 'icmp6' }>, { packet: p }: MatchInput): boolean {
  if (p.fragment) return false;
  const type = p.icmpType ?? -1;
  const code = p.icmpCode ?? 0;
  return (type === m.type && code >= m.codeMin && code <= m.codeMax) !== m.invert;
}

function matchMark(m: Extract<NetfilterMatch, { kind: 'mark' }>, { mark }: MatchInput): boolean {
  return (((mark & m.mask) >>> 0) === m.value) !== m.invert;
}

function matchStatistic(m: Extract<NetfilterMatch, { kind: 'statistic' }>, input: MatchInput): boolean {
  let ret = m.invert;
  if (m.mode === 'random') {
    const choose = input.ctx.choose;
    if (choose === undefined) {
      throw new KnetError('EINVAL', '-m statistic --mode random needs a chooser in the evaluation context', { ...input.site });
    }
    if (choose(m.probability / 0x80000000, input.site)) ret = !ret;
    return ret;
  }
  // xt_statistic: nval = (count == every-1) ? 0 : count + 1; match when nval is 0.
  const oval = m.state.count;
  const nval = oval === m.every - 1 ? 0 : oval + 1;
  if (input.sideEffects) m.state.count = nval;
  if (nval === 0) ret = !ret;
  return ret;
}

function matchRecent(m: Extract<NetfilterMatch, { kind: 'recent' }>, input: MatchInput): boolean {
  const { packet: p, ctx } = input;
  let ret = m.invert;
  const side = m.side === 'source' ? p.src : p.dst;
  // IPv6 entries are keyed by their text, apart from the IPv4 ones (xt_recent keys by family).
  const addr = typeof side === 'number' ? (side & m.mask) >>> 0 : formatIpv6Words(maskIpv6Words(side, m.mask6 ?? IPV6_HOST_MASK));
  let ttl = p.ttl ?? 64;
  // "use TTL as seen before forwarding": locally generated packets have no input device.
  if (p.outIface !== undefined && p.inIface === undefined) ttl++;
  const mask = m.hitcount >= RECENT_IP_PKT_LIST_TOT ? nextPow2(m.hitcount) - 1 : nextPow2(RECENT_IP_PKT_LIST_TOT) - 1;
  const list = input.sideEffects ? input.state.recent.list(m.name, mask) : input.state.recent.get(m.name);
  const now = ctx.now;
  let e = list?.lookup(addr, m.rttl ? ttl : 0);
  if (list === undefined || e === undefined) {
    if (m.command !== 'set') return ret;
    if (input.sideEffects && list !== undefined) list.add(addr, ttl, now);
    return !ret;
  }
  if (m.command === 'set') ret = !ret;
  else if (m.command === 'remove') {
    if (input.sideEffects) list.remove(e);
    e = undefined;
    ret = !ret;
  } else if (m.seconds !== 0 || m.hitcount !== 0) {
    const time = now - m.seconds * 1e9;
    let hits = 0;
    for (let i = 0; i < e.nstamps; i++) {
      const stamp = e.stamps[i] ?? 0;
      if (m.seconds !== 0 && time > stamp) continue;
      if (m.hitcount === 0 || ++hits >= m.hitcount) {
        ret = !ret;
        break;
      }
    }
    if (m.reap && input.sideEffects) list.reap(time, e, m.command === 'update' && ret);
  } else ret = !ret;
  if (e !== undefined && input.sideEffects && (m.command === 'set' || (m.command === 'update' && ret))) {
    if (list.entries.get(e.address) === e) {
      list.update(e, now);
      e.ttl = ttl;
    }
  }
  return ret;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function matchAddrtype(m: Extract<NetfilterMatch, { kind: 'addrtype' }>, input: MatchInput): boolean {
  const { packet: p, ctx } = input;
  if (typeof p.src !== 'number') return matchAddrtype6(m, input, p as Ip6PacketView);
  const classify = ctx.addrType;
  if (classify === undefined) {
    throw new KnetError('EINVAL', '-m addrtype needs an addrType classifier in the evaluation context', { ...input.site });
  }
  const dev = m.limitIfaceIn ? p.inIface : m.limitIfaceOut ? p.outIface : undefined;
  const v4 = p as PacketView;
  if (m.srcTypes !== undefined && m.srcTypes.length > 0) {
    if (m.srcTypes.includes(classify(v4.src, dev)) === m.srcInvert) return false;
  }
  if (m.dstTypes !== undefined && m.dstTypes.length > 0) {
    if (m.dstTypes.includes(classify(v4.dst, dev)) === m.dstInvert) return false;
  }
  return true;
}

/** The `ipv6_addr_type` classes addrtype tests on the address itself. */
function ipv6Classes(a: Ipv6Words): { unicast: boolean; multicast: boolean; any: boolean } {
  const st = a[0];
  const top3 = (st & 0xe0000000) >>> 0;
  if (top3 !== 0 && top3 !== 0xe0000000) return { unicast: true, multicast: false, any: false };
  if ((st & 0xff000000) >>> 0 === 0xff000000) return { unicast: false, multicast: true, any: false };
  if ((st & 0xffc00000) >>> 0 === 0xfe800000 || (st & 0xffc00000) >>> 0 === 0xfec00000 || (st & 0xfe000000) >>> 0 === 0xfc000000) {
    return { unicast: true, multicast: false, any: false };
  }
  if ((a[0] | a[1]) === 0) {
    if (a[2] === 0) return a[3] === 0 ? { unicast: false, multicast: false, any: true } : { unicast: true, multicast: false, any: false };
    // IPv4-mapped addresses are neither unicast nor multicast to ipv6_addr_type.
    if (a[2] === 0xffff) return { unicast: false, multicast: false, any: false };
  }
  return { unicast: true, multicast: false, any: false };
}

/**
 * xt_addrtype `match_type6`: every type asked must hold at once (MULTICAST, UNICAST and UNSPEC
 * from the address itself), and LOCAL, ANYCAST or UNREACHABLE from the route lookup.
 */
function matchType6(types: readonly AddrType[], addr: Ipv6Words, dev: string | undefined, input: MatchInput): boolean {
  const cls = ipv6Classes(addr);
  if (types.includes('MULTICAST') && !cls.multicast) return false;
  if (types.includes('UNICAST') && !cls.unicast) return false;
  if (types.includes('UNSPEC') && !cls.any) return false;
  if (!types.includes('LOCAL') && !types.includes('ANYCAST') && !types.includes('UNREACHABLE')) return true;
  const classify = input.ctx.addrType6;
  if (classify === undefined) {
    throw new KnetError('EINVAL', '-m addrtype in ip6tables needs an addrType6 classifier in the evaluation context', { ...input.site });
  }
  const rt = classify(addr, dev);
  const found: AddrType | undefined =
    rt === 'LOCAL' ? 'LOCAL' : rt === 'ANYCAST' ? 'ANYCAST' : rt === 'UNREACHABLE' || rt === 'PROHIBIT' || rt === 'BLACKHOLE' ? 'UNREACHABLE' : undefined;
  return found !== undefined && types.includes(found);
}

function matchAddrtype6(m: Extract<NetfilterMatch, { kind: 'addrtype' }>, input: MatchInput, p: Ip6PacketView): boolean {
  const dev = m.limitIfaceIn ? p.inIface : m.limitIfaceOut ? p.outIface : undefined;
  if (m.srcTypes !== undefined && m.srcTypes.length > 0) {
    if (matchType6(m.srcTypes, p.src, dev, input) === m.srcInvert) return false;
  }
  if (m.dstTypes !== undefined && m.dstTypes.length > 0) {
    if (matchType6(m.dstTypes, p.dst, dev, input) === m.dstInvert) return false;
  }
  return true;
}

function addrIn(a: { address: number; mask: number; invert: boolean } | undefined, v: number | undefined): boolean {
  if (a === undefined) return true;
  return ((((v ?? 0) & a.mask) >>> 0) === a.address) !== a.invert;
}

function tupleField(t: CtTuple | undefined, f: keyof CtTuple): number | undefined {
  return t?.[f];
}

function matchConntrack(m: Extract<NetfilterMatch, { kind: 'conntrack' }>, { ctx, packet }: MatchInput): boolean {
  const ct = ctx.conntrack;
  const tracked = ct !== undefined && ct.state !== 'INVALID' && ct.state !== 'UNTRACKED';
  if (m.state !== undefined) {
    const states = new Set<string>([ct?.state ?? 'INVALID']);
    if (tracked && ct.snat === true) states.add('SNAT');
    if (tracked && ct.dnat === true) states.add('DNAT');
    const hit = m.state.states.some((s) => states.has(s));
    if (hit === m.state.invert) return false;
  }
  if (!tracked) return m.state !== undefined;
  if (m.dir !== undefined && (ct.direction ?? 'ORIGINAL') !== m.dir) return false;
  if (m.proto !== undefined && ((ct.protocol ?? packet.protocol) === m.proto.protocol) === m.proto.invert) return false;
  if (!addrIn(m.origSrc, tupleField(ct.original, 'src'))) return false;
  if (!addrIn(m.origDst, tupleField(ct.original, 'dst'))) return false;
  if (!addrIn(m.replSrc, tupleField(ct.reply, 'src'))) return false;
  if (!addrIn(m.replDst, tupleField(ct.reply, 'dst'))) return false;
  if (!portIn(m.origSrcPort, tupleField(ct.original, 'sport'))) return false;
  if (!portIn(m.origDstPort, tupleField(ct.original, 'dport'))) return false;
  if (!portIn(m.replSrcPort, tupleField(ct.reply, 'sport'))) return false;
  if (!portIn(m.replDstPort, tupleField(ct.reply, 'dport'))) return false;
  if (m.status !== undefined) {
    const any = m.status.statuses.some((s) => (ct.status ?? []).includes(s));
    if (any === m.status.invert) return false;
  }
  if (m.expire !== undefined) {
    const e = ct.expires ?? 0;
    if ((e >= m.expire.min && e <= m.expire.max) === m.expire.invert) return false;
  }
  return true;
}

function matchState(m: Extract<NetfilterMatch, { kind: 'state' }>, { ctx }: MatchInput): boolean {
  const state = ctx.conntrack?.state ?? 'INVALID';
  return m.states.includes(state) !== m.invert;
}

/** The set element a packet presents for the given directions (`ip_set_get_ip4_port` & co). */
export function packetSetElement(type: keyof typeof IPSET_DIMENSIONS, dirs: readonly ('src' | 'dst')[], p: PacketView): IpsetElement | undefined {
  const ip = (d: 'src' | 'dst' | undefined): number => (d === 'dst' ? p.dst : p.src);
  const portOf = (d: 'src' | 'dst' | undefined): { proto: number; port: number } | undefined => {
    if (p.fragment) return undefined;
    if (p.protocol === 6 || p.protocol === 17 || p.protocol === 132 || p.protocol === 136) {
      return { proto: p.protocol, port: (d === 'dst' ? p.dport : p.sport) ?? 0 };
    }
    if (p.protocol === 1) return { proto: 1, port: (((p.icmpType ?? 0) & 0xff) << 8) | ((p.icmpCode ?? 0) & 0xff) };
    return { proto: p.protocol, port: 0 };
  };
  const base = { ip: 0, cidr: 32, proto: 0, port: 0, ip2: 0, cidr2: 32 };
  switch (type) {
    case 'hash:ip':
    case 'hash:net':
      return { ...base, ip: ip(dirs[0]) };
    case 'bitmap:port': {
      const pp = portOf(dirs[0]);
      if (pp === undefined || (pp.proto !== 6 && pp.proto !== 17)) return undefined;
      return { ...base, port: pp.port };
    }
    default: {
      const pp = portOf(dirs[1]);
      if (pp === undefined) return undefined;
      return { ...base, ip: ip(dirs[0]), proto: pp.proto, port: pp.port, ip2: ip(dirs[2]) };
    }
  }
}

function matchSet(m: Extract<NetfilterMatch, { kind: 'set' }>, input: MatchInput): boolean {
  const set = input.state.ipsets.get(m.name);
  if (set === undefined || m.dirs.length < IPSET_DIMENSIONS[set.type]) return m.invert;
  // knet's sets are family inet: an IPv6 packet is never in one (ip_set_test checks the family).
  if (typeof input.packet.src !== 'number') return m.invert;
  const elem = packetSetElement(set.type, m.dirs, input.packet as PacketView);
  if (elem === undefined) return m.invert;
  const { result, entry } = set.lookup(elem, input.ctx.now);
  const hit = m.returnNomatch ? result === 'nomatch' : result === 'match';
  if (hit && entry !== undefined && set.options.counters && !m.noUpdateCounters && input.sideEffects) {
    entry.packets++;
    entry.bytes += input.packet.length;
  }
  return hit !== m.invert;
}

function matchPhysdev(m: Extract<NetfilterMatch, { kind: 'physdev' }>, { ctx }: MatchInput): boolean {
  const br = ctx.physdev;
  if (br === undefined) {
    // Not bridged: only inverted options can hold.
    for (const o of [m.isBridged, m.isIn, m.isOut, m.physdevIn, m.physdevOut]) if (o !== undefined && !o.invert) return false;
    return true;
  }
  const outdev = br.physOut;
  const indev = br.physIn;
  if (m.isBridged !== undefined && (outdev !== undefined) === m.isBridged.invert) return false;
  if (m.isIn !== undefined && (indev === undefined) !== m.isIn.invert) return false;
  if (m.isOut !== undefined && (outdev === undefined) !== m.isOut.invert) return false;
  if (m.physdevIn !== undefined && indev !== undefined) {
    if (ifaceMatches(m.physdevIn.name, indev) === m.physdevIn.invert) return false;
  }
  if (m.physdevOut === undefined || outdev === undefined) return true;
  return ifaceMatches(m.physdevOut.name, outdev) !== m.physdevOut.invert;
}

function matchMultiport(m: Extract<NetfilterMatch, { kind: 'multiport' }>, { packet: p }: MatchInput): boolean {
  if (p.fragment) return false;
  const s = p.sport ?? 0;
  const d = p.dport ?? 0;
  for (const r of m.ports) {
    const inS = s >= r.min && s <= r.max;
    const inD = d >= r.min && d <= r.max;
    if ((m.which === 'sports' && inS) || (m.which === 'dports' && inD) || (m.which === 'ports' && (inS || inD))) return !m.invert;
  }
  return m.invert;
}

type Evaluator<K extends NetfilterMatch['kind']> = (m: Extract<NetfilterMatch, { kind: K }>, input: MatchInput) => boolean;

/** The evaluator of each match kind. */
export const MATCH_EVALUATORS: { readonly [K in NetfilterMatch['kind']]: Evaluator<K> } = {
  tcp: matchTcp,
  udp: matchPorts,
  sctp: matchPorts,
  icmp: matchIcmp,
  icmp6: matchIcmp6,
  comment: () => true,
  mark: matchMark,
  statistic: matchStatistic,
  recent: matchRecent,
  addrtype: matchAddrtype,
  conntrack: matchConntrack,
  state: matchState,
  set: matchSet,
  physdev: matchPhysdev,
  multiport: matchMultiport,
  nfacct: () => true,
};

/** Evaluates one match. */
export function evaluateMatch(m: NetfilterMatch, input: MatchInput): boolean {
  return (MATCH_EVALUATORS[m.kind] as Evaluator<typeof m.kind>)(m as never, input);
}
