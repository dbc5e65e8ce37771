import {
  IPPROTO_ICMP,
  KnetError,
  attachTunReader,
  cidrContains,
  decodeIpv4Packet,
  encodeIpv4Packet,
  formatIpv4,
  formatIpv4Cidr,
  isKnetError,
  parseIpv4,
} from '@knet/core';
import type { Ipv4Cidr, Ipv4Packet, SimHost, TunReader } from '@knet/core';
import type { LeaseEvent } from '../subnet/subnet-manager.js';
import { backendOption, type BackendContext, type FlannelBackend, type FlannelNetwork } from './flannel-backend.js';

/** The udp backend's default port. */
export const DEFAULT_UDP_PORT = 8285;
/** 20 bytes IP header + 8 bytes UDP header. */
export const UDP_OVERHEAD = 28;

interface RouteEntry {
  readonly dst: Ipv4Cidr;
  nextHop: { readonly ip: number; readonly port: number };
}

/**
 * flanneld's userspace proxy (`proxy_amd64.c`) as a {@link TunReader}: a route table subnet →
 * remote `PublicIP:port`; a packet read from the tun goes to the first route containing its
 * destination (moved to the front, as `find_route` does), its TTL decremented, in a UDP datagram
 * from this node's socket; with no route, an ICMP net unreachable (TTL 8, from the tun's address)
 * is written back into the tun; a datagram received has its TTL decremented and is written into
 * the tun. A TTL that reaches 0 is discarded (the proxy sends no time exceeded).
 */
export class FlannelUdpProxy implements TunReader {
  readonly owner = 'flanneld';
  private routes: RouteEntry[] = [];
  constructor(
    private readonly tunAddr: number,
    private readonly port: number,
    private readonly tun: string,
  ) {}

  /** `CMD_SET_ROUTE`. */
  setRoute(dst: Ipv4Cidr, ip: number, port: number): void {
    const r = this.routes.find((x) => x.dst.address === dst.address && x.dst.prefix === dst.prefix);
    if (r !== undefined) r.nextHop = { ip, port };
    else this.routes.push({ dst, nextHop: { ip, port } });
  }

  /** `CMD_DEL_ROUTE` (the last entry takes the removed one's place). */
  delRoute(dst: Ipv4Cidr): void {
    const i = this.routes.findIndex((x) => x.dst.address === dst.address && x.dst.prefix === dst.prefix);
    if (i < 0) return;
    this.routes[i] = this.routes[this.routes.length - 1]!;
    this.routes.pop();
  }

  /** The route table, in its current order. */
  get table(): readonly { readonly dst: string; readonly nextHop: string }[] {
    return this.routes.map((r) => ({ dst: formatIpv4Cidr(r.dst), nextHop: `${formatIpv4(r.nextHop.ip)}:${r.nextHop.port}` }));
  }

  private findRoute(dst: number): RouteEntry | undefined {
    const i = this.routes.findIndex((r) => cidrContains(r.dst, dst));
    if (i < 0) return undefined;
    if (i !== 0) [this.routes[0], this.routes[i]] = [this.routes[i]!, this.routes[0]!];
    return this.routes[0];
  }

  onPacket(pkt: Ipv4Packet, io: Parameters<TunReader['onPacket']>[1]): void {
    const r = this.findRoute(pkt.dst);
    if (r === undefined) {
      io.discard('no-route', `flanneld (udp proxy): no route to ${formatIpv4(pkt.dst)} in its table: ICMP net unreachable written back into ${this.tun}`, pkt);
      if (pkt.protocol === IPPROTO_ICMP || (pkt.fragOffset ?? 0) !== 0) return;
      const bytes = encodeIpv4Packet(pkt);
      const ihl = (bytes[0]! & 0x0f) * 4;
      const icmp: Ipv4Packet = {
        kind: 'ipv4',
        tos: 0,
        id: 0,
        df: false,
        ttl: 8,
        protocol: IPPROTO_ICMP,
        src: this.tunAddr,
        dst: pkt.src,
        payload: { kind: 'icmp', type: 3, code: 0, data: bytes.slice(0, ihl + 8) },
      };
      io.writeTun(icmp, `flanneld (udp proxy): send_net_unreachable to ${formatIpv4(pkt.src)}`, 'icmp-error');
      return;
    }
    if (pkt.ttl <= 1) {
      io.discard('ttl-exceeded', `flanneld (udp proxy): TTL ${pkt.ttl} would reach 0: discarded (no ICMP time exceeded)`, pkt);
      return;
    }
    const inner: Ipv4Packet = { ...pkt, ttl: pkt.ttl - 1 };
    const to = `${formatIpv4(r.nextHop.ip)}:${r.nextHop.port}`;
    io.sendUdp(
      { dst: r.nextHop.ip, dstPort: r.nextHop.port, srcPort: this.port, payload: encodeIpv4Packet(inner) },
      `flanneld (udp proxy): route ${formatIpv4Cidr(r.dst)} → ${to}: ttl ${pkt.ttl} → ${inner.ttl}, sent in UDP ${this.port} → ${to} (+28 bytes)`,
    );
  }

