// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The send engine: one work item per user context consumes the send
 * queues of its QPs, turns WQEs into UET requests (segmented to the path
 * MTU, SOM/EOM and message offsets) and completes them in order when
 * their responses come back.
 *
 * Doorbell protocol (uet-abi.h): while it finds work the engine keeps
 * polling, for engine_poll_us more after the last work it found; then it
 * sets UET_DB_NEED_WAKEUP, issues a full barrier, looks at every send
 * queue once more and only then goes to sleep.  A poster publishes its
 * producer index, issues a full barrier and kicks only if it then sees
 * the flag: one of the two always sees the other's write.
 */
#include <linux/module.h>
#include <linux/unaligned.h>

#include "uet_pds.h"

static unsigned int engine_poll_us = 50;
module_param(engine_poll_us, uint, 0644);
MODULE_PARM_DESC(engine_poll_us,
		 "How long the send engine polls for more work before sleeping (us)");

static struct workqueue_struct *uet_tx_wq;

void uet_tx_kick(struct uet_ucontext *uctx)
{
	queue_work(uet_tx_wq, &uctx->tx_work);
}

/* Room opened on a PDC: any context may have been waiting for it. */
void uet_tx_kick_all(struct uet_dev *udev)
{
	struct uet_ucontext *uctx;

	spin_lock_bh(&udev->uctx_lock);
	list_for_each_entry(uctx, &udev->uctxs, dev_node)
		uet_tx_kick(uctx);
	spin_unlock_bh(&udev->uctx_lock);
}

static struct uet_swqe *uet_swqe_at(struct uet_qp *qp, u32 index)
{
	return &qp->swqe[index & (qp->sq.queue.entries - 1)];
}

static void uet_tx_post_cqe(struct uet_qp *qp, const struct uet_swqe *swqe,
			    enum ib_wc_status status)
{
	struct uet_cqe cqe = {
		.wr_id = swqe->wqe.wr_id,
		.status = status,
		.opcode = uet_wr_to_wc_opcode(swqe->wqe.opcode),
		.byte_len = swqe->len,
		.qp_num = qp->ibqp.qp_num,
	};

	uet_cq_post(to_uet_cq(qp->ibqp.send_cq), &cqe, false);
}

static bool uet_swqe_signaled(const struct uet_qp *qp,
			      const struct uet_swqe *swqe)
{
	return qp->sq_sig_type == IB_SIGNAL_ALL_WR ||
	       swqe->wqe.send_flags & IB_SEND_SIGNALED;
}

/*
 * Hand the oldest slot back.  Before its completion is written: a poster
 * woken by that completion must find the room it frees.
 */
static void uet_tx_release(struct uet_qp *qp)
{
	qp->sq.consumer++;
	/* The slot was read before it is handed back. */
	smp_store_release(&qp->sq.queue.hdr->consumer, qp->sq.consumer);
}

/*
 * Complete finished WQEs in posting order.  The first error completes
 * and moves the QP to the error state, which flushes the rest.
 * Context: under qp->sq.lock.
 */
static void uet_tx_complete(struct uet_qp *qp)
{
	struct uet_swqe *swqe;

	while (qp->sq.consumer != qp->sq_send) {
		swqe = uet_swqe_at(qp, qp->sq.consumer);
		if (!swqe->done)
			break;
		uet_tx_release(qp);
		if (swqe->status != IB_WC_SUCCESS) {
			uet_tx_post_cqe(qp, swqe, swqe->status);
			/* An RU QP serves many peers: one failing stops none. */
			if (uet_qp_is_ru(qp))
				continue;
			__uet_qp_error(qp);
			return;
		}
		if (uet_swqe_signaled(qp, swqe))
			uet_tx_post_cqe(qp, swqe, IB_WC_SUCCESS);
	}
	if (qp->state == IB_QPS_SQD && qp->attr.sq_draining &&
	    qp->sq.consumer == qp->sq_send) {
		struct ib_event ev = {
			.device = qp->ibqp.device,
			.element.qp = &qp->ibqp,
			.event = IB_EVENT_SQ_DRAINED,
		};

		qp->attr.sq_draining = 0;
		if (qp->ibqp.event_handler)
			qp->ibqp.event_handler(&ev, qp->ibqp.qp_context);
	}
}

/**
 * __uet_tx_flush - complete all posted send work with IB_WC_WR_FLUSH_ERR
 * @qp: a QP entering or in the error state
 *
 * WQEs the engine already copied complete from the copy (those that
 * finished keep their status); the rest straight from the ring.
 *
 * Context: under qp->sq.lock.
 */
void __uet_tx_flush(struct uet_qp *qp)
{
	u32 producer, todo;
	struct uet_swqe tmp;

	while (qp->sq.consumer != qp->sq_fetch) {
		struct uet_swqe *swqe = uet_swqe_at(qp, qp->sq.consumer);

		uet_tx_release(qp);
		uet_tx_post_cqe(qp, swqe, swqe->done ? swqe->status :
						       IB_WC_WR_FLUSH_ERR);
		swqe->done = true;
	}
	/* The WQEs up to producer are written before it is published. */
	producer = smp_load_acquire(&qp->sq.queue.hdr->producer);
	todo = min(producer - qp->sq.consumer, qp->sq.queue.entries);
	for (; todo; todo--) {
		const struct uet_send_wqe *wqe =
			uet_queue_slot(&qp->sq.queue, qp->sq.consumer);

		tmp.wqe.wr_id = READ_ONCE(wqe->wr_id);
		tmp.wqe.opcode = READ_ONCE(wqe->opcode);
		tmp.len = 0;
		uet_tx_release(qp);
		uet_tx_post_cqe(qp, &tmp, IB_WC_WR_FLUSH_ERR);
	}
	qp->sq_fetch = qp->sq.consumer;
	qp->sq_send = qp->sq.consumer;
}

