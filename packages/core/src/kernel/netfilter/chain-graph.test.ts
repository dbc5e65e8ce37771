import { describe, expect, it } from 'vitest';
import { isKnetError } from '../../errors/knet-error.js';
import { SeededRng } from '../../util/seeded-rng.js';
import { buildChainGraph, chainGraphOf, chainHooks, HOOK_BITS, type ChainGraph } from './chain-graph.js';
import { applyIptablesRestore } from './iptables-restore.js';
import { formatIptablesSave } from './iptables-save.js';
import { cloneTable, createNetfilterState, type NetfilterState } from './netfilter-state.js';
import type { NetfilterTable } from './netfilter-types.js';

function nat(state: NetfilterState): NetfilterTable {
  const t = state.tables.get('nat');
  if (t === undefined) throw new Error('no nat table');
  return t;
}

/** A graph with its zero entries dropped, as plain objects (for equality). */
function plain(g: ChainGraph): { masks: Record<string, number>; counts: Record<string, readonly number[]>; refs: Record<string, number> } {
  return {
    masks: Object.fromEntries([...g.masks].filter(([, m]) => m !== 0).sort()),
    counts: Object.fromEntries([...g.counts].filter(([, c]) => c.some((x) => x !== 0)).map(([n, c]) => [n, [...c]] as const).sort()),
    refs: Object.fromEntries([...g.refs].filter(([, r]) => r !== 0).sort()),
  };
}

describe('buildChainGraph', () => {
  it('gives each chain the hooks it is reachable from, per-hook jump counts and references', () => {
    const nf = createNetfilterState();
    applyIptablesRestore(
      nf,
      '*nat\n:A - [0:0]\n:B - [0:0]\n:C - [0:0]\n-A PREROUTING -j A\n-A OUTPUT -j A\n-A A -j B\n-A A -j B\n-A POSTROUTING -j B\n-A C -j B\nCOMMIT\n',
    );
    const built = buildChainGraph(nat(nf));
    if ('loop' in built) throw new Error('unexpected loop');
    const pre = HOOK_BITS.PREROUTING;
    const out = HOOK_BITS.OUTPUT;
    const post = HOOK_BITS.POSTROUTING;
    expect(plain(built.graph)).toEqual({
      masks: { A: pre | out, B: pre | out | post, OUTPUT: out, POSTROUTING: post, PREROUTING: pre, INPUT: HOOK_BITS.INPUT },
      // bits 0..4: PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING
      counts: { A: [1, 0, 0, 1, 0], B: [2, 0, 0, 2, 1], INPUT: [0, 1, 0, 0, 0], OUTPUT: [0, 0, 0, 1, 0], POSTROUTING: [0, 0, 0, 0, 1], PREROUTING: [1, 0, 0, 0, 0] },
      refs: { A: 2, B: 4 },
    });
    expect(plain(chainGraphOf(nat(nf)) as ChainGraph)).toEqual(plain(built.graph));
  });

  it('names the chain on a loop as chainHooks does', () => {
    const nf = createNetfilterState();
    applyIptablesRestore(nf, '*nat\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-A B -j A\nCOMMIT\n');
    // Unreachable, so not a loop for the kernel.
    expect('graph' in buildChainGraph(nat(nf))).toBe(true);
    const t: NetfilterTable = { name: 'nat', chains: new Map(nat(nf).chains) };
    const pre = t.chains.get('PREROUTING');
    const a = nat(nf).chains.get('B')?.rules[0];
    if (pre === undefined || a === undefined) throw new Error('missing');
    t.chains.set('PREROUTING', { ...pre, rules: [a] });
    expect(buildChainGraph(t)).toEqual({ loop: chainHooks(t).loop });
    expect(chainHooks(t).loop).toBe('A');
  });
});

// Random restores on a nat table, each checked against the same restore on a copy of the table
// that has no graph (so the whole table is checked, as the kernel does): same outcome, same
// error, same rules; and the graph kept up to date equals one built from scratch.
const CHAINS = ['U0', 'U1', 'U2', 'U3', 'U4', 'U5', 'U6', 'U7'];

