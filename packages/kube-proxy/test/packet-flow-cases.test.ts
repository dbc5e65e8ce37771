/**
 * Checks the packet-flow data of ./packet-flow-cases.ts: complete (upstream's 246 flows), every
 * input loads through core's manifest pipeline, and every step renders a payload that
 * upstream's consistency check accepts and that restores onto the previous steps' state.
 * Tracing the flows is the netfilter engine's job (see the file header there).
 */
import { describe, expect, it } from 'vitest';
import { createIptablesProxier } from '../src/index.js';
import { FakeIptables, checkIptablesRuleJumps } from './iptables-dump.js';
import { PACKET_FLOW_CASES, PACKET_FLOW_LOCAL_IPS, loadPacketFlowInput } from './packet-flow-cases.js';

describe('PACKET_FLOW_CASES', () => {
  it('holds every runPacketFlowTests expectation of upstream (246 flows)', () => {
    const flows = PACKET_FLOW_CASES.flatMap((c) => c.steps.flatMap((s) => s.flows));
    expect(flows).toHaveLength(246);
    const perTest = new Map<string, number>();
    for (const c of PACKET_FLOW_CASES) perTest.set(c.upstreamTest, (perTest.get(c.upstreamTest) ?? 0) + c.steps.reduce((n, s) => n + s.flows.length, 0));
    expect(Object.fromEntries(perTest)).toEqual({
      TestTracePacket: 7,
      TestNoEndpointsReject: 6,
      TestClusterIPGeneral: 9,
      TestLoadBalancer: 13,
      TestNodePorts: 35,
      TestHealthCheckNodePort: 2,
      TestExternalTrafficPolicyLocal: 7,
      TestExternalTrafficPolicyCluster: 7,
      TestInternalTrafficPolicy: 8,
      TestTerminatingEndpointsTrafficPolicyLocal: 16,
      TestTerminatingEndpointsTrafficPolicyCluster: 16,
      TestInternalExternalMasquerade: 120,
    });
    expect(PACKET_FLOW_LOCAL_IPS).toEqual(['127.0.0.1', '::1', '192.168.0.2', '192.168.1.2', '192.168.99.11', '2001:db8::1', '2001:db8:1::2']);
    for (const f of flows) expect(f.output === '' || f.output === 'ACCEPT' || f.output === 'DROP' || f.output === 'REJECT' || /^(\S+:\d+)(, \S+:\d+)*$/.test(f.output)).toBe(true);
  });

  it.each(PACKET_FLOW_CASES.map((c) => [`${c.upstreamTest}${c.name === '' ? '' : ` / ${c.name}`}`, c] as const))('%s: inputs load and render consistent, restorable rules', (_name, c) => {
    const ipt = new FakeIptables();
    if (c.rules !== undefined) {
      ipt.restoreAll(c.rules);
      return;
    }
    if (c.options === undefined) throw new Error('a case needs options or rules');
    const proxier = createIptablesProxier({ ...c.options, restore: (p) => ipt.restoreAll(p), listNatChains: () => ipt.chains('nat') });
    for (const step of c.steps) {
      const r = proxier.sync(loadPacketFlowInput(step.input));
      expect(r.ok).toBe(true);
      if (r.full) checkIptablesRuleJumps(r.payload);
    }
  });
});
