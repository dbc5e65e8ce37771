import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../ip/ipv4.js';
import type { Ipv4Packet } from '../../packet/types.js';
import { packetViewOf } from './packet-view-of.js';

function v4(payload: Ipv4Packet['payload'], over: Partial<Ipv4Packet> = {}): Ipv4Packet {
  return { kind: 'ipv4', tos: 0, id: 1, df: true, ttl: 63, protocol: 6, src: parseIpv4('10.244.1.5'), dst: parseIpv4('10.96.0.10'), payload, ...over };
}

describe('packetViewOf', () => {
  it('reads ports, flags and option kinds of a TCP SYN (20 + 20 + 20 bytes, as Linux sends it)', () => {
    const options = Uint8Array.from([2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]);
    const view = packetViewOf(v4({ kind: 'tcp', srcPort: 40000, dstPort: 80, seq: 1, ack: 0, flags: 0x02, window: 64240, options, payload: new Uint8Array() }), {
      inIface: 'eth0',
      mark: 0x4000,
    });
    expect(view).toEqual({
      src: parseIpv4('10.244.1.5'),
      dst: parseIpv4('10.96.0.10'),
      protocol: 6,
      sport: 40000,
      dport: 80,
      tcpFlags: 0x02,
      tcpOptions: [2, 4, 8, 1, 3],
      inIface: 'eth0',
      mark: 0x4000,
      length: 60,
      fragment: false,
      ttl: 63,
    });
  });

  it.each([
    [v4({ kind: 'udp', srcPort: 53, dstPort: 40001, payload: new Uint8Array(12) }, { protocol: 17 }), { sport: 53, dport: 40001, length: 40 }],
    [v4({ kind: 'icmp', type: 8, code: 0, id: 7, seq: 1, data: new Uint8Array(56) }, { protocol: 1 }), { icmpType: 8, icmpCode: 0, length: 84 }],
    [v4({ kind: 'udp', srcPort: 53, dstPort: 40001, payload: new Uint8Array(12) }, { protocol: 17, fragOffset: 185 }), { fragment: true, length: 40 }],
  ])('%#: transport fields only for first fragments', (p, expected) => {
    const view = packetViewOf(p);
    expect(view).toMatchObject(expected);
    if ('fragment' in expected) expect(view.sport).toBeUndefined();
  });
});
