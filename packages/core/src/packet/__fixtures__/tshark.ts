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

/** The frames the tshark check writes: one of each kind a trace shows. */
export const CAPTURE_SAMPLES = [
  'arp request',
  'arp reply',
  'icmp echo request',
  'icmp echo reply',
  'udp',
  'tcp syn',
  'tcp syn-ack',
  'tcp rst-ack',
  'tcp rst',
  'icmp frag needed',
  'icmp time exceeded',
  'vxlan 8472 (flannel)',
  'vxlan 4789 (calico)',
  'ipip',
] as const;

/**
 * What tshark must find in each sample: frame.protocols, ip.src, ip.dst, udp.dstport,
 * tcp.flags, vxlan.vni, icmp.type, icmp.code, icmp.mtu, arp.opcode (inner values after outer).
 */
export const EXPECTED_FIELDS: Readonly<Record<(typeof CAPTURE_SAMPLES)[number], readonly string[]>> = {
  'arp request': ['eth:ethertype:arp', '', '', '', '', '', '', '', '', '1'],
  'arp reply': ['eth:ethertype:arp', '', '', '', '', '', '', '', '', '2'],
  'icmp echo request': ['eth:ethertype:ip:icmp:data', '10.244.1.2', '10.244.2.3', '', '', '', '8', '0', '', ''],
  'icmp echo reply': ['eth:ethertype:ip:icmp:data', '10.244.2.3', '10.244.1.2', '', '', '', '0', '0', '', ''],
  udp: ['eth:ethertype:ip:udp:data', '10.244.1.2', '10.244.2.3', '40001', '', '', '', '', '', ''],
  'tcp syn': ['eth:ethertype:ip:tcp', '10.244.1.2', '10.244.2.3', '', '0x0002', '', '', '', '', ''],
  'tcp syn-ack': ['eth:ethertype:ip:tcp', '10.244.2.3', '10.244.1.2', '', '0x0012', '', '', '', '', ''],
  'tcp rst-ack': ['eth:ethertype:ip:tcp', '10.244.2.3', '10.244.1.2', '', '0x0014', '', '', '', '', ''],
  'tcp rst': ['eth:ethertype:ip:tcp', '10.244.1.2', '10.244.2.3', '', '0x0004', '', '', '', '', ''],
  'icmp frag needed': ['eth:ethertype:ip:icmp:ip:udp:data', '10.244.1.1,10.244.1.2', '10.244.1.2,10.244.2.3', '40001', '', '', '3', '4', '1380', ''],
  'icmp time exceeded': ['eth:ethertype:ip:icmp:ip:icmp:data', '10.244.1.1,10.244.1.2', '10.244.1.2,10.244.2.3', '', '', '', '11,8', '0,0', '', ''],
  'vxlan 8472 (flannel)': ['eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:icmp:data', '10.128.0.2,10.244.1.2', '10.128.0.3,10.244.2.3', '8472', '', '1', '8', '0', '', ''],
  'vxlan 4789 (calico)': ['eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:icmp:data', '10.128.0.2,10.244.1.2', '10.128.0.3,10.244.2.3', '4789', '', '4096', '8', '0', '', ''],
  ipip: ['eth:ethertype:ip:ip:icmp:data', '10.128.0.2,10.244.1.2', '10.128.0.3,10.244.2.3', '', '', '', '8', '0', '', ''],
};

export const FIELDS = ['frame.protocols', 'ip.src', 'ip.dst', 'udp.dstport', 'tcp.flags', 'vxlan.vni', 'icmp.type', 'icmp.code', 'icmp.mtu', 'arp.opcode'];
