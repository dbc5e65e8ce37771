import { formatIpv4, tryParseIpv4 } from '../../ip/ipv4.js';
import type {
  AddrType,
  AddrtypeMatch,
  ConntrackMatch,
  CtState,
  CtStatus,
  MultiportMatch,
  NetfilterFamily,
  NetfilterMatch,
  PhysdevMatch,
  PortRange,
  RecentCommand,
  RecentMatch,
  SetMatch,
  StatisticMatch,
  TcpMatch,
} from './netfilter-types.js';
import {
  ADDR_TYPES,
  CT_STATES,
  CT_STATUSES,
  ICMP_TYPE_NAMES,
  ICMP6_TYPE_NAMES,
  lookupProtocol,
  STATE_STATES,
  TCP_FLAG_NAMES,
} from './netfilter-names.js';
import {
  badInteger,
  checkInterface,
  formatAddressMaskShort,
  hex,
  parseAddressMask,
  parseMarkMask,
  parsePort,
  parsePortRange,
  parseUintIn,
  saveString,
} from './parse-helpers.js';
import { paramError, UnsupportedOptionError } from './restore-error.js';
import { formatIpv6Words, IPV6_HOST_MASK, tryParseIpv6Words } from './ipv6-words.js';
import { arg0, noInvert, once, together, type MatchModule, type XtParseContext } from './xt-module.js';

/**
 * The match extensions knet implements: option parsing with iptables' rules and messages, and
 * the exact text iptables-save prints for each.
 *
 * @remarks Linux equivalent: iptables 1.8.9 extensions/libxt_*.c and libipt_icmp.c.
 * @see iptables-extensions(8)
 */

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMP = 1;
const IPPROTO_SCTP = 132;
const IPPROTO_ICMPV6 = 58;

function portRange(text: string, invert: boolean): PortRange {
  const r = parsePortRange(text);
  return { min: r.min, max: r.max, invert };
}

function savePort(name: string, r: PortRange | undefined, skipFull: boolean): string {
  if (r === undefined) return '';
  if (skipFull && r.min === 0 && r.max === 0xffff) return '';
  const v = r.min === r.max ? `${r.min}` : `${r.min}:${r.max}`;
  return `${r.invert ? ' !' : ''} --${name} ${v}`;
}

function parseTcpFlags(text: string): number {
  let flags = 0;
  for (const f of text.split(',')) {
    const e = TCP_FLAG_NAMES.find((t) => t.name.toLowerCase() === f.toLowerCase());
    if (e === undefined) throw paramError(`Unknown TCP flag \`${f}'`);
    flags |= e.flag;
  }
  return flags;
}

function formatTcpFlags(flags: number): string {
  const names: string[] = [];
  for (const t of TCP_FLAG_NAMES.slice(0, 6)) if (flags & t.flag) names.push(t.name);
  return names.length === 0 ? 'NONE' : names.join(',');
}

interface PortsState {
  sport?: PortRange;
  dport?: PortRange;
  flags?: { mask: number; comp: number; invert: boolean };
  option?: { option: number; invert: boolean };
}

const TCP: MatchModule<PortsState> = {
  name: 'tcp',
  options: [
    { name: 'source-port', args: 1 },
    { name: 'sport', args: 1 },
    { name: 'destination-port', args: 1 },
    { name: 'dport', args: 1 },
    { name: 'syn', args: 0 },
    { name: 'tcp-flags', args: 2 },
    { name: 'tcp-option', args: 1 },
  ],
  create: () => ({}),
  parse(s, option, args, invert) {
    switch (option) {
      case 'source-port':
      case 'sport':
        if (s.sport !== undefined) throw paramError("Only one `--source-port' allowed");
        s.sport = portRange(arg0(args), invert);
        return;
      case 'destination-port':
      case 'dport':
        if (s.dport !== undefined) throw paramError("Only one `--destination-port' allowed");
        s.dport = portRange(arg0(args), invert);
        return;
      case 'syn':
        if (s.flags !== undefined) throw paramError("Only one of `--syn' or `--tcp-flags'  allowed");
        s.flags = { mask: 0x17, comp: 0x02, invert };
        return;
      case 'tcp-flags': {
        if (s.flags !== undefined) throw paramError("Only one of `--syn' or `--tcp-flags'  allowed");
        if (args.length < 2) throw paramError('--tcp-flags requires two args.');
        s.flags = { mask: parseTcpFlags(arg0(args)), comp: parseTcpFlags(args[1] ?? ''), invert };
        return;
      }
      case 'tcp-option': {
        if (s.option !== undefined) throw paramError("Only one `--tcp-option' allowed");
        const n = parseUintIn(arg0(args), 1, 255);
        if (n === undefined) throw paramError(`Unknown TCP option \`${arg0(args)}'`);
        s.option = { option: n, invert };
        return;
      }
    }
  },
  finish(s): TcpMatch {
    const m: Mutable<TcpMatch> = { kind: 'tcp' };
    if (s.sport !== undefined) m.sport = s.sport;
    if (s.dport !== undefined) m.dport = s.dport;
    if (s.flags !== undefined) m.flags = s.flags;
    if (s.option !== undefined) m.option = s.option;
    return m;
  },
  save(m) {
    if (m.kind !== 'tcp') return '';
    let out = savePort('sport', m.sport, true) + savePort('dport', m.dport, true);
    if (m.option !== undefined) out += `${m.option.invert ? ' !' : ''} --tcp-option ${m.option.option}`;
    if (m.flags !== undefined) {
      out += `${m.flags.invert ? ' !' : ''} --tcp-flags ${formatTcpFlags(m.flags.mask)} ${formatTcpFlags(m.flags.comp)}`;
    }
    return out;
  },
};

