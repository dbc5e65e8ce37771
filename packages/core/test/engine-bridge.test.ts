import { describe, expect, it } from 'vitest';
import { createSimHost } from '../src/kernel/sim-host.js';
import { PacketEngine } from '../src/kernel/packet-engine.js';
import { parseIpv4 } from '../src/ip/ipv4.js';
import { IPPROTO_ICMP } from '../src/packet/types.js';

/** Builds one node with cbr0 and two pods by hand, the way the bridge CNI plugin does. */
async function oneNode() {
  const host = createSimHost({ seed: 42 });
  await host.netnsAdd('knet-t-node', { role: 'node', node: 'node-1' });
  await host.linkSet('knet-t-node', 'lo', { up: true });
  await host.linkAdd('knet-t-node', { kind: 'bridge', name: 'cbr0' });
  await host.addrAdd('knet-t-node', 'cbr0', '10.244.1.1/24');
  await host.linkSet('knet-t-node', 'cbr0', { up: true });
  await host.sysctlSet('knet-t-node', 'net.ipv4.ip_forward', '1');
  for (const [i, pod] of ['a', 'b'].entries()) {
    const ns = `knet-t-pod-${pod}`;
    await host.netnsAdd(ns, { role: 'pod', node: 'node-1', pod: `default/${pod}` });
    await host.linkSet(ns, 'lo', { up: true });
    await host.linkAdd(ns, { kind: 'veth', name: 'eth0', peer: { name: `veth${pod}`, netns: 'knet-t-node' } });
    await host.linkSet('knet-t-node', `veth${pod}`, { master: 'cbr0', up: true });
    await host.addrAdd(ns, 'eth0', `10.244.1.${i + 2}/24`);
    await host.linkSet(ns, 'eth0', { up: true });
    await host.routeAdd(ns, { dst: 'default', via: '10.244.1.1' });
  }
  return host;
}

describe('PacketEngine on a bridge', () => {
  it('resolves ARP once, learns MACs on the bridge and delivers an ICMP echo and its reply', async () => {
    const host = await oneNode();
    const engine = new PacketEngine(host);
    const a = host.ns('knet-t-pod-a');
    const ping = () => engine.newPacket(a, 0, parseIpv4('10.244.1.3'), IPPROTO_ICMP, { kind: 'icmp', type: 8, code: 0, id: 1, seq: 1, data: new Uint8Array(56) });
    engine.begin();
    engine.localOut(a, ping(), { flow: 'request' }, 'ping');
    engine.run();
    const first = engine.results();
    const steps = first.hops.map((h) => `${h.flow}:${h.step}`);
    expect(steps).toContain('arp:arp-request');
    expect(steps).toContain('arp:arp-reply');
    expect(first.hops.filter((h) => h.step === 'bridge-learn').map((h) => h.decision.split(' ')[2])).toHaveLength(2);
    expect(first.deliveries.map((d) => [d.flow, d.verdict.kind, d.verdict.pod])).toEqual([
      ['request', 'delivered', 'default/b'],
      ['reply', 'delivered', 'default/a'],
    ]);
    // Second packet: no ARP, no learning, FDB forward straight to the port.
    engine.begin();
    engine.localOut(a, ping(), { flow: 'request' }, 'ping');
    engine.run();
    const second = engine.results();
    expect(second.hops.some((h) => h.flow === 'arp')).toBe(false);
    expect(second.hops.some((h) => h.step === 'bridge-learn')).toBe(false);
    expect(second.hops.filter((h) => h.step === 'bridge-forward')).toHaveLength(2);
  });
});
