# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Out-of-tree glue for uet: builds the kernel module, the rdma-core
# provider and the kselftests from this tree, and runs the tests in a
# QEMU guest booting Debian's 6.12 kernel.
#
#   make demo     create a uet device in the VM and show it to the tools
#   make check    build everything, run every test, print "N passed, M failed"
#   make check-debug  the same tests, fewer of them, on a debug kernel
#                 (KASAN, lockdep, kmemleak, UBSAN, KUnit) built with the
#                 driver in-tree; slow, for risky kernel changes
#   make install  install module and provider on this (6.12) machine

KVER ?= $(shell ls -d /lib/modules/6.12.*/build 2>/dev/null | sort -V | \
		tail -n 1 | cut -d/ -f4)
KDIR ?= /lib/modules/$(KVER)/build
KSRC_TAR ?= /usr/src/linux-source-6.12.tar.xz

TOP := $(CURDIR)
B := $(TOP)/build
MODDIR := $(TOP)/drivers/infiniband/hw/uet
PROVDIR := $(TOP)/providers/uet
KSFT := $(B)/ksft
KSFT_SRC := $(TOP)/tools/testing/selftests/rdma
KSFT_INSTALL := $(B)/ksft-install
CHECKPATCH := $(KSFT)/scripts/checkpatch.pl

LIBDIR ?= /usr/lib/x86_64-linux-gnu
PROVIDER_DIR := $(LIBDIR)/libibverbs
DRIVER_CONF := /etc/libibverbs.d/uet.driver

CC ?= gcc
RDMA_CORE_GEN := $(B)/rdma-core-v44
KABI_GEN := $(RDMA_CORE_GEN)/kernel-abi/ib_user_verbs.h
PROV_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -fPIC \
	-I$(TOP)/scripts/rdma-core-v44/include \
	-I$(RDMA_CORE_GEN) \
	-I$(TOP)/include/uapi -I$(PROVDIR)
