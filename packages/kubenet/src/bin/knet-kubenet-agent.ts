#!/usr/bin/env node
/**
 * `knet-kubenet-agent`: serves the `knet-kubenet` CNI plugin from a resident process on a node,
 * for the launcher a CNI runtime executes (see `startCniAgent` and `cniLauncherScript` in
 * `@knet/core`). Run it inside the node's network namespace, as root, for as long as the node
 * runs pods; it keeps its iproute2 helpers for the node's namespace between invocations.
 *
 * ```
 * knet-kubenet-agent                 serve (until SIGINT or SIGTERM)
 * knet-kubenet-agent install DIR     write the launcher DIR/knet-kubenet (absolute paths)
 * ```
 *
 * @packageDocumentation
 */
import { chmodSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cniLauncherScript, runCniPlugin, toCniError, type CniPluginConf } from '@knet/core';
import {
  commandNetns,
  createFlockHelper,
  createHelperSpares,
  createResidentRunner,
  FileIpamStore,
  isOwnNetns,
  startCniAgent,
  type CommandRunner,
  type FlockHold,
} from '@knet/core/linux';
import { parseKubenetCniConf } from '../cni/kubenet-cni-conf.js';
import { resolveKnetNetns } from '../cni/resolve-knet-netns.js';
import { createKubenetLinuxPlugin } from './linux-plugin.js';

const USAGE = 'usage: knet-kubenet-agent [install DIR]\n';
const args = process.argv.slice(2);

function fail(message: string, code = 1): never {
  process.stderr.write(`knet-kubenet-agent: ${message}\n`);
  process.exit(code);
}

if (args[0] === '--help' || args[0] === '-h') {
  process.stdout.write(USAGE);
  process.exit(0);
}

if (args[0] === 'install') {
  const dir = args[1];
  if (dir === undefined || args.length !== 2) fail(`install needs one directory\n${USAGE}`, 2);
  if (!existsSync(dir)) fail(`install: ${dir}: no such directory`);
  const entry = join(dirname(fileURLToPath(import.meta.url)), 'knet-kubenet-cni.js');
  const target = join(dir, 'knet-kubenet');
  // Written aside and renamed: a runtime executing the plugin meanwhile sees the old or the new file.
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, cniLauncherScript({ name: 'knet-kubenet', entry, node: process.execPath }));
  chmodSync(tmp, 0o755);
  renameSync(tmp, target);
  process.stdout.write(`${target}\n`);
  process.exit(0);
}
if (args.length > 0) fail(`unknown argument "${args[0]}"\n${USAGE}`, 2);

let hostNetns: string;
try {
  hostNetns = resolveKnetNetns('/proc/self/ns/net') ?? '';
} catch (e) {
  fail(toCniError(e).message);
}

/** Commands that take host-local's lock. */
const LOCKING_COMMANDS: ReadonlySet<string> = new Set(['ADD', 'DEL', 'CHECK', 'GC']);

/** The pod's namespace name, when it has one this host can use (else the plugin reports it). */
function podNetnsOf(path: string | undefined): string | undefined {
  try {
    return path === undefined || path === '' ? undefined : resolveKnetNetns(path);
  } catch {
    return undefined;
  }
}

/** host-local's lock file for the configuration on stdin, when it parses (else the plugin reports it). */
function ipamLockOf(stdin: Uint8Array, cniArgs: string | undefined): string | undefined {
  try {
    const ipam = parseKubenetCniConf(JSON.parse(new TextDecoder().decode(stdin)) as CniPluginConf, cniArgs ?? '').ipam;
    return join(new FileIpamStore(ipam.name, { dataDir: ipam.dataDir, locking: 'held' }).dir, 'lock');
  } catch {
    return undefined;
  }
}

// The node's helpers stay for the agent's lifetime; each invocation's pod gets its own, ended
// after it, from processes started while the agent was idle.
const nodeRunner = createResidentRunner();
const spares = createHelperSpares(2);
spares.refill();
const locks = createFlockHelper();
const agent = await startCniAgent({
  name: 'knet-kubenet',
  afterServe: () => setImmediate(() => spares.refill()),
  serve: async (io) => {
    const podRunner = createResidentRunner({ spares });
    const runner: CommandRunner = (file, argv, opts) => (commandNetns(file, argv) === hostNetns ? nodeRunner : podRunner)(file, argv, opts);
    const command = io.env['CNI_COMMAND'] ?? '';
    // The pod's helpers start while the configuration is read and host-local's lock is taken.
    const pod = command === 'ADD' ? podNetnsOf(io.env['CNI_NETNS']) : undefined;
    if (pod !== undefined) podRunner.prepare(pod);
    let stdin: Uint8Array | undefined;
    let hold: FlockHold | undefined;
    try {
      if (LOCKING_COMMANDS.has(command)) {
        stdin = await io.stdin();
        // host-local's lock, taken here without stopping the agent, held for the invocation.
        const lock = ipamLockOf(stdin, io.env['CNI_ARGS']);
        if (lock !== undefined) hold = await locks.lock(lock);
      }
      const read = stdin;
      const plugin = createKubenetLinuxPlugin({ runner, hostNetns, ...(hold !== undefined ? { ipamLocking: 'held' as const } : {}) });
      return await runCniPlugin(plugin, { ...io, ...(read !== undefined ? { stdin: () => read } : {}), isOwnNetns });
    } finally {
      // The lock is released while the reply is on its way (the next holder waits for the
      // release); the pod's helpers end first: a plugin leaves no process in the pod's namespace
      // (one would keep a namespace the runtime deletes, and its veth pair, alive).
      void hold?.release();
      await podRunner.close({ kill: true });
    }
  },
});
process.stderr.write(`knet-kubenet-agent: serving ${agent.dir} for ${hostNetns}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await agent.close();
  await Promise.all([nodeRunner.close(), spares.close(), locks.close()]);
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
