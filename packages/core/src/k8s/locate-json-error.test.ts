import { describe, expect, it } from 'vitest';
import { lineAndColumn, locateJsonError } from './locate-json-error.js';

describe('locateJsonError', () => {
  it.each([
    ['{"a": 1,\n "b": }', 15],
    ['{"a": 1,}', 8],
    ['[1, 2', 5],
    ['{"a" 1}', 5],
    ['{"a": tru}', 6],
    ['{"a": "x\ny"}', 8],
    ['{"a": "\\q"}', 8],
    ['{"a": 01}', 7],
    ['{"a": 1} x', 9],
    ['', 0],
    ["{'a': 1}", 1],
  ])('%j fails at offset %i', (text, offset) => {
    expect(() => JSON.parse(text) as unknown).toThrow();
    expect(locateJsonError(text)).toBe(offset);
  });

  it.each([
    '{}',
    '[]',
    ' {"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"]} ',
    JSON.stringify({ kind: 'List', items: [{ metadata: { name: 'a', labels: { 'app.kubernetes.io/name': 'x' } } }] }, null, 2),
  ])('accepts valid JSON %j', (text) => {
    expect(() => JSON.parse(text) as unknown).not.toThrow();
    expect(locateJsonError(text)).toBeUndefined();
  });
});

describe('lineAndColumn', () => {
  it.each([
    ['abc', 0, 1, 1],
    ['abc', 2, 1, 3],
    ['a\nbc', 2, 2, 1],
    ['a\nbc\n', 5, 3, 1],
  ])('%j at %i is line %i column %i', (text, offset, line, column) => {
    expect(lineAndColumn(text, offset)).toEqual({ line, column });
  });
});
