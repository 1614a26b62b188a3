// SPDX-License-Identifier: GPL-2.0
/*
 * Reliable-unconnected (RU) QPs through uetdv: created in RTS on a job
 * key, one QP reaching several peers with the destination chosen per
 * work request (address handle with the remote QPN, or the job's address
 * table), SEND, WRITE (with immediate) and READ moving real data byte for
 * byte across packet sizes, with RUD (the default) and ROD, receiver-not-
 * ready retries, and job isolation: a message from another job, or from
 * an RC QP of the default job, is never delivered, is answered with
 * BAD_JOB_ID and moves rx_drop_bad_job by its packets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <infiniband/uetdv.h>

#include "../kselftest_harness.h"
#include "uet_verbs_util.h"

#define DEV "uett23"
#define NETDEV "uetu0"
#define PEER "uetu1"
#define ADDR "10.98.0.1"
#define JOB_A 0x5a5a5
#define JOB_B 0x5b5b5
#define BUF (4u << 20)
#define NQP 4		/* a, b, d of job A; c of job B */
#define MTU 4096

static const uint32_t sizes[] = { 0, 1, 4095, 4096, 4097, 65536 + 13,
				  1u << 20 };

struct ep {
	struct ibv_qp *qp;
	struct ibv_qp_ex *qpx;
	struct uetdv_qp_ex *dv;
	struct ibv_cq_ex *cq;
	struct ibv_mr *mr;
	uint8_t *buf;
	struct ibv_ah *ah;	/* to this endpoint */
};

static void run(const char *cmd)
{
	if (system(cmd))
		fprintf(stderr, "# command failed: %s\n", cmd);
}

static void cleanup(void)
{
	run("rdma link del " DEV " 2>/dev/null; ip link del " NETDEV
	    " 2>/dev/null; true");
}

FIXTURE(ru) {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct uetdv_job *job_a, *job_b;
	struct uetdv_job_key *jkey_a, *jkey_b;
	int sgid;
	struct ep ep[NQP];
	uint64_t seed;
};

FIXTURE_VARIANT(ru) {
	bool ordered;
};

FIXTURE_VARIANT_ADD(ru, rud) {
	.ordered = false,
};

FIXTURE_VARIANT_ADD(ru, rod) {
	.ordered = true,
};

static struct uetdv_job *alloc_job(struct ibv_context *ctx, uint32_t id)
{
	struct uetdv_job_attr attr = {
		.comp_mask = UETDV_JOB_ATTR_MAX_ADDR_ENTRIES,
		.id = id,
		.max_addr_entries = 8,
	};

	return uetdv_alloc_job(ctx, &attr, NULL);
}

static struct ibv_qp *create_ru(struct ibv_context *ctx, struct ibv_pd *pd,
				struct ibv_cq *cq, struct uetdv_job_key *jkey,
				bool ordered)
{
	struct ibv_qp_init_attr_ex attr = {
		.qp_type = IBV_QPT_DRIVER,
		.send_cq = cq,
		.recv_cq = cq,
		.cap = { .max_send_wr = 64, .max_recv_wr = 64,
			 .max_send_sge = 2, .max_recv_sge = 2,
			 .max_inline_data = 64 },
		.comp_mask = IBV_QP_INIT_ATTR_PD |
			     IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.pd = pd,
		.send_ops_flags = IBV_QP_EX_WITH_SEND |
				  IBV_QP_EX_WITH_SEND_WITH_IMM |
				  IBV_QP_EX_WITH_RDMA_WRITE |
				  IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM |
				  IBV_QP_EX_WITH_RDMA_READ,
	};
	struct uetdv_qp_init_attr uattr = {
		.comp_mask = UETDV_QP_INIT_ATTR_FLAGS,
		.job_key = jkey,
		.flags = ordered ? UETDV_QP_ORDERED : 0,
	};

	return uetdv_create_qp(ctx, &attr, &uattr);
}

