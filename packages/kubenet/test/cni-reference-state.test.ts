/**
 * The same kernel state as the reference plugins: Debian's `containernetworking-plugins`
 * (loopback, bridge, host-local) driven by knet's CNI runtime, and knet's `knet-kubenet`
 * plugin driven by the same runtime, for the same configuration, each in fresh `knet-cni-*`
 * namespaces (a node and two pods): the one-shot executable, and the launcher answered by
 * `knet-kubenet-agent` running in the node (its fallback removed, so that only the agent can answer). Interfaces, addresses and routes are read back with
 * `ip -j` inside and outside the pods and compared after naming veths by their pod and MACs by
 * their owner.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cniLauncherScript, parseCniNetConfList } from '@knet/core';
import type { AnyCniResult, CniResult } from '@knet/core';
import { CNI_AGENT_BASE_DIR, cniConformanceSkipReason, CniRuntime, createProcessCniExec } from '@knet/core/linux';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKnetKubenet, buildKnetKubenetAgent } from './knet-kubenet-executable.js';

const REFERENCE_DIR = ['/usr/lib/cni', '/opt/cni/bin'].find((d) => ['bridge', 'host-local', 'loopback'].every((p) => existsSync(join(d, p))));
const skip =
  cniConformanceSkipReason(['veth', 'bridge']) ??
  (REFERENCE_DIR === undefined ? 'the reference plugins bridge, host-local and loopback are not installed (apt-get install -y containernetworking-plugins)' : undefined);
if (skip !== undefined) console.log(`knet-kubenet vs the reference plugins: skipped: ${skip}`);

let executable = '/nonexistent/knet-kubenet';
let agentJs = '/nonexistent/knet-kubenet-agent.js';
/** A CNI_PATH directory whose knet-kubenet is the launcher without a fallback. */
let launcherDir = '/nonexistent';
beforeAll(async () => {
  if (skip !== undefined) return;
  executable = await buildKnetKubenet();
  agentJs = await buildKnetKubenetAgent(dirname(executable));
  launcherDir = join(dirname(executable), 'launcher');
  mkdirSync(launcherDir);
  writeFileSync(join(launcherDir, 'knet-kubenet'), cniLauncherScript({ name: 'knet-kubenet', entry: join(launcherDir, 'absent.js') }));
  chmodSync(join(launcherDir, 'knet-kubenet'), 0o755);
}, 60_000);
afterAll(() => {
  if (skip === undefined) rmSync(dirname(executable), { recursive: true, force: true });
});

/** Runs knet-kubenet-agent in `node` until stopped. */
async function startAgent(node: string): Promise<() => Promise<void>> {
  const child = spawn('ip', ['netns', 'exec', node, process.execPath, agentJs], { stdio: ['ignore', 'ignore', 'inherit'] });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const link = join(CNI_AGENT_BASE_DIR, `knet-kubenet.${child.pid}`, 'netns');
  for (let i = 0; i < 200 && !existsSync(link) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 25));
  if (!existsSync(link)) throw new Error(`knet-kubenet-agent did not start in ${node}`);
  return async () => {
    child.kill('SIGTERM');
    await closed;
  };
}

