import { formatIpv4, tryParseIpv4 } from '../../ip/ipv4.js';
import type { AddressMask, Ipv6AddressMask } from './netfilter-types.js';
import { formatIpv6Words, ipv6MaskToCidr, ipv6PrefixMask, maskIpv6Words, tryParseIpv6Words } from './ipv6-words.js';
import { SERVICE_PORTS } from './netfilter-names.js';
import { paramError } from './restore-error.js';

/**
 * Number and address parsers with iptables' (libxtables) acceptance rules and error texts.
 *
 * @remarks Linux equivalent: libxtables/xtables.c (`xtables_strtoul`, `xtables_parse_port`,
 * `xtables_ipparse_multiple`, `xtables_ipmask_to_numeric`).
 */

/**
 * A copy of a string that does not keep the string it was cut from alive.
 *
 * @remarks Words of a restore file are slices of the whole input; a rule that keeps one (a
 * comment, a chain name) would otherwise keep the entire payload in memory.
 */
export function detach(s: string): string {
  return s.length <= 12 ? s : (` ${s}`).slice(1);
}

/** strtoul(3) with base 0 (decimal, `0x` hex, leading-0 octal), whole string; `undefined` when invalid. */
export function parseCUint(text: string): number | undefined {
  // Fast path: plain decimal without a leading zero (ports, counters, numbers in rules).
  const n0 = text.length;
  if (n0 > 0 && n0 < 16) {
    let v = 0;
    let ok = text.charCodeAt(0) !== 48 || n0 === 1;
    for (let i = 0; ok && i < n0; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) ok = false;
      else v = v * 10 + (c - 48);
    }
    if (ok) return v;
  }
  let s = text.trim();
  if (s.startsWith('+')) s = s.slice(1);
  if (s === '') return undefined;
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) n = parseInt(s.slice(2), 16);
  else if (/^0[0-7]*$/.test(s)) n = s.length === 1 ? 0 : parseInt(s.slice(1), 8);
  else if (/^[1-9]\d*$/.test(s)) n = Number(s);
  else return undefined;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** An unsigned integer in `[min, max]`, or `undefined`. */
export function parseUintIn(text: string, min: number, max: number): number | undefined {
  const n = parseCUint(text);
  return n !== undefined && n >= min && n <= max ? n : undefined;
}

/** The x6 (xtoptions.c) error for a bad integer. */
export function badInteger(ext: string, option: string): Error {
  return paramError(`${ext}: bad integer value for option "--${option}", or out of range.\n`);
}

/**
 * `value[/mask]` as XTTYPE_MARKMASK32 parses it; the mask defaults to 0xffffffff.
 *
 * @throws the x6 bad-integer error naming `ext` and `option`.
 */
export function parseMarkMask(text: string, ext: string, option: string): { value: number; mask: number } {
  const slash = text.indexOf('/');
  const v = parseUintIn(slash < 0 ? text : text.slice(0, slash), 0, 0xffffffff);
  const m = slash < 0 ? 0xffffffff : parseUintIn(text.slice(slash + 1), 0, 0xffffffff);
  if (v === undefined || m === undefined) throw badInteger(ext, option);
  return { value: v, mask: m };
}

/** `0x%x` as C prints it. */
export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

/**
 * A port number or service name (`xtables_parse_port`).
 *
 * @throws iptables' "invalid port/service" error.
 */
export function parsePort(text: string): number {
  const named = SERVICE_PORTS.get(text);
  if (named !== undefined) return named;
  const n = parseUintIn(text, 0, 65535);
  if (n === undefined) throw paramError(`invalid port/service \`${text}' specified`);
  return n;
}

/**
 * A port or `min:max` range (`min:` and `:max` allowed), as libxt_tcp's `parse_tcp_ports`.
 *
 * @throws iptables' errors for a bad port or an inverted range.
 */
export function parsePortRange(text: string, sep = ':'): { min: number; max: number } {
  const i = text.indexOf(sep);
  if (i < 0) {
    const p = parsePort(text);
    return { min: p, max: p };
  }
  const a = text.slice(0, i);
  const b = text.slice(i + 1);
  const min = a === '' ? 0 : parsePort(a);
  const max = b === '' ? 0xffff : parsePort(b);
  if (min > max) throw paramError('invalid portrange (min > max)');
  return { min, max };
}

/** The prefix length of a contiguous netmask, or -1 (`xtables_ipmask_to_cidr`). */
export function maskToCidr(mask: number): number {
  const m = mask >>> 0;
  let bits = 0;
  let x = m;
  while (x & 0x80000000) {
    bits++;
    x = (x << 1) >>> 0;
  }
  return x === 0 ? bits : -1;
}

/** A prefix length as a netmask. */
export function cidrToMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * One `addr[/mask]` of `-s`/`-d` (mask as a prefix length or dotted quad); the address is masked.
 * The mask is what follows the last `/`; with a zero mask the address is not looked at (`any/0`).
 *
 * @throws iptables' "host/network not found" or "invalid mask" errors.
 * @remarks Linux equivalent: libxtables `xtables_ipparse_multiple` (one element).
 */
