import { buildClusterState, loadExampleCluster } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { createIptablesProxier, iptablesOptionsForNode, renderIptables } from '../src/index.js';
import { checkIptablesRuleJumps } from './iptables-dump.js';

// The README's example, kept compiling and running.
describe('README example', () => {
  it('renders the example cluster and syncs a change partially', () => {
    const state = buildClusterState(loadExampleCluster());
    const options = iptablesOptionsForNode(state, state.nodes[0]!.name);

    const { payload, stats, ensureRules } = renderIptables(state, options);
    expect(payload.startsWith('*filter\n:KUBE-SERVICES - [0:0]\n')).toBe(true);
    expect(payload.endsWith('-j KUBE-NODEPORTS\nCOMMIT\n')).toBe(true);
    expect(stats.natRules).toBeGreaterThan(4);
    expect(ensureRules).toHaveLength(14);
    checkIptablesRuleJumps(payload);

    const proxier = createIptablesProxier(options);
    expect(proxier.sync(state).full).toBe(true);
    const next = proxier.sync({ ...state, endpointSlices: state.endpointSlices.slice(1) });
    expect(next.full).toBe(false);
    expect(next.rulesWritten).toBeLessThan(stats.natRules + stats.filterRules);
    expect(next.chainsWritten).toBeGreaterThanOrEqual(9);
  });
});
