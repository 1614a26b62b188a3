// SPDX-License-Identifier: GPL-2.0
/*
 * Protection domains, memory regions and address handles of a uet device
 * as a libibverbs application sees them through the uet provider.
 *
 * Checked, error codes included, because applications and the rdma-core
 * tests rely on them:
 *  - PDs: allocation, and max_pd enforced exactly (ENOMEM one past it);
 *  - MRs: the access flags the device supports, EINVAL for remote access
 *    without local write, EOPNOTSUPP for ODP and memory-window binding
 *    (the device has neither), EINVAL for a zero or over-max_mr_size
 *    length, EFAULT for memory that is not mapped; lkey == rkey, keys
 *    never reused while the key tag has not wrapped, and max_mr enforced
 *    exactly;
 *  - AHs: global routing is required, the source GID must exist, the
 *    destination must be a routable unicast address (EINVAL for zero,
 *    EOPNOTSUPP for multicast, ENETUNREACH without a route), and max_ah
 *    enforced exactly;
 *  - a process that exits without freeing anything leaves no PD or MR
 *    behind (rdma res show).
 *
 * The limit tests allocate up to 65536 objects; they print how long that
 * took, which is worth watching under QEMU/TCG.  UET_TEST_LIMITS=0 skips
 * them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "../kselftest_harness.h"
#include "uet_verbs_util.h"

#define DEV "uett6"
#define NETDEV "uetm0"
#define PEER "uetm1"
#define SRC4 "10.95.0.1"
#define DST4 "10.95.0.2"
#define SRC6 "2001:db8:95::1"
#define DST6 "2001:db8:95::2"
#define NOROUTE4 "198.51.100.1"
#define BUF_PAGES 16
#define NKEYS 64
#define KEY_ROUNDS 8

static void run(const char *cmd)
{
	if (system(cmd))
		fprintf(stderr, "# command failed: %s\n", cmd);
}

static void cleanup(void)
{
	/* Best effort: stale objects from an earlier run may or may not exist. */
	run("rdma link del " DEV " 2>/dev/null; ip link del " NETDEV
	    " 2>/dev/null; true");
}

/* The table follows the addresses asynchronously: wait up to 5 s. */
static int wait_gid(struct ibv_context *ctx, const char *addr)
{
	int i, idx = -1;

	for (i = 0; i < 50 && idx < 0; i++) {
		idx = uet_find_gid(ctx, addr);
		if (idx < 0)
			usleep(100000);
	}
	return idx;
}

static bool gid_slot_empty(struct ibv_context *ctx, int index)
{
	static const union ibv_gid zero;
	union ibv_gid gid;

	/* libibverbs reports an empty slot as the zero GID. */
	return ibv_query_gid(ctx, 1, index, &gid) ||
	       !memcmp(&gid, &zero, sizeof(gid));
}

static void ah_attr_init(struct ibv_ah_attr *attr, int sgid_index,
			 const char *dst)
{
	memset(attr, 0, sizeof(*attr));
	attr->is_global = 1;
	attr->port_num = 1;
	attr->grh.sgid_index = sgid_index;
	attr->grh.hop_limit = 64;
	if (uet_parse_gid(dst, &attr->grh.dgid))
		memset(&attr->grh.dgid, 0xee, sizeof(attr->grh.dgid));
}

/* errno of a create_ah expected to fail; 0 (AH destroyed) if it worked. */
static int ah_errno(struct ibv_pd *pd, struct ibv_ah_attr *attr)
{
	struct ibv_ah *ah;

	errno = 0;
	ah = ibv_create_ah(pd, attr);
	if (!ah)
		return errno;
	ibv_destroy_ah(ah);
	return 0;
}

