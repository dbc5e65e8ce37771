/**
 * The example cluster built for real: core's buildCluster with the kubenet plugin on LinuxHost
 * (one namespace per node and per pod, a fabric and an outside namespace), compared namespace by
 * namespace with the same build on SimHost, then real pings between pods on different nodes.
 *
 * Runs as root with iproute2, ethtool, ping and the veth, bridge and br_netfilter kernel features
 * (kubenet writes net.bridge.bridge-nf-call-iptables); skips with the reason printed otherwise.
 * The cluster is named lhtest-<pid>, so every namespace is knet-lhtest-<pid>-...; all are deleted
 * afterwards, and the last test checks `ip netns list`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubenetPlugin } from '../../../kubenet/src/index.js';
import { buildCluster, type BuiltCluster } from '../../src/cluster/build-cluster.js';
import { buildClusterState } from '../../src/cluster/build-cluster-state.js';
import { EXAMPLE_CLUSTER_FILE, EXAMPLE_CLUSTER_YAML } from '../../src/example/example-cluster.js';
import { cleanupNamespaces } from '../../src/host/linux/cleanup-namespaces.js';
import { spawnCommand } from '../../src/host/linux/command-runner.js';
import { createLinuxHost } from '../../src/host/linux/linux-host.js';
import { loadManifests } from '../../src/k8s/load-manifests.js';
import { createSimHost } from '../../src/kernel/sim-host.js';
import { normaliseStates, readStates } from './host-state.js';
import { commandsOutsideNamespaces, labSkipReason, namespacesWithPrefix, recordingRunner } from './lab-env.js';

const { reason } = await labSkipReason(['ip', 'bridge', 'ethtool', 'ping'], ['veth', 'bridge', 'br_netfilter']);
if (reason !== undefined) console.warn(`skipping the LinuxHost cluster lab test: ${reason}`);

const CLUSTER = `lhtest-${process.pid}`;
const PREFIX = `knet-${CLUSTER}-`;
const yaml = EXAMPLE_CLUSTER_YAML.replace(/^ {2}name: example$/m, `  name: ${CLUSTER}`);
const state = buildClusterState(loadManifests([{ file: EXAMPLE_CLUSTER_FILE, text: yaml }]));

describe.skipIf(reason !== undefined)('the example cluster with kubenet on LinuxHost', () => {
  const recorder = recordingRunner();
  const host = createLinuxHost({ runner: recorder.runner, namespacePrefix: PREFIX });
  const sim = createSimHost({ seed: 1 });
  let real: BuiltCluster;
  let simulated: BuiltCluster;

  beforeAll(async () => {
    await cleanupNamespaces(PREFIX);
    simulated = await buildCluster(state, createKubenetPlugin(), sim);
    real = await buildCluster(state, createKubenetPlugin(), host);
  }, 120_000);

  afterAll(async () => {
    await cleanupNamespaces(PREFIX);
  });

  it('is the cluster it should be: its own name, three nodes, pods on every node', () => {
    expect(state.cluster.name).toBe(CLUSTER);
    expect(state.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(new Set(state.pods.filter((p) => !p.hostNetwork).map((p) => p.nodeName))).toEqual(new Set(['node-1', 'node-2', 'node-3']));
  });

  it('creates the same namespaces and gives every pod the same address', async () => {
    expect(await host.netnsList()).toEqual((await sim.netnsList()).sort());
    expect([...real.pods].map(([k, p]) => [k, p.netns, p.ip])).toEqual([...simulated.pods].map(([k, p]) => [k, p.netns, p.ip]));
  });

  it('leaves the same kernel state in every node, pod, fabric and outside namespace', async () => {
    const all = await host.netnsList();
    expect(all.length).toBeGreaterThan(5);
    for (const ns of all) await host.settle(ns);
    const realState = normaliseStates(await readStates(host, all));
    const simState = normaliseStates(await readStates(sim, all));
    for (const ns of all) {
      const r = realState.get(ns)!;
      const s = simState.get(ns)!;
      expect({ ns, links: r.links }).toEqual({ ns, links: s.links });
      expect({ ns, addrs: r.addrs }).toEqual({ ns, addrs: s.addrs });
      expect({ ns, routes: r.routes }).toEqual({ ns, routes: s.routes });
      expect({ ns, neighs: r.neighs }).toEqual({ ns, neighs: s.neighs });
      expect({ ns, fdb: r.fdb }).toEqual({ ns, fdb: s.fdb });
    }
    for (const n of state.nodes) {
      const ns = real.names.node(n.name);
      for (const key of ['net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables', 'net.ipv4.conf.cbr0.forwarding']) {
        expect([ns, key, await host.sysctlGet(ns, key)]).toEqual([ns, key, await sim.sysctlGet(ns, key)]);
      }
    }
  });

  it('carries real pings between every pair of pods on different nodes, and from pods to other nodes', async () => {
    const pods = [...real.pods.values()].filter((p) => !p.pod.hostNetwork);
    const failed: string[] = [];
    await Promise.all(
      pods.map(async (from) => {
        const targets = [
          ...pods.filter((to) => to.pod.nodeName !== from.pod.nodeName).map((to) => to.ip),
          ...state.nodes.filter((n) => n.name !== from.pod.nodeName).map((n) => n.internalIP),
        ];
        for (const ip of targets) {
          const r = await host.exec(from.netns, ['ping', '-c1', '-W2', ip]);
          if (r.code !== 0) failed.push(`${from.pod.namespace}/${from.pod.name} → ${ip}: ${r.stdout.trim().split('\n').pop() ?? ''}`);
        }
      }),
    );
    expect(pods.length).toBeGreaterThan(3);
    expect(failed).toEqual([]);
  });

  it('issued every command inside a namespace of this cluster', () => {
    expect(commandsOutsideNamespaces(recorder.commands, PREFIX)).toEqual([]);
  });

  it('leaves no namespace behind', async () => {
    await cleanupNamespaces(PREFIX);
    const listed = (await spawnCommand('ip', ['netns', 'list'])).stdout;
    expect(listed.split('\n').filter((l) => l.startsWith(PREFIX))).toEqual([]);
    expect(namespacesWithPrefix(PREFIX)).toEqual([]);
  });
});
