import { describe, expect, it } from 'vitest';
import { isKnetError } from '../errors/knet-error.js';
import { parseIpv4 } from '../ip/ipv4.js';
import { fixture, readPcap } from './__fixtures__/read-pcap.js';
import { IP_A, IP_B, IP_GW, MAC_A, MAC_GW, SAMPLE_FRAMES, eth, ipv4, sampleFrame } from './__fixtures__/sample-frames.js';
import { internetChecksum } from './checksum.js';
import { decodeEthernetFrame } from './packet-decoder.js';
import { encodeEthernetFrame, encodeIpv4Packet, encodeIpv6Packet, ethernetFrameLength, ipPacketLength } from './packet-encoder.js';
import { ETH_P_ARP } from './types.js';
import type { EthernetFrame, Ipv4Packet } from './types.js';

/** Real frames captured by tcpdump on a veth (see __fixtures__/capture-lab.sh). */
const captured = readPcap(fixture('capture-lab.pcap')).records.map((r) => r.bytes);

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function expectEinval(f: () => unknown, field: string): void {
  try {
    f();
  } catch (e) {
    expect(isKnetError(e, 'EINVAL')).toBe(true);
    expect((e as { details: { field: string } }).details.field).toBe(field);
    return;
  }
  throw new Error('expected EINVAL');
}

