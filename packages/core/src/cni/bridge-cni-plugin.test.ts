import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSimHost, type SimHost } from '../kernel/sim-host.js';
import { MemoryIpamStore } from '../ipam/memory-ipam-store.js';
import { createBridgeCniPlugin } from './bridge-cni-plugin.js';
import { parseBridgeCniConf } from './bridge-cni-conf.js';
import { runCniPlugin } from './cni-skel.js';
import { ipMasqChainName, ipMasqComment } from './ip-masq-chain.js';

const NODE = 'knet-br-node';
const POD = 'knet-br-pod';

/** flannel's delegate for a node whose subnet.env says 10.244.1.1/24, MTU 1450. */
const CONF = {
  cniVersion: '1.0.0',
  name: 'cbr0',
  type: 'bridge',
  bridge: 'cni0',
  isGateway: true,
  ipMasq: true,
  mtu: 1450,
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }]], routes: [{ dst: '10.244.0.0/16' }] },
};

async function setup(): Promise<{ host: SimHost; run: (cmd: string, conf: object, cid?: string, netns?: string) => Promise<{ code: number; out: string }> }> {
  const host = createSimHost({ seed: 2 });
  await host.netnsAdd(NODE, { role: 'node', node: 'node-2' });
  await host.netnsAdd(POD, { role: 'pod', node: 'node-2', pod: 'default/p' });
  const store = new MemoryIpamStore();
  const hexes = ['eff184b3', '0a1b2c3d'];
  let n = 0;
  const plugin = createBridgeCniPlugin({ host, hostNetns: NODE, ipamStore: () => store, hex: () => hexes[n++ % 2]! });
  const run = async (cmd: string, conf: object, cid = '0123456789abcdef', netns = POD): Promise<{ code: number; out: string }> => {
    let out = '';
    const code = await runCniPlugin(plugin, {
      env: { CNI_COMMAND: cmd, CNI_CONTAINERID: cid, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' },
      stdin: JSON.stringify(conf),
      stdout: (t) => {
        out += t;
      },
    });
    return { code, out };
  };
  return { host, run };
}

describe('createBridgeCniPlugin', () => {
  it('ADD leaves the state the reference bridge plugin leaves: cni0 with the gateway, the veth pair, the pod address and routes', async () => {
    const { host, run } = await setup();
    const r = await run('ADD', CONF);
    expect(r.code, r.out).toBe(0);
    const result = JSON.parse(r.out) as { interfaces: { name: string }[]; ips: unknown[]; routes: unknown[]; dns: unknown };
    expect(result.interfaces.map((i) => i.name)).toEqual(['cni0', 'vetheff184b3', 'eth0']);
    expect(result.ips).toEqual([{ interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }]);
    expect(result.routes).toEqual([{ dst: '10.244.0.0/16' }]);
    expect(result.dns).toEqual({});
    const addrs = await host.addrList(NODE);
    expect(addrs.filter((a) => a.dev === 'cni0').map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['10.244.1.1/24']);
    const links = await host.linkList(NODE);
    expect(links.find((l) => l.name === 'cni0')).toMatchObject({ kind: 'bridge', mtu: 1450, up: true });
    expect(links.find((l) => l.name === 'vetheff184b3')).toMatchObject({ kind: 'veth', master: 'cni0', mtu: 1450 });
    expect(await host.sysctlGet(NODE, 'net.ipv4.ip_forward')).toBe('1');
    const podRoutes = (await host.routeList(POD)).filter((x) => x.table === 'main').map((x) => `${x.dst} ${x.gateway ?? ''}`);
    expect(podRoutes).toEqual(['10.244.0.0/16 10.244.1.1', '10.244.1.0/24 ']);
  });

  it('ipMasq writes the chain the reference plugin writes (iptables-save of Debian bridge 1.1.1), and DEL removes it', async () => {
    const { host, run } = await setup();
    expect((await run('ADD', CONF)).code).toBe(0);
    const golden = readFileSync(new URL('./__fixtures__/bridge-ipmasq.nat.txt', import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n');
    expect(await host.iptablesSave(NODE, { table: 'nat' })).toBe(golden);
    expect((await run('DEL', CONF)).code).toBe(0);
    expect(await host.iptablesSave(NODE, { table: 'nat' })).toBe('*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n');
    expect((await host.linkList(POD)).map((l) => l.name)).toEqual(['lo']);
    expect((await run('DEL', CONF)).code).toBe(0);
  });

  it('CHECK accepts the ADD result and names what is missing', async () => {
    const { host, run } = await setup();
    const add = await run('ADD', CONF);
    const withPrev = { ...CONF, prevResult: JSON.parse(add.out) as object };
    expect((await run('CHECK', withPrev)).code).toBe(0);
    await host.routeDel(POD, { dst: '10.244.0.0/16', via: '10.244.1.1', dev: 'eth0' });
    const r = await run('CHECK', withPrev);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ code: 999, msg: 'Expected Route {Dst:10.244.0.0/16 GW:<nil>} not found in routing table' });
  });

  it('refuses a second, different address on cni0 unless forceAddress (the classic flannel failure after a subnet change)', async () => {
    const { host, run } = await setup();
    expect((await run('ADD', CONF)).code).toBe(0);
    await host.netnsAdd('knet-br-pod2', { role: 'pod', node: 'node-2', pod: 'default/q' });
    const moved = { ...CONF, ipMasq: false, ipam: { ...CONF.ipam, ranges: [[{ subnet: '10.244.7.0/24' }]] } };
    const r = await run('ADD', moved, 'fedcba9876543210', 'knet-br-pod2');
    expect(JSON.parse(r.out)).toMatchObject({ code: 999, msg: '"cni0" already has an IP address different from 10.244.7.1/24' });
    expect((await run('ADD', { ...moved, forceAddress: true }, 'fedcba9876543210', 'knet-br-pod2')).code).toBe(0);
    expect((await host.addrList(NODE)).filter((a) => a.dev === 'cni0').map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['10.244.7.1/24']);
  });
});

describe('parseBridgeCniConf', () => {
  it.each([
    [{ hairpinMode: true, promiscMode: true }, 7, 'cannot set hairpin mode and promiscuous mode at the same time'],
    [{ vlan: 100 }, 2, "knet's bridge does not support vlan: 100"],
    [{ ipam: { type: 'dhcp' } }, 2, `knet's bridge does not support ipam.type: "dhcp"`],
    [{ ipam: {} }, 7, "IPAM config missing 'ipam' key"],
    [{ mtu: 10 }, 7, 'invalid MTU 10: not between 68 and 65535'],
  ])('%j → code %i', (extra, code, msg) => {
    expect(() => parseBridgeCniConf({ ...CONF, ...extra } as never)).toThrow(expect.objectContaining({ code, msg }) as Error);
  });

  it('defaults the bridge to cni0 and makes isDefaultGateway imply isGateway', () => {
    const c = parseBridgeCniConf({ cniVersion: '1.0.0', name: 'n', isDefaultGateway: true, ipam: CONF.ipam } as never);
    expect([c.bridge, c.isGateway, c.ipMasq]).toEqual(['cni0', true, false]);
  });
});

describe('ipMasqChainName', () => {
  it('is CNI- and 24 hex characters of SHA-512(network + container id), as the reference names it', async () => {
    expect(await ipMasqChainName('cbr0', '0123456789abcdef')).toBe('CNI-8cbe06c6d4b297670ecbfdbd');
    expect(ipMasqComment('cbr0', '0123456789abcdef')).toBe('name: "cbr0" id: "0123456789abcdef"');
  });
});
