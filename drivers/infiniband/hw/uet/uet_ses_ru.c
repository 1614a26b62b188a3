// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * SES at a reliable-unconnected (RU) target.  Many initiators share one
 * RU QP, their messages interleave, and with RUD the packets of one
 * message arrive in any order.  So every multi-packet SEND and WRITE is
 * tracked on its own, by initiator (address, QPN) and message id: a SEND
 * takes a receive with whichever of its packets comes first, each packet
 * lands at its own offset, and the message completes - its receive, or a
 * WRITE's immediate - once its last byte arrived.  PDS delivers each
 * packet exactly once, so counting bytes is enough.
 *
 * Every packet is answered: the initiator completes a message when each
 * of its packets was placed.  A message that fails answers every packet
 * with the failure and is forgotten once they all came; an initiator
 * that retries uses a new message id (uet_tx.c), so the packets of an
 * old attempt never mix with a new one.
 */
#include <linux/unaligned.h>

#include "uet_pds.h"

/* Messages one RU QP assembles at once; beyond, senders wait (RNR). */
#define UET_RU_MAX_MSGS 1024

struct uet_ru_msg {
	struct list_head node;
	struct in6_addr saddr;		/* the initiator's */
	u32 src_qpn;
	u16 message_id;
	u8 rc;				/* UET_RC_OK until it fails */
	u8 status;			/* the receive's, when it failed */
	bool has_rwqe;
	u32 mlen;
	u32 got;			/* payload bytes that arrived */
	u64 hdata;			/* from its first packet */
	struct uet_recv_wqe rwqe;
};

static struct uet_ru_msg *uet_ru_msg_find(struct uet_qp *qp,
					  const struct uet_req *r,
					  const struct uet_rx_info *info)
{
	struct uet_ru_msg *m;

	list_for_each_entry(m, &qp->ru_msgs, node)
		if (m->message_id == r->message_id &&
		    m->src_qpn == r->src_qpn &&
		    ipv6_addr_equal(&m->saddr, &info->path.saddr))
			return m;
	return NULL;
}

static void uet_ru_msg_free(struct uet_qp *qp, struct uet_ru_msg *m)
{
	list_del(&m->node);
	qp->ru_nmsgs--;
	kfree(m);
}

/* A SEND's first packet to arrive: the receive it lands in. */
static void uet_ru_send_start(struct uet_qp *qp, struct uet_ru_msg *m)
{
	struct uet_dev *udev = to_uet_dev(qp->ibqp.device);

	if (!uet_qp_take_recv(qp, &m->rwqe)) {
		m->rc = UET_RC_NO_MATCH;
		return;
	}
	m->has_rwqe = true;
	if (uet_recv_capacity(&m->rwqe, qp->rq_max_sge) < m->mlen) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_LEN);
		m->rc = UET_RC_TOO_LONG;
		m->status = IB_WC_LOC_LEN_ERR;
	}
}

/* A WRITE packet: its own target range, checked and placed. */
static u8 uet_ru_write_place(struct uet_qp *qp, const struct uet_req *r)
{
	u64 va = get_unaligned_be64(&r->ses->buffer_offset);
	u32 rkey = lower_32_bits(get_unaligned_be64(&r->ses->memory_key));
	struct uet_mr *mr;
	u8 rc;

	if (!r->mlen)
		return UET_RC_OK;
	rc = uet_rkey_check(qp, rkey, va, r->mlen, IB_ACCESS_REMOTE_WRITE,
			    &mr);
	if (rc != UET_RC_OK)
		return rc;
	uet_mr_copy(mr, va + r->off, (void *)r->data, r->len, true);
	uet_mr_put(mr);
	return UET_RC_OK;
}

