// SPDX-License-Identifier: GPL-2.0
/*
 * Queue pairs, shared receive queues and the completion queue features
 * that come with them (resize, extended CQs, completion channels,
 * overflow), as a libibverbs application sees them through the uet
 * provider.
 *
 * Checked, error codes included:
 *  - QP creation: RC and UD, with or without an SRQ; every other type and
 *    every create flag refused with EOPNOTSUPP; each capability accepted
 *    at the device maximum and refused one past it with EINVAL; the caps
 *    returned (work requests rounded up to the ring size, SGEs and inline
 *    size as asked, no receive queue with an SRQ); QP numbers unique
 *    device-wide and not reused at once; max_qp enforced exactly across
 *    contexts (ENOMEM one past it);
 *  - modify_qp: RESET->INIT->RTR->RTS for RC (a GRH address on the veth
 *    subnet) and UD, query_qp returning every attribute as set, invalid
 *    transitions and out-of-range attributes refused with EINVAL, an
 *    unreachable destination with ENETUNREACH;
 *  - the error state: receive work posted before it and send or receive
 *    work posted in it completes with IBV_WC_WR_FLUSH_ERR, in order, into
 *    the right CQ, signaled or not; a QP on an SRQ raises
 *    IBV_EVENT_QP_LAST_WQE_REACHED; ERR->RESET->INIT makes the rings
 *    usable again from their start; a full receive ring refuses more work
 *    with ENOMEM;
 *  - ibv_qp_ex: ibv_wr_* work requests are flushed in the error state,
 *    ibv_wr_abort() posts nothing;
 *  - CQs: ibv_create_cq_ex() with the standard completion fields, and
 *    EOPNOTSUPP for time stamps; the start/next/end_poll interface;
 *    resize up and down keeping unpolled completions in order, EINVAL
 *    below the number of unpolled completions or above max_cqe; a CQ
 *    overflow raises IBV_EVENT_CQ_ERR once; completion events only when
 *    armed;
 *  - SRQs: creation at and past its limits, query, modify of the limit,
 *    EOPNOTSUPP for resizing, EBUSY when destroyed under a QP, max_srq
 *    enforced exactly;
 *  - SRQs with traffic (fixture srq_traffic: two RC senders, each
 *    connected over loopback to an RC receiver, both receivers on one
 *    SRQ): IBV_EVENT_SRQ_LIMIT_REACHED exactly once when an armed SRQ
 *    drops below its limit, the limit then disarmed (query says 0) and
 *    armed again by modify_srq, a WRITE_WITH_IMM counting like a SEND;
 *    receives taken in posting order by whichever QP gets a message,
 *    completions on that QP's CQ, every byte checked; RNR on an empty
 *    SRQ (rnr_retry 0 fails, 7 waits for a receive posted late); a QP
 *    of the SRQ in the error state raises LAST_WQE_REACHED, does not
 *    take its peer's SEND (which fails as if unanswered, with
 *    IBV_WC_RETRY_EXC_ERR) and leaves the SRQ's receives to the other QP.
 *
 * The qp fixture executes no work: every completion of its tests is a
 * flush completion.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "../kselftest_harness.h"
#include "uet_verbs_util.h"

#define DEV "uett10"
#define NETDEV "uetq0"
#define PEER "uetq1"
#define SRC4 "10.96.0.1"
#define DST4 "10.96.0.2"
#define NOROUTE4 "198.51.100.1"
#define BUF_SIZE 4096
#define CQ_SIZE 256
#define QKEY 0x11111111
/* QP numbers: 24 bits from one device-wide space, 0 and 1 left out. */
#define QPN_MAX 0xffffffu
#define QPN_MIN 2u
#define MAX_INLINE 256
/* How long a completion or an event may take to show up. */
#define WAIT_MS 2000
/* How long we wait to conclude that nothing shows up. */
#define QUIET_MS 500

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

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

FIXTURE(qp) {
	struct ibv_context *ctx;
	struct ibv_device_attr attr;
	struct ibv_pd *pd;
	struct ibv_cq *cq;	/* send and receive CQ unless a test says */
	struct ibv_mr *mr;
	void *buf;		/* BUF_SIZE bytes, registered as mr */
	int sgid4;		/* GID index of SRC4 */
};

FIXTURE_SETUP(qp)
{
	self->buf = MAP_FAILED;
	cleanup();
	ASSERT_EQ(0, system("ip link add " NETDEV " type veth peer name " PEER
			    " && ip link set " NETDEV " up && ip link set " PEER " up"
			    " && ip addr add " SRC4 "/24 dev " NETDEV
			    " && ip addr add " DST4 "/24 dev " PEER
			    " && rdma link add " DEV " type uet netdev " NETDEV));
	ASSERT_EQ(0, uet_fault_inject_begin());
	self->ctx = uet_open_dev(DEV);
	ASSERT_NE(NULL, self->ctx) TH_LOG("uet provider did not open " DEV);
	ASSERT_EQ(0, ibv_query_device(self->ctx, &self->attr));
	self->sgid4 = uet_wait_gid(self->ctx, SRC4);
	ASSERT_LE(0, self->sgid4) TH_LOG(SRC4 " never appeared in the GID table");
	self->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 0x5a, BUF_SIZE);
	self->pd = ibv_alloc_pd(self->ctx);
	ASSERT_NE(NULL, self->pd) TH_LOG("ibv_alloc_pd: %s", strerror(errno));
	self->mr = ibv_reg_mr(self->pd, self->buf, BUF_SIZE,
			      IBV_ACCESS_LOCAL_WRITE);
	ASSERT_NE(NULL, self->mr) TH_LOG("ibv_reg_mr: %s", strerror(errno));
	self->cq = ibv_create_cq(self->ctx, CQ_SIZE, NULL, NULL, 0);
	ASSERT_NE(NULL, self->cq) TH_LOG("ibv_create_cq: %s", strerror(errno));
}

FIXTURE_TEARDOWN(qp)
{
	if (self->cq)
		ibv_destroy_cq(self->cq);
	if (self->mr)
		ibv_dereg_mr(self->mr);
	if (self->pd)
		ibv_dealloc_pd(self->pd);
	if (self->buf != MAP_FAILED)
		munmap(self->buf, BUF_SIZE);
	if (self->ctx)
		ibv_close_device(self->ctx);
	cleanup();
}

/* Helpers */

static void qp_init_attr(FIXTURE_DATA(qp) *self, struct ibv_qp_init_attr *ia,
			 enum ibv_qp_type type, struct ibv_srq *srq)
{
	memset(ia, 0, sizeof(*ia));
	ia->send_cq = self->cq;
	ia->recv_cq = self->cq;
	ia->srq = srq;
	ia->qp_type = type;
	ia->cap.max_send_wr = 8;
	ia->cap.max_send_sge = 1;
	if (!srq) {
		ia->cap.max_recv_wr = 8;
		ia->cap.max_recv_sge = 1;
	}
}

/* errno of a create_qp expected to fail; 0 (QP destroyed) if it worked. */
static int qp_errno(struct ibv_pd *pd, const struct ibv_qp_init_attr *ia)
{
	struct ibv_qp_init_attr copy = *ia;
	struct ibv_qp *qp;

	errno = 0;
	qp = ibv_create_qp(pd, &copy);
	if (!qp)
		return errno;
	ibv_destroy_qp(qp);
	return 0;
}

static int qp_state(struct ibv_qp *qp)
{
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr a;

	if (ibv_query_qp(qp, &a, IBV_QP_STATE, &ia))
		return -1;
	return a.qp_state;
}

static int to_state(struct ibv_qp *qp, enum ibv_qp_state state)
{
	struct ibv_qp_attr a = { .qp_state = state };

	return ibv_modify_qp(qp, &a, IBV_QP_STATE);
}

#define RC_ACCESS (IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ | \
		   IBV_ACCESS_REMOTE_ATOMIC)

/* The RESET->INIT attributes every test uses; returns the mask. */
static int init_attr(struct ibv_qp *qp, struct ibv_qp_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->qp_state = IBV_QPS_INIT;
	a->pkey_index = 0;
	a->port_num = 1;
	if (qp->qp_type == IBV_QPT_UD) {
		a->qkey = QKEY;
		return IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
		       IBV_QP_QKEY;
	}
	a->qp_access_flags = RC_ACCESS;
	return IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
	       IBV_QP_ACCESS_FLAGS;
}

/* INIT->RTR for RC: a GRH path from SRC4 to DST4. */
static int rtr_attr(struct ibv_qp *qp, int sgid_index, struct ibv_qp_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->qp_state = IBV_QPS_RTR;
	if (qp->qp_type == IBV_QPT_UD)
		return IBV_QP_STATE;
	a->path_mtu = IBV_MTU_1024;
	a->dest_qp_num = 0x5678;
	a->rq_psn = 0x123456;
	a->max_dest_rd_atomic = 4;
	a->min_rnr_timer = 12;
	a->ah_attr.is_global = 1;
	a->ah_attr.port_num = 1;
	a->ah_attr.grh.sgid_index = sgid_index;
	a->ah_attr.grh.hop_limit = 33;
	a->ah_attr.grh.traffic_class = 0x20;
	a->ah_attr.grh.flow_label = 0x12345;
	uet_parse_gid(DST4, &a->ah_attr.grh.dgid);
	return IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
	       IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER;
}

static int rts_attr(struct ibv_qp *qp, struct ibv_qp_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->qp_state = IBV_QPS_RTS;
	a->sq_psn = 0x654321;
	if (qp->qp_type == IBV_QPT_UD)
		return IBV_QP_STATE | IBV_QP_SQ_PSN;
	a->timeout = 14;
	a->retry_cnt = 6;
	a->rnr_retry = 5;
	a->max_rd_atomic = 3;
	return IBV_QP_STATE | IBV_QP_SQ_PSN | IBV_QP_TIMEOUT |
	       IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC;
}

static int to_init(struct ibv_qp *qp)
{
	struct ibv_qp_attr a;
	int mask = init_attr(qp, &a);

	return ibv_modify_qp(qp, &a, mask);
}

/* RESET->INIT->RTR->RTS; 0 or the first error. */
static int to_rts(struct ibv_qp *qp, int sgid_index)
{
	struct ibv_qp_attr a;
	int err, mask;

	err = to_init(qp);
	if (err)
		return err;
	mask = rtr_attr(qp, sgid_index, &a);
	err = ibv_modify_qp(qp, &a, mask);
	if (err)
		return err;
	mask = rts_attr(qp, &a);
	return ibv_modify_qp(qp, &a, mask);
}

/*
 * Post @n receive WRs, wr_id @first + i, one SGE each, to @qp or, if
 * @qp is NULL, to @srq.  Returns the post's result; on failure *@bad_id
 * (if given) is the wr_id of the WR reported bad, or ~0 if none was.
 */
static int post_recv_list(FIXTURE_DATA(qp) *self, struct ibv_qp *qp,
			  struct ibv_srq *srq, int n, uint64_t first,
			  uint64_t *bad_id)
{
	struct ibv_recv_wr wr[64], *bad = NULL;
	struct ibv_sge sge[64];
	int i, err;

	if (n > 64)
		return EINVAL;
	for (i = 0; i < n; i++) {
		sge[i].addr = (uintptr_t)self->buf + 64 * i;
		sge[i].length = 64;
		sge[i].lkey = self->mr->lkey;
		wr[i].wr_id = first + i;
		wr[i].sg_list = &sge[i];
		wr[i].num_sge = 1;
		wr[i].next = i + 1 < n ? &wr[i + 1] : NULL;
	}
	err = qp ? ibv_post_recv(qp, wr, &bad) :
		   ibv_post_srq_recv(srq, wr, &bad);
	if (bad_id)
		*bad_id = bad ? bad->wr_id : ~0ull;
	return err;
}

static int post_recvs(FIXTURE_DATA(qp) *self, struct ibv_qp *qp, int n,
		      uint64_t first, uint64_t *bad_id)
{
	return post_recv_list(self, qp, NULL, n, first, bad_id);
}

static int post_srq_recvs(FIXTURE_DATA(qp) *self, struct ibv_srq *srq, int n,
			  uint64_t first, uint64_t *bad_id)
{
	return post_recv_list(self, NULL, srq, n, first, bad_id);
}

/* Post @n SEND WRs, wr_id @first + i; every other one unsignaled. */
static int post_sends(FIXTURE_DATA(qp) *self, struct ibv_qp *qp, int n,
		      uint64_t first)
{
	struct ibv_send_wr wr[64], *bad;
	struct ibv_sge sge[64];
	int i;

	if (n > 64)
		return EINVAL;
	memset(wr, 0, sizeof(wr));
	for (i = 0; i < n; i++) {
		sge[i].addr = (uintptr_t)self->buf + 64 * i;
		sge[i].length = 64;
		sge[i].lkey = self->mr->lkey;
		wr[i].wr_id = first + i;
		wr[i].sg_list = &sge[i];
		wr[i].num_sge = 1;
		wr[i].opcode = IBV_WR_SEND;
		wr[i].send_flags = i % 2 ? 0 : IBV_SEND_SIGNALED;
		wr[i].next = i + 1 < n ? &wr[i + 1] : NULL;
	}
	return ibv_post_send(qp, wr, &bad);
}

/*
 * Expect exactly @n flush completions of @qp on @cq, wr_id @first + i in
 * order, and nothing after them.
 */
