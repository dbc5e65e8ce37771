import { formatIpSloppy } from '../ip/parse-ip-sloppy.js';
import type { IpFamily } from '../ip/parse-ip-sloppy.js';
import type { ProxyEndpointSlice } from './proxy-input.js';
import type { ProxyFeatureGates } from './service-port-info.js';

/** One endpoint of a service port (upstream `BaseEndpointInfo`). */
export interface EndpointInfo {
  /** Canonical address. */
  readonly ip: string;
  readonly port: number;
  /** `IP:port`, or `[IPv6]:port`: the endpoint's identity and its DNAT target. */
  readonly endpoint: string;
  /** `nodeName` equals the proxier's node name. */
  readonly isLocal: boolean;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  /** `hints.forZones[].name`, or undefined when the endpoint has none. */
  readonly zoneHints: ReadonlySet<string> | undefined;
  /** `hints.forNodes[].name` (PreferSameTrafficDistribution gate only), or undefined. */
  readonly nodeHints: ReadonlySet<string> | undefined;
}

/** Endpoints of one Service, by service-port key (`ns/name:port/PROTOCOL`), each list sorted. */
export type ServiceEndpoints = ReadonlyMap<string, readonly EndpointInfo[]>;

/** Options for {@link buildServiceEndpoints}. */
export interface BuildEndpointsOptions {
  readonly family: IpFamily;
  /** The proxier's node: endpoints with this `nodeName` are local. */
  readonly nodeName: string;
  readonly featureGates?: ProxyFeatureGates;
}

/** Go's `net.JoinHostPort`: brackets around a host holding a colon. */
function endpointString(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function byEndpoint(a: EndpointInfo, b: EndpointInfo): number {
  return a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0;
}

/**
 * The endpoints of one Service, from its EndpointSlices, as kube-proxy's EndpointSliceCache
 * computes them.
 *
 * @remarks
 * - Slices of another address type than the proxier's family are ignored.
 * - Slice ports are keyed by name and protocol; the endpoint port number comes from the slice.
 *   Ports without a number (or 0) are ignored.
 * - Only `addresses[0]` is used, through the sloppy parser; endpoints without addresses are
 *   ignored. Condition defaults: ready and serving true, terminating false.
 * - The same `IP:port` seen twice (an endpoint moving between slices, or an IP reused by a new
 *   pod) is kept once, preferring a non-terminating one. Slices are read in name order.
 * - Each list is sorted by the `IP:port` string (so `10.1.1.11:11` comes before `10.1.1.1:11`).
 * - Linux equivalent: none.
 * @see kubernetes pkg/proxy/endpointslicecache.go endpointInfoByServicePort, addEndpoints, endpointsMapFromEndpointInfo
 * @see /work/shared/facts/kube-proxy.md section 1.2
 * @example
 * ```ts
 * import { buildServiceEndpoints } from '@knet/kube-proxy';
 * const eps = buildServiceEndpoints(
 *   [{ namespace: 'ns1', name: 'svc1-1', serviceName: 'svc1', addressType: 'IPv4',
 *      ports: [{ name: 'p80', port: 80, protocol: 'TCP' }], endpoints: [{ addresses: ['10.180.0.1'] }] }],
 *   { family: 'IPv4', nodeName: 'node-a' });
 * eps.get('ns1/svc1:p80/TCP')?.[0]?.endpoint; // '10.180.0.1:80'
 * ```
 */
export function buildServiceEndpoints(slices: readonly ProxyEndpointSlice[], options: BuildEndpointsOptions): Map<string, EndpointInfo[]> {
  const { family, nodeName } = options;
  const nodeHintsEnabled = options.featureGates?.preferSameTrafficDistribution ?? false;
  const sets = new Map<string, Map<string, EndpointInfo>>();
  const ordered = slices.length > 1 ? [...slices].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) : slices;
  for (const slice of ordered) {
    if (slice.addressType !== family) continue;
    const serviceKey = `${slice.namespace}/${slice.serviceName}`;
    for (const port of slice.ports) {
      if (port.port === undefined || port.port === 0) continue;
      const portName = port.name ?? '';
      const key = `${portName === '' ? serviceKey : `${serviceKey}:${portName}`}/${port.protocol ?? 'TCP'}`;
      let set = sets.get(key);
      if (set === undefined) {
        set = new Map();
        sets.set(key, set);
      }
      for (const ep of slice.endpoints) {
        const first = ep.addresses[0];
        if (first === undefined) continue;
        const ip = formatIpSloppy(first);
        if (ip === undefined) continue;
        const terminating = ep.terminating === true;
        const endpoint = endpointString(ip, port.port);
        if (terminating && set.has(endpoint)) continue;
        const hints = ep.hints;
        const zones = hints?.forZones;
        const nodes = hints?.forNodes;
        set.set(endpoint, {
          ip,
          port: port.port,
          endpoint,
          isLocal: nodeName !== '' && ep.nodeName === nodeName,
          ready: ep.ready ?? true,
          serving: ep.serving ?? true,
          terminating,
          zoneHints: zones !== undefined && zones.length > 0 ? new Set(zones) : undefined,
          nodeHints: nodeHintsEnabled && nodes !== undefined && nodes.length > 0 ? new Set(nodes) : undefined,
        });
      }
    }
  }
  const out = new Map<string, EndpointInfo[]>();
  for (const [key, set] of sets) {
    if (set.size === 0) continue;
    out.set(key, [...set.values()].sort(byEndpoint));
  }
  return out;
}

