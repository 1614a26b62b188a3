/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The part of rdma-core v44.0's libibverbs/cmd_write.h a provider can use
 * against Debian's libibverbs 44: the disassociate-destroy policy.  (The
 * rest of that header drives library-internal functions that libibverbs
 * does not export.)  Written for uet from the v44.0 facts; see
 * scripts/rdma-core-v44/README.
 */
#ifndef INFINIBAND_CMD_WRITE_H
#define INFINIBAND_CMD_WRITE_H

#include <errno.h>
#include <stdbool.h>

#include <infiniband/cmd_ioctl.h>
#include <infiniband/driver.h>

/*
 * Exported data object (IBVERBS_PRIVATE_34, 1 byte): set by libibverbs when
 * RDMAV_ALLOW_DISASSOC_DESTROY (or the old MLX4_DEVICE_FATAL_CLEANUP) is in
 * the environment.
 */
extern bool verbs_allow_disassociate_destroy;

/*
 * For destroy paths, used as 'if (verbs_is_destroy_err(&ret)) return ret;'
 * after the kernel command: true when the caller must stop.  An EIO from a
 * disassociated (hot-removed) device is turned into success (*ret = 0) when
 * verbs_allow_disassociate_destroy is set, and true is still returned, so
 * the caller returns 0 early.  libibverbs' ibv_cmd_destroy_* helpers
 * already apply this before they return.
 */
static inline bool verbs_is_destroy_err(int *ret)
{
	if (*ret == EIO && verbs_allow_disassociate_destroy) {
		*ret = 0;
		return true;
	}
	return *ret != 0;
}

#endif /* INFINIBAND_CMD_WRITE_H */
