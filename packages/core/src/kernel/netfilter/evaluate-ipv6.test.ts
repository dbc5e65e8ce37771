/**
 * ip6tables evaluation: the IPv6 header match, the family-specific matches and targets, and the
 * destination index, on states created with `family: 'ipv6'`.
 */
import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../ip/ipv4.js';
import type { Ipv6Packet } from '../../packet/types.js';
import { evaluateChain } from './evaluate-chain.js';
import { matchIp6Header } from './evaluate-match.js';
import type { EvaluateContext, Ip6PacketView } from './evaluate-types.js';
import { familyStaticProblem } from './family-static-problem.js';
import { applyIptablesRestore } from './iptables-restore.js';
import { ipv6BytesOfWords, tryParseIpv6Words, type Ipv6Words } from './ipv6-words.js';
import { createNetfilterState, type NetfilterState } from './netfilter-state.js';
import { ip6PacketViewOf } from './packet-view-of.js';
import { parseRuleSpec } from './parse-rule-command.js';

function a6(text: string): Ipv6Words {
  const w = tryParseIpv6Words(text);
  if (w === undefined) throw new Error(`bad address ${text}`);
  return w;
}

function packet(src: string, dst: string, over: Partial<Ip6PacketView> = {}): Ip6PacketView {
  return { src: a6(src), dst: a6(dst), protocol: 6, sport: 40000, dport: 80, mark: 0, length: 80, fragment: false, inIface: 'eth0', ...over };
}

function state(rules: string): NetfilterState {
  const nf = createNetfilterState({ family: 'ipv6' });
  applyIptablesRestore(nf, rules);
  return nf;
}

const LOCAL = new Set(['2001:db8::1', '::1']);
const CTX: EvaluateContext = {
  now: 0,
  addrType6: (a) => (LOCAL.has(formatKey(a)) ? 'LOCAL' : 'UNICAST'),
};

function formatKey(a: Ipv6Words): string {
  for (const l of LOCAL) if (a6(l).every((w, i) => w === a[i])) return l;
  return '';
}

describe('matchIp6Header', () => {
  it.each([
    ['-s fd00:10::/64', 'fd00:10::5', 'fd00:172:30::41', true],
    ['-s fd00:10::/64', 'fd00:11::5', 'fd00:172:30::41', false],
    ['! -s fd00:10::/64', 'fd00:11::5', 'fd00:172:30::41', true],
    ['-d fd00:172:30::41', 'fd00:10::5', 'fd00:172:30::41', true],
    ['-d fd00:172:30::41', 'fd00:10::5', 'fd00:172:30::42', false],
    ['! -d ::1/128', 'fd00:10::5', '::1', false],
    ['! -d ::1/128', 'fd00:10::5', '2001:db8::1', true],
    ['-d fd00:1::/ffff:ff00:ff::', 'fd00:10::5', 'fd00:1::9', true],
    ['-d fd00:1::/ffff:ff00:ff::', 'fd00:10::5', 'fd01:1::9', false],
    ['-d fd00:1::/ffff:ff00:ff::', 'fd00:10::5', 'fd00:2::9', true],
    ['! -s ::/0', 'fd00:10::5', '::1', false],
    ['-p tcp -i eth+', 'fd00:10::5', '::1', true],
    ['-p udp', 'fd00:10::5', '::1', false],
    ['! -p udp ! -i lo', 'fd00:10::5', '::1', true],
  ])('%s for %s → %s is %s', (spec, src, dst, matches) => {
    const rule = parseRuleSpec(`${spec} -j ACCEPT`, 'filter', 'ipv6');
    expect(matchIp6Header(rule.ip, packet(src, dst))).toBe(matches);
  });
});

