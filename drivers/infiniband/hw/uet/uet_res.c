// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Driver attributes of resources for "rdma res show ... -dd": the UET
 * identity and transport state of a QP, the use of a CQ's ring.
 */
#include <rdma/restrack.h>
#include <uapi/rdma/rdma_netlink.h>

#include "uet_pds.h"

/* What a QP's PDC says, copied under its lock. */
struct uet_res_pdc {
	bool valid;
	u16 lpdcid;
	u16 rpdcid;
	u32 next_psn;
	u32 cack;
	u32 state;
};

/* Under sq.lock, which the engine holds to change qp->pdc. */
static void uet_res_pdc_read(struct uet_qp *qp, struct uet_res_pdc *r)
{
	struct uet_pdc *pdc = qp->pdc;

	if (!pdc)
		return;
	spin_lock(&pdc->lock);
	r->valid = true;
	r->lpdcid = pdc->lpdcid;
	r->rpdcid = pdc->rpdcid;
	r->next_psn = pdc->next_psn;
	r->cack = pdc->cack;
	r->state = pdc->state;
	spin_unlock(&pdc->lock);
}

static const char *const uet_pdc_state_names[] = {
	[UET_PDC_SYN] = "syn",
	[UET_PDC_ESTABLISHED] = "established",
	[UET_PDC_CLOSING] = "closing",
	[UET_PDC_CLOSED] = "closed",
	[UET_PDC_ERROR] = "error",
};

/*
 * A QP: its job and its number as the wire carries it (resource index,
 * PIDonFEP), its send queue indices, and the PDC an RC or UC QP sends
 * on: both ends' PDC ids, the next PSN and the cumulatively acknowledged
 * one.
 */
int uet_fill_res_qp_entry(struct sk_buff *msg, struct ib_qp *ibqp)
{
	struct uet_qp *qp = to_uet_qp(ibqp);
	struct uet_res_pdc pdc = {};
	u32 consumer, fetch, send;
	struct nlattr *table;

	spin_lock_bh(&qp->sq.lock);
	consumer = qp->sq.consumer;
	fetch = qp->sq_fetch;
	send = qp->sq_send;
	uet_res_pdc_read(qp, &pdc);
	spin_unlock_bh(&qp->sq.lock);

	table = nla_nest_start(msg, RDMA_NLDEV_ATTR_DRIVER);
	if (!table)
		return -EMSGSIZE;
	if (rdma_nl_put_driver_u32(msg, "job", qp->job_id) ||
	    rdma_nl_put_driver_u32(msg, "ri", ibqp->qp_num >> 12) ||
	    rdma_nl_put_driver_u32(msg, "pid_on_fep",
				   ibqp->qp_num & UET_SES_PID) ||
	    rdma_nl_put_driver_u32(msg, "sq_depth", qp->sq.queue.entries) ||
	    rdma_nl_put_driver_u32(msg, "sq_fetched", fetch - consumer) ||
	    rdma_nl_put_driver_u32(msg, "sq_sent", send - consumer))
		goto err;
	if (pdc.valid &&
	    (rdma_nl_put_driver_u32(msg, "pdc", pdc.lpdcid) ||
	     rdma_nl_put_driver_u32(msg, "peer_pdc", pdc.rpdcid) ||
	     rdma_nl_put_driver_string(msg, "pdc_state",
				       uet_pdc_state_names[pdc.state]) ||
	     rdma_nl_put_driver_u32_hex(msg, "next_psn", pdc.next_psn) ||
	     rdma_nl_put_driver_u32_hex(msg, "acked_psn", pdc.cack)))
		goto err;
	nla_nest_end(msg, table);
	return 0;

err:
	nla_nest_cancel(msg, table);
	return -EMSGSIZE;
}

/* A CQ: its ring's depth and how many completions wait in it. */
int uet_fill_res_cq_entry(struct sk_buff *msg, struct ib_cq *ibcq)
{
	struct uet_cq *cq = to_uet_cq(ibcq);
	struct nlattr *table;
	unsigned long flags;
	u32 depth, used;
	bool overflow;

	spin_lock_irqsave(&cq->lock, flags);
	depth = cq->queue.entries;
	/* The consumer is the process's: never trust it beyond the ring. */
	used = min(cq->producer - READ_ONCE(cq->queue.hdr->consumer), depth);
	overflow = cq->overflow;
	spin_unlock_irqrestore(&cq->lock, flags);

	table = nla_nest_start(msg, RDMA_NLDEV_ATTR_DRIVER);
	if (!table)
		return -EMSGSIZE;
	if (rdma_nl_put_driver_u32(msg, "cq_depth", depth) ||
	    rdma_nl_put_driver_u32(msg, "cq_used", used) ||
	    rdma_nl_put_driver_u32(msg, "cq_overflow", overflow)) {
		nla_nest_cancel(msg, table);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, table);
	return 0;
}
