// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * UET jobs (driver uverbs object UET_OBJECT_JOB).  A privileged process
 * allocates a job - a JobID and an address table - and exports it as a
 * file descriptor; the processes of the job import it from there.  Each
 * handle, job key and exported file holds a reference; the JobID stays
 * taken on the device until the last one goes.
 */
#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/file.h>
#define UVERBS_MODULE_NAME uet_ib
#include <rdma/uverbs_named_ioctl.h>
#include <rdma/uverbs_std_types.h>

#include "uet.h"

/* Serialises job->udev and the device's job table with the last put. */
static DEFINE_MUTEX(uet_job_lock);

void uet_job_get(struct uet_job *job)
{
	kref_get(&job->ref);
}

static void uet_job_release(struct kref *ref)
{
	struct uet_job *job = container_of(ref, struct uet_job, ref);

	if (job->udev) {
		xa_erase_bh(&job->udev->jobs, job->id);
		job->udev->num_jobs--;
	}
	mutex_unlock(&uet_job_lock);
	kvfree(job->addrs);
	kfree(job);
}

void uet_job_put(struct uet_job *job)
{
	kref_put_mutex(&job->ref, uet_job_release, &uet_job_lock);
}

/*
 * The device goes away: files exported from its jobs may live on, but
 * can no longer be imported, and their JobIDs no longer occupy a table.
 */
void uet_job_fini_dev(struct uet_dev *udev)
{
	struct uet_job *job;
	unsigned long id;

	mutex_lock(&uet_job_lock);
	xa_for_each(&udev->jobs, id, job)
		job->udev = NULL;
	xa_destroy(&udev->jobs);
	mutex_unlock(&uet_job_lock);
}

static struct uet_job *uet_job_create(struct uet_dev *udev, u32 id,
				      u32 max_addrs)
{
	struct uet_job *job;
	int err;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return ERR_PTR(-ENOMEM);
	if (max_addrs) {
		job->addrs = kvcalloc(max_addrs, sizeof(*job->addrs),
				      GFP_KERNEL);
		if (!job->addrs) {
			err = -ENOMEM;
			goto err_free;
		}
	}
	kref_init(&job->ref);
	spin_lock_init(&job->addr_lock);
	job->id = id;
	job->max_addrs = max_addrs;
	job->udev = udev;

	mutex_lock(&uet_job_lock);
	if (udev->num_jobs >= UET_MAX_JOBS) {
		err = -ENOSPC;
		goto err_unlock;
	}
	err = xa_insert_bh(&udev->jobs, id, job, GFP_KERNEL);
	if (err) {
		/* -EBUSY from xa_insert: the JobID is taken. */
		if (err == -EBUSY)
			err = -EEXIST;
		goto err_unlock;
	}
	udev->num_jobs++;
	mutex_unlock(&uet_job_lock);
	return job;

err_unlock:
	mutex_unlock(&uet_job_lock);
	kvfree(job->addrs);
err_free:
	kfree(job);
	return ERR_PTR(err);
}

/**
 * uet_job_addr - read entry @index of @job's address table
 * @job: the job
 * @index: the entry
 * @a: filled in
 *
 * Context: any.
 * Return: 0, or -ENOENT for an empty entry or one beyond the table.
 */
int uet_job_addr(struct uet_job *job, u32 index, struct uet_job_addr *a)
{
	int err = -ENOENT;

	if (index >= job->max_addrs)
		return err;
	spin_lock_bh(&job->addr_lock);
	if (!ipv6_addr_any((struct in6_addr *)job->addrs[index].gid)) {
		*a = job->addrs[index];
		err = 0;
	}
	spin_unlock_bh(&job->addr_lock);
	return err;
}

static int uet_job_uobj_cleanup(struct ib_uobject *uobj,
				enum rdma_remove_reason why,
				struct uverbs_attr_bundle *attrs)
{
	uet_job_put(uobj->object);
	return 0;
}

static struct uet_dev *uet_attrs_dev(struct uverbs_attr_bundle *attrs)
{
	struct ib_ucontext *uctx = ib_uverbs_get_ucontext(attrs);

	return IS_ERR(uctx) ? ERR_CAST(uctx) : to_uet_dev(uctx->device);
}

