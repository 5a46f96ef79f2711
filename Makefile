# LPU v3 open stack: top-level build and test entry points.
#
#   make demo    install what is missing, build everything, boot the emulated
#                card and show the driver, the device nodes, lpu-smi and a job
#   make check   every test: host unit tests, QEMU qtests, guest selftests;
#                ends with "N passed, N failed"
#   make bench   benchmarks in the guest, "BENCH ..." lines
#
# Big downloads and builds (QEMU, kernel packages) live in $(LPU_CACHE),
# outside the clone, keyed by their inputs.

export LPU_CACHE ?= /var/cache/lpu
TOP := $(CURDIR)
BUILD := $(TOP)/build
GUEST_TIMEOUT ?= 600

# Resolved lazily: the kernel may only be installed by `make deps`.
KVER = $(shell $(TOP)/tools/fetch-kernel.sh --print)
KDIR = /lib/modules/$(KVER)/build
# kselftest_harness.h and checkpatch come from Debian's linux-source, unpacked
# into the cache; they are never copied into the repository.
KSRC = $(shell $(TOP)/tools/fetch-kernel-source.sh)

USER_DIRS := libruntime tools/lpu-smi tools/lpu-bench tools/lpu-run selftests/lpu

.PHONY: all deps qemu module userspace guest demo check bench clean lint check-debug fuzz \
	check-host check-qtest check-guest

all: deps
	@$(MAKE) --no-print-directory qemu module userspace
	@$(MAKE) --no-print-directory guest

deps:
	@$(TOP)/tools/host-deps.sh
	@$(TOP)/tools/fetch-kernel.sh >/dev/null
	@$(TOP)/tools/fetch-kernel-source.sh >/dev/null

qemu:
	@$(TOP)/tools/build-qemu.sh >/dev/null

module:
	$(MAKE) -C $(KDIR) M=$(TOP) modules

userspace:
	@for d in $(USER_DIRS); do \
		$(MAKE) --no-print-directory -C $$d BUILD=$(BUILD) \
			KSFT_DIR=$(KSRC)/tools/testing/selftests all || exit 1; \
	done

guest:
	@mkdir -p $(BUILD)/guest
	@$(TOP)/tools/mkinitramfs.sh $(KVER) $(BUILD)/guest/initramfs.cpio

demo: all
	@$(TOP)/tools/vm-run.sh --timeout $(GUEST_TIMEOUT) --quiet-boot \
		--cmd 'sh /opt/lpu/demo.sh'; rc=$$?; \
	sed -n '/^=== LPU demo/,/^LPU-GUEST-EXIT/p' $(BUILD)/guest/last.log | \
		grep -v '^LPU-GUEST-EXIT'; exit $$rc

# Every suite is framed by tools/tap-suite.sh; tools/tap-summary.awk counts
# them all, charges missing or crashed suites as failures and prints the
# final "N passed, N failed".
#
# The debug-kernel lane is part of it: on this 2-core machine the debug
# kernel builds once in about 13 min (then it is cached) and the lane runs in
# about 2 min, which fits CI's 90 minutes with room to spare.
check: all
	@{ $(MAKE) --no-print-directory -s check-host; \
	   $(MAKE) --no-print-directory -s check-qtest; \
	   $(MAKE) --no-print-directory -s check-guest; \
	   $(TOP)/tools/check-debug.sh; } | awk -f $(TOP)/tools/tap-summary.awk

check-host:
	@$(TOP)/tools/tap-suite.sh tap-summary $(TOP)/tools/tests/tap-summary-test.sh
	@$(TOP)/tools/tap-suite.sh lpu-run-args $(TOP)/tools/tests/lpu-run-args-test.sh $(BUILD)/bin/lpu-run
	@$(TOP)/tools/tap-suite.sh liblpu-host $(MAKE) --no-print-directory -s -C libruntime BUILD=$(BUILD) check

check-qtest:
	@$(TOP)/tools/tap-suite.sh qtest-lpu-v3 $(TOP)/tools/build-qemu.sh --qtest

# The guest prints its own suite frames (tools/guest/run-selftests.sh); the
# boot itself is one more result, so a hung or panicked guest fails.
check-guest:
	@$(TOP)/tools/vm-run.sh --timeout $(GUEST_TIMEOUT) \
		--cmd 'sh /opt/lpu/run-selftests.sh' --log $(BUILD)/guest/check.log; \
	$(TOP)/tools/vm-suite.sh guest-vm $$? $(BUILD)/guest/check.log

# The debug-kernel lane: all guest selftests, failslab and kmemleak on a
# KASAN/UBSAN/lockdep kernel. Builds that kernel the first time (~13 min).
check-debug: all
	@$(TOP)/tools/check-debug.sh | awk -f $(TOP)/tools/tap-summary.awk

# `make fuzz N` (or `make fuzz N=100000`): N fuzzer calls per process, on
# the debug kernel when it is built (its detectors see what the calls break),
# else on Debian's kernel. SEED=S replays a run.
ifneq ($(filter fuzz,$(MAKECMDGOALS)),)
FUZZ_GOAL_N := $(filter-out fuzz,$(MAKECMDGOALS))
ifneq ($(FUZZ_GOAL_N),)
N := $(FUZZ_GOAL_N)
$(FUZZ_GOAL_N):
	@:
endif
endif
N ?= 20000
fuzz: all
	@LPU_FUZZ_ARGS="--calls $(N) $(if $(SEED),--seed $(SEED))" $(TOP)/tools/fuzz.sh | \
		awk -f $(TOP)/tools/tap-summary.awk

bench: all
	@$(TOP)/tools/vm-run.sh --timeout $(GUEST_TIMEOUT) --quiet-boot \
		--cmd 'lpu-bench' --log $(BUILD)/guest/bench.log; rc=$$?; \
	grep '^BENCH ' $(BUILD)/guest/bench.log; exit $$rc

lint: deps
	@$(MAKE) --no-print-directory qemu
	@$(TOP)/tools/lint.sh

clean:
	@for d in $(USER_DIRS); do $(MAKE) --no-print-directory -C $$d BUILD=$(BUILD) clean; done
	-$(MAKE) -C $(KDIR) M=$(TOP) clean
	rm -rf $(BUILD)
