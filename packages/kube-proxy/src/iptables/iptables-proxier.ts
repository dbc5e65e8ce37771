import type { Labels } from '@knet/core';
import { buildServiceEndpoints } from '../proxy/endpoint-info.js';
import type { EndpointInfo } from '../proxy/endpoint-info.js';
import { isLoopback, nodePortIPs } from '../proxy/node-port-addresses.js';
import type { ProxyEndpointSlice, ProxyInput, ProxyService } from '../proxy/proxy-input.js';
import { buildServicePorts, servicePortsFingerprint } from '../proxy/service-port-info.js';
import type { ServicePortInfo } from '../proxy/service-port-info.js';
import { isServiceChainName } from './chain-names.js';
import { resolveIptablesOptions } from './iptables-options.js';
import type { IptablesProxierOptions, ResolvedIptablesOptions } from './iptables-options.js';
import { iptablesJumpRules } from './iptables-jump-rules.js';
import type { IptablesJumpRule } from './iptables-jump-rules.js';
import { LARGE_CLUSTER_ENDPOINTS_THRESHOLD } from './kube-chains.js';
import { renderServicePort } from './render-service-port.js';
import type { RenderedServicePort } from './render-service-port.js';

/** Counts describing one rendered payload (upstream's sync metrics). */
export interface IptablesSyncStats {
  /** Service ports in the service map. */
  readonly servicePorts: number;
  /** Endpoints summed over the service ports (decides large-cluster mode). */
  readonly endpoints: number;
  readonly largeClusterMode: boolean;
  /** Service ports whose per-service chains were written. */
  readonly servicePortsWritten: number;
  /** `-A` lines in the filter table (`sync_proxy_rules_iptables_last` / `_total`, filter). */
  readonly filterRules: number;
  /** `-A` lines in the nat table (`sync_proxy_rules_iptables_last`, nat). */
  readonly natRules: number;
  /** nat rules written plus those of unchanged chains left in place (`sync_proxy_rules_iptables_total`, nat). */
  readonly natRulesTotal: number;
  /** `:CHAIN` lines in both tables, including those that precede a `-X`. */
  readonly chainsWritten: number;
  /** `-X` lines: stale service chains deleted. */
  readonly chainsDeleted: number;
  /** Service ports whose internal / external traffic is dropped for want of local endpoints (`sync_proxy_rules_no_local_endpoints_total`). */
  readonly noLocalEndpoints: { readonly internal: number; readonly external: number };
}

/** What one {@link IptablesProxier.sync} did. */
export interface IptablesSyncResult {
  /** A full sync (every chain written) rather than a partial one. */
  readonly full: boolean;
  /** The `iptables-restore --noflush --counters` input. */
  readonly payload: string;
  /** `-A` lines in the payload, both tables (the `-X` lines are not rules). */
  readonly rulesWritten: number;
  /** `:CHAIN` lines in the payload. */
  readonly chainsWritten: number;
  readonly stats: IptablesSyncStats;
  /** The jump rules to ensure before the restore (full syncs only; empty otherwise). */
  readonly ensureRules: readonly IptablesJumpRule[];
  /** False when the `restore` hook threw; the next sync is then a full one. */
  readonly ok: boolean;
  /** What the `restore` hook threw. */
  readonly error?: unknown;
}

/** Hooks connecting a proxier to a dataplane. */
export interface IptablesProxierHooks {
  /**
   * Applies a payload as `iptables-restore --noflush --counters` would; throw to report a
   * failed restore (the proxier then falls back to a full sync, as upstream does).
   */
  readonly restore?: (payload: string) => void;
  /**
   * The chains that exist in the nat table now (`iptables-save -t nat`), for stale-chain
   * deletion. Default: the service chains this proxier's successful restores created and did
   * not delete.
   */
  readonly listNatChains?: () => Iterable<string>;
}

/** Options of {@link createIptablesProxier}. */
export type CreateIptablesProxierOptions = IptablesProxierOptions & IptablesProxierHooks;

/** Per-sync options. */
export interface IptablesSyncOptions {
  /** The model clock in ms (default: unchanged since the previous sync; 0 at first). */
  readonly now?: number;
}

