import { tryParseIpv4 } from '../ip/ipv4.js';
import type {
  AnyCniResult,
  CniDns,
  CniInterface,
  CniInterface040,
  CniIpConfig,
  CniIpConfig020,
  CniIpConfig040,
  CniResult,
  CniResult020,
  CniResult040,
  CniRoute,
} from './cni-types.js';
import { formatGoJsonIndent, goQuote } from './go-json.js';

/** Result versions by the Go package that implements them. */
const FAMILY_020 = ['0.1.0', '0.2.0'];
const FAMILY_040 = ['0.3.0', '0.3.1', '0.4.0'];
const FAMILY_100 = ['1.0.0', '1.1.0'];

type Family = '020' | '040' | '100';

function familyOf(version: string): Family | undefined {
  if (FAMILY_020.includes(version)) return '020';
  if (FAMILY_040.includes(version)) return '040';
  if (FAMILY_100.includes(version)) return '100';
  return undefined;
}

/** True for text Go's `net.ParseIP` accepts as IPv6 (hex groups, one `::`, optional dotted tail). */
function isIpv6Text(s: string): boolean {
  if (!s.includes(':')) return false;
  let body = s;
  let groups = 0;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (tryParseIpv4(tail) === undefined) return false;
    body = s.slice(0, lastColon + 1);
    if (body.endsWith('::')) {
      // keep '::' intact
    } else {
      body = body.slice(0, -1);
    }
    groups += 2;
  }
  const halves = body.split('::');
  if (halves.length > 2) return false;
  const parts = halves.flatMap((h) => (h === '' ? [] : h.split(':')));
  if (!parts.every((p) => /^[0-9a-fA-F]{1,4}$/.test(p))) return false;
  groups += parts.length;
  return halves.length === 2 ? groups < 8 : groups === 8;
}

/** True when `s` is an IPv4 or IPv6 address as Go's `net.ParseIP` reads it. */
export function isIpAddressText(s: string): boolean {
  return tryParseIpv4(s) !== undefined || isIpv6Text(s);
}

/** True when `s` is `address/prefix` as Go's `net.ParseCIDR` reads it (IPv4 /0–32, IPv6 /0–128). */
export function isCidrText(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const addr = s.slice(0, slash);
  const len = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(len)) return false;
  if (tryParseIpv4(addr) !== undefined) return Number(len) <= 32;
  return isIpv6Text(addr) && Number(len) <= 128;
}

function isV4Cidr(cidr: string): boolean {
  return tryParseIpv4(cidr.slice(0, cidr.indexOf('/') < 0 ? cidr.length : cidr.indexOf('/'))) !== undefined;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function fail(message: string): never {
  throw new Error(message);
}

function optString(o: Obj, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(`json: cannot unmarshal ${typeof v === 'number' ? 'number' : Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : 'object'} into Go struct field ${where}.${key} of type string`);
  return v;
}

function optInt(o: Obj, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(`json: cannot unmarshal ${JSON.stringify(v)} into Go struct field ${where}.${key} of type int`);
  return v;
}

function cidr(o: Obj, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') fail(`json: cannot unmarshal ${v === undefined ? 'null' : JSON.stringify(v)} into a CIDR (${key})`);
  if (!isCidrText(v)) fail(`invalid CIDR address: ${v}`);
  return v;
}

function ipText(o: Obj, key: string): string | undefined {
  const v = optString(o, key, 'IPConfig');
  if (v === undefined || v === '') return undefined;
  if (!isIpAddressText(v)) fail(`invalid IP address: ${v}`);
  return v;
}

function strings(o: Obj, key: string): readonly string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) fail(`json: cannot unmarshal into Go struct field DNS.${key} of type []string`);
  return v as string[];
}

function parseDns(v: unknown): CniDns {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) fail('json: cannot unmarshal into Go struct field Result.dns of type types.DNS');
  const nameservers = strings(v, 'nameservers');
  const domain = optString(v, 'domain', 'DNS');
  const search = strings(v, 'search');
  const options = strings(v, 'options');
  return {
    ...(nameservers !== undefined && nameservers.length > 0 ? { nameservers } : {}),
    ...(domain !== undefined && domain !== '' ? { domain } : {}),
    ...(search !== undefined && search.length > 0 ? { search } : {}),
    ...(options !== undefined && options.length > 0 ? { options } : {}),
  };
}

