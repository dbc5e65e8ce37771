import { KnetError } from '../errors/knet-error.js';
import { CNI_AGENT_REPLY_SLOTS } from './cni-agent-slots.js';

/** Options of {@link cniLauncherScript}. */
export interface CniLauncherOptions {
  /** The plugin's name: its agent is `NAME.PID` in the agent directory. */
  readonly name: string;
  /**
   * The plugin's Node.js entry point, run when no agent answers. Absolute, or relative to the
   * directory the launcher really lives in (symbolic links resolved) when `relative` is set.
   */
  readonly entry: string;
  readonly relative?: boolean;
  /** The `node` to run the entry point with. Default: `$KNET_NODE`, else `node` on `PATH`. */
  readonly node?: string;
}

function shWord(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The text of a CNI plugin launcher: a POSIX shell script that a CNI runtime executes as the
 * plugin. When an agent of the plugin serves the launcher's network namespace
 * (`startCniAgent`), the launcher hands the invocation over and exits with the agent's status,
 * having started no program at all where standard input is a pipe (as Go runtimes give it), else
 * `cat` to copy it (and `mkfifo` when all of the agent's reply FIFOs are taken); otherwise it runs the plugin itself with Node.js (`exec node ENTRY`),
 * so that it works, more slowly, with no agent at all.
 *
 * @remarks If the agent ends in the middle of an invocation, the launcher reports the spec's
 * code 11 (try again later) instead of guessing what was done. A request is never sent to an
 * agent of another network namespace.
 * @throws KnetError `EINVAL` for a name that is not a plain file name.
 * @example
 * ```ts
 * import { cniLauncherScript } from '@knet/core';
 * const text = cniLauncherScript({ name: 'knet-kubenet', entry: '/usr/lib/knet/knet-kubenet-cni.js' });
 * text.startsWith('#!/bin/sh\n'); // true
 * ```
 */
export function cniLauncherScript(options: CniLauncherOptions): string {
  const { name } = options;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new KnetError('EINVAL', `CNI plugin name "${name}" is not a plain file name`, {});
  const entry = options.relative === true ? `"$(dirname "$(readlink -f "$0")")"/${shWord(options.entry)}` : shWord(options.entry);
  const node = options.node !== undefined ? shWord(options.node) : '"${KNET_NODE:-node}"';
  const failure = `{"cniVersion":"1.1.0","code":11,"msg":"the ${name} agent ended before answering"}`;
  return `#!/bin/sh
# ${name}: CNI plugin launcher, written by knet (cniLauncherScript).
# Hands the invocation to the ${name} agent serving this network namespace, if one runs
# (${name}.PID under \${KNET_CNI_AGENT_DIR:-/run/knet/cni}); otherwise runs the plugin with Node.js.
agents=\${KNET_CNI_AGENT_DIR:-/run/knet/cni}
for d in "$agents"/${name}.*; do
  [ /proc/self/ns/net -ef "$d/netns" ] && [ -p "$d/requests" ] || continue
  # A reply FIFO: a free slot of the agent's (claim.N made with O_EXCL), else one of our own.
  slot=
  set -C
  for i in ${Array.from({ length: CNI_AGENT_REPLY_SLOTS }, (_, i) => i).join(' ')}; do
    if { printf '%s' "$$" > "$d/claim.$i"; } 2>/dev/null; then slot=$i; break; fi
  done
  set +C
  if [ -n "$slot" ]; then
    r="$d/fifo.$slot"
  else
    r="$d/reply.$$"
    [ -e "$r" ] && rm -f "$r"
    mkfifo -m 600 "$r" || break
  fi
  case "\${CNI_COMMAND:-}" in
    ADD|DEL|CHECK|GC|STATUS)
      if [ -p /dev/stdin ]; then in=fd; else in=file; cat > "$d/in.$$" || break; fi ;;
    *) in=none ;;
  esac
  if [ -p /dev/stdout ]; then out=fd; else out=fifo; fi
  printf '%s %s %s%s\\n' "$$" "$in" "$out" "\${slot:+ $slot}" > "$d/requests" || break
  rc=
  if [ "$out" = fd ]; then
    read -r rc < "$r"
  else
    # The agent's answer is JSON text ending in a newline: the shell copies it without a program.
    { read -r rc && while IFS= read -r l; do printf '%s\\n' "$l"; done && [ -z "$l" ] || printf '%s' "$l"; } < "$r"
  fi
  case "$rc" in
    ''|*[!0-9]*) printf '%s\\n' ${shWord(failure)}; exit 1 ;;
  esac
  exit "$rc"
done
[ -n "\${r:-}" ] && [ -z "\${slot:-}" ] && [ -p "$r" ] && rm -f "$r"
exec ${node} ${entry}
`;
}
