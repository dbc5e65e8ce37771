/**
 * Partial syncs are correct when the kernel state they leave equals what a full sync of the same
 * input leaves on a fresh node. Random changes (endpoints added, removed, readied; Services
 * added, deleted, retyped; slices moved between Services; inputs reordered) are applied step by
 * step; after each, the proxier's payload is restored onto the running fake kernel and compared
 * with a fresh full render restored onto an empty one.
 */
import { SeededRng } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { createIptablesProxier, renderIptables } from '../src/index.js';
import type { ProxyEndpointSlice, ProxyInput, ProxyService } from '../src/index.js';
import { FakeIptables, formatIptablesDump, sortIptablesRules } from './iptables-dump.js';
import { fakeProxierOptions } from './upstream-fake.js';

function kernelState(ipt: FakeIptables): string {
  return sortIptablesRules(formatIptablesDump({ tables: ipt.dump.tables.filter((t) => t.name !== 'mangle') }));
}

function randomService(rng: SeededRng, i: number): ProxyService {
  const kind = rng.nextU32() % 4;
  return {
    namespace: `ns${i % 3}`,
    name: `svc${i}`,
    type: kind === 0 ? 'ClusterIP' : kind === 1 ? 'NodePort' : 'LoadBalancer',
    clusterIP: `172.30.${i >> 8}.${i & 255}`,
    ports: [{ name: 'p', protocol: rng.nextU32() % 5 === 0 ? 'UDP' : 'TCP', port: 80, ...(kind === 0 ? {} : { nodePort: 30000 + i }) }],
    ...(kind >= 2 ? { loadBalancerIPs: [`203.0.113.${i & 255}`] } : {}),
    ...(kind === 3 ? { externalTrafficPolicy: 'Local' as const, healthCheckNodePort: 32000 + i, loadBalancerSourceRanges: ['192.168.0.0/16'] } : {}),
    ...(rng.nextU32() % 4 === 0 ? { internalTrafficPolicy: 'Local' as const } : {}),
    ...(rng.nextU32() % 4 === 0 ? { sessionAffinity: 'ClientIP' as const } : {}),
  };
}

function randomSlice(rng: SeededRng, svc: ProxyService, n: number): ProxyEndpointSlice {
  const count = rng.nextU32() % 4;
  return {
    namespace: svc.namespace,
    name: `${svc.name}-${n}`,
    serviceName: svc.name,
    addressType: 'IPv4',
    ports: [{ name: 'p', port: 8080, protocol: svc.ports[0]?.protocol ?? 'TCP' }],
    endpoints: Array.from({ length: count }, () => {
      const ready = rng.nextU32() % 5 !== 0;
      return {
        addresses: [`10.${1 + (rng.nextU32() % 3)}.${rng.nextU32() % 4}.${1 + (rng.nextU32() % 6)}`],
        ready,
        serving: ready || rng.nextU32() % 2 === 0,
        terminating: !ready,
        nodeName: rng.nextU32() % 3 === 0 ? 'test-node' : 'other',
      };
    }),
  };
}

describe('partial syncs', () => {
  it.each([1, 2, 3])('leave the kernel as a full sync would (seed %i)', (seed) => {
    const rng = new SeededRng(`partial-${seed}`);
    let services: ProxyService[] = Array.from({ length: 30 }, (_, i) => randomService(rng, i));
    let slices: ProxyEndpointSlice[] = services.map((s) => randomSlice(rng, s, 1));
    let next = 30;
    const running = new FakeIptables();
    const proxier = createIptablesProxier({ ...fakeProxierOptions(), restore: (p) => running.restoreAll(p) });
    let partials = 0;
    for (let step = 0; step < 40; step++) {
      const input: ProxyInput = { services, endpointSlices: slices };
      const r = proxier.sync(input);
      expect(r.ok).toBe(true);
      if (!r.full) partials++;
      const fresh = new FakeIptables();
      fresh.restoreAll(renderIptables(input, fakeProxierOptions()).payload);
      expect(kernelState(running)).toBe(kernelState(fresh));

      // Mutate: replace a slice in place (same array length), move one, add or delete Services.
      const op = rng.nextU32() % 6;
      const at = rng.nextU32() % slices.length;
      const target = slices[at] as ProxyEndpointSlice;
      const owner = services.find((s) => s.name === target.serviceName) ?? (services[0] as ProxyService);
      if (op <= 1) {
        slices = slices.map((s, i) => (i === at ? randomSlice(rng, owner, 1) : s));
      } else if (op === 2) {
        const other = services[rng.nextU32() % services.length] as ProxyService;
        slices = slices.map((s, i) => (i === at ? { ...randomSlice(rng, other, 2) } : s));
      } else if (op === 3) {
        const svc = randomService(rng, next++);
        services = [...services, svc];
        slices = [...slices, randomSlice(rng, svc, 1)];
      } else if (op === 4 && services.length > 5) {
        const gone = services[rng.nextU32() % services.length] as ProxyService;
        services = services.filter((s) => s !== gone);
      } else {
        services = [...services].reverse();
        slices = slices.map((s, i) => (i === at ? { ...s } : s));
      }
    }
    expect(partials).toBeGreaterThan(30);
  });
});
