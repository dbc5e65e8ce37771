import { formatIpv4, prefixMask } from '../ip/ipv4.js';
import { BROADCAST_MAC, isMulticastMac, ZERO_MAC, type Mac } from '../ip/mac.js';
import { encodeIpv4Packet, ipPacketLength } from '../packet/packet-encoder.js';
import { formatIpPacket as formatIpPacketUncached, formatPacket as formatPacketUncached } from '../packet/format-packet.js';
import {
  ETH_P_ARP,
  ETH_P_IP,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_ACK,
  TCP_RST,
  TCP_SYN,
  type ArpPacket,
  type EthernetFrame,
  type IcmpMessage,
  type Ipv4Packet,
  type TcpSegment,
  type UdpDatagram,
} from '../packet/types.js';
import type {
  CapturedFrame,
  DropReason,
  HopDetail,
  HopStep,
  TraceFlow,
  TraceHop,
  TraceVerdict,
} from '../trace/trace-types.js';
import type { SimLink } from './link/sim-link.js';
import type { SimSocket } from './socket/socket-table.js';
import { KnetError } from '../errors/knet-error.js';
import { applyNatRequest, conntrackView } from './conntrack/apply-nat-request.js';
import { IPS } from './conntrack/conntrack-entry.js';
import type { ConntrackTable, PacketCt } from './conntrack/conntrack-table.js';
import type { NatHook } from './conntrack/nat-core.js';
import { evaluateChain } from './netfilter/evaluate-chain.js';
import type { ChainEvaluation, StatisticChooser } from './netfilter/evaluate-types.js';
import type { AddrType, NetfilterHook, NetfilterTableName, RejectWith } from './netfilter/netfilter-types.js';
import { NEIGH_DEFAULTS, type NeighEntry } from './neigh/neigh-table.js';
import { formatSimRoute, RT_TABLE_DEFAULT, toRouteInfo, type SimRoute } from './route/route-table.js';
import type { SimHost } from './sim-host.js';
import type { SimNetns } from './sim-netns.js';

// Packets are immutable values that appear at many hops: format each one once.
const summaries = new WeakMap<object, string>();
function formatPacket(frame: EthernetFrame): string {
  let s = summaries.get(frame);
  if (s === undefined) {
    s = formatPacketUncached(frame);
    summaries.set(frame, s);
  }
  return s;
}
function formatIpPacket(pkt: Ipv4Packet): string {
  let s = summaries.get(pkt);
  if (s === undefined) {
    s = formatIpPacketUncached(pkt);
    summaries.set(pkt, s);
  }
  return s;
}

/**
 * What a {@link TunReader} is given to act with: the calls its process makes.
 */
export interface TunReaderIo {
  /**
   * `sendto(2)` on the reader's UDP socket: a datagram from the reader's namespace (routing,
   * OUTPUT and POSTROUTING run on it), recorded as an `encap` hop with `decision`. Without `src`
   * the route's source address is used.
   */
  sendUdp(datagram: { readonly dst: number; readonly dstPort: number; readonly srcPort: number; readonly src?: number; readonly payload: Uint8Array }, decision: string): void;
  /**
   * `write(2)` on the tun: the kernel receives `pkt` on the device (then PREROUTING, routing), after
   * a `decap` hop with `decision`. `flow` defaults to the flow that brought the reader its input.
   */
  writeTun(pkt: Ipv4Packet, decision: string, flow?: TraceFlow): void;
  /** The process drops the packet (for the trace: why). */
  discard(reason: DropReason, decision: string, pkt: Ipv4Packet): void;
}

/**
 * A userspace process holding a tun device, such as flanneld's udp backend on `flannel0`: it reads
 * the IP packets the kernel routes into the tun and, optionally, the datagrams of its own UDP
 * socket, and answers through {@link TunReaderIo}.
 *
 * @remarks Linux equivalent: a process with `/dev/net/tun` open (TUNSETIFF) polling the tun fd
 * and a UDP socket, like flannel's `proxy_amd64.c` (`tun_to_udp`, `udp_to_tun`). Without a
 * reader, a packet sent on a tun is discarded (`device-discard`).
 * @see flannel-io/flannel pkg/backend/udp/proxy_amd64.c
 */
export interface TunReader {
  /** Who reads, for the trace (`flanneld`). */
  readonly owner: string;
  /** `read(2)` on the tun fd: an IP packet the kernel sent on the device. */
  onPacket(pkt: Ipv4Packet, io: TunReaderIo): void;
  /** `recvfrom(2)` on the reader's UDP socket. */
  onDatagram?(pkt: Ipv4Packet, udp: UdpDatagram, io: TunReaderIo): void;
}

const tunReaders = new WeakMap<SimLink, TunReader>();
const socketReaders = new WeakMap<SimSocket, { readonly reader: TunReader; readonly dev: SimLink }>();

/**
 * Attaches a {@link TunReader} to the tun device `dev` of `netns` (the process must hold the
 * device: {@link SimHost.tunOpen}), and with `udp` binds its UDP socket there. Returns the
 * detach function (which closes the socket).
 *
 * @remarks Linux equivalent: the process opening the tun and `bind(2)`ing its socket. The reader
 * is kept with the device: every {@link PacketEngine} on the host uses it.
 * @throws KnetError `ENODEV` for a missing device, `EINVAL` when it is not a tun, `EBUSY` when
 * the UDP port is taken.
 */
export function attachTunReader(
  host: SimHost,
  netns: string,
  dev: string,
  reader: TunReader,
  udp?: { readonly port: number; readonly addr?: number },
): () => void {
  const link = host.link(netns, dev);
  if (link.kind !== 'tun') throw new KnetError('EINVAL', `${dev} is not a tun device`, { netns, dev });
  let sock: SimSocket | undefined;
  if (udp !== undefined) {
    sock = { proto: 'udp', addr: udp.addr ?? 0, port: udp.port, owner: reader.owner };
    link.netns.sockets.bind(sock);
    socketReaders.set(sock, { reader, dev: link });
  }
  tunReaders.set(link, reader);
  return () => {
    if (tunReaders.get(link) === reader) tunReaders.delete(link);
    if (sock !== undefined) {
      link.netns.sockets.close(sock);
      socketReaders.delete(sock);
    }
  };
}

/** Simulated time one frame takes to cross a link (1 µs), so captures are strictly ordered. */
const WIRE_NS = 1_000;
/** Simulated time of a kernel step that queues work (softirq), 100 ns. */
const STEP_NS = 100;
/** Events one run may process before it is declared a loop. */
const MAX_EVENTS = 200_000;

/** ICMP types and codes the engine emits. @see RFC 792, RFC 1191 */
const ICMP_ECHOREPLY = 0;
const ICMP_DEST_UNREACH = 3;
const ICMP_ECHO = 8;
const ICMP_TIME_EXCEEDED = 11;
const ICMP_NET_UNREACH = 0;
const ICMP_HOST_UNREACH = 1;
const ICMP_PORT_UNREACH = 3;
const ICMP_FRAG_NEEDED = 4;
const ICMP_PKT_FILTERED = 13;

/**
 * A packet in flight with the bookkeeping the trace needs, and the `sk_buff` metadata netfilter
 * reads: the conntrack attachment, the mark and the bridge ports (br_netfilter's physdev).
 * Crossing a veth scrubs it (`skb_scrub_packet`: conntrack always, the mark between namespaces).
 */
export interface Flight {
  readonly flow: TraceFlow;
  /** `skb->_nfct`: the connection the packet belongs to in the current namespace. */
  ct?: PacketCt;
  /** `skb->mark`. */
  mark?: number;
  /** br_netfilter: the bridge port the frame came in on / goes out of. */
  physIn?: string;
  physOut?: string;
  /** br_netfilter already ran the IP PREROUTING hooks at the bridge (ip_sabotage_in skips them). */
  preroutingDone?: boolean;
}

/** The metadata a packet keeps when it crosses a veth into `sameNs ? the same : another` namespace. */
function scrub(f: Flight, sameNs: boolean): Flight {
  return sameNs && f.mark !== undefined ? { flow: f.flow, mark: f.mark } : { flow: f.flow };
}

/** ICMP destination-unreachable codes of the REJECT target's `--reject-with` types. @see linux net/ipv4/netfilter/ipt_REJECT.c */
const REJECT_ICMP_CODE: Readonly<Record<Exclude<RejectWith, 'tcp-reset'>, number>> = {
  'icmp-net-unreachable': 0,
  'icmp-host-unreachable': 1,
  'icmp-proto-unreachable': 2,
  'icmp-port-unreachable': 3,
  'icmp-net-prohibited': 9,
  'icmp-host-prohibited': 10,
  'icmp-admin-prohibited': 13,
};

/** A NAT translation the trace saw (for outcomes: the endpoint and whether it was masqueraded). */
export interface NatEvent {
  readonly flow: TraceFlow;
  readonly netns: string;
  readonly hook: NatHook;
  /** `DNAT` changes the destination, `SNAT` the source (MASQUERADE is SNAT). */
  readonly manip: 'DNAT' | 'SNAT';
  /** True for the reverse translation of a reply. */
  readonly reverse: boolean;
  readonly before: { readonly addr: number; readonly port?: number };
  readonly after: { readonly addr: number; readonly port?: number };
}

interface QueuedEvent {
  readonly time: number;
  readonly seq: number;
  readonly run: () => void;
}

/** Who received a delivered packet (a socket, or the kernel for ICMP echo). */
export interface DeliveryRecord {
  readonly flow: TraceFlow;
  readonly verdict: TraceVerdict;
}

/** Options of {@link PacketEngine.run}. */
export interface EngineRunOptions {
  /** Generate and trace replies (echo reply, SYN-ACK, RST, port unreachable, UDP echo). Default true. */
  readonly replies?: boolean;
  /** Record frames for pcap. Default true. */
  readonly capture?: boolean;
}

/**
 * Moves packets through a {@link SimHost}, recording every hop.
 *
 * @remarks
 * Linux equivalent: the receive and transmit paths of net/core/dev.c, net/bridge/br_input.c
 * and br_forward.c, net/ipv4/ip_input.c, ip_forward.c, ip_output.c, route.c, arp.c and
 * neighbour.c, icmp.c; in that order of processing. Each step that a person debugging the
 * path would look at is a {@link TraceHop}. Netfilter hook points are called where the kernel
 * calls NF_HOOK; until the rule engine is plugged in they accept.
 * @see linux net/ipv4/ip_input.c ip_rcv_finish, ip_forward.c ip_forward, neighbour.c __neigh_event_send
 */
export class PacketEngine {
  readonly host: SimHost;
  private queue: QueuedEvent[] = [];
  private seq = 0;
  private start = 0;
  private hops: TraceHop[] = [];
  private frames: CapturedFrame[] = [];
  private deliveries: DeliveryRecord[] = [];
  private drops: { flow: TraceFlow; verdict: TraceVerdict }[] = [];
  private pending = new Map<NeighEntry, { ns: SimNetns; link: SimLink; pkt: Ipv4Packet; f: Flight; forwarded: boolean }[]>();
  private replies = true;
  private capture = true;
  private otherhost = new Set<TraceFlow>();
  private nat: NatEvent[] = [];
  /** Flows whose connection a SNAT / MASQUERADE target bound (even when the address stayed the same). */
  private snatTargets = new Set<TraceFlow>();
  /**
   * Answers `-m statistic --mode random`: a seeded draw by default; `--all-paths` replaces it
   * with an enumerator.
   */
  choose: StatisticChooser = (p) => this.host.rng.nextFloat() < p;
  /** Who sent the traced packet (the owner of the ICMP socket replies are delivered to). */
  icmpOwner = 'the sender';
  /** The source address chosen for the first request packet of the current trace. */
  requestSource: number | undefined;

  constructor(host: SimHost) {
    this.host = host;
  }

  // ---- run loop ---------------------------------------------------------------------------

