import { describe, expect, it } from 'vitest';
import { buildEndpointsMap, buildServiceEndpoints, localReadyEndpoints } from './endpoint-info.js';
import type { ProxyEndpoint, ProxyEndpointSlice } from './proxy-input.js';

const NODE = 'test-node';
const opts = { family: 'IPv4' as const, nodeName: NODE };

/** upstream makeTestEndpointSlice(namespace, name, sliceNum, ...) with UDP ports. */
function slice(ns: string, svc: string, num: number, endpoints: readonly ProxyEndpoint[], ports: readonly [string, number][]): ProxyEndpointSlice {
  return { namespace: ns, name: `${svc}-${num}`, serviceName: svc, addressType: 'IPv4', endpoints, ports: ports.map(([name, port]) => ({ name, port, protocol: 'UDP' })) };
}
const ep = (ip: string, local = false): ProxyEndpoint => (local ? { addresses: [ip], nodeName: NODE } : { addresses: [ip] });

// TestUpdateEndpointsMap's slice sets
const subset1 = (ns: string, svc: string, n: number) => slice(ns, svc, n, [ep('10.1.1.1')], [['p11', 11]]);
const subset2 = (ns: string, svc: string, n: number) => slice(ns, svc, n, [ep('10.1.1.2')], [['p12', 12]]);
const namedPortLocal = [slice('ns1', 'ep1', 1, [ep('10.1.1.1', true)], [['p11', 11]])];
const namedPort = [subset1('ns1', 'ep1', 1)];
const namedPortRenamed = [slice('ns1', 'ep1', 1, [ep('10.1.1.1')], [['p11-2', 11]])];
const namedPortRenumbered = [slice('ns1', 'ep1', 1, [ep('10.1.1.1')], [['p11', 22]])];
const namedPortsLocalNoLocal = [slice('ns1', 'ep1', 1, [ep('10.1.1.1'), ep('10.1.1.2', true)], [['p11', 11], ['p12', 12]])];
const multipleSubsets = [subset1('ns1', 'ep1', 1), subset2('ns1', 'ep1', 2)];
const multipleSubsetsWithLocal = [subset1('ns1', 'ep1', 1), slice('ns1', 'ep1', 2, [ep('10.1.1.2', true)], [['p12', 12]])];
const multipleSubsetsMultiplePortsLocal = [
  slice('ns1', 'ep1', 1, [ep('10.1.1.1', true)], [['p11', 11], ['p12', 12]]),
  slice('ns1', 'ep1', 2, [ep('10.1.1.3')], [['p13', 13]]),
];
const multipleSubsetsIPsPorts = [
  slice('ns1', 'ep1', 1, [ep('10.1.1.1'), ep('10.1.1.2', true)], [['p11', 11], ['p12', 12]]),
  slice('ns1', 'ep1', 2, [ep('10.1.1.3'), ep('10.1.1.4', true)], [['p13', 13], ['p14', 14]]),
  slice('ns2', 'ep2', 1, [ep('10.2.2.1'), ep('10.2.2.2', true)], [['p21', 21], ['p22', 22]]),
];
const complexBefore = [
  subset1('ns1', 'ep1', 1),
  slice('ns2', 'ep2', 1, [ep('10.2.2.2', true), ep('10.2.2.22', true)], [['p22', 22]]),
  slice('ns2', 'ep2', 2, [ep('10.2.2.3', true)], [['p23', 23]]),
  slice('ns4', 'ep4', 1, [ep('10.4.4.4', true), ep('10.4.4.5', true)], [['p44', 44]]),
  slice('ns4', 'ep4', 2, [ep('10.4.4.6', true)], [['p45', 45]]),
];
const complexAfter = [
  slice('ns1', 'ep1', 1, [ep('10.1.1.1'), ep('10.1.1.11')], [['p11', 11]]),
  slice('ns1', 'ep1', 2, [ep('10.1.1.2')], [['p12', 12], ['p122', 122]]),
  slice('ns3', 'ep3', 1, [ep('10.3.3.3')], [['p33', 33]]),
  slice('ns4', 'ep4', 1, [ep('10.4.4.4', true)], [['p44', 44]]),
];
const emptyEndpointSlices: ProxyEndpointSlice[] = [{ namespace: 'ns1', name: 'ep1-1', serviceName: 'ep1', addressType: 'IPv4', ports: [], endpoints: [] }];

