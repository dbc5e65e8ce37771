import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../ip/ipv4.js';
import { applyIpsetRestore } from '../ipset/ipset-restore.js';
import type { AddrType } from './netfilter-types.js';
import type { ConntrackView, EvaluateContext, PacketView } from './evaluate-types.js';
import { evaluateMatch, matchIpHeader, packetSetElement, type MatchInput } from './evaluate-match.js';
import { createNetfilterState, type NetfilterState } from './netfilter-state.js';
import { parseRuleSpec } from './parse-rule-command.js';

const ip = parseIpv4;

type Over = { [K in keyof PacketView]?: PacketView[K] | undefined };

/** A TCP packet 10.244.1.5:40000 → 10.96.0.10:80 arriving on eth0; fields set to undefined are removed. */
function pkt(over: Over = {}): PacketView {
  const p: Record<string, unknown> = {
    src: ip('10.244.1.5'),
    dst: ip('10.96.0.10'),
    protocol: 6,
    sport: 40000,
    dport: 80,
    tcpFlags: 0x02,
    inIface: 'eth0',
    mark: 0,
    length: 60,
    fragment: false,
    ttl: 64,
    ...over,
  };
  for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k];
  return p as unknown as PacketView;
}

/** True when every match of the rule (and its -s/-d/-i/-o/-p/-f part) matches. */
function matches(spec: string, p: PacketView, ctx: Partial<EvaluateContext> = {}, state?: NetfilterState): boolean {
  const rule = parseRuleSpec(spec);
  if (!matchIpHeader(rule.ip, p)) return false;
  const input: MatchInput = {
    packet: p,
    mark: p.mark,
    ctx: { now: 0, ...ctx },
    state: state ?? createNetfilterState(),
    site: { table: 'filter', chain: 'X', ruleNumber: 1 },
    sideEffects: ctx.sideEffects !== false,
  };
  return rule.matches.every((m) => evaluateMatch(m, input));
}

describe('matchIpHeader', () => {
  it.each([
    ['-s 10.244.1.5', pkt(), true],
    ['-s 10.244.0.0/16', pkt(), true],
    ['-s 10.244.2.0/24', pkt(), false],
    ['! -s 10.244.2.0/24', pkt(), true],
    ['! -s 0.0.0.0/0', pkt(), false],
    ['-s 10.0.1.0/255.0.255.0', pkt({ src: ip('10.9.1.7') }), true],
    ['-d 10.96.0.10', pkt(), true],
    ['! -d 10.96.0.10', pkt(), false],
    ['-i eth0', pkt(), true],
    ['-i eth+', pkt(), true],
    ['-i cali+', pkt(), false],
    ['! -i cali+', pkt(), true],
    ['-i +', pkt({ inIface: undefined }), true],
    ['-i eth0', pkt({ inIface: undefined }), false],
    ['-o cbr0', pkt({ outIface: 'cbr0' }), true],
    ['! -o cbr0', pkt({ outIface: 'cbr0' }), false],
    ['-p tcp', pkt(), true],
    ['-p udp', pkt(), false],
    ['! -p udp', pkt(), true],
    ['-p all', pkt({ protocol: 47 }), true],
    ['-f', pkt(), false],
    ['-f', pkt({ fragment: true }), true],
    ['! -f', pkt({ fragment: true }), false],
  ])('%s on %o → %s', (spec, p, expected) => {
    expect(matchIpHeader(parseRuleSpec(spec).ip, p)).toBe(expected);
  });
});

