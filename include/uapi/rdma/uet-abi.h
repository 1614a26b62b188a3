/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * Ultra Ethernet Transport (uet) user/kernel ABI.
 *
 * Rules for every structure in this file: 8-byte aligned, explicit
 * reserved fields named after their bit offset, comp_mask first so the
 * structure can grow, and both sides treat unknown comp_mask bits and
 * non-zero reserved fields as an error.
 */
#ifndef UET_ABI_USER_H
#define UET_ABI_USER_H

#include <linux/types.h>
#include <rdma/ib_user_ioctl_cmds.h>

/* Matched by the provider's match_{min,max}_abi_version. */
#define UET_UVERBS_ABI_VERSION 1

/*
 * Driver id carried in every uverbs ioctl header and reported over
 * netlink.  enum rdma_driver_id has no entry for uet yet; the value is
 * far above the upstream range so a future upstream id cannot collide.
 * It becomes RDMA_DRIVER_UET in ib_user_ioctl_verbs.h when assigned.
 */
#define RDMA_DRIVER_UET 0x80

/*
 * User-mapped queues.  Each mapping starts with struct uet_queue_hdr and
 * holds a power-of-two number of fixed-size entries from offset
 * UET_QUEUE_HDR_SIZE.  producer and consumer are free-running counters
 * (the slot is counter & (entries - 1)), each written only by its owner
 * with release semantics and read with acquire semantics.  An all-zero
 * header reads as an empty queue.
 */
#define UET_QUEUE_HDR_SIZE 256

struct uet_queue_hdr {
	__u32 producer;
	__u32 reserved_20[15];		/* producer owns this cache line */
	__u32 consumer;
	__u32 reserved_220[15];		/* consumer owns this cache line */
	/* CQ: enum uet_cq_notify, set by user space, cleared by the kernel. */
	__u32 cq_notify;
	__u32 flags;			/* enum uet_queue_flags, kernel-written */
	__u32 reserved_440[14];
};

enum uet_queue_flags {
	/*
	 * SQ, RQ, SRQ: the owning QP or SRQ is in the error state.  Work
	 * posted from now on is not executed but completed with
	 * IBV_WC_WR_FLUSH_ERR, and only when the poster kicks the kernel
	 * (a POST_SEND or POST_RECV/POST_SRQ_RECV write() with no WRs).
	 */
	UET_QUEUE_ERR = 1 << 0,
	/* CQ: a completion found the ring full; IB_EVENT_CQ_ERR was raised. */
	UET_QUEUE_OVERFLOW = 1 << 1,
};

enum uet_cq_notify {
	UET_CQ_NOTIFY_NONE = 0,
	UET_CQ_NOTIFY_SOLICITED = 1,
	UET_CQ_NOTIFY_ANY = 2,
};

/* A work completion, as the kernel writes it into a CQ ring. */
struct uet_cqe {
	__aligned_u64 wr_id;
	__u32 status;			/* enum ibv_wc_status values */
	__u32 opcode;			/* enum ibv_wc_opcode values */
	__u32 vendor_err;
	__u32 byte_len;
	__be32 imm_data;		/* or the invalidated rkey */
	__u32 qp_num;
	__u32 src_qp;
	__u32 flags;			/* enum uet_cqe_flags */
	__u16 pkey_index;
	__u8 sl;
	__u8 reserved_158[5];
	__u32 job_id;			/* the JobID the message came with */
	__u32 reserved_1a0[3];
};

enum uet_cqe_flags {
	UET_CQE_GRH = 1 << 0,		/* a UD receive with a GRH area */
	UET_CQE_WITH_IMM = 1 << 1,
	UET_CQE_WITH_INV = 1 << 2,
};

struct uet_create_cq_cmd {
	__u32 comp_mask;
	__u32 reserved_20;
};

struct uet_create_cq_resp {
	__u32 comp_mask;
	__u32 num_entries;		/* ring slots, a power of two */
	__aligned_u64 mmap_offset;	/* of the ring, for mmap() */
	__aligned_u64 mmap_size;
};

