import { describe, expect, it } from 'vitest';
import type { FdbOptions, LinkAddOptions, LinkSetOptions, RouteOptions } from '../host.js';
import { addrArgs, fdbArgs, linkAddArgs, linkSetArgs, neighDelArgs, neighReplaceArgs, routeArgs } from './iproute2-commands.js';

describe('linkAddArgs', () => {
  it.each<[string, LinkAddOptions, string[]]>([
    [
      'a veth whose peer is created in another namespace, both ends with the MTU',
      { kind: 'veth', name: 'eth0', mtu: 1450, peer: { name: 'veth0a1b2c3d', netns: 'knet-x-node-a' } },
      ['link add name eth0 mtu 1450 type veth peer name veth0a1b2c3d mtu 1450 netns knet-x-node-a'],
    ],
    [
      'a veth with MACs',
      { kind: 'veth', name: 'a', mac: '02:00:00:00:00:0A', peer: { name: 'b', mac: '02:00:00:00:00:0b' } },
      ['link add name a address 02:00:00:00:00:0a type veth peer name b address 02:00:00:00:00:0b'],
    ],
    ['a bridge with its ageing time in centiseconds', { kind: 'bridge', name: 'cbr0', mtu: 1460, ageingTime: 300 }, ['link add name cbr0 mtu 1460 type bridge ageing_time 30000']],
    [
      'a vxlan device',
      { kind: 'vxlan', name: 'flannel.1', id: 1, local: '172.18.0.2', dev: 'eth0', learning: false },
      ['link add name flannel.1 type vxlan id 1 local 172.18.0.2 dev eth0 dstport 8472 nolearning'],
    ],
    ['a dummy', { kind: 'dummy', name: 'kube-ipvs0' }, ['link add name kube-ipvs0 type dummy']],
    ['a tun device with an MTU', { kind: 'tun', name: 'flannel0', mtu: 1472 }, ['tuntap add dev flannel0 mode tun', 'link set dev flannel0 mtu 1472']],
    ['a tap device', { kind: 'tun', name: 'tap0', mode: 'tap' }, ['tuntap add dev tap0 mode tap']],
    ['a bridge named like an iproute2 keyword', { kind: 'bridge', name: 'brd' }, ['link add name brd type bridge']],
  ])('%s', (_, o, expected) => {
    expect(linkAddArgs(o).map((l) => l.join(' '))).toEqual(expected);
  });

  it.each<[string, LinkAddOptions, string]>([
    ['a name longer than 15 characters', { kind: 'bridge', name: 'a-very-long-bridge' }, 'EINVAL'],
    ['a name with a space', { kind: 'bridge', name: 'br 0' }, 'EINVAL'],
    ['a vxlan id over 2^24-1', { kind: 'vxlan', name: 'vx', id: 0x1000000 }, 'EINVAL'],
    ['a bad MAC', { kind: 'bridge', name: 'br0', mac: '02:00' }, 'EINVAL'],
    ['a physical device', { kind: 'device', name: 'eth0' }, 'EOPNOTSUPP'],
  ])('refuses %s', (_, o, code) => {
    expect(() => linkAddArgs(o)).toThrow(expect.objectContaining({ code }));
  });
});

describe('linkSetArgs', () => {
  it.each<[string, LinkSetOptions, string[]]>([
    [
      'every option, in SimHost order, the rename first',
      { up: true, promisc: true, hairpin: true, learning: false, isolated: true, master: 'cbr0', mac: '0a:58:0a:f4:01:01', mtu: 1400, name: 'eth1' },
      [
        'link set dev eth0 name eth1',
        'link set dev eth1 mtu 1400',
        'link set dev eth1 address 0a:58:0a:f4:01:01',
        'link set dev eth1 master cbr0',
        'link set dev eth1 type bridge_slave hairpin on learning off isolated on',
        'link set dev eth1 promisc on',
        'link set dev eth1 up',
      ],
    ],
    ['nomaster and down', { master: null, up: false }, ['link set dev eth0 nomaster', 'link set dev eth0 down']],
    ['nothing', {}, []],
  ])('%s', (_, o, expected) => {
    expect(linkSetArgs('eth0', o).map((l) => l.join(' '))).toEqual(expected);
  });
});

