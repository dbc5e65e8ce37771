import { describe, expect, it } from 'vitest';
import { isServiceChainName, portProtoHash, servicePortChainNames, servicePortEndpointChainName } from './chain-names.js';

// The nine vectors of /work/shared/facts/kube-proxy.md section 2.3, taken from upstream's
// expected rulesets (pkg/proxy/iptables/proxier_test.go).
describe('portProtoHash', () => {
  it.each([
    ['ns1/svc1:p80', 'tcp', 'XPGD46QRK7WJZT7O'],
    ['ns2/svc2:p80', 'tcp', 'GNZBNJ2PO5MGZ6GT'],
    ['ns3/svc3:p80', 'tcp', 'X27LE4BHSL4DOUIK'],
    ['ns4/svc4:p80', 'tcp', '4SW47YFZTEDKD3PK'],
    ['ns5/svc5:p80', 'tcp', 'NUKIZ6OKUXPJNT4C'],
    ['ns2/svc2:p8080', 'tcp', '2VJB64SDSIJUP5T6'],
    ['ns4/svc4:p8082', 'tcp', 'EBDQOQU5SJFXRIL3'],
  ])('%s %s', (name, proto, want) => {
    expect(portProtoHash(name, proto)).toBe(want);
  });
});

describe('servicePortEndpointChainName', () => {
  it.each([
    ['ns1/svc1:p80', 'tcp', '10.180.0.1:80', 'KUBE-SEP-SXIVWICOYRO3J4NJ'],
    ['ns5/svc5:p80', 'tcp', '10.180.0.3:80', 'KUBE-SEP-I77PXRDZVX7PMWMN'],
    ['ns1/svc1:p80', 'tcp', '10.0.0.0:80', 'KUBE-SEP-DKGQUZGBKLTPAR56'],
    // More from TestSyncProxyRulesRepeated and TestSyncProxyRulesLargeClusterMode.
    ['ns3/svc3:p8081', 'tcp', '203.0.113.4:8081', 'KUBE-SEP-RUVVH7YV3PHQBDOS'],
    ['ns4/svc4:p8082', 'tcp', '10.4.0.1:8082', 'KUBE-SEP-SU5STNODRYEWJAUF'],
    ['ns3/svc3:p80', 'tcp', '10.0.3.1:80', 'KUBE-SEP-BSWRHOQ77KEXZLNL'],
  ])('%s %s %s', (name, proto, ep, want) => {
    expect(servicePortEndpointChainName(name, proto, ep)).toBe(want);
  });
});

describe('servicePortChainNames', () => {
  it('shares one hash across the four chains', () => {
    expect(servicePortChainNames('ns2/svc2:p80', 'tcp')).toEqual({
      clusterPolicy: 'KUBE-SVC-GNZBNJ2PO5MGZ6GT',
      localPolicy: 'KUBE-SVL-GNZBNJ2PO5MGZ6GT',
      firewall: 'KUBE-FW-GNZBNJ2PO5MGZ6GT',
      external: 'KUBE-EXT-GNZBNJ2PO5MGZ6GT',
    });
  });
});

describe('isServiceChainName', () => {
  it.each([
    ['KUBE-SVC-XPGD46QRK7WJZT7O', true],
    ['KUBE-SVL-XPGD46QRK7WJZT7O', true],
    ['KUBE-EXT-XPGD46QRK7WJZT7O', true],
    ['KUBE-FW-XPGD46QRK7WJZT7O', true],
    ['KUBE-SEP-SXIVWICOYRO3J4NJ', true],
    ['KUBE-SERVICES', false],
    ['KUBE-MARK-MASQ', false],
    ['KUBE-NODEPORTS', false],
  ])('%s', (chain, want) => {
    expect(isServiceChainName(chain)).toBe(want);
  });
});
