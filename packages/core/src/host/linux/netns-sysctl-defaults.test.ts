import { describe, expect, it } from 'vitest';
import { createSimHost } from '../../kernel/sim-host.js';
import { netnsSysctlDefaults } from './netns-sysctl-defaults.js';
import { sysctlPath } from './sysctl-path.js';

describe('netnsSysctlDefaults', () => {
  it('turns IPv6 off unless asked not to', () => {
    expect(netnsSysctlDefaults().slice(0, 2)).toEqual([
      ['net.ipv6.conf.all.disable_ipv6', '1'],
      ['net.ipv6.conf.default.disable_ipv6', '1'],
    ]);
    expect(netnsSysctlDefaults({ disableIpv6: false }).some(([k]) => k.startsWith('net.ipv6.'))).toBe(false);
  });

  it('writes the IPv4 values a fresh SimHost namespace has', async () => {
    const sim = createSimHost();
    await sim.netnsAdd('knet-t-a', { role: 'node' });
    for (const [key, value] of netnsSysctlDefaults({ disableIpv6: false })) {
      expect([key, await sim.sysctlGet('knet-t-a', key)]).toEqual([key, value]);
    }
  });

  it('holds only keys LinuxHost may write', () => {
    for (const [key] of netnsSysctlDefaults()) expect(sysctlPath(key)).toMatch(/^net\//);
  });
});
