import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { KnetError, type BuiltCluster } from '@knet/core';
import type { LabEchoServer } from './lab-state.js';

/** The ports one namespace's echo server listens on. */
export interface EchoPorts {
  readonly netns: string;
  readonly tcp: readonly number[];
  readonly udp: readonly number[];
}

/**
 * The echo servers a built cluster needs: one per namespace with containerPorts (a pod's
 * sandbox, or the node's namespace for hostNetwork pods), listening on every TCP and UDP
 * containerPort of its pods (SCTP is left out), ports sorted. Namespaces without ports get none.
 */
export function echoPortsOf(cluster: BuiltCluster): EchoPorts[] {
  const byNs = new Map<string, { tcp: Set<number>; udp: Set<number> }>();
  for (const p of cluster.pods.values()) {
    for (const c of p.pod.containers) {
      for (const port of c.ports) {
        if (port.protocol === 'SCTP') continue;
        let e = byNs.get(p.netns);
        if (e === undefined) byNs.set(p.netns, (e = { tcp: new Set(), udp: new Set() }));
        (port.protocol === 'TCP' ? e.tcp : e.udp).add(port.containerPort);
      }
    }
  }
  const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b);
  return [...byNs]
    .map(([netns, e]) => ({ netns, tcp: sorted(e.tcp), udp: sorted(e.udp) }))
    .sort((a, b) => (a.netns < b.netns ? -1 : a.netns > b.netns ? 1 : 0));
}

/** The echo server's arguments: `--tcp P ... --udp P ...`. */
export function echoServerArgs(ports: EchoPorts): string[] {
  return [...ports.tcp.flatMap((p) => ['--tcp', String(p)]), ...ports.udp.flatMap((p) => ['--udp', String(p)])];
}

/** `PATH` with root's sbin directories, where `ip` lives. */
function toolEnv(): NodeJS.ProcessEnv {
  const path = (process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(':');
  for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!path.includes(d)) path.push(d);
  return { ...process.env, PATH: path.join(':'), LC_ALL: 'C' };
}

/**
 * Starts an echo server in a namespace, detached from this process (it outlives `knet lab up`):
 * `ip netns exec NS node SCRIPT --tcp ... --udp ...`, standard error appended to `logFile`.
 * Resolves with its pid once it has printed `ready` (every port bound).
 *
 * @remarks Linux equivalent: `setsid ip netns exec NS node echo-server.mjs --tcp 8080 &`;
 * `ip netns exec` execs the program, so the recorded pid is the server's.
 * @throws KnetError `EIO` when it exits or does not get ready within `timeoutMs` (default 15,000),
 * with what it printed on standard error.
 */
export function startEchoServer(script: string, ports: EchoPorts, logFile: string, timeoutMs = 15_000): Promise<LabEchoServer> {
  const log = openSync(logFile, 'a', 0o644);
  const args = ['netns', 'exec', ports.netns, process.execPath, '--max-old-space-size=32', script, ...echoServerArgs(ports)];
  const child = spawn('ip', args, { detached: true, stdio: ['ignore', 'pipe', log], env: toolEnv() });
  closeSync(log);
  return new Promise<LabEchoServer>((resolve, reject) => {
    let out = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      let err = '';
      try {
        err = readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' / ');
      } catch {
        // No log.
      }
      reject(new KnetError('EIO', `echo server in ${ports.netns} ${why}${err !== '' ? `: ${err}` : ''}`, { netns: ports.netns, command: ['ip', ...args].join(' ') }));
    };
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    child.on('error', (e) => fail(`could not start (${e.message})`));
    child.on('exit', (code, signal) => fail(`exited (${signal ?? `status ${String(code)}`})`));
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      out += d;
      if (!out.includes('ready\n')) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stdout?.destroy();
      child.unref();
      resolve({ netns: ports.netns, pid: child.pid!, tcp: ports.tcp, udp: ports.udp });
    });
  });
}

/**
 * True when the recorded echo server still runs: the pid exists, its command line names the
 * script, and it is inside the recorded namespace (so a reused pid is not taken for it).
 */
export function echoServerAlive(server: LabEchoServer, script: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0');
    if (!cmdline.includes(script)) return false;
    const own = statSync(`/proc/${server.pid}/ns/net`);
    const ns = statSync(`/run/netns/${server.netns}`);
    return own.ino === ns.ino && own.dev === ns.dev;
  } catch {
    return false;
  }
}

/** SIGKILLs a recorded echo server if it is still the one that was started. Returns whether it was alive. */
export function stopEchoServer(server: LabEchoServer, script: string): boolean {
  if (!echoServerAlive(server, script)) return false;
  try {
    process.kill(server.pid, 'SIGKILL');
  } catch {
    return false;
  }
  return true;
}
