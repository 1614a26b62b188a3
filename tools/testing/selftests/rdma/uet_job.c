// SPDX-License-Identifier: GPL-2.0
/*
 * UET jobs and job keys through uetdv (driver uverbs objects
 * UET_OBJECT_JOB and UET_OBJECT_JKEY): allocation is privileged, import
 * is not; a job lives while any handle, job key or exported file holds
 * it (its JobID stays taken until then, which is what the tests observe);
 * the address table is shared by every holder; job keys pin their PD.
 * The last tests speak raw ioctls to check the ABI hygiene of the new
 * methods: wrong object types, short or long buffers, reserved bits,
 * unknown attributes.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <infiniband/uetdv.h>
#include <rdma/rdma_user_ioctl.h>
#include <rdma/uet-abi.h>

#include "../kselftest_harness.h"
#include "uet_verbs_util.h"

#define DEV "uett20"
#define DEV2 "uett21"
#define NETDEV "uetj0"
#define PEER "uetj1"
#define NETDEV2 "uetj2"
#define PEER2 "uetj3"
#define JOB_ID 0x12345
#define NOBODY 65534

static void run(const char *cmd)
{
	if (system(cmd))
		fprintf(stderr, "# command failed: %s\n", cmd);
}

static void cleanup(void)
{
	run("rdma link del " DEV " 2>/dev/null; rdma link del " DEV2
	    " 2>/dev/null; ip link del " NETDEV " 2>/dev/null; ip link del "
	    NETDEV2 " 2>/dev/null; true");
}

static struct uetdv_job *alloc_job(struct ibv_context *ctx, uint32_t id,
				   uint32_t max_addrs)
{
	struct uetdv_job_attr attr = {
		.comp_mask = UETDV_JOB_ATTR_MAX_ADDR_ENTRIES,
		.id = id,
		.max_addr_entries = max_addrs,
	};

	return uetdv_alloc_job(ctx, &attr, NULL);
}

/* 0 if @id can be allocated now (and frees it again), else the errno. */
static int id_state(struct ibv_context *ctx, uint32_t id)
{
	struct uetdv_job *job = alloc_job(ctx, id, 0);

	if (!job)
		return errno;
	return uetdv_dealloc_job(job);
}

/* Become nobody, without any capability. */
static int become_nobody(void)
{
	return setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY);
}

static void set_addr(struct uetdv_ah_attr_ex *a, const char *ip, uint32_t qpn)
{
	memset(a, 0, sizeof(*a));
	a->ah_attr.is_global = 1;
	a->ah_attr.port_num = 1;
	uet_parse_gid(ip, &a->ah_attr.grh.dgid);
	a->remote_qpn = qpn;
}

