/**
 * The resident runner's own behaviour on real namespaces (the LinuxHost suite runs on it too):
 * answers equal to a process per command, helpers that follow a namespace deleted and created
 * again under the same name, a tool that exits on a line, sysctl writes done by the shell with
 * sysctl's own failures, spares, and nothing left running after close. Root only; namespaces
 * knet-rr<pid>-*, all deleted.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupNamespaces } from '../../src/host/linux/cleanup-namespaces.js';
import { spawnCommand } from '../../src/host/linux/command-runner.js';
import { createHelperSpares, createResidentRunner } from '../../src/host/linux/resident-runner.js';
import { labSkipReason, namespacesWithPrefix } from './lab-env.js';

const { reason } = await labSkipReason(['ip'], ['veth']);
if (reason !== undefined) console.warn(`skipping resident runner lab tests: ${reason}`);

const PREFIX = `knet-rr${process.pid}-`;
const ns = (s: string): string => `${PREFIX}${s}`;
const addNs = (n: string): void => void spawnSync('ip', ['netns', 'add', n]);
const delNs = (n: string): void => void spawnSync('ip', ['netns', 'del', n]);
const pids = (n: string): string[] => spawnSync('ip', ['netns', 'pids', n], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l !== '');

describe.skipIf(reason !== undefined)('createResidentRunner (real namespaces)', () => {
  afterAll(async () => {
    await cleanupNamespaces(PREFIX);
    expect(namespacesWithPrefix(PREFIX)).toEqual([]);
  });

  it('answers as a process per command does, for reads, writes, failures and batches', async () => {
    const a = ns('eq');
    addNs(a);
    const runner = createResidentRunner();
    try {
      const commands: [string, string[], string?][] = [
        ['ip', ['-n', a, 'link', 'set', 'lo', 'up']],
        ['ip', ['-n', a, 'link', 'add', 'lo', 'type', 'dummy']],
        ['ip', ['-n', a, '-d', '-j', 'link', 'show', 'dev', 'lo']],
        ['ip', ['-n', a, '-4', '-j', 'addr', 'show']],
        ['ip', ['-n', a, 'link', 'show', 'dev', 'nope']],
        ['ip', ['-n', a, '-batch', '-'], 'link set lo up\nlink add lo type dummy\nlink set lo down\n'],
        ['ip', ['-n', a, '-j', 'route', 'show', 'table', 'all']],
        ['ip', ['netns', 'exec', a, 'sysctl', '-n', 'net/ipv4/ip_forward']],
        ['ip', ['netns', 'exec', a, 'sysctl', '-q', '-w', 'net/ipv4/ip_forward=1']],
        ['ip', ['netns', 'exec', a, 'sysctl', '-q', '-w', 'net/ipv4/ip_forward=yes']],
        ['ip', ['netns', 'exec', a, 'sysctl', '-q', '-w', 'net/ipv4/conf/eth9/arp_notify=1']],
        ['ip', ['netns', 'exec', a, 'sysctl', '-n', 'net/ipv4/ip_forward']],
      ];
      for (const [file, args, input] of commands) {
        const opts = input !== undefined ? { input } : {};
        const resident = await runner(file, args, opts);
        // The same command again as its own process (writes are idempotent or fail the same way).
        const own = await spawnCommand(file, args, opts);
        // iproute2's exit status for a failure (1, 2 or 254) is not known in batch mode: 1.
        const status = (r: { code: number | null }): string => (r.code === 0 ? 'ok' : r.code === 255 ? 'exited' : 'failed');
        const view = (r: { code: number | null; stdout: string; stderr: string }) => ({ command: [file, ...args].join(' '), status: status(r), stdout: r.stdout, stderr: r.stderr });
        expect(view(resident)).toEqual(view(own));
      }
      expect(runner.helpers()).toEqual([`sh ${a}`, `ip ${a} -d -j`, `ip ${a} -4 -j`, `ip ${a}`, `ip ${a} -j`]);
    } finally {
      await runner.close();
      delNs(a);
    }
  });

  it('runs the next command after the tool exits on a line, as a new process would', async () => {
    const a = ns('exit');
    addNs(a);
    const runner = createResidentRunner();
    try {
      const r = await runner('ip', ['-n', a, 'link', 'set', 'dev', 'lo', 'master', 'nope']);
      expect(r).toEqual(await spawnCommand('ip', ['-n', a, 'link', 'set', 'dev', 'lo', 'master', 'nope']));
      expect(r.code).toBe(255);
      expect((await runner('ip', ['-n', a, 'link', 'set', 'lo', 'up'])).code).toBe(0);
    } finally {
      await runner.close();
      delNs(a);
    }
  });

  it('serves a namespace deleted and created again under its name with new helpers, and a missing one as a process would', async () => {
    const a = ns('again');
    addNs(a);
    const runner = createResidentRunner();
    try {
      await runner('ip', ['-n', a, 'link', 'set', 'lo', 'up']);
      expect((await runner('ip', ['-n', a, '-d', '-j', 'link', 'show', 'dev', 'lo'])).stdout).toContain('"UP"');
      delNs(a);
      const gone = await runner('ip', ['-n', a, 'link', 'set', 'lo', 'up']);
      expect(gone.code).not.toBe(0);
      expect(gone.stderr).toContain(`Cannot open network namespace "${a}": No such file or directory`);
      addNs(a);
      // The new namespace's lo is down: the old helpers would still see the old one.
      expect((await runner('ip', ['-n', a, '-d', '-j', 'link', 'show', 'dev', 'lo'])).stdout).not.toContain('"UP"');
      expect((await runner('ip', ['netns', 'exec', a, 'sysctl', '-n', 'net/ipv4/ip_forward'])).stdout).toBe('0\n');
    } finally {
      await runner.close();
      delNs(a);
    }
  });

  it('builds a namespace group from a spare, and leaves no process behind after close', async () => {
    const a = ns('spare');
    addNs(a);
    const spares = createHelperSpares(1);
    spares.refill();
    const runner = createResidentRunner({ spares });
    try {
      runner.prepare(a);
      expect((await runner('ip', ['netns', 'exec', a, 'sysctl', '-q', '-w', 'net/ipv4/ip_forward=1'])).code).toBe(0);
      expect((await spawnCommand('ip', ['netns', 'exec', a, 'sysctl', '-n', 'net/ipv4/ip_forward'])).stdout).toBe('1\n');
      expect(pids(a).length).toBeGreaterThan(0);
      await runner.close();
      for (let i = 0; i < 50 && pids(a).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(pids(a)).toEqual([]);
      expect(runner.helpers()).toEqual([]);
    } finally {
      await spares.close();
      delNs(a);
    }
  });
});
