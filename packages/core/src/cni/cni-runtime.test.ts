import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missingReferenceReason, referenceCniDir } from './__fixtures__/reference-cni.js';
import { parseCniNetConfList } from './cni-conf.js';
import { CniError } from './cni-error.js';
import { createInProcessCniExec, createProcessCniExec } from './cni-exec.js';
import { CniRuntime } from './cni-runtime.js';
import type { CniCmdArgs, CniPlugin } from './cni-skel.js';
import { parsePrevResult } from './cni-skel.js';
import type { AnyCniResult, CniResult } from './cni-types.js';
import { CNI_SPEC_VERSIONS } from './cni-version.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'knet-rt-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Call {
  plugin: string;
  command: string;
  env: Pick<CniCmdArgs, 'containerId' | 'netns' | 'ifname' | 'args' | 'path'>;
  config: Record<string, unknown>;
}

/** An in-process plugin that records what it receives and appends an interface to prevResult. */
function chainPlugin(name: string, calls: Call[], fail?: string): CniPlugin {
  const record = (a: CniCmdArgs): void => {
    calls.push({ plugin: name, command: a.command, env: { containerId: a.containerId, netns: a.netns, ifname: a.ifname, args: a.args, path: a.path }, config: a.config as Record<string, unknown> });
    if (fail === a.command) throw new CniError(107, `${name} refuses ${a.command}`, 'on purpose');
  };
  return {
    versions: CNI_SPEC_VERSIONS,
    add: (a): AnyCniResult => {
      record(a);
      const prev = parsePrevResult(a) as CniResult | undefined;
      return {
        cniVersion: '1.1.0',
        interfaces: [...(prev?.interfaces ?? []), { name }],
        ips: prev?.ips ?? [{ interface: 0, address: '10.244.1.2/24', gateway: '10.244.1.1' }],
        dns: {},
      };
    },
    del: record,
    check: record,
    gc: record,
    status: record,
  };
}

