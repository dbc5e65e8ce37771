import { createSimHost, MemoryIpamStore, runCniPlugin, SeededRng } from '@knet/core';
import type { CniPlugin, SimHost } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { createKubenetCniConfList, parseKubenetCniConf } from './kubenet-cni-conf.js';
import { createKubenetCniPlugin } from './kubenet-cni-plugin.js';

const NODE = 'knet-node';
const path = (pod: string): string => `/run/netns/${pod}`;

interface Fixture {
  sim: SimHost;
  store: MemoryIpamStore;
  plugin: CniPlugin;
}

async function fixture(): Promise<Fixture> {
  const sim = createSimHost({ seed: 7 });
  await sim.netnsAdd(NODE, { role: 'node', node: 'node-1' });
  const store = new MemoryIpamStore();
  const rng = new SeededRng('veths');
  const plugin = createKubenetCniPlugin({
    host: sim,
    hostNetns: NODE,
    podNetns: (p) => p.slice('/run/netns/'.length),
    ipamStore: () => store,
    hex: () => rng.hex(4),
  });
  return { sim, store, plugin };
}

const NODE1 = { name: 'node-1', labels: {}, internalIP: '192.168.0.11', podCIDR: '10.244.1.0/24', podCIDRAllocated: false };

function conf(extra: Record<string, unknown> = {}, version = '1.0.0'): string {
  const list = createKubenetCniConfList(NODE1, { hairpinMode: 'promiscuous-bridge' });
  return JSON.stringify({ cniVersion: version, name: list.name, ...list.plugins[0], ...extra });
}

