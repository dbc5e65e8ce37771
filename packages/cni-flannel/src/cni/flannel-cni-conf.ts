import { CNI_ERROR_CODES, CniError, goJsonKind } from '@knet/core';
import type { CniPluginConf } from '@knet/core';

/** The CNI `type` of the flannel meta plugin (the executable's name in `CNI_PATH`). */
export const FLANNEL_CNI_TYPE = 'flannel';
/** Where the plugin keeps the delegate config of each container (`dataDir`). */
export const DEFAULT_FLANNEL_DATA_DIR = '/var/lib/cni/flannel';
/** The conflist kube-flannel.yml installs. */
export const FLANNEL_CONFLIST_PATH = '/etc/cni/net.d/10-flannel.conflist';

/** The flannel plugin's own configuration (`NetConf`), validated. */
export interface FlannelCniConf {
  readonly name: string;
  /** `''` when absent. */
  readonly cniVersion: string;
  /** `subnetFile`, default `/run/flannel/subnet.env`. */
  readonly subnetFile: string;
  /** `dataDir`, default `/var/lib/cni/flannel`. */
  readonly dataDir: string;
  /** `delegate`: keys passed to the delegate (no `name`, no `ipam`). */
  readonly delegate: Readonly<Record<string, unknown>>;
  /** `ipam`: the base of the delegate's IPAM. */
  readonly ipam?: Readonly<Record<string, unknown>>;
  readonly runtimeConfig?: Readonly<Record<string, unknown>>;
}

function invalidType(field: string, v: unknown, goType: string): never {
  throw new CniError(CNI_ERROR_CODES.ErrInternal, `failed to load netconf: json: cannot unmarshal ${goJsonKind(v)} into Go struct field NetConf.${field} of type ${goType}`);
}

function object(c: Readonly<Record<string, unknown>>, key: string): Readonly<Record<string, unknown>> | undefined {
  const v = c[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) invalidType(key, v, 'map[string]interface {}');
  return v as Record<string, unknown>;
}

function str(c: Readonly<Record<string, unknown>>, key: string, fallback: string): string {
  const v = c[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') invalidType(key, v, 'string');
  return v;
}

/**
 * Reads the flannel plugin's configuration as `loadFlannelNetConf` and `cmdAdd` do: defaults for
 * `subnetFile` and `dataDir`; `delegate` may not set `name` or `ipam`, and its `type` must be a
 * string.
 * @throws CniError code 999 with the plugin's texts: `'delegate' dictionary must not have 'name'
 * field, it'll be set by flannel`, `'delegate' dictionary must not have 'ipam' field, it'll be set
 * by flannel`, `'delegate' dictionary, if present, must have (string) 'type' field`,
 * `failed to load netconf: ...`.
 * @see flannel-io/cni-plugin flannel.go `loadFlannelNetConf`, `cmdAdd`
 */
export function parseFlannelCniConf(config: CniPluginConf, command: 'ADD' | 'DEL' = 'ADD'): FlannelCniConf {
  const c = config as Readonly<Record<string, unknown>>;
  const delegate = object(c, 'delegate');
  if (command === 'ADD' && delegate !== undefined) {
    if (Object.hasOwn(delegate, 'type') && typeof delegate['type'] !== 'string') {
      throw new CniError(CNI_ERROR_CODES.ErrInternal, "'delegate' dictionary, if present, must have (string) 'type' field");
    }
    if (Object.hasOwn(delegate, 'name')) throw new CniError(CNI_ERROR_CODES.ErrInternal, "'delegate' dictionary must not have 'name' field, it'll be set by flannel");
    if (Object.hasOwn(delegate, 'ipam')) throw new CniError(CNI_ERROR_CODES.ErrInternal, "'delegate' dictionary must not have 'ipam' field, it'll be set by flannel");
  }
  const ipam = object(c, 'ipam');
  const runtimeConfig = object(c, 'runtimeConfig');
  return {
    name: str(c, 'name', ''),
    cniVersion: str(c, 'cniVersion', ''),
    subnetFile: str(c, 'subnetFile', '') || '/run/flannel/subnet.env',
    dataDir: str(c, 'dataDir', '') || DEFAULT_FLANNEL_DATA_DIR,
    delegate: delegate ?? {},
    ...(ipam !== undefined ? { ipam } : {}),
    ...(runtimeConfig !== undefined ? { runtimeConfig } : {}),
  };
}

/**
 * The conflist kube-flannel.yml installs as `/etc/cni/net.d/10-flannel.conflist`: network
 * `cbr0`, the flannel plugin delegating to bridge with `hairpinMode` and `isDefaultGateway`, then
 * portmap. (The network is named `cbr0`; the bridge is bridge's default, `cni0`.)
 * @see flannel-io/flannel Documentation/kube-flannel.yml (cni-conf.json)
 */
export function createFlannelConfList(): {
  readonly name: string;
  readonly cniVersion: string;
  readonly plugins: readonly Readonly<Record<string, unknown>>[];
} {
  return {
    name: 'cbr0',
    cniVersion: '0.3.1',
    plugins: [
      { type: FLANNEL_CNI_TYPE, delegate: { hairpinMode: true, isDefaultGateway: true } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}
