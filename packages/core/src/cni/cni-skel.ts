import { CNI_ERROR_CODES, CniError, toCniError } from './cni-error.js';
import { convertCniResult, formatCniResult, parseCniResult } from './cni-result.js';
import type { AnyCniResult, CniPluginConf } from './cni-types.js';
import { checkCniVersionSupported, cniVersionAtLeast, CURRENT_CNI_VERSION, decodeConfigVersion } from './cni-version.js';
import { checkGoJson, goJsonKind } from './go-json.js';
import { validateContainerId, validateInterfaceName, validateNetworkName } from './validate-cni-names.js';

/** The commands of the CNI protocol. */
export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS' | 'VERSION';

/**
 * What a plugin callback receives: the invocation's environment and the configuration from stdin
 * (`skel.CmdArgs`, plus the decoded config and its version).
 */
export interface CniCmdArgs {
  readonly command: CniCommand;
  /** `CNI_CONTAINERID` ("" for GC and STATUS). */
  readonly containerId: string;
  /** `CNI_NETNS` ("" when not given: DEL may omit it). */
  readonly netns: string;
  /** `CNI_IFNAME`. */
  readonly ifname: string;
  /** `CNI_ARGS`, raw (`K=V;K=V`). */
  readonly args: string;
  /** `CNI_PATH`, raw (`:`-separated). */
  readonly path: string;
  /** `CNI_NETNS_OVERRIDE`. */
  readonly netnsOverride: string;
  /** The configuration as received on stdin. */
  readonly stdinData: string;
  /** The configuration, decoded. */
  readonly config: CniPluginConf;
  /** The configuration's `cniVersion` ("0.1.0" when absent), already reconciled with the plugin's. */
  readonly cniVersion: string;
}

/**
 * A CNI plugin for {@link runCniPlugin}: one callback per command and the spec versions it
 * supports (`skel.CNIFuncs` + `version.PluginInfo`).
 *
 * @remarks `add` returns its result in any version; the skeleton prints it converted to the
 * config's `cniVersion` (`types.PrintResult`). Throw a {@link CniError} for a spec code; anything
 * else is reported as code 999 with its message.
 */
export interface CniPlugin {
  readonly add: (args: CniCmdArgs) => Promise<AnyCniResult> | AnyCniResult;
  readonly del: (args: CniCmdArgs) => Promise<void> | void;
  readonly check: (args: CniCmdArgs) => Promise<void> | void;
  /** STATUS (1.1.0). Absent: STATUS succeeds, as skel does with a nil callback. */
  readonly status?: (args: CniCmdArgs) => Promise<void> | void;
  /** GC (1.1.0). Absent: GC succeeds and does nothing. */
  readonly gc?: (args: CniCmdArgs) => Promise<void> | void;
  /** The spec versions the plugin speaks, e.g. `CNI_SPEC_VERSIONS`. */
  readonly versions: readonly string[];
  /** Printed on stderr when `CNI_COMMAND` is unset, e.g. `CNI plugin knet-kubenet v0.1.0`. */
  readonly about?: string;
}

/** The process around a plugin run: environment, stdin, stdout and stderr. */
export interface CniPluginIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The config; a function is called only when the command reads stdin (not for VERSION). */
  readonly stdin: string | Uint8Array | (() => Promise<string | Uint8Array> | string | Uint8Array);
  readonly stdout: (text: string) => void;
  readonly stderr?: (text: string) => void;
  /**
   * True when the netns at `path` is the plugin's own (`ns.CheckNetNS`). Absent: never, which is
   * right for in-process plugins that do not run in a netns of their own.
   */
  readonly isOwnNetns?: (path: string) => boolean;
}

type Req = Partial<Record<CniCommand, true>>;

/** skel's table: which variable each command requires, and which are validated when present. */
const ENV_VARS: readonly { name: string; req: Req; validate?: (v: string) => void }[] = [
  { name: 'CNI_COMMAND', req: { ADD: true, CHECK: true, DEL: true, GC: true, STATUS: true } },
  { name: 'CNI_CONTAINERID', req: { ADD: true, CHECK: true, DEL: true }, validate: validateContainerId },
  { name: 'CNI_NETNS', req: { ADD: true, CHECK: true } },
  { name: 'CNI_IFNAME', req: { ADD: true, CHECK: true, DEL: true }, validate: validateInterfaceName },
  { name: 'CNI_ARGS', req: {} },
  { name: 'CNI_PATH', req: { ADD: true, CHECK: true, DEL: true, GC: true, STATUS: true } },
  { name: 'CNI_NETNS_OVERRIDE', req: {} },
];

/** The anonymous struct skel decodes stdin into (`validateConfig`), as Go names it in type errors. */
const NAME_STRUCT = 'struct { Name string "json:\\"name\\"" }';

