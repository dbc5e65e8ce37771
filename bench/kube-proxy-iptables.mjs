// Benchmark: kube-proxy's iptables mode for S Services × E endpoints on one node (issue 3,
// Performance). Renders the full payload with createIptablesProxier, applies it on a SimHost node
// namespace (iptables-restore --noflush, plus the base-chain jumps kube-proxy ensures), then a
// partial syncs after one endpoint change each (render + apply), then traces one packet from a pod to
// the ClusterIP of the last Service in KUBE-SERVICES: nat PREROUTING (seeded -m statistic draw),
// filter FORWARD (conntrack NEW) with the DNATed destination, nat POSTROUTING.
//
// Services: 85% ClusterIP, 10% NodePort, 5% LoadBalancer (with nodePort and one ingress IP), all
// TCP port 80 → targetPort 8080, eTP/iTP Cluster, no affinity; one EndpointSlice per Service with
// E ready endpoints, endpoint j on node-j (so one local endpoint per Service on node-0).
//
// Usage: node bench/kube-proxy-iptables.mjs [services] [endpoints] [traces]
import { performance } from 'node:perf_hooks';
import { createSimHost, evaluateChain, formatIpv4, parseIpv4 } from '../packages/core/dist/index.js';
import { KUBE_PROXY_CANARY_TABLES, createIptablesProxier, iptablesJumpRules } from '../packages/kube-proxy/dist/index.js';

const SERVICES = Number(process.argv[2] ?? 10000);
const ENDPOINTS = Number(process.argv[3] ?? 10);
const TRACES = Number(process.argv[4] ?? 1000);
const NODE = 'node-0';
const NODE_IP = '192.168.0.2';
const NETNS = 'knet-bench-node-0';

