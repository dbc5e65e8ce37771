import { KnetError } from '../errors/knet-error.js';
import type { FdbOptions, Host, LinkAddOptions, LinkSetOptions, NeighOptions, RouteOptions } from '../host/host.js';
import type { AddressInfo, FdbInfo, LinkInfo, NeighInfo, NetnsMeta, RouteInfo, Scope } from '../host/types.js';
import { formatIpv4, parseIpv4, parseIpv4Cidr, prefixMask, tryParseIpv4 } from '../ip/ipv4.js';
import { parseMac, ZERO_MAC, type Mac } from '../ip/mac.js';
import { SeededRng } from '../util/seeded-rng.js';
import { SimLink } from './link/sim-link.js';
import { NEIGH_DEFAULTS } from './neigh/neigh-table.js';
import { RT_TABLE_DEFAULT, RT_TABLE_LOCAL, RT_TABLE_MAIN, toRouteInfo, type SimRoute } from './route/route-table.js';
import { SimNetns, type SimAddress } from './sim-netns.js';

/** Options of {@link createSimHost}. */
export interface SimHostOptions {
  /** Seed of the host's RNG (MACs, reachable times). Default 1. */
  readonly seed?: number | string;
}

/** Maximum interface name length (IFNAMSIZ − 1). @see linux include/uapi/linux/if.h */
export const IFNAMSIZ_MAX = 15;

const IFNAME_RE = /^[^\s/:]{1,15}$/;

function tableId(t: RouteOptions['table']): number {
  if (t === undefined || t === 'main') return RT_TABLE_MAIN;
  if (t === 'local') return RT_TABLE_LOCAL;
  if (t === 'default') return RT_TABLE_DEFAULT;
  return t;
}

/**
 * The simulated kernel: a machine holding many network namespaces, implementing the
 * {@link Host} API in memory. The packet engine (`SimHost.engine`) moves packets through it.
 *
 * @remarks
 * Linux equivalent: one Linux machine whose nodes, pods and fabric are network namespaces,
 * which is exactly how `knet lab` builds a cluster for real, so the two dataplanes line up.
 * Time is an explicit clock in nanoseconds ({@link SimHost.now}); randomness comes from a
 * seeded RNG. Same calls, same state, byte for byte.
 * @see ip-link(8), ip-address(8), ip-route(8), ip-neighbour(8), bridge(8)
 */
export class SimHost implements Host {
  readonly kind = 'sim' as const;
  readonly namespaces = new Map<string, SimNetns>();
  readonly rng: SeededRng;
  /** Simulation clock, nanoseconds. */
  now = 0;

  constructor(options: SimHostOptions = {}) {
    this.rng = new SeededRng(options.seed ?? 1);
  }

  /** Advances the clock (timers such as ARP reachability and FDB ageing are read against it). */
  advance(ns: number): void {
    if (ns < 0) throw new KnetError('EINVAL', 'the clock cannot go backwards');
    this.now += ns;
  }

  /** The namespace, or `ENOENT` as `ip netns exec` reports a missing one. */
  ns(name: string): SimNetns {
    const n = this.namespaces.get(name);
    if (n === undefined) {
      throw new KnetError('ENOENT', `Cannot open network namespace "${name}": No such file or directory`, { netns: name });
    }
    return n;
  }

  /** The device, or `ENODEV` as iproute2 reports it (`Cannot find device "x"`). */
  link(netns: string | SimNetns, name: string): SimLink {
    const ns = typeof netns === 'string' ? this.ns(netns) : netns;
    const l = ns.links.get(name);
    if (l === undefined) throw new KnetError('ENODEV', `Cannot find device "${name}"`, { netns: ns.name, dev: name });
    return l;
  }

  // ---- namespaces -------------------------------------------------------------------------

  async netnsAdd(name: string, meta: NetnsMeta): Promise<void> {
    this.netnsAddSync(name, meta);
  }

  /** Synchronous {@link netnsAdd}: creates the namespace with its `lo` (down, as the kernel does). */
  netnsAddSync(name: string, meta: NetnsMeta): SimNetns {
    if (this.namespaces.has(name)) {
      throw new KnetError('EEXIST', `Cannot create namespace file "/run/netns/${name}": File exists`, { netns: name });
    }
    const ns = new SimNetns(name, meta);
    this.namespaces.set(name, ns);
    // lo starts down and without addresses; inetdev_event(NETDEV_UP) gives it 127.0.0.1/8.
    this.addLink(ns, 'lo', 'loopback', ZERO_MAC, 65536);
    return ns;
  }

  async netnsDel(name: string): Promise<void> {
    const ns = this.ns(name);
    for (const l of [...ns.links.values()]) if (l.kind === 'veth' && l.peer !== undefined) this.destroyLink(l.peer);
    this.namespaces.delete(name);
  }

