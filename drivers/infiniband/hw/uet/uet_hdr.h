/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * UET wire formats: the PDS and SES headers that follow the UDP header.
 *
 * Every field is big-endian.  Layouts follow UEC specification 1.0.1 as
 * documented by the reference provider, Wireshark and XDP2; where those
 * disagree, the choice made is noted beside the field.
 */
#ifndef _UET_HDR_H_
#define _UET_HDR_H_

#include <linux/bitfield.h>
#include <linux/build_bug.h>
#include <linux/types.h>

#define UET_UDP_PORT		4793

/* PDS prologue: type (5 bits) | next_hdr or ctl_type (4) | flags (7). */
#define UET_PDS_TYPE		GENMASK(15, 11)
#define UET_PDS_NEXT		GENMASK(10, 7)
#define UET_PDS_FLAGS		GENMASK(6, 0)

enum uet_pds_type {
	UET_PDS_TSS = 1,
	UET_PDS_RUD_REQ = 2,
	UET_PDS_ROD_REQ = 3,
	UET_PDS_RUDI_REQ = 4,
	UET_PDS_RUDI_RESP = 5,
	UET_PDS_UUD_REQ = 6,
	UET_PDS_ACK = 7,
	UET_PDS_ACK_CC = 8,
	UET_PDS_ACK_CCX = 9,
	UET_PDS_NACK = 10,
	UET_PDS_CP = 11,
	UET_PDS_NACK_CCX = 12,
	UET_PDS_RUD_CC_REQ = 13,
	UET_PDS_ROD_CC_REQ = 14,
};

/* pds.next_hdr: which SES header follows. */
enum uet_ses_hdr {
	UET_SES_NONE = 0,
	UET_SES_REQ_SMALL = 1,
	UET_SES_REQ_MEDIUM = 2,
	UET_SES_REQ_STD = 3,
	UET_SES_RSP = 4,
	UET_SES_RSP_DATA = 5,
	UET_SES_RSP_DATA_SMALL = 6,
};

/* Request flags (RUD/ROD). */
#define UET_REQ_RETX		BIT(4)
#define UET_REQ_AR		BIT(3)
#define UET_REQ_SYN		BIT(2)

/* ACK flags; REQ asks the initiator to clear or to close. */
#define UET_ACK_M		BIT(5)
#define UET_ACK_RETX		BIT(4)
#define UET_ACK_P		BIT(3)
#define UET_ACK_REQ		GENMASK(2, 1)

/* NACK flags: NT = 0 for RUD/ROD. */
#define UET_NACK_RETX		BIT(4)
#define UET_NACK_NT		BIT(3)

/* Control packet flags. */
#define UET_CP_ISROD		BIT(5)
#define UET_CP_RETX		BIT(4)
#define UET_CP_AR		BIT(3)
#define UET_CP_SYN		BIT(2)

enum uet_cp_type {
	UET_CP_NOOP = 0,
	UET_CP_ACK_REQ = 1,
	UET_CP_CLEAR = 2,
	UET_CP_CLEAR_REQ = 3,
	UET_CP_CLOSE = 4,
	UET_CP_CLOSE_REQ = 5,
	UET_CP_PROBE = 6,
};

/* Under SYN the dpdcid word carries the PSN offset from the start PSN. */
#define UET_SYN_PSN_OFFSET	GENMASK(11, 0)

/* RUD/ROD request, 12 bytes. */
struct uet_pds_req {
	__be16 prologue;
	__be16 clear_psn_offset;	/* signed, never positive */
	__be32 psn;
	__be16 spdcid;
	__be16 dpdcid;			/* or the SYN psn_offset */
};

/* ACK, 12 bytes. */
struct uet_pds_ack {
	__be16 prologue;
	__be16 ack_psn_offset;		/* signed, from cack_psn */
	__be32 cack_psn;
	__be16 spdcid;
	__be16 dpdcid;
};

/*
 * ACK_CC, 32 bytes: an ACK with the receiver's window (mpr, in units of
 * 128 PSNs as the reference provider decodes it) and a SACK bitmap whose
 * bit i (LSB first) is PSN sack base + i.
 */
struct uet_pds_ack_cc {
	struct uet_pds_ack ack;
	u8 cc_type_flags;
	u8 mpr;
	__be16 sack_psn_offset;		/* signed, from cack_psn */
	__be64 sack_bitmap;
	__be64 cc_state;
};

#define UET_MPR_UNIT		128

/*
 * ACK_CCX, 40 bytes: ACK_CC with a 16-byte proprietary state (the size
 * the reference provider and Wireshark use).
 */
