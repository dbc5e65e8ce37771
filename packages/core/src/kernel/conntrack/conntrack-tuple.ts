import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../../packet/types.js';
import type { Ipv4Packet } from '../../packet/types.js';

/** GRE: its own conntrack tracker (keys are 0 without the PPTP helper). */
export const IPPROTO_GRE = 47;
/** UDP-Lite: tracked like UDP. */
export const IPPROTO_UDPLITE = 136;

/**
 * One direction of a connection, as `struct nf_conntrack_tuple` holds it: addresses, protocol and
 * the per-protocol part. Addresses are IPv4 as unsigned 32-bit numbers (see `ip/ipv4.ts`).
 *
 * @remarks Linux equivalent: `struct nf_conntrack_tuple` (include/net/netfilter/nf_conntrack_tuple.h).
 * TCP and UDP use `sport`/`dport`; ICMP uses `id` (the kernel's `src.u.icmp.id`) with `type` and `code`
 * (`dst.u.icmp`); GRE keys and generic protocols leave them 0.
 * @see https://github.com/torvalds/linux/blob/master/include/net/netfilter/nf_conntrack_tuple.h
 */
export interface ConntrackTuple {
  readonly src: number;
  readonly dst: number;
  /** IP protocol number. */
  readonly protocol: number;
  /** TCP/UDP source port; 0 for other protocols. */
  readonly sport: number;
  /** TCP/UDP destination port; 0 for other protocols. */
  readonly dport: number;
  /** ICMP identifier (echo, timestamp, info, address mask); 0 otherwise. */
  readonly id: number;
  /** ICMP type; 0 otherwise. */
  readonly type: number;
  /** ICMP code; 0 otherwise. */
  readonly code: number;
}

/**
 * Protocols knet tracks with ports: TCP, UDP and UDP-Lite. (SCTP and DCCP have their own trackers in
 * Linux; knet tracks them as generic protocols.)
 */
export function hasPorts(protocol: number): boolean {
  return protocol === IPPROTO_TCP || protocol === IPPROTO_UDP || protocol === IPPROTO_UDPLITE;
}

/**
 * ICMP types that answer a request, keyed by type (`invmap` of nf_conntrack_proto_icmp.c): echo 8 ↔ 0,
 * timestamp 13 ↔ 14, information 15 ↔ 16, address mask 17 ↔ 18.
 */
const ICMP_INVERSE: Readonly<Record<number, number>> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17 };

/** The reply type of an ICMP query type, or `undefined` when the type has no inverse. */
export function icmpInverseType(type: number): number | undefined {
  return ICMP_INVERSE[type];
}

/**
 * ICMP error types (`icmp_is_err`): destination unreachable, source quench, redirect, time exceeded,
 * parameter problem. Conntrack relates them to the connection whose packet they quote.
 */
export function isIcmpError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** Builds a tuple; unspecified per-protocol fields are 0. */
export function makeTuple(src: number, dst: number, protocol: number, fields: Partial<Pick<ConntrackTuple, 'sport' | 'dport' | 'id' | 'type' | 'code'>> = {}): ConntrackTuple {
  return {
    src: src >>> 0,
    dst: dst >>> 0,
    protocol,
    sport: fields.sport ?? 0,
    dport: fields.dport ?? 0,
    id: fields.id ?? 0,
    type: fields.type ?? 0,
    code: fields.code ?? 0,
  };
}

/**
 * The original-direction tuple of a packet (`nf_ct_get_tuple`), or `undefined` when the packet has
 * no trackable layer 4 header (a fragment, or a payload kept raw).
 *
 * @remarks Linux equivalent: `nf_ct_get_tuple()` with `tcp/udp/icmp_pkt_to_tuple`. Fragments are
 * reassembled by nf_defrag_ipv4 before conntrack in Linux; knet's callers pass whole packets.
 * @see https://github.com/torvalds/linux/blob/master/net/netfilter/nf_conntrack_core.c
 */
export function tupleOfPacket(packet: Ipv4Packet): ConntrackTuple | undefined {
  if (packet.mf === true || (packet.fragOffset ?? 0) !== 0) return undefined;
  const p = packet.payload;
  switch (packet.protocol) {
    case IPPROTO_TCP:
      return p.kind === 'tcp' ? makeTuple(packet.src, packet.dst, IPPROTO_TCP, { sport: p.srcPort, dport: p.dstPort }) : undefined;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
      return p.kind === 'udp' ? makeTuple(packet.src, packet.dst, packet.protocol, { sport: p.srcPort, dport: p.dstPort }) : undefined;
    case IPPROTO_ICMP:
      return p.kind === 'icmp' ? makeTuple(packet.src, packet.dst, IPPROTO_ICMP, { id: p.id ?? ((p.rest ?? 0) >>> 16), type: p.type, code: p.code }) : undefined;
    default:
      return makeTuple(packet.src, packet.dst, packet.protocol);
  }
}

/**
 * The tuple of the other direction (`nf_ct_invert_tuple`): addresses and ports swapped, an ICMP
 * query turned into its reply type. `undefined` when the ICMP type has no inverse (the kernel then
 * refuses to track the packet).
 *
 * @remarks Linux equivalent: `nf_ct_invert_tuple()` and `nf_conntrack_invert_icmp_tuple()`.
 * @see https://github.com/torvalds/linux/blob/master/net/netfilter/nf_conntrack_proto_icmp.c
 */
export function invertTuple(t: ConntrackTuple): ConntrackTuple | undefined {
  if (t.protocol === IPPROTO_ICMP) {
    const type = ICMP_INVERSE[t.type];
    if (type === undefined) return undefined;
    return { src: t.dst, dst: t.src, protocol: t.protocol, sport: 0, dport: 0, id: t.id, type, code: t.code };
  }
  return { src: t.dst, dst: t.src, protocol: t.protocol, sport: t.dport, dport: t.sport, id: 0, type: 0, code: 0 };
}

/** Whether two tuples are the same (`nf_ct_tuple_equal`). */
export function tuplesEqual(a: ConntrackTuple, b: ConntrackTuple): boolean {
  return (
    a.src === b.src &&
    a.dst === b.dst &&
    a.protocol === b.protocol &&
    a.sport === b.sport &&
    a.dport === b.dport &&
    a.id === b.id &&
    a.type === b.type &&
    a.code === b.code
  );
}

/**
 * The hash key of a tuple in a zone: what the conntrack table is indexed by. A short string of
 * 16-bit code units (not meant for display), cheap to hash and to compare.
 */
export function tupleKey(t: ConntrackTuple, zone: number): string {
  return String.fromCharCode(
    t.src >>> 16,
    t.src & 0xffff,
    t.dst >>> 16,
    t.dst & 0xffff,
    t.sport,
    t.dport,
    t.id,
    (t.type << 8) | t.code,
    t.protocol,
    zone & 0xffff,
    zone >>> 16,
  );
}
