import { randomBytes } from 'node:crypto';
import { isKnetError } from '../../errors/knet-error.js';
import { spawnCommand, type CommandResult, type CommandRunner } from './command-runner.js';

/** Whether one capability is there, and if not, why (the tool's or kernel's own message). */
export interface FeatureStatus {
  readonly ok: boolean;
  readonly reason?: string;
}

/** The programs knet's real dataplane and its tests use. */
export type LinuxTool = 'ip' | 'bridge' | 'iptables' | 'nft' | 'ipset' | 'conntrack' | 'tshark' | 'ethtool' | 'ping';

/** Kernel features, named after the modules that provide them. */
export type KernelFeature =
  | 'veth'
  | 'bridge'
  | 'vxlan'
  | 'tun'
  | 'dummy'
  | 'ipip'
  | 'ip_vs'
  | 'br_netfilter'
  | 'nf_tables'
  | 'nf_conntrack';

/** What {@link probeLinuxCapabilities} found. */
export interface LinuxCapabilities {
  /** Running as root (effective uid 0), which creating namespaces needs. */
  readonly root: FeatureStatus;
  readonly tools: Readonly<Record<LinuxTool, FeatureStatus>>;
  readonly kernel: Readonly<Record<KernelFeature, FeatureStatus>>;
}

/** Options of {@link probeLinuxCapabilities}. */
export interface ProbeLinuxCapabilitiesOptions {
  readonly runner?: CommandRunner;
}

/** How each tool reports its version (the probe only needs it to start). */
const TOOL_VERSION_ARGS: Readonly<Record<LinuxTool, readonly string[]>> = {
  ip: ['-V'],
  bridge: ['-V'],
  iptables: ['--version'],
  nft: ['--version'],
  ipset: ['--version'],
  conntrack: ['--version'],
  tshark: ['--version'],
  ethtool: ['--version'],
  ping: ['-V'],
};

const OK: FeatureStatus = { ok: true };

function firstLine(r: CommandResult): string {
  return (r.stderr.trim() || r.stdout.trim()).split('\n')[0] ?? `exit status ${String(r.code)}`;
}

/**
 * Finds out what this machine can do for knet's real dataplane: root, the tools, and the
 * kernel features. Kernel features are detected by trying them in a throwaway namespace
 * (`knet-probe-<pid>-<hex>`, deleted afterwards): creating a veth, bridge, vxlan, TUN, dummy
 * and ipip device, reading `/proc/net/ip_vs`, `/proc/sys/net/bridge/bridge-nf-call-iptables`
 * and `/proc/sys/net/netfilter/nf_conntrack_max` there, and adding an nftables table there.
 * Nothing is loaded or changed in the root namespace (the kernel may autoload a module for a
 * device created in the probe namespace, as it would for the lab itself).
 *
 * @remarks
 * A missing capability is `{ ok: false, reason }` with the kernel's or tool's own message
 * (`Error: Unknown device type.`), never an exception, so callers can print why they skip.
 * Without root or `ip` every kernel feature is reported missing with that reason.
 * @example
 * ```ts
 * import { probeLinuxCapabilities } from '@knet/core/linux';
 * const caps = await probeLinuxCapabilities();
 * if (!caps.kernel.vxlan.ok) console.warn(`skipping vxlan tests: ${caps.kernel.vxlan.reason}`);
 * ```
 */
export async function probeLinuxCapabilities(options: ProbeLinuxCapabilitiesOptions = {}): Promise<LinuxCapabilities> {
  const run = options.runner ?? spawnCommand;
  const attempt = async (file: string, args: readonly string[]): Promise<FeatureStatus> => {
    try {
      const r = await run(file, args, { timeoutMs: 10_000 });
      return r.code === 0 ? OK : { ok: false, reason: firstLine(r) };
    } catch (e) {
      return { ok: false, reason: isKnetError(e) ? e.message : String(e) };
    }
  };

  const toolNames = Object.keys(TOOL_VERSION_ARGS) as LinuxTool[];
  const toolStatus = await Promise.all(toolNames.map((t) => attempt(t, TOOL_VERSION_ARGS[t])));
  const tools = Object.fromEntries(toolNames.map((t, i) => [t, toolStatus[i]!])) as Record<LinuxTool, FeatureStatus>;

  const isRoot = typeof process.geteuid === 'function' && process.geteuid() === 0;
  const root: FeatureStatus = isRoot ? OK : { ok: false, reason: 'not running as root (creating network namespaces needs CAP_SYS_ADMIN)' };

  const features: KernelFeature[] = ['veth', 'bridge', 'vxlan', 'tun', 'dummy', 'ipip', 'ip_vs', 'br_netfilter', 'nf_tables', 'nf_conntrack'];
  const all = (reason: string): Record<KernelFeature, FeatureStatus> =>
    Object.fromEntries(features.map((f) => [f, { ok: false, reason }])) as Record<KernelFeature, FeatureStatus>;
  if (!root.ok) return { root, tools, kernel: all(`cannot check: ${root.reason ?? 'not root'}`) };
  if (!tools.ip.ok) return { root, tools, kernel: all(`cannot check: ip (iproute2) is missing: ${tools.ip.reason ?? ''}`) };

  const ns = `knet-probe-${process.pid}-${randomBytes(4).toString('hex')}`;
  const created = await attempt('ip', ['netns', 'add', ns]);
  if (!created.ok) return { root, tools, kernel: all(`cannot create a probe namespace: ${created.reason ?? ''}`) };
  try {
    const ipn = (...args: string[]): Promise<FeatureStatus> => attempt('ip', ['-n', ns, ...args]);
    const exec = (...args: string[]): Promise<FeatureStatus> => attempt('ip', ['netns', 'exec', ns, ...args]);
    const kernel: Record<KernelFeature, FeatureStatus> = {
      veth: await ipn('link', 'add', 'kp-veth0', 'type', 'veth', 'peer', 'name', 'kp-veth1'),
      bridge: await ipn('link', 'add', 'kp-br', 'type', 'bridge'),
      vxlan: await ipn('link', 'add', 'kp-vxlan', 'type', 'vxlan', 'id', '1', 'dstport', '4789'),
      tun: await ipn('tuntap', 'add', 'dev', 'kp-tun', 'mode', 'tun'),
      dummy: await ipn('link', 'add', 'kp-dummy', 'type', 'dummy'),
      ipip: await ipn('link', 'add', 'kp-ipip', 'type', 'ipip', 'local', '192.0.2.1', 'remote', '192.0.2.2'),
      ip_vs: await exec('cat', '/proc/net/ip_vs'),
      br_netfilter: await exec('cat', '/proc/sys/net/bridge/bridge-nf-call-iptables'),
      nf_tables: tools.nft.ok
        ? await exec('nft', 'add', 'table', 'ip', 'knet_probe')
        : { ok: false, reason: `cannot check without nft: ${tools.nft.reason ?? ''}` },
      nf_conntrack: await exec('cat', '/proc/sys/net/netfilter/nf_conntrack_max'),
    };
    return { root, tools, kernel };
  } finally {
    await run('ip', ['netns', 'del', ns], { timeoutMs: 10_000 }).catch(() => undefined);
  }
}
