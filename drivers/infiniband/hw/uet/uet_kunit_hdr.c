// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * KUnit suites for the UET wire formats: the PDS prologue as built and
 * parsed, the header layouts, the header lengths the receive path accepts
 * and refuses, and PSN serial-number arithmetic around the wrap.
 */
#include <kunit/test.h>
#include <linux/skbuff.h>
#include <linux/stddef.h>

#include "uet_kunit.h"

static void uet_test_prologue_round_trip(struct kunit *test)
{
	unsigned int type, next, flags;
	__be16 p;

	for (type = 0; type < 32; type++)
		for (next = 0; next < 16; next++)
			for (flags = 0; flags < 128; flags++) {
				p = uet_prologue(type, next, flags);
				if (uet_pds_type(p) != type ||
				    uet_pds_next(p) != next ||
				    uet_pds_flags(p) != flags)
					KUNIT_FAIL(test, "%u/%u/%#x became %u/%u/%#x",
						   type, next, flags,
						   uet_pds_type(p),
						   uet_pds_next(p),
						   uet_pds_flags(p));
			}
}

static void uet_test_prologue_bytes(struct kunit *test)
{
	__be16 p = uet_prologue(UET_PDS_ROD_REQ, UET_SES_REQ_STD,
				UET_REQ_SYN | UET_REQ_AR);
	const u8 *b = (const u8 *)&p;

	/* type 3 in bits 15-11, next_hdr 3 in bits 10-7, flags 0x0c. */
	KUNIT_EXPECT_EQ(test, b[0], 0x19);
	KUNIT_EXPECT_EQ(test, b[1], 0x8c);

	p = uet_prologue(UET_PDS_NACK, UET_SES_NONE, UET_NACK_RETX);
	KUNIT_EXPECT_EQ(test, b[0], 0x50);
	KUNIT_EXPECT_EQ(test, b[1], 0x10);

	/* Values wider than their field do not spill into the next one. */
	p = cpu_to_be16(0xffff);
	KUNIT_EXPECT_EQ(test, uet_pds_type(p), 31);
	KUNIT_EXPECT_EQ(test, uet_pds_next(p), 15);
	KUNIT_EXPECT_EQ(test, uet_pds_flags(p), 0x7f);
}

static void uet_test_layouts(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_pds_req, psn), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_pds_req, spdcid), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_pds_req, dpdcid), 10);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_pds_ack, cack_psn), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_pds_ack_cc, mpr), 13);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_pds_ack_cc, sack_psn_offset),
			14);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_pds_ack_cc, sack_bitmap), 16);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_pds_nack, code), 2);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_pds_nack, psn), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_pds_nack, payload), 12);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_pds_cp, psn), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_ses_std, message_id), 2);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_ses_std, gen_job), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_ses_std, resource_index), 10);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_ses_std, buffer_offset), 12);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_ses_std, initiator), 20);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_ses_std, memory_key), 24);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_ses_std, header_data), 32);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_ses_std, payload_length), 32);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_ses_std, message_offset), 36);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_ses_std, request_length), 40);
	KUNIT_EXPECT_EQ(test, offsetof(struct uet_ses_rsp_data, payload_length),
			10);
}

struct uet_hdr_case {
	const char *name;
	unsigned int type;
	unsigned int next;
	int len;		/* or -EINVAL, -EOPNOTSUPP */
	enum uet_counter cnt;	/* counted on an error */
};

#define REQ_LEN		((int)(sizeof(struct uet_pds_req) + \
			       sizeof(struct uet_ses_std)))
#define ACK_LEN		((int)sizeof(struct uet_pds_ack))
#define ACK_CC_LEN	((int)sizeof(struct uet_pds_ack_cc))
#define ACK_CCX_LEN	((int)sizeof(struct uet_pds_ack_ccx))
#define RSP_LEN		((int)sizeof(struct uet_ses_rsp))

