/**
 * `knet trace --cni flannel` on the example cluster: a pod-to-pod SYN across nodes goes through
 * flannel.1 (route, permanent neighbour, FDB), crosses the fabric as UDP 8472 and is decapsulated
 * on the other node; the pcap decodes in tshark as VXLAN with the inner frames intact; a Service
 * reached across nodes is DNATed by kube-proxy, then tunnelled.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/knet.js';

const TSHARK = ['/usr/bin/tshark', '/usr/local/bin/tshark'].find((p) => existsSync(p));
if (TSHARK === undefined) console.warn('skipping the tshark VXLAN decode of knet trace --cni flannel: tshark is not installed');

interface Hop {
  readonly step: string;
  readonly node?: string;
  readonly netns: string;
  readonly dev?: string;
  readonly flow: string;
  readonly decision: string;
  readonly detail?: Record<string, unknown>;
}
interface Trace {
  readonly verdict: { kind: string; pod?: string };
  readonly reply?: { kind: string };
  readonly hops: readonly Hop[];
  readonly outcomes?: readonly { endpoint: string | null }[];
}

describe('knet trace --cni flannel', () => {
  it('crosses nodes through flannel.1: cni0 → route/neighbour/FDB → UDP 8472 on the fabric → decap → cni0 → the pod', async () => {
    const r = await runCli(['trace', 'default/client', 'shop/cart-5d8b9c7f6-hv4nx:8080', '--cni', 'flannel', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout) as Trace;
    expect(t.verdict).toMatchObject({ kind: 'delivered', pod: 'shop/cart-5d8b9c7f6-hv4nx' });
    expect(t.reply?.kind).toBe('delivered');
    const req = t.hops.filter((h) => h.flow === 'request');
    const seq = req
      .filter((h) => ['bridge-local', 'route', 'neigh', 'encap', 'decap', 'bridge-forward', 'deliver'].includes(h.step))
      .filter((h) => h.dev === 'cni0' || h.dev === 'flannel.1' || h.step === 'encap' || h.step === 'decap' || h.step === 'deliver')
      .map((h) => `${h.node ?? ''} ${h.step} ${h.dev ?? ''}`);
    expect(seq).toEqual([
      'node-1 bridge-local cni0',
      'node-1 route flannel.1',
      'node-1 neigh flannel.1',
      'node-1 encap flannel.1',
      'node-2 decap flannel.1',
      'node-2 route cni0',
      'node-2 neigh cni0',
      'node-2 bridge-forward cni0',
      'node-2 deliver eth0',
    ]);
    expect(req.find((h) => h.step === 'encap')?.detail).toEqual({ kind: 'vxlan', vni: 1, local: '172.18.0.2', remote: '172.18.0.3', port: 8472 });
    expect(req.find((h) => h.step === 'neigh' && h.dev === 'flannel.1')?.detail).toMatchObject({ ip: '10.244.1.0', state: 'PERMANENT', action: 'hit' });
    expect(req.some((h) => h.netns === 'knet-example-fabric' && h.step === 'bridge-forward')).toBe(true);
  });

  it('reaches a Service whose endpoint is on another node: kube-proxy DNATs on node-1, flannel tunnels it', async () => {
    const r = await runCli(['trace', 'shop/frontend-7c9d6b8f4-2qzrt', 'svc/shop/cart', '--cni', 'flannel', '--all-paths', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout) as Trace;
    expect(t.outcomes?.map((o) => o.endpoint).sort()).toEqual(['10.244.1.3:8080', '10.244.2.2:8080']);
  });

  it.skipIf(TSHARK === undefined)('writes a pcap tshark decodes with -d udp.port==8472,vxlan, inner frames intact', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'knet-flannel-cli-')), 'flannel.pcapng');
    const r = await runCli(['trace', 'default/client', 'shop/cart-5d8b9c7f6-hv4nx:8080', '--cni', 'flannel', '--pcap', file]);
    expect(r.code, r.stderr).toBe(0);
    const out = execFileSync(TSHARK!, ['-r', file, '-d', 'udp.port==8472,vxlan', '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-V'], { encoding: 'utf8' });
    expect(out.split('\n').filter((l) => /\[Malformed Packet|Bad checksum|incorrect, should be|\[Expert Info \(Error/.test(l))).toEqual([]);
    const rows = execFileSync(TSHARK!, ['-r', file, '-d', 'udp.port==8472,vxlan', '-Y', 'vxlan', '-T', 'fields', '-E', 'separator=|', '-e', 'frame.interface_name', '-e', 'vxlan.vni', '-e', 'eth.dst', '-e', 'ip.dst', '-e', 'tcp.flags.str'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split('|'));
    const syn = rows.filter((x) => x[4] === '··········S·');
    // The outer frame on node-1's eth0, the fabric's two ports, node-2's eth0; the inner
    // destination MAC is node-2's flannel.1.
    expect(syn.map((x) => x[0])).toEqual(['node-1/eth0', 'fabric/n-node-1', 'fabric/n-node-2', 'node-2/eth0']);
    for (const x of syn) {
      expect(x[1]).toBe('1');
      expect(x[3]).toBe('172.18.0.3,10.244.1.3');
    }
  });
});
