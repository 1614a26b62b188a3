// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Completion queues: a ring of struct uet_cqe the kernel produces into
 * and user space consumes from without a system call.
 */
#include <linux/log2.h>
#include <rdma/uverbs_ioctl.h>

#include "uet_pds.h"

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
	cq->producer = 0;
	cq->overflow = false;
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

static void uet_cq_event(struct uet_cq *cq, enum ib_event_type type)
{
	struct ib_event ev = {
		.device = cq->ibcq.device,
		.element.cq = &cq->ibcq,
		.event = type,
	};

	if (cq->ibcq.event_handler)
		cq->ibcq.event_handler(&ev, cq->ibcq.cq_context);
}

/**
 * uet_cq_post - produce one completion into a CQ ring
 * @cq: the CQ
 * @cqe: the completion
 * @solicited: it completes a solicited event
 *
 * Raises the completion event when the consumer armed the CQ for it, and
 * disarms.  A full ring drops the completion and raises IB_EVENT_CQ_ERR
 * once: the CQ is then unusable, as on hardware.
 *
 * Context: any; takes cq->lock with interrupts disabled.
 * Return: 0, or -ENOSPC on overflow.
 */
int uet_cq_post(struct uet_cq *cq, const struct uet_cqe *cqe, bool solicited)
{
	struct uet_queue_hdr *hdr;
	unsigned long flags;
	bool fire = false;
	u32 consumer, notify;

	spin_lock_irqsave(&cq->lock, flags);
	hdr = cq->queue.hdr;
	/* The slots up to consumer are free only once it is read. */
	consumer = smp_load_acquire(&hdr->consumer);
	if (cq->producer - consumer >= cq->queue.entries) {
		bool first = !cq->overflow;

		cq->overflow = true;
		WRITE_ONCE(hdr->flags, READ_ONCE(hdr->flags) |
				       UET_QUEUE_OVERFLOW);
		spin_unlock_irqrestore(&cq->lock, flags);
		if (first) {
			ibdev_dbg(cq->ibcq.device, "cq %u: overflow\n",
				  cq->ibcq.res.id);
			uet_cq_event(cq, IB_EVENT_CQ_ERR);
		}
		return -ENOSPC;
	}
	memcpy(uet_queue_slot(&cq->queue, cq->producer), cqe, sizeof(*cqe));
	cq->producer++;
	/* The CQE is visible before the index that publishes it. */
	smp_store_release(&hdr->producer, cq->producer);

	/*
	 * Pairs with the barrier after the consumer arms: either it sees
	 * this CQE when it polls after arming, or we see it armed.
	 */
	smp_mb();
	notify = READ_ONCE(hdr->cq_notify);
	if (notify == UET_CQ_NOTIFY_ANY ||
	    (notify == UET_CQ_NOTIFY_SOLICITED && solicited))
		fire = cmpxchg(&hdr->cq_notify, notify,
			       UET_CQ_NOTIFY_NONE) == notify;
	spin_unlock_irqrestore(&cq->lock, flags);

	if (fire && cq->ibcq.comp_handler)
		cq->ibcq.comp_handler(&cq->ibcq, cq->ibcq.cq_context);
	return 0;
}

/*
 * The ring is mapped by the process, so resizing is replacing it: the
 * unpolled completions move to the start of a new ring, which the
 * provider maps in place of the old one while it holds its CQ lock.
 */
int uet_resize_cq(struct ib_cq *ibcq, int cqe, struct ib_udata *udata)
{
	struct uet_resize_cq_resp resp = {};
	struct ib_device *ibdev = ibcq->device;
	struct uet_cq *cq = to_uet_cq(ibcq);
	struct uet_ucontext *uctx;
	struct uet_resize_cq_cmd cmd;
	struct uet_queue old, new;
	unsigned long flags;
	u32 consumer, n, i;
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
	if (cmd.comp_mask)
		return -EOPNOTSUPP;
	if (cqe < 1 || cqe > UET_MAX_CQE) {
		ibdev_dbg(ibdev, "resize_cq: %d entries asked, max %u\n",
			  cqe, UET_MAX_CQE);
		return -EINVAL;
	}

	/*
	 * Let the send engine finish what was posted, so completions it
	 * owes for sent datagrams are counted among the unpolled ones.
	 */
	uet_tx_kick(uctx);
	flush_work(&uctx->tx_work);

	err = uet_queue_init(&uctx->ibucontext, &new, roundup_pow_of_two(cqe),
			     sizeof(struct uet_cqe));
	if (err)
		return err;
	resp.num_entries = new.entries;
	resp.mmap_offset = uet_queue_mmap_offset(&new);
	resp.mmap_size = uet_queue_size(&new);
	err = ib_copy_to_udata(udata, &resp, min(sizeof(resp), udata->outlen));
	if (err)
		goto err_fini;

	spin_lock_irqsave(&cq->lock, flags);
	/* Pairs with the consumer's release after it read its CQEs. */
	consumer = smp_load_acquire(&cq->queue.hdr->consumer);
	n = cq->producer - consumer;
	if (n > cq->queue.entries || n > new.entries) {
		spin_unlock_irqrestore(&cq->lock, flags);
		ibdev_dbg(ibdev, "resize_cq: %u unpolled CQEs, %u asked\n",
			  n, cqe);
		err = -EINVAL;
		goto err_fini;
	}
	for (i = 0; i < n; i++)
		memcpy(uet_queue_slot(&new, i),
		       uet_queue_slot(&cq->queue, consumer + i),
		       sizeof(struct uet_cqe));
	new.hdr->producer = n;
	new.hdr->cq_notify = READ_ONCE(cq->queue.hdr->cq_notify);
	new.hdr->flags = READ_ONCE(cq->queue.hdr->flags);
	old = cq->queue;
	cq->queue = new;
	cq->producer = n;
	ibcq->cqe = new.entries;
	spin_unlock_irqrestore(&cq->lock, flags);

	uet_queue_fini(&old);
	return 0;

err_fini:
	uet_queue_fini(&new);
	return err;
}
