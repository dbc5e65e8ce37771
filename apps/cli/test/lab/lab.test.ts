/**
 * `knet lab` for real: the example cluster (kubenet, kube-proxy in iptables mode) built in
 * network namespaces knet-t<pid>-..., checked against the simulation, entered with `lab exec`,
 * and removed; the same cluster with kubenet's hairpin-veth mode, where every probe agrees; and
 * `lab down` after a crash (the state file gone).
 *
 * Runs as root on Linux with the tools and kernel features a lab needs (see labRequirements);
 * skips with the reason printed otherwise. Lab state goes to a temporary KNET_LAB_DIR. Every lab
 * is removed in afterAll, whatever happened.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_CLUSTER_YAML } from '@knet/core';
import { probeLinuxCapabilities } from '@knet/core/linux';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/knet.js';
import { labCapabilityProblems, labRequirements } from '../../src/lab/lab-capabilities.js';
import { removeLab } from '../../src/lab/lab-down.js';
import type { LabState } from '../../src/lab/lab-state.js';

const problems = process.platform === 'linux'
  ? labCapabilityProblems(process.platform, await probeLinuxCapabilities(), labRequirements('iptables'))
  : [`not Linux (${process.platform})`];
const reason = problems.length > 0 ? problems.join('; ') : undefined;
if (reason !== undefined) console.warn(`skipping the knet lab tests: ${reason}`);

const NAME = `t${process.pid}`;
const CRASHED = `t${process.pid}c`;
const HAIRPIN_VETH = `t${process.pid}h`;
const labDir = mkdtempSync(join(tmpdir(), 'knet-lab-'));

/** `ip netns list` (the command, not a directory listing): the names, without "(id: N)". */
function ipNetnsList(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n !== '');
}

/** The root namespace's interfaces and addresses, to show that a lab leaves them alone. */
function rootNamespace(): string {
  return execFileSync('ip', ['-br', 'addr', 'show'], { encoding: 'utf8' });
}

function labState(name: string): LabState {
  return JSON.parse(readFileSync(join(labDir, `${name}.json`), 'utf8')) as LabState;
}

/** True while the process runs (a zombie, killed but not yet reaped by its parent, does not count). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The example cluster's pods and namespaces, as `knet example` declares them. */
const EXAMPLE_PODS = 11;
const EXAMPLE_POD_NAMESPACES = 8; // 11 pods, 3 of them kube-proxy on the host network

