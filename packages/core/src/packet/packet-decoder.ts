import { macFromBytes } from '../ip/mac.js';
import { internetChecksum, ipv4PseudoHeaderSum, ipv6PseudoHeaderSum } from './checksum.js';
import type { DecodeResult } from './decode-result.js';
import { icmpHasIdSeq } from './packet-encoder.js';
import {
  ETH_P_8021Q,
  ETH_P_ARP,
  ETH_P_IP,
  ETH_P_IPV6,
  IPPROTO_ICMP,
  IPPROTO_IPIP,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from './types.js';
import type {
  ArpPacket,
  EthernetFrame,
  IcmpMessage,
  Ipv4Packet,
  Ipv6Packet,
  TcpSegment,
  UdpDatagram,
  VxlanPacket,
} from './types.js';

/** UDP destination ports decoded as VXLAN: the IANA port and the Linux/flannel default. @see RFC 7348 section 5; flannel backend/vxlan */
export const VXLAN_UDP_PORTS: readonly number[] = [4789, 8472];

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Fail = { readonly ok: false; readonly reason: string };

function fail(reason: string): Fail {
  return { ok: false, reason };
}

/**
 * Decodes the bytes of an Ethernet II frame (as a capture holds them) into the structure
 * {@link encodeEthernetFrame} takes, verifying every length field and checksum on the way.
 *
 * - 802.1Q tags give `vlan` (the VID; priority bits are not modelled).
 * - ARP for IPv4 over Ethernet (RFC 826) and IPv4/IPv6 are decoded; other EtherTypes, and
 *   ARP for other hardware/protocol types, are `raw`.
 * - IPv4 protocols 1 (ICMP), 4 (IPIP), 6 (TCP), 17 (UDP) are decoded, unless the packet is a
 *   fragment (MF or offset set), whose payload stays `raw`; other protocols are `raw`.
 * - UDP to port 4789 or 8472 whose first byte is the VXLAN flags 0x08 (reserved fields
 *   zero) is decoded as VXLAN with its inner frame.
 * - Bytes after the IP total length (Ethernet padding of short frames) are ignored.
 * - A UDP checksum of 0 over IPv4 means "no checksum" (RFC 768) and is accepted.
 *
 * `decodeEthernetFrame(encodeEthernetFrame(f))` gives back `f` for every frame in canonical
 * form (optional fields absent rather than false/0/empty, TCP options without trailing EOL
 * padding, ICMP `rest` only where needed).
 *
 * @returns `{ ok: true, value }`, or `{ ok: false, reason }` with a reason from
 * {@link DecodeResult}'s closed set. Never throws on bad bytes.
 * @remarks Linux equivalent: the checks of `ip_rcv_core()` (version, IHL, total length,
 * header checksum), `udp_rcv()`, `tcp_v4_rcv()`, `icmp_rcv()` and `vxlan_rcv()`.
 * @see RFC 791; RFC 792; RFC 768; RFC 9293; RFC 7348; RFC 1071
 * @example
 * ```ts
 * import { decodeEthernetFrame, encodeEthernetFrame } from '@knet/core';
 * declare const frame: import('@knet/core').EthernetFrame;
 * const r = decodeEthernetFrame(encodeEthernetFrame(frame));
 * if (r.ok) r.value.payload.kind;
 * ```
 */
export function decodeEthernetFrame(bytes: Uint8Array): DecodeResult<EthernetFrame> {
  return decodeEthernetAt(bytes, 0, bytes.length);
}

/**
 * Decodes a bare IPv4 packet (LINKTYPE_RAW captures, the inside of an IPIP tunnel), with the
 * checks of {@link decodeEthernetFrame}.
 *
 * @see RFC 791
 * @example
 * ```ts
 * import { decodeIpv4Packet } from '@knet/core';
 * decodeIpv4Packet(new Uint8Array(19)); // { ok: false, reason: 'truncated-ipv4' }
 * ```
 */
export function decodeIpv4Packet(bytes: Uint8Array): DecodeResult<Ipv4Packet> {
  return decodeIpv4At(bytes, 0, bytes.length);
}

/**
 * Decodes a bare IPv6 packet: the fixed header, then UDP or TCP (checksums verified with the
 * IPv6 pseudo-header); any other next header, extension headers included, stays `raw`.
 *
 * @see RFC 8200
 * @example
 * ```ts
 * import { decodeIpv6Packet } from '@knet/core';
 * decodeIpv6Packet(new Uint8Array(39)); // { ok: false, reason: 'truncated-ipv6' }
 * ```
 */
export function decodeIpv6Packet(bytes: Uint8Array): DecodeResult<Ipv6Packet> {
  return decodeIpv6At(bytes, 0, bytes.length);
}

function get16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}

