/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ioctl() command-buffer part of rdma-core v44.0's private provider
 * interface: struct ibv_command_buffer, the DECLARE_COMMAND_BUFFER*()
 * macros and the fill_attr_*()/read_attr_*() helpers.
 *
 * Only execute_ioctl() and __ioctl_final_num_attrs() live in libibverbs
 * (IBVERBS_PRIVATE_34); everything else is inline in v44.0 and is
 * re-implemented here from its documented behaviour.  struct
 * ibv_command_buffer is read and written by execute_ioctl(), so its layout
 * must be exactly v44.0's (checked below and in abi-checks.c).  Written for
 * uet from those facts, not copied: see scripts/rdma-core-v44/README.
 *
 * The kernel side (struct ib_uverbs_attr, struct ib_uverbs_ioctl_hdr,
 * UVERBS_ATTR_F_*, object/method/attribute ids) comes from the installed
 * uapi headers.
 */
#ifndef INFINIBAND_CMD_IOCTL_H
#define INFINIBAND_CMD_IOCTL_H

#include <config.h>

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rdma/rdma_user_ioctl_cmds.h>
#include <infiniband/verbs.h>

/* The kernel takes every user pointer as a u64. */
static inline uint64_t ioctl_ptr_to_u64(const void *ptr)
{
	return (uintptr_t)ptr;
}

/*
 * One block of ioctl attributes.  Blocks are chained through 'next' from
 * the innermost caller (e.g. the provider) towards the frame that issues
 * the ioctl; execute_ioctl() gathers every block's filled attributes
 * into the first block's hdr.attrs[] (which therefore has room for all of
 * them) before calling the kernel.  [next_attr, last_attr) is the free
 * part of this block.
 */
struct ibv_command_buffer {
	struct ibv_command_buffer *next;
	struct ib_uverbs_attr *next_attr;
	struct ib_uverbs_attr *last_attr;
	/*
	 * Used by libibverbs' write() compatibility path: index of the
	 * driver-data (UHW) in/out attributes (_UHW_NO_INDEX if none) and the
	 * room, in 32-bit words, that the core command needs in front of the
	 * driver data.
	 */
	uint8_t uhw_in_idx;
	uint8_t uhw_out_idx;
	uint8_t uhw_in_headroom_dwords;
	uint8_t uhw_out_headroom_dwords;
	/* A fill_attr_*() got data it cannot marshal (e.g. len > 64k). */
	uint8_t buffer_error:1;
	/* Fallback controls when the kernel lacks the ioctl method. */
	uint8_t fallback_require_ex:1;
	uint8_t fallback_ioctl_only:1;
	/* Last member: its attrs[] flexible array runs into the storage. */
	struct ib_uverbs_ioctl_hdr hdr;
};

static_assert(offsetof(struct ibv_command_buffer, uhw_in_idx) == 24,
	      "struct ibv_command_buffer layout differs from rdma-core v44.0");
static_assert(offsetof(struct ibv_command_buffer, hdr) == 32,
	      "struct ibv_command_buffer layout differs from rdma-core v44.0");
static_assert(sizeof(struct ibv_command_buffer) == 56,
	      "struct ibv_command_buffer layout differs from rdma-core v44.0");

enum { _UHW_NO_INDEX = 0xFF };

/*
 * Number of struct ibv_command_buffer array elements whose storage holds
 * one command buffer plus _num_attrs trailing attributes.
 */
#define _IOCTL_NUM_CMDB(_num_attrs)                                            \
	((sizeof(struct ibv_command_buffer) +                                  \
	  sizeof(struct ib_uverbs_attr) * (_num_attrs) +                       \
	  sizeof(struct ibv_command_buffer) - 1) /                             \
	 sizeof(struct ibv_command_buffer))

/* num_attrs plus the attributes of every block chained from link. */
unsigned int __ioctl_final_num_attrs(unsigned int num_attrs,
				     struct ibv_command_buffer *link);

/* Without a link the count is a constant and no library call is needed. */
#define _ioctl_final_num_attrs(_num_attrs, _link)                              \
	((__builtin_constant_p(!(_link)) && !(_link)) ?                        \
		 (_num_attrs) :                                                \
		 __ioctl_final_num_attrs(_num_attrs, _link))

static inline int _ioctl_init_cmdb(struct ibv_command_buffer *cmd,
				   uint16_t object_id, uint16_t method_id,
				   size_t num_attrs,
				   struct ibv_command_buffer *link)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->hdr.object_id = object_id;
	cmd->hdr.method_id = method_id;
	cmd->next = link;
	cmd->uhw_in_idx = _UHW_NO_INDEX;
	cmd->uhw_out_idx = _UHW_NO_INDEX;
	cmd->next_attr = cmd->hdr.attrs;
	cmd->last_attr = cmd->hdr.attrs + num_attrs;
	return 0;
}

