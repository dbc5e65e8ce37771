import { describe, expect, it } from 'vitest';
import {
  directive,
  hasNetfilterFixture,
  listNetfilterCases,
  readCaptured,
  readNetfilterFixture,
  saveDate,
  tableBlocks,
} from '../../../test/fixtures/netfilter/netfilter-fixtures.js';
import { applyIpsetRestore } from '../ipset/ipset-restore.js';
import { applyIptablesRestore } from './iptables-restore.js';
import { formatIptablesSave } from './iptables-save.js';
import { createNetfilterState, type NetfilterState } from './netfilter-state.js';

/** Loads a save/NAME.rules case the way capture.sh fed it to the real tool. */
function loadCase(name: string): { state: NetfilterState; counters: boolean } {
  const text = readNetfilterFixture(`save/${name}.rules`);
  const state = createNetfilterState();
  const ipset = directive(text, 'ipset');
  if (ipset !== undefined) applyIpsetRestore(state.ipsets, readNetfilterFixture(`save/${ipset}`));
  const pre = directive(text, 'pre');
  if (pre !== undefined) applyIptablesRestore(state, readNetfilterFixture(`save/${pre}`));
  const args = directive(text, 'args') ?? '';
  applyIptablesRestore(state, text, { noflush: args.includes('--noflush'), counters: args.includes('--counters') });
  return { state, counters: (directive(text, 'save-args') ?? '').includes('-c') };
}

const CASES = listNetfilterCases('save', '.rules');

describe('formatIptablesSave', () => {
  it('has golden cases to check', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(10);
  });

  it.each(CASES)('prints %s byte for byte as iptables-legacy-save 1.8.9 did', (name) => {
    const legacy = readCaptured(`save/${name}.legacy`);
    expect(legacy.exit).toBe(0);
    const { state, counters } = loadCase(name);
    const date = saveDate(legacy.body);
    expect(date).toBeDefined();
    const out = formatIptablesSave(state, { counters, header: { version: 'v1.8.9', date: date ?? '' } });
    expect(out).toBe(legacy.body);
  });

  it.each(CASES.filter((n) => hasNetfilterFixture(`save/${n}.nft`) && readCaptured(`save/${n}.nft`).exit === 0))(
    'prints each table of %s as iptables-nft-save 1.8.9 did',
    (name) => {
      const nft = tableBlocks(readCaptured(`save/${name}.nft`).body);
      const { state, counters } = loadCase(name);
      const ours = tableBlocks(formatIptablesSave(state, { counters }));
      expect(nft.size).toBeGreaterThan(0);
      for (const [table, block] of nft) expect(ours.get(table)).toBe(block);
    },
  );

  it('prints one table with -t, also when it was never instantiated', () => {
    const nf = createNetfilterState();
    applyIptablesRestore(nf, '*filter\n-A INPUT -s 10.0.0.1 -j DROP\nCOMMIT\n');
    expect(formatIptablesSave(nf, { table: 'filter' })).toBe(
      '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.1/32 -j DROP\nCOMMIT\n',
    );
    expect(formatIptablesSave(nf, { table: 'raw' })).toBe('*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n');
  });

  it('prints nothing for a namespace whose tables were never used', () => {
    expect(formatIptablesSave(createNetfilterState())).toBe('');
  });
});

describe('applyIptablesRestore round trip', () => {
  // A comment holding a newline (from an unterminated quote) cannot be reloaded, by iptables either.
  it.each(CASES.filter((n) => n !== 'unterminated-quote'))('reloading the saved %s gives the same save output', (name) => {
    const { state, counters } = loadCase(name);
    const saved = formatIptablesSave(state, { counters });
    const again = createNetfilterState();
    for (const s of state.ipsets.list()) again.ipsets.create(s.name, s.type, s.options);
    applyIptablesRestore(again, saved, { counters });
    // Tables come back in the order of the save output, which reverses instantiation order.
    expect(tableBlocks(formatIptablesSave(again, { counters }))).toEqual(tableBlocks(saved));
  });
});
