// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * uet provider fast path, posting: ibv_post_send(), ibv_post_recv(),
 * ibv_post_srq_recv() and the ibv_wr_*() API of ibv_qp_ex write WQEs into
 * the mapped SQ, RQ and SRQ rings and publish them with the doorbell
 * protocol of uet_queue.h.  The only system call is the kick, made when
 * the kernel asked for one.
 */
#include <assert.h>
#include <string.h>

#include "uet.h"

/*
 * WQEs carry libibverbs' opcodes and SGEs as they are, and
 * IBV_QP_EX_WITH_<op> is 1 << IBV_WR_<op> for each opcode we post up to
 * ATOMIC_FETCH_AND_ADD; ATOMIC_WRITE (15) has bit 12.
 */
#define UET_SAME_OPCODE(op) ((int)IBV_WR_##op == (int)IB_UVERBS_WR_##op)
static_assert(UET_SAME_OPCODE(RDMA_WRITE) &&
	      UET_SAME_OPCODE(RDMA_WRITE_WITH_IMM) && UET_SAME_OPCODE(SEND) &&
	      UET_SAME_OPCODE(SEND_WITH_IMM) && UET_SAME_OPCODE(RDMA_READ) &&
	      UET_SAME_OPCODE(ATOMIC_CMP_AND_SWP) &&
	      UET_SAME_OPCODE(ATOMIC_FETCH_AND_ADD) &&
	      UET_SAME_OPCODE(ATOMIC_WRITE),
	      "ibv_wr_opcode is not ib_uverbs_wr_opcode");
static_assert(IBV_QP_EX_WITH_RDMA_WRITE == 1 << IBV_WR_RDMA_WRITE &&
	      IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM ==
		      1 << IBV_WR_RDMA_WRITE_WITH_IMM &&
	      IBV_QP_EX_WITH_SEND == 1 << IBV_WR_SEND &&
	      IBV_QP_EX_WITH_SEND_WITH_IMM == 1 << IBV_WR_SEND_WITH_IMM &&
	      IBV_QP_EX_WITH_RDMA_READ == 1 << IBV_WR_RDMA_READ &&
	      IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP ==
		      1 << IBV_WR_ATOMIC_CMP_AND_SWP &&
	      IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD ==
		      1 << IBV_WR_ATOMIC_FETCH_AND_ADD,
	      "send_ops_flags bits do not follow the opcodes");
static_assert(sizeof(struct ibv_sge) == sizeof(struct uet_sge) &&
	      offsetof(struct ibv_sge, addr) ==
		      offsetof(struct uet_sge, addr) &&
	      offsetof(struct ibv_sge, length) ==
		      offsetof(struct uet_sge, length) &&
	      offsetof(struct ibv_sge, lkey) == offsetof(struct uet_sge, lkey),
	      "ibv_sge is not uet_sge");

/*
 * An IBV_WR_ATOMIC_WRITE WQE: opcode IBV_WR_ATOMIC_WRITE, the target in
 * wr.rdma.remote_addr and wr.rdma.rkey, and the 8 bytes to write carried
 * as inline data: IBV_SEND_INLINE set in send_flags, inline_len 8,
 * num_sge 0, the value in inline_data[0..7] in memory order.
 */
#define UET_ATOMIC_WRITE_LEN 8
static_assert(UET_ATOMIC_WRITE_LEN <= UET_WQE_MAX_INLINE,
	      "no room for the atomic write value");

enum {
	/* send_flags a WQE takes from the WR as they are */
	UET_WR_FLAGS = IBV_SEND_FENCE | IBV_SEND_SIGNALED | IBV_SEND_SOLICITED,
	/* send_flags a WR may carry; the WQE's INLINE follows its payload */
	UET_SEND_FLAGS = UET_WR_FLAGS | IBV_SEND_INLINE,
	/* UC has no responder resources: nothing that reads back. */
	UET_UC_SEND_OPS = IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_SEND_WITH_IMM |
			  IBV_QP_EX_WITH_RDMA_WRITE |
			  IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM,
	UET_RC_SEND_OPS = UET_UC_SEND_OPS | IBV_QP_EX_WITH_RDMA_READ |
			  IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP |
			  IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD,
	UET_UD_SEND_OPS = IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_SEND_WITH_IMM,
	UET_RU_SEND_OPS = UET_UC_SEND_OPS | IBV_QP_EX_WITH_RDMA_READ,
};

