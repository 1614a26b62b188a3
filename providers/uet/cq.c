// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * uet provider fast path: completions are read straight from the mapped
 * CQ ring, through ibv_poll_cq() or the ibv_cq_ex polling API, and
 * arming the CQ is a store into its header.  No system call.
 */
#include <string.h>

#include "uet.h"

static unsigned int uet_cqe_wc_flags(const struct uet_cqe *cqe)
{
	unsigned int flags = 0;

	if (cqe->flags & UET_CQE_GRH)
		flags |= IBV_WC_GRH;
	if (cqe->flags & UET_CQE_WITH_IMM)
		flags |= IBV_WC_WITH_IMM;
	if (cqe->flags & UET_CQE_WITH_INV)
		flags |= IBV_WC_WITH_INV;
	return flags;
}

static void uet_cqe_to_wc(const struct uet_cqe *cqe, struct ibv_wc *wc)
{
	wc->wr_id = cqe->wr_id;
	wc->status = cqe->status;
	wc->opcode = cqe->opcode;
	wc->vendor_err = cqe->vendor_err;
	wc->byte_len = cqe->byte_len;
	wc->imm_data = cqe->imm_data;
	wc->qp_num = cqe->qp_num;
	wc->src_qp = cqe->src_qp;
	wc->wc_flags = uet_cqe_wc_flags(cqe);
	wc->pkey_index = cqe->pkey_index;
	wc->slid = 0;
	wc->sl = cqe->sl;
	wc->dlid_path_bits = 0;
}

int uet_poll_cq(struct ibv_cq *ibcq, int ne, struct ibv_wc *wc)
{
	struct uet_cq *cq = to_uet_cq(ibcq);
	struct uet_queue *q = &cq->queue;
	uint32_t producer;
	int n;

	pthread_spin_lock(&cq->lock);
	producer = uet_load_acquire(&q->hdr->producer);
	for (n = 0; n < ne && cq->consumer != producer; n++, cq->consumer++)
		uet_cqe_to_wc(uet_queue_slot(q, cq->consumer,
					     sizeof(struct uet_cqe)), &wc[n]);
	if (n)
		uet_store_release(&q->hdr->consumer, cq->consumer);
	pthread_spin_unlock(&cq->lock);
	return n;
}

/*
 * Drop the unpolled CQEs of QP @qpn, as mlx5 does when a QP is reset:
 * they report work the reset discarded, and would otherwise be the
 * first completions seen once the QP runs again.  Only the slots from
 * the consumer up to the producer are ours (the kernel writes beyond
 * them), so the survivors move towards the producer and the consumer
 * skips the slots left behind.
 */
void uet_cq_clean(struct uet_cq *cq, uint32_t qpn)
{
	struct uet_queue *q = &cq->queue;
	uint32_t idx, unpolled, dropped = 0;
	struct uet_cqe *cqe;

	pthread_spin_lock(&cq->lock);
	idx = uet_load_acquire(&q->hdr->producer);
	/* Never walk more than a ring, whatever the kernel wrote there. */
	unpolled = idx - cq->consumer;
	if (unpolled > q->entries)
		unpolled = q->entries;
	for (; unpolled; unpolled--) {
		cqe = uet_queue_slot(q, --idx, sizeof(*cqe));
		if (cqe->qp_num == qpn)
			dropped++;
		else if (dropped)
			memcpy(uet_queue_slot(q, idx + dropped, sizeof(*cqe)),
			       cqe, sizeof(*cqe));
	}
	if (dropped) {
		cq->consumer += dropped;
		uet_store_release(&q->hdr->consumer, cq->consumer);
	}
	pthread_spin_unlock(&cq->lock);
}

int uet_req_notify_cq(struct ibv_cq *ibcq, int solicited_only)
{
	uet_cq_arm(&to_uet_cq(ibcq)->queue,
		   solicited_only ? UET_CQ_NOTIFY_SOLICITED :
				    UET_CQ_NOTIFY_ANY);
	return 0;
}

/*
 * ibv_cq_ex.  start_poll() takes the CQ lock and end_poll() drops it.
 * Each CQE handed out is consumed; the readers read it in the ring,
 * which the kernel reuses only once end_poll() publishes the consumer.
 */
