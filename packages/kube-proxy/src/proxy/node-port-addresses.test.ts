import { describe, expect, it } from 'vitest';
import { parseIpSloppy } from '../ip/parse-ip-sloppy.js';
import type { IpFamily } from '../ip/parse-ip-sloppy.js';
import { isLoopback, nodePortIPs, parseNodePortAddresses, resolveLocalhostNodePorts } from './node-port-addresses.js';

// upstream NewFakeProxier's interfaces: lo (127.0.0.1, ::1) and eth0 (testNodeIPs)
const LOCAL = ['127.0.0.1', '::1', '192.168.0.2', '192.168.1.2', '192.168.99.11', '2001:db8::1', '2001:db8:1::2'];

describe('parseNodePortAddresses', () => {
  it.each<[IpFamily, string[], boolean, string[], boolean]>([
    ['IPv4', [], true, ['0.0.0.0/0'], true],
    ['IPv6', [], true, ['::/0'], false],
    ['IPv4', ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64'], false, ['192.168.0.0/24', '192.168.1.0/24'], false],
    ['IPv6', ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64'], false, ['2001:db8::/64'], false],
    ['IPv6', ['192.168.0.0/24'], true, ['::/0'], false],
    ['IPv4', ['192.168.0.0/24', '127.0.0.1/32'], false, ['192.168.0.0/24', '127.0.0.1/32'], true],
    ['IPv4', ['127.0.0.0/8'], false, ['127.0.0.0/8'], true],
    ['IPv4', ['10.0.0.0/8', '0.0.0.0/0'], true, ['0.0.0.0/0'], true],
  ])('%s %j', (family, cidrs, matchAll, kept, loopback) => {
    const npa = parseNodePortAddresses(family, cidrs);
    expect(npa.matchAll).toBe(matchAll);
    expect(npa.cidrs.map((c) => c.text)).toEqual(kept);
    expect(npa.containsIPv4Loopback).toBe(loopback);
  });
});

describe('nodePortIPs', () => {
  it.each<[IpFamily, string[], string[]]>([
    // TestNodePorts: secondary node IP accepted or not
    ['IPv4', ['192.168.0.0/24', '127.0.0.1/32'], ['192.168.0.2', '127.0.0.1']],
    ['IPv4', ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64'], ['192.168.0.2', '192.168.1.2']],
    ['IPv6', ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64'], ['2001:db8::1']],
    // TestHealthCheckNodePort
    ['IPv4', ['127.0.0.0/8'], ['127.0.0.1']],
  ])('%s %j', (family, cidrs, want) => {
    expect(nodePortIPs(parseNodePortAddresses(family, cidrs), LOCAL).map((ip) => ip.text)).toEqual(want);
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['192.168.0.2', false],
    ['::2', false],
  ])('%s', (ip, want) => {
    const parsed = parseIpSloppy(ip);
    if (parsed === undefined) throw new Error('bad test input');
    expect(isLoopback(parsed)).toBe(want);
  });
});

describe('resolveLocalhostNodePorts', () => {
  it.each<[IpFamily, boolean, string[], boolean]>([
    ['IPv4', true, [], true],
    ['IPv4', false, [], false],
    ['IPv4', true, ['192.168.0.0/24'], false],
    ['IPv4', true, ['192.168.0.0/24', '127.0.0.1/32'], true],
    ['IPv6', true, [], false],
  ])('%s requested %s with %j', (family, requested, cidrs, want) => {
    expect(resolveLocalhostNodePorts(family, requested, cidrs)).toBe(want);
  });
});
