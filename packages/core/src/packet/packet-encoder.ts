import { KnetError } from '../errors/knet-error.js';
import type { Mac } from '../ip/mac.js';
import { internetChecksum, ipv4PseudoHeaderSum, ipv6PseudoHeaderSum } from './checksum.js';
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

/*
 * Encoding is two passes over the structure: the lengths first (one allocation of the exact
 * size), then the bytes written in place, innermost checksums before the outer ones that
 * cover them. No intermediate arrays, no BigInt: this runs for every frame a trace captures.
 */

/** Size of the Ethernet II header (no FCS: captures on Linux never include it). */
export const ETHERNET_HEADER_LENGTH = 14;
/** Size of the VXLAN header. @see RFC 7348 section 5 */
export const VXLAN_HEADER_LENGTH = 8;

/**
 * Encodes an Ethernet II frame, and everything inside it, into the bytes a capture shows.
 *
 * Computed by the encoder, never taken from the structure: IPv4 IHL, total length and header
 * checksum; ICMP checksum; UDP length and checksum (a computed 0 is sent as 0xffff); TCP data
 * offset, option padding and checksum; the VXLAN header (flags 0x08, VNI) before the inner
 * frame.
 *
 * @remarks
 * Frames are not padded to the 60-byte Ethernet minimum and carry no FCS. A NIC pads short
 * frames on the wire, but Linux captures are taken before that: `tcpdump -i veth0` shows a
 * 42-byte ARP request and a 54-byte TCP RST unpadded, and that is what a knet trace models
 * (veth, bridge, vxlan devices). Receivers ignore trailing padding, and so does
 * {@link decodeEthernetFrame}.
 *
 * Linux equivalent: the bytes `dev_queue_xmit()` hands a device, as `tcpdump -w` saves them.
 * @throws KnetError `EINVAL` for a field out of range (a port above 65535, a VNI above 2^24-1,
 * IPv4 options not a multiple of 4 bytes, a packet above 65535 bytes), or a payload whose kind
 * contradicts its EtherType / protocol number (`etherType: ETH_P_ARP` with an IPv4 payload).
 * @see RFC 894 (IPv4 over Ethernet); IEEE 802.1Q; RFC 826; RFC 791; RFC 792; RFC 1191;
 * RFC 768; RFC 9293; RFC 7348
 * @example
 * ```ts
 * import { encodeEthernetFrame, ETH_P_ARP, parseIpv4 } from '@knet/core';
 * const bytes = encodeEthernetFrame({
 *   dst: 'ff:ff:ff:ff:ff:ff', src: '0a:58:0a:f4:01:02', etherType: ETH_P_ARP,
 *   payload: { kind: 'arp', op: 1, senderMac: '0a:58:0a:f4:01:02', senderIp: parseIpv4('10.244.1.2'),
 *     targetMac: '00:00:00:00:00:00', targetIp: parseIpv4('10.244.1.1') },
 * });
 * bytes.length; // 42
 * ```
 */
export function encodeEthernetFrame(frame: EthernetFrame): Uint8Array {
  const out = new Uint8Array(ethernetFrameLength(frame));
  writeEthernet(frame, out, 0);
  return out;
}

/**
 * Encodes an IPv4 packet on its own, without a link-layer header: what a capture on an L3
 * device (tun, ipip) holds, LINKTYPE_RAW.
 *
 * @remarks Same rules as {@link encodeEthernetFrame}. Linux equivalent: the packet as
 * `tcpdump -i tunl0 -w` saves it.
 * @throws KnetError `EINVAL` as {@link encodeEthernetFrame}.
 * @see RFC 791
 * @example
 * ```ts
 * import { encodeIpv4Packet, IPPROTO_UDP, parseIpv4 } from '@knet/core';
 * const bytes = encodeIpv4Packet({
 *   kind: 'ipv4', tos: 0, id: 1, df: true, ttl: 64, protocol: IPPROTO_UDP,
 *   src: parseIpv4('10.244.1.2'), dst: parseIpv4('10.244.2.3'),
 *   payload: { kind: 'udp', srcPort: 40000, dstPort: 40001, payload: new Uint8Array(5) },
 * });
 * bytes.length; // 33
 * ```
 */
