import { isKnetError } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { parseKubenetOptions, resolveKubenetOptions } from './kubenet-options.js';
import type { KubenetOptions } from './kubenet-options.js';

function failure(fn: () => unknown): { code: string; field: unknown } {
  try {
    fn();
  } catch (e) {
    if (isKnetError(e)) return { code: e.code, field: e.details.field };
    throw e;
  }
  throw new Error('expected a KnetError');
}

describe('resolveKubenetOptions', () => {
  it("applies kubelet's defaults: promiscuous-bridge, 10.0.0.0/8, MTU discovered", () => {
    expect(resolveKubenetOptions()).toEqual({ hairpinMode: 'promiscuous-bridge', nonMasqueradeCIDR: '10.0.0.0/8' });
  });

  it.each<[string, string]>([
    ['10.0.0.0/8', '10.0.0.0/8'],
    // iptables stores and saves the masked prefix.
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['::/0', '0.0.0.0/0'],
    ['172.16.0.0/12', '172.16.0.0/12'],
  ])('normalises the non-masquerade CIDR %s → %s', (given, want) => {
    expect(resolveKubenetOptions({ nonMasqueradeCIDR: given }).nonMasqueradeCIDR).toBe(want);
  });

  it.each<[KubenetOptions, string]>([
    [{ mtu: 575 }, 'spec.cni.options.mtu'],
    [{ mtu: 65536 }, 'spec.cni.options.mtu'],
    [{ mtu: 1450.5 }, 'spec.cni.options.mtu'],
    [{ hairpinMode: 'hairpin' as never }, 'spec.cni.options.hairpinMode'],
    [{ nonMasqueradeCIDR: '10.0.0.0' }, 'spec.cni.options.nonMasqueradeCIDR'],
    [{ hairpin: 'none' } as KubenetOptions, 'spec.cni.options.hairpin'],
  ])('refuses %j', (o, field) => {
    expect(failure(() => resolveKubenetOptions(o))).toEqual({ code: 'EINVAL', field });
  });

  it.each([576, 1460, 9001])('accepts --network-plugin-mtu %i', (mtu) => {
    expect(resolveKubenetOptions({ mtu }).mtu).toBe(mtu);
  });
});

describe('parseKubenetOptions', () => {
  it('reads spec.cni.options', () => {
    expect(parseKubenetOptions({ mtu: 1450, hairpinMode: 'hairpin-veth', nonMasqueradeCIDR: '0.0.0.0/0', seed: 7 })).toEqual({
      mtu: 1450,
      hairpinMode: 'hairpin-veth',
      nonMasqueradeCIDR: '0.0.0.0/0',
      seed: 7,
    });
  });

  it.each<[Record<string, unknown>, string]>([
    [{ mtu: '1450' }, 'spec.cni.options.mtu'],
    [{ hairpinMode: true }, 'spec.cni.options.hairpinMode'],
    [{ hairpin_mode: 'none' }, 'spec.cni.options.hairpin_mode'],
    [{ seed: {} }, 'spec.cni.options.seed'],
    [{ mtu: 100 }, 'spec.cni.options.mtu'],
  ])('refuses %j', (raw, field) => {
    expect(failure(() => parseKubenetOptions(raw))).toEqual({ code: 'EINVAL', field });
  });
});
