// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Queue pairs: RC and UD QPs whose send and receive queues are rings the
 * process writes work requests into (see uet-abi.h), their state machine,
 * and flushing in the error state.
 */
#include <linux/log2.h>
#include <rdma/uverbs_ioctl.h>

#include "uet_pds.h"

/* What the wire carries: PSNs and QPNs are 24 bits. */
#define UET_PSN_MASK		GENMASK(23, 0)
#define UET_MAX_RNR_TIMER	31
#define UET_MAX_ACK_TIMEOUT	31

#define UET_QP_ACCESS_FLAGS	(IB_ACCESS_LOCAL_WRITE | \
				 IB_ACCESS_REMOTE_WRITE | \
				 IB_ACCESS_REMOTE_READ | \
				 IB_ACCESS_REMOTE_ATOMIC)

static void uet_qp_event(struct uet_qp *qp, enum ib_event_type type)
{
	struct ib_event ev = {
		.device = qp->ibqp.device,
		.element.qp = &qp->ibqp,
		.event = type,
	};

	if (qp->ibqp.event_handler)
		qp->ibqp.event_handler(&ev, qp->ibqp.qp_context);
}

/*
 * The caller initialises wq->lock: the SQ's and the RQ's are two lock
 * classes, as the RQ's is taken under the SQ's when the QP fails.
 */
static int uet_wq_init(struct ib_ucontext *uctx, struct uet_wq *wq,
		       u32 max_wr, u32 max_sge, u32 entry_size)
{
	wq->consumer = 0;
	wq->max_sge = max_sge;
	return uet_queue_init(uctx, &wq->queue,
			      roundup_pow_of_two(max(max_wr, 1U)), entry_size);
}

/* Discards whatever was posted: both indices restart at zero. */
static void uet_wq_reset(struct uet_wq *wq)
{
	spin_lock_bh(&wq->lock);
	wq->consumer = 0;
	WRITE_ONCE(wq->queue.hdr->producer, 0);
	WRITE_ONCE(wq->queue.hdr->flags, 0);
	/* Orders the producer reset before the consumer one. */
	smp_store_release(&wq->queue.hdr->consumer, 0);
	spin_unlock_bh(&wq->lock);
}

enum ib_wc_opcode uet_wr_to_wc_opcode(u32 wr_opcode)
{
	switch (wr_opcode) {
	case IB_UVERBS_WR_RDMA_WRITE:
	case IB_UVERBS_WR_RDMA_WRITE_WITH_IMM:
		return IB_WC_RDMA_WRITE;
	case IB_UVERBS_WR_RDMA_READ:
		return IB_WC_RDMA_READ;
	case IB_UVERBS_WR_ATOMIC_CMP_AND_SWP:
		return IB_WC_COMP_SWAP;
	case IB_UVERBS_WR_ATOMIC_FETCH_AND_ADD:
		return IB_WC_FETCH_ADD;
	case IB_UVERBS_WR_ATOMIC_WRITE:
		return IB_WC_ATOMIC_WRITE;
	default:
		return IB_WC_SEND;
	}
}

/*
 * Completes everything posted to the RQ so far with IB_WC_WR_FLUSH_ERR,
 * in order.  The producer index is the process's: anything beyond one
 * ring of work is garbage and is not looked at.
 */
static void uet_rq_flush(struct uet_qp *qp)
{
	struct uet_cq *cq = to_uet_cq(qp->ibqp.recv_cq);
	struct uet_wq *wq = &qp->rq;
	struct uet_cqe cqe = {
		.status = IB_WC_WR_FLUSH_ERR,
		.opcode = IB_WC_RECV,
		.qp_num = qp->ibqp.qp_num,
	};
	u32 producer, todo;

	spin_lock_bh(&wq->lock);
	/* The WQEs up to producer are written before it is published. */
	producer = smp_load_acquire(&wq->queue.hdr->producer);
	todo = min(producer - wq->consumer, wq->queue.entries);
	for (; todo; todo--, wq->consumer++) {
		struct uet_recv_wqe *wqe = uet_queue_slot(&wq->queue,
							  wq->consumer);

		cqe.wr_id = READ_ONCE(wqe->wr_id);
		/* On overflow the CQ is in error and the completion lost. */
		uet_cq_post(cq, &cqe, false);
	}
	/* The slots are read before they are handed back. */
	smp_store_release(&wq->queue.hdr->consumer, wq->consumer);
	spin_unlock_bh(&wq->lock);
}

