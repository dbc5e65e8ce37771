/** Packet builders for the conntrack tests. */
import { parseIpv4 } from '../../../ip/ipv4.js';
import { encodeIpv4Packet } from '../../../packet/packet-encoder.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../../../packet/types.js';
import type { Ipv4Packet, TcpSegment } from '../../../packet/types.js';

export const ip = parseIpv4;
export { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN };

let nextId = 1;

function ipv4(src: string, dst: string, protocol: number, payload: Ipv4Packet['payload']): Ipv4Packet {
  return { kind: 'ipv4', tos: 0, id: nextId++ & 0xffff, df: true, ttl: 64, protocol, src: ip(src), dst: ip(dst), payload };
}

/** A TCP segment `src:sport > dst:dport` with flags, seq, ack and window. */
export function tcp(
  src: string,
  sport: number,
  dst: string,
  dport: number,
  flags: number,
  seq = 0,
  ack = 0,
  options: { window?: number; data?: number; options?: Uint8Array } = {},
): Ipv4Packet {
  const seg: TcpSegment = {
    kind: 'tcp',
    srcPort: sport,
    dstPort: dport,
    seq: seq >>> 0,
    ack: ack >>> 0,
    flags,
    window: options.window ?? 64240,
    ...(options.options !== undefined ? { options: options.options } : {}),
    payload: new Uint8Array(options.data ?? 0),
  };
  return ipv4(src, dst, IPPROTO_TCP, seg);
}

/** A UDP datagram. */
export function udp(src: string, sport: number, dst: string, dport: number, data = 'q'): Ipv4Packet {
  return ipv4(src, dst, IPPROTO_UDP, { kind: 'udp', srcPort: sport, dstPort: dport, payload: new TextEncoder().encode(data) });
}

/** An ICMP echo request (type 8) or reply (type 0). */
export function echo(src: string, dst: string, type: 0 | 8, id: number, seq = 1): Ipv4Packet {
  return ipv4(src, dst, IPPROTO_ICMP, { kind: 'icmp', type, code: 0, id, seq, data: new Uint8Array(56) });
}

/** An ICMP error (type/code) from `src` to `dst` about `about`, quoting its header and `quote` payload bytes. */
export function icmpError(src: string, dst: string, type: number, code: number, about: Ipv4Packet, quote = 8): Ipv4Packet {
  const bytes = encodeIpv4Packet(about);
  const ihl = ((bytes[0] ?? 0) & 0x0f) * 4;
  return ipv4(src, dst, IPPROTO_ICMP, { kind: 'icmp', type, code, data: bytes.slice(0, Math.min(bytes.length, ihl + quote)) });
}

/** A packet of another IP protocol with raw payload. */
export function other(src: string, dst: string, protocol: number): Ipv4Packet {
  return ipv4(src, dst, protocol, { kind: 'raw', bytes: new Uint8Array(4) });
}

/** Nanoseconds in `s` seconds. */
export const sec = (s: number): number => s * 1e9;
