/**
 * cleanupNamespaces and probeLinuxCapabilities on this machine: a "crashed run" leaves
 * namespaces with processes inside; cleanup kills them and deletes exactly the namespaces of its
 * prefix, and again finds nothing to do. Runs as root with iproute2; skips with the reason
 * printed otherwise.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupNamespaces } from '../../src/host/linux/cleanup-namespaces.js';
import { spawnCommand } from '../../src/host/linux/command-runner.js';
import { probeLinuxCapabilities } from '../../src/host/linux/probe-linux-capabilities.js';
import { labSkipReason, namespacesWithPrefix } from './lab-env.js';

const { reason } = await labSkipReason(['ip'], []);
if (reason !== undefined) console.warn(`skipping the namespace cleanup lab test: ${reason}`);

const MINE = `knet-lhc${process.pid}-`;
const OTHER = `knet-lhd${process.pid}-`;

async function ip(...args: string[]): Promise<void> {
  const r = await spawnCommand('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

describe.skipIf(reason !== undefined)('cleanupNamespaces (real namespaces)', () => {
  afterAll(async () => {
    await cleanupNamespaces(MINE);
    await cleanupNamespaces(OTHER);
  });

  it('kills what still runs inside, deletes every namespace of the prefix and only those, and is idempotent', async () => {
    for (const n of [`${MINE}node`, `${MINE}pod`, `${OTHER}keep`]) await ip('netns', 'add', n);
    await ip('-n', `${MINE}node`, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', `${MINE}pod`);
    // What a crashed `knet lab up` leaves: a pod's echo server still running in its namespace.
    const orphan = spawn('ip', ['netns', 'exec', `${MINE}pod`, 'sleep', '60'], { stdio: 'ignore' });
    const exited = new Promise<string | null>((resolve) => orphan.on('exit', (_code, signal) => resolve(signal)));
    for (let i = 0; i < 100 && (await spawnCommand('ip', ['netns', 'pids', `${MINE}pod`])).stdout.trim() === ''; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await spawnCommand('ip', ['netns', 'pids', `${MINE}pod`])).stdout.trim()).toMatch(/^\d+$/);

    expect(await cleanupNamespaces(MINE)).toEqual([`${MINE}node`, `${MINE}pod`]);
    expect(await exited).toBe('SIGKILL');
    expect(namespacesWithPrefix(MINE)).toEqual([]);
    expect(namespacesWithPrefix(OTHER)).toEqual([`${OTHER}keep`]);
    expect(await cleanupNamespaces(MINE)).toEqual([]);

    expect(await cleanupNamespaces(OTHER.slice('knet-'.length))).toEqual([`${OTHER}keep`]);
    const listed = (await spawnCommand('ip', ['netns', 'list'])).stdout;
    expect(listed.split('\n').filter((l) => l.startsWith(MINE) || l.startsWith(OTHER))).toEqual([]);
  });

  it.each(['', 'knet-', 'knet-a/b'])('refuses the prefix %j', async (prefix) => {
    await expect(cleanupNamespaces(prefix)).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

describe.skipIf(reason !== undefined)('probeLinuxCapabilities (this machine)', () => {
  it('finds root, iproute2 and the drivers every lab needs, and leaves no probe namespace', async () => {
    const caps = await probeLinuxCapabilities();
    expect(caps.root).toEqual({ ok: true });
    expect(caps.tools.ip).toEqual({ ok: true });
    for (const f of Object.values(caps.kernel)) expect(f.ok === true ? f.reason : typeof f.reason).toBe(f.ok === true ? undefined : 'string');
    expect(caps.kernel.veth).toEqual({ ok: true });
    expect(namespacesWithPrefix(`knet-probe-${process.pid}-`)).toEqual([]);
  });
});
