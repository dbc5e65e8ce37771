import type { ClusterService, ServicePort } from '../cluster/cluster-state.js';
import { cidrContains, formatIpv4Cidr } from '../ip/ipv4.js';
import type { Ipv4Cidr } from '../ip/ipv4.js';
import { manifestError, manifestWarning } from './manifest-context.js';
import type { ManifestContext } from './manifest-context.js';
import {
  looksLikeIpv6,
  optArray,
  optEnum,
  optInt,
  optObject,
  optString,
  readIpv4,
  readIpv4Cidr,
  readLabels,
  readPortNumberOrName,
  readProtocol,
} from './manifest-fields.js';
import type { ManifestObject } from './manifest-fields.js';
import { validateMetadata } from './validate-metadata.js';

const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;
const TRAFFIC_POLICIES = ['Cluster', 'Local'] as const;
const AFFINITIES = ['None', 'ClientIP'] as const;

/** The default `sessionAffinityConfig.clientIP.timeoutSeconds` (3 hours). */
export const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10800;

/** A Service as validated: a {@link ClusterService} plus the numeric cluster IP. */
export interface ValidatedService {
  readonly service: ClusterService;
  /** The IPv4 cluster IP as an unsigned 32-bit number (absent for headless and unallocated). */
  readonly clusterIPValue?: number;
}

/**
 * Validates a Service (`v1`) and applies the API server's defaults: `type` ClusterIP, port
 * `protocol` TCP, `targetPort` = `port`, `sessionAffinity` None (ClientIP timeout 10800 s),
 * `externalTrafficPolicy` and `internalTrafficPolicy` Cluster.
 *
 * @remarks
 * - `clusterIP` must be an IPv4 address inside `serviceCidr` (`--service-cluster-ip-range`), or
 *   `None` (headless); absent means not yet allocated. `clusterIPs[0]` must equal `clusterIP`.
 * - Ports need a `name` when there are several, and names must be unique (API validation).
 * - LoadBalancer IPs come from `status.loadBalancer.ingress[].ip`; an ingress with
 *   `ipMode: Proxy` is left out with a warning, as kube-proxy does not program it.
 * - An empty `selector` counts as none: the API server does not store empty maps.
 * - Linux equivalent: none; this is what kube-proxy reads.
 * @throws KnetError `EINVAL` naming the field (`spec.clusterIP`, `spec.ports[0].targetPort`, ...).
 * @see kubernetes pkg/apis/core/v1/defaults.go SetDefaults_Service
 * @see kubernetes pkg/apis/core/validation/validation.go ValidateService
 */
