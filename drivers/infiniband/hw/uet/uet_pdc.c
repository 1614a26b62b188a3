// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Packet Delivery Sublayer: PDCs, PSNs, ACKs, NACKs, retransmission.
 *
 * An initiator PDC is opened on demand for a (mode, job, source IP,
 * destination IP) and shared by every QP sending along it.  It starts at
 * a random PSN and sends with SYN (the 12-bit PSN offset in place of the
 * peer's PDC id) until the first ACK names the target PDC: 0-RTT.  The
 * target delivers ROD packets to SES in PSN order: one that arrives
 * ahead of its turn waits (within the 128-PSN window) and is reported in
 * the SACK bitmap of an ACK_CC, so the initiator sends again only what
 * is missing.  Every message's last packet is answered with its SES
 * response in an ACK.  The target keeps those responses until the
 * initiator's CLEAR_PSN (in its requests, or a CLEAR control packet when
 * it has none) passes them, so a lost ACK is answered again when the
 * initiator asks (ACK_REQ) or retransmits.
 *
 * Locking: pdc->lock (BH) protects a PDC.  The send engine takes it
 * under a QP's sq.lock; the receive path takes QP locks under it but
 * never sq.lock, and calls into the initiator's QPs only after dropping
 * it.
 */
#include <linux/jhash.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/unaligned.h>

#include "uet_kunit.h"
#include "uet_pds.h"

static unsigned int pdc_idle_ms = 5000;
module_param(pdc_idle_ms, uint, 0644);
MODULE_PARM_DESC(pdc_idle_ms,
		 "Close a PDC no QP uses after this long without traffic (ms)");

/* The 12-bit SYN PSN offset bounds what is sent before the first ACK. */
#define UET_SYN_MAX		(UET_SYN_PSN_OFFSET + 1)

static u32 uet_pdc_key(bool target, u8 mode, u32 job, u16 rpdcid,
		       const struct uet_ip_path *path)
{
	u32 h = jhash(&path->daddr, sizeof(path->daddr), job);

	h = jhash(&path->saddr, sizeof(path->saddr), h);
	return jhash_3words(target, mode, rpdcid, h);
}

static bool uet_path_equal(const struct uet_ip_path *a,
			   const struct uet_ip_path *b)
{
	return ipv6_addr_equal(&a->saddr, &b->saddr) &&
	       ipv6_addr_equal(&a->daddr, &b->daddr);
}

/* A target PDC is found by the peer's addresses and PDC id. */
static struct uet_pdc *uet_pdc_lookup(struct uet_dev *udev, bool target,
				      u8 mode, u32 job, u16 rpdcid,
				      const struct uet_ip_path *path)
{
	u32 key = uet_pdc_key(target, target ? 0 : mode, target ? 0 : job,
			      target ? rpdcid : 0, path);
	struct uet_pdc *pdc;

	hash_for_each_possible_rcu(udev->pdc_hash, pdc, hnode, key) {
		if (pdc->target != target || !uet_path_equal(&pdc->path, path))
			continue;
		if (target && pdc->rpdcid == rpdcid &&
		    READ_ONCE(pdc->state) == UET_PDC_ESTABLISHED)
			return pdc;
		if (!target && pdc->mode == mode && pdc->job == job &&
		    uet_pdc_usable(pdc))
			return pdc;
	}
	return NULL;
}

/* Is it the initiator PDC for this mode, job and path? */
bool uet_pdc_matches(const struct uet_pdc *pdc, u8 mode, u32 job,
		     const struct uet_ip_path *path)
{
	return pdc->mode == mode && pdc->job == job &&
	       uet_path_equal(&pdc->path, path);
}

/* Can it carry new messages? */
bool uet_pdc_usable(const struct uet_pdc *pdc)
{
	enum uet_pdc_state state = READ_ONCE(pdc->state);

	return state == UET_PDC_SYN || state == UET_PDC_ESTABLISHED;
}

static void uet_pdc_free_pkts(struct uet_pdc *pdc)
{
	struct uet_tx_pkt *pkt, *tmp;

	unsigned int i;

	list_for_each_entry_safe(pkt, tmp, &pdc->unacked, node) {
		kfree_skb(pkt->skb);
		kfree(pkt);
	}
	for (i = 0; i < UET_WINDOW; i++)
		kfree_skb(pdc->held[i]);
	atomic_sub(pdc->nheld, &pdc->udev->pdc_held);
}

/* The last user let go: the receive path may still look at it (RCU). */
static void uet_pdc_free_work(struct work_struct *work)
{
	struct uet_pdc *pdc = container_of(work, struct uet_pdc, free_work);

	timer_shutdown_sync(&pdc->rto_timer);
	uet_pdc_free_pkts(pdc);
	kfree_rcu(pdc, rcu);
}

void uet_pdc_put(struct uet_pdc *pdc)
{
	if (refcount_dec_and_test(&pdc->ref))
		uet_tx_queue_work(&pdc->free_work);
}
EXPORT_SYMBOL_IF_KUNIT(uet_pdc_put);

static void uet_pdc_rto(struct timer_list *t);

VISIBLE_IF_KUNIT struct uet_pdc *uet_pdc_alloc(struct uet_dev *udev,
					       bool target, u8 mode, u32 job,
					       const struct uet_ip_path *path)
{
	struct uet_pdc *pdc;

	pdc = kzalloc(sizeof(*pdc), GFP_ATOMIC);
	if (!pdc)
		return NULL;
	pdc->udev = udev;
	refcount_set(&pdc->ref, 1);
	INIT_WORK(&pdc->free_work, uet_pdc_free_work);
	pdc->last_used = jiffies;
	spin_lock_init(&pdc->lock);
	INIT_LIST_HEAD(&pdc->unacked);
	timer_setup(&pdc->rto_timer, uet_pdc_rto, 0);
	pdc->target = target;
	pdc->mode = mode;
	pdc->job = job;
	pdc->path = *path;
	/* ROD keeps one path: one entropy value for the PDC's life. */
	pdc->sport = cpu_to_be16(get_random_u32_inclusive(49152, 65535));
	pdc->start_psn = get_random_u32();
	pdc->next_psn = pdc->start_psn;
	pdc->cack = pdc->start_psn - 1;
	pdc->gbn_until = pdc->start_psn;
	pdc->clear_sent = pdc->start_psn - 1;
	pdc->window = UET_WINDOW;
	pdc->rto_ms = UET_RTO_MIN_MS;
	return pdc;
}
EXPORT_SYMBOL_IF_KUNIT(uet_pdc_alloc);

/*
 * Publish @pdc under a fresh id unless a racing receiver or sender
 * published its twin; the twin is returned then (NULL without ids), and
 * @pdc is left to the caller.  The caller gets a reference when @get.
 */
static struct uet_pdc *__uet_pdc_publish(struct uet_dev *udev,
					 struct uet_pdc *pdc, bool get)
{
	struct uet_pdc *old;
	u32 id;

	spin_lock_bh(&udev->pdc_lock);
	old = uet_pdc_lookup(udev, pdc->target, pdc->mode, pdc->job,
			     pdc->rpdcid, &pdc->path);
	if (old) {
		if (get && !refcount_inc_not_zero(&old->ref))
			old = NULL;
		goto out_unlock;
	}
	/* Reserve the id, then store the PDC once its id is in it. */
	if (xa_alloc_cyclic(&udev->pdcs, &id, NULL, XA_LIMIT(1, U16_MAX),
			    &udev->pdc_next, GFP_ATOMIC) < 0)
		goto out_unlock;
	pdc->lpdcid = id;
	xa_store(&udev->pdcs, id, pdc, GFP_ATOMIC);
	hash_add_rcu(udev->pdc_hash, &pdc->hnode,
		     uet_pdc_key(pdc->target, pdc->target ? 0 : pdc->mode,
				 pdc->target ? 0 : pdc->job,
				 pdc->target ? pdc->rpdcid : 0, &pdc->path));
	if (get)
		refcount_inc(&pdc->ref);
	spin_unlock_bh(&udev->pdc_lock);
	uet_count(udev, UET_CNT_PDC_OPENED);
	queue_delayed_work(system_wq, &udev->pdc_gc,
			   msecs_to_jiffies(pdc_idle_ms));
	return pdc;

out_unlock:
	spin_unlock_bh(&udev->pdc_lock);
	return old;
}

/* As __uet_pdc_publish(), and @pdc, never visible to anyone, is freed. */
static struct uet_pdc *uet_pdc_publish(struct uet_dev *udev,
				       struct uet_pdc *pdc, bool get)
{
	struct uet_pdc *ret = __uet_pdc_publish(udev, pdc, get);

