import { KnetError } from '../../errors/knet-error.js';
import { parseIpv4 } from '../../ip/ipv4.js';
import { parseMac } from '../../ip/mac.js';
import type { FdbOptions, LinkAddOptions, LinkSetOptions, NeighOptions, RouteOptions } from '../host.js';

/** One iproute2 command without the program name and global options (`['link', 'set', ...]`). */
export type Iproute2Args = readonly string[];

const IFNAME_RE = /^[^\s/:"'\\#]{1,15}$/;

/** Checks a device name as the kernel's `dev_valid_name()` does (1-15 characters, no `/`, `:` or space). @throws KnetError `EINVAL` */
export function checkIfname(name: string): string {
  if (!IFNAME_RE.test(name) || name === '.' || name === '..') {
    throw new KnetError('EINVAL', `"${name}" is not a valid device name`, { dev: name });
  }
  return name;
}

/** Checks a dotted quad. @throws KnetError `EINVAL` */
function ip4(text: string): string {
  parseIpv4(text);
  return text;
}

/** `a.b.c.d` or `a.b.c.d/len` (host bits allowed: an interface address). @throws KnetError `EINVAL` */
export function checkAddress(cidr: string): string {
  const slash = cidr.indexOf('/');
  ip4(slash < 0 ? cidr : cidr.slice(0, slash));
  if (slash >= 0) {
    const len = cidr.slice(slash + 1);
    if (!/^\d{1,2}$/.test(len) || Number(len) > 32) throw new KnetError('EINVAL', `invalid prefix length in "${cidr}"`, { value: cidr });
  }
  return cidr;
}

function uint(n: number, what: string, max = 0xffffffff): string {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new KnetError('EINVAL', `${what} ${n} out of range`, { field: what, value: n });
  return String(n);
}

/** Checks a keyword against the values iproute2 accepts (types are not checked at run time). @throws KnetError `EINVAL` */
function oneOf<T extends string>(value: T, allowed: readonly string[], what: string): T {
  if (!allowed.includes(value)) throw new KnetError('EINVAL', `invalid ${what} "${value}"`, { field: what, value });
  return value;
}

const ROUTE_TYPES = ['unicast', 'local', 'broadcast', 'blackhole', 'unreachable', 'prohibit'];
const SCOPES = ['global', 'site', 'link', 'host', 'nowhere'];
const PROTOS = ['kernel', 'boot', 'static', 'bird'];
const TABLES = ['main', 'local', 'default'];
const NUD_STATES = ['PERMANENT', 'NOARP', 'REACHABLE', 'STALE', 'DELAY', 'PROBE', 'INCOMPLETE', 'FAILED'];

function mtuArgs(mtu: number | undefined): string[] {
  return mtu === undefined ? [] : ['mtu', uint(mtu, 'mtu')];
}

function macArgs(mac: string | undefined): string[] {
  return mac === undefined ? [] : ['address', parseMac(mac)];
}

/**
 * The iproute2 commands of {@link Host.linkAdd}: `link add NAME ... type KIND ...`, or for
 * TUN/TAP `tuntap add dev NAME mode tun|tap` (then `link set ... mtu` when one is given).
 *
 * @remarks
 * The name always follows the `name` keyword, so that a device called like an iproute2 keyword
 * (`brd`, `mtu`) is not parsed as one. A veth's peer is created directly in its namespace (`peer name P ... netns NS`), both ends
 * with the MTU, as the Go netlink library does for CNI plugins (iproute2 would otherwise leave
 * the peer at 1500). A bridge's ageing time is given in centiseconds (USER_HZ), as
 * `IFLA_BR_AGEING_TIME` expects. A vxlan device always gets `dstport` (default 8472, the Linux
 * default), which iproute2 otherwise warns about. Physical devices (`device`) cannot be
 * created.
 * @throws KnetError `EINVAL` for bad names, addresses or numbers; `EOPNOTSUPP` for `device`.
 * @see ip-link(8), ip-tuntap(8)
 */
export function linkAddArgs(o: LinkAddOptions): Iproute2Args[] {
  const name = checkIfname(o.name);
  switch (o.kind) {
    case 'veth':
      return [
        [
          'link', 'add', 'name', name, ...mtuArgs(o.mtu), ...macArgs(o.mac), 'type', 'veth',
          'peer', 'name', checkIfname(o.peer.name), ...mtuArgs(o.mtu), ...macArgs(o.peer.mac),
          ...(o.peer.netns !== undefined ? ['netns', o.peer.netns] : []),
        ],
      ];
    case 'bridge':
      return [
        [
          'link', 'add', 'name', name, ...mtuArgs(o.mtu), ...macArgs(o.mac), 'type', 'bridge',
          ...(o.ageingTime !== undefined ? ['ageing_time', uint(Math.round(o.ageingTime * 100), 'ageingTime')] : []),
        ],
      ];
    case 'vxlan':
      return [
        [
          'link', 'add', 'name', name, ...mtuArgs(o.mtu), ...macArgs(o.mac), 'type', 'vxlan', 'id', uint(o.id, 'id', 0xffffff),
          ...(o.local !== undefined ? ['local', ip4(o.local)] : []),
          ...(o.group !== undefined ? ['group', ip4(o.group)] : []),
          ...(o.dev !== undefined ? ['dev', checkIfname(o.dev)] : []),
          'dstport', uint(o.port ?? 8472, 'port', 65535),
          ...(o.learning === false ? ['nolearning'] : []),
        ],
      ];
    case 'dummy':
      return [['link', 'add', 'name', name, ...mtuArgs(o.mtu), ...macArgs(o.mac), 'type', 'dummy']];
    case 'tun':
      return [
        ['tuntap', 'add', 'dev', name, 'mode', oneOf(o.mode ?? 'tun', ['tun', 'tap'], 'mode')],
        ...(o.mtu !== undefined ? [['link', 'set', 'dev', name, ...mtuArgs(o.mtu)]] : []),
      ];
    case 'device':
      throw new KnetError('EOPNOTSUPP', `${name}: a physical device cannot be created in a namespace; use a veth pair`, { dev: name });
  }
}

/**
 * The iproute2 commands of {@link Host.linkSet} once the device is in its final namespace, in
 * the order SimHost applies them: name, mtu, address, master, bridge port flags, promisc, up.
 * (A namespace move comes first and is a command of its own.)
 *
 * @remarks Bridge port flags use `link set dev D type bridge_slave hairpin on ...`, one
 * netlink message for all of them, as `bridge link set` sends.
 * @see ip-link(8) (bridge_slave), bridge(8) (link set)
 */
export function linkSetArgs(name: string, o: Omit<LinkSetOptions, 'netns'>): Iproute2Args[] {
  let dev = checkIfname(name);
  const out: Iproute2Args[] = [];
  if (o.name !== undefined && o.name !== dev) {
    out.push(['link', 'set', 'dev', dev, 'name', checkIfname(o.name)]);
    dev = o.name;
  }
  if (o.mtu !== undefined) out.push(['link', 'set', 'dev', dev, ...mtuArgs(o.mtu)]);
  if (o.mac !== undefined) out.push(['link', 'set', 'dev', dev, ...macArgs(o.mac)]);
  if (o.master !== undefined) {
    out.push(o.master === null ? ['link', 'set', 'dev', dev, 'nomaster'] : ['link', 'set', 'dev', dev, 'master', checkIfname(o.master)]);
  }
  const port: string[] = [];
  const onOff = (b: boolean): string => (b ? 'on' : 'off');
  if (o.hairpin !== undefined) port.push('hairpin', onOff(o.hairpin));
  if (o.learning !== undefined) port.push('learning', onOff(o.learning));
  if (o.isolated !== undefined) port.push('isolated', onOff(o.isolated));
  if (port.length > 0) out.push(['link', 'set', 'dev', dev, 'type', 'bridge_slave', ...port]);
  if (o.promisc !== undefined) out.push(['link', 'set', 'dev', dev, 'promisc', onOff(o.promisc)]);
  if (o.up !== undefined) out.push(['link', 'set', 'dev', dev, o.up ? 'up' : 'down']);
  return out;
}

/** `addr add CIDR brd + dev DEV` / `addr del CIDR dev DEV`. @see ip-address(8) */
export function addrArgs(verb: 'add' | 'del', dev: string, cidr: string): Iproute2Args {
  checkAddress(cidr);
  // `brd +` sets the broadcast address for prefixes up to /30, as the Go netlink library does
  // (iproute2 leaves /31 and /32 without one, as does netlink).
  return verb === 'add' ? ['addr', 'add', cidr, 'brd', '+', 'dev', checkIfname(dev)] : ['addr', 'del', cidr, 'dev', checkIfname(dev)];
}

function routeDst(dst: string): string {
  return dst === 'default' ? 'default' : checkAddress(dst);
}

function tableArgs(t: RouteOptions['table']): string[] {
  return t === undefined ? [] : ['table', typeof t === 'number' ? uint(t, 'table') : oneOf(t, TABLES, 'table')];
}

/**
 * `route add|replace|del [TYPE] DST [via GW] [dev DEV] [table T] [proto P] [scope S] [src A]
 * [metric N] [onlink] [mtu N]`. For `del` only the fields the kernel matches on are sent
 * (type, destination, table, gateway, device, metric), as SimHost matches.
 * @see ip-route(8)
 */
export function routeArgs(verb: 'add' | 'replace' | 'del', o: RouteOptions): Iproute2Args {
  const type = o.type !== undefined && oneOf(o.type, ROUTE_TYPES, 'route type') !== 'unicast' ? [o.type] : [];
  const common = [
    ...type,
    routeDst(o.dst),
    ...(o.via !== undefined ? ['via', ip4(o.via)] : []),
    ...(o.dev !== undefined ? ['dev', checkIfname(o.dev)] : []),
    ...tableArgs(o.table),
  ];
  if (verb === 'del') return ['route', 'del', ...common, ...(o.metric !== undefined ? ['metric', uint(o.metric, 'metric')] : [])];
  return [
    'route',
    verb,
    ...common,
    ...(o.proto !== undefined ? ['proto', typeof o.proto === 'number' ? uint(o.proto, 'proto', 255) : oneOf(o.proto, PROTOS, 'proto')] : []),
    ...(o.scope !== undefined ? ['scope', oneOf(o.scope, SCOPES, 'scope')] : []),
    ...(o.src !== undefined ? ['src', ip4(o.src)] : []),
    ...(o.metric !== undefined ? ['metric', uint(o.metric, 'metric')] : []),
    ...(o.onlink === true ? ['onlink'] : []),
    ...(o.mtu !== undefined ? ['mtu', uint(o.mtu, 'mtu')] : []),
  ];
}

/** `neigh replace DST [lladdr MAC] dev DEV nud STATE` (state default `permanent`). @see ip-neighbour(8) */
export function neighReplaceArgs(o: NeighOptions): Iproute2Args {
  return [
    'neigh', 'replace', ip4(o.dst),
    ...(o.lladdr !== undefined ? ['lladdr', parseMac(o.lladdr)] : []),
    'dev', checkIfname(o.dev),
    'nud', oneOf(o.state ?? 'PERMANENT', NUD_STATES, 'nud state').toLowerCase(),
  ];
}

/** `neigh del DST dev DEV`. */
export function neighDelArgs(dst: string, dev: string): Iproute2Args {
  return ['neigh', 'del', ip4(dst), 'dev', checkIfname(dev)];
}

/** True when an FDB entry goes to the device's own table (`self`): asked for, or a remote (`dst`) entry. */
export function fdbIsSelf(o: FdbOptions): boolean {
  return o.self ?? o.dst !== undefined;
}

/**
 * `bridge fdb` arguments: a device's own entries (`self`, VXLAN remotes) are appended
 * (`fdb append MAC dev D dst IP self permanent`, so one MAC can have several remotes, as
 * flannel and the all-zero flood list need); entries in a bridge's table are replaced
 * (`fdb replace MAC dev PORT master static`), as SimHost sets them.
 * @see bridge(8)
 */
export function fdbArgs(verb: 'add' | 'del', o: FdbOptions): Iproute2Args {
  const self = fdbIsSelf(o);
  const where = [
    parseMac(o.mac), 'dev', checkIfname(o.dev),
    ...(o.dst !== undefined ? ['dst', ip4(o.dst)] : []),
    ...(o.vlan !== undefined ? ['vlan', uint(o.vlan, 'vlan', 4094)] : []),
  ];
  if (verb === 'del') return ['fdb', 'del', ...where, self ? 'self' : 'master'];
  return self ? ['fdb', 'append', ...where, 'self', 'permanent'] : ['fdb', 'replace', ...where, 'master', 'static'];
}
