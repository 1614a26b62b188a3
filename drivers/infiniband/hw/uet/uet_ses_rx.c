// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Semantic Sublayer at the target: a request that PDS delivered is
 * checked against the QP it addresses (JobID, PIDonFEP and resource
 * index, the connected peer, keys, access rights, bounds), its payload
 * is written straight into the registered pages, receives complete into
 * the mapped CQ ring, and the message's response code is returned for
 * PDS to carry back in an ACK.
 *
 * Verbs semantics on UET fields (see Documentation/infiniband/uet.rst):
 * the QPN is resource_index << 12 | PIDonFEP, the initiator field carries
 * the source QPN, memory_key the rkey (or the Q_Key of a datagram), and
 * header_data the immediate in its low 32 bits with UET_HDATA_IMM and
 * UET_HDATA_SOLICITED above it.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/unaligned.h>

#include "uet_pds.h"

/* A receive WQE taken from an RQ or SRQ ring, and what it can hold. */
static bool uet_wq_take(struct uet_wq *wq, struct uet_recv_wqe *rwqe)
{
	struct uet_recv_wqe *slot;
	bool taken = false;
	u32 producer;

	spin_lock(&wq->lock);
	/* The WQEs up to producer are written before it is published. */
	producer = smp_load_acquire(&wq->queue.hdr->producer);
	if (producer != wq->consumer &&
	    producer - wq->consumer <= wq->queue.entries) {
		slot = uet_queue_slot(&wq->queue, wq->consumer);
		memcpy(rwqe, slot, sizeof(*rwqe));
		wq->consumer++;
		/* The slot was read before it is handed back. */
		smp_store_release(&wq->queue.hdr->consumer, wq->consumer);
		taken = true;
	}
	spin_unlock(&wq->lock);
	return taken;
}

static void uet_srq_limit_check(struct uet_srq *srq)
{
	u32 limit = READ_ONCE(srq->limit);
	struct ib_event ev = {
		.device = srq->ibsrq.device,
		.element.srq = &srq->ibsrq,
		.event = IB_EVENT_SRQ_LIMIT_REACHED,
	};

	if (!limit || READ_ONCE(srq->rq.queue.hdr->producer) -
		      READ_ONCE(srq->rq.consumer) >= limit)
		return;
	/* The limit fires once; it must be armed again. */
	if (cmpxchg(&srq->limit, limit, 0) == limit &&
	    srq->ibsrq.event_handler)
		srq->ibsrq.event_handler(&ev, srq->ibsrq.srq_context);
}

bool uet_qp_take_recv(struct uet_qp *qp, struct uet_recv_wqe *rwqe)
{
	struct uet_srq *srq;

	if (!qp->ibqp.srq)
		return uet_wq_take(&qp->rq, rwqe);
	srq = to_uet_srq(qp->ibqp.srq);
	if (!uet_wq_take(&srq->rq, rwqe))
		return false;
	uet_srq_limit_check(srq);
	return true;
}

/* Bytes a receive WQE can hold; 0 when it is malformed. */
u64 uet_recv_capacity(const struct uet_recv_wqe *rwqe, u32 max_sge)
{
	u64 len = 0;
	u32 i;

	if (rwqe->num_sge > max_sge)
		return 0;
	for (i = 0; i < rwqe->num_sge; i++)
		len += rwqe->sge[i].length;
	return len;
}

/*
 * Scatter @len bytes at @off of a message into the receive buffers.
 * Return: 0, or -EFAULT when an SGE names no local-write MR of the PD.
 */
int uet_recv_place(struct uet_qp *qp, const struct uet_recv_wqe *rwqe,
		   u64 off, const void *data, u32 len)
{
	return uet_sge_copy(to_uet_dev(qp->ibqp.device), qp->ibqp.pd,
			    rwqe->sge, rwqe->num_sge, off, (void *)data, len,
			    true);
}

