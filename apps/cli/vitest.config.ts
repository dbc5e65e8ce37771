import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: {
    alias: [
      { find: /^@knet\/core\/linux$/, replacement: fileURLToPath(new URL('../../packages/core/src/linux.ts', import.meta.url)) },
      { find: /^@knet\/core$/, replacement: fileURLToPath(new URL('../../packages/core/src/index.ts', import.meta.url)) },
      { find: /^@knet\/kubenet$/, replacement: fileURLToPath(new URL('../../packages/kubenet/src/index.ts', import.meta.url)) },
      { find: /^@knet\/cni-flannel$/, replacement: fileURLToPath(new URL('../../packages/cni-flannel/src/index.ts', import.meta.url)) },
      { find: /^@knet\/kube-proxy$/, replacement: fileURLToPath(new URL('../../packages/kube-proxy/src/index.ts', import.meta.url)) },
    ],
  },
  test: { name: '@knet/cli', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 60000 },
});
