/**
 * Test scaffolding: builds the `knet-kubenet` executable from `src/bin/knet-kubenet-cni.ts` the
 * way tsup builds the package `bin` (one ES module, `#!/usr/bin/env node`), with `@knet/core`
 * from source, into a directory of its own, so tests run the real executable.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/** Bundles the executable as `<dir>/knet-kubenet` and returns its path. */
export async function buildKnetKubenet(dir = mkdtempSync(join(tmpdir(), 'knet-cni-bin-'))): Promise<string> {
  return bundle('../src/bin/knet-kubenet-cni.ts', join(dir, 'knet-kubenet'));
}

/** Bundles the agent as `<dir>/knet-kubenet-agent.js` and returns its path. */
export async function buildKnetKubenetAgent(dir: string): Promise<string> {
  return bundle('../src/bin/knet-kubenet-agent.ts', join(dir, 'knet-kubenet-agent.js'));
}

/**
 * The package's `dist/bin` as the build lays it out: `knet-kubenet-cni.js`,
 * `knet-kubenet-agent.js` and the launcher `knet-kubenet` (which finds the first beside it).
 */
export async function buildKnetKubenetBin(dir: string): Promise<{ launcher: string; cni: string; agent: string }> {
  const cni = await bundle('../src/bin/knet-kubenet-cni.ts', join(dir, 'knet-kubenet-cni.js'));
  const agent = await buildKnetKubenetAgent(dir);
  const { cniLauncherScript } = await import('../../core/src/cni/cni-launcher.js');
  const launcher = join(dir, 'knet-kubenet');
  writeFileSync(launcher, cniLauncherScript({ name: 'knet-kubenet', entry: 'knet-kubenet-cni.js', relative: true }));
  chmodSync(launcher, 0o755);
  return { launcher, cni, agent };
}

async function bundle(source: string, out: string): Promise<string> {
  const tsup = createRequire(import.meta.url).resolve('tsup');
  // esbuild comes with tsup (a devDependency); only `build` is needed.
  const esbuild = (await import(createRequire(tsup).resolve('esbuild'))) as {
    build(options: Record<string, unknown>): Promise<{ outputFiles: { text: string }[] }>;
  };
  const result = await esbuild.build({
    entryPoints: [here(source)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    alias: { '@knet/core/linux': here('../../core/src/linux.ts'), '@knet/core': here('../../core/src/index.ts') },
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.text ?? '';
  writeFileSync(out, code.startsWith('#!') ? code : `#!/usr/bin/env node\n${code}`);
  chmodSync(out, 0o755);
  return out;
}
