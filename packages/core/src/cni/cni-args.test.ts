import { describe, expect, it } from 'vitest';
import { formatCniArgs, parseCniArgs, splitCniArgs } from './cni-args.js';

describe('parseCniArgs', () => {
  it.each<[string, readonly string[], Record<string, string> | string]>([
    ['', ['IP'], {}],
    ['IP=10.0.0.5', ['IP'], { IP: '10.0.0.5' }],
    ['IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;IP=10.0.0.5', ['IP'], { IP: '10.0.0.5' }],
    ['IgnoreUnknown=TRUE;FOO=1', [], {}],
    ['FOO=1;BAR=2', ['IP'], 'ARGS: unknown args ["FOO=1" "BAR=2"]'],
    ['FOO', ['IP'], 'ARGS: invalid pair "FOO"'],
    ['A=1;;B=2', ['A', 'B'], 'ARGS: invalid pair ""'],
    ['IP=a=b', ['IP'], 'ARGS: invalid pair "IP=a=b"'],
    ['IgnoreUnknown=yes', [], 'ARGS: error parsing value of pair "IgnoreUnknown=yes": boolean unmarshal error: invalid input yes)'],
    ['IgnoreUnknown=0;FOO=1', [], 'ARGS: unknown args ["FOO=1"]'],
  ])('%j with known %j', (args, known, want) => {
    if (typeof want === 'string') expect(() => parseCniArgs(args, known)).toThrow(want);
    else expect(parseCniArgs(args, known).values).toEqual(want);
  });

  it('reports a bad value through the plugin check, in upstream form', () => {
    expect(() =>
      parseCniArgs('IP=x', ['IP'], () => {
        throw new Error('invalid IP address: x');
      }),
    ).toThrow('ARGS: error parsing value of pair "IP=x": invalid IP address: x)');
  });

  it('splits and joins pairs', () => {
    expect(splitCniArgs('A=1;B=2')).toEqual([['A', '1'], ['B', '2']]);
    expect(formatCniArgs([['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'web']])).toBe('IgnoreUnknown=1;K8S_POD_NAME=web');
  });
});