function parseRoute(v: unknown): CniRoute {
  if (!isObj(v)) fail('json: cannot unmarshal into Go value of type types.Route');
  const gw = ipText(v, 'gw');
  const mtu = optInt(v, 'mtu', 'Route');
  const advmss = optInt(v, 'advmss', 'Route');
  const priority = optInt(v, 'priority', 'Route');
  const table = optInt(v, 'table', 'Route');
  const scope = optInt(v, 'scope', 'Route');
  return {
    dst: cidr(v, 'dst'),
    ...(gw !== undefined ? { gw } : {}),
    ...(mtu !== undefined && mtu !== 0 ? { mtu } : {}),
    ...(advmss !== undefined && advmss !== 0 ? { advmss } : {}),
    ...(priority !== undefined && priority !== 0 ? { priority } : {}),
    ...(table !== undefined ? { table } : {}),
    ...(scope !== undefined ? { scope } : {}),
  };
}

function list(o: Obj, key: string): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(`json: cannot unmarshal ${typeof v === 'string' ? 'string' : 'object'} into Go struct field Result.${key} of type array`);
  return v;
}

function checkIndex(ifIndex: number | undefined, count: number): void {
  // libcni does not check the index against `interfaces`; a negative index cannot be a Go *int
  // produced by a valid plugin, and is rejected as Go rejects it for uint-like use.
  if (ifIndex !== undefined && ifIndex < 0) fail(`invalid interface index ${ifIndex}`);
  void count;
}

function build100(o: Obj, version: string): CniResult {
  const interfaces = list(o, 'interfaces').map((x): CniInterface => {
    if (!isObj(x)) fail('json: cannot unmarshal into Go struct field Result.interfaces of type types100.Interface');
    const name = optString(x, 'name', 'Interface') ?? '';
    const mac = optString(x, 'mac', 'Interface');
    const mtu = optInt(x, 'mtu', 'Interface');
    const sandbox = optString(x, 'sandbox', 'Interface');
    const socketPath = optString(x, 'socketPath', 'Interface');
    const pciID = optString(x, 'pciID', 'Interface');
    return {
      name,
      ...(mac !== undefined && mac !== '' ? { mac } : {}),
      ...(mtu !== undefined && mtu !== 0 ? { mtu } : {}),
      ...(sandbox !== undefined && sandbox !== '' ? { sandbox } : {}),
      ...(socketPath !== undefined && socketPath !== '' ? { socketPath } : {}),
      ...(pciID !== undefined && pciID !== '' ? { pciID } : {}),
    };
  });
  const ips = list(o, 'ips').map((x): CniIpConfig => {
    if (!isObj(x)) fail('json: cannot unmarshal into Go struct field Result.ips of type types100.IPConfig');
    const ifIndex = optInt(x, 'interface', 'IPConfig');
    checkIndex(ifIndex, interfaces.length);
    const gateway = ipText(x, 'gateway');
    return { ...(ifIndex !== undefined ? { interface: ifIndex } : {}), address: cidr(x, 'address'), ...(gateway !== undefined ? { gateway } : {}) };
  });
  const routes = list(o, 'routes').map(parseRoute);
  return create100(version, interfaces, ips, routes, parseDns(o['dns']));
}

function create100(version: string, interfaces: readonly CniInterface[], ips: readonly CniIpConfig[], routes: readonly CniRoute[], dns: CniDns): CniResult {
  return {
    cniVersion: version,
    ...(interfaces.length > 0 ? { interfaces } : {}),
    ...(ips.length > 0 ? { ips } : {}),
    ...(routes.length > 0 ? { routes } : {}),
    dns,
  };
}

function create040(version: string, interfaces: readonly CniInterface040[], ips: readonly CniIpConfig040[], routes: readonly CniRoute[], dns: CniDns): CniResult040 {
  return {
    cniVersion: version,
    ...(interfaces.length > 0 ? { interfaces } : {}),
    ...(ips.length > 0 ? { ips } : {}),
    ...(routes.length > 0 ? { routes } : {}),
    dns,
  };
}