static void uet_wq_set_error(struct uet_wq *wq)
{
	WRITE_ONCE(wq->queue.hdr->flags,
		   READ_ONCE(wq->queue.hdr->flags) | UET_QUEUE_ERR);
	/*
	 * Pairs with the poster's barrier between publishing its producer
	 * index and reading flags: either the flush that follows sees the
	 * WQE, or the poster sees the flag and kicks.
	 */
	smp_mb();
}

static bool uet_qp_has_rq(const struct uet_qp *qp)
{
	return !qp->ibqp.srq;
}

static int uet_qp_check_cap(struct ib_device *ibdev,
			    const struct ib_qp_init_attr *init)
{
	const struct ib_qp_cap *cap = &init->cap;

	if (cap->max_send_wr > UET_MAX_QP_WR ||
	    cap->max_send_sge > UET_MAX_SGE ||
	    cap->max_inline_data > UET_MAX_INLINE_DATA) {
		ibdev_dbg(ibdev, "create_qp: send cap %u WRs, %u SGEs, %u inline over the limits\n",
			  cap->max_send_wr, cap->max_send_sge,
			  cap->max_inline_data);
		return -EINVAL;
	}
	if (!init->srq && (cap->max_recv_wr > UET_MAX_QP_WR ||
			   cap->max_recv_sge > UET_MAX_SGE)) {
		ibdev_dbg(ibdev, "create_qp: recv cap %u WRs, %u SGEs over the limits\n",
			  cap->max_recv_wr, cap->max_recv_sge);
		return -EINVAL;
	}
	return 0;
}

/**
 * __uet_qp_error - move a QP to the error state from anywhere
 * @qp: the QP
 *
 * Marks both rings, flushes what was posted and, for a QP on an SRQ,
 * raises LAST_WQE_REACHED.  Idempotent.
 *
 * Context: under qp->sq.lock.
 */
void __uet_qp_error(struct uet_qp *qp)
{
	if (qp->state == IB_QPS_ERR)
		return;
	qp->state = IB_QPS_ERR;
	/* What query_qp reports; the data path does not take qp->lock. */
	WRITE_ONCE(qp->attr.qp_state, IB_QPS_ERR);
	WRITE_ONCE(qp->attr.cur_qp_state, IB_QPS_ERR);
	qp->attr.sq_draining = 0;
	uet_wq_set_error(&qp->sq);
	__uet_tx_flush(qp);
	if (uet_qp_has_rq(qp)) {
		uet_wq_set_error(&qp->rq);
		uet_rq_flush(qp);
	} else {
		/* Nothing more of the SRQ will be consumed by it. */
		uet_qp_event(qp, IB_EVENT_QP_LAST_WQE_REACHED);
	}
}

/*
 * Only while the refusal that asked for it stands: a QP reset since then
 * (rx_dead cleared, under both locks) is left alone.
 */
static void uet_qp_err_work(struct work_struct *work)
{
	struct uet_qp *qp = container_of(work, struct uet_qp, err_work);
	bool dead;

	spin_lock_bh(&qp->sq.lock);
	spin_lock(&qp->rx_lock);
	dead = qp->rx_dead;
	spin_unlock(&qp->rx_lock);
	if (dead)
		__uet_qp_error(qp);
	spin_unlock_bh(&qp->sq.lock);
}

/* A responder error seen by the receive path: the QP goes to error. */
void uet_qp_async_error(struct uet_qp *qp)
{
	schedule_work(&qp->err_work);
}

/*
 * A reliable-unconnected QP is created in RTS: it has no peer to be
 * connected to, its destinations come with each work request.  Remote
 * access is the MRs' to grant.
 */