static int UVERBS_HANDLER(UET_METHOD_JOB_ALLOC)(struct uverbs_attr_bundle *attrs)
{
	struct uet_dev *udev = uet_attrs_dev(attrs);
	struct ib_uobject *uobj;
	u32 id, max_addrs = 0;
	struct uet_job *job;
	u32 flags;
	int err;

	if (IS_ERR(udev))
		return PTR_ERR(udev);
	err = uverbs_copy_from(&id, attrs, UET_ATTR_JOB_ALLOC_ID);
	if (err)
		return err;
	err = uverbs_copy_from(&max_addrs, attrs, UET_ATTR_JOB_ALLOC_MAX_ADDRS);
	if (err && err != -ENOENT)
		return err;
	err = uverbs_get_flags32(&flags, attrs, UET_ATTR_JOB_ALLOC_FLAGS, 0);
	if (err)
		return err;
	if (!id || id > UET_JOB_ID_MAX || max_addrs > UET_MAX_JOB_ADDRS) {
		ibdev_dbg(&udev->ibdev, "job: bad id %#x or max_addrs %u\n",
			  id, max_addrs);
		return -EINVAL;
	}
	/* The JobID is the network's security identity: its admin's. */
	if (!ns_capable(dev_net(udev->ndev)->user_ns, CAP_NET_ADMIN))
		return -EPERM;

	job = uet_job_create(udev, id, max_addrs);
	if (IS_ERR(job))
		return PTR_ERR(job);
	uobj = uverbs_attr_get_uobject(attrs, UET_ATTR_JOB_ALLOC_HANDLE);
	uobj->object = job;
	uverbs_finalize_uobj_create(attrs, UET_ATTR_JOB_ALLOC_HANDLE);
	return 0;
}

static int UVERBS_HANDLER(UET_METHOD_JOB_QUERY)(struct uverbs_attr_bundle *attrs)
{
	struct uet_job *job = uverbs_attr_get_obj(attrs,
						  UET_ATTR_JOB_QUERY_HANDLE);
	struct uet_job_attr resp = {};

	resp.id = job->id;
	resp.max_addrs = job->max_addrs;
	spin_lock_bh(&job->addr_lock);
	resp.num_addrs = job->num_addrs;
	spin_unlock_bh(&job->addr_lock);
	return uverbs_copy_to_struct_or_zero(attrs, UET_ATTR_JOB_QUERY_RESP,
					     &resp, sizeof(resp));
}

static int uet_job_file_release(struct inode *inode, struct file *file)
{
	uet_job_put(file->private_data);
	return 0;
}

static const struct file_operations uet_job_fops = {
	.owner = THIS_MODULE,
	.release = uet_job_file_release,
};

static int UVERBS_HANDLER(UET_METHOD_JOB_EXPORT)(struct uverbs_attr_bundle *attrs)
{
	struct uet_job *job = uverbs_attr_get_obj(attrs,
						  UET_ATTR_JOB_EXPORT_HANDLE);
	struct file *file;
	int err, fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	uet_job_get(job);
	file = anon_inode_getfile("[uet_job]", &uet_job_fops, job, O_RDONLY);
	if (IS_ERR(file)) {
		uet_job_put(job);
		err = PTR_ERR(file);
		goto err_fd;
	}
	err = uverbs_copy_to(attrs, UET_ATTR_JOB_EXPORT_FD, &fd, sizeof(fd));
	if (err) {
		fput(file);
		goto err_fd;
	}
	/* Visible to the process only now that nothing can fail. */
	fd_install(fd, file);
	return 0;

err_fd:
	put_unused_fd(fd);
	return err;
}

static int UVERBS_HANDLER(UET_METHOD_JOB_IMPORT)(struct uverbs_attr_bundle *attrs)
{
	struct uet_dev *udev = uet_attrs_dev(attrs);
	struct uet_job *job = NULL;
	struct ib_uobject *uobj;
	struct fd f;
	int err, fd;

	if (IS_ERR(udev))
		return PTR_ERR(udev);
	err = uverbs_get_raw_fd(&fd, attrs, UET_ATTR_JOB_IMPORT_FD);
	if (err)
		return err;
	f = fdget(fd);
	if (!fd_file(f))
		return -EBADF;
	err = -EINVAL;
	if (fd_file(f)->f_op == &uet_job_fops) {
		mutex_lock(&uet_job_lock);
		job = fd_file(f)->private_data;
		/* A job of another device, or of one that is gone. */
		if (job->udev == udev) {
			uet_job_get(job);
			err = 0;
		}
		mutex_unlock(&uet_job_lock);
	}
	fdput(f);
	if (err)
		return err;

	uobj = uverbs_attr_get_uobject(attrs, UET_ATTR_JOB_IMPORT_HANDLE);
	uobj->object = job;
	uverbs_finalize_uobj_create(attrs, UET_ATTR_JOB_IMPORT_HANDLE);
	return 0;
}