/* errno of a reg_mr expected to fail; 0 (MR deregistered) if it worked. */
static int mr_errno(struct ibv_pd *pd, void *addr, size_t len, int access)
{
	struct ibv_mr *mr;

	errno = 0;
	mr = ibv_reg_mr(pd, addr, len, access);
	if (!mr)
		return errno;
	ibv_dereg_mr(mr);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Lines of @cmd's output that contain @needle, or -1 if @cmd failed. */
static int count_lines(const char *cmd, const char *needle)
{
	char line[PATH_MAX];
	int n = 0;
	FILE *f;

	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	return pclose(f) ? -1 : n;
}

FIXTURE(uet) {
	struct ibv_context *ctx;
	struct ibv_device_attr attr;
	struct ibv_pd *pd;
	void *buf;		/* BUF_PAGES pages, mapped and touched */
	size_t page;
	int sgid4, sgid6;	/* GID indexes of SRC4 and SRC6 */
};

FIXTURE_SETUP(uet)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->buf = MAP_FAILED;
	cleanup();
	ASSERT_EQ(0, system("ip link add " NETDEV " type veth peer name " PEER
			    " && sysctl -qw net.ipv6.conf." NETDEV ".accept_dad=0"
			    " && ip link set " NETDEV " up && ip link set " PEER " up"
			    " && ip addr add " SRC4 "/24 dev " NETDEV
			    " && ip addr add " DST4 "/24 dev " PEER
			    " && ip addr add " SRC6 "/64 dev " NETDEV " nodad"
			    " && rdma link add " DEV " type uet netdev " NETDEV));
	ASSERT_EQ(0, uet_fault_inject_begin());
	self->ctx = uet_open_dev(DEV);
	ASSERT_NE(NULL, self->ctx) TH_LOG("uet provider did not open " DEV);
	ASSERT_EQ(0, ibv_query_device(self->ctx, &self->attr));
	self->sgid4 = wait_gid(self->ctx, SRC4);
	ASSERT_LE(0, self->sgid4) TH_LOG(SRC4 " never appeared in the GID table");
	self->sgid6 = wait_gid(self->ctx, SRC6);
	ASSERT_LE(0, self->sgid6) TH_LOG(SRC6 " never appeared in the GID table");
	self->buf = mmap(NULL, BUF_PAGES * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 0x5a, BUF_PAGES * self->page);
	self->pd = ibv_alloc_pd(self->ctx);
	ASSERT_NE(NULL, self->pd) TH_LOG("ibv_alloc_pd: %s", strerror(errno));
}

FIXTURE_TEARDOWN(uet)
{
	if (self->pd)
		ibv_dealloc_pd(self->pd);
	if (self->buf != MAP_FAILED)
		munmap(self->buf, BUF_PAGES * self->page);
	if (self->ctx)
		ibv_close_device(self->ctx);
	cleanup();
}

/* Protection domains */

TEST_F(uet, pd_alloc_dealloc)
{
	struct ibv_pd *pd;

	pd = ibv_alloc_pd(self->ctx);
	ASSERT_NE(NULL, pd) TH_LOG("ibv_alloc_pd: %s", strerror(errno));
	EXPECT_EQ(self->ctx, pd->context);
	EXPECT_EQ(0, ibv_dealloc_pd(pd));
}

TEST_F_TIMEOUT(uet, pd_limit, 600)
{
	int max = self->attr.max_pd, n, i, bad = 0;
	struct ibv_pd **pds, *extra;
	double t0 = now();

	if (uet_skip_limits())
		SKIP(return, "UET_TEST_LIMITS=0");

	EXPECT_EQ(65536, max);
	/* The fixture's PD would count against the limit. */
	ASSERT_EQ(0, ibv_dealloc_pd(self->pd));
	self->pd = NULL;
	pds = calloc(max, sizeof(*pds));
	ASSERT_NE(NULL, pds);
	for (n = 0; n < max; n++) {
		pds[n] = ibv_alloc_pd(self->ctx);
		if (!pds[n])
			break;
	}
	EXPECT_EQ(max, n) TH_LOG("PD %d of %d: %s", n + 1, max, strerror(errno));
	if (n == max) {
		errno = 0;
		extra = ibv_alloc_pd(self->ctx);
		EXPECT_EQ(NULL, extra);
		EXPECT_EQ(ENOMEM, errno) TH_LOG("one more: %s", strerror(errno));
		if (extra)
			ibv_dealloc_pd(extra);
		/* A freed slot can be used again. */
		EXPECT_EQ(0, ibv_dealloc_pd(pds[max / 2]));
		pds[max / 2] = ibv_alloc_pd(self->ctx);
		EXPECT_NE(NULL, pds[max / 2]) TH_LOG("after a free: %s",
						     strerror(errno));
	}
	TH_LOG("%d PDs allocated in %.1f s", n, now() - t0);
	t0 = now();
	for (i = 0; i < n; i++)
		if (pds[i] && ibv_dealloc_pd(pds[i]))
			bad++;
	EXPECT_EQ(0, bad);
	TH_LOG("%d PDs freed in %.1f s", n, now() - t0);
	free(pds);
}

/* Memory regions */

