// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * KUnit suites for the PDS logic of a PDC, on a PDC of a device that has
 * no network: whatever it sends fails with -ENETDOWN and is counted.
 * The window and PSN arithmetic across the wrap, the SACK bitmap a target
 * reports and what an initiator makes of one, the PDC states an ACK
 * moves, the ACK coalescing decision, the action of every NACK code and
 * the new PDC an INV_DPDCID opens.
 */
#include <kunit/test.h>
#include <linux/skbuff.h>

#include "uet_kunit.h"

struct uet_pdc_test {
	struct uet_dev *udev;
	struct uet_pdc *pdc;
};

static int uet_pdc_test_init(struct kunit *test)
{
	const struct uet_ip_path path = { .ipv4 = true };
	struct uet_pdc_test *t;
	struct uet_dev *udev;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	udev = kunit_kzalloc(test, sizeof(*udev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, udev);
	/* What failing a PDC's messages touches of the device. */
	xa_init(&udev->qps);
	spin_lock_init(&udev->pdc_lock);
	spin_lock_init(&udev->uctx_lock);
	INIT_LIST_HEAD(&udev->uctxs);
	t->udev = udev;
	t->pdc = uet_pdc_alloc(udev, false, UET_PDS_ROD_REQ, 1, &path);
	KUNIT_ASSERT_NOT_NULL(test, t->pdc);
	test->priv = t;
	return 0;
}

static void uet_pdc_test_exit(struct kunit *test)
{
	struct uet_pdc_test *t = test->priv;
	struct uet_pdc *pdc = t->pdc;
	struct uet_tx_pkt *pkt, *tmp;
	unsigned int i;

	timer_shutdown_sync(&pdc->rto_timer);
	list_for_each_entry_safe(pkt, tmp, &pdc->unacked, node) {
		list_del(&pkt->node);
		kfree_skb(pkt->skb);
		kfree(pkt);
	}
	for (i = 0; i < UET_WINDOW; i++)
		kfree_skb(pdc->held[i]);
	kfree(pdc);
}

static u64 uet_pdc_test_cnt(struct kunit *test, enum uet_counter c)
{
	struct uet_pdc_test *t = test->priv;

	return atomic64_read(&t->udev->stats[c]);
}

/* Make @pdc an initiator that sends from @psn on, with peer PDC id 7. */
static void uet_pdc_test_prime(struct uet_pdc *pdc, u32 psn,
			       enum uet_pdc_state state)
{
	pdc->state = state;
	pdc->rpdcid = state == UET_PDC_SYN ? 0 : 7;
	pdc->start_psn = psn;
	pdc->next_psn = psn;
	pdc->cack = psn - 1;
	pdc->gbn_until = psn;
	pdc->clear_sent = psn - 1;
}

/* The test's own PDC (not in the device's tables), primed. */
static struct uet_pdc *uet_pdc_test_start(struct kunit *test, u32 psn,
					  enum uet_pdc_state state)
{
	struct uet_pdc_test *t = test->priv;

	uet_pdc_test_prime(t->pdc, psn, state);
	return t->pdc;
}

/* Queue one request packet, as uet_pdc_send() does, without sending it. */
static struct uet_tx_pkt *uet_pdc_test_send(struct kunit *test,
					    struct uet_pdc *pdc)
{
	unsigned int len = sizeof(struct uet_pds_req) +
			   sizeof(struct uet_ses_std);
	struct uet_tx_pkt *pkt;
	struct sk_buff *skb;

	skb = alloc_skb(len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	pkt = kzalloc(sizeof(*pkt), GFP_KERNEL);
	if (!pkt)
		kfree_skb(skb);
	KUNIT_ASSERT_NOT_NULL(test, pkt);
	skb_put_zero(skb, len);
	pkt->skb = skb;
	pkt->psn = pdc->next_psn++;
	/* Long enough that the RTO never fires during a test. */
	pkt->rto_ms = 60000;
	list_add_tail(&pkt->node, &pdc->unacked);
	return pkt;
}

static struct uet_tx_pkt *uet_pdc_test_pkt(struct uet_pdc *pdc, u32 psn)
{
	struct uet_tx_pkt *pkt;

	list_for_each_entry(pkt, &pdc->unacked, node)
		if (pkt->psn == psn)
			return pkt;
	return NULL;
}

static unsigned int uet_pdc_test_unacked(struct uet_pdc *pdc)
{
	struct uet_tx_pkt *pkt;
	unsigned int n = 0;

	list_for_each_entry(pkt, &pdc->unacked, node)
		n++;
	return n;
}

/* Feed the initiator an ACK (type ACK) or ACK_CC from PDC @spdcid. */
static void uet_pdc_test_ack(struct kunit *test, struct uet_pdc *pdc,
			     unsigned int type, u32 cack, u16 spdcid, u8 mpr,
			     s16 sack_off, u64 sack)
{
	unsigned int len = type == UET_PDS_ACK ? sizeof(struct uet_pds_ack) :
						 sizeof(struct uet_pds_ack_cc);
	const struct uet_rx_info info = {};
	struct uet_pds_ack_cc *cc;
	struct sk_buff *skb;

	skb = alloc_skb(len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	cc = skb_put_zero(skb, len);
	cc->ack.prologue = uet_prologue(type, UET_SES_NONE, 0);
	cc->ack.cack_psn = cpu_to_be32(cack);
	cc->ack.spdcid = cpu_to_be16(spdcid);
	cc->ack.dpdcid = cpu_to_be16(pdc->lpdcid);
	if (type != UET_PDS_ACK) {
		cc->mpr = mpr;
		cc->sack_psn_offset = cpu_to_be16(sack_off);
		cc->sack_bitmap = cpu_to_be64(sack);
	}
	uet_pdc_rcv_ack(pdc, skb, &info);
	kfree_skb(skb);
}

static void uet_pdc_test_nack(struct kunit *test, struct uet_pdc *pdc,
			      u8 code, u32 psn)
{
	struct uet_pds_nack *nack;
	struct sk_buff *skb;

	skb = alloc_skb(sizeof(*nack), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	nack = skb_put_zero(skb, sizeof(*nack));
	nack->prologue = uet_prologue(UET_PDS_NACK, UET_SES_NONE, 0);
	nack->code = code;
	nack->psn = cpu_to_be32(psn);
	nack->spdcid = cpu_to_be16(pdc->rpdcid);
	nack->dpdcid = cpu_to_be16(pdc->lpdcid);
	uet_pdc_rcv_nack(pdc, skb);
	kfree_skb(skb);
}

/* A new PDC: a random start PSN, nothing acknowledged before it. */
static void uet_pdc_test_alloc(struct kunit *test)
{
	struct uet_pdc_test *t = test->priv;
	struct uet_pdc *pdc = t->pdc;

	KUNIT_EXPECT_EQ(test, pdc->next_psn, pdc->start_psn);
	KUNIT_EXPECT_EQ(test, pdc->cack, pdc->start_psn - 1);
	KUNIT_EXPECT_EQ(test, pdc->gbn_until, pdc->start_psn);
	KUNIT_EXPECT_EQ(test, pdc->window, UET_WINDOW);
	KUNIT_EXPECT_EQ(test, pdc->rto_ms, UET_RTO_MIN_MS);
	KUNIT_EXPECT_GE(test, be16_to_cpu(pdc->sport), 49152);
	KUNIT_EXPECT_TRUE(test, list_empty(&pdc->unacked));
}

/* The window is counted from the oldest unacknowledged PSN, mod 2^32. */
static void uet_pdc_test_window_wrap(struct kunit *test)
{
	struct uet_pdc *pdc;
	unsigned int i;

	pdc = uet_pdc_test_start(test, 0xffffffc0, UET_PDC_ESTABLISHED);
	for (i = 0; i < UET_WINDOW; i++) {
		KUNIT_EXPECT_TRUE(test, __uet_pdc_can_send(pdc));
		uet_pdc_test_send(test, pdc);
	}
	KUNIT_EXPECT_EQ(test, pdc->next_psn, 0x40);
	KUNIT_EXPECT_FALSE(test, __uet_pdc_can_send(pdc));

	/* The oldest acknowledged: room for one. */
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK, 0xffffffc0, 7, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_unacked(pdc), UET_WINDOW - 1);
	KUNIT_EXPECT_TRUE(test, __uet_pdc_can_send(pdc));
	uet_pdc_test_send(test, pdc);
	KUNIT_EXPECT_FALSE(test, __uet_pdc_can_send(pdc));

	/* Everything, across the wrap. */
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK, 0x40, 7, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, pdc->cack, 0x40);
	KUNIT_EXPECT_TRUE(test, list_empty(&pdc->unacked));
	KUNIT_EXPECT_TRUE(test, __uet_pdc_can_send(pdc));
}

/* The window the target gives (mpr) and what a PDC in each state sends. */
static void uet_pdc_test_window_mpr(struct kunit *test)
{
	struct uet_pdc *pdc;

	pdc = uet_pdc_test_start(test, 100, UET_PDC_ESTABLISHED);
	pdc->window = 1;
	uet_pdc_test_send(test, pdc);
	KUNIT_EXPECT_FALSE(test, __uet_pdc_can_send(pdc));

	/* mpr 0 still takes one unit; more than ours is not used. */
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK_CC, 99, 7, 0, 1, 0);
	KUNIT_EXPECT_EQ(test, pdc->window, UET_MPR_UNIT);
	KUNIT_EXPECT_TRUE(test, __uet_pdc_can_send(pdc));
	pdc->window = 1;
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK_CC, 99, 7, 255, 1, 0);
	KUNIT_EXPECT_EQ(test, pdc->window, UET_WINDOW);
	/* A plain ACK leaves the window alone. */
	pdc->window = 1;
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK, 99, 7, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, pdc->window, 1);
}

