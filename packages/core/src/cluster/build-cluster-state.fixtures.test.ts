import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadManifests } from '../k8s/load-manifests.js';
import type { ManifestInput } from '../k8s/load-manifests.js';
import { parseSimpleYaml } from '../k8s/parse-simple-yaml.js';
import { buildClusterState } from './build-cluster-state.js';

// kubectl-shaped fixtures: see packages/core/test/fixtures/manifests/README.md for their provenance.
function fixture(name: string): ManifestInput {
  return { file: name, text: readFileSync(new URL(`../../test/fixtures/manifests/${name}`, import.meta.url), 'utf8') };
}

const NODES_PODS = fixture('kubectl-get-nodes-pods.yaml');
const SERVICES = fixture('kubectl-get-services-endpointslices.json');
const EXTERNAL_DB = fixture('endpoints-external-db.yaml');

describe('buildClusterState on kubectl output', () => {
  const loaded = loadManifests([NODES_PODS, SERVICES, EXTERNAL_DB]);
  const state = buildClusterState(loaded);

  it('loads kind: List documents item by item, keeping item paths', () => {
    expect(loaded.objects.map((o) => `${o.source.file}#${o.source.document}/${o.source.path ?? ''} ${o.kind}`)).toEqual([
      'kubectl-get-nodes-pods.yaml#0/items[0] Node',
      'kubectl-get-nodes-pods.yaml#0/items[1] Node',
      'kubectl-get-nodes-pods.yaml#0/items[2] Pod',
      'kubectl-get-nodes-pods.yaml#0/items[3] Pod',
      'kubectl-get-nodes-pods.yaml#0/items[4] Pod',
      'kubectl-get-nodes-pods.yaml#0/items[5] Pod',
      'kubectl-get-nodes-pods.yaml#0/items[6] Pod',
      'kubectl-get-services-endpointslices.json#0/items[0] Service',
      'kubectl-get-services-endpointslices.json#0/items[1] Service',
      'kubectl-get-services-endpointslices.json#0/items[2] EndpointSlice',
      'kubectl-get-services-endpointslices.json#0/items[3] EndpointSlice',
      'endpoints-external-db.yaml#0/items[0] Service',
      'endpoints-external-db.yaml#0/items[1] Endpoints',
    ]);
  });

  it('reads the kubectl YAML on the fast path, with the same result as the yaml package', () => {
    for (const f of [NODES_PODS, EXTERNAL_DB]) {
      const fast = parseSimpleYaml(f.text);
      expect(fast).toBeDefined();
      expect(fast).toEqual(parseAllDocuments(f.text).map((d) => d.toJS() as unknown));
    }
  });

  it('reads nodes from their spec and status, ignoring managedFields and the rest', () => {
    expect(state.nodes.map((n) => [n.name, n.internalIP, n.podCIDR, n.podCIDRAllocated, n.labels['kubernetes.io/hostname']])).toEqual([
      ['kind-control-plane', '172.18.0.2', '10.244.0.0/24', false, 'kind-control-plane'],
      ['kind-worker', '172.18.0.3', '10.244.1.0/24', false, 'kind-worker'],
    ]);
    expect(state.cluster.fabric.cidr).toBe('172.18.0.0/24');
  });

  it('keeps running pods, lets a running pod reuse a finished pod IP, and warns about the rest', () => {
    expect(state.pods.map((p) => [`${p.namespace}/${p.name}`, p.nodeName, p.hostNetwork, p.podIP])).toEqual([
      ['kube-system/coredns-7db6d8ff4d-5qjxm', 'kind-control-plane', false, '10.244.0.2'],
      ['kube-system/kube-proxy-x7wqk', 'kind-worker', true, '172.18.0.3'],
      ['shop/web-6b7c8d9f5-m2x4p', 'kind-worker', false, '10.244.1.3'],
    ]);
    expect(state.pods[0]?.containers[0]?.ports).toEqual([
      { name: 'dns', containerPort: 53, protocol: 'UDP' },
      { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
    ]);
    expect(state.warnings.map((w) => [w.file, w.document, w.field])).toEqual([
      ['kubectl-get-nodes-pods.yaml', 0, 'items[4].status.phase'],
      ['kubectl-get-nodes-pods.yaml', 0, 'items[6].spec.nodeName'],
    ]);
  });

  it('reads Services with the fields kubectl shows and defaults for the rest', () => {
    expect(state.services.map((s) => [s.name, s.type, s.clusterIP, s.ports, s.externalTrafficPolicy, s.loadBalancerIPs, s.healthCheckNodePort])).toEqual([
      ['web', 'ClusterIP', '10.96.220.17', [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' }], 'Cluster', [], undefined],
      ['web-public', 'LoadBalancer', '10.96.14.201', [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30443 }], 'Local', ['203.0.113.20'], 31987],
      ['external-db', 'ClusterIP', '10.96.133.7', [{ name: 'pg', protocol: 'TCP', port: 5432, targetPort: 5432 }], 'Cluster', [], undefined],
    ]);
  });

  it('keeps the EndpointSlice controller slices and mirrors the selector-less Endpoints', () => {
    expect(state.endpointSlices.map((s) => [s.serviceName, s.fromEndpoints, s.endpoints.map((e) => [e.addresses[0], e.ready])])).toEqual([
      ['web', false, [['10.244.1.3', true]]],
      ['web-public', false, [['10.244.1.3', true]]],
      ['external-db', true, [['192.0.2.10', true], ['192.0.2.12', true], ['192.0.2.11', false]]],
    ]);
    const mirrored = state.endpointSlices[2];
    expect(mirrored?.name).toMatch(/^external-db-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(mirrored?.ports).toEqual([{ name: 'pg', port: 5432, protocol: 'TCP' }]);
    expect(mirrored?.source).toEqual({ file: 'endpoints-external-db.yaml', document: 0, path: 'items[1]' });
  });

  it('creates the namespaces the objects live in', () => {
    expect(state.namespaces.map((n) => n.name)).toEqual(['kube-system', 'shop']);
  });

  it('names the List item in errors found in kubectl output', () => {
    const broken = NODES_PODS.text.replaceAll('10.244.1.0/24', '10.244.0.128/25');
    let error: unknown;
    try {
      buildClusterState(loadManifests([{ file: NODES_PODS.file, text: broken }]));
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'EINVAL', details: { file: NODES_PODS.file, document: 0, field: 'items[1].spec.podCIDR' } });
  });
});
