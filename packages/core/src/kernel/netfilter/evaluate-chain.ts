import { KnetError } from '../../errors/knet-error.js';
import type { NetfilterChain, NetfilterRule, NetfilterTableName, NetfilterTarget, Reject6With, RejectWith } from './netfilter-types.js';
import type {
  ChainEvaluation,
  EvaluateContext,
  Ip6PacketView,
  LogRecord,
  MarkChange,
  MatchedRule,
  NatRequest,
  PacketView,
} from './evaluate-types.js';
import { netfilterFamily, type NetfilterState } from './netfilter-state.js';
import { evaluateMatch, matchIp6Header, matchIpHeader, type MatchInput } from './evaluate-match.js';
import type { Ipv6Words } from './ipv6-words.js';

/**
 * Walks a chain of a table for one packet with the kernel's semantics: rules in order, jumps
 * push a return point, gotos do not, RETURN pops (at the bottom of a built-in chain the policy
 * applies), non-terminating targets (MARK, LOG, NFLOG, CT/NOTRACK, CONNMARK) continue.
 *
 * @remarks
 * Linux equivalent: `ipt_do_table` (net/ipv4/netfilter/ip_tables.c) and `ip6t_do_table`
 * (net/ipv6/netfilter/ip6_tables.c). Large chains are indexed by exact destination address and
 * by protocol and destination port, so a packet only examines the rules that can match it; the
 * order of examination (and so the result) is unchanged.
 */

/** The mutable state of one walk; target evaluators read and change it. */
interface Walk {
  readonly state: NetfilterState;
  readonly table: NetfilterTableName;
  readonly packet: PacketView | Ip6PacketView;
  /** The walk is over ip6tables tables. */
  readonly v6: boolean;
  readonly ctx: EvaluateContext;
  readonly sideEffects: boolean;
  mark: number;
  connmark: number | undefined;
  notrack: boolean;
  readonly matched: MatchedRule[];
  readonly markChanges: MarkChange[];
  readonly logs: LogRecord[];
  nat?: NatRequest;
}

/** What a target tells the walker: continue, stop with a verdict, or move in the chain graph. */
type TargetOutcome =
  | { readonly kind: 'continue' }
  | {
      readonly kind: 'verdict';
      readonly verdict: 'ACCEPT' | 'DROP' | 'REJECT';
      readonly reject?: RejectWith;
      readonly reject6?: Reject6With;
    }
  | { readonly kind: 'return' }
  | { readonly kind: 'jump' | 'goto'; readonly chain: string };

const CONTINUE: TargetOutcome = { kind: 'continue' };

type TargetEvaluator<K extends NetfilterTarget['kind']> = (t: Extract<NetfilterTarget, { kind: K }>, walk: Walk, rule: MatchedRule) => TargetOutcome;

/** The evaluator of each target kind. */
export const TARGET_EVALUATORS: { readonly [K in NetfilterTarget['kind']]: TargetEvaluator<K> } = {
  none: () => CONTINUE,
  ACCEPT: () => ({ kind: 'verdict', verdict: 'ACCEPT' }),
  DROP: () => ({ kind: 'verdict', verdict: 'DROP' }),
  RETURN: () => ({ kind: 'return' }),
  jump: (t) => ({ kind: 'jump', chain: t.chain }),
  goto: (t) => ({ kind: 'goto', chain: t.chain }),
  REJECT: (t, w) =>
    w.v6 ? { kind: 'verdict', verdict: 'REJECT', reject6: t.with as Reject6With } : { kind: 'verdict', verdict: 'REJECT', reject: t.with as RejectWith },
  DNAT: (t, w, rule) => {
    w.nat = { kind: 'DNAT', ...(t.range !== undefined ? { range: t.range } : {}), random: t.random, randomFully: false, persistent: t.persistent, rule };
    return { kind: 'verdict', verdict: 'ACCEPT' };
  },
  SNAT: (t, w, rule) => {
    w.nat = { kind: 'SNAT', ...(t.range !== undefined ? { range: t.range } : {}), random: t.random, randomFully: t.randomFully, persistent: t.persistent, rule };
    return { kind: 'verdict', verdict: 'ACCEPT' };
  },
  MASQUERADE: (t, w, rule) => {
    w.nat = {
      kind: 'MASQUERADE',
      ...(t.minPort !== undefined ? { minPort: t.minPort } : {}),
      ...(t.maxPort !== undefined ? { maxPort: t.maxPort } : {}),
      random: t.random,
      randomFully: t.randomFully,
      rule,
    };
    return { kind: 'verdict', verdict: 'ACCEPT' };
  },
  REDIRECT: (t, w, rule) => {
    w.nat = {
      kind: 'REDIRECT',
      ...(t.minPort !== undefined ? { minPort: t.minPort } : {}),
      ...(t.maxPort !== undefined ? { maxPort: t.maxPort } : {}),
      random: t.random,
      randomFully: false,
      rule,
    };
    return { kind: 'verdict', verdict: 'ACCEPT' };
  },
  MARK: (t, w, rule) => {
    const to = ((w.mark & ~t.mask) ^ t.value) >>> 0;
    w.markChanges.push({ from: w.mark, to, rule });
    w.mark = to;
    return CONTINUE;
  },
  LOG: (t, w, rule) => {
    w.logs.push({ kind: 'LOG', prefix: t.prefix, level: t.level, rule });
    return CONTINUE;
  },
  NFLOG: (t, w, rule) => {
    w.logs.push({ kind: 'NFLOG', prefix: t.prefix, level: t.group, rule });
    return CONTINUE;
  },
  CT: (_t, w) => {
    w.notrack = true;
    return CONTINUE;
  },
  NOTRACK: (_t, w) => {
    w.notrack = true;
    return CONTINUE;
  },
  CONNMARK: (t, w, rule) => {
    const ct = w.connmark ?? w.ctx.conntrack?.mark ?? 0;
    if (t.mode === 'set') w.connmark = ((ct & ~t.ctmask) ^ t.ctmark) >>> 0;
    else if (t.mode === 'save') w.connmark = ((ct & ~t.ctmask) ^ (w.mark & t.nfmask)) >>> 0;
    else {
      const to = ((w.mark & ~t.nfmask) ^ (ct & t.ctmask)) >>> 0;
      w.markChanges.push({ from: w.mark, to, rule });
      w.mark = to;
    }
    return CONTINUE;
  },
};

