// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * uet provider fast path: completions are read straight from the mapped
 * CQ ring, and arming the CQ is a store into its header.  No system call.
 */
#include "uet.h"

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
	wc->wc_flags = 0;
	if (cqe->flags & UET_CQE_GRH)
		wc->wc_flags |= IBV_WC_GRH;
	if (cqe->flags & UET_CQE_WITH_IMM)
		wc->wc_flags |= IBV_WC_WITH_IMM;
	if (cqe->flags & UET_CQE_WITH_INV)
		wc->wc_flags |= IBV_WC_WITH_INV;
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

int uet_req_notify_cq(struct ibv_cq *ibcq, int solicited_only)
{
	struct uet_cq *cq = to_uet_cq(ibcq);

	uet_store_release(&cq->queue.hdr->cq_notify,
			  solicited_only ? UET_CQ_NOTIFY_SOLICITED :
					   UET_CQ_NOTIFY_ANY);
	return 0;
}
