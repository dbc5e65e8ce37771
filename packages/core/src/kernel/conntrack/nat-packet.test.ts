import { describe, expect, it } from 'vitest';
import { encodeIpv4Packet } from '../../packet/packet-encoder.js';
import type { Ipv4Packet } from '../../packet/types.js';
import { echo, icmpError, ip, tcp, TCP_ACK, TCP_SYN, udp } from './__fixtures__/packets.js';
import { ConntrackTable } from './conntrack-table.js';
import type { PacketCt } from './conntrack-table.js';
import { natPacket } from './nat-packet.js';

const CLIENT = '10.244.0.4';
const VIP = '10.96.0.10';
const POD = '10.244.1.3';

/** A confirmed DNAT connection CLIENT:45001 → VIP:80 ⇒ POD:8080 (tcp) or :53 ⇒ :5353 (udp). */
function dnatConnection(first: Ipv4Packet, to: { addr: string; port: number }): { t: ConntrackTable; ct: PacketCt } {
  const t = new ConntrackTable();
  const ct = t.conntrackIn(first, 0);
  t.natHook(ct, first, 'PREROUTING', { runChain: () => t.setupNat(ct.entry!, 'DNAT', { minAddr: ip(to.addr), minPort: to.port }) });
  t.natHook(ct, first, 'POSTROUTING');
  return { t, ct: t.confirm(ct, 0) };
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !(o instanceof Uint8Array)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

describe('natPacket', () => {
  const syn = tcp(CLIENT, 45001, VIP, 80, TCP_SYN, 1000);
  const { t, ct } = dnatConnection(syn, { addr: POD, port: 8080 });
  const e = ct.entry!;

  it.each([
    ['the request at PREROUTING: destination to the endpoint', syn, 'ORIGINAL', 'PREROUTING', [CLIENT, 45001, POD, 8080]],
    ['the request at POSTROUTING: no source NAT, unchanged', syn, 'ORIGINAL', 'POSTROUTING', [CLIENT, 45001, VIP, 80]],
    ['the reply at PREROUTING: unchanged', tcp(POD, 8080, CLIENT, 45001, TCP_SYN | TCP_ACK, 9, 1001), 'REPLY', 'PREROUTING', [POD, 8080, CLIENT, 45001]],
    ['the reply at POSTROUTING: source back to the Service', tcp(POD, 8080, CLIENT, 45001, TCP_SYN | TCP_ACK, 9, 1001), 'REPLY', 'POSTROUTING', [VIP, 80, CLIENT, 45001]],
  ] as const)('translates %s', (_name, packet, dir, hook, [src, sport, dst, dport]) => {
    const before = JSON.stringify(packet, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v));
    const out = natPacket(e, dir, deepFreeze(packet), hook)!;
    const p = out.payload;
    expect([out.src, p.kind === 'tcp' ? p.srcPort : -1, out.dst, p.kind === 'tcp' ? p.dstPort : -1]).toEqual([ip(src), sport, ip(dst), dport]);
    expect(JSON.stringify(packet, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v))).toBe(before);
  });

  it('returns the packet itself when the binding does not touch this side', () => {
    expect(natPacket(e, 'ORIGINAL', syn, 'INPUT')).toBe(syn);
  });

  it('translates source NAT forth at POSTROUTING and back at PREROUTING, ICMP identifiers included', () => {
    const tt = new ConntrackTable({ random: () => 100 });
    const req = echo('10.244.2.5', '203.0.113.50', 8, 1234);
    // another flow holds id 1234 towards this destination already, so the id changes too
    const first = tt.conntrackIn(echo('10.244.0.4', '203.0.113.50', 8, 1234), 0);
    tt.natHook(first, req, 'POSTROUTING', { runChain: () => tt.masquerade(first, { address: ip('203.0.113.1'), ifindex: 5 }) });
    tt.confirm(first, 0);
    const c = tt.conntrackIn(req, 0);
    const out = tt.natHook(c, req, 'POSTROUTING', { runChain: () => tt.masquerade(c, { address: ip('203.0.113.1'), ifindex: 5 }) }).packet;
    tt.confirm(c, 0);
    expect([out.src, out.payload.kind === 'icmp' ? out.payload.id : -1]).toEqual([ip('203.0.113.1'), 100]);
    const reply = echo('203.0.113.50', '203.0.113.1', 0, 100);
    const rc = tt.conntrackIn(reply, 1);
    expect(rc.entry).toBe(c.entry);
    const back = natPacket(rc.entry!, rc.direction, reply, 'PREROUTING')!;
    expect([back.dst, back.payload.kind === 'icmp' ? back.payload.id : -1]).toEqual([ip('10.244.2.5'), 1234]);
  });

  it.each([
    ['the whole TCP segment', 1000],
    ['only 8 bytes of it (checksum not quoted, left alone)', 8],
  ])('rewrites the header an ICMP error quotes, with incremental checksums: %s', (_name, quote) => {
    // the endpoint's kernel answers the DNATed packet; the quote must read as the client sent it
    const asSentByClient = tcp(CLIENT, 45001, VIP, 80, TCP_SYN, 1000, 0, { data: 12 });
    const forwarded = natPacket(e, 'ORIGINAL', asSentByClient, 'PREROUTING')!;
    const err = icmpError(POD, CLIENT, 3, 10, forwarded, quote);
    const rel = t.conntrackIn(err, 1);
    expect([rel.state, rel.direction]).toEqual(['RELATED', 'REPLY']);
    expect(natPacket(e, 'REPLY', err, 'PREROUTING')).toBe(err);
    const out = natPacket(e, 'REPLY', err, 'POSTROUTING')!;
    expect(out.src).toBe(ip(VIP));
    const data = out.payload.kind === 'icmp' ? out.payload.data : new Uint8Array();
    const expected = encodeIpv4Packet(asSentByClient).slice(0, data.length);
    if (quote >= 20) expect([...data]).toEqual([...expected]);
    else {
      const original = err.payload.kind === 'icmp' ? err.payload.data : new Uint8Array();
      // IP header and ports rewritten, the (unquoted) TCP checksum absent
      expect([...data.subarray(0, 24)]).toEqual([...expected.subarray(0, 24)]);
      expect([...data.subarray(24)]).toEqual([...original.subarray(24)]);
    }
  });

  it('rewrites a quoted UDP header and its checksum even when the payload is not quoted', () => {
    const q = udp(CLIENT, 45001, VIP, 5353, 'ping');
    const { ct: uct } = dnatConnection(q, { addr: POD, port: 5353 });
    const atPod = natPacket(uct.entry!, 'ORIGINAL', q, 'PREROUTING')!;
    const err = icmpError(POD, CLIENT, 3, 3, atPod, 8);
    const out = natPacket(uct.entry!, 'REPLY', err, 'POSTROUTING')!;
    const data = out.payload.kind === 'icmp' ? out.payload.data : new Uint8Array();
    // RFC 1624 on the UDP checksum gives the checksum of the datagram as the client sent it
    expect([...data]).toEqual([...encodeIpv4Packet(q).slice(0, 28)]);
  });

  it('drops an ICMP redirect about a NATed connection', () => {
    expect(natPacket(e, 'REPLY', icmpError(POD, CLIENT, 5, 1, natPacket(e, 'ORIGINAL', syn, 'PREROUTING')!), 'POSTROUTING')).toBeUndefined();
  });
});
