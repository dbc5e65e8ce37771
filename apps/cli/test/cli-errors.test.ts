import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/knet.js';

const dir = mkdtempSync(join(tmpdir(), 'knet-cli-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const node = (name: string, ip: string, podCIDR?: string) => `apiVersion: v1
kind: Node
metadata:
  name: ${name}
spec:
${podCIDR !== undefined ? `  podCIDR: ${podCIDR}\n` : '  {}\n'}status:
  addresses:
  - type: InternalIP
    address: ${ip}
`;
const pod = (name: string, nodeName: string, ip?: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: default
spec:
  nodeName: ${nodeName}
  containers:
  - name: app
    image: nginx
${ip !== undefined ? `status:\n  podIP: ${ip}\n` : ''}`;
const docs = (...d: string[]) => d.join('---\n');

describe('knet CLI bad input', () => {
  it.each([
    ['malformed YAML', 'bad.yaml', 'kind: Pod\nmetadata:\n  name: [unclosed\n', { document: 0 }],
    ['an invalid CIDR', 'cidr.yaml', docs(node('n1', '172.18.0.2', '10.244.300.0/24')), { field: 'spec.podCIDR' }],
    ['a pod IP outside its node range', 'range.yaml', docs(node('n1', '172.18.0.2', '10.244.1.0/24'), pod('a', 'n1', '10.244.9.5')), { field: 'status.podIP', document: 1 }],
    ['two pods with one IP', 'dup.yaml', docs(node('n1', '172.18.0.2', '10.244.1.0/24'), pod('a', 'n1', '10.244.1.5'), pod('b', 'n1', '10.244.1.5')), { field: 'status.podIP', document: 2 }],
  ])('%s: one line naming the file, document and field; exit 1', async (_name, fname, text, where) => {
    const path = file(fname, text);
    const r = await runCli(['validate', '-f', path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(path);
    if ('document' in where) expect(lines[0]).toContain(`document ${where.document}`);
    if ('field' in where) expect(lines[0]).toContain(where.field);
  });

  it('an unknown kind: validate reports it (one line, exit 1), trace warns and goes on', async () => {
    const path = file('unknown.yaml', docs(node('n1', '172.18.0.2', '10.244.1.0/24'), 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n'));
    const v = await runCli(['validate', '-f', path]);
    expect(v.code).toBe(1);
    expect(v.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(v.stderr).toContain(`${path}: document 1`);
    expect(v.stderr).toContain('Widget');
    const s = await runCli(['show', 'n1', 'route', '-f', path]);
    expect(s.code).toBe(0);
    expect(s.stderr).toContain('warning');
    expect(s.stderr).toContain('Widget');
  });

  it('an exhausted pod CIDR names the node and the host-local error', async () => {
    // A /30 holds .1 (gateway) and .2 only: host-local's range is .1-.2 with .1 skipped.
    const path = file('full.yaml', docs(node('n1', '172.18.0.2', '10.244.1.0/30'), pod('a', 'n1'), pod('b', 'n1')));
    const r = await runCli(['validate', '-f', path]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('no IP addresses available in range set: 10.244.1.1-10.244.1.2');
    expect(r.stderr).toContain('n1');
  });

  it('more nodes than the cloud route table allows names the limit', async () => {
    const nodes = Array.from({ length: 51 }, (_, i) => node(`n${i}`, `172.18.${Math.floor((i + 2) / 250)}.${((i + 2) % 250) + 1}`));
    const cluster = `apiVersion: knet.dev/v1alpha1
kind: KnetCluster
metadata:
  name: big
spec:
  fabric:
    cidr: 172.18.0.0/16
    cloud:
      provider: aws
`;
    const path = file('aws.yaml', docs(cluster, ...nodes));
    const r = await runCli(['validate', '-f', path]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('50');
    expect(r.stderr).toMatch(/aws/i);
  });

  it.each([
    [['trace']],
    [['trace', 'a']],
    [['frobnicate']],
    [['trace', 'default/client', 'shop/db-0:5432', '--proto', 'sctp']],
    [['show', 'node-1', 'routes']],
    [['trace', 'default/client', 'shop/db-0', '--bogus']],
  ])('usage error %j exits 2', async (argv) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^knet: /);
  });

  it('an unknown pod is bad input (exit 1)', async () => {
    const r = await runCli(['trace', 'default/nope', 'shop/db-0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('default/nope');
  });

  it('the example validates', async () => {
    const r = await runCli(['example']);
    const path = file('example.yaml', r.stdout);
    const v = await runCli(['validate', '-f', path]);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('3 nodes');
  });
});

describe('knet trace text', () => {
  it('--summary prints verdicts and outcomes without hops', async () => {
    const r = await runCli(['trace', 'default/client', 'svc/shop/cart', '--all-paths', '--summary']);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      '2 paths:',
      '  1. endpoint 10.244.1.3:8080, not masqueraded, delivered (p=0.5000)',
      '  2. endpoint 10.244.2.2:8080, not masqueraded, delivered (p=0.5000)',
      '  (probabilities sum to 1.0000)',
    ]);
  });

  it('sections run request, then reply, then the neighbour follow-up, each once', async () => {
    const r = await runCli(['trace', '203.0.113.9', '172.18.0.3:30080']);
    const sections = r.stdout.split('\n').filter((l) => l.startsWith('── '));
    expect(sections).toEqual(['── request ──', '── reply ──', expect.stringMatching(/^── afterwards/)]);
  });
});
