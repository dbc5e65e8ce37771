import { describe, expect, it } from 'vitest';
import { fdbFromFixture } from '../../../test/fixtures/iproute2/iproute2-records.js';
import { readIproute2Fixture, readLinuxFixture } from './__fixtures__/read-fixture.js';
import { parseBridgeFdbJson } from './parse-bridge-fdb-json.js';

describe('parseBridgeFdbJson', () => {
  it('reads `bridge -s -j fdb show`: self multicast entries, local, learned and static bridge entries, vxlan remotes', () => {
    expect(parseBridgeFdbJson(JSON.parse(readLinuxFixture('node.fdb-stats.json')))).toEqual([
      { mac: '33:33:00:00:00:01', dev: 'cbr0', state: 'permanent', self: true },
      { mac: '01:00:5e:00:00:6a', dev: 'cbr0', state: 'permanent', self: true },
      { mac: '33:33:00:00:00:6a', dev: 'cbr0', state: 'permanent', self: true },
      { mac: '01:00:5e:00:00:01', dev: 'cbr0', state: 'permanent', self: true },
      { mac: '0a:58:0a:f4:01:01', dev: 'cbr0', master: 'cbr0', state: 'permanent', self: false },
      { mac: '0a:58:0a:f4:01:02', dev: 'veth0a1b2c3d', master: 'cbr0', state: 'learned', self: false, updated: 0 },
      { mac: '0a:58:0a:f4:01:63', dev: 'veth0a1b2c3d', master: 'cbr0', state: 'static', self: false },
      { mac: '9e:3a:51:7c:20:01', dev: 'veth0a1b2c3d', master: 'cbr0', state: 'permanent', self: false },
      { mac: '33:33:00:00:00:01', dev: 'veth0a1b2c3d', state: 'permanent', self: true },
      { mac: '01:00:5e:00:00:01', dev: 'veth0a1b2c3d', state: 'permanent', self: true },
      { mac: '00:00:00:00:00:00', dev: 'vxlan0', dst: '172.18.0.3', state: 'permanent', self: true },
      { mac: '00:00:00:00:00:00', dev: 'vxlan0', dst: '172.18.0.4', state: 'permanent', self: true },
      { mac: '33:33:00:00:00:01', dev: 'tap0', state: 'permanent', self: true },
    ]);
  });

  it('agrees with the formatter fixtures', () => {
    for (const f of ['node.fdb.json', 'pod.fdb.json']) {
      expect(parseBridgeFdbJson(JSON.parse(readIproute2Fixture(f)))).toEqual(fdbFromFixture(f));
    }
  });
});
