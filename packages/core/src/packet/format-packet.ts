import { formatIpv4 } from '../ip/ipv4.js';
import { ethernetFrameLength } from './packet-encoder.js';
import { ETH_P_8021Q, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, IPPROTO_TCP, IPPROTO_UDP } from './types.js';
import type { ArpPacket, EthernetFrame, IcmpMessage, Ipv4Packet, Ipv6Packet, TcpSegment, UdpDatagram } from './types.js';

/**
 * A tcpdump-style summary of a frame, as `tcpdump -e -n -S -t` prints it: link layer, then
 * network and transport layers.
 *
 * ```
 * 0a:58:0a:f4:01:02 > 0a:58:0a:f4:01:01, ethertype IPv4 (0x0800), length 98: 10.244.1.2 > 10.244.2.3: ICMP echo request, id 1, seq 1, length 64
 * 0a:58:0a:f4:01:02 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.244.1.1 tell 10.244.1.2, length 28
 * ```
 *
 * @remarks
 * Conventions, checked against tcpdump 4.99 on real captures (`__fixtures__/capture-lab.*`):
 * - As with `-e`, the EtherType is named and the "IP "/"ARP, " prefixes are left out.
 * - TCP sequence numbers are absolute, as with `-S`: a one-packet formatter has no
 *   conversation to make them relative to.
 * - VXLAN (UDP to 4789 or 8472, as the decoder decides) prints the outer packet, then
 *   `VXLAN, flags [I] (0x08), vni N` and, on the next line, the inner frame, as tcpdump does.
 *   tcpdump itself names port 8472 "OTV" (Cisco Overlay Transport Virtualization uses the same
 *   header): it prints `OTV, flags [I] (0x08), overlay 0, instance N` there.
 * - Application protocols are not dissected: where tcpdump recognises a well-known port
 *   (DNS on 53, HTTP on 80/8080, ...) it appends more than `UDP, length N` / `length N`.
 * - `length` is that of the encoded frame (no padding, no FCS), what tcpdump shows on a veth.
 * - Bytes knet keeps raw are summarised, not dissected: the first fragment of a datagram
 *   prints `ip-proto-17 1480` where tcpdump reads the UDP/TCP header inside it, and an
 *   unknown EtherType ends at `length N:` where tcpdump adds a hex dump.
 *
 * Linux equivalent: the line `tcpdump -e -n -S -t -i <dev>` prints for the frame.
 * @see tcpdump(8); tcpdump print-ether.c, print-arp.c, print-ip.c, print-icmp.c, print-tcp.c,
 * print-udp.c, print-vxlan.c
 * @example
 * ```ts
 * import { formatPacket } from '@knet/core';
 * declare const frame: import('@knet/core').EthernetFrame;
 * console.log(formatPacket(frame));
 * ```
 */
export function formatPacket(frame: EthernetFrame, options: FormatPacketOptions = {}): string {
  return formatFrame(frame, options.linkLayer ?? true);
}

/** Options for {@link formatPacket}. */
export interface FormatPacketOptions {
  /**
   * Print the Ethernet header, as `tcpdump -e` does (default `true`). With `false` the line is
   * what plain `tcpdump -n` prints: `IP 10.244.1.2 > 10.244.2.3: ...`, `ARP, Request ...`.
   */
  readonly linkLayer?: boolean;
}

function formatFrame(frame: EthernetFrame, e: boolean): string {
  if (!e) return formatFrameBody(frame, false);
  let s = `${frame.src} > ${frame.dst}, `;
  const length = ethernetFrameLength(frame);
  if (frame.vlan !== undefined) {
    s += `ethertype 802.1Q (0x8100), length ${length}: vlan ${frame.vlan}, p 0, `;
    s += `ethertype ${etherTypeName(frame.etherType)} (0x${hex(frame.etherType, 4)}), `;
  } else {
    s += `ethertype ${etherTypeName(frame.etherType)} (0x${hex(frame.etherType, 4)}), length ${length}: `;
  }
  return frame.payload.kind === 'raw' ? s.slice(0, -1) : s + formatFrameBody(frame, true);
}

