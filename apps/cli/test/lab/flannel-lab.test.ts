/**
 * `knet lab` with flannel for real: the example cluster with flannel's vxlan and host-gw backends,
 * leases in a real etcd (Debian's etcd-server) that `lab up` starts and `lab down` stops, checked
 * against the simulation (which keeps the leases in its embedded store): 0 disagreements; the
 * leases are in etcd under flannel's keys; the kernel holds flannel.1 / the host-gw routes.
 *
 * Runs as root on Linux with what a lab needs plus the vxlan device and etcd; skips with the reason
 * printed otherwise. Lab state goes to a temporary KNET_LAB_DIR; every lab is removed in afterAll.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_CLUSTER_YAML } from '@knet/core';
import { findEtcdBinary, probeLinuxCapabilities } from '@knet/core/linux';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/knet.js';
import { labCapabilityProblems, labRequirements } from '../../src/lab/lab-capabilities.js';
import { removeLab } from '../../src/lab/lab-down.js';
import type { LabState } from '../../src/lab/lab-state.js';

const caps = process.platform === 'linux' ? await probeLinuxCapabilities() : undefined;
const problems = [
  ...labCapabilityProblems(process.platform, caps, labRequirements('iptables')),
  ...(caps !== undefined && caps.root.ok && !caps.kernel.vxlan.ok ? [`kernel vxlan: ${caps.kernel.vxlan.reason ?? 'missing'}`] : []),
  ...(findEtcdBinary() === undefined ? ['etcd: not installed (apt-get install etcd-server)'] : []),
];
const reason = problems.length > 0 ? problems.join('; ') : undefined;
if (reason !== undefined) console.warn(`skipping the flannel lab tests: ${reason}`);

const labDir = mkdtempSync(join(tmpdir(), 'knet-flannel-lab-'));
const files = mkdtempSync(join(tmpdir(), 'knet-flannel-manifests-'));

/** The example cluster with flannel in etcd mode (SubnetMin at the Network: the manifest's first pod CIDR is reserved). */
function exampleWith(backend: string): string {
  const file = join(files, `${backend}.yaml`);
  const cni = [
    '  cni:',
    '    plugin: flannel',
    '    options:',
    '      subnetManager: etcd',
    '      datastore: etcd',
    '      netConf:',
    '        Network: 10.244.0.0/16',
    '        SubnetMin: 10.244.0.0',
    '        Backend:',
    `          Type: ${backend}`,
    '',
  ].join('\n');
  writeFileSync(file, EXAMPLE_CLUSTER_YAML.replace('  cni:\n    plugin: kubenet\n', cni));
  return file;
}

function labState(name: string): LabState {
  return JSON.parse(readFileSync(join(labDir, `${name}.json`), 'utf8')) as LabState;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The leases as etcd holds them, through its v3 JSON gateway. */
async function etcdLeases(endpoint: string): Promise<Record<string, { PublicIP: string; BackendType?: string }>> {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const res = await fetch(`${endpoint}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: b64('/coreos.com/network/subnets/'), range_end: b64('/coreos.com/network/subnets0') }) });
  const kvs = ((await res.json()) as { kvs?: { key: string; value: string }[] }).kvs ?? [];
  return Object.fromEntries(kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString(), JSON.parse(Buffer.from(kv.value, 'base64').toString()) as { PublicIP: string }]));
}

const ipj = (ns: string, ...args: string[]): unknown => JSON.parse(execFileSync('ip', ['-n', ns, '-j', ...args], { encoding: 'utf8' }));

const CASES: [string, string][] = [
  ['vxlan', `fv${process.pid}`],
  ['host-gw', `fh${process.pid}`],
];

describe.skipIf(reason !== undefined)('knet lab with flannel and a real etcd', () => {
  beforeAll(() => {
    process.env['KNET_LAB_DIR'] = labDir;
  });

  afterAll(async () => {
    for (const [, name] of CASES) await removeLab(name);
    rmSync(labDir, { recursive: true, force: true });
    rmSync(files, { recursive: true, force: true });
  }, 120_000);

  it.each(CASES)('%s: lab up starts etcd, lab check finds 0 disagreements, the leases are flannel\'s keys in etcd, lab down stops etcd', async (backend, name) => {
    const up = await runCli(['lab', 'up', '-f', exampleWith(backend), '--name', name]);
    expect(up.code, up.stderr).toBe(0);
    const s = labState(name);
    expect(s.cni).toBe('flannel');
    expect(s.etcd).toBeDefined();
    expect(alive(s.etcd!.pid)).toBe(true);

    const check = await runCli(['lab', 'check', '--name', name]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/ 0 disagreements /);

    const leases = await etcdLeases(s.etcd!.endpoints[0]!);
    expect(Object.fromEntries(Object.entries(leases).map(([k, v]) => [k, [v.PublicIP, v.BackendType]]))).toEqual({
      '/coreos.com/network/subnets/10.244.0.0-24': ['172.18.0.2', backend],
      '/coreos.com/network/subnets/10.244.1.0-24': ['172.18.0.3', backend],
      '/coreos.com/network/subnets/10.244.2.0-24': ['172.18.0.4', backend],
    });

    const node1 = `knet-${name}-node-node-1`;
    const routes = (ipj(node1, 'route') as { dst: string; gateway?: string; dev: string; flags?: string[] }[]).filter((r) => r.dst.startsWith('10.244.') && r.gateway !== undefined);
    if (backend === 'vxlan') {
      const vx = (ipj(node1, '-d', 'link', 'show', 'flannel.1') as { mtu: number; linkinfo: { info_kind: string; info_data: { id: number; port: number; learning?: boolean } } }[])[0]!;
      expect([vx.mtu, vx.linkinfo.info_kind, vx.linkinfo.info_data.id, vx.linkinfo.info_data.port, vx.linkinfo.info_data.learning]).toEqual([1450, 'vxlan', 1, 8472, false]);
      expect(routes.map((r) => [r.dst, r.gateway, r.dev, r.flags?.includes('onlink')])).toEqual([
        ['10.244.1.0/24', '10.244.1.0', 'flannel.1', true],
        ['10.244.2.0/24', '10.244.2.0', 'flannel.1', true],
      ]);
    } else {
      expect(routes.map((r) => [r.dst, r.gateway, r.dev])).toEqual([
        ['10.244.1.0/24', '172.18.0.3', 'eth0'],
        ['10.244.2.0/24', '172.18.0.4', 'eth0'],
      ]);
    }

    const down = await runCli(['lab', 'down', '--name', name]);
    expect(down.code, down.stderr).toBe(0);
    for (let i = 0; i < 50 && alive(s.etcd!.pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(s.etcd!.pid)).toBe(false);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`knet-${name}-`);
  }, 240_000);
});