function ip(args: readonly string[]): unknown {
  const r = spawnSync('ip', [...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim() === '' ? [] : (JSON.parse(r.stdout) as unknown);
}

function batch(lines: readonly string[]): void {
  const r = spawnSync('ip', ['-force', '-batch', '-'], { input: `${lines.join('\n')}\n`, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip -batch: ${r.stderr}`);
}

function deleteAll(prefix: string): void {
  const names = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(prefix)) : [];
  if (names.length > 0) batch(names.map((n) => `netns del ${n}`));
}

interface Link {
  ifindex: number;
  ifname: string;
  link_index?: number;
  flags: string[];
  mtu: number;
  master?: string;
  operstate: string;
  txqlen?: number;
  link_type: string;
  address: string;
  promiscuity?: number;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string; info_slave_data?: Record<string, unknown> };
}

interface Addr {
  ifname: string;
  addr_info: { family: string; local: string; prefixlen: number; broadcast?: string; scope: string; label?: string }[];
}

interface Route {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  table?: string;
  flags?: string[];
  pref?: string;
}

/** The modified EUI-64 link-local address of a MAC (addrgenmode eui64). */
function linkLocal(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  b[0] = (b[0] as number) ^ 0x02;
  const words = [(b[0] << 8) | (b[1] as number), ((b[2] as number) << 8) | 0xff, (0xfe << 8) | (b[3] as number), ((b[4] as number) << 8) | (b[5] as number)];
  return `fe80::${words.map((w) => w.toString(16)).join(':')}`;
}

/**
 * The kernel state of a node and its pods, with volatile and random parts named: host veths
 * as `veth(<pod>)`, MACs as `mac(<first owner>)`, link-local IPv6 addresses as `ll(<owner>)`.
 */
function snapshot(node: string, pods: readonly string[]): unknown {
  const nss = [node, ...pods];
  const links = new Map(nss.map((ns) => [ns, ip(['-d', '-j', '-n', ns, 'link', 'show']) as Link[]]));
  // Host veths named after the pod whose eth0 is their peer.
  const rename = new Map<string, string>();
  pods.forEach((pod, i) => {
    for (const l of links.get(pod) ?? []) {
      const peer = (links.get(node) ?? []).find((h) => h.ifindex === l.link_index && h.linkinfo?.info_kind === 'veth');
      if (l.linkinfo?.info_kind === 'veth' && peer !== undefined) rename.set(peer.ifname, `veth(p${i}/${l.ifname})`);
    }
  });
  const podLabel = (ns: string): string => (ns === node ? 'node' : `p${pods.indexOf(ns)}`);
  const nameOf = (ns: string, n: string | undefined): string | undefined => (n === undefined ? undefined : ns === node ? (rename.get(n) ?? n) : n);
  const macs = new Map<string, string>();
  for (const ns of nss) {
    for (const l of [...(links.get(ns) ?? [])].sort((a, b) => (nameOf(ns, a.ifname) as string).localeCompare(nameOf(ns, b.ifname) as string))) {
      if (!macs.has(l.address)) macs.set(l.address, l.address === '00:00:00:00:00:00' ? 'zero' : `mac(${podLabel(ns)}/${nameOf(ns, l.ifname) as string})`);
    }
  }
  const lls = new Map([...macs].map(([mac, label]) => [linkLocal(mac), `ll(${label})`]));
  const ll = (a: string): string => lls.get(a) ?? a;
  const pick = (o: Record<string, unknown> | undefined, keys: readonly string[]): Record<string, unknown> =>
    Object.fromEntries(keys.filter((k) => o?.[k] !== undefined).map((k) => [k, o?.[k]]));

  const state: Record<string, unknown> = {};
  for (const ns of nss) {
    const nsLinks = links.get(ns) ?? [];
    state[podLabel(ns)] = {
      links: nsLinks
        .map((l) => ({
          name: nameOf(ns, l.ifname),
          kind: l.linkinfo?.info_kind ?? l.link_type,
          flags: [...l.flags].sort(),
          mtu: l.mtu,
          operstate: l.operstate,
          master: nameOf(ns, l.master),
          mac: macs.get(l.address),
          promiscuity: l.promiscuity,
          // veth ends: the peer in the other namespace, by name (ifindexes are not compared).
          peer: l.linkinfo?.info_kind === 'veth' ? (ns === node ? 'eth0' : nameOf(node, [...(links.get(node) ?? [])].find((h) => h.ifindex === l.link_index)?.ifname)) : undefined,
          ...(l.linkinfo?.info_kind === 'bridge' ? { txqlen: l.txqlen, bridge: pick(l.linkinfo.info_data, ['stp_state', 'ageing_time', 'vlan_filtering', 'forward_delay', 'mcast_snooping', 'nf_call_iptables']) } : {}),
          ...(l.linkinfo?.info_slave_kind === 'bridge' ? { port: pick(l.linkinfo.info_slave_data, ['state', 'hairpin', 'learning', 'flood', 'isolated', 'proxy_arp', 'mcast_flood', 'bcast_flood', 'neigh_suppress']) } : {}),
        }))
        .sort((a, b) => String(a.name).localeCompare(String(b.name))),
      addrs: (ip(['-j', '-n', ns, 'addr', 'show']) as Addr[])
        .flatMap((a) =>
          a.addr_info.map((x) => ({ dev: nameOf(ns, a.ifname), family: x.family, local: ll(x.local), prefixlen: x.prefixlen, broadcast: x.broadcast, scope: x.scope, label: x.label })),
        )
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      // `table all` lists IPv4 and IPv6 routes.
      routes: (ip(['-j', '-n', ns, 'route', 'show', 'table', 'all']) as Route[])
        .map((r) => ({ ...r, dst: ll(r.dst), dev: nameOf(ns, r.dev), prefsrc: r.prefsrc === undefined ? undefined : ll(r.prefsrc) }))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    };
  }
  return JSON.parse(JSON.stringify(state));
}

/**
 * Waits until no address in `nss` is tentative: IPv6 duplicate address detection takes a second
 * or so after a link comes up, and a link-local address gets its `local` route when it ends.
 */
async function settle(nss: readonly string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const tentative = nss.some((ns) =>
      (ip(['-j', '-n', ns, 'addr', 'show']) as { addr_info: { tentative?: boolean }[] }[]).some((a) => a.addr_info.some((x) => x.tentative === true)),
    );
    if (!tentative || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Side {
  readonly node: string;
  readonly pods: string[];
  readonly work: string;
  readonly runtime: CniRuntime;
}

function side(prefix: string, path: string): Side {
  deleteAll(prefix);
  const node = `${prefix}node`;
  const pods = [`${prefix}p0`, `${prefix}p1`];
  batch([`netns add ${node}`, ...pods.map((p) => `netns add ${p}`)]);
  const work = mkdtempSync(join(tmpdir(), 'knet-cni-state-'));
  const runtime = new CniRuntime({ path: [path], cacheDir: join(work, 'cache'), exec: createProcessCniExec({ prefix: ['ip', 'netns', 'exec', node] }) });
  return { node, pods, work, runtime };
}

/** The bridge plugin keys kubenet generates, for the given hairpin handling and MTU. */
function bridgeKeys(mode: { hairpinMode: boolean; promiscMode: boolean }, dataDir: string): Record<string, unknown> {
  return {
    bridge: 'cbr0',
    mtu: 1460,
    isGateway: true,
    ipMasq: false,
    ...mode,
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir },
  };
}

const rt = (s: Side, i: number) => ({
  containerId: `pod${i}`,
  netns: `/run/netns/${s.pods[i] as string}`,
  ifname: 'eth0',
  args: [['IgnoreUnknown', '1'], ['K8S_POD_NAMESPACE', 'default'], ['K8S_POD_NAME', `pod-${i}`]] as [string, string][],
});

/** Result without its random parts (MACs, the host veth name). */
function shape(r: AnyCniResult): unknown {
  const x = r as CniResult;
  return {
    ...x,
    interfaces: (x.interfaces ?? []).map((i, k) => ({
      ...i,
      name: k === 1 ? 'veth' : i.name,
      mac: i.mac === undefined ? undefined : 'mac',
      sandbox: i.sandbox?.replace(/knet-cni-(ref|knet|kag)-/, ''),
    })),
  };
}

describe.skipIf(skip !== undefined)('knet-kubenet leaves the kernel state of loopback + bridge + host-local', () => {
  it.each([
    ['promiscuous-bridge', 'executable', { hairpinMode: false, promiscMode: true }],
    ['hairpin-veth', 'executable', { hairpinMode: true, promiscMode: false }],
    ['none', 'executable', { hairpinMode: false, promiscMode: false }],
    ['promiscuous-bridge', 'agent', { hairpinMode: false, promiscMode: true }],
    ['hairpin-veth', 'agent', { hairpinMode: true, promiscMode: false }],
  ])('--hairpin-mode=%s, the %s: interfaces, addresses and routes in the node and both pods', async (_mode, how, mode) => {
    const ref = side('knet-cni-ref-', REFERENCE_DIR as string);
    const knet = how === 'agent' ? side('knet-cni-kag-', launcherDir) : side('knet-cni-knet-', dirname(executable));
    const stopAgent = how === 'agent' ? await startAgent(knet.node) : undefined;
    try {
      const refNet = parseCniNetConfList(JSON.stringify({ cniVersion: '1.0.0', name: 'kubenet', plugins: [{ type: 'bridge', ...bridgeKeys(mode, join(ref.work, 'data')) }] }));
      const refLo = parseCniNetConfList(JSON.stringify({ cniVersion: '1.0.0', name: 'kubenet-loopback', plugins: [{ type: 'loopback' }] }));
      const knetNet = parseCniNetConfList(JSON.stringify({ cniVersion: '1.0.0', name: 'kubenet', plugins: [{ type: 'knet-kubenet', ...bridgeKeys(mode, join(knet.work, 'data')) }] }));
      const results: unknown[][] = [[], []];
      for (const i of [0, 1]) {
        // kubenet: the loopback network, then the pod network.
        await ref.runtime.addNetworkList(refLo, { ...rt(ref, i), ifname: 'lo' });
        results[0]?.push(shape(await ref.runtime.addNetworkList(refNet, rt(ref, i))));
        results[1]?.push(shape(await knet.runtime.addNetworkList(knetNet, rt(knet, i))));
      }
      expect(results[1]).toEqual(results[0]);
      await settle([ref.node, ...ref.pods, knet.node, ...knet.pods]);
      const want = snapshot(ref.node, ref.pods);
      expect(snapshot(knet.node, knet.pods)).toEqual(want);

      await ref.runtime.checkNetworkList(refNet, rt(ref, 0));
      await knet.runtime.checkNetworkList(knetNet, rt(knet, 0));

      // DEL of pod 0 (and kubenet's loopback DEL), then the state again.
      await ref.runtime.delNetworkList(refNet, rt(ref, 0));
      await ref.runtime.delNetworkList(refLo, { ...rt(ref, 0), ifname: 'lo' });
      await knet.runtime.delNetworkList(knetNet, rt(knet, 0));
      await settle([ref.node, ...ref.pods, knet.node, ...knet.pods]);
      expect(snapshot(knet.node, knet.pods)).toEqual(snapshot(ref.node, ref.pods));
    } finally {
      await stopAgent?.();
      deleteAll('knet-cni-ref-');
      deleteAll('knet-cni-knet-');
      deleteAll('knet-cni-kag-');
      rmSync(ref.work, { recursive: true, force: true });
      rmSync(knet.work, { recursive: true, force: true });
    }
  }, 120_000);
});
