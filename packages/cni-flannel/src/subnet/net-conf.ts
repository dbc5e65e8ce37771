import { KnetError, formatIpv4, formatIpv4Cidr, parseIpv4Cidr, prefixMask, tryParseIpv4 } from '@knet/core';
import type { Ipv4Cidr } from '@knet/core';

/** The etcd key prefix flanneld uses by default (`--etcd-prefix`). */
export const DEFAULT_ETCD_PREFIX = '/coreos.com/network';

/** Where kube-flannel.yml mounts the network configuration (`--net-config-path`). */
export const NET_CONF_PATH = '/etc/kube-flannel/net-conf.json';

/**
 * flannel's network configuration (`net-conf.json`, or the value of `/coreos.com/network/config`),
 * read as `subnet.ParseConfig` reads it and, in etcd mode, completed by `CheckNetworkConfig`.
 */
export interface FlannelNetConf {
  /** `Network`, e.g. `10.244.0.0/16` (host bits are masked, as `net.ParseCIDR` does). */
  readonly network: Ipv4Cidr;
  readonly enableIPv4: boolean;
  readonly enableIPv6: boolean;
  readonly enableNFTables: boolean;
  /** `SubnetLen`; 0 when unset and not yet checked (kube mode never fills it). */
  readonly subnetLen: number;
  /** `SubnetMin` / `SubnetMax` as numbers; 0 when unset and not yet checked. */
  readonly subnetMin: number;
  readonly subnetMax: number;
  /**
   * `Backend.Type`. **`udp` when `Backend` is absent**: that is what `parseBackendType` returns
   * (flannel's documentation says vxlan; knet follows the code).
   */
  readonly backendType: string;
  /** The `Backend` object as written (its backend reads its own options from it). */
  readonly backend?: Readonly<Record<string, unknown>>;
}

function invalid(message: string, field: string, value?: unknown): never {
  throw new KnetError('EINVAL', message, { field, ...(value !== undefined ? { value } : {}) });
}

/**
 * Go's `encoding/json` field matching: the exact key, else the first key equal under Unicode case
 * folding (ASCII here).
 */
export function goField(obj: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  const key = Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : obj[key];
}

function asBool(v: unknown, field: string, fallback: boolean): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') invalid(`json: cannot unmarshal ${typeof v} into Go struct field Config.${field} of type bool`, field, v);
  return v;
}

function asIp4(v: unknown, field: string): number {
  if (v === undefined || v === null || v === '') return 0;
  const ip = typeof v === 'string' ? tryParseIpv4(v) : undefined;
  if (ip === undefined) invalid(`invalid IP address in ${field}: ${JSON.stringify(v)}`, field, v);
  return ip;
}

/**
 * Parses a `net-conf.json` text or object as flannel's `subnet.ParseConfig` does: field names
 * matched case-insensitively (Go's `encoding/json`), `EnableIPv4` on by default, `Network` a CIDR,
 * `SubnetLen` an unsigned number, `SubnetMin`/`SubnetMax` addresses, and the backend type from
 * `Backend.Type` — `udp` when `Backend` is absent (the code's default; the docs say vxlan).
 *
 * @throws KnetError `EINVAL` (field in `details.field`) for JSON that does not decode or a field
 * of the wrong type; `EOPNOTSUPP` for IPv6 (knet is IPv4-only, ADR 0002).
 * @see flannel-io/flannel pkg/subnet/config.go `ParseConfig`, `parseBackendType`
 * @example
 * ```ts
 * import { parseNetConf } from '@knet/cni-flannel';
 * parseNetConf('{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}').backendType; // 'vxlan'
 * parseNetConf('{"Network":"10.244.0.0/16"}').backendType; // 'udp'
 * ```
 */
