import { writeFileSync } from 'node:fs';
import {
  formatAllPathsText,
  formatTraceJson,
  formatTraceText,
  resolveEndpoint,
  traceAllPaths,
  tracePacket,
  writeTracePcap,
  type TraceResult,
} from '@knet/core';
import { UsageError } from '../cli-error.js';
import { buildSim, formatWarnings, loadState, pickPlugin } from '../load-cluster.js';

/** Options of `knet trace`. */
export interface TraceCommandOptions {
  readonly src: string;
  readonly dst: string;
  readonly proto?: string;
  readonly files: readonly string[];
  readonly cni?: string;
  readonly output: string;
  readonly pcap?: string;
  readonly count: number;
  readonly seed: number;
  readonly at?: string;
  readonly allPaths: boolean;
  /** Text output without hops: verdicts and outcomes only. */
  readonly summary?: boolean;
}

/**
 * `knet trace SRC DST[:PORT]`: builds the cluster in simulation (CNI and kube-proxy) and traces
 * packets; with `--all-paths`, every path the rules can take, each from a freshly built cluster.
 */
export async function traceCommand(o: TraceCommandOptions): Promise<{ out: string; err: string }> {
  if (o.output !== 'text' && o.output !== 'json') throw new UsageError(`-o must be text or json, not "${o.output}"`);
  if (o.proto !== undefined && !['tcp', 'udp', 'icmp'].includes(o.proto)) throw new UsageError(`--proto must be tcp, udp or icmp, not "${o.proto}"`);
  if (!(o.count >= 1 && o.count <= 100)) throw new UsageError('--count must be between 1 and 100');
  if (o.allPaths && o.count !== 1) throw new UsageError('--all-paths traces one packet per path: drop --count');
  const state = loadState(o.files);
  const plugin = pickPlugin(state, o.cni);
  const { host, cluster } = await buildSim(state, plugin, o.seed);
  const src = resolveEndpoint(cluster, o.src);
  const dst = resolveEndpoint(cluster, o.dst);
  if (src.port !== undefined) throw new UsageError(`the source cannot have a port ("${o.src}")`);
  const proto = (o.proto ?? dst.protocol ?? (dst.port !== undefined ? 'tcp' : 'icmp')) as 'tcp' | 'udp' | 'icmp';
  if (proto === 'icmp' && dst.port !== undefined && dst.kind !== 'service') throw new UsageError('ICMP has no ports: drop ":PORT" or pass --proto tcp|udp');
  const traceOptions = { proto, ...(dst.port !== undefined ? { dport: dst.port } : {}), ...(o.at !== undefined ? { at: o.at } : {}) };
  const err = formatWarnings(state);

  if (o.allPaths) {
    let first = true;
    const paths = await traceAllPaths(async (choose) => {
      // The first path reuses the cluster built above; every other path starts from scratch,
      // as conntrack and -m recent would otherwise remember the previous path.
      const b = first ? { host, cluster } : await buildSim(state, pickPlugin(state, o.cni), o.seed);
      first = false;
      return tracePacket(b.cluster, b.host, resolveEndpoint(b.cluster, o.src), resolveEndpoint(b.cluster, o.dst), { ...traceOptions, choose });
    });
    if (o.pcap !== undefined) writePcap(o.pcap, paths);
    if (o.output === 'json') return { out: formatTraceJson(paths[0]!, paths), err };
    return { out: formatAllPathsText(paths, { summary: o.summary === true }), err };
  }

  const traces: TraceResult[] = [];
  for (let i = 0; i < o.count; i++) traces.push(tracePacket(cluster, host, src, dst, traceOptions));
  if (o.pcap !== undefined) writePcap(o.pcap, traces);
  if (o.output === 'json') {
    return { out: traces.length === 1 ? formatTraceJson(traces[0]!) : `[\n${traces.map((t) => formatTraceJson(t).trimEnd()).join(',\n')}\n]\n`, err };
  }
  return { out: traces.map((t, i) => (traces.length > 1 ? `# packet ${i + 1} of ${traces.length}\n` : '') + formatTraceText(t, { summary: o.summary === true })).join('\n'), err };
}

/** One capture file for several traces, one second apart. */
function writePcap(file: string, traces: readonly TraceResult[]): void {
  const all: TraceResult = { ...traces[0]!, frames: traces.flatMap((t, i) => t.frames.map((f) => ({ ...f, time: f.time + i * 1e9 }))) };
  writeFileSync(file, writeTracePcap(all, file.endsWith('.pcapng') ? 'pcapng' : 'pcap'));
}
