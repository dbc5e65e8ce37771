import { describe, expect, it } from 'vitest';
import { createKubenetNetConf } from './kubenet-net-conf.js';
import type { HairpinMode } from './kubenet-options.js';

const node = { name: 'node-1', labels: {}, internalIP: '192.168.0.11', podCIDR: '10.244.3.0/24', podCIDRAllocated: false };

describe('createKubenetNetConf', () => {
  it("fills kubenet's NET_CONFIG_TEMPLATE", () => {
    expect(createKubenetNetConf(node, 1460, 'promiscuous-bridge')).toEqual({
      cniVersion: '0.1.0',
      name: 'kubenet',
      type: 'bridge',
      bridge: 'cbr0',
      mtu: 1460,
      addIf: 'eth0',
      isGateway: true,
      ipMasq: false,
      hairpinMode: false,
      ipam: {
        type: 'host-local',
        ranges: [[{ subnet: '10.244.3.0/24', gateway: '10.244.3.1' }]],
        routes: [{ dst: '0.0.0.0/0' }],
      },
    });
  });

  it.each<[HairpinMode, boolean]>([
    ['promiscuous-bridge', false],
    ['hairpin-veth', true],
    ['none', false],
  ])('hairpin mode %s → hairpinMode %s', (mode, want) => {
    expect(createKubenetNetConf(node, 1500, mode).hairpinMode).toBe(want);
  });

  it('takes the first address of the masked network as gateway, as kubenet does', () => {
    expect(createKubenetNetConf({ ...node, podCIDR: '10.244.7.9/24' }, 1500, 'none').ipam.ranges).toEqual([
      [{ subnet: '10.244.7.0/24', gateway: '10.244.7.1' }],
    ]);
  });
});
