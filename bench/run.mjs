// Runs every benchmark several times in fresh processes and writes the medians, with the machine
// and the exact commands, to docs/benchmarks.md. Usage: node bench/run.mjs [runs]
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';

const RUNS = Number(process.argv[2] ?? 5);

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
      ['applyMs', 'full sync: iptables-restore on SimHost (ms)'],
      ['partialSyncMs', 'partial sync after one endpoint change: render + apply, median of 11 (ms)', 'target ≤ 50 ms'],
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
];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const node = process.version;
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const machine = `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${node}, ${process.platform} ${process.arch}`;
const sections = [];
for (const b of BENCHES) {
  const results = [];
  for (let i = 0; i < RUNS; i++) {
    const out = execFileSync(process.execPath, b.args, { encoding: 'utf8', maxBuffer: 1 << 26 });
    results.push(JSON.parse(out.trim().split('\n').pop()));
    process.stderr.write(`${b.args[1]} run ${i + 1}/${RUNS}: ${out.trim().split('\n').pop()}\n`);
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
void readFileSync;