function portsOnly(name: 'udp' | 'sctp', skipFull: boolean): MatchModule<PortsState> {
  return {
    name,
    options: [
      { name: 'source-port', args: 1 },
      { name: 'sport', args: 1 },
      { name: 'destination-port', args: 1 },
      { name: 'dport', args: 1 },
    ],
    create: () => ({}),
    parse(s, option, args, invert) {
      if (option === 'source-port' || option === 'sport') {
        once(name, option, s.sport !== undefined);
        s.sport = portRange(arg0(args), invert);
      } else {
        once(name, option, s.dport !== undefined);
        s.dport = portRange(arg0(args), invert);
      }
    },
    finish(s) {
      const m: { kind: 'udp' | 'sctp'; sport?: PortRange; dport?: PortRange } = { kind: name };
      if (s.sport !== undefined) m.sport = s.sport;
      if (s.dport !== undefined) m.dport = s.dport;
      return m as NetfilterMatch;
    },
    save(m) {
      if (m.kind !== name) return '';
      return savePort('sport', m.sport, skipFull) + savePort('dport', m.dport, skipFull);
    },
  };
}

interface IcmpState {
  type?: number;
  codeMin: number;
  codeMax: number;
  invert: boolean;
}

function parseIcmpType(text: string): { type: number; codeMin: number; codeMax: number } {
  const lower = text.toLowerCase();
  let found: (typeof ICMP_TYPE_NAMES)[number] | undefined;
  for (const e of ICMP_TYPE_NAMES) {
    if (e.name.toLowerCase().startsWith(lower)) {
      if (e.name.toLowerCase() === lower) {
        found = e;
        break;
      }
      if (found !== undefined) throw paramError(`Ambiguous ICMP type \`${text}': \`${found.name}' or \`${e.name}'?`);
      found = e;
    }
  }
  if (found !== undefined && text !== '') return { type: found.type, codeMin: found.codeMin, codeMax: found.codeMax };
  const slash = text.indexOf('/');
  const typeText = slash < 0 ? text : text.slice(0, slash);
  const type = parseUintIn(typeText, 0, 255);
  if (type === undefined) throw paramError(`Unknown ICMP type \`${text}'`);
  if (slash < 0) return { type, codeMin: 0, codeMax: 0xff };
  const code = parseUintIn(text.slice(slash + 1), 0, 255);
  if (code === undefined) throw paramError(`Unknown ICMP code \`${text}'`);
  return { type, codeMin: code, codeMax: code };
}

const ICMP: MatchModule<IcmpState> = {
  name: 'icmp',
  options: [{ name: 'icmp-type', args: 1 }],
  create: () => ({ codeMin: 0, codeMax: 0xff, invert: false }),
  parse(s, _option, args, invert) {
    once('icmp', 'icmp-type', s.type !== undefined);
    const t = parseIcmpType(arg0(args));
    s.type = t.type;
    s.codeMin = t.codeMin;
    s.codeMax = t.codeMax;
    s.invert = invert;
  },
  finish(s) {
    // Without --icmp-type the match is "any" (icmp_init sets type 0xff).
    return { kind: 'icmp', type: s.type ?? 0xff, codeMin: s.codeMin, codeMax: s.codeMax, invert: s.invert };
  },
  save(m) {
    if (m.kind !== 'icmp') return '';
    const inv = m.invert ? ' !' : '';
    if (m.type === 0xff) return `${inv} --icmp-type any`;
    const code = m.codeMin !== 0 || m.codeMax !== 0xff ? `/${m.codeMin}` : '';
    return `${inv} --icmp-type ${m.type}${code}`;
  },
};

/**
 * libip6t_icmp6.c `parse_icmpv6`: a unique case-insensitive prefix of a name (a second prefix
 * match is ambiguous, even after an exact one), else `type[/code]`.
 */
function parseIcmp6Type(text: string): { type: number; codeMin: number; codeMax: number } {
  const lower = text.toLowerCase();
  let found: (typeof ICMP6_TYPE_NAMES)[number] | undefined;
  for (const e of ICMP6_TYPE_NAMES) {
    if (!e.name.toLowerCase().startsWith(lower)) continue;
    if (found !== undefined) throw paramError(`Ambiguous ICMPv6 type \`${text}': \`${found.name}' or \`${e.name}'?`);
    found = e;
  }
  if (found !== undefined) return { type: found.type, codeMin: found.codeMin, codeMax: found.codeMax };
  const slash = text.indexOf('/');
  const typeText = slash < 0 ? text : text.slice(0, slash);
  const type = parseUintIn(typeText, 0, 255);
  if (type === undefined) throw paramError(`Unknown ICMPv6 type \`${text}'`);
  if (slash < 0) return { type, codeMin: 0, codeMax: 0xff };
  const code = parseUintIn(text.slice(slash + 1), 0, 255);
  if (code === undefined) throw paramError(`Unknown ICMPv6 code \`${text}'`);
  return { type, codeMin: code, codeMax: code };
}

