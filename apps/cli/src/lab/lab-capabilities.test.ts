import type { FeatureStatus, KernelFeature, LinuxCapabilities, LinuxTool } from '@knet/core/linux';
import { describe, expect, it } from 'vitest';
import { labCapabilityProblems, labRequirements } from './lab-capabilities.js';

const OK: FeatureStatus = { ok: true };
const TOOLS: LinuxTool[] = ['ip', 'bridge', 'iptables', 'nft', 'ipset', 'conntrack', 'tshark', 'ethtool', 'ping'];
const KERNEL: KernelFeature[] = ['veth', 'bridge', 'vxlan', 'tun', 'dummy', 'ipip', 'ip_vs', 'br_netfilter', 'nf_tables', 'nf_conntrack'];

function caps(over: { root?: FeatureStatus; tools?: Partial<Record<LinuxTool, FeatureStatus>>; kernel?: Partial<Record<KernelFeature, FeatureStatus>> } = {}): LinuxCapabilities {
  return {
    root: over.root ?? OK,
    tools: { ...(Object.fromEntries(TOOLS.map((t) => [t, OK])) as Record<LinuxTool, FeatureStatus>), ...over.tools },
    kernel: { ...(Object.fromEntries(KERNEL.map((k) => [k, OK])) as Record<KernelFeature, FeatureStatus>), ...over.kernel },
  };
}

describe('labRequirements', () => {
  it('asks for iptables and conntrack only when kube-proxy runs in iptables mode', () => {
    expect(labRequirements('iptables')).toEqual({ tools: ['ip', 'bridge', 'ethtool', 'ping', 'iptables'], kernel: ['veth', 'bridge', 'br_netfilter', 'nf_conntrack'] });
    expect(labRequirements('none')).toEqual({ tools: ['ip', 'bridge', 'ethtool', 'ping'], kernel: ['veth', 'bridge', 'br_netfilter'] });
  });
});

describe('labCapabilityProblems', () => {
  const req = labRequirements('iptables');
  it.each([
    ['everything there', caps(), []],
    ['not root', caps({ root: { ok: false, reason: 'not running as root' } }), ['root: not running as root']],
    ['no ethtool', caps({ tools: { ethtool: { ok: false, reason: 'ethtool: command not found' } } }), ['ethtool: ethtool: command not found']],
    ['no br_netfilter', caps({ kernel: { br_netfilter: { ok: false, reason: 'cat: /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory' } } }), [
      'kernel br_netfilter: cat: /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory',
    ]],
    ['a feature the lab does not use', caps({ kernel: { ip_vs: { ok: false, reason: 'no ip_vs' } }, tools: { tshark: { ok: false, reason: 'no tshark' } } }), []],
  ])('%s', (_, c, expected) => {
    expect(labCapabilityProblems('linux', c, req)).toEqual(expected);
  });
  it('reports kernel features only when they could be probed (root and ip)', () => {
    const c = caps({ root: { ok: false, reason: 'not root' }, kernel: { veth: { ok: false, reason: 'cannot check' } } });
    expect(labCapabilityProblems('linux', c, req)).toEqual(['root: not root']);
  });
  it('refuses other systems', () => {
    expect(labCapabilityProblems('darwin', undefined, req)).toEqual(['not Linux (darwin): the lab needs Linux network namespaces']);
  });
});
