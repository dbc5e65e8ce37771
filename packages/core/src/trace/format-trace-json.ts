import type { TraceResult } from './trace-types.js';

/** The schema identifier carried by every JSON trace (`docs/schema/trace.md`). */
export const TRACE_SCHEMA = 'knet.dev/trace/v1';

/**
 * Renders a trace as JSON with a stable, documented schema (`docs/schema/trace.md`):
 * `{schema, request, verdict, reply?, hops, frames}` where `frames` lists the captured frames'
 * metadata (time, namespace, device, direction) without their bytes (write a pcap for those).
 */
export function formatTraceJson(t: TraceResult): string {
  const doc = {
    schema: TRACE_SCHEMA,
    request: t.request,
    verdict: t.verdict,
    ...(t.reply !== undefined ? { reply: t.reply } : {}),
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