/* ATOMIC_WRITE on RC only, and only if the kernel reports it. */
static uint64_t uet_send_ops(struct ibv_context *ibctx,
			     enum ibv_qp_type qp_type)
{
	switch (qp_type) {
	case IBV_QPT_RC:
		return UET_RC_SEND_OPS | (to_uet_ctx(ibctx)->atomic_write ?
					  IBV_QP_EX_WITH_ATOMIC_WRITE : 0);
	case IBV_QPT_UC:
		return UET_UC_SEND_OPS;
	case IBV_QPT_UD:
		return UET_UD_SEND_OPS;
	case IBV_QPT_DRIVER:
		return UET_RU_SEND_OPS;
	default:
		return 0;
	}
}

bool uet_send_ops_supported(struct ibv_context *ibctx,
			    enum ibv_qp_type qp_type, uint64_t send_ops)
{
	return !(send_ops & ~uet_send_ops(ibctx, qp_type));
}

/* The IBV_QP_EX_WITH_<op> bit of @opcode; 0 for one we never post. */
static uint64_t uet_opcode_send_op(enum ibv_wr_opcode opcode)
{
	if (opcode == IBV_WR_ATOMIC_WRITE)
		return IBV_QP_EX_WITH_ATOMIC_WRITE;
	if ((unsigned int)opcode <= IBV_WR_ATOMIC_FETCH_AND_ADD)
		return 1ULL << opcode;
	return 0;
}

static bool uet_opcode_ok(struct uet_qp *qp, enum ibv_wr_opcode opcode)
{
	return uet_send_ops(qp->vqp.qp.context, qp->vqp.qp.qp_type) &
	       uet_opcode_send_op(opcode);
}

/* Inline data is a payload we send, so it needs an outbound opcode. */
static bool uet_opcode_inline_ok(uint32_t opcode)
{
	return opcode == IBV_WR_SEND || opcode == IBV_WR_SEND_WITH_IMM ||
	       opcode == IBV_WR_RDMA_WRITE ||
	       opcode == IBV_WR_RDMA_WRITE_WITH_IMM;
}

/*
 * Start a WQE in its slot.  The slot holds an older WQE: every field up
 * to the payload is rewritten, the payload only as far as it is used.
 */
static void uet_wqe_init(struct uet_send_wqe *wqe, uint64_t wr_id,
			 uint32_t opcode, uint32_t send_flags)
{
	memset(wqe, 0, offsetof(struct uet_send_wqe, sge));
	wqe->wr_id = wr_id;
	wqe->opcode = opcode;
	wqe->send_flags = send_flags;
}

static void uet_wqe_set_ud(struct uet_send_wqe *wqe, struct ibv_ah *ah,
			   uint32_t remote_qpn, uint32_t remote_qkey)
{
	wqe->wr.ud.ah_id = to_uet_ah(ah)->ah_id;
	wqe->wr.ud.remote_qpn = remote_qpn;
	wqe->wr.ud.remote_qkey = remote_qkey;
}

static void uet_wqe_set_sges(struct uet_send_wqe *wqe,
			     const struct ibv_sge *sg_list, uint32_t num_sge)
{
	wqe->send_flags &= ~IBV_SEND_INLINE;
	wqe->inline_len = 0;
	wqe->num_sge = num_sge;
	/* A WR without data may come without a list. */
	if (num_sge)
		memcpy(wqe->sge, sg_list, num_sge * sizeof(*wqe->sge));
}

/* Inline data is copied now: the caller may reuse its buffers at once. */
static void uet_wqe_start_inline(struct uet_send_wqe *wqe)
{
	wqe->send_flags |= IBV_SEND_INLINE;
	wqe->num_sge = 0;
	wqe->inline_len = 0;
}

