import { KnetError } from '../errors/knet-error.js';
import type { SimNetns } from './sim-netns.js';

/** Per-interface IPv4 keys (`net.ipv4.conf.<if>.<key>`) and their kernel defaults. @see linux Documentation/networking/ip-sysctl.rst */
const IPV4_CONF_DEFAULTS: Readonly<Record<string, string>> = {
  forwarding: '0',
  rp_filter: '0',
  proxy_arp: '0',
  route_localnet: '0',
  arp_ignore: '0',
  arp_announce: '0',
  arp_notify: '0',
  accept_local: '0',
  send_redirects: '1',
  accept_redirects: '1',
};

/** Per-interface IPv6 keys knet accepts (plugins write them; IPv6 is not modelled further). */
const IPV6_CONF_DEFAULTS: Readonly<Record<string, string>> = {
  accept_ra: '1',
  accept_dad: '1',
  disable_ipv6: '0',
  forwarding: '0',
  dad_transmits: '1',
  enhanced_dad: '1',
};

/** Per-interface neighbour keys (`net.ipv4.neigh.<if>.<key>`). @see arp(7) */
const NEIGH_DEFAULTS: Readonly<Record<string, string>> = {
  base_reachable_time_ms: '30000',
  delay_first_probe_time: '5',
  gc_stale_time: '60',
  retrans_time_ms: '1000',
  ucast_solicit: '3',
  mcast_solicit: '3',
  unres_qlen: '101',
  proxy_delay: '80',
};

/** Namespace-wide keys and their defaults. */
const GLOBAL_DEFAULTS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '0',
  'net.ipv4.ip_local_port_range': '32768\t60999',
  'net.ipv4.neigh.default.gc_thresh1': '128',
  'net.ipv4.neigh.default.gc_thresh2': '512',
  'net.ipv4.neigh.default.gc_thresh3': '1024',
  'net.ipv6.conf.all.forwarding': '0',
  // br_netfilter defaults once the module is loaded (knet's nodes behave as if it is).
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
  'net.bridge.bridge-nf-call-arptables': '1',
  'net.netfilter.nf_conntrack_tcp_timeout_established': '432000',
  'net.netfilter.nf_conntrack_udp_timeout': '30',
  'net.netfilter.nf_conntrack_udp_timeout_stream': '120',
  'net.netfilter.nf_conntrack_icmp_timeout': '30',
  'net.netfilter.nf_conntrack_generic_timeout': '600',
};

/**
 * The sysctls of one namespace that decide forwarding and neighbour behaviour.
 *
 * @remarks Linux equivalent: `/proc/sys/net/...` inside the namespace. Writing
 * `net.ipv4.ip_forward` also sets `conf.all.forwarding`, `conf.default.forwarding` and every
 * device's `forwarding`, as `devinet_sysctl_forward()` → `inet_forward_change()` does.
 * Per-interface keys appear with the device and start from `conf.default`.
 */
export class SysctlTable {
  private readonly values = new Map<string, string>();
  private readonly netns: SimNetns;

  constructor(netns: SimNetns) {
    this.netns = netns;
    for (const [k, v] of Object.entries(GLOBAL_DEFAULTS)) this.values.set(k, v);
    for (const dev of ['all', 'default']) this.initDevice(dev, dev);
  }

  /** Creates a device's per-interface keys from `conf.default` (called when a device appears). */
  initDevice(dev: string, from = 'default'): void {
    for (const [k, v] of Object.entries(IPV4_CONF_DEFAULTS)) {
      this.values.set(`net.ipv4.conf.${dev}.${k}`, this.values.get(`net.ipv4.conf.${from}.${k}`) ?? v);
    }
    for (const [k, v] of Object.entries(IPV6_CONF_DEFAULTS)) {
      this.values.set(`net.ipv6.conf.${dev}.${k}`, this.values.get(`net.ipv6.conf.${from}.${k}`) ?? v);
    }
    for (const [k, v] of Object.entries(NEIGH_DEFAULTS)) {
      this.values.set(`net.ipv4.neigh.${dev}.${k}`, v);
    }
  }

  /** Removes a device's keys. */
  removeDevice(dev: string): void {
    for (const prefix of [`net.ipv4.conf.${dev}.`, `net.ipv6.conf.${dev}.`, `net.ipv4.neigh.${dev}.`]) {
      for (const k of [...this.values.keys()]) if (k.startsWith(prefix)) this.values.delete(k);
    }
  }

  /** Renames a device's keys. */
  renameDevice(from: string, to: string): void {
    for (const prefix of ['net.ipv4.conf.', 'net.ipv6.conf.', 'net.ipv4.neigh.']) {
      for (const [k, v] of [...this.values]) {
        if (k.startsWith(`${prefix}${from}.`)) {
          this.values.delete(k);
          this.values.set(`${prefix}${to}.${k.slice(prefix.length + from.length + 1)}`, v);
        }
      }
    }
  }

  /** Normalises `net/ipv4/ip_forward` to `net.ipv4.ip_forward`. */
  private static norm(key: string): string {
    return key.includes('/') ? key.replace(/\//g, '.') : key;
  }

  /** Reads a key. @throws KnetError `ENOENT` for an unknown key (as `sysctl: cannot stat /proc/sys/...`). */
  get(key: string): string {
    const v = this.values.get(SysctlTable.norm(key));
    if (v === undefined) {
      throw new KnetError('ENOENT', `sysctl: cannot stat /proc/sys/${SysctlTable.norm(key).replace(/\./g, '/')}: No such file or directory`, { key });
    }
    return v;
  }

  /** Writes a key. @throws KnetError `ENOENT` for an unknown key, `EINVAL` for a non-numeric value of a numeric key. */
  set(key: string, value: string): void {
    const k = SysctlTable.norm(key);
    const old = this.get(k);
    if (/^\d+$/.test(old) && !/^\d+$/.test(value)) {
      throw new KnetError('EINVAL', `sysctl: setting key "${k}": Invalid argument`, { key: k, value });
    }
    this.values.set(k, value);
    if (k === 'net.ipv4.ip_forward' || k === 'net.ipv4.conf.all.forwarding') {
      this.values.set('net.ipv4.ip_forward', value);
      this.values.set('net.ipv4.conf.all.forwarding', value);
      this.values.set('net.ipv4.conf.default.forwarding', value);
      for (const name of this.netns.links.keys()) this.values.set(`net.ipv4.conf.${name}.forwarding`, value);
    }
  }

  /** Numeric read of a key that exists (hot path helper). */
  num(key: string): number {
    return Number(this.values.get(key) ?? '0');
  }

  /** True when IPv4 forwarding is on for a device (`conf.<dev>.forwarding`). */
  forwarding(dev: string): boolean {
    return this.values.get(`net.ipv4.conf.${dev}.forwarding`) === '1';
  }

  /** The effective rp_filter for a device: the maximum of `all` and the device's value. */
  rpFilter(dev: string): number {
    return Math.max(this.num('net.ipv4.conf.all.rp_filter'), this.num(`net.ipv4.conf.${dev}.rp_filter`));
  }

  /** The effective proxy_arp for a device: `all` OR the device's value. */
  proxyArp(dev: string): boolean {
    return this.num('net.ipv4.conf.all.proxy_arp') === 1 || this.num(`net.ipv4.conf.${dev}.proxy_arp`) === 1;
  }

  /** Every key and value, sorted (what `sysctl -a` would list for the keys knet models). */
  entries(): [string, string][] {
    return [...this.values].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}
