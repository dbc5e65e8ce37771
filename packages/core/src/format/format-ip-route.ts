import { tryParseIpv4 } from '../ip/ipv4.js';
import type { LinkInfo, RouteInfo, RouteProto } from '../host/types.js';

/** Options of {@link formatIpRoute}. */
export interface FormatIpRouteOptions {
  /** Print what `ip -j route show` prints instead of text. */
  readonly json?: boolean;
  /**
   * Which table to show, as `ip route show table T`: `main` (the default, plain `ip route`),
   * `local`, `default`, a number, or `all`.
   */
  readonly table?: 'main' | 'local' | 'default' | 'all' | number;
  /**
   * The namespace's links. With them, routes through a device without carrier get the
   * `linkdown` flag, as the kernel sets RTNH_F_LINKDOWN; without them no route is `linkdown`.
   */
  readonly links?: readonly LinkInfo[];
}

/** Table names from iproute2's rt_tables. */
const TABLE_IDS: Readonly<Record<'main' | 'local' | 'default', number>> = { default: 253, main: 254, local: 255 };
const TABLE_NAMES: Readonly<Record<number, string>> = { 253: 'default', 254: 'main', 255: 'local' };

/** Protocol names from iproute2 6.1's etc/iproute2/rt_protos (what `ip` prints instead of the number). */
const PROTO_NAMES: Readonly<Record<number, string>> = {
  0: 'unspec',
  1: 'redirect',
  2: 'kernel',
  3: 'boot',
  4: 'static',
  8: 'gated',
  9: 'ra',
  10: 'mrt',
  11: 'zebra',
  12: 'bird',
  13: 'dnrouted',
  14: 'xorp',
  15: 'ntk',
  16: 'dhcp',
  18: 'keepalived',
  42: 'babel',
  99: 'openr',
  186: 'bgp',
  187: 'isis',
  188: 'ospf',
  189: 'rip',
  192: 'eigrp',
};

function tableId(table: RouteInfo['table']): number {
  return typeof table === 'number' ? table : TABLE_IDS[table];
}

function protoName(p: RouteProto): string {
  return typeof p === 'number' ? (PROTO_NAMES[p] ?? String(p)) : p;
}

/** Network address (uint32) and prefix length of a route's `dst`. */
function dstKey(dst: string): { address: number; prefix: number } {
  if (dst === 'default') return { address: 0, prefix: 0 };
  const slash = dst.indexOf('/');
  const address = tryParseIpv4(slash < 0 ? dst : dst.slice(0, slash)) ?? 0;
  return { address, prefix: slash < 0 ? 32 : Number(dst.slice(slash + 1)) };
}

/**
 * Orders routes as the kernel dumps them: tables by hash bucket (id mod 256, so table 100
 * before main 254 before local 255), then the FIB trie in-order (ascending network
 * address), longer prefixes first at the same address, then ascending metric. Ties keep the
 * given order (routes appended with the same key).
 */
function kernelOrder(routes: readonly RouteInfo[]): RouteInfo[] {
  const keyed = routes.map((r, i) => ({ r, i, t: tableId(r.table), k: dstKey(r.dst) }));
  keyed.sort(
    (a, b) =>
      (a.t & 255) - (b.t & 255) ||
      a.t - b.t ||
      a.k.address - b.k.address ||
      b.k.prefix - a.k.prefix ||
      (a.r.metric ?? 0) - (b.r.metric ?? 0) ||
      a.i - b.i,
  );
  return keyed.map((x) => x.r);
}

