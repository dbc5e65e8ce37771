/**
 * IP sets as plain data.
 *
 * @remarks Linux equivalent: net/netfilter/ipset (ip_set_hash_ip.c, ip_set_hash_net.c,
 * ip_set_hash_ipport.c, ip_set_hash_ipportip.c, ip_set_hash_ipportnet.c, ip_set_bitmap_port.c)
 * as `ipset save` (ipset 7.17) renders them.
 * @see ipset(8)
 */

/** The set types knet implements: those kube-proxy (IPVS mode), Calico and Weave create. */
export type IpsetType = 'hash:ip' | 'hash:net' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

/** All implemented types. */
export const IPSET_TYPES: readonly IpsetType[] = [
  'hash:ip',
  'hash:net',
  'hash:ip,port',
  'hash:ip,port,ip',
  'hash:ip,port,net',
  'bitmap:port',
];

/** Number of dimensions of each type (how many `src`/`dst` flags `-m set` needs). */
export const IPSET_DIMENSIONS: Readonly<Record<IpsetType, number>> = {
  'hash:ip': 1,
  'hash:net': 1,
  'hash:ip,port': 2,
  'hash:ip,port,ip': 3,
  'hash:ip,port,net': 3,
  'bitmap:port': 1,
};

/** `create` options, after defaults (hash types: family inet, hashsize 1024, maxelem 65536, bucketsize 12). */
export interface IpsetCreateOptions {
  readonly family: 'inet';
  /** Hash types: the table size, rounded up to a power of two, at least 64. */
  readonly hashsize: number;
  readonly maxelem: number;
  /** Hash types: entries per bucket. */
  readonly bucketsize: number;
  /** Hash types: jhash seed (`initval`); random in the kernel, seeded in knet. */
  readonly initval: number;
  /** `hash:ip` only: store addresses masked to this prefix. */
  readonly netmask?: number;
  /** Default timeout in seconds; absent when the set has no timeout support. */
  readonly timeout?: number;
  readonly counters: boolean;
  readonly comment: boolean;
  readonly skbinfo: boolean;
  /** `bitmap:port`: the port range. */
  readonly rangeFrom?: number;
  readonly rangeTo?: number;
}

/** One element of a set. Unused dimensions are 0. */
export interface IpsetElement {
  /** First address (`hash:*`). */
  readonly ip: number;
  /** Prefix of the first address (`hash:net`), 32 otherwise. */
  readonly cidr: number;
  /** IP protocol of the port dimension. */
  readonly proto: number;
  /** Port (`hash:ip,port*`, `bitmap:port`); for ICMP `type << 8 | code`. */
  readonly port: number;
  /** Third-dimension address (`hash:ip,port,ip|net`). */
  readonly ip2: number;
  /** Prefix of the third-dimension address (`hash:ip,port,net`), 32 otherwise. */
  readonly cidr2: number;
}

/** A stored element with its extensions. */
export interface IpsetEntry {
  readonly key: string;
  readonly elem: IpsetElement;
  /** Absolute expiry in knet clock nanoseconds; `Infinity` for `timeout 0`; absent without timeout support. */
  expires?: number;
  nomatch: boolean;
  packets: number;
  bytes: number;
  comment?: string;
  skbmark?: { readonly value: number; readonly mask: number };
}

/** What a membership test found: a match, a `nomatch` entry, or nothing. */
export type IpsetTestResult = 'match' | 'nomatch' | 'none';
