/**
 * SimHost against the real kernel.
 *
 * Part 1 replays test/fixtures/iproute2/capture.sh (a Kubernetes-node-shaped state captured from
 * real namespaces) through the Host API into a SimHost and compares what the iproute2
 * formatters print for SimHost's state with what iproute2 printed for the kernel's.
 *
 * Part 2 replays the transcripts in test/fixtures/kernel/ (captured by
 * test/fixtures/kernel/capture.sh on this machine's kernel): every `$ ip ...` / `$ bridge ...`
 * command goes through the Host API, every failure must fail in SimHost with the kernel's errno,
 * and every `show` must print the same thing.
 *
 * Normalisations, and why they are legitimate:
 * - Neighbour dumps are in the order of the neighbour hash table, whose hash is seeded at random
 *   per boot (neigh_hash_alloc, hash_rnd): both sides are compared as sorted lines.
 * - MAC addresses the kernel picked at random (eth_hw_addr_random: bridges and tap devices
 *   created without `address`) cannot be reproduced; in part 2 any unicast MAC that no command
 *   of the transcript names is masked on both sides, so a MAC the kernel derived from a named one
 *   (a bridge taking its port's MAC) is still compared.
 * - A device keeps the qdisc it was given on its first up (dev_activate attaches it, dev_deactivate
 *   does not remove it), so a device that was up and is down again prints `qdisc noqueue` or
 *   `qdisc pfifo_fast`; LinkInfo has no qdisc field and the formatter prints `noop` for every
 *   down device. In part 2 the real side's qdisc of a down device is rewritten to `noop`.
 * - netns ids (`link-netnsid`): SimHost does not model peernet2id; the formatter allocates them in
 *   ifindex order, which is what the kernel did in both captures (node.netns-ids.txt), so the
 *   JSON is compared as is.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isKnetError } from '../src/errors/knet-error.js';
import { formatBridgeFdb } from '../src/format/format-bridge-fdb.js';
import { formatIpAddr } from '../src/format/format-ip-addr.js';
import { formatIpLink } from '../src/format/format-ip-link.js';
import { formatIpNeigh } from '../src/format/format-ip-neigh.js';
import { formatIpRoute } from '../src/format/format-ip-route.js';
import type { LinkAddOptions, LinkSetOptions, RouteOptions } from '../src/host/host.js';
import type { NeighState, RouteProto, RouteType, Scope } from '../src/host/types.js';
import { createSimHost, type SimHost } from '../src/kernel/sim-host.js';
import { linksFromFixture, readFixture } from './fixtures/iproute2/iproute2-records.js';

// ---------------------------------------------------------------------------------------------
// Part 1: test/fixtures/iproute2/capture.sh
// ---------------------------------------------------------------------------------------------

const NODE = 'knet-fmt-node';
const PEER = 'knet-fmt-peer';
const POD = 'knet-fmt-pod';
const POD2 = 'knet-fmt-pod2';

/**
 * capture.sh, command by command, in its order, with its names and MACs.
 *
 * Not replayed, and why:
 * - `ip netns exec knet-fmt-pod ping -c1 -W1 -q 10.244.1.1`: traffic, not a Host API operation
 *   (it is the packet engine's job). What it left behind is removed from the fixtures before
 *   comparing: see {@link PING_EFFECTS}.
 *
 * Replayed through SimHost's extensions of the Host API (the Host API has no field for them):
 * - `ip addr add 172.18.0.2/16 dev eth0` and the other addresses added without `brd +`: the
 *   Host API's addrAdd sets the broadcast as `brd +` (as the netlink library CNI plugins use
 *   does), so `{ broadcast: null }` says "none";
 * - `label cbr0:1`: `{ label }`;
 * - `nud permanent router` / `nud reachable router`: `{ router: true }`;
 * - `bridge fdb add 0a:58:0a:f4:01:64 dev vethwe-bridge master`: `{ state: 'permanent' }` (the
 *   Host API's fdbAdd is `bridge fdb replace ... master static`; iproute2's default state for
 *   `add` is permanent);
 * - tun1, which a python process creates with TUNSETIFF and keeps open: `tunOpen`.
 */
