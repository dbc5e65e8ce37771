import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../../packet/types.js';
import type { IcmpMessage, Ipv4Packet } from '../../packet/types.js';
import { SeededRng } from '../../util/seeded-rng.js';
import { ConntrackEntry, IPS } from './conntrack-entry.js';
import type { ConntrackL4 } from './conntrack-entry.js';
import { DEFAULT_CONNTRACK_TIMEOUTS } from './conntrack-timeouts.js';
import type { ConntrackTimeouts } from './conntrack-timeouts.js';
import { IPPROTO_GRE, IPPROTO_UDPLITE, invertTuple, isIcmpError, makeTuple, tupleKey, tupleOfPacket, tuplesEqual } from './conntrack-tuple.js';
import type { ConntrackTuple } from './conntrack-tuple.js';
import { hookManip, natAllocNullBinding, natInitialized, natSetupInfo } from './nat-core.js';
import type { NatHook, NatIndex, NatManip, NfNatRange } from './nat-core.js';
import { natPacket } from './nat-packet.js';
import { tcpNew, tcpPacket } from './tcp-conntrack.js';
import type { TcpTrackerSettings } from './tcp-conntrack.js';

/** The state `-m conntrack --ctstate` / `-m state --state` sees. */
export type ConntrackState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';

/** The direction of a packet in its connection (`--ctdir`). */
export type ConntrackDirection = 'ORIGINAL' | 'REPLY';

/**
 * What conntrack attached to a packet (`skb->_nfct` and its `ctinfo`): the connection, the state
 * iptables matches on, the direction, and whether conntrack let the packet through.
 *
 * @remarks Linux equivalent: `enum ip_conntrack_info` (IP_CT_NEW, IP_CT_ESTABLISHED[_REPLY],
 * IP_CT_RELATED[_REPLY], IP_CT_UNTRACKED) plus the `nf_conn` pointer. INVALID means no connection
 * is attached; `reason` then carries the kernel's log text (`nf_ct_l4proto_log_invalid`).
 */
export interface PacketCt {
  readonly entry: ConntrackEntry | undefined;
  readonly state: ConntrackState;
  readonly direction: ConntrackDirection;
  /** `'drop'` when conntrack itself drops the packet (table full, insert clash). */
  readonly verdict: 'accept' | 'drop';
  readonly reason?: string;
}

/** Options of a {@link ConntrackTable}. */
export interface ConntrackTableOptions {
  /** Timeouts in seconds; defaults {@link DEFAULT_CONNTRACK_TIMEOUTS}. */
  readonly timeouts?: Partial<ConntrackTimeouts>;
  /** nf_conntrack_max (default 262144). */
  readonly max?: number;
  /** nf_conntrack_tcp_be_liberal (default false). */
  readonly tcpBeLiberal?: boolean;
  /** nf_conntrack_tcp_loose (default true). */
  readonly tcpLoose?: boolean;
  /** nf_conntrack_tcp_max_retrans (default 3). */
  readonly tcpMaxRetrans?: number;
  /** nf_conntrack_tcp_ignore_invalid_rst (default false). */
  readonly tcpIgnoreInvalidRst?: boolean;
  /** Seed for entry ids and NAT port search offsets (default 1). */
  readonly seed?: number | string;
  /** Source of `get_random_u16()` for NAT port search; defaults to a {@link SeededRng} from `seed`. */
  readonly random?: () => number;
}

/** Counters as `conntrack -S` prints them (the ones knet can meet). */
export interface ConntrackStats {
  found: number;
  invalid: number;
  insert: number;
  insert_failed: number;
  drop: number;
  early_drop: number;
  clash_resolve: number;
  search_restart: number;
}

/** Options of {@link ConntrackTable.natHook}. */
export interface NatHookOptions {
  /**
   * Runs the nat table's chain for this hook (the NAT targets in it call
   * {@link ConntrackTable.setupNat} / {@link ConntrackTable.masquerade}); called only for the first
   * packet of a connection, as `nf_nat_inet_fn` does. Returns the chain's verdict.
   */
  readonly runChain?: () => 'accept' | 'drop';
  /** The out interface (POSTROUTING): a masqueraded connection moving to another one is killed. */
  readonly outIfindex?: number;
}

/** The result of {@link ConntrackTable.natHook}. */
export interface NatHookResult {
  readonly verdict: 'accept' | 'drop';
  /** The packet after translation (the input object when nothing changed). */
  readonly packet: Ipv4Packet;
}

