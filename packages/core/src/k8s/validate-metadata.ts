import type { Labels } from '../cluster/cluster-state.js';
import { manifestError } from './manifest-context.js';
import type { ManifestContext } from './manifest-context.js';
import { optObject, optString, readLabels } from './manifest-fields.js';
import type { ManifestObject } from './manifest-fields.js';

/** The parts of `metadata` knet uses. */
export interface ObjectMetadata {
  readonly name: string;
  /** The namespace, `default` when a namespaced object leaves it out (as `kubectl apply` does); `''` for cluster-scoped kinds. */
  readonly namespace: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly uid?: string;
}

/**
 * Validates `metadata` of a Kubernetes object: `name` is required, `labels` and `annotations`
 * must map strings to strings.
 *
 * @remarks Linux equivalent: none. `generateName` alone is not enough: knet needs a stable name.
 * @throws KnetError `EINVAL` with `details.field` `metadata.name` (missing name) or the bad label.
 * @see kubernetes staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go
 */
export function validateMetadata(ctx: ManifestContext, object: ManifestObject, namespaced: boolean): ObjectMetadata {
  const meta = optObject(ctx, object['metadata'], 'metadata');
  if (meta === undefined) throw manifestError(ctx.source, 'metadata.name', 'metadata.name is required');
  const name = optString(ctx, meta['name'], 'metadata.name');
  if (name === undefined) throw manifestError(ctx.source, 'metadata.name', 'metadata.name is required');
  const ns = namespaced ? (optString(ctx, meta['namespace'], 'metadata.namespace') ?? 'default') : '';
  const labels = readLabels(ctx, meta['labels'], 'metadata.labels');
  const annotations = readLabels(ctx, meta['annotations'], 'metadata.annotations');
  const uid = optString(ctx, meta['uid'], 'metadata.uid');
  return { name, namespace: ns, labels, annotations, ...(uid === undefined ? {} : { uid }) };
}