static void uet_pdc_test_window_states(struct kunit *test)
{
	struct uet_pdc *pdc;

	pdc = uet_pdc_test_start(test, 0, UET_PDC_SYN);
	KUNIT_EXPECT_TRUE(test, __uet_pdc_can_send(pdc));
	pdc->state = UET_PDC_ESTABLISHED;
	KUNIT_EXPECT_TRUE(test, __uet_pdc_can_send(pdc));
	pdc->state = UET_PDC_CLOSING;
	KUNIT_EXPECT_FALSE(test, __uet_pdc_can_send(pdc));
	pdc->state = UET_PDC_CLOSED;
	KUNIT_EXPECT_FALSE(test, __uet_pdc_can_send(pdc));
	pdc->state = UET_PDC_ERROR;
	KUNIT_EXPECT_FALSE(test, __uet_pdc_can_send(pdc));
}

/* The first ACK names the target's PDC and establishes ours. */
static void uet_pdc_test_syn_established(struct kunit *test)
{
	struct uet_pdc *pdc;

	pdc = uet_pdc_test_start(test, U32_MAX, UET_PDC_SYN);
	uet_pdc_test_send(test, pdc);
	uet_pdc_test_send(test, pdc);
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK, U32_MAX, 0x1234, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, pdc->state, UET_PDC_ESTABLISHED);
	KUNIT_EXPECT_EQ(test, pdc->rpdcid, 0x1234);
	KUNIT_EXPECT_EQ(test, pdc->cack, U32_MAX);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_unacked(pdc), 1);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RX_ACKS), 1);

	/* From now on only that PDC may acknowledge. */
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK, 0, 0x1235, 0, 0, 0);
	KUNIT_EXPECT_EQ(test,
			uet_pdc_test_cnt(test, UET_CNT_RX_DROP_PDC_MISMATCH),
			1);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_unacked(pdc), 1);
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK, 0, 0x1234, 0, 0, 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&pdc->unacked));
	KUNIT_EXPECT_EQ(test, pdc->rpdcid, 0x1234);
}

