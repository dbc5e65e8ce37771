import { KnetError } from '@knet/core';
import { spawnCommand } from '@knet/core/linux';
import { buildSim, pickPlugin } from '../load-cluster.js';
import { echoServerAlive } from './echo-servers.js';
import { labClusterState } from './lab-up.js';
import { mapLimit } from './map-limit.js';
import { planLabProbes, predictProbe, type LabPrediction, type LabProbe, type ProbeOutcome } from './lab-probes.js';
import { writeLabScripts } from './lab-scripts.js';
import { labFilesDir, type LabState } from './lab-state.js';

/** One probe with the simulation's prediction and what really happened. */
export interface LabProbeResult extends LabProbe {
  readonly predicted: LabPrediction;
  readonly real: ProbeOutcome;
  /** What the probe saw (`connected`, `ECONNREFUSED`, `no answer in 2000 ms`). */
  readonly realDetail: string;
  /** The real outcome is one the simulation predicts. */
  readonly agree: boolean;
}

/** What `knet lab check` found. */
export interface LabCheckResult {
  readonly lab: string;
  readonly results: readonly LabProbeResult[];
  readonly disagreements: number;
  /** Echo servers that were not running (their probes cannot connect). */
  readonly deadEchoServers: readonly string[];
  readonly elapsedMs: number;
}

/** Options of {@link labCheck}. */
export interface LabCheckOptions {
  /** How long a TCP connect or UDP echo may take (default 2,000 ms; ping waits 1 s, `-W1`). */
  readonly timeoutMs?: number;
  /** Source namespaces probed at once (default 16), each with up to 16 probes in flight. */
  readonly concurrency?: number;
  /** Seed of the simulation (default 1, as `knet trace`). */
  readonly seed?: number;
}

interface RealOutcome {
  readonly id: number;
  readonly outcome: ProbeOutcome;
  readonly detail: string;
}

/**
 * Runs one source namespace's probes for real: `ip netns exec NS node probe.mjs` with the probes
 * as JSON on standard input.
 * @throws KnetError `EIO` when the probe process fails or prints something else than its JSON.
 */
async function probeFrom(netns: string, script: string, probes: readonly LabProbe[], timeoutMs: number): Promise<RealOutcome[]> {
  const input = JSON.stringify({ timeoutMs, concurrency: 16, probes: probes.map((p) => ({ id: p.id, proto: p.proto, ip: p.ip, port: p.port })) });
  const r = await spawnCommand('ip', ['netns', 'exec', netns, process.execPath, script], { input, timeoutMs: timeoutMs * (Math.ceil(probes.length / 16) + 1) + 10_000 });
  try {
    if (r.code !== 0) throw new Error(`exit status ${String(r.code)}`);
    return JSON.parse(r.stdout.trim()) as RealOutcome[];
  } catch (e) {
    throw new KnetError('EIO', `probes from ${netns} failed (${(e as Error).message}): ${r.stderr.trim().split('\n').slice(-2).join(' / ')}`, { netns });
  }
}

/**
 * `knet lab check`: probes every pod pair and every Service port from every pod for real
 * (see {@link planLabProbes}), traces the same probes through the simulation of the same
 * manifests under the same names, and compares: a real outcome agrees when one of the traced
 * paths predicts it (connected, refused, timeout).
 *
 * @remarks Linux equivalent: `ip netns exec POD-NS` a TCP connect, UDP send/receive or
 * `ping -c1 -W1` per probe. Probes run in parallel: up to `concurrency` source namespaces at
 * once. Traffic only flows between the lab's namespaces: every destination is a pod, node or
 * ClusterIP of the lab.
 * @throws KnetError `EINVAL` when the simulation gives a pod another address than the lab has
 * (the lab and the simulation then describe different clusters).
 */
export async function labCheck(state: LabState, options: LabCheckOptions = {}): Promise<LabCheckResult> {
  const t0 = performance.now();
  const timeoutMs = options.timeoutMs ?? 2_000;
  const cstate = labClusterState(state.manifests, state.name);
  const seed = options.seed ?? 1;
  const sim = await buildSim(cstate, pickPlugin(cstate, undefined), seed);
  for (const p of state.pods) {
    const s = sim.cluster.pods.get(p.key);
    if (s === undefined || s.ip !== p.ip || s.netns !== p.netns) {
      throw new KnetError('EINVAL', `lab ${state.name}: pod ${p.key} is ${p.ip} in ${p.netns}, the simulation has ${s === undefined ? 'no such pod' : `${s.ip} in ${s.netns}`}`, {
        pod: p.key,
      });
    }
  }
  const scripts = writeLabScripts(labFilesDir(state.name));
  const deadEchoServers = state.echoServers.filter((s) => !echoServerAlive(s, scripts.echoServer)).map((s) => s.netns);

  const probes = planLabProbes(sim.cluster);
  const fresh = async () => buildSim(cstate, pickPlugin(cstate, undefined), seed);
  const predictions: LabPrediction[] = [];
  for (const p of probes) predictions.push(await predictProbe(sim, p, fresh));

  const bySource = new Map<string, LabProbe[]>();
  for (const p of probes) {
    let l = bySource.get(p.fromNetns);
    if (l === undefined) bySource.set(p.fromNetns, (l = []));
    l.push(p);
  }
  const real = new Map<number, RealOutcome>();
  await mapLimit([...bySource], options.concurrency ?? 16, async ([netns, list]) => {
    for (const r of await probeFrom(netns, scripts.probe, list, timeoutMs)) real.set(r.id, r);
  });

  const results = probes.map((p, i): LabProbeResult => {
    const r = real.get(p.id);
    if (r === undefined) throw new KnetError('EIO', `probe ${p.from} → ${p.to} gave no result`, { probe: p.id });
    const predicted = predictions[i]!;
    return { ...p, predicted, real: r.outcome, realDetail: r.detail, agree: predicted.outcomes.includes(r.outcome) };
  });
  return {
    lab: state.name,
    results,
    disagreements: results.filter((r) => !r.agree).length,
    deadEchoServers,
    elapsedMs: performance.now() - t0,
  };
}
