import { FABRIC, type BuiltCluster } from '../cluster/build-cluster.js';
import type { ClusterPod, ClusterService } from '../cluster/cluster-state.js';
import { KnetError } from '../errors/knet-error.js';
import { formatIpv4, parseIpv4, tryParseIpv4 } from '../ip/ipv4.js';
import type { StatisticChooser } from '../kernel/netfilter/evaluate-types.js';
import { PacketEngine, synOptions, type NatEvent } from '../kernel/packet-engine.js';
import type { SimHost } from '../kernel/sim-host.js';
import type { SimNetns } from '../kernel/sim-netns.js';
import type { SimSocket } from '../kernel/socket/socket-table.js';
import { encodeDnsQuery } from '../packet/dns-query.js';
import { ETH_P_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, TCP_SYN, type Ipv4Packet } from '../packet/types.js';
import { buildPolicyIndex, type PolicyIndex } from '../netpol/build-policy-index.js';
import { evaluateConnection } from '../netpol/evaluate-connection.js';
import { formatConnectionVerdict } from '../netpol/format-connection-verdict.js';
import type { TraceDecision, TraceFlow, TraceHop, TraceOutcome, TraceResult, TraceVerdict } from './trace-types.js';

/** A resolved trace endpoint: the namespace a packet starts in or is aimed at, and an address. */
export interface TraceEndpoint {
  /** What the user typed. */
  readonly text: string;
  readonly kind: 'pod' | 'container' | 'node' | 'service' | 'ip';
  /** The namespace (for pods, containers and nodes). */
  readonly netns?: string;
  /** The address (dotted quad). */
  readonly ip: string;
  /** `namespace/name` for pods, containers and services. */
  readonly pod?: string;
  readonly service?: string;
  readonly container?: string;
  readonly node?: string;
  readonly port?: number;
  /** The protocol a service port implies (`svc/NS/NAME:PORT`). */
  readonly protocol?: 'tcp' | 'udp';
}

function servicePort(svc: ClusterService, text: string, portText: string | undefined): { port: number; protocol: 'tcp' | 'udp' | 'sctp' } {
  if (svc.ports.length === 0) throw new KnetError('ENOENT', `service ${svc.namespace}/${svc.name} has no ports`, { value: text });
  const p = portText === undefined
    ? svc.ports[0]!
    : svc.ports.find((x) => x.name === portText || String(x.port) === portText);
  if (p === undefined) {
    throw new KnetError('ENOENT', `service ${svc.namespace}/${svc.name} has no port "${portText}" (ports: ${svc.ports.map((x) => x.name ?? String(x.port)).join(', ')})`, { value: text });
  }
  return { port: p.port, protocol: p.protocol.toLowerCase() as 'tcp' | 'udp' | 'sctp' };
}

/**
 * Parses a trace endpoint: `NS/POD`, `POD` (namespace `default`), `NS/POD:CONTAINER`,
 * `node/NAME`, `svc/NS/NAME` (the Service's ClusterIP; `:PORT` is a port name or number, the
 * first port by default), or an IPv4 address; each optionally followed by `:PORT`.
 *
 * @throws KnetError `ENOENT` for an unknown pod, container, node or service; `EINVAL` for a bad port.
 */
export function resolveEndpoint(cluster: BuiltCluster, text: string): TraceEndpoint {
  if (text.startsWith('svc/')) {
    const [ns, nameAndPort] = text.slice(4).split('/') as [string, string | undefined];
    if (nameAndPort === undefined || ns === '') throw new KnetError('EINVAL', `a service is svc/NAMESPACE/NAME[:PORT], not "${text}"`, { value: text });
    const [name, portText] = nameAndPort.split(':') as [string, string | undefined];
    const svc = cluster.state.services.find((s) => s.namespace === ns && s.name === name);
    if (svc === undefined) throw new KnetError('ENOENT', `no service "${ns}/${name}" in the cluster`, { value: text });
    if (svc.clusterIP === undefined || svc.clusterIP === 'None') {
      throw new KnetError('EINVAL', `service ${ns}/${name} is headless (clusterIP None): trace a pod instead`, { value: text });
    }
    const sp = servicePort(svc, text, portText);
    return {
      text,
      kind: 'service',
      ip: svc.clusterIP,
      service: `${ns}/${name}`,
      port: sp.port,
      ...(sp.protocol !== 'sctp' ? { protocol: sp.protocol } : {}),
    };
  }
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
  /**
   * The node where a source address enters the cluster: a packet from an outside address
   * arrives on that node's uplink from the fabric; the node's own addresses and 127.0.0.1
   * originate on the node itself.
   */
  readonly at?: string;
  /** Answers `-m statistic --mode random` (default: the host's seeded RNG). */
  readonly choose?: StatisticChooser;
}

