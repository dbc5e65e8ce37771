import { buildClusterState, loadExampleCluster } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../cli-error.js';
import { labNamesOverlap, labPrefix, parseLabName, withLabName } from './lab-name.js';

describe('parseLabName', () => {
  it.each(['example', 't1234', 'a', 'my-lab-2', 'x'.repeat(40)])('accepts %s', (name) => {
    expect(parseLabName(name)).toBe(name);
  });
  it.each(['', 'Example', '-a', 'a-', 'a_b', 'a.b', 'a/b', '../x', 'x'.repeat(41), 'knet lab'])('refuses "%s"', (name) => {
    expect(() => parseLabName(name)).toThrow(UsageError);
  });
});

describe('labPrefix', () => {
  it('is knet-<name>- so that every namespace of the lab passes LinuxHost`s prefix check', () => {
    expect(labPrefix('example')).toBe('knet-example-');
  });
});

describe('labNamesOverlap', () => {
  it.each([
    ['a', 'a-b', true],
    ['a-b', 'a', true],
    ['a', 'ab', false],
    ['kd', 'kd1', false],
    ['a', 'a', false],
    ['lab-1', 'lab-12', false],
    ['lab', 'lab-node', true],
  ])('%s and %s: %s', (a, b, overlap) => {
    expect(labNamesOverlap(a, b)).toBe(overlap);
  });
});

describe('withLabName', () => {
  it('renames the cluster (which names its namespaces) and leaves the rest alone', () => {
    const state = buildClusterState(loadExampleCluster());
    const renamed = withLabName(state, 't1');
    expect(renamed.cluster.name).toBe('t1');
    expect(renamed.cluster.cni).toBe(state.cluster.cni);
    expect(renamed.pods).toBe(state.pods);
    expect(state.cluster.name).toBe('example');
    expect(withLabName(state, 'example')).toBe(state);
  });
});
