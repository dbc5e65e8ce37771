import { KnetError } from '../../errors/knet-error.js';

/** Every network namespace knet creates or touches on a real machine starts with this. */
export const KNET_NETNS_PREFIX = 'knet-';

/** Where iproute2 keeps named network namespaces (NETNS_RUN_DIR): one bind-mounted file each. @see ip-netns(8) */
export const NETNS_RUN_DIR = '/run/netns';

/** NAME_MAX: a namespace is a file under /run/netns. */
const NETNS_NAME_MAX = 255;
const NETNS_NAME_RE = /^[A-Za-z0-9._-]+$/;

/**
 * Checks that a namespace name is one knet may touch: it starts with `prefix` (itself starting
 * with `knet-`) and is a plain file name, safe as an iproute2 batch argument.
 *
 * @remarks This is the guard that keeps the lab out of the machine's root namespace and out of
 * namespaces other software owns (`cni-...`, container runtimes' namespaces).
 * @throws KnetError `EPERM` for a name outside the prefix, `EINVAL` for a malformed name.
 * @example
 * ```ts
 * import { assertKnetNetns } from '@knet/core/linux';
 * assertKnetNetns('knet-example-node-node-1'); // ok
 * assertKnetNetns('cni-1234'); // throws EPERM
 * ```
 */
export function assertKnetNetns(name: string, prefix: string = KNET_NETNS_PREFIX): void {
  if (!prefix.startsWith(KNET_NETNS_PREFIX)) {
    throw new KnetError('EPERM', `namespace prefix "${prefix}" does not start with "${KNET_NETNS_PREFIX}"`, { prefix });
  }
  if (!name.startsWith(prefix) || name.length === prefix.length) {
    throw new KnetError('EPERM', `refusing to touch network namespace "${name}": knet only manages namespaces named "${prefix}..."`, {
      netns: name,
      prefix,
    });
  }
  if (name.length > NETNS_NAME_MAX || !NETNS_NAME_RE.test(name)) {
    throw new KnetError('EINVAL', `Invalid netns name "${name}"`, { netns: name });
  }
}