export function parseAddressMask(text: string): AddressMask {
  const slash = text.lastIndexOf('/');
  let addrText = slash < 0 ? text : text.slice(0, slash);
  let mask = 0xffffffff;
  if (slash >= 0) {
    const m = text.slice(slash + 1);
    if (m.includes('.')) {
      const dotted = tryParseIpv4(m);
      if (dotted === undefined) throw paramError(`host/network \`${m}' not found`);
      mask = dotted;
    } else {
      const bits = parseUintIn(m, 0, 32);
      if (bits === undefined) throw paramError(`invalid mask \`${m}' specified`);
      mask = cidrToMask(bits);
    }
  }
  if (mask === 0) addrText = '0.0.0.0';
  const address = tryParseIpv4(addrText);
  if (address === undefined) throw paramError(`host/network \`${addrText}' not found`);
  return { address: (address & mask) >>> 0, mask };
}

/** `-s`/`-d` text: a comma-separated list of {@link parseAddressMask}. */
export function parseAddressList(text: string): AddressMask[] {
  return text.split(',').map((t) => parseAddressMask(t));
}

/**
 * One `addr[/mask]` of ip6tables' `-s`/`-d`: the mask (after the last `/`) is an IPv6 address or
 * a prefix length 0–128; with a zero mask the address is not looked at; the address is masked.
 *
 * @throws ip6tables' "host/network not found" or "invalid mask" errors.
 * @remarks Linux equivalent: libxtables `xtables_ip6parse_multiple` with `parse_ip6mask` (one
 * element). Names are not resolved: knet has no resolver, so a name is "not found".
 */
export function parseIpv6AddressMask(text: string): Ipv6AddressMask {
  const slash = text.lastIndexOf('/');
  let addrText = slash < 0 ? text : text.slice(0, slash);
  let mask = IPV6_ALL_ONES;
  if (slash >= 0) {
    const m = text.slice(slash + 1);
    const asAddress = tryParseIpv6Words(m);
    if (asAddress !== undefined) mask = asAddress;
    else {
      const bits = parseUintIn(m, 0, 128);
      if (bits === undefined) throw paramError(`invalid mask \`${m}' specified`);
      mask = ipv6PrefixMask(bits);
    }
  }
  if (mask[0] === 0 && mask[1] === 0 && mask[2] === 0 && mask[3] === 0) addrText = '::';
  const address = tryParseIpv6Words(addrText);
  if (address === undefined) throw paramError(`host/network \`${addrText}' not found`);
  return { address: maskIpv6Words(address, mask), mask };
}

/** ip6tables' `-s`/`-d` text: a comma-separated list of {@link parseIpv6AddressMask}. */
export function parseIpv6AddressList(text: string): Ipv6AddressMask[] {
  return text.split(',').map((t) => parseIpv6AddressMask(t));
}

/** `addr/N` (or `addr/mask` for a non-contiguous mask), as ip6tables-save prints `-s`/`-d` (ip6tables.c `print_ip`). */
export function formatIpv6AddressMask(a: Ipv6AddressMask): string {
  const cidr = ipv6MaskToCidr(a.mask);
  return `${formatIpv6Words(a.address)}/${cidr >= 0 ? cidr : formatIpv6Words(a.mask)}`;
}

const IPV6_ALL_ONES = ipv6PrefixMask(128);

/** `a.b.c.d/N` (or `/a.b.c.d` for a non-contiguous mask), as iptables-save prints `-s`/`-d`. */
export function formatAddressMask(a: AddressMask): string {
  const cidr = maskToCidr(a.mask);
  return `${formatIpv4(a.address)}/${cidr >= 0 ? cidr : formatIpv4(a.mask)}`;
}

/** `xtables_ipaddr_to_numeric` + `xtables_ipmask_to_numeric`: no suffix for /32 (conntrack's form). */
export function formatAddressMaskShort(a: AddressMask): string {
  const cidr = maskToCidr(a.mask);
  if (cidr === 32) return formatIpv4(a.address);
  return `${formatIpv4(a.address)}/${cidr >= 0 ? cidr : formatIpv4(a.mask)}`;
}

/**
 * Quotes a string as `xtables_save_string` does: bare when it is only `[A-Za-z0-9_-]` (and
 * non-empty), otherwise double-quoted with `"`, `\` and `'` backslash-escaped.
 */
export function saveString(value: string): string {
  let plain = value.length > 0;
  let escapes = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const word = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;
    if (!word) {
      plain = false;
      if (c === 34 || c === 92 || c === 39) escapes = true;
    }
  }
  if (plain) return value;
  return escapes ? `"${value.replace(/["\\']/g, (c) => `\\${c}`)}"` : `"${value}"`;
}

/** Checks an interface name as `xtables_parse_interface` does. */
export function checkInterface(name: string): void {
  if (name.length > 15) throw paramError(`interface name \`${name}' must be shorter than IFNAMSIZ (15)`);
}

/** True when interface `dev` (or `''` for none) matches an iptables pattern (`eth+` is a prefix). */
export function ifaceMatches(pattern: string, dev: string | undefined): boolean {
  const d = dev ?? '';
  if (pattern.endsWith('+')) return d.startsWith(pattern.slice(0, -1));
  return d === pattern;
}
