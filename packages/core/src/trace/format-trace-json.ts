import type { TraceHop, TraceResult } from './trace-types.js';

/** The schema identifier carried by every JSON trace (`docs/schema/trace.md`). */
export const TRACE_SCHEMA = 'knet.dev/trace/v1';

/**
 * Renders a trace as JSON with a stable, documented schema (`docs/schema/trace.md`):
 * `{schema, request, verdict, reply?, outcomes, decisions, hops, frames}`. `outcomes` lists one
 * entry per possible fate — the given paths (from `--all-paths`), or just this trace's — each
 * with its endpoint, verdict, masquerade flag, probability and the request's hops on that path.
 * `frames` lists the captured frames' metadata (time, namespace, device, direction) without their
 * bytes (write a pcap for those).
 */
export function formatTraceJson(t: TraceResult, paths: readonly TraceResult[] = [t]): string {
  const byIndex = (r: TraceResult): ((i: number) => TraceHop) => (i) => r.hops[i]!;
  const doc = {
    schema: TRACE_SCHEMA,
    request: t.request,
    verdict: t.verdict,
    ...(t.reply !== undefined ? { reply: t.reply } : {}),
    outcomes: paths.map((p) => ({
      endpoint: p.outcome.endpoint,
      verdict: p.outcome.verdict,
      masqueraded: p.outcome.masqueraded,
      probability: p.outcome.probability,
      decisions: p.decisions,
      hops: p.outcome.hops.map(byIndex(p)),
    })),
    decisions: t.decisions,
    hops: t.hops,
    frames: t.frames.map((f, i) => ({
      index: i,
      time: f.time,
      ...(f.node !== undefined ? { node: f.node } : {}),
      netns: f.netns,
      ...(f.pod !== undefined ? { pod: f.pod } : {}),
      dev: f.dev,
      direction: f.direction,
      linktype: f.linktype,
    })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