static struct ibv_ah *ah_to(struct ibv_pd *pd, int sgid, uint32_t qpn)
{
	struct uetdv_ah_attr_ex a = {
		.ah_attr = {
			.is_global = 1,
			.port_num = 1,
			.grh = { .sgid_index = sgid, .hop_limit = 64 },
		},
		.remote_qpn = qpn,
	};

	uet_parse_gid(ADDR, &a.ah_attr.grh.dgid);
	return uetdv_create_ah_ex(pd, &a);
}

FIXTURE_SETUP(ru)
{
	struct ibv_cq_init_attr_ex cq_attr = {
		.cqe = 256,
		.wc_flags = IBV_WC_EX_WITH_BYTE_LEN | IBV_WC_EX_WITH_SRC_QP |
			    IBV_WC_EX_WITH_QP_NUM | IBV_WC_EX_WITH_IMM,
	};
	int i;

	cleanup();
	ASSERT_EQ(0, system("ip link add " NETDEV " type veth peer name " PEER
			    " && ip link set " NETDEV " mtu 9000"
			    " && ip link set " PEER " mtu 9000"
			    " && ip link set " NETDEV " up && ip link set " PEER
			    " up && ip addr add " ADDR "/24 dev " NETDEV
			    " && rdma link add " DEV " type uet netdev "
			    NETDEV));
	self->ctx = uet_open_dev(DEV);
	ASSERT_NE(NULL, self->ctx);
	self->sgid = uet_wait_gid(self->ctx, ADDR);
	ASSERT_LE(0, self->sgid);
	self->pd = ibv_alloc_pd(self->ctx);
	ASSERT_NE(NULL, self->pd);
	self->job_a = alloc_job(self->ctx, JOB_A);
	ASSERT_NE(NULL, self->job_a) TH_LOG("alloc_job: %s", strerror(errno));
	self->job_b = alloc_job(self->ctx, JOB_B);
	ASSERT_NE(NULL, self->job_b);
	self->jkey_a = uetdv_create_jkey(self->pd, self->job_a, 0);
	ASSERT_NE(NULL, self->jkey_a);
	self->jkey_b = uetdv_create_jkey(self->pd, self->job_b, 0);
	ASSERT_NE(NULL, self->jkey_b);

	for (i = 0; i < NQP; i++) {
		struct ep *e = &self->ep[i];

		e->cq = ibv_create_cq_ex(self->ctx, &cq_attr);
		ASSERT_NE(NULL, e->cq);
		e->qp = create_ru(self->ctx, self->pd, ibv_cq_ex_to_cq(e->cq),
				  i == 2 ? self->jkey_b : self->jkey_a,
				  variant->ordered);
		ASSERT_NE(NULL, e->qp) TH_LOG("create_qp: %s", strerror(errno));
		e->qpx = ibv_qp_to_qp_ex(e->qp);
		ASSERT_NE(NULL, e->qpx);
		e->dv = uetdv_qp_ex_from_ibv_qp_ex(e->qpx);
		ASSERT_NE(NULL, e->dv);
		e->buf = mmap(NULL, BUF, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, e->buf);
		e->mr = ibv_reg_mr(self->pd, e->buf, BUF,
				   IBV_ACCESS_LOCAL_WRITE |
				   IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ);
		ASSERT_NE(NULL, e->mr);
		e->ah = ah_to(self->pd, self->sgid, e->qp->qp_num);
		ASSERT_NE(NULL, e->ah) TH_LOG("create_ah_ex: %s",
					      strerror(errno));
	}
	self->seed = uet_name_seed(_metadata->name);
}

FIXTURE_TEARDOWN(ru)
{
	int i;

	for (i = 0; i < NQP; i++) {
		struct ep *e = &self->ep[i];

		if (e->ah)
			ibv_destroy_ah(e->ah);
		if (e->qp)
			ibv_destroy_qp(e->qp);
		if (e->mr)
			ibv_dereg_mr(e->mr);
		if (e->buf && e->buf != MAP_FAILED)
			munmap(e->buf, BUF);
		if (e->cq)
			ibv_destroy_cq(ibv_cq_ex_to_cq(e->cq));
	}
	if (self->jkey_a)
		uetdv_destroy_jkey(self->jkey_a);
	if (self->jkey_b)
		uetdv_destroy_jkey(self->jkey_b);
	if (self->job_a)
		uetdv_dealloc_job(self->job_a);
	if (self->job_b)
		uetdv_dealloc_job(self->job_b);
	if (self->pd)
		ibv_dealloc_pd(self->pd);
	if (self->ctx)
		ibv_close_device(self->ctx);
	cleanup();
}

