import type { BuiltCluster } from '../cluster/build-cluster.js';
import type { ClusterPod } from '../cluster/cluster-state.js';
import { KnetError } from '../errors/knet-error.js';
import { formatIpv4, parseIpv4, tryParseIpv4 } from '../ip/ipv4.js';
import { PacketEngine, synOptions } from '../kernel/packet-engine.js';
import type { SimHost } from '../kernel/sim-host.js';
import type { SimNetns } from '../kernel/sim-netns.js';
import type { SimSocket } from '../kernel/socket/socket-table.js';
import { encodeDnsQuery } from '../packet/dns-query.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, TCP_SYN, type Ipv4Packet } from '../packet/types.js';
import type { TraceFlow, TraceResult, TraceVerdict } from './trace-types.js';

/** A resolved trace endpoint: the namespace a packet starts in or is aimed at, and an address. */
export interface TraceEndpoint {
  /** What the user typed. */
  readonly text: string;
  readonly kind: 'pod' | 'container' | 'node' | 'ip';
  /** The namespace (for pods, containers and nodes). */
  readonly netns?: string;
  /** The address (dotted quad). */
  readonly ip: string;
  /** `namespace/name` for pods and containers. */
  readonly pod?: string;
  readonly container?: string;
  readonly node?: string;
  readonly port?: number;
}

/**
 * Parses a trace endpoint: `NS/POD`, `POD` (namespace `default`), `NS/POD:CONTAINER`,
 * `node/NAME`, or an IPv4 address; each optionally followed by `:PORT` (a destination).
 *
 * @throws KnetError `ENOENT` for an unknown pod, container or node; `EINVAL` for a bad port.
 */
export function resolveEndpoint(cluster: BuiltCluster, text: string): TraceEndpoint {
  let rest = text;
  let port: number | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > 0 && /^\d+$/.test(rest.slice(lastColon + 1))) {
    port = Number(rest.slice(lastColon + 1));
    if (port < 1 || port > 65535) throw new KnetError('EINVAL', `port ${port} out of range 1-65535 in "${text}"`, { value: text });
    rest = rest.slice(0, lastColon);
  }
  const withPort = port !== undefined ? { port } : {};
  const ip = tryParseIpv4(rest);
  if (ip !== undefined) return { text, kind: 'ip', ip: rest, ...withPort };
  if (rest.startsWith('node/')) {
    const name = rest.slice(5);
    const n = cluster.nodes.get(name);
    if (n === undefined) throw new KnetError('ENOENT', `no node "${name}" in the cluster`, { value: text });
    return { text, kind: 'node', netns: cluster.names.node(name), ip: n.internalIP, node: name, ...withPort };
  }
  let container: string | undefined;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    container = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const key = rest.includes('/') ? rest : `default/${rest}`;
  const p = cluster.pods.get(key);
  if (p === undefined) throw new KnetError('ENOENT', `no pod "${key}" in the cluster`, { value: text });
  if (container !== undefined && !p.pod.containers.some((c) => c.name === container)) {
    throw new KnetError('ENOENT', `pod ${key} has no container "${container}" (containers: ${p.pod.containers.map((c) => c.name).join(', ')})`, { value: text });
  }
  return {
    text,
    kind: container !== undefined ? 'container' : 'pod',
    netns: p.netns,
    ip: p.ip,
    pod: key,
    node: p.pod.nodeName,
    ...(container !== undefined ? { container } : {}),
    ...withPort,
  };
}

/** Options of {@link tracePacket}. */
export interface TracePacketOptions {
  readonly proto: 'tcp' | 'udp' | 'icmp';
  /** Destination port for TCP/UDP (default 80). */
  readonly dport?: number;
  /** Source port (default: an ephemeral port from the seeded RNG, 32768–60999). */
  readonly sport?: number;
  /** Trace the reply as well (default true). */
  readonly replies?: boolean;
  /** Record frames for pcap (default true). */
  readonly capture?: boolean;
  /** IP payload bytes for ICMP echo (default 56, as ping) and UDP (default 6). */
  readonly size?: number;
}

/** Opens the listening sockets of a pod's containers (every containerPort, TCP and UDP) in the simulation. */
export function listenContainerPorts(host: SimHost, netns: string, pod: ClusterPod): void {
  const ns = host.ns(netns);
  for (const c of pod.containers) {
    for (const p of c.ports) {
      if (p.protocol === 'SCTP') continue;
      const proto = p.protocol === 'TCP' ? 'tcp' : 'udp';
      const owner = netns.includes('-node-') && pod.hostNetwork ? `${pod.namespace}/${pod.name} container ${c.name}` : `container ${c.name}`;
      if (ns.sockets.list().some((s) => s.proto === proto && s.port === p.containerPort && s.remote === undefined)) continue;
      ns.sockets.bind({ proto, addr: 0, port: p.containerPort, owner });
    }
  }
}

/**
 * Traces one packet through a cluster built on a {@link SimHost}: from the source endpoint's
 * namespace (a socket in a pod, a container, a node) to the destination, and the reply back.
 *
 * @remarks
 * TCP sends a SYN like Linux's (MSS, SACK, timestamps, window scale 7, DF, TTL 64); UDP sends a
 * small datagram; ICMP sends an echo request like ping (56 data bytes). A pod's containers
 * listen on their containerPorts; TCP answers with SYN-ACK (or RST when nothing listens), UDP
 * with an echo (or ICMP port unreachable). Traffic between two containers of one pod goes to
 * 127.0.0.1 over `lo`. State persists: a second trace finds the ARP and FDB entries the first
 * one created.
 * @throws KnetError `EINVAL` when the source is a bare IP address (use a pod or node).
 */