void uet_recv_complete(struct uet_qp *qp, u64 wr_id, enum ib_wc_status status,
		       enum ib_wc_opcode op, u32 byte_len, u32 src_qp, u64 hdata,
		       unsigned int flags)
{
	struct uet_cqe cqe = {
		.wr_id = wr_id,
		.status = status,
		.opcode = op,
		.byte_len = byte_len,
		.qp_num = qp->ibqp.qp_num,
		.src_qp = src_qp,
		.flags = flags,
		.job_id = qp->job_id,
	};

	if (hdata & UET_HDATA_IMM) {
		cqe.imm_data = cpu_to_be32(lower_32_bits(hdata));
		cqe.flags |= UET_CQE_WITH_IMM;
	}
	uet_cq_post(to_uet_cq(qp->ibqp.recv_cq), &cqe,
		    status != IB_WC_SUCCESS || hdata & UET_HDATA_SOLICITED);
}

static int uet_req_parse(struct uet_dev *udev, struct sk_buff *skb,
			 struct uet_req *r)
{
	const struct uet_ses_std *ses = (const struct uet_ses_std *)skb->data;

	r->ses = ses;
	r->opcode = FIELD_GET(UET_SES_OPCODE, ses->opcode);
	r->som = ses->flags & UET_SES_SOM;
	r->eom = ses->flags & UET_SES_EOM;
	r->message_id = be16_to_cpu(ses->message_id);
	r->job = FIELD_GET(UET_SES_JOB, be32_to_cpu(ses->gen_job));
	r->qpn = FIELD_GET(UET_SES_RI, be16_to_cpu(ses->resource_index)) << 12 |
		 FIELD_GET(UET_SES_PID, be16_to_cpu(ses->pid_on_fep));
	r->src_qpn = be32_to_cpu(ses->initiator);
	r->mlen = be32_to_cpu(ses->request_length);
	r->data = skb->data + sizeof(*ses);
	r->len = skb->len - sizeof(*ses);

	if (FIELD_GET(UET_SES_VERSION, ses->flags) ||
	    ses->flags & (UET_SES_REL | UET_SES_IE)) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_HDR);
		return -EINVAL;
	}
	/* An atomic's extension header sits between SES and payload. */
	r->amo = NULL;
	if (r->opcode == UET_SES_FETCHING_ATOMIC ||
	    r->opcode == UET_SES_ATOMIC) {
		unsigned int ext = sizeof(struct uet_ses_atomic);

		if (r->len >= ext &&
		    r->opcode == UET_SES_FETCHING_ATOMIC &&
		    ((const struct uet_ses_atomic *)r->data)->atomic_opcode ==
		    UET_AMO_CSWAP)
			ext = sizeof(struct uet_ses_cas);
		if (r->len < ext) {
			uet_count(udev, UET_CNT_RX_DROP_SHORT);
			return -EINVAL;
		}
		r->amo = r->data;
		r->data += ext;
		r->len -= ext;
	}
	/*
	 * READs and atomics are one packet; a READ asks for request_length
	 * bytes and carries none, an atomic's operands are checked with it.
	 */
	if (r->opcode == UET_SES_READ || r->amo) {
		if (!r->som || !r->eom ||
		    (r->opcode == UET_SES_READ && r->len)) {
			uet_count(udev, UET_CNT_RX_DROP_BAD_LEN);
			return -EINVAL;
		}
		r->off = 0;
		return 0;
	}
	if (r->som) {
		r->off = 0;
	} else {
		r->off = be32_to_cpu(ses->message_offset);
		if (FIELD_GET(UET_SES_PAYLOAD_LEN,
			      be32_to_cpu(ses->payload_length)) != r->len) {
			uet_count(udev, UET_CNT_RX_DROP_BAD_LEN);
			return -EINVAL;
		}
	}
	if (r->off > r->mlen || r->len > r->mlen - r->off ||
	    (r->eom && r->off + r->len != r->mlen)) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_LEN);
		return -EINVAL;
	}
	return 0;
}

static void uet_rsp_fill(struct uet_rsp_slot *slot, const struct uet_req *r,
			 u8 rc, u32 modified)
{
	struct uet_ses_rsp *rsp = &slot->rsp;

	if (rc != UET_RC_OK)
		slot->kind = UET_RSP_PLAIN;
	rsp->list_opcode = FIELD_PREP(UET_RSP_OPCODE, UET_RSP_RESPONSE);
	rsp->version_rc = FIELD_PREP(UET_RSP_RC, rc);
	rsp->message_id = r->ses->message_id;
	rsp->gen_job = cpu_to_be32(r->job);
	rsp->modified_length = cpu_to_be32(modified);
}

