import { readFileSync } from 'node:fs';
import { isKnetError, KnetError } from '../errors/knet-error.js';
import { tryParseIpv4 } from '../ip/ipv4.js';
import { FileIpamStore } from '../ipam/file-ipam-store.js';
import type { FileIpamLocking } from '../ipam/file-ipam-store.js';
import { hostLocalAdd, hostLocalCheck, hostLocalDel, hostLocalGc } from '../ipam/host-local.js';
import { parseHostLocalConf } from '../ipam/host-local-conf.js';
import type { HostLocalConfig, HostLocalNetConf } from '../ipam/host-local-conf.js';
import type { IpamStore } from '../ipam/ipam-store.js';
import { parseCniArgs } from './cni-args.js';
import { CNI_ERROR_CODES, CniError } from './cni-error.js';
import type { CniCmdArgs, CniPlugin } from './cni-skel.js';
import type { CniDns, CniGcAttachment, CniResult } from './cni-types.js';
import { CNI_SPEC_VERSIONS } from './cni-version.js';

/** Options of {@link createHostLocalCniPlugin}. */
export interface HostLocalCniPluginOptions {
  /** The store of a network. Default: a {@link FileIpamStore} at `<ipam.dataDir>/<name>/`. */
  readonly store?: (config: HostLocalConfig) => IpamStore;
  /** Locking of the default store. Default `auto`. */
  readonly locking?: FileIpamLocking;
  /** Lock wait of the default store; past it, code 11 (try again later). Default: no limit. */
  readonly lockTimeoutMs?: number;
  /** `about` text for the skeleton. */
  readonly about?: string;
}

/**
 * Reads a resolv.conf into a result's `dns` as host-local's `parseResolvConf` does: `nameserver`
 * lines add servers, `domain` sets the domain, `search` and `options` append their fields;
 * comments (`#`, `;`) and short lines are skipped.
 *
 * @see containernetworking/plugins plugins/ipam/host-local/dns.go
 */
export function parseResolvConf(text: string): CniDns {
  const nameservers: string[] = [];
  const search: string[] = [];
  const options: string[] = [];
  let domain = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const fields = line.split(/\s+/);
    if (fields.length < 2) continue;
    const [key, first, ...rest] = fields as [string, string, ...string[]];
    if (key === 'nameserver') nameservers.push(first);
    else if (key === 'domain') domain = first;
    else if (key === 'search') search.push(first, ...rest);
    else if (key === 'options') options.push(first, ...rest);
  }
  return {
    ...(nameservers.length > 0 ? { nameservers } : {}),
    ...(domain !== '' ? { domain } : {}),
    ...(search.length > 0 ? { search } : {}),
    ...(options.length > 0 ? { options } : {}),
  };
}

/** An error of the allocator or the store as the plugin reports it: code 11 for a lock wait, 999 otherwise. */
function runtimeError(e: unknown): unknown {
  if (isKnetError(e, 'EBUSY') && e.details['reason'] === 'lock-timeout') {
    return new CniError(CNI_ERROR_CODES.ErrTryAgainLater, e.message);
  }
  return e;
}

/**
 * Reads the host-local configuration of an invocation (`allocator.LoadIPAMConfig`): the config
 * from stdin, with the `IP=` of `CNI_ARGS`.
 *
 * @throws CniError code 7 for an invalid configuration (upstream reports these as 999; the spec's
 * code for them is 7), code 999 for bad `CNI_ARGS` (`ARGS: unknown args [...]`).
 * @see containernetworking/plugins plugins/ipam/host-local/backend/allocator/config.go
 */
export function loadHostLocalConfig(args: Pick<CniCmdArgs, 'config' | 'args'>): HostLocalConfig {
  let ip: string | undefined;
  try {
    ip = parseCniArgs(args.args, ['IP'], (_k, v) => {
      const addr = v.includes('/') ? v.slice(0, v.indexOf('/')) : v;
      if (v !== '' && tryParseIpv4(addr) === undefined) throw new Error(`invalid IP address: ${v}`);
    }).values['IP'];
  } catch (e) {
    throw new CniError(CNI_ERROR_CODES.ErrInternal, (e as Error).message);
  }
  try {
    return parseHostLocalConf(args.config as unknown as HostLocalNetConf, ip === undefined ? {} : { cniArgsIP: ip });
  } catch (e) {
    if (isKnetError(e)) throw new CniError(CNI_ERROR_CODES.ErrInvalidNetworkConfig, e.message);
    throw e;
  }
}