	if (ret != pdc)
		kfree(pdc);
	return ret;
}

/* Take @pdc out of the tables (once); its table reference goes. */
static void uet_pdc_unpublish(struct uet_pdc *pdc)
{
	struct uet_dev *udev = pdc->udev;
	bool hashed;

	spin_lock_bh(&udev->pdc_lock);
	hashed = !hlist_unhashed(&pdc->hnode);
	if (hashed) {
		hash_del_rcu(&pdc->hnode);
		xa_erase(&udev->pdcs, pdc->lpdcid);
	}
	spin_unlock_bh(&udev->pdc_lock);
	if (hashed) {
		uet_count(udev, UET_CNT_PDC_CLOSED);
		uet_pdc_put(pdc);
	}
}

/**
 * uet_pdc_initiator - the PDC to send along an address vector
 * @udev: the device
 * @mode: UET_PDS_ROD_REQ or UET_PDS_RUD_REQ
 * @job: the JobID
 * @av: source and destination
 *
 * Opens one when none is established or opening.
 *
 * Context: any.
 * Return: the PDC with a reference (uet_pdc_put()), or NULL without
 * memory or PDC ids.
 */
struct uet_pdc *uet_pdc_initiator(struct uet_dev *udev, u8 mode, u32 job,
				  const struct uet_av *av)
{
	struct uet_pdc *pdc;

	rcu_read_lock();
	pdc = uet_pdc_lookup(udev, false, mode, job, 0, &av->path);
	if (pdc && !refcount_inc_not_zero(&pdc->ref))
		pdc = NULL;
	rcu_read_unlock();
	if (pdc)
		return pdc;

	pdc = uet_pdc_alloc(udev, false, mode, job, &av->path);
	if (!pdc)
		return NULL;
	pdc->state = UET_PDC_SYN;
	pdc->tclass = av->traffic_class;
	pdc->hop_limit = av->hop_limit;
	return uet_pdc_publish(udev, pdc, true);
}
EXPORT_SYMBOL_IF_KUNIT(uet_pdc_initiator);

/* The oldest PSN the initiator still needs something for. */
static u32 uet_pdc_oldest(struct uet_pdc *pdc)
{
	struct uet_tx_pkt *pkt;

	pkt = list_first_entry_or_null(&pdc->unacked, struct uet_tx_pkt,
				       node);
	return pkt ? pkt->psn : pdc->next_psn;
}

VISIBLE_IF_KUNIT bool __uet_pdc_can_send(struct uet_pdc *pdc)
{
	u32 limit = pdc->state == UET_PDC_SYN ? min(pdc->window, UET_SYN_MAX) :
						pdc->window;

	return uet_pdc_usable(pdc) &&
	       pdc->next_psn - uet_pdc_oldest(pdc) < limit;
}
EXPORT_SYMBOL_IF_KUNIT(__uet_pdc_can_send);

/**
 * uet_pdc_can_send - is there room in the window for one more packet?
 * @pdc: an initiator PDC
 *
 * If not, and the PDC is still usable, it kicks the send engines when
 * room opens up.
 *
 * Context: any.
 */
bool uet_pdc_can_send(struct uet_pdc *pdc)
{
	bool ok;

	spin_lock_bh(&pdc->lock);
	ok = __uet_pdc_can_send(pdc);
	if (!ok && uet_pdc_usable(pdc))
		pdc->stalled = true;
	spin_unlock_bh(&pdc->lock);
	return ok;
}

/* Fill in the PDS request header of @pkt for its (next) transmission. */
static void uet_pdc_fill_req(struct uet_pdc *pdc, struct uet_tx_pkt *pkt,
			     unsigned int flags)
{
	struct uet_pds_req *req = (struct uet_pds_req *)pkt->skb->data;
	u32 clear = uet_pdc_oldest(pdc) - 1;

	if (pkt->close) {
		struct uet_pds_cp *cp = (struct uet_pds_cp *)pkt->skb->data;

		/* CP flags sit where request flags do; no CLEAR_PSN in it. */
		cp->prologue = uet_prologue(UET_PDS_CP, UET_CP_CLOSE,
					    flags | UET_CP_AR |
					    (pdc->mode == UET_PDS_ROD_REQ ?
					     UET_CP_ISROD : 0));
		cp->psn = cpu_to_be32(pkt->psn);
		cp->spdcid = cpu_to_be16(pdc->lpdcid);
		cp->dpdcid = cpu_to_be16(pdc->rpdcid);
		return;
	}
	if (pdc->state == UET_PDC_SYN) {
		flags |= UET_REQ_SYN;
		req->dpdcid = cpu_to_be16(pkt->psn - pdc->start_psn);
	} else {
		req->dpdcid = cpu_to_be16(pdc->rpdcid);
	}
	req->prologue = uet_prologue(pdc->mode, UET_SES_REQ_STD, flags);
	req->clear_psn_offset = cpu_to_be16((s16)(clear - pkt->psn));
	req->psn = cpu_to_be32(pkt->psn);
	req->spdcid = cpu_to_be16(pdc->lpdcid);
}

/* Send a copy of @pkt, which stays queued for retransmission. */
static void uet_pdc_xmit(struct uet_pdc *pdc, struct uet_tx_pkt *pkt,
			 unsigned int flags)
{
	struct sk_buff *skb;

	uet_pdc_fill_req(pdc, pkt, flags);
	skb = skb_copy(pkt->skb, GFP_ATOMIC);
	if (!skb) {
		/* As if lost: the RTO sends it again. */
		uet_count(pdc->udev, UET_CNT_TX_ERRORS);
		return;
	}
	/* CLOSE is a control packet every time it goes out. */
	if (!uet_udp_xmit(pdc->udev, skb, &pdc->path, pdc->sport, pdc->tclass,
			  pdc->hop_limit) && pkt->close)
		uet_count(pdc->udev, UET_CNT_TX_CPS);
}

/**
 * uet_pdc_send - send a request packet on a PDC
 * @pdc: an initiator PDC
 * @pkt: the packet; pkt->skb starts with room for the PDS request header
 *	 followed by the SES header and payload.  The PDC owns it from now.
 *
 * The window is checked again here: the QPs sharing @pdc may all have
 * seen room for one more packet (uet_pdc_can_send()), and a target keeps
 * one response per PSN of the window.
 *
 * Context: any.
 * Return: 0, or -EAGAIN when the PDC failed or its window filled up
 * meanwhile (@pkt is not taken; a full window kicks the send engines
 * once it has room).
 */
int uet_pdc_send(struct uet_pdc *pdc, struct uet_tx_pkt *pkt)
{
	unsigned int flags = 0;

	spin_lock_bh(&pdc->lock);
	if (!__uet_pdc_can_send(pdc)) {
		if (uet_pdc_usable(pdc))
			pdc->stalled = true;
		spin_unlock_bh(&pdc->lock);
		return -EAGAIN;
	}
	pdc->last_used = jiffies;
	pkt->psn = pdc->next_psn++;
	/* Ask for an ACK at the end of a message and before stalling. */
	if (pkt->want_rsp || !__uet_pdc_can_send(pdc))
		flags |= UET_REQ_AR;
	list_add_tail(&pkt->node, &pdc->unacked);
	if (!timer_pending(&pdc->rto_timer)) {
		pdc->rto_ms = pkt->rto_ms;
		mod_timer(&pdc->rto_timer,
			  jiffies + msecs_to_jiffies(pdc->rto_ms));
	}
	/* Under the lock, so PSNs leave in order. */
	uet_pdc_xmit(pdc, pkt, flags);
	spin_unlock_bh(&pdc->lock);
	return 0;
}

static void uet_pdc_send_ctl(struct uet_pdc *pdc, struct sk_buff *skb,
			     const struct in6_addr *daddr, __be16 sport,
			     enum uet_counter cnt)
{
	struct uet_ip_path path = {
		.ipv4 = pdc->path.ipv4,
		.saddr = pdc->path.saddr,
		.daddr = *daddr,
	};

	if (!uet_udp_xmit(pdc->udev, skb, &path, sport, pdc->tclass,
			  pdc->hop_limit))
		uet_count(pdc->udev, cnt);
}

/*
 * An unacknowledged control packet of an established initiator PDC:
 * ACK_REQ (for a lost response) or CLEAR.
 */
