import { describe, expect, it } from 'vitest';
import { echo, icmpError, ip, other, sec, tcp, TCP_SYN, udp } from './__fixtures__/packets.js';
import { IPS } from './conntrack-entry.js';
import { ConntrackTable, matchesConntrackFilter } from './conntrack-table.js';
import type { PacketCt } from './conntrack-table.js';
import { makeTuple } from './conntrack-tuple.js';
import { formatConntrackEntry } from './format-conntrack-list.js';

const A = '10.244.0.4';
const B = '10.244.1.3';

function through(table: ConntrackTable, packet: Parameters<ConntrackTable['conntrackIn']>[0], at: number, zone = 0): PacketCt {
  return table.confirm(table.conntrackIn(packet, at, { zone }), at);
}

describe('ConntrackTable', () => {
  it('tracks UDP: unreplied, replied (30 s), then a stream (ASSURED, 120 s) when active after 2 s', () => {
    const t = new ConntrackTable();
    const q1 = through(t, udp(A, 45000, B, 53), 0);
    expect([q1.state, q1.direction, formatConntrackEntry(q1.entry!, 0)]).toEqual([
      'NEW',
      'ORIGINAL',
      'udp      17 30 src=10.244.0.4 dst=10.244.1.3 sport=45000 dport=53 [UNREPLIED] src=10.244.1.3 dst=10.244.0.4 sport=53 dport=45000 mark=0 use=1',
    ]);
    const r1 = through(t, udp(B, 53, A, 45000), sec(0.01));
    expect([r1.state, r1.direction, r1.entry]).toEqual(['ESTABLISHED', 'REPLY', q1.entry]);
    expect(formatConntrackEntry(q1.entry!, sec(0.5))).toBe(
      'udp      17 29 src=10.244.0.4 dst=10.244.1.3 sport=45000 dport=53 src=10.244.1.3 dst=10.244.0.4 sport=53 dport=45000 mark=0 use=1',
    );
    // within the first 2 s: still 30 s, not assured
    through(t, udp(A, 45000, B, 53), sec(1.5));
    expect([q1.entry!.has(IPS.ASSURED), Math.floor(q1.entry!.remaining(sec(1.5)) / 1e9)]).toEqual([false, 30]);
    through(t, udp(A, 45000, B, 53), sec(2.5));
    expect([q1.entry!.has(IPS.ASSURED), Math.floor(q1.entry!.remaining(sec(2.5)) / 1e9)]).toEqual([true, 120]);
  });

  it('tracks ICMP echo and refuses a reply that answers nothing', () => {
    const t = new ConntrackTable();
    const req = through(t, echo(A, B, 8, 15473), 0);
    const rep = through(t, echo(B, A, 0, 15473), sec(0.001));
    expect([req.state, rep.state, rep.direction, rep.entry]).toEqual(['NEW', 'ESTABLISHED', 'REPLY', req.entry]);
    expect(formatConntrackEntry(req.entry!, sec(1))).toBe(
      'icmp     1 29 src=10.244.0.4 dst=10.244.1.3 type=8 code=0 id=15473 src=10.244.1.3 dst=10.244.0.4 type=0 code=0 id=15473 mark=0 use=1',
    );
    const stray = t.conntrackIn(echo(B, A, 0, 999), sec(2));
    expect([stray.state, stray.reason]).toEqual(['INVALID', "icmp: can't create new conn with type 0"]);
    expect(t.conntrackIn(other(A, B, 1), 0).state).toBe('INVALID');
  });

  it.each([
    // an error travelling back to the flow's source quotes the original packet: RELATED, reply direction
    ['port unreachable from the server', B, A, 'request', 'RELATED', 'REPLY'],
    // an error travelling towards the flow's destination quotes a reply packet: RELATED, original direction
    ['port unreachable from the client about a reply', A, B, 'reply', 'RELATED', 'ORIGINAL'],
  ] as const)('relates an ICMP error to the connection it quotes: %s', (_name, from, to, quoted, state, direction) => {
    const t = new ConntrackTable();
    const request = udp(A, 45001, B, 5353);
    const reply = udp(B, 5353, A, 45001);
    const conn = through(t, request, 0);
    const err = t.conntrackIn(icmpError(from, to, 3, 3, quoted === 'request' ? request : reply), sec(0.001));
    expect([err.state, err.direction, err.entry]).toEqual([state, direction, conn.entry]);
    // an error does not count as a reply
    expect(conn.entry!.has(IPS.SEEN_REPLY)).toBe(false);
  });

  it.each([
    ['quotes no known connection', icmpError(B, A, 3, 3, udp(A, 1, B, 2)), 'ICMP error quotes no known connection'],
    ['is addressed elsewhere than the quoted flow', icmpError(B, '10.244.0.99', 3, 3, udp(A, 45001, B, 5353)), 'outer daddr != inner daddr'],
    ['quotes too little', { ...icmpError(B, A, 3, 3, udp(A, 45001, B, 5353)), payload: { kind: 'icmp', type: 3, code: 3, data: new Uint8Array(12) } } as const, 'ICMP error quotes no trackable header'],
  ])('marks an ICMP error INVALID when it %s', (_name, packet, reason) => {
    const t = new ConntrackTable();
    through(t, udp(A, 45001, B, 5353), 0);
    const ct = t.conntrackIn(packet, sec(0.001));
    expect([ct.state, ct.entry, ct.reason]).toEqual(['INVALID', undefined, reason]);
  });

  it('expires entries on the explicit clock: gone at exactly the timeout', () => {
    const t = new ConntrackTable();
    const e = through(t, udp(A, 45000, B, 53), sec(100)).entry!;
    expect(t.lookup(e.original, sec(129.999))?.entry).toBe(e);
    expect(t.list(sec(129.999))).toHaveLength(1);
    expect(t.lookup(e.original, sec(130))).toBeUndefined();
    expect(t.size).toBe(0);
    // a packet after expiry starts a new connection
    expect(through(t, udp(A, 45000, B, 53), sec(131)).state).toBe('NEW');
    expect(t.gc(sec(1000))).toBe(1);
  });

  it('does not insert a connection whose first packet is dropped before confirmation', () => {
    const t = new ConntrackTable();
    const ct = t.conntrackIn(udp(A, 45000, B, 53), 0);
    expect(ct.entry?.confirmed).toBe(false);
    expect(t.lookupPacket(udp(A, 45000, B, 53), 0)).toBeUndefined();
    expect(t.conntrackIn(udp(A, 45000, B, 53), sec(1)).state).toBe('NEW');
  });

  it('keeps zones apart', () => {
    const t = new ConntrackTable();
    const z0 = through(t, udp(A, 45003, B, 19), 0, 0);
    const z5 = through(t, udp(A, 45003, B, 19), 0, 5);
    expect(z5.state).toBe('NEW');
    expect(z5.entry).not.toBe(z0.entry);
    expect(formatConntrackEntry(z5.entry!, 0)).toMatch(/ mark=0 zone=5 use=1$/);
    expect(through(t, udp(B, 19, A, 45003), 0, 5).entry).toBe(z5.entry);
  });

  it('makes room when full by dropping an unassured entry, and drops the packet when it cannot', () => {
    const t = new ConntrackTable({ max: 2 });
    const first = through(t, udp(A, 1, B, 53), 0).entry!;
    through(t, udp(A, 2, B, 53), 0);
    expect(through(t, udp(A, 3, B, 53), 0).verdict).toBe('accept');
    expect(first.dying).toBe(true);
    expect(t.stats.early_drop).toBe(1);
    const full = new ConntrackTable({ max: 1 });
    through(full, tcp(A, 1, B, 80, 0x02, 1), 0);
    through(full, tcp(B, 80, A, 1, 0x12, 100, 2), 0);
    through(full, tcp(A, 1, B, 80, 0x10, 2, 101), 0);
    const refused = full.conntrackIn(udp(A, 9, B, 53), 0);
    expect([refused.verdict, refused.reason]).toEqual(['drop', 'nf_conntrack: table full, dropping packet']);
  });

  it('resolves a confirmation clash: UDP merges into the identical entry, TCP is dropped', () => {
    const t = new ConntrackTable();
    const u1 = t.conntrackIn(udp(A, 45000, B, 53), 0);
    const u2 = t.conntrackIn(udp(A, 45000, B, 53), 0);
    expect(t.confirm(u1, 0).entry).toBe(u1.entry);
    const merged = t.confirm(u2, 0);
    expect([merged.verdict, merged.entry]).toEqual(['accept', u1.entry]);
    expect(t.stats.clash_resolve).toBe(1);
    const s1 = t.conntrackIn(tcp(A, 40000, B, 80, TCP_SYN, 1), 0);
    const s2 = t.conntrackIn(tcp(A, 40000, B, 80, TCP_SYN, 1), 0);
    t.confirm(s1, 0);
    expect(t.confirm(s2, 0).verdict).toBe('drop');
    expect(t.stats.insert_failed).toBe(1);
  });

  it('deletes what kube-proxy clears for a stale UDP endpoint (conntrack -D -p udp --orig-dst / --dst-nat)', () => {
    const t = new ConntrackTable();
    for (const [sport, ep] of [
      [1000, '10.244.1.3'],
      [1001, '10.244.1.4'],
    ] as const) {
      const ct = t.conntrackIn(udp(A, sport, '10.96.0.10', 53), 0);
      t.setupNat(ct.entry!, 'DNAT', { minAddr: ip(ep), minPort: 53 });
      t.confirm(ct, 0);
    }
    through(t, udp(A, 2000, B, 53), 0);
    expect(t.deleteMatching({ protocol: 17, dstNat: ip('10.244.1.4') }, 0).map((e) => e.original.sport)).toEqual([1001]);
    expect(t.deleteMatching({ protocol: 17, origDst: ip('10.96.0.10') }, 0).map((e) => e.original.sport)).toEqual([1000]);
    expect(t.list(0).map((e) => e.original.sport)).toEqual([2000]);
    expect(matchesConntrackFilter(t.list(0)[0]!, { dstNat: true })).toBe(false);
  });

  it('forgets masqueraded connections of an interface that goes down or loses its address', () => {
    const t = new ConntrackTable();
    for (const [sport, ifindex] of [
      [1, 5],
      [2, 6],
      [3, 5],
    ] as const) {
      const ct = t.conntrackIn(udp(A, sport, '203.0.113.50', 7), 0);
      t.masquerade(ct, { address: ip(ifindex === 5 ? '203.0.113.1' : '198.51.100.1'), ifindex });
      t.confirm(ct, 0);
    }
    expect(t.masqueradeDeviceDown(5)).toBe(2);
    expect(t.masqueradeAddressRemoved(ip('198.51.100.1'))).toBe(1);
    expect(t.size).toBe(0);
  });

  it('counts packets holding an entry in use=', () => {
    const t = new ConntrackTable();
    const e = through(t, udp(A, 1, B, 53), 0).entry!;
    expect(e.use).toBe(1);
    e.refs++;
    expect(formatConntrackEntry(e, 0)).toMatch(/ use=2$/);
    t.kill(e);
    expect(e.use).toBe(1);
  });

  it('gives the same ids for the same seed', () => {
    const ids = (seed: string): number[] => {
      const t = new ConntrackTable({ seed });
      return [1, 2, 3].map((p) => through(t, udp(A, p, B, 53), 0).entry!.id);
    };
    expect(ids('node-1')).toEqual(ids('node-1'));
    expect(ids('node-1')).not.toEqual(ids('node-2'));
  });

  it('holds 100,000 connections with hashed lookups', () => {
    const t = new ConntrackTable();
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const src = (ip('10.0.0.0') + (i >>> 8)) >>> 0;
      const ct = t.conntrackIn({ ...udp(A, 0, B, 53), src, payload: { kind: 'udp', srcPort: 1024 + (i & 0xff), dstPort: 53, payload: new Uint8Array(0) } }, 0);
      t.confirm(ct, 0);
    }
    expect(t.size).toBe(n);
    let found = 0;
    for (let i = 0; i < n; i += 7) {
      const src = (ip('10.0.0.0') + (i >>> 8)) >>> 0;
      if (t.lookup(makeTuple(ip(B), src, 17, { sport: 53, dport: 1024 + (i & 0xff) }), 0)?.direction === 'REPLY') found++;
    }
    expect(found).toBe(Math.ceil(n / 7));
  });
});
