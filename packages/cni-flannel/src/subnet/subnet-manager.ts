import type { Ipv4Cidr } from '@knet/core';
import type { LeaseAttrs } from './lease-attrs.js';
import type { FlannelNetConf } from './net-conf.js';

/** One node's subnet lease (flannel's `lease.Lease`, IPv4). */
export interface FlannelLease {
  readonly subnet: Ipv4Cidr;
  readonly attrs: LeaseAttrs;
  /** When it expires, in milliseconds on the manager's clock; absent for a reservation (no TTL). */
  readonly expiration?: number;
}

/** A change to the set of leases, as flannel's lease watch reports it. */
export interface LeaseEvent {
  readonly type: 'added' | 'removed';
  readonly lease: FlannelLease;
}

/**
 * Where flanneld gets its network configuration and leases (flannel's `subnet.Manager`): etcd
 * (`createLocalSubnetManager`) or the Kubernetes API (`createKubeSubnetManager`).
 */
export interface SubnetManager {
  /** What flanneld logs at start (`Etcd Local Manager with Previous Subnet: None`). */
  readonly name: string;
  /** The network configuration (etcd mode: the `config` key, checked; kube mode: net-conf.json). */
  getNetworkConfig(): Promise<FlannelNetConf>;
  /** Takes (or reuses) this node's subnet. @throws KnetError */
  acquireLease(attrs: LeaseAttrs): Promise<FlannelLease>;
  /** Extends a lease by the subnet TTL. @throws KnetError */
  renewLease(lease: FlannelLease): Promise<FlannelLease>;
  /** Every lease there is now (the watch's snapshot). */
  listLeases(): Promise<FlannelLease[]>;
  /**
   * The lease of `subnet` as the store holds it (what the watch reports to other nodes: in kube
   * mode the Node's annotations, in etcd mode the key's value), `undefined` when there is none.
   */
  lookupLease(subnet: Ipv4Cidr): Promise<FlannelLease | undefined>;
  /** The VTEP MAC stored for this node (kube mode's `backend-data` annotation), to keep `flannel.1`'s MAC. */
  storedVtepMac(): Promise<string | undefined>;
}

/**
 * Turns snapshots of the leases into added/removed events for one node, ignoring its own lease:
 * flannel's `LeaseWatcher.Reset` (new leases are added, vanished ones removed) — with one
 * difference: a known lease whose attributes changed is reported as added again, as the kube
 * manager's update handler and an etcd put event would.
 *
 * @see flannel-io/flannel pkg/lease/lease.go `LeaseWatcher`
 */
export class LeaseWatcher {
  /** Remote leases by subnet (`address/prefix`), in the order they became known. */
  private known = new Map<string, FlannelLease>();
  private readonly ownKey: string;
  constructor(own: Ipv4Cidr) {
    this.ownKey = keyOf(own);
  }

  /** The remote leases the watcher knows. */
  get leases(): readonly FlannelLease[] {
    return [...this.known.values()];
  }

  /** Events that bring the known set to `snapshot`. */
  reset(snapshot: readonly FlannelLease[]): LeaseEvent[] {
    const events: LeaseEvent[] = [];
    const next = new Map<string, FlannelLease>();
    for (const l of snapshot) {
      const key = keyOf(l.subnet);
      if (key === this.ownKey) continue;
      const was = this.known.get(key);
      next.set(key, l);
      if (was === undefined || !sameAttrs(was, l)) events.push({ type: 'added', lease: l });
    }
    for (const [key, l] of this.known) if (!next.has(key)) events.push({ type: 'removed', lease: l });
    this.known = next;
    return events;
  }

  /** Applies incremental events (the watch's updates); returns those that concern other nodes. */
  update(events: readonly LeaseEvent[]): LeaseEvent[] {
    const out: LeaseEvent[] = [];
    for (const e of events) {
      const key = keyOf(e.lease.subnet);
      if (key === this.ownKey) continue;
      if (e.type === 'added') this.known.set(key, e.lease);
      else this.known.delete(key);
      out.push(e);
    }
    return out;
  }
}

function keyOf(c: Ipv4Cidr): string {
  return `${c.address}/${c.prefix}`;
}

function sameAttrs(a: FlannelLease, b: FlannelLease): boolean {
  return (
    a.attrs.publicIP === b.attrs.publicIP &&
    a.attrs.backendType === b.attrs.backendType &&
    JSON.stringify(a.attrs.backendData) === JSON.stringify(b.attrs.backendData)
  );
}
