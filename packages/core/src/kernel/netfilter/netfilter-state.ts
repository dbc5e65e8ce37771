import { IpsetStore } from '../ipset/ipset-store.js';
import type { NetfilterChain, NetfilterFamily, NetfilterTable, NetfilterTableName } from './netfilter-types.js';
import { TABLE_BUILTIN_CHAINS } from './netfilter-types.js';
import { RecentTables } from './recent-table.js';

/**
 * The netfilter state of one network namespace and one address family: the iptables (or
 * ip6tables) tables that exist in it, its ipsets and its `-m recent` lists.
 *
 * @remarks
 * Linux equivalent: `net->xt.tables[NFPROTO_IPV4]` or `[NFPROTO_IPV6]` (tables are instantiated
 * per namespace and family on first use, newest first in `/proc/net/ip_tables_names` or
 * `ip6_tables_names`, which is the order iptables-save prints them), `ip_set_net` and
 * `recent_net` (both shared by the two families of a namespace: pass the IPv4 state's to
 * {@link createNetfilterState} to share them).
 * @see https://github.com/torvalds/linux/blob/master/net/netfilter/x_tables.c
 */
export interface NetfilterState {
  /**
   * `ipv4` for iptables, `ipv6` for ip6tables: rules are parsed, printed and matched for this
   * family. Absent means `ipv4`.
   */
  readonly family?: NetfilterFamily;
  /** Instantiated tables, in instantiation order (iptables-save prints them newest first). */
  readonly tables: Map<NetfilterTableName, NetfilterTable>;
  readonly ipsets: IpsetStore;
  readonly recent: RecentTables;
}

/** Options of {@link createNetfilterState}. */
export interface CreateNetfilterStateOptions {
  /** `ipv4` (default, iptables) or `ipv6` (ip6tables). */
  readonly family?: NetfilterFamily;
  /** The namespace's ipsets, when another family's state already holds them. */
  readonly ipsets?: IpsetStore;
  /** The namespace's `-m recent` lists, when another family's state already holds them. */
  readonly recent?: RecentTables;
}

/**
 * Creates the empty netfilter state of a new namespace for one address family (no table
 * instantiated yet).
 *
 * @example
 * ```ts
 * import { createNetfilterState, applyIptablesRestore, formatIptablesSave } from '@knet/core';
 * const nf = createNetfilterState();
 * applyIptablesRestore(nf, '*filter\n-A INPUT -j ACCEPT\nCOMMIT\n');
 * formatIptablesSave(nf);
 * // ip6tables of the same namespace, sharing its ipsets and recent lists:
 * const nf6 = createNetfilterState({ family: 'ipv6', ipsets: nf.ipsets, recent: nf.recent });
 * applyIptablesRestore(nf6, '*filter\n-A INPUT -s fd00::/8 -j ACCEPT\nCOMMIT\n');
 * ```
 */
export function createNetfilterState(options: CreateNetfilterStateOptions = {}): NetfilterState {
  return {
    family: options.family ?? 'ipv4',
    tables: new Map(),
    ipsets: options.ipsets ?? new IpsetStore(),
    recent: options.recent ?? new RecentTables(),
  };
}

/** The family of a state (`ipv4` when not set). */
export function netfilterFamily(state: NetfilterState): NetfilterFamily {
  return state.family ?? 'ipv4';
}

/** A table with only its built-in chains, policy ACCEPT and zero counters. */
export function createTable(name: NetfilterTableName): NetfilterTable {
  const chains = new Map<string, NetfilterChain>();
  for (const hook of TABLE_BUILTIN_CHAINS[name]) {
    chains.set(hook, { name: hook, policy: 'ACCEPT', counters: { packets: 0, bytes: 0 }, rules: [] });
  }
  return { name, chains };
}

/** The table, instantiating it (empty) on first use as the kernel does when iptables opens it. */
export function ensureTable(state: NetfilterState, name: NetfilterTableName): NetfilterTable {
  let t = state.tables.get(name);
  if (t === undefined) {
    t = createTable(name);
    state.tables.set(name, t);
  }
  return t;
}

/** True when `chain` is a built-in chain of `table`. */
export function isBuiltinChain(table: NetfilterTableName, chain: string): boolean {
  return (TABLE_BUILTIN_CHAINS[table] as readonly string[]).includes(chain);
}

/** A copy of a table whose chains and rule arrays may be changed without touching the original. */
export function cloneTable(t: NetfilterTable): NetfilterTable {
  const chains = new Map<string, NetfilterChain>();
  for (const [name, c] of t.chains) {
    chains.set(name, { name: c.name, policy: c.policy, counters: { ...c.counters }, rules: c.rules.slice() });
  }
  return { name: t.name, chains };
}

/**
 * True when a rule of any table matches on the set (`-m set --match-set NAME`): the kernel then
 * refuses to destroy or rename it.
 *
 * @remarks Linux equivalent: the set's reference count taken by xt_set's checkentry.
 */
export function isIpsetReferenced(state: NetfilterState, name: string): boolean {
  for (const t of state.tables.values()) {
    for (const c of t.chains.values()) {
      for (const r of c.rules) for (const m of r.matches) if (m.kind === 'set' && m.name === name) return true;
    }
  }
  return false;
}
