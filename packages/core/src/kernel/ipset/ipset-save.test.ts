import { describe, expect, it } from 'vitest';
import {
  directive,
  hasNetfilterFixture,
  listNetfilterCases,
  readCaptured,
  readNetfilterFixture,
} from '../../../test/fixtures/netfilter/netfilter-fixtures.js';
import { applyIpsetRestore } from './ipset-restore.js';
import { formatIpsetSave } from './ipset-save.js';
import { IpsetStore } from './ipset-store.js';

const CASES = listNetfilterCases('ipset', '.ipset');

function run(name: string): { store: IpsetStore; error?: unknown } {
  const text = readNetfilterFixture(`ipset/${name}.ipset`);
  const store = new IpsetStore();
  try {
    applyIpsetRestore(store, text, { exist: (directive(text, 'args') ?? '').includes('-exist') });
    return { store };
  } catch (error) {
    return { store, error };
  }
}

describe('formatIpsetSave', () => {
  it('has golden cases to check', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(15);
  });

  it.each(CASES)('prints %s byte for byte as ipset 7.17 saved it (hash order from jhash2 and initval)', (name) => {
    const golden = readCaptured(`ipset/${name}.save`);
    const { store } = run(name);
    expect(formatIpsetSave(store)).toBe(golden.body);
  });
});

describe('applyIpsetRestore', () => {
  it.each(CASES.filter((n) => hasNetfilterFixture(`ipset/${n}.stderr`)))(
    'fails on %s at the same line with the same message as ipset restore',
    (name) => {
      const stderr = readCaptured(`ipset/${name}.stderr`);
      expect(stderr.exit).not.toBe(0);
      const { error } = run(name);
      expect(error).toMatchObject({ details: { stderr: stderr.body } });
      const line = Number(/Error in line (\d+)/.exec(stderr.body)?.[1]);
      expect(error).toMatchObject({ details: { line } });
    },
  );

  it.each(CASES.filter((n) => !hasNetfilterFixture(`ipset/${n}.stderr`)))('succeeds on %s as ipset restore did', (name) => {
    expect(readCaptured(`ipset/${name}.save`).exit).toBe(0);
    expect(run(name).error).toBeUndefined();
  });

  it.each([
    ['err-already-added', 'EEXIST'],
    ['err-create-exists', 'EEXIST'],
    ['err-no-set', 'ENOENT'],
    ['err-del-missing', 'ENOENT'],
    ['err-full', 'ENOSPC'],
    ['err-bad-type', 'EINVAL'],
  ])('reports %s with code %s', (name, code) => {
    expect(run(name).error).toMatchObject({ code });
  });
});
