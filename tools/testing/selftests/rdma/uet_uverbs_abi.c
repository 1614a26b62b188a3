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
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <infiniband/verbs.h>	/* constants only: no libibverbs here */
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
	__u32 drv[16];
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
	struct uet_alloc_ucontext_resp *r;
	struct get_context_resp resp;
	const size_t words = sizeof(*r) / 4;

	memset(&resp, 0xa5, sizeof(resp));
	ASSERT_EQ(0, get_context(self->fd, &drv, sizeof(drv), &resp,
				 sizeof(struct uet_alloc_ucontext_resp)));
	/* The driver response is written; the guard word beyond it is not. */
	r = (struct uet_alloc_ucontext_resp *)resp.drv;
	EXPECT_EQ(UET_UCTX_RESP_JOB_LIMITS, r->comp_mask);
	EXPECT_EQ(0u, r->reserved_20);
	EXPECT_EQ(256u, r->max_jobs);
	EXPECT_EQ(4096u, r->max_jkeys);
	EXPECT_EQ(4096u, r->max_job_addrs);
	EXPECT_EQ(0u, r->reserved_1a0);
	/* The doorbell page: one page, at a page-aligned offset. */
	EXPECT_EQ((__u64)sysconf(_SC_PAGESIZE), r->db_mmap_size);
	EXPECT_EQ(0u, r->db_mmap_offset % sysconf(_SC_PAGESIZE));
	ASSERT_GT(sizeof(resp.drv) / 4, words);
	EXPECT_EQ(0xa5a5a5a5u, resp.drv[words]);
	EXPECT_EQ(1u, resp.core.num_comp_vectors);
}

/* A provider from before the job limits gets the response it sized. */
TEST_F(uverbs, context_older_response)
{
	struct uet_alloc_ucontext_cmd drv = {};
	struct get_context_resp resp;
	__u64 db_size;

	memset(&resp, 0xa5, sizeof(resp));
	ASSERT_EQ(0, get_context(self->fd, &drv, sizeof(drv), &resp, 24));
	memcpy(&db_size, &resp.drv[4], sizeof(db_size));
	EXPECT_EQ((__u64)sysconf(_SC_PAGESIZE), db_size);
	EXPECT_EQ(0xa5a5a5a5u, resp.drv[6]);
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

/*
 * Queue pairs, SRQs and CQ resize: the driver command each carries, the
 * rings they map, and the ring protocol of the error state, byte by byte.
 */

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* write() a command of @len bytes; 0 or -errno. */
static int uverbs_write(int fd, const void *cmd, size_t len)
{
	if (write(fd, cmd, len) != (ssize_t)len)
		return -errno;
	return 0;
}

static int alloc_pd(int fd, __u32 *handle)
{
	struct ib_uverbs_alloc_pd_resp resp;
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_alloc_pd core;
	} cmd = {
		.hdr.command = IB_USER_VERBS_CMD_ALLOC_PD,
		.hdr.in_words = sizeof(cmd) / 4,
		.hdr.out_words = sizeof(resp) / 4,
		.core.response = (__u64)(uintptr_t)&resp,
	};
	int err = uverbs_write(fd, &cmd, sizeof(cmd));

	*handle = resp.pd_handle;
	return err;
}

struct create_qp_cmd {
	struct ib_uverbs_cmd_hdr hdr;
	struct ib_uverbs_create_qp core;
	__u32 drv[6];	/* uet_create_qp_cmd and room to grow */
};

struct create_qp_resp {
	struct ib_uverbs_create_qp_resp core;
	struct uet_create_qp_resp drv;
	__u32 guard[2];
};

struct qp_req {
	__u8 type;
	__u32 srq_handle;	/* ~0: no SRQ */
	__u32 send_wr, recv_wr;
};

/*
 * CREATE_QP with @drv_len bytes of driver command @drv; the response
 * leaves room for a guard after the driver part.  0 or -errno.
 */
static int create_qp(int fd, __u32 pd, __u32 cq, const struct qp_req *q,
		     const void *drv, size_t drv_len,
		     struct create_qp_resp *resp)
{
	size_t len = sizeof(struct ib_uverbs_cmd_hdr) +
		     sizeof(struct ib_uverbs_create_qp) + drv_len;
	struct create_qp_cmd cmd = {
		.hdr.command = IB_USER_VERBS_CMD_CREATE_QP,
		.hdr.in_words = len / 4,
		.hdr.out_words = sizeof(*resp) / 4,
		.core.response = (__u64)(uintptr_t)resp,
		.core.pd_handle = pd,
		.core.send_cq_handle = cq,
		.core.recv_cq_handle = cq,
		.core.max_send_wr = q->send_wr,
		.core.max_recv_wr = q->srq_handle == ~0u ? q->recv_wr : 0,
		.core.max_send_sge = 1,
		.core.max_recv_sge = q->srq_handle == ~0u ? 1 : 0,
		.core.qp_type = q->type,
	};

	if (q->srq_handle != ~0u) {
		cmd.core.srq_handle = q->srq_handle;
		cmd.core.is_srq = 1;
	}
	memcpy(cmd.drv, drv, drv_len);
	memset(resp, 0xa5, sizeof(*resp));
	return uverbs_write(fd, &cmd, len);
}