export function tracePacket(cluster: BuiltCluster, host: SimHost, src: TraceEndpoint, dst: TraceEndpoint, options: TracePacketOptions): TraceResult {
  if (src.netns === undefined) {
    throw new KnetError('EINVAL', `the source must be a pod, a container or a node, not an address ("${src.text}")`, { value: src.text });
  }
  const ns = host.ns(src.netns);
  const samePod = src.pod !== undefined && src.pod === dst.pod;
  const dstIp = samePod ? (127 << 24) + 1 : parseIpv4(dst.ip);
  const proto = options.proto;
  const dport = dst.port ?? options.dport ?? 80;
  const engine = enginesByHost.get(host) ?? new PacketEngine(host);
  enginesByHost.set(host, engine);
  const sport = proto === 'icmp' ? undefined : options.sport ?? ephemeralPort(host, ns, proto);
  const owner = src.container !== undefined ? `container ${src.container}` : src.kind === 'node' ? `node ${src.node}` : src.pod !== undefined ? `pod ${src.pod}` : 'client';
  const pkt = buildRequest(engine, ns, dstIp, proto, sport, dport, options.size);
  let client: SimSocket | undefined;
  if (proto !== 'icmp' && sport !== undefined) {
    client = { proto, addr: 0, port: sport, owner, remote: { addr: dstIp, port: dport } };
    ns.sockets.bind(client);
  }
  engine.icmpOwner = owner;
  engine.begin({ ...(options.replies !== undefined ? { replies: options.replies } : {}), ...(options.capture !== undefined ? { capture: options.capture } : {}) });
  try {
    engine.localOut(ns, pkt, { flow: 'request' }, `${owner} (${proto === 'icmp' ? 'ping' : `${proto} socket`})`);
    engine.run();
  } finally {
    if (client !== undefined) ns.sockets.close(client);
  }
  const { hops, frames, deliveries, drops } = engine.results();
  const verdictOf = (flows: readonly TraceFlow[]): TraceVerdict | undefined => {
    const d = deliveries.filter((x) => flows.includes(x.flow));
    const delivered = d.find((x) => x.verdict.kind === 'delivered');
    if (delivered !== undefined) return delivered.verdict;
    const refused = d.find((x) => x.verdict.kind === 'refused');
    if (refused !== undefined) return refused.verdict;
    const dr = drops.filter((x) => flows.includes(x.flow));
    const left = dr.find((x) => x.verdict.kind === 'left-cluster');
    if (left !== undefined) return left.verdict;
    return dr.find((x) => x.verdict.reason !== 'not-for-host')?.verdict ?? dr[0]?.verdict;
  };
  const verdict = verdictOf(['request']) ?? { kind: 'dropped', reason: 'no-route' };
  const replied = verdict.kind === 'delivered' || verdict.kind === 'refused';
  const reply = replied && options.replies !== false ? verdictOf(['reply', 'icmp-error']) : undefined;
  return {
    request: {
      proto,
      src: formatIpv4(engine.requestSource ?? pkt.src),
      dst: formatIpv4(dstIp),
      ...(sport !== undefined ? { sport } : {}),
      ...(proto !== 'icmp' ? { dport } : {}),
      netns: ns.name,
    },
    verdict,
    ...(reply !== undefined ? { reply } : {}),
    hops,
    frames,
  };
}

const enginesByHost = new WeakMap<SimHost, PacketEngine>();

/** Picks a free ephemeral port in ip_local_port_range from the host's seeded RNG. */
function ephemeralPort(host: SimHost, ns: SimNetns, proto: 'tcp' | 'udp'): number {
  const [lo, hi] = ns.sysctl.get('net.ipv4.ip_local_port_range').split(/\s+/).map(Number) as [number, number];
  for (;;) {
    const p = lo + (host.rng.nextU32() % (hi - lo + 1));
    if (!ns.sockets.inUse(proto, p)) return p;
  }
}

function buildRequest(engine: PacketEngine, ns: SimNetns, dst: number, proto: 'tcp' | 'udp' | 'icmp', sport: number | undefined, dport: number, size: number | undefined): Ipv4Packet {
  const rng = engine.host.rng;
  if (proto === 'icmp') {
    const data = new Uint8Array(size ?? 56);
    for (let i = 0; i < data.length; i++) data[i] = (i + 0x10) & 0xff;
    return engine.newPacket(ns, 0, dst, IPPROTO_ICMP, { kind: 'icmp', type: 8, code: 0, id: rng.nextU32() & 0xffff, seq: 1, data });
  }
  if (proto === 'udp') {
    // DNS ports get a real query (as `dig` sends), so captures decode; others a short text.
    const text = (dport === 53 || dport === 5353) && size === undefined
      ? encodeDnsQuery('kubernetes.default.svc.cluster.local', rng.nextU32())
      : new TextEncoder().encode('knet\n'.padEnd(size ?? 5, '.'));
    return engine.newPacket(ns, 0, dst, IPPROTO_UDP, { kind: 'udp', srcPort: sport!, dstPort: dport, payload: text });
  }
  return engine.newPacket(ns, 0, dst, IPPROTO_TCP, {
    kind: 'tcp',
    srcPort: sport!,
    dstPort: dport,
    seq: rng.nextU32(),
    ack: 0,
    flags: TCP_SYN,
    window: 64240,
    options: synOptions(1460, rng.nextU32()),
    payload: new Uint8Array(0),
  });
}
