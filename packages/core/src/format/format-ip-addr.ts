import { parseIpv4, prefixMask } from '../ip/ipv4.js';
import type { AddressInfo, LinkInfo } from '../host/types.js';
import {
  createLinkFieldContext,
  formatLinkText,
  linkJsonFields,
  sortLinks,
  type LinkContextOptions,
} from './ip-link-fields.js';

/** Options of {@link formatIpAddr}. */
export interface FormatIpAddrOptions extends LinkContextOptions {
  /** Print what `ip -j addr show` prints instead of text. */
  readonly json?: boolean;
}

/** Lifetime of a static address: INFINITY_LIFE_TIME, printed as `forever`. */
const FOREVER = 4294967295;

/**
 * Which addresses are secondary: an address is secondary when an earlier address on the same
 * device has the same prefix length and the same network (inet_insert_ifa).
 */
function secondaryFlags(addrs: readonly AddressInfo[]): boolean[] {
  const primaries: { ifindex: number; net: number; prefixlen: number }[] = [];
  return addrs.map((a) => {
    const mask = prefixMask(a.prefixlen);
    const net = (parseIpv4(a.local) & mask) >>> 0;
    const secondary = primaries.some((p) => p.ifindex === a.ifindex && p.prefixlen === a.prefixlen && p.net === net);
    if (!secondary) primaries.push({ ifindex: a.ifindex, net, prefixlen: a.prefixlen });
    return secondary;
  });
}

/**
 * Renders one namespace's links and IPv4 addresses exactly as `ip addr show` (or
 * `ip -j addr show`) prints them.
 *
 * @remarks
 * Linux equivalent: `ip -n NS addr show`, `ip -n NS -j addr show`.
 *
 * Each link (ascending ifindex) is printed as by `ip link show` but without `mode DEFAULT`,
 * followed by its addresses in the order given (the kernel's per-device list order):
 * `    inet 10.244.1.1/24 brd 10.244.1.255 scope global cbr0` and
 * `       valid_lft forever preferred_lft forever`. `brd` appears only when the address has a
 * broadcast (`ip addr add ... brd +`, or the netlink libraries CNI plugins use, which set it);
 * `secondary` is derived as the kernel does (an earlier address on the device covers the same
 * subnet with the same prefix length). knet addresses are static, so lifetimes are always
 * `forever` (JSON `4294967295`). Links without addresses still appear (`"addr_info":[]`).
 *
 * knet models IPv4 only: the fixtures were captured with IPv6 disabled in the namespaces, so
 * no `inet6 fe80::...` lines appear.
 *
 * @see ip-address(8); iproute2 ip/ipaddress.c (print_addrinfo)
 * @see linux net/ipv4/devinet.c (inet_insert_ifa, inet_fill_ifaddr)
 * @example
 * ```ts
 * import { formatIpAddr } from '@knet/core';
 * const text = formatIpAddr(
 *   [{ ifindex: 1, name: 'lo', kind: 'loopback', mac: '00:00:00:00:00:00', mtu: 65536, up: true,
 *      operstate: 'UNKNOWN', lowerUp: true, promisc: false, noarp: false, txqlen: 1000 }],
 *   [{ ifindex: 1, dev: 'lo', family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host', label: 'lo' }],
 * );
 * ```
 */
export function formatIpAddr(
  links: readonly LinkInfo[],
  addrs: readonly AddressInfo[],
  options: FormatIpAddrOptions = {},
): string {
  const ctx = createLinkFieldContext(links, options);
  const secondary = secondaryFlags(addrs);
  const indexed = addrs.map((a, i) => ({ a, secondary: secondary[i] === true }));
  const sorted = sortLinks(links);
  if (options.json === true) {
    const out = sorted.map((l) => {
      const o = linkJsonFields(l, ctx, false);
      o['addr_info'] = indexed
        .filter((x) => x.a.ifindex === l.ifindex)
        .map(({ a, secondary: sec }) => {
          const info: Record<string, unknown> = { family: a.family, local: a.local, prefixlen: a.prefixlen };
          if (a.broadcast !== undefined) info['broadcast'] = a.broadcast;
          info['scope'] = a.scope;
          if (sec) info['secondary'] = true;
          info['label'] = a.label;
          info['valid_life_time'] = FOREVER;
          info['preferred_life_time'] = FOREVER;
          return info;
        });
      return o;
    });
    return `${JSON.stringify(out)}\n`;
  }
  let text = '';
  for (const l of sorted) {
    text += `${formatLinkText(l, ctx, false)}\n`;
    for (const { a, secondary: sec } of indexed) {
      if (a.ifindex !== l.ifindex) continue;
      text +=
        `    inet ${a.local}/${a.prefixlen} ` +
        (a.broadcast !== undefined ? `brd ${a.broadcast} ` : '') +
        `scope ${a.scope} ` +
        (sec ? 'secondary ' : '') +
        `${a.label}\n` +
        '       valid_lft forever preferred_lft forever\n';
    }
  }
  return text;
}
