import {
  CNI_ERROR_CODES,
  CNI_SPEC_VERSIONS,
  CniError,
  formatGoJson,
  formatIpv4Cidr,
  isKnetError,
  parseCniResult,
  runCniPlugin,
} from '@knet/core';
import type { AnyCniResult, CniCmdArgs, CniPlugin } from '@knet/core';
import { parseSubnetEnv, type SubnetEnv } from '../subnet/subnet-env.js';
import { parseFlannelCniConf, type FlannelCniConf } from './flannel-cni-conf.js';

/** A delegated plugin run (`invoke.DelegateAdd` / `DelegateDel`): same environment, another stdin. */
export interface FlannelDelegateRequest {
  /** The delegate's `type` (`bridge`). */
  readonly type: string;
  readonly command: 'ADD' | 'DEL';
  /** The delegate's configuration, as JSON. */
  readonly stdin: string;
  /** The flannel plugin's own invocation (its environment is passed on). */
  readonly args: CniCmdArgs;
}

/** Runs a delegate and resolves with its stdout (ADD: the result JSON). Throws the delegate's {@link CniError}. */
export type FlannelDelegate = (request: FlannelDelegateRequest) => Promise<string>;

/** Options of {@link createFlannelCniPlugin}. */
export interface FlannelCniPluginOptions {
  /** Reads a file of the node; `undefined` when there is no such file. */
  readonly readFile: (path: string) => Promise<string | undefined>;
  readonly writeFile: (path: string, data: string) => Promise<void>;
  readonly removeFile: (path: string) => Promise<void>;
  readonly delegate: FlannelDelegate;
  readonly about?: string;
}

/** Go's `json.Marshal` of a `map[string]interface{}`: keys sorted, at every map level. */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortedKeys(o[k])]));
  }
  return v;
}

/** The IPAM routes of the config, as `[]types.Route` keeps them (`dst`, and `gw` when set). */
function ipamRoutes(ipam: Readonly<Record<string, unknown>> | undefined): { dst: string; gw?: string }[] {
  const raw = ipam?.['routes'];
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new CniError(CNI_ERROR_CODES.ErrInternal, `failed to assemble Delegate IPAM: failed to read IPAM routes: failed to parse ipam.routes: json: cannot unmarshal ${typeof raw} into Go value of type []types.Route`);
  return raw.map((r: unknown) => {
    const o = (r ?? {}) as Record<string, unknown>;
    return { dst: String(o['dst'] ?? ''), ...(typeof o['gw'] === 'string' && o['gw'] !== '' ? { gw: o['gw'] } : {}) };
  });
}

/**
 * The delegate configuration flannel builds (`doCmdAdd`, `getDelegateIPAM`): the config's
 * `delegate` keys, then `name` (the network's), `type` (default `bridge`), `ipMasq` (default
 * `!FLANNEL_IPMASQ`), `mtu` (default `FLANNEL_MTU`), for bridge `isGateway` (default true),
 * `cniVersion` (when set), `runtimeConfig` (when set), and `ipam` = the config's `ipam` with
 * `type` defaulting to `host-local`, `ranges` forced to `[[{"subnet": <FLANNEL_SUBNET's
 * network>}]]` and `routes` = its routes + `{"dst": <FLANNEL_NETWORK>}`.
 * @see flannel-io/cni-plugin flannel_linux.go `doCmdAdd`, `getDelegateIPAM`
 * @example
 * ```ts
 * import { flannelDelegateConf } from '@knet/cni-flannel';
 * // { hairpinMode: true, isDefaultGateway: true, name: 'cbr0', type: 'bridge', ipMasq: false, mtu: 1450, isGateway: true, cniVersion: '0.3.1', ipam: {...} }
 * ```
 */
export function flannelDelegateConf(conf: FlannelCniConf, env: SubnetEnv): Record<string, unknown> {
  const d: Record<string, unknown> = { ...conf.delegate };
  if (conf.runtimeConfig !== undefined) d['runtimeConfig'] = conf.runtimeConfig;
  d['name'] = conf.name;
  if (!Object.hasOwn(d, 'type')) d['type'] = 'bridge';
  if (!Object.hasOwn(d, 'ipMasq')) d['ipMasq'] = !env.ipMasq;
  if (!Object.hasOwn(d, 'mtu')) d['mtu'] = env.mtu;
  if (d['type'] === 'bridge' && !Object.hasOwn(d, 'isGateway')) d['isGateway'] = true;
  if (conf.cniVersion !== '') d['cniVersion'] = conf.cniVersion;
  const ipam: Record<string, unknown> = { ...(conf.ipam ?? {}) };
  if (!Object.hasOwn(ipam, 'type')) ipam['type'] = 'host-local';
  ipam['ranges'] = [[{ subnet: formatIpv4Cidr(env.subnet) }]];
  ipam['routes'] = [...ipamRoutes(conf.ipam), { dst: formatIpv4Cidr(env.network) }];
  d['ipam'] = ipam;
  return d;
}