static void expect_flushes(struct __test_metadata *_metadata,
			   struct ibv_cq *cq, struct ibv_qp *qp, int n,
			   uint64_t first)
{
	struct ibv_wc wc[65];
	int got, i;

	ASSERT_GE(64, n);
	memset(wc, 0xa5, sizeof(wc));
	got = uet_poll_n(cq, n, wc, WAIT_MS);
	EXPECT_EQ(n, got) TH_LOG("%d of %d flush completions", got, n);
	for (i = 0; i < got; i++) {
		EXPECT_EQ(first + i, wc[i].wr_id)
			TH_LOG("completion %d: wr_id %llu", i,
			       (unsigned long long)wc[i].wr_id);
		EXPECT_EQ(IBV_WC_WR_FLUSH_ERR, wc[i].status)
			TH_LOG("completion %d: %s", i,
			       ibv_wc_status_str(wc[i].status));
		EXPECT_EQ(qp->qp_num, wc[i].qp_num);
	}
	EXPECT_EQ(0, ibv_poll_cq(cq, 1, &wc[64])) TH_LOG("a completion too many");
}

static void expect_no_completion(struct __test_metadata *_metadata,
				 struct ibv_cq *cq)
{
	struct ibv_wc wc;

	EXPECT_EQ(0, uet_poll_n(cq, 1, &wc, QUIET_MS))
		TH_LOG("unexpected completion wr_id %llu status %d",
		       (unsigned long long)wc.wr_id, wc.status);
}

/* ibv_create_qp() that must work; NULL (and a failed check) if not. */
static struct ibv_qp *create_qp(struct __test_metadata *_metadata,
				struct ibv_pd *pd, struct ibv_qp_init_attr *ia)
{
	struct ibv_qp *qp;

	qp = ibv_create_qp(pd, ia);
	EXPECT_NE(NULL, qp) TH_LOG("ibv_create_qp: %s", strerror(errno));
	return qp;
}

/* QP creation */

static void check_created(struct __test_metadata *_metadata,
			  struct ibv_qp *qp, enum ibv_qp_type type)
{
	EXPECT_EQ(type, qp->qp_type);
	EXPECT_EQ(IBV_QPS_RESET, qp_state(qp));
	/* 24 bits, and not the special QPNs 0 and 1 (see qpn_space). */
	EXPECT_GE(QPN_MAX, qp->qp_num);
	EXPECT_LE(QPN_MIN, qp->qp_num);
}

TEST_F(qp, create_rc)
{
	struct ibv_qp_init_attr ia, q;
	struct ibv_qp_attr a;
	struct ibv_qp *qp;

	qp_init_attr(self, &ia, IBV_QPT_RC, NULL);
	ia.cap.max_send_wr = 100;
	ia.cap.max_recv_wr = 5;
	ia.cap.max_send_sge = 3;
	ia.cap.max_recv_sge = 2;
	ia.cap.max_inline_data = 64;
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);
	check_created(_metadata, qp, IBV_QPT_RC);
	/* Work requests rounded up to the ring size, the rest as asked. */
	EXPECT_EQ(128u, ia.cap.max_send_wr);
	EXPECT_EQ(8u, ia.cap.max_recv_wr);
	EXPECT_EQ(3u, ia.cap.max_send_sge);
	EXPECT_EQ(2u, ia.cap.max_recv_sge);
	EXPECT_EQ(64u, ia.cap.max_inline_data);
	EXPECT_EQ(self->pd, qp->pd);
	EXPECT_EQ(self->cq, qp->send_cq);
	EXPECT_EQ(self->cq, qp->recv_cq);

	/* query_qp reports the same caps. */
	ASSERT_EQ(0, ibv_query_qp(qp, &a, IBV_QP_STATE | IBV_QP_CAP, &q));
	EXPECT_EQ(128u, a.cap.max_send_wr);
	EXPECT_EQ(8u, a.cap.max_recv_wr);
	EXPECT_EQ(3u, a.cap.max_send_sge);
	EXPECT_EQ(2u, a.cap.max_recv_sge);
	EXPECT_EQ(64u, a.cap.max_inline_data);
	EXPECT_EQ(128u, q.cap.max_send_wr);
	EXPECT_EQ(8u, q.cap.max_recv_wr);
	EXPECT_EQ(IBV_QPT_RC, q.qp_type);
	EXPECT_EQ(0, q.sq_sig_all);
	EXPECT_EQ(0, ibv_destroy_qp(qp));
}

TEST_F(qp, create_ud)
{
	struct ibv_qp_init_attr ia, q;
	struct ibv_qp_attr a;
	struct ibv_qp *qp;

	qp_init_attr(self, &ia, IBV_QPT_UD, NULL);
	ia.cap.max_send_wr = 1;
	ia.cap.max_recv_wr = 1000;
	ia.cap.max_send_sge = 16;
	ia.cap.max_recv_sge = 1;
	ia.sq_sig_all = 1;
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);
	check_created(_metadata, qp, IBV_QPT_UD);
	EXPECT_EQ(1u, ia.cap.max_send_wr);
	EXPECT_EQ(1024u, ia.cap.max_recv_wr);
	EXPECT_EQ(16u, ia.cap.max_send_sge);
	EXPECT_EQ(1u, ia.cap.max_recv_sge);
	EXPECT_EQ(0u, ia.cap.max_inline_data);
	ASSERT_EQ(0, ibv_query_qp(qp, &a, IBV_QP_CAP, &q));
	EXPECT_EQ(1, q.sq_sig_all);
	EXPECT_EQ(IBV_QPT_UD, q.qp_type);
	EXPECT_EQ(1024u, q.cap.max_recv_wr);
	EXPECT_EQ(0, ibv_destroy_qp(qp));
}

TEST_F(qp, create_zero_work_requests)
{
	struct ibv_qp_init_attr ia;
	struct ibv_qp *qp;

	/* A ring has at least one entry, and the caps say so. */
	qp_init_attr(self, &ia, IBV_QPT_RC, NULL);
	ia.cap.max_send_wr = 0;
	ia.cap.max_recv_wr = 0;
	ia.cap.max_send_sge = 0;
	ia.cap.max_recv_sge = 0;
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);
	EXPECT_EQ(1u, ia.cap.max_send_wr);
	EXPECT_EQ(1u, ia.cap.max_recv_wr);
	EXPECT_EQ(0u, ia.cap.max_send_sge);
	EXPECT_EQ(0u, ia.cap.max_recv_sge);
	EXPECT_EQ(0, ibv_destroy_qp(qp));
}

TEST_F(qp, create_with_srq)
{
	static const enum ibv_qp_type types[] = { IBV_QPT_RC, IBV_QPT_UD };
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 16, .max_sge = 2 } };
	struct ibv_qp_init_attr ia, q;
	struct ibv_qp_attr a;
	struct ibv_srq *srq;
	struct ibv_qp *qp;
	unsigned int i;

	srq = ibv_create_srq(self->pd, &sa);
	ASSERT_NE(NULL, srq) TH_LOG("ibv_create_srq: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		qp_init_attr(self, &ia, types[i], srq);
		/* Receive caps are ignored with an SRQ: no receive ring. */
		ia.cap.max_recv_wr = 64;
		ia.cap.max_recv_sge = 4;
		qp = create_qp(_metadata, self->pd, &ia);
		if (!qp)
			continue;
		EXPECT_EQ(types[i], qp->qp_type);
		EXPECT_EQ(srq, qp->srq);
		EXPECT_EQ(8u, ia.cap.max_send_wr);
		EXPECT_EQ(0u, ia.cap.max_recv_wr);
		EXPECT_EQ(0u, ia.cap.max_recv_sge);
		EXPECT_EQ(0, ibv_query_qp(qp, &a, IBV_QP_CAP, &q));
		EXPECT_EQ(0u, a.cap.max_recv_wr);
		EXPECT_EQ(0u, a.cap.max_recv_sge);
		EXPECT_EQ(0, ibv_destroy_qp(qp));
	}
	EXPECT_EQ(0, ibv_destroy_srq(srq));
}

/*
 * Every type but RC and UD is refused with EOPNOTSUPP.  libibverbs hands
 * ibv_create_qp() to the provider as it is, and the provider refuses
 * them itself, unknown values included; the kernel would refuse UC,
 * XRC_INI, RAW_PACKET (root has CAP_NET_RAW) and DRIVER the same way,
 * an unknown type with EINVAL from the core (see uet_uverbs_abi).
 */
TEST_F(qp, create_unsupported_types)
{
	static const struct {
		enum ibv_qp_type type;
		const char *name;
	} types[] = {
		{ IBV_QPT_XRC_SEND, "XRC_SEND" },
		{ IBV_QPT_RAW_PACKET, "RAW_PACKET" },
		{ IBV_QPT_DRIVER, "DRIVER" },
		{ IBV_QPT_XRC_RECV, "XRC_RECV" },
		{ 0x77, "0x77" },
	};
	struct ibv_qp_init_attr ia;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		qp_init_attr(self, &ia, types[i].type, NULL);
		EXPECT_EQ(EOPNOTSUPP, qp_errno(self->pd, &ia))
			TH_LOG("QP type %s", types[i].name);
	}
}

TEST_F(qp, create_flags_unsupported)
{
	struct ibv_qp_init_attr_ex ia = {
		.send_cq = self->cq,
		.recv_cq = self->cq,
		.cap = { .max_send_wr = 1, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_UD,
		.comp_mask = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_CREATE_FLAGS,
		.pd = self->pd,
		.create_flags = IBV_QP_CREATE_BLOCK_SELF_MCAST_LB,
	};
	struct ibv_qp *qp;

	errno = 0;
	qp = ibv_create_qp_ex(self->ctx, &ia);
	EXPECT_EQ(NULL, qp);
	EXPECT_EQ(EOPNOTSUPP, errno) TH_LOG("%s", strerror(errno));
	if (qp)
		ibv_destroy_qp(qp);
}

TEST_F(qp, cap_work_requests_boundary)
{
	static const enum ibv_qp_type types[] = { IBV_QPT_RC, IBV_QPT_UD };
	unsigned int max = self->attr.max_qp_wr, i;
	struct ibv_qp_init_attr ia;
	struct ibv_qp *qp;

	EXPECT_EQ(16384u, max);
	for (i = 0; i < 2; i++) {
		qp_init_attr(self, &ia, types[i], NULL);
		ia.cap.max_send_wr = max;
		ia.cap.max_recv_wr = max;
		qp = create_qp(_metadata, self->pd, &ia);
		if (qp) {
			EXPECT_EQ(max, ia.cap.max_send_wr);
			EXPECT_EQ(max, ia.cap.max_recv_wr);
			EXPECT_EQ(0, ibv_destroy_qp(qp));
		}
		qp_init_attr(self, &ia, types[i], NULL);
		ia.cap.max_send_wr = max + 1;
		EXPECT_EQ(EINVAL, qp_errno(self->pd, &ia));
		qp_init_attr(self, &ia, types[i], NULL);
		ia.cap.max_recv_wr = max + 1;
		EXPECT_EQ(EINVAL, qp_errno(self->pd, &ia));
	}
}

TEST_F(qp, cap_sge_boundary)
{
	static const enum ibv_qp_type types[] = { IBV_QPT_RC, IBV_QPT_UD };
	unsigned int max = self->attr.max_sge, i;
	struct ibv_qp_init_attr ia;
	struct ibv_qp *qp;

	EXPECT_EQ(16u, max);
	for (i = 0; i < 2; i++) {
		qp_init_attr(self, &ia, types[i], NULL);
		ia.cap.max_send_sge = max;
		ia.cap.max_recv_sge = max;
		qp = create_qp(_metadata, self->pd, &ia);
		if (qp) {
			EXPECT_EQ(max, ia.cap.max_send_sge);
			EXPECT_EQ(max, ia.cap.max_recv_sge);
			EXPECT_EQ(0, ibv_destroy_qp(qp));
		}
		qp_init_attr(self, &ia, types[i], NULL);
		ia.cap.max_send_sge = max + 1;
		EXPECT_EQ(EINVAL, qp_errno(self->pd, &ia));
		qp_init_attr(self, &ia, types[i], NULL);
		ia.cap.max_recv_sge = max + 1;
		EXPECT_EQ(EINVAL, qp_errno(self->pd, &ia));
	}
}

TEST_F(qp, cap_inline_boundary)
{
	static const enum ibv_qp_type types[] = { IBV_QPT_RC, IBV_QPT_UD };
	struct ibv_qp_init_attr ia;
	struct ibv_qp *qp;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		qp_init_attr(self, &ia, types[i], NULL);
		ia.cap.max_inline_data = MAX_INLINE;
		qp = create_qp(_metadata, self->pd, &ia);
		if (qp) {
			EXPECT_EQ(MAX_INLINE, ia.cap.max_inline_data);
			EXPECT_EQ(0, ibv_destroy_qp(qp));
		}
		qp_init_attr(self, &ia, types[i], NULL);
		ia.cap.max_inline_data = MAX_INLINE + 1;
		EXPECT_EQ(EINVAL, qp_errno(self->pd, &ia));
	}
}

/*
 * QPNs are device-wide: QPs of two contexts never share a number, and a
 * destroyed QP's number is not handed out again straight away, so a late
 * packet for the old QP cannot reach its successor.
 */
