import { describe, expect, it } from 'vitest';
import { formatIpv4 } from '../../ip/ipv4.js';
import { SeededRng } from '../../util/seeded-rng.js';
import { fixtureLines } from '../../../test/fixtures/conntrack/conntrack-fixtures.js';
import { echo, ip, sec, tcp, TCP_ACK, TCP_FIN, TCP_SYN, udp } from './__fixtures__/packets.js';
import { IPS } from './conntrack-entry.js';
import type { ConntrackEntry } from './conntrack-entry.js';
import { ConntrackTable } from './conntrack-table.js';
import type { PacketCt } from './conntrack-table.js';
import { tupleKey } from './conntrack-tuple.js';
import { formatConntrackEntry } from './format-conntrack-list.js';
import { jhash2, nativeWord, reciprocalScale } from './jhash.js';
import { hookManip } from './nat-core.js';
import type { NfNatRange } from './nat-core.js';

const NODE_EXT = ip('203.0.113.1');

/** A forwarded packet through conntrack and the nat hooks, with optional DNAT and MASQUERADE. */
function forward(
  t: ConntrackTable,
  packet: Parameters<ConntrackTable['conntrackIn']>[0],
  at: number,
  nat: { dnat?: NfNatRange; snat?: NfNatRange; masq?: { minPort?: number; maxPort?: number; randomFully?: boolean } } = {},
): PacketCt {
  const ct = t.conntrackIn(packet, at);
  const pre = t.natHook(ct, packet, 'PREROUTING', { runChain: () => (nat.dnat === undefined ? 'accept' : t.setupNat(ct.entry!, 'DNAT', nat.dnat)) });
  t.natHook(ct, pre.packet, 'POSTROUTING', {
    outIfindex: 5,
    runChain: () =>
      nat.snat !== undefined ? t.setupNat(ct.entry!, 'SNAT', nat.snat) : nat.masq !== undefined ? t.masquerade(ct, { address: NODE_EXT, ifindex: 5, ...nat.masq }) : 'accept',
  });
  return t.confirm(ct, at);
}

const replyPort = (e: ConntrackEntry | undefined): number => e?.reply.dport ?? -1;

describe('hookManip', () => {
  it.each([
    ['PREROUTING', 'DNAT'],
    ['OUTPUT', 'DNAT'],
    ['POSTROUTING', 'SNAT'],
    ['INPUT', 'SNAT'],
  ] as const)('%s → %s', (hook, manip) => expect(hookManip(hook)).toBe(manip));
});