type Expect = Record<string, [string, boolean][]>;
const k = (ns: string, svc: string, p: string): string => `${ns}/${svc}:${p}/UDP`;

function view(slices: readonly ProxyEndpointSlice[]): Expect {
  const out: Expect = {};
  for (const [key, eps] of buildEndpointsMap(slices, opts)) out[key] = eps.map((e) => [e.endpoint, e.isLocal]);
  return out;
}

// TestUpdateEndpointsMap: [name, previous, current, oldEndpoints, expectedResult, expectedLocalEndpoints]
const CASES: [string, ProxyEndpointSlice[], ProxyEndpointSlice[], Expect, Expect, Record<string, number>][] = [
  ['nothing', [], [], {}, {}, {}],
  ['no change, named port, local', namedPortLocal, namedPortLocal, { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', true]] }, { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', true]] }, { 'ns1/ep1': 1 }],
  [
    'no change, multiple subsets',
    multipleSubsets,
    multipleSubsets,
    { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false]], [k('ns1', 'ep1', 'p12')]: [['10.1.1.2:12', false]] },
    { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false]], [k('ns1', 'ep1', 'p12')]: [['10.1.1.2:12', false]] },
    {},
  ],
  [
    'no change, multiple subsets, multiple ports, local',
    multipleSubsetsMultiplePortsLocal,
    multipleSubsetsMultiplePortsLocal,
    { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', true]], [k('ns1', 'ep1', 'p12')]: [['10.1.1.1:12', true]], [k('ns1', 'ep1', 'p13')]: [['10.1.1.3:13', false]] },
    { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', true]], [k('ns1', 'ep1', 'p12')]: [['10.1.1.1:12', true]], [k('ns1', 'ep1', 'p13')]: [['10.1.1.3:13', false]] },
    { 'ns1/ep1': 1 },
  ],
  [
    'no change, multiple endpoints, subsets, IPs, and ports',
    multipleSubsetsIPsPorts,
    multipleSubsetsIPsPorts,
    {
      [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false], ['10.1.1.2:11', true]],
      [k('ns1', 'ep1', 'p12')]: [['10.1.1.1:12', false], ['10.1.1.2:12', true]],
      [k('ns1', 'ep1', 'p13')]: [['10.1.1.3:13', false], ['10.1.1.4:13', true]],
      [k('ns1', 'ep1', 'p14')]: [['10.1.1.3:14', false], ['10.1.1.4:14', true]],
      [k('ns2', 'ep2', 'p21')]: [['10.2.2.1:21', false], ['10.2.2.2:21', true]],
      [k('ns2', 'ep2', 'p22')]: [['10.2.2.1:22', false], ['10.2.2.2:22', true]],
    },
    {
      [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false], ['10.1.1.2:11', true]],
      [k('ns1', 'ep1', 'p12')]: [['10.1.1.1:12', false], ['10.1.1.2:12', true]],
      [k('ns1', 'ep1', 'p13')]: [['10.1.1.3:13', false], ['10.1.1.4:13', true]],
      [k('ns1', 'ep1', 'p14')]: [['10.1.1.3:14', false], ['10.1.1.4:14', true]],
      [k('ns2', 'ep2', 'p21')]: [['10.2.2.1:21', false], ['10.2.2.2:21', true]],
      [k('ns2', 'ep2', 'p22')]: [['10.2.2.1:22', false], ['10.2.2.2:22', true]],
    },
    { 'ns1/ep1': 2, 'ns2/ep2': 1 },
  ],
  ['add an Endpoints', [], namedPortLocal, {}, { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', true]] }, { 'ns1/ep1': 1 }],
  ['remove an Endpoints', namedPortLocal, [], { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', true]] }, {}, {}],
  [
    'add an IP and port',
    namedPort,
    namedPortsLocalNoLocal,
    { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false]] },
    { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false], ['10.1.1.2:11', true]], [k('ns1', 'ep1', 'p12')]: [['10.1.1.1:12', false], ['10.1.1.2:12', true]] },
    { 'ns1/ep1': 1 },
  ],
  [
    'remove an IP and port',
    namedPortsLocalNoLocal,
    namedPort,
    { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false], ['10.1.1.2:11', true]], [k('ns1', 'ep1', 'p12')]: [['10.1.1.1:12', false], ['10.1.1.2:12', true]] },
    { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false]] },
    {},
  ],
  [
    'add a subset',
    [namedPort[0] as ProxyEndpointSlice],
    multipleSubsetsWithLocal,
    { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false]] },
    { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false]], [k('ns1', 'ep1', 'p12')]: [['10.1.1.2:12', true]] },
    { 'ns1/ep1': 1 },
  ],
  [
    'remove a subset',
    multipleSubsets,
    [namedPort[0] as ProxyEndpointSlice],
    { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false]], [k('ns1', 'ep1', 'p12')]: [['10.1.1.2:12', false]] },
    { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false]] },
    {},
  ],
  ['rename a port', namedPort, namedPortRenamed, { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false]] }, { [k('ns1', 'ep1', 'p11-2')]: [['10.1.1.1:11', false]] }, {}],
  ['renumber a port', namedPort, namedPortRenumbered, { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false]] }, { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:22', false]] }, {}],
  [
    'complex add and remove',
    complexBefore,
    complexAfter,
    {
      [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false]],
      [k('ns2', 'ep2', 'p22')]: [['10.2.2.22:22', true], ['10.2.2.2:22', true]],
      [k('ns2', 'ep2', 'p23')]: [['10.2.2.3:23', true]],
      [k('ns4', 'ep4', 'p44')]: [['10.4.4.4:44', true], ['10.4.4.5:44', true]],
      [k('ns4', 'ep4', 'p45')]: [['10.4.4.6:45', true]],
    },
    {
      [k('ns1', 'ep1', 'p11')]: [['10.1.1.11:11', false], ['10.1.1.1:11', false]],
      [k('ns1', 'ep1', 'p12')]: [['10.1.1.2:12', false]],
      [k('ns1', 'ep1', 'p122')]: [['10.1.1.2:122', false]],
      [k('ns3', 'ep3', 'p33')]: [['10.3.3.3:33', false]],
      [k('ns4', 'ep4', 'p44')]: [['10.4.4.4:44', true]],
    },
    { 'ns4/ep4': 1 },
  ],
  ['change from 0 endpoint address to 1 unnamed port', emptyEndpointSlices, namedPort, {}, { [k('ns1', 'ep1', 'p11')]: [['10.1.1.1:11', false]] }, {}],
];

