// Benchmark: a kubenet cluster of N nodes × P pods — load + validate the manifests, build it on
// SimHost, then trace random pod-to-pod packets. Usage: node bench/kubenet-cluster.mjs [nodes] [pods] [traces]
import { performance } from 'node:perf_hooks';
import { buildCluster, buildClusterState, createSimHost, listenContainerPorts, loadManifests, resolveEndpoint, tracePacket } from '../packages/core/dist/index.js';
import { createKubenetPlugin } from '../packages/kubenet/dist/index.js';

const NODES = Number(process.argv[2] ?? 1000);
const PODS = Number(process.argv[3] ?? 30);
const TRACES = Number(process.argv[4] ?? 10000);

function manifests() {
  const items = [{ apiVersion: 'knet.dev/v1alpha1', kind: 'KnetCluster', metadata: { name: 'bench' }, spec: { clusterCIDR: '10.0.0.0/8', fabric: { cidr: '172.16.0.0/12' } } }];
  for (let n = 0; n < NODES; n++) {
    const ip = `172.16.${(n + 2) >> 8}.${(n + 2) & 255}`;
    items.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${n}` }, status: { addresses: [{ type: 'InternalIP', address: ip }] } });
    for (let p = 0; p < PODS; p++) {
      items.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `pod-${n}-${p}`, namespace: `ns-${p % 10}`, labels: { app: `a${p}` } },
        spec: { nodeName: `node-${n}`, containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 8080 }] }] },
      });
    }
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
}

const text = manifests();
let peak = 0;
const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
const t0 = performance.now();
const state = buildClusterState(loadManifests([{ file: 'bench.json', text }]));
const t1 = performance.now();
sample();
const host = createSimHost({ seed: 1 });
const cluster = await buildCluster(state, createKubenetPlugin(), host, { listen: async (ns, pod) => listenContainerPorts(host, ns, pod) });
const t2 = performance.now();
sample();
const keys = [...cluster.pods.keys()];
const r = rng(7);
const times = [];
let delivered = 0;
for (let i = 0; i < TRACES; i++) {
  const a = keys[Math.floor(r() * keys.length)];
  const b = keys[Math.floor(r() * keys.length)];
  const s = performance.now();
  const t = tracePacket(cluster, host, resolveEndpoint(cluster, a), resolveEndpoint(cluster, `${b}:8080`), { proto: 'tcp', capture: false });
  times.push(performance.now() - s);
  if (t.verdict.kind === 'delivered') delivered++;
  if (i % 1000 === 0) sample();
}
sample();
times.sort((x, y) => x - y);
const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
console.log(JSON.stringify({
  nodes: NODES, pods: NODES * PODS, routes: NODES * (NODES - 1),
  loadMs: +(t1 - t0).toFixed(0), buildMs: +(t2 - t1).toFixed(0),
  traces: TRACES, delivered, traceP50Ms: +pct(50).toFixed(3), traceP99Ms: +pct(99).toFixed(3),
  peakRssMiB: Math.round(peak / 2 ** 20),
}));
