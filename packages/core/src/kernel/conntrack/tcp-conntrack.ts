import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../../packet/types.js';
import type { TcpSegment } from '../../packet/types.js';
import { IPS } from './conntrack-entry.js';
import type { ConntrackEntry, TcpTracking, TcpWindowState } from './conntrack-entry.js';
import type { ConntrackTimeouts } from './conntrack-timeouts.js';

// enum tcp_conntrack, plus the table's two pseudo-states
const sNO = 0;
const sSS = 1;
const sSR = 2;
const sES = 3;
const sFW = 4;
const sCW = 5;
const sLA = 6;
const sTW = 7;
const sCL = 8;
const sS2 = 9;
const sIV = 10; // TCP_CONNTRACK_MAX
const sIG = 11; // TCP_CONNTRACK_IGNORE
// timeout slots after the states
const TCP_CONNTRACK_RETRANS = 10;
const TCP_CONNTRACK_UNACK = 11;

// enum tcp_bit_set
const TCP_SYN_SET = 0;
const TCP_SYNACK_SET = 1;
const TCP_FIN_SET = 2;
const TCP_ACK_SET = 3;
const TCP_RST_SET = 4;
const TCP_NONE_SET = 5;

/** IP_CT_TCP_FLAG_* (include/uapi/linux/netfilter/nf_conntrack_tcp.h) and the two internal ones. */
export const IP_CT_TCP_FLAG = {
  WINDOW_SCALE: 0x01,
  SACK_PERM: 0x02,
  CLOSE_INIT: 0x04,
  BE_LIBERAL: 0x08,
  DATA_UNACKNOWLEDGED: 0x10,
  MAXACK_SET: 0x20,
  EXP_CHALLENGE_ACK: 0x40,
  SIMULTANEOUS_OPEN: 0x80,
} as const;

const F = IP_CT_TCP_FLAG;
const TCP_URG = 0x20;
const TCP_MAX_WSCALE = 14;
const MAXACKWINCONST = 66000;

/**
 * `tcp_conntracks[dir][index][state]` of nf_conntrack_proto_tcp.c (Linux 6.x): the state a packet
 * with flag set `index` seen in direction `dir` moves a connection in `state` to.
 */
