import { parseCidrSloppy, parseIpSloppy } from '../ip/parse-ip-sloppy.js';
import type { IpFamily, ParsedCidr } from '../ip/parse-ip-sloppy.js';
import type { ProxyService } from './proxy-input.js';

/** The default `sessionAffinityConfig.clientIP.timeoutSeconds`. */
export const DEFAULT_STICKY_MAX_AGE_SECONDS = 10800;

/** Feature gates that change how kube-proxy reads Services and EndpointSlices. */
export interface ProxyFeatureGates {
  /** LoadBalancerIPMode (GA in 1.32, locked on): ingress with `ipMode: Proxy` is ignored. Default true. */
  readonly loadBalancerIPMode?: boolean;
  /** PreferSameTrafficDistribution: endpoint `hints.forNodes` are read. Default false (alpha in 1.33). */
  readonly preferSameTrafficDistribution?: boolean;
}

/**
 * One service port as a single-family proxier sees it (upstream `BaseServicePortInfo` plus the
 * port's name).
 */
export interface ServicePortInfo {
  readonly namespace: string;
  readonly name: string;
  /** `namespace/name`, the key of the Service. */
  readonly serviceKey: string;
  /** The port's name, `''` when unnamed. */
  readonly portName: string;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  /** `ns/name:port`, or `ns/name` for an unnamed port (upstream `ServicePortName.String()`). */
  readonly nameString: string;
  /** `nameString/PROTOCOL`: the map key of the service port (name and protocol). */
  readonly key: string;
  /** Canonical cluster IP of the proxier's family. */
  readonly clusterIP: string;
  readonly port: number;
  /** 0 when the port has no node port. */
  readonly nodePort: number;
  /** Of the proxier's family, canonical, in spec order. */
  readonly externalIPs: readonly string[];
  /** VIP-mode LB ingress IPs of the proxier's family, canonical, in status order. */
  readonly loadBalancerVIPs: readonly string[];
  /** Trimmed, parsed, of the proxier's family, network address form. */
  readonly loadBalancerSourceRanges: readonly ParsedCidr[];
  readonly sessionAffinityClientIP: boolean;
  /** The ClientIP affinity timeout; 0 without ClientIP affinity. */
  readonly stickyMaxAgeSeconds: number;
  /** Only for type LoadBalancer with externalTrafficPolicy Local; else 0. */
  readonly healthCheckNodePort: number;
  readonly externalPolicyLocal: boolean;
  readonly internalPolicyLocal: boolean;
  /** nodePort, an external IP or an LB VIP. */
  readonly externallyAccessible: boolean;
  /** iTP Cluster, or externally accessible (short-circuiting needs Cluster endpoints). */
  readonly usesClusterEndpoints: boolean;
  /** iTP Local, or externally accessible with eTP Local. */
  readonly usesLocalEndpoints: boolean;
}

/** `proxyutil.GetClusterIPByFamily` without `spec.ipFamilies` (knet's Services carry none). */
function clusterIPByFamily(service: ProxyService, family: IpFamily): string | undefined {
  const candidates = service.clusterIPs !== undefined && service.clusterIPs.length > 0 ? service.clusterIPs : [service.clusterIP ?? ''];
  for (const ip of candidates) {
    if (ip === '' || ip === 'None') continue;
    const parsed = parseIpSloppy(ip);
    if (parsed !== undefined && parsed.family === family) return parsed.text;
  }
  return undefined;
}

/**
 * The service ports a single-family kube-proxy builds from a Service: none for a headless
 * Service (`clusterIP` empty or `None`), an ExternalName Service, or one without a cluster IP of
 * the proxier's family; otherwise one per `spec.ports` entry, in spec order.
 *
 * @remarks
 * - Addresses go through the sloppy parser and are filtered by family: external IPs, LB ingress
 *   IPs and source ranges of the other family (or unparsable) are dropped silently; source
 *   ranges are trimmed first.
 * - LB ingress with `ipMode: Proxy` is ignored (LoadBalancerIPMode gate, on by default).
 * - externalTrafficPolicy Local counts only for types NodePort and LoadBalancer, and ClusterIP
 *   with external IPs (`apiservice.ExternalPolicyLocal`); the health-check node port only for
 *   type LoadBalancer with that policy (`NeedsHealthCheck`).
 * - `spec.type` decides nothing else: a node port exists iff `nodePort` is set.
 * - Linux equivalent: none; this is kube-proxy's ServiceChangeTracker.
 * @see kubernetes pkg/proxy/serviceport.go newBaseServiceInfo
 * @see kubernetes pkg/proxy/servicechangetracker.go serviceToServiceMap
 * @see kubernetes pkg/api/v1/service/util.go ExternallyAccessible, ExternalPolicyLocal, NeedsHealthCheck
 * @see /work/shared/facts/kube-proxy.md section 1.1
 * @example
 * ```ts
 * import { buildServicePorts } from '@knet/kube-proxy';
 * const [p] = buildServicePorts({ namespace: 'ns1', name: 'svc1', clusterIP: '172.30.0.041', ports: [{ name: 'p80', protocol: 'TCP', port: 80 }] }, 'IPv4');
 * p?.clusterIP; // '172.30.0.41'
 * p?.nameString; // 'ns1/svc1:p80'
 * ```
 */