function randomStep(rng: SeededRng): string {
  const pick = <T>(xs: readonly T[]): T => xs[rng.nextU32() % xs.length] as T;
  const lines: string[] = ['*nat'];
  const n = 1 + (rng.nextU32() % 5);
  for (let i = 0; i < n; i++) {
    const c = pick(CHAINS);
    switch (rng.nextU32() % 11) {
      case 0:
      case 1:
        lines.push(`:${c} - [0:0]`);
        break;
      case 2:
      case 3:
      case 4:
        lines.push(`-A ${c} -j ${pick(CHAINS)}`);
        break;
      case 5:
        lines.push(`-A ${pick(['PREROUTING', 'OUTPUT', 'POSTROUTING', 'INPUT'])} -j ${c}`);
        break;
      case 6:
        lines.push(`-A ${c} -p tcp -j DNAT --to-destination 10.0.0.${1 + (rng.nextU32() % 9)}:80`);
        break;
      case 7:
        lines.push(`-A ${c} -j MASQUERADE`);
        break;
      case 8:
        lines.push(`-F ${c}`);
        break;
      case 9:
        lines.push(`-X ${c}`);
        break;
      default:
        lines.push(`-D ${pick(['PREROUTING', 'POSTROUTING', ...CHAINS])} 1`);
    }
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

function outcome(state: NetfilterState, text: string): { ok: true; save: string } | { ok: false; code: string; details: unknown } {
  try {
    applyIptablesRestore(state, text, { noflush: true });
    return { ok: true, save: formatIptablesSave(state) };
  } catch (e) {
    if (!isKnetError(e)) throw e;
    return { ok: false, code: e.code, details: e.details };
  }
}

describe('updateChainGraph through applyIptablesRestore', () => {
  it.each(Array.from({ length: 12 }, (_, i) => i + 1))('commits and refuses exactly as a whole-table check (seed %i)', (seed) => {
    const rng = new SeededRng(`chain-graph-${seed}`);
    const nf = createNetfilterState();
    applyIptablesRestore(nf, `*nat\n${CHAINS.map((c) => `:${c} - [0:0]\n`).join('')}COMMIT\n`);
    let refused = 0;
    for (let step = 0; step < 60; step++) {
      const text = randomStep(rng);
      const reference = createNetfilterState();
      for (const [name, t] of nf.tables) reference.tables.set(name, cloneTable(t));
      const expected = outcome(reference, text);
      const graphBefore = chainGraphOf(nat(nf));
      const got = outcome(nf, text);
      expect({ step, text, got }).toEqual({ step, text, got: expected });
      if (!got.ok) refused++;
      const built = buildChainGraph(nat(nf));
      if ('loop' in built) throw new Error(`committed table has a loop through ${built.loop}`);
      expect(plain(chainGraphOf(nat(nf)) as ChainGraph)).toEqual(plain(built.graph));
      expect(graphBefore).toBeDefined();
    }
    // The steps exercise both outcomes.
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(60);
  });

  it('keeps the graph in place when an endpoint chain is replaced (a kube-proxy partial sync)', () => {
    const nf = createNetfilterState();
    const svc = (sep: string): string =>
      `*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-SVC-A - [0:0]\n:${sep} - [0:0]\n` +
      '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n' +
      '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-A\n' +
      `-A KUBE-SVC-A -j ${sep}\n-A ${sep} -s 10.244.1.5/32 -j KUBE-MARK-MASQ\n-A ${sep} -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:8080\nCOMMIT\n`;
    applyIptablesRestore(nf, svc('KUBE-SEP-OLD'));
    applyIptablesRestore(nf, '*nat\n-I PREROUTING -j KUBE-SERVICES\n-I OUTPUT -j KUBE-SERVICES\nCOMMIT\n', { noflush: true });
    const graph = chainGraphOf(nat(nf));
    applyIptablesRestore(nf, svc('KUBE-SEP-NEW'), { noflush: true });
    expect(chainGraphOf(nat(nf))).toBe(graph);
    const built = buildChainGraph(nat(nf));
    if ('loop' in built) throw new Error('unexpected loop');
    expect(plain(graph as ChainGraph)).toEqual(plain(built.graph));
    expect(graph?.masks.get('KUBE-SEP-NEW')).toBe(HOOK_BITS.PREROUTING | HOOK_BITS.OUTPUT);
    expect(graph?.masks.get('KUBE-SEP-OLD')).toBeUndefined();
    // The stale chain has no references left, so -X removes it.
    applyIptablesRestore(nf, '*nat\n:KUBE-SEP-OLD - [0:0]\n-X KUBE-SEP-OLD\nCOMMIT\n', { noflush: true });
    expect(nat(nf).chains.has('KUBE-SEP-OLD')).toBe(false);
    // A DNAT newly reachable from POSTROUTING is refused at COMMIT, as the kernel refuses it.
    expect(() => applyIptablesRestore(nf, '*nat\n-A POSTROUTING -j KUBE-SVC-A\nCOMMIT\n', { noflush: true })).toThrow(/DNAT is not valid in POSTROUTING/);
  });
});
