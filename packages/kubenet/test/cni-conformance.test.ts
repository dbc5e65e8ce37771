import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { cniConformanceCases, cniConformanceSkipReason } from '@knet/core/linux';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { buildKnetKubenet } from './knet-kubenet-executable.js';

let executable = '/nonexistent/knet-kubenet';
beforeAll(async () => {
  executable = await buildKnetKubenet();
}, 60_000);
afterAll(() => rmSync(dirname(executable), { recursive: true, force: true }));

const skip = cniConformanceSkipReason(['veth', 'bridge']);
if (skip !== undefined) console.log(`knet-kubenet conformance: the real-namespace cases skip: ${skip}`);

const pluginConf = ({ dataDir }: { dataDir: string }) => ({
  type: 'knet-kubenet',
  bridge: 'cbr0',
  mtu: 1500,
  isGateway: true,
  ipMasq: false,
  hairpinMode: false,
  promiscMode: true,
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir },
});

// The cases are built lazily (the executable path is known only after the build).
const cases = cniConformanceCases({
  get executable() {
    return executable;
  },
  pluginConf,
  invalidPluginConf: (ctx) => ({ ...pluginConf(ctx), hairpinMode: true, promiscMode: true }),
  namespacePrefix: 'knet-cni-kubenet-',
  linkKinds: ['veth', 'bridge'],
});

describe('knet-kubenet CNI conformance', () => {
  for (const c of cases) {
    it.skipIf(c.skip !== undefined)(c.name, () => c.run(), 180_000);
  }
});