/** Options of {@link ConntrackTable.masquerade}. */
export interface MasqueradeOptions {
  /** The out interface's primary address (`inet_select_addr`); 0 when it has none. */
  readonly address: number;
  /** The out interface's ifindex. */
  readonly ifindex: number;
  /** `--to-ports` range. */
  readonly minPort?: number;
  readonly maxPort?: number;
  /** `--random` */
  readonly random?: boolean;
  /** `--random-fully` */
  readonly randomFully?: boolean;
}

/**
 * Selectors of `conntrack -D` / `-L` filters; every given field must match.
 *
 * @remarks `dstNat` is conntrack's `--dst-nat IP` (a DNATed connection whose reply source is IP),
 * `srcNat` its `--src-nat IP` (reply destination IP); kube-proxy clears stale UDP flows with
 * `-p udp --orig-dst SERVICE_IP` and `-p udp --dst-nat ENDPOINT_IP`.
 * @see https://manpages.debian.org/bookworm/conntrack/conntrack.8.en.html
 */
export interface ConntrackFilter {
  readonly protocol?: number;
  readonly origSrc?: number;
  readonly origDst?: number;
  readonly replySrc?: number;
  readonly replyDst?: number;
  readonly origSport?: number;
  readonly origDport?: number;
  readonly replySport?: number;
  readonly replyDport?: number;
  /** `--src-nat [IP]`: SNATed (to IP). */
  readonly srcNat?: number | true;
  /** `--dst-nat [IP]`: DNATed (to IP). */
  readonly dstNat?: number | true;
  readonly mark?: number;
  readonly markMask?: number;
  readonly zone?: number;
  readonly state?: string;
}

interface HashSlot {
  readonly entry: ConntrackEntry;
  readonly direction: 0 | 1;
}

const NS = 1e9;
const NR_ICMP_TYPES = 18;

function l4Of(protocol: number): ConntrackL4 {
  switch (protocol) {
    case IPPROTO_TCP:
      return 'tcp';
    case IPPROTO_UDP:
      return 'udp';
    case IPPROTO_UDPLITE:
      return 'udplite';
    case IPPROTO_ICMP:
      return 'icmp';
    case IPPROTO_GRE:
      return 'gre';
    default:
      return 'generic';
  }
}

function allowClash(entry: ConntrackEntry): boolean {
  return entry.l4 === 'udp' || entry.l4 === 'udplite' || entry.l4 === 'gre' || entry.l4 === 'generic';
}

/** ICMP query types that may open a connection (`valid_new` of nf_conntrack_proto_icmp.c). */
function icmpValidNew(type: number): boolean {
  return type === 8 || type === 13 || type === 15 || type === 17;
}

function invalid(reason: string): PacketCt {
  return { entry: undefined, state: 'INVALID', direction: 'ORIGINAL', verdict: 'accept', reason };
}

/**
 * The tuple of a packet quoted in an ICMP error (`nf_ct_get_tuplepr` on the inner header): the
 * original header plus at least 8 bytes of its layer 4 header (RFC 792).
 */
export function quotedTuple(data: Uint8Array): ConntrackTuple | undefined {
  if (data.length < 20) return undefined;
  const ihl = ((data[0] ?? 0) & 0x0f) * 4;
  const frag = (((data[6] ?? 0) << 8) | (data[7] ?? 0)) & 0x1fff;
  if (frag !== 0 || ihl > data.length) return undefined;
  const protocol = data[9] ?? 0;
  const src = (((data[12] ?? 0) << 24) | ((data[13] ?? 0) << 16) | ((data[14] ?? 0) << 8) | (data[15] ?? 0)) >>> 0;
  const dst = (((data[16] ?? 0) << 24) | ((data[17] ?? 0) << 16) | ((data[18] ?? 0) << 8) | (data[19] ?? 0)) >>> 0;
  const l4 = data.subarray(ihl);
  const get16 = (o: number): number => (((l4[o] ?? 0) << 8) | (l4[o + 1] ?? 0)) >>> 0;
  switch (protocol) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
      if (l4.length < 4) return undefined;
      return makeTuple(src, dst, protocol, { sport: get16(0), dport: get16(2) });
    case IPPROTO_ICMP:
      if (l4.length < 8) return undefined;
      return makeTuple(src, dst, protocol, { type: l4[0] ?? 0, code: l4[1] ?? 0, id: get16(4) });
    default:
      return makeTuple(src, dst, protocol);
  }
}