export function validateService(ctx: ManifestContext, object: ManifestObject, serviceCidr: Ipv4Cidr): ValidatedService {
  const meta = validateMetadata(ctx, object, true);
  const spec = optObject(ctx, object['spec'], 'spec') ?? {};
  const status = optObject(ctx, object['status'], 'status') ?? {};
  const type = optEnum(ctx, spec['type'], 'spec.type', SERVICE_TYPES) ?? 'ClusterIP';

  const portList = optArray(ctx, spec['ports'], 'spec.ports') ?? [];
  const ports: ServicePort[] = [];
  const names = new Set<string>();
  for (let i = 0; i < portList.length; i++) {
    const f = `spec.ports[${i}]`;
    const p = optObject(ctx, portList[i], f);
    if (p === undefined) throw manifestError(ctx.source, f, 'expected a port object');
    const name = optString(ctx, p['name'], `${f}.name`);
    if (name === undefined && portList.length > 1) {
      throw manifestError(ctx.source, `${f}.name`, 'a port name is required when the Service has more than one port');
    }
    if (name !== undefined) {
      if (names.has(name)) throw manifestError(ctx.source, `${f}.name`, `duplicate port name "${name}"`);
      names.add(name);
    }
    const port = optInt(ctx, p['port'], `${f}.port`, 1, 65535);
    if (port === undefined) throw manifestError(ctx.source, `${f}.port`, 'required value is missing');
    const protocol = readProtocol(ctx, p['protocol'], `${f}.protocol`);
    const targetPort = readPortNumberOrName(ctx, p['targetPort'], `${f}.targetPort`) ?? port;
    const nodePort = p['nodePort'] === 0 ? undefined : optInt(ctx, p['nodePort'], `${f}.nodePort`, 1, 65535);
    const appProtocol = optString(ctx, p['appProtocol'], `${f}.appProtocol`);
    ports.push({
      ...(name === undefined ? {} : { name }),
      protocol,
      port,
      targetPort,
      ...(nodePort === undefined ? {} : { nodePort }),
      ...(appProtocol === undefined ? {} : { appProtocol }),
    });
  }

  let clusterIP = optString(ctx, spec['clusterIP'], 'spec.clusterIP');
  const clusterIPsIn = optArray(ctx, spec['clusterIPs'], 'spec.clusterIPs') ?? [];
  const clusterIPs: string[] = [];
  for (let i = 0; i < clusterIPsIn.length; i++) {
    const f = `spec.clusterIPs[${i}]`;
    const ip = optString(ctx, clusterIPsIn[i], f);
    if (ip === undefined) continue;
    if (ip !== 'None' && !looksLikeIpv6(ip)) readIpv4(ctx, ip, f);
    clusterIPs.push(ip);
  }
  if (clusterIP === undefined && clusterIPs[0] !== undefined) clusterIP = clusterIPs[0];
  if (clusterIP !== undefined && clusterIPs[0] !== undefined && clusterIPs[0] !== clusterIP) {
    throw manifestError(ctx.source, 'spec.clusterIPs[0]', `must match spec.clusterIP "${clusterIP}"`);
  }
  if (clusterIP !== undefined && clusterIPs.length === 0) clusterIPs.push(clusterIP);
  let clusterIPValue: number | undefined;
  if (clusterIP !== undefined && type === 'ExternalName') {
    throw manifestError(ctx.source, 'spec.clusterIP', 'must be empty for an ExternalName Service');
  }
  if (clusterIP !== undefined && clusterIP !== 'None') {
    const field = spec['clusterIP'] === undefined || spec['clusterIP'] === '' ? 'spec.clusterIPs[0]' : 'spec.clusterIP';
    if (looksLikeIpv6(clusterIP)) throw manifestError(ctx.source, field, `knet models IPv4 only; got "${clusterIP}"`);
    clusterIPValue = readIpv4(ctx, clusterIP, field).value;
    if (!cidrContains(serviceCidr, clusterIPValue)) {
      throw manifestError(
        ctx.source,
        field,
        `cluster IP ${clusterIP} is not in the service CIDR ${formatIpv4Cidr(serviceCidr)}`,
        'EINVAL',
        { serviceCIDR: formatIpv4Cidr(serviceCidr) },
      );
    }
  }

  const externalIPs = readIpList(ctx, spec['externalIPs'], 'spec.externalIPs');
  const sourceRanges: string[] = [];
  const rangesIn = optArray(ctx, spec['loadBalancerSourceRanges'], 'spec.loadBalancerSourceRanges') ?? [];
  for (let i = 0; i < rangesIn.length; i++) {
    const f = `spec.loadBalancerSourceRanges[${i}]`;
    const text = optString(ctx, rangesIn[i], f)?.trim();
    if (text === undefined || text === '') continue;
    if (!looksLikeIpv6(text)) readIpv4Cidr(ctx, text, f, false);
    sourceRanges.push(text);
  }

  const loadBalancerIPs: string[] = [];
  const lb = optObject(ctx, status['loadBalancer'], 'status.loadBalancer') ?? {};
  const ingress = optArray(ctx, lb['ingress'], 'status.loadBalancer.ingress') ?? [];
  for (let i = 0; i < ingress.length; i++) {
    const f = `status.loadBalancer.ingress[${i}]`;
    const entry = optObject(ctx, ingress[i], f) ?? {};
    const ip = optString(ctx, entry['ip'], `${f}.ip`);
    if (ip === undefined) continue;
    if (!looksLikeIpv6(ip)) readIpv4(ctx, ip, `${f}.ip`);
    if (optString(ctx, entry['ipMode'], `${f}.ipMode`) === 'Proxy') {
      manifestWarning(ctx, `${f}.ipMode`, `load balancer IP ${ip} has ipMode Proxy; kube-proxy does not program it`);
      continue;
    }
    loadBalancerIPs.push(ip);
  }

  const externalName = optString(ctx, spec['externalName'], 'spec.externalName');
  if (type === 'ExternalName' && externalName === undefined) {
    throw manifestError(ctx.source, 'spec.externalName', 'required for an ExternalName Service');
  }
  const sessionAffinity = optEnum(ctx, spec['sessionAffinity'], 'spec.sessionAffinity', AFFINITIES) ?? 'None';
  const affinityConfig = optObject(ctx, spec['sessionAffinityConfig'], 'spec.sessionAffinityConfig') ?? {};
  const clientIP = optObject(ctx, affinityConfig['clientIP'], 'spec.sessionAffinityConfig.clientIP') ?? {};
  const sessionAffinityTimeout =
    optInt(ctx, clientIP['timeoutSeconds'], 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', 1, 86400) ??
    DEFAULT_CLIENT_IP_TIMEOUT_SECONDS;
  const externalTrafficPolicy =
    optEnum(ctx, spec['externalTrafficPolicy'], 'spec.externalTrafficPolicy', TRAFFIC_POLICIES) ?? 'Cluster';
  const internalTrafficPolicy =
    optEnum(ctx, spec['internalTrafficPolicy'], 'spec.internalTrafficPolicy', TRAFFIC_POLICIES) ?? 'Cluster';
  const healthCheckNodePort = optInt(ctx, spec['healthCheckNodePort'], 'spec.healthCheckNodePort', 1, 65535);
  const selector = readLabels(ctx, spec['selector'], 'spec.selector');

  const service: ClusterService = {
    namespace: meta.namespace,
    name: meta.name,
    labels: meta.labels,
    type,
    ...(clusterIP === undefined ? {} : { clusterIP }),
    clusterIPs,
    ...(Object.keys(selector).length === 0 ? {} : { selector }),
    ports,
    externalIPs,
    loadBalancerIPs,
    loadBalancerSourceRanges: sourceRanges,
    externalTrafficPolicy,
    internalTrafficPolicy,
    sessionAffinity,
    sessionAffinityTimeout,
    ...(healthCheckNodePort === undefined ? {} : { healthCheckNodePort }),
    ...(externalName === undefined ? {} : { externalName }),
    source: ctx.source,
  };
  return clusterIPValue === undefined ? { service } : { service, clusterIPValue };
}

function readIpList(ctx: ManifestContext, v: unknown, field: string): string[] {
  const list = optArray(ctx, v, field) ?? [];
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const f = `${field}[${i}]`;
    const ip = optString(ctx, list[i], f);
    if (ip === undefined) continue;
    if (!looksLikeIpv6(ip)) readIpv4(ctx, ip, f);
    out.push(ip);
  }
  return out;
}