TEST_F(qp, qpn_space)
{
	struct ibv_qp *qps[2][3] = {};
	struct ibv_context *ctx2;
	struct ibv_qp_init_attr ia;
	uint32_t qpn[6], old;
	struct ibv_pd *pd2;
	struct ibv_cq *cq2;
	int c, i, j;

	ctx2 = uet_open_dev(DEV);
	ASSERT_NE(NULL, ctx2);
	pd2 = ibv_alloc_pd(ctx2);
	ASSERT_NE(NULL, pd2);
	cq2 = ibv_create_cq(ctx2, 16, NULL, NULL, 0);
	ASSERT_NE(NULL, cq2);

	for (c = 0; c < 2; c++) {
		for (i = 0; i < 3; i++) {
			qp_init_attr(self, &ia, i ? IBV_QPT_UD : IBV_QPT_RC,
				     NULL);
			if (c) {
				ia.send_cq = cq2;
				ia.recv_cq = cq2;
			}
			qps[c][i] = create_qp(_metadata, c ? pd2 : self->pd,
					      &ia);
			ASSERT_NE(NULL, qps[c][i]);
			qpn[c * 3 + i] = qps[c][i]->qp_num;
			EXPECT_GE(QPN_MAX, qpn[c * 3 + i]);
			EXPECT_LE(QPN_MIN, qpn[c * 3 + i]);
		}
	}
	for (i = 0; i < 6; i++) {
		uint32_t n = qpn[i];

		for (j = 0; j < i; j++)
			EXPECT_NE(qpn[j], n) TH_LOG("QPN %#x twice", n);
	}

	/* The next QP, in either context, gets a number not seen before. */
	old = qps[0][0]->qp_num;
	EXPECT_EQ(0, ibv_destroy_qp(qps[0][0]));
	qp_init_attr(self, &ia, IBV_QPT_RC, NULL);
	qps[0][0] = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qps[0][0]);
	EXPECT_NE(old, qps[0][0]->qp_num);
	for (i = 0; i < 6; i++)
		EXPECT_NE(qpn[i], qps[0][0]->qp_num);

	for (c = 0; c < 2; c++)
		for (i = 0; i < 3; i++)
			EXPECT_EQ(0, ibv_destroy_qp(qps[c][i]));
	EXPECT_EQ(0, ibv_destroy_cq(cq2));
	EXPECT_EQ(0, ibv_dealloc_pd(pd2));
	EXPECT_EQ(0, ibv_close_device(ctx2));
}

struct qp_ctx {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp **qps;
	int n;
};

static int qp_ctx_open(struct qp_ctx *x, int max)
{
	memset(x, 0, sizeof(*x));
	x->ctx = uet_open_dev(DEV);
	if (!x->ctx)
		return -1;
	x->pd = ibv_alloc_pd(x->ctx);
	x->cq = ibv_create_cq(x->ctx, 1, NULL, NULL, 0);
	x->qps = calloc(max, sizeof(*x->qps));
	return x->pd && x->cq && x->qps ? 0 : -1;
}

/* Destroy what @x holds; the number of failed destroys. */
static int qp_ctx_close(struct qp_ctx *x)
{
	int i, bad = 0;

	for (i = 0; i < x->n; i++)
		if (ibv_destroy_qp(x->qps[i]))
			bad++;
	free(x->qps);
	if (x->cq && ibv_destroy_cq(x->cq))
		bad++;
	if (x->pd && ibv_dealloc_pd(x->pd))
		bad++;
	if (x->ctx && ibv_close_device(x->ctx))
		bad++;
	return bad;
}

/* The smallest QP: rings of one entry, two pages, vmalloc'd, not pinned. */
static struct ibv_qp *small_qp(struct qp_ctx *x)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = x->cq,
		.recv_cq = x->cq,
		.cap = { .max_send_wr = 1, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_UD,
	};

	return ibv_create_qp(x->pd, &ia);
}

/*
 * max_qp is a device limit, whichever contexts the QPs belong to: spread
 * them over several and check that each one then hits the limit.
 */
#define LIMIT_CTX 5

TEST_F_TIMEOUT(qp, qp_limit, 900)
{
	int max = self->attr.max_qp, per, total = 0, c, bad = 0;
	struct qp_ctx ctxs[LIMIT_CTX];
	struct ibv_qp_init_attr ia;
	struct qp_ctx *last;
	struct ibv_qp *extra;
	double t0 = now();

	if (uet_skip_limits())
		SKIP(return, "UET_TEST_LIMITS=0");

	EXPECT_EQ(16384, max);
	per = (max + LIMIT_CTX - 1) / LIMIT_CTX;
	for (c = 0; c < LIMIT_CTX; c++)
		ASSERT_EQ(0, qp_ctx_open(&ctxs[c], per + 1));
	for (c = 0; c < LIMIT_CTX && total < max; c++) {
		struct qp_ctx *x = &ctxs[c];

		while (x->n < per && total < max) {
			x->qps[x->n] = small_qp(x);
			if (!x->qps[x->n])
				break;
			x->n++;
			total++;
		}
		if (x->n < per && total < max)
			break;
	}
	EXPECT_EQ(max, total) TH_LOG("QP %d of %d (context %d): %s",
				     total + 1, max, c, strerror(errno));
	TH_LOG("%d QPs created in %d contexts in %.1f s", total, LIMIT_CTX,
	       now() - t0);

	if (total == max) {
		/* Every context has room left in its index space. */
		for (c = 0; c < LIMIT_CTX; c++) {
			errno = 0;
			extra = small_qp(&ctxs[c]);
			EXPECT_EQ(NULL, extra) TH_LOG("context %d", c);
			EXPECT_EQ(ENOMEM, errno) TH_LOG("one more in context %d: %s",
							c, strerror(errno));
			if (extra)
				ibv_destroy_qp(extra);
		}
		/* A destroyed QP makes room again, in any context. */
		last = &ctxs[LIMIT_CTX - 1];
		EXPECT_EQ(0, ibv_destroy_qp(last->qps[--last->n]));
		last = &ctxs[0];
		last->qps[last->n] = small_qp(last);
		EXPECT_NE(NULL, last->qps[last->n])
			TH_LOG("after a destroy: %s", strerror(errno));
		if (last->qps[last->n])
			last->n++;
	}

	t0 = now();
	for (c = 0; c < LIMIT_CTX; c++)
		bad += qp_ctx_close(&ctxs[c]);
	EXPECT_EQ(0, bad);
	TH_LOG("destroyed in %.1f s", now() - t0);

	/* Everything is back: a QP can be created again. */
	qp_init_attr(self, &ia, IBV_QPT_RC, NULL);
	EXPECT_EQ(0, qp_errno(self->pd, &ia));
}

/* modify_qp and query_qp */

static void check_query_rc(struct __test_metadata *_metadata,
			   struct ibv_qp *qp, int sgid_index)
{
	struct ibv_qp_init_attr ia;
	union ibv_gid dgid;
	struct ibv_qp_attr a;

	memset(&a, 0xa5, sizeof(a));
	ASSERT_EQ(0, ibv_query_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
				  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS |
				  IBV_QP_AV | IBV_QP_PATH_MTU |
				  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
				  IBV_QP_SQ_PSN | IBV_QP_TIMEOUT |
				  IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
				  IBV_QP_MIN_RNR_TIMER |
				  IBV_QP_MAX_QP_RD_ATOMIC |
				  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_CAP,
				  &ia));
	EXPECT_EQ(IBV_QPS_RTS, a.qp_state);
	EXPECT_EQ(0, a.pkey_index);
	EXPECT_EQ(1, a.port_num);
	EXPECT_EQ(RC_ACCESS, a.qp_access_flags);
	EXPECT_EQ(IBV_MTU_1024, a.path_mtu);
	EXPECT_EQ(0x5678u, a.dest_qp_num);
	EXPECT_EQ(0x123456u, a.rq_psn);
	EXPECT_EQ(0x654321u, a.sq_psn);
	EXPECT_EQ(14, a.timeout);
	EXPECT_EQ(6, a.retry_cnt);
	EXPECT_EQ(5, a.rnr_retry);
	EXPECT_EQ(12, a.min_rnr_timer);
	EXPECT_EQ(3, a.max_rd_atomic);
	EXPECT_EQ(4, a.max_dest_rd_atomic);
	EXPECT_EQ(1, a.ah_attr.is_global);
	EXPECT_EQ(1, a.ah_attr.port_num);
	EXPECT_EQ(sgid_index, a.ah_attr.grh.sgid_index);
	EXPECT_EQ(33, a.ah_attr.grh.hop_limit);
	EXPECT_EQ(0x20, a.ah_attr.grh.traffic_class);
	EXPECT_EQ(0x12345u, a.ah_attr.grh.flow_label);
	uet_parse_gid(DST4, &dgid);
	EXPECT_EQ(0, memcmp(&dgid, &a.ah_attr.grh.dgid, sizeof(dgid)));
	EXPECT_EQ(8u, a.cap.max_send_wr);
	EXPECT_EQ(8u, a.cap.max_recv_wr);
	EXPECT_EQ(1u, a.cap.max_send_sge);
	EXPECT_EQ(1u, a.cap.max_recv_sge);
	EXPECT_EQ(IBV_QPT_RC, ia.qp_type);
	EXPECT_EQ(8u, ia.cap.max_send_wr);
	EXPECT_EQ(8u, ia.cap.max_recv_wr);
}

TEST_F(qp, rc_reset_to_rts)
{
	struct ibv_qp_init_attr ia, q;
	struct ibv_qp_attr a;
	struct ibv_qp *qp;
	int mask;

	qp_init_attr(self, &ia, IBV_QPT_RC, NULL);
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);

	mask = init_attr(qp, &a);
	ASSERT_EQ(0, ibv_modify_qp(qp, &a, mask));
	EXPECT_EQ(IBV_QPS_INIT, qp->state);
	memset(&a, 0xa5, sizeof(a));
	ASSERT_EQ(0, ibv_query_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
				  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS, &q));
	EXPECT_EQ(IBV_QPS_INIT, a.qp_state);
	EXPECT_EQ(0, a.pkey_index);
	EXPECT_EQ(1, a.port_num);
	EXPECT_EQ(RC_ACCESS, a.qp_access_flags);

	mask = rtr_attr(qp, self->sgid4, &a);
	ASSERT_EQ(0, ibv_modify_qp(qp, &a, mask)) TH_LOG("INIT->RTR");
	EXPECT_EQ(IBV_QPS_RTR, qp_state(qp));
	mask = rts_attr(qp, &a);
	ASSERT_EQ(0, ibv_modify_qp(qp, &a, mask)) TH_LOG("RTR->RTS");
	EXPECT_EQ(IBV_QPS_RTS, qp->state);
	check_query_rc(_metadata, qp, self->sgid4);

	/* RTS->RTS may change the optional attributes. */
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.min_rnr_timer = 20;
	ASSERT_EQ(0, ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_MIN_RNR_TIMER));
	ASSERT_EQ(0, ibv_query_qp(qp, &a, IBV_QP_STATE | IBV_QP_MIN_RNR_TIMER,
				  &q));
	EXPECT_EQ(IBV_QPS_RTS, a.qp_state);
	EXPECT_EQ(20, a.min_rnr_timer);
	EXPECT_EQ(0, ibv_destroy_qp(qp));
}

TEST_F(qp, ud_reset_to_rts)
{
	struct ibv_qp_init_attr ia, q;
	struct ibv_qp_attr a;
	struct ibv_qp *qp;

	qp_init_attr(self, &ia, IBV_QPT_UD, NULL);
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, to_rts(qp, self->sgid4));
	memset(&a, 0xa5, sizeof(a));
	ASSERT_EQ(0, ibv_query_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
				  IBV_QP_PORT | IBV_QP_QKEY | IBV_QP_SQ_PSN |
				  IBV_QP_CAP, &q));
	EXPECT_EQ(IBV_QPS_RTS, a.qp_state);
	EXPECT_EQ(0, a.pkey_index);
	EXPECT_EQ(1, a.port_num);
	EXPECT_EQ((uint32_t)QKEY, a.qkey);
	EXPECT_EQ(0x654321u, a.sq_psn);
	EXPECT_EQ(8u, a.cap.max_send_wr);
	EXPECT_EQ(8u, a.cap.max_recv_wr);
	EXPECT_EQ(IBV_QPT_UD, q.qp_type);

	/* A new Q_Key in RTS. */
	a.qkey = 0x22222222;
	ASSERT_EQ(0, ibv_modify_qp(qp, &a, IBV_QP_QKEY));
	ASSERT_EQ(0, ibv_query_qp(qp, &a, IBV_QP_QKEY, &q));
	EXPECT_EQ(0x22222222u, a.qkey);
	EXPECT_EQ(0, ibv_destroy_qp(qp));
}

TEST_F(qp, invalid_transitions)
{
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr a;
	struct ibv_qp *qp;
	int mask;

	qp_init_attr(self, &ia, IBV_QPT_RC, NULL);
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);

	/* RESET->RTS and RESET->RTR skip states. */
	mask = rts_attr(qp, &a);
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask));
	mask = rtr_attr(qp, self->sgid4, &a);
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask));
	/* RESET->INIT without a required attribute, or with a foreign one. */
	mask = init_attr(qp, &a);
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask & ~IBV_QP_PORT));
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask & ~IBV_QP_ACCESS_FLAGS));
	a.sq_psn = 1;
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask | IBV_QP_SQ_PSN));
	EXPECT_EQ(IBV_QPS_RESET, qp_state(qp));

	ASSERT_EQ(0, to_init(qp));
	/* INIT->RTS skips RTR; INIT->RTR needs its path. */
	mask = rts_attr(qp, &a);
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask));
	mask = rtr_attr(qp, self->sgid4, &a);
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask & ~IBV_QP_AV));
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask & ~IBV_QP_DEST_QPN));
	EXPECT_EQ(IBV_QPS_INIT, qp_state(qp));

	/* Backwards is only to RESET or ERR. */
	ASSERT_EQ(0, ibv_modify_qp(qp, &a, mask));
	mask = rts_attr(qp, &a);
	ASSERT_EQ(0, ibv_modify_qp(qp, &a, mask));
	mask = rtr_attr(qp, self->sgid4, &a);
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask));
	mask = init_attr(qp, &a);
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask));
	EXPECT_EQ(IBV_QPS_RTS, qp_state(qp));

	/* From ERR only to RESET. */
	ASSERT_EQ(0, to_state(qp, IBV_QPS_ERR));
	EXPECT_EQ(IBV_QPS_ERR, qp_state(qp));
	mask = rts_attr(qp, &a);
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask));
	mask = init_attr(qp, &a);
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask));
	EXPECT_EQ(IBV_QPS_ERR, qp_state(qp));
	EXPECT_EQ(0, to_state(qp, IBV_QPS_RESET));
	EXPECT_EQ(IBV_QPS_RESET, qp_state(qp));
	/* RESET->ERR is not in the state table (ib_modify_qp_is_ok). */
	EXPECT_EQ(EINVAL, to_state(qp, IBV_QPS_ERR));
	EXPECT_EQ(IBV_QPS_RESET, qp_state(qp));
	/* INIT->ERR is. */
	ASSERT_EQ(0, to_init(qp));
	EXPECT_EQ(0, to_state(qp, IBV_QPS_ERR));
	EXPECT_EQ(IBV_QPS_ERR, qp_state(qp));
	EXPECT_EQ(0, ibv_destroy_qp(qp));
}

