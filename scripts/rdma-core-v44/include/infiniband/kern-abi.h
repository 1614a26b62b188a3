/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Command-buffer wrappers for the ibv_cmd_* helpers of rdma-core v44.0's
 * private provider interface (IBVERBS_PRIVATE_34).
 *
 * Debian's libibverbs-dev does not ship this header, but the ibv_cmd_*
 * functions exported by libibverbs.so.1 take these structs, so uet's
 * provider carries its own declaration.  It is written for uet from the
 * v44.0 layout facts (member names, order, sizes), not copied: see
 * scripts/rdma-core-v44/README.  The kernel payloads themselves come from
 * the installed uapi header <rdma/ib_user_verbs.h>.
 *
 * Layout rules of v44.0 that this file reproduces:
 *  - A legacy write() command is  { struct ib_uverbs_cmd_hdr hdr; payload }.
 *  - An extended command is       { struct ex_hdr hdr; payload } where
 *    struct ex_hdr = { ib_uverbs_cmd_hdr hdr; ib_uverbs_ex_cmd_hdr ex_hdr }.
 *  - The payload is a union of the kernel struct's members laid loose and
 *    the same struct named core_payload, so both cmd.qp_handle and
 *    cmd.core_payload.qp_handle work.
 *  - The response of a command is the bare kernel struct (resp wrappers
 *    are ib_uverbs_<verb>_resp; there is no rdma-core header on them).
 */
#ifndef INFINIBAND_KERN_ABI_H
#define INFINIBAND_KERN_ABI_H

#include <assert.h>
#include <stddef.h>
#include <linux/types.h>

#include <rdma/ib_user_verbs.h>
/* _STRUCT_<tag> macros: the kernel members without their tag. */
#include <kernel-abi/ib_user_verbs.h>

/* The kernel uverbs ABI range libibverbs 44 accepts (sysfs abi_version). */
#define IB_USER_VERBS_MIN_ABI_VERSION 3
#define IB_USER_VERBS_MAX_ABI_VERSION 6

/* 8 + 16 bytes: the header of every IB_USER_VERBS_EX_CMD_* request. */
struct ex_hdr {
	struct ib_uverbs_cmd_hdr hdr;
	struct ib_uverbs_ex_cmd_hdr ex_hdr;
};

/*
 * Per-command type names, keyed by the command's enum name:
 *   IBV_ABI_REQ(e)   the rdma-core wrapper (header + payload)
 *   IBV_KABI_REQ(e)  the kernel request payload
 *   IBV_KABI_RESP(e) the kernel response
 *   IBV_ABI_ALIGN(e) the size granule of requests/responses (4 legacy, 8 ex)
 * DECLARE_DRV_CMD() uses them to build a driver's request/response pair.
 */
#define IBV_ABI_REQ(_enum) _ABI_REQ_STRUCT_##_enum
#define IBV_KABI_REQ(_enum) _KABI_REQ_STRUCT_##_enum
#define IBV_KABI_RESP(_enum) _KABI_RESP_STRUCT_##_enum
#define IBV_ABI_ALIGN(_enum) _ABI_ALIGN_##_enum

