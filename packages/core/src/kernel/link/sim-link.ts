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
  readonly fdb: Map<Mac, BridgeFdbEntry>;
  /** FDB ageing in seconds (BR_DEFAULT_AGEING_TIME 300). */
  ageingTime: number;
  /** True once the MAC was set explicitly (it then no longer follows the lowest port MAC). */
  macPinned: boolean;
  /** True once the MTU was set explicitly (it then no longer follows the smallest port MTU). */
  mtuPinned: boolean;
  /** The bridge's ports, in the order they were enslaved. */
  readonly ports: Set<SimLink>;
}

/** Per-port settings of a bridge port. */
export interface BridgePortState {
  hairpin: boolean;
  learning: boolean;
  flood: boolean;
  isolated: boolean;
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

/**
 * A network device in the simulated kernel.
 *
 * @remarks Linux equivalent: `struct net_device`. Operational state is derived, as the
 * kernel's linkwatch derives it from IFF_UP and carrier.
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
  readonly txqlen: number;

  constructor(init: { ifindex: number; name: string; kind: LinkKind; mac: Mac; mtu: number; netns: SimNetns }) {
    this.ifindex = init.ifindex;
    this.name = init.name;
    this.kind = init.kind;
    this.mac = init.mac;
    this.mtu = init.mtu;
    this.netns = init.netns;
    // ip link prints qlen 1000 for every kind knet models except tun (500), as read off
    // kernel 6.18 with iproute2 6.1.
    this.txqlen = init.kind === 'tun' ? 500 : 1000;
  }

  /** IFF_NOARP: devices without a link layer. */
  get noarp(): boolean {
    return this.kind === 'tun' && this.tunMode !== 'tap';
  }

  /** True when the device carries an Ethernet header. */
  get ethernet(): boolean {
    return this.kind !== 'tun' || this.tunMode === 'tap';
  }

  /** Carrier (IFF_LOWER_UP), as each driver reports it. */
  get carrier(): boolean {
    if (!this.up) return false;
    switch (this.kind) {
      case 'veth':
        return this.peer !== undefined && this.peer.up;
      case 'bridge':
        // br_port_carrier_check: a bridge has carrier while one of its ports forwards; a bridge
        // without ports keeps carrier on (kernel 6.x prints it UP,LOWER_UP, state UNKNOWN).
        if (this.bridge === undefined || this.bridge.ports.size === 0) return true;
        for (const l of this.bridge.ports) if (l.carrier) return true;
        return false;
      case 'tun':
        // No process attached to the queue in the simulation: knet's tun devices are driven by
        // the model itself (flanneld's udp backend), which counts as attached.
        return true;
      default:
        return true;
    }
  }

  /** The ports of this bridge (empty for other kinds). */
  ports(): SimLink[] {
    return this.bridge === undefined ? [] : [...this.bridge.ports];
  }

  /** `state` as `ip link` prints it. */
  get operstate(): OperState {
    if (!this.up) return 'DOWN';
    if (this.kind === 'loopback' || this.kind === 'dummy' || this.kind === 'vxlan' || this.kind === 'tun') {
      return 'UNKNOWN';
    }
    if (this.kind === 'veth' && !this.carrier) return 'LOWERLAYERDOWN';
    if (this.kind === 'bridge' && (this.bridge?.ports.size ?? 0) === 0) return 'UNKNOWN';
    return this.carrier ? 'UP' : 'DOWN';
  }
}