/** Opens the listening sockets of a pod's containers (every containerPort, TCP and UDP) in the simulation. */
export function listenContainerPorts(host: SimHost, netns: string, pod: ClusterPod): void {
  const ns = host.ns(netns);
  for (const c of pod.containers) {
    for (const p of c.ports) {
      if (p.protocol === 'SCTP') continue;
      const proto = p.protocol === 'TCP' ? 'tcp' : 'udp';
      const owner = pod.hostNetwork ? `${pod.namespace}/${pod.name} container ${c.name}` : `container ${c.name}`;
      if (ns.sockets.list().some((s) => s.proto === proto && s.port === p.containerPort && s.remote === undefined)) continue;
      ns.sockets.bind({ proto, addr: 0, port: p.containerPort, owner });
    }
  }
}

/** Where the traced packet starts: a socket in a namespace, or the wire of a node's uplink. */
interface Origin {
  /** The namespace whose socket sends (and receives the reply). */
  readonly ns: SimNetns;
  /** Set when the packet enters at a node's uplink instead of leaving a local socket. */
  readonly inject?: { readonly node: string };
  readonly src: number;
  readonly owner: string;
}

const LOOPBACK = (127 << 24) + 1;

/**
 * Decides where a source starts. Pods, containers and nodes send from their own namespace; an
 * address with `--at NODE` starts on that node (its own addresses and 127.0.0.1) or enters on
 * its uplink; any other address is a client in the outside world (it gets the address, /32, on
 * the outside namespace's interface, so replies find it).
 */
function originOf(cluster: BuiltCluster, host: SimHost, src: TraceEndpoint, at: string | undefined): Origin {
  if (src.netns !== undefined) {
    if (at !== undefined && at !== src.node) {
      throw new KnetError('EINVAL', `--at ${at} only applies to a source address; ${src.text} is on ${src.node ?? 'its own namespace'}`, { value: src.text });
    }
    const owner = src.container !== undefined ? `container ${src.container}` : src.kind === 'node' ? `node ${src.node}` : src.pod !== undefined ? `pod ${src.pod}` : 'client';
    return { ns: host.ns(src.netns), src: 0, owner };
  }
  if (src.kind === 'service') throw new KnetError('EINVAL', `a service cannot send packets ("${src.text}"): use a pod, a node or an address`, { value: src.text });
  const ip = parseIpv4(src.ip);
  if (at !== undefined) {
    const node = cluster.nodes.get(at);
    if (node === undefined) throw new KnetError('ENOENT', `no node "${at}" in the cluster (--at)`, { value: at });
    const nodeNs = host.ns(cluster.names.node(at));
    if (ip === LOOPBACK || nodeNs.localAddrs.has(ip)) return { ns: nodeNs, src: ip, owner: `node ${at} (${src.ip})` };
    addOutsideAddress(cluster, host, ip);
    return { ns: host.ns(cluster.names.outside), inject: { node: at }, src: ip, owner: `client ${src.ip}` };
  }
  for (const [name] of cluster.nodes) {
    const nodeNs = host.ns(cluster.names.node(name));
    if (nodeNs.localAddrs.has(ip)) return { ns: nodeNs, src: ip, owner: `node ${name} (${src.ip})` };
  }
  for (const p of cluster.pods.values()) {
    if (p.ip === src.ip && !p.pod.hostNetwork) return { ns: host.ns(p.netns), src: ip, owner: `pod ${p.pod.namespace}/${p.pod.name}` };
  }
  addOutsideAddress(cluster, host, ip);
  return { ns: host.ns(cluster.names.outside), src: ip, owner: `client ${src.ip}` };
}

function addOutsideAddress(cluster: BuiltCluster, host: SimHost, ip: number): void {
  const outside = host.ns(cluster.names.outside);
  if (outside.localAddrs.has(ip)) return;
  host.addrAddSync(cluster.names.outside, FABRIC.outsideDev, `${formatIpv4(ip)}/32`);
}

