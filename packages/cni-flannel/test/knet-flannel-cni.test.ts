/**
 * The `knet-flannel` executable for real: run in a `knet-flcni-*` node namespace as a runtime runs
 * the `flannel` plugin, it reads a subnet.env, saves the delegate config and runs Debian's
 * reference `bridge` (with `host-local`) from `CNI_PATH`, which leaves cni0, the veth pair and the
 * pod's address and routes; DEL runs bridge's DEL from the saved config. Skipped, with the reason,
 * without root, the kernel's veth/bridge or the reference plugins.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cniConformanceSkipReason } from '@knet/core/linux';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKnetFlannel } from './knet-flannel-executable.js';

const CNI_DIR = ['/usr/lib/cni', '/opt/cni/bin'].find((d) => ['bridge', 'host-local'].every((p) => existsSync(join(d, p))));
const skip =
  cniConformanceSkipReason(['veth', 'bridge']) ??
  (CNI_DIR === undefined ? 'the reference plugins bridge and host-local are not installed (apt-get install -y containernetworking-plugins)' : undefined);
if (skip !== undefined) console.log(`knet-flannel executable: skipped: ${skip}`);

const NODE = `knet-flcni-${process.pid}-node`;
const POD = `knet-flcni-${process.pid}-pod`;
let exe = '/nonexistent/knet-flannel';
let dir = '';

function sh(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, [...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  if (skip !== undefined) return;
  exe = await buildKnetFlannel();
  dir = mkdtempSync(join(tmpdir(), 'knet-flcni-'));
  writeFileSync(join(dir, 'subnet.env'), 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
  sh('ip', ['netns', 'add', NODE]);
  sh('ip', ['netns', 'add', POD]);
  sh('ip', ['-n', NODE, 'link', 'set', 'lo', 'up']);
}, 60_000);

afterAll(() => {
  if (skip !== undefined) return;
  for (const ns of [POD, NODE]) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dirname(exe), { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

function run(command: string, conf: object): { code: number | null; out: string } {
  const r = spawnSync('ip', ['netns', 'exec', NODE, exe], {
    input: JSON.stringify(conf),
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', CNI_COMMAND: command, CNI_CONTAINERID: 'f1a2b3c4', CNI_NETNS: `/run/netns/${POD}`, CNI_IFNAME: 'eth0', CNI_PATH: CNI_DIR ?? '' },
  });
  return { code: r.status, out: r.stdout };
}

const conf = (): object => ({
  cniVersion: '0.3.1',
  name: 'cbr0',
  type: 'flannel',
  subnetFile: join(dir, 'subnet.env'),
  dataDir: join(dir, 'flannel'),
  ipam: { dataDir: join(dir, 'ipam') },
  delegate: { hairpinMode: true, isDefaultGateway: true },
});

describe.skipIf(skip !== undefined)('knet-flannel (the flannel CNI executable) delegating to the reference bridge', () => {
  it('ADD: bridge makes cni0 (10.244.1.1/24, MTU 1450) and gives the pod 10.244.1.2/24 with the Network and default routes', () => {
    const r = run('ADD', conf());
    expect(r.code, r.out).toBe(0);
    const result = JSON.parse(r.out) as { cniVersion: string; ips: { version: string; address: string; gateway: string }[] };
    expect(result.cniVersion).toBe('0.3.1');
    expect(result.ips).toEqual([{ version: '4', interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }]);
    const addr = JSON.parse(sh('ip', ['-n', NODE, '-j', 'addr', 'show', 'cni0'])) as { mtu: number; addr_info: { local: string; prefixlen: number }[] }[];
    expect(addr[0]!.mtu).toBe(1450);
    expect(addr[0]!.addr_info.filter((a) => a.local.includes('.')).map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['10.244.1.1/24']);
    const routes = JSON.parse(sh('ip', ['-n', POD, '-j', 'route'])) as { dst: string; gateway?: string }[];
    expect(routes.map((x) => `${x.dst} ${x.gateway ?? ''}`).sort()).toEqual(['10.244.0.0/16 10.244.1.1', '10.244.1.0/24 ', 'default 10.244.1.1']);
    expect(readFileSync(join(dir, 'flannel', 'f1a2b3c4'), 'utf8')).toBe(
      `{"cniVersion":"0.3.1","hairpinMode":true,"ipMasq":false,"ipam":{"dataDir":"${join(dir, 'ipam')}","ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"10.244.0.0/16"}],"type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1450,"name":"cbr0","type":"bridge"}`,
    );
  });

  it('DEL: bridge removes the pod\'s interface and releases the address; the saved config goes; a second DEL succeeds', () => {
    expect(run('DEL', conf()).code).toBe(0);
    const links = JSON.parse(sh('ip', ['-n', POD, '-j', 'link'])) as { ifname: string }[];
    expect(links.map((l) => l.ifname)).toEqual(['lo']);
    expect(existsSync(join(dir, 'flannel', 'f1a2b3c4'))).toBe(false);
    expect(existsSync(join(dir, 'ipam', 'cbr0', '10.244.1.2'))).toBe(false);
    expect(run('DEL', conf()).code).toBe(0);
  });

  it('fails ADD with flannel\'s message when flanneld has not written subnet.env', () => {
    const r = run('ADD', { ...conf(), subnetFile: join(dir, 'missing.env') });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({
      code: 999,
      msg: `failed to load flannel 'subnet.env' file: open ${join(dir, 'missing.env')}: no such file or directory. Check the flannel pod log for this node.`,
    });
  });
});
