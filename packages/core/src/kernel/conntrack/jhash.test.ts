import { describe, expect, it } from 'vitest';
import { ip } from './__fixtures__/packets.js';
import { jhash2, nativeWord, reciprocalScale } from './jhash.js';

describe('jhash2', () => {
  it('returns the initial state for no words (lookup3: 0xdeadbeef + length + initval)', () => {
    expect(jhash2([], 0)).toBe(0xdeadbeef);
    expect(jhash2([], 1)).toBe(0xdeadbef0);
  });

  // The kernel's DNAT --to-destination 10.244.1.3-10.244.1.9 choices in snapshot-2.txt:
  // find_best_ips_proto hashes the source (4 words) with the destination as initval.
  it.each([
    ['10.244.0.4', '10.96.0.20', '10.244.1.3'],
    ['10.244.0.4', '10.96.0.21', '10.244.1.8'],
    ['10.244.0.4', '10.96.0.22', '10.244.1.4'],
    ['10.244.0.4', '10.96.0.23', '10.244.1.9'],
    ['10.244.2.5', '10.96.0.20', '10.244.1.8'],
    ['10.244.2.5', '10.96.0.21', '10.244.1.7'],
    ['10.244.2.5', '10.96.0.22', '10.244.1.3'],
    ['10.244.2.5', '10.96.0.23', '10.244.1.3'],
  ])('%s → %s picks %s like the kernel', (src, dst, picked) => {
    const j = jhash2([nativeWord(ip(src)), 0, 0, 0], nativeWord(ip(dst)));
    expect(ip('10.244.1.3') + reciprocalScale(j, 7)).toBe(ip(picked));
  });
});

describe('nativeWord', () => {
  it('reads network-order bytes as a little-endian CPU does', () => {
    expect(nativeWord(ip('10.244.0.4'))).toBe(0x0400f40a);
  });
});

describe('reciprocalScale', () => {
  it.each([
    [0, 7, 0],
    [0xffffffff, 7, 6],
    [0x80000000, 10, 5],
    [0x12345678, 0, 0],
  ])('(%i × %i) >> 32 = %i', (val, range, out) => expect(reciprocalScale(val, range)).toBe(out));
});
