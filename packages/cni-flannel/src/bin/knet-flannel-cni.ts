#!/usr/bin/env node
/**
 * The `flannel` CNI meta plugin as an executable (`knet-flannel`; install it as `flannel` in a
 * `CNI_PATH` directory, `/opt/cni/bin/flannel`, for kube-flannel.yml's conflist): reads flanneld's
 * `subnet.env`, saves the delegate config under `dataDir/<containerID>` and runs the delegate
 * (`bridge` by default) found along `CNI_PATH`, with the same environment, as flannel-io/cni-plugin
 * does with `invoke.DelegateAdd` / `DelegateDel`.
 *
 * @packageDocumentation
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createProcessCniExec, findCniPlugin, runCniPluginMain } from '@knet/core/linux';
import pkg from '../../package.json' with { type: 'json' };
import { createFlannelCniPlugin } from '../cni/flannel-cni-plugin.js';

const exec = createProcessCniExec({ stderr: (t) => process.stderr.write(t) });

const plugin = createFlannelCniPlugin({
  async readFile(path) {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      throw new Error(`open ${path}: ${code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
    }
  },
  async writeFile(path, data) {
    // saveScratchNetConf: the directory 0700, the file 0600.
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, data, { mode: 0o600 });
  },
  async removeFile(path) {
    await rm(path, { force: true });
  },
  async delegate({ type, command, stdin, args }) {
    const pluginPath = findCniPlugin(type, args.path.split(':').filter((p) => p !== ''));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    return exec.execPlugin(pluginPath, stdin, { ...env, CNI_COMMAND: command });
  },
  about: `CNI plugin knet-flannel v${pkg.version}`,
});

await runCniPluginMain(plugin);
