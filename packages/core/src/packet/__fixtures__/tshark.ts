/**
 * The tshark check shared by the pcap and pcapng writer tests: tshark reads the file back,
 * every checksum check it has switched on, VXLAN decoded on flannel's port 8472 too.
 */
import { runOnFile, TSHARK } from './tools.js';

/** Preferences that make tshark verify checksums (they are off by default) and decode 8472 as VXLAN. */
export const TSHARK_CHECKS = ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-d', 'udp.port==8472,vxlan'];

/** `tshark -r FILE -T fields -e ...`: one row per packet, one cell per field (repeated fields joined with ','). */
export function tsharkFields(file: Uint8Array, name: string, fields: readonly string[]): string[][] {
  const args = (f: string): string[] => ['-r', f, ...TSHARK_CHECKS, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((x) => ['-e', x])];
  const out = runOnFile(TSHARK, file, name, args);
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/** `tshark -r FILE -V` with the checksum checks: the full dissection text. */
export function tsharkVerbose(file: Uint8Array, name: string): string {
  return runOnFile(TSHARK, file, name, (f) => ['-r', f, ...TSHARK_CHECKS, '-V']);
}

/** The problems a dissection reports: malformed packets and bad checksums. */
export function tsharkProblems(verbose: string): string[] {
  return verbose
    .split('\n')
    .filter((l) => l.includes('[Malformed Packet') || l.includes('[Bad') || l.includes('Bad checksum') || /status: Bad/i.test(l) || /Checksum: 0x[0-9a-f]+ incorrect/.test(l));
}