/** The frame after its link-layer header; without -e, tcpdump names the protocol first. */
function formatFrameBody(frame: EthernetFrame, e: boolean): string {
  // without -e, tcpdump 4.99 prints nothing of an 802.1Q tag either
  const p = frame.payload;
  switch (p.kind) {
    case 'arp':
      return `${e ? '' : 'ARP, '}${formatArp(p)}`;
    case 'ipv4':
      return `${e ? '' : 'IP '}${formatIpv4Body(p, e)}`;
    case 'ipv6':
      return `${e ? '' : 'IP6 '}${formatIpv6Body(p, e)}`;
    case 'raw':
      return `ethertype ${etherTypeName(frame.etherType)} (0x${hex(frame.etherType, 4)}), length ${ethernetFrameLength(frame)}:`;
  }
}

/**
 * A tcpdump-style summary of an IP packet without a link layer, as `tcpdump -n -S -t` prints
 * it for an L3 device (tun, ipip; LINKTYPE_RAW): `IP 10.244.1.2 > 10.244.2.3: ICMP echo request,
 * id 1, seq 1, length 64`.
 *
 * @remarks Same conventions as {@link formatPacket}; the line starts with `IP ` / `IP6 `.
 * Linux equivalent: `tcpdump -n -S -t -i tunl0`.
 * @see tcpdump(8); tcpdump print-raw.c, print-ip.c
 * @example
 * ```ts
 * import { formatIpPacket } from '@knet/core';
 * declare const packet: import('@knet/core').Ipv4Packet;
 * formatIpPacket(packet).startsWith('IP '); // true
 * ```
 */
export function formatIpPacket(packet: Ipv4Packet | Ipv6Packet): string {
  return packet.kind === 'ipv4' ? `IP ${formatIpv4Body(packet, false)}` : `IP6 ${formatIpv6Body(packet, false)}`;
}

const ETHERTYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [ETH_P_IP, 'IPv4'],
  [ETH_P_ARP, 'ARP'],
  [ETH_P_IPV6, 'IPv6'],
  [ETH_P_8021Q, '802.1Q'],
  [0x8035, 'Reverse ARP'],
  [0x88a8, '802.1Q-QinQ'],
  [0x8847, 'MPLS unicast'],
  [0x8848, 'MPLS multicast'],
  [0x88cc, 'LLDP'],
]);

