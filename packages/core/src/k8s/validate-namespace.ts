import type { Labels } from '../cluster/cluster-state.js';
import type { ManifestContext } from './manifest-context.js';
import type { ManifestObject } from './manifest-fields.js';
import { validateMetadata } from './validate-metadata.js';

/** The label the API server puts on every namespace, holding its name. */
export const LABEL_METADATA_NAME = 'kubernetes.io/metadata.name';

/** A validated Namespace. */
export interface ValidatedNamespace {
  readonly name: string;
  readonly labels: Labels;
}

/**
 * Validates a Namespace (`v1`) and sets `kubernetes.io/metadata.name: <name>`, as the API server
 * does on every namespace (it is the only way a NetworkPolicy can select a namespace by name).
 *
 * @remarks Linux equivalent: none.
 * @throws KnetError `EINVAL` for a missing `metadata.name` or a non-string label.
 * @see kubernetes pkg/registry/core/namespace/strategy.go (the immutable name label, KEP-2161)
 */
export function validateNamespace(ctx: ManifestContext, object: ManifestObject): ValidatedNamespace {
  const meta = validateMetadata(ctx, object, false);
  return { name: meta.name, labels: namespaceLabels(meta.name, meta.labels) };
}

/** The labels of a namespace with the `kubernetes.io/metadata.name` label set to its name. */
export function namespaceLabels(name: string, labels: Labels = {}): Labels {
  return { ...labels, [LABEL_METADATA_NAME]: name };
}