/**
 * Runs in-process CNI plugins as delegates (`invoke.DelegateAdd` without a process): the
 * flannel plugin's environment with `CNI_COMMAND` set, the delegate config on stdin.
 * @throws CniError the delegate's error; an Error `failed to find plugin "<type>" in path [...]` for a type it does not have.
 * @example
 * ```ts
 * import { createBridgeCniPlugin, createSimHost, MemoryIpamStore } from '@knet/core';
 * import { inProcessDelegate } from '@knet/cni-flannel';
 * const store = new MemoryIpamStore();
 * const delegate = inProcessDelegate({ bridge: createBridgeCniPlugin({ host: createSimHost(), hostNetns: 'knet-node', ipamStore: () => store }) });
 * ```
 */
export function inProcessDelegate(plugins: Readonly<Record<string, CniPlugin>>): FlannelDelegate {
  return async ({ type, command, stdin, args }) => {
    const plugin = plugins[type];
    if (plugin === undefined) {
      // invoke.FindInPath's error: a plain error, which flannel wraps (`failed to delegate add: ...`).
      const path = args.path === '' ? [] : args.path.split(':');
      throw new Error(`failed to find plugin "${type}" in path [${path.join(' ')}]`);
    }
    let out = '';
    const code = await runCniPlugin(plugin, {
      env: {
        CNI_COMMAND: command,
        CNI_CONTAINERID: args.containerId,
        CNI_NETNS: args.netns,
        CNI_IFNAME: args.ifname,
        CNI_ARGS: args.args,
        CNI_PATH: args.path,
        ...(args.netnsOverride !== '' ? { CNI_NETNS_OVERRIDE: args.netnsOverride } : {}),
      },
      stdin,
      stdout: (t) => {
        out += t;
      },
    });
    if (code !== 0) {
      const e = JSON.parse(out) as { code?: number; msg?: string; details?: string };
      throw new CniError(e.code ?? CNI_ERROR_CODES.ErrInternal, e.msg ?? '', e.details ?? '');
    }
    return out;
  };
}

/**
 * The `flannel` CNI meta plugin: reads flanneld's `subnet.env`, builds the delegate configuration
 * ({@link flannelDelegateConf}), saves it under `dataDir/<containerID>` and delegates ADD to it
 * (the bridge plugin with host-local by default); DEL reads the saved config back and delegates
 * DEL, succeeding when there is none, and removes it when the delegate succeeded.
 *
 * @remarks
 * Linux equivalent: `/opt/cni/bin/flannel` from flannel-io/cni-plugin, run by the runtime from
 * `/etc/cni/net.d/10-flannel.conflist`. The saved delegate config is Go's `json.Marshal` of a map:
 * keys sorted. ADD's result is the delegate's. Errors: `failed to load flannel 'subnet.env' file:
 * <why>. Check the flannel pod log for this node.`; a delegate's CNI error comes back unchanged
 * (skel unwraps it), another is `failed to delegate add: <why>`. CHECK succeeds without looking,
 * as upstream's does (its cmdCheck returns nil without checking); upstream has no GC or STATUS either.
 * @see flannel-io/cni-plugin flannel.go, flannel_linux.go
 */
export function createFlannelCniPlugin(options: FlannelCniPluginOptions): CniPlugin {
  async function loadEnv(file: string): Promise<SubnetEnv> {
    let text: string | undefined;
    let why: string;
    try {
      text = await options.readFile(file);
      why = `open ${file}: no such file or directory`;
    } catch (e) {
      why = (e as Error).message;
    }
    if (text !== undefined) {
      try {
        return parseSubnetEnv(text, file);
      } catch (e) {
        if (!isKnetError(e)) throw e;
        why = e.message;
      }
    }
    throw new CniError(CNI_ERROR_CODES.ErrInternal, `failed to load flannel 'subnet.env' file: ${why}. Check the flannel pod log for this node.`);
  }

  const scratch = (conf: FlannelCniConf, containerId: string): string => `${conf.dataDir.replace(/\/+$/, '')}/${containerId}`;

  return {
    versions: CNI_SPEC_VERSIONS,
    ...(options.about !== undefined ? { about: options.about } : {}),
    async add(a): Promise<AnyCniResult> {
      const conf = parseFlannelCniConf(a.config, 'ADD');
      const env = await loadEnv(conf.subnetFile);
      const delegate = flannelDelegateConf(conf, env);
      const bytes = formatGoJson(sortedKeys(delegate));
      await options.writeFile(scratch(conf, a.containerId), bytes);
      let out: string;
      try {
        out = await options.delegate({ type: String(delegate['type']), command: 'ADD', stdin: bytes, args: a });
      } catch (e) {
        if (e instanceof CniError) throw e;
        throw new CniError(CNI_ERROR_CODES.ErrInternal, `failed to delegate add: ${(e as Error).message}`);
      }
      const version = typeof delegate['cniVersion'] === 'string' ? delegate['cniVersion'] : a.cniVersion;
      return parseCniResult(JSON.parse(out) as unknown, version);
    },
    async del(a) {
      const conf = parseFlannelCniConf(a.config, 'DEL');
      const path = scratch(conf, a.containerId);
      const bytes = await options.readFile(path);
      if (bytes === undefined) return;
      let type: unknown;
      try {
        type = (JSON.parse(bytes) as { type?: unknown }).type;
      } catch {
        // "failed to parse netconf": the interface stays until the node reboots; DEL succeeds.
        return;
      }
      await options.delegate({ type: String(type ?? ''), command: 'DEL', stdin: bytes, args: a });
      await options.removeFile(path);
    },
    async check() {
      // flannel-io/cni-plugin's cmdCheck returns nil without checking anything; so does this.
    },
  };
}