/*
 * A SEND: the first packet takes a receive WQE, every packet lands at its
 * message offset, the last one completes the receive.
 */
static u8 uet_rcv_send(struct uet_qp *qp, const struct uet_req *r,
		       bool *respond)
{
	struct uet_dev *udev = to_uet_dev(qp->ibqp.device);
	struct uet_rx_msg *m = &qp->rx;

	if (r->som) {
		/* A UC message cut short leaves its receive to the next. */
		if (!m->active && !uet_qp_take_recv(qp, &m->rwqe)) {
			uet_count(udev, UET_CNT_RX_DROP_NO_RECV);
			qp->rnr_nak = true;
			qp->rnr_msg = r->message_id;
			*respond = true;
			return UET_RC_NO_MATCH;
		}
		m->active = true;
		m->failed = false;
		m->rc = UET_RC_OK;
		m->message_id = r->message_id;
		m->len = r->mlen;
		m->hdata = r->ses->flags & UET_SES_HD ?
			   get_unaligned_be64(&r->ses->header_data) : 0;
		if (uet_recv_capacity(&m->rwqe, qp->rq_max_sge) < r->mlen) {
			uet_count(udev, UET_CNT_RX_DROP_BAD_LEN);
			m->failed = true;
			m->rc = UET_RC_TOO_LONG;
			m->status = IB_WC_LOC_LEN_ERR;
		}
	} else if (!m->active || m->message_id != r->message_id) {
		/* The start of this message was refused or never came. */
		uet_count(udev, UET_CNT_RX_DROP_BAD_LEN);
		*respond = r->eom;
		return UET_RC_NO_MATCH;
	}

	if (m->failed) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_LEN);
	} else if (uet_recv_place(qp, &m->rwqe, r->off, r->data, r->len)) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_KEY);
		m->failed = true;
		m->rc = UET_RC_UNCOR;
		m->status = IB_WC_LOC_PROT_ERR;
	}
	if (!r->eom)
		return UET_RC_OK;

	m->active = false;
	*respond = true;
	if (m->failed) {
		uet_recv_complete(qp, m->rwqe.wr_id, m->status, IB_WC_RECV, 0,
				  r->src_qpn, 0, 0);
		return m->rc;
	}
	uet_recv_complete(qp, m->rwqe.wr_id, IB_WC_SUCCESS, IB_WC_RECV, m->len,
			  r->src_qpn, m->hdata, 0);
	return UET_RC_OK;
}

/* An RDMA WRITE: each packet is checked on its own and placed. */
static u8 uet_rcv_write(struct uet_qp *qp, const struct uet_req *r,
			bool *respond)
{
	struct uet_dev *udev = to_uet_dev(qp->ibqp.device);
	u64 va = get_unaligned_be64(&r->ses->buffer_offset);
	u32 rkey = lower_32_bits(get_unaligned_be64(&r->ses->memory_key));
	struct uet_recv_wqe rwqe;
	struct uet_mr *mr;
	u64 hdata;
	u8 rc = UET_RC_OK;

	if (r->mlen) {
		mr = uet_mr_get(udev, rkey, qp->ibqp.pd);
		if (!mr) {
			rc = UET_RC_BAD_MKEY;
		} else if (!uet_mr_job_ok(mr, qp->job_id)) {
			rc = UET_RC_PERM_VIOLATION;
		} else if (!(mr->access & IB_ACCESS_REMOTE_WRITE) ||
			   !(qp->attr.qp_access_flags & IB_ACCESS_REMOTE_WRITE)) {
			rc = UET_RC_OP_VIOLATION;
		} else if (!uet_mr_covers(mr, va, r->mlen)) {
			rc = UET_RC_BAD_ADDR;
		} else {
			uet_mr_copy(mr, va + r->off, (void *)r->data, r->len,
				    true);
		}
		if (mr)
			uet_mr_put(mr);
		if (rc != UET_RC_OK) {
			uet_count(udev, UET_CNT_RX_DROP_BAD_KEY);
			*respond = true;
			return rc;
		}
	}
	/* Only the first packet carries the header data. */
	if (r->som) {
		qp->rx.write_id = r->message_id;
		qp->rx.write_hdata = r->ses->flags & UET_SES_HD ?
			get_unaligned_be64(&r->ses->header_data) : 0;
	}
	if (!r->eom)
		return UET_RC_OK;

	*respond = true;
	hdata = qp->rx.write_id == r->message_id ? qp->rx.write_hdata : 0;
	if (!(hdata & UET_HDATA_IMM))
		return UET_RC_OK;
	/* WRITE with immediate consumes a receive at the end. */
	if (!uet_qp_take_recv(qp, &rwqe)) {
		uet_count(udev, UET_CNT_RX_DROP_NO_RECV);
		qp->rnr_nak = true;
		qp->rnr_msg = r->message_id;
		return UET_RC_NO_MATCH;
	}
	uet_recv_complete(qp, rwqe.wr_id, IB_WC_SUCCESS,
			  IB_WC_RECV_RDMA_WITH_IMM, r->mlen, r->src_qpn, hdata,
			  0);
	return UET_RC_OK;
}