TEST_F(qp, bad_attributes)
{
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr a;
	struct ibv_qp *qp;
	int mask;

	qp_init_attr(self, &ia, IBV_QPT_RC, NULL);
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);

	mask = init_attr(qp, &a);
	a.port_num = 2;
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask)) TH_LOG("port 2");
	a.port_num = 0;
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask)) TH_LOG("port 0");
	mask = init_attr(qp, &a);
	a.pkey_index = 1;
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask)) TH_LOG("pkey_index 1");
	EXPECT_EQ(IBV_QPS_RESET, qp_state(qp));
	ASSERT_EQ(0, to_init(qp));

	mask = rtr_attr(qp, self->sgid4, &a);
	a.max_dest_rd_atomic = 17;
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask))
		TH_LOG("max_dest_rd_atomic 17");
	mask = rtr_attr(qp, self->sgid4, &a);
	a.path_mtu = IBV_MTU_4096 + 1;
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask)) TH_LOG("path_mtu 6");
	mask = rtr_attr(qp, self->sgid4, &a);
	a.ah_attr.port_num = 2;
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask)) TH_LOG("AV port 2");
	EXPECT_EQ(IBV_QPS_INIT, qp_state(qp));
	/* The limits themselves are fine. */
	mask = rtr_attr(qp, self->sgid4, &a);
	a.max_dest_rd_atomic = 16;
	a.path_mtu = IBV_MTU_4096;
	ASSERT_EQ(0, ibv_modify_qp(qp, &a, mask));

	mask = rts_attr(qp, &a);
	a.max_rd_atomic = 17;
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask)) TH_LOG("max_rd_atomic 17");
	mask = rts_attr(qp, &a);
	a.retry_cnt = 8;
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask)) TH_LOG("retry_cnt 8");
	mask = rts_attr(qp, &a);
	a.rnr_retry = 8;
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask)) TH_LOG("rnr_retry 8");
	EXPECT_EQ(IBV_QPS_RTR, qp_state(qp));
	mask = rts_attr(qp, &a);
	a.max_rd_atomic = 16;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	ASSERT_EQ(0, ibv_modify_qp(qp, &a, mask));
	EXPECT_EQ(IBV_QPS_RTS, qp_state(qp));
	EXPECT_EQ(0, ibv_destroy_qp(qp));
}

TEST_F(qp, rtr_bad_path)
{
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr a;
	struct ibv_qp *qp;
	int mask;

	qp_init_attr(self, &ia, IBV_QPT_RC, NULL);
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, to_init(qp));

	/* No GRH: uet addresses by IP only. */
	mask = rtr_attr(qp, self->sgid4, &a);
	a.ah_attr.is_global = 0;
	EXPECT_EQ(EINVAL, ibv_modify_qp(qp, &a, mask)) TH_LOG("no GRH");
	/* A destination without a route. */
	mask = rtr_attr(qp, self->sgid4, &a);
	uet_parse_gid(NOROUTE4, &a.ah_attr.grh.dgid);
	EXPECT_EQ(ENETUNREACH, ibv_modify_qp(qp, &a, mask));
	EXPECT_EQ(IBV_QPS_INIT, qp_state(qp));
	EXPECT_EQ(0, ibv_destroy_qp(qp));
}

/* The error state and flush completions */

TEST_F(qp, recv_flush_on_err)
{
	static const enum ibv_qp_type types[] = { IBV_QPT_RC, IBV_QPT_UD };
	struct ibv_qp_init_attr ia;
	uint64_t bad;
	struct ibv_qp *qp;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		qp_init_attr(self, &ia, types[i], NULL);
		qp = create_qp(_metadata, self->pd, &ia);
		ASSERT_NE(NULL, qp);
		ASSERT_EQ(0, to_init(qp));
		ASSERT_EQ(0, post_recvs(self, qp, 5, 1000 * (i + 1), &bad));
		/* Nothing completes before the error. */
		expect_no_completion(_metadata, self->cq);
		ASSERT_EQ(0, to_state(qp, IBV_QPS_ERR));
		expect_flushes(_metadata, self->cq, qp, 5, 1000 * (i + 1));
		EXPECT_EQ(0, ibv_destroy_qp(qp));
	}
}

TEST_F(qp, send_flush_in_err)
{
	struct ibv_qp_init_attr ia;
	struct ibv_qp *qp;

	/* sq_sig_all = 0: even the unsignaled WRs complete when flushed. */
	qp_init_attr(self, &ia, IBV_QPT_RC, NULL);
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, to_rts(qp, self->sgid4));
	ASSERT_EQ(0, to_state(qp, IBV_QPS_ERR));
	ASSERT_EQ(0, post_sends(self, qp, 4, 200));
	expect_flushes(_metadata, self->cq, qp, 4, 200);
	/* and again, the ring wraps past its start. */
	ASSERT_EQ(0, post_sends(self, qp, 7, 300));
	expect_flushes(_metadata, self->cq, qp, 7, 300);
	EXPECT_EQ(0, ibv_destroy_qp(qp));
}

TEST_F(qp, recv_flush_after_err)
{
	struct ibv_qp_init_attr ia;
	uint64_t bad;
	struct ibv_qp *qp;

	qp_init_attr(self, &ia, IBV_QPT_UD, NULL);
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, to_init(qp));
	ASSERT_EQ(0, to_state(qp, IBV_QPS_ERR));
	expect_no_completion(_metadata, self->cq);
	ASSERT_EQ(0, post_recvs(self, qp, 3, 40, &bad));
	expect_flushes(_metadata, self->cq, qp, 3, 40);
	/* More than the ring holds, over several posts. */
	ASSERT_EQ(0, post_recvs(self, qp, 6, 50, &bad));
	expect_flushes(_metadata, self->cq, qp, 6, 50);
	ASSERT_EQ(0, post_recvs(self, qp, 8, 60, &bad));
	expect_flushes(_metadata, self->cq, qp, 8, 60);
	EXPECT_EQ(0, ibv_destroy_qp(qp));
}

TEST_F(qp, flush_to_own_cq)
{
	struct ibv_qp_init_attr ia;
	struct ibv_cq *scq, *rcq;
	uint64_t bad;
	struct ibv_qp *qp;

	scq = ibv_create_cq(self->ctx, 16, NULL, NULL, 0);
	ASSERT_NE(NULL, scq);
	rcq = ibv_create_cq(self->ctx, 16, NULL, NULL, 0);
	ASSERT_NE(NULL, rcq);
	qp_init_attr(self, &ia, IBV_QPT_RC, NULL);
	ia.send_cq = scq;
	ia.recv_cq = rcq;
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, to_init(qp));
	ASSERT_EQ(0, post_recvs(self, qp, 2, 10, &bad));
	ASSERT_EQ(0, to_state(qp, IBV_QPS_ERR));
	ASSERT_EQ(0, post_sends(self, qp, 3, 20));
	expect_flushes(_metadata, rcq, qp, 2, 10);
	expect_flushes(_metadata, scq, qp, 3, 20);
	expect_no_completion(_metadata, self->cq);
	EXPECT_EQ(0, ibv_destroy_qp(qp));
	EXPECT_EQ(0, ibv_destroy_cq(rcq));
	EXPECT_EQ(0, ibv_destroy_cq(scq));
}

TEST_F(qp, recv_ring_full)
{
	struct ibv_qp_init_attr ia;
	uint64_t bad = 0;
	struct ibv_qp *qp;

	qp_init_attr(self, &ia, IBV_QPT_RC, NULL);
	ia.cap.max_recv_wr = 4;
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(4u, ia.cap.max_recv_wr);
	ASSERT_EQ(0, to_init(qp));
	/* Nothing consumes receive work yet: the ring fills up. */
	ASSERT_EQ(0, post_recvs(self, qp, 3, 1, &bad));
	EXPECT_EQ(ENOMEM, post_recvs(self, qp, 2, 4, &bad));
	/* The first fitted, the second is the bad one. */
	EXPECT_EQ(5u, bad);
	ASSERT_EQ(0, to_state(qp, IBV_QPS_ERR));
	expect_flushes(_metadata, self->cq, qp, 4, 1);
	EXPECT_EQ(0, ibv_destroy_qp(qp));
}

TEST_F(qp, err_reset_reuse)
{
	struct ibv_qp_init_attr ia;
	uint64_t bad;
	struct ibv_qp *qp;
	int round;

	qp_init_attr(self, &ia, IBV_QPT_RC, NULL);
	ia.cap.max_send_wr = 4;
	ia.cap.max_recv_wr = 4;
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);

	for (round = 0; round < 3; round++) {
		uint64_t id = 100 * (round + 1);

		ASSERT_EQ(0, to_rts(qp, self->sgid4)) TH_LOG("round %d", round);
		/* A full receive ring each time: the indices restarted. */
		ASSERT_EQ(0, post_recvs(self, qp, 4, id, &bad))
			TH_LOG("round %d", round);
		ASSERT_EQ(0, to_state(qp, IBV_QPS_ERR));
		expect_flushes(_metadata, self->cq, qp, 4, id);
		ASSERT_EQ(0, post_sends(self, qp, 3, id + 50));
		expect_flushes(_metadata, self->cq, qp, 3, id + 50);
		ASSERT_EQ(0, to_state(qp, IBV_QPS_RESET));
		EXPECT_EQ(IBV_QPS_RESET, qp_state(qp));
		/* RESET discards nothing new and completes nothing. */
		expect_no_completion(_metadata, self->cq);
	}
	EXPECT_EQ(0, ibv_destroy_qp(qp));
}

TEST_F(qp, last_wqe_reached)
{
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 16, .max_sge = 1 } };
	struct ibv_qp_init_attr ia;
	uint64_t bad;
	struct ibv_srq *srq;
	struct ibv_qp *qp;

	srq = ibv_create_srq(self->pd, &sa);
	ASSERT_NE(NULL, srq) TH_LOG("ibv_create_srq: %s", strerror(errno));
	ASSERT_EQ(0, post_srq_recvs(self, srq, 3, 70, &bad));
	qp_init_attr(self, &ia, IBV_QPT_RC, srq);
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, to_init(qp));
	ASSERT_EQ(0, to_state(qp, IBV_QPS_ERR));
	EXPECT_TRUE(uet_wait_async(self->ctx, IBV_EVENT_QP_LAST_WQE_REACHED,
				   qp, WAIT_MS));
	/* The SRQ's work belongs to the SRQ, not to the failed QP. */
	expect_no_completion(_metadata, self->cq);
	EXPECT_EQ(0, ibv_destroy_qp(qp));
	EXPECT_EQ(0, ibv_destroy_srq(srq));
}

/* ibv_qp_ex */

TEST_F(qp, qp_ex_flush)
{
	struct ibv_qp_init_attr_ex ia = {
		.send_cq = self->cq,
		.recv_cq = self->cq,
		.cap = { .max_send_wr = 8, .max_recv_wr = 1,
			 .max_send_sge = 2, .max_recv_sge = 1,
			 .max_inline_data = MAX_INLINE },
		.qp_type = IBV_QPT_RC,
		.comp_mask = IBV_QP_INIT_ATTR_PD |
			     IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.pd = self->pd,
		.send_ops_flags = IBV_QP_EX_WITH_SEND,
	};
	struct ibv_qp_ex *qpx;
	struct ibv_qp *qp;

	qp = ibv_create_qp_ex(self->ctx, &ia);
	ASSERT_NE(NULL, qp) TH_LOG("ibv_create_qp_ex: %s", strerror(errno));
	qpx = ibv_qp_to_qp_ex(qp);
	ASSERT_NE(NULL, qpx);
	ASSERT_EQ(0, to_rts(qp, self->sgid4));
	ASSERT_EQ(0, to_state(qp, IBV_QPS_ERR));

	ibv_wr_start(qpx);
	qpx->wr_id = 1;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send(qpx);
	ibv_wr_set_sge(qpx, self->mr->lkey, (uintptr_t)self->buf, 64);
	qpx->wr_id = 2;
	qpx->wr_flags = 0;
	ibv_wr_send(qpx);
	ibv_wr_set_sge(qpx, self->mr->lkey, (uintptr_t)self->buf + 64, 64);
	qpx->wr_id = 3;
	qpx->wr_flags = IBV_SEND_INLINE | IBV_SEND_SIGNALED;
	ibv_wr_send(qpx);
	ibv_wr_set_inline_data(qpx, self->buf, MAX_INLINE);
	EXPECT_EQ(0, ibv_wr_complete(qpx));
	expect_flushes(_metadata, self->cq, qp, 3, 1);

	/* An aborted batch posts nothing... */
	ibv_wr_start(qpx);
	qpx->wr_id = 4;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send(qpx);
	ibv_wr_set_sge(qpx, self->mr->lkey, (uintptr_t)self->buf, 64);
	ibv_wr_abort(qpx);
	expect_no_completion(_metadata, self->cq);
	/* ...and takes no slot: the next batch is the next completion. */
	ibv_wr_start(qpx);
	qpx->wr_id = 5;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send(qpx);
	ibv_wr_set_sge(qpx, self->mr->lkey, (uintptr_t)self->buf, 64);
	EXPECT_EQ(0, ibv_wr_complete(qpx));
	expect_flushes(_metadata, self->cq, qp, 1, 5);
	EXPECT_EQ(0, ibv_destroy_qp(qp));
}