async function call(f: Fixture, command: string, cid: string, pod: string, stdin: string, extra: Record<string, string> = {}) {
  let stdout = '';
  const env = { CNI_COMMAND: command, CNI_CONTAINERID: cid, CNI_NETNS: path(pod), CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', ...extra };
  const code = await runCniPlugin(f.plugin, { env, stdin, stdout: (t) => (stdout += t) });
  return { code, out: stdout === '' ? undefined : (JSON.parse(stdout) as Record<string, unknown>) };
}

async function podAdd(f: Fixture, pod: string): Promise<void> {
  await f.sim.netnsAdd(pod, { role: 'pod', node: 'node-1' });
}

describe('createKubenetCniPlugin', () => {
  it('ADD builds what loopback + bridge + host-local build, and returns a bridge-shaped result', async () => {
    const f = await fixture();
    await podAdd(f, 'knet-pod-a');
    const r = await call(f, 'ADD', 'c1', 'knet-pod-a', conf());
    expect(r.code).toBe(0);
    const links = await f.sim.linkList(NODE);
    const cbr0 = links.find((l) => l.name === 'cbr0');
    const veth = links.find((l) => l.kind === 'veth');
    const eth0 = (await f.sim.linkList('knet-pod-a')).find((l) => l.name === 'eth0');
    expect(r.out).toEqual({
      cniVersion: '1.0.0',
      interfaces: [
        { name: 'cbr0', mac: cbr0?.mac },
        { name: veth?.name, mac: veth?.mac },
        { name: 'eth0', mac: eth0?.mac, sandbox: '/run/netns/knet-pod-a' },
      ],
      ips: [{ interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }],
      routes: [{ dst: '0.0.0.0/0' }],
      dns: {},
    });
    expect(cbr0).toMatchObject({ kind: 'bridge', up: true, promisc: true, mtu: 1460 });
    expect(veth).toMatchObject({ master: 'cbr0', up: true, mtu: 1460, bridgePort: { hairpin: false } });
    expect(veth?.name).toMatch(/^veth[0-9a-f]{8}$/);
    expect(eth0).toMatchObject({ kind: 'veth', up: true, mtu: 1460, peer: { ifindex: veth?.ifindex } });
    expect((await f.sim.linkList('knet-pod-a')).find((l) => l.name === 'lo')?.up).toBe(true);
    expect((await f.sim.addrList(NODE)).map((a) => `${a.dev} ${a.local}/${a.prefixlen}`)).toEqual(['cbr0 10.244.1.1/24']);
    expect((await f.sim.addrList('knet-pod-a')).map((a) => `${a.dev} ${a.local}/${a.prefixlen}`)).toContain('eth0 10.244.1.2/24');
    expect((await f.sim.routeList('knet-pod-a')).find((x) => x.dst === 'default')).toMatchObject({ gateway: '10.244.1.1', dev: 'eth0' });
    expect(await f.sim.sysctlGet(NODE, 'net.ipv4.ip_forward')).toBe('1');
    expect(f.store.files()).toEqual({ '10.244.1.2': 'c1\r\neth0', 'last_reserved_ip.0': '10.244.1.2' });
  });

  it.each([
    ['0.1.0', { cniVersion: '0.1.0', ip4: { ip: '10.244.1.2/24', gateway: '10.244.1.1', routes: [{ dst: '0.0.0.0/0' }] }, dns: {} }],
    ['0.4.0', { cniVersion: '0.4.0', ips: [{ version: '4', interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }] }],
    ['1.1.0', { cniVersion: '1.1.0', ips: [{ interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }] }],
  ])('answers in the config version %s', async (v, want) => {
    const f = await fixture();
    await podAdd(f, 'knet-pod-a');
    const r = await call(f, 'ADD', 'c1', 'knet-pod-a', conf({}, v));
    expect(r.out).toMatchObject(want);
  });

  it('a second ADD into the same pod fails with the bridge plugin text and leaves the first alone', async () => {
    const f = await fixture();
    await podAdd(f, 'knet-pod-a');
    await call(f, 'ADD', 'c1', 'knet-pod-a', conf());
    const r = await call(f, 'ADD', 'c2', 'knet-pod-a', conf());
    expect(r.out).toMatchObject({ code: 999, msg: expect.stringMatching(/^container veth name \("eth0"\) peer provided \("veth[0-9a-f]{8}"\) already exists$/) });
    expect(f.store.files()).toEqual({ '10.244.1.2': 'c1\r\neth0', 'last_reserved_ip.0': '10.244.1.2' });
  });

  it('CHECK passes after ADD and fails, with the bridge texts, when the kernel or prevResult disagree', async () => {
    const f = await fixture();
    await podAdd(f, 'knet-pod-a');
    const add = await call(f, 'ADD', 'c1', 'knet-pod-a', conf());
    const withPrev = (prev: unknown): string => JSON.stringify({ ...JSON.parse(conf()), prevResult: prev });
    expect((await call(f, 'CHECK', 'c1', 'knet-pod-a', withPrev(add.out))).code).toBe(0);
    expect((await call(f, 'CHECK', 'c1', 'knet-pod-a', conf())).out).toEqual({ code: 999, msg: 'Required prevResult missing' });
    const prev = add.out as { interfaces: { name: string; mac: string; sandbox?: string }[] };
    const wrongMac = { ...prev, interfaces: prev.interfaces.map((i) => (i.name === 'eth0' ? { ...i, mac: '02:00:00:00:00:01' } : i)) };
    expect((await call(f, 'CHECK', 'c1', 'knet-pod-a', withPrev(wrongMac))).out).toMatchObject({ msg: expect.stringMatching(/^Interface eth0 Mac 02:00:00:00:00:01 doesn't match container Mac: /) });
    await f.sim.routeDel('knet-pod-a', { dst: 'default', via: '10.244.1.1', dev: 'eth0' });
    expect((await call(f, 'CHECK', 'c1', 'knet-pod-a', withPrev(add.out))).out).toEqual({ code: 999, msg: 'Expected Route {Dst:0.0.0.0/0 GW:<nil>} not found in routing table' });
    await f.sim.linkSet(NODE, 'cbr0', { promisc: false });
    expect((await call(f, 'CHECK', 'c1', 'knet-pod-a', withPrev(add.out))).out).toEqual({ code: 999, msg: "Bridge interface cbr0 configured Promisc Mode true doesn't match current state: false " });
    f.store.releaseByID('c1', 'eth0');
    expect((await call(f, 'CHECK', 'c1', 'knet-pod-a', withPrev(add.out))).out).toEqual({ code: 999, msg: 'host-local: Failed to find address added by container c1' });
  });

  it('DEL releases and removes, and succeeds again, without a netns, and for a deleted netns', async () => {
    const f = await fixture();
    await podAdd(f, 'knet-pod-a');
    await call(f, 'ADD', 'c1', 'knet-pod-a', conf());
    expect((await call(f, 'DEL', 'c1', 'knet-pod-a', conf())).code).toBe(0);
    expect((await f.sim.linkList('knet-pod-a')).map((l) => `${l.name}:${String(l.up)}`)).toEqual(['lo:false']);
    expect((await f.sim.linkList(NODE)).map((l) => l.name)).toEqual(['lo', 'cbr0']);
    expect(f.store.files()).toEqual({ 'last_reserved_ip.0': '10.244.1.2' });
    expect((await call(f, 'DEL', 'c1', 'knet-pod-a', conf())).code).toBe(0);
    expect((await call(f, 'DEL', 'c1', 'knet-pod-a', conf(), { CNI_NETNS: '' })).code).toBe(0);
    await call(f, 'ADD', 'c2', 'knet-pod-a', conf());
    await f.sim.netnsDel('knet-pod-a');
    expect((await call(f, 'DEL', 'c2', 'knet-pod-a', conf())).code).toBe(0);
    expect(f.store.list()).toEqual([]);
  });

  it('GC releases the addresses of attachments that are not valid any more', async () => {
    const f = await fixture();
    for (const p of ['knet-pod-a', 'knet-pod-b']) {
      await podAdd(f, p);
      await call(f, 'ADD', p, p, conf());
    }
    const gc = JSON.stringify({ ...JSON.parse(conf({}, '1.1.0')), 'cni.dev/valid-attachments': [{ containerID: 'knet-pod-b', ifname: 'eth0' }] });
    let out = '';
    expect(await runCniPlugin(f.plugin, { env: { CNI_COMMAND: 'GC', CNI_PATH: '/x' }, stdin: gc, stdout: (t) => (out += t) })).toBe(0);
    expect(f.store.list().map((r) => r.owner)).toEqual(['knet-pod-b\r\neth0']);
  });

  it.each<[string, Record<string, unknown>, number, string]>([
    ['ipMasq', { ipMasq: true }, 2, 'knet-kubenet does not support ipMasq: true'],
    ['vlan', { vlan: 5 }, 2, 'knet-kubenet does not support vlan: 5'],
    ['dhcp', { ipam: { type: 'dhcp' } }, 2, 'knet-kubenet does not support ipam.type: "dhcp"'],
    ['hairpin+promisc', { hairpinMode: true, promiscMode: true }, 7, 'cannot set hairpin mode and promiscuous mode at the same time'],
    ['no ipam', { ipam: undefined }, 7, "IPAM config missing 'ipam' key"],
    ['mtu as text', { mtu: '1500' }, 7, 'failed to load netconf: json: cannot unmarshal string into Go struct field NetConf.mtu of type int'],
    ['bad range', { ipam: { type: 'host-local', subnet: '10.244.1.0/31' } }, 7, 'invalid range set 0: Network 10.244.1.0/31 too small to allocate from'],
  ])('refuses %s', async (_n, extra, code, msg) => {
    const f = await fixture();
    await podAdd(f, 'knet-pod-a');
    expect((await call(f, 'ADD', 'c1', 'knet-pod-a', conf(extra))).out).toMatchObject({ code, msg });
    expect((await f.sim.linkList(NODE)).map((l) => l.name)).toEqual(['lo']);
  });

  it('takes the address from CNI_ARGS IP= and the MAC from runtimeConfig', async () => {
    const f = await fixture();
    await podAdd(f, 'knet-pod-a');
    const r = await call(f, 'ADD', 'c1', 'knet-pod-a', conf({ runtimeConfig: { mac: 'C2:11:22:33:44:55' } }), { CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.244.1.77' });
    expect(r.out).toMatchObject({ ips: [{ address: '10.244.1.77/24' }], interfaces: [{}, {}, { name: 'eth0', mac: 'c2:11:22:33:44:55' }] });
  });

  it('a failure after the veth exists releases the address and removes the pair', async () => {
    const f = await fixture();
    await podAdd(f, 'knet-pod-a');
    await f.sim.addrAdd(NODE, 'lo', '10.244.1.9/32');
    await f.sim.linkAdd(NODE, { kind: 'bridge', name: 'cbr0' });
    await f.sim.addrAdd(NODE, 'cbr0', '10.9.9.1/24');
    const r = await call(f, 'ADD', 'c1', 'knet-pod-a', conf());
    expect(r.out).toEqual({ code: 999, msg: '"cbr0" already has an IP address different from 10.244.1.1/24' });
    expect(f.store.list()).toEqual([]);
    expect((await f.sim.linkList('knet-pod-a')).map((l) => l.name)).toEqual(['lo']);
    expect((await f.sim.linkList(NODE)).filter((l) => l.kind === 'veth')).toEqual([]);
  });
});

describe('createKubenetCniConfList', () => {
  it.each([
    ['promiscuous-bridge', true, false],
    ['hairpin-veth', false, true],
    ['none', false, false],
  ] as const)('expresses --hairpin-mode=%s as promiscMode %s / hairpinMode %s', (mode, promisc, hairpin) => {
    const list = createKubenetCniConfList(NODE1, { hairpinMode: mode, mtu: 1500, dataDir: '/tmp/x' });
    expect(list).toEqual({
      cniVersion: '1.0.0',
      name: 'kubenet',
      plugins: [
        {
          type: 'knet-kubenet',
          bridge: 'cbr0',
          mtu: 1500,
          isGateway: true,
          ipMasq: false,
          hairpinMode: hairpin,
          promiscMode: promisc,
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: '/tmp/x' },
        },
      ],
    });
    expect(parseKubenetCniConf({ ...list.plugins[0], name: 'kubenet', cniVersion: '1.0.0' } as never)).toMatchObject({ bridge: 'cbr0', promiscMode: promisc, hairpinMode: hairpin, isGateway: true });
  });
});

describe('createKubenetCniPlugin STATUS', () => {
  it('succeeds when the config loads, and answers code 50 when it does not', async () => {
    const f = await fixture();
    const run = async (stdin: string) => {
      let out = '';
      const code = await runCniPlugin(f.plugin, { env: { CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }, stdin, stdout: (t) => (out += t) });
      return { code, out: out === '' ? undefined : (JSON.parse(out) as unknown) };
    };
    expect(await run(conf({}, '1.1.0'))).toEqual({ code: 0, out: undefined });
    expect(await run(conf({ ipam: { type: 'host-local' } }, '1.1.0'))).toEqual({
      code: 1,
      out: { code: 50, msg: 'knet-kubenet cannot serve ADD: no IP ranges specified' },
    });
  });
});