/* ACKs for PSNs never sent, or older than what is acknowledged. */
static void uet_pdc_test_ack_stale(struct kunit *test)
{
	struct uet_pdc *pdc;

	pdc = uet_pdc_test_start(test, 0xfffffffe, UET_PDC_ESTABLISHED);
	uet_pdc_test_send(test, pdc);
	uet_pdc_test_send(test, pdc);
	uet_pdc_test_send(test, pdc);
	/* next_psn is 1: an ACK of 1 acknowledges what was not sent. */
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK, 1, 7, 0, 0, 0);
	/* Before the oldest - 1. */
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK, 0xfffffffc, 7, 0, 0, 0);
	/* Half the PSN space away. */
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK, 0x7ffffffe, 7, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RX_DROP_STALE), 3);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RX_ACKS), 0);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_unacked(pdc), 3);

	/* oldest - 1 itself is a duplicate ACK, not stale. */
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK, 0xfffffffd, 7, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RX_ACKS), 1);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_unacked(pdc), 3);
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK, 0, 7, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_unacked(pdc), 0);
}

/* A closed or failed PDC takes no ACK. */
static void uet_pdc_test_ack_closed(struct kunit *test)
{
	static const enum uet_pdc_state states[] = {
		UET_PDC_CLOSED, UET_PDC_ERROR,
	};
	struct uet_pdc *pdc;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(states); i++) {
		pdc = uet_pdc_test_start(test, 10 + 10 * i, states[i]);
		uet_pdc_test_send(test, pdc);
		uet_pdc_test_ack(test, pdc, UET_PDS_ACK, pdc->start_psn, 7, 0,
				 0, 0);
		KUNIT_EXPECT_EQ(test, pdc->state, states[i]);
		KUNIT_EXPECT_EQ(test, uet_pdc_test_unacked(pdc), i + 1);
	}
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RX_DROP_STALE), 2);
}

