import { formatGoJsonIndent } from './go-json.js';

/**
 * The well-known CNI error codes (`pkg/types/types.go`), by their Go constant names.
 *
 * @remarks Codes 0–99 are reserved by the spec; plugins use 100 and up for their own.
 * `ErrInvalidNetNS` (8) and `ErrInternal` (999) exist only in the library, not in the spec's table.
 * @see https://github.com/containernetworking/cni/blob/main/SPEC.md#error
 * @see containernetworking/cni pkg/types/types.go
 */
export const CNI_ERROR_CODES = {
  ErrUnknown: 0,
  ErrIncompatibleCNIVersion: 1,
  ErrUnsupportedField: 2,
  ErrUnknownContainer: 3,
  ErrInvalidEnvironmentVariables: 4,
  ErrIOFailure: 5,
  ErrDecodingFailure: 6,
  ErrInvalidNetworkConfig: 7,
  ErrInvalidNetNS: 8,
  ErrTryAgainLater: 11,
  ErrPluginNotAvailable: 50,
  ErrLimitedConnectivity: 51,
  ErrInternal: 999,
} as const;

/** The error object a plugin prints on stdout, as libcni's `types.Error` marshals it. */
export interface CniErrorJson {
  readonly code: number;
  readonly msg: string;
  /** Omitted when empty (`json:"details,omitempty"`). */
  readonly details?: string;
}

/**
 * A CNI error: the spec's `code`, `msg` and `details`, thrown by plugin callbacks and by the
 * runtime, and printed by the skeleton as JSON on stdout.
 *
 * @remarks
 * Linux equivalent: libcni's `*types.Error`. Its `message` is what Go's `Error()` returns:
 * `msg`, or `msg; details` when there are details. The JSON has no `cniVersion`: libcni prints
 * only `code`, `msg` and `details` although the spec lists `cniVersion` (facts §10.7).
 * @see containernetworking/cni pkg/types/types.go `Error`
 * @example
 * ```ts
 * import { CniError } from '@knet/core';
 * const e = new CniError(7, 'missing network name');
 * e.toJSON(); // { code: 7, msg: 'missing network name' }
 * ```
 */
export class CniError extends Error {
  readonly code: number;
  readonly msg: string;
  readonly details: string;

  constructor(code: number, msg: string, details = '') {
    super(details === '' ? msg : `${msg}; ${details}`);
    this.name = 'CniError';
    this.code = code;
    this.msg = msg;
    this.details = details;
  }

  /** `{code, msg, details?}` in Go's field order. */
  toJSON(): CniErrorJson {
    return this.details === '' ? { code: this.code, msg: this.msg } : { code: this.code, msg: this.msg, details: this.details };
  }

  /** The text `types.Error.Print()` writes: indented with four spaces, no trailing newline. */
  format(): string {
    return formatGoJsonIndent(this.toJSON());
  }
}

/** True when `e` is a {@link CniError} (optionally with the given code). */
export function isCniError(e: unknown, code?: number): e is CniError {
  return e instanceof CniError && (code === undefined || e.code === code);
}

/**
 * Turns anything thrown by a plugin callback into the error skel prints: a {@link CniError}
 * stays as it is ("don't wrap Error in Error"), anything else becomes code 999 with its message.
 *
 * @see containernetworking/cni pkg/skel/skel.go `checkVersionAndCall`
 */
export function toCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (e instanceof Error) return new CniError(CNI_ERROR_CODES.ErrInternal, e.message);
  return new CniError(CNI_ERROR_CODES.ErrInternal, String(e));
}