struct wc {
	uint64_t wr_id;
	enum ibv_wc_status status;
	enum ibv_wc_opcode opcode;
	uint32_t byte_len, qp_num, src_qp, job_id, src_id, flags;
	__be32 imm;
};

/* One completion of @cq within @ms, with the uetdv fields; false if none. */
static bool poll_one(struct ibv_cq_ex *cq, struct wc *wc, int ms)
{
	struct ibv_poll_cq_attr attr = {};
	long long end = uet_now_ms() + ms;

	while (ibv_start_poll(cq, &attr)) {
		if (uet_now_ms() > end)
			return false;
		usleep(200);
	}
	wc->wr_id = cq->wr_id;
	wc->status = cq->status;
	wc->opcode = ibv_wc_read_opcode(cq);
	wc->byte_len = ibv_wc_read_byte_len(cq);
	wc->qp_num = ibv_wc_read_qp_num(cq);
	wc->src_qp = ibv_wc_read_src_qp(cq);
	wc->flags = ibv_wc_read_wc_flags(cq);
	wc->imm = ibv_wc_read_imm_data(cq);
	wc->job_id = uetdv_wc_read_job_id(cq);
	wc->src_id = uetdv_wc_read_src_id(cq);
	ibv_end_poll(cq);
	return true;
}

/*
 * Counter @name of the device once it reached @want, or its value after
 * 2 s: the core caches hw_counters for a few milliseconds.
 */
static unsigned long long counter_at(const char *name, unsigned long long want)
{
	unsigned long long v = 0;
	int i;

	for (i = 0; i < 40; i++) {
		v = uet_hw_counter(DEV, name);
		if (v >= want)
			break;
		usleep(50000);
	}
	return v;
}

static int post_recv(struct ep *e, uint64_t wr_id, uint32_t off, uint32_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)e->buf + off,
		.length = len,
		.lkey = e->mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge,
				  .num_sge = 1 };
	struct ibv_recv_wr *bad;

	return ibv_post_recv(e->qp, &wr, &bad);
}

/*
 * Post one WR on @from to @to (by AH, or by address table index when
 * @idx >= 0): @len bytes at @from's offset 0 to @to's offset BUF / 2.
 */
static int post(struct ep *from, struct ep *to, enum ibv_wr_opcode op,
		uint64_t wr_id, uint32_t len, int idx, uint32_t jkey)
{
	struct ibv_qp_ex *x = from->qpx;
	uint64_t raddr = (uintptr_t)to->buf + BUF / 2;

	ibv_wr_start(x);
	x->wr_id = wr_id;
	x->wr_flags = IBV_SEND_SIGNALED;
	switch (op) {
	case IBV_WR_SEND:
		ibv_wr_send(x);
		break;
	case IBV_WR_SEND_WITH_IMM:
		ibv_wr_send_imm(x, htobe32(0x1234abcd));
		break;
	case IBV_WR_RDMA_WRITE:
		ibv_wr_rdma_write(x, to->mr->rkey, raddr);
		break;
	case IBV_WR_RDMA_WRITE_WITH_IMM:
		ibv_wr_rdma_write_imm(x, to->mr->rkey, raddr,
				      htobe32(0x55aa1234));
		break;
	default:
		ibv_wr_rdma_read(x, to->mr->rkey, raddr);
		break;
	}
	uetdv_wr_set_ru_addr(from->dv, idx >= 0 ? NULL : to->ah,
			     idx >= 0 ? idx : 0);
	if (jkey)
		uetdv_wr_set_job_key(from->dv, jkey);
	ibv_wr_set_sge(x, from->mr->lkey, (uintptr_t)from->buf, len);
	return ibv_wr_complete(x);
}