static void uet_qp_ru_start(struct uet_qp *qp)
{
	struct ib_qp_attr *a = &qp->attr;

	a->path_mtu = IB_MTU_4096;
	a->timeout = 14;
	a->retry_cnt = UET_MAX_RETRY;
	a->rnr_retry = UET_MAX_RETRY;
	a->min_rnr_timer = 1;
	a->qp_access_flags = IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_READ;
	qp->retry_left = a->retry_cnt;
	qp->rnr_left = a->rnr_retry;
	a->qp_state = IB_QPS_RTS;
	a->cur_qp_state = IB_QPS_RTS;
	uet_tx_set_state(qp, IB_QPS_RTS);
}

int uet_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
		  struct ib_udata *udata)
{
	struct uet_dev *udev = to_uet_dev(ibqp->device);
	struct uet_create_qp_resp resp = {};
	struct ib_device *ibdev = ibqp->device;
	struct uet_qp *qp = to_uet_qp(ibqp);
	struct uet_create_qp_cmd cmd;
	struct uet_ucontext *uctx;
	bool ru, driver;
	int err;

	BUILD_BUG_ON(UET_WQE_MAX_SGE != UET_MAX_SGE);
	BUILD_BUG_ON(UET_WQE_MAX_INLINE != UET_MAX_INLINE_DATA);

	/* User QPs only: uet has no kernel consumers. */
	uctx = rdma_udata_to_drv_context(udata, struct uet_ucontext,
					 ibucontext);
	if (!uctx)
		return -EOPNOTSUPP;
	err = uet_udata_get_cmd_min(udata, &cmd,
				    offsetofend(typeof(cmd), reserved_20),
				    sizeof(cmd));
	if (err)
		return err;
	if (cmd.reserved_20)
		return -EINVAL;
	if (cmd.comp_mask & ~UET_CREATE_QP_RU || init->create_flags) {
		ibdev_dbg(ibdev, "create_qp: unsupported comp_mask %#x flags %#x\n",
			  cmd.comp_mask, init->create_flags);
		return -EOPNOTSUPP;
	}
	/* RU fields go with an RU QP, and only with one. */
	ru = cmd.comp_mask & UET_CREATE_QP_RU;
	driver = init->qp_type == IB_QPT_DRIVER;
	if (ru != driver ||
	    (!ru && (cmd.ru_jkey || cmd.ru_flags))) {
		ibdev_dbg(ibdev, "create_qp: RU fields and QP type %d disagree\n",
			  init->qp_type);
		return -EINVAL;
	}
	if (cmd.ru_flags & ~UET_QP_RU_ORDERED) {
		ibdev_dbg(ibdev, "create_qp: unsupported RU flags %#x\n",
			  cmd.ru_flags);
		return -EOPNOTSUPP;
	}
	if (init->qp_type != IB_QPT_RC && init->qp_type != IB_QPT_UC &&
	    init->qp_type != IB_QPT_UD && init->qp_type != IB_QPT_DRIVER) {
		ibdev_dbg(ibdev, "create_qp: type %d not supported\n",
			  init->qp_type);
		return -EOPNOTSUPP;
	}
	err = uet_qp_check_cap(ibdev, init);
	if (err)
		return err;
	qp->job_id = UET_DEFAULT_JOB;
	qp->pds_mode = UET_PDS_ROD_REQ;
	INIT_LIST_HEAD(&qp->ru_msgs);
	if (init->qp_type == IB_QPT_DRIVER) {
		qp->jkey = uet_jkey_get(udev, cmd.ru_jkey, ibqp->pd);
		if (!qp->jkey) {
			ibdev_dbg(ibdev, "create_qp: no job key %#x on the PD\n",
				  cmd.ru_jkey);
			return -EINVAL;
		}
		qp->job_id = qp->jkey->job->id;
		if (!(cmd.ru_flags & UET_QP_RU_ORDERED))
			qp->pds_mode = UET_PDS_RUD_REQ;
	}
	if (atomic_inc_return(&udev->num_qps) > UET_MAX_QP) {
		ibdev_dbg(ibdev, "create_qp: max_qp reached\n");
		err = -ENOMEM;
		goto err_uncount;
	}

