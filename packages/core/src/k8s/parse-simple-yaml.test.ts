import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { SeededRng } from '../util/seeded-rng.js';
import { EXAMPLE_CLUSTER_YAML } from '../example/example-cluster.js';
import { parseSimpleYaml } from './parse-simple-yaml.js';

/** What the yaml package makes of a stream, or undefined when it reports an error. */
function reference(text: string): unknown[] | undefined {
  const docs = parseAllDocuments(text);
  if (docs.some((d) => d.errors.length > 0)) return undefined;
  return docs.map((d) => d.toJS() as unknown);
}

describe('parseSimpleYaml', () => {
  it.each([
    ['mapping', 'a: 1\nb: two\n'],
    ['nested mapping', 'metadata:\n  name: x\n  labels:\n    app.kubernetes.io/name: web\n'],
    ['sequence of mappings', 'containers:\n- name: a\n  image: nginx:1.27\n  ports:\n  - containerPort: 80\n    protocol: TCP\n'],
    ['indented sequence', 'items:\n  - a\n  - b\n'],
    ['multi-document with empty and null docs', '# head\n---\na: 1\n---\n\n---\nnull\n---\nb: [x, "y", \'z\']\n'],
    ['leading content without marker', 'a: 1\n---\nb: 2\n---\n'],
    ['scalars of the core schema', 'a: ~\nb: null\nc: True\nd: FALSE\ne: 42\nf: -7\ng: 0.5\nh: 1e3\ni: 007\nj: 1_000\nk: 2024-01-01\nl: 12:30\nm: +5\nn: .5\no: "80"\np: \'yes\'\nq: yes\nr: -\n'.replace('r: -\n', 'r: x-y\n')],
    ['quoted scalars with escapes', 'a: "x\\"y\\\\z\\n\\t\\u00e9"\nb: \'it\'\'s\'\nc: "k:{\\"name\\":\\"c\\"}"\n'],
    ['comments everywhere', '# c\na: 1 # trailing\nb: # empty\n  c: "x" # after quote\n# between\nd: [] # empty list\ne: {}\n'],
    ['managedFields-style keys', 'fieldsV1:\n  f:metadata:\n    f:labels:\n      .: {}\n      f:app: {}\n  f:spec:\n    k:{"name":"c"}:\n      .: {}\n'],
    ['literal block scalars', 'a: |\n  line 1\n    indented\n\n  line 3\nb: |-\n  {"k": "v"}\nc: x\n'],
    ['block scalar with trailing blank lines (clip)', 'a: |\n  x\n\n\nb: 1\n'],
    ['block scalar in a sequence', 'args:\n- |\n  echo hi\n- b\n'],
    ['empty block scalar', 'a: |\nb: 1\n'],
    ['sequence under a key at the same indentation', 'spec:\n  ports:\n  - port: 80\n  selector:\n    app: x\n'],
    ['dash item alone', 'a:\n-\n- x\n-\n  b: 1\n'],
    ['values with colons and hashes', 'image: registry.k8s.io/pause:3.9\nurl: http://x/#frag\nh: a#b\n'],
    ['document of only a sequence', '- a\n- 1\n- true\n'],
    ['negative and float-like strings', 'a: -5\nb: -x\nc: 1.2.3\nd: "1.0"\n'],
    ['plain multi-word values', 'description: hello big world\nkey with spaces: v\n'],
    ['marker with a comment', '--- # first\na: 1\n--- # second\nb: 2\n'],
  ])('agrees with the yaml package: %s', (_name, text) => {
    const got = parseSimpleYaml(text);
    expect(got).toBeDefined();
    expect(got).toEqual(reference(text));
  });

  it.each([
    ['tabs', 'a:\tb\n'],
    ['CRLF', 'a: 1\r\nb: 2\r\n'],
    ['anchors and aliases', 'a: &x 1\nb: *x\n'],
    ['tags', 'a: !!str 1\n'],
    ['directives', '%YAML 1.2\n---\na: 1\n'],
    ['document end marker', 'a: 1\n...\n'],
    ['folded scalar', 'a: >\n  x\n'],
    ['keep chomping', 'a: |+\n  x\n'],
    ['multi-line plain scalar', 'a: one\n  two\n'],
    ['multi-line quoted scalar', 'a: "one\n  two"\n'],
    ['flow mapping', 'a: {b: 1}\n'],
    ['nested flow sequence', 'a: [[1]]\n'],
    ['duplicate keys', 'a: 1\na: 2\n'],
    ['hex number', 'a: 0x1f\n'],
    ['infinity', 'a: .inf\n'],
    ['complex key', '? a\n: b\n'],
    ['merge key', '<<: {}\n'],
    ['compact nested sequence', '- - a\n'],
    ['numeric key', '80: http\n'],
    ['syntax error: bad indentation', 'a:\n  b: 1\n c: 2\n'],
    ['syntax error: unclosed flow', 'a: [1, 2\n'],
    ['syntax error: compact mapping', 'key: x\n  bad: y\n'],
  ])('hands %s back to the yaml package', (_name, text) => {
    expect(parseSimpleYaml(text)).toBeUndefined();
  });

  it('takes the example cluster on the fast path, with the same result as the yaml package', () => {
    const got = parseSimpleYaml(EXAMPLE_CLUSTER_YAML);
    expect(got).toBeDefined();
    expect(got).toEqual(reference(EXAMPLE_CLUSTER_YAML));
  });

  it('agrees with the yaml package on 300 generated documents wherever it answers', () => {
    const rng = new SeededRng('parse-simple-yaml');
    const pick = <T>(xs: readonly T[]): T => xs[rng.nextU32() % xs.length] as T;
    const strings = [
      'nginx', 'a b', 'x: y', 'k#v', 'a #b', '#x', '- x', '-x', 'yes', 'no', 'on', 'true', 'Null', '~', '', ' lead',
      'trail ', '123', '0x1f', '1e5', '.inf', '12:30', 'é', 'line1\nline2', 'line1\nline2\n', '"q"', "'s'", '{a}',
      '[b]', '*x', '&y', '!t', '%p', '@a', '`b', '|', '>', 'a: b: c', 'http://x/y?z=1#f', 'k:{"name":"c"}',
    ];
    const value = (depth: number): unknown => {
      const r = rng.nextU32() % (depth > 3 ? 6 : 9);
      switch (r) {
        case 0:
          return pick(strings);
        case 1:
          return (rng.nextU32() % 200000) - 1000;
        case 2:
          return rng.nextU32() % 2 === 0;
        case 3:
          return null;
        case 4:
          return (rng.nextU32() % 1000) / 8;
        case 5:
          return pick(strings) + pick(strings);
        case 6:
        case 7: {
          const o: Record<string, unknown> = {};
          const n = rng.nextU32() % 4;
          for (let i = 0; i < n; i++) o[pick(['name', 'app.kubernetes.io/x', 'f:spec', 'a b', 'k:{"p":1}', '.', `k${i}`])] = value(depth + 1);
          return o;
        }
        default:
          return Array.from({ length: rng.nextU32() % 4 }, () => value(depth + 1));
      }
    };
    let answered = 0;
    for (let i = 0; i < 300; i++) {
      const docs = Array.from({ length: 1 + (rng.nextU32() % 3) }, () => ({ apiVersion: 'v1', kind: 'X', data: value(0) }));
      const text = docs.map((d) => stringify(d)).join('---\n');
      const got = parseSimpleYaml(text);
      if (got === undefined) continue;
      answered++;
      expect(got, text).toEqual(reference(text));
    }
    // The fast path must actually carry most of the load, or it is pointless.
    expect(answered).toBeGreaterThan(150);
  });
});
