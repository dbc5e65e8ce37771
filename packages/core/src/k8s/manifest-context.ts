import { KnetError } from '../errors/knet-error.js';
import type { KnetErrorCode } from '../errors/knet-error.js';
import type { ManifestWarning, SourceRef } from '../cluster/cluster-state.js';

/**
 * Where a validator is working: the object's {@link SourceRef} and the warning sink of the
 * whole load, so that every error and warning names the file, document and field.
 */
export interface ManifestContext {
  readonly source: SourceRef;
  readonly warnings: ManifestWarning[];
}

/**
 * The field path as reported to the user: a `kind: List` item's path (`items[3]`) in front of
 * the path inside the object (`spec.podCIDR`), giving `items[3].spec.podCIDR`.
 */
export function sourceFieldPath(source: SourceRef, field: string | undefined): string | undefined {
  if (source.path === undefined) return field;
  if (field === undefined || field === '') return source.path;
  return `${source.path}.${field}`;
}

/**
 * A {@link KnetError} naming the file, the document and the field of a manifest problem.
 *
 * @remarks `formatKnetError` renders it as `file: document N: field: message`.
 */
export function manifestError(
  source: SourceRef,
  field: string | undefined,
  message: string,
  code: KnetErrorCode = 'EINVAL',
  extra: Readonly<Record<string, unknown>> = {},
): KnetError {
  const path = sourceFieldPath(source, field);
  return new KnetError(code, message, {
    ...extra,
    file: source.file,
    document: source.document,
    ...(path === undefined ? {} : { field: path }),
  });
}

/** Records a {@link ManifestWarning} for the object the context is about. */
export function manifestWarning(ctx: ManifestContext, field: string | undefined, message: string): void {
  const path = sourceFieldPath(ctx.source, field);
  ctx.warnings.push({
    file: ctx.source.file,
    document: ctx.source.document,
    ...(path === undefined ? {} : { field: path }),
    message,
  });
}
