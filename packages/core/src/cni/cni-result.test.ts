import { describe, expect, it } from 'vitest';
import { convertCniResult, formatCniResult, isCidrText, isIpAddressText, parseCniResult } from './cni-result.js';
import type { AnyCniResult, CniResult } from './cni-types.js';

/** The reference bridge's 1.0.0 result for a kubenet pod (Debian bridge 1.1.1, knet-cni-probe namespaces). */
const BRIDGE: CniResult = {
  cniVersion: '1.0.0',
  interfaces: [
    { name: 'cbr0', mac: 'aa:83:cc:65:5b:e8' },
    { name: 'veth296d9fcc', mac: '76:84:55:9e:fd:d2' },
    { name: 'eth0', mac: 'ee:1d:8e:2e:2b:26', sandbox: '/run/netns/knet-cni-probe-pod' },
  ],
  ips: [{ interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: {},
};

describe('convertCniResult', () => {
  it.each<[string, AnyCniResult]>([
    ['1.1.0', { ...BRIDGE, cniVersion: '1.1.0' }],
    [
      '0.4.0',
      {
        cniVersion: '0.4.0',
        interfaces: BRIDGE.interfaces ?? [],
        ips: [{ version: '4', interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }],
        routes: [{ dst: '0.0.0.0/0' }],
        dns: {},
      },
    ],
    ['0.2.0', { cniVersion: '0.2.0', ip4: { ip: '10.244.1.2/24', gateway: '10.244.1.1', routes: [{ dst: '0.0.0.0/0' }] }, dns: {} }],
    ['', { cniVersion: '0.1.0', ip4: { ip: '10.244.1.2/24', gateway: '10.244.1.1', routes: [{ dst: '0.0.0.0/0' }] }, dns: {} }],
  ])('1.0.0 → %j', (to, want) => {
    expect(convertCniResult(BRIDGE, to)).toEqual(want);
  });

  it('keeps the first address of each family and sorts routes by family for 0.2.0', () => {
    const r = convertCniResult(
      {
        cniVersion: '1.0.0',
        ips: [{ address: '10.0.0.2/24' }, { address: '10.0.1.2/24' }, { address: 'fd00::2/64' }],
        routes: [{ dst: '::/0', gw: 'fd00::1' }, { dst: '0.0.0.0/0', gw: '10.0.0.1', mtu: 1400 }],
      },
      '0.2.0',
    );
    expect(r).toEqual({
      cniVersion: '0.2.0',
      ip4: { ip: '10.0.0.2/24', routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }] },
      ip6: { ip: 'fd00::2/64', routes: [{ dst: '::/0', gw: 'fd00::1' }] },
      dns: {},
    });
  });

  it('converts 0.2.0 up to 1.0.0 and 0.4.0 up to 1.1.0', () => {
    expect(convertCniResult({ cniVersion: '0.2.0', ip4: { ip: '10.0.0.2/24', gateway: '10.0.0.1', routes: [{ dst: '0.0.0.0/0' }] } }, '1.0.0')).toEqual({
      cniVersion: '1.0.0',
      ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1' }],
      routes: [{ dst: '0.0.0.0/0' }],
      dns: {},
    });
    expect(convertCniResult({ cniVersion: '0.4.0', interfaces: [{ name: 'lo' }], ips: [{ version: '4', interface: 0, address: '127.0.0.1/8' }] }, '1.1.0')).toEqual({
      cniVersion: '1.1.0',
      interfaces: [{ name: 'lo' }],
      ips: [{ interface: 0, address: '127.0.0.1/8' }],
      dns: {},
    });
  });

  it.each<[AnyCniResult, string, string]>([
    [{ cniVersion: '1.0.0', interfaces: [{ name: 'eth0' }] }, '0.2.0', 'cannot convert: no valid IP addresses'],
    [BRIDGE, '2.0.0', 'no converter for CNI result version 1.0.0 to 2.0.0'],
  ])('refuses %j → %s', (r, to, msg) => {
    expect(() => convertCniResult(r, to)).toThrow(msg);
  });
});

describe('parseCniResult', () => {
  it('reads a result in its version and checks the type', () => {
    expect(parseCniResult(JSON.parse(formatCniResult(BRIDGE)))).toEqual(BRIDGE);
    expect(() => parseCniResult({ cniVersion: '0.9.0' })).toThrow('unsupported CNI result version "0.9.0"');
    expect(() => parseCniResult({ cniVersion: '0.4.0' }, '1.0.0')).toThrow('result type supports [1.0.0 1.1.0] but unmarshalled CNIVersion is "0.4.0"');
    expect(() => parseCniResult({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.300/24' }] })).toThrow('invalid CIDR address: 10.0.0.300/24');
  });

  it.each([
    ['10.244.1.2', true],
    ['::1', true],
    ['fe80::a883:ccff:fe65:5be8', true],
    ['::ffff:10.0.0.1', true],
    ['1:2:3:4:5:6:7:8', true],
    ['1:2:3:4:5:6:7:8:9', false],
    ['1::2::3', false],
    ['10.244.1', false],
  ])('isIpAddressText(%s) = %s', (s, want) => {
    expect(isIpAddressText(s)).toBe(want);
  });

  it.each([
    ['10.244.1.0/24', true],
    ['::1/128', true],
    ['10.0.0.0/33', false],
    ['10.0.0.0', false],
  ])('isCidrText(%s) = %s', (s, want) => {
    expect(isCidrText(s)).toBe(want);
  });
});

describe('formatCniResult', () => {
  it("prints the reference bridge's 1.0.0 result byte for byte", () => {
    // The reference's stdout, as captured from /usr/lib/cni/bridge (see cni-plugin tests for live runs).
    expect(formatCniResult(BRIDGE)).toBe(
      [
        '{',
        '    "cniVersion": "1.0.0",',
        '    "interfaces": [',
        '        {',
        '            "name": "cbr0",',
        '            "mac": "aa:83:cc:65:5b:e8"',
        '        },',
        '        {',
        '            "name": "veth296d9fcc",',
        '            "mac": "76:84:55:9e:fd:d2"',
        '        },',
        '        {',
        '            "name": "eth0",',
        '            "mac": "ee:1d:8e:2e:2b:26",',
        '            "sandbox": "/run/netns/knet-cni-probe-pod"',
        '        }',
        '    ],',
        '    "ips": [',
        '        {',
        '            "interface": 2,',
        '            "address": "10.244.1.2/24",',
        '            "gateway": "10.244.1.1"',
        '        }',
        '    ],',
        '    "routes": [',
        '        {',
        '            "dst": "0.0.0.0/0"',
        '        }',
        '    ],',
        '    "dns": {}',
        '}',
      ].join('\n'),
    );
  });
});
