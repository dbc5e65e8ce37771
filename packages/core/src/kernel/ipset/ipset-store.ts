import { KnetError, type KnetErrorCode } from '../../errors/knet-error.js';
import { hashString } from '../../util/seeded-rng.js';
import { ipsetElementKey } from './ipset-element.js';
import type { IpsetCreateOptions, IpsetElement, IpsetEntry, IpsetTestResult, IpsetType } from './ipset-types.js';
import { jhash2, nativeWord } from '../conntrack/jhash.js';

/**
 * The ipsets of one network namespace.
 *
 * @remarks
 * Linux equivalent: `struct ip_set_net` (net/netfilter/ipset/ip_set_core.c): sets live in slots
 * of an array (a new set takes the lowest free slot, which is the order `ipset save` lists them
 * in); each set is a hash table or a bitmap of elements with optional timeout, counters and
 * comment extensions. Membership tests follow the kernel: `hash:net` and `hash:ip,port,net` try
 * the prefix lengths present from the longest down and stop at the first entry found, which
 * fails the test when it is a `nomatch` entry.
 * @see ipset(8)
 */
export class IpsetStore {
  private readonly slots: (Ipset | undefined)[] = [];
  private readonly byName = new Map<string, Ipset>();

  /** The set with this name. */
  get(name: string): Ipset | undefined {
    return this.byName.get(name);
  }

  /** The sets in slot order (the order `ipset save` prints them). */
  list(): Ipset[] {
    return this.slots.filter((s): s is Ipset => s !== undefined);
  }

  /**
   * `ipset create`.
   *
   * @throws KnetError `EEXIST` when a set with this name exists (unless `exist` and it is of the
   * same type with the same options).
   */
  create(name: string, type: IpsetType, options: Partial<IpsetCreateOptions> = {}, exist = false): Ipset {
    const old = this.byName.get(name);
    if (old !== undefined) {
      if (exist && old.type === type) return old;
      throw ipsetError('EEXIST', 'Set cannot be created: set with the same name already exists');
    }
    const set = new Ipset(name, type, normalizeCreateOptions(name, type, options));
    let slot = this.slots.indexOf(undefined);
    if (slot < 0) slot = this.slots.length;
    this.slots[slot] = set;
    this.byName.set(name, set);
    return set;
  }

  /**
   * `ipset destroy [NAME]`.
   *
   * @throws KnetError `ENOENT` for an unknown set, `EBUSY` when a rule references it (`inUse`).
   */
  destroy(name?: string, inUse: (set: string) => boolean = () => false): void {
    const names = name !== undefined ? [name] : [...this.byName.keys()];
    for (const n of names) {
      const set = this.byName.get(n);
      if (set === undefined) throw ipsetError('ENOENT', 'The set with the given name does not exist');
      if (inUse(n)) throw ipsetError('EBUSY', 'Set cannot be destroyed: it is in use by a kernel component');
      this.byName.delete(n);
      this.slots[this.slots.indexOf(set)] = undefined;
    }
  }

  /** `ipset flush [NAME]`. @throws KnetError `ENOENT` for an unknown set. */
  flush(name?: string): void {
    const sets = name !== undefined ? [this.require(name)] : this.list();
    for (const s of sets) s.clear();
  }

  /** `ipset rename FROM TO`. @throws KnetError `ENOENT`, `EEXIST`, `EBUSY` when a rule references it (`inUse`). */
  rename(from: string, to: string, inUse: (set: string) => boolean = () => false): void {
    const set = this.require(from);
    if (this.byName.has(to)) throw ipsetError('EEXIST', 'Set cannot be renamed: a set with the new name already exists');
    if (inUse(from)) throw ipsetError('EBUSY', 'Set cannot be renamed: it is in use by another system');
    this.byName.delete(from);
    set.name = to;
    this.byName.set(to, set);
  }

