import { IPPROTO_ICMP, IPPROTO_TCP } from '../../packet/types.js';
import { IPS } from './conntrack-entry.js';
import type { ConntrackEntry } from './conntrack-entry.js';
import { hasPorts, invertTuple, tuplesEqual } from './conntrack-tuple.js';
import type { ConntrackTuple } from './conntrack-tuple.js';
import { jhash2, nativeWord, reciprocalScale } from './jhash.js';

/** Which side of the tuple a NAT binding rewrites: SNAT the source, DNAT the destination. */
export type NatManip = 'SNAT' | 'DNAT';

/** The netfilter hooks where NAT runs. */
export type NatHook = 'PREROUTING' | 'INPUT' | 'OUTPUT' | 'POSTROUTING';

/**
 * `HOOK2MANIP`: destination NAT at PREROUTING and OUTPUT, source NAT at POSTROUTING and INPUT.
 *
 * @see https://github.com/torvalds/linux/blob/master/include/net/netfilter/nf_nat.h
 */
export function hookManip(hook: NatHook): NatManip {
  return hook === 'PREROUTING' || hook === 'OUTPUT' ? 'DNAT' : 'SNAT';
}

/**
 * A NAT range (`struct nf_nat_range2`): what a DNAT, SNAT or MASQUERADE target asks for.
 *
 * @remarks Linux equivalent: `struct nf_nat_range2` and its `NF_NAT_RANGE_*` flags. Setting
 * `minAddr` means NF_NAT_RANGE_MAP_IPS (`maxAddr` defaults to it); setting `minPort` means
 * NF_NAT_RANGE_PROTO_SPECIFIED (`maxPort` defaults to it; for ICMP it is the identifier range);
 * `basePort` means NF_NAT_RANGE_PROTO_OFFSET. `--random` is `random`, `--random-fully` is
 * `randomFully`, `--persistent` is `persistent`. Example: `-j DNAT --to-destination 10.244.1.3:8080`
 * is `{ minAddr: 10.244.1.3, minPort: 8080 }`.
 * @see https://github.com/torvalds/linux/blob/master/include/uapi/linux/netfilter/nf_nat.h
 */
export interface NfNatRange {
  readonly minAddr?: number;
  readonly maxAddr?: number;
  readonly minPort?: number;
  readonly maxPort?: number;
  readonly basePort?: number;
  readonly random?: boolean;
  readonly randomFully?: boolean;
  readonly persistent?: boolean;
}

/**
 * What NAT needs from the conntrack table: the tuple index and the NAT-by-source index.
 * {@link ConntrackTable} implements it.
 */
export interface NatIndex {
  /** `nf_conntrack_tuple_taken`: another live entry owns `tuple` (in either direction). */
  tupleTaken(tuple: ConntrackTuple, ignored: ConntrackEntry): boolean;
  /** `nf_conntrack_find_get`: the live entry owning `tuple` and the direction it matched. */
  findTuple(tuple: ConntrackTuple, zone: number): { readonly entry: ConntrackEntry; readonly direction: 0 | 1 } | undefined;
  /** The `nf_nat_bysource` bucket of an original tuple's source, newest binding first. */
  sourceBindings(tuple: ConntrackTuple, zone: number): readonly ConntrackEntry[];
  /** Adds an entry to `nf_nat_bysource`. */
  addSourceBinding(entry: ConntrackEntry): void;
  /** `nf_ct_kill`. */
  kill(entry: ConntrackEntry): boolean;
  /** `get_random_u16()`. */
  randomU16(): number;
}

const NF_NAT_MAX_ATTEMPTS = 128;
const NF_NAT_HARDER_THRESH = NF_NAT_MAX_ATTEMPTS / 4;
const TCP_CONNTRACK_SYN_SENT = 1;
const TCP_CONNTRACK_TIME_WAIT = 7;

interface Range {
  readonly mapIps: boolean;
  readonly protoSpecified: boolean;
  readonly protoOffset: boolean;
  readonly randomAll: boolean;
  readonly persistent: boolean;
  readonly minAddr: number;
  readonly maxAddr: number;
  readonly minProto: number;
  readonly maxProto: number;
  readonly baseProto: number;
}

