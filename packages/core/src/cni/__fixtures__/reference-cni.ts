/**
 * Test helpers that run the reference CNI plugins (Debian's `containernetworking-plugins`:
 * /usr/lib/cni, or /opt/cni/bin) and bundle knet plugins into real executables. A missing
 * plugin or tool is reported with a reason, so the tests that need it skip visibly.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

/** The directory holding the reference plugin `type`, if installed. */
export function referenceCniDir(type = 'host-local'): string | undefined {
  return DIRS.find((d) => existsSync(join(d, type)));
}

/** Why tests that need the reference `type` cannot run, or `undefined` when they can. */
export function missingReferenceReason(type = 'host-local'): string | undefined {
  return referenceCniDir(type) === undefined
    ? `the reference CNI plugin ${type} is not installed (apt-get install -y containernetworking-plugins)`
    : undefined;
}

/** Why tests that need root and iproute2 cannot run, or `undefined`. */
export function missingRootReason(): string | undefined {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) is not installed';
  return undefined;
}

/** What a plugin run left behind. */
export interface PluginRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a plugin executable with exactly `env` (plus PATH) and `stdin`. */
export function runPlugin(file: string, env: Record<string, string>, stdin: string, prefix: readonly string[] = []): PluginRun {
  const [cmd, ...args] = [...prefix, file];
  const r = spawnSync(cmd as string, args, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, input: stdin, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the reference plugin `type`. */
export function runReference(type: string, env: Record<string, string>, stdin: string, prefix: readonly string[] = []): PluginRun {
  const dir = referenceCniDir(type);
  if (dir === undefined) throw new Error(`reference plugin ${type} is not installed`);
  return runPlugin(join(dir, type), env, stdin, prefix);
}

/** The versions the installed reference plugin `type` supports (its VERSION reply). */
export function referenceVersions(type = 'host-local'): string[] {
  const r = runReference(type, { CNI_COMMAND: 'VERSION' }, '');
  return (JSON.parse(r.stdout) as { supportedVersions: string[] }).supportedVersions;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const CORE_INDEX = join(HERE, '..', '..', 'index.ts');

/**
 * Bundles a TypeScript entry (with `@knet/core` from source) into one ES module with a
 * `#!/usr/bin/env node` line, written as an executable file `dir/name`: what tsup builds for a
 * package `bin`, made here so tests run the real executable.
 */
export async function bundleExecutable(entry: string, name: string, dir = mkdtempSync(join(tmpdir(), 'knet-cni-bin-')), alias: Record<string, string> = {}): Promise<string> {
  const req = createRequire(import.meta.url);
  const tsup = req.resolve('tsup');
  // esbuild comes with tsup (a devDependency of every package); only `build` is needed.
  const esbuild = (await import(createRequire(tsup).resolve('esbuild'))) as {
    build(options: Record<string, unknown>): Promise<{ outputFiles: { text: string }[] }>;
  };
  const out = join(dir, name);
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    alias: { '@knet/core': CORE_INDEX, ...alias },
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.text ?? '';
  writeFileSync(out, code.startsWith('#!') ? code : `#!/usr/bin/env node\n${code}`);
  chmodSync(out, 0o755);
  return out;
}

/** The text of a file (for assertions on on-disk state). */
export function readText(file: string): string {
  return readFileSync(file, 'utf8');
}