/**
 * Renders routes exactly as `ip route show [table T]` (or its `-j` form) prints them.
 *
 * @remarks
 * Linux equivalent: `ip -n NS route show`, `ip route show table local`, `ip route show table
 * all`, and `ip -j route show ...`.
 *
 * Routes are filtered to the requested table (main by default) and printed in kernel dump
 * order whatever order they are given in. Each text line is `[TYPE ]DST [via GW ]dev DEV
 * [table T ][proto P ][scope S ][src A ][metric N ][onlink ][linkdown ][mtu N ]`, with
 * iproute2's trailing space: the type only when it is not `unicast`, `table` only for
 * `table all` and not for main, `proto` unless it is `boot` (numbers named from rt_protos,
 * e.g. 186 → `bgp`; Calico's 80 stays `80`), `scope` unless `global`. JSON keys follow the
 * same order, with `flags` always present (`onlink`, `linkdown`), `table` and `protocol` as
 * strings, and the route MTU as `"metrics":[{"mtu":N}]`.
 *
 * `linkdown` is derived from {@link FormatIpRouteOptions.links}: a route whose device has no
 * carrier gets it, except host-scope (`local`) routes, whose nexthop the kernel never checks
 * (fib_check_nh is skipped for RT_SCOPE_HOST).
 *
 * A metric of 0 is not printed (the kernel sends no RTA_PRIORITY for it).
 *
 * Versions: the fixtures are iproute2 6.1 on Linux 6.18. Protocol names come from the
 * rt_protos file shipped with iproute2 6.1 (Debian); a host whose /etc/iproute2/rt_protos
 * names more numbers prints those names instead.
 *
 * @see ip-route(8); iproute2 ip/iproute.c (print_route, print_rt_flags)
 * @see linux net/ipv4/fib_trie.c (fib_table_dump, fib_insert_alias), net/ipv4/fib_semantics.c
 * @example
 * ```ts
 * import { formatIpRoute } from '@knet/core';
 * formatIpRoute([
 *   { type: 'unicast', dst: 'default', table: 'main', dev: 'eth0', gateway: '10.244.1.1',
 *     scope: 'global', protocol: 'boot', onlink: false },
 * ]); // 'default via 10.244.1.1 dev eth0 \n'
 * ```
 */
export function formatIpRoute(routes: readonly RouteInfo[], options: FormatIpRouteOptions = {}): string {
  const want = options.table ?? 'main';
  const wantId = want === 'all' ? undefined : typeof want === 'number' ? want : TABLE_IDS[want];
  const noCarrier = new Set((options.links ?? []).filter((l) => !l.lowerUp).map((l) => l.name));
  const shown = kernelOrder(routes.filter((r) => wantId === undefined || tableId(r.table) === wantId));
  const rows = shown.map((r) => {
    const id = tableId(r.table);
    const table = want === 'all' && id !== 254 ? (TABLE_NAMES[id] ?? String(id)) : undefined;
    const proto = protoName(r.protocol);
    const flags: string[] = [];
    if (r.onlink) flags.push('onlink');
    if (r.dev !== undefined && r.scope !== 'host' && noCarrier.has(r.dev)) flags.push('linkdown');
    return { r, table, proto: proto === 'boot' ? undefined : proto, flags };
  });
  if (options.json === true) {
    const out = rows.map(({ r, table, proto, flags }) => {
      const o: Record<string, unknown> = {};
      if (r.type !== 'unicast') o['type'] = r.type;
      o['dst'] = r.dst;
      if (r.gateway !== undefined) o['gateway'] = r.gateway;
      if (r.dev !== undefined) o['dev'] = r.dev;
      if (table !== undefined) o['table'] = table;
      if (proto !== undefined) o['protocol'] = proto;
      if (r.scope !== 'global') o['scope'] = r.scope;
      if (r.prefsrc !== undefined) o['prefsrc'] = r.prefsrc;
      if (r.metric !== undefined && r.metric !== 0) o['metric'] = r.metric;
      o['flags'] = flags;
      if (r.mtu !== undefined) o['metrics'] = [{ mtu: r.mtu }];
      return o;
    });
    return `${JSON.stringify(out)}\n`;
  }
  return rows
    .map(({ r, table, proto, flags }) => {
      const parts: string[] = [];
      if (r.type !== 'unicast') parts.push(r.type);
      parts.push(r.dst);
      if (r.gateway !== undefined) parts.push(`via ${r.gateway}`);
      if (r.dev !== undefined) parts.push(`dev ${r.dev}`);
      if (table !== undefined) parts.push(`table ${table}`);
      if (proto !== undefined) parts.push(`proto ${proto}`);
      if (r.scope !== 'global') parts.push(`scope ${r.scope}`);
      if (r.prefsrc !== undefined) parts.push(`src ${r.prefsrc}`);
      if (r.metric !== undefined && r.metric !== 0) parts.push(`metric ${r.metric}`);
      parts.push(...flags);
      if (r.mtu !== undefined) parts.push(`mtu ${r.mtu}`);
      return `${parts.join(' ')} \n`;
    })
    .join('');
}
