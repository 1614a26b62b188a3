// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Completion queues: a ring of struct uet_cqe the kernel produces into
 * and user space consumes from without a system call.
 */
#include <linux/log2.h>
#include <rdma/uverbs_ioctl.h>

#include "uet.h"

int uet_create_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
		  struct uverbs_attr_bundle *attrs)
{
	struct uet_dev *udev = to_uet_dev(ibcq->device);
	struct ib_udata *udata = &attrs->driver_udata;
	struct uet_create_cq_resp resp = {};
	struct ib_device *ibdev = ibcq->device;
	struct uet_cq *cq = to_uet_cq(ibcq);
	struct uet_ucontext *uctx;
	struct uet_create_cq_cmd cmd;
	int err;

	BUILD_BUG_ON(sizeof(struct uet_cqe) != 64);
	BUILD_BUG_ON(sizeof(struct uet_queue_hdr) > UET_QUEUE_HDR_SIZE);

	/* User CQs only: uet has no kernel consumers. */
	uctx = rdma_udata_to_drv_context(udata, struct uet_ucontext,
					 ibucontext);
	if (!uctx)
		return -EOPNOTSUPP;
	err = uet_udata_get_cmd(udata, &cmd, sizeof(cmd));
	if (err)
		return err;
	if (cmd.reserved_20)
		return -EINVAL;
	if (cmd.comp_mask || attr->flags) {
		ibdev_dbg(ibdev, "create_cq: unsupported comp_mask %#x flags %#x\n",
			  cmd.comp_mask, attr->flags);
		return -EOPNOTSUPP;
	}
	if (attr->cqe < 1 || attr->cqe > UET_MAX_CQE) {
		ibdev_dbg(ibdev, "create_cq: %u entries asked, max %u\n",
			  attr->cqe, UET_MAX_CQE);
		return -EINVAL;
	}
	if (atomic_inc_return(&udev->num_cqs) > UET_MAX_CQ) {
		ibdev_dbg(ibdev, "create_cq: max_cq reached\n");
		err = -ENOMEM;
		goto err_uncount;
	}

	err = uet_queue_init(&uctx->ibucontext, &cq->queue,
			     roundup_pow_of_two(attr->cqe),
			     sizeof(struct uet_cqe));
	if (err)
		goto err_uncount;
	spin_lock_init(&cq->lock);
	ibcq->cqe = cq->queue.entries;

	resp.num_entries = cq->queue.entries;
	resp.mmap_offset = uet_queue_mmap_offset(&cq->queue);
	resp.mmap_size = uet_queue_size(&cq->queue);
	err = ib_copy_to_udata(udata, &resp, min(sizeof(resp), udata->outlen));
	if (err)
		goto err_fini;
	return 0;

err_fini:
	uet_queue_fini(&cq->queue);
err_uncount:
	atomic_dec(&udev->num_cqs);
	return err;
}

int uet_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata)
{
	struct uet_cq *cq = to_uet_cq(ibcq);

	uet_queue_fini(&cq->queue);
	atomic_dec(&to_uet_dev(ibcq->device)->num_cqs);
	return 0;
}
