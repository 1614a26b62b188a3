#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# "make demo", inside the VM: two uet devices on a veth pair split across
# two network namespaces, shown through the rdma tool and libibverbs,
# moving data with the stock verbs examples and perftest, UET on the wire
# as tcpdump sees it, the port counters, and clean removal.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)

run() {
	printf '\n$ %s\n' "$*"
	"$@"
}

# Server in namespace uetA on uetA0, client in uetB on uetB0.
pair() {
	local prog=$1

	shift
	ip netns exec uetA timeout 120 "$prog" -d uetA0 "$@" >/tmp/server.log 2>&1 &
	sleep 1
	printf '\n$ %s -d uetB0 %s 10.0.0.1\n' "$prog" "$*"
	ip netns exec uetB timeout 120 "$prog" -d uetB0 "$@" 10.0.0.1
	wait $!
}

make -s -C "$TOP" install >/tmp/install.log 2>&1 ||
	{ cat /tmp/install.log; exit 1; }

ip netns add uetA
ip netns add uetB
ip link add vethA type veth peer name vethB
ip link set vethA netns uetA
ip link set vethB netns uetB
ip -n uetA addr add 10.0.0.1/24 dev vethA
ip -n uetB addr add 10.0.0.2/24 dev vethB
ip -n uetA link set vethA up
ip -n uetB link set vethB up

run ip netns exec uetA rdma link add uetA0 type uet netdev vethA
run ip netns exec uetB rdma link add uetB0 type uet netdev vethB
run rdma link show
run ibv_devices
run ibv_devinfo -d uetA0

ip netns exec uetA tcpdump -i vethA -c 6 -s 110 -nn -e -X udp port 4793 \
	>/tmp/tcpdump.log 2>/dev/null &
sleep 1
pair ibv_rc_pingpong -g 0 -n 1000 -s 65536
pair ibv_ud_pingpong -g 0 -n 1000 -s 1024
pair ib_write_bw -x 0 -s 1048576 -n 100
pair ib_read_lat -x 0 -s 64 -n 1000
pair ib_atomic_bw -x 0 -n 1000
wait || true
printf '\n$ tcpdump -i vethA -s 110 -nn -e -X udp port 4793  # headers of the first packets\n'
cat /tmp/tcpdump.log

run rdma stat show link uetA0/1
run ip netns exec uetA rdma link del uetA0
run ip netns exec uetB rdma link del uetB0
run rdma link show
ip netns del uetA
ip netns del uetB
echo
echo "demo: uetA0 and uetB0 moved data as UET over UDP 4793 and were removed"
