/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Ultra Ethernet Transport (uet) RDMA driver: core definitions.
 */
#ifndef _UET_H_
#define _UET_H_

#include <linux/completion.h>
#include <linux/hashtable.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/ipv6.h>
#include <rdma/ib_verbs.h>
#include <rdma/uverbs_ioctl.h>
#include <rdma/uet-abi.h>

#include "uet_queue.h"

#define UET_PORT 1
/* No registered OUI: the "not assigned" value soft devices use. */
#define UET_VENDOR_ID 0xffffff

/*
 * Device limits reported by query_device and query_port.  Each is a real
 * bound that the verbs and the transport enforce; the reason is beside
 * it so a change can be judged against it.
 */
enum uet_limits {
	UET_MAX_QP = 16384,		/* bounds per-device kernel memory */
	UET_MAX_QP_WR = 16384,		/* SQ/RQ ring depth (power of two) */
	UET_MAX_SGE = 16,		/* SGEs per WQE, fixed-size WQE slot */
	UET_MAX_INLINE_DATA = 256,	/* inline bytes reuse the SGE area */
	UET_MAX_CQ = 16384,
	UET_MAX_CQE = 65536,		/* CQ ring depth (power of two) */
	UET_MAX_MR = 65536,		/* key index 1..65536, 8-bit key tag */
	UET_MAX_PD = 65536,
	UET_MAX_AH = 65536,
	UET_MAX_SRQ = 4096,
	UET_MAX_SRQ_WR = 16384,
	/* Outstanding READ/atomic requests a responder tracks per QP. */
	UET_MAX_RD_ATOMIC = 16,
	UET_GID_TBL_LEN = 16,		/* IPv4-mapped and IPv6 addresses */
	UET_PKEY_TBL_LEN = 1,		/* default P_Key only, as on EFA */
	UET_MAX_JOBS = 256,		/* JobIDs a device carries at once */
	UET_MAX_JKEYS = 4096,
	UET_MAX_JOB_ADDRS = 4096,	/* bounds one job's address table */
};

/*
 * A QPN is 24 bits; on the wire its high 12 bits are the resource index
 * and its low 12 bits the PIDonFEP, as in the UEC verbs proposal.  RC and
 * UD QPNs come from one device-wide space, so max_qp holds per process
 * too; 0 and 1 are left out as verbs users expect.
 */
#define UET_QPN_MASK		GENMASK(23, 0)
#define UET_QPN_MIN		2

/* The JobID of RC and UD traffic: the device's default job. */
#define UET_DEFAULT_JOB		0

/*
 * header_data of a SEND or WRITE: the immediate in its low 32 bits, and
 * whether there is one and whether the completion is solicited above it.
 */
#define UET_HDATA_IMM		BIT_ULL(32)
#define UET_HDATA_SOLICITED	BIT_ULL(33)

/* The GRH area at the start of every UD receive buffer. */
#define UET_GRH_BYTES		40

/* request_length is 32 bits on the wire; keep lengths positive as int. */
#define UET_MAX_MSG_SIZE	BIT(31)
/* Largest registration: bounds the pinned page array of one MR. */
#define UET_MAX_MR_SIZE		BIT_ULL(32)

/*
 * Bytes of every UET packet that are not payload, in the worst case:
 * IPv6 (40) + UDP (8) + PDS request (12) + SES standard request (44).
 * The active MTU is the largest IB MTU that fits in the netdev MTU.
 */
#define UET_PKT_OVERHEAD	104

/*
 * Device counters, shown by "rdma stat show link" and in hw_counters.
 * Every packet the receive path does not act on increments exactly one
 * of the rx_drop_* counters.
 */
