/**
 * A minimal classic-pcap reader for the tests (little-endian files, as tcpdump writes them on
 * x86): the golden capture is read with it, and the writer's output is checked against it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface PcapFile {
  readonly magic: number;
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly snapLen: number;
  readonly linkType: number;
  readonly records: readonly PcapRecord[];
}

export interface PcapRecord {
  readonly seconds: number;
  readonly micros: number;
  readonly originalLength: number;
  readonly bytes: Uint8Array;
}

export function readPcap(file: Uint8Array): PcapFile {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = v.getUint32(0, true);
  if (magic !== 0xa1b2c3d4) throw new Error(`not a little-endian microsecond pcap: 0x${magic.toString(16)}`);
  const records: PcapRecord[] = [];
  let o = 24;
  while (o < file.length) {
    const captured = v.getUint32(o + 8, true);
    records.push({
      seconds: v.getUint32(o, true),
      micros: v.getUint32(o + 4, true),
      originalLength: v.getUint32(o + 12, true),
      bytes: file.slice(o + 16, o + 16 + captured),
    });
    o += 16 + captured;
  }
  return {
    magic,
    versionMajor: v.getUint16(4, true),
    versionMinor: v.getUint16(6, true),
    snapLen: v.getUint32(16, true),
    linkType: v.getUint32(20, true),
    records,
  };
}

/** A file beside this module. */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fileURLToPath(new URL(name, import.meta.url))));
}

/** The tcpdump text of the golden capture, without its header line. */
export function fixtureLines(name: string): string[] {
  return new TextDecoder()
    .decode(fixture(name))
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));
}