/** Evaluates one target for a rule that matched. */
function evaluateTarget(t: NetfilterTarget, walk: Walk, rule: MatchedRule): TargetOutcome {
  return (TARGET_EVALUATORS[t.kind] as TargetEvaluator<typeof t.kind>)(t as never, walk, rule);
}

/** Chains shorter than this are scanned linearly. */
const INDEX_THRESHOLD = 32;

/**
 * A per-chain index: rule positions by exact destination and by protocol/destination port. For
 * ip6tables chains the destination key is a hash of the address ({@link dst6Key}); the rules
 * under a key are still matched in full, so a collision only adds candidates.
 */
interface ChainIndex {
  readonly byDst: Map<number, number[]>;
  readonly byPort: Map<number, number[]>;
  readonly rest: number[];
}

const INDEXES = new WeakMap<readonly NetfilterRule[], ChainIndex | null>();

function singleDport(rule: NetfilterRule): number | undefined {
  const proto = rule.ip.protocol;
  if (proto === undefined || rule.ip.protocolInvert || (proto !== 6 && proto !== 17 && proto !== 132)) return undefined;
  for (const m of rule.matches) {
    if ((m.kind === 'tcp' || m.kind === 'udp' || m.kind === 'sctp') && m.dport !== undefined && !m.dport.invert && m.dport.min === m.dport.max) {
      return proto * 65536 + m.dport.min;
    }
  }
  return undefined;
}

/** The index key of an IPv6 destination: a 32-bit mix of its words. */
function dst6Key(a: Ipv6Words): number {
  return (Math.imul(a[0] ^ Math.imul(a[1], 0x9e3779b1) ^ Math.imul(a[2], 0x85ebca6b), 0xc2b2ae35) ^ a[3]) >>> 0;
}

/** The exact destination a rule requires (its index key), if any. */
function exactDst(r: NetfilterRule, v6: boolean): number | undefined {
  if (r.ip.dstInvert) return undefined;
  if (v6) {
    const d = r.ip.dst6;
    if (d === undefined) return undefined;
    const m = d.mask;
    return m[0] === 0xffffffff && m[1] === 0xffffffff && m[2] === 0xffffffff && m[3] === 0xffffffff ? dst6Key(d.address) : undefined;
  }
  const d = r.ip.dst;
  return d !== undefined && d.mask === 0xffffffff ? d.address : undefined;
}