  /** Resets the recorders and starts a new trace at the host's current time. */
  begin(options: EngineRunOptions = {}): void {
    this.hops = [];
    this.frames = [];
    this.deliveries = [];
    this.drops = [];
    this.nat = [];
    this.snatTargets.clear();
    this.otherhost.clear();
    this.queue = [];
    this.start = this.host.now;
    this.replies = options.replies ?? true;
    this.requestSource = undefined;
    this.capture = options.capture ?? true;
  }

  /** Runs queued events in time order until none is left; the host clock follows. */
  run(): void {
    let n = 0;
    while (this.queue.length > 0) {
      const ev = this.pop();
      if (ev.time > this.host.now) this.host.now = ev.time;
      ev.run();
      if (++n > MAX_EVENTS) {
        this.queue = [];
        this.drops.push({ flow: 'request', verdict: { kind: 'dropped', reason: 'loop' } });
        break;
      }
    }
  }

  /** What the last run recorded. */
  results(): {
    hops: TraceHop[];
    frames: CapturedFrame[];
    deliveries: DeliveryRecord[];
    drops: { flow: TraceFlow; verdict: TraceVerdict }[];
    nat: NatEvent[];
    snatTargets: ReadonlySet<TraceFlow>;
  } {
    return { hops: this.hops, frames: this.frames, deliveries: this.deliveries, drops: this.drops, nat: this.nat, snatTargets: this.snatTargets };
  }

