import type { LinkInfo } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { kubenetMtu } from './kubenet-mtu.js';

function link(name: string, kind: LinkInfo['kind'], mtu: number, up = true, extra: Partial<LinkInfo> = {}): LinkInfo {
  return {
    ifindex: 1,
    name,
    kind,
    mac: '02:00:00:00:00:01',
    mtu,
    up,
    operstate: up ? 'UP' : 'DOWN',
    lowerUp: up,
    promisc: false,
    noarp: false,
    txqlen: 1000,
    ...extra,
  };
}

const lo = link('lo', 'loopback', 65536);

describe('kubenetMtu', () => {
  it.each<[string, LinkInfo[], number]>([
    ['one NIC', [lo, link('eth0', 'device', 1500)], 1500],
    ['the smallest of the up NICs', [lo, link('eth0', 'device', 9001), link('eth1', 'veth', 1450)], 1450],
    ['a down NIC does not count', [lo, link('eth0', 'device', 1500), link('eth1', 'device', 1400, false)], 1500],
    ['loopback does not count', [lo], 1460],
    ['a point-to-point tun does not count', [lo, link('eth0', 'device', 1500), link('tun0', 'tun', 1280, true, { tunMode: 'tun', noarp: true })], 1500],
    ['a tap device counts (it is Ethernet)', [lo, link('eth0', 'device', 1500), link('tap0', 'tun', 1280, true, { tunMode: 'tap' })], 1280],
    ['nothing up: fallback 1460', [lo, link('eth0', 'device', 1500, false)], 1460],
    // findMinMTU fails as a whole when the minimum is under 576; it does not skip that NIC.
    ['a NIC under 576 makes the whole search fall back', [lo, link('eth0', 'device', 1500), link('eth1', 'device', 500)], 1460],
    ['exactly 576 is accepted', [lo, link('eth0', 'device', 576)], 576],
    ['a bridge counts', [lo, link('eth0', 'device', 1500), link('docker0', 'bridge', 1400)], 1400],
  ])('%s', (_name, links, want) => {
    expect(kubenetMtu(links)).toBe(want);
  });
});
