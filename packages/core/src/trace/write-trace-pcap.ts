import { encodeEthernetFrame, encodeIpv4Packet } from '../packet/packet-encoder.js';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW, PcapWriter } from '../packet/pcap-writer.js';
import { PcapngWriter } from '../packet/pcapng-writer.js';
import type { CapturedFrame, TraceResult } from './trace-types.js';

function ifaceName(f: CapturedFrame): string {
  const owner = f.pod ?? f.node ?? (f.netns.endsWith('-fabric') ? 'fabric' : f.netns.endsWith('-outside') ? 'outside' : f.netns);
  return f.pod !== undefined ? `${f.node ?? '?'}/${owner}/${f.dev}` : `${owner}/${f.dev}`;
}

/**
 * Writes every frame a trace produced (the packet, its ARP exchange and the reply), in order,
 * from all namespaces, as a capture file.
 *
 * @remarks
 * `pcap`: a classic libpcap file with LINKTYPE_ETHERNET; like `tcpdump -i any`, a frame shows
 * once per device it crossed (sent on one veth end, received on the other). Frames of L3
 * devices (tun) are given a zero Ethernet header there. `pcapng`: one interface per device
 * (`if_name` `node-1/shop/cart-x/eth0`), L3 devices as LINKTYPE_RAW, and a comment per packet
 * saying in/out.
 * @see pcap-savefile(5); draft-ietf-opsawg-pcapng
 */
export function writeTracePcap(t: TraceResult, format: 'pcap' | 'pcapng' = 'pcap'): Uint8Array {
  if (format === 'pcap') {
    const w = new PcapWriter({ linkType: LINKTYPE_ETHERNET });
    for (const f of t.frames) {
      const bytes = f.linktype === 'ether' && 'etherType' in f.frame
        ? encodeEthernetFrame(f.frame)
        : encodeEthernetFrame({ dst: '00:00:00:00:00:00', src: '00:00:00:00:00:00', etherType: 0x0800, payload: f.frame as import('../packet/types.js').Ipv4Packet });
      w.writePacket(f.time, bytes);
    }
    return w.toBytes();
  }
  const w = new PcapngWriter({ application: 'knet' });
  const ids = new Map<string, number>();
  for (const f of t.frames) {
    const name = ifaceName(f);
    let id = ids.get(name);
    if (id === undefined) {
      id = w.addInterface({ name, description: `netns ${f.netns}`, linkType: f.linktype === 'ether' ? LINKTYPE_ETHERNET : LINKTYPE_RAW });
      ids.set(name, id);
    }
    const bytes = 'etherType' in f.frame ? encodeEthernetFrame(f.frame) : encodeIpv4Packet(f.frame);
    w.writePacket(id, f.time, bytes, { comment: `${f.direction} ${name}` });
  }
  return w.toBytes();
}