struct uet_alloc_ucontext_cmd {
	__u32 comp_mask;
	__u32 reserved_20;
};

enum uet_alloc_ucontext_resp_mask {
	UET_UCTX_RESP_JOB_LIMITS = 1 << 0,	/* max_jobs ... are valid */
};

struct uet_alloc_ucontext_resp {
	__u32 comp_mask;		/* enum uet_alloc_ucontext_resp_mask */
	__u32 reserved_20;
	/* The context's doorbell page (struct uet_doorbell), for mmap(). */
	__aligned_u64 db_mmap_offset;
	__aligned_u64 db_mmap_size;
	/* Device limits of the job objects below. */
	__u32 max_jobs;			/* live jobs on the device */
	__u32 max_jkeys;		/* live job keys on the device */
	__u32 max_job_addrs;		/* address table entries per job */
	__u32 reserved_1a0;
};

/*
 * The doorbell page, one per context, shared by all its send queues.
 * The kernel's send engine polls the send queues while work arrives;
 * before it sleeps it sets UET_DB_NEED_WAKEUP, re-checks every queue and
 * only then sleeps.  A poster publishes its producer index (release),
 * issues a full barrier, reads flags and kicks the engine with a
 * POST_SEND write() carrying no WRs only if UET_DB_NEED_WAKEUP is set.
 */
struct uet_doorbell {
	__u32 flags;			/* enum uet_db_flags, kernel-written */
	__u32 reserved_20[15];
};

enum uet_db_flags {
	UET_DB_NEED_WAKEUP = 1 << 0,
};

/* A scatter/gather element of a WQE. */
struct uet_sge {
	__aligned_u64 addr;
	__u32 length;
	__u32 lkey;
};

#define UET_WQE_MAX_SGE 16
#define UET_WQE_MAX_INLINE (UET_WQE_MAX_SGE * sizeof(struct uet_sge))

/*
 * A send work request as the provider writes it into the SQ ring.  With
 * IB_SEND_INLINE in send_flags, the payload (length in inline_len) is
 * stored in place of the SGE list.
 */
struct uet_send_wqe {
	__aligned_u64 wr_id;
	__u32 opcode;			/* enum ib_uverbs_wr_opcode */
	__u32 send_flags;		/* IBV_SEND_* (= IB_SEND_*) bits */
	__u32 num_sge;
	__u32 inline_len;
	__be32 imm_data;		/* or the rkey to invalidate */
	__u32 reserved_e0;
	union {
		struct {
			__aligned_u64 remote_addr;
			__u32 rkey;
			__u32 reserved_160;
		} rdma;
		struct {
			__aligned_u64 remote_addr;
			__aligned_u64 compare_add;
			__aligned_u64 swap;
			__u32 rkey;
			__u32 reserved_1e0;
		} atomic;
		struct {
			__u32 ah_id;		/* from uet_create_ah_resp */
			__u32 remote_qpn;
			__u32 remote_qkey;
			__u32 reserved_160;
		} ud;
		/* A reliable-unconnected QP: the destination is per WR. */
		struct {
			__aligned_u64 remote_addr;	/* WRITE, READ */
			__u32 rkey;
			/* An ah_id, or with UET_WQE_RU_ADDR_IDX an index
			 * into the job's address table.
			 */
			__u32 dest;
			__u32 remote_qpn;		/* with an ah_id */
			__u32 jkey;			/* 0: the QP's */
			__u32 flags;			/* enum uet_wqe_ru_flags */
			__u32 reserved_1e0;
		} ru;
	} wr;
	union {
		struct uet_sge sge[UET_WQE_MAX_SGE];
		__u8 inline_data[UET_WQE_MAX_INLINE];
	};
};

enum uet_wqe_ru_flags {
	UET_WQE_RU_ADDR_IDX = 1 << 0,
};