/* The module's reference count, -1 if unreadable. */
static int module_refcnt(void)
{
	FILE *f = fopen("/sys/module/rdma_uet/refcnt", "r");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

FIXTURE(job) {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
};

FIXTURE_SETUP(job)
{
	cleanup();
	ASSERT_EQ(0, system("ip link add " NETDEV " type veth peer name " PEER
			    " && ip link set " NETDEV " up && ip link set " PEER
			    " up && rdma link add " DEV " type uet netdev "
			    NETDEV));
	ASSERT_EQ(0, uet_fault_inject_begin());
	self->ctx = uet_open_dev(DEV);
	ASSERT_NE(NULL, self->ctx) TH_LOG("uet provider did not open " DEV);
	self->pd = ibv_alloc_pd(self->ctx);
	ASSERT_NE(NULL, self->pd);
}

FIXTURE_TEARDOWN(job)
{
	if (self->pd)
		ibv_dealloc_pd(self->pd);
	if (self->ctx)
		ibv_close_device(self->ctx);
	cleanup();
}

TEST_F(job, query_device)
{
	struct uetdv_device_attr attr = {};

	ASSERT_EQ(0, uetdv_query_device(self->ctx, &attr));
	EXPECT_EQ(256, attr.max_jobs);
	EXPECT_EQ(4096, attr.max_jkeys);
	EXPECT_EQ(4096, attr.max_addr_entries);
	EXPECT_EQ(0xffffff, attr.max_job_id);
	attr.comp_mask = 1;
	EXPECT_EQ(EINVAL, uetdv_query_device(self->ctx, &attr));
}

TEST_F(job, alloc_query_dealloc)
{
	struct uetdv_job_attr attr = {};
	struct uetdv_job *job;

	job = alloc_job(self->ctx, JOB_ID, 8);
	ASSERT_NE(NULL, job) TH_LOG("alloc: %s", strerror(errno));
	ASSERT_EQ(0, uetdv_query_job(job, &attr));
	EXPECT_EQ(JOB_ID, attr.id);
	EXPECT_EQ(8, attr.max_addr_entries);
	EXPECT_EQ(0, attr.num_addr_entries);
	EXPECT_EQ(EEXIST, id_state(self->ctx, JOB_ID));
	ASSERT_EQ(0, uetdv_dealloc_job(job));
	EXPECT_EQ(0, id_state(self->ctx, JOB_ID));
	/* The largest JobID and a job without an address table. */
	job = alloc_job(self->ctx, 0xffffff, 0);
	ASSERT_NE(NULL, job);
	ASSERT_EQ(0, uetdv_query_job(job, &attr));
	EXPECT_EQ(0xffffff, attr.id);
	EXPECT_EQ(0, attr.max_addr_entries);
	ASSERT_EQ(0, uetdv_dealloc_job(job));
}

TEST_F(job, alloc_bad_arguments)
{
	struct uetdv_job_attr attr = { .id = 5, .comp_mask = 1 << 7 };

	/* JobID 0 is the device's default job; JobIDs have 24 bits. */
	EXPECT_EQ(NULL, alloc_job(self->ctx, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, alloc_job(self->ctx, 0x1000000, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, alloc_job(self->ctx, 5, 4097));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, uetdv_alloc_job(self->ctx, &attr, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, id_state(self->ctx, 5));
}

TEST_F(job, max_jobs)
{
	struct uetdv_job *jobs[257];
	int i;

	for (i = 0; i < 256; i++) {
		jobs[i] = alloc_job(self->ctx, 1000 + i, 0);
		ASSERT_NE(NULL, jobs[i]) TH_LOG("job %d: %s", i,
						strerror(errno));
	}
	EXPECT_EQ(NULL, alloc_job(self->ctx, 2000, 0));
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, uetdv_dealloc_job(jobs[17]));
	jobs[17] = alloc_job(self->ctx, 2000, 0);
	ASSERT_NE(NULL, jobs[17]);
	for (i = 0; i < 256; i++)
		ASSERT_EQ(0, uetdv_dealloc_job(jobs[i]));
}

/* Without CAP_NET_ADMIN: no job allocation, but import works. */
TEST_F(job, unprivileged)
{
	struct uetdv_job *job;
	int fd, status;
	pid_t pid;

	job = alloc_job(self->ctx, JOB_ID, 4);
	ASSERT_NE(NULL, job);
	ASSERT_EQ(0, uetdv_export_job(job, &fd));
	ASSERT_EQ(0, fcntl(fd, F_SETFD, 0));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct uetdv_job_attr attr = {};
		struct uetdv_job *mine;
		struct ibv_context *ctx;

		if (become_nobody())
			_exit(10);
		ctx = uet_open_dev(DEV);
		if (!ctx)
			_exit(11);
		if (alloc_job(ctx, JOB_ID + 1, 0) || errno != EPERM)
			_exit(12);
		if (uetdv_import_job(ctx, fd, &mine))
			_exit(13);
		if (uetdv_query_job(mine, &attr) || attr.id != JOB_ID ||
		    attr.max_addr_entries != 4)
			_exit(14);
		if (uetdv_dealloc_job(mine))
			_exit(15);
		ibv_close_device(ctx);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(fd);
	ASSERT_EQ(0, uetdv_dealloc_job(job));
	EXPECT_EQ(0, id_state(self->ctx, JOB_ID));
}

/* Handles, exported files and imports each hold the job. */
TEST_F(job, export_import_refcount)
{
	struct uetdv_job *job, *imp1, *imp2;
	struct uetdv_job_attr attr = {};
	struct ibv_context *ctx2;
	int fd, fd2, ref0;

	ctx2 = uet_open_dev(DEV);
	ASSERT_NE(NULL, ctx2);
	ref0 = module_refcnt();
	job = alloc_job(self->ctx, JOB_ID, 2);
	ASSERT_NE(NULL, job);
	ASSERT_EQ(0, uetdv_export_job(job, &fd));
	/* Exported files are close-on-exec and pin the module. */
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD));
	EXPECT_EQ(ref0 + 1, module_refcnt());
	ASSERT_EQ(0, uetdv_export_job(job, &fd2));
	EXPECT_EQ(ref0 + 2, module_refcnt());

	ASSERT_EQ(0, uetdv_import_job(ctx2, fd, &imp1));
	ASSERT_EQ(0, uetdv_import_job(self->ctx, fd2, &imp2));
	ASSERT_EQ(0, uetdv_query_job(imp1, &attr));
	EXPECT_EQ(JOB_ID, attr.id);

	/* Drop holders one by one: the JobID stays taken until the last. */
	ASSERT_EQ(0, uetdv_dealloc_job(job));
	EXPECT_EQ(EEXIST, id_state(self->ctx, JOB_ID));
	close(fd);
	EXPECT_EQ(EEXIST, id_state(self->ctx, JOB_ID));
	ASSERT_EQ(0, uetdv_dealloc_job(imp1));
	EXPECT_EQ(EEXIST, id_state(self->ctx, JOB_ID));
	close(fd2);
	EXPECT_EQ(ref0, module_refcnt());
	EXPECT_EQ(EEXIST, id_state(self->ctx, JOB_ID));
	/* Closing a context drops its imports. */
	ibv_close_device(ctx2);
	EXPECT_EQ(EEXIST, id_state(self->ctx, JOB_ID));
	ASSERT_EQ(0, uetdv_dealloc_job(imp2));
	EXPECT_EQ(0, id_state(self->ctx, JOB_ID));
}