describe('buildEndpointsMap', () => {
  it.each(CASES)('TestUpdateEndpointsMap: %s', (_name, previous, current, oldEndpoints, expectedResult, expectedLocal) => {
    expect(view(previous)).toEqual(oldEndpoints);
    expect(view(current)).toEqual(expectedResult);
    expect(Object.fromEntries(localReadyEndpoints(buildEndpointsMap(current, opts)))).toEqual(expectedLocal);
  });

  it('ignores slices of the other address type, ports without a number, endpoints without addresses', () => {
    const map = buildEndpointsMap(
      [
        { namespace: 'ns', name: 's-v6', serviceName: 's', addressType: 'IPv6', ports: [{ name: 'p', port: 80 }], endpoints: [{ addresses: ['fd00::1'] }] },
        { namespace: 'ns', name: 's-1', serviceName: 's', addressType: 'IPv4', ports: [{ name: 'p', port: 80 }, { name: 'all' }, { name: 'zero', port: 0 }], endpoints: [{ addresses: [] }, { addresses: ['10.0.0.1', '10.0.0.2'] }] },
      ],
      opts,
    );
    expect([...map.keys()]).toEqual(['ns/s:p/TCP']);
    expect(map.get('ns/s:p/TCP')?.map((e) => e.endpoint)).toEqual(['10.0.0.1:80']);
  });

  it('prefers a non-terminating endpoint when the same IP:port appears twice (EndpointSliceCache.addEndpoints)', () => {
    const mk = (name: string, terminating: boolean, nodeName: string): ProxyEndpointSlice => ({
      namespace: 'ns',
      name,
      serviceName: 's',
      addressType: 'IPv4',
      ports: [{ name: 'p', port: 80, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.0.0.1'], ready: !terminating, serving: true, terminating, nodeName }],
    });
    for (const order of [
      [mk('a', true, 'old'), mk('b', false, 'new')],
      [mk('a', false, 'new'), mk('b', true, 'old')],
    ]) {
      const eps = buildServiceEndpoints(order, { family: 'IPv4', nodeName: 'new' });
      expect(eps.get('ns/s:p/TCP')).toHaveLength(1);
      expect(eps.get('ns/s:p/TCP')?.[0]?.isLocal).toBe(true);
      expect(eps.get('ns/s:p/TCP')?.[0]?.terminating).toBe(false);
    }
  });

  it('reads conditions with their defaults and IPv6 endpoints as [ip]:port', () => {
    const eps = buildServiceEndpoints(
      [{ namespace: 'ns', name: 's-1', serviceName: 's', addressType: 'IPv6', ports: [{ name: '', port: 80, protocol: 'TCP' }], endpoints: [{ addresses: ['FD00:10:180:0::1'] }] }],
      { family: 'IPv6', nodeName: NODE },
    ).get('ns/s/TCP');
    expect(eps?.[0]).toMatchObject({ ip: 'fd00:10:180::1', endpoint: '[fd00:10:180::1]:80', ready: true, serving: true, terminating: false, isLocal: false });
  });
});

describe('localReadyEndpoints', () => {
  // TestHealthCheckNodePortWhenTerminating
  it('counts local ready endpoints and stops counting once they all terminate', () => {
    const base = { namespace: 'ns1', name: 'svc1-1', serviceName: 'svc1', addressType: 'IPv4' as const, ports: [{ name: '', port: 80, protocol: 'TCP' as const }] };
    const ready = buildEndpointsMap(
      [
        {
          ...base,
          endpoints: [
            { addresses: ['10.0.1.1'], ready: true, nodeName: NODE },
            { addresses: ['10.0.1.2'], ready: true, nodeName: NODE },
            { addresses: ['10.0.1.3'], ready: true, nodeName: NODE },
            { addresses: ['10.0.1.4'], ready: false, nodeName: NODE },
          ],
        },
      ],
      opts,
    );
    expect(localReadyEndpoints(ready).size).toBe(1);
    const terminating = buildEndpointsMap(
      [
        {
          ...base,
          endpoints: [
            { addresses: ['10.0.1.1'], ready: false, serving: true, terminating: false, nodeName: NODE },
            { addresses: ['10.0.1.2'], ready: false, serving: true, terminating: true, nodeName: NODE },
            { addresses: ['10.0.1.3'], ready: false, serving: true, terminating: true, nodeName: NODE },
            { addresses: ['10.0.1.4'], ready: false, serving: false, terminating: true, nodeName: NODE },
          ],
        },
      ],
      opts,
    );
    expect(localReadyEndpoints(terminating).size).toBe(0);
  });
});
