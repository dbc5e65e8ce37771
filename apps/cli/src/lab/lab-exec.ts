import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { KnetError } from '@knet/core';
import { assertKnetNetns } from '@knet/core/linux';
import type { LabState } from './lab-state.js';

/**
 * The namespace of a lab target: `NS/POD` (or `POD` in namespace `default`) is the pod's
 * sandbox (its node's namespace for a hostNetwork pod), `node/NAME` a node's namespace,
 * `fabric` and `outside` the lab's own.
 * @throws KnetError `ENOENT` for a target the lab does not have.
 */
export function labTargetNetns(state: LabState, target: string): string {
  if (target === 'fabric') return state.fabric;
  if (target === 'outside') return state.outside;
  if (target.startsWith('node/')) {
    const ns = state.nodes[target.slice(5)];
    if (ns === undefined) throw new KnetError('ENOENT', `lab ${state.name} has no node "${target.slice(5)}" (nodes: ${Object.keys(state.nodes).join(', ')})`, { value: target });
    return ns;
  }
  const key = target.includes('/') ? target : `default/${target}`;
  const pod = state.pods.find((p) => p.key === key);
  if (pod === undefined) throw new KnetError('ENOENT', `lab ${state.name} has no pod "${key}" (try node/NAME, fabric, outside or NS/POD)`, { value: target });
  return pod.netns;
}

/** What a command run by {@link labExec} left: exit status and, when captured, its output. */
export interface LabExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command inside a lab namespace (`ip netns exec NS CMD...`). Standard input is
 * passed through; standard output and error are passed through (`inherit`) or captured and
 * returned. The exit status is the command's (128 + signal number when a signal ended it, as
 * shells report it).
 * @throws KnetError `EPERM` for a namespace outside the lab, `EINVAL` for an empty command,
 * `EOPNOTSUPP` when `ip` cannot be started.
 */
export function labExec(state: LabState, netns: string, argv: readonly string[], options: { readonly inherit: boolean }): Promise<LabExecResult> {
  assertKnetNetns(netns, state.prefix);
  if (argv.length === 0) throw new KnetError('EINVAL', 'lab exec: no command (knet lab exec NS/POD -- CMD...)', { netns });
  const child = spawn('ip', ['netns', 'exec', netns, ...argv], {
    stdio: ['inherit', options.inherit ? 'inherit' : 'pipe', options.inherit ? 'inherit' : 'pipe'],
    env: { ...process.env, PATH: `${process.env['PATH'] ?? '/usr/bin:/bin'}:/usr/local/sbin:/usr/sbin:/sbin` },
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  return new Promise((resolve, reject) => {
    child.on('error', (e) => reject(new KnetError('EOPNOTSUPP', `ip: ${e.message}`, { netns })));
    child.on('close', (code, signal) => {
      const signo = signal !== null ? constants.signals[signal] : 0;
      resolve({ code: code ?? 128 + signo, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
