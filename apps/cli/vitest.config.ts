import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: {
    alias: {
      '@knet/core': fileURLToPath(new URL('../../packages/core/src/index.ts', import.meta.url)),
      '@knet/kubenet': fileURLToPath(new URL('../../packages/kubenet/src/index.ts', import.meta.url)),
      '@knet/kube-proxy': fileURLToPath(new URL('../../packages/kube-proxy/src/index.ts', import.meta.url)),
    },
  },
  test: { name: '@knet/cli', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 60000 },
});
