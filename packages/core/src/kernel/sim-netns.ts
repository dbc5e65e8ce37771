import type { NetnsMeta, Scope } from '../host/types.js';
import type { SimLink } from './link/sim-link.js';
import { NeighTable } from './neigh/neigh-table.js';
import { RouteTable, RT_TABLE_DEFAULT, RT_TABLE_LOCAL, RT_TABLE_MAIN } from './route/route-table.js';
import { SocketTable } from './socket/socket-table.js';
import { SysctlTable } from './sysctl-table.js';
import { ConntrackTable } from './conntrack/conntrack-table.js';
import { createNetfilterState, type NetfilterState } from './netfilter/netfilter-state.js';

/** An IPv4 address on a simulated device. */
export interface SimAddress {
  readonly ip: number;
  readonly prefix: number;
  readonly broadcast?: number;
  readonly scope: Scope;
  /** `ifa_label`: the device name, or `name:suffix`; renaming the device relabels it. */
  label: string;
  link: SimLink;
}

/**
 * One network namespace of the simulated kernel: its devices, addresses, FIB, neighbours,
 * sysctls and sockets.
 *
 * @remarks Linux equivalent: `struct net`. Policy routing uses the three default rules
 * (local 0, main 32766, default 32767); custom rules are not modelled yet.
 */
export class SimNetns {
  readonly name: string;
  readonly meta: NetnsMeta;
  readonly links = new Map<string, SimLink>();
  readonly byIndex = new Map<number, SimLink>();
  /** Where the search for the next ifindex starts (`net->ifindex`). */
  nextIfindex = 1;
  readonly addresses: SimAddress[] = [];
  /** Local addresses by value, for the hot "is this mine?" check. */
  readonly localAddrs = new Map<number, SimAddress>();
  readonly tables = new Map<number, RouteTable>([
    [RT_TABLE_LOCAL, new RouteTable(RT_TABLE_LOCAL)],
    [RT_TABLE_MAIN, new RouteTable(RT_TABLE_MAIN)],
    [RT_TABLE_DEFAULT, new RouteTable(RT_TABLE_DEFAULT)],
  ]);
  readonly neigh = new NeighTable();
  readonly sysctl: SysctlTable;
  readonly sockets = new SocketTable();
  /** IPv4 identification counter for locally generated packets. */
  ipId = 1;
  /** The namespace's iptables tables, ipsets and recent lists. */
  readonly netfilter: NetfilterState = createNetfilterState();
  private conntrackTable: ConntrackTable | undefined;

  /** The namespace's conntrack table (created on first use, seeded by the namespace name). */
  get conntrack(): ConntrackTable {
    this.conntrackTable ??= new ConntrackTable({ seed: this.name });
    return this.conntrackTable;
  }

  /**
   * True once an iptables table exists here: connection tracking and the netfilter hooks then run
   * for every packet. The kernel registers conntrack's hooks in a namespace on demand, when a
   * table or match needs them (nf_ct_netns_get), so a pod without rules tracks nothing.
   */
  get netfilterActive(): boolean {
    return this.netfilter.tables.size > 0;
  }

  constructor(name: string, meta: NetnsMeta) {
    this.name = name;
    this.meta = meta;
    this.sysctl = new SysctlTable(this);
  }

  /**
   * A new device's ifindex: the first free one from where the last search stopped, so indexes
   * are not reused. A device moved in keeps its own index without moving the search.
   * @see linux net/core/dev.c (dev_index_reserve: xa_alloc_cyclic on net->dev_by_index)
   */
  allocIfindex(): number {
    let i = this.nextIfindex;
    while (this.byIndex.has(i)) i++;
    this.nextIfindex = i + 1;
    return i;
  }

  /** The table with this id, created on first use (as `ip route add ... table N` does). */
  table(id: number): RouteTable {
    let t = this.tables.get(id);
    if (t === undefined) {
      t = new RouteTable(id);
      this.tables.set(id, t);
    }
    return t;
  }

  /** The local table. */
  get local(): RouteTable {
    return this.table(RT_TABLE_LOCAL);
  }

  /** The main table. */
  get main(): RouteTable {
    return this.table(RT_TABLE_MAIN);
  }

  /** Addresses of one device, in the order they were added (the first is primary). */
  addressesOf(link: SimLink): SimAddress[] {
    return this.addresses.filter((a) => a.link === link);
  }
}
