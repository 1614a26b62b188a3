/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bindings of the uet kernel ABI (rdma/uet-abi.h) to libibverbs command
 * buffers, named uet_cmd_<verb>.  Driver fields are reached through
 * .drv_payload.
 */
#ifndef __UET_ABI_H__
#define __UET_ABI_H__

#include <infiniband/kern-abi.h>
#include <rdma/uet-abi.h>
#include <kernel-abi/uet-abi.h>

DECLARE_DRV_CMD(uet_cmd_get_context, IB_USER_VERBS_CMD_GET_CONTEXT,
		uet_alloc_ucontext_cmd, uet_alloc_ucontext_resp);

DECLARE_DRV_CMD(uet_cmd_reg_mr, IB_USER_VERBS_CMD_REG_MR,
		uet_reg_mr_cmd, empty);

DECLARE_DRV_CMD(uet_cmd_create_ah, IB_USER_VERBS_CMD_CREATE_AH,
		empty, uet_create_ah_resp);

DECLARE_DRV_CMD(uet_cmd_create_cq, IB_USER_VERBS_CMD_CREATE_CQ,
		uet_create_cq_cmd, uet_create_cq_resp);

DECLARE_DRV_CMD(uet_cmd_create_cq_ex, IB_USER_VERBS_EX_CMD_CREATE_CQ,
		uet_create_cq_cmd, uet_create_cq_resp);

DECLARE_DRV_CMD(uet_cmd_resize_cq, IB_USER_VERBS_CMD_RESIZE_CQ,
		uet_resize_cq_cmd, uet_resize_cq_resp);

DECLARE_DRV_CMD(uet_cmd_create_qp, IB_USER_VERBS_EX_CMD_CREATE_QP,
		uet_create_qp_cmd, uet_create_qp_resp);

DECLARE_DRV_CMD(uet_cmd_create_srq, IB_USER_VERBS_CMD_CREATE_XSRQ,
		uet_create_srq_cmd, uet_create_srq_resp);

#endif /* __UET_ABI_H__ */
