import { formatIpv4, formatIpv4Cidr } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { checkNetConf, parseNetConf } from './net-conf.js';

const check = (o: Record<string, unknown>): { len: number; min: string; max: string } => {
  const c = checkNetConf(parseNetConf(o));
  return { len: c.subnetLen, min: formatIpv4(c.subnetMin), max: formatIpv4(c.subnetMax) };
};

describe('parseNetConf', () => {
  it('reads kube-flannel.yml net-conf.json', () => {
    const c = parseNetConf('{\n  "Network": "10.244.0.0/16",\n  "EnableNFTables": false,\n  "Backend": {\n    "Type": "vxlan"\n  }\n}\n');
    expect(formatIpv4Cidr(c.network)).toBe('10.244.0.0/16');
    expect([c.enableIPv4, c.enableIPv6, c.enableNFTables, c.backendType, c.subnetLen]).toEqual([true, false, false, 'vxlan', 0]);
    expect(c.backend).toEqual({ Type: 'vxlan' });
  });

  it('defaults the backend to udp when Backend is absent, as the code does (the docs say vxlan)', () => {
    expect(parseNetConf({ Network: '10.244.0.0/16' }).backendType).toBe('udp');
  });

  it('matches field names case-insensitively, as Go encoding/json', () => {
    const c = parseNetConf({ network: '10.5.0.0/16', subnetlen: 26, backend: { type: 'host-gw' } });
    expect([formatIpv4Cidr(c.network), c.subnetLen, c.backendType]).toEqual(['10.5.0.0/16', 26, 'host-gw']);
  });

  it('masks host bits of the Network, as net.ParseCIDR does', () => {
    expect(formatIpv4Cidr(parseNetConf({ Network: '10.244.7.9/16' }).network)).toBe('10.244.0.0/16');
  });

  it.each([
    ['not JSON', '{"Network":', 'EINVAL'],
    ['a bad CIDR', { Network: '10.244.0.0/33' }, 'EINVAL'],
    ['a negative SubnetLen', { Network: '10.244.0.0/16', SubnetLen: -1 }, 'EINVAL'],
    ['a Backend that is not an object', { Network: '10.244.0.0/16', Backend: 'vxlan' }, 'EINVAL'],
    ['IPv6', { Network: '10.244.0.0/16', EnableIPv6: true }, 'EOPNOTSUPP'],
  ])('refuses %s', (_what, input, code) => {
    expect(() => parseNetConf(input as never)).toThrow(expect.objectContaining({ code }) as Error);
  });
});

describe('checkNetConf', () => {
  it.each([
    [{ Network: '10.244.0.0/16' }, { len: 24, min: '10.244.1.0', max: '10.244.255.0' }],
    [{ Network: '10.0.0.0/8' }, { len: 24, min: '10.0.1.0', max: '10.255.255.0' }],
    [{ Network: '10.244.0.0/22' }, { len: 24, min: '10.244.1.0', max: '10.244.3.0' }],
    [{ Network: '10.244.0.0/23' }, { len: 25, min: '10.244.0.128', max: '10.244.1.128' }],
    [{ Network: '10.244.0.0/28' }, { len: 30, min: '10.244.0.4', max: '10.244.0.12' }],
    [{ Network: '10.244.0.0/16', SubnetLen: 26 }, { len: 26, min: '10.244.0.64', max: '10.244.255.192' }],
    [{ Network: '10.244.0.0/16', SubnetMin: '10.244.0.0', SubnetMax: '10.244.9.0' }, { len: 24, min: '10.244.0.0', max: '10.244.9.0' }],
  ])('%j → %j', (input, expected) => {
    expect(check(input)).toEqual(expected);
  });

  it.each([
    [{}, 'please define a correct Network parameter in the flannel config'],
    [{ Network: '10.244.0.0/29' }, 'network is too small. Minimum useful network prefix is /28'],
    [{ Network: '10.244.0.0/16', SubnetLen: 31 }, 'SubnetLen must be less than /31'],
    [{ Network: '10.244.0.0/16', SubnetLen: 17 }, 'network must be able to accommodate at least four subnets'],
    [{ Network: '10.244.0.0/16', SubnetMin: '10.245.0.0' }, 'SubnetMin is not in the range of the Network'],
    [{ Network: '10.244.0.0/16', SubnetMax: '10.0.0.0' }, 'SubnetMax is not in the range of the Network'],
    [{ Network: '10.244.0.0/16', SubnetMin: '10.244.1.128' }, 'SubnetMin is not on a SubnetLen boundary: 10.244.1.128'],
    [{ Network: '10.244.0.0/16', SubnetMax: '10.244.9.1' }, 'SubnetMax is not on a SubnetLen boundary: 10.244.9.1'],
  ])('%j: %s', (input, message) => {
    expect(() => checkNetConf(parseNetConf(input))).toThrow(expect.objectContaining({ code: 'EINVAL', message }) as Error);
  });
});