function indexOf(rules: readonly NetfilterRule[], v6: boolean): ChainIndex | null {
  let idx = INDEXES.get(rules);
  if (idx !== undefined) return idx;
  if (rules.length < INDEX_THRESHOLD) {
    idx = null;
  } else {
    const byDst = new Map<number, number[]>();
    const byPort = new Map<number, number[]>();
    const rest: number[] = [];
    rules.forEach((r, i) => {
      const dk = exactDst(r, v6);
      if (dk !== undefined) {
        const l = byDst.get(dk);
        if (l === undefined) byDst.set(dk, [i]);
        else l.push(i);
        return;
      }
      const key = singleDport(r);
      if (key !== undefined) {
        const l = byPort.get(key);
        if (l === undefined) byPort.set(key, [i]);
        else l.push(i);
        return;
      }
      rest.push(i);
    });
    idx = { byDst, byPort, rest };
  }
  INDEXES.set(rules, idx);
  return idx;
}

const EMPTY: readonly number[] = [];

/** Merges sorted position lists. */
function merge3(a: readonly number[], b: readonly number[], c: readonly number[]): readonly number[] {
  if (b.length === 0 && c.length === 0) return a;
  if (a.length === 0 && c.length === 0) return b;
  if (a.length === 0 && b.length === 0) return c;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length || j < b.length || k < c.length) {
    const x = a[i] ?? Infinity;
    const y = b[j] ?? Infinity;
    const z = c[k] ?? Infinity;
    if (x <= y && x <= z) {
      out.push(x);
      i++;
    } else if (y <= z) {
      out.push(y);
      j++;
    } else {
      out.push(z);
      k++;
    }
  }
  return out;
}

/** The rule positions of a chain a packet can match, in order (all of them for small chains). */
function candidates(rules: readonly NetfilterRule[], p: PacketView | Ip6PacketView, useIndex: boolean, v6: boolean): readonly number[] | null {
  if (!useIndex) return null;
  const idx = indexOf(rules, v6);
  if (idx === null) return null;
  const dst = idx.byDst.get(typeof p.dst === 'number' ? p.dst : dst6Key(p.dst)) ?? EMPTY;
  const port = p.dport !== undefined && !p.fragment ? (idx.byPort.get(p.protocol * 65536 + p.dport) ?? EMPTY) : EMPTY;
  return merge3(dst, port, idx.rest);
}

interface Frame {
  readonly chain: NetfilterChain;
  readonly list: readonly number[] | null;
  pos: number;
}

/** Options of {@link evaluateChain}. */
export interface EvaluateChainOptions {
  /** Safety limit on nested jumps (the kernel's stack is bounded by its loop check). Default 1024. */
  readonly maxDepth?: number;
  /** Use the per-chain destination index (default true); false scans every rule, for checking the index. */
  readonly index?: boolean;
}

/**
 * Evaluates a chain of a table for one packet: an IPv4 {@link PacketView} in an iptables state,
 * an {@link Ip6PacketView} in an ip6tables state (`family: 'ipv6'`).
 *
 * @param state the namespace's netfilter state (of the packet's family)
 * @param table the table (`raw`, `mangle`, `nat`, `filter`)
 * @param chainName a built-in chain (the hook) or a user chain (walked on its own, as kube-proxy's
 * test tracer does; running off its end gives `CONTINUE`)
 * @returns the verdict, the rules that matched, and what the caller must do (NAT, REJECT, mark,
 * logs, NOTRACK). A table that is not instantiated, or a chain it lacks, accepts without rules.
 * @throws KnetError `EINVAL` when the packet's family is not the state's.
 * @remarks Linux equivalent: `ipt_do_table`, `ip6t_do_table`.
 * @see https://github.com/torvalds/linux/blob/master/net/ipv4/netfilter/ip_tables.c
 * @see https://github.com/torvalds/linux/blob/master/net/ipv6/netfilter/ip6_tables.c
 * @example
 * ```ts
 * import { createNetfilterState, applyIptablesRestore, evaluateChain, parseIpv4 } from '@knet/core';
 * const nf = createNetfilterState();
 * applyIptablesRestore(nf, '*filter\n-A INPUT -p tcp --dport 22 -j DROP\nCOMMIT\n');
 * const r = evaluateChain(nf, 'filter', 'INPUT', {
 *   src: parseIpv4('192.0.2.1'), dst: parseIpv4('10.0.0.1'), protocol: 6, sport: 40000, dport: 22,
 *   mark: 0, length: 60, fragment: false, inIface: 'eth0',
 * }, { now: 0 });
 * r.verdict; // 'DROP'
 * ```
 */
