import { describe, expect, it } from 'vitest';
import { formatIpv4 } from '../ip/ipv4.js';
import { SeededRng } from '../util/seeded-rng.js';
import { randomFrame, randomIpv4 } from './__fixtures__/random-packets.js';
import { fixture, readPcap } from './__fixtures__/read-pcap.js';
import { SAMPLE_FRAMES, sampleFrame } from './__fixtures__/sample-frames.js';
import { decodeEthernetFrame, decodeIpv4Packet, decodeIpv6Packet } from './packet-decoder.js';
import { encodeEthernetFrame, encodeIpv4Packet } from './packet-encoder.js';
import type { EthernetFrame, Ipv4Packet, Ipv6Packet } from './types.js';

/** Real frames captured by tcpdump on a veth (see __fixtures__/capture-lab.sh). */
const captured = readPcap(fixture('capture-lab.pcap')).records.map((r) => r.bytes);

function decoded(bytes: Uint8Array): EthernetFrame {
  const r = decodeEthernetFrame(bytes);
  if (!r.ok) throw new Error(`decode failed: ${r.reason}`);
  return r.value;
}

/** Flips one bit of a copy. */
function flip(b: Uint8Array, byte: number, bit: number): Uint8Array {
  const c = b.slice();
  c[byte] = (c[byte] ?? 0) ^ (1 << bit);
  return c;
}

function withByte(b: Uint8Array, at: number, value: number): Uint8Array {
  const c = b.slice();
  c[at] = value;
  return c;
}

