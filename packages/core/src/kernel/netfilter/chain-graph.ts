import type { NetfilterChain, NetfilterHook, NetfilterRule, NetfilterTable, NetfilterTableName } from './netfilter-types.js';
import { TABLE_BUILTIN_CHAINS } from './netfilter-types.js';

/**
 * The jump graph of a committed table, kept up to date from one restore to the next: which
 * hooks each chain is reachable from and how many jumps point at it. A restore that changes a
 * few chains of a big table (a kube-proxy partial sync) then costs what it changes.
 *
 * @remarks
 * Linux equivalent: what `mark_source_chains` (net/ipv4/netfilter/ip_tables.c) computes at every
 * `IPT_SO_SET_REPLACE` — each rule's `comefrom` hook mask and loop detection — and the chain
 * reference counts libiptc keeps for `-X`. The kernel recomputes them over the whole table;
 * here per chain and hook the number of jumps from chains reachable from that hook is kept, and
 * only the changes are propagated. Where a change could close a cycle through reachable chains,
 * the whole graph is recomputed instead (a loop is then reported exactly as a full check would).
 */

/** Bit of each hook in a hook mask (the kernel's `1 << NF_INET_*`). */
export const HOOK_BITS: Readonly<Record<NetfilterHook, number>> = {
  PREROUTING: 1,
  INPUT: 2,
  FORWARD: 4,
  OUTPUT: 8,
  POSTROUTING: 16,
};

const HOOK_COUNT = 5;

/** The hook names of a mask. */
export function hookNames(mask: number): NetfilterHook[] {
  return (Object.keys(HOOK_BITS) as NetfilterHook[]).filter((h) => (mask & HOOK_BITS[h]) !== 0);
}

/** Target chains of the jumps and gotos of a rule array (cached per array: committed arrays do not change). */
const JUMPS = new WeakMap<readonly NetfilterRule[], readonly string[]>();

/** The chains a rule array jumps or goes to, one entry per rule. */
export function jumpsOf(rules: readonly NetfilterRule[]): readonly string[] {
  let j = JUMPS.get(rules);
  if (j === undefined) {
    const out: string[] = [];
    for (const r of rules) if (r.target.kind === 'jump' || r.target.kind === 'goto') out.push(r.target.chain);
    j = out;
    JUMPS.set(rules, j);
  }
  return j;
}

/** The hooks each chain reaches from, per chain, with the counts that keep them up to date. */
export interface ChainGraph {
  /** Hook mask ({@link HOOK_BITS}) of each chain reachable from a built-in chain; absent means 0. */
  readonly masks: Map<string, number>;
  /**
   * Per chain and hook bit: jumps into the chain from chains reachable from that hook, plus one
   * on the hook's own chain. A bit is in the mask exactly when its count is not 0.
   */
  readonly counts: Map<string, Uint32Array>;
  /** Jumps and gotos into each chain from any chain; absent means 0. */
  readonly refs: Map<string, number>;
}

/** Graphs of committed tables (valid while the table changes only through applyIptablesRestore). */
const GRAPHS = new WeakMap<NetfilterTable, ChainGraph>();

/** The graph kept for a committed table, if any. */
export function chainGraphOf(table: NetfilterTable): ChainGraph | undefined {
  return GRAPHS.get(table);
}

/** Keeps `graph` as the graph of `table`. */
export function setChainGraph(table: NetfilterTable, graph: ChainGraph): void {
  GRAPHS.set(table, graph);
}

/**
 * The hooks each chain is reachable from, as a mask of {@link HOOK_BITS} (the kernel's
 * `comefrom`), or the name of a chain on a loop reachable from a built-in chain.
 *
 * @remarks Linux equivalent: `mark_source_chains` (net/ipv4/netfilter/ip_tables.c). One
 * depth-first walk from the built-in chains finds loops and a topological order; the masks then
 * flow along the jumps in that order, so the cost is linear in chains and jumps.
 */
