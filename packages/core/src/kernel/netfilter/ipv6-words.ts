import { tryParseIpv4 } from '../../ip/ipv4.js';
import type { Ipv6Packet } from '../../packet/types.js';

/**
 * An IPv6 address as four unsigned 32-bit words, most significant first (`s6_addr32[0..3]` in
 * host order): the compact form ip6tables rules and IPv6 packets are matched in.
 *
 * @remarks
 * Linux equivalent: `struct in6_addr` read as `s6_addr32`, as `ipv6_masked_addr_cmp` compares
 * it. Four numbers keep a masked compare to four `&` and `===` with no allocation; text is
 * parsed and printed only at the edges.
 * @see include/net/ipv6.h (ipv6_masked_addr_cmp)
 */
export type Ipv6Words = readonly [number, number, number, number];

/** `::`, the unspecified address (and the all-zero mask). */
export const IPV6_ANY: Ipv6Words = [0, 0, 0, 0];

/** The all-ones mask (`/128`). */
export const IPV6_HOST_MASK: Ipv6Words = [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff];

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parses IPv6 text as glibc's `inet_pton(AF_INET6)` does: one `::` at most, groups of one to
 * four hex digits (either case), an optional dotted-quad IPv4 tail, no zone, no brackets.
 *
 * @returns the address, or `undefined` when `inet_pton` would return 0.
 * @remarks Linux equivalent: glibc resolv/inet_pton.c `inet_pton6`, which libxtables'
 * `xtables_numeric_to_ip6addr` calls.
 * @see https://sourceware.org/git/?p=glibc.git;a=blob;f=resolv/inet_pton.c
 * @example
 * ```ts
 * import { tryParseIpv6Words } from '@knet/core';
 * tryParseIpv6Words('fd00::1'); // [0xfd000000, 0, 0, 1]
 * tryParseIpv6Words('fd00:::1'); // undefined
 * ```
 */
export function tryParseIpv6Words(text: string): Ipv6Words | undefined {
  const n = text.length;
  if (n === 0) return undefined;
  const bytes = new Uint8Array(16);
  let tp = 0;
  let colonp = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    i = 1;
    if (i >= n || text.charCodeAt(i) !== 58) return undefined;
  }
  let curtok = i;
  let digits = 0;
  let val = 0;
  while (i < n) {
    const ch = text.charCodeAt(i++);
    const d = hexDigit(ch);
    if (d >= 0) {
      if (digits === 4) return undefined;
      val = (val << 4) | d;
      digits++;
      continue;
    }
    if (ch === 58) {
      curtok = i;
      if (digits === 0) {
        if (colonp >= 0) return undefined;
        colonp = tp;
        continue;
      }
      if (i >= n) return undefined;
      if (tp + 2 > 16) return undefined;
      bytes[tp++] = (val >> 8) & 0xff;
      bytes[tp++] = val & 0xff;
      digits = 0;
      val = 0;
      continue;
    }
    if (ch === 46 && tp + 4 <= 16) {
      const v4 = tryParseIpv4(text.slice(curtok));
      if (v4 === undefined) return undefined;
      bytes[tp++] = v4 >>> 24;
      bytes[tp++] = (v4 >>> 16) & 0xff;
      bytes[tp++] = (v4 >>> 8) & 0xff;
      bytes[tp++] = v4 & 0xff;
      digits = 0;
      i = n;
      break;
    }
    return undefined;
  }
  if (digits > 0) {
    if (tp + 2 > 16) return undefined;
    bytes[tp++] = (val >> 8) & 0xff;
    bytes[tp++] = val & 0xff;
  }
  if (colonp >= 0) {
    if (tp === 16) return undefined;
    const moved = tp - colonp;
    for (let k = 1; k <= moved; k++) {
      bytes[16 - k] = bytes[colonp + moved - k] ?? 0;
      bytes[colonp + moved - k] = 0;
    }
    tp = 16;
  }
  if (tp !== 16) return undefined;
  return ipv6WordsOfBytes(bytes);
}

/**
 * The words of 16 address bytes (network order), as `s6_addr32` read in host order (how an
 * {@link Ipv6Packet}'s addresses become matchable).
 */
export function ipv6WordsOfBytes(bytes: Uint8Array): Ipv6Words {
  const w = (k: number): number =>
    (((bytes[k] ?? 0) << 24) | ((bytes[k + 1] ?? 0) << 16) | ((bytes[k + 2] ?? 0) << 8) | (bytes[k + 3] ?? 0)) >>> 0;
  return [w(0), w(4), w(8), w(12)];
}