function decodeStdin(text: string): CniPluginConf {
  try {
    checkGoJson(text);
  } catch (e) {
    throw new CniError(CNI_ERROR_CODES.ErrDecodingFailure, `error unmarshall network config: ${(e as Error).message}`);
  }
  const raw = JSON.parse(text) as unknown;
  if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new CniError(
      CNI_ERROR_CODES.ErrDecodingFailure,
      `error unmarshall network config: json: cannot unmarshal ${goJsonKind(raw)} into Go value of type ${NAME_STRUCT}`,
    );
  }
  const conf = (raw ?? {}) as Record<string, unknown>;
  // encoding/json matches keys case-insensitively when there is no exact match.
  const key = 'name' in conf ? 'name' : Object.keys(conf).find((k) => k.toLowerCase() === 'name');
  const name = key === undefined ? undefined : conf[key];
  if (name !== undefined && name !== null && typeof name !== 'string') {
    throw new CniError(
      CNI_ERROR_CODES.ErrDecodingFailure,
      `error unmarshall network config: json: cannot unmarshal ${goJsonKind(name)} into Go struct field .name of type string`,
    );
  }
  if (typeof name !== 'string' || name === '') throw new CniError(CNI_ERROR_CODES.ErrInvalidNetworkConfig, 'missing network name');
  validateNetworkName(name);
  return conf as unknown as CniPluginConf;
}

function versionError(e: unknown): CniError {
  return e instanceof CniError ? e : new CniError(CNI_ERROR_CODES.ErrDecodingFailure, (e as Error).message);
}

async function readStdin(io: CniPluginIo): Promise<string> {
  const s = typeof io.stdin === 'function' ? await io.stdin() : io.stdin;
  return typeof s === 'string' ? s : new TextDecoder().decode(s);
}

/**
 * Runs a CNI plugin for one invocation, exactly as libcni's `pkg/skel` dispatches it, and
 * returns the process exit code (0 success, 1 failure).
 *
 * @remarks
 * Linux equivalent: `skel.PluginMainFuncs(funcs, version.PluginSupports(...), about)` in a
 * plugin's `main`. In order:
 * 1. Environment: every variable the command requires must be set, else code 4 `required env
 *    variables [CNI_CONTAINERID,CNI_NETNS] missing` (all missing names, in skel's order). A
 *    present `CNI_CONTAINERID` / `CNI_IFNAME` is validated on the spot (code 4; see
 *    `validateContainerId` / `validateInterfaceName`). Without `CNI_COMMAND` the `about` text
 *    and the supported versions go to stderr and the exit code is 0.
 * 2. stdin (not for VERSION): JSON that does not decode is code 6 `error unmarshall network
 *    config: <Go's message>`; no name is code 7 `missing network name`; a bad name code 7.
 * 3. ADD and DEL: the config's version must be one of `versions` (code 1 `incompatible CNI
 *    versions`, details `config is "X", plugin supports ["a" "b"]`). CHECK needs a config
 *    ≥ 0.4.0, GC and STATUS ≥ 1.1.0 (code 1 `config version does not allow CHECK`), and a
 *    supported version at least as new (code 1 `plugin version does not allow CHECK`).
 * 4. Unless `CNI_NETNS_OVERRIDE` is `1`/`true`, ADD and DEL refuse a `CNI_NETNS` that is the
 *    plugin's own namespace: code 8 `plugin's netns and netns from CNI_NETNS should not be the
 *    same`. Upstream checks after calling the plugin; knet checks before, so nothing is created
 *    in the wrong namespace.
 * 5. VERSION prints `{"cniVersion":"1.1.0","supportedVersions":[...]}` and a newline; ADD prints
 *    the result in the config's version. An unknown command is code 4 `unknown CNI_COMMAND: X`.
 *
 * Errors are printed on stdout as libcni prints them: `{code, msg, details?}` indented with four
 * spaces, without `cniVersion`.
 *
 * @see containernetworking/cni pkg/skel/skel.go
 * @example
 * ```ts
 * import { runCniPlugin, CNI_SPEC_VERSIONS } from '@knet/core';
 * let out = '';
 * const code = await runCniPlugin(
 *   { add: () => ({ cniVersion: '1.0.0' }), del: () => {}, check: () => {}, versions: CNI_SPEC_VERSIONS },
 *   { env: { CNI_COMMAND: 'VERSION' }, stdin: '', stdout: (t) => { out += t; } },
 * );
 * // code === 0, out === '{"cniVersion":"1.1.0","supportedVersions":["0.1.0",...,"1.1.0"]}\n'
 * ```
 */
export async function runCniPlugin(plugin: CniPlugin, io: CniPluginIo): Promise<number> {
  try {
    await dispatch(plugin, io);
    return 0;
  } catch (e) {
    io.stdout(toCniError(e).format());
    return 1;
  }
}