async function replayCaptureSh(): Promise<SimHost> {
  const h = createSimHost({ seed: 1 });
  for (const ns of [NODE, PEER, POD, POD2]) {
    await h.netnsAdd(ns, { role: ns === NODE || ns === PEER ? 'node' : 'pod' });
    await h.sysctlSet(ns, 'net.ipv6.conf.all.disable_ipv6', '1');
    await h.sysctlSet(ns, 'net.ipv6.conf.default.disable_ipv6', '1');
    await h.linkSet(ns, 'lo', { up: true });
  }
  const none = { broadcast: null };
  await h.linkAdd(NODE, { kind: 'veth', name: 'eth0', mac: '02:42:ac:12:00:02', peer: { name: 'eth0', netns: PEER, mac: '02:42:ac:12:00:03' } });
  await h.addrAdd(NODE, 'eth0', '172.18.0.2/16', none);
  await h.linkSet(NODE, 'eth0', { up: true });
  await h.addrAdd(PEER, 'eth0', '172.18.0.3/16', none);
  await h.linkSet(PEER, 'eth0', { up: true });

  await h.linkAdd(NODE, { kind: 'bridge', name: 'cbr0', mac: '0a:58:0a:f4:01:01' });
  await h.linkSet(NODE, 'cbr0', { promisc: true });
  await h.addrAdd(NODE, 'cbr0', '10.244.1.1/24');
  await h.addrAdd(NODE, 'cbr0', '10.244.1.254/24', { broadcast: null, label: 'cbr0:1' });
  await h.linkSet(NODE, 'cbr0', { up: true });
  await h.linkAdd(NODE, { kind: 'veth', name: 'veth3c1f9a2e', mac: '9e:3a:51:7c:20:01', peer: { name: 'eth0', netns: POD, mac: '0a:58:0a:f4:01:02' } });
  await h.linkSet(NODE, 'veth3c1f9a2e', { master: 'cbr0' });
  await h.linkSet(NODE, 'veth3c1f9a2e', { up: true });
  await h.linkSet(NODE, 'veth3c1f9a2e', { hairpin: true });
  await h.addrAdd(POD, 'eth0', '10.244.1.2/24');
  await h.linkSet(POD, 'eth0', { up: true });
  await h.routeAdd(POD, { dst: 'default', via: '10.244.1.1', dev: 'eth0' });
  await h.linkAdd(NODE, { kind: 'veth', name: 'veth9d8e7f60', mac: '9e:3a:51:7c:20:02', peer: { name: 'eth0', netns: POD2, mac: '0a:58:0a:f4:01:03' } });
  await h.linkSet(NODE, 'veth9d8e7f60', { master: 'cbr0' });
  await h.linkSet(NODE, 'veth9d8e7f60', { up: true });
  await h.addrAdd(POD2, 'eth0', '10.244.1.3/24', none);

  await h.linkAdd(NODE, { kind: 'bridge', name: 'weave', mac: '6a:2f:0d:11:00:01' });
  await h.linkSet(NODE, 'weave', { mtu: 1376 });
  await h.linkAdd(NODE, { kind: 'veth', name: 'vethwe-bridge', mac: '6a:2f:0d:11:00:02', mtu: 1376, peer: { name: 'vethwe-datapath', mac: '6a:2f:0d:11:00:03' } });
  await h.linkSet(NODE, 'vethwe-bridge', { master: 'weave' });
  await h.linkSet(NODE, 'vethwe-bridge', { up: true });
  await h.linkSet(NODE, 'weave', { up: true });
  await h.addrAdd(NODE, 'weave', '10.32.0.1/12', none);

  await h.linkAdd(NODE, { kind: 'vxlan', name: 'flannel.1', mac: '2e:65:1c:0b:00:01', id: 1, local: '172.18.0.2', dev: 'eth0', port: 8472, learning: false });
  await h.linkSet(NODE, 'flannel.1', { mtu: 1450 });
  await h.linkSet(NODE, 'flannel.1', { up: true });
  await h.addrAdd(NODE, 'flannel.1', '10.244.1.0/32');
  await h.fdbAdd(NODE, { mac: '2e:65:1c:0b:00:02', dev: 'flannel.1', dst: '172.18.0.3', self: true });
  await h.fdbAdd(NODE, { mac: '00:00:00:00:00:00', dev: 'flannel.1', dst: '172.18.0.4', self: true });
  await h.neighReplace(NODE, { dst: '10.244.2.0', lladdr: '2e:65:1c:0b:00:02', dev: 'flannel.1', state: 'PERMANENT' });

  await h.linkAdd(NODE, { kind: 'tun', name: 'tun0', mode: 'tun' });
  await h.linkSet(NODE, 'tun0', { up: true });
  await h.linkAdd(NODE, { kind: 'tun', name: 'tap0', mode: 'tap' });
  await h.linkSet(NODE, 'tap0', { mac: '52:54:00:12:34:56' });
  await h.addrAdd(NODE, 'tap0', '10.96.0.1/32');
  h.tunOpen(NODE, 'tun1', 'tun');
  await h.linkSet(NODE, 'tun1', { mtu: 1480 });
  await h.linkSet(NODE, 'tun1', { up: true });
  await h.addrAdd(NODE, 'tun1', '192.0.2.1/30', none);

  await h.routeAdd(NODE, { dst: 'default', via: '172.18.0.1', dev: 'eth0' });
  await h.routeAdd(NODE, { dst: '10.244.2.0/24', via: '10.244.2.0', dev: 'flannel.1', onlink: true });
  await h.routeAdd(NODE, { dst: '10.244.3.0/24', via: '172.18.0.4', dev: 'eth0' });
  await h.routeAdd(NODE, { dst: '10.244.3.0/25', via: '172.18.0.4', dev: 'eth0' });
  await h.routeAdd(NODE, { dst: '10.244.4.0/24', via: '172.18.0.5', dev: 'eth0', onlink: true });
  await h.routeAdd(NODE, { dst: '10.244.4.0/24', via: '172.18.0.6', dev: 'eth0', metric: 100 });
  await h.routeAdd(NODE, { type: 'blackhole', dst: '10.244.5.0/26', proto: 'bird' });
  await h.routeAdd(NODE, { type: 'unreachable', dst: '10.244.6.0/24' });
  await h.routeAdd(NODE, { type: 'prohibit', dst: '10.244.7.0/24', metric: 20 });
  await h.routeAdd(NODE, { dst: '10.244.8.0/26', via: '172.18.0.3', dev: 'eth0', proto: 80 });
  await h.routeAdd(NODE, { dst: '198.51.100.0/24', via: '172.18.0.1', dev: 'eth0', proto: 'static', metric: 50 });
  await h.routeAdd(NODE, { dst: '203.0.113.0/24', via: '172.18.0.1', dev: 'eth0', mtu: 1400 });
  await h.routeAdd(NODE, { dst: '203.0.113.128/25', dev: 'eth0', scope: 'link', src: '172.18.0.2', proto: 186 });
  await h.routeAdd(NODE, { dst: '10.96.0.10', dev: 'cbr0' });
  await h.routeAdd(NODE, { dst: '10.244.0.0/16', dev: 'cbr0', table: 100 });
  await h.routeAdd(NODE, { dst: 'default', via: '172.18.0.1', dev: 'eth0', table: 100, metric: 5 });

  await h.neighReplace(NODE, { dst: '172.18.0.1', lladdr: '02:42:ac:12:00:01', dev: 'eth0', state: 'PERMANENT', router: true });
  await h.neighReplace(NODE, { dst: '172.18.0.4', lladdr: '02:42:ac:12:00:04', dev: 'eth0', state: 'STALE' });
  await h.neighReplace(NODE, { dst: '172.18.0.6', lladdr: '02:42:ac:12:00:06', dev: 'eth0', state: 'REACHABLE', router: true });
  await h.neighReplace(NODE, { dst: '10.244.1.3', lladdr: '0a:58:0a:f4:01:03', dev: 'cbr0', state: 'DELAY' });
  await h.neighReplace(NODE, { dst: '10.244.1.4', lladdr: '0a:58:0a:f4:01:04', dev: 'cbr0', state: 'PROBE' });
  await h.neighReplace(NODE, { dst: '10.244.1.9', dev: 'cbr0', state: 'INCOMPLETE' });
  await h.neighReplace(NODE, { dst: '10.244.1.10', dev: 'cbr0', state: 'FAILED' });
  await h.neighReplace(NODE, { dst: '10.244.1.11', lladdr: '0a:58:0a:f4:01:0b', dev: 'cbr0', state: 'NOARP' });

  await h.fdbAdd(NODE, { mac: '0a:58:0a:f4:01:63', dev: 'veth9d8e7f60' });
  await h.fdbAdd(NODE, { mac: '0a:58:0a:f4:01:64', dev: 'vethwe-bridge', state: 'permanent' });
  return h;
}

