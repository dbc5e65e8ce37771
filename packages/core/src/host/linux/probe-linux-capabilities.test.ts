import { describe, expect, it } from 'vitest';
import { KnetError } from '../../errors/knet-error.js';
import type { CommandRunner } from './command-runner.js';
import { probeLinuxCapabilities } from './probe-linux-capabilities.js';

const isRoot = typeof process.geteuid === 'function' && process.geteuid() === 0;

/** A machine without conntrack and without the dummy driver, answered from a script. */
function machine(): { runner: CommandRunner; calls: string[][] } {
  const calls: string[][] = [];
  const runner: CommandRunner = async (file, args) => {
    calls.push([file, ...args]);
    if (file === 'conntrack') throw new KnetError('EOPNOTSUPP', 'conntrack: command not found', { tool: file });
    if (args.includes('dummy')) return { code: 2, stdout: '', stderr: 'Error: Unknown device type.\n' };
    if (args.includes('/proc/net/ip_vs')) return { code: 1, stdout: '', stderr: 'cat: /proc/net/ip_vs: No such file or directory\n' };
    return { code: 0, stdout: '', stderr: '' };
  };
  return { runner, calls };
}

describe('probeLinuxCapabilities', () => {
  it('reports a missing tool with the reason, never as a pass', async () => {
    const caps = await probeLinuxCapabilities({ runner: machine().runner });
    expect(caps.tools.conntrack).toEqual({ ok: false, reason: 'conntrack: command not found' });
    expect(caps.tools.ip).toEqual({ ok: true });
    expect(caps.tools.tshark).toEqual({ ok: true });
  });

  it.skipIf(!isRoot)('tries kernel features inside a throwaway knet-probe namespace and deletes it', async () => {
    const { runner, calls } = machine();
    const caps = await probeLinuxCapabilities({ runner });
    expect(caps.root).toEqual({ ok: true });
    expect(caps.kernel.dummy).toEqual({ ok: false, reason: 'Error: Unknown device type.' });
    expect(caps.kernel.ip_vs).toEqual({ ok: false, reason: 'cat: /proc/net/ip_vs: No such file or directory' });
    expect(caps.kernel.veth).toEqual({ ok: true });
    expect(caps.kernel.nf_tables).toEqual({ ok: true });
    const add = calls.find((c) => c[0] === 'ip' && c[1] === 'netns' && c[2] === 'add');
    const probeNs = add?.[3] ?? '';
    expect(probeNs).toMatch(/^knet-probe-\d+-[0-9a-f]{8}$/);
    expect(calls.at(-1)).toEqual(['ip', 'netns', 'del', probeNs]);
    const kernelCalls = calls.filter((c) => c[0] === 'ip' && c[1] !== '-V' && !(c[1] === 'netns' && (c[2] === 'add' || c[2] === 'del')));
    expect(kernelCalls.length).toBe(10);
    for (const c of kernelCalls) expect(c[1] === '-n' ? c[2] : c[1] === 'netns' && c[2] === 'exec' ? c[3] : undefined).toBe(probeNs);
  });

  it.skipIf(isRoot)('reports every kernel feature as unchecked without root', async () => {
    const caps = await probeLinuxCapabilities({ runner: machine().runner });
    expect(caps.root.ok).toBe(false);
    for (const s of Object.values(caps.kernel)) expect(s).toEqual({ ok: false, reason: expect.stringMatching(/^cannot check: not running as root/) });
  });
});
