import { describe, expect, it } from 'vitest';
import { buildClusterState } from '../cluster/build-cluster-state.js';
import type { ClusterPod, ClusterService } from '../cluster/cluster-state.js';
import { cidrContains, parseIpv4, parseIpv4Cidr } from '../ip/ipv4.js';
import { EXAMPLE_CLUSTER_FILE, EXAMPLE_CLUSTER_YAML, loadExampleCluster } from './example-cluster.js';

const state = buildClusterState(loadExampleCluster());

function selects(svc: ClusterService, pod: ClusterPod): boolean {
  const sel = svc.selector;
  return (
    sel !== undefined && svc.namespace === pod.namespace && Object.entries(sel).every(([k, v]) => pod.labels[k] === v)
  );
}

describe('loadExampleCluster', () => {
  it('loads with zero warnings from the file <example>', () => {
    const loaded = loadExampleCluster();
    expect(loaded.warnings).toEqual([]);
    expect(state.warnings).toEqual([]);
    expect(loaded.objects.every((o) => o.source.file === EXAMPLE_CLUSTER_FILE)).toBe(true);
    expect(EXAMPLE_CLUSTER_YAML.startsWith('# knet example cluster')).toBe(true);
  });

  it('is a KnetCluster named example with kubenet, iptables and the defaults', () => {
    expect(state.cluster).toEqual({
      name: 'example',
      clusterCIDR: '10.244.0.0/16',
      serviceCIDR: '10.96.0.0/12',
      nodeCIDRMaskSize: 24,
      cni: { plugin: 'kubenet', options: {} },
      kubeProxy: { mode: 'iptables' },
      fabric: { cidr: '172.18.0.0/24', mtu: 1500, nodeInterface: 'eth0' },
    });
  });

  it('has three kind-style nodes with their pod CIDRs', () => {
    expect(state.nodes.map((n) => [n.name, n.internalIP, n.podCIDR, n.podCIDRAllocated])).toEqual([
      ['node-1', '172.18.0.2', '10.244.0.0/24', false],
      ['node-2', '172.18.0.3', '10.244.1.0/24', false],
      ['node-3', '172.18.0.4', '10.244.2.0/24', false],
    ]);
  });

  it('has the namespaces default, kube-system and shop', () => {
    expect(state.namespaces.map((n) => n.name)).toEqual(['default', 'kube-system', 'shop']);
  });

  it('has pods on every node, some with and some without an IP, and hostNetwork pods', () => {
    for (const node of state.nodes) {
      const onNode = state.pods.filter((p) => p.nodeName === node.name && !p.hostNetwork);
      expect(onNode.length).toBeGreaterThanOrEqual(2);
    }
    expect(state.pods.filter((p) => !p.hostNetwork && p.podIP === undefined).map((p) => `${p.namespace}/${p.name}`)).toEqual([
      'default/client',
      'shop/loadgen-6f9c8d7b5-tq2mz',
    ]);
    expect(state.pods.filter((p) => p.hostNetwork).map((p) => p.podIP)).toEqual(['172.18.0.2', '172.18.0.3', '172.18.0.4']);
  });

  it('gives every pod IP in host-local order: .2, .3, ... of its node, in manifest order', () => {
    for (const node of state.nodes) {
      const base = parseIpv4Cidr(node.podCIDR).address;
      const withIp = state.pods.filter((p) => p.nodeName === node.name && !p.hostNetwork && p.podIP !== undefined);
      expect(withIp.map((p) => parseIpv4(p.podIP as string) - base)).toEqual(withIp.map((_, i) => i + 2));
      // Pods without an IP come after those with one, so host-local's next address is free.
      const all = state.pods.filter((p) => p.nodeName === node.name && !p.hostNetwork);
      expect(all.slice(0, withIp.length)).toEqual(withIp);
    }
  });

  it('has a pod with two containers that talk over localhost', () => {
    const cart = state.pods.filter((p) => p.name.startsWith('cart-'));
    expect(cart).toHaveLength(2);
    for (const p of cart) {
      expect(p.containers.map((c) => [c.name, c.ports.map((port) => [port.name, port.containerPort])])).toEqual([
        ['cart', [['http', 8080]]],
        ['redis-sidecar', [['redis', 6379]]],
      ]);
    }
  });

  it('has a ClusterIP Service with a named targetPort, a NodePort and a LoadBalancer with ingress 203.0.113.10', () => {
    const byName = new Map(state.services.map((s) => [`${s.namespace}/${s.name}`, s]));
    expect(byName.get('shop/cart')).toMatchObject({ type: 'ClusterIP', ports: [{ name: 'http', port: 8080, targetPort: 'http' }] });
    expect(byName.get('shop/db')).toMatchObject({ type: 'NodePort', ports: [{ nodePort: 30432, targetPort: 'postgres' }] });
    expect(byName.get('shop/frontend')).toMatchObject({
      type: 'LoadBalancer',
      loadBalancerIPs: ['203.0.113.10'],
      ports: [{ port: 80, targetPort: 'http', nodePort: 30080 }],
    });
    expect(byName.get('kube-system/kube-dns')?.clusterIP).toBe('10.96.0.10');
  });

  it('has EndpointSlices that list exactly the selected pods, on their IPs and resolved ports', () => {
    for (const svc of state.services) {
      const selected = state.pods.filter((p) => selects(svc, p));
      expect(selected.length).toBeGreaterThan(0);
      for (const p of selected) {
        expect(p.podIP).toBeDefined();
        const node = state.nodes.find((n) => n.name === p.nodeName);
        expect(cidrContains(parseIpv4Cidr(node?.podCIDR ?? ''), parseIpv4(p.podIP ?? ''))).toBe(true);
      }
      const slices = state.endpointSlices.filter((s) => s.namespace === svc.namespace && s.serviceName === svc.name);
      expect(slices).toHaveLength(1);
      const slice = slices[0];
      expect(slice?.name).toMatch(new RegExp(`^${svc.name}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(slice?.endpoints.map((e) => [e.addresses[0], e.nodeName, e.targetRef?.name])).toEqual(
        selected.map((p) => [p.podIP, p.nodeName, p.name]),
      );
      // Slice ports: the Service port's name, with targetPort resolved against the pod's containers.
      const first = selected[0] as ClusterPod;
      expect(slice?.ports).toEqual(
        svc.ports.map((sp) => {
          const port =
            typeof sp.targetPort === 'number'
              ? sp.targetPort
              : first.containers.flatMap((c) => c.ports).find((cp) => cp.name === sp.targetPort && cp.protocol === sp.protocol)
                  ?.containerPort;
          return { name: sp.name, port, protocol: sp.protocol };
        }),
      );
    }
  });

  it('has a default-deny ingress policy in shop and a frontend → cart allowance on the named port', () => {
    const policies = state.networkPolicies as { metadata: { name: string; namespace: string }; spec: Record<string, unknown> }[];
    expect(policies.every((p) => p.metadata.namespace === 'shop')).toBe(true);
    const byName = new Map(policies.map((p) => [p.metadata.name, p.spec]));
    expect(byName.get('default-deny-ingress')).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    expect(byName.get('allow-frontend-to-cart')).toEqual({
      podSelector: { matchLabels: { app: 'cart' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'frontend' } } }], ports: [{ protocol: 'TCP', port: 'http' }] }],
    });
  });
});
