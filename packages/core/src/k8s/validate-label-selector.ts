import { manifestError } from './manifest-context.js';
import type { ManifestContext } from './manifest-context.js';
import { optArray, optObject, optString, readLabels, reqString } from './manifest-fields.js';

/** The operators of a `matchExpressions` requirement. */
export const LABEL_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/**
 * Validates a `metav1.LabelSelector` (`matchLabels` + `matchExpressions`).
 *
 * @remarks
 * - `operator` must be `In`, `NotIn`, `Exists` or `DoesNotExist`.
 * - `In`/`NotIn` need at least one value; `Exists`/`DoesNotExist` must have none.
 * - Linux equivalent: none.
 * @throws KnetError `EINVAL` naming the field, e.g. `spec.podSelector.matchExpressions[0].operator`.
 * @see kubernetes staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go ValidateLabelSelectorRequirement
 */
export function validateLabelSelector(ctx: ManifestContext, v: unknown, field: string): void {
  const sel = optObject(ctx, v, field);
  if (sel === undefined) return;
  readLabels(ctx, sel['matchLabels'], `${field}.matchLabels`);
  const exprs = optArray(ctx, sel['matchExpressions'], `${field}.matchExpressions`) ?? [];
  for (let i = 0; i < exprs.length; i++) {
    const f = `${field}.matchExpressions[${i}]`;
    const e = optObject(ctx, exprs[i], f);
    if (e === undefined) throw manifestError(ctx.source, f, 'expected a requirement object');
    reqString(ctx, e['key'], `${f}.key`);
    const op = optString(ctx, e['operator'], `${f}.operator`);
    if (op === undefined) throw manifestError(ctx.source, `${f}.operator`, 'required value is missing');
    if (!(LABEL_SELECTOR_OPERATORS as readonly string[]).includes(op)) {
      throw manifestError(
        ctx.source,
        `${f}.operator`,
        `unsupported operator "${op}": must be one of ${LABEL_SELECTOR_OPERATORS.join(', ')}`,
      );
    }
    const values = optArray(ctx, e['values'], `${f}.values`) ?? [];
    for (let k = 0; k < values.length; k++) {
      if (typeof values[k] !== 'string') throw manifestError(ctx.source, `${f}.values[${k}]`, 'expected a string');
    }
    if ((op === 'In' || op === 'NotIn') && values.length === 0) {
      throw manifestError(ctx.source, `${f}.values`, `operator ${op} needs at least one value`);
    }
    if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) {
      throw manifestError(ctx.source, `${f}.values`, `operator ${op} takes no values`);
    }
  }
}
