import { describe, expect, it } from 'vitest';
import { neighsFromFixture } from '../../../test/fixtures/iproute2/iproute2-records.js';
import { readIproute2Fixture, readLinuxFixture } from './__fixtures__/read-fixture.js';
import { parseIpNeighJson } from './parse-ip-neigh-json.js';

describe('parseIpNeighJson', () => {
  it('reads `ip -4 -j neigh show nud all`, NOARP multicast entries included', () => {
    expect(parseIpNeighJson(JSON.parse(readLinuxFixture('node.neigh.json')))).toEqual([
      { dst: '10.244.1.2', dev: 'cbr0', lladdr: '0a:58:0a:f4:01:02', state: 'DELAY', router: false },
      { dst: '10.244.1.8', dev: 'cbr0', lladdr: '0a:58:0a:f4:01:08', state: 'STALE', router: true },
      { dst: '224.0.0.22', dev: 'cbr0', lladdr: '01:00:5e:00:00:16', state: 'NOARP', router: false },
      { dst: '10.244.1.7', dev: 'cbr0', lladdr: '0a:58:0a:f4:01:07', state: 'PERMANENT', router: false },
      { dst: '10.244.1.9', dev: 'cbr0', state: 'INCOMPLETE', router: false },
    ]);
  });

  it('agrees with the formatter fixtures', () => {
    for (const f of ['node.neigh-all.json', 'pod.neigh-all.json']) {
      expect(parseIpNeighJson(JSON.parse(readIproute2Fixture(f)))).toEqual(neighsFromFixture(f));
    }
  });

  it.each([
    ['NUD_NONE entries (no state, left by a failed update)', [{ dst: '10.1.0.20', dev: 'br0' }]],
    ['IPv6 neighbours', [{ dst: 'ff02::2', dev: 'br0', lladdr: '33:33:00:00:00:02', state: ['NOARP'] }]],
  ])('leaves out %s', (_, json) => {
    expect(parseIpNeighJson(json)).toEqual([]);
  });
});
