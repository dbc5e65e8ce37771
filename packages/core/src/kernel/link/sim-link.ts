import type { Mac } from '../../ip/mac.js';
import type { LinkKind, OperState } from '../../host/types.js';
import type { SimNetns } from '../sim-netns.js';

/** A learned or static entry in a bridge's forwarding database. */
export interface BridgeFdbEntry {
  readonly mac: Mac;
  /** The port the MAC lives behind (the bridge itself for its own MAC). */
  port: SimLink;
  /** Local entries (own MACs, `bridge fdb add ... master permanent`) and static ones never age. */
  state: 'permanent' | 'static' | 'learned';
  /** Last time (ns) the entry was refreshed. */
  updated: number;
  /** BR_FDB_ADDED_BY_USER: added with `bridge fdb add` (a port's MAC change leaves it alone). */
  user?: boolean;
}

/** A vxlan device's own FDB entry (`bridge fdb append MAC dev vxlan0 dst IP self`). */
export interface VxlanFdbEntry {
  readonly mac: Mac;
  /** Remote VTEP addresses (numeric); several for the all-zero MAC (flooding list). */
  readonly dsts: number[];
  state: 'permanent' | 'learned';
  updated: number;
}

/** Bridge-device state. @see linux net/bridge/br_device.c, br_fdb.c */
export interface BridgeState {
  /**
   * The forwarding database, oldest entry first. The kernel adds new entries at the head of
   * `br->fdb_list` (fdb_create: hlist_add_head_rcu) and br_fdb_dump walks that list, so
   * `bridge fdb show` lists them newest first; an entry that is updated keeps its place.
   */
  readonly fdb: Map<Mac, BridgeFdbEntry>;
  /** FDB ageing in seconds (BR_DEFAULT_AGEING_TIME 300). */
  ageingTime: number;
  /** addr_assign_type == NET_ADDR_SET: the MAC was given by the user and no longer follows the lowest port MAC. */
  macPinned: boolean;
  /** BROPT_MTU_SET_BY_USER: the MTU was set (br_change_mtu) and no longer follows the smallest port MTU. */
  mtuPinned: boolean;
  /** The bridge's ports, in the order they were enslaved. */
  readonly ports: Set<SimLink>;
  /**
   * `br->bridge_id.addr`, which br_stp_recalculate_bridge_id compares with the lowest port MAC:
   * all-zero until a port or a user-given address sets it (br_dev_setup leaves it zeroed).
   */
  bridgeId: Mac;
  /** netif_carrier_ok(br->dev) as br_port_state_selection last set it: on from creation. */
  carrier: boolean;
}

/** Per-port settings of a bridge port. */
export interface BridgePortState {
  hairpin: boolean;
  learning: boolean;
  flood: boolean;
  isolated: boolean;
  /** STP port state: BR_STATE_FORWARDING (true) or BR_STATE_DISABLED (false); knet bridges run no STP. */
  forwarding: boolean;
}

/** VXLAN device state. */
export interface VxlanState {
  readonly id: number;
  readonly local?: number;
  readonly dev?: string;
  readonly port: number;
  readonly learning: boolean;
  readonly group?: number;
  readonly fdb: Map<Mac, VxlanFdbEntry>;
}

/** Operational states as netif_oper_down() reads them: the device itself or its lower one is down. */
function operDown(state: OperState): boolean {
  return state === 'DOWN' || state === 'LOWERLAYERDOWN';
}

/**
 * A network device in the simulated kernel.
 *
 * @remarks Linux equivalent: `struct net_device`. The carrier is each driver's
 * (netif_carrier_ok); the operational state is stored, as the kernel stores `dev->operstate`:
 * linkwatch recomputes it ({@link SimLink.linkwatch}) only when the driver turns the carrier on
 * or off, so a device whose driver never does (loopback, dummy, vxlan, a bridge that never lost
 * its carrier, a tun created by the process holding it) reports UNKNOWN.
 * @see linux net/core/link_watch.c (rfc2863_policy, default_operstate), net/core/rtnetlink.c (rtnl_fill_ifinfo)
 */
