import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildClusterState, loadExampleCluster } from '@knet/core';
import { runCli } from '../src/knet.js';

const dir = mkdtempSync(join(tmpdir(), 'knet-reach-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const EXAMPLE_PODS = buildClusterState(loadExampleCluster()).pods.map((p) => `${p.namespace}/${p.name}`);
const CLIENT = 'default/client';
const FRONTEND = 'shop/frontend-7c9d6b8f4-2qzrt';
const CART = 'shop/cart-5d8b9c7f6-hv4nx';

interface ReachJson {
  schema: string;
  pods: string[];
  matrix: { from: string; to: string; port: number; protocol: string; allowed: boolean }[];
}

/** A one-node cluster whose pods have no status.podIP (the CNI assigns them) and an ipBlock policy. */
const IPAM_CLUSTER = `apiVersion: v1
kind: Node
metadata:
  name: n1
spec:
  podCIDR: 10.244.1.0/24
status:
  addresses:
  - type: InternalIP
    address: 172.18.0.2
${['a', 'b', 'c']
  .map(
    (name) => `---
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: x
  labels:
    pod: ${name}
spec:
  nodeName: n1
  containers:
  - name: app
    image: nginx
    ports:
    - containerPort: 80
`,
  )
  .join('')}---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: b-from-first-address
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: b
  ingress:
  - from:
    - ipBlock:
        cidr: 10.244.1.2/32
`;

describe('knet reach', () => {
  it('-o json on the example cluster: the pods, and one entry per ordered pair with the documented fields', async () => {
    const r = await runCli(['reach', '--port', '8080', '-o', 'json']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const doc = JSON.parse(r.stdout) as ReachJson;
    expect(doc.schema).toBe('knet.dev/reach/v1');
    expect(doc.pods).toEqual(EXAMPLE_PODS);
    expect(doc.matrix).toHaveLength(EXAMPLE_PODS.length ** 2);
    const cell = (from: string, to: string) => doc.matrix.find((e) => e.from === from && e.to === to);
    expect(cell(CLIENT, FRONTEND)).toEqual({ from: CLIENT, to: FRONTEND, port: 8080, protocol: 'TCP', allowed: true });
    expect(cell(CLIENT, CART)?.allowed).toBe(false);
    expect(cell(FRONTEND, CART)?.allowed).toBe(true);
    expect(cell(CART, CART)?.allowed).toBe(true);
  });

  it('without --port: one matrix per declared container port and protocol', async () => {
    const r = await runCli(['reach']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => /^(TCP|UDP|SCTP)\/\d+:/.test(l)).map((l) => l.split(':')[0])).toEqual(['TCP/53', 'TCP/5432', 'TCP/6379', 'TCP/8080', 'TCP/9153', 'UDP/53']);
    const udp = await runCli(['reach', '--proto', 'udp', '-o', 'json']);
    expect(new Set((JSON.parse(udp.stdout) as ReachJson).matrix.map((e) => `${e.protocol}/${e.port}`))).toEqual(new Set(['UDP/53']));
  });

  it('groups pods that behave identically in the table (the two frontend replicas)', async () => {
    const r = await runCli(['reach', '--port', '8080']);
    expect(r.stdout).toContain('shop/frontend-7c9d6b8f4-2qzrt, shop/frontend-7c9d6b8f4-9wlmf');
  });

  it('--namespace restricts the matrix to one namespace; csv, md and dot render it', async () => {
    const csv = await runCli(['reach', '--port', '5432', '-n', 'shop', '-o', 'csv']);
    const lines = csv.stdout.trimEnd().split('\n');
    const shop = EXAMPLE_PODS.filter((p) => p.startsWith('shop/'));
    expect(lines[0]).toBe('from,to,port,protocol,allowed');
    expect(lines).toHaveLength(1 + shop.length ** 2);
    expect(lines).toContain('shop/cart-5d8b9c7f6-hv4nx,shop/db-0,5432,TCP,true');
    expect(lines).toContain('shop/frontend-7c9d6b8f4-2qzrt,shop/db-0,5432,TCP,false');
    const md = await runCli(['reach', '--port', '5432', '--namespace', 'shop', '-o', 'md']);
    expect(md.stdout.startsWith('## TCP/5432\n')).toBe(true);
    const dot = await runCli(['reach', '--port', '5432', '-n', 'shop', '-o', 'dot']);
    expect(dot.stdout).toContain('"shop/cart-5d8b9c7f6-hv4nx" -> "shop/db-0" [label="TCP/5432"];');
    expect(dot.stdout).not.toContain('"shop/frontend-7c9d6b8f4-2qzrt" -> "shop/db-0"');
  });

  it('--explain prints why, per side', async () => {
    const r = await runCli(['reach', '--explain', CLIENT, 'shop/db-0', '--port', '5432']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('default/client -> shop/db-0 TCP/5432: denied');
    expect(r.stdout).toContain('ingress of shop/db-0: denied [network-policy]');
    expect(r.stdout).toContain('shop/default-deny-ingress: no ingress rules (it only isolates)');
    const j = await runCli(['reach', '--explain', 'shop/cart-5d8b9c7f6-hv4nx', 'shop/db-0', '--port', '5432', '-o', 'json']);
    const v = JSON.parse(j.stdout) as { allowed: boolean; ingress: { tier: string; policies: { policy: string; allowed: boolean }[] } };
    expect([v.allowed, v.ingress.tier, v.ingress.policies.find((p) => p.allowed)?.policy]).toEqual([true, 'network-policy', 'shop/allow-cart-to-db']);
  });

  it('resolves an --explain address the CNI assigns (default/client has no status.podIP) to its pod', async () => {
    const r = await runCli(['reach', '--explain', '10.244.0.4', 'shop/db-0', '--port', '5432']);
    expect(r.stdout.split('\n')[0]).toBe('default/client -> shop/db-0 TCP/5432: denied');
    const outside = await runCli(['reach', '--explain', '203.0.113.9', 'shop/frontend-7c9d6b8f4-2qzrt', '--port', '8080']);
    expect(outside.stdout).toContain('egress of 203.0.113.9: allowed [not-subject]');
  });

  it('gives pods without status.podIP the address the CNI assigns, so ipBlocks match them', async () => {
    const path = file('ipam.yaml', IPAM_CLUSTER);
    const r = await runCli(['reach', '-f', path, '--port', '80', '-o', 'json']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const allowed = (JSON.parse(r.stdout) as ReachJson).matrix.filter((e) => e.to === 'x/b' && e.from !== 'x/b').map((e) => `${e.from}:${e.allowed}`);
    expect(allowed).toEqual(['x/a:true', 'x/c:false']);
  });

  it('reads AdminNetworkPolicies from -f and names the tier in the explanation', async () => {
    const path = file(
      'anp.yaml',
      `${IPAM_CLUSTER}---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata:
  name: deny-c
spec:
  priority: 10
  subject:
    namespaces: {}
  ingress:
  - name: no-c
    action: Deny
    from:
    - pods:
        namespaceSelector: {}
        podSelector:
          matchLabels:
            pod: c
`,
    );
    const r = await runCli(['reach', '-f', path, '--explain', 'x/c', 'x/a', '--port', '80']);
    expect(r.stdout).toContain('ingress of x/a: denied [admin]');
    expect(r.stdout).toContain('AdminNetworkPolicy deny-c (priority 10) ingress[0] "no-c": Deny');
  });

  it.each([
    ['--proto icmp', ['reach', '--proto', 'icmp', '--port', '80'], 2, 'NetworkPolicy covers TCP, UDP and SCTP only'],
    ['--port 0', ['reach', '--port', '0'], 2, '--port must be a number from 1 to 65535'],
    ['-o yaml', ['reach', '-o', 'yaml'], 2, '-o must be table, json, csv, md or dot'],
    ['--explain without --port', ['reach', '--explain', CLIENT, CART], 2, '--explain needs --port'],
    ['--explain with one endpoint', ['reach', '--explain', CLIENT, '--port', '80'], 2, 'reach --explain needs SRC and DST'],
    ['a stray argument', ['reach', 'x/a'], 2, 'unexpected argument "x/a"'],
    ['an unknown pod', ['reach', '--explain', 'shop/nope', CART, '--port', '80'], 1, 'no pod "shop/nope"'],
    ['an empty namespace', ['reach', '-n', 'nope'], 1, 'no pods in namespace "nope"'],
  ])('refuses %s', async (_name, argv, code, message) => {
    const r = await runCli(argv);
    expect([r.code, r.stdout]).toEqual([code, '']);
    expect(r.stderr).toContain(message);
  });

  it.each([
    ['an invalid CIDR', 'ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/33', 'spec.ingress[0].from[0].ipBlock.cidr'],
    ['an except outside its cidr', 'ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/16\n        except: [10.1.0.0/24]', 'spec.ingress[0].from[0].ipBlock.except[0]'],
    ['an unknown protocol', 'egress:\n  - ports:\n    - protocol: ICMP', 'spec.egress[0].ports[0].protocol'],
    ['a bad selector operator', 'ingress:\n  - from:\n    - podSelector:\n        matchExpressions:\n        - {key: a, operator: Equal, values: [b]}', 'spec.ingress[0].from[0].podSelector.matchExpressions[0].operator'],
  ])('a bad policy (%s) is one line naming the file, document and field; exit 1', async (_name, rules, field) => {
    const path = file(`bad-${field.replace(/[^a-z0-9]/gi, '')}.yaml`, `${IPAM_CLUSTER}---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: bad
  namespace: x
spec:
  podSelector: {}
  ${rules}
`);
    const r = await runCli(['reach', '-f', path, '--port', '80']);
    expect([r.code, r.stdout]).toEqual([1, '']);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${path}: document 5: ${field}: `);
  });

  it('is listed in knet --help', async () => {
    const r = await runCli(['--help']);
    expect(r.stdout).toContain('knet reach [-f FILE ...] [--port P] [--proto tcp|udp|sctp] [--namespace NS]');
    expect(r.stdout).toContain('knet reach --explain SRC DST --port P');
  });
});
