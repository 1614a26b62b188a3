/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef __UET_H__
#define __UET_H__

#include <infiniband/driver.h>

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
int uet_destroy_ah(struct ibv_ah *ah);

#endif /* __UET_H__ */
