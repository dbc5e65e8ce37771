import { KnetError } from '../errors/knet-error.js';
import type {
  FdbOptions,
  Host,
  HostIptablesRestoreOptions,
  HostIptablesSaveOptions,
  LinkAddOptions,
  LinkSetOptions,
  NeighOptions,
  RouteOptions,
} from '../host/host.js';
import { formatConntrackList } from './conntrack/format-conntrack-list.js';
import { applyIpsetRestore } from './ipset/ipset-restore.js';
import { formatIpsetSave } from './ipset/ipset-save.js';
import { applyIptablesRestore } from './netfilter/iptables-restore.js';
import { isIpsetReferenced } from './netfilter/netfilter-state.js';
import { formatIptablesSave } from './netfilter/iptables-save.js';
import type { AddressInfo, FdbInfo, LinkInfo, NeighInfo, NetnsMeta, RouteInfo, Scope } from '../host/types.js';
import { formatIpv4, parseIpv4, parseIpv4Cidr, prefixMask, tryParseIpv4 } from '../ip/ipv4.js';
import { isMulticastMac, parseMac, ZERO_MAC, type Mac } from '../ip/mac.js';
import { SeededRng } from '../util/seeded-rng.js';
import { SimLink } from './link/sim-link.js';
import { NEIGH_DEFAULTS } from './neigh/neigh-table.js';
import { RT_TABLE_DEFAULT, RT_TABLE_LOCAL, RT_TABLE_MAIN, toRouteInfo, type SimRoute } from './route/route-table.js';
import { SimNetns, type SimAddress } from './sim-netns.js';

/**
 * SimHost's extension of {@link Host.addrAdd}: what `ip addr add` can say beyond the CIDR and
 * the Host API cannot yet.
 */
export interface SimAddrOptions {
  /** `brd`: `'+'` (derived from the prefix, for /30 and shorter; the Host API's default), an address, or `null` for none. */
  readonly broadcast?: string | null;
  /** `label` (default: the device name). */
  readonly label?: string;
}

/** SimHost's extension of {@link Host.neighReplace}: the `router` flag (NTF_ROUTER). */
export interface SimNeighOptions extends NeighOptions {
  readonly router?: boolean;
}

/**
 * SimHost's extension of {@link Host.fdbAdd} for bridge entries: what `bridge fdb add` says
 * beyond the Host API's `bridge fdb replace MAC dev PORT master static`.
 */
export interface SimFdbOptions extends FdbOptions {
  /** `static` (the Host API's) or `permanent` (iproute2's default for `bridge fdb add`: a local entry). */
  readonly state?: 'permanent' | 'static';
  /** `bridge fdb add` (NLM_F_EXCL): EEXIST when the bridge has the MAC already, instead of replacing it. */
  readonly exclusive?: boolean;
}

/** Options of {@link createSimHost}. */
export interface SimHostOptions {
  /** Seed of the host's RNG (MACs, reachable times). Default 1. */
  readonly seed?: number | string;
}

/** Maximum interface name length (IFNAMSIZ − 1). @see linux include/uapi/linux/if.h */
export const IFNAMSIZ_MAX = 15;

const IFNAME_RE = /^[^\s/:]{1,15}$/;

/** VXLAN_HEADROOM: outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14). @see linux include/net/vxlan.h */
const VXLAN_HEADROOM = 50;

/** Scopes by their rt_scope value (RT_SCOPE_UNIVERSE 0 ... RT_SCOPE_NOWHERE 255). @see rtnetlink(7) */
const SCOPE_RANK: Readonly<Record<Scope, number>> = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 };

