import { formatIpv4, tryParseIpv4 } from '../../ip/ipv4.js';
import type { NatRange, NetfilterTarget, Reject6With, RejectWith } from './netfilter-types.js';
import { LOG_LEVELS, REJECT6_TYPES, REJECT_TYPES, SERVICE_PORTS } from './netfilter-names.js';
import { formatIpv6Words, ipv6WordsEqual, tryParseIpv6Words } from './ipv6-words.js';
import { badInteger, hex, parseMarkMask, parseUintIn, saveString } from './parse-helpers.js';
import { paramError } from './restore-error.js';
import { arg0, noInvert, once, together, type TargetModule, type XtParseContext } from './xt-module.js';

/**
 * The target extensions knet implements (everything but the standard verdicts and jumps):
 * option parsing with iptables' messages and the text iptables-save prints.
 *
 * @remarks Linux equivalent: iptables 1.8.9 extensions/libxt_{REJECT,NAT,MASQUERADE,REDIRECT,
 * MARK,LOG,NFLOG,CT,NOTRACK,CONNMARK}.c.
 * @see iptables-extensions(8)
 */

/**
 * Protocols whose NAT ranges may carry ports: libxt_NAT's `portok` (TCP, UDP, SCTP, DCCP, ICMP;
 * the `-p` inversion is not looked at).
 */
const PORT_PROTOS = new Set([6, 17, 132, 33, 1]);

function portOk(ctx: XtParseContext): boolean {
  return PORT_PROTOS.has(ctx.protocol);
}

/**
 * `xtables_strtoui(s, &end, &v, min, max)`: strtoumax(3) with base 0 (leading blanks, `0x` hex,
 * leading-0 octal) over a prefix of `s`; `undefined` when no digits, a minus sign, or out of range.
 */
function strtouiPrefix(s: string, min: number, max: number): { value: number; rest: string } | undefined {
  const m = /^[ \t\n\v\f\r]*\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)/.exec(s);
  if (m === null || /^\s*-/.test(s)) return undefined;
  const digits = m[1] as string;
  const value = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits.startsWith('0') ? parseInt(digits, 8) : Number(digits);
  if (!Number.isSafeInteger(value) || value < min || value > max) return undefined;
  return { value, rest: s.slice(m[0].length) };
}

/** A port number or `/etc/services` name, as parse_ports reads the first port of a range. */
function portOrService(text: string, min: number): { value: number; rest: string } {
  const n = strtouiPrefix(text, min, 65535);
  if (n !== undefined) return n;
  const named = SERVICE_PORTS.get(text);
  if (named === undefined || named < min) throw paramError(`Port \`${text}' not valid`);
  return { value: named, rest: '' };
}

/** A port range as libxt_NAT's `parse_ports` reads it: `port[-port[/base]]`. */
interface PortsParse {
  readonly minPort: number;
  readonly maxPort: number;
  /** Present with `NF_NAT_RANGE_PROTO_OFFSET` (`/base`). */
  readonly basePort?: number;
}

/**
 * Parses `port[-port[/base]]` as libxt_NAT's `parse_ports` (iptables 1.8.9).
 *
 * @throws iptables' messages for a missing `-p`, bad ports, garbage and inverted ranges.
 */
function parsePorts(arg: string, ctx: XtParseContext): PortsParse {
  if (!portOk(ctx)) throw paramError('Need TCP, UDP, SCTP or DCCP with port specification');
  const first = portOrService(arg, 0);
  const end = first.rest;
  if (end === '') return { minPort: first.value, maxPort: first.value };
  if (end[0] === ':') throw paramError('Invalid port:port syntax - use dash');
  if (end[0] !== '-') throw paramError(`Garbage after port value: \`${end}'`);
  const maxText = end.slice(1);
  const max = strtouiPrefix(maxText, 0, 65535);
  if (max === undefined) throw paramError(`Port \`${maxText}' not valid`);
  if (max.value < first.value) throw paramError(`Port range \`${maxText}' funky`);
  if (max.rest === '') return { minPort: first.value, maxPort: max.value };
  if (max.rest[0] !== '/') throw paramError(`Garbage after port range: \`${max.rest}'`);
  const base = portOrService(max.rest.slice(1), 1);
  return { minPort: first.value, maxPort: max.value, basePort: base.value };
}

