import type { NetfilterFamily, NetfilterRule } from './netfilter-types.js';

/**
 * Why the kernel would refuse a rule of this family wherever it sits, beyond the checks both
 * families share (see check-table's `staticProblem`), or `undefined`.
 *
 * @remarks Linux equivalent: the `NFPROTO_IPV6` branch of xt_addrtype's `addrtype_mt_checkentry_v1`
 * (BLACKHOLE, PROHIBIT and the types after it, and BROADCAST are not matched for IPv6). A refusal
 * makes ip6tables-restore print `line N failed` for the COMMIT line.
 * @see https://github.com/torvalds/linux/blob/master/net/netfilter/xt_addrtype.c
 */
export function familyStaticProblem(family: NetfilterFamily, rule: NetfilterRule): string | undefined {
  if (family !== 'ipv6') return undefined;
  for (const m of rule.matches) {
    if (m.kind !== 'addrtype') continue;
    const types = [...(m.srcTypes ?? []), ...(m.dstTypes ?? [])];
    if (types.includes('BLACKHOLE')) return 'addrtype: ipv6 BLACKHOLE matching not supported';
    if (types.some((t) => t === 'PROHIBIT' || t === 'THROW' || t === 'NAT' || t === 'XRESOLVE')) {
      return 'addrtype: ipv6 PROHIBIT (THROW, NAT ..) matching not supported';
    }
    if (types.includes('BROADCAST')) return 'addrtype: ipv6 does not support BROADCAST matching';
  }
  return undefined;
}
