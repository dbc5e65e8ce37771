import { formatIpv4 } from '../../ip/ipv4.js';
import { PROTOCOL_NAMES } from '../netfilter/netfilter-names.js';
import type { IpsetElement, IpsetType } from './ipset-types.js';

/**
 * Parsing and printing of ipset elements (`1.2.3.4,tcp:80,10.0.0.0/8`) with ipset 7.17's rules.
 *
 * @remarks Linux equivalent: ipset lib/parse.c (`ipset_parse_ip`, `ipset_parse_proto_port`,
 * `ipset_parse_net`) and lib/print.c.
 */

/** An ipset syntax error; the restore loop adds the line number. */
export class IpsetSyntaxError extends Error {}

const PROTO_BY_NAME = new Map<string, number>([...PROTOCOL_NAMES].map(([n, s]) => [s, n]));

/** ICMP names ipset prints (lib/icmp.c): type/code → name. */
const IPSET_ICMP_NAMES: readonly { name: string; type: number; code: number }[] = [
  { name: 'echo-reply', type: 0, code: 0 },
  { name: 'pong', type: 0, code: 0 },
  { name: 'network-unreachable', type: 3, code: 0 },
  { name: 'host-unreachable', type: 3, code: 1 },
  { name: 'protocol-unreachable', type: 3, code: 2 },
  { name: 'port-unreachable', type: 3, code: 3 },
  { name: 'fragmentation-needed', type: 3, code: 4 },
  { name: 'source-route-failed', type: 3, code: 5 },
  { name: 'network-unknown', type: 3, code: 6 },
  { name: 'host-unknown', type: 3, code: 7 },
  { name: 'network-prohibited', type: 3, code: 9 },
  { name: 'host-prohibited', type: 3, code: 10 },
  { name: 'TOS-network-unreachable', type: 3, code: 11 },
  { name: 'TOS-host-unreachable', type: 3, code: 12 },
  { name: 'communication-prohibited', type: 3, code: 13 },
  { name: 'host-precedence-violation', type: 3, code: 14 },
  { name: 'precedence-cutoff', type: 3, code: 15 },
  { name: 'source-quench', type: 4, code: 0 },
  { name: 'network-redirect', type: 5, code: 0 },
  { name: 'host-redirect', type: 5, code: 1 },
  { name: 'TOS-network-redirect', type: 5, code: 2 },
  { name: 'TOS-host-redirect', type: 5, code: 3 },
  { name: 'echo-request', type: 8, code: 0 },
  { name: 'ping', type: 8, code: 0 },
  { name: 'router-advertisement', type: 9, code: 0 },
  { name: 'router-solicitation', type: 10, code: 0 },
  { name: 'ttl-zero-during-transit', type: 11, code: 0 },
  { name: 'ttl-zero-during-reassembly', type: 11, code: 1 },
  { name: 'ip-header-bad', type: 12, code: 0 },
  { name: 'required-option-missing', type: 12, code: 1 },
  { name: 'timestamp-request', type: 13, code: 0 },
  { name: 'timestamp-reply', type: 14, code: 0 },
  { name: 'address-mask-request', type: 17, code: 0 },
  { name: 'address-mask-reply', type: 18, code: 0 },
];

function parseCNumber(s: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (/^0[0-7]+$/.test(s)) return parseInt(s.slice(1), 8);
  if (/^\d+$/.test(s)) return Number(s);
  return undefined;
}

/**
 * An IPv4 address as inet_aton(3) reads it (ipset accepts `1.1.1` = 1.1.0.1).
 *
 * @throws IpsetSyntaxError for text that is not an address.
 */
export function parseInetAton(text: string): number {
  const parts = text.split('.');
  if (parts.length < 1 || parts.length > 4) throw new IpsetSyntaxError(`Syntax error: cannot parse ${text}: resolving to IPv4 address failed`);
  const nums = parts.map(parseCNumber);
  if (nums.some((n) => n === undefined)) {
    throw new IpsetSyntaxError(`Syntax error: cannot parse ${text}: resolving to IPv4 address failed`);
  }
  const n = nums as number[];
  const last = n[n.length - 1] as number;
  const limits = [0xffffffff, 0xffffff, 0xffff, 0xff];
  if (last > (limits[n.length - 1] as number) || n.slice(0, -1).some((x) => x > 255)) {
    throw new IpsetSyntaxError(`Syntax error: cannot parse ${text}: resolving to IPv4 address failed`);
  }
  let value = 0;
  for (let i = 0; i < n.length - 1; i++) value = value * 256 + (n[i] as number);
  return (value * 2 ** (8 * (4 - (n.length - 1))) + last) >>> 0;
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function parseCidr(text: string, max = 32): number {
  const n = parseCNumber(text);
  if (n === undefined) throw new IpsetSyntaxError(`Syntax error: '${text}' is invalid as number`);
  if (n > max) throw new IpsetSyntaxError(`Syntax error: '${text}' is out of range 0-${max}`);
  return n;
}

/** `ip`, `ip/cidr` or `ip-ip` → the list of addresses it stands for (for `hash:ip`). */
function expandIps(text: string): number[] {
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const a = parseInetAton(text.slice(0, dash));
    const b = parseInetAton(text.slice(dash + 1));
    if (b < a) throw new IpsetSyntaxError('Syntax error: range is invalid');
    if (b - a >= 65536) throw new IpsetSyntaxError('Hash is full, cannot add more elements');
    const out: number[] = [];
    for (let x = a; x <= b; x++) out.push(x >>> 0);
    return out;
  }
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const cidr = parseCidr(text.slice(slash + 1));
    if (cidr === 0) throw new IpsetSyntaxError('The value of the CIDR parameter of the IP address is invalid');
    const base = (parseInetAton(text.slice(0, slash)) & maskOf(cidr)) >>> 0;
    const size = 2 ** (32 - cidr);
    if (size > 65536) throw new IpsetSyntaxError('Hash is full, cannot add more elements');
    const out: number[] = [];
    for (let i = 0; i < size; i++) out.push((base + i) >>> 0);
    return out;
  }
  return [parseInetAton(text)];
}