function build040(o: Obj, version: string): CniResult040 {
  const interfaces = list(o, 'interfaces').map((x): CniInterface040 => {
    if (!isObj(x)) fail('json: cannot unmarshal into Go struct field Result.interfaces of type types040.Interface');
    const mac = optString(x, 'mac', 'Interface');
    const sandbox = optString(x, 'sandbox', 'Interface');
    return {
      name: optString(x, 'name', 'Interface') ?? '',
      ...(mac !== undefined && mac !== '' ? { mac } : {}),
      ...(sandbox !== undefined && sandbox !== '' ? { sandbox } : {}),
    };
  });
  const ips = list(o, 'ips').map((x): CniIpConfig040 => {
    if (!isObj(x)) fail('json: cannot unmarshal into Go struct field Result.ips of type types040.IPConfig');
    const address = cidr(x, 'address');
    const ifIndex = optInt(x, 'interface', 'IPConfig');
    checkIndex(ifIndex, interfaces.length);
    const gateway = ipText(x, 'gateway');
    const v = optString(x, 'version', 'IPConfig');
    // The Go type keeps whatever `version` says; knet derives it when absent.
    const fam: '4' | '6' = v === '4' || v === '6' ? v : isV4Cidr(address) ? '4' : '6';
    return { version: fam, ...(ifIndex !== undefined ? { interface: ifIndex } : {}), address, ...(gateway !== undefined ? { gateway } : {}) };
  });
  return create040(version, interfaces, ips, list(o, 'routes').map(parseRoute), parseDns(o['dns']));
}

function build020(o: Obj, version: string): CniResult020 {
  const ipc = (key: string): CniIpConfig020 | undefined => {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (!isObj(v)) fail(`json: cannot unmarshal into Go struct field Result.${key} of type types020.IPConfig`);
    const gateway = ipText(v, 'gateway');
    const routes = list(v, 'routes').map(parseRoute);
    return { ip: cidr(v, 'ip'), ...(gateway !== undefined ? { gateway } : {}), ...(routes.length > 0 ? { routes } : {}) };
  };
  const ip4 = ipc('ip4');
  const ip6 = ipc('ip6');
  return { cniVersion: version, ...(ip4 !== undefined ? { ip4 } : {}), ...(ip6 !== undefined ? { ip6 } : {}), dns: parseDns(o['dns']) };
}

/**
 * Reads a result in the given version, as libcni's `create.Create(version, bytes)` does: the
 * version picks the Go type, the fields are type-checked, addresses and CIDRs must parse, and
 * the result's own `cniVersion` must belong to the same type.
 *
 * @param raw The decoded JSON.
 * @param version The version to read it as (default: its own `cniVersion`).
 * @throws Error with libcni's texts: `unsupported CNI result version "X"`, `result type
 * supports [1.0.0 1.1.0] but unmarshalled CNIVersion is "Y"`, `invalid CIDR address: ...`.
 * @see containernetworking/cni pkg/types/create/create.go, pkg/types/internal/convert.go
 * @example
 * ```ts
 * import { parseCniResult } from '@knet/core';
 * parseCniResult({ cniVersion: '1.0.0', ips: [{ address: '10.244.1.2/24' }] }).ips;
 * // [{ address: '10.244.1.2/24' }]
 * ```
 */
export function parseCniResult(raw: unknown, version?: string): AnyCniResult {
  if (!isObj(raw)) fail('json: cannot unmarshal into Go value of type types.Result');
  const own = typeof raw['cniVersion'] === 'string' ? raw['cniVersion'] : '';
  const want = version ?? own;
  const family = familyOf(want);
  if (family === undefined) fail(`unsupported CNI result version ${goQuote(want)}`);
  const members = family === '020' ? FAMILY_020 : family === '040' ? FAMILY_040 : FAMILY_100;
  const actual = own === '' ? want : own;
  if (!members.includes(actual)) fail(`result type supports [${members.join(' ')}] but unmarshalled CNIVersion is ${goQuote(actual)}`);
  if (family === '100') return build100(raw, actual);
  if (family === '040') return build040(raw, actual);
  return build020(raw, actual);
}

function is020(r: AnyCniResult): r is CniResult020 {
  return FAMILY_020.includes(r.cniVersion);
}

function is040(r: AnyCniResult): r is CniResult040 {
  return FAMILY_040.includes(r.cniVersion);
}