const ICMP6: MatchModule<IcmpState> = {
  name: 'icmp6',
  options: [{ name: 'icmpv6-type', args: 1 }],
  create: () => ({ codeMin: 0, codeMax: 0xff, invert: false }),
  parse(s, _option, args, invert) {
    once('icmp6', 'icmpv6-type', s.type !== undefined);
    const t = parseIcmp6Type(arg0(args));
    s.type = t.type;
    s.codeMin = t.codeMin;
    s.codeMax = t.codeMax;
    if (invert) s.invert = true;
  },
  finish(s) {
    if (s.type === undefined) throw paramError('icmp6: option "--icmpv6-type" must be specified\n');
    return { kind: 'icmp6', type: s.type, codeMin: s.codeMin, codeMax: s.codeMax, invert: s.invert };
  },
  save(m) {
    if (m.kind !== 'icmp6') return '';
    const code = m.codeMin !== 0 || m.codeMax !== 0xff ? `/${m.codeMin}` : '';
    return `${m.invert ? ' !' : ''} --icmpv6-type ${m.type}${code}`;
  },
};

const COMMENT: MatchModule<{ comment?: string }> = {
  name: 'comment',
  options: [{ name: 'comment', args: 1 }],
  create: () => ({}),
  parse(s, option, args, invert) {
    noInvert('comment', option, invert);
    once('comment', option, s.comment !== undefined);
    // The kernel structure holds 255 characters plus NUL; longer comments are cut.
    s.comment = arg0(args).slice(0, 255);
  },
  finish(s) {
    if (s.comment === undefined) throw paramError('comment: option "--comment" must be specified\n');
    return { kind: 'comment', comment: s.comment };
  },
  save(m) {
    return m.kind === 'comment' ? ` --comment ${saveString(m.comment)}` : '';
  },
};

const MARK: MatchModule<{ value?: number; mask: number; invert: boolean }> = {
  name: 'mark',
  options: [{ name: 'mark', args: 1 }],
  create: () => ({ mask: 0xffffffff, invert: false }),
  parse(s, option, args, invert) {
    once('mark', option, s.value !== undefined);
    const mm = parseMarkMask(arg0(args), 'mark', 'mark');
    s.value = mm.value;
    s.mask = mm.mask;
    s.invert = invert;
  },
  finish(s) {
    if (s.value === undefined) throw paramError('mark: option "--mark" must be specified\n');
    return { kind: 'mark', value: s.value, mask: s.mask, invert: s.invert };
  },
  save(m) {
    if (m.kind !== 'mark') return '';
    const mask = m.mask === 0xffffffff ? '' : `/${hex(m.mask)}`;
    return `${m.invert ? ' !' : ''} --mark ${hex(m.value)}${mask}`;
  },
};

/** `lround(p · 2^31)` as libxt_statistic stores `--probability`. */
export function probabilityToFixed(p: number): number {
  return Math.round(p * 0x80000000);
}

/**
 * Prints a fixed-point probability as `printf("%.11f", v / 2^31)` does (exact decimal
 * expansion, round-half-to-even).
 */
export function formatProbability(fixed: number): string {
  const cached = PROBABILITY_TEXT.get(fixed);
  if (cached !== undefined) return cached;
  const text = formatProbabilityExact(fixed);
  if (PROBABILITY_TEXT.size < 100000) PROBABILITY_TEXT.set(fixed, text);
  return text;
}

/** kube-proxy uses a few probabilities (1/n) over and over. */
const PROBABILITY_TEXT = new Map<number, string>();

function formatProbabilityExact(fixed: number): string {
  // v / 2^31 · 10^11, rounded half to even, computed exactly in integers.
  const num = BigInt(fixed) * 10n ** 11n;
  const den = 1n << 31n;
  let q = num / den;
  const r = num % den;
  if (r * 2n > den || (r * 2n === den && q % 2n === 1n)) q += 1n;
  const s = q.toString().padStart(12, '0');
  return `${s.slice(0, -11)}.${s.slice(-11)}`;
}

interface StatisticState {
  mode?: 'random' | 'nth';
  probability?: number;
  every?: number;
  packet?: number;
  invert: boolean;
}