/* The target region of an RDMA operation: rkey, rights and bounds. */
u8 uet_rkey_check(struct uet_qp *qp, u32 rkey, u64 va, u64 len, int access,
		  struct uet_mr **mrp)
{
	struct uet_dev *udev = to_uet_dev(qp->ibqp.device);
	struct uet_mr *mr;

	mr = uet_mr_get(udev, rkey, qp->ibqp.pd);
	if (!mr)
		return UET_RC_BAD_MKEY;
	if (!uet_mr_job_ok(mr, qp->job_id)) {
		uet_mr_put(mr);
		return UET_RC_PERM_VIOLATION;
	}
	if (!(mr->access & access) || !(qp->attr.qp_access_flags & access)) {
		uet_mr_put(mr);
		return UET_RC_OP_VIOLATION;
	}
	if (!uet_mr_covers(mr, va, len)) {
		uet_mr_put(mr);
		return UET_RC_BAD_ADDR;
	}
	*mrp = mr;
	return UET_RC_OK;
}

/*
 * An RDMA READ of at most one packet's worth (the initiator splits
 * larger ones): checked now, its data read when the response is sent.
 */
static u8 uet_rcv_read(struct uet_qp *qp, const struct uet_req *r,
		       struct uet_rsp_slot *slot)
{
	struct uet_dev *udev = to_uet_dev(qp->ibqp.device);
	struct uet_mr *mr;
	u8 rc;

	slot->kind = UET_RSP_READ;
	slot->qpn = qp->ibqp.qp_num;
	slot->va = get_unaligned_be64(&r->ses->buffer_offset);
	slot->rkey = lower_32_bits(get_unaligned_be64(&r->ses->memory_key));
	if (r->mlen > uet_dev_mtu(udev)) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_LEN);
		return UET_RC_UNSUPPORTED_SIZE;
	}
	if (!r->mlen)
		return UET_RC_OK;
	rc = uet_rkey_check(qp, slot->rkey, slot->va, r->mlen,
			    IB_ACCESS_REMOTE_READ, &mr);
	if (rc != UET_RC_OK) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_KEY);
		return rc;
	}
	uet_mr_put(mr);
	return UET_RC_OK;
}

/**
 * uet_ses_read_data - the data a READ response carries
 * @udev: the device
 * @slot: the READ's response
 * @buf: where the data goes (modified_length bytes)
 *
 * Context: softirq.
 * Return: UET_RC_OK, or why the data can no longer be read.
 */
u8 uet_ses_read_data(struct uet_dev *udev, const struct uet_rsp_slot *slot,
		     void *buf)
{
	u32 len = be32_to_cpu(slot->rsp.modified_length);
	struct uet_mr *mr;
	struct uet_qp *qp;
	u8 rc;

	if (!len)
		return UET_RC_OK;
	qp = uet_qp_get(udev, slot->qpn);
	if (!qp)
		return UET_RC_BAD_INDEX;
	rc = uet_rkey_check(qp, slot->rkey, slot->va, len,
			    IB_ACCESS_REMOTE_READ, &mr);
	if (rc == UET_RC_OK) {
		uet_mr_copy(mr, slot->va, buf, len, false);
		uet_mr_put(mr);
	}
	uet_qp_put(qp);
	return rc;
}

