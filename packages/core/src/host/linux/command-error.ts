import { KnetError, type KnetErrorCode } from '../../errors/knet-error.js';
import type { CommandResult } from './command-runner.js';

/**
 * Messages the kernel sends as netlink extended acks (iproute2 prints them as `Error: ...`
 * without the errno), and iproute2's own messages, with the errno behind them. Checked before
 * the strerror texts, first match wins.
 * @see linux net/ipv4/fib_semantics.c (fib_check_nh_v4_gw, fib_check_nh_nongw), net/ipv4/devinet.c,
 * net/core/rtnetlink.c (rtnl_newlink), net/core/neighbour.c; iproute2 ip/iplink.c, ip/ipnetns.c
 */
const MESSAGE_ERRNO: readonly (readonly [string, KnetErrorCode])[] = [
  ['Address already assigned', 'EEXIST'],
  ['Address not found', 'ENOENT'],
  ['Nexthop has invalid gateway', 'ENETUNREACH'],
  // ENETDOWN: knet's closed set folds it into ENETUNREACH, as SimHost does.
  ['Device for nexthop is not up', 'ENETUNREACH'],
  ['Nexthop device is not up', 'ENETUNREACH'],
  ['Unknown device type', 'EOPNOTSUPP'],
  ['Cannot find device', 'ENODEV'],
  // iproute2 resolving a name on its side (`master X`, vxlan `dev X`) and exiting.
  ['Device does not exist', 'ENODEV'],
  ['Invalid "netns" value', 'ENOENT'],
  ['Cannot open network namespace', 'ENOENT'],
  ['set with the same name already exists', 'EEXIST'],
  ['Element cannot be added to the set: it\'s already added', 'EEXIST'],
];

/** strerror(3) texts (glibc) as tools print them after `RTNETLINK answers:` or `sysctl: ...:`. */
const STRERROR_ERRNO: readonly (readonly [string, KnetErrorCode])[] = [
  ['File exists', 'EEXIST'],
  ['No such device', 'ENODEV'],
  ['No such file or directory', 'ENOENT'],
  // ESRCH: `ip route del` of a route that is not there.
  ['No such process', 'ENOENT'],
  // EADDRNOTAVAIL: `ip addr del` of an address that is not there.
  ['Cannot assign requested address', 'ENOENT'],
  ['Network is unreachable', 'ENETUNREACH'],
  ['Network is down', 'ENETUNREACH'],
  ['No route to host', 'ENETUNREACH'],
  ['Invalid argument', 'EINVAL'],
  ['Numerical result out of range', 'EINVAL'],
  ['Operation not permitted', 'EPERM'],
  ['Permission denied', 'EPERM'],
  ['Read-only file system', 'EPERM'],
  ['Device or resource busy', 'EBUSY'],
  ['Operation not supported', 'EOPNOTSUPP'],
  ['Address family not supported by protocol', 'EOPNOTSUPP'],
  ['Protocol not supported', 'EOPNOTSUPP'],
  ['No space left on device', 'ENOSPC'],
  ['No buffer space available', 'ENOSPC'],
];

/**
 * The errno-shaped code behind a tool's error message: the kernel's extended-ack texts and
 * iproute2's own messages first, then the strerror(3) texts. `undefined` when nothing is
 * recognised.
 *
 * @example
 * ```ts
 * import { errnoFromMessage } from '@knet/core/linux';
 * errnoFromMessage('RTNETLINK answers: File exists'); // 'EEXIST'
 * errnoFromMessage('Error: Nexthop has invalid gateway.'); // 'ENETUNREACH'
 * ```
 */
export function errnoFromMessage(text: string): KnetErrorCode | undefined {
  // procps prints some texts in lower case (`sysctl: permission denied on key ...`).
  const t = text.toLowerCase();
  for (const [m, code] of MESSAGE_ERRNO) if (t.includes(m.toLowerCase())) return code;
  for (const [m, code] of STRERROR_ERRNO) if (t.includes(m.toLowerCase())) return code;
  return undefined;
}

/** Where a failed command ran and what it was, for the error's details. */
export interface CommandErrorContext {
  /** The command as one line (`ip -n knet-a link add ...`). */
  readonly command: string;
  readonly netns?: string;
  /** For a batch: the failing batch line (1-based) and its text. */
  readonly line?: number;
  readonly lineText?: string;
  /** The code when the message says nothing recognisable (default `EIO`), e.g. `EINVAL` for a payload iptables-restore rejected. */
  readonly fallback?: KnetErrorCode;
}

/**
 * Turns a failed command into a {@link KnetError}: the tool's own message as the text
 * (`RTNETLINK answers: File exists`), the errno-shaped code it stands for, and the command in
 * the details.
 *
 * @remarks Unrecognised `Error: ...` texts (extended acks and iproute2's argument errors) are
 * `EINVAL`, which is what the kernel returns for nearly all of them; anything else is
 * `context.fallback`, by default `EIO`.
 * Help hints (`Try 'iptables-restore -h' ...`) are dropped from the message.
 */
export function commandError(result: CommandResult, context: CommandErrorContext, messageLines?: readonly string[]): KnetError {
  const lines = (messageLines ?? result.stderr.split('\n'))
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^Try [`'"]/.test(l));
  const message = lines.length > 0 ? lines.join('; ') : `${context.command}: exit status ${String(result.code)}`;
  const code = errnoFromMessage(message) ?? (/(^|; )Error: /.test(message) || result.code === 255 ? 'EINVAL' : (context.fallback ?? 'EIO'));
  return new KnetError(code, message, {
    command: context.command,
    ...(context.netns !== undefined ? { netns: context.netns } : {}),
    ...(context.line !== undefined ? { line: context.line } : {}),
    ...(context.lineText !== undefined ? { lineText: context.lineText } : {}),
    exitCode: result.code,
  });
}