describe('ConntrackTable.setupNat', () => {
  it('binds a Service DNAT on the first packet and leaves both NAT kinds done after the hooks', () => {
    const t = new ConntrackTable();
    const ct = forward(t, udp('10.244.0.4', 45000, '10.96.0.10', 53), 0, { dnat: { minAddr: ip('10.244.1.3'), minPort: 53 } });
    const e = ct.entry!;
    expect(e.has(IPS.DST_NAT | IPS.DST_NAT_DONE | IPS.SRC_NAT_DONE)).toBe(true);
    expect(e.has(IPS.SRC_NAT)).toBe(false);
    // the kernel printed this (snapshot-1.txt), 1 s later
    expect(formatConntrackEntry(e, sec(1))).toBe(
      'udp      17 29 src=10.244.0.4 dst=10.96.0.10 sport=45000 dport=53 [UNREPLIED] src=10.244.1.3 dst=10.244.0.4 sport=53 dport=45000 mark=0 use=1',
    );
    // a later packet does not run the chain again
    let ran = false;
    const again = t.conntrackIn(udp('10.244.0.4', 45000, '10.96.0.10', 53), sec(2));
    t.natHook(again, udp('10.244.0.4', 45000, '10.96.0.10', 53), 'PREROUTING', { runChain: () => ((ran = true), 'accept') });
    expect(ran).toBe(false);
    expect(t.setupNat(e, 'DNAT', { minAddr: ip('10.244.9.9') })).toBe('accept');
    expect(e.reply.src).toBe(ip('10.244.1.3'));
  });

  it('picks the address of a DNAT range by jhash2 of source and destination, as the kernel did', () => {
    // snapshot-2.txt: DNAT 10.96.0.20/30:53 --to-destination 10.244.1.3-10.244.1.9:5300
    const kernel = fixtureLines('snapshot-2.txt')
      .filter((l) => l.includes('sport=5300'))
      .map((l) => /src=(\S+) dst=(\S+) sport=\d+ dport=53 \[UNREPLIED\] src=(\S+)/.exec(l)!.slice(1, 4));
    expect(kernel).toHaveLength(8);
    for (const [src, vip, endpoint] of kernel) {
      const t = new ConntrackTable();
      const ct = forward(t, udp(src!, 45030, vip!, 53), 0, { dnat: { minAddr: ip('10.244.1.3'), maxAddr: ip('10.244.1.9'), minPort: 5300 } });
      expect(`${src} → ${vip}: ${formatIpv4(ct.entry!.reply.src)}`).toBe(`${src} → ${vip}: ${endpoint}`);
    }
  });

  it('maps a DNAT port range to its lowest free port, searching upwards from there', () => {
    const t = new ConntrackTable();
    const range = { minAddr: ip('10.244.1.3'), minPort: 8000, maxPort: 8009 };
    // kernel (snapshot-2.txt): 45010 and 45011 both to 8000
    expect(replyPortSrc(forward(t, udp('10.244.0.4', 45010, '10.96.0.15', 53), 0, { dnat: range }))).toBe(8000);
    expect(replyPortSrc(forward(t, udp('10.244.0.4', 45011, '10.96.0.15', 53), 0, { dnat: range }))).toBe(8000);
    // the same client port through a second VIP to the same endpoint would give an identical reply tuple
    expect(replyPortSrc(forward(t, udp('10.244.0.4', 45010, '10.96.0.16', 53), 0, { dnat: range }))).toBe(8001);
  });

  it('keeps the source port under MASQUERADE when free, else searches from a random offset', () => {
    const t = new ConntrackTable({ random: () => 30000 });
    const a = forward(t, tcp('10.244.0.4', 40000, '203.0.113.50', 8080, TCP_SYN, 1), 0, { masq: {} });
    const b = forward(t, tcp('10.244.2.5', 40000, '203.0.113.50', 8080, TCP_SYN, 1), 0, { masq: {} });
    expect([a.entry!.reply.dst, replyPort(a.entry)]).toEqual([NODE_EXT, 40000]);
    expect([b.entry!.reply.dst, replyPort(b.entry)]).toEqual([NODE_EXT, 1024 + 30000]);
    expect(b.entry!.has(IPS.SRC_NAT)).toBe(true);
  });

  it('always draws the port with --random-fully', () => {
    const t = new ConntrackTable({ random: () => 5975 });
    expect(replyPort(forward(t, tcp('10.244.0.4', 40001, '203.0.113.50', 8081, TCP_SYN, 1), 0, { masq: { randomFully: true } }).entry)).toBe(1024 + 5975);
  });

  it.each([
    [80, 1 + (40000 % 511)],
    [700, 600 + (40000 % 424)],
    [5000, 1024 + 40000],
  ])('searches a clashing source port %i within its class (below 512, below 1024, above)', (sport, expected) => {
    const t = new ConntrackTable({ random: () => 40000 });
    forward(t, udp('10.244.0.4', sport, '203.0.113.50', 7), 0, { masq: {} });
    expect(replyPort(forward(t, udp('10.244.2.5', sport, '203.0.113.50', 7), 0, { masq: {} }).entry)).toBe(expected);
  });

  it('drops the flow that finds no free port in --to-ports (as the kernel dropped 45022)', () => {
    const t = new ConntrackTable({ seed: 3 });
    const masq = { minPort: 2000, maxPort: 2001 };
    const ports = [45020, 45021, 45022].map((p) => forward(t, udp('10.244.0.4', p, '203.0.113.50', 7), 0, { masq }));
    expect(ports.map((c) => c.verdict)).toEqual(['accept', 'accept', 'drop']);
    expect(new Set(ports.slice(0, 2).map((c) => replyPort(c.entry)))).toEqual(new Set([2000, 2001]));
    expect(t.size).toBe(2);
  });

  it('reuses the current mapping of the same source (find_appropriate_src)', () => {
    const range = { minAddr: ip('198.51.100.1'), maxAddr: ip('198.51.100.10') };
    const pick = (dst: string): number => ip('198.51.100.1') + reciprocalScale(jhash2([nativeWord(ip('10.244.0.4')), 0, 0, 0], nativeWord(ip(dst))), 10);
    // a second destination for which the hash alone would pick another address
    const second = ['203.0.113.51', '203.0.113.52', '203.0.113.53', '203.0.113.54'].find((d) => pick(d) !== pick('203.0.113.50'))!;
    const t = new ConntrackTable();
    const a = forward(t, udp('10.244.0.4', 40000, '203.0.113.50', 7), 0, { snat: range });
    const b = forward(t, udp('10.244.0.4', 40000, second, 7), 0, { snat: range });
    expect(a.entry!.reply.dst).toBe(pick('203.0.113.50'));
    expect([b.entry!.reply.dst, b.entry!.reply.dport]).toEqual([a.entry!.reply.dst, 40000]);
    const fresh = new ConntrackTable();
    expect(forward(fresh, udp('10.244.0.4', 40000, second, 7), 0, { snat: range }).entry!.reply.dst).toBe(pick(second));
  });

  it('remaps the source port by the null binding when two DNAT flows would share a reply tuple', () => {
    // kernel (snapshot-2.txt): 10.244.2.5:45030 → 10.96.0.22 and → 10.96.0.23 both went to
    // 10.244.1.3:5300; the second left with source port 14466 (a random draw)
    const t = new ConntrackTable({ random: () => 14466 - 1024 });
    const range = { minAddr: ip('10.244.1.3'), maxAddr: ip('10.244.1.9'), minPort: 5300 };
    const first = forward(t, udp('10.244.2.5', 45030, '10.96.0.22', 53), 0, { dnat: range });
    const second = forward(t, udp('10.244.2.5', 45030, '10.96.0.23', 53), 0, { dnat: range });
    expect(formatConntrackEntry(first.entry!, 0)).toContain('src=10.244.1.3 dst=10.244.2.5 sport=5300 dport=45030 ');
    expect(formatConntrackEntry(second.entry!, 0)).toContain('src=10.244.1.3 dst=10.244.2.5 sport=5300 dport=14466 ');
    expect(second.entry!.has(IPS.SRC_NAT | IPS.DST_NAT)).toBe(true);
  });

  it('renumbers a clashing ICMP echo identifier', () => {
    const t = new ConntrackTable({ random: () => 777 });
    forward(t, echo('10.244.0.4', '203.0.113.50', 8, 1234), 0, { masq: {} });
    const b = forward(t, echo('10.244.2.5', '203.0.113.50', 8, 1234), 0, { masq: {} });
    expect([b.entry!.reply.id, b.entry!.reply.dst]).toEqual([777, NODE_EXT]);
  });

  it('evicts an older TIME_WAIT binding in the last attempts for a new SYN (nf_nat_used_tuple_harder)', () => {
    const masq = { minPort: 3000, maxPort: 3000 };
    /** A masqueraded connection 10.244.0.4:40000 → :80 (to port 3000) closed into TIME_WAIT. */
    const closed = (): { t: ConntrackTable; old: ConntrackEntry | undefined } => {
      const t = new ConntrackTable();
      let old: ConntrackEntry | undefined;
      const steps: [ReturnType<typeof tcp>, number][] = [
        [tcp('10.244.0.4', 40000, '203.0.113.50', 80, TCP_SYN, 1000), 0],
        [tcp('203.0.113.50', 80, '203.0.113.1', 3000, TCP_SYN | TCP_ACK, 9000, 1001), 1],
        [tcp('10.244.0.4', 40000, '203.0.113.50', 80, TCP_FIN | TCP_ACK, 1001, 9001), 2],
        [tcp('203.0.113.50', 80, '203.0.113.1', 3000, TCP_FIN | TCP_ACK, 9001, 1002), 3],
        [tcp('10.244.0.4', 40000, '203.0.113.50', 80, TCP_ACK, 1002, 9002), 4],
      ];
      for (const [p, ms] of steps) {
        const ct = t.conntrackIn(p, ms * 1e6);
        const pre = t.natHook(ct, p, 'PREROUTING');
        t.natHook(ct, pre.packet, 'POSTROUTING', { outIfindex: 5, runChain: () => t.masquerade(ct, { address: NODE_EXT, ifindex: 5, ...masq }) });
        old = t.confirm(ct, ms * 1e6).entry;
      }
      return { t, old };
    };
    const a = closed();
    expect([a.old?.tcpState, a.old?.has(IPS.SRC_NAT)]).toEqual(['TIME_WAIT', true]);
    // another client whose sequence number is past the old flow's: the old binding goes, port 3000 is reused
    const fresh = forward(a.t, tcp('10.244.2.5', 41000, '203.0.113.50', 80, TCP_SYN, 5000), sec(1), { masq });
    expect([fresh.verdict, replyPort(fresh.entry), a.old?.dying]).toEqual(['accept', 3000, true]);
    // a sequence number behind the old flow's: nothing is evicted, the port clashes, the SYN is dropped
    const b = closed();
    expect(forward(b.t, tcp('10.244.2.5', 41000, '203.0.113.50', 80, TCP_SYN, 500), sec(1), { masq }).verdict).toBe('drop');
    expect(b.old?.dying).toBe(false);
  });
});

