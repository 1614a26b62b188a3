#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# uet and network namespaces, after mainline's rxe selftests
# (rxe_rping_between_netns.sh, rxe_socket_with_netns.sh,
# rxe_test_NETDEV_UNREGISTER.sh, rxe_ipv6.sh, rxe_netns_names.sh), with
# ibv_rc_pingpong for rping, which needs rdma_cm:
#  a. devices on the two ends of a veth pair split across two namespaces
#     exchange data; each namespace listens on UDP 4793 only while a uet
#     device uses it;
#  b. the socket of a namespace lives while any of its devices does;
#  c. deleting the netdev, or the namespace holding it, removes the device
#     and its socket;
#  d. the same exchange over IPv6-only addresses;
#  e. "rdma system set netns exclusive": a device moves into a namespace
#     with "rdma dev set ... netns", is seen and used there only, can be
#     renamed (not to a name in use), and returns to init_net when its
#     namespace is deleted while its netdev lives elsewhere.

. "$(dirname "$(realpath "$0")")/uet_lib.sh"

PORT=18700
NSA=uetnsA
NSB=uetnsB
NSC=uetnsC
VA=uetnA
VB=uetnB
IPA=10.99.0.1
IPB=10.99.0.2
IP6A=fd00:99::1
IP6B=fd00:99::2
DA=uettnA
DB=uettnB
SYS_NETNS=

cleanup() {
	local ns

	for ns in $NSC uetnsD; do
		ip netns del "$ns" 2>/dev/null
	done
	uet_pair_cleanup
	uet_cleanup_links
	for ns in uetnC uetnE uetnG; do
		ip link del "$ns" 2>/dev/null
	done
	[ -n "$SYS_NETNS" ] &&
		uet_wait_for rdma system set netns shared 2>/dev/null
}
trap cleanup EXIT

# Is UDP port 4793 open in namespace $1 ("" for init_net)?
udp_listening() {
	if [ -n "$1" ]; then
		ip netns exec "$1" ss -Huln 'sport = :4793'
	else
		ss -Huln 'sport = :4793'
	fi | grep -q .
}

udp_closed() {
	! udp_listening "$1"
}

# Is device $2 listed by "rdma link" in namespace $1?
rdma_link_has() {
	if [ -n "$1" ]; then
		ip netns exec "$1" rdma link show
	else
		rdma link show
	fi 2>/dev/null | grep -q "link $2/"
}

rdma_dev_visible() {
	if [ -n "$1" ]; then
		ip netns exec "$1" rdma dev show "$2"
	else
		rdma dev show "$2"
	fi >/dev/null 2>&1
}

link_gone() {
	! rdma_link_has "" "$1" && ! uet_dev_exists "$1"
}

# The sysfs spelling of IPv6 address $1, and its GID index on device $2
# (sysfs of namespace $3, "" for init_net).
uet_gid6_index() {
	local gid f

	gid=$(python3 -c 'import ipaddress, sys
print(ipaddress.ip_address(sys.argv[1]).exploded)' "$1")
	for f in /sys/class/infiniband/"$2"/ports/1/gids/*; do
		if [ "$(cat "$f" 2>/dev/null)" = "$gid" ]; then
			echo "${f##*/}"
			return 0
		fi
	done
	return 1
}

# ibv_rc_pingpong between device $3 (GID $4) in namespace $1, the server,
# and device $5 (GID $6) in namespace $2, connecting to address $7.
pingpong() {
	PORT=$((PORT + 1))
	UET_SRV=(ibv_rc_pingpong -d "$3" -i 1 -g "$4" -p "$PORT" -n 50 -c
		 -s 4096)
	UET_CLI=(ibv_rc_pingpong -d "$5" -i 1 -g "$6" -p "$PORT" -n 50 -c
		 -s 4096 "$7")
	uet_run_pair "$1" "$2" "$PORT"
}

dmesg_clean() {
	! dmesg | grep -E -q 'WARNING:|BUG:|refcount_t|leak|Oops'
}

uet_require_root
ktap_print_header
for p in ibv_rc_pingpong ss timeout python3; do
	if ! command -v "$p" >/dev/null; then
		ktap_skip_all "$p is not installed"
		exit "$KSFT_SKIP"
	fi
done
if [ "$UET_NETNS" != 1 ]; then
	ktap_skip_all "network namespaces disabled (UET_TEST_NETNS=0)"
	exit "$KSFT_SKIP"
fi
if rdma system show 2>/dev/null | grep -q 'netns exclusive'; then
	ktap_skip_all "rdma system netns is exclusive already"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 35
modprobe -q ib_uverbs
dmesg -C

# a. Two namespaces, a device in each.
t0=$SECONDS
uet_ns_setup "$NSA" "$NSB" "$VA" "$VB" "$IPA" "$IPB" ||
	ktap_exit_fail_msg "cannot set up namespaces"
