import type { Labels } from '../cluster/cluster-state.js';
import type { ManifestContext } from '../k8s/manifest-context.js';
import { optArray, optObject } from '../k8s/manifest-fields.js';
import { validateLabelSelector } from '../k8s/validate-label-selector.js';
import type { ParsedLabelRequirement, ParsedLabelSelector } from './parsed-policy.js';

const EMPTY: ParsedLabelSelector = Object.freeze({ matchLabels: Object.freeze({}), matchExpressions: Object.freeze([]) });

/**
 * Validates a `metav1.LabelSelector` and returns its normalised form; an absent selector is
 * the empty selector (it selects everything).
 *
 * @remarks Linux equivalent: none.
 * @throws KnetError `EINVAL` naming the field, e.g. `spec.podSelector.matchExpressions[0].operator`.
 * @see kubernetes staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go LabelSelectorAsSelector
 * @example
 * ```ts
 * import { parseLabelSelector } from '@knet/core';
 * const sel = parseLabelSelector({ source: { file: 'a.yaml', document: 0 }, warnings: [] }, { matchLabels: { app: 'db' } }, 'spec.podSelector');
 * sel.matchLabels; // { app: 'db' }
 * ```
 */
export function parseLabelSelector(ctx: ManifestContext, v: unknown, field: string): ParsedLabelSelector {
  validateLabelSelector(ctx, v, field);
  const sel = optObject(ctx, v, field);
  if (sel === undefined) return EMPTY;
  const matchLabels = (optObject(ctx, sel['matchLabels'], `${field}.matchLabels`) ?? {}) as Labels;
  const exprs = optArray(ctx, sel['matchExpressions'], `${field}.matchExpressions`) ?? [];
  const matchExpressions: ParsedLabelRequirement[] = exprs.map((e) => {
    const o = e as { key: string; operator: ParsedLabelRequirement['operator']; values?: readonly string[] | null };
    return { key: o.key, operator: o.operator, values: o.values ?? [] };
  });
  if (Object.keys(matchLabels).length === 0 && matchExpressions.length === 0) return EMPTY;
  return { matchLabels, matchExpressions };
}

/** True when the selector has neither `matchLabels` nor `matchExpressions` (it selects everything). */
export function isEmptyLabelSelector(sel: ParsedLabelSelector): boolean {
  return sel.matchExpressions.length === 0 && Object.keys(sel.matchLabels).length === 0;
}

/**
 * True when `labels` satisfy the selector: every `matchLabels` pair AND every requirement.
 *
 * @remarks `NotIn` and `DoesNotExist` match objects that lack the key, as in apimachinery.
 * Linux equivalent: none.
 * @see kubernetes staging/src/k8s.io/apimachinery/pkg/labels/selector.go (Requirement.Matches)
 * @example
 * ```ts
 * import { matchesLabelSelector } from '@knet/core';
 * matchesLabelSelector({ matchLabels: {}, matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, {}); // true
 * ```
 */
export function matchesLabelSelector(sel: ParsedLabelSelector, labels: Labels): boolean {
  for (const key in sel.matchLabels) {
    if (labels[key] !== sel.matchLabels[key]) return false;
  }
  for (const r of sel.matchExpressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.operator) {
      case 'In':
        if (!has || !r.values.includes(labels[r.key] as string)) return false;
        break;
      case 'NotIn':
        if (has && r.values.includes(labels[r.key] as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/**
 * Renders a selector the way `kubectl` prints one (`app=db,tier in (a,b),!legacy`), or `{}` for
 * the empty selector.
 *
 * @remarks Linux equivalent: none.
 * @see kubernetes staging/src/k8s.io/apimachinery/pkg/labels/selector.go (internalSelector.String)
 * @example
 * ```ts
 * import { formatLabelSelector } from '@knet/core';
 * formatLabelSelector({ matchLabels: { app: 'db' }, matchExpressions: [{ key: 'legacy', operator: 'DoesNotExist', values: [] }] }); // 'app=db,!legacy'
 * ```
 */
export function formatLabelSelector(sel: ParsedLabelSelector): string {
  const parts: string[] = [];
  for (const key of Object.keys(sel.matchLabels).sort()) parts.push(`${key}=${sel.matchLabels[key] ?? ''}`);
  for (const r of sel.matchExpressions) {
    switch (r.operator) {
      case 'In':
        parts.push(`${r.key} in (${[...r.values].sort().join(',')})`);
        break;
      case 'NotIn':
        parts.push(`${r.key} notin (${[...r.values].sort().join(',')})`);
        break;
      case 'Exists':
        parts.push(r.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${r.key}`);
        break;
    }
  }
  return parts.length === 0 ? '{}' : parts.join(',');
}
