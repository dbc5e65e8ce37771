import { describe, expect, it } from 'vitest';
import type { ProxyService } from './proxy-input.js';
import { buildServicePorts, servicePortsFingerprint } from './service-port-info.js';
import type { ServicePortInfo } from './service-port-info.js';

type Port = ProxyService['ports'][number];
/** upstream addTestPort(array, name, protocol, port, nodeport, targetPort) */
const port = (name: string, protocol: Port['protocol'], p: number, nodePort: number): Port => ({ name, protocol, port: p, nodePort });

/** upstream svcPortMap.HealthCheckNodePorts(): Service → health-check node port. */
function healthCheckNodePorts(ports: readonly ServicePortInfo[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of ports) if (p.healthCheckNodePort !== 0) out.set(p.serviceKey, p.healthCheckNodePort);
  return out;
}

const allPorts = (services: readonly ProxyService[]): ServicePortInfo[] => services.flatMap((s) => buildServicePorts(s, 'IPv4'));

describe('buildServicePorts', () => {
  // TestBuildServiceMapAddRemove
  const services: ProxyService[] = [
    { namespace: 'somewhere-else', name: 'cluster-ip', type: 'ClusterIP', clusterIP: '172.30.55.4', ports: [port('something', 'UDP', 1234, 4321), port('somethingelse', 'UDP', 1235, 5321), port('sctpport', 'SCTP', 1236, 6321)] },
    { namespace: 'somewhere-else', name: 'node-port', type: 'NodePort', clusterIP: '172.30.55.10', ports: [port('blahblah', 'UDP', 345, 678), port('moreblahblah', 'TCP', 344, 677), port('muchmoreblah', 'SCTP', 343, 676)] },
    { namespace: 'somewhere', name: 'load-balancer', type: 'LoadBalancer', clusterIP: '172.30.55.11', ports: [port('foobar', 'UDP', 8675, 30061), port('baz', 'UDP', 8676, 30062)], loadBalancerIPs: ['1.2.3.4'] },
    {
      namespace: 'somewhere',
      name: 'only-local-load-balancer',
      type: 'LoadBalancer',
      clusterIP: '172.30.55.12',
      ports: [port('foobar2', 'UDP', 8677, 30063), port('baz', 'UDP', 8678, 30064)],
      loadBalancerIPs: ['5.6.7.8'],
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 345,
    },
  ];

  it('TestBuildServiceMapAddRemove: 10 service ports, one health check node port', () => {
    const ports = allPorts(services);
    expect(ports).toHaveLength(10);
    expect([...healthCheckNodePorts(ports)]).toEqual([['somewhere/only-local-load-balancer', 345]]);
    // Remove the first port of services[0] and delete the other three services.
    const oneService: ProxyService = { namespace: 'somewhere-else', name: 'cluster-ip', type: 'ClusterIP', clusterIP: '172.30.55.4', ports: [port('somethingelse', 'UDP', 1235, 5321)] };
    const after = allPorts([oneService]);
    expect(after).toHaveLength(1);
    expect(healthCheckNodePorts(after).size).toBe(0);
  });

  it('TestBuildServiceMapServiceHeadless: headless Services are ignored', () => {
    expect(
      allPorts([
        { namespace: 'somewhere-else', name: 'headless', type: 'ClusterIP', clusterIP: 'None', ports: [port('rpc', 'UDP', 1234, 0)] },
        { namespace: 'somewhere-else', name: 'headless-without-port', type: 'ClusterIP', clusterIP: 'None', ports: [] },
      ]),
    ).toEqual([]);
  });

  it('TestBuildServiceMapServiceTypeExternalName: ExternalName Services are ignored, cluster IP or not', () => {
    expect(allPorts([{ namespace: 'somewhere-else', name: 'external-name', type: 'ExternalName', clusterIP: '172.30.55.4', ports: [port('blah', 'UDP', 1235, 5321)] }])).toEqual([]);
  });

  it('TestBuildServiceMapServiceUpdate: ClusterIP → LoadBalancer (eTP Local) → ClusterIP', () => {
    const v1: ProxyService = { namespace: 'somewhere', name: 'some-service', type: 'ClusterIP', clusterIP: '172.30.55.4', ports: [port('something', 'UDP', 1234, 4321), port('somethingelse', 'TCP', 1235, 5321)] };
    const v2: ProxyService = {
      namespace: 'somewhere',
      name: 'some-service',
      type: 'LoadBalancer',
      clusterIP: '172.30.55.4',
      ports: [port('something', 'UDP', 1234, 4321), port('somethingelse', 'TCP', 1235, 5321)],
      loadBalancerIPs: ['1.2.3.4'],
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 345,
    };
    expect(allPorts([v1])).toHaveLength(2);
    expect(healthCheckNodePorts(allPorts([v1])).size).toBe(0);
    expect(allPorts([v2])).toHaveLength(2);
    expect(healthCheckNodePorts(allPorts([v2])).size).toBe(1);
    // "No change": the same Service twice is not a change; v1 and v2 differ.
    expect(servicePortsFingerprint(allPorts([v2]))).toBe(servicePortsFingerprint(allPorts([{ ...v2 }])));
    expect(servicePortsFingerprint(allPorts([v1]))).not.toBe(servicePortsFingerprint(allPorts([v2])));
    expect(healthCheckNodePorts(allPorts([v1])).size).toBe(0);
  });

  it('names service ports as upstream does (ServicePortName.String)', () => {
    const [named, ...rest] = buildServicePorts({ namespace: 'ns1', name: 'svc1', clusterIP: '172.30.0.41', ports: [{ name: 'p80', protocol: 'TCP', port: 80 }] }, 'IPv4');
    expect(rest).toEqual([]);
    expect(named?.nameString).toBe('ns1/svc1:p80');
    expect(named?.key).toBe('ns1/svc1:p80/TCP');
    const [unnamed] = buildServicePorts({ namespace: 'ns1', name: 'svc1', clusterIP: '172.30.0.41', ports: [{ protocol: 'UDP', port: 53 }] }, 'IPv4');
    expect(unnamed?.nameString).toBe('ns1/svc1');
    expect(unnamed?.key).toBe('ns1/svc1/UDP');
  });

  // TestBadIPs and facts section 1.1: sloppy parsing, family filtering, trimmed ranges
  it('normalises addresses and drops those of the other family', () => {
    const [p] = buildServicePorts(
      {
        namespace: 'ns1',
        name: 'svc1',
        type: 'LoadBalancer',
        clusterIP: '172.30.0.041',
        clusterIPs: ['172.30.0.041', 'fd00:172:30::41'],
        ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 3001 }],
        externalIPs: ['192.168.099.022', '2001:db8::99', 'not-an-ip'],
        loadBalancerIngress: [{ ip: '1.2.3.004' }, { ip: '2001:db8::4' }, { ip: '5.6.7.8', ipMode: 'Proxy' }, { ip: '' }],
        loadBalancerSourceRanges: [' 203.0.113.000/025', '2001:db8::/32', 'bogus'],
      },
      'IPv4',
    );
    expect(p?.clusterIP).toBe('172.30.0.41');
    expect(p?.externalIPs).toEqual(['192.168.99.22']);
    expect(p?.loadBalancerVIPs).toEqual(['1.2.3.4']);
    expect(p?.loadBalancerSourceRanges.map((c) => c.text)).toEqual(['203.0.113.0/25']);
    const [v6] = buildServicePorts(
      { namespace: 'ns1', name: 'svc1', clusterIP: '172.30.0.41', clusterIPs: ['172.30.0.41', 'fd00:172:30::41'], ports: [{ name: 'p80', protocol: 'TCP', port: 80 }], externalIPs: ['2001:db8::99'] },
      'IPv6',
    );
    expect(v6?.clusterIP).toBe('fd00:172:30::41');
    expect(v6?.externalIPs).toEqual(['2001:db8::99']);
    expect(buildServicePorts({ namespace: 'ns1', name: 'v4only', clusterIP: '172.30.0.41', ports: [{ protocol: 'TCP', port: 80 }] }, 'IPv6')).toEqual([]);
  });

  it.each<[string, NonNullable<ProxyService['type']>, readonly string[], boolean, boolean]>([
    // apiservice.ExternalPolicyLocal: only externally accessible types count; NeedsHealthCheck: LoadBalancer only
    ['LoadBalancer', 'LoadBalancer', [], true, true],
    ['NodePort', 'NodePort', [], true, false],
    ['ClusterIP with external IPs', 'ClusterIP', ['192.168.99.11'], true, false],
    ['ClusterIP without external IPs', 'ClusterIP', [], false, false],
  ])('externalTrafficPolicy Local on %s', (_name, type, externalIPs, local, hc) => {
    const [p] = buildServicePorts(
      { namespace: 'ns', name: 's', type, clusterIP: '172.30.0.1', externalIPs, externalTrafficPolicy: 'Local', healthCheckNodePort: 30000, ports: [{ protocol: 'TCP', port: 80 }] },
      'IPv4',
    );
    expect(p?.externalPolicyLocal).toBe(local);
    expect(p?.healthCheckNodePort).toBe(hc ? 30000 : 0);
  });

  it('reads session affinity with its default timeout', () => {
    const base = { namespace: 'ns', name: 's', clusterIP: '172.30.0.1', ports: [{ protocol: 'TCP' as const, port: 80 }] };
    expect(buildServicePorts({ ...base, sessionAffinity: 'ClientIP' }, 'IPv4')[0]?.stickyMaxAgeSeconds).toBe(10800);
    expect(buildServicePorts({ ...base, sessionAffinity: 'ClientIP', sessionAffinityTimeout: 60 }, 'IPv4')[0]?.stickyMaxAgeSeconds).toBe(60);
    expect(buildServicePorts({ ...base, sessionAffinityTimeout: 60 }, 'IPv4')[0]?.stickyMaxAgeSeconds).toBe(0);
  });
});