/* Completion queues */

static struct ibv_cq_ex *create_cq_ex(struct ibv_context *ctx, int cqe,
				      uint64_t wc_flags)
{
	struct ibv_cq_init_attr_ex ca = {
		.cqe = cqe,
		.wc_flags = wc_flags,
	};

	errno = 0;
	return ibv_create_cq_ex(ctx, &ca);
}

TEST_F(qp, cq_ex_wc_flags)
{
	static const uint64_t bad[] = {
		IBV_WC_EX_WITH_COMPLETION_TIMESTAMP,
		IBV_WC_EX_WITH_COMPLETION_TIMESTAMP_WALLCLOCK,
		IBV_WC_EX_WITH_CVLAN,
		IBV_WC_EX_WITH_FLOW_TAG,
		IBV_WC_EX_WITH_TM_INFO,
	};
	struct ibv_cq_ex *cq;
	unsigned int i;

	cq = create_cq_ex(self->ctx, 16, IBV_WC_STANDARD_FLAGS);
	ASSERT_NE(NULL, cq) TH_LOG("ibv_create_cq_ex: %s", strerror(errno));
	EXPECT_EQ(16, ibv_cq_ex_to_cq(cq)->cqe);
	EXPECT_EQ(0, ibv_destroy_cq(ibv_cq_ex_to_cq(cq)));
	cq = create_cq_ex(self->ctx, 1, 0);
	ASSERT_NE(NULL, cq) TH_LOG("no wc_flags: %s", strerror(errno));
	EXPECT_EQ(0, ibv_destroy_cq(ibv_cq_ex_to_cq(cq)));

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		cq = create_cq_ex(self->ctx, 16,
				  IBV_WC_STANDARD_FLAGS | bad[i]);
		EXPECT_EQ(NULL, cq);
		EXPECT_EQ(EOPNOTSUPP, errno)
			TH_LOG("wc_flags %#llx: %s", (unsigned long long)bad[i],
			       strerror(errno));
		if (cq)
			ibv_destroy_cq(ibv_cq_ex_to_cq(cq));
	}
}

TEST_F(qp, cq_ex_poll)
{
	struct ibv_poll_cq_attr pa = {};
	struct ibv_qp_init_attr ia;
	uint64_t bad;
	struct ibv_cq_ex *cq;
	struct ibv_qp *qp;
	int i, ret;

	cq = create_cq_ex(self->ctx, 16, IBV_WC_STANDARD_FLAGS);
	ASSERT_NE(NULL, cq) TH_LOG("ibv_create_cq_ex: %s", strerror(errno));
	qp_init_attr(self, &ia, IBV_QPT_UD, NULL);
	ia.recv_cq = ibv_cq_ex_to_cq(cq);
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);

	/* Empty: start_poll says ENOENT and needs no end_poll. */
	EXPECT_EQ(ENOENT, ibv_start_poll(cq, &pa));

	ASSERT_EQ(0, to_init(qp));
	ASSERT_EQ(0, post_recvs(self, qp, 3, 500, &bad));
	ASSERT_EQ(0, to_state(qp, IBV_QPS_ERR));
	for (i = 0; i < 200; i++) {
		ret = ibv_start_poll(cq, &pa);
		if (ret != ENOENT)
			break;
		usleep(10000);
	}
	ASSERT_EQ(0, ret);
	for (i = 0; i < 3 && !ret; i++) {
		EXPECT_EQ(500u + i, cq->wr_id);
		EXPECT_EQ(IBV_WC_WR_FLUSH_ERR, cq->status);
		EXPECT_EQ(qp->qp_num, ibv_wc_read_qp_num(cq));
		ret = ibv_next_poll(cq);
	}
	EXPECT_EQ(3, i);
	EXPECT_EQ(ENOENT, ret);
	ibv_end_poll(cq);
	EXPECT_EQ(ENOENT, ibv_start_poll(cq, &pa));

	EXPECT_EQ(0, ibv_destroy_qp(qp));
	EXPECT_EQ(0, ibv_destroy_cq(ibv_cq_ex_to_cq(cq)));
}

/* A QP with receives on @cq, @n of them flushed into it. */
static struct ibv_qp *flush_into(struct __test_metadata *_metadata,
				 FIXTURE_DATA(qp) *self, struct ibv_cq *cq,
				 int n, uint64_t first)
{
	struct ibv_qp_init_attr ia;
	uint64_t bad;
	struct ibv_qp *qp;

	qp_init_attr(self, &ia, IBV_QPT_UD, NULL);
	ia.recv_cq = cq;
	ia.cap.max_recv_wr = 64;
	qp = create_qp(_metadata, self->pd, &ia);
	if (!qp)
		return NULL;
	EXPECT_EQ(0, to_init(qp));
	EXPECT_EQ(0, to_state(qp, IBV_QPS_ERR));
	EXPECT_EQ(0, post_recvs(self, qp, n, first, &bad));
	return qp;
}

TEST_F(qp, cq_resize_grow)
{
	uint64_t bad;
	struct ibv_qp *qp;
	struct ibv_cq *cq;

	cq = ibv_create_cq(self->ctx, 16, NULL, NULL, 0);
	ASSERT_NE(NULL, cq);
	ASSERT_EQ(16, cq->cqe);
	qp = flush_into(_metadata, self, cq, 5, 10);
	ASSERT_NE(NULL, qp);
	/* The flushes happened in the post; give a slow kernel a moment. */
	usleep(100000);

	ASSERT_EQ(0, ibv_resize_cq(cq, 100));
	EXPECT_EQ(128, cq->cqe);
	expect_flushes(_metadata, cq, qp, 5, 10);
	/* New completions land in the new ring, after the old ones. */
	ASSERT_EQ(0, post_recvs(self, qp, 20, 30, &bad));
	expect_flushes(_metadata, cq, qp, 20, 30);
	/* The largest size works too. */
	ASSERT_EQ(0, ibv_resize_cq(cq, self->attr.max_cqe));
	EXPECT_EQ(self->attr.max_cqe, cq->cqe);
	ASSERT_EQ(0, post_recvs(self, qp, 2, 60, &bad));
	expect_flushes(_metadata, cq, qp, 2, 60);
	EXPECT_EQ(0, ibv_destroy_qp(qp));
	EXPECT_EQ(0, ibv_destroy_cq(cq));
}

TEST_F(qp, cq_resize_shrink_keeps_cqes)
{
	struct ibv_wc wc[2];
	struct ibv_qp *qp;
	struct ibv_cq *cq;

	cq = ibv_create_cq(self->ctx, 64, NULL, NULL, 0);
	ASSERT_NE(NULL, cq);
	qp = flush_into(_metadata, self, cq, 7, 100);
	ASSERT_NE(NULL, qp);
	/* Two polled, five left: they move, in order, to the new ring. */
	ASSERT_EQ(2, uet_poll_n(cq, 2, wc, WAIT_MS));
	EXPECT_EQ(100u, wc[0].wr_id);
	EXPECT_EQ(101u, wc[1].wr_id);
	usleep(100000);
	ASSERT_EQ(0, ibv_resize_cq(cq, 5));
	EXPECT_EQ(8, cq->cqe);
	expect_flushes(_metadata, cq, qp, 5, 102);
	EXPECT_EQ(0, ibv_destroy_qp(qp));
	EXPECT_EQ(0, ibv_destroy_cq(cq));
}

TEST_F(qp, cq_resize_invalid)
{
	struct ibv_qp *qp;
	struct ibv_cq *cq;

	cq = ibv_create_cq(self->ctx, 16, NULL, NULL, 0);
	ASSERT_NE(NULL, cq);
	qp = flush_into(_metadata, self, cq, 8, 300);
	ASSERT_NE(NULL, qp);
	usleep(100000);
	/* A ring smaller than what is waiting to be polled. */
	EXPECT_EQ(EINVAL, ibv_resize_cq(cq, 4));
	EXPECT_EQ(EINVAL, ibv_resize_cq(cq, 1));
	EXPECT_EQ(EINVAL, ibv_resize_cq(cq, self->attr.max_cqe + 1));
	EXPECT_EQ(EINVAL, ibv_resize_cq(cq, 0));
	EXPECT_EQ(16, cq->cqe);
	/*
	 * A ring exactly as large as what is waiting is enough: 5 entries
	 * asked make a ring of 8 (cqe is a minimum, as at creation).
	 */
	ASSERT_EQ(0, ibv_resize_cq(cq, 5));
	EXPECT_EQ(8, cq->cqe);
	/* Nothing was lost. */
	expect_flushes(_metadata, cq, qp, 8, 300);
	EXPECT_EQ(0, ibv_destroy_qp(qp));
	EXPECT_EQ(0, ibv_destroy_cq(cq));
}

TEST_F(qp, cq_overflow)
{
	struct ibv_qp_init_attr ia;
	uint64_t bad;
	struct ibv_qp *qp;
	struct ibv_cq *cq;
	struct ibv_wc wc[4];

	cq = ibv_create_cq(self->ctx, 1, NULL, NULL, 0);
	ASSERT_NE(NULL, cq);
	/* One entry asked, one slot made (a power of two). */
	EXPECT_EQ(1, cq->cqe);
	qp_init_attr(self, &ia, IBV_QPT_RC, NULL);
	ia.recv_cq = cq;
	ia.cap.max_recv_wr = 4;
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, to_init(qp));
	ASSERT_EQ(0, post_recvs(self, qp, 4, 1, &bad));
	ASSERT_EQ(0, to_state(qp, IBV_QPS_ERR));
	EXPECT_TRUE(uet_wait_async(self->ctx, IBV_EVENT_CQ_ERR, cq, WAIT_MS));
	/* Raised once, however many completions were dropped. */
	EXPECT_FALSE(uet_wait_async(self->ctx, IBV_EVENT_CQ_ERR, cq, QUIET_MS));
	/* The first completion made it, the rest were dropped. */
	EXPECT_EQ(1, uet_poll_n(cq, 4, wc, QUIET_MS));
	EXPECT_EQ(1u, wc[0].wr_id);
	EXPECT_EQ(IBV_WC_WR_FLUSH_ERR, wc[0].status);
	EXPECT_EQ(0, ibv_destroy_qp(qp));
	EXPECT_EQ(0, ibv_destroy_cq(cq));
}