describe.skipIf(reason !== undefined)('knet lab on the example cluster', () => {
  let rootBefore = '';

  beforeAll(() => {
    process.env['KNET_LAB_DIR'] = labDir;
    rootBefore = rootNamespace();
  });

  afterAll(async () => {
    await removeLab(NAME);
    await removeLab(CRASHED);
    await removeLab(HAIRPIN_VETH);
    rmSync(labDir, { recursive: true, force: true });
  }, 60_000);

  it('lab up builds fabric, outside, nodes and pods in knet-<name>- namespaces and starts the echo servers', async () => {
    const r = await runCli(['lab', 'up', '--name', NAME]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`lab ${NAME} is up`);
    const prefix = `knet-${NAME}-`;
    const mine = ipNetnsList().filter((n) => n.startsWith(prefix)).sort();
    expect(mine).toEqual(
      [
        'fabric',
        'outside',
        'node-node-1',
        'node-node-2',
        'node-node-3',
        'pod-default-client',
        'pod-kube-system-coredns-7db6d8ff4d-x5k8w',
        'pod-shop-cart-5d8b9c7f6-hv4nx',
        'pod-shop-cart-5d8b9c7f6-r8zjp',
        'pod-shop-db-0',
        'pod-shop-frontend-7c9d6b8f4-2qzrt',
        'pod-shop-frontend-7c9d6b8f4-9wlmf',
        'pod-shop-loadgen-6f9c8d7b5-tq2mz',
      ]
        .map((n) => prefix + n)
        .sort(),
    );
    const s = labState(NAME);
    expect(s.status).toBe('up');
    expect(s.pods).toHaveLength(EXAMPLE_PODS);
    expect(new Set(s.pods.filter((p) => !p.hostNetwork).map((p) => p.netns)).size).toBe(EXAMPLE_POD_NAMESPACES);
    // Every pod with containerPorts: coredns, two frontends, two carts, db.
    expect(s.echoServers.map((e) => [e.netns.slice(prefix.length), e.tcp, e.udp])).toEqual([
      ['pod-kube-system-coredns-7db6d8ff4d-x5k8w', [53, 9153], [53]],
      ['pod-shop-cart-5d8b9c7f6-hv4nx', [6379, 8080], []],
      ['pod-shop-cart-5d8b9c7f6-r8zjp', [6379, 8080], []],
      ['pod-shop-db-0', [5432], []],
      ['pod-shop-frontend-7c9d6b8f4-2qzrt', [8080], []],
      ['pod-shop-frontend-7c9d6b8f4-9wlmf', [8080], []],
    ]);
    for (const e of s.echoServers) expect([e.netns, alive(e.pid)]).toEqual([e.netns, true]);
    // kube-proxy's rules are in the node namespaces.
    const save = execFileSync('ip', ['netns', 'exec', `${prefix}node-node-2`, 'iptables-save', '-t', 'nat'], { encoding: 'utf8' });
    expect(save).toMatch(/^-A KUBE-SERVICES -d 10\.96\.45\.67\/32 -p tcp -m comment --comment "shop\/cart:http cluster IP" -m tcp --dport 8080 -j KUBE-SVC-/m);
  }, 120_000);

  it('refuses to build a lab whose name exists', async () => {
    const r = await runCli(['lab', 'up', '--name', NAME]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`lab "${NAME}" already exists`);
  });

  it('lab status lists the namespaces and the running echo servers', async () => {
    const r = await runCli(['lab', 'status', '--name', NAME, '-o', 'json']);
    expect(r.code).toBe(0);
    const [st] = JSON.parse(r.stdout) as { status: string; namespaces: string[]; missing: string[]; echoServers: { alive: boolean }[] }[];
    expect(st?.status).toBe('up');
    expect(st?.namespaces).toHaveLength(13);
    expect(st?.missing).toEqual([]);
    expect(st?.echoServers.map((e) => e.alive)).toEqual([true, true, true, true, true, true]);
  });

  it('lab exec runs a command inside a pod or node namespace and passes output and exit status through', async () => {
    const addr = await runCli(['lab', 'exec', '--name', NAME, 'shop/db-0', '--', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    expect(addr.code).toBe(0);
    expect(addr.stdout).toContain('inet 10.244.2.3/24');
    const node = await runCli(['lab', 'exec', '--name', NAME, 'node/node-2', '--', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    expect(node.stdout).toContain('inet 172.18.0.3/24');
    const status = await runCli(['lab', 'exec', '--name', NAME, 'default/client', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(status).toEqual({ stdout: 'out\n', stderr: 'err\n', code: 3 });
    // A real TCP exchange with a pod's echo server, from another node's pod.
    const echo = await runCli([
      'lab', 'exec', '--name', NAME, 'default/client', '--',
      process.execPath, '-e',
      "const s=require('net').connect(6379,'10.244.2.2',()=>s.end('ping'));s.setEncoding('utf8');s.on('data',d=>process.stdout.write(d))",
    ]);
    expect(echo).toEqual({ stdout: 'ping', stderr: '', code: 0 });
    const missing = await runCli(['lab', 'exec', '--name', NAME, 'shop/nope', '--', 'true']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('has no pod "shop/nope"');
  });

  it('lab check: every pod pair behaves as the simulation predicts, and so does every Service probe except a pod reaching itself', async () => {
    const r = await runCli(['lab', 'check', '--name', NAME, '-o', 'json']);
    const c = JSON.parse(r.stdout) as {
      probes: number;
      disagreements: number;
      results: { kind: string; from: string; to: string; real: string; predicted: string[]; agree: boolean }[];
    };
    // 11 pods: 110 ordered pairs; 6 Service ports from 11 pods.
    expect(c.results.filter((x) => x.kind === 'pod')).toHaveLength(110);
    expect(c.results.filter((x) => x.kind === 'service')).toHaveLength(66);
    expect(c.results.filter((x) => x.kind === 'pod' && !x.agree)).toEqual([]);
    // Real outcomes span all three kinds the lab can see: pods connect or answer pings.
    expect(new Set(c.results.map((x) => x.real))).toContain('connected');
    // Every probe agrees, Services included: a pod reaching itself through a Service it backs
    // is dropped by the kernel under kubenet's promiscuous-bridge mode (the bridged DNAT sends the
    // frame back out the port it came in on, without the hairpin flag), and knet predicts it
    // (docs/decisions/0005-bridged-dnat.md).
    expect(c.results.filter((x) => !x.agree)).toEqual([]);
    expect(c.disagreements).toBe(0);
    expect(r.code).toBe(0);
    // The text form: a matrix line per source, and every disagreement listed.
    const text = await runCli(['lab', 'check', '--name', NAME]);
    expect(text.stdout).toMatch(/^ {2}default\/client +✓✓·✓✓✓✓✓✓✓✓ {2}✓✓✓✓✓✓$/m);
    const listed = text.stdout.split('\n').filter((l) => / → .*: real (connected|refused|timeout) /.test(l)).length;
    expect(text.stdout).toMatch(new RegExp(`^lab ${NAME}: 110 pod pairs and 66 Service probes; ${176 - listed} as the simulation predicts, ${listed} disagreements? `));
    expect(listed).toBe(0);
    expect(text.code).toBe(0);
  }, 120_000);

  it('lab check with kubenet in hairpin-veth mode: every probe, pod pairs and Services, as the simulation predicts', async () => {
    const file = join(labDir, 'example-hairpin-veth.yaml');
    const yaml = EXAMPLE_CLUSTER_YAML.replace('  cni:\n    plugin: kubenet\n', '  cni:\n    plugin: kubenet\n    options:\n      hairpinMode: hairpin-veth\n');
    expect(yaml).not.toBe(EXAMPLE_CLUSTER_YAML);
    writeFileSync(file, yaml);
    expect((await runCli(['lab', 'up', '-f', file, '--name', HAIRPIN_VETH])).code).toBe(0);
    const r = await runCli(['lab', 'check', '--name', HAIRPIN_VETH, '-o', 'json']);
    const c = JSON.parse(r.stdout) as { probes: number; disagreements: number; results: { agree: boolean; real: string }[] };
    expect(c.results.filter((x) => !x.agree)).toEqual([]);
    expect([c.probes, c.disagreements, r.code]).toEqual([176, 0, 0]);
    // The Services answer (no REJECT, no drop): every probe of this cluster connects.
    expect(new Set(c.results.map((x) => x.real))).toEqual(new Set(['connected']));
    expect((await runCli(['lab', 'down', '--name', HAIRPIN_VETH])).code).toBe(0);
  }, 120_000);

  it('lab down removes every namespace and echo server, and is idempotent', async () => {
    const pids = labState(NAME).echoServers.map((e) => e.pid);
    const r = await runCli(['lab', 'down', '--name', NAME]);
    expect(r).toEqual({ stdout: `lab ${NAME}: removed 13 namespaces, stopped 6 echo servers\n`, stderr: '', code: 0 });
    expect(ipNetnsList().filter((n) => n.startsWith(`knet-${NAME}-`))).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(join(labDir, `${NAME}.json`))).toBe(false);
    expect(await runCli(['lab', 'down', '--name', NAME])).toEqual({ stdout: `lab ${NAME}: nothing to remove\n`, stderr: '', code: 0 });
    expect(rootNamespace()).toBe(rootBefore);
  }, 60_000);

  it('lab down cleans up after a crashed run: no state file, still every namespace and process goes', async () => {
    expect((await runCli(['lab', 'up', '--name', CRASHED])).code).toBe(0);
    const pids = labState(CRASHED).echoServers.map((e) => e.pid);
    rmSync(join(labDir, `${CRASHED}.json`));
    expect(readdirSync(labDir)).not.toContain(`${CRASHED}.json`);
    const status = await runCli(['lab', 'status', '--name', CRASHED]);
    expect(status.stdout).toContain(`lab ${CRASHED}: no state file`);
    const r = await runCli(['lab', 'down', '--name', CRASHED]);
    expect(r.stdout).toBe(`lab ${CRASHED}: removed 13 namespaces (there was no state file)\n`);
    expect(ipNetnsList().filter((n) => n.startsWith(`knet-${CRASHED}-`))).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);
    expect(rootNamespace()).toBe(rootBefore);
  }, 120_000);
});