/**
 * Groups EndpointSlices by their Service (`namespace/serviceName`), keeping input order.
 *
 * @remarks Linux equivalent: none.
 * @example
 * ```ts
 * import { groupSlicesByService } from '@knet/kube-proxy';
 * const groups = groupSlicesByService([{ namespace: 'ns', name: 's-1', serviceName: 's', addressType: 'IPv4', ports: [], endpoints: [] }]);
 * [...groups.keys()]; // ['ns/s']
 * ```
 */
export function groupSlicesByService(slices: readonly ProxyEndpointSlice[]): Map<string, ProxyEndpointSlice[]> {
  const out = new Map<string, ProxyEndpointSlice[]>();
  for (const s of slices) {
    const key = `${s.namespace}/${s.serviceName}`;
    const list = out.get(key);
    if (list === undefined) out.set(key, [s]);
    else list.push(s);
  }
  return out;
}

/**
 * The whole endpoints map (upstream `EndpointsMap`): every service port named by some
 * EndpointSlice, whether or not a Service has that port, keyed by `ns/name:port/PROTOCOL`.
 *
 * @remarks Linux equivalent: none.
 * @see kubernetes pkg/proxy/endpointschangetracker.go EndpointsMap
 * @example
 * ```ts
 * import { buildEndpointsMap } from '@knet/kube-proxy';
 * const map = buildEndpointsMap(
 *   [{ namespace: 'ns1', name: 'ep1-1', serviceName: 'ep1', addressType: 'IPv4', ports: [{ name: 'p11', port: 11, protocol: 'UDP' }],
 *      endpoints: [{ addresses: ['10.1.1.1'] }, { addresses: ['10.1.1.11'] }] }],
 *   { family: 'IPv4', nodeName: 'test-node' });
 * map.get('ns1/ep1:p11/UDP')?.map((e) => e.endpoint); // ['10.1.1.11:11', '10.1.1.1:11'] (a string sort)
 * ```
 */
export function buildEndpointsMap(slices: readonly ProxyEndpointSlice[], options: BuildEndpointsOptions): Map<string, EndpointInfo[]> {
  const out = new Map<string, EndpointInfo[]>();
  for (const group of groupSlicesByService(slices).values()) {
    for (const [key, eps] of buildServiceEndpoints(group, options)) out.set(key, eps);
  }
  return out;
}

/**
 * The number of distinct local, ready endpoint IPs per Service (`namespace/name`): what
 * kube-proxy's health-check server reports for a `healthCheckNodePort`.
 *
 * @remarks
 * Linux equivalent: none; `GET :<healthCheckNodePort>/` answers 200 with `localEndpoints: N`
 * when N > 0, else 503. Terminating or not-ready endpoints do not count.
 * @see kubernetes pkg/proxy/endpointschangetracker.go LocalReadyEndpoints
 * @example
 * ```ts
 * import { buildEndpointsMap, localReadyEndpoints } from '@knet/kube-proxy';
 * const map = buildEndpointsMap(
 *   [{ namespace: 'ns', name: 's-1', serviceName: 's', addressType: 'IPv4', ports: [{ name: 'a', port: 1 }, { name: 'b', port: 2 }],
 *      endpoints: [{ addresses: ['10.244.1.5'], nodeName: 'node-a' }] }],
 *   { family: 'IPv4', nodeName: 'node-a' });
 * localReadyEndpoints(map).get('ns/s'); // 1 (one IP, whatever the number of ports)
 * ```
 */
export function localReadyEndpoints(endpointsMap: ReadonlyMap<string, readonly EndpointInfo[]>): Map<string, number> {
  const ips = new Map<string, Set<string>>();
  for (const [key, eps] of endpointsMap) {
    const serviceKey = serviceKeyOfPortKey(key);
    for (const ep of eps) {
      if (!ep.isLocal || !ep.ready) continue;
      let set = ips.get(serviceKey);
      if (set === undefined) {
        set = new Set();
        ips.set(serviceKey, set);
      }
      set.add(ep.ip);
    }
  }
  const out = new Map<string, number>();
  for (const [k, set] of ips) out.set(k, set.size);
  return out;
}

/** `ns/name` from a service-port key `ns/name[:port]/PROTOCOL`. */
function serviceKeyOfPortKey(key: string): string {
  const withoutProto = key.slice(0, key.lastIndexOf('/'));
  const slash = withoutProto.indexOf('/');
  const colon = withoutProto.indexOf(':', slash);
  return colon < 0 ? withoutProto : withoutProto.slice(0, colon);
}
