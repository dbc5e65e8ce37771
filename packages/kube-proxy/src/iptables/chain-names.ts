import { sha256Words } from './sha256.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** First 16 characters of RFC 4648 base32 (upper case) of SHA-256(text): the first 80 bits. */
function hash16(text: string): string {
  const h = sha256Words(text);
  // 80 bits: all of words 0 and 1, the top 16 bits of word 2; 5 bits per character.
  const w0 = (h[0] as number) >>> 0;
  const w1 = (h[1] as number) >>> 0;
  const w2 = (h[2] as number) >>> 16;
  const c = (v: number): string => BASE32.charAt(v & 31);
  return (
    c(w0 >>> 27) + c(w0 >>> 22) + c(w0 >>> 17) + c(w0 >>> 12) + c(w0 >>> 7) + c(w0 >>> 2) +
    c((w0 << 3) | (w1 >>> 29)) + c(w1 >>> 24) + c(w1 >>> 19) + c(w1 >>> 14) + c(w1 >>> 9) + c(w1 >>> 4) +
    c((w1 << 1) | (w2 >>> 15)) + c(w2 >>> 10) + c(w2 >>> 5) + c(w2)
  );
}

/**
 * The 16-character hash kube-proxy puts in a service port's chain names: the first 16
 * characters of base32(sha256(servicePortName + protocol)).
 *
 * @remarks
 * Linux equivalent: none; chain names must stay within iptables' 28 characters.
 * `servicePortName` is `ns/name:port` (or `ns/name` for an unnamed port), `protocol` lower case.
 * @see kubernetes pkg/proxy/iptables/proxier.go portProtoHash
 * @see /work/shared/facts/kube-proxy.md section 2.3
 * @example
 * ```ts
 * import { portProtoHash } from '@knet/kube-proxy';
 * portProtoHash('ns1/svc1:p80', 'tcp'); // 'XPGD46QRK7WJZT7O'
 * ```
 */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return hash16(servicePortName + protocol);
}

/** The four per-service-port chains, which share one hash. */
export interface ServicePortChainNames {
  /** `KUBE-SVC-<h>`: endpoint selection for the Cluster traffic policy. */
  readonly clusterPolicy: string;
  /** `KUBE-SVL-<h>`: endpoint selection among local endpoints (Local policy). */
  readonly localPolicy: string;
  /** `KUBE-FW-<h>`: loadBalancerSourceRanges filter. */
  readonly firewall: string;
  /** `KUBE-EXT-<h>`: external-traffic dispatcher. */
  readonly external: string;
}

/**
 * The KUBE-SVC, KUBE-SVL, KUBE-FW and KUBE-EXT chain names of a service port.
 *
 * @remarks Linux equivalent: none.
 * @see kubernetes pkg/proxy/iptables/proxier.go servicePortPolicyClusterChain, servicePortPolicyLocalChainName, serviceFirewallChainName, serviceExternalChainName
 * @example
 * ```ts
 * import { servicePortChainNames } from '@knet/kube-proxy';
 * servicePortChainNames('ns2/svc2:p80', 'tcp').external; // 'KUBE-EXT-GNZBNJ2PO5MGZ6GT'
 * ```
 */
export function servicePortChainNames(servicePortName: string, protocol: string): ServicePortChainNames {
  const h = portProtoHash(servicePortName, protocol);
  return {
    clusterPolicy: `KUBE-SVC-${h}`,
    localPolicy: `KUBE-SVL-${h}`,
    firewall: `KUBE-FW-${h}`,
    external: `KUBE-EXT-${h}`,
  };
}

/**
 * The KUBE-SEP chain name of one endpoint of a service port: base32(sha256(servicePortName +
 * protocol + endpoint)), 16 characters, where `endpoint` is `IP:port` (`[IPv6]:port`).
 *
 * @remarks Linux equivalent: none.
 * @see kubernetes pkg/proxy/iptables/proxier.go servicePortEndpointChainName
 * @example
 * ```ts
 * import { servicePortEndpointChainName } from '@knet/kube-proxy';
 * servicePortEndpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80'); // 'KUBE-SEP-SXIVWICOYRO3J4NJ'
 * ```
 */
export function servicePortEndpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${hash16(servicePortName + protocol + endpoint)}`;
}

const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-SEP-', 'KUBE-FW-', 'KUBE-EXT-'] as const;

/**
 * True for the per-service chains kube-proxy owns and deletes when stale (KUBE-SVC-, KUBE-SVL-,
 * KUBE-SEP-, KUBE-FW-, KUBE-EXT-).
 *
 * @remarks Linux equivalent: none.
 * @see kubernetes pkg/proxy/iptables/proxier.go isServiceChainName
 * @example
 * ```ts
 * import { isServiceChainName } from '@knet/kube-proxy';
 * isServiceChainName('KUBE-SEP-SXIVWICOYRO3J4NJ'); // true
 * isServiceChainName('KUBE-SERVICES'); // false
 * ```
 */
export function isServiceChainName(chain: string): boolean {
  for (const p of SERVICE_CHAIN_PREFIXES) if (chain.startsWith(p)) return true;
  return false;
}
