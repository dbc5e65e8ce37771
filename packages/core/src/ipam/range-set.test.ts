import { describe, expect, it } from 'vitest';
import { isKnetError } from '../errors/knet-error.js';
import { formatIpv4, parseIpv4 } from '../ip/ipv4.js';
import {
  canonicalizeRange,
  canonicalizeRangeSet,
  formatRange,
  formatRangeSet,
  rangeContains,
  rangeFor,
  rangesOverlap,
} from './range-set.js';
import type { RangeConf } from './range-set.js';

function thrown(fn: () => unknown): { code: string; message: string; field: unknown } {
  try {
    fn();
  } catch (e) {
    if (isKnetError(e)) return { code: e.code, message: e.message, field: e.details.field };
    throw e;
  }
  throw new Error('expected a KnetError');
}

describe('canonicalizeRange', () => {
  // Defaults from upstream range.go: gateway and rangeStart network+1, rangeEnd broadcast-1.
  it.each<[RangeConf, string, string, string]>([
    [{ subnet: '10.244.1.0/24' }, '10.244.1.1', '10.244.1.254', '10.244.1.1'],
    [{ subnet: '10.0.0.0/30' }, '10.0.0.1', '10.0.0.2', '10.0.0.1'],
    [{ subnet: '10.0.0.0/29' }, '10.0.0.1', '10.0.0.6', '10.0.0.1'],
    [{ subnet: '10.244.0.0/16' }, '10.244.0.1', '10.244.255.254', '10.244.0.1'],
    [{ subnet: '10.244.1.0/24', gateway: '10.244.1.254' }, '10.244.1.1', '10.244.1.254', '10.244.1.254'],
    [{ subnet: '10.244.1.0/24', rangeStart: '10.244.1.10', rangeEnd: '10.244.1.20' }, '10.244.1.10', '10.244.1.20', '10.244.1.1'],
    // Upstream's own multi-range test uses the network address as rangeStart and the broadcast as rangeEnd.
    [{ subnet: '192.168.1.0/30', rangeStart: '192.168.1.0', rangeEnd: '192.168.1.3' }, '192.168.1.0', '192.168.1.3', '192.168.1.1'],
  ])('%j → start %s, end %s, gateway %s', (conf, start, end, gw) => {
    const r = canonicalizeRange(conf);
    expect(formatIpv4(r.rangeStart)).toBe(start);
    expect(formatIpv4(r.rangeEnd)).toBe(end);
    expect(formatIpv4(r.gateway)).toBe(gw);
  });

  it.each<[RangeConf, string, string, string | undefined]>([
    [{ subnet: '10.0.0.0/31' }, 'EINVAL', 'Network 10.0.0.0/31 too small to allocate from', 'r.subnet'],
    [{ subnet: '10.0.0.5/32' }, 'EINVAL', 'Network 10.0.0.5/32 too small to allocate from', 'r.subnet'],
    // The size check comes before the host-bits check, and prints the address as given.
    [{ subnet: '10.0.0.1/31' }, 'EINVAL', 'Network 10.0.0.1/31 too small to allocate from', 'r.subnet'],
    [
      { subnet: '10.244.1.7/24' },
      'EINVAL',
      'Network has host bits set. For a subnet mask of length 24 the network address is 10.244.1.0',
      'r.subnet',
    ],
    [{ subnet: '10.244.1.0/24', rangeStart: '10.244.2.5' }, 'EINVAL', 'RangeStart 10.244.2.5 not in network 10.244.1.0/24', 'r.rangeStart'],
    [{ subnet: '10.244.1.0/24', rangeEnd: '10.244.0.255' }, 'EINVAL', 'RangeEnd 10.244.0.255 not in network 10.244.1.0/24', 'r.rangeEnd'],
    // A start after the end fails the start check (upstream compares it with the raw end).
    [
      { subnet: '10.244.1.0/24', rangeStart: '10.244.1.50', rangeEnd: '10.244.1.40' },
      'EINVAL',
      'RangeStart 10.244.1.50 not in network 10.244.1.0/24',
      'r.rangeStart',
    ],
    [{ subnet: '10.244.1.0' }, 'EINVAL', 'invalid CIDR address: 10.244.1.0', 'r.subnet'],
    [{ subnet: '10.244.1.0/24', gateway: '10.244.1.x' }, 'EINVAL', 'invalid IP address: 10.244.1.x', 'r.gateway'],
    [{ subnet: '2001:db8::/64' }, 'EOPNOTSUPP', 'IPv6 subnet 2001:db8::/64 is not supported: knet models IPv4 only', 'r.subnet'],
  ])('%j → %s %s', (conf, code, message, field) => {
    expect(thrown(() => canonicalizeRange(conf, 'r'))).toEqual({ code, message, field });
  });

  it('accepts a gateway outside the subnet, as upstream no longer checks it', () => {
    expect(formatIpv4(canonicalizeRange({ subnet: '10.244.1.0/24', gateway: '192.0.2.1' }).gateway)).toBe('192.0.2.1');
  });
});