const STATISTIC: MatchModule<StatisticState> = {
  name: 'statistic',
  options: [
    { name: 'mode', args: 1 },
    { name: 'probability', args: 1 },
    { name: 'every', args: 1 },
    { name: 'packet', args: 1 },
  ],
  create: () => ({ invert: false }),
  parse(s, option, args, invert) {
    const a = arg0(args);
    switch (option) {
      case 'mode':
        noInvert('statistic', option, invert);
        once('statistic', option, s.mode !== undefined);
        if (a !== 'random' && a !== 'nth') throw paramError(`Bad mode "${a}"`);
        s.mode = a;
        return;
      case 'probability': {
        once('statistic', option, s.probability !== undefined);
        const p = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(a) ? Number(a) : NaN;
        if (!(p >= 0 && p <= 1)) throw paramError(`statistic: bad value for option "--probability", or out of range (0-1).\n`);
        s.probability = probabilityToFixed(p);
        if (invert) s.invert = true;
        return;
      }
      case 'every': {
        once('statistic', option, s.every !== undefined);
        const n = parseUintIn(a, 1, 0xffffffff);
        if (n === undefined) throw badInteger('statistic', option);
        s.every = n;
        if (invert) s.invert = true;
        return;
      }
      case 'packet': {
        noInvert('statistic', option, invert);
        once('statistic', option, s.packet !== undefined);
        const n = parseUintIn(a, 0, 0xffffffff);
        if (n === undefined) throw badInteger('statistic', option);
        s.packet = n;
        return;
      }
    }
  },
  finish(s): StatisticMatch {
    if (s.mode === undefined) throw paramError('statistic: option "--mode" must be specified\n');
    if (s.probability !== undefined && s.every !== undefined) throw together('statistic', 'probability', 'every');
    if (s.every !== undefined && s.packet === undefined) {
      throw paramError('statistic: option "--every" also requires "--packet".\n');
    }
    if (s.packet !== undefined && s.every === undefined) {
      throw paramError('statistic: option "--packet" also requires "--every".\n');
    }
    if (s.mode === 'random') {
      if (s.probability === undefined) throw paramError('--probability must be specified when using random mode');
      if (s.every !== undefined) throw paramError('--every can only be used in nth mode');
      return { kind: 'statistic', mode: 'random', probability: s.probability, invert: s.invert };
    }
    if (s.probability !== undefined) throw paramError('--probability can only be used in random mode');
    if (s.every === undefined) throw paramError('--every must be specified when using nth mode');
    const packet = s.packet ?? 0;
    if (packet > s.every - 1) throw paramError('the --packet p must be 0 <= p <= n-1');
    return {
      kind: 'statistic',
      mode: 'nth',
      every: s.every,
      packet,
      invert: s.invert,
      // libxt_statistic: count = (every - 1) - packet, so packet p of every n matches first.
      state: { count: s.every - 1 - packet },
    };
  },
  save(m) {
    if (m.kind !== 'statistic') return '';
    const inv = m.invert ? ' !' : '';
    if (m.mode === 'random') return ` --mode random${inv} --probability ${formatProbability(m.probability)}`;
    return ` --mode nth${inv} --every ${m.every} --packet ${m.packet}`;
  },
};

interface RecentState {
  command?: RecentCommand;
  invert: boolean;
  name?: string;
  side?: 'source' | 'dest';
  mask?: number;
  mask6?: readonly [number, number, number, number];
  seconds?: number;
  reap: boolean;
  hitcount?: number;
  rttl: boolean;
}

const RECENT: MatchModule<RecentState> = {
  name: 'recent',
  options: [
    { name: 'set', args: 0 },
    { name: 'rcheck', args: 0 },
    { name: 'update', args: 0 },
    { name: 'remove', args: 0 },
    { name: 'seconds', args: 1 },
    { name: 'reap', args: 0 },
    { name: 'hitcount', args: 1 },
    { name: 'rttl', args: 0 },
    { name: 'name', args: 1 },
    { name: 'rsource', args: 0 },
    { name: 'rdest', args: 0 },
    { name: 'mask', args: 1 },
  ],
  create: () => ({ invert: false, reap: false, rttl: false }),
  parse(s, option, args, invert, ctx) {
    const a = arg0(args);
    switch (option) {
      case 'set':
      case 'rcheck':
      case 'update':
      case 'remove':
        if (s.command !== undefined) {
          if (s.command === option) once('recent', option, true);
          throw together('recent', s.command, option);
        }
        s.command = option;
        s.invert = invert;
        return;
      case 'seconds': {
        noInvert('recent', option, invert);
        once('recent', option, s.seconds !== undefined);
        const n = parseUintIn(a, 0, 0xffffffff);
        if (n === undefined) throw badInteger('recent', option);
        s.seconds = n;
        return;
      }
      case 'hitcount': {
        noInvert('recent', option, invert);
        once('recent', option, s.hitcount !== undefined);
        const n = parseUintIn(a, 0, 0xffffffff);
        if (n === undefined) throw badInteger('recent', option);
        s.hitcount = n;
        return;
      }
      case 'reap':
        noInvert('recent', option, invert);
        s.reap = true;
        return;
      case 'rttl':
        noInvert('recent', option, invert);
        s.rttl = true;
        return;
      case 'name':
        noInvert('recent', option, invert);
        once('recent', option, s.name !== undefined);
        s.name = a;
        return;
      case 'rsource':
      case 'rdest':
        noInvert('recent', option, invert);
        if (s.side !== undefined) throw together('recent', s.side === 'source' ? 'rsource' : 'rdest', option);
        s.side = option === 'rsource' ? 'source' : 'dest';
        return;
      case 'mask': {
        noInvert('recent', option, invert);
        once('recent', option, s.mask !== undefined || s.mask6 !== undefined);
        if (ctx.family === 'ipv6') {
          // XTTYPE_HOSTMASK resolves the text with getaddrinfo(AF_INET6); knet has no resolver.
          const m6 = tryParseIpv6Words(a);
          if (m6 === undefined) {
            const reason = tryParseIpv4(a) !== undefined ? 'Address family for hostname not supported' : 'Name or service not known';
            throw paramError(`getaddrinfo: ${reason}\n`);
          }
          s.mask6 = m6;
          return;
        }
        const m = tryParseIpv4(a);
        if (m === undefined) throw paramError(`host/network \`${a}' not found`);
        s.mask = m;
        return;
      }
    }
  },
  finish(s, ctx): RecentMatch {
    if (s.command === undefined) {
      throw paramError("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'");
    }
    if (s.reap && s.seconds === undefined) throw paramError('recent: option "--reap" also requires "--seconds".\n');
    return {
      kind: 'recent',
      command: s.command,
      invert: s.invert,
      name: s.name ?? 'DEFAULT',
      side: s.side ?? 'source',
      mask: s.mask ?? 0xffffffff,
      ...(ctx.family === 'ipv6' ? { mask6: s.mask6 ?? IPV6_HOST_MASK } : {}),
      seconds: s.seconds ?? 0,
      reap: s.reap,
      hitcount: s.hitcount ?? 0,
      rttl: s.rttl,
    };
  },
  save(m) {
    if (m.kind !== 'recent') return '';
    let out = `${m.invert ? ' !' : ''} --${m.command}`;
    if (m.seconds !== 0) out += ` --seconds ${m.seconds}`;
    if (m.reap) out += ' --reap';
    if (m.hitcount !== 0) out += ` --hitcount ${m.hitcount}`;
    if (m.rttl) out += ' --rttl';
    const mask = m.mask6 !== undefined ? formatIpv6Words(m.mask6) : formatIpv4(m.mask);
    out += ` --name ${m.name} --mask ${mask} --${m.side === 'source' ? 'rsource' : 'rdest'}`;
    return out;
  },
};