/* Forget everything posted: the rings restart at zero (modify to RESET). */
void uet_tx_reset(struct uet_qp *qp)
{
	u32 i;

	spin_lock_bh(&qp->sq.lock);
	/* Responses still on their way must not match a new WQE. */
	for (i = 0; i < qp->sq.queue.entries; i++) {
		qp->swqe[i].attempt++;
		qp->swqe[i].done = false;
	}
	qp->sq.consumer = 0;
	qp->sq_fetch = 0;
	qp->sq_send = 0;
	qp->retry_wait = false;
	qp->tx_blocked = false;
	WRITE_ONCE(qp->sq.queue.hdr->producer, 0);
	WRITE_ONCE(qp->sq.queue.hdr->flags, 0);
	/* Orders the producer reset before the consumer one. */
	smp_store_release(&qp->sq.queue.hdr->consumer, 0);
	spin_unlock_bh(&qp->sq.lock);
}

/**
 * uet_tx_set_state - the state the data path acts on
 * @qp: the QP
 * @state: its new state, other than the error state (__uet_qp_error())
 *
 * Entering RTS starts what was posted meanwhile; entering SQD with
 * notification raises SQ_DRAINED once nothing sent is outstanding.
 *
 * Context: process context.
 */
void uet_tx_set_state(struct uet_qp *qp, enum ib_qp_state state)
{
	spin_lock_bh(&qp->sq.lock);
	qp->state = state;
	uet_tx_complete(qp);
	spin_unlock_bh(&qp->sq.lock);
	if (state == IB_QPS_RTS)
		uet_tx_kick(qp->uctx);
}

static bool uet_tx_opcode_ok(const struct uet_qp *qp, u32 opcode)
{
	switch (opcode) {
	case IB_UVERBS_WR_SEND:
	case IB_UVERBS_WR_SEND_WITH_IMM:
		return true;
	case IB_UVERBS_WR_RDMA_WRITE:
	case IB_UVERBS_WR_RDMA_WRITE_WITH_IMM:
		return qp->ibqp.qp_type != IB_QPT_UD;
	case IB_UVERBS_WR_RDMA_READ:
		return qp->ibqp.qp_type == IB_QPT_RC || uet_qp_is_ru(qp);
	case IB_UVERBS_WR_ATOMIC_CMP_AND_SWP:
	case IB_UVERBS_WR_ATOMIC_FETCH_AND_ADD:
	case IB_UVERBS_WR_ATOMIC_WRITE:
		return qp->ibqp.qp_type == IB_QPT_RC;
	default:
		return false;
	}
}

/* The atomics that bring a value back. */
static bool uet_wr_is_atomic(u32 opcode)
{
	return opcode == IB_UVERBS_WR_ATOMIC_CMP_AND_SWP ||
	       opcode == IB_UVERBS_WR_ATOMIC_FETCH_AND_ADD;
}

/* A message of exactly one packet, built by uet_tx_build_fetch(). */
static bool uet_wr_is_single(u32 opcode)
{
	return opcode == IB_UVERBS_WR_RDMA_READ || uet_wr_is_atomic(opcode) ||
	       opcode == IB_UVERBS_WR_ATOMIC_WRITE;
}

/* Bytes of payload per packet on @qp's path. */
static u32 uet_tx_mtu(struct uet_qp *qp)
{
	enum ib_mtu path = qp->ibqp.qp_type == IB_QPT_UD ? IB_MTU_4096 :
							    qp->attr.path_mtu;

	return min_t(u32, ib_mtu_enum_to_int(path),
		     uet_dev_mtu(to_uet_dev(qp->ibqp.device)));
}

/*
 * The destination of an RU QP's work request: an address handle of the
 * QP's PD with the remote QPN, or an entry of its job's address table.
 * The job key, if the WR names one, must be the QP's.
 */
static enum ib_wc_status uet_tx_ru_dest(struct uet_qp *qp,
					struct uet_swqe *swqe)
{
	struct uet_dev *udev = to_uet_dev(qp->ibqp.device);
	typeof(swqe->wqe.wr.ru) *ru = &swqe->wqe.wr.ru;
	struct uet_ip_path *p = &swqe->av.path;
	struct uet_job_addr a;
	struct uet_ah *ah;
	bool found;

	if (ru->flags & ~UET_WQE_RU_ADDR_IDX || ru->reserved_1e0)
		return IB_WC_LOC_QP_OP_ERR;
	if (ru->jkey && ru->jkey != qp->jkey->key)
		return IB_WC_LOC_PROT_ERR;

	if (ru->flags & UET_WQE_RU_ADDR_IDX) {
		if (uet_job_addr(qp->jkey->job, ru->dest, &a))
			return IB_WC_LOC_QP_OP_ERR;
		memset(&swqe->av, 0, sizeof(swqe->av));
		memcpy(&p->daddr, a.gid, sizeof(p->daddr));
		p->ipv4 = ipv6_addr_v4mapped(&p->daddr);
		if (uet_gid_source(udev, p))
			return IB_WC_LOC_QP_OP_ERR;
		swqe->av.hop_limit = 64;
		swqe->dest_qpn = a.qpn;
		return IB_WC_SUCCESS;
	}