static const struct uet_hdr_case uet_hdr_cases[] = {
	{ "ROD request", UET_PDS_ROD_REQ, UET_SES_REQ_STD, REQ_LEN },
	{ "RUD request", UET_PDS_RUD_REQ, UET_SES_REQ_STD, REQ_LEN },
	{ "UUD request", UET_PDS_UUD_REQ, UET_SES_REQ_STD,
	  (int)(sizeof(struct uet_pds_uud) + sizeof(struct uet_ses_std)) },
	{ "ROD small request", UET_PDS_ROD_REQ, UET_SES_REQ_SMALL,
	  -EOPNOTSUPP, UET_CNT_RX_DROP_UNSUPPORTED },
	{ "RUD medium request", UET_PDS_RUD_REQ, UET_SES_REQ_MEDIUM,
	  -EOPNOTSUPP, UET_CNT_RX_DROP_UNSUPPORTED },
	{ "UUD without SES", UET_PDS_UUD_REQ, UET_SES_NONE,
	  -EOPNOTSUPP, UET_CNT_RX_DROP_UNSUPPORTED },
	{ "ACK", UET_PDS_ACK, UET_SES_NONE, ACK_LEN },
	{ "ACK + response", UET_PDS_ACK, UET_SES_RSP, ACK_LEN + RSP_LEN },
	{ "ACK_CC", UET_PDS_ACK_CC, UET_SES_NONE, ACK_CC_LEN },
	{ "ACK_CC + response", UET_PDS_ACK_CC, UET_SES_RSP,
	  ACK_CC_LEN + RSP_LEN },
	{ "ACK_CCX", UET_PDS_ACK_CCX, UET_SES_NONE, ACK_CCX_LEN },
	{ "ACK_CCX + response", UET_PDS_ACK_CCX, UET_SES_RSP,
	  ACK_CCX_LEN + RSP_LEN },
	{ "ACK + small response with data", UET_PDS_ACK,
	  UET_SES_RSP_DATA_SMALL, -EOPNOTSUPP, UET_CNT_RX_DROP_UNSUPPORTED },
	{ "ACK + request header", UET_PDS_ACK, UET_SES_REQ_STD,
	  -EINVAL, UET_CNT_RX_DROP_BAD_HDR },
	{ "ACK + next_hdr 15", UET_PDS_ACK_CC, 15,
	  -EINVAL, UET_CNT_RX_DROP_BAD_HDR },
	{ "NACK", UET_PDS_NACK, UET_SES_NONE,
	  (int)sizeof(struct uet_pds_nack) },
	{ "NACK_CCX", UET_PDS_NACK_CCX, UET_SES_NONE,
	  (int)sizeof(struct uet_pds_nack_ccx) },
	{ "control packet", UET_PDS_CP, UET_CP_CLOSE,
	  (int)sizeof(struct uet_pds_cp) },
	{ "TSS", UET_PDS_TSS, UET_SES_REQ_STD,
	  -EOPNOTSUPP, UET_CNT_RX_DROP_UNSUPPORTED },
	{ "RUDI request", UET_PDS_RUDI_REQ, UET_SES_REQ_STD,
	  -EOPNOTSUPP, UET_CNT_RX_DROP_UNSUPPORTED },
	{ "RUDI response", UET_PDS_RUDI_RESP, UET_SES_RSP,
	  -EOPNOTSUPP, UET_CNT_RX_DROP_UNSUPPORTED },
	{ "RUD_CC request", UET_PDS_RUD_CC_REQ, UET_SES_REQ_STD,
	  -EOPNOTSUPP, UET_CNT_RX_DROP_UNSUPPORTED },
	{ "ROD_CC request", UET_PDS_ROD_CC_REQ, UET_SES_REQ_STD,
	  -EOPNOTSUPP, UET_CNT_RX_DROP_UNSUPPORTED },
	{ "type 0", 0, UET_SES_REQ_STD, -EINVAL, UET_CNT_RX_DROP_BAD_HDR },
	{ "type 15", 15, UET_SES_NONE, -EINVAL, UET_CNT_RX_DROP_BAD_HDR },
	{ "type 31", 31, 15, -EINVAL, UET_CNT_RX_DROP_BAD_HDR },
};