/** What the ping in capture.sh taught the kernel: ARP entries on both ends and a learned FDB entry. */
const PING_EFFECTS = {
  node: {
    neigh: ['10.244.1.2 dev cbr0 lladdr 0a:58:0a:f4:01:02 DELAY '],
    fdb: ['0a:58:0a:f4:01:02 dev veth3c1f9a2e master cbr0 '],
  },
  pod: { neigh: ['10.244.1.1 dev eth0 lladdr 0a:58:0a:f4:01:01 REACHABLE '], fdb: [] as string[] },
} as const;

/** The same entries as `ip -j` / `bridge -j` objects print them. */
const PING_EFFECTS_JSON = {
  node: {
    neigh: [{ dst: '10.244.1.2', dev: 'cbr0', lladdr: '0a:58:0a:f4:01:02', state: ['DELAY'] }],
    fdb: [{ mac: '0a:58:0a:f4:01:02', ifname: 'veth3c1f9a2e', flags: [], master: 'cbr0', state: '' }],
  },
  pod: { neigh: [{ dst: '10.244.1.1', dev: 'eth0', lladdr: '0a:58:0a:f4:01:01', state: ['REACHABLE'] }], fdb: [] as object[] },
} as const;

function withoutLines(text: string, drop: readonly string[]): string[] {
  const lines = text.split('\n').filter((l) => l !== '');
  for (const d of drop) {
    const i = lines.indexOf(d);
    if (i < 0) throw new Error(`fixture line not found: ${JSON.stringify(d)}`);
    lines.splice(i, 1);
  }
  return lines;
}