TEST_F(uet, mr_full_access)
{
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC;
	size_t len = 3 * self->page;
	struct ibv_mr *mr;

	mr = ibv_reg_mr(self->pd, self->buf, len, access);
	ASSERT_NE(NULL, mr) TH_LOG("ibv_reg_mr: %s", strerror(errno));
	EXPECT_EQ(mr->lkey, mr->rkey);
	EXPECT_NE(0u, mr->lkey);
	EXPECT_EQ(len, mr->length);
	EXPECT_EQ(self->buf, mr->addr);
	EXPECT_EQ(self->pd, mr->pd);
	EXPECT_EQ(0, ibv_dereg_mr(mr));
}

TEST_F(uet, mr_local_read_only)
{
	struct ibv_mr *mr;

	mr = ibv_reg_mr(self->pd, self->buf, self->page, 0);
	ASSERT_NE(NULL, mr) TH_LOG("ibv_reg_mr: %s", strerror(errno));
	EXPECT_EQ(mr->lkey, mr->rkey);
	EXPECT_NE(0u, mr->lkey);
	EXPECT_EQ(self->page, mr->length);
	EXPECT_EQ(self->buf, mr->addr);
	EXPECT_EQ(0, ibv_dereg_mr(mr));
}

TEST_F(uet, mr_remote_needs_local_write)
{
	EXPECT_EQ(EINVAL, mr_errno(self->pd, self->buf, self->page,
				   IBV_ACCESS_REMOTE_WRITE));
	EXPECT_EQ(EINVAL, mr_errno(self->pd, self->buf, self->page,
				   IBV_ACCESS_REMOTE_ATOMIC));
}

TEST_F(uet, mr_unsupported_access)
{
	EXPECT_EQ(EOPNOTSUPP, mr_errno(self->pd, self->buf, self->page,
				       IBV_ACCESS_LOCAL_WRITE |
				       IBV_ACCESS_ON_DEMAND));
	EXPECT_EQ(EOPNOTSUPP, mr_errno(self->pd, self->buf, self->page,
				       IBV_ACCESS_LOCAL_WRITE |
				       IBV_ACCESS_MW_BIND));
}

TEST_F(uet, mr_zero_length)
{
	EXPECT_EQ(EINVAL, mr_errno(self->pd, self->buf, 0,
				   IBV_ACCESS_LOCAL_WRITE));
}

TEST_F(uet, mr_too_long)
{
	size_t len = self->attr.max_mr_size + 4096;

	EXPECT_EQ(4ull << 30, self->attr.max_mr_size);
	EXPECT_EQ(EINVAL, mr_errno(self->pd, self->buf, len,
				   IBV_ACCESS_LOCAL_WRITE));
	EXPECT_EQ(EINVAL, mr_errno(self->pd, self->buf, len, 0));
}

TEST_F(uet, mr_unmapped)
{
	size_t len = 4 * self->page;
	void *hole;

	hole = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole, len));
	EXPECT_EQ(EFAULT, mr_errno(self->pd, hole, len,
				   IBV_ACCESS_LOCAL_WRITE));
	EXPECT_EQ(EFAULT, mr_errno(self->pd, hole, len, 0));
	/* Below mmap_min_addr: never mapped. */
	EXPECT_EQ(EFAULT, mr_errno(self->pd, (void *)0x1000, self->page,
				   IBV_ACCESS_LOCAL_WRITE));
}

static bool key_seen(const uint32_t *keys, int n, uint32_t key)
{
	int i;

	for (i = 0; i < n; i++)
		if (keys[i] == key)
			return true;
	return false;
}

TEST_F(uet, mr_keys)
{
	uint32_t handed[NKEYS + KEY_ROUNDS];
	struct ibv_mr *mrs[NKEYS] = {};
	int i, n = 0, slot, bad = 0;

	for (i = 0; i < NKEYS; i++) {
		mrs[i] = ibv_reg_mr(self->pd, self->buf, self->page,
				    IBV_ACCESS_LOCAL_WRITE);
		ASSERT_NE(NULL, mrs[i]) TH_LOG("MR %d: %s", i, strerror(errno));
		EXPECT_EQ(mrs[i]->lkey, mrs[i]->rkey);
		EXPECT_FALSE(key_seen(handed, n, mrs[i]->lkey))
			TH_LOG("MR %d got the live key 0x%x", i, mrs[i]->lkey);
		handed[n++] = mrs[i]->lkey;
	}
	/* A new MR gets neither a live key nor one handed out before. */
	for (i = 0; i < KEY_ROUNDS; i++) {
		slot = (i * 37 + 5) % NKEYS;
		EXPECT_EQ(0, ibv_dereg_mr(mrs[slot]));
		mrs[slot] = ibv_reg_mr(self->pd, self->buf, self->page,
				       IBV_ACCESS_LOCAL_WRITE);
		ASSERT_NE(NULL, mrs[slot]) TH_LOG("re-register: %s",
						  strerror(errno));
		EXPECT_FALSE(key_seen(handed, n, mrs[slot]->lkey))
			TH_LOG("round %d: key 0x%x was handed out before", i,
			       mrs[slot]->lkey);
		handed[n++] = mrs[slot]->lkey;
	}
	for (i = 0; i < NKEYS; i++)
		if (ibv_dereg_mr(mrs[i]))
			bad++;
	EXPECT_EQ(0, bad);
}

