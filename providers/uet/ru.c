// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * uetdv reliable-unconnected (RU) queue pairs: creation on a job key,
 * address handles that name a peer's endpoint, the per-WR destination
 * and job key setters, and the UET fields of completions.
 */
#include <errno.h>
#include <stdlib.h>

#include "uet.h"
#include "uet-abi.h"

enum {
	UETDV_QP_INIT_ATTR_MASK = UETDV_QP_INIT_ATTR_FLAGS,
	UET_RU_INIT_ATTR_MASK = IBV_QP_INIT_ATTR_PD |
				IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
};

struct ibv_qp *uetdv_create_qp(struct ibv_context *ibctx,
			       struct ibv_qp_init_attr_ex *attr,
			       struct uetdv_qp_init_attr *uattr)
{
	struct uet_create_qp_cmd drv = {
		.comp_mask = UET_CREATE_QP_RU,
	};
	struct ibv_qp *ibqp;

	if (!uet_is_context(ibctx)) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	if (!check_comp_mask(uattr->comp_mask, UETDV_QP_INIT_ATTR_MASK) ||
	    !check_comp_mask(attr->comp_mask, UET_RU_INIT_ATTR_MASK)) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	if (attr->qp_type != IBV_QPT_DRIVER || !uattr->job_key ||
	    !(attr->comp_mask & IBV_QP_INIT_ATTR_PD) ||
	    uattr->job_key->pd->context != ibctx ||
	    (uattr->comp_mask & UETDV_QP_INIT_ATTR_FLAGS &&
	     uattr->flags & ~UETDV_QP_ORDERED)) {
		errno = EINVAL;
		return NULL;
	}
	if (attr->comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS &&
	    !uet_send_ops_supported(ibctx, IBV_QPT_DRIVER,
				    attr->send_ops_flags)) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	drv.ru_jkey = uattr->job_key->jkey;
	if (uattr->comp_mask & UETDV_QP_INIT_ATTR_FLAGS &&
	    uattr->flags & UETDV_QP_ORDERED)
		drv.ru_flags = UET_QP_RU_ORDERED;

	ibqp = uet_create_qp_cmd(ibctx, attr, &drv);
	/* The kernel made it in RTS: libibverbs does not know that. */
	if (ibqp)
		ibqp->state = IBV_QPS_RTS;
	return ibqp;
}

struct ibv_ah *uetdv_create_ah_ex(struct ibv_pd *pd,
				  struct uetdv_ah_attr_ex *attr)
{
	struct ibv_ah *ibah;

	if (!uet_is_context(pd->context)) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	if (attr->remote_qpn > 0xffffff) {
		errno = EINVAL;
		return NULL;
	}
	ibah = uet_create_ah(pd, &attr->ah_attr);
	if (ibah)
		to_uet_ah(ibah)->remote_qpn = attr->remote_qpn;
	return ibah;
}

static struct uet_qp *to_uet_qp_dv(struct uetdv_qp_ex *uqp)
{
	return container_of(uqp, struct uet_qp, dv);
}

static void uet_wr_set_ru_addr(struct uetdv_qp_ex *uqp, struct ibv_ah *ah,
			       unsigned int addr_idx)
{
	struct uet_qp *qp = to_uet_qp_dv(uqp);
	struct uet_send_wqe *wqe = uet_wr_cur(qp);

	if (!wqe)
		return;
	if (ah) {
		wqe->wr.ru.dest = to_uet_ah(ah)->ah_id;
		wqe->wr.ru.remote_qpn = to_uet_ah(ah)->remote_qpn;
		wqe->wr.ru.flags = 0;
	} else {
		wqe->wr.ru.dest = addr_idx;
		wqe->wr.ru.remote_qpn = 0;
		wqe->wr.ru.flags = UET_WQE_RU_ADDR_IDX;
	}
}

static void uet_wr_set_job_key(struct uetdv_qp_ex *uqp, uint32_t jkey)
{
	struct uet_send_wqe *wqe = uet_wr_cur(to_uet_qp_dv(uqp));

	if (wqe)
		wqe->wr.ru.jkey = jkey;
}

struct uetdv_qp_ex *uetdv_qp_ex_from_ibv_qp_ex(struct ibv_qp_ex *ibqpx)
{
	struct uet_qp *qp = to_uet_qp_ex(ibqpx);

	if (!uet_is_context(ibqpx->qp_base.context) ||
	    ibqpx->qp_base.qp_type != IBV_QPT_DRIVER) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	qp->dv.wr_set_ru_addr = uet_wr_set_ru_addr;
	qp->dv.wr_set_job_key = uet_wr_set_job_key;
	return &qp->dv;
}

uint32_t uetdv_wc_read_job_id(struct ibv_cq_ex *ibcq)
{
	return to_uet_cq_ex(ibcq)->cur->job_id;
}

uint32_t uetdv_wc_read_src_id(struct ibv_cq_ex *ibcq)
{
	return to_uet_cq_ex(ibcq)->cur->src_qp;
}
