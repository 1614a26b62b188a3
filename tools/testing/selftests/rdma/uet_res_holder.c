// SPDX-License-Identifier: GPL-2.0
/*
 * Helper of uet_res_teardown.sh: opens a uet device, creates one of each
 * object in as many states as is useful to tear down, prints "ready",
 * and waits.  SIGUSR1 makes it exit(0) without freeing anything; any
 * fatal signal kills it the same way.  On a failure it prints
 * "failed: STEP: ERROR" and exits 1.
 *
 *   uet_res_holder DEVICE SOURCE_IP DEST_IP
 *
 * Objects: a PD, an MR, a CQ with a completion channel (armed, holding
 * unpolled flush completions), a second CQ, an SRQ with posted work, an
 * RC QP on it in ERR (LAST_WQE_REACHED left unacknowledged), an RC QP in
 * RTS (its path holds a reference on the source GID) with a SEND on its
 * way to an address no uet device answers (its PDC stays in SYN), a UD
 * QP in ERR with receive work flushed, and an AH.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "uet_verbs_util.h"

static volatile sig_atomic_t done;

static void on_usr1(int sig)
{
	done = 1;
}

static void fail(const char *step, int err)
{
	printf("failed: %s: %s\n", step, strerror(err));
	exit(1);
}

static struct ibv_qp *make_qp(struct ibv_pd *pd, enum ibv_qp_type type,
			      struct ibv_cq *scq, struct ibv_cq *rcq,
			      struct ibv_srq *srq)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = scq,
		.recv_cq = rcq,
		.srq = srq,
		.cap = { .max_send_wr = 4, .max_recv_wr = srq ? 0 : 4,
			 .max_send_sge = 1, .max_recv_sge = srq ? 0 : 1 },
		.qp_type = type,
	};
	struct ibv_qp *qp = ibv_create_qp(pd, &ia);

	if (!qp)
		fail("create_qp", errno);
	return qp;
}

static void modify(struct ibv_qp *qp, struct ibv_qp_attr *a, int mask,
		   const char *step)
{
	int err = ibv_modify_qp(qp, a, mask);

	if (err)
		fail(step, err);
}

static void to_init(struct ibv_qp *qp)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = 1,
		.qkey = 0x11111111,
	};

	modify(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
	       (qp->qp_type == IBV_QPT_UD ? IBV_QP_QKEY : IBV_QP_ACCESS_FLAGS),
	       "to INIT");
}

static void to_err(struct ibv_qp *qp)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_ERR };

	modify(qp, &a, IBV_QP_STATE, "to ERR");
}

static void rc_to_rts(struct ibv_qp *qp, int sgid, const char *dst)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = IBV_MTU_1024,
		.dest_qp_num = 0x1234,
		.max_dest_rd_atomic = 1,
		.ah_attr = {
			.is_global = 1,
			.port_num = 1,
			.grh = { .sgid_index = sgid, .hop_limit = 64 },
		},
	};

	to_init(qp);
	uet_parse_gid(dst, &a.ah_attr.grh.dgid);
	modify(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
	       IBV_QP_DEST_QPN | IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
	       IBV_QP_MIN_RNR_TIMER, "to RTR");
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 1;
	modify(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN | IBV_QP_TIMEOUT |
	       IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC,
	       "to RTS");
}

int main(int argc, char **argv)
{
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 8, .max_sge = 1 } };
	struct ibv_qp *rc_srq, *rc_rts, *ud;
	struct ibv_comp_channel *ch;
	struct ibv_send_wr swr, *sbad;
	struct ibv_recv_wr wr, *bad;
	struct ibv_context *ctx;
	struct ibv_ah_attr aa;
	struct ibv_cq *cq, *cq2;
	struct ibv_srq *srq;
	struct ibv_sge sge;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	static char buf[4096];
	sigset_t usr1, old;
	int sgid, i;

	if (argc != 4) {
		fprintf(stderr, "usage: %s DEVICE SOURCE_IP DEST_IP\n", argv[0]);
		return 2;
	}
	/* Blocked until sigsuspend(): a SIGUSR1 sent early is not lost. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	signal(SIGUSR1, on_usr1);
	setvbuf(stdout, NULL, _IOLBF, 0);

	ctx = uet_open_dev(argv[1]);
	if (!ctx)
		fail("open device", ENODEV);
	sgid = uet_wait_gid(ctx, argv[2]);
	if (sgid < 0)
		fail("source GID", ENOENT);
	pd = ibv_alloc_pd(ctx);
	if (!pd)
		fail("alloc_pd", errno);
	mr = ibv_reg_mr(pd, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE);
	if (!mr)
		fail("reg_mr", errno);
	ch = ibv_create_comp_channel(ctx);
	if (!ch)
		fail("create_comp_channel", errno);
	cq = ibv_create_cq(ctx, 16, NULL, ch, 0);
	if (!cq)
		fail("create_cq", errno);
	cq2 = ibv_create_cq(ctx, 4, NULL, NULL, 0);
	if (!cq2)
		fail("create_cq", errno);
	srq = ibv_create_srq(pd, &sa);
	if (!srq)
		fail("create_srq", errno);

	sge = (struct ibv_sge){ .addr = (uintptr_t)buf, .length = 64,
				.lkey = mr->lkey };
	wr = (struct ibv_recv_wr){ .sg_list = &sge, .num_sge = 1 };
	for (i = 0; i < 3; i++) {
		wr.wr_id = i;
		if (ibv_post_srq_recv(srq, &wr, &bad))
			fail("post_srq_recv", errno);
	}

	rc_srq = make_qp(pd, IBV_QPT_RC, cq2, cq, srq);
	to_init(rc_srq);
	to_err(rc_srq);

	rc_rts = make_qp(pd, IBV_QPT_RC, cq2, cq2, NULL);
	rc_to_rts(rc_rts, sgid, argv[3]);
	swr = (struct ibv_send_wr){ .sg_list = &sge, .num_sge = 1,
				    .opcode = IBV_WR_SEND };
	if (ibv_post_send(rc_rts, &swr, &sbad))
		fail("post_send", errno);

	ud = make_qp(pd, IBV_QPT_UD, cq2, cq, NULL);
	to_init(ud);
	if (ibv_req_notify_cq(cq, 0))
		fail("req_notify_cq", errno);
	for (i = 0; i < 2; i++) {
		wr.wr_id = 10 + i;
		if (ibv_post_recv(ud, &wr, &bad))
			fail("post_recv", errno);
	}
	to_err(ud);

	memset(&aa, 0, sizeof(aa));
	aa.is_global = 1;
	aa.port_num = 1;
	aa.grh.sgid_index = sgid;
	aa.grh.hop_limit = 64;
	uet_parse_gid(argv[3], &aa.grh.dgid);
	if (!ibv_create_ah(pd, &aa))
		fail("create_ah", errno);

	printf("ready\n");
	while (!done)
		sigsuspend(&old);
	/* Leave everything to the kernel. */
	return 0;
}
