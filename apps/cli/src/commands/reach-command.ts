import {
  buildPolicyIndex,
  computeReachabilityMatrix,
  evaluateConnection,
  formatConnectionVerdict,
  formatReachabilityCsv,
  formatReachabilityDot,
  formatReachabilityJson,
  formatReachabilityMarkdown,
  formatReachabilityTable,
  isKnetError,
  KnetError,
  type ClusterState,
  type PolicyIndex,
  type PolicyProtocol,
  type ReachabilityMatrix,
} from '@knet/core';
import { UsageError } from '../cli-error.js';
import { buildSim, formatWarnings, loadState, pickPlugin } from '../load-cluster.js';

/** The usage lines of `knet reach`, shown by `knet --help`. */
export const REACH_USAGE = `  knet reach [-f FILE ...] [--port P] [--proto tcp|udp|sctp] [--namespace NS]
             [-o table|json|csv|md|dot]     which pod may connect to which (NetworkPolicy,
                                                AdminNetworkPolicy, BaselineAdminNetworkPolicy)
  knet reach --explain SRC DST --port P [--proto tcp|udp|sctp] [-f FILE ...] [-o text|json]
                                                why a connection is allowed or denied, per side
`;

/** Options of {@link reachCommand}, as parsed from the command line. */
export interface ReachOptions {
  readonly files: readonly string[];
  /** `--port`: one port; absent = every (port, protocol) a covered pod declares. */
  readonly port?: string;
  /** `--proto`: tcp, udp or sctp (default tcp with --port; every protocol without). */
  readonly proto?: string;
  readonly namespace?: string;
  /** `-o`: table (also `text`), json, csv, md, dot; with --explain: text or json. */
  readonly output: string;
  /** `--explain SRC DST`. */
  readonly explain?: readonly [string, string];
}

/** What `knet reach` prints. */
export interface ReachOutput {
  readonly out: string;
  readonly err: string;
}

const FORMATS: Readonly<Record<string, (m: readonly ReachabilityMatrix[]) => string>> = {
  table: formatReachabilityTable,
  text: formatReachabilityTable,
  json: formatReachabilityJson,
  csv: formatReachabilityCsv,
  md: formatReachabilityMarkdown,
  dot: formatReachabilityDot,
};

function parseProtocol(p: string): PolicyProtocol {
  const up = p.toUpperCase();
  if (up === 'TCP' || up === 'UDP' || up === 'SCTP') return up;
  throw new UsageError(`--proto must be tcp, udp or sctp, not "${p}" (NetworkPolicy covers TCP, UDP and SCTP only)`);
}

function parsePort(p: string): number {
  if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw new UsageError(`--port must be a number from 1 to 65535, not "${p}"`);
  return Number(p);
}

/**
 * `knet reach`: the pod-to-pod reachability matrix under the cluster's NetworkPolicies,
 * AdminNetworkPolicies and BaselineAdminNetworkPolicy, or (`--explain SRC DST`) the reasons
 * for one connection.
 *
 * @remarks
 * - Without `--port`, one matrix per (port, protocol) some covered pod declares as a container
 *   port (restricted to `--proto` when given), in protocol then port order.
 * - `--namespace NS` restricts the matrix to the pods of NS (as sources and destinations).
 * - Pods without `status.podIP` get the address the cluster's CNI would assign (the cluster is
 *   built in simulation) when a policy uses ipBlocks or `networks`, or when `--explain` is given
 *   an address; otherwise no address is needed.
 * - A pod may always reach itself (knet's convention, see docs/guides/network-policy.md).
 */
export async function reachCommand(o: ReachOptions): Promise<ReachOutput> {
  const state = loadState(o.files);
  // An address given to --explain may be one the CNI assigns: resolve it to its pod.
  const byAddress = o.explain !== undefined && o.explain.some((e) => /^\d+\.\d+\.\d+\.\d+$/.test(e));
  const index = await indexWithAddresses(state, byAddress);
  const warnings = formatWarnings(state) + index.warnings.map((w) => `knet: warning: ${w}\n`).join('');

  if (o.explain !== undefined) {
    if (o.port === undefined) throw new UsageError('--explain needs --port');
    if (o.namespace !== undefined) throw new UsageError('--namespace does not apply to --explain');
    const verdict = evaluateConnection(index, o.explain[0], o.explain[1], parsePort(o.port), parseProtocol(o.proto ?? 'tcp'));
    if (o.output === 'json') return { out: `${JSON.stringify(verdict, null, 2)}\n`, err: warnings };
    if (o.output !== 'text' && o.output !== 'table') throw new UsageError(`--explain prints text or json, not "${o.output}"`);
    return { out: formatConnectionVerdict(verdict), err: warnings };
  }

  const format = FORMATS[o.output];
  if (format === undefined) throw new UsageError(`-o must be table, json, csv, md or dot, not "${o.output}"`);
  let pods = index.pods;
  if (o.namespace !== undefined) {
    pods = pods.filter((p) => p.namespace === o.namespace);
    if (pods.length === 0) throw new KnetError('ENOENT', `no pods in namespace "${o.namespace}"`, { namespace: o.namespace });
  }
  const protocol = o.proto === undefined ? undefined : parseProtocol(o.proto);
  let probes: [number, PolicyProtocol][];
  if (o.port !== undefined) probes = [[parsePort(o.port), protocol ?? 'TCP']];
  else {
    const seen = new Map<string, [number, PolicyProtocol]>();
    for (const p of pods) {
      for (const cp of p.ports) if (protocol === undefined || cp.protocol === protocol) seen.set(`${cp.protocol}/${cp.containerPort}`, [cp.containerPort, cp.protocol]);
    }
    const order = ['TCP', 'UDP', 'SCTP'];
    probes = [...seen.values()].sort((a, b) => order.indexOf(a[1]) - order.indexOf(b[1]) || a[0] - b[0]);
    if (probes.length === 0) throw new UsageError('no covered pod declares a container port; give --port');
  }
  const indexes = pods.map((p) => p.index);
  const matrices = probes.map(([port, proto]) => computeReachabilityMatrix(index, port, proto, { pods: indexes }));
  return { out: format(matrices), err: warnings };
}

/**
 * The policy index, with the addresses the CNI would assign to pods lacking `status.podIP` when
 * a policy matches addresses (ipBlock, AdminNetworkPolicy `networks`).
 */
async function indexWithAddresses(state: ClusterState, needed: boolean): Promise<PolicyIndex> {
  const missing = state.pods.some((p) => !p.hostNetwork && p.podIP === undefined);
  const usesAddresses =
    needed ||
    state.networkPolicies.some((p) => JSON.stringify(p.spec ?? {}).includes('"ipBlock"')) ||
    [...(state.adminNetworkPolicies ?? []), ...(state.baselineAdminNetworkPolicies ?? [])].some((p) => JSON.stringify(p.spec).includes('"networks"'));
  if (!missing || !usesAddresses) return buildPolicyIndex(state);
  try {
    const { cluster } = await buildSim(state, pickPlugin(state, undefined), 1);
    return buildPolicyIndex(state, { podIPs: new Map([...cluster.pods].map(([key, built]) => [key, built.ip])) });
  } catch (e) {
    if (!isKnetError(e) && !(e instanceof UsageError)) throw e;
    const index = buildPolicyIndex(state);
    return { ...index, warnings: [...index.warnings, `pods without status.podIP have no address (building the cluster failed: ${e.message}); ipBlocks cannot match them`] };
  }
}
