import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/knet.js';

const TSHARK = ['/usr/bin/tshark', '/usr/local/bin/tshark'].find((p) => existsSync(p));
if (TSHARK === undefined) console.warn('skipping the tshark pcap checks: tshark is not installed (apt-get install tshark)');

const CHECKS = ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE'];
const dir = mkdtempSync(join(tmpdir(), 'knet-pcap-'));

function tshark(file: string, extra: string[]): string {
  return execFileSync(TSHARK!, ['-r', file, ...CHECKS, ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every trace kind the engine produces: ARP, TCP SYN/SYN-ACK, RST, ICMP echo, UDP, ICMP errors, localhost. */
const CASES: [string, string[]][] = [
  ['tcp-cross-node', ['trace', 'default/client', 'shop/cart-5d8b9c7f6-hv4nx:8080']],
  ['tcp-refused', ['trace', 'default/client', 'shop/db-0:9999']],
  ['icmp-twice', ['trace', 'default/client', 'shop/frontend-7c9d6b8f4-2qzrt', '--count', '2']],
  ['udp-dns', ['trace', 'shop/frontend-7c9d6b8f4-9wlmf', 'kube-system/coredns-7db6d8ff4d-x5k8w:53', '--proto', 'udp']],
  ['udp-port-unreachable', ['trace', 'default/client', 'shop/db-0:5353', '--proto', 'udp']],
  ['host-unreachable', ['trace', 'default/client', '10.244.1.200']],
  ['localhost', ['trace', 'shop/cart-5d8b9c7f6-hv4nx:cart', 'shop/cart-5d8b9c7f6-hv4nx:redis-sidecar:6379']],
  ['outside', ['trace', 'node/node-3', '203.0.113.7']],
];

describe.skipIf(TSHARK === undefined)('pcaps written by knet trace, read by tshark', () => {
  it.each(CASES)('%s: pcap and pcapng decode with no malformed packets and no bad checksums', async (name, argv) => {
    for (const ext of ['pcap', 'pcapng']) {
      const file = join(dir, `${name}.${ext}`);
      const r = await runCli([...argv, '--pcap', file]);
      expect(r.code, r.stderr).toBe(0);
      const bytes = readFileSync(file);
      expect(bytes.length).toBeGreaterThan(24);
      const verbose = tshark(file, ['-V']);
      const problems = verbose.split('\n').filter((l) => /\[Malformed Packet|\[Bad|Bad checksum|incorrect, should be|\[Expert Info \(Error/.test(l));
      expect(problems, `${file}\n${problems.join('\n')}`).toEqual([]);
      const json = JSON.parse(await (await runCli([...argv, '-o', 'json'])).stdout) as { frames: unknown[] } | { frames: unknown[] }[];
      const frames = Array.isArray(json) ? json.reduce((n, t) => n + t.frames.length, 0) : json.frames.length;
      const rows = tshark(file, ['-T', 'fields', '-e', 'frame.number']).trim().split('\n');
      expect(rows).toHaveLength(frames);
    }
  });

  it('the cross-node TCP trace holds the ARP exchange and the SYN, SYN-ACK on every device they crossed', async () => {
    const file = join(dir, 'fields.pcapng');
    await runCli(['trace', 'default/client', 'shop/cart-5d8b9c7f6-hv4nx:8080', '--pcap', file]);
    const rows = tshark(file, ['-T', 'fields', '-E', 'separator=|', '-e', 'frame.interface_name', '-e', 'arp.opcode', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ip.ttl', '-e', 'tcp.flags.str'])
      .trim()
      .split('\n')
      .map((l) => l.split('|'));
    const syn = rows.filter((r) => r[5]?.includes('S') === true && !r[5].includes('A'));
    // As `tcpdump -i any` shows it: client eth0, node-1 veth, node-1 cbr0 (up the bridge) at
    // ttl 64; node-1 eth0, the fabric's two ports, node-2 eth0 at 63; node-2 cbr0, veth and the
    // cart's eth0 at 62.
    expect(syn.map((r) => r[4])).toEqual(['64', '64', '64', '63', '63', '63', '63', '62', '62', '62']);
    expect(syn.map((r) => r[0]!.replace(/veth[0-9a-f]{8}/, 'vethX'))).toEqual([
      'node-1/default/client/eth0',
      'node-1/vethX',
      'node-1/cbr0',
      'node-1/eth0',
      'fabric/n-node-1',
      'fabric/n-node-2',
      'node-2/eth0',
      'node-2/cbr0',
      'node-2/vethX',
      'node-2/shop/cart-5d8b9c7f6-hv4nx/eth0',
    ]);
    expect(syn[0]![0]).toBe('node-1/default/client/eth0');
    expect(syn[syn.length - 1]![0]).toBe('node-2/shop/cart-5d8b9c7f6-hv4nx/eth0');
    expect(rows.some((r) => r[1] === '1')).toBe(true);
    expect(rows.some((r) => r[1] === '2')).toBe(true);
    expect(rows.some((r) => r[5]?.includes('S') === true && r[5].includes('A'))).toBe(true);
  });
});