/**
 * Traces one packet through a cluster built on a {@link SimHost}: from the source endpoint
 * to the destination, and the reply back.
 *
 * @remarks
 * TCP sends a SYN like Linux's (MSS, SACK, timestamps, window scale 7, DF, TTL 64); UDP sends a
 * small datagram (a real DNS query to ports 53 and 5353); ICMP sends an echo request like ping
 * (56 data bytes). A pod's containers listen on their containerPorts; TCP answers with SYN-ACK
 * (or RST when nothing listens), UDP with an echo (or ICMP port unreachable). Traffic between two
 * containers of one pod goes to 127.0.0.1 over `lo`. State persists: a second trace finds the ARP,
 * FDB and conntrack entries the first one created. The result lists the statistic draws the
 * netfilter rules made and the path's outcome (endpoint after DNAT, masquerade, probability).
 * @throws KnetError `EINVAL` for a service as the source or a misplaced `--at`.
 */
export function tracePacket(cluster: BuiltCluster, host: SimHost, src: TraceEndpoint, dst: TraceEndpoint, options: TracePacketOptions): TraceResult {
  const origin = originOf(cluster, host, src, options.at);
  const ns = origin.ns;
  const samePod = src.pod !== undefined && src.pod === dst.pod && src.kind !== 'service' && dst.kind !== 'service';
  const dstIp = samePod ? LOOPBACK : parseIpv4(dst.ip);
  const proto = options.proto;
  const dport = dst.port ?? options.dport ?? 80;
  const engine = enginesByHost.get(host) ?? new PacketEngine(host);
  enginesByHost.set(host, engine);
  const sport = proto === 'icmp' ? undefined : options.sport ?? ephemeralPort(host, ns, proto);
  const pkt = buildRequest(engine, ns, origin.src, dstIp, proto, sport, dport, options.size);
  let client: SimSocket | undefined;
  if (proto !== 'icmp' && sport !== undefined) {
    client = { proto, addr: origin.src, port: sport, owner: origin.owner, remote: { addr: dstIp, port: dport } };
    ns.sockets.bind(client);
  }
  const decisions: TraceDecision[] = [];
  const base = options.choose ?? ((p: number) => host.rng.nextFloat() < p);
  engine.choose = (p, rule) => {
    const taken = base(p, rule);
    decisions.push({ probability: p, taken, table: rule.table, chain: rule.chain, ruleNumber: rule.ruleNumber });
    return taken;
  };
  engine.icmpOwner = origin.owner;
  engine.begin({ ...(options.replies !== undefined ? { replies: options.replies } : {}), ...(options.capture !== undefined ? { capture: options.capture } : {}) });
  try {
    if (origin.inject !== undefined) {
      injectAtNode(engine, cluster, host, origin.inject.node, pkt, origin.owner);
    } else {
      engine.localOut(ns, pkt, { flow: 'request' }, `${origin.owner} (${proto === 'icmp' ? 'ping' : `${proto} socket`})`);
    }
    engine.run();
  } finally {
    if (client !== undefined) ns.sockets.close(client);
  }
  const results = engine.results();
  const { frames, deliveries, drops, nat, snatTargets } = results;
  const hops = withPolicyHop(cluster, results.hops, engine.requestSource ?? pkt.src, proto);
  const verdictOf = (flows: readonly TraceFlow[]): TraceVerdict | undefined => {
    const d = deliveries.filter((x) => flows.includes(x.flow));
    const delivered = d.find((x) => x.verdict.kind === 'delivered');
    if (delivered !== undefined) return delivered.verdict;
    const refused = d.find((x) => x.verdict.kind === 'refused');
    if (refused !== undefined) return refused.verdict;
    const dr = drops.filter((x) => flows.includes(x.flow));
    const rejected = dr.find((x) => x.verdict.kind === 'rejected');
    if (rejected !== undefined) return rejected.verdict;
    const left = dr.find((x) => x.verdict.kind === 'left-cluster');
    if (left !== undefined) return left.verdict;
    return dr.find((x) => x.verdict.reason !== 'not-for-host')?.verdict ?? dr[0]?.verdict;
  };
  const verdict = verdictOf(['request']) ?? { kind: 'dropped', reason: 'no-route' };
  const answered = verdict.kind === 'delivered' || verdict.kind === 'refused' || verdict.kind === 'rejected';
  const reply = answered && options.replies !== false ? verdictOf(['reply', 'icmp-error']) : undefined;
  const outcome = outcomeOf(verdict, nat, decisions, hops, snatTargets.has('request'));
  return {
    request: {
      proto,
      src: formatIpv4(engine.requestSource ?? pkt.src),
      dst: formatIpv4(dstIp),
      ...(sport !== undefined ? { sport } : {}),
      ...(proto !== 'icmp' ? { dport } : {}),
      netns: ns.name,
      ...(origin.inject !== undefined ? { at: origin.inject.node } : {}),
    },
    verdict,
    ...(reply !== undefined ? { reply } : {}),
    decisions,
    outcome,
    hops,
    frames,
  };
}

