import { describe, expect, it } from 'vitest';
import { missingReferenceReason, referenceVersions, runReference } from './__fixtures__/reference-cni.js';
import { CniError } from './cni-error.js';
import { createHostLocalCniPlugin } from './host-local-cni-plugin.js';
import { parsePrevResult, runCniPlugin } from './cni-skel.js';
import type { CniCmdArgs, CniPlugin } from './cni-skel.js';
import { CNI_SPEC_VERSIONS } from './cni-version.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  calls: CniCmdArgs[];
}

/** A plugin that records its calls and returns a fixed 1.0.0 result. */
function recorder(overrides: Partial<CniPlugin> = {}): { plugin: CniPlugin; calls: CniCmdArgs[] } {
  const calls: CniCmdArgs[] = [];
  const plugin: CniPlugin = {
    versions: CNI_SPEC_VERSIONS,
    add: (a) => {
      calls.push(a);
      return { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: a.netns }], ips: [{ interface: 0, address: '10.244.1.2/24', gateway: '10.244.1.1' }] };
    },
    del: (a) => {
      calls.push(a);
    },
    check: (a) => {
      calls.push(a);
    },
    gc: (a) => {
      calls.push(a);
    },
    status: (a) => {
      calls.push(a);
    },
    ...overrides,
  };
  return { plugin, calls };
}

const ADD_ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/knet-cni-x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };
const CONF = (v: string): string => JSON.stringify({ cniVersion: v, name: 'kubenet', type: 'knet-test' });

async function run(env: Record<string, string>, stdin: string, overrides: Partial<CniPlugin> = {}, isOwnNetns?: (p: string) => boolean): Promise<Run> {
  const { plugin, calls } = recorder(overrides);
  let stdout = '';
  let stderr = '';
  const code = await runCniPlugin(plugin, {
    env,
    stdin,
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    ...(isOwnNetns !== undefined ? { isOwnNetns } : {}),
  });
  return { code, stdout, stderr, calls };
}

function error(r: Run): unknown {
  return JSON.parse(r.stdout);
}

