import { KnetError } from '../errors/knet-error.js';
import type { KnetErrorCode } from '../errors/knet-error.js';
import { cidrContains, cidrLast, formatIpv4, prefixMask, tryParseIpv4 } from '../ip/ipv4.js';
import type { Ipv4Cidr } from '../ip/ipv4.js';

/**
 * One range of a host-local range set as the user writes it (`ipam.ranges[i][j]`, or the legacy
 * top-level `ipam.subnet`/`rangeStart`/`rangeEnd`/`gateway`).
 *
 * @see https://www.cni.dev/plugins/current/ipam/host-local/
 */
export interface RangeConf {
  /** The subnet to allocate from, `a.b.c.d/len` (required). */
  readonly subnet: string;
  /** First address handed out (inclusive). Default: network + 1 (the gateway is skipped). */
  readonly rangeStart?: string;
  /** Last address handed out (inclusive). Default: broadcast − 1. */
  readonly rangeEnd?: string;
  /** Default: network + 1. */
  readonly gateway?: string;
}

/**
 * A canonical host-local range: every field filled in, numeric IPv4 addresses (unsigned 32-bit).
 *
 * @remarks Mirrors upstream `allocator.Range` after `Canonicalize()`.
 * @see containernetworking/plugins plugins/ipam/host-local/backend/allocator/range.go
 */
export interface IpRange {
  readonly subnet: Ipv4Cidr;
  readonly rangeStart: number;
  readonly rangeEnd: number;
  readonly gateway: number;
}

/**
 * A range set: a pool of ranges tried in order; host-local returns one address per set.
 *
 * @see containernetworking/plugins plugins/ipam/host-local/backend/allocator/range_set.go
 */
export type RangeSet = readonly IpRange[];

function fail(code: KnetErrorCode, message: string, field: string | undefined, extra: Record<string, unknown> = {}): never {
  throw new KnetError(code, message, field === undefined ? extra : { field, ...extra });
}

/** Go's `net.ParseIP` for IPv4 text; IPv6 text is refused (knet models IPv4 only). */
function parseAddress(text: string, field: string | undefined): number {
  const n = tryParseIpv4(text);
  if (n !== undefined) return n;
  if (text.includes(':')) fail('EOPNOTSUPP', `IPv6 address ${text} is not supported: knet models IPv4 only`, field, { value: text });
  // encoding/json → net.IP.UnmarshalText: &ParseError{Type: "IP address", Text: s}
  return fail('EINVAL', `invalid IP address: ${text}`, field, { value: text });
}

/**
 * Go's `net.ParseCIDR` as `types.IPNet` uses it: the address keeps its host bits (checked
 * later by `Canonicalize`, which names the network address).
 */
function parseSubnet(text: string, field: string | undefined): { address: number; prefix: number } {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? undefined : tryParseIpv4(text.slice(0, slash));
  const lenText = slash < 0 ? '' : text.slice(slash + 1);
  const prefix = /^\d{1,2}$/.test(lenText) ? Number(lenText) : NaN;
  if (addr === undefined || !(prefix >= 0 && prefix <= 32)) {
    if (text.includes(':')) fail('EOPNOTSUPP', `IPv6 subnet ${text} is not supported: knet models IPv4 only`, field, { value: text });
    // net.ParseCIDR: &ParseError{Type: "CIDR address", Text: s}
    fail('EINVAL', `invalid CIDR address: ${text}`, field, { value: text });
  }
  return { address: addr, prefix };
}

/**
 * True when `ip` is an allocatable address of `range`: inside the subnet and between
 * `rangeStart` and `rangeEnd`, inclusive.
 *
 * @see containernetworking/plugins plugins/ipam/host-local/backend/allocator/range.go `Range.Contains`
 */
export function rangeContains(range: IpRange, ip: number): boolean {
  return cidrContains(range.subnet, ip) && ip >= range.rangeStart && ip <= range.rangeEnd;
}

/** Formats a range as upstream's `Range.String()`: `<rangeStart>-<rangeEnd>`. */
export function formatRange(range: IpRange): string {
  return `${formatIpv4(range.rangeStart)}-${formatIpv4(range.rangeEnd)}`;
}

/**
 * Formats a range set as upstream's `RangeSet.String()`: its ranges joined with `,`.
 *
 * @example
 * ```ts
 * import { canonicalizeRangeSet, formatRangeSet } from '@knet/core';
 * formatRangeSet(canonicalizeRangeSet([{ subnet: '10.244.1.0/24' }])); // '10.244.1.1-10.244.1.254'
 * ```
 */
export function formatRangeSet(set: RangeSet): string {
  return set.map(formatRange).join(',');
}

/**
 * The range of `set` that contains `ip`, or `undefined`.
 *
 * @see containernetworking/plugins plugins/ipam/host-local/backend/allocator/range_set.go `RangeFor`
 */
export function rangeFor(set: RangeSet, ip: number): IpRange | undefined {
  for (const r of set) if (rangeContains(r, ip)) return r;
  return undefined;
}

/** True when some range of `set` contains `ip` (upstream `RangeSet.Contains`). */
export function rangeSetContains(set: RangeSet, ip: number): boolean {
  return rangeFor(set, ip) !== undefined;
}

/**
 * True when either range contains an end of the other (upstream `Range.Overlaps`).
 *
 * @remarks This compares the allocatable windows (`rangeStart`–`rangeEnd`), not the subnets, so two
 * disjoint windows of one subnet do not overlap.
 */
