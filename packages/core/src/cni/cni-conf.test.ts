import { describe, expect, it } from 'vitest';
import { cniConfListFromConf, parseCniNetConfList } from './cni-conf.js';
import { cniVersionAtLeast, cniVersionGreaterThan, parseCniVersion } from './cni-version.js';

function failure(text: string): { code: number; msg: string } {
  try {
    parseCniNetConfList(text);
  } catch (e) {
    const err = e as { code: number; msg: string };
    return { code: err.code, msg: err.msg };
  }
  throw new Error('expected a failure');
}

describe('parseCniNetConfList', () => {
  it('reads a list, its flags as bools or strings, and keeps the bytes', () => {
    const text = '{"cniVersion":"1.0.0","name":"kubenet","disableCheck":"TRUE","disableGC":false,"plugins":[{"type":"loopback"},{"type":"bridge","bridge":"cbr0"}]}';
    const list = parseCniNetConfList(text);
    expect(list).toMatchObject({ name: 'kubenet', cniVersion: '1.0.0', disableCheck: true, disableGC: false, loadOnlyInlinedPlugins: false, bytes: text });
    expect(list.plugins).toEqual([{ type: 'loopback' }, { type: 'bridge', bridge: 'cbr0' }]);
  });

  it.each([
    [{ cniVersion: '1.0.0', cniVersions: ['0.4.0', '1.1.0', '2.0.0'] }, '1.1.0'],
    [{ cniVersion: '1.0.0', cniVersions: ['0.3.1'] }, '1.0.0'],
    [{ cniVersions: ['0.3.1', '0.4.0'] }, '0.4.0'],
    [{ cniVersion: '3.0.0', cniVersions: ['0.4.0'] }, '0.4.0'],
    [{ cniVersions: [] }, ''],
  ])('picks the version from %j → %s', (v, want) => {
    expect(parseCniNetConfList(JSON.stringify({ ...v, name: 'n', plugins: [{ type: 'x' }] })).cniVersion).toBe(want);
  });

  it.each<[string, number, string]>([
    ['{"name":', 6, 'error parsing configuration list: unexpected end of JSON input'],
    ['{"plugins":[{"type":"x"}]}', 7, 'error parsing configuration list: no name'],
    ['{"name":5,"plugins":[{"type":"x"}]}', 7, 'error parsing configuration list: invalid name type float64'],
    ['{"name":"a b","plugins":[{"type":"x"}]}', 7, 'invalid characters found in network name'],
    ['{"name":"n","plugins":[]}', 7, 'error parsing configuration list: no plugins in list'],
    ['{"name":"n","plugins":{}}', 7, "error parsing configuration list: invalid 'plugins' type map[string]interface {}"],
    ['{"name":"n","plugins":[{"type":"x"}],"disableCheck":"yes"}', 7, 'error parsing configuration list: invalid value "yes" for disableCheck'],
    ['{"name":"n","plugins":[{"type":"x"}],"disableGC":1}', 7, 'error parsing configuration list: invalid type float64 for disableGC'],
    ['{"name":"n","plugins":[{"type":"x"}],"cniVersions":"1.0.0"}', 7, 'error parsing configuration list: invalid type for cniVersions: string'],
    ['{"name":"n","plugins":[{"type":"x"}],"cniVersions":[1]}', 7, 'error parsing configuration list: invalid type for cniVersions index 0: float64'],
    ['{"name":"n","plugins":[{"bridge":"cbr0"}]}', 7, "failed to parse plugin config 0: error parsing configuration: missing 'type'"],
    ['{"name":"n","loadOnlyInlinedPlugins":true}', 7, "error parsing configuration list: `loadOnlyInlinedPlugins` is true, and no 'plugins' key"],
  ])('%s → code %i %s', (text, code, msg) => {
    expect(failure(text)).toEqual({ code, msg });
  });

  it('wraps a single config as a list with its name and version', () => {
    const list = cniConfListFromConf({ cniVersion: '0.4.0', name: 'kubenet', type: 'bridge' });
    expect(list).toMatchObject({ name: 'kubenet', cniVersion: '0.4.0', plugins: [{ cniVersion: '0.4.0', name: 'kubenet', type: 'bridge' }] });
  });
});

describe('parseCniVersion', () => {
  it.each<[string, [number, number, number] | string]>([
    ['', [0, 1, 0]],
    ['1', [1, 0, 0]],
    ['0.4', [0, 4, 0]],
    ['1.1.0', [1, 1, 0]],
    ['1.1.0.1', 'invalid version "1.1.0.1": too many parts'],
    ['1.x', 'failed to convert minor version part "x": strconv.Atoi: parsing "x": invalid syntax'],
  ])('%j → %j', (v, want) => {
    if (typeof want === 'string') expect(() => parseCniVersion(v)).toThrow(want);
    else expect(parseCniVersion(v)).toEqual(want);
  });

  it('compares versions numerically', () => {
    expect(cniVersionAtLeast('0.10.0', '0.4.0')).toBe(true);
    expect(cniVersionAtLeast('0.3.1', '0.4.0')).toBe(false);
    expect(cniVersionGreaterThan('1.1.0', '1.1.0')).toBe(false);
  });
});
