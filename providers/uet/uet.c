// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rdma-core provider for the uet kernel driver: device matching and
 * context set-up, with the context's doorbell page.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "uet.h"
#include "uet-abi.h"

static const struct verbs_match_ent uet_match_table[] = {
	VERBS_DRIVER_ID(RDMA_DRIVER_UET),
	VERBS_NAME_MATCH("uet", NULL),
	{},
};

/* Every SQ of the context reads the send engine's NEED_WAKEUP here. */
static int uet_map_doorbell(struct uet_context *ctx, int cmd_fd,
			    const struct uet_alloc_ucontext_resp *resp)
{
	void *map;

	if (resp->db_mmap_size < sizeof(*ctx->db))
		return EINVAL;
	map = mmap(NULL, resp->db_mmap_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, cmd_fd, resp->db_mmap_offset);
	if (map == MAP_FAILED)
		return errno;
	ctx->db = map;
	ctx->db_map_size = resp->db_mmap_size;
	return 0;
}

/* The capabilities that decide what the context accepts. */
static int uet_query_caps(struct uet_context *ctx)
{
	struct ibv_device_attr_ex attr;
	int err;

	err = ibv_cmd_query_device_any(&ctx->vctx.context, NULL, &attr,
				       sizeof(attr), NULL, NULL);
	if (err)
		return err;
	ctx->atomic_write = attr.device_cap_flags_ex &
			    IB_UVERBS_DEVICE_ATOMIC_WRITE;
	return 0;
}

static void uet_free_context(struct ibv_context *ibctx)
{
	struct uet_context *ctx = to_uet_ctx(ibctx);

	munmap(ctx->db, ctx->db_map_size);
	verbs_uninit_context(&ctx->vctx);
	free(ctx);
}

static const struct verbs_context_ops uet_ctx_ops = {
	.alloc_parent_domain = uet_alloc_parent_domain,
	.alloc_pd = uet_alloc_pd,
	.create_ah = uet_create_ah,
	.create_cq = uet_create_cq,
	.create_cq_ex = uet_create_cq_ex,
	.create_qp = uet_create_qp,
	.create_qp_ex = uet_create_qp_ex,
	.create_srq = uet_create_srq,
	.create_srq_ex = uet_create_srq_ex,
	.dealloc_pd = uet_dealloc_pd,
	.dereg_mr = uet_dereg_mr,
	.destroy_ah = uet_destroy_ah,
	.destroy_cq = uet_destroy_cq,
	.destroy_qp = uet_destroy_qp,
	.destroy_srq = uet_destroy_srq,
	.free_context = uet_free_context,
	.modify_qp = uet_modify_qp,
	.modify_srq = uet_modify_srq,
	.poll_cq = uet_poll_cq,
	.post_recv = uet_post_recv,
	.post_send = uet_post_send,
	.post_srq_recv = uet_post_srq_recv,
	.query_device_ex = uet_query_device_ex,
	.query_port = uet_query_port,
	.query_qp = uet_query_qp,
	.query_srq = uet_query_srq,
	.reg_mr = uet_reg_mr,
	.req_notify_cq = uet_req_notify_cq,
	.rereg_mr = uet_rereg_mr,
	.resize_cq = uet_resize_cq,
};

static struct verbs_context *uet_alloc_context(struct ibv_device *ibdev,
					       int cmd_fd, void *private_data)
{
	struct uet_cmd_get_context_resp resp = {};
	struct uet_cmd_get_context cmd = {};
	struct uet_context *ctx;
	int err;

	ctx = verbs_init_and_alloc_context(ibdev, cmd_fd, ctx, vctx,
					   RDMA_DRIVER_UET);
	if (!ctx)
		return NULL;

	err = ibv_cmd_get_context(&ctx->vctx, &cmd.ibv_cmd, sizeof(cmd),
				  &resp.ibv_resp, sizeof(resp));
	if (err)
		goto err_uninit;
	if (resp.drv_payload.comp_mask & UET_UCTX_RESP_JOB_LIMITS) {
		ctx->max_jobs = resp.drv_payload.max_jobs;
		ctx->max_jkeys = resp.drv_payload.max_jkeys;
		ctx->max_job_addrs = resp.drv_payload.max_job_addrs;
	}
	err = uet_map_doorbell(ctx, cmd_fd, &resp.drv_payload);
	if (err) {
		verbs_err(&ctx->vctx, "cannot map the doorbell page: %s\n",
			  strerror(err));
		goto err_uninit;
	}

	err = uet_query_caps(ctx);
	if (err)
		goto err_unmap_doorbell;

	verbs_set_ops(&ctx->vctx, &uet_ctx_ops);
	return &ctx->vctx;

err_unmap_doorbell:
	munmap(ctx->db, ctx->db_map_size);
err_uninit:
	verbs_uninit_context(&ctx->vctx);
	free(ctx);
	errno = err;
	return NULL;
}

static struct verbs_device *uet_alloc_device(struct verbs_sysfs_dev *sysfs_dev)
{
	struct uet_device *dev;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	dev->abi_version = sysfs_dev->abi_ver;
	return &dev->vdev;
}

static void uet_uninit_device(struct verbs_device *vdev)
{
	free(to_uet_dev(&vdev->device));
}

const struct verbs_device_ops uet_dev_ops = {
	.name = "uet",
	.match_min_abi_version = UET_UVERBS_ABI_VERSION,
	.match_max_abi_version = UET_UVERBS_ABI_VERSION,
	.match_table = uet_match_table,
	.alloc_device = uet_alloc_device,
	.uninit_device = uet_uninit_device,
	.alloc_context = uet_alloc_context,
};

PROVIDER_DRIVER(uet, uet_dev_ops);
