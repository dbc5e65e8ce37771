/**
 * Differential test against a real kernel (fixtures made by test/fixtures/conntrack/capture.sh on
 * Linux 6.18 with conntrack-tools 1.4.7): every IPv4 packet the lab node received is replayed, in
 * capture order and at capture time, through a ConntrackTable driven like the kernel's hooks with
 * the node's rules (raw NOTRACK / CT --zone, mangle CONNMARK, nat DNAT / MASQUERADE). Checked:
 * - each forwarded packet leaves translated byte for byte as the kernel sent it (ports the kernel
 *   drew at random are fed to the model as its random draw, so the search itself is what is tested);
 * - the ctstate / ctdir / DNAT / SNAT counters of the filter chains, packets and bytes;
 * - `conntrack -L` (plain, `-o extended`, `-o id`) at the three snapshot times: same lines, seconds
 *   left within one second.
 */
import { describe, expect, it } from 'vitest';
import { cidrContains, parseIpv4, parseIpv4Cidr } from '../../ip/ipv4.js';
import { decodeIpv4Packet } from '../../packet/packet-decoder.js';
import { encodeIpv4Packet, ipPacketLength } from '../../packet/packet-encoder.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../../packet/types.js';
import type { Ipv4Packet } from '../../packet/types.js';
import {
  ctstateCounters,
  fixtureBytes,
  fixtureLines,
  fixtureWallClock,
  nodeLinks,
  readSll2Pcap,
} from '../../../test/fixtures/conntrack/conntrack-fixtures.js';
import { IPS } from './conntrack-entry.js';
import { ConntrackTable } from './conntrack-table.js';
import type { PacketCt } from './conntrack-table.js';
import { formatConntrackList, formatConntrackSummary } from './format-conntrack-list.js';
import type { NfNatRange } from './nat-core.js';

const ip = parseIpv4;
const links = nodeLinks();
const ifindex = (name: string): number => {
  for (const [i, n] of links) if (n === name) return i;
  throw new Error(`no link ${name}`);
};
const NODE_ADDRS = new Map([
  ['vpod1', ip('10.244.0.1')],
  ['vpod2', ip('10.244.2.1')],
  ['vsrv', ip('10.244.1.1')],
  ['vext', ip('203.0.113.1')],
]);
const LOCAL = new Set(NODE_ADDRS.values());
const ROUTES: [ReturnType<typeof parseIpv4Cidr>, string][] = [
  [parseIpv4Cidr('10.244.0.0/24'), 'vpod1'],
  [parseIpv4Cidr('10.244.2.0/24'), 'vpod2'],
  [parseIpv4Cidr('10.244.1.0/24'), 'vsrv'],
  [parseIpv4Cidr('203.0.113.0/24'), 'vext'],
];
const POD_CIDR = parseIpv4Cidr('10.244.0.0/16');

function route(dst: number): string | undefined {
  return ROUTES.find(([c]) => cidrContains(c, dst))?.[1];
}

function ports(p: Ipv4Packet): { sport: number; dport: number } | undefined {
  const l4 = p.payload;
  return l4.kind === 'tcp' || l4.kind === 'udp' ? { sport: l4.srcPort, dport: l4.dstPort } : undefined;
}

/** nat PREROUTING of the lab (iptables-restore in capture.sh). */
function dnatRule(p: Ipv4Packet): NfNatRange | undefined {
  const pp = ports(p);
  if (pp === undefined) return undefined;
  const udp = p.protocol === IPPROTO_UDP;
  const tcp = p.protocol === IPPROTO_TCP;
  if (p.dst === ip('10.96.0.10')) {
    if (udp && pp.dport === 53) return { minAddr: ip('10.244.1.3'), minPort: 53 };
    if (udp && pp.dport === 5353) return { minAddr: ip('10.244.1.3'), minPort: 5353 };
    if (tcp && pp.dport === 80) return { minAddr: ip('10.244.1.3'), minPort: 8080 };
    if (tcp && pp.dport === 81) return { minAddr: ip('10.244.1.3'), minPort: 9000 };
  }
  if (p.dst === ip('10.96.0.15') && udp && pp.dport === 53) return { minAddr: ip('10.244.1.3'), minPort: 8000, maxPort: 8009 };
  if (cidrContains(parseIpv4Cidr('10.96.0.20/30'), p.dst) && udp && pp.dport === 53) {
    return { minAddr: ip('10.244.1.3'), maxAddr: ip('10.244.1.9'), minPort: 5300 };
  }
  return undefined;
}