uet_check "a: no UDP 4793 in a namespace without a device" \
	eval 'udp_closed $NSA && udp_closed $NSB'
UET_PAIR_DEVS="$DA $DB"
uet_link_add "$NSA" "$DA" "$VA" "$IPA" && uet_link_add "$NSB" "$DB" "$VB" "$IPB" ||
	ktap_exit_fail_msg "cannot create devices"
uet_check "a: UDP 4793 in each namespace with a device" \
	eval 'udp_listening $NSA && udp_listening $NSB'
uet_check "a: not in init_net, which has none" udp_closed ""
uet_check "a: ibv_rc_pingpong between the namespaces" \
	pingpong "$NSA" "$NSB" "$DA" "$(uet_gid_index "$DA" "$IPA")" \
	"$DB" "$(uet_gid_index "$DB" "$IPB")" "$IPA"
rdma link del "$DA" && rdma link del "$DB"
uet_check "a: both sockets close with the devices" \
	uet_wait_for eval 'udp_closed $NSA && udp_closed $NSB'
uet_pair_cleanup
ktap_print_msg "a: $((SECONDS - t0)) s"

# b. Two devices in one namespace share its socket.
t0=$SECONDS
ip netns add "$NSC" &&
	ip link add uetnC netns "$NSC" type veth peer name uetnD netns "$NSC" &&
	ip link add uetnE netns "$NSC" type veth peer name uetnF netns "$NSC" ||
	ktap_exit_fail_msg "cannot set up $NSC"
for v in uetnC uetnD uetnE uetnF; do
	ip -n "$NSC" link set "$v" up
done
ip netns exec "$NSC" rdma link add uettnC type uet netdev uetnC &&
	ip netns exec "$NSC" rdma link add uettnE type uet netdev uetnE ||
	ktap_exit_fail_msg "cannot create devices in $NSC"
uet_check "b: two devices, one namespace listening" udp_listening "$NSC"
rdma link del uettnC
uet_check "b: one device deleted, still listening" udp_listening "$NSC"
rdma link del uettnE
uet_check "b: the last one deleted, the socket is gone" \
	uet_wait_for udp_closed "$NSC"

# c. NETDEV_UNREGISTER: deleting the netdev removes the link and socket.
t0c=$SECONDS
ip netns exec "$NSC" rdma link add uettnC type uet netdev uetnC ||
	ktap_exit_fail_msg "cannot create uettnC"
uet_check "c: device up and listening" \
	eval 'uet_dev_exists uettnC && udp_listening $NSC'
ip -n "$NSC" link del uetnC
uet_check "c: ip link del removes the device" uet_wait_dev uettnC 0
uet_check "c: ... and its rdma link" uet_wait_for link_gone uettnC
uet_check "c: ... and the socket" uet_wait_for udp_closed "$NSC"
ip netns exec "$NSC" rdma link add uettnE type uet netdev uetnE ||
	ktap_exit_fail_msg "cannot create uettnE"
ip netns del "$NSC"
uet_check "c: deleting the namespace removes its device" \
	uet_wait_for link_gone uettnE
ktap_print_msg "b: $((t0c - t0)) s, c: $((SECONDS - t0c)) s"

# d. IPv6 only.  The pingpong examples' server listens on IPv4 only, so
# their TCP exchange goes over a second veth pair, without uet devices.
t0=$SECONDS
uet_ns_setup "$NSA" "$NSB" "$VA" "$VB" "$IPA" "$IPB" ||
	ktap_exit_fail_msg "cannot set up namespaces"
ip -n "$NSA" addr flush dev "$VA" &&
	ip -n "$NSB" addr flush dev "$VB" &&
	ip -n "$NSA" -6 addr add "$IP6A/64" dev "$VA" nodad &&
	ip -n "$NSB" -6 addr add "$IP6B/64" dev "$VB" nodad &&
	ip link add uetnI netns "$NSA" type veth peer name uetnJ netns "$NSB" &&
	ip -n "$NSA" addr add 10.99.2.1/24 dev uetnI &&
	ip -n "$NSB" addr add 10.99.2.2/24 dev uetnJ &&
	ip -n "$NSA" link set uetnI up && ip -n "$NSB" link set uetnJ up ||
	ktap_exit_fail_msg "cannot set IPv6 addresses"
UET_PAIR_DEVS="$DA $DB"
ip netns exec "$NSA" rdma link add "$DA" type uet netdev "$VA" &&
	ip netns exec "$NSB" rdma link add "$DB" type uet netdev "$VB" ||
	ktap_exit_fail_msg "cannot create devices"
uet_check "d: the IPv6 addresses are GIDs" \
	uet_wait_for eval 'uet_gid6_index $IP6A $DA >/dev/null &&
			   uet_gid6_index $IP6B $DB >/dev/null'
uet_check "d: no IPv4 GID" \
	eval '! grep -q "0000:0000:0000:0000:0000:ffff:" \
		/sys/class/infiniband/$DA/ports/1/gids/*'