export function encodeIpv4Packet(packet: Ipv4Packet): Uint8Array {
  const out = new Uint8Array(ipv4Length(packet));
  writeIpv4(packet, out, 0);
  return out;
}

/**
 * Encodes an IPv6 packet on its own (LINKTYPE_RAW), payload length and UDP/TCP checksums
 * computed.
 *
 * @throws KnetError `EINVAL` as {@link encodeEthernetFrame}, and for addresses that are not 16 bytes.
 * @see RFC 8200
 * @example
 * ```ts
 * import { encodeIpv6Packet, IPPROTO_UDP } from '@knet/core';
 * const lo = new Uint8Array(16); lo[15] = 1;
 * encodeIpv6Packet({ kind: 'ipv6', trafficClass: 0, flowLabel: 0, nextHeader: IPPROTO_UDP, hopLimit: 64,
 *   src: lo, dst: lo, payload: { kind: 'udp', srcPort: 1, dstPort: 2, payload: new Uint8Array(0) } }).length; // 48
 * ```
 */
export function encodeIpv6Packet(packet: Ipv6Packet): Uint8Array {
  const out = new Uint8Array(ipv6Length(packet));
  writeIpv6(packet, out, 0);
  return out;
}

/**
 * The length in bytes of `frame` once encoded (Ethernet header included, no FCS, no padding):
 * the `length` that `tcpdump -e` prints.
 *
 * @throws KnetError `EINVAL` for lengths above what the headers can carry.
 * @example
 * ```ts
 * // ethernetFrameLength(icmpEchoFrame) === 98 for a default `ping` (56 data bytes)
 * ```
 */
export function ethernetFrameLength(frame: EthernetFrame): number {
  const header = frame.vlan === undefined ? ETHERNET_HEADER_LENGTH : ETHERNET_HEADER_LENGTH + 4;
  const p = frame.payload;
  switch (p.kind) {
    case 'arp':
      return header + 28;
    case 'ipv4':
      return header + ipv4Length(p);
    case 'ipv6':
      return header + ipv6Length(p);
    case 'raw':
      return header + p.bytes.length;
  }
}

/**
 * The total length of an IP packet once encoded: the IPv4 `tot_len` field, or 40 plus the
 * IPv6 payload length.
 *
 * @remarks Compare it with a device MTU to decide fragmentation or ICMP "need to frag".
 * @throws KnetError `EINVAL` when the packet exceeds 65535 bytes (IPv4) or its payload does (IPv6).
 * @example
 * ```ts
 * // ipPacketLength(pingPacket) === 84
 * ```
 */
export function ipPacketLength(packet: Ipv4Packet | Ipv6Packet): number {
  return packet.kind === 'ipv4' ? ipv4Length(packet) : ipv6Length(packet);
}

function ipv4Length(p: Ipv4Packet): number {
  const options = p.options === undefined ? 0 : p.options.length;
  const total = 20 + options + l4Length(p.payload);
  if (total > 0xffff) invalid('IPv4 packet longer than 65535 bytes', 'totalLength', total);
  return total;
}

function ipv6Length(p: Ipv6Packet): number {
  const payload = l4Length(p.payload);
  if (payload > 0xffff) invalid('IPv6 payload longer than 65535 bytes', 'payloadLength', payload);
  return 40 + payload;
}

function l4Length(p: Ipv4Packet['payload'] | Ipv6Packet['payload']): number {
  switch (p.kind) {
    case 'icmp':
      return 8 + p.data.length;
    case 'udp':
      return 8 + (p.payload instanceof Uint8Array ? p.payload.length : vxlanLength(p.payload));
    case 'tcp':
      return 20 + (p.options === undefined ? 0 : (p.options.length + 3) & ~3) + p.payload.length;
    case 'ipv4':
      return ipv4Length(p);
    case 'raw':
      return p.bytes.length;
  }
}