/**
 * The connection tracking table of one network namespace: tracks packets into connections,
 * classifies them NEW / ESTABLISHED / RELATED / INVALID, keeps NAT bindings, and expires entries
 * against an explicit clock (nanoseconds, as `SimHost.now`).
 *
 * @remarks Linux equivalent: the per-netns conntrack hash table and `nf_conntrack_in()` (hook
 * NF_INET_PRE_ROUTING and NF_INET_LOCAL_OUT at priority -200, after the raw table),
 * `nf_conntrack_confirm()` (POST_ROUTING and LOCAL_IN, last), and the NAT core
 * (`nf_nat_inet_fn` at the nat hooks). How the packet engine calls it:
 * 1. raw table; unless NOTRACK: `ct = table.conntrackIn(packet, now, { zone })` at PREROUTING/OUTPUT;
 * 2. mangle, then at the nat hooks `table.natHook(ct, packet, hook, { runChain, outIfindex })`;
 *    the chain's DNAT/SNAT/MASQUERADE targets call {@link ConntrackTable.setupNat} /
 *    {@link ConntrackTable.masquerade} on `ct.entry`;
 * 3. `ct = table.confirm(ct, now)` at POSTROUTING/INPUT after the filter and nat tables.
 * Lookups hash the tuple (a `Map` keyed by tuple and zone), so they stay O(1) with 100,000 entries.
 * Expired entries are dropped lazily when met and by {@link ConntrackTable.gc}.
 * @see https://github.com/torvalds/linux/blob/master/net/netfilter/nf_conntrack_core.c
 * @example
 * ```ts
 * import { ConntrackTable } from '@knet/core';
 * const table = new ConntrackTable({ seed: 'node-1' });
 * declare const syn: import('@knet/core').Ipv4Packet;
 * const ct = table.conntrackIn(syn, 0);
 * ct.state; // 'NEW'
 * table.confirm(ct, 0);
 * ```
 */
export class ConntrackTable implements NatIndex {
  private readonly hash = new Map<string, HashSlot>();
  private readonly live = new Set<ConntrackEntry>();
  private readonly bySource = new Map<string, ConntrackEntry[]>();
  private readonly timeouts: ConntrackTimeouts;
  private readonly tcpSettings: TcpTrackerSettings;
  private readonly ids: SeededRng;
  private readonly rand: () => number;
  private clock = 0;
  /** nf_conntrack_max */
  readonly max: number;
  /** Counters (`conntrack -S`). */
  readonly stats: ConntrackStats = { found: 0, invalid: 0, insert: 0, insert_failed: 0, drop: 0, early_drop: 0, clash_resolve: 0, search_restart: 0 };

  constructor(options: ConntrackTableOptions = {}) {
    this.timeouts = { ...DEFAULT_CONNTRACK_TIMEOUTS, ...options.timeouts };
    this.max = options.max ?? 262144;
    this.tcpSettings = {
      timeouts: this.timeouts,
      beLiberal: options.tcpBeLiberal ?? false,
      loose: options.tcpLoose ?? true,
      maxRetrans: options.tcpMaxRetrans ?? 3,
      ignoreInvalidRst: options.tcpIgnoreInvalidRst ?? false,
    };
    const seed = options.seed ?? 1;
    this.ids = new SeededRng(typeof seed === 'number' ? seed ^ 0x5bd1e995 : `${seed}/ids`);
    if (options.random !== undefined) this.rand = options.random;
    else {
      const rng = new SeededRng(seed);
      this.rand = () => rng.nextU32() & 0xffff;
    }
  }

  /** Confirmed entries currently in the table (nf_conntrack_count), expired ones not yet collected included. */
  get size(): number {
    return this.live.size;
  }

  /** The clock of the last call that passed one (ns). NAT setup runs at this time. */
  get now(): number {
    return this.clock;
  }

