#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The port state of a uet device follows its netdev: ACTIVE while the
# netdev is up with carrier, DOWN otherwise, seen through sysfs and the
# rdma tool.  The events themselves are checked by uet_async_events.

. "$(dirname "$(realpath "$0")")/uet_lib.sh"

VA=uetp0
VB=uetp1

cleanup() {
	uet_cleanup_links
	ip link del "$VA" 2>/dev/null
}
trap cleanup EXIT

port_is() {
	uet_sysfs_port uett0 state | grep -q "$1" &&
		rdma link show uett0/1 | grep -q "state $1"
}

uet_require_root
ktap_print_header
ktap_set_plan 6

uet_veth_add "$VA" "$VB" || ktap_exit_fail_msg "cannot create veth pair"
rdma link add uett0 type uet netdev "$VA" ||
	ktap_exit_fail_msg "cannot create uett0"

uet_check "port is ACTIVE on an up netdev" port_is ACTIVE
uet_check "phys_state is LinkUp" \
	grep -q LinkUp /sys/class/infiniband/uett0/ports/1/phys_state

ip link set "$VA" down
uet_check "port goes DOWN with the netdev" uet_wait_for port_is DOWN

ip link set "$VA" up
uet_check "port is ACTIVE again when the netdev comes up" \
	uet_wait_for port_is ACTIVE

# Carrier loss on the peer side: the netdev stays up but has no carrier.
ip link set "$VB" down
uet_check "port goes DOWN when the netdev loses carrier" \
	uet_wait_for port_is DOWN
ip link set "$VB" up
uet_check "port is ACTIVE when carrier returns" \
	uet_wait_for port_is ACTIVE

ktap_finished
