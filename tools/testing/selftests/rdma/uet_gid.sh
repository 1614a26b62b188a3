#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The GID table of a uet port holds the netdev's IPv4 addresses (as
# IPv4-mapped IPv6) and IPv6 addresses, follows address changes, and
# keeps an address at its index while it exists.

. "$(dirname "$(realpath "$0")")/uet_lib.sh"

VA=uetg0
VB=uetg1
GIDS=/sys/class/infiniband/uett0/ports/1/gids

cleanup() {
	uet_cleanup_links
	ip link del "$VA" 2>/dev/null
}
trap cleanup EXIT

# The sysfs spelling of the GID of an address.
gid_of() {
	python3 -c 'import ipaddress, sys
a = ipaddress.ip_address(sys.argv[1])
if a.version == 4:
    a = ipaddress.IPv6Address("::ffff:" + str(a))
print(":".join(a.exploded.split(":")))' "$1"
}

gid_index() {
	local g f

	g=$(gid_of "$1")
	for f in "$GIDS"/*; do
		if [ "$(cat "$f")" = "$g" ]; then
			basename "$f"
			return 0
		fi
	done
	return 1
}

gid_at() { [ "$(cat "$GIDS/$1")" = "$(gid_of "$2")" ]; }
has_gid() { gid_index "$1" >/dev/null; }
lacks_gid() { ! gid_index "$1" >/dev/null; }

uet_require_root
ktap_print_header
ktap_set_plan 9

uet_veth_add "$VA" "$VB" || ktap_exit_fail_msg "cannot create veth pair"
ip addr add 10.91.0.1/24 dev "$VA"
rdma link add uett0 type uet netdev "$VA" ||
	ktap_exit_fail_msg "cannot create uett0"

uet_check "an address present at creation is a GID" \
	has_gid 10.91.0.1
ll=$(ip -6 -o addr show dev "$VA" scope link | awk '{ sub("/.*", "", $4); print $4 }')
uet_check "the IPv6 link-local address is a GID" \
	uet_wait_for has_gid "${ll:-fe80::}"

ip addr add 10.91.1.1/24 dev "$VA"
uet_check "an added IPv4 address becomes an IPv4-mapped GID" \
	uet_wait_for has_gid 10.91.1.1

ip addr add 2001:db8:91::1/64 dev "$VA" nodad
uet_check "an added IPv6 address becomes a GID" \
	uet_wait_for has_gid 2001:db8:91::1

idx_before=$(gid_index 2001:db8:91::1)
ip addr del 10.91.0.1/24 dev "$VA"
uet_check "a removed IPv4 address leaves the table" \
	uet_wait_for lacks_gid 10.91.0.1
uet_check "other GIDs keep their index" \
	test "$(gid_index 2001:db8:91::1)" = "$idx_before"

ip addr add 10.91.2.1/24 dev "$VA"
uet_check "a new address takes the lowest free index" \
	uet_wait_for gid_at 0 10.91.2.1

ip addr del 2001:db8:91::1/64 dev "$VA"
uet_check "a removed IPv6 address leaves the table" \
	uet_wait_for lacks_gid 2001:db8:91::1

uet_check "ibv_devinfo lists the same GIDs at the same index" \
	sh -c "ibv_devinfo -v -d uett0 | grep -q 'GID\[  0\]:.*$(gid_of 10.91.2.1)' && \
	       ibv_devinfo -v -d uett0 | grep -q 'GID\[ *$(gid_index "${ll:-fe80::}")\]:.*$(gid_of "${ll:-fe80::}")'"

ktap_finished
