import { defineConfig } from 'tsup';

export default defineConfig({
  // The CNI executable is the package bin (package.json `bin.knet-kubenet`).
  entry: ['src/index.ts', 'src/bin/knet-kubenet-cni.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
