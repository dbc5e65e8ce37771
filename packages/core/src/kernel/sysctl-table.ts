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
  /** Namespace-wide keys. */
  private readonly globals = new Map<string, string>();
  /**
   * Per-device values that differ from the compiled-in defaults, keyed `ipv4.conf.<key>`,
   * `ipv6.conf.<key>` or `ipv4.neigh.<key>`. Devices without overrides share no storage, so a
   * 30,000-pod cluster does not hold millions of identical strings.
   */
  private readonly devices = new Map<string, Map<string, string>>();
  private readonly netns: SimNetns;

  constructor(netns: SimNetns) {
    this.netns = netns;
    for (const [k, v] of Object.entries(GLOBAL_DEFAULTS)) this.globals.set(k, v);
    this.devices.set('all', new Map());
    this.devices.set('default', new Map());
  }

  /** Creates a device's per-interface keys as a copy of `conf.default` (called when a device appears). */
  initDevice(dev: string, from = 'default'): void {
    const base = this.devices.get(from);
    const copy = new Map<string, string>();
    if (base !== undefined) {
      // The neigh keys start from their defaults, the conf keys from `default`.
      for (const [k, v] of base) if (!k.startsWith('ipv4.neigh.')) copy.set(k, v);
    }
    this.devices.set(dev, copy);
  }

  /** Removes a device's keys. */
  removeDevice(dev: string): void {
    this.devices.delete(dev);
  }

  /** Renames a device's keys. */
  renameDevice(from: string, to: string): void {
    const m = this.devices.get(from);
    if (m === undefined) return;
    this.devices.delete(from);
    this.devices.set(to, m);
  }

  /** Normalises `net/ipv4/ip_forward` to `net.ipv4.ip_forward`. */
  private static norm(key: string): string {
    return key.includes('/') ? key.replace(/\//g, '.') : key;
  }

  /** Splits `net.ipv4.conf.eth0.rp_filter` into (`eth0`, `ipv4.conf.rp_filter`), or undefined for a global key. */
  private deviceKey(key: string): { dev: string; sub: string; def: string } | undefined {
    const m = /^net\.(ipv4|ipv6)\.(conf|neigh)\.(.+)\.([a-z0-9_]+)$/.exec(key);
    if (m === null) return undefined;
    const [, fam, kind, dev, name] = m as unknown as [string, string, string, string, string];
    const table = kind === 'neigh' ? (fam === 'ipv4' ? NEIGH_DEFAULTS : undefined) : fam === 'ipv4' ? IPV4_CONF_DEFAULTS : IPV6_CONF_DEFAULTS;
    const def = table?.[name];
    if (def === undefined) return undefined;
    return { dev, sub: `${fam}.${kind}.${name}`, def };
  }

  private lookup(key: string): string | undefined {
    const g = this.globals.get(key);
    if (g !== undefined) return g;
    const d = this.deviceKey(key);
    if (d === undefined) return undefined;
    const m = this.devices.get(d.dev);
    if (m === undefined) return undefined;
    return m.get(d.sub) ?? d.def;
  }

  /** Reads a key. @throws KnetError `ENOENT` for an unknown key (as `sysctl: cannot stat /proc/sys/...`). */
  get(key: string): string {
    const k = SysctlTable.norm(key);
    const v = this.lookup(k);
    if (v === undefined) {
      throw new KnetError('ENOENT', `sysctl: cannot stat /proc/sys/${k.replace(/\./g, '/')}: No such file or directory`, { key });
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
    const d = this.deviceKey(k);
    if (d === undefined) this.globals.set(k, value);
    else this.devices.get(d.dev)!.set(d.sub, value);
    if (d?.sub === 'ipv4.conf.proxy_arp' && value !== '0') this.anyProxyArp = true;
    if (k === 'net.ipv4.ip_forward' || k === 'net.ipv4.conf.all.forwarding') {
      this.globals.set('net.ipv4.ip_forward', value);
      for (const m of this.devices.values()) m.set('ipv4.conf.forwarding', value);
    }
  }

  /** Numeric read of a key that exists (hot path helper). */
  num(key: string): number {
    return Number(this.lookup(key) ?? '0');
  }

  private devValue(dev: string, sub: string, def: string): string {
    return this.devices.get(dev)?.get(sub) ?? def;
  }

  /** True when IPv4 forwarding is on for a device (`conf.<dev>.forwarding`). */
  forwarding(dev: string): boolean {
    return this.devValue(dev, 'ipv4.conf.forwarding', '0') === '1';
  }

  /** The effective rp_filter for a device: the maximum of `all` and the device's value. */
  rpFilter(dev: string): number {
    return Math.max(Number(this.devValue('all', 'ipv4.conf.rp_filter', '0')), Number(this.devValue(dev, 'ipv4.conf.rp_filter', '0')));
  }

  /** The effective proxy_arp for a device: `all` OR the device's value. */
  proxyArp(dev: string): boolean {
    if (!this.anyProxyArp) return false;
    return this.devValue('all', 'ipv4.conf.proxy_arp', '0') === '1' || this.devValue(dev, 'ipv4.conf.proxy_arp', '0') === '1';
  }

  /** False while no device has proxy_arp on: the ARP path then skips two lookups per frame. */
  private anyProxyArp = false;

  /** Every key and value, sorted (what `sysctl -a` would list for the keys knet models). */
  entries(): [string, string][] {
    const out = new Map(this.globals);
    for (const [dev, m] of this.devices) {
      for (const [k, def] of Object.entries(IPV4_CONF_DEFAULTS)) out.set(`net.ipv4.conf.${dev}.${k}`, m.get(`ipv4.conf.${k}`) ?? def);
      for (const [k, def] of Object.entries(IPV6_CONF_DEFAULTS)) out.set(`net.ipv6.conf.${dev}.${k}`, m.get(`ipv6.conf.${k}`) ?? def);
      if (dev !== 'all') for (const [k, def] of Object.entries(NEIGH_DEFAULTS)) out.set(`net.ipv4.neigh.${dev}.${k}`, m.get(`ipv4.neigh.${k}`) ?? def);
    }
    return [...out].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}
