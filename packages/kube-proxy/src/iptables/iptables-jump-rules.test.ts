import { describe, expect, it } from 'vitest';
import { iptablesJumpRules, KUBE_PROXY_CANARY_TABLES } from './iptables-jump-rules.js';

describe('iptablesJumpRules', () => {
  // /work/shared/facts/kube-proxy.md section 2.2 (proxier.go iptablesJumpChains + iptablesKubeletJumpChains)
  it('lists the base-chain jumps in EnsureRule order', () => {
    expect(iptablesJumpRules().map((r) => `${r.table} ${r.line}`)).toEqual([
      'filter -I INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      'filter -I FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      'filter -I INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
      'filter -I FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      'filter -I OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      'filter -I FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
      'filter -I INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      'filter -I OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      'filter -I FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      'nat -I OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      'nat -I PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      'nat -I POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
      'filter -I INPUT -j KUBE-FIREWALL',
      'filter -I OUTPUT -j KUBE-FIREWALL',
    ]);
  });

  it('keeps multi-word comments as one argv word', () => {
    expect(iptablesJumpRules()[0]?.args).toEqual(['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes externally-visible service portals', '-j', 'KUBE-EXTERNAL-SERVICES']);
  });

  it('names the canary tables', () => {
    expect(KUBE_PROXY_CANARY_TABLES).toEqual(['mangle', 'nat', 'filter']);
  });
});
