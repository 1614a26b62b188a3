/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The UET transport inside uet: the Packet Delivery Sublayer's contexts
 * (PDCs), the packets they carry, and the entry points between the UDP
 * socket, PDS and SES.
 */
#ifndef _UET_PDS_H_
#define _UET_PDS_H_

#include <linux/skbuff.h>

#include "uet.h"
#include "uet_hdr.h"

/* Receive window (MPR) we advertise and honour, in PSNs. */
#define UET_WINDOW		UET_MPR_UNIT
/*
 * Requests all target PDCs of a device may hold for their turn: what a
 * peer can make us keep, however many PDCs its SYNs open.
 */
#define UET_HELD_MAX		4096
/* Responses a target keeps for replay, indexed by PSN. */
#define UET_RSP_SLOTS		UET_WINDOW
/* An ACK is due after this many bytes; each packet counts at least 1 KiB. */
#define UET_ACK_GEN_TRIGGER	16384
#define UET_ACK_GEN_MIN_ADD	1024

/* RTO expiries before an unacknowledged CLOSE gives up. */
#define UET_CLOSE_RETRIES	3

/* The most RTO expiries a packet is sent again after (IB's retry_cnt). */
#define UET_MAX_RETRY		7

/* Retransmission timeout bounds; it doubles on every expiry. */
#define UET_RTO_MIN_MS		10
#define UET_RTO_MAX_MS		2000

/* UDP + IPv6 in front of the UET headers, the largest encapsulation. */
#define UET_ENCAP_ROOM		(sizeof(struct ipv6hdr) + sizeof(struct udphdr))

enum uet_pdc_state {
	UET_PDC_SYN,			/* initiator: no ACK seen yet */
	UET_PDC_ESTABLISHED,
	UET_PDC_CLOSING,		/* initiator: CLOSE sent, not yet acked */
	UET_PDC_CLOSED,			/* out of the tables, freed when unused */
	UET_PDC_ERROR,			/* closed in error, out of the tables */
};

enum uet_rsp_kind {
	UET_RSP_PLAIN,			/* a response: return code, length */
	UET_RSP_READ,			/* read data, read again on replay */
	UET_RSP_FETCHED,		/* an atomic's original value */
};

/*
 * A response the target keeps for replay until the initiator clears its
 * PSN.  A READ's data is read from memory whenever it is sent (as an IB
 * responder re-executes a duplicate READ); an atomic is never executed
 * twice, its result is kept.
 */
struct uet_rsp_slot {
	u32 psn;
	bool valid;
	u8 kind;			/* enum uet_rsp_kind */
	struct uet_ses_rsp rsp;
	u32 qpn;			/* READ: whose PD the rkey is in */
	u32 rkey;
	u64 va;
	u64 fetched;			/* FETCHED: the value, CPU order */
};

/*
 * A PDC.  An initiator PDC carries the requests of every QP of this
 * device to one (mode, job, source IP, destination IP); its peer is a
 * target PDC that acknowledges them.
 */
struct uet_pdc {
	struct uet_dev *udev;
	struct hlist_node hnode;	/* udev->pdc_hash, RCU */
	/*
	 * One reference for the tables, one per QP that caches the PDC.
	 * The receive path finds PDCs under RCU, so they are freed after a
	 * grace period, once their timer is shut down (free_work).
	 */
	refcount_t ref;
	struct rcu_head rcu;
	struct work_struct free_work;
	spinlock_t lock;		/* everything below */
	unsigned long last_used;	/* jiffies of the last packet */

	bool target;
	u8 mode;			/* UET_PDS_ROD_REQ or UET_PDS_RUD_REQ */
	enum uet_pdc_state state;
	u16 lpdcid;			/* ours */
	u16 rpdcid;			/* the peer's, once known */
	u32 job;
	struct uet_ip_path path;	/* saddr local, daddr remote */
	__be16 sport;			/* entropy: the UDP source port */
	u8 tclass;
	u8 hop_limit;

	/* initiator */
	u32 start_psn;
	u32 next_psn;
	u32 cack;			/* every PSN up to this one is acked */
	struct list_head unacked;	/* struct uet_tx_pkt, PSN order */
	struct timer_list rto_timer;
	unsigned int rto_ms;		/* current, with back-off */
	unsigned int retries;		/* RTO expiries without progress */
	u32 gbn_until;			/* NACKs for older PSNs are handled */
	u32 window;			/* PSNs in flight the peer takes (MPR) */
	u32 clear_sent;			/* CLEAR_PSN the target last heard */
	bool stalled;			/* a sender waits for the window */

	/* target */
	u32 exp_psn;			/* next PSN to deliver */
	u32 clear_psn;			/* initiator has every response to it */
	u32 ack_bytes;			/* since the last ACK */
	struct uet_rsp_slot rsp[UET_RSP_SLOTS];
	/*
	 * Requests that came ahead of exp_psn, by PSN: delivered once the
	 * gap before them fills, and reported in the ACK_CC SACK bitmap so
	 * the initiator only sends the missing ones again.  Each skb starts
	 * at its PDS header; its uet_rx_info is in skb->cb.
	 */
	struct sk_buff *held[UET_WINDOW];
	unsigned int nheld;
	/*
	 * RUD: requests go to SES as they arrive; those received beyond
	 * exp_psn are only marked here, for duplicates and the SACK bitmap.
	 */
	DECLARE_BITMAP(rcvd, UET_WINDOW);
	unsigned int nrcvd;
};

/*
 * A request packet sent and not yet acknowledged: the UET headers and
 * payload as first sent, ready to go again, and what it belongs to.
 */