	mutex_init(&qp->lock);
	refcount_set(&qp->ref, 1);
	init_completion(&qp->released);
	spin_lock_init(&qp->rx_lock);
	INIT_WORK(&qp->err_work, uet_qp_err_work);
	qp->uctx = uctx;
	qp->state = IB_QPS_RESET;
	qp->rq_max_sge = init->srq ? to_uet_srq(init->srq)->rq.max_sge :
				     init->cap.max_recv_sge;
	qp->sq_sig_type = init->sq_sig_type;
	memset(&qp->attr, 0, sizeof(qp->attr));
	qp->attr.qp_state = IB_QPS_RESET;
	qp->attr.cur_qp_state = IB_QPS_RESET;
	qp->attr.port_num = UET_PORT;

	spin_lock_init(&qp->sq.lock);
	err = uet_wq_init(&uctx->ibucontext, &qp->sq, init->cap.max_send_wr,
			  init->cap.max_send_sge, sizeof(struct uet_send_wqe));
	if (err)
		goto err_uncount;
	err = uet_tx_qp_init(qp);
	if (err)
		goto err_fini_sq;
	init->cap.max_send_wr = qp->sq.queue.entries;
	resp.sq_entries = qp->sq.queue.entries;
	resp.sq_mmap_offset = uet_queue_mmap_offset(&qp->sq.queue);
	resp.sq_mmap_size = uet_queue_size(&qp->sq.queue);

	if (uet_qp_has_rq(qp)) {
		spin_lock_init(&qp->rq.lock);
		err = uet_wq_init(&uctx->ibucontext, &qp->rq,
				  init->cap.max_recv_wr, init->cap.max_recv_sge,
				  sizeof(struct uet_recv_wqe));
		if (err)
			goto err_fini_tx;
		init->cap.max_recv_wr = qp->rq.queue.entries;
		resp.rq_entries = qp->rq.queue.entries;
		resp.rq_mmap_offset = uet_queue_mmap_offset(&qp->rq.queue);
		resp.rq_mmap_size = uet_queue_size(&qp->rq.queue);
	} else {
		init->cap.max_recv_wr = 0;
		init->cap.max_recv_sge = 0;
	}
	qp->attr.cap = init->cap;

	err = xa_alloc_cyclic_bh(&udev->qps, &ibqp->qp_num, qp,
				 XA_LIMIT(UET_QPN_MIN, UET_QPN_MASK),
				 &udev->qp_next, GFP_KERNEL);
	if (err < 0)
		goto err_fini_rq;

	err = ib_copy_to_udata(udata, &resp, min(sizeof(resp), udata->outlen));
	if (err)
		goto err_erase_qpn;
	spin_lock_bh(&uctx->qps_lock);
	list_add_tail(&qp->ctx_node, &uctx->qps);
	spin_unlock_bh(&uctx->qps_lock);
	if (uet_qp_is_ru(qp))
		uet_qp_ru_start(qp);
	return 0;

err_erase_qpn:
	xa_erase_bh(&udev->qps, ibqp->qp_num);
err_fini_rq:
	if (uet_qp_has_rq(qp))
		uet_queue_fini(&qp->rq.queue);
err_fini_tx:
	uet_tx_qp_fini(qp);
err_fini_sq:
	uet_queue_fini(&qp->sq.queue);
err_uncount:
	atomic_dec(&udev->num_qps);
	if (qp->jkey)
		uet_jkey_put(qp->jkey);
	return err;
}

int uet_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata)
{
	struct uet_dev *udev = to_uet_dev(ibqp->device);
	struct uet_qp *qp = to_uet_qp(ibqp);

	spin_lock_bh(&qp->uctx->qps_lock);
	list_del_init(&qp->ctx_node);
	spin_unlock_bh(&qp->uctx->qps_lock);
	xa_erase_bh(&udev->qps, ibqp->qp_num);
	/* Wait for the engine, the receive path and late responses. */
	uet_qp_put(qp);
	wait_for_completion(&qp->released);
	cancel_work_sync(&qp->err_work);
	uet_tx_qp_fini(qp);
	if (uet_qp_has_rq(qp))
		uet_queue_fini(&qp->rq.queue);
	uet_queue_fini(&qp->sq.queue);
	atomic_dec(&udev->num_qps);
	if (qp->jkey) {
		uet_ses_ru_fini(qp);
		uet_jkey_put(qp->jkey);
	}
	return 0;
}