export function evaluateChain(
  state: NetfilterState,
  table: NetfilterTableName,
  chainName: string,
  packet: PacketView | Ip6PacketView,
  ctx: EvaluateContext,
  options: EvaluateChainOptions = {},
): ChainEvaluation {
  const v6 = typeof packet.src !== 'number';
  if (v6 !== (netfilterFamily(state) === 'ipv6')) {
    throw new KnetError('EINVAL', `an ${v6 ? 'IPv6' : 'IPv4'} packet cannot be evaluated by ${v6 ? 'iptables' : 'ip6tables'} tables`, {
      family: netfilterFamily(state),
    });
  }
  const walk: Walk = {
    state,
    table,
    packet,
    v6,
    ctx,
    sideEffects: ctx.sideEffects !== false,
    mark: packet.mark >>> 0,
    connmark: undefined,
    notrack: false,
    matched: [],
    markChanges: [],
    logs: [],
  };
  const t = state.tables.get(table);
  const start = t?.chains.get(chainName);
  if (t === undefined || start === undefined) return finish(walk, 'ACCEPT', undefined, undefined, false, 0);
  const maxDepth = options.maxDepth ?? 1024;
  const stack: Frame[] = [];
  const useIndex = options.index !== false;
  let frame: Frame = { chain: start, list: candidates(start.rules, packet, useIndex, v6), pos: 0 };
  let traversed = 0;
  const base = start;
  for (;;) {
    const rules = frame.chain.rules;
    const len = frame.list !== null ? frame.list.length : rules.length;
    let outcome: Exclude<TargetOutcome, { kind: 'continue' }> | undefined;
    let decided: MatchedRule | undefined;
    while (frame.pos < len) {
      const i = frame.list !== null ? (frame.list[frame.pos] as number) : frame.pos;
      frame.pos++;
      const rule = rules[i] as NetfilterRule;
      traversed++;
      if (v6 ? !matchIp6Header(rule.ip, packet as Ip6PacketView) : !matchIpHeader(rule.ip, packet as PacketView)) continue;
      const input: MatchInput = {
        packet,
        mark: walk.mark,
        ctx,
        state,
        site: { table, chain: frame.chain.name, ruleNumber: i + 1 },
        sideEffects: walk.sideEffects,
      };
      let ok = true;
      for (const m of rule.matches) {
        if (!evaluateMatch(m, input)) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (walk.sideEffects) {
        rule.counters.packets++;
        rule.counters.bytes += packet.length;
      }
      const matched: MatchedRule = {
        table,
        chain: frame.chain.name,
        ruleNumber: i + 1,
        spec: rule.spec,
        text: rule.spec === '' ? `-A ${frame.chain.name}` : `-A ${frame.chain.name} ${rule.spec}`,
        target: rule.target,
      };
      walk.matched.push(matched);
      const o = evaluateTarget(rule.target, walk, matched);
      if (o.kind === 'continue') continue;
      outcome = o;
      decided = matched;
      break;
    }
    if (outcome === undefined || outcome.kind === 'return') {
      // End of chain or RETURN: pop, or apply the policy at the bottom of a built-in chain.
      const caller = stack.pop();
      if (caller !== undefined) {
        frame = caller;
        continue;
      }
      if (base.policy !== null) {
        if (walk.sideEffects) {
          base.counters.packets++;
          base.counters.bytes += packet.length;
        }
        return finish(walk, base.policy, undefined, undefined, true, traversed);
      }
      return finish(walk, 'CONTINUE', undefined, undefined, false, traversed);
    }
    if (outcome.kind === 'verdict') return finish(walk, outcome.verdict, outcome.reject ?? outcome.reject6, decided, false, traversed);
    const next = t.chains.get(outcome.chain);
    if (next === undefined) throw new KnetError('ENOENT', `chain ${outcome.chain} does not exist in table ${table}`);
    if (outcome.kind === 'jump') {
      if (stack.length >= maxDepth) throw new KnetError('ELIMIT', `jump depth over ${maxDepth} in table ${table}`);
      stack.push(frame);
    }
    frame = { chain: next, list: candidates(next.rules, packet, useIndex, v6), pos: 0 };
  }
}

function finish(
  walk: Walk,
  verdict: ChainEvaluation['verdict'],
  reject: RejectWith | Reject6With | undefined,
  decidedBy: MatchedRule | undefined,
  policy: boolean,
  traversed: number,
): ChainEvaluation {
  return {
    verdict,
    ...(reject !== undefined ? (walk.v6 ? { reject6: reject as Reject6With } : { reject: reject as RejectWith }) : {}),
    ...(decidedBy !== undefined ? { decidedBy } : {}),
    policy,
    matched: walk.matched,
    traversed,
    mark: walk.mark,
    markChanges: walk.markChanges,
    ...(walk.nat !== undefined ? { nat: walk.nat } : {}),
    logs: walk.logs,
    notrack: walk.notrack,
    ...(walk.connmark !== undefined ? { connmark: walk.connmark } : {}),
  };
}
