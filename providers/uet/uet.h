/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef __UET_H__
#define __UET_H__

#include <pthread.h>
#include <stdatomic.h>

#include <infiniband/driver.h>
#include <rdma/uet-abi.h>

/* A queue mapped from the kernel (layout and rules in rdma/uet-abi.h). */
struct uet_queue {
	struct uet_queue_hdr *hdr;
	void *buf;
	uint32_t entries;		/* a power of two */
	size_t map_size;
};

static inline void *uet_queue_slot(const struct uet_queue *q, uint32_t idx,
				   size_t entry_size)
{
	return (char *)q->buf + (size_t)(idx & (q->entries - 1)) * entry_size;
}

static inline uint32_t uet_load_acquire(const uint32_t *p)
{
	return atomic_load_explicit((_Atomic uint32_t *)p,
				    memory_order_acquire);
}

static inline void uet_store_release(uint32_t *p, uint32_t v)
{
	atomic_store_explicit((_Atomic uint32_t *)p, v, memory_order_release);
}

struct uet_cq {
	struct verbs_cq vcq;
	struct uet_queue queue;
	uint32_t consumer;		/* our copy of the index we own */
	pthread_spinlock_t lock;
};

static inline struct uet_cq *to_uet_cq(struct ibv_cq *ibcq)
{
	return container_of(ibcq, struct uet_cq, vcq.cq);
}

struct uet_device {
	struct verbs_device vdev;
	int abi_version;
};

struct uet_context {
	struct verbs_context vctx;
};

struct uet_ah {
	struct ibv_ah ibv_ah;
	uint32_t ah_id;		/* the kernel's name for it in UD WQEs */
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

int uet_query_device_ex(struct ibv_context *ibctx,
			const struct ibv_query_device_ex_input *input,
			struct ibv_device_attr_ex *attr, size_t attr_size);
int uet_query_port(struct ibv_context *ibctx, uint8_t port,
		   struct ibv_port_attr *attr);
struct ibv_pd *uet_alloc_pd(struct ibv_context *ibctx);
int uet_dealloc_pd(struct ibv_pd *pd);
struct ibv_mr *uet_reg_mr(struct ibv_pd *pd, void *addr, size_t length,
			  uint64_t hca_va, int access);
int uet_dereg_mr(struct verbs_mr *vmr);
struct ibv_ah *uet_create_ah(struct ibv_pd *pd, struct ibv_ah_attr *attr);
struct ibv_cq *uet_create_cq(struct ibv_context *ibctx, int cqe,
			     struct ibv_comp_channel *channel, int comp_vector);
int uet_destroy_cq(struct ibv_cq *ibcq);
int uet_poll_cq(struct ibv_cq *ibcq, int ne, struct ibv_wc *wc);
int uet_req_notify_cq(struct ibv_cq *ibcq, int solicited_only);
int uet_queue_map(struct ibv_context *ibctx, struct uet_queue *q,
		  uint64_t offset, size_t size, uint32_t entries);
void uet_queue_unmap(struct uet_queue *q);
int uet_destroy_ah(struct ibv_ah *ah);

#endif /* __UET_H__ */
