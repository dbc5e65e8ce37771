import { describe, expect, it } from 'vitest';
import { isKnetError } from '../errors/knet-error.js';
import { formatIpv4, parseIpv4 } from '../ip/ipv4.js';
import { formatIpamReservation } from './ipam-store.js';
import { MemoryIpamStore } from './memory-ipam-store.js';

const ip = parseIpv4;

describe('formatIpamReservation', () => {
  it.each([
    ['c1', 'eth0', 'c1\r\neth0'],
    ['  c1 \n', 'eth0', 'c1\r\neth0'],
    ['c1', 'net1', 'c1\r\nnet1'],
  ])('(%j, %s) → %j', (id, ifname, want) => {
    expect(formatIpamReservation(id, ifname)).toBe(want);
  });
});

describe('MemoryIpamStore', () => {
  it('writes what the disk backend writes: one file per IP and last_reserved_ip.N', () => {
    const s = new MemoryIpamStore();
    expect(s.reserve('c1', 'eth0', ip('10.244.1.2'), 0)).toBe(true);
    expect(s.reserve('c2', 'eth0', ip('10.244.1.10'), 0)).toBe(true);
    expect(s.reserve('c3', 'eth0', ip('10.244.1.2'), 0)).toBe(false);
    expect(s.files()).toEqual({
      '10.244.1.10': 'c2\r\neth0',
      '10.244.1.2': 'c1\r\neth0',
      'last_reserved_ip.0': '10.244.1.10',
    });
    expect(Object.keys(s.files())).toEqual(['10.244.1.10', '10.244.1.2', 'last_reserved_ip.0']);
    expect(s.size).toBe(2);
  });

  it('keeps one last_reserved_ip per range set index', () => {
    const s = new MemoryIpamStore();
    s.reserve('c1', 'eth0', ip('10.0.0.2'), 0);
    s.reserve('c1', 'eth0', ip('10.1.0.2'), 1);
    expect(s.lastReservedIP(0)).toBe(ip('10.0.0.2'));
    expect(s.lastReservedIP(1)).toBe(ip('10.1.0.2'));
    expect(s.lastReservedIP(2)).toBeUndefined();
  });

  it('a failed reservation does not move last_reserved_ip', () => {
    const s = new MemoryIpamStore();
    s.reserve('c1', 'eth0', ip('10.0.0.5'), 0);
    s.reserve('c2', 'eth0', ip('10.0.0.6'), 0);
    expect(s.reserve('c3', 'eth0', ip('10.0.0.5'), 0)).toBe(false);
    expect(s.lastReservedIP(0)).toBe(ip('10.0.0.6'));
  });

  it('release keeps last_reserved_ip (round-robin survives DEL)', () => {
    const s = new MemoryIpamStore();
    s.reserve('c1', 'eth0', ip('10.0.0.5'), 0);
    s.releaseByID('c1', 'eth0');
    expect(s.files()).toEqual({ 'last_reserved_ip.0': '10.0.0.5' });
  });

  it.each<[string, Record<string, string>, string, string, string[], boolean, string[]]>([
    // [case, files, id, ifname, getByID, findByID, files left after releaseByID]
    ['exact match', { '10.0.0.2': 'c1\r\neth0', '10.0.0.3': 'c2\r\neth0' }, 'c1', 'eth0', ['10.0.0.2'], true, ['10.0.0.3']],
    ['other ifname of the same id', { '10.0.0.2': 'c1\r\nnet1' }, 'c1', 'eth0', [], false, ['10.0.0.2']],
    ['legacy id-only file', { '10.0.0.2': 'c1', '10.0.0.3': 'c2' }, 'c1', 'eth0', ['10.0.0.2'], true, ['10.0.0.3']],
    ['whitespace around the content', { '10.0.0.2': '  c1\r\neth0\n' }, 'c1', 'eth0', ['10.0.0.2'], true, []],
    // The exact form wins: the legacy file of the same id stays when an exact one was released.
    ['exact before legacy', { '10.0.0.2': 'c1\r\neth0', '10.0.0.3': 'c1' }, 'c1', 'eth0', ['10.0.0.2', '10.0.0.3'], true, ['10.0.0.3']],
    ['walk order is lexical', { '10.0.0.10': 'c1\r\neth0', '10.0.0.9': 'c1\r\neth0' }, 'c1', 'eth0', ['10.0.0.10', '10.0.0.9'], true, []],
    ['nothing held', {}, 'c1', 'eth0', [], false, []],
  ])('%s', (_name, files, id, ifname, byId, found, left) => {
    const s = new MemoryIpamStore(files);
    expect(s.getByID(id, ifname).map(formatIpv4)).toEqual(byId);
    expect(s.findByID(id, ifname)).toBe(found);
    s.releaseByID(id, ifname);
    expect(Object.keys(s.files()).filter((k) => !k.startsWith('last_'))).toEqual(left);
  });

  it('reads last_reserved_ip.N from the initial files and ignores the lock file', () => {
    const s = new MemoryIpamStore({ 'last_reserved_ip.0': '10.0.0.7', lock: '' });
    expect(s.lastReservedIP(0)).toBe(ip('10.0.0.7'));
    expect(s.size).toBe(0);
  });

  it('refuses a garbled last_reserved_ip file', () => {
    expect(() => new MemoryIpamStore({ 'last_reserved_ip.0': 'nope' })).toThrow('invalid last_reserved_ip.0: "nope"');
  });

  it('lock is exclusive: a second lock while held is EBUSY', () => {
    const s = new MemoryIpamStore();
    s.lock();
    let err: unknown;
    try {
      s.lock();
    } catch (e) {
      err = e;
    }
    expect(isKnetError(err, 'EBUSY')).toBe(true);
    s.unlock();
    expect(() => s.lock()).not.toThrow();
  });
});
