import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, writeSync, constants as fsConstants } from 'node:fs';
import { KnetError, isKnetError, type KnetErrorCode } from '../../errors/knet-error.js';
import type { FdbOptions, Host, LinkAddOptions, LinkSetOptions, NeighOptions, RouteOptions } from '../host.js';
import type { AddressInfo, FdbInfo, LinkInfo, NeighInfo, NetnsMeta, RouteInfo } from '../types.js';
import { commandError } from './command-error.js';
import { spawnCommand, type CommandResult, type CommandRunner } from './command-runner.js';
import {
  addrArgs,
  checkIfname,
  fdbArgs,
  linkAddArgs,
  linkSetArgs,
  neighDelArgs,
  neighReplaceArgs,
  routeArgs,
  type Iproute2Args,
} from './iproute2-commands.js';
import { KNET_NETNS_PREFIX, NETNS_RUN_DIR, assertKnetNetns } from './knet-netns.js';
import { netnsSysctlDefaults } from './netns-sysctl-defaults.js';
import { parseBridgeFdbJson } from './parse-bridge-fdb-json.js';
import { parseIpAddrJson } from './parse-ip-addr-json.js';
import { parseIpLinkJson, parseNetnsIdJson } from './parse-ip-link-json.js';
import { parseIpNeighJson } from './parse-ip-neigh-json.js';
import { parseIpRouteJson } from './parse-ip-route-json.js';
import { splitJsonValues } from './split-json-values.js';
import { sysctlPath } from './sysctl-path.js';

/** Options of {@link createLinuxHost}. */
export interface LinuxHostOptions {
  /** Runs the tools; default {@link spawnCommand}. Tests wrap it to record every command. */
  readonly runner?: CommandRunner;
  /**
   * Every namespace this host touches must start with it (default `knet-`; it must itself start
   * with `knet-`), e.g. `knet-mylab-` to confine a host to one lab.
   */
  readonly namespacePrefix?: string;
  /** Disable IPv6 in new namespaces (default true). See {@link netnsSysctlDefaults}. */
  readonly disableIpv6?: boolean;
  /**
   * Keep TX checksum offload on veth, bridge and vxlan devices (default false: LinuxHost runs
   * `ethtool -K DEV tx off` on them, so captures show finished checksums).
   */
  readonly txChecksumOffload?: boolean;
  /** Per-command timeout in milliseconds (default 30,000). */
  readonly timeoutMs?: number;
  /** How long {@link LinuxHost.netnsDel} waits for the kernel to destroy the namespace's veth peers (default 10,000 ms). */
  readonly netnsDelTimeoutMs?: number;
  /**
   * Read and write the sysctls of the namespace this process itself runs in through
   * `/proc/sys` instead of `ip netns exec NS sysctl` (default true): the same files, without two
   * program starts. A CNI plugin runs inside the node's namespace, so most of its sysctls are
   * there.
   */
  readonly directSysctl?: boolean;
}

/** Options of {@link LinuxHost.iptablesRestore}. */
export interface IptablesRestoreOptions {
  /** `--noflush`: keep the chains and rules the payload does not mention (kube-proxy's partial syncs). */
  readonly noflush?: boolean;
  /** `--counters`: restore the `[packets:bytes]` counters in the payload. */
  readonly counters?: boolean;
  /** `--wait`: wait for the xtables lock instead of failing. Default true. */
  readonly wait?: boolean;
}

/** Options of {@link LinuxHost.iptablesSave}. */
export interface IptablesSaveOptions {
  /** `-t TABLE`: only this table. */
  readonly table?: string;
  /** `--counters`. */
  readonly counters?: boolean;
}

/** Options of {@link LinuxHost.ipsetRestore}. */
export interface IpsetRestoreOptions {
  /** `-exist`: ignore `create` of existing sets and `add` of existing entries. */
  readonly exist?: boolean;
}

/** Options of {@link LinuxHost.exec}. */
export interface ExecOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
}

const BATCH_FAILED_RE = /^Command failed -:(\d+)$/;
const EXEC_FAILED_RE = /^exec of "([^"]+)" failed: No such file or directory$/m;

/** Kinds whose TX checksum offload is turned off (the ones that carry Ethernet frames knet captures). */
const CHECKSUM_KINDS: ReadonlySet<LinkAddOptions['kind']> = new Set(['veth', 'bridge', 'vxlan']);

/** True for a line in which iproute2 looks a device name up itself and exits when it is missing. */
function resolvesNames(line: Iproute2Args): boolean {
  return line[0] === 'link' && line[1] === 'set' && line.includes('master');
}

