import type { NeighInfo, NeighState } from '../host/types.js';

/** Options of {@link formatIpNeigh}. */
export interface FormatIpNeighOptions {
  /** Print what `ip -j neigh show` prints instead of text. */
  readonly json?: boolean;
  /** Show every entry, as `ip neigh show nud all`; by default `NOARP` entries are hidden, as `ip neigh show` hides them. */
  readonly all?: boolean;
}

/** NUD_VALID (include/net/neighbour.h): only these states carry a link-layer address in a dump. */
const VALID: ReadonlySet<NeighState> = new Set(['PERMANENT', 'NOARP', 'REACHABLE', 'PROBE', 'STALE', 'DELAY']);

/**
 * Renders neighbour (ARP) entries exactly as `ip neigh show` (or `ip -j neigh show`) prints them.
 *
 * @remarks
 * Linux equivalent: `ip -n NS neigh show`, `ip -n NS neigh show nud all`, and their `-j` forms.
 *
 * Each text line is `DST dev DEV [lladdr MAC ][router ]STATE ` (iproute2 leaves the trailing
 * space). The link-layer address is printed only for states in NUD_VALID, as the kernel only
 * dumps NDA_LLADDR for those: `INCOMPLETE` and `FAILED` entries have none. Plain
 * `ip neigh show` filters out `NOARP` entries (its default state mask is `~NUD_NOARP`), which
 * hides the multicast entries (`224.0.0.22 ... NOARP`) every IGMP-joined device has; set
 * `all` for `nud all`. JSON: `{"dst","dev","lladdr"?,"router":null?,"state":[STATE]}`.
 *
 * Entries are printed in the order given, which must be the kernel's dump order (the
 * neighbour hash table's, which is seeded per boot and so not derivable from the records).
 *
 * @see ip-neighbour(8); iproute2 ip/ipneigh.c (print_neigh, do_show_or_flush)
 * @see linux net/core/neighbour.c (neigh_fill_info)
 * @example
 * ```ts
 * import { formatIpNeigh } from '@knet/core';
 * formatIpNeigh([{ dst: '10.244.1.3', dev: 'cbr0', lladdr: '0a:58:0a:f4:01:03', state: 'REACHABLE', router: false }]);
 * // '10.244.1.3 dev cbr0 lladdr 0a:58:0a:f4:01:03 REACHABLE \n'
 * ```
 */
export function formatIpNeigh(neighs: readonly NeighInfo[], options: FormatIpNeighOptions = {}): string {
  const shown = options.all === true ? neighs : neighs.filter((n) => n.state !== 'NOARP');
  if (options.json === true) {
    const out = shown.map((n) => {
      const o: Record<string, unknown> = { dst: n.dst, dev: n.dev };
      if (n.lladdr !== undefined && VALID.has(n.state)) o['lladdr'] = n.lladdr;
      if (n.router) o['router'] = null;
      o['state'] = [n.state];
      return o;
    });
    return `${JSON.stringify(out)}\n`;
  }
  return shown
    .map(
      (n) =>
        `${n.dst} dev ${n.dev} ` +
        (n.lladdr !== undefined && VALID.has(n.state) ? `lladdr ${n.lladdr} ` : '') +
        (n.router ? 'router ' : '') +
        `${n.state} \n`,
    )
    .join('');
}