static void uet_wqe_set_atomic_write(struct uet_send_wqe *wqe, uint32_t rkey,
				     uint64_t remote_addr,
				     const void *atomic_wr)
{
	wqe->wr.rdma.remote_addr = remote_addr;
	wqe->wr.rdma.rkey = rkey;
	uet_wqe_start_inline(wqe);
	memcpy(wqe->inline_data, atomic_wr, UET_ATOMIC_WRITE_LEN);
	wqe->inline_len = UET_ATOMIC_WRITE_LEN;
}

static int uet_wqe_add_inline(const struct uet_qp *qp,
			      struct uet_send_wqe *wqe, const void *addr,
			      size_t length)
{
	if (length > qp->max_inline - wqe->inline_len)
		return EINVAL;
	memcpy(wqe->inline_data + wqe->inline_len, addr, length);
	wqe->inline_len += length;
	return 0;
}

static int uet_post_one_send(struct uet_qp *qp, uint32_t idx,
			     const struct ibv_send_wr *wr)
{
	bool ud = qp->vqp.qp.qp_type == IBV_QPT_UD;
	bool ru = qp->vqp.qp.qp_type == IBV_QPT_DRIVER;
	struct uet_send_wqe *wqe;
	int i, err;

	if (!uet_opcode_ok(qp, wr->opcode) ||
	    wr->send_flags & ~UET_SEND_FLAGS || wr->num_sge < 0 ||
	    (uint32_t)wr->num_sge > qp->sq.max_sge ||
	    ((ud || ru) && !wr->wr.ud.ah))
		return EINVAL;
	/* An RU QP's RDMA WRs have nowhere to name a peer: ibv_wr_*(). */
	if (ru && wr->opcode != IBV_WR_SEND &&
	    wr->opcode != IBV_WR_SEND_WITH_IMM)
		return EINVAL;
	if (uet_queue_full(&qp->sq.queue, idx))
		return ENOMEM;

	/* Nothing below is seen by the kernel before the producer moves. */
	wqe = uet_queue_slot(&qp->sq.queue, idx, sizeof(*wqe));
	uet_wqe_init(wqe, wr->wr_id, wr->opcode, wr->send_flags & UET_WR_FLAGS);
	if (wr->opcode == IBV_WR_SEND_WITH_IMM ||
	    wr->opcode == IBV_WR_RDMA_WRITE_WITH_IMM)
		wqe->imm_data = wr->imm_data;
	switch (wr->opcode) {
	case IBV_WR_RDMA_WRITE:
	case IBV_WR_RDMA_WRITE_WITH_IMM:
	case IBV_WR_RDMA_READ:
		wqe->wr.rdma.remote_addr = wr->wr.rdma.remote_addr;
		wqe->wr.rdma.rkey = wr->wr.rdma.rkey;
		break;
	case IBV_WR_ATOMIC_CMP_AND_SWP:
	case IBV_WR_ATOMIC_FETCH_AND_ADD:
		wqe->wr.atomic.remote_addr = wr->wr.atomic.remote_addr;
		wqe->wr.atomic.compare_add = wr->wr.atomic.compare_add;
		wqe->wr.atomic.swap = wr->wr.atomic.swap;
		wqe->wr.atomic.rkey = wr->wr.atomic.rkey;
		break;
	default:
		break;
	}
	if (ud)
		uet_wqe_set_ud(wqe, wr->wr.ud.ah, wr->wr.ud.remote_qpn,
			       wr->wr.ud.remote_qkey);
	if (ru) {
		wqe->wr.ru.dest = to_uet_ah(wr->wr.ud.ah)->ah_id;
		wqe->wr.ru.remote_qpn = wr->wr.ud.remote_qpn;
	}

	/*
	 * The value comes in the WR's one 8-byte SGE; it is read now, as
	 * inline data is, so its lkey plays no part.
	 */
	if (wr->opcode == IBV_WR_ATOMIC_WRITE) {
		if (wr->num_sge != 1 ||
		    wr->sg_list[0].length != UET_ATOMIC_WRITE_LEN)
			return EINVAL;
		uet_wqe_set_atomic_write(wqe, wr->wr.rdma.rkey,
					 wr->wr.rdma.remote_addr,
					 (void *)(uintptr_t)wr->sg_list[0].addr);
		return 0;
	}

	if (!(wr->send_flags & IBV_SEND_INLINE)) {
		uet_wqe_set_sges(wqe, wr->sg_list, wr->num_sge);
		return 0;
	}
	if (!uet_opcode_inline_ok(wr->opcode))
		return EINVAL;
	uet_wqe_start_inline(wqe);
	for (i = 0; i < wr->num_sge; i++) {
		err = uet_wqe_add_inline(qp, wqe,
					 (void *)(uintptr_t)wr->sg_list[i].addr,
					 wr->sg_list[i].length);
		if (err)
			return err;
	}
	return 0;
}