/* The allocating process exits first: the file it passed on holds the job. */
TEST_F(job, exporter_exits_first)
{
	struct uetdv_job_attr attr = {};
	struct uetdv_job *imp;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr msg = {};
	struct cmsghdr *cmsg;
	struct iovec iov;
	int sv[2], fd, status;
	char byte;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct ibv_context *ctx = uet_open_dev(DEV);
		struct uetdv_job *job;

		if (!ctx)
			_exit(10);
		job = alloc_job(ctx, JOB_ID, 0);
		if (!job || uetdv_export_job(job, &fd))
			_exit(11);
		byte = 'j';
		iov.iov_base = &byte;
		iov.iov_len = 1;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
		if (sendmsg(sv[1], &msg, 0) != 1)
			_exit(12);
		/* Exit holding the handle and the file: no cleanup at all. */
		_exit(0);
	}
	close(sv[1]);
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	ASSERT_EQ(1, recvmsg(sv[0], &msg, 0));
	cmsg = CMSG_FIRSTHDR(&msg);
	ASSERT_NE(NULL, cmsg);
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	close(sv[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	/* The exporter is gone; the file it sent keeps the job. */
	EXPECT_EQ(EEXIST, id_state(self->ctx, JOB_ID));
	ASSERT_EQ(0, uetdv_import_job(self->ctx, fd, &imp));
	close(fd);
	ASSERT_EQ(0, uetdv_query_job(imp, &attr));
	EXPECT_EQ(JOB_ID, attr.id);
	EXPECT_EQ(EEXIST, id_state(self->ctx, JOB_ID));
	ASSERT_EQ(0, uetdv_dealloc_job(imp));
	EXPECT_EQ(0, id_state(self->ctx, JOB_ID));
}

TEST_F(job, import_bad_fd)
{
	struct uetdv_job *imp = NULL, *job;
	struct ibv_context *ctx2;
	int fd, null_fd;

	EXPECT_EQ(EBADF, uetdv_import_job(self->ctx, -1, &imp));
	null_fd = open("/dev/null", O_RDONLY);
	ASSERT_LE(0, null_fd);
	/* Not a job file. */
	EXPECT_EQ(EINVAL, uetdv_import_job(self->ctx, null_fd, &imp));
	close(null_fd);
	/* No such file. */
	EXPECT_EQ(EBADF, uetdv_import_job(self->ctx, null_fd, &imp));
	EXPECT_EQ(NULL, imp);

	/* A job of another device. */
	ASSERT_EQ(0, system("ip link add " NETDEV2 " type veth peer name "
			    PEER2 " && rdma link add " DEV2 " type uet netdev "
			    NETDEV2));
	ctx2 = uet_open_dev(DEV2);
	ASSERT_NE(NULL, ctx2);
	job = alloc_job(ctx2, JOB_ID, 0);
	ASSERT_NE(NULL, job);
	ASSERT_EQ(0, uetdv_export_job(job, &fd));
	EXPECT_EQ(EINVAL, uetdv_import_job(self->ctx, fd, &imp));
	/* JobIDs are per device. */
	EXPECT_EQ(0, id_state(self->ctx, JOB_ID));
	ASSERT_EQ(0, uetdv_dealloc_job(job));
	ibv_close_device(ctx2);
	/* The device goes while its job's file is open; import then fails. */
	run("rdma link del " DEV2);
	EXPECT_EQ(EINVAL, uetdv_import_job(self->ctx, fd, &imp));
	close(fd);
}

TEST_F(job, address_table)
{
	struct uetdv_ah_attr_ex a, q;
	struct uetdv_job_attr attr;
	struct uetdv_job *job, *imp;
	int fd;

	job = alloc_job(self->ctx, JOB_ID, 8);
	ASSERT_NE(NULL, job);
	set_addr(&a, "10.96.0.7", 0x00a003);
	ASSERT_EQ(0, uetdv_insert_addr(job, &a, 0, 0));
	ASSERT_EQ(0, uetdv_query_addr(job, 0, &q, 0));
	EXPECT_EQ(0, memcmp(q.ah_attr.grh.dgid.raw, a.ah_attr.grh.dgid.raw,
			    16));
	EXPECT_EQ(0x00a003, q.remote_qpn);
	EXPECT_EQ(1, q.ah_attr.is_global);
	EXPECT_EQ(EEXIST, uetdv_insert_addr(job, &a, 0, 0));
	set_addr(&a, "2001:db8:96::9", 0xfff002);
	ASSERT_EQ(0, uetdv_insert_addr(job, &a, 7, 0));
	ASSERT_EQ(0, uetdv_query_job(job, &attr));
	EXPECT_EQ(2, attr.num_addr_entries);

	/* Out of range, empty entries, malformed addresses. */
	EXPECT_EQ(EINVAL, uetdv_insert_addr(job, &a, 8, 0));
	EXPECT_EQ(EINVAL, uetdv_query_addr(job, 8, &q, 0));
	EXPECT_EQ(EINVAL, uetdv_remove_addr(job, 8, 0));
	EXPECT_EQ(ENOENT, uetdv_query_addr(job, 1, &q, 0));
	EXPECT_EQ(ENOENT, uetdv_remove_addr(job, 1, 0));
	EXPECT_EQ(EINVAL, uetdv_insert_addr(job, &a, 1, 1));
	set_addr(&a, "10.96.0.8", 0x1000000);
	EXPECT_EQ(EINVAL, uetdv_insert_addr(job, &a, 1, 0));
	set_addr(&a, "10.96.0.8", 1);
	EXPECT_EQ(EINVAL, uetdv_insert_addr(job, &a, 1, 0));
	set_addr(&a, "::", 0x2002);
	EXPECT_EQ(EINVAL, uetdv_insert_addr(job, &a, 1, 0));
	set_addr(&a, "ff02::1", 0x2002);
	EXPECT_EQ(EINVAL, uetdv_insert_addr(job, &a, 1, 0));
	set_addr(&a, "10.96.0.8", 0x2002);
	a.ah_attr.is_global = 0;
	EXPECT_EQ(EINVAL, uetdv_insert_addr(job, &a, 1, 0));

	/* One table for every holder. */
	ASSERT_EQ(0, uetdv_export_job(job, &fd));
	ASSERT_EQ(0, uetdv_import_job(self->ctx, fd, &imp));
	close(fd);
	ASSERT_EQ(0, uetdv_query_addr(imp, 7, &q, 0));
	EXPECT_EQ(0xfff002, q.remote_qpn);
	set_addr(&a, "10.96.0.9", 0x2002);
	ASSERT_EQ(0, uetdv_insert_addr(imp, &a, 3, 0));
	ASSERT_EQ(0, uetdv_query_addr(job, 3, &q, 0));
	EXPECT_EQ(0x2002, q.remote_qpn);
	ASSERT_EQ(0, uetdv_remove_addr(job, 0, 0));
	EXPECT_EQ(ENOENT, uetdv_query_addr(imp, 0, &q, 0));
	ASSERT_EQ(0, uetdv_query_job(imp, &attr));
	EXPECT_EQ(2, attr.num_addr_entries);
	ASSERT_EQ(0, uetdv_dealloc_job(imp));
	ASSERT_EQ(0, uetdv_dealloc_job(job));

	/* A job without a table has no entry 0. */
	job = alloc_job(self->ctx, JOB_ID, 0);
	ASSERT_NE(NULL, job);
	EXPECT_EQ(EINVAL, uetdv_insert_addr(job, &a, 0, 0));
	ASSERT_EQ(0, uetdv_dealloc_job(job));
}

TEST_F(job, job_keys)
{
	struct uetdv_job_key *k1, *k2, *k3;
	struct ibv_pd *pd2;
	struct uetdv_job *job;

	job = alloc_job(self->ctx, JOB_ID, 0);
	ASSERT_NE(NULL, job);
	pd2 = ibv_alloc_pd(self->ctx);
	ASSERT_NE(NULL, pd2);
	k1 = uetdv_create_jkey(self->pd, job, 0);
	ASSERT_NE(NULL, k1) TH_LOG("create_jkey: %s", strerror(errno));
	k2 = uetdv_create_jkey(self->pd, job, 0);
	ASSERT_NE(NULL, k2);
	k3 = uetdv_create_jkey(pd2, job, 0);
	ASSERT_NE(NULL, k3);
	EXPECT_NE(0, k1->jkey);
	EXPECT_NE(k1->jkey, k2->jkey);
	EXPECT_NE(k2->jkey, k3->jkey);
	EXPECT_EQ(NULL, uetdv_create_jkey(self->pd, job, 1));
	EXPECT_EQ(EINVAL, errno);

	/* A job key pins its PD, and holds its job. */
	EXPECT_EQ(EBUSY, ibv_dealloc_pd(pd2));
	ASSERT_EQ(0, uetdv_dealloc_job(job));
	EXPECT_EQ(EEXIST, id_state(self->ctx, JOB_ID));
	ASSERT_EQ(0, uetdv_destroy_jkey(k3));
	ASSERT_EQ(0, ibv_dealloc_pd(pd2));
	ASSERT_EQ(0, uetdv_destroy_jkey(k1));
	EXPECT_EQ(EEXIST, id_state(self->ctx, JOB_ID));
	ASSERT_EQ(0, uetdv_destroy_jkey(k2));
	EXPECT_EQ(0, id_state(self->ctx, JOB_ID));
}

/* A process that exits holding jobs and job keys leaves nothing. */
TEST_F(job, process_exit_frees)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct ibv_context *ctx = uet_open_dev(DEV);
		struct uetdv_job *job;
		struct ibv_pd *pd;

		if (!ctx)
			_exit(10);
		pd = ibv_alloc_pd(ctx);
		job = alloc_job(ctx, JOB_ID, 16);
		if (!pd || !job || !uetdv_create_jkey(pd, job, 0))
			_exit(11);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, id_state(self->ctx, JOB_ID));
}

