import { readFileSync } from 'node:fs';
import { createSimHost } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { applyFlannelIptables, formatFlannelForwardRules, formatFlannelMasqRules } from './flannel-iptables.js';

const NETWORK = { address: 0x0af40000, prefix: 16 };
const SUBNET = { address: 0x0af40100, prefix: 24 };
const GOLDEN = readFileSync(new URL('../test/fixtures/flanneld-iptables-save.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => !l.startsWith('#'))
  .join('\n');
const byTable = (save: string): string => save.split(/(?=^\*)/m).sort().join('');

describe('applyFlannelIptables', () => {
  it('leaves what flanneld leaves in a real kernel (iptables-save), and a second run changes nothing', async () => {
    const host = createSimHost();
    await host.netnsAdd('knet-flt', { role: 'node' });
    await applyFlannelIptables(host, 'knet-flt', { network: NETWORK, subnet: SUBNET, ipMasq: true, forwardRules: true });
    expect(byTable(await host.iptablesSave('knet-flt'))).toBe(byTable(GOLDEN));
    await applyFlannelIptables(host, 'knet-flt', { network: NETWORK, subnet: SUBNET, ipMasq: true, forwardRules: true });
    expect(byTable(await host.iptablesSave('knet-flt'))).toBe(byTable(GOLDEN));
  });

  it('installs nothing without --ip-masq and --iptables-forward-rules', async () => {
    const host = createSimHost();
    await host.netnsAdd('knet-flt', { role: 'node' });
    await applyFlannelIptables(host, 'knet-flt', { network: NETWORK, subnet: SUBNET, ipMasq: false, forwardRules: false });
    expect(await host.iptablesSave('knet-flt')).toBe('');
  });
});

describe('formatFlannelMasqRules', () => {
  it('drops --random-fully when iptables cannot do it', () => {
    expect(formatFlannelMasqRules({ network: NETWORK, subnet: SUBNET, randomFully: false }).slice(-2)).toEqual([
      '-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE',
      '-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE',
    ]);
  });
});

describe('formatFlannelForwardRules', () => {
  it('accepts forwarding from and to the Network', () => {
    expect(formatFlannelForwardRules(NETWORK)).toEqual([
      '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
      '-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
      '-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
    ]);
  });
});