/* A POST_SEND write() without WRs: wakes the send engine or flushes. */
static int uet_kick_sq(struct uet_qp *qp)
{
	struct ibv_send_wr *bad;

	return ibv_cmd_post_send(&qp->vqp.qp, NULL, &bad);
}

/* Publish the SQ up to @producer; true when the kernel must be kicked. */
static bool uet_sq_post(struct uet_qp *qp, uint32_t producer)
{
	struct uet_doorbell *db = to_uet_ctx(qp->vqp.qp.context)->db;

	if (producer == qp->sq.producer)
		return false;
	qp->sq.producer = producer;
	return uet_sq_publish(&qp->sq.queue, producer, db);
}

/* Sends need RTS or later; receives anything but RESET, as on IB. */
static bool uet_qp_can_send(const struct ibv_qp *ibqp)
{
	return ibqp->state != IBV_QPS_RESET && ibqp->state != IBV_QPS_INIT &&
	       ibqp->state != IBV_QPS_RTR;
}

int uet_post_send(struct ibv_qp *ibqp, struct ibv_send_wr *wr,
		  struct ibv_send_wr **bad_wr)
{
	struct uet_qp *qp = to_uet_qp(ibqp);
	int err = 0, kick_err;
	uint32_t idx;
	bool kick;

	if (!uet_qp_can_send(ibqp)) {
		*bad_wr = wr;
		return EINVAL;
	}

	pthread_spin_lock(&qp->sq.lock);
	for (idx = qp->sq.producer; wr; wr = wr->next, idx++) {
		err = uet_post_one_send(qp, idx, wr);
		if (err) {
			*bad_wr = wr;
			break;
		}
	}
	kick = uet_sq_post(qp, idx);
	pthread_spin_unlock(&qp->sq.lock);

	if (kick) {
		kick_err = uet_kick_sq(qp);
		/* Every WR is in the ring then; none is to blame. */
		if (kick_err && !err) {
			*bad_wr = NULL;
			err = kick_err;
		}
	}
	return err;
}

static int uet_post_one_recv(struct uet_wq *rq, uint32_t idx,
			     const struct ibv_recv_wr *wr)
{
	struct uet_recv_wqe *wqe;

	if (wr->num_sge < 0 || (uint32_t)wr->num_sge > rq->max_sge)
		return EINVAL;
	if (uet_queue_full(&rq->queue, idx))
		return ENOMEM;

	wqe = uet_queue_slot(&rq->queue, idx, sizeof(*wqe));
	wqe->wr_id = wr->wr_id;
	wqe->num_sge = wr->num_sge;
	wqe->reserved_60 = 0;
	if (wr->num_sge)
		memcpy(wqe->sge, wr->sg_list, wr->num_sge * sizeof(*wqe->sge));
	return 0;
}

/*
 * Post @wr to an RQ or SRQ ring.  *kick tells whether the owner is in
 * error and the kernel must be kicked to flush what was posted.
 */
static int uet_post_recv_list(struct uet_wq *rq, struct ibv_recv_wr *wr,
			      struct ibv_recv_wr **bad_wr, bool *kick)
{
	int err = 0;
	uint32_t idx;

	pthread_spin_lock(&rq->lock);
	for (idx = rq->producer; wr; wr = wr->next, idx++) {
		err = uet_post_one_recv(rq, idx, wr);
		if (err) {
			*bad_wr = wr;
			break;
		}
	}
	*kick = false;
	if (idx != rq->producer) {
		rq->producer = idx;
		*kick = uet_rq_publish(&rq->queue, idx);
	}
	pthread_spin_unlock(&rq->lock);
	return err;
}

