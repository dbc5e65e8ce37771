import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { parseCniNetConfList } from './cni-conf.js';
import { createProcessCniExec } from './cni-exec.js';
import { convertCniResult } from './cni-result.js';
import { CniRuntime } from './cni-runtime.js';
import type { CniRuntimeConf } from './cni-runtime.js';
import type { AnyCniResult, CniNetConfList, CniResult } from './cni-types.js';
import { CURRENT_CNI_VERSION } from './cni-version.js';

/** What a plugin's configuration may depend on in one conformance case. */
export interface CniConformanceContext {
  /** A fresh directory for the plugin's state (host-local's `dataDir`). */
  readonly dataDir: string;
}

/** Options of {@link cniConformanceCases}. */
export interface CniConformanceOptions {
  /** The plugin executable; its file name is the plugin `type`. */
  readonly executable: string;
  /** The plugin object of the network configuration list (without `name` and `cniVersion`). */
  readonly pluginConf: (ctx: CniConformanceContext) => Record<string, unknown>;
  /** A plugin object the plugin must refuse with code 7 (invalid network config). */
  readonly invalidPluginConf: (ctx: CniConformanceContext) => Record<string, unknown>;
  /** The list's `cniVersion`. Default `1.0.0`. */
  readonly cniVersion?: string;
  /** Namespaces of the cases are named `<prefix><case>-node` and `<prefix><case>-pN`. Default `knet-cni-`. */
  readonly namespacePrefix?: string;
  /**
   * Files of the plugin's state that may stay after every attachment is deleted. Default:
   * host-local's `lock`, `lock.knet` and `last_reserved_ip.N`.
   */
  readonly keepFiles?: RegExp;
  /** How many concurrent ADDs (separate processes), then DELs. Default 100. */
  readonly concurrency?: number;
  /** Other directories for `CNI_PATH` (plugins the plugin delegates to). */
  readonly path?: readonly string[];
  /** Link kinds the plugin creates (`veth`, `bridge`, `vxlan`...): a kernel without one skips the namespace cases. */
  readonly linkKinds?: readonly string[];
  /**
   * A resident process the plugin hands its work to (a CNI agent), started inside each case's
   * node namespace before the plugin runs there and stopped after. With it, every case runs the
   * executable inside a node namespace (the error cases too), so that each goes through the agent.
   */
  readonly nodeAgent?: (node: string) => Promise<{ stop(): Promise<void> }>;
}

/** One case of the suite: run it with any test runner; it throws on failure. */
export interface CniConformanceCase {
  readonly name: string;
  /** Why the case cannot run here (not root, no iproute2), or `undefined`. */
  readonly skip?: string;
  readonly run: () => Promise<void>;
}

function check(cond: boolean, message: string): asserts cond {
  if (!cond) throw new Error(`CNI conformance: ${message}`);
}

/**
 * Why cases that need network namespaces cannot run here, or `undefined`: Linux, root, iproute2,
 * and a kernel that creates each of `linkKinds` (tried in a scratch namespace
 * `knet-cni-probe-<pid>`, deleted again).
 */