  private schedule(delay: number, run: () => void): void {
    const ev: QueuedEvent = { time: this.host.now + delay, seq: this.seq++, run };
    // Binary heap keyed by (time, seq).
    const q = this.queue;
    q.push(ev);
    let i = q.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (PacketEngine.less(q[p]!, ev)) break;
      q[i] = q[p]!;
      i = p;
    }
    q[i] = ev;
  }

  private static less(a: QueuedEvent, b: QueuedEvent): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private pop(): QueuedEvent {
    const q = this.queue;
    const top = q[0]!;
    const last = q.pop()!;
    if (q.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        const cand = (k: number): QueuedEvent => (k === i ? last : q[k]!);
        if (l < q.length && PacketEngine.less(q[l]!, cand(m))) m = l;
        if (r < q.length && PacketEngine.less(q[r]!, cand(m))) m = r;
        if (m === i) break;
        q[i] = q[m]!;
        i = m;
      }
      q[i] = last;
    }
    return top;
  }

  // ---- recording --------------------------------------------------------------------------

  private hop(
    ns: SimNetns,
    f: Flight,
    step: HopStep,
    decision: string,
    packet: string,
    extra: { dev?: string; detail?: HopDetail; frame?: number } = {},
  ): void {
    this.hops.push({
      index: this.hops.length,
      time: this.host.now - this.start,
      flow: f.flow,
      ...(ns.meta.node !== undefined ? { node: ns.meta.node } : {}),
      netns: ns.name,
      ...(ns.meta.pod !== undefined ? { pod: ns.meta.pod } : {}),
      ...(extra.dev !== undefined ? { dev: extra.dev } : {}),
      step,
      decision,
      ...(extra.detail !== undefined ? { detail: extra.detail } : {}),
      packet,
      ...(extra.frame !== undefined ? { frame: extra.frame } : {}),
    });
  }

  private captureFrame(link: SimLink, direction: 'in' | 'out', frame: EthernetFrame | Ipv4Packet): number | undefined {
    if (!this.capture) return undefined;
    const ns = link.netns;
    this.frames.push({
      time: this.host.now - this.start,
      netns: ns.name,
      ...(ns.meta.node !== undefined ? { node: ns.meta.node } : {}),
      ...(ns.meta.pod !== undefined ? { pod: ns.meta.pod } : {}),
      dev: link.name,
      direction,
      linktype: link.ethernet ? 'ether' : 'raw',
      frame,
    });
    return this.frames.length - 1;
  }

  private drop(ns: SimNetns, f: Flight, reason: DropReason, decision: string, packet: string, dev?: string, rule?: string): void {
    this.hop(ns, f, 'drop', decision, packet, { ...(dev !== undefined ? { dev } : {}), detail: { kind: 'drop', reason } });
    const v = this.verdict(ns, 'dropped', { reason, ...(dev !== undefined ? { dev } : {}) });
    this.drops.push({ flow: f.flow, verdict: rule !== undefined ? { ...v, rule } : v });
  }

  private verdict(ns: SimNetns, kind: TraceVerdict['kind'], extra: { reason?: DropReason; dev?: string; socket?: string } = {}): TraceVerdict {
    return {
      kind,
      ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
      netns: ns.name,
      ...(ns.meta.node !== undefined ? { node: ns.meta.node } : {}),
      ...(ns.meta.pod !== undefined ? { pod: ns.meta.pod } : {}),
      ...(extra.dev !== undefined ? { dev: extra.dev } : {}),
      ...(extra.socket !== undefined ? { socket: extra.socket } : {}),
    };
  }

  // ---- routing ----------------------------------------------------------------------------

  /**
   * fib_lookup() with the default rules: local (pref 0), main (32766), default (32767).
   * @see linux net/ipv4/fib_rules.c, ip-rule(8)
   */
  fibLookup(ns: SimNetns, dst: number): SimRoute | undefined {
    return (
      ns.local.lookup(dst) ??
      ns.main.lookup(dst) ??
      ns.tables.get(RT_TABLE_DEFAULT)?.lookup(dst)
    );
  }

  /** The source address the kernel picks for a route (`inet_select_addr`). */
  private selectSource(ns: SimNetns, route: SimRoute, dst: number): number | undefined {
    if (route.prefsrc !== undefined) return route.prefsrc;
    const dev = route.dev !== undefined ? ns.links.get(route.dev) : undefined;
    if (dev === undefined) return undefined;
    const addrs = ns.addressesOf(dev);
    const target = route.gateway ?? dst;
    const same = addrs.find((a) => a.scope !== 'host' && ((a.ip ^ target) & prefixMask(a.prefix)) === 0);
    if (same !== undefined) return same.ip;
    const any = addrs.find((a) => a.scope !== 'host');
    if (any !== undefined) return any.ip;
    // Fall back to any global address of the namespace, as inet_select_addr does.
    for (const a of ns.addresses) if (a.scope === 'global' && a.link.up) return a.ip;
    return undefined;
  }

  // ---- output path ------------------------------------------------------------------------

  /**
   * Sends a locally generated packet from a socket in `ns` (ip_queue_xmit / ip_send_skb):
   * route lookup, source selection, OUTPUT, then ip_output.
   * When `pkt.src` is 0 the source address is chosen from the route.
   */
  localOut(ns: SimNetns, pkt: Ipv4Packet, f: Flight, origin: string): void {
    let route = this.fibLookup(ns, pkt.dst);
    const summary = formatIpPacket(pkt);
    if (route === undefined || route.type === 'unreachable' || route.type === 'prohibit' || route.type === 'blackhole') {
      const reason: DropReason =
        route === undefined ? 'no-route' : route.type === 'blackhole' ? 'blackhole' : route.type === 'prohibit' ? 'prohibit' : 'unreachable-route';
      this.hop(ns, f, 'send', `${origin} sends`, summary);
      this.drop(ns, f, reason, route === undefined ? `no route to ${formatIpv4(pkt.dst)}: connect() fails with ENETUNREACH (Network is unreachable)` : `route ${formatSimRoute(route, true)}`, summary);
      return;
    }
    let out = pkt;
    if (pkt.src === 0) {
      const src = route.type === 'local' ? pkt.dst : this.selectSource(ns, route, pkt.dst);
      if (src === undefined) {
        this.hop(ns, f, 'send', `${origin} sends`, summary);
        this.drop(ns, f, 'no-route', `no source address for ${formatIpv4(pkt.dst)} (EADDRNOTAVAIL)`, summary);
        return;
      }
      out = withSrc(pkt, src);
    }
    if (f.flow === 'request' && this.requestSource === undefined) this.requestSource = out.src;
    this.hop(ns, f, 'send', `${origin} sends`, formatIpPacket(out));
    this.routeHop(ns, f, route, out);
    // NF_INET_LOCAL_OUT: raw, conntrack, mangle, nat (DNAT), filter.
    const hooked = this.hookOutput(ns, out, f, route.dev);
    if (hooked === undefined) return;
    if (hooked.dst !== out.dst) {
      // ip_route_me_harder: a destination NAT in OUTPUT re-routes the packet.
      const again = this.fibLookup(ns, hooked.dst);
      if (again === undefined || (again.type !== 'unicast' && again.type !== 'local')) {
        this.drop(ns, f, 'no-route', `no route to ${formatIpv4(hooked.dst)} after DNAT`, formatIpPacket(hooked));
        return;
      }
      route = again;
      this.routeHop(ns, f, route, hooked);
    }
    // __mkroute_output: a 127/8 source may leave through a non-loopback device only with
    // route_localnet (what kube-proxy sets for localhost NodePorts).
    const outDev = route.dev !== undefined ? ns.links.get(route.dev) : undefined;
    if (hooked.src >>> 24 === 127 && outDev !== undefined && outDev.kind !== 'loopback' && route.type !== 'local' &&
      ns.sysctl.num('net.ipv4.conf.all.route_localnet') === 0 && ns.sysctl.num(`net.ipv4.conf.${outDev.name}.route_localnet`) === 0) {
      this.drop(ns, f, 'martian', `source ${formatIpv4(hooked.src)} cannot leave through ${outDev.name}: net.ipv4.conf.${outDev.name}.route_localnet = 0 (EINVAL)`, formatIpPacket(hooked), outDev.name);
      return;
    }
    this.ipOutput(ns, hooked, route, f, false);
  }

  private routeHop(ns: SimNetns, f: Flight, route: SimRoute, pkt: Ipv4Packet): void {
    const text = formatSimRoute(route, true);
    this.hop(ns, f, 'route', `route to ${formatIpv4(pkt.dst)}: ${text}`, formatIpPacket(pkt), {
      ...(route.dev !== undefined ? { dev: route.dev } : {}),
      detail: { kind: 'route', table: toRouteInfo(route).table, route: toRouteInfo(route), text },
    });
  }

  /** ip_output → POSTROUTING → ip_finish_output: MTU, then the neighbour layer. */
  private ipOutput(ns: SimNetns, pkt: Ipv4Packet, route: SimRoute, f: Flight, forwarded: boolean): void {
    const dev = route.dev !== undefined ? ns.links.get(route.dev) : undefined;
    if (dev === undefined || !dev.up) {
      this.drop(ns, f, 'link-down', `output device ${route.dev ?? '?'} is down`, formatIpPacket(pkt), route.dev);
      return;
    }
    // NF_INET_POST_ROUTING: mangle, nat (SNAT/MASQUERADE), conntrack confirm.
    const hooked = this.hookPostrouting(ns, pkt, f, dev);
    if (hooked === undefined) return;
    pkt = hooked;
    const mtu = route.mtu ?? dev.mtu;
    const len = ipPacketLength(pkt);
    if (len > mtu) {
      if (pkt.df) {
        if (forwarded) {
          this.icmpError(ns, pkt, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, f, mtu);
          this.drop(ns, f, 'mtu-exceeded', `${len} bytes > mtu ${mtu} of ${dev.name} with DF set: ICMP fragmentation needed (mtu ${mtu}) sent back`, formatIpPacket(pkt), dev.name);
        } else {
          this.drop(ns, f, 'mtu-exceeded', `${len} bytes > mtu ${mtu} of ${dev.name} with DF set: send() fails with EMSGSIZE`, formatIpPacket(pkt), dev.name);
        }
      } else {
        this.drop(ns, f, 'fragmentation-unsupported', `${len} bytes > mtu ${mtu} of ${dev.name}: the kernel would fragment; knet does not model fragmentation yet`, formatIpPacket(pkt), dev.name);
      }
      return;
    }
    if (route.type === 'local' || dev.kind === 'loopback') {
      this.xmitEthernet(dev, { dst: ZERO_MAC, src: ZERO_MAC, etherType: ETH_P_IP, payload: pkt }, f, pkt);
      return;
    }
    if (route.type === 'broadcast' || pkt.dst === 0xffffffff) {
      this.xmitEthernet(dev, { dst: BROADCAST_MAC, src: dev.mac, etherType: ETH_P_IP, payload: pkt }, f, pkt);
      return;
    }
    const nexthop = route.gateway ?? pkt.dst;
    this.neighOutput(ns, dev, nexthop, pkt, f, forwarded);
  }

  /**
   * neigh_output / __neigh_event_send: use a valid entry, or queue the packet and solicit.
   * @see linux net/core/neighbour.c; arp(7)
   */
  private neighOutput(ns: SimNetns, dev: SimLink, nexthop: number, pkt: Ipv4Packet, f: Flight, forwarded: boolean): void {
    if (!dev.ethernet) {
      this.xmitIp(dev, pkt, f);
      return;
    }
    const now = this.host.now;
    let e = ns.neigh.get(dev.ifindex, nexthop, now);
    const nh = formatIpv4(nexthop);
    if (e === undefined || e.state === 'FAILED') {
      e = {
        ip: nexthop,
        ifindex: dev.ifindex,
        state: 'INCOMPLETE',
        confirmed: 0,
        updated: now,
        reachableNs: this.reachableTime(),
        probes: 0,
        router: false,
      };
      ns.neigh.set(e);
      this.hop(ns, f, 'neigh', `neighbour ${nh} dev ${dev.name}: no entry, resolving with ARP (packet queued, entry INCOMPLETE)`, formatIpPacket(pkt), {
        dev: dev.name,
        detail: { kind: 'neigh', ip: nh, state: 'INCOMPLETE', action: 'miss' },
      });
      this.pending.set(e, [{ ns, link: dev, pkt, f, forwarded }]);
      this.solicit(ns, dev, e, pkt.src);
      return;
    }
    if (e.state === 'INCOMPLETE') {
      const q = this.pending.get(e) ?? [];
      if (q.length < NEIGH_DEFAULTS.unresQlen) q.push({ ns, link: dev, pkt, f, forwarded });
      this.pending.set(e, q);
      this.hop(ns, f, 'neigh', `neighbour ${nh} dev ${dev.name}: INCOMPLETE, packet queued until ARP resolves`, formatIpPacket(pkt), {
        dev: dev.name,
        detail: { kind: 'neigh', ip: nh, state: 'INCOMPLETE', action: 'queued' },
      });
      return;
    }
    const lladdr = e.lladdr ?? BROADCAST_MAC;
    const stateBefore = e.state;
    if (e.state === 'STALE') {
      // A STALE entry is used at once and enters DELAY; unconfirmed after
      // delay_first_probe_time it is probed with unicast ARP (neigh_timer_handler).
      e.state = 'DELAY';
      e.updated = now;
      const entry = e;
      this.schedule(NEIGH_DEFAULTS.delayFirstProbeMs * 1e6, () => this.delayExpired(ns, dev, entry));
    }
    this.hop(ns, f, 'neigh', `neighbour ${nh} dev ${dev.name} lladdr ${lladdr} ${stateBefore}${stateBefore === 'STALE' ? ' (now DELAY)' : ''}`, formatIpPacket(pkt), {
      dev: dev.name,
      detail: { kind: 'neigh', ip: nh, lladdr, state: stateBefore, action: 'hit' },
    });
    this.xmitEthernet(dev, { dst: lladdr, src: dev.mac, etherType: ETH_P_IP, payload: pkt }, f, pkt);
  }

  private reachableTime(): number {
    // neigh_rand_reach_time: uniformly in [base/2, 3·base/2).
    const base = NEIGH_DEFAULTS.baseReachableMs * 1e6;
    return Math.floor(base / 2 + this.host.rng.nextFloat() * base);
  }

  private delayExpired(ns: SimNetns, dev: SimLink, e: NeighEntry): void {
    if (e.state !== 'DELAY' || ns.neigh.get(e.ifindex, e.ip, this.host.now) !== e) return;
    if (this.host.now - e.confirmed <= e.reachableNs) {
      e.state = 'REACHABLE';
      return;
    }
    e.state = 'PROBE';
    e.probes = 0;
    this.solicit(ns, dev, e, undefined);
  }

  /**
   * arp_solicit: broadcast requests for INCOMPLETE entries (mcast_solicit), unicast to the
   * cached address for PROBE (ucast_solicit), retrans_time apart; then FAILED.
   */
  private solicit(ns: SimNetns, dev: SimLink, e: NeighEntry, pktSrc: number | undefined): void {
    const limit = e.state === 'PROBE' ? NEIGH_DEFAULTS.ucastSolicit : NEIGH_DEFAULTS.mcastSolicit;
    if (e.probes >= limit) {
      e.state = 'FAILED';
      e.updated = this.host.now;
      const q = this.pending.get(e) ?? [];
      this.pending.delete(e);
      for (const p of q) {
        this.drop(p.ns, p.f, 'neigh-failed', `neighbour ${formatIpv4(e.ip)} dev ${dev.name}: no ARP reply after ${limit} probes, entry FAILED`, formatIpPacket(p.pkt), dev.name);
        if (p.forwarded) this.icmpError(p.ns, p.pkt, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, p.f);
      }
      return;
    }
    e.probes++;
    // arp_solicit picks the packet's source if it is local to the device's namespace
    // (arp_announce 0), else inet_select_addr(dev, target, RT_SCOPE_LINK).
    let sip = pktSrc !== undefined && ns.localAddrs.has(pktSrc) ? pktSrc : undefined;
    if (sip === undefined) {
      const a = ns.addressesOf(dev).find((x) => ((x.ip ^ e.ip) & prefixMask(x.prefix)) === 0) ?? ns.addressesOf(dev)[0];
      sip = a?.ip ?? 0;
    }
    const unicast = e.state === 'PROBE' && e.lladdr !== undefined;
    const arp: ArpPacket = { kind: 'arp', op: 1, senderMac: dev.mac, senderIp: sip, targetMac: ZERO_MAC, targetIp: e.ip };
    const frame: EthernetFrame = { dst: unicast ? e.lladdr! : BROADCAST_MAC, src: dev.mac, etherType: ETH_P_ARP, payload: arp };
    const f: Flight = { flow: 'arp' };
    this.hop(ns, f, 'arp-request', `ARP request who-has ${formatIpv4(e.ip)} tell ${formatIpv4(sip)} (${unicast ? 'unicast probe' : 'broadcast'}, probe ${e.probes}/${limit})`, formatPacket(frame), { dev: dev.name });
    this.xmitEthernet(dev, frame, f, undefined);
    const entry = e;
    this.schedule(NEIGH_DEFAULTS.retransMs * 1e6, () => {
      if (ns.neigh.get(entry.ifindex, entry.ip, this.host.now) !== entry) return;
      if (entry.state === 'INCOMPLETE' || entry.state === 'PROBE') this.solicit(ns, dev, entry, pktSrc);
    });
  }

  // ---- devices ----------------------------------------------------------------------------

  private xmitIp(dev: SimLink, pkt: Ipv4Packet, f: Flight): void {
    const idx = this.captureFrame(dev, 'out', pkt);
    const reader = dev.kind === 'tun' ? tunReaders.get(dev) : undefined;
    this.hop(dev.netns, f, 'xmit', `sent on ${dev.name} (${dev.kind}, no link layer)${reader !== undefined ? `: read by ${reader.owner}` : ''}`, formatIpPacket(pkt), {
      dev: dev.name,
      ...(idx !== undefined ? { frame: idx } : {}),
    });
    if (reader === undefined) {
      this.drop(dev.netns, f, 'device-discard', `${dev.kind} ${dev.name}: no reader attached in the simulation`, formatIpPacket(pkt), dev.name);
      return;
    }
    this.schedule(STEP_NS, () => reader.onPacket(pkt, this.tunIo(dev, f)));
  }

  /** What a {@link TunReader} can do: send UDP from its namespace, write to its tun, discard. */
  private tunIo(dev: SimLink, f: Flight): TunReaderIo {
    const ns = dev.netns;
    return {
      sendUdp: (d, decision) => {
        const route = this.fibLookup(ns, d.dst);
        const src = d.src ?? (route !== undefined ? this.selectSource(ns, route, d.dst) : undefined) ?? 0;
        const outer = this.newPacket(ns, src, d.dst, IPPROTO_UDP, { kind: 'udp', srcPort: d.srcPort, dstPort: d.dstPort, payload: d.payload });
        this.hop(ns, f, 'encap', decision, formatIpPacket(outer), { dev: dev.name });
        const g: Flight = { flow: f.flow };
        this.schedule(STEP_NS, () => this.localOut(ns, outer, g, `${tunReaders.get(dev)?.owner ?? 'a process'} (UDP socket)`));
      },
      writeTun: (pkt, decision, flow) => {
        const g: Flight = { flow: flow ?? f.flow };
        this.hop(ns, g, 'decap', decision, formatIpPacket(pkt), { dev: dev.name });
        this.schedule(STEP_NS, () => {
          if (!dev.up) {
            this.drop(ns, g, 'link-down', `${dev.name} is down`, formatIpPacket(pkt), dev.name);
            return;
          }
          const idx = this.captureFrame(dev, 'in', pkt);
          this.hop(ns, g, 'receive', `received on ${dev.name} (${dev.kind}, written by ${tunReaders.get(dev)?.owner ?? 'a process'})`, formatIpPacket(pkt), {
            dev: dev.name,
            ...(idx !== undefined ? { frame: idx } : {}),
          });
          this.ipRcv(dev, pkt, { dst: ZERO_MAC, src: ZERO_MAC, etherType: ETH_P_IP, payload: pkt }, g);
        });
      },
      discard: (reason, decision, pkt) => this.drop(ns, f, reason, decision, formatIpPacket(pkt), dev.name),
    };
  }

  /** dev_queue_xmit on an Ethernet device: capture, then hand to the driver. */
  private xmitEthernet(dev: SimLink, frame: EthernetFrame, f: Flight, pkt: Ipv4Packet | undefined): void {
    const ns = dev.netns;
    if (!dev.up) {
      this.drop(ns, f, 'link-down', `${dev.name} is down`, formatPacket(frame), dev.name);
      return;
    }
    if (dev.kind === 'bridge') {
      this.brDevXmit(dev, frame, f);
      return;
    }
    const idx = this.captureFrame(dev, 'out', frame);
    const extra = { dev: dev.name, ...(idx !== undefined ? { frame: idx } : {}) };
    switch (dev.kind) {
      case 'loopback':
        if (f.flow !== 'arp') this.hop(ns, f, 'xmit', `sent on lo (loopback)`, formatPacket(frame), extra);
        this.schedule(STEP_NS, () => this.netifReceive(dev, frame, f));
        return;
      case 'veth': {
        const peer = dev.peer;
        if (f.flow !== 'arp' || pkt !== undefined) {
          this.hop(ns, f, 'xmit', `sent on ${dev.name} (veth, peer ${peer?.name ?? '?'}${peer !== undefined && peer.netns !== ns ? ` in ${peer.netns.meta.pod ?? peer.netns.meta.node ?? peer.netns.name}` : ''})`, formatPacket(frame), extra);
        }
        if (peer === undefined || !dev.carrier) {
          this.drop(ns, f, 'link-down', `${dev.name}: no carrier (peer down)`, formatPacket(frame), dev.name);
          return;
        }
        const g = scrub(f, peer.netns === ns);
        this.schedule(WIRE_NS, () => this.netifReceive(peer, frame, g));
        return;
      }
      case 'device':
        // A physical uplink of the fabric: beyond it is the world outside the cluster.
        this.hop(ns, f, 'leave', `sent out ${dev.name}: the packet leaves the cluster`, formatPacket(frame), extra);
        this.drops.push({ flow: f.flow, verdict: this.verdict(ns, 'left-cluster', { dev: dev.name }) });
        return;
      case 'dummy':
        this.drop(ns, f, 'device-discard', `dummy device ${dev.name} discards every frame`, formatPacket(frame), dev.name);
        return;
      case 'vxlan':
        this.vxlanXmit(dev, frame, f);
        return;
      default:
        this.drop(ns, f, 'device-discard', `${dev.kind} device ${dev.name}: transmit path not modelled`, formatPacket(frame), dev.name);
    }
  }

  /**
   * Puts a frame on a device's receive path as if it came from the wire (a packet from outside
   * the cluster arriving on a node's uplink), recording who sent it.
   */
  receiveAt(dev: SimLink, frame: EthernetFrame, f: Flight, origin: string): void {
    if (frame.payload.kind === 'ipv4' && f.flow === 'request' && this.requestSource === undefined) this.requestSource = frame.payload.src;
    this.hop(dev.netns, f, 'send', `${origin} sends`, formatPacket(frame), { dev: dev.name });
    this.schedule(WIRE_NS, () => this.netifReceive(dev, frame, f));
  }

  /** __netif_receive_skb: a frame arrives on a device. */
  private netifReceive(dev: SimLink, frame: EthernetFrame, f: Flight): void {
    const ns = dev.netns;
    if (!dev.up) return;
    if (dev.master?.bridge !== undefined) {
      const idx = this.captureFrame(dev, 'in', frame);
      this.brHandleFrame(dev, frame, f, idx);
      return;
    }
    if (dev.kind !== 'loopback') {
      const idx = this.captureFrame(dev, 'in', frame);
      const forUs = frame.dst === dev.mac || isMulticastMac(frame.dst);
      if (!forUs) {
        // eth_type_trans marks it PACKET_OTHERHOST; ip_rcv and arp_rcv drop it. This is the
        // fate of flooded copies at hosts they were not meant for: not recorded as hops.
        // Only the first such copy is kept: it is the verdict only when no copy got anywhere.
        if ((f.flow === 'request' || f.flow === 'reply') && !this.otherhost.has(f.flow)) {
          this.otherhost.add(f.flow);
          this.drops.push({ flow: f.flow, verdict: this.verdict(ns, 'dropped', { reason: 'not-for-host', dev: dev.name }) });
        }
        return;
      }
      if (f.flow !== 'arp' || (frame.payload.kind === 'arp' && this.arpIsForUs(ns, frame.payload))) {
        this.hop(ns, f, 'receive', `received on ${dev.name}`, formatPacket(frame), { dev: dev.name, ...(idx !== undefined ? { frame: idx } : {}) });
      }
    }
    if (frame.etherType === ETH_P_ARP && frame.payload.kind === 'arp') this.arpRcv(dev, frame.payload, f);
    else if (frame.etherType === ETH_P_IP && frame.payload.kind === 'ipv4') this.ipRcv(dev, frame.payload, frame, f);
  }

  private arpIsForUs(ns: SimNetns, arp: ArpPacket): boolean {
    return ns.localAddrs.has(arp.targetIp) || arp.op === 2;
  }

  // ---- bridge -----------------------------------------------------------------------------

  /**
   * br_handle_frame → br_handle_frame_finish: learn the source, then deliver locally,
   * forward, or flood.
   * @see linux net/bridge/br_input.c, br_fdb.c, br_forward.c
   */
  private brHandleFrame(port: SimLink, frame: EthernetFrame, f: Flight, idx: number | undefined): void {
    const br = port.master!;
    const ns = br.netns;
    const state = br.bridge!;
    const bp = port.bridgePort!;
    const show = f.flow !== 'arp' || frame.payload.kind !== 'arp' || frame.payload.op === 2 || ns.localAddrs.has(frame.payload.targetIp) || this.brHasTarget(br, frame);
    if (show) {
      this.hop(ns, f, 'receive', `received on ${port.name} (port of bridge ${br.name})`, formatPacket(frame), { dev: port.name, ...(idx !== undefined ? { frame: idx } : {}) });
    }
    const now = this.host.now;
    if (bp.learning && !isMulticastMac(frame.src)) {
      const e = state.fdb.get(frame.src);
      if (e === undefined || (e.state === 'learned' && (e.port !== port || now - e.updated > state.ageingTime * 1e9))) {
        state.fdb.set(frame.src, { mac: frame.src, port, state: 'learned', updated: now });
        this.hop(ns, f, 'bridge-learn', `${br.name} learns ${frame.src} on ${port.name} (ageing ${state.ageingTime} s)`, formatPacket(frame), {
          dev: br.name,
          detail: { kind: 'fdb', mac: frame.src, bridge: br.name, port: port.name, action: 'learned' },
        });
      } else if (e.state === 'learned') {
        e.updated = now;
      }
    }
    f.physIn = port.name;
    // NF_BR_PRE_ROUTING with br_netfilter (net.bridge.bridge-nf-call-iptables = 1): an IPv4 frame
    // the bridge will switch (not one for the bridge's own MAC, which goes up the stack and meets
    // PREROUTING in ip_rcv with the same physdev) runs the IP PREROUTING hooks here, `-i <bridge>`.
    if (frame.payload.kind === 'ipv4' && frame.dst !== br.mac && !isMulticastMac(frame.dst) && this.brNetfilter(br)) {
      const before = frame.payload;
      const pkt = this.hookPrerouting(ns, before, f, br);
      if (pkt === undefined) return;
      f.preroutingDone = true;
      if (pkt.dst !== before.dst) {
        // br_nf_pre_routing_finish: a DNAT changed the destination, so the packet is routed
        // (knet models the bridged-DNAT shortcut as routing through the host; ADR 0005).
        this.ipRcv(br, pkt, { ...frame, dst: br.mac, payload: pkt }, f);
        return;
      }
      if (pkt !== before) frame = { ...frame, payload: pkt };
    }
    this.brForwardDecision(br, port, frame, f, show);
  }

  /** True when bridged IPv4 traffic of this bridge goes through iptables (br_netfilter loaded, sysctl on, rules present). */
  private brNetfilter(br: SimLink): boolean {
    return br.netns.netfilterActive && br.netns.sysctl.num('net.bridge.bridge-nf-call-iptables') === 1;
  }

  /**
   * True when an ARP request asks for an address in one of this namespace's subnets: the
   * bridge is on the segment the question is about, so its handling is shown in the trace
   * (flooded copies elsewhere are not).
   */
  private brHasTarget(br: SimLink, frame: EthernetFrame): boolean {
    if (frame.payload.kind !== 'arp') return false;
    const target = frame.payload.targetIp;
    for (const a of br.netns.addresses) if (((a.ip ^ target) & prefixMask(a.prefix)) === 0 && a.prefix > 0) return true;
    return false;
  }

  private brForwardDecision(br: SimLink, ingress: SimLink | undefined, frame: EthernetFrame, f: Flight, show: boolean): void {
    const ns = br.netns;
    const state = br.bridge!;
    const now = this.host.now;
    const dst = frame.dst;
    const mcast = isMulticastMac(dst);
    let e = mcast ? undefined : state.fdb.get(dst);
    if (e !== undefined && e.state === 'learned' && now - e.updated > state.ageingTime * 1e9) {
      state.fdb.delete(dst);
      e = undefined;
    }
    if (e !== undefined && e.state === 'permanent' && ingress !== undefined) {
      // A local address: up the stack through the bridge device.
      this.hop(ns, f, 'bridge-local', `${br.name} fdb: ${dst} is local (permanent): up the stack on ${br.name}`, formatPacket(frame), {
        dev: br.name,
        detail: { kind: 'fdb', mac: dst, bridge: br.name, port: e.port.name, action: 'local' },
      });
      this.schedule(STEP_NS, () => this.bridgeLocalIn(br, frame, f));
      return;
    }
    if (e !== undefined && e.state !== 'permanent' || (e !== undefined && ingress === undefined)) {
      const out = e.port;
      if (out === br) {
        this.schedule(STEP_NS, () => this.bridgeLocalIn(br, frame, f));
        return;
      }
      if (out === ingress && !out.bridgePort!.hairpin) {
        const promisc = br.promisc ? ` (${br.name} is promiscuous, so a copy goes up the stack, where ip_rcv drops it as PACKET_OTHERHOST)` : '';
        this.drop(ns, f, 'hairpin-denied', `${br.name} fdb: ${dst} is behind ${out.name}, the port the frame came in on; hairpin is off on ${out.name}${promisc}`, formatPacket(frame), out.name);
        return;
      }
      const hairpin = out === ingress;
      this.hop(ns, f, 'bridge-forward', `${br.name} fdb: ${dst} dev ${out.name} master ${br.name}${hairpin ? ' (hairpin)' : ''}: forward to ${out.name}`, formatPacket(frame), {
        dev: br.name,
        detail: { kind: 'fdb', mac: dst, bridge: br.name, port: out.name, action: hairpin ? 'hairpin' : 'forward' },
      });
      if (ingress !== undefined && frame.payload.kind === 'ipv4' && this.brNetfilter(br)) {
        // NF_BR_FORWARD → iptables FORWARD, NF_BR_POST_ROUTING → iptables POSTROUTING, with
        // `-i`/`-o` the bridge and the ports as physdev (br_nf_forward_ip, br_nf_post_routing).
        f.physOut = out.name;
        let pkt: Ipv4Packet | undefined = this.hookForward(ns, frame.payload, f, br, br);
        if (pkt !== undefined) pkt = this.hookPostrouting(ns, pkt, f, br);
        if (pkt === undefined) return;
        if (pkt !== frame.payload) frame = { ...frame, payload: pkt };
      }
      const fwd = frame;
      this.schedule(STEP_NS, () => this.xmitEthernet(out, fwd, f, undefined));
      return;
    }
    // Broadcast, multicast or unknown unicast: flood to every other port that allows it, and
    // (for group addresses) up the local stack too.
    const ports = br.ports().filter((p) => p !== ingress && p.up && (mcast || p.bridgePort!.flood) && !(ingress?.bridgePort?.isolated && p.bridgePort!.isolated));
    if (show) {
      this.hop(ns, f, 'bridge-flood', `${br.name}: ${mcast ? (dst === BROADCAST_MAC ? 'broadcast' : 'multicast') : `${dst} not in fdb (unknown unicast)`}: flood to ${ports.length} port${ports.length === 1 ? '' : 's'}${ingress !== undefined && mcast ? ` and up the stack on ${br.name}` : ''}`, formatPacket(frame), {
        dev: br.name,
        detail: { kind: 'fdb', mac: dst, bridge: br.name, action: 'flood', ports: ports.map((p) => p.name) },
      });
    }
    // One event sends every copy and one more receives them all: a flood over a 1,000-port
    // fabric costs two queue operations, not two thousand (same times, same order).
    if (ports.length > 0) this.schedule(STEP_NS, () => this.floodOut(ports, frame, { flow: f.flow }));
    if (ingress !== undefined && mcast) this.schedule(STEP_NS, () => this.bridgeLocalIn(br, frame, f));
  }

  /** Transmits flooded copies without hops of their own (the flood hop lists the ports). */
  private floodOut(ports: readonly SimLink[], frame: EthernetFrame, f: Flight): void {
    const peers: SimLink[] = [];
    for (const dev of ports) {
      if (!dev.up) continue;
      this.captureFrame(dev, 'out', frame);
      if (dev.kind === 'veth' && dev.peer !== undefined && dev.peer.up) peers.push(dev.peer);
    }
    if (peers.length > 0) {
      this.schedule(WIRE_NS, () => {
        for (const peer of peers) this.netifReceive(peer, frame, scrub(f, peer.netns === ports[0]?.netns));
      });
    }
  }

  /** A frame the bridge passes up its own stack (br_pass_frame_up → netif_receive_skb on the bridge). */
  private bridgeLocalIn(br: SimLink, frame: EthernetFrame, f: Flight): void {
    const ns = br.netns;
    const idx = this.captureFrame(br, 'in', frame);
    void idx;
    if (frame.etherType === ETH_P_ARP && frame.payload.kind === 'arp') this.arpRcv(br, frame.payload, f);
    else if (frame.etherType === ETH_P_IP && frame.payload.kind === 'ipv4') {
      if (frame.dst !== br.mac && !isMulticastMac(frame.dst)) return;
      this.ipRcv(br, frame.payload, frame, f);
    }
    void ns;
  }

  /** br_dev_xmit: the host sends out of the bridge device; the FDB picks the port. */
  private brDevXmit(br: SimLink, frame: EthernetFrame, f: Flight): void {
    const idx = this.captureFrame(br, 'out', frame);
    const show = f.flow !== 'arp' || frame.payload.kind !== 'arp' || frame.payload.op === 2 || this.brHasTarget(br, frame);
    if (show) this.hop(br.netns, f, 'xmit', `sent on ${br.name} (bridge)`, formatPacket(frame), { dev: br.name, ...(idx !== undefined ? { frame: idx } : {}) });
    this.brForwardDecision(br, undefined, frame, f, show);
  }

  // ---- ARP --------------------------------------------------------------------------------

  /**
   * arp_process: answer requests for local addresses (arp_ignore 0: any local address on any
   * device) or, with proxy_arp, for addresses routed out of another device; learn the sender.
   * @see linux net/ipv4/arp.c arp_process; arp(7)
   */
  private arpRcv(dev: SimLink, arp: ArpPacket, f: Flight): void {
    const ns = dev.netns;
    const now = this.host.now;
    if (arp.op === 1) {
      let answer = ns.localAddrs.has(arp.targetIp);
      let how = 'local address';
      if (!answer && ns.sysctl.proxyArp(dev.name)) {
        const r = this.fibLookup(ns, arp.targetIp);
        if (r !== undefined && r.type === 'unicast' && r.dev !== dev.name) {
          answer = true;
          how = `proxy_arp: ${formatIpv4(arp.targetIp)} is routed via ${r.dev}`;
        }
      }
      if (!answer) return;
      // neigh_event_ns: the requester's entry is created or refreshed as STALE.
      this.learnNeigh(ns, dev, arp.senderIp, arp.senderMac, 'STALE', f);
      const reply: ArpPacket = { kind: 'arp', op: 2, senderMac: dev.mac, senderIp: arp.targetIp, targetMac: arp.senderMac, targetIp: arp.senderIp };
      const frame: EthernetFrame = { dst: arp.senderMac, src: dev.mac, etherType: ETH_P_ARP, payload: reply };
      this.hop(ns, f, 'arp-reply', `ARP reply ${formatIpv4(arp.targetIp)} is-at ${dev.mac} (${how})`, formatPacket(frame), { dev: dev.name });
      this.schedule(STEP_NS, () => this.xmitEthernet(dev, frame, f, undefined));
      return;
    }
    // A reply: confirm a pending or probing entry; unsolicited replies only refresh existing entries.
    const e = ns.neigh.get(dev.ifindex, arp.senderIp, now);
    if (e === undefined || e.state === 'PERMANENT' || e.state === 'NOARP') return;
    const wasPending = e.state === 'INCOMPLETE' || e.state === 'PROBE' || e.state === 'DELAY';
    e.lladdr = arp.senderMac;
    e.state = wasPending ? 'REACHABLE' : 'STALE';
    e.confirmed = now;
    e.updated = now;
    e.probes = 0;
    e.reachableNs = this.reachableTime();
    this.hop(ns, f, 'neigh', `neighbour ${formatIpv4(arp.senderIp)} dev ${dev.name} lladdr ${arp.senderMac} ${e.state} (learned from ARP reply)`, formatPacket({ dst: dev.mac, src: arp.senderMac, etherType: ETH_P_ARP, payload: arp }), {
      dev: dev.name,
      detail: { kind: 'neigh', ip: formatIpv4(arp.senderIp), lladdr: arp.senderMac, state: e.state, action: 'learned' },
    });
    const q = this.pending.get(e);
    if (q !== undefined) {
      this.pending.delete(e);
      for (const p of q) {
        const frame: EthernetFrame = { dst: arp.senderMac, src: p.link.mac, etherType: ETH_P_IP, payload: p.pkt };
        this.schedule(STEP_NS, () => this.xmitEthernet(p.link, frame, p.f, p.pkt));
      }
    }
  }

  private learnNeigh(ns: SimNetns, dev: SimLink, ip: number, mac: Mac, state: 'STALE', f: Flight): void {
    const now = this.host.now;
    const e = ns.neigh.get(dev.ifindex, ip, now);
    if (e !== undefined && (e.state === 'PERMANENT' || e.state === 'NOARP')) return;
    if (e !== undefined && e.lladdr === mac && e.state !== 'INCOMPLETE' && e.state !== 'FAILED') return;
    // neigh_alloc backdates `confirmed` by twice base_reachable_time: an entry learned from a
    // request is unconfirmed, so when it is used it goes DELAY → PROBE (a unicast ARP 5 s later).
    ns.neigh.set({ ip, ifindex: dev.ifindex, lladdr: mac, state, confirmed: now - 2 * NEIGH_DEFAULTS.baseReachableMs * 1e6, updated: now, reachableNs: this.reachableTime(), probes: 0, router: false });
    this.hop(ns, f, 'neigh', `neighbour ${formatIpv4(ip)} dev ${dev.name} lladdr ${mac} STALE (learned from ARP request)`, '', {
      dev: dev.name,
      detail: { kind: 'neigh', ip: formatIpv4(ip), lladdr: mac, state, action: 'learned' },
    });
    if (e?.state === 'INCOMPLETE') {
      const q = this.pending.get(e);
      this.pending.delete(e);
      for (const p of q ?? []) {
        const frame: EthernetFrame = { dst: mac, src: p.link.mac, etherType: ETH_P_IP, payload: p.pkt };
        this.schedule(STEP_NS, () => this.xmitEthernet(p.link, frame, p.f, p.pkt));
      }
    }
  }




  /**
   * br_nf_pre_routing_finish_bridge: a bridged frame whose destination a DNAT moved to a host
   * behind the same bridge is not routed. With the neighbour's header cached it goes straight back
   * into the bridge from its ingress port with the new MAC; otherwise the neighbour layer sends it
   * through br_dev_xmit, whose br_netfilter hook (br_nf_pre_routing_finish_bridge_slow) also hands
   * it to br_handle_frame_finish from the ingress port. Either way (no TTL decrement) a frame for
   * the port it came in on needs the port's hairpin flag: kubelet's promiscuous-bridge mode does
   * not set it and the frame is dropped (the promiscuous bridge passes a copy up the stack, where
   * ip_rcv drops it as PACKET_OTHERHOST), as knet lab observed on kernel 6.18. Returns false only
   * when the bridge has no address for the new destination yet (it is then routed; ADR 0005).
   * @see linux net/bridge/br_netfilter_hooks.c br_nf_pre_routing_finish_bridge, br_nf_pre_routing_finish_bridge_slow; br_forward.c should_deliver
   */
  private bridgedDnat(br: SimLink, pkt: Ipv4Packet, route: SimRoute, frame: EthernetFrame, f: Flight): boolean {
    const ns = br.netns;
    const ingress = f.physIn !== undefined ? ns.links.get(f.physIn) : undefined;
    if (ingress === undefined) return false;
    const nexthop = route.gateway ?? pkt.dst;
    const e = ns.neigh.get(br.ifindex, nexthop, this.host.now);
    if (e === undefined || e.lladdr === undefined || e.state === 'INCOMPLETE' || e.state === 'FAILED') return false;
    const out: EthernetFrame = { ...frame, dst: e.lladdr, src: br.mac, payload: pkt };
    this.hop(ns, f, 'bridge-forward', `bridged DNAT (br_netfilter): ${formatIpv4(pkt.dst)} is behind ${br.name} itself (neighbour ${formatIpv4(nexthop)} ${e.lladdr} ${e.state}): the frame goes back into ${br.name} from ${ingress.name} (not routed, TTL kept)`, formatPacket(out), {
      dev: br.name,
      detail: { kind: 'fdb', mac: e.lladdr, bridge: br.name, port: ingress.name, action: 'forward' },
    });
    this.schedule(STEP_NS, () => this.brForwardDecision(br, ingress, out, f, true));
    return true;
  }

  // ---- VXLAN ------------------------------------------------------------------------------

  /**
   * vxlan_xmit: looks the inner destination MAC up in the device's FDB (a remote VTEP, else the
   * all-zeros flood entry, else the group), wraps the frame in VXLAN/UDP/IPv4 and sends it from
   * this namespace's IP layer (OUTPUT and POSTROUTING run on the outer packet).
   * @see linux drivers/net/vxlan/vxlan_core.c vxlan_xmit, vxlan_xmit_one; Documentation/networking/vxlan.rst
   */
  private vxlanXmit(dev: SimLink, frame: EthernetFrame, f: Flight): void {
    const ns = dev.netns;
    const vx = dev.vxlan!;
    const entry = vx.fdb.get(frame.dst);
    let remotes = entry?.dsts ?? vx.fdb.get(ZERO_MAC)?.dsts;
    let how = entry !== undefined ? `fdb ${frame.dst} dst` : 'fdb 00:00:00:00:00:00 (flood) dst';
    if (remotes === undefined && vx.group !== undefined) {
      remotes = [vx.group];
      how = 'group';
    }
    if (remotes === undefined || remotes.length === 0) {
      this.drop(ns, f, 'no-route', `${dev.name}: no FDB entry for ${frame.dst} and no flood entry or group: vxlan drops it (tx_errors)`, formatPacket(frame), dev.name);
      return;
    }
    for (const remote of remotes) {
      const route = this.fibLookup(ns, remote);
      const src = vx.local ?? (route !== undefined ? this.selectSource(ns, route, remote) : undefined) ?? 0;
      // vxlan_src_port: a hash of the inner flow, in the local port range.
      const sport = 32768 + (hashFrame(frame) % (60999 - 32768 + 1));
      const outer: Ipv4Packet = {
        kind: 'ipv4',
        tos: 0,
        id: 0,
        df: false,
        ttl: 64,
        protocol: IPPROTO_UDP,
        src,
        dst: remote,
        payload: { kind: 'udp', srcPort: sport, dstPort: vx.port, payload: { kind: 'vxlan', vni: vx.id, frame } },
      };
      this.hop(ns, f, 'encap', `${dev.name}: ${how} ${formatIpv4(remote)}: VXLAN vni ${vx.id}, UDP ${sport} → ${vx.port}, outer ${formatIpv4(src)} → ${formatIpv4(remote)} (+50 bytes)`, formatIpPacket(outer), {
        dev: dev.name,
        detail: { kind: 'vxlan', vni: vx.id, local: formatIpv4(src), remote: formatIpv4(remote), port: vx.port },
      });
      const g: Flight = { flow: f.flow };
      this.schedule(STEP_NS, () => this.localOut(ns, outer, g, `${dev.name} (VXLAN encapsulation)`));
    }
  }

  /**
   * vxlan_rcv: a UDP datagram for a local address on a vxlan device's port carrying a VXLAN
   * header with that device's VNI is decapsulated, and the inner frame is received on the
   * device (learning the inner source MAC → outer source address when learning is on).
   * Returns false when no vxlan device owns the port (the datagram goes to sockets).
   */
  private vxlanRcv(ns: SimNetns, pkt: Ipv4Packet, udp: UdpDatagram, f: Flight): boolean {
    let owned = false;
    for (const l of ns.links.values()) if (l.vxlan !== undefined && l.vxlan.port === udp.dstPort && l.up) owned = true;
    if (!owned) return false;
    const body = udp.payload;
    if (!(body instanceof Uint8Array) && body.kind === 'vxlan') {
      const dev = [...ns.links.values()].find((l) => l.vxlan !== undefined && l.vxlan.port === udp.dstPort && l.vxlan.id === body.vni && l.up);
      if (dev === undefined) {
        this.drop(ns, f, 'no-route', `VXLAN vni ${body.vni} on port ${udp.dstPort}: no device with that VNI`, formatIpPacket(pkt));
        return true;
      }
      const vx = dev.vxlan!;
      if (vx.learning && !isMulticastMac(body.frame.src)) {
        const e = vx.fdb.get(body.frame.src);
        if (e === undefined) vx.fdb.set(body.frame.src, { mac: body.frame.src, dsts: [pkt.src], state: 'learned', updated: this.host.now });
        else if (e.state === 'learned') e.updated = this.host.now;
      }
      this.hop(ns, f, 'decap', `${dev.name}: VXLAN vni ${body.vni} from ${formatIpv4(pkt.src)}: inner frame received on ${dev.name}`, formatPacket(body.frame), {
        dev: dev.name,
        detail: { kind: 'vxlan', vni: body.vni, local: formatIpv4(pkt.dst), remote: formatIpv4(pkt.src), port: udp.dstPort },
      });
      const inner = body.frame;
      this.schedule(STEP_NS, () => this.netifReceive(dev, inner, { flow: f.flow }));
      return true;
    }
    this.drop(ns, f, 'malformed', `UDP ${udp.dstPort} is a VXLAN port but the payload is not VXLAN`, formatIpPacket(pkt));
    return true;
  }

  // ---- netfilter hooks --------------------------------------------------------------------

  /**
   * NF_INET_PRE_ROUTING in priority order: raw (−300), conntrack (−200), mangle (−150), nat DNAT
   * (−100). Returns the packet (translated) or undefined when a rule or conntrack dropped it.
   * @see linux include/uapi/linux/netfilter_ipv4.h (NF_IP_PRI_*), net/netfilter/nf_conntrack_core.c
   */
  private hookPrerouting(ns: SimNetns, pkt: Ipv4Packet, f: Flight, inDev: SimLink): Ipv4Packet | undefined {
    if (!ns.netfilterActive) return pkt;
    const io = { in: inDev.name };
    if (!this.nfTable(ns, 'raw', 'PREROUTING', pkt, f, io)) return undefined;
    if (!this.conntrackIn(ns, pkt, f)) return undefined;
    if (!this.nfTable(ns, 'mangle', 'PREROUTING', pkt, f, io)) return undefined;
    return this.natStep(ns, pkt, f, 'PREROUTING', io, inDev);
  }

  /** NF_INET_LOCAL_OUT: raw, conntrack, mangle, nat (DNAT), filter. */
  private hookOutput(ns: SimNetns, pkt: Ipv4Packet, f: Flight, outName: string | undefined): Ipv4Packet | undefined {
    if (!ns.netfilterActive) return pkt;
    const io = outName !== undefined ? { out: outName } : {};
    if (!this.nfTable(ns, 'raw', 'OUTPUT', pkt, f, io)) return undefined;
    if (!this.conntrackIn(ns, pkt, f)) return undefined;
    if (!this.nfTable(ns, 'mangle', 'OUTPUT', pkt, f, io)) return undefined;
    const out = this.natStep(ns, pkt, f, 'OUTPUT', io, undefined);
    if (out === undefined) return undefined;
    return this.nfTable(ns, 'filter', 'OUTPUT', out, f, io) ? out : undefined;
  }

  /** NF_INET_FORWARD: mangle, filter. */
  private hookForward(ns: SimNetns, pkt: Ipv4Packet, f: Flight, inDev: SimLink, outDev: SimLink | undefined): Ipv4Packet | undefined {
    if (!ns.netfilterActive) return pkt;
    const io = { in: inDev.name, ...(outDev !== undefined ? { out: outDev.name } : {}) };
    if (!this.nfTable(ns, 'mangle', 'FORWARD', pkt, f, io)) return undefined;
    return this.nfTable(ns, 'filter', 'FORWARD', pkt, f, io) ? pkt : undefined;
  }

  /** NF_INET_LOCAL_IN: mangle, filter, nat (SNAT), conntrack confirm. */
  private hookInput(ns: SimNetns, pkt: Ipv4Packet, f: Flight, inDev: SimLink): Ipv4Packet | undefined {
    if (!ns.netfilterActive) return pkt;
    const io = { in: inDev.name };
    if (!this.nfTable(ns, 'mangle', 'INPUT', pkt, f, io)) return undefined;
    if (!this.nfTable(ns, 'filter', 'INPUT', pkt, f, io)) return undefined;
    const out = this.natStep(ns, pkt, f, 'INPUT', io, undefined);
    if (out === undefined) return undefined;
    return this.confirm(ns, out, f) ? out : undefined;
  }

  /** NF_INET_POST_ROUTING: mangle, nat (SNAT / MASQUERADE), conntrack confirm. */
  private hookPostrouting(ns: SimNetns, pkt: Ipv4Packet, f: Flight, outDev: SimLink): Ipv4Packet | undefined {
    if (!ns.netfilterActive) return pkt;
    const io = { out: outDev.name };
    if (!this.nfTable(ns, 'mangle', 'POSTROUTING', pkt, f, io)) return undefined;
    const out = this.natStep(ns, pkt, f, 'POSTROUTING', io, outDev);
    if (out === undefined) return undefined;
    return this.confirm(ns, out, f) ? out : undefined;
  }

  /** `inet_addr_type_dev_table`: what an address is to this namespace, for `-m addrtype`. */
  private addrType(ns: SimNetns, addr: number, iface: string | undefined): AddrType {
    if (addr === 0 || addr === 0xffffffff) return 'BROADCAST';
    if (addr >>> 28 === 0xe) return 'MULTICAST';
    const r = ns.local.lookup(addr);
    if (r === undefined) return 'UNICAST';
    if (iface !== undefined && r.dev !== iface) return 'UNICAST';
    switch (r.type) {
      case 'local':
        return 'LOCAL';
      case 'broadcast':
        return 'BROADCAST';
      case 'blackhole':
        return 'BLACKHOLE';
      case 'unreachable':
        return 'UNREACHABLE';
      case 'prohibit':
        return 'PROHIBIT';
      default:
        return 'UNICAST';
    }
  }

  /**
   * Walks one table's built-in chain for a hook; records a hop when a rule matched or a policy
   * other than ACCEPT decided; applies marks; answers REJECT. Returns false when the packet
   * was dropped (or rejected).
   */
  private nfTable(
    ns: SimNetns,
    table: NetfilterTableName,
    hook: NetfilterHook,
    pkt: Ipv4Packet,
    f: Flight,
    io: { readonly in?: string; readonly out?: string },
  ): boolean {
    const r = this.nfEvaluate(ns, table, hook, pkt, f, io);
    if (r === undefined) return true;
    return this.nfVerdict(ns, table, hook, pkt, f, r);
  }

  private nfEvaluate(
    ns: SimNetns,
    table: NetfilterTableName,
    hook: NetfilterHook,
    pkt: Ipv4Packet,
    f: Flight,
    io: { readonly in?: string; readonly out?: string },
  ): ChainEvaluation | undefined {
    const t = ns.netfilter.tables.get(table);
    if (t === undefined || !t.chains.has(hook)) return undefined;
    const p = pkt.payload;
    const l4 = p.kind === 'tcp' || p.kind === 'udp' ? p : undefined;
    const r = evaluateChain(
      ns.netfilter,
      table,
      hook,
      {
        src: pkt.src,
        dst: pkt.dst,
        protocol: pkt.protocol,
        ...(l4 !== undefined ? { sport: l4.srcPort, dport: l4.dstPort } : {}),
        ...(p.kind === 'icmp' ? { icmpType: p.type, icmpCode: p.code } : {}),
        ...(p.kind === 'tcp' ? { tcpFlags: p.flags } : {}),
        ...(io.in !== undefined ? { inIface: io.in } : {}),
        ...(io.out !== undefined ? { outIface: io.out } : {}),
        mark: f.mark ?? 0,
        length: ipPacketLength(pkt),
        fragment: (pkt.fragOffset ?? 0) !== 0,
        ttl: pkt.ttl,
      },
      {
        now: this.host.now,
        choose: this.choose,
        addrType: (addr, iface) => this.addrType(ns, addr, iface),
        ...(f.ct !== undefined ? { conntrack: conntrackView(f.ct, this.host.now) } : {}),
        ...(f.physIn !== undefined || f.physOut !== undefined
          ? { physdev: { ...(f.physIn !== undefined ? { physIn: f.physIn } : {}), ...(f.physOut !== undefined ? { physOut: f.physOut } : {}) } }
          : {}),
      },
    );
    f.mark = r.mark;
    if (r.connmark !== undefined && f.ct?.entry !== undefined) f.ct.entry.mark = r.connmark;
    if (r.notrack && f.ct === undefined) f.ct = { entry: undefined, state: 'UNTRACKED', direction: 'ORIGINAL', verdict: 'accept' };
    if (r.matched.length > 0 || r.verdict !== 'ACCEPT') {
      const rules = r.matched.map((m) => ({ chain: m.chain, ruleNumber: m.ruleNumber, text: m.text }));
      const decided = r.policy ? `policy ${r.verdict}` : r.verdict;
      const path = r.matched.map((m) => `${m.text} (rule ${m.ruleNumber})`).join(' → ');
      this.hop(ns, f, 'netfilter', `${table} ${hook}: ${path === '' ? '' : `${path} ⇒ `}${r.nat !== undefined ? r.nat.kind : decided}`, formatIpPacket(pkt), {
        ...(io.out ?? io.in) !== undefined ? { dev: (io.out ?? io.in)! } : {},
        detail: {
          kind: 'netfilter',
          table,
          hook,
          verdict: r.nat !== undefined ? r.nat.kind : r.verdict,
          policy: r.policy,
          rules,
          traversed: r.traversed,
        },
      });
    }
    return r;
  }

  private nfVerdict(ns: SimNetns, table: NetfilterTableName, hook: NetfilterHook, pkt: Ipv4Packet, f: Flight, r: ChainEvaluation): boolean {
    if (r.verdict === 'ACCEPT' || r.verdict === 'CONTINUE') return true;
    const by = r.decidedBy !== undefined ? `${r.decidedBy.text} (${table} rule ${r.decidedBy.ruleNumber})` : `the ${table} ${hook} policy`;
    if (r.verdict === 'DROP') {
      this.drop(ns, f, 'netfilter-drop', `dropped by ${by}`, formatIpPacket(pkt), undefined, r.decidedBy?.text);
      return false;
    }
    // REJECT: drop, and answer the sender (ipt_REJECT: nf_send_reset / nf_send_unreach).
    const how = r.reject ?? 'icmp-port-unreachable';
    this.hop(ns, f, 'reject', `rejected by ${by} with ${how}`, formatIpPacket(pkt), { detail: { kind: 'drop', reason: 'netfilter-reject' } });
    this.drops.push({ flow: f.flow, verdict: { ...this.verdict(ns, 'rejected', { reason: 'netfilter-reject' }), ...(r.decidedBy !== undefined ? { rule: r.decidedBy.text } : {}) } });
    if (!this.replies || f.flow === 'icmp-error' || f.flow === 'arp') return false;
    if (how === 'tcp-reset') {
      if (pkt.payload.kind === 'tcp') {
        const rst = this.tcpReply(ns, pkt, pkt.payload, TCP_RST | TCP_ACK);
        if (rst !== undefined) {
          const g: Flight = { flow: 'reply', ...(f.ct !== undefined ? { ct: ns.conntrack.attachRelated(f.ct) } : {}) };
          this.schedule(STEP_NS, () => this.localOut(ns, rst, g, 'the kernel (REJECT --reject-with tcp-reset)'));
        }
      }
    } else {
      this.icmpError(ns, pkt, ICMP_DEST_UNREACH, REJECT_ICMP_CODE[how], f);
    }
    return false;
  }

  /** nf_conntrack_in: attach the packet's connection (unless raw NOTRACKed it or it has one). */
  private conntrackIn(ns: SimNetns, pkt: Ipv4Packet, f: Flight): boolean {
    if (f.ct !== undefined) return true;
    const ct = ns.conntrack.conntrackIn(pkt, this.host.now);
    f.ct = ct;
    const e = ct.entry;
    const nat = e !== undefined && (e.has(IPS.DST_NAT) || e.has(IPS.SRC_NAT));
    const text = ct.state === 'INVALID'
      ? `conntrack: INVALID${ct.reason !== undefined ? ` (${ct.reason})` : ''}`
      : e === undefined
        ? `conntrack: ${ct.state}`
        : ct.direction === 'REPLY'
          ? `conntrack: ${ct.state}, reply of ${formatTuple(e.original)}${nat ? ' (NATed: reply tuple ' + formatTuple(e.reply) + ')' : ''}`
          : `conntrack: ${ct.state} ${formatTuple(e.original)}${nat ? `, reply tuple ${formatTuple(e.reply)}` : ''}`;
    this.hop(ns, f, 'conntrack', text, formatIpPacket(pkt), {
      detail: { kind: 'conntrack', state: ct.state, direction: ct.direction, ...(e !== undefined ? { original: formatTuple(e.original), reply: formatTuple(e.reply) } : {}) },
    });
    if (ct.verdict === 'drop') {
      this.drop(ns, f, 'netfilter-drop', `conntrack dropped the packet: ${ct.reason ?? 'table full'}`, formatIpPacket(pkt));
      return false;
    }
    return true;
  }

  /** The nat table at a hook, through conntrack: the chain runs for a connection's first packet only. */
  private natStep(
    ns: SimNetns,
    pkt: Ipv4Packet,
    f: Flight,
    hook: NatHook,
    io: { readonly in?: string; readonly out?: string },
    dev: SimLink | undefined,
  ): Ipv4Packet | undefined {
    const ct = f.ct;
    if (ct === undefined || ct.entry === undefined) return pkt;
    const table: ConntrackTable = ns.conntrack;
    let dropped = false;
    const res = table.natHook(ct, pkt, hook, {
      runChain: () => {
        const r = this.nfEvaluate(ns, 'nat', hook, pkt, f, io);
        if (r === undefined) return 'accept';
        if (r.verdict === 'DROP' || r.verdict === 'REJECT') {
          dropped = !this.nfVerdict(ns, 'nat', hook, pkt, f, r);
          return 'drop';
        }
        if (r.nat === undefined) return 'accept';
        if (r.nat.kind === 'SNAT' || r.nat.kind === 'MASQUERADE') this.snatTargets.add(f.flow);
        const addr = dev !== undefined ? ns.addressesOf(dev).find((a) => a.scope !== 'host')?.ip ?? 0 : 0;
        const verdict = applyNatRequest(table, ct, r.nat, {
          hook,
          ...(hook === 'POSTROUTING' ? { outAddress: addr, outIfindex: dev?.ifindex ?? 0 } : {}),
          ...(hook === 'PREROUTING' ? { inAddress: addr } : {}),
        });
        if (verdict === 'drop') {
          this.drop(ns, f, 'netfilter-drop', `${r.nat.kind} found no free tuple: the kernel drops the packet`, formatIpPacket(pkt));
          dropped = true;
        }
        return verdict;
      },
      ...(hook === 'POSTROUTING' && dev !== undefined ? { outIfindex: dev.ifindex } : {}),
    });
    if (res.verdict === 'drop') {
      if (!dropped) this.drop(ns, f, 'netfilter-drop', `nat ${hook}: the kernel drops the packet`, formatIpPacket(pkt));
      return undefined;
    }
    const out = res.packet;
    if (out !== pkt) this.recordNat(ns, f, hook, pkt, out, ct.direction === 'REPLY');
    return out;
  }

  private recordNat(ns: SimNetns, f: Flight, hook: NatHook, before: Ipv4Packet, after: Ipv4Packet, reverse: boolean): void {
    const port = (p: Ipv4Packet, which: 'src' | 'dst'): number | undefined =>
      p.payload.kind === 'tcp' || p.payload.kind === 'udp' ? (which === 'src' ? p.payload.srcPort : p.payload.dstPort) : undefined;
    const ep = (addr: number, prt: number | undefined): string => (prt !== undefined ? `${formatIpv4(addr)}:${prt}` : formatIpv4(addr));
    const dstChanged = before.dst !== after.dst || port(before, 'dst') !== port(after, 'dst');
    const srcChanged = before.src !== after.src || port(before, 'src') !== port(after, 'src');
    for (const manip of [dstChanged ? 'DNAT' : undefined, srcChanged ? 'SNAT' : undefined] as const) {
      if (manip === undefined) continue;
      const which = manip === 'DNAT' ? 'dst' : 'src';
      const b = { addr: which === 'dst' ? before.dst : before.src, ...(port(before, which) !== undefined ? { port: port(before, which)! } : {}) };
      const a = { addr: which === 'dst' ? after.dst : after.src, ...(port(after, which) !== undefined ? { port: port(after, which)! } : {}) };
      this.nat.push({ flow: f.flow, netns: ns.name, hook, manip, reverse, before: b, after: a });
      const what = reverse ? `reverse ${manip === 'DNAT' ? 'SNAT' : 'DNAT'} (reply)` : manip;
      this.hop(ns, f, 'nat', `${what} at ${hook}: ${which} ${ep(b.addr, b.port)} → ${ep(a.addr, a.port)}`, formatIpPacket(after), {
        detail: { kind: 'nat', manip, reverse, hook, before: ep(b.addr, b.port), after: ep(a.addr, a.port) },
      });
    }
  }

  /** nf_conntrack_confirm at the last hook. */
  private confirm(ns: SimNetns, pkt: Ipv4Packet, f: Flight): boolean {
    if (f.ct === undefined || f.ct.entry === undefined) return true;
    const ct = ns.conntrack.confirm(f.ct, this.host.now);
    f.ct = ct;
    if (ct.verdict === 'drop') {
      this.drop(ns, f, 'netfilter-drop', `conntrack confirm dropped the packet: ${ct.reason ?? 'insert clash'}`, formatIpPacket(pkt));
      return false;
    }
    return true;
  }

  // ---- IPv4 receive -----------------------------------------------------------------------

  /** ip_rcv → PREROUTING → ip_rcv_finish → ip_route_input. */
  private ipRcv(dev: SimLink, pkt: Ipv4Packet, frame: EthernetFrame, f: Flight): void {
    const ns = dev.netns;
    void frame;
    if (ns.localAddrs.has(pkt.src) && dev.kind !== 'loopback' && !f.preroutingDone) {
      this.drop(ns, f, 'martian', `martian source ${formatIpv4(pkt.src)} from ${dev.name}: it is one of this host's addresses`, formatIpPacket(pkt), dev.name);
      return;
    }
    // NF_INET_PRE_ROUTING: raw, conntrack, mangle, nat (DNAT) — unless br_netfilter ran them.
    const beforeNat = pkt;
    if (!f.preroutingDone) {
      const hooked = this.hookPrerouting(ns, pkt, f, dev);
      if (hooked === undefined) return;
      pkt = hooked;
    }
    const summary = formatIpPacket(pkt);
    const route = this.fibLookup(ns, pkt.dst);
    if (dev.bridge !== undefined && f.physIn !== undefined && pkt.dst !== beforeNat.dst && route?.type === 'unicast' && route.dev === dev.name &&
      this.brNetfilter(dev) && this.bridgedDnat(dev, pkt, route, frame, f)) {
      return;
    }
    if (route !== undefined && (route.type === 'local' || route.type === 'broadcast')) {
      this.routeHop(ns, f, route, pkt);
      this.localDeliver(ns, dev, pkt, f);
      return;
    }
    if (ns.meta.role === 'external') {
      // The namespace standing for everything beyond the fabric's uplink: the packet has left.
      this.hop(ns, f, 'leave', `${formatIpv4(pkt.dst)} is beyond the cluster's uplink: the packet leaves the cluster`, summary, { dev: dev.name });
      this.drops.push({ flow: f.flow, verdict: this.verdict(ns, 'left-cluster', { dev: dev.name }) });
      return;
    }
    if (!ns.sysctl.forwarding(dev.name)) {
      this.drop(ns, f, 'forwarding-disabled', `${formatIpv4(pkt.dst)} is not local and net.ipv4.conf.${dev.name}.forwarding = 0 (ip_forward off): dropped`, summary, dev.name);
      return;
    }
    if (route === undefined || route.type !== 'unicast') {
      const reason: DropReason = route === undefined ? 'no-route' : route.type === 'blackhole' ? 'blackhole' : route.type === 'prohibit' ? 'prohibit' : 'unreachable-route';
      this.drop(ns, f, reason, route === undefined ? `no route to ${formatIpv4(pkt.dst)}: ICMP net unreachable sent back` : `route ${formatSimRoute(route, true)}`, summary, dev.name);
      if (route === undefined) this.icmpError(ns, pkt, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, f);
      else if (route.type === 'unreachable') this.icmpError(ns, pkt, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, f);
      else if (route.type === 'prohibit') this.icmpError(ns, pkt, ICMP_DEST_UNREACH, ICMP_PKT_FILTERED, f);
      return;
    }
    // fib_validate_source: strict (1) wants the reverse route out of the incoming device,
    // loose (2) any route back.
    const rp = ns.sysctl.rpFilter(dev.name);
    if (rp > 0) {
      const back = this.fibLookup(ns, pkt.src);
      const ok = back !== undefined && back.type === 'unicast' && (rp === 2 || back.dev === dev.name);
      if (!ok) {
        this.drop(ns, f, 'rp-filter', `rp_filter=${rp} on ${dev.name}: the route back to ${formatIpv4(pkt.src)} ${back === undefined ? 'does not exist' : `leaves via ${back.dev ?? back.type}`}`, summary, dev.name);
        return;
      }
    }
    this.routeHop(ns, f, route, pkt);
    this.ipForward(ns, dev, pkt, route, f);
  }

  /** ip_forward: TTL, FORWARD, then ip_output. */
  private ipForward(ns: SimNetns, dev: SimLink, pkt: Ipv4Packet, route: SimRoute, f: Flight): void {
    if (pkt.ttl <= 1) {
      this.drop(ns, f, 'ttl-exceeded', `TTL ${pkt.ttl} would reach 0: ICMP time exceeded sent back`, formatIpPacket(pkt), dev.name);
      this.icmpError(ns, pkt, ICMP_TIME_EXCEEDED, 0, f);
      return;
    }
    const outDev = route.dev !== undefined ? ns.links.get(route.dev) : undefined;
    // ip_forward checks the path MTU before the FORWARD hook (ip_exceeds_mtu), so the ICMP
    // fragmentation-needed goes to the source as it is after PREROUTING, before any SNAT.
    const mtu = route.mtu ?? outDev?.mtu;
    if (mtu !== undefined && pkt.df && ipPacketLength(pkt) > mtu) {
      this.icmpError(ns, pkt, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, f, mtu);
      this.drop(ns, f, 'mtu-exceeded', `${ipPacketLength(pkt)} bytes > mtu ${mtu} of ${outDev?.name ?? route.dev ?? '?'} with DF set: ICMP fragmentation needed (mtu ${mtu}) sent back`, formatIpPacket(pkt), outDev?.name);
      return;
    }
    // NF_INET_FORWARD: mangle, filter.
    const hooked = this.hookForward(ns, pkt, f, dev, outDev);
    if (hooked === undefined) return;
    const out: Ipv4Packet = { ...hooked, ttl: hooked.ttl - 1 };
    this.hop(ns, f, 'forward', `forward ${dev.name} → ${route.dev ?? '?'}: ttl ${pkt.ttl} → ${out.ttl}`, formatIpPacket(out), {
      ...(route.dev !== undefined ? { dev: route.dev } : {}),
      detail: { kind: 'forward', ttlBefore: pkt.ttl, ttlAfter: out.ttl },
    });
    this.ipOutput(ns, out, route, f, true);
  }

  /** ip_local_deliver → INPUT → the transport protocol. */
  private localDeliver(ns: SimNetns, dev: SimLink, pkt0: Ipv4Packet, f: Flight): void {
    // NF_INET_LOCAL_IN: mangle, filter, nat (SNAT), conntrack confirm.
    const pkt = this.hookInput(ns, pkt0, f, dev);
    if (pkt === undefined) return;
    const summary = formatIpPacket(pkt);
    const p = pkt.payload;
    if (pkt.protocol === IPPROTO_ICMP && p.kind === 'icmp') {
      if (p.type === ICMP_ECHO) {
        this.hop(ns, f, 'deliver', `ICMP echo request for ${formatIpv4(pkt.dst)} answered by the kernel (icmp_echo)`, summary, {
          dev: dev.name,
          detail: { kind: 'socket', proto: 'icmp', address: formatIpv4(pkt.dst), owner: 'kernel' },
        });
        this.deliveries.push({ flow: f.flow, verdict: this.verdict(ns, 'delivered', { dev: dev.name, socket: 'kernel (ICMP echo)' }) });
        if (this.replies && f.flow === 'request') {
          const reply: Ipv4Packet = this.newPacket(ns, pkt.dst, pkt.src, IPPROTO_ICMP, { kind: 'icmp', type: ICMP_ECHOREPLY, code: 0, ...(p.id !== undefined ? { id: p.id } : {}), ...(p.seq !== undefined ? { seq: p.seq } : {}), data: p.data });
          this.schedule(STEP_NS, () => this.localOut(ns, reply, { flow: 'reply' }, 'the kernel (ICMP echo reply)'));
        }
        return;
      }
      this.hop(ns, f, 'deliver', `ICMP ${p.type === ICMP_ECHOREPLY ? 'echo reply' : `type ${p.type} code ${p.code}`} delivered to the sending socket (${this.icmpOwner})`, summary, {
        dev: dev.name,
        detail: { kind: 'socket', proto: 'icmp', address: formatIpv4(pkt.dst), owner: this.icmpOwner },
      });
      this.deliveries.push({ flow: f.flow, verdict: this.verdict(ns, 'delivered', { dev: dev.name, socket: this.icmpOwner }) });
      return;
    }
    if (pkt.protocol === IPPROTO_UDP && p.kind === 'udp' && this.vxlanRcv(ns, pkt, p, f)) return;
    if ((pkt.protocol === IPPROTO_TCP && p.kind === 'tcp') || (pkt.protocol === IPPROTO_UDP && p.kind === 'udp')) {
      const proto = p.kind;
      const sock = ns.sockets.lookup(proto, pkt.dst, p.dstPort, pkt.src, p.srcPort);
      const socketReader = sock !== undefined && proto === 'udp' ? socketReaders.get(sock) : undefined;
      if (socketReader !== undefined) {
        // A tun reader's own socket: the datagram goes to the process (recvfrom), not to an echo.
        const dev = socketReader.dev;
        this.schedule(STEP_NS, () => socketReader.reader.onDatagram?.(pkt, p as UdpDatagram, this.tunIo(dev, f)));
        return;
      }
      if (sock !== undefined) {
        const who = sock.remote !== undefined ? `the connected socket of ${sock.owner}` : `${sock.owner} listening on ${sock.addr === 0 ? '0.0.0.0' : formatIpv4(sock.addr)}:${sock.port}/${proto}`;
        this.hop(ns, f, 'deliver', `delivered to ${who}`, summary, {
          dev: dev.name,
          detail: { kind: 'socket', proto, address: formatIpv4(pkt.dst), port: p.dstPort, owner: sock.owner },
        });
        this.deliveries.push({ flow: f.flow, verdict: this.verdict(ns, 'delivered', { dev: dev.name, socket: sock.owner }) });
        if (this.replies && f.flow === 'request' && sock.remote === undefined) {
          const reply = proto === 'tcp'
            ? this.tcpReply(ns, pkt, p as TcpSegment, TCP_SYN | TCP_ACK)
            : this.newPacket(ns, pkt.dst, pkt.src, IPPROTO_UDP, { kind: 'udp', srcPort: p.dstPort, dstPort: p.srcPort, payload: (p as UdpDatagram).payload });
          if (reply !== undefined) this.schedule(STEP_NS, () => this.localOut(ns, reply, { flow: 'reply' }, `${sock.owner} (${proto === 'tcp' ? 'SYN-ACK' : 'UDP echo'})`));
        }
        return;
      }
      // No socket: TCP answers with RST (tcp_v4_send_reset), UDP with ICMP port unreachable.
      this.hop(ns, f, 'refuse', `nothing listens on ${formatIpv4(pkt.dst)}:${p.dstPort}/${proto}: ${proto === 'tcp' ? 'TCP RST sent back' : 'ICMP port unreachable sent back'}`, summary, {
        dev: dev.name,
      });
      this.deliveries.push({ flow: f.flow, verdict: this.verdict(ns, 'refused', { dev: dev.name }) });
      if (f.flow !== 'request') return;
      if (proto === 'tcp') {
        const rst = this.tcpReply(ns, pkt, p as TcpSegment, TCP_RST | TCP_ACK);
        if (rst !== undefined && this.replies) this.schedule(STEP_NS, () => this.localOut(ns, rst, { flow: 'reply' }, 'the kernel (TCP RST)'));
      } else if (this.replies) {
        this.icmpError(ns, pkt, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, { flow: 'reply', ...(f.ct !== undefined ? { ct: f.ct } : {}) });
      }
      return;
    }
    this.hop(ns, f, 'deliver', `protocol ${pkt.protocol} delivered to the local stack`, summary, { dev: dev.name });
    this.deliveries.push({ flow: f.flow, verdict: this.verdict(ns, 'delivered', { dev: dev.name, socket: 'kernel' }) });
  }

  private tcpReply(ns: SimNetns, pkt: Ipv4Packet, seg: TcpSegment, flags: number): Ipv4Packet | undefined {
    if ((seg.flags & TCP_RST) !== 0) return undefined;
    const synAck = (flags & TCP_SYN) !== 0;
    const ack = (seg.seq + Math.max(1, seg.payload.length)) >>> 0;
    const reply: TcpSegment = {
      kind: 'tcp',
      srcPort: seg.dstPort,
      dstPort: seg.srcPort,
      seq: synAck ? this.host.rng.nextU32() : 0,
      ack,
      flags,
      window: synAck ? 65160 : 0,
      ...(synAck ? { options: synOptions(1460, this.host.rng.nextU32(), tsval(seg.options)) } : {}),
      payload: new Uint8Array(0),
    };
    return this.newPacket(ns, pkt.dst, pkt.src, IPPROTO_TCP, reply, !synAck);
  }

  /** Builds a locally generated IPv4 packet (TTL 64, DF set as Linux does for PMTU discovery). */
  newPacket(ns: SimNetns, src: number, dst: number, protocol: number, payload: Ipv4Packet['payload'], zeroId = false): Ipv4Packet {
    const id = zeroId ? 0 : ns.ipId;
    if (!zeroId) ns.ipId = (ns.ipId + 1) & 0xffff;
    return { kind: 'ipv4', tos: 0, id, df: true, ttl: 64, protocol, src, dst, payload };
  }

  /**
   * icmp_send: an ICMP error about `pkt` from this host back to its source, quoting the
   * original header and 8 bytes of payload (RFC 792). Never about ICMP errors themselves.
   */
  private icmpError(ns: SimNetns, pkt: Ipv4Packet, type: number, code: number, f: Flight, mtu?: number): void {
    if (!this.replies) return;
    if (pkt.payload.kind === 'icmp' && pkt.payload.type !== ICMP_ECHO && pkt.payload.type !== ICMP_ECHOREPLY) return;
    if (f.flow === 'icmp-error' || f.flow === 'arp') return;
    const bytes = encodeIpv4Packet(pkt);
    const ihl = (bytes[0]! & 0x0f) * 4;
    const msg: IcmpMessage = {
      kind: 'icmp',
      type,
      code,
      ...(mtu !== undefined ? { nextHopMtu: mtu } : {}),
      data: bytes.slice(0, Math.min(bytes.length, ihl + 8)),
    };
    const route = this.fibLookup(ns, pkt.src);
    const src = route !== undefined ? this.selectSource(ns, route, pkt.src) : undefined;
    const err: Ipv4Packet = { ...this.newPacket(ns, src ?? 0, pkt.src, IPPROTO_ICMP, msg), df: false, tos: 0xc0 };
    // nf_ct_attach: the error belongs to the connection it quotes (RELATED, the other direction).
    const g: Flight = { flow: 'icmp-error', ...(f.ct !== undefined ? { ct: ns.conntrack.attachRelated(f.ct) } : {}) };
    this.schedule(STEP_NS, () => this.localOut(ns, err, g, 'the kernel (ICMP error)'));
  }
}

