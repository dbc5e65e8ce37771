import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatCniArgs } from './cni-args.js';
import { CniError } from './cni-error.js';
import { createProcessCniExec } from './cni-exec.js';
import type { CniExec } from './cni-exec.js';
import { cniResultToJson, convertCniResult, parseCniResult } from './cni-result.js';
import type { AnyCniResult, CniGcAttachment, CniNetConfList, CniPluginConf } from './cni-types.js';
import { cniVersionAtLeast, CURRENT_CNI_VERSION, decodeCniVersionInfo, decodeConfigVersion } from './cni-version.js';
import type { CniVersionInfo } from './cni-version.js';
import { formatGoJson, goQuote, parseGoJson } from './go-json.js';
import { validateContainerId, validateInterfaceName, validateNetworkName } from './validate-cni-names.js';

/** libcni's default cache directory; results live in `<cacheDir>/results/`. */
export const DEFAULT_CNI_CACHE_DIR = '/var/lib/cni';

/** The `kind` of a libcni result cache file. */
export const CNI_CACHE_KIND = 'cniCacheV1';

/** One attachment's parameters (`libcni.RuntimeConf`). */
export interface CniRuntimeConf {
  readonly containerId: string;
  /** The netns path (`CNI_NETNS`). */
  readonly netns: string;
  readonly ifname: string;
  /** `CNI_ARGS` pairs, e.g. `[['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'web']]`. */
  readonly args?: readonly (readonly [string, string])[];
  /** Values of capabilities (`portMappings`, `ipRanges`, `mac`, ...), injected as `runtimeConfig`. */
  readonly capabilityArgs?: Readonly<Record<string, unknown>>;
  /** A cache directory for this attachment, used when the runtime has none of its own. */
  readonly cacheDir?: string;
}

/** A cached attachment (`libcni.NetworkAttachment`), as GC reads it. */
export interface CniNetworkAttachment {
  readonly containerId: string;
  readonly network: string;
  readonly ifname: string;
  /** The network configuration list the attachment was added with. */
  readonly config: string;
  readonly netns: string;
  readonly cniArgs: readonly (readonly [string, string])[];
  readonly capabilityArgs: Readonly<Record<string, unknown>>;
}

/** Options of {@link CniRuntime}. */
export interface CniRuntimeOptions {
  /** The plugin search path (`CNI_PATH`, e.g. `['/opt/cni/bin']`). */
  readonly path: readonly string[];
  /** Default `/var/lib/cni` (unless the attachment gives one). */
  readonly cacheDir?: string;
  /** How plugins are found and run. Default: executables as child processes. */
  readonly exec?: CniExec;
  /** The environment plugins inherit before the `CNI_*` variables. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Options of {@link CniRuntime.gcNetworkList}. */
export interface CniGcArgs {
  /** Attachments that are still in use; every other cached attachment of the network is stale. */
  readonly validAttachments: readonly CniGcAttachment[];
}

function pluginDescription(p: CniPluginConf): string {
  return p.name !== undefined && p.name !== '' ? `type=${goQuote(p.type)} name=${goQuote(p.name)}` : `type=${goQuote(p.type)}`;
}

/** Wraps an error as Go's `fmt.Errorf("<prefix>: %w", err)`: the code survives, the text is prefixed. */
function wrap(prefix: string, e: unknown): Error {
  if (e instanceof CniError) {
    return new CniError(e.code, `${prefix}: ${e.msg}`, e.details);
  }
  return new Error(`${prefix}: ${(e as Error).message}`);
}

function injectConf(plugin: CniPluginConf, inject: Readonly<Record<string, unknown>>): Record<string, unknown> {
  // InjectConf round-trips through a map, so the plugin sees its own keys plus the injected ones.
  return { ...(parseGoJson(formatGoJson(plugin)) as Record<string, unknown>), ...inject };
}

/**
 * A CNI runtime that executes network configuration lists the way libcni does, for external
 * executables and in-process plugins alike.
 *
 * @remarks
 * Linux equivalent: libcni's `CNIConfig` as containerd, CRI-O and `cnitool` use it.
 * - ADD runs the plugins in order, each getting the previous result as `prevResult`, then caches
 *   the final result at `<cacheDir>/results/<network>-<containerID>-<ifname>` (`kind:
 *   cniCacheV1`; directory 0700, file 0600). Errors read `plugin type="bridge" failed (add): ...`.
 * - DEL runs them in reverse, each with the cached result (0.4.0 and later), then removes the
 *   cache file.
 * - CHECK (0.4.0 and later; not when `disableCheck`) runs them in order with the cached result.
 * - GC (unless `disableGC`) sends DEL for every cached attachment of the network that is not
 *   listed as valid, then (1.1.0 and later) sends GC to every plugin with both
 *   `cni.dev/valid-attachments` and `cni.dev/attachments`, collecting every error.
 * - STATUS (1.1.0 and later) asks every plugin in order and stops at the first error.
 * Each plugin receives its object from the list plus `name` and `cniVersion` from the list,
 * `prevResult`, and `runtimeConfig` with the values of the capabilities it declares (omitted
 * when none match); `capabilities` itself is removed, as the spec says.
 *
 * @see containernetworking/cni libcni/api.go, pkg/invoke
 * @example
 * ```ts
 * import { parseCniNetConfList } from '@knet/core';
 * import { CniRuntime } from '@knet/core/linux';
 * const runtime = new CniRuntime({ path: ['/usr/lib/cni'], cacheDir: '/tmp/knet-cni-cache' });
 * const list = parseCniNetConfList('{"cniVersion":"1.0.0","name":"lo","plugins":[{"type":"loopback"}]}');
 * // await runtime.addNetworkList(list, { containerId: 'c1', netns: '/run/netns/knet-cni-demo', ifname: 'lo' });
 * ```
 */
export class CniRuntime {
  readonly path: readonly string[];
  private readonly cacheDir: string | undefined;
  private readonly exec: CniExec;
  private readonly env: Readonly<Record<string, string | undefined>>;

