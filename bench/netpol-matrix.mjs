// Benchmark: the NetworkPolicy reachability matrix for P pods in N namespaces under K policies
// (issue 5: 5,000 pods in 100 namespaces, 1,000 policies; target ≤ 10 s and ≤ 2 GiB).
// Usage: node bench/netpol-matrix.mjs [pods] [namespaces] [policies]
// Prints one JSON line: load (manifests → ClusterState), index (buildPolicyIndex), matrix
// (computeReachabilityMatrix for TCP/8080 over every ordered pair), one evaluateConnection with
// its explanation (p50/p99 over 10,000 random pairs), allowed pairs and peak RSS.
import { performance } from 'node:perf_hooks';
import { buildClusterState, buildPolicyIndex, computeReachabilityMatrix, evaluateConnection, isReachable, loadManifests } from '../packages/core/dist/index.js';

const PODS = Number(process.argv[2] ?? 5000);
const NAMESPACES = Number(process.argv[3] ?? 100);
const POLICIES = Number(process.argv[4] ?? 1000);
const PODS_PER_NODE = 50;

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
}
const r = rng(5);
const pick = (xs) => xs[Math.floor(r() * xs.length)];

const APPS = ['web', 'api', 'db', 'frontend', 'batch', 'public', 'cache', 'worker'];
const TIERS = ['web', 'api', 'data', 'batch'];
const TEAMS = ['red', 'blue', 'green', 'amber', 'violet'];

/** Ten policy shapes, cycled per namespace: the kinds real clusters hold. */
function policy(i, ns, nsIndex) {
  const other = `ns-${(nsIndex + 1 + (i % 7)) % NAMESPACES}`;
  const shapes = [
    { podSelector: {}, policyTypes: ['Ingress'] },
    { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'frontend' } } }], ports: [{ port: 'http' }] }] },
    {
      podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['api', 'web'] }] },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: pick(TEAMS) } } }], ports: [{ port: 8080 }, { port: 'grpc' }] }],
    },
    { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ns-0' } } }], ports: [{ port: 'metrics' }] }] },
    {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.200.0.0/16'] } }], ports: [{ port: 5432 }] }, { ports: [{ port: 53, protocol: 'UDP' }] }],
    },
    { podSelector: { matchLabels: { tier: 'batch' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'cache' } } }] }] },
    { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ ports: [{ port: 30000, endPort: 32767 }] }] },
    { podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db', 'cache'] }] }, ingress: [{ from: [{ podSelector: {} }] }] },
    {
      podSelector: { matchLabels: { app: 'cache' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': other } }, podSelector: { matchExpressions: [{ key: 'version', operator: 'Exists' }] } }] }],
    },
    { podSelector: { matchLabels: { app: 'public' } }, ingress: [{}] },
  ];
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `p${i}`, namespace: ns }, spec: shapes[i % shapes.length] };
}

function manifests() {
  const items = [{ apiVersion: 'knet.dev/v1alpha1', kind: 'KnetCluster', metadata: { name: 'bench' }, spec: { clusterCIDR: '10.0.0.0/8', fabric: { cidr: '172.16.0.0/12' } } }];
  const nodes = Math.ceil(PODS / PODS_PER_NODE);
  for (let n = 0; n < nodes; n++) {
    items.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: `node-${n}` },
      spec: { podCIDR: `10.${n >> 8}.${n & 255}.0/24` },
      status: { addresses: [{ type: 'InternalIP', address: `172.16.${(n + 2) >> 8}.${(n + 2) & 255}` }] },
    });
  }
  for (let k = 0; k < NAMESPACES; k++) {
    items.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${k}`, labels: { team: TEAMS[k % TEAMS.length], env: k % 3 === 0 ? 'prod' : 'dev' } } });
  }
  for (let p = 0; p < PODS; p++) {
    const n = Math.floor(p / PODS_PER_NODE);
    const app = pick(APPS);
    items.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${p}`, namespace: `ns-${p % NAMESPACES}`, labels: { app, tier: pick(TIERS), ...(r() < 0.5 ? { version: `v${1 + Math.floor(r() * 3)}` } : {}) } },
      spec: {
        nodeName: `node-${n}`,
        containers: [
          {
            name: 'app',
            image: 'registry.k8s.io/e2e-test-images/agnhost:2.47',
            ports: [
              { name: 'http', containerPort: pick([8080, 8000, 80]) },
              { name: 'metrics', containerPort: 9090 },
              { name: 'grpc', containerPort: pick([50051, 8080]) },
            ],
          },
        ],
      },
      status: { phase: 'Running', podIP: `10.${n >> 8}.${n & 255}.${(p % PODS_PER_NODE) + 2}` },
    });
  }
  for (let i = 0; i < POLICIES; i++) {
    const k = i % NAMESPACES;
    items.push(policy(Math.floor(i / NAMESPACES) + k, `ns-${k}`, k));
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

const text = manifests();
const t0 = performance.now();
const state = buildClusterState(loadManifests([{ file: 'bench.json', text }]));
const t1 = performance.now();
const index = buildPolicyIndex(state);
const t2 = performance.now();
const matrix = computeReachabilityMatrix(index, 8080, 'TCP');
const t3 = performance.now();
let allowedPairs = 0;
for (let a = 0; a < matrix.pods.length; a++) for (let b = 0; b < matrix.pods.length; b++) if (isReachable(matrix, a, b)) allowedPairs++;

const times = [];
const probe = rng(9);
let agree = 0;
for (let i = 0; i < 10000; i++) {
  const a = Math.floor(probe() * PODS);
  const b = Math.floor(probe() * PODS);
  const s = performance.now();
  const v = evaluateConnection(index, a, b, 8080, 'TCP');
  times.push(performance.now() - s);
  if (v.allowed === isReachable(matrix, a, b)) agree++;
}
times.sort((x, y) => x - y);
const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
console.log(
  JSON.stringify({
    pods: state.pods.length,
    namespaces: state.namespaces.length,
    policies: state.networkPolicies.length,
    loadMs: +(t1 - t0).toFixed(0),
    indexMs: +(t2 - t1).toFixed(0),
    matrixMs: +(t3 - t2).toFixed(0),
    policyMatrixMs: +(t3 - t1).toFixed(0),
    totalMs: +(t3 - t0).toFixed(0),
    pairs: matrix.pods.length ** 2,
    allowedPairs,
    explainP50Us: +(pct(50) * 1000).toFixed(1),
    explainP99Us: +(pct(99) * 1000).toFixed(1),
    explainAgreesWithMatrix: agree,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
