import { describe, expect, it } from 'vitest';
import { fixtureIndex } from '../../test/netpol/cluster-fixture.js';
import { formatReachabilityCsv, formatReachabilityDot, formatReachabilityJson, formatReachabilityMarkdown, formatReachabilityTable, REACH_SCHEMA } from './format-reachability.js';
import { computeReachabilityMatrix } from './reachability-matrix.js';

// x/a and x/b accept TCP/80 from pods of x only; y/c is open.
const index = fixtureIndex({
  pods: [{ key: 'x/a' }, { key: 'x/b' }, { key: 'y/c', node: 2 }],
  policies: [{ namespace: 'x', name: 'same-ns', spec: { podSelector: {}, ingress: [{ from: [{ podSelector: {} }], ports: [{ port: 80 }] }] } }],
});
const m80 = computeReachabilityMatrix(index, 80, 'TCP');
const m81 = computeReachabilityMatrix(index, 81, 'TCP');

describe('formatReachabilityTable', () => {
  it('groups equivalent pods and prints . / X per group pair', () => {
    expect(formatReachabilityTable([m80])).toBe(
      [
        'TCP/80: 3 pods in 2 groups (. allowed, X denied; a pod may always reach itself)',
        '',
        'GROUP  PODS',
        '1      x/* (2 pods)',
        '2      y/c',
        '',
        'FROM\\TO  1  2',
        '1        .  .',
        '2        X  .',
        '',
      ].join('\n'),
    );
  });

  it('shows the value between distinct members of a group on the diagonal (X when they cannot reach each other)', () => {
    const table = formatReachabilityTable([m81]);
    expect(table).toContain('1      x/* (2 pods)');
    expect(table.split('\n').slice(-3)).toEqual(['1        X  .', '2        X  .', '']);
  });
});

describe('formatReachabilityJson', () => {
  it('prints the schema, the pods and one entry per ordered pair per matrix, row-major', () => {
    const doc = JSON.parse(formatReachabilityJson([m80, m81])) as { schema: string; pods: string[]; matrix: { from: string; to: string; port: number; protocol: string; allowed: boolean }[] };
    expect(doc.schema).toBe(REACH_SCHEMA);
    expect(doc.pods).toEqual(['x/a', 'x/b', 'y/c']);
    expect(doc.matrix).toHaveLength(18);
    expect(doc.matrix.slice(0, 3)).toEqual([
      { from: 'x/a', to: 'x/a', port: 80, protocol: 'TCP', allowed: true },
      { from: 'x/a', to: 'x/b', port: 80, protocol: 'TCP', allowed: true },
      { from: 'x/a', to: 'y/c', port: 80, protocol: 'TCP', allowed: true },
    ]);
    expect(doc.matrix.filter((e) => e.port === 81 && !e.allowed).map((e) => `${e.from}>${e.to}`)).toEqual(['x/a>x/b', 'x/b>x/a', 'y/c>x/a', 'y/c>x/b']);
  });
});

describe('formatReachabilityCsv', () => {
  it('prints a header and one line per ordered pair', () => {
    const lines = formatReachabilityCsv([m80]).trimEnd().split('\n');
    expect(lines[0]).toBe('from,to,port,protocol,allowed');
    expect(lines).toHaveLength(10);
    expect(lines[7]).toBe('y/c,x/a,80,TCP,false');
  });
});

describe('formatReachabilityMarkdown', () => {
  it('prints the groups and the grouped table', () => {
    expect(formatReachabilityMarkdown([m80])).toBe(
      [
        '## TCP/80',
        '',
        'Pods that behave identically share a group; a pod may always reach itself.',
        '',
        '| group | pods |',
        '|---|---|',
        '| 1 | x/* (2 pods) |',
        '| 2 | y/c |',
        '',
        '| from \\ to | 1 | 2 |',
        '|---|---|---|',
        '| 1 | ✓ | ✓ |',
        '| 2 | ✗ | ✓ |',
        '',
      ].join('\n'),
    );
  });
});

describe('formatReachabilityDot', () => {
  it('clusters pods by namespace and labels edges with the ports they are allowed on', () => {
    expect(formatReachabilityDot([m80, m81])).toBe(
      [
        'digraph reach {',
        '  rankdir=LR;',
        '  node [shape=box, fontname="Helvetica"];',
        '  subgraph cluster_0 {',
        '    label="x";',
        '    "x/a" [label="a"];',
        '    "x/b" [label="b"];',
        '  }',
        '  subgraph cluster_1 {',
        '    label="y";',
        '    "y/c" [label="c"];',
        '  }',
        '  "x/a" -> "x/b" [label="TCP/80"];',
        '  "x/a" -> "y/c" [label="TCP/80, TCP/81"];',
        '  "x/b" -> "x/a" [label="TCP/80"];',
        '  "x/b" -> "y/c" [label="TCP/80, TCP/81"];',
        '}',
        '',
      ].join('\n'),
    );
  });
});
