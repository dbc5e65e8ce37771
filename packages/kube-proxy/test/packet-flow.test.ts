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
 * IPv6 cases (upstream's IPv6 proxier) are applied to an ip6tables state (`family: 'ipv6'`) and
 * traced with IPv6 packets, endpoints printed `[IP]:port` as upstream prints them.
 *
 * `-m addrtype LOCAL` is true for 127.0.0.1, ::1 and the fake node IPs only. A `--probability` jump
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
  applyIptablesRestore,
  createNetfilterState,
  evaluateChain,
  formatIpv4,
  formatIpv6Words,
  parseIpv4,
  tryParseIpv6Words,
} from '@knet/core';
import type { ChainEvaluation, EvaluateContext, Ip6PacketView, Ipv6Words, NetfilterState, PacketView, StatisticChooser } from '@knet/core';
import { createIptablesProxier, iptablesJumpRules } from '../src/index.js';
import { PACKET_FLOW_CASES, PACKET_FLOW_LOCAL_IPS, loadPacketFlowInput } from './packet-flow-cases.js';
import type { PacketFlow, PacketFlowCase } from './packet-flow-cases.js';

const PROTOCOLS = { TCP: 6, UDP: 17, SCTP: 132 } as const;
const FILTER_CHAINS = ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL'] as const;
const LOCAL = new Set(PACKET_FLOW_LOCAL_IPS.filter((ip) => !ip.includes(':')).map((ip) => parseIpv4(ip)));
const LOCAL6 = new Set(PACKET_FLOW_LOCAL_IPS.filter((ip) => ip.includes(':')).map((ip) => formatIpv6Words(ipv6(ip))));

function ipv6(text: string): Ipv6Words {
  const words = tryParseIpv6Words(text);
  if (words === undefined) throw new Error(`not an IPv6 address: ${text}`);
  return words;
}
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
    addrType6: (address) => (LOCAL6.has(formatIpv6Words(address)) ? 'LOCAL' : 'UNICAST'),
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
      if (r?.minPort === undefined) throw new Error(`DNAT without a port: ${e.nat.rule.text}`);
      if (r.minIp6 !== undefined) outputs.push(`[${formatIpv6Words(r.minIp6)}]:${r.minPort}`);
      else if (r.minIp !== undefined) outputs.push(`${formatIpv4(r.minIp)}:${r.minPort}`);
      else throw new Error(`DNAT without an address: ${e.nat.rule.text}`);
    } else if (e.decidedBy !== undefined && VERDICT_TARGETS.has(e.decidedBy.target.kind)) {
      outputs.push(e.decidedBy.target.kind);
    }
  };
  const fields = {
    protocol: PROTOCOLS[f.protocol],
    sport: 40000,
    dport: f.destPort,
    inIface: 'eth0',
    mark: 0,
    length: 60,
    fragment: false,
  };
  const v6 = state.family === 'ipv6';
  const packet: PacketView | Ip6PacketView = v6
    ? { ...fields, src: ipv6(f.sourceIP), dst: ipv6(f.destIP) }
    : { ...fields, src: parseIpv4(f.sourceIP), dst: parseIpv4(f.destIP) };
  for (const e of allPaths((choose) => evaluateChain(state, 'nat', 'PREROUTING', packet, ctx(choose)))) collect(e);
  const first = outputs[0];
  const natDst = first?.slice(0, first.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
  const afterNat: PacketView | Ip6PacketView =
    natDst === undefined ? packet : v6 ? { ...(packet as Ip6PacketView), dst: ipv6(natDst) } : { ...(packet as PacketView), dst: parseIpv4(natDst) };
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
  const state = createNetfilterState({ family: isIpv6(c) ? 'ipv6' : 'ipv4' });
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
  it('covers every flow of upstream (246: 231 IPv4 and 15 IPv6)', () => {
    const flows = (cs: readonly PacketFlowCase[]): number => cs.flatMap((c) => c.steps.flatMap((s) => s.flows)).length;
    expect(flows(PACKET_FLOW_CASES)).toBe(246);
    expect(flows(PACKET_FLOW_CASES.filter(isIpv6))).toBe(15);
  });

  it.each(PACKET_FLOW_CASES.map((c) => [label(c), c] as const))('%s', (_name, c) => {
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
});
