import { prefixMask } from '../ip/ipv4.js';
import type { Ipv4Cidr } from '../ip/ipv4.js';

/** The longest fabric prefix knet derives: nodes share at least a /24, like a typical L2 segment. */
export const MAX_DERIVED_FABRIC_PREFIX = 24;

/**
 * The fabric CIDR used when a cluster has no node at all: 172.18.0.0/24, the first /24 of the
 * Docker network kind creates (and the one the example cluster uses).
 */
export const EMPTY_FABRIC_CIDR: Ipv4Cidr = { address: 0xac120000, prefix: 24 };

/**
 * Derives the fabric (node underlay) CIDR from the nodes' InternalIPs: the longest prefix, at
 * most /24, that contains every address.
 *
 * @remarks
 * The longest common prefix of a set of addresses is the common prefix of its smallest and
 * largest members, so this is linear in the number of nodes. Nodes at 172.18.0.2-4 give
 * `172.18.0.0/24`; nodes at 10.0.1.5 and 10.0.2.5 give `10.0.0.0/22`. With no nodes it returns
 * {@link EMPTY_FABRIC_CIDR}.
 * Linux equivalent: the prefix of the address `ip addr` shows on the nodes' `eth0`.
 * @example
 * ```ts
 * import { deriveFabricCidr, parseIpv4, formatIpv4Cidr } from '@knet/core';
 * formatIpv4Cidr(deriveFabricCidr([parseIpv4('172.18.0.2'), parseIpv4('172.18.0.4')])); // '172.18.0.0/24'
 * ```
 */
export function deriveFabricCidr(addresses: readonly number[]): Ipv4Cidr {
  if (addresses.length === 0) return EMPTY_FABRIC_CIDR;
  let min = 0xffffffff;
  let max = 0;
  for (const a of addresses) {
    if (a < min) min = a;
    if (a > max) max = a;
  }
  const common = min === max ? 32 : Math.clz32((min ^ max) >>> 0);
  const prefix = Math.min(common, MAX_DERIVED_FABRIC_PREFIX);
  return { address: (min & prefixMask(prefix)) >>> 0, prefix };
}