int uet_post_recv(struct ibv_qp *ibqp, struct ibv_recv_wr *wr,
		  struct ibv_recv_wr **bad_wr)
{
	struct uet_qp *qp = to_uet_qp(ibqp);
	struct ibv_recv_wr *bad;
	int err, kick_err;
	bool kick;

	/* The receives of a QP on an SRQ are posted to the SRQ. */
	if (ibqp->srq || ibqp->state == IBV_QPS_RESET) {
		*bad_wr = wr;
		return EINVAL;
	}
	err = uet_post_recv_list(&qp->rq, wr, bad_wr, &kick);
	if (kick) {
		kick_err = ibv_cmd_post_recv(ibqp, NULL, &bad);
		if (kick_err && !err) {
			*bad_wr = NULL;
			err = kick_err;
		}
	}
	return err;
}

int uet_post_srq_recv(struct ibv_srq *ibsrq, struct ibv_recv_wr *wr,
		      struct ibv_recv_wr **bad_wr)
{
	struct uet_srq *srq = to_uet_srq(ibsrq);
	struct ibv_recv_wr *bad;
	int err, kick_err;
	bool kick;

	err = uet_post_recv_list(&srq->rq, wr, bad_wr, &kick);
	if (kick) {
		kick_err = ibv_cmd_post_srq_recv(ibsrq, NULL, &bad);
		if (kick_err && !err) {
			*bad_wr = NULL;
			err = kick_err;
		}
	}
	return err;
}

/*
 * ibv_qp_ex.  wr_start() takes the SQ lock and wr_complete() or
 * wr_abort() drops it; in between, WQEs are built in the slots after
 * the producer, which moves only at wr_complete().  The wr_*() calls
 * cannot fail, so the first error is kept, the rest of the batch is
 * ignored and wr_complete() returns the error without posting anything.
 */
void uet_wr_fail(struct uet_qp *qp, int err)
{
	if (!qp->wr_err)
		qp->wr_err = err;
	qp->wr_wqe = NULL;
}

static struct uet_send_wqe *uet_wr_begin(struct ibv_qp_ex *ibqpx,
					 uint32_t opcode)
{
	struct uet_qp *qp = to_uet_qp_ex(ibqpx);
	struct uet_send_wqe *wqe;

	if (qp->wr_err)
		return NULL;
	if (ibqpx->wr_flags & ~UET_SEND_FLAGS) {
		uet_wr_fail(qp, EINVAL);
		return NULL;
	}
	if (uet_queue_full(&qp->sq.queue, qp->wr_producer)) {
		uet_wr_fail(qp, ENOMEM);
		return NULL;
	}
	wqe = uet_queue_slot(&qp->sq.queue, qp->wr_producer++, sizeof(*wqe));
	uet_wqe_init(wqe, ibqpx->wr_id, opcode, ibqpx->wr_flags & UET_WR_FLAGS);
	qp->wr_wqe = wqe;
	return wqe;
}

/* The WQE a setter completes: the one of the last opcode call. */
struct uet_send_wqe *uet_wr_cur(struct uet_qp *qp)
{
	if (!qp->wr_wqe && !qp->wr_err)
		uet_wr_fail(qp, EINVAL);
	return qp->wr_wqe;
}

static void uet_wr_start(struct ibv_qp_ex *ibqpx)
{
	struct uet_qp *qp = to_uet_qp_ex(ibqpx);

	pthread_spin_lock(&qp->sq.lock);
	qp->wr_producer = qp->sq.producer;
	qp->wr_wqe = NULL;
	qp->wr_err = uet_qp_can_send(&ibqpx->qp_base) ? 0 : EINVAL;
}

static int uet_wr_complete(struct ibv_qp_ex *ibqpx)
{
	struct uet_qp *qp = to_uet_qp_ex(ibqpx);
	int err = qp->wr_err;
	bool kick = false;

	if (!err)
		kick = uet_sq_post(qp, qp->wr_producer);
	pthread_spin_unlock(&qp->sq.lock);
	return kick ? uet_kick_sq(qp) : err;
}

static void uet_wr_abort(struct ibv_qp_ex *ibqpx)
{
	pthread_spin_unlock(&to_uet_qp_ex(ibqpx)->sq.lock);
}

