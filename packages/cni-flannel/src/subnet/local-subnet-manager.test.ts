import { SeededRng, createManualClock, createMemoryDatastore, formatIpv4Cidr, type Datastore } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { createLocalSubnetManager, freeSubnets } from './local-subnet-manager.js';
import { checkNetConf, parseNetConf } from './net-conf.js';

const CONFIG = '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}';
const VXLAN = (ip: string, mac: string) => ({ publicIP: ip, backendType: 'vxlan', backendData: { VNI: 1, VtepMAC: mac } });

async function store(config = CONFIG): Promise<{ datastore: Datastore; clock: ReturnType<typeof createManualClock> }> {
  const clock = createManualClock();
  const datastore = createMemoryDatastore({ clock });
  await datastore.put('/coreos.com/network/config', config);
  return { datastore, clock };
}

describe('createLocalSubnetManager', () => {
  it('writes flannel\'s key and value with a 24-hour lease', async () => {
    const { datastore, clock } = await store();
    const sm = createLocalSubnetManager({ datastore, clock, rng: new SeededRng('node-1') });
    const lease = await sm.acquireLease(VXLAN('172.18.0.2', '0e:00:00:00:00:01'));
    const key = `/coreos.com/network/subnets/${formatIpv4Cidr(lease.subnet).replace('/', '-')}`;
    const e = (await datastore.get(key))!;
    expect(e.value).toBe('{"PublicIP":"172.18.0.2","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"0e:00:00:00:00:01"}}');
    expect(await datastore.leaseTimeToLive(e.lease)).toBe(86_400);
    expect(lease.expiration).toBe(86_400_000);
    // A /24 from SubnetMin (10.244.1.0) up: the first subnet is skipped.
    expect(lease.subnet.prefix).toBe(24);
    expect(lease.subnet.address).toBeGreaterThanOrEqual(0x0af40100);
    expect(sm.name).toBe('Etcd Local Manager with Previous Subnet: None');
  });

  it('gives a restarted agent (same PublicIP) its subnet back, with a fresh lease', async () => {
    const { datastore, clock } = await store();
    const first = await createLocalSubnetManager({ datastore, clock, rng: new SeededRng(1) }).acquireLease(VXLAN('172.18.0.2', '0e:00:00:00:00:01'));
    clock.advance(3_600_000);
    const again = await createLocalSubnetManager({ datastore, clock, rng: new SeededRng(99) }).acquireLease(VXLAN('172.18.0.2', '0e:00:00:00:00:02'));
    expect(again.subnet).toEqual(first.subnet);
    expect(again.expiration).toBe(3_600_000 + 86_400_000);
    expect((await datastore.list('/coreos.com/network/subnets/')).entries).toHaveLength(1);
  });

  it('frees a lease that is not renewed within its TTL, and renews one that is', async () => {
    const { datastore, clock } = await store();
    const a = createLocalSubnetManager({ datastore, clock, rng: new SeededRng(1) });
    const b = createLocalSubnetManager({ datastore, clock, rng: new SeededRng(2) });
    const la = await a.acquireLease(VXLAN('172.18.0.2', '0e:00:00:00:00:01'));
    const lb = await b.acquireLease(VXLAN('172.18.0.3', '0e:00:00:00:00:02'));
    clock.advance(23 * 3_600_000);
    const renewed = await a.renewLease(la);
    expect(renewed.expiration).toBe(47 * 3_600_000);
    clock.advance(3_600_000);
    const left = (await a.listLeases()).map((l) => formatIpv4Cidr(l.subnet));
    expect(left).toEqual([formatIpv4Cidr(la.subnet)]);
    expect(left).not.toContain(formatIpv4Cidr(lb.subnet));
  });

  it('reuses the previous subnet from subnet.env when it is free', async () => {
    const { datastore, clock } = await store();
    const previousSubnet = { address: 0x0af42a00, prefix: 24 };
    const sm = createLocalSubnetManager({ datastore, clock, rng: new SeededRng(1), previousSubnet });
    expect((await sm.acquireLease(VXLAN('172.18.0.9', '0e:00:00:00:00:09'))).subnet).toEqual(previousSubnet);
    expect(sm.name).toBe('Etcd Local Manager with Previous Subnet: 10.244.42.0/24');
  });

  it('takes a reservation for its PublicIP and keeps it without a TTL', async () => {
    const { datastore, clock } = await store();
    await datastore.put('/coreos.com/network/subnets/10.244.7.0-24', '{"PublicIP":"172.18.0.4"}');
    const l = await createLocalSubnetManager({ datastore, clock, rng: new SeededRng(1) }).acquireLease({ publicIP: '172.18.0.4', backendType: 'host-gw' });
    expect(formatIpv4Cidr(l.subnet)).toBe('10.244.7.0/24');
    expect(l.expiration).toBeUndefined();
    const e = (await datastore.get('/coreos.com/network/subnets/10.244.7.0-24'))!;
    expect([e.value, e.lease]).toEqual(['{"PublicIP":"172.18.0.4","PublicIPv6":null,"BackendType":"host-gw"}', '0']);
  });

  it('deletes its lease when it no longer fits the config, and takes a new one', async () => {
    const { datastore, clock } = await store('{"Network":"10.244.0.0/16","SubnetLen":25}');
    await datastore.put('/coreos.com/network/subnets/10.244.7.0-24', '{"PublicIP":"172.18.0.4"}');
    const l = await createLocalSubnetManager({ datastore, clock, rng: new SeededRng(1) }).acquireLease({ publicIP: '172.18.0.4' });
    expect(l.subnet.prefix).toBe(25);
    expect(await datastore.get('/coreos.com/network/subnets/10.244.7.0-24')).toBeUndefined();
  });

  it('never gives one subnet to two agents racing for it: the loser tries again', async () => {
    const { datastore, clock } = await store();
    let lost = 0;
    const counting: Datastore = {
      ...datastore,
      async create(key, value, o) {
        const won = await datastore.create(key, value, o);
        if (!won) lost++;
        return won;
      },
    };
    // Same seed: both pick the same candidate first.
    const agents = ['172.18.0.2', '172.18.0.3', '172.18.0.4', '172.18.0.5'].map((ip) => ({ ip, sm: createLocalSubnetManager({ datastore: counting, clock, rng: new SeededRng('same') }) }));
    const leases = await Promise.all(agents.map((a) => a.sm.acquireLease({ publicIP: a.ip })));
    expect(lost).toBeGreaterThan(0);
    expect(new Set(leases.map((l) => formatIpv4Cidr(l.subnet))).size).toBe(4);
    const stored = (await datastore.list('/coreos.com/network/subnets/')).entries.map((e) => JSON.parse(e.value) as { PublicIP: string });
    expect(stored.map((s) => s.PublicIP).sort()).toEqual(agents.map((a) => a.ip));
  });

  it('reports out of subnets when every subnet is leased', async () => {
    const { datastore, clock } = await store('{"Network":"10.244.0.0/28"}');
    // /28 → /30 subnets from .4 to .12: three of them.
    for (const ip of ['172.18.0.2', '172.18.0.3', '172.18.0.4']) await createLocalSubnetManager({ datastore, clock, rng: new SeededRng(ip) }).acquireLease({ publicIP: ip });
    await expect(createLocalSubnetManager({ datastore, clock, rng: new SeededRng(0) }).acquireLease({ publicIP: '172.18.0.5' })).rejects.toMatchObject({ code: 'ENOSPC', message: 'out of subnets' });
  });

  it('refuses to run without the config key, with flannel\'s message', async () => {
    const clock = createManualClock();
    await expect(createLocalSubnetManager({ datastore: createMemoryDatastore({ clock }), clock, rng: new SeededRng(0) }).getNetworkConfig()).rejects.toMatchObject({
      code: 'ENOENT',
      message: 'flannel config not found in etcd store. Did you create your config using etcdv3 API?',
    });
  });
});

describe('freeSubnets', () => {
  it('lists at most 100 free subnets from SubnetMin, skipping any that overlap a lease', () => {
    const config = checkNetConf(parseNetConf(CONFIG));
    const free = freeSubnets(config, [{ subnet: { address: 0x0af40100, prefix: 24 } }, { subnet: { address: 0x0af40200, prefix: 23 } }]);
    expect(free).toHaveLength(100);
    expect(free.slice(0, 2).map(formatIpv4Cidr)).toEqual(['10.244.4.0/24', '10.244.5.0/24']);
    expect(free.at(-1)).toEqual({ address: 0x0af46700, prefix: 24 });
  });
});
