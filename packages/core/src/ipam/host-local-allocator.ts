import { KnetError } from '../errors/knet-error.js';
import { formatIpv4 } from '../ip/ipv4.js';
import type { IpamStore } from './ipam-store.js';
import { formatRangeSet, rangeContains, rangeFor, rangeSetContains } from './range-set.js';
import type { IpRange, RangeSet } from './range-set.js';

/** One address handed out by host-local, numeric (the form the hot path keeps). */
export interface HostLocalLease {
  /** The address, unsigned 32-bit. */
  readonly ip: number;
  /** The prefix length of the range's subnet. */
  readonly prefixlen: number;
  /** The range's gateway, unsigned 32-bit. */
  readonly gateway: number;
}

/**
 * Walks the addresses of a range set in host-local's round-robin order.
 *
 * @remarks
 * Without a usable last reserved IP the walk starts at `rangeStart` of range 0. With one, it
 * starts just after it (the last reserved IP itself comes last). Past `rangeEnd` it continues at
 * `rangeStart` of the next range, wrapping after the last range; each range's gateway is
 * skipped; the walk ends when it comes back to its first address.
 *
 * @see containernetworking/plugins plugins/ipam/host-local/backend/allocator/allocator.go `RangeIter`
 */
export class HostLocalRangeIterator {
  private readonly set: RangeSet;
  private rangeIdx: number;
  private cur: number | undefined;
  private startIP: number | undefined;

  /**
   * @param set The range set (canonical, not empty).
   * @param lastReservedIP The content of `last_reserved_ip.N`, if any; ignored when it lies in
   * no range of the set (upstream: "we just lose round-robin this one time").
   */
  constructor(set: RangeSet, lastReservedIP?: number) {
    this.set = set;
    this.rangeIdx = 0;
    const start = lastReservedIP === undefined ? -1 : set.findIndex((r) => rangeContains(r, lastReservedIP));
    if (start >= 0) {
      this.rangeIdx = start;
      this.cur = lastReservedIP;
    } else {
      this.startIP = (set[0] as IpRange).rangeStart;
    }
  }

  /** The next candidate and its range, or `undefined` once the walk is back where it started. */
  next(): { readonly ip: number; readonly range: IpRange } | undefined {
    // Upstream recurses to skip a gateway; a loop does the same without growing the stack.
    for (;;) {
      let r = this.set[this.rangeIdx] as IpRange;
      if (this.cur === undefined) {
        this.cur = r.rangeStart;
        this.startIP = this.cur;
        if (this.cur === r.gateway) continue;
        return { ip: this.cur, range: r };
      }
      if (this.cur === r.rangeEnd) {
        this.rangeIdx = (this.rangeIdx + 1) % this.set.length;
        r = this.set[this.rangeIdx] as IpRange;
        this.cur = r.rangeStart;
      } else {
        this.cur = this.cur + 1;
      }
      if (this.startIP === undefined) {
        this.startIP = this.cur;
      } else if (this.cur === this.startIP) {
        return undefined;
      }
      if (this.cur === r.gateway) continue;
      return { ip: this.cur, range: r };
    }
  }
}

/**
 * host-local's allocator for one range set (upstream `IPAllocator`): hands out addresses
 * round-robin, honours a requested IP, refuses a second allocation for the same
 * (container id, ifname).
 *
 * @remarks
 * Linux equivalent: `/opt/cni/bin/host-local` ADD/DEL for one entry of `ipam.ranges`. Each call
 * holds the store's lock, as upstream's `Get` and `Release` do. Error texts are upstream's,
 * verbatim; `hostLocalAdd` prefixes them with `failed to allocate for range N: `.
 *
 * @see containernetworking/plugins plugins/ipam/host-local/backend/allocator/allocator.go
 * @example
 * ```ts
 * import { HostLocalAllocator, MemoryIpamStore, canonicalizeRangeSet, formatIpv4 } from '@knet/core';
 * const alloc = new HostLocalAllocator(canonicalizeRangeSet([{ subnet: '10.244.1.0/24' }]), new MemoryIpamStore(), 0);
 * formatIpv4(alloc.get('c1', 'eth0').ip); // '10.244.1.2'
 * ```
 */
