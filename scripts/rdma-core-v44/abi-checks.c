// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Compile-time check that scripts/rdma-core-v44/include declares rdma-core
 * v44.0's private provider ABI (IBVERBS_PRIVATE_34) with v44.0's layout.
 *
 *   gcc -std=gnu11 -Wall -Wextra -Werror \
 *       -I scripts/rdma-core-v44/include -c scripts/rdma-core-v44/abi-checks.c
 *
 * fails on any difference.  The numbers are transcribed from
 * shared/docs/rdma-core-v44-abi-facts.md (measured on x86_64 against the
 * v44.0 tree with Debian 12's gcc); the DECLARE_DRV_CMD section compares
 * our macro with the layout of v44.0's own macro.
 */
#include <stddef.h>
#include <stdint.h>

#include <infiniband/driver.h>
#include <infiniband/cmd_write.h>

#if !defined(__x86_64__)
#error "the v44.0 layout facts were measured on x86_64"
#endif

#define SIZE(type, n) static_assert(sizeof(type) == (n), #type " size")
#define OFF(type, memb, n)                                                     \
	static_assert(offsetof(type, memb) == (n), #type "." #memb " offset")

/* struct verbs_device_ops */
SIZE(struct verbs_device_ops, 72);
OFF(struct verbs_device_ops, name, 0);
OFF(struct verbs_device_ops, match_min_abi_version, 8);
OFF(struct verbs_device_ops, match_max_abi_version, 12);
OFF(struct verbs_device_ops, match_table, 16);
OFF(struct verbs_device_ops, static_providers, 24);
OFF(struct verbs_device_ops, match_device, 32);
OFF(struct verbs_device_ops, alloc_context, 40);
OFF(struct verbs_device_ops, import_context, 48);
OFF(struct verbs_device_ops, alloc_device, 56);
OFF(struct verbs_device_ops, uninit_device, 64);

/* struct verbs_device */
SIZE(struct verbs_device, 712);
OFF(struct verbs_device, device, 0);
OFF(struct verbs_device, ops, 664);
OFF(struct verbs_device, refcount, 672);
OFF(struct verbs_device, entry, 680);
OFF(struct verbs_device, sysfs, 696);
OFF(struct verbs_device, core_support, 704);

/* struct verbs_sysfs_dev */
SIZE(struct verbs_sysfs_dev, 992);
OFF(struct verbs_sysfs_dev, entry, 0);
OFF(struct verbs_sysfs_dev, provider_data, 16);
OFF(struct verbs_sysfs_dev, match, 24);
OFF(struct verbs_sysfs_dev, flags, 32);
OFF(struct verbs_sysfs_dev, sysfs_name, 36);
OFF(struct verbs_sysfs_dev, sysfs_cdev, 104);
OFF(struct verbs_sysfs_dev, ibdev_name, 112);
OFF(struct verbs_sysfs_dev, ibdev_path, 176);
OFF(struct verbs_sysfs_dev, modalias, 432);
OFF(struct verbs_sysfs_dev, node_guid, 944);
OFF(struct verbs_sysfs_dev, driver_id, 952);
OFF(struct verbs_sysfs_dev, node_type, 956);
OFF(struct verbs_sysfs_dev, ibdev_idx, 960);
OFF(struct verbs_sysfs_dev, num_ports, 964);
OFF(struct verbs_sysfs_dev, abi_ver, 968);
OFF(struct verbs_sysfs_dev, time_created, 976);

/* struct verbs_match_ent */
SIZE(struct verbs_match_ent, 24);
OFF(struct verbs_match_ent, driver_data, 0);
OFF(struct verbs_match_ent, u, 8);
OFF(struct verbs_match_ent, vendor, 16);
OFF(struct verbs_match_ent, device, 18);
OFF(struct verbs_match_ent, kind, 20);

/* struct verbs_context_ops */
SIZE(struct verbs_context_ops, 608);
OFF(struct verbs_context_ops, advise_mr, 0);
OFF(struct verbs_context_ops, alloc_dm, 8);
OFF(struct verbs_context_ops, alloc_mw, 16);
OFF(struct verbs_context_ops, alloc_null_mr, 24);
OFF(struct verbs_context_ops, alloc_parent_domain, 32);
OFF(struct verbs_context_ops, alloc_pd, 40);
OFF(struct verbs_context_ops, alloc_td, 48);
OFF(struct verbs_context_ops, async_event, 56);
OFF(struct verbs_context_ops, attach_counters_point_flow, 64);
OFF(struct verbs_context_ops, attach_mcast, 72);
OFF(struct verbs_context_ops, bind_mw, 80);
OFF(struct verbs_context_ops, close_xrcd, 88);
OFF(struct verbs_context_ops, cq_event, 96);
OFF(struct verbs_context_ops, create_ah, 104);
OFF(struct verbs_context_ops, create_counters, 112);
OFF(struct verbs_context_ops, create_cq, 120);
OFF(struct verbs_context_ops, create_cq_ex, 128);
OFF(struct verbs_context_ops, create_flow, 136);
OFF(struct verbs_context_ops, create_flow_action_esp, 144);
OFF(struct verbs_context_ops, create_qp, 152);
OFF(struct verbs_context_ops, create_qp_ex, 160);
OFF(struct verbs_context_ops, create_rwq_ind_table, 168);
OFF(struct verbs_context_ops, create_srq, 176);
OFF(struct verbs_context_ops, create_srq_ex, 184);
OFF(struct verbs_context_ops, create_wq, 192);
OFF(struct verbs_context_ops, dealloc_mw, 200);
OFF(struct verbs_context_ops, dealloc_pd, 208);
OFF(struct verbs_context_ops, dealloc_td, 216);
OFF(struct verbs_context_ops, dereg_mr, 224);
OFF(struct verbs_context_ops, destroy_ah, 232);
OFF(struct verbs_context_ops, destroy_counters, 240);
OFF(struct verbs_context_ops, destroy_cq, 248);
OFF(struct verbs_context_ops, destroy_flow, 256);
OFF(struct verbs_context_ops, destroy_flow_action, 264);
OFF(struct verbs_context_ops, destroy_qp, 272);
OFF(struct verbs_context_ops, destroy_rwq_ind_table, 280);
OFF(struct verbs_context_ops, destroy_srq, 288);
OFF(struct verbs_context_ops, destroy_wq, 296);
OFF(struct verbs_context_ops, detach_mcast, 304);
OFF(struct verbs_context_ops, free_context, 312);
OFF(struct verbs_context_ops, free_dm, 320);
OFF(struct verbs_context_ops, get_srq_num, 328);
OFF(struct verbs_context_ops, import_dm, 336);
OFF(struct verbs_context_ops, import_mr, 344);
OFF(struct verbs_context_ops, import_pd, 352);
OFF(struct verbs_context_ops, modify_cq, 360);
OFF(struct verbs_context_ops, modify_flow_action_esp, 368);
OFF(struct verbs_context_ops, modify_qp, 376);
OFF(struct verbs_context_ops, modify_qp_rate_limit, 384);
OFF(struct verbs_context_ops, modify_srq, 392);
OFF(struct verbs_context_ops, modify_wq, 400);
OFF(struct verbs_context_ops, open_qp, 408);
OFF(struct verbs_context_ops, open_xrcd, 416);
OFF(struct verbs_context_ops, poll_cq, 424);
OFF(struct verbs_context_ops, post_recv, 432);
OFF(struct verbs_context_ops, post_send, 440);
OFF(struct verbs_context_ops, post_srq_ops, 448);
OFF(struct verbs_context_ops, post_srq_recv, 456);
OFF(struct verbs_context_ops, query_device_ex, 464);
OFF(struct verbs_context_ops, query_ece, 472);
OFF(struct verbs_context_ops, query_port, 480);
OFF(struct verbs_context_ops, query_qp, 488);
OFF(struct verbs_context_ops, query_qp_data_in_order, 496);
OFF(struct verbs_context_ops, query_rt_values, 504);
OFF(struct verbs_context_ops, query_srq, 512);
OFF(struct verbs_context_ops, read_counters, 520);
OFF(struct verbs_context_ops, reg_dm_mr, 528);
OFF(struct verbs_context_ops, reg_dmabuf_mr, 536);
OFF(struct verbs_context_ops, reg_mr, 544);
OFF(struct verbs_context_ops, req_notify_cq, 552);
OFF(struct verbs_context_ops, rereg_mr, 560);
OFF(struct verbs_context_ops, resize_cq, 568);
OFF(struct verbs_context_ops, set_ece, 576);
OFF(struct verbs_context_ops, unimport_dm, 584);
OFF(struct verbs_context_ops, unimport_mr, 592);
OFF(struct verbs_context_ops, unimport_pd, 600);

/* struct verbs_qp */
SIZE(struct verbs_qp, 368);
OFF(struct verbs_qp, qp, 0);
OFF(struct verbs_qp, qp_ex, 0);
OFF(struct verbs_qp, comp_mask, 352);
OFF(struct verbs_qp, xrcd, 360);

/* struct verbs_cq */
SIZE(struct verbs_cq, 288);
OFF(struct verbs_cq, cq, 0);
OFF(struct verbs_cq, cq_ex, 0);

/* struct verbs_srq */
SIZE(struct verbs_srq, 160);
OFF(struct verbs_srq, srq, 0);
OFF(struct verbs_srq, srq_type, 128);
OFF(struct verbs_srq, xrcd, 136);
OFF(struct verbs_srq, cq, 144);
OFF(struct verbs_srq, srq_num, 152);

/* struct verbs_mr */
SIZE(struct verbs_mr, 56);
OFF(struct verbs_mr, ibv_mr, 0);
OFF(struct verbs_mr, mr_type, 48);
OFF(struct verbs_mr, access, 52);

/* verbs_context_ops: 76 pointers, nothing else, in alphabetical order. */
static_assert(sizeof(struct verbs_context_ops) / sizeof(void *) == 76,
	      "verbs_context_ops op count");

/* Command wrappers (rdma-core header + kernel payload) and payloads. */
SIZE(struct ib_uverbs_cmd_hdr, 8);
SIZE(struct ex_hdr, 24);
OFF(struct ex_hdr, ex_hdr, 8);
SIZE(struct ibv_alloc_mw, 24);
SIZE(struct ib_uverbs_alloc_mw, 16);
OFF(struct ibv_alloc_mw, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_ALLOC_MW), struct ibv_alloc_mw), "ibv_alloc_mw");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_ALLOC_MW), struct ib_uverbs_alloc_mw), "ib_uverbs_alloc_mw");
SIZE(struct ibv_alloc_pd, 16);
SIZE(struct ib_uverbs_alloc_pd, 8);
OFF(struct ibv_alloc_pd, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_ALLOC_PD), struct ibv_alloc_pd), "ibv_alloc_pd");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_ALLOC_PD), struct ib_uverbs_alloc_pd), "ib_uverbs_alloc_pd");
SIZE(struct ibv_create_ah, 64);
SIZE(struct ib_uverbs_create_ah, 56);
OFF(struct ibv_create_ah, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_CREATE_AH), struct ibv_create_ah), "ibv_create_ah");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_CREATE_AH), struct ib_uverbs_create_ah), "ib_uverbs_create_ah");
SIZE(struct ibv_create_comp_channel, 16);
SIZE(struct ib_uverbs_create_comp_channel, 8);
OFF(struct ibv_create_comp_channel, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_CREATE_COMP_CHANNEL), struct ibv_create_comp_channel), "ibv_create_comp_channel");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_CREATE_COMP_CHANNEL), struct ib_uverbs_create_comp_channel), "ib_uverbs_create_comp_channel");
SIZE(struct ibv_create_cq, 40);
SIZE(struct ib_uverbs_create_cq, 32);
OFF(struct ibv_create_cq, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_CREATE_CQ), struct ibv_create_cq), "ibv_create_cq");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_CREATE_CQ), struct ib_uverbs_create_cq), "ib_uverbs_create_cq");
SIZE(struct ibv_create_qp, 64);
SIZE(struct ib_uverbs_create_qp, 56);
OFF(struct ibv_create_qp, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_CREATE_QP), struct ibv_create_qp), "ibv_create_qp");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_CREATE_QP), struct ib_uverbs_create_qp), "ib_uverbs_create_qp");
SIZE(struct ibv_create_srq, 40);
SIZE(struct ib_uverbs_create_srq, 32);
OFF(struct ibv_create_srq, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_CREATE_SRQ), struct ibv_create_srq), "ibv_create_srq");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_CREATE_SRQ), struct ib_uverbs_create_srq), "ib_uverbs_create_srq");
SIZE(struct ibv_destroy_cq, 24);
SIZE(struct ib_uverbs_destroy_cq, 16);
OFF(struct ibv_destroy_cq, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_DESTROY_CQ), struct ibv_destroy_cq), "ibv_destroy_cq");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_DESTROY_CQ), struct ib_uverbs_destroy_cq), "ib_uverbs_destroy_cq");
SIZE(struct ibv_destroy_qp, 24);
SIZE(struct ib_uverbs_destroy_qp, 16);
OFF(struct ibv_destroy_qp, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_DESTROY_QP), struct ibv_destroy_qp), "ibv_destroy_qp");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_DESTROY_QP), struct ib_uverbs_destroy_qp), "ib_uverbs_destroy_qp");
SIZE(struct ibv_destroy_srq, 24);
SIZE(struct ib_uverbs_destroy_srq, 16);
OFF(struct ibv_destroy_srq, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_DESTROY_SRQ), struct ibv_destroy_srq), "ibv_destroy_srq");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_DESTROY_SRQ), struct ib_uverbs_destroy_srq), "ib_uverbs_destroy_srq");
SIZE(struct ibv_get_context, 16);
SIZE(struct ib_uverbs_get_context, 8);
OFF(struct ibv_get_context, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_GET_CONTEXT), struct ibv_get_context), "ibv_get_context");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_GET_CONTEXT), struct ib_uverbs_get_context), "ib_uverbs_get_context");
SIZE(struct ibv_open_xrcd, 24);
SIZE(struct ib_uverbs_open_xrcd, 16);
OFF(struct ibv_open_xrcd, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_OPEN_XRCD), struct ibv_open_xrcd), "ibv_open_xrcd");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_OPEN_XRCD), struct ib_uverbs_open_xrcd), "ib_uverbs_open_xrcd");
SIZE(struct ibv_poll_cq, 24);
SIZE(struct ib_uverbs_poll_cq, 16);
OFF(struct ibv_poll_cq, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_POLL_CQ), struct ibv_poll_cq), "ibv_poll_cq");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_POLL_CQ), struct ib_uverbs_poll_cq), "ib_uverbs_poll_cq");
SIZE(struct ibv_post_recv, 32);
SIZE(struct ib_uverbs_post_recv, 24);
OFF(struct ibv_post_recv, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_POST_RECV), struct ibv_post_recv), "ibv_post_recv");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_POST_RECV), struct ib_uverbs_post_recv), "ib_uverbs_post_recv");
SIZE(struct ibv_post_send, 32);
SIZE(struct ib_uverbs_post_send, 24);
OFF(struct ibv_post_send, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_POST_SEND), struct ibv_post_send), "ibv_post_send");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_POST_SEND), struct ib_uverbs_post_send), "ib_uverbs_post_send");
SIZE(struct ibv_post_srq_recv, 32);
SIZE(struct ib_uverbs_post_srq_recv, 24);
OFF(struct ibv_post_srq_recv, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_POST_SRQ_RECV), struct ibv_post_srq_recv), "ibv_post_srq_recv");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_POST_SRQ_RECV), struct ib_uverbs_post_srq_recv), "ib_uverbs_post_srq_recv");
SIZE(struct ibv_query_device, 16);
SIZE(struct ib_uverbs_query_device, 8);
OFF(struct ibv_query_device, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_QUERY_DEVICE), struct ibv_query_device), "ibv_query_device");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_QUERY_DEVICE), struct ib_uverbs_query_device), "ib_uverbs_query_device");
SIZE(struct ibv_query_port, 24);
SIZE(struct ib_uverbs_query_port, 16);
OFF(struct ibv_query_port, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_QUERY_PORT), struct ibv_query_port), "ibv_query_port");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_QUERY_PORT), struct ib_uverbs_query_port), "ib_uverbs_query_port");
SIZE(struct ibv_query_qp, 24);
SIZE(struct ib_uverbs_query_qp, 16);
OFF(struct ibv_query_qp, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_QUERY_QP), struct ibv_query_qp), "ibv_query_qp");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_QUERY_QP), struct ib_uverbs_query_qp), "ib_uverbs_query_qp");
SIZE(struct ibv_query_srq, 24);
SIZE(struct ib_uverbs_query_srq, 16);
OFF(struct ibv_query_srq, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_QUERY_SRQ), struct ibv_query_srq), "ibv_query_srq");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_QUERY_SRQ), struct ib_uverbs_query_srq), "ib_uverbs_query_srq");
SIZE(struct ibv_reg_mr, 48);
SIZE(struct ib_uverbs_reg_mr, 40);
OFF(struct ibv_reg_mr, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_REG_MR), struct ibv_reg_mr), "ibv_reg_mr");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_REG_MR), struct ib_uverbs_reg_mr), "ib_uverbs_reg_mr");
SIZE(struct ibv_rereg_mr, 56);
SIZE(struct ib_uverbs_rereg_mr, 48);
OFF(struct ibv_rereg_mr, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_REREG_MR), struct ibv_rereg_mr), "ibv_rereg_mr");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_REREG_MR), struct ib_uverbs_rereg_mr), "ib_uverbs_rereg_mr");
SIZE(struct ibv_resize_cq, 24);
SIZE(struct ib_uverbs_resize_cq, 16);
OFF(struct ibv_resize_cq, core_payload, 8);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_CMD_RESIZE_CQ), struct ibv_resize_cq), "ibv_resize_cq");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_CMD_RESIZE_CQ), struct ib_uverbs_resize_cq), "ib_uverbs_resize_cq");
SIZE(struct ibv_create_cq_ex, 56);
SIZE(struct ib_uverbs_ex_create_cq, 32);
OFF(struct ibv_create_cq_ex, core_payload, 24);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_EX_CMD_CREATE_CQ), struct ibv_create_cq_ex), "ibv_create_cq_ex");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_EX_CMD_CREATE_CQ), struct ib_uverbs_ex_create_cq), "ib_uverbs_ex_create_cq");
SIZE(struct ibv_create_flow, 48);
SIZE(struct ib_uverbs_create_flow, 24);
OFF(struct ibv_create_flow, core_payload, 24);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_EX_CMD_CREATE_FLOW), struct ibv_create_flow), "ibv_create_flow");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_EX_CMD_CREATE_FLOW), struct ib_uverbs_create_flow), "ib_uverbs_create_flow");
SIZE(struct ibv_create_qp_ex, 88);
SIZE(struct ib_uverbs_ex_create_qp, 64);
OFF(struct ibv_create_qp_ex, core_payload, 24);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_EX_CMD_CREATE_QP), struct ibv_create_qp_ex), "ibv_create_qp_ex");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_EX_CMD_CREATE_QP), struct ib_uverbs_ex_create_qp), "ib_uverbs_ex_create_qp");
SIZE(struct ibv_create_rwq_ind_table, 32);
SIZE(struct ib_uverbs_ex_create_rwq_ind_table, 8);
OFF(struct ibv_create_rwq_ind_table, core_payload, 24);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_EX_CMD_CREATE_RWQ_IND_TBL), struct ibv_create_rwq_ind_table), "ibv_create_rwq_ind_table");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_EX_CMD_CREATE_RWQ_IND_TBL), struct ib_uverbs_ex_create_rwq_ind_table), "ib_uverbs_ex_create_rwq_ind_table");
SIZE(struct ibv_create_wq, 64);
SIZE(struct ib_uverbs_ex_create_wq, 40);
OFF(struct ibv_create_wq, core_payload, 24);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_EX_CMD_CREATE_WQ), struct ibv_create_wq), "ibv_create_wq");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_EX_CMD_CREATE_WQ), struct ib_uverbs_ex_create_wq), "ib_uverbs_ex_create_wq");
SIZE(struct ibv_destroy_wq, 32);
SIZE(struct ib_uverbs_ex_destroy_wq, 8);
OFF(struct ibv_destroy_wq, core_payload, 24);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_EX_CMD_DESTROY_WQ), struct ibv_destroy_wq), "ibv_destroy_wq");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_EX_CMD_DESTROY_WQ), struct ib_uverbs_ex_destroy_wq), "ib_uverbs_ex_destroy_wq");
SIZE(struct ibv_modify_qp_ex, 144);
SIZE(struct ib_uverbs_ex_modify_qp, 120);
OFF(struct ibv_modify_qp_ex, core_payload, 24);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_EX_CMD_MODIFY_QP), struct ibv_modify_qp_ex), "ibv_modify_qp_ex");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_EX_CMD_MODIFY_QP), struct ib_uverbs_ex_modify_qp), "ib_uverbs_ex_modify_qp");
SIZE(struct ibv_query_device_ex, 32);
SIZE(struct ib_uverbs_ex_query_device, 8);
OFF(struct ibv_query_device_ex, core_payload, 24);
static_assert(__builtin_types_compatible_p(IBV_ABI_REQ(IB_USER_VERBS_EX_CMD_QUERY_DEVICE), struct ibv_query_device_ex), "ibv_query_device_ex");
static_assert(__builtin_types_compatible_p(IBV_KABI_REQ(IB_USER_VERBS_EX_CMD_QUERY_DEVICE), struct ib_uverbs_ex_query_device), "ib_uverbs_ex_query_device");
SIZE(struct ibv_modify_qp, 120);
SIZE(struct ibv_modify_srq, 24);
SIZE(struct ibv_create_xsrq, 56);

