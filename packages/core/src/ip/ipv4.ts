import { Validator, IPv4CidrRange } from 'ip-num';
import { KnetError } from '../errors/knet-error.js';

/**
 * An IPv4 prefix in numeric form: `address` is the network address as an unsigned 32-bit
 * number, `prefix` its length.
 *
 * @remarks Hot paths (routing, NAT, policy) use numbers, never strings: see DESIGN.md.
 */
export interface Ipv4Cidr {
  readonly address: number;
  readonly prefix: number;
}

/** The netmask of a prefix length as an unsigned 32-bit number (`/24` → `0xffffff00`). */
export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * Parses a dotted-quad IPv4 address into an unsigned 32-bit number.
 *
 * @throws KnetError `EINVAL` when the text is not a valid IPv4 address.
 */
export function parseIpv4(text: string): number {
  const n = tryParseIpv4(text);
  if (n === undefined) throw new KnetError('EINVAL', `invalid IPv4 address "${text}"`, { value: text });
  return n;
}

/** Like {@link parseIpv4} but returns `undefined` for invalid text; allocation-free fast path. */
export function tryParseIpv4(text: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
      if (dots > 3) return undefined;
    } else if (c >= 48 && c <= 57) {
      // Leading zeros are rejected, as inet_pton(3) and ip-num do.
      if (digits > 0 && octet === 0) return undefined;
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + octet;
}

/** Formats an unsigned 32-bit number as a dotted-quad IPv4 address. */
export function formatIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** True when `text` is an IPv4 address (validated with ip-num). */
export function isIpv4(text: string): boolean {
  return Validator.isValidIPv4String(text)[0] && tryParseIpv4(text) !== undefined;
}

/** Options for {@link parseIpv4Cidr}. */
export interface ParseCidrOptions {
  /** Reject host bits (`10.244.1.0/16`) instead of masking them. Default `true`. */
  readonly strict?: boolean;
}

/**
 * Parses `a.b.c.d/len` (validated with ip-num).
 *
 * @throws KnetError `EINVAL` for a malformed prefix, or (strict) host bits set, with
 * `details.value`; the message says what the network address would be, as host-local does.
 */
export function parseIpv4Cidr(text: string, options: ParseCidrOptions = {}): Ipv4Cidr {
  // Valid prefixes are cached: the same CIDRs are parsed for every route and pod of a node.
  const cached = CIDR_CACHE.get(text);
  if (cached !== undefined) return cached;
  const parsed = parseIpv4CidrUncached(text, options);
  if (parsed.address === tryParseIpv4(text.slice(0, text.indexOf('/')))) {
    if (CIDR_CACHE.size >= 65536) CIDR_CACHE.clear();
    CIDR_CACHE.set(text, parsed);
  }
  return parsed;
}

const CIDR_CACHE = new Map<string, Ipv4Cidr>();

function parseIpv4CidrUncached(text: string, options: ParseCidrOptions): Ipv4Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new KnetError('EINVAL', `invalid CIDR "${text}": missing prefix length`, { value: text });
  const addrText = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  const address = tryParseIpv4(addrText);
  const prefix = /^\d{1,2}$/.test(lenText) ? Number(lenText) : NaN;
  if (address === undefined || !(prefix >= 0 && prefix <= 32) || !Validator.isValidIPv4CidrNotation(text)[0]) {
    throw new KnetError('EINVAL', `invalid CIDR "${text}"`, { value: text });
  }
  const network = (address & prefixMask(prefix)) >>> 0;
  if (network !== address && options.strict !== false) {
    throw new KnetError(
      'EINVAL',
      `invalid CIDR "${text}": host bits set; for a mask of length ${prefix} the network address is ${formatIpv4(network)}`,
      { value: text },
    );
  }
  return { address: network, prefix };
}

/** Formats a {@link Ipv4Cidr} as `a.b.c.d/len`. */
export function formatIpv4Cidr(c: Ipv4Cidr): string {
  return `${formatIpv4(c.address)}/${c.prefix}`;
}

/** True when the address `ip` lies inside `cidr`. */
export function cidrContains(cidr: Ipv4Cidr, ip: number): boolean {
  return ((ip & prefixMask(cidr.prefix)) >>> 0) === cidr.address;
}

/** True when the two prefixes share at least one address. */
export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  const m = prefixMask(p);
  return ((a.address & m) >>> 0) === ((b.address & m) >>> 0);
}

/** The number of addresses in a prefix (2^(32−len)). */
export function cidrSize(c: Ipv4Cidr): number {
  return 2 ** (32 - c.prefix);
}

/** The last address of a prefix (the broadcast address for IPv4). */
export function cidrLast(c: Ipv4Cidr): number {
  return (c.address + cidrSize(c) - 1) >>> 0;
}

/**
 * Splits `parent` into consecutive subnets of length `prefix`, returning the `index`-th,
 * using ip-num's range arithmetic for validation.
 *
 * @throws KnetError `ENOSPC` when `index` is past the last subnet; `EINVAL` when `prefix` is shorter than the parent's.
 */
export function nthSubnet(parent: Ipv4Cidr, prefix: number, index: number): Ipv4Cidr {
  if (prefix < parent.prefix || prefix > 32) {
    throw new KnetError('EINVAL', `cannot split ${formatIpv4Cidr(parent)} into /${prefix} subnets`);
  }
  const count = 2 ** (prefix - parent.prefix);
  if (index < 0 || index >= count) {
    throw new KnetError('ENOSPC', `${formatIpv4Cidr(parent)} has only ${count} /${prefix} subnets`, {
      subnets: count,
    });
  }
  const address = (parent.address + index * 2 ** (32 - prefix)) >>> 0;
  // Cross-check with ip-num once per allocation (not a hot path).
  const range = IPv4CidrRange.fromCidr(`${formatIpv4(address)}/${prefix}`);
  return { address: Number(range.getFirst().getValue()), prefix };
}
