#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers shared by the uet shell selftests: KTAP output, a veth pair to
# put uet devices on, the single-device and two-namespace set-ups of the
# data tests, and clean-up that always runs.

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
	# shellcheck disable=SC2034 # read by the tests
	UET_RDMA_ERR=$(rdma "$@" 2>&1 >/dev/null)
}

uet_dev_exists() {
	[ -d "/sys/class/infiniband/$1" ]
}

# Wait up to 5 s for a device to appear ($2 = 1) or vanish ($2 = 0):
# unregistration after a netdev goes away is asynchronous.
uet_wait_dev() {
	local _

	for _ in $(seq 50); do
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
	local _

	for _ in $(seq 50); do
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

# Device type of the data-path tests (uet_ibv_examples.sh, uet_perftest.sh):
# uet, or e.g. rxe to check the tests themselves against soft-RoCE.
# shellcheck disable=SC2034 # read by the tests
UET_LINK_TYPE=${UET_TEST_LINK_TYPE:-uet}

# Seconds each server or client of a data-path test may run (generous:
# the test VM is emulated and may be shared).
UET_CMD_TIMEOUT=${UET_TEST_TIMEOUT:-120}

# 1: the two-namespace set-up puts the veth ends in two network namespaces
# (the default); 0: both ends stay in the init namespace and policy routing
# sends the traffic between the two addresses over the veth.  0 is for
# drivers that do not follow their netdev into another namespace (rxe in
# 6.12 routes and listens in init_net only).
UET_NETNS=${UET_TEST_NETNS:-1}

# The sysfs spelling of the IPv4-mapped GID of an IPv4 address.
uet_gid_of_ip4() {
	local a b c d

	IFS=. read -r a b c d <<<"$1"
	printf '0000:0000:0000:0000:0000:ffff:%02x%02x:%02x%02x\n' \
		"$a" "$b" "$c" "$d"
}

# Print the index of the GID of IPv4 address $2 on port 1 of device $1.
# rxe lists every address twice, as RoCE v1 and RoCE v2: the RoCE v2 entry
# wins; uet has a single entry per address.
uet_gid_index() {
	local port=/sys/class/infiniband/$1/ports/1 gid f n first=

	gid=$(uet_gid_of_ip4 "$2")
	for f in "$port"/gids/*; do
		[ "$(cat "$f" 2>/dev/null)" = "$gid" ] || continue
		n=${f##*/}
		if [ "$(cat "$port/gid_attrs/types/$n" 2>/dev/null)" = "RoCE v2" ]; then
			echo "$n"
			return 0
		fi
		[ -n "$first" ] || first=$n
	done
	[ -n "$first" ] && echo "$first"
}

uet_has_gid() {
	uet_gid_index "$1" "$2" >/dev/null
}

# Active MTU of port 1 of device $1 in bytes (256 ... 4096).
uet_active_mtu() {
	ibv_devinfo -d "$1" -i 1 | awk '$1 == "active_mtu:" { print $2; exit }'
}

# Run a command in network namespace $1, or in the current one when the
# namespaces are disabled (UET_NETNS=0) or $1 is empty.
uet_ns_exec() {
	local ns=$1

	shift
	if [ "$UET_NETNS" = 1 ] && [ -n "$ns" ]; then
		ip netns exec "$ns" "$@"
	else
		"$@"
	fi
}