/** How long linkwatch may hold back a non-urgent event (net/core/link_watch.c: one second), and a margin. */
const LINKWATCH_DELAY_MS = 1_100;

/**
 * Whether a device's operational state agrees with its flags (RFC 2863 as Linux derives it):
 * `true`, `false`, or `'unknown'` for `UNKNOWN` on a device with a carrier, which a veth or
 * bridge shows both before linkwatch has run and for good when its carrier never changed after
 * it came up (a bridge brought up with its ports already forwarding).
 */
function operstateSettled(l: LinkInfo): boolean | 'unknown' {
  if (!l.up) return l.operstate === 'DOWN';
  if (!l.lowerUp) return l.operstate === 'DOWN' || l.operstate === 'LOWERLAYERDOWN';
  if (l.operstate === 'UP') return true;
  if (l.operstate !== 'UNKNOWN') return false;
  return CARRIER_KINDS.has(l.kind) ? 'unknown' : true;
}

/** Kinds whose drivers manage the carrier, so that linkwatch can turn them from `UNKNOWN` to `UP`. */
const CARRIER_KINDS: ReadonlySet<string> = new Set(['veth', 'bridge']);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The {@link Host} API on real Linux network namespaces: iproute2 (`ip`, `bridge`) in batch
 * mode to change them, `ip -j` to read them back, and `sysctl`, `iptables-restore`, `ipset` and
 * `nft` run inside them. Requires root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2.
 *
 * @remarks
 * Linux equivalent: exactly the commands it runs. Safety: every name is checked against the
 * namespace prefix (`knet-` by default; anything else is `EPERM`), and every command names its
 * namespace (`ip -n NS`, `bridge -n NS`, `ip netns exec NS`, `ip netns add|del|pids NS`): the
 * machine's root namespace is never changed. Namespaces are listed by reading `/run/netns`.
 * Sysctls of the namespace the process itself runs in (a CNI plugin run by
 * `ip netns exec knet-...-node`) are read and written through `/proc/sys` directly, which is
 * what `sysctl` would do there, with sysctl's messages (`directSysctl`).
 *
 * Errors are the kernel's: a failed command becomes a {@link KnetError} whose message is what
 * the tool printed (`RTNETLINK answers: File exists`, `Error: Nexthop has invalid gateway.`) and
 * whose code is the errno behind it (see {@link errnoFromMessage}); `details.command` is the
 * command, and for a batch `details.line`/`details.lineText` the failing line. Calls that need
 * several commands run them as one `ip -n NS -batch -` process that stops at the first
 * failure, so the commands before it have taken effect, as with separate calls.
 *
 * Where the kernel is asynchronous, calls wait: {@link LinuxHost.netnsDel} kills the processes
 * still inside (a namespace lives as long as one does) and returns once the kernel has
 * destroyed its veth peers in other namespaces, as SimHost does at once.
 *
 * New namespaces get {@link netnsSysctlDefaults} (IPv6 off, IPv4 boot defaults); veth, bridge
 * and vxlan devices get TX checksum offload off (`ethtool -K DEV tx off`) unless
 * `txChecksumOffload` is set.
 * @see ip(8), ip-netns(8), ip-link(8), ip-address(8), ip-route(8), ip-neighbour(8), bridge(8),
 * sysctl(8), ethtool(8), iptables-restore(8), ipset(8), nft(8)
 */
export class LinuxHost implements Host {
  readonly kind = 'linux' as const;
  readonly namespacePrefix: string;
  private readonly runner: CommandRunner;
  private readonly disableIpv6: boolean;
  private readonly txChecksumOffload: boolean;
  private readonly timeoutMs: number;
  private readonly netnsDelTimeoutMs: number;
  private readonly directSysctl: boolean;
  private readonly metas = new Map<string, NetnsMeta>();
  /** veth pairs this host created: `netns\0name` → where the peer went, for {@link LinuxHost.linkGet}. */
  private readonly vethPeers = new Map<string, { readonly netns: string; readonly name: string }>();

  constructor(options: LinuxHostOptions = {}) {
    this.runner = options.runner ?? spawnCommand;
    this.namespacePrefix = options.namespacePrefix ?? KNET_NETNS_PREFIX;
    if (!this.namespacePrefix.startsWith(KNET_NETNS_PREFIX)) {
      throw new KnetError('EPERM', `namespace prefix "${this.namespacePrefix}" does not start with "${KNET_NETNS_PREFIX}"`, {
        prefix: this.namespacePrefix,
      });
    }
    this.disableIpv6 = options.disableIpv6 ?? true;
    this.txChecksumOffload = options.txChecksumOffload ?? false;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.netnsDelTimeoutMs = options.netnsDelTimeoutMs ?? 10_000;
    this.directSysctl = options.directSysctl ?? true;
  }

