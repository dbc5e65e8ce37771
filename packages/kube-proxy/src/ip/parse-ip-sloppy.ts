import { tryParseIpv4 } from '@knet/core';

/** An IP family as Kubernetes spells it (`v1.IPFamily`). */
export type IpFamily = 'IPv4' | 'IPv6';

/** An address parsed the way kube-proxy parses it, with its canonical text. */
export interface ParsedIp {
  readonly family: IpFamily;
  /** Go's `net.IP.String()`: dotted quad, or RFC 5952 text for IPv6. */
  readonly text: string;
  /** 4 bytes (IPv4, including IPv4-mapped IPv6 input) or 16 bytes (IPv6). */
  readonly bytes: Uint8Array;
}

/** A prefix parsed the way kube-proxy parses it: the network address and the prefix length. */
export interface ParsedCidr {
  readonly family: IpFamily;
  /** Go's `net.IPNet.String()`: the masked network address, `/`, the prefix length. */
  readonly text: string;
  /** The network address (host bits cleared). */
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

const BIG = 0xffffff;

/** Decimal digits at `i` (Go's `dtoi`): leading zeros allowed. Returns [value, end] or undefined. */
function dtoi(s: string, i: number): [number, number] | undefined {
  let n = 0;
  let j = i;
  for (; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
    if (n >= BIG) return undefined;
  }
  return j === i ? undefined : [n, j];
}

/** Hex digits at `i` (Go's `xtoi`). Returns [value, end] or undefined. */
function xtoi(s: string, i: number): [number, number] | undefined {
  let n = 0;
  let j = i;
  for (; j < s.length; j++) {
    const c = s.charCodeAt(j);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else break;
    n = n * 16 + d;
    if (n >= BIG) return undefined;
  }
  return j === i ? undefined : [n, j];
}

/** Go's pre-1.17 `parseIPv4` on `s` from `start` to its end. */
function parseV4Bytes(s: string, start: number): Uint8Array | undefined {
  const end = s.length;
  const out = new Uint8Array(4);
  let i = start;
  for (let k = 0; k < 4; k++) {
    if (i >= end) return undefined;
    if (k > 0) {
      if (s.charCodeAt(i) !== 46) return undefined;
      i++;
    }
    const r = dtoi(s, i);
    if (r === undefined || r[0] > 0xff) return undefined;
    out[k] = r[0];
    i = r[1];
  }
  return i === end ? out : undefined;
}

function parseV6Bytes(s: string): Uint8Array | undefined {
  const ip = new Uint8Array(16);
  let ellipsis = -1;
  let i = 0;
  if (s.length >= 2 && s[0] === ':' && s[1] === ':') {
    ellipsis = 0;
    i = 2;
    if (i === s.length) return ip;
  }
  let j = 0;
  while (j < 16) {
    const r = xtoi(s, i);
    if (r === undefined || r[0] > 0xffff) return undefined;
    // An embedded IPv4 address ends the text.
    if (r[1] < s.length && s[r[1]] === '.') {
      if (ellipsis < 0 && j !== 12) return undefined;
      if (j + 4 > 16) return undefined;
      const v4 = parseV4Bytes(s, i);
      if (v4 === undefined) return undefined;
      ip.set(v4, j);
      j += 4;
      i = s.length;
      break;
    }
    ip[j] = r[0] >> 8;
    ip[j + 1] = r[0] & 0xff;
    j += 2;
    i = r[1];
    if (i === s.length) break;
    if (s[i] !== ':' || i + 1 === s.length) return undefined;
    i++;
    if (s[i] === ':') {
      if (ellipsis >= 0) return undefined;
      ellipsis = j;
      i++;
      if (i === s.length) break;
    }
  }
  if (i !== s.length) return undefined;
  if (j < 16) {
    if (ellipsis < 0) return undefined;
    const n = 16 - j;
    for (let k = j - 1; k >= ellipsis; k--) ip[k + n] = ip[k] as number;
    for (let k = ellipsis + n - 1; k >= ellipsis; k--) ip[k] = 0;
  } else if (ellipsis >= 0) {
    return undefined;
  }
  return ip;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let k = 0; k < 10; k++) if (b[k] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** Go's `net.IP.String()` for 16 bytes: longest zero run (two groups or more, first wins) as `::`. */
function formatV6(b: Uint8Array): string {
  let e0 = -1;
  let e1 = -1;
  for (let i = 0; i < 16; i += 2) {
    let j = i;
    while (j < 16 && b[j] === 0 && b[j + 1] === 0) j += 2;
    if (j > i && j - i > e1 - e0) {
      e0 = i;
      e1 = j;
      i = j;
    }
  }
  if (e1 - e0 <= 2) {
    e0 = -1;
    e1 = -1;
  }
  let out = '';
  for (let i = 0; i < 16; i += 2) {
    if (i === e0) {
      out += '::';
      i = e1;
      if (i >= 16) break;
    } else if (i > 0) {
      out += ':';
    }
    out += ((((b[i] as number) << 8) | (b[i + 1] as number)) >>> 0).toString(16);
  }
  return out;
}

function formatV4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

function fromBytes(b: Uint8Array): ParsedIp {
  if (b.length === 4) return { family: 'IPv4', text: formatV4(b), bytes: b };
  if (isV4Mapped(b)) {
    const v4 = b.slice(12);
    return { family: 'IPv4', text: formatV4(v4), bytes: v4 };
  }
  return { family: 'IPv6', text: formatV6(b), bytes: b };
}

/**
 * Parses an IP address as kube-proxy does (`netutils.ParseIPSloppy`): IPv4 octets may carry
 * leading zeros, which are read as decimal (`172.30.0.041` is `172.30.0.41`); IPv6 is RFC 4291
 * text, optionally ending in a dotted quad. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is IPv4.
 *
 * @remarks
 * Linux equivalent: none; this is Go's pre-1.17 `net.ParseIP`, kept by Kubernetes
 * (k8s.io/utils/net) because API objects written before Go 1.17 may hold such addresses.
 * @returns the address, or `undefined` when the text is not an address.
 * @see kubernetes staging/src/k8s.io/utils/net/parse.go ParseIPSloppy
 * @see /work/shared/facts/kube-proxy.md section 1.1 (TestBadIPs)
 * @example
 * ```ts
 * import { parseIpSloppy } from '@knet/kube-proxy';
 * parseIpSloppy('10.180.00.001')?.text; // '10.180.0.1'
 * parseIpSloppy('fd00:0:0::0:1')?.text; // 'fd00::1'
 * ```
 */
export function parseIpSloppy(text: string): ParsedIp | undefined {
  const fast = tryParseIpv4(text);
  if (fast !== undefined) {
    return { family: 'IPv4', text, bytes: new Uint8Array([fast >>> 24, (fast >>> 16) & 255, (fast >>> 8) & 255, fast & 255]) };
  }
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '.') {
      const b = parseV4Bytes(text, 0);
      return b === undefined ? undefined : fromBytes(b);
    }
    if (c === ':') {
      const b = parseV6Bytes(text);
      return b === undefined ? undefined : fromBytes(b);
    }
  }
  return undefined;
}

