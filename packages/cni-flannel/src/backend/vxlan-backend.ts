import { KnetError, bestEffort, cidrContains, formatIpv4, formatIpv4Cidr, isKnetError, parseIpv4, parseMac, prefixMask } from '@knet/core';
import type { Host, LinkInfo, Mac } from '@knet/core';
import type { FlannelLease, LeaseEvent } from '../subnet/subnet-manager.js';
import { backendOption, type BackendContext, type FlannelBackend, type FlannelNetwork } from './flannel-backend.js';

/** flannel's default VNI. */
export const DEFAULT_VNI = 1;
/** The Linux vxlan module's default UDP port (a `Port` of 0 means it). */
export const LINUX_VXLAN_PORT = 8472;
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14). */
export const VXLAN_OVERHEAD = 50;

/** The vxlan backend's options (`Backend` in net-conf.json). */
export interface VxlanBackendConfig {
  readonly vni: number;
  /** 0: the kernel default (8472). */
  readonly port: number;
  readonly gbp: boolean;
  readonly learning: boolean;
  readonly directRouting: boolean;
  /** The MTU the device's is derived from (default: the external interface's). */
  readonly mtu: number;
}

/**
 * Reads the vxlan backend's options: `VNI` (default 1), `Port` (0), `GBP`, `Learning`,
 * `DirectRouting` (false), `MTU` (the external interface's), keys case-insensitive.
 * @throws KnetError `EINVAL` `error decoding VXLAN backend config: ...`; `EOPNOTSUPP` for `GBP`.
 * @see flannel-io/flannel pkg/backend/vxlan/vxlan.go `RegisterNetwork`
 */
export function parseVxlanConfig(ctx: Pick<BackendContext, 'netConf' | 'extIface'>): VxlanBackendConfig {
  const o = <T extends number | boolean>(k: string, kind: 'int' | 'bool', d: T): T => backendOption(ctx.netConf, k, kind, d, 'VXLAN');
  const cfg = {
    vni: o('VNI', 'int', DEFAULT_VNI),
    port: o('Port', 'int', 0),
    gbp: o('GBP', 'bool', false),
    learning: o('Learning', 'bool', false),
    directRouting: o('DirectRouting', 'bool', false),
    mtu: o('MTU', 'int', ctx.extIface.mtu),
  };
  if (cfg.gbp) throw new KnetError('EOPNOTSUPP', 'GBP: knet does not model VXLAN group-based policy', { field: 'Backend.GBP' });
  if (cfg.vni < 0 || cfg.vni > 0xffffff) throw new KnetError('EINVAL', `VNI ${cfg.vni} is out of range 0-16777215`, { field: 'Backend.VNI' });
  return cfg;
}

/**
 * `ip.DirectRouting`: true when the kernel reaches `ip` without a gateway (a connected route),
 * i.e. the remote node is on this node's L2 segment.
 * @see flannel-io/flannel pkg/ip/iface.go `DirectRouting`
 */
export async function isDirectlyRouted(host: Host, netns: string, ip: string): Promise<boolean> {
  const target = parseIpv4(ip);
  let best: { len: number; direct: boolean } | undefined;
  for (const r of await host.routeList(netns)) {
    if (r.table !== 'main' || r.type !== 'unicast') continue;
    const [addr, lenText] = r.dst === 'default' ? ['0.0.0.0', '0'] : r.dst.includes('/') ? (r.dst.split('/') as [string, string]) : [r.dst, '32'];
    const len = Number(lenText);
    if (!cidrContains({ address: (parseIpv4(addr) & prefixMask(len)) >>> 0, prefix: len }, target)) continue;
    if (best === undefined || len > best.len) best = { len, direct: r.gateway === undefined };
  }
  return best?.direct === true;
}

/** Why an existing `flannel.<VNI>` cannot be kept (`vxlanLinksIncompat`), or `''`. */
function incompatible(want: { id: number; dev: string; local: string; port: number }, have: LinkInfo): string {
  if (have.kind !== 'vxlan' || have.vxlan === undefined) return `link type: vxlan vs ${have.kind}`;
  const v = have.vxlan;
  if (v.id !== want.id) return `vni: ${want.id} vs ${v.id}`;
  if (v.dev !== undefined && v.dev !== want.dev) return `vtep (external) interface: ${want.dev} vs ${v.dev}`;
  if (v.local !== undefined && v.local !== want.local) return `vtep (external) IP: ${want.local} vs ${v.local}`;
  if (want.port > 0 && v.port > 0 && v.port !== want.port) return `port: ${want.port} vs ${v.port}`;
  return '';
}

/**
 * flannel's vxlan backend.
 *
 * @remarks
 * Linux equivalent: flanneld with `"Backend": {"Type": "vxlan"}`.
 * - The device `flannel.<VNI>`: `ip link add flannel.1 type vxlan id 1 local <IfaceAddr> dev
 *   <iface> dstport <Port, 8472 by default> nolearning`, MTU `MTU − 50`, the MAC stored for the
 *   node (kube mode) or a random locally administered one, `accept_ra=0`. An existing device is
 *   kept (with its MAC) unless its VNI, underlay device, local address or port differ, then it
 *   is recreated.
 * - The lease's attributes: `BackendType: "vxlan"`, `BackendData: {"VNI":1,"VtepMAC":"..."}`.
 * - The address `<subnet network>/32` (any other address on the device is removed), then up.
 * - For each remote vxlan lease: `ip neigh replace <remote .0> lladdr <VtepMAC> dev flannel.1
 *   nud permanent`, `bridge fdb append <VtepMAC> dev flannel.1 dst <PublicIP> self permanent`,
 *   `ip route replace <subnet> via <remote .0> dev flannel.1 onlink`, in that order, the earlier
 *   steps undone when a later one fails; with `DirectRouting` and a remote on this L2 segment only
 *   `ip route replace <subnet> via <PublicIP>`. Removal deletes the same entries.
 * - MTU given to pods: the device's (`MTU − 50`, 1450 on a 1500 NIC).
 * @see flannel-io/flannel pkg/backend/vxlan/vxlan.go, vxlan_network.go, device.go
 */