/* The ACK of the CLOSE: the PDC is closed. */
static void uet_pdc_test_closing_closed(struct kunit *test)
{
	struct uet_tx_pkt *pkt;
	struct uet_pdc *pdc;

	pdc = uet_pdc_test_start(test, 0x1000, UET_PDC_ESTABLISHED);
	uet_pdc_test_send(test, pdc);
	pkt = uet_pdc_test_send(test, pdc);
	pkt->close = true;
	pdc->state = UET_PDC_CLOSING;
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK, 0x1000, 7, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, pdc->state, UET_PDC_CLOSING);
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK, 0x1001, 7, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, pdc->state, UET_PDC_CLOSED);
	KUNIT_EXPECT_TRUE(test, list_empty(&pdc->unacked));
}

/* Acknowledged, but its response is still to come: it stays queued. */
static void uet_pdc_test_ack_want_rsp(struct kunit *test)
{
	struct uet_tx_pkt *pkt;
	struct uet_pdc *pdc;

	pdc = uet_pdc_test_start(test, 0x2000, UET_PDC_ESTABLISHED);
	pkt = uet_pdc_test_send(test, pdc);
	pkt->want_rsp = true;
	uet_pdc_test_send(test, pdc);
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK, 0x2001, 7, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_unacked(pdc), 1);
	KUNIT_EXPECT_TRUE(test, pkt->acked);
	KUNIT_EXPECT_EQ(test, pdc->cack, 0x2001);
	/* The window counts from it still. */
	KUNIT_EXPECT_EQ(test, pdc->next_psn - pkt->psn, 2);
}

/* Target: bit i of the SACK bitmap is exp_psn + i, up to bit 63. */
static void uet_pdc_test_sack_bitmap(struct kunit *test)
{
	struct uet_pdc_test *t = test->priv;
	struct uet_pdc *pdc = t->pdc;
	u32 exp = 0xffffffe0;

	pdc->target = true;
	pdc->exp_psn = exp;
	KUNIT_EXPECT_EQ(test, uet_pdc_sack_bitmap(pdc), 0);

	/* RUD: delivered beyond exp_psn. */
	__set_bit((exp + 1) % UET_WINDOW, pdc->rcvd);
	__set_bit((exp + 63) % UET_WINDOW, pdc->rcvd);
	/* Past the bitmap: not reported. */
	__set_bit((exp + 64) % UET_WINDOW, pdc->rcvd);
	__set_bit((exp + 127) % UET_WINDOW, pdc->rcvd);
	KUNIT_EXPECT_EQ(test, uet_pdc_sack_bitmap(pdc),
			BIT_ULL(1) | BIT_ULL(63));

	/* ROD: held for its turn, across the PSN wrap (exp + 0x20 is 0). */
	pdc->held[(exp + 0x1f) % UET_WINDOW] = alloc_skb(0, GFP_KERNEL);
	pdc->held[(exp + 0x20) % UET_WINDOW] = alloc_skb(0, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pdc->held[(exp + 0x1f) % UET_WINDOW]);
	KUNIT_ASSERT_NOT_NULL(test, pdc->held[0]);
	KUNIT_EXPECT_EQ(test, uet_pdc_sack_bitmap(pdc),
			BIT_ULL(1) | BIT_ULL(0x1f) | BIT_ULL(0x20) |
			BIT_ULL(63));

	/* exp_psn moves on: the bitmap with it. */
	pdc->exp_psn = exp + 1;
	KUNIT_EXPECT_EQ(test, uet_pdc_sack_bitmap(pdc),
			BIT_ULL(0) | BIT_ULL(0x1e) | BIT_ULL(0x1f) |
			BIT_ULL(62) | BIT_ULL(63));
}

/*
 * Initiator: SACKed packets are not sent again; those missing below the
 * highest SACKed one are, once; those beyond bit 63 are left to the RTO.
 */
