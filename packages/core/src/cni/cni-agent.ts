import { spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, constants as fsc, fstatSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, readdir, rm, symlink, unlink } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { KnetError } from '../errors/knet-error.js';
import { isAlive } from '../ipam/file-ipam-store.js';
import { CNI_AGENT_REPLY_SLOTS } from './cni-agent-slots.js';
import { CNI_ERROR_CODES } from './cni-error.js';

/** Where agents live unless told otherwise (`KNET_CNI_AGENT_DIR` overrides it for the launcher too). */
export const CNI_AGENT_BASE_DIR = '/run/knet/cni';

/** One plugin invocation handed to an agent: the caller's environment, standard input and output. */
export interface CniAgentInvocation {
  /** The launcher's environment (its `/proc/PID/environ`): the `CNI_*` variables the runtime set. */
  readonly env: Readonly<Record<string, string>>;
  /** Reads the launcher's standard input to its end (call it only when the command reads it). */
  readonly stdin: () => Promise<Uint8Array>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Options of {@link startCniAgent}. */
export interface CniAgentOptions {
  /** The plugin's name (`knet-kubenet`): the agent's directory is `BASE/NAME.PID`. */
  readonly name: string;
  /** The base directory (default `KNET_CNI_AGENT_DIR` or {@link CNI_AGENT_BASE_DIR}). */
  readonly baseDir?: string;
  /** Runs one invocation and returns the exit status the launcher exits with. */
  readonly serve: (invocation: CniAgentInvocation) => Promise<number>;
  /** Called after each invocation has been answered (to release what it used). */
  readonly afterServe?: () => void;
  /** Reports a request that could not be answered (default: standard error). */
  readonly onError?: (message: string) => void;
}

/** A running agent. */
export interface CniAgent {
  /** `BASE/NAME.PID`. */
  readonly dir: string;
  /** Stops taking requests, waits for those in progress, and removes the directory. */
  close(): Promise<void>;
}

const REQUEST_RE = /^(\d+) (fd|file|none) (fd|fifo)(?: (\d+))?$/;

/**
 * Reads a pipe (the launcher's standard input, reopened through `/proc/PID/fd/0`) to its end,
 * driven by the event loop (a regular file is read at once).
 */
function readAll(path: string): Promise<Uint8Array> {
  const fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
  if (!fstatSync(fd).isFIFO()) {
    try {
      return Promise.resolve(readFileSync(fd));
    } finally {
      closeSync(fd);
    }
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = new Socket({ fd, readable: true, writable: false });
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => {
      sock.destroy();
      resolve(Buffer.concat(chunks));
    });
    sock.on('error', reject);
  });
}

