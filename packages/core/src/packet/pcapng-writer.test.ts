import { describe, expect, it } from 'vitest';
import { isKnetError } from '../errors/knet-error.js';
import { sampleFrame } from './__fixtures__/sample-frames.js';
import { missingToolReason, TSHARK } from './__fixtures__/tools.js';
import { CAPTURE_SAMPLES, EXPECTED_FIELDS, FIELDS, tsharkFields, tsharkProblems, tsharkVerbose } from './__fixtures__/tshark.js';
import { encodeEthernetFrame, encodeIpv4Packet } from './packet-encoder.js';
import { LINKTYPE_RAW } from './pcap-writer.js';
import { PcapngWriter } from './pcapng-writer.js';
import type { Ipv4Packet } from './types.js';

interface Block {
  readonly type: number;
  readonly body: DataView;
  readonly bytes: Uint8Array;
}

/** Splits a little-endian pcapng file into blocks, checking both length fields of each. */
function blocks(file: Uint8Array): Block[] {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out: Block[] = [];
  let o = 0;
  while (o < file.length) {
    const type = v.getUint32(o, true);
    const len = v.getUint32(o + 4, true);
    expect(len % 4).toBe(0);
    expect(v.getUint32(o + len - 4, true)).toBe(len);
    out.push({ type, body: new DataView(file.buffer, file.byteOffset + o + 8, len - 12), bytes: file.subarray(o, o + len) });
    o += len;
  }
  expect(o).toBe(file.length);
  return out;
}

/** Options of a block body starting at `start`: [code, utf8 text or bytes]. */
function options(b: DataView, start: number): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  let o = start;
  while (o < b.byteLength) {
    const code = b.getUint16(o, true);
    const len = b.getUint16(o + 2, true);
    if (code === 0) break;
    out.push([code, new Uint8Array(b.buffer, b.byteOffset + o + 4, len)]);
    o += 4 + ((len + 3) & ~3);
  }
  return out;
}

const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

describe('PcapngWriter', () => {
  it('starts with a Section Header Block: magic 1a2b3c4d, version 1.0, unknown section length, shb_userappl', () => {
    const [shb, ...rest] = blocks(new PcapngWriter().toBytes());
    expect(rest).toEqual([]);
    expect(shb?.type).toBe(0x0a0d0d0a);
    const b = shb!.body;
    expect([b.getUint32(0, true), b.getUint16(4, true), b.getUint16(6, true), b.getInt32(8, true), b.getInt32(12, true)]).toEqual([0x1a2b3c4d, 1, 0, -1, -1]);
    expect(options(b, 16).map(([c, v]) => [c, text(v)])).toEqual([[4, 'knet']]);
  });

  it('writes one Interface Description Block per interface with if_name, if_description, if_tsresol 9 and its link type', () => {
    const w = new PcapngWriter({ application: 'knet trace' });
    expect(w.addInterface({ name: 'node-1/cbr0', description: 'kubenet bridge' })).toBe(0);
    expect(w.addInterface({ name: 'node-1/tunl0', linkType: LINKTYPE_RAW, snapLen: 1500 })).toBe(1);
    expect(w.interfaceCount).toBe(2);
    const [, cbr0, tunl0] = blocks(w.toBytes());
    expect([cbr0?.type, cbr0?.body.getUint16(0, true), cbr0?.body.getUint32(4, true)]).toEqual([1, 1, 262144]);
    expect(options(cbr0!.body, 8).map(([c, v]) => [c, c === 9 ? Array.from(v) : text(v)])).toEqual([
      [2, 'node-1/cbr0'],
      [3, 'kubenet bridge'],
      [9, [9]],
    ]);
    expect([tunl0?.body.getUint16(0, true), tunl0?.body.getUint32(4, true)]).toEqual([101, 1500]);
  });

  it.each([
    [0, 0, [0, 0]],
    [0, 1_500_000_001, [0, 1_500_000_001]],
    [0, 2 ** 32 + 5, [1, 5]],
    [1_700_000_000, 123, [Number(1_700_000_000_000_000_123n >> 32n), Number(1_700_000_000_000_000_123n & 0xffffffffn)]],
    [0xffffffff, 999_999_999, [Number(4_294_967_295_999_999_999n >> 32n), Number(4_294_967_295_999_999_999n & 0xffffffffn)]],
  ])('writes epoch %i + %i ns as the 64-bit nanosecond timestamp %o', (epochSeconds, ns, [high, low]) => {
    const w = new PcapngWriter({ epochSeconds });
    w.writePacket(w.addInterface({ name: 'eth0' }), ns, new Uint8Array([0xaa]));
    const epb = blocks(w.toBytes())[2]!;
    expect(epb.type).toBe(6);
    expect([epb.body.getUint32(0, true), epb.body.getUint32(4, true), epb.body.getUint32(8, true)]).toEqual([0, high, low]);
  });

  it('writes Enhanced Packet Blocks with interface id, lengths, padded data and an optional comment', () => {
    const w = new PcapngWriter();
    w.addInterface({ name: 'a' });
    const b = w.addInterface({ name: 'b', snapLen: 4 });
    w.writePacket(b, 0, new Uint8Array([1, 2, 3, 4, 5, 6]), { comment: 'hop 2' });
    const epb = blocks(w.toBytes())[3]!;
    const v = epb.body;
    expect([v.getUint32(0, true), v.getUint32(12, true), v.getUint32(16, true)]).toEqual([1, 4, 6]);
    expect(Array.from(new Uint8Array(v.buffer, v.byteOffset + 20, 4))).toEqual([1, 2, 3, 4]);
    expect(options(v, 24).map(([c, t]) => [c, text(t)])).toEqual([[1, 'hop 2']]);
  });

  it.each<[string, () => void, string, string]>([
    ['an unknown interface', () => new PcapngWriter().writePacket(0, 0, new Uint8Array(1)), 'ENODEV', 'interfaceId'],
    ['a negative timestamp', () => { const w = new PcapngWriter(); w.writePacket(w.addInterface({ name: 'x' }), -5, new Uint8Array(1)); }, 'EINVAL', 'timestampNs'],
    ['a link type above 65535', () => new PcapngWriter().addInterface({ name: 'x', linkType: 65536 }), 'EINVAL', 'linkType'],
    ['an epoch past 2^32-1', () => new PcapngWriter({ epochSeconds: 2 ** 32 }), 'EINVAL', 'epochSeconds'],
  ])('throws for %s', (_n, f, code, field) => {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(isKnetError(err, code as 'EINVAL' | 'ENODEV')).toBe(true);
    expect((err as { details: { field: string } }).details.field).toBe(field);
  });
});

