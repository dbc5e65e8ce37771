/**
 * The CNI conformance suite through the launcher and `knet-kubenet-agent`: each case's node
 * namespace runs an agent, and the runtime executes the launcher, whose fallback points nowhere,
 * so that every invocation must be answered by the agent. Root only (skips with the reason).
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cniLauncherScript } from '@knet/core';
import { CNI_AGENT_BASE_DIR, cniConformanceCases, cniConformanceSkipReason } from '@knet/core/linux';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invalidPluginConf, pluginConf } from './conformance-conf.js';
import { buildKnetKubenetAgent } from './knet-kubenet-executable.js';

const dir = mkdtempSync(join(tmpdir(), 'knet-cni-agent-'));
const launcher = join(dir, 'knet-kubenet');
let agentJs = '/nonexistent/knet-kubenet-agent.js';
beforeAll(async () => {
  agentJs = await buildKnetKubenetAgent(dir);
  // No fallback: an invocation the agent does not answer fails.
  writeFileSync(launcher, cniLauncherScript({ name: 'knet-kubenet', entry: join(dir, 'absent', 'knet-kubenet-cni.js') }));
  chmodSync(launcher, 0o755);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const skip = cniConformanceSkipReason(['veth', 'bridge']);
if (skip !== undefined) console.log(`knet-kubenet agent conformance: skipped: ${skip}`);

/** Starts the agent inside `node` and resolves once it serves (its `netns` link exists). */
async function startAgent(node: string): Promise<{ stop(): Promise<void> }> {
  const child = spawn('ip', ['netns', 'exec', node, process.execPath, agentJs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const agentDir = (): string | undefined =>
    existsSync(CNI_AGENT_BASE_DIR) ? readdirSync(CNI_AGENT_BASE_DIR).find((n) => n === `knet-kubenet.${child.pid}`) : undefined;
  for (let i = 0; i < 200 && !(agentDir() !== undefined && existsSync(join(CNI_AGENT_BASE_DIR, agentDir()!, 'netns'))); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  if (agentDir() === undefined) throw new Error(`knet-kubenet-agent did not start in ${node}: ${log}`);
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
      expect(existsSync(join(CNI_AGENT_BASE_DIR, `knet-kubenet.${child.pid}`))).toBe(false);
    },
  };
}


const cases = cniConformanceCases({
  executable: launcher,
  pluginConf,
  invalidPluginConf,
  namespacePrefix: 'knet-cni-kagent-',
  linkKinds: ['veth', 'bridge'],
  nodeAgent: startAgent,
});

describe('knet-kubenet CNI conformance through the agent', () => {
  for (const c of cases) {
    it.skipIf(c.skip !== undefined)(c.name, () => c.run(), 180_000);
  }
});
