import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bundleExecutable, missingReferenceReason, referenceCniDir, runReference } from '../cni/__fixtures__/reference-cni.js';
import { isKnetError } from '../errors/knet-error.js';
import { formatIpv4, parseIpv4 } from '../ip/ipv4.js';
import { FileIpamStore, findFlockCommand, IPAM_LOCKFILE_NAME } from './file-ipam-store.js';
import { hostLocalAdd, hostLocalCheck, hostLocalDel, hostLocalGc } from './host-local.js';
import { parseHostLocalConf } from './host-local-conf.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'knet-ipam-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ip = parseIpv4;

function conf(dataDir: string, subnet = '10.244.1.0/24', cniVersion = '1.0.0') {
  return { cniVersion, name: 'kubenet', ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir } };
}

describe('FileIpamStore', () => {
  it('writes the reference layout: <ip> files with <id>\\r\\n<ifname>, last_reserved_ip.N, lock, modes 0755/0600', () => {
    const data = tmp();
    const s = new FileIpamStore('kubenet', { dataDir: data });
    expect(s.dir).toBe(join(data, 'kubenet'));
    s.lock();
    expect(s.reserve(' c1 ', 'eth0', ip('10.244.1.2'), 0)).toBe(true);
    expect(s.reserve('c2', 'eth0', ip('10.244.1.2'), 0)).toBe(false);
    expect(s.reserve('c2', 'net1', ip('10.244.1.10'), 1)).toBe(true);
    s.unlock();
    expect(s.files()).toEqual({ '10.244.1.10': 'c2\r\nnet1', '10.244.1.2': 'c1\r\neth0', 'last_reserved_ip.0': '10.244.1.2', 'last_reserved_ip.1': '10.244.1.10' });
    expect(readdirSync(s.dir).sort()).toEqual(['10.244.1.10', '10.244.1.2', 'last_reserved_ip.0', 'last_reserved_ip.1', 'lock']);
    expect(statSync(s.dir).mode & 0o777).toBe(0o755);
    expect(statSync(join(s.dir, '10.244.1.2')).mode & 0o777).toBe(0o600);
    expect(statSync(join(s.dir, 'last_reserved_ip.0')).mode & 0o777).toBe(0o600);
    expect(s.lastReservedIP(0)).toBe(ip('10.244.1.2'));
    expect(s.lastReservedIP(7)).toBeUndefined();
  });

  it('looks up and releases by (id, ifname), falling back to legacy id-only files', () => {
    const data = tmp();
    const s = new FileIpamStore('kubenet', { dataDir: data });
    writeFileSync(join(s.dir, '10.244.1.7'), 'legacy\n');
    writeFileSync(join(s.dir, '10.244.1.3'), 'c1\r\neth0');
    writeFileSync(join(s.dir, '10.244.1.4'), 'c1\r\neth1');
    expect(s.getByID('c1', 'eth0').map(formatIpv4)).toEqual(['10.244.1.3']);
    expect(s.getByID('legacy', 'eth0').map(formatIpv4)).toEqual(['10.244.1.7']);
    expect(s.findByID('legacy', 'eth9')).toBe(true);
    expect(s.findByID('c9', 'eth0')).toBe(false);
    s.releaseByID('c1', 'eth0');
    expect(Object.keys(s.files())).toEqual(['10.244.1.4', '10.244.1.7']);
    s.releaseByID('legacy', 'eth0');
    expect(Object.keys(s.files())).toEqual(['10.244.1.4']);
    expect(s.list()).toEqual([{ ip: ip('10.244.1.4'), owner: 'c1\r\neth1' }]);
  });

  it('takes no round-robin hint from an unparsable last_reserved_ip, as net.ParseIP', () => {
    const s = new FileIpamStore('kubenet', { dataDir: tmp() });
    writeFileSync(join(s.dir, 'last_reserved_ip.0'), '10.244.1.9\n');
    expect(s.lastReservedIP(0)).toBeUndefined();
  });

  it('held: takes no lock of its own (its caller holds <dir>/lock), but is still entered once at a time', () => {
    const data = tmp();
    const s = new FileIpamStore('kubenet', { dataDir: data, locking: 'held' });
    expect(s.locking).toBe('held');
    s.lock();
    try {
      expect(() => s.lock()).toThrow(expect.objectContaining({ code: 'EBUSY' }));
      // No lock file was made or locked: another store's flock is free.
      expect(readdirSync(s.dir)).toEqual([]);
    } finally {
      s.unlock();
    }
    const r = hostLocalAdd(parseHostLocalConf(conf(data)), s, { containerId: 'c1', ifname: 'eth0' });
    expect(r.ips[0]?.address).toBe('10.244.1.2/24');
    expect(readdirSync(s.dir).sort()).toEqual(['10.244.1.2', 'last_reserved_ip.0']);
  });

  it('refuses a second lock from the same store instead of deadlocking', () => {
    const s = new FileIpamStore('kubenet', { dataDir: tmp() });
    s.lock();
    try {
      expect(() => s.lock()).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    } finally {
      s.unlock();
    }
  });

  it.each(['flock', 'lockfile'] as const)('%s: a second store waits, and gives up with EBUSY lock-timeout', (locking) => {
    if (locking === 'flock' && findFlockCommand() === undefined) return;
    const data = tmp();
    const a = new FileIpamStore('kubenet', { dataDir: data, locking });
    const b = new FileIpamStore('kubenet', { dataDir: data, locking, lockTimeoutMs: 200 });
    expect(a.locking).toBe(locking);
    a.lock();
    const t0 = Date.now();
    let err: unknown;
    try {
      b.lock();
    } catch (e) {
      err = e;
    }
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(isKnetError(err, 'EBUSY') && err.details['reason']).toBe('lock-timeout');
    a.unlock();
    b.lock();
    b.unlock();
  });

  it('lockfile: takes over the lock file of a dead process', () => {
    const data = tmp();
    const s = new FileIpamStore('kubenet', { dataDir: data, locking: 'lockfile', lockTimeoutMs: 1000 });
    const dead = spawnSync('true').pid as number;
    writeFileSync(join(s.dir, IPAM_LOCKFILE_NAME), String(dead));
    s.lock();
    s.unlock();
    expect(readdirSync(s.dir)).not.toContain(IPAM_LOCKFILE_NAME);
  });
});