static int destroy_qp(int fd, __u32 handle)
{
	struct ib_uverbs_destroy_qp_resp resp;
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_destroy_qp core;
	} cmd = {
		.hdr.command = IB_USER_VERBS_CMD_DESTROY_QP,
		.hdr.in_words = sizeof(cmd) / 4,
		.hdr.out_words = sizeof(resp) / 4,
		.core.response = (__u64)(uintptr_t)&resp,
		.core.qp_handle = handle,
	};

	return uverbs_write(fd, &cmd, sizeof(cmd));
}

/*
 * EX_MODIFY_QP to @state with the attributes a UD QP needs on the way
 * (RESET->INIT: P_Key index, port, Q_Key), and @drv_words words of
 * driver input @drv.  0 or -errno.
 */
static int modify_qp(int fd, __u32 handle, __u8 state, const __u64 *drv,
		     unsigned int drv_words)
{
	struct ib_uverbs_ex_modify_qp_resp resp;
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_ex_cmd_hdr ex;
		struct ib_uverbs_ex_modify_qp core;
		__u64 drv[2];
	} cmd = {
		.hdr.command = IB_USER_VERBS_CMD_FLAG_EXTENDED |
			       IB_USER_VERBS_EX_CMD_MODIFY_QP,
		.hdr.in_words = sizeof(cmd.core) / 8,
		.hdr.out_words = sizeof(resp) / 8,
		.ex.response = (__u64)(uintptr_t)&resp,
		.ex.provider_in_words = drv_words,
		.core.base.qp_handle = handle,
		.core.base.attr_mask = IBV_QP_STATE,
		.core.base.qp_state = state,
	};
	size_t len = sizeof(cmd.hdr) + sizeof(cmd.ex) + sizeof(cmd.core) +
		     drv_words * 8;

	if (state == IBV_QPS_INIT) {
		cmd.core.base.attr_mask |= IBV_QP_PKEY_INDEX | IBV_QP_PORT |
					   IBV_QP_QKEY;
		cmd.core.base.port_num = 1;
		cmd.core.base.qkey = 0x11111111;
	}
	if (drv_words > 2)
		return -E2BIG;
	memcpy(cmd.drv, drv, drv_words * 8);
	return uverbs_write(fd, &cmd, len);
}

/* A POST_SEND or POST_RECV write() with no work requests: the kick. */
static int kick(int fd, __u32 qp_handle, bool send)
{
	union {
		struct ib_uverbs_post_send_resp s;
		struct ib_uverbs_post_recv_resp r;
	} resp;
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_post_send core;
	} cmd = {
		.hdr.command = send ? IB_USER_VERBS_CMD_POST_SEND :
				      IB_USER_VERBS_CMD_POST_RECV,
		.hdr.in_words = sizeof(cmd) / 4,
		.hdr.out_words = sizeof(resp.s) / 4,
		.core.response = (__u64)(uintptr_t)&resp,
		.core.qp_handle = qp_handle,
		.core.wqe_size = send ? sizeof(struct ib_uverbs_send_wr) :
					sizeof(struct ib_uverbs_recv_wr),
	};

	/* struct ib_uverbs_post_recv is ib_uverbs_post_send by another name. */
	_Static_assert(sizeof(struct ib_uverbs_post_recv) ==
		       sizeof(struct ib_uverbs_post_send), "post_recv layout");
	return uverbs_write(fd, &cmd, sizeof(cmd));
}

struct create_srq_cmd {
	struct ib_uverbs_cmd_hdr hdr;
	struct ib_uverbs_create_srq core;
	__u32 drv[4];
};

struct create_srq_resp {
	struct ib_uverbs_create_srq_resp core;
	struct uet_create_srq_resp drv;
	__u32 guard[2];
};

static int create_srq(int fd, __u32 pd, __u32 max_wr, __u32 limit,
		      const void *drv, size_t drv_len,
		      struct create_srq_resp *resp)
{
	size_t len = sizeof(struct ib_uverbs_cmd_hdr) +
		     sizeof(struct ib_uverbs_create_srq) + drv_len;
	struct create_srq_cmd cmd = {
		.hdr.command = IB_USER_VERBS_CMD_CREATE_SRQ,
		.hdr.in_words = len / 4,
		.hdr.out_words = sizeof(*resp) / 4,
		.core.response = (__u64)(uintptr_t)resp,
		.core.pd_handle = pd,
		.core.max_wr = max_wr,
		.core.max_sge = 2,
		.core.srq_limit = limit,
	};

	memcpy(cmd.drv, drv, drv_len);
	memset(resp, 0xa5, sizeof(*resp));
	return uverbs_write(fd, &cmd, len);
}

static int destroy_srq(int fd, __u32 handle)
{
	struct ib_uverbs_destroy_srq_resp resp;
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_destroy_srq core;
	} cmd = {
		.hdr.command = IB_USER_VERBS_CMD_DESTROY_SRQ,
		.hdr.in_words = sizeof(cmd) / 4,
		.hdr.out_words = sizeof(resp) / 4,
		.core.response = (__u64)(uintptr_t)&resp,
		.core.srq_handle = handle,
	};

	return uverbs_write(fd, &cmd, sizeof(cmd));
}

struct resize_cq_resp {
	struct ib_uverbs_resize_cq_resp core;
	struct uet_resize_cq_resp drv;
	__u32 guard[2];
};

