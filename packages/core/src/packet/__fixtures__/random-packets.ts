/**
 * Random frames in canonical form (what the decoder returns) from a seeded generator, for the
 * round-trip properties: optional fields absent rather than false/0, TCP options without EOL
 * padding, ICMP `rest` only where the modelled fields cannot carry the word.
 */
import type { SeededRng } from '../../util/seeded-rng.js';
import { IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP } from '../types.js';
import type { EthernetFrame, IcmpMessage, Ipv4Packet, Ipv6Packet, TcpSegment, UdpDatagram } from '../types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const int = (rng: SeededRng, n: number): number => rng.nextU32() % n;
const chance = (rng: SeededRng, p: number): boolean => rng.nextFloat() < p;
const u16 = (rng: SeededRng): number => rng.nextU32() & 0xffff;

function anyMac(rng: SeededRng): string {
  return Array.from(rng.bytes(6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** A protocol number the decoder keeps as raw bytes. */
function rawProtocol(rng: SeededRng): number {
  for (;;) {
    const p = int(rng, 256);
    if (p !== IPPROTO_ICMP && p !== IPPROTO_IPIP && p !== IPPROTO_TCP && p !== IPPROTO_UDP) return p;
  }
}

function port(rng: SeededRng): number {
  for (;;) {
    const p = u16(rng);
    if (p !== 4789 && p !== 8472) return p;
  }
}

export function randomFrame(rng: SeededRng, depth = 0): EthernetFrame {
  const roll = rng.nextFloat();
  let frame: Mutable<EthernetFrame>;
  const dst = anyMac(rng);
  const src = anyMac(rng);
  if (roll < 0.15) {
    frame = {
      dst,
      src,
      etherType: 0x0806,
      payload: { kind: 'arp', op: chance(rng, 0.5) ? 1 : 2, senderMac: rng.mac(), senderIp: rng.nextU32(), targetMac: anyMac(rng), targetIp: rng.nextU32() },
    };
  } else if (roll < 0.8) {
    frame = { dst, src, etherType: 0x0800, payload: randomIpv4(rng, depth) };
  } else if (roll < 0.9) {
    frame = { dst, src, etherType: 0x86dd, payload: randomIpv6(rng, depth) };
  } else {
    const types = [0x88b5, 0x88cc, 0x8847, 0x0842, 0x9000];
    frame = { dst, src, etherType: types[int(rng, types.length)] ?? 0x88b5, payload: { kind: 'raw', bytes: rng.bytes(int(rng, 80)) } };
  }
  if (chance(rng, 0.15)) frame.vlan = int(rng, 4096);
  return frame;
}

export function randomIpv4(rng: SeededRng, depth = 0): Ipv4Packet {
  let payload: Ipv4Packet['payload'];
  let protocol: number;
  const fragment = chance(rng, 0.08);
  const roll = rng.nextFloat();
  if (fragment || roll < 0.1) {
    protocol = fragment ? int(rng, 256) : rawProtocol(rng);
    payload = { kind: 'raw', bytes: rng.bytes(int(rng, 60)) };
  } else if (roll < 0.35) {
    protocol = IPPROTO_ICMP;
    payload = randomIcmp(rng);
  } else if (roll < 0.65) {
    protocol = IPPROTO_UDP;
    payload = randomUdp(rng, depth);
  } else if (roll < 0.92 || depth >= 2) {
    protocol = IPPROTO_TCP;
    payload = randomTcp(rng);
  } else {
    protocol = IPPROTO_IPIP;
    payload = randomIpv4(rng, depth + 1);
  }
  const p: Mutable<Ipv4Packet> = {
    kind: 'ipv4',
    tos: int(rng, 256),
    id: u16(rng),
    df: chance(rng, 0.6),
    ttl: int(rng, 256),
    protocol,
    src: rng.nextU32(),
    dst: rng.nextU32(),
    payload,
  };
  if (fragment) {
    if (chance(rng, 0.5)) p.mf = true;
    const off = int(rng, 0x2000);
    if (off !== 0 || p.mf !== true) p.fragOffset = off === 0 ? 1 : off;
  }
  if (chance(rng, 0.1)) p.options = rng.bytes(4 * (1 + int(rng, 10)));
  return p;
}

function randomIpv6(rng: SeededRng, depth: number): Ipv6Packet {
  const roll = rng.nextFloat();
  let payload: Ipv6Packet['payload'];
  let nextHeader: number;
  if (roll < 0.4) {
    nextHeader = IPPROTO_UDP;
    payload = randomUdp(rng, depth);
  } else if (roll < 0.8) {
    nextHeader = IPPROTO_TCP;
    payload = randomTcp(rng);
  } else {
    do nextHeader = int(rng, 256);
    while (nextHeader === IPPROTO_UDP || nextHeader === IPPROTO_TCP);
    payload = { kind: 'raw', bytes: rng.bytes(int(rng, 60)) };
  }
  return { kind: 'ipv6', trafficClass: int(rng, 256), flowLabel: rng.nextU32() & 0xfffff, nextHeader, hopLimit: int(rng, 256), src: rng.bytes(16), dst: rng.bytes(16), payload };
}

function randomIcmp(rng: SeededRng): IcmpMessage {
  const types = [0, 8, 3, 3, 11, 5, 12, 13, 14, 9, int(rng, 256)];
  const type = types[int(rng, types.length)] ?? 0;
  const code = type === 3 && chance(rng, 0.5) ? 4 : int(rng, 16);
  const m: Mutable<IcmpMessage> = { kind: 'icmp', type, code, data: rng.bytes(int(rng, 100)) };
  if (type === 0 || type === 8 || (type >= 13 && type <= 18)) {
    m.id = u16(rng);
    m.seq = u16(rng);
  } else if (type === 3 && code === 4) {
    m.nextHopMtu = u16(rng);
    if (chance(rng, 0.2)) m.rest = (((1 + int(rng, 0xffff)) << 16) | m.nextHopMtu) >>> 0;
  } else if (chance(rng, 0.5)) {
    m.rest = 1 + int(rng, 0xfffffffe);
  }
  return m;
}

function randomUdp(rng: SeededRng, depth: number): UdpDatagram {
  if (depth < 2 && chance(rng, 0.15)) {
    return {
      kind: 'udp',
      srcPort: u16(rng),
      dstPort: chance(rng, 0.5) ? 8472 : 4789,
      payload: { kind: 'vxlan', vni: rng.nextU32() & 0xffffff, frame: randomFrame(rng, depth + 1) },
    };
  }
  return { kind: 'udp', srcPort: u16(rng), dstPort: port(rng), payload: rng.bytes(int(rng, 120)) };
}

/** A well-formed option list (no EOL): the decoder finds its end exactly. */
function randomTcpOptions(rng: SeededRng): Uint8Array {
  const out: number[] = [];
  const n = 1 + int(rng, 6);
  for (let i = 0; i < n; i++) {
    const pick = int(rng, 6);
    const opt =
      pick === 0 ? [1]
      : pick === 1 ? [2, 4, ...rng.bytes(2)]
      : pick === 2 ? [3, 3, int(rng, 15)]
      : pick === 3 ? [4, 2]
      : pick === 4 ? [8, 10, ...rng.bytes(8)]
      : [5, 10, ...rng.bytes(8)];
    if (out.length + opt.length > 40) break;
    out.push(...opt);
  }
  return new Uint8Array(out);
}

function randomTcp(rng: SeededRng): TcpSegment {
  const t: Mutable<TcpSegment> = {
    kind: 'tcp',
    srcPort: u16(rng),
    dstPort: u16(rng),
    seq: rng.nextU32(),
    ack: rng.nextU32(),
    flags: int(rng, 0x200),
    window: u16(rng),
    payload: rng.bytes(chance(rng, 0.5) ? 0 : int(rng, 200)),
  };
  if (chance(rng, 0.4)) t.options = randomTcpOptions(rng);
  return t;
}
