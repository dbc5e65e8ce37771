/**
 * The Datastore API: a small key-value store with etcd v3's semantics (revisions, versions,
 * transactions, leases with a TTL), which control planes keep their shared state in — flannel's
 * subnet leases, Calico's IPAM blocks.
 *
 * @remarks Two implementations: {@link createMemoryDatastore} (embedded, with an explicit clock,
 * the default of the simulation) and {@link createEtcdDatastore} (a real etcd through its v3 JSON
 * gateway). Both follow etcd: every write bumps the store's revision; a key remembers the
 * revision that created it, the one that last changed it, and how many times it changed
 * (`version`, reset when the key is deleted); a key written with a lease disappears when the lease
 * expires or is revoked.
 * @see etcd api/etcdserverpb/rpc.proto (RangeRequest, PutRequest, TxnRequest, LeaseGrantRequest)
 * @see https://etcd.io/docs/v3.4/learning/api/
 */

/** One key as a range read returns it (etcd `mvccpb.KeyValue`). */
export interface DatastoreEntry {
  readonly key: string;
  readonly value: string;
  /** The revision of the put that created the key. */
  readonly createRevision: number;
  /** The revision of the last put to the key. */
  readonly modRevision: number;
  /** Number of puts since the key was created (1 after the first). */
  readonly version: number;
  /** The lease the key is attached to, `'0'` for none. */
  readonly lease: string;
}

/** A comparison of a transaction (etcd `Compare`): `target` of `key` `result` `value`. */
export type DatastoreCompare =
  | {
      readonly key: string;
      /** `version` 0 means the key does not exist. */
      readonly target: 'version' | 'createRevision' | 'modRevision';
      readonly result: '=' | '!=' | '>' | '<';
      readonly value: number;
    }
  | { readonly key: string; readonly target: 'value'; readonly result: '=' | '!=' | '>' | '<'; readonly value: string };

/** One operation of a transaction (etcd `RequestOp`). */
export type DatastoreOp =
  | { readonly kind: 'put'; readonly key: string; readonly value: string; readonly lease?: string }
  | { readonly kind: 'delete'; readonly key: string; readonly prefix?: boolean }
  | { readonly kind: 'get'; readonly key: string; readonly prefix?: boolean };

/** What one operation of a transaction returned. */
export type DatastoreOpResult =
  | { readonly kind: 'put' }
  | { readonly kind: 'delete'; readonly deleted: number }
  | { readonly kind: 'get'; readonly entries: readonly DatastoreEntry[] };

/** A transaction: `if (every compare holds) success else failure`, atomically (etcd `Txn`). */
export interface DatastoreTxn {
  readonly compare: readonly DatastoreCompare[];
  readonly success: readonly DatastoreOp[];
  readonly failure?: readonly DatastoreOp[];
}

/** The outcome of a {@link DatastoreTxn}. */
export interface DatastoreTxnResult {
  /** True when every comparison held and `success` ran. */
  readonly succeeded: boolean;
  /** The store's revision after the transaction. */
  readonly revision: number;
  readonly responses: readonly DatastoreOpResult[];
}

/** A granted lease: its id (a decimal int64, as etcd prints it) and TTL in seconds. */
export interface DatastoreLease {
  readonly id: string;
  /** The TTL granted, in seconds (etcd may raise a small TTL to its minimum). */
  readonly ttl: number;
}

/** A change seen by {@link Datastore.watch}. */
export interface DatastoreEvent {
  readonly type: 'put' | 'delete';
  readonly key: string;
  /** The new value (`''` for a delete). */
  readonly value: string;
  readonly revision: number;
}

/**
 * A key-value store with etcd v3's semantics. Keys and values are UTF-8 strings.
 *
 * @remarks Linux equivalent: none — it is etcd (`etcdctl get|put|del|txn`, `etcdctl lease
 * grant|keep-alive|revoke|timetolive`). Errors are {@link KnetError}s: `ENOENT` for an unknown
 * lease, `EIO` when the store cannot be reached or answers with an error.
 */
export interface Datastore {
  /** `memory` or `etcd`. */
  readonly kind: 'memory' | 'etcd';
  /** `etcdctl get KEY`. */
  get(key: string): Promise<DatastoreEntry | undefined>;
  /** `etcdctl get --prefix PREFIX`, sorted by key, with the store's revision at the read. */
  list(prefix: string): Promise<{ readonly entries: readonly DatastoreEntry[]; readonly revision: number }>;
  /** `etcdctl put KEY VALUE [--lease ID]`; resolves with the new revision. @throws `ENOENT` for an unknown lease */
  put(key: string, value: string, options?: { readonly lease?: string }): Promise<number>;
  /** `etcdctl del KEY [--prefix]`; resolves with the number of keys deleted. */
  delete(key: string, options?: { readonly prefix?: boolean }): Promise<number>;
  /** `etcdctl txn`: compares, then the success or the failure operations, atomically. */
  txn(txn: DatastoreTxn): Promise<DatastoreTxnResult>;
  /**
   * Creates `key` only if it does not exist (a transaction on `version = 0`, as flannel's
   * `createSubnet` does). Resolves true when this call created it.
   */
  create(key: string, value: string, options?: { readonly lease?: string }): Promise<boolean>;
  /** Replaces `key` only if its mod revision is still `modRevision` (0: only if absent). */
  compareAndSwap(key: string, modRevision: number, value: string, options?: { readonly lease?: string }): Promise<boolean>;
  /** `etcdctl lease grant TTL`. */
  grantLease(ttlSeconds: number): Promise<DatastoreLease>;
  /** One `etcdctl lease keep-alive --once ID`: resolves with the refreshed TTL. @throws `ENOENT` */
  keepAliveLease(id: string): Promise<number>;
  /** `etcdctl lease revoke ID`: the lease's keys are deleted. @throws `ENOENT` */
  revokeLease(id: string): Promise<void>;
  /** `etcdctl lease timetolive ID`: seconds left, or -1 when the lease does not exist (expired). */
  leaseTimeToLive(id: string): Promise<number>;
  /**
   * Calls `listener` for each change under `prefix` after this call, until the returned function
   * is called. Optional: the memory store has it; the etcd store does not (its gateway streams).
   */
  watch?(prefix: string, listener: (event: DatastoreEvent) => void): () => void;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

/** The transaction {@link Datastore.create} runs: put `key` if its version is 0. */
export function createIfAbsentTxn(key: string, value: string, lease?: string): DatastoreTxn {
  return {
    compare: [{ key, target: 'version', result: '=', value: 0 }],
    success: [{ kind: 'put', key, value, ...(lease !== undefined ? { lease } : {}) }],
  };
}

/** The transaction {@link Datastore.compareAndSwap} runs: put `key` if its mod revision is `modRevision`. */
export function compareAndSwapTxn(key: string, modRevision: number, value: string, lease?: string): DatastoreTxn {
  return {
    compare: [{ key, target: 'modRevision', result: '=', value: modRevision }],
    success: [{ kind: 'put', key, value, ...(lease !== undefined ? { lease } : {}) }],
  };
}

/**
 * The end of etcd's range for a prefix (`clientv3.GetPrefixRangeEnd`): the prefix with its last
 * byte below 0xff incremented and what follows dropped; `\0` (every key) when there is none.
 */
export function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.slice(0, i + 1);
    }
  }
  return new Uint8Array([0]);
}
