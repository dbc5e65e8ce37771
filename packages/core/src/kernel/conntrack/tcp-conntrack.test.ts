import { describe, expect, it } from 'vitest';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, sec, tcp } from './__fixtures__/packets.js';
import { IPS } from './conntrack-entry.js';
import { ConntrackTable } from './conntrack-table.js';
import type { ConntrackTableOptions, PacketCt } from './conntrack-table.js';
import { tcpConntrackTransition } from './tcp-conntrack.js';
import type { TcpFlagSet } from './tcp-conntrack.js';

const C = '10.244.0.4';
const S = '10.244.1.3';
const SA = TCP_SYN | TCP_ACK;
const FA = TCP_FIN | TCP_ACK;
const RA = TCP_RST | TCP_ACK;

describe('tcpConntrackTransition', () => {
  // rows of tcp_conntracks[][][] in net/netfilter/nf_conntrack_proto_tcp.c (Linux 6.x)
  it.each([
    ['ORIGINAL', 'syn', 'NONE', 'SYN_SENT'],
    ['ORIGINAL', 'syn', 'SYN_SENT', 'SYN_SENT'],
    ['ORIGINAL', 'syn', 'ESTABLISHED', 'IGNORE'],
    ['ORIGINAL', 'syn', 'TIME_WAIT', 'SYN_SENT'],
    ['ORIGINAL', 'syn', 'CLOSE', 'SYN_SENT'],
    ['ORIGINAL', 'synack', 'SYN_SENT', 'INVALID'],
    ['ORIGINAL', 'synack', 'SYN_SENT2', 'SYN_RECV'],
    ['ORIGINAL', 'synack', 'ESTABLISHED', 'INVALID'],
    ['ORIGINAL', 'fin', 'SYN_SENT', 'INVALID'],
    ['ORIGINAL', 'fin', 'ESTABLISHED', 'FIN_WAIT'],
    ['ORIGINAL', 'fin', 'CLOSE_WAIT', 'LAST_ACK'],
    ['ORIGINAL', 'ack', 'NONE', 'ESTABLISHED'],
    ['ORIGINAL', 'ack', 'SYN_SENT', 'INVALID'],
    ['ORIGINAL', 'ack', 'SYN_RECV', 'ESTABLISHED'],
    ['ORIGINAL', 'ack', 'LAST_ACK', 'TIME_WAIT'],
    ['ORIGINAL', 'rst', 'NONE', 'INVALID'],
    ['ORIGINAL', 'rst', 'ESTABLISHED', 'CLOSE'],
    ['ORIGINAL', 'none', 'ESTABLISHED', 'INVALID'],
    ['REPLY', 'syn', 'SYN_SENT', 'SYN_SENT2'],
    ['REPLY', 'syn', 'TIME_WAIT', 'SYN_SENT'],
    ['REPLY', 'syn', 'ESTABLISHED', 'INVALID'],
    ['REPLY', 'synack', 'SYN_SENT', 'SYN_RECV'],
    ['REPLY', 'synack', 'ESTABLISHED', 'IGNORE'],
    ['REPLY', 'fin', 'ESTABLISHED', 'FIN_WAIT'],
    ['REPLY', 'fin', 'FIN_WAIT', 'LAST_ACK'],
    ['REPLY', 'ack', 'SYN_SENT', 'IGNORE'],
    ['REPLY', 'ack', 'SYN_RECV', 'SYN_RECV'],
    ['REPLY', 'ack', 'FIN_WAIT', 'CLOSE_WAIT'],
    ['REPLY', 'ack', 'LAST_ACK', 'TIME_WAIT'],
    ['REPLY', 'rst', 'SYN_SENT', 'CLOSE'],
  ] as const)('%s %s in %s → %s', (dir, flags, state, next) => {
    expect(tcpConntrackTransition(dir, flags as TcpFlagSet, state)).toBe(next);
  });
});

interface Step {
  readonly packet: ReturnType<typeof tcp>;
  readonly at: number;
}

function run(steps: readonly Step[], options: ConntrackTableOptions = {}): { table: ConntrackTable; cts: PacketCt[] } {
  const table = new ConntrackTable(options);
  const cts: PacketCt[] = [];
  for (const s of steps) cts.push(table.confirm(table.conntrackIn(s.packet, s.at), s.at));
  return { table, cts };
}

type Row = [string, string | undefined, number | undefined, boolean];

