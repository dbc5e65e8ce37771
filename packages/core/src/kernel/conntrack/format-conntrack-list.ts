import { formatIpv4 } from '../../ip/ipv4.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../../packet/types.js';
import { IPS } from './conntrack-entry.js';
import type { ConntrackEntry } from './conntrack-entry.js';
import { IPPROTO_GRE, IPPROTO_UDPLITE } from './conntrack-tuple.js';
import type { ConntrackTuple } from './conntrack-tuple.js';

/** Options of {@link formatConntrackList}: conntrack's `-o` flags. */
export interface FormatConntrackListOptions {
  /** `-o extended`: the layer 3 protocol first (`ipv4     2`). */
  readonly extended?: boolean;
  /** `-o id`: the connection id last. */
  readonly id?: boolean;
}

/** The conntrack-tools version knet's output imitates. */
export const CONNTRACK_TOOLS_VERSION = '1.4.7';

const PROTO_NAMES: Readonly<Record<number, string>> = {
  [IPPROTO_TCP]: 'tcp',
  [IPPROTO_UDP]: 'udp',
  [IPPROTO_UDPLITE]: 'udplite',
  [IPPROTO_ICMP]: 'icmp',
  58: 'icmpv6',
  132: 'sctp',
  [IPPROTO_GRE]: 'gre',
  33: 'dccp',
};

function pad8(s: string): string {
  return s.length >= 8 ? s : s + ' '.repeat(8 - s.length);
}

function tupleText(t: ConntrackTuple): string {
  let s = `src=${formatIpv4(t.src)} dst=${formatIpv4(t.dst)} `;
  if (t.protocol === IPPROTO_TCP || t.protocol === IPPROTO_UDP || t.protocol === IPPROTO_UDPLITE) s += `sport=${t.sport} dport=${t.dport} `;
  else if (t.protocol === IPPROTO_ICMP) s += `type=${t.type} code=${t.code} id=${t.id} `;
  else if (t.protocol === IPPROTO_GRE) s += 'srckey=0x0 dstkey=0x0 ';
  return s;
}

/**
 * One line of `conntrack -L` for an entry at `now` (no trailing newline).
 *
 * @remarks Linux equivalent: conntrack-tools' default output, `__snprintf_conntrack_default()` of
 * libnetfilter_conntrack: protocol name padded to 8 and number, seconds left (`nf_ct_expires / HZ`),
 * TCP state, original tuple, `[UNREPLIED]`, reply tuple, `[ASSURED]`, `mark=`, `zone=` (non-zero
 * zones only), `use=`, then `id=` with `-o id`.
 * @see https://git.netfilter.org/libnetfilter_conntrack/tree/src/conntrack/snprintf_default.c
 * @example
 * ```ts
 * import { formatConntrackEntry } from '@knet/core';
 * declare const entry: import('@knet/core').ConntrackEntry;
 * formatConntrackEntry(entry, 0); // 'tcp      6 431999 ESTABLISHED src=... [ASSURED] mark=0 use=1'
 * ```
 */
export function formatConntrackEntry(e: ConntrackEntry, now: number, options: FormatConntrackListOptions = {}): string {
  const o = e.original;
  let s = options.extended === true ? 'ipv4     2 ' : '';
  s += `${pad8(PROTO_NAMES[o.protocol] ?? 'unknown')} ${o.protocol} `;
  s += `${Math.floor(e.remaining(now) / 1e9)} `;
  const state = e.tcpState;
  if (state !== undefined) s += `${state} `;
  s += tupleText(o);
  if (!e.has(IPS.SEEN_REPLY)) s += '[UNREPLIED] ';
  s += tupleText(e.reply);
  if (e.has(IPS.OFFLOAD)) s += '[OFFLOAD] ';
  else if (e.has(IPS.HW_OFFLOAD)) s += '[HW_OFFLOAD] ';
  else if (e.has(IPS.ASSURED)) s += '[ASSURED] ';
  s += `mark=${e.mark >>> 0} `;
  if (e.zone !== 0) s += `zone=${e.zone} `;
  s += `use=${e.use} `;
  if (options.id === true) s += `id=${e.id >>> 0} `;
  return s.slice(0, -1);
}

/**
 * `conntrack -L` standard output for `entries` at `now`: one line each, newline-terminated.
 * The kernel lists in hash-bucket order; pass the entries in the order wanted
 * (`ConntrackTable.list()` gives creation order).
 *
 * @see https://manpages.debian.org/bookworm/conntrack/conntrack.8.en.html
 * @example
 * ```ts
 * import { ConntrackTable, formatConntrackList, formatConntrackSummary } from '@knet/core';
 * const table = new ConntrackTable();
 * const entries = table.list(0);
 * formatConntrackList(entries, 0) + formatConntrackSummary(entries.length);
 * ```
 */
export function formatConntrackList(entries: readonly ConntrackEntry[], now: number, options: FormatConntrackListOptions = {}): string {
  let out = '';
  for (const e of entries) out += `${formatConntrackEntry(e, now, options)}\n`;
  return out;
}

/**
 * The line conntrack prints on standard error after a listing:
 * `conntrack v1.4.7 (conntrack-tools): N flow entries have been shown.`
 */
export function formatConntrackSummary(count: number, version = CONNTRACK_TOOLS_VERSION): string {
  return `conntrack v${version} (conntrack-tools): ${count} flow entries have been shown.\n`;
}
