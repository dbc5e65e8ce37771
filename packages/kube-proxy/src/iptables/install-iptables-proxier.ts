import type { Host } from '@knet/core';
import type { ProxyInput } from '../proxy/proxy-input.js';
import { resolveIptablesOptions, type IptablesProxierOptions } from './iptables-options.js';
import { KUBE_PROXY_CANARY_TABLES } from './iptables-jump-rules.js';
import { createIptablesProxier, type IptablesProxier, type IptablesSyncResult } from './iptables-proxier.js';

/** What {@link installIptablesProxier} did on a node. */
export interface InstalledIptablesProxier {
  /** The proxier, for later (partial) syncs of the same node. */
  readonly proxier: IptablesProxier;
  /** The first (full) sync. */
  readonly result: IptablesSyncResult;
}

/**
 * Starts kube-proxy's iptables mode on one node through the Host API, in the order kube-proxy
 * does it: `net.ipv4.conf.all.route_localnet=1` when localhost NodePorts are on, the
 * `KUBE-PROXY-CANARY` chains (its monitor), the chains the base-chain jumps point
 * at, the full `iptables-restore --noflush` payload, then each base-chain jump that is not there
 * yet, inserted at the top (`EnsureRule(Prepend)`, so the last one ends up first).
 *
 * @remarks Linux equivalent: what `kube-proxy --proxy-mode=iptables` runs on a node at start-up
 * (`iptables -t X -N KUBE-PROXY-CANARY`, `iptables -N`, `iptables -C`/`-I`, `iptables-restore
 * --noflush --counters`).
 * @see kubernetes pkg/proxy/iptables/proxier.go syncProxyRules, NewProxier
 * @throws KnetError from the host when a restore fails (with iptables-restore's line number).
 * @example
 * ```ts
 * import { createSimHost } from '@knet/core';
 * import { installIptablesProxier } from '@knet/kube-proxy';
 * declare const host: ReturnType<typeof createSimHost>;
 * declare const input: import('@knet/kube-proxy').ProxyInput;
 * await installIptablesProxier(host, 'knet-demo-node-node-1', input, { nodeName: 'node-1', nodeIPs: ['172.18.0.2'], nfacct: false });
 * ```
 */
export async function installIptablesProxier(
  host: Host,
  netns: string,
  input: ProxyInput,
  options: IptablesProxierOptions,
): Promise<InstalledIptablesProxier> {
  const proxier = createIptablesProxier(options);
  const result = proxier.sync(input);
  // NewProxier: localhost NodePorts need 127/8 sources routed out of the node.
  if (resolveIptablesOptions(options).localhostNodePorts) await host.sysctlSet(netns, 'net.ipv4.conf.all.route_localnet', '1');
  await host.iptablesRestore(netns, KUBE_PROXY_CANARY_TABLES.map((t) => `*${t}\n:KUBE-PROXY-CANARY - [0:0]\nCOMMIT\n`).join(''), { noflush: true });
  const targets = new Map<string, Set<string>>();
  for (const r of result.ensureRules) {
    let set = targets.get(r.table);
    if (set === undefined) targets.set(r.table, (set = new Set()));
    set.add(r.target);
  }
  const existing = await host.iptablesSave(netns);
  const chains = [...targets]
    .map(([table, set]) => {
      const missing = [...set].filter((c) => !new RegExp(`^:${c} `, 'm').test(sectionOf(existing, table)));
      return missing.length === 0 ? '' : `*${table}\n${missing.map((c) => `:${c} - [0:0]\n`).join('')}COMMIT\n`;
    })
    .join('');
  if (chains !== '') await host.iptablesRestore(netns, chains, { noflush: true });
  await host.iptablesRestore(netns, result.payload, { noflush: true });
  const now = await host.iptablesSave(netns);
  for (const r of result.ensureRules) {
    const line = `-A ${r.line.slice(3)}`;
    if (sectionOf(now, r.table).split('\n').includes(line)) continue;
    await host.iptablesRestore(netns, `*${r.table}\n${r.line}\nCOMMIT\n`, { noflush: true });
  }
  return { proxier, result };
}

/** The lines of one table in iptables-save output. */
function sectionOf(save: string, table: string): string {
  const start = save.indexOf(`*${table}\n`);
  if (start < 0) return '';
  const end = save.indexOf('\nCOMMIT', start);
  return save.slice(start, end < 0 ? undefined : end);
}