/* Kernel responses bound to the commands (IBV_KABI_RESP), as in v44.0. */
static_assert(__builtin_types_compatible_p(
		      IBV_KABI_RESP(IB_USER_VERBS_CMD_GET_CONTEXT),
		      struct ib_uverbs_get_context_resp), "get_context resp");
static_assert(__builtin_types_compatible_p(
		      IBV_KABI_RESP(IB_USER_VERBS_EX_CMD_QUERY_DEVICE),
		      struct ib_uverbs_ex_query_device_resp), "query_device_ex resp");
static_assert(__builtin_types_compatible_p(
		      IBV_KABI_RESP(IB_USER_VERBS_CMD_CREATE_XSRQ),
		      struct ib_uverbs_create_srq_resp), "create_xsrq resp");
static_assert(__builtin_types_compatible_p(
		      IBV_KABI_RESP(IB_USER_VERBS_CMD_OPEN_QP),
		      struct ib_uverbs_create_qp_resp), "open_qp resp");
static_assert(__builtin_types_compatible_p(
		      IBV_KABI_RESP(IB_USER_VERBS_CMD_MODIFY_QP), struct empty),
	      "modify_qp resp");
static_assert(sizeof(struct empty) == 0, "empty payload");
/* Driver output starts right after these, so their sizes are ABI too. */
SIZE(struct ib_uverbs_get_context_resp, 8);
SIZE(struct ib_uverbs_ex_query_device_resp, 304);
SIZE(struct ib_uverbs_create_cq_resp, 8);
SIZE(struct ib_uverbs_ex_create_cq_resp, 16);
SIZE(struct ib_uverbs_create_qp_resp, 32);
SIZE(struct ib_uverbs_ex_create_qp_resp, 40);
SIZE(struct ib_uverbs_alloc_pd_resp, 4);
SIZE(struct ib_uverbs_reg_mr_resp, 12);
SIZE(struct ib_uverbs_create_ah_resp, 4);
SIZE(struct ib_uverbs_create_srq_resp, 16);