export class SimLink {
  ifindex: number;
  name: string;
  readonly kind: LinkKind;
  mac: Mac;
  mtu: number;
  up = false;
  promisc = false;
  netns: SimNetns;
  /** The bridge this device is a port of. */
  master?: SimLink;
  /** veth: the other end. */
  peer?: SimLink;
  bridge?: BridgeState;
  bridgePort?: BridgePortState;
  vxlan?: VxlanState;
  tunMode?: 'tun' | 'tap';
  /** tun/tap: a process holds the device's queue (tun_attach); the driver's carrier follows it. */
  tunAttached = false;
  /** tun/tap: IFF_PERSIST (`ip tuntap add`): the device outlives the process that held it. */
  tunPersistent = false;
  /** `dev->operstate` as linkwatch last computed it; IF_OPER_UNKNOWN from allocation. */
  operState: OperState = 'UNKNOWN';

  constructor(init: { ifindex: number; name: string; kind: LinkKind; mac: Mac; mtu: number; netns: SimNetns }) {
    this.ifindex = init.ifindex;
    this.name = init.name;
    this.kind = init.kind;
    this.mac = init.mac;
    this.mtu = init.mtu;
    this.netns = init.netns;
  }

  /**
   * Transmit queue length (`qlen`): 500 (TUN_READQ_SIZE) for a tun device, 1000
   * (DEFAULT_TX_QUEUE_LEN, ether_setup) for the others, tap included, as read off kernel 6.18.
   * @see linux drivers/net/tun.c (tun_net_initialize)
   */
  get txqlen(): number {
    return this.kind === 'tun' && this.tunMode !== 'tap' ? 500 : 1000;
  }

  /** IFF_NOARP: devices without a link layer. */
  get noarp(): boolean {
    return this.kind === 'tun' && this.tunMode !== 'tap';
  }

  /** True when the device carries an Ethernet header. */
  get ethernet(): boolean {
    return this.kind !== 'tun' || this.tunMode === 'tap';
  }

  /**
   * netif_carrier_ok(): the driver's carrier, whatever the administrative state. veth turns it
   * on for both ends when both are up and off when either goes down (veth_open, veth_close); a
   * bridge keeps what br_port_state_selection last set; tun has it while a process holds the
   * queue (tun_attach, __tun_detach); a physical NIC while it is open; loopback, dummy and vxlan
   * never turn it off.
   * @see linux drivers/net/veth.c, net/bridge/br_stp.c, drivers/net/tun.c
   */
  get carrierOk(): boolean {
    switch (this.kind) {
      case 'veth':
        return this.up && this.peer !== undefined && this.peer.up;
      case 'bridge':
        return this.bridge?.carrier ?? true;
      case 'tun':
        return this.tunAttached;
      case 'device':
        return this.up;
      default:
        return true;
    }
  }

  /** IFF_LOWER_UP as dev_get_flags() reports it: running and carrier ok. */
  get carrier(): boolean {
    return this.up && this.carrierOk;
  }

  /**
   * rfc2863_policy(): recomputes the stored operational state, as linkwatch does after the driver
   * turned the carrier on or off. Without carrier, default_operstate() looks the device's iflink
   * (a veth's is its peer's ifindex) up in the device's own namespace: LOWERLAYERDOWN when the
   * device found there is operationally down, DOWN when there is none or it is the device itself
   * (so a veth whose peer sits in another namespace reads whatever device of this namespace has
   * the peer's ifindex, as the kernel does).
   * @see linux net/core/link_watch.c (rfc2863_policy, default_operstate)
   */
  linkwatch(): void {
    if (this.carrierOk) {
      this.operState = 'UP';
      return;
    }
    const iflink = this.kind === 'veth' && this.peer !== undefined ? this.peer.ifindex : this.ifindex;
    const lower = iflink === this.ifindex ? undefined : this.netns.byIndex.get(iflink);
    this.operState = lower !== undefined && operDown(lower.operState) ? 'LOWERLAYERDOWN' : 'DOWN';
  }

  /** netif_oper_up(): the stored operational state is UP or UNKNOWN. */
  get operUp(): boolean {
    return this.operState === 'UP' || this.operState === 'UNKNOWN';
  }

  /** The ports of this bridge (empty for other kinds). */
  ports(): SimLink[] {
    return this.bridge === undefined ? [] : [...this.bridge.ports];
  }

  /** `state` as `ip link` prints it: IFLA_OPERSTATE is IF_OPER_DOWN while the device is not running. */
  get operstate(): OperState {
    return this.up ? this.operState : 'DOWN';
  }
}
