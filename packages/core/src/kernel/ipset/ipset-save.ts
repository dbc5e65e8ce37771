import { formatIpsetElement } from './ipset-element.js';
import type { Ipset, IpsetStore } from './ipset-store.js';
import type { IpsetEntry } from './ipset-types.js';

/** Options of {@link formatIpsetSave}. */
export interface FormatIpsetSaveOptions {
  /** Only this set (`ipset save NAME`). */
  readonly name?: string;
  /** knet clock (ns): expired elements are left out and timeouts print as the seconds left. */
  readonly now?: number;
}

/** The `create` line of a set, as `ipset save` prints it. */
export function formatIpsetCreate(set: Ipset): string {
  const o = set.options;
  const parts = [`create ${set.name} ${set.type}`];
  if (set.type === 'bitmap:port') {
    parts.push(`range ${o.rangeFrom ?? 0}-${o.rangeTo ?? 65535}`);
  } else {
    parts.push(`family ${o.family} hashsize ${o.hashsize} maxelem ${o.maxelem}`);
    if (o.netmask !== undefined) parts.push(`netmask ${o.netmask}`);
  }
  if (o.timeout !== undefined) parts.push(`timeout ${o.timeout}`);
  if (o.counters) parts.push('counters');
  if (o.comment) parts.push('comment');
  if (o.skbinfo) parts.push('skbinfo');
  if (set.type !== 'bitmap:port') parts.push(`bucketsize ${o.bucketsize} initval 0x${o.initval.toString(16).padStart(8, '0')}`);
  return parts.join(' ');
}

function formatEntry(set: Ipset, e: IpsetEntry, now: number): string {
  let out = `add ${set.name} ${formatIpsetElement(set.type, e.elem)}`;
  if (e.expires !== undefined) {
    // ip_set_timeout_get: whole seconds left, at least 1; permanent entries print 0.
    const left = e.expires === Infinity ? 0 : Math.max(1, Math.floor((e.expires - now) / 1e9));
    out += ` timeout ${left}`;
  }
  if (e.nomatch) out += ' nomatch';
  if (set.options.counters) out += ` packets ${e.packets} bytes ${e.bytes}`;
  if (e.comment !== undefined) out += ` comment "${e.comment}"`;
  if (e.skbmark !== undefined) {
    out += e.skbmark.mask === 0xffffffff ? ` skbmark 0x${e.skbmark.value.toString(16)}` : ` skbmark 0x${e.skbmark.value.toString(16)}/0x${e.skbmark.mask.toString(16)}`;
  }
  return out;
}

/**
 * Renders sets as `ipset save` prints them: each `create` line followed by its `add` lines.
 *
 * @remarks
 * Linux equivalent: ipset 7.17 `ipset save`. Sets come in kernel slot order; `bitmap:port`
 * elements in port order; hash elements in the kernel's bucket order (jhash2 of the element with
 * the set's `initval`, then slot), so the output matches the kernel's byte for byte when the
 * initval is the same.
 * @see ipset(8)
 */
export function formatIpsetSave(store: IpsetStore, options: FormatIpsetSaveOptions = {}): string {
  const now = options.now ?? 0;
  const sets = options.name !== undefined ? [store.require(options.name)] : store.list();
  const out: string[] = [];
  for (const set of sets) {
    out.push(`${formatIpsetCreate(set)}\n`);
    for (const e of set.ordered(now)) out.push(`${formatEntry(set, e, now)}\n`);
  }
  return out.join('');
}
