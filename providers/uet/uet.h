/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef __UET_H__
#define __UET_H__

#include <pthread.h>

#include <infiniband/driver.h>
#include <rdma/uet-abi.h>

#include "uet_queue.h"
#include "uetdv.h"

/*
 * A protection domain, or a parent domain wrapping one.  A parent domain
 * carries its PD's handle, so every command takes it as that PD; the
 * kernel never sees it.
 */
struct uet_pd {
	struct ibv_pd ibv_pd;
	struct uet_pd *protection_domain;	/* set only in a parent domain */
	/*
	 * 1 + the parent domains wrapping a PD, or 1 + the QPs and CQs
	 * created on a parent domain: neither is freed while it is above 1.
	 */
	atomic_int refcount;
};

static inline struct uet_pd *to_uet_pd(struct ibv_pd *ibpd)
{
	return container_of(ibpd, struct uet_pd, ibv_pd);
}

/* The parent domain @ibpd is, or NULL if it is a plain PD (or NULL). */
static inline struct uet_pd *to_uet_parent_domain(struct ibv_pd *ibpd)
{
	struct uet_pd *pd;

	if (!ibpd)
		return NULL;
	pd = to_uet_pd(ibpd);
	return pd->protection_domain ? pd : NULL;
}

struct uet_cq {
	struct verbs_cq vcq;
	struct uet_queue queue;
	uint32_t consumer;		/* our copy of the index we own */
	pthread_spinlock_t lock;
	/* ibv_cq_ex: the CQE handed out last, read by ibv_wc_read_*() */
	const struct uet_cqe *cur;
	struct uet_pd *parent_domain;	/* IBV_CQ_INIT_ATTR_MASK_PD */
};

static inline struct uet_cq *to_uet_cq(struct ibv_cq *ibcq)
{
	return container_of(ibcq, struct uet_cq, vcq.cq);
}

static inline struct uet_cq *to_uet_cq_ex(struct ibv_cq_ex *ibcq)
{
	return container_of(ibcq, struct uet_cq, vcq.cq_ex);
}

/* A ring we post to: an SQ, an RQ or an SRQ. */
struct uet_wq {
	struct uet_queue queue;
	uint32_t producer;		/* our copy of the index we own */
	uint32_t max_sge;
	pthread_spinlock_t lock;
};

struct uet_qp {
	struct verbs_qp vqp;
	struct uet_wq sq;
	struct uet_wq rq;		/* not mapped when the QP uses an SRQ */
	uint32_t max_inline;
	/* ibv_wr_*(): the batch built under sq.lock since wr_start() */
	struct uet_send_wqe *wr_wqe;	/* the WQE the setters complete */
	uint32_t wr_producer;		/* sq.producer once it is posted */
	int wr_err;			/* set: wr_complete() posts nothing */
	struct uetdv_qp_ex dv;		/* RU: the setters of uetdv.h */
};

static inline struct uet_qp *to_uet_qp(struct ibv_qp *ibqp)
{
	return container_of(ibqp, struct uet_qp, vqp.qp);
}

static inline struct uet_qp *to_uet_qp_ex(struct ibv_qp_ex *ibqp)
{
	return container_of(ibqp, struct uet_qp, vqp.qp_ex);
}

struct uet_srq {
	struct verbs_srq vsrq;
	struct uet_wq rq;
};

static inline struct uet_srq *to_uet_srq(struct ibv_srq *ibsrq)
{
	return container_of(ibsrq, struct uet_srq, vsrq.srq);
}

struct uet_device {
	struct verbs_device vdev;
	int abi_version;
};

struct uet_context {
	struct verbs_context vctx;
	struct uet_doorbell *db;	/* mapped, shared by all our SQs */
	size_t db_map_size;
	bool atomic_write;		/* the kernel executes ATOMIC_WRITE */
	/* Job limits (uetdv_query_device); zero from a kernel without jobs. */
	uint32_t max_jobs;
	uint32_t max_jkeys;
	uint32_t max_job_addrs;
};

struct uet_ah {
	struct ibv_ah ibv_ah;
	uint32_t ah_id;		/* the kernel's name for it in UD WQEs */
	uint32_t remote_qpn;	/* uetdv_create_ah_ex(): the peer's endpoint */
};

static inline struct uet_ah *to_uet_ah(struct ibv_ah *ibah)
{
	return container_of(ibah, struct uet_ah, ibv_ah);
}

static inline struct uet_device *to_uet_dev(struct ibv_device *ibdev)
{
	return container_of(ibdev, struct uet_device, vdev.device);
}

static inline struct uet_context *to_uet_ctx(struct ibv_context *ibctx)
{
	return container_of(ibctx, struct uet_context, vctx.context);
}