/** `a-b` as the minimal list of CIDR blocks (ipset's `ip_set_range_to_cidr`). */
function rangeToCidrs(a: number, b: number): { ip: number; cidr: number }[] {
  const out: { ip: number; cidr: number }[] = [];
  let x = a;
  while (x <= b) {
    let cidr = 32;
    while (cidr > 0) {
      const m = maskOf(cidr - 1);
      const start = (x & m) >>> 0;
      const end = (start + 2 ** (32 - (cidr - 1)) - 1) >>> 0;
      if (start !== x || end > b) break;
      cidr--;
    }
    out.push({ ip: x, cidr });
    const next = x + 2 ** (32 - cidr);
    if (next > 0xffffffff) break;
    x = next;
  }
  return out;
}

/** `net`, `ip/cidr` or `a-b` → network blocks (for `hash:net` and the third dimension of `hash:ip,port,net`). */
function expandNets(text: string): { ip: number; cidr: number }[] {
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const a = parseInetAton(text.slice(0, dash));
    const b = parseInetAton(text.slice(dash + 1));
    if (b < a) throw new IpsetSyntaxError('Syntax error: range is invalid');
    return rangeToCidrs(a, b);
  }
  const slash = text.indexOf('/');
  if (slash < 0) return [{ ip: parseInetAton(text), cidr: 32 }];
  const cidr = parseCidr(text.slice(slash + 1));
  if (cidr === 0) throw new IpsetSyntaxError('The value of the CIDR parameter of the IP address is invalid');
  return [{ ip: (parseInetAton(text.slice(0, slash)) & maskOf(cidr)) >>> 0, cidr }];
}

function parsePortNumber(text: string, proto: string): number {
  const n = parseCNumber(text);
  if (n === undefined) throw new IpsetSyntaxError(`Syntax error: '${text}' is invalid as number\ncannot parse '${text}' as a ${proto} port`);
  if (n > 65535) throw new IpsetSyntaxError(`Syntax error: '${text}' is out of range 0-65535\ncannot parse '${text}' as a ${proto} port`);
  return n;
}

/** `[proto:]port[-port]` → (proto, port) pairs. ICMP ports are `type/code` or a name. */
function expandProtoPorts(text: string): { proto: number; port: number }[] {
  const colon = text.indexOf(':');
  let protoName = 'tcp';
  let portText = text;
  if (colon >= 0) {
    protoName = text.slice(0, colon).toLowerCase();
    portText = text.slice(colon + 1);
  }
  const proto = PROTO_BY_NAME.get(protoName) ?? parseCNumber(protoName);
  if (proto === undefined || proto > 255) throw new IpsetSyntaxError(`Syntax error: cannot parse '${protoName}' as a protocol`);
  if (proto === 1) {
    const named = IPSET_ICMP_NAMES.find((n) => n.name === portText);
    if (named !== undefined) return [{ proto, port: (named.type << 8) | named.code }];
    const slash = portText.indexOf('/');
    const type = slash < 0 ? undefined : parseCNumber(portText.slice(0, slash));
    const code = slash < 0 ? undefined : parseCNumber(portText.slice(slash + 1));
    if (type === undefined || code === undefined || type > 255 || code > 255) {
      throw new IpsetSyntaxError(`Syntax error: cannot parse ${portText} as ICMP type/code`);
    }
    return [{ proto, port: (type << 8) | code }];
  }
  if (proto !== 6 && proto !== 17 && proto !== 132 && proto !== 136) {
    const p = parseCNumber(portText);
    if (p !== 0) throw new IpsetSyntaxError(`Syntax error: Protocol ${protoName} requires port number 0`);
    return [{ proto, port: 0 }];
  }
  const dash = portText.indexOf('-');
  const from = parsePortNumber(dash < 0 ? portText : portText.slice(0, dash), protoName);
  const to = dash < 0 ? from : parsePortNumber(portText.slice(dash + 1), protoName);
  const out: { proto: number; port: number }[] = [];
  for (let p = Math.min(from, to); p <= Math.max(from, to); p++) out.push({ proto, port: p });
  return out;
}

