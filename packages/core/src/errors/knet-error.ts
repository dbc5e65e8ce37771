/**
 * The closed set of error codes a knet API can throw.
 *
 * @remarks
 * errno names where Linux has one, so that a CLI can print what iproute2 prints
 * (`RTNETLINK answers: File exists` for `EEXIST`). `EPARSE` is a manifest or
 * text-format parse error, `ELIMIT` a configured limit (cloud route table,
 * pod CIDR exhaustion uses `ENOSPC`), `EUSAGE` a bad command line.
 */
export type KnetErrorCode =
  | 'EEXIST'
  | 'ENOENT'
  | 'ENODEV'
  | 'EINVAL'
  | 'ENETUNREACH'
  | 'ENOSPC'
  | 'EBUSY'
  | 'EPERM'
  | 'EOPNOTSUPP'
  | 'EPARSE'
  | 'ELIMIT'
  | 'EUSAGE'
  | 'EIO';

const MARK = Symbol.for('knet.error');

/** Structured context of a {@link KnetError}: where the problem is. */
export interface KnetErrorDetails {
  /** The file the bad input came from, when there is one. */
  readonly file?: string;
  /** Zero-based index of the YAML/JSON document inside the file. */
  readonly document?: number;
  /** Field path inside the document, e.g. `spec.podCIDR`. */
  readonly field?: string;
  /** Anything else worth keeping, machine-readable. */
  readonly [key: string]: unknown;
}

/** What the kernel/iproute2 prints for an errno, used by {@link formatKnetError}. */
export const ERRNO_TEXT: Readonly<Record<KnetErrorCode, string>> = {
  EEXIST: 'File exists',
  ENOENT: 'No such file or directory',
  ENODEV: 'No such device',
  EINVAL: 'Invalid argument',
  ENETUNREACH: 'Network is unreachable',
  ENOSPC: 'No space left on device',
  EBUSY: 'Device or resource busy',
  EPERM: 'Operation not permitted',
  EOPNOTSUPP: 'Operation not supported',
  EPARSE: 'Parse error',
  ELIMIT: 'Limit exceeded',
  EUSAGE: 'Usage error',
  EIO: 'Input/output error',
};

/**
 * The one error class of knet.
 *
 * @remarks Recognise it with {@link isKnetError}, which survives two installed copies of core.
 * @example
 * ```ts
 * import { KnetError, isKnetError } from '@knet/core';
 * try { throw new KnetError('EEXIST', 'route exists'); } catch (e) { if (isKnetError(e, 'EEXIST')) {} }
 * ```
 */
export class KnetError extends Error {
  readonly code: KnetErrorCode;
  readonly details: KnetErrorDetails;
  readonly [MARK] = true;

  constructor(code: KnetErrorCode, message: string, details: KnetErrorDetails = {}) {
    super(message);
    this.name = 'KnetError';
    this.code = code;
    this.details = details;
  }
}

/** True when `e` is a {@link KnetError} (optionally with the given code). */
export function isKnetError(e: unknown, code?: KnetErrorCode): e is KnetError {
  if (typeof e !== 'object' || e === null || (e as Record<symbol, unknown>)[MARK] !== true) return false;
  return code === undefined || (e as KnetError).code === code;
}

/**
 * Renders an error as one line: `file: document N: field: message`.
 *
 * @remarks Used by the CLI; never includes a stack trace.
 */
export function formatKnetError(e: KnetError): string {
  const d = e.details;
  const where: string[] = [];
  if (d.file !== undefined) where.push(d.file);
  if (d.document !== undefined) where.push(`document ${d.document}`);
  if (d.field !== undefined) where.push(d.field);
  return where.length > 0 ? `${where.join(': ')}: ${e.message}` : e.message;
}
