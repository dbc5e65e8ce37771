import {
  KnetError,
  MemoryIpamStore,
  formatIpv4,
  SeededRng,
  hostLocalAdd,
  hostLocalDel,
  isKnetError,
  parseHostLocalConf,
  parseIpv4,
} from '@knet/core';
import type {
  ClusterNode,
  ClusterPod,
  ClusterState,
  FabricContext,
  Host,
  HostLocalConfig,
  HostLocalResult,
  IpamStore,
  NetworkPlugin,
  NodeContext,
  PodAttachment,
  PodNetworkResult,
} from '@knet/core';
import { bestEffort, ensureBridge, ensureBridgeAddr, setupVeth, teardownPodInterfaces } from './bridge-steps.js';
import { checkCloudRouteLimit } from './cloud-route-limit.js';
import { formatKubenetMasqueradeRule } from './kubenet-masquerade-rule.js';
import { kubenetMtu } from './kubenet-mtu.js';
import { KUBENET_BRIDGE, createKubenetNetConf } from './kubenet-net-conf.js';
import type { KubenetNetConf } from './kubenet-net-conf.js';
import { resolveKubenetOptions } from './kubenet-options.js';
import type { KubenetOptions, ResolvedKubenetOptions } from './kubenet-options.js';

/** The routing protocol of the routes kubenet's operator (or the cloud) installs. */
export const KUBENET_ROUTE_PROTO = 'static';

/** A {@link NetworkPlugin} with kubenet's own read-outs. */
export interface KubenetPlugin extends NetworkPlugin {
  readonly name: 'kubenet';
  /** The options in force, kubelet's defaults applied. */
  readonly options: ResolvedKubenetOptions;
  /**
   * kubenet's masquerade rule for `node` in iptables-save form, or `undefined` when the
   * non-masquerade CIDR is `0.0.0.0/0`. Not applied: the netfilter model applies it.
   */
  masqueradeRule(node: ClusterNode): string | undefined;
  /** The bridge config kubenet generated for a node (after `setupNode`). */
  netConf(nodeName: string): KubenetNetConf | undefined;
  /** The host-local store of a node (`/var/lib/cni/networks/kubenet/` there), after `setupNode`. */
  ipamStore(nodeName: string): IpamStore | undefined;
}

/** What the plugin keeps per node: kubenet's netConfig, host-local's store, the veth-name RNG. */
interface NodeState {
  readonly netConf: KubenetNetConf;
  readonly ipam: HostLocalConfig;
  readonly store: IpamStore;
  readonly rng: SeededRng;
}


/**
 * Creates kubelet's kubenet network plugin: `cbr0`, host-local IPAM from the node's pod CIDR,
 * per-node routes or a cloud route table, driven through the {@link Host} API only.
 *
 * @remarks
 * Linux equivalent: `kubelet --network-plugin=kubenet`, which runs the CNI binaries `bridge`,
 * `host-local` and `loopback` (kubenet was removed with dockershim in Kubernetes 1.24).
 *
 * `setupNode` does, once and in this order, what kubenet's `Init` and the bridge plugin's first
 * ADD do: pick the MTU (`--network-plugin-mtu`, else the smallest MTU of the node's up,
 * non-loopback, non-point-to-point interfaces, else 1460), write
 * `net.bridge.bridge-nf-call-iptables=1`, create `cbr0` with that MTU (`accept_ra=0`), set it up,
 * put the gateway (the pod CIDR's first address with its prefix, `10.244.1.1/24`) on it, pin its
 * MAC to its current value, write `net.ipv4.ip_forward=1`, and in `promiscuous-bridge` hairpin
 * mode turn on promiscuous mode. kubenet itself does no cross-node routing; without a cloud
 * route table knet installs what an operator would (`ip route add <podCIDR> via <InternalIP> dev
 * <uplink>` to every other node, `proto static` as persistent netplan/systemd-networkd routes
 * show). With `fabric.cloud` the routes live in the cloud route table instead (`setupFabric`),
 * and nodes reach them through their default route to the router.
 *
 * `addPod` does kubenet's `setup()`: `net.ipv6.conf.default.dad_transmits=0` in the pod, the
 * loopback plugin (`lo` up), then the bridge plugin's ADD: a veth pair (`eth0` in the pod, host
 * end `veth` + 8 hex from a per-node seeded RNG), host end up (`accept_ra=0`) and enslaved to
 * `cbr0` with the hairpin flag of the mode, host-local ADD (network `kubenet`; the pod's
 * `status.podIP` is requested as CNI_ARGS `IP=` would), `accept_dad=0` and `arp_notify=1` on
 * `eth0`, the address, `eth0` up and the default route via the gateway. A failure tears the
 * attachment down again, as kubenet's `SetUpPod` does.
 *
 * Not modelled: the ebtables chain `KUBE-DEDUP` that kubenet adds in `promiscuous-bridge` mode
 * (drops frames from cbr0's MAC with a pod-CIDR source other than the gateway), hostports, tc
 * bandwidth shaping. The masquerade rule is exposed by {@link KubenetPlugin.masqueradeRule}
 * for the netfilter model to apply. The bridge plugin's wait for the host veth to be oper-UP is
 * skipped: Host calls complete synchronously. Unlike upstream (which checks the peer name in the
 * pod's namespace), a clash of the host veth name in the node's namespace is retried with a new
 * name, as intended.
 *
 * @see kubernetes pkg/kubelet/dockershim/network/kubenet/kubenet_linux.go
 * @see containernetworking/plugins plugins/main/bridge/bridge.go, plugins/main/loopback/loopback.go, pkg/ip/link_linux.go
 * @example
 * ```ts
 * import { createKubenetPlugin } from '@knet/kubenet';
 * const kubenet = createKubenetPlugin({ hairpinMode: 'hairpin-veth' });
 * kubenet.name; // 'kubenet'
 * ```
 */