enum uet_counter {
	UET_CNT_TX_PKTS,
	UET_CNT_TX_BYTES,
	UET_CNT_RX_PKTS,
	UET_CNT_RX_BYTES,
	UET_CNT_TX_ACKS,
	UET_CNT_RX_ACKS,
	UET_CNT_TX_NACKS,
	UET_CNT_RX_NACKS,
	UET_CNT_TX_CPS,
	UET_CNT_RX_CPS,
	UET_CNT_RETRANSMITS,
	UET_CNT_RTO_EXPIRED,
	UET_CNT_DUPLICATES,
	UET_CNT_RNR_RETRIES,
	UET_CNT_PDC_OPENED,
	UET_CNT_PDC_CLOSED,
	UET_CNT_RX_OOO_HELD,		/* ROD: kept until the gap fills */
	UET_CNT_TX_ERRORS,		/* no route, no memory */
	UET_CNT_RX_DROP_SHORT,		/* truncated headers */
	UET_CNT_RX_DROP_BAD_HDR,	/* unknown type, next_hdr or version */
	UET_CNT_RX_DROP_UNSUPPORTED,	/* valid UET we do not implement */
	UET_CNT_RX_DROP_NO_DEVICE,	/* no uet device owns the address */
	UET_CNT_RX_DROP_UNKNOWN_PDC,
	UET_CNT_RX_DROP_PDC_MISMATCH,	/* addresses or ids do not match */
	UET_CNT_RX_DROP_BAD_SYN,
	UET_CNT_RX_DROP_OUT_OF_WINDOW,
	UET_CNT_RX_DROP_OUT_OF_ORDER,
	UET_CNT_RX_DROP_DUPLICATE,
	UET_CNT_RX_DROP_STALE,		/* ACK/NACK for nothing outstanding */
	UET_CNT_RX_DROP_BAD_QP,		/* no such QP, wrong state or peer */
	UET_CNT_RX_DROP_BAD_JOB,
	UET_CNT_RX_DROP_BAD_KEY,	/* rkey, access or bounds */
	UET_CNT_RX_DROP_BAD_LEN,	/* lengths that do not add up */
	UET_CNT_RX_DROP_NO_RECV,	/* no receive posted (RNR) */
	UET_CNT_RX_DROP_NO_MEM,
	UET_NUM_COUNTERS,
};

struct uet_gid_table {
	spinlock_t lock;		/* protects gid[] */
	union ib_gid gid[UET_GID_TBL_LEN];
};

struct uet_dev {
	struct ib_device ibdev;
	struct net_device *ndev;	/* reference held by the core */
	enum ib_port_state port_state;	/* last state reported as event */
	struct uet_gid_table gids;
	struct work_struct gid_work;	/* rescans addresses into gids */

	atomic_t num_pds;
	atomic_t num_cqs;
	atomic_t num_qps;
	atomic_t num_srqs;
	struct xarray qps;		/* QPN -> struct uet_qp */
	u32 qp_next;			/* cyclic QPN allocation */
	struct xarray mrs;		/* key index -> struct uet_mr */
	u32 mr_next;			/* cyclic index allocation */
	atomic_t mr_tag;		/* low key byte, changes per MR */
	struct xarray ahs;		/* ah_id -> struct uet_ah */
	u32 ah_next;
	struct xarray jobs;		/* JobID -> struct uet_job */
	u32 num_jobs;			/* under uet_job.c's lock */
	struct xarray jkeys;		/* job key -> struct uet_jkey */
	u32 jkey_next;
	atomic_t num_jkeys;

	/* The network namespace's UDP socket (uet_udp.c). */
	struct uet_net __rcu *unet;
	struct list_head net_node;	/* in uet_net.devs */

	/* PDCs: local PDC id -> struct uet_pdc; lookups by key (uet_pdc.c) */
	struct xarray pdcs;
	u32 pdc_next;
	spinlock_t pdc_lock;		/* pdc_hash and pdcs writers */
	DECLARE_HASHTABLE(pdc_hash, 8);
	struct delayed_work pdc_gc;	/* closes idle PDCs */
	atomic_t pdc_held;		/* requests held by its target PDCs */

	spinlock_t atomic_lock;		/* serialises remote atomics */
	spinlock_t uctx_lock;		/* uctxs */
	struct list_head uctxs;		/* every ucontext, for engine kicks */

	atomic64_t stats[UET_NUM_COUNTERS];
};

/* Payload bytes a packet carries on this device: the active MTU. */
static inline u32 uet_dev_mtu(struct uet_dev *udev)
{
	int mtu = READ_ONCE(udev->ndev->mtu) - UET_PKT_OVERHEAD;

	return ib_mtu_enum_to_int(ib_mtu_int_to_enum(mtu));
}

static inline void uet_count(struct uet_dev *udev, enum uet_counter c)
{
	atomic64_inc(&udev->stats[c]);
}

static inline void uet_count_add(struct uet_dev *udev, enum uet_counter c,
				 u64 n)
{
	atomic64_add(n, &udev->stats[c]);
}

struct uet_ucontext {
	struct ib_ucontext ibucontext;
	struct uet_mmap_entry *db;	/* the doorbell page */
	struct uet_doorbell *doorbell;
	struct mm_struct *mm;		/* maps the queues; mmgrab()ed */
	struct list_head dev_node;	/* in udev->uctxs */
	/* The send engine of this context's QPs (uet_tx.c). */
	struct work_struct tx_work;
	spinlock_t qps_lock;		/* qps */
	struct list_head qps;
};

