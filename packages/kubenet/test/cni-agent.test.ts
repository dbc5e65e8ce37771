/**
 * The launcher and `knet-kubenet-agent` around the plugin: the launcher runs the plugin itself
 * when no agent serves its namespace (none at all, one of another namespace, one killed), the
 * agent answers through pipes and through files alike, and a launcher whose agent ends without
 * answering reports code 11. Root only for the namespace cases (skips with the reason); the
 * last case needs nothing but a shell.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, closeSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CNI_AGENT_BASE_DIR, cniConformanceSkipReason } from '@knet/core/linux';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKnetKubenetBin } from './knet-kubenet-executable.js';

const dir = mkdtempSync(join(tmpdir(), 'knet-cni-agent-bin-'));
let bin = { launcher: '', cni: '', agent: '' };
beforeAll(async () => {
  bin = await buildKnetKubenetBin(dir);
}, 60_000);

const skip = cniConformanceSkipReason(['veth', 'bridge']);
if (skip !== undefined) console.log(`knet-kubenet agent tests in namespaces: skipped: ${skip}`);

const PREFIX = `knet-cag${process.pid}-`;
const ns = (s: string): string => `${PREFIX}${s}`;
const PATH = `${process.env['PATH'] ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`;

afterAll(() => {
  const left = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(PREFIX)) : [];
  for (const n of left) spawnSync('ip', ['netns', 'del', n]);
  rmSync(dir, { recursive: true, force: true });
});

function conf(dataDir: string): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'agent-test',
    type: 'knet-kubenet',
    bridge: 'cbr0',
    isGateway: true,
    ipMasq: false,
    hairpinMode: false,
    promiscMode: true,
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.7.0/24', gateway: '10.244.7.1' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir },
  });
}

/** Runs `command` (a shell command line) inside `node` with the CNI variables, as a runtime would. */
function inNode(node: string, command: string, env: Record<string, string>, input = ''): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', node, 'sh', '-c', command], { env: { PATH, ...env }, input, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function startAgent(node: string): Promise<{ pid: number; stop(signal?: NodeJS.Signals): Promise<void> }> {
  const child = spawn('ip', ['netns', 'exec', node, process.execPath, bin.agent], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const link = join(CNI_AGENT_BASE_DIR, `knet-kubenet.${child.pid}`, 'netns');
  for (let i = 0; i < 200 && !existsSync(link) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 25));
  if (!existsSync(link)) throw new Error(`agent did not start in ${node}: ${log}`);
  return {
    pid: child.pid!,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      child.kill(signal);
      await exited;
    },
  };
}

