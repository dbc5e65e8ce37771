import type { TraceHop, TraceResult, TraceVerdict } from './trace-types.js';

/** Options of {@link formatTraceText}. */
export interface FormatTraceTextOptions {
  /** Only the header, verdict, reply and outcome lines (no hops). */
  readonly summary?: boolean;
  /** Show ARP hops (default true). */
  readonly arp?: boolean;
  /** Show the packet line under each hop (default true). */
  readonly packets?: boolean;
}

function where(h: Pick<TraceHop, 'node' | 'pod' | 'netns'>): string {
  if (h.pod !== undefined) return `${h.node ?? '?'}/${h.pod}`;
  if (h.node !== undefined) return h.node;
  if (h.netns.endsWith('-fabric')) return 'fabric';
  if (h.netns.endsWith('-outside')) return 'outside';
  return h.netns;
}

/** One line describing a verdict: `delivered to container cart (node-2/shop/cart-...)`. */
export function formatVerdict(v: TraceVerdict): string {
  const at = v.netns !== undefined ? ` at ${where({ netns: v.netns, ...(v.node !== undefined ? { node: v.node } : {}), ...(v.pod !== undefined ? { pod: v.pod } : {}) })}${v.dev !== undefined ? ` ${v.dev}` : ''}` : '';
  switch (v.kind) {
    case 'delivered':
      return `delivered to ${v.socket ?? 'a socket'}${at}`;
    case 'refused':
      return `refused: reached the host but nothing listens${at}`;
    case 'left-cluster':
      return `left the cluster${at}`;
    case 'dropped':
      return `dropped (${v.reason ?? 'unknown'})${at}${v.rule !== undefined ? ` by ${v.rule}` : ''}`;
    case 'rejected':
      return `rejected${at}${v.rule !== undefined ? ` by ${v.rule}` : ''}`;
  }
}

/**
 * Renders a trace for people: one numbered line per hop with where it happened (node, pod or
 * namespace, device), the step and what decided it, then the packet in tcpdump style.
 *
 * @example
 * ```ts
 * import { formatTraceText, type TraceResult } from '@knet/core';
 * declare const trace: TraceResult;
 * process.stdout.write(formatTraceText(trace));
 * ```
 */
export function formatTraceText(t: TraceResult, options: FormatTraceTextOptions = {}): string {
  const lines: string[] = [];
  const r = t.request;
  const ports = r.proto === 'icmp' ? '' : `:${r.sport ?? '?'} → `;
  lines.push(
    r.proto === 'icmp'
      ? `trace icmp ${r.src} → ${r.dst}`
      : `trace ${r.proto} ${r.src}${ports}${r.dst}:${r.dport ?? '?'}`,
  );
  if (options.summary === true) {
    lines.push(`verdict: ${formatVerdict(t.verdict)}`);
    if (t.reply !== undefined) lines.push(`reply:   ${formatVerdict(t.reply)}`);
    lines.push(`outcome: ${formatOutcome(t)}`);
    return `${lines.join('\n')}\n`;
  }
  let flow = '';
  let prevWhere = '';
  const hops = t.hops.filter((h) => options.arp !== false || h.flow !== 'arp');
  const width = String(hops.length === 0 ? 0 : hops[hops.length - 1]!.index).length;
  // ARP hops after the last request/reply hop are the neighbour layer confirming entries
  // (DELAY → PROBE, a unicast ARP about 5 s later), not part of the exchange itself.
  let lastMain = -1;
  for (const h of hops) if (h.flow !== 'arp') lastMain = h.index;
  let current: 'request' | 'reply' = 'request';
  for (const h of hops) {
    // ARP hops belong to the packet they resolve for: they stay in the current section.
    if (h.flow === 'request') current = 'request';
    else if (h.flow === 'reply' || h.flow === 'icmp-error') current = 'reply';
    const section = h.index > lastMain ? 'after' : current;
    if (section !== flow) {
      lines.push('', section === 'request' ? '── request ──' : section === 'reply' ? '── reply ──' : '── afterwards: neighbour confirmation (arp(7) DELAY → PROBE) ──');
      flow = section;
      prevWhere = '';
    }
    const w = where(h);
    if (w !== prevWhere) {
      lines.push(`  [${w}]${h.pod === undefined && h.node !== undefined ? ' (host)' : ''}`);
      prevWhere = w;
    }
    const dev = h.dev !== undefined ? `${h.dev} ` : '';
    const step = h.flow === 'arp' && !h.step.startsWith('arp') ? `arp/${h.step}` : h.step;
    lines.push(`  ${String(h.index).padStart(width)} ${step.padEnd(18)} ${dev.padEnd(14)} ${h.decision}`);
    if (options.packets !== false && h.packet !== '' && (h.step === 'send' || h.step === 'xmit' || h.step === 'receive' || h.step === 'forward' || h.step === 'arp-request' || h.step === 'arp-reply')) {
      lines.push(`  ${' '.repeat(width)}   ${h.packet.replace(/\n/g, '\n      ')}`);
    }
  }
  lines.push('', `verdict: ${formatVerdict(t.verdict)}`);
  if (t.reply !== undefined) lines.push(`reply:   ${formatVerdict(t.reply)}`);
  const o = t.outcome;
  if (o.endpoint !== null || o.masqueraded || t.decisions.length > 0) {
    lines.push(`outcome: ${formatOutcome(t)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `endpoint 10.244.1.3:8080, masqueraded, delivered (p=0.5000)`: one path's outcome on a line. */
export function formatOutcome(t: TraceResult): string {
  const o = t.outcome;
  const parts = [o.endpoint !== null ? `endpoint ${o.endpoint}` : 'no DNAT', o.masqueraded ? 'masqueraded' : 'not masqueraded', o.verdict];
  return `${parts.join(', ')} (p=${o.probability.toFixed(4)})`;
}

/**
 * Renders every path `--all-paths` found: a summary, one line per path (endpoint, masquerade,
 * verdict, probability), then each path's trace.
 */
export function formatAllPathsText(paths: readonly TraceResult[], options: FormatTraceTextOptions = {}): string {
  const lines = [`${paths.length} path${paths.length === 1 ? '' : 's'}:`];
  paths.forEach((p, i) => lines.push(`  ${i + 1}. ${formatOutcome(p)}`));
  const total = paths.reduce((s, p) => s + p.outcome.probability, 0);
  lines.push(`  (probabilities sum to ${total.toFixed(4)})`, '');
  if (options.summary === true) return `${lines.join('\n').trimEnd()}\n`;
  return `${lines.join('\n')}\n${paths.map((p, i) => `# path ${i + 1} of ${paths.length}: ${formatOutcome(p)}\n${formatTraceText(p, options)}`).join('\n')}`;
}
