import { describe, expect, it } from 'vitest';
import { readLinuxFixture } from './__fixtures__/read-fixture.js';
import { splitJsonValues } from './split-json-values.js';

describe('splitJsonValues', () => {
  it('splits what `ip -j -batch -` prints for two commands', () => {
    const docs = splitJsonValues(readLinuxFixture('node.link-batch.json'));
    expect(docs).toHaveLength(2);
    expect((docs[0] as unknown[]).length).toBe(5);
    expect(docs[1]).toEqual([{ nsid: 0, name: 'knet-lhfx-pod' }]);
  });

  it.each([
    ['brackets inside strings', '[{"a":"]["}] {"b":"\\"}"}', [[{ a: '][' }], { b: '"}' }]],
    ['empty arrays and blank lines', '[]\n\n[]\n', [[], []]],
    ['nothing', '  \n', []],
  ])('handles %s', (_, text, expected) => {
    expect(splitJsonValues(text)).toEqual(expected);
  });

  it('rejects a truncated document with EPARSE', () => {
    expect(() => splitJsonValues('[{"ifindex":1}')).toThrow(expect.objectContaining({ code: 'EPARSE' }));
  });
});
