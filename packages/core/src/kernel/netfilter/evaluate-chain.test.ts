import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../ip/ipv4.js';
import { SeededRng } from '../../util/seeded-rng.js';
import { readNetfilterFixture } from '../../../test/fixtures/netfilter/netfilter-fixtures.js';
import type { NetfilterTableName } from './netfilter-types.js';
import type { EvaluateContext, PacketView } from './evaluate-types.js';
import { evaluateChain } from './evaluate-chain.js';
import { applyIptablesRestore } from './iptables-restore.js';
import { formatIptablesSave } from './iptables-save.js';
import { createNetfilterState, type NetfilterState } from './netfilter-state.js';

const ip = parseIpv4;

function pkt(over: Partial<PacketView> = {}): PacketView {
  return {
    src: ip('10.244.1.5'),
    dst: ip('10.96.0.10'),
    protocol: 6,
    sport: 40000,
    dport: 80,
    inIface: 'eth0',
    mark: 0,
    length: 60,
    fragment: false,
    ...over,
  };
}

function load(text: string): NetfilterState {
  const nf = createNetfilterState();
  applyIptablesRestore(nf, text);
  return nf;
}

function run(nf: NetfilterState, table: NetfilterTableName, chain: string, p: PacketView = pkt(), ctx: Partial<EvaluateContext> = {}) {
  return evaluateChain(nf, table, chain, p, { now: 0, ...ctx });
}