describe('hostLocalAdd/Del/Check/Gc on a FileIpamStore', () => {
  it('allocates round-robin, refuses a duplicate, releases, and GC keeps only valid attachments', () => {
    const data = tmp();
    const c = parseHostLocalConf(conf(data));
    const s = new FileIpamStore(c.name, { dataDir: c.dataDir });
    expect(hostLocalAdd(c, s, { containerId: 'c1', ifname: 'eth0' }).ips[0]?.address).toBe('10.244.1.2/24');
    expect(hostLocalAdd(c, s, { containerId: 'c2', ifname: 'eth0' }).ips[0]?.address).toBe('10.244.1.3/24');
    expect(() => hostLocalAdd(c, s, { containerId: 'c1', ifname: 'eth0' })).toThrow(
      'failed to allocate for range 0: 10.244.1.2 has been allocated to c1, duplicate allocation is not allowed',
    );
    hostLocalDel(c, s, { containerId: 'c1', ifname: 'eth0' });
    hostLocalDel(c, s, { containerId: 'c1', ifname: 'eth0' });
    expect(hostLocalAdd(c, s, { containerId: 'c3', ifname: 'eth0' }).ips[0]?.address).toBe('10.244.1.4/24');
    expect(() => hostLocalCheck(c, s, { containerId: 'c1', ifname: 'eth0' })).toThrow('host-local: Failed to find address added by container c1');
    expect(hostLocalGc(s, [{ containerId: 'c3', ifname: 'eth0' }]).map(formatIpv4)).toEqual(['10.244.1.3']);
    expect(Object.keys(s.files())).toEqual(['10.244.1.4', 'last_reserved_ip.0']);
  });
});

const noFlock = findFlockCommand() === undefined ? 'flock(1) is not installed (util-linux)' : undefined;
const noReference = missingReferenceReason('host-local') ?? noFlock;
if (noReference !== undefined) console.log(`skipping the host-local interoperability tests: ${noReference}`);

/** The reference host-local with the env of one attachment. */
function reference(command: string, cid: string, stdin: object, ifname = 'eth0') {
  return runReference(
    'host-local',
    { CNI_COMMAND: command, CNI_CONTAINERID: cid, CNI_NETNS: '/run/netns/knet-cni-none', CNI_IFNAME: ifname, CNI_PATH: referenceCniDir() ?? '' },
    JSON.stringify(stdin),
  );
}

