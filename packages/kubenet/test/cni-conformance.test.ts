import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { cniConformanceCases, cniConformanceSkipReason } from '@knet/core/linux';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { invalidPluginConf, pluginConf } from './conformance-conf.js';
import { buildKnetKubenet } from './knet-kubenet-executable.js';

let executable = '/nonexistent/knet-kubenet';
beforeAll(async () => {
  executable = await buildKnetKubenet();
}, 60_000);
afterAll(() => rmSync(dirname(executable), { recursive: true, force: true }));

const skip = cniConformanceSkipReason(['veth', 'bridge']);
if (skip !== undefined) console.log(`knet-kubenet conformance: the real-namespace cases skip: ${skip}`);


// The cases are built lazily (the executable path is known only after the build).
const cases = cniConformanceCases({
  get executable() {
    return executable;
  },
  pluginConf,
  invalidPluginConf,
  namespacePrefix: 'knet-cni-kubenet-',
  linkKinds: ['veth', 'bridge'],
});

describe('knet-kubenet CNI conformance', () => {
  for (const c of cases) {
    it.skipIf(c.skip !== undefined)(c.name, () => c.run(), 180_000);
  }
});