struct uet_pds_ack_ccx {
	struct uet_pds_ack ack;
	u8 ccx_type_flags;
	u8 mpr;
	__be16 sack_psn_offset;
	__be64 sack_bitmap;
	__be64 ccx_state[2];
};

/* NACK, 16 bytes. */
struct uet_pds_nack {
	__be16 prologue;
	u8 code;			/* enum uet_nack_code */
	u8 vendor_code;
	__be32 psn;
	__be16 spdcid;
	__be16 dpdcid;
	__be32 payload;
};

/* NACK_CCX, 32 bytes: a NACK with a 16-byte congestion state. */
struct uet_pds_nack_ccx {
	struct uet_pds_nack nack;
	u8 nccx_type_flags;
	u8 reserved[7];
	__be64 nccx_state;
};

enum uet_nack_code {
	UET_NACK_NO_PDC_AVAIL = 0x04,
	UET_NACK_NO_PKT_BUFFER = 0x07,
	UET_NACK_PSN_OOR_WINDOW = 0x0b,
	UET_NACK_ROD_OOO = 0x0d,
	UET_NACK_INV_DPDCID = 0x0e,
	UET_NACK_PDC_HDR_MISMATCH = 0x0f,
	UET_NACK_CLOSING = 0x10,
	UET_NACK_CLOSING_IN_ERR = 0x11,
	UET_NACK_PKT_NOT_RCVD = 0x12,
	UET_NACK_INVALID_SYN = 0x15,
	UET_NACK_RCVD_SES_PROCG = 0x18,
	UET_NACK_PDC_MODE_MISMATCH = 0x16,
	UET_NACK_UNEXP_EVENT = 0x19,
};

/* Control packet, 16 bytes. */
struct uet_pds_cp {
	__be16 prologue;
	__be16 probe_opaque;
	__be32 psn;
	__be16 spdcid;
	__be16 dpdcid;			/* or the SYN psn_offset */
	__be32 payload;
};

/* UUD request, 4 bytes. */
struct uet_pds_uud {
	__be16 prologue;
	__be16 reserved;
};

/* SES request: opcode (6 bits) and flags. */
#define UET_SES_OPCODE		GENMASK(5, 0)
#define UET_SES_VERSION		GENMASK(7, 6)
#define UET_SES_DC		BIT(5)
#define UET_SES_IE		BIT(4)
#define UET_SES_REL		BIT(3)
#define UET_SES_HD		BIT(2)
#define UET_SES_EOM		BIT(1)
#define UET_SES_SOM		BIT(0)

#define UET_SES_JOB		GENMASK(23, 0)
#define UET_SES_GEN		GENMASK(31, 24)
#define UET_SES_PID		GENMASK(11, 0)
#define UET_SES_RI		GENMASK(11, 0)
#define UET_SES_PAYLOAD_LEN	GENMASK(13, 0)

enum uet_ses_opcode {
	UET_SES_NO_OP = 0x00,
	UET_SES_WRITE = 0x01,
	UET_SES_READ = 0x02,
	UET_SES_ATOMIC = 0x03,
	UET_SES_FETCHING_ATOMIC = 0x04,
	UET_SES_SEND = 0x05,
	UET_SES_DATAGRAM_SEND = 0x07,
};

/*
 * Standard request, 44 bytes.  A SOM packet carries header_data (the
 * immediate, valid with HD); later packets carry their payload length and
 * their offset in the message instead.  64-bit fields sit at offsets that
 * are not 8-byte aligned: read them with get_unaligned_be64().
 */
struct uet_ses_std {
	u8 opcode;
	u8 flags;
	__be16 message_id;
	__be32 gen_job;			/* ri_generation | job_id */
	__be16 pid_on_fep;
	__be16 resource_index;
	__be64 buffer_offset;
	__be32 initiator;
	__be64 memory_key;
	union {
		__be64 header_data;
		struct {
			__be32 payload_length;
			__be32 message_offset;
		};
	};
	__be32 request_length;
} __packed;

/* Atomic extension header, after the standard request. */
struct uet_ses_atomic {
	u8 atomic_opcode;
	u8 datatype;
	u8 semantic_control;
	u8 reserved;
};

enum uet_amo_op {
	UET_AMO_SUM = 0x02,
	UET_AMO_WRITE = 0x0c,
	UET_AMO_CSWAP = 0x0d,
};

#define UET_AMO_UINT64		0x07

/* Compare-and-swap extension: operands of up to 16 bytes. */
struct uet_ses_cas {
	struct uet_ses_atomic atomic;
	u8 compare[16];
	u8 swap[16];
};