TEST_F_TIMEOUT(uet, mr_limit, 900)
{
	int max = self->attr.max_mr, n, i, bad = 0;
	struct ibv_mr **mrs, *extra;
	double t0 = now();
	uint32_t top = 0;

	if (uet_skip_limits())
		SKIP(return, "UET_TEST_LIMITS=0");

	EXPECT_EQ(65536, max);
	mrs = calloc(max, sizeof(*mrs));
	ASSERT_NE(NULL, mrs);
	/* The same page, registered again and again. */
	for (n = 0; n < max; n++) {
		mrs[n] = ibv_reg_mr(self->pd, self->buf, 4096,
				    IBV_ACCESS_LOCAL_WRITE);
		if (!mrs[n])
			break;
		if (mrs[n]->lkey > top)
			top = mrs[n]->lkey;
	}
	EXPECT_EQ(max, n) TH_LOG("MR %d of %d: %s", n + 1, max, strerror(errno));
	if (n == max) {
		errno = 0;
		extra = ibv_reg_mr(self->pd, self->buf, 4096,
				   IBV_ACCESS_LOCAL_WRITE);
		EXPECT_EQ(NULL, extra);
		EXPECT_EQ(ENOMEM, errno) TH_LOG("one more: %s", strerror(errno));
		if (extra)
			ibv_dereg_mr(extra);
	}
	TH_LOG("%d MRs registered in %.1f s, highest key 0x%x", n,
	       now() - t0, top);
	t0 = now();
	for (i = 0; i < n; i++)
		if (ibv_dereg_mr(mrs[i]))
			bad++;
	EXPECT_EQ(0, bad);
	TH_LOG("%d MRs deregistered in %.1f s", n, now() - t0);
	free(mrs);
}

/* Address handles */

TEST_F(uet, ah_ipv4)
{
	struct ibv_ah_attr attr;
	struct ibv_ah *ah;

	ah_attr_init(&attr, self->sgid4, DST4);
	ah = ibv_create_ah(self->pd, &attr);
	ASSERT_NE(NULL, ah) TH_LOG("ibv_create_ah: %s", strerror(errno));
	EXPECT_EQ(self->pd, ah->pd);
	EXPECT_EQ(0, ibv_destroy_ah(ah));
}

TEST_F(uet, ah_ipv6)
{
	struct ibv_ah_attr attr;
	struct ibv_ah *ah;

	ah_attr_init(&attr, self->sgid6, DST6);
	ah = ibv_create_ah(self->pd, &attr);
	ASSERT_NE(NULL, ah) TH_LOG("ibv_create_ah: %s", strerror(errno));
	EXPECT_EQ(0, ibv_destroy_ah(ah));
}

TEST_F(uet, ah_not_global)
{
	struct ibv_ah_attr attr;

	ah_attr_init(&attr, self->sgid4, DST4);
	attr.is_global = 0;
	EXPECT_EQ(EINVAL, ah_errno(self->pd, &attr));
}

TEST_F(uet, ah_empty_sgid)
{
	struct ibv_ah_attr attr;

	/* ib_core looks the source GID up first: ENODATA for an empty slot. */
	ASSERT_TRUE(gid_slot_empty(self->ctx, 15));
	ah_attr_init(&attr, 15, DST4);
	EXPECT_EQ(ENODATA, ah_errno(self->pd, &attr));
	/* and EINVAL past the end of the table. */
	ah_attr_init(&attr, 16, DST4);
	EXPECT_EQ(EINVAL, ah_errno(self->pd, &attr));
}

TEST_F(uet, ah_zero_dgid)
{
	struct ibv_ah_attr attr;

	ah_attr_init(&attr, self->sgid4, DST4);
	memset(&attr.grh.dgid, 0, sizeof(attr.grh.dgid));
	EXPECT_EQ(EINVAL, ah_errno(self->pd, &attr));
}

TEST_F(uet, ah_multicast)
{
	struct ibv_ah_attr attr;

	ah_attr_init(&attr, self->sgid6, "ff02::1");
	EXPECT_EQ(EOPNOTSUPP, ah_errno(self->pd, &attr));
}

