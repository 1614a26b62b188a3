/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Ultra Ethernet Transport (uet) RDMA driver: core definitions.
 */
#ifndef _UET_H_
#define _UET_H_

#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/ipv6.h>
#include <rdma/ib_verbs.h>
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
};

/*
 * A QPN is 24 bits; on the wire its high 12 bits are the resource index
 * and its low 12 bits the PIDonFEP, as in the UEC verbs proposal.  RC and
 * UD QPNs come from one device-wide space, so max_qp holds per process
 * too; 0 and 1 are left out as verbs users expect.
 */
#define UET_QPN_MASK		GENMASK(23, 0)
#define UET_QPN_MIN		2

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
};

struct uet_ucontext {
	struct ib_ucontext ibucontext;
	struct uet_mmap_entry *db;	/* the doorbell page */
	struct uet_doorbell *doorbell;
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
	int access;
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

struct uet_qp {
	struct ib_qp ibqp;
	struct uet_wq sq;
	struct uet_wq rq;		/* unused with an SRQ */
	struct mutex lock;		/* serialises state changes */
	/* Every attribute as last set; what query_qp returns. */
	struct ib_qp_attr attr;
	struct uet_av av;		/* RC: the path to the peer */
	enum ib_sig_type sq_sig_type;
};

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
int uet_query_gid(struct ib_device *ibdev, u32 port, int index,
		  union ib_gid *gid);

/* uet_mr.c */
struct ib_mr *uet_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
			      u64 iova, int access, struct ib_udata *udata);
struct ib_mr *uet_get_dma_mr(struct ib_pd *ibpd, int access);
int uet_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata);

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

#endif /* _UET_H_ */