static bool channel_ready(struct ibv_comp_channel *ch, int ms)
{
	struct pollfd pfd = { .fd = ch->fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

TEST_F(qp, completion_channel)
{
	struct ibv_comp_channel *ch;
	struct ibv_qp_init_attr ia;
	uint64_t bad;
	struct ibv_cq *cq, *ev_cq;
	void *ev_ctx;
	struct ibv_qp *qp;

	ch = ibv_create_comp_channel(self->ctx);
	ASSERT_NE(NULL, ch);
	cq = ibv_create_cq(self->ctx, 16, (void *)0x5eed, ch, 0);
	ASSERT_NE(NULL, cq);
	qp_init_attr(self, &ia, IBV_QPT_UD, NULL);
	ia.recv_cq = cq;
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, to_init(qp));
	ASSERT_EQ(0, to_state(qp, IBV_QPS_ERR));

	/* Not armed: the completion arrives, no event does. */
	ASSERT_EQ(0, post_recvs(self, qp, 1, 1, &bad));
	expect_flushes(_metadata, cq, qp, 1, 1);
	EXPECT_FALSE(channel_ready(ch, QUIET_MS));

	/* Armed: one event for the next completion. */
	ASSERT_EQ(0, ibv_req_notify_cq(cq, 0));
	ASSERT_EQ(0, post_recvs(self, qp, 1, 2, &bad));
	ASSERT_TRUE(channel_ready(ch, WAIT_MS));
	ASSERT_EQ(0, ibv_get_cq_event(ch, &ev_cq, &ev_ctx));
	EXPECT_EQ(cq, ev_cq);
	EXPECT_EQ((void *)0x5eed, ev_ctx);
	ibv_ack_cq_events(ev_cq, 1);
	expect_flushes(_metadata, cq, qp, 1, 2);

	/* The arm was used up. */
	ASSERT_EQ(0, post_recvs(self, qp, 1, 3, &bad));
	expect_flushes(_metadata, cq, qp, 1, 3);
	EXPECT_FALSE(channel_ready(ch, QUIET_MS));

	/* Armed with completions already waiting: the next one signals. */
	ASSERT_EQ(0, post_recvs(self, qp, 1, 4, &bad));
	usleep(100000);
	ASSERT_EQ(0, ibv_req_notify_cq(cq, 0));
	ASSERT_EQ(0, post_recvs(self, qp, 1, 5, &bad));
	ASSERT_TRUE(channel_ready(ch, WAIT_MS));
	ASSERT_EQ(0, ibv_get_cq_event(ch, &ev_cq, &ev_ctx));
	EXPECT_EQ(cq, ev_cq);
	ibv_ack_cq_events(ev_cq, 1);
	expect_flushes(_metadata, cq, qp, 2, 4);

	EXPECT_EQ(0, ibv_destroy_qp(qp));
	EXPECT_EQ(0, ibv_destroy_cq(cq));
	EXPECT_EQ(0, ibv_destroy_comp_channel(ch));
}

/* Shared receive queues */

/* errno of a create_srq expected to fail; 0 (SRQ destroyed) if it worked. */
static int srq_errno(struct ibv_pd *pd, uint32_t max_wr, uint32_t max_sge,
		     uint32_t limit)
{
	struct ibv_srq_init_attr sa = {
		.attr = { .max_wr = max_wr, .max_sge = max_sge,
			  .srq_limit = limit },
	};
	struct ibv_srq *srq;

	errno = 0;
	srq = ibv_create_srq(pd, &sa);
	if (!srq)
		return errno;
	ibv_destroy_srq(srq);
	return 0;
}

TEST_F(qp, srq_create_query)
{
	struct ibv_srq_init_attr sa = {
		.attr = { .max_wr = 100, .max_sge = 3, .srq_limit = 10 },
	};
	struct ibv_srq_attr a;
	struct ibv_srq *srq;

	srq = ibv_create_srq(self->pd, &sa);
	ASSERT_NE(NULL, srq) TH_LOG("ibv_create_srq: %s", strerror(errno));
	EXPECT_EQ(128u, sa.attr.max_wr);
	EXPECT_EQ(3u, sa.attr.max_sge);
	EXPECT_EQ(self->pd, srq->pd);
	memset(&a, 0xa5, sizeof(a));
	ASSERT_EQ(0, ibv_query_srq(srq, &a));
	EXPECT_EQ(128u, a.max_wr);
	EXPECT_EQ(3u, a.max_sge);
	EXPECT_EQ(10u, a.srq_limit);
	EXPECT_EQ(0, ibv_destroy_srq(srq));
}

TEST_F(qp, srq_boundaries)
{
	unsigned int max_wr = self->attr.max_srq_wr;
	unsigned int max_sge = self->attr.max_srq_sge;

	EXPECT_EQ(16384u, max_wr);
	EXPECT_EQ(16u, max_sge);
	EXPECT_EQ(0, srq_errno(self->pd, max_wr, 1, 0));
	EXPECT_EQ(EINVAL, srq_errno(self->pd, max_wr + 1, 1, 0));
	EXPECT_EQ(EINVAL, srq_errno(self->pd, 0, 1, 0));
	EXPECT_EQ(0, srq_errno(self->pd, 1, max_sge, 0));
	EXPECT_EQ(EINVAL, srq_errno(self->pd, 1, max_sge + 1, 0));
	EXPECT_EQ(0, srq_errno(self->pd, 16, 1, 16));
	EXPECT_EQ(EINVAL, srq_errno(self->pd, 16, 1, 17));
}

TEST_F(qp, srq_unsupported_types)
{
	struct ibv_srq_init_attr_ex sa = {
		.attr = { .max_wr = 16, .max_sge = 1 },
		.comp_mask = IBV_SRQ_INIT_ATTR_TYPE | IBV_SRQ_INIT_ATTR_PD |
			     IBV_SRQ_INIT_ATTR_CQ | IBV_SRQ_INIT_ATTR_TM,
		.srq_type = IBV_SRQT_TM,
		.pd = self->pd,
		.cq = self->cq,
		.tm_cap = { .max_num_tags = 4, .max_ops = 4 },
	};
	struct ibv_srq *srq;

	errno = 0;
	srq = ibv_create_srq_ex(self->ctx, &sa);
	EXPECT_EQ(NULL, srq);
	EXPECT_EQ(EOPNOTSUPP, errno) TH_LOG("TM SRQ: %s", strerror(errno));
	if (srq)
		ibv_destroy_srq(srq);
}

TEST_F(qp, srq_modify)
{
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 16, .max_sge = 1 } };
	struct ibv_srq_attr a;
	struct ibv_srq *srq;

	/* Resizing is not offered. */
	EXPECT_FALSE(self->attr.device_cap_flags & IBV_DEVICE_SRQ_RESIZE);
	srq = ibv_create_srq(self->pd, &sa);
	ASSERT_NE(NULL, srq) TH_LOG("ibv_create_srq: %s", strerror(errno));
	a.srq_limit = 5;
	EXPECT_EQ(0, ibv_modify_srq(srq, &a, IBV_SRQ_LIMIT));
	memset(&a, 0xa5, sizeof(a));
	ASSERT_EQ(0, ibv_query_srq(srq, &a));
	EXPECT_EQ(5u, a.srq_limit);
	EXPECT_EQ(16u, a.max_wr);

	a.srq_limit = 17;
	EXPECT_EQ(EINVAL, ibv_modify_srq(srq, &a, IBV_SRQ_LIMIT));
	a.max_wr = 32;
	EXPECT_EQ(EOPNOTSUPP, ibv_modify_srq(srq, &a, IBV_SRQ_MAX_WR));
	ASSERT_EQ(0, ibv_query_srq(srq, &a));
	EXPECT_EQ(5u, a.srq_limit);
	EXPECT_EQ(16u, a.max_wr);
	EXPECT_EQ(0, ibv_destroy_srq(srq));
}

TEST_F(qp, srq_ring_full)
{
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 4, .max_sge = 1 } };
	uint64_t bad = 0;
	struct ibv_srq *srq;

	srq = ibv_create_srq(self->pd, &sa);
	ASSERT_NE(NULL, srq) TH_LOG("ibv_create_srq: %s", strerror(errno));
	ASSERT_EQ(0, post_srq_recvs(self, srq, 4, 1, &bad));
	EXPECT_EQ(ENOMEM, post_srq_recvs(self, srq, 1, 5, &bad));
	EXPECT_EQ(5u, bad);
	EXPECT_EQ(0, ibv_destroy_srq(srq));
}

TEST_F(qp, srq_destroy_busy)
{
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 16, .max_sge = 1 } };
	struct ibv_qp_init_attr ia;
	struct ibv_srq *srq;
	struct ibv_qp *qp;

	srq = ibv_create_srq(self->pd, &sa);
	ASSERT_NE(NULL, srq) TH_LOG("ibv_create_srq: %s", strerror(errno));
	qp_init_attr(self, &ia, IBV_QPT_UD, srq);
	qp = create_qp(_metadata, self->pd, &ia);
	ASSERT_NE(NULL, qp);
	EXPECT_EQ(EBUSY, ibv_destroy_srq(srq));
	/* Still alive and usable. */
	EXPECT_EQ(0, ibv_query_srq(srq, &sa.attr));
	EXPECT_EQ(0, ibv_destroy_qp(qp));
	EXPECT_EQ(0, ibv_destroy_srq(srq));
}

TEST_F_TIMEOUT(qp, srq_limit, 600)
{
	int max = self->attr.max_srq, n, i;
	struct ibv_srq_init_attr sa;
	struct ibv_srq **srqs, *extra;
	double t0 = now();

	if (uet_skip_limits())
		SKIP(return, "UET_TEST_LIMITS=0");

	EXPECT_EQ(4096, max);
	srqs = calloc(max, sizeof(*srqs));
	ASSERT_NE(NULL, srqs);
	for (n = 0; n < max; n++) {
		sa = (struct ibv_srq_init_attr){ .attr = { .max_wr = 1,
							   .max_sge = 1 } };
		srqs[n] = ibv_create_srq(self->pd, &sa);
		if (!srqs[n])
			break;
	}
	EXPECT_EQ(max, n) TH_LOG("SRQ %d of %d: %s", n + 1, max,
				 strerror(errno));
	if (n == max) {
		sa = (struct ibv_srq_init_attr){ .attr = { .max_wr = 1,
							   .max_sge = 1 } };
		errno = 0;
		extra = ibv_create_srq(self->pd, &sa);
		EXPECT_EQ(NULL, extra);
		EXPECT_EQ(ENOMEM, errno) TH_LOG("one more: %s", strerror(errno));
		if (extra)
			ibv_destroy_srq(extra);
		EXPECT_EQ(0, ibv_destroy_srq(srqs[max / 2]));
		srqs[max / 2] = ibv_create_srq(self->pd, &sa);
		EXPECT_NE(NULL, srqs[max / 2]) TH_LOG("after a destroy: %s",
						      strerror(errno));
	}
	TH_LOG("%d SRQs created in %.1f s", n, now() - t0);
	for (i = 0; i < n; i++)
		if (srqs[i])
			EXPECT_EQ(0, ibv_destroy_srq(srqs[i]));
	free(srqs);
}

/* Shared receive queues with traffic */

/*
 * Two RC senders snd[i], each connected over loopback (both ends use
 * SRC4) to an RC receiver rcv[i].  Both receivers take their receives
 * from one SRQ and complete them into their own CQ, rcq[i]; the senders
 * complete into scq.  The buffer holds 32 send slots, 32 receive slots
 * and a WRITE target, T_SLOT bytes each.
 */
#define T_SLOT 4096
#define T_GUARD 64
/* The receive buffer of a WQE: its slot but the last T_GUARD bytes. */
#define T_RLEN (T_SLOT - T_GUARD)
#define T_SLOTS 32
#define T_SEND_OFF 0
#define T_RECV_OFF (T_SLOTS * T_SLOT)
#define T_WRITE_OFF (2 * T_SLOTS * T_SLOT)
#define T_BUF (T_WRITE_OFF + T_SLOT)
#define T_SRQ_WR 32
#define T_FILL 0xee
/* A message may take a while on an emulated machine. */
#define T_WAIT_MS 10000
/* A look for an event that must not come, after each message. */
#define T_PEEK_MS 20
#define T_SEND_ID(s, j) (0x5000u + ((s) << 8) + (j))
#define T_IMM(s, j) (0xa5000000u + ((s) << 8) + (j))

/* Message j is t_sizes[j % 10] bytes: empty, one packet, several. */
static const uint32_t t_sizes[] = {
	0, 1, 63, 1023, 1024, 1025, 2049, 3001, T_RLEN, 100,
};

static uint32_t t_len(int j)
{
	return t_sizes[j % ARRAY_SIZE(t_sizes)];
}

FIXTURE(srq_traffic) {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	uint8_t *buf;		/* T_BUF bytes, registered as mr */
	struct ibv_cq *scq;
	struct ibv_cq *rcq[2];
	struct ibv_srq *srq;
	struct ibv_qp *snd[2];
	struct ibv_qp *rcv[2];	/* on srq */
	union ibv_gid gid;	/* SRC4 */
	int sgid;
	enum ibv_mtu mtu;
	uint64_t seed;
};

/*
 * RESET->INIT->RTR->RTS of @qp towards QP @dqpn of the same device.  The
 * PSNs a QP sends from are 0x1000 + its QPN, on both ends.
 */
static int t_connect(FIXTURE_DATA(srq_traffic) *self, struct ibv_qp *qp,
		     uint32_t dqpn, int rnr_retry)
{
	struct ibv_qp_attr a;
	int err, mask;

	err = to_state(qp, IBV_QPS_RESET);
	if (err)
		return err;
	mask = init_attr(qp, &a);
	err = ibv_modify_qp(qp, &a, mask);
	if (err)
		return err;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = self->mtu;
	a.dest_qp_num = dqpn;
	a.rq_psn = 0x1000 + dqpn;
	a.max_dest_rd_atomic = 4;
	/* The initiator's own RNR delay (see uet.rst): the shortest. */
	a.min_rnr_timer = 1;
	a.ah_attr.is_global = 1;
	a.ah_attr.port_num = 1;
	a.ah_attr.grh.dgid = self->gid;
	a.ah_attr.grh.sgid_index = self->sgid;
	a.ah_attr.grh.hop_limit = 64;
	err = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV |
			    IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			    IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER);
	if (err)
		return err;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0x1000 + qp->qp_num;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = rnr_retry;
	a.max_rd_atomic = 4;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN |
			     IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			     IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC);
}

/* Connect sender @s and receiver @s to each other. */
static int t_connect_pair(FIXTURE_DATA(srq_traffic) *self, int s,
			  int rnr_retry)
{
	return t_connect(self, self->snd[s], self->rcv[s]->qp_num,
			 rnr_retry) ?:
	       t_connect(self, self->rcv[s], self->snd[s]->qp_num, rnr_retry);
}

