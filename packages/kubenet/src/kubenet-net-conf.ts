import { formatIpv4, formatIpv4Cidr, parseIpv4Cidr } from '@knet/core';
import type { ClusterNode, HostLocalNetConf } from '@knet/core';
import type { HairpinMode } from './kubenet-options.js';

/** The bridge kubenet creates on every node. */
export const KUBENET_BRIDGE = 'cbr0';
/** kubenet's CNI network name: host-local keeps its state in `/var/lib/cni/networks/kubenet/`. */
export const KUBENET_NETWORK = 'kubenet';
/** The interface kubenet asks for inside every pod (`network.DefaultInterfaceName`). */
export const KUBENET_POD_IFNAME = 'eth0';

/**
 * The bridge-plugin config kubenet generates for a node once it knows the node's pod CIDR
 * (`NET_CONFIG_TEMPLATE`), with its `ipam` section for host-local.
 */
export interface KubenetNetConf extends HostLocalNetConf {
  readonly cniVersion: '0.1.0';
  readonly name: 'kubenet';
  readonly type: 'bridge';
  readonly bridge: 'cbr0';
  readonly mtu: number;
  readonly addIf: 'eth0';
  readonly isGateway: true;
  readonly ipMasq: false;
  readonly hairpinMode: boolean;
  readonly ipam: {
    readonly type: 'host-local';
    readonly ranges: readonly (readonly { readonly subnet: string; readonly gateway: string }[])[];
    readonly routes: readonly { readonly dst: string }[];
  };
}

/**
 * The config kubenet hands to the bridge plugin for `node`: bridge `cbr0`, the given MTU,
 * `isGateway` on, `ipMasq` off (kubenet masquerades with its own rule), `hairpinMode` true only
 * for `hairpin-veth`, and host-local with one range set per pod CIDR whose gateway is the
 * CIDR's first address, plus a default route.
 *
 * @remarks
 * Linux equivalent: the JSON kubenet logs as "CNI network config set to ..." on the pod CIDR
 * event. The loopback config it also generates is `{"cniVersion":"0.1.0","name":"kubenet-loopback","type":"loopback"}`.
 * @see kubernetes pkg/kubelet/dockershim/network/kubenet/kubenet_linux.go `NET_CONFIG_TEMPLATE`, `Event`, `getRangesConfig`
 * @example
 * ```ts
 * import { createKubenetNetConf } from '@knet/kubenet';
 * const conf = createKubenetNetConf(
 *   { name: 'node-1', labels: {}, internalIP: '192.168.0.11', podCIDR: '10.244.1.0/24', podCIDRAllocated: false },
 *   1500, 'promiscuous-bridge');
 * conf.ipam.ranges; // [[{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }]]
 * ```
 */
export function createKubenetNetConf(node: ClusterNode, mtu: number, hairpinMode: HairpinMode): KubenetNetConf {
  // kubenet: `cidr.IP[len(cidr.IP)-1] += 1`, on the parsed (masked) network.
  const cidr = parseIpv4Cidr(node.podCIDR, { strict: false });
  return {
    cniVersion: '0.1.0',
    name: 'kubenet',
    type: 'bridge',
    bridge: 'cbr0',
    mtu,
    addIf: 'eth0',
    isGateway: true,
    ipMasq: false,
    hairpinMode: hairpinMode === 'hairpin-veth',
    ipam: {
      type: 'host-local',
      ranges: [[{ subnet: formatIpv4Cidr(cidr), gateway: formatIpv4(cidr.address + 1) }]],
      routes: [{ dst: '0.0.0.0/0' }],
    },
  };
}
