import { KnetError } from '../../errors/knet-error.js';
import { ZERO_MAC } from '../../ip/mac.js';
import type { LinkInfo, LinkKind, OperState } from '../types.js';
import { jsonRecords, num, reqNum, reqStr, str, strList, type JsonRecord } from './ip-json-fields.js';

const OPERSTATES: ReadonlySet<string> = new Set(['UP', 'DOWN', 'UNKNOWN', 'LOWERLAYERDOWN']);
const MODELLED_KINDS: ReadonlySet<string> = new Set(['veth', 'bridge', 'vxlan', 'tun', 'dummy']);

/**
 * The namespace names behind the ids `ip -j netns list-id` prints inside a namespace
 * (`[{"nsid":0,"name":"knet-a"}]`), as the map `link_netnsid` is read with.
 */
export function parseNetnsIdJson(json: unknown): Map<number, string> {
  const out = new Map<number, string>();
  for (const r of jsonRecords(json, 'ip netns list-id')) {
    const id = num(r, 'nsid');
    const name = str(r, 'name');
    if (id !== undefined && name !== undefined) out.set(id, name);
  }
  return out;
}

function kindOf(r: JsonRecord, info: JsonRecord | undefined): LinkKind {
  if (str(r, 'link_type') === 'loopback') return 'loopback';
  const k = info === undefined ? undefined : str(info, 'info_kind');
  // Everything knet does not model (ipip's tunl0, a physical NIC) is a plain device.
  return k !== undefined && MODELLED_KINDS.has(k) ? (k as LinkKind) : 'device';
}

function object(v: unknown): JsonRecord | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonRecord) : undefined;
}

/**
 * Converts `ip -d -j link show` output into {@link LinkInfo} records.
 *
 * @remarks
 * Linux equivalent: `ip -n NS -d -j link show`. `up`, `lowerUp`, `promisc` and `noarp` are the
 * `UP`, `LOWER_UP`, `PROMISC` and `NOARP` flags (`PROMISC` is the administrative flag:
 * a bridge port's promiscuity count does not set it). A veth's peer is `link_index` with,
 * when it lives in another namespace, `link_netnsid` resolved through `nsNames`; in the same
 * namespace iproute2 prints the peer's name (`link`). A bridge's `ageing_time` is in
 * centiseconds (USER_HZ). Kinds knet does not model are `device`.
 * @throws KnetError `EPARSE` for malformed records, `EIO` for a peer in a namespace without a
 * name (not one knet created).
 * @see ip-link(8); iproute2 ip/ipaddress.c print_linkinfo, ip/iplink_bridge.c, ip/iplink_vxlan.c
 */
export function parseIpLinkJson(json: unknown, nsNames: ReadonlyMap<number, string> = new Map()): LinkInfo[] {
  const records = jsonRecords(json, 'ip link show');
  const byName = new Map<string, number>();
  for (const r of records) {
    const name = str(r, 'ifname');
    const idx = num(r, 'ifindex');
    if (name !== undefined && idx !== undefined) byName.set(name, idx);
  }
  return records.map((r) => {
    const ifindex = reqNum(r, 'ifindex', 'ip link show');
    const name = reqStr(r, 'ifname', 'ip link show');
    const info = object(r['linkinfo']);
    const data = info === undefined ? undefined : object(info['info_data']);
    const kind = kindOf(r, info);
    const flags = strList(r, 'flags');
    const operstate = str(r, 'operstate') ?? 'UNKNOWN';
    if (!OPERSTATES.has(operstate)) throw new KnetError('EPARSE', `ip link show: ${name}: unknown operstate ${operstate}`, { dev: name });

    let peer: LinkInfo['peer'];
    if (kind === 'veth') {
      const idx = num(r, 'link_index');
      const nsid = num(r, 'link_netnsid');
      const linkName = str(r, 'link');
      if (idx !== undefined && nsid !== undefined) {
        const netns = nsNames.get(nsid);
        if (netns === undefined) {
          throw new KnetError('EIO', `${name}: veth peer in namespace id ${nsid}, which has no name`, { dev: name, nsid });
        }
        peer = { ifindex: idx, netns };
      } else if (idx !== undefined) peer = { ifindex: idx };
      else if (linkName !== undefined && byName.has(linkName)) peer = { ifindex: byName.get(linkName)! };
    }

    const slave = info !== undefined && str(info, 'info_slave_kind') === 'bridge' ? object(info['info_slave_data']) : undefined;
    const master = str(r, 'master');
    const ageing = kind === 'bridge' && data !== undefined ? num(data, 'ageing_time') : undefined;
    let vxlan: LinkInfo['vxlan'];
    if (kind === 'vxlan' && data !== undefined) {
      const local = str(data, 'local');
      const dev = str(data, 'link');
      const group = str(data, 'group');
      vxlan = {
        id: num(data, 'id') ?? 0,
        ...(local !== undefined ? { local } : {}),
        ...(dev !== undefined ? { dev } : {}),
        port: num(data, 'port') ?? 0,
        learning: data['learning'] === true,
        ...(group !== undefined ? { group } : {}),
      };
    }
    const tunType = kind === 'tun' && data !== undefined ? str(data, 'type') : undefined;
    return {
      ifindex,
      name,
      kind,
      mac: str(r, 'address') ?? ZERO_MAC,
      mtu: reqNum(r, 'mtu', 'ip link show'),
      up: flags.includes('UP'),
      operstate: operstate as OperState,
      lowerUp: flags.includes('LOWER_UP'),
      promisc: flags.includes('PROMISC'),
      noarp: flags.includes('NOARP'),
      ...(master !== undefined ? { master } : {}),
      ...(peer !== undefined ? { peer } : {}),
      ...(slave !== undefined
        ? {
            bridgePort: {
              hairpin: slave['hairpin'] === true,
              learning: slave['learning'] === true,
              flood: slave['flood'] === true,
              isolated: slave['isolated'] === true,
            },
          }
        : {}),
      ...(vxlan !== undefined ? { vxlan } : {}),
      ...(tunType === 'tun' || tunType === 'tap' ? { tunMode: tunType } : {}),
      ...(ageing !== undefined ? { ageingTime: ageing / 100 } : {}),
      txqlen: num(r, 'txqlen') ?? 0,
    };
  });
}
