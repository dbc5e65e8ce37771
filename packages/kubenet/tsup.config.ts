import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: true,
    sourcemap: true,
    // Everything but the executable, which the second build writes.
    clean: ['*.js', '*.js.map', '*.d.ts'],
    target: 'node20',
  },
  {
    // The CNI executable, package.json `bin.knet-kubenet`: one self-contained file with the parts
    // of @knet/core it uses, because a runtime starts it once per pod and command (loading all of
    // @knet/core costs about 150 ms a start).
    // The agent (package.json `bin.knet-kubenet-agent`) is bundled the same way.
    entry: { 'bin/knet-kubenet-cni': 'src/bin/knet-kubenet-cni.ts', 'bin/knet-kubenet-agent': 'src/bin/knet-kubenet-agent.ts' },
    format: ['esm'],
    noExternal: ['@knet/core'],
    splitting: false,
    dts: false,
    sourcemap: false,
    clean: ['bin'],
    target: 'node20',
  },
]);