extern const struct verbs_device_ops uet_dev_ops;

int uet_query_device_ex(struct ibv_context *ibctx,
			const struct ibv_query_device_ex_input *input,
			struct ibv_device_attr_ex *attr, size_t attr_size);
int uet_query_port(struct ibv_context *ibctx, uint8_t port,
		   struct ibv_port_attr *attr);
struct ibv_pd *uet_alloc_pd(struct ibv_context *ibctx);
struct ibv_pd *uet_alloc_parent_domain(struct ibv_context *ibctx,
				       struct ibv_parent_domain_init_attr *attr);
int uet_dealloc_pd(struct ibv_pd *pd);
struct ibv_mr *uet_reg_mr(struct ibv_pd *pd, void *addr, size_t length,
			  uint64_t hca_va, int access);
int uet_rereg_mr(struct verbs_mr *vmr, int flags, struct ibv_pd *pd,
		 void *addr, size_t length, int access);
int uet_dereg_mr(struct verbs_mr *vmr);
struct ibv_ah *uet_create_ah(struct ibv_pd *pd, struct ibv_ah_attr *attr);
int uet_destroy_ah(struct ibv_ah *ah);
int uet_queue_map(struct ibv_context *ibctx, struct uet_queue *q,
		  uint64_t offset, size_t size, uint32_t entries,
		  size_t entry_size);
void uet_queue_unmap(struct uet_queue *q);
int uet_wq_init(struct ibv_context *ibctx, struct uet_wq *wq, uint64_t offset,
		size_t size, uint32_t entries, size_t entry_size,
		uint32_t max_sge);
void uet_wq_fini(struct uet_wq *wq);

struct ibv_cq *uet_create_cq(struct ibv_context *ibctx, int cqe,
			     struct ibv_comp_channel *channel, int comp_vector);
struct ibv_cq_ex *uet_create_cq_ex(struct ibv_context *ibctx,
				   struct ibv_cq_init_attr_ex *attr);
int uet_resize_cq(struct ibv_cq *ibcq, int cqe);
int uet_destroy_cq(struct ibv_cq *ibcq);
int uet_poll_cq(struct ibv_cq *ibcq, int ne, struct ibv_wc *wc);
int uet_req_notify_cq(struct ibv_cq *ibcq, int solicited_only);
void uet_cq_clean(struct uet_cq *cq, uint32_t qpn);
void uet_cq_ex_init(struct uet_cq *cq);

struct ibv_qp *uet_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *attr);
struct ibv_qp *uet_create_qp_cmd(struct ibv_context *ibctx,
				 struct ibv_qp_init_attr_ex *attr,
				 const struct uet_create_qp_cmd *drv);
struct ibv_qp *uet_create_qp_ex(struct ibv_context *ibctx,
				struct ibv_qp_init_attr_ex *attr);
int uet_modify_qp(struct ibv_qp *ibqp, struct ibv_qp_attr *attr,
		  int attr_mask);
int uet_query_qp(struct ibv_qp *ibqp, struct ibv_qp_attr *attr, int attr_mask,
		 struct ibv_qp_init_attr *init_attr);
int uet_destroy_qp(struct ibv_qp *ibqp);

struct ibv_srq *uet_create_srq(struct ibv_pd *pd,
			       struct ibv_srq_init_attr *attr);
struct ibv_srq *uet_create_srq_ex(struct ibv_context *ibctx,
				  struct ibv_srq_init_attr_ex *attr);
int uet_modify_srq(struct ibv_srq *ibsrq, struct ibv_srq_attr *attr,
		   int attr_mask);
int uet_query_srq(struct ibv_srq *ibsrq, struct ibv_srq_attr *attr);
int uet_destroy_srq(struct ibv_srq *ibsrq);

int uet_post_send(struct ibv_qp *ibqp, struct ibv_send_wr *wr,
		  struct ibv_send_wr **bad_wr);
int uet_post_recv(struct ibv_qp *ibqp, struct ibv_recv_wr *wr,
		  struct ibv_recv_wr **bad_wr);
int uet_post_srq_recv(struct ibv_srq *ibsrq, struct ibv_recv_wr *wr,
		      struct ibv_recv_wr **bad_wr);
bool uet_send_ops_supported(struct ibv_context *ibctx,
			    enum ibv_qp_type qp_type, uint64_t send_ops);
void uet_qp_ex_init(struct uet_qp *qp, uint64_t send_ops);
struct uet_send_wqe *uet_wr_cur(struct uet_qp *qp);
void uet_wr_fail(struct uet_qp *qp, int err);
bool uet_is_context(struct ibv_context *ibctx);

#endif /* __UET_H__ */
