import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: {
    alias: [
      { find: /^@knet\/core\/linux$/, replacement: fileURLToPath(new URL('../core/src/linux.ts', import.meta.url)) },
      { find: /^@knet\/core$/, replacement: fileURLToPath(new URL('../core/src/index.ts', import.meta.url)) },
    ],
  },
  test: { name: '@knet/cni-flannel', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 60000 },
});
