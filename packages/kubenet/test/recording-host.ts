import type {
  HostIptablesRestoreOptions,
  HostIptablesSaveOptions, FdbOptions, Host, LinkAddOptions, LinkSetOptions, NeighOptions, RouteOptions } from '@knet/core';
import type { AddressInfo, FdbInfo, LinkInfo, NeighInfo, NetnsMeta, RouteInfo } from '@knet/core';

/** One Host call: the method, the namespace, then the remaining arguments as given. */
export type HostCall = readonly [op: string, netns: string, ...args: unknown[]];

/**
 * Test scaffolding: a {@link Host} that records every call (reads included) and forwards it to
 * a real Host (SimHost), so a test can assert both the exact call sequence and the resulting
 * kernel state. Failed calls are recorded too.
 */
export class RecordingHost implements Host {
  readonly calls: HostCall[] = [];
  readonly kind: 'sim' | 'linux';
  private readonly inner: Host;

  constructor(inner: Host) {
    this.inner = inner;
    this.kind = inner.kind;
  }

  /** Forgets the calls recorded so far. */
  reset(): void {
    this.calls.length = 0;
  }

  /** The calls made on `netns` only. */
  on(netns: string): HostCall[] {
    return this.calls.filter((c) => c[1] === netns);
  }

  private rec<T>(call: HostCall, run: () => Promise<T>): Promise<T> {
    this.calls.push(call);
    return run();
  }

  netnsAdd(name: string, meta: NetnsMeta): Promise<void> { return this.rec(['netnsAdd', name, meta], () => this.inner.netnsAdd(name, meta)); }
  netnsDel(name: string): Promise<void> { return this.rec(['netnsDel', name], () => this.inner.netnsDel(name)); }
  netnsList(): Promise<string[]> { return this.rec(['netnsList', ''], () => this.inner.netnsList()); }
  netnsExists(name: string): Promise<boolean> { return this.rec(['netnsExists', name], () => this.inner.netnsExists(name)); }
  linkAdd(netns: string, o: LinkAddOptions): Promise<void> { return this.rec(['linkAdd', netns, o], () => this.inner.linkAdd(netns, o)); }
  linkSet(netns: string, name: string, o: LinkSetOptions): Promise<void> { return this.rec(['linkSet', netns, name, o], () => this.inner.linkSet(netns, name, o)); }
  linkDel(netns: string, name: string): Promise<void> { return this.rec(['linkDel', netns, name], () => this.inner.linkDel(netns, name)); }
  linkList(netns: string): Promise<LinkInfo[]> { return this.rec(['linkList', netns], () => this.inner.linkList(netns)); }
  linkGet(netns: string, name: string): Promise<LinkInfo | undefined> { return this.rec(['linkGet', netns, name], () => this.inner.linkGet(netns, name)); }
  addrAdd(netns: string, dev: string, cidr: string): Promise<void> { return this.rec(['addrAdd', netns, dev, cidr], () => this.inner.addrAdd(netns, dev, cidr)); }
  addrDel(netns: string, dev: string, cidr: string): Promise<void> { return this.rec(['addrDel', netns, dev, cidr], () => this.inner.addrDel(netns, dev, cidr)); }
  addrList(netns: string): Promise<AddressInfo[]> { return this.rec(['addrList', netns], () => this.inner.addrList(netns)); }
  routeAdd(netns: string, r: RouteOptions): Promise<void> { return this.rec(['routeAdd', netns, r], () => this.inner.routeAdd(netns, r)); }
  routeReplace(netns: string, r: RouteOptions): Promise<void> { return this.rec(['routeReplace', netns, r], () => this.inner.routeReplace(netns, r)); }
  routeDel(netns: string, r: RouteOptions): Promise<void> { return this.rec(['routeDel', netns, r], () => this.inner.routeDel(netns, r)); }
  routeList(netns: string): Promise<RouteInfo[]> { return this.rec(['routeList', netns], () => this.inner.routeList(netns)); }
  neighReplace(netns: string, n: NeighOptions): Promise<void> { return this.rec(['neighReplace', netns, n], () => this.inner.neighReplace(netns, n)); }
  neighDel(netns: string, dst: string, dev: string): Promise<void> { return this.rec(['neighDel', netns, dst, dev], () => this.inner.neighDel(netns, dst, dev)); }
  neighList(netns: string): Promise<NeighInfo[]> { return this.rec(['neighList', netns], () => this.inner.neighList(netns)); }
  fdbAdd(netns: string, e: FdbOptions): Promise<void> { return this.rec(['fdbAdd', netns, e], () => this.inner.fdbAdd(netns, e)); }
  fdbDel(netns: string, e: FdbOptions): Promise<void> { return this.rec(['fdbDel', netns, e], () => this.inner.fdbDel(netns, e)); }
  fdbList(netns: string): Promise<FdbInfo[]> { return this.rec(['fdbList', netns], () => this.inner.fdbList(netns)); }
  sysctlSet(netns: string, key: string, value: string): Promise<void> { return this.rec(['sysctlSet', netns, key, value], () => this.inner.sysctlSet(netns, key, value)); }
  sysctlGet(netns: string, key: string): Promise<string> { return this.rec(['sysctlGet', netns, key], () => this.inner.sysctlGet(netns, key)); }
  iptablesRestore(netns: string, payload: string, options?: HostIptablesRestoreOptions): Promise<void> { return this.rec(['iptablesRestore', netns, payload, options], () => this.inner.iptablesRestore(netns, payload, options)); }
  iptablesSave(netns: string, options?: HostIptablesSaveOptions): Promise<string> { return this.rec(['iptablesSave', netns, options], () => this.inner.iptablesSave(netns, options)); }
  ipsetRestore(netns: string, payload: string, options?: { readonly exist?: boolean }): Promise<void> { return this.rec(['ipsetRestore', netns, payload, options], () => this.inner.ipsetRestore(netns, payload, options)); }
  ipsetSave(netns: string): Promise<string> { return this.rec(['ipsetSave', netns], () => this.inner.ipsetSave(netns)); }
  conntrackList(netns: string): Promise<string> { return this.rec(['conntrackList', netns], () => this.inner.conntrackList(netns)); }
}