udp6_in() {
	ip netns exec "$NSA" awk '$1 == "Udp6InDatagrams" { print $2 }' \
		/proc/net/snmp6
}
n0=$(udp6_in)
uet_check "d: ibv_rc_pingpong over IPv6" \
	pingpong "$NSA" "$NSB" "$DA" "$(uet_gid6_index "$IP6A" "$DA")" \
	"$DB" "$(uet_gid6_index "$IP6B" "$DB")" 10.99.2.1
n1=$(udp6_in)
ktap_print_msg "d: $((n1 - n0)) UDP/IPv6 datagrams received in $NSA"
uet_check "d: the IPv6 UDP socket carried it" [ $((n1 - n0)) -ge 50 ]
uet_pair_cleanup
ktap_print_msg "d: $((SECONDS - t0)) s"

# e. Exclusive mode: moving and renaming devices.  ib_core switches the
# mode only while init_net is the only namespace, and namespaces go away
# asynchronously after "ip netns del": wait for that.
t0=$SECONDS
uet_check "e: rdma system set netns exclusive" \
	uet_wait_for rdma system set netns exclusive
SYS_NETNS=1
uet_ns_setup "$NSA" "$NSB" "$VA" "$VB" "$IPA" "$IPB" ||
	ktap_exit_fail_msg "cannot set up namespaces"
UET_PAIR_DEVS="$DA $DB"
uet_link_add "$NSA" "$DA" "$VA" "$IPA" && uet_link_add "$NSB" "$DB" "$VB" "$IPB" ||
	ktap_exit_fail_msg "cannot create devices"
gida=$(uet_gid_index "$DA" "$IPA")
gidb=$(uet_gid_index "$DB" "$IPB")
# A new device is born in init_net whichever namespace asked for it.
uet_check "e: a new device is in init_net, not in its netdev's namespace" \
	eval 'rdma_dev_visible "" $DA && ! rdma_dev_visible $NSA $DA'
uet_check "e: rdma dev set netns moves it" \
	eval 'rdma dev set $DA netns $NSA && rdma dev set $DB netns $NSB'
uet_check "e: it is gone from init_net" \
	eval '! rdma_dev_visible "" $DA && ! uet_dev_exists $DA'
uet_check "e: and seen in its namespace only" \
	eval 'rdma_dev_visible $NSA $DA && ! rdma_dev_visible $NSB $DA'
uet_check "e: ibv_rc_pingpong between the moved devices" \
	pingpong "$NSA" "$NSB" "$DA" "$gida" "$DB" "$gidb" "$IPA"
uet_check "e: rename in its namespace" \
	ip netns exec "$NSA" rdma dev set "$DA" name uettnX
# Names are global: the one of a device in another namespace is taken.
ip netns exec "$NSA" rdma dev set uettnX name "$DB" 2>/dev/null
rc=$?
uet_check "e: renaming to a name in use elsewhere fails" \
	eval '[ $rc != 0 ] && rdma_dev_visible $NSA uettnX'
uet_check "e: rename back" ip netns exec "$NSA" rdma dev set uettnX name "$DA"
# A device whose netdev stays in init_net, moved away and back.
uet_veth_add uetnG uetnH && ip addr add 10.99.1.1/24 dev uetnG &&
	uet_link_add "" uettnG uetnG 10.99.1.1 && ip netns add "$NSC" ||
	ktap_exit_fail_msg "cannot create uettnG"
uet_check "e: a device moves away from its netdev's namespace" \
	eval 'rdma dev set uettnG netns $NSC && rdma_dev_visible $NSC uettnG &&
	      ! rdma_dev_visible "" uettnG'
ip netns del "$NSC"
uet_check "e: deleting that namespace returns it to init_net" \
	uet_wait_for rdma_dev_visible "" uettnG
uet_check "e: usable again there" \
	eval 'ibv_devinfo -d uettnG | grep -q PORT_ACTIVE'
ip netns del "$NSA"
uet_check "e: deleting the namespace of device and netdev removes it" \
	uet_wait_for eval 'link_gone $DA && ! rdma_dev_visible "" $DA'
uet_pair_cleanup
uet_check "e: ... also when the device was moved there" \
	uet_wait_for link_gone "$DB"
uet_check "e: rdma system set netns shared" \
	uet_wait_for rdma system set netns shared
SYS_NETNS=
uet_check "e: the returned device is still there" \
	eval 'rdma_dev_visible "" uettnG && rdma link del uettnG'
ip link del uetnG
ktap_print_msg "e: $((SECONDS - t0)) s"

uet_check "no UDP 4793 socket is left" udp_closed ""
uet_check "dmesg has no warning" dmesg_clean
dmesg | grep -E 'WARNING:|BUG:|refcount_t|leak|Oops' -A5 | head -40 |
	sed 's/^/# /'

ktap_finished