function to040(r: AnyCniResult, version: string): CniResult040 {
  if (is040(r)) return { ...r, cniVersion: version };
  if (is020(r)) {
    const ips: CniIpConfig040[] = [];
    const routes: CniRoute[] = [];
    for (const [fam, c] of [['4', r.ip4], ['6', r.ip6]] as const) {
      if (c === undefined) continue;
      ips.push({ version: fam, address: c.ip, ...(c.gateway !== undefined ? { gateway: c.gateway } : {}) });
      routes.push(...(c.routes ?? []));
    }
    return create040(version, [], ips, routes, r.dns ?? {});
  }
  const interfaces = (r.interfaces ?? []).map((i): CniInterface040 => ({
    name: i.name,
    ...(i.mac !== undefined ? { mac: i.mac } : {}),
    ...(i.sandbox !== undefined ? { sandbox: i.sandbox } : {}),
  }));
  const ips = (r.ips ?? []).map((i): CniIpConfig040 => ({ version: isV4Cidr(i.address) ? '4' : '6', ...i }));
  return create040(version, interfaces, ips, r.routes ?? [], r.dns ?? {});
}

function to100(r: AnyCniResult, version: string): CniResult {
  if (is020(r) || is040(r)) {
    const r040 = is040(r) ? r : to040(r, '0.4.0');
    const ips = (r040.ips ?? []).map(({ version: _family, ...rest }): CniIpConfig => rest);
    return create100(version, r040.interfaces ?? [], ips, r040.routes ?? [], r040.dns ?? {});
  }
  return { ...(r as CniResult), cniVersion: version };
}

function to020(r: AnyCniResult, version: string): CniResult020 {
  if (is020(r)) return { ...r, cniVersion: version };
  const r040 = is040(r) ? r : to040(r, '0.4.0');
  let ip4: { ip: string; gateway?: string; routes: CniRoute[] } | undefined;
  let ip6: { ip: string; gateway?: string; routes: CniRoute[] } | undefined;
  for (const ip of r040.ips ?? []) {
    // Only the first address of each family: 0.2.0 cannot express more.
    const c = { ip: ip.address, ...(ip.gateway !== undefined ? { gateway: ip.gateway } : {}), routes: [] as CniRoute[] };
    if (ip.version === '4' && ip4 === undefined) ip4 = c;
    else if (ip.version === '6' && ip6 === undefined) ip6 = c;
    if (ip4 !== undefined && ip6 !== undefined) break;
  }
  for (const route of r040.routes ?? []) {
    const target = isV4Cidr(route.dst) ? ip4 : ip6;
    target?.routes.push({ dst: route.dst, ...(route.gw !== undefined ? { gw: route.gw } : {}) });
  }
  if (ip4 === undefined && ip6 === undefined) fail('cannot convert: no valid IP addresses');
  const pack = (c: { ip: string; gateway?: string; routes: CniRoute[] }): CniIpConfig020 => ({
    ip: c.ip,
    ...(c.gateway !== undefined ? { gateway: c.gateway } : {}),
    ...(c.routes.length > 0 ? { routes: c.routes } : {}),
  });
  return { cniVersion: version, ...(ip4 !== undefined ? { ip4: pack(ip4) } : {}), ...(ip6 !== undefined ? { ip6: pack(ip6) } : {}), dns: r040.dns ?? {} };
}

/**
 * Converts a result to another spec version, as libcni's `Result.GetAsVersion` does: 1.x ⇄
 * 0.3/0.4 (the `version` of each address is derived from its family; 1.1 interface fields are
 * dropped), either ⇄ 0.1/0.2 (only the first address of each family survives; routes go under
 * their family). An empty target means 0.1.0.
 *
 * @throws Error `no converter for CNI result version X to Y` for an unknown version, `cannot
 * convert: no valid IP addresses` when a 0.1/0.2 result would have no address.
 * @see containernetworking/cni pkg/types/internal/convert.go, pkg/types/100/types.go, pkg/types/040/types.go
 * @example
 * ```ts
 * import { convertCniResult } from '@knet/core';
 * convertCniResult({ cniVersion: '1.0.0', ips: [{ interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }] }, '0.4.0');
 * // { cniVersion: '0.4.0', ips: [{ version: '4', interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }], dns: {} }
 * ```
 */