function etherTypeName(t: number): string {
  return ETHERTYPE_NAMES.get(t) ?? 'Unknown';
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function formatArp(a: ArpPacket): string {
  if (a.op === 1) {
    const tha = a.targetMac === '00:00:00:00:00:00' ? '' : ` (${a.targetMac})`;
    return `Request who-has ${formatIpv4(a.targetIp)}${tha} tell ${formatIpv4(a.senderIp)}, length 28`;
  }
  return `Reply ${formatIpv4(a.senderIp)} is-at ${a.senderMac}, length 28`;
}

function formatIpv4Body(p: Ipv4Packet, e: boolean): string {
  const src = formatIpv4(p.src);
  const dst = formatIpv4(p.dst);
  const payload = p.payload;
  switch (payload.kind) {
    case 'tcp':
      return formatTcp(src, dst, payload);
    case 'udp':
      return formatUdp(src, dst, payload, e);
    case 'icmp':
      return `${src} > ${dst}: ${formatIcmp(payload)}`;
    case 'ipv4':
      return `${src} > ${dst}: ${e ? '' : 'IP '}${formatIpv4Body(payload, e)}`;
    case 'raw':
      return `${src} > ${dst}: ${formatRawProtocol(p.protocol, payload.bytes.length, (p.fragOffset ?? 0) !== 0)}`;
  }
}

function formatIpv6Body(p: Ipv6Packet, e: boolean): string {
  const src = formatIpv6(p.src);
  const dst = formatIpv6(p.dst);
  const payload = p.payload;
  switch (payload.kind) {
    case 'tcp':
      return formatTcp(src, dst, payload);
    case 'udp':
      return formatUdp(src, dst, payload, e);
    case 'raw':
      return `${src} > ${dst}: ${formatRawProtocol(p.nextHeader, payload.bytes.length, false)}`;
  }
}

/** An upper layer knet keeps as bytes: tcpdump's `ip-proto-N LEN`, or the name for a later fragment. */
function formatRawProtocol(protocol: number, length: number, laterFragment: boolean): string {
  // -n: no protocol names from /etc/protocols
  if (laterFragment) return `ip-proto-${protocol}`;
  // tcpdump 4.99 prints two spaces here (ip_demux_print adds one after "src > dst: ")
  return ` ip-proto-${protocol} ${length}`;
}

function formatUdp(src: string, dst: string, u: UdpDatagram, e: boolean): string {
  const head = `${src}.${u.srcPort} > ${dst}.${u.dstPort}: `;
  if (u.payload instanceof Uint8Array) return `${head}UDP, length ${u.payload.length}`;
  return `${head}VXLAN, flags [I] (0x08), vni ${u.payload.vni}\n${formatFrame(u.payload.frame, e)}`;
}

/** tcpdump's flag letters, in its order: FIN, SYN, RST, PUSH, ACK, URG, ECE, CWR (4.99.3 prints nothing for the AE/NS bit). */
const TCP_FLAG_LETTERS: readonly (readonly [number, string])[] = [
  [0x01, 'F'],
  [0x02, 'S'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x10, '.'],
  [0x20, 'U'],
  [0x40, 'E'],
  [0x80, 'W'],
];

function formatTcp(src: string, dst: string, t: TcpSegment): string {
  let flags = '';
  for (const [bit, letter] of TCP_FLAG_LETTERS) if ((t.flags & bit) !== 0) flags += letter;
  let s = `${src}.${t.srcPort} > ${dst}.${t.dstPort}: Flags [${flags === '' ? 'none' : flags}]`;
  const length = t.payload.length;
  if (length > 0) s += `, seq ${t.seq}:${(t.seq + length) >>> 0}`;
  else if ((t.flags & 0x07) !== 0) s += `, seq ${t.seq}`;
  if ((t.flags & 0x10) !== 0) s += `, ack ${t.ack}`;
  s += `, win ${t.window}`;
  // URG: knet writes an urgent pointer of 0
  if ((t.flags & 0x20) !== 0) s += ', urg 0';
  if (t.options !== undefined && t.options.length > 0) s += `, options [${formatTcpOptions(t.options)}]`;
  return `${s}, length ${length}`;
}

function formatTcpOptions(o: Uint8Array): string {
  const parts: string[] = [];
  // the encoder pads to a multiple of 4 with EOL bytes: tcpdump prints them as "eol"
  const end = (o.length + 3) & ~3;
  let i = 0;
  while (i < end) {
    const kind = o[i] ?? 0;
    if (kind === 0) {
      parts.push('eol');
      break;
    }
    if (kind === 1) {
      parts.push('nop');
      i++;
      continue;
    }
    const len = o[i + 1] ?? 0;
    if (len < 2 || i + len > end) {
      parts.push('bad opt');
      break;
    }
    const d = i + 2;
    const u32 = (k: number): number => (((o[k] ?? 0) << 24) | ((o[k + 1] ?? 0) << 16) | ((o[k + 2] ?? 0) << 8) | (o[k + 3] ?? 0)) >>> 0;
    if (kind === 2 && len === 4) parts.push(`mss ${((o[d] ?? 0) << 8) | (o[d + 1] ?? 0)}`);
    else if (kind === 3 && len === 3) parts.push(`wscale ${o[d] ?? 0}`);
    else if (kind === 4 && len === 2) parts.push('sackOK');
    else if (kind === 8 && len === 10) parts.push(`TS val ${u32(d)} ecr ${u32(d + 4)}`);
    else if (kind === 5 && (len - 2) % 8 === 0) {
      let sack = `sack ${(len - 2) / 8}`;
      for (let k = d; k < i + len; k += 8) sack += ` {${u32(k)}:${u32(k + 4)}}`;
      parts.push(sack);
    } else {
      let text = `unknown-${kind}`;
      if (len > 2) {
        text += ' 0x';
        for (let k = d; k < i + len; k++) text += hex(o[k] ?? 0, 2);
      }
      parts.push(text);
    }
    i += len;
  }
  return parts.join(',');
}

const UNREACH_FORMATS: ReadonlyMap<number, string> = new Map([
  [0, 'net %s unreachable'],
  [1, 'host %s unreachable'],
  [5, '%s unreachable - source route failed'],
  [6, 'net %s unreachable - unknown'],
  [7, 'host %s unreachable - unknown'],
  [8, '%s unreachable - source host isolated'],
  [9, 'net %s unreachable - admin prohibited'],
  [10, 'host %s unreachable - admin prohibited'],
  [11, 'net %s unreachable - tos prohibited'],
  [12, 'host %s unreachable - tos prohibited'],
  [13, 'host %s unreachable - admin prohibited filter'],
  [14, 'host %s unreachable - host precedence violation'],
  [15, 'host %s unreachable - precedence cutoff'],
]);

const ICMP_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'echo reply'],
  [4, 'source quench'],
  [8, 'echo request'],
  [10, 'router solicitation'],
  [15, 'information request'],
  [16, 'information reply'],
  [17, 'address mask request'],
]);