describe.skipIf(skip !== undefined)('knet-kubenet launcher and agent', () => {
  it('runs the plugin itself without an agent, and hands over to the agent of its own namespace only', async () => {
    const a = ns('a');
    const b = ns('b');
    for (const n of [a, b]) spawnSync('ip', ['netns', 'add', n]);
    const agent = await startAgent(a);
    try {
      // VERSION in b: no agent there, so Node.js runs the plugin beside the launcher.
      const own = inNode(b, `${bin.launcher}`, { CNI_COMMAND: 'VERSION' });
      expect(own.code).toBe(0);
      expect(JSON.parse(own.stdout)).toMatchObject({ cniVersion: '1.1.0' });
      // A launcher whose fallback is missing fails in b, and is answered by the agent in a.
      const noFallback = join(dir, 'nofallback', 'knet-kubenet');
      mkdirSync(join(dir, 'nofallback'), { recursive: true });
      writeFileSync(noFallback, readFileSync(bin.launcher, 'utf8'));
      spawnSync('chmod', ['755', noFallback]);
      expect(inNode(b, noFallback, { CNI_COMMAND: 'VERSION' }).code).not.toBe(0);
      const served = inNode(a, noFallback, { CNI_COMMAND: 'VERSION' });
      expect(served.code).toBe(0);
      expect(JSON.parse(served.stdout)).toMatchObject({ cniVersion: '1.1.0' });
    } finally {
      await agent.stop();
      for (const n of [a, b]) spawnSync('ip', ['netns', 'del', n]);
    }
    expect(existsSync(join(CNI_AGENT_BASE_DIR, `knet-kubenet.${agent.pid}`))).toBe(false);
  });

  it('answers ADD and DEL through pipes and through files alike', async () => {
    const node = ns('io');
    const pods = [ns('io-p0'), ns('io-p1')];
    for (const n of [node, ...pods]) spawnSync('ip', ['netns', 'add', n]);
    const data = join(dir, 'io-data');
    const agent = await startAgent(node);
    try {
      const env = (i: number, command: string) => ({ CNI_COMMAND: command, CNI_CONTAINERID: `c${i}`, CNI_NETNS: `/run/netns/${pods[i]!}`, CNI_IFNAME: 'eth0', CNI_PATH: dir });
      // Pipes: standard input and output are FIFOs.
      const piped = inNode(node, `printf '%s' "$CONF" | ${bin.launcher} | cat`, { ...env(0, 'ADD'), CONF: conf(data) });
      expect(piped.code).toBe(0);
      expect(JSON.parse(piped.stdout)).toMatchObject({ cniVersion: '1.0.0', ips: [{ address: '10.244.7.2/24', gateway: '10.244.7.1' }] });
      // Files: the launcher copies its input for the agent and prints the agent's answer itself.
      const confFile = join(dir, 'conf.json');
      const outFile = join(dir, 'out.json');
      writeFileSync(confFile, conf(data));
      const filed = inNode(node, `${bin.launcher} < ${confFile} > ${outFile}`, env(1, 'ADD'));
      expect(filed.code).toBe(0);
      expect(JSON.parse(readFileSync(outFile, 'utf8'))).toMatchObject({ ips: [{ address: '10.244.7.3/24' }] });
      const ip = spawnSync('ip', ['-n', pods[1]!, '-4', '-j', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' });
      expect(ip.stdout).toContain('10.244.7.3');
      // An error is the plugin's JSON, with its exit status.
      const bad = inNode(node, `printf '{bad' | ${bin.launcher}`, env(1, 'ADD'));
      expect(bad.code).toBe(1);
      expect(JSON.parse(bad.stdout)).toMatchObject({ code: 6 });
      for (const i of [0, 1]) expect(inNode(node, `printf '%s' "$CONF" | ${bin.launcher}`, { ...env(i, 'DEL'), CONF: conf(data) }).code).toBe(0);
      expect(readdirSync(join(data, 'agent-test')).filter((f) => /^\d/.test(f))).toEqual([]);
    } finally {
      await agent.stop();
      for (const n of [node, ...pods]) spawnSync('ip', ['netns', 'del', n]);
    }
  });

  it('falls back to running the plugin once its agent was killed, and a new agent clears the old directory', async () => {
    const node = ns('kill');
    spawnSync('ip', ['netns', 'add', node]);
    const first = await startAgent(node);
    try {
      await first.stop('SIGKILL');
      expect(existsSync(join(CNI_AGENT_BASE_DIR, `knet-kubenet.${first.pid}`))).toBe(true);
      const r = inNode(node, bin.launcher, { CNI_COMMAND: 'VERSION' });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ cniVersion: '1.1.0' });
      const second = await startAgent(node);
      await second.stop();
      expect(existsSync(join(CNI_AGENT_BASE_DIR, `knet-kubenet.${first.pid}`))).toBe(false);
    } finally {
      spawnSync('ip', ['netns', 'del', node]);
    }
  });
});

describe('knet-kubenet launcher with an agent that ends without answering', () => {
  it('reports code 11 (try again later) instead of guessing', async () => {
    // A stand-in agent in this very namespace, in a directory of its own: it takes the request and
    // closes the reply unanswered. Nothing here touches a network namespace.
    const base = join(dir, 'fake-agents');
    const agentDir = join(base, `knet-kubenet.${process.pid}`);
    mkdirSync(agentDir, { recursive: true });
    spawnSync('ln', ['-s', `/proc/${process.pid}/ns/net`, join(agentDir, 'netns')]);
    spawnSync('mkfifo', [join(agentDir, 'requests'), ...Array.from({ length: 8 }, (_, i) => join(agentDir, `fifo.${i}`))]);
    const requests = openSync(join(agentDir, 'requests'), constants.O_RDWR);
    const launcher = spawn(bin.launcher, [], { env: { PATH, KNET_CNI_AGENT_DIR: base, CNI_COMMAND: 'VERSION' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    launcher.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = new Promise<number | null>((resolve) => launcher.on('close', resolve));
    // Read the request line, then open the reply FIFO and close it without a word.
    const buf = Buffer.alloc(256);
    const { readSync } = await import('node:fs');
    const n = readSync(requests, buf, 0, 256, null);
    const [pid, , , slot] = buf.subarray(0, n).toString().trim().split(' ');
    expect(Number(pid)).toBe(launcher.pid);
    for (let i = 0; i < 200; i++) {
      try {
        closeSync(openSync(join(agentDir, `fifo.${slot ?? ''}`), constants.O_WRONLY | constants.O_NONBLOCK));
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    expect(await code).toBe(1);
    expect(JSON.parse(out)).toEqual({ cniVersion: '1.1.0', code: 11, msg: 'the knet-kubenet agent ended before answering' });
    closeSync(requests);
  });
});
