import { parseAllDocuments } from 'yaml';
import { KnetError } from '../errors/knet-error.js';
import type { ManifestWarning, SourceRef } from '../cluster/cluster-state.js';
import { lineAndColumn, locateJsonError } from './locate-json-error.js';
import { manifestError } from './manifest-context.js';
import { parseSimpleYaml } from './parse-simple-yaml.js';
import { isManifestObject } from './manifest-fields.js';
import type { ManifestObject } from './manifest-fields.js';

/** One input file: its name (used in errors) and its text. */
export interface ManifestInput {
  readonly file: string;
  readonly text: string;
}

/** One Kubernetes object taken from the input, with where it came from. */
export interface LoadedObject {
  readonly apiVersion: string;
  readonly kind: string;
  /** The decoded object as written (status, managedFields and all). */
  readonly object: ManifestObject;
  readonly source: SourceRef;
}

/** The objects of every input, in input order, with `kind: List` expanded. */
export interface LoadedManifests {
  readonly objects: readonly LoadedObject[];
  /** Problems that did not stop loading (YAML warnings such as unresolved tags). */
  readonly warnings: readonly ManifestWarning[];
}

/**
 * Loads Kubernetes manifests: YAML streams (`---`-separated documents) and JSON, including
 * `kind: List` and the typed lists (`PodList`, `NodeList`, ...) that `kubectl get -o yaml|json`
 * prints.
 *
 * @remarks
 * - A file is read as JSON when its name ends in `.json`, or when its text starts with `{` or
 *   `[` and parses as JSON; otherwise as YAML 1.2 (the `yaml` package, core schema), with a fast path for the plain
 *   subset kubectl prints (`parseSimpleYaml`, cross-checked against `yaml`). Duplicate mapping
 *   keys are errors, as in `kubectl apply`.
 * - Empty and `null` documents are skipped, but still count in the document index.
 * - List items keep their list's document index and get the path `items[N]`. Items of a typed
 *   list read from the raw API (`kubectl get --raw`) carry no `kind`/`apiVersion`; they get the
 *   list's, with `List` cut off the kind (`PodList` → `Pod`).
 * - Anything `kubectl get -o yaml` adds (`metadata.managedFields`, `resourceVersion`, `status`,
 *   ...) is kept in {@link LoadedObject.object} and ignored by the validators.
 * - Linux equivalent: none; this is `kubectl apply -f`'s decoder.
 *
 * @throws KnetError `EPARSE` for YAML/JSON syntax errors, with `details.file`, `details.document`,
 * `details.line` and `details.column`; `EINVAL` for a document that is not an object or lacks
 * `apiVersion`/`kind` (with `details.field`).
 * @see kubernetes staging/src/k8s.io/apimachinery/pkg/util/yaml/decoder.go (the YAML stream decoder)
 * @see kubernetes staging/src/k8s.io/cli-runtime/pkg/resource/visitor.go (List expansion)
 * @example
 * ```ts
 * import { loadManifests } from '@knet/core';
 * const loaded = loadManifests([{ file: 'pods.yaml', text: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n' }]);
 * loaded.objects[0]?.kind; // 'Namespace'
 * ```
 */
export function loadManifests(inputs: readonly ManifestInput[]): LoadedManifests {
  const objects: LoadedObject[] = [];
  const warnings: ManifestWarning[] = [];
  for (const input of inputs) {
    const text = input.text.charCodeAt(0) === 0xfeff ? input.text.slice(1) : input.text;
    if (/\.json$/i.test(input.file)) {
      addDocument(objects, parseJson(input.file, text), { file: input.file, document: 0 });
      continue;
    }
    // Text that looks like JSON is tried as JSON first (fast); YAML flow style such as
    // `{apiVersion: v1, ...}` is valid YAML but not JSON, so a failure falls through to YAML.
    if (looksLikeJson(text)) {
      let value: unknown;
      let ok = true;
      try {
        value = JSON.parse(text) as unknown;
      } catch {
        ok = false;
      }
      if (ok) {
        addDocument(objects, value, { file: input.file, document: 0 });
        continue;
      }
    }
    loadYaml(input.file, text, objects, warnings);
  }
  return { objects, warnings };
}

