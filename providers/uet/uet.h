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

#endif /* __UET_H__ */
