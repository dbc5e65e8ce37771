import { KnetError } from '../../errors/knet-error.js';

/** `net.<ipv4|ipv6>.<conf|neigh>.<device>.<key>`: the device part may itself hold dots (`flannel.1`). */
const DEVICE_KEY_RE = /^net\.(ipv4|ipv6)\.(conf|neigh)\.(.+)\.([A-Za-z0-9_-]+)$/;
const COMPONENT_RE = /^[A-Za-z0-9_.:@+-]+$/;

/**
 * The path under `/proc/sys` of a per-namespace sysctl, in the slash form `sysctl(8)` accepts
 * (`net/ipv4/conf/flannel.1/rp_filter`). Keys may be given dotted (`net.ipv4.ip_forward`,
 * `net.ipv4.conf.flannel.1.rp_filter`) or slashed (`net/ipv4/ip_forward`).
 *
 * @remarks
 * Only keys under `net.` are accepted: inside a network namespace `/proc/sys/net` shows that
 * namespace's own tables (the kernel registers init-only tables, such as most of `net.core`, in
 * the initial namespace alone), whereas `kernel.*`, `vm.*` or `fs.*` written through
 * `ip netns exec` would change the whole machine (`kernel.hostname` is not even per network
 * namespace). Components are checked so that no key can climb out of `/proc/sys/net`.
 * @throws KnetError `EPERM` for a key outside `net.`, `EINVAL` for a malformed key.
 * @see sysctl(8); linux Documentation/networking/ip-sysctl.rst; net/sysctl_net.c
 * @example
 * ```ts
 * import { sysctlPath } from '@knet/core/linux';
 * sysctlPath('net.ipv4.conf.flannel.1.rp_filter'); // 'net/ipv4/conf/flannel.1/rp_filter'
 * ```
 */
export function sysctlPath(key: string): string {
  let parts: string[];
  if (key.includes('/')) parts = key.split('/');
  else {
    const m = DEVICE_KEY_RE.exec(key);
    parts = m !== null ? ['net', m[1]!, m[2]!, m[3]!, m[4]!] : key.split('.');
  }
  if (parts[0] !== 'net') {
    throw new KnetError('EPERM', `refusing sysctl "${key}": only per-namespace keys under net. are written inside a namespace`, { key });
  }
  if (parts.length < 2 || parts.some((p) => p === '' || p === '.' || p === '..' || !COMPONENT_RE.test(p))) {
    throw new KnetError('EINVAL', `invalid sysctl key "${key}"`, { key });
  }
  return parts.join('/');
}
