// Benchmark (root, Linux): (a) the ADD latency of knet's kubenet CNI plugin against Debian's
// reference plugins (/usr/lib/cni: bridge with host-local, and loopback) for the same
// configuration, side by side, each ADD a fresh pod namespace in knet-bench-<pid>-* namespaces,
// run as a runtime runs a plugin (`ip netns exec NODE PLUGIN`, CNI_* in the environment, the
// config on stdin). knet's plugin is measured as deployed: the launcher `knet-kubenet` with
// `knet-kubenet-agent` running in the node's namespace; and, for comparison, without an agent
// (the launcher then runs knet-kubenet-cni.js with Node.js). (b) `knet lab up`, `lab check` and
// `lab down` for N nodes × P pods. Everything is deleted afterwards.
// Usage: node bench/lab-and-cni.mjs [adds=100] [nodes=3] [pods-per-node=10]
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const ADDS = Number(process.argv[2] ?? 100);
const NODES = Number(process.argv[3] ?? 3);
const PODS = Number(process.argv[4] ?? 10);
const REF_DIR = ['/usr/lib/cni', '/opt/cni/bin'].find((d) => ['bridge', 'host-local', 'loopback'].every((p) => existsSync(join(d, p))));
const KNET_DIST = new URL('../packages/kubenet/dist/bin/knet-kubenet-cni.js', import.meta.url).pathname;
const AGENT_DIST = new URL('../packages/kubenet/dist/bin/knet-kubenet-agent.js', import.meta.url).pathname;
const AGENT_BASE = '/run/knet/cni';
const CLI = new URL('../apps/cli/dist/knet.js', import.meta.url).pathname;
const PREFIX = `knet-bench-${process.pid}-`;
const ENV = { ...process.env, PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`, LC_ALL: 'C' };

if (typeof process.geteuid !== 'function' || process.geteuid() !== 0) throw new Error('run as root (network namespaces)');
if (REF_DIR === undefined) throw new Error('the reference plugins are not installed (apt-get install containernetworking-plugins)');
for (const f of [KNET_DIST, AGENT_DIST, CLI]) if (!existsSync(f)) throw new Error(`${f} is missing: pnpm build:cli && pnpm --filter @knet/kubenet build`);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

function batch(lines) {
  const r = spawnSync('ip', ['-batch', '-'], { input: `${lines.join('\n')}\n`, encoding: 'utf8', env: ENV });
  if (r.status !== 0) throw new Error(`ip -batch: ${r.stderr}`);
}

function cleanup() {
  const names = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(PREFIX)) : [];
  if (names.length > 0) spawnSync('ip', ['-force', '-batch', '-'], { input: names.map((n) => `netns del ${n}`).join('\n') + '\n', env: ENV });
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
/** CPU time (user + system, ms) of this process's reaped children so far (/proc/self/stat cutime + cstime). */
function childrenCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK;
}
/** CPU time of every invocation, by plugin. */
const cpu = new Map();

// A runtime's way of running a plugin, as containerd and CRI-O do through Go's os/exec: the
// config written to a pipe, standard output read from a pipe (Node's child processes get socket
// pairs instead). A perl process, started once, runs each invocation and times it (fork to
// reaped), so that the figures exclude talking to it. Requests: one JSON line
// {argv, env, stdin}; answers: `<ms> <exit status>` and the output's length.
const PIPE_RUNTIME = String.raw`
use strict; use warnings; use POSIX (); use Time::HiRes qw(time);
$| = 1;
while (my $line = <STDIN>) {
  chomp $line;
  my ($argv, $env, $in) = split /	/, $line, 3;
  my @argv = map { pack('H*', $_) } split / /, $argv;
  my %env = map { my ($k, $v) = split /=/, pack('H*', $_), 2; ($k, $v) } split / /, $env;
  my $stdin = pack('H*', $in);
  pipe(my $ir, my $iw) or die; pipe(my $or, my $ow) or die;
  my $t0 = time;
  my $pid = fork();
  if ($pid == 0) {
    close $iw; close $or;
    POSIX::dup2(fileno($ir), 0); POSIX::dup2(fileno($ow), 1);
    %ENV = %env; exec { $argv[0] } @argv; POSIX::_exit(127);
  }
  close $ir; close $ow;
  print $iw $stdin; close $iw;
  my $out = do { local $/; <$or> }; close $or;
  waitpid($pid, 0);
  my $ms = (time - $t0) * 1000;
  printf "%.3f %d %s
", $ms, $? >> 8, unpack('H*', $out // '');
}
`;
const hex = (t) => Buffer.from(t, 'utf8').toString('hex');
let pipeRuntime;
function pipeInvoke(argv, env, stdin) {
  if (pipeRuntime === undefined) {
    const child = spawn('perl', ['-e', PIPE_RUNTIME], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buf = '';
    const waiting = [];
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const l = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        waiting.shift()(l);
      }
    });
    pipeRuntime = { child, waiting };
  }
  return new Promise((resolve) => {
    pipeRuntime.waiting.push((l) => {
      const [ms, code, out] = l.split(' ');
      resolve({ ms: Number(ms), code: Number(code), stdout: Buffer.from(out ?? '', 'hex').toString('utf8') });
    });
    const envText = Object.entries(env).map(([k, v]) => hex(`${k}=${v}`)).join(' ');
    pipeRuntime.child.stdin.write(`${argv.map(hex).join(' ')}\t${envText}\t${hex(stdin)}\n`);
  });
}

/** Runs one plugin invocation through the pipe runtime; resolves with the wall time in ms. */
async function invokePiped(plugin, command, node, pod, id, conf) {
  const env = {
    PATH: ENV.PATH,
    LC_ALL: 'C',
    CNI_COMMAND: command,
    CNI_CONTAINERID: id,
    CNI_NETNS: pod === undefined ? '' : `/run/netns/${pod}`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: REF_DIR,
  };
  const r = await pipeInvoke(['ip', 'netns', 'exec', node, plugin], env, JSON.stringify(conf));
  if (r.code !== 0) throw new Error(`${plugin} ${command} ${id}: exit ${r.code}: ${r.stdout}`);
  return r.ms;
}

/** Runs one plugin invocation as a CNI runtime does; resolves with the wall time in ms. */
function invoke(plugin, command, node, pod, id, conf, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const c0 = childrenCpuMs();
    const t0 = performance.now();
    const child = spawn('ip', ['netns', 'exec', node, plugin], {
      env: {
        ...ENV,
        CNI_COMMAND: command,
        CNI_CONTAINERID: id,
        CNI_NETNS: pod === undefined ? '' : `/run/netns/${pod}`,
        CNI_IFNAME: 'eth0',
        CNI_PATH: REF_DIR,
        ...extraEnv,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      const key = `${plugin} ${command} ${node}${extraEnv.NODE_OPTIONS !== undefined ? ' traced' : ''}`;
      cpu.set(key, [...(cpu.get(key) ?? []), childrenCpuMs() - c0]);
      if (code !== 0) reject(new Error(`${plugin} ${command} ${id}: exit ${code}: ${out} ${err}`));
      else resolve(ms);
    });
    // A plugin that fails before reading its config must show its error, not an EPIPE here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(conf));
  });
}

/** The bridge keys kubenet generates (promiscuous-bridge), for `type`. */
function conf(type, dataDir) {
  return {
    cniVersion: '1.0.0',
    name: 'bench',
    type,
    bridge: 'cbr0',
    mtu: 1460,
    isGateway: true,
    ipMasq: false,
    hairpinMode: false,
    promiscMode: true,
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir },
  };
}

// A preload that logs every child process the knet executable starts (and the time spent in it).
const SPAWN_TRACER = `import cp from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { appendFileSync } from 'node:fs';
const log = process.env.KNET_BENCH_SPAWN_LOG;
const rec = (o) => appendFileSync(log, JSON.stringify(o) + '\\n');
const spawn = cp.spawn;
const spawnSync = cp.spawnSync;
cp.spawn = function (file, args, opts) {
  const t = performance.now();
  const c = spawn.call(this, file, args, opts);
  c.on('close', () => rec({ cmd: [file, ...(args ?? [])].join(' '), t, ms: performance.now() - t }));
  return c;
};
cp.spawnSync = function (file, args, opts) {
  const t = performance.now();
  const r = spawnSync.call(this, file, args, opts);
  rec({ cmd: [file, ...(args ?? [])].join(' '), t, ms: performance.now() - t });
  return r;
};
syncBuiltinESMExports();
rec({ preloadAt: performance.now() });
process.on('exit', () => rec({ exitAt: performance.now() }));
`;

/** The executables, copied once: a rebuild of the package meanwhile must not change what is measured. */
let KNET = KNET_DIST;
/** The launcher, written by `knet-kubenet-agent install` next to the copies. */
let LAUNCHER = '';

/** Starts knet-kubenet-agent inside `node` and resolves once it serves. */
async function startAgent(node, agentJs) {
  const child = spawn('ip', ['netns', 'exec', node, process.execPath, agentJs], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const dir = join(AGENT_BASE, `knet-kubenet.${child.pid}`);
  for (let i = 0; i < 400 && !existsSync(join(dir, 'netns')); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!existsSync(join(dir, 'netns'))) throw new Error(`knet-kubenet-agent did not start: ${log}`);
  return {
    stop: () =>
      new Promise((resolve) => {
        child.on('close', resolve);
        child.kill('SIGTERM');
      }),
  };
}

async function cniBench() {
  cleanup();
  const work = mkdtempSync(join(tmpdir(), 'knet-bench-cni-'));
  KNET = join(work, 'knet-kubenet-cni.js');
  copyFileSync(KNET_DIST, KNET);
  chmodSync(KNET, 0o755);
  const agentJs = join(work, 'knet-kubenet-agent.js');
  copyFileSync(AGENT_DIST, agentJs);
  const bin = join(work, 'bin');
  mkdirSync(bin);
  const installed = spawnSync(process.execPath, [agentJs, 'install', bin], { encoding: 'utf8' });
  if (installed.status !== 0) throw new Error(`knet-kubenet-agent install: ${installed.stderr}`);
  LAUNCHER = join(bin, 'knet-kubenet');
  const sides = {
    ref: { node: `${PREFIX}ref-node`, pods: [], dataDir: join(work, 'ref'), add: [], lo: [] },
    knet: { node: `${PREFIX}knet-node`, pods: [], dataDir: join(work, 'knet'), add: [], del: [] },
    oneshot: { node: `${PREFIX}once-node`, pods: [], dataDir: join(work, 'once'), add: [] },
    refPiped: { node: `${PREFIX}refp-node`, pods: [], dataDir: join(work, 'refp'), add: [] },
    knetPiped: { node: `${PREFIX}knetp-node`, pods: [], dataDir: join(work, 'knetp'), add: [] },
    traced: { node: `${PREFIX}trace-node`, pods: [], dataDir: join(work, 'trace'), add: [] },
  };
  const TRACED = Math.min(20, ADDS);
  for (const [k, s] of Object.entries(sides)) s.pods = Array.from({ length: k === 'traced' ? TRACED : ADDS }, (_, i) => `${PREFIX}${k}-p${i}`);
  batch(Object.values(sides).flatMap((s) => [`netns add ${s.node}`, ...s.pods.map((p) => `netns add ${p}`)]));
  let agent;
  let agentPiped;
  try {
    agent = await startAgent(sides.knet.node, agentJs);
    agentPiped = await startAgent(sides.knetPiped.node, agentJs);
    const refConf = conf('bridge', sides.ref.dataDir);
    const knetConf = conf('knet-kubenet', sides.knet.dataDir);
    const loConf = { cniVersion: '1.0.0', name: 'bench', type: 'loopback' };
    // Start-up alone: VERSION (no kernel work).
    const refVersion = [];
    const knetVersion = [];
    const oneshotVersion = [];
    for (let i = 0; i < 20; i++) {
      refVersion.push(await invoke(join(REF_DIR, 'bridge'), 'VERSION', sides.ref.node, undefined, 'v', refConf));
      knetVersion.push(await invoke(LAUNCHER, 'VERSION', sides.knet.node, undefined, 'v', knetConf));
      oneshotVersion.push(await invoke(LAUNCHER, 'VERSION', sides.oneshot.node, undefined, 'v', knetConf));
    }
    // Interleaved, so all see the same machine state: reference loopback, reference bridge, knet
    // through its agent, knet without an agent.
    for (let i = 0; i < ADDS; i++) {
      sides.ref.lo.push(await invoke(join(REF_DIR, 'loopback'), 'ADD', sides.ref.node, sides.ref.pods[i], `c${i}`, loConf));
      sides.ref.add.push(await invoke(join(REF_DIR, 'bridge'), 'ADD', sides.ref.node, sides.ref.pods[i], `c${i}`, refConf));
      sides.knet.add.push(await invoke(LAUNCHER, 'ADD', sides.knet.node, sides.knet.pods[i], `c${i}`, knetConf));
      sides.oneshot.add.push(await invoke(LAUNCHER, 'ADD', sides.oneshot.node, sides.oneshot.pods[i], `c${i}`, conf('knet-kubenet', sides.oneshot.dataDir)));
      // Through pipes, as Go runtimes run plugins.
      sides.refPiped.add.push(await invokePiped(join(REF_DIR, 'bridge'), 'ADD', sides.refPiped.node, sides.refPiped.pods[i], `c${i}`, conf('bridge', sides.refPiped.dataDir)));
      sides.knetPiped.add.push(await invokePiped(LAUNCHER, 'ADD', sides.knetPiped.node, sides.knetPiped.pods[i], `c${i}`, conf('knet-kubenet', sides.knetPiped.dataDir)));
    }
    // DEL through the agent, against the reference's (loopback, then bridge, as kubenet ran them).
    const refDel = [];
    for (let i = 0; i < ADDS; i++) {
      const lo = await invoke(join(REF_DIR, 'loopback'), 'DEL', sides.ref.node, sides.ref.pods[i], `c${i}`, loConf);
      refDel.push(lo + (await invoke(join(REF_DIR, 'bridge'), 'DEL', sides.ref.node, sides.ref.pods[i], `c${i}`, refConf)));
      sides.knet.del.push(await invoke(LAUNCHER, 'DEL', sides.knet.node, sides.knet.pods[i], `c${i}`, knetConf));
    }
    // Where knet's time goes: the same ADDs with every child process logged.
    const log = join(work, 'spawns.jsonl');
    const tracer = join(work, 'tracer.mjs');
    writeFileSync(tracer, SPAWN_TRACER);
    const traced = [];
    for (let i = 0; i < TRACED; i++) {
      writeFileSync(log, '');
      const ms = await invoke(KNET, 'ADD', sides.traced.node, sides.traced.pods[i], `c${i}`, conf('knet-kubenet', sides.traced.dataDir), {
        NODE_OPTIONS: `--import ${tracer}`,
        KNET_BENCH_SPAWN_LOG: log,
      });
      const recs = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const spawns = recs.filter((r) => r.cmd !== undefined);
      const preloadAt = recs.find((r) => r.preloadAt !== undefined)?.preloadAt ?? 0;
      const exitAt = recs.find((r) => r.exitAt !== undefined)?.exitAt ?? 0;
      const nsExec = spawns.filter((x) => x.cmd.startsWith('ip netns exec ')).length;
      const ip = spawns.filter((x) => /^(ip|bridge) /.test(x.cmd)).length - nsExec;
      traced.push({
        ms,
        boot: preloadAt,
        firstSpawn: spawns.length > 0 ? spawns[0].t - preloadAt : 0,
        inChildren: spawns.reduce((a, s) => a + s.ms, 0),
        spawns: spawns.length,
        inProcess: exitAt,
        ip,
        nsExec,
      });
    }
    const knetMs = median(sides.knet.add);
    const oneshotMs = median(sides.oneshot.add);
    const refMs = median(sides.ref.add);
    const refLoMs = median(sides.ref.add.map((x, i) => x + sides.ref.lo[i]));
    const t = (k) => median(traced.map((x) => x[k]));
    const meanCpu = (plugin, node) => {
      const xs = cpu.get(`${plugin} ADD ${node}`) ?? [];
      return round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
    };
    return {
      knetPipedAddMs: round(median(sides.knetPiped.add)),
      refPipedAddMs: round(median(sides.refPiped.add)),
      ratioPiped: round(median(sides.knetPiped.add) / median(sides.refPiped.add), 2),
      knetAddMs: round(knetMs),
      knetAddP90Ms: round([...sides.knet.add].sort((a, b) => a - b)[Math.floor(0.9 * (sides.knet.add.length - 1))]),
      knetDelMs: round(median(sides.knet.del)),
      refLoopbackBridgeDelMs: round(median(refDel)),
      knetNoAgentAddMs: round(oneshotMs),
      knetNoAgentAddCpuMs: meanCpu(LAUNCHER, sides.oneshot.node),
      refAddCpuMs: meanCpu(join(REF_DIR, 'bridge'), sides.ref.node),
      refLoopbackAddCpuMs: meanCpu(join(REF_DIR, 'loopback'), sides.ref.node),
      refAddMs: round(refMs),
      ratio: round(knetMs / refMs, 2),
      refLoopbackBridgeAddMs: round(refLoMs),
      ratioKubenetEquivalent: round(knetMs / refLoMs, 2),
      knetVersionMs: round(median(knetVersion)),
      knetNoAgentVersionMs: round(median(oneshotVersion)),
      refVersionMs: round(median(refVersion)),
      knetTracedAddMs: round(t('ms')),
      knetBootMs: round(t('boot')),
      knetLoadToFirstSpawnMs: round(t('firstSpawn')),
      knetChildProcesses: t('spawns'),
      knetInChildrenMs: round(t('inChildren')),
      knetProcessMs: round(t('inProcess')),
      loadAvg1: round(loadavg()[0], 1),
    };
  } finally {
    await agent?.stop();
    await agentPiped?.stop();
    pipeRuntime?.child.stdin.end();
    cleanup();
    rmSync(work, { recursive: true, force: true });
  }
}

function labManifests() {
  const items = [{ apiVersion: 'knet.dev/v1alpha1', kind: 'KnetCluster', metadata: { name: 'bench' }, spec: { cni: { plugin: 'kubenet' }, kubeProxy: { mode: 'iptables' } } }];
  for (let n = 0; n < NODES; n++) {
    items.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: `node-${n}` },
      spec: { podCIDR: `10.244.${n}.0/24` },
      status: { addresses: [{ type: 'InternalIP', address: `172.18.0.${n + 2}` }] },
    });
    for (let p = 0; p < PODS; p++) {
      items.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `app-${n}-${p}`, namespace: 'default', labels: { app: `app-${p % 3}` } },
        spec: { nodeName: `node-${n}`, containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 8080, protocol: 'TCP' }] }] },
        status: { podIP: `10.244.${n}.${p + 2}` },
      });
    }
  }
  // Three Services, each with the pods of its app as endpoints (what the EndpointSlice controller writes).
  for (let s = 0; s < 3; s++) {
    items.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `app-${s}`, namespace: 'default' },
      spec: { clusterIP: `10.96.0.${s + 10}`, selector: { app: `app-${s}` }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
    });
    const endpoints = [];
    for (let n = 0; n < NODES; n++) {
      for (let p = s; p < PODS; p += 3) endpoints.push({ addresses: [`10.244.${n}.${p + 2}`], conditions: { ready: true, serving: true, terminating: false }, nodeName: `node-${n}` });
    }
    items.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `app-${s}-abcde`, namespace: 'default', labels: { 'kubernetes.io/service-name': `app-${s}` } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints,
    });
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

function cli(args, env) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { ms: performance.now() - t0, code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function labBench() {
  const dir = mkdtempSync(join(tmpdir(), 'knet-bench-lab-'));
  const file = join(dir, 'cluster.json');
  writeFileSync(file, labManifests());
  const name = `kb${process.pid}`;
  const env = { ...ENV, KNET_LAB_DIR: join(dir, 'labs') };
  try {
    const up = cli(['lab', 'up', '-f', file, '--name', name], env);
    if (up.code !== 0) throw new Error(`lab up: ${up.stderr}`);
    const check = cli(['lab', 'check', '--name', name, '-o', 'json'], env);
    const c = JSON.parse(check.stdout);
    const down = cli(['lab', 'down', '--name', name], env);
    if (down.code !== 0) throw new Error(`lab down: ${down.stderr}`);
    return { labUpMs: Math.round(up.ms), labCheckMs: Math.round(check.ms), labProbes: c.probes, labDisagreements: c.disagreements, labDownMs: Math.round(down.ms) };
  } finally {
    cli(['lab', 'down', '--name', name], env);
    rmSync(dir, { recursive: true, force: true });
  }
}

const cni = await cniBench();
const lab = labBench();
process.stdout.write(`${JSON.stringify({ ...cni, ...lab })}\n`);
