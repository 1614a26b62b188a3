/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Stand-in for the config.h that rdma-core's cmake generates in its build
 * tree.  Its private headers and providers start with '#include
 * <config.h>'; an out-of-tree uet provider built against Debian's
 * libibverbs 44 only needs the few values below.  Nothing here changes an
 * ABI.
 */
#ifndef UET_RDMA_CORE_V44_CONFIG_H
#define UET_RDMA_CORE_V44_CONFIG_H

/* The rdma-core release whose private provider ABI these headers mirror. */
#define PACKAGE_VERSION "44.0"

/* libibverbs' private ABI: providers are lib<name>-rdmav34.so. */
#define IBVERBS_PABI_VERSION 34

/* Debian's provider directory (for messages/install scripts only). */
#define VERBS_PROVIDER_DIR "/usr/lib/x86_64-linux-gnu/libibverbs"

/* rdma-core builds with both the write() and ioctl() command paths. */
#define VERBS_IOCTL_ONLY 0
#define VERBS_WRITE_ONLY 0

#endif
