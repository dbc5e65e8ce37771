import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKnetError } from '@knet/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LAB_DIR, labDir, labFilesDir, labStatePath, listLabNames, readLabState, removeLabState, writeLabState, type LabState } from './lab-state.js';

const state = (name: string): LabState => ({
  version: 1,
  name,
  prefix: `knet-${name}-`,
  status: 'up',
  createdAt: '2026-01-01T00:00:00.000Z',
  pid: 1,
  cni: 'kubenet',
  kubeProxy: 'iptables',
  manifests: [{ file: 'a.yaml', text: 'kind: List\n' }],
  fabric: `knet-${name}-fabric`,
  outside: `knet-${name}-outside`,
  nodes: { 'node-1': `knet-${name}-node-node-1` },
  pods: [{ key: 'default/a', node: 'node-1', netns: `knet-${name}-pod-default-a`, ip: '10.244.0.2', hostNetwork: false }],
  echoServers: [{ netns: `knet-${name}-pod-default-a`, pid: 42, tcp: [80], udp: [] }],
});

let dir = '';
const saved = process.env['KNET_LAB_DIR'];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'knet-lab-state-'));
  process.env['KNET_LAB_DIR'] = join(dir, 'labs');
});
afterEach(() => {
  if (saved === undefined) delete process.env['KNET_LAB_DIR'];
  else process.env['KNET_LAB_DIR'] = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('labDir', () => {
  it('is $KNET_LAB_DIR, else /run/knet/labs', () => {
    expect(labDir()).toBe(join(dir, 'labs'));
    expect(labStatePath('x')).toBe(join(dir, 'labs', 'x.json'));
    process.env['KNET_LAB_DIR'] = '';
    expect(labDir()).toBe(DEFAULT_LAB_DIR);
    expect(DEFAULT_LAB_DIR).toBe('/run/knet/labs');
  });
});

describe('writeLabState', () => {
  it('writes what readLabState reads back, creating the directory; listLabNames lists it', () => {
    expect(listLabNames()).toEqual([]);
    expect(readLabState('b')).toBeUndefined();
    writeLabState(state('b'));
    writeLabState(state('a'));
    expect(readLabState('b')).toEqual(state('b'));
    expect(listLabNames()).toEqual(['a', 'b']);
  });
});

describe('readLabState', () => {
  it.each([
    ['not JSON', '{'],
    ['another version', JSON.stringify({ ...state('c'), version: 2 })],
    ['another lab', JSON.stringify(state('d'))],
  ])('refuses %s with EPARSE', (_, text) => {
    mkdirSync(labDir(), { recursive: true });
    writeFileSync(labStatePath('c'), text);
    let err: unknown;
    try {
      readLabState('c');
    } catch (e) {
      err = e;
    }
    expect(isKnetError(err, 'EPARSE')).toBe(true);
  });
});

describe('removeLabState', () => {
  it('removes the state file and the files directory; nothing there is fine', () => {
    writeLabState(state('e'));
    mkdirSync(labFilesDir('e'), { recursive: true });
    writeFileSync(join(labFilesDir('e'), 'echo-server.mjs'), '');
    removeLabState('e');
    expect(existsSync(labStatePath('e'))).toBe(false);
    expect(existsSync(labFilesDir('e'))).toBe(false);
    removeLabState('e');
    expect(listLabNames()).toEqual([]);
  });
});