/**
 * Parses a NAT range `[ip[-ip]][:port[-port[/base]]]` (IPv6 addresses in brackets when a port
 * follows) as libxt_NAT's `parse_to` does for the context's family.
 *
 * @throws iptables' messages for bad addresses and ports.
 * @remarks Linux equivalent: iptables 1.8.9 extensions/libxt_NAT.c `parse_to` and `parse_ports`.
 */
export function parseNatRange(text: string, ctx: XtParseContext): NatRange {
  const v6 = ctx.family === 'ipv6';
  let addr: string;
  let colon: number;
  let bracketed = false;
  const open = text.indexOf('[');
  if (open < 0) {
    addr = text;
    colon = text.indexOf(':');
    // One colon is a port; more make an IPv6 address.
    if (colon >= 0 && text.indexOf(':', colon + 1) >= 0) colon = -1;
    if (colon >= 0) addr = text.slice(0, colon);
  } else {
    const close = text.indexOf(']', open + 1);
    if (close < 0 || !v6) throw paramError('Invalid address format');
    bracketed = true;
    addr = text.slice(open + 1, close);
    colon = text.indexOf(':', close + 1);
  }
  let ports: PortsParse | undefined;
  if (colon >= 0) {
    ports = parsePorts(text.slice(colon + 1), ctx);
    // Nothing before the colon but `[]`: a port-only range.
    if (colon === 0 || (colon === 2 && bracketed && open === 0)) return portFields(ports);
  }
  const dash = addr.indexOf('-');
  const first = dash < 0 ? addr : addr.slice(0, dash);
  const second = dash < 0 ? undefined : addr.slice(dash + 1);
  const range: { -readonly [K in keyof NatRange]: NatRange[K] } = {};
  if (v6) {
    const min = tryParseIpv6Words(first);
    if (min === undefined) throw paramError(`Bad IP address "${first}"`);
    const max = second === undefined ? min : tryParseIpv6Words(second);
    if (max === undefined) throw paramError(`Bad IP address "${second ?? ''}"`);
    range.minIp6 = min;
    range.maxIp6 = max;
  } else {
    const min = tryParseIpv4(first);
    if (min === undefined) throw paramError(`Bad IP address "${first}"`);
    const max = second === undefined ? min : tryParseIpv4(second);
    if (max === undefined) throw paramError(`Bad IP address "${second ?? ''}"`);
    range.minIp = min;
    range.maxIp = max;
  }
  return ports === undefined ? range : { ...range, ...portFields(ports) };
}

function portFields(p: PortsParse): NatRange {
  return p.basePort === undefined ? { minPort: p.minPort, maxPort: p.maxPort } : { minPort: p.minPort, maxPort: p.maxPort, basePort: p.basePort };
}

/**
 * Formats a NAT range as libxt_NAT's `sprint_range` does: an IPv6 address range goes in
 * brackets when ports follow.
 */
export function formatNatRange(r: NatRange): string {
  let out = '';
  const ports = r.minPort !== undefined;
  if (r.minIp6 !== undefined) {
    out += ports ? '[' : '';
    out += formatIpv6Words(r.minIp6);
    if (r.maxIp6 !== undefined && !ipv6WordsEqual(r.maxIp6, r.minIp6)) out += `-${formatIpv6Words(r.maxIp6)}`;
    out += ports ? ']' : '';
  } else if (r.minIp !== undefined) {
    out += formatIpv4(r.minIp);
    if (r.maxIp !== undefined && r.maxIp !== r.minIp) out += `-${formatIpv4(r.maxIp)}`;
  }
  if (r.minPort !== undefined) {
    out += `:${r.minPort}`;
    if (r.maxPort !== undefined && r.maxPort !== r.minPort) out += `-${r.maxPort}`;
    if (r.basePort !== undefined) out += `/${r.basePort}`;
  }
  return out;
}