static int resize_cq(int fd, __u32 handle, __u32 cqe, const void *drv,
		     size_t drv_len, struct resize_cq_resp *resp)
{
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_resize_cq core;
		__u32 drv[4];
	} cmd = {
		.hdr.command = IB_USER_VERBS_CMD_RESIZE_CQ,
		.core.response = (__u64)(uintptr_t)resp,
		.core.cq_handle = handle,
		.core.cqe = cqe,
	};
	size_t len = sizeof(cmd.hdr) + sizeof(cmd.core) + drv_len;

	cmd.hdr.in_words = len / 4;
	cmd.hdr.out_words = sizeof(*resp) / 4;
	memcpy(cmd.drv, drv, drv_len);
	memset(resp, 0xa5, sizeof(*resp));
	return uverbs_write(fd, &cmd, len);
}

static __u32 load_acquire(const __u32 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_release(__u32 *p, __u32 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static bool all_zero(const void *p, size_t len)
{
	const __u8 *b = p;

	while (len--)
		if (*b++)
			return false;
	return true;
}

/* A ring of @entries entries of @size bytes fits in @map_size, in pages. */
#define EXPECT_RING_SIZE(map_size, entries, size) do {			\
	EXPECT_LE(UET_QUEUE_HDR_SIZE + (__u64)(entries) * (size), (map_size)); \
	EXPECT_EQ(0u, (map_size) % page_size());			\
} while (0)

FIXTURE(rings) {
	int fd;
	struct uet_alloc_ucontext_resp uctx;
	__u32 pd;
	struct create_cq_resp cq;
	struct uet_queue_hdr *cq_hdr;	/* the CQ ring, mapped */
};

FIXTURE_SETUP(rings)
{
	struct uet_alloc_ucontext_cmd drv = {};
	struct uet_create_cq_cmd cq_drv = {};
	struct get_context_resp resp;

	self->cq_hdr = MAP_FAILED;
	self->fd = device_open();
	ASSERT_LE(0, self->fd);
	memset(&resp, 0, sizeof(resp));
	ASSERT_EQ(0, get_context(self->fd, &drv, sizeof(drv), &resp,
				 sizeof(self->uctx)));
	memcpy(&self->uctx, resp.drv, sizeof(self->uctx));
	ASSERT_EQ(0, alloc_pd(self->fd, &self->pd));
	ASSERT_EQ(0, create_cq(self->fd, 16, &cq_drv, &self->cq));
	ASSERT_EQ(16u, self->cq.drv.num_entries);
	self->cq_hdr = map_queue(self->fd, self->cq.drv.mmap_size,
				 self->cq.drv.mmap_offset);
	ASSERT_NE(MAP_FAILED, self->cq_hdr);
}

FIXTURE_TEARDOWN(rings)
{
	if (self->cq_hdr != MAP_FAILED)
		munmap(self->cq_hdr, self->cq.drv.mmap_size);
	device_close(self->fd);
}

static const struct qp_req rc_qp = {
	.type = IBV_QPT_RC, .srq_handle = ~0u, .send_wr = 6, .recv_wr = 3,
};

static const struct qp_req ud_qp = {
	.type = IBV_QPT_UD, .srq_handle = ~0u, .send_wr = 4, .recv_wr = 4,
};

TEST_F(rings, doorbell_mapped_once)
{
	__u64 size = self->uctx.db_mmap_size, off = self->uctx.db_mmap_offset;
	struct uet_doorbell *db;

	ASSERT_EQ((__u64)page_size(), size);
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, 2 * size, off));
	EXPECT_EQ(EINVAL, errno);
	db = map_queue(self->fd, size, off);
	ASSERT_NE(MAP_FAILED, db);
	/* Only flags is defined; the rest of the page reads as zero. */
	EXPECT_EQ(0u, db->flags & ~(__u32)UET_DB_NEED_WAKEUP);
	EXPECT_TRUE(all_zero(db->reserved_20, sizeof(db->reserved_20)));
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, size, off));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(0, munmap(db, size));
}