static void uet_pdc_send_cp(struct uet_pdc *pdc, unsigned int ctl, u32 psn,
			    u32 payload)
{
	struct uet_pds_cp *cp;
	struct sk_buff *skb;

	skb = uet_udp_alloc_skb(pdc->udev, sizeof(*cp), GFP_ATOMIC);
	if (!skb) {
		uet_count(pdc->udev, UET_CNT_TX_ERRORS);
		return;
	}
	cp = skb_put_zero(skb, sizeof(*cp));
	cp->prologue = uet_prologue(UET_PDS_CP, ctl,
				    pdc->mode == UET_PDS_ROD_REQ ?
				    UET_CP_ISROD : 0);
	cp->psn = cpu_to_be32(psn);
	cp->spdcid = cpu_to_be16(pdc->lpdcid);
	cp->dpdcid = cpu_to_be16(pdc->rpdcid);
	cp->payload = cpu_to_be32(payload);
	uet_pdc_send_ctl(pdc, skb, &pdc->path.daddr, pdc->sport,
			 UET_CNT_TX_CPS);
}

/*
 * Go back: send again everything not acknowledged and not held by the
 * target, and ask for the responses that were acknowledged but never
 * arrived.
 */
static void uet_pdc_resend(struct uet_pdc *pdc)
{
	struct uet_tx_pkt *pkt;
	bool sent = false;

	pdc->gbn_until = pdc->next_psn;
	list_for_each_entry(pkt, &pdc->unacked, node) {
		pkt->fast_retx = false;
		if (pkt->acked) {
			if (pdc->state == UET_PDC_ESTABLISHED) {
				uet_pdc_send_cp(pdc, UET_CP_ACK_REQ, pkt->psn, 0);
				sent = true;
			}
			continue;
		}
		if (pkt->sacked)
			continue;
		uet_count(pdc->udev, UET_CNT_RETRANSMITS);
		uet_pdc_xmit(pdc, pkt, UET_REQ_RETX | UET_REQ_AR);
		sent = true;
	}
	/*
	 * All of it SACKed: the ACKs that delivered it were lost, or the
	 * target lost it.  The oldest again gets an answer either way.
	 */
	pkt = list_first_entry_or_null(&pdc->unacked, struct uet_tx_pkt,
				       node);
	if (!sent && pkt) {
		uet_count(pdc->udev, UET_CNT_RETRANSMITS);
		uet_pdc_xmit(pdc, pkt, UET_REQ_RETX | UET_REQ_AR);
	}
}

/* Fail the messages of @pkts with @status and free them. */
static void uet_pdc_fail_pkts(struct uet_dev *udev, struct list_head *pkts,
			      enum ib_wc_status status)
{
	struct uet_tx_pkt *pkt, *tmp;

	list_for_each_entry_safe(pkt, tmp, pkts, node) {
		struct uet_tx_done done = {
			.qpn = pkt->qpn,
			.wqe_index = pkt->wqe_index,
			.attempt = pkt->attempt,
		};

		if (!pkt->responded && !pkt->close)
			uet_tx_failed(udev, &done, status);
		kfree_skb(pkt->skb);
		kfree(pkt);
	}
	uet_tx_kick_all(udev);
}

/*
 * Close @pdc in error: every packet's message fails with @status.  The
 * PDC leaves the tables, late packets for it are dropped as for an
 * unknown PDC, and the next message opens a new one.
 */
static void uet_pdc_fail(struct uet_pdc *pdc, enum ib_wc_status status)
{
	struct uet_dev *udev = pdc->udev;
	LIST_HEAD(failed);

	spin_lock_bh(&pdc->lock);
	if (pdc->state == UET_PDC_ERROR || pdc->state == UET_PDC_CLOSED) {
		spin_unlock_bh(&pdc->lock);
		return;
	}
	pdc->state = UET_PDC_ERROR;
	list_splice_init(&pdc->unacked, &failed);
	del_timer(&pdc->rto_timer);
	spin_unlock_bh(&pdc->lock);
	uet_pdc_unpublish(pdc);
	uet_pdc_fail_pkts(udev, &failed, status);
}

/*
 * The target no longer knows our established PDC (INV_DPDCID: its device
 * was re-created, say), so it executed none of the packets still to be
 * acknowledged.  Send them again, in order, on a new PDC opened with SYN
 * like any other.  Messages it acknowledged without their response are
 * lost with the old target and fail.
 */
static void uet_pdc_reopen(struct uet_pdc *old)
{
	struct uet_dev *udev = old->udev;
	struct uet_tx_pkt *pkt, *tmp;
	struct uet_pdc *pdc, *twin;
	LIST_HEAD(pkts);

	spin_lock_bh(&old->lock);
	if (old->state != UET_PDC_ESTABLISHED) {
		spin_unlock_bh(&old->lock);
		return;
	}
	old->state = UET_PDC_ERROR;
	list_splice_init(&old->unacked, &pkts);
	del_timer(&old->rto_timer);
	spin_unlock_bh(&old->lock);
	uet_pdc_unpublish(old);

	pdc = uet_pdc_alloc(udev, false, old->mode, old->job, &old->path);
	if (pdc) {
		pdc->state = UET_PDC_SYN;
		pdc->tclass = old->tclass;
		pdc->hop_limit = old->hop_limit;
		/* Not visible yet: the packets keep their order in it. */
		list_for_each_entry_safe(pkt, tmp, &pkts, node) {
			if (pkt->acked || pkt->close)
				continue;
			pkt->sacked = false;
			pkt->fast_retx = false;
			pkt->psn = pdc->next_psn++;
			list_move_tail(&pkt->node, &pdc->unacked);
		}
		twin = __uet_pdc_publish(udev, pdc, true);
		if (twin != pdc) {
			/*
			 * A twin opened meanwhile and may carry later
			 * messages of the same QPs: give up on these.
			 */
			list_splice_init(&pdc->unacked, &pkts);
			kfree(pdc);
			pdc = NULL;
			if (twin)
				uet_pdc_put(twin);
		}
	}
	uet_pdc_fail_pkts(udev, &pkts, IB_WC_RETRY_EXC_ERR);
	if (!pdc)
		return;

	spin_lock_bh(&pdc->lock);
	pkt = list_first_entry_or_null(&pdc->unacked, struct uet_tx_pkt, node);
	if (pkt) {
		pdc->rto_ms = pkt->rto_ms;
		mod_timer(&pdc->rto_timer,
			  jiffies + msecs_to_jiffies(pdc->rto_ms));
	}
	list_for_each_entry(pkt, &pdc->unacked, node) {
		uet_count(udev, UET_CNT_RETRANSMITS);
		uet_pdc_xmit(pdc, pkt, UET_REQ_RETX | UET_REQ_AR);
	}
	spin_unlock_bh(&pdc->lock);
	uet_pdc_put(pdc);
	uet_tx_kick_all(udev);
}

static void uet_pdc_rto(struct timer_list *t)
{
	struct uet_pdc *pdc = from_timer(pdc, t, rto_timer);
	struct uet_tx_pkt *oldest;

	spin_lock_bh(&pdc->lock);
	oldest = list_first_entry_or_null(&pdc->unacked, struct uet_tx_pkt,
					  node);
	if (!oldest || pdc->state == UET_PDC_ERROR ||
	    pdc->state == UET_PDC_CLOSED) {
		spin_unlock_bh(&pdc->lock);
		return;
	}
	uet_count(pdc->udev, UET_CNT_RTO_EXPIRED);
	if (++pdc->retries > oldest->retry_cnt) {
		spin_unlock_bh(&pdc->lock);
		uet_pdc_fail(pdc, IB_WC_RETRY_EXC_ERR);
		return;
	}
	pdc->rto_ms = min(pdc->rto_ms * 2, UET_RTO_MAX_MS);
	uet_pdc_resend(pdc);
	mod_timer(&pdc->rto_timer, jiffies + msecs_to_jiffies(pdc->rto_ms));
	spin_unlock_bh(&pdc->lock);
}

static unsigned int uet_pds_ack_len(unsigned int type)
{
	switch (type) {
	case UET_PDS_ACK_CC:
		return sizeof(struct uet_pds_ack_cc);
	case UET_PDS_ACK_CCX:
		return sizeof(struct uet_pds_ack_ccx);
	default:
		return sizeof(struct uet_pds_ack);
	}
}

/*
 * Initiator: the target holds these packets beyond its cumulative ACK.
 * They are not sent again; a packet missing below the highest of them
 * is, once per round of retransmission.
 */
