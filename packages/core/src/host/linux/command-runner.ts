import { spawn } from 'node:child_process';
import { KnetError } from '../../errors/knet-error.js';

/** What a finished command left behind. */
export interface CommandResult {
  /** Exit status; `null` when a signal ended the process. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of one command. */
export interface CommandOptions {
  /** Written to the command's standard input, which is then closed. */
  readonly input?: string;
  /** Kill the command (SIGKILL) after this many milliseconds. Default 30,000. */
  readonly timeoutMs?: number;
}

/**
 * Runs one program with arguments (no shell) and reports its exit status and output. The
 * seam between {@link LinuxHost} and the machine: tests wrap it to record every command.
 *
 * @remarks A runner never throws for a non-zero exit status: interpreting it is the caller's
 * job. It rejects only when the program cannot be started or runs past its timeout.
 */
export type CommandRunner = (file: string, args: readonly string[], options?: CommandOptions) => Promise<CommandResult>;

/** Directories root's tools live in; added to `PATH` when missing (a non-login shell may lack them). */
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The environment tools run in: this process's, with root's `sbin` on `PATH` and the C locale. */
export function commandEnv(): NodeJS.ProcessEnv {
  const path = (process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(':');
  for (const d of SBIN) if (!path.includes(d)) path.push(d);
  // The C locale keeps tool messages (`RTNETLINK answers: File exists`) in English, which
  // is what the errno mapping reads.
  return { ...process.env, PATH: path.join(':'), LC_ALL: 'C', LANG: 'C' };
}

/**
 * The default {@link CommandRunner}: `child_process.spawn` without a shell, the C locale, and
 * root's `sbin` directories on `PATH`.
 *
 * @throws KnetError `EOPNOTSUPP` when the program is not installed (`spawn ip ENOENT`), `EIO`
 * when it cannot be started for another reason or exceeds its timeout.
 * @example
 * ```ts
 * import { spawnCommand } from '@knet/core/linux';
 * const r = await spawnCommand('ip', ['-V']);
 * r.stdout; // 'ip utility, iproute2-6.1.0, libbpf 1.1.2\n'
 * ```
 */
export const spawnCommand: CommandRunner = (file, args, options = {}) =>
  new Promise<CommandResult>((resolve, reject) => {
    const command = [file, ...args].join(' ');
    const child = spawn(file, [...args], { env: commandEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT') reject(new KnetError('EOPNOTSUPP', `${file}: command not found`, { command, tool: file }));
      else reject(new KnetError('EIO', `${file}: ${e.message}`, { command, tool: file }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new KnetError('EIO', `${command}: timed out after ${options.timeoutMs ?? 30_000} ms`, { command }));
        return;
      }
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    // A program that exits without reading its input must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