describe('evaluateChain: traversal', () => {
  const nf = load(
    [
      '*filter',
      ':A - [0:0]',
      ':B - [0:0]',
      ':G - [0:0]',
      '-A INPUT -p udp -j DROP',
      '-A INPUT -j A',
      '-A INPUT -s 10.244.1.6 -g G',
      '-A INPUT -d 10.96.0.11 -j RETURN',
      '-A INPUT -j ACCEPT',
      '-A A -s 10.244.1.7 -j RETURN',
      '-A A -j B',
      '-A A -s 10.244.1.7 -j DROP',
      '-A B -d 10.96.0.12 -j REJECT --reject-with icmp-host-prohibited',
      '-A B -d 10.96.0.13 -j DROP',
      '-A G -p tcp --dport 443 -j ACCEPT',
      'COMMIT',
      '*nat',
      ':X - [0:0]',
      '-A OUTPUT -j X',
      '-A X -j RETURN',
      'COMMIT',
    ].join('\n') + '\n',
  );
  it.each([
    ['falls through A and B back to INPUT and ACCEPTs', pkt(), 'ACCEPT', ['-A INPUT -j A', '-A A -j B', '-A INPUT -j ACCEPT'], false],
    ['a RETURN in A goes back to INPUT', pkt({ src: ip('10.244.1.7') }), 'ACCEPT', ['-A INPUT -j A', '-A A -s 10.244.1.7/32 -j RETURN', '-A INPUT -j ACCEPT'], false],
    [
      'REJECT in B ends the walk with its type',
      pkt({ dst: ip('10.96.0.12') }),
      'REJECT',
      ['-A INPUT -j A', '-A A -j B', '-A B -d 10.96.0.12/32 -j REJECT --reject-with icmp-host-prohibited'],
      false,
    ],
    ['DROP in B', pkt({ dst: ip('10.96.0.13') }), 'DROP', ['-A INPUT -j A', '-A A -j B', '-A B -d 10.96.0.13/32 -j DROP'], false],
    [
      'a goto chain that runs off its end returns to the caller of INPUT: the policy',
      pkt({ src: ip('10.244.1.6') }),
      'ACCEPT',
      ['-A INPUT -j A', '-A A -j B', '-A INPUT -s 10.244.1.6/32 -g G'],
      true,
    ],
    ['RETURN in a built-in chain applies the policy', pkt({ dst: ip('10.96.0.11') }), 'ACCEPT', ['-A INPUT -j A', '-A A -j B', '-A INPUT -d 10.96.0.11/32 -j RETURN'], true],
  ])('%s', (_name, p, verdict, texts, policy) => {
    const r = run(nf, 'filter', 'INPUT', p, { sideEffects: false });
    expect(r.verdict).toBe(verdict);
    expect(r.matched.map((m) => m.text)).toEqual(texts);
    expect(r.policy).toBe(policy);
  });

  it('reports rule numbers as iptables -L --line-numbers does', () => {
    const r = run(nf, 'filter', 'INPUT', pkt({ dst: ip('10.96.0.13') }), { sideEffects: false });
    expect(r.matched.map((m) => [m.chain, m.ruleNumber])).toEqual([
      ['INPUT', 2],
      ['A', 2],
      ['B', 2],
    ]);
    expect(r.decidedBy).toMatchObject({ table: 'filter', chain: 'B', ruleNumber: 2 });
  });

  it('gives REJECT its type and DROP none', () => {
    expect(run(nf, 'filter', 'INPUT', pkt({ dst: ip('10.96.0.12') })).reject).toBe('icmp-host-prohibited');
    expect(run(nf, 'filter', 'INPUT', pkt({ dst: ip('10.96.0.13') })).reject).toBeUndefined();
  });

  it('walks a user chain on its own and CONTINUEs at its end', () => {
    const r = run(nf, 'filter', 'B', pkt());
    expect([r.verdict, r.policy, r.matched.length]).toEqual(['CONTINUE', false, 0]);
  });

  it('accepts without rules in a table that does not exist or a chain it lacks', () => {
    expect(run(createNetfilterState(), 'mangle', 'PREROUTING').verdict).toBe('ACCEPT');
    expect(run(nf, 'filter', 'NOPE').verdict).toBe('ACCEPT');
  });

  it('applies the chain policy, counting the packet in the policy counters', () => {
    const nf2 = load('*filter\n:FORWARD DROP [0:0]\n-A FORWARD -p udp -j ACCEPT\nCOMMIT\n');
    const r = run(nf2, 'filter', 'FORWARD', pkt());
    expect([r.verdict, r.policy]).toEqual(['DROP', true]);
    expect(formatIptablesSave(nf2, { counters: true })).toContain(':FORWARD DROP [1:60]');
  });

  it('counts matched rules (packets and bytes) and nothing with sideEffects false', () => {
    const nf2 = load('*filter\n:A - [0:0]\n-A INPUT -j A\n-A A -p tcp -j ACCEPT\nCOMMIT\n');
    run(nf2, 'filter', 'INPUT', pkt({ length: 100 }));
    run(nf2, 'filter', 'INPUT', pkt({ length: 40 }));
    run(nf2, 'filter', 'INPUT', pkt({ length: 1000 }), { sideEffects: false });
    expect(formatIptablesSave(nf2, { counters: true })).toContain('[2:140] -A INPUT -j A\n[2:140] -A A -p tcp -j ACCEPT\n');
  });
});