/** IGMPV3_ALL_MCR, 224.0.0.22: where IGMPv3 membership reports go. @see linux include/uapi/linux/igmp.h */
const IGMPV3_ALL_MCR = ((224 << 24) | 22) >>> 0;

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

  private checkName(ns: SimNetns, name: string): void {
    if (!IFNAME_RE.test(name) || name === '.' || name === '..') {
      throw new KnetError('EINVAL', `"${name}" is not a valid device name`, { dev: name });
    }
    if (ns.links.has(name)) throw new KnetError('EEXIST', 'RTNETLINK answers: File exists', { netns: ns.name, dev: name });
  }

  private addLink(ns: SimNetns, name: string, kind: SimLink['kind'], mac: Mac, mtu: number): SimLink {
    this.checkName(ns, name);
    const link = new SimLink({ ifindex: ns.allocIfindex(), name, kind, mac, mtu, netns: ns });
    ns.links.set(name, link);
    ns.byIndex.set(link.ifindex, link);
    ns.sysctl.initDevice(name);
    return link;
  }

  async linkAdd(netns: string, o: LinkAddOptions): Promise<void> {
    this.linkAddSync(netns, o);
  }

  /**
   * Synchronous {@link linkAdd}.
   *
   * @remarks
   * - veth: the peer is registered first, so in one namespace it gets the lower ifindex; both
   *   ends start without carrier (veth_newlink: register_netdevice(peer) before dev,
   *   netif_carrier_off on both), and linkwatch computes their operational states in that
   *   order. The Host API's `mtu` is given to both ends.
   * - bridge: a random MAC that is not yet the bridge id; a MAC given at creation pins it and
   *   goes through br_stp_change_bridge_id, whose port-state selection finds no forwarding port
   *   and turns the carrier off (br_dev_newlink). An MTU given at creation does not pin it
   *   (rtnl_create_link sets dev->mtu without br_change_mtu).
   * - vxlan: without an MTU, the underlay device's minus VXLAN_HEADROOM (50), else 1500
   *   (vxlan_config_apply).
   * - tun: what `ip tuntap add` makes: a persistent device no process holds, so without carrier
   *   (__tun_detach: netif_carrier_off); a tap gets a random MAC (tun_net_initialize). See
   *   {@link SimHost.tunOpen} for a process holding it.
   * @see linux drivers/net/veth.c (veth_newlink), net/bridge/br_netlink.c (br_dev_newlink),
   *   net/core/rtnetlink.c (rtnl_create_link), drivers/net/vxlan/vxlan_core.c (vxlan_config_apply),
   *   drivers/net/tun.c
   */
  linkAddSync(netns: string, o: LinkAddOptions): SimLink {
    const ns = this.ns(netns);
    const mac = o.kind === 'tun' ? ZERO_MAC : o.mac !== undefined ? parseMac(o.mac) : this.rng.mac();
    switch (o.kind) {
      case 'veth': {
        const peerNs = o.peer.netns !== undefined ? this.ns(o.peer.netns) : ns;
        this.checkName(ns, o.name);
        if (peerNs === ns && o.peer.name === o.name) throw new KnetError('EEXIST', 'RTNETLINK answers: File exists', { netns: ns.name, dev: o.name });
        this.checkName(peerNs, o.peer.name);
        const peerMac = o.peer.mac !== undefined ? parseMac(o.peer.mac) : this.rng.mac();
        const b = this.addLink(peerNs, o.peer.name, 'veth', peerMac, o.mtu ?? 1500);
        const a = this.addLink(ns, o.name, 'veth', mac, o.mtu ?? 1500);
        a.peer = b;
        b.peer = a;
        b.linkwatch();
        a.linkwatch();
        return a;
      }
      case 'bridge': {
        const l = this.addLink(ns, o.name, 'bridge', mac, o.mtu ?? 1500);
        l.bridge = {
          fdb: new Map(),
          ageingTime: o.ageingTime ?? 300,
          macPinned: o.mac !== undefined,
          mtuPinned: false,
          ports: new Set(),
          bridgeId: ZERO_MAC,
          carrier: true,
        };
        this.fdbAddLocal(l, l, l.mac);
        if (o.mac !== undefined) this.brChangeBridgeId(l, mac);
        return l;
      }
      case 'vxlan': {
        if (o.id < 0 || o.id > 0xffffff) throw new KnetError('EINVAL', `vxlan id ${o.id} out of range`, { field: 'id' });
        const lower = o.dev !== undefined ? this.link(ns, o.dev) : undefined;
        const l = this.addLink(ns, o.name, 'vxlan', mac, o.mtu ?? (lower !== undefined ? Math.max(68, lower.mtu - VXLAN_HEADROOM) : 1500));
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
        l.tunPersistent = true;
        l.linkwatch();
        return l;
      }
      case 'dummy':
      case 'device':
        return this.addLink(ns, o.name, o.kind, mac, o.mtu ?? 1500);
    }
  }

  /**
   * A process opens `/dev/net/tun` and attaches to the device NAME (TUNSETIFF), as flanneld's
   * udp backend does for flannel0. Not part of the Host API (on LinuxHost the process itself
   * does it). An existing (persistent) device gets its carrier back, so linkwatch reports it
   * UP; a missing one is created, non-persistent, with the carrier it was born with, which
   * linkwatch never looked at: UNKNOWN.
   *
   * @remarks Linux equivalent: `open("/dev/net/tun")` + `ioctl(TUNSETIFF)`.
   * @throws `EINVAL` when NAME is not a tun/tap device of that mode, `EBUSY` when a process already holds it
   * @see linux drivers/net/tun.c (tun_set_iff, tun_attach)
   */
  tunOpen(netns: string, name: string, mode: 'tun' | 'tap'): void {
    const ns = this.ns(netns);
    const l = ns.links.get(name);
    if (l === undefined) {
      const created = this.addLink(ns, name, 'tun', mode === 'tap' ? this.rng.mac() : ZERO_MAC, 1500);
      created.tunMode = mode;
      created.tunAttached = true;
      return;
    }
    if (l.kind !== 'tun' || l.tunMode !== mode) throw new KnetError('EINVAL', `${name} is not a ${mode} device`, { netns, dev: name });
    if (l.tunAttached) throw new KnetError('EBUSY', 'ioctl(TUNSETIFF): Device or resource busy', { netns, dev: name });
    l.tunAttached = true;
    this.carrierChanged(l);
  }

  /**
   * The process holding a tun/tap device closes it (or exits): a persistent device loses its
   * carrier, a non-persistent one is unregistered. Not part of the Host API.
   *
   * @remarks Linux equivalent: `close()` of the `/dev/net/tun` descriptor.
   * @throws `ENODEV`, `EINVAL` when no process holds NAME
   * @see linux drivers/net/tun.c (__tun_detach)
   */
  tunClose(netns: string, name: string): void {
    const l = this.link(netns, name);
    if (l.kind !== 'tun' || !l.tunAttached) throw new KnetError('EINVAL', `no process holds ${name}`, { netns, dev: name });
    l.tunAttached = false;
    if (!l.tunPersistent) this.destroyLink(l);
    else this.carrierChanged(l);
  }

  async linkSet(netns: string, name: string, o: LinkSetOptions): Promise<void> {
    this.linkSetSync(netns, name, o);
  }

  /**
   * Synchronous {@link linkSet}. The order of effects follows `ip link set` (netns, name, mtu,
   * address, master, up).
   *
   * @remarks
   * - netns: dev_change_net_namespace closes the device and unregisters it from its namespace
   *   (its addresses, every route through it, its neighbours and its bridge go), then keeps its
   *   ifindex if that is free in the target (without moving the target's ifindex search) or
   *   takes a new one. Bridges and lo are netns-local (NETIF_F_NETNS_LOCAL): EINVAL.
   * - name: allowed while up since Linux 6.3 (dev_change_name); the routes through the device,
   *   vxlan devices on it and its address labels follow (inetdev_changename).
   * - mtu on a bridge pins it (br_change_mtu sets BROPT_MTU_SET_BY_USER); on a port it re-runs
   *   br_mtu_auto_adjust (NETDEV_CHANGEMTU).
   * - address on a bridge pins it and changes the bridge id (br_set_mac_address); on a port it
   *   moves the port's local FDB entry and recalculates the bridge id (NETDEV_CHANGEADDR).
   * @see linux net/core/dev.c (__dev_change_net_namespace, dev_change_name),
   *   net/bridge/br_device.c (br_change_mtu, br_set_mac_address), net/bridge/br.c (br_device_event)
   */
  linkSetSync(netns: string, name: string, o: LinkSetOptions): void {
    let ns = this.ns(netns);
    const l = this.link(ns, name);
    if (o.netns !== undefined && o.netns !== ns.name) {
      const target = this.ns(o.netns);
      if (l.kind === 'bridge' || l.kind === 'loopback') {
        throw new KnetError('EINVAL', 'RTNETLINK answers: Invalid argument', { netns: ns.name, dev: l.name });
      }
      if (target.links.has(l.name)) {
        throw new KnetError('EEXIST', 'Error: An interface with the same name exists in the target netns.', { netns: target.name, dev: l.name });
      }
      this.setDown(l);
      this.releaseMaster(l);
      this.dropAddresses(l);
      for (const t of ns.tables.values()) t.removeWhere((r) => r.dev === l.name);
      ns.neigh.flushDevice(l.ifindex);
      ns.links.delete(l.name);
      ns.byIndex.delete(l.ifindex);
      ns.sysctl.removeDevice(l.name);
      l.netns = target;
      if (target.byIndex.has(l.ifindex)) l.ifindex = target.allocIfindex();
      target.links.set(l.name, l);
      target.byIndex.set(l.ifindex, l);
      target.sysctl.initDevice(l.name);
      ns = target;
    }
    if (o.name !== undefined && o.name !== l.name) this.rename(ns, l, o.name);
    if (o.mtu !== undefined) {
      if (o.mtu < 68 || o.mtu > 65535) throw new KnetError('EINVAL', `mtu ${o.mtu} out of range`, { dev: l.name });
      l.mtu = o.mtu;
      if (l.bridge !== undefined) l.bridge.mtuPinned = true;
      if (l.master !== undefined) this.brMtuAutoAdjust(l.master);
    }
    if (o.mac !== undefined) {
      const mac = parseMac(o.mac);
      if (l.bridge !== undefined) {
        l.bridge.macPinned = true;
        if (mac !== l.mac) this.brChangeBridgeId(l, mac);
      } else if (l.master?.bridge !== undefined && mac !== l.mac) {
        this.brFdbChangeAddr(l.master, l, mac);
        l.mac = mac;
        this.brRecalculateBridgeId(l.master);
      } else l.mac = mac;
    }
    if (o.master !== undefined) {
      if (o.master === null) this.releaseMaster(l);
      else {
        const br = this.link(ns, o.master);
        if (br.bridge === undefined) throw new KnetError('EOPNOTSUPP', 'RTNETLINK answers: Operation not supported', { dev: br.name });
        if (br === l) throw new KnetError('EINVAL', 'a bridge cannot be its own port', { dev: l.name });
        if (l.master !== br) {
          this.releaseMaster(l);
          this.brAddIf(br, l);
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

  /**
   * `ip link set DEV name NEW`, allowed while the device is up since Linux 6.3. The routes
   * through it and vxlan devices on it follow the name; inetdev_changename relabels its
   * addresses in list order: the first gets the new name, each other one the new name plus its
   * old `:suffix`, or `:N` (its position) when it had none.
   * @see linux net/core/dev.c (dev_change_name), net/ipv4/devinet.c (inetdev_changename)
   */
  private rename(ns: SimNetns, l: SimLink, to: string): void {
    if (!IFNAME_RE.test(to)) throw new KnetError('EINVAL', `"${to}" is not a valid device name`, { dev: to });
    if (ns.links.has(to)) throw new KnetError('EEXIST', 'RTNETLINK answers: File exists', { netns: ns.name, dev: to });
    const from = l.name;
    ns.links.delete(from);
    ns.sysctl.renameDevice(from, to);
    l.name = to;
    ns.links.set(to, l);
    for (const t of ns.tables.values()) {
      const moved: SimRoute[] = [];
      t.removeWhere((r) => (r.dev === from ? (moved.push(r), true) : false));
      for (const r of moved) t.insert({ ...r, dev: to });
    }
    for (const v of ns.links.values()) if (v.vxlan?.dev === from) v.vxlan = { ...v.vxlan, dev: to };
    let named = 0;
    for (const a of ns.addressesOf(l)) {
      named++;
      if (named === 1) {
        a.label = to;
        continue;
      }
      const colon = a.label.indexOf(':');
      const suffix = colon >= 0 ? a.label.slice(colon) : `:${named}`;
      a.label = to.length + suffix.length <= IFNAMSIZ_MAX ? to + suffix : to.slice(0, IFNAMSIZ_MAX - suffix.length) + suffix;
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

  /**
   * The driver turned the device's carrier on or off: linkwatch recomputes its operational
   * state, and a bridge it is a port of re-checks the port (NETDEV_CHANGE → br_port_carrier_check).
   * @see linux net/core/link_watch.c (linkwatch_do_dev), net/bridge/br_if.c (br_port_carrier_check)
   */
  private carrierChanged(l: SimLink): void {
    l.linkwatch();
    this.brPortCarrierCheck(l);
  }

  // ---- bridge (net/bridge) ------------------------------------------------------------------

  /**
   * br_add_if: the port's MAC becomes a local FDB entry (unless another local entry has it),
   * the bridge id is recalculated, the port is enabled if it is running and operationally up
   * and the bridge is up, and the bridge MTU is re-adjusted.
   * @see linux net/bridge/br_if.c (br_add_if)
   */
  private brAddIf(br: SimLink, p: SimLink): void {
    const state = br.bridge!;
    p.master = br;
    state.ports.add(p);
    p.bridgePort = { hairpin: false, learning: true, flood: true, isolated: false, forwarding: false };
    this.fdbAddLocal(br, p, p.mac);
    this.brRecalculateBridgeId(br);
    if (p.up && p.operUp && br.up) this.brEnablePort(p);
    this.brMtuAutoAdjust(br);
  }

  /**
   * br_del_if / del_nbp: the port is disabled (its learned entries go, the carrier is
   * re-selected), all its FDB entries are deleted (a local one is handed to another port or to
   * the bridge with the same MAC), then the MTU and the bridge id are recalculated.
   * @see linux net/bridge/br_if.c (br_del_if, del_nbp), net/bridge/br_fdb.c (br_fdb_delete_by_port, fdb_delete_local)
   */
  private releaseMaster(l: SimLink): void {
    const br = l.master;
    if (br?.bridge === undefined) return;
    this.brDisablePort(l);
    br.bridge.ports.delete(l);
    delete l.master;
    delete l.bridgePort;
    for (const [mac, e] of [...br.bridge.fdb]) {
      if (e.port !== l) continue;
      if (e.state === 'permanent' && !e.user) {
        const other = br.ports().find((p) => p.mac === mac);
        if (other !== undefined) {
          e.port = other;
          continue;
        }
        if (br.mac === mac) {
          e.port = br;
          continue;
        }
      }
      br.bridge.fdb.delete(mac);
    }
    this.brMtuAutoAdjust(br);
    this.brRecalculateBridgeId(br);
  }

  /**
   * fdb_add_local: a local (permanent) entry for MAC on `port` (the bridge itself for its own
   * address), unless a local entry for that MAC exists already; a learned one is replaced.
   * @see linux net/bridge/br_fdb.c (fdb_add_local)
   */
  private fdbAddLocal(br: SimLink, port: SimLink, mac: Mac): void {
    const fdb = br.bridge?.fdb;
    if (fdb === undefined || mac === ZERO_MAC || isMulticastMac(mac)) return;
    const e = fdb.get(mac);
    if (e !== undefined) {
      if (e.state === 'permanent') return;
      fdb.delete(mac);
    }
    fdb.set(mac, { mac, port, state: 'permanent', updated: this.now });
  }

  /**
   * br_fdb_changeaddr: a port's MAC changes; its own local entry goes (or is handed to the
   * bridge when that has the same MAC) and a local entry for the new MAC is added.
   * @see linux net/bridge/br_fdb.c (br_fdb_changeaddr)
   */
  private brFdbChangeAddr(br: SimLink, p: SimLink, mac: Mac): void {
    const fdb = br.bridge!.fdb;
    for (const [m, e] of fdb) {
      if (e.port !== p || e.state !== 'permanent' || e.user) continue;
      const other = br.ports().find((q) => q !== p && q.mac === m);
      if (other !== undefined) e.port = other;
      else if (br.mac === m) e.port = br;
      else fdb.delete(m);
      break;
    }
    this.fdbAddLocal(br, p, mac);
  }

  /**
   * br_stp_recalculate_bridge_id: a bridge whose MAC the user did not set takes the lowest MAC
   * of its ports, or all zeroes once it has none; returns whether the bridge id changed.
   * @see linux net/bridge/br_stp_if.c (br_stp_recalculate_bridge_id)
   */
  private brRecalculateBridgeId(br: SimLink): boolean {
    const state = br.bridge!;
    if (state.macPinned) return false;
    let lowest: Mac = ZERO_MAC;
    for (const p of state.ports) if (lowest === ZERO_MAC || p.mac < lowest) lowest = p.mac;
    if (lowest === state.bridgeId) return false;
    this.brChangeBridgeId(br, lowest);
    return true;
  }

  /**
   * br_stp_change_bridge_id: the bridge's own local FDB entry moves to the new MAC
   * (br_fdb_change_mac_address), the MAC and the bridge id change, and the port states are
   * re-selected, which sets the carrier.
   * @see linux net/bridge/br_stp_if.c (br_stp_change_bridge_id), net/bridge/br_fdb.c (br_fdb_change_mac_address)
   */
  private brChangeBridgeId(br: SimLink, mac: Mac): void {
    const state = br.bridge!;
    const own = state.fdb.get(br.mac);
    if (own !== undefined && own.port === br && own.state === 'permanent' && !own.user) state.fdb.delete(br.mac);
    this.fdbAddLocal(br, br, mac);
    state.bridgeId = mac;
    br.mac = mac;
    this.brPortStateSelection(br);
  }

  /**
   * br_mtu_auto_adjust: unless the user set it, the bridge MTU is the smallest of its ports',
   * or ETH_DATA_LEN (1500) without ports.
   * @see linux net/bridge/br_if.c (br_mtu_auto_adjust, br_mtu_min)
   */
  private brMtuAutoAdjust(br: SimLink): void {
    if (br.bridge === undefined || br.bridge.mtuPinned) return;
    let mtu = 0;
    for (const p of br.bridge.ports) if (mtu === 0 || p.mtu < mtu) mtu = p.mtu;
    br.mtu = mtu === 0 ? 1500 : mtu;
  }

  /**
   * br_port_state_selection with STP off: the bridge has carrier while a port forwards. A
   * change of carrier goes through linkwatch.
   * @see linux net/bridge/br_stp.c (br_port_state_selection)
   */
  private brPortStateSelection(br: SimLink): void {
    const state = br.bridge!;
    let live = false;
    for (const p of state.ports) if (p.bridgePort?.forwarding === true) live = true;
    if (live !== state.carrier) {
      state.carrier = live;
      br.linkwatch();
    }
  }

  /** br_stp_enable_port: without STP the port forwards at once (br_make_forwarding). @see linux net/bridge/br_stp_if.c */
  private brEnablePort(p: SimLink): void {
    p.bridgePort!.forwarding = true;
    this.brPortStateSelection(p.master!);
  }

  /**
   * br_stp_disable_port: the port stops forwarding, its learned entries are flushed
   * (br_fdb_delete_by_port without do_all) and the carrier is re-selected.
   * @see linux net/bridge/br_stp_if.c (br_stp_disable_port)
   */
  private brDisablePort(p: SimLink): void {
    const br = p.master!;
    p.bridgePort!.forwarding = false;
    for (const [mac, e] of [...br.bridge!.fdb]) if (e.port === p && e.state === 'learned') br.bridge!.fdb.delete(mac);
    this.brPortStateSelection(br);
  }

  /**
   * A port went up or down or changed carrier: with the bridge running, it is enabled when it is
   * running and operationally up, disabled otherwise (br_device_event NETDEV_UP/DOWN/CHANGE).
   * @see linux net/bridge/br_if.c (br_port_carrier_check), net/bridge/br.c (br_device_event)
   */
  private brPortCarrierCheck(p: SimLink): void {
    const br = p.master;
    if (br?.bridge === undefined || p.bridgePort === undefined || !br.up) return;
    const ok = p.up && p.operUp;
    if (ok && !p.bridgePort.forwarding) this.brEnablePort(p);
    else if (!ok && p.bridgePort.forwarding) this.brDisablePort(p);
  }

  /**
   * NETDEV_UP for a device.
   *
   * @remarks
   * - the driver: veth turns the carrier on for both ends when the peer is up (veth_open), a
   *   NIC when it opens; a bridge enables its running, operationally-up ports
   *   (br_stp_enable_bridge) and joins the multicast-router-discovery group 224.0.0.106
   *   (br_multicast_open), whose IGMPv3 report to 224.0.0.22 leaves a NOARP neighbour
   *   (arp_constructor maps multicast to 01:00:5e:00:00:16);
   * - inetdev_event: a loopback device gets 127.0.0.1/8 scope host;
   * - fib_netdev_event: fib_add_ifaddr() for every address of the device.
   * @see linux drivers/net/veth.c (veth_open), net/bridge/br_device.c (br_dev_open),
   *   net/bridge/br_multicast.c, net/ipv4/igmp.c (igmpv3_send_cr), net/ipv4/arp.c (arp_constructor),
   *   net/ipv4/devinet.c (inetdev_event), net/ipv4/fib_frontend.c (fib_netdev_event)
   */
  private setUp(l: SimLink): void {
    l.up = true;
    if (l.kind === 'veth' && l.peer?.up === true) {
      this.carrierChanged(l);
      this.carrierChanged(l.peer);
    } else if (l.kind === 'device') l.linkwatch();
    if (l.bridge !== undefined) {
      for (const p of l.ports()) if (p.up && p.operUp) this.brEnablePort(p);
      l.netns.neigh.set({
        ip: IGMPV3_ALL_MCR,
        ifindex: l.ifindex,
        lladdr: '01:00:5e:00:00:16',
        state: 'NOARP',
        confirmed: this.now,
        updated: this.now,
        reachableNs: NEIGH_DEFAULTS.baseReachableMs * 1e6,
        probes: 0,
        router: false,
      });
    }
    this.brPortCarrierCheck(l);
    const loopback = ((127 << 24) | 1) >>> 0;
    if (l.kind === 'loopback' && !l.netns.addresses.some((a) => a.link === l && a.ip === loopback && a.prefix === 8)) {
      this.addAddress(l.netns, l, loopback, 8, 'host');
    }
    for (const a of l.netns.addressesOf(l)) this.addIfaddrRoutes(a);
  }

  /**
   * NETDEV_DOWN for a device.
   *
   * @remarks
   * - the driver: veth turns the carrier off for both ends if it was on (veth_close); a bridge
   *   disables its ports (br_stp_disable_bridge);
   * - fib_disable_ip → fib_sync_down_dev: every route whose nexthop is the device dies, in every
   *   table, except those of host scope (their nexthop scope is RT_SCOPE_NOWHERE): the local
   *   routes of its addresses and user routes with `scope host` or of type local survive;
   * - arp_ifdown: every neighbour entry of the device goes, permanent ones included.
   * @see linux drivers/net/veth.c (veth_close), net/bridge/br_stp_if.c (br_stp_disable_bridge),
   *   net/ipv4/fib_semantics.c (fib_sync_down_dev), net/ipv4/fib_frontend.c (fib_disable_ip), net/ipv4/arp.c (arp_ifdown)
   */
  private setDown(l: SimLink): void {
    if (!l.up) return;
    const hadCarrier = l.carrierOk;
    l.up = false;
    if (l.kind === 'veth' && hadCarrier) {
      this.carrierChanged(l);
      if (l.peer !== undefined) this.carrierChanged(l.peer);
    } else if (l.kind === 'device') l.linkwatch();
    if (l.bridge !== undefined) for (const p of l.ports()) if (p.bridgePort?.forwarding === true) this.brDisablePort(p);
    this.brPortCarrierCheck(l);
    for (const t of l.netns.tables.values()) t.removeWhere((r) => r.dev === l.name && r.scope !== 'host');
    l.netns.neigh.flushDevice(l.ifindex);
  }

  async linkList(netns: string): Promise<LinkInfo[]> {
    const ns = this.ns(netns);
    return [...ns.byIndex.values()].sort((a, b) => a.ifindex - b.ifindex).map((l) => this.linkInfo(l));
  }

  async linkGet(netns: string, name: string): Promise<LinkInfo | undefined> {
    const ns = this.ns(netns);
    const l = [...ns.byIndex.values()].find((x) => x.name === name);
    return l === undefined ? undefined : this.linkInfo(l);
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
      ...(l.bridgePort !== undefined
        ? { bridgePort: { hairpin: l.bridgePort.hairpin, learning: l.bridgePort.learning, flood: l.bridgePort.flood, isolated: l.bridgePort.isolated } }
        : {}),
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

  /**
   * `ip addr add CIDR [brd ...] dev DEV [label ...]`. Through the Host API (three arguments) the
   * broadcast is `brd +`, as the Go netlink library CNI plugins use sets it for prefixes up to
   * /30, and the label is the device name; `options` is SimHost's extension for the rest.
   */
  async addrAdd(netns: string, dev: string, cidr: string, options: SimAddrOptions = {}): Promise<void> {
    this.addrAddSync(netns, dev, cidr, options);
  }

  /**
   * Synchronous {@link addrAdd}.
   *
   * @remarks The scope is `host` for 127.0.0.0/8 and `global` otherwise (iproute2's
   * default_scope). inet_insert_ifa decides the place of the address in the device's list: an
   * address in the subnet (same prefix length) of an earlier one is secondary and goes last; a
   * primary goes after the last primary of the same or a narrower scope, so host-scope
   * addresses come first. The same address in the same subnet again is EEXIST.
   * @throws `EEXIST`, `EINVAL` (a scope other than the subnet's primary's), `ENODEV`
   * @see linux net/ipv4/devinet.c (inet_insert_ifa); iproute2 ip/ipaddress.c (ipaddr_modify, default_scope)
   */
  addrAddSync(netns: string, dev: string, cidr: string, options: SimAddrOptions = {}): void {
    const ns = this.ns(netns);
    const l = this.link(ns, dev);
    const slash = cidr.indexOf('/');
    const ip = parseIpv4(slash < 0 ? cidr : cidr.slice(0, slash));
    const prefix = slash < 0 ? 32 : parseIpv4Cidr(`0.0.0.0/${cidr.slice(slash + 1)}`).prefix;
    const scope: Scope = ip >>> 24 === 127 ? 'host' : 'global';
    const brd = options.broadcast === undefined ? '+' : options.broadcast;
    let broadcast: number | undefined;
    if (brd === '+') broadcast = prefix <= 30 ? (ip | ~prefixMask(prefix)) >>> 0 : undefined;
    else if (brd !== null) broadcast = parseIpv4(brd);
    this.addAddress(ns, l, ip, prefix, scope, broadcast, options.label);
  }

  private addAddress(ns: SimNetns, link: SimLink, ip: number, prefix: number, scope: Scope, broadcast?: number, label?: string): void {
    const mask = prefixMask(prefix);
    const mine = ns.addressesOf(link);
    let secondary = false;
    for (const b of mine) {
      if (b.prefix !== prefix || ((b.ip ^ ip) & mask) !== 0) continue;
      if (b.ip === ip) throw new KnetError('EEXIST', 'Error: ipv4: Address already assigned.', { netns: ns.name, dev: link.name, address: formatIpv4(ip) });
      if (b.scope !== scope) throw new KnetError('EINVAL', 'Error: ipv4: Invalid scope.', { netns: ns.name, dev: link.name, address: formatIpv4(ip) });
      secondary = true;
    }
    const a: SimAddress = { ip, prefix, scope, label: label ?? link.name, link, ...(broadcast !== undefined ? { broadcast } : {}) };
    if (secondary) ns.addresses.push(a);
    else {
      let after: SimAddress | undefined;
      for (const b of mine) if (!this.isSecondary(b, mine) && SCOPE_RANK[b.scope] >= SCOPE_RANK[scope]) after = b;
      const at = after !== undefined ? ns.addresses.indexOf(after) + 1 : mine[0] !== undefined ? ns.addresses.indexOf(mine[0]) : ns.addresses.length;
      ns.addresses.splice(at, 0, a);
    }
    if (!ns.localAddrs.has(ip)) ns.localAddrs.set(ip, a);
    this.addIfaddrRoutes(a);
  }

  /** IFA_F_SECONDARY: an earlier address of the device has the same prefix length and subnet. */
  private isSecondary(a: SimAddress, mine: readonly SimAddress[]): boolean {
    const mask = prefixMask(a.prefix);
    for (const b of mine) {
      if (b === a) return false;
      if (b.prefix === a.prefix && ((b.ip ^ a.ip) & mask) === 0) return true;
    }
    return false;
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

  /**
   * `ip addr del CIDR dev DEV`. Deleting a primary address deletes its secondaries with it:
   * knet models `net.ipv4.conf.*.promote_secondaries` at its kernel default, 0.
   * @throws `ENOENT` (the kernel's EADDRNOTAVAIL, in `details.errno`), `ENODEV`
   * @see linux net/ipv4/devinet.c (inet_rtm_deladdr, __inet_del_ifa)
   */
  async addrDel(netns: string, dev: string, cidr: string): Promise<void> {
    const ns = this.ns(netns);
    const l = this.link(ns, dev);
    const slash = cidr.indexOf('/');
    const ip = parseIpv4(slash < 0 ? cidr : cidr.slice(0, slash));
    const prefix = slash < 0 ? undefined : parseIpv4Cidr(`0.0.0.0/${cidr.slice(slash + 1)}`).prefix;
    const mine = ns.addressesOf(l);
    const a = mine.find((b) => b.ip === ip && (prefix === undefined || b.prefix === prefix));
    if (a === undefined) {
      throw new KnetError('ENOENT', 'Error: ipv4: Address not found.', { netns, dev, address: cidr, errno: 'EADDRNOTAVAIL' });
    }
    const doomed = [a];
    if (!this.isSecondary(a, mine)) {
      const mask = prefixMask(a.prefix);
      for (const b of mine) if (b !== a && b.prefix === a.prefix && ((b.ip ^ a.ip) & mask) === 0) doomed.unshift(b);
    }
    for (const d of doomed) {
      ns.addresses.splice(ns.addresses.indexOf(d), 1);
      this.removeAddressRoutes(ns, d);
    }
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

  private parsePrefix(dstText: string): { dst: number; prefix: number } {
    if (dstText === 'default') return { dst: 0, prefix: 0 };
    const c = dstText.includes('/') ? parseIpv4Cidr(dstText) : { address: parseIpv4(dstText), prefix: 32 };
    return { dst: c.address, prefix: c.prefix };
  }

  /**
   * Parses and checks a route as fib_create_info() and fib_check_nh() do, with iproute2's
   * defaults (table local for local and broadcast routes; scope host for local, link for
   * broadcast and for unicast without a gateway, global otherwise; protocol boot).
   *
   * @remarks
   * - blackhole, unreachable and prohibit routes take neither a gateway nor a device (EINVAL);
   * - host-scope routes take no gateway (EINVAL) and need a device (ENODEV), up or not;
   * - without a gateway the device must be up (ENETDOWN, "Device for nexthop is not up"), and
   *   `onlink` is refused (EINVAL);
   * - `onlink`: the device is required (ENODEV) and up (ENETDOWN); the gateway must not be a
   *   local or broadcast address of it (EINVAL);
   * - otherwise the gateway is looked up with a scope one narrower than the route's (at least
   *   link) and the route's device as output device: in the route's table if it is not main,
   *   then in local+main and default; no match is ENETUNREACH, a match that is not unicast or
   *   local (a broadcast address) is EINVAL, a match on a device that is down is ENETDOWN. So
   *   a gateway may be one of the host's own addresses, and may not be reached through a route
   *   that itself has a gateway or global scope;
   * - `src` must be a local address (EINVAL).
   * Errnos the closed KnetError set lacks are reported in `details.errno`: ENETDOWN as
   * ENETUNREACH.
   * @see linux net/ipv4/fib_semantics.c (fib_create_info, fib_check_nh_v4_gw, fib_check_nh_nongw,
   *   fib_valid_prefsrc), net/ipv4/fib_frontend.c (__inet_dev_addr_type); iproute2 ip/iproute.c (iproute_modify)
   */
  private resolveRoute(ns: SimNetns, o: RouteOptions): SimRoute {
    const { dst, prefix } = this.parsePrefix(o.dst);
    const type = o.type ?? 'unicast';
    const table = tableId(o.table ?? (type === 'local' || type === 'broadcast' ? 'local' : 'main'));
    const gateway = o.via !== undefined ? parseIpv4(o.via) : undefined;
    const devLink = o.dev !== undefined ? this.link(ns, o.dev) : undefined;
    let dev = o.dev;
    const onlink = o.onlink ?? false;
    const scope: Scope =
      o.scope ??
      (type === 'local' ? 'host' : type === 'broadcast' ? 'link' : type === 'unicast' && gateway === undefined ? 'link' : 'global');
    const details = { netns: ns.name, dst: o.dst };
    const invalidGateway = (code: 'EINVAL' | 'ENETUNREACH', errno?: string): KnetError =>
      new KnetError(code, 'Error: Nexthop has invalid gateway.', { ...details, via: o.via, ...(errno !== undefined ? { errno } : {}) });
    if (type === 'blackhole' || type === 'unreachable' || type === 'prohibit') {
      if (gateway !== undefined || dev !== undefined) {
        throw new KnetError('EINVAL', 'Error: Gateway, device and multipath can not be specified for this route type.', details);
      }
    } else if (scope === 'host') {
      if (gateway !== undefined) throw new KnetError('EINVAL', 'Error: Route with host scope can not have a gateway.', details);
      if (devLink === undefined) throw new KnetError('ENODEV', 'RTNETLINK answers: No such device', details);
    } else if (gateway === undefined) {
      if (onlink) throw new KnetError('EINVAL', 'Error: Invalid flags for nexthop - PERVASIVE and ONLINK can not be set.', details);
      if (devLink === undefined) throw new KnetError('ENODEV', 'RTNETLINK answers: No such device', details);
      if (!devLink.up) throw new KnetError('ENETUNREACH', 'Error: Device for nexthop is not up.', { ...details, dev, errno: 'ENETDOWN' });
    } else if (onlink) {
      if (SCOPE_RANK[scope] >= SCOPE_RANK.link) throw new KnetError('EINVAL', 'Error: Nexthop has invalid scope.', details);
      if (devLink === undefined) throw new KnetError('ENODEV', 'Error: Nexthop device required for onlink.', details);
      if (!devLink.up) throw new KnetError('ENETUNREACH', 'Error: Nexthop device is not up.', { ...details, dev, errno: 'ENETDOWN' });
      if (this.devAddrType(ns, devLink, gateway) !== 'unicast') throw invalidGateway('EINVAL');
    } else {
      const minScope = Math.max(SCOPE_RANK[scope] + 1, SCOPE_RANK.link);
      const accept = (r: SimRoute): boolean => SCOPE_RANK[r.scope] >= minScope && (devLink === undefined || r.dev === undefined || r.dev === devLink.name);
      let res = table !== RT_TABLE_MAIN && ns.tables.has(table) ? ns.table(table).lookup(gateway, accept) : undefined;
      res ??= this.fibLookup(ns, gateway, accept);
      if (res === undefined) throw invalidGateway('ENETUNREACH');
      if (res.type === 'blackhole' || res.type === 'unreachable' || res.type === 'prohibit') {
        throw invalidGateway(res.type === 'blackhole' ? 'EINVAL' : 'ENETUNREACH', res.type === 'unreachable' ? 'EHOSTUNREACH' : res.type === 'prohibit' ? 'EACCES' : undefined);
      }
      if (res.type !== 'unicast' && res.type !== 'local') throw invalidGateway('EINVAL');
      const via = res.dev !== undefined ? ns.links.get(res.dev) : undefined;
      if (via === undefined) throw new KnetError('EINVAL', 'Error: No egress device for nexthop gateway.', details);
      if (!via.up) throw new KnetError('ENETUNREACH', 'RTNETLINK answers: Network is down', { ...details, dev: via.name, errno: 'ENETDOWN' });
      dev = via.name;
    }
    let prefsrc: number | undefined;
    if (o.src !== undefined) {
      prefsrc = parseIpv4(o.src);
      if (!ns.localAddrs.has(prefsrc) && !(type === 'local' && prefsrc === dst)) {
        throw new KnetError('EINVAL', 'Error: Invalid prefsrc address.', { ...details, src: o.src });
      }
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

  /**
   * fib_lookup() without policy rules: the local and main tables form one trie (longest prefix
   * across both), then the default table.
   * @see linux include/net/ip_fib.h (fib_lookup), net/ipv4/fib_trie.c (fib_table_lookup)
   */
  private fibLookup(ns: SimNetns, addr: number, accept: (r: SimRoute) => boolean): SimRoute | undefined {
    const local = ns.local.lookup(addr, accept);
    const main = ns.main.lookup(addr, accept);
    const best = local === undefined ? main : main === undefined || local.prefix >= main.prefix ? local : main;
    return best ?? ns.tables.get(RT_TABLE_DEFAULT)?.lookup(addr, accept);
  }

  /**
   * __inet_dev_addr_type(): what the local table says an address is, for a device: 0.x.x.x and
   * 255.255.255.255 are broadcast, a match on another device is unicast.
   * @see linux net/ipv4/fib_frontend.c (__inet_dev_addr_type)
   */
  private devAddrType(ns: SimNetns, dev: SimLink, addr: number): SimRoute['type'] {
    if (addr >>> 24 === 0 || addr === 0xffffffff) return 'broadcast';
    const r = ns.local.lookup(addr);
    return r !== undefined && r.dev === dev.name ? r.type : 'unicast';
  }

  async routeAdd(netns: string, o: RouteOptions): Promise<void> {
    this.routeAddSync(netns, o);
  }

  /**
   * Synchronous {@link routeAdd}. The key of a route is (table, prefix, tos, metric): another
   * route with the same key is EEXIST whatever its type or nexthop.
   * @see linux net/ipv4/fib_trie.c (fib_table_insert)
   */
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
    t.removeFirst(r.dst, r.prefix, (x) => x.metric === r.metric);
    t.insert(r);
  }

  /**
   * `ip route del`: deletes the first route of the prefix, in metric order, that matches every
   * attribute the request names. The kernel matches the type, metric, gateway and device it is
   * sent; LinuxHost sends only those, so the other RouteOptions fields do not select here either.
   * @throws `ENOENT` (the kernel's ESRCH, in `details.errno`)
   * @see linux net/ipv4/fib_trie.c (fib_table_delete), net/ipv4/fib_semantics.c (fib_nh_match)
   */
  async routeDel(netns: string, o: RouteOptions): Promise<void> {
    const ns = this.ns(netns);
    const { dst, prefix } = this.parsePrefix(o.dst);
    const t = ns.tables.get(tableId(o.table ?? (o.type === 'local' || o.type === 'broadcast' ? 'local' : 'main')));
    const gw = o.via !== undefined ? parseIpv4(o.via) : undefined;
    const removed = t?.removeFirst(dst, prefix, (r) =>
      (o.metric === undefined || o.metric === 0 || r.metric === o.metric) &&
      (o.type === undefined || r.type === o.type) &&
      (o.dev === undefined || r.dev === o.dev) &&
      (gw === undefined || r.gateway === gw));
    if (removed === undefined) throw new KnetError('ENOENT', 'RTNETLINK answers: No such process', { netns, dst: o.dst, errno: 'ESRCH' });
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

  /**
   * `ip neigh replace ADDR [lladdr MAC] dev DEV nud STATE [router]` (`router` through
   * {@link SimNeighOptions}).
   *
   * @remarks As __neigh_update() does: PERMANENT, NOARP and REACHABLE confirm the entry now;
   * DELAY arms a timer that fires at once, and neigh_timer_handler() turns it REACHABLE when the
   * entry was confirmed within delay_first_probe_time, PROBE otherwise (a new entry counts as
   * confirmed long ago, so `nud delay` reads back as PROBE). The router flag is what the request
   * says (NEIGH_UPDATE_F_OVERRIDE_ISROUTER).
   * @see linux net/core/neighbour.c (neigh_add, __neigh_update, neigh_timer_handler)
   */
  async neighReplace(netns: string, o: SimNeighOptions): Promise<void> {
    const ns = this.ns(netns);
    const l = this.link(ns, o.dev);
    const ip = parseIpv4(o.dst);
    const old = ns.neigh.get(l.ifindex, ip, this.now);
    let state = o.state ?? 'PERMANENT';
    const connected = state === 'PERMANENT' || state === 'NOARP' || state === 'REACHABLE';
    const confirmed = connected ? this.now : (old?.confirmed ?? this.now - 2 * NEIGH_DEFAULTS.baseReachableMs * 1e6);
    if (state === 'DELAY') state = this.now - confirmed <= NEIGH_DEFAULTS.delayFirstProbeMs * 1e6 ? 'REACHABLE' : 'PROBE';
    ns.neigh.set({
      ip,
      ifindex: l.ifindex,
      ...(o.lladdr !== undefined ? { lladdr: parseMac(o.lladdr) } : old?.lladdr !== undefined ? { lladdr: old.lladdr } : {}),
      state,
      confirmed,
      updated: this.now,
      reachableNs: NEIGH_DEFAULTS.baseReachableMs * 1e6,
      probes: 0,
      router: o.router ?? false,
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

  /**
   * `bridge fdb append MAC dev VXLAN dst IP self permanent` (a vxlan device keeps several
   * remotes per MAC, in the order they were appended) or `bridge fdb replace MAC dev PORT master
   * static`, as LinuxHost runs them.
   *
   * @remarks A static entry forwards to its port; a permanent one ({@link SimFdbOptions}, what
   * `bridge fdb add` without a state asks for) is local: frames to that MAC are delivered to the
   * bridge itself (fdb_add_entry sets BR_FDB_LOCAL for NUD_PERMANENT). Replacing an entry keeps
   * its place in the dump; with `exclusive` (`bridge fdb add`, NLM_F_EXCL) a MAC the bridge
   * already has is EEXIST. A bridge device itself takes `self` entries only (EOPNOTSUPP).
   * @see linux net/bridge/br_fdb.c (br_fdb_add, fdb_add_entry), drivers/net/vxlan/vxlan_core.c (vxlan_fdb_add);
   *   iproute2 bridge/fdb.c (fdb_modify)
   */
  async fdbAdd(netns: string, o: SimFdbOptions): Promise<void> {
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
    if (l.bridge !== undefined && o.self !== true) throw new KnetError('EOPNOTSUPP', 'RTNETLINK answers: Operation not supported', { netns, dev: o.dev });
    const br = l.bridge !== undefined ? l : l.master;
    if (br?.bridge === undefined) throw new KnetError('EINVAL', `${o.dev} is not a bridge port`, { dev: o.dev });
    const e = br.bridge.fdb.get(mac);
    if (e !== undefined && o.exclusive === true) throw new KnetError('EEXIST', 'RTNETLINK answers: File exists', { netns, dev: o.dev, mac });
    const state = o.state ?? 'static';
    if (e === undefined) br.bridge.fdb.set(mac, { mac, port: l, state, updated: this.now, user: true });
    else {
      e.port = l;
      e.state = state;
      e.updated = this.now;
      e.user = true;
    }
  }

  async fdbDel(netns: string, o: FdbOptions): Promise<void> {
    const ns = this.ns(netns);
    const l = this.link(ns, o.dev);
    const mac = parseMac(o.mac);
    if (l.vxlan !== undefined && (o.self ?? true)) {
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
    const br = l.bridge !== undefined ? l : l.master;
    const e = br?.bridge?.fdb.get(mac);
    if (br?.bridge === undefined || e === undefined || e.port !== l) {
      throw new KnetError('ENOENT', 'RTNETLINK answers: No such file or directory', { dev: o.dev, mac });
    }
    br.bridge.fdb.delete(mac);
  }

  /**
   * `bridge fdb show`, in the kernel's dump order.
   *
   * @remarks rtnl_fdb_dump walks the devices in ifindex order. For a bridge port it dumps the
   * bridge's entries for that port, then the port's own addresses (ndo_dflt_fdb_dump: its
   * multicast list as `self permanent`); for the bridge itself, its own list then the entries
   * that point at the bridge; a vxlan device dumps its remotes. A bridge's entries come newest
   * first (br_fdb_dump walks br->fdb_list, where fdb_create adds at the head), and so do a vxlan
   * device's (vxlan_fdb_dump walks its fdb_list), each with its remotes in the order they were
   * appended. Checked against `bridge fdb show` on kernel 6.18.
   * @see linux net/core/rtnetlink.c (rtnl_fdb_dump, ndo_dflt_fdb_dump), net/bridge/br_fdb.c (br_fdb_dump),
   *   drivers/net/vxlan/vxlan_core.c (vxlan_fdb_dump)
   */
  async fdbList(netns: string): Promise<FdbInfo[]> {
    const ns = this.ns(netns);
    const out: FdbInfo[] = [];
    const masterEntries = (port: SimLink): void => {
      const br = port.kind === 'bridge' ? port : port.master;
      if (br?.bridge === undefined) return;
      const ageNs = br.bridge.ageingTime * 1e9;
      for (const e of [...br.bridge.fdb.values()].reverse()) {
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
    for (const l of [...ns.byIndex.values()].sort((a, b) => a.ifindex - b.ifindex)) {
      if (l.bridge !== undefined) {
        selfEntries(l);
        masterEntries(l);
      } else if (l.vxlan !== undefined) {
        masterEntries(l);
        for (const e of [...l.vxlan.fdb.values()].reverse()) {
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

  // ---- netfilter --------------------------------------------------------------------------

  async iptablesRestore(netns: string, payload: string, options: HostIptablesRestoreOptions = {}): Promise<void> {
    this.iptablesRestoreSync(netns, payload, options);
  }

  /** Synchronous {@link iptablesRestore}; returns how many rules the payload wrote. */
  iptablesRestoreSync(netns: string, payload: string, options: HostIptablesRestoreOptions = {}): number {
    return applyIptablesRestore(this.ns(netns).netfilter, payload, options).rulesWritten;
  }

  async iptablesSave(netns: string, options: HostIptablesSaveOptions = {}): Promise<string> {
    return formatIptablesSave(this.ns(netns).netfilter, options);
  }

  async ipsetRestore(netns: string, payload: string, options: { readonly exist?: boolean } = {}): Promise<void> {
    const nf = this.ns(netns).netfilter;
    // A set an iptables rule uses cannot be destroyed or renamed (ipset: "Set cannot be destroyed: it is in use by a kernel component").
    applyIpsetRestore(nf.ipsets, payload, { ...options, now: this.now, inUse: (name) => isIpsetReferenced(nf, name) });
  }

  async ipsetSave(netns: string): Promise<string> {
    return formatIpsetSave(this.ns(netns).netfilter.ipsets, { now: this.now });
  }

  async conntrackList(netns: string): Promise<string> {
    const ct = this.ns(netns).conntrack;
    return formatConntrackList(ct.list(this.now), this.now);
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