  async netnsList(): Promise<string[]> {
    return [...this.namespaces.keys()];
  }

  async netnsExists(name: string): Promise<boolean> {
    return this.namespaces.has(name);
  }

  // ---- links ------------------------------------------------------------------------------

  private addLink(ns: SimNetns, name: string, kind: SimLink['kind'], mac: Mac, mtu: number): SimLink {
    if (!IFNAME_RE.test(name) || name === '.' || name === '..') {
      throw new KnetError('EINVAL', `"${name}" is not a valid device name`, { dev: name });
    }
    if (ns.links.has(name)) throw new KnetError('EEXIST', 'RTNETLINK answers: File exists', { netns: ns.name, dev: name });
    const link = new SimLink({ ifindex: ns.nextIfindex++, name, kind, mac, mtu, netns: ns });
    ns.links.set(name, link);
    ns.byIndex.set(link.ifindex, link);
    ns.sysctl.initDevice(name);
    return link;
  }

  async linkAdd(netns: string, o: LinkAddOptions): Promise<void> {
    this.linkAddSync(netns, o);
  }

  /** Synchronous {@link linkAdd}. */
  linkAddSync(netns: string, o: LinkAddOptions): SimLink {
    const ns = this.ns(netns);
    const mac = o.kind === 'tun' ? ZERO_MAC : o.mac !== undefined ? parseMac(o.mac) : this.rng.mac();
    switch (o.kind) {
      case 'veth': {
        const peerNs = o.peer.netns !== undefined ? this.ns(o.peer.netns) : ns;
        if (peerNs.links.has(o.peer.name)) {
          throw new KnetError('EEXIST', 'RTNETLINK answers: File exists', { netns: peerNs.name, dev: o.peer.name });
        }
        const a = this.addLink(ns, o.name, 'veth', mac, o.mtu ?? 1500);
        const b = this.addLink(peerNs, o.peer.name, 'veth', o.peer.mac !== undefined ? parseMac(o.peer.mac) : this.rng.mac(), o.mtu ?? 1500);
        a.peer = b;
        b.peer = a;
        return a;
      }
      case 'bridge': {
        const l = this.addLink(ns, o.name, 'bridge', mac, o.mtu ?? 1500);
        l.bridge = { fdb: new Map(), ageingTime: o.ageingTime ?? 300, macPinned: o.mac !== undefined, mtuPinned: o.mtu !== undefined, ports: new Set() };
        this.fdbAddLocal(l, l);
        return l;
      }
      case 'vxlan': {
        if (o.id < 0 || o.id > 0xffffff) throw new KnetError('EINVAL', `vxlan id ${o.id} out of range`, { field: 'id' });
        if (o.dev !== undefined) this.link(ns, o.dev);
        const l = this.addLink(ns, o.name, 'vxlan', mac, o.mtu ?? 1450);
        l.vxlan = {
          id: o.id,
          ...(o.local !== undefined ? { local: parseIpv4(o.local) } : {}),
          ...(o.dev !== undefined ? { dev: o.dev } : {}),
          port: o.port ?? 8472,
          learning: o.learning ?? true,
          ...(o.group !== undefined ? { group: parseIpv4(o.group) } : {}),
          fdb: new Map(),
        };
        return l;
      }
      case 'tun': {
        const l = this.addLink(ns, o.name, 'tun', mac, o.mtu ?? 1500);
        l.tunMode = o.mode ?? 'tun';
        if (l.tunMode === 'tap') l.mac = this.rng.mac();
        return l;
      }
      case 'dummy':
      case 'device':
        return this.addLink(ns, o.name, o.kind, mac, o.mtu ?? 1500);
    }
  }

  async linkSet(netns: string, name: string, o: LinkSetOptions): Promise<void> {
    this.linkSetSync(netns, name, o);
  }