describe('rangeContains', () => {
  const r = canonicalizeRange({ subnet: '10.244.1.0/24', rangeStart: '10.244.1.10', rangeEnd: '10.244.1.20' });
  it.each([
    ['10.244.1.9', false],
    ['10.244.1.10', true],
    ['10.244.1.20', true],
    ['10.244.1.21', false],
    ['10.244.2.15', false],
  ])('%s → %s', (ip, want) => {
    expect(rangeContains(r, parseIpv4(ip))).toBe(want);
  });
});

describe('canonicalizeRangeSet', () => {
  it('refuses an empty set', () => {
    expect(thrown(() => canonicalizeRangeSet([]))).toEqual({ code: 'EINVAL', message: 'empty range set', field: undefined });
  });

  it.each<[RangeConf[], string]>([
    [[{ subnet: '10.0.0.0/24' }, { subnet: '10.0.0.0/25' }], 'subnets 10.0.0.1-10.0.0.254 and 10.0.0.1-10.0.0.126 overlap'],
    [
      [
        { subnet: '10.0.0.0/24', rangeEnd: '10.0.0.100' },
        { subnet: '10.0.0.0/24', rangeStart: '10.0.0.100' },
      ],
      'subnets 10.0.0.1-10.0.0.100 and 10.0.0.100-10.0.0.254 overlap',
    ],
  ])('%j → %s', (confs, message) => {
    expect(thrown(() => canonicalizeRangeSet(confs)).message).toBe(message);
  });

  it('allows disjoint windows of one subnet', () => {
    const set = canonicalizeRangeSet([
      { subnet: '10.0.0.0/24', rangeEnd: '10.0.0.99' },
      { subnet: '10.0.0.0/24', rangeStart: '10.0.0.100' },
    ]);
    expect(formatRangeSet(set)).toBe('10.0.0.1-10.0.0.99,10.0.0.100-10.0.0.254');
    expect(rangesOverlap(set[0]!, set[1]!)).toBe(false);
  });

  it('names the failing range in details.field', () => {
    expect(thrown(() => canonicalizeRangeSet([{ subnet: '10.0.0.0/24' }, { subnet: '10.0.1.0/31' }], 'ipam.ranges[0]')).field).toBe(
      'ipam.ranges[0][1].subnet',
    );
  });
});

describe('rangeFor', () => {
  const set = canonicalizeRangeSet([{ subnet: '10.0.0.0/30' }, { subnet: '10.0.1.0/30' }]);
  it.each([
    ['10.0.0.2', '10.0.0.1-10.0.0.2'],
    ['10.0.1.1', '10.0.1.1-10.0.1.2'],
    ['10.0.1.3', undefined],
  ])('%s → %s', (ip, want) => {
    const r = rangeFor(set, parseIpv4(ip));
    expect(r === undefined ? undefined : formatRange(r)).toBe(want);
  });
});
