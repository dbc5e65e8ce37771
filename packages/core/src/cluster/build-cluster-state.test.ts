import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatKnetError, isKnetError } from '../errors/knet-error.js';
import type { KnetError } from '../errors/knet-error.js';
import { loadManifests } from '../k8s/load-manifests.js';
import { buildClusterState } from './build-cluster-state.js';
import type { BuildClusterStateOptions } from './build-cluster-state.js';

type Obj = Record<string, unknown>;

function thrown(fn: () => unknown): KnetError {
  try {
    fn();
  } catch (e) {
    if (isKnetError(e)) return e;
    throw e;
  }
  throw new Error('expected a KnetError');
}

const node = (name: string, ip: string, podCIDR?: string): Obj => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  ...(podCIDR === undefined ? {} : { spec: { podCIDR } }),
  status: { addresses: [{ type: 'Hostname', address: name }, { type: 'InternalIP', address: ip }] },
});

const pod = (name: string, nodeName: string | undefined, podIP?: string, extra: Obj = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'shop', labels: { app: name } },
  spec: {
    ...(nodeName === undefined ? {} : { nodeName }),
    containers: [{ name: 'main', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }],
    ...((extra['spec'] as Obj | undefined) ?? {}),
  },
  ...(podIP === undefined ? {} : { status: { podIP } }),
});

const service = (name: string, spec: Obj): Obj => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'shop' },
  spec,
});

const netpol = (spec: Obj): Obj => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'np', namespace: 'shop' },
  spec,
});

const knet = (spec: Obj): Obj => ({ apiVersion: 'knet.dev/v1alpha1', kind: 'KnetCluster', metadata: { name: 'k' }, spec });

/** Two nodes with /24s of the default cluster CIDR, then the given objects, one document each. */
const BASE = [node('n1', '172.18.0.2', '10.244.0.0/24'), node('n2', '172.18.0.3', '10.244.1.0/24')];

