import { cidrContainsIp, parseCidrSloppy, parseIpSloppy } from '../ip/parse-ip-sloppy.js';
import type { IpFamily, ParsedCidr, ParsedIp } from '../ip/parse-ip-sloppy.js';

const LOOPBACK_START = parseIpSloppy('127.0.0.0') as ParsedIp;

/** kube-proxy's `--nodeport-addresses` for one IP family. */
export interface NodePortAddresses {
  readonly family: IpFamily;
  /** The prefixes of this family (`0.0.0.0/0` or `::/0` alone when matching everything). */
  readonly cidrs: readonly ParsedCidr[];
  /** No prefix of this family was given, or one was the zero prefix: NodePorts on every local address. */
  readonly matchAll: boolean;
  /** Some IPv4 prefix is a loopback prefix or contains 127.0.0.0. */
  readonly containsIPv4Loopback: boolean;
}

/**
 * Reads `--nodeport-addresses` for one IP family, as kube-proxy does.
 *
 * @remarks
 * - Prefixes of the other family are dropped; when none is left, the family's zero prefix is
 *   used. A zero prefix (`0.0.0.0/0`, `::/0`, compared as text) means "all addresses" and
 *   overrides the rest.
 * - Linux equivalent: none; the result decides the final `-j KUBE-NODEPORTS` rule(s) of nat
 *   KUBE-SERVICES.
 * @see kubernetes pkg/proxy/util/nodeport_addresses.go NewNodePortAddresses
 * @example
 * ```ts
 * import { parseNodePortAddresses } from '@knet/kube-proxy';
 * parseNodePortAddresses('IPv4', ['192.168.0.0/24', '2001:db8::/64']).matchAll; // false
 * parseNodePortAddresses('IPv6', ['192.168.0.0/24']).matchAll; // true
 * ```
 */
export function parseNodePortAddresses(family: IpFamily, cidrStrings: readonly string[] = []): NodePortAddresses {
  let strings = cidrStrings.filter((s) => parseCidrSloppy(s)?.family === family);
  if (strings.length === 0) strings = [family === 'IPv4' ? '0.0.0.0/0' : '::/0'];
  const cidrs: ParsedCidr[] = [];
  let matchAll = false;
  let containsIPv4Loopback = false;
  for (const s of strings) {
    const cidr = parseCidrSloppy(s);
    if (cidr === undefined) continue;
    if (cidr.family === 'IPv4' && (cidr.bytes[0] === 127 || cidrContainsIp(cidr, LOOPBACK_START))) {
      containsIPv4Loopback = true;
    }
    if (s === '0.0.0.0/0' || s === '::/0') {
      cidrs.length = 0;
      cidrs.push(cidr);
      matchAll = true;
      break;
    }
    cidrs.push(cidr);
  }
  return { family, cidrs, matchAll, containsIPv4Loopback };
}

/**
 * The local addresses that accept NodePorts: every address in `localAddresses` inside one of
 * the prefixes, once each (prefix order, then address order).
 *
 * @remarks Linux equivalent: `ip -o addr` filtered by the prefixes.
 * @see kubernetes pkg/proxy/util/nodeport_addresses.go GetNodeIPs
 * @example
 * ```ts
 * import { nodePortIPs, parseNodePortAddresses } from '@knet/kube-proxy';
 * const npa = parseNodePortAddresses('IPv4', ['192.168.0.0/24', '127.0.0.1/32']);
 * nodePortIPs(npa, ['127.0.0.1', '192.168.0.2', '192.168.1.2']).map((ip) => ip.text); // ['192.168.0.2', '127.0.0.1']
 * ```
 */
export function nodePortIPs(npa: NodePortAddresses, localAddresses: readonly string[]): ParsedIp[] {
  const parsed = localAddresses.map((a) => parseIpSloppy(a)).filter((a): a is ParsedIp => a !== undefined);
  const seen = new Set<string>();
  const out: ParsedIp[] = [];
  for (const cidr of npa.cidrs) {
    for (const ip of parsed) {
      if (!seen.has(ip.text) && cidrContainsIp(cidr, ip)) {
        seen.add(ip.text);
        out.push(ip);
      }
    }
  }
  return out;
}

/** True for 127.0.0.0/8 and ::1 (Go's `net.IP.IsLoopback`). * @example
 * ```ts
 * import { isLoopback, parseIpSloppy } from '@knet/kube-proxy';
 * isLoopback(parseIpSloppy('127.0.0.53')!); // true
 * ```
 */
export function isLoopback(ip: ParsedIp): boolean {
  if (ip.family === 'IPv4') return ip.bytes[0] === 127;
  for (let i = 0; i < 15; i++) if (ip.bytes[i] !== 0) return false;
  return ip.bytes[15] === 1;
}

/**
 * kube-proxy's effective `--iptables-localhost-nodeports`: NewProxier turns it off when the
 * family is IPv6 (the dual-stack proxier passes false) or when `--nodeport-addresses` has no
 * IPv4 loopback prefix.
 *
 * @remarks
 * Linux equivalent: with it on, kube-proxy sets `net.ipv4.conf.all.route_localnet=1`.
 * Upstream's unit tests set the field directly and skip this step; knet's renderer does too,
 * so callers that model a real kube-proxy start-up apply this first.
 * @see kubernetes pkg/proxy/iptables/proxier.go NewProxier, NewDualStackProxier
 * @example
 * ```ts
 * import { resolveLocalhostNodePorts } from '@knet/kube-proxy';
 * resolveLocalhostNodePorts('IPv4', true, ['192.168.0.0/24']); // false: no loopback among the NodePort addresses
 * ```
 */
export function resolveLocalhostNodePorts(family: IpFamily, localhostNodePorts: boolean, nodePortAddresses: readonly string[] = []): boolean {
  if (family === 'IPv6') return false;
  return localhostNodePorts && parseNodePortAddresses(family, nodePortAddresses).containsIPv4Loopback;
}