/* One message of @op and @len from @a to @b, every byte and field checked. */
static void xfer(struct __test_metadata *_metadata, FIXTURE_DATA(ru) *self,
		 struct ep *a, struct ep *b, enum ibv_wr_opcode op,
		 uint32_t len, int idx)
{
	bool recv = op == IBV_WR_SEND || op == IBV_WR_SEND_WITH_IMM ||
		    op == IBV_WR_RDMA_WRITE_WITH_IMM;
	bool read = op == IBV_WR_RDMA_READ;
	uint8_t *src = read ? b->buf + BUF / 2 : a->buf;
	uint8_t *dst = read ? a->buf : b->buf + BUF / 2;
	uint64_t seed = self->seed++;
	struct wc wc;

	uet_pat_fill(src, len + 64, seed);
	memset(dst, 0xee, len + 64);
	if (recv)
		ASSERT_EQ(0, post_recv(b, 77, BUF / 2, BUF / 2));
	ASSERT_EQ(0, post(a, b, op, 99, len, idx, 0));

	ASSERT_TRUE(poll_one(a->cq, &wc, 20000)) TH_LOG("no send completion");
	EXPECT_EQ(99, wc.wr_id);
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status)
		TH_LOG("op %d len %u: %s", op, len,
		       ibv_wc_status_str(wc.status));
	if (recv) {
		ASSERT_TRUE(poll_one(b->cq, &wc, 20000));
		EXPECT_EQ(77, wc.wr_id);
		ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
		EXPECT_EQ(len, wc.byte_len);
		EXPECT_EQ(b->qp->qp_num, wc.qp_num);
		EXPECT_EQ(a->qp->qp_num, wc.src_qp);
		EXPECT_EQ(a->qp->qp_num, wc.src_id);
		EXPECT_EQ(JOB_A, wc.job_id);
		EXPECT_EQ(op == IBV_WR_SEND ? IBV_WC_RECV :
			  op == IBV_WR_SEND_WITH_IMM ? IBV_WC_RECV :
			  IBV_WC_RECV_RDMA_WITH_IMM, wc.opcode);
		if (op != IBV_WR_SEND) {
			EXPECT_TRUE(wc.flags & IBV_WC_WITH_IMM);
			EXPECT_EQ(op == IBV_WR_SEND_WITH_IMM ?
				  htobe32(0x1234abcd) : htobe32(0x55aa1234),
				  wc.imm);
		}
	}
	EXPECT_EQ(0, memcmp(src, dst, len)) TH_LOG("op %d len %u: data", op,
						   len);
	/* Not a byte beyond the message. */
	EXPECT_EQ(0xee, dst[len]);
	EXPECT_EQ(0xee, dst[len + 63]);
}

static void sweep(struct __test_metadata *_metadata, FIXTURE_DATA(ru) *self,
		  enum ibv_wr_opcode op)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		xfer(_metadata, self, &self->ep[0], &self->ep[1], op, sizes[i],
		     -1);
}

TEST_F(ru, created_in_rts)
{
	struct ibv_qp_init_attr init;
	struct ibv_qp_attr attr;

	ASSERT_EQ(0, ibv_query_qp(self->ep[0].qp, &attr, IBV_QP_STATE, &init));
	EXPECT_EQ(IBV_QPS_RTS, attr.qp_state);
	EXPECT_EQ(IBV_QPT_DRIVER, self->ep[0].qp->qp_type);
	EXPECT_NE(self->ep[0].qp->qp_num, self->ep[1].qp->qp_num);
	/* The job key is in use: it stays. */
	EXPECT_EQ(EBUSY, uetdv_destroy_jkey(self->jkey_b));
	/* Only the states an RU QP has. */
	attr.qp_state = IBV_QPS_INIT;
	EXPECT_EQ(EINVAL, ibv_modify_qp(self->ep[0].qp, &attr, IBV_QP_STATE));
}