function yamlOf(objects: readonly Obj[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

function build(objects: readonly Obj[], options?: BuildClusterStateOptions) {
  return buildClusterState(loadManifests([{ file: 'c.yaml', text: yamlOf(objects) }]), options);
}

function buildError(objects: readonly Obj[], options?: BuildClusterStateOptions): KnetError {
  return thrown(() => build(objects, options));
}

describe('buildClusterState', () => {
  describe('errors name the file, document and field', () => {
    it.each<[string, Obj[], string, number, string]>([
      ['missing metadata.name', [...BASE, { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'x' }, spec: {} }], 'EINVAL', 2, 'metadata.name'],
      ['invalid node InternalIP', [node('n1', '172.18.0.300')], 'EINVAL', 0, 'status.addresses[1].address'],
      ['invalid node pod CIDR', [node('n1', '172.18.0.2', '10.244.0.0/33')], 'EINVAL', 0, 'spec.podCIDR'],
      ['pod CIDR with host bits', [node('n1', '172.18.0.2', '10.244.0.7/24')], 'EINVAL', 0, 'spec.podCIDR'],
      ['invalid pod IP', [...BASE, pod('a', 'n1', '10.244.0.256')], 'EINVAL', 2, 'status.podIP'],
      ['invalid cluster IP', [...BASE, service('s', { clusterIP: '10.96.0.1.1', ports: [{ port: 80 }] })], 'EINVAL', 2, 'spec.clusterIP'],
      ['invalid cluster CIDR', [knet({ clusterCIDR: '10.244.0.0' }), ...BASE], 'EINVAL', 0, 'spec.clusterCIDR'],
      ['invalid service CIDR', [knet({ serviceCIDR: 'ten/12' })], 'EINVAL', 0, 'spec.serviceCIDR'],
      ['invalid fabric CIDR', [knet({ fabric: { cidr: '172.18.0.1/24' } })], 'EINVAL', 0, 'spec.fabric.cidr'],
      ['invalid externalIP', [...BASE, service('s', { ports: [{ port: 80 }], externalIPs: ['198.51.100.x'] })], 'EINVAL', 2, 'spec.externalIPs[0]'],
      [
        'invalid load balancer ingress IP',
        [...BASE, { ...service('s', { type: 'LoadBalancer', ports: [{ port: 80 }] }), status: { loadBalancer: { ingress: [{ ip: '203.0.113' }] } } }],
        'EINVAL',
        2,
        'status.loadBalancer.ingress[0].ip',
      ],
      [
        'invalid ipBlock CIDR',
        [...BASE, netpol({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '192.0.2.0/40' } }] }] })],
        'EINVAL',
        2,
        'spec.ingress[0].from[0].ipBlock.cidr',
      ],
      [
        'invalid EndpointSlice address',
        [
          ...BASE,
          {
            apiVersion: 'discovery.k8s.io/v1',
            kind: 'EndpointSlice',
            metadata: { name: 's-abcde', namespace: 'shop', labels: { 'kubernetes.io/service-name': 's' } },
            addressType: 'IPv4',
            endpoints: [{ addresses: ['10.244.0.5'] }, { addresses: ['10.244.0.999'] }],
          },
        ],
        'EINVAL',
        2,
        'endpoints[1].addresses[0]',
      ],
      [
        'invalid Endpoints address',
        [...BASE, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'e', namespace: 'shop' }, subsets: [{ addresses: [{ ip: 'db.example' }], ports: [{ port: 5432 }] }] }],
        'EINVAL',
        2,
        'subsets[0].addresses[0].ip',
      ],
      ['pod IP outside its node pod CIDR', [...BASE, pod('a', 'n1', '10.244.1.5')], 'EINVAL', 2, 'status.podIP'],
      ['pod IP is the network address', [...BASE, pod('a', 'n1', '10.244.0.0')], 'EINVAL', 2, 'status.podIP'],
      ['two pods with the same IP', [...BASE, pod('a', 'n1', '10.244.0.5'), pod('b', 'n1', '10.244.0.5')], 'EINVAL', 3, 'status.podIP'],
      ['pod on an unknown node', [...BASE, pod('a', 'n9')], 'EINVAL', 2, 'spec.nodeName'],
      ['node pod CIDR outside the cluster CIDR', [node('n1', '172.18.0.2', '10.245.0.0/24')], 'EINVAL', 0, 'spec.podCIDR'],
      ['node pod CIDR larger than the cluster CIDR', [node('n1', '172.18.0.2', '10.0.0.0/8')], 'EINVAL', 0, 'spec.podCIDR'],
      ['overlapping node pod CIDRs', [...BASE, node('n3', '172.18.0.4', '10.244.1.128/25')], 'EINVAL', 2, 'spec.podCIDR'],
      ['overlapping pod CIDRs given in reverse', [node('n3', '172.18.0.4', '10.244.1.128/25'), ...BASE], 'EINVAL', 2, 'spec.podCIDR'],
      ['node without an InternalIP', [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { addresses: [{ type: 'ExternalIP', address: '198.51.100.1' }] } }], 'EINVAL', 0, 'status.addresses'],
      ['two nodes with the same InternalIP', [node('n1', '172.18.0.2'), node('n2', '172.18.0.2')], 'EINVAL', 1, 'status.addresses[1].address'],
      ['duplicate pod', [...BASE, pod('a', 'n1'), pod('a', 'n2')], 'EINVAL', 3, 'metadata.name'],
      ['duplicate node', [...BASE, node('n1', '172.18.0.9')], 'EINVAL', 2, 'metadata.name'],
      [
        'container port out of range',
        [
          ...BASE,
          pod('a', 'n1', undefined, {
            spec: { containers: [{ name: 'a', ports: [{ containerPort: 80 }] }, { name: 'b', ports: [{ containerPort: 65536 }] }] },
          }),
        ],
        'EINVAL',
        2,
        'spec.containers[1].ports[0].containerPort',
      ],
      ['container port zero', [...BASE, pod('a', 'n1', undefined, { spec: { containers: [{ name: 'a', ports: [{ containerPort: 0 }] }] } })], 'EINVAL', 2, 'spec.containers[0].ports[0].containerPort'],
      ['unknown container port protocol', [...BASE, pod('a', 'n1', undefined, { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80, protocol: 'ICMP' }] }] } })], 'EINVAL', 2, 'spec.containers[0].ports[0].protocol'],
      ['unknown service port protocol', [...BASE, service('s', { ports: [{ port: 80, protocol: 'tcp' }] })], 'EINVAL', 2, 'spec.ports[0].protocol'],
      ['unknown NetworkPolicy port protocol', [...BASE, netpol({ podSelector: {}, egress: [{ ports: [{ protocol: 'ICMP' }] }] })], 'EINVAL', 2, 'spec.egress[0].ports[0].protocol'],
      ['bad selector operator', [...BASE, netpol({ podSelector: { matchExpressions: [{ key: 'app', operator: 'Equals', values: ['x'] }] } })], 'EINVAL', 2, 'spec.podSelector.matchExpressions[0].operator'],
      [
        'bad peer selector operator',
        [...BASE, netpol({ podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'in', values: ['x'] }] } }] }] })],
        'EINVAL',
        2,
        'spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].operator',
      ],
      ['In without values', [...BASE, netpol({ podSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } })], 'EINVAL', 2, 'spec.podSelector.matchExpressions[0].values'],
      [
        'except outside its cidr',
        [...BASE, netpol({ podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '192.0.2.0/24', except: ['198.51.100.0/24'] } }] }] })],
        'EINVAL',
        2,
        'spec.egress[0].to[0].ipBlock.except[0]',
      ],
      [
        'except equal to its cidr',
        [...BASE, netpol({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '192.0.2.0/24', except: ['192.0.2.0/24'] } }] }] })],
        'EINVAL',
        2,
        'spec.ingress[0].from[0].ipBlock.except[0]',
      ],
      ['ipBlock with a selector', [...BASE, netpol({ podSelector: {}, ingress: [{ from: [{ podSelector: {}, ipBlock: { cidr: '192.0.2.0/24' } }] }] })], 'EINVAL', 2, 'spec.ingress[0].from[0].ipBlock'],
      ['empty peer', [...BASE, netpol({ podSelector: {}, ingress: [{ from: [{}] }] })], 'EINVAL', 2, 'spec.ingress[0].from[0]'],
      ['endPort with a named port', [...BASE, netpol({ podSelector: {}, ingress: [{ ports: [{ port: 'http', endPort: 90 }] }] })], 'EINVAL', 2, 'spec.ingress[0].ports[0].endPort'],
      ['endPort below port', [...BASE, netpol({ podSelector: {}, ingress: [{ ports: [{ port: 90, endPort: 80 }] }] })], 'EINVAL', 2, 'spec.ingress[0].ports[0].endPort'],
      ['bad policy type', [...BASE, netpol({ podSelector: {}, policyTypes: ['ingress'] })], 'EINVAL', 2, 'spec.policyTypes[0]'],
      ['cluster IP outside the service CIDR', [...BASE, service('s', { clusterIP: '10.244.0.10', ports: [{ port: 80 }] })], 'EINVAL', 2, 'spec.clusterIP'],
      ['two Services with one cluster IP', [...BASE, service('a', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] }), service('b', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] })], 'EINVAL', 3, 'spec.clusterIP'],
      ['unnamed port among several', [...BASE, service('s', { ports: [{ port: 80, name: 'http' }, { port: 443 }] })], 'EINVAL', 2, 'spec.ports[1].name'],
      ['invalid named targetPort', [...BASE, service('s', { ports: [{ port: 80, targetPort: '8080' }] })], 'EINVAL', 2, 'spec.ports[0].targetPort'],
      ['non-string label value', [...BASE, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', labels: { version: 1 } } }], 'EINVAL', 2, 'metadata.labels.version'],
      ['two KnetClusters', [knet({}), ...BASE, knet({})], 'EINVAL', 3, 'kind'],
      ['unknown kube-proxy mode', [knet({ kubeProxy: { mode: 'userspace' } })], 'EINVAL', 0, 'spec.kubeProxy.mode'],
      ['route limit above the AWS maximum', [knet({ fabric: { cloud: { provider: 'aws', routeLimit: 1001 } } })], 'EINVAL', 0, 'spec.fabric.cloud.routeLimit'],
      ['route limit above Azure 400', [knet({ fabric: { cloud: { provider: 'azure', routeLimit: 401 } } })], 'EINVAL', 0, 'spec.fabric.cloud.routeLimit'],
      ['unknown cloud provider', [knet({ fabric: { cloud: { provider: 'gcp' } } })], 'EINVAL', 0, 'spec.fabric.cloud.provider'],
      ['node mask shorter than the cluster CIDR', [knet({ clusterCIDR: '10.244.0.0/16', nodeCIDRMaskSize: 15 })], 'EINVAL', 0, 'spec.nodeCIDRMaskSize'],
      ['bad node interface name', [knet({ fabric: { nodeInterface: 'eth0/1' } })], 'EINVAL', 0, 'spec.fabric.nodeInterface'],
      ['node outside the given fabric', [knet({ fabric: { cidr: '192.168.56.0/24' } }), ...BASE], 'EINVAL', 1, 'status.addresses[1].address'],
      ['pod without containers', [...BASE, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { nodeName: 'n1', containers: [] } }], 'EINVAL', 2, 'spec.containers'],
    ])('%s', (_name, objects, code, document, field) => {
      const e = buildError(objects);
      expect(e.code).toBe(code);
      expect(e.details['file']).toBe('c.yaml');
      expect(e.details['document']).toBe(document);
      expect(e.details['field']).toBe(field);
      expect(formatKnetError(e).startsWith(`c.yaml: document ${document}: ${field}: `)).toBe(true);
      expect(formatKnetError(e)).not.toContain('\n');
    });

    it('prefixes the item path of a kind: List item', () => {
      const list = {
        apiVersion: 'v1',
        kind: 'List',
        items: [node('n1', '172.18.0.2', '10.244.0.0/24'), node('n2', '172.18.0.3', '10.244.1.0/24'), node('n3', '172.18.0.4', '10.245.2.0/24')],
      };
      const e = thrown(() => buildClusterState(loadManifests([{ file: 'nodes.json', text: JSON.stringify(list) }])));
      expect(e.code).toBe('EINVAL');
      expect(e.details).toMatchObject({ file: 'nodes.json', document: 0, field: 'items[2].spec.podCIDR' });
    });

    it('reports more nodes than pod CIDRs as ENOSPC naming the cluster CIDR and the count', () => {
      const nodes = Array.from({ length: 5 }, (_, i) => node(`n${i}`, `172.18.0.${i + 2}`));
      const e = buildError([knet({ clusterCIDR: '10.244.0.0/22', nodeCIDRMaskSize: 24 }), ...nodes]);
      expect(e.code).toBe('ENOSPC');
      expect(e.details).toMatchObject({ file: 'c.yaml', document: 5, field: 'spec.podCIDR', clusterCIDR: '10.244.0.0/22', subnets: 4, nodes: 5 });
      expect(e.message).toContain('10.244.0.0/22');
      expect(e.message).toContain('4');
    });

    it('reports ENOSPC when the service range eats the blocks a node needs', () => {
      const e = buildError([
        knet({ clusterCIDR: '10.0.0.0/22', serviceCIDR: '10.0.0.0/23', nodeCIDRMaskSize: 24 }),
        node('n1', '172.18.0.2'),
        node('n2', '172.18.0.3'),
        node('n3', '172.18.0.4'),
      ]);
      expect(e.code).toBe('ENOSPC');
      expect(e.details).toMatchObject({ document: 3, field: 'spec.podCIDR', clusterCIDR: '10.0.0.0/22', subnets: 4 });
    });

    it('names <options> for a bad override', () => {
      const e = buildError(BASE, { override: { kubeProxy: { mode: 'kernelspace' } } });
      expect(e.code).toBe('EINVAL');
      expect(e.details).toMatchObject({ file: '<options>', field: 'spec.kubeProxy.mode' });
    });
  });

  describe('defaults and allocation', () => {
    it('uses every KnetCluster default when there is none, deriving the fabric from the nodes', () => {
      const state = build(BASE);
      expect(state.cluster).toEqual({
        name: 'default',
        clusterCIDR: '10.244.0.0/16',
        serviceCIDR: '10.96.0.0/12',
        nodeCIDRMaskSize: 24,
        cni: { plugin: 'kubenet', options: {} },
        kubeProxy: { mode: 'iptables' },
        fabric: { cidr: '172.18.0.0/24', mtu: 1500, nodeInterface: 'eth0' },
      });
      expect(state.warnings).toEqual([]);
    });

    it('applies KnetCluster fields, cloud defaults and passes cni.options through', () => {
      const state = build([
        knet({
          clusterCIDR: '10.100.0.0/16',
          serviceCIDR: '10.200.0.0/16',
          nodeCIDRMaskSize: 26,
          cni: { plugin: 'flannel', options: { backend: { Type: 'vxlan' } } },
          kubeProxy: { mode: 'ipvs' },
          fabric: { cidr: '192.168.56.0/24', mtu: 9001, nodeInterface: 'ens5', cloud: { provider: 'aws' } },
        }),
        node('n1', '192.168.56.11'),
      ]);
      expect(state.cluster).toEqual({
        name: 'k',
        clusterCIDR: '10.100.0.0/16',
        serviceCIDR: '10.200.0.0/16',
        nodeCIDRMaskSize: 26,
        cni: { plugin: 'flannel', options: { backend: { Type: 'vxlan' } } },
        kubeProxy: { mode: 'ipvs' },
        fabric: { cidr: '192.168.56.0/24', mtu: 9001, nodeInterface: 'ens5', cloud: { provider: 'aws', routeLimit: 50 } },
      });
      expect(state.nodes[0]?.podCIDR).toBe('10.100.0.0/26');
      expect(build([knet({ fabric: { cloud: { provider: 'azure' } } })]).cluster.fabric.cloud).toEqual({ provider: 'azure', routeLimit: 400 });
    });

    it('applies overrides over the KnetCluster', () => {
      const state = build([knet({ cni: { plugin: 'flannel', options: { a: 1 } }, kubeProxy: { mode: 'ipvs' } })], {
        override: { kubeProxy: { mode: 'nftables' }, cni: { options: { b: 2 } } },
      });
      expect(state.cluster.kubeProxy.mode).toBe('nftables');
      expect(state.cluster.cni).toEqual({ plugin: 'flannel', options: { b: 2 } });
    });

    it('warns about unknown KnetCluster fields', () => {
      const state = build([knet({ clusterCidr: '10.1.0.0/16', fabric: { mtu: 1450, bridge: 'x' } })]);
      expect(state.warnings.map((w) => [w.document, w.field])).toEqual([
        [0, 'spec.clusterCidr'],
        [0, 'spec.fabric.bridge'],
      ]);
      expect(state.cluster.clusterCIDR).toBe('10.244.0.0/16');
    });

    it('allocates missing pod CIDRs like the range allocator: given ones first, then lowest free in manifest order', () => {
      const state = build([
        node('a', '172.18.0.2'),
        node('b', '172.18.0.3', '10.244.0.0/24'),
        node('c', '172.18.0.4'),
        node('d', '172.18.0.5', '10.244.2.0/24'),
        node('e', '172.18.0.6'),
      ]);
      expect(state.nodes.map((n) => [n.name, n.podCIDR, n.podCIDRAllocated])).toEqual([
        ['a', '10.244.1.0/24', true],
        ['b', '10.244.0.0/24', false],
        ['c', '10.244.3.0/24', true],
        ['d', '10.244.2.0/24', false],
        ['e', '10.244.4.0/24', true],
      ]);
    });

    it('never hands out blocks of a service range inside the cluster CIDR (filterOutServiceRange)', () => {
      const state = build([knet({ clusterCIDR: '10.0.0.0/16', serviceCIDR: '10.0.0.0/20' }), node('a', '172.18.0.2'), node('b', '172.18.0.3')]);
      expect(state.nodes.map((n) => n.podCIDR)).toEqual(['10.0.16.0/24', '10.0.17.0/24']);
    });

    it('reads spec.podCIDRs when spec.podCIDR is absent and skips IPv6 entries', () => {
      const n = { ...node('a', '172.18.0.2'), spec: { podCIDRs: ['fd00:10:244::/64', '10.244.7.0/24'] } };
      expect(build([n]).nodes[0]?.podCIDR).toBe('10.244.7.0/24');
    });

    it('rejects podCIDRs[0] that disagrees with podCIDR', () => {
      const n = { ...node('a', '172.18.0.2'), spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.2.0/24'] } };
      expect(buildError([n]).details).toMatchObject({ document: 0, field: 'spec.podCIDRs[0]' });
    });

    it('defaults a Service as the API server does', () => {
      const state = build([...BASE, service('web', { clusterIP: '10.96.5.5', selector: { app: 'web' }, ports: [{ port: 80 }] })]);
      expect(state.services[0]).toEqual({
        namespace: 'shop',
        name: 'web',
        labels: {},
        type: 'ClusterIP',
        clusterIP: '10.96.5.5',
        clusterIPs: ['10.96.5.5'],
        selector: { app: 'web' },
        ports: [{ protocol: 'TCP', port: 80, targetPort: 80 }],
        externalIPs: [],
        loadBalancerIPs: [],
        loadBalancerSourceRanges: [],
        externalTrafficPolicy: 'Cluster',
        internalTrafficPolicy: 'Cluster',
        sessionAffinity: 'None',
        sessionAffinityTimeout: 10800,
        source: { file: 'c.yaml', document: 2 },
      });
    });

    it('keeps headless, ExternalName, ClientIP affinity and Local policies', () => {
      const state = build([
        ...BASE,
        service('h', { clusterIP: 'None', selector: { app: 'h' }, ports: [{ name: 'a', port: 80, targetPort: 'http' }, { name: 'b', port: 53, protocol: 'UDP' }] }),
        service('x', { type: 'ExternalName', externalName: 'db.example.com' }),
        service('l', {
          type: 'LoadBalancer',
          clusterIP: '10.96.0.20',
          ports: [{ port: 443, nodePort: 31443 }],
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
          externalTrafficPolicy: 'Local',
          internalTrafficPolicy: 'Local',
          healthCheckNodePort: 32000,
          loadBalancerSourceRanges: [' 203.0.113.0/25'],
        }),
      ]);
      const [h, x, l] = state.services;
      expect(h?.clusterIP).toBe('None');
      expect(h?.clusterIPs).toEqual(['None']);
      expect(h?.ports).toEqual([
        { name: 'a', protocol: 'TCP', port: 80, targetPort: 'http' },
        { name: 'b', protocol: 'UDP', port: 53, targetPort: 53 },
      ]);
      expect(x?.type).toBe('ExternalName');
      expect(x?.externalName).toBe('db.example.com');
      expect(x?.clusterIP).toBeUndefined();
      expect(l).toMatchObject({
        sessionAffinity: 'ClientIP',
        sessionAffinityTimeout: 60,
        externalTrafficPolicy: 'Local',
        internalTrafficPolicy: 'Local',
        healthCheckNodePort: 32000,
        loadBalancerSourceRanges: ['203.0.113.0/25'],
        ports: [{ protocol: 'TCP', port: 443, targetPort: 443, nodePort: 31443 }],
      });
    });

    it('treats an empty selector as none', () => {
      expect(build([...BASE, service('s', { selector: {}, ports: [{ port: 80 }] })]).services[0]?.selector).toBeUndefined();
    });

    it('leaves ipMode Proxy load balancer IPs out, with a warning', () => {
      const svc = { ...service('s', { type: 'LoadBalancer', ports: [{ port: 80 }] }), status: { loadBalancer: { ingress: [{ ip: '203.0.113.10', ipMode: 'Proxy' }, { ip: '203.0.113.11', ipMode: 'VIP' }] } } };
      const state = build([...BASE, svc]);
      expect(state.services[0]?.loadBalancerIPs).toEqual(['203.0.113.11']);
      expect(state.warnings.map((w) => w.field)).toEqual(['status.loadBalancer.ingress[0].ipMode']);
    });

    it('reads pods: protocol default, hostNetwork IPs, podIPs', () => {
      const state = build([
        ...BASE,
        pod('a', 'n1', '10.244.0.2'),
        pod('h1', 'n1', undefined, { spec: { hostNetwork: true } }),
        { ...pod('h2', 'n1', undefined, { spec: { hostNetwork: true } }), status: { podIP: '172.18.0.2' } },
        { ...pod('b', 'n2'), status: { podIPs: [{ ip: 'fd00::5' }, { ip: '10.244.1.9' }] } },
        pod('c', 'n2'),
      ]);
      expect(state.pods.map((p) => [p.name, p.nodeName, p.hostNetwork, p.podIP])).toEqual([
        ['a', 'n1', false, '10.244.0.2'],
        ['h1', 'n1', true, '172.18.0.2'],
        ['h2', 'n1', true, '172.18.0.2'],
        ['b', 'n2', false, '10.244.1.9'],
        ['c', 'n2', false, undefined],
      ]);
      expect(state.pods[0]?.containers).toEqual([{ name: 'main', image: 'nginx', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }]);
      expect(state.warnings).toEqual([]);
    });
  });

  describe('warnings, never silent drops', () => {
    it('warns about unknown kinds and unknown apiVersions of known kinds, and leaves them out', () => {
      const state = build([
        ...BASE,
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'shop' } },
        { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'k', namespace: 'shop' } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } },
      ]);
      expect(state.warnings.map((w) => [w.file, w.document, w.field])).toEqual([
        ['c.yaml', 2, 'kind'],
        ['c.yaml', 3, 'apiVersion'],
        ['c.yaml', 4, 'kind'],
      ]);
      expect(state.services).toEqual([]);
    });

    it('warns about and leaves out unscheduled and finished pods', () => {
      const state = build([
        ...BASE,
        pod('pending', undefined),
        { ...pod('done', 'n1'), status: { phase: 'Succeeded', podIP: '10.244.0.9' } },
        { ...pod('again', 'n1'), status: { phase: 'Running', podIP: '10.244.0.9' } },
      ]);
      expect(state.pods.map((p) => p.name)).toEqual(['again']);
      expect(state.warnings.map((w) => [w.document, w.field])).toEqual([
        [2, 'spec.nodeName'],
        [3, 'status.phase'],
      ]);
      expect(state.warnings[0]?.message).toContain('unscheduled pod ignored');
    });
  });

  describe('namespaces', () => {
    it('creates referenced namespaces, in order of first appearance, with the metadata.name label', () => {
      const state = build([
        ...BASE,
        { ...pod('a', 'n1'), metadata: { name: 'a', namespace: 'web' } },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'x' } } },
        { ...pod('b', 'n1'), metadata: { name: 'b' } },
        pod('c', 'n1'),
      ]);
      expect(state.namespaces).toEqual([
        { name: 'web', labels: { 'kubernetes.io/metadata.name': 'web' } },
        { name: 'shop', labels: { team: 'x', 'kubernetes.io/metadata.name': 'shop' } },
        { name: 'default', labels: { 'kubernetes.io/metadata.name': 'default' } },
      ]);
      expect(state.pods.map((p) => p.namespace)).toEqual(['web', 'default', 'shop']);
    });
  });

  describe('Endpoints mirroring', () => {
    const endpoints = (name: string, extra: Obj = {}): Obj => ({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace: 'shop', ...extra },
      subsets: [{ addresses: [{ ip: '192.0.2.10' }], notReadyAddresses: [{ ip: '192.0.2.11' }], ports: [{ name: 'pg', port: 5432 }] }],
    });

    it('mirrors Endpoints of a Service without a selector', () => {
      const state = build([...BASE, service('db', { clusterIP: '10.96.0.50', ports: [{ name: 'pg', port: 5432 }] }), endpoints('db')]);
      expect(state.endpointSlices).toHaveLength(1);
      const slice = state.endpointSlices[0];
      expect(slice).toMatchObject({
        namespace: 'shop',
        serviceName: 'db',
        addressType: 'IPv4',
        fromEndpoints: true,
        ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
        endpoints: [
          { addresses: ['192.0.2.10'], ready: true, serving: true, terminating: false },
          { addresses: ['192.0.2.11'], ready: false, serving: true, terminating: false },
        ],
        source: { file: 'c.yaml', document: 3 },
      });
      expect(slice?.name).toMatch(/^db-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(state.warnings).toEqual([]);
    });

    it('does not mirror when the Service is missing, and says so', () => {
      const state = build([...BASE, endpoints('db')]);
      expect(state.endpointSlices).toEqual([]);
      expect(state.warnings.map((w) => w.document)).toEqual([2]);
    });

    it('does not mirror Endpoints of a Service with a selector; warns only when no slices were loaded', () => {
      const svc = service('web', { clusterIP: '10.96.0.51', selector: { app: 'web' }, ports: [{ name: 'pg', port: 5432 }] });
      const slice = {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-x2b4k', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
        addressType: 'IPv4',
        endpoints: null,
        ports: null,
      };
      const without = build([...BASE, svc, endpoints('web')]);
      expect(without.endpointSlices).toEqual([]);
      expect(without.warnings.map((w) => w.document)).toEqual([3]);
      const withSlice = build([...BASE, svc, endpoints('web'), slice]);
      expect(withSlice.endpointSlices.map((s) => [s.name, s.fromEndpoints, s.endpoints.length])).toEqual([['web-x2b4k', false, 0]]);
      expect(withSlice.warnings).toEqual([]);
    });

    it('honours the skip-mirror label and slices the mirroring controller already wrote', () => {
      const svc = service('db', { clusterIP: '10.96.0.50', ports: [{ name: 'pg', port: 5432 }] });
      expect(build([...BASE, svc, endpoints('db', { labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } })]).endpointSlices).toEqual([]);
      const mirrored = {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'db-7xq2z', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' } },
        addressType: 'IPv4',
        ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
        endpoints: [{ addresses: ['192.0.2.10'], conditions: { ready: true } }],
      };
      const state = build([...BASE, svc, endpoints('db'), mirrored]);
      expect(state.endpointSlices.map((s) => s.name)).toEqual(['db-7xq2z']);
    });

    it('reads EndpointSlice conditions with kube-proxy defaults', () => {
      const slice = {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-abcde', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 8080 }, { name: 'all' }],
        endpoints: [
          { addresses: ['10.244.0.5'] },
          { addresses: ['10.244.0.6'], conditions: { ready: false, serving: true, terminating: true }, nodeName: 'n1', zone: 'z1', targetRef: { kind: 'Pod', namespace: 'shop', name: 'p' } },
        ],
      };
      const state = build([...BASE, slice]);
      expect(state.endpointSlices[0]).toMatchObject({
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        endpoints: [
          { addresses: ['10.244.0.5'], ready: true, serving: true, terminating: false },
          { addresses: ['10.244.0.6'], ready: false, serving: true, terminating: true, nodeName: 'n1', zone: 'z1', targetRef: { kind: 'Pod', namespace: 'shop', name: 'p' } },
        ],
      });
      expect(state.warnings.map((w) => w.field)).toEqual(['ports[1].port']);
    });
  });

  it('keeps NetworkPolicy objects as loaded', () => {
    const np = netpol({ podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.1/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 5432, endPort: 5440 }] }] });
    const state = build([...BASE, np]);
    expect(state.networkPolicies).toEqual([np]);
  });

  it('stays linear: 1,000 nodes with 30 pods each', () => {
    const objects: Obj[] = [knet({ clusterCIDR: '10.128.0.0/9' })];
    for (let n = 0; n < 1000; n++) {
      objects.push(node(`node-${n}`, `172.20.${n >> 8}.${n & 255}`));
      for (let p = 0; p < 30; p++) {
        objects.push({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `p-${n}-${p}`, namespace: `ns-${p % 5}` },
          spec: { nodeName: `node-${n}`, containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] },
        });
      }
    }
    const state = buildClusterState(loadManifests([{ file: 'big.json', text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) }]));
    expect(state.pods).toHaveLength(30000);
    expect(state.nodes[999]?.podCIDR).toBe('10.131.231.0/24');
  });
});
