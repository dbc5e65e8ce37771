import { describe, expect, it } from 'vitest';
import type { LinkInfo } from '../host/types.js';
import { SeededRng } from '../util/seeded-rng.js';
import {
  linksFromFixture,
  netnsIdsFromFixture,
  readFixture,
} from '../../test/fixtures/iproute2/iproute2-records.js';
import { formatIpLink } from './format-ip-link.js';

/** A deterministic shuffle: the formatter must restore the kernel's ifindex order itself. */
function shuffled<T>(items: readonly T[], seed: string): T[] {
  const rng = new SeededRng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.nextFloat() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function links(ns: 'node' | 'pod'): LinkInfo[] {
  return shuffled(linksFromFixture(`${ns}.link-details.json`, `${ns}.netns-ids.txt`), ns);
}

const base: LinkInfo = {
  ifindex: 5,
  name: 'kube-ipvs0',
  kind: 'dummy',
  mac: '1a:ce:f5:5f:c1:4d',
  mtu: 1500,
  up: false,
  operstate: 'DOWN',
  lowerUp: false,
  promisc: false,
  noarp: true,
  txqlen: 1000,
};

describe('formatIpLink', () => {
  it.each([
    ['node', 'node.link.txt', false],
    ['node', 'node.link.json', true],
    ['pod', 'pod.link.txt', false],
    ['pod', 'pod.link.json', true],
  ] as const)('reproduces `ip -n knet-fmt-%s link` (%s) byte for byte', (ns, fixture, json) => {
    expect(formatIpLink(links(ns), { json })).toBe(readFixture(fixture));
  });

  it.each(['node', 'pod'] as const)('uses the given nsids for link_netnsid (%s)', (ns) => {
    const netnsIds = netnsIdsFromFixture(`${ns}.netns-ids.txt`);
    expect(formatIpLink(links(ns), { json: true, netnsIds })).toBe(readFixture(`${ns}.link.json`));
  });

  it('derives veth, tun and bridge flags from the records, not from a copy of them', () => {
    const out = formatIpLink(links('node'));
    expect(out).toContain('8: vethwe-bridge@vethwe-datapath: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1376');
    expect(out).toContain('10: tun0: <NO-CARRIER,POINTOPOINT,MULTICAST,NOARP,UP> mtu 1500 qdisc pfifo_fast state DOWN');
    expect(out).toContain('    link/none \n');
  });

  it.each([
    [
      // dummy_setup(): NOARP, no MULTICAST; qdisc noop while down (kube-proxy IPVS mode's kube-ipvs0).
      'a down dummy (kube-ipvs0)',
      base,
      {},
      '5: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n' +
        '    link/ether 1a:ce:f5:5f:c1:4d brd ff:ff:ff:ff:ff:ff\n',
    ],
    [
      'an up dummy gets noqueue (IFF_NO_QUEUE)',
      { ...base, up: true, lowerUp: true, operstate: 'UNKNOWN' },
      {},
      '5: kube-ipvs0: <BROADCAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n' +
        '    link/ether 1a:ce:f5:5f:c1:4d brd ff:ff:ff:ff:ff:ff\n',
    ],
    [
      'a veth with txqlen 0 (older kernels) prints no qlen and keeps the space after group',
      {
        ...base,
        name: 'veth1a2b3c4d',
        kind: 'veth',
        noarp: false,
        up: true,
        lowerUp: true,
        operstate: 'UP',
        master: 'cbr0',
        txqlen: 0,
        peer: { ifindex: 2, netns: 'knet-lab-pod' },
      },
      {},
      '5: veth1a2b3c4d@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master cbr0 state UP mode DEFAULT group default \n' +
        '    link/ether 1a:ce:f5:5f:c1:4d brd ff:ff:ff:ff:ff:ff link-netns knet-lab-pod\n',
    ],
    [
      'an up tun uses the configured default qdisc',
      { ...base, name: 'tun0', kind: 'tun', tunMode: 'tun', up: true, lowerUp: true, operstate: 'UNKNOWN', txqlen: 500 },
      { defaultQdisc: 'fq_codel' },
      '5: tun0: <POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UNKNOWN mode DEFAULT group default qlen 500\n' +
        '    link/none \n',
    ],
    [
      'a same-namespace peer missing from the list prints as ll_index_to_name does',
      { ...base, name: 'veth0', kind: 'veth', noarp: false, peer: { ifindex: 9 } },
      {},
      '5: veth0@if9: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n' +
        '    link/ether 1a:ce:f5:5f:c1:4d brd ff:ff:ff:ff:ff:ff\n',
    ],
  ] as const)('%s', (_name, link, options, expected) => {
    expect(formatIpLink([link], options)).toBe(expected);
  });

  it('allocates the lowest free nsid for peer namespaces it is not told about', () => {
    const a = { ...base, ifindex: 3, name: 'veth-a', kind: 'veth', noarp: false, peer: { ifindex: 2, netns: 'knet-x' } } as const;
    const b = { ...a, ifindex: 4, name: 'veth-b', peer: { ifindex: 2, netns: 'knet-y' } } as const;
    const parsed = JSON.parse(formatIpLink([b, a], { json: true, netnsIds: new Map([['knet-y', 0]]) })) as {
      link_netnsid: number;
    }[];
    expect(parsed.map((l) => l.link_netnsid)).toEqual([1, 0]);
  });
});
