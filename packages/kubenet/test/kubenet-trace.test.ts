import { buildCluster, createSimHost, resolveEndpoint, tracePacket } from '@knet/core';
import type { CloudRouteTableSpec } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { createKubenetPlugin } from '../src/kubenet-plugin.js';
import { makeCluster, makePod } from './sim-cluster.js';

/** Builds a 2-node kubenet cluster and pings pod b (node-2) from pod a (node-1). */
async function ping(cloud?: CloudRouteTableSpec) {
  const state = makeCluster({ nodes: 2, pods: [makePod('a', 'node-1'), makePod('b', 'node-2')], ...(cloud !== undefined ? { cloud } : {}) });
  const host = createSimHost({ seed: 5 });
  const built = await buildCluster(state, createKubenetPlugin(), host);
  const r = tracePacket(built, host, resolveEndpoint(built, 'default/a'), resolveEndpoint(built, 'default/b'), { proto: 'icmp' });
  const netnsPath = r.hops.filter((h) => h.flow === 'request').map((h) => h.netns).filter((n, i, a) => a[i - 1] !== n);
  return { r, netnsPath };
}

describe('kubenet datapath (packet engine)', () => {
  it('delivers pod to pod across nodes through cbr0 and the per-node route, and the reply comes back', async () => {
    const { r, netnsPath } = await ping();
    expect(r.request).toMatchObject({ src: '10.244.0.2', dst: '10.244.1.2' });
    expect(r.verdict.kind).toBe('delivered');
    expect(r.reply?.kind).toBe('delivered');
    // Without a cloud route table the packet goes node-1 → node-2 directly over the fabric L2.
    expect(netnsPath).toEqual(['knet-t-pod-default-a', 'knet-t-node-node-1', 'knet-t-fabric', 'knet-t-node-node-2', 'knet-t-pod-default-b']);
    const routeHop = r.hops.find((h) => h.netns === 'knet-t-node-node-1' && h.detail?.kind === 'route');
    expect(routeHop?.detail).toMatchObject({ route: { dst: '10.244.1.0/24', gateway: '192.168.0.12', protocol: 'static' } });
  });

  it('with a cloud route table the packet is routed by the fabric router', async () => {
    const { r } = await ping({ provider: 'aws', routeLimit: 50 });
    expect(r.verdict.kind).toBe('delivered');
    expect(r.reply?.kind).toBe('delivered');
    const fabricRoute = r.hops.find((h) => h.netns === 'knet-t-fabric' && h.flow === 'request' && h.detail?.kind === 'route');
    expect(fabricRoute?.detail).toMatchObject({ route: { dst: '10.244.1.0/24', gateway: '192.168.0.12', dev: 'br0' } });
    const nodeRoute = r.hops.find((h) => h.netns === 'knet-t-node-node-1' && h.flow === 'request' && h.detail?.kind === 'route');
    expect(nodeRoute?.detail).toMatchObject({ route: { dst: 'default', gateway: '192.168.0.1' } });
  });
});