/* A legacy command whose response type is given explicitly. */
#define DECLARE_CMDX(_enum, _name, _kabi, _kabi_resp)                          \
	struct _name {                                                         \
		struct ib_uverbs_cmd_hdr hdr;                                  \
		union {                                                        \
			_STRUCT_##_kabi;                                       \
			struct _kabi core_payload;                             \
		};                                                             \
	};                                                                     \
	typedef struct _name IBV_ABI_REQ(_enum);                               \
	typedef struct _kabi IBV_KABI_REQ(_enum);                              \
	typedef struct _kabi_resp IBV_KABI_RESP(_enum);                        \
	enum { IBV_ABI_ALIGN(_enum) = 4 };                                     \
	static_assert(sizeof(struct _kabi_resp) % 4 == 0,                      \
		      #_name ": response not a multiple of 4 bytes");          \
	static_assert(sizeof(struct _name) ==                                  \
			      sizeof(struct ib_uverbs_cmd_hdr) +               \
				      sizeof(struct _kabi),                    \
		      #_name ": padding between header and payload")

/* A legacy command whose response is <kernel struct>_resp. */
#define DECLARE_CMD(_enum, _name, _kabi)                                       \
	DECLARE_CMDX(_enum, _name, _kabi, _kabi##_resp)

/* An extended command whose response type is given explicitly. */
#define DECLARE_CMD_EXX(_enum, _name, _kabi, _kabi_resp)                       \
	struct _name {                                                         \
		struct ex_hdr hdr;                                             \
		union {                                                        \
			_STRUCT_##_kabi;                                       \
			struct _kabi core_payload;                             \
		};                                                             \
	};                                                                     \
	typedef struct _name IBV_ABI_REQ(_enum);                               \
	typedef struct _kabi IBV_KABI_REQ(_enum);                              \
	typedef struct _kabi_resp IBV_KABI_RESP(_enum);                        \
	enum { IBV_ABI_ALIGN(_enum) = 8 };                                     \
	static_assert(sizeof(struct _kabi) % 8 == 0,                           \
		      #_name ": request not a multiple of 8 bytes");           \
	static_assert(sizeof(struct _kabi_resp) % 8 == 0,                      \
		      #_name ": response not a multiple of 8 bytes");          \
	static_assert(sizeof(struct _name) ==                                  \
			      sizeof(struct ex_hdr) + sizeof(struct _kabi),    \
		      #_name ": padding between header and payload")

/* An extended command whose response is <kernel struct>_resp. */
#define DECLARE_CMD_EX(_enum, _name, _kabi)                                    \
	DECLARE_CMD_EXX(_enum, _name, _kabi, _kabi##_resp)

/*
 * 'empty' stands for "no payload" in the macros above and in
 * DECLARE_DRV_CMD (GNU C: an empty struct has size 0).
 */
struct empty {};
#define _STRUCT_empty struct {}

/*
 * Recent uapi headers (linux-libc-dev 6.12) end many core structs with a
 * flexible array 'driver_data[]' where rdma-core v44.0's copy had '[0]';
 * the layout is the same, but clang flags such a struct in the middle of
 * another one, which is exactly where DECLARE_DRV_CMD puts it.
 */
#ifdef __clang__
#define _KABI_FLEX_NOT_AT_END_BEGIN                                            \
	_Pragma("clang diagnostic push")                                       \
	_Pragma("clang diagnostic ignored \"-Wgnu-variable-sized-type-not-at-end\"")
#define _KABI_FLEX_NOT_AT_END_END _Pragma("clang diagnostic pop")
#else
#define _KABI_FLEX_NOT_AT_END_BEGIN
#define _KABI_FLEX_NOT_AT_END_END
#endif

/*
 * DECLARE_DRV_CMD(name, enum, kabi_req, kabi_resp) declares a driver's
 * request/response pair for command <enum>:
 *
 *   struct name      { IBV_ABI_REQ(enum) ibv_cmd;   struct kabi_req  drv_payload; };
 *   struct name_resp { IBV_KABI_RESP(enum) ibv_resp; struct kabi_resp drv_payload; };
 *
 * Because of the '_resp' suffix, 'name' must differ from the uapi struct
 * names: DECLARE_DRV_CMD(uet_alloc_ucontext, ..., uet_alloc_ucontext_cmd,
 * uet_alloc_ucontext_resp) redefines struct uet_alloc_ucontext_resp (efa
 * names its uapi structs efa_ibv_*, rxe its wrappers urxe_*).
 *
 * The driver data (udata) directly follows the core part, which is where
 * the ibv_cmd_* helpers look for it (they are passed &cmd.ibv_cmd,
 * sizeof(cmd), &resp.ibv_resp, sizeof(resp)).
 *
 * Difference from v44.0, on purpose: in rdma-core the payload is an
 * anonymous union of the driver struct's members (from a header generated
 * from the driver's uapi header) and 'drv_payload'.  Here it is only
 * 'drv_payload', which has the same size, offset and alignment, so the
 * memory layout is identical; providers must spell driver fields as
 * x.drv_payload.field, which compiles in both places.
 *
 * The asserts are the ones v44.0 makes: no implicit padding between the
 * core part and the driver part, and sizes that are a multiple of the
 * command's granule (4 for write(), 8 for ex commands).
 */
#define DECLARE_DRV_CMD(_name, _enum, _kabi_req, _kabi_resp)                   \
	_KABI_FLEX_NOT_AT_END_BEGIN                                            \
	struct _name {                                                         \
		IBV_ABI_REQ(_enum) ibv_cmd;                                    \
		struct _kabi_req drv_payload;                                  \
	};                                                                     \
	struct _name##_resp {                                                  \
		IBV_KABI_RESP(_enum) ibv_resp;                                 \
		struct _kabi_resp drv_payload;                                 \
	};                                                                     \
	_KABI_FLEX_NOT_AT_END_END                                              \
	static_assert(sizeof(IBV_KABI_REQ(_enum)) %                            \
				      __alignof__(struct _kabi_req) ==         \
			      0,                                               \
		      #_name ": core request length breaks driver alignment"); \
	static_assert(sizeof(struct _name) ==                                  \
			      sizeof(IBV_ABI_REQ(_enum)) +                     \
				      sizeof(struct _kabi_req),                \
		      #_name ": padding in request");                          \
	static_assert(sizeof(struct _name) % IBV_ABI_ALIGN(_enum) == 0,        \
		      #_name ": request size not a multiple of the granule");  \
	static_assert(sizeof(IBV_KABI_RESP(_enum)) %                           \
				      __alignof__(struct _kabi_resp) ==        \
			      0,                                               \
		      #_name ": core response length breaks driver alignment");\
	static_assert(sizeof(struct _name##_resp) ==                           \
			      sizeof(IBV_KABI_RESP(_enum)) +                   \
				      sizeof(struct _kabi_resp),               \
		      #_name ": padding in response");                         \
	static_assert(sizeof(struct _name##_resp) % IBV_ABI_ALIGN(_enum) == 0, \
		      #_name ": response size not a multiple of the granule")

/* The command set of v44.0's kern-abi.h (write() commands). */
DECLARE_CMD(IB_USER_VERBS_CMD_ALLOC_MW, ibv_alloc_mw, ib_uverbs_alloc_mw);
DECLARE_CMD(IB_USER_VERBS_CMD_ALLOC_PD, ibv_alloc_pd, ib_uverbs_alloc_pd);
DECLARE_CMDX(IB_USER_VERBS_CMD_ATTACH_MCAST, ibv_attach_mcast,
	     ib_uverbs_attach_mcast, empty);
DECLARE_CMDX(IB_USER_VERBS_CMD_CLOSE_XRCD, ibv_close_xrcd,
	     ib_uverbs_close_xrcd, empty);
DECLARE_CMD(IB_USER_VERBS_CMD_CREATE_AH, ibv_create_ah, ib_uverbs_create_ah);
DECLARE_CMD(IB_USER_VERBS_CMD_CREATE_COMP_CHANNEL, ibv_create_comp_channel,
	    ib_uverbs_create_comp_channel);
DECLARE_CMD(IB_USER_VERBS_CMD_CREATE_CQ, ibv_create_cq, ib_uverbs_create_cq);
DECLARE_CMD(IB_USER_VERBS_CMD_CREATE_QP, ibv_create_qp, ib_uverbs_create_qp);
DECLARE_CMD(IB_USER_VERBS_CMD_CREATE_SRQ, ibv_create_srq,
	    ib_uverbs_create_srq);
DECLARE_CMDX(IB_USER_VERBS_CMD_CREATE_XSRQ, ibv_create_xsrq,
	     ib_uverbs_create_xsrq, ib_uverbs_create_srq_resp);
DECLARE_CMDX(IB_USER_VERBS_CMD_DEALLOC_MW, ibv_dealloc_mw,
	     ib_uverbs_dealloc_mw, empty);
DECLARE_CMDX(IB_USER_VERBS_CMD_DEALLOC_PD, ibv_dealloc_pd,
	     ib_uverbs_dealloc_pd, empty);
DECLARE_CMDX(IB_USER_VERBS_CMD_DEREG_MR, ibv_dereg_mr, ib_uverbs_dereg_mr,
	     empty);
DECLARE_CMDX(IB_USER_VERBS_CMD_DESTROY_AH, ibv_destroy_ah,
	     ib_uverbs_destroy_ah, empty);
DECLARE_CMD(IB_USER_VERBS_CMD_DESTROY_CQ, ibv_destroy_cq,
	    ib_uverbs_destroy_cq);
DECLARE_CMD(IB_USER_VERBS_CMD_DESTROY_QP, ibv_destroy_qp,
	    ib_uverbs_destroy_qp);
DECLARE_CMD(IB_USER_VERBS_CMD_DESTROY_SRQ, ibv_destroy_srq,
	    ib_uverbs_destroy_srq);
DECLARE_CMDX(IB_USER_VERBS_CMD_DETACH_MCAST, ibv_detach_mcast,
	     ib_uverbs_detach_mcast, empty);
DECLARE_CMD(IB_USER_VERBS_CMD_GET_CONTEXT, ibv_get_context,
	    ib_uverbs_get_context);
DECLARE_CMDX(IB_USER_VERBS_CMD_MODIFY_QP, ibv_modify_qp, ib_uverbs_modify_qp,
	     empty);
DECLARE_CMDX(IB_USER_VERBS_CMD_MODIFY_SRQ, ibv_modify_srq,
	     ib_uverbs_modify_srq, empty);
DECLARE_CMDX(IB_USER_VERBS_CMD_OPEN_QP, ibv_open_qp, ib_uverbs_open_qp,
	     ib_uverbs_create_qp_resp);
DECLARE_CMD(IB_USER_VERBS_CMD_OPEN_XRCD, ibv_open_xrcd, ib_uverbs_open_xrcd);
DECLARE_CMD(IB_USER_VERBS_CMD_POLL_CQ, ibv_poll_cq, ib_uverbs_poll_cq);
DECLARE_CMD(IB_USER_VERBS_CMD_POST_RECV, ibv_post_recv, ib_uverbs_post_recv);
DECLARE_CMD(IB_USER_VERBS_CMD_POST_SEND, ibv_post_send, ib_uverbs_post_send);
DECLARE_CMD(IB_USER_VERBS_CMD_POST_SRQ_RECV, ibv_post_srq_recv,
	    ib_uverbs_post_srq_recv);
DECLARE_CMD(IB_USER_VERBS_CMD_QUERY_DEVICE, ibv_query_device,
	    ib_uverbs_query_device);
DECLARE_CMD(IB_USER_VERBS_CMD_QUERY_PORT, ibv_query_port,
	    ib_uverbs_query_port);
DECLARE_CMD(IB_USER_VERBS_CMD_QUERY_QP, ibv_query_qp, ib_uverbs_query_qp);
DECLARE_CMD(IB_USER_VERBS_CMD_QUERY_SRQ, ibv_query_srq, ib_uverbs_query_srq);
DECLARE_CMD(IB_USER_VERBS_CMD_REG_MR, ibv_reg_mr, ib_uverbs_reg_mr);
DECLARE_CMDX(IB_USER_VERBS_CMD_REQ_NOTIFY_CQ, ibv_req_notify_cq,
	     ib_uverbs_req_notify_cq, empty);
DECLARE_CMD(IB_USER_VERBS_CMD_REREG_MR, ibv_rereg_mr, ib_uverbs_rereg_mr);
DECLARE_CMD(IB_USER_VERBS_CMD_RESIZE_CQ, ibv_resize_cq, ib_uverbs_resize_cq);

/* ... and the extended commands. */
DECLARE_CMD_EX(IB_USER_VERBS_EX_CMD_CREATE_CQ, ibv_create_cq_ex,
	       ib_uverbs_ex_create_cq);
DECLARE_CMD_EX(IB_USER_VERBS_EX_CMD_CREATE_FLOW, ibv_create_flow,
	       ib_uverbs_create_flow);
DECLARE_CMD_EX(IB_USER_VERBS_EX_CMD_CREATE_QP, ibv_create_qp_ex,
	       ib_uverbs_ex_create_qp);
DECLARE_CMD_EX(IB_USER_VERBS_EX_CMD_CREATE_RWQ_IND_TBL,
	       ibv_create_rwq_ind_table, ib_uverbs_ex_create_rwq_ind_table);
DECLARE_CMD_EX(IB_USER_VERBS_EX_CMD_CREATE_WQ, ibv_create_wq,
	       ib_uverbs_ex_create_wq);
DECLARE_CMD_EXX(IB_USER_VERBS_EX_CMD_DESTROY_FLOW, ibv_destroy_flow,
		ib_uverbs_destroy_flow, empty);
DECLARE_CMD_EXX(IB_USER_VERBS_EX_CMD_DESTROY_RWQ_IND_TBL,
		ibv_destroy_rwq_ind_table, ib_uverbs_ex_destroy_rwq_ind_table,
		empty);
DECLARE_CMD_EX(IB_USER_VERBS_EX_CMD_DESTROY_WQ, ibv_destroy_wq,
	       ib_uverbs_ex_destroy_wq);
DECLARE_CMD_EXX(IB_USER_VERBS_EX_CMD_MODIFY_CQ, ibv_modify_cq,
		ib_uverbs_ex_modify_cq, empty);
DECLARE_CMD_EX(IB_USER_VERBS_EX_CMD_MODIFY_QP, ibv_modify_qp_ex,
	       ib_uverbs_ex_modify_qp);
DECLARE_CMD_EXX(IB_USER_VERBS_EX_CMD_MODIFY_WQ, ibv_modify_wq,
		ib_uverbs_ex_modify_wq, empty);
DECLARE_CMD_EX(IB_USER_VERBS_EX_CMD_QUERY_DEVICE, ibv_query_device_ex,
	       ib_uverbs_ex_query_device);

/*
 * ib_uverbs_create_qp and ib_uverbs_ex_create_qp share their leading
 * members from user_handle on; this views an ex request as the legacy one
 * (as v44.0 does).  'response' is not at the same place, so it must not be
 * touched through the result.
 */
static inline struct ib_uverbs_create_qp *
ibv_create_qp_ex_to_reg(struct ibv_create_qp_ex *cmd_ex)
{
	return (struct ib_uverbs_create_qp *)((char *)&cmd_ex->user_handle -
					      offsetof(struct ib_uverbs_create_qp,
						       user_handle));
}

#endif /* INFINIBAND_KERN_ABI_H */
