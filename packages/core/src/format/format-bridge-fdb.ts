import type { FdbInfo } from '../host/types.js';

/** Options of {@link formatBridgeFdb}. */
export interface FormatBridgeFdbOptions {
  /** Print what `bridge -j fdb show` prints instead of text. */
  readonly json?: boolean;
}

/** bridge/fdb.c state_n2a: NUD_PERMANENT → `permanent`, NUD_NOARP → `static`, a learned (NUD_REACHABLE) entry → ``. */
function stateText(state: FdbInfo['state']): string {
  return state === 'learned' ? '' : state;
}

/**
 * Renders forwarding database entries exactly as `bridge fdb show` (or `bridge -j fdb show`)
 * prints them.
 *
 * @remarks
 * Linux equivalent: `bridge -n NS fdb show`, `bridge -n NS -j fdb show`.
 *
 * Each text line is `MAC dev DEV [dst IP ][vlan N ][self ][master BR ]STATE`: a bridge's
 * entries read `0a:58:0a:f4:01:02 dev veth3c1f9a2e master cbr0 ` (learned: empty state, so
 * the line ends in a space), `... master cbr0 permanent` (the port's or bridge's own MAC, or
 * `bridge fdb add` without flags) or `... master cbr0 static`; a vxlan device's own entries
 * read `2e:65:1c:0b:00:02 dev flannel.1 dst 172.18.0.3 self permanent`; each device's
 * multicast list shows as `33:33:00:00:00:01 dev eth0 self permanent` and
 * `01:00:5e:00:00:01 dev eth0 self permanent`. JSON keys: `mac`, `ifname`, `dst`?, `vlan`?,
 * `flags` (`["self"]` or `[]`), `master`?, `state` (`""` for learned entries).
 *
 * Entries are printed in the order given, which must be the kernel's dump order: devices by
 * ifindex; for a bridge port its bridge's entries (newest first) then its own list, for the
 * bridge itself its own list then its local entries. A learned entry past its ageing time
 * but not yet collected prints `stale` in the kernel; knet records carry no such state.
 *
 * Versions: the fixtures are iproute2 6.1 on Linux 6.18. The `vlan N` field and its place
 * after `dst` follow bridge/fdb.c (print_fdb); this kernel was built without VLAN filtering,
 * so no fixture has a `vlan` entry.
 *
 * @see bridge(8); iproute2 bridge/fdb.c (print_fdb, state_n2a)
 * @see linux net/bridge/br_fdb.c (br_fdb_dump, fdb_fill_info), net/core/rtnetlink.c (rtnl_fdb_dump)
 * @example
 * ```ts
 * import { formatBridgeFdb } from '@knet/core';
 * formatBridgeFdb([{ mac: '2e:65:1c:0b:00:02', dev: 'flannel.1', dst: '172.18.0.3', state: 'permanent', self: true }]);
 * // '2e:65:1c:0b:00:02 dev flannel.1 dst 172.18.0.3 self permanent\n'
 * ```
 */
export function formatBridgeFdb(fdb: readonly FdbInfo[], options: FormatBridgeFdbOptions = {}): string {
  if (options.json === true) {
    const out = fdb.map((e) => {
      const o: Record<string, unknown> = { mac: e.mac, ifname: e.dev };
      if (e.dst !== undefined) o['dst'] = e.dst;
      if (e.vlan !== undefined && e.vlan !== 0) o['vlan'] = e.vlan;
      o['flags'] = e.self ? ['self'] : [];
      if (e.master !== undefined) o['master'] = e.master;
      o['state'] = stateText(e.state);
      return o;
    });
    return `${JSON.stringify(out)}\n`;
  }
  return fdb
    .map(
      (e) =>
        `${e.mac} dev ${e.dev} ` +
        (e.dst !== undefined ? `dst ${e.dst} ` : '') +
        (e.vlan !== undefined && e.vlan !== 0 ? `vlan ${e.vlan} ` : '') +
        (e.self ? 'self ' : '') +
        (e.master !== undefined ? `master ${e.master} ` : '') +
        `${stateText(e.state)}\n`,
    )
    .join('');
}
