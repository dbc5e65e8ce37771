import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { KnetError } from '../../errors/knet-error.js';
import { commandEnv, spawnCommand, type CommandOptions, type CommandResult, type CommandRunner } from './command-runner.js';
import { NETNS_RUN_DIR } from './knet-netns.js';

/** A {@link CommandRunner} that keeps its helper processes between commands. */
export interface ResidentRunner extends CommandRunner {
  /**
   * Ends every helper process (their standard input is closed, or with `kill` they are killed
   * at once) and waits until they have exited.
   */
  close(options?: { readonly kill?: boolean }): Promise<void>;
  /** The helpers running now, as `TOOL NS [GLOBAL...]` and `sh NS` (for tests and diagnostics). */
  helpers(): string[];
  /** Starts the helpers of `netns` now, ahead of its first command (they start in parallel with other work). */
  prepare(netns: string): void;
}

/** Options of {@link createResidentRunner}. */
export interface ResidentRunnerOptions {
  /** Runs what no helper can (commands with input other than a batch, other programs). Default {@link spawnCommand}. */
  readonly fallback?: CommandRunner;
  /** Processes started ahead of need, for namespace groups (see {@link createHelperSpares}). */
  readonly spares?: HelperSpares;
}

const SENTINEL_PREFIX = 'knet-sentinel-';
const SENTINEL_RE = /Object "knet-sentinel-(\d+)" is unknown, try "(?:ip|bridge) help"\.\nCommand failed -:\d+\n/;
const FAILED_LINE_RE = /^Command failed -:\d+\n?/m;
const SAFE_WORD_RE = /^[^\s"'\\#]+$/;
/** How a group's batch subshell reports the tool's exit (printf's `\000`: a NUL byte). */
const EXIT_MARK_SH = '\\000knet-batch-exit';
const EXIT_MARK_RE = /\0knet-batch-exit (\d+)\n/;
/** iproute2 verbs that change state and print nothing, so that `-d`/`-j` make no difference to them. */
const MUTATIONS: ReadonlySet<string> = new Set(['add', 'del', 'delete', 'set', 'change', 'replace', 'append', 'prepend']);
/** The global options of the batch helper each namespace group starts with. */
const GROUP_GLOBALS = ['-d', '-j'];

/** Runs jobs one at a time; a job calls the `done` it is given once. */
class Queue {
  private readonly jobs: ((done: () => void) => void)[] = [];
  private busy = false;

  push(job: (done: () => void) => void): void {
    this.jobs.push(job);
    this.pump();
  }

  private pump(): void {
    if (this.busy) return;
    const job = this.jobs.shift();
    if (job === undefined) return;
    this.busy = true;
    job(() => {
      this.busy = false;
      this.pump();
    });
  }
}

/** A line's outcome: its output up to the sentinel, or the tool's exit. */
type LineOutcome = { readonly stdout: string; readonly stderr: string } | { readonly exit: number | null; readonly stdout: string; readonly stderr: string };

/**
 * An iproute2 `-force -batch -` process fed one line at a time: each line is followed by a
 * sentinel line, an unknown object, whose error message on standard error marks the end of
 * the line.
 *
 * @remarks The tool's standard output is line-buffered (`stdbuf -oL`; with `-j` iproute2 flushes
 * each command's output itself) and everything it prints ends with a newline, so a line's output
 * is in the output pipe before the sentinel's message is written to the error pipe. Polling is level-triggered: when the message is read, the
 * output is readable in the same poll, and is read before callbacks of `setImmediate` run, so
 * the line is completed there.
 */
class BatchChannel {
  private readonly queue = new Queue();
  private out = '';
  private err = '';
  private seq = 0;
  private pending: { readonly sentinel: number; readonly settle: (o: LineOutcome) => void } | undefined;
  private settling = false;
  ended = false;
  private exitCode: number | null = null;
  private endText = '';

  constructor(
    readonly key: string,
    private readonly input: Writable,
    stdout: Readable,
    stderr: Readable,
  ) {
    input.on('error', () => undefined);
    for (const [stream, isErr] of [
      [stdout, false],
      [stderr, true],
    ] as const) {
      stream.setEncoding('utf8');
      stream.on('error', () => undefined);
      stream.on('data', (d: string) => {
        if (isErr) this.err += d;
        else this.out += d;
        this.scan();
      });
    }
  }

  /** The process behind the channel has gone (`code`: its exit status when known; `text`: what it said elsewhere). */
  end(code: number | null, text = ''): void {
    if (this.ended) return;
    this.ended = true;
    this.exitCode = code;
    this.endText = text;
    const p = this.pending;
    this.pending = undefined;
    p?.settle({ exit: code, stdout: this.out, stderr: text === '' ? this.err : text });
    this.out = '';
    this.err = '';
  }

  private scan(): void {
    const exit = EXIT_MARK_RE.exec(this.err);
    if (exit !== null) {
      const before = this.err.slice(0, exit.index);
      this.err = '';
      this.end(Number(exit[1]), before);
      return;
    }
    const p = this.pending;
    if (p === undefined || this.settling) return;
    const m = SENTINEL_RE.exec(this.err);
    if (m === null || Number(m[1]) !== p.sentinel) return;
    this.settling = true;
    setImmediate(() => {
      this.settling = false;
      if (this.pending !== p) return;
      const stderr = this.err.slice(0, m.index);
      this.err = this.err.slice(m.index + m[0].length);
      const stdout = this.out;
      this.out = '';
      this.pending = undefined;
      p.settle({ stdout, stderr });
    });
  }

  private line(words: readonly string[], timeoutMs: number, kill: () => void): Promise<LineOutcome> {
    return new Promise((resolve, reject) => {
      if (this.ended) {
        resolve({ exit: this.exitCode, stdout: '', stderr: this.endText });
        return;
      }
      const sentinel = ++this.seq;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, timeoutMs);
      this.pending = {
        sentinel,
        settle: (o) => {
          clearTimeout(timer);
          if (timedOut) reject(new KnetError('EIO', `${this.key}: ${words.join(' ')}: timed out after ${timeoutMs} ms`, { command: words.join(' ') }));
          else resolve(o);
        },
      };
      this.input.write(`${words.join(' ')}\n${SENTINEL_PREFIX}${sentinel}\n`);
    });
  }

  /**
   * Runs `lines` in order, stopping at the first that fails, and answers what one
   * `TOOL -n NS [GLOBAL...] [-batch -]` process would have: for a batch, the failing line as
   * `Command failed -:N` with N counted from the batch's first line.
   */
  run(lines: readonly (readonly string[])[], batch: boolean, timeoutMs: number, kill: () => void): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      this.queue.push((done) => {
        void (async () => {
          let stdout = '';
          let stderr = '';
          try {
            for (let i = 0; i < lines.length; i++) {
              const o = await this.line(lines[i]!, timeoutMs, kill);
              stdout += o.stdout;
              if ('exit' in o) {
                // The tool exited on this line (iproute2 does on some argument errors), as its own process would.
                resolve({ code: o.exit, stdout, stderr: stderr + o.stderr });
                return;
              }
              if (FAILED_LINE_RE.test(o.stderr)) {
                const message = o.stderr.replace(FAILED_LINE_RE, '');
                resolve({ code: 1, stdout, stderr: stderr + (batch ? `${message}Command failed -:${i + 1}\n` : message) });
                return;
              }
              // A warning of a line that worked (`Dump was interrupted and may be inconsistent.`).
              stderr += o.stderr;
            }
            resolve({ code: 0, stdout, stderr });
          } catch (e) {
            reject(e);
          } finally {
            done();
          }
        })();
      });
    });
  }
}

function shQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `sysctl -q -w PATH=VALUE` with a `/`-separated key, as LinuxHost writes one sysctl. */
const SYSCTL_WRITE_RE = /^([a-z0-9_]+(?:\/[A-Za-z0-9_.:@+-]+)+)=([^\n\0]*)$/;

/**
 * The shell text for a command. `sysctl -q -w PATH=VALUE` (one key, as a path) is first tried as
 * what sysctl(8) does, `VALUE` and a newline written to `/proc/sys/PATH`, by the shell itself
 * (no program started); if that fails the real `sysctl` runs, so that a failure has sysctl's own
 * message and status (a write the kernel refused changed nothing).
 */
function shellCommand(command: readonly string[]): string {
  const plain = command.map(shQuote).join(' ');
  if (command.length !== 4 || command[0] !== 'sysctl' || command[1] !== '-q' || command[2] !== '-w') return plain;
  const m = SYSCTL_WRITE_RE.exec(command[3]!);
  if (m === null || m[1]!.split('/').includes('..')) return plain;
  return `{ printf '%s\\n' ${shQuote(m[2]!)} > ${shQuote(`/proc/sys/${m[1]!}`)}; } 2>/dev/null || ${plain}`;
}

/**
 * A shell inside a namespace's network namespace, which runs each command as
 * `ip netns exec NS COMMAND` would for the programs in {@link SHELL_PROGRAMS} (the same network
 * namespace and environment) without starting `ip netns exec` again. A NUL byte and the exit
 * status mark the end of a command's output on both streams.
 */
