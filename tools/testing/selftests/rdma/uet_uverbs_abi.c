// SPDX-License-Identifier: GPL-2.0
/*
 * udata hygiene of the uet user context: the driver accepts exactly the
 * command it knows, refuses unknown comp_mask bits with EOPNOTSUPP and
 * malformed input with EINVAL, and never writes past the response the
 * caller sized.  Commands go straight to /dev/infiniband/uverbsN with
 * write(), bypassing libibverbs, so every byte is under the test's control.
 */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rdma/ib_user_verbs.h>
#include <rdma/uet-abi.h>

#include "../kselftest_harness.h"

#define DEV "uett7"

/* Find /dev/infiniband/uverbsN of an ib device by name. */
static int open_uverbs(const char *ibdev)
{
	char path[PATH_MAX], name[64];
	struct dirent *de;
	int fd = -1;
	DIR *dir;
	FILE *f;

	dir = opendir("/sys/class/infiniband_verbs");
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "uverbs", 6))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/class/infiniband_verbs/%s/ibdev", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%63s", name) == 1 && !strcmp(name, ibdev)) {
			snprintf(path, sizeof(path), "/dev/infiniband/%s",
				 de->d_name);
			fd = open(path, O_RDWR | O_CLOEXEC);
		}
		fclose(f);
	}
	closedir(dir);
	return fd;
}

struct get_context_cmd {
	struct ib_uverbs_cmd_hdr hdr;
	struct ib_uverbs_get_context core;
	__u32 drv[8];	/* uet_alloc_ucontext_cmd and room to grow */
};

struct get_context_resp {
	struct ib_uverbs_get_context_resp core;
	__u32 drv[8];
};

/* Issue GET_CONTEXT with @drv_in bytes of driver data; 0 or -errno. */
static int get_context(int fd, const void *drv, size_t drv_in,
		       struct get_context_resp *resp, size_t drv_out)
{
	struct get_context_cmd cmd = {};
	size_t in = sizeof(cmd.hdr) + sizeof(cmd.core) + drv_in;

	memcpy(cmd.drv, drv, drv_in);
	cmd.hdr.command = IB_USER_VERBS_CMD_GET_CONTEXT;
	cmd.hdr.in_words = in / 4;
	cmd.hdr.out_words = (sizeof(resp->core) + drv_out) / 4;
	cmd.core.response = (__u64)(uintptr_t)resp;
	if (write(fd, &cmd, in) != (ssize_t)in)
		return -errno;
	/* The async event file pins the device; don't keep it open. */
	close(resp->core.async_fd);
	return 0;
}

FIXTURE(uverbs) {
	int fd;
};

static void cleanup(void)
{
	/* Best effort: the device may already be gone. */
	if (system("rdma link del " DEV " 2>/dev/null; "
		   "ip link del uetu0 2>/dev/null; true"))
		return;
}

FIXTURE_SETUP(uverbs)
{
	cleanup();
	ASSERT_EQ(0, system("ip link add uetu0 type veth peer name uetu1 && "
			    "ip link set uetu0 up && "
			    "rdma link add " DEV " type uet netdev uetu0"));
	self->fd = open_uverbs(DEV);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(uverbs)
{
	if (self->fd >= 0)
		close(self->fd);
	cleanup();
}

TEST_F(uverbs, context_exact_command)
{
	struct uet_alloc_ucontext_cmd drv = {};
	struct get_context_resp resp;

	memset(&resp, 0xa5, sizeof(resp));
	ASSERT_EQ(0, get_context(self->fd, &drv, sizeof(drv), &resp,
				 sizeof(struct uet_alloc_ucontext_resp)));
	/* The driver response is zeroed; the guard word beyond it is not. */
	EXPECT_EQ(0u, resp.drv[0]);
	EXPECT_EQ(0u, resp.drv[1]);
	EXPECT_EQ(0xa5a5a5a5u, resp.drv[2]);
	EXPECT_EQ(1u, resp.core.num_comp_vectors);
}

TEST_F(uverbs, context_only_once)
{
	struct uet_alloc_ucontext_cmd drv = {};
	struct get_context_resp resp;

	ASSERT_EQ(0, get_context(self->fd, &drv, sizeof(drv), &resp, 8));
	EXPECT_EQ(-EINVAL, get_context(self->fd, &drv, sizeof(drv), &resp, 8));
}

TEST_F(uverbs, context_unknown_comp_mask)
{
	struct uet_alloc_ucontext_cmd drv = { .comp_mask = 1 };
	struct get_context_resp resp;

	EXPECT_EQ(-EOPNOTSUPP,
		  get_context(self->fd, &drv, sizeof(drv), &resp, 8));
	/* The failed attempt left no context behind. */
	drv.comp_mask = 0;
	EXPECT_EQ(0, get_context(self->fd, &drv, sizeof(drv), &resp, 8));
}

TEST_F(uverbs, context_reserved_set)
{
	struct uet_alloc_ucontext_cmd drv = { .reserved_20 = 1 };
	struct get_context_resp resp;

	EXPECT_EQ(-EINVAL, get_context(self->fd, &drv, sizeof(drv), &resp, 8));
}

TEST_F(uverbs, context_short_command)
{
	struct uet_alloc_ucontext_cmd drv = {};
	struct get_context_resp resp;

	EXPECT_EQ(-EINVAL, get_context(self->fd, &drv, 4, &resp, 8));
	EXPECT_EQ(-EINVAL, get_context(self->fd, &drv, 0, &resp, 8));
}

TEST_F(uverbs, context_longer_command)
{
	__u32 drv[4] = {};
	struct get_context_resp resp;

	/* A newer provider's zero tail is fine, a non-zero one is not. */
	drv[3] = 1;
	EXPECT_EQ(-EINVAL, get_context(self->fd, drv, sizeof(drv), &resp, 8));
	drv[3] = 0;
	EXPECT_EQ(0, get_context(self->fd, drv, sizeof(drv), &resp, 8));
}

TEST_F(uverbs, context_short_response)
{
	struct uet_alloc_ucontext_cmd drv = {};
	struct get_context_resp resp;

	/* An older provider sized for no driver response still works. */
	memset(&resp, 0xa5, sizeof(resp));
	ASSERT_EQ(0, get_context(self->fd, &drv, sizeof(drv), &resp, 0));
	EXPECT_EQ(0xa5a5a5a5u, resp.drv[0]);
}

TEST_HARNESS_MAIN