static void uet_pdc_sack(struct uet_pdc *pdc, u32 base, u64 bitmap)
{
	struct uet_tx_pkt *pkt;
	u32 top = base;
	bool any = false;
	s32 i;

	list_for_each_entry(pkt, &pdc->unacked, node) {
		i = uet_psn_diff(pkt->psn, base);
		if (i < 0 || i >= 64 || !(bitmap & BIT_ULL(i)))
			continue;
		pkt->sacked = true;
		top = pkt->psn;
		any = true;
	}
	if (!any)
		return;
	list_for_each_entry(pkt, &pdc->unacked, node) {
		if (uet_psn_diff(pkt->psn, top) >= 0)
			break;
		if (pkt->acked || pkt->sacked || pkt->fast_retx || pkt->close)
			continue;
		pkt->fast_retx = true;
		uet_count(pdc->udev, UET_CNT_RETRANSMITS);
		uet_pdc_xmit(pdc, pkt, UET_REQ_RETX | UET_REQ_AR);
	}
}

/*
 * Initiator: an ACK, maybe with the SES response to one of our packets;
 * ACK_CC and ACK_CCX also carry the target's window and SACK bitmap.
 */
VISIBLE_IF_KUNIT void uet_pdc_rcv_ack(struct uet_pdc *pdc,
				      struct sk_buff *skb,
				      const struct uet_rx_info *info)
{
	const struct uet_pds_ack *ack = (const struct uet_pds_ack *)skb->data;
	/* ACK_CCX starts as ACK_CC does. */
	const struct uet_pds_ack_cc *cc = (const void *)skb->data;
	unsigned int type = uet_pds_type(ack->prologue);
	unsigned int next = uet_pds_next(ack->prologue);
	struct uet_dev *udev = pdc->udev;
	struct uet_tx_done done = {};
	struct uet_tx_pkt *pkt, *tmp;
	bool kick = false, closed, progress;
	const void *data = NULL;
	bool rsp = false;
	u32 cack, rsp_psn, len = 0;
	u8 rc = 0;

	/* uet_pds_hdr_len() checked that the response and its data fit. */
	__skb_pull(skb, uet_pds_ack_len(type));
	if (next == UET_SES_RSP) {
		const struct uet_ses_rsp *r = (const void *)skb->data;

		rsp = true;
		rc = FIELD_GET(UET_RSP_RC, r->version_rc);
	} else if (next == UET_SES_RSP_DATA) {
		const struct uet_ses_rsp_data *r = (const void *)skb->data;

		rsp = true;
		rc = FIELD_GET(UET_RSP_RC, r->version_rc);
		data = r + 1;
		len = skb->len - sizeof(*r);
	}
	cack = be32_to_cpu(ack->cack_psn);
	rsp_psn = cack + (s16)be16_to_cpu(ack->ack_psn_offset);

	spin_lock_bh(&pdc->lock);
	if (pdc->state == UET_PDC_ERROR || pdc->state == UET_PDC_CLOSED ||
	    uet_psn_diff(cack, pdc->next_psn) >= 0 ||
	    uet_psn_diff(cack, uet_pdc_oldest(pdc) - 1) < 0) {
		spin_unlock_bh(&pdc->lock);
		uet_count(udev, UET_CNT_RX_DROP_STALE);
		return;
	}
	if (pdc->state == UET_PDC_SYN) {
		pdc->rpdcid = be16_to_cpu(ack->spdcid);
		pdc->state = UET_PDC_ESTABLISHED;
	} else if (be16_to_cpu(ack->spdcid) != pdc->rpdcid) {
		spin_unlock_bh(&pdc->lock);
		uet_count(udev, UET_CNT_RX_DROP_PDC_MISMATCH);
		return;
	}
	uet_count(udev, UET_CNT_RX_ACKS);
	pdc->last_used = jiffies;

	progress = uet_psn_diff(cack, pdc->cack) > 0;
	if (progress)
		pdc->cack = cack;
	list_for_each_entry_safe(pkt, tmp, &pdc->unacked, node) {
		if (rsp && pkt->psn == rsp_psn && !pkt->responded) {
			pkt->responded = true;
			done.qpn = pkt->qpn;
			done.wqe_index = pkt->wqe_index;
			done.attempt = pkt->attempt;
			done.off = pkt->off;
			progress = true;
		}
		if (uet_psn_diff(pkt->psn, pdc->cack) > 0) {
			/* RUD answers packets beyond the cumulative ACK too. */
			if (rsp && uet_psn_diff(pkt->psn, rsp_psn) < 0)
				continue;
			break;
		}
		pkt->acked = true;
		if (pkt->want_rsp && !pkt->responded)
			continue;
		list_del(&pkt->node);
		kfree_skb(pkt->skb);
		kfree(pkt);
	}
	if (type != UET_PDS_ACK) {
		/* mpr counts 128-PSN units; we never send more than ours. */
		pdc->window = min_t(u32, UET_WINDOW,
				    max_t(u32, cc->mpr, 1) * UET_MPR_UNIT);
		uet_pdc_sack(pdc, cack + (s16)be16_to_cpu(cc->sack_psn_offset),
			     be64_to_cpu(cc->sack_bitmap));
	}
	if (progress) {
		/* Progress ends the back-off. */
		pdc->retries = 0;
		pkt = list_first_entry_or_null(&pdc->unacked,
					       struct uet_tx_pkt, node);
		if (!pkt) {
			del_timer(&pdc->rto_timer);
		} else {
			pdc->rto_ms = pkt->rto_ms;
			mod_timer(&pdc->rto_timer,
				  jiffies + msecs_to_jiffies(pdc->rto_ms));
		}
	}
	if (pdc->stalled && __uet_pdc_can_send(pdc)) {
		pdc->stalled = false;
		kick = true;
	}
	/* The ACK of our CLOSE: both ends are done with the PDC. */
	closed = pdc->state == UET_PDC_CLOSING && list_empty(&pdc->unacked);
	if (closed)
		pdc->state = UET_PDC_CLOSED;
	spin_unlock_bh(&pdc->lock);
	if (closed)
		uet_pdc_unpublish(pdc);

	if (done.qpn)
		uet_tx_response(udev, &done, rc, data, len);
	if (kick)
		uet_tx_kick_all(udev);
}
EXPORT_SYMBOL_IF_KUNIT(uet_pdc_rcv_ack);

VISIBLE_IF_KUNIT bool uet_nack_is_fatal(u8 code)
{
	switch (code) {
	case UET_NACK_INV_DPDCID:
	case UET_NACK_PDC_HDR_MISMATCH:
	case UET_NACK_CLOSING:
	case UET_NACK_CLOSING_IN_ERR:
	case UET_NACK_INVALID_SYN:
	case UET_NACK_PDC_MODE_MISMATCH:
	case UET_NACK_UNEXP_EVENT:
		return true;
	default:
		return false;
	}
}
EXPORT_SYMBOL_IF_KUNIT(uet_nack_is_fatal);

/* Initiator: a NACK (or NACK_CCX) for one of our PSNs. */
VISIBLE_IF_KUNIT void uet_pdc_rcv_nack(struct uet_pdc *pdc,
				       struct sk_buff *skb)
{
	const struct uet_pds_nack *nack = (const void *)skb->data;
	u32 psn = be32_to_cpu(nack->psn);
	struct uet_dev *udev = pdc->udev;

	spin_lock_bh(&pdc->lock);
	if (pdc->state == UET_PDC_ERROR || pdc->state == UET_PDC_CLOSED ||
	    uet_psn_diff(psn, pdc->next_psn) >= 0 ||
	    uet_psn_diff(psn, uet_pdc_oldest(pdc)) < 0) {
		spin_unlock_bh(&pdc->lock);
		uet_count(udev, UET_CNT_RX_DROP_STALE);
		return;
	}
	uet_count(udev, UET_CNT_RX_NACKS);
	/* Received, the response is on its way: the RTO covers the rest. */
	if (nack->code == UET_NACK_RCVD_SES_PROCG) {
		spin_unlock_bh(&pdc->lock);
		return;
	}
	if (uet_nack_is_fatal(nack->code)) {
		bool reopen = nack->code == UET_NACK_INV_DPDCID &&
			      pdc->state == UET_PDC_ESTABLISHED;

		spin_unlock_bh(&pdc->lock);
		ibdev_dbg(&udev->ibdev, "PDC %u: NACK %#x for PSN %#x\n",
			  pdc->lpdcid, nack->code, psn);
		if (reopen)
			uet_pdc_reopen(pdc);
		else
			uet_pdc_fail(pdc, IB_WC_RETRY_EXC_ERR);
		return;
	}
	/*
	 * Every packet after a lost one is NACKed; one go-back per loss:
	 * NACKs for packets sent before the last go-back are old news.
	 */
	if (uet_psn_diff(psn, pdc->gbn_until) >= 0)
		uet_pdc_resend(pdc);
	spin_unlock_bh(&pdc->lock);
}
EXPORT_SYMBOL_IF_KUNIT(uet_pdc_rcv_nack);