  /** Synchronous {@link linkSet}. The order of effects follows `ip link set` (netns, name, mtu, address, master, up). */
  linkSetSync(netns: string, name: string, o: LinkSetOptions): void {
    let ns = this.ns(netns);
    const l = this.link(ns, name);
    if (o.netns !== undefined && o.netns !== ns.name) {
      const target = this.ns(o.netns);
      if (target.links.has(l.name)) throw new KnetError('EEXIST', 'RTNETLINK answers: File exists', { netns: target.name, dev: l.name });
      // Moving a device takes it down, drops its addresses and routes and releases its master.
      this.setDown(l);
      this.releaseMaster(l);
      this.dropAddresses(l);
      ns.links.delete(l.name);
      ns.byIndex.delete(l.ifindex);
      ns.sysctl.removeDevice(l.name);
      l.netns = target;
      // The kernel keeps the ifindex when it is free in the target namespace.
      if (target.byIndex.has(l.ifindex)) l.ifindex = target.nextIfindex++;
      else target.nextIfindex = Math.max(target.nextIfindex, l.ifindex + 1);
      target.links.set(l.name, l);
      target.byIndex.set(l.ifindex, l);
      target.sysctl.initDevice(l.name);
      ns = target;
    }
    if (o.name !== undefined && o.name !== l.name) {
      if (l.up) throw new KnetError('EBUSY', 'RTNETLINK answers: Device or resource busy', { dev: l.name });
      if (!IFNAME_RE.test(o.name)) throw new KnetError('EINVAL', `"${o.name}" is not a valid device name`, { dev: o.name });
      if (ns.links.has(o.name)) throw new KnetError('EEXIST', 'RTNETLINK answers: File exists', { dev: o.name });
      ns.links.delete(l.name);
      ns.sysctl.renameDevice(l.name, o.name);
      l.name = o.name;
      ns.links.set(l.name, l);
    }
    if (o.mtu !== undefined) {
      if (o.mtu < 68 || o.mtu > 65535) throw new KnetError('EINVAL', `mtu ${o.mtu} out of range`, { dev: l.name });
      l.mtu = o.mtu;
      if (l.bridge !== undefined) l.bridge.mtuPinned = true;
      if (l.master !== undefined) this.adjustBridgeMtu(l.master);
    }
    if (o.mac !== undefined) {
      const mac = parseMac(o.mac);
      if (l.master?.bridge !== undefined) this.fdbRemoveLocal(l.master, l);
      l.mac = mac;
      if (l.bridge !== undefined) {
        this.fdbRemoveLocal(l, l);
        l.bridge.macPinned = true;
        this.fdbAddLocal(l, l);
      }
      if (l.master?.bridge !== undefined) {
        this.fdbAddLocal(l.master, l);
        this.adjustBridgeMac(l.master);
      }
    }
    if (o.master !== undefined) {
      if (o.master === null) this.releaseMaster(l);
      else {
        const br = this.link(ns, o.master);
        if (br.bridge === undefined) throw new KnetError('EOPNOTSUPP', 'RTNETLINK answers: Operation not supported', { dev: br.name });
        if (br === l) throw new KnetError('EINVAL', 'a bridge cannot be its own port', { dev: l.name });
        if (l.master !== br) {
          this.releaseMaster(l);
          l.master = br;
          br.bridge.ports.add(l);
          l.bridgePort = { hairpin: false, learning: true, flood: true, isolated: false };
          this.fdbAddLocal(br, l);
          this.adjustBridgeMac(br);
          this.adjustBridgeMtu(br);
        }
      }
    }
    if (o.hairpin !== undefined || o.learning !== undefined || o.isolated !== undefined) {
      if (l.bridgePort === undefined) throw new KnetError('EOPNOTSUPP', `${l.name} is not a bridge port`, { dev: l.name });
      if (o.hairpin !== undefined) l.bridgePort.hairpin = o.hairpin;
      if (o.learning !== undefined) l.bridgePort.learning = o.learning;
      if (o.isolated !== undefined) l.bridgePort.isolated = o.isolated;
    }
    if (o.promisc !== undefined) l.promisc = o.promisc;
    if (o.up !== undefined) {
      if (o.up && !l.up) this.setUp(l);
      else if (!o.up && l.up) this.setDown(l);
    }
  }

  async linkDel(netns: string, name: string): Promise<void> {
    const l = this.link(netns, name);
    if (l.kind === 'loopback') throw new KnetError('EOPNOTSUPP', 'RTNETLINK answers: Operation not supported', { dev: name });
    this.destroyLink(l);
    if (l.peer !== undefined) this.destroyLink(l.peer);
  }

  private destroyLink(l: SimLink): void {
    const ns = l.netns;
    if (ns.links.get(l.name) !== l) return;
    this.setDown(l);
    this.releaseMaster(l);
    if (l.bridge !== undefined) for (const p of l.ports()) this.releaseMaster(p);
    this.dropAddresses(l);
    for (const t of ns.tables.values()) t.removeWhere((r) => r.dev === l.name);
    ns.neigh.flushDevice(l.ifindex);
    ns.links.delete(l.name);
    ns.byIndex.delete(l.ifindex);
    ns.sysctl.removeDevice(l.name);
  }

  private releaseMaster(l: SimLink): void {
    const br = l.master;
    if (br?.bridge === undefined) return;
    for (const [mac, e] of [...br.bridge.fdb]) if (e.port === l) br.bridge.fdb.delete(mac);
    br.bridge.ports.delete(l);
    delete l.master;
    delete l.bridgePort;
    this.adjustBridgeMac(br);
  }