describe('MATCH_EVALUATORS: ports and ICMP', () => {
  it.each([
    ['-p tcp --dport 80', pkt(), true],
    ['-p tcp --dport 81', pkt(), false],
    ['-p tcp ! --dport 81', pkt(), true],
    ['-p tcp --dport 70:90', pkt(), true],
    ['-p tcp --sport 1024:', pkt(), true],
    ['-p tcp --sport :1023', pkt(), false],
    ['-p tcp --dport 80', pkt({ fragment: true }), false],
    ['-p tcp --syn', pkt(), true],
    ['-p tcp --syn', pkt({ tcpFlags: 0x12 }), false],
    ['-p tcp ! --syn', pkt({ tcpFlags: 0x10 }), true],
    ['-p tcp --tcp-flags ALL NONE', pkt({ tcpFlags: 0 }), true],
    ['-p tcp --tcp-option 2', pkt({ tcpOptions: [2, 4] }), true],
    ['-p tcp ! --tcp-option 8', pkt({ tcpOptions: [2, 4] }), true],
    ['-p udp --dport 53', pkt({ protocol: 17, dport: 53 }), true],
    ['-p udp ! --sport 53', pkt({ protocol: 17, sport: 53 }), false],
    ['-p sctp --dport 80', pkt({ protocol: 132 }), true],
    ['-p icmp --icmp-type any', pkt({ protocol: 1, sport: undefined, dport: undefined, icmpType: 0, icmpCode: 0 }), true],
    ['-p icmp --icmp-type echo-request', pkt({ protocol: 1, icmpType: 8, icmpCode: 0 }), true],
    ['-p icmp --icmp-type echo-request', pkt({ protocol: 1, icmpType: 0, icmpCode: 0 }), false],
    ['-p icmp --icmp-type port-unreachable', pkt({ protocol: 1, icmpType: 3, icmpCode: 3 }), true],
    ['-p icmp --icmp-type port-unreachable', pkt({ protocol: 1, icmpType: 3, icmpCode: 1 }), false],
    ['-p icmp --icmp-type destination-unreachable', pkt({ protocol: 1, icmpType: 3, icmpCode: 13 }), true],
    ['-p icmp ! --icmp-type 8', pkt({ protocol: 1, icmpType: 0, icmpCode: 0 }), true],
    ['-p icmp --icmp-type 8', pkt({ protocol: 1, icmpType: 8, fragment: true }), false],
    ['-p tcp -m multiport --dports 22,80,1000:2000', pkt(), true],
    ['-p tcp -m multiport --dports 22,1000:2000', pkt({ dport: 1500 }), true],
    ['-p tcp -m multiport --dports 22,1000:2000', pkt(), false],
    ['-p tcp -m multiport ! --dports 22,443', pkt(), true],
    ['-p tcp -m multiport --sports 40000', pkt(), true],
    ['-p tcp -m multiport --ports 40000', pkt(), true],
    ['-p tcp -m multiport --ports 80', pkt(), true],
    ['-p tcp -m multiport --ports 81', pkt(), false],
  ])('%s → %s', (spec, p, expected) => {
    expect(matches(spec, p)).toBe(expected);
  });
});

describe('MATCH_EVALUATORS: comment, mark, nfacct', () => {
  it.each([
    ['-m comment --comment "any text"', pkt(), true],
    ['-m mark --mark 0x4000/0x4000', pkt({ mark: 0x4000 }), true],
    ['-m mark --mark 0x4000/0x4000', pkt({ mark: 0xc000 }), true],
    ['-m mark --mark 0x4000/0x4000', pkt({ mark: 0x8000 }), false],
    ['-m mark ! --mark 0x4000/0x4000', pkt({ mark: 0 }), true],
    ['-m mark --mark 0x1', pkt({ mark: 0x3 }), false],
    ['-m mark --mark 0x0/0x10000', pkt({ mark: 0x20000 }), true],
    ['-m nfacct --nfacct-name localhost_nps_accepted_pkts', pkt(), true],
  ])('%s → %s', (spec, p, expected) => {
    expect(matches(spec, p)).toBe(expected);
  });
});