/*
 * Fetch-and-add and compare-and-swap on 64 bits: atomic among all uet
 * operations on the device (IB_ATOMIC_HCA), executed once; a replayed
 * response carries the value kept in @slot.
 */
static u8 uet_rcv_atomic(struct uet_qp *qp, const struct uet_req *r,
			 struct uet_rsp_slot *slot)
{
	struct uet_dev *udev = to_uet_dev(qp->ibqp.device);
	u64 va = get_unaligned_be64(&r->ses->buffer_offset);
	u32 rkey = lower_32_bits(get_unaligned_be64(&r->ses->memory_key));
	const struct uet_ses_cas *cas = (const void *)r->amo;
	u64 old, new;
	struct uet_mr *mr;
	u8 rc;

	if (r->amo->datatype != UET_AMO_UINT64 ||
	    (r->amo->atomic_opcode != UET_AMO_SUM &&
	     r->amo->atomic_opcode != UET_AMO_CSWAP)) {
		uet_count(udev, UET_CNT_RX_DROP_UNSUPPORTED);
		return r->amo->datatype != UET_AMO_UINT64 ?
		       UET_RC_AMO_UNSUPPORTED_DT : UET_RC_AMO_UNSUPPORTED_OP;
	}
	if (r->mlen != sizeof(u64) ||
	    r->len != (r->amo->atomic_opcode == UET_AMO_SUM ? sizeof(u64) : 0)) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_LEN);
		return UET_RC_UNSUPPORTED_SIZE;
	}
	if (!IS_ALIGNED(va, sizeof(u64))) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_KEY);
		return UET_RC_AMO_UNALIGNED;
	}
	rc = uet_rkey_check(qp, rkey, va, sizeof(u64),
			    IB_ACCESS_REMOTE_ATOMIC, &mr);
	if (rc != UET_RC_OK) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_KEY);
		return rc;
	}

	spin_lock(&udev->atomic_lock);
	uet_mr_copy(mr, va, &old, sizeof(old), false);
	if (r->amo->atomic_opcode == UET_AMO_SUM)
		new = old + get_unaligned_be64(r->data);
	else if (old == get_unaligned_be64(cas->compare))
		new = get_unaligned_be64(cas->swap);
	else
		new = old;
	uet_mr_copy(mr, va, &new, sizeof(new), true);
	spin_unlock(&udev->atomic_lock);
	uet_mr_put(mr);

	slot->kind = UET_RSP_FETCHED;
	slot->fetched = old;
	return UET_RC_OK;
}

/*
 * An atomic write (IB_WR_ATOMIC_WRITE): 64 bits stored at once, atomic
 * with the other atomics, into memory open to remote writes.
 */
static u8 uet_rcv_amo_write(struct uet_qp *qp, const struct uet_req *r)
{
	struct uet_dev *udev = to_uet_dev(qp->ibqp.device);
	u64 va = get_unaligned_be64(&r->ses->buffer_offset);
	u32 rkey = lower_32_bits(get_unaligned_be64(&r->ses->memory_key));
	struct uet_mr *mr;
	u64 value;
	u8 rc;

	if (r->amo->datatype != UET_AMO_UINT64 ||
	    r->amo->atomic_opcode != UET_AMO_WRITE) {
		uet_count(udev, UET_CNT_RX_DROP_UNSUPPORTED);
		return r->amo->datatype != UET_AMO_UINT64 ?
		       UET_RC_AMO_UNSUPPORTED_DT : UET_RC_AMO_UNSUPPORTED_OP;
	}
	if (r->mlen != sizeof(u64) || r->len != sizeof(u64)) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_LEN);
		return UET_RC_UNSUPPORTED_SIZE;
	}
	if (!IS_ALIGNED(va, sizeof(u64))) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_KEY);
		return UET_RC_AMO_UNALIGNED;
	}
	rc = uet_rkey_check(qp, rkey, va, sizeof(u64), IB_ACCESS_REMOTE_WRITE,
			    &mr);
	if (rc != UET_RC_OK) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_KEY);
		return rc;
	}
	value = get_unaligned_be64(r->data);
	spin_lock(&udev->atomic_lock);
	uet_mr_copy(mr, va, &value, sizeof(value), true);
	spin_unlock(&udev->atomic_lock);
	uet_mr_put(mr);
	return UET_RC_OK;
}