const RT = { containerId: 'c1', netns: '/run/netns/knet-cni-x', ifname: 'eth0', args: [['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'web']] as const };

function runtimeWith(calls: Call[], cacheDir: string, failing: Record<string, string> = {}): CniRuntime {
  const plugins: Record<string, CniPlugin> = {};
  for (const n of ['one', 'two', 'three']) plugins[n] = chainPlugin(n, calls, failing[n]);
  return new CniRuntime({ path: ['/nonexistent'], cacheDir, exec: createInProcessCniExec(plugins), env: {} });
}

const LIST = (v = '1.1.0', extra: object = {}) =>
  parseCniNetConfList(
    JSON.stringify({
      cniVersion: v,
      name: 'chain',
      ...extra,
      plugins: [{ type: 'one', capabilities: { portMappings: true, mac: false } }, { type: 'two', custom: { k: 1 } }, { type: 'three', capabilities: { ips: true } }],
    }),
  );

describe('CniRuntime', () => {
  it('ADD: plugins in order with prevResult, name/cniVersion injected, runtimeConfig from capabilities, result cached', async () => {
    const calls: Call[] = [];
    const cache = tmp();
    const rt = runtimeWith(calls, cache);
    const list = LIST();
    const result = await rt.addNetworkList(list, { ...RT, capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], mac: 'c2:11:22:33:44:55' } });
    expect(result).toMatchObject({ cniVersion: '1.1.0', interfaces: [{ name: 'one' }, { name: 'two' }, { name: 'three' }] });
    expect(calls.map((c) => `${c.plugin}:${c.command}`)).toEqual(['one:ADD', 'two:ADD', 'three:ADD']);
    expect(calls[0]?.config).toEqual({ type: 'one', name: 'chain', cniVersion: '1.1.0', runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] } });
    expect(calls[1]?.config).toMatchObject({ type: 'two', custom: { k: 1 }, prevResult: { interfaces: [{ name: 'one' }] } });
    expect(calls[1]?.config).not.toHaveProperty('runtimeConfig');
    expect(calls[2]?.config).not.toHaveProperty('capabilities');
    expect(calls[0]?.env).toEqual({ containerId: 'c1', netns: '/run/netns/knet-cni-x', ifname: 'eth0', args: 'IgnoreUnknown=1;K8S_POD_NAME=web', path: '/nonexistent' });

    const file = join(cache, 'results', 'chain-c1-eth0');
    expect(rt.cacheFilePath('chain', RT)).toBe(file);
    expect(statSync(join(cache, 'results')).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const cached = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(cached)).toEqual(['kind', 'containerId', 'config', 'ifName', 'networkName', 'netns', 'cniArgs', 'capabilityArgs', 'result']);
    expect(cached).toMatchObject({ kind: 'cniCacheV1', containerId: 'c1', ifName: 'eth0', networkName: 'chain', netns: '/run/netns/knet-cni-x', cniArgs: [['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'web']] });
    expect(Buffer.from(cached['config'] as string, 'base64').toString()).toBe(list.bytes);
    expect(rt.getCachedAttachments('c1')).toMatchObject([{ containerId: 'c1', network: 'chain', ifname: 'eth0', config: list.bytes }]);
  });

  it('DEL: plugins in reverse, each with the cached final result, then the cache file is gone', async () => {
    const calls: Call[] = [];
    const cache = tmp();
    const rt = runtimeWith(calls, cache);
    await rt.addNetworkList(LIST(), RT);
    calls.length = 0;
    await rt.delNetworkList(LIST(), RT);
    expect(calls.map((c) => `${c.plugin}:${c.command}`)).toEqual(['three:DEL', 'two:DEL', 'one:DEL']);
    for (const c of calls) expect((c.config['prevResult'] as CniResult).interfaces?.map((i) => i.name)).toEqual(['one', 'two', 'three']);
    expect(rt.getCachedAttachments()).toEqual([]);
    calls.length = 0;
    await rt.delNetworkList(LIST(), RT);
    expect(calls.every((c) => !('prevResult' in c.config))).toBe(true);
  });

  it('DEL before 0.4.0 sends no prevResult; CHECK before 0.4.0 is refused; disableCheck skips CHECK', async () => {
    const calls: Call[] = [];
    const rt = runtimeWith(calls, tmp());
    await rt.addNetworkList(LIST('0.3.1'), RT);
    await expect(rt.checkNetworkList(LIST('0.3.1'), RT)).rejects.toThrow('configuration version "0.3.1" does not support the CHECK command');
    calls.length = 0;
    await rt.delNetworkList(LIST('0.3.1'), RT);
    expect(calls.some((c) => 'prevResult' in c.config)).toBe(false);
    await rt.addNetworkList(LIST('1.0.0', { disableCheck: true }), RT);
    calls.length = 0;
    await rt.checkNetworkList(LIST('1.0.0', { disableCheck: true }), RT);
    expect(calls).toEqual([]);
  });

  it('CHECK: plugins in order with the cached result', async () => {
    const calls: Call[] = [];
    const rt = runtimeWith(calls, tmp());
    await rt.addNetworkList(LIST('1.0.0'), RT);
    calls.length = 0;
    await rt.checkNetworkList(LIST('1.0.0'), RT);
    expect(calls.map((c) => `${c.plugin}:${c.command}`)).toEqual(['one:CHECK', 'two:CHECK', 'three:CHECK']);
    expect((calls[0]?.config['prevResult'] as CniResult).cniVersion).toBe('1.0.0');
  });

  it('wraps a failing plugin as libcni does, keeping its code', async () => {
    const calls: Call[] = [];
    const rt = runtimeWith(calls, tmp(), { two: 'ADD' });
    const err = await rt.addNetworkList(LIST(), RT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniError);
    expect(err).toMatchObject({ code: 107, msg: 'plugin type="two" failed (add): two refuses ADD', details: 'on purpose' });
    expect(calls.map((c) => c.plugin)).toEqual(['one', 'two']);
    expect(rt.getCachedAttachments()).toEqual([]);
  });

  it('validates the attachment before running a plugin', async () => {
    const rt = runtimeWith([], tmp());
    await expect(rt.addNetworkList(LIST(), { ...RT, containerId: '' })).rejects.toMatchObject({ code: 3, msg: 'plugin type="one" failed (add): missing containerID' });
    await expect(rt.addNetworkList(LIST(), { ...RT, ifname: 'averyveryverylongname' })).rejects.toMatchObject({ code: 4 });
  });

  it('GC: DEL for stale cached attachments, then GC to every plugin with both attachment keys', async () => {
    const calls: Call[] = [];
    const rt = runtimeWith(calls, tmp());
    await rt.addNetworkList(LIST(), { ...RT, containerId: 'keep' });
    await rt.addNetworkList(LIST(), { ...RT, containerId: 'stale' });
    calls.length = 0;
    await rt.gcNetworkList(LIST(), { validAttachments: [{ containerID: 'keep', ifname: 'eth0' }] });
    expect(calls.map((c) => `${c.plugin}:${c.command}:${c.env.containerId}`)).toEqual([
      'three:DEL:stale',
      'two:DEL:stale',
      'one:DEL:stale',
      'one:GC:',
      'two:GC:',
      'three:GC:',
    ]);
    const gc = calls[3]?.config as Record<string, unknown>;
    expect(gc['cni.dev/valid-attachments']).toEqual([{ containerID: 'keep', ifname: 'eth0' }]);
    expect(gc['cni.dev/attachments']).toEqual([{ containerID: 'keep', ifname: 'eth0' }]);
    expect(rt.getCachedAttachments().map((a) => a.containerId)).toEqual(['keep']);
    calls.length = 0;
    await rt.gcNetworkList(LIST('1.1.0', { disableGC: true }), { validAttachments: [] });
    expect(calls).toEqual([]);
  });

  it('GC carries on past failures and reports them all', async () => {
    const calls: Call[] = [];
    const rt = runtimeWith(calls, tmp(), { one: 'GC', three: 'GC' });
    const err = await rt.gcNetworkList(LIST(), { validAttachments: [] }).catch((e: unknown) => e);
    expect((err as AggregateError).errors.map((e: Error) => e.message)).toEqual([
      'failed to GC plugin one: one refuses GC; on purpose',
      'failed to GC plugin three: three refuses GC; on purpose',
    ]);
    expect(calls.map((c) => c.plugin)).toEqual(['one', 'two', 'three']);
  });

  it('STATUS asks every plugin from 1.1.0 on, with only name and cniVersion added', async () => {
    const calls: Call[] = [];
    const rt = runtimeWith(calls, tmp());
    await rt.getStatusNetworkList(LIST('1.0.0'));
    expect(calls).toEqual([]);
    await rt.getStatusNetworkList(LIST('1.1.0'));
    expect(calls.map((c) => c.plugin)).toEqual(['one', 'two', 'three']);
    expect(calls[0]?.config).toEqual({ type: 'one', capabilities: { portMappings: true, mac: false }, name: 'chain', cniVersion: '1.1.0' });
  });

  it('VERSION of an in-process plugin', async () => {
    const rt = runtimeWith([], tmp());
    expect(await rt.getVersionInfo('one')).toEqual({ cniVersion: '1.1.0', supportedVersions: [...CNI_SPEC_VERSIONS] });
  });
});

describe('CniRuntime with executables', () => {
  function script(dir: string, name: string, body: string): string {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return file;
  }

  const ONE = (type: string) => parseCniNetConfList(JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins: [{ type }] }));

  it.each<[string, string, number, string]>([
    ['silent', 'cat >/dev/null; exit 1', 0, 'netplugin failed with no error message: exit status 1'],
    ['stderr', 'cat >/dev/null; echo oops >&2; exit 3', 0, 'netplugin failed: "oops\\n": exit status 3'],
    ['garbage', 'cat >/dev/null; echo garbage; exit 1', 0, 'netplugin failed but error parsing its diagnostic message "garbage\\n": invalid character \'g\' looking for beginning of value'],
    ['json', 'cat >/dev/null; echo \'{"code":11,"msg":"busy","details":"later"}\'; exit 1', 11, 'busy'],
    ['killed', 'cat >/dev/null; kill -9 $$', 0, 'netplugin failed with no error message: signal: killed'],
  ])('a plugin that fails %s', async (name, body, code, msg) => {
    const dir = tmp();
    script(dir, name, body);
    const rt = new CniRuntime({ path: [dir], cacheDir: tmp() });
    await expect(rt.addNetworkList(ONE(name), RT)).rejects.toMatchObject({ code, msg: `plugin type="${name}" failed (add): ${msg}` });
  });

  it('finds the first regular file along the path and refuses path separators', async () => {
    const a = tmp();
    const b = tmp();
    script(b, 'echoer', 'cat >/dev/null; echo \'{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.9/24"}]}\'');
    const rt = new CniRuntime({ path: [a, b], cacheDir: tmp() });
    expect(await rt.addNetworkList(ONE('echoer'), RT)).toEqual({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.9/24' }], dns: {} });
    await expect(rt.addNetworkList(ONE('missing'), RT)).rejects.toThrow(`plugin type="missing" failed (add): failed to find plugin "missing" in path [${a} ${b}]`);
    await expect(rt.addNetworkList(ONE('../echoer'), RT)).rejects.toThrow('plugin type="../echoer" failed (add): invalid plugin name: ../echoer');
  });

  it('takes a result without cniVersion to be in the config version', async () => {
    const dir = tmp();
    script(dir, 'old', 'cat >/dev/null; echo \'{"ip4":{"ip":"10.0.0.9/24"}}\'');
    const rt = new CniRuntime({ path: [dir], cacheDir: tmp() });
    const list = parseCniNetConfList(JSON.stringify({ cniVersion: '0.2.0', name: 'net', plugins: [{ type: 'old' }] }));
    expect(await rt.addNetworkList(list, RT)).toEqual({ cniVersion: '0.2.0', ip4: { ip: '10.0.0.9/24' }, dns: {} });
  });

  it('retries while the plugin binary is busy being written ("text file busy")', async () => {
    const dir = tmp();
    const file = join(dir, 'fresh');
    const fd = openSync(file, 'w', 0o755);
    writeSync(fd, '#!/bin/sh\ncat >/dev/null\necho \'{"cniVersion":"1.0.0"}\'\n');
    setTimeout(() => closeSync(fd), 250);
    const rt = new CniRuntime({ path: [dir], cacheDir: tmp(), exec: createProcessCniExec({ busyRetryMs: 100 }) });
    expect(await rt.addNetworkList(ONE('fresh'), RT)).toEqual({ cniVersion: '1.0.0', dns: {} });
  });
});

const noReference = missingReferenceReason('host-local');
if (noReference !== undefined) console.log(`skipping the runtime tests with reference plugins: ${noReference}`);

describe.skipIf(noReference !== undefined)('CniRuntime with the reference host-local', () => {
  it('ADD, CHECK, DEL, DEL; VERSION', async () => {
    const data = tmp();
    const cache = tmp();
    const dir = referenceCniDir() as string;
    const rt = new CniRuntime({ path: [dir], cacheDir: cache });
    const list = parseCniNetConfList(
      JSON.stringify({ cniVersion: '1.0.0', name: 'pods', plugins: [{ type: 'host-local', ipam: { type: 'host-local', subnet: '10.244.9.0/24', dataDir: data } }] }),
    );
    const args = { containerId: 'c1', netns: '/run/netns/knet-cni-none', ifname: 'eth0', args: [['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'web']] as const };
    expect(await rt.addNetworkList(list, args)).toEqual({ cniVersion: '1.0.0', ips: [{ address: '10.244.9.2/24', gateway: '10.244.9.1' }], dns: {} });
    await rt.checkNetworkList(list, args);
    expect(readFileSync(join(data, 'pods', '10.244.9.2'), 'utf8')).toBe('c1\r\neth0');
    await rt.delNetworkList(list, args);
    await rt.delNetworkList(list, args);
    await expect(rt.checkNetworkList(list, args)).rejects.toMatchObject({ msg: 'host-local: Failed to find address added by container c1' });
    expect(await rt.getVersionInfo('host-local')).toMatchObject({ supportedVersions: expect.arrayContaining(['0.4.0', '1.0.0']) });
  });
});