function vxlanLength(v: VxlanPacket): number {
  return VXLAN_HEADER_LENGTH + ethernetFrameLength(v.frame);
}

/** Writes `frame` at `o`; returns the offset after it. */
function writeEthernet(frame: EthernetFrame, out: Uint8Array, o: number): number {
  writeMac(out, o, frame.dst, 'dst');
  writeMac(out, o + 6, frame.src, 'src');
  o += 12;
  if (frame.vlan !== undefined) {
    checkRange(frame.vlan, 0xfff, 'vlan');
    put16(out, o, ETH_P_8021Q);
    put16(out, o + 2, frame.vlan);
    o += 4;
  }
  checkRange(frame.etherType, 0xffff, 'etherType');
  put16(out, o, frame.etherType);
  o += 2;
  const p = frame.payload;
  switch (p.kind) {
    case 'arp':
      expectType(frame.etherType, ETH_P_ARP, 'etherType', 'arp');
      return writeArp(p, out, o);
    case 'ipv4':
      expectType(frame.etherType, ETH_P_IP, 'etherType', 'ipv4');
      return writeIpv4(p, out, o);
    case 'ipv6':
      expectType(frame.etherType, ETH_P_IPV6, 'etherType', 'ipv6');
      return writeIpv6(p, out, o);
    case 'raw':
      out.set(p.bytes, o);
      return o + p.bytes.length;
  }
}

function writeArp(a: ArpPacket, out: Uint8Array, o: number): number {
  if (a.op !== 1 && a.op !== 2) invalid('ARP op must be 1 (request) or 2 (reply)', 'op', a.op);
  put16(out, o, 1); // htype Ethernet
  put16(out, o + 2, ETH_P_IP);
  out[o + 4] = 6;
  out[o + 5] = 4;
  put16(out, o + 6, a.op);
  writeMac(out, o + 8, a.senderMac, 'senderMac');
  put32(out, o + 14, checkAddr(a.senderIp, 'senderIp'));
  writeMac(out, o + 18, a.targetMac, 'targetMac');
  put32(out, o + 24, checkAddr(a.targetIp, 'targetIp'));
  return o + 28;
}

function writeIpv4(p: Ipv4Packet, out: Uint8Array, o: number): number {
  const optLen = p.options === undefined ? 0 : p.options.length;
  if (optLen % 4 !== 0 || optLen > 40) invalid('IPv4 options must be a multiple of 4 bytes, at most 40', 'options', optLen);
  const headerLen = 20 + optLen;
  const total = ipv4Length(p);
  checkRange(p.tos, 0xff, 'tos');
  checkRange(p.id, 0xffff, 'id');
  checkRange(p.ttl, 0xff, 'ttl');
  checkRange(p.protocol, 0xff, 'protocol');
  const fragOffset = p.fragOffset ?? 0;
  checkRange(fragOffset, 0x1fff, 'fragOffset');
  const fragmented = p.mf === true || fragOffset !== 0;
  out[o] = 0x40 | (headerLen >>> 2);
  out[o + 1] = p.tos;
  put16(out, o + 2, total);
  put16(out, o + 4, p.id);
  put16(out, o + 6, (p.df ? 0x4000 : 0) | (p.mf === true ? 0x2000 : 0) | fragOffset);
  out[o + 8] = p.ttl;
  out[o + 9] = p.protocol;
  // bytes 10-11 (checksum) stay zero until the header is complete
  put32(out, o + 12, checkAddr(p.src, 'src'));
  put32(out, o + 16, checkAddr(p.dst, 'dst'));
  if (p.options !== undefined) out.set(p.options, o + 20);
  const l4 = o + headerLen;
  const end = o + total;
  const payload = p.payload;
  if (payload.kind !== 'raw') {
    // A fragment carries a slice of the upper-layer bytes: only raw bytes can describe it.
    if (fragmented) invalid('a fragment (MF or offset set) must carry a raw payload', 'payload', payload.kind);
    expectType(p.protocol, PROTOCOL_OF[payload.kind], 'protocol', payload.kind);
  }
  switch (payload.kind) {
    case 'icmp':
      writeIcmp(payload, out, l4, end);
      break;
    case 'udp':
      writeUdp(payload, out, l4, end, ipv4PseudoHeaderSum(p.src, p.dst, IPPROTO_UDP, end - l4));
      break;
    case 'tcp':
      writeTcp(payload, out, l4, end, ipv4PseudoHeaderSum(p.src, p.dst, IPPROTO_TCP, end - l4));
      break;
    case 'ipv4':
      writeIpv4(payload, out, l4);
      break;
    case 'raw':
      out.set(payload.bytes, l4);
      break;
  }
  put16(out, o + 10, internetChecksum(out, o, l4));
  return end;
}

