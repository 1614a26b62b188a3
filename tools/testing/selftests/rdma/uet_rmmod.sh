#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Removing rdma_uet while devices exist removes them cleanly, frees the
# netdevs, and the module can be loaded again.

. "$(dirname "$(realpath "$0")")/uet_lib.sh"

cleanup() {
	uet_cleanup_links
	ip link del uetr0 2>/dev/null
	ip link del uetr2 2>/dev/null
}
trap cleanup EXIT

uet_require_root
ktap_print_header
ktap_set_plan 5

uet_veth_add uetr0 uetr1 && uet_veth_add uetr2 uetr3 ||
	ktap_exit_fail_msg "cannot create veth pairs"
rdma link add uett0 type uet netdev uetr0 &&
	rdma link add uett1 type uet netdev uetr2 ||
	ktap_exit_fail_msg "cannot create devices"

uet_check "two devices exist" \
	test -d /sys/class/infiniband/uett0 -a -d /sys/class/infiniband/uett1
uet_check "rmmod with live devices succeeds" modprobe -r rdma_uet
uet_check "the devices are gone" \
	test ! -e /sys/class/infiniband/uett0 -a ! -e /sys/class/infiniband/uett1
uet_check "the netdevs are released and can be deleted" \
	sh -c "ip link del uetr0 && ip link del uetr2"
uet_check "the module loads again and creates a device" \
	sh -c "ip link add uetr0 type veth peer name uetr1 && \
	       rdma link add uett0 type uet netdev uetr0 && \
	       [ -d /sys/module/rdma_uet ]"

ktap_finished
