import type { LabCheckResult, LabProbeResult } from './lab-check.js';

const NAME_MAX = 40;

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function target(r: LabProbeResult): string {
  const where = r.proto === 'icmp' ? `icmp ${r.ip}` : `${r.proto} ${r.ip}:${String(r.port)}`;
  return `${r.from} → ${r.to} (${where})`;
}

/** The header row of a matrix block: the last digit of each column number. */
function digits(n: number): string {
  return Array.from({ length: n }, (_, i) => String((i + 1) % 10)).join('');
}

/**
 * `knet lab check` as text: a summary line, the destinations (numbered pods, then Service
 * ports), one line per source pod with `✓` (the real outcome is one the simulation predicts) or
 * `✗` per destination (`·` for the pod itself), then every disagreement with both outcomes and
 * the trace's reason.
 */
export function formatLabCheckText(c: LabCheckResult): string {
  const rs = c.results;
  const sources: string[] = [];
  for (const r of rs) if (!sources.includes(r.from)) sources.push(r.from);
  const podDsts = [...sources];
  const svcDsts: string[] = [];
  for (const r of rs) if (r.kind === 'service' && !svcDsts.includes(r.to)) svcDsts.push(r.to);
  const cell = new Map(rs.map((r) => [`${r.from}\0${r.to}`, r]));
  const agree = rs.length - c.disagreements;
  const lines: string[] = [];
  const pairs = rs.filter((r) => r.kind === 'pod').length;
  lines.push(
    `lab ${c.lab}: ${pairs} pod pairs and ${rs.length - pairs} Service probes; ${agree} as the simulation predicts, ${c.disagreements} disagreement${c.disagreements === 1 ? '' : 's'} (${(c.elapsedMs / 1000).toFixed(1)} s)`,
  );
  if (c.deadEchoServers.length > 0) lines.push(`warning: echo servers not running in ${c.deadEchoServers.join(', ')}`);
  lines.push('', 'destinations:');
  const probeOf = (to: string): LabProbeResult | undefined => rs.find((r) => r.to === to);
  podDsts.forEach((p, i) => {
    const r = probeOf(p);
    const how = r === undefined ? '' : r.proto === 'icmp' ? `${r.ip} ping` : `${r.ip}:${String(r.port)} tcp`;
    lines.push(`  ${String(i + 1).padStart(3)} ${p}  ${how}`);
  });
  svcDsts.forEach((s, i) => {
    const r = probeOf(s);
    lines.push(`  S${String(i + 1).padEnd(2)} ${s}  ${r === undefined ? '' : `${r.ip}:${String(r.port)} ${r.proto}`}`);
  });
  const width = Math.min(NAME_MAX, Math.max(...sources.map((s) => s.length), 6));
  const podWidth = Math.max(podDsts.length, 'pods'.length);
  const row = (label: string, pods: string, svcs: string): string =>
    `  ${label.padEnd(width)}  ${svcDsts.length > 0 ? `${pods.padEnd(podWidth)}  ${svcs}` : pods}`.trimEnd();
  lines.push('', row('', 'pods', 'services'), row('', digits(podDsts.length), digits(svcDsts.length)));
  const mark = (r: LabProbeResult | undefined): string => (r === undefined ? '·' : r.agree ? '✓' : '✗');
  for (const s of sources) {
    const pods = podDsts.map((d) => mark(cell.get(`${s}\0${d}`))).join('');
    const svcs = svcDsts.map((d) => mark(cell.get(`${s}\0${d}`))).join('');
    lines.push(row(clip(s, width), pods, svcs));
  }
  lines.push('  ✓ real outcome as simulated   ✗ disagreement   · the pod itself');
  const bad = rs.filter((r) => !r.agree);
  if (bad.length > 0) {
    lines.push('', 'disagreements:');
    for (const r of bad) {
      const predicted = r.predicted.outcomes.join(' or ');
      lines.push(
        `  ${target(r)}: real ${r.real} (${r.realDetail}), simulated ${predicted}${r.predicted.paths > 1 ? ` over ${r.predicted.paths} paths` : ''}${r.predicted.why !== undefined ? `; trace: ${r.predicted.why}` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `knet lab check -o json`: the summary and every probe with its prediction and real outcome. */
export function formatLabCheckJson(c: LabCheckResult): string {
  return `${JSON.stringify(
    {
      lab: c.lab,
      probes: c.results.length,
      agree: c.results.length - c.disagreements,
      disagreements: c.disagreements,
      deadEchoServers: c.deadEchoServers,
      elapsedMs: Math.round(c.elapsedMs),
      results: c.results.map((r) => ({
        kind: r.kind,
        from: r.from,
        to: r.to,
        proto: r.proto,
        ip: r.ip,
        ...(r.port !== undefined ? { port: r.port } : {}),
        real: r.real,
        realDetail: r.realDetail,
        predicted: r.predicted.outcomes,
        paths: r.predicted.paths,
        ...(r.predicted.why !== undefined ? { why: r.predicted.why } : {}),
        agree: r.agree,
      })),
    },
    null,
    2,
  )}\n`;
}