const PROTOCOL_OF = { icmp: IPPROTO_ICMP, udp: IPPROTO_UDP, tcp: IPPROTO_TCP, ipv4: IPPROTO_IPIP } as const;

function writeIpv6(p: Ipv6Packet, out: Uint8Array, o: number): number {
  const total = ipv6Length(p);
  checkRange(p.trafficClass, 0xff, 'trafficClass');
  checkRange(p.flowLabel, 0xfffff, 'flowLabel');
  checkRange(p.nextHeader, 0xff, 'nextHeader');
  checkRange(p.hopLimit, 0xff, 'hopLimit');
  if (p.src.length !== 16) invalid('IPv6 source must be 16 bytes', 'src', p.src.length);
  if (p.dst.length !== 16) invalid('IPv6 destination must be 16 bytes', 'dst', p.dst.length);
  put32(out, o, ((6 << 28) | (p.trafficClass << 20) | p.flowLabel) >>> 0);
  put16(out, o + 4, total - 40);
  out[o + 6] = p.nextHeader;
  out[o + 7] = p.hopLimit;
  out.set(p.src, o + 8);
  out.set(p.dst, o + 24);
  const l4 = o + 40;
  const end = o + total;
  const payload = p.payload;
  switch (payload.kind) {
    case 'udp':
      expectType(p.nextHeader, IPPROTO_UDP, 'nextHeader', 'udp');
      writeUdp(payload, out, l4, end, ipv6PseudoHeaderSum(p.src, p.dst, IPPROTO_UDP, end - l4));
      break;
    case 'tcp':
      expectType(p.nextHeader, IPPROTO_TCP, 'nextHeader', 'tcp');
      writeTcp(payload, out, l4, end, ipv6PseudoHeaderSum(p.src, p.dst, IPPROTO_TCP, end - l4));
      break;
    case 'raw':
      out.set(payload.bytes, l4);
      break;
  }
  return end;
}

/**
 * True for the ICMP types whose bytes 4-7 are an identifier and a sequence number: echo
 * (0, 8), timestamp (13, 14), information (15, 16) and address mask (17, 18).
 *
 * @see RFC 792; RFC 950 appendix I
 * @example
 * ```ts
 * icmpHasIdSeq(8); // true: echo request
 * icmpHasIdSeq(3); // false: destination unreachable
 * ```
 */
export function icmpHasIdSeq(type: number): boolean {
  return type === 0 || type === 8 || (type >= 13 && type <= 18);
}

function writeIcmp(m: IcmpMessage, out: Uint8Array, o: number, end: number): void {
  checkRange(m.type, 0xff, 'type');
  checkRange(m.code, 0xff, 'code');
  out[o] = m.type;
  out[o + 1] = m.code;
  if (m.rest !== undefined) {
    put32(out, o + 4, checkAddr(m.rest, 'rest'));
  } else if (icmpHasIdSeq(m.type)) {
    put16(out, o + 4, checkRange(m.id ?? 0, 0xffff, 'id'));
    put16(out, o + 6, checkRange(m.seq ?? 0, 0xffff, 'seq'));
  } else if (m.type === 3 && m.code === 4) {
    // RFC 1191: the low 16 bits of the unused field carry the next-hop MTU.
    put16(out, o + 6, checkRange(m.nextHopMtu ?? 0, 0xffff, 'nextHopMtu'));
  }
  out.set(m.data, o + 8);
  put16(out, o + 2, internetChecksum(out, o, end));
}