/* Values ib_modify_qp_is_ok() does not look at. */
static int uet_qp_check_attr(struct uet_qp *qp, struct ib_qp_attr *attr,
			     int mask, struct uet_av *av)
{
	struct ib_device *ibdev = qp->ibqp.device;
	int err;

	if (mask & (IB_QP_ALT_PATH | IB_QP_PATH_MIG_STATE |
		    IB_QP_RATE_LIMIT)) {
		ibdev_dbg(ibdev, "modify_qp: no alternate paths or rate limits\n");
		return -EOPNOTSUPP;
	}
	if ((mask & IB_QP_PORT && attr->port_num != UET_PORT) ||
	    (mask & IB_QP_PKEY_INDEX && attr->pkey_index >= UET_PKEY_TBL_LEN) ||
	    (mask & IB_QP_ACCESS_FLAGS &&
	     attr->qp_access_flags & ~UET_QP_ACCESS_FLAGS) ||
	    (mask & IB_QP_PATH_MTU && (attr->path_mtu < IB_MTU_256 ||
				       attr->path_mtu > IB_MTU_4096)) ||
	    (mask & IB_QP_MAX_QP_RD_ATOMIC &&
	     attr->max_rd_atomic > UET_MAX_RD_ATOMIC) ||
	    (mask & IB_QP_MAX_DEST_RD_ATOMIC &&
	     attr->max_dest_rd_atomic > UET_MAX_RD_ATOMIC) ||
	    (mask & IB_QP_RETRY_CNT && attr->retry_cnt > UET_MAX_RETRY) ||
	    (mask & IB_QP_RNR_RETRY && attr->rnr_retry > UET_MAX_RETRY) ||
	    (mask & IB_QP_MIN_RNR_TIMER &&
	     attr->min_rnr_timer > UET_MAX_RNR_TIMER) ||
	    (mask & IB_QP_TIMEOUT && attr->timeout > UET_MAX_ACK_TIMEOUT) ||
	    (mask & IB_QP_DEST_QPN && attr->dest_qp_num > UET_QPN_MASK) ||
	    (mask & IB_QP_SQ_PSN && attr->sq_psn > UET_PSN_MASK) ||
	    (mask & IB_QP_RQ_PSN && attr->rq_psn > UET_PSN_MASK)) {
		ibdev_dbg(ibdev, "modify_qp: attribute out of range (mask %#x)\n",
			  mask);
		return -EINVAL;
	}

	if (!(mask & IB_QP_AV))
		return 0;
	if (!(rdma_ah_get_ah_flags(&attr->ah_attr) & IB_AH_GRH)) {
		ibdev_dbg(ibdev, "modify_qp: the address vector needs a GRH\n");
		return -EINVAL;
	}
	err = uet_av_from_grh(av, rdma_ah_read_grh(&attr->ah_attr));
	if (err) {
		ibdev_dbg(ibdev, "modify_qp: bad destination (%d)\n", err);
		return err;
	}
	err = uet_path_check(to_uet_dev(ibdev), &av->path);
	if (err)
		ibdev_dbg(ibdev, "modify_qp: %pI6 unreachable (%d)\n",
			  &av->path.daddr, err);
	return err;
}