/* Loose kernel members and core_payload alias the same bytes. */
OFF(struct ibv_create_qp, user_handle, 16);
OFF(struct ibv_create_qp, core_payload.user_handle, 16);
OFF(struct ibv_post_send, qp_handle, 16);
OFF(struct ibv_create_qp_ex, user_handle, 24);
OFF(struct ibv_query_device_ex, hdr.ex_hdr.response, 8);

/* ioctl() command buffer, read and written by execute_ioctl(). */
SIZE(struct ib_uverbs_attr, 16);
SIZE(struct ib_uverbs_ioctl_hdr, 24);
OFF(struct ibv_command_buffer, next, 0);
OFF(struct ibv_command_buffer, next_attr, 8);
OFF(struct ibv_command_buffer, last_attr, 16);
OFF(struct ibv_command_buffer, uhw_in_idx, 24);
OFF(struct ibv_command_buffer, uhw_out_idx, 25);
OFF(struct ibv_command_buffer, uhw_in_headroom_dwords, 26);
OFF(struct ibv_command_buffer, uhw_out_headroom_dwords, 27);
OFF(struct ibv_command_buffer, hdr, 32);
SIZE(struct ibv_command_buffer, 56);

/* The other structs the exported functions take. */
SIZE(struct verbs_xrcd, sizeof(struct ibv_xrcd) + 8);
OFF(struct verbs_xrcd, handle, sizeof(struct ibv_xrcd) + 4);
OFF(struct verbs_flow_action, handle, sizeof(struct ibv_flow_action));
OFF(struct verbs_dm, handle, sizeof(struct ibv_dm));
OFF(struct verbs_counters, handle, sizeof(struct ibv_counters));
static_assert(sizeof(verbs_allow_disassociate_destroy) == 1,
	      "verbs_allow_disassociate_destroy is a 1-byte bool");