static void uet_pdc_test_sack_boundary(struct kunit *test)
{
	struct uet_pdc *pdc;
	u32 s = 0xffffffe0, psn;
	unsigned int i;

	pdc = uet_pdc_test_start(test, s, UET_PDC_ESTABLISHED);
	for (i = 0; i < 66; i++)
		uet_pdc_test_send(test, pdc);
	/* Nothing new acknowledged; SACK base s (cack + 1). */
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK_CC, s - 1, 7, 1, 1,
			 BIT_ULL(1) | BIT_ULL(63));
	for (i = 0; i < 66; i++) {
		struct uet_tx_pkt *pkt;

		psn = s + i;
		pkt = uet_pdc_test_pkt(pdc, psn);
		KUNIT_ASSERT_NOT_NULL(test, pkt);
		KUNIT_EXPECT_EQ_MSG(test, pkt->sacked, i == 1 || i == 63,
				    "PSN %#x", psn);
		KUNIT_EXPECT_EQ_MSG(test, pkt->fast_retx,
				    i < 63 && i != 1, "PSN %#x", psn);
	}
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RETRANSMITS), 62);
	/* No network: every one of them failed to go. */
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_TX_ERRORS), 62);

	/* The same SACK again: each gap goes once per round. */
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK_CC, s - 1, 7, 1, 1,
			 BIT_ULL(1) | BIT_ULL(63));
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RETRANSMITS), 62);

	/* A SACK base before the oldest packet: bits below it match none. */
	uet_pdc_test_ack(test, pdc, UET_PDS_ACK_CC, s - 1, 7, 1, -62,
			 BIT_ULL(63) | BIT_ULL(62));
	KUNIT_EXPECT_TRUE(test, uet_pdc_test_pkt(pdc, s)->sacked);
	KUNIT_EXPECT_FALSE(test, uet_pdc_test_pkt(pdc, s + 2)->sacked);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RETRANSMITS), 62);
}

/* Target: when an ACK goes at once, and how requests add up. */
static void uet_pdc_test_ack_coalescing(struct kunit *test)
{
	struct uet_pdc_test *t = test->priv;
	struct uet_pdc *pdc = t->pdc;
	unsigned int i;

	pdc->target = true;
	/* A response to carry, or asked for. */
	KUNIT_EXPECT_TRUE(test, uet_pdc_ack_due(pdc, 0, 0, true));
	pdc->ack_bytes = 0;
	KUNIT_EXPECT_TRUE(test, uet_pdc_ack_due(pdc, UET_REQ_AR, 0, false));
	pdc->ack_bytes = 0;
	KUNIT_EXPECT_TRUE(test, uet_pdc_ack_due(pdc, UET_REQ_SYN, 0, false));
	pdc->ack_bytes = 0;
	KUNIT_EXPECT_TRUE(test, uet_pdc_ack_due(pdc, UET_REQ_RETX, 0, false));

	/* Small requests count 1 KiB each: the 16th is due. */
	pdc->ack_bytes = 0;
	for (i = 1; i < UET_ACK_GEN_TRIGGER / UET_ACK_GEN_MIN_ADD; i++)
		KUNIT_EXPECT_FALSE_MSG(test, uet_pdc_ack_due(pdc, 0, 8, false),
				       "request %u", i);
	KUNIT_EXPECT_TRUE(test, uet_pdc_ack_due(pdc, 0, 0, false));
	KUNIT_EXPECT_EQ(test, pdc->ack_bytes, UET_ACK_GEN_TRIGGER);

	/* Larger ones count their bytes: one short of it is not due. */
	pdc->ack_bytes = 0;
	KUNIT_EXPECT_FALSE(test, uet_pdc_ack_due(pdc, 0, 4096, false));
	KUNIT_EXPECT_FALSE(test, uet_pdc_ack_due(pdc, 0,
						 UET_ACK_GEN_TRIGGER - 4097,
						 false));
	KUNIT_EXPECT_TRUE(test, uet_pdc_ack_due(pdc, 0, 1, false));
	pdc->ack_bytes = 0;
	KUNIT_EXPECT_FALSE(test, uet_pdc_ack_due(pdc, 0, 9000, false));
	KUNIT_EXPECT_TRUE(test, uet_pdc_ack_due(pdc, 0, 9000, false));
	/* Flags that ask for nothing. */
	pdc->ack_bytes = 0;
	KUNIT_EXPECT_FALSE(test, uet_pdc_ack_due(pdc, 0x63, 0, false));
}

struct uet_nack_case {
	u8 code;
	bool fatal;
};

