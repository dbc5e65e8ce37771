import { describe, expect, it } from 'vitest';
import { isKnetError } from '../../errors/knet-error.js';
import {
  directive,
  listNetfilterCases,
  readCaptured,
  readNetfilterFixture,
  tableBlocks,
} from '../../../test/fixtures/netfilter/netfilter-fixtures.js';
import { applyIpsetRestore } from '../ipset/ipset-restore.js';
import { applyIptablesRestore, parseIptablesRestore } from './iptables-restore.js';
import { formatIptablesSave } from './iptables-save.js';
import { createNetfilterState, type NetfilterState } from './netfilter-state.js';

const ERROR_CASES = listNetfilterCases('errors', '.rules');

/** Runs an errors/NAME.rules case as capture.sh ran it; returns the state and the error, if any. */
function runCase(name: string): { state: NetfilterState; error: unknown } {
  const text = readNetfilterFixture(`errors/${name}.rules`);
  const state = createNetfilterState();
  const ipset = directive(text, 'ipset');
  if (ipset !== undefined) applyIpsetRestore(state.ipsets, readNetfilterFixture(`errors/${ipset}`));
  const pre = directive(text, 'pre');
  if (pre !== undefined) applyIptablesRestore(state, readNetfilterFixture(`errors/${pre}`));
  const args = directive(text, 'args') ?? '';
  try {
    applyIptablesRestore(state, text, { noflush: args.includes('--noflush'), counters: args.includes('--counters') });
    return { state, error: undefined };
  } catch (error) {
    return { state, error };
  }
}

describe('applyIptablesRestore errors', () => {
  it('has error cases to check', () => {
    expect(ERROR_CASES.length).toBeGreaterThanOrEqual(90);
  });

  it.each(ERROR_CASES)('%s: same outcome and stderr as iptables-legacy-restore 1.8.9', (name) => {
    const golden = readCaptured(`errors/${name}.stderr`);
    const { error } = runCase(name);
    if (golden.exit === 0) {
      expect(error).toBeUndefined();
      return;
    }
    expect(isKnetError(error, 'EINVAL')).toBe(true);
    expect(error).toMatchObject({ details: { stderr: golden.body } });
    const line = Number(/line:? (\d+)/.exec(golden.body)?.[1]);
    expect(error).toMatchObject({ details: { line } });
    expect((error as { details: { reason: string } }).details.reason.length).toBeGreaterThan(0);
  });

  it.each(ERROR_CASES)('%s: leaves the tables iptables-legacy-save showed afterwards', (name) => {
    const after = readCaptured(`errors/${name}.after`);
    const { state } = runCase(name);
    expect(tableBlocks(formatIptablesSave(state))).toEqual(tableBlocks(after.body));
  });

  it.each([
    ['unknown-chain', 'No chain/target/match by that name.'],
    ['delete-missing-rule', 'Bad rule (does a matching rule exist in that chain?).'],
    ['insert-too-far', 'Index of insertion too big.'],
    ['chain-exists', 'Chain already exists.'],
  ])('%s: gives the libiptc reason as iptables-nft-restore spells it', (name, reason) => {
    expect(runCase(name).error).toMatchObject({ details: { reason }, message: expect.stringContaining(reason) });
  });

  it.each([
    ['dnat-filter', 5],
    ['loop', undefined],
    ['tcp-without-proto', 5],
    ['second-table-kernel', 5],
  ])('%s: a kernel refusal names the COMMIT line and the offending rule line %s', (name, ruleLine) => {
    const { error } = runCase(name);
    expect(error).toMatchObject({ details: { reason: expect.stringMatching(/./) } });
    expect((error as { details: { ruleLine?: number } }).details.ruleLine).toBe(ruleLine);
  });
});

