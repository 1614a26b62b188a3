// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * uet provider control path for shared receive queues: basic SRQs on a
 * mapped ring of receive WQEs.
 */
#include <stdlib.h>

#include "uet.h"
#include "uet-abi.h"

/* No XRC and no tag matching: a PD and, if given, the basic type. */
enum {
	UET_SRQ_INIT_ATTR_MASK = IBV_SRQ_INIT_ATTR_TYPE | IBV_SRQ_INIT_ATTR_PD,
};

struct ibv_srq *uet_create_srq_ex(struct ibv_context *ibctx,
				  struct ibv_srq_init_attr_ex *attr)
{
	struct uet_cmd_create_srq_resp resp = {};
	struct uet_cmd_create_srq cmd = {};
	struct uet_srq *srq;
	int err;

	if (!check_comp_mask(attr->comp_mask, UET_SRQ_INIT_ATTR_MASK) ||
	    (attr->comp_mask & IBV_SRQ_INIT_ATTR_TYPE &&
	     attr->srq_type != IBV_SRQT_BASIC)) {
		errno = EOPNOTSUPP;
		return NULL;
	}

	srq = calloc(1, sizeof(*srq));
	if (!srq)
		return NULL;
	err = ibv_cmd_create_srq_ex(ibctx, &srq->vsrq, attr, &cmd.ibv_cmd,
				    sizeof(cmd), &resp.ibv_resp, sizeof(resp));
	if (err)
		goto err_free;

	err = uet_wq_init(ibctx, &srq->rq, resp.drv_payload.mmap_offset,
			  resp.drv_payload.mmap_size,
			  resp.drv_payload.num_entries,
			  sizeof(struct uet_recv_wqe), attr->attr.max_sge);
	if (err)
		goto err_destroy;
	srq->vsrq.srq.srq_context = attr->srq_context;
	return &srq->vsrq.srq;

err_destroy:
	ibv_cmd_destroy_srq(&srq->vsrq.srq);
err_free:
	free(srq);
	errno = err;
	return NULL;
}

struct ibv_srq *uet_create_srq(struct ibv_pd *pd,
			       struct ibv_srq_init_attr *attr)
{
	struct ibv_srq_init_attr_ex attr_ex = {
		.srq_context = attr->srq_context,
		.attr = attr->attr,
		.comp_mask = IBV_SRQ_INIT_ATTR_PD,
		.pd = pd,
	};
	struct ibv_srq *ibsrq;

	ibsrq = uet_create_srq_ex(pd->context, &attr_ex);
	if (ibsrq)
		attr->attr = attr_ex.attr;
	return ibsrq;
}

int uet_modify_srq(struct ibv_srq *ibsrq, struct ibv_srq_attr *attr,
		   int attr_mask)
{
	struct ibv_modify_srq cmd;

	/* A resized SRQ would need a new ring, and no response maps one. */
	if (attr_mask & IBV_SRQ_MAX_WR)
		return EOPNOTSUPP;
	return ibv_cmd_modify_srq(ibsrq, attr, attr_mask, &cmd, sizeof(cmd));
}

int uet_query_srq(struct ibv_srq *ibsrq, struct ibv_srq_attr *attr)
{
	struct ibv_query_srq cmd;

	return ibv_cmd_query_srq(ibsrq, attr, &cmd, sizeof(cmd));
}

int uet_destroy_srq(struct ibv_srq *ibsrq)
{
	struct uet_srq *srq = to_uet_srq(ibsrq);
	int err;

	err = ibv_cmd_destroy_srq(ibsrq);
	if (err)
		return err;
	uet_wq_fini(&srq->rq);
	free(srq);
	return 0;
}
