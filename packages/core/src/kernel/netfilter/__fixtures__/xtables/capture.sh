#!/bin/bash
# Regenerates the golden fixtures of this folder from the real tools, as root, inside throwaway
# network namespaces named knet-nf6-cap-* (IPv6 enabled in each). Every output file starts with
# one header line naming the command and the tool versions; the rest is the tool's output, byte
# for byte.
#
#   save/NAME.rules    -> save/NAME.legacy    (ip6tables-legacy-restore ARGS < NAME.rules; ip6tables-legacy-save SAVEARGS)
#   errors/NAME.rules  -> errors/NAME.stderr  (ip6tables-legacy-restore ARGS < NAME.rules: stderr and exit code)
#                         errors/NAME.after   (ip6tables-legacy-save afterwards: what stayed committed)
#
# Rules files are read by ip6tables unless they say otherwise. Directives in comment lines
# (iptables-restore skips them):
#   # knet-family: ipv4                     use iptables-legacy-restore / iptables-legacy-save instead
#   # knet-args: --noflush --counters       extra restore arguments
#   # knet-save-args: -c                    extra save arguments
#   # knet-ipset: OTHER.ipset               ipset restore run first
set -u
cd "$(dirname "$0")"
KVER=$(uname -r)
directive() { sed -n "s/^# knet-$1: //p" "$2" | head -1; }

tools() { # file -> sets RESTORE SAVE VER
  if [ "$(directive family "$1")" = ipv4 ]; then
    RESTORE=iptables-legacy-restore; SAVE=iptables-legacy-save; VER=$(iptables-legacy --version)
  else
    RESTORE=ip6tables-legacy-restore; SAVE=ip6tables-legacy-save; VER=$(ip6tables-legacy --version)
  fi
}

new_ns() { # name, ipset file or ''
  ip netns add "$1"
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=0
  if [ -n "$2" ]; then ip netns exec "$1" ipset restore < "$2" || { ip netns del "$1"; echo "FAILED: $2" >&2; exit 1; }; fi
}

for f in save/*.rules; do
  ns=knet-nf6-cap-$$; tools "$f"
  args=$(directive args "$f"); saveargs=$(directive save-args "$f"); ips=$(directive ipset "$f")
  new_ns $ns "${ips:+$(dirname "$f")/$ips}"
  ip netns exec $ns $RESTORE $args < "$f" 2>/dev/null
  rc=$?
  { echo "# knet fixture: ip netns exec NS $RESTORE $args < $(basename "$f"); $SAVE $saveargs (exit $rc); $VER; Linux $KVER"
    ip netns exec $ns $SAVE $saveargs; } > "${f%.rules}.legacy"
  ip netns del $ns
done

for f in errors/*.rules; do
  ns=knet-nf6-cap-$$; tools "$f"
  args=$(directive args "$f"); ips=$(directive ipset "$f")
  new_ns $ns "${ips:+$(dirname "$f")/$ips}"
  err=$(ip netns exec $ns $RESTORE $args < "$f" 2>&1 >/dev/null; echo "rc=$?")
  rc=${err##*rc=}; err=${err%rc=*}
  { echo "# knet fixture: ip netns exec NS $RESTORE $args < $(basename "$f") (exit $rc); $VER; Linux $KVER"; printf '%s' "$err"; } > "${f%.rules}.stderr"
  { echo "# knet fixture: ip netns exec NS $SAVE, after the restore above; $VER; Linux $KVER"; ip netns exec $ns $SAVE; } > "${f%.rules}.after"
  ip netns del $ns
done
