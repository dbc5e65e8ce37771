import { KnetError } from '../errors/knet-error.js';
import {
  compareAndSwapTxn,
  createIfAbsentTxn,
  prefixRangeEnd,
  type Datastore,
  type DatastoreCompare,
  type DatastoreEntry,
  type DatastoreOp,
  type DatastoreOpResult,
  type DatastoreTxn,
  type DatastoreTxnResult,
} from './datastore.js';

/** Options of {@link createEtcdDatastore}. */
export interface EtcdDatastoreOptions {
  /** Client URLs (`http://127.0.0.1:2379`); tried in order until one answers. */
  readonly endpoints: readonly string[];
  /** Per-request timeout in milliseconds (default 5,000). */
  readonly timeoutMs?: number;
  /** The fetch to use (default the global one). */
  readonly fetch?: typeof globalThis.fetch;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 of bytes (what the gateway expects for `bytes` fields). */
function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    out += B64[a >> 2]! + B64[((a & 3) << 4) | ((b ?? 0) >> 4)]!;
    out += b === undefined ? '=' : B64[((b & 15) << 2) | ((c ?? 0) >> 6)]!;
    out += c === undefined ? '=' : B64[c & 63]!;
  }
  return out;
}

function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let j = 0;
  for (const ch of clean) {
    const v = B64.indexOf(ch);
    if (v < 0) throw new KnetError('EIO', `etcd returned invalid base64 "${text}"`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  return out.slice(0, j);
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const b64 = (s: string): string => toBase64(enc.encode(s));
const unb64 = (s: string | undefined): string => (s === undefined ? '' : dec.decode(fromBase64(s)));

/** A key range: one key, or every key under a prefix. */
function range(key: string, prefix: boolean | undefined): Record<string, string> {
  return prefix === true ? { key: b64(key), range_end: toBase64(prefixRangeEnd(enc.encode(key))) } : { key: b64(key) };
}

interface RawKv {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  version?: string;
  lease?: string;
}

function entryOf(kv: RawKv): DatastoreEntry {
  return {
    key: unb64(kv.key),
    value: unb64(kv.value),
    createRevision: Number(kv.create_revision ?? 0),
    modRevision: Number(kv.mod_revision ?? 0),
    version: Number(kv.version ?? 0),
    lease: kv.lease ?? '0',
  };
}

const COMPARE_TARGET = { version: 'VERSION', createRevision: 'CREATE', modRevision: 'MOD', value: 'VALUE' } as const;
const COMPARE_RESULT = { '=': 'EQUAL', '!=': 'NOT_EQUAL', '>': 'GREATER', '<': 'LESS' } as const;
const COMPARE_FIELD = { version: 'version', createRevision: 'create_revision', modRevision: 'mod_revision' } as const;

function compareJson(c: DatastoreCompare): Record<string, string> {
  const base = { key: b64(c.key), target: COMPARE_TARGET[c.target], result: COMPARE_RESULT[c.result] };
  return c.target === 'value' ? { ...base, value: b64(c.value) } : { ...base, [COMPARE_FIELD[c.target]]: String(c.value) };
}

function opJson(op: DatastoreOp): Record<string, unknown> {
  switch (op.kind) {
    case 'put':
      return { request_put: { key: b64(op.key), value: b64(op.value), ...(op.lease !== undefined && op.lease !== '0' ? { lease: op.lease } : {}) } };
    case 'delete':
      return { request_delete_range: range(op.key, op.prefix) };
    case 'get':
      return { request_range: range(op.key, op.prefix) };
  }
}

/**
 * A {@link Datastore} on a real etcd (v3.4 or later) through its v3 JSON gateway over HTTP —
 * `POST /v3/kv/range|put|deleterange|txn`, `/v3/lease/grant|keepalive|revoke|timetolive` with
 * base64 keys and values — using `fetch`, so no client library is needed.
 *
 * @remarks
 * Linux equivalent: what `etcdctl` (and flannel's `clientv3`) do over gRPC. {@link Datastore.create}
 * is one transaction `If(Version(key) = 0) Then(Put(key, value, lease))`, exactly flannel's
 * `createSubnet`, so two clients racing for a key never both win. A request that cannot reach an
 * endpoint tries the next one. Errors: `ENOENT` `etcdserver: requested lease not found`; `EIO` for
 * anything else etcd or the network reports.
 * @see etcd api/etcdserverpb/rpc.proto; https://etcd.io/docs/v3.4/dev-guide/api_grpc_gateway/
 * @see flannel-io/flannel pkg/subnet/etcd/registry.go `createSubnet`
 * @example
 * ```ts
 * import { createEtcdDatastore } from '@knet/core';
 * const etcd = createEtcdDatastore({ endpoints: ['http://127.0.0.1:2379'] });
 * // await etcd.put('/coreos.com/network/config', '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}');
 * ```
 */
export function createEtcdDatastore(options: EtcdDatastoreOptions): Datastore {
  if (options.endpoints.length === 0) throw new KnetError('EINVAL', 'no etcd endpoints given', { field: 'endpoints' });
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 5_000;
  let preferred = 0;

  async function call(path: string, body: unknown): Promise<Record<string, unknown>> {
    let lastError = '';
    for (let i = 0; i < options.endpoints.length; i++) {
      const idx = (preferred + i) % options.endpoints.length;
      const url = `${options.endpoints[idx]!.replace(/\/+$/, '')}${path}`;
      let text: string;
      try {
        const res = await doFetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await res.text();
      } catch (e) {
        lastError = `${url}: ${(e as Error).message}`;
        continue;
      }
      preferred = idx;
      // The keepalive endpoint streams: take the first JSON document.
      const first = text.split('\n').find((l) => l.trim() !== '') ?? '{}';
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(first) as Record<string, unknown>;
      } catch {
        throw new KnetError('EIO', `etcd ${url} answered with something else than JSON: ${first.slice(0, 200)}`, { url });
      }
      const err = (json['error'] as { message?: string } | string | undefined) ?? undefined;
      if (err !== undefined) {
        const message = typeof err === 'string' ? err : (err.message ?? JSON.stringify(err));
        const code = json['code'] ?? (typeof err === 'object' ? (err as { grpc_code?: number }).grpc_code : undefined);
        if (/lease not found/.test(message)) throw new KnetError('ENOENT', 'etcdserver: requested lease not found', { url });
        throw new KnetError('EIO', `etcd ${path}: ${message}`, { url, ...(code !== undefined ? { grpcCode: code } : {}) });
      }
      return json;
    }
    throw new KnetError('EIO', `cannot reach etcd (${options.endpoints.join(', ')}): ${lastError}`, { endpoints: [...options.endpoints] });
  }

  const revisionOf = (json: Record<string, unknown>): number => Number((json['header'] as { revision?: string } | undefined)?.revision ?? 0);

  async function txn(t: DatastoreTxn): Promise<DatastoreTxnResult> {
    const json = await call('/v3/kv/txn', {
      compare: t.compare.map(compareJson),
      success: t.success.map(opJson),
      failure: (t.failure ?? []).map(opJson),
    });
    const succeeded = json['succeeded'] === true;
    const ops = succeeded ? t.success : (t.failure ?? []);
    const raw = (json['responses'] as Record<string, Record<string, unknown>>[] | undefined) ?? [];
    const responses: DatastoreOpResult[] = ops.map((op, i) => {
      const r = raw[i] ?? {};
      if (op.kind === 'put') return { kind: 'put' };
      if (op.kind === 'delete') return { kind: 'delete', deleted: Number(r['response_delete_range']?.['deleted'] ?? 0) };
      return { kind: 'get', entries: ((r['response_range']?.['kvs'] as RawKv[] | undefined) ?? []).map(entryOf) };
    });
    return { succeeded, revision: revisionOf(json), responses };
  }

  return {
    kind: 'etcd',
    async get(key) {
      const json = await call('/v3/kv/range', range(key, false));
      const kvs = (json['kvs'] as RawKv[] | undefined) ?? [];
      return kvs[0] === undefined ? undefined : entryOf(kvs[0]);
    },
    async list(prefix) {
      const json = await call('/v3/kv/range', range(prefix, true));
      return { entries: ((json['kvs'] as RawKv[] | undefined) ?? []).map(entryOf), revision: revisionOf(json) };
    },
    async put(key, value, o = {}) {
      const json = await call('/v3/kv/put', { key: b64(key), value: b64(value), ...(o.lease !== undefined && o.lease !== '0' ? { lease: o.lease } : {}) });
      return revisionOf(json);
    },
    async delete(key, o = {}) {
      const json = await call('/v3/kv/deleterange', range(key, o.prefix));
      return Number(json['deleted'] ?? 0);
    },
    txn,
    async create(key, value, o = {}) {
      return (await txn(createIfAbsentTxn(key, value, o.lease))).succeeded;
    },
    async compareAndSwap(key, modRevision, value, o = {}) {
      return (await txn(compareAndSwapTxn(key, modRevision, value, o.lease))).succeeded;
    },
    async grantLease(ttlSeconds) {
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0) throw new KnetError('EINVAL', `lease TTL must be a whole number of seconds, not ${ttlSeconds}`, { ttl: ttlSeconds });
      const json = await call('/v3/lease/grant', { TTL: String(ttlSeconds) });
      return { id: String(json['ID']), ttl: Number(json['TTL'] ?? ttlSeconds) };
    },
    async keepAliveLease(id) {
      const json = await call('/v3/lease/keepalive', { ID: id });
      const result = (json['result'] as { TTL?: string } | undefined) ?? (json as { TTL?: string });
      const ttl = Number(result.TTL ?? 0);
      if (ttl <= 0) throw new KnetError('ENOENT', 'etcdserver: requested lease not found', { lease: id });
      return ttl;
    },
    async revokeLease(id) {
      await call('/v3/lease/revoke', { ID: id });
    },
    async leaseTimeToLive(id) {
      const json = await call('/v3/lease/timetolive', { ID: id });
      return Number(json['TTL'] ?? -1);
    },
    async close() {
      // fetch keeps no connection state of ours.
    },
  };
}
