import { KnetError } from '../errors/knet-error.js';
import { tryParseIpv4 } from '../ip/ipv4.js';
import { DEFAULT_HOST_LOCAL_DATA_DIR } from './ipam-store.js';
import { canonicalizeRange, canonicalizeRangeSet, rangeSetsOverlap } from './range-set.js';
import type { RangeConf, RangeSet } from './range-set.js';

/** A route host-local copies into its result (`ipam.routes[]`). */
export interface HostLocalRouteConf {
  /** Destination CIDR (`0.0.0.0/0`). */
  readonly dst: string;
  /** Gateway; absent means "the gateway of the address of the same family" to the caller. */
  readonly gw?: string;
}

/**
 * The `ipam` object of a network config whose `ipam.type` is `host-local`, as the user writes it.
 *
 * @see https://www.cni.dev/plugins/current/ipam/host-local/
 */
export interface HostLocalIpamConf extends Partial<RangeConf> {
  readonly type: string;
  /** A list of range sets; one address is returned per set. */
  readonly ranges?: readonly (readonly RangeConf[])[];
  readonly routes?: readonly HostLocalRouteConf[];
  /** Default `/var/lib/cni/networks`. */
  readonly dataDir?: string;
  /** A resolv.conf to turn into the result's `dns`. */
  readonly resolvConf?: string;
}

/**
 * The network config host-local receives on stdin: the calling plugin's whole config (host-local
 * reads `name`, `cniVersion`, `ipam`, `runtimeConfig` and `args`).
 */
export interface HostLocalNetConf {
  readonly name: string;
  readonly cniVersion?: string;
  readonly ipam?: HostLocalIpamConf;
  readonly runtimeConfig?: {
    /** The `ipRanges` capability: range sets put in front of `ipam.ranges`. */
    readonly ipRanges?: readonly (readonly RangeConf[])[];
    /** The `ips` capability: requested addresses, `a.b.c.d` or `a.b.c.d/len`. */
    readonly ips?: readonly string[];
  };
  readonly args?: { readonly cni?: { readonly ips?: readonly string[] } };
}

/** Options of {@link parseHostLocalConf}. */
export interface ParseHostLocalConfOptions {
  /** The `IP=` value of CNI_ARGS (the runtime splits CNI_ARGS; this is the one key host-local reads). */
  readonly cniArgsIP?: string;
}

/** A validated host-local configuration (upstream `IPAMConfig` after `LoadIPAMConfig`). */
export interface HostLocalConfig {
  /** The network name: names the store directory `<dataDir>/<name>/`. */
  readonly name: string;
  readonly cniVersion: string;
  /** Range sets in order: `runtimeConfig.ipRanges`, the legacy top-level range, `ipam.ranges`. */
  readonly rangeSets: readonly RangeSet[];
  readonly routes: readonly HostLocalRouteConf[];
  readonly dataDir: string;
  readonly resolvConf?: string;
  /** Requested addresses, unsigned 32-bit, deduplicated, in CNI_ARGS → args → runtimeConfig order. */
  readonly requestedIPs: readonly number[];
}

/** `pkg/version.ParseVersion`: "" is 0.1.0; at most three numeric parts. */
function parseCniVersion(v: string): [number, number, number] | undefined {
  if (v === '') return [0, 1, 0];
  const parts = v.split('.');
  if (parts.length > 3 || parts.some((p) => !/^\d+$/.test(p))) return undefined;
  return [Number(parts[0]), Number(parts[1] ?? 0), Number(parts[2] ?? 0)];
}

function versionAtLeast(v: string, major: number, minor: number, micro: number): boolean {
  const p = parseCniVersion(v);
  if (p === undefined) return false;
  const [a, b, c] = p;
  return a !== major ? a > major : b !== minor ? b > minor : c >= micro;
}

function parseRequested(text: string, field: string): number {
  // pkg/ip.IP accepts "a.b.c.d" and "a.b.c.d/len"; only the address matters here.
  const slash = text.indexOf('/');
  const ip = tryParseIpv4(slash < 0 ? text : text.slice(0, slash));
  if (ip === undefined) {
    if (text.includes(':')) throw new KnetError('EOPNOTSUPP', `IPv6 address ${text} is not supported: knet models IPv4 only`, { field, value: text });
    throw new KnetError('EINVAL', `invalid IP address: ${text}`, { field, value: text });
  }
  return ip;
}

function wrap(e: unknown, prefix: string): never {
  if (e instanceof KnetError) throw new KnetError(e.code, `${prefix}${e.message}`, e.details);
  throw e;
}

