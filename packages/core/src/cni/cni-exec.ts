import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { CniError } from './cni-error.js';
import type { CniErrorJson } from './cni-error.js';
import { runCniPlugin } from './cni-skel.js';
import type { CniPlugin } from './cni-skel.js';
import { goQuote, goQuoteBytes, goStringList, parseGoJson } from './go-json.js';

/**
 * How a runtime finds and runs plugins (libcni's `invoke.Exec`): external executables, plugins
 * in the same process, or both.
 */
export interface CniExec {
  /**
   * Finds the plugin `type` along `paths`; returns what {@link CniExec.execPlugin} takes.
   * @throws Error with libcni's texts (`failed to find plugin "x" in path [/a /b]`).
   */
  findInPath(type: string, paths: readonly string[]): Promise<string>;
  /**
   * Runs a plugin with `stdin` and the full environment `env`; resolves with its stdout.
   * @throws CniError: the plugin's error JSON, or `netplugin failed ...` when it printed none.
   */
  execPlugin(pluginPath: string, stdin: string, env: Readonly<Record<string, string>>): Promise<string>;
}

/**
 * Turns a failed run into the error libcni reports (`RawExec.pluginErr`): the plugin's error
 * JSON from stdout; or, when stdout is empty, `netplugin failed with no error message: <err>` /
 * `netplugin failed: "<stderr>": <err>`; or, when stdout is not JSON, `netplugin failed but error
 * parsing its diagnostic message "<stdout>": <json error>`.
 *
 * @param err Go's text for how the process ended: `exit status 1`, `signal: killed`.
 * @see containernetworking/cni pkg/invoke/raw_exec.go
 */
export function cniPluginError(err: string, stdout: Uint8Array, stderr: Uint8Array): CniError {
  if (stdout.length === 0) {
    if (stderr.length === 0) return new CniError(0, `netplugin failed with no error message: ${err}`);
    return new CniError(0, `netplugin failed: ${goQuoteBytes(stderr)}: ${err}`);
  }
  const text = new TextDecoder().decode(stdout);
  let parsed: unknown;
  try {
    parsed = parseGoJson(text);
  } catch (e) {
    return new CniError(0, `netplugin failed but error parsing its diagnostic message ${goQuoteBytes(stdout)}: ${(e as Error).message}`);
  }
  const o = (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {}) as Partial<Record<keyof CniErrorJson, unknown>>;
  const code = typeof o.code === 'number' ? o.code : 0;
  return new CniError(code, typeof o.msg === 'string' ? o.msg : '', typeof o.details === 'string' ? o.details : '');
}

/** Go's `signal.String()` for the signals a plugin is likely to die of. */
const SIGNAL_TEXT: Readonly<Record<string, string>> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGINT: 'interrupt',
  SIGSEGV: 'segmentation fault',
  SIGABRT: 'aborted',
  SIGPIPE: 'broken pipe',
  SIGHUP: 'hangup',
  SIGBUS: 'bus error',
};

/** strerror texts of the spawn errors Go prints as `fork/exec <path>: <text>`. */
const SPAWN_ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  ENOEXEC: 'exec format error',
  ETXTBSY: 'text file busy',
  ENOTDIR: 'not a directory',
  E2BIG: 'argument list too long',
  ENOMEM: 'cannot allocate memory',
};

/**
 * libcni's `FindInPath`: the first regular file named `type` in the directories of `paths`.
 *
 * @throws Error `no plugin name provided`, `invalid plugin name: <type>` (a path separator),
 * `no paths provided`, `failed to find plugin "<type>" in path [<paths>]`.
 * @see containernetworking/cni pkg/invoke/find.go
 * @example
 * ```ts
 * import { findCniPlugin } from '@knet/core/linux';
 * findCniPlugin('host-local', ['/opt/cni/bin', '/usr/lib/cni']); // '/usr/lib/cni/host-local' on Debian
 * ```
 */
export function findCniPlugin(type: string, paths: readonly string[]): string {
  if (type === '') throw new Error('no plugin name provided');
  if (type.includes('/')) throw new Error(`invalid plugin name: ${type}`);
  if (paths.length === 0) throw new Error('no paths provided');
  for (const dir of paths) {
    const full = join(dir, type);
    try {
      if (statSync(full).isFile()) return full;
    } catch {
      // not there: next directory
    }
  }
  throw new Error(`failed to find plugin ${goQuote(type)} in path ${goStringList(paths)}`);
}

/** Options of {@link createProcessCniExec}. */
export interface ProcessCniExecOptions {
  /**
   * A command the plugin runs under, e.g. `['ip', 'netns', 'exec', 'knet-cni-node']` to run it in
   * a node's namespace (knet's own extension: libcni runs plugins in the runtime's namespace).
   */
  readonly prefix?: readonly string[];
  /** Where the plugin's stderr goes on success (libcni copies it to the caller's `Stderr`). */
  readonly stderr?: (text: string) => void;
  /** Pause between "text file busy" retries. Default 1000 ms, as libcni. */
  readonly busyRetryMs?: number;
}