  /** `ipset swap A B`: exchanges the contents (names stay with the slots). @throws KnetError `ENOENT`, `EINVAL`. */
  swap(a: string, b: string): void {
    const sa = this.require(a);
    const sb = this.require(b);
    if (sa.type !== sb.type) throw ipsetError('EINVAL', 'The sets cannot be swapped: their type does not match');
    const ia = this.slots.indexOf(sa);
    const ib = this.slots.indexOf(sb);
    this.slots[ia] = sb;
    this.slots[ib] = sa;
    sa.name = b;
    sb.name = a;
    this.byName.set(a, sb);
    this.byName.set(b, sa);
  }

  /** The set, or `ENOENT` as ipset reports it. */
  require(name: string): Ipset {
    const s = this.byName.get(name);
    if (s === undefined) throw ipsetError('ENOENT', 'The set with the given name does not exist');
    return s;
  }
}

/** An ipset error with ipset's message. */
export function ipsetError(code: KnetErrorCode, message: string): KnetError {
  return new KnetError(code, message, { reason: message });
}

function roundHashsize(n: number): number {
  let size = 64;
  while (size < n) size *= 2;
  return size;
}

function normalizeCreateOptions(name: string, type: IpsetType, o: Partial<IpsetCreateOptions>): IpsetCreateOptions {
  return {
    family: 'inet',
    hashsize: roundHashsize(o.hashsize ?? 1024),
    maxelem: o.maxelem ?? 65536,
    bucketsize: o.bucketsize ?? 12,
    // The kernel draws initval at random; knet derives it from the name so runs are reproducible.
    initval: o.initval ?? hashString(`ipset:${name}`),
    ...(o.netmask !== undefined ? { netmask: o.netmask } : {}),
    ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
    counters: o.counters ?? false,
    comment: o.comment ?? false,
    skbinfo: o.skbinfo ?? false,
    ...(type === 'bitmap:port' ? { rangeFrom: o.rangeFrom ?? 0, rangeTo: o.rangeTo ?? 65535 } : {}),
  };
}

/** What an add may carry besides the element. */
export interface IpsetAddOptions {
  /** Seconds; 0 = permanent. Defaults to the set's timeout. */
  readonly timeout?: number;
  readonly nomatch?: boolean;
  readonly packets?: number;
  readonly bytes?: number;
  readonly comment?: string;
  readonly skbmark?: { readonly value: number; readonly mask: number };
  /** `-exist`: replace an existing element instead of failing. */
  readonly exist?: boolean;
}

const NET_TYPES = new Set<IpsetType>(['hash:net', 'hash:ip,port,net']);

/** AHASH_INIT_SIZE: a bucket starts with, and grows by, this many slots. */
const AHASH_INIT_SIZE = 2;

/** One hash bucket: slots in position order (`null` = deleted slot), and its allocated size. */
interface Bucket {
  readonly slots: (IpsetEntry | null)[];
  size: number;
}

/** `fls(n)`: index of the highest set bit, 1-based (0 for 0). */
function fls(n: number): number {
  return n === 0 ? 0 : 32 - Math.clz32(n);
}

/** One set. */
export class Ipset {
  name: string;
  readonly type: IpsetType;
  options: IpsetCreateOptions;
  /** Elements by key (for lookups). */
  readonly entries = new Map<string, IpsetEntry>();
  /** Hash types: the kernel's table, bucket index → bucket. */
  private buckets = new Map<number, Bucket>();
  private htableBits: number;
  /** For net types: how many entries use each prefix length. */
  private readonly prefixCount = new Map<number, number>();
  /** Prefix lengths present, longest first (the kernel's `nets[]`). */
  private prefixes: number[] = [];

  constructor(name: string, type: IpsetType, options: IpsetCreateOptions) {
    this.name = name;
    this.type = type;
    this.options = options;
    this.htableBits = fls(options.hashsize - 1);
  }

  /** Number of live entries at `now`. */
  size(now = 0): number {
    let n = 0;
    for (const e of this.entries.values()) if (!expired(e, now)) n++;
    return n;
  }

