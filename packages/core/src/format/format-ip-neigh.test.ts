import { describe, expect, it } from 'vitest';
import type { NeighInfo } from '../host/types.js';
import { neighsFromFixture, readFixture } from '../../test/fixtures/iproute2/iproute2-records.js';
import { formatIpNeigh } from './format-ip-neigh.js';

describe('formatIpNeigh', () => {
  it.each([
    ['node', 'node.neigh.txt', {}],
    ['node', 'node.neigh.json', { json: true }],
    ['node', 'node.neigh-all.txt', { all: true }],
    ['node', 'node.neigh-all.json', { all: true, json: true }],
    ['pod', 'pod.neigh.txt', {}],
    ['pod', 'pod.neigh.json', { json: true }],
    ['pod', 'pod.neigh-all.txt', { all: true }],
    ['pod', 'pod.neigh-all.json', { all: true, json: true }],
  ] as const)('reproduces knet-fmt-%s %s byte for byte from every entry (nud all)', (ns, fixture, options) => {
    // The records are the full table; plain `ip neigh` must hide the NOARP entries itself.
    expect(formatIpNeigh(neighsFromFixture(`${ns}.neigh-all.json`), options)).toBe(readFixture(fixture));
  });

  it.each([
    [
      'INCOMPLETE and FAILED entries never print a link-layer address (not NUD_VALID)',
      { dst: '10.244.1.9', dev: 'cbr0', lladdr: '0a:58:0a:f4:01:09', state: 'FAILED', router: false },
      '10.244.1.9 dev cbr0 FAILED \n',
    ],
    [
      'a router entry',
      { dst: '172.18.0.1', dev: 'eth0', lladdr: '02:42:ac:12:00:01', state: 'STALE', router: true },
      '172.18.0.1 dev eth0 lladdr 02:42:ac:12:00:01 router STALE \n',
    ],
  ] as const)('%s', (_name, neigh: NeighInfo, expected) => {
    expect(formatIpNeigh([neigh])).toBe(expected);
  });

  it('prints an empty JSON array for no entries', () => {
    expect(formatIpNeigh([], { json: true })).toBe('[]\n');
  });
});