static int uet_cq_ex_next(struct uet_cq *cq)
{
	if (cq->consumer == uet_load_acquire(&cq->queue.hdr->producer))
		return ENOENT;
	cq->cur = uet_queue_slot(&cq->queue, cq->consumer++,
				 sizeof(struct uet_cqe));
	cq->vcq.cq_ex.wr_id = cq->cur->wr_id;
	cq->vcq.cq_ex.status = cq->cur->status;
	return 0;
}

static int uet_start_poll(struct ibv_cq_ex *ibcq, struct ibv_poll_cq_attr *attr)
{
	struct uet_cq *cq = to_uet_cq_ex(ibcq);

	if (attr->comp_mask)
		return EINVAL;
	pthread_spin_lock(&cq->lock);
	if (uet_cq_ex_next(cq)) {
		/* The caller does not call end_poll() after ENOENT. */
		pthread_spin_unlock(&cq->lock);
		return ENOENT;
	}
	return 0;
}

static int uet_next_poll(struct ibv_cq_ex *ibcq)
{
	return uet_cq_ex_next(to_uet_cq_ex(ibcq));
}

static void uet_end_poll(struct ibv_cq_ex *ibcq)
{
	struct uet_cq *cq = to_uet_cq_ex(ibcq);

	uet_store_release(&cq->queue.hdr->consumer, cq->consumer);
	pthread_spin_unlock(&cq->lock);
}

static enum ibv_wc_opcode uet_wc_read_opcode(struct ibv_cq_ex *ibcq)
{
	return to_uet_cq_ex(ibcq)->cur->opcode;
}

static uint32_t uet_wc_read_vendor_err(struct ibv_cq_ex *ibcq)
{
	return to_uet_cq_ex(ibcq)->cur->vendor_err;
}

static uint32_t uet_wc_read_byte_len(struct ibv_cq_ex *ibcq)
{
	return to_uet_cq_ex(ibcq)->cur->byte_len;
}

static __be32 uet_wc_read_imm_data(struct ibv_cq_ex *ibcq)
{
	return to_uet_cq_ex(ibcq)->cur->imm_data;
}

static uint32_t uet_wc_read_qp_num(struct ibv_cq_ex *ibcq)
{
	return to_uet_cq_ex(ibcq)->cur->qp_num;
}

static uint32_t uet_wc_read_src_qp(struct ibv_cq_ex *ibcq)
{
	return to_uet_cq_ex(ibcq)->cur->src_qp;
}

static unsigned int uet_wc_read_wc_flags(struct ibv_cq_ex *ibcq)
{
	return uet_cqe_wc_flags(to_uet_cq_ex(ibcq)->cur);
}

/* No LIDs on Ethernet. */
static uint32_t uet_wc_read_slid(struct ibv_cq_ex *ibcq)
{
	return 0;
}

static uint8_t uet_wc_read_sl(struct ibv_cq_ex *ibcq)
{
	return to_uet_cq_ex(ibcq)->cur->sl;
}

static uint8_t uet_wc_read_dlid_path_bits(struct ibv_cq_ex *ibcq)
{
	return 0;
}

void uet_cq_ex_init(struct uet_cq *cq)
{
	struct ibv_cq_ex *ibcq = &cq->vcq.cq_ex;

	ibcq->start_poll = uet_start_poll;
	ibcq->next_poll = uet_next_poll;
	ibcq->end_poll = uet_end_poll;
	ibcq->read_opcode = uet_wc_read_opcode;
	ibcq->read_vendor_err = uet_wc_read_vendor_err;
	ibcq->read_byte_len = uet_wc_read_byte_len;
	ibcq->read_imm_data = uet_wc_read_imm_data;
	ibcq->read_qp_num = uet_wc_read_qp_num;
	ibcq->read_src_qp = uet_wc_read_src_qp;
	ibcq->read_wc_flags = uet_wc_read_wc_flags;
	ibcq->read_slid = uet_wc_read_slid;
	ibcq->read_sl = uet_wc_read_sl;
	ibcq->read_dlid_path_bits = uet_wc_read_dlid_path_bits;
}