	xa_lock_bh(&udev->ahs);
	ah = xa_load(&udev->ahs, ru->dest);
	found = ah && ah->ibah.pd == qp->ibqp.pd;
	if (found)
		swqe->av = ah->av;
	xa_unlock_bh(&udev->ahs);
	if (!found || ru->remote_qpn > UET_QPN_MASK)
		return IB_WC_LOC_QP_OP_ERR;
	swqe->dest_qpn = ru->remote_qpn;
	return IB_WC_SUCCESS;
}

/*
 * Copy a WQE out of the ring and check it once.  A WQE that cannot be
 * executed is done at once with the local error it deserves.
 */
static void uet_tx_fetch_one(struct uet_qp *qp, struct uet_swqe *swqe,
			     const struct uet_send_wqe *slot)
{
	const struct uet_send_wqe *wqe = &swqe->wqe;
	u64 len = 0;
	u32 i;

	memcpy(&swqe->wqe, slot, sizeof(swqe->wqe));
	swqe->sent = 0;
	swqe->pkts = 0;
	swqe->rsp_need = 0;
	swqe->rsp_got = 0;
	swqe->done = false;
	swqe->status = IB_WC_SUCCESS;

	if (!uet_tx_opcode_ok(qp, wqe->opcode)) {
		swqe->status = IB_WC_LOC_QP_OP_ERR;
		goto bad;
	}
	/* Inline data is for sends and writes (atomic writes too) only. */
	if (wqe->send_flags & IB_SEND_INLINE &&
	    (wqe->opcode == IB_UVERBS_WR_RDMA_READ ||
	     uet_wr_is_atomic(wqe->opcode))) {
		swqe->status = IB_WC_LOC_QP_OP_ERR;
		goto bad;
	}
	if (wqe->send_flags & IB_SEND_INLINE) {
		/* An atomic write's 8 bytes fit whatever the QP's limit. */
		if (wqe->inline_len > qp->attr.cap.max_inline_data &&
		    !(wqe->opcode == IB_UVERBS_WR_ATOMIC_WRITE &&
		      wqe->inline_len == sizeof(u64))) {
			swqe->status = IB_WC_LOC_LEN_ERR;
			goto bad;
		}
		len = wqe->inline_len;
	} else {
		if (wqe->num_sge > qp->sq.max_sge) {
			swqe->status = IB_WC_LOC_LEN_ERR;
			goto bad;
		}
		for (i = 0; i < wqe->num_sge; i++)
			len += wqe->sge[i].length;
	}
	if (len > UET_MAX_MSG_SIZE ||
	    (qp->ibqp.qp_type == IB_QPT_UD && len > uet_tx_mtu(qp)) ||
	    ((uet_wr_is_atomic(wqe->opcode) ||
	      wqe->opcode == IB_UVERBS_WR_ATOMIC_WRITE) && len != sizeof(u64))) {
		swqe->status = IB_WC_LOC_LEN_ERR;
		goto bad;
	}
	if (uet_qp_is_ru(qp)) {
		swqe->status = uet_tx_ru_dest(qp, swqe);
		if (swqe->status != IB_WC_SUCCESS)
			goto bad;
	} else {
		swqe->av = qp->av;
		swqe->dest_qpn = qp->attr.dest_qp_num;
	}
	swqe->len = len;
	return;
bad:
	swqe->len = 0;
	swqe->done = true;
}

static void uet_tx_fetch(struct uet_qp *qp)
{
	/* The WQEs up to producer are written before it is published. */
	u32 producer = smp_load_acquire(&qp->sq.queue.hdr->producer);

	while (qp->sq_fetch != producer &&
	       qp->sq_fetch - qp->sq.consumer < qp->sq.queue.entries) {
		uet_tx_fetch_one(qp, uet_swqe_at(qp, qp->sq_fetch),
				 uet_queue_slot(&qp->sq.queue, qp->sq_fetch));
		qp->sq_fetch++;
	}
}

/*
 * Copy @len bytes at @off of the message between @buf and the WQE's SGEs
 * (or its inline data): gathered to send, or scattered when READ data
 * or an atomic's result comes back (@to_mr, local write access needed).
 */
static int uet_tx_copy(struct uet_qp *qp, const struct uet_swqe *swqe,
		       u64 off, u8 *buf, u32 len, bool to_mr)
{
	const struct uet_send_wqe *wqe = &swqe->wqe;

	if (wqe->send_flags & IB_SEND_INLINE) {
		memcpy(buf, wqe->inline_data + off, len);
		return 0;
	}
	return uet_sge_copy(to_uet_dev(qp->ibqp.device), qp->ibqp.pd,
			    wqe->sge, wqe->num_sge, off, buf, len, to_mr);
}

/*
 * The SES message_id of WQE @index.  An RU QP retries a message under a
 * new id: at an RUD target the packets of the old attempt may still be
 * arriving among those of the new one (uet_ses_ru.c).  SQ indexes need
 * 14 bits, the attempt takes the other two.
 */
static u16 uet_tx_msg_id(const struct uet_qp *qp, const struct uet_swqe *swqe,
			 u32 index)
{
	BUILD_BUG_ON(BIT(14) < UET_MAX_QP_WR);
	if (!uet_qp_is_ru(qp))
		return index;
	return (index & (BIT(14) - 1)) | (swqe->attempt & 3) << 14;
}

