import { describe, expect, it } from 'vitest';
import { SimNetns } from '../sim-netns.js';
import { SimLink } from './sim-link.js';

function veth(ns: SimNetns, ifindex: number, name: string): SimLink {
  const l = new SimLink({ ifindex, name, kind: 'veth', mac: '02:00:00:00:00:01', mtu: 1500, netns: ns });
  ns.byIndex.set(ifindex, l);
  ns.links.set(name, l);
  return l;
}

describe('SimLink', () => {
  it('starts UNKNOWN and reports DOWN while not running (rtnl_fill_ifinfo)', () => {
    const l = new SimLink({ ifindex: 1, name: 'lo', kind: 'loopback', mac: '00:00:00:00:00:00', mtu: 65536, netns: new SimNetns('knet-t', { role: 'node' }) });
    expect([l.operState, l.operstate]).toEqual(['UNKNOWN', 'DOWN']);
    l.up = true;
    expect([l.operstate, l.carrier]).toEqual(['UNKNOWN', true]);
  });

  // default_operstate: without carrier, the device with the iflink (a veth's peer ifindex) in
  // the device's own namespace decides between LOWERLAYERDOWN and DOWN.
  it.each([
    ['the same-namespace peer is down', 'down', 'LOWERLAYERDOWN'],
    ['the device at the peer index here is up', 'up', 'DOWN'],
    ['no device has the peer index here', 'none', 'DOWN'],
  ] as const)('linkwatch without carrier: %s → %s', (_name, local, want) => {
    const a = new SimNetns('knet-a', { role: 'node' });
    const b = new SimNetns('knet-b', { role: 'pod' });
    const va = veth(a, 4, 'va');
    const vb = veth(b, 2, 'vb');
    va.peer = vb;
    vb.peer = va;
    if (local !== 'none') {
      const other = veth(a, 2, 'x1p');
      other.operState = local === 'down' ? 'DOWN' : 'UP';
    }
    va.up = true;
    va.linkwatch();
    expect(va.operstate).toBe(want);
    vb.up = true;
    va.linkwatch();
    expect([va.operstate, va.carrier]).toEqual(['UP', true]);
  });

  it.each([
    ['tun', 500],
    ['tap', 1000],
  ] as const)('a %s device has qlen %d', (mode, qlen) => {
    const l = new SimLink({ ifindex: 2, name: 'tun0', kind: 'tun', mac: '00:00:00:00:00:00', mtu: 1500, netns: new SimNetns('knet-t', { role: 'node' }) });
    l.tunMode = mode;
    expect(l.txqlen).toBe(qlen);
  });
});
