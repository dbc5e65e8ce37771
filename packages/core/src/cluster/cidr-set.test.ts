import { describe, expect, it } from 'vitest';
import { isKnetError } from '../errors/knet-error.js';
import type { KnetError } from '../errors/knet-error.js';
import { formatIpv4Cidr, parseIpv4Cidr } from '../ip/ipv4.js';
import { CidrSet } from './cidr-set.js';

// Expectations from kubernetes pkg/controller/nodeipam/ipam/cidrset/cidr_set_test.go (IPv4 cases).

const cidr = (s: string) => parseIpv4Cidr(s, { strict: false });

function thrown(fn: () => unknown): KnetError {
  try {
    fn();
  } catch (e) {
    if (isKnetError(e)) return e;
    throw e;
  }
  throw new Error('expected a KnetError');
}

describe('CidrSet', () => {
  it('allocates a fully used /30 once, then fails with ENOSPC (TestCIDRSetFullyAllocated)', () => {
    const set = new CidrSet(cidr('127.123.234.0/30'), 30);
    expect(formatIpv4Cidr(set.allocateNext())).toBe('127.123.234.0/30');
    const e = thrown(() => set.allocateNext());
    expect(e.code).toBe('ENOSPC');
    expect(e.details).toMatchObject({ clusterCIDR: '127.123.234.0/30', subnets: 1 });
  });

  it('hands out all 256 /24 blocks of a /16 in order (TestCIDRSet_RandomishAllocation)', () => {
    const set = new CidrSet(cidr('127.123.234.0/16'), 24);
    const got = Array.from({ length: 256 }, () => formatIpv4Cidr(set.allocateNext()));
    expect(got[0]).toBe('127.123.0.0/24');
    expect(got[15]).toBe('127.123.15.0/24');
    expect(got[255]).toBe('127.123.255.0/24');
    expect(new Set(got).size).toBe(256);
    expect(thrown(() => set.allocateNext()).code).toBe('ENOSPC');
  });

  it('skips occupied blocks (TestCIDRSet_AllocationOccupied)', () => {
    const set = new CidrSet(cidr('127.123.234.0/16'), 24);
    for (let i = 128; i < 256; i++) set.occupy(cidr(`127.123.${i}.0/24`));
    const got = Array.from({ length: 128 }, () => formatIpv4Cidr(set.allocateNext()));
    expect(got).toEqual(Array.from({ length: 128 }, (_, i) => `127.123.${i}.0/24`));
    expect(thrown(() => set.allocateNext()).code).toBe('ENOSPC');
  });

  it('gives the lowest free block after occupying some', () => {
    const set = new CidrSet(cidr('10.244.0.0/16'), 24);
    set.occupy(cidr('10.244.0.0/24'));
    set.occupy(cidr('10.244.2.0/24'));
    expect([set.allocateNext(), set.allocateNext()].map(formatIpv4Cidr)).toEqual(['10.244.1.0/24', '10.244.3.0/24']);
  });

  it.each([
    // cluster, mask, occupied cidr, [begin, end]  (TestOccupy)
    ['127.0.0.0/8', 16, '127.0.0.0/8', [0, 255]],
    ['127.0.0.0/8', 16, '127.0.0.0/2', [0, 255]],
    ['127.0.0.0/8', 16, '127.0.0.0/16', [0, 0]],
    ['127.0.0.0/8', 32, '127.0.0.0/16', [0, 65535]],
    ['127.0.0.0/7', 16, '127.0.0.0/15', [256, 257]],
    ['127.0.0.0/7', 15, '127.0.0.0/15', [128, 128]],
    // TestGetBitforCIDR
    ['127.0.0.0/8', 16, '127.123.0.0/16', [123, 123]],
    ['192.168.0.0/16', 24, '192.168.151.0/24', [151, 151]],
  ] as const)('indices of %s /%i for %s', (cluster, mask, sub, expected) => {
    const set = new CidrSet(cidr(cluster), mask);
    expect(set.indices(cidr(sub))).toEqual(expected);
    set.occupy(cidr(sub));
    expect(set.isUsed(expected[0])).toBe(true);
    expect(set.isUsed(expected[1])).toBe(true);
  });

  it('rejects a CIDR outside the cluster CIDR with EINVAL', () => {
    const set = new CidrSet(cidr('192.168.0.0/16'), 24);
    const e = thrown(() => set.occupy(cidr('127.168.224.0/24')));
    expect(e.code).toBe('EINVAL');
    expect(e.details).toMatchObject({ cidr: '127.168.224.0/24', clusterCIDR: '192.168.0.0/16' });
  });

  it('indexes /32 blocks (TestIndexToCIDRBlock: 192.168.5.219/28, /32, index 5)', () => {
    const set = new CidrSet(cidr('192.168.5.219/28'), 32);
    for (let i = 0; i < 5; i++) set.allocateNext();
    expect(formatIpv4Cidr(set.allocateNext())).toBe('192.168.5.213/32');
  });

  it('jumps over a large occupied range without visiting every block', () => {
    const set = new CidrSet(cidr('10.0.0.0/8'), 24);
    set.occupy(cidr('10.0.0.0/9'));
    expect(formatIpv4Cidr(set.allocateNext())).toBe('10.128.0.0/24');
  });

  it('rejects a mask shorter than the cluster prefix', () => {
    expect(thrown(() => new CidrSet(cidr('10.244.0.0/16'), 12)).code).toBe('EINVAL');
  });
});