/*
 * Declare on the stack a command buffer '_name' (an array decaying to
 * struct ibv_command_buffer *) for method _method_id of object _object_id
 * with room for _num_attrs attributes of its own plus all attributes of
 * the chain _link.  _num_attrs need not be a constant (the array is a VLA).
 */
#define DECLARE_COMMAND_BUFFER_LINK(_name, _object_id, _method_id, _num_attrs, \
				    _link)                                     \
	const unsigned int __##_name##total =                                  \
		_ioctl_final_num_attrs(_num_attrs, _link);                     \
	struct ibv_command_buffer _name[_IOCTL_NUM_CMDB(__##_name##total)];    \
	int __attribute__((unused)) __##_name##dummy = _ioctl_init_cmdb(       \
		_name, _object_id, _method_id, __##_name##total, _link)

#define DECLARE_COMMAND_BUFFER(_name, _object_id, _method_id, _num_attrs)      \
	DECLARE_COMMAND_BUFFER_LINK(_name, _object_id, _method_id, _num_attrs, \
				    NULL)

/*
 * Issue the RDMA_VERBS_IOCTL.  libibverbs fills hdr.length, num_attrs and
 * hdr.driver_id (the driver_id given to verbs_init_and_alloc_context()).
 * Returns 0 or a positive errno.
 */
int execute_ioctl(struct ibv_context *context, struct ibv_command_buffer *cmd);

/* Take the next free attribute slot; every attribute starts mandatory. */
static inline struct ib_uverbs_attr *
_ioctl_next_attr(struct ibv_command_buffer *cmd, uint16_t attr_id)
{
	struct ib_uverbs_attr *attr;

	assert(cmd->next_attr < cmd->last_attr);
	attr = cmd->next_attr++;
	memset(attr, 0, sizeof(*attr));
	attr->attr_id = attr_id;
	attr->flags = UVERBS_ATTR_F_MANDATORY;
	return attr;
}

/* Turn a just-filled attribute into an optional one (NULL passes). */
static inline struct ib_uverbs_attr *attr_optional(struct ib_uverbs_attr *attr)
{
	if (attr)
		attr->flags &= ~UVERBS_ATTR_F_MANDATORY;
	return attr;
}

/* After the ioctl: did the kernel write this (optional) output attribute? */
static inline bool attr_output_valid(struct ib_uverbs_attr *attr)
{
	return attr && (attr->flags & UVERBS_ATTR_F_VALID_OUTPUT);
}

/* UVERBS_ATTR_TYPE_IDR input: an object handle, carried in 'data'. */
static inline struct ib_uverbs_attr *
fill_attr_in_obj(struct ibv_command_buffer *cmd, uint16_t attr_id, uint32_t idr)
{
	struct ib_uverbs_attr *attr = _ioctl_next_attr(cmd, attr_id);

	attr->data = idr;
	return attr;
}

/* UVERBS_ATTR_TYPE_IDR output (a new object): read back with read_attr_obj. */
static inline struct ib_uverbs_attr *
fill_attr_out_obj(struct ibv_command_buffer *cmd, uint16_t attr_id)
{
	return fill_attr_in_obj(cmd, attr_id, 0);
}

static inline uint32_t read_attr_obj(uint16_t attr_id,
				     struct ib_uverbs_attr *attr)
{
	assert(attr->attr_id == attr_id);
	(void)attr_id;
	return attr->data;
}

/*
 * UVERBS_ATTR_TYPE_PTR_IN: up to 8 bytes travel inline in 'data', larger
 * buffers by pointer.  The length must fit the 16-bit 'len'.
 */
static inline struct ib_uverbs_attr *
fill_attr_in(struct ibv_command_buffer *cmd, uint16_t attr_id, const void *data,
	     size_t len)
{
	struct ib_uverbs_attr *attr = _ioctl_next_attr(cmd, attr_id);

	if (__builtin_expect(len > UINT16_MAX, 0))
		cmd->buffer_error = 1;
	attr->len = len;
	if (len <= sizeof(uint64_t))
		memcpy(&attr->data, data, len);
	else
		attr->data = ioctl_ptr_to_u64(data);
	return attr;
}

#define fill_attr_in_ptr(cmd, attr_id, ptr)                                    \
	fill_attr_in(cmd, attr_id, ptr, sizeof(*(ptr)))

/* Inline 64-bit input. */
static inline struct ib_uverbs_attr *
fill_attr_in_uint64(struct ibv_command_buffer *cmd, uint16_t attr_id,
		    uint64_t data)
{
	struct ib_uverbs_attr *attr = _ioctl_next_attr(cmd, attr_id);

	attr->len = sizeof(data);
	attr->data = data;
	return attr;
}

/* A constant input (UVERBS_ATTR_CONST_IN) travels as a u64. */
#define fill_attr_const_in(cmd, attr_id, _data)                                \
	fill_attr_in_uint64(cmd, attr_id, _data)

/* Inline 32-bit input (in the first 4 bytes of 'data'). */
static inline struct ib_uverbs_attr *
fill_attr_in_uint32(struct ibv_command_buffer *cmd, uint16_t attr_id,
		    uint32_t data)
{
	struct ib_uverbs_attr *attr = _ioctl_next_attr(cmd, attr_id);

	attr->len = sizeof(data);
	memcpy(&attr->data, &data, sizeof(data));
	return attr;
}

/* UVERBS_ATTR_TYPE_FD input; fd == -1 adds nothing and returns NULL. */
static inline struct ib_uverbs_attr *
fill_attr_in_fd(struct ibv_command_buffer *cmd, uint16_t attr_id, int fd)
{
	struct ib_uverbs_attr *attr;

	if (fd == -1)
		return NULL;
	attr = _ioctl_next_attr(cmd, attr_id);
	attr->data = fd;
	return attr;
}

/* UVERBS_ATTR_TYPE_FD output (the fd argument is unused, as in v44.0). */
static inline struct ib_uverbs_attr *
fill_attr_out_fd(struct ibv_command_buffer *cmd, uint16_t attr_id, int fd)
{
	struct ib_uverbs_attr *attr = _ioctl_next_attr(cmd, attr_id);

	(void)fd;
	attr->data = 0;
	return attr;
}

static inline int read_attr_fd(uint16_t attr_id, struct ib_uverbs_attr *attr)
{
	assert(attr->attr_id == attr_id);
	(void)attr_id;
	return attr->data;
}

/* UVERBS_ATTR_TYPE_PTR_OUT: always by pointer. */
static inline struct ib_uverbs_attr *
fill_attr_out(struct ibv_command_buffer *cmd, uint16_t attr_id, void *data,
	      size_t len)
{
	struct ib_uverbs_attr *attr = _ioctl_next_attr(cmd, attr_id);

	if (__builtin_expect(len > UINT16_MAX, 0))
		cmd->buffer_error = 1;
	attr->len = len;
	attr->data = ioctl_ptr_to_u64(data);
	return attr;
}

#define fill_attr_out_ptr(cmd, attr_id, ptr)                                   \
	fill_attr_out(cmd, attr_id, ptr, sizeof(*(ptr)))

/* size * nelems, or SIZE_MAX on overflow (which then sets buffer_error). */
static inline size_t _array_len(size_t size, size_t nelems)
{
	if (size != 0 && SIZE_MAX / size <= nelems)
		return SIZE_MAX;
	return size * nelems;
}

#define fill_attr_out_ptr_array(cmd, attr_id, ptr, nelems)                     \
	fill_attr_out(cmd, attr_id, ptr, _array_len(sizeof(*(ptr)), nelems))

#define fill_attr_in_ptr_array(cmd, attr_id, ptr, nelems)                      \
	fill_attr_in(cmd, attr_id, ptr, _array_len(sizeof(*(ptr)), nelems))

static inline size_t __check_divide(size_t val, unsigned int div)
{
	assert(val % div == 0);
	return val / div;
}

/* UVERBS_ATTR_TYPE_ENUM_IN: a PTR_IN plus the chosen element id. */
static inline struct ib_uverbs_attr *
fill_attr_in_enum(struct ibv_command_buffer *cmd, uint16_t attr_id,
		  uint8_t elem_id, const void *data, size_t len)
{
	struct ib_uverbs_attr *attr = fill_attr_in(cmd, attr_id, data, len);

	attr->attr_data.enum_data.elem_id = elem_id;
	return attr;
}

/* UVERBS_ATTR_TYPE_IDRS_ARRAY input: an array of u32 handles. */
static inline struct ib_uverbs_attr *
fill_attr_in_objs_arr(struct ibv_command_buffer *cmd, uint16_t attr_id,
		      const uint32_t *idrs_arr, size_t nelems)
{
	return fill_attr_in(cmd, attr_id, idrs_arr,
			    _array_len(sizeof(*idrs_arr), nelems));
}

/* Search the filled attributes of a chain of blocks for attr_id. */
static inline struct ib_uverbs_attr *
find_attr_by_id(struct ibv_command_buffer *link, uint16_t attr_id)
{
	struct ib_uverbs_attr *attr;

	for (; link; link = link->next)
		for (attr = link->hdr.attrs; attr < link->next_attr; attr++)
			if (attr->attr_id == attr_id)
				return attr;
	return NULL;
}

#endif /* INFINIBAND_CMD_IOCTL_H */