/** `--to-ports` of MASQUERADE and REDIRECT: `parse_ports`. */
function parseToPorts(text: string, ctx: XtParseContext): PortsParse {
  return parsePorts(text, ctx);
}

function portsText(min: number | undefined, max: number | undefined, base?: number): string {
  if (min === undefined) return '';
  const range = max !== undefined && max !== min ? `${min}-${max}` : `${min}`;
  return ` --to-ports ${range}${base !== undefined ? `/${base}` : ''}`;
}

/** libxt_REJECT.c / libip6t_REJECT.c: a case-insensitive prefix of a type name or its alias. */
const REJECT: TargetModule<{ with?: RejectWith | Reject6With }> = {
  name: 'REJECT',
  options: [{ name: 'reject-with', args: 1 }],
  create: () => ({}),
  parse(s, option, args, invert, ctx) {
    noInvert('REJECT', option, invert);
    const a = arg0(args).toLowerCase();
    const table = ctx.family === 'ipv6' ? REJECT6_TYPES : REJECT_TYPES;
    const found = table.find((t) => t.name.startsWith(a) || t.alias.startsWith(a));
    if (found === undefined) throw paramError(`unknown reject type "${arg0(args)}"`);
    s.with = found.name;
  },
  finish: (s, ctx) => ({ kind: 'REJECT', with: s.with ?? (ctx.family === 'ipv6' ? 'icmp6-port-unreachable' : 'icmp-port-unreachable') }),
  save: (t) => (t.kind === 'REJECT' ? ` --reject-with ${t.with}` : ''),
};

interface NatState {
  range?: NatRange;
  random: boolean;
  randomFully: boolean;
  persistent: boolean;
}

function natModule(kind: 'DNAT' | 'SNAT'): TargetModule<NatState> {
  const to = kind === 'DNAT' ? 'to-destination' : 'to-source';
  return {
    name: kind,
    options: [
      { name: to, args: 1 },
      { name: 'random', args: 0 },
      ...(kind === 'SNAT' ? [{ name: 'random-fully', args: 0 as const }] : []),
      { name: 'persistent', args: 0 },
    ],
    create: () => ({ random: false, randomFully: false, persistent: false }),
    parse(s, option, args, invert, ctx) {
      noInvert(kind, option, invert);
      if (option === to) {
        once(kind, to, s.range !== undefined);
        const r = parseNatRange(arg0(args), ctx);
        // SNAT keeps no base port (its range struct has none): the offset flag prints as /0.
        s.range = kind === 'SNAT' && r.basePort !== undefined ? { ...r, basePort: 0 } : r;
      } else if (option === 'random') s.random = true;
      else if (option === 'random-fully') s.randomFully = true;
      else s.persistent = true;
    },
    finish(s): NetfilterTarget {
      if (s.range === undefined) throw paramError(`${kind}: option "--${to}" must be specified\n`);
      if (kind === 'DNAT') return { kind, range: s.range, random: s.random, persistent: s.persistent };
      return { kind, range: s.range, random: s.random, randomFully: s.randomFully, persistent: s.persistent };
    },
    save(t) {
      if (t.kind !== 'DNAT' && t.kind !== 'SNAT') return '';
      let out = ` --${to} ${t.range !== undefined ? formatNatRange(t.range) : ''}`;
      if (t.random) out += ' --random';
      if (t.kind === 'SNAT' && t.randomFully) out += ' --random-fully';
      if (t.persistent) out += ' --persistent';
      return out;
    },
  };
}