static unsigned int uet_ses_opcode(u32 wr_opcode)
{
	switch (wr_opcode) {
	case IB_UVERBS_WR_RDMA_WRITE:
	case IB_UVERBS_WR_RDMA_WRITE_WITH_IMM:
		return UET_SES_WRITE;
	case IB_UVERBS_WR_RDMA_READ:
		return UET_SES_READ;
	case IB_UVERBS_WR_ATOMIC_CMP_AND_SWP:
	case IB_UVERBS_WR_ATOMIC_FETCH_AND_ADD:
		return UET_SES_FETCHING_ATOMIC;
	case IB_UVERBS_WR_ATOMIC_WRITE:
		return UET_SES_ATOMIC;
	default:
		return UET_SES_SEND;
	}
}

/*
 * A READ request for @len bytes at @off of the message, a message of its
 * own; or the one packet of an atomic, with its extension header and
 * operands (big-endian on the wire, as every UET field).  An atomic
 * write's operand is the 8 bytes the WQE gathers, as a host u64.
 */
static struct sk_buff *uet_tx_build_fetch(struct uet_qp *qp,
					  struct uet_swqe *swqe, u32 index,
					  u32 off, u32 len)
{
	struct uet_dev *udev = to_uet_dev(qp->ibqp.device);
	const struct uet_send_wqe *wqe = &swqe->wqe;
	bool amo_write = wqe->opcode == IB_UVERBS_WR_ATOMIC_WRITE;
	bool read = wqe->opcode == IB_UVERBS_WR_RDMA_READ;
	unsigned int ext = 0, opd = 0;
	struct uet_ses_std *ses;
	struct sk_buff *skb;
	u64 operand = 0;
	u64 va;

	if (amo_write) {
		if (uet_tx_copy(qp, swqe, 0, (u8 *)&operand, sizeof(operand),
				false))
			return ERR_PTR(-EFAULT);
		ext = sizeof(struct uet_ses_atomic);
		opd = sizeof(u64);
	} else if (!read) {
		bool cas = wqe->opcode == IB_UVERBS_WR_ATOMIC_CMP_AND_SWP;

		operand = wqe->wr.atomic.compare_add;
		ext = cas ? sizeof(struct uet_ses_cas) :
			    sizeof(struct uet_ses_atomic);
		opd = cas ? 0 : sizeof(u64);
	}
	skb = uet_udp_alloc_skb(udev, sizeof(struct uet_pds_req) +
				sizeof(*ses) + ext + opd, GFP_ATOMIC);
	if (!skb)
		return ERR_PTR(-ENOMEM);
	skb_put_zero(skb, sizeof(struct uet_pds_req));
	ses = skb_put_zero(skb, sizeof(*ses));
	ses->opcode = FIELD_PREP(UET_SES_OPCODE, uet_ses_opcode(wqe->opcode));
	ses->flags = UET_SES_SOM | UET_SES_EOM;
	ses->message_id = cpu_to_be16(uet_tx_msg_id(qp, swqe, index));
	ses->gen_job = cpu_to_be32(qp->job_id);
	ses->pid_on_fep = cpu_to_be16(swqe->dest_qpn & UET_SES_PID);
	ses->resource_index = cpu_to_be16((swqe->dest_qpn >> 12) &
					  UET_SES_RI);
	ses->initiator = cpu_to_be32(qp->ibqp.qp_num);
	ses->request_length = cpu_to_be32(len);
	if (read || amo_write) {
		va = wqe->wr.rdma.remote_addr + off;
		put_unaligned_be64(wqe->wr.rdma.rkey, &ses->memory_key);
	} else {
		va = wqe->wr.atomic.remote_addr;
		put_unaligned_be64(wqe->wr.atomic.rkey, &ses->memory_key);
	}
	if (!read) {
		struct uet_ses_cas *cas = skb_put_zero(skb, ext);

		cas->atomic.datatype = UET_AMO_UINT64;
		if (opd) {
			cas->atomic.atomic_opcode = amo_write ? UET_AMO_WRITE :
								UET_AMO_SUM;
			put_unaligned_be64(operand, skb_put(skb, opd));
		} else {
			cas->atomic.atomic_opcode = UET_AMO_CSWAP;
			put_unaligned_be64(wqe->wr.atomic.compare_add,
					   cas->compare);
			put_unaligned_be64(wqe->wr.atomic.swap, cas->swap);
		}
	}
	put_unaligned_be64(va, &ses->buffer_offset);
	return skb;
}

static u64 uet_tx_hdata(const struct uet_send_wqe *wqe)
{
	u64 hdata = 0;

	if (wqe->opcode == IB_UVERBS_WR_SEND_WITH_IMM ||
	    wqe->opcode == IB_UVERBS_WR_RDMA_WRITE_WITH_IMM)
		hdata = UET_HDATA_IMM | be32_to_cpu(wqe->imm_data);
	if (wqe->send_flags & IB_SEND_SOLICITED)
		hdata |= UET_HDATA_SOLICITED;
	return hdata;
}

/*
 * One packet of a message: @pds_len bytes left for the PDS header, the
 * standard SES request, and @len bytes of payload from offset @off.
 */