  /**
   * `nf_conntrack_in`: tracks a packet at PREROUTING or OUTPUT. Returns what to attach to the packet:
   * an existing connection (ESTABLISHED, or RELATED for an ICMP error quoting one), a new unconfirmed
   * one (NEW; it enters the table at {@link ConntrackTable.confirm}), or INVALID with the reason.
   *
   * @param zone the conntrack zone (raw table `CT --zone`), default 0.
   * @remarks Linux equivalent: `nf_conntrack_in()`, `resolve_normal_ct()`, `init_conntrack()`, the
   * per-protocol `*_packet()` handlers and `nf_conntrack_icmpv4_error()`. A packet already NOTRACKed
   * or already carrying a connection (looped through lo) must not be passed again.
   */
  conntrackIn(packet: Ipv4Packet, now: number, options: { readonly zone?: number } = {}): PacketCt {
    this.tick(now);
    const zone = options.zone ?? 0;
    if (packet.protocol === IPPROTO_ICMP && packet.payload.kind === 'icmp') {
      const related = this.icmpError(packet, packet.payload, zone, now);
      if (related !== undefined) return related;
    }
    for (let repeat = 0; repeat < 2; repeat++) {
      const tuple = tupleOfPacket(packet);
      if (tuple === undefined) return this.countInvalid(invalid('no layer 4 header to track (fragment)'));
      let slot = this.findSlot(tuple, zone, now);
      if (slot === undefined) {
        const reply = invertTuple(tuple);
        if (reply === undefined) return this.countInvalid(invalid("can't invert tuple"));
        if (this.live.size >= this.max && !this.earlyDrop(now)) {
          this.stats.drop++;
          return { entry: undefined, state: 'INVALID', direction: 'ORIGINAL', verdict: 'drop', reason: 'nf_conntrack: table full, dropping packet' };
        }
        slot = { entry: new ConntrackEntry(this.ids.nextU32(), zone, l4Of(tuple.protocol), tuple, reply, now), direction: 0 };
      } else {
        this.stats.found++;
      }
      const entry = slot.entry;
      const dir = slot.direction;
      const state: ConntrackState = dir === 1 ? 'ESTABLISHED' : entry.has(IPS.SEEN_REPLY) ? 'ESTABLISHED' : entry.has(IPS.EXPECTED) ? 'RELATED' : 'NEW';
      const result = this.l4Packet(entry, packet, dir, now);
      if (result === 'repeat') {
        this.kill(entry);
        this.stats.search_restart++;
        continue;
      }
      if (result !== undefined) return this.countInvalid(invalid(result));
      if (dir === 1) entry.status |= IPS.SEEN_REPLY;
      return { entry, state, direction: dir === 1 ? 'REPLY' : 'ORIGINAL', verdict: 'accept' };
    }
    return this.countInvalid(invalid('reopened connection could not be tracked'));
  }

  /**
   * `nf_conntrack_confirm`: inserts the packet's new connection into the table (its timer starts
   * now). A clash with an entry that appeared meanwhile is resolved as the kernel does: UDP, GRE and
   * generic flows merge into an identical entry, otherwise the packet is dropped.
   *
   * @returns the attachment to keep on the packet (another entry after a merge), with verdict.
   * @see https://github.com/torvalds/linux/blob/master/net/netfilter/nf_conntrack_core.c
   */
  confirm(ct: PacketCt, now: number): PacketCt {
    this.tick(now);
    const e = ct.entry;
    if (e === undefined || e.confirmed) return ct;
    // related/reply attachments of unconfirmed connections are not inserted
    if (ct.direction !== 'ORIGINAL') return ct;
    if (e.dying) {
      this.stats.insert_failed++;
      return { ...ct, verdict: 'drop', reason: 'connection died before confirmation' };
    }
    const origKey = tupleKey(e.original, e.zone);
    const replyKey = tupleKey(e.reply, e.zone);
    const clash = this.liveSlot(origKey, now) ?? this.liveSlot(replyKey, now);
    if (clash !== undefined) return this.resolveClash(ct, e, clash, replyKey, now);
    e.timeout += now;
    e.status |= IPS.CONFIRMED;
    this.hash.set(origKey, { entry: e, direction: 0 });
    this.hash.set(replyKey, { entry: e, direction: 1 });
    this.live.add(e);
    if (e.has(IPS.SRC_NAT_DONE)) this.bindSource(e);
    this.stats.insert++;
    return ct;
  }

  /**
   * `__nf_conntrack_find_get`: the live entry owning `tuple` in `zone`, and which of its tuples
   * matched. Expired entries met on the way are removed.
   */
  lookup(tuple: ConntrackTuple, now: number, zone = 0): { readonly entry: ConntrackEntry; readonly direction: ConntrackDirection } | undefined {
    this.tick(now);
    const slot = this.findSlot(tuple, zone, now);
    return slot === undefined ? undefined : { entry: slot.entry, direction: slot.direction === 1 ? 'REPLY' : 'ORIGINAL' };
  }

  /** {@link ConntrackTable.lookup} for a packet's own tuple. */
  lookupPacket(packet: Ipv4Packet, now: number, zone = 0): { readonly entry: ConntrackEntry; readonly direction: ConntrackDirection } | undefined {
    const tuple = tupleOfPacket(packet);
    return tuple === undefined ? undefined : this.lookup(tuple, now, zone);
  }