TEST_F(rings, qp_command)
{
	static const __u8 types[] = {
		IB_UVERBS_QPT_XRC_INI, IB_UVERBS_QPT_RAW_PACKET,
	};
	struct uet_create_qp_cmd drv = {};
	struct create_qp_resp resp;
	struct qp_req q = rc_qp;
	__u32 longer[6] = {};
	unsigned int i;

	/* The RU fields go with a driver QP only, and it needs them. */
	drv.comp_mask = UET_CREATE_QP_RU;
	EXPECT_EQ(-EINVAL, create_qp(self->fd, self->pd,
				     self->cq.core.cq_handle, &rc_qp,
				     &drv, sizeof(drv), &resp));
	drv.comp_mask = 0;
	drv.ru_jkey = 1;
	EXPECT_EQ(-EINVAL, create_qp(self->fd, self->pd,
				     self->cq.core.cq_handle, &rc_qp,
				     &drv, sizeof(drv), &resp));
	drv.ru_jkey = 0;
	q.type = IB_UVERBS_QPT_DRIVER;
	EXPECT_EQ(-EINVAL, create_qp(self->fd, self->pd,
				     self->cq.core.cq_handle, &q,
				     &drv, sizeof(drv), &resp));
	/* A job key this PD does not have; RU flags nobody knows. */
	drv.comp_mask = UET_CREATE_QP_RU;
	drv.ru_jkey = 0x12345;
	EXPECT_EQ(-EINVAL, create_qp(self->fd, self->pd,
				     self->cq.core.cq_handle, &q,
				     &drv, sizeof(drv), &resp));
	drv.ru_flags = 2;
	EXPECT_EQ(-EOPNOTSUPP, create_qp(self->fd, self->pd,
					 self->cq.core.cq_handle, &q,
					 &drv, sizeof(drv), &resp));
	memset(&drv, 0, sizeof(drv));
	q = rc_qp;
	/* An older provider's 8-byte command is still whole. */
	ASSERT_EQ(0, create_qp(self->fd, self->pd, self->cq.core.cq_handle,
			       &rc_qp, &drv, 8, &resp));
	EXPECT_EQ(0, destroy_qp(self->fd, resp.core.qp_handle));
	drv.comp_mask = 0x80000000;
	EXPECT_EQ(-EOPNOTSUPP, create_qp(self->fd, self->pd,
					 self->cq.core.cq_handle, &rc_qp,
					 &drv, sizeof(drv), &resp));
	drv.comp_mask = 0;
	drv.reserved_20 = 1;
	EXPECT_EQ(-EINVAL, create_qp(self->fd, self->pd,
				     self->cq.core.cq_handle, &rc_qp,
				     &drv, sizeof(drv), &resp));
	drv.reserved_20 = 0;
	/* Short: half a command, or none at all. */
	EXPECT_EQ(-EINVAL, create_qp(self->fd, self->pd,
				     self->cq.core.cq_handle, &rc_qp,
				     &drv, 4, &resp));
	EXPECT_EQ(-EINVAL, create_qp(self->fd, self->pd,
				     self->cq.core.cq_handle, &rc_qp,
				     &drv, 0, &resp));
	/* Longer: a zero tail is fine, a non-zero one is not. */
	longer[5] = 1;
	EXPECT_EQ(-EINVAL, create_qp(self->fd, self->pd,
				     self->cq.core.cq_handle, &rc_qp,
				     longer, sizeof(longer), &resp));
	longer[5] = 0;
	ASSERT_EQ(0, create_qp(self->fd, self->pd, self->cq.core.cq_handle,
			       &rc_qp, longer, sizeof(longer), &resp));
	EXPECT_EQ(0, destroy_qp(self->fd, resp.core.qp_handle));

	/* The driver refuses the types the core knows, the core the rest. */
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		q.type = types[i];
		EXPECT_EQ(-EOPNOTSUPP, create_qp(self->fd, self->pd,
						 self->cq.core.cq_handle, &q,
						 &drv, sizeof(drv), &resp))
			TH_LOG("QP type %#x", types[i]);
	}
	q.type = 0x77;
	EXPECT_EQ(-EINVAL, create_qp(self->fd, self->pd,
				     self->cq.core.cq_handle, &q, &drv,
				     sizeof(drv), &resp));

	ASSERT_EQ(0, create_qp(self->fd, self->pd, self->cq.core.cq_handle,
			       &rc_qp, &drv, sizeof(drv), &resp));
	EXPECT_EQ(0u, resp.drv.comp_mask);
	EXPECT_EQ(0u, resp.drv.reserved_20);
	EXPECT_EQ(8u, resp.drv.sq_entries);
	EXPECT_EQ(4u, resp.drv.rq_entries);
	EXPECT_EQ(8u, resp.core.max_send_wr);
	EXPECT_EQ(4u, resp.core.max_recv_wr);
	EXPECT_EQ(1u, resp.core.max_send_sge);
	EXPECT_EQ(1u, resp.core.max_recv_sge);
	EXPECT_RING_SIZE(resp.drv.sq_mmap_size, 8, sizeof(struct uet_send_wqe));
	EXPECT_RING_SIZE(resp.drv.rq_mmap_size, 4, sizeof(struct uet_recv_wqe));
	EXPECT_NE(resp.drv.sq_mmap_offset, resp.drv.rq_mmap_offset);
	/* Nothing is written past the driver response. */
	EXPECT_EQ(0xa5a5a5a5u, resp.guard[0]);
	EXPECT_EQ(0, destroy_qp(self->fd, resp.core.qp_handle));
}

TEST_F(rings, qp_on_srq_has_no_rq)
{
	struct uet_create_srq_cmd sdrv = {};
	struct uet_create_qp_cmd drv = {};
	struct create_srq_resp srq;
	struct create_qp_resp resp;
	struct qp_req q = rc_qp;

	ASSERT_EQ(0, create_srq(self->fd, self->pd, 8, 0, &sdrv, sizeof(sdrv),
				&srq));
	q.srq_handle = srq.core.srq_handle;
	ASSERT_EQ(0, create_qp(self->fd, self->pd, self->cq.core.cq_handle,
			       &q, &drv, sizeof(drv), &resp));
	EXPECT_EQ(8u, resp.drv.sq_entries);
	EXPECT_EQ(0u, resp.drv.rq_entries);
	EXPECT_EQ(0u, resp.drv.rq_mmap_offset);
	EXPECT_EQ(0u, resp.drv.rq_mmap_size);
	EXPECT_EQ(0u, resp.core.max_recv_wr);
	EXPECT_EQ(0u, resp.core.max_recv_sge);
	EXPECT_EQ(-EBUSY, destroy_srq(self->fd, srq.core.srq_handle));
	EXPECT_EQ(0, destroy_qp(self->fd, resp.core.qp_handle));
	EXPECT_EQ(0, destroy_srq(self->fd, srq.core.srq_handle));
}