function looksLikeJson(text: string): boolean {
  const m = /^\s*([^\s])/.exec(text);
  return m !== null && (m[1] === '{' || m[1] === '[');
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const offset = locateJsonError(text) ?? text.length;
    const { line, column } = lineAndColumn(text, offset);
    const reason = e instanceof Error ? e.message.split('\n')[0] ?? e.message : String(e);
    throw new KnetError('EPARSE', `line ${line}, column ${column}: invalid JSON (${reason})`, {
      file,
      document: 0,
      line,
      column,
    });
  }
}

function loadYaml(file: string, text: string, objects: LoadedObject[], warnings: ManifestWarning[]): void {
  // Fast path for the plain subset kubectl prints; anything else (and every error) goes to `yaml`.
  const simple = parseSimpleYaml(text);
  if (simple !== undefined) {
    for (let d = 0; d < simple.length; d++) addDocument(objects, simple[d], { file, document: d });
    return;
  }
  const docs = parseAllDocuments(text, { prettyErrors: true });
  for (let d = 0; d < docs.length; d++) {
    const doc = docs[d];
    if (doc === undefined) continue;
    const first = doc.errors[0];
    if (first !== undefined) {
      const pos = first.linePos?.[0];
      const line = pos?.line;
      const column = pos?.col;
      // The pretty message repeats the position and quotes the source; keep its first clause.
      const head = (first.message.split('\n')[0] ?? first.message).replace(/ at line \d+, column \d+:?$/, '');
      const where = line === undefined ? '' : `line ${line}, column ${column ?? 1}: `;
      throw new KnetError('EPARSE', `${where}${head}`, {
        file,
        document: d,
        ...(line === undefined ? {} : { line, column }),
        yamlCode: first.code,
      });
    }
    for (const w of doc.warnings) {
      warnings.push({ file, document: d, message: (w.message.split('\n')[0] ?? w.message) });
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new KnetError('EPARSE', e instanceof Error ? e.message : String(e), { file, document: d });
    }
    addDocument(objects, value, { file, document: d });
  }
}

function addDocument(objects: LoadedObject[], value: unknown, source: SourceRef): void {
  if (value === null || value === undefined) return;
  if (!isManifestObject(value)) {
    throw manifestError(source, undefined, 'document is not a Kubernetes object (expected a mapping with apiVersion and kind)');
  }
  addObject(objects, value, source, undefined);
}

function addObject(
  objects: LoadedObject[],
  object: ManifestObject,
  source: SourceRef,
  listDefaults: { apiVersion: string; kind: string } | undefined,
): void {
  let apiVersion = object['apiVersion'];
  let kind = object['kind'];
  let obj = object;
  if (listDefaults !== undefined && (apiVersion === undefined || kind === undefined)) {
    apiVersion ??= listDefaults.apiVersion;
    kind ??= listDefaults.kind;
    obj = { ...object, apiVersion, kind };
  }
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    throw manifestError(source, 'apiVersion', 'apiVersion is required');
  }
  if (typeof kind !== 'string' || kind === '') {
    throw manifestError(source, 'kind', 'kind is required');
  }
  const items = obj['items'];
  const isList = kind === 'List' || (kind.endsWith('List') && (Array.isArray(items) || items === null));
  if (!isList) {
    objects.push({ apiVersion, kind, object: obj, source });
    return;
  }
  if (items === undefined || items === null) return;
  if (!Array.isArray(items)) throw manifestError(source, 'items', 'expected a list of objects');
  const itemDefaults = kind === 'List' ? undefined : { apiVersion, kind: kind.slice(0, -'List'.length) };
  for (let k = 0; k < items.length; k++) {
    const item: unknown = items[k];
    const path = source.path === undefined ? `items[${k}]` : `${source.path}.items[${k}]`;
    const itemSource: SourceRef = { file: source.file, document: source.document, path };
    if (item === null) continue;
    if (!isManifestObject(item)) throw manifestError(itemSource, undefined, 'list item is not an object');
    addObject(objects, item, itemSource, itemDefaults);
  }
}