function parseAddrTypes(text: string): AddrType[] {
  const types: AddrType[] = [];
  for (const t of text.split(',')) {
    const found = ADDR_TYPES.find((a) => a === t.toUpperCase());
    if (found === undefined) throw paramError(`addrtype: bad type "${t}"`);
    if (!types.includes(found)) types.push(found);
  }
  return types.sort((a, b) => ADDR_TYPES.indexOf(a) - ADDR_TYPES.indexOf(b));
}

interface AddrtypeState {
  src?: AddrType[];
  srcInvert: boolean;
  dst?: AddrType[];
  dstInvert: boolean;
  in: boolean;
  out: boolean;
}

const ADDRTYPE: MatchModule<AddrtypeState> = {
  name: 'addrtype',
  options: [
    { name: 'src-type', args: 1 },
    { name: 'dst-type', args: 1 },
    { name: 'limit-iface-in', args: 0 },
    { name: 'limit-iface-out', args: 0 },
  ],
  create: () => ({ srcInvert: false, dstInvert: false, in: false, out: false }),
  parse(s, option, args, invert) {
    switch (option) {
      case 'src-type':
        once('addrtype', option, s.src !== undefined);
        s.src = parseAddrTypes(arg0(args));
        s.srcInvert = invert;
        return;
      case 'dst-type':
        once('addrtype', option, s.dst !== undefined);
        s.dst = parseAddrTypes(arg0(args));
        s.dstInvert = invert;
        return;
      case 'limit-iface-in':
        noInvert('addrtype', option, invert);
        s.in = true;
        return;
      case 'limit-iface-out':
        noInvert('addrtype', option, invert);
        s.out = true;
        return;
    }
  },
  finish(s): AddrtypeMatch {
    if (s.src === undefined && s.dst === undefined) {
      throw paramError('addrtype: you must specify --src-type or --dst-type');
    }
    if (s.in && s.out) throw paramError("addrtype: you can't specify both --limit-iface-in and --limit-iface-out");
    return {
      kind: 'addrtype',
      ...(s.src !== undefined ? { srcTypes: s.src } : {}),
      srcInvert: s.srcInvert,
      ...(s.dst !== undefined ? { dstTypes: s.dst } : {}),
      dstInvert: s.dstInvert,
      limitIfaceIn: s.in,
      limitIfaceOut: s.out,
    };
  },
  save(m) {
    if (m.kind !== 'addrtype') return '';
    let out = '';
    if (m.srcTypes !== undefined && m.srcTypes.length > 0) out += `${m.srcInvert ? ' !' : ''} --src-type ${m.srcTypes.join(',')}`;
    if (m.dstTypes !== undefined && m.dstTypes.length > 0) out += `${m.dstInvert ? ' !' : ''} --dst-type ${m.dstTypes.join(',')}`;
    if (m.limitIfaceIn) out += ' --limit-iface-in';
    if (m.limitIfaceOut) out += ' --limit-iface-out';
    return out;
  },
};

function parseStates(text: string, allowed: readonly CtState[], what: 'ctstate' | 'state'): CtState[] {
  const states: CtState[] = [];
  for (const t of text.split(',')) {
    const found = allowed.find((a) => a === t.toUpperCase());
    if (found === undefined || t === '') throw paramError(`Bad ${what} "${t}"`);
    if (!states.includes(found)) states.push(found);
  }
  return states.sort((a, b) => allowed.indexOf(a) - allowed.indexOf(b));
}

function parseStatuses(text: string): CtStatus[] {
  const out: CtStatus[] = [];
  for (const t of text.split(',')) {
    const found = CT_STATUSES.find((a) => a === t.toUpperCase());
    if (found === undefined) throw paramError(`Bad ctstatus "${t}"`);
    if (!out.includes(found)) out.push(found);
  }
  return out.sort((a, b) => CT_STATUSES.indexOf(a) - CT_STATUSES.indexOf(b));
}