static void uet_wr_send(struct ibv_qp_ex *ibqpx)
{
	uet_wr_begin(ibqpx, IBV_WR_SEND);
}

static void uet_wr_send_imm(struct ibv_qp_ex *ibqpx, __be32 imm_data)
{
	struct uet_send_wqe *wqe = uet_wr_begin(ibqpx, IBV_WR_SEND_WITH_IMM);

	if (wqe)
		wqe->imm_data = imm_data;
}

static void uet_wr_rdma(struct ibv_qp_ex *ibqpx, uint32_t opcode,
			uint32_t rkey, uint64_t remote_addr, __be32 imm_data)
{
	struct uet_send_wqe *wqe = uet_wr_begin(ibqpx, opcode);

	if (!wqe)
		return;
	wqe->imm_data = imm_data;
	wqe->wr.rdma.remote_addr = remote_addr;
	wqe->wr.rdma.rkey = rkey;
}

static void uet_wr_rdma_write(struct ibv_qp_ex *ibqpx, uint32_t rkey,
			      uint64_t remote_addr)
{
	uet_wr_rdma(ibqpx, IBV_WR_RDMA_WRITE, rkey, remote_addr, 0);
}

static void uet_wr_rdma_write_imm(struct ibv_qp_ex *ibqpx, uint32_t rkey,
				  uint64_t remote_addr, __be32 imm_data)
{
	uet_wr_rdma(ibqpx, IBV_WR_RDMA_WRITE_WITH_IMM, rkey, remote_addr,
		    imm_data);
}

static void uet_wr_rdma_read(struct ibv_qp_ex *ibqpx, uint32_t rkey,
			     uint64_t remote_addr)
{
	uet_wr_rdma(ibqpx, IBV_WR_RDMA_READ, rkey, remote_addr, 0);
}

static void uet_wr_atomic(struct ibv_qp_ex *ibqpx, uint32_t opcode,
			  uint32_t rkey, uint64_t remote_addr,
			  uint64_t compare_add, uint64_t swap)
{
	struct uet_send_wqe *wqe = uet_wr_begin(ibqpx, opcode);

	if (!wqe)
		return;
	wqe->wr.atomic.remote_addr = remote_addr;
	wqe->wr.atomic.compare_add = compare_add;
	wqe->wr.atomic.swap = swap;
	wqe->wr.atomic.rkey = rkey;
}

static void uet_wr_atomic_cmp_swp(struct ibv_qp_ex *ibqpx, uint32_t rkey,
				  uint64_t remote_addr, uint64_t compare,
				  uint64_t swap)
{
	uet_wr_atomic(ibqpx, IBV_WR_ATOMIC_CMP_AND_SWP, rkey, remote_addr,
		      compare, swap);
}

static void uet_wr_atomic_fetch_add(struct ibv_qp_ex *ibqpx, uint32_t rkey,
				    uint64_t remote_addr, uint64_t add)
{
	uet_wr_atomic(ibqpx, IBV_WR_ATOMIC_FETCH_AND_ADD, rkey, remote_addr,
		      add, 0);
}

static void uet_wr_atomic_write(struct ibv_qp_ex *ibqpx, uint32_t rkey,
				uint64_t remote_addr, const void *atomic_wr)
{
	struct uet_send_wqe *wqe = uet_wr_begin(ibqpx, IBV_WR_ATOMIC_WRITE);

	if (wqe)
		uet_wqe_set_atomic_write(wqe, rkey, remote_addr, atomic_wr);
}

static void uet_wr_set_ud_addr(struct ibv_qp_ex *ibqpx, struct ibv_ah *ah,
			       uint32_t remote_qpn, uint32_t remote_qkey)
{
	struct uet_qp *qp = to_uet_qp_ex(ibqpx);
	struct uet_send_wqe *wqe = uet_wr_cur(qp);

	if (!wqe)
		return;
	if (!ah) {
		uet_wr_fail(qp, EINVAL);
		return;
	}
	uet_wqe_set_ud(wqe, ah, remote_qpn, remote_qkey);
}