/* The counter a packet of a UC message dropped for @rc moves. */
static enum uet_counter uet_rc_counter(u8 rc)
{
	switch (rc) {
	case UET_RC_NO_MATCH:
		return UET_CNT_RX_DROP_NO_RECV;
	case UET_RC_UNSUPPORTED_OP:
		return UET_CNT_RX_DROP_UNSUPPORTED;
	default:
		return UET_CNT_RX_DROP_BAD_KEY;
	}
}

static bool uet_rc_peer_ok(struct uet_qp *qp, const struct uet_req *r,
			   const struct uet_rx_info *info)
{
	int state = READ_ONCE(qp->state);

	return qp->ibqp.qp_type != IB_QPT_UD &&
	       (state == IB_QPS_RTR || state == IB_QPS_RTS ||
		state == IB_QPS_SQD) &&
	       r->src_qpn == qp->attr.dest_qp_num &&
	       ipv6_addr_equal(&info->path.saddr, &qp->av.path.daddr);
}

/*
 * A request to an RU QP: answered packet by packet, and never a reason
 * for the QP to stop taking requests from anyone else.
 */
static void uet_ses_ru_rcv(struct uet_qp *qp, const struct uet_req *r,
			   const struct uet_rx_info *info,
			   struct uet_rsp_slot *slot)
{
	u8 rc;

	spin_lock(&qp->rx_lock);
	switch (r->opcode) {
	case UET_SES_SEND:
	case UET_SES_WRITE:
		rc = uet_ses_ru_msg(qp, r, info);
		break;
	case UET_SES_READ:
		rc = uet_rcv_read(qp, r, slot);
		break;
	default:
		uet_count(to_uet_dev(qp->ibqp.device),
			  UET_CNT_RX_DROP_UNSUPPORTED);
		rc = UET_RC_UNSUPPORTED_OP;
		break;
	}
	spin_unlock(&qp->rx_lock);
	/* A READ's response carries its data; the others count a packet. */
	uet_rsp_fill(slot, r, rc, rc != UET_RC_OK ? 0 :
		     r->opcode == UET_SES_READ ? r->mlen : r->len);
}

/**
 * uet_ses_rcv - act on one request PDS delivered
 * @udev: the device
 * @skb: the request from its SES header on
 * @info: where it came from
 * @mode: the PDS mode it came with (UET_PDS_ROD_REQ or UET_PDS_RUD_REQ)
 * @slot: the response to send back, if any
 *
 * Context: softirq, under the PDC's lock (requests of a PDC arrive here
 * one at a time: in PSN order with ROD, as they came with RUD).
 * Return: true if @slot was filled in: at the end of a message, for
 * every READ and atomic, or when the request was refused.
 */
bool uet_ses_rcv(struct uet_dev *udev, struct sk_buff *skb,
		 const struct uet_rx_info *info, u8 mode,
		 struct uet_rsp_slot *slot)
{
	bool respond = false;
	struct uet_req r;
	struct uet_qp *qp;
	u8 rc;

