// Benchmark: flannel. (1) Lease acquisition for N nodes against a real etcd (Debian's
// etcd-server, started here on 127.0.0.1 with a temporary data dir): one after the other, then N
// more racing 50 at a time, with flannel's etcd subnet manager (range, grant, txn on version = 0).
// (2) An N-node cluster with flannel's vxlan backend built on SimHost, then random pod-to-pod
// traces across nodes. Usage: node bench/flannel.mjs [nodes] [pods per node] [traces]
import { performance } from 'node:perf_hooks';
import {
  SeededRng,
  buildCluster,
  buildClusterState,
  createEtcdDatastore,
  createManualClock,
  createSimHost,
  listenContainerPorts,
  loadManifests,
  resolveEndpoint,
  tracePacket,
} from '../packages/core/dist/index.js';
import { startEtcdServer } from '../packages/core/dist/linux.js';
import { createFlannelPlugin, createLocalSubnetManager } from '../packages/cni-flannel/dist/index.js';

const NODES = Number(process.argv[2] ?? 1000);
const PODS = Number(process.argv[3] ?? 10);
const TRACES = Number(process.argv[4] ?? 2000);

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

// (1) Leases in a real etcd.
const etcd = await startEtcdServer();
let lease = {};
try {
  const datastore = createEtcdDatastore({ endpoints: etcd.endpoints });
  const clock = createManualClock();
  const ip = (i) => `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  await datastore.put('/seq/config', '{"Network":"10.0.0.0/8","Backend":{"Type":"vxlan"}}');
  const times = [];
  const t0 = performance.now();
  for (let i = 0; i < NODES; i++) {
    const sm = createLocalSubnetManager({ datastore, prefix: '/seq', clock, rng: new SeededRng(`n${i}`) });
    const s = performance.now();
    await sm.acquireLease({ publicIP: ip(i + 2), backendType: 'vxlan', backendData: { VNI: 1, VtepMAC: '0e:00:00:00:00:01' } });
    times.push(performance.now() - s);
  }
  const sequentialMs = performance.now() - t0;

  // The same number of agents again, 50 at a time (each its own random source, as flanneld's
  // time-seeded one): they race for the first 100 free subnets.
  await datastore.put('/race/config', '{"Network":"10.0.0.0/8","Backend":{"Type":"vxlan"}}');
  let lost = 0;
  const counting = {
    ...datastore,
    async create(key, value, o) {
      const won = await datastore.create(key, value, o);
      if (!won) lost++;
      return won;
    },
  };
  const t1 = performance.now();
  const subnets = new Set();
  for (let i = 0; i < NODES; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(NODES, i + 50); j++) {
      const sm = createLocalSubnetManager({ datastore: counting, prefix: '/race', clock, rng: new SeededRng(`race${j}`) });
      batch.push(sm.acquireLease({ publicIP: ip(j + 2), backendType: 'vxlan' }).then((l) => subnets.add(`${l.subnet.address}/${l.subnet.prefix}`)));
    }
    await Promise.all(batch);
  }
  const racingMs = performance.now() - t1;
  if (subnets.size !== NODES) throw new Error(`racing agents got ${subnets.size} distinct subnets for ${NODES} nodes`);
  lease = {
    leaseSequentialMs: Math.round(sequentialMs),
    leaseP50Ms: +pct(times, 50).toFixed(2),
    leaseP99Ms: +pct(times, 99).toFixed(2),
    leaseRacingMs: Math.round(racingMs),
    leaseRacesLost: lost,
  };
} finally {
  await etcd.stop();
}

// (2) A vxlan cluster in simulation.
function manifests() {
  const items = [{ apiVersion: 'knet.dev/v1alpha1', kind: 'KnetCluster', metadata: { name: 'bench' }, spec: { clusterCIDR: '10.0.0.0/8', cni: { plugin: 'flannel' }, kubeProxy: { mode: 'none' }, fabric: { cidr: '172.16.0.0/12' } } }];
  for (let n = 0; n < NODES; n++) {
    const a = `172.16.${(n + 2) >> 8}.${(n + 2) & 255}`;
    items.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${n}` }, status: { addresses: [{ type: 'InternalIP', address: a }] } });
    for (let p = 0; p < PODS; p++) {
      items.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `pod-${n}-${p}`, namespace: 'default' },
        spec: { nodeName: `node-${n}`, containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 8080 }] }] },
      });
    }
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

let peak = 0;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().rss);
};
const state = buildClusterState(loadManifests([{ file: 'bench.json', text: manifests() }]));
const host = createSimHost({ seed: 1 });
const t2 = performance.now();
const cluster = await buildCluster(state, createFlannelPlugin({ backend: 'vxlan' }), host, { listen: async (ns, pod) => listenContainerPorts(host, ns, pod) });
const buildMs = performance.now() - t2;
sample();
let s = 7;
const r = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
const times = [];
let delivered = 0;
let encapsulated = 0;
for (let i = 0; i < TRACES; i++) {
  const a = `default/pod-${Math.floor(r() * NODES)}-${Math.floor(r() * PODS)}`;
  const b = `default/pod-${Math.floor(r() * NODES)}-${Math.floor(r() * PODS)}`;
  const t = performance.now();
  const res = tracePacket(cluster, host, resolveEndpoint(cluster, a), resolveEndpoint(cluster, `${b}:8080`), { proto: 'tcp', capture: false });
  times.push(performance.now() - t);
  if (res.verdict.kind === 'delivered') delivered++;
  if (res.hops.some((h) => h.step === 'encap')) encapsulated++;
  if (i % 500 === 0) sample();
}
sample();
console.log(
  JSON.stringify({
    nodes: NODES,
    ...lease,
    buildMs: Math.round(buildMs),
    pods: NODES * PODS,
    traces: TRACES,
    delivered,
    encapsulated,
    traceP50Ms: +pct(times, 50).toFixed(3),
    traceP99Ms: +pct(times, 99).toFixed(3),
    peakRssMiB: Math.round(peak / 2 ** 20),
  }),
);