class ShellChannel {
  private readonly queue = new Queue();
  private out = '';
  private err = '';
  private pending: ((r: CommandResult) => void) | undefined;
  ended = false;
  private exitCode: number | null = null;

  constructor(
    private readonly input: Writable,
    stdout: Readable,
    stderr: Readable,
  ) {
    input.on('error', () => undefined);
    stdout.setEncoding('utf8');
    stderr.setEncoding('utf8');
    stdout.on('data', (d: string) => {
      this.out += d;
      this.scan();
    });
    stderr.on('data', (d: string) => {
      this.err += d;
      this.scan();
    });
  }

  end(code: number | null): void {
    if (this.ended) return;
    this.ended = true;
    this.exitCode = code;
    const p = this.pending;
    this.pending = undefined;
    p?.({ code, stdout: this.out, stderr: this.err });
  }

  /** What the shell (or `ip netns exec` before it) wrote to standard error outside any command. */
  stderrText(): string {
    return this.err;
  }

  private scan(): void {
    const p = this.pending;
    if (p === undefined) return;
    const o = /\0knet-done (\d+)\n/.exec(this.out);
    const e = this.err.indexOf('\0knet-done\n');
    if (o === null || e < 0) return;
    const r = { code: Number(o[1]), stdout: this.out.slice(0, o.index), stderr: this.err.slice(0, e) };
    this.out = this.out.slice(o.index + o[0].length);
    this.err = this.err.slice(e + '\0knet-done\n'.length);
    this.pending = undefined;
    p(r);
  }

  run(command: readonly string[], timeoutMs: number, kill: () => void): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      this.queue.push((done) => {
        if (this.ended) {
          // The shell never started or has gone: what `ip netns exec` said (a missing namespace).
          resolve({ code: this.exitCode, stdout: '', stderr: this.err });
          done();
          return;
        }
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          kill();
        }, timeoutMs);
        this.pending = (r) => {
          clearTimeout(timer);
          if (timedOut) reject(new KnetError('EIO', `${command.join(' ')}: timed out after ${timeoutMs} ms`, { command: command.join(' ') }));
          else resolve(r);
          done();
        };
        this.input.write(`${shellCommand(command)} </dev/null; printf '\\000knet-done %d\\n' "$?"; printf '\\000knet-done\\n' >&2\n`);
      });
    });
  }
}

/** A child process and a promise of its end. */
class Proc {
  readonly child: ChildProcess;
  readonly closed: Promise<void>;
  exited = false;
  /** Called once, when the process has ended (`error`: why it could not start). */
  onExit: (code: number | null, error?: string) => void;

