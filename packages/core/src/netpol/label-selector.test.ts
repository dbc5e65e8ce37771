import { describe, expect, it } from 'vitest';
import { isKnetError } from '../errors/knet-error.js';
import type { ManifestContext } from '../k8s/manifest-context.js';
import { formatLabelSelector, isEmptyLabelSelector, matchesLabelSelector, parseLabelSelector } from './label-selector.js';

const ctx = (): ManifestContext => ({ source: { file: 'np.yaml', document: 2 }, warnings: [] });
const sel = (v: unknown) => parseLabelSelector(ctx(), v, 'spec.podSelector');

describe('parseLabelSelector', () => {
  it.each([
    ['absent', undefined, { matchLabels: {}, matchExpressions: [] }],
    ['null', null, { matchLabels: {}, matchExpressions: [] }],
    ['{}', {}, { matchLabels: {}, matchExpressions: [] }],
    ['matchLabels', { matchLabels: { app: 'db' } }, { matchLabels: { app: 'db' }, matchExpressions: [] }],
    ['Exists without values', { matchExpressions: [{ key: 'k', operator: 'Exists' }] }, { matchLabels: {}, matchExpressions: [{ key: 'k', operator: 'Exists', values: [] }] }],
  ])('%s', (_name, v, want) => {
    expect(sel(v)).toEqual(want);
  });

  it.each([
    ['a bad operator', { matchExpressions: [{ key: 'k', operator: 'Equals', values: ['v'] }] }, 'spec.podSelector.matchExpressions[0].operator'],
    ['In without values', { matchExpressions: [{ key: 'k', operator: 'In' }] }, 'spec.podSelector.matchExpressions[0].values'],
    ['Exists with values', { matchExpressions: [{ key: 'k', operator: 'Exists', values: ['v'] }] }, 'spec.podSelector.matchExpressions[0].values'],
    ['a non-string label value', { matchLabels: { version: 1 } }, 'spec.podSelector.matchLabels.version'],
    ['a missing key', { matchExpressions: [{ operator: 'Exists' }] }, 'spec.podSelector.matchExpressions[0].key'],
  ])('refuses %s, naming the field', (_name, v, field) => {
    try {
      sel(v);
      throw new Error('no error');
    } catch (e) {
      expect(isKnetError(e, 'EINVAL')).toBe(true);
      expect((e as { details: Record<string, unknown> }).details).toMatchObject({ file: 'np.yaml', document: 2, field });
    }
  });
});

describe('matchesLabelSelector', () => {
  const labels = { app: 'db', tier: 'backend' };
  it.each([
    ['the empty selector', {}, {}, true],
    ['matchLabels equal', { matchLabels: { app: 'db' } }, labels, true],
    ['matchLabels differ', { matchLabels: { app: 'web' } }, labels, false],
    ['matchLabels AND expressions, one failing', { matchLabels: { app: 'db' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] }, labels, false],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'backend'] }] }, labels, true],
    ['In on a missing key', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, labels, false],
    ['NotIn on a value', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['backend'] }] }, labels, false],
    ['NotIn on a missing key', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, labels, true],
    ['Exists', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, labels, true],
    ['Exists on a missing key', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels, false],
    ['DoesNotExist on a missing key', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels, true],
    ['DoesNotExist on a present key', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, labels, false],
    ['an empty value is a value', { matchLabels: { app: '' } }, { app: '' }, true],
  ])('%s', (_name, v, l, want) => {
    expect(matchesLabelSelector(sel(v), l)).toBe(want);
  });
});

describe('formatLabelSelector', () => {
  it.each([
    [{}, '{}'],
    [{ matchLabels: { b: '2', a: '1' } }, 'a=1,b=2'],
    [
      {
        matchLabels: { app: 'db' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['web', 'api'] },
          { key: 'env', operator: 'NotIn', values: ['prod'] },
          { key: 'team', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      },
      'app=db,tier in (api,web),env notin (prod),team,!legacy',
    ],
  ])('%j → %s', (v, want) => {
    expect(formatLabelSelector(sel(v))).toBe(want);
  });
});

describe('isEmptyLabelSelector', () => {
  it.each([
    [{}, true],
    [{ matchLabels: {} }, true],
    [{ matchLabels: { a: 'b' } }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, false],
  ])('%j → %s', (v, want) => {
    expect(isEmptyLabelSelector(sel(v))).toBe(want);
  });
});