static void uet_wr_set_sge_list(struct ibv_qp_ex *ibqpx, size_t num_sge,
				const struct ibv_sge *sg_list)
{
	struct uet_qp *qp = to_uet_qp_ex(ibqpx);
	struct uet_send_wqe *wqe = uet_wr_cur(qp);

	if (!wqe)
		return;
	/* An atomic write's payload is its value, already in the WQE. */
	if (num_sge > qp->sq.max_sge || wqe->opcode == IBV_WR_ATOMIC_WRITE) {
		uet_wr_fail(qp, EINVAL);
		return;
	}
	uet_wqe_set_sges(wqe, sg_list, num_sge);
}

static void uet_wr_set_sge(struct ibv_qp_ex *ibqpx, uint32_t lkey,
			   uint64_t addr, uint32_t length)
{
	const struct ibv_sge sge = {
		.addr = addr,
		.length = length,
		.lkey = lkey,
	};

	uet_wr_set_sge_list(ibqpx, 1, &sge);
}

static void uet_wr_set_inline_data_list(struct ibv_qp_ex *ibqpx,
					size_t num_buf,
					const struct ibv_data_buf *buf_list)
{
	struct uet_qp *qp = to_uet_qp_ex(ibqpx);
	struct uet_send_wqe *wqe = uet_wr_cur(qp);
	size_t i;

	if (!wqe)
		return;
	if (!uet_opcode_inline_ok(wqe->opcode)) {
		uet_wr_fail(qp, EINVAL);
		return;
	}
	uet_wqe_start_inline(wqe);
	for (i = 0; i < num_buf; i++) {
		if (uet_wqe_add_inline(qp, wqe, buf_list[i].addr,
				       buf_list[i].length)) {
			uet_wr_fail(qp, EINVAL);
			return;
		}
	}
}

static void uet_wr_set_inline_data(struct ibv_qp_ex *ibqpx, void *addr,
				   size_t length)
{
	const struct ibv_data_buf buf = {
		.addr = addr,
		.length = length,
	};

	uet_wr_set_inline_data_list(ibqpx, 1, &buf);
}

/* Only the opcodes asked for in send_ops_flags get a wr_<op>(). */
void uet_qp_ex_init(struct uet_qp *qp, uint64_t send_ops)
{
	struct ibv_qp_ex *ibqpx = &qp->vqp.qp_ex;

	qp->vqp.comp_mask |= VERBS_QP_EX;
	ibqpx->wr_start = uet_wr_start;
	ibqpx->wr_complete = uet_wr_complete;
	ibqpx->wr_abort = uet_wr_abort;
	if (send_ops & IBV_QP_EX_WITH_SEND)
		ibqpx->wr_send = uet_wr_send;
	if (send_ops & IBV_QP_EX_WITH_SEND_WITH_IMM)
		ibqpx->wr_send_imm = uet_wr_send_imm;
	if (send_ops & IBV_QP_EX_WITH_RDMA_WRITE)
		ibqpx->wr_rdma_write = uet_wr_rdma_write;
	if (send_ops & IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM)
		ibqpx->wr_rdma_write_imm = uet_wr_rdma_write_imm;
	if (send_ops & IBV_QP_EX_WITH_RDMA_READ)
		ibqpx->wr_rdma_read = uet_wr_rdma_read;
	if (send_ops & IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP)
		ibqpx->wr_atomic_cmp_swp = uet_wr_atomic_cmp_swp;
	if (send_ops & IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD)
		ibqpx->wr_atomic_fetch_add = uet_wr_atomic_fetch_add;
	if (send_ops & IBV_QP_EX_WITH_ATOMIC_WRITE)
		ibqpx->wr_atomic_write = uet_wr_atomic_write;
	if (qp->vqp.qp.qp_type == IBV_QPT_UD)
		ibqpx->wr_set_ud_addr = uet_wr_set_ud_addr;
	ibqpx->wr_set_sge = uet_wr_set_sge;
	ibqpx->wr_set_sge_list = uet_wr_set_sge_list;
	ibqpx->wr_set_inline_data = uet_wr_set_inline_data;
	ibqpx->wr_set_inline_data_list = uet_wr_set_inline_data_list;
}
