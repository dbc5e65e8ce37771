import { iptablesOptionsForNode, renderIptables } from '@knet/kube-proxy';
import { UsageError } from '../cli-error.js';
import { formatWarnings, loadState } from '../load-cluster.js';

/** Options of `knet render`. */
export interface RenderCommandOptions {
  readonly component: string;
  readonly mode: string;
  readonly node?: string;
  readonly files: readonly string[];
}

/**
 * `knet render kube-proxy --mode iptables --node NAME`: the iptables-restore payload kube-proxy
 * writes on that node (a full sync), exactly as upstream renders it.
 */
export function renderCommand(o: RenderCommandOptions): { out: string; err: string } {
  if (o.component !== 'kube-proxy') throw new UsageError(`render knows kube-proxy, not "${o.component}"`);
  if (o.mode !== 'iptables') throw new UsageError(`kube-proxy mode "${o.mode}" is not available in knet yet (available: iptables)`);
  const state = loadState(o.files);
  const node = o.node ?? state.nodes[0]?.name;
  if (node === undefined) throw new UsageError('the cluster has no nodes');
  if (!state.nodes.some((n) => n.name === node)) {
    throw new UsageError(`no node "${node}" (nodes: ${state.nodes.map((n) => n.name).join(', ')})`);
  }
  const { payload } = renderIptables(state, { ...iptablesOptionsForNode(state, node), nfacct: false });
  return { out: payload, err: formatWarnings(state) };
}
