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
    // The `flannel` CNI executable (package.json `bin.knet-flannel`): one self-contained file with
    // the parts of @knet/core it uses, since a runtime starts it once per pod and command.
    entry: { 'bin/knet-flannel-cni': 'src/bin/knet-flannel-cni.ts' },
    format: ['esm'],
    noExternal: ['@knet/core'],
    dts: false,
    sourcemap: false,
    clean: ['bin'],
    target: 'node20',
  },
]);