struct uet_pd {
	struct ib_pd ibpd;
};

/*
 * lkey == rkey == index << 8 | tag: the index is unique among live MRs
 * and the tag changes with every registration, so a stale key of a
 * deregistered MR does not name its successor at the same index.
 */
#define UET_MR_KEY_TAG_BITS	8

struct uet_mr {
	struct ib_mr ibmr;
	struct ib_umem *umem;		/* NULL for the DMA MR */
	struct page **pages;		/* umem's pages, in order */
	int access;
	/* Restricted to a job: remote access only for its requests. */
	struct uet_jkey *jkey;
	/* Held by the data path while it copies; dereg waits for it. */
	refcount_t ref;
	struct completion released;
};

struct uet_cq {
	struct ib_cq ibcq;
	struct uet_queue queue;
	spinlock_t lock;		/* serialises producers and resize */
	u32 producer;			/* our copy of the index we own */
	bool overflow;			/* IB_EVENT_CQ_ERR was raised */
};

/* A work queue the kernel consumes: an SQ, an RQ or an SRQ. */
struct uet_wq {
	struct uet_queue queue;
	spinlock_t lock;		/* serialises consumers */
	u32 consumer;			/* our copy of the index we own */
	u32 max_sge;
};

/* An IP path: the fabric addresses UET packets of an AH travel between. */
struct uet_ip_path {
	bool ipv4;
	struct in6_addr saddr;		/* IPv4 as IPv4-mapped */
	struct in6_addr daddr;
};

/* Where packets go: the IP path and the IP header fields of the GRH. */
struct uet_av {
	struct uet_ip_path path;
	u8 traffic_class;
	u8 hop_limit;
	u32 flow_label;
};

/*
 * A send WQE as the kernel works on it: copied out of the ring (the
 * process can rewrite the ring at any time) and validated once.
 */
struct uet_swqe {
	struct uet_send_wqe wqe;
	/* Where it goes: the QP's peer, or an RU QP's per-WR destination. */
	struct uet_av av;
	u32 dest_qpn;
	u32 len;			/* message length */
	u32 sent;			/* bytes handed to packets so far */
	u32 pkts;			/* packets sent in this attempt */
	u32 rsp_need;			/* of them, those wanting a response */
	u32 rsp_got;			/* responses applied */
	u8 attempt;			/* bumped when the message restarts */
	u8 status;			/* enum ib_wc_status once done */
	bool done;
};

/*
 * A job: its JobID and address table, shared by every process that holds
 * it (uet_job.c).  Counted references come from handles, job keys and
 * exported files.
 */
struct uet_job {
	struct kref ref;
	struct uet_dev *udev;		/* NULL once the device is gone */
	u32 id;
	u32 max_addrs;
	spinlock_t addr_lock;		/* addrs and num_addrs */
	u32 num_addrs;
	struct uet_job_addr *addrs;	/* a zero gid marks a free entry */
};

/* A job key: a job bound to a protection domain (uet_jkey.c). */
struct uet_jkey {
	u32 key;
	struct uet_job *job;
	struct ib_pd *pd;
	atomic_t usecnt;		/* queue pairs and MRs using it */
};

struct uet_ah {
	struct ib_ah ibah;
	u32 id;
	struct uet_av av;
};

struct uet_srq {
	struct ib_srq ibsrq;
	struct uet_wq rq;
	struct mutex lock;		/* serialises modify and query */
	u32 limit;			/* armed when non-zero */
};

/* What the receive side of a QP knows about the message in progress. */
struct uet_rx_msg {
	bool active;			/* a SEND is being placed */
	bool failed;			/* the rest of it is dropped */
	u16 message_id;
	u8 rc;				/* enum uet_ses_rc to answer at EOM */
	u8 status;			/* enum ib_wc_status if failed */
	u32 len;
	u64 hdata;			/* header data of the first packet */
	struct uet_recv_wqe rwqe;	/* the receive it lands in */
	/* The WRITE in progress: its header data is needed at its end. */
	u16 write_id;
	u64 write_hdata;
	/* UC: the rest of a refused message is dropped, answered with rc. */
	bool discard;
	u8 discard_rc;
};

struct uet_qp {
	struct ib_qp ibqp;
	struct uet_wq sq;
	struct uet_wq rq;		/* unused with an SRQ */
	struct mutex lock;		/* serialises state changes */
	/* Every attribute as last set; what query_qp returns. */
	struct ib_qp_attr attr;
	struct uet_av av;		/* RC: the path to the peer */
	enum ib_sig_type sq_sig_type;

