import type { ClusterEndpointSlice, SliceEndpoint } from '../cluster/cluster-state.js';
import { SeededRng } from '../util/seeded-rng.js';
import { manifestWarning } from './manifest-context.js';
import type { ManifestContext } from './manifest-context.js';
import type { EndpointsAddress, EndpointsPort, EndpointsSubset, ValidatedEndpoints } from './validate-endpoints.js';

/** The `endpointslice.kubernetes.io/managed-by` value of mirrored slices. */
export const MIRRORING_CONTROLLER_NAME = 'endpointslicemirroring-controller.k8s.io';

/** The label that stops an Endpoints object from being mirrored when `"true"`. */
export const LABEL_SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';

/** The leader-election annotation; Endpoints carrying it are never mirrored. */
export const LEADER_ELECTION_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

/** kube-controller-manager's `--mirroring-max-endpoints-per-subset` default. */
export const DEFAULT_MIRRORING_MAX_ENDPOINTS_PER_SUBSET = 1000;

/** The characters the API server's `generateName` suffix is drawn from (no vowels). */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Options for {@link mirrorEndpoints}. */
export interface MirrorEndpointsOptions {
  /** At most this many addresses of each subset are mirrored (default 1000). */
  readonly maxEndpointsPerSubset?: number;
}

/**
 * True when the EndpointSliceMirroring controller would mirror this Endpoints object at all:
 * not labelled `endpointslice.kubernetes.io/skip-mirror: "true"` and without the
 * leader-election annotation. (The controller also requires a Service of the same name without
 * a selector; the caller checks that.)
 *
 * @see kubernetes pkg/controller/endpointslicemirroring/endpointslicemirroring_controller.go shouldMirror
 */
export function shouldMirrorEndpoints(endpoints: ValidatedEndpoints): boolean {
  return endpoints.labels[LABEL_SKIP_MIRROR] !== 'true' && endpoints.annotations[LEADER_ELECTION_ANNOTATION] === undefined;
}

/**
 * Converts a core/v1 Endpoints object into EndpointSlices the way kube-controller-manager's
 * EndpointSliceMirroring controller does.
 *
 * @remarks
 * - The subsets are first repacked into canonical form (`RepackSubsets`): addresses are grouped
 *   by the exact set of ports they serve; an address listed both ready and not ready for a port
 *   counts as not ready ("not ready always trumps ready"); addresses are de-duplicated by IP and
 *   target UID and sorted by IP (byte order), then UID.
 * - Each repacked subset gives one slice per address family: `addresses` become endpoints with
 *   `ready: true`, `notReadyAddresses` endpoints with `ready: false`. The controller leaves
 *   `serving` and `terminating` unset, which kube-proxy reads as serving and not terminating.
 *   `nodeName` and `targetRef` are copied; ports keep name, number and protocol.
 * - At most `maxEndpointsPerSubset` addresses per subset are mirrored (ready ones first), as
 *   the controller does; the rest are dropped with a warning.
 * - Names: the controller creates slices with `generateName: <endpoints name>-` and the API
 *   server appends 5 random characters from `bcdfghjklmnpqrstvwxz2456789`. knet derives those 5
 *   characters from a seeded hash of `<namespace>/<name>#<slice index>`, so the names look like
 *   the real ones (`db-external-x7k2p`) and are the same on every run. The prefix is cut to 58
 *   characters, as the API server's name generator does.
 * - Ordering: upstream sorts repacked subsets by an MD5 of their Go representation and fills
 *   slices from a set in random order; knet keeps the subsets' first-seen port order and the
 *   sorted address order, so output is deterministic.
 * - Linux equivalent: none.
 * @see kubernetes pkg/controller/endpointslicemirroring/reconciler.go reconcile
 * @see kubernetes pkg/controller/endpointslicemirroring/utils.go newEndpointSlice, addressToEndpoint
 * @see kubernetes pkg/api/v1/endpoints/util.go RepackSubsets
 * @see kubernetes staging/src/k8s.io/apiserver/pkg/storage/names/generate.go SimpleNameGenerator
 * @example
 * ```ts
 * import { mirrorEndpoints, validateEndpoints } from '@knet/core';
 * const ctx = { source: { file: 'ep.yaml', document: 0 }, warnings: [] };
 * const ep = validateEndpoints(ctx, {
 *   apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'db', namespace: 'shop' },
 *   subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'pg', port: 5432 }] }],
 * });
 * mirrorEndpoints(ctx, ep)[0]?.endpoints[0]?.ready; // true
 * ```
 */
