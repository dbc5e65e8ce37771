import { isKnetError } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { labExec, labTargetNetns } from './lab-exec.js';
import type { LabState } from './lab-state.js';

const lab: LabState = {
  version: 1,
  name: 'x',
  prefix: 'knet-x-',
  status: 'up',
  createdAt: '2026-01-01T00:00:00.000Z',
  pid: 1,
  cni: 'kubenet',
  kubeProxy: 'iptables',
  manifests: [],
  fabric: 'knet-x-fabric',
  outside: 'knet-x-outside',
  nodes: { 'node-1': 'knet-x-node-node-1' },
  pods: [
    { key: 'default/client', node: 'node-1', netns: 'knet-x-pod-default-client', ip: '10.244.0.4', hostNetwork: false },
    { key: 'kube-system/kube-proxy-a', node: 'node-1', netns: 'knet-x-node-node-1', ip: '172.18.0.2', hostNetwork: true },
  ],
  echoServers: [],
};

describe('labTargetNetns', () => {
  it.each([
    ['default/client', 'knet-x-pod-default-client'],
    ['client', 'knet-x-pod-default-client'],
    ['kube-system/kube-proxy-a', 'knet-x-node-node-1'],
    ['node/node-1', 'knet-x-node-node-1'],
    ['fabric', 'knet-x-fabric'],
    ['outside', 'knet-x-outside'],
  ])('%s → %s', (target, ns) => {
    expect(labTargetNetns(lab, target)).toBe(ns);
  });
  it.each(['default/nope', 'node/node-9', 'shop/client'])('%s is ENOENT', (target) => {
    let err: unknown;
    try {
      labTargetNetns(lab, target);
    } catch (e) {
      err = e;
    }
    expect(isKnetError(err, 'ENOENT')).toBe(true);
  });
});

describe('labExec', () => {
  it('refuses a namespace outside the lab (EPERM) and an empty command (EINVAL) before running anything', () => {
    const codeOf = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return isKnetError(e) ? e.code : 'other';
      }
      return undefined;
    };
    expect(codeOf(() => labExec(lab, 'knet-y-fabric', ['true'], { inherit: false }))).toBe('EPERM');
    expect(codeOf(() => labExec(lab, 'knet-x-fabric', [], { inherit: false }))).toBe('EINVAL');
  });
});