PROV_SRCS := $(sort $(wildcard $(PROVDIR)/*.c))
PROV_HDRS := $(wildcard $(PROVDIR)/*.h) $(TOP)/include/uapi/rdma/uet-abi.h \
	$(wildcard $(TOP)/scripts/rdma-core-v44/include/*/*.h)
# libuet.so.1 is both the libibverbs plugin (libuet-rdmav34.so links to
# it) and the library of the uetdv direct verbs (-luet, uetdv.h).
PROVIDER := $(B)/provider/libuet.so.1
PROV_MAP := $(PROVDIR)/libuet.map

KERNEL_SRCS = $(filter-out %.mod.c,$(wildcard $(MODDIR)/*.[ch]))

KMAKE := $(MAKE) -C $(KDIR) M=$(MODDIR) CONFIG_INFINIBAND_UET=m \
	KCFLAGS="-I$(TOP)/include/uapi"

.PHONY: all setup module provider selftests unit lint docs check check-debug \
	demo install install-module install-provider uninstall clean

all: module provider selftests

setup:
	@bash $(TOP)/scripts/setup.sh

# W=1 and sparse on every build; any compiler or sparse warning fails it.
module:
	@mkdir -p $(B)/logs
	@$(KMAKE) W=1 C=1 modules > $(B)/logs/module.log 2>&1 || \
		{ cat $(B)/logs/module.log; exit 1; }
	@if grep -E 'warning:|error:' $(B)/logs/module.log; then \
		echo "module: warnings above (W=1, sparse)"; exit 1; fi
	@echo "  MODULE  $(MODDIR)/rdma_uet.ko ($(KVER))"

provider: $(PROVIDER)

# rdma-core generates its kernel-abi headers from the uapi headers at build
# time; so do we, from the installed ones.
$(KABI_GEN): $(TOP)/scripts/rdma-core-v44/gen-kernel-abi.py \
		/usr/include/rdma/ib_user_verbs.h
	@mkdir -p $(dir $@)
	python3 $< /usr/include/rdma/ib_user_verbs.h $@

$(PROVIDER): $(PROV_SRCS) $(PROV_HDRS) $(PROV_MAP) $(KABI_GEN) \
		$(PROVDIR)/tools/uet-job.c $(PROVDIR)/examples/uet_ru_pingpong.c
	@mkdir -p $(dir $@)
	$(CC) $(PROV_CFLAGS) -fsyntax-only \
		$(TOP)/scripts/rdma-core-v44/abi-checks.c
	$(CC) $(PROV_CFLAGS) -shared -o $@ $(PROV_SRCS) \
		-Wl,--no-undefined -Wl,-soname,libuet.so.1 \
		-Wl,--version-script=$(PROV_MAP) -libverbs
	ln -sf libuet.so.1 $(B)/provider/libuet-rdmav34.so
	ln -sf libuet.so.1 $(B)/provider/libuet.so
	mkdir -p $(B)/include/infiniband
	ln -sf $(PROVDIR)/uetdv.h $(B)/include/infiniband/uetdv.h
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -I$(B)/include \
		-o $(B)/provider/uet-job $(PROVDIR)/tools/uet-job.c \
		-L$(B)/provider -luet -libverbs
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -I$(B)/include \
		-o $(B)/provider/uet_ru_pingpong \
		$(PROVDIR)/examples/uet_ru_pingpong.c \
		-L$(B)/provider -luet -libverbs

# The kselftest framework comes from Debian's linux-source-6.12; it is
# extracted again when the list of files below changes.
$(KSFT)/.stamp: $(KSRC_TAR) $(TOP)/Makefile
	@rm -rf $(KSFT) && mkdir -p $(KSFT)
	@echo "  EXTRACT kselftest framework and checkpatch from $(KSRC_TAR)"
	@tar -xJf $(KSRC_TAR) -C $(KSFT) --strip-components=1 \
		--wildcards 'linux-source-6.12/scripts/checkpatch.pl' \
		'linux-source-6.12/scripts/spelling.txt' \
		'linux-source-6.12/scripts/const_structs.checkpatch' \
		'linux-source-6.12/scripts/subarch.include' \
		'linux-source-6.12/MAINTAINERS' \
		'linux-source-6.12/Documentation/infiniband/index.rst' \
		'linux-source-6.12/drivers/infiniband/Kconfig' \
		'linux-source-6.12/drivers/infiniband/hw/Makefile' \
		'linux-source-6.12/tools/testing/selftests/Makefile' \
		'linux-source-6.12/tools/testing/selftests/lib.mk' \
		'linux-source-6.12/tools/testing/selftests/kselftest*' \
		'linux-source-6.12/tools/testing/selftests/run_kselftest.sh'
	@touch $@

selftests: $(KSFT)/.stamp
	@rsync -a --delete $(KSFT_SRC)/ $(KSFT)/tools/testing/selftests/rdma/
	@$(MAKE) -s -C $(KSFT)/tools/testing/selftests TARGETS=rdma \
		KHDR_INCLUDES="-isystem $(TOP)/include/uapi -isystem $(B)/include" \
		UET_LDFLAGS="-L$(B)/provider" \
		INSTALL_PATH=$(KSFT_INSTALL) install >/dev/null

# checkpatch --strict over every kernel file; any message fails.
lint: $(KSFT)/.stamp
	@out=$$(perl $(CHECKPATCH) --no-tree --strict --terse -f \
		$(KERNEL_SRCS) $(MODDIR)/Kconfig $(MODDIR)/Makefile \
		$(TOP)/include/uapi/rdma/uet-abi.h | \
		grep -v '^total: 0 errors, 0 warnings, 0 checks'); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi
	@echo "  LINT    checkpatch --strict: clean"

# The documentation parses with docutils without a warning (a malformed
# table, a short underline), as the kernel's Sphinx build would want.
docs:
	@/usr/bin/python3 $(TOP)/scripts/rst-check.py \
		$(TOP)/Documentation/infiniband/uet.rst
	@echo "  DOCS    Documentation/infiniband/uet.rst parses cleanly"

unit: provider $(KSFT)/.stamp
	@bash $(TOP)/scripts/unit-tests.sh $(B)

check: setup
	@$(MAKE) --no-print-directory all lint
	@bash $(TOP)/scripts/check.sh $(B)

# The debug-kernel lane: the kernel build is cached outside the tree
# (scripts/debug-kernel/build.sh); UET_DEBUG_FULL=1 runs every test.
check-debug: setup
	@$(MAKE) --no-print-directory lint
	@bash $(TOP)/scripts/debug-kernel/check.sh $(B)

demo: setup
	@$(MAKE) --no-print-directory all
	@bash $(TOP)/scripts/vm-run.sh --timeout 600 -- \
		bash $(TOP)/scripts/demo.sh

# Installs what was built (building only what is missing), so the test VM
# can install without compiling under emulation.  The debug-kernel lane
# installs only the provider: its kernel has the module in-tree.
install: install-module install-provider

install-module:
	@test -f $(MODDIR)/rdma_uet.ko || $(MAKE) --no-print-directory module
	$(KMAKE) INSTALL_MOD_DIR=updates modules_install
	depmod -a $(KVER)

install-provider:
	@test -f $(PROVIDER) || $(MAKE) --no-print-directory provider
	install -D -m 0644 $(PROVIDER) $(DESTDIR)$(LIBDIR)/libuet.so.1
	ln -sf libuet.so.1 $(DESTDIR)$(LIBDIR)/libuet.so
	mkdir -p $(DESTDIR)$(PROVIDER_DIR)
	ln -sf ../libuet.so.1 $(DESTDIR)$(PROVIDER_DIR)/libuet-rdmav34.so
	install -D -m 0755 $(B)/provider/uet-job $(DESTDIR)/usr/bin/uet-job
	install -D -m 0755 $(B)/provider/uet_ru_pingpong \
		$(DESTDIR)/usr/bin/uet_ru_pingpong
	install -D -m 0644 $(PROVDIR)/uetdv.h \
		$(DESTDIR)/usr/include/infiniband/uetdv.h
	mkdir -p $(DESTDIR)/usr/share/man/man1 $(DESTDIR)/usr/share/man/man3
	cp -P $(PROVDIR)/man/*.1 $(DESTDIR)/usr/share/man/man1/
	cp -P $(PROVDIR)/man/*.3 $(DESTDIR)/usr/share/man/man3/
	install -D -m 0644 $(PROVDIR)/uet.driver $(DESTDIR)$(DRIVER_CONF)

uninstall:
	rm -f /lib/modules/$(KVER)/updates/rdma_uet.ko
	depmod -a $(KVER)
	rm -f $(DESTDIR)$(PROVIDER_DIR)/libuet-rdmav34.so $(DESTDIR)$(DRIVER_CONF) \
		$(DESTDIR)$(LIBDIR)/libuet.so.1 $(DESTDIR)$(LIBDIR)/libuet.so \
		$(DESTDIR)/usr/include/infiniband/uetdv.h $(DESTDIR)/usr/bin/uet-job \
		$(DESTDIR)/usr/bin/uet_ru_pingpong

clean:
	-$(KMAKE) clean >/dev/null 2>&1
	rm -rf $(B)