	slot->kind = UET_RSP_PLAIN;
	if (uet_req_parse(udev, skb, &r)) {
		uet_rsp_fill(slot, &r, UET_RC_UNSUPPORTED_SIZE, 0);
		return true;
	}
	/* Only a QP of the packet's job takes it (no QP: the default job). */
	qp = uet_qp_get(udev, r.qpn);
	if (r.job != (qp ? qp->job_id : UET_DEFAULT_JOB)) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_JOB);
		uet_rsp_fill(slot, &r, UET_RC_BAD_JOB_ID, 0);
		respond = true;
		goto out_put;
	}
	if (!qp || !(uet_qp_is_ru(qp) ? READ_ONCE(qp->state) == IB_QPS_RTS :
				       uet_rc_peer_ok(qp, &r, info))) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_QP);
		uet_rsp_fill(slot, &r, qp ? UET_RC_BAD_PID : UET_RC_BAD_INDEX, 0);
		respond = true;
		goto out_put;
	}
	if (uet_qp_is_ru(qp)) {
		uet_ses_ru_rcv(qp, &r, info, slot);
		respond = true;
		goto out_put;
	}
	/* RC and UC execute in order: only what came over ROD. */
	if (mode != UET_PDS_ROD_REQ) {
		uet_count(udev, UET_CNT_RX_DROP_UNSUPPORTED);
		uet_rsp_fill(slot, &r, UET_RC_UNSUPPORTED_OP, 0);
		respond = true;
		goto out_put;
	}

	spin_lock(&qp->rx_lock);
	/* After refusing a request, nothing behind it may execute. */
	if (qp->rx_dead) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_QP);
		spin_unlock(&qp->rx_lock);
		uet_rsp_fill(slot, &r, UET_RC_DISABLED, 0);
		respond = true;
		goto out_put;
	}
	if (qp->rx.discard) {
		if (!r.som) {
			uet_count(udev, uet_rc_counter(qp->rx.discard_rc));
			uet_rsp_fill(slot, &r, qp->rx.discard_rc, 0);
			respond = r.eom;
			qp->rx.discard = !r.eom;
			spin_unlock(&qp->rx_lock);
			goto out_put;
		}
		qp->rx.discard = false;
	}
	if (qp->rnr_nak) {
		if (r.som && r.message_id == qp->rnr_msg) {
			qp->rnr_nak = false;
		} else {
			/* Everything after a refused message waits for it. */
			uet_count(udev, UET_CNT_RX_DROP_NO_RECV);
			spin_unlock(&qp->rx_lock);
			uet_rsp_fill(slot, &r, UET_RC_NO_MATCH, 0);
			respond = r.eom;
			goto out_put;
		}
	}
	switch (r.opcode) {
	case UET_SES_SEND:
		rc = uet_rcv_send(qp, &r, &respond);
		break;
	case UET_SES_WRITE:
		rc = uet_rcv_write(qp, &r, &respond);
		break;
	case UET_SES_READ:
		if (qp->ibqp.qp_type != IB_QPT_RC)
			goto unsupported;
		rc = uet_rcv_read(qp, &r, slot);
		respond = true;
		break;
	case UET_SES_FETCHING_ATOMIC:
		if (qp->ibqp.qp_type != IB_QPT_RC)
			goto unsupported;
		rc = uet_rcv_atomic(qp, &r, slot);
		respond = true;
		break;
	case UET_SES_ATOMIC:
		if (qp->ibqp.qp_type != IB_QPT_RC)
			goto unsupported;
		rc = uet_rcv_amo_write(qp, &r);
		respond = true;
		break;
	default:
unsupported:
		uet_count(udev, UET_CNT_RX_DROP_UNSUPPORTED);
		rc = UET_RC_UNSUPPORTED_OP;
		respond = true;
		break;
	}
	if (rc != UET_RC_OK && qp->ibqp.qp_type == IB_QPT_UC &&
	    (rc == UET_RC_NO_MATCH || r.opcode != UET_SES_SEND)) {
		/*
		 * A UC responder drops a message it cannot take and goes
		 * on with the next one; nothing waits for it to be sent
		 * again.  Only a receive completed in error (a SEND too
		 * long, or landing outside its buffers) stops it, below.
		 */
		qp->rnr_nak = false;
		qp->rx.discard = !r.eom;
		qp->rx.discard_rc = rc;
		respond = r.eom;
	} else if (rc != UET_RC_OK && rc != UET_RC_NO_MATCH && !qp->rx_dead) {
		/*
		 * An RC responder that refused a request goes to the error
		 * state, as on IB: the requests behind it are never executed.
		 */
		qp->rx_dead = true;
		uet_qp_async_error(qp);
	}
	spin_unlock(&qp->rx_lock);
	uet_rsp_fill(slot, &r, rc, rc == UET_RC_OK ? r.mlen : 0);
out_put:
	if (qp)
		uet_qp_put(qp);
	return respond;
}

