import { KnetError, SeededRng, formatIpv4Cidr } from '@knet/core';
import type { Datastore, DatastoreClock, Ipv4Cidr } from '@knet/core';
import { parseLeaseAttrs, type LeaseAttrs } from './lease-attrs.js';
import { checkNetConf, parseNetConf, type FlannelNetConf } from './net-conf.js';
import { createSubnetRegistry, type StoredLease, type SubnetRegistry } from './subnet-registry.js';
import type { FlannelLease, SubnetManager } from './subnet-manager.js';

/** flannel's subnet TTL: 24 hours (`subnetTTL`). */
export const SUBNET_TTL_SECONDS = 24 * 60 * 60;
/** How many times a lost creation race is retried (`raceRetries`). */
export const RACE_RETRIES = 10;
/** At most this many free subnets are collected before one is picked at random. */
export const MAX_CANDIDATE_SUBNETS = 100;

/** Options of {@link createLocalSubnetManager}. */
export interface LocalSubnetManagerOptions {
  readonly datastore: Datastore;
  /** `--etcd-prefix`, default `/coreos.com/network`. */
  readonly prefix?: string;
  /** The clock expirations are computed on (ms). */
  readonly clock: DatastoreClock;
  /** The random source of the subnet pick (flannel's `randInt`): seeded in the model. */
  readonly rng: SeededRng;
  /** The subnet recorded in this node's previous `subnet.env` (`FLANNEL_SUBNET`), if any. */
  readonly previousSubnet?: Ipv4Cidr;
  /** The lease TTL (default 24 h). */
  readonly subnetTtlSeconds?: number;
}

function compatible(config: FlannelNetConf, sn: Ipv4Cidr): boolean {
  return sn.address >= config.subnetMin && sn.address <= config.subnetMax && sn.prefix === config.subnetLen;
}

/**
 * The free subnets from `SubnetMin` upwards (at most 100), skipping every one that overlaps a
 * lease: flannel's `allocateSubnet` before its random pick.
 * @see flannel-io/flannel pkg/subnet/etcd/local_manager.go `allocateSubnet`
 */
export function freeSubnets(config: FlannelNetConf, leases: readonly { readonly subnet: Ipv4Cidr }[], limit = MAX_CANDIDATE_SUBNETS): Ipv4Cidr[] {
  const size = 2 ** (32 - config.subnetLen);
  // Same-size leases by address (the usual case) in a set; others checked by range.
  const same = new Set<number>();
  const other: { lo: number; hi: number }[] = [];
  for (const l of leases) {
    if (l.subnet.prefix === config.subnetLen) same.add(l.subnet.address);
    else other.push({ lo: l.subnet.address, hi: l.subnet.address + 2 ** (32 - l.subnet.prefix) - 1 });
  }
  const out: Ipv4Cidr[] = [];
  for (let ip = config.subnetMin; ip <= config.subnetMax && out.length < limit; ip += size) {
    if (same.has(ip)) continue;
    const hi = ip + size - 1;
    if (other.some((o) => o.lo <= hi && ip <= o.hi)) continue;
    out.push({ address: ip, prefix: config.subnetLen });
  }
  return out;
}

/**
 * flanneld's etcd subnet manager (`LocalManager`): the network config from `<prefix>/config`
 * (checked with {@link checkNetConf}), and each node's lease under `<prefix>/subnets/`.
 *
 * @remarks
 * Linux equivalent: `flanneld --etcd-endpoints=...`. Acquiring a lease, up to 10 times while
 * creation races are lost:
 * 1. a lease whose `PublicIP` is this node's is reused if it still fits the config
 *    (`SubnetMin`..`SubnetMax`, `SubnetLen`): rewritten with a fresh 24 h lease, or without one
 *    when it is a reservation; one that no longer fits is deleted;
 * 2. else the previous subnet from `subnet.env`, if free and compatible;
 * 3. else one of the first 100 free subnets from `SubnetMin`, at random.
 * The new key is created in one transaction on `version = 0`, so two nodes racing for a subnet
 * never both get it; the loser tries again. Errors: `out of subnets` (`ENOSPC`), `Max retries
 * reached trying to acquire a subnet` (`EBUSY`).
 * @see flannel-io/flannel pkg/subnet/etcd/local_manager.go
 * @example
 * ```ts
 * import { createManualClock, createMemoryDatastore, SeededRng } from '@knet/core';
 * import { createLocalSubnetManager } from '@knet/cni-flannel';
 * const datastore = createMemoryDatastore();
 * await datastore.put('/coreos.com/network/config', '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}');
 * const sm = createLocalSubnetManager({ datastore, clock: createManualClock(), rng: new SeededRng('node-1') });
 * const lease = await sm.acquireLease({ publicIP: '172.18.0.2', backendType: 'vxlan' });
 * ```
 */
