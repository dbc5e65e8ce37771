import type { LinkInfo } from '../host/types.js';

/**
 * What the link formatters need besides the records themselves: the other links of the
 * namespace (for same-namespace veth peers), the nsid of each peer namespace, and the
 * default qdisc. Internal to `format/`: `formatIpLink` and `formatIpAddr` build it.
 */
export interface LinkFieldContext {
  readonly byIndex: ReadonlyMap<number, LinkInfo>;
  readonly netnsIds: ReadonlyMap<string, number>;
  readonly defaultQdisc: string;
}

/** Options shared by `formatIpLink` and `formatIpAddr`. */
export interface LinkContextOptions {
  /**
   * The nsid this namespace has given each peer namespace (`ip netns list-id`), used for
   * `link_netnsid` in JSON. Missing names get the lowest free id in ifindex order, which is
   * what the kernel does when veth peers are created in that order (peernet2id_alloc).
   */
  readonly netnsIds?: ReadonlyMap<string, number>;
  /** `net.core.default_qdisc`: `pfifo_fast` (the kernel default) unless a distribution sets `fq_codel`. */
  readonly defaultQdisc?: string;
}

/** Builds the context for one namespace's links. */
export function createLinkFieldContext(links: readonly LinkInfo[], options: LinkContextOptions): LinkFieldContext {
  const byIndex = new Map<number, LinkInfo>();
  for (const l of links) byIndex.set(l.ifindex, l);
  const ids = new Map<string, number>(options.netnsIds ?? []);
  const used = new Set(ids.values());
  for (const l of sortLinks(links)) {
    const ns = l.peer?.netns;
    if (ns === undefined || ids.has(ns)) continue;
    let id = 0;
    while (used.has(id)) id++;
    ids.set(ns, id);
    used.add(id);
  }
  return { byIndex, netnsIds: ids, defaultQdisc: options.defaultQdisc ?? 'pfifo_fast' };
}

/** Links in the order the kernel dumps them: ascending ifindex. */
export function sortLinks(links: readonly LinkInfo[]): LinkInfo[] {
  return [...links].sort((a, b) => a.ifindex - b.ifindex);
}

/** The `link/TYPE` of a link: `loopback`, `none` (tun) or `ether`. */
export function linkType(link: LinkInfo): 'loopback' | 'none' | 'ether' {
  if (link.kind === 'loopback') return 'loopback';
  if (link.kind === 'tun' && link.tunMode !== 'tap') return 'none';
  return 'ether';
}

function broadcastAddress(link: LinkInfo): string {
  return link.kind === 'loopback' ? '00:00:00:00:00:00' : 'ff:ff:ff:ff:ff:ff';
}

/** The same-namespace veth peer, when there is one. */
function localPeer(link: LinkInfo, ctx: LinkFieldContext): { name: string; up: boolean } | undefined {
  const peer = link.peer;
  if (peer === undefined || peer.netns !== undefined) return undefined;
  const p = ctx.byIndex.get(peer.ifindex);
  // ll_index_to_name() of an index it does not know prints `if<N>`.
  return p === undefined ? { name: `if${peer.ifindex}`, up: true } : { name: p.name, up: p.up };
}

/**
 * The flags between `<` and `>`, in iproute2's order (print_link_flags): NO-CARRIER, then the
 * IFF_* flags in bit order, then M-DOWN when a same-namespace peer is down.
 *
 * @remarks Which IFF_* bits a kind has comes from its setup function in the kernel:
 * loopback_setup (LOOPBACK), ether_setup (BROADCAST, MULTICAST: veth, bridge, vxlan, tap),
 * dummy_setup (BROADCAST, NOARP, no MULTICAST), tun_net_initialize for IFF_TUN
 * (POINTOPOINT, MULTICAST, NOARP). PROMISC is the user-requested flag only (dev_get_flags
 * reports gflags), so bridge ports, which are promiscuous internally, do not show it.
 */
