import { describe, expect, it } from 'vitest';
import { isKnetError } from '../errors/knet-error.js';
import { hostLocalAdd, hostLocalCheck, hostLocalDel } from './host-local.js';
import { parseHostLocalConf } from './host-local-conf.js';
import type { HostLocalNetConf } from './host-local-conf.js';
import { MemoryIpamStore } from './memory-ipam-store.js';

function failure(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isKnetError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a KnetError');
}

const kubenet: HostLocalNetConf = {
  name: 'kubenet',
  cniVersion: '0.1.0',
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }]], routes: [{ dst: '0.0.0.0/0' }] },
};

const dual: HostLocalNetConf = {
  name: 'two',
  cniVersion: '1.0.0',
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/30' }], [{ subnet: '10.1.0.0/29' }]] },
};

describe('hostLocalAdd', () => {
  it('returns the abbreviated IPAM result with the configured routes', () => {
    const store = new MemoryIpamStore();
    const r = hostLocalAdd(parseHostLocalConf(kubenet), store, { containerId: 'c1', ifname: 'eth0' });
    expect(r).toEqual({
      cniVersion: '0.1.0',
      ips: [{ address: '10.244.1.2/24', gateway: '10.244.1.1', ip: 0x0af40102, prefixlen: 24, gatewayIP: 0x0af40101 }],
      routes: [{ dst: '0.0.0.0/0' }],
    });
    expect(store.files()).toEqual({ '10.244.1.2': 'c1\r\neth0', 'last_reserved_ip.0': '10.244.1.2' });
  });

  it('returns one address per range set, each with its own last_reserved_ip.N', () => {
    const store = new MemoryIpamStore();
    const r = hostLocalAdd(parseHostLocalConf(dual), store, { containerId: 'c1', ifname: 'eth0' });
    expect(r.ips.map((i) => i.address)).toEqual(['10.0.0.2/30', '10.1.0.2/29']);
    expect(store.files()).toEqual({
      '10.0.0.2': 'c1\r\neth0',
      '10.1.0.2': 'c1\r\neth0',
      'last_reserved_ip.0': '10.0.0.2',
      'last_reserved_ip.1': '10.1.0.2',
    });
  });

  it('wraps exhaustion as "failed to allocate for range N" and rolls back earlier sets', () => {
    const store = new MemoryIpamStore({ '10.1.0.2': 'x', '10.1.0.3': 'x', '10.1.0.4': 'x', '10.1.0.5': 'x', '10.1.0.6': 'x' });
    expect(failure(() => hostLocalAdd(parseHostLocalConf(dual), store, { containerId: 'c1', ifname: 'eth0' }))).toEqual({
      code: 'ENOSPC',
      message: 'failed to allocate for range 1: no IP addresses available in range set: 10.1.0.1-10.1.0.6',
    });
    expect(store.getByID('c1', 'eth0')).toEqual([]);
  });

  it('gives the exact kubenet exhaustion text on a full /24', () => {
    const conf = parseHostLocalConf(kubenet);
    const store = new MemoryIpamStore();
    for (let i = 0; i < 253; i++) hostLocalAdd(conf, store, { containerId: `c${i}`, ifname: 'eth0' });
    expect(failure(() => hostLocalAdd(conf, store, { containerId: 'c253', ifname: 'eth0' })).message).toBe(
      'failed to allocate for range 0: no IP addresses available in range set: 10.244.1.1-10.244.1.254',
    );
  });

  it.each<[string, string, string, string]>([
    ['a free IP', '10.244.1.77', 'ok', '10.244.1.77/24'],
    ['the gateway', '10.244.1.1', 'EINVAL', "failed to allocate for range 0: requested ip 10.244.1.1 is subnet's gateway"],
    ['an IP outside every set', '10.244.2.7', 'EINVAL', 'failed to allocate all requested IPs: 10.244.2.7'],
  ])('honours a requested IP: %s', (_name, ip, code, want) => {
    const store = new MemoryIpamStore();
    const conf = parseHostLocalConf(kubenet, { cniArgsIP: ip });
    if (code === 'ok') {
      expect(hostLocalAdd(conf, store, { containerId: 'c1', ifname: 'eth0' }).ips[0]?.address).toBe(want);
    } else {
      expect(failure(() => hostLocalAdd(conf, store, { containerId: 'c1', ifname: 'eth0' }))).toEqual({ code, message: want });
      // Nothing stays reserved after a failed ADD.
      expect(store.size).toBe(0);
    }
  });
});

describe('hostLocalDel', () => {
  it('releases by (id, ifname) and is idempotent', () => {
    const conf = parseHostLocalConf(kubenet);
    const store = new MemoryIpamStore();
    hostLocalAdd(conf, store, { containerId: 'c1', ifname: 'eth0' });
    hostLocalAdd(conf, store, { containerId: 'c2', ifname: 'eth0' });
    hostLocalDel(conf, store, { containerId: 'c1', ifname: 'eth0' });
    hostLocalDel(conf, store, { containerId: 'c1', ifname: 'eth0' });
    expect(store.files()).toEqual({ '10.244.1.3': 'c2\r\neth0', 'last_reserved_ip.0': '10.244.1.3' });
  });

  it('falls back to the legacy id-only reservation', () => {
    const store = new MemoryIpamStore({ '10.244.1.9': 'c1' });
    hostLocalDel(parseHostLocalConf(kubenet), store, { containerId: 'c1', ifname: 'eth0' });
    expect(store.size).toBe(0);
  });
});

describe('hostLocalCheck', () => {
  it.each<[string, Record<string, string>, boolean]>([
    ['exact reservation', { '10.244.1.2': 'c1\r\neth0' }, true],
    ['legacy reservation', { '10.244.1.2': 'c1' }, true],
    ['another container only', { '10.244.1.2': 'c2\r\neth0' }, false],
  ])('%s', (_name, files, ok) => {
    const run = (): void => hostLocalCheck(parseHostLocalConf(kubenet), new MemoryIpamStore(files), { containerId: 'c1', ifname: 'eth0' });
    if (ok) expect(run).not.toThrow();
    else expect(failure(run)).toEqual({ code: 'ENOENT', message: 'host-local: Failed to find address added by container c1' });
  });
});
