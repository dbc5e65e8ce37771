import { describe, expect, it } from 'vitest';
import { formatKubenetMasqueradeRule } from './kubenet-masquerade-rule.js';

describe('formatKubenetMasqueradeRule', () => {
  it.each<[string, string | undefined]>([
    [
      '10.0.0.0/8',
      '-A POSTROUTING -m comment --comment "kubenet: SNAT for outbound traffic from cluster" -m addrtype ! --dst-type LOCAL ! -d 10.0.0.0/8 -j MASQUERADE',
    ],
    [
      '10.244.0.0/16',
      '-A POSTROUTING -m comment --comment "kubenet: SNAT for outbound traffic from cluster" -m addrtype ! --dst-type LOCAL ! -d 10.244.0.0/16 -j MASQUERADE',
    ],
    ['0.0.0.0/0', undefined],
    ['::/0', undefined],
  ])('%s', (cidr, want) => {
    expect(formatKubenetMasqueradeRule(cidr)).toBe(want);
  });
});