  // ---- running tools ------------------------------------------------------------------------

  private check(netns: string): string {
    assertKnetNetns(netns, this.namespacePrefix);
    return netns;
  }

  /** Runs a command; throws the tool's error when it fails. */
  private async run(
    file: string,
    args: readonly string[],
    netns: string | undefined,
    input?: string,
    fallback?: KnetErrorCode,
  ): Promise<CommandResult> {
    const r = await this.runner(file, args, { timeoutMs: this.timeoutMs, ...(input !== undefined ? { input } : {}) });
    if (r.code !== 0) {
      throw commandError(r, {
        command: [file, ...args].join(' '),
        ...(netns !== undefined ? { netns } : {}),
        ...(fallback !== undefined ? { fallback } : {}),
      });
    }
    return r;
  }

  /**
   * Runs iproute2 commands in a namespace: one command directly, several as one
   * `ip -n NS [GLOBAL...] -batch -` that stops at the first failing line (reported with its
   * line number and text). A line in which iproute2 resolves a device name itself
   * (`link set ... master BR`) runs on its own: for a missing name iproute2 exits at once,
   * without saying which batch line it was on. Returns standard output.
   */
  private async ip(netns: string, lines: readonly Iproute2Args[], global: readonly string[] = [], tool: 'ip' | 'bridge' = 'ip'): Promise<string> {
    this.check(netns);
    let out = '';
    let segment: Iproute2Args[] = [];
    for (const line of lines) {
      if (resolvesNames(line)) {
        out += await this.ipBatch(netns, segment, global, tool);
        out += await this.ipBatch(netns, [line], global, tool);
        segment = [];
      } else segment.push(line);
    }
    return out + (await this.ipBatch(netns, segment, global, tool));
  }

  private async ipBatch(netns: string, lines: readonly Iproute2Args[], global: readonly string[], tool: 'ip' | 'bridge'): Promise<string> {
    if (lines.length === 0) return '';
    if (lines.length === 1) return (await this.run(tool, ['-n', netns, ...global, ...lines[0]!], netns)).stdout;
    const args = ['-n', netns, ...global, '-batch', '-'];
    const input = `${lines.map((l) => l.join(' ')).join('\n')}\n`;
    const r = await this.runner(tool, args, { input, timeoutMs: this.timeoutMs });
    if (r.code === 0) return r.stdout;
    const command = `${[tool, ...args].join(' ')} <<< ${JSON.stringify(input)}`;
    const stderr = r.stderr.split('\n');
    const at = stderr.findIndex((l) => BATCH_FAILED_RE.test(l.trim()));
    if (at < 0) throw commandError(r, { command, netns });
    const line = Number(BATCH_FAILED_RE.exec(stderr[at]!.trim())![1]);
    throw commandError(r, { command, netns, line, lineText: lines[line - 1]?.join(' ') ?? '' }, stderr.slice(0, at));
  }

  /** `ip netns exec NS FILE ARGS...`, throwing the tool's error on failure (`fallback` for messages without an errno). */
  private async nsExec(netns: string, file: string, args: readonly string[], input?: string, fallback?: KnetErrorCode): Promise<string> {
    this.check(netns);
    try {
      return (await this.run('ip', ['netns', 'exec', netns, file, ...args], netns, input, fallback)).stdout;
    } catch (e) {
      if (isKnetError(e) && EXEC_FAILED_RE.test(e.message)) {
        throw new KnetError('EOPNOTSUPP', `${file}: command not found (${e.message})`, { ...e.details, tool: file });
      }
      throw e;
    }
  }

  /**
   * Runs a command inside a namespace (`ip netns exec NS CMD...`) and returns its exit status
   * and output without interpreting them: `ping` failing is a result, not an error.
   *
   * @throws KnetError `EPERM` for a namespace outside the prefix, `EINVAL` for an empty command.
   * @example
   * ```ts
   * import { createLinuxHost } from '@knet/core/linux';
   * const host = createLinuxHost();
   * const r = await host.exec('knet-example-pod-default-client', ['ping', '-c1', '-W1', '10.244.1.2']);
   * r.code === 0; // reachable
   * ```
   */
  async exec(netns: string, command: readonly string[], options: ExecOptions = {}): Promise<CommandResult> {
    this.check(netns);
    if (command.length === 0) throw new KnetError('EINVAL', 'exec: empty command', { netns });
    return this.runner('ip', ['netns', 'exec', netns, ...command], {
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      ...(options.input !== undefined ? { input: options.input } : {}),
    });
  }

  // ---- namespaces -----------------------------------------------------------------------------