TEST_F(uet, ah_no_route)
{
	struct ibv_ah_attr attr;

	/* Neither routed through NETDEV nor local. */
	ah_attr_init(&attr, self->sgid4, NOROUTE4);
	EXPECT_EQ(ENETUNREACH, ah_errno(self->pd, &attr));
}

TEST_F_TIMEOUT(uet, ah_limit, 900)
{
	int max = self->attr.max_ah, n, i, bad = 0;
	struct ibv_ah **ahs, *extra;
	struct ibv_ah_attr attr;
	double t0 = now();

	if (uet_skip_limits())
		SKIP(return, "UET_TEST_LIMITS=0");

	EXPECT_EQ(65536, max);
	ahs = calloc(max, sizeof(*ahs));
	ASSERT_NE(NULL, ahs);
	ah_attr_init(&attr, self->sgid4, DST4);
	for (n = 0; n < max; n++) {
		ahs[n] = ibv_create_ah(self->pd, &attr);
		if (!ahs[n])
			break;
	}
	EXPECT_EQ(max, n) TH_LOG("AH %d of %d: %s", n + 1, max, strerror(errno));
	if (n == max) {
		errno = 0;
		extra = ibv_create_ah(self->pd, &attr);
		EXPECT_EQ(NULL, extra);
		EXPECT_EQ(ENOMEM, errno) TH_LOG("one more: %s", strerror(errno));
		if (extra)
			ibv_destroy_ah(extra);
	}
	TH_LOG("%d AHs created in %.1f s", n, now() - t0);
	t0 = now();
	for (i = 0; i < n; i++)
		if (ibv_destroy_ah(ahs[i]))
			bad++;
	EXPECT_EQ(0, bad);
	TH_LOG("%d AHs destroyed in %.1f s", n, now() - t0);
	free(ahs);
}

/* Process exit */

/* Allocate a PD, an MR and an AH and leak them: 0 or the failed step. */
static char leak_objects(int sgid_index)
{
	struct ibv_context *ctx;
	struct ibv_ah_attr attr;
	struct ibv_pd *pd;
	void *buf;

	ctx = uet_open_dev(DEV);
	if (!ctx)
		return 1;
	pd = ibv_alloc_pd(ctx);
	if (!pd)
		return 2;
	buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || !ibv_reg_mr(pd, buf, 4096,
					     IBV_ACCESS_LOCAL_WRITE))
		return 3;
	ah_attr_init(&attr, sgid_index, DST4);
	if (!ibv_create_ah(pd, &attr))
		return 4;
	return 0;
}

/*
 * Child of exit_cleanup: leak the objects, report on @ready, wait for @go
 * to close, and exit without freeing anything.
 */
static void leaky_child(int sgid_index, int ready, int go)
{
	char status = leak_objects(sgid_index), c;

	if (write(ready, &status, 1) != 1)
		_exit(1);
	/* EOF when the parent is done looking (or gone). */
	while (read(go, &c, 1) > 0)
		;
	_exit(0);
}

#define RES_PD "rdma res show pd 2>&1"
#define RES_MR "rdma res show mr 2>&1"

/* Forks, and runs the rdma tool six times: slow on a debug kernel. */
TEST_F_TIMEOUT(uet, exit_cleanup, 120)
{
	int ready[2], go[2], status;
	char st = -1;
	pid_t pid;

	/* Only the child's objects may show up. */
	ASSERT_EQ(0, ibv_dealloc_pd(self->pd));
	self->pd = NULL;
	ASSERT_EQ(0, count_lines(RES_PD, "dev " DEV " "));
	ASSERT_EQ(0, count_lines(RES_MR, "dev " DEV " "));

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(ready[0]);
		close(go[1]);
		leaky_child(self->sgid4, ready[1], go[0]);
	}
	close(ready[1]);
	close(go[0]);
	EXPECT_EQ(1, read(ready[0], &st, 1));
	close(ready[0]);
	EXPECT_EQ(0, st) TH_LOG("child failed at step %d", st);

	/* While the child lives, its objects are listed... */
	EXPECT_LE(1, count_lines(RES_PD, "dev " DEV " "));
	EXPECT_LE(1, count_lines(RES_MR, "dev " DEV " "));

	close(go[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));

	/* ...and once it has exited, the kernel has freed them. */
	EXPECT_EQ(0, count_lines(RES_PD, "dev " DEV " "));
	EXPECT_EQ(0, count_lines(RES_MR, "dev " DEV " "));
}

TEST_HARNESS_MAIN
