import { describe, expect, it } from 'vitest';
import { addrsFromFixture } from '../../../test/fixtures/iproute2/iproute2-records.js';
import { readIproute2Fixture, readLinuxFixture } from './__fixtures__/read-fixture.js';
import { parseIpAddrJson } from './parse-ip-addr-json.js';

describe('parseIpAddrJson', () => {
  it('reads `ip -4 -j addr show`', () => {
    expect(parseIpAddrJson(JSON.parse(readLinuxFixture('node.addr.json')))).toEqual([
      { ifindex: 1, dev: 'lo', family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host', label: 'lo' },
      { ifindex: 2, dev: 'cbr0', family: 'inet', local: '10.244.1.1', prefixlen: 24, broadcast: '10.244.1.255', scope: 'global', label: 'cbr0' },
    ]);
  });

  it('leaves IPv6 addresses out', () => {
    expect(parseIpAddrJson(JSON.parse(readLinuxFixture('v6.addr.json')))).toEqual([
      { ifindex: 1, dev: 'lo', family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host', label: 'lo' },
      { ifindex: 3, dev: 'eth0', family: 'inet', local: '172.18.0.9', prefixlen: 16, scope: 'global', label: 'eth0' },
    ]);
    expect(readLinuxFixture('v6.addr.json')).toContain('"family":"inet6"');
  });

  it('agrees with the formatter fixtures (secondary addresses with labels)', () => {
    for (const f of ['node.addr.json', 'pod.addr.json']) {
      expect(parseIpAddrJson(JSON.parse(readIproute2Fixture(f)))).toEqual(addrsFromFixture(f));
    }
  });
});