/** A stateful iptables proxier for one node and IP family. */
export interface IptablesProxier {
  /** Renders (and, with a `restore` hook, applies) the rules for `input`. */
  sync(input: ProxyInput, options?: IptablesSyncOptions): IptablesSyncResult;
  /** Makes the next sync a full one (what the canary monitor and topology changes do). */
  requestFullSync(): void;
  /** True when the next sync will be a full one (first sync, after a failure, or requested). */
  readonly needFullSync: boolean;
}

interface ServiceEntry {
  service: ProxyService;
  ports: ServicePortInfo[];
  portsFingerprint: string | undefined;
  slices: readonly ProxyEndpointSlice[];
  slicesFingerprint: string | undefined;
  endpoints: Map<string, EndpointInfo[]>;
  rendered: (RenderedServicePort | undefined)[];
}

const NO_SLICES: readonly ProxyEndpointSlice[] = [];

function slicesFingerprint(slices: readonly ProxyEndpointSlice[]): string {
  const sorted = [...slices].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return JSON.stringify(sorted, (k, v: unknown) => (k === 'source' ? undefined : v));
}

function sameRefs(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function labelsKey(labels: Labels | undefined): string {
  if (labels === undefined) return 'null';
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

/**
 * Creates kube-proxy's iptables proxier for one node: each {@link IptablesProxier.sync} renders
 * the `iptables-restore` payload upstream `syncProxyRules` writes, full or partial.
 *
 * @remarks
 * - Full syncs (the first one, after a failed restore, after a node-label change, when requested,
 *   and once per `fullSyncPeriodMs`) write every chain. Partial syncs (KEP-3453,
 *   MinimizeIPTablesRestore) write all filter rules and nat KUBE-SERVICES, KUBE-NODEPORTS,
 *   KUBE-POSTROUTING and KUBE-MARK-MASQ, but the per-service chains only of Services whose
 *   processed service ports or EndpointSlices changed since the previous sync.
 * - Changes are found by comparing the input with the previous one: the same object is
 *   unchanged; a new object is compared by content (service ports as kube-proxy processes them;
 *   slices as written), as upstream's change trackers do.
 * - Stale KUBE-SVC/SVL/EXT/FW/SEP chains are flushed and deleted (`:CHAIN` then `-X`); in
 *   large-cluster mode (more than 1000 endpoints) at most once per `syncPeriodMs`.
 * - Rendered text is cached per service port, so a partial sync after one endpoint change
 *   re-renders one Service and concatenates the rest.
 * - Linux equivalent: kube-proxy `--proxy-mode=iptables`.
 * @see kubernetes pkg/proxy/iptables/proxier.go syncProxyRules
 * @see https://github.com/kubernetes/enhancements/tree/master/keps/sig-network/3453-minimize-iptables-restore
 * @see /work/shared/facts/kube-proxy.md section 2
 * @example
 * ```ts
 * import { createIptablesProxier } from '@knet/kube-proxy';
 * const proxier = createIptablesProxier({ nodeName: 'node-a', nodeIPs: ['192.168.0.2'], clusterCIDR: '10.244.0.0/16' });
 * const first = proxier.sync({ services: [], endpointSlices: [] });
 * first.full; // true
 * proxier.sync({ services: [], endpointSlices: [] }).full; // false
 * ```
 */
export function createIptablesProxier(options: CreateIptablesProxierOptions): IptablesProxier {
  const o = resolveIptablesOptions(options);
  const entries = new Map<string, ServiceEntry>();
  const kernelNatChains = new Set<string>();
  let needFullSync = true;
  let lastFullSync = Number.NEGATIVE_INFINITY;
  let lastCleanup = Number.NEGATIVE_INFINITY;
  let clock = 0;
  let prevLabels: string | undefined;

  function sync(input: ProxyInput, syncOptions: IptablesSyncOptions = {}): IptablesSyncResult {
    const now = syncOptions.now ?? clock;
    clock = now;
    const nodeLabels = o.nodeLabels ?? input.nodes?.find((n) => n.name === o.nodeName)?.labels;
    const labels = labelsKey(nodeLabels);
    if (prevLabels !== undefined && labels !== prevLabels) {
      needFullSync = true;
      // Topology decisions depend on the labels: nothing rendered before is reusable.
      for (const e of entries.values()) e.rendered = e.ports.map(() => undefined);
    }
    prevLabels = labels;
    const full = needFullSync || now - lastFullSync > o.fullSyncPeriodMs;

    const changed = updateEntries(input);

    let totalEndpoints = 0;
    let servicePorts = 0;
    for (const e of entries.values()) {
      for (const port of e.ports) {
        servicePorts++;
        totalEndpoints += e.endpoints.get(port.key)?.length ?? 0;
      }
    }
    const large = totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;

    const filterChains: string[] = [':KUBE-SERVICES - [0:0]\n', ':KUBE-EXTERNAL-SERVICES - [0:0]\n', ':KUBE-FORWARD - [0:0]\n', ':KUBE-NODEPORTS - [0:0]\n', ':KUBE-PROXY-FIREWALL - [0:0]\n'];
    const filterRules: string[] = [];
    const natChains: string[] = [':KUBE-SERVICES - [0:0]\n', ':KUBE-NODEPORTS - [0:0]\n', ':KUBE-POSTROUTING - [0:0]\n', ':KUBE-MARK-MASQ - [0:0]\n'];
    const mark = o.masqueradeMark;
    const natRules: string[] = [
      `-A KUBE-POSTROUTING -m mark ! --mark ${mark}/${mark} -j RETURN\n` +
        `-A KUBE-POSTROUTING -j MARK --xor-mark ${mark}\n` +
        `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${o.randomFully ? ' --random-fully' : ''}\n` +
        `-A KUBE-MARK-MASQ -j MARK --or-mark ${mark}\n`,
    ];
    let natRuleCount = 4;
    let filterRuleCount = 0;
    if (o.family === 'IPv4' && o.localhostNodePorts) {
      filterChains.push(':KUBE-FIREWALL - [0:0]\n');
      filterRules.push(
        '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n',
      );
      filterRuleCount++;
    }

    let skippedRules = 0;
    let servicePortsWritten = 0;
    let noLocalInternal = 0;
    let noLocalExternal = 0;
    const written: string[][] = [];
    const ctx = { options: o, nodeLabels, largeClusterMode: large };
    for (const [key, e] of entries) {
      const write = full || changed.has(key);
      for (let i = 0; i < e.ports.length; i++) {
        const port = e.ports[i] as ServicePortInfo;
        let r = e.rendered[i];
        if (r === undefined || (write && r.largeClusterMode !== large)) {
          r = renderServicePort(port, e.endpoints.get(port.key) ?? [], ctx);
          e.rendered[i] = r;
        }
        if (r.noLocalInternal) noLocalInternal++;
        if (r.noLocalExternal) noLocalExternal++;
        if (r.filter !== '') filterRules.push(r.filter);
        filterRuleCount += r.filterLines;
        if (r.capture !== '') natRules.push(r.capture);
        natRuleCount += r.captureLines;
        if (write) {
          servicePortsWritten++;
          if (r.chainDecls !== '') {
            natChains.push(r.chainDecls);
            written.push(r.chains as string[]);
          }
          if (r.chainRules !== '') natRules.push(r.chainRules);
          natRuleCount += r.chainRuleLines;
        } else {
          skippedRules += r.chainRuleLines;
        }
      }
    }

    // Stale chains: flushed by their chain line, then deleted.
    const deleted: string[] = [];
    if (!large || now - lastCleanup > o.syncPeriodMs) {
      // The active set is built only when some service chain exists at all.
      let active: Set<string> | undefined;
      const existing = options.listNatChains !== undefined ? options.listNatChains() : kernelNatChains;
      for (const chain of existing) {
        if (!isServiceChainName(chain)) continue;
        if (active === undefined) {
          active = new Set<string>();
          for (const e of entries.values()) for (const r of e.rendered) if (r !== undefined) for (const c of r.chains) active.add(c);
        }
        if (active.has(chain)) continue;
        natChains.push(`:${chain} - [0:0]\n`);
        natRules.push(`-X ${chain}\n`);
        deleted.push(chain);
      }
      lastCleanup = now;
    }

    // The final jump to KUBE-NODEPORTS, after every service rule.
    const nodePortsComment = '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"';
    if (o.nodePortAddresses.matchAll) {
      let dest = '-m addrtype --dst-type LOCAL';
      if (o.family === 'IPv6') dest += ' ! -d ::1/128';
      else if (!o.localhostNodePorts) dest += ' ! -d 127.0.0.0/8';
      natRules.push(`${nodePortsComment} ${dest} -j KUBE-NODEPORTS\n`);
      natRuleCount++;
    } else {
      for (const ip of nodePortIPs(o.nodePortAddresses, o.localAddresses)) {
        if (isLoopback(ip) && (o.family === 'IPv6' || !o.localhostNodePorts)) continue;
        natRules.push(`${nodePortsComment} -d ${ip.text} -j KUBE-NODEPORTS\n`);
        natRuleCount++;
      }
    }

    if (!o.conntrackTCPLiberal) {
      filterRules.push(`-A KUBE-FORWARD -m conntrack --ctstate INVALID${o.nfacctInvalid ? ' -m nfacct --nfacct-name ct_state_invalid_dropped_pkts' : ''} -j DROP\n`);
      filterRuleCount++;
    }
    filterRules.push(
      `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT\n` +
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n',
    );
    filterRuleCount += 2;

    const payload =
      '*filter\n' + filterChains.join('') + filterRules.join('') + 'COMMIT\n' + '*nat\n' + natChains.join('') + natRules.join('') + 'COMMIT\n';
    let chainLines = filterChains.length + 4 + deleted.length;
    for (const list of written) chainLines += list.length;

    let ok = true;
    let error: unknown;
    if (options.restore !== undefined) {
      try {
        options.restore(payload);
      } catch (e) {
        ok = false;
        error = e;
      }
    }
    if (ok) {
      needFullSync = false;
      if (full) lastFullSync = now;
      if (options.listNatChains === undefined) {
        for (const list of written) for (const c of list) kernelNatChains.add(c);
        for (const c of deleted) kernelNatChains.delete(c);
      }
    } else {
      needFullSync = true;
    }

    const stats: IptablesSyncStats = {
      servicePorts,
      endpoints: totalEndpoints,
      largeClusterMode: large,
      servicePortsWritten,
      filterRules: filterRuleCount,
      natRules: natRuleCount,
      natRulesTotal: natRuleCount + skippedRules,
      chainsWritten: chainLines,
      chainsDeleted: deleted.length,
      noLocalEndpoints: { internal: noLocalInternal, external: noLocalExternal },
    };
    return {
      full,
      payload,
      rulesWritten: filterRuleCount + natRuleCount,
      chainsWritten: chainLines,
      stats,
      ensureRules: full ? iptablesJumpRules() : [],
      ok,
      ...(ok ? {} : { error }),
    };
  }

  // Inputs of the previous sync, to skip work for objects that did not change: the Services
  // with their keys by position, and the slices of this family grouped by Service.
  let prevServices: readonly ProxyService[] = [];
  let prevServiceKeys: string[] = [];
  let prevSlices: readonly ProxyEndpointSlice[] = [];
  let slicesBySvc = new Map<string, ProxyEndpointSlice[]>();
  /** Services whose slices the last grouping changed; undefined when it regrouped them all. */
  let dirtyServices: ReadonlySet<string> | undefined;

  /** Groups the input's slices by Service, regrouping only the Services whose slices moved. */
  function groupSlices(slices: readonly ProxyEndpointSlice[]): Map<string, ProxyEndpointSlice[]> {
    if (slices === prevSlices) {
      dirtyServices = new Set();
      return slicesBySvc;
    }
    if (slices.length === prevSlices.length) {
      const dirty = new Map<string, [string, string]>();
      for (let i = 0; i < slices.length && dirty.size <= 64; i++) {
        const a = prevSlices[i] as ProxyEndpointSlice;
        const b = slices[i] as ProxyEndpointSlice;
        if (a === b) continue;
        if (a.addressType === o.family) dirty.set(`${a.namespace}/${a.serviceName}`, [a.namespace, a.serviceName]);
        if (b.addressType === o.family) dirty.set(`${b.namespace}/${b.serviceName}`, [b.namespace, b.serviceName]);
      }
      if (dirty.size <= 64) {
        for (const [key, [ns, name]] of dirty) {
          const list = slices.filter((s) => s.serviceName === name && s.namespace === ns && s.addressType === o.family);
          if (list.length === 0) slicesBySvc.delete(key);
          else slicesBySvc.set(key, list);
        }
        prevSlices = slices;
        dirtyServices = new Set(dirty.keys());
        return slicesBySvc;
      }
    }
    dirtyServices = undefined;
    const groups = new Map<string, ProxyEndpointSlice[]>();
    for (const s of slices) {
      if (s.addressType !== o.family) continue;
      const key = `${s.namespace}/${s.serviceName}`;
      const list = groups.get(key);
      if (list === undefined) groups.set(key, [s]);
      else list.push(s);
    }
    prevSlices = slices;
    slicesBySvc = groups;
    return groups;
  }

  /** Takes a Service's current slices; true when its endpoints changed (as kube-proxy reads them). */
  function updateSlices(e: ServiceEntry, slices: readonly ProxyEndpointSlice[]): boolean {
    if (e.slices === slices || sameRefs(e.slices, slices)) return false;
    const fp = slicesFingerprint(slices);
    const changed = fp !== (e.slicesFingerprint ?? slicesFingerprint(e.slices));
    if (changed) e.endpoints = buildServiceEndpoints(slices, { family: o.family, nodeName: o.nodeName, featureGates: o.gates });
    e.slices = slices;
    e.slicesFingerprint = fp;
    return changed;
  }

  /** Brings the per-Service cache up to date; returns the Services that changed. */
  function updateEntries(input: ProxyInput): Set<string> {
    const groups = groupSlices(input.endpointSlices);
    const changed = new Set<string>();
    // The same Services (the same array) and a few regrouped slices: only those Services can
    // have changed, so the others are not looked at (partial syncs after endpoint changes).
    if (input.services === prevServices && dirtyServices !== undefined && prevServices.length > 0) {
      for (const key of dirtyServices) {
        const e = entries.get(key);
        if (e !== undefined && updateSlices(e, groups.get(key) ?? NO_SLICES)) {
          changed.add(key);
          e.rendered = e.ports.map(() => undefined);
        }
      }
      return changed;
    }
    const seen = new Set<string>();
    const keys: string[] = new Array<string>(input.services.length);
    const endpointOptions = { family: o.family, nodeName: o.nodeName, featureGates: o.gates };
    for (let i = 0; i < input.services.length; i++) {
      const svc = input.services[i] as ProxyService;
      const key = prevServices[i] === svc ? (prevServiceKeys[i] as string) : `${svc.namespace}/${svc.name}`;
      keys[i] = key;
      if (seen.has(key)) continue;
      seen.add(key);
      const slices = groups.get(key) ?? NO_SLICES;
      const e = entries.get(key);
      if (e === undefined) {
        const ports = buildServicePorts(svc, o.family, o.gates);
        entries.set(key, {
          service: svc,
          ports,
          portsFingerprint: undefined,
          slices,
          slicesFingerprint: undefined,
          endpoints: buildServiceEndpoints(slices, endpointOptions),
          rendered: ports.map(() => undefined),
        });
        changed.add(key);
        continue;
      }
      let svcChanged = false;
      if (e.service !== svc) {
        const ports = buildServicePorts(svc, o.family, o.gates);
        const fp = servicePortsFingerprint(ports);
        if (fp !== (e.portsFingerprint ?? servicePortsFingerprint(e.ports))) {
          svcChanged = true;
          e.ports = ports;
        }
        e.service = svc;
        e.portsFingerprint = fp;
      }
      const epChanged = updateSlices(e, slices);
      if (svcChanged || epChanged) {
        changed.add(key);
        e.rendered = e.ports.map(() => undefined);
      }
    }
    prevServices = input.services;
    prevServiceKeys = keys;
    if (entries.size !== seen.size) for (const key of [...entries.keys()]) if (!seen.has(key)) entries.delete(key);
    // Keep the cache in input order (upstream iterates a map; the order is not part of the contract).
    if (!sameOrder(entries, seen)) {
      const reordered = [...seen].map((k) => [k, entries.get(k) as ServiceEntry] as const);
      entries.clear();
      for (const [k, v] of reordered) entries.set(k, v);
    }
    return changed;
  }

  return {
    sync,
    requestFullSync(): void {
      needFullSync = true;
    },
    get needFullSync(): boolean {
      return needFullSync;
    },
  };
}

function sameOrder(entries: Map<string, unknown>, seen: Set<string>): boolean {
  if (entries.size !== seen.size) return false;
  const a = entries.keys();
  for (const k of seen) if (a.next().value !== k) return false;
  return true;
}
