/**
 * Hand-built frames shared by the packet tests: every kind the codecs handle, with the
 * addresses of a kubenet-style cluster (pod CIDR 10.244.0.0/16, `0a:58` + IP MACs).
 */
import { parseIpv4 } from '../../ip/ipv4.js';
import { encodeIpv4Packet } from '../packet-encoder.js';
import { ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../types.js';
import type { EthernetFrame, Ipv4Packet, TcpSegment } from '../types.js';

export const MAC_A = '0a:58:0a:f4:01:02';
export const MAC_GW = '0a:58:0a:f4:01:01';
export const MAC_NODE1 = '42:01:0a:80:00:02';
export const MAC_NODE2 = '42:01:0a:80:00:03';
export const IP_A = parseIpv4('10.244.1.2');
export const IP_GW = parseIpv4('10.244.1.1');
export const IP_B = parseIpv4('10.244.2.3');
export const NODE1 = parseIpv4('10.128.0.2');
export const NODE2 = parseIpv4('10.128.0.3');

/** Linux's SYN options: mss 1460, sackOK, TS val/ecr, nop, wscale 7 (20 bytes). */
export const SYN_OPTIONS = new Uint8Array([2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 1, 3, 3, 7]);

function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

export function ipv4(src: number, dst: number, payload: Ipv4Packet['payload'], extra: Partial<Ipv4Packet> = {}): Ipv4Packet {
  const protocol =
    payload.kind === 'icmp' ? IPPROTO_ICMP : payload.kind === 'udp' ? IPPROTO_UDP : payload.kind === 'tcp' ? IPPROTO_TCP : payload.kind === 'ipv4' ? IPPROTO_IPIP : 253;
  return { kind: 'ipv4', tos: 0, id: 0x1c46, df: true, ttl: 64, protocol, src, dst, payload, ...extra };
}

export function eth(src: string, dst: string, payload: EthernetFrame['payload'], extra: Partial<EthernetFrame> = {}): EthernetFrame {
  const etherType = payload.kind === 'arp' ? ETH_P_ARP : payload.kind === 'ipv4' ? ETH_P_IP : payload.kind === 'ipv6' ? ETH_P_IPV6 : 0x88b5;
  return { dst, src, etherType, payload, ...extra };
}

function tcp(srcPort: number, dstPort: number, flags: number, seq: number, ack: number, extra: Partial<TcpSegment> = {}): TcpSegment {
  return { kind: 'tcp', srcPort, dstPort, seq, ack, flags, window: 64240, payload: new Uint8Array(0), ...extra };
}

const echoRequest = ipv4(IP_A, IP_B, { kind: 'icmp', type: 8, code: 0, id: 1, seq: 1, data: bytes(56) });
/** A 1400-byte DF packet that does not fit a 1380 MTU. */
const bigUdp = ipv4(IP_A, IP_B, { kind: 'udp', srcPort: 40000, dstPort: 40001, payload: bytes(1372) });

/** The quote of an ICMP error as Linux makes it: the offending packet, at most 548 bytes. */
function quote(p: Ipv4Packet): Uint8Array {
  const b = encodeIpv4Packet(p);
  return b.subarray(0, Math.min(b.length, 548)).slice();
}

const innerEcho = eth('0a:58:0a:f4:02:01', '0a:58:0a:f4:01:01', echoRequest);

/** Named sample frames: [name, frame]. */
export const SAMPLE_FRAMES: readonly (readonly [string, EthernetFrame])[] = [
  ['arp request', eth(MAC_A, 'ff:ff:ff:ff:ff:ff', { kind: 'arp', op: 1, senderMac: MAC_A, senderIp: IP_A, targetMac: '00:00:00:00:00:00', targetIp: IP_GW })],
  ['arp reply', eth(MAC_GW, MAC_A, { kind: 'arp', op: 2, senderMac: MAC_GW, senderIp: IP_GW, targetMac: MAC_A, targetIp: IP_A })],
  ['arp request with target mac', eth(MAC_A, MAC_GW, { kind: 'arp', op: 1, senderMac: MAC_A, senderIp: IP_A, targetMac: MAC_GW, targetIp: IP_GW })],
  ['icmp echo request', eth(MAC_A, MAC_GW, echoRequest)],
  ['icmp echo reply', eth(MAC_GW, MAC_A, ipv4(IP_B, IP_A, { kind: 'icmp', type: 0, code: 0, id: 1, seq: 1, data: bytes(56) }, { df: false, ttl: 63 }))],
  ['udp', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, { kind: 'udp', srcPort: 40000, dstPort: 40001, payload: new TextEncoder().encode('hello') }))],
  ['tcp syn', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, tcp(40000, 30080, TCP_SYN, 1000, 0, { options: SYN_OPTIONS })))],
  ['tcp syn-ack', eth(MAC_GW, MAC_A, ipv4(IP_B, IP_A, tcp(30080, 40000, TCP_SYN | TCP_ACK, 2000, 1001, { window: 65160, options: SYN_OPTIONS })))],
  ['tcp rst-ack', eth(MAC_GW, MAC_A, ipv4(IP_B, IP_A, tcp(81, 40000, TCP_RST | TCP_ACK, 0, 1001, { window: 0 })))],
  ['tcp rst', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, tcp(40000, 30080, TCP_RST, 1001, 0, { window: 0 })))],
  ['tcp psh-ack with data', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, tcp(40000, 30080, TCP_PSH | TCP_ACK, 1001, 2001, { window: 502, payload: bytes(5) })))],
  ['tcp fin-ack', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, tcp(40000, 30080, TCP_FIN | TCP_ACK, 4294967295, 2001, { window: 502 })))],
  ['tcp ack with sack', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, tcp(40000, 30080, TCP_ACK, 1001, 2001, { options: new Uint8Array([1, 1, 5, 10, 0, 0, 0x0b, 0xb8, 0, 0, 0x0f, 0xa0]) })))],
  ['tcp every flag', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, tcp(40000, 30080, 0x1ff, 9, 10, { payload: bytes(3) })))],
  ['tcp no flags', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, tcp(40000, 30080, 0, 9, 10)))],
  ['tcp options needing padding', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, tcp(40000, 30080, TCP_SYN, 7, 0, { options: new Uint8Array([2, 4, 0x05, 0x78, 1, 3, 3, 7, 4, 2]) })))],
  [
    'icmp frag needed',
    eth(MAC_GW, MAC_A, ipv4(IP_GW, IP_A, { kind: 'icmp', type: 3, code: 4, nextHopMtu: 1380, data: quote(bigUdp) }, { tos: 0xc0, df: false })),
  ],
  ['icmp port unreachable', eth(MAC_GW, MAC_A, ipv4(IP_B, IP_A, { kind: 'icmp', type: 3, code: 3, data: quote(ipv4(IP_A, IP_B, { kind: 'udp', srcPort: 40000, dstPort: 53, payload: bytes(5) })) }, { tos: 0xc0, df: false }))],
  ['icmp host unreachable', eth(MAC_GW, MAC_A, ipv4(IP_GW, IP_A, { kind: 'icmp', type: 3, code: 1, data: quote(echoRequest) }, { tos: 0xc0, df: false }))],
  ['icmp admin prohibited filter', eth(MAC_GW, MAC_A, ipv4(IP_GW, IP_A, { kind: 'icmp', type: 3, code: 13, data: quote(echoRequest) }, { tos: 0xc0, df: false }))],
  ['icmp time exceeded', eth(MAC_GW, MAC_A, ipv4(IP_GW, IP_A, { kind: 'icmp', type: 11, code: 0, data: quote(echoRequest) }, { tos: 0xc0, df: false }))],
  ['icmp redirect', eth(MAC_GW, MAC_A, ipv4(IP_GW, IP_A, { kind: 'icmp', type: 5, code: 1, rest: parseIpv4('10.244.1.254'), data: quote(echoRequest) }, { tos: 0xc0, df: false }))],
  [
    'vxlan 8472 (flannel)',
    eth(MAC_NODE1, MAC_NODE2, ipv4(NODE1, NODE2, { kind: 'udp', srcPort: 54321, dstPort: 8472, payload: { kind: 'vxlan', vni: 1, frame: innerEcho } }, { df: false })),
  ],
  [
    'vxlan 4789 (calico)',
    eth(MAC_NODE1, MAC_NODE2, ipv4(NODE1, NODE2, { kind: 'udp', srcPort: 33000, dstPort: 4789, payload: { kind: 'vxlan', vni: 4096, frame: innerEcho } }, { df: false })),
  ],
  [
    'vxlan with inner arp',
    eth(MAC_NODE1, MAC_NODE2, ipv4(NODE1, NODE2, { kind: 'udp', srcPort: 33001, dstPort: 4789, payload: { kind: 'vxlan', vni: 1, frame: eth('0a:58:0a:f4:02:01', 'ff:ff:ff:ff:ff:ff', { kind: 'arp', op: 1, senderMac: '0a:58:0a:f4:02:01', senderIp: parseIpv4('10.244.2.1'), targetMac: '00:00:00:00:00:00', targetIp: parseIpv4('10.244.1.1') }) } }, { df: false })),
  ],
  ['ipip', eth(MAC_NODE1, MAC_NODE2, ipv4(NODE1, NODE2, echoRequest, { df: false }))],
  ['vlan tagged', eth(MAC_A, MAC_GW, echoRequest, { etherType: ETH_P_IP, vlan: 100 })],
  ['ip options', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, { kind: 'udp', srcPort: 1, dstPort: 2, payload: bytes(3) }, { options: new Uint8Array([0x94, 4, 0, 0]) }))],
  ['unknown ip protocol', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, { kind: 'raw', bytes: bytes(12) }, { protocol: 99 }))],
  ['first fragment', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, { kind: 'raw', bytes: bytes(1480) }, { protocol: IPPROTO_UDP, df: false, mf: true, id: 77 }))],
  ['last fragment', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, { kind: 'raw', bytes: bytes(100) }, { protocol: IPPROTO_UDP, df: false, fragOffset: 185, id: 77 }))],
  ['unknown ethertype', eth(MAC_A, MAC_GW, { kind: 'raw', bytes: bytes(46) })],
  [
    'ipv6 udp',
    eth(MAC_A, MAC_GW, {
      kind: 'ipv6',
      trafficClass: 0,
      flowLabel: 0x12345,
      nextHeader: IPPROTO_UDP,
      hopLimit: 64,
      src: new Uint8Array([0xfd, 0, 0x10, 0x24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x02]),
      dst: new Uint8Array([0xfd, 0, 0x10, 0x24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x03]),
      payload: { kind: 'udp', srcPort: 40000, dstPort: 40001, payload: bytes(7) },
    }),
  ],
  [
    'ipv6 tcp syn',
    eth(MAC_A, MAC_GW, {
      kind: 'ipv6',
      trafficClass: 0,
      flowLabel: 0,
      nextHeader: IPPROTO_TCP,
      hopLimit: 64,
      src: new Uint8Array([0xfd, 0, 0x10, 0x24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x02]),
      dst: new Uint8Array([0xfd, 0, 0x10, 0x24, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      payload: tcp(40000, 443, TCP_SYN, 5, 0, { options: SYN_OPTIONS }),
    }),
  ],
];

/** Frames for the capture checks, by name. */
export function sampleFrame(name: string): EthernetFrame {
  const f = SAMPLE_FRAMES.find(([n]) => n === name);
  if (f === undefined) throw new Error(`no sample frame "${name}"`);
  return f[1];
}
