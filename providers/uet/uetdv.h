/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * uet direct verbs: what plain verbs cannot express on a UET device.
 * Names follow the UEC verbs proposal (ibv_alloc_job -> uetdv_alloc_job,
 * ...).  Link with -luet.
 *
 * Functions returning int return 0 or an errno value; functions returning
 * a pointer return NULL and set errno on failure.  Every function fails
 * with EOPNOTSUPP on a context that is not a uet device's.
 */
#ifndef __UETDV_H__
#define __UETDV_H__

#include <stdint.h>
#include <infiniband/verbs.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest JobID; 0 is the device's default job (RC, UC and UD). */
#define UETDV_JOB_ID_MAX 0xffffff

struct uetdv_device_attr {
	uint64_t comp_mask;		/* none defined: set to 0 */
	uint32_t max_jobs;		/* live jobs on the device */
	uint32_t max_jkeys;		/* live job keys on the device */
	uint32_t max_addr_entries;	/* address table entries per job */
	uint32_t max_job_id;		/* UETDV_JOB_ID_MAX */
};

int uetdv_query_device(struct ibv_context *context,
		       struct uetdv_device_attr *attr);

/* A job: a JobID with an address table, shared by the job's processes. */
struct uetdv_job {
	struct ibv_context *context;
	void *user_context;
	uint32_t handle;
};

enum uetdv_job_attr_mask {
	UETDV_JOB_ATTR_MAX_ADDR_ENTRIES = 1 << 0,
};

struct uetdv_job_attr {
	uint32_t comp_mask;		/* enum uetdv_job_attr_mask */
	uint32_t id;			/* the JobID, 1 .. UETDV_JOB_ID_MAX */
	uint32_t max_addr_entries;	/* 0 unless the mask bit is set */
	uint32_t num_addr_entries;	/* uetdv_query_job: entries in use */
};

struct uetdv_job *uetdv_alloc_job(struct ibv_context *context,
				  struct uetdv_job_attr *attr,
				  void *user_context);
int uetdv_dealloc_job(struct uetdv_job *job);
int uetdv_query_job(struct uetdv_job *job, struct uetdv_job_attr *attr);
int uetdv_export_job(struct uetdv_job *job, int *fd);
int uetdv_import_job(struct ibv_context *context, int fd,
		     struct uetdv_job **job);

/*
 * A peer's address: the network part (is_global with grh.dgid, the
 * peer's IP address as a GID) and its endpoint, the remote QPN.
 */
struct uetdv_ah_attr_ex {
	struct ibv_ah_attr ah_attr;
	uint32_t remote_qpn;
};

int uetdv_insert_addr(struct uetdv_job *job,
		      const struct uetdv_ah_attr_ex *attr,
		      unsigned int addr_idx, unsigned int flags);
int uetdv_remove_addr(struct uetdv_job *job, unsigned int addr_idx,
		      unsigned int flags);
int uetdv_query_addr(struct uetdv_job *job, unsigned int addr_idx,
		     struct uetdv_ah_attr_ex *attr, unsigned int flags);

/* A job key: a job bound to a protection domain. */
struct uetdv_job_key {
	struct ibv_pd *pd;
	struct uetdv_job *job;
	uint32_t handle;
	uint32_t jkey;
};

struct uetdv_job_key *uetdv_create_jkey(struct ibv_pd *pd,
					struct uetdv_job *job,
					unsigned int flags);
int uetdv_destroy_jkey(struct uetdv_job_key *jkey);

#ifdef __cplusplus
}
#endif

#endif /* __UETDV_H__ */
