import { CNI_ERROR_CODES, CniError } from './cni-error.js';
import type { CniNetConfList, CniPluginConf } from './cni-types.js';
import { cniVersionGreaterThan, CURRENT_CNI_VERSION } from './cni-version.js';
import { formatGoJson, goQuote, parseGoJson } from './go-json.js';
import { validateNetworkName } from './validate-cni-names.js';

/** Go's `%T` of a value decoded into `interface{}`. */
function goTypeOf(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

function invalid(message: string): never {
  throw new CniError(CNI_ERROR_CODES.ErrInvalidNetworkConfig, message);
}

function decode(text: string, prefix: string): unknown {
  try {
    return parseGoJson(text);
  } catch (e) {
    throw new CniError(CNI_ERROR_CODES.ErrDecodingFailure, `${prefix}: ${(e as Error).message}`);
  }
}

/**
 * Checks one plugin object as libcni's `ConfFromBytes` does: a JSON object with a string `type`,
 * and `capabilities`, if any, a map of booleans.
 *
 * @throws CniError code 7 `error parsing configuration: missing 'type'` and Go's type errors;
 * code 6 when the text is not JSON.
 * @see containernetworking/cni libcni/conf.go `ConfFromBytes`
 */
export function parseCniPluginConf(text: string): CniPluginConf {
  const raw = decode(text, 'error parsing configuration');
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    invalid(`error parsing configuration: json: cannot unmarshal ${Array.isArray(raw) ? 'array' : typeof raw === 'string' ? 'string' : typeof raw === 'number' ? 'number' : 'bool'} into Go value of type types.PluginConf`);
  }
  const conf = raw as Record<string, unknown>;
  for (const key of ['type', 'name', 'cniVersion'] as const) {
    const v = conf[key];
    if (v !== undefined && v !== null && typeof v !== 'string') {
      invalid(`error parsing configuration: json: cannot unmarshal ${goTypeOf(v) === 'float64' ? 'number' : goTypeOf(v)} into Go struct field PluginConf.${key} of type string`);
    }
  }
  const caps = conf['capabilities'];
  if (caps !== undefined && caps !== null) {
    if (typeof caps !== 'object' || Array.isArray(caps) || !Object.values(caps).every((b) => typeof b === 'boolean')) {
      invalid('error parsing configuration: json: cannot unmarshal into Go struct field PluginConf.capabilities of type map[string]bool');
    }
  }
  if (typeof conf['type'] !== 'string' || conf['type'] === '') invalid("error parsing configuration: missing 'type'");
  return conf as unknown as CniPluginConf;
}

/**
 * Parses a network configuration list as libcni's `NetworkConfFromBytes` (formerly
 * `ConfListFromBytes`) does, and checks the network name.
 *
 * @remarks
 * - `name` must be a string, and a valid network name (libcni checks the name when it runs the
 *   list; knet checks it here, with the same code 7 texts).
 * - `cniVersions` (1.1): entries newer than 1.1.0 are dropped, `cniVersion` joins the rest, and
 *   the highest wins.
 * - `disableCheck`, `disableGC` and `loadOnlyInlinedPlugins` are bools or the strings
 *   `"true"`/`"false"` (any case).
 * - `plugins` must be a non-empty list of objects with a `type`.
 *
 * @throws CniError code 6 when the text is not JSON; code 7 with libcni's texts, e.g.
 * `error parsing configuration list: no name`, `error parsing configuration list: no plugins in
 * list`, `error parsing configuration list: invalid value "yes" for disableCheck`, `failed to
 * parse plugin config 0: error parsing configuration: missing 'type'`.
 * @see containernetworking/cni libcni/conf.go
 * @example
 * ```ts
 * import { parseCniNetConfList } from '@knet/core';
 * const list = parseCniNetConfList('{"cniVersion":"1.0.0","cniVersions":["0.4.0","1.1.0","2.0.0"],"name":"kubenet","plugins":[{"type":"bridge"}]}');
 * list.cniVersion; // '1.1.0'
 * ```
 */