struct uet_tx_pkt {
	struct list_head node;
	struct sk_buff *skb;		/* PDS + SES + payload */
	u32 psn;
	u32 qpn;			/* the sending QP ... */
	u32 wqe_index;			/* ... its SQ index ... */
	u8 attempt;			/* ... and the message's attempt */
	bool want_rsp;			/* its response matters: last packet,
					 * or any READ or atomic request
					 */
	u32 off;			/* READ: where its data goes */
	bool acked;			/* covered by a cumulative ACK */
	bool sacked;			/* held by the target (SACK) */
	bool fast_retx;			/* sent again for a SACK gap */
	bool responded;			/* its response was applied */
	bool close;			/* the CLOSE control packet */
	u8 retry_cnt;			/* the QP's limit on RTO expiries */
	unsigned int rto_ms;		/* from the QP's timeout */
};

/* What the receive path knows of a packet, outside its headers. */
struct uet_rx_info {
	struct uet_ip_path path;	/* saddr remote, daddr local */
	__be16 sport;			/* the sender's entropy */
	u8 tclass;
	u8 hop_limit;
};

/* uet_udp.c */
int uet_udp_attach(struct uet_dev *udev);
void uet_udp_detach(struct uet_dev *udev);
struct sk_buff *uet_udp_alloc_skb(struct uet_dev *udev, unsigned int len,
				  gfp_t gfp);
int uet_udp_xmit(struct uet_dev *udev, struct sk_buff *skb,
		 const struct uet_ip_path *path, __be16 sport, u8 tclass,
		 u8 hop_limit);
int uet_udp_init(void);
void uet_udp_fini(void);

/* uet_pdc.c */
void uet_pdc_init_dev(struct uet_dev *udev);
void uet_pdc_fini_dev(struct uet_dev *udev);
struct uet_pdc *uet_pdc_initiator(struct uet_dev *udev, u8 mode, u32 job,
				  const struct uet_av *av);
void uet_pdc_put(struct uet_pdc *pdc);
bool uet_pdc_matches(const struct uet_pdc *pdc, u8 mode, u32 job,
		     const struct uet_ip_path *path);
bool uet_pdc_usable(const struct uet_pdc *pdc);
bool uet_pdc_can_send(struct uet_pdc *pdc);
int uet_pdc_send(struct uet_pdc *pdc, struct uet_tx_pkt *pkt);
void uet_pds_rcv(struct uet_dev *udev, struct sk_buff *skb,
		 const struct uet_rx_info *info);

/* What one request packet says, after its lengths were checked. */
struct uet_req {
	const struct uet_ses_std *ses;
	const struct uet_ses_atomic *amo;	/* atomics: the extension */
	unsigned int opcode;
	bool som;
	bool eom;
	u16 message_id;
	u32 job;
	u32 qpn;
	u32 src_qpn;
	u32 mlen;			/* request_length */
	u32 off;			/* of this payload in the message */
	const void *data;
	u32 len;
};

/* uet_ses_rx.c: SES at the target and the responses it produces. */
bool uet_qp_take_recv(struct uet_qp *qp, struct uet_recv_wqe *rwqe);
u64 uet_recv_capacity(const struct uet_recv_wqe *rwqe, u32 max_sge);
int uet_recv_place(struct uet_qp *qp, const struct uet_recv_wqe *rwqe,
		   u64 off, const void *data, u32 len);
void uet_recv_complete(struct uet_qp *qp, u64 wr_id, enum ib_wc_status status,
		       enum ib_wc_opcode op, u32 byte_len, u32 src_qp, u64 hdata,
		       unsigned int flags);
u8 uet_rkey_check(struct uet_qp *qp, u32 rkey, u64 va, u64 len, int access,
		  struct uet_mr **mrp);
bool uet_ses_rcv(struct uet_dev *udev, struct sk_buff *skb,
		 const struct uet_rx_info *info, u8 mode,
		 struct uet_rsp_slot *slot);
u8 uet_ses_read_data(struct uet_dev *udev, const struct uet_rsp_slot *slot,
		     void *buf);
void uet_ses_rcv_uud(struct uet_dev *udev, struct sk_buff *skb,
		     const struct uet_rx_info *info);

/* uet_ses_ru.c: SES at a reliable-unconnected target. */
u8 uet_ses_ru_msg(struct uet_qp *qp, const struct uet_req *r,
		  const struct uet_rx_info *info);
void uet_ses_ru_fini(struct uet_qp *qp);

/* uet_tx.c: the send engine and the initiator's side of responses. */
struct uet_tx_done {
	u32 qpn;
	u32 wqe_index;
	u8 attempt;
	u32 off;			/* READ: of the data in the message */
};

int uet_tx_init(void);
void uet_tx_fini(void);
void uet_tx_queue_work(struct work_struct *work);
void uet_tx_flush_work(void);
void uet_tx_ctx_init(struct uet_ucontext *uctx);
void uet_tx_ctx_fini(struct uet_ucontext *uctx);
int uet_tx_qp_init(struct uet_qp *qp);
void uet_tx_qp_fini(struct uet_qp *qp);
void uet_tx_set_state(struct uet_qp *qp, enum ib_qp_state state);
void uet_tx_reset(struct uet_qp *qp);
void __uet_tx_flush(struct uet_qp *qp);
void uet_tx_kick(struct uet_ucontext *uctx);
void uet_tx_kick_all(struct uet_dev *udev);
void uet_tx_response(struct uet_dev *udev, const struct uet_tx_done *done,
		     u8 rc, const void *data, u32 len);
void uet_tx_failed(struct uet_dev *udev, const struct uet_tx_done *done,
		   enum ib_wc_status status);

#endif /* _UET_PDS_H_ */
