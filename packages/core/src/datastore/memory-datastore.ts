import { KnetError } from '../errors/knet-error.js';
import { createManualClock, type DatastoreClock } from './datastore-clock.js';
import {
  compareAndSwapTxn,
  createIfAbsentTxn,
  type Datastore,
  type DatastoreCompare,
  type DatastoreEntry,
  type DatastoreEvent,
  type DatastoreLease,
  type DatastoreOp,
  type DatastoreOpResult,
  type DatastoreTxn,
  type DatastoreTxnResult,
} from './datastore.js';

/** Options of {@link createMemoryDatastore}. */
export interface MemoryDatastoreOptions {
  /** The clock leases expire against (milliseconds). Default: a manual clock at 0 that never moves. */
  readonly clock?: DatastoreClock;
}

interface MemLease {
  readonly id: string;
  readonly ttl: number;
  expiresAt: number;
  readonly keys: Set<string>;
}

interface Watcher {
  readonly prefix: string;
  readonly listener: (event: DatastoreEvent) => void;
}

function compareValues<T extends number | string>(a: T, result: DatastoreCompare['result'], b: T): boolean {
  switch (result) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '<':
      return a < b;
  }
}

/**
 * The embedded {@link Datastore}: etcd v3's data model in memory, with an explicit clock.
 *
 * @remarks
 * Linux equivalent: a single-member etcd. As etcd: one revision counter for the whole store,
 * bumped once per write request (a transaction's puts and deletes share one revision, a
 * transaction that changes nothing bumps nothing); `createRevision`, `modRevision` and
 * `version` per key, the version reset by a delete; keys sorted by their bytes; a put naming a
 * lease that does not exist fails (`etcdserver: requested lease not found`); a lease expires when
 * its TTL has passed on the clock without a keep-alive, and its keys are deleted then, in one
 * revision. Expiry is noticed at the next request, which is when a client could tell. Unlike
 * etcd, no minimum TTL is enforced (etcd raises a TTL below about 2 s to its minimum) and lease
 * ids count up from 1.
 * @see etcd server/mvcc/kvstore_txn.go, server/lease/lessor.go
 * @example
 * ```ts
 * import { createManualClock, createMemoryDatastore } from '@knet/core';
 * const clock = createManualClock();
 * const store = createMemoryDatastore({ clock });
 * const lease = await store.grantLease(60);
 * await store.create('/coreos.com/network/subnets/10.244.1.0-24', '{"PublicIP":"172.18.0.3"}', { lease: lease.id }); // true
 * clock.advance(61_000);
 * await store.get('/coreos.com/network/subnets/10.244.1.0-24'); // undefined: the lease expired
 * ```
 */