export function rangesOverlap(a: IpRange, b: IpRange): boolean {
  return rangeContains(a, b.rangeStart) || rangeContains(a, b.rangeEnd) || rangeContains(b, a.rangeStart) || rangeContains(b, a.rangeEnd);
}

/** True when any range of `a` overlaps any range of `b` (upstream `RangeSet.Overlaps`). */
export function rangeSetsOverlap(a: RangeSet, b: RangeSet): boolean {
  for (const r of a) for (const r1 of b) if (rangesOverlap(r, r1)) return true;
  return false;
}

/**
 * Validates one range and fills in its defaults, as host-local's `Range.Canonicalize()` does.
 *
 * @remarks
 * Defaults: `gateway` = network + 1; `rangeStart` = network + 1 (not `.2`: the gateway is skipped
 * while allocating instead); `rangeEnd` = broadcast − 1. Checks, in upstream's order and with its
 * texts: the prefix leaves at least two addresses (`Network 10.0.0.0/31 too small to allocate
 * from`), no host bits (`Network has host bits set. For a subnet mask of length 24 the network
 * address is 10.0.0.0`), `RangeStart <ip> not in network <cidr>`, `RangeEnd <ip> not in network
 * <cidr>`. A start after the end fails the start check, because upstream tests the start against
 * the not-yet-canonical end. As upstream, the gateway is not required to lie in the subnet.
 *
 * @param field Where the range sits in the config (`ipam.ranges[0][0]`), copied into
 * `details.field` of errors.
 * @throws KnetError `EINVAL` with the upstream text (without the `invalid range set N: ` prefix
 * that {@link canonicalizeRangeSet}'s caller adds); `EOPNOTSUPP` for IPv6.
 * @see containernetworking/plugins plugins/ipam/host-local/backend/allocator/range.go
 */
export function canonicalizeRange(conf: RangeConf, field?: string): IpRange {
  const at = (k: string): string | undefined => (field === undefined ? undefined : `${field}.${k}`);
  if (typeof conf.subnet !== 'string' || conf.subnet === '') {
    // An absent subnet leaves a nil net.IP, which canonicalizeIP() refuses.
    fail('EINVAL', 'IP <nil> not v4 nor v6', at('subnet'));
  }
  const raw = parseSubnet(conf.subnet, at('subnet'));
  if (raw.prefix > 30) {
    fail('EINVAL', `Network ${formatIpv4(raw.address)}/${raw.prefix} too small to allocate from`, at('subnet'), { value: conf.subnet });
  }
  const network = (raw.address & prefixMask(raw.prefix)) >>> 0;
  if (network !== raw.address) {
    fail(
      'EINVAL',
      `Network has host bits set. For a subnet mask of length ${raw.prefix} the network address is ${formatIpv4(network)}`,
      at('subnet'),
      { value: conf.subnet },
    );
  }
  const subnet: Ipv4Cidr = { address: network, prefix: raw.prefix };
  const subnetText = `${formatIpv4(network)}/${raw.prefix}`;
  const gateway = conf.gateway === undefined ? network + 1 : parseAddress(conf.gateway, at('gateway'));
  const rawEnd = conf.rangeEnd === undefined ? undefined : parseAddress(conf.rangeEnd, at('rangeEnd'));

  let rangeStart: number;
  if (conf.rangeStart !== undefined) {
    rangeStart = parseAddress(conf.rangeStart, at('rangeStart'));
    if (!cidrContains(subnet, rangeStart) || (rawEnd !== undefined && rangeStart > rawEnd)) {
      fail('EINVAL', `RangeStart ${formatIpv4(rangeStart)} not in network ${subnetText}`, at('rangeStart'), { value: conf.rangeStart });
    }
  } else {
    rangeStart = network + 1;
  }

  let rangeEnd: number;
  if (rawEnd !== undefined) {
    rangeEnd = rawEnd;
    if (!cidrContains(subnet, rangeEnd) || rangeEnd < rangeStart) {
      fail('EINVAL', `RangeEnd ${formatIpv4(rangeEnd)} not in network ${subnetText}`, at('rangeEnd'), { value: conf.rangeEnd });
    }
  } else {
    // lastIP(): the broadcast address minus one for IPv4.
    rangeEnd = cidrLast(subnet) - 1;
  }
  return { subnet, rangeStart, rangeEnd, gateway };
}

/**
 * Validates a range set: not empty, every range canonical, no two ranges overlapping.
 *
 * @throws KnetError `EINVAL` with upstream's texts: `empty range set`, any
 * {@link canonicalizeRange} text, `subnets <start>-<end> and <start>-<end> overlap`.
 * @see containernetworking/plugins plugins/ipam/host-local/backend/allocator/range_set.go `Canonicalize`
 */
export function canonicalizeRangeSet(confs: readonly RangeConf[], field?: string): RangeSet {
  if (confs.length === 0) fail('EINVAL', 'empty range set', field);
  const set = confs.map((c, j) => canonicalizeRange(c, field === undefined ? undefined : `${field}[${j}]`));
  for (let i = 0; i < set.length - 1; i++) {
    for (let j = i + 1; j < set.length; j++) {
      const r1 = set[i] as IpRange;
      const r2 = set[j] as IpRange;
      if (rangesOverlap(r1, r2)) fail('EINVAL', `subnets ${formatRange(r1)} and ${formatRange(r2)} overlap`, field);
    }
  }
  return set;
}