describe('encodeEthernetFrame', () => {
  it('encodes the ARP request of the real capture byte for byte', () => {
    const frame: EthernetFrame = {
      dst: 'ff:ff:ff:ff:ff:ff',
      src: MAC_A,
      etherType: ETH_P_ARP,
      payload: { kind: 'arp', op: 1, senderMac: MAC_A, senderIp: IP_A, targetMac: '00:00:00:00:00:00', targetIp: IP_GW },
    };
    expect(hex(encodeEthernetFrame(frame))).toBe(hex(captured[0] ?? new Uint8Array()));
  });

  it('encodes the ARP reply of the real capture byte for byte', () => {
    const frame: EthernetFrame = {
      dst: MAC_A,
      src: MAC_GW,
      etherType: ETH_P_ARP,
      payload: { kind: 'arp', op: 2, senderMac: MAC_GW, senderIp: IP_GW, targetMac: MAC_A, targetIp: IP_A },
    };
    expect(hex(encodeEthernetFrame(frame))).toBe(hex(captured[1] ?? new Uint8Array()));
  });

  it.each(captured.map((b, i) => [i, b] as const))('re-encodes captured frame %i to the same bytes', (_i, bytes) => {
    const r = decodeEthernetFrame(bytes);
    expect(r.ok).toBe(true);
    if (r.ok) expect(hex(encodeEthernetFrame(r.value))).toBe(hex(bytes));
  });

  it('writes the headers a SYN needs: IHL 5, total length, DF, data offset 10, checksums that verify', () => {
    const b = encodeEthernetFrame(sampleFrame('tcp syn'));
    expect(b.length).toBe(74); // 14 + 20 + 20 + 20 options
    expect(b[14]).toBe(0x45);
    expect((b[16]! << 8) | b[17]!).toBe(60);
    expect(b[20]! & 0x40).toBe(0x40);
    expect(b[14 + 20 + 12]! >>> 4).toBe(10);
    expect(internetChecksum(b, 14, 34)).toBe(0);
  });

  it('pads TCP options to a multiple of 4 with zero (EOL) bytes', () => {
    const b = encodeEthernetFrame(sampleFrame('tcp options needing padding')); // 10 option bytes
    expect(b[14 + 20 + 12]! >>> 4).toBe(8); // 20 + 12 bytes
    expect(Array.from(b.subarray(14 + 20 + 30, 14 + 20 + 32))).toEqual([0, 0]);
  });

  it('writes the VXLAN header (flags 0x08, VNI, reserved zero) before the inner frame (RFC 7348)', () => {
    const f = sampleFrame('vxlan 4789 (calico)');
    const b = encodeEthernetFrame(f);
    const udp = 14 + 20;
    expect((b[udp + 2]! << 8) | b[udp + 3]!).toBe(4789);
    expect(Array.from(b.subarray(udp + 8, udp + 16))).toEqual([0x08, 0, 0, 0, 0x00, 0x10, 0x00, 0]); // vni 4096
    const inner = f.payload.kind === 'ipv4' && f.payload.payload.kind === 'udp' && !(f.payload.payload.payload instanceof Uint8Array) ? f.payload.payload.payload.frame : undefined;
    expect(hex(b.subarray(udp + 16))).toBe(hex(encodeEthernetFrame(inner!)));
    expect(b.length).toBe(14 + 20 + 8 + 8 + 98); // 50 bytes of VXLAN overhead, as flannel's MTU 1450 assumes
  });

  it('writes the next-hop MTU of a frag-needed ICMP in bytes 6-7 (RFC 1191)', () => {
    const b = encodeEthernetFrame(sampleFrame('icmp frag needed'));
    const icmp = 14 + 20;
    expect([b[icmp], b[icmp + 1]]).toEqual([3, 4]);
    expect(Array.from(b.subarray(icmp + 4, icmp + 8))).toEqual([0, 0, 1380 >> 8, 1380 & 0xff]);
    expect(internetChecksum(b, icmp, b.length)).toBe(0);
  });

  it('writes a computed UDP checksum of 0 as 0xffff (RFC 768)', () => {
    // find a payload whose checksum comes out 0: adjust two bytes until the sum is 0xffff
    const base = ipv4(IP_A, IP_B, { kind: 'udp', srcPort: 1000, dstPort: 2000, payload: new Uint8Array(2) });
    const first = encodeIpv4Packet(base);
    const sum = (first[26]! << 8) | first[27]!; // checksum with payload 0000
    const payload = new Uint8Array([sum >>> 8, sum & 0xff]); // adding ~sum back makes the total 0xffff
    const b = encodeIpv4Packet({ ...base, payload: { kind: 'udp', srcPort: 1000, dstPort: 2000, payload } });
    expect([b[26], b[27]]).toEqual([0xff, 0xff]);
    expect(decodeEthernetFrame(encodeEthernetFrame(eth(MAC_A, MAC_GW, { ...base, payload: { kind: 'udp', srcPort: 1000, dstPort: 2000, payload } }))).ok).toBe(true);
  });

  it('does not pad short frames: an ARP is 42 bytes, as tcpdump on a veth shows', () => {
    expect(encodeEthernetFrame(sampleFrame('arp request')).length).toBe(42);
  });

  it('writes an 802.1Q tag before the EtherType', () => {
    const b = encodeEthernetFrame(sampleFrame('vlan tagged'));
    expect(Array.from(b.subarray(12, 18))).toEqual([0x81, 0x00, 0x00, 100, 0x08, 0x00]);
  });

  it.each<[string, EthernetFrame, string]>([
    ['bad MAC', eth('0a:58:0a:f4:01', MAC_GW, sampleFrame('udp').payload), 'src'],
    ['MAC with a bad digit', eth(MAC_A, 'zz:58:0a:f4:01:01', sampleFrame('udp').payload), 'dst'],
    ['VLAN id above 4095', eth(MAC_A, MAC_GW, sampleFrame('udp').payload, { vlan: 4096 }), 'vlan'],
    ['EtherType contradicting the payload', eth(MAC_A, MAC_GW, sampleFrame('udp').payload, { etherType: ETH_P_ARP }), 'etherType'],
    ['port above 65535', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, { kind: 'udp', srcPort: 65536, dstPort: 1, payload: new Uint8Array(0) })), 'srcPort'],
    ['protocol contradicting the payload', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, { kind: 'udp', srcPort: 1, dstPort: 1, payload: new Uint8Array(0) }, { protocol: 6 })), 'protocol'],
    ['IPv4 options not a multiple of 4', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, { kind: 'raw', bytes: new Uint8Array(0) }, { options: new Uint8Array(3) })), 'options'],
    ['TTL above 255', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, { kind: 'raw', bytes: new Uint8Array(0) }, { ttl: 256 })), 'ttl'],
    ['negative address', eth(MAC_A, MAC_GW, ipv4(-1, IP_B, { kind: 'raw', bytes: new Uint8Array(0) })), 'src'],
    ['VNI above 2^24-1', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, { kind: 'udp', srcPort: 1, dstPort: 4789, payload: { kind: 'vxlan', vni: 0x1000000, frame: sampleFrame('arp request') } })), 'vni'],
    ['a fragment with a structured payload', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, { kind: 'udp', srcPort: 1, dstPort: 2, payload: new Uint8Array(0) }, { mf: true })), 'payload'],
    ['TCP options above 40 bytes', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, { kind: 'tcp', srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: 2, window: 0, options: new Uint8Array(41), payload: new Uint8Array(0) })), 'options'],
    ['IPv4 packet above 65535 bytes', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, { kind: 'raw', bytes: new Uint8Array(65516) })), 'totalLength'],
    ['ICMP id above 65535', eth(MAC_A, MAC_GW, ipv4(IP_A, IP_B, { kind: 'icmp', type: 8, code: 0, id: 70000, seq: 1, data: new Uint8Array(0) })), 'id'],
  ])('throws EINVAL for %s', (_name, frame, field) => {
    expectEinval(() => encodeEthernetFrame(frame), field);
  });
});

