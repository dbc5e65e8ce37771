import type { ConntrackTuple } from './conntrack-tuple.js';

/**
 * Status bits of a connection (`enum ip_conntrack_status`), with the kernel's values, so that
 * `-m conntrack --ctstatus` and `conntrack -L` read them as Linux does.
 *
 * @see https://github.com/torvalds/linux/blob/master/include/uapi/linux/netfilter/nf_conntrack_common.h
 */
export const IPS = {
  EXPECTED: 1 << 0,
  SEEN_REPLY: 1 << 1,
  ASSURED: 1 << 2,
  CONFIRMED: 1 << 3,
  SRC_NAT: 1 << 4,
  DST_NAT: 1 << 5,
  NAT_MASK: (1 << 4) | (1 << 5),
  SEQ_ADJUST: 1 << 6,
  SRC_NAT_DONE: 1 << 7,
  DST_NAT_DONE: 1 << 8,
  NAT_DONE_MASK: (1 << 7) | (1 << 8),
  DYING: 1 << 9,
  FIXED_TIMEOUT: 1 << 10,
  TEMPLATE: 1 << 11,
  NAT_CLASH: 1 << 12,
  HELPER: 1 << 13,
  OFFLOAD: 1 << 14,
  HW_OFFLOAD: 1 << 15,
} as const;

/**
 * TCP conntrack states, in the kernel's order (`enum tcp_conntrack`); `conntrack -L` prints these names.
 *
 * @see https://github.com/torvalds/linux/blob/master/net/netfilter/nf_conntrack_proto_tcp.c
 */
export const TCP_CONNTRACK_STATES = [
  'NONE',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
  'SYN_SENT2',
] as const;

/** A TCP conntrack state name. */
export type TcpConntrackState = (typeof TCP_CONNTRACK_STATES)[number];

/**
 * Per-direction TCP window tracking (`struct ip_ct_tcp_state`).
 *
 * @remarks Linux equivalent: `struct ip_ct_tcp_state` in include/linux/netfilter/nf_conntrack_tcp.h.
 */
export interface TcpWindowState {
  /** max of seq + len */
  tdEnd: number;
  /** max of ack + max(win, 1) */
  tdMaxend: number;
  /** max(win) */
  tdMaxwin: number;
  /** max of ack */
  tdMaxack: number;
  /** window scale factor */
  tdScale: number;
  /** IP_CT_TCP_FLAG_* bits */
  flags: number;
}

/**
 * The TCP part of a connection (`struct ip_ct_tcp`): state, both directions' windows, and the
 * last packet seen (for retransmission and out-of-sync detection).
 */
export interface TcpTracking {
  /** Index into {@link TCP_CONNTRACK_STATES}. */
  state: number;
  /** [original, reply] */
  readonly seen: [TcpWindowState, TcpWindowState];
  lastDir: number;
  retrans: number;
  lastIndex: number;
  lastSeq: number;
  lastAck: number;
  lastEnd: number;
  lastWin: number;
  lastWscale: number;
  lastFlags: number;
}

/** Which tracker handles a connection. */
export type ConntrackL4 = 'tcp' | 'udp' | 'udplite' | 'icmp' | 'gre' | 'generic';

/**
 * One connection of a {@link ConntrackTable}: both tuples, status bits, mark, timer and protocol
 * state.
 *
 * @remarks Linux equivalent: `struct nf_conn`. The table and the NAT code update the fields; callers
 * read them. `timeout` is in nanoseconds of the simulation clock: relative (the next refresh) while
 * the entry is unconfirmed, absolute once {@link ConntrackTable.confirm} inserted it, as the kernel
 * adds `nfct_time_stamp` in `__nf_conntrack_confirm`.
 * @see https://github.com/torvalds/linux/blob/master/include/net/netfilter/nf_conntrack.h
 */
export class ConntrackEntry {
  /** The ctnetlink id (`conntrack -L -o id`). */
  readonly id: number;
  /** Conntrack zone (0 unless a raw-table `CT --zone` set it). */
  readonly zone: number;
  /** Which tracker handles this connection. */
  readonly l4: ConntrackL4;
  /** `tuplehash[IP_CT_DIR_ORIGINAL]`. */
  readonly original: ConntrackTuple;
  /** `tuplehash[IP_CT_DIR_REPLY]`: NAT rewrites it before confirmation. */
  reply: ConntrackTuple;
  /** {@link IPS} bits. */
  status = 0;
  /** ctmark (`CONNMARK`, `conntrack -L` `mark=`). */
  mark = 0;
  /** Timer in ns: relative before confirmation, absolute after. */
  timeout = 0;
  /** TCP state, for TCP connections. */
  tcp: TcpTracking | undefined;
  /** UDP: when (ns) the flow becomes a stream if still active (`proto.udp.stream_ts`). */
  udpStreamTs = 0;
  /** MASQUERADE: the out interface's ifindex (`nf_conn_nat.masq_index`), 0 when not masqueraded. */
  masqIndex = 0;
  /** References held by packets in flight (`skb->_nfct`), on top of the table's own. */
  refs = 0;
  /** When (ns) the entry was created. */
  readonly created: number;

  constructor(id: number, zone: number, l4: ConntrackL4, original: ConntrackTuple, reply: ConntrackTuple, created: number) {
    this.id = id;
    this.zone = zone;
    this.l4 = l4;
    this.original = original;
    this.reply = reply;
    this.created = created;
  }

  /** Whether all the given {@link IPS} bits are set. */
  has(bits: number): boolean {
    return (this.status & bits) === bits;
  }

  /** In the table (`nf_ct_is_confirmed`). */
  get confirmed(): boolean {
    return (this.status & IPS.CONFIRMED) !== 0;
  }

  /** Killed: removed from the table, only packets in flight still hold it. */
  get dying(): boolean {
    return (this.status & IPS.DYING) !== 0;
  }

  /** The TCP state name, for TCP connections. */
  get tcpState(): TcpConntrackState | undefined {
    return this.tcp === undefined ? undefined : TCP_CONNTRACK_STATES[this.tcp.state];
  }

  /** The reference count ctnetlink reports (`use=`): the table's reference plus packets in flight. */
  get use(): number {
    return (this.confirmed && !this.dying ? 1 : 0) + this.refs;
  }

  /** Nanoseconds left before expiry at `now` (0 when expired); meaningful once confirmed. */
  remaining(now: number): number {
    return this.confirmed ? Math.max(this.timeout - now, 0) : this.timeout;
  }

  /** `nf_ct_is_expired`: a confirmed entry whose timer ran out. */
  expired(now: number): boolean {
    return this.confirmed && this.timeout - now <= 0;
  }
}