function toRange(r: NfNatRange): Range {
  return {
    mapIps: r.minAddr !== undefined,
    protoSpecified: r.minPort !== undefined,
    protoOffset: r.basePort !== undefined,
    randomAll: r.random === true || r.randomFully === true,
    persistent: r.persistent === true,
    minAddr: (r.minAddr ?? 0) >>> 0,
    maxAddr: (r.maxAddr ?? r.minAddr ?? 0) >>> 0,
    minProto: r.minPort ?? 0,
    maxProto: r.maxPort ?? r.minPort ?? 0,
    baseProto: r.basePort ?? 0,
  };
}

/** The manipulable per-protocol key: the ICMP id, or the source/destination port. */
function protoKey(t: ConntrackTuple, manip: NatManip): number {
  if (t.protocol === IPPROTO_ICMP) return t.id;
  return manip === 'SNAT' ? t.sport : t.dport;
}

function withProtoKey(t: ConntrackTuple, manip: NatManip, key: number): ConntrackTuple {
  if (t.protocol === IPPROTO_ICMP) return { ...t, id: key };
  return manip === 'SNAT' ? { ...t, sport: key } : { ...t, dport: key };
}

function withAddr(t: ConntrackTuple, manip: NatManip, addr: number): ConntrackTuple {
  return manip === 'SNAT' ? { ...t, src: addr } : { ...t, dst: addr };
}

/** `l4proto_in_range`. */
function l4protoInRange(t: ConntrackTuple, manip: NatManip, min: number, max: number): boolean {
  if (t.protocol !== IPPROTO_ICMP && !hasPorts(t.protocol)) return true;
  const key = protoKey(t, manip);
  return key >= min && key <= max;
}

/** `nf_in_range`: would mapping the source to this tuple meet the range? */
function inRange(t: ConntrackTuple, range: Range): boolean {
  if (range.mapIps && !(t.src >= range.minAddr && t.src <= range.maxAddr)) return false;
  if (!range.protoSpecified) return true;
  return l4protoInRange(t, 'SNAT', range.minProto, range.maxProto);
}

function used(index: NatIndex, t: ConntrackTuple, ignored: ConntrackEntry): boolean {
  const reply = invertTuple(t);
  return reply !== undefined && index.tupleTaken(reply, ignored);
}

function allowClash(entry: ConntrackEntry): boolean {
  return entry.l4 === 'udp' || entry.l4 === 'udplite' || entry.l4 === 'gre' || entry.l4 === 'generic';
}

/** `nf_nat_used_tuple_new`: as used(), but tolerates the rare reverse clash of un-NATed flows. */
function usedNew(index: NatIndex, t: ConntrackTuple, ignored: ConntrackEntry): boolean {
  if (!used(index, t, ignored)) return false;
  if (!allowClash(ignored)) return true;
  const usesNat = IPS.NAT_MASK | IPS.SEQ_ADJUST;
  if ((ignored.status & usesNat) !== 0) return true;
  let h = index.findTuple(t, ignored.zone);
  if (h === undefined) {
    const reply = invertTuple(t);
    h = reply === undefined ? undefined : index.findTuple(reply, ignored.zone);
    if (h === undefined) return false;
  }
  if (h.direction !== 1) return true;
  if ((h.entry.status & usesNat) !== 0) return true;
  return !(tuplesEqual(h.entry.original, ignored.reply) && tuplesEqual(h.entry.reply, ignored.original));
}

/** `nf_nat_used_tuple_harder`: in the last attempts for a TCP SYN, evict a TIME_WAIT entry of an older flow. */
function usedHarder(index: NatIndex, t: ConntrackTuple, ignored: ConntrackEntry, attemptsLeft: number): boolean {
  const reply = invertTuple(t);
  if (reply === undefined) return true;
  if (attemptsLeft > NF_NAT_HARDER_THRESH || t.protocol !== IPPROTO_TCP || ignored.tcp?.state !== TCP_CONNTRACK_SYN_SENT) {
    return index.tupleTaken(reply, ignored);
  }
  const h = index.findTuple(reply, ignored.zone);
  if (h === undefined) return false;
  if (h.direction === 0 || h.entry === ignored) return true;
  const old = h.entry;
  // nf_nat_may_kill: TIME_WAIT or later, SNATed, not dying or fixed
  if ((old.tcp?.state ?? 0) < TCP_CONNTRACK_TIME_WAIT) return true;
  if ((old.status & (IPS.FIXED_TIMEOUT | IPS.DYING)) !== 0 || (old.status & IPS.SRC_NAT) === 0) return true;
  // nf_seq_has_advanced
  if (((ignored.tcp?.seen[0].tdEnd ?? 0) - (old.tcp?.seen[0].tdEnd ?? 0) | 0) <= 0) return true;
  return !index.kill(old);
}