  /** Live entries at `now`, oldest first (expired ones are collected first). */
  list(now: number): ConntrackEntry[] {
    this.gc(now);
    return [...this.live];
  }

  /** Removes every expired entry; returns how many. */
  gc(now: number): number {
    this.tick(now);
    let n = 0;
    for (const e of this.live) {
      if (e.expired(now)) {
        this.kill(e);
        n++;
      }
    }
    return n;
  }

  /** `nf_ct_delete` / `nf_ct_kill`: removes an entry from the table; packets in flight keep it (dying). */
  kill(entry: ConntrackEntry): boolean {
    if (entry.dying) return false;
    entry.status |= IPS.DYING;
    if (!entry.confirmed) return true;
    for (const t of [entry.original, entry.reply]) {
      const k = tupleKey(t, entry.zone);
      if (this.hash.get(k)?.entry === entry) this.hash.delete(k);
    }
    this.live.delete(entry);
    const sk = this.sourceKey(entry.original, entry.zone);
    const bucket = this.bySource.get(sk);
    if (bucket !== undefined) {
      const i = bucket.indexOf(entry);
      if (i >= 0) bucket.splice(i, 1);
      if (bucket.length === 0) this.bySource.delete(sk);
    }
    return true;
  }

  /** `conntrack -F`: deletes every entry; returns how many. */
  flush(): number {
    const n = this.live.size;
    for (const e of [...this.live]) this.kill(e);
    return n;
  }

  /** `conntrack -D` with selectors: deletes the live entries matching `filter`; returns them. */
  deleteMatching(filter: ConntrackFilter, now: number): ConntrackEntry[] {
    const gone = this.list(now).filter((e) => matchesConntrackFilter(e, filter));
    for (const e of gone) this.kill(e);
    return gone;
  }

  /**
   * `masq_device_event`: the out interface of masqueraded connections went down or away; their
   * entries are deleted. Returns how many.
   */
  masqueradeDeviceDown(ifindex: number): number {
    let n = 0;
    for (const e of [...this.live]) if (e.masqIndex === ifindex && this.kill(e)) n++;
    return n;
  }

  /**
   * `masq_inet_event`: an address was removed; masqueraded connections translated to it are deleted.
   * Returns how many.
   */
  masqueradeAddressRemoved(address: number): number {
    let n = 0;
    for (const e of [...this.live]) if (e.masqIndex !== 0 && e.reply.dst === address >>> 0 && this.kill(e)) n++;
    return n;
  }

  // ---------------------------------------------------------------- NAT

  /**
   * `nf_nat_setup_info`: what a DNAT or SNAT target does to the first packet's connection.
   * See {@link natSetupInfo}.
   */
  setupNat(entry: ConntrackEntry, manip: NatManip, range: NfNatRange): 'accept' | 'drop' {
    return natSetupInfo(this, entry, manip, range);
  }

  /**
   * `nf_nat_masquerade_ipv4`: SNAT to the out interface's primary address, remembering the
   * interface. A connection from 0.0.0.0 is left alone; no address drops the packet.
   *
   * @see https://github.com/torvalds/linux/blob/master/net/netfilter/nf_nat_masquerade.c
   */
  masquerade(ct: PacketCt, options: MasqueradeOptions): 'accept' | 'drop' {
    const e = ct.entry;
    if (e === undefined) return 'accept';
    if (e.original.src === 0) return 'accept';
    if (options.address === 0) return 'drop';
    e.masqIndex = options.ifindex;
    const range: NfNatRange = {
      minAddr: options.address,
      maxAddr: options.address,
      ...(options.minPort !== undefined ? { minPort: options.minPort, maxPort: options.maxPort ?? options.minPort } : {}),
      ...(options.random === true ? { random: true } : {}),
      ...(options.randomFully === true ? { randomFully: true } : {}),
    };
    return natSetupInfo(this, e, 'SNAT', range);
  }

  /** Whether the entry has its SNAT or DNAT binding (`nf_nat_initialized`). */
  natInitialized(entry: ConntrackEntry, manip: NatManip): boolean {
    return natInitialized(entry, manip);
  }

  /** `nf_nat_alloc_null_binding` for `hook`. */
  allocNullBinding(entry: ConntrackEntry, hook: NatHook): 'accept' | 'drop' {
    return natAllocNullBinding(this, entry, hook);
  }

