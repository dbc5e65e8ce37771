import type { Ipv4Packet, Ipv6Packet } from '../../packet/types.js';
import { ipPacketLength } from '../../packet/packet-encoder.js';
import type { Ip6PacketView, PacketView } from './evaluate-types.js';
import { ipv6WordsOfBytes } from './ipv6-words.js';

/** Where a packet is when netfilter sees it: its devices and its mark. */
export interface PacketViewOptions {
  /** Input device (absent in OUTPUT and locally generated POSTROUTING). */
  readonly inIface?: string;
  /** Output device (absent in PREROUTING and INPUT). */
  readonly outIface?: string;
  /** `skb->mark`; default 0. */
  readonly mark?: number;
}

/** The option kinds of a raw TCP options block (EOL ends it, NOP is one byte). */
function tcpOptionKinds(options: Uint8Array | undefined): number[] {
  const kinds: number[] = [];
  if (options === undefined) return kinds;
  let i = 0;
  while (i < options.length) {
    const kind = options[i] ?? 0;
    if (kind === 0) break;
    kinds.push(kind);
    if (kind === 1) {
      i++;
      continue;
    }
    const len = options[i + 1] ?? 0;
    if (len < 2) break;
    i += len;
  }
  return kinds;
}

/**
 * The fields netfilter matches read from a structured IPv4 packet.
 *
 * @remarks
 * Linux equivalent: what `ipt_do_table` and the matches read from the skb: addresses and
 * protocol from the IP header, the fragment offset (`par->fragoff`), ports / ICMP type and code /
 * TCP flags and options from the transport header of a first fragment, `skb->len` for the byte
 * counters.
 * @see https://github.com/torvalds/linux/blob/master/net/ipv4/netfilter/ip_tables.c
 * @example
 * ```ts
 * import { packetViewOf, evaluateChain } from '@knet/core';
 * // const view = packetViewOf(ipPacket, { inIface: 'eth0' });
 * ```
 */
export function packetViewOf(p: Ipv4Packet, options: PacketViewOptions = {}): PacketView {
  const fragment = (p.fragOffset ?? 0) !== 0;
  const view: { -readonly [K in keyof PacketView]: PacketView[K] } = {
    src: p.src,
    dst: p.dst,
    protocol: p.protocol,
    mark: options.mark ?? 0,
    length: ipPacketLength(p),
    fragment,
    ttl: p.ttl,
  };
  if (options.inIface !== undefined) view.inIface = options.inIface;
  if (options.outIface !== undefined) view.outIface = options.outIface;
  if (!fragment) {
    const l4 = p.payload;
    if (l4.kind === 'tcp') {
      view.sport = l4.srcPort;
      view.dport = l4.dstPort;
      view.tcpFlags = l4.flags;
      view.tcpOptions = tcpOptionKinds(l4.options);
    } else if (l4.kind === 'udp') {
      view.sport = l4.srcPort;
      view.dport = l4.dstPort;
    } else if (l4.kind === 'icmp') {
      view.icmpType = l4.type;
      view.icmpCode = l4.code;
    }
  }
  return view;
}

const IPPROTO_ICMPV6 = 58;

/**
 * The fields ip6tables matches read from a structured IPv6 packet: addresses as
 * `Ipv6Words`, the next header as the protocol, ports and TCP flags and options of TCP and
 * UDP, the ICMPv6 type and code (the first two bytes of an ICMPv6 payload), the hop limit as
 * `ttl`.
 *
 * @remarks
 * Linux equivalent: what `ip6t_do_table`, `ip6_packet_match` (`ipv6_find_hdr`) and the matches
 * read from the skb. knet's IPv6 packets carry no extension headers, so the next header is the
 * upper-layer protocol and no packet is a fragment.
 * @see https://github.com/torvalds/linux/blob/master/net/ipv6/netfilter/ip6_tables.c
 * @example
 * ```ts
 * import { ip6PacketViewOf, evaluateChain } from '@knet/core';
 * // const view = ip6PacketViewOf(ipv6Packet, { inIface: 'eth0' });
 * ```
 */
export function ip6PacketViewOf(p: Ipv6Packet, options: PacketViewOptions = {}): Ip6PacketView {
  const view: { -readonly [K in keyof Ip6PacketView]: Ip6PacketView[K] } = {
    src: ipv6WordsOfBytes(p.src),
    dst: ipv6WordsOfBytes(p.dst),
    protocol: p.nextHeader,
    mark: options.mark ?? 0,
    length: ipPacketLength(p),
    fragment: false,
    ttl: p.hopLimit,
  };
  if (options.inIface !== undefined) view.inIface = options.inIface;
  if (options.outIface !== undefined) view.outIface = options.outIface;
  const l4 = p.payload;
  if (l4.kind === 'tcp') {
    view.sport = l4.srcPort;
    view.dport = l4.dstPort;
    view.tcpFlags = l4.flags;
    view.tcpOptions = tcpOptionKinds(l4.options);
  } else if (l4.kind === 'udp') {
    view.sport = l4.srcPort;
    view.dport = l4.dstPort;
  } else if (p.nextHeader === IPPROTO_ICMPV6 && l4.bytes.length >= 2) {
    view.icmpType = l4.bytes[0] as number;
    view.icmpCode = l4.bytes[1] as number;
  }
  return view;
}
