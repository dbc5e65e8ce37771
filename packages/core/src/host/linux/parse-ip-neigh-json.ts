import type { NeighInfo, NeighState } from '../types.js';
import { jsonRecords, reqStr, str, strList } from './ip-json-fields.js';

const STATES: ReadonlySet<string> = new Set(['PERMANENT', 'NOARP', 'REACHABLE', 'STALE', 'DELAY', 'PROBE', 'INCOMPLETE', 'FAILED']);

/**
 * Converts `ip -j neigh show nud all` output into IPv4 {@link NeighInfo} records, in the
 * kernel's dump order. IPv6 neighbours are left out (docs/decisions/0002).
 *
 * @remarks
 * Linux equivalent: `ip -n NS -4 -j neigh show nud all`. Entries in state NUD_NONE (printed
 * without a `state`) are left out: the kernel creates one when an update fails half way (for
 * example `ip neigh replace ... nud permanent` without `lladdr`, which fails with
 * `No link layer address given`); it has neither address nor state and is garbage-collected.
 * @throws KnetError `EPARSE` for malformed records.
 * @see ip-neighbour(8); iproute2 ip/ipneigh.c print_neigh
 */
export function parseIpNeighJson(json: unknown): NeighInfo[] {
  const out: NeighInfo[] = [];
  for (const n of jsonRecords(json, 'ip neigh show')) {
    const dst = reqStr(n, 'dst', 'ip neigh show');
    if (dst.includes(':')) continue;
    const state = strList(n, 'state').find((s) => STATES.has(s));
    if (state === undefined) continue;
    const lladdr = str(n, 'lladdr');
    out.push({
      dst,
      dev: reqStr(n, 'dev', 'ip neigh show'),
      ...(lladdr !== undefined ? { lladdr } : {}),
      state: state as NeighState,
      router: 'router' in n,
    });
  }
  return out;
}
