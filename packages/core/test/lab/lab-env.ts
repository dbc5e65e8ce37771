/**
 * Test scaffolding for lab tests: the capability check that decides whether they run (printing
 * why not), a recording command runner, and the check that every recorded command stayed inside
 * a knet namespace.
 */
import { readdirSync } from 'node:fs';
import type { CommandRunner } from '../../src/host/linux/command-runner.js';
import { spawnCommand } from '../../src/host/linux/command-runner.js';
import { probeLinuxCapabilities, type KernelFeature, type LinuxCapabilities, type LinuxTool } from '../../src/host/linux/probe-linux-capabilities.js';

/** Probes the machine once and says why lab tests cannot run here, or `undefined` when they can. */
export async function labSkipReason(
  tools: readonly LinuxTool[],
  kernel: readonly KernelFeature[],
): Promise<{ caps: LinuxCapabilities | undefined; reason: string | undefined }> {
  if (process.platform !== 'linux') return { caps: undefined, reason: `not Linux (${process.platform})` };
  const caps = await probeLinuxCapabilities();
  const missing: string[] = [];
  if (!caps.root.ok) missing.push(`root: ${caps.root.reason ?? ''}`);
  for (const t of tools) if (!caps.tools[t].ok) missing.push(`${t}: ${caps.tools[t].reason ?? ''}`);
  if (caps.root.ok && caps.tools.ip.ok) for (const k of kernel) if (!caps.kernel[k].ok) missing.push(`kernel ${k}: ${caps.kernel[k].reason ?? ''}`);
  return { caps, reason: missing.length > 0 ? missing.join('; ') : undefined };
}

/** A runner that records every command before running it for real. */
export function recordingRunner(): { runner: CommandRunner; commands: string[][] } {
  const commands: string[][] = [];
  return {
    commands,
    runner: (file, args, options) => {
      commands.push([file, ...args]);
      return spawnCommand(file, args, options);
    },
  };
}

/**
 * The commands that name no knet namespace (an empty list means every command ran inside one,
 * or managed one by name). Allowed shapes: `ip -n NS ...`, `bridge -n NS ...`,
 * `ip netns exec NS ...`, `ip netns add|del|pids NS`, with NS starting with `prefix`.
 */
export function commandsOutsideNamespaces(commands: readonly (readonly string[])[], prefix: string): string[] {
  const inside = (ns: string | undefined): boolean => ns !== undefined && ns.startsWith(prefix) && ns.length > prefix.length;
  return commands
    .filter((c) => {
      const [file, a1, a2, a3] = c;
      if ((file === 'ip' || file === 'bridge') && a1 === '-n') return !inside(a2);
      if (file === 'ip' && a1 === 'netns' && (a2 === 'exec' || a2 === 'add' || a2 === 'del' || a2 === 'pids')) return !inside(a3);
      return true;
    })
    .map((c) => c.join(' '));
}

/** The namespaces under `prefix` that exist right now (read from /run/netns, as `ip netns list` does). */
export function namespacesWithPrefix(prefix: string): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}