/* A receive work request, as written into the RQ or SRQ ring. */
struct uet_recv_wqe {
	__aligned_u64 wr_id;
	__u32 num_sge;
	__u32 reserved_60;
	struct uet_sge sge[UET_WQE_MAX_SGE];
};

enum uet_create_qp_cmd_mask {
	/* A reliable-unconnected QP (IB_QPT_DRIVER): the ru_ fields. */
	UET_CREATE_QP_RU = 1 << 0,
};

enum uet_qp_ru_flags {
	/* Deliver in order (ROD) instead of as packets arrive (RUD). */
	UET_QP_RU_ORDERED = 1 << 0,
};

/*
 * A reliable-unconnected (RU) QP reaches every peer of one job; the job
 * is named by a job key of the QP's PD.  It is created in RTS, and its
 * QPN is its UET address on the device: resource index << 12 | PIDonFEP.
 */
struct uet_create_qp_cmd {
	__u32 comp_mask;		/* enum uet_create_qp_cmd_mask */
	__u32 reserved_20;
	__u32 ru_jkey;
	__u32 ru_flags;			/* enum uet_qp_ru_flags */
};

struct uet_create_qp_resp {
	__u32 comp_mask;
	__u32 reserved_20;
	/* Ring geometry, as created; an SRQ QP has no RQ (rq_* zero). */
	__u32 sq_entries;
	__u32 rq_entries;
	__aligned_u64 sq_mmap_offset;
	__aligned_u64 sq_mmap_size;
	__aligned_u64 rq_mmap_offset;
	__aligned_u64 rq_mmap_size;
};

struct uet_create_srq_cmd {
	__u32 comp_mask;
	__u32 reserved_20;
};

struct uet_create_srq_resp {
	__u32 comp_mask;
	__u32 num_entries;
	__aligned_u64 mmap_offset;
	__aligned_u64 mmap_size;
};

/*
 * CQ resize: the kernel moves the unpolled CQEs into a new ring and
 * returns it; the provider maps it and unmaps the old one.
 */
struct uet_resize_cq_cmd {
	__u32 comp_mask;
	__u32 reserved_20;
};

struct uet_resize_cq_resp {
	__u32 comp_mask;
	__u32 num_entries;
	__aligned_u64 mmap_offset;
	__aligned_u64 mmap_size;
};

enum uet_reg_mr_cmd_mask {
	/* Remote access only for requests of the job of jkey. */
	UET_REG_MR_JOB = 1 << 0,
};

/* Optional: a registration without a command is open to every job. */
struct uet_reg_mr_cmd {
	__u32 comp_mask;		/* enum uet_reg_mr_cmd_mask */
	__u32 jkey;			/* a job key of the MR's PD */
};

struct uet_create_ah_resp {
	__u32 comp_mask;
	/* Names this address handle in UD work requests. */
	__u32 ah_id;
};

/*
 * Driver uverbs objects (ioctl interface, in the driver id namespace):
 * UET jobs and job keys, after the JOB and JKEY objects of the UEC verbs
 * proposal.
 *
 * A job is a JobID (24 bits, non-zero: JobID 0 is the device's default
 * job of RC and UD traffic) with an address table.  Allocating one needs
 * CAP_NET_ADMIN in the network namespace of the device's netdev; any
 * process can import a job from a file descriptor that a holder
 * exported.  The job lives while a handle, a job key or an exported file
 * refers to it, and its JobID cannot be allocated again until then.
 *
 * A job key binds a job to a protection domain.  Its 32-bit value is what
 * queue pairs and work requests name; the JobID itself stays privileged.
 */
#define UET_JOB_ID_MAX 0xffffff

enum uet_objects {
	UET_OBJECT_JOB = (1U << UVERBS_ID_NS_SHIFT),
	UET_OBJECT_JKEY,
};