/** The valid attachments of a GC request, under either key (1.1.0's text used `cni.dev/attachments`). */
export function gcValidAttachments(config: Readonly<Record<string, unknown>>): CniGcAttachment[] {
  const list = config['cni.dev/valid-attachments'] ?? config['cni.dev/attachments'];
  if (!Array.isArray(list)) return [];
  return list
    .filter((a): a is Record<string, unknown> => a !== null && typeof a === 'object')
    .map((a) => ({ containerID: String(a['containerID'] ?? ''), ifname: String(a['ifname'] ?? '') }));
}

/**
 * host-local as a {@link CniPlugin}: the reference plugin's configuration, allocation order,
 * error texts and on-disk state, to run in-process (a runtime's `createInProcessCniExec`, or a
 * main plugin delegating its IPAM) or as an executable through `runCniPluginMain`.
 *
 * @remarks
 * Linux equivalent: `/opt/cni/bin/host-local`. ADD returns the abbreviated IPAM result (no
 * `interfaces`, no `ips[].interface`) with the configured routes and, with `resolvConf`, the
 * DNS read from that file. DEL releases and succeeds when nothing is held. CHECK fails with
 * `host-local: Failed to find address added by container <id>`. GC (which upstream lacks)
 * releases every reservation not held by a valid attachment. STATUS succeeds.
 * @see containernetworking/plugins plugins/ipam/host-local/main.go
 * @example
 * ```ts
 * import { createHostLocalCniPlugin, runCniPluginMain } from '@knet/core/linux';
 * await runCniPluginMain(createHostLocalCniPlugin());
 * ```
 */
export function createHostLocalCniPlugin(options: HostLocalCniPluginOptions = {}): CniPlugin {
  const storeOf =
    options.store ??
    ((c: HostLocalConfig): IpamStore =>
      new FileIpamStore(c.name, {
        dataDir: c.dataDir,
        ...(options.locking !== undefined ? { locking: options.locking } : {}),
        ...(options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {}),
      }));
  const owner = (a: CniCmdArgs): { containerId: string; ifname: string } => ({ containerId: a.containerId, ifname: a.ifname });
  return {
    versions: CNI_SPEC_VERSIONS,
    ...(options.about !== undefined ? { about: options.about } : {}),
    add(a): CniResult {
      const conf = loadHostLocalConfig(a);
      let r;
      try {
        r = hostLocalAdd(conf, storeOf(conf), owner(a));
      } catch (e) {
        throw runtimeError(e);
      }
      let dns: CniDns = {};
      if (conf.resolvConf !== undefined) {
        try {
          dns = parseResolvConf(readFileSync(conf.resolvConf, 'utf8'));
        } catch (e) {
          throw new KnetError('EIO', `open ${conf.resolvConf}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
        }
      }
      return {
        cniVersion: '1.0.0',
        ips: r.ips.map((i) => ({ address: i.address, gateway: i.gateway })),
        ...(r.routes.length > 0 ? { routes: r.routes.map((x) => ({ dst: x.dst, ...(x.gw !== undefined ? { gw: x.gw } : {}) })) } : {}),
        dns,
      };
    },
    del(a) {
      const conf = loadHostLocalConfig(a);
      try {
        hostLocalDel(conf, storeOf(conf), owner(a));
      } catch (e) {
        throw runtimeError(e);
      }
    },
    check(a) {
      const conf = loadHostLocalConfig(a);
      try {
        hostLocalCheck(conf, storeOf(conf), owner(a));
      } catch (e) {
        throw runtimeError(e);
      }
    },
    gc(a) {
      const conf = loadHostLocalConfig(a);
      const valid = gcValidAttachments(a.config).map((v) => ({ containerId: v.containerID, ifname: v.ifname }));
      try {
        hostLocalGc(storeOf(conf), valid);
      } catch (e) {
        throw runtimeError(e);
      }
    },
    status() {
      // host-local can always serve ADD when its configuration loads; STATUS carries no attachment.
    },
  };
}