  constructor(options: CniRuntimeOptions) {
    this.path = options.path;
    this.cacheDir = options.cacheDir;
    this.exec = options.exec ?? createProcessCniExec();
    this.env = options.env ?? process.env;
  }

  /** The environment a plugin gets (`invoke.Args.AsEnv`): the base environment plus all six `CNI_*`. */
  private envFor(command: string, rt: Partial<CniRuntimeConf>): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.env)) if (v !== undefined) env[k] = v;
    env['CNI_COMMAND'] = command;
    env['CNI_CONTAINERID'] = rt.containerId ?? '';
    env['CNI_NETNS'] = rt.netns ?? '';
    env['CNI_ARGS'] = formatCniArgs(rt.args ?? []);
    env['CNI_IFNAME'] = rt.ifname ?? '';
    env['CNI_PATH'] = this.path.join(':');
    return env;
  }

  private cacheDirFor(rt: Partial<CniRuntimeConf>): string {
    return this.cacheDir ?? rt.cacheDir ?? DEFAULT_CNI_CACHE_DIR;
  }

  /** `<cacheDir>/results/<network>-<containerID>-<ifname>`. */
  cacheFilePath(network: string, rt: CniRuntimeConf): string {
    return join(this.cacheDirFor(rt), 'results', `${network}-${rt.containerId}-${rt.ifname}`);
  }

  /** libcni's `buildOneConfig`: name and version from the list, prevResult, runtimeConfig, no capabilities. */
  private requestConfig(list: CniNetConfList, plugin: CniPluginConf, prevResult: AnyCniResult | undefined, rt: CniRuntimeConf): string {
    const inject: Record<string, unknown> = { name: list.name, cniVersion: list.cniVersion };
    if (prevResult !== undefined) inject['prevResult'] = cniResultToJson(prevResult);
    const conf = injectConf(plugin, inject);
    const rc: Record<string, unknown> = {};
    for (const [cap, supported] of Object.entries(plugin.capabilities ?? {})) {
      if (supported && rt.capabilityArgs !== undefined && Object.hasOwn(rt.capabilityArgs, cap)) rc[cap] = rt.capabilityArgs[cap];
    }
    if (Object.keys(rc).length > 0) conf['runtimeConfig'] = rc;
    delete conf['capabilities'];
    return formatGoJson(conf);
  }

  /** Runs one plugin command and reads its result (`ExecPluginWithResult` with `fixupResultVersion`). */
  private async execWithResult(pluginPath: string, stdin: string, env: Record<string, string>): Promise<AnyCniResult> {
    const stdout = await this.exec.execPlugin(pluginPath, stdin, env);
    const confVersion = decodeConfigVersion(stdin);
    let raw: unknown;
    try {
      raw = parseGoJson(stdout);
    } catch (e) {
      throw new Error(`failed to unmarshal raw result: ${(e as Error).message}`);
    }
    const obj = (raw ?? {}) as Record<string, unknown>;
    const own = obj['cniVersion'];
    // A result without cniVersion is taken to be in the config's version.
    const version = typeof own === 'string' && own !== '' ? own : confVersion;
    return parseCniResult({ ...obj, cniVersion: version }, version);
  }

  private async addNetwork(list: CniNetConfList, plugin: CniPluginConf, prev: AnyCniResult | undefined, rt: CniRuntimeConf): Promise<AnyCniResult> {
    const pluginPath = await this.exec.findInPath(plugin.type, this.path);
    validateContainerId(rt.containerId);
    validateNetworkName(list.name);
    validateInterfaceName(rt.ifname);
    return this.execWithResult(pluginPath, this.requestConfig(list, plugin, prev, rt), this.envFor('ADD', rt));
  }

  /**
   * ADD: attaches the container to every plugin of the list, in order, and caches the final result.
   *
   * @returns The last plugin's result, in the version it printed.
   * @throws CniError with the plugin's code, its message prefixed `plugin type="<type>" failed (add): `;
   * Error for a plugin that cannot be found or a cache that cannot be written.
   */
  async addNetworkList(list: CniNetConfList, rt: CniRuntimeConf): Promise<AnyCniResult> {
    let result: AnyCniResult | undefined;
    for (const plugin of list.plugins) {
      try {
        result = await this.addNetwork(list, plugin, result, rt);
      } catch (e) {
        throw wrap(`plugin ${pluginDescription(plugin)} failed (add)`, e);
      }
    }
    const final = result as AnyCniResult;
    try {
      this.cacheAdd(final, list, rt);
    } catch (e) {
      throw wrap(`failed to set network ${goQuote(list.name)} cached result`, e);
    }
    return final;
  }

  /**
   * DEL: detaches the container from every plugin of the list, in reverse order, passing the
   * cached ADD result as `prevResult` (0.4.0 and later), then removes the cache file.
   *
   * @throws CniError/Error prefixed `plugin type="<type>" failed (delete): `.
   */
  async delNetworkList(list: CniNetConfList, rt: CniRuntimeConf): Promise<void> {
    let cached: AnyCniResult | undefined;
    if (cniVersionAtLeast(list.cniVersion, '0.4.0')) {
      try {
        cached = this.getCachedResult(list.name, list.cniVersion, rt);
      } catch {
        this.cacheDel(list.name, rt);
        cached = undefined;
      }
    }
    for (let i = list.plugins.length - 1; i >= 0; i--) {
      const plugin = list.plugins[i] as CniPluginConf;
      try {
        const pluginPath = await this.exec.findInPath(plugin.type, this.path);
        await this.exec.execPlugin(pluginPath, this.requestConfig(list, plugin, cached, rt), this.envFor('DEL', rt));
      } catch (e) {
        throw wrap(`plugin ${pluginDescription(plugin)} failed (delete)`, e);
      }
    }
    this.cacheDel(list.name, rt);
  }

  /**
   * CHECK: asks every plugin, in order, whether the attachment is still as ADD left it, with the
   * cached result as `prevResult`. Does nothing when the list has `disableCheck`.
   *
   * @throws Error `configuration version "X" does not support the CHECK command` before 0.4.0;
   * the first plugin's error otherwise (unprefixed, as libcni).
   */
  async checkNetworkList(list: CniNetConfList, rt: CniRuntimeConf): Promise<void> {
    if (!cniVersionAtLeast(list.cniVersion, '0.4.0')) {
      throw new Error(`configuration version ${goQuote(list.cniVersion)} does not support the CHECK command`);
    }
    if (list.disableCheck) return;
    let cached: AnyCniResult | undefined;
    try {
      cached = this.getCachedResult(list.name, list.cniVersion, rt);
    } catch (e) {
      throw wrap(`failed to get network ${goQuote(list.name)} cached result`, e);
    }
    for (const plugin of list.plugins) {
      const pluginPath = await this.exec.findInPath(plugin.type, this.path);
      await this.exec.execPlugin(pluginPath, this.requestConfig(list, plugin, cached, rt), this.envFor('CHECK', rt));
    }
  }

  /**
   * STATUS (1.1.0 and later; earlier versions succeed without asking): every plugin in order,
   * with only `name` and `cniVersion` added; stops at the first error (code 50 or 51 from a
   * plugin that cannot serve ADD).
   */
  async getStatusNetworkList(list: CniNetConfList): Promise<void> {
    if (!cniVersionAtLeast(list.cniVersion, '1.1.0')) return;
    for (const plugin of list.plugins) {
      const conf = formatGoJson(injectConf(plugin, { name: list.name, cniVersion: list.cniVersion }));
      const pluginPath = await this.exec.findInPath(plugin.type, this.path);
      await this.exec.execPlugin(pluginPath, conf, this.envFor('STATUS', {}));
    }
  }

  /**
   * GC: removes stale attachments of the network. First a full DEL for every cached attachment
   * that is not in `args.validAttachments`, then (1.1.0 and later) GC to every plugin with the
   * valid list under both `cni.dev/valid-attachments` and `cni.dev/attachments` (the 1.1.0
   * text's spelling). Carries on past errors and throws them all at the end.
   *
   * @throws AggregateError of every failure (`failed to delete stale attachment <id> <ifname>: ...`,
   * `failed to GC plugin <type>: ...`).
   */
  async gcNetworkList(list: CniNetConfList, args?: CniGcArgs): Promise<void> {
    if (list.disableGC) return;
    const valid = new Set((args?.validAttachments ?? []).map((a) => `${a.containerID}\0${a.ifname}`));
    const errors: Error[] = [];
    for (const a of this.getCachedAttachments()) {
      if (a.network !== list.name || valid.has(`${a.containerId}\0${a.ifname}`)) continue;
      try {
        await this.delNetworkList(list, { containerId: a.containerId, netns: a.netns, ifname: a.ifname, args: a.cniArgs, capabilityArgs: a.capabilityArgs });
      } catch (e) {
        errors.push(wrap(`failed to delete stale attachment ${a.containerId} ${a.ifname}`, e));
      }
    }
    if (cniVersionAtLeast(list.cniVersion, '1.1.0')) {
      const inject: Record<string, unknown> = { name: list.name, cniVersion: list.cniVersion };
      if (args !== undefined) {
        inject['cni.dev/valid-attachments'] = args.validAttachments;
        // #1101: the 1.1.0 text used this name.
        inject['cni.dev/attachments'] = args.validAttachments;
      }
      for (const plugin of list.plugins) {
        try {
          const pluginPath = await this.exec.findInPath(plugin.type, this.path);
          await this.exec.execPlugin(pluginPath, formatGoJson(injectConf(plugin, inject)), this.envFor('GC', {}));
        } catch (e) {
          errors.push(wrap(`failed to GC plugin ${plugin.type}`, e));
        }
      }
    }
    if (errors.length === 1) throw errors[0] as Error;
    if (errors.length > 1) throw new AggregateError(errors, errors.map((e) => e.message).join('\n'));
  }

  /**
   * VERSION: what the plugin `type` supports. It is asked with `{"cniVersion":"1.1.0"}` and the
   * dummy `CNI_NETNS`, `CNI_IFNAME`, `CNI_PATH` old skels require; a plugin that answers
   * `unknown CNI_COMMAND: VERSION` supports 0.1.0 only.
   *
   * @see containernetworking/cni pkg/invoke/exec.go `GetVersionInfo`
   */
  async getVersionInfo(type: string): Promise<CniVersionInfo> {
    const pluginPath = await this.exec.findInPath(type, this.path);
    const env = this.envFor('VERSION', { netns: 'dummy', ifname: 'dummy' });
    env['CNI_PATH'] = 'dummy';
    let stdout: string;
    try {
      stdout = await this.exec.execPlugin(pluginPath, `{"cniVersion":${goQuote(CURRENT_CNI_VERSION)}}`, env);
    } catch (e) {
      if (e instanceof Error && e.message === 'unknown CNI_COMMAND: VERSION') return { cniVersion: '0.1.0', supportedVersions: ['0.1.0'] };
      throw e;
    }
    return decodeCniVersionInfo(stdout);
  }

  /**
   * The cached ADD result of an attachment, converted to `cniVersion`; `undefined` when there is
   * no cache file (libcni ignores read errors).
   *
   * @throws Error when the cached result cannot be read or converted.
   */
  getCachedResult(network: string, cniVersion: string, rt: CniRuntimeConf): AnyCniResult | undefined {
    let text: string;
    try {
      text = readFileSync(this.cacheFilePath(network, rt), 'utf8');
    } catch {
      return undefined;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      raw = undefined;
    }
    const info = raw as Record<string, unknown> | undefined;
    // A file without `kind` is a legacy cache: the raw result itself.
    const result = info !== undefined && info['kind'] === CNI_CACHE_KIND ? info['result'] : raw;
    if (result === undefined || result === null) return undefined;
    const parsed = parseCniResult(result);
    try {
      return convertCniResult(parsed, cniVersion);
    } catch (e) {
      throw new Error(`failed to convert cached result to config version ${goQuote(cniVersion)}: ${(e as Error).message}`);
    }
  }

  /**
   * Every cached attachment (`GetCachedAttachments`), optionally only those of one container.
   * Unreadable files and files of another kind are skipped.
   */
  getCachedAttachments(containerId = ''): CniNetworkAttachment[] {
    const dir = join(this.cacheDirFor({}), 'results');
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return [];
    }
    const out: CniNetworkAttachment[] = [];
    for (const name of names) {
      if (containerId !== '') {
        const part = `-${containerId}-`;
        const pos = name.indexOf(part);
        if (pos <= 0 || pos + part.length >= name.length) continue;
      }
      let info: Record<string, unknown>;
      try {
        info = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (info['kind'] !== CNI_CACHE_KIND) continue;
      const cid = String(info['containerId'] ?? '');
      if (containerId !== '' && cid !== containerId) continue;
      const ifname = String(info['ifName'] ?? '');
      const network = String(info['networkName'] ?? '');
      if (ifname === '' || network === '') continue;
      out.push({
        containerId: cid,
        network,
        ifname,
        config: typeof info['config'] === 'string' ? Buffer.from(info['config'], 'base64').toString() : '',
        netns: String(info['netns'] ?? ''),
        cniArgs: Array.isArray(info['cniArgs']) ? (info['cniArgs'] as [string, string][]) : [],
        capabilityArgs: (info['capabilityArgs'] ?? {}) as Record<string, unknown>,
      });
    }
    return out;
  }

  /** Writes the cache file as libcni's `cacheAdd` (the config as base64 bytes, Go's `[]byte`). */
  private cacheAdd(result: AnyCniResult, list: CniNetConfList, rt: CniRuntimeConf): void {
    const file = this.cacheFilePath(list.name, rt);
    const cached: Record<string, unknown> = {
      kind: CNI_CACHE_KIND,
      containerId: rt.containerId,
      config: Buffer.from(list.bytes).toString('base64'),
      ifName: rt.ifname,
      networkName: list.name,
    };
    if (rt.netns !== '') cached['netns'] = rt.netns;
    if (rt.args !== undefined && rt.args.length > 0) cached['cniArgs'] = rt.args;
    if (rt.capabilityArgs !== undefined && Object.keys(rt.capabilityArgs).length > 0) cached['capabilityArgs'] = rt.capabilityArgs;
    cached['result'] = cniResultToJson(result);
    mkdirSync(join(this.cacheDirFor(rt), 'results'), { recursive: true, mode: 0o700 });
    // Written aside and renamed, so a crash never leaves half a cache file.
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, formatGoJson(cached), { mode: 0o600 });
    renameSync(tmp, file);
  }

  private cacheDel(network: string, rt: CniRuntimeConf): void {
    rmSync(this.cacheFilePath(network, rt), { force: true });
  }
}
