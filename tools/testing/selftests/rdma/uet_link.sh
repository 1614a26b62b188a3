#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# uet device life cycle through "rdma link": creation (with module
# auto-load), deletion, refused duplicates and bad netdevs, and removal
# of the device when its netdev goes away.

. "$(dirname "$(realpath "$0")")/uet_lib.sh"

VA=uetl0
VB=uetl1

cleanup() {
	uet_cleanup_links
	ip link del "$VA" 2>/dev/null
	ip link del uetltun 2>/dev/null
}
trap cleanup EXIT

uet_require_root
ktap_print_header
ktap_set_plan 9

uet_veth_add "$VA" "$VB" || ktap_exit_fail_msg "cannot create veth pair"

# The link type loads the module through its rdma-link-uet alias.
modprobe -r rdma_uet 2>/dev/null
uet_rdma link add uett0 type uet netdev "$VA"
uet_check "link add auto-loads rdma_uet and creates the device" \
	test -z "$UET_RDMA_ERR" -a -d /sys/module/rdma_uet -a \
	-d /sys/class/infiniband/uett0

uet_check "rdma link show names the netdev" \
	sh -c "rdma link show uett0/1 | grep -q 'netdev $VA'"

uet_rdma link add uett0 type uet netdev "$VB"
uet_check "a duplicate device name is refused (EEXIST)" \
	sh -c "echo '$UET_RDMA_ERR' | grep -q 'File exists' && \
	       rdma link show uett0/1 | grep -q 'netdev $VA' && \
	       ! rdma link show | grep -q 'netdev $VB'"

uet_rdma link add uett1 type uet netdev "$VA"
uet_check "a second device on the same netdev is refused (EEXIST)" \
	sh -c "echo '$UET_RDMA_ERR' | grep -q 'File exists' && \
	       ! [ -d /sys/class/infiniband/uett1 ]"

uet_rdma link add uett1 type uet netdev uetnosuchdev
uet_check "a missing netdev is refused (ENODEV)" \
	sh -c "echo '$UET_RDMA_ERR' | grep -q 'No such device' && \
	       ! [ -d /sys/class/infiniband/uett1 ]"

modprobe tun
ip tuntap add dev uetltun mode tun
uet_rdma link add uett1 type uet netdev uetltun
uet_check "a non-Ethernet netdev is refused (EINVAL)" \
	sh -c "echo '$UET_RDMA_ERR' | grep -q 'Invalid argument' && \
	       ! [ -d /sys/class/infiniband/uett1 ]"

uet_rdma link del uett0
uet_check "rdma link del removes the device" \
	sh -c "[ -z '$UET_RDMA_ERR' ] && ! [ -d /sys/class/infiniband/uett0 ]"

uet_rdma link add uett0 type uet netdev "$VA"
uet_check "the name can be reused after deletion" \
	test -z "$UET_RDMA_ERR" -a -d /sys/class/infiniband/uett0

ip link del "$VA"
uet_check "deleting the netdev removes the device" uet_wait_dev uett0 0

ktap_finished