/* All of @m arrived: complete what it completes at the target. */
static u8 uet_ru_msg_end(struct uet_qp *qp, struct uet_ru_msg *m, bool send)
{
	struct uet_dev *udev = to_uet_dev(qp->ibqp.device);
	struct uet_recv_wqe rwqe;

	if (send) {
		if (m->rc == UET_RC_OK)
			uet_recv_complete(qp, m->rwqe.wr_id, IB_WC_SUCCESS,
					  IB_WC_RECV, m->mlen, m->src_qpn,
					  m->hdata, 0);
		else if (m->has_rwqe)
			uet_recv_complete(qp, m->rwqe.wr_id, m->status,
					  IB_WC_RECV, 0, m->src_qpn, 0, 0);
		return m->rc;
	}
	if (m->rc != UET_RC_OK || !(m->hdata & UET_HDATA_IMM))
		return m->rc;
	/* A WRITE with immediate consumes a receive once it is all there. */
	if (!uet_qp_take_recv(qp, &rwqe)) {
		uet_count(udev, UET_CNT_RX_DROP_NO_RECV);
		return UET_RC_NO_MATCH;
	}
	uet_recv_complete(qp, rwqe.wr_id, IB_WC_SUCCESS,
			  IB_WC_RECV_RDMA_WITH_IMM, m->mlen, m->src_qpn,
			  m->hdata, 0);
	return UET_RC_OK;
}

/**
 * uet_ses_ru_msg - one packet of a SEND or WRITE to an RU QP
 * @qp: the target QP
 * @r: the packet
 * @info: where it came from
 *
 * Context: softirq, under qp->rx_lock.
 * Return: the response code for this packet.
 */
u8 uet_ses_ru_msg(struct uet_qp *qp, const struct uet_req *r,
		  const struct uet_rx_info *info)
{
	struct uet_dev *udev = to_uet_dev(qp->ibqp.device);
	bool send = r->opcode == UET_SES_SEND;
	struct uet_ru_msg one = {}, *m;
	bool single = r->som && r->eom;
	u8 rc;

	m = single ? &one : uet_ru_msg_find(qp, r, info);
	if (!m) {
		m = qp->ru_nmsgs < UET_RU_MAX_MSGS ?
		    kzalloc(sizeof(*m), GFP_ATOMIC) : NULL;
		if (!m) {
			uet_count(udev, UET_CNT_RX_DROP_NO_MEM);
			return UET_RC_NO_MATCH;
		}
		list_add_tail(&m->node, &qp->ru_msgs);
		qp->ru_nmsgs++;
	}
	/* A new message: rc is UET_RC_NULL only until its first packet. */
	if (m->rc == UET_RC_NULL) {
		m->saddr = info->path.saddr;
		m->src_qpn = r->src_qpn;
		m->message_id = r->message_id;
		m->mlen = r->mlen;
		m->rc = UET_RC_OK;
		if (send)
			uet_ru_send_start(qp, m);
	} else if (m->mlen != r->mlen) {
		/* Packets of one message disagree on its length. */
		uet_count(udev, UET_CNT_RX_DROP_BAD_LEN);
		return UET_RC_UNSUPPORTED_SIZE;
	}
	if (r->som)
		m->hdata = r->ses->flags & UET_SES_HD ?
			   get_unaligned_be64(&r->ses->header_data) : 0;
	m->got += r->len;

	if (m->rc == UET_RC_NO_MATCH) {
		uet_count(udev, UET_CNT_RX_DROP_NO_RECV);
	} else if (m->rc != UET_RC_OK) {
		uet_count(udev, send ? UET_CNT_RX_DROP_BAD_LEN :
				       UET_CNT_RX_DROP_BAD_KEY);
	} else if (send) {
		if (uet_recv_place(qp, &m->rwqe, r->off, r->data, r->len)) {
			uet_count(udev, UET_CNT_RX_DROP_BAD_KEY);
			m->rc = UET_RC_UNCOR;
			m->status = IB_WC_LOC_PROT_ERR;
		}
	} else {
		m->rc = uet_ru_write_place(qp, r);
		if (m->rc != UET_RC_OK)
			uet_count(udev, UET_CNT_RX_DROP_BAD_KEY);
	}
	rc = m->rc;
	if (m->got < m->mlen)
		return rc;
	rc = uet_ru_msg_end(qp, m, send);
	if (m != &one)
		uet_ru_msg_free(qp, m);
	return rc;
}

/* The QP is reset or destroyed: messages in progress are forgotten. */
void uet_ses_ru_fini(struct uet_qp *qp)
{
	struct uet_ru_msg *m, *tmp;

	spin_lock_bh(&qp->rx_lock);
	list_for_each_entry_safe(m, tmp, &qp->ru_msgs, node)
		uet_ru_msg_free(qp, m);
	spin_unlock_bh(&qp->rx_lock);
}