export function createMemoryDatastore(options: MemoryDatastoreOptions = {}): Datastore {
  const clock = options.clock ?? createManualClock();
  const kvs = new Map<string, DatastoreEntry>();
  const leases = new Map<string, MemLease>();
  const watchers = new Set<Watcher>();
  let revision = 1;
  let nextLease = 1;
  let pendingEvents: DatastoreEvent[] = [];

  function emit(): void {
    const events = pendingEvents;
    pendingEvents = [];
    for (const e of events) for (const w of [...watchers]) if (e.key.startsWith(w.prefix)) w.listener(e);
  }

  function detach(entry: DatastoreEntry): void {
    if (entry.lease !== '0') leases.get(entry.lease)?.keys.delete(entry.key);
  }

  function deleteKey(key: string, rev: number): boolean {
    const e = kvs.get(key);
    if (e === undefined) return false;
    detach(e);
    kvs.delete(key);
    pendingEvents.push({ type: 'delete', key, value: '', revision: rev });
    return true;
  }

  /** The lessor's expiry loop: revoke every lease whose time has come, one revision each. */
  function expire(): void {
    const now = clock.now();
    for (const l of [...leases.values()]) {
      if (l.expiresAt > now) continue;
      leases.delete(l.id);
      if (l.keys.size > 0) {
        revision++;
        for (const key of [...l.keys].sort()) deleteKey(key, revision);
      }
    }
    emit();
  }

  function leaseOf(id: string | undefined): MemLease | undefined {
    if (id === undefined || id === '0') return undefined;
    const l = leases.get(id);
    if (l === undefined) throw new KnetError('ENOENT', 'etcdserver: requested lease not found', { lease: id });
    return l;
  }

  function matching(key: string, prefix: boolean): DatastoreEntry[] {
    if (!prefix) {
      const e = kvs.get(key);
      return e === undefined ? [] : [e];
    }
    return [...kvs.values()].filter((e) => e.key.startsWith(key)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  function holds(c: DatastoreCompare): boolean {
    const e = kvs.get(c.key);
    if (c.target === 'value') return e !== undefined && compareValues(e.value, c.result, c.value);
    const actual = e === undefined ? 0 : c.target === 'version' ? e.version : c.target === 'createRevision' ? e.createRevision : e.modRevision;
    return compareValues(actual, c.result, c.value);
  }

  /** Runs operations at one new revision (taken only when something is written). */
  function apply(ops: readonly DatastoreOp[]): DatastoreOpResult[] {
    // Validate leases first: a failing put leaves the store untouched, as etcd's txn checks do.
    for (const op of ops) if (op.kind === 'put') leaseOf(op.lease);
    const writes = ops.some((op) => op.kind === 'put' || (op.kind === 'delete' && matching(op.key, op.prefix === true).length > 0));
    const rev = writes ? revision + 1 : revision;
    const out: DatastoreOpResult[] = [];
    for (const op of ops) {
      switch (op.kind) {
        case 'get':
          out.push({ kind: 'get', entries: matching(op.key, op.prefix === true) });
          break;
        case 'delete': {
          let n = 0;
          for (const e of matching(op.key, op.prefix === true)) if (deleteKey(e.key, rev)) n++;
          out.push({ kind: 'delete', deleted: n });
          break;
        }
        case 'put': {
          const old = kvs.get(op.key);
          if (old !== undefined) detach(old);
          const lease = leaseOf(op.lease);
          const entry: DatastoreEntry = {
            key: op.key,
            value: op.value,
            createRevision: old?.createRevision ?? rev,
            modRevision: rev,
            version: (old?.version ?? 0) + 1,
            lease: lease?.id ?? '0',
          };
          kvs.set(op.key, entry);
          lease?.keys.add(op.key);
          pendingEvents.push({ type: 'put', key: op.key, value: op.value, revision: rev });
          out.push({ kind: 'put' });
          break;
        }
      }
    }
    revision = rev;
    return out;
  }

  function txnSync(t: DatastoreTxn): DatastoreTxnResult {
    expire();
    const succeeded = t.compare.every(holds);
    const responses = apply(succeeded ? t.success : (t.failure ?? []));
    emit();
    return { succeeded, revision, responses };
  }

  const store: Datastore = {
    kind: 'memory',
    async get(key) {
      expire();
      return kvs.get(key);
    },
    async list(prefix) {
      expire();
      return { entries: matching(prefix, true), revision };
    },
    async put(key, value, o = {}) {
      txnSync({ compare: [], success: [{ kind: 'put', key, value, ...(o.lease !== undefined ? { lease: o.lease } : {}) }] });
      return revision;
    },
    async delete(key, o = {}) {
      const r = txnSync({ compare: [], success: [{ kind: 'delete', key, ...(o.prefix === true ? { prefix: true } : {}) }] });
      const d = r.responses[0];
      return d?.kind === 'delete' ? d.deleted : 0;
    },
    async txn(t) {
      return txnSync(t);
    },
    async create(key, value, o = {}) {
      return txnSync(createIfAbsentTxn(key, value, o.lease)).succeeded;
    },
    async compareAndSwap(key, modRevision, value, o = {}) {
      return txnSync(compareAndSwapTxn(key, modRevision, value, o.lease)).succeeded;
    },
    async grantLease(ttlSeconds): Promise<DatastoreLease> {
      expire();
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0) throw new KnetError('EINVAL', `lease TTL must be a whole number of seconds, not ${ttlSeconds}`, { ttl: ttlSeconds });
      const id = String(nextLease++);
      leases.set(id, { id, ttl: ttlSeconds, expiresAt: clock.now() + ttlSeconds * 1000, keys: new Set() });
      return { id, ttl: ttlSeconds };
    },
    async keepAliveLease(id) {
      expire();
      const l = leaseOf(id)!;
      l.expiresAt = clock.now() + l.ttl * 1000;
      return l.ttl;
    },
    async revokeLease(id) {
      expire();
      const l = leaseOf(id)!;
      leases.delete(id);
      if (l.keys.size > 0) {
        revision++;
        for (const key of [...l.keys].sort()) deleteKey(key, revision);
      }
      emit();
    },
    async leaseTimeToLive(id) {
      expire();
      const l = leases.get(id);
      if (l === undefined) return -1;
      return Math.trunc((l.expiresAt - clock.now()) / 1000);
    },
    watch(prefix, listener) {
      const w: Watcher = { prefix, listener };
      watchers.add(w);
      return () => {
        watchers.delete(w);
      };
    },
    async close() {
      watchers.clear();
    },
  };
  return store;
}
