// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * uet provider control path: device and port queries, PDs and parent
 * domains, MRs, AHs, CQs, and the mapping of the rings the kernel makes.
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
	struct uet_pd *pd;
	int err;

	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return NULL;
	err = ibv_cmd_alloc_pd(ibctx, &pd->ibv_pd, &cmd, sizeof(cmd), &resp,
			       sizeof(resp));
	if (err) {
		free(pd);
		errno = err;
		return NULL;
	}
	atomic_init(&pd->refcount, 1);
	return &pd->ibv_pd;
}

/*
 * A parent domain only wraps a PD.  Its allocators are accepted and never
 * called: every ring is kernel memory the provider mmap()s, so there is
 * no buffer for them to provide.  There are no thread domains.
 */
struct ibv_pd *uet_alloc_parent_domain(struct ibv_context *ibctx,
				       struct ibv_parent_domain_init_attr *attr)
{
	struct uet_pd *parent_domain;

	if (ibv_check_alloc_parent_domain(attr))
		return NULL;
	if (!check_comp_mask(attr->comp_mask,
			     IBV_PARENT_DOMAIN_INIT_ATTR_ALLOCATORS |
			     IBV_PARENT_DOMAIN_INIT_ATTR_PD_CONTEXT) ||
	    attr->td || attr->pd->context != ibctx ||
	    to_uet_parent_domain(attr->pd)) {
		errno = EINVAL;
		return NULL;
	}

	parent_domain = calloc(1, sizeof(*parent_domain));
	if (!parent_domain)
		return NULL;
	parent_domain->protection_domain = to_uet_pd(attr->pd);
	atomic_fetch_add(&parent_domain->protection_domain->refcount, 1);
	atomic_init(&parent_domain->refcount, 1);
	ibv_initialize_parent_domain(&parent_domain->ibv_pd, attr->pd);
	return &parent_domain->ibv_pd;
}

