/**
 * Differential test of the IPv6 engine against the real kernel: the same ip6tables ruleset is
 * loaded into a throwaway namespace with ip6tables-legacy-restore and into a knet IPv6 state;
 * the same packets are sent for real (Node sockets and ping -6 from a second namespace, static
 * neighbours and no DAD, so no neighbour discovery) and evaluated by knet in kernel hook order;
 * then every rule counter (packets and bytes) must agree. The first rule of each walked chain
 * accepts the ICMPv6 the kernel sends on its own (MLD reports) and is left out of the
 * comparison. Needs root, ip6tables-legacy and ping; skips with the reason printed otherwise.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableBlocks } from '../../../test/fixtures/netfilter/netfilter-fixtures.js';
import type { AddrType, NetfilterTableName } from './netfilter-types.js';
import type { ConntrackView, Ip6PacketView } from './evaluate-types.js';
import { evaluateChain } from './evaluate-chain.js';
import { applyIptablesRestore } from './iptables-restore.js';
import { formatIptablesSave } from './iptables-save.js';
import { formatIpv6Words, tryParseIpv6Words, type Ipv6Words } from './ipv6-words.js';
import { createNetfilterState } from './netfilter-state.js';

function sh(cmd: string, args: readonly string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 30000 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root';
  for (const tool of ['ip', 'ip6tables-legacy-restore', 'ip6tables-legacy-save', 'ping']) {
    if (sh('sh', ['-c', `command -v ${tool}`]).code !== 0) return `${tool} not found`;
  }
  return undefined;
}

const reason = skipReason();
if (reason !== undefined) console.warn(`skipping the ip6tables kernel differential test: ${reason}`);

const A = `knet-nf6d${process.pid}-a`;
const B = `knet-nf6d${process.pid}-b`;

const RULES = `*mangle
-A PREROUTING -p ipv6-icmp -m icmp6 ! --icmpv6-type echo-request -j ACCEPT
-A PREROUTING -p udp -m udp --dport 5000:5999 -j MARK --set-xmark 0x4000/0x4000
-A PREROUTING -s fd99::3 -j MARK --or-mark 0x1
COMMIT
*nat
:DNAT-TEST - [0:0]
-A PREROUTING -p udp -m udp --dport 7000 -j DNAT-TEST
-A DNAT-TEST -m statistic --mode nth --every 2 --packet 0 -p udp -j DNAT --to-destination [fd99::2]:7001
-A DNAT-TEST -p udp -j DNAT --to-destination [fd99::2]:7002
COMMIT
*filter
:SVC - [0:0]
:LOGDROP - [0:0]
:G - [0:0]
-A INPUT -p ipv6-icmp -m icmp6 ! --icmpv6-type echo-request -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -s fd99::3 -p icmpv6 -j ACCEPT
-A INPUT -p icmpv6 --icmpv6-type echo-request -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A INPUT -m mark --mark 0x4000/0x4000 -j SVC
-A INPUT -p udp -m multiport --dports 53,123,7001:7002 -j ACCEPT
-A INPUT -p udp --dport 9000 -m recent --name R --set --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0 -j ACCEPT
-A INPUT -p udp --dport 9001 -m recent --name R --rcheck --seconds 60 --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0 -j ACCEPT
-A INPUT -p udp --dport 9001 -j REJECT --reject-with icmp6-adm-prohibited
-A INPUT -p tcp --syn --dport 22 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 80 -m addrtype --dst-type LOCAL -g G
-A INPUT -d fd99::/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00 -p udp --dport 8000 -j ACCEPT
-A INPUT -m addrtype --dst-type UNICAST,LOCAL -p udp --dport 8001 -j ACCEPT
-A INPUT ! -s fd99::1 -p udp -j DROP
-A INPUT -p tcp ! --dport 443 -m state --state NEW -j LOGDROP
-A INPUT -m comment --comment "count the rest"
-A SVC -s fd99::3 -j RETURN
-A SVC -p udp --dport 5000 -j ACCEPT
-A SVC -j DROP
-A G -p tcp -m mark --mark 0x1/0x1 -j REJECT --reject-with tcp-reset
-A G -j RETURN
-A LOGDROP -j LOG --log-prefix "knet-drop6 "
-A LOGDROP -j DROP
COMMIT
`;

/** One packet A sends to B. */
interface Sent {
  readonly kind: 'udp' | 'tcp' | 'ping';
  readonly src: string;
  readonly sport: number;
  readonly dport: number;
  /** UDP payload or ping data size. */
  readonly size: number;
  readonly count?: number;
}

const DST = 'fd99::2';

