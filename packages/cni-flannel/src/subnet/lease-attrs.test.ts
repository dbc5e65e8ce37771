import { describe, expect, it } from 'vitest';
import { formatLeaseAttrs, parseLeaseAttrs } from './lease-attrs.js';

describe('formatLeaseAttrs', () => {
  it.each([
    [
      'vxlan',
      { publicIP: '192.168.1.10', backendType: 'vxlan', backendData: { VNI: 1, VtepMAC: '2a:6b:0c:11:22:33' } },
      '{"PublicIP":"192.168.1.10","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"2a:6b:0c:11:22:33"}}',
    ],
    ['host-gw (no BackendData)', { publicIP: '172.18.0.2', backendType: 'host-gw' }, '{"PublicIP":"172.18.0.2","PublicIPv6":null,"BackendType":"host-gw"}'],
    ['udp (no BackendType)', { publicIP: '172.18.0.2' }, '{"PublicIP":"172.18.0.2","PublicIPv6":null}'],
  ])('%s: Go json.Marshal of LeaseAttrs', (_name, attrs, json) => {
    expect(formatLeaseAttrs(attrs)).toBe(json);
  });
});

describe('parseLeaseAttrs', () => {
  it('reads flanneld values and operators\' reservations', () => {
    expect(parseLeaseAttrs('{"PublicIP":"192.168.1.10","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"2a:6b:0c:11:22:33"}}')).toEqual({
      publicIP: '192.168.1.10',
      backendType: 'vxlan',
      backendData: { VNI: 1, VtepMAC: '2a:6b:0c:11:22:33' },
    });
    expect(parseLeaseAttrs('{"publicip":"1.2.3.4"}')).toEqual({ publicIP: '1.2.3.4' });
  });

  it.each([['{'], ['[]'], ['{"PublicIP":"not-an-ip"}']])('refuses %s', (text) => {
    expect(() => parseLeaseAttrs(text)).toThrow(expect.objectContaining({ code: 'EINVAL' }) as Error);
  });
});