  private fdbAddLocal(br: SimLink, port: SimLink): void {
    br.bridge?.fdb.set(port.mac, { mac: port.mac, port, state: 'permanent', updated: this.now });
  }

  private fdbRemoveLocal(br: SimLink, port: SimLink): void {
    const e = br.bridge?.fdb.get(port.mac);
    if (e !== undefined && e.port === port && e.state === 'permanent') br.bridge?.fdb.delete(port.mac);
  }

  /** br_stp_recalculate_bridge_id: an unpinned bridge takes the lowest MAC among its ports. */
  private adjustBridgeMac(br: SimLink): void {
    if (br.bridge === undefined || br.bridge.macPinned) return;
    const ports = br.ports();
    if (ports.length === 0) return;
    let lowest = ports[0]!.mac;
    for (const p of ports) if (p.mac < lowest) lowest = p.mac;
    if (lowest !== br.mac) {
      this.fdbRemoveLocal(br, br);
      br.mac = lowest;
      this.fdbAddLocal(br, br);
    }
  }

  /** br_mtu_auto_adjust: an unpinned bridge takes the smallest MTU among its ports. */
  private adjustBridgeMtu(br: SimLink): void {
    if (br.bridge === undefined || br.bridge.mtuPinned) return;
    const ports = br.ports();
    if (ports.length === 0) return;
    br.mtu = Math.min(...ports.map((p) => p.mtu));
  }

  private setUp(l: SimLink): void {
    l.up = true;
    const loopback = ((127 << 24) | 1) >>> 0;
    if (l.kind === 'loopback' && !l.netns.addresses.some((a) => a.link === l && a.ip === loopback)) {
      // inetdev_event(NETDEV_UP) on a loopback device: 127.0.0.1/8 scope host.
      this.addAddress(l.netns, l, loopback, 8, 'host');
      return;
    }
    // NETDEV_UP: fib_add_ifaddr() for every address of the device.
    for (const a of l.netns.addressesOf(l)) this.addIfaddrRoutes(a);
  }

  private setDown(l: SimLink): void {
    if (!l.up) return;
    l.up = false;
    // NETDEV_DOWN: fib_disable_ip() flushes every route through the device except the local
    // routes of its addresses (checked against kernel 6.18: `local A dev X` survives), and
    // arp_ifdown() flushes its neighbours.
    for (const t of l.netns.tables.values()) {
      t.removeWhere((r) => r.dev === l.name && !(r.type === 'local' && r.table === RT_TABLE_LOCAL && l.netns.localAddrs.get(r.dst)?.link === l));
    }
    l.netns.neigh.flushDevice(l.ifindex);
  }

  async linkList(netns: string): Promise<LinkInfo[]> {
    const ns = this.ns(netns);
    return [...ns.byIndex.values()].sort((a, b) => a.ifindex - b.ifindex).map((l) => this.linkInfo(l));
  }

  /** The `ip -d link` record of a device. */
  linkInfo(l: SimLink): LinkInfo {
    return {
      ifindex: l.ifindex,
      name: l.name,
      kind: l.kind,
      mac: l.mac,
      mtu: l.mtu,
      up: l.up,
      operstate: l.operstate,
      lowerUp: l.carrier,
      promisc: l.promisc,
      noarp: l.noarp,
      txqlen: l.txqlen,
      ...(l.master !== undefined ? { master: l.master.name } : {}),
      ...(l.peer !== undefined
        ? { peer: { ifindex: l.peer.ifindex, ...(l.peer.netns !== l.netns ? { netns: l.peer.netns.name } : {}) } }
        : {}),
      ...(l.bridgePort !== undefined ? { bridgePort: { ...l.bridgePort } } : {}),
      ...(l.vxlan !== undefined
        ? {
            vxlan: {
              id: l.vxlan.id,
              ...(l.vxlan.local !== undefined ? { local: formatIpv4(l.vxlan.local) } : {}),
              ...(l.vxlan.dev !== undefined ? { dev: l.vxlan.dev } : {}),
              port: l.vxlan.port,
              learning: l.vxlan.learning,
              ...(l.vxlan.group !== undefined ? { group: formatIpv4(l.vxlan.group) } : {}),
            },
          }
        : {}),
      ...(l.tunMode !== undefined ? { tunMode: l.tunMode } : {}),
      ...(l.bridge !== undefined ? { ageingTime: l.bridge.ageingTime } : {}),
    };
  }

  // ---- addresses --------------------------------------------------------------------------

  async addrAdd(netns: string, dev: string, cidr: string): Promise<void> {
    this.addrAddSync(netns, dev, cidr);
  }