static struct sk_buff *uet_tx_build(struct uet_qp *qp, struct uet_swqe *swqe,
				    u32 index, unsigned int pds_len,
				    u32 dest_qpn, u64 key, u32 off, u32 len)
{
	struct uet_dev *udev = to_uet_dev(qp->ibqp.device);
	const struct uet_send_wqe *wqe = &swqe->wqe;
	u64 hdata = uet_tx_hdata(wqe);
	struct uet_ses_std *ses;
	struct sk_buff *skb;
	u8 flags = 0;

	skb = uet_udp_alloc_skb(udev, pds_len + sizeof(*ses) + len,
				GFP_ATOMIC);
	if (!skb)
		return ERR_PTR(-ENOMEM);
	skb_put_zero(skb, pds_len);
	ses = skb_put_zero(skb, sizeof(*ses));
	if (uet_tx_copy(qp, swqe, off, skb_put(skb, len), len, false)) {
		kfree_skb(skb);
		return ERR_PTR(-EFAULT);
	}

	if (off == 0)
		flags |= UET_SES_SOM;
	if (off + len == swqe->len)
		flags |= UET_SES_EOM;
	if (off == 0 && hdata)
		flags |= UET_SES_HD;
	if (qp->ibqp.qp_type == IB_QPT_UD)
		ses->opcode = FIELD_PREP(UET_SES_OPCODE, UET_SES_DATAGRAM_SEND);
	else
		ses->opcode = FIELD_PREP(UET_SES_OPCODE,
					 uet_ses_opcode(wqe->opcode));
	ses->flags = flags;
	ses->message_id = cpu_to_be16(uet_tx_msg_id(qp, swqe, index));
	ses->gen_job = cpu_to_be32(qp->job_id);
	ses->pid_on_fep = cpu_to_be16(dest_qpn & UET_SES_PID);
	ses->resource_index = cpu_to_be16((dest_qpn >> 12) & UET_SES_RI);
	if (uet_ses_opcode(wqe->opcode) == UET_SES_WRITE)
		put_unaligned_be64(wqe->wr.rdma.remote_addr,
				   &ses->buffer_offset);
	ses->initiator = cpu_to_be32(qp->ibqp.qp_num);
	put_unaligned_be64(key, &ses->memory_key);
	if (off == 0) {
		put_unaligned_be64(hdata, &ses->header_data);
	} else {
		ses->payload_length = cpu_to_be32(len);
		ses->message_offset = cpu_to_be32(off);
	}
	ses->request_length = cpu_to_be32(swqe->len);
	return skb;
}

static unsigned int uet_tx_rto_ms(const struct uet_qp *qp)
{
	/* IB: 4.096 us << timeout; 0 means "infinite", take the default. */
	u64 us = 4096ULL << (qp->attr.timeout ?: 14);

	return clamp_t(u64, div_u64(us, 1000000), UET_RTO_MIN_MS,
		       UET_RTO_MAX_MS);
}

/* RC: as many packets of the message as the PDC's window takes. */
static int uet_tx_rc(struct uet_qp *qp, struct uet_swqe *swqe, u32 index)
{
	struct uet_dev *udev = to_uet_dev(qp->ibqp.device);
	u32 opcode = swqe->wqe.opcode;
	bool single = uet_wr_is_single(opcode);
	u32 mtu = uet_tx_mtu(qp);
	struct uet_tx_pkt *pkt;
	struct sk_buff *skb;
	u32 n;

	while (swqe->sent < swqe->len || !swqe->pkts) {
		/*
		 * A PDC that failed or is closing is left for a new one; an
		 * RU QP changes PDC with its destination.
		 */
		if (!qp->pdc || !uet_pdc_usable(qp->pdc) ||
		    !uet_pdc_matches(qp->pdc, qp->pds_mode, qp->job_id,
				     &swqe->av.path)) {
			if (qp->pdc)
				uet_pdc_put(qp->pdc);
			qp->pdc = uet_pdc_initiator(udev, qp->pds_mode,
						    qp->job_id, &swqe->av);
			if (!qp->pdc)
				return -EAGAIN;
		}
		if (!uet_pdc_can_send(qp->pdc)) {
			if (!uet_pdc_usable(qp->pdc))
				continue;
			qp->tx_blocked = true;
			return -EAGAIN;
		}
		n = min(mtu, swqe->len - swqe->sent);
		if (single)
			skb = uet_tx_build_fetch(qp, swqe, index, swqe->sent, n);
		else
			skb = uet_tx_build(qp, swqe, index,
					   sizeof(struct uet_pds_req),
					   swqe->dest_qpn,
					   swqe->wqe.wr.rdma.rkey, swqe->sent, n);
		if (IS_ERR(skb)) {
			if (PTR_ERR(skb) == -ENOMEM)
				return -EAGAIN;
			swqe->status = IB_WC_LOC_PROT_ERR;
			swqe->done = true;
			return 0;
		}
		pkt = kzalloc(sizeof(*pkt), GFP_ATOMIC);
		if (!pkt) {
			kfree_skb(skb);
			return -EAGAIN;
		}
		pkt->skb = skb;
		pkt->qpn = qp->ibqp.qp_num;
		pkt->wqe_index = index;
		pkt->attempt = swqe->attempt;
		/*
		 * Every READ and atomic packet is a message of its own; an
		 * RU target answers every packet (uet_ses_ru.c).
		 */
		pkt->want_rsp = single || swqe->sent + n == swqe->len ||
				uet_qp_is_ru(qp);
		pkt->off = swqe->sent;
		/*
		 * UC has no retry count; its PDC, which RC QPs may share,
		 * is not given up on any sooner than theirs.
		 */
		pkt->retry_cnt = qp->ibqp.qp_type == IB_QPT_UC ? UET_MAX_RETRY :
								 qp->attr.retry_cnt;
		pkt->rto_ms = uet_tx_rto_ms(qp);
		if (uet_pdc_send(qp->pdc, pkt)) {
			kfree_skb(skb);
			kfree(pkt);
			/* Failed meanwhile, or another QP took the room. */
			if (!uet_pdc_usable(qp->pdc))
				continue;
			qp->tx_blocked = true;
			return -EAGAIN;
		}
		swqe->sent += n;
		swqe->pkts++;
		if (pkt->want_rsp)
			swqe->rsp_need++;
	}
	return 0;
}

