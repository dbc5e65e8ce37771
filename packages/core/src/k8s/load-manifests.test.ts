import { describe, expect, it } from 'vitest';
import { formatKnetError, isKnetError } from '../errors/knet-error.js';
import type { KnetError } from '../errors/knet-error.js';
import { loadManifests } from './load-manifests.js';

function thrown(fn: () => unknown): KnetError {
  try {
    fn();
  } catch (e) {
    if (isKnetError(e)) return e;
    throw e;
  }
  throw new Error('expected a KnetError');
}

const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;

describe('loadManifests', () => {
  it('reads a multi-document YAML stream, skipping empty and null documents but counting them', () => {
    const text = `# leading comment\n---\n${ns('a')}---\n---\nnull\n---\n${ns('b')}`;
    const loaded = loadManifests([{ file: 'ns.yaml', text }]);
    expect(loaded.objects.map((o) => [o.kind, o.source])).toEqual([
      ['Namespace', { file: 'ns.yaml', document: 0 }],
      ['Namespace', { file: 'ns.yaml', document: 3 }],
    ]);
    expect(loaded.warnings).toEqual([]);
  });

  it('keeps file order across inputs', () => {
    const loaded = loadManifests([
      { file: 'one.yaml', text: ns('a') },
      { file: 'two.json', text: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'b' } }) },
    ]);
    expect(loaded.objects.map((o) => `${o.source.file}:${String((o.object['metadata'] as { name: string }).name)}`)).toEqual([
      'one.yaml:a',
      'two.json:b',
    ]);
  });

  it('expands kind: List into items with their paths', () => {
    const text = [
      'apiVersion: v1',
      'kind: List',
      'metadata:',
      '  resourceVersion: ""',
      'items:',
      '- apiVersion: v1',
      '  kind: Namespace',
      '  metadata: {name: a}',
      '- apiVersion: v1',
      '  kind: Node',
      '  metadata: {name: n1}',
      '',
    ].join('\n');
    const loaded = loadManifests([{ file: 'list.yaml', text }]);
    expect(loaded.objects.map((o) => [o.kind, o.source])).toEqual([
      ['Namespace', { file: 'list.yaml', document: 0, path: 'items[0]' }],
      ['Node', { file: 'list.yaml', document: 0, path: 'items[1]' }],
    ]);
  });

  it('gives items of a typed list (PodList from the raw API) the list kind and apiVersion', () => {
    const text = JSON.stringify({
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '1234' },
      items: [{ metadata: { name: 'p0', namespace: 'default' } }, { metadata: { name: 'p1' } }],
    });
    const loaded = loadManifests([{ file: 'pods.json', text }]);
    expect(loaded.objects.map((o) => [o.apiVersion, o.kind, o.source.path])).toEqual([
      ['v1', 'Pod', 'items[0]'],
      ['v1', 'Pod', 'items[1]'],
    ]);
    expect(loaded.objects[0]?.object['kind']).toBe('Pod');
  });

  it('treats an empty list as no objects', () => {
    expect(loadManifests([{ file: 'e.yaml', text: 'apiVersion: v1\nkind: List\nitems: []\n' }]).objects).toEqual([]);
    expect(loadManifests([{ file: 'e.json', text: '{"apiVersion":"v1","kind":"PodList","items":null}' }]).objects).toEqual([]);
  });

  it('reads YAML outside the fast subset through the yaml package', () => {
    const text = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: &n shop\n  labels: {team: *n}\n`;
    const [o] = loadManifests([{ file: 'a.yaml', text }]).objects;
    expect(o?.object['metadata']).toEqual({ name: 'shop', labels: { team: 'shop' } });
  });

  it('accepts a UTF-8 byte order mark', () => {
    expect(loadManifests([{ file: 'bom.json', text: '\ufeff{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}' }]).objects).toHaveLength(1);
  });

  it.each([
    ['bad indentation', 'ok.yaml', `${ns('a')}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n spec: {}\n`, 1, 10],
    ['unclosed flow sequence', 'f.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  labels: [a, b\nspec: {}\n', 0, 5],
    ['duplicate key', 'd.yaml', 'apiVersion: v1\nkind: Namespace\nkind: Node\n', 0, 3],
  ])('reports YAML syntax errors with EPARSE and the line: %s', (_name, file, text, document, line) => {
    const e = thrown(() => loadManifests([{ file, text }]));
    expect(e.code).toBe('EPARSE');
    expect(e.details).toMatchObject({ file, document, line });
    expect(formatKnetError(e)).toMatch(new RegExp(`^${file.replace('.', '\\.')}: document ${document}: line ${line}, column \\d+: `));
    expect(formatKnetError(e)).not.toContain('\n');
  });

  it.each([
    ['trailing comma', 'x.json', '{\n  "apiVersion": "v1",\n  "kind": "Pod",\n}\n', 4, 1],
    ['missing value', 'y.json', '{"apiVersion": "v1",\n "kind": }', 2, 10],
  ])('reports JSON syntax errors with EPARSE and the line: %s', (_name, file, text, line, column) => {
    const e = thrown(() => loadManifests([{ file, text }]));
    expect(e.code).toBe('EPARSE');
    expect(e.details).toMatchObject({ file, document: 0, line, column });
    expect(formatKnetError(e)).not.toContain('\n');
  });

  it('reads YAML flow style that only looks like JSON', () => {
    const [o] = loadManifests([{ file: 'flow.yaml', text: '{apiVersion: v1, kind: Namespace, metadata: {name: a}}\n' }]).objects;
    expect(o?.kind).toBe('Namespace');
  });

  it('reports text that is neither JSON nor YAML as a YAML error with its line', () => {
    const e = thrown(() => loadManifests([{ file: 'z.yaml', text: '{"kind": "Pod",\n "x": [1}\n' }]));
    expect(e.code).toBe('EPARSE');
    expect(e.details).toMatchObject({ file: 'z.yaml', document: 0, line: 2 });
  });

  it.each([
    ['a scalar document', 'a.yaml', `${ns('x')}---\njust a string\n`, 1, undefined],
    ['a sequence document', 'b.yaml', '- a\n- b\n', 0, undefined],
    ['no kind', 'c.yaml', 'apiVersion: v1\nmetadata: {name: x}\n', 0, 'kind'],
    ['no apiVersion', 'd.yaml', 'kind: Pod\nmetadata: {name: x}\n', 0, 'apiVersion'],
    ['a list item without kind', 'e.yaml', 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n- metadata: {name: b}\n', 0, 'items[1].apiVersion'],
    ['a list item that is not an object', 'f.yaml', 'apiVersion: v1\nkind: List\nitems:\n- 3\n', 0, 'items[0]'],
  ])('rejects %s with EINVAL', (_name, file, text, document, field) => {
    const e = thrown(() => loadManifests([{ file, text }]));
    expect(e.code).toBe('EINVAL');
    expect(e.details['file']).toBe(file);
    expect(e.details['document']).toBe(document);
    expect(e.details['field']).toBe(field);
  });
});