const PACKETS: readonly Sent[] = [
  { kind: 'ping', src: 'fd99::1', sport: 0, dport: 0, size: 56, count: 2 },
  { kind: 'ping', src: 'fd99::3', sport: 0, dport: 0, size: 32 },
  { kind: 'udp', src: 'fd99::1', sport: 40001, dport: 53, size: 10 },
  { kind: 'udp', src: 'fd99::1', sport: 40002, dport: 5000, size: 20 },
  { kind: 'udp', src: 'fd99::3', sport: 40003, dport: 5000, size: 21 },
  { kind: 'udp', src: 'fd99::1', sport: 40004, dport: 5500, size: 22 },
  { kind: 'udp', src: 'fd99::1', sport: 40005, dport: 9001, size: 23 },
  { kind: 'udp', src: 'fd99::1', sport: 40006, dport: 9000, size: 24 },
  { kind: 'udp', src: 'fd99::3', sport: 40007, dport: 9001, size: 25 },
  { kind: 'udp', src: 'fd99::1', sport: 40008, dport: 7000, size: 26 },
  { kind: 'udp', src: 'fd99::1', sport: 40009, dport: 7000, size: 27 },
  { kind: 'udp', src: 'fd99::1', sport: 40010, dport: 7000, size: 28 },
  { kind: 'udp', src: 'fd99::3', sport: 40011, dport: 8000, size: 29 },
  { kind: 'udp', src: 'fd99::3', sport: 40012, dport: 8001, size: 30 },
  { kind: 'udp', src: 'fd99::3', sport: 40013, dport: 8002, size: 31 },
  { kind: 'tcp', src: 'fd99::1', sport: 40014, dport: 22, size: 0 },
  { kind: 'tcp', src: 'fd99::1', sport: 40015, dport: 80, size: 0 },
  { kind: 'tcp', src: 'fd99::3', sport: 40016, dport: 80, size: 0 },
  { kind: 'tcp', src: 'fd99::1', sport: 40017, dport: 8080, size: 0 },
];

/** Sends the packets with Node's own sockets (run inside the client namespace). */
const SENDER = `
const dgram = require('node:dgram');
const net = require('node:net');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  for (const spec of process.argv.slice(1)) {
    const [kind, src, sport, dst, dport, size] = spec.split(',');
    if (kind === 'udp') {
      const s = dgram.createSocket('udp6');
      await new Promise((r) => s.bind(Number(sport), src, r));
      await new Promise((r) => s.send(Buffer.alloc(Number(size), 120), Number(dport), dst, r));
      s.close();
    } else {
      await new Promise((r) => {
        const c = net.connect({ host: dst, port: Number(dport), localAddress: src, localPort: Number(sport), family: 6 });
        const done = () => { c.destroy(); r(); };
        c.on('error', done);
        c.on('connect', done);
        setTimeout(done, 300);
      });
    }
    await sleep(50);
  }
})();
`;

/** The chains knet walks for a packet delivered locally, in hook order (raw is not loaded). */
const INPUT_PATH: readonly [NetfilterTableName, string][] = [
  ['mangle', 'PREROUTING'],
  ['nat', 'PREROUTING'],
  ['mangle', 'INPUT'],
  ['filter', 'INPUT'],
  ['nat', 'INPUT'],
];

function ipv6(text: string): Ipv6Words {
  const w = tryParseIpv6Words(text);
  if (w === undefined) throw new Error(`bad address ${text}`);
  return w;
}

const B_LOCAL = new Set([DST, '::1']);
function addrType6(a: Ipv6Words): AddrType {
  return B_LOCAL.has(formatIpv6Words(a)) ? 'LOCAL' : 'UNICAST';
}