/* Freeing a parent domain frees the wrapper; its PD stays. */
int uet_dealloc_pd(struct ibv_pd *ibpd)
{
	struct uet_pd *pd = to_uet_pd(ibpd);
	int err;

	if (atomic_load(&pd->refcount) > 1)
		return EBUSY;
	if (pd->protection_domain) {
		atomic_fetch_sub(&pd->protection_domain->refcount, 1);
	} else {
		err = ibv_cmd_dealloc_pd(ibpd);
		if (err)
			return err;
	}
	free(pd);
	return 0;
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

/*
 * The kernel re-registers in place and returns the new keys, which
 * ibv_cmd_rereg_mr() stores; ibv_rereg_mr() updates the PD, address and
 * length.  A parent domain as the new PD passes its PD's handle.
 */
int uet_rereg_mr(struct verbs_mr *vmr, int flags, struct ibv_pd *pd,
		 void *addr, size_t length, int access)
{
	struct ib_uverbs_rereg_mr_resp resp;
	struct ibv_rereg_mr cmd;

	return ibv_cmd_rereg_mr(vmr, flags, addr, length, (uintptr_t)addr,
				access, pd, &cmd, sizeof(cmd), &resp,
				sizeof(resp));
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
		  uint64_t offset, size_t size, uint32_t entries,
		  size_t entry_size)
{
	void *map;

	/* Never index past what is mapped, whatever the kernel said. */
	if (!entries || entries & (entries - 1) ||
	    size < UET_QUEUE_HDR_SIZE + (size_t)entries * entry_size)
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

/* Map a ring we post to, whose WQEs hold at most @max_sge SGEs. */
int uet_wq_init(struct ibv_context *ibctx, struct uet_wq *wq, uint64_t offset,
		size_t size, uint32_t entries, size_t entry_size,
		uint32_t max_sge)
{
	int err;

	if (max_sge > UET_WQE_MAX_SGE)
		return EINVAL;
	err = uet_queue_map(ibctx, &wq->queue, offset, size, entries,
			    entry_size);
	if (err)
		return err;
	wq->producer = 0;
	wq->max_sge = max_sge;
	pthread_spin_init(&wq->lock, PTHREAD_PROCESS_PRIVATE);
	return 0;
}

void uet_wq_fini(struct uet_wq *wq)
{
	pthread_spin_destroy(&wq->lock);
	uet_queue_unmap(&wq->queue);
}

/* Map the CQ ring the kernel made and make the CQ ready for polling. */
static int uet_cq_init(struct ibv_context *ibctx, struct uet_cq *cq,
		       const struct uet_create_cq_resp *resp)
{
	int err;

	err = uet_queue_map(ibctx, &cq->queue, resp->mmap_offset,
			    resp->mmap_size, resp->num_entries,
			    sizeof(struct uet_cqe));
	if (err)
		return err;
	pthread_spin_init(&cq->lock, PTHREAD_PROCESS_PRIVATE);
	uet_cq_ex_init(cq);
	return 0;
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

	err = uet_cq_init(ibctx, cq, &resp.drv_payload);
	if (err)
		goto err_destroy;
	return &cq->vcq.cq;

err_destroy:
	ibv_cmd_destroy_cq(&cq->vcq.cq);
err_free:
	free(cq);
	errno = err;
	return NULL;
}

enum {
	/* Everything a struct uet_cqe holds; no timestamps. */
	UET_CQ_WC_FLAGS = IBV_WC_STANDARD_FLAGS,
	UET_CQ_INIT_ATTR_MASK = IBV_CQ_INIT_ATTR_MASK_FLAGS |
				IBV_CQ_INIT_ATTR_MASK_PD,
	/* A hint we need not act on; overruns are always reported. */
	UET_CQ_CREATE_FLAGS = IBV_CREATE_CQ_ATTR_SINGLE_THREADED,
};

struct ibv_cq_ex *uet_create_cq_ex(struct ibv_context *ibctx,
				   struct ibv_cq_init_attr_ex *attr)
{
	struct uet_cmd_create_cq_ex_resp resp = {};
	struct uet_cmd_create_cq_ex cmd = {};
	struct uet_pd *parent_domain = NULL;
	struct uet_cq *cq;
	int err;

	if (attr->wc_flags & ~(uint64_t)UET_CQ_WC_FLAGS ||
	    !check_comp_mask(attr->comp_mask, UET_CQ_INIT_ATTR_MASK) ||
	    (attr->comp_mask & IBV_CQ_INIT_ATTR_MASK_FLAGS &&
	     attr->flags & ~UET_CQ_CREATE_FLAGS)) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	/* The CQ takes nothing from it but must not outlive it. */
	if (attr->comp_mask & IBV_CQ_INIT_ATTR_MASK_PD) {
		parent_domain = to_uet_parent_domain(attr->parent_domain);
		if (!parent_domain) {
			errno = EINVAL;
			return NULL;
		}
	}

	cq = calloc(1, sizeof(*cq));
	if (!cq)
		return NULL;
	err = ibv_cmd_create_cq_ex(ibctx, attr, &cq->vcq, &cmd.ibv_cmd,
				   sizeof(cmd), &resp.ibv_resp, sizeof(resp),
				   0);
	if (err)
		goto err_free;

	err = uet_cq_init(ibctx, cq, &resp.drv_payload);
	if (err)
		goto err_destroy;
	if (parent_domain) {
		atomic_fetch_add(&parent_domain->refcount, 1);
		cq->parent_domain = parent_domain;
	}
	return &cq->vcq.cq_ex;

err_destroy:
	ibv_cmd_destroy_cq(&cq->vcq.cq);
err_free:
	free(cq);
	errno = err;
	return NULL;
}

int uet_resize_cq(struct ibv_cq *ibcq, int cqe)
{
	struct uet_cmd_resize_cq_resp resp = {};
	struct uet_cmd_resize_cq cmd = {};
	struct uet_cq *cq = to_uet_cq(ibcq);
	struct uet_queue ring;
	int err;

	/*
	 * The kernel moves the unpolled CQEs to the start of a new ring.
	 * Pollers stay off both rings until we follow it there; what they
	 * consumed is already published, the kernel copies from there.
	 */
	pthread_spin_lock(&cq->lock);
	err = ibv_cmd_resize_cq(ibcq, cqe, &cmd.ibv_cmd, sizeof(cmd),
				&resp.ibv_resp, sizeof(resp));
	if (err)
		goto out;
	err = uet_queue_map(ibcq->context, &ring,
			    resp.drv_payload.mmap_offset,
			    resp.drv_payload.mmap_size,
			    resp.drv_payload.num_entries,
			    sizeof(struct uet_cqe));
	if (err)
		goto out;
	uet_queue_unmap(&cq->queue);
	cq->queue = ring;
	cq->consumer = 0;
out:
	pthread_spin_unlock(&cq->lock);
	return err;
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
	if (cq->parent_domain)
		atomic_fetch_sub(&cq->parent_domain->refcount, 1);
	free(cq);
	return 0;
}
