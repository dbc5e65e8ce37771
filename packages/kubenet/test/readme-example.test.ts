import { buildCluster, buildClusterState, createSimHost, loadExampleCluster } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { createKubenetPlugin } from '../src/kubenet-plugin.js';

// The README's example, kept compiling and running.
describe('README example', () => {
  it('builds the example cluster with kubenet', async () => {
    const state = buildClusterState(loadExampleCluster());
    const host = createSimHost({ seed: 1 });
    const kubenet = createKubenetPlugin({ hairpinMode: 'hairpin-veth' });
    const cluster = await buildCluster(state, kubenet, host);
    const attached = [...cluster.pods.values()].filter((p) => !p.pod.hostNetwork);
    expect(attached.length).toBeGreaterThan(0);
    for (const p of attached) {
      const node = state.nodes.find((n) => n.name === p.pod.nodeName)!;
      const [net] = node.podCIDR.split('/');
      // Each pod's address lies in its node's pod CIDR (same /24 here).
      expect(p.ip.split('.').slice(0, 3).join('.')).toBe(net!.split('.').slice(0, 3).join('.'));
    }
    const others = state.nodes.filter((n) => n.name !== state.nodes[0]!.name);
    const routes = (await host.routeList(cluster.names.node(state.nodes[0]!.name))).filter((r) => r.protocol === 'static');
    expect(routes.map((r) => r.dst)).toEqual(others.map((n) => n.podCIDR));
    expect(kubenet.masqueradeRule(state.nodes[0]!)).toContain('! -d 10.0.0.0/8 -j MASQUERADE');
  });
});
