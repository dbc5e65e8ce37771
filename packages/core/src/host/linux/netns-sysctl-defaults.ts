/**
 * IPv4 per-interface settings a new namespace starts from, as in a freshly booted kernel (and
 * as SimHost's sysctl table starts). @see linux Documentation/networking/ip-sysctl.rst
 */
const IPV4_CONF_BOOT_DEFAULTS: readonly (readonly [string, string])[] = [
  ['forwarding', '0'],
  ['rp_filter', '0'],
  ['proxy_arp', '0'],
  ['route_localnet', '0'],
  ['arp_ignore', '0'],
  ['arp_announce', '0'],
  ['arp_notify', '0'],
  ['accept_local', '0'],
  ['send_redirects', '1'],
  ['accept_redirects', '1'],
];

/** Options of {@link netnsSysctlDefaults}. */
export interface NetnsSysctlDefaultsOptions {
  /** Turn IPv6 off (`disable_ipv6=1` for `all` and `default`). Default true. */
  readonly disableIpv6?: boolean;
}

/**
 * The sysctls {@link LinuxHost} writes into every namespace it creates, before anything else
 * happens in it, so that a lab namespace behaves the same on every machine and like SimHost.
 *
 * @remarks
 * - `net.ipv6.conf.{all,default}.disable_ipv6=1`: knet models IPv4 (docs/decisions/0002).
 *   Without it every device gets a link-local address, sends router and neighbour
 *   solicitations and MLD reports, and the kernel adds `fe80::/64` routes and IPv6
 *   neighbours: noise in captures and in `ip` output that SimHost does not have. (The
 *   `33:33:00:00:00:01` FDB entry of every Ethernet device stays: the kernel adds it anyway,
 *   and SimHost reproduces it.)
 * - `net.ipv4.conf.{all,default,lo}.{forwarding, rp_filter, proxy_arp, route_localnet,
 *   arp_ignore, arp_announce, arp_notify, accept_local, send_redirects, accept_redirects}` set to
 *   the kernel's boot defaults: with `net.core.devconf_inherit_init_net=0` (the default) a new
 *   namespace copies IPv4 `conf/all` and `conf/default` from the machine's initial namespace,
 *   so a host with `rp_filter=2` (Ubuntu's systemd default) or `ip_forward=1` (any Docker host)
 *   would otherwise hand those to every lab node and pod.
 *
 * Left alone on purpose: `lo` stays down until the plugin sets it up (the CNI loopback plugin
 * does, and a pod without it behaves differently); `net.bridge.bridge-nf-call-*` keep the
 * per-namespace br_netfilter default (1), which SimHost also assumes.
 * @see linux Documentation/admin-guide/sysctl/net.rst (devconf_inherit_init_net)
 * @example
 * ```ts
 * import { netnsSysctlDefaults } from '@knet/core/linux';
 * netnsSysctlDefaults()[0]; // ['net.ipv6.conf.all.disable_ipv6', '1']
 * ```
 */
export function netnsSysctlDefaults(options: NetnsSysctlDefaultsOptions = {}): [string, string][] {
  const out: [string, string][] = [];
  if (options.disableIpv6 ?? true) {
    out.push(['net.ipv6.conf.all.disable_ipv6', '1'], ['net.ipv6.conf.default.disable_ipv6', '1']);
  }
  for (const dev of ['all', 'default', 'lo']) {
    for (const [k, v] of IPV4_CONF_BOOT_DEFAULTS) out.push([`net.ipv4.conf.${dev}.${k}`, v]);
  }
  return out;
}
