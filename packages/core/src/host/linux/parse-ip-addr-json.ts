import type { AddressInfo } from '../types.js';
import { jsonRecords, num, reqNum, reqStr, scopeOf, str } from './ip-json-fields.js';

/**
 * Converts `ip -j addr show` output into IPv4 {@link AddressInfo} records, in the kernel's
 * order (devices by ifindex, then each device's addresses, primaries first). IPv6 addresses
 * are left out: knet models IPv4 (docs/decisions/0002).
 *
 * @remarks Linux equivalent: `ip -n NS -j addr show`. A label defaults to the device name, as
 * the kernel sets `IFA_LABEL` for every IPv4 address.
 * @throws KnetError `EPARSE` for malformed records.
 * @see ip-address(8); iproute2 ip/ipaddress.c print_addrinfo
 */
export function parseIpAddrJson(json: unknown): AddressInfo[] {
  const out: AddressInfo[] = [];
  for (const l of jsonRecords(json, 'ip addr show')) {
    const ifindex = reqNum(l, 'ifindex', 'ip addr show');
    const dev = reqStr(l, 'ifname', 'ip addr show');
    const infos = l['addr_info'];
    if (!Array.isArray(infos)) continue;
    for (const a of jsonRecords(infos, 'ip addr show addr_info')) {
      if (a['family'] !== 'inet') continue;
      const broadcast = str(a, 'broadcast');
      out.push({
        ifindex,
        dev,
        family: 'inet',
        local: reqStr(a, 'local', 'ip addr show'),
        prefixlen: num(a, 'prefixlen') ?? 32,
        ...(broadcast !== undefined ? { broadcast } : {}),
        scope: scopeOf(a['scope'], 'ip addr show'),
        label: str(a, 'label') ?? dev,
      });
    }
  }
  return out;
}
