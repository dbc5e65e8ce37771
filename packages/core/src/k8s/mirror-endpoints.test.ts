import { describe, expect, it } from 'vitest';
import type { ManifestWarning } from '../cluster/cluster-state.js';
import { mirrorEndpoints, shouldMirrorEndpoints } from './mirror-endpoints.js';
import { validateEndpoints } from './validate-endpoints.js';

function endpoints(subsets: unknown[], metadata: Record<string, unknown> = {}) {
  const warnings: ManifestWarning[] = [];
  const ctx = { source: { file: 'ep.yaml', document: 0 }, warnings };
  const ep = validateEndpoints(ctx, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'ext', namespace: 'ns', ...metadata }, subsets });
  return { ctx, ep, warnings };
}

const addr = (ip: string, extra: Record<string, unknown> = {}) => ({ ip, ...extra });

describe('mirrorEndpoints', () => {
  it('turns addresses into ready endpoints and notReadyAddresses into not-ready ones, sorted by IP', () => {
    const { ctx, ep } = endpoints([
      {
        addresses: [addr('192.0.2.20', { nodeName: 'n2' }), addr('192.0.2.3', { targetRef: { kind: 'Pod', namespace: 'ns', name: 'p3', uid: 'u3' } })],
        notReadyAddresses: [addr('192.0.2.100')],
        ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }],
      },
    ]);
    const slices = mirrorEndpoints(ctx, ep);
    expect(slices).toHaveLength(1);
    expect(slices[0]).toMatchObject({
      namespace: 'ns',
      serviceName: 'ext',
      addressType: 'IPv4',
      fromEndpoints: true,
      ports: [
        { name: 'http', port: 80, protocol: 'TCP' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    });
    // Byte order of the IP text, as LessEndpointAddress compares: "192.0.2.20" < "192.0.2.3".
    expect(slices[0]?.endpoints).toEqual([
      { addresses: ['192.0.2.20'], ready: true, serving: true, terminating: false, nodeName: 'n2' },
      { addresses: ['192.0.2.3'], ready: true, serving: true, terminating: false, targetRef: { kind: 'Pod', namespace: 'ns', name: 'p3' } },
      { addresses: ['192.0.2.100'], ready: false, serving: true, terminating: false },
    ]);
  });

  it('repacks: one slice per distinct set of addresses, merging subsets that share one', () => {
    const { ctx, ep } = endpoints([
      { addresses: [addr('192.0.2.1'), addr('192.0.2.2')], ports: [{ name: 'a', port: 80 }] },
      { addresses: [addr('192.0.2.2'), addr('192.0.2.1')], ports: [{ name: 'b', port: 443 }] },
      { addresses: [addr('192.0.2.9')], ports: [{ name: 'c', port: 8080 }] },
    ]);
    const slices = mirrorEndpoints(ctx, ep);
    expect(slices.map((s) => [s.ports.map((p) => p.name), s.endpoints.map((e) => e.addresses[0])])).toEqual([
      [['a', 'b'], ['192.0.2.1', '192.0.2.2']],
      [['c'], ['192.0.2.9']],
    ]);
  });

  it('counts an address both ready and not ready for a port as not ready', () => {
    const { ctx, ep } = endpoints([
      { addresses: [addr('192.0.2.1')], ports: [{ port: 80 }] },
      { notReadyAddresses: [addr('192.0.2.1')], ports: [{ port: 80 }] },
    ]);
    const slices = mirrorEndpoints(ctx, ep);
    expect(slices.map((s) => s.endpoints.map((e) => [e.addresses[0], e.ready]))).toEqual([[['192.0.2.1', false]]]);
    expect(slices[0]?.ports).toEqual([{ port: 80, protocol: 'TCP' }]);
  });

  it('splits address families into separate slices', () => {
    const { ctx, ep } = endpoints([{ addresses: [addr('192.0.2.1'), addr('2001:db8::1')], ports: [{ port: 80 }] }]);
    const slices = mirrorEndpoints(ctx, ep);
    expect(slices.map((s) => [s.addressType, s.endpoints[0]?.addresses[0]])).toEqual([
      ['IPv4', '192.0.2.1'],
      ['IPv6', '2001:db8::1'],
    ]);
    expect(slices[0]?.name).not.toBe(slices[1]?.name);
  });

  it('drops addresses without ports, as RepackSubsets does', () => {
    const { ctx, ep } = endpoints([{ addresses: [addr('192.0.2.1')] }]);
    expect(mirrorEndpoints(ctx, ep)).toEqual([]);
  });

  it('mirrors at most maxEndpointsPerSubset addresses per subset and warns about the rest', () => {
    const { ctx, ep, warnings } = endpoints([
      { addresses: [addr('192.0.2.1'), addr('192.0.2.2')], notReadyAddresses: [addr('192.0.2.3')], ports: [{ port: 80 }] },
    ]);
    const slices = mirrorEndpoints(ctx, ep, { maxEndpointsPerSubset: 2 });
    expect(slices[0]?.endpoints.map((e) => e.addresses[0])).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ file: 'ep.yaml', document: 0, field: 'subsets' });
  });

  it('names slices <name>-<5 characters of the generateName alphabet>, the same on every run', () => {
    const a = endpoints([{ addresses: [addr('192.0.2.1')], ports: [{ port: 80 }] }]);
    const b = endpoints([{ addresses: [addr('192.0.2.1')], ports: [{ port: 80 }] }]);
    const [x] = mirrorEndpoints(a.ctx, a.ep);
    const [y] = mirrorEndpoints(b.ctx, b.ep);
    expect(x?.name).toMatch(/^ext-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(x?.name).toBe(y?.name);
  });

  it('cuts a long prefix to 58 characters', () => {
    const long = 'x'.repeat(70);
    const { ctx, ep } = endpoints([{ addresses: [addr('192.0.2.1')], ports: [{ port: 80 }] }], { name: long });
    expect(mirrorEndpoints(ctx, ep)[0]?.name).toHaveLength(63);
  });
});

describe('shouldMirrorEndpoints', () => {
  it.each([
    [{}, true],
    [{ labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, false],
    [{ labels: { 'endpointslice.kubernetes.io/skip-mirror': 'false' } }, true],
    [{ annotations: { 'control-plane.alpha.kubernetes.io/leader': '{"holderIdentity":"x"}' } }, false],
  ])('%j → %s', (metadata, expected) => {
    expect(shouldMirrorEndpoints(endpoints([], metadata).ep)).toBe(expected);
  });
});