  /**
   * Synchronous {@link addrAdd}. The broadcast address is set as the Go netlink library sets it
   * for a prefix shorter than /31 (so addresses made by CNI plugins print `brd`).
   */
  addrAddSync(netns: string, dev: string, cidr: string): void {
    const ns = this.ns(netns);
    const l = this.link(ns, dev);
    const slash = cidr.indexOf('/');
    const ip = parseIpv4(slash < 0 ? cidr : cidr.slice(0, slash));
    const prefix = slash < 0 ? 32 : parseIpv4Cidr(`0.0.0.0/${cidr.slice(slash + 1)}`).prefix;
    if (ns.addresses.some((a) => a.link === l && a.ip === ip)) {
      throw new KnetError('EEXIST', 'RTNETLINK answers: File exists', { netns, dev, address: cidr });
    }
    const scope: Scope = ip >>> 24 === 127 ? 'host' : 'global';
    const broadcast = prefix < 31 ? (ip | ~prefixMask(prefix)) >>> 0 : undefined;
    this.addAddress(ns, l, ip, prefix, scope, broadcast);
  }

  private addAddress(ns: SimNetns, link: SimLink, ip: number, prefix: number, scope: Scope, broadcast?: number): void {
    const a: SimAddress = { ip, prefix, scope, label: link.name, link, ...(broadcast !== undefined ? { broadcast } : {}) };
    ns.addresses.push(a);
    if (!ns.localAddrs.has(ip)) ns.localAddrs.set(ip, a);
    this.addIfaddrRoutes(a);
  }

  /**
   * fib_add_ifaddr(): the local route always; the broadcast and prefix routes only while the
   * device is up. Kernel 6.x no longer adds a broadcast route for the network address.
   * @see linux net/ipv4/fib_frontend.c
   */
  private addIfaddrRoutes(a: SimAddress): void {
    const ns = a.link.netns;
    const dev = a.link.name;
    const primary = this.primaryFor(a);
    const src = primary.ip;
    const put = (type: SimRoute['type'], dst: number, prefix: number, table: number, scope: SimRoute['scope']): void => {
      const t = ns.table(table);
      if (t.find(dst, prefix, 0, type) === undefined) {
        t.insert({ type, dst, prefix, table, scope, protocol: 'kernel', onlink: false, metric: 0, dev, prefsrc: src });
      }
    };
    put('local', a.ip, 32, RT_TABLE_LOCAL, 'host');
    if (!a.link.up) return;
    if (a.broadcast !== undefined && a.broadcast !== 0xffffffff) put('broadcast', a.broadcast, 32, RT_TABLE_LOCAL, 'link');
    const net = (a.ip & prefixMask(a.prefix)) >>> 0;
    if (net !== 0 && (net !== a.ip || a.prefix < 32)) {
      if (a.link.kind === 'loopback') put('local', net, a.prefix, RT_TABLE_LOCAL, 'host');
      else put('unicast', net, a.prefix, RT_TABLE_MAIN, 'link');
      if (a.prefix < 31) put('broadcast', (net | ~prefixMask(a.prefix)) >>> 0, 32, RT_TABLE_LOCAL, 'link');
    }
  }

  /** The primary address of the subnet an address belongs to (the `src` of its routes). */
  private primaryFor(a: SimAddress): SimAddress {
    const m = prefixMask(a.prefix);
    return a.link.netns.addresses.find((b) => b.link === a.link && b.prefix === a.prefix && ((b.ip & m) >>> 0) === ((a.ip & m) >>> 0)) ?? a;
  }

  async addrDel(netns: string, dev: string, cidr: string): Promise<void> {
    const ns = this.ns(netns);
    const l = this.link(ns, dev);
    const ip = parseIpv4(cidr.split('/')[0] ?? '');
    const i = ns.addresses.findIndex((a) => a.link === l && a.ip === ip);
    if (i < 0) throw new KnetError('ENOENT', 'RTNETLINK answers: Cannot assign requested address', { netns, dev, address: cidr });
    const [a] = ns.addresses.splice(i, 1);
    this.removeAddressRoutes(ns, a!);
  }

  private removeAddressRoutes(ns: SimNetns, a: SimAddress): void {
    if (ns.localAddrs.get(a.ip) === a) {
      ns.localAddrs.delete(a.ip);
      const other = ns.addresses.find((b) => b.ip === a.ip);
      if (other !== undefined) ns.localAddrs.set(a.ip, other);
    }
    const dev = a.link.name;
    ns.local.remove(a.ip, 32, (r) => r.type === 'local' && r.dev === dev);
    // Prefix and broadcast routes go when no other address of the device shares the subnet.
    const m = prefixMask(a.prefix);
    const net = (a.ip & m) >>> 0;
    const shared = ns.addresses.some((b) => b.link === a.link && b.prefix === a.prefix && ((b.ip & m) >>> 0) === net);
    if (!shared) {
      ns.main.remove(net, a.prefix, (r) => r.dev === dev && r.protocol === 'kernel');
      if (a.prefix < 31) ns.local.remove((net | ~m) >>> 0, 32, (r) => r.type === 'broadcast' && r.dev === dev);
    }
    // Routes using the address as prefsrc die with it (fib_sync_down_addr).
    for (const t of ns.tables.values()) t.removeWhere((r) => r.prefsrc === a.ip && r.protocol !== 'kernel');
  }

