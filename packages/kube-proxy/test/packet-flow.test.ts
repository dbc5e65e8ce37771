/**
 * Upstream's packet-flow tests (pkg/proxy/iptables/proxier_test.go, every `runPacketFlowTests`
 * call) run through knet: the payload the proxier renders for each step is applied with
 * `applyIptablesRestore` to a fresh netfilter state, and every flow is traced by knet's netfilter
 * evaluator the way upstream's tracer (proxier_test.go tracePacket, iptablesTracer) walks it:
 *
 * 1. nat PREROUTING (which jumps to KUBE-SERVICES through the rule kube-proxy ensures);
 * 2. after nat, the destination is the IP of the first DNAT target;
 * 3. filter KUBE-SERVICES, KUBE-EXTERNAL-SERVICES, KUBE-NODEPORTS and KUBE-PROXY-FIREWALL, each
 *    walked on its own.
 *
 * `-m addrtype LOCAL` is true for 127.0.0.1 and the fake node IPs only. A `--probability` jump
 * does not end the calling chain in upstream's tracer, so every endpoint is collected: here the
 * `-m statistic` draws are enumerated depth first (match before no-match), which visits the
 * endpoints in rule order. Rules testing history (`--rcheck`, `--mark`, `--ctstate`) never match
 * upstream's tracer; the context here (no conntrack entry, empty `-m recent` lists, mark 0, no
 * side effects) makes them fail in knet too, and each trace checks that no rule with such a
 * match was taken. Expected results are upstream's, unchanged (./packet-flow-cases.ts).
 *
 * @see /work/shared/facts/kube-proxy.md section 2.10
 */
import { describe, expect, it } from 'vitest';
import {
  KnetError,
  applyIptablesRestore,
  createNetfilterState,
  evaluateChain,
  formatIpv4,
  parseIpv4,
} from '@knet/core';
import type { ChainEvaluation, EvaluateContext, NetfilterState, PacketView, StatisticChooser } from '@knet/core';
import { createIptablesProxier, iptablesJumpRules } from '../src/index.js';
import { PACKET_FLOW_CASES, PACKET_FLOW_LOCAL_IPS, loadPacketFlowInput } from './packet-flow-cases.js';
import type { PacketFlow, PacketFlowCase } from './packet-flow-cases.js';

const PROTOCOLS = { TCP: 6, UDP: 17, SCTP: 132 } as const;
const FILTER_CHAINS = ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL'] as const;
const LOCAL = new Set(PACKET_FLOW_LOCAL_IPS.filter((ip) => !ip.includes(':')).map((ip) => parseIpv4(ip)));
/** A bound on the statistic draws explored for one walk (the largest case needs a handful). */
const MAX_PATHS = 4096;

/**
 * Every outcome of a walk over the `-m statistic --mode random` draws it meets: the first run
 * answers every draw "match", each next run flips the last "match" of the previous one to "no
 * match" (depth first), so targets come out in rule order.
 */
function allPaths(walk: (choose: StatisticChooser) => ChainEvaluation): ChainEvaluation[] {
  const paths: ChainEvaluation[] = [];
  let script: boolean[] = [];
  for (;;) {
    const taken: boolean[] = [];
    const prefix = script;
    paths.push(
      walk(() => {
        const answer = prefix[taken.length] ?? true;
        taken.push(answer);
        return answer;
      }),
    );
    let k = taken.length - 1;
    while (k >= 0 && taken[k] === false) k--;
    if (k < 0) return paths;
    if (paths.length >= MAX_PATHS) throw new Error(`more than ${MAX_PATHS} statistic paths`);
    script = [...taken.slice(0, k), false];
  }
}

/** The rules upstream's tracer never lets match; none may be on a knet path either. */
function historyMatch(e: ChainEvaluation, state: NetfilterState): string | undefined {
  for (const m of e.matched) {
    const rule = state.tables.get(m.table)?.chains.get(m.chain)?.rules[m.ruleNumber - 1];
    if (rule === undefined) continue;
    for (const x of rule.matches) {
      if (x.kind === 'mark' || x.kind === 'conntrack' || x.kind === 'state' || (x.kind === 'recent' && x.command !== 'set')) return m.text;
    }
  }
  return undefined;
}

const VERDICT_TARGETS = new Set(['ACCEPT', 'DROP', 'REJECT']);

/** One flow as upstream's tracePacket reports it: outputs joined by ", " and the masquerade flag. */
function tracePacket(state: NetfilterState, f: PacketFlow): { output: string; masq: boolean } {
  const ctx = (choose: StatisticChooser): EvaluateContext => ({
    now: 0,
    choose,
    addrType: (address) => (LOCAL.has(address) ? 'LOCAL' : 'UNICAST'),
    sideEffects: false,
  });
  const outputs: string[] = [];
  let masq = false;
  const collect = (e: ChainEvaluation): void => {
    const taken = historyMatch(e, state);
    if (taken !== undefined) throw new Error(`a rule upstream's tracer never matches was taken: ${taken}`);
    if (e.matched.some((m) => m.target.kind === 'jump' && m.target.chain === 'KUBE-MARK-MASQ')) masq = true;
    if (e.nat?.kind === 'DNAT') {
      const r = e.nat.range;
      if (r?.minIp === undefined || r.minPort === undefined) throw new Error(`DNAT without address and port: ${e.nat.rule.text}`);
      outputs.push(`${formatIpv4(r.minIp)}:${r.minPort}`);
    } else if (e.decidedBy !== undefined && VERDICT_TARGETS.has(e.decidedBy.target.kind)) {
      outputs.push(e.decidedBy.target.kind);
    }
  };
  const packet: PacketView = {
    src: parseIpv4(f.sourceIP),
    dst: parseIpv4(f.destIP),
    protocol: PROTOCOLS[f.protocol],
    sport: 40000,
    dport: f.destPort,
    inIface: 'eth0',
    mark: 0,
    length: 60,
    fragment: false,
  };
  for (const e of allPaths((choose) => evaluateChain(state, 'nat', 'PREROUTING', packet, ctx(choose)))) collect(e);
  const first = outputs[0];
  const afterNat: PacketView = first === undefined ? packet : { ...packet, dst: parseIpv4(first.slice(0, first.lastIndexOf(':'))) };
  for (const chain of FILTER_CHAINS) {
    for (const e of allPaths((choose) => evaluateChain(state, 'filter', chain, afterNat, ctx(choose)))) collect(e);
  }
  return { output: outputs.join(', '), masq };
}