/** knet's view of the packets above, walked through B's hooks. */
function simulate(): string {
  const nf = createNetfilterState({ family: 'ipv6' });
  applyIptablesRestore(nf, RULES);
  let now = 0;
  for (const s of PACKETS) {
    const packets: { view: Ip6PacketView; ct: ConntrackView }[] = [];
    const base = { src: ipv6(s.src), dst: ipv6(DST), inIface: 'eth0', mark: 0, fragment: false, ttl: 64 };
    if (s.kind === 'ping') {
      for (let i = 0; i < (s.count ?? 1); i++) {
        // ICMPv6 echo: 40 bytes of IPv6 header, 8 of ICMPv6, the data.
        packets.push({ view: { ...base, protocol: 58, icmpType: 128, icmpCode: 0, length: 48 + s.size }, ct: { state: i === 0 ? 'NEW' : 'ESTABLISHED' } });
      }
    } else if (s.kind === 'udp') {
      packets.push({ view: { ...base, protocol: 17, sport: s.sport, dport: s.dport, length: 48 + s.size }, ct: { state: 'NEW' } });
    } else {
      // Linux's SYN: 40 bytes of IPv6, 20 of TCP, 20 of options.
      packets.push({ view: { ...base, protocol: 6, sport: s.sport, dport: s.dport, tcpFlags: 0x02, length: 80 }, ct: { state: 'NEW' } });
    }
    for (const p of packets) {
      now += 1e8;
      let view = p.view;
      let ct = p.ct;
      for (const [table, chain] of INPUT_PATH) {
        if (table === 'nat' && ct.state !== 'NEW') continue;
        const r = evaluateChain(nf, table, chain, view, { now, addrType6, conntrack: ct });
        view = { ...view, mark: r.mark };
        if (r.nat?.kind === 'DNAT' && r.nat.range?.minPort !== undefined) {
          view = { ...view, dport: r.nat.range.minPort };
          ct = { ...ct, dnat: true };
        }
        if (r.verdict !== 'ACCEPT') break;
      }
    }
  }
  return formatIptablesSave(nf, { counters: true });
}

/** The rule lines of the walked chains, without the rule that takes the kernel's own ICMPv6. */
function comparable(save: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [table, block] of tableBlocks(save)) {
    out.set(
      table,
      block
        .split('\n')
        .filter((l) => !l.startsWith(':') && !l.includes('! --icmpv6-type 128'))
        .join('\n'),
    );
  }
  return out;
}

describe.skipIf(reason !== undefined)('evaluateChain with an IPv6 state against the kernel (real packets in knet-nf6d namespaces)', () => {
  let real = '';
  beforeAll(() => {
    const run = (...args: string[]): string => {
      const r = sh(args[0] ?? '', args.slice(1));
      if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.err}`);
      return r.out;
    };
    for (const ns of [A, B]) {
      run('ip', 'netns', 'add', ns);
      for (const key of ['all.disable_ipv6=0', 'default.disable_ipv6=0', 'all.accept_dad=0', 'default.accept_dad=0']) {
        run('ip', 'netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${key}`);
      }
    }
    run('ip', '-n', A, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', B);
    run('ip', '-n', A, 'addr', 'add', 'fd99::1/64', 'dev', 'eth0', 'nodad');
    run('ip', '-n', A, 'addr', 'add', 'fd99::3/64', 'dev', 'eth0', 'nodad');
    run('ip', '-n', B, 'addr', 'add', 'fd99::2/64', 'dev', 'eth0', 'nodad');
    for (const ns of [A, B]) {
      run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
      run('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
    }
    const mac = (ns: string): string => (JSON.parse(run('ip', '-j', '-n', ns, 'link', 'show', 'eth0')) as { address: string }[])[0]?.address ?? '';
    run('ip', '-n', A, 'neigh', 'add', DST, 'lladdr', mac(B), 'dev', 'eth0', 'nud', 'permanent');
    for (const src of ['fd99::1', 'fd99::3']) run('ip', '-n', B, 'neigh', 'add', src, 'lladdr', mac(A), 'dev', 'eth0', 'nud', 'permanent');
    const restore = sh('ip', ['netns', 'exec', B, 'ip6tables-legacy-restore'], RULES);
    if (restore.code !== 0) throw new Error(restore.err);
    for (const s of PACKETS) {
      if (s.kind === 'ping') {
        sh('ip', ['netns', 'exec', A, 'ping', '-6', '-n', '-q', '-c', String(s.count ?? 1), '-i', '0.2', '-W', '1', '-s', String(s.size), '-I', s.src, DST]);
      } else {
        sh('ip', ['netns', 'exec', A, process.execPath, '-e', SENDER, [s.kind, s.src, s.sport, DST, s.dport, s.size].join(',')]);
      }
    }
    real = sh('ip', ['netns', 'exec', B, 'ip6tables-legacy-save', '-c']).out;
  }, 60000);

  afterAll(() => {
    sh('ip', ['netns', 'del', A]);
    sh('ip', ['netns', 'del', B]);
  });

  it.each(['filter', 'nat', 'mangle'])('%s: every rule counter agrees with the kernel', (table) => {
    expect(comparable(simulate()).get(table)).toBe(comparable(real).get(table));
  });

  it('the kernel saw traffic on most rules (the test exercises them)', () => {
    const counted = [...real.matchAll(/^\[(\d+):\d+\] -A/gm)].filter((m) => m[1] !== '0').length;
    expect(counted).toBeGreaterThanOrEqual(20);
  });
});