export class HostLocalAllocator {
  readonly rangeSet: RangeSet;
  readonly store: IpamStore;
  /** The set's index in `ipam.ranges`: names its `last_reserved_ip.N` file. */
  readonly rangeSetIndex: number;

  constructor(rangeSet: RangeSet, store: IpamStore, rangeSetIndex: number) {
    if (rangeSet.length === 0) throw new KnetError('EINVAL', 'empty range set');
    this.rangeSet = rangeSet;
    this.store = store;
    this.rangeSetIndex = rangeSetIndex;
  }

  /** The walk a fresh allocation would take now (upstream `GetIter`). */
  iterator(): HostLocalRangeIterator {
    return new HostLocalRangeIterator(this.rangeSet, this.store.lastReservedIP(this.rangeSetIndex));
  }

  /**
   * Allocates an address for (`id`, `ifname`).
   *
   * @param requestedIP A specific address (CNI_ARGS `IP=`, `args.cni.ips`, `runtimeConfig.ips`).
   * @throws KnetError
   * - `EINVAL` `<ip> not in range set <set>` when `requestedIP` is outside every range;
   * - `EINVAL` `requested ip <ip> is subnet's gateway`;
   * - `EBUSY` `requested IP address <ip> is not available in range set <set>`;
   * - `EEXIST` `<ip> has been allocated to <id>, duplicate allocation is not allowed`;
   * - `ENOSPC` `no IP addresses available in range set: <set>`.
   */
  get(id: string, ifname: string, requestedIP?: number): HostLocalLease {
    this.store.lock();
    try {
      return requestedIP === undefined ? this.getNext(id, ifname) : this.getRequested(id, ifname, requestedIP);
    } finally {
      this.store.unlock();
    }
  }

  /** Releases every address held by (`id`, `ifname`), or by `id` in the legacy format. Idempotent. */
  release(id: string, ifname: string): void {
    this.store.lock();
    try {
      this.store.releaseByID(id, ifname);
    } finally {
      this.store.unlock();
    }
  }

  private getRequested(id: string, ifname: string, ip: number): HostLocalLease {
    const r = rangeFor(this.rangeSet, ip);
    if (r === undefined) {
      throw new KnetError('EINVAL', `${formatIpv4(ip)} not in range set ${formatRangeSet(this.rangeSet)}`, {
        ip: formatIpv4(ip),
        rangeSet: this.rangeSetIndex,
      });
    }
    if (ip === r.gateway) {
      throw new KnetError('EINVAL', `requested ip ${formatIpv4(ip)} is subnet's gateway`, { ip: formatIpv4(ip), rangeSet: this.rangeSetIndex });
    }
    if (!this.store.reserve(id, ifname, ip, this.rangeSetIndex)) {
      throw new KnetError(
        'EBUSY',
        `requested IP address ${formatIpv4(ip)} is not available in range set ${formatRangeSet(this.rangeSet)}`,
        { ip: formatIpv4(ip), rangeSet: this.rangeSetIndex },
      );
    }
    return { ip, prefixlen: r.subnet.prefix, gateway: r.gateway };
  }

  private getNext(id: string, ifname: string): HostLocalLease {
    // The spec forbids a second ADD for the same (id, ifname) without a DEL in between.
    for (const allocated of this.store.getByID(id, ifname)) {
      if (rangeSetContains(this.rangeSet, allocated)) {
        throw new KnetError('EEXIST', `${formatIpv4(allocated)} has been allocated to ${id}, duplicate allocation is not allowed`, {
          ip: formatIpv4(allocated),
          rangeSet: this.rangeSetIndex,
        });
      }
    }
    const iter = this.iterator();
    for (let c = iter.next(); c !== undefined; c = iter.next()) {
      if (this.store.reserve(id, ifname, c.ip, this.rangeSetIndex)) {
        return { ip: c.ip, prefixlen: c.range.subnet.prefix, gateway: c.range.gateway };
      }
    }
    const set = formatRangeSet(this.rangeSet);
    throw new KnetError('ENOSPC', `no IP addresses available in range set: ${set}`, { rangeSet: this.rangeSetIndex, ranges: set });
  }
}