/*
 * The device is deleted under live jobs and job keys: "rdma link del"
 * does not wait for the process, the calls that follow fail cleanly, and
 * the exported file outlives the device harmlessly.
 */
TEST_F(job, device_removed)
{
	struct uetdv_job_key *jkey;
	struct uetdv_job_attr attr;
	struct uetdv_job *job;
	int fd;

	job = alloc_job(self->ctx, JOB_ID, 4);
	ASSERT_NE(NULL, job);
	jkey = uetdv_create_jkey(self->pd, job, 0);
	ASSERT_NE(NULL, jkey);
	ASSERT_EQ(0, uetdv_export_job(job, &fd));
	run("rdma link del " DEV);
	/*
	 * The core destroyed the objects: other methods fail with EIO, the
	 * destroy methods succeed so that the process can free its side.
	 */
	EXPECT_EQ(EIO, uetdv_query_job(job, &attr));
	EXPECT_EQ(0, uetdv_destroy_jkey(jkey));
	EXPECT_EQ(0, uetdv_dealloc_job(job));
	close(fd);
	/* A new device of the same name starts with no job. */
	ASSERT_EQ(0, system("rdma link add " DEV " type uet netdev " NETDEV));
	ibv_dealloc_pd(self->pd);
	self->pd = NULL;
	ibv_close_device(self->ctx);
	self->ctx = uet_open_dev(DEV);
	ASSERT_NE(NULL, self->ctx);
	EXPECT_EQ(0, id_state(self->ctx, JOB_ID));
}