function get32(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

function decodeEthernetAt(b: Uint8Array, o: number, end: number): DecodeResult<EthernetFrame> {
  if (end - o < 14) return fail('truncated-ethernet');
  const dst = macFromBytes(b, o);
  const src = macFromBytes(b, o + 6);
  let etherType = get16(b, o + 12);
  let vlan: number | undefined;
  let p = o + 14;
  if (etherType === ETH_P_8021Q) {
    if (end - o < 18) return fail('truncated-vlan');
    vlan = get16(b, p) & 0xfff;
    etherType = get16(b, p + 2);
    p += 4;
  }
  let payload: EthernetFrame['payload'];
  if (etherType === ETH_P_ARP && isEthernetIpv4Arp(b, p, end)) {
    const r = decodeArp(b, p, end);
    if (!r.ok) return r;
    payload = r.value;
  } else if (etherType === ETH_P_IP) {
    const r = decodeIpv4At(b, p, end);
    if (!r.ok) return r;
    payload = r.value;
  } else if (etherType === ETH_P_IPV6) {
    const r = decodeIpv6At(b, p, end);
    if (!r.ok) return r;
    payload = r.value;
  } else {
    payload = { kind: 'raw', bytes: b.slice(p, end) };
  }
  const frame: Mutable<EthernetFrame> = { dst, src, etherType, payload };
  if (vlan !== undefined) frame.vlan = vlan;
  return { ok: true, value: frame };
}

/** htype 1, ptype IPv4, hlen 6, plen 4, op request/reply: the only ARP knet models. */
function isEthernetIpv4Arp(b: Uint8Array, o: number, end: number): boolean {
  if (end - o < 8) return true; // too short to tell: decodeArp reports it truncated
  const op = get16(b, o + 6);
  return get16(b, o) === 1 && get16(b, o + 2) === ETH_P_IP && b[o + 4] === 6 && b[o + 5] === 4 && (op === 1 || op === 2);
}

function decodeArp(b: Uint8Array, o: number, end: number): DecodeResult<ArpPacket> {
  if (end - o < 28) return fail('truncated-arp');
  const value: ArpPacket = {
    kind: 'arp',
    op: get16(b, o + 6) === 1 ? 1 : 2,
    senderMac: macFromBytes(b, o + 8),
    senderIp: get32(b, o + 14),
    targetMac: macFromBytes(b, o + 18),
    targetIp: get32(b, o + 24),
  };
  return { ok: true, value };
}

function decodeIpv4At(b: Uint8Array, o: number, end: number): DecodeResult<Ipv4Packet> {
  if (end - o < 20) return fail('truncated-ipv4');
  const vihl = b[o] as number;
  if (vihl >>> 4 !== 4) return fail('bad-ip-version');
  const headerLen = (vihl & 0x0f) * 4;
  if (headerLen < 20) return fail('bad-ipv4-header-length');
  const total = get16(b, o + 2);
  if (total < headerLen) return fail('bad-ipv4-total-length');
  if (o + total > end) return fail('truncated-ipv4');
  if (internetChecksum(b, o, o + headerLen) !== 0) return fail('bad-ipv4-checksum');
  const frag = get16(b, o + 6);
  const mf = (frag & 0x2000) !== 0;
  const fragOffset = frag & 0x1fff;
  const protocol = b[o + 9] as number;
  const src = get32(b, o + 12);
  const dst = get32(b, o + 16);
  const l4 = o + headerLen;
  const stop = o + total;
  let payload: Ipv4Packet['payload'];
  if (mf || fragOffset !== 0) {
    payload = { kind: 'raw', bytes: b.slice(l4, stop) };
  } else if (protocol === IPPROTO_ICMP) {
    const r = decodeIcmp(b, l4, stop);
    if (!r.ok) return r;
    payload = r.value;
  } else if (protocol === IPPROTO_UDP) {
    const r = decodeUdp(b, l4, stop, ipv4PseudoHeaderSum(src, dst, IPPROTO_UDP, stop - l4), true);
    if (!r.ok) return r;
    payload = r.value;
  } else if (protocol === IPPROTO_TCP) {
    const r = decodeTcp(b, l4, stop, ipv4PseudoHeaderSum(src, dst, IPPROTO_TCP, stop - l4));
    if (!r.ok) return r;
    payload = r.value;
  } else if (protocol === IPPROTO_IPIP) {
    const r = decodeIpv4At(b, l4, stop);
    if (!r.ok) return fail(`ipip-inner:${r.reason}`);
    payload = r.value;
  } else {
    payload = { kind: 'raw', bytes: b.slice(l4, stop) };
  }
  const packet: Mutable<Ipv4Packet> = {
    kind: 'ipv4',
    tos: b[o + 1] as number,
    id: get16(b, o + 4),
    df: (frag & 0x4000) !== 0,
    ttl: b[o + 8] as number,
    protocol,
    src,
    dst,
    payload,
  };
  if (mf) packet.mf = true;
  if (fragOffset !== 0) packet.fragOffset = fragOffset;
  if (headerLen > 20) packet.options = b.slice(o + 20, l4);
  return { ok: true, value: packet };
}

function decodeIpv6At(b: Uint8Array, o: number, end: number): DecodeResult<Ipv6Packet> {
  if (end - o < 40) return fail('truncated-ipv6');
  const word = get32(b, o);
  if (word >>> 28 !== 6) return fail('bad-ip-version');
  const stop = o + 40 + get16(b, o + 4);
  if (stop > end) return fail('truncated-ipv6');
  const nextHeader = b[o + 6] as number;
  const src = b.slice(o + 8, o + 24);
  const dst = b.slice(o + 24, o + 40);
  const l4 = o + 40;
  let payload: Ipv6Packet['payload'];
  if (nextHeader === IPPROTO_UDP) {
    const r = decodeUdp(b, l4, stop, ipv6PseudoHeaderSum(src, dst, IPPROTO_UDP, stop - l4), false);
    if (!r.ok) return r;
    payload = r.value;
  } else if (nextHeader === IPPROTO_TCP) {
    const r = decodeTcp(b, l4, stop, ipv6PseudoHeaderSum(src, dst, IPPROTO_TCP, stop - l4));
    if (!r.ok) return r;
    payload = r.value;
  } else {
    payload = { kind: 'raw', bytes: b.slice(l4, stop) };
  }
  const value: Ipv6Packet = {
    kind: 'ipv6',
    trafficClass: (word >>> 20) & 0xff,
    flowLabel: word & 0xfffff,
    nextHeader,
    hopLimit: b[o + 7] as number,
    src,
    dst,
    payload,
  };
  return { ok: true, value };
}

function decodeIcmp(b: Uint8Array, o: number, end: number): DecodeResult<IcmpMessage> {
  if (end - o < 8) return fail('truncated-icmp');
  if (internetChecksum(b, o, end) !== 0) return fail('bad-icmp-checksum');
  const type = b[o] as number;
  const code = b[o + 1] as number;
  const rest = get32(b, o + 4);
  const m: Mutable<IcmpMessage> = { kind: 'icmp', type, code, data: b.slice(o + 8, end) };
  if (icmpHasIdSeq(type)) {
    m.id = rest >>> 16;
    m.seq = rest & 0xffff;
  } else if (type === 3 && code === 4) {
    m.nextHopMtu = rest & 0xffff;
    if (rest >>> 16 !== 0) m.rest = rest;
  } else if (rest !== 0) {
    m.rest = rest;
  }
  return { ok: true, value: m };
}

function decodeUdp(b: Uint8Array, o: number, end: number, pseudo: number, zeroMeansNone: boolean): DecodeResult<UdpDatagram> {
  if (end - o < 8) return fail('truncated-udp');
  if (get16(b, o + 4) !== end - o) return fail('bad-udp-length');
  const stored = get16(b, o + 6);
  if (!(stored === 0 && zeroMeansNone) && internetChecksum(b, o, end, pseudo) !== 0) return fail('bad-udp-checksum');
  const srcPort = get16(b, o);
  const dstPort = get16(b, o + 2);
  const d = o + 8;
  let payload: UdpDatagram['payload'];
  if (VXLAN_UDP_PORTS.includes(dstPort) && isVxlanHeader(b, d, end)) {
    const inner = decodeEthernetAt(b, d + 8, end);
    if (!inner.ok) return fail(`vxlan-inner:${inner.reason}`);
    const vxlan: VxlanPacket = { kind: 'vxlan', vni: (get32(b, d + 4) >>> 8) & 0xffffff, frame: inner.value };
    payload = vxlan;
  } else {
    payload = b.slice(d, end);
  }
  return { ok: true, value: { kind: 'udp', srcPort, dstPort, payload } };
}

/** Flags exactly I (0x08), reserved bytes zero, room for an inner Ethernet header. */
function isVxlanHeader(b: Uint8Array, o: number, end: number): boolean {
  return end - o >= 8 + 14 && b[o] === 0x08 && b[o + 1] === 0 && b[o + 2] === 0 && b[o + 3] === 0 && b[o + 7] === 0;
}

function decodeTcp(b: Uint8Array, o: number, end: number, pseudo: number): DecodeResult<TcpSegment> {
  if (end - o < 20) return fail('truncated-tcp');
  const headerLen = ((b[o + 12] as number) >>> 4) * 4;
  if (headerLen < 20) return fail('bad-tcp-data-offset');
  if (o + headerLen > end) return fail('truncated-tcp');
  if (internetChecksum(b, o, end, pseudo) !== 0) return fail('bad-tcp-checksum');
  const t: Mutable<TcpSegment> = {
    kind: 'tcp',
    srcPort: get16(b, o),
    dstPort: get16(b, o + 2),
    seq: get32(b, o + 4),
    ack: get32(b, o + 8),
    flags: (b[o + 13] as number) | (((b[o + 12] as number) & 1) << 8),
    window: get16(b, o + 14),
    payload: b.slice(o + headerLen, end),
  };
  const optEnd = tcpOptionsEnd(b, o + 20, o + headerLen);
  if (optEnd > o + 20) t.options = b.slice(o + 20, optEnd);
  return { ok: true, value: t };
}

/**
 * Where the options proper end: at an End of Option List followed only by zero padding (what
 * the encoder appends), else the end of the header (malformed lists are kept byte for byte).
 */
function tcpOptionsEnd(b: Uint8Array, o: number, end: number): number {
  let i = o;
  while (i < end) {
    const kind = b[i] as number;
    if (kind === 0) {
      for (let j = i + 1; j < end; j++) if (b[j] !== 0) return end;
      return i;
    }
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= end) return end;
    const len = b[i + 1] as number;
    if (len < 2) return end;
    i += len;
  }
  return end;
}