export function convertCniResult(result: AnyCniResult, toVersion: string): AnyCniResult {
  const to = toVersion === '' ? '0.1.0' : toVersion;
  const from = result.cniVersion;
  if (from === to) return result;
  const target = familyOf(to);
  if (familyOf(from) === undefined || target === undefined) fail(`no converter for CNI result version ${from} to ${to}`);
  if (target === '100') return to100(result, to);
  if (target === '040') return to040(result, to);
  return to020(result, to);
}

/** Orders a result's keys as the Go struct of its version does (the JSON a Go plugin prints). */
function ordered(result: AnyCniResult): unknown {
  const route = (r: CniRoute): CniRoute => ({
    dst: r.dst,
    ...(r.gw !== undefined ? { gw: r.gw } : {}),
    ...(r.mtu !== undefined ? { mtu: r.mtu } : {}),
    ...(r.advmss !== undefined ? { advmss: r.advmss } : {}),
    ...(r.priority !== undefined ? { priority: r.priority } : {}),
    ...(r.table !== undefined ? { table: r.table } : {}),
    ...(r.scope !== undefined ? { scope: r.scope } : {}),
  });
  const dns = (d: CniDns | undefined): CniDns => ({
    ...(d?.nameservers !== undefined ? { nameservers: d.nameservers } : {}),
    ...(d?.domain !== undefined ? { domain: d.domain } : {}),
    ...(d?.search !== undefined ? { search: d.search } : {}),
    ...(d?.options !== undefined ? { options: d.options } : {}),
  });
  if (is020(result)) {
    const c = (x: CniIpConfig020): CniIpConfig020 => ({
      ip: x.ip,
      ...(x.gateway !== undefined ? { gateway: x.gateway } : {}),
      ...(x.routes !== undefined ? { routes: x.routes.map(route) } : {}),
    });
    return {
      cniVersion: result.cniVersion,
      ...(result.ip4 !== undefined ? { ip4: c(result.ip4) } : {}),
      ...(result.ip6 !== undefined ? { ip6: c(result.ip6) } : {}),
      dns: dns(result.dns),
    };
  }
  const r = result as CniResult & CniResult040;
  const iface = (i: CniInterface): CniInterface => ({
    name: i.name,
    ...(i.mac !== undefined ? { mac: i.mac } : {}),
    ...(i.mtu !== undefined ? { mtu: i.mtu } : {}),
    ...(i.sandbox !== undefined ? { sandbox: i.sandbox } : {}),
    ...(i.socketPath !== undefined ? { socketPath: i.socketPath } : {}),
    ...(i.pciID !== undefined ? { pciID: i.pciID } : {}),
  });
  const ip = (x: CniIpConfig | CniIpConfig040): unknown => ({
    ...('version' in x ? { version: x.version } : {}),
    ...(x.interface !== undefined ? { interface: x.interface } : {}),
    address: x.address,
    ...(x.gateway !== undefined ? { gateway: x.gateway } : {}),
  });
  return {
    cniVersion: r.cniVersion,
    ...(r.interfaces !== undefined && r.interfaces.length > 0 ? { interfaces: r.interfaces.map(iface) } : {}),
    ...(r.ips !== undefined && r.ips.length > 0 ? { ips: r.ips.map(ip) } : {}),
    ...(r.routes !== undefined && r.routes.length > 0 ? { routes: r.routes.map(route) } : {}),
    dns: dns(r.dns),
  };
}

/**
 * Prints a result as a Go plugin does (`types.PrintResult`): the Go struct's key order,
 * `json.MarshalIndent` with four spaces, `"dns": {}` always present, no trailing newline.
 *
 * @example
 * ```ts
 * import { formatCniResult } from '@knet/core';
 * formatCniResult({ cniVersion: '1.0.0' }); // '{\n    "cniVersion": "1.0.0",\n    "dns": {}\n}'
 * ```
 */
export function formatCniResult(result: AnyCniResult): string {
  return formatGoJsonIndent(ordered(result));
}

/** The result in its JSON shape (Go key order), as the runtime injects it as `prevResult`. */
export function cniResultToJson(result: AnyCniResult): unknown {
  return ordered(result);
}
