#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Runs inside the test VM (scripts/vm-run.sh): installs the module and
# provider into the guest's throw-away root with "make install", runs
# the kselftests and the rdma-core pyverbs suite, and prints TAP.
set -u

B=${1:?usage: vm-tests.sh BUILD_DIR}
TOP=$(cd "$(dirname "$0")/.." && pwd)
n_extra=0

extra_result() {
	n_extra=$((n_extra + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n_extra $2"
	else
		echo "not ok $n_extra $2"
	fi
}

echo "# kernel $(uname -r)"
# What rdma-core's udev rules do on a real system: provide the uverbs
# character devices for every RDMA device.
modprobe ib_uverbs
make -s -C "$TOP" install >/tmp/install.log 2>&1
extra_result $? "make install (module, provider, uet.driver) in the guest"
sed 's/^/# /' /tmp/install.log | grep -v -i 'sign' | tail -n 20

"$B/ksft-install/run_kselftest.sh"

# The provider also loads uninstalled, from the build tree.
ip link add uetb0 type veth peer name uetb1
rdma link add uetb0 type uet netdev uetb0
mv /etc/libibverbs.d/uet.driver /tmp/uet.driver.saved
! ibv_devinfo -d uetb0 >/dev/null 2>&1
extra_result $? "without uet.driver libibverbs does not open uetb0"
RDMAV_DRIVERS=$B/provider/libuet ibv_devinfo -d uetb0 2>&1 |
	grep -q 'hca_id:[[:space:]]*uetb0'
extra_result $? "RDMAV_DRIVERS=build/provider/libuet loads the provider"
mv /tmp/uet.driver.saved /etc/libibverbs.d/uet.driver
rdma link del uetb0
ip link del uetb0

bash "$TOP/scripts/pyverbs-run.sh"
