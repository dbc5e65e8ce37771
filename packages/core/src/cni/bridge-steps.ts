import { KnetError, isKnetError } from '../errors/knet-error.js';
import type { Host } from '../host/host.js';
import type { Mac } from '../ip/mac.js';
import type { LinkInfo } from '../host/types.js';
import { formatIpv4, prefixMask } from '../ip/ipv4.js';
import type { HostLocalIpConfig } from '../ipam/host-local.js';
import { CNI_ERROR_CODES, CniError } from './cni-error.js';
import type { CniRoute } from './cni-types.js';

/**
 * Runs a write whose failure the real plugins ignore (`_, _ = sysctl.Sysctl(...)`): a
 * {@link KnetError} is swallowed, anything else is rethrown.
 */
export async function bestEffort(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isKnetError(e)) throw e;
  }
}

/** Options of {@link ensureBridge}. */
export interface EnsureBridgeOptions {
  readonly name: string;
  /** Absent: the kernel's default (1500), as the bridge plugin's `mtu: 0`. */
  readonly mtu?: number;
  /** The bridge plugin's `promiscMode`: set before the bridge comes up. */
  readonly promisc?: boolean;
}

/**
 * The bridge plugin's `ensureBridge`: create the bridge (an existing bridge is fine; an existing
 * link of another kind is not), `promisc` if asked, `accept_ra=0`, up.
 *
 * @remarks Linux equivalent: `ip link add NAME [mtu M] type bridge; ip link set NAME promisc on;
 * sysctl net.ipv6.conf.NAME.accept_ra=0; ip link set NAME up`. Returns the bridge as read
 * after it was created or found, before promisc and up (its MAC is the one the bridge plugin
 * later pins).
 * @throws KnetError `EEXIST` `"<name>" already exists but is not a bridge`, or the Host's error.
 * @see containernetworking/plugins plugins/main/bridge/bridge.go `ensureBridge`, `setupBridge`
 */
export async function ensureBridge(host: Host, netns: string, options: EnsureBridgeOptions): Promise<LinkInfo> {
  const { name } = options;
  let created = true;
  try {
    await host.linkAdd(netns, { kind: 'bridge', name, ...(options.mtu !== undefined ? { mtu: options.mtu } : {}) });
  } catch (e) {
    if (!isKnetError(e, 'EEXIST')) throw e;
    created = false;
  }
  // bridge.go's bridgeByName: the bridge as it is before promisc and up.
  const br = await host.linkGet(netns, name);
  if (br === undefined) throw new KnetError('ENODEV', `Cannot find device "${name}"`, { netns, dev: name });
  if (!created && br.kind !== 'bridge') throw new KnetError('EEXIST', `"${name}" already exists but is not a bridge`, { netns, dev: name });
  if (options.promisc === true) await host.linkSet(netns, name, { promisc: true });
  await bestEffort(host.sysctlSet(netns, `net.ipv6.conf.${name}.accept_ra`, '0'));
  await host.linkSet(netns, name, { up: true });
  return br;
}

/**
 * The bridge plugin's `ensureAddr` for IPv4, then the MAC pin: put `cidr` (the gateway with the
 * pod prefix, `10.244.1.1/24`) on the bridge unless it is there, refusing a different IPv4
 * address unless `forceAddress`, then set the bridge's MAC to its current value so that it no
 * longer follows the lowest port MAC.
 *
 * @remarks A concurrent ADD that added the same address first (`EEXIST`) is fine, as upstream
 * ignores `EEXIST`. `mac` is the MAC to pin: the bridge plugin pins the MAC it read when it
 * created the bridge (its `br` object is not re-read), so a bridge that took its first port's
 * MAC meanwhile gets its own random MAC back; without `mac` the current one is pinned.
 * @throws KnetError `EEXIST` `"cbr0" already has an IP address different from 10.244.1.1/24`;
 * `ENODEV` when the bridge is gone.
 * @see containernetworking/plugins plugins/main/bridge/bridge.go `ensureAddr`
 */
export async function ensureBridgeAddr(
  host: Host,
  netns: string,
  bridge: string,
  cidr: string,
  options: { readonly forceAddress?: boolean; readonly mac?: Mac } = {},
): Promise<void> {
  const [ip, len] = cidr.split('/');
  const mine = (await host.addrList(netns)).filter((a) => a.dev === bridge);
  if (!mine.some((a) => a.local === ip && String(a.prefixlen) === len)) {
    for (const a of mine) {
      if (options.forceAddress !== true) {
        throw new KnetError('EEXIST', `"${bridge}" already has an IP address different from ${cidr}`, {
          netns,
          dev: bridge,
          existing: mine.map((x) => `${x.local}/${x.prefixlen}`),
        });
      }
      await host.addrDel(netns, bridge, `${a.local}/${a.prefixlen}`);
    }
    try {
      await host.addrAdd(netns, bridge, cidr);
    } catch (e) {
      if (!isKnetError(e, 'EEXIST')) throw e;
    }
  }
  const br = await host.linkGet(netns, bridge);
  if (br === undefined) throw new KnetError('ENODEV', `Cannot find device "${bridge}"`, { netns, dev: bridge });
  await host.linkSet(netns, bridge, { mac: options.mac ?? br.mac });
}

