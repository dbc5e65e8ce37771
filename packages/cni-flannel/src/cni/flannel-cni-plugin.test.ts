import { CNI_SPEC_VERSIONS, runCniPlugin, type CniPlugin } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { createFlannelCniPlugin, inProcessDelegate, type FlannelDelegateRequest } from './flannel-cni-plugin.js';

const ENV = 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n';
const CONF = { cniVersion: '0.3.1', name: 'cbr0', type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } };
const RESULT = '{"cniVersion":"0.3.1","interfaces":[{"name":"cni0","mac":"0a:58:0a:f4:01:01"}],"ips":[{"version":"4","interface":0,"address":"10.244.1.2/24","gateway":"10.244.1.1"}],"dns":{}}';

function setup(env: string | null = ENV, delegate?: CniPlugin): {
  files: Map<string, string>;
  calls: FlannelDelegateRequest[];
  run: (cmd: string, conf?: object) => Promise<{ code: number; out: string }>;
} {
  const files = new Map<string, string>();
  if (env !== null) files.set('/run/flannel/subnet.env', env);
  const calls: FlannelDelegateRequest[] = [];
  const fake: CniPlugin = delegate ?? { versions: CNI_SPEC_VERSIONS, add: () => JSON.parse(RESULT) as never, del: () => undefined, check: () => undefined };
  const plugin = createFlannelCniPlugin({
    readFile: async (p) => files.get(p),
    writeFile: async (p, d) => {
      files.set(p, d);
    },
    removeFile: async (p) => {
      files.delete(p);
    },
    delegate: async (r) => {
      calls.push(r);
      return inProcessDelegate({ bridge: fake })(r);
    },
  });
  const run = async (cmd: string, conf: object = CONF): Promise<{ code: number; out: string }> => {
    let out = '';
    const code = await runCniPlugin(plugin, {
      env: { CNI_COMMAND: cmd, CNI_CONTAINERID: 'c0ffee', CNI_NETNS: '/run/netns/p', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' },
      stdin: JSON.stringify(conf),
      stdout: (t) => {
        out += t;
      },
    });
    return { code, out };
  };
  return { files, calls, run };
}

describe('createFlannelCniPlugin', () => {
  it('delegates ADD to bridge with the config flannel builds, saved (keys sorted) for DEL', async () => {
    const { files, calls, run } = setup();
    const r = await run('ADD');
    expect(r.code, r.out).toBe(0);
    const delegate = '{"cniVersion":"0.3.1","hairpinMode":true,"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"10.244.0.0/16"}],"type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1450,"name":"cbr0","type":"bridge"}';
    expect(calls.map((c) => [c.type, c.command, c.stdin])).toEqual([['bridge', 'ADD', delegate]]);
    expect(files.get('/var/lib/cni/flannel/c0ffee')).toBe(delegate);
    expect(JSON.parse(r.out)).toMatchObject({ cniVersion: '0.3.1', ips: [{ version: '4', address: '10.244.1.2/24', gateway: '10.244.1.1' }] });
  });

  it('masquerades in bridge when flanneld does not (FLANNEL_IPMASQ=false), keeps the user\'s IPAM routes and passes other delegate keys', async () => {
    const { calls, run } = setup(ENV.replace('IPMASQ=true', 'IPMASQ=false'));
    await run('ADD', { ...CONF, ipam: { routes: [{ dst: '192.0.2.0/24', gw: '10.244.1.254' }], dataDir: '/tmp/x' }, delegate: { bridge: 'br-flannel', forceAddress: true } });
    expect(JSON.parse(calls[0]!.stdin)).toEqual({
      bridge: 'br-flannel',
      cniVersion: '0.3.1',
      forceAddress: true,
      ipMasq: true,
      ipam: { dataDir: '/tmp/x', ranges: [[{ subnet: '10.244.1.0/24' }]], routes: [{ dst: '192.0.2.0/24', gw: '10.244.1.254' }, { dst: '10.244.0.0/16' }], type: 'host-local' },
      isGateway: true,
      mtu: 1450,
      name: 'cbr0',
      type: 'bridge',
    });
  });

  it('DEL delegates the saved config and removes it; without one, DEL succeeds and delegates nothing', async () => {
    const { files, calls, run } = setup();
    await run('ADD');
    expect((await run('DEL')).code).toBe(0);
    expect(calls.map((c) => c.command)).toEqual(['ADD', 'DEL']);
    expect(calls[1]!.stdin).toBe(calls[0]!.stdin);
    expect(files.has('/var/lib/cni/flannel/c0ffee')).toBe(false);
    expect((await run('DEL')).code).toBe(0);
    expect(calls).toHaveLength(2);
  });

  it.each([
    [null, "failed to load flannel 'subnet.env' file: open /run/flannel/subnet.env: no such file or directory. Check the flannel pod log for this node."],
    ['FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n', "failed to load flannel 'subnet.env' file: /run/flannel/subnet.env is missing FLANNEL_MTU, FLANNEL_IPMASQ. Check the flannel pod log for this node."],
  ])('subnet.env %j: %s', async (env, msg) => {
    const { run } = setup(env);
    const r = await run('ADD');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({ code: 999, msg });
  });

  it.each([
    [{ name: 'x' }, "'delegate' dictionary must not have 'name' field, it'll be set by flannel"],
    [{ ipam: {} }, "'delegate' dictionary must not have 'ipam' field, it'll be set by flannel"],
    [{ type: 7 }, "'delegate' dictionary, if present, must have (string) 'type' field"],
  ])('refuses delegate %j', async (delegate, msg) => {
    const { run } = setup();
    expect(JSON.parse((await run('ADD', { ...CONF, delegate })).out)).toEqual({ code: 999, msg });
  });

  it('passes a delegate\'s CNI error through unchanged, and names a delegate it cannot find', async () => {
    const { run } = setup(ENV, {
      versions: CNI_SPEC_VERSIONS,
      add: async () => {
        const { CniError } = await import('@knet/core');
        throw new CniError(11, 'host-local: lock busy');
      },
      del: () => undefined,
      check: () => undefined,
    });
    expect(JSON.parse((await run('ADD')).out)).toEqual({ code: 11, msg: 'host-local: lock busy' });
    const other = setup();
    expect(JSON.parse((await other.run('ADD', { ...CONF, delegate: { type: 'macvlan' } })).out)).toEqual({ code: 999, msg: 'failed to delegate add: failed to find plugin "macvlan" in path [/opt/cni/bin]' });
  });
});