export function linkFlags(link: LinkInfo, ctx: LinkFieldContext): string[] {
  const flags: string[] = [];
  if (link.up && !link.lowerUp) flags.push('NO-CARRIER');
  const tun = link.kind === 'tun' && link.tunMode !== 'tap';
  if (link.kind === 'loopback') flags.push('LOOPBACK');
  if (link.kind !== 'loopback' && !tun) flags.push('BROADCAST');
  if (tun) flags.push('POINTOPOINT');
  if (link.kind !== 'loopback' && link.kind !== 'dummy') flags.push('MULTICAST');
  if (link.noarp || tun) flags.push('NOARP');
  if (link.promisc) flags.push('PROMISC');
  if (link.up) flags.push('UP');
  if (link.lowerUp) flags.push('LOWER_UP');
  const peer = localPeer(link, ctx);
  if (peer !== undefined && !peer.up) flags.push('M-DOWN');
  return flags;
}

/**
 * The root qdisc name: `noop` until the device is first brought up, then `noqueue` for
 * IFF_NO_QUEUE devices (loopback, veth, bridge, vxlan, dummy) and the default qdisc for the
 * rest (tun/tap, physical devices).
 *
 * @remarks A device brought up and then down again keeps the qdisc it got (the kernel does
 * not reset it); the records do not say whether a down device was ever up, so a down device
 * is shown as never brought up, which is the common case (`kube-ipvs0`, fresh links).
 */
export function linkQdisc(link: LinkInfo, ctx: LinkFieldContext): string {
  if (!link.up) return 'noop';
  if (link.kind === 'tun' || link.kind === 'device') return ctx.defaultQdisc;
  return 'noqueue';
}

/** The two text lines of one link (`ip link` with `mode`, `ip addr` without), no final newline. */
export function formatLinkText(link: LinkInfo, ctx: LinkFieldContext, withMode: boolean): string {
  let at = '';
  if (link.peer !== undefined) {
    at = link.peer.netns !== undefined ? `@if${link.peer.ifindex}` : `@${localPeer(link, ctx)?.name ?? ''}`;
  }
  const flags = linkFlags(link, ctx);
  const mdown = flags[flags.length - 1] === 'M-DOWN';
  const flagText = mdown ? `${flags.slice(0, -1).join(',')},M-DOWN` : flags.join(',');
  let head =
    `${link.ifindex}: ${link.name}${at}: <${flagText}> mtu ${link.mtu} qdisc ${linkQdisc(link, ctx)} ` +
    (link.master !== undefined ? `master ${link.master} ` : '') +
    `state ${link.operstate} ` +
    (withMode ? 'mode DEFAULT ' : '') +
    'group default ';
  if (link.txqlen > 0) head += `qlen ${link.txqlen}`;
  const type = linkType(link);
  let second = `    link/${type} `;
  if (type !== 'none') second += `${link.mac} brd ${broadcastAddress(link)}`;
  if (link.peer?.netns !== undefined) second += ` link-netns ${link.peer.netns}`;
  return `${head}\n${second}`;
}

/** The JSON object of one link, keys in iproute2's order (`linkmode` only for `ip link`). */
export function linkJsonFields(link: LinkInfo, ctx: LinkFieldContext, withMode: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = { ifindex: link.ifindex };
  if (link.peer !== undefined) {
    if (link.peer.netns !== undefined) o['link_index'] = link.peer.ifindex;
    else o['link'] = localPeer(link, ctx)?.name;
  }
  o['ifname'] = link.name;
  o['flags'] = linkFlags(link, ctx);
  o['mtu'] = link.mtu;
  o['qdisc'] = linkQdisc(link, ctx);
  if (link.master !== undefined) o['master'] = link.master;
  o['operstate'] = link.operstate;
  if (withMode) o['linkmode'] = 'DEFAULT';
  o['group'] = 'default';
  if (link.txqlen > 0) o['txqlen'] = link.txqlen;
  const type = linkType(link);
  o['link_type'] = type;
  if (type !== 'none') {
    o['address'] = link.mac;
    o['broadcast'] = broadcastAddress(link);
  }
  if (link.peer?.netns !== undefined) o['link_netnsid'] = ctx.netnsIds.get(link.peer.netns);
  return o;
}