  /**
   * The NAT hook (`nf_nat_ipv4_fn` → `nf_nat_inet_fn`): for the first packet of a connection runs
   * the nat chain (`options.runChain`) unless the binding exists, then adds the null binding, then
   * translates the packet from the entry ({@link natPacket}); ICMP errors RELATED to a connection
   * are translated inside and out without running the chain.
   *
   * @see https://github.com/torvalds/linux/blob/master/net/netfilter/nf_nat_core.c
   */
  natHook(ct: PacketCt, packet: Ipv4Packet, hook: NatHook, options: NatHookOptions = {}): NatHookResult {
    const e = ct.entry;
    if (e === undefined || ct.state === 'UNTRACKED') return { verdict: 'accept', packet };
    const dir = ct.direction === 'REPLY' ? 1 : 0;
    if (ct.state === 'RELATED' && packet.protocol === IPPROTO_ICMP) {
      const out = natPacket(e, ct.direction, packet, hook);
      return out === undefined ? { verdict: 'drop', packet } : { verdict: 'accept', packet: out };
    }
    const manip = hookManip(hook);
    if (ct.state === 'NEW' || ct.state === 'RELATED') {
      if (!natInitialized(e, manip)) {
        const v = options.runChain?.() ?? 'accept';
        if (v !== 'accept') return { verdict: v, packet };
        if (!natInitialized(e, manip) && natAllocNullBinding(this, e, hook) !== 'accept') return { verdict: 'drop', packet };
      } else if (this.oifChanged(hook, dir, e, options.outIfindex)) {
        this.kill(e);
        return { verdict: 'drop', packet };
      }
    } else if (this.oifChanged(hook, dir, e, options.outIfindex)) {
      this.kill(e);
      return { verdict: 'drop', packet };
    }
    const out = natPacket(e, ct.direction, packet, hook);
    return out === undefined ? { verdict: 'drop', packet } : { verdict: 'accept', packet: out };
  }

  /**
   * `nf_ct_attach` / `nf_conntrack_attach`: the connection of a packet the kernel generates in
   * answer to `to` (an ICMP error from `icmp_send`, a REJECT's TCP reset): RELATED, in the other
   * direction.
   */
  attachRelated(to: PacketCt): PacketCt {
    if (to.entry === undefined) return { entry: undefined, state: 'UNTRACKED', direction: 'ORIGINAL', verdict: 'accept' };
    return { entry: to.entry, state: 'RELATED', direction: to.direction === 'ORIGINAL' ? 'REPLY' : 'ORIGINAL', verdict: 'accept' };
  }

  /** The attachment of a packet the raw table NOTRACKed (`IP_CT_UNTRACKED`). */
  static untracked(): PacketCt {
    return { entry: undefined, state: 'UNTRACKED', direction: 'ORIGINAL', verdict: 'accept' };
  }

  // ---------------------------------------------------------------- NatIndex

  /** @internal `nf_conntrack_tuple_taken` */
  tupleTaken(tuple: ConntrackTuple, ignored: ConntrackEntry): boolean {
    const slot = this.liveSlot(tupleKey(tuple, ignored.zone), this.clock);
    if (slot === undefined || slot.entry === ignored) return false;
    // the same flow seen twice (both original tuples equal) is left to clash resolution
    if (tuplesEqual(ignored.original, slot.entry.original)) return false;
    return true;
  }

  /** @internal `nf_conntrack_find_get` */
  findTuple(tuple: ConntrackTuple, zone: number): { readonly entry: ConntrackEntry; readonly direction: 0 | 1 } | undefined {
    return this.findSlot(tuple, zone, this.clock);
  }

  /** @internal */
  sourceBindings(tuple: ConntrackTuple, zone: number): readonly ConntrackEntry[] {
    const bucket = this.bySource.get(this.sourceKey(tuple, zone));
    return bucket === undefined ? [] : [...bucket].reverse().filter((e) => !e.expired(this.clock));
  }

  /**
   * @internal Linux adds the binding at setup; knet adds it when the entry is confirmed (see
   * `confirm`), so that a connection whose first packet never made it leaves nothing behind. In a
   * single-threaded simulation no other unconfirmed connection can be looking at it meanwhile.
   */
  addSourceBinding(entry: ConntrackEntry): void {
    if (entry.confirmed && !entry.dying) this.bindSource(entry);
  }

