import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../../packet/types.js';
import type { Ipv4Packet } from '../../packet/types.js';
import { IPS } from './conntrack-entry.js';
import type { ConntrackEntry } from './conntrack-entry.js';
import { icmpInverseType, invertTuple, isIcmpError } from './conntrack-tuple.js';
import type { ConntrackTuple } from './conntrack-tuple.js';
import { hookManip } from './nat-core.js';
import type { NatHook, NatManip } from './nat-core.js';

const ICMP_REDIRECT = 5;

/** ICMP types whose rest-of-header carries an identifier NAT may rewrite (`icmp_manip_pkt`). */
function icmpHasId(type: number): boolean {
  return icmpInverseType(type) !== undefined;
}

/**
 * Translates a packet from its connection's NAT binding (`nf_nat_packet`): at PREROUTING and OUTPUT
 * the destination, at POSTROUTING and INPUT the source, each in the direction the binding covers:
 * DNAT rewrites original-direction destinations and reply sources, SNAT original sources and reply
 * destinations. An ICMP error (RELATED) is translated as `nf_nat_icmp_reply_translation` does: the
 * quoted header inside (addresses, ports or ICMP id, with the kernel's incremental checksum updates)
 * and the outer header, so the sender sees an error about the connection as it knows it.
 *
 * @param direction the packet's direction in `entry` (`PacketCt.direction`).
 * @returns a new packet (the input is never mutated; it is returned as is when nothing changes), or
 * `undefined` when the kernel would drop it (an ICMP redirect about a NATed connection, a quoted
 * header too short to rewrite).
 * @remarks Linux equivalent: `nf_nat_packet()`, `nf_nat_manip_pkt()`, `nf_nat_ipv4_manip_pkt()`,
 * `{tcp,udp,icmp}_manip_pkt()` and `nf_nat_icmp_reply_translation()`.
 * @see https://github.com/torvalds/linux/blob/master/net/netfilter/nf_nat_proto.c
 * @example
 * ```ts
 * import { natPacket } from '@knet/core';
 * declare const entry: import('@knet/core').ConntrackEntry;
 * declare const reply: import('@knet/core').Ipv4Packet;
 * natPacket(entry, 'REPLY', reply, 'POSTROUTING'); // source back to the Service IP after DNAT
 * ```
 */
export function natPacket(entry: ConntrackEntry, direction: 'ORIGINAL' | 'REPLY', packet: Ipv4Packet, hook: NatHook): Ipv4Packet | undefined {
  const manip = hookManip(hook);
  const dir = direction === 'REPLY' ? 1 : 0;
  const p = packet.payload;
  if (packet.protocol === IPPROTO_ICMP && p.kind === 'icmp' && isIcmpError(p.type)) {
    return icmpReplyTranslation(entry, dir, packet, manip);
  }
  if (!natApplies(entry, dir, manip)) return packet;
  const target = invertTuple(dir === 0 ? entry.reply : entry.original);
  if (target === undefined) return packet;
  return manipPacket(packet, target, manip);
}

/** Whether the binding rewrites this side of a packet in this direction (the status-bit test). */
function natApplies(entry: ConntrackEntry, dir: number, manip: NatManip): boolean {
  let bit: number = manip === 'SNAT' ? IPS.SRC_NAT : IPS.DST_NAT;
  if (dir === 1) bit ^= IPS.NAT_MASK;
  return (entry.status & bit) !== 0;
}

/** `nf_nat_ipv4_manip_pkt` on a structured packet: address plus layer 4 key. */
function manipPacket(packet: Ipv4Packet, target: ConntrackTuple, manip: NatManip): Ipv4Packet {
  const p = packet.payload;
  let payload = p;
  if ((packet.protocol === IPPROTO_TCP && p.kind === 'tcp') || (packet.protocol === IPPROTO_UDP && p.kind === 'udp')) {
    payload = manip === 'SNAT' ? { ...p, srcPort: target.sport } : { ...p, dstPort: target.dport };
  } else if (packet.protocol === IPPROTO_ICMP && p.kind === 'icmp' && icmpHasId(p.type) && p.rest === undefined) {
    // the decoder keeps echo-like identifiers in `id` (never in `rest`)
    payload = { ...p, id: target.id };
  }
  return manip === 'SNAT' ? { ...packet, src: target.src, payload } : { ...packet, dst: target.dst, payload };
}

