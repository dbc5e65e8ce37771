import { describe, expect, it } from 'vitest';
import { isKnetError } from '../errors/knet-error.js';
import { formatIpv4, parseIpv4 } from '../ip/ipv4.js';
import { HostLocalAllocator, HostLocalRangeIterator } from './host-local-allocator.js';
import { MemoryIpamStore } from './memory-ipam-store.js';
import { canonicalizeRangeSet } from './range-set.js';
import type { RangeConf } from './range-set.js';

function alloc(confs: RangeConf[], files: Record<string, string> = {}): HostLocalAllocator {
  return new HostLocalAllocator(canonicalizeRangeSet(confs), new MemoryIpamStore(files), 0);
}

function walk(it: HostLocalRangeIterator): string[] {
  const out: string[] = [];
  for (let c = it.next(); c !== undefined; c = it.next()) out.push(formatIpv4(c.ip));
  return out;
}

function failure(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isKnetError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a KnetError');
}

describe('HostLocalRangeIterator', () => {
  // Upstream allocator_test.go "RangeIter" cases on 192.168.1.0/29.
  const set = canonicalizeRangeSet([{ subnet: '192.168.1.0/29' }]);
  it.each<[string, string | undefined, string[]]>([
    ['from the beginning', undefined, ['192.168.1.2', '192.168.1.3', '192.168.1.4', '192.168.1.5', '192.168.1.6']],
    ['from the end', '192.168.1.6', ['192.168.1.2', '192.168.1.3', '192.168.1.4', '192.168.1.5', '192.168.1.6']],
    ['from the middle', '192.168.1.3', ['192.168.1.4', '192.168.1.5', '192.168.1.6', '192.168.1.2', '192.168.1.3']],
    ['last reserved outside the set', '10.0.0.1', ['192.168.1.2', '192.168.1.3', '192.168.1.4', '192.168.1.5', '192.168.1.6']],
  ])('%s', (_name, last, want) => {
    expect(walk(new HostLocalRangeIterator(set, last === undefined ? undefined : parseIpv4(last)))).toEqual(want);
  });

  it('skips a gateway in the middle of the range', () => {
    const s = canonicalizeRangeSet([{ subnet: '10.0.0.0/29', gateway: '10.0.0.4' }]);
    expect(walk(new HostLocalRangeIterator(s))).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.5', '10.0.0.6']);
  });

  it('walks every range of a set, wrapping to the first', () => {
    const s = canonicalizeRangeSet([{ subnet: '10.0.0.0/30' }, { subnet: '10.0.1.0/30' }, { subnet: '10.0.2.0/30' }]);
    expect(walk(new HostLocalRangeIterator(s, parseIpv4('10.0.1.2')))).toEqual(['10.0.2.2', '10.0.0.2', '10.0.1.2']);
  });

  it('from the end of one range continues at the start of the next (upstream multi-range test)', () => {
    const s = canonicalizeRangeSet([
      { subnet: '192.168.1.0/30', rangeStart: '192.168.1.0', rangeEnd: '192.168.1.3' },
      { subnet: '192.168.2.0/30', rangeStart: '192.168.2.0', rangeEnd: '192.168.2.3' },
    ]);
    expect(walk(new HostLocalRangeIterator(s, parseIpv4('192.168.1.3')))).toEqual([
      '192.168.2.0',
      '192.168.2.2',
      '192.168.2.3',
      '192.168.1.0',
      '192.168.1.2',
      '192.168.1.3',
    ]);
  });
});