/* UD: one unreliable datagram, complete once it is sent. */
static void uet_tx_ud(struct uet_qp *qp, struct uet_swqe *swqe, u32 index)
{
	struct uet_dev *udev = to_uet_dev(qp->ibqp.device);
	const struct uet_send_wqe *wqe = &swqe->wqe;
	struct uet_pds_uud *uud;
	struct sk_buff *skb;
	struct uet_ah *ah;
	struct uet_av av;
	bool found;

	xa_lock_bh(&udev->ahs);
	ah = xa_load(&udev->ahs, wqe->wr.ud.ah_id);
	found = ah && ah->ibah.pd == qp->ibqp.pd;
	if (found)
		av = ah->av;
	xa_unlock_bh(&udev->ahs);

	swqe->done = true;
	if (!found) {
		swqe->status = IB_WC_LOC_QP_OP_ERR;
		return;
	}
	/* A Q_Key with the high bit set means the QP's own. */
	skb = uet_tx_build(qp, swqe, index, sizeof(*uud),
			   wqe->wr.ud.remote_qpn & UET_QPN_MASK,
			   wqe->wr.ud.remote_qkey & BIT(31) ? qp->attr.qkey :
							     wqe->wr.ud.remote_qkey,
			   0, swqe->len);
	if (IS_ERR(skb)) {
		swqe->status = PTR_ERR(skb) == -ENOMEM ? IB_WC_GENERAL_ERR :
							 IB_WC_LOC_PROT_ERR;
		return;
	}
	uud = (struct uet_pds_uud *)skb->data;
	uud->prologue = uet_prologue(UET_PDS_UUD_REQ, UET_SES_REQ_STD, 0);
	/* A lost datagram is not an error: UD is unreliable. */
	uet_udp_xmit(udev, skb, &av.path,
		     cpu_to_be16(49152 + (qp->ibqp.qp_num & 0x3fff)),
		     av.traffic_class, av.hop_limit);
}

/* Move @qp's send queue forward; true if anything happened. */
static bool uet_tx_qp(struct uet_qp *qp)
{
	u32 fetch, send, consumer;
	struct uet_swqe *swqe;
	bool progress;

	spin_lock_bh(&qp->sq.lock);
	if (qp->state != IB_QPS_RTS && qp->state != IB_QPS_SQD) {
		spin_unlock_bh(&qp->sq.lock);
		return false;
	}
	fetch = qp->sq_fetch;
	send = qp->sq_send;
	consumer = qp->sq.consumer;
	qp->tx_blocked = false;
	if (qp->state == IB_QPS_RTS)
		uet_tx_fetch(qp);
	while (qp->sq_send != qp->sq_fetch && !qp->retry_wait) {
		swqe = uet_swqe_at(qp, qp->sq_send);
		/* In SQD only a message already started is finished. */
		if (qp->state == IB_QPS_SQD && !swqe->pkts && !swqe->done)
			break;
		if (!swqe->done) {
			if (qp->ibqp.qp_type == IB_QPT_UD)
				uet_tx_ud(qp, swqe, qp->sq_send);
			else if (uet_tx_rc(qp, swqe, qp->sq_send))
				break;
		}
		qp->sq_send++;
	}
	uet_tx_complete(qp);
	progress = fetch != qp->sq_fetch || send != qp->sq_send ||
		   consumer != qp->sq.consumer;
	spin_unlock_bh(&qp->sq.lock);
	return progress;
}

/* Has @qp work the engine could do right now? */
static bool uet_tx_qp_pending(struct uet_qp *qp)
{
	bool pending;

	spin_lock_bh(&qp->sq.lock);
	pending = qp->state == IB_QPS_RTS &&
		  (READ_ONCE(qp->sq.queue.hdr->producer) != qp->sq_fetch ||
		   (qp->sq_send != qp->sq_fetch && !qp->retry_wait &&
		    !qp->tx_blocked));
	spin_unlock_bh(&qp->sq.lock);
	return pending;
}

/*
 * With @pending false, move every QP of @uctx forward and say whether
 * anything happened; with @pending true, say whether any QP has work.
 * Each QP is referenced while it is looked at.
 */
static bool uet_tx_pass(struct uet_ucontext *uctx, bool pending)
{
	struct uet_qp *qp, *next;
	bool ret = false;

	spin_lock_bh(&uctx->qps_lock);
	qp = list_first_entry_or_null(&uctx->qps, struct uet_qp, ctx_node);
	if (qp)
		refcount_inc(&qp->ref);
	spin_unlock_bh(&uctx->qps_lock);

	while (qp) {
		if (pending ? uet_tx_qp_pending(qp) : uet_tx_qp(qp)) {
			ret = true;
			if (pending) {
				uet_qp_put(qp);
				break;
			}
		}
		spin_lock_bh(&uctx->qps_lock);
		/* A QP destroyed meanwhile left the list: start over. */
		if (list_empty(&qp->ctx_node) ||
		    list_is_last(&qp->ctx_node, &uctx->qps))
			next = NULL;
		else
			next = list_next_entry(qp, ctx_node);
		if (next)
			refcount_inc(&next->ref);
		spin_unlock_bh(&uctx->qps_lock);
		uet_qp_put(qp);
		qp = next;
	}
	return ret;
}

