import { describe, expect, it } from 'vitest';
import { categorizeEndpoints, LABEL_TOPOLOGY_ZONE } from './categorize-endpoints.js';
import type { EndpointInfo } from './endpoint-info.js';
import type { ServicePortInfo } from './service-port-info.js';

/** BaseServicePortInfo{internalPolicyLocal, externalPolicyLocal, nodePort} */
function svc(f: { internalPolicyLocal?: boolean; externalPolicyLocal?: boolean; nodePort?: number } = {}): ServicePortInfo {
  const internalPolicyLocal = f.internalPolicyLocal ?? false;
  const externalPolicyLocal = f.externalPolicyLocal ?? false;
  const nodePort = f.nodePort ?? 0;
  const externallyAccessible = nodePort !== 0;
  return {
    namespace: 'ns',
    name: 'svc',
    serviceKey: 'ns/svc',
    portName: '',
    protocol: 'TCP',
    nameString: 'ns/svc',
    key: 'ns/svc/TCP',
    clusterIP: '10.96.0.1',
    port: 80,
    nodePort,
    externalIPs: [],
    loadBalancerVIPs: [],
    loadBalancerSourceRanges: [],
    sessionAffinityClientIP: false,
    stickyMaxAgeSeconds: 0,
    healthCheckNodePort: 0,
    externalPolicyLocal,
    internalPolicyLocal,
    externallyAccessible,
    usesClusterEndpoints: !internalPolicyLocal || externallyAccessible,
    usesLocalEndpoints: internalPolicyLocal || (externalPolicyLocal && externallyAccessible),
  };
}

/** BaseEndpointInfo{endpoint, zoneHints, nodeHints, ready, serving, terminating, isLocal} */
function ep(endpoint: string, f: { zones?: string[]; nodes?: string[]; ready?: boolean; serving?: boolean; terminating?: boolean; isLocal?: boolean } = {}): EndpointInfo {
  const [ip, port] = endpoint.split(':') as [string, string];
  return {
    ip,
    port: Number(port),
    endpoint,
    isLocal: f.isLocal ?? false,
    ready: f.ready ?? false,
    serving: f.serving ?? false,
    terminating: f.terminating ?? false,
    zoneHints: f.zones === undefined ? undefined : new Set(f.zones),
    nodeHints: f.nodes === undefined ? undefined : new Set(f.nodes),
  };
}

interface Case {
  name: string;
  preferSameNode?: boolean;
  nodeName?: string;
  nodeLabels?: Record<string, string>;
  serviceInfo: ServicePortInfo;
  endpoints: EndpointInfo[];
  clusterEndpoints: string[] | undefined;
  localEndpoints: string[] | undefined;
  allEndpoints?: string[];
  onlyRemoteEndpoints?: boolean;
}

const zoneA = { [LABEL_TOPOLOGY_ZONE]: 'zone-a' };
const r = (endpoint: string, zones?: string[], extra: { isLocal?: boolean; ready?: boolean } = {}): EndpointInfo =>
  ep(endpoint, { ready: extra.ready ?? true, ...(zones === undefined ? {} : { zones }), ...(extra.isLocal === undefined ? {} : { isLocal: extra.isLocal }) });

