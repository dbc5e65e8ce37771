/**
 * The rendered payload on a real kernel: `iptables-restore --noflush` inside a throwaway network
 * namespace (knet-kp<pid>) accepts the example cluster's rules, then a partial sync on top of
 * them, and `iptables-save` shows the same chains with the same number of rules. Runs as root
 * with iproute2 and iptables; skips with the reason printed otherwise. Nothing outside the
 * namespace is touched; the namespace is deleted afterwards.
 */
import { spawnSync } from 'node:child_process';
import { buildClusterState, loadExampleCluster } from '@knet/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createIptablesProxier, iptablesOptionsForNode } from '../../src/index.js';
import type { ProxyInput } from '../../src/index.js';
import { parseIptablesDump } from '../iptables-dump.js';

const NS = `knet-kp${process.pid}`;

function run(cmd: string, args: readonly string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  return { code: r.error !== undefined ? -1 : (r.status ?? -1), stdout: r.stdout ?? '', stderr: r.error?.message ?? r.stderr ?? '' };
}

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  if (run('ip', ['-V']).code !== 0) return 'iproute2 (ip) not found';
  if (run('iptables-restore', ['--version']).code !== 0) return 'iptables-restore not found';
  const add = run('ip', ['netns', 'add', NS]);
  if (add.code !== 0) return `cannot create network namespace ${NS}: ${add.stderr.trim()}`;
  return undefined;
}

const reason = skipReason();
if (reason !== undefined) console.warn(`skipping the iptables-restore kernel test: ${reason}`);

const restore = (payload: string): { code: number; stderr: string } => run('ip', ['netns', 'exec', NS, 'iptables-restore', '--noflush', '--counters'], payload);

/** iptables-save of one table as chain → number of rules (built-in chains included). */
function saved(table: string): Map<string, number> {
  const out = run('ip', ['netns', 'exec', NS, 'iptables-save', '-t', table]);
  if (out.code !== 0) throw new Error(out.stderr);
  const counts = new Map<string, number>();
  for (const line of out.stdout.split('\n')) {
    const chain = /^:(\S+) /.exec(line)?.[1];
    if (chain !== undefined) counts.set(chain, 0);
    const rule = /^-A (\S+) /.exec(line)?.[1];
    if (rule !== undefined) counts.set(rule, (counts.get(rule) ?? 0) + 1);
  }
  return counts;
}

/** The payload's chains and rule counts for one table (deleted chains left out). */
function rendered(payload: string, table: string): Map<string, number> {
  const t = parseIptablesDump(payload).tables.find((x) => x.name === table);
  return new Map((t?.chains ?? []).filter((c) => !c.deleted).map((c) => [c.name, c.rules.length]));
}

describe.skipIf(reason !== undefined)('iptables-restore on a real kernel', () => {
  afterAll(() => {
    run('ip', ['netns', 'del', NS]);
  });

  const state = buildClusterState(loadExampleCluster());
  const node = state.nodes[0]?.name ?? '';
  // nfacct counters are created by kube-proxy over nfnetlink before it references them; a fresh
  // namespace has none, which is upstream's "counter could not be created" case.
  const options = { ...iptablesOptionsForNode(state, node), nfacct: false };

  it('loads the example cluster\'s full sync, then a partial sync; iptables-save agrees', () => {
    const proxier = createIptablesProxier(options);
    const full = proxier.sync(state);
    expect(full.full).toBe(true);
    const r = restore(full.payload);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // The jumps from the built-in chains, as kube-proxy ensures them.
    const jumps = ['filter', 'nat']
      .map((t) => `*${t}\n${full.ensureRules.filter((j) => j.table === t).map((j) => `${j.line}\n`).join('')}COMMIT\n`)
      .join('');
    expect(restore(jumps).code).toBe(0);
    for (const table of ['filter', 'nat']) {
      const kernel = saved(table);
      for (const [chain, rules] of rendered(full.payload, table)) expect([chain, kernel.get(chain)]).toEqual([chain, rules]);
    }
    expect(saved('filter').get('INPUT')).toBe(full.ensureRules.filter((j) => j.table === 'filter' && j.chain === 'INPUT').length);
    expect(saved('nat').get('PREROUTING')).toBe(1);

    // One endpoint of the first Service with endpoints goes away: a partial sync.
    const sliceIndex = state.endpointSlices.findIndex((s) => s.endpoints.length > 1);
    expect(sliceIndex).toBeGreaterThanOrEqual(0);
    const changed: ProxyInput = {
      ...state,
      endpointSlices: state.endpointSlices.map((s, i) => (i === sliceIndex ? { ...s, endpoints: s.endpoints.slice(1) } : s)),
    };
    const partial = proxier.sync(changed);
    expect(partial.full).toBe(false);
    expect(partial.stats.chainsDeleted).toBeGreaterThan(0);
    const r2 = restore(partial.payload);
    expect(r2.stderr).toBe('');
    expect(r2.code).toBe(0);
    const nat = saved('nat');
    for (const [chain, rules] of rendered(partial.payload, 'nat')) expect([chain, nat.get(chain)]).toEqual([chain, rules]);
    for (const line of partial.payload.split('\n')) {
      const deleted = /^-X (\S+)$/.exec(line)?.[1];
      if (deleted !== undefined) expect(nat.has(deleted)).toBe(false);
    }
    // The untouched chains stayed as the full sync wrote them.
    expect(nat.size).toBe(rendered(full.payload, 'nat').size + 4 - partial.stats.chainsDeleted);
  });

  it('is refused with the line number of the first nfacct rule when the counters do not exist', () => {
    const payload = createIptablesProxier({ ...options, nfacct: true }).sync(state).payload;
    const line = payload.split('\n').findIndex((l) => l.includes('-m nfacct')) + 1;
    const r = restore(payload);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`line ${line}`);
  });
});