/** (ctstate/dir, TCP state, seconds left, ASSURED) right after each packet. */
function trace(steps: readonly Step[], options: ConntrackTableOptions = {}): Row[] {
  const table = new ConntrackTable(options);
  return steps.map((s): Row => {
    const ct = table.confirm(table.conntrackIn(s.packet, s.at), s.at);
    const e = ct.entry;
    return [
      ct.state === 'INVALID' ? `INVALID: ${ct.reason ?? ''}` : `${ct.state}/${ct.direction}`,
      e?.tcpState,
      e === undefined || e.dying ? undefined : Math.floor(e.remaining(s.at) / 1e9),
      e?.has(IPS.ASSURED) ?? false,
    ];
  });
}

const handshake: Step[] = [
  { packet: tcp(C, 40000, S, 8080, TCP_SYN, 1000, 0), at: 0 },
  { packet: tcp(S, 8080, C, 40000, SA, 5000, 1001), at: sec(0.001) },
  { packet: tcp(C, 40000, S, 8080, TCP_ACK, 1001, 5001), at: sec(0.002) },
];

describe('ConntrackTable TCP tracking', () => {
  it('follows a connection through handshake, data and close with the kernel timeouts', () => {
    const steps: Step[] = [
      ...handshake,
      { packet: tcp(C, 40000, S, 8080, TCP_ACK | 0x08, 1001, 5001, { data: 10 }), at: sec(1) },
      { packet: tcp(S, 8080, C, 40000, TCP_ACK, 5001, 1011), at: sec(1.001) },
      { packet: tcp(C, 40000, S, 8080, FA, 1011, 5001), at: sec(2) },
      { packet: tcp(S, 8080, C, 40000, TCP_ACK, 5001, 1012), at: sec(2.001) },
      { packet: tcp(S, 8080, C, 40000, FA, 5001, 1012), at: sec(2.002) },
      { packet: tcp(C, 40000, S, 8080, TCP_ACK, 1012, 5002), at: sec(2.003) },
    ];
    expect(trace(steps)).toEqual([
      ['NEW/ORIGINAL', 'SYN_SENT', 120, false],
      ['ESTABLISHED/REPLY', 'SYN_RECV', 60, false],
      ['ESTABLISHED/ORIGINAL', 'ESTABLISHED', 432000, true],
      // data in flight: the unacknowledged timeout (300 s) until the peer ACKs it
      ['ESTABLISHED/ORIGINAL', 'ESTABLISHED', 300, true],
      ['ESTABLISHED/REPLY', 'ESTABLISHED', 432000, true],
      ['ESTABLISHED/ORIGINAL', 'FIN_WAIT', 120, true],
      ['ESTABLISHED/REPLY', 'CLOSE_WAIT', 60, true],
      ['ESTABLISHED/REPLY', 'LAST_ACK', 30, true],
      ['ESTABLISHED/ORIGINAL', 'TIME_WAIT', 120, true],
    ]);
  });

  it('moves to CLOSE (10 s) on an in-window RST', () => {
    expect(trace([...handshake, { packet: tcp(S, 8080, C, 40000, TCP_RST, 5001, 0), at: sec(1) }]).at(-1)).toEqual(['ESTABLISHED/REPLY', 'CLOSE', 10, true]);
  });

  it('deletes the entry when the only reply is a RST (closed port)', () => {
    const { table, cts } = run([
      { packet: tcp(C, 52128, S, 9999, TCP_SYN, 16450106, 0), at: 0 },
      { packet: tcp(S, 9999, C, 52128, RA, 0, 16450107, { window: 0 }), at: sec(0.001) },
    ]);
    expect(cts.map((c) => `${c.state}/${c.direction}`)).toEqual(['NEW/ORIGINAL', 'ESTABLISHED/REPLY']);
    expect(cts[1]!.entry?.dying).toBe(true);
    expect(table.size).toBe(0);
  });

  it('does not renew the timer on a SYN retransmission', () => {
    const out = trace([
      { packet: tcp(C, 40000, S, 8080, TCP_SYN, 1000, 0), at: 0 },
      { packet: tcp(C, 40000, S, 8080, TCP_SYN, 1000, 0), at: sec(1) },
    ]);
    expect(out).toEqual([
      ['NEW/ORIGINAL', 'SYN_SENT', 120, false],
      ['NEW/ORIGINAL', 'SYN_SENT', 119, false],
    ]);
  });

  it('reopens a connection in TIME_WAIT: the old entry goes, a new one starts', () => {
    const close: Step[] = [
      ...handshake,
      { packet: tcp(C, 40000, S, 8080, FA, 1001, 5001), at: sec(1) },
      { packet: tcp(S, 8080, C, 40000, FA, 5001, 1002), at: sec(1.001) },
      { packet: tcp(C, 40000, S, 8080, TCP_ACK, 1002, 5002), at: sec(1.002) },
      { packet: tcp(C, 40000, S, 8080, TCP_SYN, 900000, 0), at: sec(5) },
    ];
    const { table, cts } = run(close);
    expect(cts[5]!.entry?.tcpState).toBe('TIME_WAIT');
    expect(cts[6]!.state).toBe('NEW');
    expect(cts[6]!.entry).not.toBe(cts[5]!.entry);
    expect(cts[5]!.entry?.dying).toBe(true);
    expect(table.list(sec(5)).map((e) => e.tcpState)).toEqual(['SYN_SENT']);
    expect(table.stats.search_restart).toBe(1);
  });

  it('tracks a simultaneous open through SYN_SENT2', () => {
    const out = trace([
      { packet: tcp(C, 40000, S, 8080, TCP_SYN, 1000, 0), at: 0 },
      { packet: tcp(S, 8080, C, 40000, TCP_SYN, 5000, 0), at: sec(0.001) },
      { packet: tcp(C, 40000, S, 8080, SA, 1000, 5001), at: sec(0.002) },
      { packet: tcp(S, 8080, C, 40000, TCP_ACK, 5001, 1001), at: sec(0.003) },
    ]);
    expect(out.map((r) => r[1])).toEqual(['SYN_SENT', 'SYN_SENT2', 'SYN_RECV', 'ESTABLISHED']);
  });

  it.each([
    ['SYN+FIN', TCP_SYN | TCP_FIN, 'invalid tcp flag combination'],
    ['no flags', 0, 'invalid tcp flag combination'],
    ['a SYN-ACK', SA, 'invalid new'],
    ['a FIN-ACK', FA, 'invalid new'],
    ['a RST', TCP_RST, 'invalid new'],
  ])('refuses to start a connection with %s', (_name, flags, reason) => {
    const table = new ConntrackTable();
    const ct = table.conntrackIn(tcp(C, 47001, '203.0.113.50', 9, flags, 3000, 4000), 0);
    expect([ct.state, ct.reason, ct.entry]).toEqual(['INVALID', reason, undefined]);
    expect(table.confirm(ct, 0).verdict).toBe('accept');
    expect(table.size).toBe(0);
  });

  it('picks up an ACK mid-stream (nf_conntrack_tcp_loose=1), unreplied, with the retransmission timeout', () => {
    // the kernel printed: tcp 6 298 ESTABLISHED src=10.244.0.4 ... sport=47000 dport=9 [UNREPLIED] ... (2 s later)
    expect(trace([{ packet: tcp(C, 47000, '203.0.113.50', 9, TCP_ACK, 1000, 2000), at: 0 }])).toEqual([['NEW/ORIGINAL', 'ESTABLISHED', 300, false]]);
    expect(trace([{ packet: tcp(C, 47000, '203.0.113.50', 9, TCP_ACK, 1000, 2000), at: 0 }], { tcpLoose: false })[0]![0]).toBe('INVALID: invalid new');
  });

  it('marks out-of-window segments INVALID unless nf_conntrack_tcp_be_liberal', () => {
    // the server's SYN-ACK advertised 64240 bytes from ack 1001: the client may send up to 65241
    const late = { packet: tcp(C, 40000, S, 8080, TCP_ACK, 1001 + 10_000_000, 5001), at: sec(1) };
    expect(trace([...handshake, late]).at(-1)?.[0]).toBe('INVALID: SEQ is over upper bound 65242 (over the window of the receiver)');
    expect(trace([...handshake, late], { tcpBeLiberal: true }).at(-1)?.[0]).toBe('ESTABLISHED/ORIGINAL');
    const ackAhead = { packet: tcp(C, 40000, S, 8080, TCP_ACK, 1001, 5001 + 100), at: sec(1) };
    expect(trace([...handshake, ackAhead]).at(-1)?.[0]).toBe('INVALID: ACK is over upper bound 5002 (ACKed data not seen yet)');
  });

  it('ignores a SYN inside an established connection and keeps its state', () => {
    const out = trace([...handshake, { packet: tcp(C, 40000, S, 8080, TCP_SYN, 77, 0), at: sec(1) }]);
    expect(out.at(-1)).toEqual(['ESTABLISHED/ORIGINAL', 'ESTABLISHED', 431999, true]);
  });

  it('shortens the timer to max_retrans after the third retransmission of a segment', () => {
    const data = (at: number): Step => ({ packet: tcp(C, 40000, S, 8080, TCP_ACK, 1001, 5001, { data: 100 }), at });
    const out = trace([...handshake, data(sec(1)), data(sec(2)), data(sec(3)), data(sec(4))], { timeouts: { tcpMaxRetrans: 100 } });
    expect(out.slice(3).map((r) => r[2])).toEqual([300, 300, 300, 100]);
  });
});