export function chainHooks(table: NetfilterTable): { hooks: Map<string, number>; loop?: string } {
  const names = [...table.chains.keys()];
  const index = new Map<string, number>();
  names.forEach((n, i) => index.set(n, i));
  const n = names.length;
  const edges: (readonly number[])[] = new Array<readonly number[]>(n);
  for (let i = 0; i < n; i++) {
    const c = table.chains.get(names[i] as string) as NetfilterChain;
    const out: number[] = [];
    for (const target of jumpsOf(c.rules)) {
      const j = index.get(target);
      if (j !== undefined) out.push(j);
    }
    edges[i] = out;
  }
  const color = new Uint8Array(n);
  const order: number[] = [];
  let loop: string | undefined;
  const roots: number[] = [];
  for (const hook of TABLE_BUILTIN_CHAINS[table.name]) {
    const r = index.get(hook);
    if (r !== undefined) roots.push(r);
  }
  const stackNode: number[] = [];
  const stackEdge: number[] = [];
  for (const r of roots) {
    if (color[r] !== 0) continue;
    color[r] = 1;
    stackNode.push(r);
    stackEdge.push(0);
    while (stackNode.length > 0 && loop === undefined) {
      const top = stackNode.length - 1;
      const v = stackNode[top] as number;
      const out = edges[v] as readonly number[];
      const e = stackEdge[top] as number;
      if (e < out.length) {
        stackEdge[top] = e + 1;
        const w = out[e] as number;
        if (color[w] === 1) loop = names[w];
        else if (color[w] === 0) {
          color[w] = 1;
          stackNode.push(w);
          stackEdge.push(0);
        }
      } else {
        color[v] = 2;
        order.push(v);
        stackNode.pop();
        stackEdge.pop();
      }
    }
    if (loop !== undefined) break;
  }
  const mask = new Uint8Array(n);
  for (const hook of TABLE_BUILTIN_CHAINS[table.name]) {
    const r = index.get(hook);
    if (r !== undefined) mask[r] = (mask[r] as number) | HOOK_BITS[hook];
  }
  // Reverse postorder is a topological order of the reachable chains.
  for (let k = order.length - 1; k >= 0; k--) {
    const v = order[k] as number;
    const m = mask[v] as number;
    if (m === 0) continue;
    for (const w of edges[v] as readonly number[]) mask[w] = (mask[w] as number) | m;
  }
  const hooks = new Map<string, number>();
  for (let i = 0; i < n; i++) hooks.set(names[i] as string, mask[i] as number);
  return loop !== undefined ? { hooks, loop } : { hooks };
}

function ownBits(tableName: NetfilterTableName, chain: string): number {
  const hooks = TABLE_BUILTIN_CHAINS[tableName] as readonly string[];
  return hooks.includes(chain) ? HOOK_BITS[chain as NetfilterHook] : 0;
}

/**
 * Builds the graph of a table from scratch.
 *
 * @returns the graph, or the chain on a loop reachable from a built-in chain (as
 * {@link chainHooks} names it).
 */
export function buildChainGraph(table: NetfilterTable): { graph: ChainGraph; hooks: Map<string, number> } | { loop: string } {
  const { hooks, loop } = chainHooks(table);
  if (loop !== undefined) return { loop };
  const masks = new Map<string, number>();
  const counts = new Map<string, Uint32Array>();
  const refs = new Map<string, number>();
  const countsOf = (name: string): Uint32Array => {
    let c = counts.get(name);
    if (c === undefined) counts.set(name, (c = new Uint32Array(HOOK_COUNT)));
    return c;
  };
  for (const [name, chain] of table.chains) {
    const m = hooks.get(name) ?? 0;
    if (m !== 0) masks.set(name, m);
    const own = ownBits(table.name, name);
    if (own !== 0) {
      const c = countsOf(name);
      for (let b = 0; b < HOOK_COUNT; b++) if ((own >> b) & 1) c[b] = (c[b] as number) + 1;
    }
    for (const t of jumpsOf(chain.rules)) {
      refs.set(t, (refs.get(t) ?? 0) + 1);
      if (m === 0) continue;
      const c = countsOf(t);
      for (let b = 0; b < HOOK_COUNT; b++) if ((m >> b) & 1) c[b] = (c[b] as number) + 1;
    }
  }
  return { graph: { masks, counts, refs }, hooks };
}

