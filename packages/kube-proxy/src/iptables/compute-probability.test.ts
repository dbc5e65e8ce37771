import { describe, expect, it } from 'vitest';
import { computeProbability } from './compute-probability.js';

describe('computeProbability', () => {
  // upstream TestComputeProbability, plus 3 and 4
  it.each([
    [1, '1.0000000000'],
    [2, '0.5000000000'],
    [3, '0.3333333333'],
    [4, '0.2500000000'],
    [10, '0.1000000000'],
    [100, '0.0100000000'],
    [1000, '0.0010000000'],
    [10000, '0.0001000000'],
    [100000, '0.0000100000'],
    [100001, '0.0000099999'],
  ])('1/%i', (n, want) => {
    expect(computeProbability(n)).toBe(want);
  });

  // Only an exactly representable 1/n with eleven decimals is a tie: 1/2048 = 0.00048828125.
  // Go's exact conversion rounds it half to even; 1/10240 is not exact in binary (it lies just
  // above the decimal tie) and rounds up.
  it.each([
    [2048, '0.0004882812'],
    [10240, '0.0000976563'],
    [51200, '0.0000195313'],
  ])('1/%i near a decimal tie', (n, want) => {
    expect(computeProbability(n)).toBe(want);
  });

  it('agrees with toFixed(10) off the ties, and decreases strictly (upstream loop, n = 100000..2)', () => {
    const ties = new Set([2048]);
    let prev = 0;
    for (let n = 100000; n > 1; n--) {
      const s = computeProbability(n);
      if (!ties.has(n) && s !== (1 / n).toFixed(10)) expect(s).toBe((1 / n).toFixed(10));
      const v = Number(s);
      if (!(v > prev)) expect(v).toBeGreaterThan(prev);
      prev = v;
    }
  });
});
