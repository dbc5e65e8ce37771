import { KnetError } from '../errors/knet-error.js';
import { DEFAULT_SNAPLEN, LINKTYPE_ETHERNET } from './pcap-writer.js';
import type { PcapWriter } from './pcap-writer.js';

/** Options for {@link PcapngWriter}. */
export interface PcapngWriterOptions {
  /** The Section Header Block's `shb_userappl` option: the application that wrote the file. Default `knet`. */
  readonly application?: string;
  /** Seconds since the Unix epoch that timestamp 0 stands for (default 0), as for {@link PcapWriter}. */
  readonly epochSeconds?: number;
}

/** One capture interface of a {@link PcapngWriter} (an Interface Description Block). */
export interface PcapngInterface {
  /** `if_name`: where the packets were seen, e.g. `node-1/cbr0` or `node-1/pod-a/eth0`. */
  readonly name: string;
  /** `if_description`: free text, e.g. `kubenet bridge` or `flannel VXLAN device`. */
  readonly description?: string;
  /** LINKTYPE_ETHERNET (default) or LINKTYPE_RAW for an L3 device (tun, ipip). */
  readonly linkType?: number;
  /** Bytes kept of each packet. Default {@link DEFAULT_SNAPLEN}. */
  readonly snapLen?: number;
}

/** Options of one packet (an Enhanced Packet Block). */
export interface PcapngPacketOptions {
  /** Length of the packet on the wire when `bytes` is already cut short. Default `bytes.length`. */
  readonly originalLength?: number;
  /** `opt_comment`: shown by Wireshark as the packet comment (`frame.comment` in tshark). */
  readonly comment?: string;
}

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;

const utf8 = new TextEncoder();

/**
 * Builds a pcapng capture file in memory: one section, one Interface Description Block per
 * interface (with `if_name`, `if_description` and its own link type, so Ethernet devices and
 * L3 tun/ipip devices can share a file), and Enhanced Packet Blocks that name their interface.
 * A multi-hop knet trace becomes one file where each packet says on which node and device it
 * was seen.
 *
 * @remarks
 * Little-endian blocks (byte-order magic 0x1A2B3C4D), version 1.0, section length -1
 * (unknown). Interfaces declare `if_tsresol` 9, so timestamps keep the caller's nanoseconds;
 * they come from an explicit clock, never the wall clock, as plain numbers (safe integers)
 * counted from `epochSeconds`; the 64-bit timestamp is assembled with exact 32-bit halves,
 * no BigInt. No I/O: {@link PcapngWriter.toBytes} returns the file.
 *
 * Linux equivalent: `dumpcap -i veth1 -i cbr0 -w trace.pcapng` (one IDB per `-i`).
 * @see https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html
 * @example
 * ```ts
 * import { PcapngWriter, LINKTYPE_RAW } from '@knet/core';
 * const w = new PcapngWriter();
 * const cbr0 = w.addInterface({ name: 'node-1/cbr0', description: 'kubenet bridge' });
 * const tun = w.addInterface({ name: 'node-1/tunl0', linkType: LINKTYPE_RAW });
 * declare const frame: Uint8Array, packet: Uint8Array;
 * w.writePacket(cbr0, 0, frame);
 * w.writePacket(tun, 1_000, packet, { comment: 'encapsulated by IPIP' });
 * const file: Uint8Array = w.toBytes();
 * ```
 */
export class PcapngWriter {
  private readonly blocks: Uint8Array[] = [];
  private readonly snapLens: number[] = [];
  private size = 0;
  private readonly epochSeconds: number;

  /** @throws KnetError `EINVAL` for an epoch outside 0..2^32-1. */
  constructor(options: PcapngWriterOptions = {}) {
    this.epochSeconds = options.epochSeconds ?? 0;
    if (!Number.isInteger(this.epochSeconds) || this.epochSeconds < 0 || this.epochSeconds > 0xffffffff) invalid('epochSeconds', this.epochSeconds);
    // SHB body: byte-order magic, version 1.0, section length -1 (unknown)
    const body = new Uint8Array(16);
    const v = new DataView(body.buffer);
    v.setUint32(0, 0x1a2b3c4d, true);
    v.setUint16(4, 1, true);
    v.setUint16(6, 0, true);
    v.setInt32(8, -1, true);
    v.setInt32(12, -1, true);
    this.push(block(SHB, body, options_([[SHB_USERAPPL, utf8.encode(options.application ?? 'knet')]])));
  }

  /** Number of interfaces added. */
  get interfaceCount(): number {
    return this.snapLens.length;
  }