  /** Removes every element (the table keeps its size, as `ipset flush` does). */
  clear(): void {
    this.entries.clear();
    this.buckets = new Map();
    this.prefixCount.clear();
    this.prefixes = [];
  }

  /**
   * The entries in the order `ipset save` lists them: bitmap by port; hash sets by bucket
   * (jhash2 of the kernel's element struct with the set's initval) then slot.
   */
  ordered(now = 0): IpsetEntry[] {
    if (this.type === 'bitmap:port') {
      return [...this.entries.values()].filter((e) => !expired(e, now)).sort((a, b) => a.elem.port - b.elem.port);
    }
    const out: IpsetEntry[] = [];
    for (const k of [...this.buckets.keys()].sort((a, b) => a - b)) {
      for (const e of this.buckets.get(k)?.slots ?? []) if (e !== null && !expired(e, now)) out.push(e);
    }
    return out;
  }

  private bucketOf(elem: IpsetElement, bits: number): number {
    const mask = bits >= 32 ? 0xffffffff : (1 << bits) - 1;
    return (jhash2(hashKeyWords(this.type, elem), this.options.initval) & mask) >>> 0;
  }

  /**
   * `ipset add`.
   *
   * @throws KnetError `EEXIST` (already added), `ENOSPC` (maxelem reached), `EINVAL` (extension the
   * set was created without).
   */
  add(elem: IpsetElement, now: number, opts: IpsetAddOptions = {}): void {
    const o = this.options;
    if (opts.timeout !== undefined && o.timeout === undefined) {
      throw ipsetError('EINVAL', 'Timeout cannot be used: set was created without timeout support');
    }
    if ((opts.packets !== undefined || opts.bytes !== undefined) && !o.counters) {
      throw ipsetError('EINVAL', 'Packet/byte counters cannot be used: set was created without counter support');
    }
    if (opts.comment !== undefined && !o.comment) {
      throw ipsetError('EINVAL', 'Comment cannot be used: set was created without comment support');
    }
    if (opts.skbmark !== undefined && !o.skbinfo) {
      throw ipsetError('EINVAL', 'Skbinfo mapping cannot be used: set was created without skbinfo support');
    }
    if (opts.nomatch === true && !NET_TYPES.has(this.type)) throw ipsetError('EINVAL', 'Syntax error: unknown argument nomatch');
    const key = ipsetElementKey(this.type, elem);
    const old = this.entries.get(key);
    if (old !== undefined && !expired(old, now) && opts.exist !== true) {
      throw ipsetError('EEXIST', "Element cannot be added to the set: it's already added");
    }
    const timeout = opts.timeout ?? o.timeout;
    const entry: IpsetEntry = {
      key,
      elem,
      nomatch: opts.nomatch === true,
      packets: opts.packets ?? 0,
      bytes: opts.bytes ?? 0,
      ...(timeout !== undefined ? { expires: timeout === 0 ? Infinity : now + timeout * 1e9 } : {}),
      ...(opts.comment !== undefined ? { comment: opts.comment } : {}),
      ...(opts.skbmark !== undefined ? { skbmark: opts.skbmark } : {}),
    };
    if (this.type === 'bitmap:port') {
      this.entries.set(key, entry);
      return;
    }
    for (;;) {
      const r = this.tryAdd(entry, old, now);
      if (r === 'ok') break;
      this.resize();
    }
  }

