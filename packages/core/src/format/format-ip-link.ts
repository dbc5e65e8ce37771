import type { LinkInfo } from '../host/types.js';
import {
  createLinkFieldContext,
  formatLinkText,
  linkJsonFields,
  sortLinks,
  type LinkContextOptions,
} from './ip-link-fields.js';

/** Options of {@link formatIpLink}. */
export interface FormatIpLinkOptions extends LinkContextOptions {
  /** Print what `ip -j link show` prints (one JSON array on one line) instead of text. */
  readonly json?: boolean;
}

/**
 * Renders one namespace's links exactly as `ip link show` (or `ip -j link show`) prints them.
 *
 * @remarks
 * Linux equivalent: `ip -n NS link show`, `ip -n NS -j link show`.
 *
 * Links are printed in ascending ifindex order, as the kernel dumps them. Derived from the
 * records, as the kernel and iproute2 derive them:
 * - the flags (`<BROADCAST,MULTICAST,UP,LOWER_UP>`): from the kind, `up`, `lowerUp`, `promisc`
 *   and `noarp`; `NO-CARRIER` when up without carrier; `M-DOWN` when a veth peer in the same
 *   namespace is down;
 * - `name@ifN` plus `link-netns NAME` (JSON `link_index` and `link_netnsid`) for a veth whose
 *   peer is in another namespace, `name@peer` (JSON `link`) when the peer is in this one;
 * - the qdisc: `noop` while down, `noqueue` for loopback/veth/bridge/vxlan/dummy once up,
 *   the default qdisc (`options.defaultQdisc`, `pfifo_fast`) for tun/tap and physical devices;
 * - `link/loopback` with an all-zero `brd`, `link/none` (no address) for tun, `link/ether`
 *   with `brd ff:ff:ff:ff:ff:ff` otherwise;
 * - `qlen N` (JSON `txqlen`) only when the queue length is not 0; `mode DEFAULT` and
 *   `group default` always (knet models neither link modes nor groups).
 *
 * MAC addresses and ifindexes are whatever the records hold: the kernel picks random MACs
 * (`eth_hw_addr_random`) and the next free ifindex, SimHost a seeded MAC and the same counter.
 *
 * Versions: the fixtures are iproute2 6.1 on Linux 6.18. Older kernels created veth devices
 * with txqlen 0, and their `ip link` shows no `qlen` on veths (here the record's `txqlen`
 * decides); old iproute2 (3.x) printed neither `mode` nor `group` (`state DOWN qlen 1000`).
 * `ip -d link` (details) is not rendered: it prints kernel timers (`gc_timer`,
 * `forward_delay_timer`), per-CPU queue counts (`numtxqueues`) and bridge port numbers that
 * the records do not hold, so it cannot be reproduced byte for byte.
 *
 * @see ip-link(8); iproute2 ip/ipaddress.c (print_linkinfo, print_link_flags)
 * @see linux net/core/rtnetlink.c (rtnl_fill_ifinfo), drivers/net/veth.c, drivers/net/dummy.c
 * @example
 * ```ts
 * import { formatIpLink } from '@knet/core';
 * const text = formatIpLink([
 *   { ifindex: 1, name: 'lo', kind: 'loopback', mac: '00:00:00:00:00:00', mtu: 65536, up: true,
 *     operstate: 'UNKNOWN', lowerUp: true, promisc: false, noarp: false, txqlen: 1000 },
 * ]);
 * // 1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
 * //     link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
 * ```
 */
export function formatIpLink(links: readonly LinkInfo[], options: FormatIpLinkOptions = {}): string {
  const ctx = createLinkFieldContext(links, options);
  const sorted = sortLinks(links);
  if (options.json === true) return `${JSON.stringify(sorted.map((l) => linkJsonFields(l, ctx, true)))}\n`;
  return sorted.map((l) => `${formatLinkText(l, ctx, true)}\n`).join('');
}
