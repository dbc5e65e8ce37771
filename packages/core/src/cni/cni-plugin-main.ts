import { statSync } from 'node:fs';
import { CNI_ERROR_CODES, CniError } from './cni-error.js';
import { runCniPlugin } from './cni-skel.js';
import type { CniPlugin } from './cni-skel.js';

/**
 * True when `path` is the network namespace this process runs in (`ns.CheckNetNS`): the same
 * nsfs inode as `/proc/self/ns/net`. A path that cannot be opened is not the plugin's netns (the
 * plugin reports it itself; DEL accepts a netns that is already gone).
 *
 * @throws CniError code 8 `get plugin's netns failed` when `/proc/self/ns/net` is unreadable.
 * @see containernetworking/cni pkg/ns/ns_linux.go `CheckNetNS`
 */
export function isOwnNetns(path: string): boolean {
  let target;
  try {
    target = statSync(path);
  } catch {
    return false;
  }
  let own;
  try {
    own = statSync('/proc/self/ns/net');
  } catch {
    throw new CniError(CNI_ERROR_CODES.ErrInvalidNetNS, "get plugin's netns failed");
  }
  return target.dev === own.dev && target.ino === own.ino;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/**
 * The `main` of a CNI plugin executable: runs `plugin` on this process's environment, stdin,
 * stdout and stderr with {@link runCniPlugin}, and sets the exit code.
 *
 * @remarks Linux equivalent: `skel.PluginMainFuncs(...)` followed by `os.Exit(1)` on error. The
 * exit code is set with `process.exitCode`, so stdout is flushed before the process ends.
 * @example
 * ```ts
 * import { CNI_SPEC_VERSIONS } from '@knet/core';
 * import { runCniPluginMain } from '@knet/core/linux';
 * await runCniPluginMain({ add: () => ({ cniVersion: '1.0.0' }), del: () => {}, check: () => {}, versions: CNI_SPEC_VERSIONS });
 * ```
 */
export async function runCniPluginMain(plugin: CniPlugin): Promise<void> {
  const code = await runCniPlugin(plugin, {
    env: process.env,
    stdin: () => readAll(process.stdin),
    stdout: (t) => {
      process.stdout.write(t);
    },
    stderr: (t) => {
      process.stderr.write(t);
    },
    isOwnNetns,
  });
  process.exitCode = code;
}