	/* Held by the engine and the receive path while they use the QP. */
	refcount_t ref;
	struct completion released;
	struct uet_ucontext *uctx;
	struct list_head ctx_node;	/* in uctx->qps */
	/*
	 * Transport state, under sq.lock: the WQEs copied out of the ring
	 * (slot = index & (entries - 1)), fetch and send indices (consumer
	 * <= send <= fetch), and receiver-not-ready back-off.
	 */
	int state;			/* qp_state as the data path sees it */
	struct uet_swqe *swqe;
	u32 sq_fetch;
	u32 sq_send;
	bool retry_wait;			/* waiting to send again */
	u8 rnr_left;
	u8 retry_left;
	struct timer_list retry_timer;
	struct uet_pdc *pdc;		/* RC: where its requests go */
	bool tx_blocked;		/* waiting for room on the PDC */
	struct work_struct err_work;	/* error state from the data path */
	/* Receive side, under rx_lock. */
	u32 rq_max_sge;			/* of the RQ or the SRQ */
	spinlock_t rx_lock;
	struct uet_rx_msg rx;
	bool rnr_nak;			/* dropping until rnr_msg restarts */
	u16 rnr_msg;
	bool rx_dead;			/* refused a request: takes no more */
	/*
	 * A reliable-unconnected QP (IB_QPT_DRIVER): its job key and job,
	 * the PDS mode of its requests, and the messages it is receiving
	 * (uet_ses_ru.c, under rx_lock).
	 */
	struct uet_jkey *jkey;
	u32 job_id;			/* UET_DEFAULT_JOB on other QPs */
	u8 pds_mode;			/* UET_PDS_ROD_REQ or UET_PDS_RUD_REQ */
	struct list_head ru_msgs;
	unsigned int ru_nmsgs;
};

static inline bool uet_qp_is_ru(const struct uet_qp *qp)
{
	return qp->ibqp.qp_type == IB_QPT_DRIVER;
}

static inline struct uet_dev *to_uet_dev(struct ib_device *ibdev)
{
	return container_of(ibdev, struct uet_dev, ibdev);
}

static inline struct uet_ucontext *to_uet_ucontext(struct ib_ucontext *uctx)
{
	return container_of(uctx, struct uet_ucontext, ibucontext);
}

static inline struct uet_pd *to_uet_pd(struct ib_pd *ibpd)
{
	return container_of(ibpd, struct uet_pd, ibpd);
}

static inline struct uet_mr *to_uet_mr(struct ib_mr *ibmr)
{
	return container_of(ibmr, struct uet_mr, ibmr);
}

static inline struct uet_cq *to_uet_cq(struct ib_cq *ibcq)
{
	return container_of(ibcq, struct uet_cq, ibcq);
}

static inline struct uet_qp *to_uet_qp(struct ib_qp *ibqp)
{
	return container_of(ibqp, struct uet_qp, ibqp);
}

static inline struct uet_srq *to_uet_srq(struct ib_srq *ibsrq)
{
	return container_of(ibsrq, struct uet_srq, ibsrq);
}

static inline struct uet_ah *to_uet_ah(struct ib_ah *ibah)
{
	return container_of(ibah, struct uet_ah, ibah);
}

/* uet_ah.c */
int uet_create_user_ah(struct ib_ah *ibah, struct rdma_ah_init_attr *init_attr,
		       struct ib_udata *udata);
int uet_destroy_ah(struct ib_ah *ibah, u32 flags);

/* uet_cq.c */
int uet_create_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
		  struct uverbs_attr_bundle *attrs);
int uet_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata);
int uet_resize_cq(struct ib_cq *ibcq, int cqe, struct ib_udata *udata);
int uet_cq_post(struct uet_cq *cq, const struct uet_cqe *cqe, bool solicited);

/* uet_gid.c */
void uet_gid_init(struct uet_dev *udev);
void uet_gid_fini(struct uet_dev *udev);
void uet_gid_schedule_refresh(struct uet_dev *udev);
int uet_gid_source(struct uet_dev *udev, struct uet_ip_path *p);
int uet_query_gid(struct ib_device *ibdev, u32 port, int index,
		  union ib_gid *gid);

