#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# "make demo", inside the VM: create a uet device on a veth pair, show it
# through the rdma tool and libibverbs, and remove it again.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)

run() {
	printf '\n$ %s\n' "$*"
	"$@"
}

make -s -C "$TOP" install >/tmp/install.log 2>&1 ||
	{ cat /tmp/install.log; exit 1; }

ip link add veth0 type veth peer name veth1
ip link set veth0 up
ip link set veth1 up
ip addr add 192.0.2.1/24 dev veth0

run rdma link add uet0 type uet netdev veth0
run rdma link show
run rdma dev show
run ibv_devices
run ibv_devinfo -v -d uet0
run rdma link del uet0
run rdma link show
echo
echo "demo: uet0 created on veth0, queried and removed"
