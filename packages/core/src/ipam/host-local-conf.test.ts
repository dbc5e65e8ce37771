import { describe, expect, it } from 'vitest';
import { isKnetError } from '../errors/knet-error.js';
import { formatIpv4, parseIpv4 } from '../ip/ipv4.js';
import { parseHostLocalConf } from './host-local-conf.js';
import type { HostLocalNetConf } from './host-local-conf.js';
import { formatRangeSet } from './range-set.js';

function failure(fn: () => unknown): { code: string; message: string; field: unknown } {
  try {
    fn();
  } catch (e) {
    if (isKnetError(e)) return { code: e.code, message: e.message, field: e.details.field };
    throw e;
  }
  throw new Error('expected a KnetError');
}

const kubenet: HostLocalNetConf = {
  name: 'kubenet',
  cniVersion: '0.1.0',
  ipam: {
    type: 'host-local',
    ranges: [[{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }]],
    routes: [{ dst: '0.0.0.0/0' }],
  },
};

describe('parseHostLocalConf', () => {
  it("parses kubenet's config (kubenet_linux.go NET_CONFIG_TEMPLATE)", () => {
    const c = parseHostLocalConf(kubenet);
    expect(c.name).toBe('kubenet');
    expect(c.cniVersion).toBe('0.1.0');
    expect(c.dataDir).toBe('/var/lib/cni/networks');
    expect(c.routes).toEqual([{ dst: '0.0.0.0/0' }]);
    expect(c.rangeSets.map(formatRangeSet)).toEqual(['10.244.1.1-10.244.1.254']);
    expect(c.requestedIPs).toEqual([]);
  });

  it('puts the legacy top-level subnet in front as range set 0, and runtimeConfig.ipRanges before it', () => {
    const c = parseHostLocalConf({
      name: 'n',
      cniVersion: '1.0.0',
      runtimeConfig: { ipRanges: [[{ subnet: '10.9.0.0/24' }]] },
      ipam: { type: 'host-local', subnet: '10.1.0.0/24', rangeStart: '10.1.0.10', ranges: [[{ subnet: '10.2.0.0/24' }]] },
    });
    expect(c.rangeSets.map(formatRangeSet)).toEqual(['10.9.0.1-10.9.0.254', '10.1.0.10-10.1.0.254', '10.2.0.1-10.2.0.254']);
  });

  it('collects requested IPs: CNI_ARGS IP first, then args.cni.ips, then runtimeConfig.ips', () => {
    const c = parseHostLocalConf(
      { ...kubenet, args: { cni: { ips: ['10.244.1.7', '10.244.1.9'] } }, runtimeConfig: { ips: ['10.244.1.8/24', '10.244.1.7'] } },
      { cniArgsIP: '10.244.1.9' },
    );
    expect(c.requestedIPs.map(formatIpv4)).toEqual(['10.244.1.9', '10.244.1.7', '10.244.1.8']);
  });

  it.each<[string, HostLocalNetConf, string, string, unknown]>([
    ['no ipam key', { name: 'n' }, 'EINVAL', "IPAM config missing 'ipam' key", 'ipam'],
    ['no ranges', { name: 'n', ipam: { type: 'host-local' } }, 'EINVAL', 'no IP ranges specified', 'ipam.ranges'],
    [
      'too small',
      { name: 'n', ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/31' }]] } },
      'EINVAL',
      'invalid range set 0: Network 10.0.0.0/31 too small to allocate from',
      'ipam.ranges[0][0].subnet',
    ],
    [
      'host bits',
      { name: 'n', ipam: { type: 'host-local', subnet: '10.244.1.1/24' } },
      'EINVAL',
      'invalid range set 0: Network has host bits set. For a subnet mask of length 24 the network address is 10.244.1.0',
      'ipam.subnet',
    ],
    [
      'rangeStart outside',
      { name: 'n', ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24', rangeStart: '10.244.0.5' }]] } },
      'EINVAL',
      'invalid range set 0: RangeStart 10.244.0.5 not in network 10.244.1.0/24',
      'ipam.ranges[0][0].rangeStart',
    ],
    [
      'rangeEnd outside, second set',
      {
        name: 'n',
        cniVersion: '1.0.0',
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.1.0.0/24', rangeEnd: '10.2.0.1' }]] },
      },
      'EINVAL',
      'invalid range set 1: RangeEnd 10.2.0.1 not in network 10.1.0.0/24',
      'ipam.ranges[1][0].rangeEnd',
    ],
    [
      'empty range set',
      { name: 'n', ipam: { type: 'host-local', ranges: [[]] } },
      'EINVAL',
      'invalid range set 0: empty range set',
      'ipam.ranges[0]',
    ],
    [
      'overlapping range sets',
      { name: 'n', cniVersion: '0.4.0', ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/16' }], [{ subnet: '10.0.5.0/24' }]] } },
      'EINVAL',
      'range set 0 overlaps with 1',
      'ipam.ranges[1]',
    ],
    [
      'two IPv4 sets before 0.3.0',
      { name: 'n', cniVersion: '0.2.0', ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.1.0.0/24' }]] } },
      'EINVAL',
      'CNI version 0.2.0 does not support more than 1 address per family',
      'cniVersion',
    ],
    [
      'two IPv4 sets without cniVersion (read as 0.1.0)',
      { name: 'n', ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.1.0.0/24' }]] } },
      'EINVAL',
      'CNI version  does not support more than 1 address per family',
      'cniVersion',
    ],
    ['bad requested IP', { ...kubenet, args: { cni: { ips: ['10.244.1.x'] } } }, 'EINVAL', 'invalid IP address: 10.244.1.x', 'args.cni.ips[0]'],
  ])('%s', (_name, conf, code, message, field) => {
    expect(failure(() => parseHostLocalConf(conf))).toEqual({ code, message, field });
  });

  it('keeps dataDir and resolvConf when given', () => {
    const c = parseHostLocalConf({ ...kubenet, ipam: { ...kubenet.ipam!, dataDir: '/run/ipam', resolvConf: '/etc/resolv.conf' } });
    expect(c.dataDir).toBe('/run/ipam');
    expect(c.resolvConf).toBe('/etc/resolv.conf');
    expect(c.rangeSets[0]?.[0]?.gateway).toBe(parseIpv4('10.244.1.1'));
  });
});