enum uet_job_methods {
	UET_METHOD_JOB_ALLOC = (1U << UVERBS_ID_NS_SHIFT),
	UET_METHOD_JOB_DEALLOC,
	UET_METHOD_JOB_QUERY,
	UET_METHOD_JOB_EXPORT,
	UET_METHOD_JOB_IMPORT,
	UET_METHOD_JOB_ADDR_INSERT,
	UET_METHOD_JOB_ADDR_REMOVE,
	UET_METHOD_JOB_ADDR_QUERY,
};

enum uet_job_alloc_attrs {
	UET_ATTR_JOB_ALLOC_HANDLE = (1U << UVERBS_ID_NS_SHIFT),
	UET_ATTR_JOB_ALLOC_ID,		/* u32: the JobID */
	UET_ATTR_JOB_ALLOC_MAX_ADDRS,	/* u32, optional: table entries */
	UET_ATTR_JOB_ALLOC_FLAGS,	/* flags, optional: none defined */
};

enum uet_job_dealloc_attrs {
	UET_ATTR_JOB_DEALLOC_HANDLE = (1U << UVERBS_ID_NS_SHIFT),
};

enum uet_job_query_attrs {
	UET_ATTR_JOB_QUERY_HANDLE = (1U << UVERBS_ID_NS_SHIFT),
	UET_ATTR_JOB_QUERY_RESP,	/* struct uet_job_attr */
};

enum uet_job_export_attrs {
	UET_ATTR_JOB_EXPORT_HANDLE = (1U << UVERBS_ID_NS_SHIFT),
	UET_ATTR_JOB_EXPORT_FD,		/* s32 out, close-on-exec */
};

enum uet_job_import_attrs {
	UET_ATTR_JOB_IMPORT_HANDLE = (1U << UVERBS_ID_NS_SHIFT),
	UET_ATTR_JOB_IMPORT_FD,		/* raw fd in */
};

/* ADDR_INSERT (ENTRY in), ADDR_REMOVE (no ENTRY), ADDR_QUERY (ENTRY out) */
enum uet_job_addr_attrs {
	UET_ATTR_JOB_ADDR_HANDLE = (1U << UVERBS_ID_NS_SHIFT),
	UET_ATTR_JOB_ADDR_INDEX,	/* u32 */
	UET_ATTR_JOB_ADDR_ENTRY,	/* struct uet_job_addr */
};

enum uet_jkey_methods {
	UET_METHOD_JKEY_CREATE = (1U << UVERBS_ID_NS_SHIFT),
	UET_METHOD_JKEY_DESTROY,
};

enum uet_jkey_create_attrs {
	UET_ATTR_JKEY_CREATE_HANDLE = (1U << UVERBS_ID_NS_SHIFT),
	UET_ATTR_JKEY_CREATE_PD_HANDLE,
	UET_ATTR_JKEY_CREATE_JOB_HANDLE,
	UET_ATTR_JKEY_CREATE_FLAGS,	/* flags, optional: none defined */
	UET_ATTR_JKEY_CREATE_JKEY,	/* u32 out: the job key */
};

enum uet_jkey_destroy_attrs {
	UET_ATTR_JKEY_DESTROY_HANDLE = (1U << UVERBS_ID_NS_SHIFT),
};

/* No flag is defined yet; the type names what the FLAGS attributes take. */
enum uet_job_alloc_flags {
	UET_JOB_ALLOC_FLAGS_NONE = 0,
};

enum uet_jkey_create_flags {
	UET_JKEY_CREATE_FLAGS_NONE = 0,
};

struct uet_job_attr {
	__u32 comp_mask;
	__u32 id;			/* the JobID */
	__u32 max_addrs;		/* address table entries */
	__u32 num_addrs;		/* of them, in use */
};

/*
 * An address table entry: a peer's IP address (IPv4 as IPv4-mapped IPv6)
 * and the QPN of its endpoint (resource index << 12 | PIDonFEP).
 */
struct uet_job_addr {
	__u8 gid[16];
	__u32 qpn;
	__u32 flags;			/* none defined: must be zero */
};

#endif /* UET_ABI_USER_H */
