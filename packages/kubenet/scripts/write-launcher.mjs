// Writes dist/bin/knet-kubenet (package.json `bin.knet-kubenet`): the launcher a CNI runtime
// executes. It hands each invocation to a knet-kubenet-agent serving the node, or runs
// knet-kubenet-cni.js, which it finds beside itself, with Node.js.
import { chmodSync, renameSync, writeFileSync } from 'node:fs';
import { cniLauncherScript } from '@knet/core';

const out = new URL('../dist/bin/knet-kubenet', import.meta.url).pathname;
writeFileSync(`${out}.tmp`, cniLauncherScript({ name: 'knet-kubenet', entry: 'knet-kubenet-cni.js', relative: true }));
chmodSync(`${out}.tmp`, 0o755);
renameSync(`${out}.tmp`, out);