/* uet_job.c, uet_jkey.c */
extern const struct uapi_definition uet_job_defs[];
extern const struct uapi_definition uet_jkey_defs[];
void uet_job_get(struct uet_job *job);
void uet_job_put(struct uet_job *job);
void uet_job_fini_dev(struct uet_dev *udev);
int uet_job_addr(struct uet_job *job, u32 index, struct uet_job_addr *a);
struct uet_jkey *uet_jkey_get(struct uet_dev *udev, u32 key, struct ib_pd *pd);
void uet_jkey_put(struct uet_jkey *jkey);

/* uet_mr.c */
struct ib_mr *uet_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
			      u64 iova, int access, struct ib_udata *udata);
struct ib_mr *uet_rereg_user_mr(struct ib_mr *ibmr, int flags, u64 start,
				u64 length, u64 iova, int access,
				struct ib_pd *ibpd, struct ib_udata *udata);
struct ib_mr *uet_get_dma_mr(struct ib_pd *ibpd, int access);
int uet_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata);
struct uet_mr *uet_mr_get(struct uet_dev *udev, u32 key, struct ib_pd *pd);
void uet_mr_put(struct uet_mr *mr);
bool uet_mr_covers(const struct uet_mr *mr, u64 iova, u64 len);
bool uet_mr_job_ok(const struct uet_mr *mr, u32 job);
void uet_mr_copy(struct uet_mr *mr, u64 iova, void *buf, u32 len,
		 bool to_mr);
int uet_sge_copy(struct uet_dev *udev, struct ib_pd *pd,
		 const struct uet_sge *sge, u32 num_sge, u64 off, void *buf,
		 u32 len, bool to_mr);

/* uet_stats.c */
struct rdma_hw_stats *uet_alloc_hw_port_stats(struct ib_device *ibdev,
					      u32 port);
int uet_get_hw_stats(struct ib_device *ibdev, struct rdma_hw_stats *stats,
		     u32 port, int index);

/* uet_net.c */
int uet_av_from_grh(struct uet_av *av, const struct ib_global_route *grh);
int uet_path_check(struct uet_dev *udev, const struct uet_ip_path *p);

/* uet_netdev.c */
enum ib_port_state uet_port_state(struct uet_dev *udev);
int uet_netdev_notifiers_register(void);
void uet_netdev_notifiers_unregister(void);

/* uet_qp.c */
int uet_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
		  struct ib_udata *udata);
int uet_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		  struct ib_udata *udata);
int uet_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		 struct ib_qp_init_attr *init);
int uet_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata);
int uet_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
		  const struct ib_send_wr **bad_wr);
int uet_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
		  const struct ib_recv_wr **bad_wr);
struct uet_qp *uet_qp_get(struct uet_dev *udev, u32 qpn);
void uet_qp_put(struct uet_qp *qp);
void uet_qp_async_error(struct uet_qp *qp);
void __uet_qp_error(struct uet_qp *qp);
enum ib_wc_opcode uet_wr_to_wc_opcode(u32 wr_opcode);

/* uet_res.c */
int uet_fill_res_qp_entry(struct sk_buff *msg, struct ib_qp *ibqp);
int uet_fill_res_cq_entry(struct sk_buff *msg, struct ib_cq *ibcq);

/* uet_srq.c */
int uet_create_srq(struct ib_srq *ibsrq, struct ib_srq_init_attr *init,
		   struct ib_udata *udata);
int uet_modify_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr,
		   enum ib_srq_attr_mask mask, struct ib_udata *udata);
int uet_query_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr);
int uet_destroy_srq(struct ib_srq *ibsrq, struct ib_udata *udata);

/* uet_verbs.c */
int uet_query_device(struct ib_device *ibdev, struct ib_device_attr *attr,
		     struct ib_udata *udata);
int uet_query_port(struct ib_device *ibdev, u32 port,
		   struct ib_port_attr *attr);
int uet_query_pkey(struct ib_device *ibdev, u32 port, u16 index, u16 *pkey);
int uet_get_port_immutable(struct ib_device *ibdev, u32 port,
			   struct ib_port_immutable *immutable);
enum rdma_link_layer uet_get_link_layer(struct ib_device *ibdev, u32 port);
int uet_alloc_ucontext(struct ib_ucontext *uctx, struct ib_udata *udata);
void uet_dealloc_ucontext(struct ib_ucontext *uctx);
int uet_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata);
int uet_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata);
bool uet_udata_in_cleared(struct ib_udata *udata);
int uet_udata_get_cmd(struct ib_udata *udata, void *cmd, size_t size);
int uet_udata_get_cmd_min(struct ib_udata *udata, void *cmd, size_t min,
			  size_t size);

#endif /* _UET_H_ */
