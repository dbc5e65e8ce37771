// Runs every benchmark several times in fresh processes and writes the medians, with the machine
// and the exact commands, to docs/benchmarks.md. Usage: node bench/run.mjs [runs] [filter]
// With a filter, only the benchmarks whose script name contains it run; the other sections of
// docs/benchmarks.md are kept as they are.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';

const RUNS = Number(process.argv[2] ?? 5);
const FILTER = process.argv[3];

/** Each benchmark: its script arguments, the fields to report, and the targets from the issues. */
const BENCHES = [
  {
    title: 'kubenet cluster: 1,000 nodes × 30 pods, 10,000 random pod-to-pod traces (issue: foundation)',
    args: ['--max-old-space-size=8192', 'bench/kubenet-cluster.mjs', '1000', '30', '10000'],
    fields: [
      ['loadMs', 'load + validate manifests (ms)'],
      ['buildMs', 'build on SimHost (ms)', 'target ≤ 5,000 ms'],
      ['traceP50Ms', 'trace p50 (ms)', 'target ≤ 1 ms'],
      ['traceP99Ms', 'trace p99 (ms)'],
      ['peakRssMiB', 'peak RSS (MiB)'],
      ['routes', 'routes installed'],
      ['delivered', 'traces delivered (of 10,000)'],
    ],
  },
  {
    title:
      'kube-proxy iptables mode: 10,000 Services × 10 endpoints on one node (85% ClusterIP, 10% NodePort, 5% LoadBalancer), rendered and applied on SimHost (issue 3)',
    args: ['bench/kube-proxy-iptables.mjs', '10000', '10', '1000'],
    fields: [
      ['renderMs', 'full sync: render (ms)', 'target ≤ 1,000 ms'],
      ['renderCpuMs', '… CPU time (ms)'],
      ['applyMs', 'full sync: iptables-restore on SimHost (ms)'],
      ['applyCpuMs', '… CPU time (ms)'],
      ['partialSyncMs', 'partial sync after one endpoint change: render + apply, median of 11 (ms)', 'target ≤ 50 ms'],
      ['partialSyncCpuMs', '… CPU time (ms)'],
      ['partialRenderMs', '… of which render (ms)'],
      ['partialApplyMs', '… of which apply (ms)'],
      ['partialFirstMs', 'first partial sync, cold (ms)'],
      ['partialRulesWritten', 'rules written by a partial sync'],
      ['traceMs', 'one packet trace, pod → last ClusterIP: nat PREROUTING, filter FORWARD, nat POSTROUTING, median of 1,000 (ms)', 'target ≤ 5 ms'],
      ['traceFirstMs', 'first trace after the syncs (builds the chain indexes) (ms)'],
      ['traceLinearMs', 'the same trace examining every rule in order, as the kernel does (ms)'],
      ['rules', 'rules in the node (all tables)'],
      ['chains', 'chains in the node'],
      ['traversed', 'rules the packet traversed (with the destination index)'],
      ['traversedLinear', 'rules the packet traversed (linear scan)'],
      ['peakRssMiB', 'peak RSS (MiB)'],
    ],
  },
  {
    title:
      "CNI ADD: knet's kubenet plugin as deployed (the launcher knet-kubenet, knet-kubenet-agent running in the node's namespace) against the reference bridge + host-local (Debian's containernetworking-plugins), median of 100 ADDs each, run as Go runtimes run plugins (config and result through pipes) and as Node.js runs them (socket pairs); knet lab up, check and down for 3 nodes × 10 pods (issue 4, root)",
    args: ['bench/lab-and-cni.mjs', '100', '3', '10'],
    fields: [
      ['knetPipedAddMs', 'knet-kubenet ADD through the agent, pipes (ms)'],
      ['refPipedAddMs', 'reference bridge + host-local ADD, pipes (ms)'],
      ['ratioPiped', 'knet ÷ reference, pipes', 'target ≤ 1.5'],
      ['knetAddMs', 'knet-kubenet ADD through the agent, socket pairs (ms)'],
      ['refAddMs', 'reference bridge + host-local ADD, socket pairs (ms)'],
      ['ratio', 'knet ÷ reference, socket pairs', 'target ≤ 1.5'],
      ['refLoopbackBridgeAddMs', 'reference loopback + bridge + host-local, what knet-kubenet does (ms)'],
      ['ratioKubenetEquivalent', 'knet ÷ reference loopback + bridge'],
      ['knetAddP90Ms', 'knet-kubenet ADD through the agent, 90th percentile (ms)'],
      ['knetDelMs', 'knet-kubenet DEL through the agent (ms)'],
      ['refLoopbackBridgeDelMs', 'reference loopback + bridge DEL (ms)'],
      ['knetVersionMs', 'knet-kubenet VERSION through the agent (ms)'],
      ['refVersionMs', 'reference bridge VERSION (ms)'],
      ['knetNoAgentAddMs', 'knet-kubenet ADD without an agent: the launcher runs Node.js (ms)'],
      ['knetNoAgentVersionMs', '… VERSION without an agent: Node.js start-up (ms)'],
      ['knetNoAgentAddCpuMs', '… ADD without an agent, CPU time (user + system, ms, mean)'],
      ['refAddCpuMs', 'reference bridge + host-local ADD, CPU time (ms, mean)'],
      ['knetBootMs', '… ADD without an agent, breakdown: Node.js boot until the first module (ms)'],
      ['knetLoadToFirstSpawnMs', '… loading the bundle, reading the config, until the first command (ms)'],
      ['knetChildProcesses', '… programs started from Node.js per ADD (helpers included)'],
      ['knetInChildrenMs', '… time until those ended (ms)'],
      ['knetProcessMs', '… whole process, traced (ms)'],
      ['loadAvg1', '1-minute load average when the ADDs ran'],
      ['labUpMs', 'knet lab up, 3 nodes × 10 pods (ms)'],
      ['labCheckMs', 'knet lab check (ms)'],
      ['labProbes', '… probes'],
      ['labDisagreements', '… disagreements'],
      ['labDownMs', 'knet lab down (ms)'],
    ],
  },
  {
    title: 'NetworkPolicy reachability matrix: 5,000 pods in 100 namespaces, 1,000 policies, TCP/8080 over all 25,000,000 ordered pairs (issue 5)',
    args: ['bench/netpol-matrix.mjs', '5000', '100', '1000'],
    fields: [
      ['loadMs', 'load + validate manifests (ms)'],
      ['indexMs', 'buildPolicyIndex (ms)'],
      ['matrixMs', 'computeReachabilityMatrix (ms)'],
      ['policyMatrixMs', 'index + matrix from the cluster state (ms)', 'target ≤ 10,000 ms'],
      ['totalMs', 'manifests to matrix (ms)'],
      ['allowedPairs', 'allowed pairs (of 25,000,000)'],
      ['explainP50Us', 'one evaluateConnection with its explanation, p50 of 10,000 (µs)'],
      ['explainP99Us', 'one evaluateConnection with its explanation, p99 (µs)'],
      ['peakRssMiB', 'peak RSS (MiB)', 'target ≤ 2,048 MiB'],
    ],
  },
  {
    title:
      'flannel: lease acquisition for 1,000 nodes against a real etcd (Debian etcd-server on 127.0.0.1); a 1,000-node × 10-pod vxlan cluster on SimHost, 2,000 random pod-to-pod traces (issue 6)',
    args: ['--max-old-space-size=8192', 'bench/flannel.mjs', '1000', '10', '2000'],
    fields: [
      ['leaseSequentialMs', '1,000 leases one after the other (ms)'],
      ['leaseP50Ms', 'one lease: range + grant + txn, p50 (ms)'],
      ['leaseP99Ms', 'one lease, p99 (ms)'],
      ['leaseRacingMs', '1,000 more leases, 50 agents racing at a time (ms)'],
      ['leaseRacesLost', 'creation races lost (and retried)'],
      ['buildMs', 'build the vxlan cluster on SimHost (ms)'],
      ['traceP50Ms', 'trace p50 (ms)'],
      ['traceP99Ms', 'trace p99 (ms)'],
      ['encapsulated', 'traces through flannel.1 (of 2,000; the rest stay on one node)'],
      ['delivered', 'traces delivered (of 2,000)'],
      ['peakRssMiB', 'peak RSS (MiB)'],
    ],
  },
];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const node = process.version;
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const machine = `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${node}, ${process.platform} ${process.arch}; load average ${loadavg()
  .map((x) => x.toFixed(1))
  .join(' / ')} (1 / 5 / 15 min) when the runs started — other work on a shared machine inflates wall times, CPU times less so`;
