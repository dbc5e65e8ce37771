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

describe('applyIpsetRestore with sets referenced by iptables', () => {
  // Observed with ipset 7.17 after `iptables-legacy -A INPUT -m set --match-set a src -j ACCEPT`.
  it.each([
    ['destroy a\n', 'ipset v7.17: Error in line 1: Set cannot be destroyed: it is in use by a kernel component\n'],
    ['flush a\nadd a 1.1.1.1\nrename a b\n', 'ipset v7.17: Error in line 3: Set cannot be renamed: it is in use by another system\n'],
  ])('refuses %j', (text, stderr) => {
    const store = new IpsetStore();
    store.create('a', 'hash:ip');
    expect(() => applyIpsetRestore(store, text, { inUse: (n) => n === 'a' })).toThrow(
      expect.objectContaining({ code: 'EBUSY', details: expect.objectContaining({ stderr }) }),
    );
    expect(store.get('a')?.size()).toBe(text.includes('add') ? 1 : 0);
  });

  it('swaps a referenced set (how kube-proxy and Calico replace contents)', () => {
    const store = new IpsetStore();
    store.create('a', 'hash:ip');
    applyIpsetRestore(store, 'create tmp hash:ip\nadd tmp 10.0.0.1\nswap tmp a\ndestroy tmp\n', { inUse: (n) => n === 'a' });
    expect(formatIpsetSave(store)).toMatch(/^create a hash:ip .*\nadd a 10\.0\.0\.1\n$/);
  });
});