const TCP_CONNTRACKS: readonly (readonly (readonly number[])[])[] = [
  [
    /* ORIGINAL   sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
    /* syn    */ [sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2],
    /* synack */ [sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR],
    /* fin    */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    /* ack    */ [sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV],
    /* rst    */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none   */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
  [
    /* REPLY      sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
    /* syn    */ [sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2],
    /* synack */ [sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR],
    /* fin    */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    /* ack    */ [sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG],
    /* rst    */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none   */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
];

/** Names of the flag sets, for {@link tcpConntrackTransition}. */
export type TcpFlagSet = 'syn' | 'synack' | 'fin' | 'ack' | 'rst' | 'none';
const FLAG_SETS: readonly TcpFlagSet[] = ['syn', 'synack', 'fin', 'ack', 'rst', 'none'];
const STATE_NAMES = ['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'SYN_SENT2'] as const;

/**
 * One cell of the kernel's TCP transition table: the state a segment with flag set `flags` seen in
 * `direction` moves a connection in `state` to; `'INVALID'` (sIV) or `'IGNORE'` (sIG) where the
 * kernel marks the packet so. The special cases of `nf_conntrack_tcp_packet()` (reopening from
 * TIME_WAIT, RST checks, challenge ACKs, simultaneous open) apply on top, in {@link ConntrackTable}.
 *
 * @remarks Linux equivalent: `tcp_conntracks[dir][index][state]`.
 * @see https://github.com/torvalds/linux/blob/master/net/netfilter/nf_conntrack_proto_tcp.c
 * @example
 * ```ts
 * import { tcpConntrackTransition } from '@knet/core';
 * tcpConntrackTransition('REPLY', 'synack', 'SYN_SENT'); // 'SYN_RECV'
 * ```
 */
export function tcpConntrackTransition(
  direction: 'ORIGINAL' | 'REPLY',
  flags: TcpFlagSet,
  state: (typeof STATE_NAMES)[number],
): (typeof STATE_NAMES)[number] | 'INVALID' | 'IGNORE' {
  const next = TCP_CONNTRACKS[direction === 'ORIGINAL' ? 0 : 1]![FLAG_SETS.indexOf(flags)]![STATE_NAMES.indexOf(state)]!;
  return next === sIV ? 'INVALID' : next === sIG ? 'IGNORE' : STATE_NAMES[next]!;
}

/** Per-netns TCP tracker settings (`struct nf_tcp_net`). */
export interface TcpTrackerSettings {
  readonly timeouts: ConntrackTimeouts;
  /** nf_conntrack_tcp_be_liberal (default 0). */
  readonly beLiberal: boolean;
  /** nf_conntrack_tcp_loose: pick up connections mid-stream (default 1). */
  readonly loose: boolean;
  /** nf_conntrack_tcp_max_retrans (default 3). */
  readonly maxRetrans: number;
  /** nf_conntrack_tcp_ignore_invalid_rst (default 0). */
  readonly ignoreInvalidRst: boolean;
}

/**
 * What the TCP tracker decided (the return value of `nf_conntrack_tcp_packet`): accept (refresh the
 * timer to `timeout` seconds when set, kill the entry when `kill`, set ASSURED when `assured`),
 * invalid (the kernel's log text; `shrinkTo` seconds for the timer of an ASSURED entry), or repeat
 * (kill the entry and track the packet again as new).
 */
export type TcpVerdict =
  | { readonly kind: 'accept'; readonly timeout?: number; readonly kill?: boolean; readonly assured?: boolean }
  | { readonly kind: 'invalid'; readonly reason: string; readonly shrinkTo?: number }
  | { readonly kind: 'repeat' };

function u32(x: number): number {
  return x >>> 0;
}
/** `before(a, b)`: (s32)(a - b) < 0 */
function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
/** `after(a, b)` = before(b, a) */
function after(a: number, b: number): boolean {
  return before(b, a);
}

function conntrackIndex(flags: number): number {
  if ((flags & TCP_RST) !== 0) return TCP_RST_SET;
  if ((flags & TCP_SYN) !== 0) return (flags & TCP_ACK) !== 0 ? TCP_SYNACK_SET : TCP_SYN_SET;
  if ((flags & TCP_FIN) !== 0) return TCP_FIN_SET;
  if ((flags & TCP_ACK) !== 0) return TCP_ACK_SET;
  return TCP_NONE_SET;
}

/** `segment_seq_plus_len`: seq + payload length + SYN + FIN. */
function segmentEnd(seg: TcpSegment): number {
  return u32(seg.seq + seg.payload.length + ((seg.flags & TCP_SYN) !== 0 ? 1 : 0) + ((seg.flags & TCP_FIN) !== 0 ? 1 : 0));
}

function emptyWindow(): TcpWindowState {
  return { tdEnd: 0, tdMaxend: 0, tdMaxwin: 0, tdMaxack: 0, tdScale: 0, flags: 0 };
}

/** A zeroed `struct ip_ct_tcp`. */
export function newTcpTracking(): TcpTracking {
  return {
    state: sNO,
    seen: [emptyWindow(), emptyWindow()],
    lastDir: 0,
    retrans: 0,
    lastIndex: TCP_NONE_SET,
    lastSeq: 0,
    lastAck: 0,
    lastEnd: 0,
    lastWin: 0,
    lastWscale: 0,
    lastFlags: 0,
  };
}

/** `tcp_options`: window scale and SACK-permitted from the options (only when there are options). */
function tcpOptions(seg: TcpSegment, state: TcpWindowState): void {
  const o = seg.options;
  if (o === undefined || o.length === 0) return;
  state.tdScale = 0;
  state.flags &= F.BE_LIBERAL;
  let i = 0;
  let length = o.length;
  while (length > 0) {
    const opcode = o[i++]!;
    if (opcode === 0) return; // EOL
    if (opcode === 1) {
      length--;
      continue;
    }
    if (length < 2) return;
    const opsize = o[i++] ?? 0;
    if (opsize < 2 || opsize > length) return;
    if (opcode === 4 && opsize === 2) state.flags |= F.SACK_PERM;
    else if (opcode === 3 && opsize === 3) {
      state.tdScale = Math.min(o[i] ?? 0, TCP_MAX_WSCALE);
      state.flags |= F.WINDOW_SCALE;
    }
    i += opsize - 2;
    length -= opsize;
  }
}

/** `tcp_sack`: the highest right edge of the SACK blocks, if above `sack`. */
function tcpSack(seg: TcpSegment, sack: number): number {
  const o = seg.options;
  if (o === undefined || o.length === 0) return sack;
  // fast path for the timestamp-only option (NOP NOP TS 10)
  if (o.length === 12 && o[0] === 1 && o[1] === 1 && o[2] === 8 && o[3] === 10) return sack;
  let i = 0;
  let length = o.length;
  while (length > 0) {
    const opcode = o[i++]!;
    if (opcode === 0) return sack;
    if (opcode === 1) {
      length--;
      continue;
    }
    if (length < 2) return sack;
    const opsize = o[i++] ?? 0;
    if (opsize < 2 || opsize > length) return sack;
    if (opcode === 5 && opsize >= 10 && (opsize - 2) % 8 === 0) {
      for (let b = 0; b < opsize - 2; b += 8) {
        const p = i + b + 4;
        const tmp = u32(((o[p] ?? 0) << 24) | ((o[p + 1] ?? 0) << 16) | ((o[p + 2] ?? 0) << 8) | (o[p + 3] ?? 0));
        if (after(tmp, sack)) sack = tmp;
      }
      return sack;
    }
    i += opsize - 2;
    length -= opsize;
  }
  return sack;
}

function initSender(sender: TcpWindowState, receiver: TcpWindowState, seg: TcpSegment, end: number, win: number, dir: number): void {
  sender.tdEnd = end;
  sender.tdMaxend = end;
  sender.tdMaxwin = win === 0 ? 1 : win;
  tcpOptions(seg, sender);
  // RFC 1323: both sides must send the window scale option to enable scaling either way
  if (dir === 1 && !((sender.flags & F.WINDOW_SCALE) !== 0 && (receiver.flags & F.WINDOW_SCALE) !== 0)) {
    sender.tdScale = 0;
    receiver.tdScale = 0;
  }
}

type WindowResult = { readonly kind: 'accept' } | { readonly kind: 'ignore' | 'invalid'; readonly reason: string };

function tcpInWindow(tcp: TcpTracking, dir: number, index: number, seg: TcpSegment, settings: TcpTrackerSettings): WindowResult {
  const sender = tcp.seen[dir]!;
  const receiver = tcp.seen[1 - dir]!;
  const logInvalid = (kind: 'ignore' | 'invalid', reason: string): WindowResult =>
    (sender.flags & F.BE_LIBERAL) !== 0 || settings.beLiberal ? { kind: 'accept' } : { kind, reason };
  let seq = seg.seq >>> 0;
  let ack = seg.ack >>> 0;
  let sack = ack;
  const winRaw = seg.window;
  let win = winRaw;
  let end = segmentEnd(seg);
  const syn = (seg.flags & TCP_SYN) !== 0;
  const hasAck = (seg.flags & TCP_ACK) !== 0;
  const rst = (seg.flags & TCP_RST) !== 0;

  if ((receiver.flags & F.SACK_PERM) !== 0) sack = tcpSack(seg, sack);

  if (sender.tdMaxwin === 0) {
    if (syn) {
      initSender(sender, receiver, seg, end, win, dir);
      if (!hasAck) return { kind: 'accept' }; // simultaneous open
    } else {
      // mid-connection: use what the packet tells
      sender.tdEnd = end;
      const swin = u32(win << sender.tdScale);
      sender.tdMaxwin = swin === 0 ? 1 : swin;
      sender.tdMaxend = u32(end + sender.tdMaxwin);
      if (receiver.tdMaxwin === 0) {
        receiver.tdEnd = sack;
        receiver.tdMaxend = sack;
      } else if (sack === u32(receiver.tdEnd + 1)) {
        receiver.tdEnd = u32(receiver.tdEnd + 1); // likely a reply to a keepalive
      }
    }
  } else if (syn && after(end, sender.tdEnd) && (tcp.state === sSS || tcp.state === sSR)) {
    // RFC 793: a reinitialised TCP uses higher sequence numbers; re-init this direction
    initSender(sender, receiver, seg, end, win, dir);
    if (dir === 1 && !hasAck) return { kind: 'accept' };
  }

  if (!hasAck) {
    ack = receiver.tdEnd;
    sack = ack;
  } else if (rst && ack === 0) {
    ack = receiver.tdEnd; // broken stacks that set ACK on RST with a zero ack
    sack = ack;
  }

  if (rst && seq === 0 && tcp.state === sSS) {
    seq = sender.tdEnd; // RST answering a SYN
    end = seq;
  }

  const maxAckWindow = sender.tdMaxwin > MAXACKWINCONST ? sender.tdMaxwin : MAXACKWINCONST;
  const seqOk = before(seq, u32(sender.tdMaxend + 1));
  if (!seqOk) {
    const overshot = u32(end - sender.tdMaxend + 1);
    const ackOk = after(sack, u32(receiver.tdEnd - maxAckWindow - 1));
    const inRecvWin = receiver.tdMaxwin !== 0 && after(end, u32(sender.tdEnd - receiver.tdMaxwin - 1));
    if (inRecvWin && ackOk && overshot <= receiver.tdMaxwin && before(sack, u32(receiver.tdEnd + 1))) {
      sender.tdEnd = end;
      sender.flags |= F.DATA_UNACKNOWLEDGED;
      return logInvalid('ignore', `${overshot} bytes more than expected`);
    }
    return logInvalid('invalid', `SEQ is over upper bound ${u32(sender.tdMaxend + 1)} (over the window of the receiver)`);
  }
  if (!before(sack, u32(receiver.tdEnd + 1))) {
    return logInvalid('invalid', `ACK is over upper bound ${u32(receiver.tdEnd + 1)} (ACKed data not seen yet)`);
  }
  const inRecvWin = receiver.tdMaxwin === 0 || after(end, u32(sender.tdEnd - receiver.tdMaxwin - 1));
  if (!inRecvWin) {
    return logInvalid('ignore', `SEQ is under lower bound ${u32(sender.tdEnd - receiver.tdMaxwin - 1)} (already ACKed data retransmitted)`);
  }
  if (!after(sack, u32(receiver.tdEnd - maxAckWindow - 1))) {
    return logInvalid('ignore', `ignored ACK under lower bound ${u32(receiver.tdEnd - maxAckWindow - 1)} (possible overly delayed)`);
  }

  if (!syn) win = u32(win << sender.tdScale);

  // update sender data
  const swin = u32(win + (sack - ack));
  if (sender.tdMaxwin < swin) sender.tdMaxwin = swin;
  if (after(end, sender.tdEnd)) {
    sender.tdEnd = end;
    sender.flags |= F.DATA_UNACKNOWLEDGED;
  }
  if (hasAck) {
    if ((sender.flags & F.MAXACK_SET) === 0) {
      sender.tdMaxack = ack;
      sender.flags |= F.MAXACK_SET;
    } else if (after(ack, sender.tdMaxack)) {
      sender.tdMaxack = ack;
    }
  }
  // update receiver data
  if (receiver.tdMaxwin !== 0 && after(end, sender.tdMaxend)) receiver.tdMaxwin = u32(receiver.tdMaxwin + (end - sender.tdMaxend));
  if (after(u32(sack + win), u32(receiver.tdMaxend - 1))) {
    receiver.tdMaxend = u32(sack + win);
    if (win === 0) receiver.tdMaxend = u32(receiver.tdMaxend + 1);
  }
  if (ack === receiver.tdEnd) receiver.flags &= ~F.DATA_UNACKNOWLEDGED;

  // retransmissions
  if (index === TCP_ACK_SET) {
    if (tcp.lastDir === dir && tcp.lastSeq === seq && tcp.lastAck === ack && tcp.lastEnd === end && tcp.lastWin === winRaw) {
      tcp.retrans++;
    } else {
      tcp.lastDir = dir;
      tcp.lastSeq = seq;
      tcp.lastAck = ack;
      tcp.lastEnd = end;
      tcp.lastWin = winRaw;
      tcp.retrans = 0;
    }
  }
  return { kind: 'accept' };
}

/** `tcp_valid_flags`: the flag combinations conntrack accepts (PSH, ECE and CWR are always valid). */
function validFlags(flags: number): boolean {
  const f = flags & 0xff & ~(0x40 | 0x80 | 0x08);
  return (
    f === TCP_SYN ||
    f === (TCP_SYN | TCP_URG) ||
    f === (TCP_SYN | TCP_ACK) ||
    f === TCP_RST ||
    f === (TCP_RST | TCP_ACK) ||
    f === (TCP_FIN | TCP_ACK) ||
    f === (TCP_FIN | TCP_ACK | TCP_URG) ||
    f === TCP_ACK ||
    f === (TCP_ACK | TCP_URG)
  );
}

/**
 * `tcp_error` + `tcp_new` for a packet that would create a connection: the reason it cannot,
 * or `undefined` when `entry.tcp` has been initialised.
 */
export function tcpNew(entry: ConntrackEntry, seg: TcpSegment, settings: TcpTrackerSettings): string | undefined {
  if (!validFlags(seg.flags)) return 'invalid tcp flag combination';
  const newState = TCP_CONNTRACKS[0]![conntrackIndex(seg.flags)]![sNO]!;
  if (newState >= sIV) return 'invalid new';
  const tcp = newTcpTracking();
  const s0 = tcp.seen[0];
  s0.tdEnd = segmentEnd(seg);
  s0.tdMaxwin = seg.window === 0 ? 1 : seg.window;
  if (newState === sSS) {
    s0.tdMaxend = s0.tdEnd;
    tcpOptions(seg, s0);
  } else {
    if (!settings.loose) return 'invalid new';
    // mid-connection pickup: assume SACK and liberal window checking (window scaling is unknown)
    s0.tdMaxend = u32(s0.tdEnd + s0.tdMaxwin);
    s0.flags = F.SACK_PERM | F.BE_LIBERAL;
    tcp.seen[1].flags = F.SACK_PERM | F.BE_LIBERAL;
  }
  tcp.lastIndex = TCP_NONE_SET;
  entry.tcp = tcp;
  return undefined;
}

function timeoutsByState(t: ConntrackTimeouts): readonly number[] {
  return [0, t.tcpSynSent, t.tcpSynRecv, t.tcpEstablished, t.tcpFinWait, t.tcpCloseWait, t.tcpLastAck, t.tcpTimeWait, t.tcpClose, t.tcpSynSent2, t.tcpMaxRetrans, t.tcpUnacknowledged];
}

function established(entry: ConntrackEntry, tcp: TcpTracking): boolean {
  return tcp.state === sES && entry.has(IPS.ASSURED);
}

function canEarlyDrop(tcp: TcpTracking): boolean {
  return tcp.state === sFW || tcp.state === sLA || tcp.state === sTW || tcp.state === sCL || tcp.state === sCW;
}

function resetWindow(s: TcpWindowState): void {
  s.tdEnd = 0;
  s.tdMaxend = 0;
  s.tdMaxwin = 0;
  s.tdMaxack = 0;
  s.tdScale = 0;
  s.flags &= F.BE_LIBERAL;
}

/**
 * `nf_tcp_handle_invalid`: an out-of-window FIN or RST answering the other side's FIN/RST shrinks an
 * ASSURED connection's timer to the unacknowledged timeout. Returns the new relative timer (s) or
 * `undefined` to keep it.
 */
function handleInvalid(entry: ConntrackEntry, tcp: TcpTracking, dir: number, index: number, remainingSeconds: number, settings: TcpTrackerSettings): number | undefined {
  if (!entry.has(IPS.ASSURED) || entry.has(IPS.FIXED_TIMEOUT)) return undefined;
  if (index !== TCP_RST_SET && index !== TCP_FIN_SET) return undefined;
  if (tcp.lastDir !== dir && (tcp.lastIndex === TCP_FIN_SET || tcp.lastIndex === TCP_RST_SET)) {
    if (remainingSeconds < 120) return undefined;
    const timeout = settings.timeouts.tcpUnacknowledged;
    return remainingSeconds > timeout ? timeout : undefined;
  }
  tcp.lastIndex = index;
  tcp.lastDir = dir;
  return undefined;
}

/**
 * `nf_conntrack_tcp_packet`: runs one segment through the TCP tracker of `entry` (direction 0 =
 * original, 1 = reply). The caller creates `entry.tcp` with {@link tcpNew} for a new connection,
 * then refreshes the timer with the returned `timeout` (seconds), kills the entry when `kill`, and
 * sets ASSURED when `assured`.
 *
 * @remarks Linux equivalent: `nf_conntrack_tcp_packet()` with `tcp_in_window()` (Linux 6.x).
 * `remainingSeconds` is what the entry's timer still holds (`nf_ct_expires`), needed by the
 * SYN-retransmit and invalid-FIN/RST rules.
 * @see https://github.com/torvalds/linux/blob/master/net/netfilter/nf_conntrack_proto_tcp.c
 */
export function tcpPacket(entry: ConntrackEntry, seg: TcpSegment, dir: number, remainingSeconds: number, settings: TcpTrackerSettings): TcpVerdict {
  if (!validFlags(seg.flags)) return { kind: 'invalid', reason: 'invalid tcp flag combination' };
  const tcp = entry.tcp;
  if (tcp === undefined) return { kind: 'invalid', reason: 'invalid new' };
  let oldState = tcp.state;
  const index = conntrackIndex(seg.flags);
  let newState = TCP_CONNTRACKS[dir]![index]![oldState]!;
  const stateName = (s: number): string => STATE_NAMES[s] ?? 'NONE';
  let skipWindow = false;

  switch (newState) {
    case sSS:
    case sIG: {
      if (newState === sSS) {
        if (oldState < sTW) break;
        // RFC 1122: reopening from TIME_WAIT, or after an abort: delete this connection and look up again
        if (((tcp.seen[dir]!.flags | tcp.seen[1 - dir]!.flags) & F.CLOSE_INIT) !== 0 || (tcp.lastDir === dir && tcp.lastIndex === TCP_RST_SET)) {
          return { kind: 'repeat' };
        }
      }
      // ignored packets: our entry may be out of sync
      if (index === TCP_SYNACK_SET && tcp.lastIndex === TCP_SYN_SET && tcp.lastDir !== dir && seg.ack >>> 0 === tcp.lastEnd) {
        // this SYN/ACK acknowledges a SYN we ignored: get in sync from the annotated values
        oldState = sSS;
        newState = sSR;
        const last = tcp.seen[tcp.lastDir]!;
        last.tdEnd = tcp.lastEnd;
        last.tdMaxend = tcp.lastEnd;
        last.tdMaxwin = tcp.lastWin === 0 ? 1 : tcp.lastWin;
        last.tdScale = tcp.lastWscale;
        tcp.lastFlags &= ~F.EXP_CHALLENGE_ACK;
        last.flags = tcp.lastFlags;
        resetWindow(tcp.seen[dir]!);
        break;
      }
      tcp.lastIndex = index;
      tcp.lastDir = dir;
      tcp.lastSeq = seg.seq >>> 0;
      tcp.lastEnd = segmentEnd(seg);
      tcp.lastWin = seg.window;
      if (index === TCP_SYN_SET && dir === 0) {
        const seen = emptyWindow();
        tcp.lastFlags = 0;
        tcp.lastWscale = 0;
        tcpOptions(seg, seen);
        if ((seen.flags & F.WINDOW_SCALE) !== 0) {
          tcp.lastFlags |= F.WINDOW_SCALE;
          tcp.lastWscale = seen.tdScale;
        }
        if ((seen.flags & F.SACK_PERM) !== 0) tcp.lastFlags |= F.SACK_PERM;
        if (oldState === sLA) tcp.lastFlags |= F.EXP_CHALLENGE_ACK;
      }
      if (oldState === sSS && index === TCP_ACK_SET && dir === 1) tcp.lastAck = seg.ack >>> 0;
      // "packet (index %d) in dir %d ignored, state %s": accepted, the state does not move
      return { kind: 'accept' };
    }
    case sIV:
      return { kind: 'invalid', reason: `packet (index ${index}) in dir ${dir} invalid, state ${stateName(oldState)}` };
    case sTW:
      // RFC 5961 challenge ACK answering a spurious SYN must not be taken for the last ACK
      if (oldState === sLA && index === TCP_ACK_SET && tcp.lastDir !== dir && tcp.lastIndex === TCP_SYN_SET && (tcp.lastFlags & F.EXP_CHALLENGE_ACK) !== 0) {
        tcp.lastFlags &= ~F.EXP_CHALLENGE_ACK;
        return { kind: 'accept' };
      }
      break;
    case sS2:
      tcp.lastFlags |= F.SIMULTANEOUS_OPEN;
      break;
    case sSR:
      if (dir === 1 && index === TCP_ACK_SET && (tcp.lastFlags & F.SIMULTANEOUS_OPEN) !== 0) newState = sES;
      break;
    case sCL: {
      if (index !== TCP_RST_SET) break;
      if (canEarlyDrop(tcp)) {
        skipWindow = true;
        break;
      }
      const other = tcp.seen[1 - dir]!;
      let resolved = false;
      if ((other.flags & F.MAXACK_SET) !== 0 && tcp.lastIndex !== TCP_SYN_SET) {
        const seq = seg.seq >>> 0;
        if (seq === 0 && !established(entry, tcp)) {
          resolved = true;
        } else {
          if (before(seq, other.tdMaxack) && !settings.ignoreInvalidRst) return { kind: 'invalid', reason: 'invalid rst' };
          if (!established(entry, tcp) || seq === other.tdMaxack) resolved = true;
          else if (tcp.lastIndex === TCP_ACK_SET && tcp.lastDir === dir && seq === tcp.lastEnd) resolved = true;
          else newState = oldState; // keep the state: a challenge ACK may follow
        }
      }
      if (resolved) break;
      if (
        ((entry.has(IPS.SEEN_REPLY) && tcp.lastIndex === TCP_SYN_SET) || (!entry.has(IPS.ASSURED) && tcp.lastIndex === TCP_ACK_SET)) &&
        seg.ack >>> 0 === tcp.lastEnd
      ) {
        skipWindow = true; // RST to a SYN or ACK we let through: delete the entry, skip window checks
        break;
      }
      if (oldState === sSS && tcp.lastIndex === TCP_ACK_SET && tcp.lastDir === 1 && seg.seq >>> 0 === tcp.lastAck) skipWindow = true;
      break;
    }
    default:
      break;
  }

  if (!skipWindow) {
    const res = tcpInWindow(tcp, dir, index, seg, settings);
    if (res.kind === 'ignore') return { kind: 'accept' };
    if (res.kind === 'invalid') {
      const shrunk = handleInvalid(entry, tcp, dir, index, remainingSeconds, settings);
      return shrunk === undefined ? { kind: 'invalid', reason: res.reason } : { kind: 'invalid', reason: res.reason, shrinkTo: shrunk };
    }
  }

  // in-window from here on
  tcp.lastIndex = index;
  tcp.lastDir = dir;
  tcp.state = newState;
  if (oldState !== newState && newState === sFW) tcp.seen[dir]!.flags |= F.CLOSE_INIT;

  const timeouts = timeoutsByState(settings.timeouts);
  const at = (s: number): number => timeouts[s] ?? 0;
  let timeout: number;
  if (tcp.retrans >= settings.maxRetrans && at(newState) > at(TCP_CONNTRACK_RETRANS)) timeout = at(TCP_CONNTRACK_RETRANS);
  else if (index === TCP_RST_SET) timeout = settings.timeouts.tcpClose;
  else if (((tcp.seen[0].flags | tcp.seen[1].flags) & F.DATA_UNACKNOWLEDGED) !== 0 && at(newState) > at(TCP_CONNTRACK_UNACK)) timeout = at(TCP_CONNTRACK_UNACK);
  else if (tcp.lastWin === 0 && at(newState) > at(TCP_CONNTRACK_RETRANS)) timeout = at(TCP_CONNTRACK_RETRANS);
  else timeout = at(newState);

  if (!entry.has(IPS.SEEN_REPLY)) {
    // only reply is a RST: not an established connection, delete it at once
    if ((seg.flags & TCP_RST) !== 0) return { kind: 'accept', kill: true };
    // do not renew the timer on a SYN retransmit
    if (index === TCP_SYN_SET && oldState === sSS) return { kind: 'accept' };
    // mid-stream pickup without a reply yet: no long ESTABLISHED timer
    if (newState === sES && timeout > at(TCP_CONNTRACK_UNACK)) timeout = at(TCP_CONNTRACK_UNACK);
    return { kind: 'accept', timeout };
  }
  if (!entry.has(IPS.ASSURED) && (oldState === sSR || oldState === sES) && newState === sES) {
    return { kind: 'accept', timeout, assured: true };
  }
  return { kind: 'accept', timeout };
}