/* Raw ioctls: the ABI hygiene of the driver methods. */

struct raw_cmd {
	struct ib_uverbs_ioctl_hdr hdr;
	struct ib_uverbs_attr attrs[8];
};

static void raw_init(struct raw_cmd *c, uint16_t obj, uint16_t method)
{
	memset(c, 0, sizeof(*c));
	c->hdr.object_id = obj;
	c->hdr.method_id = method;
	c->hdr.driver_id = RDMA_DRIVER_UET;
}

static struct ib_uverbs_attr *raw_attr(struct raw_cmd *c, uint16_t id,
				       uint16_t len, uint64_t data)
{
	struct ib_uverbs_attr *a = &c->attrs[c->hdr.num_attrs++];

	a->attr_id = id;
	a->len = len;
	a->flags = UVERBS_ATTR_F_MANDATORY;
	a->data = data;
	return a;
}

/* 0 or errno */
static int raw_exec(struct ibv_context *ctx, struct raw_cmd *c)
{
	c->hdr.length = sizeof(c->hdr) +
			c->hdr.num_attrs * sizeof(struct ib_uverbs_attr);
	return ioctl(ctx->cmd_fd, RDMA_VERBS_IOCTL, c) ? errno : 0;
}

static int raw_query(struct ibv_context *ctx, uint32_t handle, void *resp,
		     uint16_t len)
{
	struct raw_cmd c;

	raw_init(&c, UET_OBJECT_JOB, UET_METHOD_JOB_QUERY);
	raw_attr(&c, UET_ATTR_JOB_QUERY_HANDLE, 0, handle);
	raw_attr(&c, UET_ATTR_JOB_QUERY_RESP, len, (uintptr_t)resp);
	return raw_exec(ctx, &c);
}