/* The job and the entry an ADDR_* method names, the entry in its table. */
static struct uet_job *uet_job_addr_args(struct uverbs_attr_bundle *attrs,
					 u32 *index)
{
	struct uet_job *job = uverbs_attr_get_obj(attrs,
						  UET_ATTR_JOB_ADDR_HANDLE);
	int err;

	err = uverbs_copy_from(index, attrs, UET_ATTR_JOB_ADDR_INDEX);
	if (err)
		return ERR_PTR(err);
	return *index < job->max_addrs ? job : ERR_PTR(-EINVAL);
}

static bool uet_job_addr_valid(const struct uet_job_addr *a)
{
	const struct in6_addr *ip = (const struct in6_addr *)a->gid;

	return !a->flags && a->qpn <= UET_QPN_MASK && a->qpn >= UET_QPN_MIN &&
	       !ipv6_addr_any(ip) && !ipv6_addr_is_multicast(ip);
}

static int UVERBS_HANDLER(UET_METHOD_JOB_ADDR_INSERT)(struct uverbs_attr_bundle *attrs)
{
	struct uet_job *job;
	struct uet_job_addr a;
	u32 index;
	int err;

	job = uet_job_addr_args(attrs, &index);
	if (IS_ERR(job))
		return PTR_ERR(job);
	err = uverbs_copy_from_or_zero(&a, attrs, UET_ATTR_JOB_ADDR_ENTRY);
	if (err)
		return err;
	if (!uet_job_addr_valid(&a))
		return -EINVAL;

	spin_lock_bh(&job->addr_lock);
	if (ipv6_addr_any((struct in6_addr *)job->addrs[index].gid)) {
		job->addrs[index] = a;
		job->num_addrs++;
	} else {
		err = -EEXIST;
	}
	spin_unlock_bh(&job->addr_lock);
	return err;
}

static int UVERBS_HANDLER(UET_METHOD_JOB_ADDR_REMOVE)(struct uverbs_attr_bundle *attrs)
{
	struct uet_job *job;
	u32 index;
	int err = 0;

	job = uet_job_addr_args(attrs, &index);
	if (IS_ERR(job))
		return PTR_ERR(job);

	spin_lock_bh(&job->addr_lock);
	if (ipv6_addr_any((struct in6_addr *)job->addrs[index].gid)) {
		err = -ENOENT;
	} else {
		memset(&job->addrs[index], 0, sizeof(job->addrs[index]));
		job->num_addrs--;
	}
	spin_unlock_bh(&job->addr_lock);
	return err;
}

static int UVERBS_HANDLER(UET_METHOD_JOB_ADDR_QUERY)(struct uverbs_attr_bundle *attrs)
{
	struct uet_job *job;
	struct uet_job_addr a;
	u32 index;
	int err;

	job = uet_job_addr_args(attrs, &index);
	if (IS_ERR(job))
		return PTR_ERR(job);
	err = uet_job_addr(job, index, &a);
	if (err)
		return err;
	return uverbs_copy_to_struct_or_zero(attrs, UET_ATTR_JOB_ADDR_ENTRY,
					     &a, sizeof(a));
}

DECLARE_UVERBS_NAMED_METHOD(UET_METHOD_JOB_ALLOC,
			    UVERBS_ATTR_IDR(UET_ATTR_JOB_ALLOC_HANDLE, UET_OBJECT_JOB,
					    UVERBS_ACCESS_NEW, UA_MANDATORY),
			    UVERBS_ATTR_PTR_IN(UET_ATTR_JOB_ALLOC_ID, UVERBS_ATTR_TYPE(u32),
					       UA_MANDATORY),
			    UVERBS_ATTR_PTR_IN(UET_ATTR_JOB_ALLOC_MAX_ADDRS, UVERBS_ATTR_TYPE(u32),
					       UA_OPTIONAL),
			    UVERBS_ATTR_FLAGS_IN(UET_ATTR_JOB_ALLOC_FLAGS,
						 enum uet_job_alloc_flags, UA_OPTIONAL));

DECLARE_UVERBS_NAMED_METHOD_DESTROY(UET_METHOD_JOB_DEALLOC,
				    UVERBS_ATTR_IDR(UET_ATTR_JOB_DEALLOC_HANDLE, UET_OBJECT_JOB,
						    UVERBS_ACCESS_DESTROY, UA_MANDATORY));

