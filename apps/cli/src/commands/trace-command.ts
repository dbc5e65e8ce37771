import { writeFileSync } from 'node:fs';
import { formatTraceJson, formatTraceText, resolveEndpoint, tracePacket, writeTracePcap, type TraceResult } from '@knet/core';
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
}

/** `knet trace SRC DST[:PORT]`: builds the cluster in simulation and traces packets. */
export async function traceCommand(o: TraceCommandOptions): Promise<{ out: string; err: string }> {
  if (o.output !== 'text' && o.output !== 'json') throw new UsageError(`-o must be text or json, not "${o.output}"`);
  if (o.proto !== undefined && !['tcp', 'udp', 'icmp'].includes(o.proto)) throw new UsageError(`--proto must be tcp, udp or icmp, not "${o.proto}"`);
  if (!(o.count >= 1 && o.count <= 100)) throw new UsageError('--count must be between 1 and 100');
  const state = loadState(o.files);
  const plugin = pickPlugin(state, o.cni);
  const { host, cluster } = await buildSim(state, plugin, o.seed);
  const src = resolveEndpoint(cluster, o.src);
  const dst = resolveEndpoint(cluster, o.dst);
  if (src.port !== undefined) throw new UsageError(`the source cannot have a port ("${o.src}"); use --sport`);
  const proto = (o.proto ?? (dst.port !== undefined ? 'tcp' : 'icmp')) as 'tcp' | 'udp' | 'icmp';
  if (proto === 'icmp' && dst.port !== undefined) throw new UsageError('ICMP has no ports: drop ":PORT" or pass --proto tcp|udp');
  const traces: TraceResult[] = [];
  for (let i = 0; i < o.count; i++) {
    traces.push(tracePacket(cluster, host, src, dst, { proto, ...(dst.port !== undefined ? { dport: dst.port } : {}) }));
  }
  if (o.pcap !== undefined) {
    const all: TraceResult = { ...traces[0]!, frames: traces.flatMap((t, i) => t.frames.map((f) => ({ ...f, time: f.time + i * 1e9 }))) };
    writeFileSync(o.pcap, writeTracePcap(all, o.pcap.endsWith('.pcapng') ? 'pcapng' : 'pcap'));
  }
  const err = formatWarnings(state);
  if (o.output === 'json') {
    return { out: traces.length === 1 ? formatTraceJson(traces[0]!) : `[\n${traces.map((t) => formatTraceJson(t).trimEnd()).join(',\n')}\n]\n`, err };
  }
  return { out: traces.map((t, i) => (traces.length > 1 ? `# packet ${i + 1} of ${traces.length}\n` : '') + formatTraceText(t)).join('\n'), err };
}
