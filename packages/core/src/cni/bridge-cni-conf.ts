import { isKnetError } from '../errors/knet-error.js';
import { tryParseIpv4 } from '../ip/ipv4.js';
import { parseMac, type Mac } from '../ip/mac.js';
import { parseHostLocalConf, type HostLocalConfig, type HostLocalNetConf } from '../ipam/host-local-conf.js';
import { parseCniArgs } from './cni-args.js';
import { CNI_ERROR_CODES, CniError } from './cni-error.js';
import type { CniDns, CniPluginConf } from './cni-types.js';
import { goJsonKind } from './go-json.js';

/** The bridge plugin's default bridge name. @see containernetworking/plugins plugins/main/bridge/bridge.go `defaultBrName` */
export const DEFAULT_BRIDGE_NAME = 'cni0';

/** A `bridge` plugin configuration, validated (the keys knet's bridge implements). */
export interface BridgeCniConf {
  readonly name: string;
  readonly cniVersion: string;
  /** Default `cni0`. */
  readonly bridge: string;
  /** Absent: the kernel default (1500). */
  readonly mtu?: number;
  /** Gateway address on the bridge and IPv4 forwarding on. `isDefaultGateway` implies it. */
  readonly isGateway: boolean;
  /** Add a default route via the gateway unless the IPAM routes have one with a `gw`. */
  readonly isDefaultGateway: boolean;
  /** Replace a different IPv4 address on the bridge instead of failing. */
  readonly forceAddress: boolean;
  /** Masquerade the pod's traffic leaving its subnet through a per-container chain (`CNI-<hash>`). */
  readonly ipMasq: boolean;
  readonly hairpinMode: boolean;
  readonly promiscMode: boolean;
  /** `dns` of the config: overrides the IPAM's in the result. */
  readonly dns?: CniDns;
  /** host-local's configuration (with CNI_ARGS `IP=`). */
  readonly ipam: HostLocalConfig;
  /** CNI_ARGS `MAC=`, then `args.cni.mac`, then `runtimeConfig.mac` (the later wins). */
  readonly mac?: Mac;
}

function invalid(msg: string): never {
  throw new CniError(CNI_ERROR_CODES.ErrInvalidNetworkConfig, msg);
}

/** Options of {@link parseBridgeCniConf}, for plugins that reuse the bridge plugin's configuration. */
export interface ParseBridgeCniConfOptions {
  /** The bridge when the config names none (default `cni0`; kubenet's is `cbr0`). */
  readonly defaultBridge?: string;
  /** The plugin named in "does not support" errors (default `knet's bridge`). */
  readonly plugin?: string;
  /** Refuse `ipMasq: true` (kubenet masquerades with its own rule). Default false. */
  readonly refuseIpMasq?: boolean;
  /** Refuse the bridge keys knet does not implement besides `vlan` (`vlanTrunk`, `macspoofchk`, ...). Default true. */
  readonly refuseUnimplemented?: boolean;
}

function typed<T>(conf: Readonly<Record<string, unknown>>, key: string, kind: 'bool' | 'int' | 'string', fallback: T): T {
  const v = conf[key];
  if (v === undefined || v === null) return fallback;
  const ok = kind === 'bool' ? typeof v === 'boolean' : kind === 'string' ? typeof v === 'string' : typeof v === 'number' && Number.isInteger(v);
  if (!ok) invalid(`failed to load netconf: json: cannot unmarshal ${goJsonKind(v)} into Go struct field NetConf.${key} of type ${kind}`);
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
 * Reads and checks a `bridge` plugin configuration as `loadNetConf` and host-local's
 * `LoadIPAMConfig` do.
 *
 * @param cniArgs `CNI_ARGS` (`IP=` and `MAC=` are read; other keys need `IgnoreUnknown=1`).
 * @throws CniError code 7 for a wrong type, a bad MTU or MAC, an invalid `ipam` (`IPAM config
 * missing 'ipam' key`, `invalid range set 0: ...`), `cannot set hairpin mode and promiscuous mode
 * at the same time`; code 2 for what knet's bridge does not implement (`vlan`, `vlanTrunk`,
 * `macspoofchk`, `enabledad`, `disableContainerInterface`, `portIsolation`, an `ipam.type` other
 * than `host-local`); code 999 for bad `CNI_ARGS`.
 * @see containernetworking/plugins plugins/main/bridge/bridge.go `loadNetConf`
 */
export function parseBridgeCniConf(config: CniPluginConf, cniArgs = '', options: ParseBridgeCniConfOptions = {}): BridgeCniConf {
  const plugin = options.plugin ?? "knet's bridge";
  const unsupported = (key: string, value: unknown): never => {
    throw new CniError(CNI_ERROR_CODES.ErrUnsupportedField, `${plugin} does not support ${key}: ${JSON.stringify(value)}`, key);
  };
  const c = config as Readonly<Record<string, unknown>>;
  const defaultBridge = options.defaultBridge ?? DEFAULT_BRIDGE_NAME;
  const bridge = typed(c, 'bridge', 'string', defaultBridge) || defaultBridge;
  const mtu = typed<number | undefined>(c, 'mtu', 'int', undefined);
  if (mtu !== undefined && mtu !== 0 && (mtu < 68 || mtu > 65535)) invalid(`invalid MTU ${mtu}: not between 68 and 65535`);
  const isDefaultGateway = typed(c, 'isDefaultGateway', 'bool', false);
  const isGateway = typed(c, 'isGateway', 'bool', false) || isDefaultGateway;
  const forceAddress = typed(c, 'forceAddress', 'bool', false);
  const ipMasq = typed(c, 'ipMasq', 'bool', false);
  if (ipMasq && options.refuseIpMasq === true) unsupported('ipMasq', true);
  const hairpinMode = typed(c, 'hairpinMode', 'bool', false);
  const promiscMode = typed(c, 'promiscMode', 'bool', false);
  if (typed(c, 'vlan', 'int', 0) !== 0) unsupported('vlan', c['vlan']);
  for (const key of options.refuseUnimplemented === false ? [] : ['vlanTrunk', 'macspoofchk', 'enabledad', 'disableContainerInterface', 'portIsolation']) {
    const v = c[key];
    if (v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0)) unsupported(key, v);
  }
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
    ipMasq,
    hairpinMode,
    promiscMode,
    ...(config.dns !== undefined ? { dns: config.dns } : {}),
    ipam,
    ...(m !== undefined ? { mac: m } : {}),
  };
}