export function createVxlanBackend(): FlannelBackend {
  return {
    type: 'vxlan',
    async register(ctx: BackendContext): Promise<FlannelNetwork> {
      const { host, netns, extIface } = ctx;
      const cfg = parseVxlanConfig(ctx);
      const name = `flannel.${cfg.vni}`;
      const port = cfg.port === 0 ? LINUX_VXLAN_PORT : cfg.port;
      const want = { id: cfg.vni, dev: extIface.name, local: extIface.address, port };
      const existing = (await host.linkList(netns)).find((l) => l.name === name);
      let mac: Mac;
      if (existing !== undefined && incompatible(want, existing) === '') {
        mac = existing.mac;
      } else {
        if (existing !== undefined) await host.linkDel(netns, name);
        const stored = await ctx.subnetManager.storedVtepMac();
        mac = stored !== undefined ? parseMac(stored) : ctx.rng.mac();
        await host.linkAdd(netns, {
          kind: 'vxlan',
          name,
          id: cfg.vni,
          local: extIface.address,
          dev: extIface.name,
          port,
          learning: cfg.learning,
          mac,
          mtu: cfg.mtu - VXLAN_OVERHEAD,
        });
      }
      await bestEffort(host.sysctlSet(netns, `net.ipv6.conf.${name}.accept_ra`, '0'));
      const lease = await ctx.subnetManager.acquireLease({
        publicIP: extIface.publicIP,
        backendType: 'vxlan',
        backendData: { VNI: cfg.vni, VtepMAC: mac },
      });
      // EnsureV4AddressOnLink: exactly <subnet>/32 on the device.
      const own = `${formatIpv4(lease.subnet.address)}/32`;
      const addrs = (await host.addrList(netns)).filter((a) => a.dev === name);
      if (addrs.length > 1) throw new KnetError('EINVAL', `link has incompatible addresses. Remove additional addresses and try again. ${name}`, { netns, dev: name });
      if (addrs.length === 1 && `${addrs[0]!.local}/${addrs[0]!.prefixlen}` !== own) await host.addrDel(netns, name, `${addrs[0]!.local}/${addrs[0]!.prefixlen}`);
      if (addrs.length === 0 || `${addrs[0]!.local}/${addrs[0]!.prefixlen}` !== own) await host.addrAdd(netns, name, own);
      await host.linkSet(netns, name, { up: true });
      const mtu = (await host.linkList(netns)).find((l) => l.name === name)?.mtu ?? cfg.mtu - VXLAN_OVERHEAD;

      const remoteOf = (l: FlannelLease): { gw: string; mac: Mac } | undefined => {
        const d = l.attrs.backendData;
        const m = d?.['VtepMAC'] ?? Object.entries(d ?? {}).find(([k]) => k.toLowerCase() === 'vtepmac')?.[1];
        if (typeof m !== 'string') return undefined;
        try {
          return { gw: formatIpv4(l.subnet.address), mac: parseMac(m) };
        } catch {
          return undefined;
        }
      };
      const subnetText = (l: FlannelLease): string => formatIpv4Cidr(l.subnet);
      const ignore = async (p: Promise<void>): Promise<void> => {
        try {
          await p;
        } catch (e) {
          if (!isKnetError(e)) throw e;
        }
      };

      return {
        backendType: 'vxlan',
        lease,
        mtu,
        async handleEvents(events: readonly LeaseEvent[]): Promise<void> {
          for (const e of events) {
            const l = e.lease;
            if (l.attrs.backendType !== 'vxlan') continue;
            const r = remoteOf(l);
            if (r === undefined) continue;
            const direct = cfg.directRouting && (await isDirectlyRouted(host, netns, l.attrs.publicIP));
            if (e.type === 'added') {
              if (direct) {
                await host.routeReplace(netns, { dst: subnetText(l), via: l.attrs.publicIP });
                continue;
              }
              await host.neighReplace(netns, { dst: r.gw, dev: name, lladdr: r.mac, state: 'PERMANENT' });
              try {
                await ignoreExists(host.fdbAdd(netns, { mac: r.mac, dev: name, dst: l.attrs.publicIP, self: true }));
              } catch (err) {
                await ignore(host.neighDel(netns, r.gw, name));
                throw err;
              }
              try {
                await host.routeReplace(netns, { dst: subnetText(l), via: r.gw, dev: name, onlink: true, scope: 'global' });
              } catch (err) {
                await ignore(host.neighDel(netns, r.gw, name));
                await ignore(host.fdbDel(netns, { mac: r.mac, dev: name, dst: l.attrs.publicIP, self: true }));
                throw err;
              }
            } else if (direct) {
              await ignore(host.routeDel(netns, { dst: subnetText(l), via: l.attrs.publicIP }));
            } else {
              await ignore(host.neighDel(netns, r.gw, name));
              await ignore(host.fdbDel(netns, { mac: r.mac, dev: name, dst: l.attrs.publicIP, self: true }));
              await ignore(host.routeDel(netns, { dst: subnetText(l), via: r.gw, dev: name, onlink: true }));
            }
          }
        },
        close() {
          // The device stays, as when flanneld exits.
        },
      };
    },
  };
}

/** `bridge fdb append` of an entry that is already there: the same state (netlink's NeighSet replaces). */
async function ignoreExists(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isKnetError(e, 'EEXIST')) throw e;
  }
}
