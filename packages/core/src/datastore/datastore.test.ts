import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKnetError } from '../errors/knet-error.js';
import { createManualClock } from './datastore-clock.js';
import { prefixRangeEnd, type Datastore } from './datastore.js';
import { createEtcdDatastore } from './etcd-datastore.js';
import { findEtcdBinary, startEtcdServer, type EtcdServer } from './etcd-server.js';
import { createMemoryDatastore } from './memory-datastore.js';

const ETCD = findEtcdBinary();
if (ETCD === undefined) console.warn('skipping the etcd Datastore cases: etcd is not installed (apt-get install etcd-server)');

let server: EtcdServer | undefined;
beforeAll(async () => {
  if (ETCD !== undefined) server = await startEtcdServer();
});
afterAll(async () => {
  await server?.stop();
});

/** A fresh, empty store of each kind (etcd: a fresh key prefix in the shared server). */
let n = 0;
const STORES: [string, () => { store: Datastore; p: string }][] = [
  ['memory', () => ({ store: createMemoryDatastore(), p: '/t/' })],
  ...(ETCD !== undefined ? ([['etcd', () => ({ store: createEtcdDatastore({ endpoints: server!.endpoints }), p: `/t${++n}/` })]] as [string, () => { store: Datastore; p: string }][]) : []),
];

describe.each(STORES)('Datastore (%s)', (_kind, make) => {
  it('keeps etcd revisions: create revision, mod revision and version per key', async () => {
    const { store, p } = make();
    const r1 = await store.put(`${p}a`, 'one');
    const r2 = await store.put(`${p}a`, 'two');
    expect(r2).toBe(r1 + 1);
    expect(await store.get(`${p}a`)).toEqual({ key: `${p}a`, value: 'two', createRevision: r1, modRevision: r2, version: 2, lease: '0' });
    expect(await store.delete(`${p}a`)).toBe(1);
    expect(await store.get(`${p}a`)).toBeUndefined();
    const r3 = await store.put(`${p}a`, 'three');
    expect(await store.get(`${p}a`)).toMatchObject({ createRevision: r3, modRevision: r3, version: 1 });
    expect(await store.delete(`${p}missing`)).toBe(0);
  });

  it('lists a prefix sorted by key, with the revision of the read', async () => {
    const { store, p } = make();
    await store.put(`${p}subnets/10.244.2.0-24`, 'b');
    await store.put(`${p}subnets/10.244.1.0-24`, 'a');
    await store.put(`${p}config`, 'c');
    const r = await store.list(`${p}subnets/`);
    expect(r.entries.map((e) => [e.key, e.value])).toEqual([
      [`${p}subnets/10.244.1.0-24`, 'a'],
      [`${p}subnets/10.244.2.0-24`, 'b'],
    ]);
    expect(r.revision).toBe((await store.get(`${p}config`))!.modRevision);
    expect(await store.delete(`${p}subnets/`, { prefix: true })).toBe(2);
    expect((await store.list(`${p}subnets/`)).entries).toEqual([]);
  });

  it('creates a key only when it is absent (txn on version = 0) and swaps only on the mod revision', async () => {
    const { store, p } = make();
    expect(await store.create(`${p}k`, 'first')).toBe(true);
    expect(await store.create(`${p}k`, 'second')).toBe(false);
    const e = (await store.get(`${p}k`))!;
    expect(e.value).toBe('first');
    expect(await store.compareAndSwap(`${p}k`, e.modRevision + 1, 'stale')).toBe(false);
    expect(await store.compareAndSwap(`${p}k`, e.modRevision, 'swapped')).toBe(true);
    expect((await store.get(`${p}k`))!.value).toBe('swapped');
  });

  it('runs the failure branch of a transaction when a comparison fails', async () => {
    const { store, p } = make();
    await store.put(`${p}x`, 'v');
    const r = await store.txn({
      compare: [{ key: `${p}x`, target: 'value', result: '=', value: 'other' }],
      success: [{ kind: 'delete', key: `${p}x` }],
      failure: [{ kind: 'get', key: `${p}x` }],
    });
    expect(r.succeeded).toBe(false);
    expect(r.responses).toMatchObject([{ kind: 'get', entries: [{ key: `${p}x`, value: 'v' }] }]);
  });

  it('lets exactly one of 20 concurrent creates of a key win', async () => {
    const { store, p } = make();
    const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => store.create(`${p}race`, `agent-${i}`)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect((await store.get(`${p}race`))!.value).toBe(`agent-${wins.indexOf(true)}`);
  });

  it('deletes the keys of a revoked lease and refuses an unknown lease', async () => {
    const { store, p } = make();
    const lease = await store.grantLease(60);
    expect(lease.ttl).toBe(60);
    await store.put(`${p}leased`, 'v', { lease: lease.id });
    expect((await store.get(`${p}leased`))!.lease).toBe(lease.id);
    expect(await store.leaseTimeToLive(lease.id)).toBeGreaterThanOrEqual(59);
    expect(await store.keepAliveLease(lease.id)).toBe(60);
    await store.revokeLease(lease.id);
    expect(await store.get(`${p}leased`)).toBeUndefined();
    expect(await store.leaseTimeToLive(lease.id)).toBe(-1);
    const err = await store.put(`${p}other`, 'v', { lease: lease.id }).catch((e: unknown) => e);
    expect(isKnetError(err, 'ENOENT')).toBe(true);
    expect(await store.get(`${p}other`)).toBeUndefined();
  });
});