/* Response: list (2 bits) | opcode (6), version (2) | return code (6). */
#define UET_RSP_LIST		GENMASK(7, 6)
#define UET_RSP_OPCODE		GENMASK(5, 0)
#define UET_RSP_RC		GENMASK(5, 0)

enum uet_rsp_opcode {
	UET_RSP_DEFAULT = 0,
	UET_RSP_RESPONSE = 1,
	UET_RSP_W_DATA = 2,
	UET_RSP_NO_RESPONSE = 3,
};

enum uet_ses_rc {
	UET_RC_NULL = 0x00,
	UET_RC_OK = 0x01,
	UET_RC_DISABLED = 0x03,
	UET_RC_NO_MATCH = 0x05,
	UET_RC_UNSUPPORTED_OP = 0x06,
	UET_RC_UNSUPPORTED_SIZE = 0x07,
	UET_RC_AMO_UNSUPPORTED_OP = 0x0f,
	UET_RC_AMO_UNSUPPORTED_DT = 0x10,
	UET_RC_AMO_UNALIGNED = 0x12,
	UET_RC_PERM_VIOLATION = 0x17,
	UET_RC_OP_VIOLATION = 0x18,
	UET_RC_BAD_INDEX = 0x19,
	UET_RC_BAD_PID = 0x1a,
	UET_RC_BAD_JOB_ID = 0x1b,
	UET_RC_BAD_MKEY = 0x1c,
	UET_RC_BAD_ADDR = 0x1d,
	UET_RC_UNCOR = 0x20,
	UET_RC_TOO_LONG = 0x22,
	UET_RC_INITIATOR_ERR = 0x23,
};

/* Response, 12 bytes, in an ACK with next_hdr RSP. */
struct uet_ses_rsp {
	u8 list_opcode;
	u8 version_rc;
	__be16 message_id;
	__be32 gen_job;
	__be32 modified_length;
};

/* Response with data, 20 bytes + data, next_hdr RSP_DATA. */
struct uet_ses_rsp_data {
	u8 list_opcode;
	u8 version_rc;
	__be16 message_id;
	__be32 job;
	__be16 read_request_message_id;
	__be16 payload_length;
	__be32 modified_length;
	__be32 message_offset;
};

static inline void uet_hdr_size_checks(void)
{
	BUILD_BUG_ON(sizeof(struct uet_pds_req) != 12);
	BUILD_BUG_ON(sizeof(struct uet_pds_ack) != 12);
	BUILD_BUG_ON(sizeof(struct uet_pds_ack_cc) != 32);
	BUILD_BUG_ON(sizeof(struct uet_pds_ack_ccx) != 40);
	BUILD_BUG_ON(sizeof(struct uet_pds_nack) != 16);
	BUILD_BUG_ON(sizeof(struct uet_pds_nack_ccx) != 32);
	BUILD_BUG_ON(sizeof(struct uet_pds_cp) != 16);
	BUILD_BUG_ON(sizeof(struct uet_pds_uud) != 4);
	BUILD_BUG_ON(sizeof(struct uet_ses_std) != 44);
	BUILD_BUG_ON(sizeof(struct uet_ses_atomic) != 4);
	BUILD_BUG_ON(sizeof(struct uet_ses_cas) != 36);
	BUILD_BUG_ON(sizeof(struct uet_ses_rsp) != 12);
	BUILD_BUG_ON(sizeof(struct uet_ses_rsp_data) != 20);
}

static inline __be16 uet_prologue(unsigned int type, unsigned int next,
				  unsigned int flags)
{
	return cpu_to_be16(FIELD_PREP(UET_PDS_TYPE, type) |
			   FIELD_PREP(UET_PDS_NEXT, next) |
			   FIELD_PREP(UET_PDS_FLAGS, flags));
}

static inline unsigned int uet_pds_type(__be16 prologue)
{
	return FIELD_GET(UET_PDS_TYPE, be16_to_cpu(prologue));
}

static inline unsigned int uet_pds_next(__be16 prologue)
{
	return FIELD_GET(UET_PDS_NEXT, be16_to_cpu(prologue));
}

static inline unsigned int uet_pds_flags(__be16 prologue)
{
	return FIELD_GET(UET_PDS_FLAGS, be16_to_cpu(prologue));
}

/* PSNs compare in serial-number arithmetic. */
static inline s32 uet_psn_diff(u32 a, u32 b)
{
	return (s32)(a - b);
}

#endif /* _UET_HDR_H_ */
