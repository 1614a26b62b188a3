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

/*
 * A memory region that only requests of @jkey's job may reach remotely
 * (ibv_reg_mr() otherwise); deregistered with ibv_dereg_mr().
 */
struct ibv_mr *uetdv_reg_mr(struct ibv_pd *pd, void *addr, size_t length,
			    int access, struct uetdv_job_key *jkey);

/*
 * Reliable-unconnected (RU) queue pairs: one QP reaches every peer of its
 * job, the destination given with each work request.  Created in RTS on
 * the job key's PD (qp_type IBV_QPT_DRIVER); messages are delivered as
 * their packets arrive (RUD), or in order with UETDV_QP_ORDERED (ROD).
 * Send opcodes: SEND, SEND_WITH_IMM, RDMA_WRITE, RDMA_WRITE_WITH_IMM and
 * RDMA_READ.  The QP number is its UET address on the device: resource
 * index << 12 | PIDonFEP.
 */
enum uetdv_qp_init_attr_mask {
	UETDV_QP_INIT_ATTR_FLAGS = 1 << 0,
};

enum uetdv_qp_flags {
	UETDV_QP_ORDERED = 1 << 0,
};

struct uetdv_qp_init_attr {
	uint64_t comp_mask;		/* enum uetdv_qp_init_attr_mask */
	struct uetdv_job_key *job_key;	/* the QP's job: required */
	uint32_t flags;			/* enum uetdv_qp_flags */
};

struct ibv_qp *uetdv_create_qp(struct ibv_context *context,
			       struct ibv_qp_init_attr_ex *attr,
			       struct uetdv_qp_init_attr *uattr);

/* An address handle that also names the peer's endpoint (remote QPN). */
struct ibv_ah *uetdv_create_ah_ex(struct ibv_pd *pd,
				  struct uetdv_ah_attr_ex *attr);

/*
 * Work requests of an RU QP through ibv_qp_ex (ibv_wr_start() ...
 * ibv_wr_complete()): after the opcode call, the destination is set with
 * wr_set_ru_addr() - an address handle from uetdv_create_ah_ex(), or NULL
 * and an index into the job's address table - and optionally the job key
 * with wr_set_job_key() (0, the default, is the QP's own).
 * With ibv_post_send(), an RU QP takes SEND and SEND_WITH_IMM, addressed
 * by wr.ud.ah and wr.ud.remote_qpn.
 */
struct uetdv_qp_ex {
	uint64_t comp_mask;
	void (*wr_set_ru_addr)(struct uetdv_qp_ex *uqp, struct ibv_ah *ah,
			       unsigned int addr_idx);
	void (*wr_set_job_key)(struct uetdv_qp_ex *uqp, uint32_t jkey);
};

struct uetdv_qp_ex *uetdv_qp_ex_from_ibv_qp_ex(struct ibv_qp_ex *qp);

static inline void uetdv_wr_set_ru_addr(struct uetdv_qp_ex *uqp,
					struct ibv_ah *ah,
					unsigned int addr_idx)
{
	uqp->wr_set_ru_addr(uqp, ah, addr_idx);
}

static inline void uetdv_wr_set_job_key(struct uetdv_qp_ex *uqp,
					uint32_t jkey)
{
	uqp->wr_set_job_key(uqp, jkey);
}

/*
 * Completions, between ibv_start_poll() and ibv_end_poll() on a uet
 * CQ: the JobID the message came with (0 for RC, UC and UD) and its
 * initiator, the source QP number.
 */
uint32_t uetdv_wc_read_job_id(struct ibv_cq_ex *cq);
uint32_t uetdv_wc_read_src_id(struct ibv_cq_ex *cq);

#ifdef __cplusplus
}
#endif

#endif /* __UETDV_H__ */