describe('createMemoryDatastore', () => {
  it('expires a lease when its TTL passes on the clock without a keep-alive, deleting its keys', async () => {
    const clock = createManualClock();
    const store = createMemoryDatastore({ clock });
    const lease = await store.grantLease(86_400);
    await store.put('/k', 'v', { lease: lease.id });
    clock.advance(86_399_000);
    expect(await store.leaseTimeToLive(lease.id)).toBe(1);
    await store.keepAliveLease(lease.id);
    clock.advance(86_399_000);
    expect(await store.get('/k')).toBeDefined();
    clock.advance(1_000);
    expect(await store.get('/k')).toBeUndefined();
    expect(await store.leaseTimeToLive(lease.id)).toBe(-1);
  });

  it('tells watchers about puts and deletes under their prefix, lease expiry included', async () => {
    const clock = createManualClock();
    const store = createMemoryDatastore({ clock });
    const seen: string[] = [];
    const stop = store.watch!('/w/', (e) => seen.push(`${e.type} ${e.key} ${e.value} @${e.revision}`));
    const lease = await store.grantLease(10);
    await store.put('/w/a', '1', { lease: lease.id });
    await store.put('/other', 'x');
    clock.advance(10_000);
    await store.get('/w/a');
    stop();
    await store.put('/w/b', '2');
    expect(seen).toEqual(['put /w/a 1 @2', 'delete /w/a  @4']);
  });
});

describe('prefixRangeEnd', () => {
  it.each([
    ['/coreos.com/network/subnets/', '/coreos.com/network/subnets0'],
    ['a', 'b'],
  ])('%s → %s', (prefix, end) => {
    expect(new TextDecoder().decode(prefixRangeEnd(new TextEncoder().encode(prefix)))).toBe(end);
  });

  it('gives \\0 (every key) for a prefix of 0xff bytes', () => {
    expect([...prefixRangeEnd(new Uint8Array([0xff, 0xff]))]).toEqual([0]);
  });
});

describe.skipIf(ETCD === undefined)('createEtcdDatastore', () => {
  it('sees etcd expire a lease after its TTL (etcd raises 1 s to its minimum)', async () => {
    const store = createEtcdDatastore({ endpoints: server!.endpoints });
    const lease = await store.grantLease(1);
    expect(lease.ttl).toBeGreaterThanOrEqual(1);
    await store.put('/expiry/k', 'v', { lease: lease.id });
    expect(await store.get('/expiry/k')).toBeDefined();
    await new Promise((r) => setTimeout(r, (lease.ttl + 1.5) * 1000));
    expect(await store.get('/expiry/k')).toBeUndefined();
    expect(await store.leaseTimeToLive(lease.id)).toBe(-1);
  });

  it('tries the next endpoint when one cannot be reached, and reports EIO when none can', async () => {
    const store = createEtcdDatastore({ endpoints: ['http://127.0.0.1:1', ...server!.endpoints], timeoutMs: 1_000 });
    await store.put('/failover', 'ok');
    expect((await store.get('/failover'))!.value).toBe('ok');
    const dead = createEtcdDatastore({ endpoints: ['http://127.0.0.1:1'], timeoutMs: 1_000 });
    const err = await dead.get('/x').catch((e: unknown) => e);
    expect(isKnetError(err, 'EIO')).toBe(true);
  });
});