static int raw_insert(struct ibv_context *ctx, uint32_t handle,
		      uint32_t index, const void *entry, uint16_t len)
{
	struct raw_cmd c;
	uint64_t data = index;

	raw_init(&c, UET_OBJECT_JOB, UET_METHOD_JOB_ADDR_INSERT);
	raw_attr(&c, UET_ATTR_JOB_ADDR_HANDLE, 0, handle);
	raw_attr(&c, UET_ATTR_JOB_ADDR_INDEX, 4, data);
	raw_attr(&c, UET_ATTR_JOB_ADDR_ENTRY, len, (uintptr_t)entry);
	return raw_exec(ctx, &c);
}

TEST_F(job, abi_hygiene)
{
	struct { struct uet_job_attr a; uint8_t more[8]; } resp;
	struct { struct uet_job_addr a; uint8_t more[8]; } e;
	struct uetdv_job *job;
	struct raw_cmd c;
	uint64_t v;

	job = alloc_job(self->ctx, JOB_ID, 4);
	ASSERT_NE(NULL, job);

	/* Responses: the full structure, or longer (zero-filled). */
	memset(&resp, 0xff, sizeof(resp));
	ASSERT_EQ(0, raw_query(self->ctx, job->handle, &resp, sizeof(resp)));
	EXPECT_EQ(JOB_ID, resp.a.id);
	EXPECT_EQ(0, resp.more[0]);
	EXPECT_EQ(EINVAL, raw_query(self->ctx, job->handle, &resp, 8));
	/* Wrong object type: a PD handle as a job. */
	EXPECT_EQ(EINVAL, raw_query(self->ctx, self->pd->handle, &resp,
				    sizeof(resp.a)));
	/* No such object: ib_core says ENOENT. */
	EXPECT_EQ(ENOENT, raw_query(self->ctx, job->handle + 1000, &resp,
				    sizeof(resp.a)));

	/* Entries: short, reserved flags, non-zero trailing bytes. */
	memset(&e, 0, sizeof(e));
	uet_parse_gid("10.96.0.5", (union ibv_gid *)e.a.gid);
	e.a.qpn = 0x3004;
	EXPECT_EQ(EINVAL, raw_insert(self->ctx, job->handle, 0, &e, 16));
	e.a.flags = 1;
	EXPECT_EQ(EINVAL, raw_insert(self->ctx, job->handle, 0, &e,
				     sizeof(e.a)));
	e.a.flags = 0;
	/* Bytes of a newer structure this kernel does not know. */
	e.more[3] = 1;
	EXPECT_EQ(EOPNOTSUPP, raw_insert(self->ctx, job->handle, 0, &e,
					 sizeof(e)));
	e.more[3] = 0;
	EXPECT_EQ(0, raw_insert(self->ctx, job->handle, 0, &e, sizeof(e)));

	/* Unknown flag bits; a u32 attribute of the wrong size. */
	raw_init(&c, UET_OBJECT_JOB, UET_METHOD_JOB_ALLOC);
	raw_attr(&c, UET_ATTR_JOB_ALLOC_HANDLE, 0, 0);
	raw_attr(&c, UET_ATTR_JOB_ALLOC_ID, 4, 77);
	raw_attr(&c, UET_ATTR_JOB_ALLOC_FLAGS, 4, 1);
	EXPECT_EQ(EINVAL, raw_exec(self->ctx, &c));
	raw_init(&c, UET_OBJECT_JOB, UET_METHOD_JOB_ALLOC);
	raw_attr(&c, UET_ATTR_JOB_ALLOC_HANDLE, 0, 0);
	raw_attr(&c, UET_ATTR_JOB_ALLOC_ID, 8, 77);
	EXPECT_EQ(EINVAL, raw_exec(self->ctx, &c));
	/* A missing mandatory attribute. */
	raw_init(&c, UET_OBJECT_JOB, UET_METHOD_JOB_ALLOC);
	raw_attr(&c, UET_ATTR_JOB_ALLOC_HANDLE, 0, 0);
	EXPECT_EQ(EINVAL, raw_exec(self->ctx, &c));
	/* A job key on a job handle that is a PD, and vice versa. */
	raw_init(&c, UET_OBJECT_JKEY, UET_METHOD_JKEY_CREATE);
	raw_attr(&c, UET_ATTR_JKEY_CREATE_HANDLE, 0, 0);
	raw_attr(&c, UET_ATTR_JKEY_CREATE_PD_HANDLE, 0, job->handle);
	raw_attr(&c, UET_ATTR_JKEY_CREATE_JOB_HANDLE, 0, self->pd->handle);
	raw_attr(&c, UET_ATTR_JKEY_CREATE_JKEY, 4, (uintptr_t)&v);
	EXPECT_EQ(EINVAL, raw_exec(self->ctx, &c));
	/* An import fd attribute must be inline (len 0). */
	raw_init(&c, UET_OBJECT_JOB, UET_METHOD_JOB_IMPORT);
	raw_attr(&c, UET_ATTR_JOB_IMPORT_HANDLE, 0, 0);
	raw_attr(&c, UET_ATTR_JOB_IMPORT_FD, 4, 0);
	EXPECT_EQ(EINVAL, raw_exec(self->ctx, &c));
	/* Reserved header fields. */
	raw_init(&c, UET_OBJECT_JOB, UET_METHOD_JOB_QUERY);
	raw_attr(&c, UET_ATTR_JOB_QUERY_HANDLE, 0, job->handle);
	raw_attr(&c, UET_ATTR_JOB_QUERY_RESP, sizeof(resp.a), (uintptr_t)&resp);
	c.attrs[0].attr_data.reserved = 1;
	EXPECT_EQ(EINVAL, raw_exec(self->ctx, &c));

	/*
	 * ib_core's rules for what it cannot dispatch: an unknown attribute
	 * is ignored unless marked mandatory, and an unknown mandatory
	 * attribute or method is EPROTONOSUPPORT (how callers detect an
	 * older kernel).
	 */
	raw_init(&c, UET_OBJECT_JOB, UET_METHOD_JOB_QUERY);
	raw_attr(&c, UET_ATTR_JOB_QUERY_HANDLE, 0, job->handle);
	raw_attr(&c, UET_ATTR_JOB_QUERY_RESP, sizeof(resp.a), (uintptr_t)&resp);
	raw_attr(&c, UET_ATTR_JOB_QUERY_RESP + 9, 4, 0)->flags = 0;
	EXPECT_EQ(0, raw_exec(self->ctx, &c));
	c.attrs[2].flags = UVERBS_ATTR_F_MANDATORY;
	EXPECT_EQ(EPROTONOSUPPORT, raw_exec(self->ctx, &c));
	raw_init(&c, UET_OBJECT_JOB, UET_METHOD_JOB_ADDR_QUERY + 5);
	EXPECT_EQ(EPROTONOSUPPORT, raw_exec(self->ctx, &c));

	/* Through all of that the job is intact. */
	memset(&resp, 0, sizeof(resp));
	ASSERT_EQ(0, raw_query(self->ctx, job->handle, &resp, sizeof(resp.a)));
	EXPECT_EQ(JOB_ID, resp.a.id);
	EXPECT_EQ(1, resp.a.num_addrs);
	ASSERT_EQ(0, uetdv_dealloc_job(job));
	EXPECT_EQ(0, id_state(self->ctx, JOB_ID));
}

/* Every uetdv call refuses a context that is not uet's. */
TEST(not_uet)
{
	struct uetdv_device_attr attr = {};
	struct ibv_context *ctx;
	struct uetdv_job *job;

	run("modprobe rdma_rxe; ip link add uetj4 type dummy; "
	    "ip link set uetj4 up; rdma link add uetr0 type rxe netdev uetj4");
	ctx = uet_open_dev("uetr0");
	if (!ctx) {
		run("rdma link del uetr0 2>/dev/null; ip link del uetj4");
		SKIP(return, "no rxe device");
	}
	EXPECT_EQ(EOPNOTSUPP, uetdv_query_device(ctx, &attr));
	EXPECT_EQ(NULL, alloc_job(ctx, JOB_ID, 0));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(EOPNOTSUPP, uetdv_import_job(ctx, 0, &job));
	ibv_close_device(ctx);
	run("rdma link del uetr0; ip link del uetj4");
}

TEST_HARNESS_MAIN