  private dropAddresses(l: SimLink): void {
    const ns = l.netns;
    for (const a of ns.addressesOf(l)) {
      ns.addresses.splice(ns.addresses.indexOf(a), 1);
      this.removeAddressRoutes(ns, a);
    }
  }

  async addrList(netns: string): Promise<AddressInfo[]> {
    const ns = this.ns(netns);
    return [...ns.addresses]
      .sort((a, b) => a.link.ifindex - b.link.ifindex)
      .map((a) => ({
        ifindex: a.link.ifindex,
        dev: a.link.name,
        family: 'inet' as const,
        local: formatIpv4(a.ip),
        prefixlen: a.prefix,
        ...(a.broadcast !== undefined ? { broadcast: formatIpv4(a.broadcast) } : {}),
        scope: a.scope,
        label: a.label,
      }));
  }

  // ---- routes -----------------------------------------------------------------------------

  /** Parses and checks a route as `fib_create_info()` / `fib_check_nh()` would. */
  private resolveRoute(ns: SimNetns, o: RouteOptions): SimRoute {
    let dst = 0;
    let prefix = 0;
    if (o.dst !== 'default') {
      const c = o.dst.includes('/') ? parseIpv4Cidr(o.dst) : { address: parseIpv4(o.dst), prefix: 32 };
      dst = c.address;
      prefix = c.prefix;
    }
    const type = o.type ?? 'unicast';
    const table = tableId(o.table ?? (type === 'local' || type === 'broadcast' ? 'local' : 'main'));
    const gateway = o.via !== undefined ? parseIpv4(o.via) : undefined;
    let dev = o.dev;
    if (dev !== undefined) {
      const l = this.link(ns, dev);
      if (!l.up && (type === 'unicast' || type === 'local')) {
        throw new KnetError('ENETUNREACH', 'RTNETLINK answers: Network is down', { netns: ns.name, dev });
      }
    }
    const onlink = o.onlink ?? false;
    if (gateway !== undefined && type === 'unicast' && !onlink) {
      // fib_check_nh_v4_gw: the gateway must be reachable through a link-scope route (or be
      // on-link through dev's connected routes), not via another gateway.
      const via = ns.main.lookup(gateway, (r) => r.type === 'unicast' && r.gateway === undefined && (dev === undefined || r.dev === dev));
      if (via === undefined || ns.localAddrs.has(gateway)) {
        throw new KnetError('ENETUNREACH', 'Error: Nexthop has invalid gateway.', { netns: ns.name, via: o.via });
      }
      dev ??= via.dev;
    }
    if (gateway !== undefined && onlink && dev === undefined) {
      throw new KnetError('EINVAL', 'Error: Nexthop device required for onlink.', { netns: ns.name });
    }
    if (type === 'unicast' && dev === undefined) throw new KnetError('EINVAL', 'Error: Device for nexthop is not up.', { netns: ns.name });
    const scope: Scope =
      o.scope ??
      (type === 'local' ? 'host' : type === 'broadcast' ? 'link' : type === 'unicast' && gateway === undefined ? 'link' : 'global');
    let prefsrc: number | undefined;
    if (o.src !== undefined) {
      prefsrc = parseIpv4(o.src);
      if (!ns.localAddrs.has(prefsrc)) throw new KnetError('EINVAL', 'Error: Invalid prefsrc address.', { netns: ns.name, src: o.src });
    }
    return {
      type,
      dst,
      prefix,
      table,
      ...(dev !== undefined ? { dev } : {}),
      ...(gateway !== undefined ? { gateway } : {}),
      ...(prefsrc !== undefined ? { prefsrc } : {}),
      metric: o.metric ?? 0,
      scope,
      protocol: o.proto ?? 'boot',
      onlink,
      ...(o.mtu !== undefined ? { mtu: o.mtu } : {}),
    };
  }

  async routeAdd(netns: string, o: RouteOptions): Promise<void> {
    this.routeAddSync(netns, o);
  }

  /** Synchronous {@link routeAdd}. */
  routeAddSync(netns: string, o: RouteOptions): void {
    const ns = this.ns(netns);
    const r = this.resolveRoute(ns, o);
    const t = ns.table(r.table);
    if (t.find(r.dst, r.prefix, r.metric) !== undefined) {
      throw new KnetError('EEXIST', 'RTNETLINK answers: File exists', { netns, dst: o.dst });
    }
    t.insert(r);
  }