/** The 16 bytes (network order) of an address. */
export function ipv6BytesOfWords(a: Ipv6Words): Uint8Array {
  const out = new Uint8Array(16);
  for (let k = 0; k < 4; k++) {
    const v = a[k] as number;
    out[k * 4] = v >>> 24;
    out[k * 4 + 1] = (v >>> 16) & 0xff;
    out[k * 4 + 2] = (v >>> 8) & 0xff;
    out[k * 4 + 3] = v & 0xff;
  }
  return out;
}

/**
 * Prints an address as glibc's `inet_ntop(AF_INET6)` does: lower-case hex without leading
 * zeros, the first longest run of two or more zero groups as `::`, and a dotted-quad tail for
 * IPv4-compatible (`::a.b.c.d`) and IPv4-mapped (`::ffff:a.b.c.d`) addresses.
 *
 * @remarks Linux equivalent: glibc resolv/inet_ntop.c `inet_ntop6`, used by ip6tables-save
 * (`xtables_ip6addr_to_numeric`).
 * @see https://sourceware.org/git/?p=glibc.git;a=blob;f=resolv/inet_ntop.c
 * @example
 * ```ts
 * import { formatIpv6Words } from '@knet/core';
 * formatIpv6Words([0x00010000, 0x00010000, 0, 1]); // "1:0:0:1::1"
 * ```
 */
export function formatIpv6Words(a: Ipv6Words): string {
  const words: number[] = [];
  for (const w of a) words.push(w >>> 16, w & 0xffff);
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      const v4 = a[3];
      out += `${v4 >>> 24}.${(v4 >>> 16) & 0xff}.${(v4 >>> 8) & 0xff}.${v4 & 0xff}`;
      return out;
    }
    out += (words[i] as number).toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

/**
 * The mask of a prefix length 0–128 (`/64` → `ffff:ffff:ffff:ffff::`).
 *
 * @remarks Linux equivalent: libxtables `parse_ip6mask` for a numeric mask (ip6tables `-s addr/N`).
 */
export function ipv6PrefixMask(prefix: number): Ipv6Words {
  const word = (k: number): number => {
    const bits = Math.max(0, Math.min(32, prefix - k * 32));
    return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  };
  return [word(0), word(1), word(2), word(3)];
}

/**
 * The prefix length of a contiguous mask, or -1, as `xtables_ip6mask_to_cidr` computes it.
 *
 * @remarks Linux equivalent: libxtables/xtables.c `xtables_ip6mask_to_cidr`.
 */
export function ipv6MaskToCidr(mask: Ipv6Words): number {
  let bits = 0;
  let k = 0;
  while (k < 4 && mask[k] === 0xffffffff) {
    bits += 32;
    k++;
  }
  if (k === 4) return 128;
  let x = mask[k] as number;
  while (x & 0x80000000) {
    bits++;
    x = (x << 1) >>> 0;
  }
  if (x !== 0) return -1;
  for (let j = k + 1; j < 4; j++) if (mask[j] !== 0) return -1;
  return bits;
}

/**
 * `a & mask`, word by word.
 *
 * @remarks Linux equivalent: the masking `xtables_ip6parse_multiple` applies to rule addresses.
 */
export function maskIpv6Words(a: Ipv6Words, mask: Ipv6Words): Ipv6Words {
  return [(a[0] & mask[0]) >>> 0, (a[1] & mask[1]) >>> 0, (a[2] & mask[2]) >>> 0, (a[3] & mask[3]) >>> 0];
}

/**
 * True when `(a & mask) === net`: how ip6tables compares a packet's address with a rule's.
 *
 * @remarks Linux equivalent: `ipv6_masked_addr_cmp(a, mask, net) == 0` in `ip6_packet_match`.
 * @see https://github.com/torvalds/linux/blob/master/include/net/ipv6.h
 */
export function ipv6MaskedEquals(a: Ipv6Words, mask: Ipv6Words, net: Ipv6Words): boolean {
  return (
    ((a[3] & mask[3]) >>> 0) === net[3] &&
    ((a[0] & mask[0]) >>> 0) === net[0] &&
    ((a[1] & mask[1]) >>> 0) === net[1] &&
    ((a[2] & mask[2]) >>> 0) === net[2]
  );
}

/** True when both addresses are equal. */
export function ipv6WordsEqual(a: Ipv6Words, b: Ipv6Words): boolean {
  return a[3] === b[3] && a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}