static void uet_hdr_case_desc(const struct uet_hdr_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(uet_hdr, uet_hdr_cases, uet_hdr_case_desc);

static struct sk_buff *uet_test_skb(struct kunit *test, unsigned int len)
{
	struct sk_buff *skb = alloc_skb(len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_put_zero(skb, len);
	return skb;
}

static void uet_test_hdr_len(struct kunit *test)
{
	const struct uet_hdr_case *c = test->param_value;
	struct uet_dev *udev;
	struct sk_buff *skb;

	udev = kunit_kzalloc(test, sizeof(*udev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, udev);
	skb = uet_test_skb(test, 64);
	*(__be16 *)skb->data = uet_prologue(c->type, c->next, 0);
	KUNIT_EXPECT_EQ(test, uet_pds_hdr_len(udev, skb), c->len);
	if (c->len < 0)
		KUNIT_EXPECT_EQ(test, atomic64_read(&udev->stats[c->cnt]), 1);
	kfree_skb(skb);
}

/* An ACK's data must be exactly as long as its payload_length says. */
static void uet_test_hdr_len_rsp_data(struct kunit *test)
{
	int hlen = ACK_LEN + sizeof(struct uet_ses_rsp_data);
	struct uet_ses_rsp_data *r;
	struct uet_dev *udev;
	struct sk_buff *skb;

	udev = kunit_kzalloc(test, sizeof(*udev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, udev);

	skb = uet_test_skb(test, hlen + 8);
	*(__be16 *)skb->data = uet_prologue(UET_PDS_ACK, UET_SES_RSP_DATA, 0);
	r = (void *)(skb->data + ACK_LEN);
	r->payload_length = cpu_to_be16(8);
	KUNIT_EXPECT_EQ(test, uet_pds_hdr_len(udev, skb), hlen);

	r->payload_length = cpu_to_be16(9);
	KUNIT_EXPECT_EQ(test, uet_pds_hdr_len(udev, skb), -EINVAL);
	r->payload_length = cpu_to_be16(7);
	KUNIT_EXPECT_EQ(test, uet_pds_hdr_len(udev, skb), -EINVAL);
	KUNIT_EXPECT_EQ(test,
			atomic64_read(&udev->stats[UET_CNT_RX_DROP_BAD_LEN]), 2);
	kfree_skb(skb);

	/* Shorter than the response header itself. */
	skb = uet_test_skb(test, hlen - 1);
	*(__be16 *)skb->data = uet_prologue(UET_PDS_ACK, UET_SES_RSP_DATA, 0);
	KUNIT_EXPECT_EQ(test, uet_pds_hdr_len(udev, skb), -EINVAL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&udev->stats[UET_CNT_RX_DROP_SHORT]),
			1);
	kfree_skb(skb);
}

static void uet_test_psn_diff(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, uet_psn_diff(5, 3), 2);
	KUNIT_EXPECT_EQ(test, uet_psn_diff(3, 5), -2);
	KUNIT_EXPECT_EQ(test, uet_psn_diff(7, 7), 0);
	/* Across the wrap, 0 follows 0xffffffff. */
	KUNIT_EXPECT_EQ(test, uet_psn_diff(0, U32_MAX), 1);
	KUNIT_EXPECT_EQ(test, uet_psn_diff(U32_MAX, 0), -1);
	KUNIT_EXPECT_EQ(test, uet_psn_diff(0x7f, 0xffffff80), 0xff);
	KUNIT_EXPECT_EQ(test, uet_psn_diff(0xffffff80, 0x7f), -0xff);
	/* Half the space away is the farthest still ordered. */
	KUNIT_EXPECT_EQ(test, uet_psn_diff(0x7fffffff, 0), S32_MAX);
	KUNIT_EXPECT_EQ(test, uet_psn_diff(0x80000000, 0), S32_MIN);
	KUNIT_EXPECT_EQ(test, uet_psn_diff(0, 0x80000001), S32_MAX);
}

/* The signed 16-bit offsets of ACKs and requests, across the wrap. */
static void uet_test_psn_offsets(struct kunit *test)
{
	u32 cack = 0xfffffffe, psn = 1;
	__be16 off;
	u32 start;

	off = cpu_to_be16((s16)(psn - cack));
	KUNIT_EXPECT_EQ(test, cack + (s16)be16_to_cpu(off), 1);
	off = cpu_to_be16((s16)-3);
	KUNIT_EXPECT_EQ(test, psn + (s16)be16_to_cpu(off), 0xfffffffe);
	psn = 0x10;
	off = cpu_to_be16(S16_MIN);
	KUNIT_EXPECT_EQ(test, psn + (s16)be16_to_cpu(off), 0xffff8010);
	/* The SYN PSN offset keeps 12 bits. */
	KUNIT_EXPECT_EQ(test, FIELD_GET(UET_SYN_PSN_OFFSET, 0xf123), 0x123);
	start = 5 - FIELD_GET(UET_SYN_PSN_OFFSET, 0x0006);
	KUNIT_EXPECT_EQ(test, start, U32_MAX);
}

static struct kunit_case uet_hdr_test_cases[] = {
	KUNIT_CASE(uet_test_prologue_round_trip),
	KUNIT_CASE(uet_test_prologue_bytes),
	KUNIT_CASE(uet_test_layouts),
	KUNIT_CASE_PARAM(uet_test_hdr_len, uet_hdr_gen_params),
	KUNIT_CASE(uet_test_hdr_len_rsp_data),
	{}
};

static struct kunit_suite uet_hdr_test_suite = {
	.name = "uet_hdr",
	.test_cases = uet_hdr_test_cases,
};

static struct kunit_case uet_psn_test_cases[] = {
	KUNIT_CASE(uet_test_psn_diff),
	KUNIT_CASE(uet_test_psn_offsets),
	{}
};

static struct kunit_suite uet_psn_test_suite = {
	.name = "uet_psn",
	.test_cases = uet_psn_test_cases,
};

kunit_test_suites(&uet_hdr_test_suite, &uet_psn_test_suite);