const endpointIP = (k) => `10.${128 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;
const clusterIP = (i) => `10.96.${i >> 8}.${i & 255}`;

function service(i) {
  const kind = i % 20 === 0 ? 'LoadBalancer' : i % 10 === 5 ? 'NodePort' : 'ClusterIP';
  const nodePort = kind === 'ClusterIP' ? undefined : 30000 + Math.floor(i / 5);
  return {
    namespace: `ns-${i % 100}`,
    name: `svc-${i}`,
    type: kind,
    clusterIP: clusterIP(i),
    ports: [{ name: 'http', protocol: 'TCP', port: 80, ...(nodePort === undefined ? {} : { nodePort }) }],
    ...(kind === 'LoadBalancer' ? { loadBalancerIPs: [`198.18.${i >> 8}.${i & 255}`] } : {}),
  };
}

function slice(i, first = 0) {
  return {
    namespace: `ns-${i % 100}`,
    name: `svc-${i}-abcde`,
    serviceName: `svc-${i}`,
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: ENDPOINTS }, (_, j) => ({ addresses: [endpointIP(first + i * ENDPOINTS + j)], ready: true, nodeName: `node-${j}` })),
  };
}

const services = Array.from({ length: SERVICES }, (_, i) => service(i));
const slices = services.map((_, i) => slice(i));
const input = { services, endpointSlices: slices };

/** CPU time (user + system) in ms since `from` (a process.cpuUsage() value): on a shared machine less noisy than wall time. */
const cpuMs = (from) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)];
};

let peak = 0;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().rss);
};

// Full sync: render, then apply as kube-proxy does on a fresh node.
const proxier = createIptablesProxier({ nodeName: NODE, nodeIPs: [NODE_IP], clusterCIDR: '10.128.0.0/9', nfacct: false });
const c0 = process.cpuUsage();
const t0 = performance.now();
const full = proxier.sync(input);
const t1 = performance.now();
const renderCpu = cpuMs(c0);
sample();
const host = createSimHost({ seed: 1 });
host.netnsAddSync(NETNS, { role: 'node', node: NODE });
const jumps = iptablesJumpRules();
const c2 = process.cpuUsage();
const t2 = performance.now();
host.iptablesRestoreSync(NETNS, KUBE_PROXY_CANARY_TABLES.map((t) => `*${t}\n:KUBE-PROXY-CANARY - [0:0]\nCOMMIT\n`).join(''), { noflush: true });
for (const table of ['filter', 'nat']) {
  const targets = [...new Set(jumps.filter((j) => j.table === table).map((j) => j.target))];
  host.iptablesRestoreSync(NETNS, `*${table}\n${targets.map((c) => `:${c} - [0:0]\n`).join('')}COMMIT\n`, { noflush: true });
}
const applied = host.iptablesRestoreSync(NETNS, full.payload, { noflush: true });
for (const table of ['filter', 'nat']) {
  host.iptablesRestoreSync(NETNS, `*${table}\n${jumps.filter((j) => j.table === table).map((j) => `${j.line}\n`).join('')}COMMIT\n`, { noflush: true });
}
const t3 = performance.now();
const applyCpu = cpuMs(c2);
sample();
if (!full.full || applied !== full.rulesWritten) throw new Error(`full sync wrote ${full.rulesWritten} rules, restore applied ${applied}`);

// Partial syncs: each replaces one endpoint of one more Service (a pod rescheduled to a new IP),
// rendered and applied; the first runs cold, the median is the steady state.
const PARTIALS = 11;
let current = slices;
const partials = [];
let partial;
for (let k = 0; k < PARTIALS; k++) {
  const changed = Math.floor(SERVICES / 2) + k;
  const next = current.slice();
  const s = current[changed];
  next[changed] = { ...s, endpoints: s.endpoints.map((e, j) => (j === 0 ? { ...e, addresses: [endpointIP(SERVICES * ENDPOINTS + k)] } : e)) };
  current = next;
  const cpu = process.cpuUsage();
  const a = performance.now();
  partial = proxier.sync({ services, endpointSlices: next });
  const b = performance.now();
  host.iptablesRestoreSync(NETNS, partial.payload, { noflush: true });
  const c = performance.now();
  if (partial.full) throw new Error('a partial sync was a full one');
  partials.push({ render: b - a, apply: c - b, total: c - a, cpu: cpuMs(cpu) });
}
sample();

const nf = host.ns(NETNS).netfilter;
let rules = 0;
let chains = 0;
for (const t of nf.tables.values()) {
  for (const c of t.chains.values()) {
    chains++;
    rules += c.rules.length;
  }
}

// One packet: a pod on this node to the ClusterIP of the last Service (its KUBE-SERVICES rule is the last but one).
const target = SERVICES - 1;
const LOCAL = new Set([parseIpv4('127.0.0.1'), parseIpv4(NODE_IP)]);
const addrType = (a) => (LOCAL.has(a) ? 'LOCAL' : 'UNICAST');
let seed = 7;
const choose = (p) => ((seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32) < p;
const packet = { src: parseIpv4('10.128.255.7'), dst: parseIpv4(clusterIP(target)), protocol: 6, sport: 40000, dport: 80, inIface: 'cbr0', mark: 0, length: 60, fragment: false };

function trace(index) {
  const opts = { index };
  const nat = evaluateChain(nf, 'nat', 'PREROUTING', packet, { now: 0, choose, addrType, sideEffects: false }, opts);
  const to = nat.nat?.kind === 'DNAT' ? nat.nat.range : undefined;
  const routed = { ...packet, dst: to?.minIp ?? packet.dst, dport: to?.minPort ?? packet.dport, outIface: 'eth0' };
  const conntrack = { state: 'NEW', dnat: to !== undefined };
  const filter = evaluateChain(nf, 'filter', 'FORWARD', routed, { now: 0, choose, addrType, conntrack, sideEffects: false }, opts);
  const post = evaluateChain(nf, 'nat', 'POSTROUTING', { ...routed, mark: nat.mark }, { now: 0, choose, addrType, conntrack, sideEffects: false }, opts);
  return { nat, filter, post, endpoint: to === undefined ? null : `${formatIpv4(to.minIp)}:${to.minPort}` };
}

const t7 = performance.now();
const first = trace(true);
const t8 = performance.now();
const times = [];
for (let i = 0; i < TRACES; i++) {
  const a = performance.now();
  trace(true);
  times.push(performance.now() - a);
}
const linearTimes = [];
let linear;
for (let i = 0; i < Math.min(TRACES, 100); i++) {
  const a = performance.now();
  linear = trace(false);
  linearTimes.push(performance.now() - a);
}
sample();
if (first.endpoint === null || first.filter.verdict !== 'ACCEPT') throw new Error(`trace did not reach an endpoint: ${JSON.stringify({ endpoint: first.endpoint, filter: first.filter.verdict })}`);
const traversed = (t) => t.nat.traversed + t.filter.traversed + t.post.traversed;
const ms = (x) => +x.toFixed(3);

console.log(
  JSON.stringify({
    services: SERVICES,
    endpointsPerService: ENDPOINTS,
    rules,
    chains,
    payloadMiB: +(full.payload.length / 2 ** 20).toFixed(1),
    renderMs: ms(t1 - t0),
    renderCpuMs: ms(renderCpu),
    applyMs: ms(t3 - t2),
    applyCpuMs: ms(applyCpu),
    fullSyncMs: ms(t1 - t0 + (t3 - t2)),
    partialFirstMs: ms(partials[0].total),
    partialRenderMs: ms(median(partials.map((x) => x.render))),
    partialApplyMs: ms(median(partials.map((x) => x.apply))),
    partialSyncMs: ms(median(partials.map((x) => x.total))),
    partialSyncCpuMs: ms(median(partials.map((x) => x.cpu))),
    partialRulesWritten: partial.rulesWritten,
    traceFirstMs: ms(t8 - t7),
    traceMs: ms(median(times)),
    traceLinearMs: ms(median(linearTimes)),
    traversed: traversed(first),
    traversedLinear: traversed(linear),
    matched: first.nat.matched.length + first.filter.matched.length + first.post.matched.length,
    endpoint: first.endpoint,
    peakRssMiB: Math.round(peak / 2 ** 20),
  }),
);
