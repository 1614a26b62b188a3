// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * uet provider control path for queue pairs: RC, UC and UD QPs, with or
 * without an SRQ, their SQ and RQ rings, modify, query and destroy.
 */
#include <stdlib.h>

#include "uet.h"
#include "uet-abi.h"

/* Create flags are left to the kernel to judge. */
enum {
	UET_QP_INIT_ATTR_MASK = IBV_QP_INIT_ATTR_PD |
				IBV_QP_INIT_ATTR_CREATE_FLAGS |
				IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
};

static int uet_qp_validate(struct ibv_context *ibctx,
			   const struct ibv_qp_init_attr_ex *attr)
{
	if (!check_comp_mask(attr->comp_mask, UET_QP_INIT_ATTR_MASK))
		return EOPNOTSUPP;
	if (attr->qp_type != IBV_QPT_RC && attr->qp_type != IBV_QPT_UC &&
	    attr->qp_type != IBV_QPT_UD)
		return EOPNOTSUPP;
	if (attr->comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS &&
	    !uet_send_ops_supported(ibctx, attr->qp_type,
				    attr->send_ops_flags))
		return EOPNOTSUPP;
	return 0;
}

/*
 * Map the rings the kernel made; what a WQE may hold is the caps it
 * returned in @attr, as long as a WQE can hold it.  A QP on an SRQ has
 * no RQ.
 */
static int uet_qp_map(struct ibv_context *ibctx, struct uet_qp *qp,
		      const struct ibv_qp_init_attr_ex *attr,
		      const struct uet_create_qp_resp *resp)
{
	int err;

	if (attr->cap.max_inline_data > UET_WQE_MAX_INLINE)
		return EINVAL;
	qp->max_inline = attr->cap.max_inline_data;

	err = uet_wq_init(ibctx, &qp->sq, resp->sq_mmap_offset,
			  resp->sq_mmap_size, resp->sq_entries,
			  sizeof(struct uet_send_wqe), attr->cap.max_send_sge);
	if (err)
		return err;
	if (attr->srq)
		return 0;
	err = uet_wq_init(ibctx, &qp->rq, resp->rq_mmap_offset,
			  resp->rq_mmap_size, resp->rq_entries,
			  sizeof(struct uet_recv_wqe), attr->cap.max_recv_sge);
	if (err)
		uet_wq_fini(&qp->sq);
	return err;
}

static void uet_qp_unmap(struct uet_qp *qp)
{
	if (!qp->vqp.qp.srq)
		uet_wq_fini(&qp->rq);
	uet_wq_fini(&qp->sq);
}

/* Create a QP with the driver command @drv: any type but an RU one's. */
struct ibv_qp *uet_create_qp_cmd(struct ibv_context *ibctx,
				 struct ibv_qp_init_attr_ex *attr,
				 const struct uet_create_qp_cmd *drv)
{
	struct uet_cmd_create_qp_resp resp = {};
	struct uet_cmd_create_qp cmd = {};
	struct uet_pd *parent_domain;
	struct uet_qp *qp;
	int err;

	cmd.drv_payload = *drv;
	qp = calloc(1, sizeof(*qp));
	if (!qp)
		return NULL;
	err = ibv_cmd_create_qp_ex2(ibctx, &qp->vqp, attr, &cmd.ibv_cmd,
				    sizeof(cmd), &resp.ibv_resp, sizeof(resp));
	if (err)
		goto err_free;

	err = uet_qp_map(ibctx, qp, attr, &resp.drv_payload);
	if (err)
		goto err_destroy;
	if (attr->comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS)
		uet_qp_ex_init(qp, attr->send_ops_flags);
	parent_domain = to_uet_parent_domain(qp->vqp.qp.pd);
	if (parent_domain)
		atomic_fetch_add(&parent_domain->refcount, 1);
	return &qp->vqp.qp;

err_destroy:
	ibv_cmd_destroy_qp(&qp->vqp.qp);
err_free:
	free(qp);
	errno = err;
	return NULL;
}

struct ibv_qp *uet_create_qp_ex(struct ibv_context *ibctx,
				struct ibv_qp_init_attr_ex *attr)
{
	const struct uet_create_qp_cmd drv = {};
	int err;

	err = uet_qp_validate(ibctx, attr);
	if (err) {
		errno = err;
		return NULL;
	}
	return uet_create_qp_cmd(ibctx, attr, &drv);
}

struct ibv_qp *uet_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *attr)
{
	struct ibv_qp_init_attr_ex attr_ex = {
		.qp_context = attr->qp_context,
		.send_cq = attr->send_cq,
		.recv_cq = attr->recv_cq,
		.srq = attr->srq,
		.cap = attr->cap,
		.qp_type = attr->qp_type,
		.sq_sig_all = attr->sq_sig_all,
		.comp_mask = IBV_QP_INIT_ATTR_PD,
		.pd = pd,
	};
	struct ibv_qp *ibqp;

	ibqp = uet_create_qp_ex(pd->context, &attr_ex);
	if (ibqp)
		attr->cap = attr_ex.cap;
	return ibqp;
}

static void uet_wq_reset(struct uet_wq *wq)
{
	pthread_spin_lock(&wq->lock);
	wq->producer = 0;
	pthread_spin_unlock(&wq->lock);
}

int uet_modify_qp(struct ibv_qp *ibqp, struct ibv_qp_attr *attr,
		  int attr_mask)
{
	struct uet_qp *qp = to_uet_qp(ibqp);
	struct ibv_modify_qp cmd = {};
	int err;

	err = ibv_cmd_modify_qp(ibqp, attr, attr_mask, &cmd, sizeof(cmd));
	if (err)
		return err;

	/*
	 * In RESET the kernel zeroed both indices of our rings and
	 * discarded their work; what it completed goes too.
	 */
	if (attr_mask & IBV_QP_STATE && attr->qp_state == IBV_QPS_RESET) {
		uet_wq_reset(&qp->sq);
		if (!ibqp->srq)
			uet_wq_reset(&qp->rq);
		uet_cq_clean(to_uet_cq(ibqp->send_cq), ibqp->qp_num);
		if (ibqp->recv_cq != ibqp->send_cq)
			uet_cq_clean(to_uet_cq(ibqp->recv_cq), ibqp->qp_num);
	}
	return 0;
}

int uet_query_qp(struct ibv_qp *ibqp, struct ibv_qp_attr *attr, int attr_mask,
		 struct ibv_qp_init_attr *init_attr)
{
	struct ibv_query_qp cmd;

	return ibv_cmd_query_qp(ibqp, attr, attr_mask, init_attr, &cmd,
				sizeof(cmd));
}

int uet_destroy_qp(struct ibv_qp *ibqp)
{
	struct uet_pd *parent_domain = to_uet_parent_domain(ibqp->pd);
	struct uet_qp *qp = to_uet_qp(ibqp);
	int err;

	err = ibv_cmd_destroy_qp(ibqp);
	if (err)
		return err;
	uet_qp_unmap(qp);
	if (parent_domain)
		atomic_fetch_sub(&parent_domain->refcount, 1);
	free(qp);
	return 0;
}
