import type { Host } from '../host/host.js';
import type { LinkInfo } from '../host/types.js';
import { formatIpv4, parseIpv4, prefixMask } from '../ip/ipv4.js';
import type { HostLocalConfig } from '../ipam/host-local-conf.js';
import { hostLocalAdd, hostLocalCheck, hostLocalDel } from '../ipam/host-local.js';
import type { IpamStore } from '../ipam/ipam-store.js';
import { isKnetError } from '../errors/knet-error.js';
import { parseBridgeCniConf } from './bridge-cni-conf.js';
import { bestEffort, bridgeGatewayOf, ensureBridge, ensureBridgeAddr, formatGoRoute, ipamCniError, randomVethHex, setupVeth } from './bridge-steps.js';
import { CNI_ERROR_CODES, CniError } from './cni-error.js';
import { convertCniResult } from './cni-result.js';
import { parsePrevResult, type CniCmdArgs, type CniPlugin } from './cni-skel.js';
import type { CniInterface, CniResult, CniRoute } from './cni-types.js';
import { CNI_SPEC_VERSIONS } from './cni-version.js';
import { ipMasqChainName, ipMasqComment, setupIpMasq, teardownIpMasq } from './ip-masq-chain.js';

/** Options of {@link createBridgeCniPlugin}. */
export interface BridgeCniPluginOptions {
  /** The dataplane: SimHost in the simulation, LinuxHost for real. */
  readonly host: Host;
  /** The Host's name for the namespace the plugin runs in (the node's). */
  readonly hostNetns: string | (() => Promise<string> | string);
  /** The Host's name for the namespace at `CNI_NETNS`, `undefined` when none is there. Default: the path itself. */
  readonly podNetns?: (path: string) => Promise<string | undefined> | string | undefined;
  /** host-local's store of a network. */
  readonly ipamStore: (config: HostLocalConfig) => IpamStore;
  /** Eight lowercase hex characters for host veth names. Default: 4 random bytes (Web Crypto). */
  readonly hex?: () => string;
  readonly about?: string;
}

function fail(msg: string): never {
  throw new CniError(CNI_ERROR_CODES.ErrInternal, msg);
}

/**
 * The reference `bridge` CNI plugin with host-local IPAM, on the {@link Host} API, so that a
 * meta plugin (flannel's) can delegate to it inside the simulation or in one process.
 *
 * @remarks
 * Linux equivalent: `/opt/cni/bin/bridge` delegating to `host-local`.
 * - ADD: the bridge (default `cni0`: created, `promiscMode`, `accept_ra=0`, up; its MAC read), a
 *   veth pair (`CNI_IFNAME` in the pod, `veth` + 8 hex on the node, up, `accept_ra=0`, enslaved,
 *   hairpin flag), host-local ADD, then in the pod `accept_dad=0`, `arp_notify=1`, the addresses,
 *   the interface up and the routes (a route without `gw` goes via the first gateway;
 *   `isDefaultGateway` adds `0.0.0.0/0`), then with `isGateway` the gateway on the bridge
 *   (`<gw>/<prefix>`; a different address is an error unless `forceAddress`), the bridge MAC
 *   pinned to the one read at creation and `net.ipv4.ip_forward=1`; with `ipMasq` the chain
 *   `CNI-<hash>` (`-d <subnet> -j ACCEPT`, `! -d 224.0.0.0/4 -j MASQUERADE`) and its
 *   POSTROUTING jump. The result: interfaces `[bridge, host veth, container]`, each IP with
 *   `interface: 2`, the routes, the config's `dns` over host-local's. A failure releases the
 *   address and removes the pair.
 * - DEL: host-local DEL; the container interface deleted when the namespace is there; the ipMasq
 *   chain removed. Idempotent.
 * - CHECK: host-local CHECK, then the bridge, the container veth, the host veth, the addresses
 *   and routes of `prevResult`, with the upstream messages.
 *
 * Not done (refused with code 2): VLANs, MAC spoof check, DAD, port isolation, IPAM types other
 * than host-local; the wait for the host veth to be oper-UP is skipped (Host calls complete
 * synchronously).
 * @see containernetworking/plugins plugins/main/bridge/bridge.go, pkg/ip/link_linux.go, pkg/ip/ipmasq_iptables_linux.go
 * @example
 * ```ts
 * import { createBridgeCniPlugin, createSimHost, MemoryIpamStore } from '@knet/core';
 * const store = new MemoryIpamStore();
 * const bridge = createBridgeCniPlugin({ host: createSimHost(), hostNetns: 'knet-node', ipamStore: () => store });
 * bridge.versions.includes('1.1.0'); // true
 * ```
 */