describe('TARGET_EVALUATORS', () => {
  it('MARK changes the mark seen by later rules, in order (kube-proxy masquerade bit)', () => {
    const nf = load(
      '*nat\n:KUBE-MARK-MASQ - [0:0]\n-A POSTROUTING -j KUBE-MARK-MASQ\n-A POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n-A POSTROUTING -j MARK --xor-mark 0x4000\n-A POSTROUTING -j MASQUERADE --random-fully\n-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\nCOMMIT\n',
    );
    const r = run(nf, 'nat', 'POSTROUTING', pkt({ mark: 0x10000 }));
    expect(r.markChanges.map((c) => [c.from, c.to])).toEqual([
      [0x10000, 0x14000],
      [0x14000, 0x10000],
    ]);
    expect(r.mark).toBe(0x10000);
    expect(r.nat).toMatchObject({ kind: 'MASQUERADE', randomFully: true, rule: { chain: 'POSTROUTING', ruleNumber: 4 } });
    expect(r.verdict).toBe('ACCEPT');
  });

  it.each([
    ['--set-xmark 0x1/0xf', 0xff, 0xf1],
    ['--set-mark 0x4000', 0xff, 0x4000],
    ['--and-mark 0xf', 0xff, 0xf],
    ['--or-mark 0x100', 0x1, 0x101],
    ['--xor-mark 0x3', 0x1, 0x2],
  ])('MARK %s turns 0x%s into %s', (opt, from, to) => {
    const nf = load(`*mangle\n-A PREROUTING -j MARK ${opt}\nCOMMIT\n`);
    expect(run(nf, 'mangle', 'PREROUTING', pkt({ mark: from })).mark).toBe(to);
  });

  it.each([
    ['-p tcp -j DNAT --to-destination 10.244.2.7:8080', { kind: 'DNAT', range: { minIp: ip('10.244.2.7'), maxIp: ip('10.244.2.7'), minPort: 8080, maxPort: 8080 } }],
    ['-j DNAT --to-destination 10.244.2.7-10.244.2.9 --random --persistent', { kind: 'DNAT', random: true, persistent: true }],
    ['-p tcp -j REDIRECT --to-ports 15001', { kind: 'REDIRECT', minPort: 15001, maxPort: 15001 }],
  ])('NAT target %s ends the walk with ACCEPT and a request', (spec, nat) => {
    const nf = load(`*nat\n-A PREROUTING ${spec}\n-A PREROUTING -j ACCEPT\nCOMMIT\n`);
    const r = run(nf, 'nat', 'PREROUTING');
    expect(r.verdict).toBe('ACCEPT');
    expect(r.nat).toMatchObject(nat);
    expect(r.matched).toHaveLength(1);
  });

  it('SNAT carries its range and flags', () => {
    const nf = load('*nat\n-A POSTROUTING -p tcp -j SNAT --to-source 192.0.2.1:1024-2048 --random-fully\nCOMMIT\n');
    expect(run(nf, 'nat', 'POSTROUTING').nat).toMatchObject({
      kind: 'SNAT',
      randomFully: true,
      range: { minIp: ip('192.0.2.1'), minPort: 1024, maxPort: 2048 },
    });
  });

  it('LOG and NFLOG record and continue; NOTRACK and CT --notrack flag the packet', () => {
    const nf = load(
      '*raw\n-A PREROUTING -j LOG --log-prefix "raw: " --log-level 6\n-A PREROUTING -j NFLOG --nflog-group 86 --nflog-prefix x\n-A PREROUTING -j CT --notrack\n-A OUTPUT -j NOTRACK\nCOMMIT\n',
    );
    const r = run(nf, 'raw', 'PREROUTING');
    expect(r.logs.map((l) => [l.kind, l.prefix, l.level])).toEqual([
      ['LOG', 'raw: ', 6],
      ['NFLOG', 'x', 86],
    ]);
    expect([r.notrack, r.verdict, r.policy]).toEqual([true, 'ACCEPT', true]);
    expect(run(nf, 'raw', 'OUTPUT').notrack).toBe(true);
  });

  it.each([
    ['--set-xmark 0x10/0xff', 0, 0x1234, 0x1210, 0],
    ['--save-mark --mask 0xff', 0x33, 0xff00, 0xff33, 0x33],
    ['--restore-mark --mask 0xff', 0x100, 0xab, undefined, 0x1ab],
  ])('CONNMARK %s (mark %s, ctmark %s) → ctmark %s, mark %s', (opt, mark, ctmark, newCt, newMark) => {
    const nf = load(`*mangle\n-A PREROUTING -j CONNMARK ${opt}\nCOMMIT\n`);
    const r = run(nf, 'mangle', 'PREROUTING', pkt({ mark }), { conntrack: { state: 'ESTABLISHED', mark: ctmark } });
    expect(r.connmark).toBe(newCt);
    expect(r.mark).toBe(newMark === 0 ? mark : newMark);
  });

  it('a rule without a target only counts', () => {
    const nf = load('*filter\n-A INPUT -m comment --comment "just counting"\n-A INPUT -j DROP\nCOMMIT\n');
    const r = run(nf, 'filter', 'INPUT');
    expect(r.matched.map((m) => m.ruleNumber)).toEqual([1, 2]);
    expect(r.verdict).toBe('DROP');
  });
});

