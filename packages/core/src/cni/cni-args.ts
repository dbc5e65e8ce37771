import { goQuote } from './go-json.js';

/**
 * Splits `CNI_ARGS` (`K1=V1;K2=V2`) into its pairs, in order.
 *
 * @remarks An empty string has no pairs. Each pair must split on `=` into exactly two parts, as
 * `types.LoadArgs` requires (so a value cannot contain `=`).
 * @throws Error `ARGS: invalid pair "<pair>"`.
 * @see containernetworking/cni pkg/types/args.go `LoadArgs`
 * @example
 * ```ts
 * import { splitCniArgs } from '@knet/core';
 * splitCniArgs('IgnoreUnknown=1;K8S_POD_NAME=web'); // [['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'web']]
 * ```
 */
export function splitCniArgs(args: string): [string, string][] {
  if (args === '') return [];
  return args.split(';').map((pair) => {
    const kv = pair.split('=');
    if (kv.length !== 2) throw new Error(`ARGS: invalid pair ${goQuote(pair)}`);
    return [kv[0] as string, kv[1] as string];
  });
}

/** `CNI_ARGS` as a plugin reads them: the known keys, and whether unknown ones were allowed. */
export interface CniArgs {
  /** Values of the known keys present (last occurrence wins, as Go overwrites the field). */
  readonly values: Readonly<Record<string, string>>;
  /** `IgnoreUnknown=1|true` was given. */
  readonly ignoreUnknown: boolean;
}

/** The keys Kubernetes runtimes send (kubelet's dockershim, containerd, CRI-O). */
export const K8S_CNI_ARGS = ['K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_INFRA_CONTAINER_ID', 'K8S_POD_UID'] as const;

/** `types.UnmarshallableBool`: `1`/`true` and `0`/`false`, case-insensitive. */
function parseBool(pair: string, value: string): boolean {
  const s = value.toLowerCase();
  if (s === '1' || s === 'true') return true;
  if (s === '0' || s === 'false') return false;
  // The stray ")" is upstream's.
  throw new Error(`ARGS: error parsing value of pair ${goQuote(pair)}: boolean unmarshal error: invalid input ${s})`);
}

/**
 * Parses `CNI_ARGS` into the keys a plugin knows, as `types.LoadArgs` fills a Go struct that
 * embeds `types.CommonArgs`: `IgnoreUnknown` is always known; any other key must be in `known`
 * unless `IgnoreUnknown` is true.
 *
 * @param known The plugin's fields (exact, case-sensitive names, as Go's `FieldByName`).
 * @param validate Optional per-key check; its error message follows `ARGS: error parsing value of
 * pair "<pair>": ` as upstream's `UnmarshalText` errors do.
 * @throws Error with upstream's texts: `ARGS: invalid pair "<pair>"`, `ARGS: unknown args
 * ["K=V"]`, `ARGS: error parsing value of pair "<pair>": ...)`.
 * @see containernetworking/cni pkg/types/args.go
 * @example
 * ```ts
 * import { parseCniArgs } from '@knet/core';
 * parseCniArgs('IgnoreUnknown=1;IP=10.244.1.9;K8S_POD_NAME=web', ['IP']).values; // { IP: '10.244.1.9' }
 * ```
 */
export function parseCniArgs(
  args: string,
  known: readonly string[],
  validate?: (key: string, value: string) => void,
): CniArgs {
  const values: Record<string, string> = {};
  const unknown: string[] = [];
  let ignoreUnknown = false;
  // Pair by pair, as Go does: an earlier bad value is reported before a later bad pair.
  for (const pair of args === '' ? [] : args.split(';')) {
    const kv = pair.split('=');
    if (kv.length !== 2) throw new Error(`ARGS: invalid pair ${goQuote(pair)}`);
    const [k, v] = kv as [string, string];
    if (k === 'IgnoreUnknown') {
      ignoreUnknown = parseBool(pair, v);
      continue;
    }
    if (!known.includes(k)) {
      unknown.push(pair);
      continue;
    }
    if (validate !== undefined) {
      try {
        validate(k, v);
      } catch (e) {
        throw new Error(`ARGS: error parsing value of pair ${goQuote(pair)}: ${(e as Error).message})`);
      }
    }
    values[k] = v;
  }
  if (unknown.length > 0 && !ignoreUnknown) throw new Error(`ARGS: unknown args [${unknown.map(goQuote).join(' ')}]`);
  return { values, ignoreUnknown };
}

/**
 * Renders pairs back into `CNI_ARGS` (`K=V;K=V`), as libcni's `invoke.Args` does with a
 * runtime's `Args`.
 *
 * @see containernetworking/cni pkg/invoke/args.go `stringify`
 */
export function formatCniArgs(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([k, v]) => `${k}=${v}`).join(';');
}