export function createBridgeCniPlugin(options: BridgeCniPluginOptions): CniPlugin {
  const { host } = options;
  const hex = options.hex ?? randomVethHex;
  const hostNetnsOf = async (): Promise<string> => (typeof options.hostNetns === 'string' ? options.hostNetns : options.hostNetns());
  const podNetnsOf = async (path: string): Promise<string | undefined> => (options.podNetns === undefined ? path : options.podNetns(path));
  const owner = (a: CniCmdArgs): { containerId: string; ifname: string } => ({ containerId: a.containerId, ifname: a.ifname });

  async function openPod(a: CniCmdArgs): Promise<string> {
    const pod = await podNetnsOf(a.netns);
    if (pod === undefined || !(await host.netnsExists(pod))) fail(`failed to open netns "${a.netns}": no such network namespace`);
    return pod;
  }

  async function add(a: CniCmdArgs): Promise<CniResult> {
    const conf = parseBridgeCniConf(a.config, a.args);
    const hostNs = await hostNetnsOf();
    const pod = await openPod(a);
    const store = options.ipamStore(conf.ipam);

    const br = await ensureBridge(host, hostNs, { name: conf.bridge, ...(conf.mtu !== undefined ? { mtu: conf.mtu } : {}), promisc: conf.promiscMode });
    const bridgeMac = br.mac;
    const hostVeth = await setupVeth(host, {
      podNetns: pod,
      ifname: a.ifname,
      hostNetns: hostNs,
      ...(conf.mtu !== undefined ? { mtu: conf.mtu } : {}),
      ...(conf.mac !== undefined ? { mac: conf.mac } : {}),
      hex,
    });
    let allocated = false;
    try {
      await host.linkSet(hostNs, hostVeth, { master: conf.bridge });
      await host.linkSet(hostNs, hostVeth, { hairpin: conf.hairpinMode });

      let ipam;
      try {
        ipam = hostLocalAdd(conf.ipam, store, owner(a));
      } catch (e) {
        throw ipamCniError(e);
      }
      allocated = true;
      if (ipam.ips.length === 0) fail('IPAM plugin returned missing IP config');

      const ips = ipam.ips.map((ip) => ({ ip, gateway: bridgeGatewayOf(ip, conf.isGateway) }));
      const routes: CniRoute[] = ipam.routes.map((r) => ({ dst: r.dst, ...(r.gw !== undefined ? { gw: r.gw } : {}) }));
      const firstGateway = ips.find((i) => i.gateway !== undefined)?.gateway;
      if (conf.isDefaultGateway && !routes.some((r) => r.dst === '0.0.0.0/0' && r.gw !== undefined) && firstGateway !== undefined) {
        routes.push({ dst: '0.0.0.0/0', gw: firstGateway });
      }

      await bestEffort(host.sysctlSet(pod, `net.ipv6.conf.${a.ifname}.accept_dad`, '0'));
      await bestEffort(host.sysctlSet(pod, `net.ipv4.conf.${a.ifname}.arp_notify`, '1'));
      for (const { ip } of ips) await host.addrAdd(pod, a.ifname, ip.address);
      await host.linkSet(pod, a.ifname, { up: true });
      for (const r of routes) {
        const via = r.gw ?? firstGateway;
        await host.routeAdd(pod, { dst: r.dst, dev: a.ifname, ...(via !== undefined ? { via } : {}) });
      }

      if (conf.isGateway) {
        for (const { ip, gateway } of ips) {
          if (gateway !== undefined) {
            await ensureBridgeAddr(host, hostNs, conf.bridge, `${gateway}/${ip.prefixlen}`, {
              forceAddress: conf.forceAddress,
              ...(bridgeMac !== undefined ? { mac: bridgeMac } : {}),
            });
          }
        }
        await host.sysctlSet(hostNs, 'net.ipv4.ip_forward', '1');
      }
      if (conf.ipMasq) {
        const chain = await ipMasqChainName(conf.name, a.containerId);
        const comment = ipMasqComment(conf.name, a.containerId);
        for (const { ip } of ips) await setupIpMasq(host, hostNs, ip.address, chain, comment);
      }

      const mac = async (netns: string, name: string): Promise<string> => (await host.linkGet(netns, name))?.mac ?? '';
      const interfaces: CniInterface[] = [
        { name: conf.bridge, mac: await mac(hostNs, conf.bridge) },
        { name: hostVeth, mac: await mac(hostNs, hostVeth) },
        { name: a.ifname, mac: await mac(pod, a.ifname), sandbox: a.netns },
      ];
      return {
        cniVersion: '1.1.0',
        interfaces,
        ips: ips.map(({ ip, gateway }) => ({ interface: 2, address: ip.address, ...(gateway !== undefined ? { gateway } : {}) })),
        ...(routes.length > 0 ? { routes } : {}),
        dns: conf.dns ?? {},
      };
    } catch (e) {
      if (allocated) hostLocalDel(conf.ipam, store, owner(a));
      await host.linkDel(pod, a.ifname).catch(() => undefined);
      throw e;
    }
  }

  async function del(a: CniCmdArgs): Promise<void> {
    const conf = parseBridgeCniConf(a.config, a.args);
    if (a.netns !== '') {
      const pod = await podNetnsOf(a.netns);
      if (pod !== undefined && (await host.netnsExists(pod))) {
        try {
          await host.linkDel(pod, a.ifname);
        } catch (e) {
          if (!isKnetError(e, 'ENODEV')) throw e;
        }
      }
    }
    try {
      hostLocalDel(conf.ipam, options.ipamStore(conf.ipam), owner(a));
    } catch (e) {
      throw ipamCniError(e);
    }
    if (conf.ipMasq) await teardownIpMasq(host, await hostNetnsOf(), await ipMasqChainName(conf.name, a.containerId));
  }

  async function check(a: CniCmdArgs): Promise<void> {
    const conf = parseBridgeCniConf(a.config, a.args);
    const hostNs = await hostNetnsOf();
    const pod = await openPod(a);
    try {
      hostLocalCheck(conf.ipam, options.ipamStore(conf.ipam), owner(a));
    } catch (e) {
      throw ipamCniError(e);
    }
    const prev = parsePrevResult(a);
    if (prev === undefined) fail('Required prevResult missing');
    const result = convertCniResult(prev, '1.1.0') as CniResult;
    const ifaces = result.interfaces ?? [];
    const brMap = ifaces.find((i) => i.name === conf.bridge);
    const contMap = ifaces.find((i) => i.name === a.ifname && i.sandbox === a.netns);
    const hostLinks = await host.linkList(hostNs);
    const podLinks = await host.linkList(pod);

    let brFound: LinkInfo | undefined;
    if (brMap !== undefined) {
      const link = hostLinks.find((l) => l.name === brMap.name);
      if (link === undefined) fail(`Interface name ${brMap.name} not found`);
      if (brMap.sandbox !== undefined) fail(`Interface ${brMap.name} should not be in sandbox`);
      if (link.kind !== 'bridge') fail(`Interface ${brMap.name} does not have link type of bridge`);
      if (brMap.mac !== undefined && brMap.mac !== link.mac) fail(`Bridge interface ${brMap.name} Mac doesn't match: ${brMap.mac}`);
      if (link.promisc !== conf.promiscMode) {
        fail(`Bridge interface ${brMap.name} configured Promisc Mode ${String(conf.promiscMode)} doesn't match current state: ${String(link.promisc)} `);
      }
      brFound = link;
    }
    if (contMap?.sandbox !== a.netns) fail(`Sandbox in prevResult ${contMap?.sandbox ?? ''} doesn't match configured netns: ${a.netns}`);
    const cont = podLinks.find((l) => l.name === contMap.name);
    if (cont === undefined) fail(`Interface name ${contMap.name} not found`);
    if (cont.kind !== 'veth') fail(`Error: Container interface ${cont.name} not of type veth`);
    if (contMap.mac !== undefined && contMap.mac !== cont.mac) fail(`Interface ${contMap.name} Mac ${contMap.mac} doesn't match container Mac: ${cont.mac}`);

    let vethFound = false;
    for (const intf of ifaces) {
      if (intf.name === brMap?.name || intf.name === contMap.name) continue;
      const link = hostLinks.find((l) => l.name === intf.name);
      if (link === undefined) fail(`Interface name ${intf.name} not found`);
      if (intf.sandbox !== undefined) fail(`Interface ${intf.name} should not be in sandbox`);
      if (link.kind !== 'veth') continue;
      if (link.peer?.ifindex !== cont.ifindex || cont.peer?.ifindex !== link.ifindex) continue;
      if (brFound === undefined || link.master !== brFound.name) continue;
      if (intf.mac !== undefined && intf.mac !== link.mac) fail(`Interface ${intf.name} Mac doesn't match: ${intf.mac} not found`);
      vethFound = true;
      break;
    }
    if (brFound === undefined) fail(`CNI created bridge ${conf.bridge} in host namespace was not found`);
    if (!vethFound) fail(`CNI veth created for bridge ${conf.bridge} was not found`);

    const addrs = await host.addrList(pod);
    const podRoutes = await host.routeList(pod);
    for (const ip of result.ips ?? []) {
      const [addr, len] = ip.address.split('/') as [string, string];
      if (!addrs.some((x) => x.dev === a.ifname && x.local === addr && String(x.prefixlen) === len)) fail(`Failed to match addr ${ip.address} on interface ${a.ifname}`);
      const net = `${formatIpv4((parseIpv4(addr) & prefixMask(Number(len))) >>> 0)}/${len}`;
      if (!podRoutes.some((r) => r.dst === net || (len === '32' && r.dst === addr))) fail(`Failed to find Gateway ${ip.gateway ?? '<nil>'} for interface ${a.ifname}`);
    }
    for (const r of result.routes ?? []) {
      const dst = r.dst === '0.0.0.0/0' ? 'default' : r.dst.endsWith('/32') ? r.dst.slice(0, -3) : r.dst;
      if (!podRoutes.some((x) => x.dst === dst && (r.gw === undefined || x.gateway === r.gw))) fail(`Expected Route ${formatGoRoute(r)} not found in routing table`);
    }
  }

  return {
    versions: CNI_SPEC_VERSIONS,
    ...(options.about !== undefined ? { about: options.about } : {}),
    add,
    del,
    check,
    status(a) {
      try {
        options.ipamStore(parseBridgeCniConf(a.config, '').ipam);
      } catch (e) {
        throw new CniError(CNI_ERROR_CODES.ErrPluginNotAvailable, `bridge cannot serve ADD: ${(e as Error).message}`);
      }
    },
  };
}