/*
 * DECLARE_DRV_CMD: v44.0 puts the driver payload in an anonymous union of
 * the loose members and 'drv_payload'; ours has only 'drv_payload'.  Build
 * both for a legacy and an extended command and compare.
 */
struct abi_check_drv_req {
	__u32 a;
	__u32 b;
	__aligned_u64 c;
};
struct abi_check_drv_resp {
	__u32 x;
	__u32 y;
};
DECLARE_DRV_CMD(abi_check_ctx, IB_USER_VERBS_CMD_GET_CONTEXT,
		abi_check_drv_req, abi_check_drv_resp);
DECLARE_DRV_CMD(abi_check_qp, IB_USER_VERBS_EX_CMD_CREATE_QP,
		abi_check_drv_req, abi_check_drv_resp);
DECLARE_DRV_CMD(abi_check_pd, IB_USER_VERBS_CMD_ALLOC_PD, empty, empty);

#define V44_DRV_CMD(_name, _enum)                                              \
	_KABI_FLEX_NOT_AT_END_BEGIN                                            \
	struct v44_##_name {                                                   \
		IBV_ABI_REQ(_enum) ibv_cmd;                                    \
		union {                                                        \
			struct {                                               \
				__u32 a;                                       \
				__u32 b;                                       \
				__aligned_u64 c;                               \
			};                                                     \
			struct abi_check_drv_req drv_payload;                  \
		};                                                             \
	};                                                                     \
	struct v44_##_name##_resp {                                            \
		IBV_KABI_RESP(_enum) ibv_resp;                                 \
		union {                                                        \
			struct {                                               \
				__u32 x;                                       \
				__u32 y;                                       \
			};                                                     \
			struct abi_check_drv_resp drv_payload;                 \
		};                                                             \
	};                                                                     \
	_KABI_FLEX_NOT_AT_END_END                                              \
	struct v44_##_name##_dummy
