/**
 * Differential test against the real kernel: the same ruleset is loaded into a throwaway
 * namespace with iptables-legacy-restore and into knet; the same packets are sent for real
 * (Node sockets and ping from a second namespace) and evaluated by knet in kernel hook order;
 * then every rule counter (packets and bytes) must agree. Needs root, iptables-legacy, ipset and
 * ping; skips with the reason printed otherwise.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../ip/ipv4.js';
import { applyIpsetRestore } from '../ipset/ipset-restore.js';
import type { AddrType, NetfilterTableName } from './netfilter-types.js';
import type { ConntrackView, PacketView } from './evaluate-types.js';
import { evaluateChain } from './evaluate-chain.js';
import { applyIptablesRestore } from './iptables-restore.js';
import { formatIptablesSave } from './iptables-save.js';
import { createNetfilterState } from './netfilter-state.js';
import { tableBlocks } from '../../../test/fixtures/netfilter/netfilter-fixtures.js';

function sh(cmd: string, args: readonly string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 30000 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root';
  for (const tool of ['ip', 'iptables-legacy-restore', 'iptables-legacy-save', 'ipset', 'ping']) {
    if (sh('sh', ['-c', `command -v ${tool}`]).code !== 0) return `${tool} not found`;
  }
  return undefined;
}

const reason = skipReason();
if (reason !== undefined) console.warn(`skipping the netfilter kernel differential test: ${reason}`);

const A = `knet-nfd${process.pid}-a`;
const B = `knet-nfd${process.pid}-b`;

const IPSET = 'create allow hash:ip\nadd allow 10.99.0.3\n';

const RULES = `*mangle
-A PREROUTING -p udp -m udp --dport 5000:5999 -j MARK --set-xmark 0x4000/0x4000
-A PREROUTING -s 10.99.0.3 -j MARK --or-mark 0x1
COMMIT
*nat
:DNAT-TEST - [0:0]
-A PREROUTING -p udp -m udp --dport 7000 -j DNAT-TEST
-A DNAT-TEST -m statistic --mode nth --every 2 --packet 0 -p udp -j DNAT --to-destination 10.99.0.2:7001
-A DNAT-TEST -p udp -j DNAT --to-destination 10.99.0.2:7002
COMMIT
*filter
:INPUT ACCEPT [0:0]
:SVC - [0:0]
:LOGDROP - [0:0]
:G - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -p icmp -m set --match-set allow src -j ACCEPT
-A INPUT -p icmp --icmp-type echo-request -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A INPUT -m mark --mark 0x4000/0x4000 -j SVC
-A INPUT -p udp -m multiport --dports 53,123,7001:7002 -j ACCEPT
-A INPUT -p udp --dport 9000 -m recent --name R --set -j ACCEPT
-A INPUT -p udp --dport 9001 -m recent --name R --rcheck --seconds 60 -j ACCEPT
-A INPUT -p udp --dport 9001 -j REJECT --reject-with icmp-admin-prohibited
-A INPUT -p tcp --syn --dport 22 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 80 -m addrtype --dst-type LOCAL -g G
-A INPUT -m addrtype --dst-type BROADCAST -j DROP
-A INPUT -p tcp ! --dport 443 -m state --state NEW -j LOGDROP
-A INPUT -m conntrack --ctstate DNAT -m comment --comment "translated"
-A INPUT -m comment --comment "count the rest"
-A SVC -s 10.99.0.3 -j RETURN
-A SVC -p udp --dport 5000 -j ACCEPT
-A SVC -j DROP
-A G -p tcp -m mark --mark 0x1/0x1 -j REJECT --reject-with tcp-reset
-A G -j RETURN
-A LOGDROP -j LOG --log-prefix "knet-drop "
-A LOGDROP -j DROP
COMMIT
`;

/** One packet A sends to B, and what knet needs to know about it. */
interface Sent {
  readonly kind: 'udp' | 'tcp' | 'ping';
  readonly src: string;
  readonly sport: number;
  readonly dst: string;
  readonly dport: number;
  /** UDP payload or ping data size. */
  readonly size: number;
  /** ping count (each echo is a packet). */
  readonly count?: number;
}