describe('HostLocalAllocator', () => {
  it('hands out .2, .3, .4 ... when the gateway is .1', () => {
    const a = alloc([{ subnet: '10.244.1.0/24' }]);
    const got = ['c1', 'c2', 'c3', 'c4'].map((id) => a.get(id, 'eth0'));
    expect(got.map((l) => formatIpv4(l.ip))).toEqual(['10.244.1.2', '10.244.1.3', '10.244.1.4', '10.244.1.5']);
    expect(got[0]).toEqual({ ip: parseIpv4('10.244.1.2'), prefixlen: 24, gateway: parseIpv4('10.244.1.1') });
  });

  it('after a release continues after the last reserved IP instead of reusing the freed one', () => {
    const a = alloc([{ subnet: '10.244.1.0/24' }]);
    a.get('c1', 'eth0'); // .2
    a.get('c2', 'eth0'); // .3
    a.release('c1', 'eth0');
    expect(formatIpv4(a.get('c3', 'eth0').ip)).toBe('10.244.1.4');
    // Upstream "should allocate in a round-robin fashion": the same container gets .3 after DEL of .2.
    const b = alloc([{ subnet: '192.168.1.0/29' }]);
    expect(formatIpv4(b.get('ID', 'eth0').ip)).toBe('192.168.1.2');
    b.release('ID', 'eth0');
    expect(formatIpv4(b.get('ID', 'eth0').ip)).toBe('192.168.1.3');
  });

  // Upstream allocator_test.go "should allocate ips in round robin" table.
  it.each<[string, string[], Record<string, string>, string | undefined, string]>([
    ['fresh start', ['10.0.0.0/29'], {}, undefined, '10.0.0.2'],
    ['/30', ['10.0.0.0/30'], {}, undefined, '10.0.0.2'],
    ['.2 taken', ['10.0.0.0/29'], { '10.0.0.2': 'id' }, undefined, '10.0.0.3'],
    ['next after last reserved', ['10.0.0.0/29'], {}, '10.0.0.5', '10.0.0.6'],
    ['skip taken after last reserved', ['10.0.0.0/29'], { '10.0.0.4': 'id', '10.0.0.5': 'id' }, '10.0.0.3', '10.0.0.6'],
    ['round robin to the beginning', ['10.0.0.0/29'], { '10.0.0.6': 'id' }, '10.0.0.5', '10.0.0.2'],
    ['last reserved out of range', ['10.0.0.0/29'], { '10.0.0.2': 'id' }, '10.0.0.128', '10.0.0.3'],
    [
      'full except the last reserved: it comes last',
      ['10.0.0.0/29'],
      { '10.0.0.2': 'id', '10.0.0.4': 'id', '10.0.0.5': 'id', '10.0.0.6': 'id' },
      '10.0.0.3',
      '10.0.0.3',
    ],
    ['multiple subnets', ['10.0.0.0/30', '10.0.1.0/30'], {}, undefined, '10.0.0.2'],
    ['advance to the next subnet', ['10.0.0.0/30', '10.0.1.0/30'], {}, '10.0.0.2', '10.0.1.2'],
    ['roll to the first subnet', ['10.0.0.0/30', '10.0.1.0/30', '10.0.2.0/30'], {}, '10.0.2.2', '10.0.0.2'],
  ])('%s', (_name, subnets, taken, last, want) => {
    const files = { ...taken, ...(last === undefined ? {} : { 'last_reserved_ip.0': last }) };
    expect(formatIpv4(alloc(subnets.map((subnet) => ({ subnet })), files).get('ID', 'eth0').ip)).toBe(want);
  });

  it.each<[string, RangeConf[], string[]]>([
    ['rangeStart/rangeEnd bound the walk', [{ subnet: '10.244.1.0/24', rangeStart: '10.244.1.100', rangeEnd: '10.244.1.102' }], ['10.244.1.100', '10.244.1.101', '10.244.1.102']],
    ['a gateway in the middle is skipped', [{ subnet: '10.0.0.0/29', gateway: '10.0.0.3' }], ['10.0.0.1', '10.0.0.2', '10.0.0.4', '10.0.0.5', '10.0.0.6']],
    ['ranges of a set are used in order', [{ subnet: '10.0.0.0/30' }, { subnet: '10.0.1.0/30' }], ['10.0.0.2', '10.0.1.2']],
  ])('%s', (_name, confs, want) => {
    const a = alloc(confs);
    const got = want.map((_w, i) => formatIpv4(a.get(`c${i}`, 'eth0').ip));
    expect(got).toEqual(want);
    expect(failure(() => a.get('one-more', 'eth0')).code).toBe('ENOSPC');
  });

  it.each<[string, RangeConf[], number, string]>([
    ['/30', [{ subnet: '10.0.0.0/30' }], 1, 'no IP addresses available in range set: 10.0.0.1-10.0.0.2'],
    ['/29', [{ subnet: '10.0.0.0/29' }], 5, 'no IP addresses available in range set: 10.0.0.1-10.0.0.6'],
    ['/24', [{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }], 253, 'no IP addresses available in range set: 10.244.1.1-10.244.1.254'],
    ['two ranges', [{ subnet: '10.0.0.0/30' }, { subnet: '10.0.1.0/30' }], 2, 'no IP addresses available in range set: 10.0.0.1-10.0.0.2,10.0.1.1-10.0.1.2'],
  ])('exhaustion of a %s after %i allocations', (_name, confs, n, message) => {
    const a = alloc(confs);
    for (let i = 0; i < n; i++) a.get(`c${i}`, 'eth0');
    expect(failure(() => a.get('last', 'eth0'))).toEqual({ code: 'ENOSPC', message });
  });

  it('refuses a second allocation for the same (id, ifname)', () => {
    const a = alloc([{ subnet: '10.244.1.0/24' }]);
    a.get('c1', 'eth0');
    expect(failure(() => a.get('c1', 'eth0'))).toEqual({
      code: 'EEXIST',
      message: '10.244.1.2 has been allocated to c1, duplicate allocation is not allowed',
    });
    // Another interface of the same container is a different attachment.
    expect(formatIpv4(a.get('c1', 'net1').ip)).toBe('10.244.1.3');
  });

  it('counts a legacy id-only reservation as a duplicate', () => {
    const a = alloc([{ subnet: '10.244.1.0/24' }], { '10.244.1.9': 'c1' });
    expect(failure(() => a.get('c1', 'eth0')).message).toBe('10.244.1.9 has been allocated to c1, duplicate allocation is not allowed');
  });

  it.each<[string, string, string, string]>([
    ['a free address', '10.244.1.50', 'ok', '10.244.1.50'],
    ['the gateway', '10.244.1.1', 'EINVAL', "requested ip 10.244.1.1 is subnet's gateway"],
    ['a taken address', '10.244.1.2', 'EBUSY', 'requested IP address 10.244.1.2 is not available in range set 10.244.1.1-10.244.1.254'],
    ['an address outside the set', '10.244.2.5', 'EINVAL', '10.244.2.5 not in range set 10.244.1.1-10.244.1.254'],
    ['the broadcast address (past rangeEnd)', '10.244.1.255', 'EINVAL', '10.244.1.255 not in range set 10.244.1.1-10.244.1.254'],
  ])('requested IP: %s', (_name, requested, code, text) => {
    const a = alloc([{ subnet: '10.244.1.0/24' }], { '10.244.1.2': 'other\r\neth0' });
    if (code === 'ok') {
      expect(formatIpv4(a.get('c1', 'eth0', parseIpv4(requested)).ip)).toBe(text);
      expect(a.store.lastReservedIP(0)).toBe(parseIpv4(requested));
    } else {
      expect(failure(() => a.get('c1', 'eth0', parseIpv4(requested)))).toEqual({ code, message: text });
    }
  });

  it('releases the lock after a failure', () => {
    const a = alloc([{ subnet: '10.0.0.0/30' }]);
    a.get('c1', 'eth0');
    expect(failure(() => a.get('c2', 'eth0')).code).toBe('ENOSPC');
    expect(() => a.store.lock()).not.toThrow();
  });
});
