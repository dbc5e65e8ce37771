import { groupEquivalentPods, isReachable } from './reachability-matrix.js';
import type { ReachabilityMatrix } from './reachability-matrix.js';

/** The schema name of {@link formatReachabilityJson}'s output, documented in docs/schema/reach.md. */
export const REACH_SCHEMA = 'knet.dev/reach/v1';

/** One cell of the JSON matrix. */
export interface ReachabilityEntry {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: string;
  readonly allowed: boolean;
}

function cellMark(allowed: boolean): string {
  return allowed ? '.' : 'X';
}

/** A group's name: `ns/*` when it holds every covered pod of a namespace, else its members. */
function groupLabel(matrix: ReachabilityMatrix, group: readonly number[]): string {
  const names = group.map((i) => matrix.pods[i] as string);
  const ns = names[0]?.split('/')[0] ?? '';
  if (names.length > 1 && names.every((x) => x.startsWith(`${ns}/`)) && matrix.pods.filter((p) => p.startsWith(`${ns}/`)).length === names.length) {
    return `${ns}/* (${names.length} pods)`;
  }
  return names.join(', ');
}

/** The value of the cell between two groups (diagonal: between distinct members, or self for a single pod). */
function groupCell(matrix: ReachabilityMatrix, from: readonly number[], to: readonly number[]): boolean {
  const a = from[0] as number;
  if (from === to) return to.length > 1 ? isReachable(matrix, a, to[1] as number) : true;
  return isReachable(matrix, a, to[0] as number);
}

/**
 * Renders matrices as text tables, pods that behave identically grouped (see
 * {@link groupEquivalentPods}): a legend of groups, then one row per source group and one
 * column per destination group, `.` allowed and `X` denied (upstream e2e's marks).
 *
 * @remarks Linux equivalent: none (upstream's e2e truth tables look alike).
 * @example
 * ```ts
 * import { buildClusterState, buildPolicyIndex, computeReachabilityMatrix, formatReachabilityTable, loadExampleCluster } from '@knet/core';
 * const m = computeReachabilityMatrix(buildPolicyIndex(buildClusterState(loadExampleCluster())), 8080, 'TCP');
 * formatReachabilityTable([m]).startsWith('TCP/8080:'); // true
 * ```
 */
export function formatReachabilityTable(matrices: readonly ReachabilityMatrix[]): string {
  const blocks: string[] = [];
  for (const m of matrices) {
    const groups = groupEquivalentPods(m);
    const lines: string[] = [];
    lines.push(`${m.protocol}/${m.port}: ${m.pods.length} pods in ${groups.length} groups (. allowed, X denied; a pod may always reach itself)`, '');
    const idw = Math.max(5, String(groups.length).length);
    lines.push(`${'GROUP'.padEnd(idw)}  PODS`);
    groups.forEach((g, i) => lines.push(`${String(i + 1).padEnd(idw)}  ${groupLabel(m, g)}`));
    lines.push('');
    const cw = String(groups.length).length + 1;
    const head = 'FROM\\TO'.padEnd(Math.max(7, idw));
    lines.push(`${head}${groups.map((_, i) => String(i + 1).padStart(cw + 1)).join('')}`);
    groups.forEach((g, i) => {
      const cells = groups.map((h) => cellMark(groupCell(m, g, h)).padStart(cw + 1)).join('');
      lines.push(`${String(i + 1).padEnd(head.length)}${cells}`);
    });
    blocks.push(lines.join('\n'));
  }
  return `${blocks.join('\n\n')}\n`;
}

/**
 * The JSON document of `knet reach -o json`: `{"schema", "pods", "matrix"}` with one entry per
 * ordered pair of pods (self pairs included) per matrix, in row-major order.
 *
 * @remarks One entry per line, so large matrices stay greppable. Linux equivalent: none.
 * @see docs/schema/reach.md
 * @example
 * ```ts
 * import { buildClusterState, buildPolicyIndex, computeReachabilityMatrix, formatReachabilityJson, loadExampleCluster } from '@knet/core';
 * const m = computeReachabilityMatrix(buildPolicyIndex(buildClusterState(loadExampleCluster())), 8080, 'TCP');
 * JSON.parse(formatReachabilityJson([m])).matrix.length; // 121 (11 × 11)
 * ```
 */
export function formatReachabilityJson(matrices: readonly ReachabilityMatrix[]): string {
  const pods = matrices[0]?.pods ?? [];
  const entries: string[] = [];
  for (const m of matrices) {
    for (let a = 0; a < m.pods.length; a++) {
      for (let b = 0; b < m.pods.length; b++) {
        const e: ReachabilityEntry = { from: m.pods[a] as string, to: m.pods[b] as string, port: m.port, protocol: m.protocol, allowed: isReachable(m, a, b) };
        entries.push(`    ${JSON.stringify(e)}`);
      }
    }
  }
  return `{\n  "schema": ${JSON.stringify(REACH_SCHEMA)},\n  "pods": ${JSON.stringify(pods)},\n  "matrix": [\n${entries.join(',\n')}\n  ]\n}\n`;
}