/** nat POSTROUTING of the lab: the MASQUERADE rule that applies, if any. */
function masqRule(p: Ipv4Packet, out: string): { minPort?: number; maxPort?: number; randomFully?: boolean } | undefined {
  if (!cidrContains(POD_CIDR, p.src) || out !== 'vext') return undefined;
  const pp = ports(p);
  if (p.protocol === IPPROTO_UDP && pp !== undefined && pp.dport === 7 && pp.sport >= 45020 && pp.sport <= 45029) return { minPort: 2000, maxPort: 2001 };
  if (p.protocol === IPPROTO_TCP && pp !== undefined && pp.dport === 8081) return { randomFully: true };
  return {};
}

/** raw PREROUTING: NOTRACK udp/9, CT --zone 5 for udp port 19. */
function rawRule(p: Ipv4Packet): 'notrack' | number {
  const pp = ports(p);
  if (p.protocol !== IPPROTO_UDP || pp === undefined) return 0;
  if (pp.dport === 9) return 'notrack';
  return pp.dport === 19 || pp.sport === 19 ? 5 : 0;
}

interface Rec {
  readonly t: number;
  readonly ifname: string;
  readonly outgoing: boolean;
  readonly packet: Ipv4Packet;
  readonly bytes: Uint8Array;
}

const raw = readSll2Pcap(fixtureBytes('node.pcap'));
const EPOCH = raw[0]!.seconds;
const records: Rec[] = raw
  .filter((r) => r.protocol === 0x0800)
  .map((r) => {
    const d = decodeIpv4Packet(r.bytes);
    if (!d.ok) throw new Error(`undecodable packet: ${d.reason}`);
    return { t: (r.seconds - EPOCH) * 1e9 + r.micros * 1e3, ifname: links.get(r.ifindex) ?? '?', outgoing: r.packetType === 4, packet: d.value, bytes: r.bytes };
  });

function clockOf(name: string): number {
  const w = fixtureWallClock(name);
  return (w.seconds - EPOCH) * 1e9 + w.nanos;
}

/** Filter-table counters as the lab's CT-FWD / CT-IN / CT-OUT rules count them. */
class Counters {
  readonly values = new Map<string, { pkts: number; bytes: number }>();

  count(chain: string, ct: PacketCt, p: Ipv4Packet): void {
    const rules: [string, boolean][] = [
      ['ctstate NEW ctdir ORIGINAL', ct.state === 'NEW' && ct.direction === 'ORIGINAL'],
      ['ctstate ESTABLISHED ctdir ORIGINAL', ct.state === 'ESTABLISHED' && ct.direction === 'ORIGINAL'],
      ['ctstate ESTABLISHED ctdir REPLY', ct.state === 'ESTABLISHED' && ct.direction === 'REPLY'],
      ...(chain === 'CT-FWD'
        ? ([
            ['ctstate RELATED ctdir ORIGINAL', ct.state === 'RELATED' && ct.direction === 'ORIGINAL'],
            ['ctstate RELATED ctdir REPLY', ct.state === 'RELATED' && ct.direction === 'REPLY'],
          ] as [string, boolean][])
        : ([['ctstate RELATED', ct.state === 'RELATED']] as [string, boolean][])),
      ['ctstate INVALID', ct.state === 'INVALID'],
      ...(chain === 'CT-FWD'
        ? ([
            ['ctstate UNTRACKED', ct.state === 'UNTRACKED'],
            ['ctstate DNAT', ct.entry?.has(IPS.DST_NAT) === true],
            ['ctstate SNAT', ct.entry?.has(IPS.SRC_NAT) === true],
          ] as [string, boolean][])
        : []),
    ];
    for (const [match, hit] of rules) {
      const k = `${chain} ${match}`;
      const v = this.values.get(k) ?? { pkts: 0, bytes: 0 };
      if (hit) {
        v.pkts++;
        v.bytes += ipPacketLength(p);
      }
      this.values.set(k, v);
    }
  }
}