V44_DRV_CMD(abi_check_ctx, IB_USER_VERBS_CMD_GET_CONTEXT);
V44_DRV_CMD(abi_check_qp, IB_USER_VERBS_EX_CMD_CREATE_QP);

#define SAME_LAYOUT(a, b)                                                      \
	static_assert(sizeof(struct a) == sizeof(struct b) &&                  \
			      offsetof(struct a, drv_payload) ==               \
				      offsetof(struct b, drv_payload) &&       \
			      _Alignof(struct a) == _Alignof(struct b),        \
		      #a " != v44.0 layout")
SAME_LAYOUT(abi_check_ctx, v44_abi_check_ctx);
SAME_LAYOUT(abi_check_ctx_resp, v44_abi_check_ctx_resp);
SAME_LAYOUT(abi_check_qp, v44_abi_check_qp);
SAME_LAYOUT(abi_check_qp_resp, v44_abi_check_qp_resp);
OFF(struct abi_check_ctx, drv_payload, 16);
OFF(struct abi_check_ctx_resp, drv_payload, 8);
OFF(struct abi_check_qp, drv_payload, 88);
OFF(struct abi_check_qp_resp, drv_payload, 40);
SIZE(struct abi_check_pd, 16);
SIZE(struct abi_check_pd_resp, 4);

/*
 * Prototypes: libibverbs' own helpers fit the op slots they are meant for
 * (providers plug them in directly, as rxe does).
 */
static const struct verbs_context_ops abi_check_ops
	__attribute__((unused)) = {
	.attach_mcast = ibv_cmd_attach_mcast,
	.detach_mcast = ibv_cmd_detach_mcast,
	.poll_cq = ibv_cmd_poll_cq,
	.post_recv = ibv_cmd_post_recv,
	.post_send = ibv_cmd_post_send,
	.post_srq_recv = ibv_cmd_post_srq_recv,
	.req_notify_cq = ibv_cmd_req_notify_cq,
	.advise_mr = ibv_cmd_advise_mr,
	.dealloc_pd = ibv_cmd_dealloc_pd,
	.destroy_ah = ibv_cmd_destroy_ah,
	.destroy_flow = ibv_cmd_destroy_flow,
	.destroy_wq = ibv_cmd_destroy_wq,
	.destroy_rwq_ind_table = ibv_cmd_destroy_rwq_ind_table,
	.dereg_mr = ibv_cmd_dereg_mr,
	.dealloc_mw = ibv_cmd_dealloc_mw,
};

/* Members whose width the offsets above cannot pin (trailing/padded). */
#define MSIZE(type, memb, n)                                                   \
	static_assert(sizeof(((type *)0)->memb) == (n), #type "." #memb " size")
MSIZE(struct verbs_match_ent, kind, 1);
MSIZE(struct verbs_sysfs_dev, flags, 4);
MSIZE(struct verbs_sysfs_dev, abi_ver, 4);
MSIZE(struct verbs_sysfs_dev, time_created, 16);
MSIZE(struct verbs_device, refcount, 4);
MSIZE(struct verbs_device, core_support, 8);
MSIZE(struct verbs_qp, comp_mask, 4);
MSIZE(struct verbs_srq, srq_type, 4);
MSIZE(struct verbs_srq, srq_num, 4);
MSIZE(struct verbs_mr, mr_type, 4);
MSIZE(struct verbs_mr, access, 4);