const PACKETS: readonly Sent[] = [
  { kind: 'ping', src: '10.99.0.1', sport: 0, dst: '10.99.0.2', dport: 0, size: 56, count: 2 },
  { kind: 'ping', src: '10.99.0.3', sport: 0, dst: '10.99.0.2', dport: 0, size: 32 },
  { kind: 'udp', src: '10.99.0.1', sport: 40001, dst: '10.99.0.2', dport: 53, size: 10 },
  { kind: 'udp', src: '10.99.0.1', sport: 40002, dst: '10.99.0.2', dport: 5000, size: 20 },
  { kind: 'udp', src: '10.99.0.3', sport: 40003, dst: '10.99.0.2', dport: 5000, size: 21 },
  { kind: 'udp', src: '10.99.0.1', sport: 40004, dst: '10.99.0.2', dport: 5500, size: 22 },
  { kind: 'udp', src: '10.99.0.1', sport: 40005, dst: '10.99.0.2', dport: 9001, size: 23 },
  { kind: 'udp', src: '10.99.0.1', sport: 40006, dst: '10.99.0.2', dport: 9000, size: 24 },
  { kind: 'udp', src: '10.99.0.1', sport: 40007, dst: '10.99.0.2', dport: 9001, size: 25 },
  { kind: 'udp', src: '10.99.0.1', sport: 40008, dst: '10.99.0.2', dport: 7000, size: 26 },
  { kind: 'udp', src: '10.99.0.1', sport: 40009, dst: '10.99.0.2', dport: 7000, size: 27 },
  { kind: 'udp', src: '10.99.0.1', sport: 40010, dst: '10.99.0.2', dport: 7000, size: 28 },
  { kind: 'tcp', src: '10.99.0.1', sport: 40011, dst: '10.99.0.2', dport: 22, size: 0 },
  { kind: 'tcp', src: '10.99.0.1', sport: 40012, dst: '10.99.0.2', dport: 80, size: 0 },
  { kind: 'tcp', src: '10.99.0.3', sport: 40013, dst: '10.99.0.2', dport: 80, size: 0 },
  { kind: 'tcp', src: '10.99.0.1', sport: 40014, dst: '10.99.0.2', dport: 8080, size: 0 },
  { kind: 'udp', src: '10.99.0.1', sport: 40015, dst: '10.99.0.255', dport: 9999, size: 29 },
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
      const s = dgram.createSocket('udp4');
      await new Promise((r) => s.bind(Number(sport), src, r));
      s.setBroadcast(true);
      await new Promise((r) => s.send(Buffer.alloc(Number(size), 120), Number(dport), dst, r));
      s.close();
    } else {
      await new Promise((r) => {
        const c = net.connect({ host: dst, port: Number(dport), localAddress: src, localPort: Number(sport) });
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

const B_LOCAL = new Set([parseIpv4('10.99.0.2'), parseIpv4('127.0.0.1')]);
function addrType(a: number): AddrType {
  if (B_LOCAL.has(a)) return 'LOCAL';
  if (a === parseIpv4('10.99.0.255')) return 'BROADCAST';
  return 'UNICAST';
}

/** knet's view of the packets above, walked through B's hooks. */
function simulate(): string {
  const nf = createNetfilterState();
  applyIpsetRestore(nf.ipsets, IPSET);
  applyIptablesRestore(nf, RULES);
  let now = 0;
  for (const s of PACKETS) {
    const packets: { view: PacketView; ct: ConntrackView }[] = [];
    const base = { src: parseIpv4(s.src), dst: parseIpv4(s.dst), inIface: 'eth0', mark: 0, fragment: false, ttl: 64 };
    if (s.kind === 'ping') {
      for (let i = 0; i < (s.count ?? 1); i++) {
        // The second echo of a ping run finds its connection established by the first reply.
        packets.push({
          view: { ...base, protocol: 1, icmpType: 8, icmpCode: 0, length: 28 + s.size },
          ct: { state: i === 0 ? 'NEW' : 'ESTABLISHED' },
        });
      }
    } else if (s.kind === 'udp') {
      packets.push({ view: { ...base, protocol: 17, sport: s.sport, dport: s.dport, length: 28 + s.size }, ct: { state: 'NEW' } });
    } else {
      // Linux's SYN: 20 bytes of IP, 20 of TCP, 20 of options (MSS, SACK, timestamps, window scale).
      packets.push({ view: { ...base, protocol: 6, sport: s.sport, dport: s.dport, tcpFlags: 0x02, length: 60 }, ct: { state: 'NEW' } });
    }
    for (const p of packets) {
      now += 1e8;
      let view = p.view;
      let ct = p.ct;
      for (const [table, chain] of INPUT_PATH) {
        if (table === 'nat' && ct.state !== 'NEW') continue;
        const r = evaluateChain(nf, table, chain, view, { now, addrType, conntrack: ct });
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

/** The lines of the chains knet walks (policy lines of other built-in chains count B's own replies). */
function comparable(save: string): Map<string, string> {
  const walked = new Set(INPUT_PATH.map(([t, c]) => `${t} ${c}`));
  const out = new Map<string, string>();
  for (const [table, block] of tableBlocks(save)) {
    const kept = block
      .split('\n')
      .filter((l) => {
        const policy = /^:(\S+) (ACCEPT|DROP) /.exec(l);
        return policy === null || walked.has(`${table} ${policy[1] ?? ''}`);
      })
      .join('\n');
    out.set(table, kept);
  }
  return out;
}

describe.skipIf(reason !== undefined)('evaluateChain against the kernel (real packets in knet-nfd namespaces)', () => {
  let real = '';
  beforeAll(() => {
    const run = (...args: string[]): void => {
      const r = sh(args[0] ?? '', args.slice(1));
      if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.err}`);
    };
    run('ip', 'netns', 'add', A);
    run('ip', 'netns', 'add', B);
    run('ip', '-n', A, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', B);
    run('ip', '-n', A, 'addr', 'add', '10.99.0.1/24', 'brd', '10.99.0.255', 'dev', 'eth0');
    run('ip', '-n', A, 'addr', 'add', '10.99.0.3/24', 'dev', 'eth0');
    run('ip', '-n', B, 'addr', 'add', '10.99.0.2/24', 'brd', '10.99.0.255', 'dev', 'eth0');
    for (const ns of [A, B]) {
      run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
      run('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
    }
    const ipset = sh('ip', ['netns', 'exec', B, 'ipset', 'restore'], IPSET);
    if (ipset.code !== 0) throw new Error(ipset.err);
    const restore = sh('ip', ['netns', 'exec', B, 'iptables-legacy-restore'], RULES);
    if (restore.code !== 0) throw new Error(restore.err);
    for (const s of PACKETS) {
      if (s.kind === 'ping') {
        sh('ip', ['netns', 'exec', A, 'ping', '-n', '-q', '-c', String(s.count ?? 1), '-i', '0.2', '-W', '1', '-s', String(s.size), '-I', s.src, s.dst]);
      } else {
        sh('ip', ['netns', 'exec', A, process.execPath, '-e', SENDER, [s.kind, s.src, s.sport, s.dst, s.dport, s.size].join(',')]);
      }
    }
    real = sh('ip', ['netns', 'exec', B, 'iptables-legacy-save', '-c']).out;
  }, 60000);

  afterAll(() => {
    sh('ip', ['netns', 'del', A]);
    sh('ip', ['netns', 'del', B]);
  });

  it.each(['filter', 'nat', 'mangle'])('%s: every rule counter and the walked policies agree with the kernel', (table) => {
    expect(comparable(simulate()).get(table)).toBe(comparable(real).get(table));
  });

  it('the kernel saw traffic on most rules (the test exercises them)', () => {
    const counted = [...real.matchAll(/^\[(\d+):\d+\] -A/gm)].filter((m) => m[1] !== '0').length;
    expect(counted).toBeGreaterThanOrEqual(20);
  });
});

const CA = `knet-nfd${process.pid}-c`;
const CR = `knet-nfd${process.pid}-r`;
const CS = `knet-nfd${process.pid}-s`;

/** kube-proxy-shaped rules on a router: a UDP ClusterIP with affinity and the masquerade mark. */
const ROUTER_RULES = `*nat
:KUBE-SERVICES - [0:0]
:KUBE-SVC-TEST - [0:0]
:KUBE-SEP-ONE - [0:0]
:KUBE-SEP-TWO - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SERVICES -m comment --comment "default/dns:dns cluster IP" -m udp -p udp -d 10.96.0.10 --dport 53 -j KUBE-SVC-TEST
-A KUBE-SVC-TEST -m comment --comment "default/dns:dns cluster IP" -m udp -p udp -d 10.96.0.10 --dport 53 ! -s 10.99.0.0/30 -j KUBE-MARK-MASQ
-A KUBE-SVC-TEST -m comment --comment "default/dns:dns -> 10.98.0.3:53" -m recent --name KUBE-SEP-TWO --rcheck --seconds 10800 --reap -j KUBE-SEP-TWO
-A KUBE-SVC-TEST -m comment --comment "default/dns:dns -> 10.98.0.2:53" -m statistic --mode random --probability 0.0000000000 -j KUBE-SEP-ONE
-A KUBE-SVC-TEST -m comment --comment "default/dns:dns -> 10.98.0.3:53" -j KUBE-SEP-TWO
-A KUBE-SEP-ONE -m comment --comment default/dns:dns -s 10.98.0.2 -j KUBE-MARK-MASQ
-A KUBE-SEP-ONE -m comment --comment default/dns:dns -m udp -p udp -j DNAT --to-destination 10.98.0.2:53
-A KUBE-SEP-TWO -m comment --comment default/dns:dns -s 10.98.0.3 -j KUBE-MARK-MASQ
-A KUBE-SEP-TWO -m comment --comment default/dns:dns -m recent --name KUBE-SEP-TWO --set -m udp -p udp -j DNAT --to-destination 10.98.0.3:53
COMMIT
*filter
:KUBE-FORWARD - [0:0]
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate DNAT -m comment --comment "translated"
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
`;

/** UDP queries the client sends to the ClusterIP: source address and port. */
const QUERIES: readonly [string, number][] = [
  ['10.99.0.1', 41001],
  ['10.99.0.1', 41002],
  ['10.99.0.5', 41003],
  ['10.99.0.5', 41004],
  ['10.99.0.1', 41005],
];

/** The chains a forwarded packet walks (no mangle or raw table is loaded on the router). */
const FORWARD_PATH: readonly [NetfilterTableName, string][] = [
  ['nat', 'PREROUTING'],
  ['filter', 'FORWARD'],
  ['nat', 'POSTROUTING'],
];

function simulateRouter(): string {
  const nf = createNetfilterState();
  applyIptablesRestore(nf, ROUTER_RULES);
  let now = 0;
  for (const [src, sport] of QUERIES) {
    now += 1e8;
    let view: PacketView = {
      src: parseIpv4(src),
      dst: parseIpv4('10.96.0.10'),
      protocol: 17,
      sport,
      dport: 53,
      inIface: 'eth0',
      mark: 0,
      length: 28 + 12,
      fragment: false,
      ttl: 64,
    };
    let ct: ConntrackView = { state: 'NEW' };
    for (const [table, chain] of FORWARD_PATH) {
      if (chain === 'FORWARD' || chain === 'POSTROUTING') view = { ...view, outIface: 'eth1' };
      const r = evaluateChain(nf, table, chain, view, { now, conntrack: ct, choose: (p) => p >= 1 });
      view = { ...view, mark: r.mark };
      if (r.nat?.kind === 'DNAT' && r.nat.range?.minIp !== undefined) {
        view = { ...view, dst: r.nat.range.minIp, dport: r.nat.range.minPort ?? 53 };
        ct = { ...ct, dnat: true };
      }
      if (r.verdict !== 'ACCEPT') break;
    }
  }
  return formatIptablesSave(nf, { counters: true });
}

describe.skipIf(reason !== undefined)('evaluateChain against the kernel on a forwarding path (kube-proxy-shaped nat)', () => {
  let real = '';
  beforeAll(() => {
    const run = (...args: string[]): void => {
      const r = sh(args[0] ?? '', args.slice(1));
      if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.err}`);
    };
    for (const ns of [CA, CR, CS]) run('ip', 'netns', 'add', ns);
    run('ip', '-n', CA, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', CR);
    run('ip', '-n', CS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', CR);
    run('ip', '-n', CA, 'addr', 'add', '10.99.0.1/24', 'dev', 'eth0');
    run('ip', '-n', CA, 'addr', 'add', '10.99.0.5/24', 'dev', 'eth0');
    run('ip', '-n', CR, 'addr', 'add', '10.99.0.2/24', 'dev', 'eth0');
    run('ip', '-n', CR, 'addr', 'add', '10.98.0.1/24', 'dev', 'eth1');
    run('ip', '-n', CS, 'addr', 'add', '10.98.0.2/24', 'dev', 'eth0');
    run('ip', '-n', CS, 'addr', 'add', '10.98.0.3/24', 'dev', 'eth0');
    for (const ns of [CA, CR, CS]) {
      run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
      run('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
    }
    run('ip', '-n', CR, 'link', 'set', 'eth1', 'up');
    run('ip', '-n', CA, 'route', 'add', 'default', 'via', '10.99.0.2');
    run('ip', '-n', CS, 'route', 'add', 'default', 'via', '10.98.0.1');
    run('ip', 'netns', 'exec', CR, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    // The endpoints drop the queries silently, so no ICMP error comes back through the router.
    const drop = sh('ip', ['netns', 'exec', CS, 'iptables-legacy-restore'], '*filter\n-A INPUT -p udp -j DROP\nCOMMIT\n');
    if (drop.code !== 0) throw new Error(drop.err);
    const restore = sh('ip', ['netns', 'exec', CR, 'iptables-legacy-restore'], ROUTER_RULES);
    if (restore.code !== 0) throw new Error(restore.err);
    const args = QUERIES.map(([src, sport]) => ['udp', src, sport, '10.96.0.10', 53, 12].join(','));
    const sent = sh('ip', ['netns', 'exec', CA, process.execPath, '-e', SENDER, ...args]);
    if (sent.code !== 0) throw new Error(sent.err);
    real = sh('ip', ['netns', 'exec', CR, 'iptables-legacy-save', '-c']).out;
  }, 60000);

  afterAll(() => {
    for (const ns of [CA, CR, CS]) sh('ip', ['netns', 'del', ns]);
  });

  it.each(['filter', 'nat'])('%s: every rule and policy counter agrees with the kernel', (table) => {
    const walked = new Set(FORWARD_PATH.map(([t, c]) => `${t} ${c}`));
    const keep = (save: string): string | undefined =>
      tableBlocks(save)
        .get(table)
        ?.split('\n')
        .filter((l) => {
          const policy = /^:(\S+) (ACCEPT|DROP) /.exec(l);
          return policy === null || walked.has(`${table} ${policy[1] ?? ''}`);
        })
        .join('\n');
    expect(keep(simulateRouter())).toBe(keep(real));
  });

  it('the kernel masqueraded the queries from outside 10.99.0.0/30 only', () => {
    expect(real).toMatch(/^\[2:80\] -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully$/m);
  });
});