/* Keeps what query_qp reports. */
static void uet_qp_store_attr(struct uet_qp *qp, const struct ib_qp_attr *a,
			      int mask)
{
	struct ib_qp_attr *s = &qp->attr;

	if (mask & IB_QP_PKEY_INDEX)
		s->pkey_index = a->pkey_index;
	if (mask & IB_QP_QKEY)
		s->qkey = a->qkey;
	if (mask & IB_QP_ACCESS_FLAGS)
		s->qp_access_flags = a->qp_access_flags;
	if (mask & IB_QP_PATH_MTU)
		s->path_mtu = a->path_mtu;
	if (mask & IB_QP_DEST_QPN)
		s->dest_qp_num = a->dest_qp_num;
	if (mask & IB_QP_RQ_PSN)
		s->rq_psn = a->rq_psn;
	if (mask & IB_QP_SQ_PSN)
		s->sq_psn = a->sq_psn;
	if (mask & IB_QP_TIMEOUT)
		s->timeout = a->timeout;
	if (mask & IB_QP_RETRY_CNT) {
		s->retry_cnt = a->retry_cnt;
		qp->retry_left = a->retry_cnt;
	}
	if (mask & IB_QP_RNR_RETRY) {
		s->rnr_retry = a->rnr_retry;
		qp->rnr_left = a->rnr_retry;
	}
	if (mask & IB_QP_MIN_RNR_TIMER)
		s->min_rnr_timer = a->min_rnr_timer;
	if (mask & IB_QP_MAX_QP_RD_ATOMIC)
		s->max_rd_atomic = a->max_rd_atomic;
	if (mask & IB_QP_MAX_DEST_RD_ATOMIC)
		s->max_dest_rd_atomic = a->max_dest_rd_atomic;
	if (mask & IB_QP_EN_SQD_ASYNC_NOTIFY)
		s->en_sqd_async_notify = a->en_sqd_async_notify;
	if (mask & IB_QP_AV) {
		/* The core's reference on the GID entry is not kept. */
		s->ah_attr = a->ah_attr;
		s->ah_attr.grh.sgid_attr = NULL;
	}
}

static void uet_qp_enter_state(struct uet_qp *qp, enum ib_qp_state state)
{
	enum ib_qp_state old = qp->attr.qp_state;

	/* A pending error from the receive path is not for the reset QP. */
	if (state == IB_QPS_RESET) {
		spin_lock_bh(&qp->sq.lock);
		spin_lock(&qp->rx_lock);
		qp->rx_dead = false;
		spin_unlock(&qp->rx_lock);
		spin_unlock_bh(&qp->sq.lock);
	}

	qp->attr.qp_state = state;
	qp->attr.cur_qp_state = state;
	qp->attr.sq_draining = 0;

	switch (state) {
	case IB_QPS_RESET:
		uet_tx_reset(qp);
		if (uet_qp_has_rq(qp))
			uet_wq_reset(&qp->rq);
		spin_lock_bh(&qp->rx_lock);
		memset(&qp->rx, 0, sizeof(qp->rx));
		qp->rnr_nak = false;
		qp->rx_dead = false;
		spin_unlock_bh(&qp->rx_lock);
		if (uet_qp_is_ru(qp))
			uet_ses_ru_fini(qp);
		uet_tx_set_state(qp, state);
		break;
	case IB_QPS_ERR:
		if (old == IB_QPS_ERR)
			break;
		spin_lock_bh(&qp->sq.lock);
		__uet_qp_error(qp);
		spin_unlock_bh(&qp->sq.lock);
		break;
	case IB_QPS_SQD:
		/* SQ_DRAINED follows once nothing sent is outstanding. */
		qp->attr.sq_draining = qp->attr.en_sqd_async_notify;
		uet_tx_set_state(qp, state);
		break;
	default:
		uet_tx_set_state(qp, state);
		break;
	}
}

/**
 * uet_qp_get - the QP with this number, for the data path
 * @udev: the device
 * @qpn: the QP number
 *
 * Context: any.
 * Return: the QP with a reference (uet_qp_put()), or NULL.
 */
struct uet_qp *uet_qp_get(struct uet_dev *udev, u32 qpn)
{
	struct uet_qp *qp;

	xa_lock_bh(&udev->qps);
	qp = xa_load(&udev->qps, qpn);
	if (qp && !refcount_inc_not_zero(&qp->ref))
		qp = NULL;
	xa_unlock_bh(&udev->qps);
	return qp;
}

void uet_qp_put(struct uet_qp *qp)
{
	if (refcount_dec_and_test(&qp->ref))
		complete(&qp->released);
}

/* An RU QP has three states: RESET, RTS and ERR, and no attributes. */
static bool uet_qp_ru_modify_ok(enum ib_qp_state cur, enum ib_qp_state next,
				int mask)
{
	if (mask & ~(IB_QP_STATE | IB_QP_CUR_STATE))
		return false;
	return next == IB_QPS_ERR || next == IB_QPS_RESET ||
	       (next == IB_QPS_RTS && (cur == IB_QPS_RESET ||
				       cur == IB_QPS_RTS));
}

