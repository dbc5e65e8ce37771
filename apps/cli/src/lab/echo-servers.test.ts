import { buildClusterState, loadExampleCluster } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { buildSim, pickPlugin } from '../load-cluster.js';
import { echoPortsOf, echoServerAlive, echoServerArgs } from './echo-servers.js';

describe('echoPortsOf', () => {
  it('gives every namespace with containerPorts one server on all its TCP and UDP ports', async () => {
    const state = buildClusterState(loadExampleCluster());
    const { cluster } = await buildSim(state, pickPlugin(state, undefined), 1);
    expect(echoPortsOf(cluster)).toEqual([
      { netns: 'knet-example-pod-kube-system-coredns-7db6d8ff4d-x5k8w', tcp: [53, 9153], udp: [53] },
      { netns: 'knet-example-pod-shop-cart-5d8b9c7f6-hv4nx', tcp: [6379, 8080], udp: [] },
      { netns: 'knet-example-pod-shop-cart-5d8b9c7f6-r8zjp', tcp: [6379, 8080], udp: [] },
      { netns: 'knet-example-pod-shop-db-0', tcp: [5432], udp: [] },
      { netns: 'knet-example-pod-shop-frontend-7c9d6b8f4-2qzrt', tcp: [8080], udp: [] },
      { netns: 'knet-example-pod-shop-frontend-7c9d6b8f4-9wlmf', tcp: [8080], udp: [] },
    ]);
  });
});

describe('echoServerArgs', () => {
  it('lists TCP then UDP ports', () => {
    expect(echoServerArgs({ netns: 'knet-x-pod-a-b', tcp: [53, 9153], udp: [53] })).toEqual(['--tcp', '53', '--tcp', '9153', '--udp', '53']);
  });
});

describe('echoServerAlive', () => {
  it('is false for a pid that is not the recorded server (this process runs no echo server)', () => {
    expect(echoServerAlive({ netns: 'knet-x-pod-a-b', pid: process.pid, tcp: [80], udp: [] }, '/run/knet/labs/x/echo-server.mjs')).toBe(false);
    expect(echoServerAlive({ netns: 'knet-x-pod-a-b', pid: 2 ** 22 + 1, tcp: [80], udp: [] }, '/run/knet/labs/x/echo-server.mjs')).toBe(false);
  });
});
