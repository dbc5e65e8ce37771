import { parseBridgeCniConf } from '@knet/core';
import type { ClusterNode, CniDns, CniPluginConf, HostLocalConfig, Mac } from '@knet/core';
import { createKubenetNetConf, KUBENET_BRIDGE } from '../kubenet-net-conf.js';
import type { HairpinMode } from '../kubenet-options.js';

/** The CNI `type` of knet's kubenet plugin: the name of its executable in `CNI_PATH`. */
export const KNET_KUBENET_CNI_TYPE = 'knet-kubenet';

/**
 * The configuration of the `knet-kubenet` CNI plugin, validated: the bridge plugin's keys that
 * kubenet uses, and host-local's `ipam`.
 */
export interface KubenetCniConf {
  readonly name: string;
  readonly cniVersion: string;
  /** Default `cbr0` (kubenet's bridge; the bridge plugin's own default is `cni0`). */
  readonly bridge: string;
  /** Absent: the kernel default. */
  readonly mtu?: number;
  /** Gateway on the bridge and forwarding on (kubenet: true). `isDefaultGateway` implies it. */
  readonly isGateway: boolean;
  /** Add a default route via the gateway unless the IPAM routes have one with a `gw`. */
  readonly isDefaultGateway: boolean;
  /** Replace a different IPv4 address on the bridge instead of failing. */
  readonly forceAddress: boolean;
  /** The hairpin flag on the host veth's bridge port (kubelet `--hairpin-mode=hairpin-veth`). */
  readonly hairpinMode: boolean;
  /** The bridge in promiscuous mode (kubelet's default `--hairpin-mode=promiscuous-bridge`). */
  readonly promiscMode: boolean;
  /** `dns` of the config: overrides the IPAM's in the result. */
  readonly dns?: CniDns;
  /** host-local's configuration (with CNI_ARGS `IP=`). */
  readonly ipam: HostLocalConfig;
  /** The container interface's MAC: CNI_ARGS `MAC=`, then `args.cni.mac`, then `runtimeConfig.mac` (the later wins). */
  readonly mac?: Mac;
}

/**
 * Reads and checks a `knet-kubenet` configuration, as the bridge plugin's `loadNetConf` and
 * host-local's `LoadIPAMConfig` would.
 *
 * @param config The configuration from stdin.
 * @param cniArgs `CNI_ARGS` (`IP=` and `MAC=` are read; other keys need `IgnoreUnknown=1`).
 * @throws CniError code 7 for a wrong type or an invalid `ipam` (`IPAM config missing 'ipam'
 * key`, `invalid range set 0: ...`), `cannot set hairpin mode and promiscuous mode at the same
 * time`, a bad MTU or MAC; code 2 for what knet-kubenet does not implement: `ipMasq: true`
 * (kubenet masquerades with its own rule), `vlan`, an `ipam.type` other than `host-local`;
 * code 999 for bad `CNI_ARGS` (`ARGS: unknown args [...]`).
 * @see containernetworking/plugins plugins/main/bridge/bridge.go `loadNetConf`
 */
export function parseKubenetCniConf(config: CniPluginConf, cniArgs = ''): KubenetCniConf {
  // The bridge plugin's loadNetConf, with kubenet's bridge name and without ipMasq.
  const { ipMasq: _ipMasq, ...conf } = parseBridgeCniConf(config, cniArgs, {
    defaultBridge: KUBENET_BRIDGE,
    plugin: KNET_KUBENET_CNI_TYPE,
    refuseIpMasq: true,
    refuseUnimplemented: false,
  });
  return conf;
}

/** Options of {@link createKubenetCniConfList}. */
export interface KubenetCniConfListOptions {
  /** The MTU kubenet computed (`--network-plugin-mtu`, else the node's). Default 1460, kubenet's fallback. */
  readonly mtu?: number;
  /** kubelet's `--hairpin-mode`. Default `promiscuous-bridge`. */
  readonly hairpinMode?: HairpinMode;
  /** Default `1.0.0`. */
  readonly cniVersion?: string;
  /** host-local's `dataDir`. Default `/var/lib/cni/networks`. */
  readonly dataDir?: string;
}

/**
 * The network configuration list that runs `knet-kubenet` for `node`: kubenet's generated
 * bridge config (`cbr0`, gateway on, the pod CIDR in host-local, a default route) with the
 * plugin type `knet-kubenet`, and kubelet's hairpin mode expressed as the bridge plugin's
 * `promiscMode` (`promiscuous-bridge`) or `hairpinMode` (`hairpin-veth`).
 *
 * @remarks Linux equivalent: what kubenet builds in memory on the pod CIDR event
 * (`NET_CONFIG_TEMPLATE`); kubenet sets promiscuous mode on cbr0 itself instead of through the
 * bridge config. Write it to `/etc/cni/net.d/10-kubenet.conflist`.
 * @example
 * ```ts
 * import { createKubenetCniConfList } from '@knet/kubenet';
 * const list = createKubenetCniConfList(
 *   { name: 'node-1', labels: {}, internalIP: '192.168.0.11', podCIDR: '10.244.1.0/24', podCIDRAllocated: false });
 * list.plugins[0]?.type; // 'knet-kubenet'
 * ```
 */
export function createKubenetCniConfList(node: ClusterNode, options: KubenetCniConfListOptions = {}): {
  readonly cniVersion: string;
  readonly name: string;
  readonly plugins: readonly CniPluginConf[];
} {
  const mode = options.hairpinMode ?? 'promiscuous-bridge';
  const base = createKubenetNetConf(node, options.mtu ?? 1460, mode);
  const { cniVersion: _v, name: _n, type: _t, addIf: _a, ipam, ...bridge } = base;
  return {
    cniVersion: options.cniVersion ?? '1.0.0',
    name: base.name,
    plugins: [
      {
        type: KNET_KUBENET_CNI_TYPE,
        ...bridge,
        promiscMode: mode === 'promiscuous-bridge',
        ipam: { ...ipam, ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}) },
      },
    ],
  };
}