const noTshark = missingToolReason('tshark');
if (noTshark !== undefined) console.warn(`skipping the tshark check of PcapngWriter: ${noTshark} (expected at ${TSHARK})`);

describe.skipIf(noTshark !== undefined)('PcapngWriter read back by tshark', () => {
  /** The samples alternate between two nodes' interfaces; a third, L3 interface holds bare IPv4. */
  function traceFile(): Uint8Array {
    const w = new PcapngWriter();
    const node1 = w.addInterface({ name: 'node-1/cbr0', description: 'kubenet bridge' });
    const node2 = w.addInterface({ name: 'node-2/eth0', description: 'node uplink' });
    CAPTURE_SAMPLES.forEach((name, i) => w.writePacket(i % 2 === 0 ? node1 : node2, i * 1_000_000, encodeEthernetFrame(sampleFrame(name)), { comment: `hop ${i}: ${name}` }));
    const tun = w.addInterface({ name: 'node-1/tunl0', description: 'IPIP tunnel', linkType: LINKTYPE_RAW });
    w.writePacket(tun, CAPTURE_SAMPLES.length * 1_000_000, encodeIpv4Packet(sampleFrame('icmp echo request').payload as Ipv4Packet));
    return w.toBytes();
  }

  it('decodes every packet with the expected fields, on the interface it was written to', () => {
    const rows = tsharkFields(traceFile(), 'trace.pcapng', ['frame.interface_id', 'frame.interface_name', 'frame.interface_description', 'frame.comment', ...FIELDS]);
    const expected = CAPTURE_SAMPLES.map((name, i) => [
      String(i % 2),
      i % 2 === 0 ? 'node-1/cbr0' : 'node-2/eth0',
      i % 2 === 0 ? 'kubenet bridge' : 'node uplink',
      `hop ${i}: ${name}`,
      ...EXPECTED_FIELDS[name],
    ]);
    expected.push(['2', 'node-1/tunl0', 'IPIP tunnel', '', 'raw:ip:icmp:data', '10.244.1.2', '10.244.2.3', '', '', '', '8', '0', '', '']);
    expect(rows).toEqual(expected);
  });

  it('finds no malformed packet and no bad checksum with every check on', () => {
    const verbose = tsharkVerbose(traceFile(), 'trace.pcapng');
    expect(verbose.match(/^Frame \d+:/gm)).toHaveLength(CAPTURE_SAMPLES.length + 1);
    expect(tsharkProblems(verbose)).toEqual([]);
  });

  it('keeps the nanosecond timestamps of the explicit clock', () => {
    const w = new PcapngWriter({ epochSeconds: 1_700_000_000 });
    const id = w.addInterface({ name: 'node-1/eth0' });
    w.writePacket(id, 1_000_000_007, encodeEthernetFrame(sampleFrame('udp')));
    expect(tsharkFields(w.toBytes(), 't.pcapng', ['frame.time_epoch'])).toEqual([['1700000001.000000007']]);
  });
});
