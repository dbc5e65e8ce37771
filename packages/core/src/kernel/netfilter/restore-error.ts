import { KnetError } from '../../errors/knet-error.js';

/**
 * How iptables-restore (legacy, 1.8.9) reports a failure, which decides the exact text it prints.
 *
 * - `parameter`: an xtables_error(PARAMETER_PROBLEM) while parsing a line; prints the program
 *   prefix, the message, `Error occurred at line: N` and the `Try ...` hint.
 * - `bad-argument`: a stray word; like `parameter` but without the program prefix.
 * - `line-failed`: a libiptc or kernel refusal; prints only `iptables-restore: line N failed`.
 * - `other`: an xtables_error(OTHER_PROBLEM) (policy errors); prefix and message only.
 * - `commit-expected`: end of input inside a table.
 */
export type RestoreErrorKind = 'parameter' | 'bad-argument' | 'line-failed' | 'other' | 'commit-expected';

/** The program prefix legacy iptables-restore 1.8.9 prints before xtables_error messages. */
export const IPTABLES_RESTORE_PREFIX = 'iptables-restore v1.8.9 (legacy): ';

const TRY_HELP = "Try `iptables-restore -h' or 'iptables-restore --help' for more information.\n";

/**
 * Builds the `KnetError('EINVAL')` for a failed iptables-restore.
 *
 * @remarks
 * `details.line` is the 1-based line iptables-restore names, `details.reason` a one-line reason
 * (for `line N failed` errors, the libiptc/kernel reason iptables-nft-restore spells out),
 * `details.stderr` the exact text legacy iptables-restore 1.8.9 prints, and `details.ruleLine`
 * the line of the offending rule when the kernel refused it at COMMIT.
 * Linux equivalent: iptables/iptables-restore.c, xshared.c `exit_tryhelp`.
 */
export function restoreError(
  kind: RestoreErrorKind,
  line: number,
  text: string,
  extra: { readonly reason?: string; readonly ruleLine?: number; readonly table?: string } = {},
): KnetError {
  let stderr: string;
  switch (kind) {
    case 'parameter':
      stderr = `${IPTABLES_RESTORE_PREFIX}${text}\nError occurred at line: ${line}\n${TRY_HELP}`;
      break;
    case 'bad-argument':
      stderr = `${text}\nError occurred at line: ${line}\n${TRY_HELP}`;
      break;
    case 'line-failed':
      stderr = `iptables-restore: line ${line} failed\n`;
      break;
    case 'other':
      stderr = `${IPTABLES_RESTORE_PREFIX}${text}\n`;
      break;
    case 'commit-expected':
      stderr = `iptables-restore: COMMIT expected at line ${line}\n`;
      break;
  }
  const reason = extra.reason ?? text.trim();
  const details: Record<string, unknown> = { line, reason, stderr };
  if (extra.ruleLine !== undefined) details['ruleLine'] = extra.ruleLine;
  if (extra.table !== undefined) details['table'] = extra.table;
  return new KnetError('EINVAL', `iptables-restore: line ${line}: ${reason}`, details);
}

/**
 * An error raised while parsing one rule line; the restore loop turns it into a
 * {@link restoreError} with the line number.
 */
export class RuleParseError extends Error {
  readonly kind: 'parameter' | 'bad-argument';
  constructor(kind: 'parameter' | 'bad-argument', message: string) {
    super(message);
    this.kind = kind;
  }
}

/**
 * Match and target extensions that exist in iptables 1.8.9 but that knet does not model. Input
 * using them is refused with `EOPNOTSUPP` rather than iptables' "Couldn't load" message, which
 * would wrongly suggest the extension does not exist.
 */
export const UNSUPPORTED_EXTENSIONS: ReadonlySet<string> = new Set([
  // matches
  'ah', 'bpf', 'cgroup', 'cluster', 'connbytes', 'connlabel', 'connlimit', 'connmark', 'cpu', 'dccp', 'devgroup',
  'dscp', 'ecn', 'esp', 'hashlimit', 'helper', 'hl', 'ipcomp', 'iprange', 'ipvs', 'l2tp', 'length', 'limit', 'mac',
  'osf', 'owner', 'pkttype', 'policy', 'quota', 'rateest', 'realm', 'rpfilter', 'socket', 'string', 'tcpmss', 'time',
  'tos', 'ttl', 'u32', 'udplite',
  // targets
  'AUDIT', 'CHECKSUM', 'CLASSIFY', 'CONNSECMARK', 'DSCP', 'ECN', 'HMARK', 'IDLETIMER', 'LED', 'NETMAP', 'NFQUEUE',
  'QUEUE', 'RATEEST', 'SECMARK', 'SET', 'SYNPROXY', 'TCPMSS', 'TCPOPTSTRIP', 'TEE', 'TOS', 'TPROXY', 'TRACE', 'TTL',
]);

/** A real iptables extension knet does not model; the restore loop turns it into `EOPNOTSUPP` with the line. */
export class UnsupportedExtensionError extends Error {
  readonly extension: string;
  constructor(kind: 'match' | 'target', extension: string) {
    super(`knet does not model the iptables ${kind} extension ${kind === 'match' ? `-m ${extension}` : `-j ${extension}`}`);
    this.extension = extension;
  }
}

/** Shorthand: a PARAMETER_PROBLEM with iptables' exact message. */
export function paramError(message: string): RuleParseError {
  return new RuleParseError('parameter', message);
}
