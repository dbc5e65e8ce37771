import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../ip/ipv4.js';
import { RouteTable, RT_TABLE_MAIN, type SimRoute } from './route-table.js';

const net = parseIpv4('198.51.100.0');

function route(metric: number, gateway: string): SimRoute {
  return { type: 'unicast', dst: net, prefix: 24, table: RT_TABLE_MAIN, dev: 'eth0', gateway: parseIpv4(gateway), metric, scope: 'global', protocol: 'boot', onlink: false };
}

describe('RouteTable', () => {
  // fib_table_delete deletes one alias: the first, in metric order, that matches the request
  // (checked with `ip route del` on Linux 6.18: test/fixtures/kernel/route-duplicates.txt).
  it.each([
    ['any metric takes the lowest', () => true, 0, [10, 100]],
    ['a gateway picks its route', (r: SimRoute) => r.gateway === parseIpv4('192.0.2.2'), 10, [0, 100]],
    ['a metric picks its route', (r: SimRoute) => r.metric === 100, 100, [0, 10]],
  ] as const)('removeFirst: %s', (_name, match, removed, left) => {
    const t = new RouteTable(RT_TABLE_MAIN);
    t.insert(route(100, '192.0.2.3'));
    t.insert(route(0, '192.0.2.1'));
    t.insert(route(10, '192.0.2.2'));
    expect(t.removeFirst(net, 24, match)?.metric).toBe(removed);
    expect(t.list().map((r) => r.metric)).toEqual(left);
    expect(t.size).toBe(2);
  });

  it('removeFirst returns undefined and removes nothing when no route matches', () => {
    const t = new RouteTable(RT_TABLE_MAIN);
    t.insert(route(0, '192.0.2.1'));
    expect(t.removeFirst(net, 24, (r) => r.metric === 7)).toBeUndefined();
    expect(t.removeFirst(net, 25, () => true)).toBeUndefined();
    expect(t.size).toBe(1);
  });
});
