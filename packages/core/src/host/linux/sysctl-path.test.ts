import { describe, expect, it } from 'vitest';
import { sysctlPath } from './sysctl-path.js';

describe('sysctlPath', () => {
  it.each([
    ['net.ipv4.ip_forward', 'net/ipv4/ip_forward'],
    ['net/ipv4/ip_forward', 'net/ipv4/ip_forward'],
    ['net.ipv4.conf.flannel.1.rp_filter', 'net/ipv4/conf/flannel.1/rp_filter'],
    ['net.ipv6.conf.veth0a1b2c3d.accept_ra', 'net/ipv6/conf/veth0a1b2c3d/accept_ra'],
    ['net.ipv4.neigh.cbr0.base_reachable_time_ms', 'net/ipv4/neigh/cbr0/base_reachable_time_ms'],
    ['net.bridge.bridge-nf-call-iptables', 'net/bridge/bridge-nf-call-iptables'],
    ['net.netfilter.nf_conntrack_tcp_timeout_established', 'net/netfilter/nf_conntrack_tcp_timeout_established'],
  ])('%s → %s', (key, path) => {
    expect(sysctlPath(key)).toBe(path);
  });

  it.each([
    ['kernel.hostname', 'EPERM'],
    ['vm.swappiness', 'EPERM'],
    ['net/../kernel/hostname', 'EINVAL'],
    ['net.ipv4..ip_forward', 'EINVAL'],
    ['net', 'EINVAL'],
    ['net.ipv4.ip_forward=1', 'EINVAL'],
  ])('refuses %s with %s', (key, code) => {
    expect(() => sysctlPath(key)).toThrow(expect.objectContaining({ code }));
  });
});
