import {
  bridgeGatewayOf,
  CNI_ERROR_CODES,
  CNI_SPEC_VERSIONS,
  CniError,
  convertCniResult,
  formatGoRoute,
  formatIpv4,
  hostLocalAdd,
  hostLocalCheck,
  hostLocalDel,
  hostLocalGc,
  ipamCniError,
  parsePrevResult,
  parseIpv4,
  prefixMask,
  randomVethHex,
} from '@knet/core';
import type {
  CniCmdArgs,
  CniInterface,
  CniPlugin,
  CniResult,
  CniRoute,
  HostLocalConfig,
  Host,
  IpamStore,
  LinkInfo,
} from '@knet/core';
import { bestEffort, ensureBridge, ensureBridgeAddr, setupVeth, teardownPodInterfaces } from '../bridge-steps.js';
import { parseKubenetCniConf } from './kubenet-cni-conf.js';

/** Options of {@link createKubenetCniPlugin}. */
export interface KubenetCniPluginOptions {
  /** The dataplane: LinuxHost in the executable, SimHost in tests. */
  readonly host: Host;
  /** The Host's name for the namespace the plugin runs in (the node's host namespace). */
  readonly hostNetns: string | (() => Promise<string> | string);
  /**
   * The Host's name for the namespace at `CNI_NETNS`, or `undefined` when no namespace is there.
   * Default: the path itself. Throw a CniError for a namespace the Host cannot manage.
   */
  readonly podNetns?: (path: string) => Promise<string | undefined> | string | undefined;
  /** host-local's store of a network (`FileIpamStore` in the executable). */
  readonly ipamStore: (config: HostLocalConfig) => IpamStore;
  /** Eight lowercase hex characters for host veth names. Default: 4 random bytes (Web Crypto). */
  readonly hex?: () => string;
  /** `about` for the skeleton. */
  readonly about?: string;
}

/**
 * Runs two independent chains of steps at once and waits for both; the first failure (in
 * argument order) is thrown once both have ended, so that cleanup never races a step.
 */
async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

function fail(msg: string): never {
  throw new CniError(CNI_ERROR_CODES.ErrInternal, msg);
}

/**
 * kubenet as one CNI plugin (`type: "knet-kubenet"`): what kubelet's kubenet did for a pod by
 * running the `loopback`, `bridge` and `host-local` plugins, on the {@link Host} API.
 *
 * @remarks
 * Linux equivalent: kubenet's `setup()` — `net.ipv6.conf.default.dad_transmits=0` in the pod,
 * the loopback plugin (`lo` up), then the bridge plugin with host-local:
 * - ADD: the bridge (`cbr0` by default; created, `promiscMode`, `accept_ra=0`, up; its MAC
 *   read), a veth pair
 *   (`CNI_IFNAME` in the pod, `veth` + 8 hex on the node, up, `accept_ra=0`, enslaved, hairpin
 *   flag), host-local ADD, then in the pod `accept_dad=0`, `arp_notify=1`, the address, the
 *   interface up and the routes (a route without `gw` goes via the first gateway), then with
 *   `isGateway` the gateway address on the bridge, the MAC read at creation pinned (as bridge.go
 *   does with its stale link object) and `net.ipv4.ip_forward=1`, and
 *   kubenet's `net.bridge.bridge-nf-call-iptables=1` (best effort). The result is shaped like
 *   bridge's: interfaces `[bridge, host veth, container]` with their MACs (the container's with
 *   `sandbox` = `CNI_NETNS`), each IP with `interface: 2` and its gateway, host-local's routes,
 *   and the config's `dns` (else host-local's). A failure releases the address and removes the
 *   pair. Steps in the pod and steps on the node that do not depend on each other run at once
 *   (the pod's `lo` with the bridge; the pod's interface with the host end's enslaving and the
 *   bridge's address), each chain in the order above: the end state is the same, in about two
 *   thirds of the time.
 * - DEL: host-local DEL, then (when `CNI_NETNS` is given and there) `lo` down and the container
 *   interface deleted. A missing namespace or interface is fine, so DEL is idempotent.
 * - CHECK: host-local CHECK, then bridge's checks of `prevResult` against the kernel, with
 *   bridge's messages: the bridge (kind, MAC, promiscuous mode), the container interface (in the
 *   sandbox, a veth, MAC), the host veth (peer, master, MAC), the addresses and routes in the pod.
 * - GC: releases every reservation not held by a valid attachment (upstream host-local has no
 *   GC); stale pairs die with their namespaces. STATUS: the config must load.
 *
 * Not done: `ipMasq` and `vlan` (refused with code 2), kubenet's ebtables dedup chain and
 * masquerade rule, and the bridge plugin's wait for the host veth to be oper-UP.
 * @see kubernetes pkg/kubelet/dockershim/network/kubenet/kubenet_linux.go
 * @see containernetworking/plugins plugins/main/bridge/bridge.go, plugins/main/loopback/loopback.go, plugins/ipam/host-local
 * @example
 * ```ts
 * import { createSimHost, MemoryIpamStore } from '@knet/core';
 * import { createKubenetCniPlugin } from '@knet/kubenet';
 * const store = new MemoryIpamStore();
 * const plugin = createKubenetCniPlugin({ host: createSimHost({ seed: 1 }), hostNetns: 'knet-node', ipamStore: () => store });
 * plugin.versions; // ['0.1.0', ..., '1.1.0']
 * ```
 */
