import { describe, expect, it } from 'vitest';
import { parseFlannelOptions } from './flannel-options.js';

describe('parseFlannelOptions', () => {
  it('accepts the documented keys', () => {
    const o = { subnetManager: 'etcd', backend: 'host-gw', ipMasq: false, datastore: 'etcd', etcdPrefix: '/x', subnetTtlSeconds: 60, publicIPs: { 'node-1': '192.0.2.7' }, seed: 3 };
    expect(parseFlannelOptions(o)).toEqual(o);
  });

  it.each([
    [{ backnd: 'vxlan' }, 'spec.cni.options.backnd'],
    [{ backend: 'wireguard' }, 'spec.cni.options.backend'],
    [{ subnetManager: 'kubernetes' }, 'spec.cni.options.subnetManager'],
    [{ ipMasq: 'yes' }, 'spec.cni.options.ipMasq'],
    [{ subnetTtlSeconds: 0 }, 'spec.cni.options.subnetTtlSeconds'],
    [{ publicIPs: { 'node-1': 'nope' } }, 'spec.cni.options.publicIPs.node-1'],
    [{ netConf: { Network: '10.244.0.0/16' }, backend: 'udp' }, 'spec.cni.options.netConf'],
    [{ backend: 'host-gw', directRouting: true }, 'spec.cni.options.directRouting'],
    [{ etcdEndpoints: 'http://127.0.0.1:2379' }, 'spec.cni.options.etcdEndpoints'],
  ])('%j: EINVAL at %s', (raw, field) => {
    expect(() => parseFlannelOptions(raw)).toThrow(expect.objectContaining({ code: 'EINVAL', details: expect.objectContaining({ field }) as object }) as Error);
  });
});
