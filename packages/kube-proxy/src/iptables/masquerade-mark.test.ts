import { isKnetError } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { formatMasqueradeMark } from './masquerade-mark.js';

describe('formatMasqueradeMark', () => {
  // Go: fmt.Sprintf("%#08x", 1<<bit)
  it.each([
    [14, '0x00004000'],
    [0, '0x00000001'],
    [15, '0x00008000'],
    [31, '0x80000000'],
  ])('bit %i', (bit, want) => {
    expect(formatMasqueradeMark(bit)).toBe(want);
  });

  it.each([-1, 32, 1.5])('rejects bit %s', (bit) => {
    let err: unknown;
    try {
      formatMasqueradeMark(bit);
    } catch (e) {
      err = e;
    }
    expect(isKnetError(err, 'EINVAL')).toBe(true);
  });
});
