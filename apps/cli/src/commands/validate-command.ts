import { buildSim, loadState, pickPlugin } from '../load-cluster.js';

/** What `knet validate` prints, and its exit status. */
export interface ValidateOutput {
  readonly out: string;
  readonly err: string;
  readonly code: number;
}

/**
 * `knet validate -f FILE ...`: loads and validates the manifests, checks the plugin's limits
 * and builds the cluster in simulation (so pod CIDR exhaustion and address clashes surface).
 * Validation is strict: a warning (an unknown kind, an unscheduled pod) is printed as one line
 * per problem and makes the exit status 1; other commands print warnings and go on.
 */
export async function validateCommand(files: readonly string[], cni: string | undefined): Promise<ValidateOutput> {
  const state = loadState(files);
  const plugin = pickPlugin(state, cni);
  await buildSim(state, plugin, 1);
  const c = state.cluster;
  const err = state.warnings.map((w) => `knet: ${w.file}: document ${w.document}${w.field !== undefined ? `: ${w.field}` : ''}: ${w.message}`);
  if (err.length > 0) return { out: '', err: `${err.join('\n')}\n`, code: 1 };
  const lines = [
    `cluster ${c.name}: cni ${plugin.name}, kube-proxy ${c.kubeProxy.mode}, clusterCIDR ${c.clusterCIDR}, serviceCIDR ${c.serviceCIDR}, fabric ${c.fabric.cidr}`,
    `${state.nodes.length} nodes, ${state.pods.length} pods, ${state.services.length} services, ${state.endpointSlices.length} endpoint slices, ${state.networkPolicies.length} network policies in ${state.namespaces.length} namespaces`,
    'valid',
  ];
  return { out: `${lines.join('\n')}\n`, err: '', code: 0 };
}
