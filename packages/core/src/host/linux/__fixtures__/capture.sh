#!/usr/bin/env bash
# One-off capture of the golden fixtures for packages/core/src/host/linux/parse-*.ts (not a test).
#
# Records what LinuxHost reads back, in the exact forms it asks for (`ip -N` numeric routes,
# `bridge -s` FDB statistics, an `ip -j -batch -` with two commands, `ip -j addr` with IPv6 on)
# for a small node-shaped state in real network namespaces (knet-lhfx-*). Run as root:
#   bash packages/core/src/host/linux/__fixtures__/capture.sh
# Every fixture starts with one header line: `# command: <cmd> ; iproute2 <ver> ; linux <ver>`.
# Nothing is created outside the knet-lhfx-* namespaces; they are deleted on exit, even on error.
set -euo pipefail

OUT="$(cd "$(dirname "$0")" && pwd)"
NODE=knet-lhfx-node
POD=knet-lhfx-pod
V6=knet-lhfx-v6
ALL=("$NODE" "$POD" "$V6")
IPROUTE2="$(ip -V | sed -n 's/.*iproute2-\([0-9.]*\).*/\1/p')"
LINUX="$(uname -r)"

cleanup() { for ns in "${ALL[@]}"; do ip netns del "$ns" 2>/dev/null || true; done; }
trap cleanup EXIT

for ns in "${ALL[@]}"; do
  ip netns del "$ns" 2>/dev/null || true
  ip netns add "$ns"
done
for ns in "$NODE" "$POD"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$ns" link set lo up
done

n() { ip -n "$NODE" "$@"; }
n link add cbr0 address 0a:58:0a:f4:01:01 type bridge ageing_time 12000
n addr add 10.244.1.1/24 brd + dev cbr0
n link set cbr0 up
n link add veth0a1b2c3d address 9e:3a:51:7c:20:01 mtu 1450 type veth peer name eth0 address 0a:58:0a:f4:01:02 mtu 1450 netns "$POD"
n link set veth0a1b2c3d master cbr0
n link set veth0a1b2c3d type bridge_slave hairpin on learning on isolated off
n link set veth0a1b2c3d up
ip -n "$POD" addr add 10.244.1.2/24 brd + dev eth0
ip -n "$POD" link set eth0 up
ip -n "$POD" route add default via 10.244.1.1 dev eth0
n link add vxlan0 address 2e:65:1c:0b:00:01 type vxlan id 42 local 10.244.1.1 dev cbr0 dstport 4789 nolearning
n link set vxlan0 up
bridge -n "$NODE" fdb append 00:00:00:00:00:00 dev vxlan0 dst 172.18.0.3 self permanent
bridge -n "$NODE" fdb append 00:00:00:00:00:00 dev vxlan0 dst 172.18.0.4 self permanent
bridge -n "$NODE" fdb replace 0a:58:0a:f4:01:63 dev veth0a1b2c3d master static
n tuntap add dev tap0 mode tap
n route add 10.244.2.0/24 via 172.18.0.3 dev cbr0 onlink proto static metric 10 mtu 1400
n route add 10.244.3.0/24 dev cbr0 table 100 proto 186 scope link src 10.244.1.1
n route add blackhole 10.244.5.0/26 proto bird
n route add unreachable 10.244.6.0/24 table 7
n route add prohibit 10.244.7.0/24 metric 20
n route add local 10.96.0.10 dev cbr0 table local
n neigh replace 10.244.1.7 lladdr 0a:58:0a:f4:01:07 dev cbr0 nud permanent
n neigh replace 10.244.1.8 lladdr 0a:58:0a:f4:01:08 dev cbr0 nud stale router
n neigh replace 10.244.1.9 dev cbr0 nud incomplete
# The pod's ping teaches the bridge the pod's MAC (a learned entry with `updated`).
ip netns exec "$POD" ping -c1 -W1 -q 10.244.1.1 >/dev/null

# An IPv6-enabled namespace: the addresses LinuxHost must leave out.
ip -n "$V6" link add eth0 address 02:42:ac:12:00:09 type veth peer name eth1 address 02:42:ac:12:00:0a
ip -n "$V6" addr add 172.18.0.9/16 dev eth0
ip -n "$V6" link set eth0 up
ip -n "$V6" link set eth1 up
ip -n "$V6" link set lo up
sleep 0.2

capture() { # capture NAME CMD...
  local name=$1; shift
  { printf '# command: %s ; iproute2 %s ; linux %s\n' "$*" "$IPROUTE2" "$LINUX"; "$@"; } > "$OUT/$name"
}
capture_batch() { # capture_batch NAME LINES CMD...
  local name=$1 lines=$2; shift 2
  { printf "# command: printf '%s' | %s ; iproute2 %s ; linux %s\n" "$lines" "$*" "$IPROUTE2" "$LINUX"; printf '%b' "$lines" | "$@"; } > "$OUT/$name"
}
capture node.neigh.json ip -n "$NODE" -4 -j neigh show nud all
capture_batch node.link-batch.json 'link show\nnetns list-id\n' ip -n "$NODE" -d -j -batch -
capture_batch pod.link-batch.json 'link show\nnetns list-id\n' ip -n "$POD" -d -j -batch -
capture node.addr.json ip -n "$NODE" -4 -j addr show
capture node.route-numeric.json ip -n "$NODE" -4 -N -j route show table all
capture node.fdb-stats.json bridge -n "$NODE" -s -j fdb show
capture v6.addr.json ip -n "$V6" -j addr show
capture v6.route-numeric.json ip -n "$V6" -N -j route show table all
echo "captured into $OUT (iproute2 $IPROUTE2, linux $LINUX)"
