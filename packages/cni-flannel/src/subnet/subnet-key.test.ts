import { describe, expect, it } from 'vitest';
import { formatSubnetKey, parseSubnetKey } from './subnet-key.js';

describe('formatSubnetKey', () => {
  it('writes the subnet with a dash, as MakeSubnetKey', () => {
    expect(formatSubnetKey({ address: (10 << 24) + (5 << 16) + (34 << 8), prefix: 24 })).toBe('10.5.34.0-24');
  });
});

describe('parseSubnetKey', () => {
  it.each([
    ['/coreos.com/network/subnets/10.5.34.0-24', { address: 0x0a052200, prefix: 24 }],
    ['10.244.0.64-26', { address: 0x0af40040, prefix: 26 }],
    ['/coreos.com/network/subnets/10.5.34.0-24&fc00::-64', { address: 0x0a052200, prefix: 24 }],
    ['/coreos.com/network/config', undefined],
    ['/coreos.com/network/subnets/10.5.34.0-32', undefined],
    ['/coreos.com/network/subnets/300.5.34.0-24', undefined],
  ])('%s', (key, expected) => {
    expect(parseSubnetKey(key)).toEqual(expected);
  });
});
