import { describe, expect, it } from 'vitest';
import { isKnetError } from '../errors/knet-error.js';
import { fixture, readPcap } from './__fixtures__/read-pcap.js';
import { sampleFrame } from './__fixtures__/sample-frames.js';
import { missingToolReason, TSHARK } from './__fixtures__/tools.js';
import { CAPTURE_SAMPLES, EXPECTED_FIELDS, FIELDS, tsharkFields, tsharkProblems, tsharkVerbose } from './__fixtures__/tshark.js';
import { decodeEthernetFrame } from './packet-decoder.js';
import { encodeEthernetFrame, encodeIpv4Packet } from './packet-encoder.js';
import { DEFAULT_SNAPLEN, LINKTYPE_ETHERNET, LINKTYPE_RAW, PcapWriter } from './pcap-writer.js';
import type { Ipv4Packet } from './types.js';

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('PcapWriter', () => {
  it('writes the global header: magic a1b2c3d4, v2.4, zone 0, sigfigs 0, snaplen 262144, linktype 1', () => {
    expect(hex(new PcapWriter().toBytes())).toBe('d4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '01000000');
  });

  it('writes LINKTYPE_RAW (101) for an L3 capture and a custom snaplen', () => {
    const h = new DataView(new PcapWriter({ linkType: LINKTYPE_RAW, snapLen: 1500 }).toBytes().buffer);
    expect([h.getUint32(16, true), h.getUint32(20, true)]).toEqual([1500, 101]);
  });

  it.each([
    [0, 0, 0],
    [999, 0, 0], // below a microsecond: truncated
    [1_000, 0, 1],
    [1_500_000_999, 1, 500_000],
    [86_400_123_456_789, 86_400, 123_456],
  ])('turns %i ns into %i s + %i µs', (ns, s, us) => {
    const w = new PcapWriter();
    w.writePacket(ns, new Uint8Array([1, 2, 3]));
    const rec = readPcap(w.toBytes()).records[0];
    expect([rec?.seconds, rec?.micros, rec?.originalLength, Array.from(rec?.bytes ?? [])]).toEqual([s, us, 3, [1, 2, 3]]);
  });

  it('counts timestamps from epochSeconds', () => {
    const w = new PcapWriter({ epochSeconds: 1_700_000_000 });
    w.writePacket(2_000_001_000, new Uint8Array(1));
    const rec = readPcap(w.toBytes()).records[0];
    expect([rec?.seconds, rec?.micros]).toEqual([1_700_000_002, 1]);
  });

  it('cuts packets at the snaplen and keeps the original length', () => {
    const w = new PcapWriter({ snapLen: 64 });
    w.writePacket(0, encodeEthernetFrame(sampleFrame('icmp frag needed')));
    const rec = readPcap(w.toBytes()).records[0];
    expect([rec?.bytes.length, rec?.originalLength]).toEqual([64, 590]);
  });

  it('reproduces the real tcpdump capture byte for byte from decoded frames and its timestamps', () => {
    const real = fixture('capture-lab.pcap');
    const file = readPcap(real);
    const epochSeconds = file.records[0]?.seconds ?? 0;
    const w = new PcapWriter({ linkType: file.linkType, snapLen: file.snapLen, epochSeconds });
    for (const r of file.records) {
      const d = decodeEthernetFrame(r.bytes);
      if (!d.ok) throw new Error(d.reason);
      w.writePacket((r.seconds - epochSeconds) * 1e9 + r.micros * 1000, encodeEthernetFrame(d.value));
    }
    expect([file.linkType, file.snapLen]).toEqual([LINKTYPE_ETHERNET, DEFAULT_SNAPLEN]);
    expect(w.packetCount).toBe(file.records.length);
    expect(hex(w.toBytes())).toBe(hex(real));
  });

  it.each<[string, () => void, string]>([
    ['a negative timestamp', () => new PcapWriter().writePacket(-1, new Uint8Array(1)), 'timestampNs'],
    ['a fractional timestamp', () => new PcapWriter().writePacket(1.5, new Uint8Array(1)), 'timestampNs'],
    ['an original length below the bytes', () => new PcapWriter().writePacket(0, new Uint8Array(4), { originalLength: 3 }), 'originalLength'],
    ['a link type above 65535', () => new PcapWriter({ linkType: 70000 }), 'linkType'],
    ['a zero snaplen', () => new PcapWriter({ snapLen: 0 }), 'snapLen'],
    ['a negative epoch', () => new PcapWriter({ epochSeconds: -1 }), 'epochSeconds'],
    ['seconds past 2^32-1', () => new PcapWriter({ epochSeconds: 0xffffffff }).writePacket(1e9, new Uint8Array(1)), 'timestampNs'],
  ])('throws EINVAL for %s', (_n, f, field) => {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(isKnetError(err, 'EINVAL')).toBe(true);
    expect((err as { details: { field: string } }).details.field).toBe(field);
  });
});

const noTshark = missingToolReason('tshark');
if (noTshark !== undefined) console.warn(`skipping the tshark check of PcapWriter: ${noTshark} (expected at ${TSHARK})`);

describe.skipIf(noTshark !== undefined)('PcapWriter read back by tshark', () => {
  function sampleFile(): Uint8Array {
    const w = new PcapWriter();
    CAPTURE_SAMPLES.forEach((name, i) => w.writePacket(i * 1_000_000, encodeEthernetFrame(sampleFrame(name))));
    return w.toBytes();
  }

  it('decodes every frame with the expected addresses, ports, flags, VNI and ICMP types', () => {
    const rows = tsharkFields(sampleFile(), 'samples.pcap', FIELDS);
    expect(rows).toEqual(CAPTURE_SAMPLES.map((n) => EXPECTED_FIELDS[n]));
  });

  it('finds no malformed packet and no bad checksum with every check on', () => {
    const verbose = tsharkVerbose(sampleFile(), 'samples.pcap');
    expect(verbose.match(/^Frame \d+:/gm)).toHaveLength(CAPTURE_SAMPLES.length);
    expect(tsharkProblems(verbose)).toEqual([]);
    // the checks really ran: tshark reports verified checksums
    const good = verbose.match(/\[(Header checksum status|Checksum Status): Good\]/g) ?? [];
    expect(good.length).toBeGreaterThan(CAPTURE_SAMPLES.length * 2 - 4); // ARP frames have none
  });

  it('does flag a damaged checksum (the check can fail)', () => {
    const w = new PcapWriter();
    const bad = encodeEthernetFrame(sampleFrame('tcp syn'));
    bad[14 + 20 + 16] = (bad[14 + 20 + 16] ?? 0) ^ 0xff;
    w.writePacket(0, bad);
    expect(tsharkProblems(tsharkVerbose(w.toBytes(), 'bad.pcap')).length).toBeGreaterThan(0);
  });

  it('reads a LINKTYPE_RAW file of bare IPv4 packets (a tun or ipip device)', () => {
    const w = new PcapWriter({ linkType: LINKTYPE_RAW });
    for (const name of ['icmp echo request', 'tcp syn', 'ipip'] as const) w.writePacket(0, encodeIpv4Packet(sampleFrame(name).payload as Ipv4Packet));
    const rows = tsharkFields(w.toBytes(), 'raw.pcap', ['frame.protocols', 'ip.src', 'ip.dst']);
    expect(rows).toEqual([
      ['raw:ip:icmp:data', '10.244.1.2', '10.244.2.3'],
      ['raw:ip:tcp', '10.244.1.2', '10.244.2.3'],
      ['raw:ip:ip:icmp:data', '10.128.0.2,10.244.1.2', '10.128.0.3,10.244.2.3'],
    ]);
  });
});
