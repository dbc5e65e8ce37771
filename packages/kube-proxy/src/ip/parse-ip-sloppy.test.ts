import { describe, expect, it } from 'vitest';
import { cidrContainsIp, parseCidrSloppy, parseIpSloppy } from './parse-ip-sloppy.js';

describe('parseIpSloppy', () => {
  it.each<[string, string | undefined, string | undefined]>([
    ['172.30.0.41', 'IPv4', '172.30.0.41'],
    // TestBadIPs: leading zeros are decimal
    ['172.30.0.041', 'IPv4', '172.30.0.41'],
    ['1.2.3.004', 'IPv4', '1.2.3.4'],
    ['192.168.099.022', 'IPv4', '192.168.99.22'],
    ['10.180.00.001', 'IPv4', '10.180.0.1'],
    ['256.1.1.1', undefined, undefined],
    ['1.2.3', undefined, undefined],
    ['1.2.3.4.5', undefined, undefined],
    ['None', undefined, undefined],
    ['', undefined, undefined],
    // IPv6, printed as Go's net.IP.String() (RFC 5952)
    ['fd00:172:30::41', 'IPv6', 'fd00:172:30::41'],
    ['FD00:0010:0180:0000:0000:0000:0000:0001', 'IPv6', 'fd00:10:180::1'],
    ['2001:db8:0:0:1:0:0:1', 'IPv6', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', 'IPv6', '2001:db8:0:1:1:1:1:1'],
    ['::1', 'IPv6', '::1'],
    ['::', 'IPv6', '::'],
    ['fd00::', 'IPv6', 'fd00::'],
    ['::ffff:1.2.3.4', 'IPv4', '1.2.3.4'],
    ['64:ff9b::192.0.2.33', 'IPv6', '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:7:8:9', undefined, undefined],
    ['1::2::3', undefined, undefined],
    ['1:2:3:4:5:6:7:8::', undefined, undefined],
  ])('%s', (text, family, canonical) => {
    const ip = parseIpSloppy(text);
    expect(ip?.family).toBe(family);
    expect(ip?.text).toBe(canonical);
  });
});

describe('parseCidrSloppy', () => {
  it.each<[string, string | undefined]>([
    ['203.0.113.0/25', '203.0.113.0/25'],
    ['203.0.113.000/025', '203.0.113.0/25'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['10.0.0.0/33', undefined],
    ['10.0.0.0', undefined],
    ['2001:db8::1/64', '2001:db8::/64'],
    ['fd00:10::/64', 'fd00:10::/64'],
    ['::/0', '::/0'],
    ['2001:db8::/129', undefined],
  ])('%s', (text, want) => {
    expect(parseCidrSloppy(text)?.text).toBe(want);
  });
});

describe('cidrContainsIp', () => {
  it.each<[string, string, boolean]>([
    ['192.168.0.0/24', '192.168.0.2', true],
    ['192.168.0.0/24', '192.168.1.2', false],
    ['203.0.113.0/25', '203.0.113.130', false],
    ['203.0.113.0/25', '203.0.113.2', true],
    ['2001:db8::/64', '2001:db8::1', true],
    ['2001:db8::/64', '2001:db8:1::2', false],
    ['0.0.0.0/0', '::1', false],
  ])('%s contains %s', (cidr, ip, want) => {
    const c = parseCidrSloppy(cidr);
    const a = parseIpSloppy(ip);
    if (c === undefined || a === undefined) throw new Error('bad test input');
    expect(cidrContainsIp(c, a)).toBe(want);
  });
});
