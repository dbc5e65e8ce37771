import { describe, expect, it } from 'vitest';
import { echo, icmpError, ip, other, tcp, TCP_SYN, udp } from './__fixtures__/packets.js';
import { quotedTuple } from './conntrack-table.js';
import { icmpInverseType, invertTuple, isIcmpError, makeTuple, tupleKey, tupleOfPacket, tuplesEqual } from './conntrack-tuple.js';

describe('tupleOfPacket', () => {
  it.each([
    ['TCP', tcp('10.244.0.4', 40000, '10.96.0.10', 80, TCP_SYN, 1), makeTuple(ip('10.244.0.4'), ip('10.96.0.10'), 6, { sport: 40000, dport: 80 })],
    ['UDP', udp('10.244.0.4', 45000, '10.96.0.10', 53), makeTuple(ip('10.244.0.4'), ip('10.96.0.10'), 17, { sport: 45000, dport: 53 })],
    ['ICMP echo', echo('10.244.0.4', '10.244.1.3', 8, 15473), makeTuple(ip('10.244.0.4'), ip('10.244.1.3'), 1, { id: 15473, type: 8, code: 0 })],
    ['IPIP (generic)', other('192.0.2.1', '192.0.2.2', 4), makeTuple(ip('192.0.2.1'), ip('192.0.2.2'), 4)],
  ])('%s', (_name, packet, tuple) => {
    expect(tupleOfPacket(packet)).toEqual(tuple);
  });

  it('has no tuple for a fragment', () => {
    expect(tupleOfPacket({ ...udp('10.244.0.4', 1, '10.244.1.3', 2), mf: true })).toBeUndefined();
    expect(tupleOfPacket({ ...udp('10.244.0.4', 1, '10.244.1.3', 2), fragOffset: 185 })).toBeUndefined();
  });
});

describe('invertTuple', () => {
  it.each([
    [8, 0],
    [0, 8],
    [13, 14],
    [15, 16],
    [17, 18],
    [3, undefined],
    [11, undefined],
  ])('ICMP type %i answers with %s', (type, inverse) => {
    expect(icmpInverseType(type)).toBe(inverse);
    const t = invertTuple(makeTuple(1, 2, 1, { type, id: 7 }));
    expect(t === undefined ? undefined : [t.src, t.dst, t.type, t.id]).toEqual(inverse === undefined ? undefined : [2, 1, inverse, 7]);
  });

  it('swaps addresses and ports', () => {
    const t = makeTuple(1, 2, 6, { sport: 3, dport: 4 });
    expect(invertTuple(t)).toEqual(makeTuple(2, 1, 6, { sport: 4, dport: 3 }));
    expect(tuplesEqual(invertTuple(invertTuple(t)!)!, t)).toBe(true);
    expect(tupleKey(t, 0)).not.toBe(tupleKey(t, 5));
    expect(tupleKey(t, 0)).not.toBe(tupleKey(invertTuple(t)!, 0));
  });
});

describe('isIcmpError', () => {
  it.each([
    [3, true],
    [4, true],
    [5, true],
    [11, true],
    [12, true],
    [0, false],
    [8, false],
    [13, false],
  ])('type %i → %s', (type, err) => expect(isIcmpError(type)).toBe(err));
});

describe('quotedTuple', () => {
  it('reads the header an ICMP error quotes (8 bytes of layer 4 are enough)', () => {
    const err = icmpError('10.244.1.3', '10.244.0.4', 3, 3, udp('10.244.0.4', 45001, '10.244.1.3', 5353));
    const data = err.payload.kind === 'icmp' ? err.payload.data : new Uint8Array();
    expect(quotedTuple(data)).toEqual(makeTuple(ip('10.244.0.4'), ip('10.244.1.3'), 17, { sport: 45001, dport: 5353 }));
    expect(quotedTuple(data.subarray(0, 22))).toBeUndefined();
    const echoErr = icmpError('10.244.1.1', '10.244.0.4', 11, 0, echo('10.244.0.4', '10.244.1.3', 8, 99));
    expect(quotedTuple(echoErr.payload.kind === 'icmp' ? echoErr.payload.data : new Uint8Array())).toEqual(
      makeTuple(ip('10.244.0.4'), ip('10.244.1.3'), 1, { type: 8, id: 99 }),
    );
  });
});