  onDatagram(outer: Ipv4Packet, udp: Parameters<NonNullable<TunReader['onDatagram']>>[1], io: Parameters<TunReader['onPacket']>[1]): void {
    if (!(udp.payload instanceof Uint8Array)) return;
    const d = decodeIpv4Packet(udp.payload);
    if (!d.ok) {
      io.discard('malformed', `flanneld (udp proxy): the datagram from ${formatIpv4(outer.src)} is not an IP packet (${d.reason})`, outer);
      return;
    }
    const pkt = d.value;
    if (pkt.ttl <= 1) {
      io.discard('ttl-exceeded', `flanneld (udp proxy): TTL ${pkt.ttl} would reach 0: discarded`, pkt);
      return;
    }
    const inner: Ipv4Packet = { ...pkt, ttl: pkt.ttl - 1 };
    io.writeTun(inner, `flanneld (udp proxy): UDP from ${formatIpv4(outer.src)}:${udp.srcPort}: ttl ${pkt.ttl} → ${inner.ttl}, written into ${this.tun}`);
  }
}

/**
 * flannel's udp backend (debugging only upstream): a TUN device and flanneld's userspace proxy.
 *
 * @remarks
 * Linux equivalent: flanneld with `"Backend": {"Type": "udp"}`. The lease carries only the
 * public IP (the backend sets no `BackendType`). flanneld opens the first free `flannel%d` TUN
 * (`flannel0`), gives it `<subnet network>/32`, MTU external − 28, up, and `ip route add
 * <Network> dev flannel0` (scope universe); it listens on UDP `<IfaceAddr>:<Port>` (8285) and
 * runs the proxy ({@link FlannelUdpProxy}); every remote lease adds a proxy route to its
 * `PublicIP:Port`. Pods get MTU external − 28 (1472). The proxy is a process: knet runs it in the
 * simulation only (a {@link TunReader} on SimHost).
 * @throws KnetError `EOPNOTSUPP` on a real host (LinuxHost): knet has no userspace proxy to run there.
 * @see flannel-io/flannel pkg/backend/udp/udp_amd64.go, udp_network_amd64.go, proxy_amd64.c
 */
export function createUdpBackend(): FlannelBackend {
  return {
    type: 'udp',
    async register(ctx: BackendContext): Promise<FlannelNetwork> {
      const { host, netns, extIface } = ctx;
      const port = backendOption(ctx.netConf, 'Port', 'int', DEFAULT_UDP_PORT, 'UDP');
      if (host.kind !== 'sim') {
        throw new KnetError('EOPNOTSUPP', 'the udp backend needs flanneld\'s userspace proxy, which knet runs in the simulation only', { node: ctx.node, backend: 'udp' });
      }
      const sim = host as SimHost;
      const lease = await ctx.subnetManager.acquireLease({ publicIP: extIface.publicIP });
      const mtu = extIface.mtu - UDP_OVERHEAD;
      const names = new Set((await host.linkList(netns)).map((l) => l.name));
      let i = 0;
      while (names.has(`flannel${i}`)) i++;
      const tun = `flannel${i}`;
      sim.tunOpen(netns, tun, 'tun');
      await host.addrAdd(netns, tun, `${formatIpv4(lease.subnet.address)}/32`);
      await host.linkSet(netns, tun, { mtu, up: true });
      const network = formatIpv4Cidr(ctx.netConf.network);
      try {
        await host.routeAdd(netns, { dst: network, dev: tun, scope: 'global' });
      } catch (e) {
        if (!isKnetError(e, 'EEXIST')) throw e;
      }
      const proxy = new FlannelUdpProxy(lease.subnet.address, port, tun);
      const detach = attachTunReader(sim, netns, tun, proxy, { port, addr: parseIpv4(extIface.address) });
      return {
        backendType: 'udp',
        lease,
        mtu,
        async handleEvents(events: readonly LeaseEvent[]): Promise<void> {
          for (const e of events) {
            if (e.type === 'added') proxy.setRoute(e.lease.subnet, parseIpv4(e.lease.attrs.publicIP), port);
            else proxy.delRoute(e.lease.subnet);
          }
        },
        close() {
          detach();
          sim.tunClose(netns, tun);
        },
      };
    },
  };
}