int uet_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		  struct ib_udata *udata)
{
	struct ib_device *ibdev = ibqp->device;
	struct uet_qp *qp = to_uet_qp(ibqp);
	enum ib_qp_state cur, next;
	struct uet_av av;
	int err;

	if (!uet_udata_in_cleared(udata)) {
		ibdev_dbg(ibdev, "modify_qp: unknown udata input\n");
		return -EINVAL;
	}

	mutex_lock(&qp->lock);
	cur = mask & IB_QP_CUR_STATE ? attr->cur_qp_state : qp->attr.qp_state;
	next = mask & IB_QP_STATE ? attr->qp_state : cur;
	if (uet_qp_is_ru(qp) ? !uet_qp_ru_modify_ok(cur, next, mask) :
			       !ib_modify_qp_is_ok(cur, next, ibqp->qp_type, mask)) {
		ibdev_dbg(ibdev, "modify_qp: %u: %d -> %d with mask %#x refused\n",
			  ibqp->qp_num, cur, next, mask);
		err = -EINVAL;
		goto out_unlock;
	}
	err = uet_qp_check_attr(qp, attr, mask, &av);
	if (err)
		goto out_unlock;

	uet_qp_store_attr(qp, attr, mask);
	if (mask & IB_QP_AV) {
		spin_lock_bh(&qp->sq.lock);
		qp->av = av;
		/* The next message finds the PDC of the new path. */
		if (qp->pdc)
			uet_pdc_put(qp->pdc);
		qp->pdc = NULL;
		spin_unlock_bh(&qp->sq.lock);
	}
	if (mask & IB_QP_STATE) {
		if (uet_qp_is_ru(qp) && cur == IB_QPS_RESET &&
		    next == IB_QPS_RTS)
			uet_qp_ru_start(qp);
		else
			uet_qp_enter_state(qp, next);
	}
out_unlock:
	mutex_unlock(&qp->lock);
	return err;
}

int uet_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		 struct ib_qp_init_attr *init)
{
	struct uet_qp *qp = to_uet_qp(ibqp);

	mutex_lock(&qp->lock);
	*attr = qp->attr;
	mutex_unlock(&qp->lock);

	memset(init, 0, sizeof(*init));
	init->qp_type = ibqp->qp_type;
	init->send_cq = ibqp->send_cq;
	init->recv_cq = ibqp->recv_cq;
	init->srq = ibqp->srq;
	init->cap = attr->cap;
	init->sq_sig_type = qp->sq_sig_type;
	init->port_num = UET_PORT;
	return 0;
}

/*
 * Work requests are posted in the mapped rings; a POST_SEND or POST_RECV
 * command without WRs is the kick of the doorbell protocol.  In the
 * error state a kick flushes what was posted since the last one.
 */
int uet_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
		  const struct ib_send_wr **bad_wr)
{
	struct uet_qp *qp = to_uet_qp(ibqp);

	if (wr) {
		*bad_wr = wr;
		return -EINVAL;
	}
	spin_lock_bh(&qp->sq.lock);
	if (qp->state == IB_QPS_ERR) {
		__uet_tx_flush(qp);
		spin_unlock_bh(&qp->sq.lock);
		return 0;
	}
	spin_unlock_bh(&qp->sq.lock);
	/* Awake from here on: later posts need not kick. */
	WRITE_ONCE(qp->uctx->doorbell->flags, 0);
	uet_tx_kick(qp->uctx);
	return 0;
}

int uet_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
		  const struct ib_recv_wr **bad_wr)
{
	struct uet_qp *qp = to_uet_qp(ibqp);

	if (wr) {
		*bad_wr = wr;
		return -EINVAL;
	}
	if (!uet_qp_has_rq(qp))
		return -EINVAL;
	spin_lock_bh(&qp->sq.lock);
	if (qp->state == IB_QPS_ERR)
		uet_rq_flush(qp);
	spin_unlock_bh(&qp->sq.lock);
	return 0;
}