export function createLocalSubnetManager(options: LocalSubnetManagerOptions): SubnetManager & { readonly registry: SubnetRegistry } {
  const registry = createSubnetRegistry(options.datastore, { ...(options.prefix !== undefined ? { prefix: options.prefix } : {}), clock: options.clock });
  const ttl = options.subnetTtlSeconds ?? SUBNET_TTL_SECONDS;
  const previous = options.previousSubnet;

  async function getNetworkConfig(): Promise<FlannelNetConf> {
    return checkNetConf(parseNetConf(await registry.getNetworkConfig()));
  }

  const toLease = (l: StoredLease, expiration?: number): FlannelLease => ({ subnet: l.subnet, attrs: l.attrs, ...(expiration !== undefined ? { expiration } : {}) });

  /** One attempt; `undefined` when a creation race was lost. */
  async function tryAcquire(config: FlannelNetConf, attrs: LeaseAttrs): Promise<FlannelLease | undefined> {
    const leases = await registry.getSubnets();
    const mine = leases.find((l) => l.attrs.publicIP === attrs.publicIP);
    if (mine !== undefined) {
      if (compatible(config, mine.subnet)) {
        const exp = await registry.updateSubnet(mine.subnet, attrs, mine.leaseId === '0' ? 0 : ttl);
        return { subnet: mine.subnet, attrs, ...(exp !== undefined ? { expiration: exp } : {}) };
      }
      await registry.deleteSubnet(mine.subnet);
    }
    let sn: Ipv4Cidr | undefined;
    if (previous !== undefined && !leases.some((l) => l.subnet.address === previous.address && l.subnet.prefix === previous.prefix) && compatible(config, previous)) {
      sn = previous;
    }
    if (sn === undefined) {
      const free = freeSubnets(config, leases);
      if (free.length === 0) throw new KnetError('ENOSPC', 'out of subnets', { network: formatIpv4Cidr(config.network) });
      sn = free[Math.floor(options.rng.nextFloat() * free.length)]!;
    }
    const exp = await registry.createSubnet(sn, attrs, ttl);
    return exp === undefined ? undefined : { subnet: sn, attrs, expiration: exp };
  }

  return {
    name: `Etcd Local Manager with Previous Subnet: ${previous === undefined ? 'None' : formatIpv4Cidr(previous)}`,
    registry,
    getNetworkConfig,
    async acquireLease(attrs) {
      const config = await getNetworkConfig();
      for (let i = 0; i < RACE_RETRIES; i++) {
        const l = await tryAcquire(config, attrs);
        if (l !== undefined) return l;
      }
      throw new KnetError('EBUSY', 'Max retries reached trying to acquire a subnet', { publicIP: attrs.publicIP });
    },
    async renewLease(lease) {
      const exp = await registry.updateSubnet(lease.subnet, lease.attrs, ttl);
      return { subnet: lease.subnet, attrs: lease.attrs, ...(exp !== undefined ? { expiration: exp } : {}) };
    },
    async listLeases() {
      return (await registry.getSubnets()).map((l) => toLease(l));
    },
    async lookupLease(subnet) {
      const e = await options.datastore.get(registry.keyOf(subnet));
      if (e === undefined) return undefined;
      try {
        return { subnet, attrs: parseLeaseAttrs(e.value) };
      } catch {
        return undefined;
      }
    },
    async storedVtepMac() {
      return undefined;
    },
  };
}