/**
 * TestTracePacket's static ruleset as iptables-restore reads it: upstream writes a few comments
 * unquoted (`--comment kubernetes service portals`), which its fake parser (ParseRule) takes and
 * real iptables-restore refuses (`Bad argument `service'`). The words up to the next option are
 * the comment; quote them.
 */
function quoteUnquotedComments(rules: string): string {
  return rules.replace(/--comment ([^"\s-]\S*(?: (?!-)\S+)+)/g, '--comment "$1"');
}

/** kube-proxy's first start on a fresh node: the jump targets, the payload, then the jumps. */
function applyFirstSync(state: NetfilterState, payload: string): void {
  const jumps = iptablesJumpRules();
  for (const table of ['filter', 'nat'] as const) {
    const chains = new Set(jumps.filter((j) => j.table === table).map((j) => j.target));
    applyIptablesRestore(state, `*${table}\n${[...chains].map((c) => `:${c} - [0:0]\n`).join('')}COMMIT\n`, { noflush: true });
  }
  applyIptablesRestore(state, payload, { noflush: true });
  for (const j of jumps) applyIptablesRestore(state, `*${j.table}\n${j.line}\nCOMMIT\n`, { noflush: true });
}

const label = (c: PacketFlowCase): string => `${c.upstreamTest}${c.name === '' ? '' : ` / ${c.name}`}`;
const isIpv6 = (c: PacketFlowCase): boolean => c.options?.ipFamily === 'IPv6';

interface TracedStep {
  readonly description: string;
  readonly flows: readonly (PacketFlow & { readonly got: { output: string; masq: boolean } })[];
}

/** Runs a case's steps on one node and traces every flow after each step. */
function runCase(c: PacketFlowCase): TracedStep[] {
  const state = createNetfilterState();
  const traced: TracedStep[] = [];
  if (c.rules !== undefined) {
    applyIptablesRestore(state, quoteUnquotedComments(c.rules));
    for (const step of c.steps) traced.push({ description: step.description, flows: step.flows.map((f) => ({ ...f, got: tracePacket(state, f) })) });
    return traced;
  }
  if (c.options === undefined) throw new Error('a case needs options or rules');
  const proxier = createIptablesProxier({ ...c.options, listNatChains: () => state.tables.get('nat')?.chains.keys() ?? [] });
  let first = true;
  for (const step of c.steps) {
    const r = proxier.sync(loadPacketFlowInput(step.input));
    if (first) applyFirstSync(state, r.payload);
    else applyIptablesRestore(state, r.payload, { noflush: true });
    first = false;
    traced.push({ description: step.description, flows: step.flows.map((f) => ({ ...f, got: tracePacket(state, f) })) });
  }
  return traced;
}

describe('upstream packet-flow cases through knet netfilter', () => {
  const ipv4 = PACKET_FLOW_CASES.filter((c) => !isIpv6(c));

  it('covers every IPv4 flow of upstream (231 of 246; the 15 IPv6 ones are below)', () => {
    expect(ipv4.flatMap((c) => c.steps.flatMap((s) => s.flows))).toHaveLength(231);
  });

  it.each(ipv4.map((c) => [label(c), c] as const))('%s', (_name, c) => {
    for (const step of runCase(c)) {
      for (const f of step.flows) {
        expect({ step: step.description, flow: f.name, output: f.got.output, masq: f.got.masq }).toEqual({
          step: step.description,
          flow: f.name,
          output: f.output,
          masq: f.masq,
        });
      }
    }
  });

  // knet's netfilter models IPv4 (`iptables`), not `ip6tables`: the IPv6 proxier's payload cannot
  // be loaded, so its flows cannot be traced. This pins that limitation; when the restore starts
  // accepting the payload, these cases belong in the table above.
  it.each(PACKET_FLOW_CASES.filter(isIpv6).map((c) => [label(c), c] as const))('%s: not traceable, the IPv4 engine refuses the ip6tables payload', (_name, c) => {
    const step = c.steps[0];
    if (c.options === undefined || step === undefined) throw new Error('an IPv6 case needs options and a step');
    const proxier = createIptablesProxier(c.options);
    const r = proxier.sync(loadPacketFlowInput(step.input));
    expect(r.payload).toContain('fd00:172:30::41');
    let error: unknown;
    try {
      applyIptablesRestore(createNetfilterState(), r.payload, { noflush: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KnetError);
    expect((error as KnetError).code).toBe('EINVAL');
    // What iptables-restore (not ip6tables-restore) says of an IPv6 address.
    expect((error as KnetError).details?.['reason']).toMatch(/^host\/network `[0-9a-f:]+' not found$/);
  });
});
