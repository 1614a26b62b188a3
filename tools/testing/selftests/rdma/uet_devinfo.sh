#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What libibverbs reports through the uet provider (ibv_devices,
# ibv_devinfo) matches the kernel's view in sysfs and the rdma tool.

. "$(dirname "$(realpath "$0")")/uet_lib.sh"

VA=uetd0
VB=uetd1
SYS=/sys/class/infiniband/uett0

cleanup() {
	rdma link del xuet9 2>/dev/null
	uet_cleanup_links
	ip link del "$VA" 2>/dev/null
}
trap cleanup EXIT

# Value of "key:" in ibv_devinfo -v output (first occurrence).
info() {
	awk -v k="$1:" '$1 == k { print $2; exit }' "$INFO"
}

# EUI-64 from a MAC: flip the U/L bit, insert ff:fe in the middle.
guid_from_mac() {
	local m0 m1 m2 m3 m4 m5

	IFS=: read -r m0 m1 m2 m3 m4 m5 <"/sys/class/net/$1/address"
	printf "%02x%s:%sff:fe%s:%s%s\n" $((0x$m0 ^ 2)) "$m1" "$m2" "$m3" "$m4" "$m5"
}

uet_require_root
ktap_print_header
ktap_set_plan 14

uet_veth_add "$VA" "$VB" || ktap_exit_fail_msg "cannot create veth pair"
ip link set "$VA" mtu 9000
ip addr add 10.92.0.1/24 dev "$VA"
rdma link add uett0 type uet netdev "$VA" ||
	ktap_exit_fail_msg "cannot create uett0"

INFO=$(mktemp)
ibv_devinfo -v -d uett0 >"$INFO" 2>&1
uet_check "ibv_devinfo opens the device through the uet provider" \
	grep -q "hca_id:[[:space:]]*uett0" "$INFO"
uet_check "ibv_devices lists it with its node GUID" \
	sh -c "ibv_devices | grep -q \"uett0.*$(tr -d : <$SYS/node_guid)\""
uet_check "node_guid matches sysfs" \
	test "$(info node_guid)" = "$(cat $SYS/node_guid)"
uet_check "node_guid is the EUI-64 of the netdev MAC" \
	test "$(cat $SYS/node_guid)" = "$(guid_from_mac "$VA")"
uet_check "sys_image_guid matches sysfs" \
	test "$(info sys_image_guid)" = "$(cat $SYS/sys_image_guid)"
uet_check "transport and link layer are reported" \
	sh -c "grep -q 'link_layer:[[:space:]]*Ethernet' $INFO && \
	       grep -q 'Ethernet' $SYS/ports/1/link_layer"
uet_check "port state matches sysfs and rdma link" \
	sh -c "grep -q 'state:[[:space:]]*PORT_ACTIVE' $INFO && \
	       grep -q ACTIVE $SYS/ports/1/state && \
	       rdma link show uett0/1 | grep -q 'state ACTIVE'"
uet_check "active_mtu follows the netdev MTU (9000 -> 4096)" \
	grep -q "active_mtu:[[:space:]]*4096" "$INFO"
uet_check "max_mtu is 4096" grep -q "max_mtu:[[:space:]]*4096" "$INFO"
uet_check "phys_port_cnt is 1" test "$(info phys_port_cnt)" = 1
uet_check "limits are the driver's (max_qp 16384, max_cqe 65536)" \
	test "$(info max_qp)" = 16384 -a "$(info max_cqe)" = 65536
uet_check "GID 0 matches sysfs" \
	grep -q "GID\[  0\]:[[:space:]]*$(cat $SYS/ports/1/gids/0)" "$INFO"

ip link set "$VA" mtu 1500
uet_check "active_mtu follows an MTU change (1500 -> 1024)" \
	sh -c "ibv_devinfo -d uett0 | grep -q 'active_mtu:[[:space:]]*1024'"

# VERBS_NAME_MATCH("uet") would match any name starting with "uet"; a
# device named otherwise can only be matched by RDMA_DRIVER_UET.
rdma link add xuet9 type uet netdev "$VB"
uet_check "the provider matches a device by its driver id, not its name" \
	sh -c "ibv_devinfo -d xuet9 | grep -q 'hca_id:[[:space:]]*xuet9'"
rdma link del xuet9

rm -f "$INFO"
ktap_finished