/* A response with data: READ data, or an atomic's original value. */
static void uet_pdc_put_rsp_data(struct uet_pdc *pdc, struct sk_buff *skb,
				 const struct uet_rsp_slot *slot)
{
	u32 len = be32_to_cpu(slot->rsp.modified_length);
	struct uet_ses_rsp_data *r;
	u8 rc = FIELD_GET(UET_RSP_RC, slot->rsp.version_rc);
	void *data;

	r = skb_put_zero(skb, sizeof(*r));
	data = skb_put(skb, len);
	if (slot->kind == UET_RSP_READ)
		rc = uet_ses_read_data(pdc->udev, slot, data);
	else
		put_unaligned_be64(slot->fetched, data);
	if (rc != UET_RC_OK) {
		/* The region went away since: an error, without data. */
		skb_trim(skb, skb->len - len);
		len = 0;
	}
	r->list_opcode = FIELD_PREP(UET_RSP_OPCODE, UET_RSP_W_DATA);
	r->version_rc = FIELD_PREP(UET_RSP_RC, rc);
	r->message_id = slot->rsp.message_id;
	r->job = slot->rsp.gen_job;
	r->read_request_message_id = slot->rsp.message_id;
	r->payload_length = cpu_to_be16(len);
	r->modified_length = cpu_to_be32(len);
}

/* Target: is @psn, beyond exp_psn, held (ROD) or delivered (RUD)? */
static bool uet_pdc_got(const struct uet_pdc *pdc, u32 psn)
{
	return pdc->held[psn % UET_WINDOW] || test_bit(psn % UET_WINDOW,
						       pdc->rcvd);
}

/* Target: the requests received beyond exp_psn, bit i for exp_psn + i. */
VISIBLE_IF_KUNIT u64 uet_pdc_sack_bitmap(const struct uet_pdc *pdc)
{
	u64 bitmap = 0;
	unsigned int i;

	for (i = 0; i < 64; i++)
		if (uet_pdc_got(pdc, pdc->exp_psn + i))
			bitmap |= BIT_ULL(i);
	return bitmap;
}
EXPORT_SYMBOL_IF_KUNIT(uet_pdc_sack_bitmap);

/*
 * Target: an ACK of everything before exp_psn.  While requests are held
 * beyond it, an ACK_CC that also says which (SACK, from exp_psn on) and
 * what window we take (mpr); our congestion state is empty (NSCC, 0).
 */
static struct sk_buff *uet_pdc_alloc_ack(struct uet_pdc *pdc, u32 psn,
					 const struct uet_rsp_slot *slot)
{
	bool sack = pdc->nheld || pdc->nrcvd;
	unsigned int next = UET_SES_NONE, len = 0;
	unsigned int hlen = sack ? sizeof(struct uet_pds_ack_cc) :
				   sizeof(struct uet_pds_ack);
	struct uet_pds_ack *ack;
	struct sk_buff *skb;

	if (slot && slot->kind == UET_RSP_PLAIN) {
		next = UET_SES_RSP;
		len = sizeof(struct uet_ses_rsp);
	} else if (slot) {
		next = UET_SES_RSP_DATA;
		len = sizeof(struct uet_ses_rsp_data) +
		      be32_to_cpu(slot->rsp.modified_length);
	}
	skb = uet_udp_alloc_skb(pdc->udev, hlen + len, GFP_ATOMIC);
	if (!skb)
		return NULL;
	ack = skb_put_zero(skb, hlen);
	ack->prologue = uet_prologue(sack ? UET_PDS_ACK_CC : UET_PDS_ACK,
				     next, 0);
	ack->ack_psn_offset = cpu_to_be16((s16)(psn - (pdc->exp_psn - 1)));
	ack->cack_psn = cpu_to_be32(pdc->exp_psn - 1);
	ack->spdcid = cpu_to_be16(pdc->lpdcid);
	ack->dpdcid = cpu_to_be16(pdc->rpdcid);
	if (sack) {
		struct uet_pds_ack_cc *cc = (struct uet_pds_ack_cc *)ack;

		cc->mpr = UET_WINDOW / UET_MPR_UNIT;
		cc->sack_psn_offset = cpu_to_be16(1);
		cc->sack_bitmap = cpu_to_be64(uet_pdc_sack_bitmap(pdc));
	}
	if (next == UET_SES_RSP)
		skb_put_data(skb, &slot->rsp, sizeof(slot->rsp));
	else if (next == UET_SES_RSP_DATA)
		uet_pdc_put_rsp_data(pdc, skb, slot);
	return skb;
}

/*
 * Target: acknowledge up to exp_psn - 1, carrying @psn's response if it
 * is kept and the initiator has not cleared it.
 */
static void uet_pdc_send_ack(struct uet_pdc *pdc, u32 psn,
			     const struct uet_rx_info *info)
{
	struct uet_rsp_slot *slot = &pdc->rsp[psn % UET_RSP_SLOTS];
	struct sk_buff *skb;

	if (!slot->valid || slot->psn != psn ||
	    uet_psn_diff(psn, pdc->clear_psn) <= 0)
		slot = NULL;
	skb = uet_pdc_alloc_ack(pdc, psn, slot);
	if (!skb) {
		uet_count(pdc->udev, UET_CNT_TX_ERRORS);
		return;
	}
	pdc->ack_bytes = 0;
	/* ACKs echo the entropy of the packet that triggered them. */
	uet_pdc_send_ctl(pdc, skb, &info->path.saddr, info->sport,
			 UET_CNT_TX_ACKS);
}

static void uet_pds_send_nack(struct uet_dev *udev,
			      const struct uet_rx_info *info, u8 code,
			      u32 psn, u16 spdcid, u16 dpdcid, u32 payload)
{
	struct uet_ip_path path = {
		.ipv4 = info->path.ipv4,
		.saddr = info->path.daddr,
		.daddr = info->path.saddr,
	};
	struct uet_pds_nack *nack;
	struct sk_buff *skb;

	skb = uet_udp_alloc_skb(udev, sizeof(*nack), GFP_ATOMIC);
	if (!skb) {
		uet_count(udev, UET_CNT_TX_ERRORS);
		return;
	}
	nack = skb_put_zero(skb, sizeof(*nack));
	nack->prologue = uet_prologue(UET_PDS_NACK, UET_SES_NONE, 0);
	nack->code = code;
	nack->psn = cpu_to_be32(psn);
	nack->spdcid = cpu_to_be16(spdcid);
	nack->dpdcid = cpu_to_be16(dpdcid);
	nack->payload = cpu_to_be32(payload);
	if (!uet_udp_xmit(udev, skb, &path, info->sport, info->tclass, 0))
		uet_count(udev, UET_CNT_TX_NACKS);
}

/* Target: the PDC a request belongs to, opened by a SYN if need be. */
static struct uet_pdc *uet_pdc_target(struct uet_dev *udev,
				      const struct uet_pds_req *req,
				      const struct uet_rx_info *info)
{
	unsigned int type = uet_pds_type(req->prologue);
	u16 spdcid = be16_to_cpu(req->spdcid);
	u32 psn = be32_to_cpu(req->psn);
	struct uet_ip_path path = {
		.ipv4 = info->path.ipv4,
		.saddr = info->path.daddr,
		.daddr = info->path.saddr,
	};
	struct uet_pdc *pdc;
	u32 start;

	if (!(uet_pds_flags(req->prologue) & UET_REQ_SYN)) {
		pdc = xa_load(&udev->pdcs, be16_to_cpu(req->dpdcid));
		if (!pdc || !pdc->target ||
		    READ_ONCE(pdc->state) != UET_PDC_ESTABLISHED) {
			uet_count(udev, UET_CNT_RX_DROP_UNKNOWN_PDC);
			uet_pds_send_nack(udev, info, UET_NACK_INV_DPDCID, psn,
					  0, spdcid, 0);
			return NULL;
		}
		if (pdc->rpdcid != spdcid || !uet_path_equal(&pdc->path, &path)) {
			uet_count(udev, UET_CNT_RX_DROP_PDC_MISMATCH);
			uet_pds_send_nack(udev, info, UET_NACK_PDC_HDR_MISMATCH,
					  psn, 0, spdcid, 0);
			return NULL;
		}
		goto check_mode;
	}

	start = psn - FIELD_GET(UET_SYN_PSN_OFFSET, be16_to_cpu(req->dpdcid));
	pdc = uet_pdc_lookup(udev, true, 0, 0, spdcid, &path);
	if (!pdc) {
		pdc = uet_pdc_alloc(udev, true, type, 0, &path);
		if (!pdc) {
			uet_count(udev, UET_CNT_RX_DROP_NO_MEM);
			uet_pds_send_nack(udev, info, UET_NACK_NO_PDC_AVAIL,
					  psn, 0, spdcid, 0);
			return NULL;
		}
		pdc->state = UET_PDC_ESTABLISHED;
		pdc->rpdcid = spdcid;
		pdc->start_psn = start;
		pdc->exp_psn = start;
		pdc->clear_psn = start - 1;
		pdc->tclass = info->tclass;
		pdc = uet_pdc_publish(udev, pdc, false);
		if (!pdc) {
			uet_count(udev, UET_CNT_RX_DROP_NO_MEM);
			uet_pds_send_nack(udev, info, UET_NACK_NO_PDC_AVAIL,
					  psn, 0, spdcid, 0);
			return NULL;
		}
	}
	if (pdc->start_psn != start) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_SYN);
		uet_pds_send_nack(udev, info, UET_NACK_INVALID_SYN, psn,
				  pdc->lpdcid, spdcid, 0);
		return NULL;
	}