export function buildServicePorts(service: ProxyService, family: IpFamily, gates: ProxyFeatureGates = {}): ServicePortInfo[] {
  const type = service.type ?? 'ClusterIP';
  if (type === 'ExternalName') return [];
  const specClusterIP = service.clusterIP ?? service.clusterIPs?.[0] ?? '';
  if (specClusterIP === '' || specClusterIP === 'None') return [];
  const clusterIP = clusterIPByFamily(service, family);
  if (clusterIP === undefined) return [];

  const externalIPs: string[] = [];
  for (const text of service.externalIPs ?? []) {
    const ip = parseIpSloppy(text);
    if (ip !== undefined && ip.family === family) externalIPs.push(ip.text);
  }
  const sourceRanges: ParsedCidr[] = [];
  for (const text of service.loadBalancerSourceRanges ?? []) {
    const cidr = parseCidrSloppy(text.trim());
    if (cidr !== undefined && cidr.family === family) sourceRanges.push(cidr);
  }
  const vips: string[] = [];
  const ipModeGate = gates.loadBalancerIPMode ?? true;
  if (service.loadBalancerIngress !== undefined) {
    for (const ing of service.loadBalancerIngress) {
      if (ing.ip === undefined || ing.ip === '') continue;
      if (ipModeGate && ing.ipMode === 'Proxy') continue;
      const ip = parseIpSloppy(ing.ip);
      if (ip !== undefined && ip.family === family) vips.push(ip.text);
    }
  } else {
    for (const text of service.loadBalancerIPs ?? []) {
      const ip = parseIpSloppy(text);
      if (ip !== undefined && ip.family === family) vips.push(ip.text);
    }
  }

  const typeExternallyAccessible =
    type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && (service.externalIPs?.length ?? 0) > 0);
  const externalPolicyLocal = typeExternallyAccessible && service.externalTrafficPolicy === 'Local';
  const internalPolicyLocal = service.internalTrafficPolicy === 'Local';
  const clientIP = service.sessionAffinity === 'ClientIP';
  const healthCheckNodePort = type === 'LoadBalancer' && externalPolicyLocal ? (service.healthCheckNodePort ?? 0) : 0;
  const serviceKey = `${service.namespace}/${service.name}`;

  return service.ports.map((p) => {
    const portName = p.name ?? '';
    const nameString = portName === '' ? serviceKey : `${serviceKey}:${portName}`;
    const nodePort = p.nodePort ?? 0;
    const externallyAccessible = nodePort !== 0 || vips.length > 0 || externalIPs.length > 0;
    return {
      namespace: service.namespace,
      name: service.name,
      serviceKey,
      portName,
      protocol: p.protocol,
      nameString,
      key: `${nameString}/${p.protocol}`,
      clusterIP,
      port: p.port,
      nodePort,
      externalIPs,
      loadBalancerVIPs: vips,
      loadBalancerSourceRanges: sourceRanges,
      sessionAffinityClientIP: clientIP,
      stickyMaxAgeSeconds: clientIP ? (service.sessionAffinityTimeout ?? DEFAULT_STICKY_MAX_AGE_SECONDS) : 0,
      healthCheckNodePort,
      externalPolicyLocal,
      internalPolicyLocal,
      externallyAccessible,
      usesClusterEndpoints: !internalPolicyLocal || externallyAccessible,
      usesLocalEndpoints: internalPolicyLocal || (externalPolicyLocal && externallyAccessible),
    };
  });
}

/**
 * A string that is equal for two service-port lists exactly when upstream's
 * `reflect.DeepEqual` of the processed service maps is (what makes a Service "changed" for a
 * partial sync).
 *
 * @remarks Linux equivalent: none.
 * @see kubernetes pkg/proxy/servicechangetracker.go Update
 * @example
 * ```ts
 * import { buildServicePorts, servicePortsFingerprint } from '@knet/kube-proxy';
 * const a = buildServicePorts({ namespace: 'ns', name: 's', clusterIP: '10.96.0.1', ports: [{ protocol: 'TCP', port: 80 }] }, 'IPv4');
 * const b = buildServicePorts({ namespace: 'ns', name: 's', clusterIP: '10.96.0.01', ports: [{ protocol: 'TCP', port: 80 }] }, 'IPv4');
 * servicePortsFingerprint(a) === servicePortsFingerprint(b); // true: the same cluster IP once parsed
 * ```
 */
export function servicePortsFingerprint(ports: readonly ServicePortInfo[]): string {
  return JSON.stringify(ports, (k, v: unknown) => (k === 'bytes' ? undefined : v));
}