describe('decodeEthernetFrame', () => {
  it('round-trips 3000 random frames exactly (seeded)', () => {
    const rng = new SeededRng('packet-roundtrip');
    const kinds = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const frame = randomFrame(rng);
      const bytes = encodeEthernetFrame(frame);
      const r = decodeEthernetFrame(bytes);
      if (!r.ok) throw new Error(`frame ${i} failed to decode: ${r.reason}`);
      expect(r.value).toEqual(frame);
      expect(encodeEthernetFrame(r.value)).toEqual(bytes);
      const p = frame.payload;
      kinds.add(p.kind === 'ipv4' || p.kind === 'ipv6' ? `${p.kind}/${p.payload.kind}` : p.kind);
      if (p.kind === 'ipv4' && p.payload.kind === 'udp' && !(p.payload.payload instanceof Uint8Array)) kinds.add('vxlan');
    }
    // the generator reached every kind
    expect([...kinds].sort()).toEqual(
      ['arp', 'ipv4/icmp', 'ipv4/ipv4', 'ipv4/raw', 'ipv4/tcp', 'ipv4/udp', 'ipv6/raw', 'ipv6/tcp', 'ipv6/udp', 'raw', 'vxlan'].sort(),
    );
  });

  it.each(SAMPLE_FRAMES.map(([n, f]) => [n, f] as const))('round-trips the sample %s', (_n, f) => {
    expect(decoded(encodeEthernetFrame(f))).toEqual(f);
  });

  it('decodes every frame of the real capture with the values tcpdump shows', () => {
    const frames = captured.map(decoded);
    expect(frames).toHaveLength(28);
    const summary = frames.map((f) => {
      const p = f.payload;
      if (p.kind === 'arp') return `arp ${p.op}`;
      if (p.kind !== 'ipv4') return p.kind;
      const l4 = p.payload;
      const addr = `${formatIpv4(p.src)}>${formatIpv4(p.dst)}`;
      if (l4.kind === 'icmp') return `${addr} icmp ${l4.type}/${l4.code}${l4.nextHopMtu !== undefined ? ` mtu ${l4.nextHopMtu}` : ''}`;
      if (l4.kind === 'udp') return `${addr} udp ${l4.dstPort}${l4.payload instanceof Uint8Array ? '' : ` vni ${l4.payload.vni} ${l4.payload.frame.payload.kind}`}`;
      if (l4.kind === 'tcp') return `${addr} tcp ${l4.dstPort} flags 0x${l4.flags.toString(16)}`;
      return `${addr} ${l4.kind}`;
    });
    expect(summary.slice(0, 12)).toEqual([
      'arp 1',
      'arp 2',
      '10.244.1.2>10.244.2.3 icmp 8/0',
      '10.244.2.3>10.244.1.2 icmp 0/0',
      '10.244.1.2>10.244.2.3 icmp 8/0',
      '10.244.1.1>10.244.1.2 icmp 3/4 mtu 1400',
      '10.244.1.2>10.244.2.3 icmp 8/0',
      '10.244.1.1>10.244.1.2 icmp 11/0',
      '10.244.1.2>10.244.2.3 udp 40001',
      '10.244.2.3>10.244.1.2 icmp 3/3',
      '10.244.1.2>10.244.2.3 tcp 81 flags 0x2',
      '10.244.2.3>10.244.1.2 tcp 38174 flags 0x14',
    ]);
    expect(summary.filter((s) => s.includes(' vni 1 '))).toHaveLength(8);
    expect(summary.filter((s) => s.includes('udp 8472 vni 1'))).toHaveLength(4);
  });

  it('keeps the quote of the real frag-needed message: the offending header and 520 bytes more (576-byte limit)', () => {
    const f = decoded(captured[5] ?? new Uint8Array());
    const icmp = f.payload.kind === 'ipv4' && f.payload.payload.kind === 'icmp' ? f.payload.payload : undefined;
    expect(icmp?.data.length).toBe(548);
    const quoted = decodeIpv4Packet(icmp?.data ?? new Uint8Array());
    // the quote is cut short, so its total length (1428) runs past the bytes: not a whole packet
    expect(quoted).toEqual({ ok: false, reason: 'truncated-ipv4' });
    expect(Array.from(icmp?.data.subarray(0, 4) ?? [])).toEqual([0x45, 0, 1428 >> 8, 1428 & 0xff]);
  });

  it('ignores Ethernet padding after the IP packet (60-byte minimum frames from a NIC)', () => {
    const bytes = encodeEthernetFrame(sampleFrame('tcp rst-ack'));
    const padded = new Uint8Array(60);
    padded.set(bytes);
    expect(decoded(padded)).toEqual(sampleFrame('tcp rst-ack'));
    const arp = new Uint8Array(60);
    arp.set(encodeEthernetFrame(sampleFrame('arp request')));
    expect(decoded(arp)).toEqual(sampleFrame('arp request'));
  });

  it('accepts a UDP checksum of 0 over IPv4 as "no checksum" (RFC 768)', () => {
    const bytes = encodeEthernetFrame(sampleFrame('udp'));
    const zero = withByte(withByte(bytes, 14 + 20 + 6, 0), 14 + 20 + 7, 0);
    expect(decoded(zero)).toEqual(sampleFrame('udp'));
  });

  it('keeps UDP to port 4789 as bytes when the payload is not a VXLAN header', () => {
    const bytes = encodeEthernetFrame(sampleFrame('vxlan 4789 (calico)'));
    const noI = new Uint8Array(bytes.length);
    noI.set(bytes);
    noI[14 + 20 + 8] = 0x0c; // flags other than exactly I
    noI[14 + 20 + 6] = 0; // and no checksum, so only the flags differ
    noI[14 + 20 + 7] = 0;
    const f = decoded(noI);
    const udp = f.payload.kind === 'ipv4' ? f.payload.payload : undefined;
    expect(udp?.kind === 'udp' && udp.payload instanceof Uint8Array).toBe(true);
  });

  it.each<[string, string, (b: Uint8Array) => Uint8Array]>([
    ['udp', 'truncated-ethernet', (b) => b.subarray(0, 13)],
    ['vlan tagged', 'truncated-vlan', (b) => b.subarray(0, 16)],
    ['arp request', 'truncated-arp', (b) => b.subarray(0, 41)],
    ['udp', 'truncated-ipv4', (b) => b.subarray(0, 33)],
    ['udp', 'truncated-ipv4', (b) => b.subarray(0, b.length - 1)],
    ['udp', 'bad-ip-version', (b) => withByte(b, 14, 0x65)],
    ['udp', 'bad-ipv4-header-length', (b) => withByte(b, 14, 0x44)],
    ['udp', 'bad-ipv4-total-length', (b) => withByte(withByte(b, 16, 0), 17, 19)],
    ['udp', 'bad-ipv4-checksum', (b) => withByte(b, 22, 1)],
    ['icmp echo request', 'bad-icmp-checksum', (b) => flip(b, 14 + 20 + 8, 0)],
    ['udp', 'bad-udp-checksum', (b) => flip(b, b.length - 1, 3)],
    ['tcp syn', 'bad-tcp-checksum', (b) => flip(b, 14 + 20 + 4, 7)],
    ['vxlan 8472 (flannel)', 'bad-udp-checksum', (b) => flip(b, b.length - 1, 0)],
    ['ipv6 udp', 'truncated-ipv6', (b) => b.subarray(0, 14 + 39)],
    ['ipv6 udp', 'truncated-ipv6', (b) => b.subarray(0, b.length - 1)],
    ['ipv6 tcp syn', 'bad-tcp-checksum', (b) => flip(b, b.length - 1, 0)],
  ])('rejects a damaged %s frame: %s', (name, reason, damage) => {
    expect(decodeEthernetFrame(damage(encodeEthernetFrame(sampleFrame(name))))).toEqual({ ok: false, reason });
  });

  it.each<[string, string, number]>([
    // header-level fields with the IPv4 checksum recomputed, so the transport check is reached
    ['udp', 'truncated-udp', 4],
    ['tcp syn', 'truncated-tcp', 16],
    ['icmp echo request', 'truncated-icmp', 4],
  ])('rejects %s whose IP total length leaves too few transport bytes: %s', (name, reason, l4Bytes) => {
    const f = sampleFrame(name);
    const p = f.payload as Ipv4Packet;
    const b = encodeEthernetFrame({ ...f, payload: { ...p, payload: { kind: 'raw', bytes: encodeIpv4Packet(p).subarray(20, 20 + l4Bytes) } } });
    expect(decodeEthernetFrame(b)).toEqual({ ok: false, reason });
  });

  it.each<[string, string, (b: Uint8Array) => Uint8Array]>([
    ['udp length field not matching the IP payload', 'bad-udp-length', (b) => withByte(b, 14 + 20 + 5, (b[14 + 20 + 5] ?? 0) - 1)],
    ['TCP data offset below 5', 'bad-tcp-data-offset', (b) => withByte(b, 14 + 20 + 12, 0x40)],
    ['TCP data offset past the segment', 'truncated-tcp', (b) => withByte(b, 14 + 20 + 12, 0xf0)],
  ])('rejects %s: %s', (_what, reason, damage) => {
    const name = reason.includes('udp') ? 'udp' : 'tcp rst';
    expect(decodeEthernetFrame(damage(encodeEthernetFrame(sampleFrame(name))))).toEqual({ ok: false, reason });
  });

  it.each(['icmp echo request', 'udp', 'tcp syn', 'tcp psh-ack with data', 'icmp frag needed', 'vxlan 8472 (flannel)', 'ipip'])(
    'detects every single-bit error after the Ethernet header of %s',
    (name) => {
      const bytes = encodeEthernetFrame(sampleFrame(name));
      for (let i = 14; i < bytes.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const r = decodeEthernetFrame(flip(bytes, i, bit));
          if (r.ok) throw new Error(`bit ${bit} of byte ${i} flipped went undetected`);
        }
      }
    },
  );

  it('prefixes failures inside encapsulations', () => {
    const vx = encodeEthernetFrame(sampleFrame('vxlan 4789 (calico)'));
    const inner = 14 + 20 + 8 + 8;
    // damage the inner IPv4 checksum, then fix the outer UDP checksum by zeroing it
    const bad = withByte(withByte(withByte(vx, inner + 14 + 10, 0), 14 + 20 + 6, 0), 14 + 20 + 7, 0);
    expect(decodeEthernetFrame(bad)).toEqual({ ok: false, reason: 'vxlan-inner:bad-ipv4-checksum' });
    const ipip = sampleFrame('ipip');
    const outer = ipip.payload as Ipv4Packet;
    const truncatedInner = encodeEthernetFrame({ ...ipip, payload: { ...outer, protocol: 4, payload: { kind: 'raw', bytes: encodeIpv4Packet(outer.payload as Ipv4Packet).subarray(0, 19) } } });
    expect(decodeEthernetFrame(truncatedInner)).toEqual({ ok: false, reason: 'ipip-inner:truncated-ipv4' });
  });

  it('never throws on random bytes or random damage (20000 seeded inputs)', () => {
    const rng = new SeededRng('packet-fuzz');
    let ok = 0;
    for (let i = 0; i < 10000; i++) {
      const r = decodeEthernetFrame(rng.bytes(rng.nextU32() % 200));
      expect(typeof r.ok).toBe('boolean');
      if (r.ok) ok++;
    }
    for (let i = 0; i < 10000; i++) {
      const bytes = encodeEthernetFrame(randomFrame(rng));
      const cut = bytes.subarray(0, rng.nextU32() % (bytes.length + 1)).slice();
      for (let k = 0; k < 3; k++) if (cut.length > 0) cut[rng.nextU32() % cut.length] = rng.nextU32() & 0xff;
      const r = decodeEthernetFrame(cut);
      if (!r.ok) expect(r.reason).toMatch(/^((vxlan|ipip)-inner:)*[a-z0-9-]+$/);
    }
    expect(ok).toBeGreaterThan(0); // random bytes with a raw EtherType are valid frames
  });
});

