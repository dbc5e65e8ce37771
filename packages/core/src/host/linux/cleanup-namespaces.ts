import { existsSync, readdirSync } from 'node:fs';
import { KnetError } from '../../errors/knet-error.js';
import { commandError } from './command-error.js';
import { spawnCommand, type CommandRunner } from './command-runner.js';
import { KNET_NETNS_PREFIX, NETNS_RUN_DIR } from './knet-netns.js';

/** Options of {@link cleanupNamespaces}. */
export interface CleanupNamespacesOptions {
  /** Runs the tools; default {@link spawnCommand}. */
  readonly runner?: CommandRunner;
  /** How long to wait for killed processes to leave a namespace (default 10,000 ms). */
  readonly timeoutMs?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Deletes every network namespace whose name starts with `knet-<prefix>` (a prefix that already
 * starts with `knet-` is taken as it is), killing the processes still inside each one first
 * (`ip netns pids`), so that nothing keeps a namespace alive after a crashed run. Idempotent:
 * with nothing left it does nothing. Returns the names it deleted, sorted.
 *
 * @remarks
 * Linux equivalent: `for ns in $(ip netns list | grep ^knet-PREFIX); do kill -9 $(ip netns pids
 * $ns); ip netns del $ns; done`. Names are read from `/run/netns`. The kernel destroys each
 * namespace (and its devices) asynchronously after the last reference is gone.
 * @throws KnetError `EINVAL` for an empty prefix (which would take every knet namespace on the
 * machine, including other labs'), `EBUSY` when processes do not exit in time.
 * @example
 * ```ts
 * import { cleanupNamespaces } from '@knet/core/linux';
 * await cleanupNamespaces('example'); // deletes knet-example-*, e.g. after `knet lab up` crashed
 * ```
 */
export async function cleanupNamespaces(prefix: string, options: CleanupNamespacesOptions = {}): Promise<string[]> {
  const full = prefix.startsWith(KNET_NETNS_PREFIX) ? prefix : `${KNET_NETNS_PREFIX}${prefix}`;
  if (full.length <= KNET_NETNS_PREFIX.length || !/^[A-Za-z0-9._-]+$/.test(full)) {
    throw new KnetError('EINVAL', `cleanupNamespaces: invalid prefix "${prefix}"`, { prefix });
  }
  const run = options.runner ?? spawnCommand;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!existsSync(NETNS_RUN_DIR)) return [];
  const names = readdirSync(NETNS_RUN_DIR).filter((n) => n.startsWith(full)).sort();
  await Promise.all(
    names.map(async (name) => {
      const deadline = Date.now() + timeoutMs;
      for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
        const r = await run('ip', ['netns', 'pids', name], { timeoutMs });
        const pids = r.code === 0 ? r.stdout.split('\n').map((s) => s.trim()).filter((s) => /^\d+$/.test(s)).map(Number) : [];
        if (pids.length === 0) break;
        if (Date.now() > deadline) {
          throw new KnetError('EBUSY', `processes ${pids.join(', ')} are still inside namespace ${name}`, { netns: name, pids });
        }
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        await sleep(wait);
      }
      const r = await run('ip', ['netns', 'del', name], { timeoutMs });
      // Someone else deleting it at the same time is fine: the goal is that it is gone.
      if (r.code !== 0 && existsSync(`${NETNS_RUN_DIR}/${name}`)) {
        throw commandError(r, { command: `ip netns del ${name}`, netns: name });
      }
    }),
  );
  return names;
}
