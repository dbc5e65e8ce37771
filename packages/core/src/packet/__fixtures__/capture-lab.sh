#!/usr/bin/env bash
# Makes the golden capture capture-lab.pcap (and, with tcpdump -r, capture-lab.tcpdump.txt):
# three namespaces a - r - b (r routes; the r-b link has MTU 1400), VXLAN devices between a and
# r on ports 4789 and 8472, traffic captured with tcpdump on a's veth. Run as root:
#   bash capture-lab.sh OUTDIR && cp OUTDIR/a0.pcap capture-lab.pcap
#   tcpdump -r capture-lab.pcap -e -n -S -t > capture-lab.tcpdump.txt   (plus the header line)
# Everything lives in namespaces knet-pkt-*, deleted on exit.
set -u
A=knet-pkt-a; R=knet-pkt-r; B=knet-pkt-b
OUT=${1:?usage: capture-lab.sh OUTDIR}
mkdir -p "$OUT"
cleanup() { for n in $A $R $B; do ip netns del $n 2>/dev/null; done; }
cleanup
trap cleanup EXIT
for n in $A $R $B; do ip netns add $n; ip -n $n link set lo up; ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
ip link add a0 netns $A address 0a:58:0a:f4:01:02 type veth peer name r0 netns $R address 0a:58:0a:f4:01:01
ip link add r1 netns $R address 0a:58:0a:f4:02:01 mtu 1400 type veth peer name b0 netns $B address 0a:58:0a:f4:02:03 mtu 1400
ip -n $A addr add 10.244.1.2/24 dev a0; ip -n $A link set a0 up
ip -n $R addr add 10.244.1.1/24 dev r0; ip -n $R link set r0 up
ip -n $R addr add 10.244.2.1/24 dev r1; ip -n $R link set r1 up
ip -n $B addr add 10.244.2.3/24 dev b0; ip -n $B link set b0 up
ip -n $A route add default via 10.244.1.1
ip -n $B route add default via 10.244.2.1
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
# overlays between a and r: VXLAN on the IANA port (4789) and on flannel's port (8472)
ip -n $A link add vx0 address 0a:58:0a:f5:00:02 type vxlan id 1 local 10.244.1.2 remote 10.244.1.1 dstport 4789 nolearning
ip -n $R link add vx0 address 0a:58:0a:f5:00:01 type vxlan id 1 local 10.244.1.1 remote 10.244.1.2 dstport 4789 nolearning
ip -n $A link add flannel.1 address 0a:58:0a:f6:00:02 type vxlan id 1 local 10.244.1.2 remote 10.244.1.1 dstport 8472 nolearning
ip -n $R link add flannel.1 address 0a:58:0a:f6:00:01 type vxlan id 1 local 10.244.1.1 remote 10.244.1.2 dstport 8472 nolearning
ip -n $A addr add 10.245.0.2/24 dev vx0; ip -n $R addr add 10.245.0.1/24 dev vx0
ip -n $A addr add 10.246.0.2/24 dev flannel.1; ip -n $R addr add 10.246.0.1/24 dev flannel.1
for d in vx0 flannel.1; do ip -n $A link set $d up; ip -n $R link set $d up; done
# checksum offload off: captured frames then carry final checksums, not partial ones
for d in a0 vx0 flannel.1; do ip netns exec $A ethtool -K $d tx off >/dev/null; done
for d in r0 r1 vx0 flannel.1; do ip netns exec $R ethtool -K $d tx off >/dev/null; done
ip netns exec $B ethtool -K b0 tx off >/dev/null
sleep 1
ip netns exec $A tcpdump -i a0 -U -s 262144 -w "$OUT/a0.pcap" 2>/dev/null & P1=$!
ip netns exec $B node -e '
const net=require("net");const s=net.createServer(c=>{c.on("data",()=>{});c.on("end",()=>c.end())});s.listen(32080,"10.244.2.3",()=>setTimeout(()=>s.close(),8000));' & P3=$!
sleep 1.5
ip netns exec $A ping -c1 -W1 10.244.2.3 >/dev/null
ip netns exec $A ping -c1 -W1 -M do -s 1400 10.244.2.3 >/dev/null
ip netns exec $A ping -c1 -W1 -t 1 10.244.2.3 >/dev/null
ip netns exec $A bash -c 'printf hello > /dev/udp/10.244.2.3/40001'
sleep 0.3
ip netns exec $A bash -c 'exec 3<>/dev/tcp/10.244.2.3/81' 2>/dev/null
ip netns exec $A bash -c 'exec 3<>/dev/tcp/10.244.2.3/32080; printf hello >&3; exec 3>&-'
sleep 0.3
ip netns exec $A ping -c1 -W1 10.245.0.1 >/dev/null
ip netns exec $A ping -c1 -W1 10.246.0.1 >/dev/null
sleep 1
kill -INT $P1; wait $P1 2>/dev/null
kill $P3 2>/dev/null; wait $P3 2>/dev/null