/** `find_appropriate_src`: reuse the mapping of an existing SNAT binding of the same source. */
function findAppropriateSrc(index: NatIndex, zone: number, t: ConntrackTuple, range: Range): ConntrackTuple | undefined {
  for (const ct of index.sourceBindings(t, zone)) {
    const o = ct.original;
    if (o.protocol !== t.protocol || o.src !== t.src || protoKey(o, 'SNAT') !== protoKey(t, 'SNAT')) continue;
    const inv = invertTuple(ct.reply);
    if (inv === undefined) continue;
    const result: ConntrackTuple = { ...inv, dst: t.dst, dport: t.dport, type: t.type, code: t.code };
    if (inRange(result, range)) return result;
  }
  return undefined;
}

/**
 * `find_best_ips_proto`: the address of the range this flow maps to, hashed from its source and
 * destination (`jhash2`), so a client keeps its mapping across connections.
 */
function findBestIps(zone: number, t: ConntrackTuple, range: Range, manip: NatManip): ConntrackTuple {
  if (!range.mapIps) return t;
  if (range.minAddr === range.maxAddr) return withAddr(t, manip, range.minAddr);
  // jhash2 over the 4 words of union nf_inet_addr (IPv4 in the first, zeros after)
  const j = jhash2([nativeWord(t.src), 0, 0, 0], range.persistent ? 0 : (nativeWord(t.dst) ^ zone) >>> 0);
  const dist = (range.maxAddr - range.minAddr + 1) >>> 0;
  return withAddr(t, manip, (range.minAddr + reciprocalScale(j, dist)) >>> 0);
}

/** `nf_nat_l4proto_unique_tuple`: search the port (or ICMP id) range for a free tuple. */
function uniqueL4(index: NatIndex, t: ConntrackTuple, range: Range, manip: NatManip, entry: ConntrackEntry): ConntrackTuple {
  let min: number;
  let rangeSize: number;
  if (t.protocol === IPPROTO_ICMP) {
    if (!range.protoSpecified) {
      min = 0;
      rangeSize = 65536;
    } else {
      min = range.minProto;
      rangeSize = range.maxProto - range.minProto + 1;
    }
  } else if (hasPorts(t.protocol)) {
    if (!range.protoSpecified) {
      if (manip === 'DNAT') return t; // a destination rewrite without ports keeps the port
      const port = protoKey(t, manip);
      if (port < 1024) {
        // loose convention: below 512 is credential passing
        if (port < 512) {
          min = 1;
          rangeSize = 511;
        } else {
          min = 600;
          rangeSize = 1023 - 600 + 1;
        }
      } else {
        min = 1024;
        rangeSize = 65535 - 1024 + 1;
      }
    } else {
      let lo = range.minProto;
      let hi = range.maxProto;
      if (hi < lo) [lo, hi] = [hi, lo];
      min = lo;
      rangeSize = hi - lo + 1;
    }
  } else {
    return t;
  }

  let off: number;
  if (range.protoOffset) off = (protoKey(t, manip) - range.baseProto) & 0xffff;
  else if (range.randomAll || manip !== 'DNAT') off = index.randomU16() & 0xffff;
  else off = 0;

  let attempts = Math.min(rangeSize, NF_NAT_MAX_ATTEMPTS);
  let candidate = t;
  for (;;) {
    for (let i = 0; i < attempts; i++, off = (off + 1) & 0xffff) {
      candidate = withProtoKey(t, manip, min + (off % rangeSize));
      if (!usedHarder(index, candidate, entry, attempts - i)) return candidate;
    }
    if (attempts >= rangeSize || attempts < 16) return candidate;
    attempts = Math.floor(attempts / 2);
    off = index.randomU16() & 0xffff;
  }
}