/* Every NACK code of UEC 1.0.1 we know, and two we do not. */
static const struct uet_nack_case uet_nack_cases[] = {
	{ UET_NACK_NO_PDC_AVAIL, false },
	{ UET_NACK_NO_PKT_BUFFER, false },
	{ UET_NACK_PSN_OOR_WINDOW, false },
	{ UET_NACK_ROD_OOO, false },
	{ UET_NACK_INV_DPDCID, true },
	{ UET_NACK_PDC_HDR_MISMATCH, true },
	{ UET_NACK_CLOSING, true },
	{ UET_NACK_CLOSING_IN_ERR, true },
	{ UET_NACK_PKT_NOT_RCVD, false },
	{ UET_NACK_INVALID_SYN, true },
	{ UET_NACK_PDC_MODE_MISMATCH, true },
	{ UET_NACK_RCVD_SES_PROCG, false },
	{ UET_NACK_UNEXP_EVENT, true },
	{ 0x00, false },
	{ 0xff, false },
};

static void uet_nack_case_desc(const struct uet_nack_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "code %#04x", c->code);
}

KUNIT_ARRAY_PARAM(uet_nack, uet_nack_cases, uet_nack_case_desc);

/*
 * The action of each NACK for the oldest of three packets:
 *  - a fatal code fails the PDC and its messages (INV_DPDCID only
 *    reopens an established PDC, not one still in SYN);
 *  - RCVD_SES_PROCG waits for the response: nothing is sent;
 *  - any other goes back once: all three again, and NACKs for packets
 *    sent before that go-back change nothing more.
 */
static void uet_pdc_test_nack_action(struct kunit *test)
{
	const struct uet_nack_case *c = test->param_value;
	u32 s = 0xfffffffe;
	struct uet_pdc *pdc;

	KUNIT_EXPECT_EQ(test, uet_nack_is_fatal(c->code), c->fatal);

	pdc = uet_pdc_test_start(test, s, UET_PDC_SYN);
	uet_pdc_test_send(test, pdc);
	uet_pdc_test_send(test, pdc);
	uet_pdc_test_send(test, pdc);
	uet_pdc_test_nack(test, pdc, c->code, s);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RX_NACKS), 1);
	if (c->fatal) {
		KUNIT_EXPECT_EQ(test, pdc->state, UET_PDC_ERROR);
		KUNIT_EXPECT_TRUE(test, list_empty(&pdc->unacked));
		KUNIT_EXPECT_EQ(test,
				uet_pdc_test_cnt(test, UET_CNT_RETRANSMITS), 0);
		/* Failed: later NACKs are stale. */
		uet_pdc_test_nack(test, pdc, c->code, s);
		KUNIT_EXPECT_EQ(test,
				uet_pdc_test_cnt(test, UET_CNT_RX_DROP_STALE),
				1);
		return;
	}
	KUNIT_EXPECT_EQ(test, pdc->state, UET_PDC_SYN);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_unacked(pdc), 3);
	if (c->code == UET_NACK_RCVD_SES_PROCG) {
		KUNIT_EXPECT_EQ(test,
				uet_pdc_test_cnt(test, UET_CNT_RETRANSMITS), 0);
		KUNIT_EXPECT_EQ(test, pdc->gbn_until, s);
		return;
	}
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RETRANSMITS), 3);
	KUNIT_EXPECT_EQ(test, pdc->gbn_until, 1);
	uet_pdc_test_nack(test, pdc, c->code, s + 1);
	uet_pdc_test_nack(test, pdc, c->code, s + 2);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RETRANSMITS), 3);
	/* A packet sent after the go-back is news again. */
	uet_pdc_test_send(test, pdc);
	uet_pdc_test_nack(test, pdc, c->code, 1);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RETRANSMITS), 7);
}

/* NACKs for PSNs not in flight, or to a closed PDC, are stale. */
static void uet_pdc_test_nack_stale(struct kunit *test)
{
	struct uet_pdc *pdc;
	u32 s = 0xffffffff;

	pdc = uet_pdc_test_start(test, s, UET_PDC_ESTABLISHED);
	uet_pdc_test_send(test, pdc);
	uet_pdc_test_send(test, pdc);
	/* Not sent yet, and acknowledged already. */
	uet_pdc_test_nack(test, pdc, UET_NACK_INV_DPDCID, 1);
	uet_pdc_test_nack(test, pdc, UET_NACK_INV_DPDCID, s - 1);
	KUNIT_EXPECT_EQ(test, pdc->state, UET_PDC_ESTABLISHED);
	pdc->state = UET_PDC_CLOSED;
	uet_pdc_test_nack(test, pdc, UET_NACK_PKT_NOT_RCVD, s);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RX_DROP_STALE), 3);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RX_NACKS), 0);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RETRANSMITS), 0);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_unacked(pdc), 2);
}

