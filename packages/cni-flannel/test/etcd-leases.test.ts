/**
 * flannel's etcd subnet manager against a real etcd (Debian's etcd-server, started on 127.0.0.1
 * with free ports and a temporary data dir, stopped afterwards): the keys and values are
 * flannel's, read back through etcd's own v3 JSON gateway; agents racing for one subnet never both
 * get it; a restarted flanneld keeps its subnet; a lease that is not renewed is freed after its TTL
 * and the other nodes drop their routes to it.
 */
import {
  SeededRng,
  buildCluster,
  buildClusterState,
  createEtcdDatastore,
  createManualClock,
  createSimHost,
  formatIpv4Cidr,
  loadManifests,
  resolveEndpoint,
  tracePacket,
  type BuiltCluster,
  type Datastore,
  type NodeContext,
  type SimHost,
} from '@knet/core';
import { findEtcdBinary, startEtcdServer, type EtcdServer } from '@knet/core/linux';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlannelPlugin, createLocalSubnetManager, type FlannelPlugin } from '../src/index.js';

const ETCD = findEtcdBinary();
if (ETCD === undefined) console.warn('skipping flannel\'s etcd tests: etcd is not installed (apt-get install etcd-server)');

const CLUSTER = `apiVersion: knet.dev/v1alpha1
kind: KnetCluster
metadata: {name: fletcd}
spec:
  cni: {plugin: flannel}
  kubeProxy: {mode: none}
${[1, 2, 3]
  .map(
    (i) => `---
apiVersion: v1
kind: Node
metadata: {name: node-${i}}
status:
  addresses: [{type: InternalIP, address: 172.18.0.${i + 1}}]
---
apiVersion: v1
kind: Pod
metadata: {name: p${i}, namespace: default}
spec:
  nodeName: node-${i}
  containers: [{name: c, image: busybox}]`,
  )
  .join('\n')}
`;

let server: EtcdServer | undefined;
beforeAll(async () => {
  if (ETCD !== undefined) server = await startEtcdServer();
}, 30_000);
afterAll(async () => {
  await server?.stop();
});

