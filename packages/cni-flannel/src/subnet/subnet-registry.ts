import { KnetError, isKnetError } from '@knet/core';
import type { Datastore, DatastoreClock, Ipv4Cidr } from '@knet/core';
import { formatLeaseAttrs, parseLeaseAttrs, type LeaseAttrs } from './lease-attrs.js';
import { DEFAULT_ETCD_PREFIX } from './net-conf.js';
import { formatSubnetKey, parseSubnetKey } from './subnet-key.js';

/** A lease as stored: its subnet, attributes, and the datastore lease it is attached to (`'0'`: a reservation). */
export interface StoredLease {
  readonly subnet: Ipv4Cidr;
  readonly attrs: LeaseAttrs;
  /** The datastore lease id; `'0'` for a key written without one (a reservation). */
  readonly leaseId: string;
  readonly modRevision: number;
}

/** flannel's subnet registry on a {@link Datastore}, under `<prefix>/config` and `<prefix>/subnets/`. */
export interface SubnetRegistry {
  readonly prefix: string;
  /** The key of a subnet's lease: `<prefix>/subnets/10.244.1.0-24`. */
  keyOf(subnet: Ipv4Cidr): string;
  /** The `config` value. @throws KnetError `ENOENT` `flannel config not found in etcd store. ...` */
  getNetworkConfig(): Promise<string>;
  /** Every lease under `subnets/` (keys that are not subnets, or whose values do not parse, are skipped as flannel does). */
  getSubnets(): Promise<StoredLease[]>;
  /**
   * Creates a lease only if the key is absent: a datastore lease of `ttlSeconds` is granted, then
   * one transaction `If(Version(key) = 0) Then(Put(key, attrs, lease))`; the lease is revoked when
   * the transaction fails. Resolves with the expiration (ms on the clock), or `undefined` when
   * another node holds the subnet.
   */
  createSubnet(subnet: Ipv4Cidr, attrs: LeaseAttrs, ttlSeconds: number): Promise<number | undefined>;
  /** Overwrites a lease with a new datastore lease (`ttlSeconds` 0: no lease, a reservation). Resolves with the expiration. */
  updateSubnet(subnet: Ipv4Cidr, attrs: LeaseAttrs, ttlSeconds: number): Promise<number | undefined>;
  deleteSubnet(subnet: Ipv4Cidr): Promise<void>;
}

/**
 * flannel's etcd registry (`etcdSubnetRegistry`) on a {@link Datastore}: the same keys, values,
 * leases and transactions.
 *
 * @remarks Linux equivalent: flanneld's etcd v3 client with `--etcd-prefix` (default
 * `/coreos.com/network`). Two differences, both documented: `getSubnets` does not ask the TTL of
 * every key (flannel calls `TimeToLive` once per lease; nothing in acquisition reads it), and
 * `updateSubnet` with TTL 0 writes the key without a lease (flannel grants a 0-second lease,
 * which etcd raises to its minimum TTL).
 * @see flannel-io/flannel pkg/subnet/etcd/registry.go
 */
export function createSubnetRegistry(store: Datastore, options: { readonly prefix?: string; readonly clock: DatastoreClock }): SubnetRegistry {
  const prefix = (options.prefix ?? DEFAULT_ETCD_PREFIX).replace(/\/+$/, '');
  const keyOf = (subnet: Ipv4Cidr): string => `${prefix}/subnets/${formatSubnetKey(subnet)}`;
  const now = (): number => options.clock.now();
  return {
    prefix,
    keyOf,
    async getNetworkConfig() {
      const e = await store.get(`${prefix}/config`);
      if (e === undefined) throw new KnetError('ENOENT', 'flannel config not found in etcd store. Did you create your config using etcdv3 API?', { key: `${prefix}/config` });
      return e.value;
    },
    async getSubnets() {
      const { entries } = await store.list(`${prefix}/subnets/`);
      const out: StoredLease[] = [];
      for (const e of entries) {
        const subnet = parseSubnetKey(e.key);
        if (subnet === undefined) continue;
        try {
          out.push({ subnet, attrs: parseLeaseAttrs(e.value), leaseId: e.lease, modRevision: e.modRevision });
        } catch (err) {
          if (!isKnetError(err)) throw err;
        }
      }
      return out;
    },
    async createSubnet(subnet, attrs, ttlSeconds) {
      const lease = await store.grantLease(ttlSeconds);
      let created: boolean;
      try {
        created = await store.create(keyOf(subnet), formatLeaseAttrs(attrs), { lease: lease.id });
      } catch (e) {
        await store.revokeLease(lease.id).catch(() => undefined);
        throw e;
      }
      if (!created) {
        await store.revokeLease(lease.id).catch(() => undefined);
        return undefined;
      }
      return now() + lease.ttl * 1000;
    },
    async updateSubnet(subnet, attrs, ttlSeconds) {
      if (ttlSeconds === 0) {
        await store.put(keyOf(subnet), formatLeaseAttrs(attrs));
        return undefined;
      }
      const lease = await store.grantLease(ttlSeconds);
      try {
        await store.put(keyOf(subnet), formatLeaseAttrs(attrs), { lease: lease.id });
      } catch (e) {
        await store.revokeLease(lease.id).catch(() => undefined);
        throw e;
      }
      return now() + lease.ttl * 1000;
    },
    async deleteSubnet(subnet) {
      await store.delete(keyOf(subnet));
    },
  };
}