/* The 40-byte GRH area of a UD receive: the IP header it came with. */
static void uet_ud_grh(const struct uet_rx_info *info, u32 paylen, u8 *grh)
{
	memset(grh, 0, UET_GRH_BYTES);
	if (info->path.ipv4) {
		struct iphdr *iph = (struct iphdr *)(grh + 20);

		iph->version = 4;
		iph->ihl = 5;
		iph->tos = info->tclass;
		iph->ttl = info->hop_limit;
		iph->protocol = IPPROTO_UDP;
		iph->tot_len = cpu_to_be16(sizeof(*iph) + paylen);
		iph->saddr = info->path.saddr.s6_addr32[3];
		iph->daddr = info->path.daddr.s6_addr32[3];
		iph->check = ip_fast_csum(iph, iph->ihl);
	} else {
		struct ipv6hdr *ip6h = (struct ipv6hdr *)grh;

		ip6_flow_hdr(ip6h, info->tclass, 0);
		ip6h->payload_len = cpu_to_be16(paylen);
		ip6h->nexthdr = IPPROTO_UDP;
		ip6h->hop_limit = info->hop_limit;
		ip6h->saddr = info->path.saddr;
		ip6h->daddr = info->path.daddr;
	}
}

/**
 * uet_ses_rcv_uud - receive a datagram for a UD QP
 * @udev: the device
 * @skb: the packet from its SES header on
 * @info: where it came from
 *
 * Unreliable: whatever cannot be delivered is counted and dropped.
 *
 * Context: softirq.
 */
void uet_ses_rcv_uud(struct uet_dev *udev, struct sk_buff *skb,
		     const struct uet_rx_info *info)
{
	u8 grh[UET_GRH_BYTES];
	struct uet_recv_wqe rwqe;
	struct uet_req r;
	struct uet_qp *qp;
	u64 hdata;
	int state;
	u32 qkey;

	if (uet_req_parse(udev, skb, &r))
		return;
	if (r.opcode != UET_SES_DATAGRAM_SEND || !r.som || !r.eom) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_HDR);
		return;
	}
	if (r.job != UET_DEFAULT_JOB) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_JOB);
		return;
	}
	qp = uet_qp_get(udev, r.qpn);
	if (!qp) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_QP);
		return;
	}
	state = READ_ONCE(qp->state);
	qkey = lower_32_bits(get_unaligned_be64(&r.ses->memory_key));
	if (qp->ibqp.qp_type != IB_QPT_UD ||
	    (state != IB_QPS_RTR && state != IB_QPS_RTS &&
	     state != IB_QPS_SQD)) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_QP);
		goto out_put;
	}
	if (qkey != qp->attr.qkey) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_KEY);
		goto out_put;
	}

	spin_lock(&qp->rx_lock);
	if (!uet_qp_take_recv(qp, &rwqe)) {
		spin_unlock(&qp->rx_lock);
		uet_count(udev, UET_CNT_RX_DROP_NO_RECV);
		goto out_put;
	}
	hdata = r.ses->flags & UET_SES_HD ?
		get_unaligned_be64(&r.ses->header_data) : 0;
	uet_ud_grh(info, sizeof(struct udphdr) + skb->len, grh);
	if (uet_recv_capacity(&rwqe, qp->rq_max_sge) < UET_GRH_BYTES + r.len) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_LEN);
		uet_recv_complete(qp, rwqe.wr_id, IB_WC_LOC_LEN_ERR, IB_WC_RECV,
				  0, r.src_qpn, 0, 0);
	} else if (uet_recv_place(qp, &rwqe, 0, grh, UET_GRH_BYTES) ||
		   uet_recv_place(qp, &rwqe, UET_GRH_BYTES, r.data, r.len)) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_KEY);
		uet_recv_complete(qp, rwqe.wr_id, IB_WC_LOC_PROT_ERR,
				  IB_WC_RECV, 0, r.src_qpn, 0, 0);
	} else {
		uet_recv_complete(qp, rwqe.wr_id, IB_WC_SUCCESS, IB_WC_RECV,
				  UET_GRH_BYTES + r.len, r.src_qpn, hdata,
				  UET_CQE_GRH);
	}
	spin_unlock(&qp->rx_lock);
out_put:
	uet_qp_put(qp);
}
