/**
 * Bob Jenkins' lookup3 hash over 32-bit words, as the kernel's `jhash2()`.
 *
 * @remarks Linux equivalent: `jhash2()` in include/linux/jhash.h (`JHASH_INITVAL` 0xdeadbeef,
 * `__jhash_mix`, `__jhash_final`). NAT uses it to pick an address from a range
 * (`find_best_ips_proto`), so the choice is the kernel's one. Words are taken as the CPU reads
 * them: on a little-endian machine an address in network order reads byte-swapped, see
 * {@link nativeWord}.
 * @see https://github.com/torvalds/linux/blob/master/include/linux/jhash.h
 * @example
 * ```ts
 * import { jhash2 } from '@knet/core';
 * jhash2([1, 2, 3], 0);
 * ```
 */
export function jhash2(words: readonly number[], initval: number): number {
  let length = words.length;
  let a = (0xdeadbeef + (length << 2) + initval) >>> 0;
  let b = a;
  let c = a;
  let k = 0;
  while (length > 3) {
    a = (a + (words[k] ?? 0)) >>> 0;
    b = (b + (words[k + 1] ?? 0)) >>> 0;
    c = (c + (words[k + 2] ?? 0)) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rol32(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol32(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol32(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rol32(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol32(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol32(b, 4)) >>> 0; b = (b + a) >>> 0;
    length -= 3;
    k += 3;
  }
  if (length === 0) return c;
  if (length === 3) c = (c + (words[k + 2] ?? 0)) >>> 0;
  if (length >= 2) b = (b + (words[k + 1] ?? 0)) >>> 0;
  a = (a + (words[k] ?? 0)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol32(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol32(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol32(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol32(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 24)) >>> 0;
  return c;
}

function rol32(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * An IPv4 address (host-order number) as an x86 CPU reads the network-order bytes from memory:
 * byte-swapped. This is what `(__force u32)tuple->dst.u3.all[0]` is on the machines Kubernetes
 * nodes run on.
 */
export function nativeWord(addr: number): number {
  return (((addr & 0xff) << 24) | (((addr >>> 8) & 0xff) << 16) | (((addr >>> 16) & 0xff) << 8) | (addr >>> 24)) >>> 0;
}

/**
 * `reciprocal_scale(val, ep_ro)`: maps a 32-bit hash into [0, ep_ro) as `(u64)val * ep_ro >> 32`.
 *
 * @see https://github.com/torvalds/linux/blob/master/include/linux/math.h
 */
export function reciprocalScale(val: number, epRo: number): number {
  return Number((BigInt(val >>> 0) * BigInt(epRo >>> 0)) >> 32n);
}