function icmpReplyTranslation(entry: ConntrackEntry, dir: number, packet: Ipv4Packet, manip: NatManip): Ipv4Packet | undefined {
  const icmp = packet.payload;
  if (icmp.kind !== 'icmp') return packet;
  if (icmp.data.length < 20) return undefined; // skb_ensure_writable(hdrlen + icmp + inner iphdr)
  if (icmp.type === ICMP_REDIRECT) {
    // redirects on non-null NAT would make the hosts talk past the translation
    if ((entry.status & IPS.NAT_DONE_MASK) !== IPS.NAT_DONE_MASK) return undefined;
    if ((entry.status & IPS.NAT_MASK) !== 0) return undefined;
  }
  if (!natApplies(entry, dir, manip)) return packet;
  const other = dir === 0 ? entry.reply : entry.original;
  const inner = manipQuoted(icmp.data, other, manip === 'SNAT' ? 'DNAT' : 'SNAT');
  if (inner === undefined) return undefined;
  const outer = invertTuple(other);
  if (outer === undefined) return undefined;
  const translated: Ipv4Packet = { ...packet, payload: { ...icmp, data: inner } };
  return manip === 'SNAT' ? { ...translated, src: outer.src } : { ...translated, dst: outer.dst };
}

function get16(b: Uint8Array, o: number): number {
  return (((b[o] ?? 0) << 8) | (b[o + 1] ?? 0)) >>> 0;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function words32(v: number): [number, number] {
  return [(v >>> 16) & 0xffff, v & 0xffff];
}

/**
 * `inet_proto_csum_replace*` / `csum_replace*` (RFC 1624): updates the 16-bit checksum at `at` for
 * old 16-bit words replaced by new ones.
 */
function csumReplace(b: Uint8Array, at: number, from: readonly number[], to: readonly number[]): void {
  let acc = ~get16(b, at) & 0xffff;
  for (const w of from) acc += ~w & 0xffff;
  for (const w of to) acc += w & 0xffff;
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  put16(b, at, ~acc & 0xffff);
}

/**
 * `nf_nat_ipv4_manip_pkt` on the header quoted in an ICMP error (a copy of `data`): the layer 4
 * key first (its checksum updated when the quote holds it), then the address and the IP checksum.
 */
function manipQuoted(data: Uint8Array, target: ConntrackTuple, manip: NatManip): Uint8Array | undefined {
  const b = data.slice();
  const ihl = ((b[0] ?? 0) & 0x0f) * 4;
  const l4 = ihl;
  const protocol = b[9] ?? 0;
  const addrAt = manip === 'SNAT' ? 12 : 16;
  const oldAddr = ((get16(b, addrAt) << 16) | get16(b, addrAt + 2)) >>> 0;
  const newAddr = manip === 'SNAT' ? target.src : target.dst;
  if (protocol === IPPROTO_TCP) {
    // only 8 bytes are guaranteed; the checksum is updated when the whole header is quoted
    const full = b.length >= l4 + 20;
    if (b.length < l4 + 8) return undefined;
    const portAt = l4 + (manip === 'SNAT' ? 0 : 2);
    const oldPort = get16(b, portAt);
    const newPort = manip === 'SNAT' ? target.sport : target.dport;
    put16(b, portAt, newPort);
    if (full) csumReplace(b, l4 + 16, [...words32(oldAddr), oldPort], [...words32(newAddr), newPort]);
  } else if (protocol === IPPROTO_UDP) {
    if (b.length < l4 + 8) return undefined;
    const portAt = l4 + (manip === 'SNAT' ? 0 : 2);
    const oldPort = get16(b, portAt);
    const newPort = manip === 'SNAT' ? target.sport : target.dport;
    if (get16(b, l4 + 6) !== 0) {
      csumReplace(b, l4 + 6, [...words32(oldAddr), oldPort], [...words32(newAddr), newPort]);
      if (get16(b, l4 + 6) === 0) put16(b, l4 + 6, 0xffff); // CSUM_MANGLED_0
    }
    put16(b, portAt, newPort);
  } else if (protocol === IPPROTO_ICMP) {
    if (b.length < l4 + 8) return undefined;
    if (icmpHasId(b[l4] ?? 0)) {
      const oldId = get16(b, l4 + 4);
      csumReplace(b, l4 + 2, [oldId], [target.id]);
      put16(b, l4 + 4, target.id);
    }
  }
  csumReplace(b, 10, words32(oldAddr), words32(newAddr));
  put16(b, addrAt, newAddr >>> 16);
  put16(b, addrAt + 2, newAddr & 0xffff);
  return b;
}
