import { describe, expect, it } from 'vitest';
import { isKnetError } from '../../errors/knet-error.js';
import { linksFromFixture } from '../../../test/fixtures/iproute2/iproute2-records.js';
import { readIproute2Fixture, readLinuxFixture } from './__fixtures__/read-fixture.js';
import { parseIpLinkJson, parseNetnsIdJson } from './parse-ip-link-json.js';
import { splitJsonValues } from './split-json-values.js';

function batch(name: string): ReturnType<typeof parseIpLinkJson> {
  const [links, ids] = splitJsonValues(readLinuxFixture(name));
  return parseIpLinkJson(links, parseNetnsIdJson(ids));
}

describe('parseIpLinkJson', () => {
  const node = batch('node.link-batch.json');
  const byName = new Map(node.map((l) => [l.name, l]));

  it('reads every device of `ip -d -j link show` in ifindex order', () => {
    expect(node.map((l) => [l.ifindex, l.name, l.kind])).toEqual([
      [1, 'lo', 'loopback'],
      [2, 'cbr0', 'bridge'],
      [3, 'veth0a1b2c3d', 'veth'],
      [4, 'vxlan0', 'vxlan'],
      [5, 'tap0', 'tun'],
    ]);
  });

  it.each([
    ['lo', { up: true, lowerUp: true, operstate: 'UNKNOWN', mtu: 65536, mac: '00:00:00:00:00:00', txqlen: 1000 }],
    ['cbr0', { up: true, lowerUp: true, operstate: 'UP', mtu: 1450, mac: '0a:58:0a:f4:01:01', ageingTime: 120 }],
    ['vxlan0', { up: true, operstate: 'UNKNOWN', mtu: 1400, vxlan: { id: 42, local: '10.244.1.1', dev: 'cbr0', port: 4789, learning: false } }],
    ['tap0', { up: false, lowerUp: false, operstate: 'DOWN', tunMode: 'tap', noarp: false }],
  ])('%s', (name, expected) => {
    expect(byName.get(name)).toMatchObject(expected);
  });

  it('resolves a veth peer in another namespace through `ip netns list-id`', () => {
    expect(byName.get('veth0a1b2c3d')).toMatchObject({
      master: 'cbr0',
      peer: { ifindex: 2, netns: 'knet-lhfx-pod' },
      bridgePort: { hairpin: true, learning: true, flood: true, isolated: false },
      promisc: false,
    });
    const pod = batch('pod.link-batch.json');
    expect(pod.find((l) => l.name === 'eth0')).toMatchObject({ kind: 'veth', mtu: 1450, peer: { ifindex: 3, netns: 'knet-lhfx-node' } });
  });

  it('agrees with the iproute2 formatter fixtures (veth in the same namespace, tun without carrier)', () => {
    for (const tag of ['node', 'pod']) {
      const raw = JSON.parse(readIproute2Fixture(`${tag}.link-details.json`)) as unknown;
      const ids = new Map<number, string>();
      for (const line of readIproute2Fixture(`${tag}.netns-ids.txt`).split('\n')) {
        const m = /^nsid (\d+) \(iproute2 netns name: (\S+)\)$/.exec(line);
        if (m !== null) ids.set(Number(m[1]), m[2]!);
      }
      expect(parseIpLinkJson(raw, ids)).toEqual(linksFromFixture(`${tag}.link-details.json`, `${tag}.netns-ids.txt`));
    }
    const links = parseIpLinkJson(JSON.parse(readIproute2Fixture('node.link-details.json')), new Map([[0, 'a'], [1, 'b'], [2, 'c']]));
    expect(links.find((l) => l.name === 'vethwe-bridge')?.peer).toEqual({ ifindex: links.find((l) => l.name === 'vethwe-datapath')!.ifindex });
    expect(links.find((l) => l.name === 'tun0')).toMatchObject({ kind: 'tun', tunMode: 'tun', noarp: true, lowerUp: false, txqlen: 500 });
  });

  it('refuses a veth peer in a namespace without a name', () => {
    const [links] = splitJsonValues(readLinuxFixture('node.link-batch.json'));
    let err: unknown;
    try {
      parseIpLinkJson(links);
    } catch (e) {
      err = e;
    }
    expect(isKnetError(err, 'EIO')).toBe(true);
  });

  it.each([['not an array', {}], ['a record without ifindex', [{ ifname: 'x', mtu: 1 }]]])('rejects %s with EPARSE', (_, json) => {
    expect(() => parseIpLinkJson(json)).toThrow(expect.objectContaining({ code: 'EPARSE' }));
  });
});

describe('parseNetnsIdJson', () => {
  it('maps ids to names', () => {
    expect([...parseNetnsIdJson([{ nsid: 0, name: 'knet-a' }, { nsid: 3, name: 'knet-b' }])]).toEqual([
      [0, 'knet-a'],
      [3, 'knet-b'],
    ]);
  });
});
