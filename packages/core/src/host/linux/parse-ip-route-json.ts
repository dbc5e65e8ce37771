import { KnetError } from '../../errors/knet-error.js';
import type { RouteInfo, RouteProto, RouteType } from '../types.js';
import { jsonRecords, num, reqStr, scopeOf, str, strList, type JsonRecord } from './ip-json-fields.js';

/** rtm_type numbers. @see rtnetlink(7); linux include/uapi/linux/rtnetlink.h */
const TYPE_NUMBERS: Readonly<Record<number, string>> = {
  1: 'unicast',
  2: 'local',
  3: 'broadcast',
  4: 'anycast',
  5: 'multicast',
  6: 'blackhole',
  7: 'unreachable',
  8: 'prohibit',
  9: 'throw',
  10: 'nat',
};
const MODELLED_TYPES: ReadonlySet<string> = new Set(['unicast', 'local', 'broadcast', 'blackhole', 'unreachable', 'prohibit']);

/** Protocol names of iproute2 6.1's etc/iproute2/rt_protos, for output printed without `-N`. */
const PROTO_BY_NAME: Readonly<Record<string, number>> = {
  unspec: 0,
  redirect: 1,
  kernel: 2,
  boot: 3,
  static: 4,
  gated: 8,
  ra: 9,
  mrt: 10,
  zebra: 11,
  bird: 12,
  dnrouted: 13,
  xorp: 14,
  ntk: 15,
  dhcp: 16,
  keepalived: 18,
  babel: 42,
  openr: 99,
  bgp: 186,
  isis: 187,
  ospf: 188,
  rip: 189,
  eigrp: 192,
};
const PROTO_NAMES: Readonly<Record<number, RouteProto>> = { 2: 'kernel', 3: 'boot', 4: 'static', 12: 'bird' };

const TABLE_BY_NAME: Readonly<Record<string, number>> = { default: 253, main: 254, local: 255 };

function routeType(v: unknown, what: string): string {
  if (v === undefined) return 'unicast';
  if (typeof v === 'string' && /^\d+$/.test(v)) return TYPE_NUMBERS[Number(v)] ?? v;
  if (typeof v === 'string') return v;
  throw new KnetError('EPARSE', `${what}: bad route type ${String(v)}`, { what });
}

function protocol(v: unknown, what: string): RouteProto {
  // iproute2 leaves out RTPROT_BOOT (what `ip route add` sets) unless asked for details.
  if (v === undefined) return 'boot';
  const n = typeof v === 'number' ? v : typeof v === 'string' ? (/^\d+$/.test(v) ? Number(v) : PROTO_BY_NAME[v]) : undefined;
  if (n === undefined) throw new KnetError('EPARSE', `${what}: unknown route protocol ${String(v)}`, { what, protocol: String(v) });
  return PROTO_NAMES[n] ?? n;
}

function table(v: unknown, what: string): RouteInfo['table'] {
  const n = v === undefined ? 254 : typeof v === 'number' ? v : typeof v === 'string' ? (/^\d+$/.test(v) ? Number(v) : TABLE_BY_NAME[v]) : undefined;
  if (n === undefined) throw new KnetError('EPARSE', `${what}: unknown routing table ${String(v)}`, { what, table: String(v) });
  return n === 254 ? 'main' : n === 255 ? 'local' : n === 253 ? 'default' : n;
}

function routeMtu(r: JsonRecord): number | undefined {
  const m = r['metrics'];
  if (!Array.isArray(m)) return undefined;
  for (const e of m) {
    if (typeof e === 'object' && e !== null && typeof (e as JsonRecord)['mtu'] === 'number') return (e as JsonRecord)['mtu'] as number;
  }
  return undefined;
}

/**
 * Converts `ip -j route show table all` output (with or without `-N`) into IPv4
 * {@link RouteInfo} records, in the kernel's dump order. IPv6 routes are left out: knet models
 * IPv4 (docs/decisions/0002).
 *
 * @remarks
 * Linux equivalent: `ip -n NS -4 -N -j route show table all`. What iproute2 leaves out has the
 * kernel's meaning: no `type` is unicast, no `table` is main, no `protocol` is boot, no
 * `scope` is global (universe).
 * @throws KnetError `EPARSE` for malformed records; `EOPNOTSUPP` for routes knet cannot
 * represent (types `anycast`, `multicast`, `throw`, `nat`; multipath and nexthop-object routes),
 * rather than leaving them out silently.
 * @see ip-route(8); iproute2 ip/iproute.c print_route
 */
export function parseIpRouteJson(json: unknown): RouteInfo[] {
  const out: RouteInfo[] = [];
  for (const r of jsonRecords(json, 'ip route show')) {
    const dst = reqStr(r, 'dst', 'ip route show');
    const gateway = str(r, 'gateway');
    if (dst.includes(':') || gateway?.includes(':') === true) continue;
    const type = routeType(r['type'], 'ip route show');
    if (!MODELLED_TYPES.has(type)) {
      throw new KnetError('EOPNOTSUPP', `route ${type} ${dst}: knet does not model ${type} routes`, { dst, type });
    }
    if (r['nexthops'] !== undefined || r['nhid'] !== undefined) {
      throw new KnetError('EOPNOTSUPP', `route ${dst}: knet does not model multipath or nexthop-object routes`, { dst });
    }
    const dev = str(r, 'dev');
    const prefsrc = str(r, 'prefsrc');
    const metric = num(r, 'metric');
    const mtu = routeMtu(r);
    out.push({
      type: type as RouteType,
      dst,
      table: table(r['table'], 'ip route show'),
      ...(dev !== undefined ? { dev } : {}),
      ...(gateway !== undefined ? { gateway } : {}),
      ...(prefsrc !== undefined ? { prefsrc } : {}),
      ...(metric !== undefined ? { metric } : {}),
      scope: scopeOf(r['scope'], 'ip route show'),
      protocol: protocol(r['protocol'], 'ip route show'),
      onlink: strList(r, 'flags').includes('onlink'),
      ...(mtu !== undefined ? { mtu } : {}),
    });
  }
  return out;
}