function sameFlowPacket(a: Ipv4Packet, b: Ipv4Packet): boolean {
  if (a.id !== b.id || a.protocol !== b.protocol) return false;
  const x = a.payload;
  const y = b.payload;
  if (x.kind === 'tcp' && y.kind === 'tcp') return x.seq === y.seq && x.ack === y.ack && x.flags === y.flags && x.payload.length === y.payload.length;
  if (x.kind === 'udp' && y.kind === 'udp') return x.payload instanceof Uint8Array && y.payload instanceof Uint8Array && Buffer.compare(x.payload, y.payload) === 0;
  if (x.kind === 'icmp' && y.kind === 'icmp') return x.type === y.type && x.seq === y.seq;
  return true;
}

/** The port (ICMP id) of the key NAT searches, and the search's range minimum. */
function snatKey(p: Ipv4Packet): number | undefined {
  const l4 = p.payload;
  if (l4.kind === 'tcp' || l4.kind === 'udp') return l4.srcPort;
  if (l4.kind === 'icmp') return l4.id;
  return undefined;
}

/** Replays the capture up to `until` (ns since EPOCH). */
function replay(until: number) {
  let scripted: number[] = [];
  const table = new ConntrackTable({ random: () => scripted.shift() ?? 0 });
  const counters = new Counters();
  const paired = new Set<number>();
  const mismatches: string[] = [];
  let compared = 0;

  const findEgress = (i: number, out: string, pkt: Ipv4Packet): number | undefined => {
    const rec = records[i]!;
    for (let j = i + 1; j < records.length && records[j]!.t - rec.t < 2e9; j++) {
      const r = records[j]!;
      if (r.outgoing && r.ifname === out && !paired.has(j) && sameFlowPacket(r.packet, pkt)) return j;
    }
    return undefined;
  };

  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    if (rec.t > until) break;
    const now = rec.t;
    if (rec.outgoing) {
      if (paired.has(i) || !LOCAL.has(rec.packet.src)) continue;
      // generated by the node itself (the echo reply to pod1's ping): OUTPUT, POSTROUTING
      let ct = table.conntrackIn(rec.packet, now);
      let pkt = table.natHook(ct, rec.packet, 'OUTPUT').packet;
      counters.count('CT-OUT', ct, pkt);
      pkt = table.natHook(ct, pkt, 'POSTROUTING', { outIfindex: ifindex(rec.ifname) }).packet;
      ct = table.confirm(ct, now);
      continue;
    }
    // PREROUTING: raw, conntrack, mangle, nat
    const rule = rawRule(rec.packet);
    let ct = rule === 'notrack' ? ConntrackTable.untracked() : table.conntrackIn(rec.packet, now, { zone: rule });
    if (rec.packet.dst === ip('10.244.1.3') && rec.packet.protocol === IPPROTO_ICMP && ct.entry !== undefined) ct.entry.mark = 7;
    const pre = table.natHook(ct, rec.packet, 'PREROUTING', {
      runChain: () => {
        const r = dnatRule(rec.packet);
        return r === undefined || ct.entry === undefined ? 'accept' : table.setupNat(ct.entry, 'DNAT', r);
      },
    });
    let pkt = pre.packet;
    if (LOCAL.has(pkt.dst)) {
      counters.count('CT-IN', ct, pkt);
      table.natHook(ct, pkt, 'INPUT');
      ct = table.confirm(ct, now);
      continue;
    }
    const out = route(pkt.dst);
    if (out === undefined) throw new Error(`no route for packet ${i}`);
    counters.count('CT-FWD', ct, pkt);
    const egress = findEgress(i, out, pkt);
    const masq = masqRule(pkt, out);
    scripted = [];
    const key = snatKey(pkt);
    if (egress !== undefined && key !== undefined) {
      const realKey = snatKey(records[egress]!.packet);
      if (realKey !== undefined && realKey !== key) {
        const min = masq?.minPort ?? (pkt.protocol === IPPROTO_ICMP ? 0 : key < 512 ? 1 : key < 1024 ? 600 : 1024);
        scripted = [(realKey - min) & 0xffff];
      }
    }
    const post = table.natHook(ct, pkt, 'POSTROUTING', {
      outIfindex: ifindex(out),
      runChain: () => (masq === undefined || ct.entry === undefined ? 'accept' : table.masquerade(ct, { address: NODE_ADDRS.get(out)!, ifindex: ifindex(out), ...masq })),
    });
    pkt = post.packet;
    ct = table.confirm(ct, now);
    if (ct.verdict === 'drop') {
      if (egress !== undefined) mismatches.push(`packet ${i}: dropped by the model, forwarded by the kernel`);
      continue;
    }
    if (egress === undefined) {
      mismatches.push(`packet ${i}: forwarded by the model, not seen leaving the kernel`);
      continue;
    }
    paired.add(egress);
    compared++;
    const mine = encodeIpv4Packet({ ...pkt, ttl: pkt.ttl - 1 });
    if (Buffer.compare(Buffer.from(mine), Buffer.from(records[egress]!.bytes)) !== 0) {
      mismatches.push(`packet ${i} → ${egress}: translated differently`);
    }
  }
  return { table, counters, mismatches, compared };
}