const CONNTRACK_ADDR = { ctorigsrc: 'origSrc', ctorigdst: 'origDst', ctreplsrc: 'replSrc', ctrepldst: 'replDst' } as const;
const CONNTRACK_PORT = {
  ctorigsrcport: 'origSrcPort',
  ctorigdstport: 'origDstPort',
  ctreplsrcport: 'replSrcPort',
  ctrepldstport: 'replDstPort',
} as const;

const CONNTRACK: MatchModule<Mutable<ConntrackMatch>> = {
  name: 'conntrack',
  options: [
    { name: 'ctstate', args: 1 },
    { name: 'ctproto', args: 1 },
    { name: 'ctorigsrc', args: 1 },
    { name: 'ctorigdst', args: 1 },
    { name: 'ctreplsrc', args: 1 },
    { name: 'ctrepldst', args: 1 },
    { name: 'ctstatus', args: 1 },
    { name: 'ctexpire', args: 1 },
    { name: 'ctorigsrcport', args: 1 },
    { name: 'ctorigdstport', args: 1 },
    { name: 'ctreplsrcport', args: 1 },
    { name: 'ctrepldstport', args: 1 },
    { name: 'ctdir', args: 1 },
  ],
  create: () => ({ kind: 'conntrack' }),
  parse(s, option, args, invert, ctx) {
    const a = arg0(args);
    switch (option) {
      case 'ctstate':
        once('conntrack', option, s.state !== undefined);
        s.state = { states: parseStates(a, CT_STATES, 'ctstate'), invert };
        return;
      case 'ctproto': {
        once('conntrack', option, s.proto !== undefined);
        const p = lookupProtocol(a);
        if (p === undefined) throw paramError(`unknown protocol "${a}" specified`);
        if (p === 0 && invert) throw paramError('conntrack: rule would never match protocol');
        s.proto = { protocol: p, invert };
        return;
      }
      case 'ctorigsrc':
      case 'ctorigdst':
      case 'ctreplsrc':
      case 'ctrepldst': {
        const key = CONNTRACK_ADDR[option];
        if (ctx.family === 'ipv6') {
          // knet's conntrack tracks IPv4 only: there is no IPv6 tuple to compare with.
          throw new UnsupportedOptionError(`-m conntrack --${option}`, 'knet does not model conntrack tuples of IPv6 connections');
        }
        once('conntrack', option, s[key] !== undefined);
        s[key] = { ...parseAddressMask(a), invert };
        return;
      }
      case 'ctorigsrcport':
      case 'ctorigdstport':
      case 'ctreplsrcport':
      case 'ctrepldstport': {
        const key = CONNTRACK_PORT[option];
        once('conntrack', option, s[key] !== undefined);
        const i = a.indexOf(':');
        const min = parsePort(i < 0 ? a : a.slice(0, i));
        const max = i < 0 ? min : parsePort(a.slice(i + 1));
        s[key] = { min, max, invert };
        return;
      }
      case 'ctstatus':
        once('conntrack', option, s.status !== undefined);
        s.status = { statuses: parseStatuses(a), invert };
        return;
      case 'ctexpire': {
        once('conntrack', option, s.expire !== undefined);
        const i = a.indexOf(':');
        const min = parseUintIn(i < 0 ? a : a.slice(0, i), 0, 0xffffffff);
        const max = i < 0 ? min : parseUintIn(a.slice(i + 1), 0, 0xffffffff);
        if (min === undefined || max === undefined) throw badInteger('conntrack', option);
        s.expire = { min, max, invert };
        return;
      }
      case 'ctdir':
        noInvert('conntrack', option, invert);
        if (a.toUpperCase() === 'ORIGINAL') s.dir = 'ORIGINAL';
        else if (a.toUpperCase() === 'REPLY') s.dir = 'REPLY';
        else throw paramError(`conntrack: Bad value for "--ctdir" option: "${a}"`);
        return;
    }
  },
  finish(s) {
    if (Object.keys(s).length === 1) throw paramError('conntrack: At least one option is required');
    return { ...s };
  },
  save(m) {
    if (m.kind !== 'conntrack') return '';
    const inv = (i: boolean): string => (i ? ' !' : '');
    let out = '';
    if (m.state !== undefined) out += `${inv(m.state.invert)} --ctstate ${m.state.states.join(',')}`;
    if (m.proto !== undefined) out += `${inv(m.proto.invert)} --ctproto ${m.proto.protocol}`;
    for (const [opt, key] of Object.entries(CONNTRACK_ADDR)) {
      const a = m[key];
      if (a !== undefined) out += `${inv(a.invert)} --${opt} ${formatAddressMaskShort(a)}`;
    }
    for (const [opt, key] of Object.entries(CONNTRACK_PORT)) {
      const p = m[key];
      if (p !== undefined) out += `${inv(p.invert)} --${opt} ${p.min === p.max ? p.min : `${p.min}:${p.max}`}`;
    }
    if (m.status !== undefined) out += `${inv(m.status.invert)} --ctstatus ${m.status.statuses.join(',')}`;
    if (m.expire !== undefined) {
      const e = m.expire;
      out += `${inv(e.invert)} --ctexpire ${e.min === e.max ? e.min : `${e.min}:${e.max}`}`;
    }
    if (m.dir !== undefined) out += ` --ctdir ${m.dir}`;
    return out;
  },
};

