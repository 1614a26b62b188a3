/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Placeholder for the header rdma-core generates from kernel-headers/rdma/
 * uet-abi.h (the _STRUCT_<tag> macros, see gen-kernel-abi.py).  Our
 * DECLARE_DRV_CMD() names the driver payload only as 'drv_payload' and
 * needs none of them, so out of tree this header is empty; the uet structs
 * themselves come from <rdma/uet-abi.h> (the kernel driver's uapi header,
 * found through the provider's include path).
 */
#ifndef UET_KERNEL_ABI_UET_ABI_H
#define UET_KERNEL_ABI_UET_ABI_H
#endif