check_mode:
	if (pdc->mode != type) {
		uet_count(udev, UET_CNT_RX_DROP_PDC_MISMATCH);
		uet_pds_send_nack(udev, info, UET_NACK_PDC_MODE_MISMATCH, psn,
				  pdc->lpdcid, spdcid, 0);
		return NULL;
	}
	return pdc;
}

/*
 * Target: ACKs are coalesced.  Each request of @len payload bytes counts
 * at least UET_ACK_GEN_MIN_ADD; one is due at once when it has a response
 * (@rsp) to carry, when the initiator asks for it (AR, SYN, RETX) or once
 * UET_ACK_GEN_TRIGGER bytes came since the last ACK.
 */
VISIBLE_IF_KUNIT bool uet_pdc_ack_due(struct uet_pdc *pdc, unsigned int flags,
				      u32 len, bool rsp)
{
	pdc->ack_bytes += max_t(u32, len, UET_ACK_GEN_MIN_ADD);
	return rsp || flags & (UET_REQ_AR | UET_REQ_SYN | UET_REQ_RETX) ||
	       pdc->ack_bytes >= UET_ACK_GEN_TRIGGER;
}
EXPORT_SYMBOL_IF_KUNIT(uet_pdc_ack_due);

/*
 * Target: hand a request (@skb at its PDS header) to SES: ROD's at
 * exp_psn, RUD's as it comes.  The caller moves exp_psn.
 * Return: whether it must be acknowledged at once.
 */
static bool uet_pdc_deliver(struct uet_pdc *pdc, struct sk_buff *skb,
			    const struct uet_rx_info *info)
{
	const struct uet_pds_req *req = (const struct uet_pds_req *)skb->data;
	unsigned int flags = uet_pds_flags(req->prologue);
	u32 psn = be32_to_cpu(req->psn);
	struct uet_rsp_slot *slot;
	u32 clear, len;

	/* CLEAR_PSN only moves forward and never past what we received. */
	clear = psn + (s16)be16_to_cpu(req->clear_psn_offset);
	if (uet_psn_diff(clear, pdc->clear_psn) > 0 &&
	    uet_psn_diff(clear, psn) < 0)
		pdc->clear_psn = clear;

	__skb_pull(skb, sizeof(*req));
	len = skb->len;
	slot = &pdc->rsp[psn % UET_RSP_SLOTS];
	slot->valid = uet_ses_rcv(pdc->udev, skb, info, pdc->mode, slot);
	slot->psn = psn;
	return uet_pdc_ack_due(pdc, flags, len, slot->valid);
}

/*
 * Target: keep a request that came ahead of exp_psn until the gap fills,
 * and tell the initiator at once (ACK_CC with the SACK bitmap).
 */
static void uet_pdc_hold(struct uet_pdc *pdc, struct sk_buff *skb, u32 psn,
			 unsigned int flags, const struct uet_rx_info *info)
{
	struct sk_buff **held = &pdc->held[psn % UET_WINDOW];

	if (*held) {
		uet_count(pdc->udev, UET_CNT_DUPLICATES);
		uet_count(pdc->udev, UET_CNT_RX_DROP_DUPLICATE);
		if (flags & (UET_REQ_RETX | UET_REQ_AR))
			uet_pdc_send_ack(pdc, psn, info);
		return;
	}
	if (atomic_inc_return(&pdc->udev->pdc_held) > UET_HELD_MAX) {
		atomic_dec(&pdc->udev->pdc_held);
		uet_count(pdc->udev, UET_CNT_RX_DROP_NO_MEM);
		uet_pds_send_nack(pdc->udev, info, UET_NACK_NO_PKT_BUFFER, psn,
				  pdc->lpdcid, pdc->rpdcid, pdc->exp_psn);
		return;
	}
	BUILD_BUG_ON(sizeof(*info) > sizeof_field(struct sk_buff, cb));
	memcpy(skb->cb, info, sizeof(*info));
	*held = skb_get(skb);
	pdc->nheld++;
	uet_count(pdc->udev, UET_CNT_RX_OOO_HELD);
	uet_pdc_send_ack(pdc, psn, info);
}

/*
 * Target: an RUD request @d PSNs past exp_psn, in the window and not
 * seen before exp_psn.  It goes to SES now, once: a PSN received beyond
 * exp_psn is marked, and exp_psn moves over every marked PSN once the
 * gap before them fills.  Out of order, it is acknowledged at once with
 * the SACK bitmap, as ROD does for a request it holds.
 */
static void uet_pdc_rcv_rud(struct uet_pdc *pdc, struct sk_buff *skb, u32 psn,
			    s32 d, unsigned int flags,
			    const struct uet_rx_info *info)
{
	bool ack;

	if (d > 0 && test_bit(psn % UET_WINDOW, pdc->rcvd)) {
		uet_count(pdc->udev, UET_CNT_DUPLICATES);
		uet_count(pdc->udev, UET_CNT_RX_DROP_DUPLICATE);
		if (flags & (UET_REQ_RETX | UET_REQ_AR))
			uet_pdc_send_ack(pdc, psn, info);
		return;
	}
	if (d > 0) {
		__set_bit(psn % UET_WINDOW, pdc->rcvd);
		pdc->nrcvd++;
		uet_pdc_deliver(pdc, skb, info);
		uet_pdc_send_ack(pdc, psn, info);
		return;
	}
	pdc->exp_psn++;
	ack = uet_pdc_deliver(pdc, skb, info);
	while (test_bit(pdc->exp_psn % UET_WINDOW, pdc->rcvd)) {
		__clear_bit(pdc->exp_psn % UET_WINDOW, pdc->rcvd);
		pdc->nrcvd--;
		pdc->exp_psn++;
		ack = true;
	}
	if (ack)
		uet_pdc_send_ack(pdc, psn, info);
}

/*
 * Target: a ROD or RUD request.  With ROD, SES sees requests in PSN
 * order: one that comes ahead of its turn waits in pdc->held, and goes
 * with those before it.  With RUD, it goes as it comes.
 */
static void uet_pdc_rcv_req(struct uet_dev *udev, struct sk_buff *skb,
			    const struct uet_rx_info *info)
{
	const struct uet_pds_req *req = (const struct uet_pds_req *)skb->data;
	unsigned int flags = uet_pds_flags(req->prologue);
	u32 psn = be32_to_cpu(req->psn);
	DECLARE_BITMAP(ack, UET_WINDOW);
	struct uet_rx_info held_info;
	unsigned int i, n;
	struct sk_buff *held;
	struct uet_pdc *pdc;
	s32 d;

	pdc = uet_pdc_target(udev, req, info);
	if (!pdc)
		return;

	spin_lock_bh(&pdc->lock);
	if (pdc->state != UET_PDC_ESTABLISHED) {
		/* Closed by the CLOSE that came before it. */
		uet_count(udev, UET_CNT_RX_DROP_UNKNOWN_PDC);
		uet_pds_send_nack(udev, info, UET_NACK_CLOSING, psn,
				  pdc->lpdcid, pdc->rpdcid, 0);
		goto out_unlock;
	}
	pdc->last_used = jiffies;
	d = uet_psn_diff(psn, pdc->exp_psn);
	if (d < 0) {
		/* Seen before: answer again if asked, else it was reordered. */
		uet_count(udev, UET_CNT_DUPLICATES);
		uet_count(udev, UET_CNT_RX_DROP_DUPLICATE);
		if (flags & (UET_REQ_RETX | UET_REQ_AR))
			uet_pdc_send_ack(pdc, psn, info);
		goto out_unlock;
	}
	if (d >= UET_WINDOW) {
		uet_count(udev, UET_CNT_RX_DROP_OUT_OF_WINDOW);
		uet_pds_send_nack(udev, info, UET_NACK_PSN_OOR_WINDOW, psn,
				  pdc->lpdcid, pdc->rpdcid, pdc->exp_psn);
		goto out_unlock;
	}
	if (d > 0 && pdc->mode == UET_PDS_ROD_REQ) {
		uet_pdc_hold(pdc, skb, psn, flags, info);
		goto out_unlock;
	}

	if (pdc->mode == UET_PDS_RUD_REQ) {
		uet_pdc_rcv_rud(pdc, skb, psn, d, flags, info);
		goto out_unlock;
	}

	/*
	 * The gap is filled: what waited behind it goes now.  The ACKs
	 * (one per response, and one for the last) go once it all went,
	 * so none of them claims a PSN held that is delivered already.
	 */
	bitmap_zero(ack, UET_WINDOW);
	pdc->exp_psn++;
	if (uet_pdc_deliver(pdc, skb, info))
		__set_bit(0, ack);
	for (n = 1; (held = pdc->held[pdc->exp_psn % UET_WINDOW]); n++) {
		pdc->held[pdc->exp_psn % UET_WINDOW] = NULL;
		pdc->nheld--;
		atomic_dec(&pdc->udev->pdc_held);
		memcpy(&held_info, held->cb, sizeof(held_info));
		pdc->exp_psn++;
		if (uet_pdc_deliver(pdc, held, &held_info))
			__set_bit(n, ack);
		consume_skb(held);
	}
	if (n > 1)
		__set_bit(n - 1, ack);
	for_each_set_bit(i, ack, n)
		uet_pdc_send_ack(pdc, psn + i, info);
out_unlock:
	spin_unlock_bh(&pdc->lock);
}

