import { describe, expect, it } from 'vitest';
import type { AddressInfo, LinkInfo } from '../host/types.js';
import { addrsFromFixture, linksFromFixture, readFixture } from '../../test/fixtures/iproute2/iproute2-records.js';
import { formatIpAddr } from './format-ip-addr.js';

function state(ns: 'node' | 'pod'): { links: LinkInfo[]; addrs: AddressInfo[] } {
  return {
    // Links reversed: the formatter restores ifindex order; addresses keep the kernel's order.
    links: linksFromFixture(`${ns}.link-details.json`, `${ns}.netns-ids.txt`).reverse(),
    addrs: addrsFromFixture(`${ns}.addr.json`),
  };
}

const lo: LinkInfo = {
  ifindex: 1,
  name: 'lo',
  kind: 'loopback',
  mac: '00:00:00:00:00:00',
  mtu: 65536,
  up: true,
  operstate: 'UNKNOWN',
  lowerUp: true,
  promisc: false,
  noarp: false,
  txqlen: 1000,
};

describe('formatIpAddr', () => {
  it.each([
    ['node', 'node.addr.txt', false],
    ['node', 'node.addr.json', true],
    ['pod', 'pod.addr.txt', false],
    ['pod', 'pod.addr.json', true],
  ] as const)('reproduces `ip -n knet-fmt-%s addr` (%s) byte for byte', (ns, fixture, json) => {
    const { links, addrs } = state(ns);
    expect(formatIpAddr(links, addrs, { json })).toBe(readFixture(fixture));
  });

  it('derives `secondary` from an earlier address in the same subnet (the record has no such flag)', () => {
    const { links, addrs } = state('node');
    expect(formatIpAddr(links, addrs)).toContain('    inet 10.244.1.254/24 scope global secondary cbr0:1\n');
    // Same addresses, the second one first: now 10.244.1.254 is the primary.
    const cbr0 = addrs.filter((a) => a.dev === 'cbr0').reverse();
    expect(formatIpAddr(links, cbr0)).toContain('    inet 10.244.1.1/24 brd 10.244.1.255 scope global secondary cbr0\n');
  });

  it.each([
    [
      'different prefix lengths are both primary',
      [
        { ifindex: 1, dev: 'lo', family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host', label: 'lo' },
        { ifindex: 1, dev: 'lo', family: 'inet', local: '127.0.0.2', prefixlen: 32, scope: 'host', label: 'lo' },
      ],
      '    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n' +
        '    inet 127.0.0.2/32 scope host lo\n       valid_lft forever preferred_lft forever\n',
    ],
  ] as const)('%s', (_name, addrs, expectedTail) => {
    expect(formatIpAddr([lo], addrs)).toBe(
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n' +
        '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n' +
        expectedTail,
    );
  });
});
