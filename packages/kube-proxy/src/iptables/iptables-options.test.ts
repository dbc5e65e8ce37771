import { buildClusterState, isKnetError, loadExampleCluster } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { iptablesOptionsForNode, resolveIptablesOptions } from './iptables-options.js';

describe('resolveIptablesOptions', () => {
  it('applies kube-proxy defaults', () => {
    const o = resolveIptablesOptions({ nodeName: 'n1', nodeIPs: ['2001:db8::5', '192.168.0.7'] });
    expect(o.family).toBe('IPv4');
    expect(o.nodeIP?.text).toBe('192.168.0.7');
    expect(o.masqueradeMark).toBe('0x00004000');
    expect(o.localhostNodePorts).toBe(true);
    expect(o.nodePortAddresses.matchAll).toBe(true);
    expect(o.detector).toBeUndefined();
    expect(o.nfacctInvalid && o.nfacctLocalhost).toBe(true);
    expect(o.localAddresses).toEqual(['127.0.0.1', '::1', '2001:db8::5', '192.168.0.7']);
    expect(o.syncPeriodMs).toBe(30000);
  });

  it.each([
    [{ mode: 'ClusterCIDR' as const, cidr: '10.244.0.0/16' }, '-s 10.244.0.0/16', '! -s 10.244.0.0/16'],
    [{ mode: 'NodeCIDR' as const, cidr: '10.244.1.0/24' }, '-s 10.244.1.0/24', '! -s 10.244.1.0/24'],
    [{ mode: 'BridgeInterface' as const, interfaceName: 'cbr0' }, '-i cbr0', '! -i cbr0'],
    [{ mode: 'InterfaceNamePrefix' as const, prefix: 'veth' }, '-i veth+', '! -i veth+'],
  ])('local detector %j', (localDetector, ifLocal, ifNotLocal) => {
    expect(resolveIptablesOptions({ nodeName: 'n', localDetector }).detector).toEqual({ ifLocal, ifNotLocal });
  });

  it.each([
    [{ nodeName: '' }, 'nodeName'],
    [{ nodeName: 'n', nodeIPs: ['192.168.0.300'] }, 'nodeIPs'],
    [{ nodeName: 'n', masqueradeBit: 40 }, 'masqueradeBit'],
  ])('rejects %j', (options, field) => {
    let err: unknown;
    try {
      resolveIptablesOptions(options);
    } catch (e) {
      err = e;
    }
    expect(isKnetError(err, 'EINVAL')).toBe(true);
    expect((err as { details: { field: string } }).details.field).toBe(field);
  });
});

describe('iptablesOptionsForNode', () => {
  it('takes the node name, InternalIP, cluster CIDR and labels from the cluster', () => {
    const state = buildClusterState(loadExampleCluster());
    const node = state.nodes[0];
    if (node === undefined) throw new Error('example cluster has no nodes');
    expect(iptablesOptionsForNode(state, node.name)).toEqual({
      nodeName: node.name,
      ipFamily: 'IPv4',
      nodeIPs: [node.internalIP],
      clusterCIDR: state.cluster.clusterCIDR,
      nodeLabels: node.labels,
      localhostNodePorts: true,
    });
  });

  it('rejects an unknown node', () => {
    const state = buildClusterState(loadExampleCluster());
    let err: unknown;
    try {
      iptablesOptionsForNode(state, 'no-such-node');
    } catch (e) {
      err = e;
    }
    expect(isKnetError(err, 'ENOENT')).toBe(true);
  });
});