TEST_F(ru, create_rules)
{
	struct ibv_cq *cq = ibv_cq_ex_to_cq(self->ep[0].cq);
	struct ibv_qp_init_attr_ex attr = {
		.qp_type = IBV_QPT_RC,
		.send_cq = cq,
		.recv_cq = cq,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.comp_mask = IBV_QP_INIT_ATTR_PD,
		.pd = self->pd,
	};
	struct uetdv_qp_init_attr uattr = { .job_key = self->jkey_a };
	struct uetdv_job_key *jkey2;
	struct ibv_pd *pd2;

	/* Only RU QPs here, always with a job key. */
	EXPECT_EQ(NULL, uetdv_create_qp(self->ctx, &attr, &uattr));
	EXPECT_EQ(EINVAL, errno);
	attr.qp_type = IBV_QPT_DRIVER;
	uattr.job_key = NULL;
	EXPECT_EQ(NULL, uetdv_create_qp(self->ctx, &attr, &uattr));
	EXPECT_EQ(EINVAL, errno);
	/* Atomics are not RU operations. */
	uattr.job_key = self->jkey_a;
	attr.comp_mask |= IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
	attr.send_ops_flags = IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD;
	EXPECT_EQ(NULL, uetdv_create_qp(self->ctx, &attr, &uattr));
	EXPECT_EQ(EOPNOTSUPP, errno);
	attr.comp_mask = IBV_QP_INIT_ATTR_PD;
	/* Unknown flags. */
	uattr.comp_mask = UETDV_QP_INIT_ATTR_FLAGS;
	uattr.flags = 2;
	EXPECT_EQ(NULL, uetdv_create_qp(self->ctx, &attr, &uattr));
	EXPECT_EQ(EINVAL, errno);
	uattr.comp_mask = 0;
	/* A job key of another PD: the kernel refuses it. */
	pd2 = ibv_alloc_pd(self->ctx);
	ASSERT_NE(NULL, pd2);
	jkey2 = uetdv_create_jkey(pd2, self->job_a, 0);
	ASSERT_NE(NULL, jkey2);
	uattr.job_key = jkey2;
	EXPECT_EQ(NULL, uetdv_create_qp(self->ctx, &attr, &uattr));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, uetdv_destroy_jkey(jkey2));
	ASSERT_EQ(0, ibv_dealloc_pd(pd2));
}

TEST_F_TIMEOUT(ru, send, 300)
{
	sweep(_metadata, self, IBV_WR_SEND);
}

TEST_F_TIMEOUT(ru, send_with_imm, 300)
{
	sweep(_metadata, self, IBV_WR_SEND_WITH_IMM);
}

TEST_F_TIMEOUT(ru, rdma_write, 300)
{
	sweep(_metadata, self, IBV_WR_RDMA_WRITE);
}

TEST_F_TIMEOUT(ru, rdma_write_with_imm, 300)
{
	sweep(_metadata, self, IBV_WR_RDMA_WRITE_WITH_IMM);
}

TEST_F_TIMEOUT(ru, rdma_read, 300)
{
	sweep(_metadata, self, IBV_WR_RDMA_READ);
}

/* The destination as an index into the job's address table. */
TEST_F(ru, address_table)
{
	struct uetdv_ah_attr_ex a = {
		.ah_attr = { .is_global = 1, .port_num = 1 },
		.remote_qpn = self->ep[1].qp->qp_num,
	};
	struct wc wc;

	uet_parse_gid(ADDR, &a.ah_attr.grh.dgid);
	ASSERT_EQ(0, uetdv_insert_addr(self->job_a, &a, 5, 0));
	xfer(_metadata, self, &self->ep[0], &self->ep[1], IBV_WR_SEND, 10000, 5);
	xfer(_metadata, self, &self->ep[0], &self->ep[1], IBV_WR_RDMA_READ,
	     9000, 5);
	/* An empty entry: a local error, and the QP goes on. */
	ASSERT_EQ(0, post(&self->ep[0], &self->ep[1], IBV_WR_SEND, 5, 8, 6, 0));
	ASSERT_TRUE(poll_one(self->ep[0].cq, &wc, 5000));
	EXPECT_EQ(IBV_WC_LOC_QP_OP_ERR, wc.status);
	xfer(_metadata, self, &self->ep[0], &self->ep[1], IBV_WR_SEND, 100, 5);
}