/** `conntrack -L` lines split into seconds-left and the rest, sorted by the rest. */
function normalise(lines: readonly string[], extended = false): { rest: string; seconds: number }[] {
  return lines
    .map((l) => {
      const m = (extended ? /^(ipv4 {5}2 \S+\s+\d+ )(\d+) (.*)$/ : /^(\S+\s+\d+ )(\d+) (.*)$/).exec(l);
      if (m === null) throw new Error(`not a conntrack line: ${l}`);
      return { rest: `${m[1]}${m[3]}`, seconds: Number(m[2]) };
    })
    .sort((a, b) => (a.rest < b.rest ? -1 : a.rest > b.rest ? 1 : 0));
}

describe('ConntrackTable against the kernel (conntrack lab replay)', () => {
  const counterTime = clockOf('ctstate-counters.txt');
  const full = replay(counterTime);

  it('forwards every packet translated as the kernel did, and drops what it dropped', () => {
    expect(full.mismatches).toEqual([]);
    expect(records.filter((r) => r.t <= counterTime && !r.outgoing)).toHaveLength(94);
    expect(full.compared).toBe(92);
  });

  it('counts ctstate, ctdir, DNAT and SNAT as the filter chains did', () => {
    for (const c of ctstateCounters()) {
      const mine = full.counters.values.get(`${c.chain} ${c.match}`) ?? { pkts: 0, bytes: 0 };
      expect({ rule: `${c.chain} ${c.match}`, ...mine }).toEqual({ rule: `${c.chain} ${c.match}`, pkts: c.pkts, bytes: c.bytes });
    }
  });

  it.each([
    ['snapshot-1.txt', {}],
    ['snapshot-2.txt', {}],
    ['snapshot-2-extended.txt', { extended: true }],
    ['snapshot-2-id.txt', { id: true }],
    ['snapshot-3.txt', {}],
  ] as const)('lists %s as conntrack -L printed it', (name, options) => {
    const at = clockOf(name);
    const { table } = replay(at);
    const entries = table.list(at);
    const strip = (l: string): string => ('id' in options ? l.replace(/ id=\d+$/, '') : l);
    const mine = normalise(formatConntrackList(entries, at, options).trimEnd().split('\n').map(strip), 'extended' in options);
    const real = normalise(fixtureLines(name).map(strip), 'extended' in options);
    expect(mine.map((l) => l.rest)).toEqual(real.map((l) => l.rest));
    for (let i = 0; i < real.length; i++) expect(Math.abs(mine[i]!.seconds - real[i]!.seconds), mine[i]!.rest).toBeLessThanOrEqual(1);
    if ('id' in options) for (const l of formatConntrackList(entries, at, options).trimEnd().split('\n')) expect(l).toMatch(/ use=1 id=\d+$/);
    const stderr = fixtureLines(name.replace('.txt', '.stderr.txt'));
    expect(formatConntrackSummary(entries.length)).toBe(`${stderr[0]}\n`);
  });
});
