import type { FdbInfo } from '../types.js';
import { jsonRecords, num, reqStr, str, strList } from './ip-json-fields.js';

/**
 * Converts `bridge -j [-s] fdb show` output into {@link FdbInfo} records, in the kernel's dump
 * order. Remote entries with an IPv6 `dst` are left out (docs/decisions/0002).
 *
 * @remarks
 * Linux equivalent: `bridge -n NS -s -j fdb show`. An empty `state` is a learned (dynamic)
 * entry; `static` and `permanent` are kept as printed. `updated` (seconds since the entry was
 * last refreshed) is taken for learned entries when `-s` printed it.
 * @throws KnetError `EPARSE` for malformed records.
 * @see bridge(8); iproute2 bridge/fdb.c print_fdb
 */
export function parseBridgeFdbJson(json: unknown): FdbInfo[] {
  const out: FdbInfo[] = [];
  for (const e of jsonRecords(json, 'bridge fdb show')) {
    const dst = str(e, 'dst');
    if (dst?.includes(':') === true) continue;
    const raw = str(e, 'state') ?? '';
    const state: FdbInfo['state'] = raw === 'permanent' || raw === 'static' ? raw : 'learned';
    const master = str(e, 'master');
    const vlan = num(e, 'vlan');
    const updated = num(e, 'updated');
    out.push({
      mac: reqStr(e, 'mac', 'bridge fdb show'),
      dev: reqStr(e, 'ifname', 'bridge fdb show'),
      ...(master !== undefined ? { master } : {}),
      ...(dst !== undefined ? { dst } : {}),
      ...(vlan !== undefined ? { vlan } : {}),
      state,
      self: strList(e, 'flags').includes('self'),
      ...(state === 'learned' && updated !== undefined ? { updated } : {}),
    });
  }
  return out;
}
