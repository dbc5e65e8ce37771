import type { Mac } from '../../ip/mac.js';
import type { NeighState } from '../../host/types.js';

/** Neighbour (ARP) timing defaults. @see arp(7); linux Documentation/networking/ip-sysctl.rst */
export const NEIGH_DEFAULTS = {
  /** base_reachable_time: 30 s; an entry stays REACHABLE for a random 0.5–1.5 × that. */
  baseReachableMs: 30_000,
  /** delay_first_probe_time: 5 s in DELAY before the first unicast probe. */
  delayFirstProbeMs: 5_000,
  /** retrans_time: 1 s between probes. */
  retransMs: 1_000,
  /** mcast_solicit: 3 broadcast probes for an unresolved address. */
  mcastSolicit: 3,
  /** ucast_solicit: 3 unicast probes in PROBE. */
  ucastSolicit: 3,
  /** unres_qlen: packets queued per unresolved entry. */
  unresQlen: 101,
} as const;

/** One neighbour entry. */
export interface NeighEntry {
  readonly ip: number;
  readonly ifindex: number;
  lladdr?: Mac;
  state: NeighState;
  /** When (ns) reachability was last confirmed. */
  confirmed: number;
  /** When (ns) the entry last changed state. */
  updated: number;
  /** How long (ns) this entry stays REACHABLE after a confirmation (random 15–45 s, seeded). */
  reachableNs: number;
  /** Probes sent in INCOMPLETE/PROBE. */
  probes: number;
  router: boolean;
}

/**
 * The neighbour table of one namespace.
 *
 * @remarks Linux equivalent: `arp_tbl` (net/core/neighbour.c, net/ipv4/arp.c). Timers are
 * evaluated lazily against the simulation clock: an entry whose reachable time ran out reads as
 * STALE, as the kernel's periodic work would have made it.
 */
export class NeighTable {
  private readonly entries = new Map<string, NeighEntry>();

  private static key(ifindex: number, ip: number): string {
    return `${ifindex}|${ip}`;
  }

  /** The entry for `ip` on `ifindex`, with lazy timer transitions applied at `now`. */
  get(ifindex: number, ip: number, now: number): NeighEntry | undefined {
    const e = this.entries.get(NeighTable.key(ifindex, ip));
    if (e !== undefined && e.state === 'REACHABLE' && now - e.confirmed > e.reachableNs) {
      e.state = 'STALE';
      e.updated = e.confirmed + e.reachableNs;
    }
    return e;
  }

  /** Inserts or replaces an entry. */
  set(entry: NeighEntry): void {
    this.entries.set(NeighTable.key(entry.ifindex, entry.ip), entry);
  }

  /** Deletes an entry; returns whether it existed. */
  delete(ifindex: number, ip: number): boolean {
    return this.entries.delete(NeighTable.key(ifindex, ip));
  }

  /** Deletes every entry on a device (the device went down or away). */
  flushDevice(ifindex: number): void {
    for (const [k, e] of this.entries) if (e.ifindex === ifindex) this.entries.delete(k);
  }

  /** Every entry, with timers applied at `now`. */
  list(now: number): NeighEntry[] {
    return [...this.entries.values()].map((e) => this.get(e.ifindex, e.ip, now) ?? e);
  }
}