export function parseCniNetConfList(text: string): CniNetConfList {
  const raw = decode(text, 'error parsing configuration list');
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    invalid(`error parsing configuration list: json: cannot unmarshal ${goTypeOf(raw) === 'float64' ? 'number' : Array.isArray(raw) ? 'array' : goTypeOf(raw)} into Go value of type map[string]interface {}`);
  }
  const rawList = raw as Record<string, unknown>;
  if (!('name' in rawList)) invalid('error parsing configuration list: no name');
  const name = rawList['name'];
  if (typeof name !== 'string') invalid(`error parsing configuration list: invalid name type ${goTypeOf(name)}`);

  let cniVersion = '';
  if ('cniVersion' in rawList) {
    const v = rawList['cniVersion'];
    if (typeof v !== 'string') invalid(`error parsing configuration list: invalid cniVersion type ${goTypeOf(v)}`);
    cniVersion = v;
  }

  if ('cniVersions' in rawList) {
    const rvs = rawList['cniVersions'];
    if (!Array.isArray(rvs)) invalid(`error parsing configuration list: invalid type for cniVersions: ${goTypeOf(rvs)}`);
    const vs: string[] = [];
    rvs.forEach((rv, i) => {
      if (typeof rv !== 'string') invalid(`error parsing configuration list: invalid type for cniVersions index ${i}: ${goTypeOf(rv)}`);
      let newer: boolean;
      try {
        newer = cniVersionGreaterThan(rv, CURRENT_CNI_VERSION);
      } catch (e) {
        invalid(`error parsing configuration list: invalid cniVersions entry ${rv} at index ${i}: ${(e as Error).message}`);
      }
      if (!newer) vs.push(rv);
    });
    if (cniVersion !== '') {
      let newer: boolean;
      try {
        newer = cniVersionGreaterThan(cniVersion, CURRENT_CNI_VERSION);
      } catch (e) {
        invalid(`error parsing configuration list: invalid cniVersion ${cniVersion}: ${(e as Error).message}`);
      }
      if (!newer) vs.push(cniVersion);
    }
    vs.sort((a, b) => (a === b ? 0 : cniVersionGreaterThan(a, b) ? 1 : -1));
    const highest = vs[vs.length - 1];
    if (highest !== undefined) cniVersion = highest;
  }

  const readBool = (key: string): boolean => {
    if (!(key in rawList)) return false;
    const v = rawList[key];
    if (typeof v === 'boolean') return v;
    if (typeof v !== 'string') invalid(`error parsing configuration list: invalid type ${goTypeOf(v)} for ${key}`);
    const s = v.toLowerCase();
    if (s === 'false') return false;
    if (s === 'true') return true;
    return invalid(`error parsing configuration list: invalid value ${goQuote(s)} for ${key}`);
  };
  const disableCheck = readBool('disableCheck');
  const disableGC = readBool('disableGC');
  const loadOnlyInlinedPlugins = readBool('loadOnlyInlinedPlugins');

  validateNetworkName(name);

  if (!('plugins' in rawList)) {
    if (loadOnlyInlinedPlugins) invalid("error parsing configuration list: `loadOnlyInlinedPlugins` is true, and no 'plugins' key");
    // libcni would append plugins from a sibling directory here; knet reads inline plugins only.
    invalid('error parsing configuration list: no plugins in list');
  }
  const plug = rawList['plugins'];
  if (!Array.isArray(plug)) invalid(`error parsing configuration list: invalid 'plugins' type ${goTypeOf(plug)}`);
  if (plug.length === 0) invalid('error parsing configuration list: no plugins in list');
  const plugins = plug.map((p, i) => {
    try {
      return parseCniPluginConf(formatGoJson(p));
    } catch (e) {
      throw new CniError((e as CniError).code, `failed to parse plugin config ${i}: ${(e as CniError).msg}`, (e as CniError).details);
    }
  });
  return { name, cniVersion, disableCheck, disableGC, loadOnlyInlinedPlugins, plugins, bytes: text };
}

/**
 * Wraps a single plugin config (`*.conf`) into a list, as libcni's `ConfListFromConf` does:
 * the list takes the config's `name` and `cniVersion`.
 *
 * @see containernetworking/cni libcni/conf.go `ConfListFromConf`
 */
export function cniConfListFromConf(conf: CniPluginConf): CniNetConfList {
  const list = { cniVersion: conf.cniVersion ?? '', name: conf.name ?? '', plugins: [conf] };
  return parseCniNetConfList(formatGoJson(list));
}