  async routeReplace(netns: string, o: RouteOptions): Promise<void> {
    const ns = this.ns(netns);
    const r = this.resolveRoute(ns, o);
    const t = ns.table(r.table);
    t.remove(r.dst, r.prefix, (x) => x.metric === r.metric);
    t.insert(r);
  }

  async routeDel(netns: string, o: RouteOptions): Promise<void> {
    const ns = this.ns(netns);
    let dst = 0;
    let prefix = 0;
    if (o.dst !== 'default') {
      const c = o.dst.includes('/') ? parseIpv4Cidr(o.dst) : { address: parseIpv4(o.dst), prefix: 32 };
      dst = c.address;
      prefix = c.prefix;
    }
    const t = ns.table(tableId(o.table));
    const gw = o.via !== undefined ? parseIpv4(o.via) : undefined;
    const n = t.remove(dst, prefix, (r) =>
      (o.metric === undefined || r.metric === o.metric) &&
      (o.dev === undefined || r.dev === o.dev) &&
      (gw === undefined || r.gateway === gw) &&
      (o.type === undefined || r.type === o.type));
    if (n === 0) throw new KnetError('ENOENT', 'RTNETLINK answers: No such process', { netns, dst: o.dst });
  }

  async routeList(netns: string): Promise<RouteInfo[]> {
    const ns = this.ns(netns);
    const out: RouteInfo[] = [];
    for (const id of [...ns.tables.keys()].sort((a, b) => (a === RT_TABLE_LOCAL ? 1 : b === RT_TABLE_LOCAL ? -1 : a - b))) {
      for (const r of ns.table(id).list()) out.push(toRouteInfo(r));
    }
    return out;
  }

  // ---- neighbours -------------------------------------------------------------------------

  async neighReplace(netns: string, o: NeighOptions): Promise<void> {
    const ns = this.ns(netns);
    const l = this.link(ns, o.dev);
    const ip = parseIpv4(o.dst);
    ns.neigh.set({
      ip,
      ifindex: l.ifindex,
      ...(o.lladdr !== undefined ? { lladdr: parseMac(o.lladdr) } : {}),
      state: o.state ?? 'PERMANENT',
      confirmed: this.now,
      updated: this.now,
      reachableNs: NEIGH_DEFAULTS.baseReachableMs * 1e6,
      probes: 0,
      router: false,
    });
  }

  async neighDel(netns: string, dst: string, dev: string): Promise<void> {
    const ns = this.ns(netns);
    const l = this.link(ns, dev);
    if (!ns.neigh.delete(l.ifindex, parseIpv4(dst))) {
      throw new KnetError('ENOENT', 'RTNETLINK answers: No such file or directory', { netns, dst, dev });
    }
  }

  async neighList(netns: string): Promise<NeighInfo[]> {
    const ns = this.ns(netns);
    return ns.neigh
      .list(this.now)
      .map((e) => ({ e, l: ns.byIndex.get(e.ifindex) }))
      .filter((x) => x.l !== undefined)
      .map(({ e, l }) => ({
        dst: formatIpv4(e.ip),
        dev: l!.name,
        ...(e.lladdr !== undefined && e.state !== 'INCOMPLETE' && e.state !== 'FAILED' ? { lladdr: e.lladdr } : {}),
        state: e.state,
        router: e.router,
      }));
  }

  // ---- fdb --------------------------------------------------------------------------------

  async fdbAdd(netns: string, o: FdbOptions): Promise<void> {
    const ns = this.ns(netns);
    const l = this.link(ns, o.dev);
    const mac = parseMac(o.mac);
    if (l.vxlan !== undefined && (o.self ?? true)) {
      if (o.dst === undefined) throw new KnetError('EINVAL', 'vxlan fdb entries need a dst', { field: 'dst' });
      const dst = parseIpv4(o.dst);
      const e = l.vxlan.fdb.get(mac);
      if (e === undefined) l.vxlan.fdb.set(mac, { mac, dsts: [dst], state: 'permanent', updated: this.now });
      else if (!e.dsts.includes(dst)) e.dsts.push(dst);
      return;
    }
    const br = l.master;
    if (br?.bridge === undefined) throw new KnetError('EINVAL', `${o.dev} is not a bridge port`, { dev: o.dev });
    br.bridge.fdb.set(mac, { mac, port: l, state: 'static', updated: this.now });
  }

