import { CNI_ERROR_CODES, CniError, goJsonKind, isKnetError, parseCniArgs, parseHostLocalConf, parseMac, tryParseIpv4 } from '@knet/core';
import type { ClusterNode, CniDns, CniPluginConf, HostLocalConfig, HostLocalNetConf, Mac } from '@knet/core';
import { createKubenetNetConf, KUBENET_BRIDGE } from '../kubenet-net-conf.js';
import type { HairpinMode } from '../kubenet-options.js';

/** The CNI `type` of knet's kubenet plugin: the name of its executable in `CNI_PATH`. */
export const KNET_KUBENET_CNI_TYPE = 'knet-kubenet';

/**
 * The configuration of the `knet-kubenet` CNI plugin, validated: the bridge plugin's keys that
 * kubenet uses, and host-local's `ipam`.
 */
export interface KubenetCniConf {
  readonly name: string;
  readonly cniVersion: string;
  /** Default `cbr0` (kubenet's bridge; the bridge plugin's own default is `cni0`). */
  readonly bridge: string;
  /** Absent: the kernel default. */
  readonly mtu?: number;
  /** Gateway on the bridge and forwarding on (kubenet: true). `isDefaultGateway` implies it. */
  readonly isGateway: boolean;
  /** Add a default route via the gateway unless the IPAM routes have one with a `gw`. */
  readonly isDefaultGateway: boolean;
  /** Replace a different IPv4 address on the bridge instead of failing. */
  readonly forceAddress: boolean;
  /** The hairpin flag on the host veth's bridge port (kubelet `--hairpin-mode=hairpin-veth`). */
  readonly hairpinMode: boolean;
  /** The bridge in promiscuous mode (kubelet's default `--hairpin-mode=promiscuous-bridge`). */
  readonly promiscMode: boolean;
  /** `dns` of the config: overrides the IPAM's in the result. */
  readonly dns?: CniDns;
  /** host-local's configuration (with CNI_ARGS `IP=`). */
  readonly ipam: HostLocalConfig;
  /** The container interface's MAC: CNI_ARGS `MAC=`, then `args.cni.mac`, then `runtimeConfig.mac` (the later wins). */
  readonly mac?: Mac;
}

function invalid(msg: string): never {
  throw new CniError(CNI_ERROR_CODES.ErrInvalidNetworkConfig, msg);
}

function unsupported(key: string, value: unknown): never {
  throw new CniError(CNI_ERROR_CODES.ErrUnsupportedField, `knet-kubenet does not support ${key}: ${JSON.stringify(value)}`, key);
}

function typed<T>(conf: Readonly<Record<string, unknown>>, key: string, kind: 'bool' | 'int' | 'string', fallback: T): T {
  const v = conf[key];
  if (v === undefined || v === null) return fallback;
  const ok = kind === 'bool' ? typeof v === 'boolean' : kind === 'string' ? typeof v === 'string' : typeof v === 'number' && Number.isInteger(v);
  if (!ok) {
    const goType = kind === 'int' ? 'int' : kind;
    invalid(`failed to load netconf: json: cannot unmarshal ${goJsonKind(v)} into Go struct field NetConf.${key} of type ${goType}`);
  }
  return v as T;
}

function mac(text: unknown, where: string): Mac {
  try {
    return parseMac(String(text));
  } catch {
    return invalid(`failed to parse mac address from ${where}: ${String(text)}`);
  }
}

/**
 * Reads and checks a `knet-kubenet` configuration, as the bridge plugin's `loadNetConf` and
 * host-local's `LoadIPAMConfig` would.
 *
 * @param config The configuration from stdin.
 * @param cniArgs `CNI_ARGS` (`IP=` and `MAC=` are read; other keys need `IgnoreUnknown=1`).
 * @throws CniError code 7 for a wrong type or an invalid `ipam` (`IPAM config missing 'ipam'
 * key`, `invalid range set 0: ...`), `cannot set hairpin mode and promiscuous mode at the same
 * time`, a bad MTU or MAC; code 2 for what knet-kubenet does not implement: `ipMasq: true`
 * (kubenet masquerades with its own rule), `vlan`, an `ipam.type` other than `host-local`;
 * code 999 for bad `CNI_ARGS` (`ARGS: unknown args [...]`).
 * @see containernetworking/plugins plugins/main/bridge/bridge.go `loadNetConf`
 */