/* A WR's job key is the QP's own, or it is refused. */
TEST_F(ru, job_key_per_wr)
{
	struct wc wc;

	ASSERT_EQ(0, post_recv(&self->ep[1], 1, BUF / 2, 4096));
	ASSERT_EQ(0, post(&self->ep[0], &self->ep[1], IBV_WR_SEND, 2, 64, -1,
			  self->jkey_a->jkey));
	ASSERT_TRUE(poll_one(self->ep[0].cq, &wc, 5000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	ASSERT_TRUE(poll_one(self->ep[1].cq, &wc, 5000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	ASSERT_EQ(0, post(&self->ep[0], &self->ep[1], IBV_WR_SEND, 3, 64, -1,
			  self->jkey_b->jkey));
	ASSERT_TRUE(poll_one(self->ep[0].cq, &wc, 5000));
	EXPECT_EQ(IBV_WC_LOC_PROT_ERR, wc.status);
	EXPECT_FALSE(poll_one(self->ep[1].cq, &wc, 300));
}

/* One QP, many peers: messages interleaved to two targets all arrive. */
TEST_F_TIMEOUT(ru, many_peers, 300)
{
	struct ep *a = &self->ep[0], *t[2] = { &self->ep[1], &self->ep[3] };
	const uint32_t len = 9000, n = 24;
	uint32_t i, got[2] = {}, seen[2] = {};
	struct wc wc;

	for (i = 0; i < n; i++)
		ASSERT_EQ(0, post_recv(t[i & 1], i, BUF / 2 + (i / 2) * len,
				       len));
	for (i = 0; i < n; i++) {
		uint8_t *p = a->buf + i * len;

		uet_pat_fill(p, len, self->seed + i);
		ibv_wr_start(a->qpx);
		a->qpx->wr_id = i;
		a->qpx->wr_flags = IBV_SEND_SIGNALED;
		ibv_wr_send(a->qpx);
		uetdv_wr_set_ru_addr(a->dv, t[i & 1]->ah, 0);
		ibv_wr_set_sge(a->qpx, a->mr->lkey, (uintptr_t)p, len);
		ASSERT_EQ(0, ibv_wr_complete(a->qpx));
	}
	for (i = 0; i < n; i++) {
		ASSERT_TRUE(poll_one(a->cq, &wc, 20000));
		ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
		/* Send completions come in posting order. */
		EXPECT_EQ(i, wc.wr_id);
	}
	for (i = 0; i < n; i++) {
		int k = i & 1;

		ASSERT_TRUE(poll_one(t[k]->cq, &wc, 20000));
		ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
		EXPECT_EQ(len, wc.byte_len);
		got[k]++;
	}
	/* Every message exactly once, intact (receives fill in order). */
	for (i = 0; i < n; i++) {
		int k = i & 1;
		uint8_t *want = a->buf + i * len;
		uint32_t j;

		for (j = 0; j < n / 2; j++)
			if (!memcmp(t[k]->buf + BUF / 2 + j * len, want, len))
				break;
		EXPECT_LT(j, n / 2) TH_LOG("message %u never arrived", i);
		seen[k]++;
	}
	EXPECT_EQ(n / 2, got[0]);
	EXPECT_EQ(n / 2, got[1]);
	EXPECT_EQ(n / 2, seen[0]);
	EXPECT_FALSE(poll_one(t[0]->cq, &wc, 100));
}

/* No receive posted yet: the message waits (RNR) and arrives once. */
TEST_F(ru, receiver_not_ready)
{
	struct wc wc;

	uet_pat_fill(self->ep[0].buf, 20000, 5);
	ASSERT_EQ(0, post(&self->ep[0], &self->ep[1], IBV_WR_SEND, 9, 20000,
			  -1, 0));
	EXPECT_FALSE(poll_one(self->ep[0].cq, &wc, 300));
	ASSERT_EQ(0, post_recv(&self->ep[1], 10, BUF / 2, BUF / 2));
	ASSERT_TRUE(poll_one(self->ep[0].cq, &wc, 20000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	ASSERT_TRUE(poll_one(self->ep[1].cq, &wc, 5000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(20000, wc.byte_len);
	EXPECT_EQ(0, memcmp(self->ep[0].buf, self->ep[1].buf + BUF / 2,
			    20000));
	ASSERT_EQ(0, post_recv(&self->ep[1], 11, BUF / 2, BUF / 2));
	EXPECT_FALSE(poll_one(self->ep[1].cq, &wc, 300));
}

/*
 * Job isolation: job A's QP sending to job B's QP, and writing into its
 * memory, is refused by the target (BAD_JOB_ID, a remote invalid request
 * for the sender), one rx_drop_bad_job per packet, nothing delivered,
 * the receive still posted, the memory untouched; the sender goes on.
 */
TEST_F(ru, other_job_refused)
{
	struct ep *a = &self->ep[0], *c = &self->ep[2];
	unsigned long long before;
	struct wc wc;

	ASSERT_EQ(0, post_recv(c, 1, BUF / 2, BUF / 2));
	memset(c->buf + BUF / 2, 0x77, 3 * MTU);
	uet_pat_fill(a->buf, 3 * MTU, 1);
	before = uet_hw_counter(DEV, "rx_drop_bad_job");
	ASSERT_EQ(0, post(a, c, IBV_WR_SEND, 1, 100, -1, 0));
	ASSERT_TRUE(poll_one(a->cq, &wc, 20000));
	EXPECT_EQ(IBV_WC_REM_INV_REQ_ERR, wc.status);
	ASSERT_EQ(0, post(a, c, IBV_WR_RDMA_WRITE, 2, 3 * MTU, -1, 0));
	ASSERT_TRUE(poll_one(a->cq, &wc, 20000));
	EXPECT_EQ(IBV_WC_REM_INV_REQ_ERR, wc.status);
	/* One per packet: the SEND's and the WRITE's three. */
	EXPECT_EQ(before + 4, counter_at("rx_drop_bad_job", before + 4));
	EXPECT_FALSE(poll_one(c->cq, &wc, 300));
	EXPECT_EQ(0x77, c->buf[BUF / 2]);
	EXPECT_EQ(0x77, c->buf[BUF / 2 + 3 * MTU - 1]);
	/* Job A to job A still works, and so does C's receive. */
	xfer(_metadata, self, a, &self->ep[1], IBV_WR_SEND, 5000, -1);
}

/*
 * An MR restricted to job A: job A's QPs write into and read from it,
 * job B's are refused (a remote access error, rx_drop_bad_key) and leave
 * it untouched; the MR holds the job key.
 */
TEST_F(ru, job_restricted_mr)
{
	struct ep *a = &self->ep[0], *c = &self->ep[2];
	unsigned long long before;
	struct ibv_mr *mr, *keep;
	struct wc wc;
	uint8_t *buf;

	buf = mmap(NULL, BUF, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 0x33, BUF);
	mr = uetdv_reg_mr(self->pd, buf, BUF, IBV_ACCESS_LOCAL_WRITE |
			  IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ,
			  self->jkey_a);
	ASSERT_NE(NULL, mr) TH_LOG("uetdv_reg_mr: %s", strerror(errno));
	EXPECT_EQ(NULL, uetdv_reg_mr(self->pd, buf, BUF, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(EBUSY, uetdv_destroy_jkey(self->jkey_a));

	/* Job A: a WRITE lands, a READ returns it. */
	uet_pat_fill(a->buf, 9000, 11);
	ibv_wr_start(a->qpx);
	a->qpx->wr_id = 1;
	a->qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(a->qpx, mr->rkey, (uintptr_t)buf + 100);
	uetdv_wr_set_ru_addr(a->dv, self->ep[1].ah, 0);
	ibv_wr_set_sge(a->qpx, a->mr->lkey, (uintptr_t)a->buf, 9000);
	ASSERT_EQ(0, ibv_wr_complete(a->qpx));
	ASSERT_TRUE(poll_one(a->cq, &wc, 20000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(0, memcmp(buf + 100, a->buf, 9000));

	/* Job B: refused, memory untouched, counted. */
	before = uet_hw_counter(DEV, "rx_drop_bad_key");
	uet_pat_fill(c->buf, 5000, 12);
	ibv_wr_start(c->qpx);
	c->qpx->wr_id = 2;
	c->qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(c->qpx, mr->rkey, (uintptr_t)buf + 20000);
	uetdv_wr_set_ru_addr(c->dv, c->ah, 0);
	ibv_wr_set_sge(c->qpx, c->mr->lkey, (uintptr_t)c->buf, 1000);
	ASSERT_EQ(0, ibv_wr_complete(c->qpx));
	ASSERT_TRUE(poll_one(c->cq, &wc, 20000));
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR, wc.status);
	EXPECT_EQ(before + 1, counter_at("rx_drop_bad_key", before + 1));
	EXPECT_EQ(0x33, buf[20000]);
	EXPECT_EQ(0x33, buf[20999]);
	ibv_wr_start(c->qpx);
	c->qpx->wr_id = 3;
	c->qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_read(c->qpx, mr->rkey, (uintptr_t)buf + 100);
	uetdv_wr_set_ru_addr(c->dv, c->ah, 0);
	ibv_wr_set_sge(c->qpx, c->mr->lkey, (uintptr_t)c->buf, 64);
	ASSERT_EQ(0, ibv_wr_complete(c->qpx));
	ASSERT_TRUE(poll_one(c->cq, &wc, 20000));
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR, wc.status);

	/* A plain MR of the same PD is open to both jobs. */
	keep = ibv_reg_mr(self->pd, buf, BUF, IBV_ACCESS_LOCAL_WRITE |
			  IBV_ACCESS_REMOTE_WRITE);
	ASSERT_NE(NULL, keep);
	ibv_wr_start(c->qpx);
	c->qpx->wr_id = 4;
	c->qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(c->qpx, keep->rkey, (uintptr_t)buf + 20000);
	uetdv_wr_set_ru_addr(c->dv, c->ah, 0);
	ibv_wr_set_sge(c->qpx, c->mr->lkey, (uintptr_t)c->buf, 1000);
	ASSERT_EQ(0, ibv_wr_complete(c->qpx));
	ASSERT_TRUE(poll_one(c->cq, &wc, 20000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(0, memcmp(buf + 20000, c->buf, 1000));
	ASSERT_EQ(0, ibv_dereg_mr(keep));
	ASSERT_EQ(0, ibv_dereg_mr(mr));
	munmap(buf, BUF);
}

/* The legacy ibv_post_send(): SENDs addressed by wr.ud. */
TEST_F(ru, post_send_legacy)
{
	struct ep *a = &self->ep[0], *b = &self->ep[1];
	struct ibv_sge sge = { .addr = (uintptr_t)a->buf, .length = 3000,
			       .lkey = a->mr->lkey };
	struct ibv_send_wr wr = {
		.wr_id = 5, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	struct wc wc;

	wr.wr.ud.ah = b->ah;
	wr.wr.ud.remote_qpn = b->qp->qp_num;
	uet_pat_fill(a->buf, 3000, 3);
	ASSERT_EQ(0, post_recv(b, 6, BUF / 2, 4096));
	ASSERT_EQ(0, ibv_post_send(a->qp, &wr, &bad));
	ASSERT_TRUE(poll_one(a->cq, &wc, 5000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	ASSERT_TRUE(poll_one(b->cq, &wc, 5000));
	EXPECT_EQ(3000, wc.byte_len);
	EXPECT_EQ(0, memcmp(a->buf, b->buf + BUF / 2, 3000));
	wr.opcode = IBV_WR_RDMA_WRITE;
	EXPECT_EQ(EINVAL, ibv_post_send(a->qp, &wr, &bad));
}

TEST_HARNESS_MAIN