static void uet_tx_work(struct work_struct *work)
{
	struct uet_ucontext *uctx = container_of(work, struct uet_ucontext,
						 tx_work);
	struct uet_doorbell *db = uctx->doorbell;
	ktime_t last_work = ktime_get();

	WRITE_ONCE(db->flags, 0);
	for (;;) {
		if (uet_tx_pass(uctx, false)) {
			last_work = ktime_get();
			cond_resched();
			continue;
		}
		if (ktime_us_delta(ktime_get(), last_work) < engine_poll_us) {
			cond_resched();
			continue;
		}
		WRITE_ONCE(db->flags, UET_DB_NEED_WAKEUP);
		/* Pairs with the poster's barrier after its producer store. */
		smp_mb();
		if (!uet_tx_pass(uctx, true))
			break;
		WRITE_ONCE(db->flags, 0);
	}
}

static void uet_tx_retry_timer(struct timer_list *t)
{
	struct uet_qp *qp = from_timer(qp, t, retry_timer);

	spin_lock_bh(&qp->sq.lock);
	qp->retry_wait = false;
	spin_unlock_bh(&qp->sq.lock);
	uet_tx_kick(qp->uctx);
}

/* IB's encoding of the receiver-not-ready delay, in microseconds. */
static const u32 uet_rnr_us[32] = {
	655360, 10, 20, 30, 40, 60, 80, 120, 160, 240, 320, 480, 640, 960,
	1280, 1920, 2560, 3840, 5120, 7680, 10240, 15360, 20480, 30720,
	40960, 61440, 81920, 122880, 163840, 245760, 327680, 491520,
};

/*
 * Message @index was not taken: start again from it after a delay, unless
 * the QP's retries are used up.  Receiver not ready (NO_MATCH) waits the
 * RNR delay, up to rnr_retry times (7: forever).  A target QP that does
 * not exist or does not take requests (yet, or any more) is treated as
 * IB treats a request that gets no answer: sent again after the QP's
 * timeout, up to retry_cnt times - without holding up the PDC, which
 * other QPs share.
 */
static void uet_tx_retry(struct uet_qp *qp, struct uet_swqe *swqe, u32 index,
			 bool rnr)
{
	struct uet_dev *udev = to_uet_dev(qp->ibqp.device);
	unsigned long delay;
	u32 i;

	if (rnr && qp->attr.rnr_retry != 7 && !qp->rnr_left--) {
		swqe->status = IB_WC_RNR_RETRY_EXC_ERR;
		swqe->done = true;
		return;
	}
	if (!rnr && !qp->retry_left--) {
		swqe->status = IB_WC_RETRY_EXC_ERR;
		swqe->done = true;
		return;
	}
	if (rnr) {
		uet_count(udev, UET_CNT_RNR_RETRIES);
		delay = usecs_to_jiffies(uet_rnr_us[qp->attr.min_rnr_timer & 31]);
	} else {
		uet_count(udev, UET_CNT_RETRANSMITS);
		delay = msecs_to_jiffies(uet_tx_rto_ms(qp));
	}
	/*
	 * RC and UC: the target took nothing after the refused message, so
	 * all of it is sent again.  RU: the messages after it went to their
	 * targets, maybe other ones; only the refused one starts over, and
	 * the engine skips over those already sent.
	 */
	for (i = index; i != qp->sq_send + (qp->sq_send != qp->sq_fetch);
	     i++) {
		struct uet_swqe *s = uet_swqe_at(qp, i);

		if (s->done || (uet_qp_is_ru(qp) && i != index))
			continue;
		s->attempt++;
		s->sent = 0;
		s->pkts = 0;
		s->rsp_need = 0;
		s->rsp_got = 0;
	}
	qp->sq_send = index;
	qp->retry_wait = true;
	mod_timer(&qp->retry_timer, jiffies + delay);
}

static enum ib_wc_status uet_rc_to_status(u8 rc)
{
	switch (rc) {
	case UET_RC_OK:
		return IB_WC_SUCCESS;
	case UET_RC_BAD_MKEY:
	case UET_RC_BAD_ADDR:
	case UET_RC_OP_VIOLATION:
	case UET_RC_PERM_VIOLATION:
		return IB_WC_REM_ACCESS_ERR;
	case UET_RC_TOO_LONG:
	case UET_RC_UNSUPPORTED_OP:
	case UET_RC_UNSUPPORTED_SIZE:
	case UET_RC_BAD_JOB_ID:
	case UET_RC_AMO_UNALIGNED:
	case UET_RC_AMO_UNSUPPORTED_OP:
	case UET_RC_AMO_UNSUPPORTED_DT:
		return IB_WC_REM_INV_REQ_ERR;
	default:
		return IB_WC_REM_OP_ERR;
	}
}

/* Place READ data or an atomic's result; -EFAULT if it does not fit. */
static int uet_tx_fetched(struct uet_qp *qp, struct uet_swqe *swqe,
			  const struct uet_tx_done *done, const void *data,
			  u32 len)
{
	u32 opcode = swqe->wqe.opcode;
	u64 value;

	if (opcode == IB_UVERBS_WR_RDMA_READ) {
		if (!data || len != min(uet_tx_mtu(qp), swqe->len - done->off))
			return -EFAULT;
		return uet_tx_copy(qp, swqe, done->off, (void *)data, len,
				   true);
	}
	if (uet_wr_is_atomic(opcode)) {
		if (!data || len != sizeof(value))
			return -EFAULT;
		value = get_unaligned_be64(data);
		return uet_tx_copy(qp, swqe, 0, (u8 *)&value, len, true);
	}
	return data ? -EFAULT : 0;
}

