// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * uetdv jobs, their address tables and job keys: thin wrappers over the
 * driver's UET_OBJECT_JOB and UET_OBJECT_JKEY ioctl methods.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <infiniband/cmd_ioctl.h>

#include "uet.h"
#include "uet-abi.h"
#include "uetdv.h"

bool uet_is_context(struct ibv_context *ibctx)
{
	return ibctx && verbs_get_device(ibctx->device)->ops == &uet_dev_ops;
}

int uetdv_query_device(struct ibv_context *ibctx,
		       struct uetdv_device_attr *attr)
{
	struct uet_context *ctx;

	if (!uet_is_context(ibctx))
		return EOPNOTSUPP;
	if (attr->comp_mask)
		return EINVAL;
	ctx = to_uet_ctx(ibctx);
	attr->max_jobs = ctx->max_jobs;
	attr->max_jkeys = ctx->max_jkeys;
	attr->max_addr_entries = ctx->max_job_addrs;
	attr->max_job_id = UETDV_JOB_ID_MAX;
	return 0;
}

struct uetdv_job *uetdv_alloc_job(struct ibv_context *ibctx,
				  struct uetdv_job_attr *attr,
				  void *user_context)
{
	DECLARE_COMMAND_BUFFER(cmd, UET_OBJECT_JOB, UET_METHOD_JOB_ALLOC, 3);
	struct ib_uverbs_attr *handle;
	struct uetdv_job *job;
	int err;

	if (!uet_is_context(ibctx)) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	if (attr->comp_mask & ~UETDV_JOB_ATTR_MAX_ADDR_ENTRIES) {
		errno = EINVAL;
		return NULL;
	}
	job = calloc(1, sizeof(*job));
	if (!job)
		return NULL;

	handle = fill_attr_out_obj(cmd, UET_ATTR_JOB_ALLOC_HANDLE);
	fill_attr_in_uint32(cmd, UET_ATTR_JOB_ALLOC_ID, attr->id);
	if (attr->comp_mask & UETDV_JOB_ATTR_MAX_ADDR_ENTRIES)
		fill_attr_in_uint32(cmd, UET_ATTR_JOB_ALLOC_MAX_ADDRS,
				    attr->max_addr_entries);
	err = execute_ioctl(ibctx, cmd);
	if (err) {
		free(job);
		errno = err;
		return NULL;
	}
	job->context = ibctx;
	job->user_context = user_context;
	job->handle = read_attr_obj(UET_ATTR_JOB_ALLOC_HANDLE, handle);
	return job;
}

int uetdv_dealloc_job(struct uetdv_job *job)
{
	DECLARE_COMMAND_BUFFER(cmd, UET_OBJECT_JOB, UET_METHOD_JOB_DEALLOC, 1);
	int err;

	fill_attr_in_obj(cmd, UET_ATTR_JOB_DEALLOC_HANDLE, job->handle);
	err = execute_ioctl(job->context, cmd);
	if (err)
		return err;
	free(job);
	return 0;
}

int uetdv_query_job(struct uetdv_job *job, struct uetdv_job_attr *attr)
{
	DECLARE_COMMAND_BUFFER(cmd, UET_OBJECT_JOB, UET_METHOD_JOB_QUERY, 2);
	struct uet_job_attr resp = {};
	int err;

	fill_attr_in_obj(cmd, UET_ATTR_JOB_QUERY_HANDLE, job->handle);
	fill_attr_out_ptr(cmd, UET_ATTR_JOB_QUERY_RESP, &resp);
	err = execute_ioctl(job->context, cmd);
	if (err)
		return err;
	attr->comp_mask = UETDV_JOB_ATTR_MAX_ADDR_ENTRIES;
	attr->id = resp.id;
	attr->max_addr_entries = resp.max_addrs;
	attr->num_addr_entries = resp.num_addrs;
	return 0;
}

int uetdv_export_job(struct uetdv_job *job, int *fd)
{
	DECLARE_COMMAND_BUFFER(cmd, UET_OBJECT_JOB, UET_METHOD_JOB_EXPORT, 2);
	int32_t out = -1;
	int err;

	fill_attr_in_obj(cmd, UET_ATTR_JOB_EXPORT_HANDLE, job->handle);
	fill_attr_out_ptr(cmd, UET_ATTR_JOB_EXPORT_FD, &out);
	err = execute_ioctl(job->context, cmd);
	if (err)
		return err;
	*fd = out;
	return 0;
}

int uetdv_import_job(struct ibv_context *ibctx, int fd, struct uetdv_job **jobp)
{
	DECLARE_COMMAND_BUFFER(cmd, UET_OBJECT_JOB, UET_METHOD_JOB_IMPORT, 2);
	struct ib_uverbs_attr *handle;
	struct uetdv_job *job;
	int err;

	if (!uet_is_context(ibctx))
		return EOPNOTSUPP;
	if (fd < 0)
		return EBADF;
	job = calloc(1, sizeof(*job));
	if (!job)
		return ENOMEM;

	handle = fill_attr_out_obj(cmd, UET_ATTR_JOB_IMPORT_HANDLE);
	fill_attr_in_fd(cmd, UET_ATTR_JOB_IMPORT_FD, fd);
	err = execute_ioctl(ibctx, cmd);
	if (err) {
		free(job);
		return err;
	}
	job->context = ibctx;
	job->handle = read_attr_obj(UET_ATTR_JOB_IMPORT_HANDLE, handle);
	*jobp = job;
	return 0;
}

