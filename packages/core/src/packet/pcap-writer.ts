import { KnetError } from '../errors/knet-error.js';

/** Link type of Ethernet captures (DLT_EN10MB). @see https://www.tcpdump.org/linktypes.html */
export const LINKTYPE_ETHERNET = 1;
/** Link type of bare IPv4/IPv6 packets (tun, ipip devices; DLT_RAW). @see https://www.tcpdump.org/linktypes.html */
export const LINKTYPE_RAW = 101;
/** The default snapshot length of tcpdump and libpcap (MAXIMUM_SNAPLEN). */
export const DEFAULT_SNAPLEN = 262144;

/** Options for {@link PcapWriter}. */
export interface PcapWriterOptions {
  /** {@link LINKTYPE_ETHERNET} (default) or {@link LINKTYPE_RAW} for an L3 device. */
  readonly linkType?: number;
  /** Bytes kept of each packet; longer packets are cut and keep their original length. Default {@link DEFAULT_SNAPLEN}. */
  readonly snapLen?: number;
  /**
   * Seconds since the Unix epoch that timestamp 0 stands for (default 0, 1970-01-01): the
   * trace clock counts nanoseconds from its own start, the file shows `epochSeconds` + that.
   */
  readonly epochSeconds?: number;
}

/** Options of one packet record. */
export interface PcapRecordOptions {
  /** Length of the packet on the wire when `bytes` is already cut short. Default `bytes.length`. */
  readonly originalLength?: number;
}

/**
 * Builds a classic libpcap capture file in memory: what `tcpdump -w` writes, readable by
 * tcpdump, Wireshark and tshark.
 *
 * @remarks
 * File header: magic 0xa1b2c3d4 (microsecond timestamps), version 2.4, thiszone 0, sigfigs 0,
 * snaplen, link type; all fields little-endian, as libpcap writes them on x86 (readers detect
 * the byte order from the magic). Each record: seconds, microseconds, captured length,
 * original length, the bytes.
 *
 * Timestamps come from the caller's clock in nanoseconds and are truncated to microseconds;
 * the writer never reads the wall clock (same trace, same bytes). They are plain numbers
 * (safe integers, up to 104 days), counted from `epochSeconds`: no BigInt on this path.
 *
 * No I/O: {@link PcapWriter.toBytes} returns the file, the caller saves it.
 * Linux equivalent: `tcpdump -i <dev> -w file.pcap`.
 * @see https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-03.html ; pcap-savefile(5)
 * @example
 * ```ts
 * import { PcapWriter, encodeEthernetFrame } from '@knet/core';
 * declare const frame: import('@knet/core').EthernetFrame;
 * const w = new PcapWriter();
 * w.writePacket(1_000_000, encodeEthernetFrame(frame)); // at t = 1 ms
 * const file: Uint8Array = w.toBytes();
 * ```
 */
export class PcapWriter {
  /** The file's link type. */
  readonly linkType: number;
  /** The file's snapshot length. */
  readonly snapLen: number;
  /** Seconds since the Unix epoch of timestamp 0. */
  readonly epochSeconds: number;
  private readonly chunks: Uint8Array[] = [];
  private size = 24;
  private count = 0;

  /** @throws KnetError `EINVAL` for a link type outside 0..65535, a snaplen outside 1..2^32-1, an epoch outside 0..2^32-1. */
  constructor(options: PcapWriterOptions = {}) {
    this.linkType = options.linkType ?? LINKTYPE_ETHERNET;
    this.snapLen = options.snapLen ?? DEFAULT_SNAPLEN;
    this.epochSeconds = options.epochSeconds ?? 0;
    if (!isU32(this.epochSeconds)) invalid('epochSeconds', this.epochSeconds);
    if (!isU32(this.linkType) || this.linkType > 0xffff) invalid('linkType', this.linkType);
    if (!isU32(this.snapLen) || this.snapLen === 0) invalid('snapLen', this.snapLen);
  }

  /** Number of packet records written so far. */
  get packetCount(): number {
    return this.count;
  }

  /**
   * Appends one packet record.
   *
   * @param timestampNs - capture time in nanoseconds from the caller's clock, counted from
   * `epochSeconds` (written as seconds + microseconds)
   * @param bytes - the packet as the link type says (an Ethernet frame, or a bare IP packet)
   * @throws KnetError `EINVAL` for a negative or non-integer timestamp, or an original length
   * shorter than `bytes`.
   */
  writePacket(timestampNs: number, bytes: Uint8Array, options: PcapRecordOptions = {}): void {
    if (!Number.isSafeInteger(timestampNs) || timestampNs < 0) invalid('timestampNs', timestampNs);
    const originalLength = options.originalLength ?? bytes.length;
    if (!isU32(originalLength) || originalLength < bytes.length) invalid('originalLength', originalLength);
    const captured = Math.min(bytes.length, this.snapLen);
    const offset = Math.floor(timestampNs / 1e9);
    const micros = Math.floor((timestampNs - offset * 1e9) / 1000);
    const seconds = this.epochSeconds + offset;
    if (seconds > 0xffffffff) invalid('timestampNs', timestampNs);
    const rec = new Uint8Array(16 + captured);
    const v = new DataView(rec.buffer);
    v.setUint32(0, seconds, true);
    v.setUint32(4, micros, true);
    v.setUint32(8, captured, true);
    v.setUint32(12, originalLength, true);
    rec.set(captured === bytes.length ? bytes : bytes.subarray(0, captured), 16);
    this.chunks.push(rec);
    this.size += rec.length;
    this.count++;
  }

  /** The complete file: global header and every record written so far. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    const v = new DataView(out.buffer);
    v.setUint32(0, 0xa1b2c3d4, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    // thiszone (8) and sigfigs (12) stay 0
    v.setUint32(16, this.snapLen, true);
    v.setUint32(20, this.linkType, true);
    let o = 24;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

function invalid(field: string, value: unknown): never {
  throw new KnetError('EINVAL', `invalid ${field}: ${String(value)}`, { field, value });
}