/* Map each ring of a QP: once, at its exact size, never after destroy. */
TEST_F(rings, qp_rings_mapped_once)
{
	struct uet_create_qp_cmd drv = {};
	struct uet_queue_hdr *sq, *rq;
	struct create_qp_resp resp, gone;

	ASSERT_EQ(0, create_qp(self->fd, self->pd, self->cq.core.cq_handle,
			       &rc_qp, &drv, sizeof(drv), &resp));
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, resp.drv.sq_mmap_size +
					page_size(), resp.drv.sq_mmap_offset));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, resp.drv.rq_mmap_size +
					page_size(), resp.drv.rq_mmap_offset));
	EXPECT_EQ(EINVAL, errno);

	sq = map_queue(self->fd, resp.drv.sq_mmap_size, resp.drv.sq_mmap_offset);
	ASSERT_NE(MAP_FAILED, sq);
	rq = map_queue(self->fd, resp.drv.rq_mmap_size, resp.drv.rq_mmap_offset);
	ASSERT_NE(MAP_FAILED, rq);
	/* New rings: an all-zero header. */
	EXPECT_TRUE(all_zero(sq, UET_QUEUE_HDR_SIZE));
	EXPECT_TRUE(all_zero(rq, UET_QUEUE_HDR_SIZE));
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, resp.drv.sq_mmap_size,
					resp.drv.sq_mmap_offset));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, resp.drv.rq_mmap_size,
					resp.drv.rq_mmap_offset));
	EXPECT_EQ(EBUSY, errno);

	/* Destroyed while mapped: the memory stays valid until munmap. */
	EXPECT_EQ(0, destroy_qp(self->fd, resp.core.qp_handle));
	sq->producer = 1;
	rq->producer = 1;
	EXPECT_EQ(0, munmap(sq, resp.drv.sq_mmap_size));
	EXPECT_EQ(0, munmap(rq, resp.drv.rq_mmap_size));
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, resp.drv.sq_mmap_size,
					resp.drv.sq_mmap_offset));
	EXPECT_EQ(EINVAL, errno);

	/* Never mapped, destroyed: gone. */
	ASSERT_EQ(0, create_qp(self->fd, self->pd, self->cq.core.cq_handle,
			       &ud_qp, &drv, sizeof(drv), &gone));
	ASSERT_EQ(0, destroy_qp(self->fd, gone.core.qp_handle));
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, gone.drv.sq_mmap_size,
					gone.drv.sq_mmap_offset));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, gone.drv.rq_mmap_size,
					gone.drv.rq_mmap_offset));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(rings, modify_qp_no_driver_input)
{
	struct uet_create_qp_cmd drv = {};
	struct create_qp_resp resp;
	__u64 in[2] = { 0, 1 };

	ASSERT_EQ(0, create_qp(self->fd, self->pd, self->cq.core.cq_handle,
			       &ud_qp, &drv, sizeof(drv), &resp));
	EXPECT_EQ(-EINVAL, modify_qp(self->fd, resp.core.qp_handle,
				     IBV_QPS_INIT, in, 2));
	in[1] = 0;
	/* Zeroes are no input. */
	EXPECT_EQ(0, modify_qp(self->fd, resp.core.qp_handle, IBV_QPS_INIT,
			       in, 2));
	EXPECT_EQ(0, modify_qp(self->fd, resp.core.qp_handle, IBV_QPS_RTR,
			       NULL, 0));
	EXPECT_EQ(0, destroy_qp(self->fd, resp.core.qp_handle));
}

static void write_recv_wqe(struct uet_queue_hdr *rq, __u32 entries,
			   __u32 idx, __u64 wr_id)
{
	struct uet_recv_wqe *w = (void *)((char *)rq + UET_QUEUE_HDR_SIZE +
				 (idx & (entries - 1)) * sizeof(*w));

	memset(w, 0, sizeof(*w));
	w->wr_id = wr_id;
}

static void write_send_wqe(struct uet_queue_hdr *sq, __u32 entries,
			   __u32 idx, __u64 wr_id)
{
	struct uet_send_wqe *w = (void *)((char *)sq + UET_QUEUE_HDR_SIZE +
				 (idx & (entries - 1)) * sizeof(*w));

	memset(w, 0, sizeof(*w));
	w->wr_id = wr_id;
	w->opcode = IB_UVERBS_WR_SEND;
	/* Unsignaled: flushed all the same. */
	w->send_flags = 0;
}

static struct uet_cqe *cqe_at(struct uet_queue_hdr *cq, __u32 entries,
			      __u32 idx)
{
	return (void *)((char *)cq + UET_QUEUE_HDR_SIZE +
			(idx & (entries - 1)) * sizeof(struct uet_cqe));
}

