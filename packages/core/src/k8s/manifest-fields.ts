import { isKnetError } from '../errors/knet-error.js';
import { parseIpv4Cidr, tryParseIpv4 } from '../ip/ipv4.js';
import type { Ipv4Cidr } from '../ip/ipv4.js';
import type { Labels } from '../cluster/cluster-state.js';
import { manifestError } from './manifest-context.js';
import type { ManifestContext } from './manifest-context.js';

/*
 * Typed readers for fields of decoded Kubernetes objects. Each reader takes the full field path
 * (`spec.containers[1].ports[0].containerPort`) and throws `EINVAL` naming it when the value has
 * the wrong type or range.
 *
 * @remarks `null` is treated as absent everywhere: Go's JSON encoder prints `null` for empty
 * slices that are not `omitempty` (`endpoints: null` in an empty EndpointSlice).
 */

/** A decoded JSON/YAML mapping. */
export type ManifestObject = Record<string, unknown>;

/** True when `v` is a mapping (not an array, not null). */
export function isManifestObject(v: unknown): v is ManifestObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Joins a parent path and a key: `spec` + `podCIDR` → `spec.podCIDR`. */
export function joinField(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** Formats a map key for a path: plain keys as `.key`, keys with dots or slashes as `["a.b/c"]`. */
export function mapKeyField(parent: string, key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? joinField(parent, key) : `${parent}[${JSON.stringify(key)}]`;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** An optional mapping field. */
export function optObject(ctx: ManifestContext, v: unknown, field: string): ManifestObject | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isManifestObject(v)) throw manifestError(ctx.source, field, `expected an object, got ${typeName(v)}`);
  return v;
}

/** An optional list field. */
export function optArray(ctx: ManifestContext, v: unknown, field: string): readonly unknown[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw manifestError(ctx.source, field, `expected a list, got ${typeName(v)}`);
  return v;
}

/** An optional string field; the empty string counts as absent, as in Go's `omitempty`. */
export function optString(ctx: ManifestContext, v: unknown, field: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw manifestError(ctx.source, field, `expected a string, got ${typeName(v)}`);
  return v;
}

/** A required, non-empty string field. */
export function reqString(ctx: ManifestContext, v: unknown, field: string): string {
  const s = optString(ctx, v, field);
  if (s === undefined) throw manifestError(ctx.source, field, 'required value is missing');
  return s;
}

/** An optional boolean field. */
export function optBool(ctx: ManifestContext, v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw manifestError(ctx.source, field, `expected true or false, got ${typeName(v)}`);
  return v;
}

/** An optional integer field in `[min, max]`. */
export function optInt(ctx: ManifestContext, v: unknown, field: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw manifestError(ctx.source, field, `expected an integer, got ${typeName(v)} ${JSON.stringify(v)}`);
  }
  if (v < min || v > max) throw manifestError(ctx.source, field, `${v} is out of range ${min}-${max}`);
  return v;
}

/** An optional field restricted to a closed set of strings. */
export function optEnum<T extends string>(
  ctx: ManifestContext,
  v: unknown,
  field: string,
  allowed: readonly T[],
): T | undefined {
  const s = optString(ctx, v, field);
  if (s === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(s)) {
    throw manifestError(ctx.source, field, `unsupported value "${s}": must be one of ${allowed.join(', ')}`);
  }
  return s as T;
}

/**
 * A label map (`metadata.labels`, `spec.selector`, `matchLabels`): string keys to string values.
 *
 * @remarks The API server rejects a non-string value (`version: 1` unquoted in YAML), so knet does too.
 */
export function readLabels(ctx: ManifestContext, v: unknown, field: string): Labels {
  const o = optObject(ctx, v, field);
  if (o === undefined) return EMPTY_LABELS;
  for (const key in o) {
    const value = o[key];
    if (typeof value !== 'string') {
      throw manifestError(ctx.source, mapKeyField(field, key), `label value must be a string, got ${typeName(value)}`);
    }
  }
  return o as Labels;
}

const EMPTY_LABELS: Labels = Object.freeze({});

/**
 * An IPv4 address field, returned with its numeric form.
 *
 * @remarks Uses the allocation-free {@link tryParseIpv4}: this runs once per pod and endpoint.
 */
export function readIpv4(ctx: ManifestContext, v: unknown, field: string): { text: string; value: number } {
  const text = reqString(ctx, v, field);
  const value = tryParseIpv4(text);
  if (value === undefined) throw manifestError(ctx.source, field, `invalid IPv4 address "${text}"`);
  return { text, value };
}

/**
 * An IPv4 CIDR field, parsed with {@link parseIpv4Cidr} (ip-num) once per distinct text when a
 * `cache` is given.
 *
 * @param strict - reject host bits (`10.244.1.5/24`), as host-local does for a pod CIDR; when
 * false they are masked off, as the API server's sloppy parser does for NetworkPolicy blocks.
 */
export function readIpv4Cidr(
  ctx: ManifestContext,
  v: unknown,
  field: string,
  strict: boolean,
  cache?: Map<string, Ipv4Cidr>,
): Ipv4Cidr {
  const text = reqString(ctx, v, field);
  const key = strict ? text : `~${text}`;
  const hit = cache?.get(key);
  if (hit !== undefined) return hit;
  let cidr: Ipv4Cidr;
  try {
    cidr = parseIpv4Cidr(text, { strict });
  } catch (e) {
    if (isKnetError(e)) throw manifestError(ctx.source, field, e.message, 'EINVAL', { value: text });
    throw e;
  }
  cache?.set(key, cidr);
  return cidr;
}

/** True when the text looks like an IPv6 address (knet models IPv4; IPv6 entries of dual-stack objects are skipped). */
export function looksLikeIpv6(text: string): boolean {
  return text.includes(':');
}

/**
 * True when `name` is a valid port name (`IANA_SVC_NAME`): at most 15 characters of `a-z0-9-`,
 * at least one letter, no leading, trailing or doubled hyphen.
 *
 * @see kubernetes staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go IsValidPortName
 */
export function isValidPortName(name: string): boolean {
  return (
    name.length <= 15 &&
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name) &&
    !name.includes('--') &&
    /[a-z]/.test(name)
  );
}

/** A port number (1-65535) or a port name, as Kubernetes' `IntOrString` port fields allow. */
export function readPortNumberOrName(ctx: ManifestContext, v: unknown, field: string): number | string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') {
    // A quoted number is a string to IntOrString, and fails the port-name rule as it does upstream.
    if (!isValidPortName(v)) throw manifestError(ctx.source, field, `invalid port name "${v}"`);
    return v;
  }
  return optInt(ctx, v, field, 1, 65535);
}

/** The protocols Kubernetes ports accept. */
export const PORT_PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

/** A port protocol, defaulting to `TCP` as the API server does. */
export function readProtocol(ctx: ManifestContext, v: unknown, field: string): 'TCP' | 'UDP' | 'SCTP' {
  return optEnum(ctx, v, field, PORT_PROTOCOLS) ?? 'TCP';
}