const MASQUERADE: TargetModule<{ ports?: PortsParse; random: boolean; randomFully: boolean }> = {
  name: 'MASQUERADE',
  options: [
    { name: 'to-ports', args: 1 },
    { name: 'random', args: 0 },
    { name: 'random-fully', args: 0 },
  ],
  create: () => ({ random: false, randomFully: false }),
  parse(s, option, args, invert, ctx) {
    noInvert('MASQUERADE', option, invert);
    if (option === 'to-ports') {
      once('MASQUERADE', option, s.ports !== undefined);
      const p = parseToPorts(arg0(args), ctx);
      // MASQUERADE's range struct keeps no base port: the offset flag prints as /0.
      s.ports = p.basePort !== undefined ? { ...p, basePort: 0 } : p;
    }
    else if (option === 'random') s.random = true;
    else s.randomFully = true;
  },
  finish: (s) => ({
    kind: 'MASQUERADE',
    ...(s.ports !== undefined ? s.ports : {}),
    random: s.random,
    randomFully: s.randomFully,
  }),
  save(t) {
    if (t.kind !== 'MASQUERADE') return '';
    let out = portsText(t.minPort, t.maxPort, t.basePort);
    if (t.random) out += ' --random';
    if (t.randomFully) out += ' --random-fully';
    return out;
  },
};

const REDIRECT: TargetModule<{ ports?: PortsParse; random: boolean }> = {
  name: 'REDIRECT',
  options: [
    { name: 'to-ports', args: 1 },
    { name: 'random', args: 0 },
  ],
  create: () => ({ random: false }),
  parse(s, option, args, invert, ctx) {
    noInvert('REDIRECT', option, invert);
    if (option === 'to-ports') {
      once('REDIRECT', option, s.ports !== undefined);
      s.ports = parseToPorts(arg0(args), ctx);
    } else s.random = true;
  },
  finish(s) {
    if (s.ports?.basePort !== undefined) throw paramError('Shifted portmap ranges not supported with this kernel');
    return { kind: 'REDIRECT', ...(s.ports !== undefined ? { minPort: s.ports.minPort, maxPort: s.ports.maxPort } : {}), random: s.random };
  },
  save(t) {
    if (t.kind !== 'REDIRECT') return '';
    return portsText(t.minPort, t.maxPort) + (t.random ? ' --random' : '');
  },
};

const MARK_OPTIONS = ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark'] as const;

const MARK: TargetModule<{ option?: string; value: number; mask: number }> = {
  name: 'MARK',
  options: MARK_OPTIONS.map((name) => ({ name, args: 1 as const })),
  create: () => ({ value: 0, mask: 0 }),
  parse(s, option, args, invert) {
    noInvert('MARK', option, invert);
    if (s.option !== undefined) {
      if (s.option === option) once('MARK', option, true);
      throw together('MARK', s.option, option);
    }
    s.option = option;
    const a = arg0(args);
    if (option === 'set-xmark' || option === 'set-mark') {
      const mm = parseMarkMask(a, 'MARK', option);
      s.value = mm.value;
      // --set-mark v/m clears the mask bits and sets v: xmark v/(m|v).
      s.mask = option === 'set-mark' ? (mm.mask | mm.value) >>> 0 : mm.mask;
      return;
    }
    const v = parseUintIn(a, 0, 0xffffffff);
    if (v === undefined) throw badInteger('MARK', option);
    if (option === 'and-mark') {
      s.value = 0;
      s.mask = ~v >>> 0;
    } else if (option === 'or-mark') {
      s.value = v;
      s.mask = v;
    } else {
      s.value = v;
      s.mask = 0;
    }
  },
  finish(s) {
    if (s.option === undefined) throw paramError('MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required');
    return { kind: 'MARK', value: s.value, mask: s.mask };
  },
  save: (t) => (t.kind === 'MARK' ? ` --set-xmark ${hex(t.value)}/${hex(t.mask)}` : ''),
};

const LOG_FLAGS: Readonly<Record<string, number>> = {
  'log-tcp-sequence': 0x01,
  'log-tcp-options': 0x02,
  'log-ip-options': 0x04,
  'log-uid': 0x08,
  'log-macdecode': 0x20,
};

