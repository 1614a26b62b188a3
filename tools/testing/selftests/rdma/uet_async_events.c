// SPDX-License-Identifier: GPL-2.0
/*
 * A uet port as a libibverbs application sees it through the uet
 * provider: PORT_ERR/PORT_ACTIVE events when the netdev goes down/up or
 * loses carrier, port queries that agree with them, and a GID table that
 * follows the netdev's addresses.
 *
 * The driver reports address changes with IB_EVENT_GID_CHANGE, which
 * makes the core re-read the table; ib_core 6.12 does not pass that event
 * on to user space for ports without RoCE (see uet.rst), so the GID tests
 * check the table, not the event.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "../kselftest_harness.h"
#include "uet_verbs_util.h"

#define DEV "uett8"
#define NETDEV "uetev0"

static void run(const char *cmd)
{
	if (system(cmd))
		fprintf(stderr, "# command failed: %s\n", cmd);
}

/* Wait up to 5 s for @want, skipping other events; true if seen. */
static bool wait_event(struct ibv_context *ctx, enum ibv_event_type want)
{
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	struct ibv_async_event ev;
	int i;

	for (i = 0; i < 50; i++) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (ibv_get_async_event(ctx, &ev))
			return false;
		ibv_ack_async_event(&ev);
		if (ev.event_type == want && ev.element.port_num == 1)
			return true;
	}
	return false;
}

/* Consume whatever is queued until the port has been quiet for 300 ms. */
static void drain_events(struct ibv_context *ctx)
{
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	struct ibv_async_event ev;

	while (poll(&pfd, 1, 300) > 0 && !ibv_get_async_event(ctx, &ev))
		ibv_ack_async_event(&ev);
}

/* Poll up to 5 s for @addr to be in (@present) or out of the table. */
static bool wait_gid(struct ibv_context *ctx, const char *addr, bool present)
{
	int i;

	for (i = 0; i < 50; i++) {
		if ((uet_find_gid(ctx, addr) >= 0) == present)
			return true;
		usleep(100000);
	}
	return false;
}

static int port_state(struct ibv_context *ctx)
{
	struct ibv_port_attr pa;

	return ibv_query_port(ctx, 1, &pa) ? IBV_PORT_NOP : pa.state;
}

FIXTURE(port) {
	struct ibv_context *ctx;
};

FIXTURE_SETUP(port)
{
	/* No DAD: the link-local address settles before the tests start. */
	run("rdma link del " DEV " 2>/dev/null; ip link del " NETDEV " 2>/dev/null; true");
	ASSERT_EQ(0, system("ip link add " NETDEV " type veth peer name uetev1 && "
			    "sysctl -qw net.ipv6.conf." NETDEV ".accept_dad=0 && "
			    "ip link set " NETDEV " up && ip link set uetev1 up && "
			    "rdma link add " DEV " type uet netdev " NETDEV));
	self->ctx = uet_open_dev(DEV);
	ASSERT_NE(NULL, self->ctx) TH_LOG("uet provider did not open " DEV);
	drain_events(self->ctx);
}

FIXTURE_TEARDOWN(port)
{
	if (self->ctx)
		ibv_close_device(self->ctx);
	run("rdma link del " DEV " 2>/dev/null; ip link del " NETDEV " 2>/dev/null; true");
}

TEST_F(port, down_up_events)
{
	ASSERT_EQ(IBV_PORT_ACTIVE, port_state(self->ctx));

	run("ip link set " NETDEV " down");
	EXPECT_TRUE(wait_event(self->ctx, IBV_EVENT_PORT_ERR));
	EXPECT_EQ(IBV_PORT_DOWN, port_state(self->ctx));

	run("ip link set " NETDEV " up");
	EXPECT_TRUE(wait_event(self->ctx, IBV_EVENT_PORT_ACTIVE));
	EXPECT_EQ(IBV_PORT_ACTIVE, port_state(self->ctx));
}

TEST_F(port, carrier_events)
{
	run("ip link set uetev1 down");
	EXPECT_TRUE(wait_event(self->ctx, IBV_EVENT_PORT_ERR));
	EXPECT_EQ(IBV_PORT_DOWN, port_state(self->ctx));

	run("ip link set uetev1 up");
	EXPECT_TRUE(wait_event(self->ctx, IBV_EVENT_PORT_ACTIVE));
	EXPECT_EQ(IBV_PORT_ACTIVE, port_state(self->ctx));
}

TEST_F(port, ipv4_gids)
{
	EXPECT_EQ(-1, uet_find_gid(self->ctx, "10.93.0.1"));

	run("ip addr add 10.93.0.1/24 dev " NETDEV);
	EXPECT_TRUE(wait_gid(self->ctx, "10.93.0.1", true));

	run("ip addr del 10.93.0.1/24 dev " NETDEV);
	EXPECT_TRUE(wait_gid(self->ctx, "10.93.0.1", false));
}

TEST_F(port, ipv6_gids)
{
	run("ip addr add 2001:db8:93::1/64 dev " NETDEV " nodad");
	EXPECT_TRUE(wait_gid(self->ctx, "2001:db8:93::1", true));

	run("ip addr del 2001:db8:93::1/64 dev " NETDEV);
	EXPECT_TRUE(wait_gid(self->ctx, "2001:db8:93::1", false));
}

TEST_HARNESS_MAIN