/** Opens a FIFO for writing once its reader is there (`ENXIO` until then), for up to `ms`. */
async function openFifoForWriting(path: string, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return openSync(path, fsc.O_WRONLY | fsc.O_NONBLOCK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENXIO' || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

/** Writes all of `data` to a non-blocking descriptor, waiting while the pipe is full. */
async function writeFully(fd: number, data: Buffer): Promise<void> {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

/**
 * Serves a CNI plugin from a resident process, for the launcher {@link cniLauncherScript}: a CNI
 * runtime executes the launcher (a POSIX shell script) as the plugin, the launcher hands the
 * invocation to the agent, and the agent answers with the plugin's output and exit status.
 *
 * @remarks
 * The shape of Cilium's `cilium-cni` and Weave's plugin (a thin executable, the work done by a
 * daemon on the node), here to save each invocation Node.js's start-up (about 75 ms) and let
 * the plugin keep its iproute2 helpers (see `createResidentRunner`).
 *
 * Protocol, all in `BASE/NAME.PID/` (mode 0700, root's): `netns` is a symbolic link to
 * `/proc/PID/ns/net`, so the launcher uses the agent of its own network namespace only
 * (`[ /proc/self/ns/net -ef DIR/netns ]`, which also fails once the agent is gone);
 * `requests` is a FIFO. The launcher claims a reply FIFO `fifo.N` (N below
 * {@link CNI_AGENT_REPLY_SLOTS}) by creating `claim.N` with its PID under the shell's
 * `noclobber` (`O_EXCL`), or else creates the FIFO `reply.LPID` (LPID: its PID); it writes
 * `LPID IN OUT [N]\n` to `requests` (one write below `PIPE_BUF`, so requests never mix), and
 * reads the reply. The agent frees `claim.N` once launcher LPID has exited. The agent reads the launcher's environment from `/proc/LPID/environ`; standard
 * input from `/proc/LPID/fd/0` (IN `fd`: a pipe), from `in.LPID` (IN `file`: the launcher
 * copied it), or not at all (`none`); it writes standard output to `/proc/LPID/fd/1` (OUT `fd`:
 * a pipe) or after the status line (OUT `fifo`), and standard error to `/proc/LPID/fd/2`; the
 * reply is the exit status on a line of its own. Invocations are served concurrently.
 * @example
 * ```ts
 * import { startCniAgent, runCniPlugin, CNI_SPEC_VERSIONS } from '@knet/core/linux';
 * const agent = await startCniAgent({
 *   name: 'knet-demo',
 *   serve: (io) => runCniPlugin({ add: () => ({ cniVersion: '1.1.0' }), del() {}, check() {}, versions: CNI_SPEC_VERSIONS }, io),
 * });
 * // ... /run/knet/cni/knet-demo.<pid>/ now answers the launcher
 * await agent.close();
 * ```
 */
export async function startCniAgent(options: CniAgentOptions): Promise<CniAgent> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(options.name)) throw new KnetError('EINVAL', `CNI agent name "${options.name}" is not a plain file name`, {});
  const base = options.baseDir ?? process.env['KNET_CNI_AGENT_DIR'] ?? CNI_AGENT_BASE_DIR;
  const onError = options.onError ?? ((m: string) => process.stderr.write(`${options.name} agent: ${m}\n`));
  await mkdir(base, { recursive: true, mode: 0o700 });
  // Directories of agents that died without cleaning up.
  for (const e of await readdir(base)) {
    const m = new RegExp(`^${options.name.replace(/[.]/g, '\\.')}\\.(\\d+)$`).exec(e);
    if (m !== null && !isAlive(Number(m[1]))) await rm(join(base, e), { recursive: true, force: true });
  }
  const dir = join(base, `${options.name}.${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  const fifo = join(dir, 'requests');
  const slots = Array.from({ length: CNI_AGENT_REPLY_SLOTS }, (_, i) => join(dir, `fifo.${i}`));
  const made = spawnSync('mkfifo', ['-m', '600', fifo, ...slots], { encoding: 'utf8' });
  if (made.status !== 0) throw new KnetError('EIO', `mkfifo ${fifo}: ${made.stderr.trim() || made.error?.message || 'failed'}`, { path: fifo });
  /** Frees the slots whose launcher has exited (`claim.N` holds its PID). */
  const sweepClaims = (): void => {
    for (let i = 0; i < CNI_AGENT_REPLY_SLOTS; i++) {
      const claim = join(dir, `claim.${i}`);
      let text: string;
      let age: number;
      try {
        text = readFileSync(claim, 'utf8');
        age = Date.now() - statSync(claim).mtimeMs;
      } catch {
        continue;
      }
      const owner = Number(text);
      // An empty claim is being written (created, then the PID): only an old one is stale.
      const stale = text === '' ? age > 10_000 : !(Number.isInteger(owner) && owner > 0 && isAlive(owner));
      if (stale) {
        try {
          unlinkSync(claim);
        } catch {
          // freed meanwhile
        }
      }
    }
  };
  // O_RDWR: the FIFO never reports end-of-file when a launcher closes it, and opening does not block.
  const sock = new Socket({ fd: openSync(fifo, fsc.O_RDWR | fsc.O_NONBLOCK), readable: true, writable: false });
  const inFlight = new Set<Promise<void>>();

  async function answer(line: string): Promise<void> {
    const m = REQUEST_RE.exec(line);
    if (m === null) {
      onError(`malformed request ${JSON.stringify(line)}`);
      return;
    }
    const pid = Number(m[1]);
    const [inMode, outMode] = [m[2]!, m[3]!];
    const slot = m[4] === undefined ? undefined : Number(m[4]);
    if (slot !== undefined && slot >= CNI_AGENT_REPLY_SLOTS) {
      onError(`request for reply slot ${slot}, which does not exist`);
      return;
    }
    const replyPath = join(dir, slot === undefined ? `reply.${pid}` : `fifo.${slot}`);
    let stdout = '';
    let stderr = '';
    let code: number;
    try {
      // Small files, read at once: a hop through libuv's thread pool can wait for a CPU for
      // milliseconds on a busy node.
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      const env: Record<string, string> = {};
      for (const kv of environ.split('\0')) {
        const eq = kv.indexOf('=');
        if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      const inFile = join(dir, `in.${pid}`);
      code = await options.serve({
        env,
        stdin: async () => {
          if (inMode === 'fd') return readAll(`/proc/${pid}/fd/0`);
          if (inMode === 'file') return readFileSync(inFile);
          return new Uint8Array();
        },
        stdout: (t) => {
          stdout += t;
        },
        stderr: (t) => {
          stderr += t;
        },
      });
      if (inMode === 'file') {
        try {
          unlinkSync(inFile);
        } catch {
          // already gone
        }
      }
    } catch (e) {
      // The launcher must not hang: answer with the spec's JSON error, as a plugin would.
      code = 1;
      stdout = `${JSON.stringify({ cniVersion: '1.1.0', code: CNI_ERROR_CODES.ErrInternal, msg: `${options.name} agent: ${(e as Error).message}` })}\n`;
    }
    try {
      if (stderr !== '') appendFileSync(`/proc/${pid}/fd/2`, stderr);
      if (outMode === 'fd' && stdout !== '') appendFileSync(`/proc/${pid}/fd/1`, stdout);
      const reply = await openFifoForWriting(replyPath, 10_000);
      try {
        // A launcher's own FIFO goes now (it has it open); a slot's FIFO stays for the next one.
        if (slot === undefined) {
          try {
            unlinkSync(replyPath);
          } catch {
            // the launcher's own cleanup got there first
          }
        }
        await writeFully(reply, Buffer.from(`${code}\n${outMode === 'fifo' ? stdout : ''}`));
      } finally {
        closeSync(reply);
      }
    } catch (e) {
      onError(`cannot answer launcher ${pid}: ${(e as Error).message}`);
    }
  }

  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const p = answer(line).finally(() => {
        inFlight.delete(p);
        options.afterServe?.();
      });
      // Slots of launchers that have exited since are free again.
      setImmediate(sweepClaims);
      inFlight.add(p);
    }
  });
  sock.on('error', (e) => onError(`requests: ${e.message}`));
  await symlink(`/proc/${process.pid}/ns/net`, join(dir, 'netns'));

  let closed = false;
  return {
    dir,
    async close() {
      if (closed) return;
      closed = true;
      // Launchers must stop finding the agent before it stops reading.
      await unlink(join(dir, 'netns')).catch(() => undefined);
      sock.destroy();
      await Promise.all([...inFlight]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