  constructor(file: string, args: readonly string[], extraPipes: number, onExit: (code: number | null, error?: string) => void = () => undefined) {
    this.onExit = onExit;
    this.child = spawn(file, [...args], { env: commandEnv(), stdio: ['pipe', 'pipe', 'pipe', ...Array<'pipe'>(extraPipes).fill('pipe')] });
    this.closed = new Promise((resolve) => {
      this.child.on('error', (e: NodeJS.ErrnoException) => {
        if (this.exited) return;
        this.exited = true;
        this.onExit(null, `${file}: ${e.code === 'ENOENT' ? 'command not found' : e.message}\n`);
        resolve();
      });
      this.child.on('close', (code) => {
        if (this.exited) return;
        this.exited = true;
        this.onExit(code);
        resolve();
      });
    });
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  /** Closes the helpers' input pipes (standard input and `inputs`; they exit on end of input) and waits for the exit. */
  async close(inputs: readonly number[] = []): Promise<void> {
    for (const i of [0, ...inputs]) (this.child.stdio[i] as Writable | null)?.end();
    await this.closed;
  }
}

/**
 * The programs that `ip netns exec NS PROGRAM` runs in a namespace's shell: they reach the
 * namespace through /proc/sys and sockets only, so the shell needs no mount namespace of its own
 * (`ip netns exec` gives each program a private /sys for the namespace). Others run as usual.
 */
const SHELL_PROGRAMS: ReadonlySet<string> = new Set(['sysctl', 'ethtool']);

/** Pipes a namespace group needs besides standard input, output and error. */
const GROUP_EXTRA_PIPES = 3;

/**
 * Shells started ahead of need, each waiting for one line to `eval` (read a byte at a time by
 * `read`, so nothing after the line is consumed), which turns it into a namespace's helpers:
 * starting a program from a large Node.js process costs milliseconds of its main thread, so an
 * agent starts its spares while it is idle, not while a CNI invocation waits.
 */
export interface HelperSpares {
  /** Starts spares until `count` are waiting (call it when idle). */
  refill(): void;
  /** Ends the waiting spares. */
  close(): Promise<void>;
}

interface SparePool extends HelperSpares {
  take(): Proc | undefined;
}

/**
 * Spare helper processes for {@link createResidentRunner} (`spares` option), `count` of them
 * once {@link HelperSpares.refill} has run.
 * @example
 * ```ts
 * import { createHelperSpares, createResidentRunner } from '@knet/core/linux';
 * const spares = createHelperSpares(2);
 * spares.refill();
 * const runner = createResidentRunner({ spares }); // a namespace's first command takes a spare
 * ```
 */
export function createHelperSpares(count = 1): HelperSpares {
  const waiting: Proc[] = [];
  const pool: SparePool = {
    take() {
      for (;;) {
        const p = waiting.shift();
        if (p === undefined) return undefined;
        if (!p.exited) return p;
      }
    },
    refill() {
      for (let i = waiting.filter((p) => !p.exited).length; i < count; i++) {
        waiting.push(new Proc('sh', ['-c', 'IFS= read -r knet_line && eval "$knet_line"'], GROUP_EXTRA_PIPES));
      }
    },
    async close() {
      const all = waiting.splice(0);
      await Promise.all(all.map((p) => p.close()));
    },
  };
  return pool;
}

/** `TOOL -n NS [GLOBAL...] -force -batch -` on its own (output line-buffered). */
class BatchHelper {
  readonly channel: BatchChannel;
  readonly proc: Proc;

  constructor(
    key: string,
    tool: string,
    netns: string,
    globals: readonly string[],
    readonly nsId: string | undefined,
  ) {
    let channel: BatchChannel | undefined;
    // stdbuf: iproute2 writes through stdio, which is block-buffered on a pipe, except that with
    // -j it flushes at the end of each command (json_writer), so that it needs none then.
    const argv = [tool, '-n', netns, ...globals, '-force', '-batch', '-'];
    this.proc = globals.includes('-j')
      ? new Proc(argv[0]!, argv.slice(1), 0, (code, error) => channel?.end(code, error))
      : new Proc('stdbuf', ['-oL', ...argv], 0, (code, error) => channel?.end(code, error));
    channel = new BatchChannel(key, this.proc.child.stdin!, this.proc.child.stdout!, this.proc.child.stderr!);
    this.channel = channel;
  }
}

/**
 * The helpers of one namespace, started by one `nsenter --net=/run/netns/NS sh`: the shell (standard
 * input, output and error) and `ip -d -j -force -batch -` on pipes 3, 4 and 5.
 */
class NetnsGroup {
  readonly shell: ShellChannel;
  readonly batch: BatchChannel;
  readonly proc: Proc;