/*
 * INV_DPDCID suite: the PDCs live in the device's tables, as on a real
 * device (the test's own PDC stays out of them).
 */
static int uet_pdc_reopen_init(struct kunit *test)
{
	struct uet_pdc_test *t;
	int ret;

	ret = uet_pdc_test_init(test);
	if (ret)
		return ret;
	t = test->priv;
	uet_pdc_init_dev(t->udev);
	return 0;
}

static void uet_pdc_reopen_exit(struct kunit *test)
{
	struct uet_pdc_test *t = test->priv;

	uet_pdc_test_exit(test);
	uet_pdc_fini_dev(t->udev);
}

/* The initiator PDC of the test's path, opened when there is none. */
static struct uet_pdc *uet_pdc_test_initiator(struct kunit *test)
{
	struct uet_pdc_test *t = test->priv;
	const struct uet_av av = { .path = t->pdc->path };
	struct uet_pdc *pdc;

	pdc = uet_pdc_initiator(t->udev, t->pdc->mode, t->pdc->job, &av);
	KUNIT_ASSERT_NOT_NULL(test, pdc);
	return pdc;
}

/*
 * The target lost an established PDC: the packets it has not acknowledged
 * go again, in their order, on a new PDC that opens with SYN under new
 * PSNs; one acknowledged but waiting for its response is lost with the
 * old target.  The old PDC leaves the tables.
 */
static void uet_pdc_test_reopen(struct kunit *test)
{
	struct uet_pdc_test *t = test->priv;
	struct uet_tx_pkt *pkt[4], *p;
	struct uet_pdc *old, *pdc;
	unsigned int i;
	u32 s = 0xfffffffe;

	old = uet_pdc_test_initiator(test);
	uet_pdc_test_prime(old, s, UET_PDC_ESTABLISHED);
	for (i = 0; i < ARRAY_SIZE(pkt); i++)
		pkt[i] = uet_pdc_test_send(test, old);
	pkt[0]->acked = true;
	pkt[1]->sacked = true;
	pkt[2]->fast_retx = true;
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_PDC_OPENED), 1);

	uet_pdc_test_nack(test, old, UET_NACK_INV_DPDCID, s + 1);
	KUNIT_EXPECT_EQ(test, old->state, UET_PDC_ERROR);
	KUNIT_EXPECT_TRUE(test, list_empty(&old->unacked));
	KUNIT_EXPECT_NULL(test, xa_load(&t->udev->pdcs, old->lpdcid));
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_PDC_CLOSED), 1);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_PDC_OPENED), 2);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RETRANSMITS), 3);

	pdc = uet_pdc_test_initiator(test);
	KUNIT_EXPECT_PTR_NE(test, pdc, old);
	KUNIT_EXPECT_NE(test, pdc->lpdcid, old->lpdcid);
	KUNIT_EXPECT_EQ(test, pdc->state, UET_PDC_SYN);
	KUNIT_EXPECT_EQ(test, pdc->rpdcid, 0);
	KUNIT_EXPECT_EQ(test, pdc->next_psn, pdc->start_psn + 3);
	KUNIT_EXPECT_TRUE(test, timer_pending(&pdc->rto_timer));
	i = 1;
	list_for_each_entry(p, &pdc->unacked, node) {
		KUNIT_ASSERT_LT(test, i, ARRAY_SIZE(pkt));
		KUNIT_EXPECT_PTR_EQ(test, p, pkt[i]);
		KUNIT_EXPECT_EQ(test, p->psn, pdc->start_psn + i - 1);
		KUNIT_EXPECT_FALSE(test, p->sacked);
		KUNIT_EXPECT_FALSE(test, p->fast_retx);
		i++;
	}
	KUNIT_EXPECT_EQ(test, i, ARRAY_SIZE(pkt));

	/* NACKs the old target sent later find the old PDC failed. */
	uet_pdc_test_nack(test, old, UET_NACK_INV_DPDCID, s + 2);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RX_DROP_STALE), 1);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_PDC_OPENED), 2);
	uet_pdc_put(pdc);
	uet_pdc_put(old);
}