FIXTURE_SETUP(srq_traffic)
{
	struct ibv_srq_init_attr sa = {
		.attr = { .max_wr = T_SRQ_WR, .max_sge = 1 },
	};
	struct ibv_qp_init_attr ia;
	struct ibv_port_attr pa;
	int i, fl;

	self->buf = MAP_FAILED;
	cleanup();
	ASSERT_EQ(0, system("ip link add " NETDEV " type veth peer name " PEER
			    " && ip link set " NETDEV " up && ip link set " PEER " up"
			    " && ip addr add " SRC4 "/24 dev " NETDEV
			    " && ip addr add " DST4 "/24 dev " PEER
			    " && rdma link add " DEV " type uet netdev " NETDEV));
	ASSERT_EQ(0, uet_fault_inject_begin());
	self->ctx = uet_open_dev(DEV);
	ASSERT_NE(NULL, self->ctx) TH_LOG("uet provider did not open " DEV);
	self->sgid = uet_wait_gid(self->ctx, SRC4);
	ASSERT_LE(0, self->sgid) TH_LOG(SRC4 " never appeared in the GID table");
	ASSERT_EQ(0, ibv_query_gid(self->ctx, 1, self->sgid, &self->gid));
	ASSERT_EQ(0, ibv_query_port(self->ctx, 1, &pa));
	self->mtu = pa.active_mtu;
	/* Async events are read without blocking (see t_events()). */
	fl = fcntl(self->ctx->async_fd, F_GETFL);
	ASSERT_LE(0, fl);
	ASSERT_EQ(0, fcntl(self->ctx->async_fd, F_SETFL, fl | O_NONBLOCK));

	self->buf = mmap(NULL, T_BUF, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, T_FILL, T_BUF);
	self->pd = ibv_alloc_pd(self->ctx);
	ASSERT_NE(NULL, self->pd) TH_LOG("ibv_alloc_pd: %s", strerror(errno));
	self->mr = ibv_reg_mr(self->pd, self->buf, T_BUF,
			      IBV_ACCESS_LOCAL_WRITE | RC_ACCESS);
	ASSERT_NE(NULL, self->mr) TH_LOG("ibv_reg_mr: %s", strerror(errno));
	self->scq = ibv_create_cq(self->ctx, CQ_SIZE, NULL, NULL, 0);
	ASSERT_NE(NULL, self->scq) TH_LOG("ibv_create_cq: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		self->rcq[i] = ibv_create_cq(self->ctx, CQ_SIZE, NULL, NULL, 0);
		ASSERT_NE(NULL, self->rcq[i])
			TH_LOG("ibv_create_cq: %s", strerror(errno));
	}
	self->srq = ibv_create_srq(self->pd, &sa);
	ASSERT_NE(NULL, self->srq) TH_LOG("ibv_create_srq: %s", strerror(errno));
	ASSERT_EQ(T_SRQ_WR, sa.attr.max_wr);

	for (i = 0; i < 2; i++) {
		memset(&ia, 0, sizeof(ia));
		ia.qp_type = IBV_QPT_RC;
		ia.send_cq = self->scq;
		ia.recv_cq = self->scq;
		ia.cap.max_send_wr = 16;
		ia.cap.max_send_sge = 1;
		ia.cap.max_recv_wr = 1;
		ia.cap.max_recv_sge = 1;
		self->snd[i] = ibv_create_qp(self->pd, &ia);
		ASSERT_NE(NULL, self->snd[i])
			TH_LOG("ibv_create_qp: %s", strerror(errno));
		ia.recv_cq = self->rcq[i];
		ia.srq = self->srq;
		ia.cap.max_recv_wr = 0;
		ia.cap.max_recv_sge = 0;
		self->rcv[i] = ibv_create_qp(self->pd, &ia);
		ASSERT_NE(NULL, self->rcv[i])
			TH_LOG("ibv_create_qp on the SRQ: %s", strerror(errno));
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, t_connect_pair(self, i, 7))
			TH_LOG("connecting pair %d", i);
	self->seed = uet_name_seed(_metadata->name);
}

FIXTURE_TEARDOWN(srq_traffic)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (self->snd[i])
			ibv_destroy_qp(self->snd[i]);
		if (self->rcv[i])
			ibv_destroy_qp(self->rcv[i]);
	}
	if (self->srq)
		ibv_destroy_srq(self->srq);
	if (self->scq)
		ibv_destroy_cq(self->scq);
	for (i = 0; i < 2; i++)
		if (self->rcq[i])
			ibv_destroy_cq(self->rcq[i]);
	if (self->mr)
		ibv_dereg_mr(self->mr);
	if (self->pd)
		ibv_dealloc_pd(self->pd);
	if (self->buf != MAP_FAILED)
		munmap(self->buf, T_BUF);
	if (self->ctx)
		ibv_close_device(self->ctx);
	cleanup();
}

static uint8_t *t_recv_slot(FIXTURE_DATA(srq_traffic) *self, uint64_t wr_id)
{
	return self->buf + T_RECV_OFF + (wr_id % T_SLOTS) * T_SLOT;
}

/* Where message @j of sender @s is sent from. */
static uint8_t *t_send_slot(FIXTURE_DATA(srq_traffic) *self, int s, int j)
{
	return self->buf + T_SEND_OFF + (s * 16 + j % 16) * T_SLOT;
}

static uint64_t t_msg_seed(FIXTURE_DATA(srq_traffic) *self, int s, int j)
{
	return self->seed + ((uint64_t)s << 32) + j;
}

/*
 * Post @n receives of T_RLEN bytes to the SRQ, wr_id @first + i, in one
 * list; each one's slot is filled with T_FILL first.
 */
static int t_post_srq(FIXTURE_DATA(srq_traffic) *self, int n, uint64_t first)
{
	struct ibv_recv_wr wr[T_SLOTS], *bad;
	struct ibv_sge sge[T_SLOTS];
	int i;

	if (n > T_SLOTS)
		return EINVAL;
	for (i = 0; i < n; i++) {
		uint8_t *slot = t_recv_slot(self, first + i);

		memset(slot, T_FILL, T_SLOT);
		sge[i].addr = (uintptr_t)slot;
		sge[i].length = T_RLEN;
		sge[i].lkey = self->mr->lkey;
		memset(&wr[i], 0, sizeof(wr[i]));
		wr[i].wr_id = first + i;
		wr[i].sg_list = &sge[i];
		wr[i].num_sge = 1;
		wr[i].next = i + 1 < n ? &wr[i + 1] : NULL;
	}
	return ibv_post_srq_recv(self->srq, wr, &bad);
}

/*
 * Post message @j of sender @s (t_len(@j) bytes of its pattern), a SEND
 * or, with @write_imm, an RDMA_WRITE_WITH_IMM to T_WRITE_OFF.
 */
static int t_post_msg(FIXTURE_DATA(srq_traffic) *self, int s, int j,
		      bool write_imm)
{
	uint8_t *src = t_send_slot(self, s, j);
	uint32_t len = t_len(j);
	struct ibv_sge sge = {
		.addr = (uintptr_t)src, .length = len, .lkey = self->mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = T_SEND_ID(s, j),
		.sg_list = &sge,
		.num_sge = len ? 1 : 0,
		.opcode = write_imm ? IBV_WR_RDMA_WRITE_WITH_IMM : IBV_WR_SEND,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	uet_pat_fill(src, len, t_msg_seed(self, s, j));
	if (write_imm) {
		memset(self->buf + T_WRITE_OFF, T_FILL, T_SLOT);
		wr.wr.rdma.remote_addr = (uintptr_t)self->buf + T_WRITE_OFF;
		wr.wr.rdma.rkey = self->mr->rkey;
		wr.imm_data = htonl(T_IMM(s, j));
	}
	return ibv_post_send(self->snd[s], &wr, &bad);
}

/*
 * The T_SLOT bytes at @got hold the first @len bytes of message @j of
 * sender @s and T_FILL after them.
 */
static bool t_check_bytes(struct __test_metadata *_metadata,
			  FIXTURE_DATA(srq_traffic) *self, const uint8_t *got,
			  int s, int j, uint32_t len, const char *what)
{
	uint8_t want[T_SLOT];
	size_t i;

	uet_pat_fill(want, len, t_msg_seed(self, s, j));
	memset(want + len, T_FILL, T_SLOT - len);
	if (!memcmp(got, want, T_SLOT))
		return true;
	for (i = 0; got[i] == want[i]; i++)
		;
	EXPECT_EQ(want[i], got[i])
		TH_LOG("%s: byte %zu (message of %u bytes) is %#x, want %#x",
		       what, i, len, got[i], want[i]);
	return false;
}

/* The send completion of message @j of sender @s, successful. */
static void t_expect_send(struct __test_metadata *_metadata,
			  FIXTURE_DATA(srq_traffic) *self, int s, int j,
			  bool write_imm)
{
	struct ibv_wc wc;

	memset(&wc, 0xa5, sizeof(wc));
	ASSERT_EQ(1, uet_poll_n(self->scq, 1, &wc, T_WAIT_MS))
		TH_LOG("message %d of sender %d: no send completion", j, s);
	EXPECT_EQ(T_SEND_ID(s, j), wc.wr_id)
		TH_LOG("message %d of sender %d: send wr_id %#llx", j, s,
		       (unsigned long long)wc.wr_id);
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status)
		TH_LOG("message %d of sender %d: %s", j, s,
		       ibv_wc_status_str(wc.status));
	EXPECT_EQ(write_imm ? IBV_WC_RDMA_WRITE : IBV_WC_SEND, wc.opcode);
	EXPECT_EQ(self->snd[s]->qp_num, wc.qp_num);
}

/*
 * Check receive completion @wc of message @j of sender @s, which must
 * have taken SRQ receive @wr_id on receiver @s: its fields and the
 * bytes in the receive buffer or, for a WRITE_WITH_IMM, at T_WRITE_OFF
 * (the receive buffer untouched then).
 */
static void t_check_recv(struct __test_metadata *_metadata,
			 FIXTURE_DATA(srq_traffic) *self,
			 const struct ibv_wc *wc, int s, int j,
			 uint64_t wr_id, bool write_imm)
{
	uint32_t len = t_len(j);
	char what[64];

	snprintf(what, sizeof(what), "message %d of sender %d", j, s);
	EXPECT_EQ(wr_id, wc->wr_id)
		TH_LOG("%s took receive %llu, want %llu", what,
		       (unsigned long long)wc->wr_id,
		       (unsigned long long)wr_id);
	EXPECT_EQ(IBV_WC_SUCCESS, wc->status)
		TH_LOG("%s: %s", what, ibv_wc_status_str(wc->status));
	EXPECT_EQ(write_imm ? IBV_WC_RECV_RDMA_WITH_IMM : IBV_WC_RECV,
		  wc->opcode) TH_LOG("%s: opcode %d", what, wc->opcode);
	EXPECT_EQ(len, wc->byte_len) TH_LOG("%s: byte_len", what);
	EXPECT_EQ(self->rcv[s]->qp_num, wc->qp_num)
		TH_LOG("%s: qp_num %#x", what, wc->qp_num);
	if (wc->wr_id != wr_id)
		return;
	if (write_imm) {
		EXPECT_TRUE(wc->wc_flags & IBV_WC_WITH_IMM) TH_LOG("%s", what);
		EXPECT_EQ(htonl(T_IMM(s, j)), wc->imm_data) TH_LOG("%s", what);
		t_check_bytes(_metadata, self, self->buf + T_WRITE_OFF, s, j,
			      len, what);
		t_check_bytes(_metadata, self, t_recv_slot(self, wr_id), s, j,
			      0, "receive buffer of a WRITE_WITH_IMM");
	} else {
		EXPECT_FALSE(wc->wc_flags & IBV_WC_WITH_IMM) TH_LOG("%s", what);
		t_check_bytes(_metadata, self, t_recv_slot(self, wr_id), s, j,
			      len, what);
	}
}

/*
 * Message @j of sender @s, alone on the wire: it completes at both ends,
 * takes SRQ receive @wr_id on receiver @s and nothing else completes.
 */
static void t_xfer(struct __test_metadata *_metadata,
		   FIXTURE_DATA(srq_traffic) *self, int s, int j,
		   uint64_t wr_id, bool write_imm)
{
	struct ibv_wc wc;

	ASSERT_EQ(0, t_post_msg(self, s, j, write_imm));
	t_expect_send(_metadata, self, s, j, write_imm);
	memset(&wc, 0xa5, sizeof(wc));
	ASSERT_EQ(1, uet_poll_n(self->rcq[s], 1, &wc, T_WAIT_MS))
		TH_LOG("message %d of sender %d: no receive completion", j, s);
	t_check_recv(_metadata, self, &wc, s, j, wr_id, write_imm);
	EXPECT_EQ(0, ibv_poll_cq(self->rcq[!s], 1, &wc))
		TH_LOG("message %d of sender %d: a completion for receiver %d",
		       j, s, !s);
	EXPECT_EQ(0, ibv_poll_cq(self->scq, 1, &wc))
		TH_LOG("message %d of sender %d: a send completion too many",
		       j, s);
}

static bool t_port_event(enum ibv_event_type type)
{
	switch (type) {
	case IBV_EVENT_PORT_ACTIVE:
	case IBV_EVENT_PORT_ERR:
	case IBV_EVENT_LID_CHANGE:
	case IBV_EVENT_PKEY_CHANGE:
	case IBV_EVENT_SM_CHANGE:
	case IBV_EVENT_CLIENT_REREGISTER:
	case IBV_EVENT_GID_CHANGE:
		return true;
	default:
		return false;
	}
}

/*
 * Read the async events that come within @ms milliseconds (only those
 * already queued if @ms is 0), acknowledging each; with @want, stop as
 * soon as @want events of @type about @obj (an SRQ for the SRQ events,
 * a QP otherwise) were read.  Returns how many of those were read.  Any
 * other event, but a port's, fails the test.
 */
static int t_events(struct __test_metadata *_metadata,
		    FIXTURE_DATA(srq_traffic) *self, enum ibv_event_type type,
		    const void *obj, int ms, int want)
{
	struct pollfd pfd = { .fd = self->ctx->async_fd, .events = POLLIN };
	long long end = uet_now_ms() + ms, left;
	struct ibv_async_event ev;
	const void *about;
	int n = 0;

	for (;;) {
		errno = 0;
		while (!ibv_get_async_event(self->ctx, &ev)) {
			about = ev.event_type == IBV_EVENT_SRQ_LIMIT_REACHED ||
				ev.event_type == IBV_EVENT_SRQ_ERR ?
				(const void *)ev.element.srq :
				(const void *)ev.element.qp;
			if (ev.event_type == type && about == obj)
				n++;
			else
				EXPECT_TRUE(t_port_event(ev.event_type))
					TH_LOG("unexpected async event %s (%d) about %p",
					       ibv_event_type_str(ev.event_type),
					       ev.event_type, about);
			ibv_ack_async_event(&ev);
			errno = 0;
		}
		EXPECT_EQ(EAGAIN, errno)
			TH_LOG("ibv_get_async_event: %s", strerror(errno));
		left = end - uet_now_ms();
		if ((want && n >= want) || left <= 0 || errno != EAGAIN)
			return n;
		poll(&pfd, 1, left);
	}
}

