import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { KnetError } from '../errors/knet-error.js';
import { commandEnv } from '../host/linux/command-runner.js';
import { findFlockCommand } from './file-ipam-store.js';

/** A held lock: release it once. */
export interface FlockHold {
  release(): Promise<void>;
}

/**
 * Takes `flock(2)` locks asynchronously, for a resident process (a CNI agent) that must not stop
 * its event loop while another process holds a lock: a helper kept running opens the lock file
 * and locks it (perl's `flock`, or a shell running util-linux `flock(1)` on a descriptor it
 * keeps), and closes it to release the lock.
 * Holders in this process queue for a path; other processes (the reference host-local, knet's
 * one-shot plugin) are excluded by the kernel as with any `flock(2)`.
 *
 * @remarks If this process dies, the helper reads end-of-file, exits, and the lock is released,
 * as when the process itself had held it. The lock file is created as go-filemutex creates it
 * (mode 0750).
 * @see flock(1), flock(2); containernetworking/plugins plugins/ipam/host-local/backend/disk/lock.go
 * @example
 * ```ts
 * import { createFlockHelper } from '@knet/core/linux';
 * const locks = createFlockHelper();
 * const hold = await locks.lock('/var/lib/cni/networks/kubenet/lock');
 * // ... use the store with `locking: 'held'`
 * await hold.release();
 * await locks.close();
 * ```
 */
export interface FlockHelper {
  /** Waits for the exclusive lock on `path` (created if missing). @throws KnetError `EIO` */
  lock(path: string): Promise<FlockHold>;
  /** Ends the shells (releasing anything still held). */
  close(): Promise<void>;
}

/**
 * perl's `flock` builtin is `flock(2)` (perlfunc), so a perl helper locks without starting a
 * program per lock; perl-base is essential on Debian. Lines: a path to lock, or an empty line to
 * release; answers `locked 0` (or `locked 1 <error>`) and `released`.
 */
const PERL_LOCKER = `$| = 1; while (my $p = <STDIN>) { chomp $p; if ($p eq '') { close(L); print "released\\n"; } elsif (open(L, '<', $p) && flock(L, 2)) { print "locked 0\\n"; } else { print "locked 1 $!\\n"; } }`;

/** The same with a shell: `flock(1)` locks the descriptor 9 it inherits, which the shell keeps. */
function shellLocker(flock: string): string {
  return `while IFS= read -r p; do if [ -z "$p" ]; then exec 9<&-; echo released; else exec 9<"$p" && ${flock} -x 9; echo "locked $?"; fi; done`;
}

/** One helper process, holding at most one lock. */
class LockShell {
  private readonly child: ChildProcessWithoutNullStreams;
  private out = '';
  private waiting: ((line: string) => void) | undefined;
  private readonly closed: Promise<void>;

  constructor(tool: { readonly perl: string } | { readonly flock: string }) {
    const [file, args] = 'perl' in tool ? [tool.perl, ['-e', PERL_LOCKER]] : ['sh', ['-c', shellLocker(tool.flock)]];
    this.child = spawn(file, args, {
      env: commandEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => {
      this.out += d;
      const nl = this.out.indexOf('\n');
      if (nl >= 0 && this.waiting !== undefined) {
        const line = this.out.slice(0, nl);
        this.out = this.out.slice(nl + 1);
        const w = this.waiting;
        this.waiting = undefined;
        w(line);
      }
    });
    this.child.stderr.resume();
    this.child.stdin.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.child.on('close', () => resolve()));
    void this.closed.then(() => this.waiting?.('exited'));
  }

  private ask(line: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.child.stdin.write(`${line}\n`);
    });
  }

  async lock(path: string): Promise<void> {
    const r = await this.ask(path);
    if (r !== 'locked 0') throw new KnetError('EIO', `failed to lock ${path}: ${r.replace(/^locked \d+ ?/, '') || r}`, { file: path });
  }

  async release(): Promise<void> {
    await this.ask('');
  }

  close(): Promise<void> {
    this.child.stdin.end();
    return this.closed;
  }
}

/**
 * A {@link FlockHelper}: one helper process per lock held at a time (kept for reuse): perl when
 * it is installed, else a shell with `flock(1)`.
 * @throws KnetError `EOPNOTSUPP` when neither is installed.
 */
export function createFlockHelper(): FlockHelper {
  const perl = ['/usr/bin/perl', '/bin/perl'].find((p) => existsSync(p));
  const flock = findFlockCommand();
  if (perl === undefined && flock === undefined) throw new KnetError('EOPNOTSUPP', 'neither perl nor flock(1) is installed', {});
  const tool = perl !== undefined ? { perl } : { flock: flock! };
  const idle: LockShell[] = [];
  const all: LockShell[] = [];
  const queues = new Map<string, Promise<void>>();

  return {
    async lock(path: string): Promise<FlockHold> {
      if (/[\n\0]/.test(path)) throw new KnetError('EINVAL', `lock path ${JSON.stringify(path)} has a newline`, { file: path });
      // Holders in this process queue per path: a second flock from another shell would wait anyway.
      const before = queues.get(path) ?? Promise.resolve();
      let done!: () => void;
      const mine = new Promise<void>((r) => (done = r));
      const tail = before.then(() => mine);
      queues.set(path, tail);
      await before;
      let shell: LockShell | undefined;
      try {
        // go-filemutex creates the lock file with mode 0750.
        closeSync(openSync(path, constants.O_RDONLY | constants.O_CREAT, 0o750));
        shell = idle.pop();
        if (shell === undefined) {
          shell = new LockShell(tool);
          all.push(shell);
        }
        await shell.lock(path);
      } catch (e) {
        if (shell !== undefined) idle.push(shell);
        done();
        if (queues.get(path) === tail) queues.delete(path);
        throw e instanceof KnetError ? e : new KnetError('EIO', `failed to lock ${path}: ${(e as Error).message}`, { file: path });
      }
      const held = shell;
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          await held.release();
          idle.push(held);
          done();
          if (queues.get(path) === tail) queues.delete(path);
        },
      };
    },
    async close() {
      await Promise.all(all.splice(0).map((s) => s.close()));
      idle.length = 0;
    },
  };
}