export function createKubenetCniPlugin(options: KubenetCniPluginOptions): CniPlugin {
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
    const conf = parseKubenetCniConf(a.config, a.args);
    const hostNs = await hostNetnsOf();
    const pod = await openPod(a);
    const store = options.ipamStore(conf.ipam);

    // kubenet: no IPv6 DAD in the pod, then the loopback plugin; meanwhile the bridge on the
    // node (independent steps in different namespaces run at once; each keeps its own order).
    const [, br] = await both(
      (async () => {
        await bestEffort(host.sysctlSet(pod, 'net.ipv6.conf.default.dad_transmits', '0'));
        await host.linkSet(pod, 'lo', { up: true });
      })(),
      ensureBridge(host, hostNs, { name: conf.bridge, ...(conf.mtu !== undefined ? { mtu: conf.mtu } : {}), promisc: conf.promiscMode }),
    );
    // bridge.go keeps the link it read here and later pins this MAC, not the current one.
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

      await both(
        // The pod's interface: addresses, up, routes (a route without `gw` via the first gateway).
        (async () => {
          await bestEffort(host.sysctlSet(pod, `net.ipv6.conf.${a.ifname}.accept_dad`, '0'));
          await bestEffort(host.sysctlSet(pod, `net.ipv4.conf.${a.ifname}.arp_notify`, '1'));
          for (const { ip } of ips) await host.addrAdd(pod, a.ifname, ip.address);
          await host.linkSet(pod, a.ifname, { up: true });
          for (const r of routes) {
            const via = r.gw ?? firstGateway;
            await host.routeAdd(pod, { dst: r.dst, dev: a.ifname, ...(via !== undefined ? { via } : {}) });
          }
        })(),
        // The node's end: on the bridge with its hairpin flag, then the gateway on the bridge.
        (async () => {
          await host.linkSet(hostNs, hostVeth, { master: conf.bridge, hairpin: conf.hairpinMode });
          if (conf.isGateway) {
            for (const { ip, gateway } of ips) {
              if (gateway !== undefined) await ensureBridgeAddr(host, hostNs, conf.bridge, `${gateway}/${ip.prefixlen}`, {
                forceAddress: conf.forceAddress,
                mac: bridgeMac,
              });
            }
            await host.sysctlSet(hostNs, 'net.ipv4.ip_forward', '1');
          }
          // kubenet's Init: bridged traffic through iptables (exists once br_netfilter is loaded).
          await bestEffort(host.sysctlSet(hostNs, 'net.bridge.bridge-nf-call-iptables', '1'));
        })(),
      );

      const mac = async (netns: string, name: string): Promise<string> => (await host.linkGet(netns, name))?.mac ?? '';
      const [brMac, vethMac, podMac] = await Promise.all([mac(hostNs, conf.bridge), mac(hostNs, hostVeth), mac(pod, a.ifname)]);
      const interfaces: CniInterface[] = [
        { name: conf.bridge, mac: brMac },
        { name: hostVeth, mac: vethMac },
        { name: a.ifname, mac: podMac, sandbox: a.netns },
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
    const conf = parseKubenetCniConf(a.config, a.args);
    try {
      hostLocalDel(conf.ipam, options.ipamStore(conf.ipam), owner(a));
    } catch (e) {
      throw ipamCniError(e);
    }
    if (a.netns === '') return;
    const pod = await podNetnsOf(a.netns);
    if (pod === undefined) return;
    await teardownPodInterfaces(host, pod, a.ifname);
  }

  async function check(a: CniCmdArgs): Promise<void> {
    const conf = parseKubenetCniConf(a.config, a.args);
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

    // The bridge, in the host namespace.
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

    // The container interface, in the pod.
    const cont = podLinks.find((l) => l.name === contMap.name);
    if (cont === undefined) fail(`Interface name ${contMap.name} not found`);
    if (cont.kind !== 'veth') fail(`Error: Container interface ${cont.name} not of type veth`);
    if (contMap.mac !== undefined && contMap.mac !== cont.mac) fail(`Interface ${contMap.name} Mac ${contMap.mac} doesn't match container Mac: ${cont.mac}`);

    // The host end: a veth whose peer is the container interface and whose master is the bridge.
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

    // Addresses and routes inside the pod.
    const addrs = await host.addrList(pod);
    const podRoutes = await host.routeList(pod);
    for (const ip of result.ips ?? []) {
      const [addr, len] = ip.address.split('/') as [string, string];
      if (!addrs.some((x) => x.dev === a.ifname && x.local === addr && String(x.prefixlen) === len)) {
        fail(`Failed to match addr ${ip.address} on interface ${a.ifname}`);
      }
      const net = `${formatIpv4((parseIpv4(addr) & prefixMask(Number(len))) >>> 0)}/${len}`;
      if (!podRoutes.some((r) => r.dst === net || (len === '32' && r.dst === addr))) {
        fail(`Failed to find Gateway ${ip.gateway ?? '<nil>'} for interface ${a.ifname}`);
      }
    }
    for (const r of result.routes ?? []) {
      const dst = r.dst === '0.0.0.0/0' ? 'default' : r.dst.endsWith('/32') ? r.dst.slice(0, -3) : r.dst;
      if (!podRoutes.some((x) => x.dst === dst && (r.gw === undefined || x.gateway === r.gw))) {
        fail(`Expected Route ${formatGoRoute(r)} not found in routing table`);
      }
    }
  }

  return {
    versions: CNI_SPEC_VERSIONS,
    ...(options.about !== undefined ? { about: options.about } : {}),
    add,
    del,
    check,
    gc(a) {
      const conf = parseKubenetCniConf(a.config, a.args);
      const list = a.config['cni.dev/valid-attachments'] ?? a.config['cni.dev/attachments'];
      const valid = (Array.isArray(list) ? list : [])
        .filter((x): x is Record<string, unknown> => x !== null && typeof x === 'object')
        .map((x) => ({ containerId: String(x['containerID'] ?? ''), ifname: String(x['ifname'] ?? '') }));
      try {
        hostLocalGc(options.ipamStore(conf.ipam), valid);
      } catch (e) {
        throw ipamCniError(e);
      }
    },
    status(a) {
      try {
        // STATUS carries no attachment (no CNI_ARGS): the config must load and its store open.
        options.ipamStore(parseKubenetCniConf(a.config, '').ipam);
      } catch (e) {
        throw new CniError(CNI_ERROR_CODES.ErrPluginNotAvailable, `knet-kubenet cannot serve ADD: ${(e as Error).message}`);
      }
    },
  };
}
