import type { KernelFeature, LinuxCapabilities, LinuxTool } from '@knet/core/linux';

/** What a lab needs from the machine. */
export interface LabRequirements {
  readonly tools: readonly LinuxTool[];
  readonly kernel: readonly KernelFeature[];
}

/**
 * The tools and kernel features `knet lab up` needs: iproute2, ethtool (LinuxHost turns TX
 * checksum offload off), ping (for `lab check`), veth and bridge devices, br_netfilter (kubenet
 * sets `net.bridge.bridge-nf-call-iptables`), and with kube-proxy in iptables mode iptables and
 * conntrack in the kernel.
 */
export function labRequirements(kubeProxyMode: string): LabRequirements {
  const iptables = kubeProxyMode === 'iptables';
  return {
    tools: ['ip', 'bridge', 'ethtool', 'ping', ...(iptables ? (['iptables'] as const) : [])],
    kernel: ['veth', 'bridge', 'br_netfilter', ...(iptables ? (['nf_conntrack'] as const) : [])],
  };
}

/**
 * Why a lab cannot run here, one reason per missing capability (`root: not running as root
 * (...)`, `kernel br_netfilter: cat: ...: No such file or directory`); empty when it can.
 */
export function labCapabilityProblems(platform: string, caps: LinuxCapabilities | undefined, req: LabRequirements): string[] {
  if (platform !== 'linux') return [`not Linux (${platform}): the lab needs Linux network namespaces`];
  if (caps === undefined) return ['capabilities not probed'];
  const out: string[] = [];
  if (!caps.root.ok) out.push(`root: ${caps.root.reason ?? 'not root'}`);
  for (const t of req.tools) if (!caps.tools[t].ok) out.push(`${t}: ${caps.tools[t].reason ?? 'missing'}`);
  if (caps.root.ok && caps.tools.ip.ok) {
    for (const k of req.kernel) if (!caps.kernel[k].ok) out.push(`kernel ${k}: ${caps.kernel[k].reason ?? 'missing'}`);
  }
  return out;
}