export function parseKubenetCniConf(config: CniPluginConf, cniArgs = ''): KubenetCniConf {
  const c = config as Readonly<Record<string, unknown>>;
  const bridge = typed(c, 'bridge', 'string', KUBENET_BRIDGE) || KUBENET_BRIDGE;
  const mtu = typed<number | undefined>(c, 'mtu', 'int', undefined);
  if (mtu !== undefined && mtu !== 0 && (mtu < 68 || mtu > 65535)) invalid(`invalid MTU ${mtu}: not between 68 and 65535`);
  const isDefaultGateway = typed(c, 'isDefaultGateway', 'bool', false);
  const isGateway = typed(c, 'isGateway', 'bool', false) || isDefaultGateway;
  const forceAddress = typed(c, 'forceAddress', 'bool', false);
  const hairpinMode = typed(c, 'hairpinMode', 'bool', false);
  const promiscMode = typed(c, 'promiscMode', 'bool', false);
  if (typed(c, 'ipMasq', 'bool', false)) unsupported('ipMasq', true);
  const vlan = typed(c, 'vlan', 'int', 0);
  if (vlan !== 0) unsupported('vlan', vlan);
  if (hairpinMode && promiscMode) invalid('cannot set hairpin mode and promiscuous mode at the same time');
  const ipamType = config.ipam?.type;
  if (ipamType === undefined || ipamType === '') invalid("IPAM config missing 'ipam' key");
  if (ipamType !== 'host-local') unsupported('ipam.type', ipamType);

  let args: Record<string, string>;
  try {
    args = {
      ...parseCniArgs(cniArgs, ['IP', 'MAC'], (k, v) => {
        if (k === 'IP' && v !== '' && tryParseIpv4(v.split('/')[0] as string) === undefined) throw new Error(`invalid IP address: ${v}`);
      }).values,
    };
  } catch (e) {
    throw new CniError(CNI_ERROR_CODES.ErrInternal, (e as Error).message);
  }
  let ipam: HostLocalConfig;
  try {
    ipam = parseHostLocalConf(config as unknown as HostLocalNetConf, args['IP'] !== undefined ? { cniArgsIP: args['IP'] } : {});
  } catch (e) {
    if (isKnetError(e)) invalid(e.message);
    throw e;
  }

  let m: Mac | undefined;
  if (args['MAC'] !== undefined && args['MAC'] !== '') m = mac(args['MAC'], 'CNI_ARGS');
  const argsMac = (config.args?.['cni'] as Record<string, unknown> | undefined)?.['mac'];
  if (argsMac !== undefined) m = mac(argsMac, 'args.cni.mac');
  const rcMac = config.runtimeConfig?.['mac'];
  if (rcMac !== undefined) m = mac(rcMac, 'runtimeConfig.mac');

  return {
    name: String(config.name ?? ''),
    cniVersion: String(config.cniVersion ?? ''),
    bridge,
    ...(mtu !== undefined && mtu !== 0 ? { mtu } : {}),
    isGateway,
    isDefaultGateway,
    forceAddress,
    hairpinMode,
    promiscMode,
    ...(config.dns !== undefined ? { dns: config.dns } : {}),
    ipam,
    ...(m !== undefined ? { mac: m } : {}),
  };
}

/** Options of {@link createKubenetCniConfList}. */
export interface KubenetCniConfListOptions {
  /** The MTU kubenet computed (`--network-plugin-mtu`, else the node's). Default 1460, kubenet's fallback. */
  readonly mtu?: number;
  /** kubelet's `--hairpin-mode`. Default `promiscuous-bridge`. */
  readonly hairpinMode?: HairpinMode;
  /** Default `1.0.0`. */
  readonly cniVersion?: string;
  /** host-local's `dataDir`. Default `/var/lib/cni/networks`. */
  readonly dataDir?: string;
}

/**
 * The network configuration list that runs `knet-kubenet` for `node`: kubenet's generated
 * bridge config (`cbr0`, gateway on, the pod CIDR in host-local, a default route) with the
 * plugin type `knet-kubenet`, and kubelet's hairpin mode expressed as the bridge plugin's
 * `promiscMode` (`promiscuous-bridge`) or `hairpinMode` (`hairpin-veth`).
 *
 * @remarks Linux equivalent: what kubenet builds in memory on the pod CIDR event
 * (`NET_CONFIG_TEMPLATE`); kubenet sets promiscuous mode on cbr0 itself instead of through the
 * bridge config. Write it to `/etc/cni/net.d/10-kubenet.conflist`.
 * @example
 * ```ts
 * import { createKubenetCniConfList } from '@knet/kubenet';
 * const list = createKubenetCniConfList(
 *   { name: 'node-1', labels: {}, internalIP: '192.168.0.11', podCIDR: '10.244.1.0/24', podCIDRAllocated: false });
 * list.plugins[0]?.type; // 'knet-kubenet'
 * ```
 */
export function createKubenetCniConfList(node: ClusterNode, options: KubenetCniConfListOptions = {}): {
  readonly cniVersion: string;
  readonly name: string;
  readonly plugins: readonly CniPluginConf[];
} {
  const mode = options.hairpinMode ?? 'promiscuous-bridge';
  const base = createKubenetNetConf(node, options.mtu ?? 1460, mode);
  const { cniVersion: _v, name: _n, type: _t, addIf: _a, ipam, ...bridge } = base;
  return {
    cniVersion: options.cniVersion ?? '1.0.0',
    name: base.name,
    plugins: [
      {
        type: KNET_KUBENET_CNI_TYPE,
        ...bridge,
        promiscMode: mode === 'promiscuous-bridge',
        ipam: { ...ipam, ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}) },
      },
    ],
  };
}