  /**
   * `ip netns add NAME`, then {@link netnsSysctlDefaults} inside it (one `sysctl -w` call). If
   * that fails the namespace is deleted again.
   * @throws `EPERM` (name outside the prefix), `EEXIST`
   */
  async netnsAdd(name: string, meta: NetnsMeta): Promise<void> {
    this.check(name);
    await this.run('ip', ['netns', 'add', name], name);
    const defaults = netnsSysctlDefaults({ disableIpv6: this.disableIpv6 });
    try {
      // -e: a kernel built without IPv6 has no net.ipv6 keys, and then nothing to disable.
      await this.nsExec(name, 'sysctl', ['-q', '-e', '-w', ...defaults.map(([k, v]) => `${sysctlPath(k)}=${v}`)]);
    } catch (e) {
      await this.runner('ip', ['netns', 'del', name], { timeoutMs: this.timeoutMs }).catch(() => undefined);
      throw e;
    }
    this.metas.set(name, meta);
  }

  /** What {@link netnsAdd} was told a namespace stands for (this host's own record). */
  netnsMeta(name: string): NetnsMeta | undefined {
    return this.metas.get(name);
  }

  /**
   * `ip netns del NAME`, with what it takes for the Host API's meaning (the namespace and its
   * links are gone, veth peers elsewhere with them): processes still inside
   * (`ip netns pids NAME`) are killed first, and the call returns once the kernel has destroyed
   * the namespace's veth peers in other namespaces (the kernel tears a namespace down
   * asynchronously).
   * @throws `ENOENT`; `EBUSY` when the kernel has not finished within `netnsDelTimeoutMs`.
   */
  async netnsDel(name: string): Promise<void> {
    this.check(name);
    // The veth peers in other namespaces, to wait for below.
    const [links, ids] = splitJsonValues(await this.ip(name, [['link', 'show'], ['netns', 'list-id']], ['-j']));
    const nsNames = parseNetnsIdJson(ids);
    const peers = new Map<string, Set<number>>();
    for (const l of Array.isArray(links) ? (links as Record<string, unknown>[]) : []) {
      const nsid = l['link_netnsid'];
      const idx = l['link_index'];
      const other = typeof nsid === 'number' ? nsNames.get(nsid) : undefined;
      if (other === undefined || typeof idx !== 'number' || !other.startsWith(this.namespacePrefix)) continue;
      let s = peers.get(other);
      if (s === undefined) peers.set(other, (s = new Set()));
      s.add(idx);
    }
    await this.killProcessesIn(name);
    await this.run('ip', ['netns', 'del', name], name);
    this.metas.delete(name);
    const deadline = Date.now() + this.netnsDelTimeoutMs;
    for (const [other, idxs] of peers) {
      for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
        if (!existsSync(`${NETNS_RUN_DIR}/${other}`)) break;
        const r = await this.runner('ip', ['-n', other, '-j', 'link', 'show'], { timeoutMs: this.timeoutMs });
        if (r.code !== 0) break;
        const left = (JSON.parse(r.stdout) as { ifindex: number }[]).filter((l) => idxs.has(l.ifindex));
        if (left.length === 0) break;
        if (Date.now() > deadline) {
          throw new KnetError('EBUSY', `namespace ${name} deleted, but its veth peers in ${other} are still there after ${this.netnsDelTimeoutMs} ms`, {
            netns: name,
            peerNetns: other,
          });
        }
        await sleep(wait);
      }
    }
  }

  /** SIGKILLs the processes inside a namespace and waits until none is left. */
  private async killProcessesIn(name: string): Promise<void> {
    const deadline = Date.now() + this.netnsDelTimeoutMs;
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      const out = (await this.run('ip', ['netns', 'pids', name], name)).stdout;
      const pids = out.split('\n').map((s) => s.trim()).filter((s) => /^\d+$/.test(s)).map(Number);
      if (pids.length === 0) return;
      if (Date.now() > deadline) {
        throw new KnetError('EBUSY', `processes ${pids.join(', ')} are still inside namespace ${name}`, { netns: name, pids });
      }
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await sleep(wait);
    }
  }

  /** The namespaces under the prefix, sorted by name (read from `/run/netns`, as `ip netns list` does). */
  async netnsList(): Promise<string[]> {
    if (!existsSync(NETNS_RUN_DIR)) return [];
    return readdirSync(NETNS_RUN_DIR)
      .filter((n) => n.startsWith(this.namespacePrefix) && n.length > this.namespacePrefix.length)
      .sort();
  }

  /** True when the namespace exists. @throws `EPERM` for a name outside the prefix */
  async netnsExists(name: string): Promise<boolean> {
    this.check(name);
    return existsSync(`${NETNS_RUN_DIR}/${name}`);
  }

  // ---- links ----------------------------------------------------------------------------------

  /**
   * `ip link add` (see {@link linkAddArgs}); veth peers are created directly in their
   * namespace. Then TX checksum offload off on the new device(s), unless configured otherwise;
   * if that fails the device is deleted again.
   * @throws `EEXIST`, `ENOENT` (peer namespace), `EOPNOTSUPP` (kind not in this kernel, e.g.
   * `dummy`: `Error: Unknown device type.`), `EPERM` (namespace outside the prefix)
   */
  async linkAdd(netns: string, o: LinkAddOptions): Promise<void> {
    this.check(netns);
    if (o.kind === 'veth' && o.peer.netns !== undefined) this.check(o.peer.netns);
    await this.ip(netns, linkAddArgs(o));
    if (o.kind === 'veth' && o.peer.netns !== undefined && o.peer.netns !== netns) {
      this.vethPeers.set(`${netns}\0${o.name}`, { netns: o.peer.netns, name: o.peer.name });
      this.vethPeers.set(`${o.peer.netns}\0${o.peer.name}`, { netns, name: o.name });
    }
    if (this.txChecksumOffload || !CHECKSUM_KINDS.has(o.kind)) return;
    try {
      await Promise.all([
        this.nsExec(netns, 'ethtool', ['-K', o.name, 'tx', 'off']),
        ...(o.kind === 'veth' ? [this.nsExec(o.peer.netns ?? netns, 'ethtool', ['-K', o.peer.name, 'tx', 'off'])] : []),
      ]);
    } catch (e) {
      await this.ip(netns, [['link', 'del', 'dev', o.name]]).catch(() => undefined);
      if (isKnetError(e, 'EOPNOTSUPP')) {
        throw new KnetError('EOPNOTSUPP', `${e.message}: install ethtool, or create the host with txChecksumOffload: true`, e.details);
      }
      throw e;
    }
  }

  /**
   * `ip link set` (see {@link linkSetArgs}): a namespace move first (`link set dev D netns NS`),
   * then the remaining changes as one batch in the device's final namespace.
   * @throws `ENODEV`, `EEXIST`, `EOPNOTSUPP` (port flags on a device that is not a bridge port)
   */
  async linkSet(netns: string, name: string, o: LinkSetOptions): Promise<void> {
    this.check(netns);
    let ns = netns;
    if (o.netns !== undefined && o.netns !== netns) {
      this.check(o.netns);
      await this.ip(netns, [['link', 'set', 'dev', checkIfname(name), 'netns', o.netns]]);
      ns = o.netns;
    }
    const { netns: _moved, ...rest } = o;
    await this.ip(ns, linkSetArgs(name, rest));
  }

  /** `ip link del dev NAME`. @throws `ENODEV`, `EOPNOTSUPP` (`lo`) */
  async linkDel(netns: string, name: string): Promise<void> {
    await this.ip(netns, [['link', 'del', 'dev', checkIfname(name)]]);
  }

  /** `ip -d -j link show` and `ip -j netns list-id` in one batch. @see parseIpLinkJson */
  async linkList(netns: string): Promise<LinkInfo[]> {
    const [links, ids] = splitJsonValues(await this.ip(netns, [['link', 'show'], ['netns', 'list-id']], ['-d', '-j']));
    return parseIpLinkJson(links, parseNetnsIdJson(ids ?? []));
  }

  /**
   * `ip -d -j link show dev NAME`; `undefined` when the namespace has no such device
   * (`Device "NAME" does not exist.`).
   *
   * @remarks A veth whose peer lives in another namespace shows only that namespace's id
   * (`link_netnsid`). For a pair this host created, the namespace it put the peer in is taken
   * when that namespace still has the peer (its name at the ifindex the id points to);
   * otherwise `ip -j netns list-id` names it, which opens every namespace under `/run/netns`
   * and so is slow on a node with many pods.
   */
  async linkGet(netns: string, name: string): Promise<LinkInfo | undefined> {
    const records = await this.linkRecords(netns, name);
    if (records === undefined) return undefined;
    const rec = records[0] as Record<string, unknown> | undefined;
    const nsid = rec?.['link_netnsid'];
    if (rec === undefined || typeof nsid !== 'number') return parseIpLinkJson(records, new Map())[0];
    const created = this.vethPeers.get(`${netns}\0${name}`);
    if (created !== undefined) {
      const peer = (await this.linkRecords(created.netns, created.name).catch(() => undefined))?.[0] as Record<string, unknown> | undefined;
      if (peer !== undefined && peer['ifindex'] === rec['link_index'] && peer['link_index'] === rec['ifindex']) {
        return parseIpLinkJson(records, new Map([[nsid, created.netns]]))[0];
      }
    }
    return parseIpLinkJson(records, parseNetnsIdJson(JSON.parse(await this.ip(netns, [['netns', 'list-id']], ['-j']))))[0];
  }

  /** The `ip -d -j link show dev NAME` records, `undefined` when there is no such device. */
  private async linkRecords(netns: string, name: string): Promise<unknown[] | undefined> {
    let out;
    try {
      out = await this.ip(netns, [['link', 'show', 'dev', checkIfname(name)]], ['-d', '-j']);
    } catch (e) {
      if (isKnetError(e) && /^Device ".*" does not exist\.$/.test(e.message)) return undefined;
      throw e;
    }
    const records: unknown = JSON.parse(out);
    return Array.isArray(records) ? records : [];
  }

  /**
   * Waits until the operational state of every device in the namespace agrees with its flags.
   *
   * @remarks
   * The kernel sets a device's carrier (`LOWER_UP`) at once but derives `operstate` in
   * linkwatch, which batches non-urgent events and may run up to a second later
   * (net/core/link_watch.c): right after a bridge gets its first forwarding port, `ip link`
   * shows `LOWER_UP` with `state DOWN`. A device with a carrier in state `UNKNOWN` is settled
   * once linkwatch had its second to change that (lo and vxlan stay `UNKNOWN`, and so does a
   * bridge whose carrier never changed after it came up). SimHost's state is always settled;
   * call this before comparing the two.
   * @throws `EBUSY` when the states have not settled within `timeoutMs` (default 3,000).
   */
  async settle(netns: string, timeoutMs = 3_000): Promise<void> {
    const start = Date.now();
    const deadline = start + timeoutMs;
    for (;;) {
      const waited = Date.now() - start >= LINKWATCH_DELAY_MS;
      const unsettled = (await this.linkList(netns)).filter((l) => {
        const s = operstateSettled(l);
        return s === false || (s === 'unknown' && !waited);
      });
      if (unsettled.length === 0) return;
      if (Date.now() > deadline) {
        throw new KnetError('EBUSY', `operstate of ${unsettled.map((l) => `${l.name} (${l.operstate})`).join(', ')} did not settle in ${timeoutMs} ms`, {
          netns,
        });
      }
      await sleep(50);
    }
  }

  // ---- addresses ------------------------------------------------------------------------------

  /** `ip addr add CIDR brd + dev DEV`. @throws `EEXIST` (`Error: ipv4: Address already assigned.`), `ENODEV` */
  async addrAdd(netns: string, dev: string, cidr: string): Promise<void> {
    await this.ip(netns, [addrArgs('add', dev, cidr)]);
  }

  /** `ip addr del CIDR dev DEV`. @throws `ENOENT` (`Error: ipv4: Address not found.`), `ENODEV` */
  async addrDel(netns: string, dev: string, cidr: string): Promise<void> {
    await this.ip(netns, [addrArgs('del', dev, cidr)]);
  }

  /** `ip -4 -j addr show`. @see parseIpAddrJson */
  async addrList(netns: string): Promise<AddressInfo[]> {
    return parseIpAddrJson(JSON.parse(await this.ip(netns, [['addr', 'show']], ['-4', '-j'])));
  }

  // ---- routes ---------------------------------------------------------------------------------

  /** `ip route add ...` (see {@link routeArgs}). @throws `EEXIST`, `ENETUNREACH`, `ENODEV`, `EINVAL` */
  async routeAdd(netns: string, route: RouteOptions): Promise<void> {
    await this.ip(netns, [routeArgs('add', route)]);
  }

  /** `ip route replace ...`. */
  async routeReplace(netns: string, route: RouteOptions): Promise<void> {
    await this.ip(netns, [routeArgs('replace', route)]);
  }

  /** `ip route del ...`. @throws `ENOENT` (`RTNETLINK answers: No such process`) */
  async routeDel(netns: string, route: RouteOptions): Promise<void> {
    await this.ip(netns, [routeArgs('del', route)]);
  }

  /** `ip -4 -N -j route show table all` (numeric, so no local rt_tables/rt_protos names leak in). @see parseIpRouteJson */
  async routeList(netns: string): Promise<RouteInfo[]> {
    return parseIpRouteJson(JSON.parse(await this.ip(netns, [['route', 'show', 'table', 'all']], ['-4', '-N', '-j'])));
  }

  // ---- neighbours -----------------------------------------------------------------------------

  /** `ip neigh replace DST [lladdr MAC] dev DEV nud STATE`. @throws `EINVAL` (`No link layer address given` for PERMANENT/NOARP without one) */
  async neighReplace(netns: string, neigh: NeighOptions): Promise<void> {
    await this.ip(netns, [neighReplaceArgs(neigh)]);
  }

  /** `ip neigh del DST dev DEV`. @throws `ENOENT` */
  async neighDel(netns: string, dst: string, dev: string): Promise<void> {
    await this.ip(netns, [neighDelArgs(dst, dev)]);
  }

  /** `ip -4 -j neigh show nud all`. @see parseIpNeighJson */
  async neighList(netns: string): Promise<NeighInfo[]> {
    return parseIpNeighJson(JSON.parse(await this.ip(netns, [['neigh', 'show', 'nud', 'all']], ['-4', '-j'])));
  }

  // ---- fdb ------------------------------------------------------------------------------------

  /** `bridge fdb append ... self permanent` or `bridge fdb replace ... master static` (see {@link fdbArgs}). */
  async fdbAdd(netns: string, entry: FdbOptions): Promise<void> {
    await this.ip(netns, [fdbArgs('add', entry)], [], 'bridge');
  }

  /** `bridge fdb del MAC dev DEV [dst IP] self|master`. @throws `ENOENT` */
  async fdbDel(netns: string, entry: FdbOptions): Promise<void> {
    await this.ip(netns, [fdbArgs('del', entry)], [], 'bridge');
  }

  /** `bridge -s -j fdb show`. @see parseBridgeFdbJson */
  async fdbList(netns: string): Promise<FdbInfo[]> {
    return parseBridgeFdbJson(JSON.parse(await this.ip(netns, [['fdb', 'show']], ['-s', '-j'], 'bridge')));
  }

  // ---- sysctl ---------------------------------------------------------------------------------

  /**
   * `ip netns exec NS sysctl -q -w PATH=VALUE` (see {@link sysctlPath}); in the process's own
   * namespace, the same write to `/proc/sys/PATH` without starting a program.
   * @throws `ENOENT` (`sysctl: cannot stat /proc/sys/...`), `EINVAL`, `EPERM` (a key outside `net.`)
   */
  async sysctlSet(netns: string, key: string, value: string): Promise<void> {
    this.check(netns);
    if (/[\n\0]/.test(value)) throw new KnetError('EINVAL', `sysctl: setting key "${key}": Invalid argument`, { key, value });
    const path = sysctlPath(key);
    if (this.directSysctl && isOwnNetns(netns)) return writeProcSys(netns, path, value);
    await this.nsExec(netns, 'sysctl', ['-q', '-w', `${path}=${value}`]);
  }

  /** `ip netns exec NS sysctl -n PATH`. @throws `ENOENT`, `EPERM` (a key outside `net.`) */
  async sysctlGet(netns: string, key: string): Promise<string> {
    this.check(netns);
    const path = sysctlPath(key);
    const out = this.directSysctl && isOwnNetns(netns) ? readProcSys(netns, path) : await this.nsExec(netns, 'sysctl', ['-n', path]);
    return out.endsWith('\n') ? out.slice(0, -1) : out;
  }

  // ---- netfilter passthroughs -----------------------------------------------------------------

  /**
   * `ip netns exec NS iptables-restore [--noflush] [--counters] [--wait]` with the payload on
   * standard input (the `iptables-save` format, as kube-proxy writes it).
   * @throws `EINVAL` with iptables-restore's message (`... Error occurred at line: 5`)
   */
  async iptablesRestore(netns: string, payload: string, options: IptablesRestoreOptions = {}): Promise<void> {
    const args = [
      ...(options.noflush === true ? ['--noflush'] : []),
      ...(options.counters === true ? ['--counters'] : []),
      ...((options.wait ?? true) ? ['--wait'] : []),
    ];
    await this.nsExec(netns, 'iptables-restore', args, payload, 'EINVAL');
  }

  /** `ip netns exec NS iptables-save [-t TABLE] [--counters]`: the namespace's rules as text. */
  async iptablesSave(netns: string, options: IptablesSaveOptions = {}): Promise<string> {
    const args = [...(options.table !== undefined ? ['-t', options.table] : []), ...(options.counters === true ? ['--counters'] : [])];
    return this.nsExec(netns, 'iptables-save', args);
  }

  /** `ip netns exec NS ipset restore [-exist]` with the payload (the `ipset save` format). @throws `EEXIST`, `EINVAL` */
  async ipsetRestore(netns: string, payload: string, options: IpsetRestoreOptions = {}): Promise<void> {
    await this.nsExec(netns, 'ipset', ['restore', ...(options.exist === true ? ['-exist'] : [])], payload, 'EINVAL');
  }

  /** `ip netns exec NS ipset save`: the namespace's sets. */
  async ipsetSave(netns: string): Promise<string> {
    return this.nsExec(netns, 'ipset', ['save']);
  }

  /** `ip netns exec NS nft -f -` with the payload (an nft script, as kube-proxy's nftables mode writes it). @throws `EINVAL`, `ENOENT` */
  /** `conntrack -L` in the namespace: the entry lines (the summary conntrack prints on stderr is dropped). */
  async conntrackList(netns: string): Promise<string> {
    return this.nsExec(netns, 'conntrack', ['-L']);
  }

  async nftApply(netns: string, payload: string): Promise<void> {
    await this.nsExec(netns, 'nft', ['-f', '-'], payload, 'EINVAL');
  }

  /** `ip netns exec NS nft list ruleset`. */
  async nftListRuleset(netns: string): Promise<string> {
    return this.nsExec(netns, 'nft', ['list', 'ruleset']);
  }
}