/** What {@link updateChainGraph} computed: the new values of the chains it touched. */
export interface ChainGraphUpdate {
  readonly masks: Map<string, number>;
  readonly counts: Map<string, Uint32Array>;
  readonly refs: Map<string, number>;
  /** Chains whose hook mask changed. */
  readonly maskChanged: ReadonlySet<string>;
  /** Chains that no longer exist. */
  readonly removed: readonly string[];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const EMPTY: readonly string[] = [];

/** Chains the incremental cycle search may visit before the graph is rebuilt instead. */
const CYCLE_SEARCH_LIMIT = 50_000;

/**
 * The graph after some chains of the table changed, without touching `graph`.
 *
 * @param graph the graph of the committed table
 * @param changes each changed chain name with its chain before and after (absent: did not exist / deleted)
 * @param chainOf the chains after the change
 * @returns the update, or `undefined` when the graph must be rebuilt (a change may close a cycle
 * through reachable chains, or the graph was not consistent with the table)
 */
export function updateChainGraph(
  graph: ChainGraph,
  changes: Iterable<readonly [string, NetfilterChain | undefined, NetfilterChain | undefined]>,
  chainOf: (name: string) => NetfilterChain | undefined,
): ChainGraphUpdate | undefined {
  const masks = new Map<string, number>();
  const counts = new Map<string, Uint32Array>();
  const refs = new Map<string, number>();
  const maskOf = (n: string): number => masks.get(n) ?? graph.masks.get(n) ?? 0;
  const writable = (n: string): Uint32Array => {
    let c = counts.get(n);
    if (c === undefined) {
      const old = graph.counts.get(n);
      c = old === undefined ? new Uint32Array(HOOK_COUNT) : old.slice();
      counts.set(n, c);
    }
    return c;
  };
  const touched: string[] = [];
  const addedTargets: string[] = [];
  const removed: string[] = [];
  for (const [name, before, after] of changes) {
    if (after === undefined) removed.push(name);
    const oldJ = before === undefined ? EMPTY : jumpsOf(before.rules);
    const newJ = after === undefined ? EMPTY : jumpsOf(after.rules);
    if (sameList(oldJ, newJ)) continue;
    const diff = new Map<string, number>();
    for (const t of oldJ) diff.set(t, (diff.get(t) ?? 0) - 1);
    for (const t of newJ) diff.set(t, (diff.get(t) ?? 0) + 1);
    // Edges change at the source's committed mask; mask changes propagate afterwards.
    const m = graph.masks.get(name) ?? 0;
    for (const [t, k] of diff) {
      if (k === 0) continue;
      refs.set(t, (refs.get(t) ?? graph.refs.get(t) ?? 0) + k);
      if (k > 0) addedTargets.push(t);
      if (m === 0) continue;
      const c = writable(t);
      for (let b = 0; b < HOOK_COUNT; b++) {
        if (((m >> b) & 1) === 0) continue;
        const v = (c[b] as number) + k;
        if (v < 0) return undefined;
        c[b] = v;
      }
      touched.push(t);
    }
  }
  // Propagate mask changes along the jumps of the new table.
  const maskChanged = new Set<string>();
  const gainedFromZero: string[] = [];
  let budget = 64 * (touched.length + 1024);
  while (touched.length > 0) {
    if (--budget < 0) return undefined;
    const v = touched.pop() as string;
    const c = counts.get(v) ?? graph.counts.get(v);
    let next = 0;
    if (c !== undefined) for (let b = 0; b < HOOK_COUNT; b++) if ((c[b] as number) !== 0) next |= 1 << b;
    const prev = maskOf(v);
    if (next === prev) continue;
    masks.set(v, next);
    if (!maskChanged.has(v)) {
      maskChanged.add(v);
      if ((graph.masks.get(v) ?? 0) === 0) gainedFromZero.push(v);
    }
    const chain = chainOf(v);
    if (chain === undefined) return undefined;
    const gained = next & ~prev;
    const lost = prev & ~next;
    for (const w of jumpsOf(chain.rules)) {
      const cw = writable(w);
      for (let b = 0; b < HOOK_COUNT; b++) {
        if ((gained >> b) & 1) cw[b] = (cw[b] as number) + 1;
        else if ((lost >> b) & 1) {
          if ((cw[b] as number) === 0) return undefined;
          cw[b] = (cw[b] as number) - 1;
        }
      }
      touched.push(w);
    }
  }
  for (const name of removed) {
    if (chainOf(name) !== undefined) continue;
    if (maskOf(name) !== 0 || (refs.get(name) ?? graph.refs.get(name) ?? 0) !== 0) return undefined;
  }
  // A new cycle through reachable chains holds the target of a new jump, or consists of
  // chains that were unreachable before: look for one from those only.
  if (hasReachableCycle([...addedTargets, ...gainedFromZero], maskOf, chainOf, CYCLE_SEARCH_LIMIT)) return undefined;
  return { masks, counts, refs, maskChanged, removed };
}

/**
 * True when a cycle of chains with a hook mask is reachable from `starts` through such chains,
 * or when the search exceeds `limit` chains (the caller then rebuilds the graph).
 */
function hasReachableCycle(
  starts: readonly string[],
  maskOf: (n: string) => number,
  chainOf: (n: string) => NetfilterChain | undefined,
  limit: number,
): boolean {
  const color = new Map<string, 1 | 2>();
  let visited = 0;
  for (const s of starts) {
    if (color.has(s) || maskOf(s) === 0) continue;
    const stack: { name: string; jumps: readonly string[]; i: number }[] = [];
    const enter = (name: string): boolean => {
      if (++visited > limit) return false;
      color.set(name, 1);
      const chain = chainOf(name);
      stack.push({ name, jumps: chain === undefined ? EMPTY : jumpsOf(chain.rules), i: 0 });
      return true;
    };
    if (!enter(s)) return true;
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { name: string; jumps: readonly string[]; i: number };
      if (top.i < top.jumps.length) {
        const w = top.jumps[top.i++] as string;
        if (maskOf(w) === 0) continue;
        const cw = color.get(w);
        if (cw === 1) return true;
        if (cw === undefined && !enter(w)) return true;
      } else {
        color.set(top.name, 2);
        stack.pop();
      }
    }
  }
  return false;
}

/** Applies an update to the graph of a table (after its COMMIT succeeded). */
export function applyChainGraphUpdate(graph: ChainGraph, u: ChainGraphUpdate): void {
  for (const [n, m] of u.masks) {
    if (m === 0) graph.masks.delete(n);
    else graph.masks.set(n, m);
  }
  for (const [n, c] of u.counts) {
    if (c.every((x) => x === 0)) graph.counts.delete(n);
    else graph.counts.set(n, c);
  }
  for (const [n, r] of u.refs) {
    if (r === 0) graph.refs.delete(n);
    else graph.refs.set(n, r);
  }
  for (const n of u.removed) {
    graph.masks.delete(n);
    graph.counts.delete(n);
    graph.refs.delete(n);
  }
}
