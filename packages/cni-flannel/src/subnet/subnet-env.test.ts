import { describe, expect, it } from 'vitest';
import { formatSubnetEnv, parseSubnetEnv } from './subnet-env.js';

const NET = { address: 0x0af40000, prefix: 16 };
const SUB = { address: 0x0af40100, prefix: 24 };

describe('formatSubnetEnv', () => {
  it('writes what WriteSubnetFile writes for vxlan on a 1500-byte NIC with --ip-masq', () => {
    expect(formatSubnetEnv({ network: NET, subnet: SUB, mtu: 1450, ipMasq: true })).toBe(
      'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n',
    );
  });
});

describe('parseSubnetEnv', () => {
  it('reads the networks of the CIDRs, as net.ParseCIDR does', () => {
    expect(parseSubnetEnv('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n')).toEqual({ network: NET, subnet: SUB, mtu: 1450, ipMasq: false });
  });

  it.each([
    ['', '/run/flannel/subnet.env is missing FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK, FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ'],
    ['FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_IPMASQ=true\n', '/run/flannel/subnet.env is missing FLANNEL_MTU'],
    ['FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=x\nFLANNEL_IPMASQ=true\n', 'strconv.ParseUint: parsing "x": invalid syntax'],
  ])('%j → %s', (text, message) => {
    expect(() => parseSubnetEnv(text)).toThrow(expect.objectContaining({ code: 'EINVAL', message }) as Error);
  });
});
