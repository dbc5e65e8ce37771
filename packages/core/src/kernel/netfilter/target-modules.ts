import { formatIpv4, tryParseIpv4 } from '../../ip/ipv4.js';
import type { NatRange, NetfilterTarget, RejectWith } from './netfilter-types.js';
import { LOG_LEVELS, REJECT_TYPES } from './netfilter-names.js';
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

/** Protocols that carry ports for NAT (`Need TCP, UDP, SCTP or DCCP with port specification`). */
const PORT_PROTOS = new Set([6, 17, 132, 33, 136]);

function portOk(ctx: XtParseContext): boolean {
  return PORT_PROTOS.has(ctx.protocol) && !ctx.protocolInvert;
}

/** C atoi(3): leading digits, 0 when none. */
function atoi(s: string): number {
  const m = /^\s*[+-]?\d+/.exec(s);
  return m === null ? 0 : Number(m[0]);
}

/**
 * Parses a NAT range `[ip[-ip]][:port[-port]]` as libxt_NAT's `parse_to` does.
 *
 * @throws iptables' messages for bad addresses and ports.
 */
export function parseNatRange(text: string, ctx: XtParseContext): NatRange {
  const colon = text.indexOf(':');
  let minPort: number | undefined;
  let maxPort: number | undefined;
  let ipPart = text;
  if (colon >= 0) {
    if (!portOk(ctx)) throw paramError('Need TCP, UDP, SCTP or DCCP with port specification');
    const portText = text.slice(colon + 1);
    const port = atoi(portText);
    if (port < 0 || port > 65535) throw paramError(`Port \`${portText}' not valid`);
    if (portText.includes(':')) throw paramError('Invalid port:port syntax - use dash');
    const dash = portText.indexOf('-');
    if (dash < 0) {
      minPort = maxPort = port;
    } else {
      const maxText = portText.slice(dash + 1);
      const max = atoi(maxText);
      if (max <= 0 || max > 65535) throw paramError(`Port \`${maxText}' not valid`);
      if (max < port) throw paramError(`Port range \`${maxText}' funky`);
      minPort = port;
      maxPort = max;
    }
    if (colon === 0) return { minPort, maxPort };
    ipPart = text.slice(0, colon);
  }
  const dash = ipPart.indexOf('-');
  const first = dash < 0 ? ipPart : ipPart.slice(0, dash);
  const minIp = tryParseIpv4(first);
  if (minIp === undefined) throw paramError(`Bad IP address "${first}"`);
  let maxIp = minIp;
  if (dash >= 0) {
    const second = ipPart.slice(dash + 1);
    const m = tryParseIpv4(second);
    if (m === undefined) throw paramError(`Bad IP address "${second}"`);
    maxIp = m;
  }
  return {
    minIp,
    maxIp,
    ...(minPort !== undefined ? { minPort } : {}),
    ...(maxPort !== undefined ? { maxPort } : {}),
  };
}

/** Formats a NAT range as libxt_NAT's `print_range` does. */
export function formatNatRange(r: NatRange): string {
  let out = '';
  if (r.minIp !== undefined) {
    out += formatIpv4(r.minIp);
    if (r.maxIp !== undefined && r.maxIp !== r.minIp) out += `-${formatIpv4(r.maxIp)}`;
  }
  if (r.minPort !== undefined) {
    out += `:${r.minPort}`;
    if (r.maxPort !== undefined && r.maxPort !== r.minPort) out += `-${r.maxPort}`;
  }
  return out;
}

function parseToPorts(text: string, ctx: XtParseContext): { minPort: number; maxPort: number } {
  if (!portOk(ctx)) throw paramError('Need TCP, UDP, SCTP or DCCP with port specification');
  const dash = text.indexOf('-');
  const min = parseUintIn(dash < 0 ? text : text.slice(0, dash), 0, 65535);
  if (min === undefined) throw paramError(`Port \`${text}' not valid`);
  if (dash < 0) return { minPort: min, maxPort: min };
  const max = parseUintIn(text.slice(dash + 1), 0, 65535);
  if (max === undefined) throw paramError(`Port \`${text.slice(dash + 1)}' not valid`);
  if (max < min) throw paramError(`Port range \`${text.slice(dash + 1)}' funky`);
  return { minPort: min, maxPort: max };
}

function portsText(min: number | undefined, max: number | undefined): string {
  if (min === undefined) return '';
  return max !== undefined && max !== min ? ` --to-ports ${min}-${max}` : ` --to-ports ${min}`;
}

const REJECT: TargetModule<{ with?: RejectWith }> = {
  name: 'REJECT',
  options: [{ name: 'reject-with', args: 1 }],
  create: () => ({}),
  parse(s, option, args, invert) {
    noInvert('REJECT', option, invert);
    const a = arg0(args).toLowerCase();
    const found = REJECT_TYPES.find((t) => t.name.startsWith(a) || t.alias.startsWith(a));
    if (found === undefined) throw paramError(`unknown reject type "${arg0(args)}"`);
    s.with = found.name;
  },
  finish: (s) => ({ kind: 'REJECT', with: s.with ?? 'icmp-port-unreachable' }),
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
        s.range = parseNatRange(arg0(args), ctx);
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

const MASQUERADE: TargetModule<{ ports?: { minPort: number; maxPort: number }; random: boolean; randomFully: boolean }> = {
  name: 'MASQUERADE',
  options: [
    { name: 'to-ports', args: 1 },
    { name: 'random', args: 0 },
    { name: 'random-fully', args: 0 },
  ],
  create: () => ({ random: false, randomFully: false }),
  parse(s, option, args, invert, ctx) {
    noInvert('MASQUERADE', option, invert);
    if (option === 'to-ports') s.ports = parseToPorts(arg0(args), ctx);
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
    let out = portsText(t.minPort, t.maxPort);
    if (t.random) out += ' --random';
    if (t.randomFully) out += ' --random-fully';
    return out;
  },
};

const REDIRECT: TargetModule<{ ports?: { minPort: number; maxPort: number }; random: boolean }> = {
  name: 'REDIRECT',
  options: [
    { name: 'to-ports', args: 1 },
    { name: 'random', args: 0 },
  ],
  create: () => ({ random: false }),
  parse(s, option, args, invert, ctx) {
    noInvert('REDIRECT', option, invert);
    if (option === 'to-ports') s.ports = parseToPorts(arg0(args), ctx);
    else s.random = true;
  },
  finish: (s) => ({ kind: 'REDIRECT', ...(s.ports !== undefined ? s.ports : {}), random: s.random }),
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
