import { KnetError } from '../../errors/knet-error.js';
import type { Scope } from '../types.js';

/** A JSON object as iproute2 prints one record. */
export type JsonRecord = Readonly<Record<string, unknown>>;

/** The records of one `ip -j` / `bridge -j` array. @throws KnetError `EPARSE` */
export function jsonRecords(json: unknown, what: string): JsonRecord[] {
  if (!Array.isArray(json)) throw new KnetError('EPARSE', `${what}: expected a JSON array`, { what });
  return json.map((r, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      throw new KnetError('EPARSE', `${what}: record ${i} is not an object`, { what, index: i });
    }
    return r as JsonRecord;
  });
}

/** A string field, or `undefined`. */
export function str(r: JsonRecord, key: string): string | undefined {
  const v = r[key];
  return typeof v === 'string' ? v : undefined;
}

/** A numeric field (numbers, or numeric strings as `ip -N` prints them), or `undefined`. */
export function num(r: JsonRecord, key: string): number | undefined {
  const v = r[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

/** A string field that must be there. @throws KnetError `EPARSE` */
export function reqStr(r: JsonRecord, key: string, what: string): string {
  const v = str(r, key);
  if (v === undefined) throw new KnetError('EPARSE', `${what}: field "${key}" missing`, { what, field: key });
  return v;
}

/** A numeric field that must be there. @throws KnetError `EPARSE` */
export function reqNum(r: JsonRecord, key: string, what: string): number {
  const v = num(r, key);
  if (v === undefined) throw new KnetError('EPARSE', `${what}: field "${key}" missing`, { what, field: key });
  return v;
}

/** The string elements of an array field (`flags`, `state`). */
export function strList(r: JsonRecord, key: string): string[] {
  const v = r[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** rt_scope names (iproute2 etc/iproute2/rt_scopes) and their numbers. @see rtnetlink(7) */
const SCOPE_NUMBERS: Readonly<Record<number, Scope>> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };

/** A scope as `ip -j` prints it (name, or number with `-N`); absent means `global`. @throws KnetError `EPARSE` */
export function scopeOf(v: unknown, what: string): Scope {
  if (v === undefined) return 'global';
  if (v === 'global' || v === 'universe') return 'global';
  if (v === 'site' || v === 'link' || v === 'host' || v === 'nowhere') return v;
  const s = typeof v === 'string' && /^\d+$/.test(v) ? SCOPE_NUMBERS[Number(v)] : typeof v === 'number' ? SCOPE_NUMBERS[v] : undefined;
  if (s === undefined) throw new KnetError('EPARSE', `${what}: unknown scope ${String(v)}`, { what, scope: String(v) });
  return s;
}
