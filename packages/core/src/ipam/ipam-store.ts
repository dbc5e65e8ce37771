/**
 * Where host-local keeps its reservations. The interface mirrors upstream's `backend.Store` and
 * the operations of its disk backend, so that an on-disk store (`/var/lib/cni/networks/<net>/`)
 * and {@link MemoryIpamStore} are interchangeable under the allocator.
 *
 * @remarks
 * Linux equivalent: the directory `<dataDir>/<network>/` holding one file per reserved IP (named
 * by the IP, content `<containerID>\r\n<ifname>`), `last_reserved_ip.<rangeSetIndex>` and an
 * empty `lock` file taken with `flock`.
 *
 * The methods are synchronous on purpose: a file store can use `openSync(path, 'wx')`
 * (`O_CREAT|O_EXCL`, as upstream's `Reserve`) and `readdirSync`, and a whole allocation then runs
 * between {@link IpamStore.lock} and {@link IpamStore.unlock} without yielding to other work.
 * Callers (the allocator, `hostLocalAdd`/`Del`/`Check`) take the lock; the data methods never do.
 * Addresses are IPv4 as unsigned 32-bit numbers.
 *
 * @see containernetworking/plugins plugins/ipam/host-local/backend/store.go
 * @see containernetworking/plugins plugins/ipam/host-local/backend/disk/backend.go
 */
export interface IpamStore {
  /** Takes the store's exclusive lock (`flock(<dir>/lock, LOCK_EX)`). @throws KnetError `EBUSY` when already held. */
  lock(): void;
  /** Releases the lock. */
  unlock(): void;
  /**
   * Reserves `ip` for (`id`, `ifname`) and records it as the last reserved IP of range set
   * `rangeSetIndex`. Returns `false`, changing nothing, when the IP is already reserved.
   *
   * @remarks Disk backend: create `<dir>/<ip>` with `O_CREAT|O_EXCL`, write
   * `trim(id) + "\r\n" + ifname`, then rewrite `last_reserved_ip.<rangeSetIndex>`.
   */
  reserve(id: string, ifname: string, ip: number, rangeSetIndex: number): boolean;
  /** The content of `last_reserved_ip.<rangeSetIndex>`, or `undefined` when there is none. */
  lastReservedIP(rangeSetIndex: number): number | undefined;
  /**
   * Releases every IP held by (`id`, `ifname`); when none is, releases every IP held by `id` in
   * the legacy id-only format. Releasing nothing is not an error (DEL is idempotent).
   */
  releaseByID(id: string, ifname: string): void;
  /**
   * The IPs held by (`id`, `ifname`) or, in the legacy format, by `id`; in the order the disk
   * backend's `filepath.Walk` visits them (file names in lexical order).
   */
  getByID(id: string, ifname: string): number[];
  /** True when (`id`, `ifname`) holds an IP, falling back to the legacy id-only format (CHECK). */
  findByID(id: string, ifname: string): boolean;
  /**
   * Every reservation with its owner (the trimmed file content: `<id>\r\n<ifname>`, or `<id>`
   * in the legacy format), in file-name order. knet's GC reads it; upstream has no GC.
   */
  list(): IpamReservation[];
  /** Releases one IP whoever holds it; releasing a free IP is not an error. */
  release(ip: number): void;
}

/** One reserved IP and its owner, as {@link IpamStore.list} reports it. */
export interface IpamReservation {
  /** The address, unsigned 32-bit. */
  readonly ip: number;
  /** The trimmed content of the reservation file: `<id>\r\n<ifname>`, or `<id>` (legacy). */
  readonly owner: string;
}

/** The separator between container id and ifname in a reservation (upstream `disk.LineBreak`). */
export const IPAM_LINE_BREAK = '\r\n';

/** Prefix of the per-range-set round-robin file (`last_reserved_ip.0`). */
export const LAST_RESERVED_IP_PREFIX = 'last_reserved_ip.';

/** host-local's default `dataDir`; the store of network `<net>` is `<dataDir>/<net>/`. */
export const DEFAULT_HOST_LOCAL_DATA_DIR = '/var/lib/cni/networks';

/**
 * The content host-local writes into a reservation file: the container id with surrounding
 * whitespace trimmed (Go's `strings.TrimSpace`), CRLF, the interface name; no trailing newline.
 *
 * @example
 * ```ts
 * import { formatIpamReservation } from '@knet/core';
 * formatIpamReservation(' 0123abcd ', 'eth0'); // '0123abcd\r\neth0'
 * ```
 */
export function formatIpamReservation(id: string, ifname: string): string {
  return id.trim() + IPAM_LINE_BREAK + ifname;
}
