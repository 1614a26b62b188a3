// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Shared receive queues: a ring of receive WQEs the process posts into
 * and the receive path of every QP attached to it consumes.
 */
#include <linux/log2.h>
#include <rdma/uverbs_ioctl.h>

#include "uet.h"

int uet_create_srq(struct ib_srq *ibsrq, struct ib_srq_init_attr *init,
		   struct ib_udata *udata)
{
	struct uet_dev *udev = to_uet_dev(ibsrq->device);
	struct uet_create_srq_resp resp = {};
	struct ib_srq_attr *attr = &init->attr;
	struct uet_srq *srq = to_uet_srq(ibsrq);
	struct ib_device *ibdev = ibsrq->device;
	struct uet_create_srq_cmd cmd;
	struct uet_ucontext *uctx;
	int err;

	uctx = rdma_udata_to_drv_context(udata, struct uet_ucontext,
					 ibucontext);
	if (!uctx)
		return -EOPNOTSUPP;
	err = uet_udata_get_cmd(udata, &cmd, sizeof(cmd));
	if (err)
		return err;
	if (cmd.reserved_20)
		return -EINVAL;
	if (cmd.comp_mask || init->srq_type != IB_SRQT_BASIC) {
		ibdev_dbg(ibdev, "create_srq: unsupported comp_mask %#x type %d\n",
			  cmd.comp_mask, init->srq_type);
		return -EOPNOTSUPP;
	}
	if (attr->max_wr < 1 || attr->max_wr > UET_MAX_SRQ_WR ||
	    attr->max_sge > UET_MAX_SGE || attr->srq_limit > attr->max_wr) {
		ibdev_dbg(ibdev, "create_srq: %u WRs, %u SGEs, limit %u refused\n",
			  attr->max_wr, attr->max_sge, attr->srq_limit);
		return -EINVAL;
	}
	if (atomic_inc_return(&udev->num_srqs) > UET_MAX_SRQ) {
		ibdev_dbg(ibdev, "create_srq: max_srq reached\n");
		err = -ENOMEM;
		goto err_uncount;
	}

	mutex_init(&srq->lock);
	spin_lock_init(&srq->rq.lock);
	srq->rq.consumer = 0;
	srq->rq.max_sge = attr->max_sge;
	srq->limit = attr->srq_limit;
	err = uet_queue_init(&uctx->ibucontext, &srq->rq.queue,
			     roundup_pow_of_two(attr->max_wr),
			     sizeof(struct uet_recv_wqe));
	if (err)
		goto err_uncount;
	attr->max_wr = srq->rq.queue.entries;

	resp.num_entries = srq->rq.queue.entries;
	resp.mmap_offset = uet_queue_mmap_offset(&srq->rq.queue);
	resp.mmap_size = uet_queue_size(&srq->rq.queue);
	err = ib_copy_to_udata(udata, &resp, min(sizeof(resp), udata->outlen));
	if (err)
		goto err_fini;
	return 0;

err_fini:
	uet_queue_fini(&srq->rq.queue);
err_uncount:
	atomic_dec(&udev->num_srqs);
	return err;
}

int uet_modify_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr,
		   enum ib_srq_attr_mask mask, struct ib_udata *udata)
{
	struct uet_srq *srq = to_uet_srq(ibsrq);
	struct ib_device *ibdev = ibsrq->device;
	int err = 0;

	if (!uet_udata_in_cleared(udata)) {
		ibdev_dbg(ibdev, "modify_srq: unknown udata input\n");
		return -EINVAL;
	}
	if (mask & ~(IB_SRQ_MAX_WR | IB_SRQ_LIMIT))
		return -EINVAL;
	/* The ring is mapped by the process at the size it was created. */
	if (mask & IB_SRQ_MAX_WR) {
		ibdev_dbg(ibdev, "modify_srq: resize not supported\n");
		return -EOPNOTSUPP;
	}

	mutex_lock(&srq->lock);
	if (mask & IB_SRQ_LIMIT) {
		if (attr->srq_limit > srq->rq.queue.entries)
			err = -EINVAL;
		else
			WRITE_ONCE(srq->limit, attr->srq_limit);
	}
	mutex_unlock(&srq->lock);
	return err;
}

int uet_query_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr)
{
	struct uet_srq *srq = to_uet_srq(ibsrq);

	mutex_lock(&srq->lock);
	attr->max_wr = srq->rq.queue.entries;
	attr->max_sge = srq->rq.max_sge;
	attr->srq_limit = READ_ONCE(srq->limit);
	mutex_unlock(&srq->lock);
	return 0;
}

int uet_destroy_srq(struct ib_srq *ibsrq, struct ib_udata *udata)
{
	struct uet_srq *srq = to_uet_srq(ibsrq);

	uet_queue_fini(&srq->rq.queue);
	atomic_dec(&to_uet_dev(ibsrq->device)->num_srqs);
	return 0;
}