/** Options of {@link setupVeth}. */
export interface SetupVethOptions {
  /** The pod's namespace, where the container end is created. */
  readonly podNetns: string;
  /** The container end's name (`CNI_IFNAME`). */
  readonly ifname: string;
  /** The node's namespace, where the host end goes. */
  readonly hostNetns: string;
  readonly mtu?: number;
  /** The container end's MAC (`MAC=` in CNI_ARGS, `args.cni.mac`, `runtimeConfig.mac`). */
  readonly mac?: Mac;
  /** Four random bytes as eight lowercase hex characters (a seeded RNG in the model, crypto in the executable). */
  readonly hex: () => string;
}

/** Upstream's veth retries: 10 random names, then `failed to find a unique veth name`. */
export const VETH_NAME_TRIES = 10;

/**
 * `ip.SetupVeth` from the pod's side: a veth pair whose container end is `ifname` in the pod and
 * whose host end, `veth` + 8 hex, is created straight in the node's namespace; then the host end
 * up (with the pair's MTU) and `accept_ra=0`. Returns the host end's name.
 *
 * @remarks A clash of the host name is retried with a new name, up to 10 times.
 * @throws KnetError `EEXIST` `container veth name ("eth0") peer provided ("vethX") already exists`
 * when the pod already has `ifname`; `failed to find a unique veth name`.
 * @see containernetworking/plugins pkg/ip/link_linux.go `SetupVeth`, `makeVeth`
 */
export async function setupVeth(host: Host, o: SetupVethOptions): Promise<string> {
  for (let i = 0; i < VETH_NAME_TRIES; i++) {
    const hostVeth = `veth${o.hex()}`;
    try {
      await host.linkAdd(o.podNetns, {
        kind: 'veth',
        name: o.ifname,
        ...(o.mtu !== undefined ? { mtu: o.mtu } : {}),
        ...(o.mac !== undefined ? { mac: o.mac } : {}),
        peer: { name: hostVeth, netns: o.hostNetns },
      });
    } catch (e) {
      if (!isKnetError(e, 'EEXIST')) throw e;
      if ((await host.linkGet(o.podNetns, o.ifname)) !== undefined) {
        throw new KnetError('EEXIST', `container veth name ("${o.ifname}") peer provided ("${hostVeth}") already exists`, {
          netns: o.podNetns,
          dev: o.ifname,
        });
      }
      continue;
    }
    // netlink creates both ends with the MTU (iproute2 would leave the peer at 1500).
    await host.linkSet(o.hostNetns, hostVeth, o.mtu !== undefined ? { mtu: o.mtu, up: true } : { up: true });
    await bestEffort(host.sysctlSet(o.hostNetns, `net.ipv6.conf.${hostVeth}.accept_ra`, '0'));
    return hostVeth;
  }
  throw new KnetError('EEXIST', 'failed to find a unique veth name', { netns: o.hostNetns });
}

/**
 * The interface half of kubenet's teardown: the loopback plugin's DEL (`lo` down) and the bridge
 * plugin's (`ifname` deleted, which destroys the pair). A missing namespace or interface is fine.
 *
 * @see containernetworking/plugins plugins/main/loopback/loopback.go `cmdDel`; plugins/main/bridge/bridge.go `cmdDel`
 */
export async function teardownPodInterfaces(host: Host, podNetns: string, ifname: string): Promise<void> {
  if (!(await host.netnsExists(podNetns))) return;
  try {
    await host.linkSet(podNetns, 'lo', { up: false });
  } catch (e) {
    if (!isKnetError(e, 'ENODEV')) throw e;
  }
  try {
    await host.linkDel(podNetns, ifname);
  } catch (e) {
    if (!isKnetError(e, 'ENODEV')) throw e;
  }
}

/** Four random bytes as eight lowercase hex characters (Web Crypto): the suffix of a host veth name (`veth` + 8 hex). */
export function randomVethHex(): string {
  const b = new Uint8Array(4);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** host-local's store and allocator errors as a bridge plugin reports them: a lock wait is code 11 (try again later). */
export function ipamCniError(e: unknown): unknown {
  if (isKnetError(e, 'EBUSY') && e.details['reason'] === 'lock-timeout') return new CniError(CNI_ERROR_CODES.ErrTryAgainLater, e.message);
  return e;
}

/** The bridge plugin's gateway for an address: its own, else with `isGateway` the network address + 1. */
export function bridgeGatewayOf(ip: HostLocalIpConfig, isGateway: boolean): string | undefined {
  if (ip.gateway !== '') return ip.gateway;
  return isGateway ? formatIpv4(((ip.ip & prefixMask(ip.prefixlen)) >>> 0) + 1) : undefined;
}

/** Go's `%+v` of a route, as the bridge plugin's CHECK messages print it (abbreviated to Dst and GW). */
export function formatGoRoute(r: CniRoute): string {
  return `{Dst:${r.dst} GW:${r.gw ?? '<nil>'}}`;
}