async function dispatch(plugin: CniPlugin, io: CniPluginIo): Promise<void> {
  const env = (name: string): string => io.env[name] ?? '';
  const cmd = env('CNI_COMMAND');
  const missing: string[] = [];
  for (const v of ENV_VARS) {
    const value = env(v.name);
    const required = v.req[cmd as CniCommand] === true;
    if (value === '') {
      if (required || v.name === 'CNI_COMMAND') missing.push(v.name);
    } else if (required && v.validate !== undefined) {
      v.validate(value);
    }
  }
  if (missing.length > 0) {
    if (cmd === '' && plugin.about !== undefined && plugin.about !== '') {
      io.stderr?.(`${plugin.about}\n`);
      io.stderr?.(`CNI protocol versions supported: ${plugin.versions.join(', ')}\n`);
      return;
    }
    throw new CniError(CNI_ERROR_CODES.ErrInvalidEnvironmentVariables, `required env variables [${missing.join(',')}] missing`);
  }

  if (cmd === 'VERSION') {
    io.stdout(`${JSON.stringify({ cniVersion: CURRENT_CNI_VERSION, supportedVersions: plugin.versions })}\n`);
    return;
  }

  const stdinData = await readStdin(io);
  const config = decodeStdin(stdinData);
  const args = (command: CniCommand, cniVersion: string): CniCmdArgs => ({
    command,
    containerId: env('CNI_CONTAINERID'),
    netns: env('CNI_NETNS'),
    ifname: env('CNI_IFNAME'),
    args: env('CNI_ARGS'),
    path: env('CNI_PATH'),
    netnsOverride: env('CNI_NETNS_OVERRIDE'),
    stdinData,
    config,
    cniVersion,
  });

  const reconcile = (): string => {
    const v = decodeConfigVersion(stdinData);
    checkCniVersionSupported(v, plugin.versions);
    return v;
  };

  const checkNetns = (): void => {
    const override = env('CNI_NETNS_OVERRIDE');
    if (override.toUpperCase() === 'TRUE' || override === '1') return;
    const netns = env('CNI_NETNS');
    if (netns !== '' && io.isOwnNetns?.(netns) === true) {
      throw new CniError(CNI_ERROR_CODES.ErrInvalidNetNS, "plugin's netns and netns from CNI_NETNS should not be the same");
    }
  };

  // CHECK, GC and STATUS: a minimum config version, then some supported version at least as new.
  const gated = async (command: CniCommand, minimum: string, fn: ((a: CniCmdArgs) => Promise<void> | void) | undefined): Promise<void> => {
    const configVersion = decodeConfigVersion(stdinData);
    let ok: boolean;
    try {
      ok = cniVersionAtLeast(configVersion, minimum);
    } catch (e) {
      throw versionError(e);
    }
    if (!ok) throw new CniError(CNI_ERROR_CODES.ErrIncompatibleCNIVersion, `config version does not allow ${command}`);
    for (const pluginVersion of plugin.versions) {
      let newer: boolean;
      try {
        newer = cniVersionAtLeast(pluginVersion, configVersion);
      } catch (e) {
        throw versionError(e);
      }
      if (newer) {
        const v = reconcile();
        if (fn !== undefined) await fn(args(command, v));
        return;
      }
    }
    throw new CniError(CNI_ERROR_CODES.ErrIncompatibleCNIVersion, `plugin version does not allow ${command}`);
  };

  switch (cmd) {
    case 'ADD': {
      const v = reconcile();
      checkNetns();
      const result = await plugin.add(args('ADD', v));
      io.stdout(formatCniResult(convertCniResult(result, v)));
      return;
    }
    case 'DEL': {
      const v = reconcile();
      checkNetns();
      await plugin.del(args('DEL', v));
      return;
    }
    case 'CHECK':
      return gated('CHECK', '0.4.0', plugin.check);
    case 'GC':
      return gated('GC', '1.1.0', plugin.gc);
    case 'STATUS':
      return gated('STATUS', '1.1.0', plugin.status);
    default:
      throw new CniError(CNI_ERROR_CODES.ErrInvalidEnvironmentVariables, `unknown CNI_COMMAND: ${cmd}`);
  }
}

/**
 * The `prevResult` of a config, read in the config's version as libcni's
 * `version.ParsePrevResult` does (a `prevResult` without `cniVersion` takes the config's).
 * `undefined` when there is none.
 *
 * @throws CniError code 999 `could not parse prevResult: <reason>`.
 * @see containernetworking/cni pkg/version/version.go `ParsePrevResult`
 */
export function parsePrevResult(args: Pick<CniCmdArgs, 'config' | 'cniVersion'>): AnyCniResult | undefined {
  const raw = args.config.prevResult;
  if (raw === undefined || raw === null) return undefined;
  const obj = typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
  const withVersion = obj !== undefined && (typeof obj['cniVersion'] !== 'string' || obj['cniVersion'] === '') ? { ...obj, cniVersion: args.cniVersion } : raw;
  try {
    return parseCniResult(withVersion, args.cniVersion);
  } catch (e) {
    throw new CniError(CNI_ERROR_CODES.ErrInternal, `could not parse prevResult: ${(e as Error).message}`);
  }
}
