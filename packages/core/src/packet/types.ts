import type { Mac } from '../ip/mac.js';

/**
 * Structured packets: what the packet engine moves around. Codecs in this folder turn them
 * into real bytes (for pcap) and back; the engine never needs the bytes on its hot path.
 *
 * IPv4 addresses are unsigned 32-bit numbers (see `ip/ipv4.ts`); IPv6 addresses are
 * 16-byte arrays.
 */

/** EtherType values used by knet. @see IEEE 802 numbers; linux include/uapi/linux/if_ether.h */
export const ETH_P_IP = 0x0800;
/** ARP EtherType. */
export const ETH_P_ARP = 0x0806;
/** IPv6 EtherType. */
export const ETH_P_IPV6 = 0x86dd;
/** 802.1Q VLAN tag EtherType. */
export const ETH_P_8021Q = 0x8100;

/** IP protocol numbers. @see IANA protocol-numbers; /etc/protocols */
export const IPPROTO_ICMP = 1;
/** IPIP (IPv4-in-IPv4). */
export const IPPROTO_IPIP = 4;
/** TCP. */
export const IPPROTO_TCP = 6;
/** UDP. */
export const IPPROTO_UDP = 17;
/** IPv6 ICMP. */
export const IPPROTO_ICMPV6 = 58;
/** SCTP. */
export const IPPROTO_SCTP = 132;

/** An Ethernet II frame (optionally 802.1Q tagged). */
export interface EthernetFrame {
  readonly dst: Mac;
  readonly src: Mac;
  /** EtherType of the payload (after any VLAN tag). */
  readonly etherType: number;
  /** 802.1Q VLAN id, when tagged. */
  readonly vlan?: number;
  readonly payload: ArpPacket | Ipv4Packet | Ipv6Packet | RawPayload;
}

/** Opaque bytes the engine does not interpret. */
export interface RawPayload {
  readonly kind: 'raw';
  readonly bytes: Uint8Array;
}

/** An ARP packet for IPv4 over Ethernet (htype 1, ptype 0x0800, hlen 6, plen 4). @see RFC 826 */
export interface ArpPacket {
  readonly kind: 'arp';
  /** 1 = request, 2 = reply. */
  readonly op: 1 | 2;
  readonly senderMac: Mac;
  readonly senderIp: number;
  readonly targetMac: Mac;
  readonly targetIp: number;
}

/** An IPv4 packet. Total length, IHL and header checksum are computed by the encoder. @see RFC 791 */
export interface Ipv4Packet {
  readonly kind: 'ipv4';
  /** DSCP/ECN byte. */
  readonly tos: number;
  /** Identification field. */
  readonly id: number;
  /** Don't Fragment. */
  readonly df: boolean;
  /** More Fragments. */
  readonly mf?: boolean;
  /** Fragment offset in 8-byte units. */
  readonly fragOffset?: number;
  readonly ttl: number;
  /** IP protocol number (IPPROTO_*). */
  readonly protocol: number;
  readonly src: number;
  readonly dst: number;
  /** Raw IPv4 options (a multiple of 4 bytes). */
  readonly options?: Uint8Array;
  readonly payload: IcmpMessage | UdpDatagram | TcpSegment | Ipv4Packet | RawPayload;
}

/** An IPv6 packet (types ready for dual-stack; the engine is IPv4 today). @see RFC 8200 */
export interface Ipv6Packet {
  readonly kind: 'ipv6';
  readonly trafficClass: number;
  readonly flowLabel: number;
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly payload: UdpDatagram | TcpSegment | RawPayload;
}

/**
 * An ICMP message. For echo request/reply (types 8/0) `id` and `seq` are set; for errors
 * (3 destination unreachable, 11 time exceeded) `data` holds the offending IP header plus at
 * least 8 bytes of its payload (RFC 792), and `nextHopMtu` is set for type 3 code 4 (RFC 1191).
 */
export interface IcmpMessage {
  readonly kind: 'icmp';
  readonly type: number;
  readonly code: number;
  readonly id?: number;
  readonly seq?: number;
  readonly nextHopMtu?: number;
  /**
   * The raw 32-bit rest-of-header word (bytes 4-7), for what the fields above do not model:
   * the redirect gateway (type 5), the parameter-problem pointer (type 12), non-zero unused
   * bits. When set, the encoder writes it instead of `id`/`seq`/`nextHopMtu`; the decoder
   * sets it only when those fields cannot reproduce the word.
   */
  readonly rest?: number;
  readonly data: Uint8Array;
}

/** A UDP datagram. Length and checksum are computed by the encoder. @see RFC 768 */
export interface UdpDatagram {
  readonly kind: 'udp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Uint8Array | VxlanPacket;
}

/** A VXLAN header and its inner frame (UDP payload). @see RFC 7348 */
export interface VxlanPacket {
  readonly kind: 'vxlan';
  /** 24-bit VXLAN Network Identifier. */
  readonly vni: number;
  readonly frame: EthernetFrame;
}

/** TCP flag bits. */
export const TCP_FIN = 0x01;
/** SYN. */
export const TCP_SYN = 0x02;
/** RST. */
export const TCP_RST = 0x04;
/** PSH. */
export const TCP_PSH = 0x08;
/** ACK. */
export const TCP_ACK = 0x10;

/** A TCP segment. Data offset and checksum are computed by the encoder. @see RFC 9293 */
export interface TcpSegment {
  readonly kind: 'tcp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** Flag bits (TCP_SYN | TCP_ACK ...). */
  readonly flags: number;
  readonly window: number;
  /** Raw TCP options (padded to a multiple of 4 by the encoder). */
  readonly options?: Uint8Array;
  readonly payload: Uint8Array;
}