// pkg/proxy/topology_test.go TestCategorizeEndpoints (ProxyTerminatingEndpoints-era copy; the
// fallback to serving-terminating endpoints is unconditional in the current topology.go).
const CASES: Case[] = [
  {
    name: 'should use topology since all endpoints have hints, node has a zone label and and there are endpoints for the node\'s zone',
    nodeLabels: zoneA,
    serviceInfo: svc(),
    endpoints: [r('10.1.2.3:80', ['zone-a']), r('10.1.2.4:80', ['zone-b']), r('10.1.2.5:80', ['zone-c']), r('10.1.2.6:80', ['zone-a'])],
    clusterEndpoints: ['10.1.2.3:80', '10.1.2.6:80'],
    localEndpoints: undefined,
  },
  {
    name: 'externalTrafficPolicy: Local, topology ignored for Local endpoints',
    nodeLabels: zoneA,
    serviceInfo: svc({ externalPolicyLocal: true, nodePort: 8080 }),
    endpoints: [r('10.1.2.3:80', ['zone-a'], { isLocal: true }), r('10.1.2.4:80', ['zone-b'], { isLocal: true }), r('10.1.2.5:80', ['zone-c']), r('10.1.2.6:80', ['zone-a'])],
    clusterEndpoints: ['10.1.2.3:80', '10.1.2.6:80'],
    localEndpoints: ['10.1.2.3:80', '10.1.2.4:80'],
    allEndpoints: ['10.1.2.3:80', '10.1.2.4:80', '10.1.2.6:80'],
  },
  {
    name: 'internalTrafficPolicy: Local, topology ignored for Local endpoints',
    nodeLabels: zoneA,
    serviceInfo: svc({ internalPolicyLocal: true, externalPolicyLocal: false, nodePort: 8080 }),
    endpoints: [r('10.1.2.3:80', ['zone-a'], { isLocal: true }), r('10.1.2.4:80', ['zone-b'], { isLocal: true }), r('10.1.2.5:80', ['zone-c']), r('10.1.2.6:80', ['zone-a'])],
    clusterEndpoints: ['10.1.2.3:80', '10.1.2.6:80'],
    localEndpoints: ['10.1.2.3:80', '10.1.2.4:80'],
    allEndpoints: ['10.1.2.3:80', '10.1.2.4:80', '10.1.2.6:80'],
  },
  { name: 'empty node labels', nodeLabels: {}, serviceInfo: svc(), endpoints: [r('10.1.2.3:80', ['zone-a'])], clusterEndpoints: ['10.1.2.3:80'], localEndpoints: undefined },
  { name: 'empty zone label', nodeLabels: { [LABEL_TOPOLOGY_ZONE]: '' }, serviceInfo: svc(), endpoints: [r('10.1.2.3:80', ['zone-a'])], clusterEndpoints: ['10.1.2.3:80'], localEndpoints: undefined },
  {
    name: 'node in different zone, no endpoint filtering',
    nodeLabels: { [LABEL_TOPOLOGY_ZONE]: 'zone-b' },
    serviceInfo: svc(),
    endpoints: [r('10.1.2.3:80', ['zone-a'])],
    clusterEndpoints: ['10.1.2.3:80'],
    localEndpoints: undefined,
  },
  {
    name: 'unready endpoint',
    nodeLabels: zoneA,
    serviceInfo: svc(),
    endpoints: [r('10.1.2.3:80', ['zone-a']), r('10.1.2.4:80', ['zone-b']), r('10.1.2.5:80', ['zone-c']), r('10.1.2.6:80', ['zone-a'], { ready: false })],
    clusterEndpoints: ['10.1.2.3:80'],
    localEndpoints: undefined,
  },
  {
    name: 'only unready endpoints in same zone (should not filter)',
    nodeLabels: zoneA,
    serviceInfo: svc(),
    endpoints: [r('10.1.2.3:80', ['zone-a'], { ready: false }), r('10.1.2.4:80', ['zone-b']), r('10.1.2.5:80', ['zone-c']), r('10.1.2.6:80', ['zone-a'], { ready: false })],
    clusterEndpoints: ['10.1.2.4:80', '10.1.2.5:80'],
    localEndpoints: undefined,
  },
  {
    name: 'missing hints, no filtering applied',
    nodeLabels: zoneA,
    serviceInfo: svc(),
    endpoints: [r('10.1.2.3:80', ['zone-a']), r('10.1.2.4:80', ['zone-b']), r('10.1.2.5:80'), r('10.1.2.6:80', ['zone-a'])],
    clusterEndpoints: ['10.1.2.3:80', '10.1.2.4:80', '10.1.2.5:80', '10.1.2.6:80'],
    localEndpoints: undefined,
  },
  {
    name: 'multiple hints per endpoint, filtering includes any endpoint with zone included',
    nodeLabels: { [LABEL_TOPOLOGY_ZONE]: 'zone-c' },
    serviceInfo: svc(),
    endpoints: [r('10.1.2.3:80', ['zone-a', 'zone-b', 'zone-c']), r('10.1.2.4:80', ['zone-b', 'zone-c']), r('10.1.2.5:80', ['zone-b', 'zone-d']), r('10.1.2.6:80', ['zone-c'])],
    clusterEndpoints: ['10.1.2.3:80', '10.1.2.4:80', '10.1.2.6:80'],
    localEndpoints: undefined,
  },
  {
    name: 'conflicting topology and localness require merging allEndpoints',
    nodeLabels: zoneA,
    serviceInfo: svc({ internalPolicyLocal: false, externalPolicyLocal: true, nodePort: 8080 }),
    endpoints: [
      r('10.0.0.0:80', ['zone-a'], { isLocal: true }),
      r('10.0.0.1:80', ['zone-b'], { isLocal: true }),
      r('10.0.0.2:80', ['zone-a'], { isLocal: false }),
      r('10.0.0.3:80', ['zone-b'], { isLocal: false }),
    ],
    clusterEndpoints: ['10.0.0.0:80', '10.0.0.2:80'],
    localEndpoints: ['10.0.0.0:80', '10.0.0.1:80'],
    allEndpoints: ['10.0.0.0:80', '10.0.0.1:80', '10.0.0.2:80'],
  },
  { name: 'internalTrafficPolicy: Local, with empty endpoints', serviceInfo: svc({ internalPolicyLocal: true }), endpoints: [], clusterEndpoints: undefined, localEndpoints: [] },
  {
    name: 'internalTrafficPolicy: Local, but all endpoints are remote',
    serviceInfo: svc({ internalPolicyLocal: true }),
    endpoints: [r('10.0.0.0:80', undefined, { isLocal: false }), r('10.0.0.1:80', undefined, { isLocal: false })],
    clusterEndpoints: undefined,
    localEndpoints: [],
    onlyRemoteEndpoints: true,
  },
  {
    name: 'internalTrafficPolicy: Local, all endpoints are local',
    serviceInfo: svc({ internalPolicyLocal: true }),
    endpoints: [r('10.0.0.0:80', undefined, { isLocal: true }), r('10.0.0.1:80', undefined, { isLocal: true })],
    clusterEndpoints: undefined,
    localEndpoints: ['10.0.0.0:80', '10.0.0.1:80'],
  },
  {
    name: 'internalTrafficPolicy: Local, some endpoints are local',
    serviceInfo: svc({ internalPolicyLocal: true }),
    endpoints: [r('10.0.0.0:80', undefined, { isLocal: true }), r('10.0.0.1:80', undefined, { isLocal: false })],
    clusterEndpoints: undefined,
    localEndpoints: ['10.0.0.0:80'],
  },
  {
    name: 'Cluster traffic policy, endpoints not Ready',
    serviceInfo: svc(),
    endpoints: [ep('10.0.0.0:80'), ep('10.0.0.1:80')],
    clusterEndpoints: [],
    localEndpoints: undefined,
  },
  {
    name: 'Cluster traffic policy, some endpoints are Ready',
    serviceInfo: svc(),
    endpoints: [ep('10.0.0.0:80'), ep('10.0.0.1:80', { ready: true })],
    clusterEndpoints: ['10.0.0.1:80'],
    localEndpoints: undefined,
  },
  {
    name: 'Cluster traffic policy, all endpoints are terminating',
    serviceInfo: svc(),
    endpoints: [ep('10.0.0.0:80', { serving: true, terminating: true, isLocal: true }), ep('10.0.0.1:80', { serving: true, terminating: true })],
    clusterEndpoints: ['10.0.0.0:80', '10.0.0.1:80'],
    localEndpoints: undefined,
  },
  {
    name: 'iTP: Local, eTP: Cluster, some endpoints local',
    serviceInfo: svc({ internalPolicyLocal: true, externalPolicyLocal: false, nodePort: 8080 }),
    endpoints: [r('10.0.0.0:80', undefined, { isLocal: true }), r('10.0.0.1:80', undefined, { isLocal: false })],
    clusterEndpoints: ['10.0.0.0:80', '10.0.0.1:80'],
    localEndpoints: ['10.0.0.0:80'],
    allEndpoints: ['10.0.0.0:80', '10.0.0.1:80'],
  },
  {
    name: 'iTP: Cluster, eTP: Local, some endpoints local',
    serviceInfo: svc({ internalPolicyLocal: false, externalPolicyLocal: true, nodePort: 8080 }),
    endpoints: [r('10.0.0.0:80', undefined, { isLocal: true }), r('10.0.0.1:80', undefined, { isLocal: false })],
    clusterEndpoints: ['10.0.0.0:80', '10.0.0.1:80'],
    localEndpoints: ['10.0.0.0:80'],
    allEndpoints: ['10.0.0.0:80', '10.0.0.1:80'],
  },
  {
    name: 'iTP: Local, eTP: Local, some endpoints local',
    serviceInfo: svc({ internalPolicyLocal: true, externalPolicyLocal: true, nodePort: 8080 }),
    endpoints: [r('10.0.0.0:80', undefined, { isLocal: true }), r('10.0.0.1:80', undefined, { isLocal: false })],
    clusterEndpoints: ['10.0.0.0:80', '10.0.0.1:80'],
    localEndpoints: ['10.0.0.0:80'],
    allEndpoints: ['10.0.0.0:80', '10.0.0.1:80'],
  },
  {
    name: 'iTP: Local, eTP: Local, all endpoints remote',
    serviceInfo: svc({ internalPolicyLocal: true, externalPolicyLocal: true, nodePort: 8080 }),
    endpoints: [r('10.0.0.0:80', undefined, { isLocal: false }), r('10.0.0.1:80', undefined, { isLocal: false })],
    clusterEndpoints: ['10.0.0.0:80', '10.0.0.1:80'],
    localEndpoints: [],
    allEndpoints: ['10.0.0.0:80', '10.0.0.1:80'],
  },
  {
    name: 'iTP: Local, eTP: Local, all endpoints remote and terminating',
    serviceInfo: svc({ internalPolicyLocal: true, externalPolicyLocal: true, nodePort: 8080 }),
    endpoints: [ep('10.0.0.0:80', { serving: true, terminating: true }), ep('10.0.0.1:80', { serving: true, terminating: true })],
    clusterEndpoints: ['10.0.0.0:80', '10.0.0.1:80'],
    localEndpoints: [],
    allEndpoints: ['10.0.0.0:80', '10.0.0.1:80'],
    onlyRemoteEndpoints: true,
  },
  {
    name: 'iTP: Cluster, eTP: Local, with terminating endpoints',
    serviceInfo: svc({ internalPolicyLocal: false, externalPolicyLocal: true, nodePort: 8080 }),
    endpoints: [
      ep('10.0.0.0:80', { ready: true }),
      ep('10.0.0.1:80', { serving: false, isLocal: true }),
      ep('10.0.0.2:80', { serving: true, terminating: true, isLocal: true }),
      ep('10.0.0.3:80', { serving: true, terminating: true }),
    ],
    clusterEndpoints: ['10.0.0.0:80'],
    localEndpoints: ['10.0.0.2:80'],
    allEndpoints: ['10.0.0.0:80', '10.0.0.2:80'],
  },
  {
    name: 'externalTrafficPolicy ignored if not externally accessible',
    serviceInfo: svc({ externalPolicyLocal: true }),
    endpoints: [r('10.0.0.0:80', undefined, { isLocal: false }), r('10.0.0.1:80', undefined, { isLocal: true })],
    clusterEndpoints: ['10.0.0.0:80', '10.0.0.1:80'],
    localEndpoints: undefined,
    allEndpoints: ['10.0.0.0:80', '10.0.0.1:80'],
  },
  {
    name: 'no cluster endpoints for iTP:Local internal-only service',
    serviceInfo: svc({ internalPolicyLocal: true }),
    endpoints: [r('10.0.0.0:80', undefined, { isLocal: false }), r('10.0.0.1:80', undefined, { isLocal: true })],
    clusterEndpoints: undefined,
    localEndpoints: ['10.0.0.1:80'],
    allEndpoints: ['10.0.0.1:80'],
  },
  // Node hints (PreferSameTrafficDistribution), following topologyModeFromHints in topology.go.
  {
    name: 'node hints: every ready endpoint hinted and one for this node, gate on',
    preferSameNode: true,
    nodeName: 'node-a',
    nodeLabels: zoneA,
    serviceInfo: svc(),
    endpoints: [ep('10.0.0.1:80', { ready: true, nodes: ['node-a'], zones: ['zone-a'] }), ep('10.0.0.2:80', { ready: true, nodes: ['node-b'], zones: ['zone-a'] })],
    clusterEndpoints: ['10.0.0.1:80'],
    localEndpoints: undefined,
  },
  {
    name: 'node hints: gate off falls back to zone hints',
    preferSameNode: false,
    nodeName: 'node-a',
    nodeLabels: zoneA,
    serviceInfo: svc(),
    endpoints: [ep('10.0.0.1:80', { ready: true, nodes: ['node-a'], zones: ['zone-a'] }), ep('10.0.0.2:80', { ready: true, nodes: ['node-b'], zones: ['zone-a'] })],
    clusterEndpoints: ['10.0.0.1:80', '10.0.0.2:80'],
    localEndpoints: undefined,
  },
  {
    name: 'node hints: none for this node falls back to zone hints',
    preferSameNode: true,
    nodeName: 'node-c',
    nodeLabels: zoneA,
    serviceInfo: svc(),
    endpoints: [ep('10.0.0.1:80', { ready: true, nodes: ['node-a'], zones: ['zone-a'] }), ep('10.0.0.2:80', { ready: true, nodes: ['node-b'], zones: ['zone-b'] })],
    clusterEndpoints: ['10.0.0.1:80'],
    localEndpoints: undefined,
  },
];

function names(eps: readonly EndpointInfo[] | undefined): string[] | undefined {
  return eps === undefined ? undefined : eps.map((e) => e.endpoint).sort();
}

describe('categorizeEndpoints', () => {
  it.each(CASES)('$name', (tc) => {
    const got = categorizeEndpoints(tc.endpoints, tc.serviceInfo, {
      nodeName: tc.nodeName ?? 'test-node',
      nodeLabels: tc.nodeLabels,
      preferSameTrafficDistribution: tc.preferSameNode ?? false,
    });
    expect(names(got.clusterEndpoints)).toEqual(tc.clusterEndpoints?.slice().sort());
    expect(names(got.localEndpoints)).toEqual(tc.localEndpoints?.slice().sort());
    const expectedAll =
      tc.clusterEndpoints !== undefined && tc.localEndpoints === undefined
        ? tc.clusterEndpoints
        : tc.localEndpoints !== undefined && tc.clusterEndpoints === undefined
          ? tc.localEndpoints
          : (tc.allEndpoints ?? []);
    expect(names(got.allReachableEndpoints)).toEqual(expectedAll.slice().sort());
    expect(got.hasAnyEndpoints).toBe(expectedAll.length > 0 || (tc.onlyRemoteEndpoints ?? false));
  });
});