/**
 * What one path of a trace amounts to, in kube-proxy's terms: the endpoint the request was
 * DNATed to (`IP:PORT`, or `null`), whether a SNAT or MASQUERADE target bound it (masqueraded), its fate, and the
 * probability of the statistic draws that led there.
 *
 * `verdict`: `dropped` / `rejected` as the request ended; otherwise `untouched` when no NAT rule
 * changed the request, `delivered` when it was translated and reached a host that took it
 * (a socket, or a TCP RST / port unreachable from the endpoint's kernel), `accepted` when it was
 * translated and went on without being delivered (it left the cluster).
 */
function outcomeOf(verdict: TraceVerdict, nat: readonly NatEvent[], decisions: readonly TraceDecision[], hops: TraceResult['hops'], snatTarget: boolean): TraceOutcome {
  const forward = nat.filter((e) => e.flow === 'request' && !e.reverse);
  const dnat = forward.filter((e) => e.manip === 'DNAT').pop();
  // A MASQUERADE that keeps the address (a node's own source) still counts, as in kube-proxy's
  // tracer, where masquerade means the packet was marked for it.
  const masqueraded = snatTarget || forward.some((e) => e.manip === 'SNAT');
  const probability = decisions.reduce((p, d) => p * (d.taken ? d.probability : 1 - d.probability), 1);
  const endpoint = dnat === undefined ? null : dnat.after.port !== undefined ? `${formatIpv4(dnat.after.addr)}:${dnat.after.port}` : formatIpv4(dnat.after.addr);
  const kind: TraceOutcome['verdict'] =
    verdict.kind === 'dropped' ? 'dropped'
      : verdict.kind === 'rejected' ? 'rejected'
        : forward.length === 0 ? 'untouched'
          : verdict.kind === 'delivered' || verdict.kind === 'refused' ? 'delivered'
            : 'accepted';
  return { endpoint, verdict: kind, masqueraded, probability, hops: hops.filter((h) => h.flow === 'request').map((h) => h.index) };
}

/**
 * Puts a packet from an outside address on a node's uplink, as the fabric's router (or a cloud
 * load balancer) would deliver it: Ethernet from the router's MAC to the node's uplink MAC.
 */
function injectAtNode(engine: PacketEngine, cluster: BuiltCluster, host: SimHost, node: string, pkt: Ipv4Packet, owner: string): void {
  const nodeNs = host.ns(cluster.names.node(node));
  const uplink = host.link(nodeNs, cluster.state.cluster.fabric.nodeInterface);
  const router = host.link(cluster.names.fabric, FABRIC.bridge);
  engine.receiveAt(uplink, { dst: uplink.mac, src: router.mac, etherType: ETH_P_IP, payload: pkt }, { flow: 'request' }, `${owner} (enters the cluster at ${node})`);
}

/**
 * Enumerates every path of a trace through `-m statistic --mode random` rules: runs `run` with
 * a chooser that replays a prefix of draws and takes "match" for new ones first, then explores
 * each alternative, depth first, so endpoints come out in rule order. `run` must start from the
 * same state each time (a freshly built cluster), as conntrack and `-m recent` remember paths.
 *
 * @returns the traces of every path, with their probabilities (which sum to 1).
 */
export async function traceAllPaths(run: (choose: StatisticChooser) => Promise<TraceResult>, limit = 256): Promise<TraceResult[]> {
  const out: TraceResult[] = [];
  const pending: boolean[][] = [[]];
  while (pending.length > 0) {
    if (out.length >= limit) throw new KnetError('ELIMIT', `more than ${limit} paths; trace without --all-paths`, { limit });
    const prefix = pending.pop()!;
    let i = 0;
    const taken: boolean[] = [];
    const choose: StatisticChooser = (p) => {
      const t = p >= 1 ? true : p <= 0 ? false : i < prefix.length ? prefix[i]! : true;
      if (p > 0 && p < 1) {
        taken.push(t);
        i++;
      }
      return t;
    };
    const result = await run(choose);
    out.push(result);
    const alternatives: boolean[][] = [];
    for (let k = prefix.length; k < taken.length; k++) alternatives.push([...taken.slice(0, k), !taken[k]!]);
    // Depth first with "match" before "no match": the deepest alternative is popped first.
    for (const alt of alternatives) pending.push(alt);
  }
  return out;
}

const enginesByHost = new WeakMap<SimHost, PacketEngine>();
const policyIndexes = new WeakMap<BuiltCluster['state'], PolicyIndex>();

