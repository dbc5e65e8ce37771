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
import { cniLauncherScript, runCniPlugin, toCniError } from '@knet/core';
import { commandNetns, createResidentRunner, isOwnNetns, startCniAgent, type CommandRunner } from '@knet/core/linux';
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

// The node's helpers stay for the agent's lifetime; each invocation's pod gets its own, ended after it.
const nodeRunner = createResidentRunner();
const agent = await startCniAgent({
  name: 'knet-kubenet',
  serve: async (io) => {
    const podRunner = createResidentRunner();
    const runner: CommandRunner = (file, argv, opts) => (commandNetns(file, argv) === hostNetns ? nodeRunner : podRunner)(file, argv, opts);
    try {
      return await runCniPlugin(createKubenetLinuxPlugin({ runner, hostNetns }), { ...io, isOwnNetns });
    } finally {
      // After the reply is on its way: the pod's helpers end on their own.
      void podRunner.close();
    }
  },
});
process.stderr.write(`knet-kubenet-agent: serving ${agent.dir} for ${hostNetns}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await agent.close();
  await nodeRunner.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