interface RunOutcome {
  readonly status: string | undefined;
  readonly spawnCode?: string;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

function runOnce(file: string, args: readonly string[], stdin: string, env: Readonly<Record<string, string>>): Promise<RunOutcome> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(file, [...args], { env: { ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      // Some exec failures (ETXTBSY) are thrown by spawn itself rather than emitted.
      const code = (e as NodeJS.ErrnoException).code ?? '';
      resolve({ status: `fork/exec ${file}: ${SPAWN_ERRNO_TEXT[code] ?? (e as Error).message}`, spawnCode: code, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let spawnError: NodeJS.ErrnoException | undefined;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => undefined);
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out);
      const stderr = Buffer.concat(err);
      if (spawnError !== undefined) {
        const text = SPAWN_ERRNO_TEXT[spawnError.code ?? ''] ?? spawnError.message;
        resolve({ status: `fork/exec ${file}: ${text}`, spawnCode: spawnError.code ?? '', stdout, stderr });
      } else if (signal !== null) {
        resolve({ status: `signal: ${SIGNAL_TEXT[signal] ?? signal}`, stdout, stderr });
      } else if (code !== 0) {
        resolve({ status: `exit status ${code ?? 1}`, stdout, stderr });
      } else {
        resolve({ status: undefined, stdout, stderr });
      }
    });
    child.stdin.end(stdin);
  });
}

/**
 * The default {@link CniExec}: plugins are executables found along `CNI_PATH` and run as child
 * processes with the given environment and stdin, as libcni's `RawExec` does.
 *
 * @remarks Linux equivalent: libcni `invoke.RawExec`. A start that fails with "text file busy"
 * (the binary is being written) is retried up to 5 more times, 1 s apart.
 * @see containernetworking/cni pkg/invoke/raw_exec.go
 */
export function createProcessCniExec(options: ProcessCniExecOptions = {}): CniExec {
  const prefix = options.prefix ?? [];
  const pause = options.busyRetryMs ?? 1000;
  return {
    async findInPath(type, paths) {
      return findCniPlugin(type, paths);
    },
    async execPlugin(pluginPath, stdin, env) {
      const [file, ...args] = prefix.length > 0 ? [...prefix, pluginPath] : [pluginPath];
      let outcome: RunOutcome | undefined;
      for (let i = 0; i <= 5; i++) {
        outcome = await runOnce(file as string, args, stdin, env);
        if (outcome.spawnCode !== 'ETXTBSY' && !(outcome.status ?? '').includes('text file busy')) break;
        await new Promise((r) => setTimeout(r, pause));
      }
      const o = outcome as RunOutcome;
      if (o.status !== undefined) throw cniPluginError(o.status, o.stdout, o.stderr);
      if (o.stderr.length > 0) options.stderr?.(o.stderr.toString());
      return o.stdout.toString();
    },
  };
}

const IN_PROCESS = 'in-process:';

/**
 * A {@link CniExec} that runs some plugin types in this process through {@link runCniPlugin}
 * (same environment, stdin and stdout protocol, no child process) and falls back to `fallback`
 * (default: executables along `CNI_PATH`) for the others.
 *
 * @example
 * ```ts
 * import { createInProcessCniExec, CniRuntime } from '@knet/core/linux';
 * declare const myPlugin: import('@knet/core').CniPlugin;
 * const runtime = new CniRuntime({ path: ['/opt/cni/bin'], exec: createInProcessCniExec({ 'my-plugin': myPlugin }) });
 * ```
 */
export function createInProcessCniExec(plugins: Readonly<Record<string, CniPlugin>>, fallback: CniExec = createProcessCniExec()): CniExec {
  return {
    async findInPath(type, paths) {
      if (type !== '' && !type.includes('/') && Object.hasOwn(plugins, type)) return `${IN_PROCESS}${type}`;
      return fallback.findInPath(type, paths);
    },
    async execPlugin(pluginPath, stdin, env) {
      if (!pluginPath.startsWith(IN_PROCESS)) return fallback.execPlugin(pluginPath, stdin, env);
      const plugin = plugins[pluginPath.slice(IN_PROCESS.length)] as CniPlugin;
      let stdout = '';
      let stderr = '';
      const code = await runCniPlugin(plugin, {
        env,
        stdin,
        stdout: (t) => {
          stdout += t;
        },
        stderr: (t) => {
          stderr += t;
        },
      });
      if (code !== 0) {
        const enc = new TextEncoder();
        throw cniPluginError(`exit status ${code}`, enc.encode(stdout), enc.encode(stderr));
      }
      return stdout;
    },
  };
}