int uetdv_insert_addr(struct uetdv_job *job,
		      const struct uetdv_ah_attr_ex *attr,
		      unsigned int addr_idx, unsigned int flags)
{
	DECLARE_COMMAND_BUFFER(cmd, UET_OBJECT_JOB, UET_METHOD_JOB_ADDR_INSERT,
			       3);
	struct uet_job_addr a = {};

	/* UET is routed by IP: the peer's address is its GID. */
	if (flags || !attr->ah_attr.is_global)
		return EINVAL;
	memcpy(a.gid, attr->ah_attr.grh.dgid.raw, sizeof(a.gid));
	a.qpn = attr->remote_qpn;

	fill_attr_in_obj(cmd, UET_ATTR_JOB_ADDR_HANDLE, job->handle);
	fill_attr_in_uint32(cmd, UET_ATTR_JOB_ADDR_INDEX, addr_idx);
	fill_attr_in_ptr(cmd, UET_ATTR_JOB_ADDR_ENTRY, &a);
	return execute_ioctl(job->context, cmd);
}

int uetdv_remove_addr(struct uetdv_job *job, unsigned int addr_idx,
		      unsigned int flags)
{
	DECLARE_COMMAND_BUFFER(cmd, UET_OBJECT_JOB, UET_METHOD_JOB_ADDR_REMOVE,
			       2);

	if (flags)
		return EINVAL;
	fill_attr_in_obj(cmd, UET_ATTR_JOB_ADDR_HANDLE, job->handle);
	fill_attr_in_uint32(cmd, UET_ATTR_JOB_ADDR_INDEX, addr_idx);
	return execute_ioctl(job->context, cmd);
}

int uetdv_query_addr(struct uetdv_job *job, unsigned int addr_idx,
		     struct uetdv_ah_attr_ex *attr, unsigned int flags)
{
	DECLARE_COMMAND_BUFFER(cmd, UET_OBJECT_JOB, UET_METHOD_JOB_ADDR_QUERY,
			       3);
	struct uet_job_addr a = {};
	int err;

	if (flags)
		return EINVAL;
	fill_attr_in_obj(cmd, UET_ATTR_JOB_ADDR_HANDLE, job->handle);
	fill_attr_in_uint32(cmd, UET_ATTR_JOB_ADDR_INDEX, addr_idx);
	fill_attr_out_ptr(cmd, UET_ATTR_JOB_ADDR_ENTRY, &a);
	err = execute_ioctl(job->context, cmd);
	if (err)
		return err;
	memset(attr, 0, sizeof(*attr));
	attr->ah_attr.is_global = 1;
	attr->ah_attr.port_num = 1;
	memcpy(attr->ah_attr.grh.dgid.raw, a.gid, sizeof(a.gid));
	attr->remote_qpn = a.qpn;
	return 0;
}

struct uetdv_job_key *uetdv_create_jkey(struct ibv_pd *ibpd,
					struct uetdv_job *job,
					unsigned int flags)
{
	DECLARE_COMMAND_BUFFER(cmd, UET_OBJECT_JKEY, UET_METHOD_JKEY_CREATE,
			       4);
	struct ib_uverbs_attr *handle;
	struct uetdv_job_key *jkey;
	uint32_t key = 0;
	int err;

	if (!uet_is_context(ibpd->context)) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	if (flags || job->context != ibpd->context) {
		errno = EINVAL;
		return NULL;
	}
	jkey = calloc(1, sizeof(*jkey));
	if (!jkey)
		return NULL;

	handle = fill_attr_out_obj(cmd, UET_ATTR_JKEY_CREATE_HANDLE);
	/* A parent domain carries the handle of its protection domain. */
	fill_attr_in_obj(cmd, UET_ATTR_JKEY_CREATE_PD_HANDLE, ibpd->handle);
	fill_attr_in_obj(cmd, UET_ATTR_JKEY_CREATE_JOB_HANDLE, job->handle);
	fill_attr_out_ptr(cmd, UET_ATTR_JKEY_CREATE_JKEY, &key);
	err = execute_ioctl(ibpd->context, cmd);
	if (err) {
		free(jkey);
		errno = err;
		return NULL;
	}
	jkey->pd = ibpd;
	jkey->job = job;
	jkey->handle = read_attr_obj(UET_ATTR_JKEY_CREATE_HANDLE, handle);
	jkey->jkey = key;
	return jkey;
}

int uetdv_destroy_jkey(struct uetdv_job_key *jkey)
{
	DECLARE_COMMAND_BUFFER(cmd, UET_OBJECT_JKEY, UET_METHOD_JKEY_DESTROY,
			       1);
	int err;

	fill_attr_in_obj(cmd, UET_ATTR_JKEY_DESTROY_HANDLE, jkey->handle);
	err = execute_ioctl(jkey->pd->context, cmd);
	if (err)
		return err;
	free(jkey);
	return 0;
}

struct ibv_mr *uetdv_reg_mr(struct ibv_pd *pd, void *addr, size_t length,
			    int access, struct uetdv_job_key *jkey)
{
	struct uet_cmd_reg_mr_resp resp;
	struct uet_cmd_reg_mr cmd = {};
	struct verbs_mr *vmr;
	int err;

	if (!uet_is_context(pd->context)) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	if (!jkey || jkey->pd->context != pd->context) {
		errno = EINVAL;
		return NULL;
	}
	vmr = calloc(1, sizeof(*vmr));
	if (!vmr)
		return NULL;
	cmd.drv_payload.comp_mask = UET_REG_MR_JOB;
	cmd.drv_payload.jkey = jkey->jkey;
	err = ibv_cmd_reg_mr(pd, addr, length, (uintptr_t)addr, access, vmr,
			     &cmd.ibv_cmd, sizeof(cmd), &resp.ibv_resp,
			     sizeof(resp));
	if (err) {
		free(vmr);
		errno = err;
		return NULL;
	}
	return &vmr->ibv_mr;
}