/**
 * Adds a `policy` hop in front of the request's delivery to a pod when the cluster has
 * NetworkPolicies or AdminNetworkPolicies: what they say about opening this connection (to the
 * port after any DNAT), and whether the CNI enforces it. A CNI that enforces policy drops denied
 * packets in its own rules, so a delivered packet there was allowed; kubenet and flannel ignore
 * policy, and the hop says so.
 */
function withPolicyHop(cluster: BuiltCluster, hops: TraceHop[], src: number, proto: 'tcp' | 'udp' | 'icmp'): TraceHop[] {
  const state = cluster.state;
  const hasPolicies = state.networkPolicies.length > 0 || (state.adminNetworkPolicies?.length ?? 0) > 0 || (state.baselineAdminNetworkPolicies?.length ?? 0) > 0;
  if (!hasPolicies || proto === 'icmp') return hops;
  const at = hops.findIndex((h) => h.flow === 'request' && (h.step === 'deliver' || h.step === 'refuse'));
  const target = hops[at];
  if (target === undefined || target.pod === undefined) return hops;
  const received = hops.slice(0, at).reverse().find((h) => h.flow === 'request' && h.pod === target.pod && h.step === 'receive');
  const m = /\.(\d+): /.exec(received?.packet ?? target.packet);
  const port = m !== null ? Number(m[1]) : undefined;
  if (port === undefined) return hops;
  let index = policyIndexes.get(state);
  if (index === undefined) {
    index = buildPolicyIndex(state);
    policyIndexes.set(state, index);
  }
  const protocol = proto === 'tcp' ? 'TCP' : 'UDP';
  const v = evaluateConnection(index, formatIpv4(src), target.pod, port, protocol);
  const enforced = cluster.plugin.networkPolicy === 'enforced';
  const hop: TraceHop = {
    index: at,
    time: target.time,
    flow: 'request',
    ...(target.node !== undefined ? { node: target.node } : {}),
    netns: target.netns,
    pod: target.pod,
    ...(target.dev !== undefined ? { dev: target.dev } : {}),
    step: 'policy',
    decision: `NetworkPolicy: ${v.src} → ${v.dst} ${protocol}/${port} ${v.allowed ? 'allowed' : 'denied'} (egress: ${v.egress.tier}, ingress: ${v.ingress.tier})${enforced ? '' : `; ${cluster.plugin.name} does not enforce NetworkPolicy, so the dataplane lets it through`}`,
    detail: {
      kind: 'policy',
      allowed: v.allowed,
      enforced,
      port,
      protocol,
      egress: v.egress.tier,
      ingress: v.ingress.tier,
      explanation: formatConnectionVerdict(v),
    },
    packet: target.packet,
  };
  return [...hops.slice(0, at), hop, ...hops.slice(at).map((h) => ({ ...h, index: h.index + 1 }))];
}

/** Picks a free ephemeral port in ip_local_port_range from the host's seeded RNG. */
function ephemeralPort(host: SimHost, ns: SimNetns, proto: 'tcp' | 'udp'): number {
  const [lo, hi] = ns.sysctl.get('net.ipv4.ip_local_port_range').split(/\s+/).map(Number) as [number, number];
  for (;;) {
    const p = lo + (host.rng.nextU32() % (hi - lo + 1));
    if (!ns.sockets.inUse(proto, p)) return p;
  }
}

function buildRequest(engine: PacketEngine, ns: SimNetns, src: number, dst: number, proto: 'tcp' | 'udp' | 'icmp', sport: number | undefined, dport: number, size: number | undefined): Ipv4Packet {
  const rng = engine.host.rng;
  if (proto === 'icmp') {
    const data = new Uint8Array(size ?? 56);
    for (let i = 0; i < data.length; i++) data[i] = (i + 0x10) & 0xff;
    return engine.newPacket(ns, src, dst, IPPROTO_ICMP, { kind: 'icmp', type: 8, code: 0, id: rng.nextU32() & 0xffff, seq: 1, data });
  }
  if (proto === 'udp') {
    // DNS ports get a real query (as `dig` sends), so captures decode; others a short text.
    const text = (dport === 53 || dport === 5353) && size === undefined
      ? encodeDnsQuery('kubernetes.default.svc.cluster.local', rng.nextU32())
      : new TextEncoder().encode('knet\n'.padEnd(size ?? 5, '.'));
    return engine.newPacket(ns, src, dst, IPPROTO_UDP, { kind: 'udp', srcPort: sport!, dstPort: dport, payload: text });
  }
  return engine.newPacket(ns, src, dst, IPPROTO_TCP, {
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