/**
 * CSV of every ordered pair: `from,to,port,protocol,allowed` (RFC 4180 quoting).
 *
 * @remarks Linux equivalent: none.
 * @example
 * ```ts
 * import { buildClusterState, buildPolicyIndex, computeReachabilityMatrix, formatReachabilityCsv, loadExampleCluster } from '@knet/core';
 * const m = computeReachabilityMatrix(buildPolicyIndex(buildClusterState(loadExampleCluster())), 8080, 'TCP');
 * formatReachabilityCsv([m]).split('\n')[0]; // 'from,to,port,protocol,allowed'
 * ```
 */
export function formatReachabilityCsv(matrices: readonly ReachabilityMatrix[]): string {
  const q = (s: string): string => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const lines = ['from,to,port,protocol,allowed'];
  for (const m of matrices) {
    for (let a = 0; a < m.pods.length; a++) {
      for (let b = 0; b < m.pods.length; b++) {
        lines.push(`${q(m.pods[a] as string)},${q(m.pods[b] as string)},${m.port},${m.protocol},${isReachable(m, a, b)}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Markdown: per matrix a heading, the groups, and the grouped table (`✓` allowed, `✗` denied).
 *
 * @remarks Linux equivalent: none.
 * @example
 * ```ts
 * import { buildClusterState, buildPolicyIndex, computeReachabilityMatrix, formatReachabilityMarkdown, loadExampleCluster } from '@knet/core';
 * const m = computeReachabilityMatrix(buildPolicyIndex(buildClusterState(loadExampleCluster())), 8080, 'TCP');
 * formatReachabilityMarkdown([m]).startsWith('## TCP/8080'); // true
 * ```
 */
export function formatReachabilityMarkdown(matrices: readonly ReachabilityMatrix[]): string {
  const esc = (s: string): string => s.replaceAll('|', '\\|');
  const blocks: string[] = [];
  for (const m of matrices) {
    const groups = groupEquivalentPods(m);
    const lines = [`## ${m.protocol}/${m.port}`, '', 'Pods that behave identically share a group; a pod may always reach itself.', ''];
    lines.push('| group | pods |', '|---|---|');
    groups.forEach((g, i) => lines.push(`| ${i + 1} | ${esc(groupLabel(m, g))} |`));
    lines.push('', `| from \\ to | ${groups.map((_, i) => String(i + 1)).join(' | ')} |`, `|---|${groups.map(() => '---|').join('')}`);
    groups.forEach((g, i) => lines.push(`| ${i + 1} | ${groups.map((h) => (groupCell(m, g, h) ? '✓' : '✗')).join(' | ')} |`));
    blocks.push(lines.join('\n'));
  }
  return `${blocks.join('\n\n')}\n`;
}

/**
 * Graphviz DOT: pods as nodes clustered by namespace, an edge per allowed connection between
 * two distinct pods, labelled with the ports it is allowed on; pods without any connection still
 * appear.
 *
 * @remarks Linux equivalent: none. Render with `dot -Tsvg`.
 * @example
 * ```ts
 * import { buildClusterState, buildPolicyIndex, computeReachabilityMatrix, formatReachabilityDot, loadExampleCluster } from '@knet/core';
 * const m = computeReachabilityMatrix(buildPolicyIndex(buildClusterState(loadExampleCluster())), 8080, 'TCP');
 * formatReachabilityDot([m]).startsWith('digraph reach {'); // true
 * ```
 */
export function formatReachabilityDot(matrices: readonly ReachabilityMatrix[]): string {
  const pods = matrices[0]?.pods ?? [];
  const q = (s: string): string => JSON.stringify(s);
  const lines = ['digraph reach {', '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];'];
  const byNs = new Map<string, string[]>();
  for (const p of pods) {
    const ns = p.split('/')[0] ?? '';
    const list = byNs.get(ns);
    if (list === undefined) byNs.set(ns, [p]);
    else list.push(p);
  }
  let c = 0;
  for (const [ns, list] of byNs) {
    lines.push(`  subgraph cluster_${c++} {`, `    label=${q(ns)};`);
    for (const p of list) lines.push(`    ${q(p)} [label=${q(p.slice(ns.length + 1))}];`);
    lines.push('  }');
  }
  for (let a = 0; a < pods.length; a++) {
    for (let b = 0; b < pods.length; b++) {
      if (a === b) continue;
      const on = matrices.filter((m) => isReachable(m, a, b)).map((m) => `${m.protocol}/${m.port}`);
      if (on.length > 0) lines.push(`  ${q(pods[a] as string)} -> ${q(pods[b] as string)} [label=${q(on.join(', '))}];`);
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
