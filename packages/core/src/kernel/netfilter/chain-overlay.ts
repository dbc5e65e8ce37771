import type { NetfilterChain } from './netfilter-types.js';

/** The chains token of each committed chain map (see {@link ChainOverlay.chainsToken}). */
const TOKENS = new WeakMap<Map<string, NetfilterChain>, object>();

/**
 * The chains of a table being restored: the committed chains plus what this restore changed,
 * without copying the committed map.
 *
 * @remarks
 * Linux equivalent: libiptc's in-memory copy of a table (`iptc_init` … `iptc_commit`); the
 * kernel swaps the whole table at COMMIT. Reads see the changes; the committed map is only
 * written by {@link ChainOverlay.commit}, so a refused COMMIT leaves it as it was. Iteration
 * order equals that of `new Map(base)` with the same sets and deletes applied: a replaced chain
 * keeps its place, new chains (and chains deleted and created again) come last.
 */
export class ChainOverlay {
  /** The committed chains (written only by {@link commit}). */
  readonly base: Map<string, NetfilterChain>;
  /** Committed names whose chain was replaced (a chain) or deleted (`null`). */
  readonly replaced = new Map<string, NetfilterChain | null>();
  /** Names created by this restore (new, or deleted and created again), in creation order. */
  readonly added = new Map<string, NetfilterChain>();
  private deleted = 0;
  /** Changes with every set, delete and commit (what a reader may cache a lookup against). */
  version = 0;
  /**
   * Stands for the set of chain names that exist: replaced by a new object whenever a chain is
   * deleted (creating one keeps it). A chain found while the token was `t` still exists while it
   * is `t`. Shared with the committed map at {@link commit}.
   */
  chainsToken: object;

  constructor(base: Map<string, NetfilterChain>) {
    this.base = base;
    let token = TOKENS.get(base);
    if (token === undefined) TOKENS.set(base, (token = {}));
    this.chainsToken = token;
  }

  /** The chain as this restore sees it. */
  get(name: string): NetfilterChain | undefined {
    const a = this.added.get(name);
    if (a !== undefined) return a;
    const r = this.replaced.get(name);
    if (r !== undefined) return r ?? undefined;
    return this.base.get(name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Creates or replaces a chain. */
  set(name: string, chain: NetfilterChain): void {
    this.version++;
    if (this.added.has(name)) this.added.set(name, chain);
    else if (this.base.has(name) && this.replaced.get(name) !== null) this.replaced.set(name, chain);
    else this.added.set(name, chain);
  }

  delete(name: string): void {
    this.version++;
    if (this.added.delete(name)) {
      this.chainsToken = {};
      return;
    }
    if (this.base.has(name) && this.replaced.get(name) !== null) {
      this.replaced.set(name, null);
      this.deleted++;
      this.chainsToken = {};
    }
  }

  get size(): number {
    return this.base.size - this.deleted + this.added.size;
  }

  *keys(): IterableIterator<string> {
    for (const k of this.base.keys()) if (this.replaced.get(k) !== null) yield k;
    yield* this.added.keys();
  }

  *values(): IterableIterator<NetfilterChain> {
    for (const k of this.keys()) yield this.get(k) as NetfilterChain;
  }

  *entries(): IterableIterator<[string, NetfilterChain]> {
    for (const k of this.keys()) yield [k, this.get(k) as NetfilterChain];
  }

  /** The chains as a new map, in iteration order. */
  toMap(): Map<string, NetfilterChain> {
    return new Map(this.entries());
  }

  /** Each name whose chain differs from the committed one: the chain before and after (absent when none). */
  *changes(): IterableIterator<readonly [string, NetfilterChain | undefined, NetfilterChain | undefined]> {
    for (const [k, c] of this.replaced) yield [k, this.base.get(k), c ?? this.added.get(k)];
    for (const [k, c] of this.added) if (!this.replaced.has(k)) yield [k, undefined, c];
  }

  /** The number of names {@link changes} yields. */
  get changeCount(): number {
    let n = this.replaced.size;
    for (const k of this.added.keys()) if (!this.replaced.has(k)) n++;
    return n;
  }

  /** Writes the changes into the committed map (in place: its cost is that of the changes). */
  commit(): void {
    for (const [k, c] of this.replaced) {
      if (c === null) this.base.delete(k);
      else this.base.set(k, c);
    }
    for (const [k, c] of this.added) this.base.set(k, c);
    this.replaced.clear();
    this.added.clear();
    this.deleted = 0;
    this.version++;
    TOKENS.set(this.base, this.chainsToken);
  }
}