/**
 * True when `name` (under `/run/netns`) is the network namespace this process runs in: the
 * same nsfs inode as `/proc/self/ns/net`. Checked on every call, as a name can be deleted and
 * given to another namespace.
 */
function isOwnNetns(name: string): boolean {
  try {
    const own = statSync('/proc/self/ns/net');
    const named = statSync(`${NETNS_RUN_DIR}/${name}`);
    return own.dev === named.dev && own.ino === named.ino;
  } catch {
    return false;
  }
}

/** sysctl(8)'s name for a slashed path: components joined with dots, dots inside them shown as slashes (`net.ipv4.conf.flannel/1.rp_filter`). */
function sysctlDisplayName(path: string): string {
  return path.split('/').map((c) => c.replace(/\./g, '/')).join('.');
}

/**
 * What `sysctl -q -w PATH=VALUE` does, in this process (its own namespace): stat the file, write
 * `VALUE` and a newline, with sysctl's messages on failure.
 */
function writeProcSys(netns: string, path: string, value: string): void {
  const file = `/proc/sys/${path}`;
  const command = `sysctl -q -w ${path}=${value} (in this process's namespace ${netns})`;
  try {
    statSync(file);
  } catch (e) {
    throw procSysError(e, `sysctl: cannot stat ${file}`, command, netns);
  }
  let fd: number | undefined;
  try {
    fd = openSync(file, fsConstants.O_WRONLY);
    writeSync(fd, `${value}\n`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new KnetError('EPERM', `sysctl: permission denied on key "${sysctlDisplayName(path)}"`, { command, netns });
    }
    throw procSysError(e, `sysctl: setting key "${sysctlDisplayName(path)}"`, command, netns);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** What `sysctl -n PATH` prints, read in this process (its own namespace). */
function readProcSys(netns: string, path: string): string {
  const file = `/proc/sys/${path}`;
  try {
    statSync(file);
  } catch (e) {
    throw procSysError(e, `sysctl: cannot stat ${file}`, `sysctl -n ${path}`, netns);
  }
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw procSysError(e, `sysctl: reading key "${sysctlDisplayName(path)}"`, `sysctl -n ${path}`, netns);
  }
}

/** A failed `/proc/sys` access as sysctl reports it: `<what>: <strerror>`, the errno behind it as the code. */
function procSysError(e: unknown, what: string, command: string, netns: string): KnetError {
  const err = e as NodeJS.ErrnoException;
  const text: Record<string, [string, KnetErrorCode]> = {
    ENOENT: ['No such file or directory', 'ENOENT'],
    EINVAL: ['Invalid argument', 'EINVAL'],
    ERANGE: ['Numerical result out of range', 'EINVAL'],
    EACCES: ['Permission denied', 'EPERM'],
    EPERM: ['Operation not permitted', 'EPERM'],
    EBUSY: ['Device or resource busy', 'EBUSY'],
    EOPNOTSUPP: ['Operation not supported', 'EOPNOTSUPP'],
  };
  const [msg, code] = text[err.code ?? ''] ?? [err.message, 'EIO' as const];
  return new KnetError(code, `${what}: ${msg}`, { command, netns });
}

/**
 * Creates a {@link LinuxHost}.
 *
 * @example
 * ```ts
 * import { createLinuxHost } from '@knet/core/linux';
 * const host = createLinuxHost({ namespacePrefix: 'knet-demo-' });
 * await host.netnsAdd('knet-demo-a', { role: 'node', node: 'a' });
 * await host.linkSet('knet-demo-a', 'lo', { up: true });
 * await host.netnsDel('knet-demo-a');
 * ```
 */
export function createLinuxHost(options: LinuxHostOptions = {}): LinuxHost {
  return new LinuxHost(options);
}
