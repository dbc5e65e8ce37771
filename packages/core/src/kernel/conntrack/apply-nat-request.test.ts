import { describe, expect, it } from 'vitest';
import { formatIpv4 } from '../../ip/ipv4.js';
import { ip, sec, tcp, TCP_ACK, TCP_SYN, udp } from './__fixtures__/packets.js';
import { applyNatRequest, conntrackView } from './apply-nat-request.js';
import type { NatTargetContext, NatTargetRequest } from './apply-nat-request.js';
import { ConntrackTable } from './conntrack-table.js';

const base = { random: false, randomFully: false } as const;

describe('applyNatRequest', () => {
  it.each([
    ['DNAT to an address and port', { kind: 'DNAT', range: { minIp: ip('10.244.1.3'), minPort: 8080 }, persistent: false, ...base }, { hook: 'PREROUTING' }, 'reply src 10.244.1.3:8080 dst 10.244.0.4:40000'],
    ['DNAT to a port only (the address stays)', { kind: 'DNAT', range: { minPort: 8080 }, persistent: false, ...base }, { hook: 'PREROUTING' }, 'reply src 10.96.0.10:8080 dst 10.244.0.4:40000'],
    ['SNAT to an address', { kind: 'SNAT', range: { minIp: ip('198.51.100.7') }, persistent: false, ...base }, { hook: 'POSTROUTING' }, 'reply src 10.96.0.10:80 dst 198.51.100.7:40000'],
    ['MASQUERADE to the out interface address', { kind: 'MASQUERADE', ...base }, { hook: 'POSTROUTING', outAddress: ip('203.0.113.1'), outIfindex: 5 }, 'reply src 10.96.0.10:80 dst 203.0.113.1:40000'],
    ['REDIRECT of a local packet to 127.0.0.1', { kind: 'REDIRECT', minPort: 15001, ...base }, { hook: 'OUTPUT' }, 'reply src 127.0.0.1:15001 dst 10.244.0.4:40000'],
    ['REDIRECT to the in interface address', { kind: 'REDIRECT', minPort: 15001, ...base }, { hook: 'PREROUTING', inAddress: ip('10.244.0.1') }, 'reply src 10.244.0.1:15001 dst 10.244.0.4:40000'],
  ] as [string, NatTargetRequest, NatTargetContext, string][])('%s', (_name, request, context, expected) => {
    const t = new ConntrackTable();
    const ct = t.conntrackIn(tcp('10.244.0.4', 40000, '10.96.0.10', 80, TCP_SYN, 1), 0);
    expect(applyNatRequest(t, ct, request, context)).toBe('accept');
    const r = ct.entry!.reply;
    expect(`reply src ${formatIpv4(r.src)}:${r.sport} dst ${formatIpv4(r.dst)}:${r.dport}`).toBe(expected);
  });

  it.each([
    ['MASQUERADE on an interface without an address', { kind: 'MASQUERADE', ...base }, { hook: 'POSTROUTING', outAddress: 0, outIfindex: 5 }],
    ['REDIRECT on an interface without an address', { kind: 'REDIRECT', ...base }, { hook: 'PREROUTING' }],
  ] as [string, NatTargetRequest, NatTargetContext][])('drops for %s', (_name, request, context) => {
    const t = new ConntrackTable();
    expect(applyNatRequest(t, t.conntrackIn(udp('10.244.0.4', 1, '203.0.113.50', 7), 0), request, context)).toBe('drop');
  });

  it('does nothing to a packet of an established connection', () => {
    const t = new ConntrackTable();
    t.confirm(t.conntrackIn(udp('10.244.0.4', 1, '203.0.113.50', 7), 0), 0);
    const reply = t.conntrackIn(udp('203.0.113.50', 7, '10.244.0.4', 1), 0);
    expect(applyNatRequest(t, reply, { kind: 'DNAT', range: { minIp: 1 }, persistent: false, ...base }, { hook: 'PREROUTING' })).toBe('accept');
    expect(reply.entry!.reply.src).toBe(ip('203.0.113.50'));
  });
});

describe('conntrackView', () => {
  it('gives the conntrack match what it reads', () => {
    const t = new ConntrackTable();
    const syn = tcp('10.244.0.4', 40000, '10.96.0.10', 80, TCP_SYN, 1);
    const ct = t.conntrackIn(syn, 0);
    applyNatRequest(t, ct, { kind: 'DNAT', range: { minIp: ip('10.244.1.3'), minPort: 8080 }, persistent: false, ...base }, { hook: 'PREROUTING' });
    t.natHook(ct, syn, 'POSTROUTING');
    t.confirm(ct, 0);
    ct.entry!.mark = 7;
    const back = t.conntrackIn(tcp('10.244.1.3', 8080, '10.244.0.4', 40000, TCP_SYN | TCP_ACK, 50, 2), sec(1));
    expect(conntrackView(back, sec(1))).toEqual({
      state: 'ESTABLISHED',
      direction: 'REPLY',
      status: ['SEEN_REPLY', 'CONFIRMED'],
      snat: false,
      dnat: true,
      protocol: 6,
      original: { src: ip('10.244.0.4'), dst: ip('10.96.0.10'), sport: 40000, dport: 80 },
      reply: { src: ip('10.244.1.3'), dst: ip('10.244.0.4'), sport: 8080, dport: 40000 },
      expires: 60,
      mark: 7,
    });
    expect(conntrackView(t.conntrackIn(tcp('10.244.0.4', 1, '10.244.1.3', 2, TCP_ACK | TCP_SYN, 1, 1), 0), 0)).toEqual({ state: 'INVALID' });
    expect(conntrackView(ConntrackTable.untracked(), 0)).toEqual({ state: 'UNTRACKED' });
  });
});