/** The TSval of a TCP timestamps option (kind 8), or 0: a SYN-ACK echoes it as TSecr (RFC 7323). */
function tsval(options: Uint8Array | undefined): number {
  if (options === undefined) return 0;
  for (let i = 0; i < options.length; ) {
    const kind = options[i]!;
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    const len = options[i + 1] ?? 0;
    if (kind === 8 && len === 10) return new DataView(options.buffer, options.byteOffset + i + 2, 4).getUint32(0);
    if (len < 2) break;
    i += len;
  }
  return 0;
}

/** A stable hash of a frame's addresses (vxlan_src_port hashes the inner flow). */
function hashFrame(frame: EthernetFrame): number {
  let h = 0x811c9dc5;
  const mix = (text: string): void => {
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  };
  mix(frame.src);
  mix(frame.dst);
  const p = frame.payload;
  if (p.kind === 'ipv4') {
    mix(String(p.src));
    mix(String(p.dst));
    if (p.payload.kind === 'tcp' || p.payload.kind === 'udp') mix(`${p.payload.srcPort}/${p.payload.dstPort}`);
  }
  return h >>> 0;
}

/** `tcp 10.244.0.4:34105 → 10.96.0.10:80` (or without ports for ICMP and other protocols). */
function formatTuple(t: { readonly protocol: number; readonly src: number; readonly dst: number; readonly sport?: number; readonly dport?: number }): string {
  const proto = t.protocol === IPPROTO_TCP ? 'tcp' : t.protocol === IPPROTO_UDP ? 'udp' : t.protocol === IPPROTO_ICMP ? 'icmp' : `proto ${t.protocol}`;
  const ports = t.protocol === IPPROTO_TCP || t.protocol === IPPROTO_UDP;
  return ports ? `${proto} ${formatIpv4(t.src)}:${t.sport} → ${formatIpv4(t.dst)}:${t.dport}` : `${proto} ${formatIpv4(t.src)} → ${formatIpv4(t.dst)}`;
}

function withSrc(pkt: Ipv4Packet, src: number): Ipv4Packet {
  return { ...pkt, src };
}

/** The options Linux puts on a SYN / SYN-ACK: MSS, SACK permitted, timestamps, NOP, window scale 7. */
export function synOptions(mss: number, tsval = 1, tsecr = 0): Uint8Array {
  const o = new Uint8Array(20);
  o.set([2, 4, (mss >> 8) & 0xff, mss & 0xff, 4, 2, 8, 10]);
  const dv = new DataView(o.buffer);
  dv.setUint32(8, tsval >>> 0);
  dv.setUint32(12, tsecr >>> 0);
  o.set([1, 3, 3, 7], 16);
  return o;
}
