/**
 * LinuxHost on this machine's kernel: every Host API call on real namespaces, the kernel's
 * errors, the netfilter passthroughs, and a differential test that builds the same node with two
 * pods through SimHost and through LinuxHost and compares what both read back. The suite runs
 * with each command runner (a process per command, and the resident helpers): both must give the
 * same answers.
 *
 * Runs as root with iproute2, ethtool and the veth and bridge drivers; skips with the reason
 * printed otherwise. Every namespace is named knet-lh<tag><pid>-...; all are deleted afterwards,
 * and the last test checks `ip netns list`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { isKnetError, type KnetError } from '../../src/errors/knet-error.js';
import type { Host, LinkAddOptions } from '../../src/host/host.js';
import { cleanupNamespaces } from '../../src/host/linux/cleanup-namespaces.js';
import { spawnCommand, type CommandRunner } from '../../src/host/linux/command-runner.js';
import { createLinuxHost } from '../../src/host/linux/linux-host.js';
import { createSimHost } from '../../src/kernel/sim-host.js';
import { normaliseStates, readStates } from './host-state.js';
import { commandsOutsideNamespaces, labSkipReason, namespacesWithPrefix } from './lab-env.js';

const { caps, reason } = await labSkipReason(['ip', 'bridge', 'ethtool', 'ping'], ['veth', 'bridge']);

/** The runner under test, and how to stop it. */
export interface SuiteRunner {
  readonly runner: CommandRunner;
  readonly close?: () => Promise<void>;
}

/**
 * Defines the suite for LinuxHost on the runner `make` returns, recording every command given
 * to it (`tag`: two letters for the namespace names of this variant).
 */
