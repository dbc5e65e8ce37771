/**
 * The per-namespace address lists of `-m recent` (xt_recent).
 *
 * @remarks
 * Linux equivalent: net/netfilter/xt_recent.c. Each named table holds at most `ip_list_tot`
 * (100) entries, evicting the least recently updated one; each entry keeps a ring of
 * `roundup_pow_of_two(ip_pkt_list_tot)` (32) timestamps. Times are knet clock nanoseconds.
 * @see iptables-extensions(8) "recent"
 */

import type { NetfilterFamily } from './netfilter-types.js';

/**
 * What an entry is keyed by: an IPv4 address as an unsigned 32-bit number, or an IPv6 address
 * as ip6tables prints it (`fd00::1`). A list holds both families' entries apart, as xt_recent
 * keys entries by family and address.
 */
export type RecentKey = number | string;

/** Module parameter `ip_list_tot`: entries per table. */
export const RECENT_IP_LIST_TOT = 100;
/** Module parameter `ip_pkt_list_tot`: packets remembered per entry. */
export const RECENT_IP_PKT_LIST_TOT = 20;

/** One remembered address. */
export interface RecentEntry {
  /** The (masked) address. */
  readonly address: RecentKey;
  /** TTL of the packet that last updated the entry. */
  ttl: number;
  /** Timestamp ring (ns); `nstamps` of them are valid. */
  readonly stamps: number[];
  /** Next slot to write in the ring. */
  index: number;
  nstamps: number;
}

/** One named list (`--name`). Entries are kept in LRU order (oldest first). */
export class RecentList {
  readonly name: string;
  /** Ring size minus one (a power of two minus one). */
  nstampsMask: number;
  /** Entries by address, in LRU order (Map insertion order; re-inserted on update). */
  readonly entries = new Map<RecentKey, RecentEntry>();

  constructor(name: string, nstampsMask = 31) {
    this.name = name;
    this.nstampsMask = nstampsMask;
  }

  /** `recent_entry_lookup`: by address, and by TTL when `ttl` is non-zero (`--rttl`). */
  lookup(address: RecentKey, ttl: number): RecentEntry | undefined {
    const e = this.entries.get(address);
    if (e === undefined) return undefined;
    return ttl === 0 || e.ttl === ttl ? e : undefined;
  }

  /** `recent_entry_init`: adds an entry, evicting the oldest when the list is full. */
  add(address: RecentKey, ttl: number, now: number): RecentEntry {
    if (this.entries.size >= RECENT_IP_LIST_TOT) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    const e: RecentEntry = { address, ttl, stamps: [now], index: 1, nstamps: 1 };
    this.entries.set(address, e);
    return e;
  }

  /** `recent_entry_update`: records a packet now and moves the entry to the LRU tail. */
  update(e: RecentEntry, now: number): void {
    e.index &= this.nstampsMask;
    e.stamps[e.index++] = now;
    if (e.index > e.nstamps) e.nstamps = e.index;
    this.entries.delete(e.address);
    this.entries.set(e.address, e);
  }

  /** Removes an entry. */
  remove(e: RecentEntry): void {
    this.entries.delete(e.address);
  }

  /**
   * `recent_entry_reap`: drops the least recently updated entry if its newest stamp is older
   * than `time`, unless it is `working` and about to be updated.
   */
  reap(time: number, working: RecentEntry, update: boolean): void {
    const first = this.entries.values().next();
    if (first.done === true) return;
    const e = first.value;
    if (e === working && update) return;
    const last = e.stamps[e.index - 1] ?? 0;
    if (time > last) this.remove(e);
  }
}

/** All recent lists of one namespace, by name (shared by iptables and ip6tables rules). */
export class RecentTables {
  private readonly lists = new Map<string, RecentList>();
  /** How to list the names each family's rules reference (the families sharing these lists). */
  private readonly sources = new Map<NetfilterFamily, () => ReadonlySet<string>>();

  /**
   * The list with this name, created on first use. A rule whose `--hitcount` needs a longer
   * timestamp ring grows it, flushing the list as `recent_mt_check` does.
   */
  list(name: string, nstampsMask = 31): RecentList {
    let l = this.lists.get(name);
    if (l === undefined) {
      l = new RecentList(name, nstampsMask);
      this.lists.set(name, l);
    } else if (nstampsMask > l.nstampsMask) {
      l.entries.clear();
      l.nstampsMask = nstampsMask;
    }
    return l;
  }

  /** The list with this name, if it exists. */
  get(name: string): RecentList | undefined {
    return this.lists.get(name);
  }

  /** Names of the existing lists. */
  names(): string[] {
    return [...this.lists.keys()];
  }

  /**
   * Registers how to list the names a family's rules reference, so that {@link retain} called for
   * another family keeps the lists this one uses.
   */
  track(family: NetfilterFamily, names: () => ReadonlySet<string>): void {
    this.sources.set(family, names);
  }

  /**
   * Drops the lists that neither `referenced` (the names `family`'s rules reference now) nor any
   * other tracked family's rules reference (as the kernel frees a table with its last rule).
   */
  retain(referenced: ReadonlySet<string>, family: NetfilterFamily = 'ipv4'): void {
    const others: ReadonlySet<string>[] = [];
    for (const [f, names] of this.sources) if (f !== family) others.push(names());
    for (const name of [...this.lists.keys()]) {
      if (referenced.has(name) || others.some((o) => o.has(name))) continue;
      this.lists.delete(name);
    }
  }
}
