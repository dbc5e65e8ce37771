import { describe, expect, it } from 'vitest';
import type { RouteInfo } from '../host/types.js';
import { SeededRng } from '../util/seeded-rng.js';
import { linksFromFixture, readFixture, routesFromFixture } from '../../test/fixtures/iproute2/iproute2-records.js';
import { formatIpRoute } from './format-ip-route.js';

function shuffled<T>(items: readonly T[], seed: string): T[] {
  const rng = new SeededRng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.nextFloat() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Every route of the namespace (from `table all`), in a scrambled order. */
function routes(ns: 'node' | 'pod'): RouteInfo[] {
  return shuffled(routesFromFixture(`${ns}.route-all.json`), `${ns}-routes`);
}

const links = {
  node: linksFromFixture('node.link-details.json', 'node.netns-ids.txt'),
  pod: linksFromFixture('pod.link-details.json', 'pod.netns-ids.txt'),
};

const unicast: RouteInfo = {
  type: 'unicast',
  dst: '10.244.2.0/24',
  table: 'main',
  dev: 'eth0',
  gateway: '172.18.0.3',
  scope: 'global',
  protocol: 'boot',
  onlink: true,
};

describe('formatIpRoute', () => {
  // `undefined`: plain `ip route show`, which is the main table.
  it.each([
    ['node', undefined, 'node.route.txt'],
    ['node', 'local', 'node.route-local.txt'],
    ['node', 'all', 'node.route-all.txt'],
    ['pod', undefined, 'pod.route.txt'],
    ['pod', 'local', 'pod.route-local.txt'],
    ['pod', 'all', 'pod.route-all.txt'],
  ] as const)('reproduces knet-fmt-%s, table %s, as %s byte for byte', (ns, table, fixture) => {
    const out = formatIpRoute(routes(ns), { links: links[ns], ...(table !== undefined ? { table } : {}) });
    expect(out).toBe(readFixture(fixture));
  });

  it.each([
    ['node', undefined, 'node.route.json'],
    ['node', 'local', 'node.route-local.json'],
    ['node', 'all', 'node.route-all.json'],
    ['pod', undefined, 'pod.route.json'],
    ['pod', 'local', 'pod.route-local.json'],
    ['pod', 'all', 'pod.route-all.json'],
  ] as const)('reproduces knet-fmt-%s, table %s, as %s byte for byte', (ns, table, fixture) => {
    const out = formatIpRoute(routes(ns), { json: true, links: links[ns], ...(table !== undefined ? { table } : {}) });
    expect(out).toBe(readFixture(fixture));
  });

  it('shows numbered tables on their own', () => {
    expect(formatIpRoute(routes('node'), { table: 100 })).toBe(
      'default via 172.18.0.1 dev eth0 metric 5 \n10.244.0.0/16 dev cbr0 scope link \n',
    );
  });

  it('marks no route linkdown when it is not given the links', () => {
    expect(formatIpRoute(routes('node'))).toContain('10.32.0.0/12 dev weave proto kernel scope link src 10.32.0.1 \n');
  });

  it.each([
    ['an onlink route (flannel host-gw, kubenet)', unicast, '10.244.2.0/24 via 172.18.0.3 dev eth0 onlink \n'],
    ['metric 0 is not printed', { ...unicast, onlink: false, metric: 0 }, '10.244.2.0/24 via 172.18.0.3 dev eth0 \n'],
    ['table 254 is main', { ...unicast, table: 254 }, '10.244.2.0/24 via 172.18.0.3 dev eth0 onlink \n'],
    [
      'a blackhole (Calico IPAM block, proto 80)',
      { type: 'blackhole', dst: '10.244.3.0/26', table: 'main', scope: 'global', protocol: 80, onlink: false },
      'blackhole 10.244.3.0/26 proto 80 \n',
    ],
    [
      'a named protocol number',
      { ...unicast, onlink: false, protocol: 188 },
      '10.244.2.0/24 via 172.18.0.3 dev eth0 proto ospf \n',
    ],
  ] as const)('%s', (_name, route, expected) => {
    expect(formatIpRoute([route])).toBe(expected);
  });

  it('prints an empty JSON array for no routes', () => {
    expect(formatIpRoute([], { json: true })).toBe('[]\n');
    expect(formatIpRoute([])).toBe('');
  });
});
