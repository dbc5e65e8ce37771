import { buildClusterState, loadExampleCluster } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { createFlannelPlugin } from './flannel-plugin.js';

const example = buildClusterState(loadExampleCluster());

describe('createFlannelPlugin', () => {
  it('uses kube-flannel.yml\'s net-conf with the cluster\'s pod network by default', () => {
    const f = createFlannelPlugin();
    f.validate(example);
    expect(JSON.parse(f.netConfText())).toEqual({ Network: '10.244.0.0/16', EnableNFTables: false, Backend: { Type: 'vxlan' } });
  });

  it('follows flannel\'s code when the user\'s net-conf has no Backend: udp', () => {
    const f = createFlannelPlugin({ netConf: { Network: '10.244.0.0/16' } });
    f.validate(example);
    expect(f.netConf().backendType).toBe('udp');
  });

  it('refuses a node whose pod CIDR is outside the Network (kube mode), with flannel\'s message', () => {
    const f = createFlannelPlugin({ netConf: { Network: '10.200.0.0/16', Backend: { Type: 'vxlan' } } });
    expect(() => f.validate(example)).toThrow(
      expect.objectContaining({
        code: 'EINVAL',
        message: 'subnet "10.200.0.0/16" specified in the flannel net config doesn\'t contain "10.244.0.0/24" PodCIDR of the "node-1" node',
        details: expect.objectContaining({ field: 'spec.podCIDR', node: 'node-1', file: '<example>' }) as object,
      }) as Error,
    );
  });

  it('refuses, in etcd mode, a manifest pod CIDR flannel would never lease (the skipped first subnet), and explains', () => {
    const f = createFlannelPlugin({ subnetManager: 'etcd' });
    expect(() => f.validate(example)).toThrow(expect.objectContaining({ code: 'EINVAL', details: expect.objectContaining({ field: 'spec.podCIDR', node: 'node-1' }) as object }) as Error);
    const ok = createFlannelPlugin({ subnetManager: 'etcd', netConf: { Network: '10.244.0.0/16', SubnetMin: '10.244.0.0', Backend: { Type: 'vxlan' } } });
    expect(() => ok.validate(example)).not.toThrow();
  });

  it.each([
    [{ netConf: { Network: '10.244.0.0/16', Backend: { Type: 'wireguard' } } }, 'EOPNOTSUPP', 'spec.cni.options.netConf.Backend.Type'],
    [{ netConf: { Network: '10.244.0.0/16', Backend: { Type: 'carrier-pigeon' } } }, 'EINVAL', 'spec.cni.options.netConf.Backend.Type'],
    [{ subnetManager: 'etcd' as const, netConf: { Network: '10.244.0.0/29', Backend: { Type: 'vxlan' } } }, 'EINVAL', 'spec.cni.options.netConf.Network'],
  ])('refuses %j', (options, code, field) => {
    expect(() => createFlannelPlugin(options).validate(example)).toThrow(expect.objectContaining({ code, details: expect.objectContaining({ field }) as object }) as Error);
  });

  it('refuses two nodes with one pod CIDR as reservations (etcd mode; a state built by hand, as the loader refuses overlaps itself)', () => {
    const [a, b] = example.nodes as [typeof example.nodes[number], typeof example.nodes[number]];
    const state = { ...example, nodes: [{ ...a, podCIDR: '10.244.5.0/24' }, { ...b, podCIDR: '10.244.5.0/24' }] };
    expect(() => createFlannelPlugin({ subnetManager: 'etcd' }).validate(state)).toThrow(expect.objectContaining({ code: 'EEXIST', details: expect.objectContaining({ node: 'node-2' }) as object }) as Error);
  });
});