/**
 * `get_unique_tuple`: the tuple a NAT binding maps `orig` to, unique in the table when possible.
 * When nothing is free the last candidate is returned; confirmation then finds the clash and drops
 * the packet, as in Linux.
 */
function getUniqueTuple(index: NatIndex, orig: ConntrackTuple, range: Range, entry: ConntrackEntry, manip: NatManip): ConntrackTuple {
  const zone = entry.zone;
  // 1) source NAT: keep the original tuple if it fits, or reuse this source's current mapping
  if (manip === 'SNAT' && !range.randomAll) {
    if (inRange(orig, range)) {
      if (!usedNew(index, orig, entry)) return orig;
    } else {
      const found = findAppropriateSrc(index, zone, orig, range);
      if (found !== undefined && !used(index, found, entry)) return found;
    }
  }
  // 2) the address by hash
  let t = findBestIps(zone, orig, range, manip);
  // 3) the port, only if not already in range and unique
  if (!range.randomAll) {
    if (range.protoSpecified) {
      if (!range.protoOffset && l4protoInRange(t, manip, range.minProto, range.maxProto) && (range.minProto === range.maxProto || !used(index, t, entry))) {
        return t;
      }
    } else if (!used(index, t, entry)) {
      return t;
    }
  }
  t = uniqueL4(index, t, range, manip, entry);
  return t;
}

/** Whether NAT of this kind is set up on `entry` (`nf_nat_initialized`). */
export function natInitialized(entry: ConntrackEntry, manip: NatManip): boolean {
  return entry.has(manip === 'SNAT' ? IPS.SRC_NAT_DONE : IPS.DST_NAT_DONE);
}

/**
 * `nf_nat_setup_info`: binds `entry` to a NAT mapping chosen in `range` and rewrites its reply tuple,
 * so that replies are recognised and translated back. Only an unconfirmed entry (the first packet
 * of a connection) can be bound; a confirmed one is left alone.
 *
 * @remarks Linux equivalent: `nf_nat_setup_info()` with `get_unique_tuple()`,
 * `find_appropriate_src()`, `find_best_ips_proto()` (jhash2 of the addresses) and
 * `nf_nat_l4proto_unique_tuple()` (random offset for source NAT and `--random*`, offset 0 for a
 * destination port range, 128 attempts then halving windows).
 * @returns `'drop'` when the entry already has this kind of binding (the kernel WARNs and drops).
 * @see https://github.com/torvalds/linux/blob/master/net/netfilter/nf_nat_core.c
 */
export function natSetupInfo(index: NatIndex, entry: ConntrackEntry, manip: NatManip, natRange: NfNatRange): 'accept' | 'drop' {
  if (entry.confirmed) return 'accept';
  if (natInitialized(entry, manip)) return 'drop';
  const curr = invertTuple(entry.reply);
  if (curr === undefined) return 'drop';
  const range = toRange(natRange);
  const next = getUniqueTuple(index, curr, range, entry, manip);
  if (!tuplesEqual(next, curr)) {
    const reply = invertTuple(next);
    if (reply === undefined) return 'drop';
    entry.reply = reply;
    entry.status |= manip === 'SNAT' ? IPS.SRC_NAT : IPS.DST_NAT;
  }
  if (manip === 'SNAT') index.addSourceBinding(entry);
  entry.status |= manip === 'SNAT' ? IPS.SRC_NAT_DONE : IPS.DST_NAT_DONE;
  return 'accept';
}

/**
 * `nf_nat_alloc_null_binding`: the implicit binding of a connection that passed a NAT hook without
 * a NAT target: the address stays, the port may still change to keep the tuple unique.
 *
 * @see https://github.com/torvalds/linux/blob/master/net/netfilter/nf_nat_core.c
 */
export function natAllocNullBinding(index: NatIndex, entry: ConntrackEntry, hook: NatHook): 'accept' | 'drop' {
  const manip = hookManip(hook);
  const ip = manip === 'SNAT' ? entry.reply.dst : entry.reply.src;
  return natSetupInfo(index, entry, manip, { minAddr: ip, maxAddr: ip });
}