describe('evaluateChain on the upstream kube-proxy ruleset', () => {
  const nf = load(readNetfilterFixture('save/kube-proxy-overall.rules'));
  const nodeIps = new Set([ip('192.168.0.2'), ip('127.0.0.1')]);
  const ctx: Partial<EvaluateContext> = {
    addrType: (a) => (nodeIps.has(a) ? 'LOCAL' : 'UNICAST'),
    sideEffects: false,
  };

  /** Every DNAT target a packet can reach, trying both answers of each statistic draw (as upstream's tracer). */
  function endpoints(p: PacketView): string[] {
    const out = new Set<string>();
    const explore = (script: readonly boolean[]): void => {
      let i = 0;
      let open = false;
      const r = run(nf, 'nat', 'PREROUTING', p, {
        ...ctx,
        choose: () => {
          if (i < script.length) return script[i++] as boolean;
          open = true;
          return false;
        },
      });
      if (open) {
        explore([...script, true]);
        explore([...script, false]);
        return;
      }
      const range = r.nat?.kind === 'DNAT' ? r.nat.range : undefined;
      if (range?.minIp !== undefined) {
        const a = range.minIp;
        out.add(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}:${range.minPort}`);
      }
    };
    explore([]);
    return [...out].sort();
  }

  it.each([
    ['pod to cluster IP of svc1', pkt({ dst: ip('172.30.0.41') }), ['10.180.0.1:80']],
    ['pod to cluster IP of svc4 (two endpoints)', pkt({ dst: ip('172.30.0.44') }), ['10.180.0.4:80', '10.180.0.5:80']],
    ['external IP of svc4', pkt({ src: ip('192.0.2.9'), dst: ip('192.168.99.33') }), ['10.180.0.4:80', '10.180.0.5:80']],
    ['node port of svc3 on the node IP', pkt({ src: ip('192.0.2.9'), dst: ip('192.168.0.2'), dport: 3003 }), ['10.180.0.3:80']],
    ['LB IP of svc5 from an allowed source', pkt({ src: ip('203.0.113.7'), dst: ip('5.6.7.8') }), ['10.180.0.3:80']],
    ['LB IP of svc5 from a blocked source', pkt({ src: ip('198.51.100.7'), dst: ip('5.6.7.8') }), []],
    ['cluster IP on a wrong port', pkt({ dst: ip('172.30.0.41'), dport: 81 }), []],
  ])('%s → %o', (_name, p, expected) => {
    expect(endpoints(p)).toEqual(expected);
  });

  it('marks traffic from outside the cluster CIDR for masquerade on the way to a cluster IP', () => {
    const r = run(nf, 'nat', 'PREROUTING', pkt({ src: ip('192.0.2.9'), dst: ip('172.30.0.41') }), { ...ctx, choose: () => false });
    expect(r.matched.map((m) => m.chain)).toEqual(['PREROUTING', 'KUBE-SERVICES', 'KUBE-SVC-XPGD46QRK7WJZT7O', 'KUBE-MARK-MASQ', 'KUBE-SVC-XPGD46QRK7WJZT7O', 'KUBE-SEP-SXIVWICOYRO3J4NJ']);
    expect(r.mark).toBe(0x4000);
  });

  it('REJECTs a service without endpoints in filter KUBE-SERVICES', () => {
    const r = run(nf, 'filter', 'OUTPUT', pkt({ dst: ip('172.30.0.46') }), { ...ctx, conntrack: { state: 'NEW' } });
    expect([r.verdict, r.reject, r.decidedBy?.chain]).toEqual(['REJECT', 'icmp-port-unreachable', 'KUBE-SERVICES']);
  });

  it('remembers the client for session affinity (KUBE-SEP --set, KUBE-SVC --rcheck)', () => {
    const live = load(readNetfilterFixture('save/kube-proxy-overall.rules'));
    const p = pkt({ dst: ip('172.30.0.45') });
    const first = evaluateChain(live, 'nat', 'PREROUTING', p, { now: 0, choose: () => true, addrType: ctx.addrType! });
    expect(first.matched.some((m) => m.spec.includes('--rcheck'))).toBe(false);
    const again = evaluateChain(live, 'nat', 'PREROUTING', p, { now: 5e9, choose: () => true, addrType: ctx.addrType! });
    expect(again.matched.find((m) => m.chain === 'KUBE-SVC-NUKIZ6OKUXPJNT4C' && m.spec.includes('--rcheck'))?.ruleNumber).toBe(2);
  });
});

describe('evaluateChain index', () => {
  it('gives the same walk with and without the destination index on a large mixed chain', () => {
    const rng = new SeededRng(7);
    const lines = ['*filter', ':BIG - [0:0]', '-A INPUT -j BIG'];
    const addr = (): string => `10.0.${rng.nextU32() % 4}.${rng.nextU32() % 8}`;
    for (let i = 0; i < 400; i++) {
      const kind = rng.nextU32() % 5;
      if (kind === 0) lines.push(`-A BIG -d ${addr()} -p tcp --dport ${80 + (rng.nextU32() % 3)} -j ACCEPT`);
      else if (kind === 1) lines.push(`-A BIG -p udp --dport ${50 + (rng.nextU32() % 5)} -j DROP`);
      else if (kind === 2) lines.push(`-A BIG ! -d ${addr()} -p tcp -j LOG`);
      else if (kind === 3) lines.push(`-A BIG -d 10.0.${rng.nextU32() % 4}.0/24 -j LOG --log-prefix x`);
      else lines.push(`-A BIG -d ${addr()} -j DROP`);
    }
    lines.push('COMMIT');
    const nf = load(`${lines.join('\n')}\n`);
    for (let k = 0; k < 300; k++) {
      const p = pkt({ dst: ip(addr()), protocol: rng.nextU32() % 2 === 0 ? 6 : 17, dport: [80, 81, 82, 50, 51, 52][rng.nextU32() % 6] ?? 80 });
      const a = evaluateChain(nf, 'filter', 'INPUT', p, { now: 0, sideEffects: false });
      const b = evaluateChain(nf, 'filter', 'INPUT', p, { now: 0, sideEffects: false }, { index: false });
      expect(a.matched.map((m) => m.text)).toEqual(b.matched.map((m) => m.text));
      expect(a.verdict).toBe(b.verdict);
      expect(a.traversed).toBeLessThanOrEqual(b.traversed);
    }
  });
});

describe('evaluateChain on a large kube-proxy payload', () => {
  it('examines a handful of rules, not the whole of KUBE-SERVICES, to reach the last service', async () => {
    const { kubeProxyPayload, KUBE_PROXY_NAT_HOOKS, generatedService } = await import('../../../test/fixtures/netfilter/kube-proxy-payload.js');
    const nf = createNetfilterState();
    applyIptablesRestore(nf, kubeProxyPayload({ services: 2000, endpoints: 2 }));
    applyIptablesRestore(nf, KUBE_PROXY_NAT_HOOKS, { noflush: true });
    const last = generatedService(1999);
    const p = pkt({ dst: ip(last.clusterIp), dport: last.port });
    const indexed = evaluateChain(nf, 'nat', 'PREROUTING', p, { now: 0, choose: () => false, addrType: () => 'UNICAST', sideEffects: false });
    const scanned = evaluateChain(nf, 'nat', 'PREROUTING', p, { now: 0, choose: () => false, addrType: () => 'UNICAST', sideEffects: false }, { index: false });
    expect(indexed.nat?.kind).toBe('DNAT');
    expect(indexed.matched.map((m) => m.text)).toEqual(scanned.matched.map((m) => m.text));
    expect(scanned.traversed).toBeGreaterThan(2000);
    expect(indexed.traversed).toBeLessThan(20);
  });
});
