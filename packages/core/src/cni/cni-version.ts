import { CNI_ERROR_CODES, CniError } from './cni-error.js';
import { goQuote, goQuoteList, goUnmarshalTypeMessage, parseGoJson } from './go-json.js';

/** Every CNI spec version libcni knows, oldest first (`version.All`). @see containernetworking/cni pkg/version/version.go */
export const CNI_SPEC_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

/** A CNI spec version knet implements. */
export type CniSpecVersion = (typeof CNI_SPEC_VERSIONS)[number];

/** The spec version knet's library implements (`version.Current()`): VERSION replies carry it. */
export const CURRENT_CNI_VERSION = '1.1.0';

/**
 * Parses a CNI version as `version.ParseVersion` does: `""` is 0.1.0, at most three
 * dot-separated integer parts, missing parts are 0.
 *
 * @throws Error with Go's text: `invalid version "1.2.3.4": too many parts`, `failed to convert
 * major version part "x": strconv.Atoi: parsing "x": invalid syntax`.
 * @see containernetworking/cni pkg/version/plugin.go `ParseVersion`
 * @example
 * ```ts
 * import { parseCniVersion } from '@knet/core';
 * parseCniVersion('0.4'); // [0, 4, 0]
 * ```
 */
export function parseCniVersion(version: string): [number, number, number] {
  if (version === '') return [0, 1, 0];
  const parts = version.split('.');
  if (parts.length >= 4) throw new Error(`invalid version ${goQuote(version)}: too many parts`);
  const names = ['major', 'minor', 'micro'];
  const out: [number, number, number] = [0, 0, 0];
  parts.forEach((p, i) => {
    // strconv.Atoi: optional sign, decimal digits, fits in int64.
    if (!/^[+-]?\d+$/.test(p) || !Number.isSafeInteger(Number(p))) {
      throw new Error(`failed to convert ${names[i] as string} version part ${goQuote(p)}: strconv.Atoi: parsing ${goQuote(p)}: invalid syntax`);
    }
    out[i] = Number(p);
  });
  return out;
}

function compare(a: string, b: string): number {
  const x = parseCniVersion(a);
  const y = parseCniVersion(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return 0;
}

/** `version.GreaterThanOrEqualTo(a, b)`. @throws Error when either version does not parse. */
export function cniVersionAtLeast(version: string, other: string): boolean {
  return compare(version, other) >= 0;
}

/** `version.GreaterThan(a, b)`. @throws Error when either version does not parse. */
export function cniVersionGreaterThan(version: string, other: string): boolean {
  return compare(version, other) > 0;
}

/**
 * The config version skel and libcni read from a config (`version.ConfigDecoder`): its
 * `cniVersion`, or "0.1.0" when absent or empty.
 *
 * @throws CniError code 6 with Go's text when the JSON does not decode.
 * @see containernetworking/cni pkg/version/conf.go
 */
export function decodeConfigVersion(stdin: string): string {
  let conf: unknown;
  try {
    conf = parseGoJson(stdin);
  } catch (e) {
    throw new CniError(CNI_ERROR_CODES.ErrDecodingFailure, `decoding version from network config: ${(e as Error).message}`);
  }
  const v = conf !== null && typeof conf === 'object' && !Array.isArray(conf) ? (conf as Record<string, unknown>)['cniVersion'] : undefined;
  if (v !== undefined && v !== null && typeof v !== 'string') {
    throw new CniError(
      CNI_ERROR_CODES.ErrDecodingFailure,
      `decoding version from network config: ${goUnmarshalTypeMessage(v, '', 'cniVersion', 'string')}`,
    );
  }
  return typeof v === 'string' && v !== '' ? v : '0.1.0';
}

/**
 * The VERSION reply of a plugin: the library's current version and the versions the plugin
 * supports (`version.PluginInfo`).
 */
export interface CniVersionInfo {
  readonly cniVersion: string;
  readonly supportedVersions: readonly string[];
}

/**
 * `version.Reconciler.Check`: the config's version must be one of the plugin's, exactly.
 *
 * @throws CniError code 1 `incompatible CNI versions`, details `config is "X", plugin supports ["a" "b"]`.
 * @see containernetworking/cni pkg/version/reconcile.go
 */
export function checkCniVersionSupported(configVersion: string, supportedVersions: readonly string[]): void {
  if (supportedVersions.includes(configVersion)) return;
  throw new CniError(
    CNI_ERROR_CODES.ErrIncompatibleCNIVersion,
    'incompatible CNI versions',
    `config is ${goQuote(configVersion)}, plugin supports ${goQuoteList(supportedVersions)}`,
  );
}

/**
 * Decodes a VERSION reply as libcni's `version.PluginDecoder` does. A reply without
 * `supportedVersions` is accepted only for `cniVersion` "0.2.0" and read as `["0.1.0","0.2.0"]`.
 *
 * @throws Error with libcni's texts: `decoding version info: missing field cniVersion`,
 * `decoding version info: missing field supportedVersions`, or the JSON error.
 * @see containernetworking/cni pkg/version/plugin.go `PluginDecoder.Decode`
 */
export function decodeCniVersionInfo(stdout: string): CniVersionInfo {
  let raw: unknown;
  try {
    raw = parseGoJson(stdout);
  } catch (e) {
    throw new Error(`decoding version info: ${(e as Error).message}`);
  }
  const obj = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const v = obj['cniVersion'];
  if (typeof v !== 'string' || v === '') throw new Error('decoding version info: missing field cniVersion');
  const list = obj['supportedVersions'];
  if (!Array.isArray(list) || list.length === 0) {
    if (v === '0.2.0') return { cniVersion: v, supportedVersions: ['0.1.0', '0.2.0'] };
    throw new Error('decoding version info: missing field supportedVersions');
  }
  return { cniVersion: v, supportedVersions: list.map(String) };
}