describe('decodeIpv4Packet', () => {
  it('round-trips 1000 random IPv4 packets (seeded)', () => {
    const rng = new SeededRng('ipv4-roundtrip');
    for (let i = 0; i < 1000; i++) {
      const p = randomIpv4(rng);
      expect(decodeIpv4Packet(encodeIpv4Packet(p))).toEqual({ ok: true, value: p });
    }
  });

  it.each([
    [new Uint8Array(0), 'truncated-ipv4'],
    [new Uint8Array(20), 'bad-ip-version'],
  ])('rejects %o: %s', (bytes, reason) => {
    expect(decodeIpv4Packet(bytes)).toEqual({ ok: false, reason });
  });
});

describe('decodeIpv6Packet', () => {
  it('decodes the IPv6 sample back to its structure', () => {
    const f = sampleFrame('ipv6 tcp syn');
    expect(decodeIpv6Packet(encodeEthernetFrame(f).subarray(14))).toEqual({ ok: true, value: f.payload as Ipv6Packet });
  });

  it('rejects a zero UDP checksum, which IPv6 does not allow (RFC 8200 section 8.1)', () => {
    const b = encodeEthernetFrame(sampleFrame('ipv6 udp')).slice(14);
    b[46] = 0;
    b[47] = 0;
    expect(decodeIpv6Packet(b)).toEqual({ ok: false, reason: 'bad-udp-checksum' });
  });
});