const STATE: MatchModule<{ states?: CtState[]; invert: boolean }> = {
  name: 'state',
  options: [{ name: 'state', args: 1 }],
  create: () => ({ invert: false }),
  parse(s, option, args, invert) {
    once('state', option, s.states !== undefined);
    s.states = parseStates(arg0(args), STATE_STATES, 'state');
    s.invert = invert;
  },
  finish(s) {
    if (s.states === undefined) throw paramError('state: option "--state" must be specified\n');
    return { kind: 'state', states: s.states, invert: s.invert };
  },
  save(m) {
    return m.kind === 'state' ? `${m.invert ? ' !' : ''} --state ${m.states.join(',')}` : '';
  },
};

interface SetState {
  name?: string;
  dirs?: ('src' | 'dst')[];
  invert: boolean;
  returnNomatch: boolean;
  noUpdateCounters: boolean;
  noUpdateSubcounters: boolean;
}

const SET: MatchModule<SetState> = {
  name: 'set',
  options: [
    { name: 'match-set', args: 2 },
    { name: 'set', args: 2 },
    { name: 'return-nomatch', args: 0 },
    { name: 'update-counters', args: 0 },
    { name: 'update-subcounters', args: 0 },
  ],
  create: () => ({ invert: false, returnNomatch: false, noUpdateCounters: false, noUpdateSubcounters: false }),
  parse(s, option, args, invert) {
    switch (option) {
      case 'match-set':
      case 'set': {
        if (s.name !== undefined) throw paramError('--match-set can be specified only once');
        if (args.length < 2) throw paramError('--match-set requires two args.');
        const name = arg0(args);
        if (name.length > 31) throw paramError(`setname \`${name}' too long, max 31 characters.`);
        const dirs: ('src' | 'dst')[] = [];
        for (const d of (args[1] ?? '').split(',')) {
          if (d !== 'src' && d !== 'dst') {
            throw paramError("You must specify (the comma separated list of) 'src' or 'dst'.");
          }
          dirs.push(d);
        }
        if (dirs.length > 6) throw paramError(`Can't be more src/dst options than 6.`);
        s.name = name;
        s.dirs = dirs;
        s.invert = invert;
        return;
      }
      case 'return-nomatch':
        noInvert('set', option, invert);
        s.returnNomatch = true;
        return;
      case 'update-counters':
        s.noUpdateCounters = invert;
        return;
      case 'update-subcounters':
        s.noUpdateSubcounters = invert;
        return;
    }
  },
  finish(s): SetMatch {
    if (s.name === undefined || s.dirs === undefined) throw paramError('You must specify `--match-set\' with proper arguments');
    return {
      kind: 'set',
      name: s.name,
      dirs: s.dirs,
      invert: s.invert,
      returnNomatch: s.returnNomatch,
      noUpdateCounters: s.noUpdateCounters,
      noUpdateSubcounters: s.noUpdateSubcounters,
    };
  },
  save(m) {
    if (m.kind !== 'set') return '';
    let out = `${m.invert ? ' !' : ''} --match-set ${m.name} ${m.dirs.join(',')}`;
    if (m.returnNomatch) out += ' --return-nomatch';
    if (m.noUpdateCounters) out += ' ! --update-counters';
    if (m.noUpdateSubcounters) out += ' ! --update-subcounters';
    return out;
  },
};

const PHYSDEV: MatchModule<Mutable<PhysdevMatch>> = {
  name: 'physdev',
  options: [
    { name: 'physdev-in', args: 1 },
    { name: 'physdev-out', args: 1 },
    { name: 'physdev-is-in', args: 0 },
    { name: 'physdev-is-out', args: 0 },
    { name: 'physdev-is-bridged', args: 0 },
  ],
  create: () => ({ kind: 'physdev' }),
  parse(s, option, args, invert) {
    switch (option) {
      case 'physdev-in':
        once('physdev', option, s.physdevIn !== undefined);
        checkInterface(arg0(args));
        s.physdevIn = { name: arg0(args), invert };
        return;
      case 'physdev-out':
        once('physdev', option, s.physdevOut !== undefined);
        checkInterface(arg0(args));
        s.physdevOut = { name: arg0(args), invert };
        return;
      case 'physdev-is-in':
        once('physdev', option, s.isIn !== undefined);
        s.isIn = { invert };
        return;
      case 'physdev-is-out':
        once('physdev', option, s.isOut !== undefined);
        s.isOut = { invert };
        return;
      case 'physdev-is-bridged':
        once('physdev', option, s.isBridged !== undefined);
        s.isBridged = { invert };
        return;
    }
  },
  finish(s) {
    if (s.physdevIn === undefined && s.physdevOut === undefined && s.isIn === undefined && s.isOut === undefined && s.isBridged === undefined) {
      throw paramError('PHYSDEV: no physdev option specified');
    }
    return { ...s };
  },
  save(m) {
    if (m.kind !== 'physdev') return '';
    const inv = (i: boolean): string => (i ? ' !' : '');
    let out = '';
    if (m.isIn !== undefined) out += `${inv(m.isIn.invert)} --physdev-is-in`;
    if (m.physdevIn !== undefined) out += `${inv(m.physdevIn.invert)} --physdev-in ${m.physdevIn.name}`;
    if (m.isOut !== undefined) out += `${inv(m.isOut.invert)} --physdev-is-out`;
    if (m.physdevOut !== undefined) out += `${inv(m.physdevOut.invert)} --physdev-out ${m.physdevOut.name}`;
    if (m.isBridged !== undefined) out += `${inv(m.isBridged.invert)} --physdev-is-bridged`;
    return out;
  },
};