  /**
   * Adds an Interface Description Block.
   *
   * @returns the interface id to pass to {@link PcapngWriter.writePacket} (0, 1, 2, ...).
   * @throws KnetError `EINVAL` for a link type outside 0..65535 or a snaplen outside 1..2^32-1.
   */
  addInterface(iface: PcapngInterface): number {
    const linkType = iface.linkType ?? LINKTYPE_ETHERNET;
    const snapLen = iface.snapLen ?? DEFAULT_SNAPLEN;
    if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) invalid('linkType', linkType);
    if (!Number.isInteger(snapLen) || snapLen < 1 || snapLen > 0xffffffff) invalid('snapLen', snapLen);
    const body = new Uint8Array(8);
    const v = new DataView(body.buffer);
    v.setUint16(0, linkType, true);
    v.setUint32(4, snapLen, true);
    const opts: [number, Uint8Array][] = [[IF_NAME, utf8.encode(iface.name)]];
    if (iface.description !== undefined) opts.push([IF_DESCRIPTION, utf8.encode(iface.description)]);
    opts.push([IF_TSRESOL, new Uint8Array([9])]);
    this.push(block(IDB, body, options_(opts)));
    this.snapLens.push(snapLen);
    return this.snapLens.length - 1;
  }

  /**
   * Appends an Enhanced Packet Block.
   *
   * @param interfaceId - an id returned by {@link PcapngWriter.addInterface}
   * @param timestampNs - capture time in nanoseconds from the caller's clock
   * @param bytes - the packet in the interface's link type
   * @throws KnetError `ENODEV` for an unknown interface id; `EINVAL` for a negative or unsafe
   * timestamp, or an original length shorter than `bytes`.
   */
  writePacket(interfaceId: number, timestampNs: number, bytes: Uint8Array, options: PcapngPacketOptions = {}): void {
    const snapLen = this.snapLens[interfaceId];
    if (snapLen === undefined) throw new KnetError('ENODEV', `no pcapng interface ${interfaceId}`, { field: 'interfaceId', value: interfaceId });
    if (!Number.isSafeInteger(timestampNs) || timestampNs < 0) invalid('timestampNs', timestampNs);
    const originalLength = options.originalLength ?? bytes.length;
    if (!Number.isInteger(originalLength) || originalLength < bytes.length || originalLength > 0xffffffff) invalid('originalLength', originalLength);
    const captured = Math.min(bytes.length, snapLen);
    const body = new Uint8Array(20 + pad4(captured));
    const v = new DataView(body.buffer);
    v.setUint32(0, interfaceId, true);
    const [high, low] = nanosSinceEpoch(this.epochSeconds, timestampNs);
    v.setUint32(4, high, true);
    v.setUint32(8, low, true);
    v.setUint32(12, captured, true);
    v.setUint32(16, originalLength, true);
    body.set(captured === bytes.length ? bytes : bytes.subarray(0, captured), 20);
    const opts = options.comment === undefined ? new Uint8Array(0) : options_([[OPT_COMMENT, utf8.encode(options.comment)]]);
    this.push(block(EPB, body, opts));
  }

  /** The complete file: the section header, the interfaces and packets in the order written. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const b of this.blocks) {
      out.set(b, o);
      o += b.length;
    }
    return out;
  }

  private push(b: Uint8Array): void {
    this.blocks.push(b);
    this.size += b.length;
  }
}

const TWO32 = 0x100000000;

/**
 * `epochSeconds * 1e9 + ns` as 32-bit halves, exact: every partial product stays below 2^53.
 */
function nanosSinceEpoch(epochSeconds: number, ns: number): [number, number] {
  const eHigh = Math.floor(epochSeconds / 0x10000);
  const eLow = epochSeconds % 0x10000;
  const a = eLow * 1e9; // < 2^46
  const b = eHigh * 1e9; // < 2^46, to be shifted left by 16 bits
  let low = (ns % TWO32) + (a % TWO32) + (b % 0x10000) * 0x10000;
  let high = Math.floor(ns / TWO32) + Math.floor(a / TWO32) + Math.floor(b / 0x10000);
  high += Math.floor(low / TWO32);
  low %= TWO32;
  if (high >= TWO32) invalid('timestampNs', ns);
  return [high, low];
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Options, each padded to 32 bits, then opt_endofopt; nothing when there are none. */
function options_(opts: readonly (readonly [number, Uint8Array])[]): Uint8Array {
  if (opts.length === 0) return new Uint8Array(0);
  let len = 4;
  for (const [, value] of opts) len += 4 + pad4(value.length);
  const out = new Uint8Array(len);
  const v = new DataView(out.buffer);
  let o = 0;
  for (const [code, value] of opts) {
    if (value.length > 0xffff) invalid('option', value.length);
    v.setUint16(o, code, true);
    v.setUint16(o + 2, value.length, true);
    out.set(value, o + 4);
    o += 4 + pad4(value.length);
  }
  v.setUint16(o, OPT_ENDOFOPT, true);
  return out;
}

/** type, total length, body (already 32-bit aligned), options, total length again. */
function block(type: number, body: Uint8Array, opts: Uint8Array): Uint8Array {
  const total = 12 + body.length + opts.length;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, total, true);
  out.set(body, 8);
  out.set(opts, 8 + body.length);
  v.setUint32(total - 4, total, true);
  return out;
}

function invalid(field: string, value: unknown): never {
  throw new KnetError('EINVAL', `invalid ${field}: ${String(value)}`, { field, value });
}
