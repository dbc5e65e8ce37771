import { describe, expect, it } from 'vitest';
import { isKnetError, type KnetError } from '../../errors/knet-error.js';
import { SeededRng } from '../../util/seeded-rng.js';
import { ChainOverlay } from './chain-overlay.js';
import { applyIptablesRestore } from './iptables-restore.js';
import { createNetfilterState } from './netfilter-state.js';
import type { NetfilterChain } from './netfilter-types.js';

const chain = (name: string, tag = 0): NetfilterChain => ({ name, policy: null, counters: { packets: tag, bytes: 0 }, rules: [] });

describe('ChainOverlay', () => {
  it('reads through to the committed chains and sees its own changes', () => {
    const base = new Map([['A', chain('A')], ['B', chain('B')]]);
    const o = new ChainOverlay(base);
    const b2 = chain('B', 2);
    o.set('B', b2);
    o.set('C', chain('C'));
    o.delete('A');
    expect(o.get('A')).toBeUndefined();
    expect(o.get('B')).toBe(b2);
    expect([...o.keys()]).toEqual(['B', 'C']);
    expect(o.size).toBe(2);
    expect([...base.keys()]).toEqual(['A', 'B']);
    expect(base.get('B')?.counters.packets).toBe(0);
    expect([...o.changes()].map(([n, before, after]) => [n, before?.counters.packets, after?.counters.packets])).toEqual([
      ['B', 0, 2],
      ['A', 0, undefined],
      ['C', undefined, 0],
    ]);
  });

  // The order and content must be those of the copy applyIptablesRestore made before: new Map(base)
  // with the same sets and deletes.
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('behaves as a copied Map, and commits into the base as one (seed %i)', (seed) => {
    const rng = new SeededRng(`overlay-${seed}`);
    const names = Array.from({ length: 12 }, (_, i) => `C${i}`);
    const base = new Map<string, NetfilterChain>();
    for (const n of names) if (rng.nextU32() % 2 === 0) base.set(n, chain(n));
    const copy = new Map(base);
    const o = new ChainOverlay(base);
    for (let step = 0; step < 40; step++) {
      const n = names[rng.nextU32() % names.length] as string;
      if (rng.nextU32() % 3 === 0) {
        copy.delete(n);
        o.delete(n);
      } else {
        const c = chain(n, step + 1);
        copy.set(n, c);
        o.set(n, c);
      }
      expect([...o.entries()]).toEqual([...copy.entries()]);
      expect(o.size).toBe(copy.size);
      for (const m of names) expect(o.get(m)).toBe(copy.get(m));
    }
    const before = new Map(base);
    const changed = [...o.changes()];
    expect(o.changeCount).toBe(changed.length);
    for (const [n, b, a] of changed) {
      expect(b).toBe(before.get(n));
      expect(a).toBe(copy.get(n));
      expect(a).not.toBe(b);
    }
    o.commit();
    expect([...base.entries()]).toEqual([...copy.entries()]);
    expect([...o.changes()]).toEqual([]);
  });
});

describe('ChainOverlay.chainsToken', () => {
  it('changes when a chain is deleted, not when one is created or replaced, and is kept at commit', () => {
    const base = new Map([['A', chain('A')]]);
    const o = new ChainOverlay(base);
    const t0 = o.chainsToken;
    o.set('B', chain('B'));
    o.set('A', chain('A', 1));
    expect(o.chainsToken).toBe(t0);
    o.delete('B');
    const t1 = o.chainsToken;
    expect(t1).not.toBe(t0);
    o.commit();
    expect(new ChainOverlay(base).chainsToken).toBe(t1);
    // An overlay that is never committed leaves the committed token alone.
    const p = new ChainOverlay(base);
    p.delete('A');
    expect(new ChainOverlay(base).chainsToken).toBe(t1);
  });

  // The restore remembers that a cached line's jump target was found; deleting the target must
  // make the same line fail as iptables-restore does.
  it('makes a remembered jump target be looked up again once a chain was deleted', () => {
    const nf = createNetfilterState();
    // Lines after the 64th of a chain go through the parse cache; those jump to T1.
    const lines = Array.from({ length: 80 }, (_, i) => `-A BIG -d 10.96.0.${i}/32 -p tcp -m tcp --dport 80 -j T${i < 64 ? 0 : 1}\n`).join('');
    applyIptablesRestore(nf, `*nat\n:BIG - [0:0]\n:T0 - [0:0]\n:T1 - [0:0]\n${lines}COMMIT\n`);
    // Again: now every line comes from the parse cache.
    applyIptablesRestore(nf, `*nat\n:BIG - [0:0]\n${lines}COMMIT\n`, { noflush: true });
    let error: unknown;
    try {
      applyIptablesRestore(nf, `*nat\n:BIG - [0:0]\n-X T1\n${lines}COMMIT\n`, { noflush: true });
    } catch (e) {
      error = e;
    }
    expect(isKnetError(error, 'EINVAL')).toBe(true);
    expect((error as KnetError).details).toMatchObject({ line: 68, reason: "Couldn't load target `T1':No such file or directory" });
    expect(nf.tables.get('nat')?.chains.has('T1')).toBe(true);
  });
});
