import { describe, expect, it } from 'vitest';
import { routesFromFixture } from '../../../test/fixtures/iproute2/iproute2-records.js';
import { readIproute2Fixture, readLinuxFixture } from './__fixtures__/read-fixture.js';
import { parseIpRouteJson } from './parse-ip-route-json.js';

describe('parseIpRouteJson', () => {
  it('reads `ip -4 -N -j route show table all` (numeric types, tables, protocols, scopes)', () => {
    expect(parseIpRouteJson(JSON.parse(readLinuxFixture('node.route-numeric.json')))).toEqual([
      { type: 'unreachable', dst: '10.244.6.0/24', table: 7, scope: 'global', protocol: 'boot', onlink: false },
      { type: 'unicast', dst: '10.244.3.0/24', table: 100, dev: 'cbr0', prefsrc: '10.244.1.1', scope: 'link', protocol: 186, onlink: false },
      { type: 'unicast', dst: '10.244.1.0/24', table: 'main', dev: 'cbr0', prefsrc: '10.244.1.1', scope: 'link', protocol: 'kernel', onlink: false },
      {
        type: 'unicast', dst: '10.244.2.0/24', table: 'main', dev: 'cbr0', gateway: '172.18.0.3', metric: 10,
        scope: 'global', protocol: 'static', onlink: true, mtu: 1400,
      },
      { type: 'blackhole', dst: '10.244.5.0/26', table: 'main', scope: 'global', protocol: 'bird', onlink: false },
      { type: 'prohibit', dst: '10.244.7.0/24', table: 'main', metric: 20, scope: 'global', protocol: 'boot', onlink: false },
      { type: 'local', dst: '10.96.0.10', table: 'local', dev: 'cbr0', scope: 'host', protocol: 'boot', onlink: false },
      { type: 'local', dst: '10.244.1.1', table: 'local', dev: 'cbr0', prefsrc: '10.244.1.1', scope: 'host', protocol: 'kernel', onlink: false },
      { type: 'broadcast', dst: '10.244.1.255', table: 'local', dev: 'cbr0', prefsrc: '10.244.1.1', scope: 'link', protocol: 'kernel', onlink: false },
      { type: 'local', dst: '127.0.0.0/8', table: 'local', dev: 'lo', prefsrc: '127.0.0.1', scope: 'host', protocol: 'kernel', onlink: false },
      { type: 'local', dst: '127.0.0.1', table: 'local', dev: 'lo', prefsrc: '127.0.0.1', scope: 'host', protocol: 'kernel', onlink: false },
      { type: 'broadcast', dst: '127.255.255.255', table: 'local', dev: 'lo', prefsrc: '127.0.0.1', scope: 'link', protocol: 'kernel', onlink: false },
    ]);
  });

  it('reads the named form as the formatter fixtures hold it', () => {
    for (const f of ['node.route-all.json', 'pod.route-all.json']) {
      expect(parseIpRouteJson(JSON.parse(readIproute2Fixture(f)))).toEqual(routesFromFixture(f));
    }
  });

  it('leaves IPv6 routes out', () => {
    const routes = parseIpRouteJson(JSON.parse(readLinuxFixture('v6.route-numeric.json')));
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.every((r) => !r.dst.includes(':'))).toBe(true);
    expect(routes.map((r) => r.dst)).toContain('172.18.0.0/16');
  });

  it.each([
    ['a throw route', [{ type: '9', dst: '10.0.0.0/8', flags: [] }]],
    ['a multicast route', [{ type: 'multicast', dst: '224.0.0.0/4', flags: [] }]],
    ['a multipath route', [{ dst: '10.0.0.0/8', nexthops: [{ gateway: '10.1.0.1' }], flags: [] }]],
  ])('refuses %s with EOPNOTSUPP rather than dropping it', (_, json) => {
    expect(() => parseIpRouteJson(json)).toThrow(expect.objectContaining({ code: 'EOPNOTSUPP' }));
  });

  it('rejects an unknown protocol name with EPARSE', () => {
    expect(() => parseIpRouteJson([{ dst: '10.0.0.0/8', protocol: 'nonsense', flags: [] }])).toThrow(expect.objectContaining({ code: 'EPARSE' }));
  });
});