export function cniConformanceSkipReason(linkKinds: readonly string[] = []): string | undefined {
  if (process.platform !== 'linux') return `needs Linux network namespaces (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  if (spawnSync('ip', ['-V']).status !== 0) return 'needs iproute2 (ip)';
  if (linkKinds.length === 0) return undefined;
  const ns = `knet-cni-probe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (add.status !== 0) return `cannot create a network namespace: ${add.stderr.trim()}`;
  try {
    for (const kind of linkKinds) {
      const args = kind === 'veth' ? ['type', 'veth', 'peer', 'name', 'probe1'] : kind === 'vxlan' ? ['type', 'vxlan', 'id', '1', 'dstport', '4789'] : ['type', kind];
      const r = spawnSync('ip', ['-n', ns, 'link', 'add', 'probe0', ...args], { encoding: 'utf8' });
      if (r.status !== 0) return `the kernel cannot create ${kind} links: ${r.stderr.trim()}`;
      spawnSync('ip', ['-n', ns, 'link', 'del', 'probe0']);
    }
    return undefined;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

function ipBatch(lines: readonly string[]): void {
  if (lines.length === 0) return;
  const r = spawnSync('ip', ['-force', '-batch', '-'], { input: `${lines.join('\n')}\n`, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip -batch failed: ${r.stderr.trim()}`);
}

/** Deletes every namespace whose name starts with `prefix` (also after a crashed run). */
function deleteNamespaces(prefix: string): void {
  let names: string[] = [];
  try {
    names = readdirSync('/run/netns').filter((n) => n.startsWith(prefix));
  } catch {
    return;
  }
  ipBatch(names.map((n) => `netns del ${n}`));
}

/** The links of a namespace as `ip -d -j link` lists them: name and kind (`veth`, `bridge`, `loopback`...). */
function links(netns: string): { name: string; kind: string }[] {
  const r = spawnSync('ip', ['-d', '-j', '-n', netns, 'link', 'show'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip -n ${netns} link show failed: ${r.stderr.trim()}`);
  const list = JSON.parse(r.stdout) as { ifname: string; link_type?: string; linkinfo?: { info_kind?: string } }[];
  return list.map((l) => ({ name: l.ifname, kind: l.linkinfo?.info_kind ?? l.link_type ?? '' }));
}

/** Every file under `dir`, relative, that `keep` does not allow. */
function leftoverFiles(dir: string, keep: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (!keep.test(n)) out.push(relative(dir, p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

interface Sandbox {
  readonly node: string;
  readonly pods: string[];
  readonly dataDir: string;
  readonly cacheDir: string;
  readonly runtime: CniRuntime;
  readonly list: CniNetConfList;
  readonly invalid: CniNetConfList;
  rt(i: number, cid?: string): CniRuntimeConf;
}

/**
 * A conformance suite for a CNI plugin executable: the commands of the spec, the error codes,
 * idempotent DEL, and concurrent ADD/DEL in real network namespaces, run through knet's
 * libcni-style runtime exactly as containerd or CRI-O would run the plugin.
 *
 * @remarks
 * The plugin runs in a node namespace `<prefix><case>-node` (`ip netns exec`), attaching pods in
 * `<prefix><case>-pN`; every namespace of a case is deleted when it ends, pass or fail, and
 * stale ones from a crashed run are deleted before it starts. Cases that need namespaces skip,
 * with the reason, where root or iproute2 is missing. The cases:
 * - VERSION replies `cniVersion` 1.1.0 and supports the list's version;
      ...directSkip,
 * - ADD, CHECK, DEL: the result is in the list's version, names `CNI_IFNAME` in the sandbox with
 *   an address; CHECK passes; DEL leaves no link and no state behind;
 * - DEL twice, DEL of an attachment never added, DEL without `CNI_NETNS`, DEL after the
 *   namespace is gone: all succeed, and the last releases the address (the kernel then destroys
 *   the pair with the namespace, which it does within 5 s unless a process is left inside);
 * - an unsupported `cniVersion` is code 1, bad JSON code 6, an invalid config code 7 (before
 *   the plugin touches anything), a missing `CNI_IFNAME` code 4;
 * - `concurrency` (100) ADDs at once, as separate processes, give as many distinct addresses;
 *   as many DELs at once leave no veth, no pod interface, no reservation file, no cache file.
 *
 * @see https://github.com/containernetworking/cni/blob/main/SPEC.md
 * @example
 * ```ts
 * import { cniConformanceCases } from '@knet/core/linux';
 * for (const c of cniConformanceCases({
 *   executable: '/opt/cni/bin/knet-kubenet',
 *   pluginConf: ({ dataDir }) => ({ type: 'knet-kubenet', isGateway: true, ipam: { type: 'host-local', subnet: '10.244.1.0/24', dataDir } }),
 *   invalidPluginConf: () => ({ type: 'knet-kubenet' }),
 * })) {
 *   // it.skipIf(c.skip !== undefined)(c.name, c.run);
 * }
 * ```
 */
export function cniConformanceCases(options: CniConformanceOptions): CniConformanceCase[] {
  const type = basename(options.executable);
  const version = options.cniVersion ?? '1.0.0';
  const prefix = options.namespacePrefix ?? 'knet-cni-';
  const keep = options.keepFiles ?? /^(lock|lock\.knet|last_reserved_ip\.\d+)$/;
  const concurrency = options.concurrency ?? 100;
  const needsNs = cniConformanceSkipReason(options.linkKinds ?? []);
  // Read when a case runs: the executable may be built after the cases are listed.
  const pathOf = (): string[] => [dirname(options.executable), ...(options.path ?? [])];

  const listOf = (plugin: Record<string, unknown>): CniNetConfList =>
    parseCniNetConfList(JSON.stringify({ cniVersion: version, name: 'knet-conformance', plugins: [plugin] }));

  /**
   * Runs the executable directly with exactly these variables and stdin: in the machine's
   * namespace, or with `nodeAgent` inside a node namespace of its own where the agent runs.
   */
  const direct = async (env: Record<string, string>, stdin: string): Promise<{ code: number; stdout: string }> => {
    const run = (prefix: readonly string[]): { code: number; stdout: string } => {
      const argv = [...prefix, options.executable];
      const r = spawnSync(argv[0]!, argv.slice(1), { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, input: stdin, encoding: 'utf8' });
      return { code: r.status ?? -1, stdout: r.stdout };
    };
    if (options.nodeAgent === undefined) return run([]);
    let out = { code: -1, stdout: '' };
    await withSandbox('direct', 0, async (s) => {
      out = run(['ip', 'netns', 'exec', s.node]);
    });
    return out;
  };
  const errorOf = (out: string): { code?: number; msg?: string } => {
    try {
      return JSON.parse(out) as { code?: number; msg?: string };
    } catch {
      return {};
    }
  };

  async function withSandbox(caseId: string, pods: number, body: (s: Sandbox) => Promise<void>): Promise<void> {
    const base = `${prefix}${caseId}-`;
    deleteNamespaces(base);
    const node = `${base}node`;
    const podNames = Array.from({ length: pods }, (_, i) => `${base}p${i}`);
    const work = mkdtempSync(join(tmpdir(), 'knet-cni-conformance-'));
    const dataDir = join(work, 'data');
    const cacheDir = join(work, 'cache');
    let agent: { stop(): Promise<void> } | undefined;
    try {
      ipBatch([`netns add ${node}`, ...podNames.map((p) => `netns add ${p}`)]);
      agent = await options.nodeAgent?.(node);
      const runtime = new CniRuntime({ path: pathOf(), cacheDir, exec: createProcessCniExec({ prefix: ['ip', 'netns', 'exec', node] }) });
      const sandbox: Sandbox = {
        node,
        pods: podNames,
        dataDir,
        cacheDir,
        runtime,
        list: listOf(options.pluginConf({ dataDir })),
        invalid: listOf(options.invalidPluginConf({ dataDir })),
        rt: (i, cid) => ({
          containerId: cid ?? `conformance${i}`,
          netns: `/run/netns/${podNames[i] as string}`,
          ifname: 'eth0',
          args: [['IgnoreUnknown', '1'], ['K8S_POD_NAMESPACE', 'default'], ['K8S_POD_NAME', `pod-${i}`]],
        }),
      };
      await body(sandbox);
    } finally {
      await agent?.stop();
      deleteNamespaces(base);
      rmSync(work, { recursive: true, force: true });
    }
  }

  function podInterface(result: AnyCniResult, s: Sandbox, i: number): { address: string } {
    const r = convertCniResult(result, '1.1.0') as CniResult;
    const sandbox = s.rt(i).netns;
    const ifIndex = (r.interfaces ?? []).findIndex((x) => x.name === 'eth0' && x.sandbox === sandbox);
    check(ifIndex >= 0, `ADD result has no interface eth0 with sandbox ${sandbox}: ${JSON.stringify(result)}`);
    const ip = (r.ips ?? []).find((x) => x.interface === undefined || x.interface === ifIndex);
    check(ip !== undefined, `ADD result has no address for eth0: ${JSON.stringify(result)}`);
    return { address: ip.address };
  }

  async function waitForNoVeths(node: string, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (links(node).some((l) => l.kind === 'veth') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  function assertClean(s: Sandbox): void {
    const veths = links(s.node).filter((l) => l.kind === 'veth');
    check(veths.length === 0, `veths left in ${s.node}: ${veths.map((l) => l.name).join(', ')}`);
    for (const pod of s.pods) {
      const left = links(pod).filter((l) => l.name !== 'lo');
      check(left.length === 0, `interfaces left in ${pod}: ${left.map((l) => l.name).join(', ')}`);
    }
    const files = leftoverFiles(s.dataDir, keep);
    check(files.length === 0, `state left in the data directory: ${files.join(', ')}`);
    const cached = s.runtime.getCachedAttachments();
    check(cached.length === 0, `result cache not empty: ${cached.map((a) => a.containerId).join(', ')}`);
  }

  const env = (): Record<string, string> => ({
    CNI_CONTAINERID: 'conformance',
    CNI_NETNS: `/run/netns/${prefix}absent`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: pathOf().join(':'),
  });
  const scratch = (): string => mkdtempSync(join(tmpdir(), 'knet-cni-conformance-'));
  const withScratch = async (fn: (dir: string) => Promise<void>): Promise<void> => {
    const dir = scratch();
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  // With an agent, the error cases run in a node namespace too.
  const directSkip = options.nodeAgent !== undefined && needsNs !== undefined ? { skip: needsNs } : {};
  const cases: CniConformanceCase[] = [
    {
      name: `${type}: VERSION replies cniVersion ${CURRENT_CNI_VERSION} and supports ${version}`,
      run: async () => {
        const r = await direct({ CNI_COMMAND: 'VERSION' }, '');
        check(r.code === 0, `VERSION exited ${r.code}: ${r.stdout}`);
        const info = JSON.parse(r.stdout) as { cniVersion?: string; supportedVersions?: string[] };
        check(info.cniVersion === CURRENT_CNI_VERSION, `VERSION cniVersion is ${String(info.cniVersion)}`);
        check(info.supportedVersions?.includes(version) === true, `VERSION does not list ${version}: ${r.stdout}`);
      },
    },
    {
      name: `${type}: an unsupported cniVersion is code 1`,
      ...directSkip,
      run: async () =>
        withScratch(async (dataDir) => {
          const conf = { ...options.pluginConf({ dataDir }), name: 'knet-conformance', cniVersion: '0.9.9' };
          const r = await direct({ ...env(), CNI_COMMAND: 'ADD' }, JSON.stringify(conf));
          check(r.code !== 0 && errorOf(r.stdout).code === 1, `expected code 1, got exit ${r.code}: ${r.stdout}`);
        }),
    },
    {
      name: `${type}: bad JSON is code 6`,
      ...directSkip,
      run: async () => {
        const r = await direct({ ...env(), CNI_COMMAND: 'ADD' }, '{"cniVersion":"1.0.0","name":');
        check(r.code !== 0 && errorOf(r.stdout).code === 6, `expected code 6, got exit ${r.code}: ${r.stdout}`);
      },
    },
    {
      name: `${type}: an invalid config is code 7`,
      ...directSkip,
      run: async () =>
        withScratch(async (dataDir) => {
          const conf = { ...options.invalidPluginConf({ dataDir }), name: 'knet-conformance', cniVersion: version };
          const r = await direct({ ...env(), CNI_COMMAND: 'ADD' }, JSON.stringify(conf));
          check(r.code !== 0 && errorOf(r.stdout).code === 7, `expected code 7, got exit ${r.code}: ${r.stdout}`);
        }),
    },
    {
      name: `${type}: a missing CNI_IFNAME is code 4`,
      ...directSkip,
      run: async () =>
        withScratch(async (dataDir) => {
          const conf = { ...options.pluginConf({ dataDir }), name: 'knet-conformance', cniVersion: version };
          const { CNI_IFNAME: _drop, ...rest } = env();
          const r = await direct({ ...rest, CNI_COMMAND: 'ADD' }, JSON.stringify(conf));
          const e = errorOf(r.stdout);
          check(r.code !== 0 && e.code === 4 && e.msg === 'required env variables [CNI_IFNAME] missing', `expected code 4, got exit ${r.code}: ${r.stdout}`);
        }),
    },
    {
      name: `${type}: ADD, CHECK, DEL in real namespaces`,
      ...(needsNs !== undefined ? { skip: needsNs } : {}),
      run: () =>
        withSandbox('acd', 1, async (s) => {
          const result = await s.runtime.addNetworkList(s.list, s.rt(0));
          check(result.cniVersion === version, `ADD answered in ${result.cniVersion}, not ${version}`);
          podInterface(result, s, 0);
          check(links(s.pods[0] as string).some((l) => l.name === 'eth0'), 'eth0 is not in the pod');
          await s.runtime.checkNetworkList(s.list, s.rt(0));
          await s.runtime.delNetworkList(s.list, s.rt(0));
          assertClean(s);
        }),
    },
    {
      name: `${type}: DEL is idempotent and tolerates missing state`,
      ...(needsNs !== undefined ? { skip: needsNs } : {}),
      run: () =>
        withSandbox('del', 2, async (s) => {
          await s.runtime.addNetworkList(s.list, s.rt(0));
          await s.runtime.delNetworkList(s.list, s.rt(0));
          await s.runtime.delNetworkList(s.list, s.rt(0));
          await s.runtime.delNetworkList(s.list, s.rt(1, 'never-added'));
          await s.runtime.delNetworkList(s.list, { ...s.rt(1, 'no-netns'), netns: '' });
          await s.runtime.addNetworkList(s.list, s.rt(1));
          ipBatch([`netns del ${s.pods[1] as string}`]);
          await s.runtime.delNetworkList(s.list, s.rt(1));
          ipBatch([`netns add ${s.pods[1] as string}`]);
          // The kernel destroys a deleted namespace, and the veth pair with it, asynchronously
          // (cleanup_net), and not at all while a process is still inside: wait for it, a while.
          await waitForNoVeths(s.node, 5_000);
          assertClean(s);
        }),
    },
    {
      name: `${type}: ${concurrency} concurrent ADDs give ${concurrency} distinct addresses, ${concurrency} DELs leave nothing behind`,
      ...(needsNs !== undefined ? { skip: needsNs } : {}),
      run: () =>
        withSandbox('many', concurrency, async (s) => {
          const indexes = Array.from({ length: concurrency }, (_, i) => i);
          const added = await Promise.allSettled(indexes.map((i) => s.runtime.addNetworkList(s.list, s.rt(i))));
          const failed = added.flatMap((r, i) => (r.status === 'rejected' ? [`pod ${i}: ${(r.reason as Error).message}`] : []));
          check(failed.length === 0, `${failed.length} ADDs failed: ${failed.slice(0, 5).join('; ')}`);
          const addresses = added.map((r, i) => podInterface((r as PromiseFulfilledResult<AnyCniResult>).value, s, i).address);
          check(new Set(addresses).size === concurrency, `${new Set(addresses).size} distinct addresses for ${concurrency} ADDs`);
          const deleted = await Promise.allSettled(indexes.map((i) => s.runtime.delNetworkList(s.list, s.rt(i))));
          const delFailed = deleted.flatMap((r, i) => (r.status === 'rejected' ? [`pod ${i}: ${(r.reason as Error).message}`] : []));
          check(delFailed.length === 0, `${delFailed.length} DELs failed: ${delFailed.slice(0, 5).join('; ')}`);
          assertClean(s);
        }),
    },
  ];
  return cases;
}

