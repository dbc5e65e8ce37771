import { KnetError } from '../errors/knet-error.js';
import { formatIpv4 } from '../ip/ipv4.js';
import { HostLocalAllocator } from './host-local-allocator.js';
import type { HostLocalConfig, HostLocalRouteConf } from './host-local-conf.js';
import { formatIpamReservation } from './ipam-store.js';
import type { IpamStore } from './ipam-store.js';
import { rangeSetContains } from './range-set.js';

/** Who an allocation belongs to: `CNI_CONTAINERID` and `CNI_IFNAME`. */
export interface HostLocalArgs {
  readonly containerId: string;
  readonly ifname: string;
}

/** One entry of the result's `ips[]`, with the numeric form alongside the CNI strings. */
export interface HostLocalIpConfig {
  /** `a.b.c.d/len`, as the CNI result's `ips[].address`. */
  readonly address: string;
  /** The range's gateway, as `ips[].gateway`. */
  readonly gateway: string;
  /** The address, unsigned 32-bit. */
  readonly ip: number;
  readonly prefixlen: number;
  /** The gateway, unsigned 32-bit. */
  readonly gatewayIP: number;
}

/**
 * What host-local ADD returns: one address per range set, and the configured routes (the
 * abbreviated IPAM result: no `interfaces`, no `ips[].interface`).
 */
export interface HostLocalResult {
  /** The config's `cniVersion` (the runtime converts the result to it). */
  readonly cniVersion: string;
  readonly ips: readonly HostLocalIpConfig[];
  readonly routes: readonly HostLocalRouteConf[];
}

/**
 * host-local ADD: one address from each range set for (`containerId`, `ifname`).
 *
 * @remarks
 * Linux equivalent: `CNI_COMMAND=ADD /opt/cni/bin/host-local`. A requested IP is used by the
 * first range set that contains it (in request order; upstream walks a Go map, whose order is
 * random). When a set fails, the sets already allocated are released and the error is prefixed
 * `failed to allocate for range N: `, e.g. `failed to allocate for range 0: no IP addresses
 * available in range set: 10.244.1.1-10.244.1.254`. A requested IP that no set contains fails
 * with `failed to allocate all requested IPs: <ip> ...` after the allocations are released.
 * `resolvConf` is not read (knet has no files to read it from).
 *
 * @throws KnetError the allocator's code (`ENOSPC` exhausted, `EEXIST` duplicate, `EBUSY`
 * requested IP taken, `EINVAL` requested gateway) with `details.rangeSet`; `EINVAL` for an
 * unfulfilled request.
 * @see containernetworking/plugins plugins/ipam/host-local/main.go `cmdAdd`
 */
export function hostLocalAdd(config: HostLocalConfig, store: IpamStore, args: HostLocalArgs): HostLocalResult {
  const pending = [...config.requestedIPs];
  const done: HostLocalAllocator[] = [];
  const ips: HostLocalIpConfig[] = [];
  const rollback = (): void => {
    for (const a of done) a.release(args.containerId, args.ifname);
  };
  config.rangeSets.forEach((set, idx) => {
    const allocator = new HostLocalAllocator(set, store, idx);
    const at = pending.findIndex((ip) => rangeSetContains(set, ip));
    const requested = at >= 0 ? pending.splice(at, 1)[0] : undefined;
    let lease;
    try {
      lease = allocator.get(args.containerId, args.ifname, requested);
    } catch (e) {
      rollback();
      if (e instanceof KnetError) throw new KnetError(e.code, `failed to allocate for range ${idx}: ${e.message}`, e.details);
      throw e;
    }
    done.push(allocator);
    ips.push({
      address: `${formatIpv4(lease.ip)}/${lease.prefixlen}`,
      gateway: formatIpv4(lease.gateway),
      ip: lease.ip,
      prefixlen: lease.prefixlen,
      gatewayIP: lease.gateway,
    });
  });
  if (pending.length > 0) {
    rollback();
    const list = pending.map(formatIpv4);
    throw new KnetError('EINVAL', `failed to allocate all requested IPs: ${list.join(' ')}`, { requestedIPs: list });
  }
  return { cniVersion: config.cniVersion, ips, routes: config.routes };
}

/**
 * host-local DEL: releases what (`containerId`, `ifname`) holds, in every range set; falls back
 * to reservations written in the legacy id-only format. Succeeds when nothing is held.
 *
 * @remarks Linux equivalent: `CNI_COMMAND=DEL /opt/cni/bin/host-local`. Upstream releases once per
 * range set; every pass after the first finds nothing (the release is not limited to the set).
 * @see containernetworking/plugins plugins/ipam/host-local/main.go `cmdDel`
 */
export function hostLocalDel(config: HostLocalConfig, store: IpamStore, args: HostLocalArgs): void {
  config.rangeSets.forEach((set, idx) => new HostLocalAllocator(set, store, idx).release(args.containerId, args.ifname));
}

/**
 * host-local CHECK: succeeds when (`containerId`, `ifname`), or `containerId` in the legacy
 * format, holds any address.
 *
 * @remarks `config` is taken for symmetry with ADD and DEL: upstream loads it only to find the
 * store, which is passed in here.
 * @throws KnetError `ENOENT` `host-local: Failed to find address added by container <id>`.
 * @see containernetworking/plugins plugins/ipam/host-local/main.go `cmdCheck`
 */
export function hostLocalCheck(config: HostLocalConfig, store: IpamStore, args: HostLocalArgs): void {
  store.lock();
  let found: boolean;
  try {
    found = store.findByID(args.containerId, args.ifname);
  } finally {
    store.unlock();
  }
  if (!found) {
    throw new KnetError('ENOENT', `host-local: Failed to find address added by container ${args.containerId}`, {
      containerId: args.containerId,
    });
  }
}

/**
 * GC for host-local: releases every reservation whose owner is not one of `valid`, and returns
 * the released IPs (unsigned 32-bit, in file-name order).
 *
 * @remarks
 * Linux equivalent: none upstream — the reference host-local has no GC yet (its `main` leaves
 * the GC command unhandled). knet follows the spec's GC section: `valid` is the runtime's
 * `cni.dev/valid-attachments`; a reservation in the legacy id-only format is kept when its id is
 * the container id of any valid attachment. Runs under the store's lock.
 * @see https://github.com/containernetworking/cni/blob/main/SPEC.md#gc-clean-up-any-stale-resources
 * @example
 * ```ts
 * import { MemoryIpamStore, hostLocalGc } from '@knet/core';
 * const store = new MemoryIpamStore({ '10.244.1.2': 'c1\r\neth0', '10.244.1.3': 'c2\r\neth0' });
 * hostLocalGc(store, [{ containerId: 'c1', ifname: 'eth0' }]); // [0x0af40103]
 * ```
 */
export function hostLocalGc(store: IpamStore, valid: readonly HostLocalArgs[]): number[] {
  const keep = new Set<string>();
  for (const a of valid) {
    keep.add(formatIpamReservation(a.containerId, a.ifname));
    keep.add(a.containerId.trim());
  }
  const released: number[] = [];
  store.lock();
  try {
    for (const r of store.list()) {
      if (keep.has(r.owner)) continue;
      store.release(r.ip);
      released.push(r.ip);
    }
  } finally {
    store.unlock();
  }
  return released;
}