  constructor(
    readonly netns: string,
    readonly nsId: string | undefined,
    spare?: Proc,
  ) {
    let shell: ShellChannel | undefined;
    let batch: BatchChannel | undefined;
    // The batch tool may end on its own (iproute2 exits on some argument errors) while the shell
    // goes on: its subshell then reports the exit status on the tool's error pipe.
    // No stdbuf: with -j, iproute2 flushes its output at the end of each command (json_writer).
    const tool = `ip ${GROUP_GLOBALS.join(' ')} -force -batch - <&3 >&4 2>&5 3<&- 4>&- 5>&-`;
    const script = `(${tool}; printf '${EXIT_MARK_SH} %d\\n' "$?" >&5) & exec 3<&- 4>&- 5>&- sh`;
    const onExit = (code: number | null, error?: string): void => {
      shell?.end(code);
      batch?.end(code, error ?? shell?.stderrText() ?? '');
    };
    // nsenter only joins the network namespace; `ip netns exec` also remounts /sys for it (several
    // milliseconds), which the programs the shell runs do not read (see SHELL_PROGRAMS).
    const argv = ['nsenter', `--net=${NETNS_RUN_DIR}/${netns}`, 'sh', '-c', script];
    if (spare !== undefined) {
      spare.onExit = onExit;
      (spare.child.stdin as Writable).write(`exec ${argv.map(shQuote).join(' ')}\n`);
      this.proc = spare;
    } else {
      this.proc = new Proc(argv[0]!, argv.slice(1), GROUP_EXTRA_PIPES, onExit);
    }
    const stdio = this.proc.child.stdio as unknown as readonly (Readable | Writable)[];
    shell = new ShellChannel(stdio[0] as Writable, stdio[1] as Readable, stdio[2] as Readable);
    batch = new BatchChannel(`ip ${netns} ${GROUP_GLOBALS.join(' ')}`, stdio[3] as Writable, stdio[4] as Readable, stdio[5] as Readable);
    this.shell = shell;
    this.batch = batch;
  }
}

/** The identity (device and inode) of the namespace named `netns`, `undefined` when there is none. */
function netnsId(netns: string): string | undefined {
  try {
    const st = statSync(`${NETNS_RUN_DIR}/${netns}`);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** `TOOL -n NS [GLOBAL...] WORDS...` or `TOOL -n NS [GLOBAL...] -batch -`, split up. */
function parseIproute2(file: string, args: readonly string[]): { tool: string; netns: string; globals: string[]; rest: string[] } | undefined {
  if ((file !== 'ip' && file !== 'bridge') || args[0] !== '-n' || args[1] === undefined) return undefined;
  const globals: string[] = [];
  let i = 2;
  while (i < args.length && args[i]!.startsWith('-') && args[i] !== '-batch') globals.push(args[i++]!);
  return { tool: file, netns: args[1], globals, rest: args.slice(i) };
}

/** True when `lines` behave the same under the group's `-d -j` as under `globals`. */
function fitsGroup(tool: string, globals: readonly string[], lines: readonly (readonly string[])[]): boolean {
  if (tool !== 'ip' || !globals.every((g) => GROUP_GLOBALS.includes(g))) return false;
  if (GROUP_GLOBALS.every((g) => globals.includes(g))) return true;
  return lines.every((l) => MUTATIONS.has(l[1] ?? ''));
}

/**
 * A {@link CommandRunner} for a long-lived process that runs many short iproute2 commands and
 * `ip netns exec` programs (a CNI plugin agent): instead of starting programs per command, it
 * keeps helpers per namespace and hands each command to them.
 *
 * @remarks
 * Per namespace, one `nsenter --net=/run/netns/NS sh` runs a shell and, beside it,
 * `ip -d -j -force -batch -`: `ip netns exec NS sysctl|ethtool ...` commands go to the shell (one
 * `fork`, no new `ip netns exec`; these programs do not use the private /sys that it mounts),
 * and `ip -n NS` commands whose output `-d -j` cannot change (state changes, or reads with
 * exactly `-d -j`) go to that batch. Other iproute2 commands get a
 * `TOOL -n NS [GLOBAL...] -force -batch -` of their own.
 *
 * What a command returns is what its own process would have returned: standard output; the
 * tool's messages for a failing line, with exit status 1 (iproute2's own process exits with 1,
 * 2 or 254 depending on the command; `-batch` does not tell which), and for a batch the failing
 * line's number as `Command failed -:N` (the lines after it are not run); the tool's own exit status when
 * it exits on a line (iproute2 does on some argument errors; a new helper starts for the next
 * command). A warning of a line that worked is its standard error. Commands
 * with standard input other than an iproute2 batch, and everything else, run through
 * `fallback`. Commands for one helper run one after another, so a long-running program in a
 * namespace holds up the next command there.
 *
 * Lines are handed over as text, as `-batch` reads them: a word with white space, quotes,
 * backslash or `#` makes the command go through `fallback` instead.
 * @see ip(8) `-batch`, `-force`; ip-netns(8) `exec`; stdbuf(1)
 * @example
 * ```ts
 * import { createLinuxHost, createResidentRunner } from '@knet/core/linux';
 * const runner = createResidentRunner();
 * const host = createLinuxHost({ runner });
 * await host.linkSet('knet-a-node-1', 'lo', { up: true }); // starts the helpers of knet-a-node-1
 * await host.sysctlSet('knet-a-pod-x', 'net.ipv4.ip_forward', '1'); // and of knet-a-pod-x
 * await runner.close();
 * ```
 */
export function createResidentRunner(options: ResidentRunnerOptions = {}): ResidentRunner {
  const fallback = options.fallback ?? spawnCommand;
  const groups = new Map<string, NetnsGroup>();
  const batches = new Map<string, BatchHelper>();

  // A helper serves the namespace that had the name when it started: one deleted and created
  // again under the same name (or gone) gets a new helper, which then fails as a new process would.
  const group = (netns: string): NetnsGroup => {
    const id = netnsId(netns);
    let g = groups.get(netns);
    if (g === undefined || g.proc.exited || g.nsId !== id || id === undefined) {
      g?.proc.kill();
      g = new NetnsGroup(netns, id, id === undefined ? undefined : (options.spares as SparePool | undefined)?.take());
      groups.set(netns, g);
    }
    return g;
  };
  const batchHelper = (tool: string, netns: string, globals: readonly string[]): BatchHelper => {
    const key = [tool, netns, ...globals].join(' ');
    const id = netnsId(netns);
    let h = batches.get(key);
    if (h === undefined || h.channel.ended || h.nsId !== id || id === undefined) {
      h?.proc.kill();
      h = new BatchHelper(key, tool, netns, globals, id);
      batches.set(key, h);
    }
    return h;
  };

  const runner = (async (file: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> => {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    // A namespace that is not there: its own process says so in its own words.
    const target = commandNetns(file, args);
    if (target !== undefined && netnsId(target) === undefined) return fallback(file, args, opts);
    const ipr = parseIproute2(file, args);
    if (ipr !== undefined) {
      let lines: string[][] | undefined;
      let isBatch = false;
      if (ipr.rest.length === 2 && ipr.rest[0] === '-batch' && ipr.rest[1] === '-' && opts.input !== undefined) {
        lines = opts.input
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => l.trim().split(/\s+/));
        isBatch = true;
      } else if (opts.input === undefined && ipr.rest.length > 0 && !ipr.rest.includes('-batch')) {
        lines = [ipr.rest];
      }
      if (lines !== undefined && lines.every((l) => l.every((w) => SAFE_WORD_RE.test(w)))) {
        if (fitsGroup(ipr.tool, ipr.globals, lines)) {
          const g = group(ipr.netns);
          if (!g.batch.ended) return g.batch.run(lines, isBatch, timeoutMs, () => g.proc.kill());
        }
        const h = batchHelper(ipr.tool, ipr.netns, ipr.globals);
        return h.channel.run(lines, isBatch, timeoutMs, () => h.proc.kill());
      }
    }
    if (file === 'ip' && args[0] === 'netns' && args[1] === 'exec' && args[2] !== undefined && SHELL_PROGRAMS.has(args[3] ?? '') && opts.input === undefined) {
      const g = group(args[2]);
      return g.shell.run(args.slice(3), timeoutMs, () => g.proc.kill());
    }
    return fallback(file, args, opts);
  }) as ResidentRunner;

  runner.close = async (o = {}) => {
    const procs = [...groups.values()].map((g) => g.proc);
    if (o.kill === true) for (const p of [...procs, ...[...batches.values()].map((h) => h.proc)]) p.kill();
    const all = [...procs.map((p) => p.close([3])), ...[...batches.values()].map((h) => h.proc.close())];
    groups.clear();
    batches.clear();
    await Promise.all(all);
  };
  runner.prepare = (netns) => {
    group(netns);
  };
  runner.helpers = () => [
    ...[...groups.values()].filter((g) => !g.proc.exited).flatMap((g) => [`sh ${g.netns}`, ...(g.batch.ended ? [] : [`ip ${g.netns} ${GROUP_GLOBALS.join(' ')}`])]),
    ...[...batches.values()].filter((h) => !h.channel.ended).map((h) => h.channel.key),
  ];
  return runner;
}

/**
 * The namespace a command names (`ip|bridge -n NS ...`, `ip netns exec NS ...`), or `undefined`
 * (so that a caller can send each namespace's commands to a runner of its own).
 * @example
 * ```ts
 * import { commandNetns } from '@knet/core/linux';
 * commandNetns('ip', ['-n', 'knet-a-node-1', 'link', 'show']); // 'knet-a-node-1'
 * ```
 */
export function commandNetns(file: string, args: readonly string[]): string | undefined {
  if ((file === 'ip' || file === 'bridge') && args[0] === '-n') return args[1];
  if (file === 'ip' && args[0] === 'netns' && args[1] === 'exec') return args[2];
  return undefined;
}
