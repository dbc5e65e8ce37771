import { IPS } from './conntrack-entry.js';
import type { ConntrackTable, PacketCt } from './conntrack-table.js';
import type { NatHook } from './nat-core.js';

/**
 * What a NAT target of the nat table asks for, in the shape the rule evaluator reports it
 * (`kind` DNAT / SNAT with an address and port range, or MASQUERADE / REDIRECT with ports).
 */
export type NatTargetRequest =
  | {
      readonly kind: 'DNAT' | 'SNAT';
      readonly range?: { readonly minIp?: number; readonly maxIp?: number; readonly minPort?: number; readonly maxPort?: number };
      readonly random: boolean;
      readonly randomFully: boolean;
      readonly persistent: boolean;
    }
  | {
      readonly kind: 'MASQUERADE' | 'REDIRECT';
      readonly minPort?: number;
      readonly maxPort?: number;
      readonly random: boolean;
      readonly randomFully: boolean;
    };

/** Where the packet is, for MASQUERADE (out interface) and REDIRECT (in interface). */
export interface NatTargetContext {
  readonly hook: NatHook;
  /** MASQUERADE: the out interface's primary address (0 when it has none). */
  readonly outAddress?: number;
  readonly outIfindex?: number;
  /** REDIRECT at PREROUTING: the in interface's primary address (0 when it has none). */
  readonly inAddress?: number;
}

const LOOPBACK = 0x7f000001;

/**
 * Runs a NAT target on the first packet's connection, as its kernel target module does:
 * `xt_nat` (DNAT, SNAT: `nf_nat_setup_info` with the range), `MASQUERADE`
 * (`nf_nat_masquerade_ipv4`) and `REDIRECT` (`nf_nat_redirect_ipv4`: DNAT to 127.0.0.1 for locally
 * generated packets, else to the in interface's primary address; dropped when it has none).
 * DNAT without an address keeps the destination and maps only the port.
 *
 * @returns the target's verdict (`'drop'` when the kernel would drop).
 * @see https://github.com/torvalds/linux/blob/master/net/netfilter/xt_nat.c
 * @see https://github.com/torvalds/linux/blob/master/net/netfilter/nf_nat_redirect.c
 */
export function applyNatRequest(table: ConntrackTable, ct: PacketCt, request: NatTargetRequest, context: NatTargetContext): 'accept' | 'drop' {
  const e = ct.entry;
  if (e === undefined || (ct.state !== 'NEW' && ct.state !== 'RELATED')) return 'accept';
  const flags = {
    ...(request.random ? { random: true } : {}),
    ...(request.randomFully ? { randomFully: true } : {}),
  };
  switch (request.kind) {
    case 'DNAT':
    case 'SNAT': {
      const r = request.range ?? {};
      return table.setupNat(e, request.kind, {
        ...(r.minIp !== undefined ? { minAddr: r.minIp, maxAddr: r.maxIp ?? r.minIp } : {}),
        ...(r.minPort !== undefined ? { minPort: r.minPort, maxPort: r.maxPort ?? r.minPort } : {}),
        ...flags,
        ...(request.persistent ? { persistent: true } : {}),
      });
    }
    case 'MASQUERADE':
      return table.masquerade(ct, {
        address: context.outAddress ?? 0,
        ifindex: context.outIfindex ?? 0,
        ...(request.minPort !== undefined ? { minPort: request.minPort, maxPort: request.maxPort ?? request.minPort } : {}),
        ...flags,
      });
    case 'REDIRECT': {
      const addr = context.hook === 'OUTPUT' ? LOOPBACK : (context.inAddress ?? 0);
      if (addr === 0) return 'drop';
      return table.setupNat(e, 'DNAT', {
        minAddr: addr,
        maxAddr: addr,
        ...(request.minPort !== undefined ? { minPort: request.minPort, maxPort: request.maxPort ?? request.minPort } : {}),
        ...flags,
      });
    }
  }
}

/** A conntrack tuple as `-m conntrack --ctorig*` / `--ctrepl*` read it. */
export interface ConntrackViewTuple {
  readonly src: number;
  readonly dst: number;
  readonly sport: number;
  readonly dport: number;
}

/** The status bits `-m conntrack --ctstatus` names. */
export type ConntrackViewStatus = 'EXPECTED' | 'SEEN_REPLY' | 'ASSURED' | 'CONFIRMED';

/** What `-m conntrack` / `-m state` / `CONNMARK` read about a packet's connection. */
export interface ConntrackViewData {
  readonly state: 'NEW' | 'ESTABLISHED' | 'RELATED' | 'UNTRACKED' | 'INVALID';
  readonly direction?: 'ORIGINAL' | 'REPLY';
  readonly status?: readonly ConntrackViewStatus[];
  readonly snat?: boolean;
  readonly dnat?: boolean;
  readonly protocol?: number;
  readonly original?: ConntrackViewTuple;
  readonly reply?: ConntrackViewTuple;
  /** Seconds left (`--ctexpire`). */
  readonly expires?: number;
  readonly mark?: number;
}

/**
 * The packet's connection as the rule evaluator's conntrack match reads it (`xt_conntrack`): state
 * and direction, status bits, SNAT/DNAT, tuples, seconds left and mark.
 *
 * @see https://github.com/torvalds/linux/blob/master/net/netfilter/xt_conntrack.c
 */
export function conntrackView(ct: PacketCt, now: number): ConntrackViewData {
  const e = ct.entry;
  if (e === undefined) return { state: ct.state };
  const status: ConntrackViewStatus[] = [];
  if (e.has(IPS.EXPECTED)) status.push('EXPECTED');
  if (e.has(IPS.SEEN_REPLY)) status.push('SEEN_REPLY');
  if (e.has(IPS.ASSURED)) status.push('ASSURED');
  if (e.has(IPS.CONFIRMED)) status.push('CONFIRMED');
  const t = (x: typeof e.original): ConntrackViewTuple => ({ src: x.src, dst: x.dst, sport: x.sport, dport: x.dport });
  return {
    state: ct.state,
    direction: ct.direction,
    status,
    snat: e.has(IPS.SRC_NAT),
    dnat: e.has(IPS.DST_NAT),
    protocol: e.original.protocol,
    original: t(e.original),
    reply: t(e.reply),
    expires: Math.floor(e.remaining(now) / 1e9),
    mark: e.mark,
  };
}