  /** `mtype_add` on the current table; 'grow' means the bucket is full and the table must be resized. */
  private tryAdd(entry: IpsetEntry, old: IpsetEntry | undefined, now: number): 'ok' | 'grow' {
    const b = this.bucketOf(entry.elem, this.htableBits);
    let n = this.buckets.get(b);
    if (n === undefined) {
      if (old === undefined && this.size(now) >= this.options.maxelem) throw ipsetError('ENOSPC', 'Hash is full, cannot add more elements');
      n = { slots: [], size: AHASH_INIT_SIZE };
      this.buckets.set(b, n);
      this.place(n, n.slots.length, entry, undefined);
      return 'ok';
    }
    let reuse = -1;
    for (let i = 0; i < n.slots.length; i++) {
      const e = n.slots[i];
      if (e === null || e === undefined) {
        if (reuse < 0) reuse = i;
        continue;
      }
      if (e.key === entry.key) {
        // -exist, or an expired twin: only the extensions are overwritten, in place.
        this.place(n, i, entry, e);
        return 'ok';
      }
      if (expired(e, now) && reuse < 0) reuse = i;
    }
    if (reuse >= 0) {
      this.place(n, reuse, entry, n.slots[reuse] ?? undefined);
      return 'ok';
    }
    if (this.size(now) >= this.options.maxelem) throw ipsetError('ENOSPC', 'Hash is full, cannot add more elements');
    if (n.slots.length >= n.size) {
      if (n.size >= this.options.bucketsize) return 'grow';
      n.size += AHASH_INIT_SIZE;
    }
    this.place(n, n.slots.length, entry, undefined);
    return 'ok';
  }

  private place(n: Bucket, i: number, entry: IpsetEntry, replaced: IpsetEntry | undefined): void {
    if (replaced !== undefined) this.forget(replaced);
    n.slots[i] = entry;
    this.entries.set(entry.key, entry);
    if (NET_TYPES.has(this.type)) this.addPrefix(this.prefixOf(entry));
  }

  private prefixOf(e: IpsetEntry): number {
    return this.type === 'hash:net' ? e.elem.cidr : e.elem.cidr2;
  }

  private forget(e: IpsetEntry): void {
    if (this.entries.get(e.key) === e) this.entries.delete(e.key);
    if (NET_TYPES.has(this.type)) this.dropPrefix(this.prefixOf(e));
  }

  /** `mtype_resize`: doubles the table and rehashes in old bucket order, again while a bucket overflows. */
  private resize(): void {
    const old = [...this.buckets.keys()].sort((a, b) => a - b).flatMap((k) => this.buckets.get(k)?.slots ?? []);
    for (let bits = this.htableBits + 1; bits <= 32; bits++) {
      const next = new Map<number, Bucket>();
      let ok = true;
      for (const e of old) {
        if (e === null) continue;
        const b = this.bucketOf(e.elem, bits);
        let m = next.get(b);
        if (m === undefined) {
          m = { slots: [], size: AHASH_INIT_SIZE };
          next.set(b, m);
        } else if (m.slots.length >= m.size) {
          if (m.size >= this.options.bucketsize) {
            ok = false;
            break;
          }
          m.size += AHASH_INIT_SIZE;
        }
        m.slots.push(e);
      }
      if (ok) {
        this.buckets = next;
        this.htableBits = bits;
        this.options = { ...this.options, hashsize: 2 ** bits };
        return;
      }
    }
    throw ipsetError('ENOSPC', 'Hash is full, cannot add more elements');
  }

  /** `ipset del`. @throws KnetError `ENOENT`-like "it's not added" (unless `exist`). */
  del(elem: IpsetElement, now: number, exist = false): void {
    const key = ipsetElementKey(this.type, elem);
    const old = this.entries.get(key);
    if (old === undefined || expired(old, now)) {
      if (exist) return;
      throw ipsetError('ENOENT', "Element cannot be deleted from the set: it's not added");
    }
    this.forget(old);
    if (this.type === 'bitmap:port') return;
    const b = this.bucketOf(elem, this.htableBits);
    const n = this.buckets.get(b);
    if (n === undefined) return;
    const i = n.slots.indexOf(old);
    n.slots[i] = null;
    if (i + 1 === n.slots.length) n.slots.length = i;
    const holes = n.slots.filter((e) => e === null).length;
    if (n.slots.length === 0 && holes === 0) this.buckets.delete(b);
    else if (holes >= AHASH_INIT_SIZE) {
      // The kernel shrinks a bucket with enough holes, packing the live slots.
      const live = n.slots.filter((e): e is IpsetEntry => e !== null);
      this.buckets.set(b, { slots: live, size: n.size - AHASH_INIT_SIZE });
    }
  }

