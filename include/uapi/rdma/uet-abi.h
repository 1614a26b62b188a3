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

/* Matched by the provider's match_{min,max}_abi_version. */
#define UET_UVERBS_ABI_VERSION 1

/*
 * Driver id carried in every uverbs ioctl header and reported over
 * netlink.  enum rdma_driver_id has no entry for uet yet; the value is
 * far above the upstream range so a future upstream id cannot collide.
 * It becomes RDMA_DRIVER_UET in ib_user_ioctl_verbs.h when assigned.
 */
#define RDMA_DRIVER_UET 0x80

struct uet_alloc_ucontext_cmd {
	__u32 comp_mask;
	__u32 reserved_20;
};

struct uet_alloc_ucontext_resp {
	__u32 comp_mask;
	__u32 reserved_20;
};

struct uet_create_ah_resp {
	__u32 comp_mask;
	/* Names this address handle in UD work requests. */
	__u32 ah_id;
};

#endif /* UET_ABI_USER_H */
