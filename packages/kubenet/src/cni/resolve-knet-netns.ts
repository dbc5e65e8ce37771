import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CNI_ERROR_CODES, CniError } from '@knet/core';
import { KNET_NETNS_PREFIX, NETNS_RUN_DIR } from '@knet/core/linux';

/**
 * The name under `/run/netns` of the network namespace at `path` (`/run/netns/NAME`,
 * `/var/run/netns/NAME`, `/proc/PID/ns/net`, `/proc/self/ns/net`), for a Host that addresses
 * namespaces by name: the entry with the same nsfs inode, a `knet-` name preferred.
 *
 * @returns `undefined` when nothing is at `path` (a namespace already deleted).
 * @throws CniError code 8 (invalid netns) when the namespace has no `knet-` name: LinuxHost only
 * manages namespaces named `knet-...`, so knet's executables run where both the node's and the
 * pod's namespaces have such names (the lab, the tests).
 */
export function resolveKnetNetns(path: string, runDir: string = NETNS_RUN_DIR): string | undefined {
  let target;
  try {
    target = statSync(path);
  } catch {
    return undefined;
  }
  // The usual case, `/run/netns/knet-...` itself (or through /var/run): no need to look at every
  // other namespace of the node.
  const named = /^(?:\/var)?\/run\/netns\/([^/]+)$/.exec(path)?.[1];
  if (named !== undefined && named.startsWith(KNET_NETNS_PREFIX)) {
    try {
      const s = statSync(join(runDir, named));
      if (s.dev === target.dev && s.ino === target.ino) return named;
    } catch {
      // not under runDir: look through all
    }
  }
  let names: string[] = [];
  try {
    names = readdirSync(runDir).sort();
  } catch {
    // no named namespaces at all
  }
  const same = names.filter((n) => {
    try {
      const s = statSync(join(runDir, n));
      return s.dev === target.dev && s.ino === target.ino;
    } catch {
      return false;
    }
  });
  const knet = same.find((n) => n.startsWith(KNET_NETNS_PREFIX));
  if (knet !== undefined) return knet;
  throw new CniError(
    CNI_ERROR_CODES.ErrInvalidNetNS,
    `the network namespace at ${path} has no ${KNET_NETNS_PREFIX}* name under ${runDir}`,
    same.length > 0 ? `its names: ${same.join(', ')}` : 'it has no name',
  );
}
