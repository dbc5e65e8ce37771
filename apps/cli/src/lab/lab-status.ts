import { join } from 'node:path';
import { echoServerAlive } from './echo-servers.js';
import { labNamespaces } from './lab-down.js';
import { labFilesDir, readLabState, type LabState } from './lab-state.js';

/** What {@link labStatus} found about one lab. */
export interface LabStatus {
  readonly name: string;
  /** `up`, `building` (a `lab up` is running or crashed), or `no state file` (only namespaces are left). */
  readonly status: 'up' | 'building' | 'no state file';
  readonly createdAt?: string;
  readonly cni?: string;
  readonly kubeProxy?: string;
  /** The namespaces `knet-<name>-...` that exist. */
  readonly namespaces: readonly string[];
  /** Namespaces the state file lists that do not exist. */
  readonly missing: readonly string[];
  readonly echoServers: readonly { readonly netns: string; readonly pid: number; readonly alive: boolean; readonly tcp: readonly number[]; readonly udp: readonly number[] }[];
}

/** The namespaces a lab state says exist: fabric, outside, nodes and pod sandboxes. */
export function expectedNamespaces(s: LabState): string[] {
  return [...new Set([s.fabric, s.outside, ...Object.values(s.nodes), ...s.pods.map((p) => p.netns)])].sort();
}

/**
 * What exists of a lab: its state file, its namespaces (found by name, so a lab without a
 * state file shows up too), and whether each recorded echo server still runs. `undefined` when
 * there is neither a state file nor a namespace.
 */
export function labStatus(name: string): LabStatus | undefined {
  const s = readLabState(name);
  const present = labNamespaces(name).mine;
  if (s === undefined && present.length === 0) return undefined;
  if (s === undefined) return { name, status: 'no state file', namespaces: present, missing: [], echoServers: [] };
  const script = join(labFilesDir(name), 'echo-server.mjs');
  return {
    name,
    status: s.status,
    createdAt: s.createdAt,
    cni: s.cni,
    kubeProxy: s.kubeProxy,
    namespaces: present,
    missing: s.status === 'up' ? expectedNamespaces(s).filter((n) => !present.includes(n)) : [],
    echoServers: s.echoServers.map((e) => ({ netns: e.netns, pid: e.pid, alive: echoServerAlive(e, script), tcp: e.tcp, udp: e.udp })),
  };
}

/** `knet lab status` as text, one block per lab. */
export function formatLabStatusText(labs: readonly LabStatus[]): string {
  if (labs.length === 0) return 'no lab is up (start one with "knet lab up")\n';
  const blocks = labs.map((l) => {
    const alive = l.echoServers.filter((e) => e.alive).length;
    const lines = [
      `lab ${l.name}: ${l.status}${l.createdAt !== undefined ? `, created ${l.createdAt}` : ''}${l.cni !== undefined ? `, CNI ${l.cni}, kube-proxy ${l.kubeProxy ?? 'none'}` : ''}`,
      `  namespaces: ${l.namespaces.length}${l.missing.length > 0 ? `, missing: ${l.missing.join(', ')}` : ''}`,
      ...l.namespaces.map((n) => `    ${n}`),
      `  echo servers: ${alive} of ${l.echoServers.length} running`,
      ...l.echoServers.map(
        (e) => `    ${e.alive ? 'running' : 'stopped'}  pid ${e.pid}  ${e.netns}  tcp ${e.tcp.join(',') || '-'}  udp ${e.udp.join(',') || '-'}`,
      ),
    ];
    if (l.status === 'no state file') lines.push(`  (no state file: "knet lab down --name ${l.name}" removes the namespaces)`);
    if (l.status === 'building') lines.push(`  (still building, or "lab up" stopped half-way: "knet lab down --name ${l.name}" removes it)`);
    return lines.join('\n');
  });
  return `${blocks.join('\n\n')}\n`;
}