const MULTIPORT_PROTOS = new Set([6, 17, 136, 132, 33]);

const MULTIPORT: MatchModule<{ which?: MultiportMatch['which']; ports?: { min: number; max: number }[]; invert: boolean }> = {
  name: 'multiport',
  options: [
    { name: 'source-ports', args: 1 },
    { name: 'sports', args: 1 },
    { name: 'destination-ports', args: 1 },
    { name: 'dports', args: 1 },
    { name: 'ports', args: 1 },
  ],
  create: () => ({ invert: false }),
  parse(s, option, args, invert, ctx: XtParseContext) {
    if (!MULTIPORT_PROTOS.has(ctx.protocol) || ctx.protocolInvert) {
      throw paramError("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'");
    }
    if (s.which !== undefined) throw paramError('multiport can only have one option');
    const which = option === 'source-ports' || option === 'sports' ? 'sports' : option === 'ports' ? 'ports' : 'dports';
    const ports: { min: number; max: number }[] = [];
    let slots = 0;
    for (const part of arg0(args).split(',')) {
      const i = part.indexOf(':');
      if (i < 0) {
        const p = parsePort(part);
        ports.push({ min: p, max: p });
        slots += 1;
      } else {
        const min = parsePort(part.slice(0, i));
        const max = parsePort(part.slice(i + 1));
        if (min > max) throw paramError('invalid portrange specified');
        ports.push({ min, max });
        slots += 2;
      }
      if (slots > 15) throw paramError('too many ports specified');
    }
    s.which = which;
    s.ports = ports;
    s.invert = invert;
  },
  finish(s) {
    if (s.which === undefined || s.ports === undefined) throw paramError('multiport expects an option');
    return { kind: 'multiport', which: s.which, ports: s.ports, invert: s.invert };
  },
  save(m) {
    if (m.kind !== 'multiport') return '';
    const list = m.ports.map((p) => (p.min === p.max ? `${p.min}` : `${p.min}:${p.max}`)).join(',');
    return `${m.invert ? ' !' : ''} --${m.which} ${list}`;
  },
};

const NFACCT: MatchModule<{ name?: string }> = {
  name: 'nfacct',
  options: [{ name: 'nfacct-name', args: 1 }],
  create: () => ({}),
  parse(s, option, args, invert) {
    noInvert('nfacct', option, invert);
    once('nfacct', option, s.name !== undefined);
    s.name = arg0(args);
  },
  finish(s) {
    if (s.name === undefined) throw paramError('nfacct: option "--nfacct-name" must be specified\n');
    return { kind: 'nfacct', name: s.name };
  },
  save(m) {
    return m.kind === 'nfacct' ? ` --nfacct-name ${saveString(m.name)}` : '';
  },
};

/** All match extensions by module name (`-m NAME`). */
export const MATCH_MODULES: ReadonlyMap<string, MatchModule> = new Map<string, MatchModule>(
  [
    TCP,
    portsOnly('udp', true),
    portsOnly('sctp', false),
    ICMP,
    ICMP6,
    COMMENT,
    MARK,
    STATISTIC,
    RECENT,
    ADDRTYPE,
    CONNTRACK,
    STATE,
    SET,
    PHYSDEV,
    MULTIPORT,
    NFACCT,
  ].map((m) => [m.name, m as MatchModule]),
);

/** Matches that exist for one family only (libipt_icmp / libip6t_icmp6). */
const FAMILY_ONLY: ReadonlyMap<string, NetfilterFamily> = new Map([
  ['icmp', 'ipv4'],
  ['icmp6', 'ipv6'],
]);

/** The match extension `-m NAME` loads for a family, if knet has it. */
export function matchModuleOf(name: string, family: NetfilterFamily = 'ipv4'): MatchModule | undefined {
  const only = FAMILY_ONLY.get(name);
  if (only !== undefined && only !== family) return undefined;
  return MATCH_MODULES.get(name);
}

/**
 * The protocol match iptables loads implicitly after `-p` (tcp, udp, sctp; icmp for iptables,
 * icmp6 for ip6tables).
 */
export function protocolMatchName(protocol: number, family: NetfilterFamily = 'ipv4'): string | undefined {
  switch (protocol) {
    case IPPROTO_TCP:
      return 'tcp';
    case IPPROTO_UDP:
      return 'udp';
    case IPPROTO_SCTP:
      return 'sctp';
    case IPPROTO_ICMP:
      return family === 'ipv4' ? 'icmp' : undefined;
    case IPPROTO_ICMPV6:
      return family === 'ipv6' ? 'icmp6' : undefined;
    default:
      return undefined;
  }
}

/** The protocol a protocol-bound match needs (the kernel's `xt_match.proto`). */
export const MATCH_PROTOCOL: ReadonlyMap<string, number> = new Map([
  ['tcp', IPPROTO_TCP],
  ['udp', IPPROTO_UDP],
  ['sctp', IPPROTO_SCTP],
  ['icmp', IPPROTO_ICMP],
  ['icmp6', IPPROTO_ICMPV6],
]);
