import { describe, expect, it } from 'vitest';
import {
  buildEndpointsMap,
  buildServiceEndpoints,
  buildServicePorts,
  categorizeEndpoints,
  formatIpSloppy,
  groupSlicesByService,
  isLoopback,
  isServiceChainName,
  localReadyEndpoints,
  nodePortIPs,
  parseIpSloppy,
  parseNodePortAddresses,
  renderServicePort,
  resolveIptablesOptions,
  resolveLocalhostNodePorts,
  servicePortsFingerprint,
} from './index.js';

// The @example blocks of the TSDoc comments, run with their stated results.
describe('TSDoc examples', () => {
  it('front end', () => {
    expect(parseIpSloppy('fd00:0:0::0:1')?.text).toBe('fd00::1');
    expect(formatIpSloppy('10.180.00.001')).toBe('10.180.0.1');
    expect([...groupSlicesByService([{ namespace: 'ns', name: 's-1', serviceName: 's', addressType: 'IPv4', ports: [], endpoints: [] }]).keys()]).toEqual(['ns/s']);
    const map = buildEndpointsMap(
      [{ namespace: 'ns1', name: 'ep1-1', serviceName: 'ep1', addressType: 'IPv4', ports: [{ name: 'p11', port: 11, protocol: 'UDP' }], endpoints: [{ addresses: ['10.1.1.1'] }, { addresses: ['10.1.1.11'] }] }],
      { family: 'IPv4', nodeName: 'test-node' },
    );
    expect(map.get('ns1/ep1:p11/UDP')?.map((e) => e.endpoint)).toEqual(['10.1.1.11:11', '10.1.1.1:11']);
    const two = buildEndpointsMap(
      [{ namespace: 'ns', name: 's-1', serviceName: 's', addressType: 'IPv4', ports: [{ name: 'a', port: 1 }, { name: 'b', port: 2 }], endpoints: [{ addresses: ['10.244.1.5'], nodeName: 'node-a' }] }],
      { family: 'IPv4', nodeName: 'node-a' },
    );
    expect(localReadyEndpoints(two).get('ns/s')).toBe(1);
    const [port] = buildServicePorts({ namespace: 'ns', name: 's', clusterIP: '10.96.0.1', internalTrafficPolicy: 'Local', ports: [{ protocol: 'TCP', port: 80 }] }, 'IPv4');
    const eps = buildServiceEndpoints(
      [
        {
          namespace: 'ns',
          name: 's-1',
          serviceName: 's',
          addressType: 'IPv4',
          ports: [{ port: 8080 }],
          endpoints: [{ addresses: ['10.244.1.5'], nodeName: 'node-a' }, { addresses: ['10.244.2.5'], nodeName: 'node-b' }],
        },
      ],
      { family: 'IPv4', nodeName: 'node-a' },
    );
    const c = categorizeEndpoints(eps.get('ns/s/TCP') ?? [], port!, { nodeName: 'node-a' });
    expect(c.localEndpoints?.map((e) => e.endpoint)).toEqual(['10.244.1.5:8080']);
    expect(c.clusterEndpoints).toBeUndefined();
    const a = buildServicePorts({ namespace: 'ns', name: 's', clusterIP: '10.96.0.1', ports: [{ protocol: 'TCP', port: 80 }] }, 'IPv4');
    const b = buildServicePorts({ namespace: 'ns', name: 's', clusterIP: '10.96.0.01', ports: [{ protocol: 'TCP', port: 80 }] }, 'IPv4');
    expect(servicePortsFingerprint(a)).toBe(servicePortsFingerprint(b));
    const npa = parseNodePortAddresses('IPv4', ['192.168.0.0/24', '127.0.0.1/32']);
    expect(nodePortIPs(npa, ['127.0.0.1', '192.168.0.2', '192.168.1.2']).map((ip) => ip.text)).toEqual(['192.168.0.2', '127.0.0.1']);
    expect(isLoopback(parseIpSloppy('127.0.0.53')!)).toBe(true);
    expect(resolveLocalhostNodePorts('IPv4', true, ['192.168.0.0/24'])).toBe(false);
  });

  it('iptables', () => {
    expect(isServiceChainName('KUBE-SEP-SXIVWICOYRO3J4NJ')).toBe(true);
    expect(isServiceChainName('KUBE-SERVICES')).toBe(false);
    expect(resolveIptablesOptions({ nodeName: 'node-a', clusterCIDR: '10.244.0.0/16' }).detector).toEqual({ ifLocal: '-s 10.244.0.0/16', ifNotLocal: '! -s 10.244.0.0/16' });
    const [port] = buildServicePorts({ namespace: 'ns6', name: 'svc6', clusterIP: '172.30.0.46', ports: [{ name: 'p80', protocol: 'TCP', port: 80 }] }, 'IPv4');
    const r = renderServicePort(port!, [], { options: resolveIptablesOptions({ nodeName: 'n' }), nodeLabels: undefined, largeClusterMode: false });
    expect(r.filter).toBe('-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT\n');
  });
});
