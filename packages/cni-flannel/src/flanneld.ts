import { KnetError, isKnetError } from '@knet/core';
import type { DatastoreClock, Host, SeededRng } from '@knet/core';
import { createBackend } from './backend/create-backend.js';
import type { ExternalInterface, FlannelNetwork } from './backend/flannel-backend.js';
import { applyFlannelIptables } from './flannel-iptables.js';
import { SUBNET_ENV_PATH, formatSubnetEnv } from './subnet/subnet-env.js';
import { LeaseWatcher, type FlannelLease, type LeaseEvent, type SubnetManager } from './subnet/subnet-manager.js';

/** `--subnet-lease-renew-margin`'s default, in minutes. */
export const DEFAULT_RENEW_MARGIN_MINUTES = 60;

/** Options of {@link createFlanneld}: flanneld's flags that matter to the model. */
export interface FlanneldOptions {
  readonly host: Host;
  /** The node's namespace. */
  readonly netns: string;
  readonly node: string;
  readonly subnetManager: SubnetManager;
  /** `--iface`; default the interface of the default route. */
  readonly iface?: string;
  /** `--public-ip`; default the interface's address. */
  readonly publicIP?: string;
  /** `--ip-masq` (flanneld's default false; kube-flannel.yml passes it). */
  readonly ipMasq?: boolean;
  /** `--iptables-forward-rules` (default true). */
  readonly iptablesForwardRules?: boolean;
  /** MASQUERADE with `--random-fully` (iptables supports it; default true). */
  readonly randomFully?: boolean;
  /** `--subnet-lease-renew-margin` in minutes (default 60). */
  readonly renewMarginMinutes?: number;
  /** `--subnet-file`. */
  readonly subnetFile?: string;
  /** The node's files flanneld writes (`subnet.env`); shared with the CNI plugin. */
  readonly files: Map<string, string>;
  readonly rng: SeededRng;
  readonly clock: DatastoreClock;
}

/** One node's flanneld: its lease, its backend's network, and what it learnt of the others. */
export interface Flanneld {
  readonly node: string;
  readonly subnetManager: SubnetManager;
  /** The lease, once started. */
  readonly lease: FlannelLease | undefined;
  /** The backend network, once started. */
  readonly network: FlannelNetwork | undefined;
  /** The remote leases it has programmed. */
  readonly remoteLeases: readonly FlannelLease[];
  /**
   * Starts: network config, external interface, the backend (which takes the lease and sets its
   * device up), `subnet.env`, the iptables rules. @throws KnetError
   */
  start(): Promise<FlannelLease>;
  /** The lease watch's incremental events (other nodes' leases added or removed). */
  handleEvents(events: readonly LeaseEvent[]): Promise<void>;
  /** Reads every lease and reconciles (the watch's reset after a gap). */
  sync(): Promise<readonly LeaseEvent[]>;
  /** Renews the lease when less than the renew margin is left (etcd mode). Resolves true when it renewed. */
  renewIfDue(): Promise<boolean>;
  /** flanneld exits: the backend's process state goes; devices, routes and the lease stay. */
  stop(): void;
}

async function externalInterface(host: Host, netns: string, iface: string | undefined, publicIP: string | undefined, node: string): Promise<ExternalInterface> {
  const routes = await host.routeList(netns);
  const name = iface ?? routes.find((r) => r.table === 'main' && r.dst === 'default')?.dev;
  if (name === undefined) throw new KnetError('ENODEV', `node ${node}: failed to find the interface of the default route (pass --iface)`, { node });
  const link = (await host.linkList(netns)).find((l) => l.name === name);
  if (link === undefined) throw new KnetError('ENODEV', `node ${node}: error looking up interface ${name}: Cannot find device "${name}"`, { node, dev: name });
  const addr = (await host.addrList(netns)).find((a) => a.dev === name && a.scope === 'global');
  if (addr === undefined) throw new KnetError('ENODEV', `node ${node}: failed to find IPv4 address for interface ${name}`, { node, dev: name });
  return { name, mtu: link.mtu, address: addr.local, publicIP: publicIP ?? addr.local };
}

/**
 * One node's flanneld.
 *
 * @remarks
 * Linux equivalent: the `flanneld` daemon (`main.go`): find the external interface (`--iface`, else
 * the default route's), read the network config from the subnet manager, create the backend from
 * `Backend.Type`, `RegisterNetwork` (lease + device), write `subnet.env` (`FLANNEL_NETWORK`,
 * `FLANNEL_SUBNET`, `FLANNEL_MTU`, `FLANNEL_IPMASQ`), install the masquerade (with `--ip-masq`)
 * and forward rules, then follow the lease watch: every other node's lease is programmed by the
 * backend as it appears and removed as it goes (expired, deleted). The lease is renewed when less
 * than the renew margin (60 min) is left of its 24 h. Everything runs against an explicit clock.
 * @see flannel-io/flannel main.go; pkg/subnet/subnet.go `WriteSubnetFile`; pkg/subnet/etcd/local_manager.go `CompleteLease`
 */
export function createFlanneld(options: FlanneldOptions): Flanneld {
  const { host, netns, node, subnetManager } = options;
  let network: FlannelNetwork | undefined;
  let lease: FlannelLease | undefined;
  let watcher: LeaseWatcher | undefined;

  const self: Flanneld = {
    node,
    subnetManager,
    get lease() {
      return lease;
    },
    get network() {
      return network;
    },
    get remoteLeases() {
      return watcher?.leases ?? [];
    },
    async start() {
      const config = await subnetManager.getNetworkConfig();
      const ext = await externalInterface(host, netns, options.iface, options.publicIP, node);
      const backend = createBackend(config.backendType);
      network = await backend.register({ host, netns, node, extIface: ext, subnetManager, netConf: config, rng: options.rng });
      lease = network.lease;
      watcher = new LeaseWatcher(lease.subnet);
      const ipMasq = options.ipMasq ?? false;
      options.files.set(options.subnetFile ?? SUBNET_ENV_PATH, formatSubnetEnv({ network: config.network, subnet: lease.subnet, mtu: network.mtu, ipMasq }));
      await applyFlannelIptables(host, netns, {
        network: config.network,
        subnet: lease.subnet,
        ipMasq,
        forwardRules: options.iptablesForwardRules ?? true,
        ...(options.randomFully !== undefined ? { randomFully: options.randomFully } : {}),
      });
      return lease;
    },
    async handleEvents(events) {
      if (network === undefined || watcher === undefined) throw new KnetError('EINVAL', `flanneld on ${node} has not started`, { node });
      await network.handleEvents(watcher.update(events));
    },
    async sync() {
      if (network === undefined || watcher === undefined) throw new KnetError('EINVAL', `flanneld on ${node} has not started`, { node });
      const events = watcher.reset(await subnetManager.listLeases());
      await network.handleEvents(events);
      return events;
    },
    async renewIfDue() {
      if (lease?.expiration === undefined) return false;
      const margin = (options.renewMarginMinutes ?? DEFAULT_RENEW_MARGIN_MINUTES) * 60_000;
      if (lease.expiration - options.clock.now() > margin) return false;
      try {
        lease = await subnetManager.renewLease(lease);
      } catch (e) {
        if (isKnetError(e, 'EOPNOTSUPP')) return false;
        throw e;
      }
      return true;
    },
    stop() {
      network?.close();
    },
  };
  return self;
}