function withoutJson(text: string, drop: readonly object[]): string[] {
  const items = (JSON.parse(text) as object[]).map((o) => JSON.stringify(o));
  for (const d of drop) {
    const i = items.indexOf(JSON.stringify(d));
    if (i < 0) throw new Error(`fixture entry not found: ${JSON.stringify(d)}`);
    items.splice(i, 1);
  }
  return items;
}

describe('SimHost', () => {
  describe('replaying test/fixtures/iproute2/capture.sh', () => {
    const host = replayCaptureSh();
    const state = async (tag: 'node' | 'pod') => {
      const h = await host;
      const ns = tag === 'node' ? NODE : POD;
      return {
        links: await h.linkList(ns),
        addrs: await h.addrList(ns),
        routes: await h.routeList(ns),
        neighs: await h.neighList(ns),
        fdb: await h.fdbList(ns),
      };
    };

    it.each(['node', 'pod'] as const)('holds the links the kernel reported in %s.link-details.json', async (tag) => {
      const { links } = await state(tag);
      expect(links).toEqual(linksFromFixture(`${tag}.link-details.json`, `${tag}.netns-ids.txt`));
    });

    it.each([
      ['node', 'link.txt'],
      ['node', 'link.json'],
      ['node', 'addr.txt'],
      ['node', 'addr.json'],
      ['node', 'route.txt'],
      ['node', 'route.json'],
      ['node', 'route-local.txt'],
      ['node', 'route-local.json'],
      ['node', 'route-all.txt'],
      ['node', 'route-all.json'],
      ['pod', 'link.txt'],
      ['pod', 'link.json'],
      ['pod', 'addr.txt'],
      ['pod', 'addr.json'],
      ['pod', 'route.txt'],
      ['pod', 'route.json'],
      ['pod', 'route-local.txt'],
      ['pod', 'route-local.json'],
      ['pod', 'route-all.txt'],
      ['pod', 'route-all.json'],
    ] as const)('prints %s.%s byte for byte', async (tag, file) => {
      const { links, addrs, routes } = await state(tag);
      const json = file.endsWith('.json');
      const [what] = file.split('.') as [string];
      let out: string;
      if (what === 'link') out = formatIpLink(links, { json });
      else if (what === 'addr') out = formatIpAddr(links, addrs, { json });
      else {
        const table = what === 'route-local' ? 'local' : what === 'route-all' ? 'all' : 'main';
        out = formatIpRoute(routes, { links, table, json });
      }
      expect(out).toBe(readFixture(`${tag}.${file}`));
    });

    it.each([
      ['node', 'neigh.txt', false],
      ['node', 'neigh-all.txt', true],
      ['pod', 'neigh.txt', false],
      ['pod', 'neigh-all.txt', true],
    ] as const)('prints %s.%s but for the order of the hash table and the ping', async (tag, file, all) => {
      const { neighs } = await state(tag);
      const sim = formatIpNeigh(neighs, { all }).split('\n').filter((l) => l !== '');
      expect(sim.sort()).toEqual(withoutLines(readFixture(`${tag}.${file}`), PING_EFFECTS[tag].neigh).sort());
    });

    it.each([
      ['node', 'neigh.json', false],
      ['node', 'neigh-all.json', true],
      ['pod', 'neigh.json', false],
      ['pod', 'neigh-all.json', true],
    ] as const)('prints %s.%s but for the order of the hash table and the ping', async (tag, file, all) => {
      const { neighs } = await state(tag);
      const sim = withoutJson(formatIpNeigh(neighs, { all, json: true }), []);
      expect(sim.sort()).toEqual(withoutJson(readFixture(`${tag}.${file}`), PING_EFFECTS_JSON[tag].neigh).sort());
    });

    it.each(['node', 'pod'] as const)('prints %s.fdb.txt and .json in dump order, but for the entry the ping taught', async (tag) => {
      const { fdb } = await state(tag);
      expect(formatBridgeFdb(fdb).split('\n').filter((l) => l !== '')).toEqual(withoutLines(readFixture(`${tag}.fdb.txt`), PING_EFFECTS[tag].fdb));
      expect(withoutJson(formatBridgeFdb(fdb, { json: true }), [])).toEqual(withoutJson(readFixture(`${tag}.fdb.json`), PING_EFFECTS_JSON[tag].fdb));
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Part 2: test/fixtures/kernel/*.txt transcripts
// ---------------------------------------------------------------------------------------------

const KERNEL_DIR = fileURLToPath(new URL('./fixtures/kernel/', import.meta.url));
const TRANSCRIPT_HEADER = /^# command: capture\.sh [a-z0-9-]+ ; iproute2 \d+\.\d+\.\d+ ; linux \S+$/;

/** One command of a transcript: what was run, what it printed, how it failed. */
interface Step {
  readonly command: string;
  readonly output: string;
  readonly failure?: { readonly exit: number; readonly errno: string };
}

function readTranscript(name: string): Step[] {
  const lines = readFileSync(`${KERNEL_DIR}${name}`, 'utf8').split('\n');
  if (!TRANSCRIPT_HEADER.test(lines[0] ?? '')) throw new Error(`${name}: bad header ${JSON.stringify(lines[0])}`);
  const steps: { command: string; output: string[]; failure?: { exit: number; errno: string } }[] = [];
  for (const line of lines.slice(1, lines.at(-1) === '' ? -1 : undefined)) {
    if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: [] });
    else {
      const step = steps.at(-1);
      if (step === undefined) throw new Error(`${name}: output before the first command`);
      const m = /^! exit (\d+) errno (E[A-Z]+|-)$/.exec(line);
      if (m !== null) step.failure = { exit: Number(m[1]), errno: m[2]! };
      else step.output.push(line);
    }
  }
  return steps.map((s) => ({
    command: s.command,
    output: s.output.map((l) => `${l}\n`).join(''),
    ...(s.failure !== undefined ? { failure: s.failure } : {}),
  }));
}

/**
 * The KnetError code the Host API throws for a kernel errno. The closed code set has no ESRCH,
 * ENETDOWN or EADDRNOTAVAIL: the Host API documents ESRCH and EADDRNOTAVAIL as ENOENT, and SimHost
 * reports ENETDOWN as ENETUNREACH; all three carry the kernel's errno in `details.errno`.
 */
const HOST_API_CODE: Readonly<Record<string, string>> = { ESRCH: 'ENOENT', EADDRNOTAVAIL: 'ENOENT', ENETDOWN: 'ENETUNREACH' };

/** Replays one transcript command through the Host API (and SimHost's extensions of it). */
class Replayer {
  readonly host = createSimHost({ seed: 7 });
  /** The namespace each tun-hold.py process opened its device in. */
  private readonly holds = new Map<string, string>();

  /** Runs a command; returns what SimHost prints for a `show`, undefined otherwise. */
  async run(command: string): Promise<string | undefined> {
    const t = command.split(' ');
    const h = this.host;
    let m: RegExpExecArray | null;
    if ((m = /^ip netns add (\S+)$/.exec(command)) !== null) return void (await h.netnsAdd(m[1]!, { role: 'node' }));
    if ((m = /^ip netns exec (\S+) sysctl -qw (.+)$/.exec(command)) !== null) {
      for (const kv of m[2]!.split(' ')) {
        const [k, v] = kv.split('=') as [string, string];
        await h.sysctlSet(m[1]!, k, v);
      }
      return undefined;
    }
    if ((m = /^ip netns exec (\S+) python3 tun-hold\.py (\S+) (tun|tap) &$/.exec(command)) !== null) {
      this.holds.set(m[2]!, m[1]!);
      return void h.tunOpen(m[1]!, m[2]!, m[3] as 'tun' | 'tap');
    }
    if ((m = /^kill <pid of tun-hold\.py (\S+)>$/.exec(command)) !== null) {
      const ns = this.holds.get(m[1]!);
      if (ns === undefined) throw new Error(`no tun-hold.py for ${m[1]}`);
      return void h.tunClose(ns, m[1]!);
    }
    if ((t[0] === 'ip' || t[0] === 'bridge') && t[1] === '-n' && t[2] !== undefined) {
      const ns = t[2];
      let rest = t.slice(3);
      const json = rest[0] === '-j';
      if (json) rest = rest.slice(1);
      return t[0] === 'ip' ? this.ip(ns, rest, json) : this.bridge(ns, rest, json);
    }
    throw new Error(`the replayer does not know: ${command}`);
  }

  private async ip(ns: string, t: string[], json: boolean): Promise<string | undefined> {
    const h = this.host;
    const [obj, verb, ...a] = t as [string, string, ...string[]];
    const opts = new Args(a);
    if (obj === 'link' && verb === 'show') {
      const links = await h.linkList(ns);
      const out = formatIpLink(links, { json });
      const dev = opts.value('dev');
      return dev === undefined ? out : blockOf(out, dev);
    }
    if (obj === 'addr' && verb === 'show') {
      const out = formatIpAddr(await h.linkList(ns), await h.addrList(ns), { json });
      const dev = opts.value('dev');
      return dev === undefined ? out : blockOf(out, dev);
    }
    if (obj === 'route' && verb === 'show') {
      const table = opts.value('table') ?? 'main';
      return formatIpRoute(await h.routeList(ns), {
        links: await h.linkList(ns),
        table: table === 'all' || table === 'main' || table === 'local' || table === 'default' ? table : Number(table),
        json,
      });
    }
    if (obj === 'neigh' && verb === 'show') return formatIpNeigh(await h.neighList(ns), { all: opts.has('nud', 'all'), json });
    if (obj === 'link' && verb === 'add') return void (await h.linkAdd(ns, linkAddOptions(a)));
    if (obj === 'link' && verb === 'set') {
      const name = a[0] === 'dev' ? a[1]! : a[0]!;
      return void (await h.linkSet(ns, name, linkSetOptions(a.slice(a[0] === 'dev' ? 2 : 1))));
    }
    if (obj === 'link' && verb === 'del') return void (await h.linkDel(ns, a[0]!));
    if (obj === 'tuntap' && verb === 'add') {
      return void (await h.linkAdd(ns, { kind: 'tun', name: opts.value('name')!, mode: opts.value('mode') as 'tun' | 'tap' }));
    }
    if (obj === 'addr' && verb === 'add') {
      const [cidr] = a as [string];
      const dev = opts.value('dev')!;
      const label = opts.value('label');
      if (opts.value('brd') === '+' && label === undefined) return void (await h.addrAdd(ns, dev, cidr));
      return void (await h.addrAdd(ns, dev, cidr, { broadcast: opts.value('brd') === '+' ? '+' : null, ...(label !== undefined ? { label } : {}) }));
    }
    if (obj === 'addr' && verb === 'del') return void (await h.addrDel(ns, opts.value('dev')!, a[0]!));
    if (obj === 'route' && (verb === 'add' || verb === 'del' || verb === 'replace')) {
      const r = routeOptions(a);
      if (verb === 'add') await h.routeAdd(ns, r);
      else if (verb === 'replace') await h.routeReplace(ns, r);
      else await h.routeDel(ns, r);
      return undefined;
    }
    if (obj === 'neigh' && verb === 'replace') {
      const lladdr = opts.value('lladdr');
      return void (await h.neighReplace(ns, {
        dst: a[0]!,
        dev: opts.value('dev')!,
        ...(lladdr !== undefined ? { lladdr } : {}),
        state: opts.value('nud')!.toUpperCase() as NeighState,
        ...(a.includes('router') ? { router: true } : {}),
      }));
    }
    if (obj === 'neigh' && verb === 'del') return void (await h.neighDel(ns, a[0]!, opts.value('dev')!));
    throw new Error(`the replayer does not know: ip ${t.join(' ')}`);
  }

  private async bridge(ns: string, t: string[], json: boolean): Promise<string | undefined> {
    const h = this.host;
    const [obj, verb, ...a] = t as [string, string, ...string[]];
    const opts = new Args(a);
    if (obj === 'fdb' && verb === 'show') return formatBridgeFdb(await h.fdbList(ns), { json });
    if (obj === 'fdb' && (verb === 'add' || verb === 'append' || verb === 'del')) {
      const dst = opts.value('dst');
      const entry = { mac: a[0]!, dev: opts.value('dev')!, ...(dst !== undefined ? { dst } : {}), self: a.includes('self') };
      if (verb === 'del') return void (await h.fdbDel(ns, entry));
      if (entry.self) return void (await h.fdbAdd(ns, entry));
      return void (await h.fdbAdd(ns, { ...entry, state: a.includes('static') ? 'static' : 'permanent', exclusive: verb === 'add' }));
    }
    if (obj === 'link' && verb === 'set') return void (await h.linkSet(ns, opts.value('dev')!, { hairpin: opts.value('hairpin') === 'on' }));
    throw new Error(`the replayer does not know: bridge ${t.join(' ')}`);
  }
}

/** `key value` pairs of an iproute2 command line. */
class Args {
  constructor(private readonly t: readonly string[]) {}
  value(key: string): string | undefined {
    const i = this.t.indexOf(key);
    return i < 0 ? undefined : this.t[i + 1];
  }
  has(key: string, value: string): boolean {
    return this.value(key) === value;
  }
}

/** `ip link add NAME [address MAC] [mtu N] type KIND ...` → LinkAddOptions. */
function linkAddOptions(a: readonly string[]): LinkAddOptions {
  const typeAt = a.indexOf('type');
  const head = new Args(a.slice(0, typeAt));
  const kind = a[typeAt + 1]!;
  const tail = a.slice(typeAt + 2);
  const t = new Args(tail);
  const name = a[0]!;
  const mac = head.value('address');
  const mtu = head.value('mtu');
  const common = { name, ...(mac !== undefined ? { mac } : {}), ...(mtu !== undefined ? { mtu: Number(mtu) } : {}) };
  if (kind === 'bridge') return { kind, ...common };
  if (kind === 'veth') {
    const p = new Args(tail.slice(tail.indexOf('peer') + 1));
    const peerMac = p.value('address');
    const peerNs = p.value('netns');
    if (p.value('mtu') !== mtu) throw new Error('the Host API gives both veth ends the same mtu');
    return { kind, ...common, peer: { name: p.value('name')!, ...(peerMac !== undefined ? { mac: peerMac } : {}), ...(peerNs !== undefined ? { netns: peerNs } : {}) } };
  }
  if (kind === 'vxlan') {
    const local = t.value('local');
    const dev = t.value('dev');
    return {
      kind,
      ...common,
      id: Number(t.value('id')),
      ...(local !== undefined ? { local } : {}),
      ...(dev !== undefined ? { dev } : {}),
      port: Number(t.value('dstport')),
      learning: !tail.includes('nolearning'),
    };
  }
  throw new Error(`link kind ${kind}`);
}

/** `ip link set NAME ...` → LinkSetOptions. */
function linkSetOptions(a: readonly string[]): LinkSetOptions {
  const o: { -readonly [K in keyof LinkSetOptions]: LinkSetOptions[K] } = {};
  for (let i = 0; i < a.length; i++) {
    const w = a[i]!;
    const next = a[i + 1];
    if (w === 'up' || w === 'down') o.up = w === 'up';
    else if (w === 'nomaster') o.master = null;
    else if (w === 'master') (o.master = next!), i++;
    else if (w === 'mtu') (o.mtu = Number(next)), i++;
    else if (w === 'address') (o.mac = next!), i++;
    else if (w === 'netns') (o.netns = next!), i++;
    else if (w === 'name') (o.name = next!), i++;
    else if (w === 'promisc') (o.promisc = next === 'on'), i++;
    else throw new Error(`ip link set ... ${w}`);
  }
  return o;
}

const ROUTE_TYPES: ReadonlySet<string> = new Set(['unicast', 'local', 'broadcast', 'blackhole', 'unreachable', 'prohibit']);

/** `ip route add|del|replace [TYPE] PREFIX [via G] [dev D] ...` → RouteOptions. */
function routeOptions(a: readonly string[]): RouteOptions {
  let i = 0;
  const type = ROUTE_TYPES.has(a[0]!) ? (a[i++] as RouteType) : undefined;
  const o: { -readonly [K in keyof RouteOptions]: RouteOptions[K] } = { dst: a[i++]! };
  if (type !== undefined) o.type = type;
  for (; i < a.length; i++) {
    const w = a[i]!;
    const next = a[i + 1]!;
    if (w === 'onlink') o.onlink = true;
    else if (w === 'via') (o.via = next), i++;
    else if (w === 'dev') (o.dev = next), i++;
    else if (w === 'src') (o.src = next), i++;
    else if (w === 'metric') (o.metric = Number(next)), i++;
    else if (w === 'mtu') (o.mtu = Number(next)), i++;
    else if (w === 'scope') (o.scope = next as Scope), i++;
    else if (w === 'proto') (o.proto = /^\d+$/.test(next) ? Number(next) : (next as RouteProto)), i++;
    else if (w === 'table') (o.table = next === 'main' || next === 'local' || next === 'default' ? next : Number(next)), i++;
    else throw new Error(`ip route ... ${w}`);
  }
  return o;
}

/** The lines of one device (`N: name...` up to the next device) in `ip link`/`ip addr` text. */
function blockOf(text: string, dev: string): string {
  const lines = text.split('\n').filter((l) => l !== '');
  const out: string[] = [];
  let inside = false;
  for (const l of lines) {
    const head = /^\d+: ([^:@]+)[@:]/.exec(l);
    if (head !== null) inside = head[1] === dev;
    if (inside) out.push(`${l}\n`);
  }
  return out.join('');
}

const MAC_RE = /\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/g;

/** Masks every unicast MAC the transcript never names: the kernel picked it at random. */
function maskRandomMacs(text: string, named: ReadonlySet<string>): string {
  return text.replace(MAC_RE, (mac) => {
    const first = parseInt(mac.slice(0, 2), 16);
    if (named.has(mac) || mac === '00:00:00:00:00:00' || mac === 'ff:ff:ff:ff:ff:ff' || (first & 1) === 1) return mac;
    return '<random>';
  });
}

/** The real side's qdisc of a down device that was up before: see the file comment. */
function downQdiscAsNoop(text: string): string {
  return text.replace(/^(\d+: [^<]+<([^>]*)> mtu \d+ qdisc )(\S+)/gm, (all, head: string, flags: string) =>
    flags.split(',').includes('UP') ? all : `${head}noop`,
  );
}

/** Neighbour dumps follow a hash seeded per boot: compare them as sorted lines. */
function sortedLines(text: string): string {
  return text.split('\n').filter((l) => l !== '').sort().map((l) => `${l}\n`).join('');
}

const TRANSCRIPTS = readdirSync(KERNEL_DIR).filter((f) => f.endsWith('.txt')).sort();

describe('SimHost', () => {
  describe('replaying the kernel transcripts in test/fixtures/kernel/', () => {
    it('has transcripts to replay', () => {
      expect(TRANSCRIPTS.length).toBeGreaterThan(10);
    });

    it.each(TRANSCRIPTS)('%s', async (file) => {
      const steps = readTranscript(file);
      const named = new Set(steps.flatMap((s) => s.command.match(MAC_RE) ?? []));
      const r = new Replayer();
      for (const [i, step] of steps.entries()) {
        const where = `${file} step ${i + 1}: ${step.command}`;
        let printed: string | undefined;
        let error: unknown;
        try {
          printed = await r.run(step.command);
        } catch (e) {
          error = e;
        }
        if (step.failure !== undefined) {
          expect(isKnetError(error), `${where} should fail with ${step.failure.errno}, ${String(error)}`).toBe(true);
          if (!isKnetError(error)) continue;
          const errno = step.failure.errno;
          expect(error.code, where).toBe(HOST_API_CODE[errno] ?? errno);
          expect(error.details['errno'] ?? error.code, where).toBe(errno);
          continue;
        }
        if (error !== undefined) throw new Error(`${where}: ${String(error)}`, { cause: error });
        if (printed === undefined) continue;
        let real = maskRandomMacs(downQdiscAsNoop(step.output), named);
        let sim = maskRandomMacs(printed, named);
        if (/ neigh show/.test(step.command)) {
          real = sortedLines(real);
          sim = sortedLines(sim);
        }
        expect(sim, where).toBe(real);
      }
    });
  });
});
