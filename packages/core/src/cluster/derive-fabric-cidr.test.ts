import { describe, expect, it } from 'vitest';
import { formatIpv4Cidr, parseIpv4 } from '../ip/ipv4.js';
import { deriveFabricCidr } from './derive-fabric-cidr.js';

describe('deriveFabricCidr', () => {
  it.each([
    [['172.18.0.2', '172.18.0.3', '172.18.0.4'], '172.18.0.0/24'],
    [['172.18.0.2'], '172.18.0.0/24'],
    [['10.0.1.5', '10.0.2.5'], '10.0.0.0/22'],
    [['192.168.56.11', '192.168.57.200'], '192.168.56.0/23'],
    [['10.0.0.1', '10.255.255.254'], '10.0.0.0/8'],
    [['1.2.3.4', '200.1.1.1'], '0.0.0.0/0'],
    [[], '172.18.0.0/24'],
  ])('%j → %s', (ips, expected) => {
    expect(formatIpv4Cidr(deriveFabricCidr(ips.map(parseIpv4)))).toBe(expected);
  });
});