static int t_srq_limit(FIXTURE_DATA(srq_traffic) *self)
{
	struct ibv_srq_attr a;

	memset(&a, 0xa5, sizeof(a));
	if (ibv_query_srq(self->srq, &a))
		return -1;
	return a.srq_limit;
}

static int t_arm(FIXTURE_DATA(srq_traffic) *self, uint32_t limit)
{
	struct ibv_srq_attr a = { .srq_limit = limit };

	return ibv_modify_srq(self->srq, &a, IBV_SRQ_LIMIT);
}

/* Messages consumed one at a time, so that "left" is exact at each step. */
TEST_F_TIMEOUT(srq_traffic, srq_limit_event, 120)
{
	int i, n;

	ASSERT_EQ(0, t_post_srq(self, 16, 0));
	ASSERT_EQ(0, t_arm(self, 4));
	EXPECT_EQ(4, t_srq_limit(self));

	/* 15 down to 4 left: not below the limit. */
	for (i = 0; i < 12; i++) {
		t_xfer(_metadata, self, 0, i, i, false);
		n = t_events(_metadata, self, IBV_EVENT_SRQ_LIMIT_REACHED,
			     self->srq, i == 11 ? QUIET_MS : T_PEEK_MS, 0);
		EXPECT_EQ(0, n) TH_LOG("event with %d receives left", 15 - i);
	}
	EXPECT_EQ(4, t_srq_limit(self)) TH_LOG("disarmed without an event");

	/* 3 left: one event, and the limit is disarmed. */
	t_xfer(_metadata, self, 0, 12, 12, false);
	EXPECT_EQ(1, t_events(_metadata, self, IBV_EVENT_SRQ_LIMIT_REACHED,
			      self->srq, WAIT_MS, 1))
		TH_LOG("no SRQ_LIMIT_REACHED with 3 receives left, limit 4");
	EXPECT_EQ(0, t_events(_metadata, self, IBV_EVENT_SRQ_LIMIT_REACHED,
			      self->srq, QUIET_MS, 0))
		TH_LOG("SRQ_LIMIT_REACHED twice");
	EXPECT_EQ(0, t_srq_limit(self));

	/* Disarmed: 2 and 1 left, no event. */
	for (i = 13; i < 15; i++) {
		t_xfer(_metadata, self, 0, i, i, false);
		n = t_events(_metadata, self, IBV_EVENT_SRQ_LIMIT_REACHED,
			     self->srq, i == 14 ? QUIET_MS : T_PEEK_MS, 0);
		EXPECT_EQ(0, n) TH_LOG("disarmed, event with %d left", 15 - i);
	}
	EXPECT_EQ(0, t_srq_limit(self));

	/*
	 * Refilled to 9 and armed again: nothing down to 4 left, one event
	 * at 3, this time from a WRITE_WITH_IMM, which takes a receive too.
	 * The ring still hands out receives in posting order: 15, then the
	 * new ones 16..23.
	 */
	ASSERT_EQ(0, t_post_srq(self, 8, 16));
	ASSERT_EQ(0, t_arm(self, 4));
	EXPECT_EQ(4, t_srq_limit(self));
	for (i = 15; i < 20; i++) {
		t_xfer(_metadata, self, 1, i, i, false);
		n = t_events(_metadata, self, IBV_EVENT_SRQ_LIMIT_REACHED,
			     self->srq, i == 19 ? QUIET_MS : T_PEEK_MS, 0);
		EXPECT_EQ(0, n) TH_LOG("re-armed, event with %d left", 23 - i);
	}
	t_xfer(_metadata, self, 1, 20, 20, true);
	EXPECT_EQ(1, t_events(_metadata, self, IBV_EVENT_SRQ_LIMIT_REACHED,
			      self->srq, WAIT_MS, 1))
		TH_LOG("re-armed: no SRQ_LIMIT_REACHED with 3 left");
	EXPECT_EQ(0, t_events(_metadata, self, IBV_EVENT_SRQ_LIMIT_REACHED,
			      self->srq, QUIET_MS, 0))
		TH_LOG("re-armed: SRQ_LIMIT_REACHED twice");
	EXPECT_EQ(0, t_srq_limit(self));

	/* Down to empty, still disarmed. */
	for (i = 21; i < 24; i++) {
		t_xfer(_metadata, self, i % 2, i, i, false);
		n = t_events(_metadata, self, IBV_EVENT_SRQ_LIMIT_REACHED,
			     self->srq, i == 23 ? QUIET_MS : T_PEEK_MS, 0);
		EXPECT_EQ(0, n) TH_LOG("disarmed, event with %d left", 23 - i);
	}
	EXPECT_EQ(0, t_srq_limit(self));
}

/*
 * Whichever receiver a message is for takes the SRQ's oldest receive:
 * first one message at a time in a fixed interleaving, then both senders
 * at once, when the order of the receives each receiver took must still
 * be that of its sender's messages.
 */
TEST_F_TIMEOUT(srq_traffic, srq_shared_by_two_qps, 120)
{
	static const int order[] = { 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0 };
	const int seq = ARRAY_SIZE(order), burst = 6, base = 100;
	int count[2] = { 0, 0 }, sent[2], i, s, j;
	bool taken[T_SLOTS] = {};
	uint64_t last_id[2];
	struct ibv_wc wc;

	/* 24 receives, in three posts: posting order across posts. */
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, t_post_srq(self, 8, base + 8 * i));

	for (i = 0; i < seq; i++) {
		s = order[i];
		t_xfer(_metadata, self, s, count[s], base + i, false);
		count[s]++;
	}

	/* Both senders at once, burst messages each. */
	for (j = 0; j < burst; j++)
		for (s = 0; s < 2; s++)
			ASSERT_EQ(0, t_post_msg(self, s, count[s] + j, false));
	sent[0] = sent[1] = 0;
	for (i = 0; i < 2 * burst; i++) {
		memset(&wc, 0xa5, sizeof(wc));
		ASSERT_EQ(1, uet_poll_n(self->scq, 1, &wc, T_WAIT_MS))
			TH_LOG("send completion %d of %d", i + 1, 2 * burst);
		EXPECT_EQ(IBV_WC_SUCCESS, wc.status)
			TH_LOG("send %#llx: %s", (unsigned long long)wc.wr_id,
			       ibv_wc_status_str(wc.status));
		EXPECT_EQ(IBV_WC_SEND, wc.opcode);
		s = wc.qp_num == self->snd[1]->qp_num;
		EXPECT_EQ(self->snd[s]->qp_num, wc.qp_num);
		/* In posting order per sender. */
		EXPECT_EQ(T_SEND_ID(s, count[s] + sent[s]), wc.wr_id)
			TH_LOG("sender %d: send %#llx", s,
			       (unsigned long long)wc.wr_id);
		sent[s]++;
	}
	for (s = 0; s < 2; s++) {
		last_id[s] = base + seq - 1;
		for (j = 0; j < burst; j++) {
			memset(&wc, 0xa5, sizeof(wc));
			ASSERT_EQ(1, uet_poll_n(self->rcq[s], 1, &wc,
						T_WAIT_MS))
				TH_LOG("receiver %d: receive %d of %d", s,
				       j + 1, burst);
			/* A later receive than the previous one of that QP. */
			EXPECT_LT(last_id[s], wc.wr_id)
				TH_LOG("receiver %d took %llu after %llu", s,
				       (unsigned long long)wc.wr_id,
				       (unsigned long long)last_id[s]);
			ASSERT_LE(base + seq, wc.wr_id);
			ASSERT_GT(base + seq + 2 * burst, wc.wr_id);
			EXPECT_FALSE(taken[wc.wr_id % T_SLOTS])
				TH_LOG("receive %llu taken twice",
				       (unsigned long long)wc.wr_id);
			taken[wc.wr_id % T_SLOTS] = true;
			last_id[s] = wc.wr_id;
			/* The j-th receive of QP s holds its j-th message. */
			t_check_recv(_metadata, self, &wc, s, count[s] + j,
				     wc.wr_id, false);
		}
	}
	EXPECT_EQ(0, ibv_poll_cq(self->rcq[0], 1, &wc));
	EXPECT_EQ(0, ibv_poll_cq(self->rcq[1], 1, &wc));
	EXPECT_EQ(0, ibv_poll_cq(self->scq, 1, &wc));
}

/*
 * A SEND that finds the SRQ empty is receiver-not-ready: with rnr_retry
 * 0 it fails, with 7 it waits for a receive posted 100 ms later.
 */
TEST_F_TIMEOUT(srq_traffic, srq_rnr, 120)
{
	struct ibv_wc wc;

	ASSERT_EQ(0, t_connect_pair(self, 1, 0));
	ASSERT_EQ(0, t_post_msg(self, 1, 0, false));
	memset(&wc, 0xa5, sizeof(wc));
	ASSERT_EQ(1, uet_poll_n(self->scq, 1, &wc, T_WAIT_MS))
		TH_LOG("rnr_retry 0: no send completion");
	EXPECT_EQ(T_SEND_ID(1, 0), wc.wr_id);
	EXPECT_EQ(IBV_WC_RNR_RETRY_EXC_ERR, wc.status)
		TH_LOG("rnr_retry 0: %s", ibv_wc_status_str(wc.status));
	EXPECT_EQ(self->snd[1]->qp_num, wc.qp_num);
	EXPECT_EQ(IBV_QPS_ERR, qp_state(self->snd[1]));
	EXPECT_EQ(0, ibv_poll_cq(self->rcq[1], 1, &wc));

	/* rnr_retry 7: message 7, 3001 bytes, several packets. */
	ASSERT_EQ(0, t_post_msg(self, 0, 7, false));
	usleep(100000);
	EXPECT_EQ(0, ibv_poll_cq(self->scq, 1, &wc))
		TH_LOG("completed before there was a receive: %s",
		       ibv_wc_status_str(wc.status));
	EXPECT_EQ(0, ibv_poll_cq(self->rcq[0], 1, &wc));
	ASSERT_EQ(0, t_post_srq(self, 1, 0x77));
	t_expect_send(_metadata, self, 0, 7, false);
	memset(&wc, 0xa5, sizeof(wc));
	ASSERT_EQ(1, uet_poll_n(self->rcq[0], 1, &wc, T_WAIT_MS))
		TH_LOG("no receive completion");
	t_check_recv(_metadata, self, &wc, 0, 7, 0x77, false);
	EXPECT_EQ(0, ibv_poll_cq(self->rcq[0], 1, &wc));
	EXPECT_EQ(0, ibv_poll_cq(self->rcq[1], 1, &wc));
	EXPECT_EQ(IBV_QPS_RTS, qp_state(self->snd[0]));
	EXPECT_EQ(IBV_QPS_RTS, qp_state(self->rcv[0]));
}

/*
 * A receiver of the SRQ that goes to the error state after taking some
 * receives: LAST_WQE_REACHED about it, once; the SRQ's receives are not
 * flushed into its CQ, its peer's next SEND is not taken (sent again
 * after every timeout and then failed with IBV_WC_RETRY_EXC_ERR, as IB
 * does for a request nobody answers, see uet.rst) and takes none of
 * them, and the other receiver goes on with them in order.
 */
TEST_F_TIMEOUT(srq_traffic, qp_on_srq_error_last_wqe, 120)
{
	struct ibv_wc wc;
	int i;

	ASSERT_EQ(0, t_post_srq(self, 6, 0));
	t_xfer(_metadata, self, 0, 0, 0, false);
	t_xfer(_metadata, self, 0, 1, 1, false);
	ASSERT_EQ(0, to_state(self->rcv[0], IBV_QPS_ERR));
	EXPECT_EQ(IBV_QPS_ERR, qp_state(self->rcv[0]));
	EXPECT_EQ(1, t_events(_metadata, self, IBV_EVENT_QP_LAST_WQE_REACHED,
			      self->rcv[0], WAIT_MS, 1))
		TH_LOG("no LAST_WQE_REACHED");
	EXPECT_EQ(0, ibv_poll_cq(self->rcq[0], 1, &wc))
		TH_LOG("completion %llu status %s for the failed QP",
		       (unsigned long long)wc.wr_id,
		       ibv_wc_status_str(wc.status));

	ASSERT_EQ(0, t_post_msg(self, 0, 2, false));
	memset(&wc, 0xa5, sizeof(wc));
	ASSERT_EQ(1, uet_poll_n(self->scq, 1, &wc, T_WAIT_MS))
		TH_LOG("no send completion for the QP in error");
	EXPECT_EQ(T_SEND_ID(0, 2), wc.wr_id);
	EXPECT_EQ(IBV_WC_RETRY_EXC_ERR, wc.status)
		TH_LOG("SEND to a QP in error: %s",
		       ibv_wc_status_str(wc.status));
	EXPECT_EQ(0, uet_poll_n(self->rcq[0], 1, &wc, QUIET_MS))
		TH_LOG("completion %llu status %s for the failed QP",
		       (unsigned long long)wc.wr_id,
		       ibv_wc_status_str(wc.status));

	for (i = 2; i < 6; i++)
		t_xfer(_metadata, self, 1, i, i, false);
	EXPECT_EQ(0, t_events(_metadata, self, IBV_EVENT_QP_LAST_WQE_REACHED,
			      self->rcv[0], QUIET_MS, 0))
		TH_LOG("LAST_WQE_REACHED twice");
}

TEST_HARNESS_MAIN