export function linuxHostSuite(label: string, tag: string, make: () => SuiteRunner): void {
if (reason !== undefined) console.warn(`skipping LinuxHost lab tests (${label}): ${reason}`);

const PREFIX = `knet-lh${tag}${process.pid}-`;
const ns = (s: string): string => `${PREFIX}${s}`;
const under = make();
const recorder = { commands: [] as string[][] };
const runner: CommandRunner = (file, args, options) => {
  recorder.commands.push([file, ...args]);
  return under.runner(file, args, options);
};
const host = createLinuxHost({ runner, namespacePrefix: PREFIX });

async function failure(p: Promise<unknown>): Promise<KnetError> {
  try {
    await p;
  } catch (e) {
    if (isKnetError(e)) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe.skipIf(reason !== undefined)(`LinuxHost (real namespaces, ${label})`, () => {
  afterAll(async () => {
    await under.close?.();
    await cleanupNamespaces(PREFIX);
  });

  describe('namespaces', () => {
    it('adds a namespace with IPv6 off, IPv4 boot defaults and lo down, and deletes it', async () => {
      const a = ns('a');
      await host.netnsAdd(a, { role: 'node', node: 'a' });
      try {
        expect(await host.netnsExists(a)).toBe(true);
        expect(await host.netnsList()).toContain(a);
        expect(host.netnsMeta(a)).toEqual({ role: 'node', node: 'a' });
        expect(await host.sysctlGet(a, 'net.ipv6.conf.all.disable_ipv6')).toBe('1');
        expect(await host.sysctlGet(a, 'net.ipv6.conf.default.disable_ipv6')).toBe('1');
        expect(await host.sysctlGet(a, 'net.ipv4.conf.all.rp_filter')).toBe('0');
        expect(await host.sysctlGet(a, 'net.ipv4.ip_forward')).toBe('0');
        const links = await host.linkList(a);
        expect(links).toEqual([
          { ifindex: 1, name: 'lo', kind: 'loopback', mac: '00:00:00:00:00:00', mtu: 65536, up: false, operstate: 'DOWN', lowerUp: false, promisc: false, noarp: false, txqlen: 1000 },
        ]);
        const dup = await failure(host.netnsAdd(a, { role: 'node' }));
        expect(dup.code).toBe('EEXIST');
        expect(dup.message).toBe(`Cannot create namespace file "/run/netns/${a}": File exists`);
      } finally {
        await host.netnsDel(a);
      }
      expect(await host.netnsExists(a)).toBe(false);
      const gone = await failure(host.netnsDel(a));
      expect(gone.code).toBe('ENOENT');
      expect(gone.message).toBe(`Cannot open network namespace "${a}": No such file or directory`);
    });

    it.each(['knet-other', 'cni-1234', 'default'])('refuses %s with EPERM without running anything', async (name) => {
      const before = recorder.commands.length;
      expect((await failure(host.netnsAdd(name, { role: 'node' }))).code).toBe('EPERM');
      expect((await failure(host.linkList(name))).code).toBe('EPERM');
      expect((await failure(host.sysctlSet(name, 'net.ipv4.ip_forward', '1'))).code).toBe('EPERM');
      expect(recorder.commands.length).toBe(before);
    });

    it('returns from netnsDel only when the veth peers in other namespaces are gone, and kills what runs inside', async () => {
      const a = ns('del-a');
      const b = ns('del-b');
      await host.netnsAdd(a, { role: 'node' });
      await host.netnsAdd(b, { role: 'pod' });
      try {
        await host.linkAdd(b, { kind: 'veth', name: 'eth0', peer: { name: 'veth-b', netns: a } });
        const sleeper = host.exec(b, ['sleep', '30']);
        for (let i = 0; i < 100 && (await spawnCommand('ip', ['netns', 'pids', b])).stdout.trim() === ''; i++) await new Promise((r) => setTimeout(r, 10));
        await host.netnsDel(b);
        expect((await sleeper).code).toBeNull();
        expect((await host.linkList(a)).map((l) => l.name)).toEqual(['lo']);
      } finally {
        await cleanupNamespaces(b);
        await host.netnsDel(a);
      }
    });
  });

  describe('links, addresses, routes, neighbours, fdb and their errors', () => {
    const n = ns('n');
    const p = ns('p');

    it('builds a node and a pod and reads them back', async () => {
      await host.netnsAdd(n, { role: 'node', node: 'n' });
      await host.netnsAdd(p, { role: 'pod', node: 'n', pod: 'default/p' });
      await host.linkSet(n, 'lo', { up: true });
      await host.linkAdd(n, { kind: 'bridge', name: 'cbr0', mtu: 1460, ageingTime: 120 });
      await host.linkAdd(p, { kind: 'veth', name: 'eth0', mtu: 1460, mac: '0a:58:0a:f4:01:02', peer: { name: 'veth0a1b2c3d', netns: n, mac: '9e:3a:51:7c:20:01' } });
      await host.linkSet(n, 'veth0a1b2c3d', { master: 'cbr0', hairpin: true, up: true });
      await host.linkSet(n, 'cbr0', { up: true, promisc: true });
      await host.addrAdd(n, 'cbr0', '10.244.1.1/24');
      await host.addrAdd(p, 'eth0', '10.244.1.2/24');
      await host.linkSet(p, 'eth0', { up: true });
      await host.routeAdd(p, { dst: 'default', via: '10.244.1.1', dev: 'eth0' });
      await host.routeAdd(n, { dst: '10.244.2.0/24', via: '172.18.0.3', dev: 'cbr0', onlink: true, proto: 'static', metric: 10, mtu: 1400 });
      await host.routeAdd(n, { dst: '10.244.3.0/24', dev: 'cbr0', table: 100, proto: 186, scope: 'link', src: '10.244.1.1' });
      await host.routeAdd(n, { dst: '10.244.5.0/26', type: 'blackhole', proto: 'bird' });
      await host.neighReplace(n, { dst: '10.244.1.7', dev: 'cbr0', lladdr: '0a:58:0a:f4:01:07' });
      await host.fdbAdd(n, { mac: '0a:58:0a:f4:01:63', dev: 'veth0a1b2c3d' });
      await host.sysctlSet(n, 'net.ipv4.ip_forward', '1');

      const links = await host.linkList(n);
      expect(links.map((l) => [l.ifindex, l.name, l.kind])).toEqual([
        [1, 'lo', 'loopback'],
        [2, 'cbr0', 'bridge'],
        [3, 'veth0a1b2c3d', 'veth'],
      ]);
      expect(links[1]).toMatchObject({ mac: '9e:3a:51:7c:20:01', mtu: 1460, up: true, operstate: 'UP', promisc: true, ageingTime: 120 });
      expect(links[2]).toMatchObject({ master: 'cbr0', peer: { ifindex: 2, netns: p }, bridgePort: { hairpin: true, learning: true, flood: true, isolated: false } });
      expect((await host.linkList(p))[1]).toMatchObject({ name: 'eth0', mac: '0a:58:0a:f4:01:02', mtu: 1460, peer: { ifindex: 3, netns: n } });
      expect(await host.addrList(n)).toContainEqual({ ifindex: 2, dev: 'cbr0', family: 'inet', local: '10.244.1.1', prefixlen: 24, broadcast: '10.244.1.255', scope: 'global', label: 'cbr0' });
      const routes = await host.routeList(n);
      expect(routes).toContainEqual({ type: 'unicast', dst: '10.244.2.0/24', table: 'main', dev: 'cbr0', gateway: '172.18.0.3', metric: 10, scope: 'global', protocol: 'static', onlink: true, mtu: 1400 });
      expect(routes).toContainEqual({ type: 'unicast', dst: '10.244.3.0/24', table: 100, dev: 'cbr0', prefsrc: '10.244.1.1', scope: 'link', protocol: 186, onlink: false });
      expect(routes).toContainEqual({ type: 'blackhole', dst: '10.244.5.0/26', table: 'main', scope: 'global', protocol: 'bird', onlink: false });
      expect(await host.neighList(n)).toContainEqual({ dst: '10.244.1.7', dev: 'cbr0', lladdr: '0a:58:0a:f4:01:07', state: 'PERMANENT', router: false });
      expect(await host.fdbList(n)).toContainEqual({ mac: '0a:58:0a:f4:01:63', dev: 'veth0a1b2c3d', master: 'cbr0', state: 'static', self: false });
      expect(await host.sysctlGet(n, 'net.ipv4.conf.cbr0.forwarding')).toBe('1');
    });

    it('turns TX checksum offload off on both veth ends and on the bridge', async () => {
      for (const [where, dev] of [[n, 'veth0a1b2c3d'], [p, 'eth0'], [n, 'cbr0']] as const) {
        const r = await host.exec(where, ['ethtool', '-k', dev]);
        expect(r.stdout).toMatch(/^tx-checksumming: off$/m);
      }
    });

    it('sends real packets between the pod and the bridge', async () => {
      const r = await host.exec(p, ['ping', '-c1', '-W1', '10.244.1.1']);
      expect(r.code).toBe(0);
      expect(await host.neighList(p)).toContainEqual({ dst: '10.244.1.1', dev: 'eth0', lladdr: '9e:3a:51:7c:20:01', state: 'REACHABLE', router: false });
    });

    it.each<[string, (h: Host) => Promise<unknown>, string, string | RegExp]>([
      ['a duplicate device', (h) => h.linkAdd(n, { kind: 'bridge', name: 'cbr0' }), 'EEXIST', 'RTNETLINK answers: File exists'],
      ['a veth whose peer name is taken in the peer namespace', (h) => h.linkAdd(p, { kind: 'veth', name: 'eth9', peer: { name: 'veth0a1b2c3d', netns: n } }), 'EEXIST', 'RTNETLINK answers: File exists'],
      ['a veth into a missing namespace', (h) => h.linkAdd(p, { kind: 'veth', name: 'eth9', peer: { name: 'x', netns: ns('missing') } }), 'ENOENT', /Invalid "netns" value/],
      ['a missing device', (h) => h.linkSet(n, 'nosuch', { up: true }), 'ENODEV', 'Cannot find device "nosuch"'],
      ['deleting lo', (h) => h.linkDel(n, 'lo'), 'EOPNOTSUPP', 'RTNETLINK answers: Operation not supported'],
      ['port flags on a device that is no bridge port', (h) => h.linkSet(n, 'cbr0', { hairpin: true }), 'EOPNOTSUPP', 'RTNETLINK answers: Operation not supported'],
      ['an address twice', (h) => h.addrAdd(n, 'cbr0', '10.244.1.1/24'), 'EEXIST', 'Error: ipv4: Address already assigned.'],
      ['deleting a missing address', (h) => h.addrDel(n, 'cbr0', '10.244.1.99/24'), 'ENOENT', 'Error: ipv4: Address not found.'],
      ['a route twice', (h) => h.routeAdd(p, { dst: 'default', via: '10.244.1.1', dev: 'eth0' }), 'EEXIST', 'RTNETLINK answers: File exists'],
      ['a gateway that is not on a connected network', (h) => h.routeAdd(n, { dst: '10.9.0.0/16', via: '192.0.2.1' }), 'ENETUNREACH', 'Error: Nexthop has invalid gateway.'],
      ['onlink without a device', (h) => h.routeAdd(n, { dst: '10.9.0.0/16', via: '192.0.2.1', onlink: true }), 'EINVAL', 'Error: Nexthop device required for onlink.'],
      ['a source address the namespace does not have', (h) => h.routeAdd(n, { dst: '10.9.0.0/16', dev: 'cbr0', src: '10.9.9.9' }), 'EINVAL', 'Error: Invalid prefsrc address.'],
      ['deleting a missing route', (h) => h.routeDel(n, { dst: '10.9.0.0/16' }), 'ENOENT', 'RTNETLINK answers: No such process'],
      ['deleting a missing neighbour', (h) => h.neighDel(n, '10.244.1.99', 'cbr0'), 'ENOENT', 'RTNETLINK answers: No such file or directory'],
      ['a permanent neighbour without an address', (h) => h.neighReplace(n, { dst: '10.244.1.98', dev: 'cbr0' }), 'EINVAL', 'Error: No link layer address given.'],
      ['deleting a missing fdb entry', (h) => h.fdbDel(n, { mac: '02:00:00:00:00:99', dev: 'veth0a1b2c3d' }), 'ENOENT', 'RTNETLINK answers: No such file or directory'],
      ['an fdb entry on a device that is no bridge port', (h) => h.fdbAdd(n, { mac: '02:00:00:00:00:99', dev: 'cbr0', self: false }), 'EOPNOTSUPP', 'RTNETLINK answers: Operation not supported'],
      ['an unknown sysctl', (h) => h.sysctlSet(n, 'net.ipv4.conf.nosuch.rp_filter', '1'), 'ENOENT', 'sysctl: cannot stat /proc/sys/net/ipv4/conf/nosuch/rp_filter: No such file or directory'],
      ['a non-numeric value for a numeric sysctl', (h) => h.sysctlSet(n, 'net.ipv4.ip_forward', 'yes'), 'EINVAL', 'sysctl: setting key "net.ipv4.ip_forward": Invalid argument'],
      ['a sysctl outside net.', (h) => h.sysctlSet(n, 'kernel.hostname', 'x'), 'EPERM', /only per-namespace keys under net\./],
      ['a missing namespace', (h) => h.routeList(ns('missing')), 'ENOENT', `Cannot open network namespace "${ns('missing')}": No such file or directory`],
    ])('reports %s with the kernel\'s errno and message', async (_, call, code, message) => {
      const e = await failure(call(host));
      expect(e.code).toBe(code);
      if (typeof message === 'string') expect(e.message).toBe(message);
      else expect(e.message).toMatch(message);
    });

    it('reports a dummy device as the kernel does (this kernel may lack the module)', async () => {
      const call = host.linkAdd(n, { kind: 'dummy', name: 'dummy0' });
      if (caps?.kernel.dummy.ok === true) {
        await call;
        expect((await host.linkList(n)).find((l) => l.name === 'dummy0')?.kind).toBe('dummy');
      } else {
        const e = await failure(call);
        expect(e.code).toBe('EOPNOTSUPP');
        expect(e.message).toBe(caps?.kernel.dummy.reason);
      }
    });

    it('runs several changes as one batch and reports the failing line; the lines before it took effect', async () => {
      const e = await failure(host.linkSet(n, 'cbr0', { mac: '0a:58:0a:f4:01:01', hairpin: true, up: false }));
      expect(e.code).toBe('EOPNOTSUPP');
      expect(e.message).toBe('RTNETLINK answers: Operation not supported');
      expect(e.details).toMatchObject({ netns: n, line: 2, lineText: 'link set dev cbr0 type bridge_slave hairpin on' });
      expect((await host.linkList(n)).find((x) => x.name === 'cbr0')).toMatchObject({ mac: '0a:58:0a:f4:01:01', up: true });
    });

    it('runs a master change on its own, as iproute2 exits at once for a missing master', async () => {
      const e = await failure(host.linkSet(n, 'veth0a1b2c3d', { mtu: 1400, master: 'nosuch', up: false }));
      expect(e.code).toBe('ENODEV');
      expect(e.message).toBe('Error: argument "nosuch" is wrong: Device does not exist');
      expect(e.details).toMatchObject({ netns: n, command: `ip -n ${n} link set dev veth0a1b2c3d master nosuch` });
      expect((await host.linkList(n)).find((x) => x.name === 'veth0a1b2c3d')).toMatchObject({ mtu: 1400, up: true, master: 'cbr0' });
    });

    it('moves, renames, releases and deletes devices', async () => {
      await host.linkAdd(n, { kind: 'veth', name: 'mv0', peer: { name: 'mv1' } });
      await host.linkSet(n, 'mv0', { netns: p, name: 'eth5', mtu: 1300, up: true });
      expect((await host.linkList(p)).find((l) => l.name === 'eth5')).toMatchObject({ mtu: 1300, up: true, peer: { netns: n } });
      await host.linkSet(n, 'veth0a1b2c3d', { master: null });
      expect((await host.linkList(n)).find((l) => l.name === 'veth0a1b2c3d')?.master).toBeUndefined();
      await host.linkDel(n, 'mv1');
      expect((await host.linkList(p)).some((l) => l.name === 'eth5')).toBe(false);
    });

    it('creates tun/tap and vxlan devices with their settings', async () => {
      await host.linkAdd(n, { kind: 'tun', name: 'tun9', mtu: 1400 });
      await host.linkAdd(n, { kind: 'tun', name: 'tap9', mode: 'tap' });
      const links = await host.linkList(n);
      expect(links.find((l) => l.name === 'tun9')).toMatchObject({ kind: 'tun', tunMode: 'tun', mtu: 1400, noarp: true, mac: '00:00:00:00:00:00' });
      expect(links.find((l) => l.name === 'tap9')).toMatchObject({ kind: 'tun', tunMode: 'tap', noarp: false });
      if (caps?.kernel.vxlan.ok !== true) return;
      await host.linkAdd(n, { kind: 'vxlan', name: 'vxlan9', id: 9, local: '10.244.1.1', dev: 'cbr0', learning: false });
      await host.fdbAdd(n, { mac: '00:00:00:00:00:00', dev: 'vxlan9', dst: '172.18.0.3' });
      await host.fdbAdd(n, { mac: '00:00:00:00:00:00', dev: 'vxlan9', dst: '172.18.0.4' });
      expect((await host.linkList(n)).find((l) => l.name === 'vxlan9')?.vxlan).toEqual({ id: 9, local: '10.244.1.1', dev: 'cbr0', port: 8472, learning: false });
      expect((await host.fdbList(n)).filter((e) => e.dev === 'vxlan9')).toEqual([
        { mac: '00:00:00:00:00:00', dev: 'vxlan9', dst: '172.18.0.3', state: 'permanent', self: true },
        { mac: '00:00:00:00:00:00', dev: 'vxlan9', dst: '172.18.0.4', state: 'permanent', self: true },
      ]);
      await host.fdbDel(n, { mac: '00:00:00:00:00:00', dev: 'vxlan9', dst: '172.18.0.3' });
      expect((await host.fdbList(n)).filter((e) => e.dev === 'vxlan9').map((e) => e.dst)).toEqual(['172.18.0.4']);
    });

    it('replaces and deletes routes and neighbours', async () => {
      await host.routeReplace(n, { dst: '10.244.2.0/24', via: '172.18.0.4', dev: 'cbr0', onlink: true, proto: 'static', metric: 10 });
      expect((await host.routeList(n)).filter((r) => r.dst === '10.244.2.0/24').map((r) => r.gateway)).toEqual(['172.18.0.4']);
      await host.routeDel(n, { dst: '10.244.2.0/24', metric: 10 });
      expect((await host.routeList(n)).some((r) => r.dst === '10.244.2.0/24')).toBe(false);
      await host.neighReplace(n, { dst: '10.244.1.7', dev: 'cbr0', lladdr: '0a:58:0a:f4:01:08', state: 'STALE' });
      expect((await host.neighList(n)).find((x) => x.dst === '10.244.1.7')).toMatchObject({ lladdr: '0a:58:0a:f4:01:08', state: 'STALE' });
      await host.neighDel(n, '10.244.1.7', 'cbr0');
      expect((await host.neighList(n)).some((x) => x.dst === '10.244.1.7')).toBe(false);
      await host.addrDel(n, 'cbr0', '10.244.1.1/24');
      expect((await host.addrList(n)).some((a) => a.dev === 'cbr0')).toBe(false);
    });
  });

  describe.skipIf(caps?.tools.iptables.ok !== true || caps.tools.ipset.ok !== true || caps.tools.nft.ok !== true)('netfilter passthroughs', () => {
    const f = ns('nf');

    it('restores and saves iptables rules inside the namespace', async () => {
      await host.netnsAdd(f, { role: 'node' });
      await host.iptablesRestore(f, '*filter\n:INPUT ACCEPT [0:0]\n:KNET-TEST - [0:0]\n-A INPUT -s 10.0.0.0/8 -j KNET-TEST\n-A KNET-TEST -j DROP\nCOMMIT\n');
      const saved = await host.iptablesSave(f, { table: 'filter' });
      expect(saved).toContain('-A INPUT -s 10.0.0.0/8 -j KNET-TEST');
      expect(saved).toContain('-A KNET-TEST -j DROP');
      await host.iptablesRestore(f, '*filter\n-A INPUT -d 192.0.2.1/32 -j ACCEPT\nCOMMIT\n', { noflush: true });
      expect(await host.iptablesSave(f)).toMatch(/-A INPUT -s 10\.0\.0\.0\/8 -j KNET-TEST\n-A INPUT -d 192\.0\.2\.1\/32 -j ACCEPT/);
      const e = await failure(host.iptablesRestore(f, '*filter\n-A INPUT -j NO-SUCH-CHAIN\nCOMMIT\n'));
      expect(e.code).toBe('EINVAL');
      expect(e.message).toMatch(/^iptables-restore v[\d.]+ .*'NO-SUCH-CHAIN'.*Error occurred at line: \d+$/);
    });

    it('restores and saves ipsets inside the namespace', async () => {
      await host.ipsetRestore(f, 'create KNET-TEST hash:ip family inet hashsize 1024 maxelem 65536\nadd KNET-TEST 10.244.1.2\n');
      expect(await host.ipsetSave(f)).toMatch(/^add KNET-TEST 10\.244\.1\.2$/m);
      expect((await failure(host.ipsetRestore(f, 'create KNET-TEST hash:ip\n'))).code).toBe('EEXIST');
      await host.ipsetRestore(f, 'create KNET-TEST hash:ip\nadd KNET-TEST 10.244.1.2\n', { exist: true });
    });

    it('applies and lists an nftables ruleset inside the namespace', async () => {
      await host.nftApply(f, 'table ip knet_test {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    ip saddr 10.0.0.0/8 counter drop\n  }\n}\n');
      expect(await host.nftListRuleset(f)).toMatch(/table ip knet_test \{[\s\S]*ip saddr 10\.0\.0\.0\/8 counter packets 0 bytes 0 drop/);
      const e = await failure(host.nftApply(f, 'table ip knet_test { chain input { type filter hook bogus priority 0; } }\n'));
      expect(e.code).toBe('EINVAL');
      expect(e.message).toMatch(/Error: unknown chain hook/);
    });
  });

  describe('differential: the same node with two pods on SimHost and on LinuxHost', () => {
    const N = ns('d-node');
    const F = ns('d-fabric');
    const P1 = ns('d-pod1');
    const P2 = ns('d-pod2');

    async function build(h: Host): Promise<void> {
      for (const [name, role] of [[F, 'fabric'], [N, 'node'], [P1, 'pod'], [P2, 'pod']] as const) {
        await h.netnsAdd(name, { role });
        if (h.kind === 'sim') {
          // What LinuxHost does to every new namespace (netnsSysctlDefaults).
          await h.sysctlSet(name, 'net.ipv6.conf.all.disable_ipv6', '1');
          await h.sysctlSet(name, 'net.ipv6.conf.default.disable_ipv6', '1');
        }
        await h.linkSet(name, 'lo', { up: true });
      }
      const veth = (name: string, mac: string, peer: string, peerMac: string, netns: string, mtu?: number): LinkAddOptions => ({
        kind: 'veth',
        name,
        mac,
        ...(mtu !== undefined ? { mtu } : {}),
        peer: { name: peer, mac: peerMac, netns },
      });
      await h.linkAdd(N, veth('eth0', '02:42:ac:12:00:02', 'n-node', '02:42:ac:12:00:01', F));
      await h.addrAdd(F, 'n-node', '172.18.0.1/16');
      await h.linkSet(F, 'n-node', { up: true });
      await h.addrAdd(N, 'eth0', '172.18.0.2/16');
      await h.linkSet(N, 'eth0', { up: true });
      await h.routeAdd(N, { dst: 'default', via: '172.18.0.1', dev: 'eth0' });
      await h.linkAdd(N, { kind: 'bridge', name: 'cbr0', mtu: 1460 });
      await h.sysctlSet(N, 'net.ipv4.ip_forward', '1');
      await h.sysctlSet(N, 'net.ipv4.conf.eth0.rp_filter', '1');
      for (const [pod, i] of [[P1, 2], [P2, 3]] as const) {
        const hostVeth = `veth${i}a1b2c3d`;
        await h.linkAdd(pod, veth('eth0', `0a:58:0a:f4:01:0${i}`, hostVeth, `9e:3a:51:7c:20:0${i}`, N, 1460));
        await h.linkSet(N, hostVeth, { master: 'cbr0', up: true, hairpin: i === 2 });
        await h.addrAdd(pod, 'eth0', `10.244.1.${i}/24`);
        await h.linkSet(pod, 'eth0', { up: true });
        await h.routeAdd(pod, { dst: 'default', via: '10.244.1.1', dev: 'eth0' });
        await h.sysctlSet(pod, 'net.ipv4.conf.eth0.arp_notify', '1');
      }
      await h.addrAdd(N, 'cbr0', '10.244.1.1/24');
      await h.linkSet(N, 'cbr0', { up: true });
      await h.routeAdd(N, { dst: '10.244.2.0/24', via: '172.18.0.3', dev: 'eth0', proto: 'static' });
      await h.routeAdd(N, { dst: '10.244.3.0/24', via: '10.99.0.1', dev: 'eth0', onlink: true, metric: 20 });
      await h.routeAdd(N, { dst: '198.51.100.0/24', via: '172.18.0.1', dev: 'eth0', src: '172.18.0.2', mtu: 1400, table: 100 });
      await h.routeAdd(N, { dst: '10.244.7.0/24', type: 'unreachable' });
      await h.routeAdd(P1, { dst: '10.96.0.0/12', via: '10.244.1.254', dev: 'eth0', onlink: true });
      await h.neighReplace(N, { dst: '172.18.0.3', dev: 'eth0', lladdr: '02:42:ac:12:00:03' });
      await h.fdbAdd(N, { mac: '0a:58:0a:f4:01:63', dev: 'veth3a1b2c3d' });
    }

    it('reads back the same links, addresses, routes, neighbours, FDB entries and sysctls', async () => {
      const sim = createSimHost({ seed: 7 });
      await build(sim);
      await build(host);
      const all = [F, N, P1, P2];
      for (const name of all) await host.settle(name);
      const simState = normaliseStates(await readStates(sim, all));
      const realState = normaliseStates(await readStates(host, all));
      for (const name of all) {
        const s = simState.get(name)!;
        const r = realState.get(name)!;
        expect({ ns: name, links: r.links }).toEqual({ ns: name, links: s.links });
        expect({ ns: name, addrs: r.addrs }).toEqual({ ns: name, addrs: s.addrs });
        expect({ ns: name, routes: r.routes }).toEqual({ ns: name, routes: s.routes });
        expect({ ns: name, neighs: r.neighs }).toEqual({ ns: name, neighs: s.neighs });
        expect({ ns: name, fdb: r.fdb }).toEqual({ ns: name, fdb: s.fdb });
      }
      for (const [name, key] of [
        [N, 'net.ipv4.ip_forward'],
        [N, 'net.ipv4.conf.cbr0.forwarding'],
        [N, 'net.ipv4.conf.eth0.rp_filter'],
        [P1, 'net.ipv4.conf.eth0.arp_notify'],
        [P2, 'net.ipv4.conf.eth0.forwarding'],
      ] as const) {
        expect([name, key, await host.sysctlGet(name, key)]).toEqual([name, key, await sim.sysctlGet(name, key)]);
      }
    });

    it('forwards real packets along what both built: pod to pod over the bridge, pod to the node\'s uplink', async () => {
      expect((await host.exec(P1, ['ping', '-c1', '-W1', '10.244.1.3'])).code).toBe(0);
      expect((await host.exec(P2, ['ping', '-c1', '-W1', '172.18.0.2'])).code).toBe(0);
    });
  });

  it('issued every command inside a knet namespace of this run', () => {
    expect(recorder.commands.length).toBeGreaterThan(100);
    expect(commandsOutsideNamespaces(recorder.commands, PREFIX)).toEqual([]);
  });

  it('leaves no namespace behind', async () => {
    await cleanupNamespaces(PREFIX);
    const listed = (await spawnCommand('ip', ['netns', 'list'])).stdout;
    expect(listed.split('\n').filter((l) => l.startsWith(PREFIX))).toEqual([]);
    expect(namespacesWithPrefix(PREFIX)).toEqual([]);
  });
});
}