export function parseNetConf(input: string | Readonly<Record<string, unknown>>): FlannelNetConf {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch (e) {
      invalid(`error parsing subnet config: ${(e as Error).message}`, 'net-conf.json');
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) invalid('error parsing subnet config: not a JSON object', 'net-conf.json', raw);
  const o = raw as Readonly<Record<string, unknown>>;
  const enableIPv4 = asBool(goField(o, 'EnableIPv4'), 'EnableIPv4', true);
  const enableIPv6 = asBool(goField(o, 'EnableIPv6'), 'EnableIPv6', false);
  const enableNFTables = asBool(goField(o, 'EnableNFTables'), 'EnableNFTables', false);
  if (enableIPv6) throw new KnetError('EOPNOTSUPP', 'EnableIPv6: knet models IPv4 only (ADR 0002)', { field: 'EnableIPv6' });
  const netText = goField(o, 'Network');
  let network: Ipv4Cidr = { address: 0, prefix: 0 };
  if (netText !== undefined && netText !== null && netText !== '') {
    if (typeof netText !== 'string') invalid(`json: cannot unmarshal ${typeof netText} into Go struct field Config.Network of type ip.IP4Net`, 'Network', netText);
    try {
      network = parseIpv4Cidr(netText, { strict: false });
    } catch {
      invalid(`invalid CIDR address: ${netText}`, 'Network', netText);
    }
  }
  const len = goField(o, 'SubnetLen');
  if (len !== undefined && len !== null && !(typeof len === 'number' && Number.isInteger(len) && len >= 0)) {
    invalid(`json: cannot unmarshal ${JSON.stringify(len)} into Go struct field Config.SubnetLen of type uint`, 'SubnetLen', len);
  }
  const backend = goField(o, 'Backend');
  let backendType = 'udp';
  if (backend !== undefined && backend !== null) {
    if (typeof backend !== 'object' || Array.isArray(backend)) invalid(`error decoding Backend property of config: json: cannot unmarshal ${Array.isArray(backend) ? 'array' : typeof backend} into Go value of type struct { Type string }`, 'Backend', backend);
    const t = goField(backend as Record<string, unknown>, 'Type');
    if (t !== undefined && t !== null && typeof t !== 'string') invalid('error decoding Backend property of config: json: cannot unmarshal into Go struct field .Type of type string', 'Backend.Type', t);
    backendType = typeof t === 'string' ? t : '';
  }
  return {
    network,
    enableIPv4,
    enableIPv6,
    enableNFTables,
    subnetLen: typeof len === 'number' ? len : 0,
    subnetMin: asIp4(goField(o, 'SubnetMin'), 'SubnetMin'),
    subnetMax: asIp4(goField(o, 'SubnetMax'), 'SubnetMax'),
    backendType,
    ...(backend !== undefined && backend !== null ? { backend: backend as Readonly<Record<string, unknown>> } : {}),
  };
}

/**
 * flannel's `CheckNetworkConfig` (etcd mode): `SubnetLen` defaults to 24 when the Network is /22
 * or larger, else prefix + 2 (a Network smaller than /28 is refused); a given `SubnetLen` must be
 * at most 30 and at least prefix + 2; `SubnetMin` defaults to the Network plus one subnet (the
 * first subnet is skipped), `SubnetMax` to the last subnet; both inside the Network and aligned.
 *
 * @throws KnetError `EINVAL` with flannel's texts: `please define a correct Network parameter in
 * the flannel config`, `SubnetLen must be less than /31`, `network must be able to accommodate at
 * least four subnets`, `network is too small. Minimum useful network prefix is /28`, `SubnetMin
 * is not in the range of the Network`, `SubnetMin is not on a SubnetLen boundary: <ip>`, ...
 * @see flannel-io/flannel pkg/subnet/config.go `CheckNetworkConfig`
 * @example
 * ```ts
 * import { checkNetConf, parseNetConf } from '@knet/cni-flannel';
 * const c = checkNetConf(parseNetConf('{"Network":"10.244.0.0/16"}'));
 * c.subnetLen; // 24 (SubnetMin 10.244.1.0, SubnetMax 10.244.255.0)
 * ```
 */
export function checkNetConf(conf: FlannelNetConf): FlannelNetConf {
  if (!conf.enableIPv4) return conf;
  if (conf.network.prefix === 0 && conf.network.address === 0) invalid('please define a correct Network parameter in the flannel config', 'Network');
  let subnetLen = conf.subnetLen;
  const p = conf.network.prefix;
  if (subnetLen > 0) {
    if (subnetLen > 30) invalid('SubnetLen must be less than /31', 'SubnetLen', subnetLen);
    if (subnetLen < p + 2) invalid('network must be able to accommodate at least four subnets', 'SubnetLen', subnetLen);
  } else if (p > 28) {
    invalid('network is too small. Minimum useful network prefix is /28', 'Network', formatIpv4Cidr(conf.network));
  } else {
    subnetLen = p <= 22 ? 24 : p + 2;
  }
  const size = 2 ** (32 - subnetLen);
  const last = conf.network.address + 2 ** (32 - p);
  const inNetwork = (ip: number): boolean => ((ip & prefixMask(p)) >>> 0) === conf.network.address;
  let subnetMin = conf.subnetMin;
  if (subnetMin === 0) subnetMin = conf.network.address + size;
  else if (!inNetwork(subnetMin)) invalid('SubnetMin is not in the range of the Network', 'SubnetMin', formatIpv4(subnetMin));
  let subnetMax = conf.subnetMax;
  if (subnetMax === 0) subnetMax = last - size;
  else if (!inNetwork(subnetMax)) invalid('SubnetMax is not in the range of the Network', 'SubnetMax', formatIpv4(subnetMax));
  const mask = prefixMask(subnetLen);
  if (((subnetMin & mask) >>> 0) !== subnetMin) invalid(`SubnetMin is not on a SubnetLen boundary: ${formatIpv4(subnetMin)}`, 'SubnetMin', formatIpv4(subnetMin));
  if (((subnetMax & mask) >>> 0) !== subnetMax) invalid(`SubnetMax is not on a SubnetLen boundary: ${formatIpv4(subnetMax)}`, 'SubnetMax', formatIpv4(subnetMax));
  return { ...conf, subnetLen, subnetMin, subnetMax };
}