describe('runCniPlugin', () => {
  it.each<[string, Record<string, string>, { code: number; msg: string; details?: string }]>([
    ['nothing set', {}, { code: 4, msg: 'required env variables [CNI_COMMAND] missing' }],
    ['ADD bare', { CNI_COMMAND: 'ADD' }, { code: 4, msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing' }],
    ['DEL without netns or path', { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0' }, { code: 4, msg: 'required env variables [CNI_PATH] missing' }],
    ['GC without path', { CNI_COMMAND: 'GC' }, { code: 4, msg: 'required env variables [CNI_PATH] missing' }],
    ['STATUS without path', { CNI_COMMAND: 'STATUS' }, { code: 4, msg: 'required env variables [CNI_PATH] missing' }],
    ['bad container id', { ...ADD_ENV, CNI_CONTAINERID: 'c 1' }, { code: 4, msg: 'invalid characters in containerID', details: 'c 1' }],
    ['container id starting with _', { ...ADD_ENV, CNI_CONTAINERID: '_c1' }, { code: 4, msg: 'invalid characters in containerID', details: '_c1' }],
    ['ifname too long', { ...ADD_ENV, CNI_IFNAME: 'eth0123456789abc' }, { code: 4, msg: 'interface name is too long', details: 'interface name should be less than 16 characters' }],
    ['ifname ..', { ...ADD_ENV, CNI_IFNAME: '..' }, { code: 4, msg: 'interface name is . or ..' }],
    ['ifname with colon', { ...ADD_ENV, CNI_IFNAME: 'eth0:1' }, { code: 4, msg: 'interface name contains / or : or whitespace characters' }],
    ['ifname with slash', { ...ADD_ENV, CNI_IFNAME: 'a/b' }, { code: 4, msg: 'interface name contains / or : or whitespace characters' }],
    ['unknown command', { ...ADD_ENV, CNI_COMMAND: 'GET' }, { code: 4, msg: 'unknown CNI_COMMAND: GET' }],
  ])('%s → %j', async (_name, env, want) => {
    const r = await run(env, CONF('1.0.0'));
    expect(r.code).toBe(1);
    expect(error(r)).toEqual(want);
    expect(r.calls).toEqual([]);
  });

  it('prints the about text and versions on stderr, and succeeds, without CNI_COMMAND', async () => {
    const r = await run({}, '', { about: 'CNI plugin knet-test v0.1.0' });
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.stderr).toBe('CNI plugin knet-test v0.1.0\nCNI protocol versions supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0\n');
  });

  it('VERSION replies with the library version 1.1.0 and the supported versions, without reading stdin', async () => {
    const r = await run({ CNI_COMMAND: 'VERSION' }, 'not json');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n');
  });

  it.each<[string, string, { code: number; msg: string; details?: string }]>([
    ['bad JSON', '{"name":', { code: 6, msg: 'error unmarshall network config: unexpected end of JSON input' }],
    ['no name', '{"cniVersion":"1.0.0"}', { code: 7, msg: 'missing network name' }],
    ['bad name', '{"cniVersion":"1.0.0","name":"a b"}', { code: 7, msg: 'invalid characters found in network name', details: 'a b' }],
    ['numeric name', '{"name":5}', { code: 6, msg: 'error unmarshall network config: json: cannot unmarshal number into Go struct field .name of type string' }],
    [
      'unsupported version',
      CONF('0.2.5'),
      { code: 1, msg: 'incompatible CNI versions', details: 'config is "0.2.5", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0" "1.1.0"]' },
    ],
    ['numeric cniVersion', '{"cniVersion":1,"name":"x"}', { code: 6, msg: 'decoding version from network config: json: cannot unmarshal number into Go struct field .cniVersion of type string' }],
  ])('ADD with %s → %j', async (_name, stdin, want) => {
    const r = await run(ADD_ENV, stdin);
    expect(r.code).toBe(1);
    expect(error(r)).toEqual(want);
  });

  it.each([
    ['0.1.0', '{\n    "cniVersion": "0.1.0",\n    "ip4": {\n        "ip": "10.244.1.2/24",\n        "gateway": "10.244.1.1"\n    },\n    "dns": {}\n}'],
    [
      '0.4.0',
      '{\n    "cniVersion": "0.4.0",\n    "interfaces": [\n        {\n            "name": "eth0",\n            "sandbox": "/run/netns/knet-cni-x"\n        }\n    ],\n    "ips": [\n        {\n            "version": "4",\n            "interface": 0,\n            "address": "10.244.1.2/24",\n            "gateway": "10.244.1.1"\n        }\n    ],\n    "dns": {}\n}',
    ],
    [
      '1.1.0',
      '{\n    "cniVersion": "1.1.0",\n    "interfaces": [\n        {\n            "name": "eth0",\n            "sandbox": "/run/netns/knet-cni-x"\n        }\n    ],\n    "ips": [\n        {\n            "interface": 0,\n            "address": "10.244.1.2/24",\n            "gateway": "10.244.1.1"\n        }\n    ],\n    "dns": {}\n}',
    ],
  ])('ADD prints the result converted to the config version %s', async (v, want) => {
    const r = await run(ADD_ENV, CONF(v));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(want);
    expect(r.calls[0]).toMatchObject({ command: 'ADD', containerId: 'c1', ifname: 'eth0', cniVersion: v, config: { name: 'kubenet' } });
  });

  it.each<[string, string, string, { code: number; msg: string } | undefined]>([
    ['CHECK', '0.3.1', 'CHECK', { code: 1, msg: 'config version does not allow CHECK' }],
    ['CHECK', '0.4.0', 'CHECK', undefined],
    ['GC', '1.0.0', 'GC', { code: 1, msg: 'config version does not allow GC' }],
    ['GC', '1.1.0', 'GC', undefined],
    ['STATUS', '1.0.0', 'STATUS', { code: 1, msg: 'config version does not allow STATUS' }],
    ['STATUS', '1.1.0', 'STATUS', undefined],
  ])('%s with config %s', async (cmd, v, called, want) => {
    const env = cmd === 'CHECK' ? { ...ADD_ENV, CNI_COMMAND: cmd } : { CNI_COMMAND: cmd, CNI_PATH: '/opt/cni/bin' };
    const r = await run(env, CONF(v));
    if (want === undefined) {
      expect(r.code).toBe(0);
      expect(r.calls.map((c) => c.command)).toEqual([called]);
    } else {
      expect(error(r)).toEqual(want);
      expect(r.calls).toEqual([]);
    }
  });

  it('CHECK needs a supported version at least as new as the config', async () => {
    const r = await run({ ...ADD_ENV, CNI_COMMAND: 'CHECK' }, CONF('1.1.0'), { versions: ['0.3.1', '0.4.0', '1.0.0'] });
    expect(error(r)).toEqual({ code: 1, msg: 'plugin version does not allow CHECK' });
  });

  it('GC and STATUS succeed without calling anything when the plugin has no such callback', async () => {
    const { gc: _g, status: _s, ...rest } = recorder().plugin;
    for (const cmd of ['GC', 'STATUS']) {
      let out = '';
      const code = await runCniPlugin(rest, { env: { CNI_COMMAND: cmd, CNI_PATH: '/x' }, stdin: CONF('1.1.0'), stdout: (t) => (out += t) });
      expect([code, out]).toEqual([0, '']);
    }
  });

  it("refuses the plugin's own netns for ADD and DEL unless CNI_NETNS_OVERRIDE", async () => {
    const own = (): boolean => true;
    const add = await run(ADD_ENV, CONF('1.0.0'), {}, own);
    expect(error(add)).toEqual({ code: 8, msg: "plugin's netns and netns from CNI_NETNS should not be the same" });
    expect(add.calls).toEqual([]);
    const del = await run({ ...ADD_ENV, CNI_COMMAND: 'DEL' }, CONF('1.0.0'), {}, own);
    expect(error(del)).toMatchObject({ code: 8 });
    for (const override of ['1', 'true', 'TRUE']) {
      const ok = await run({ ...ADD_ENV, CNI_NETNS_OVERRIDE: override }, CONF('1.0.0'), {}, own);
      expect(ok.code).toBe(0);
    }
  });

  it('prints a CniError as it is and any other error as code 999', async () => {
    const busy = await run(ADD_ENV, CONF('1.0.0'), { add: () => { throw new CniError(11, 'try again later', 'store busy'); } });
    expect(busy.stdout).toBe('{\n    "code": 11,\n    "msg": "try again later",\n    "details": "store busy"\n}');
    const plain = await run(ADD_ENV, CONF('1.0.0'), { add: () => { throw new Error('boom'); } });
    expect(error(plain)).toEqual({ code: 999, msg: 'boom' });
  });
});

describe('parsePrevResult', () => {
  it('reads prevResult in the config version, giving it the config version when it has none', () => {
    const r = parsePrevResult({ cniVersion: '0.4.0', config: { type: 'x', prevResult: { ips: [{ version: '4', address: '10.0.0.2/24' }] } } });
    expect(r).toEqual({ cniVersion: '0.4.0', ips: [{ version: '4', address: '10.0.0.2/24' }], dns: {} });
  });

  it('refuses a prevResult of another result type', () => {
    expect(() => parsePrevResult({ cniVersion: '1.0.0', config: { type: 'x', prevResult: { cniVersion: '0.4.0' } } })).toThrow(
      'could not parse prevResult: result type supports [1.0.0 1.1.0] but unmarshalled CNIVersion is "0.4.0"',
    );
  });
});

const noReference = missingReferenceReason('host-local');
if (noReference !== undefined) console.log(`skipping the differential skel tests: ${noReference}`);

describe.skipIf(noReference !== undefined)('runCniPlugin against the reference skel (host-local)', () => {
  const BASE = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/knet-cni-none', CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' };
  it.each<[string, Record<string, string>, string]>([
    ['no variables', { CNI_COMMAND: 'ADD' }, '{"cniVersion":"1.0.0","name":"x"}'],
    ['missing path', { ...BASE, CNI_PATH: '' }, '{"cniVersion":"1.0.0","name":"x"}'],
    ['bad container id', { ...BASE, CNI_CONTAINERID: 'c%1' }, '{"cniVersion":"1.0.0","name":"x"}'],
    ['long ifname', { ...BASE, CNI_IFNAME: 'abcdefghijklmnop' }, '{"cniVersion":"1.0.0","name":"x"}'],
    ['ifname with space', { ...BASE, CNI_IFNAME: 'eth 0' }, '{"cniVersion":"1.0.0","name":"x"}'],
    ['unknown command', { ...BASE, CNI_COMMAND: 'FOO' }, '{"cniVersion":"1.0.0","name":"x"}'],
    ['truncated JSON', BASE, '{"cniVersion":"1.0.0",'],
    ['trailing garbage', BASE, '{"cniVersion":"1.0.0","name":"x"}x'],
    ['array', BASE, '[]'],
    ['no name', BASE, '{"cniVersion":"1.0.0"}'],
    ['name with space', BASE, '{"cniVersion":"1.0.0","name":"a b"}'],
    ['name is a number', BASE, '{"cniVersion":"1.0.0","name":5}'],
    ['unknown version', BASE, '{"cniVersion":"9.9.9","name":"x"}'],
    ['version is a number', BASE, '{"cniVersion":1,"name":"x"}'],
    ['CHECK before 0.4.0', { ...BASE, CNI_COMMAND: 'CHECK' }, '{"cniVersion":"0.3.1","name":"x"}'],
    ['CHECK with a bad version', { ...BASE, CNI_COMMAND: 'CHECK' }, '{"cniVersion":"1.x","name":"x"}'],
  ])('%s: same stdout and exit code as the reference', (_name, env, stdin) => {
    const ref = runReference('host-local', env, stdin);
    const plugin = { ...createHostLocalCniPlugin(), versions: referenceVersions('host-local') };
    let stdout = '';
    return runCniPlugin(plugin, { env, stdin, stdout: (t) => (stdout += t) }).then((code) => {
      expect({ code, stdout }).toEqual({ code: ref.code, stdout: ref.stdout });
    });
  });
});
