// SPDX-License-Identifier: GPL-2.0
/*
 * udata hygiene of uet commands and the rules of its user-mapped queues:
 * the driver accepts exactly the command it knows, refuses unknown
 * comp_mask bits with EOPNOTSUPP and malformed input with EINVAL, never
 * writes past the response the caller sized, lets each queue be mapped
 * once, at its exact size, and never after it is destroyed.  Commands go
 * straight to /dev/infiniband/uverbsN with write(), bypassing libibverbs,
 * so every byte is under the test's control.
 */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/* A fresh device on a fresh veth pair; its uverbs fd, or -1. */
static int device_open(void)
{
	cleanup();
	if (system("ip link add uetu0 type veth peer name uetu1 && "
		   "ip link set uetu0 up && "
		   "rdma link add " DEV " type uet netdev uetu0"))
		return -1;
	return open_uverbs(DEV);
}

static void device_close(int fd)
{
	if (fd >= 0)
		close(fd);
	cleanup();
}

FIXTURE_SETUP(uverbs)
{
	self->fd = device_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(uverbs)
{
	device_close(self->fd);
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

struct create_cq_cmd {
	struct ib_uverbs_cmd_hdr hdr;
	struct ib_uverbs_create_cq core;
	struct uet_create_cq_cmd drv;
};

struct create_cq_resp {
	struct ib_uverbs_create_cq_resp core;
	struct uet_create_cq_resp drv;
};

/* CREATE_CQ of @cqe entries with driver command @drv; 0 or -errno. */
static int create_cq(int fd, __u32 cqe, const struct uet_create_cq_cmd *drv,
		     struct create_cq_resp *resp)
{
	struct create_cq_cmd cmd = {
		.hdr.command = IB_USER_VERBS_CMD_CREATE_CQ,
		.hdr.in_words = sizeof(cmd) / 4,
		.hdr.out_words = sizeof(*resp) / 4,
		.core.response = (__u64)(uintptr_t)resp,
		.core.cqe = cqe,
		.core.comp_channel = -1,
		.drv = *drv,
	};

	if (write(fd, &cmd, sizeof(cmd)) != sizeof(cmd))
		return -errno;
	return 0;
}

static int destroy_cq(int fd, __u32 handle)
{
	struct ib_uverbs_destroy_cq_resp resp;
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_destroy_cq core;
	} cmd = {
		.hdr.command = IB_USER_VERBS_CMD_DESTROY_CQ,
		.hdr.in_words = sizeof(cmd) / 4,
		.hdr.out_words = sizeof(resp) / 4,
		.core.response = (__u64)(uintptr_t)&resp,
		.core.cq_handle = handle,
	};

	if (write(fd, &cmd, sizeof(cmd)) != sizeof(cmd))
		return -errno;
	return 0;
}

static void *map_queue(int fd, size_t size, __u64 offset)
{
	return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);
}

FIXTURE(cq) {
	int fd;
};

FIXTURE_SETUP(cq)
{
	struct uet_alloc_ucontext_cmd drv = {};
	struct get_context_resp resp;

	self->fd = device_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, get_context(self->fd, &drv, sizeof(drv), &resp, 8));
}

FIXTURE_TEARDOWN(cq)
{
	device_close(self->fd);
}

TEST_F(cq, ring_rounded_and_mapped_once)
{
	struct uet_create_cq_cmd drv = {};
	struct create_cq_resp resp = {};
	struct uet_queue_hdr *hdr;
	void *again;

	ASSERT_EQ(0, create_cq(self->fd, 100, &drv, &resp));
	EXPECT_EQ(128u, resp.drv.num_entries);
	EXPECT_EQ(128u, resp.core.cqe);
	EXPECT_EQ(0u, resp.drv.comp_mask);
	EXPECT_LE(UET_QUEUE_HDR_SIZE + 128 * sizeof(struct uet_cqe),
		  resp.drv.mmap_size);

	/* A wrong length is refused, the exact one works, once. */
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, resp.drv.mmap_size + 4096,
					resp.drv.mmap_offset));
	hdr = map_queue(self->fd, resp.drv.mmap_size, resp.drv.mmap_offset);
	ASSERT_NE(MAP_FAILED, hdr);
	EXPECT_EQ(0u, hdr->producer);
	EXPECT_EQ(0u, hdr->consumer);
	again = map_queue(self->fd, resp.drv.mmap_size, resp.drv.mmap_offset);
	EXPECT_EQ(MAP_FAILED, again);
	EXPECT_EQ(EBUSY, errno);

	/* Destroyed while mapped: the memory stays valid until munmap. */
	EXPECT_EQ(0, destroy_cq(self->fd, resp.core.cq_handle));
	hdr->consumer = 1;
	EXPECT_EQ(0, munmap(hdr, resp.drv.mmap_size));
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, resp.drv.mmap_size,
					resp.drv.mmap_offset));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(cq, unmapped_after_destroy)
{
	struct uet_create_cq_cmd drv = {};
	struct create_cq_resp resp = {};

	ASSERT_EQ(0, create_cq(self->fd, 1, &drv, &resp));
	EXPECT_EQ(1u, resp.drv.num_entries);
	ASSERT_EQ(0, destroy_cq(self->fd, resp.core.cq_handle));
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, resp.drv.mmap_size,
					resp.drv.mmap_offset));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(cq, bad_commands)
{
	struct uet_create_cq_cmd drv = {};
	struct create_cq_resp resp;

	EXPECT_EQ(-EINVAL, create_cq(self->fd, 0, &drv, &resp));
	EXPECT_EQ(-EINVAL, create_cq(self->fd, 65537, &drv, &resp));
	drv.comp_mask = 1;
	EXPECT_EQ(-EOPNOTSUPP, create_cq(self->fd, 16, &drv, &resp));
	drv.comp_mask = 0;
	drv.reserved_20 = 1;
	EXPECT_EQ(-EINVAL, create_cq(self->fd, 16, &drv, &resp));
	drv.reserved_20 = 0;
	ASSERT_EQ(0, create_cq(self->fd, 65536, &drv, &resp));
	EXPECT_EQ(65536u, resp.drv.num_entries);
	EXPECT_EQ(0, destroy_cq(self->fd, resp.core.cq_handle));
}

/* max_cq as query_device reports it (see uet.rst). */
#define UET_MAX_CQ 16384

TEST_F_TIMEOUT(cq, max_cq_boundary, 300)
{
	struct uet_create_cq_cmd drv = {};
	struct create_cq_resp resp;
	__u32 *handles;
	int i, n = 0;

	handles = calloc(UET_MAX_CQ, sizeof(*handles));
	ASSERT_NE(NULL, handles);
	for (i = 0; i < UET_MAX_CQ; i++) {
		if (create_cq(self->fd, 1, &drv, &resp))
			break;
		handles[n++] = resp.core.cq_handle;
	}
	EXPECT_EQ(UET_MAX_CQ, n);
	EXPECT_EQ(-ENOMEM, create_cq(self->fd, 1, &drv, &resp));

	/* A freed slot can be used again. */
	ASSERT_EQ(0, destroy_cq(self->fd, handles[--n]));
	ASSERT_EQ(0, create_cq(self->fd, 1, &drv, &resp));
	handles[n++] = resp.core.cq_handle;

	for (i = 0; i < n; i++)
		EXPECT_EQ(0, destroy_cq(self->fd, handles[i]));
	free(handles);
}

TEST_HARNESS_MAIN
