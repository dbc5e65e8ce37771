#!/usr/bin/env node
/**
 * The `knet-kubenet` CNI plugin run once, in this process: kubenet's loopback + bridge +
 * host-local for one pod, on real network namespaces (LinuxHost), with host-local's state on
 * disk in the reference format. The launcher `knet-kubenet` (the package `bin`) runs it when no
 * `knet-kubenet-agent` serves the node; it can also be installed as the plugin itself.
 *
 * @packageDocumentation
 */
import { createResidentRunner, runCniPluginMain } from '@knet/core/linux';
import { createKubenetLinuxPlugin } from './linux-plugin.js';

// One helper per namespace instead of a process per command: a pod's ADD starts three programs, not twenty.
const runner = createResidentRunner();
try {
  await runCniPluginMain(createKubenetLinuxPlugin({ runner }));
} finally {
  await runner.close();
}
