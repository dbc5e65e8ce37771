import { describe, expect, it } from 'vitest';
import type { ProxyEndpointSlice, ProxyInput, ProxyService } from '../proxy/proxy-input.js';
import { createIptablesProxier } from './iptables-proxier.js';

const svc = (name: string, ip: string): ProxyService => ({ namespace: 'ns', name, clusterIP: ip, ports: [{ name: 'p', protocol: 'TCP', port: 80 }] });
const slice = (name: string, ips: string[], hints?: string): ProxyEndpointSlice => ({
  namespace: 'ns',
  name: `${name}-1`,
  serviceName: name,
  addressType: 'IPv4',
  ports: [{ name: 'p', port: 8080, protocol: 'TCP' }],
  endpoints: ips.map((ip) => ({ addresses: [ip], ...(hints === undefined ? {} : { hints: { forZones: [ip.endsWith('.1') ? hints : 'zone-b'] } }) })),
});
const base = { nodeName: 'node-a', nodeIPs: ['192.168.0.2'], clusterCIDR: '10.244.0.0/16' };

describe('createIptablesProxier', () => {
  it('syncs fully first, then partially; unchanged content in new objects is not a change', () => {
    const p = createIptablesProxier(base);
    const input = (): ProxyInput => ({ services: [svc('a', '10.96.0.1'), svc('b', '10.96.0.2')], endpointSlices: [slice('a', ['10.244.1.1']), slice('b', ['10.244.2.1'])] });
    const first = p.sync(input());
    expect(first.full).toBe(true);
    expect(first.ensureRules).toHaveLength(14);
    const second = p.sync(input());
    expect(second.full).toBe(false);
    expect(second.ensureRules).toHaveLength(0);
    expect(second.stats.servicePortsWritten).toBe(0);
    expect(second.payload).toContain('-A KUBE-SERVICES -m comment --comment "ns/a:p cluster IP"');
    expect(second.payload).not.toContain('KUBE-SEP-');
  });

  it('rewrites only the Service whose endpoints changed and deletes its stale SEP chain (own bookkeeping)', () => {
    const p = createIptablesProxier(base);
    p.sync({ services: [svc('a', '10.96.0.1'), svc('b', '10.96.0.2')], endpointSlices: [slice('a', ['10.244.1.1']), slice('b', ['10.244.2.1'])] });
    const r = p.sync({ services: [svc('a', '10.96.0.1'), svc('b', '10.96.0.2')], endpointSlices: [slice('a', ['10.244.1.1']), slice('b', ['10.244.2.2'])] });
    expect(r.stats.servicePortsWritten).toBe(1);
    expect(r.payload).toContain('--to-destination 10.244.2.2:8080');
    expect(r.payload).not.toContain('10.244.1.1');
    expect(r.stats.chainsDeleted).toBe(1);
    expect(r.payload.match(/^-X KUBE-SEP-\w+$/gm)).toHaveLength(1);
    // the deleted chain is forgotten: no second deletion
    expect(p.sync({ services: [svc('a', '10.96.0.1'), svc('b', '10.96.0.2')], endpointSlices: [slice('a', ['10.244.1.1']), slice('b', ['10.244.2.2'])] }).stats.chainsDeleted).toBe(0);
  });

  it('ignores slices of the other family when deciding what changed', () => {
    const p = createIptablesProxier(base);
    const s = [svc('a', '10.96.0.1')];
    p.sync({ services: s, endpointSlices: [slice('a', ['10.244.1.1'])] });
    const v6: ProxyEndpointSlice = { namespace: 'ns', name: 'a-v6', serviceName: 'a', addressType: 'IPv6', ports: [{ name: 'p', port: 8080 }], endpoints: [{ addresses: ['fd00::1'] }] };
    expect(p.sync({ services: s, endpointSlices: [slice('a', ['10.244.1.1']), v6] }).stats.servicePortsWritten).toBe(0);
  });

  it('does a full sync when the node labels change (OnNodeUpdate) and re-applies topology', () => {
    const p = createIptablesProxier(base);
    const input = (zone: string): ProxyInput => ({
      services: [svc('a', '10.96.0.1')],
      endpointSlices: [slice('a', ['10.244.1.1', '10.244.1.2'], 'zone-a')],
      nodes: [{ name: 'node-a', labels: { 'topology.kubernetes.io/zone': zone } }],
    });
    const first = p.sync(input('zone-a'));
    expect(first.payload).toContain('--to-destination 10.244.1.1:8080');
    expect(first.payload).not.toContain('--to-destination 10.244.1.2:8080');
    const same = p.sync(input('zone-a'));
    expect(same.full).toBe(false);
    const moved = p.sync(input('zone-b'));
    expect(moved.full).toBe(true);
    expect(moved.payload).toContain('--to-destination 10.244.1.2:8080');
    expect(moved.payload).not.toContain('--to-destination 10.244.1.1:8080');
  });

  it('does a full sync once per fullSyncPeriodMs, and when requested', () => {
    const p = createIptablesProxier({ ...base, fullSyncPeriodMs: 1000 });
    const input: ProxyInput = { services: [svc('a', '10.96.0.1')], endpointSlices: [] };
    expect(p.sync(input, { now: 0 }).full).toBe(true);
    expect(p.sync(input, { now: 1000 }).full).toBe(false);
    expect(p.sync(input, { now: 1001 }).full).toBe(true);
    expect(p.sync(input).full).toBe(false);
    p.requestFullSync();
    expect(p.needFullSync).toBe(true);
    expect(p.sync(input).full).toBe(true);
  });

  it('falls back to a full sync after a failed restore', () => {
    let fail = false;
    const p = createIptablesProxier({
      ...base,
      restore: () => {
        if (fail) throw new Error('iptables-restore: line 7 failed');
      },
    });
    const input: ProxyInput = { services: [svc('a', '10.96.0.1')], endpointSlices: [slice('a', ['10.244.1.1'])] };
    p.sync(input);
    fail = true;
    const r = p.sync(input);
    expect(r.ok).toBe(false);
    expect(r.error).toBeInstanceOf(Error);
    expect(p.needFullSync).toBe(true);
    fail = false;
    const retry = p.sync(input);
    expect(retry.full).toBe(true);
    expect(retry.ok).toBe(true);
    expect(p.needFullSync).toBe(false);
  });
});