  private bindSource(entry: ConntrackEntry): void {
    const k = this.sourceKey(entry.original, entry.zone);
    const bucket = this.bySource.get(k);
    if (bucket === undefined) this.bySource.set(k, [entry]);
    else bucket.push(entry);
  }

  /** @internal `get_random_u16()` */
  randomU16(): number {
    return this.rand() & 0xffff;
  }

  // ---------------------------------------------------------------- internals

  private tick(now: number): void {
    if (now > this.clock) this.clock = now;
  }

  private sourceKey(t: ConntrackTuple, zone: number): string {
    return String.fromCharCode(t.src >>> 16, t.src & 0xffff, t.protocol === IPPROTO_ICMP ? t.id : t.sport, t.protocol, zone & 0xffff, zone >>> 16);
  }

  private countInvalid(ct: PacketCt): PacketCt {
    this.stats.invalid++;
    return ct;
  }

  /** The slot under `key`, removing it (and its entry) when expired. */
  private liveSlot(key: string, now: number): HashSlot | undefined {
    const slot = this.hash.get(key);
    if (slot === undefined) return undefined;
    if (slot.entry.expired(now)) {
      this.kill(slot.entry);
      return undefined;
    }
    return slot;
  }

  private findSlot(tuple: ConntrackTuple, zone: number, now: number): HashSlot | undefined {
    return this.liveSlot(tupleKey(tuple, zone), now);
  }

  private refresh(e: ConntrackEntry, seconds: number, now: number): void {
    if (e.has(IPS.FIXED_TIMEOUT)) return;
    e.timeout = e.confirmed ? now + seconds * NS : seconds * NS;
  }

  /** early_drop: make room by evicting an expired or a not-ASSURED entry (oldest first). */
  private earlyDrop(now: number): boolean {
    if (this.gc(now) > 0) return true;
    for (const e of this.live) {
      if (!e.has(IPS.ASSURED)) {
        this.kill(e);
        this.stats.early_drop++;
        return true;
      }
    }
    return false;
  }

  private oifChanged(hook: NatHook, dir: number, e: ConntrackEntry, outIfindex: number | undefined): boolean {
    return e.masqIndex !== 0 && hook === 'POSTROUTING' && dir === 0 && outIfindex !== undefined && outIfindex !== e.masqIndex;
  }

  /** nf_conntrack_icmpv4_error: `undefined` for a non-error ICMP type (tracked normally). */
  private icmpError(packet: Ipv4Packet, icmp: IcmpMessage, zone: number, now: number): PacketCt | undefined {
    if (icmp.type > NR_ICMP_TYPES) return this.countInvalid(invalid('invalid icmp type'));
    if (!isIcmpError(icmp.type)) return undefined;
    const orig = quotedTuple(icmp.data);
    if (orig === undefined) return this.countInvalid(invalid('ICMP error quotes no trackable header'));
    const inner = invertTuple(orig);
    if (inner === undefined) return this.countInvalid(invalid('ICMP error quotes an untrackable ICMP type'));
    const slot = this.findSlot(inner, zone, now);
    if (slot === undefined) return this.countInvalid(invalid('ICMP error quotes no known connection'));
    const e = slot.entry;
    const ctDaddr = slot.direction === 0 ? e.original.dst : e.reply.dst;
    if (packet.dst >>> 0 !== ctDaddr) return this.countInvalid(invalid('outer daddr != inner daddr'));
    return { entry: e, state: 'RELATED', direction: slot.direction === 1 ? 'REPLY' : 'ORIGINAL', verdict: 'accept' };
  }