export function createKubenetPlugin(options: KubenetOptions = {}): KubenetPlugin {
  const resolved = resolveKubenetOptions(options);
  const makeStore = options.ipamStore ?? ((): IpamStore => new MemoryIpamStore());
  const nodes = new Map<string, NodeState>();

  function stateOf(node: ClusterNode): NodeState {
    const s = nodes.get(node.name);
    if (s === undefined) {
      // kubenet's Status() before the pod CIDR event.
      throw new KnetError('EINVAL', `kubenet does not have netConfig on node ${node.name}: setupNode has not run`, { node: node.name });
    }
    return s;
  }

  function podError(e: KnetError, node: ClusterNode, pod: ClusterPod, field: string): KnetError {
    const src = pod.source;
    return new KnetError(e.code, `pod ${pod.namespace}/${pod.name} on node ${node.name}: ${e.message}`, {
      ...(src !== undefined ? { file: src.file, document: src.document } : {}),
      field,
      node: node.name,
      pod: `${pod.namespace}/${pod.name}`,
      podCIDR: node.podCIDR,
      cause: e.message,
    });
  }

  /** `ip.SetupVeth` from the pod's side; returns the host end's name. */
  function podVeth(ctx: NodeContext, s: NodeState, a: PodAttachment): Promise<string> {
    return setupVeth(ctx.host, { podNetns: a.netns, ifname: a.ifname, hostNetns: ctx.netns, mtu: s.netConf.mtu, hex: () => s.rng.hex(4) });
  }

  /** kubenet's `teardown()`: loopback DEL (lo down), bridge DEL (eth0 gone, then host-local DEL). */
  async function teardown(ctx: NodeContext, s: NodeState, a: PodAttachment): Promise<void> {
    await teardownPodInterfaces(ctx.host, a.netns, a.ifname);
    hostLocalDel(s.ipam, s.store, { containerId: a.containerId, ifname: a.ifname });
  }

  function cloudRoutes(cluster: ClusterState): { dst: string; via: string }[] {
    return cluster.nodes.map((n) => ({ dst: n.podCIDR, via: n.internalIP }));
  }

  const plugin: KubenetPlugin = {
    name: 'kubenet',
    options: resolved,

    validate(cluster: ClusterState): void {
      for (const node of cluster.nodes) {
        try {
          parseHostLocalConf(createKubenetNetConf(node, 1500, resolved.hairpinMode));
        } catch (e) {
          if (!isKnetError(e)) throw e;
          const src = node.source;
          throw new KnetError(e.code, `node ${node.name}: pod CIDR ${node.podCIDR}: ${e.message}`, {
            ...(src !== undefined ? { file: src.file, document: src.document } : {}),
            field: 'spec.podCIDR',
            node: node.name,
            value: node.podCIDR,
          });
        }
      }
      checkCloudRouteLimit(cluster);
    },

    async setupFabric(ctx: FabricContext): Promise<void> {
      if (ctx.cluster.cluster.fabric.cloud === undefined) return;
      checkCloudRouteLimit(ctx.cluster);
      for (const r of cloudRoutes(ctx.cluster)) {
        await ctx.host.routeAdd(ctx.netns, { dst: r.dst, via: r.via, dev: ctx.bridge, proto: KUBENET_ROUTE_PROTO });
      }
    },

    async setupNode(ctx: NodeContext): Promise<void> {
      const { host, netns, node } = ctx;
      const mtu = resolved.mtu ?? kubenetMtu(await host.linkList(netns));
      await host.sysctlSet(netns, 'net.bridge.bridge-nf-call-iptables', '1');

      const netConf = createKubenetNetConf(node, mtu, resolved.hairpinMode);
      const ipam = parseHostLocalConf(netConf);
      const range = netConf.ipam.ranges[0]?.[0];
      if (range === undefined) throw new KnetError('EINVAL', `node ${node.name} has no pod CIDR`, { field: 'spec.podCIDR' });
      const gatewayCidr = `${range.gateway}/${range.subnet.split('/')[1] ?? ''}`;

      await ensureBridge(host, netns, { name: KUBENET_BRIDGE, mtu });
      await ensureBridgeAddr(host, netns, KUBENET_BRIDGE, gatewayCidr);
      await host.sysctlSet(netns, 'net.ipv4.ip_forward', '1');
      if (resolved.hairpinMode === 'promiscuous-bridge') await host.linkSet(netns, KUBENET_BRIDGE, { promisc: true });
      // kubenet's Init: EnsureRule(Append, nat, POSTROUTING, <masquerade rule>).
      const masq = formatKubenetMasqueradeRule(resolved.nonMasqueradeCIDR);
      if (masq !== undefined) await host.iptablesRestore(netns, `*nat\n${masq}\nCOMMIT\n`, { noflush: true });

      if (ctx.cluster.cluster.fabric.cloud === undefined) {
        for (const other of ctx.cluster.nodes) {
          if (other.name === node.name) continue;
          await host.routeAdd(netns, { dst: other.podCIDR, via: other.internalIP, dev: ctx.uplink, proto: KUBENET_ROUTE_PROTO });
        }
      }

      if (!nodes.has(node.name)) {
        nodes.set(node.name, {
          netConf,
          ipam,
          store: makeStore(node),
          rng: new SeededRng(resolved.seed === undefined ? node.name : `${String(resolved.seed)}/${node.name}`),
        });
      }
    },

    async addPod(ctx: NodeContext, a: PodAttachment): Promise<PodNetworkResult> {
      const { host, node } = ctx;
      const s = stateOf(node);
      if (a.pod.hostNetwork) {
        throw new KnetError('EINVAL', `pod ${a.pod.namespace}/${a.pod.name} uses the host network: kubenet does not attach it`, {
          field: 'spec.hostNetwork',
        });
      }
      let hostVeth: string | undefined;
      try {
        // kubenet's disableContainerDAD, then the loopback plugin.
        await bestEffort(host.sysctlSet(a.netns, 'net.ipv6.conf.default.dad_transmits', '0'));
        await host.linkSet(a.netns, 'lo', { up: true });

        hostVeth = await podVeth(ctx, s, a);
        await host.linkSet(ctx.netns, hostVeth, { master: KUBENET_BRIDGE });
        await host.linkSet(ctx.netns, hostVeth, { hairpin: resolved.hairpinMode === 'hairpin-veth' });

        const requested = a.pod.podIP;
        const conf = requested === undefined ? s.ipam : { ...s.ipam, requestedIPs: [parseIpv4(requested)] };
        let result: HostLocalResult;
        try {
          result = hostLocalAdd(conf, s.store, { containerId: a.containerId, ifname: a.ifname });
        } catch (e) {
          if (isKnetError(e)) throw podError(e, node, a.pod, requested === undefined ? 'spec.nodeName' : 'status.podIP');
          throw e;
        }
        const ipc = result.ips[0];
        if (ipc === undefined) throw new KnetError('EIO', 'IPAM plugin returned missing IP config');

        await bestEffort(host.sysctlSet(a.netns, `net.ipv6.conf.${a.ifname}.accept_dad`, '0'));
        await bestEffort(host.sysctlSet(a.netns, `net.ipv4.conf.${a.ifname}.arp_notify`, '1'));
        await host.addrAdd(a.netns, a.ifname, ipc.address);
        await host.linkSet(a.netns, a.ifname, { up: true });
        for (const r of result.routes) {
          await host.routeAdd(a.netns, { dst: r.dst, via: r.gw ?? ipc.gateway, dev: a.ifname });
        }
        return { ip: formatIpv4(ipc.ip), prefixlen: ipc.prefixlen, gateway: ipc.gateway, hostIfname: hostVeth };
      } catch (e) {
        await teardown(ctx, s, a).catch(() => undefined);
        throw e;
      }
    },

    async delPod(ctx: NodeContext, a: PodAttachment): Promise<void> {
      await teardown(ctx, stateOf(ctx.node), a);
    },

    // kubenet has one rule for the whole node; the node is taken for plugins whose rule differs.
    masqueradeRule(_node: ClusterNode): string | undefined {
      return formatKubenetMasqueradeRule(resolved.nonMasqueradeCIDR);
    },

    netConf(nodeName: string): KubenetNetConf | undefined {
      return nodes.get(nodeName)?.netConf;
    },

    ipamStore(nodeName: string): IpamStore | undefined {
      return nodes.get(nodeName)?.store;
    },
  };
  return plugin;
}