DECLARE_UVERBS_NAMED_METHOD(UET_METHOD_JOB_QUERY,
			    UVERBS_ATTR_IDR(UET_ATTR_JOB_QUERY_HANDLE, UET_OBJECT_JOB,
					    UVERBS_ACCESS_READ, UA_MANDATORY),
			    UVERBS_ATTR_PTR_OUT(UET_ATTR_JOB_QUERY_RESP,
						UVERBS_ATTR_STRUCT(struct uet_job_attr, num_addrs),
						UA_MANDATORY));

DECLARE_UVERBS_NAMED_METHOD(UET_METHOD_JOB_EXPORT,
			    UVERBS_ATTR_IDR(UET_ATTR_JOB_EXPORT_HANDLE, UET_OBJECT_JOB,
					    UVERBS_ACCESS_READ, UA_MANDATORY),
			    UVERBS_ATTR_PTR_OUT(UET_ATTR_JOB_EXPORT_FD, UVERBS_ATTR_TYPE(s32),
						UA_MANDATORY));

DECLARE_UVERBS_NAMED_METHOD(UET_METHOD_JOB_IMPORT,
			    UVERBS_ATTR_IDR(UET_ATTR_JOB_IMPORT_HANDLE, UET_OBJECT_JOB,
					    UVERBS_ACCESS_NEW, UA_MANDATORY),
			    UVERBS_ATTR_RAW_FD(UET_ATTR_JOB_IMPORT_FD, UA_MANDATORY));

DECLARE_UVERBS_NAMED_METHOD(UET_METHOD_JOB_ADDR_INSERT,
			    UVERBS_ATTR_IDR(UET_ATTR_JOB_ADDR_HANDLE, UET_OBJECT_JOB,
					    UVERBS_ACCESS_READ, UA_MANDATORY),
			    UVERBS_ATTR_PTR_IN(UET_ATTR_JOB_ADDR_INDEX, UVERBS_ATTR_TYPE(u32),
					       UA_MANDATORY),
			    UVERBS_ATTR_PTR_IN(UET_ATTR_JOB_ADDR_ENTRY,
					       UVERBS_ATTR_STRUCT(struct uet_job_addr, flags),
					       UA_MANDATORY));

DECLARE_UVERBS_NAMED_METHOD(UET_METHOD_JOB_ADDR_REMOVE,
			    UVERBS_ATTR_IDR(UET_ATTR_JOB_ADDR_HANDLE, UET_OBJECT_JOB,
					    UVERBS_ACCESS_READ, UA_MANDATORY),
			    UVERBS_ATTR_PTR_IN(UET_ATTR_JOB_ADDR_INDEX, UVERBS_ATTR_TYPE(u32),
					       UA_MANDATORY));

DECLARE_UVERBS_NAMED_METHOD(UET_METHOD_JOB_ADDR_QUERY,
			    UVERBS_ATTR_IDR(UET_ATTR_JOB_ADDR_HANDLE, UET_OBJECT_JOB,
					    UVERBS_ACCESS_READ, UA_MANDATORY),
			    UVERBS_ATTR_PTR_IN(UET_ATTR_JOB_ADDR_INDEX, UVERBS_ATTR_TYPE(u32),
					       UA_MANDATORY),
			    UVERBS_ATTR_PTR_OUT(UET_ATTR_JOB_ADDR_ENTRY,
						UVERBS_ATTR_STRUCT(struct uet_job_addr, flags),
						UA_MANDATORY));

DECLARE_UVERBS_NAMED_OBJECT(UET_OBJECT_JOB,
			    UVERBS_TYPE_ALLOC_IDR(uet_job_uobj_cleanup),
			    &UVERBS_METHOD(UET_METHOD_JOB_ALLOC),
			    &UVERBS_METHOD(UET_METHOD_JOB_DEALLOC),
			    &UVERBS_METHOD(UET_METHOD_JOB_QUERY),
			    &UVERBS_METHOD(UET_METHOD_JOB_EXPORT),
			    &UVERBS_METHOD(UET_METHOD_JOB_IMPORT),
			    &UVERBS_METHOD(UET_METHOD_JOB_ADDR_INSERT),
			    &UVERBS_METHOD(UET_METHOD_JOB_ADDR_REMOVE),
			    &UVERBS_METHOD(UET_METHOD_JOB_ADDR_QUERY));

const struct uapi_definition uet_job_defs[] = {
	UAPI_DEF_CHAIN_OBJ_TREE_NAMED(UET_OBJECT_JOB),
	{}
};