describe('MATCH_EVALUATORS: statistic', () => {
  it.each([
    ['0.5000000000', 0.5],
    ['0.3333333333', 715827883 / 2 ** 31],
    ['0.2500000000', 0.25],
    ['1', 1],
  ])('--probability %s asks the chooser for the kernel fixed-point value %d', (text, expected) => {
    const seen: number[] = [];
    matches(`-m statistic --mode random --probability ${text}`, pkt(), {
      choose: (p) => {
        seen.push(p);
        return true;
      },
    });
    expect(seen).toEqual([expected]);
  });

  it.each([
    [true, false, true],
    [false, false, false],
    [true, true, false],
    [false, true, true],
  ])('chooser %s with invert %s → %s', (chosen, invert, expected) => {
    expect(matches(`-m statistic --mode random ${invert ? '! ' : ''}--probability 0.5`, pkt(), { choose: () => chosen })).toBe(expected);
  });

  it('refuses to draw without a chooser', () => {
    expect(() => matches('-m statistic --mode random --probability 0.5', pkt())).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it.each([
    [3, 0, [true, false, false, true, false, false, true]],
    [3, 1, [false, true, false, false, true, false, false]],
    [3, 2, [false, false, true, false, false, true, false]],
    [2, 1, [false, true, false, true]],
  ])('--every %i --packet %i matches packets %o (xt_statistic nth counter)', (every, packet, expected) => {
    const rule = parseRuleSpec(`-m statistic --mode nth --every ${every} --packet ${packet}`);
    const state = createNetfilterState();
    const got = expected.map(() =>
      rule.matches.every((m) =>
        evaluateMatch(m, { packet: pkt(), mark: 0, ctx: { now: 0 }, state, site: { table: 'nat', chain: 'X', ruleNumber: 1 }, sideEffects: true }),
      ),
    );
    expect(got).toEqual(expected);
  });
});

describe('MATCH_EVALUATORS: recent', () => {
  const S = 1e9;
  function seq(steps: readonly [string, number, Partial<PacketView>?][]): boolean[] {
    const state = createNetfilterState();
    return steps.map(([spec, t, over]) => matches(spec, pkt(over ?? {}), { now: t * S }, state));
  }

  it('--set records the source; --rcheck --seconds sees it only within the window (kube-proxy affinity)', () => {
    expect(
      seq([
        ['-m recent --name A --rcheck --seconds 10800 --reap', 0],
        ['-m recent --name A --set', 1],
        ['-m recent --name A --rcheck --seconds 10800 --reap', 2],
        ['-m recent --name A --rcheck --seconds 10800 --reap', 10801],
        ['-m recent --name A --rcheck --seconds 10800 --reap', 10802],
      ]),
    ).toEqual([false, true, true, true, false]);
  });

  it('--update refreshes the timestamp, --rcheck does not', () => {
    expect(
      seq([
        ['-m recent --name A --set', 0],
        ['-m recent --name A --update --seconds 10', 8],
        ['-m recent --name A --rcheck --seconds 10', 17],
        ['-m recent --name B --set', 0],
        ['-m recent --name B --rcheck --seconds 10', 8],
        ['-m recent --name B --rcheck --seconds 10', 17],
      ]),
    ).toEqual([true, true, true, true, true, false]);
  });

  it('--hitcount counts packets within --seconds; --remove forgets; lists are separate by name', () => {
    expect(
      seq([
        ['-m recent --name A --set', 0],
        ['-m recent --name A --set', 1],
        ['-m recent --name A --rcheck --seconds 60 --hitcount 3', 2],
        ['-m recent --name A --set', 3],
        ['-m recent --name A --rcheck --seconds 60 --hitcount 3', 4],
        ['-m recent --name B --rcheck', 4],
        ['-m recent --name A --remove', 5],
        ['-m recent --name A --rcheck', 6],
        ['-m recent --name A ! --rcheck', 6],
      ]),
    ).toEqual([true, true, false, true, true, false, true, false, true]);
  });

  it('--rdest keys on the destination, --mask on the masked address, --rttl on the TTL', () => {
    expect(
      seq([
        ['-m recent --name A --set --rdest', 0],
        ['-m recent --name A --rcheck --rdest', 1],
        ['-m recent --name A --rcheck', 1],
        ['-m recent --name M --set --mask 255.255.255.0', 0],
        ['-m recent --name M --rcheck --mask 255.255.255.0', 1, { src: ip('10.244.1.99') }],
        ['-m recent --name T --set', 0, { ttl: 64 }],
        ['-m recent --name T --rcheck --rttl', 1, { ttl: 63 }],
        ['-m recent --name T --rcheck --rttl', 1, { ttl: 64 }],
      ]),
    ).toEqual([true, true, false, true, true, true, false, true]);
  });

  it('--reap drops the oldest entry once it is older than --seconds', () => {
    const state = createNetfilterState();
    matches('-m recent --name R --set', pkt({ src: ip('1.1.1.1') }), { now: 0 }, state);
    matches('-m recent --name R --set', pkt({ src: ip('2.2.2.2') }), { now: 100 * S }, state);
    matches('-m recent --name R --rcheck --seconds 50 --reap', pkt({ src: ip('2.2.2.2') }), { now: 120 * S }, state);
    expect([...(state.recent.get('R')?.entries.keys() ?? [])]).toEqual([ip('2.2.2.2')]);
  });

  it('with sideEffects false, --set leaves the list unchanged', () => {
    const state = createNetfilterState();
    expect(matches('-m recent --name Q --set', pkt(), { now: 0, sideEffects: false }, state)).toBe(true);
    expect(matches('-m recent --name Q --rcheck', pkt(), { now: 0 }, state)).toBe(false);
  });
});

describe('MATCH_EVALUATORS: addrtype', () => {
  const local = new Set([ip('192.168.0.2'), ip('127.0.0.1')]);
  const classify = (a: number, dev: string | undefined): AddrType =>
    local.has(a) && (dev === undefined || dev === 'eth0' || a === ip('127.0.0.1')) ? 'LOCAL' : a >>> 28 === 14 ? 'MULTICAST' : 'UNICAST';
  it.each([
    ['-m addrtype --dst-type LOCAL', pkt({ dst: ip('192.168.0.2') }), true],
    ['-m addrtype --dst-type LOCAL', pkt(), false],
    ['-m addrtype ! --dst-type LOCAL', pkt(), true],
    ['-m addrtype --src-type LOCAL', pkt({ src: ip('127.0.0.1') }), true],
    ['-m addrtype --dst-type LOCAL,MULTICAST', pkt({ dst: ip('224.0.0.1') }), true],
    ['-m addrtype --dst-type LOCAL --limit-iface-in', pkt({ dst: ip('192.168.0.2'), inIface: 'eth1' }), false],
    ['-m addrtype --dst-type LOCAL --limit-iface-in', pkt({ dst: ip('192.168.0.2'), inIface: 'eth0' }), true],
    ['-m addrtype --src-type LOCAL --dst-type UNICAST', pkt({ src: ip('192.168.0.2') }), true],
  ])('%s → %s', (spec, p, expected) => {
    expect(matches(spec, p, { addrType: classify })).toBe(expected);
  });

  it('asks for the interface only with --limit-iface-in/out', () => {
    const devs: (string | undefined)[] = [];
    const spy = (_a: number, dev: string | undefined): AddrType => {
      devs.push(dev);
      return 'UNICAST';
    };
    matches('-m addrtype --dst-type LOCAL', pkt(), { addrType: spy });
    matches('-m addrtype --dst-type LOCAL --limit-iface-in', pkt(), { addrType: spy });
    expect(devs).toEqual([undefined, 'eth0']);
  });
});

describe('MATCH_EVALUATORS: conntrack and state', () => {
  const est: ConntrackView = {
    state: 'ESTABLISHED',
    direction: 'REPLY',
    protocol: 6,
    dnat: true,
    status: ['SEEN_REPLY', 'ASSURED', 'CONFIRMED'],
    original: { src: ip('10.244.1.5'), dst: ip('10.96.0.10'), sport: 40000, dport: 80 },
    reply: { src: ip('10.244.2.7'), dst: ip('10.244.1.5'), sport: 8080, dport: 40000 },
    expires: 431999,
  };
  it.each([
    ['-m conntrack --ctstate NEW', { state: 'NEW' } as ConntrackView, true],
    ['-m conntrack --ctstate NEW', est, false],
    ['-m conntrack --ctstate RELATED,ESTABLISHED', est, true],
    ['-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT', est, false],
    ['-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT', { state: 'NEW' } as ConntrackView, true],
    ['-m conntrack --ctstate DNAT', est, true],
    ['-m conntrack --ctstate SNAT', est, false],
    ['-m conntrack --ctstate INVALID', undefined, true],
    ['-m conntrack --ctstate INVALID', { state: 'UNTRACKED' } as ConntrackView, false],
    ['-m conntrack --ctstate UNTRACKED', { state: 'UNTRACKED' } as ConntrackView, true],
    ['-m conntrack --ctdir REPLY', est, true],
    ['-m conntrack --ctdir ORIGINAL', est, false],
    ['-m conntrack --ctproto tcp --ctorigdst 10.96.0.10 --ctorigdstport 80', est, true],
    ['-m conntrack --ctrepldst 10.244.1.0/24 --ctreplsrcport 8000:9000', est, true],
    ['-m conntrack ! --ctreplsrc 10.244.2.7', est, false],
    ['-m conntrack --ctstatus ASSURED', est, true],
    ['-m conntrack --ctstatus EXPECTED', est, false],
    ['-m conntrack --ctexpire 400000:500000', est, true],
    ['-m conntrack --ctorigsrc 10.244.1.5', undefined, false],
    ['-m state --state ESTABLISHED', est, true],
    ['-m state ! --state ESTABLISHED', est, false],
    ['-m state --state INVALID', undefined, true],
  ])('%s with %o → %s', (spec, ct, expected) => {
    expect(matches(spec, pkt(), ct === undefined ? {} : { conntrack: ct })).toBe(expected);
  });
});

describe('MATCH_EVALUATORS: set', () => {
  function withSets(): NetfilterState {
    const s = createNetfilterState();
    applyIpsetRestore(
      s.ipsets,
      [
        'create pods hash:ip',
        'add pods 10.244.1.5',
        'create pools hash:net counters',
        'add pools 10.244.0.0/16',
        'add pools 10.244.1.0/24 nomatch',
        'add pools 10.244.1.5',
        'create svc hash:ip,port',
        'add svc 10.96.0.10,tcp:80',
        'add svc 10.96.0.10,udp:53',
        'create lb-src hash:ip,port,net',
        'add lb-src 10.96.0.10,tcp:80,10.244.0.0/16',
        'add lb-src 10.96.0.10,tcp:80,10.244.1.0/24 nomatch',
        'create loop hash:ip,port,ip',
        'add loop 10.96.0.10,tcp:80,10.244.1.5',
        'create np bitmap:port range 0-65535',
        'add np 80',
      ].join('\n'),
    );
    return s;
  }
  it.each([
    ['-m set --match-set pods src', pkt(), true],
    ['-m set --match-set pods dst', pkt(), false],
    ['-m set ! --match-set pods dst', pkt(), true],
    ['-m set --match-set pools src', pkt(), true],
    ['-m set --match-set pools src', pkt({ src: ip('10.244.1.6') }), false],
    ['-m set --match-set pools src', pkt({ src: ip('10.244.2.6') }), true],
    ['-m set --match-set pools src --return-nomatch', pkt({ src: ip('10.244.1.6') }), true],
    ['-m set --match-set pools src --return-nomatch', pkt({ src: ip('10.244.2.6') }), false],
    ['-m set --match-set svc dst,dst', pkt(), true],
    ['-m set --match-set svc dst,dst', pkt({ protocol: 17, dport: 53 }), true],
    ['-m set --match-set svc dst,dst', pkt({ dport: 53 }), false],
    ['-m set --match-set svc dst', pkt(), false],
    ['-m set --match-set svc dst,dst', pkt({ fragment: true }), false],
    ['-m set --match-set lb-src dst,dst,src', pkt({ src: ip('10.244.2.1') }), true],
    ['-m set --match-set lb-src dst,dst,src', pkt({ src: ip('10.244.1.1') }), false],
    ['-m set --match-set loop dst,dst,src', pkt(), true],
    ['-m set --match-set np dst', pkt(), true],
    ['-m set --match-set np dst', pkt({ protocol: 132 }), false],
    ['-m set --match-set np src', pkt(), false],
  ])('%s → %s', (spec, p, expected) => {
    expect(matches(spec, p, {}, withSets())).toBe(expected);
  });

  it('counts packets and bytes on a set with counters, unless ! --update-counters', () => {
    const s = withSets();
    matches('-m set --match-set pools src', pkt(), {}, s);
    matches('-m set --match-set pools src ! --update-counters', pkt(), {}, s);
    const e = s.ipsets.get('pools')?.entries.get(`${ip('10.244.1.5')}/32`);
    expect([e?.packets, e?.bytes]).toEqual([1, 60]);
  });

  it.each([
    ['hash:ip,port', ['dst', 'dst'], pkt({ protocol: 1, sport: undefined, dport: undefined, icmpType: 8, icmpCode: 0 }), { proto: 1, port: 0x0800 }],
    ['hash:ip,port', ['src', 'src'], pkt({ protocol: 47 }), { proto: 47, port: 0 }],
    ['bitmap:port', ['src'], pkt({ protocol: 17, sport: 53 }), { port: 53 }],
  ] as const)('packetSetElement for %s %o', (type, dirs, p, expected) => {
    expect(packetSetElement(type, dirs, p)).toMatchObject(expected);
  });
});

describe('MATCH_EVALUATORS: physdev', () => {
  it.each([
    ['-m physdev --physdev-is-bridged', undefined, false],
    ['-m physdev ! --physdev-is-bridged', undefined, true],
    ['-m physdev --physdev-in veth1', undefined, false],
    ['-m physdev --physdev-is-bridged', { physIn: 'veth1', physOut: 'vethwe-bridge' }, true],
    ['-m physdev --physdev-is-bridged', { physIn: 'veth1' }, false],
    ['-m physdev --physdev-out vethwe-bridge --physdev-is-bridged', { physIn: 'veth1', physOut: 'vethwe-bridge' }, true],
    ['-m physdev --physdev-out vethwe-bridge --physdev-is-bridged', { physIn: 'veth1', physOut: 'veth2' }, false],
    ['-m physdev --physdev-in vethwe-bridge', { physIn: 'vethwe-bridge' }, true],
    ['-m physdev --physdev-in veth+', { physIn: 'vethwe-bridge' }, true],
    ['-m physdev ! --physdev-in vethwe-bridge', { physIn: 'vethwe-bridge' }, false],
    ['-m physdev --physdev-is-in', { physIn: 'a' }, true],
    ['-m physdev --physdev-is-out', { physIn: 'a' }, false],
    ['-m physdev --physdev-out eth0', { physIn: 'a' }, true],
  ])('%s with %o → %s', (spec, physdev, expected) => {
    expect(matches(spec, pkt(), physdev === undefined ? {} : { physdev })).toBe(expected);
  });
});