describe('encodeIpv4Packet', () => {
  it('gives the Ethernet frame without its 14-byte header', () => {
    const f = sampleFrame('icmp echo request');
    expect(hex(encodeIpv4Packet(f.payload as Ipv4Packet))).toBe(hex(encodeEthernetFrame(f).subarray(14)));
  });

  it('encodes IPIP: outer header with protocol 4, then the inner packet', () => {
    const f = sampleFrame('ipip');
    const b = encodeIpv4Packet(f.payload as Ipv4Packet);
    expect(b[9]).toBe(4);
    expect((b[2]! << 8) | b[3]!).toBe(20 + 84);
    expect(internetChecksum(b, 20, 40)).toBe(0);
  });
});

describe('encodeIpv6Packet', () => {
  it('writes version 6, the payload length and a UDP checksum over the IPv6 pseudo-header', () => {
    const f = sampleFrame('ipv6 udp');
    const b = encodeIpv6Packet(f.payload as import('./types.js').Ipv6Packet);
    expect(b[0]! >>> 4).toBe(6);
    expect((b[4]! << 8) | b[5]!).toBe(15);
    expect(hex(b)).toBe(hex(encodeEthernetFrame(f).subarray(14)));
  });

  it('throws EINVAL for an address that is not 16 bytes', () => {
    expectEinval(
      () => encodeIpv6Packet({ kind: 'ipv6', trafficClass: 0, flowLabel: 0, nextHeader: 59, hopLimit: 1, src: new Uint8Array(4), dst: new Uint8Array(16), payload: { kind: 'raw', bytes: new Uint8Array(0) } }),
      'src',
    );
  });
});

describe('ethernetFrameLength', () => {
  it.each(SAMPLE_FRAMES.map(([n, f]) => [n, f] as const))('equals the encoded length for %s', (_n, f) => {
    expect(ethernetFrameLength(f)).toBe(encodeEthernetFrame(f).length);
  });
});

describe('ipPacketLength', () => {
  it.each([
    ['a default ping', sampleFrame('icmp echo request').payload as Ipv4Packet, 84],
    ['a SYN with Linux options', sampleFrame('tcp syn').payload as Ipv4Packet, 60],
    ['IPIP around a ping', sampleFrame('ipip').payload as Ipv4Packet, 104],
    ['VXLAN around a ping', sampleFrame('vxlan 8472 (flannel)').payload as Ipv4Packet, 134],
  ])('is the IPv4 total length of %s', (_n, p, len) => {
    expect(ipPacketLength(p)).toBe(len);
    expect(encodeIpv4Packet(p).length).toBe(len);
  });

  it('is 40 plus the payload for IPv6', () => {
    const p = sampleFrame('ipv6 udp').payload as import('./types.js').Ipv6Packet;
    expect(ipPacketLength(p)).toBe(55);
  });

  it('reaches exactly 65535 at the IPv4 limit', () => {
    expect(ipPacketLength(ipv4(parseIpv4('10.0.0.1'), IP_B, { kind: 'raw', bytes: new Uint8Array(65515) }, { protocol: 99 }))).toBe(65535);
  });
});