# Policy routing for UET_NETNS=0: locally generated traffic to address $4
# leaves through $1 (source $3) and traffic to $3 through $2 (source $4),
# instead of being delivered locally through lo.  The "local" table rule
# moves after ours (restored by uet_ns_teardown); accept_local lets each
# end take packets from an address of its own host.
UET_NS_RULES=
uet_ns_route_init() {
	local va=$1 vb=$2 ipa=$3 ipb=$4 t

	sysctl -qw "net.ipv4.conf.$va.accept_local=1" \
		"net.ipv4.conf.$vb.accept_local=1" \
		"net.ipv4.conf.$va.rp_filter=0" \
		"net.ipv4.conf.$vb.rp_filter=0" || return 1
	t=$((0x7e00 + ${ipa##*.}))
	ip route add "$ipb" dev "$va" src "$ipa" table "$t" &&
		ip rule add pref 100 iif lo to "$ipb" lookup "$t" || return 1
	UET_NS_RULES="$UET_NS_RULES $ipb:$t"
	t=$((0x7e00 + ${ipb##*.}))
	ip route add "$ipa" dev "$vb" src "$ipb" table "$t" &&
		ip rule add pref 100 iif lo to "$ipa" lookup "$t" || return 1
	UET_NS_RULES="$UET_NS_RULES $ipa:$t"
	if ip rule show pref 0 | grep -q 'lookup local'; then
		ip rule add pref 32765 lookup local &&
			ip rule del pref 0 lookup local || return 1
		UET_NS_RULES="$UET_NS_RULES local"
	fi
}

# Two-namespace set-up: uet_ns_setup NSA NSB VETHA VETHB IPA IPB creates
# namespaces NSA and NSB, a veth pair VETHA-VETHB with VETHA in NSA and
# VETHB in NSB, up, with addresses IPA/24 and IPB/24.  With UET_NETNS=0
# there are no namespaces (see uet_ns_route_init).  Undo with
# uet_ns_teardown.
UET_NS_LIST=
UET_NS_VETH=
uet_ns_setup() {
	local nsa=$1 nsb=$2 va=$3 vb=$4 ipa=$5 ipb=$6

	ip link add "$va" type veth peer name "$vb" || return 1
	UET_NS_VETH=$va
	if [ "$UET_NETNS" = 1 ]; then
		ip netns add "$nsa" || return 1
		UET_NS_LIST="$UET_NS_LIST $nsa"
		ip netns add "$nsb" || return 1
		UET_NS_LIST="$UET_NS_LIST $nsb"
		ip link set "$va" netns "$nsa" &&
			ip link set "$vb" netns "$nsb" || return 1
		ip -n "$nsa" link set lo up && ip -n "$nsb" link set lo up ||
			return 1
	fi
	uet_ns_exec "$nsa" ip addr add "$ipa/24" dev "$va" &&
		uet_ns_exec "$nsb" ip addr add "$ipb/24" dev "$vb" &&
		uet_ns_exec "$nsa" ip link set "$va" up &&
		uet_ns_exec "$nsb" ip link set "$vb" up || return 1
	if [ "$UET_NETNS" != 1 ]; then
		uet_ns_route_init "$va" "$vb" "$ipa" "$ipb" || return 1
	fi
	# The TCP exchange of the tests needs the path to work both ways.
	uet_wait_for uet_ns_exec "$nsa" ping -q -c 1 -W 1 "$ipb" >/dev/null
}

uet_ns_teardown() {
	local ns r

	for r in $UET_NS_RULES; do
		if [ "$r" = local ]; then
			ip rule add pref 0 lookup local 2>/dev/null
			ip rule del pref 32765 lookup local 2>/dev/null
		else
			ip rule del pref 100 to "${r%:*}" lookup "${r#*:}" 2>/dev/null
			ip route flush table "${r#*:}" 2>/dev/null
		fi
	done
	UET_NS_RULES=
	# Deleting a namespace destroys the veth end in it.
	for ns in $UET_NS_LIST; do
		ip netns del "$ns" 2>/dev/null
	done
	UET_NS_LIST=
	[ -n "$UET_NS_VETH" ] && ip link del "$UET_NS_VETH" 2>/dev/null
	UET_NS_VETH=
}

# A device of type UET_LINK_TYPE named $2 on netdev $3 in namespace $1,
# whose port has the GID of address $4.
uet_link_add() {
	uet_ns_exec "$1" rdma link add "$2" type "$UET_LINK_TYPE" netdev "$3" &&
		uet_wait_dev "$2" 1 && uet_wait_for uet_has_gid "$2" "$4"
}

# The two set-ups of the data tests, each ending the test on failure.
# Single device: uet_single_dev_up VETHA VETHB IP DEV puts DEV on VETHA
# (address IP/24) and sets UET_SGID to the GID index of IP; undone by
# uet_pair_cleanup.
uet_single_dev_up() {
	if ! uet_veth_add "$1" "$2" || ! ip addr add "$3/24" dev "$1"; then
		ktap_exit_fail_msg "cannot create veth pair $1"
	fi
	UET_PAIR_VETH=$1
	UET_PAIR_DEVS="$UET_PAIR_DEVS $4"
	uet_link_add "" "$4" "$1" "$3" ||
		ktap_exit_fail_msg "cannot create $UET_LINK_TYPE device $4"
	# shellcheck disable=SC2034 # read by the tests
	UET_SGID=$(uet_gid_index "$4" "$3")
}

# Two namespaces: uet_two_ns_up NSA NSB VETHA VETHB IPA IPB DEVA DEVB,
# uet_ns_setup's pair with DEVA on VETHA and DEVB on VETHB; sets
# UET_GIDA and UET_GIDB.
uet_two_ns_up() {
	uet_ns_setup "$1" "$2" "$3" "$4" "$5" "$6" ||
		ktap_exit_fail_msg "cannot set up namespaces $1 and $2"
	UET_PAIR_DEVS="$UET_PAIR_DEVS $7 $8"
	uet_link_add "$1" "$7" "$3" "$5" ||
		ktap_exit_fail_msg "cannot create $UET_LINK_TYPE device $7"
	uet_link_add "$2" "$8" "$4" "$6" ||
		ktap_exit_fail_msg "cannot create $UET_LINK_TYPE device $8"
	# shellcheck disable=SC2034 # read by the tests
	UET_GIDA=$(uet_gid_index "$7" "$5")
	# shellcheck disable=SC2034 # read by the tests
	UET_GIDB=$(uet_gid_index "$8" "$6")
}

# Remove what uet_single_dev_up and uet_two_ns_up made; for an EXIT trap,
# and to drop the single device before the next set-up.
UET_PAIR_DEVS=
UET_PAIR_VETH=
uet_pair_cleanup() {
	local d

	for d in $UET_PAIR_DEVS; do
		uet_dev_exists "$d" && rdma link del "$d" 2>/dev/null
	done
	UET_PAIR_DEVS=
	[ -n "$UET_PAIR_VETH" ] && ip link del "$UET_PAIR_VETH" 2>/dev/null
	UET_PAIR_VETH=
	uet_ns_teardown
}

# Prefix that runs a command in namespace $1 (see uet_ns_exec) under
# timeout(1), so that it can be started in the background and $! is the
# timeout process: kill -TERM on it reaches the command too.
uet_timed_cmd() {
	UET_TIMED=()
	if [ "$UET_NETNS" = 1 ] && [ -n "$1" ]; then
		UET_TIMED=(ip netns exec "$1")
	fi
	UET_TIMED+=(timeout -k 5 "$UET_CMD_TIMEOUT")
	# The debug lane's fault-injection pass (UET_FAULT_INJECT=1): the
	# command's allocations in rdma_uet may fail, the set-up's do not.
	if [ "${UET_FAULT_INJECT:-0}" = 1 ]; then
		UET_TIMED+=(sh -c 'echo 1 >/proc/self/make-it-fail && exec "$@"' _)
	fi
}

uet_listening() {
	uet_ns_exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q .
}

# A client/server exchange such as ibv_rc_pingpong or ib_send_bw:
# uet_run_pair NSA NSB PORT starts the command in array UET_SRV in
# namespace NSA, waits until it listens on TCP port PORT, then runs the
# command in array UET_CLI in namespace NSB, each under timeout(1) so a
# hang is a failure.  Success when both exit with status 0.  The time
# taken and the lines of the client's output that match extended regex
# UET_SHOW are printed as KTAP comments; everything is printed on failure.
UET_SHOW=
uet_run_pair() {
	local nsa=$1 nsb=$2 port=$3 out_s out_c spid rc_s rc_c grace t0 _ ok=1

	out_s=$(mktemp) && out_c=$(mktemp) || return 1
	t0=${EPOCHREALTIME/,/.}
	uet_timed_cmd "$nsa"
	"${UET_TIMED[@]}" "${UET_SRV[@]}" >"$out_s" 2>&1 &
	spid=$!
	for _ in $(seq $((UET_CMD_TIMEOUT * 10))); do
		uet_listening "$nsa" "$port" && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	rc_c=
	if uet_listening "$nsa" "$port"; then
		uet_timed_cmd "$nsb"
		"${UET_TIMED[@]}" "${UET_CLI[@]}" >"$out_c" 2>&1
		rc_c=$?
	else
		echo "client not started: the server does not listen" >"$out_c"
	fi
	# The server ends with the exchange: give it 10 s after a client that
	# succeeded, 1 s after one that failed, before stopping it.
	grace=10
	[ "$rc_c" = 0 ] && grace=100
	for _ in $(seq "$grace"); do
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	kill -TERM "$spid" 2>/dev/null
	wait "$spid"
	rc_s=$?
	[ "$rc_s" = 0 ] && [ "$rc_c" = 0 ] || ok=0
	echo "# ${UET_CLI[0]}: $(awk -v a="$t0" -v b="${EPOCHREALTIME/,/.}" \
		'BEGIN { printf "%.1f", b - a }') s"
	if [ "$ok" = 1 ]; then
		[ -n "$UET_SHOW" ] && grep -E "$UET_SHOW" "$out_c" | sed 's/^/# /'
	else
		echo "# server: ${UET_SRV[*]} (exit status $rc_s)"
		sed 's/^/# server: /' "$out_s"
		echo "# client: ${UET_CLI[*]} (exit status ${rc_c:-none})"
		sed 's/^/# client: /' "$out_c"
	fi
	rm -f "$out_s" "$out_c"
	[ "$ok" = 1 ]
}
