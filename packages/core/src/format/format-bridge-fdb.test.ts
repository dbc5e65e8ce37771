import { describe, expect, it } from 'vitest';
import type { FdbInfo } from '../host/types.js';
import { fdbFromFixture, readFixture } from '../../test/fixtures/iproute2/iproute2-records.js';
import { formatBridgeFdb } from './format-bridge-fdb.js';

describe('formatBridgeFdb', () => {
  it.each([
    ['node', 'node.fdb.txt', false],
    ['node', 'node.fdb.json', true],
    ['pod', 'pod.fdb.txt', false],
    ['pod', 'pod.fdb.json', true],
  ] as const)('reproduces `bridge -n knet-fmt-%s fdb show` (%s) byte for byte', (ns, fixture, json) => {
    expect(formatBridgeFdb(fdbFromFixture(`${ns}.fdb.json`), { json })).toBe(readFixture(fixture));
  });

  it.each([
    [
      'a learned entry ends in a space (empty state)',
      { mac: '0a:58:0a:f4:01:02', dev: 'veth1234abcd', master: 'cbr0', state: 'learned', self: false },
      '0a:58:0a:f4:01:02 dev veth1234abcd master cbr0 \n',
    ],
    [
      // bridge/fdb.c print_fdb: "vlan %hu " after dst, before the flags.
      'a VLAN entry on a VLAN-filtering bridge',
      { mac: '0a:58:0a:f4:01:01', dev: 'veth1234abcd', vlan: 1, master: 'cbr0', state: 'permanent', self: false },
      '0a:58:0a:f4:01:01 dev veth1234abcd vlan 1 master cbr0 permanent\n',
    ],
    [
      'a vxlan default (all-zero) entry',
      { mac: '00:00:00:00:00:00', dev: 'vxlan.calico', dst: '172.18.0.3', state: 'permanent', self: true },
      '00:00:00:00:00:00 dev vxlan.calico dst 172.18.0.3 self permanent\n',
    ],
  ] as const)('%s', (_name, entry: FdbInfo, expected) => {
    expect(formatBridgeFdb([entry])).toBe(expected);
  });

  it('prints an empty JSON array for no entries', () => {
    expect(formatBridgeFdb([], { json: true })).toBe('[]\n');
  });
});