function writeUdp(u: UdpDatagram, out: Uint8Array, o: number, end: number, pseudo: number): void {
  put16(out, o, checkRange(u.srcPort, 0xffff, 'srcPort'));
  put16(out, o + 2, checkRange(u.dstPort, 0xffff, 'dstPort'));
  put16(out, o + 4, end - o);
  if (u.payload instanceof Uint8Array) {
    out.set(u.payload, o + 8);
  } else {
    const v = u.payload;
    checkRange(v.vni, 0xffffff, 'vni');
    out[o + 8] = 0x08; // flags: I (valid VNI); the reserved fields stay zero
    out[o + 12] = v.vni >>> 16;
    out[o + 13] = (v.vni >>> 8) & 0xff;
    out[o + 14] = v.vni & 0xff;
    writeEthernet(v.frame, out, o + 16);
  }
  const sum = internetChecksum(out, o, end, pseudo);
  // RFC 768: a computed zero is sent as all ones; zero on the wire means "no checksum".
  put16(out, o + 6, sum === 0 ? 0xffff : sum);
}

function writeTcp(t: TcpSegment, out: Uint8Array, o: number, end: number, pseudo: number): void {
  const optLen = t.options === undefined ? 0 : t.options.length;
  const padded = (optLen + 3) & ~3;
  if (padded > 40) invalid('TCP options longer than 40 bytes', 'options', optLen);
  put16(out, o, checkRange(t.srcPort, 0xffff, 'srcPort'));
  put16(out, o + 2, checkRange(t.dstPort, 0xffff, 'dstPort'));
  put32(out, o + 4, checkAddr(t.seq, 'seq'));
  put32(out, o + 8, checkAddr(t.ack, 'ack'));
  checkRange(t.flags, 0x1ff, 'flags');
  // data offset in the high nibble; bit 8 of the flags (NS, RFC 3540 / AE) in the low bit
  out[o + 12] = (((20 + padded) >>> 2) << 4) | (t.flags >>> 8);
  out[o + 13] = t.flags & 0xff;
  put16(out, o + 14, checkRange(t.window, 0xffff, 'window'));
  // checksum (16-17) computed last, urgent pointer (18-19) zero: knet does not model URG data
  if (t.options !== undefined) out.set(t.options, o + 20); // padding bytes stay 0 (End of Option List)
  out.set(t.payload, o + 20 + padded);
  put16(out, o + 16, internetChecksum(out, o, end, pseudo));
}

function put16(out: Uint8Array, o: number, v: number): void {
  out[o] = v >>> 8;
  out[o + 1] = v & 0xff;
}

function put32(out: Uint8Array, o: number, v: number): void {
  out[o] = v >>> 24;
  out[o + 1] = (v >>> 16) & 0xff;
  out[o + 2] = (v >>> 8) & 0xff;
  out[o + 3] = v & 0xff;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function writeMac(out: Uint8Array, o: number, mac: Mac, field: string): void {
  if (mac.length !== 17) invalid(`invalid MAC address "${mac}"`, field, mac);
  for (let i = 0; i < 6; i++) {
    const hi = hexValue(mac.charCodeAt(i * 3));
    const lo = hexValue(mac.charCodeAt(i * 3 + 1));
    if (hi < 0 || lo < 0 || (i < 5 && mac.charCodeAt(i * 3 + 2) !== 58)) invalid(`invalid MAC address "${mac}"`, field, mac);
    out[o + i] = (hi << 4) | lo;
  }
}

function checkRange(v: number, max: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max) invalid(`${field} must be an integer in 0..${max}`, field, v);
  return v;
}

function checkAddr(v: number, field: string): number {
  return checkRange(v, 0xffffffff, field);
}

function expectType(actual: number, expected: number, field: string, kind: string): void {
  if (actual !== expected) {
    invalid(`${field} ${actual} does not match a ${kind} payload (expected ${expected})`, field, actual);
  }
}

function invalid(message: string, field: string, value: unknown): never {
  throw new KnetError('EINVAL', message, { field, value });
}