describe('evaluateChain with an IPv6 state', () => {
  it('DNATs to a bracketed IPv6 endpoint and reports the range in IPv6 form', () => {
    const nf = state('*nat\n:SEP - [0:0]\n-A PREROUTING -d fd00:172:30::41 -p tcp --dport 80 -j SEP\n-A SEP -p tcp -j DNAT --to-destination [fd00:10:180::1]:8080\nCOMMIT\n');
    const r = evaluateChain(nf, 'nat', 'PREROUTING', packet('fd00:10::2', 'fd00:172:30::41'), CTX);
    expect(r.verdict).toBe('ACCEPT');
    expect(r.nat).toMatchObject({ kind: 'DNAT', range: { minIp6: a6('fd00:10:180::1'), maxIp6: a6('fd00:10:180::1'), minPort: 8080, maxPort: 8080 } });
    expect(r.matched.map((m) => m.text)).toEqual([
      '-A PREROUTING -d fd00:172:30::41/128 -p tcp -m tcp --dport 80 -j SEP',
      '-A SEP -p tcp -j DNAT --to-destination [fd00:10:180::1]:8080',
    ]);
  });

  it.each([
    ['-j REJECT', 'icmp6-port-unreachable'],
    ['-j REJECT --reject-with adm-prohibited', 'icmp6-adm-prohibited'],
    ['-p tcp -j REJECT --reject-with tcp-reset', 'tcp-reset'],
  ])('%s rejects with %s (reject6, not the IPv4 reject)', (rule, how) => {
    const r = evaluateChain(state(`*filter\n-A INPUT ${rule}\nCOMMIT\n`), 'filter', 'INPUT', packet('fd00:10::2', '2001:db8::1'), CTX);
    expect(r).toMatchObject({ verdict: 'REJECT', reject6: how });
    expect(r.reject).toBeUndefined();
  });

  it.each([
    ['--dst-type LOCAL', '2001:db8::1', true],
    ['--dst-type LOCAL', '2001:db8::2', false],
    ['! --dst-type LOCAL', '2001:db8::2', true],
    ['--dst-type UNICAST', '2001:db8::2', true],
    ['--dst-type UNICAST', 'ff02::1', false],
    ['--dst-type MULTICAST', 'ff02::1', true],
    ['--dst-type UNSPEC', '::', true],
    ['--dst-type UNICAST', '::ffff:10.0.0.1', false],
    // match_type6 wants every type asked for at once, not one of them as IPv4's addrtype does.
    ['--dst-type UNICAST,LOCAL', '2001:db8::1', true],
    ['--dst-type UNICAST,LOCAL', '2001:db8::2', false],
    ['--dst-type MULTICAST,LOCAL', '2001:db8::1', false],
  ])('-m addrtype %s is %s for %s', (opts, dst, matches) => {
    const nf = state(`*filter\n-A INPUT -m addrtype ${opts} -j DROP\nCOMMIT\n`);
    expect(evaluateChain(nf, 'filter', 'INPUT', packet('fd00:10::2', dst), CTX).verdict).toBe(matches ? 'DROP' : 'ACCEPT');
  });

  it('keeps -m recent entries per masked IPv6 source', () => {
    const nf = state(
      '*filter\n-A INPUT -p tcp --dport 1 -m recent --name R --set --mask ffff:ffff:ffff:ffff:: -j ACCEPT\n-A INPUT -p tcp --dport 2 -m recent --name R --rcheck --seconds 10 --mask ffff:ffff:ffff:ffff:: -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n',
    );
    expect(evaluateChain(nf, 'filter', 'INPUT', packet('fd00:10::2', '2001:db8::1', { dport: 1 }), CTX).verdict).toBe('ACCEPT');
    expect([...(nf.recent.get('R')?.entries.keys() ?? [])]).toEqual(['fd00:10::']);
    expect(evaluateChain(nf, 'filter', 'INPUT', packet('fd00:10::99', '2001:db8::1', { dport: 2 }), { ...CTX, now: 5e9 }).verdict).toBe('ACCEPT');
    expect(evaluateChain(nf, 'filter', 'INPUT', packet('fd00:11::2', '2001:db8::1', { dport: 2 }), { ...CTX, now: 5e9 }).verdict).toBe('DROP');
    expect(evaluateChain(nf, 'filter', 'INPUT', packet('fd00:10::99', '2001:db8::1', { dport: 2 }), { ...CTX, now: 11e9 }).verdict).toBe('DROP');
  });

  it.each([
    ['--icmpv6-type echo-request', 128, 0, true],
    ['--icmpv6-type echo-request', 129, 0, false],
    ['--icmpv6-type port-unreachable', 1, 4, true],
    ['--icmpv6-type port-unreachable', 1, 3, false],
    ['! --icmpv6-type destination-unreachable', 1, 3, false],
    ['! --icmpv6-type destination-unreachable', 135, 0, true],
  ])('-m icmp6 %s for type %i code %i is %s', (opts, type, code, matches) => {
    const nf = state(`*filter\n-A INPUT -p icmpv6 ${opts} -j DROP\nCOMMIT\n`);
    const p = packet('fd00:10::2', '2001:db8::1', { protocol: 58, icmpType: type, icmpCode: code });
    delete (p as { sport?: number }).sport;
    expect(evaluateChain(nf, 'filter', 'INPUT', p, CTX).verdict).toBe(matches ? 'DROP' : 'ACCEPT');
  });

  it('refuses a packet of the other family', () => {
    const v6 = state('*filter\n-A INPUT -j DROP\nCOMMIT\n');
    const v4packet = { src: parseIpv4('10.0.0.1'), dst: parseIpv4('10.0.0.2'), protocol: 6, mark: 0, length: 60, fragment: false };
    expect(() => evaluateChain(v6, 'filter', 'INPUT', v4packet, CTX)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    const v4 = createNetfilterState();
    applyIptablesRestore(v4, '*filter\n-A INPUT -j DROP\nCOMMIT\n');
    expect(() => evaluateChain(v4, 'filter', 'INPUT', packet('fd00::1', 'fd00::2'), CTX)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('examines only the candidate rules of a large chain of /128 destinations, with the same result as a full scan', () => {
    const lines: string[] = ['*nat', ':KUBE-SERVICES - [0:0]', ':SVC - [0:0]', '-A PREROUTING -j KUBE-SERVICES'];
    for (let i = 1; i <= 2000; i++) lines.push(`-A KUBE-SERVICES -d fd00:172:30::${i.toString(16)} -p tcp --dport 80 -j SVC`);
    lines.push('-A KUBE-SERVICES ! -d ::1/128 -m addrtype --dst-type LOCAL -j RETURN', '-A SVC -p tcp -j DNAT --to-destination [fd00:10:180::1]:80', 'COMMIT', '');
    const nf = state(lines.join('\n'));
    for (const dst of ['fd00:172:30::7d0', 'fd00:172:30::1', 'fd00:172:30::7d1', '2001:db8::1']) {
      const p = packet('fd00:10::2', dst);
      const indexed = evaluateChain(nf, 'nat', 'PREROUTING', p, CTX);
      const scanned = evaluateChain(nf, 'nat', 'PREROUTING', p, CTX, { index: false });
      expect({ ...indexed, traversed: 0 }).toEqual({ ...scanned, traversed: 0 });
      expect(indexed.traversed).toBeLessThan(10);
      if (dst !== 'fd00:172:30::1') expect(scanned.traversed).toBeGreaterThan(1000);
    }
    expect(evaluateChain(nf, 'nat', 'PREROUTING', packet('fd00:10::2', 'fd00:172:30::7d0'), CTX).nat?.rule.text).toBe(
      '-A SVC -p tcp -j DNAT --to-destination [fd00:10:180::1]:80',
    );
  });
});

describe('ip6PacketViewOf', () => {
  const base: Omit<Ipv6Packet, 'payload' | 'nextHeader'> = {
    kind: 'ipv6',
    trafficClass: 0,
    flowLabel: 0,
    hopLimit: 64,
    src: ipv6BytesOfWords(a6('fd00:10::2')),
    dst: ipv6BytesOfWords(a6('fd00:172:30::41')),
  };

  it('reads addresses as words, ports and the hop limit of a TCP SYN (40 + 20 bytes)', () => {
    const view = ip6PacketViewOf(
      { ...base, nextHeader: 6, payload: { kind: 'tcp', srcPort: 40000, dstPort: 80, seq: 1, ack: 0, flags: 0x02, window: 64800, payload: new Uint8Array() } },
      { inIface: 'eth0' },
    );
    expect(view).toEqual({
      src: a6('fd00:10::2'),
      dst: a6('fd00:172:30::41'),
      protocol: 6,
      sport: 40000,
      dport: 80,
      tcpFlags: 0x02,
      tcpOptions: [],
      inIface: 'eth0',
      mark: 0,
      length: 60,
      fragment: false,
      ttl: 64,
    });
  });

  it('reads the ICMPv6 type and code from the first bytes of an ICMPv6 payload', () => {
    const echo = Uint8Array.from([128, 0, 0, 0, 0, 1, 0, 1]);
    expect(ip6PacketViewOf({ ...base, nextHeader: 58, payload: { kind: 'raw', bytes: echo } })).toMatchObject({ protocol: 58, icmpType: 128, icmpCode: 0, length: 48 });
  });
});

describe('familyStaticProblem', () => {
  it.each([
    ['-m addrtype --dst-type BROADCAST', 'ipv6', 'addrtype: ipv6 does not support BROADCAST matching'],
    ['-m addrtype --src-type BLACKHOLE', 'ipv6', 'addrtype: ipv6 BLACKHOLE matching not supported'],
    ['-m addrtype --dst-type LOCAL,NAT', 'ipv6', 'addrtype: ipv6 PROHIBIT (THROW, NAT ..) matching not supported'],
    ['-m addrtype --dst-type LOCAL,UNICAST', 'ipv6', undefined],
    ['-m addrtype --dst-type BROADCAST', 'ipv4', undefined],
  ] as const)('%s in %s: %s', (spec, family, problem) => {
    const p = parseRuleSpec(spec, 'filter', family);
    expect(familyStaticProblem(family, { ...p, counters: { packets: 0, bytes: 0 } })).toBe(problem);
  });
});