/*
 * A new initiator PDC for the same path opened while the old one was out
 * of the tables: the packets are not sent again, their messages fail
 * (with RETRY_EXC), and the twin is left alone.
 */
static void uet_pdc_test_reopen_twin(struct kunit *test)
{
	struct uet_pdc *old, *twin;
	u32 s = 100;

	old = uet_pdc_test_start(test, s, UET_PDC_ESTABLISHED);
	uet_pdc_test_send(test, old);
	uet_pdc_test_send(test, old);
	twin = uet_pdc_test_initiator(test);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_PDC_OPENED), 1);

	uet_pdc_test_nack(test, old, UET_NACK_INV_DPDCID, s);
	KUNIT_EXPECT_EQ(test, old->state, UET_PDC_ERROR);
	KUNIT_EXPECT_TRUE(test, list_empty(&old->unacked));
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_PDC_OPENED), 1);
	KUNIT_EXPECT_EQ(test, uet_pdc_test_cnt(test, UET_CNT_RETRANSMITS), 0);
	KUNIT_EXPECT_EQ(test, twin->state, UET_PDC_SYN);
	KUNIT_EXPECT_TRUE(test, list_empty(&twin->unacked));
	KUNIT_EXPECT_PTR_EQ(test, uet_pdc_test_initiator(test), twin);
	uet_pdc_put(twin);
	uet_pdc_put(twin);
}

static struct kunit_case uet_pdc_window_cases[] = {
	KUNIT_CASE(uet_pdc_test_alloc),
	KUNIT_CASE(uet_pdc_test_window_wrap),
	KUNIT_CASE(uet_pdc_test_window_mpr),
	KUNIT_CASE(uet_pdc_test_window_states),
	{}
};

static struct kunit_suite uet_pdc_window_suite = {
	.name = "uet_pdc_window",
	.init = uet_pdc_test_init,
	.exit = uet_pdc_test_exit,
	.test_cases = uet_pdc_window_cases,
};

static struct kunit_case uet_pdc_state_cases[] = {
	KUNIT_CASE(uet_pdc_test_syn_established),
	KUNIT_CASE(uet_pdc_test_ack_stale),
	KUNIT_CASE(uet_pdc_test_ack_closed),
	KUNIT_CASE(uet_pdc_test_closing_closed),
	KUNIT_CASE(uet_pdc_test_ack_want_rsp),
	{}
};

static struct kunit_suite uet_pdc_state_suite = {
	.name = "uet_pdc_state",
	.init = uet_pdc_test_init,
	.exit = uet_pdc_test_exit,
	.test_cases = uet_pdc_state_cases,
};

static struct kunit_case uet_pdc_sack_cases[] = {
	KUNIT_CASE(uet_pdc_test_sack_bitmap),
	KUNIT_CASE(uet_pdc_test_sack_boundary),
	KUNIT_CASE(uet_pdc_test_ack_coalescing),
	{}
};

static struct kunit_suite uet_pdc_sack_suite = {
	.name = "uet_pdc_sack_ack",
	.init = uet_pdc_test_init,
	.exit = uet_pdc_test_exit,
	.test_cases = uet_pdc_sack_cases,
};

static struct kunit_case uet_pdc_nack_cases[] = {
	KUNIT_CASE_PARAM(uet_pdc_test_nack_action, uet_nack_gen_params),
	KUNIT_CASE(uet_pdc_test_nack_stale),
	{}
};

static struct kunit_suite uet_pdc_nack_suite = {
	.name = "uet_pdc_nack",
	.init = uet_pdc_test_init,
	.exit = uet_pdc_test_exit,
	.test_cases = uet_pdc_nack_cases,
};

static struct kunit_case uet_pdc_reopen_cases[] = {
	KUNIT_CASE(uet_pdc_test_reopen),
	KUNIT_CASE(uet_pdc_test_reopen_twin),
	{}
};

static struct kunit_suite uet_pdc_reopen_suite = {
	.name = "uet_pdc_reopen",
	.init = uet_pdc_reopen_init,
	.exit = uet_pdc_reopen_exit,
	.test_cases = uet_pdc_reopen_cases,
};

kunit_test_suites(&uet_pdc_window_suite, &uet_pdc_state_suite,
		  &uet_pdc_sack_suite, &uet_pdc_nack_suite,
		  &uet_pdc_reopen_suite);

MODULE_DESCRIPTION("KUnit tests for the uet RDMA driver");
MODULE_LICENSE("Dual BSD/GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