const REDIRECT_FORMATS: ReadonlyMap<number, string> = new Map([
  [0, 'redirect %s to net %s'],
  [1, 'redirect %s to host %s'],
  [2, 'redirect-tos %s to net %s'],
  [3, 'redirect-tos %s to host %s'],
]);

function formatIcmp(m: IcmpMessage): string {
  return `ICMP ${icmpText(m)}, length ${8 + m.data.length}`;
}

function icmpText(m: IcmpMessage): string {
  const d = m.data;
  // the quoted (offending) IP header: destination at bytes 16-19, protocol at 9
  const quotedDst = d.length >= 20 ? formatIpv4(((d[16] ?? 0) * 0x1000000 + ((d[17] ?? 0) << 16) + ((d[18] ?? 0) << 8) + (d[19] ?? 0)) >>> 0) : '?';
  const rest = m.rest ?? 0;
  switch (m.type) {
    case 0:
    case 8:
      return `echo ${m.type === 8 ? 'request' : 'reply'}, id ${m.id ?? rest >>> 16}, seq ${m.seq ?? rest & 0xffff}`;
    case 3: {
      if (m.code === 2) return `${quotedDst} protocol ${d[9] ?? 0} unreachable`;
      if (m.code === 3) {
        const ihl = ((d[0] ?? 0) & 0x0f) * 4;
        const port = ((d[ihl + 2] ?? 0) << 8) | (d[ihl + 3] ?? 0);
        const proto = d[9] ?? 0;
        if (proto === IPPROTO_TCP) return `${quotedDst} tcp port ${port} unreachable`;
        if (proto === IPPROTO_UDP) return `${quotedDst} udp port ${port} unreachable`;
        return `${quotedDst} protocol ${proto} port ${port} unreachable`;
      }
      if (m.code === 4) {
        const mtu = m.nextHopMtu ?? rest & 0xffff;
        return mtu !== 0 ? `${quotedDst} unreachable - need to frag (mtu ${mtu})` : `${quotedDst} unreachable - need to frag`;
      }
      const fmt = UNREACH_FORMATS.get(m.code) ?? `#${m.code} %s unreachable`;
      return fmt.replace('%s', quotedDst);
    }
    case 5: {
      const fmt = REDIRECT_FORMATS.get(m.code) ?? `redirect-#${m.code} %s to %s`;
      return fmt.replace('%s', quotedDst).replace('%s', formatIpv4(rest));
    }
    case 11:
      if (m.code === 0) return 'time exceeded in-transit';
      if (m.code === 1) return 'ip reassembly time exceeded';
      return `time exceeded-#${m.code}`;
    case 12:
      return m.code !== 0 ? `parameter problem - code ${m.code}` : `parameter problem - octet ${rest >>> 24}`;
    case 13:
      return `time stamp query id ${m.id ?? 0} seq ${m.seq ?? 0}`;
    default:
      return ICMP_NAMES.get(m.type) ?? `type-#${m.type}`;
  }
}

/** RFC 5952 text form: lowercase, the longest run (2+) of zero groups compressed to `::`. */
function formatIpv6(a: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((a[i] ?? 0) << 8) | (a[i + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const text = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return text(groups);
  return `${text(groups.slice(0, bestStart))}::${text(groups.slice(bestStart + bestLen))}`;
}
