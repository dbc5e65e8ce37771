import { KnetError } from '@knet/core';
import type { Host, SeededRng } from '@knet/core';
import type { FlannelNetConf } from '../subnet/net-conf.js';
import type { FlannelLease, LeaseEvent, SubnetManager } from '../subnet/subnet-manager.js';

/** The node's external interface as flanneld finds it (`--iface`, else the default route's). */
export interface ExternalInterface {
  /** Its name (`eth0`). */
  readonly name: string;
  readonly mtu: number;
  /** Its IPv4 address (`IfaceAddr`). */
  readonly address: string;
  /** The address other nodes reach this one at (`ExtAddr`, `--public-ip`; default the interface's). */
  readonly publicIP: string;
}

/** What a backend gets to set a node up. */
export interface BackendContext {
  readonly host: Host;
  /** The node's namespace. */
  readonly netns: string;
  /** The node's name, for errors. */
  readonly node: string;
  readonly extIface: ExternalInterface;
  readonly subnetManager: SubnetManager;
  readonly netConf: FlannelNetConf;
  /** Random source (the VTEP MAC), seeded in the model. */
  readonly rng: SeededRng;
}

/** A backend's network on one node, after `RegisterNetwork`. */
export interface FlannelNetwork {
  readonly backendType: string;
  /** This node's lease. */
  readonly lease: FlannelLease;
  /** The MTU pods get (`FLANNEL_MTU`). */
  readonly mtu: number;
  /** Programs (added) or removes (removed) what reaches other nodes' subnets. */
  handleEvents(events: readonly LeaseEvent[]): Promise<void>;
  /** The backend's process resources go (the udp proxy's tun and socket). */
  close(): void;
}

/** A flannel backend (`backend.Backend`): registers this node's network. */
export interface FlannelBackend {
  readonly type: string;
  /** Acquires the lease and sets the device up. @throws KnetError */
  register(ctx: BackendContext): Promise<FlannelNetwork>;
}

/**
 * The backend's options (`Backend` in net-conf.json) with Go's case-insensitive keys.
 * @throws KnetError `EINVAL` `error decoding <name> backend config: ...` for a wrong type.
 */
export function backendOption<T extends number | boolean>(netConf: FlannelNetConf, key: string, kind: 'int' | 'bool', fallback: T, backendName: string): T {
  const b = netConf.backend;
  if (b === undefined) return fallback;
  const k = Object.hasOwn(b, key) ? key : Object.keys(b).find((x) => x.toLowerCase() === key.toLowerCase());
  const v = k === undefined ? undefined : b[k];
  if (v === undefined || v === null) return fallback;
  const ok = kind === 'bool' ? typeof v === 'boolean' : typeof v === 'number' && Number.isInteger(v);
  if (!ok) {
    throw new KnetError('EINVAL', `error decoding ${backendName} backend config: json: cannot unmarshal ${typeof v} into Go struct field .${key} of type ${kind}`, {
      field: `Backend.${key}`,
      value: v,
    });
  }
  return v as T;
}