const LOG: TargetModule<{ level?: number; prefix?: string; flags: number }> = {
  name: 'LOG',
  options: [
    { name: 'log-level', args: 1 },
    { name: 'log-prefix', args: 1 },
    ...Object.keys(LOG_FLAGS).map((name) => ({ name, args: 0 as const })),
  ],
  create: () => ({ flags: 0 }),
  parse(s, option, args, invert) {
    noInvert('LOG', option, invert);
    const a = arg0(args);
    if (option === 'log-level') {
      once('LOG', option, s.level !== undefined);
      const n = LOG_LEVELS.get(a) ?? parseUintIn(a, 0, 7);
      if (n === undefined) throw paramError(`log level "${a}" unknown\n`);
      s.level = n;
    } else if (option === 'log-prefix') {
      once('LOG', option, s.prefix !== undefined);
      // The kernel structure holds 29 characters plus NUL; longer prefixes are cut.
      s.prefix = a.slice(0, 29);
    } else {
      s.flags |= LOG_FLAGS[option] ?? 0;
    }
  },
  finish: (s) => ({ kind: 'LOG', level: s.level ?? 4, prefix: s.prefix ?? '', flags: s.flags }),
  save(t) {
    if (t.kind !== 'LOG') return '';
    let out = '';
    if (t.prefix !== '') out += ` --log-prefix ${saveString(t.prefix)}`;
    if (t.level !== 4) out += ` --log-level ${t.level}`;
    for (const [name, bit] of Object.entries(LOG_FLAGS)) if (t.flags & bit) out += ` --${name}`;
    return out;
  },
};

const NFLOG: TargetModule<{ group?: number; prefix?: string; size?: number; range?: number; threshold?: number }> = {
  name: 'NFLOG',
  options: [
    { name: 'nflog-group', args: 1 },
    { name: 'nflog-prefix', args: 1 },
    { name: 'nflog-range', args: 1 },
    { name: 'nflog-size', args: 1 },
    { name: 'nflog-threshold', args: 1 },
  ],
  create: () => ({}),
  parse(s, option, args, invert) {
    noInvert('NFLOG', option, invert);
    const a = arg0(args);
    switch (option) {
      case 'nflog-group': {
        const n = parseUintIn(a, 0, 65535);
        if (n === undefined) throw badInteger('NFLOG', option);
        s.group = n;
        return;
      }
      case 'nflog-prefix':
        if (a.length > 63) throw paramError('NFLOG: Maximum prefix length 64 for --nflog-prefix\n');
        s.prefix = a;
        return;
      case 'nflog-range':
      case 'nflog-size': {
        const n = parseUintIn(a, 0, 0xffffffff);
        if (n === undefined) throw badInteger('NFLOG', option);
        if (option === 'nflog-size') s.size = n;
        else s.range = n;
        return;
      }
      case 'nflog-threshold': {
        const n = parseUintIn(a, 1, 65535);
        if (n === undefined) throw badInteger('NFLOG', option);
        s.threshold = n;
        return;
      }
    }
  },
  finish: (s) => ({
    kind: 'NFLOG',
    group: s.group ?? 0,
    prefix: s.prefix ?? '',
    ...(s.size !== undefined ? { size: s.size } : {}),
    ...(s.range !== undefined ? { range: s.range } : {}),
    threshold: s.threshold ?? 1,
  }),
  save(t) {
    if (t.kind !== 'NFLOG') return '';
    let out = '';
    if (t.prefix !== '') out += ` --nflog-prefix ${saveString(t.prefix)}`;
    if (t.group !== 0) out += ` --nflog-group ${t.group}`;
    if (t.size !== undefined) out += ` --nflog-size ${t.size}`;
    else if (t.range !== undefined && t.range !== 0) out += ` --nflog-range ${t.range}`;
    if (t.threshold !== 1) out += ` --nflog-threshold ${t.threshold}`;
    return out;
  },
};