static void expect_cqe(struct __test_metadata *_metadata,
		       struct uet_cqe *cqe, __u64 wr_id, __u32 qpn)
{
	EXPECT_EQ(wr_id, cqe->wr_id);
	EXPECT_EQ(IBV_WC_WR_FLUSH_ERR, cqe->status);
	EXPECT_EQ(qpn, cqe->qp_num);
	EXPECT_TRUE(all_zero(cqe->reserved_158, sizeof(cqe->reserved_158)));
	EXPECT_EQ(0u, cqe->job_id);
	EXPECT_TRUE(all_zero(cqe->reserved_1a0, sizeof(cqe->reserved_1a0)));
}

/*
 * The error state through the rings alone: receive work posted before
 * the error is flushed by the transition, work posted after it by a
 * kick; every flush is a CQE in the CQ ring and moves the ring's
 * consumer; UET_QUEUE_ERR is set while in ERR, and RESET zeroes it all.
 */
TEST_F(rings, flush_through_rings)
{
	struct uet_queue_hdr *sq, *rq, *cq = self->cq_hdr;
	__u32 n = self->cq.drv.num_entries, qpn;
	struct uet_create_qp_cmd drv = {};
	struct create_qp_resp resp;

	ASSERT_EQ(0, create_qp(self->fd, self->pd, self->cq.core.cq_handle,
			       &ud_qp, &drv, sizeof(drv), &resp));
	qpn = resp.core.qpn;
	sq = map_queue(self->fd, resp.drv.sq_mmap_size, resp.drv.sq_mmap_offset);
	ASSERT_NE(MAP_FAILED, sq);
	rq = map_queue(self->fd, resp.drv.rq_mmap_size, resp.drv.rq_mmap_offset);
	ASSERT_NE(MAP_FAILED, rq);

	ASSERT_EQ(0, modify_qp(self->fd, resp.core.qp_handle, IBV_QPS_INIT,
			       NULL, 0));
	write_recv_wqe(rq, resp.drv.rq_entries, 0, 0x1111);
	write_recv_wqe(rq, resp.drv.rq_entries, 1, 0x1112);
	store_release(&rq->producer, 2);
	EXPECT_EQ(0u, sq->flags);
	EXPECT_EQ(0u, rq->flags);

	/* The transition flushes what was posted. */
	ASSERT_EQ(0, modify_qp(self->fd, resp.core.qp_handle, IBV_QPS_ERR,
			       NULL, 0));
	EXPECT_EQ(UET_QUEUE_ERR, load_acquire(&rq->flags));
	EXPECT_EQ(UET_QUEUE_ERR, load_acquire(&sq->flags));
	EXPECT_EQ(2u, load_acquire(&rq->consumer));
	ASSERT_EQ(2u, load_acquire(&cq->producer));
	expect_cqe(_metadata, cqe_at(cq, n, 0), 0x1111, qpn);
	expect_cqe(_metadata, cqe_at(cq, n, 1), 0x1112, qpn);
	EXPECT_EQ(0u, cq->flags);

	/* In ERR, work waits for a kick, then is flushed. */
	write_send_wqe(sq, resp.drv.sq_entries, 0, 0x2221);
	write_send_wqe(sq, resp.drv.sq_entries, 1, 0x2222);
	store_release(&sq->producer, 2);
	usleep(100000);
	EXPECT_EQ(0u, load_acquire(&sq->consumer));
	EXPECT_EQ(2u, load_acquire(&cq->producer));
	ASSERT_EQ(0, kick(self->fd, resp.core.qp_handle, true));
	EXPECT_EQ(2u, load_acquire(&sq->consumer));
	ASSERT_EQ(4u, load_acquire(&cq->producer));
	expect_cqe(_metadata, cqe_at(cq, n, 2), 0x2221, qpn);
	expect_cqe(_metadata, cqe_at(cq, n, 3), 0x2222, qpn);

	write_recv_wqe(rq, resp.drv.rq_entries, 2, 0x3331);
	store_release(&rq->producer, 3);
	ASSERT_EQ(0, kick(self->fd, resp.core.qp_handle, false));
	EXPECT_EQ(3u, load_acquire(&rq->consumer));
	ASSERT_EQ(5u, load_acquire(&cq->producer));
	expect_cqe(_metadata, cqe_at(cq, n, 4), 0x3331, qpn);
	/* A kick with nothing new completes nothing. */
	ASSERT_EQ(0, kick(self->fd, resp.core.qp_handle, false));
	ASSERT_EQ(0, kick(self->fd, resp.core.qp_handle, true));
	EXPECT_EQ(5u, load_acquire(&cq->producer));

	/* RESET: both rings start over. */
	ASSERT_EQ(0, modify_qp(self->fd, resp.core.qp_handle, IBV_QPS_RESET,
			       NULL, 0));
	EXPECT_EQ(0u, sq->producer);
	EXPECT_EQ(0u, sq->consumer);
	EXPECT_EQ(0u, sq->flags);
	EXPECT_EQ(0u, rq->producer);
	EXPECT_EQ(0u, rq->consumer);
	EXPECT_EQ(0u, rq->flags);
	EXPECT_EQ(5u, load_acquire(&cq->producer));

	EXPECT_EQ(0, destroy_qp(self->fd, resp.core.qp_handle));
	EXPECT_EQ(0, munmap(sq, resp.drv.sq_mmap_size));
	EXPECT_EQ(0, munmap(rq, resp.drv.rq_mmap_size));
}

