/**
 * Test scaffolding for the differential lab tests: reads everything the Host API can read back
 * from a namespace, and puts two hosts' readings in a form where only real disagreements remain.
 *
 * Normalisations, and why they are legitimate:
 * - Order: the kernel dumps neighbours in the order of a hash table seeded at random per boot,
 *   bridge FDB entries in rhashtable order, and routes in FIB-trie order; SimHost keeps insertion
 *   order. Neighbours, FDB entries and routes are compared as sorted sets.
 * - Random MACs: devices created without an address get a random MAC in the kernel
 *   (eth_hw_addr_random) and a seeded one in SimHost. `macLabels` replaces every MAC that a
 *   device of the namespace set owns by `<namespace>/<device>`, so that a MAC is compared by whose
 *   it is. A bridge whose MAC follows its ports (never set explicitly) owns the MAC of one of them:
 *   its label is that port's, and which port has the lowest random MAC differs between the two
 *   worlds, so such a bridge's MAC is compared as "the lowest of its ports' MACs" (the rule of
 *   br_stp_recalculate_bridge_id), not by value.
 * - Kernel-originated multicast neighbours: the kernel resolves 224.0.0.22 (IGMPv3 reports, sent
 *   for the groups a bridge's multicast snooping joins) to a NOARP entry on its own; SimHost does
 *   not send IGMP. NOARP entries for multicast destinations are left out.
 */
import type { Host } from '../../src/host/host.js';
import type { AddressInfo, FdbInfo, LinkInfo, NeighInfo, RouteInfo } from '../../src/host/types.js';
import { isMulticastMac, macToNumber } from '../../src/ip/mac.js';

/** Everything the Host API reads back from one namespace. */
export interface NetnsState {
  readonly links: LinkInfo[];
  readonly addrs: AddressInfo[];
  readonly routes: RouteInfo[];
  readonly neighs: NeighInfo[];
  readonly fdb: FdbInfo[];
}

/** Reads one namespace's state through the Host API. */
export async function readNetnsState(host: Host, netns: string): Promise<NetnsState> {
  const [links, addrs, routes, neighs, fdb] = await Promise.all([
    host.linkList(netns),
    host.addrList(netns),
    host.routeList(netns),
    host.neighList(netns),
    host.fdbList(netns),
  ]);
  return { links, addrs, routes, neighs, fdb };
}

/** Reads several namespaces. */
export async function readStates(host: Host, namespaces: readonly string[]): Promise<Map<string, NetnsState>> {
  const out = new Map<string, NetnsState>();
  for (const ns of namespaces) out.set(ns, await readNetnsState(host, ns));
  return out;
}

const LOWEST_PORT = '<lowest port MAC>';

/**
 * `MAC → <namespace>/<device>` for every device of every namespace, ports before bridges (a
 * bridge that took a port's MAC is labelled by the port, as the kernel lists the shared FDB
 * entry on the port).
 */
export function macLabels(states: ReadonlyMap<string, NetnsState>): Map<string, string> {
  const labels = new Map<string, string>();
  for (const bridges of [false, true]) {
    for (const [ns, s] of states) {
      for (const l of s.links) {
        if ((l.kind === 'bridge') !== bridges || l.kind === 'loopback' || l.kind === 'tun' && l.tunMode !== 'tap') continue;
        if (!labels.has(l.mac)) labels.set(l.mac, `${ns}/${l.name}`);
      }
    }
  }
  return labels;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One namespace's state with MACs replaced by labels and everything sorted where the kernel's
 * order is a hash order. `ns` is the namespace the state was read from.
 */
export function normaliseState(s: NetnsState, labels: ReadonlyMap<string, string>): NetnsState {
  const mac = (m: string): string => (isMulticastMac(m) || m === '00:00:00:00:00:00' ? m : (labels.get(m) ?? `unlabelled ${m}`));
  const ports = (br: string): LinkInfo[] => s.links.filter((l) => l.master === br);
  const links = s.links.map((l) => {
    if (l.kind === 'bridge') {
      const p = ports(l.name);
      const lowest = p.length > 0 ? p.reduce((a, b) => (macToNumber(b.mac) < macToNumber(a.mac) ? b : a)).mac : undefined;
      if (lowest === l.mac && labels.get(l.mac) !== undefined && !labels.get(l.mac)!.endsWith(`/${l.name}`)) {
        return { ...l, mac: LOWEST_PORT };
      }
    }
    return { ...l, mac: mac(l.mac) };
  });
  // A bridge that took its lowest port's MAC shares one local FDB entry with that port, listed
  // on the port: labelled by the port (ports come first in macLabels), it compares equal on both
  // sides whichever port the random MACs made the lowest.
  const fdb = s.fdb
    .map((e) => ({ ...e, mac: mac(e.mac) }))
    .map((e) => ({ ...e, ...(e.updated !== undefined ? { updated: 0 } : {}) }))
    .sort((a, b) => cmp(`${a.dev} ${a.master ?? ''} ${a.self} ${a.mac} ${a.dst ?? ''}`, `${b.dev} ${b.master ?? ''} ${b.self} ${b.mac} ${b.dst ?? ''}`));
  const neighs = s.neighs
    .filter((n) => !(n.state === 'NOARP' && Number(n.dst.split('.')[0]) >= 224 && Number(n.dst.split('.')[0]) <= 239))
    .map((n) => (n.lladdr !== undefined ? { ...n, lladdr: mac(n.lladdr) } : n))
    .sort((a, b) => cmp(`${a.dev} ${a.dst}`, `${b.dev} ${b.dst}`));
  const routes = [...s.routes].sort((a, b) =>
    cmp(`${String(a.table)} ${a.type} ${a.dst} ${a.metric ?? 0} ${a.dev ?? ''} ${a.gateway ?? ''}`, `${String(b.table)} ${b.type} ${b.dst} ${b.metric ?? 0} ${b.dev ?? ''} ${b.gateway ?? ''}`),
  );
  return { links, addrs: s.addrs, routes, neighs, fdb };
}

/** Both worlds' states, normalised with their own MAC labels. */
export function normaliseStates(states: ReadonlyMap<string, NetnsState>): Map<string, NetnsState> {
  const labels = macLabels(states);
  return new Map([...states].map(([ns, s]) => [ns, normaliseState(s, labels)]));
}
