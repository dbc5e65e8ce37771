import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missingReferenceReason, referenceCniDir, referenceVersions, runReference } from './__fixtures__/reference-cni.js';
import { createHostLocalCniPlugin, gcValidAttachments, parseResolvConf } from './host-local-cni-plugin.js';
import { runCniPlugin } from './cni-skel.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'knet-hl-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function env(command: string, cid: string, extra: Record<string, string> = {}): Record<string, string> {
  return { CNI_COMMAND: command, CNI_CONTAINERID: cid, CNI_NETNS: '/run/netns/knet-cni-none', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', ...extra };
}

async function knet(e: Record<string, string>, stdin: string): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await runCniPlugin(createHostLocalCniPlugin(), { env: e, stdin, stdout: (t) => (stdout += t) });
  return { code, stdout };
}

function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort()) if (n !== 'lock') out[n] = readFileSync(join(dir, n), 'utf8');
  return out;
}

describe('createHostLocalCniPlugin', () => {
  it('ADD, CHECK, DEL, GC through the skeleton', async () => {
    const data = tmp();
    const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'pods', type: 'host-local', ipam: { type: 'host-local', subnet: '10.244.7.0/24', dataDir: data } });
    expect(JSON.parse((await knet(env('ADD', 'c1'), conf)).stdout)).toEqual({ cniVersion: '1.1.0', ips: [{ address: '10.244.7.2/24', gateway: '10.244.7.1' }], dns: {} });
    await knet(env('ADD', 'c2'), conf);
    expect((await knet(env('CHECK', 'c1'), conf)).code).toBe(0);
    expect(JSON.parse((await knet(env('CHECK', 'c9'), conf)).stdout)).toEqual({ code: 999, msg: 'host-local: Failed to find address added by container c9' });
    expect((await knet(env('DEL', 'c1'), conf)).code).toBe(0);
    expect((await knet(env('DEL', 'c1'), conf)).code).toBe(0);
    const gc = JSON.stringify({ ...JSON.parse(conf), 'cni.dev/attachments': [{ containerID: 'nobody', ifname: 'eth0' }] });
    expect((await knet({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }, gc)).code).toBe(0);
    expect(files(join(data, 'pods'))).toEqual({ 'last_reserved_ip.0': '10.244.7.3' });
  });

  it.each<[string, string, number, string]>([
    ['no ipam', '{"cniVersion":"1.0.0","name":"x"}', 7, "IPAM config missing 'ipam' key"],
    ['no ranges', '{"cniVersion":"1.0.0","name":"x","ipam":{"type":"host-local"}}', 7, 'no IP ranges specified'],
    ['tiny subnet', '{"cniVersion":"1.0.0","name":"x","ipam":{"type":"host-local","subnet":"10.0.0.0/31"}}', 7, 'invalid range set 0: Network 10.0.0.0/31 too small to allocate from'],
  ])('an invalid config (%s) is code %i', async (_n, conf, code, msg) => {
    expect(JSON.parse((await knet(env('ADD', 'c1'), conf)).stdout)).toEqual({ code, msg });
  });

  it('honours CNI_ARGS IP= and refuses unknown args without IgnoreUnknown', async () => {
    const data = tmp();
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'pods', ipam: { type: 'host-local', subnet: '10.244.7.0/24', dataDir: data } });
    const r = await knet(env('ADD', 'c1', { CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.244.7.50' }), conf);
    expect(JSON.parse(r.stdout).ips).toEqual([{ address: '10.244.7.50/24', gateway: '10.244.7.1' }]);
    const bad = await knet(env('ADD', 'c2', { CNI_ARGS: 'K8S_POD_NAME=web' }), conf);
    expect(JSON.parse(bad.stdout)).toEqual({ code: 999, msg: 'ARGS: unknown args ["K8S_POD_NAME=web"]' });
  });

  it('reads resolvConf into dns', () => {
    expect(parseResolvConf('# c\nnameserver 10.96.0.10\nsearch a.svc b.svc\n;x\noptions ndots:5\ndomain cluster.local\nnameserver 1.1.1.1\n')).toEqual({
      nameservers: ['10.96.0.10', '1.1.1.1'],
      domain: 'cluster.local',
      search: ['a.svc', 'b.svc'],
      options: ['ndots:5'],
    });
  });

  it('reads the valid attachments under either GC key', () => {
    expect(gcValidAttachments({ 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }] })).toEqual([{ containerID: 'a', ifname: 'eth0' }]);
    expect(gcValidAttachments({ 'cni.dev/attachments': [{ containerID: 'b', ifname: 'net1' }] })).toEqual([{ containerID: 'b', ifname: 'net1' }]);
  });
});

const noReference = missingReferenceReason('host-local');
if (noReference !== undefined) console.log(`skipping the host-local differential tests: ${noReference}`);

describe.skipIf(noReference !== undefined)('createHostLocalCniPlugin against the reference host-local', () => {
  const versions = noReference === undefined ? referenceVersions('host-local') : [];

  it.each(versions)('config %s: the same stdout, byte for byte, and the same files', async (v) => {
    const refData = tmp();
    const knetData = tmp();
    const resolv = join(tmp(), 'resolv.conf');
    writeFileSync(resolv, 'nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local\noptions ndots:5\n');
    const conf = (dataDir: string): string =>
      JSON.stringify({
        cniVersion: v,
        name: 'kubenet',
        type: 'bridge',
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: '10.244.1.0/30' }, { subnet: '10.244.2.0/24', rangeStart: '10.244.2.10', gateway: '10.244.2.254' }]],
          routes: [{ dst: '0.0.0.0/0' }, { dst: '192.0.2.0/24', gw: '10.244.1.1' }],
          resolvConf: resolv,
          dataDir,
        },
      });
    const dir = referenceCniDir() as string;
    for (const cid of ['c1', 'c2', 'c3']) {
      const e = { ...env('ADD', cid), CNI_PATH: dir };
      const ref = runReference('host-local', e, conf(refData));
      const mine = await knet(e, conf(knetData));
      expect(mine).toEqual({ code: ref.code, stdout: ref.stdout });
    }
    const del = { ...env('DEL', 'c2'), CNI_PATH: dir };
    expect(runReference('host-local', del, conf(refData)).code).toBe(0);
    expect((await knet(del, conf(knetData))).code).toBe(0);
    expect(files(join(knetData, 'kubenet'))).toEqual(files(join(refData, 'kubenet')));
  });
});
