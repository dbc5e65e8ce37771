import { formatIpv4, prefixMask } from '../../ip/ipv4.js';
import type { RouteInfo, RouteProto, RouteType, Scope } from '../../host/types.js';

/** A route as the simulated FIB stores it: numeric addresses, the device by name. */
export interface SimRoute {
  readonly type: RouteType;
  readonly dst: number;
  readonly prefix: number;
  readonly table: number;
  readonly dev?: string;
  readonly gateway?: number;
  readonly prefsrc?: number;
  /** Route priority (`metric`); 0 when not given. */
  readonly metric: number;
  readonly scope: Scope;
  readonly protocol: RouteProto;
  readonly onlink: boolean;
  readonly mtu?: number;
}

/** Kernel table ids. @see rtnetlink(7) RT_TABLE_* */
export const RT_TABLE_MAIN = 254;
/** The `local` table. */
export const RT_TABLE_LOCAL = 255;
/** The `default` table. */
export const RT_TABLE_DEFAULT = 253;

/** Name of a table id as iproute2 prints it. */
export function tableName(id: number): 'main' | 'local' | 'default' | number {
  return id === RT_TABLE_MAIN ? 'main' : id === RT_TABLE_LOCAL ? 'local' : id === RT_TABLE_DEFAULT ? 'default' : id;
}

/**
 * One routing table with longest-prefix-match lookup.
 *
 * @remarks
 * Linux equivalent: a `fib_table` (net/ipv4/fib_trie.c). Entries are indexed by prefix length
 * then network address, so a lookup is at most 33 hash probes, whatever the table size; ties on
 * a prefix are broken by the lowest metric (`fib_table_lookup` walks aliases by priority).
 * @see ip-route(8)
 */
export class RouteTable {
  readonly id: number;
  /** prefix length → network → routes sorted by metric. */
  private readonly byPrefix = new Map<number, Map<number, SimRoute[]>>();
  /** Prefix lengths present, longest first. */
  private prefixes: number[] = [];
  private count = 0;

  constructor(id: number) {
    this.id = id;
  }

  /** Number of routes in the table. */
  get size(): number {
    return this.count;
  }

  /** Finds the route with the same key (dst, prefix, metric; for `local`/`broadcast` also type and dev). */
  find(dst: number, prefix: number, metric: number, type?: RouteType): SimRoute | undefined {
    return this.byPrefix
      .get(prefix)
      ?.get(dst)
      ?.find((r) => r.metric === metric && (type === undefined || r.type === type));
  }

  /** Inserts a route (callers check for duplicates first). */
  insert(route: SimRoute): void {
    let nets = this.byPrefix.get(route.prefix);
    if (nets === undefined) {
      nets = new Map();
      this.byPrefix.set(route.prefix, nets);
      this.prefixes = [...this.byPrefix.keys()].sort((a, b) => b - a);
    }
    const list = nets.get(route.dst);
    if (list === undefined) nets.set(route.dst, [route]);
    else {
      list.push(route);
      list.sort((a, b) => a.metric - b.metric);
    }
    this.count++;
  }

  /** Removes routes matching the predicate among those for (dst, prefix); returns how many. */
  remove(dst: number, prefix: number, match: (r: SimRoute) => boolean): number {
    const nets = this.byPrefix.get(prefix);
    const list = nets?.get(dst);
    if (nets === undefined || list === undefined) return 0;
    const keep = list.filter((r) => !match(r));
    const removed = list.length - keep.length;
    if (keep.length === 0) nets.delete(dst);
    else nets.set(dst, keep);
    if (nets.size === 0) {
      this.byPrefix.delete(prefix);
      this.prefixes = [...this.byPrefix.keys()].sort((a, b) => b - a);
    }
    this.count -= removed;
    return removed;
  }

  /**
   * Removes the first route for (dst, prefix), in metric order, that matches the predicate;
   * returns it. This is `ip route del`: fib_table_delete() deletes one alias, the first that
   * matches what the request names.
   * @see linux net/ipv4/fib_trie.c (fib_table_delete)
   */
  removeFirst(dst: number, prefix: number, match: (r: SimRoute) => boolean): SimRoute | undefined {
    const found = this.byPrefix.get(prefix)?.get(dst)?.find(match);
    if (found !== undefined) this.remove(dst, prefix, (r) => r === found);
    return found;
  }

  /** Removes every route matching the predicate (used when a device goes down or is deleted). */
  removeWhere(match: (r: SimRoute) => boolean): number {
    let removed = 0;
    for (const [prefix, nets] of [...this.byPrefix]) {
      for (const dst of [...nets.keys()]) removed += this.remove(dst, prefix, match);
    }
    return removed;
  }

  /**
   * Longest prefix match for `addr`; among routes of that prefix the lowest metric wins.
   * `accept` can reject candidates (e.g. routes whose scope is too wide for a gateway check);
   * a rejected candidate lets the lookup continue with shorter prefixes, as fib_table_lookup does.
   */
  lookup(addr: number, accept?: (r: SimRoute) => boolean): SimRoute | undefined {
    for (const prefix of this.prefixes) {
      const net = (addr & prefixMask(prefix)) >>> 0;
      const list = this.byPrefix.get(prefix)?.get(net);
      if (list === undefined) continue;
      for (const r of list) if (accept === undefined || accept(r)) return r;
    }
    return undefined;
  }

  /** All routes, in the order `ip route show` prints them (by prefix address, then length). */
  list(): SimRoute[] {
    const out: SimRoute[] = [];
    for (const nets of this.byPrefix.values()) for (const list of nets.values()) out.push(...list);
    return out.sort((a, b) => a.dst - b.dst || a.prefix - b.prefix || a.metric - b.metric);
  }
}

/** Converts a stored route into the record `ip -j route` describes. */
export function toRouteInfo(r: SimRoute): RouteInfo {
  const dst = r.prefix === 0 && r.dst === 0 && r.type !== 'local' && r.type !== 'broadcast'
    ? 'default'
    : r.prefix === 32
      ? formatIpv4(r.dst)
      : `${formatIpv4(r.dst)}/${r.prefix}`;
  return {
    type: r.type,
    dst,
    table: tableName(r.table),
    ...(r.dev !== undefined ? { dev: r.dev } : {}),
    ...(r.gateway !== undefined ? { gateway: formatIpv4(r.gateway) } : {}),
    ...(r.prefsrc !== undefined ? { prefsrc: formatIpv4(r.prefsrc) } : {}),
    ...(r.metric !== 0 ? { metric: r.metric } : {}),
    scope: r.scope,
    protocol: r.protocol,
    onlink: r.onlink,
    ...(r.mtu !== undefined ? { mtu: r.mtu } : {}),
  };
}

/** The text of a route as `ip route` prints it (without the table unless asked), for traces. */
export function formatSimRoute(r: SimRoute, withTable = false): string {
  const info = toRouteInfo(r);
  const parts: string[] = [];
  if (r.type !== 'unicast') parts.push(r.type);
  parts.push(info.dst);
  if (info.gateway !== undefined) parts.push('via', info.gateway);
  if (info.dev !== undefined) parts.push('dev', info.dev);
  if (withTable && r.table !== RT_TABLE_MAIN) parts.push('table', String(info.table));
  if (typeof r.protocol === 'string' ? r.protocol !== 'boot' : true) parts.push('proto', String(r.protocol));
  if (r.scope !== 'global') parts.push('scope', r.scope);
  if (info.prefsrc !== undefined) parts.push('src', info.prefsrc);
  if (r.metric !== 0) parts.push('metric', String(r.metric));
  if (r.onlink) parts.push('onlink');
  return parts.join(' ');
}