/* Target: an ACK_REQ control packet for a PSN whose response was lost. */
static void uet_pdc_rcv_ack_req(struct uet_pdc *pdc, u32 psn,
				const struct uet_rx_info *info)
{
	s32 d;

	spin_lock_bh(&pdc->lock);
	d = uet_psn_diff(psn, pdc->exp_psn);
	/* Delivered: in order, or (RUD) beyond exp_psn. */
	if ((d < 0 && d >= -UET_RSP_SLOTS) ||
	    (d > 0 && d < UET_WINDOW && test_bit(psn % UET_WINDOW, pdc->rcvd)))
		uet_pdc_send_ack(pdc, psn, info);
	else if (d > 0 && d < UET_WINDOW && pdc->held[psn % UET_WINDOW])
		/* Held for its turn: no response yet. */
		uet_pds_send_nack(pdc->udev, info, UET_NACK_RCVD_SES_PROCG,
				  psn, pdc->lpdcid, pdc->rpdcid, pdc->exp_psn);
	else
		uet_pds_send_nack(pdc->udev, info, UET_NACK_PKT_NOT_RCVD, psn,
				  pdc->lpdcid, pdc->rpdcid, pdc->exp_psn);
	spin_unlock_bh(&pdc->lock);
}

/*
 * Target: a CLEAR control packet, the initiator's CLEAR_PSN when it has
 * no request to carry it: responses up to it are no longer kept for it.
 */
static void uet_pdc_rcv_clear(struct uet_pdc *pdc, u32 clear)
{
	spin_lock_bh(&pdc->lock);
	if (uet_psn_diff(clear, pdc->clear_psn) > 0 &&
	    uet_psn_diff(clear, pdc->exp_psn) < 0)
		pdc->clear_psn = clear;
	else
		uet_count(pdc->udev, UET_CNT_RX_DROP_STALE);
	spin_unlock_bh(&pdc->lock);
}

/*
 * Target: CLOSE consumes the next PSN; once every request before it was
 * delivered, acknowledge it and forget the PDC.
 */
static void uet_pdc_rcv_close(struct uet_pdc *pdc, u32 psn,
			      const struct uet_rx_info *info)
{
	struct uet_dev *udev = pdc->udev;
	bool closed = false;
	s32 d;

	spin_lock_bh(&pdc->lock);
	d = uet_psn_diff(psn, pdc->exp_psn);
	if (pdc->state != UET_PDC_ESTABLISHED) {
		uet_count(udev, UET_CNT_RX_DROP_UNKNOWN_PDC);
	} else if (d < 0) {
		uet_count(udev, UET_CNT_RX_DROP_DUPLICATE);
	} else if (d > 0) {
		uet_count(udev, UET_CNT_RX_DROP_OUT_OF_ORDER);
		uet_pds_send_nack(udev, info, UET_NACK_ROD_OOO, psn,
				  pdc->lpdcid, pdc->rpdcid, pdc->exp_psn);
	} else {
		pdc->exp_psn++;
		uet_pdc_send_ack(pdc, psn, info);
		pdc->state = UET_PDC_CLOSED;
		closed = true;
	}
	spin_unlock_bh(&pdc->lock);
	if (closed)
		uet_pdc_unpublish(pdc);
}

/* The PDC a packet addressed to one of our PDC ids belongs to. */
static struct uet_pdc *uet_pdc_by_id(struct uet_dev *udev, u16 id,
				     bool target,
				     const struct uet_rx_info *info)
{
	struct uet_pdc *pdc = xa_load(&udev->pdcs, id);

	if (!pdc || pdc->target != target ||
	    READ_ONCE(pdc->state) == UET_PDC_CLOSED) {
		uet_count(udev, UET_CNT_RX_DROP_UNKNOWN_PDC);
		return NULL;
	}
	if (!ipv6_addr_equal(&pdc->path.daddr, &info->path.saddr) ||
	    !ipv6_addr_equal(&pdc->path.saddr, &info->path.daddr)) {
		uet_count(udev, UET_CNT_RX_DROP_PDC_MISMATCH);
		return NULL;
	}
	return pdc;
}

static void uet_pdc_rcv_cp(struct uet_dev *udev, struct sk_buff *skb,
			   const struct uet_rx_info *info)
{
	const struct uet_pds_cp *cp = (const struct uet_pds_cp *)skb->data;
	struct uet_pdc *pdc;

	unsigned int type = uet_pds_next(cp->prologue);
	u32 psn = be32_to_cpu(cp->psn);

	uet_count(udev, UET_CNT_RX_CPS);
	if ((type != UET_CP_ACK_REQ && type != UET_CP_CLOSE &&
	     type != UET_CP_CLEAR) ||
	    uet_pds_flags(cp->prologue) & UET_CP_SYN) {
		uet_count(udev, UET_CNT_RX_DROP_UNSUPPORTED);
		return;
	}
	pdc = uet_pdc_by_id(udev, be16_to_cpu(cp->dpdcid), true, info);
	if (!pdc) {
		/* A CLOSE again, its ACK lost: the PDC is gone already. */
		if (type == UET_CP_CLOSE)
			uet_pds_send_nack(udev, info, UET_NACK_INV_DPDCID, psn,
					  0, be16_to_cpu(cp->spdcid), 0);
		return;
	}
	if (pdc->rpdcid != be16_to_cpu(cp->spdcid)) {
		uet_count(udev, UET_CNT_RX_DROP_PDC_MISMATCH);
		return;
	}
	if (type == UET_CP_ACK_REQ)
		uet_pdc_rcv_ack_req(pdc, psn, info);
	else if (type == UET_CP_CLEAR)
		uet_pdc_rcv_clear(pdc, be32_to_cpu(cp->payload));
	else
		uet_pdc_rcv_close(pdc, psn, info);
}

/* An ACK's response with data must carry exactly what it says. */
static int uet_rsp_data_len(struct uet_dev *udev, const struct sk_buff *skb,
			    int ack_len)
{
	const struct uet_ses_rsp_data *r;
	int len = ack_len + sizeof(*r);

	if (skb->len < len) {
		uet_count(udev, UET_CNT_RX_DROP_SHORT);
		return -EINVAL;
	}
	r = (const void *)(skb->data + ack_len);
	if (FIELD_GET(UET_SES_PAYLOAD_LEN, be16_to_cpu(r->payload_length)) !=
	    skb->len - len) {
		uet_count(udev, UET_CNT_RX_DROP_BAD_LEN);
		return -EINVAL;
	}
	return len;
}

