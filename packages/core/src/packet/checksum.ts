/**
 * The Internet checksum (RFC 1071) and the pseudo-header sums of UDP and TCP.
 *
 * Sums are kept as plain numbers: a JS number holds the 16-bit word sum of any frame
 * exactly (2^53 is far away), so the carries are folded once at the end.
 */

/**
 * The one's-complement sum of the 16-bit big-endian words of `bytes[start, end)`, folded to
 * 16 bits, added to `initial` (a sum from {@link ipv4PseudoHeaderSum} or an earlier call).
 *
 * @remarks An odd trailing byte is padded with a zero byte, as RFC 1071 says.
 * Linux equivalent: `csum_partial()` followed by `csum_fold()` without the final inversion.
 * @see RFC 1071 section 4.1; linux include/net/checksum.h
 * @example
 * ```ts
 * onesComplementSum(new Uint8Array([0x00, 0x01, 0xf2, 0x03])); // 0xf204
 * ```
 */
export function onesComplementSum(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  let sum = initial;
  let i = start;
  const last = end - 1;
  for (; i < last; i += 2) sum += ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
  if (i === last) sum += (bytes[i] as number) << 8;
  return foldSum(sum);
}

/**
 * The Internet checksum of `bytes[start, end)`: the one's complement of the one's-complement
 * sum, as written into IPv4, ICMP, UDP and TCP headers.
 *
 * @remarks Computing it over a region whose checksum field is already filled in gives 0 when
 * the checksum is correct; that is how the decoders verify.
 * Linux equivalent: `ip_compute_csum()` / `csum_fold(csum_partial(...))`.
 * @see RFC 1071; RFC 791 (header checksum); RFC 792; RFC 768; RFC 9293 section 3.1
 * @example
 * ```ts
 * // the IPv4 header example of RFC 1071 section 3 gives 0x220d
 * internetChecksum(new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])); // 0x220d
 * ```
 */
export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  return ~onesComplementSum(bytes, start, end, initial) & 0xffff;
}

/**
 * The one's-complement sum of the IPv4 pseudo-header that UDP and TCP checksums cover:
 * source, destination, zero, protocol, and the UDP/TCP length.
 *
 * @param src - source IPv4 address as an unsigned 32-bit number
 * @param dst - destination IPv4 address as an unsigned 32-bit number
 * @param protocol - IP protocol number (17 UDP, 6 TCP)
 * @param length - length of the UDP datagram or TCP segment, header included
 * @remarks Pass the result as `initial` to {@link internetChecksum} over the transport bytes.
 * Linux equivalent: `csum_tcpudp_nofold()`.
 * @see RFC 768 ("pseudo header"); RFC 9293 section 3.1; linux include/asm-generic/checksum.h
 * @example
 * ```ts
 * const seed = ipv4PseudoHeaderSum(0x0af40102, 0x0af40203, 17, 13);
 * ```
 */
export function ipv4PseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return foldSum((src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length);
}

/**
 * The one's-complement sum of the IPv6 pseudo-header (RFC 8200 section 8.1): source,
 * destination, upper-layer length and next header.
 *
 * @param src - 16-byte source address
 * @param dst - 16-byte destination address
 * @param nextHeader - upper-layer protocol (17 UDP, 6 TCP)
 * @param length - upper-layer packet length
 * @remarks Linux equivalent: `csum_ipv6_magic()` without the final fold and inversion.
 * @see RFC 8200 section 8.1
 * @example
 * ```ts
 * const seed = ipv6PseudoHeaderSum(new Uint8Array(16), new Uint8Array(16), 6, 20);
 * ```
 */
export function ipv6PseudoHeaderSum(src: Uint8Array, dst: Uint8Array, nextHeader: number, length: number): number {
  const sum = onesComplementSum(src, 0, 16, onesComplementSum(dst, 0, 16));
  return foldSum(sum + (length >>> 16) + (length & 0xffff) + nextHeader);
}

function foldSum(sum: number): number {
  // At most three folds are needed for any sum below 2^48.
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}
