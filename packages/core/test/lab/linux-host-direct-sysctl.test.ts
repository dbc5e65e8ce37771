/**
 * LinuxHost inside a knet namespace (as a CNI plugin runs: `ip netns exec knet-...-node PLUGIN`)
 * reads and writes that namespace's sysctls through /proc/sys instead of starting
 * `ip netns exec NS sysctl`: the same values and the same errors (codes and sysctl's messages)
 * as sysctl(8) gives, and no command run. Differential: a child process in the namespace with
 * `directSysctl` on, against this process (outside it) running sysctl(8).
 *
 * Runs as root with iproute2 and procps sysctl; skips with the reason printed otherwise.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKnetError } from '../../src/errors/knet-error.js';
import { cleanupNamespaces } from '../../src/host/linux/cleanup-namespaces.js';
import { createLinuxHost } from '../../src/host/linux/linux-host.js';
import { labSkipReason } from './lab-env.js';

const { reason } = await labSkipReason(['ip', 'bridge'], ['bridge']);
if (reason !== undefined) console.warn(`skipping the LinuxHost direct-sysctl lab test: ${reason}`);

const PREFIX = `knet-dsys-${process.pid}-`;
const NS = `${PREFIX}node`;

/** The sysctl operations both sides run, in order. */
const OPS: readonly (readonly ['set', string, string] | readonly ['get', string])[] = [
  ['set', 'net.ipv4.ip_forward', '1'],
  ['get', 'net.ipv4.ip_forward'],
  ['get', 'net.ipv4.ip_local_port_range'],
  ['set', 'net.ipv4.ip_local_port_range', '40000 50000'],
  ['get', 'net.ipv4.ip_local_port_range'],
  ['set', 'net.ipv4.conf.br.1.rp_filter', '2'],
  ['get', 'net/ipv4/conf/br.1/rp_filter'],
  ['set', 'net.ipv4.conf.nosuch.rp_filter', '1'],
  ['get', 'net.ipv4.conf.nosuch.rp_filter'],
  ['set', 'net.ipv4.ip_forward', 'yes'],
  ['set', 'net.ipv4.conf.br.1.rp_filter', 'x'],
  ['set', 'net.ipv4.route.flush', '1'],
  ['set', 'kernel.hostname', 'x'],
];

type Outcome = { ok: string | null } | { code: string; message: string };

const CHILD = (bundle: string) => `
import { createLinuxHost } from ${JSON.stringify(bundle)};
const commands = [];
const runner = async (file, args) => { commands.push([file, ...args].join(' ')); return { code: 1, stdout: '', stderr: 'no commands expected' }; };
const host = createLinuxHost({ namespacePrefix: ${JSON.stringify(PREFIX)}, runner });
const ops = ${JSON.stringify(OPS)};
const out = [];
for (const op of ops) {
  try {
    const v = op[0] === 'set' ? await host.sysctlSet(${JSON.stringify(NS)}, op[1], op[2]) : await host.sysctlGet(${JSON.stringify(NS)}, op[1]);
    out.push({ ok: v ?? null });
  } catch (e) {
    out.push({ code: e.code, message: e.message });
  }
}
process.stdout.write(JSON.stringify({ out, commands }));
`;

describe.skipIf(reason !== undefined)('LinuxHost sysctls in its own namespace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'knet-dsys-'));
  const host = createLinuxHost({ namespacePrefix: PREFIX, txChecksumOffload: true });

  beforeAll(async () => {
    await cleanupNamespaces(PREFIX);
    const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
    const tsup = createRequire(import.meta.url).resolve('tsup');
    const esbuild = (await import(createRequire(tsup).resolve('esbuild'))) as { build(o: Record<string, unknown>): Promise<unknown> };
    await esbuild.build({ entryPoints: [here('../../src/linux.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: join(dir, 'linux.mjs'), logLevel: 'silent' });
  }, 60_000);

  afterAll(async () => {
    await cleanupNamespaces(PREFIX);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs OPS with sysctl(8) (this process is outside the namespace), then with /proc/sys from a child inside it. */
  async function both(): Promise<{ viaSysctl: Outcome[]; direct: Outcome[]; commands: string[] }> {
    const fresh = async (): Promise<void> => {
      await cleanupNamespaces(PREFIX);
      await host.netnsAdd(NS, { role: 'node' });
      await host.linkAdd(NS, { kind: 'bridge', name: 'br.1' });
    };
    await fresh();
    const viaSysctl: Outcome[] = [];
    for (const op of OPS) {
      try {
        const v = op[0] === 'set' ? await host.sysctlSet(NS, op[1], op[2]) : await host.sysctlGet(NS, op[1]);
        viaSysctl.push({ ok: v ?? null });
      } catch (e) {
        if (!isKnetError(e)) throw e;
        viaSysctl.push({ code: e.code, message: e.message });
      }
    }
    await fresh();
    writeFileSync(join(dir, 'child.mjs'), CHILD(join(dir, 'linux.mjs')));
    const r = spawnSync('ip', ['netns', 'exec', NS, process.execPath, join(dir, 'child.mjs')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const child = JSON.parse(r.stdout) as { out: Outcome[]; commands: string[] };
    return { viaSysctl, direct: child.out, commands: child.commands };
  }

  it('gives the values, codes and messages sysctl(8) gives, without running a command', async () => {
    const { viaSysctl, direct, commands } = await both();
    expect(commands).toEqual([]);
    expect(direct).toEqual(viaSysctl);
    // And they are what the kernel and procps say.
    expect(direct[1]).toEqual({ ok: '1' });
    expect(direct[4]).toEqual({ ok: '40000\t50000' });
    expect(direct[6]).toEqual({ ok: '2' });
    expect(direct[7]).toEqual({ code: 'ENOENT', message: 'sysctl: cannot stat /proc/sys/net/ipv4/conf/nosuch/rp_filter: No such file or directory' });
    expect(direct[9]).toEqual({ code: 'EINVAL', message: 'sysctl: setting key "net.ipv4.ip_forward": Invalid argument' });
    expect(direct[12]).toMatchObject({ code: 'EPERM' });
  }, 60_000);
});