/* Bytes of PDS header, and of the SES header it announces, per type. */
VISIBLE_IF_KUNIT int uet_pds_hdr_len(struct uet_dev *udev,
				     const struct sk_buff *skb)
{
	__be16 prologue = *(const __be16 *)skb->data;
	unsigned int next = uet_pds_next(prologue);
	int len;

	switch (uet_pds_type(prologue)) {
	case UET_PDS_ROD_REQ:
	case UET_PDS_RUD_REQ:
		if (next != UET_SES_REQ_STD)
			goto unsupported;
		return sizeof(struct uet_pds_req) + sizeof(struct uet_ses_std);
	case UET_PDS_UUD_REQ:
		if (next != UET_SES_REQ_STD)
			goto unsupported;
		return sizeof(struct uet_pds_uud) + sizeof(struct uet_ses_std);
	case UET_PDS_ACK:
	case UET_PDS_ACK_CC:
	case UET_PDS_ACK_CCX:
		len = uet_pds_ack_len(uet_pds_type(prologue));
		if (next == UET_SES_NONE)
			return len;
		if (next == UET_SES_RSP)
			return len + sizeof(struct uet_ses_rsp);
		if (next == UET_SES_RSP_DATA)
			return uet_rsp_data_len(udev, skb, len);
		if (next == UET_SES_RSP_DATA_SMALL)
			goto unsupported;
		break;
	case UET_PDS_NACK:
		return sizeof(struct uet_pds_nack);
	case UET_PDS_NACK_CCX:
		return sizeof(struct uet_pds_nack_ccx);
	case UET_PDS_CP:
		return sizeof(struct uet_pds_cp);
	case UET_PDS_TSS:
	case UET_PDS_RUDI_REQ:
	case UET_PDS_RUDI_RESP:
	case UET_PDS_RUD_CC_REQ:
	case UET_PDS_ROD_CC_REQ:
		goto unsupported;
	default:
		break;
	}
	uet_count(udev, UET_CNT_RX_DROP_BAD_HDR);
	return -EINVAL;

unsupported:
	uet_count(udev, UET_CNT_RX_DROP_UNSUPPORTED);
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL_IF_KUNIT(uet_pds_hdr_len);

/**
 * uet_pds_rcv - receive one UET packet
 * @udev: the device that owns its destination address
 * @skb: the packet from the PDS header on, linear; consumed
 * @info: its IP addresses and entropy
 *
 * Validates the length of every header before reading it.
 *
 * Context: softirq.
 */
void uet_pds_rcv(struct uet_dev *udev, struct sk_buff *skb,
		 const struct uet_rx_info *info)
{
	struct uet_pdc *pdc;
	__be16 prologue;
	int len;

	if (skb->len < sizeof(prologue)) {
		uet_count(udev, UET_CNT_RX_DROP_SHORT);
		goto out;
	}
	len = uet_pds_hdr_len(udev, skb);
	if (len < 0)
		goto out;
	if (skb->len < len) {
		uet_count(udev, UET_CNT_RX_DROP_SHORT);
		goto out;
	}
	prologue = *(const __be16 *)skb->data;

	switch (uet_pds_type(prologue)) {
	case UET_PDS_ROD_REQ:
	case UET_PDS_RUD_REQ:
		uet_pdc_rcv_req(udev, skb, info);
		break;
	case UET_PDS_UUD_REQ:
		__skb_pull(skb, sizeof(struct uet_pds_uud));
		uet_ses_rcv_uud(udev, skb, info);
		break;
	case UET_PDS_ACK:
	case UET_PDS_ACK_CC:
	case UET_PDS_ACK_CCX:
		pdc = uet_pdc_by_id(udev, be16_to_cpu(((struct uet_pds_ack *)
						       skb->data)->dpdcid),
				    false, info);
		if (pdc)
			uet_pdc_rcv_ack(pdc, skb, info);
		break;
	case UET_PDS_NACK:
	case UET_PDS_NACK_CCX:
		pdc = uet_pdc_by_id(udev, be16_to_cpu(((struct uet_pds_nack *)
						       skb->data)->dpdcid),
				    false, info);
		if (pdc)
			uet_pdc_rcv_nack(pdc, skb);
		break;
	case UET_PDS_CP:
		uet_pdc_rcv_cp(udev, skb, info);
		break;
	}
out:
	consume_skb(skb);
}

/* Initiator: send CLOSE on a PDC nobody used for a while. */
static void uet_pdc_send_close(struct uet_pdc *pdc)
{
	struct uet_tx_pkt *pkt;
	struct sk_buff *skb;

	pkt = kzalloc(sizeof(*pkt), GFP_ATOMIC);
	skb = uet_udp_alloc_skb(pdc->udev, sizeof(struct uet_pds_cp),
				GFP_ATOMIC);
	if (!pkt || !skb) {
		/* Tried again at the next scan. */
		kfree(pkt);
		kfree_skb(skb);
		return;
	}
	skb_put_zero(skb, sizeof(struct uet_pds_cp));
	pkt->skb = skb;
	pkt->close = true;
	pkt->retry_cnt = UET_CLOSE_RETRIES;
	pkt->rto_ms = UET_RTO_MIN_MS;
	pkt->psn = pdc->next_psn++;
	pdc->state = UET_PDC_CLOSING;
	list_add_tail(&pkt->node, &pdc->unacked);
	pdc->rto_ms = pkt->rto_ms;
	mod_timer(&pdc->rto_timer, jiffies + msecs_to_jiffies(pdc->rto_ms));
	uet_pdc_xmit(pdc, pkt, 0);
}

/*
 * Initiator: with nothing in flight, CLEAR_PSN rides on no request; a
 * CLEAR control packet (PSN 0, not acknowledged) carries it instead, so
 * the target stops keeping responses we have.
 */
static void uet_pdc_send_clear(struct uet_pdc *pdc)
{
	pdc->clear_sent = pdc->next_psn - 1;
	uet_pdc_send_cp(pdc, UET_CP_CLEAR, 0, pdc->clear_sent);
}

/*
 * Idle PDCs: an established initiator PDC with nothing in flight sends
 * its CLEAR_PSN if the target has not heard it yet.  One that no QP
 * holds and that carried nothing for pdc_idle_ms is closed with CLOSE;
 * one that never got established is simply dropped.  A target PDC goes
 * when its initiator closes it: a silent one may belong to an idle QP,
 * and dropping it would fail that QP's next message.
 */
static void uet_pdc_gc(struct work_struct *work)
{
	struct uet_dev *udev = container_of(to_delayed_work(work),
					    struct uet_dev, pdc_gc);
	unsigned long idle = msecs_to_jiffies(pdc_idle_ms);
	struct uet_pdc *pdc;
	unsigned long id;
	bool drop;

	rcu_read_lock();
	xa_for_each(&udev->pdcs, id, pdc) {
		drop = false;
		spin_lock_bh(&pdc->lock);
		if (!pdc->target && pdc->state == UET_PDC_ESTABLISHED &&
		    list_empty(&pdc->unacked) &&
		    pdc->clear_sent != pdc->next_psn - 1)
			uet_pdc_send_clear(pdc);
		if (!pdc->target &&
		    time_after(jiffies, pdc->last_used + idle) &&
		    list_empty(&pdc->unacked) &&
		    refcount_read(&pdc->ref) == 1) {
			if (pdc->state == UET_PDC_ESTABLISHED)
				uet_pdc_send_close(pdc);
			else
				drop = pdc->state == UET_PDC_SYN;
		}
		if (drop)
			pdc->state = UET_PDC_CLOSED;
		spin_unlock_bh(&pdc->lock);
		if (drop)
			uet_pdc_unpublish(pdc);
	}
	rcu_read_unlock();
	if (!xa_empty(&udev->pdcs))
		queue_delayed_work(system_wq, &udev->pdc_gc, idle / 2 + 1);
}

void uet_pdc_init_dev(struct uet_dev *udev)
{
	uet_hdr_size_checks();
	xa_init_flags(&udev->pdcs, XA_FLAGS_ALLOC1);
	spin_lock_init(&udev->pdc_lock);
	hash_init(udev->pdc_hash);
	INIT_DELAYED_WORK(&udev->pdc_gc, uet_pdc_gc);
	/* A re-created device must not reuse the ids its peers remember. */
	udev->pdc_next = get_random_u32_inclusive(1, U16_MAX);
}
EXPORT_SYMBOL_IF_KUNIT(uet_pdc_init_dev);

/* Once nothing sends or receives any more: the device is going away. */
void uet_pdc_fini_dev(struct uet_dev *udev)
{
	struct uet_pdc *pdc;
	unsigned long id;

	cancel_delayed_work_sync(&udev->pdc_gc);
	xa_for_each(&udev->pdcs, id, pdc) {
		spin_lock_bh(&pdc->lock);
		pdc->state = UET_PDC_CLOSED;
		spin_unlock_bh(&pdc->lock);
		uet_pdc_unpublish(pdc);
	}
	/* Every QP is gone: that was the last reference of each. */
	uet_tx_flush_work();
	xa_destroy(&udev->pdcs);
}
EXPORT_SYMBOL_IF_KUNIT(uet_pdc_fini_dev);