  /** The per-protocol packet handler: `undefined` when accepted, a reason when invalid, or 'repeat'. */
  private l4Packet(e: ConntrackEntry, packet: Ipv4Packet, dir: 0 | 1, now: number): string | 'repeat' | undefined {
    const t = this.timeouts;
    switch (e.l4) {
      case 'tcp': {
        const seg = packet.payload;
        if (seg.kind !== 'tcp') return 'truncated packet';
        if (!e.confirmed) {
          const why = tcpNew(e, seg, this.tcpSettings);
          if (why !== undefined) return why;
        }
        const v = tcpPacket(e, seg, dir, e.remaining(now) / NS, this.tcpSettings);
        if (v.kind === 'repeat') return 'repeat';
        if (v.kind === 'invalid') {
          if (v.shrinkTo !== undefined) this.refresh(e, v.shrinkTo, now);
          return v.reason;
        }
        if (v.timeout !== undefined) this.refresh(e, v.timeout, now);
        if (v.assured === true) e.status |= IPS.ASSURED;
        if (v.kill === true) this.kill(e);
        return undefined;
      }
      case 'udp':
      case 'udplite': {
        if (!e.confirmed) e.udpStreamTs = now + 2 * NS;
        if (e.has(IPS.SEEN_REPLY)) {
          let extra = t.udp;
          let stream = false;
          // still active after two seconds: a stream
          if (now > e.udpStreamTs) {
            extra = t.udpStream;
            stream = !e.has(IPS.ASSURED);
          }
          this.refresh(e, extra, now);
          if (e.has(IPS.NAT_CLASH)) return undefined;
          if (stream) e.status |= IPS.ASSURED;
        } else {
          this.refresh(e, t.udp, now);
        }
        return undefined;
      }
      case 'icmp':
        if (!icmpValidNew(e.original.type)) return `icmp: can't create new conn with type ${e.original.type}`;
        this.refresh(e, t.icmp, now);
        return undefined;
      case 'gre':
        if (e.has(IPS.SEEN_REPLY)) {
          this.refresh(e, t.greStream, now);
          if (!e.has(IPS.NAT_CLASH)) e.status |= IPS.ASSURED;
        } else {
          this.refresh(e, t.gre, now);
        }
        return undefined;
      default:
        this.refresh(e, t.generic, now);
        return undefined;
    }
  }

  private resolveClash(ct: PacketCt, loser: ConntrackEntry, clash: HashSlot, replyKey: string, now: number): PacketCt {
    const dropped = (): PacketCt => {
      this.stats.drop++;
      this.stats.insert_failed++;
      return { ...ct, verdict: 'drop', reason: 'insert clash' };
    };
    if (!allowClash(loser)) return dropped();
    const merge = (winner: ConntrackEntry): PacketCt | undefined => {
      if (winner.dying) return undefined;
      const same = winner.zone === loser.zone && tuplesEqual(winner.original, loser.original) && tuplesEqual(winner.reply, loser.reply);
      if ((winner.status & IPS.NAT_DONE_MASK) !== 0 && !same) return undefined;
      this.stats.clash_resolve++;
      loser.status |= IPS.DYING;
      return { ...ct, entry: winner };
    };
    const merged = merge(clash.entry);
    if (merged !== undefined) return merged;
    // nf_ct_resolve_clash_harder: the reply direction must never clash unless both tuples are equal
    const replyClash = this.liveSlot(replyKey, now);
    if (replyClash !== undefined) return merge(replyClash.entry) ?? dropped();
    // insert the loser for the reply direction only, with a 1 s fixed timeout
    loser.timeout = now + NS;
    loser.status |= IPS.FIXED_TIMEOUT | IPS.NAT_CLASH | IPS.CONFIRMED;
    this.hash.set(replyKey, { entry: loser, direction: 1 });
    this.live.add(loser);
    this.stats.clash_resolve++;
    return ct;
  }
}

/** Whether an entry matches a {@link ConntrackFilter} (as `conntrack -L/-D` selectors). */
export function matchesConntrackFilter(e: ConntrackEntry, f: ConntrackFilter): boolean {
  const o = e.original;
  const r = e.reply;
  if (f.protocol !== undefined && o.protocol !== f.protocol) return false;
  if (f.origSrc !== undefined && o.src !== f.origSrc >>> 0) return false;
  if (f.origDst !== undefined && o.dst !== f.origDst >>> 0) return false;
  if (f.replySrc !== undefined && r.src !== f.replySrc >>> 0) return false;
  if (f.replyDst !== undefined && r.dst !== f.replyDst >>> 0) return false;
  if (f.origSport !== undefined && o.sport !== f.origSport) return false;
  if (f.origDport !== undefined && o.dport !== f.origDport) return false;
  if (f.replySport !== undefined && r.sport !== f.replySport) return false;
  if (f.replyDport !== undefined && r.dport !== f.replyDport) return false;
  if (f.srcNat !== undefined && (!e.has(IPS.SRC_NAT) || (f.srcNat !== true && r.dst !== f.srcNat >>> 0))) return false;
  if (f.dstNat !== undefined && (!e.has(IPS.DST_NAT) || (f.dstNat !== true && r.src !== f.dstNat >>> 0))) return false;
  if (f.mark !== undefined && (e.mark & (f.markMask ?? 0xffffffff)) >>> 0 !== f.mark >>> 0) return false;
  if (f.zone !== undefined && e.zone !== f.zone) return false;
  if (f.state !== undefined && e.tcpState !== f.state) return false;
  return true;
}
