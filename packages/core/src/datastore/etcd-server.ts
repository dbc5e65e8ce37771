import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KnetError } from '../errors/knet-error.js';

/** Options of {@link startEtcdServer}. */
export interface EtcdServerOptions {
  /** The etcd binary (default: `/usr/bin/etcd`, else `/usr/local/bin/etcd`, else `etcd` on PATH). */
  readonly binary?: string;
  /** The data directory (default: a fresh directory under the OS temp dir, removed by `stop`). */
  readonly dataDir?: string;
  /** Client port on 127.0.0.1 (default: a free port). */
  readonly clientPort?: number;
  /** Peer port on 127.0.0.1 (default: a free port). */
  readonly peerPort?: number;
  /** The member name (default `knet`). */
  readonly name?: string;
  /** How long to wait for etcd to answer (default 15,000 ms). */
  readonly startTimeoutMs?: number;
  /**
   * Run etcd detached (its own process group, not waited for) with its output appended to this
   * file, so that it outlives the starting process (the lab: `knet lab up` starts it, `knet lab
   * down` stops it by pid). Default: attached, output kept for error messages.
   */
  readonly logFile?: string;
}

/** A running etcd started by {@link startEtcdServer}. */
export interface EtcdServer {
  /** Its client URL, `http://127.0.0.1:PORT`. */
  readonly endpoints: readonly string[];
  readonly pid: number;
  readonly dataDir: string;
  /** Stops etcd (SIGTERM, then SIGKILL after 5 s) and removes a data dir it created. */
  stop(): Promise<void>;
}

/** The etcd binary installed on this machine, or `undefined` (Debian's etcd-server installs `/usr/bin/etcd`). */
export function findEtcdBinary(): string | undefined {
  for (const p of ['/usr/bin/etcd', '/usr/local/bin/etcd']) if (existsSync(p)) return p;
  for (const dir of (process.env['PATH'] ?? '').split(':')) if (dir !== '' && existsSync(join(dir, 'etcd'))) return join(dir, 'etcd');
  return undefined;
}

/** A TCP port nobody listens on at 127.0.0.1 right now. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-4000);
  } catch {
    return '';
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * Starts a single-member etcd listening on 127.0.0.1 only (client and peer URLs), with its own
 * data directory, and waits until it answers a range request.
 *
 * @remarks Linux equivalent: `etcd --name knet --data-dir DIR --listen-client-urls
 * http://127.0.0.1:PORT --advertise-client-urls ... --listen-peer-urls http://127.0.0.1:PEER
 * --initial-advertise-peer-urls ... --initial-cluster knet=http://127.0.0.1:PEER`. It binds
 * loopback sockets and changes nothing else on the machine. Used by tests, the lab and the
 * benchmarks as flannel's datastore.
 * @throws KnetError `ENOENT` when no etcd binary is installed, `EIO` when it does not come up.
 */
export async function startEtcdServer(options: EtcdServerOptions = {}): Promise<EtcdServer> {
  const binary = options.binary ?? findEtcdBinary();
  if (binary === undefined) throw new KnetError('ENOENT', 'etcd is not installed (apt-get install etcd-server)', {});
  const ownDir = options.dataDir === undefined;
  const base = options.dataDir ?? mkdtempSync(join(tmpdir(), 'knet-etcd-'));
  const dataDir = ownDir ? join(base, 'data') : base;
  const clientPort = options.clientPort ?? (await freeTcpPort());
  let peerPort = options.peerPort ?? (await freeTcpPort());
  while (peerPort === clientPort) peerPort = await freeTcpPort();
  const name = options.name ?? 'knet';
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const logFd = options.logFile !== undefined ? openSync(options.logFile, 'a', 0o644) : undefined;
  const child = spawn(
    binary,
    [
      '--name', name,
      '--data-dir', dataDir,
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `${name}=${peer}`,
      '--initial-cluster-state', 'new',
    ],
    logFd !== undefined ? { stdio: ['ignore', logFd, logFd], detached: true } : { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (logFd !== undefined) {
    closeSync(logFd);
    child.unref();
  }
  let log = '';
  child.stderr?.on('data', (b: Buffer) => {
    log = (log + b.toString()).slice(-4000);
  });
  const lastLines = (): string => {
    const text = options.logFile !== undefined ? safeRead(options.logFile) : log;
    return text.trim().split('\n').slice(-3).join(' / ');
  };
  const cleanup = (): void => {
    if (ownDir) rmSync(base, { recursive: true, force: true });
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited(child);
      clearTimeout(t);
    }
    cleanup();
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      cleanup();
      throw new KnetError('EIO', `etcd exited during start: ${lastLines()}`, { binary });
    }
    try {
      const res = await fetch(`${client}/v3/kv/range`, { method: 'POST', body: '{"key":"AA=="}', signal: AbortSignal.timeout(1_000) });
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new KnetError('EIO', `etcd did not answer on ${client} in time: ${lastLines()}`, { binary });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoints: [client], pid: child.pid ?? 0, dataDir, stop };
}