// The sections already written, by title, for benchmarks the filter leaves out.
let previous = new Map();
try {
  previous = new Map(readFileSync('docs/benchmarks.md', 'utf8').split(/^(?=## )/m).slice(1).map((sec) => [sec.slice(3, sec.indexOf('\n')), sec.trimEnd() + '\n']));
} catch {
  // No document yet.
}
const sections = [];
for (const b of BENCHES) {
  const script = b.args.find((a) => a.endsWith('.mjs'));
  if (FILTER !== undefined && !script.includes(FILTER)) {
    if (previous.has(b.title)) sections.push(previous.get(b.title));
    continue;
  }
  const results = [];
  for (let i = 0; i < RUNS; i++) {
    const out = execFileSync(process.execPath, b.args, { encoding: 'utf8', maxBuffer: 1 << 26 });
    results.push(JSON.parse(out.trim().split('\n').pop()));
    process.stderr.write(`${script} run ${i + 1}/${RUNS}: ${out.trim().split('\n').pop()}\n`);
  }
  const rows = b.fields.map(([k, label, target]) => `| ${label} | ${median(results.map((r) => r[k]))} | ${results.map((r) => r[k]).join(', ')} | ${target ?? ''} |`);
  sections.push([
    `## ${b.title}`,
    '',
    `Command: \`node ${b.args.join(' ')}\` (built packages: \`pnpm build:cli\` first), ${RUNS} runs, each in a fresh process.`,
    '',
    '| measure | median | runs | target |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n'));
}
const doc = `# Benchmarks

Written by \`pnpm bench\` (\`node bench/run.mjs ${RUNS}\`); do not edit by hand. Times are
wall-clock on the machine below; every number is the median of ${RUNS} runs.

Machine: ${machine}.

${sections.join('\n')}`;
writeFileSync('docs/benchmarks.md', doc);
process.stdout.write(doc);
