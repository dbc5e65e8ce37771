import { KnetError } from '../errors/knet-error.js';
import { formatIpv4, tryParseIpv4 } from '../ip/ipv4.js';
import { formatIpamReservation, LAST_RESERVED_IP_PREFIX } from './ipam-store.js';
import type { IpamReservation, IpamStore } from './ipam-store.js';

/** Orders IPs as the disk backend's walk does: by their file names, compared as strings. */
function byFileName(a: number, b: number): number {
  const x = formatIpv4(a);
  const y = formatIpv4(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * An in-memory {@link IpamStore} holding exactly what host-local's disk backend would hold in
 * `/var/lib/cni/networks/<net>/`: one entry per reserved IP with the file's content, and the
 * `last_reserved_ip.N` values.
 *
 * @remarks
 * Linux equivalent: the disk backend's directory, without the files. Lookups by owner go through
 * an index keyed by the trimmed file content, so releasing a pod costs the same whatever the
 * number of reservations (a node holds up to 110 pods; a benchmark cluster 30,000).
 * `lock()` while the lock is held throws `EBUSY` instead of blocking: in one process that would
 * be a deadlock (a second `flock` on another descriptor of the same file waits forever).
 *
 * @see containernetworking/plugins plugins/ipam/host-local/backend/disk/backend.go
 * @see containernetworking/plugins plugins/ipam/host-local/backend/testing/fake_store.go
 * @example
 * ```ts
 * import { MemoryIpamStore } from '@knet/core';
 * const store = new MemoryIpamStore();
 * store.reserve('c1', 'eth0', 0x0af40102, 0); // 10.244.1.2
 * store.files(); // { '10.244.1.2': 'c1\r\neth0', 'last_reserved_ip.0': '10.244.1.2' }
 * ```
 */
export class MemoryIpamStore implements IpamStore {
  /** IP → file content. */
  private readonly entries = new Map<number, string>();
  /** Trimmed file content → IPs holding it. */
  private readonly byContent = new Map<string, Set<number>>();
  /** Range set index → last reserved IP. */
  private readonly lastReserved = new Map<number, number>();
  private locked = false;

  /**
   * @param files An initial directory content, as {@link MemoryIpamStore.files} returns it:
   * `{ '<ip>': '<id>\r\n<ifname>' | '<id>', 'last_reserved_ip.<N>': '<ip>' }`. Other names
   * (`lock`) are ignored, as the disk backend ignores files whose name is not an IP.
   * @throws KnetError `EINVAL` when a `last_reserved_ip.N` value is not an IPv4 address.
   */
  constructor(files: Readonly<Record<string, string>> = {}) {
    for (const [name, content] of Object.entries(files)) {
      if (name.startsWith(LAST_RESERVED_IP_PREFIX)) {
        const index = Number(name.slice(LAST_RESERVED_IP_PREFIX.length));
        const ip = tryParseIpv4(content.trim());
        if (!Number.isInteger(index) || ip === undefined) {
          throw new KnetError('EINVAL', `invalid ${name}: "${content}"`, { field: name, value: content });
        }
        this.lastReserved.set(index, ip);
        continue;
      }
      const ip = tryParseIpv4(name);
      if (ip !== undefined) this.put(ip, content);
    }
  }

  lock(): void {
    if (this.locked) throw new KnetError('EBUSY', 'host-local store lock is already held');
    this.locked = true;
  }

  unlock(): void {
    this.locked = false;
  }

  reserve(id: string, ifname: string, ip: number, rangeSetIndex: number): boolean {
    if (this.entries.has(ip)) return false;
    this.put(ip, formatIpamReservation(id, ifname));
    this.lastReserved.set(rangeSetIndex, ip);
    return true;
  }

  lastReservedIP(rangeSetIndex: number): number | undefined {
    return this.lastReserved.get(rangeSetIndex);
  }

  releaseByID(id: string, ifname: string): void {
    if (!this.releaseKey(formatIpamReservation(id, ifname))) this.releaseKey(id.trim());
  }

  getByID(id: string, ifname: string): number[] {
    const out = [...(this.byContent.get(formatIpamReservation(id, ifname)) ?? [])];
    for (const ip of this.byContent.get(id.trim()) ?? []) out.push(ip);
    return out.sort(byFileName);
  }

  findByID(id: string, ifname: string): boolean {
    return this.byContent.has(formatIpamReservation(id, ifname)) || this.byContent.has(id.trim());
  }

  list(): IpamReservation[] {
    return [...this.entries.keys()].sort(byFileName).map((ip) => ({ ip, owner: (this.entries.get(ip) as string).trim() }));
  }

  release(ip: number): void {
    const content = this.entries.get(ip);
    if (content === undefined) return;
    this.entries.delete(ip);
    const set = this.byContent.get(content.trim());
    set?.delete(ip);
    if (set?.size === 0) this.byContent.delete(content.trim());
  }

  /** The number of reserved IPs. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The directory as the disk backend would leave it: reservation files by IP, then the
   * `last_reserved_ip.N` files, each group in lexical order (the `lock` file is not listed).
   */
  files(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const ip of [...this.entries.keys()].sort(byFileName)) out[formatIpv4(ip)] = this.entries.get(ip) as string;
    for (const index of [...this.lastReserved.keys()].sort((a, b) => a - b)) {
      out[`${LAST_RESERVED_IP_PREFIX}${index}`] = formatIpv4(this.lastReserved.get(index) as number);
    }
    return out;
  }

  private put(ip: number, content: string): void {
    this.entries.set(ip, content);
    const key = content.trim();
    let set = this.byContent.get(key);
    if (set === undefined) this.byContent.set(key, (set = new Set()));
    set.add(ip);
  }

  private releaseKey(key: string): boolean {
    const set = this.byContent.get(key);
    if (set === undefined) return false;
    for (const ip of set) this.entries.delete(ip);
    this.byContent.delete(key);
    return true;
  }
}
