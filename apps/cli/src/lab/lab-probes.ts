import {
  resolveEndpoint,
  traceAllPaths,
  tracePacket,
  type BuiltCluster,
  type BuiltPod,
  type SimHost,
  type TraceResult,
  type TraceVerdict,
} from '@knet/core';

/** How a real probe ended: a connection (or echo), an active refusal, or silence. */
export type ProbeOutcome = 'connected' | 'refused' | 'timeout';

/** One probe of `knet lab check`: from a pod, to a pod or a Service port. */
export interface LabProbe {
  readonly id: number;
  readonly kind: 'pod' | 'service';
  /** The source pod, `namespace/name`. */
  readonly from: string;
  readonly fromNetns: string;
  /** The destination pod (`namespace/name`) or Service port (`svc/NS/NAME:PORT`). */
  readonly to: string;
  readonly proto: 'tcp' | 'udp' | 'icmp';
  readonly ip: string;
  readonly port?: number;
}

/** What the simulation predicts for a probe: every outcome one of its paths has. */
export interface LabPrediction {
  /** The possible outcomes, unique, in the order connected, refused, timeout. */
  readonly outcomes: readonly ProbeOutcome[];
  /** How many paths the trace has (more than one when kube-proxy picks an endpoint at random). */
  readonly paths: number;
  /** For a path that does not connect: where and why the packet or its reply stopped. */
  readonly why?: string;
}

const ORDER: readonly ProbeOutcome[] = ['connected', 'refused', 'timeout'];

/** The first TCP containerPort of a pod (containers in order), if any. */
export function firstTcpPort(pod: BuiltPod): number | undefined {
  for (const c of pod.pod.containers) for (const p of c.ports) if (p.protocol === 'TCP') return p.containerPort;
  return undefined;
}

/**
 * The probes `knet lab check` runs: for every ordered pair of distinct pods a TCP connect to
 * the destination's first TCP containerPort (an ICMP echo when it has none), then for every
 * Service with a ClusterIP, every TCP and UDP port of it from every pod. Pods in manifest order.
 */
export function planLabProbes(cluster: BuiltCluster): LabProbe[] {
  const pods = [...cluster.pods.values()];
  const out: LabProbe[] = [];
  for (const from of pods) {
    const fromKey = `${from.pod.namespace}/${from.pod.name}`;
    for (const to of pods) {
      if (to === from) continue;
      const port = firstTcpPort(to);
      out.push({
        id: out.length,
        kind: 'pod',
        from: fromKey,
        fromNetns: from.netns,
        to: `${to.pod.namespace}/${to.pod.name}`,
        proto: port === undefined ? 'icmp' : 'tcp',
        ip: to.ip,
        ...(port !== undefined ? { port } : {}),
      });
    }
  }
  for (const svc of cluster.state.services) {
    if (svc.type === 'ExternalName' || svc.clusterIP === undefined || svc.clusterIP === 'None') continue;
    for (const sp of svc.ports) {
      if (sp.protocol === 'SCTP') continue;
      for (const from of pods) {
        out.push({
          id: out.length,
          kind: 'service',
          from: `${from.pod.namespace}/${from.pod.name}`,
          fromNetns: from.netns,
          to: `svc/${svc.namespace}/${svc.name}:${sp.name ?? String(sp.port)}`,
          proto: sp.protocol === 'TCP' ? 'tcp' : 'udp',
          ip: svc.clusterIP,
          port: sp.port,
        });
      }
    }
  }
  return out;
}

function describeVerdict(v: TraceVerdict): string {
  const where = v.pod ?? v.node ?? v.netns;
  return [
    v.kind,
    v.reason !== undefined ? `: ${v.reason}` : '',
    v.rule !== undefined ? ` (${v.rule})` : '',
    where !== undefined ? ` in ${where}` : '',
    v.dev !== undefined ? ` at ${v.dev}` : '',
  ].join('');
}

/**
 * What a real probe would see for a traced packet: the request delivered and its reply back →
 * `connected`; refused (TCP reset, ICMP port unreachable) or rejected by a netfilter REJECT,
 * with the answer back → `refused`; dropped or gone out of the cluster, or an answer that does
 * not make it back → `timeout`, with the reason.
 */
export function probeOutcomeOfTrace(t: TraceResult): { outcome: ProbeOutcome; why?: string } {
  const v = t.verdict;
  if (v.kind === 'dropped' || v.kind === 'left-cluster') return { outcome: 'timeout', why: describeVerdict(v) };
  const answered: ProbeOutcome = v.kind === 'delivered' ? 'connected' : 'refused';
  const r = t.reply;
  if (r !== undefined && r.kind !== 'delivered') return { outcome: 'timeout', why: `request ${describeVerdict(v)}; reply ${describeVerdict(r)}` };
  return answered === 'connected' ? { outcome: answered } : { outcome: answered, why: describeVerdict(v) };
}

/** A cluster built on SimHost, as `buildSim` returns it. */
export interface SimCluster {
  readonly host: SimHost;
  readonly cluster: BuiltCluster;
}

/**
 * Predicts a probe by tracing it through the simulation, every path of it (`traceAllPaths`: each
 * `-m statistic` choice of kube-proxy's rules both ways). Paths are traced on `sim`, whose state
 * (conntrack, ARP) carries over as in the real lab; for a Service with ClientIP affinity each
 * path starts from a freshly built cluster, since `-m recent` would remember the first path.
 */
export async function predictProbe(sim: SimCluster, probe: LabProbe, fresh: () => Promise<SimCluster>): Promise<LabPrediction> {
  const svc = probe.kind === 'service' ? sim.cluster.state.services.find((s) => probe.to.startsWith(`svc/${s.namespace}/${s.name}:`)) : undefined;
  const affinity = svc?.sessionAffinity === 'ClientIP';
  const dstText = probe.kind === 'service' ? probe.to : probe.port !== undefined ? `${probe.to}:${probe.port}` : probe.to;
  const traces = await traceAllPaths(async (choose) => {
    const b = affinity ? await fresh() : sim;
    const src = resolveEndpoint(b.cluster, probe.from);
    const dst = resolveEndpoint(b.cluster, dstText);
    return tracePacket(b.cluster, b.host, src, dst, { proto: probe.proto, ...(probe.port !== undefined ? { dport: probe.port } : {}), choose, capture: false });
  });
  const found = traces.map(probeOutcomeOfTrace);
  const outcomes = ORDER.filter((o) => found.some((f) => f.outcome === o));
  const why = found.find((f) => f.why !== undefined)?.why;
  return { outcomes, paths: traces.length, ...(why !== undefined ? { why } : {}) };
}