/**
 * Validates a host-local network config and fills in its defaults, as upstream's
 * `LoadIPAMConfig` does.
 *
 * @remarks
 * Linux equivalent: what `/opt/cni/bin/host-local` does with its stdin before touching the data
 * directory. The legacy top-level `subnet` (with `rangeStart`/`rangeEnd`/`gateway`) becomes range
 * set 0; `runtimeConfig.ipRanges` go in front of everything. Range errors come back as
 * `invalid range set N: <text>` with upstream's texts (see `canonicalizeRange`). knet models IPv4
 * only: IPv6 ranges throw `EOPNOTSUPP`.
 *
 * @throws KnetError `EINVAL` with upstream's texts: `IPAM config missing 'ipam' key`, `no IP ranges
 * specified`, `invalid range set N: ...`, `CNI version X does not support more than 1 address per
 * family`, `range set N overlaps with M`; `details.field` names the offending key.
 * @see containernetworking/plugins plugins/ipam/host-local/backend/allocator/config.go
 * @example
 * ```ts
 * import { parseHostLocalConf } from '@knet/core';
 * const conf = parseHostLocalConf({ name: 'kubenet', cniVersion: '0.1.0',
 *   ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }]] } });
 * conf.rangeSets[0]?.[0]?.rangeStart; // 0x0af40101 (10.244.1.1; the gateway is skipped when allocating)
 * ```
 */
export function parseHostLocalConf(conf: HostLocalNetConf, options: ParseHostLocalConfOptions = {}): HostLocalConfig {
  const ipam = conf.ipam;
  if (ipam === undefined || ipam === null) throw new KnetError('EINVAL', "IPAM config missing 'ipam' key", { field: 'ipam' });

  const requested: number[] = [];
  const want = (ip: number): void => {
    if (!requested.includes(ip)) requested.push(ip);
  };
  if (options.cniArgsIP !== undefined && options.cniArgsIP !== '') want(parseRequested(options.cniArgsIP, 'CNI_ARGS.IP'));
  (conf.args?.cni?.ips ?? []).forEach((t, i) => want(parseRequested(t, `args.cni.ips[${i}]`)));
  (conf.runtimeConfig?.ips ?? []).forEach((t, i) => want(parseRequested(t, `runtimeConfig.ips[${i}]`)));

  const sources: { confs: readonly RangeConf[]; field: string }[] = [];
  (conf.runtimeConfig?.ipRanges ?? []).forEach((set, i) => sources.push({ confs: set, field: `runtimeConfig.ipRanges[${i}]` }));
  if (typeof ipam.subnet === 'string' && ipam.subnet !== '') {
    const legacy: RangeConf = {
      subnet: ipam.subnet,
      ...(ipam.rangeStart !== undefined ? { rangeStart: ipam.rangeStart } : {}),
      ...(ipam.rangeEnd !== undefined ? { rangeEnd: ipam.rangeEnd } : {}),
      ...(ipam.gateway !== undefined ? { gateway: ipam.gateway } : {}),
    };
    sources.push({ confs: [legacy], field: 'ipam' });
  }
  (ipam.ranges ?? []).forEach((set, i) => sources.push({ confs: set, field: `ipam.ranges[${i}]` }));
  if (sources.length === 0) throw new KnetError('EINVAL', 'no IP ranges specified', { field: 'ipam.ranges' });

  const rangeSets: RangeSet[] = [];
  sources.forEach((s, i) => {
    try {
      // The legacy range has no inner index: its keys sit directly under `ipam`.
      rangeSets.push(s.field === 'ipam' ? [canonicalizeRange(s.confs[0] as RangeConf, 'ipam')] : canonicalizeRangeSet(s.confs, s.field));
    } catch (e) {
      wrap(e, `invalid range set ${i}: `);
    }
  });

  const cniVersion = conf.cniVersion ?? '';
  if (rangeSets.length > 1 && !versionAtLeast(cniVersion, 0, 3, 0)) {
    throw new KnetError('EINVAL', `CNI version ${cniVersion} does not support more than 1 address per family`, { field: 'cniVersion' });
  }
  for (let i = 0; i < rangeSets.length - 1; i++) {
    for (let j = i + 1; j < rangeSets.length; j++) {
      if (rangeSetsOverlap(rangeSets[i] as RangeSet, rangeSets[j] as RangeSet)) {
        throw new KnetError('EINVAL', `range set ${i} overlaps with ${j}`, { field: (sources[j] as { field: string }).field });
      }
    }
  }

  return {
    name: conf.name,
    cniVersion,
    rangeSets,
    routes: ipam.routes ?? [],
    dataDir: ipam.dataDir === undefined || ipam.dataDir === '' ? DEFAULT_HOST_LOCAL_DATA_DIR : ipam.dataDir,
    ...(ipam.resolvConf !== undefined && ipam.resolvConf !== '' ? { resolvConf: ipam.resolvConf } : {}),
    requestedIPs: requested,
  };
}