const CT: TargetModule<{ notrack: boolean }> = {
  name: 'CT',
  options: [{ name: 'notrack', args: 0 }],
  create: () => ({ notrack: false }),
  parse(s, option, _args, invert) {
    noInvert('CT', option, invert);
    s.notrack = true;
  },
  finish(s) {
    // Zones, helpers and timeouts of the CT target are not modelled.
    if (!s.notrack) throw paramError('CT: knet supports only --notrack');
    return { kind: 'CT', notrack: true };
  },
  save: (t) => (t.kind === 'CT' ? ' --notrack' : ''),
};

const NOTRACK: TargetModule<Record<string, never>> = {
  name: 'NOTRACK',
  options: [],
  create: () => ({}),
  parse() {},
  finish: () => ({ kind: 'NOTRACK' }),
  save: () => '',
};

interface ConnmarkState {
  option?: string;
  mode?: 'set' | 'save' | 'restore';
  ctmark: number;
  ctmask: number;
  nfmask: number;
}

const CONNMARK: TargetModule<ConnmarkState> = {
  name: 'CONNMARK',
  options: [
    { name: 'set-xmark', args: 1 },
    { name: 'set-mark', args: 1 },
    { name: 'and-mark', args: 1 },
    { name: 'or-mark', args: 1 },
    { name: 'xor-mark', args: 1 },
    { name: 'save-mark', args: 0 },
    { name: 'restore-mark', args: 0 },
    { name: 'nfmask', args: 1 },
    { name: 'ctmask', args: 1 },
    { name: 'mask', args: 1 },
  ],
  create: () => ({ ctmark: 0, ctmask: 0xffffffff, nfmask: 0xffffffff }),
  parse(s, option, args, invert) {
    noInvert('CONNMARK', option, invert);
    const a = arg0(args);
    const num = (): number => {
      const v = parseUintIn(a, 0, 0xffffffff);
      if (v === undefined) throw badInteger('CONNMARK', option);
      return v;
    };
    if (option === 'nfmask') s.nfmask = num();
    else if (option === 'ctmask') s.ctmask = num();
    else if (option === 'mask') s.nfmask = s.ctmask = num();
    else {
      if (s.option !== undefined) throw together('CONNMARK', s.option, option);
      s.option = option;
      if (option === 'save-mark') s.mode = 'save';
      else if (option === 'restore-mark') s.mode = 'restore';
      else {
        s.mode = 'set';
        if (option === 'set-xmark' || option === 'set-mark') {
          const mm = parseMarkMask(a, 'CONNMARK', option);
          s.ctmark = mm.value;
          s.ctmask = option === 'set-mark' ? (mm.mask | mm.value) >>> 0 : mm.mask;
        } else {
          const v = num();
          if (option === 'and-mark') {
            s.ctmark = 0;
            s.ctmask = ~v >>> 0;
          } else if (option === 'or-mark') {
            s.ctmark = v;
            s.ctmask = v;
          } else {
            s.ctmark = v;
            s.ctmask = 0;
          }
        }
      }
    }
  },
  finish(s) {
    if (s.mode === undefined) throw paramError('CONNMARK target: No operation specified');
    return { kind: 'CONNMARK', mode: s.mode, ctmark: s.ctmark, ctmask: s.ctmask, nfmask: s.nfmask };
  },
  save(t) {
    if (t.kind !== 'CONNMARK') return '';
    if (t.mode === 'set') return ` --set-xmark ${hex(t.ctmark)}/${hex(t.ctmask)}`;
    return ` --${t.mode}-mark --nfmask ${hex(t.nfmask)} --ctmask ${hex(t.ctmask)}`;
  },
};

/** All target extensions by name (`-j NAME`). */
export const TARGET_MODULES: ReadonlyMap<string, TargetModule> = new Map<string, TargetModule>(
  [REJECT, natModule('DNAT'), natModule('SNAT'), MASQUERADE, REDIRECT, MARK, LOG, NFLOG, CT, NOTRACK, CONNMARK].map(
    (t) => [t.name, t as TargetModule],
  ),
);

/** The standard verdict targets (`-j ACCEPT|DROP|RETURN`). */
export const STANDARD_TARGETS: ReadonlySet<string> = new Set(['ACCEPT', 'DROP', 'RETURN']);
