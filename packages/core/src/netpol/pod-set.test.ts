import { describe, expect, it } from 'vitest';
import {
  emptyPodSet,
  fullPodSet,
  podSetAdd,
  podSetAndInto,
  podSetAndNotInto,
  podSetCount,
  podSetHas,
  podSetIsEmpty,
  podSetOf,
  podSetOrInto,
  podSetToArray,
  podSetWords,
} from './pod-set.js';

describe('podSetWords', () => {
  it.each([
    [0, 0],
    [1, 1],
    [32, 1],
    [33, 2],
    [5000, 157],
  ])('%i pods → %i words', (n, w) => {
    expect(podSetWords(n)).toBe(w);
  });
});

describe('fullPodSet', () => {
  it.each([[1], [31], [32], [33], [64], [70]])('holds exactly pods 0..%i-1', (n) => {
    const s = fullPodSet(n);
    expect(podSetCount(s)).toBe(n);
    expect(podSetToArray(s)).toEqual(Array.from({ length: n }, (_, i) => i));
  });
});

describe('podSetOf / podSetAdd / podSetHas', () => {
  it('sets the bits of the given pods, including bit 31 of a word', () => {
    const s = podSetOf(70, [0, 31, 32, 69]);
    expect([0, 1, 31, 32, 33, 69].map((i) => podSetHas(s, i))).toEqual([true, false, true, true, false, true]);
    podSetAdd(s, 1);
    expect(podSetToArray(s)).toEqual([0, 1, 31, 32, 69]);
  });
});

describe('podSetOrInto / podSetAndInto / podSetAndNotInto', () => {
  it.each([
    ['or', podSetOrInto, [1, 2, 3, 40, 41]],
    ['and', podSetAndInto, [3, 40]],
    ['and-not', podSetAndNotInto, [1, 2]],
  ])('%s', (_name, op, want) => {
    const a = podSetOf(64, [1, 2, 3, 40]);
    op(a, podSetOf(64, [3, 40, 41]));
    expect(podSetToArray(a)).toEqual(want);
  });
});

describe('podSetIsEmpty / podSetCount', () => {
  it('counts bits across words', () => {
    expect(podSetIsEmpty(emptyPodSet(100))).toBe(true);
    const s = podSetOf(100, [0, 31, 63, 64, 99]);
    expect([podSetIsEmpty(s), podSetCount(s)]).toEqual([false, 5]);
  });
});
