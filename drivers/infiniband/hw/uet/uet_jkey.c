// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * UET job keys (driver uverbs object UET_OBJECT_JKEY).  A job key binds a
 * job to a protection domain; queue pairs and work requests name the job
 * they act for by its 32-bit value, never by the privileged JobID, and
 * the device checks that key and queue pair share the protection domain.
 */
#define UVERBS_MODULE_NAME uet_ib
#include <rdma/uverbs_named_ioctl.h>
#include <rdma/uverbs_std_types.h>

#include "uet.h"

/**
 * uet_jkey_get - take the job key @key of @pd for a queue pair
 * @udev: the device
 * @key: the job key's value
 * @pd: the queue pair's protection domain
 *
 * Return: the key, which cannot be destroyed until uet_jkey_put(); NULL
 * if @pd has no such key.
 */
struct uet_jkey *uet_jkey_get(struct uet_dev *udev, u32 key, struct ib_pd *pd)
{
	struct uet_jkey *jkey;

	xa_lock_bh(&udev->jkeys);
	jkey = xa_load(&udev->jkeys, key);
	if (jkey && jkey->pd == pd)
		atomic_inc(&jkey->usecnt);
	else
		jkey = NULL;
	xa_unlock_bh(&udev->jkeys);
	return jkey;
}

void uet_jkey_put(struct uet_jkey *jkey)
{
	atomic_dec(&jkey->usecnt);
}

static int uet_jkey_uobj_cleanup(struct ib_uobject *uobj,
				 enum rdma_remove_reason why,
				 struct uverbs_attr_bundle *attrs)
{
	struct uet_dev *udev = to_uet_dev(uobj->context->device);
	struct uet_jkey *jkey = uobj->object;

	/* In use: refused on DESTROY, retried after its users on cleanup. */
	if (atomic_read(&jkey->usecnt))
		return -EBUSY;

	xa_erase_bh(&udev->jkeys, jkey->key);
	atomic_dec(&jkey->pd->usecnt);
	uet_job_put(jkey->job);
	atomic_dec(&udev->num_jkeys);
	kfree(jkey);
	return 0;
}

static int UVERBS_HANDLER(UET_METHOD_JKEY_CREATE)(struct uverbs_attr_bundle *attrs)
{
	struct ib_uobject *uobj = uverbs_attr_get_uobject(attrs,
					UET_ATTR_JKEY_CREATE_HANDLE);
	struct uet_dev *udev = to_uet_dev(uobj->context->device);
	struct uet_jkey *jkey;
	struct uet_job *job;
	struct ib_pd *pd;
	u32 flags;
	int err;

	pd = uverbs_attr_get_obj(attrs, UET_ATTR_JKEY_CREATE_PD_HANDLE);
	job = uverbs_attr_get_obj(attrs, UET_ATTR_JKEY_CREATE_JOB_HANDLE);
	err = uverbs_get_flags32(&flags, attrs, UET_ATTR_JKEY_CREATE_FLAGS, 0);
	if (err)
		return err;

	if (atomic_inc_return(&udev->num_jkeys) > UET_MAX_JKEYS) {
		ibdev_dbg(&udev->ibdev, "jkey: max_jkeys reached\n");
		err = -ENOSPC;
		goto err_count;
	}
	jkey = kzalloc(sizeof(*jkey), GFP_KERNEL);
	if (!jkey) {
		err = -ENOMEM;
		goto err_count;
	}
	jkey->job = job;
	jkey->pd = pd;
	err = xa_alloc_cyclic_bh(&udev->jkeys, &jkey->key, jkey, xa_limit_32b,
				 &udev->jkey_next, GFP_KERNEL);
	if (err < 0)
		goto err_free;

	uet_job_get(job);
	atomic_inc(&pd->usecnt);
	uobj->object = jkey;
	uverbs_finalize_uobj_create(attrs, UET_ATTR_JKEY_CREATE_HANDLE);
	return uverbs_copy_to(attrs, UET_ATTR_JKEY_CREATE_JKEY, &jkey->key,
			      sizeof(jkey->key));

err_free:
	kfree(jkey);
err_count:
	atomic_dec(&udev->num_jkeys);
	return err;
}

DECLARE_UVERBS_NAMED_METHOD(UET_METHOD_JKEY_CREATE,
			    UVERBS_ATTR_IDR(UET_ATTR_JKEY_CREATE_HANDLE, UET_OBJECT_JKEY,
					    UVERBS_ACCESS_NEW, UA_MANDATORY),
			    UVERBS_ATTR_IDR(UET_ATTR_JKEY_CREATE_PD_HANDLE, UVERBS_OBJECT_PD,
					    UVERBS_ACCESS_READ, UA_MANDATORY),
			    UVERBS_ATTR_IDR(UET_ATTR_JKEY_CREATE_JOB_HANDLE, UET_OBJECT_JOB,
					    UVERBS_ACCESS_READ, UA_MANDATORY),
			    UVERBS_ATTR_FLAGS_IN(UET_ATTR_JKEY_CREATE_FLAGS,
						 enum uet_jkey_create_flags, UA_OPTIONAL),
			    UVERBS_ATTR_PTR_OUT(UET_ATTR_JKEY_CREATE_JKEY, UVERBS_ATTR_TYPE(u32),
						UA_MANDATORY));

DECLARE_UVERBS_NAMED_METHOD_DESTROY(UET_METHOD_JKEY_DESTROY,
				    UVERBS_ATTR_IDR(UET_ATTR_JKEY_DESTROY_HANDLE, UET_OBJECT_JKEY,
						    UVERBS_ACCESS_DESTROY, UA_MANDATORY));

DECLARE_UVERBS_NAMED_OBJECT(UET_OBJECT_JKEY,
			    UVERBS_TYPE_ALLOC_IDR(uet_jkey_uobj_cleanup),
			    &UVERBS_METHOD(UET_METHOD_JKEY_CREATE),
			    &UVERBS_METHOD(UET_METHOD_JKEY_DESTROY));

const struct uapi_definition uet_jkey_defs[] = {
	UAPI_DEF_CHAIN_OBJ_TREE_NAMED(UET_OBJECT_JKEY),
	{}
};
