import type { LinkInfo } from '@knet/core';
import { MIN_MTU } from './kubenet-options.js';

/** The MTU kubenet falls back to when no interface qualifies. @see kubernetes pkg/kubelet/dockershim/network/kubenet/kubenet_linux.go `fallbackMTU` */
export const FALLBACK_MTU = 1460;

/** True for interfaces with IFF_POINTOPOINT: TUN devices in `tun` mode (TAP devices are Ethernet). */
function isPointToPoint(l: LinkInfo): boolean {
  return l.kind === 'tun' && l.tunMode !== 'tap';
}

/**
 * kubenet's bridge MTU when `--network-plugin-mtu` is not set: the smallest MTU among the
 * node's interfaces that are up and neither loopback nor point-to-point; {@link FALLBACK_MTU}
 * when there is none, or when that smallest MTU is below 576.
 *
 * @remarks
 * Linux equivalent: kubenet's `findMinMTU()` over Go's `net.Interfaces()` in the kubelet's
 * namespace. A single interface under 576 makes the whole search fail (kubenet then uses the
 * fallback); it is not skipped in favour of the next smallest.
 * @see kubernetes pkg/kubelet/dockershim/network/kubenet/kubenet_linux.go `findMinMTU`, `Init`
 * @example
 * ```ts
 * import { kubenetMtu } from '@knet/kubenet';
 * kubenetMtu([]); // 1460: no interface qualifies
 * ```
 */
export function kubenetMtu(links: readonly LinkInfo[]): number {
  let min = Infinity;
  for (const l of links) {
    if (l.up && l.kind !== 'loopback' && !isPointToPoint(l) && l.mtu < min) min = l.mtu;
  }
  return min === Infinity || min < MIN_MTU ? FALLBACK_MTU : min;
}