TEST_F(rings, srq_command)
{
	struct uet_create_srq_cmd drv = {};
	struct create_srq_resp resp;
	__u32 longer[4] = {};

	drv.comp_mask = 1;
	EXPECT_EQ(-EOPNOTSUPP, create_srq(self->fd, self->pd, 8, 0, &drv,
					  sizeof(drv), &resp));
	drv.comp_mask = 0;
	drv.reserved_20 = 1;
	EXPECT_EQ(-EINVAL, create_srq(self->fd, self->pd, 8, 0, &drv,
				      sizeof(drv), &resp));
	drv.reserved_20 = 0;
	EXPECT_EQ(-EINVAL, create_srq(self->fd, self->pd, 8, 0, &drv, 4,
				      &resp));
	EXPECT_EQ(-EINVAL, create_srq(self->fd, self->pd, 8, 0, &drv, 0,
				      &resp));
	longer[2] = 1;
	EXPECT_EQ(-EINVAL, create_srq(self->fd, self->pd, 8, 0, longer,
				      sizeof(longer), &resp));
	/* The limits. */
	EXPECT_EQ(-EINVAL, create_srq(self->fd, self->pd, 8, 9, &drv,
				      sizeof(drv), &resp));
	EXPECT_EQ(-EINVAL, create_srq(self->fd, self->pd, 0, 0, &drv,
				      sizeof(drv), &resp));
	EXPECT_EQ(-EINVAL, create_srq(self->fd, self->pd, 16385, 0, &drv,
				      sizeof(drv), &resp));

	ASSERT_EQ(0, create_srq(self->fd, self->pd, 100, 8, &drv, sizeof(drv),
				&resp));
	EXPECT_EQ(0u, resp.drv.comp_mask);
	EXPECT_EQ(128u, resp.drv.num_entries);
	EXPECT_EQ(128u, resp.core.max_wr);
	EXPECT_EQ(2u, resp.core.max_sge);
	EXPECT_RING_SIZE(resp.drv.mmap_size, 128, sizeof(struct uet_recv_wqe));
	EXPECT_EQ(0xa5a5a5a5u, resp.guard[0]);
	EXPECT_EQ(0, destroy_srq(self->fd, resp.core.srq_handle));
}

TEST_F(rings, srq_ring_mapped_once)
{
	struct uet_create_srq_cmd drv = {};
	struct create_srq_resp resp, gone;
	struct uet_queue_hdr *hdr;

	ASSERT_EQ(0, create_srq(self->fd, self->pd, 1000, 0, &drv, sizeof(drv),
				&resp));
	EXPECT_EQ(1024u, resp.drv.num_entries);
	/* Multi-page ring: too long and too short are both wrong. */
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, resp.drv.mmap_size +
					page_size(), resp.drv.mmap_offset));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, resp.drv.mmap_size -
					page_size(), resp.drv.mmap_offset));
	EXPECT_EQ(EINVAL, errno);
	hdr = map_queue(self->fd, resp.drv.mmap_size, resp.drv.mmap_offset);
	ASSERT_NE(MAP_FAILED, hdr);
	EXPECT_TRUE(all_zero(hdr, UET_QUEUE_HDR_SIZE));
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, resp.drv.mmap_size,
					resp.drv.mmap_offset));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(0, destroy_srq(self->fd, resp.core.srq_handle));
	hdr->producer = 1;
	EXPECT_EQ(0, munmap(hdr, resp.drv.mmap_size));

	ASSERT_EQ(0, create_srq(self->fd, self->pd, 1, 0, &drv, sizeof(drv),
				&gone));
	EXPECT_EQ(1u, gone.drv.num_entries);
	ASSERT_EQ(0, destroy_srq(self->fd, gone.core.srq_handle));
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, gone.drv.mmap_size,
					gone.drv.mmap_offset));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(rings, resize_cq_command)
{
	struct uet_resize_cq_cmd drv = {};
	struct resize_cq_resp resp;
	__u32 longer[4] = {};
	__u32 h = self->cq.core.cq_handle;

	drv.comp_mask = 1;
	EXPECT_EQ(-EOPNOTSUPP, resize_cq(self->fd, h, 32, &drv, sizeof(drv),
					 &resp));
	drv.comp_mask = 0;
	drv.reserved_20 = 1;
	EXPECT_EQ(-EINVAL, resize_cq(self->fd, h, 32, &drv, sizeof(drv),
				     &resp));
	drv.reserved_20 = 0;
	EXPECT_EQ(-EINVAL, resize_cq(self->fd, h, 32, &drv, 4, &resp));
	EXPECT_EQ(-EINVAL, resize_cq(self->fd, h, 32, &drv, 0, &resp));
	longer[3] = 1;
	EXPECT_EQ(-EINVAL, resize_cq(self->fd, h, 32, longer, sizeof(longer),
				     &resp));
	EXPECT_EQ(-EINVAL, resize_cq(self->fd, h, 0, &drv, sizeof(drv),
				     &resp));
	EXPECT_EQ(-EINVAL, resize_cq(self->fd, h, 65537, &drv, sizeof(drv),
				     &resp));
	/* The old ring is still the ring. */
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, self->cq.drv.mmap_size,
					self->cq.drv.mmap_offset));
	EXPECT_EQ(EBUSY, errno);

	ASSERT_EQ(0, resize_cq(self->fd, h, 100, &drv, sizeof(drv), &resp));
	EXPECT_EQ(128u, resp.core.cqe);
	EXPECT_EQ(0u, resp.drv.comp_mask);
	EXPECT_EQ(128u, resp.drv.num_entries);
	EXPECT_RING_SIZE(resp.drv.mmap_size, 128, sizeof(struct uet_cqe));
	EXPECT_NE(self->cq.drv.mmap_offset, resp.drv.mmap_offset);
	EXPECT_EQ(0xa5a5a5a5u, resp.guard[0]);
}

