#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers shared by the uet shell selftests: KTAP output, a veth pair to
# put uet devices on, and clean-up that always runs.

UET_LIB_DIR=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
# shellcheck source=/dev/null
. "$UET_LIB_DIR/../kselftest/ktap_helpers.sh"

# Run a check and report it: uet_check "description" command [args...].
# Unlike ktap_test_result, the arguments are passed on unsplit.
uet_check() {
	local description=$1

	shift
	if "$@"; then
		ktap_test_pass "$description"
	else
		ktap_test_fail "$description"
	fi
}

uet_require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		ktap_skip_all "must be run as root"
		exit "$KSFT_SKIP"
	fi
}

# Run "rdma" and keep its stderr, so a test can check the error text.
uet_rdma() {
	UET_RDMA_ERR=$(rdma "$@" 2>&1 >/dev/null)
}

uet_dev_exists() {
	[ -d "/sys/class/infiniband/$1" ]
}

# Wait up to 5 s for a device to appear ($2 = 1) or vanish ($2 = 0):
# unregistration after a netdev goes away is asynchronous.
uet_wait_dev() {
	local i

	for i in $(seq 50); do
		if uet_dev_exists "$1"; then
			[ "$2" = 1 ] && return 0
		else
			[ "$2" = 0 ] && return 0
		fi
		sleep 0.1
	done
	return 1
}

# A veth pair with both ends up; the peer keeps the link carrier on.
uet_veth_add() {
	ip link add "$1" type veth peer name "$2" &&
		ip link set "$1" up && ip link set "$2" up
}

uet_sysfs_port() {
	cat "/sys/class/infiniband/$1/ports/1/$2"
}

# Poll a command until it succeeds, up to 5 s.
uet_wait_for() {
	local i

	for i in $(seq 50); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# Tests name their devices uett*, so clean-up never touches anything else.
uet_cleanup_links() {
	local d

	for d in /sys/class/infiniband/uett*; do
		[ -e "$d" ] || continue
		rdma link del "$(basename "$d")" 2>/dev/null
	done
}