/** etcd's own answer for a prefix, through the JSON gateway (not through knet's client). */
async function etcdRange(prefix: string): Promise<{ key: string; value: string; lease: string }[]> {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const res = await fetch(`${server!.endpoints[0]}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: b64(prefix), range_end: b64(end) }) });
  const json = (await res.json()) as { kvs?: { key: string; value: string; lease?: string }[] };
  return (json.kvs ?? []).map((kv) => ({ key: Buffer.from(kv.key, 'base64').toString(), value: Buffer.from(kv.value, 'base64').toString(), lease: kv.lease ?? '0' }));
}

async function build(prefix: string, extra: Parameters<typeof createFlannelPlugin>[0] = {}): Promise<{ host: SimHost; cluster: BuiltCluster; flannel: FlannelPlugin }> {
  const host = createSimHost({ seed: 3 });
  const flannel = createFlannelPlugin({ subnetManager: 'etcd', etcdEndpoints: server!.endpoints, etcdPrefix: prefix, seed: 'fletcd', ...extra });
  const cluster = await buildCluster(buildClusterState(loadManifests([{ file: 'fletcd.yaml', text: CLUSTER }])), flannel, host);
  return { host, cluster, flannel };
}

const ctxOf = (b: { host: SimHost; cluster: BuiltCluster }, node: string): NodeContext => ({
  host: b.host,
  cluster: b.cluster.state,
  node: b.cluster.nodes.get(node)!,
  netns: b.cluster.names.node(node),
  uplink: 'eth0',
});

describe.skipIf(ETCD === undefined)('flannel leases in a real etcd', () => {
  it('writes flannel\'s keys and values: the config, and one subnet per node with a 24-hour lease', async () => {
    const b = await build('/coreos.com/network');
    const config = await etcdRange('/coreos.com/network/config');
    expect(config.map((c) => c.value)).toEqual([b.flannel.netConfText()]);
    expect(JSON.parse(config[0]!.value)).toEqual({ Network: '10.244.0.0/16', EnableNFTables: false, Backend: { Type: 'vxlan' } });
    const subnets = await etcdRange('/coreos.com/network/subnets/');
    expect(subnets).toHaveLength(3);
    const store = createEtcdDatastore({ endpoints: server!.endpoints });
    for (const n of [1, 2, 3]) {
      const lease = b.flannel.agent(`node-${n}`)!.lease!;
      const key = `/coreos.com/network/subnets/${formatIpv4Cidr(lease.subnet).replace('/', '-')}`;
      const kv = subnets.find((s) => s.key === key)!;
      const mac = b.host.link(b.cluster.names.node(`node-${n}`), 'flannel.1').mac;
      expect(kv.value).toBe(`{"PublicIP":"172.18.0.${n + 1}","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"${mac}"}}`);
      expect(await store.leaseTimeToLive(kv.lease)).toBeGreaterThan(86_390);
      expect(lease.subnet.prefix).toBe(24);
      expect(b.flannel.files(`node-${n}`).get('/run/flannel/subnet.env')).toContain(`FLANNEL_SUBNET=${formatIpv4Cidr({ address: lease.subnet.address + 1, prefix: 24 })}\n`);
    }
    // The pods got addresses in their node's subnet, and reach each other across nodes.
    const p1 = b.cluster.pods.get('default/p1')!;
    expect(p1.ip.startsWith(formatIpv4Cidr(b.flannel.agent('node-1')!.lease!.subnet).split('.0/')[0]!)).toBe(true);
    const t = tracePacket(b.cluster, b.host, resolveEndpoint(b.cluster, 'default/p1'), resolveEndpoint(b.cluster, 'default/p3'), { proto: 'icmp' });
    expect(t.verdict).toMatchObject({ kind: 'delivered', pod: 'default/p3' });
    expect(t.hops.some((h) => h.step === 'encap' && h.dev === 'flannel.1')).toBe(true);
    await b.flannel.close();
  });

  it('never gives one subnet to two agents racing for it (one transaction on version = 0 each)', async () => {
    const datastore: Datastore = createEtcdDatastore({ endpoints: server!.endpoints });
    await datastore.put('/race/config', '{"Network":"10.50.0.0/16","Backend":{"Type":"host-gw"}}');
    let lost = 0;
    const counting: Datastore = {
      ...datastore,
      async create(key, value, o) {
        const won = await datastore.create(key, value, o);
        if (!won) lost++;
        return won;
      },
    };
    const clock = createManualClock();
    // The same seed: every agent picks the same free subnet first.
    const ips = Array.from({ length: 8 }, (_, i) => `192.0.2.${i + 10}`);
    const leases = await Promise.all(
      ips.map((ip) => createLocalSubnetManager({ datastore: counting, prefix: '/race', clock, rng: new SeededRng('same') }).acquireLease({ publicIP: ip, backendType: 'host-gw' })),
    );
    expect(lost).toBeGreaterThan(0);
    expect(new Set(leases.map((l) => formatIpv4Cidr(l.subnet))).size).toBe(8);
    const stored = await etcdRange('/race/subnets/');
    expect(stored).toHaveLength(8);
    expect(stored.map((s) => (JSON.parse(s.value) as { PublicIP: string }).PublicIP).sort()).toEqual([...ips].sort());
  });

  it('gives a restarted flanneld its subnet and its VTEP MAC back, on a fresh lease', async () => {
    const b = await build('/restart');
    const before = b.flannel.agent('node-2')!.lease!;
    const key = `/restart/subnets/${formatIpv4Cidr(before.subnet).replace('/', '-')}`;
    const leaseBefore = (await etcdRange(key))[0]!.lease;
    const macBefore = b.host.link(b.cluster.names.node('node-2'), 'flannel.1').mac;
    const agent = await b.flannel.restartAgent(ctxOf(b, 'node-2'));
    expect(agent.lease!.subnet).toEqual(before.subnet);
    expect(b.host.link(b.cluster.names.node('node-2'), 'flannel.1').mac).toBe(macBefore);
    const after = (await etcdRange(key))[0]!;
    expect(after.lease).not.toBe(leaseBefore);
    expect(await etcdRange('/restart/subnets/')).toHaveLength(3);
    const t = tracePacket(b.cluster, b.host, resolveEndpoint(b.cluster, 'default/p1'), resolveEndpoint(b.cluster, 'default/p2'), { proto: 'icmp' });
    expect(t.verdict).toMatchObject({ kind: 'delivered', pod: 'default/p2' });
    await b.flannel.close();
  });

  it('frees the lease of a node whose flanneld stopped once its TTL passes; the others remove their routes to it', async () => {
    const b = await build('/expiry', { subnetTtlSeconds: 2 });
    const gone = b.flannel.agent('node-3')!.lease!;
    const goneText = formatIpv4Cidr(gone.subnet);
    const node1 = b.cluster.names.node('node-1');
    expect((await b.host.routeList(node1)).some((r) => r.dst === goneText && r.dev === 'flannel.1')).toBe(true);
    b.flannel.stopAgent('node-3');
    // node-1 and node-2 keep renewing theirs (a 2-second lease is always within the renew margin).
    for (let i = 0; i < 10; i++) {
      for (const n of ['node-1', 'node-2']) expect(await b.flannel.agent(n)!.renewIfDue()).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect((await etcdRange('/expiry/subnets/')).map((s) => s.key)).not.toContain(`/expiry/subnets/${goneText.replace('/', '-')}`);
    // The others re-read the leases (the watch's snapshot).
    const events = await b.flannel.sync();
    expect(events.get('node-1')?.map((e) => [e.type, formatIpv4Cidr(e.lease.subnet)])).toEqual([['removed', goneText]]);
    expect((await b.host.routeList(node1)).some((r) => r.dst === goneText)).toBe(false);
    expect((await b.host.neighList(node1)).some((n) => n.dst === goneText.split('/')[0])).toBe(false);
    expect(await etcdRange('/expiry/subnets/')).toHaveLength(2);
    await b.flannel.close();
  }, 20_000);
});
