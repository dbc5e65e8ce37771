import { createManualClock, formatIpv4Cidr } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { createKubeNodeStore, createKubeSubnetManager, flannelAnnotations } from './kube-subnet-manager.js';
import { parseNetConf } from './net-conf.js';

const netConf = parseNetConf('{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}');
const clock = createManualClock();

describe('createKubeSubnetManager', () => {
  it('takes the node\'s podCIDR and publishes the lease as flannel.alpha.coreos.com annotations', async () => {
    const nodes = createKubeNodeStore([{ name: 'node-1', podCIDR: '10.244.0.0/24', annotations: {} }]);
    const sm = createKubeSubnetManager({ nodes, nodeName: 'node-1', netConf, clock });
    const lease = await sm.acquireLease({ publicIP: '172.18.0.2', backendType: 'vxlan', backendData: { VNI: 1, VtepMAC: '0e:00:00:00:00:01' } });
    expect(formatIpv4Cidr(lease.subnet)).toBe('10.244.0.0/24');
    expect(lease.expiration).toBe(86_400_000);
    expect((await nodes.get('node-1'))!.annotations).toEqual({
      'flannel.alpha.coreos.com/backend-type': 'vxlan',
      'flannel.alpha.coreos.com/backend-data': '{"VNI":1,"VtepMAC":"0e:00:00:00:00:01"}',
      'flannel.alpha.coreos.com/public-ip': '172.18.0.2',
      'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
    });
    expect(await sm.storedVtepMac()).toBe('0e:00:00:00:00:01');
    expect(sm.name).toBe('Kubernetes Subnet Manager - node-1');
  });

  it('keeps an operator\'s public-ip-overwrite as the published public IP', async () => {
    const a = flannelAnnotations();
    const nodes = createKubeNodeStore([{ name: 'node-1', podCIDR: '10.244.0.0/24', annotations: { [a.backendPublicIPOverwrite]: '198.51.100.7' } }]);
    await createKubeSubnetManager({ nodes, nodeName: 'node-1', netConf, clock }).acquireLease({ publicIP: '172.18.0.2', backendType: 'host-gw' });
    expect((await nodes.get('node-1'))!.annotations[a.backendPublicIP]).toBe('198.51.100.7');
    expect((await nodes.get('node-1'))!.annotations[a.backendData]).toBe('null');
  });

  it('lists the leases of nodes flannel manages, and only those', async () => {
    const nodes = createKubeNodeStore([
      { name: 'node-1', podCIDR: '10.244.0.0/24', annotations: {} },
      { name: 'node-2', podCIDR: '10.244.1.0/24', annotations: {} },
    ]);
    await createKubeSubnetManager({ nodes, nodeName: 'node-2', netConf, clock }).acquireLease({ publicIP: '172.18.0.3', backendType: 'host-gw' });
    const leases = await createKubeSubnetManager({ nodes, nodeName: 'node-1', netConf, clock }).listLeases();
    expect(leases.map((l) => [formatIpv4Cidr(l.subnet), l.attrs])).toEqual([['10.244.1.0/24', { publicIP: '172.18.0.3', backendType: 'host-gw' }]]);
  });

  it.each([
    ['', 'node "node-1" pod cidr not assigned'],
    ['10.245.3.0/24', 'subnet "10.244.0.0/16" specified in the flannel net config doesn\'t contain "10.245.3.0/24" PodCIDR of the "node-1" node'],
  ])('podCIDR %j: %s', async (podCIDR, message) => {
    const nodes = createKubeNodeStore([{ name: 'node-1', podCIDR, annotations: {} }]);
    await expect(createKubeSubnetManager({ nodes, nodeName: 'node-1', netConf, clock }).acquireLease({ publicIP: '172.18.0.2' })).rejects.toMatchObject({ code: 'EINVAL', message });
  });

  it('does not renew: flannel\'s RenewLease is unimplemented in kube mode', async () => {
    const nodes = createKubeNodeStore([{ name: 'node-1', podCIDR: '10.244.0.0/24', annotations: {} }]);
    const sm = createKubeSubnetManager({ nodes, nodeName: 'node-1', netConf, clock });
    await expect(sm.renewLease(await sm.acquireLease({ publicIP: '172.18.0.2' }))).rejects.toMatchObject({ code: 'EOPNOTSUPP' });
  });
});