  private addPrefix(p: number): void {
    const n = this.prefixCount.get(p) ?? 0;
    this.prefixCount.set(p, n + 1);
    if (n === 0) this.prefixes = [...this.prefixCount.keys()].sort((a, b) => b - a);
  }

  private dropPrefix(p: number): void {
    const n = (this.prefixCount.get(p) ?? 1) - 1;
    if (n <= 0) {
      this.prefixCount.delete(p);
      this.prefixes = [...this.prefixCount.keys()].sort((a, b) => b - a);
    } else this.prefixCount.set(p, n);
  }

  /**
   * Tests an element as the kernel's `kadt`/`uadt` test does (prefix-length search for net types).
   *
   * @returns the entry found and whether it is a match or a `nomatch` entry.
   */
  lookup(elem: IpsetElement, now: number): { result: IpsetTestResult; entry?: IpsetEntry } {
    if (this.type === 'hash:ip') {
      const nm = this.options.netmask ?? 32;
      const ip = nm === 32 ? elem.ip : (elem.ip & (nm === 0 ? 0 : (0xffffffff << (32 - nm)) >>> 0)) >>> 0;
      return this.exact(ipsetElementKey(this.type, { ...elem, ip }), now);
    }
    if (!NET_TYPES.has(this.type)) return this.exact(ipsetElementKey(this.type, elem), now);
    for (const p of this.prefixes) {
      const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
      const probe =
        this.type === 'hash:net'
          ? { ...elem, ip: (elem.ip & mask) >>> 0, cidr: p }
          : { ...elem, ip2: (elem.ip2 & mask) >>> 0, cidr2: p };
      const e = this.entries.get(ipsetElementKey(this.type, probe));
      if (e === undefined || expired(e, now)) continue;
      return { result: e.nomatch ? 'nomatch' : 'match', entry: e };
    }
    return { result: 'none' };
  }

  private exact(key: string, now: number): { result: IpsetTestResult; entry?: IpsetEntry } {
    const e = this.entries.get(key);
    if (e === undefined || expired(e, now)) return { result: 'none' };
    return { result: e.nomatch ? 'nomatch' : 'match', entry: e };
  }
}

/** Bytes of a big-endian port in the low half of a little-endian word. */
function be16lo(port: number): number {
  return ((port >>> 8) & 0xff) | ((port & 0xff) << 8);
}

/**
 * The element struct the kernel hashes (`HKEY`), as little-endian 32-bit words: hash_ip4_elem,
 * hash_net4_elem {ip, padding, nomatch, cidr}, hash_ipport4_elem {ip, port, proto, padding},
 * hash_ipportip4_elem {ip, ip2, port, proto, padding}, hash_ipportnet4_elem {ip, ip2, port,
 * cidr-1:7|nomatch:1, proto}. `nomatch` is 0 while hashing.
 */
function hashKeyWords(type: IpsetType, e: IpsetElement): number[] {
  switch (type) {
    case 'hash:ip':
      return [nativeWord(e.ip)];
    case 'hash:net':
      return [nativeWord(e.ip), (e.cidr << 24) >>> 0];
    case 'hash:ip,port':
      return [nativeWord(e.ip), (be16lo(e.port) | (e.proto << 16)) >>> 0];
    case 'hash:ip,port,ip':
      return [nativeWord(e.ip), nativeWord(e.ip2), (be16lo(e.port) | (e.proto << 16)) >>> 0];
    case 'hash:ip,port,net':
      return [nativeWord(e.ip), nativeWord(e.ip2), (be16lo(e.port) | ((e.cidr2 - 1) << 16) | (e.proto << 24)) >>> 0];
    case 'bitmap:port':
      return [e.port];
  }
}

function expired(e: IpsetEntry, now: number): boolean {
  return e.expires !== undefined && e.expires <= now;
}