describe('addrArgs', () => {
  it.each([
    ['add', '10.244.1.2/24', 'addr add 10.244.1.2/24 brd + dev eth0'],
    ['add', '10.244.1.0/32', 'addr add 10.244.1.0/32 brd + dev eth0'],
    ['del', '10.244.1.2/24', 'addr del 10.244.1.2/24 dev eth0'],
  ] as const)('%s %s', (verb, cidr, expected) => {
    expect(addrArgs(verb, 'eth0', cidr).join(' ')).toBe(expected);
  });

  it.each(['10.244.1.2/33', '10.244.1/24', '10.244.1.2/24 dev lo'])('refuses %s', (cidr) => {
    expect(() => addrArgs('add', 'eth0', cidr)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('routeArgs', () => {
  it.each<[string, 'add' | 'replace' | 'del', RouteOptions, string]>([
    ['a default route', 'add', { dst: 'default', via: '172.18.0.1', dev: 'eth0' }, 'route add default via 172.18.0.1 dev eth0'],
    [
      'every field',
      'add',
      { dst: '10.244.2.0/24', via: '10.244.2.0', dev: 'flannel.1', onlink: true, table: 100, proto: 'static', scope: 'global', src: '10.244.1.0', metric: 5, mtu: 1400 },
      'route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 table 100 proto static scope global src 10.244.1.0 metric 5 onlink mtu 1400',
    ],
    ['a numeric protocol', 'replace', { dst: '10.0.0.0/8', dev: 'eth0', proto: 186 }, 'route replace 10.0.0.0/8 dev eth0 proto 186'],
    ['a blackhole', 'add', { dst: '10.244.5.0/26', type: 'blackhole', proto: 'bird' }, 'route add blackhole 10.244.5.0/26 proto bird'],
    ['del keeps only what the kernel matches', 'del', { dst: '10.244.2.0/24', via: '172.18.0.3', dev: 'eth0', proto: 'static', metric: 5, onlink: true }, 'route del 10.244.2.0/24 via 172.18.0.3 dev eth0 metric 5'],
  ])('%s', (_, verb, o, expected) => {
    expect(routeArgs(verb, o).join(' ')).toBe(expected);
  });
});

describe('routeArgs checks at run time what the types promise', () => {
  it.each<[string, RouteOptions]>([
    ['a route type', { dst: '10.0.0.0/8', type: 'throw' as 'local' }],
    ['a protocol smuggling arguments', { dst: '10.0.0.0/8', dev: 'eth0', proto: 'static dev lo' as 'static' }],
    ['a scope', { dst: '10.0.0.0/8', dev: 'eth0', scope: 'universe' as 'global' }],
    ['a table name', { dst: '10.0.0.0/8', dev: 'eth0', table: 'mangle' as 'main' }],
    ['a destination', { dst: '10.0.0.0/8 dev lo' }],
  ])('refuses %s', (_, o) => {
    expect(() => routeArgs('add', o)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('neighReplaceArgs', () => {
  it.each([
    [{ dst: '10.244.2.0', dev: 'flannel.1', lladdr: '2e:65:1c:0b:00:02' }, 'neigh replace 10.244.2.0 lladdr 2e:65:1c:0b:00:02 dev flannel.1 nud permanent'],
    [{ dst: '10.244.1.9', dev: 'cbr0', state: 'INCOMPLETE' as const }, 'neigh replace 10.244.1.9 dev cbr0 nud incomplete'],
  ])('%o', (o, expected) => {
    expect(neighReplaceArgs(o).join(' ')).toBe(expected);
  });

  it('deletes by address and device', () => {
    expect(neighDelArgs('10.244.2.0', 'flannel.1').join(' ')).toBe('neigh del 10.244.2.0 dev flannel.1');
  });
});

describe('fdbArgs', () => {
  it.each<[string, 'add' | 'del', FdbOptions, string]>([
    ['a vxlan remote is appended to the device itself', 'add', { mac: '00:00:00:00:00:00', dev: 'vxlan0', dst: '172.18.0.3' }, 'fdb append 00:00:00:00:00:00 dev vxlan0 dst 172.18.0.3 self permanent'],
    ['a bridge entry is replaced in the master', 'add', { mac: '0a:58:0a:f4:01:63', dev: 'veth1', vlan: 10 }, 'fdb replace 0a:58:0a:f4:01:63 dev veth1 vlan 10 master static'],
    ['self on request', 'add', { mac: '02:00:00:00:00:01', dev: 'vxlan0', self: true }, 'fdb append 02:00:00:00:00:01 dev vxlan0 self permanent'],
    ['del of a remote', 'del', { mac: '00:00:00:00:00:00', dev: 'vxlan0', dst: '172.18.0.3' }, 'fdb del 00:00:00:00:00:00 dev vxlan0 dst 172.18.0.3 self'],
    ['del of a bridge entry', 'del', { mac: '0a:58:0a:f4:01:63', dev: 'veth1' }, 'fdb del 0a:58:0a:f4:01:63 dev veth1 master'],
  ])('%s', (_, verb, o, expected) => {
    expect(fdbArgs(verb, o).join(' ')).toBe(expected);
  });
});