/*
 * The WQE a response or failure is for, if it is still waiting: fetched,
 * not done, and of the same attempt.  An RU QP's retry goes back to one
 * WQE while later ones, sent already, still wait for their responses.
 */
static struct uet_swqe *uet_tx_waiting(struct uet_qp *qp,
				       const struct uet_tx_done *done)
{
	struct uet_swqe *swqe;

	if (done->wqe_index - qp->sq.consumer >=
	    qp->sq_fetch - qp->sq.consumer)
		return NULL;
	swqe = uet_swqe_at(qp, done->wqe_index);
	if (swqe->done || !swqe->pkts || swqe->attempt != done->attempt)
		return NULL;
	return swqe;
}

/**
 * uet_tx_response - the SES response to a message's packet arrived
 * @udev: the device
 * @done: which message (QP, WQE, attempt)
 * @rc: its return code
 * @data: READ data or an atomic's original value, or NULL
 * @len: bytes at @data
 *
 * Context: softirq.
 */
void uet_tx_response(struct uet_dev *udev, const struct uet_tx_done *done,
		     u8 rc, const void *data, u32 len)
{
	struct uet_swqe *swqe;
	struct uet_qp *qp;

	qp = uet_qp_get(udev, done->qpn);
	if (!qp)
		return;
	spin_lock_bh(&qp->sq.lock);
	swqe = uet_tx_waiting(qp, done);
	if (!swqe)
		goto out_unlock;
	if (qp->ibqp.qp_type == IB_QPT_UC) {
		/*
		 * UC has no responses: a message the target dropped is
		 * lost, not retried; the target may answer before the end.
		 */
		swqe->rsp_got++;
		swqe->done = swqe->sent == swqe->len &&
			     swqe->rsp_got >= swqe->rsp_need;
	} else if (rc == UET_RC_NO_MATCH) {
		uet_tx_retry(qp, swqe, done->wqe_index, true);
	} else if (rc == UET_RC_BAD_INDEX || rc == UET_RC_BAD_PID ||
		   rc == UET_RC_DISABLED) {
		uet_tx_retry(qp, swqe, done->wqe_index, false);
	} else if (rc != UET_RC_OK) {
		swqe->status = uet_rc_to_status(rc);
		swqe->done = true;
	} else if (uet_tx_fetched(qp, swqe, done, data, len)) {
		swqe->status = IB_WC_LOC_PROT_ERR;
		swqe->done = true;
	} else {
		qp->rnr_left = qp->attr.rnr_retry;
		qp->retry_left = qp->attr.retry_cnt;
		/* Done when every response it asked for said so. */
		swqe->rsp_got++;
		swqe->done = swqe->sent == swqe->len &&
			     swqe->rsp_got == swqe->rsp_need;
	}
	uet_tx_complete(qp);
out_unlock:
	spin_unlock_bh(&qp->sq.lock);
	uet_qp_put(qp);
}

/**
 * uet_tx_failed - a message's packets can no longer be delivered
 * @udev: the device
 * @done: which message
 * @status: its completion status
 *
 * Context: any.
 */
void uet_tx_failed(struct uet_dev *udev, const struct uet_tx_done *done,
		   enum ib_wc_status status)
{
	struct uet_swqe *swqe;
	struct uet_qp *qp;

	qp = uet_qp_get(udev, done->qpn);
	if (!qp)
		return;
	spin_lock_bh(&qp->sq.lock);
	swqe = uet_tx_waiting(qp, done);
	if (swqe) {
		/* Lost on UC: the sender of a UC message never learns it. */
		if (qp->ibqp.qp_type != IB_QPT_UC)
			swqe->status = status;
		swqe->done = true;
		uet_tx_complete(qp);
	}
	spin_unlock_bh(&qp->sq.lock);
	uet_qp_put(qp);
}

int uet_tx_qp_init(struct uet_qp *qp)
{
	qp->swqe = kvcalloc(qp->sq.queue.entries, sizeof(*qp->swqe),
			    GFP_KERNEL);
	if (!qp->swqe)
		return -ENOMEM;
	timer_setup(&qp->retry_timer, uet_tx_retry_timer, 0);
	return 0;
}

void uet_tx_qp_fini(struct uet_qp *qp)
{
	timer_shutdown_sync(&qp->retry_timer);
	if (qp->pdc)
		uet_pdc_put(qp->pdc);
	kvfree(qp->swqe);
}

void uet_tx_ctx_init(struct uet_ucontext *uctx)
{
	INIT_WORK(&uctx->tx_work, uet_tx_work);
	spin_lock_init(&uctx->qps_lock);
	INIT_LIST_HEAD(&uctx->qps);
}

void uet_tx_ctx_fini(struct uet_ucontext *uctx)
{
	cancel_work_sync(&uctx->tx_work);
}

/* PDCs are freed on the engine's workqueue, flushed at device removal. */
void uet_tx_queue_work(struct work_struct *work)
{
	queue_work(uet_tx_wq, work);
}

void uet_tx_flush_work(void)
{
	flush_workqueue(uet_tx_wq);
}

int uet_tx_init(void)
{
	uet_tx_wq = alloc_workqueue("uet_tx", WQ_UNBOUND, 0);
	return uet_tx_wq ? 0 : -ENOMEM;
}

void uet_tx_fini(void)
{
	destroy_workqueue(uet_tx_wq);
}