const ZERO: IpsetElement = { ip: 0, cidr: 32, proto: 0, port: 0, ip2: 0, cidr2: 32 };

/**
 * Parses the element text of an `add`/`del`/`test` for a set type into the elements it stands
 * for (ranges and CIDRs expand as ipset expands them).
 *
 * @throws IpsetSyntaxError with ipset's message.
 */
export function parseIpsetElements(
  type: IpsetType,
  text: string,
  options: { readonly netmask?: number; readonly rangeFrom?: number; readonly rangeTo?: number } = {},
): IpsetElement[] {
  const parts = text.split(',');
  const need = type === 'hash:ip,port' ? 2 : type === 'hash:ip,port,ip' || type === 'hash:ip,port,net' ? 3 : 1;
  if (parts.length < need) {
    throw new IpsetSyntaxError(`Syntax error: ${need === 2 || parts.length === 1 ? 'Second' : 'Third'} element is missing from ${text}.`);
  }
  if (parts.length > need) throw new IpsetSyntaxError(`Syntax error: Elem separator in ${text}, but settype ${type} supports none.`);
  const [p0 = '', p1 = '', p2 = ''] = parts;
  switch (type) {
    case 'hash:ip': {
      const nm = options.netmask ?? 32;
      const seen = new Set<number>();
      const out: IpsetElement[] = [];
      for (const ip of expandIps(p0)) {
        const m = (ip & maskOf(nm)) >>> 0;
        if (seen.has(m)) continue;
        seen.add(m);
        out.push({ ...ZERO, ip: m });
      }
      return out;
    }
    case 'hash:net':
      return expandNets(p0).map((n) => ({ ...ZERO, ip: n.ip, cidr: n.cidr }));
    case 'bitmap:port': {
      const dash = p0.indexOf('-');
      const from = parsePortNumber(dash < 0 ? p0 : p0.slice(0, dash), 'tcp');
      const to = dash < 0 ? from : parsePortNumber(p0.slice(dash + 1), 'tcp');
      const lo = options.rangeFrom ?? 0;
      const hi = options.rangeTo ?? 65535;
      if (Math.min(from, to) < lo || Math.max(from, to) > hi) throw new IpsetSyntaxError('Element is out of the range of the set');
      const out: IpsetElement[] = [];
      for (let p = Math.min(from, to); p <= Math.max(from, to); p++) out.push({ ...ZERO, port: p });
      return out;
    }
    default: {
      const ips = expandIps(p0);
      const ports = expandProtoPorts(p1);
      const thirds = type === 'hash:ip,port,net' ? expandNets(p2) : type === 'hash:ip,port,ip' ? expandIps(p2).map((ip) => ({ ip, cidr: 32 })) : [{ ip: 0, cidr: 32 }];
      const out: IpsetElement[] = [];
      for (const ip of ips) for (const pp of ports) for (const t of thirds) out.push({ ...ZERO, ip, proto: pp.proto, port: pp.port, ip2: t.ip, cidr2: t.cidr });
      return out;
    }
  }
}

/** The identity of an element in its set. */
export function ipsetElementKey(type: IpsetType, e: IpsetElement): string {
  switch (type) {
    case 'hash:ip':
      return `${e.ip}`;
    case 'hash:net':
      return `${e.ip}/${e.cidr}`;
    case 'bitmap:port':
      return `${e.port}`;
    case 'hash:ip,port':
      return `${e.ip},${e.proto}:${e.port}`;
    case 'hash:ip,port,ip':
      return `${e.ip},${e.proto}:${e.port},${e.ip2}`;
    case 'hash:ip,port,net':
      return `${e.ip},${e.proto}:${e.port},${e.ip2}/${e.cidr2}`;
  }
}

function formatProtoPort(proto: number, port: number): string {
  if (proto === 1) {
    const type = port >> 8;
    const code = port & 0xff;
    const named = IPSET_ICMP_NAMES.find((n) => n.type === type && n.code === code && n.name !== 'pong' && n.name !== 'ping');
    return `icmp:${named !== undefined ? named.name : `${type}/${code}`}`;
  }
  return `${PROTOCOL_NAMES.get(proto) ?? String(proto)}:${port}`;
}

function formatNet(ip: number, cidr: number): string {
  return cidr === 32 ? formatIpv4(ip) : `${formatIpv4(ip)}/${cidr}`;
}

/** An element as `ipset save` prints it. */
export function formatIpsetElement(type: IpsetType, e: IpsetElement): string {
  switch (type) {
    case 'hash:ip':
      return formatIpv4(e.ip);
    case 'hash:net':
      return formatNet(e.ip, e.cidr);
    case 'bitmap:port':
      return String(e.port);
    case 'hash:ip,port':
      return `${formatIpv4(e.ip)},${formatProtoPort(e.proto, e.port)}`;
    case 'hash:ip,port,ip':
      return `${formatIpv4(e.ip)},${formatProtoPort(e.proto, e.port)},${formatIpv4(e.ip2)}`;
    case 'hash:ip,port,net':
      return `${formatIpv4(e.ip)},${formatProtoPort(e.proto, e.port)},${formatNet(e.ip2, e.cidr2)}`;
  }
}