/*
 * Resize moves the unpolled CQEs - from the consumer to the producer -
 * to the start of the new ring, byte for byte, and the old ring's mmap
 * entry goes away.
 */
TEST_F(rings, resize_cq_moves_cqes)
{
	struct uet_queue_hdr *cq = self->cq_hdr, *nq, *nq2;
	struct uet_cqe saved[3];
	struct uet_create_qp_cmd drv = {};
	struct uet_resize_cq_cmd rdrv = {};
	struct create_qp_resp qp;
	struct resize_cq_resp resp, resp2;
	struct uet_queue_hdr *rq;
	int i;

	/* Four flush CQEs through a UD QP's receive ring. */
	ASSERT_EQ(0, create_qp(self->fd, self->pd, self->cq.core.cq_handle,
			       &ud_qp, &drv, sizeof(drv), &qp));
	rq = map_queue(self->fd, qp.drv.rq_mmap_size, qp.drv.rq_mmap_offset);
	ASSERT_NE(MAP_FAILED, rq);
	ASSERT_EQ(0, modify_qp(self->fd, qp.core.qp_handle, IBV_QPS_INIT,
			       NULL, 0));
	for (i = 0; i < 4; i++)
		write_recv_wqe(rq, qp.drv.rq_entries, i, 0x100 + i);
	store_release(&rq->producer, 4);
	ASSERT_EQ(0, modify_qp(self->fd, qp.core.qp_handle, IBV_QPS_ERR,
			       NULL, 0));
	ASSERT_EQ(4u, load_acquire(&cq->producer));
	/* One of them polled. */
	store_release(&cq->consumer, 1);
	for (i = 0; i < 3; i++)
		saved[i] = *cqe_at(cq, self->cq.drv.num_entries, 1 + i);

	/* Fewer slots than unpolled CQEs: nothing changes. */
	EXPECT_EQ(-EINVAL, resize_cq(self->fd, self->cq.core.cq_handle, 2,
				     &rdrv, sizeof(rdrv), &resp));
	EXPECT_EQ(4u, load_acquire(&cq->producer));
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, self->cq.drv.mmap_size,
					self->cq.drv.mmap_offset));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(0, resize_cq(self->fd, self->cq.core.cq_handle, 3,
			       &rdrv, sizeof(rdrv), &resp));
	EXPECT_EQ(4u, resp.drv.num_entries);
	/*
	 * The old ring is gone (it stays mapped where it was until munmap).
	 * Checked at once: a later ring may reuse a freed offset.
	 */
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, self->cq.drv.mmap_size,
					self->cq.drv.mmap_offset));
	EXPECT_EQ(EINVAL, errno);
	nq = map_queue(self->fd, resp.drv.mmap_size, resp.drv.mmap_offset);
	ASSERT_NE(MAP_FAILED, nq);
	EXPECT_EQ(3u, nq->producer);
	EXPECT_EQ(0u, nq->consumer);
	EXPECT_EQ(0u, nq->flags);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, memcmp(&saved[i], cqe_at(nq, 4, i),
				    sizeof(saved[i])))
			TH_LOG("CQE %d moved differently", i);
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, resp.drv.mmap_size,
					resp.drv.mmap_offset));
	EXPECT_EQ(EBUSY, errno);

	/* Resized again, before the old ring was unmapped. */
	store_release(&nq->consumer, 2);
	ASSERT_EQ(0, resize_cq(self->fd, self->cq.core.cq_handle, 1,
			       &rdrv, sizeof(rdrv), &resp2));
	EXPECT_EQ(1u, resp2.drv.num_entries);
	EXPECT_EQ(MAP_FAILED, map_queue(self->fd, resp.drv.mmap_size,
					resp.drv.mmap_offset));
	EXPECT_EQ(EINVAL, errno);
	nq2 = map_queue(self->fd, resp2.drv.mmap_size, resp2.drv.mmap_offset);
	ASSERT_NE(MAP_FAILED, nq2);
	EXPECT_EQ(1u, nq2->producer);
	EXPECT_EQ(0u, nq2->consumer);
	EXPECT_EQ(0, memcmp(&saved[2], cqe_at(nq2, 1, 0), sizeof(saved[2])));

	EXPECT_EQ(0, destroy_qp(self->fd, qp.core.qp_handle));
	EXPECT_EQ(0, munmap(rq, qp.drv.rq_mmap_size));
	EXPECT_EQ(0, munmap(nq, resp.drv.mmap_size));
	EXPECT_EQ(0, munmap(nq2, resp2.drv.mmap_size));
}


TEST_HARNESS_MAIN