/**
 * The canonical text of an address (`netutils.ParseIPSloppy(text).String()`), or `undefined`
 * when the text is not an address. Allocation-free for canonical IPv4 text.
 *
 * @remarks Linux equivalent: none.
 * @example
 * ```ts
 * import { formatIpSloppy } from '@knet/kube-proxy';
 * formatIpSloppy('10.180.00.001'); // '10.180.0.1'
 * ```
 */
export function formatIpSloppy(text: string): string | undefined {
  if (tryParseIpv4(text) !== undefined) return text;
  return parseIpSloppy(text)?.text;
}

/**
 * Parses a prefix as kube-proxy does (`netutils.ParseCIDRSloppy`): the address as
 * {@link parseIpSloppy}, a decimal prefix length (leading zeros allowed), host bits cleared.
 *
 * @remarks
 * Linux equivalent: none. `203.0.113.000/025` becomes `203.0.113.0/25`; `10.1.2.3/8` becomes
 * `10.0.0.0/8`, as Go's `net.IPNet.String()` prints the masked network.
 * @returns the prefix, or `undefined` when the text is not a prefix.
 * @see kubernetes staging/src/k8s.io/utils/net/parse.go ParseCIDRSloppy
 * @example
 * ```ts
 * import { parseCidrSloppy } from '@knet/kube-proxy';
 * parseCidrSloppy('203.0.113.000/025')?.text; // '203.0.113.0/25'
 * ```
 */
export function parseCidrSloppy(text: string): ParsedCidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addr = text.slice(0, slash);
  const maskText = text.slice(slash + 1);
  let bytes: Uint8Array | undefined = parseV4Bytes(addr, 0);
  let bits = 32;
  if (bytes === undefined) {
    bits = 128;
    bytes = addr.includes(':') ? parseV6Bytes(addr) : undefined;
  }
  const m = dtoi(maskText, 0);
  if (bytes === undefined || m === undefined || m[1] !== maskText.length || m[0] > bits) return undefined;
  const prefix = m[0];
  let masked = new Uint8Array(bytes);
  for (let bit = prefix; bit < bits; bit++) {
    const k = bit >> 3;
    masked[k] = (masked[k] as number) & ~(0x80 >> (bit & 7));
  }
  let family: IpFamily = bits === 32 ? 'IPv4' : 'IPv6';
  let shownPrefix = prefix;
  // An IPv4-mapped network with a prefix covering the ::ffff: part is an IPv4 network.
  if (bits === 128 && isV4Mapped(masked) && prefix >= 96) {
    masked = masked.slice(12);
    family = 'IPv4';
    shownPrefix = prefix - 96;
  }
  const addrText = family === 'IPv4' ? formatV4(masked) : formatV6(masked);
  return { family, text: `${addrText}/${shownPrefix}`, bytes: masked, prefix: shownPrefix };
}

/** True when `ip` lies inside `cidr` (an address of the other family never does). */
export function cidrContainsIp(cidr: ParsedCidr, ip: ParsedIp): boolean {
  if (cidr.family !== ip.family) return false;
  for (let bit = 0; bit < cidr.prefix; bit++) {
    const k = bit >> 3;
    const m = 0x80 >> (bit & 7);
    if (((cidr.bytes[k] as number) & m) !== ((ip.bytes[k] as number) & m)) return false;
  }
  return true;
}
