// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * uet provider control path: device and port queries, PDs, MRs, AHs.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "uet.h"
#include "uet-abi.h"

int uet_query_device_ex(struct ibv_context *ibctx,
			const struct ibv_query_device_ex_input *input,
			struct ibv_device_attr_ex *attr, size_t attr_size)
{
	struct ib_uverbs_ex_query_device_resp resp;
	size_t resp_size = sizeof(resp);

	return ibv_cmd_query_device_any(ibctx, input, attr, attr_size, &resp,
					&resp_size);
}

int uet_query_port(struct ibv_context *ibctx, uint8_t port,
		   struct ibv_port_attr *attr)
{
	struct ibv_query_port cmd;

	return ibv_cmd_query_port(ibctx, port, attr, &cmd, sizeof(cmd));
}

struct ibv_pd *uet_alloc_pd(struct ibv_context *ibctx)
{
	struct ib_uverbs_alloc_pd_resp resp;
	struct ibv_alloc_pd cmd;
	struct ibv_pd *pd;
	int err;

	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return NULL;
	err = ibv_cmd_alloc_pd(ibctx, pd, &cmd, sizeof(cmd), &resp,
			       sizeof(resp));
	if (err) {
		free(pd);
		errno = err;
		return NULL;
	}
	return pd;
}

int uet_dealloc_pd(struct ibv_pd *pd)
{
	int err = ibv_cmd_dealloc_pd(pd);

	if (!err)
		free(pd);
	return err;
}

struct ibv_mr *uet_reg_mr(struct ibv_pd *pd, void *addr, size_t length,
			  uint64_t hca_va, int access)
{
	struct ib_uverbs_reg_mr_resp resp;
	struct ibv_reg_mr cmd;
	struct verbs_mr *vmr;
	int err;

	vmr = calloc(1, sizeof(*vmr));
	if (!vmr)
		return NULL;
	err = ibv_cmd_reg_mr(pd, addr, length, hca_va, access, vmr, &cmd,
			     sizeof(cmd), &resp, sizeof(resp));
	if (err) {
		free(vmr);
		errno = err;
		return NULL;
	}
	return &vmr->ibv_mr;
}

int uet_dereg_mr(struct verbs_mr *vmr)
{
	int err = ibv_cmd_dereg_mr(vmr);

	if (!err)
		free(vmr);
	return err;
}

struct ibv_ah *uet_create_ah(struct ibv_pd *pd, struct ibv_ah_attr *attr)
{
	struct uet_cmd_create_ah_resp resp = {};
	struct uet_ah *ah;
	int err;

	ah = calloc(1, sizeof(*ah));
	if (!ah)
		return NULL;
	err = ibv_cmd_create_ah(pd, &ah->ibv_ah, attr, &resp.ibv_resp,
				sizeof(resp));
	if (err) {
		free(ah);
		errno = err;
		return NULL;
	}
	ah->ah_id = resp.drv_payload.ah_id;
	return &ah->ibv_ah;
}

int uet_destroy_ah(struct ibv_ah *ibah)
{
	int err = ibv_cmd_destroy_ah(ibah);

	if (!err)
		free(to_uet_ah(ibah));
	return err;
}

int uet_queue_map(struct ibv_context *ibctx, struct uet_queue *q,
		  uint64_t offset, size_t size, uint32_t entries)
{
	void *map;

	if (!entries || entries & (entries - 1))
		return EINVAL;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   ibctx->cmd_fd, offset);
	if (map == MAP_FAILED)
		return errno;
	q->hdr = map;
	q->buf = (char *)map + UET_QUEUE_HDR_SIZE;
	q->entries = entries;
	q->map_size = size;
	return 0;
}

void uet_queue_unmap(struct uet_queue *q)
{
	munmap(q->hdr, q->map_size);
}

struct ibv_cq *uet_create_cq(struct ibv_context *ibctx, int cqe,
			     struct ibv_comp_channel *channel, int comp_vector)
{
	struct uet_cmd_create_cq_resp resp = {};
	struct uet_cmd_create_cq cmd = {};
	struct uet_cq *cq;
	int err;

	cq = calloc(1, sizeof(*cq));
	if (!cq)
		return NULL;
	err = ibv_cmd_create_cq(ibctx, cqe, channel, comp_vector,
				&cq->vcq.cq, &cmd.ibv_cmd, sizeof(cmd),
				&resp.ibv_resp, sizeof(resp));
	if (err)
		goto err_free;

	err = uet_queue_map(ibctx, &cq->queue, resp.drv_payload.mmap_offset,
			    resp.drv_payload.mmap_size,
			    resp.drv_payload.num_entries);
	if (err)
		goto err_destroy;
	pthread_spin_init(&cq->lock, PTHREAD_PROCESS_PRIVATE);
	return &cq->vcq.cq;

err_destroy:
	ibv_cmd_destroy_cq(&cq->vcq.cq);
err_free:
	free(cq);
	errno = err;
	return NULL;
}

int uet_destroy_cq(struct ibv_cq *ibcq)
{
	struct uet_cq *cq = to_uet_cq(ibcq);
	int err;

	err = ibv_cmd_destroy_cq(ibcq);
	if (err)
		return err;
	uet_queue_unmap(&cq->queue);
	pthread_spin_destroy(&cq->lock);
	free(cq);
	return 0;
}