function replyPortSrc(ct: PacketCt): number {
  return ct.entry?.reply.sport ?? -1;
}

describe('NAT port allocation (property)', () => {
  /** Random flows through DNAT and MASQUERADE to few ports; returns the listing. */
  function simulate(seed: number): { lines: string[]; duplicates: number; drops: number } {
    const rng = new SeededRng(seed);
    const t = new ConntrackTable({ seed });
    let drops = 0;
    let duplicates = 0;
    let now = 0;
    for (let i = 0; i < 3000; i++) {
      now += 1e6;
      const src = `10.244.${rng.nextU32() % 4}.${2 + (rng.nextU32() % 5)}`;
      const sport = 1024 + (rng.nextU32() % 40);
      const kind = rng.nextU32() % 3;
      const ct =
        kind === 0
          ? forward(t, udp(src, sport, `203.0.113.${50 + (rng.nextU32() % 2)}`, 7), now, { masq: { minPort: 5000, maxPort: 5063 } })
          : kind === 1
            ? forward(t, udp(src, sport, '10.96.0.10', 53), now, { dnat: { minAddr: ip('10.244.9.1'), maxAddr: ip('10.244.9.2'), minPort: 53, maxPort: 54 } })
            : forward(t, tcp(src, sport, '203.0.113.50', 80, TCP_SYN, rng.nextU32()), now, { masq: { randomFully: true } });
      if (ct.verdict === 'drop') drops++;
      const keys = new Set<string>();
      if (i % 500 === 499) {
        for (const e of t.list(now)) {
          for (const k of [tupleKey(e.original, e.zone), tupleKey(e.reply, e.zone)]) {
            if (keys.has(k)) duplicates++;
            keys.add(k);
          }
        }
      }
    }
    return { lines: t.list(now).map((e) => formatConntrackEntry(e, now)), duplicates, drops };
  }

  it.each([1, 2, 3])('never gives two live entries the same tuple, and repeats itself with seed %i', (seed) => {
    const a = simulate(seed);
    expect(a.duplicates).toBe(0);
    // the small ranges run out: some flows find no free tuple and are dropped at confirmation
    expect(a.drops).toBeGreaterThan(0);
    expect(a.lines.length).toBeGreaterThan(100);
    expect(simulate(seed)).toEqual(a);
  });
});