  async fdbDel(netns: string, o: FdbOptions): Promise<void> {
    const ns = this.ns(netns);
    const l = this.link(ns, o.dev);
    const mac = parseMac(o.mac);
    if (l.vxlan !== undefined) {
      const e = l.vxlan.fdb.get(mac);
      if (e === undefined) throw new KnetError('ENOENT', 'RTNETLINK answers: No such file or directory', { dev: o.dev, mac });
      if (o.dst !== undefined) {
        const d = parseIpv4(o.dst);
        const i = e.dsts.indexOf(d);
        if (i < 0) throw new KnetError('ENOENT', 'RTNETLINK answers: No such file or directory', { dev: o.dev, mac });
        e.dsts.splice(i, 1);
        if (e.dsts.length > 0) return;
      }
      l.vxlan.fdb.delete(mac);
      return;
    }
    const br = l.master;
    const e = br?.bridge?.fdb.get(mac);
    if (br?.bridge === undefined || e === undefined || e.port !== l) {
      throw new KnetError('ENOENT', 'RTNETLINK answers: No such file or directory', { dev: o.dev, mac });
    }
    br.bridge.fdb.delete(mac);
  }

  async fdbList(netns: string): Promise<FdbInfo[]> {
    const ns = this.ns(netns);
    const out: FdbInfo[] = [];
    const masterEntries = (port: SimLink): void => {
      const br = port.kind === 'bridge' ? port : port.master;
      if (br?.bridge === undefined) return;
      const ageNs = br.bridge.ageingTime * 1e9;
      for (const e of br.bridge.fdb.values()) {
        if (e.port !== port || (e.state === 'learned' && this.now - e.updated > ageNs)) continue;
        out.push({
          mac: e.mac,
          dev: port.name,
          master: br.name,
          state: e.state,
          self: false,
          ...(e.state === 'learned' ? { updated: Math.floor((this.now - e.updated) / 1e9) } : {}),
        });
      }
    };
    const selfEntries = (l: SimLink): void => {
      for (const mac of multicastList(l)) out.push({ mac, dev: l.name, state: 'permanent', self: true });
    };
    // rtnl_fdb_dump walks devices in ifindex order: a bridge lists its own (self) multicast
    // addresses, then its master entries; a port lists its bridge's entries for it, then its
    // own multicast addresses; a vxlan device lists its remote entries (checked against
    // `bridge fdb show` on kernel 6.18).
    for (const l of [...ns.byIndex.values()].sort((a, b) => a.ifindex - b.ifindex)) {
      if (l.bridge !== undefined) {
        selfEntries(l);
        masterEntries(l);
      } else if (l.vxlan !== undefined) {
        for (const e of l.vxlan.fdb.values()) {
          for (const d of e.dsts) out.push({ mac: e.mac, dev: l.name, dst: formatIpv4(d), state: e.state === 'learned' ? 'learned' : 'permanent', self: true });
        }
      } else {
        masterEntries(l);
        selfEntries(l);
      }
    }
    return out;
  }

  // ---- sysctl -----------------------------------------------------------------------------

  async sysctlSet(netns: string, key: string, value: string): Promise<void> {
    this.ns(netns).sysctl.set(key, value);
  }

  async sysctlGet(netns: string, key: string): Promise<string> {
    return this.ns(netns).sysctl.get(key);
  }

  // ---- helpers for the engine -------------------------------------------------------------

  /** Parses a dotted quad without throwing (engine input). */
  static ip(text: string): number | undefined {
    return tryParseIpv4(text);
  }
}

/**
 * The link-layer multicast addresses a device has joined, as `bridge fdb show` lists them as
 * `self permanent` entries: the IPv6 all-nodes group (33:33:00:00:00:01) on every Ethernet
 * device, the IPv4 all-hosts group (01:00:5e:00:00:01) while it is up (ip_mc_up), and on an up
 * bridge the multicast-router-discovery groups (01:00:5e:00:00:6a, 33:33:00:00:00:6a).
 * @see linux net/ipv4/igmp.c ip_mc_up; net/bridge/br_multicast.c
 */
function multicastList(l: SimLink): string[] {
  if (l.kind === 'loopback' || l.kind === 'vxlan' || !l.ethernet) return [];
  const out = ['33:33:00:00:00:01'];
  if (l.kind === 'bridge' && l.up) out.push('01:00:5e:00:00:6a', '33:33:00:00:00:6a');
  if (l.up) out.push('01:00:5e:00:00:01');
  return out;
}

/**
 * Creates an empty simulated machine.
 *
 * @example
 * ```ts
 * import { createSimHost } from '@knet/core';
 * const host = createSimHost({ seed: 7 });
 * await host.netnsAdd('knet-demo-a', { role: 'node', node: 'a' });
 * await host.linkSet('knet-demo-a', 'lo', { up: true });
 * ```
 */
export function createSimHost(options: SimHostOptions = {}): SimHost {
  return new SimHost(options);
}