export function mirrorEndpoints(
  ctx: ManifestContext,
  endpoints: ValidatedEndpoints,
  options: MirrorEndpointsOptions = {},
): ClusterEndpointSlice[] {
  const max = options.maxEndpointsPerSubset ?? DEFAULT_MIRRORING_MAX_ENDPOINTS_PER_SUBSET;
  const slices: ClusterEndpointSlice[] = [];
  let skipped = 0;
  for (const subset of repackSubsets(endpoints.subsets)) {
    const byFamily = new Map<'IPv4' | 'IPv6', SliceEndpoint[]>();
    let added = 0;
    const add = (a: EndpointsAddress, ready: boolean): void => {
      if (added >= max) {
        skipped++;
        return;
      }
      added++;
      let list = byFamily.get(a.family);
      if (list === undefined) byFamily.set(a.family, (list = []));
      list.push({
        addresses: [a.ip],
        ready,
        serving: true,
        terminating: false,
        ...(a.nodeName === undefined ? {} : { nodeName: a.nodeName }),
        ...(a.targetRef === undefined
          ? {}
          : {
              targetRef: {
                kind: a.targetRef.kind,
                ...(a.targetRef.namespace === undefined ? {} : { namespace: a.targetRef.namespace }),
                name: a.targetRef.name,
              },
            }),
      });
    };
    for (const a of subset.addresses) add(a, true);
    for (const a of subset.notReadyAddresses) add(a, false);
    const ports = subset.ports.map((p) => ({ ...(p.name === '' ? {} : { name: p.name }), port: p.port, protocol: p.protocol }));
    for (const family of ['IPv4', 'IPv6'] as const) {
      const list = byFamily.get(family);
      if (list === undefined) continue;
      slices.push({
        namespace: endpoints.namespace,
        name: generatedSliceName(endpoints.namespace, endpoints.name, slices.length),
        serviceName: endpoints.name,
        addressType: family,
        ports,
        endpoints: list,
        fromEndpoints: true,
        source: endpoints.source,
      });
    }
  }
  if (skipped > 0) {
    manifestWarning(
      ctx,
      'subsets',
      `A max of ${max} addresses can be mirrored to EndpointSlices per Endpoints subset. ${skipped} addresses were skipped`,
    );
  }
  return slices;
}

/** `<prefix>` + 5 characters, deterministic per Endpoints object and slice index. */
function generatedSliceName(namespace: string, name: string, index: number): string {
  const prefix = `${name}-`.slice(0, 58);
  const rng = new SeededRng(`${namespace}/${name}#${index}`);
  let suffix = '';
  while (suffix.length < 5) {
    const r = rng.nextU32() & 31;
    if (r < NAME_ALPHABET.length) suffix += NAME_ALPHABET[r];
  }
  return prefix + suffix;
}

interface RepackedSubset {
  readonly addresses: EndpointsAddress[];
  readonly notReadyAddresses: EndpointsAddress[];
  readonly ports: EndpointsPort[];
}

/** `RepackSubsets`: canonical subsets, one per distinct set of (address, readiness). */
function repackSubsets(subsets: readonly EndpointsSubset[]): RepackedSubset[] {
  const addressByKey = new Map<string, EndpointsAddress>();
  const portByKey = new Map<string, EndpointsPort>();
  // port key → (address key → ready)
  const readyByPort = new Map<string, Map<string, boolean>>();
  const map = (a: EndpointsAddress, portKey: string, ready: boolean): void => {
    const key = `${a.ip}\u0000${a.targetRef?.uid ?? ''}`;
    if (!addressByKey.has(key)) addressByKey.set(key, a);
    let set = readyByPort.get(portKey);
    if (set === undefined) readyByPort.set(portKey, (set = new Map()));
    const was = set.get(key);
    if (was === undefined || was) set.set(key, ready);
  };
  for (const s of subsets) {
    for (const p of s.ports) {
      const portKey = JSON.stringify([p.name, p.port, p.protocol, p.appProtocol ?? null]);
      if (!portByKey.has(portKey)) portByKey.set(portKey, p);
      for (const a of s.addresses) map(a, portKey, true);
      for (const a of s.notReadyAddresses) map(a, portKey, false);
    }
  }
  const groups = new Map<string, { set: Map<string, boolean>; ports: EndpointsPort[] }>();
  for (const [portKey, set] of readyByPort) {
    const keys = [...set.keys()].sort(compareAddressKeys);
    const groupKey = keys.map((k) => `${k}=${set.get(k) === true ? 1 : 0}`).join('\u0001');
    let g = groups.get(groupKey);
    if (g === undefined) groups.set(groupKey, (g = { set, ports: [] }));
    const port = portByKey.get(portKey);
    if (port !== undefined) g.ports.push(port);
  }
  const out: RepackedSubset[] = [];
  for (const g of groups.values()) {
    const ready: EndpointsAddress[] = [];
    const notReady: EndpointsAddress[] = [];
    for (const key of [...g.set.keys()].sort(compareAddressKeys)) {
      const a = addressByKey.get(key);
      if (a === undefined) continue;
      (g.set.get(key) === true ? ready : notReady).push(a);
    }
    out.push({ addresses: ready, notReadyAddresses: notReady, ports: g.ports });
  }
  return out;
}

/** `LessEndpointAddress`: by IP bytes, then target UID. Keys are `ip NUL uid`. */
function compareAddressKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