describe.skipIf(noReference !== undefined)('FileIpamStore with the reference host-local', () => {
  it('the reference reads what knet wrote, and continues its round-robin; knet reads what the reference wrote', () => {
    const data = tmp();
    const c = parseHostLocalConf(conf(data));
    const s = new FileIpamStore(c.name, { dataDir: c.dataDir });
    hostLocalAdd(c, s, { containerId: 'knet1', ifname: 'eth0' });
    expect(reference('CHECK', 'knet1', conf(data)).code).toBe(0);
    const ref = reference('ADD', 'ref1', conf(data));
    expect(ref.code).toBe(0);
    expect(JSON.parse(ref.stdout).ips).toEqual([{ address: '10.244.1.3/24', gateway: '10.244.1.1' }]);
    expect(s.getByID('ref1', 'eth0').map(formatIpv4)).toEqual(['10.244.1.3']);
    expect(s.lastReservedIP(0)).toBe(ip('10.244.1.3'));
    expect(hostLocalAdd(c, s, { containerId: 'knet2', ifname: 'eth0' }).ips[0]?.address).toBe('10.244.1.4/24');
    // Each side releases the other's reservation.
    expect(reference('DEL', 'knet1', conf(data)).code).toBe(0);
    hostLocalDel(c, s, { containerId: 'ref1', ifname: 'eth0' });
    expect(s.files()).toEqual({ '10.244.1.4': 'knet2\r\neth0', 'last_reserved_ip.0': '10.244.1.4' });
    const check = reference('CHECK', 'ref1', conf(data));
    expect([check.code, JSON.parse(check.stdout).msg]).toEqual([1, 'host-local: Failed to find address added by container ref1']);
  });

  it('gives the same exhaustion error text as the reference', () => {
    const data = tmp();
    const c = parseHostLocalConf(conf(data, '10.0.0.0/30'));
    const s = new FileIpamStore(c.name, { dataDir: c.dataDir });
    hostLocalAdd(c, s, { containerId: 'knet1', ifname: 'eth0' });
    const ref = reference('ADD', 'ref1', conf(data, '10.0.0.0/30'));
    const want = 'failed to allocate for range 0: no IP addresses available in range set: 10.0.0.1-10.0.0.2';
    expect(JSON.parse(ref.stdout)).toEqual({ code: 999, msg: want });
    expect(() => hostLocalAdd(c, s, { containerId: 'knet2', ifname: 'eth0' })).toThrow(want);
  });

  it("holding knet's lock blocks the reference plugin until knet unlocks", async () => {
    const data = tmp();
    const s = new FileIpamStore('kubenet', { dataDir: data, locking: 'flock' });
    s.lock();
    const dir = referenceCniDir() as string;
    const child = spawn(join(dir, 'host-local'), [], {
      env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'ref1', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: dir },
    });
    let exited = false;
    const done = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    void done.then(() => (exited = true));
    child.stdin.end(JSON.stringify(conf(data)));
    await new Promise((r) => setTimeout(r, 400));
    expect(exited).toBe(false);
    expect(s.list()).toEqual([]);
    s.unlock();
    expect(await done).toBe(0);
    expect(s.list()).toEqual([{ ip: ip('10.244.1.2'), owner: 'ref1\r\neth0' }]);
  });

  it('a flock(2) on <dir>/lock held elsewhere blocks knet, and the lock dies with its holder', async () => {
    const data = tmp();
    const s = new FileIpamStore('kubenet', { dataDir: data, locking: 'flock', lockTimeoutMs: 300 });
    const holder = await bundleExecutable(join(import.meta.dirname, '..', 'cni', '__fixtures__', 'hold-ipam-lock.ts'), 'hold-ipam-lock', tmp());
    const child = spawn(holder, [data, 'kubenet'], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    expect(() => s.lock()).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    s.lock();
    s.unlock();
  });

  it('40 reference and 40 knet processes allocating at once get 80 distinct addresses', async () => {
    const data = tmp();
    const knet = await bundleExecutable(join(import.meta.dirname, '..', 'cni', '__fixtures__', 'knet-host-local.ts'), 'host-local', tmp());
    const dir = referenceCniDir() as string;
    const stdin = JSON.stringify(conf(data));
    const runOne = (file: string, cid: string): Promise<{ code: number; out: string }> =>
      new Promise((resolve) => {
        const child = spawn(file, [], { env: { PATH: process.env['PATH'] ?? '', CNI_COMMAND: 'ADD', CNI_CONTAINERID: cid, CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: dir } });
        let out = '';
        child.stdout.on('data', (b: Buffer) => (out += b.toString()));
        child.on('close', (code) => resolve({ code: code ?? -1, out }));
        child.stdin.end(stdin);
      });
    const runs = await Promise.all(
      Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? runOne(join(dir, 'host-local'), `ref${i}`) : runOne(knet, `knet${i}`))),
    );
    expect(runs.filter((r) => r.code !== 0)).toEqual([]);
    const addrs = runs.map((r) => (JSON.parse(r.out) as { ips: { address: string }[] }).ips[0]?.address);
    expect(new Set(addrs).size).toBe(80);
    const s = new FileIpamStore('kubenet', { dataDir: data });
    expect(s.list()).toHaveLength(80);
  });
});
