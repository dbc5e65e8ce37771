import { KnetError } from '../../errors/knet-error.js';
import type { NetfilterFamily } from './netfilter-types.js';

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

/** The restore program of a family: `iptables-restore` or `ip6tables-restore`. */
export function restoreProgram(family: NetfilterFamily = 'ipv4'): string {
  return family === 'ipv6' ? 'ip6tables-restore' : 'iptables-restore';
}

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
  extra: { readonly reason?: string; readonly ruleLine?: number; readonly table?: string; readonly family?: NetfilterFamily } = {},
): KnetError {
  const program = restoreProgram(extra.family);
  const prefix = `${program} v1.8.9 (legacy): `;
  const tryHelp = `Try \`${program} -h' or '${program} --help' for more information.\n`;
  let stderr: string;
  switch (kind) {
    case 'parameter':
      stderr = `${prefix}${text}\nError occurred at line: ${line}\n${tryHelp}`;
      break;
    case 'bad-argument':
      stderr = `${text}\nError occurred at line: ${line}\n${tryHelp}`;
      break;
    case 'line-failed':
      stderr = `${program}: line ${line} failed\n`;
      break;
    case 'other':
      stderr = `${prefix}${text}\n`;
      break;
    case 'commit-expected':
      stderr = `${program}: COMMIT expected at line ${line}\n`;
      break;
  }
  const reason = extra.reason ?? text.trim();
  const details: Record<string, unknown> = { line, reason, stderr };
  if (extra.ruleLine !== undefined) details['ruleLine'] = extra.ruleLine;
  if (extra.table !== undefined) details['table'] = extra.table;
  return new KnetError('EINVAL', `${program}: line ${line}: ${reason}`, details);
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

/**
 * Extensions that exist in ip6tables 1.8.9 (libxt_* and libip6t_*) but that knet does not
 * model: IPv6 extension-header matches and IPv6-only targets, with the shared ones above.
 */
export const UNSUPPORTED_EXTENSIONS6: ReadonlySet<string> = new Set([
  ...[...UNSUPPORTED_EXTENSIONS].filter((e) => e !== 'ttl' && e !== 'realm' && e !== 'TTL'),
  // matches
  'dst', 'eui64', 'frag', 'hbh', 'ipv6header', 'mh', 'rt', 'srh',
  // targets
  'DNPT', 'SNPT', 'HL',
]);

/** The extensions knet refuses with `EOPNOTSUPP` for a family. */
export function unsupportedExtensions(family: NetfilterFamily = 'ipv4'): ReadonlySet<string> {
  return family === 'ipv6' ? UNSUPPORTED_EXTENSIONS6 : UNSUPPORTED_EXTENSIONS;
}

/** A real iptables extension knet does not model; the restore loop turns it into `EOPNOTSUPP` with the line. */
export class UnsupportedExtensionError extends Error {
  readonly extension: string;
  constructor(kind: 'match' | 'target' | 'option', extension: string, message?: string) {
    super(message ?? `knet does not model the iptables ${kind} extension ${kind === 'match' ? `-m ${extension}` : `-j ${extension}`}`);
    this.extension = extension;
  }
}

/** A real option of a modelled extension that knet does not model (for a family); `EOPNOTSUPP` with the line. */
export class UnsupportedOptionError extends UnsupportedExtensionError {
  constructor(option: string, why: string) {
    super('option', option, `${option}: ${why}`);
  }
}

/** Shorthand: a PARAMETER_PROBLEM with iptables' exact message. */
export function paramError(message: string): RuleParseError {
  return new RuleParseError('parameter', message);
}