describe('applyIptablesRestore', () => {
  it('counts the rules written by -A, -I and -R', () => {
    const nf = createNetfilterState();
    const r = applyIptablesRestore(
      nf,
      '*filter\n:X - [0:0]\n-A X -j ACCEPT\n-A X -s 1.2.3.4,5.6.7.8 -j DROP\n-I X 2 -j RETURN\n-R X 1 -j DROP\n-D X 1\nCOMMIT\n*nat\n-A POSTROUTING -j MASQUERADE\nCOMMIT\n',
    );
    expect(r).toEqual({ tables: ['filter', 'nat'], rulesWritten: 6 });
  });

  it('with test, checks the syntax and changes nothing', () => {
    const nf = createNetfilterState();
    applyIptablesRestore(nf, '*filter\n-A INPUT -j ACCEPT\nCOMMIT\n', { test: true });
    expect(nf.tables.size).toBe(0);
    expect(() => applyIptablesRestore(nf, '*filter\n-A INPUT -j NOPE\nCOMMIT\n', { test: true })).toThrow(/NOPE/);
  });

  it('keeps a table unchanged when its COMMIT is refused, keeping rule counters of an untouched table', () => {
    const nf = createNetfilterState();
    applyIptablesRestore(nf, '*filter\n-A INPUT -j ACCEPT\nCOMMIT\n');
    const before = formatIptablesSave(nf);
    expect(() => applyIptablesRestore(nf, '*filter\n-A INPUT -j DNAT --to-destination 1.2.3.4\nCOMMIT\n')).toThrow();
    expect(formatIptablesSave(nf)).toBe(before);
  });

  it('replaces the rule objects of changed chains only, so an unchanged chain keeps its counters under --noflush', () => {
    const nf = createNetfilterState();
    applyIptablesRestore(nf, '*filter\n:A - [0:0]\n-A INPUT -j A\n-A A -j ACCEPT\nCOMMIT\n');
    const rule = nf.tables.get('filter')?.chains.get('A')?.rules[0];
    if (rule === undefined) throw new Error('missing rule');
    rule.counters.packets = 7;
    applyIptablesRestore(nf, '*filter\n-A OUTPUT -j ACCEPT\nCOMMIT\n', { noflush: true });
    expect(formatIptablesSave(nf, { counters: true })).toContain('[7:0] -A A -j ACCEPT');
  });
});

describe('parseIptablesRestore', () => {
  it('returns one block per table with its operations and lines', () => {
    const blocks = parseIptablesRestore('# c\n*nat\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n*filter\n-F\nCOMMIT\n');
    expect(blocks).toMatchObject([
      {
        table: 'nat',
        line: 2,
        commitLine: 5,
        operations: [
          { kind: 'chain', line: 3, chain: 'KUBE-SERVICES', policy: '-' },
          { kind: 'command', line: 4, command: { op: 'append', chain: 'PREROUTING', rules: [{ spec: '-j KUBE-SERVICES' }] } },
        ],
      },
      { table: 'filter', line: 6, commitLine: 8, operations: [{ kind: 'command', command: { op: 'flush' } }] },
    ]);
  });

  it.each([
    ['*filter\n-A INPUT -j ACCEPT\n', 3, 'commit-expected'],
    ['*filter\n-A INPUT --bogus\nCOMMIT\n', 2, 'parameter'],
    ['-A INPUT\n', 1, 'line-failed'],
  ])('reports %j at line %i', (text, line) => {
    expect(() => parseIptablesRestore(text)).toThrow(expect.objectContaining({ code: 'EINVAL', details: expect.objectContaining({ line }) }));
  });
});

describe('applyIptablesRestore with extensions knet does not model', () => {
  it.each([
    ['-A INPUT -m limit --limit 5/min -j LOG', 'limit'],
    ['-A INPUT -p udp -j CHECKSUM --checksum-fill', 'CHECKSUM'],
    ['-A INPUT -m connmark --mark 0x1 -j ACCEPT', 'connmark'],
  ])('refuses %j with EOPNOTSUPP naming the line and the extension', (rule, extension) => {
    expect(() => applyIptablesRestore(createNetfilterState(), `*filter\n${rule}\nCOMMIT\n`)).toThrow(
      expect.objectContaining({ code: 'EOPNOTSUPP', details: expect.objectContaining({ line: 2, extension }) }),
    );
  });
});
