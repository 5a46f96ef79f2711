# LPU v3 open stack: top-level build and test entry points.
#
#   make demo    install what is missing, build everything, boot the emulated
#                card and show the driver, the device nodes, lpu-smi and a job
#   make check   every test: host unit tests, QEMU qtests, guest selftests;
#                ends with "N passed, N failed"
#   make bench   benchmarks in the guest, "BENCH ..." lines (MoE blocks on
#                the card against the numpy reference on this host)
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

USER_DIRS := libruntime tools/lpu-smi tools/lpu-bench tools/lpu-run tools/lpu-compile selftests/lpu

.PHONY: all deps qemu module userspace firmware install guest demo check bench clean lint \
	check-debug fuzz check-host check-qtest check-guest check-fw-hang moe-data moe-bench-data

all: deps
	@$(MAKE) --no-print-directory qemu module userspace firmware
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

# ---- Card firmware ------------------------------------------------------
# firmware/lpu-fwpack packs firmware/lpu-v3.json into lpu/lpu-v3.bin, signed
# with the TEST key (firmware/keys/README.md), and firmware/mkvariants.sh
# makes the images of the failure tests from it into lpu/test/. The guest
# gets both under /lib/firmware (tools/mkinitramfs.sh).
FWPACK := $(BUILD)/bin/lpu-fwpack
FW_OUT := $(BUILD)/firmware/lpu
FW_KEYS := $(TOP)/firmware/keys
FW_VARIANTS := good cost-x2 queues-2 abi-new abi-old chip-rev bad-magic bad-digest \
	bad-signature untrusted truncated empty too-large bad-section

firmware: $(FW_OUT)/lpu-v3.bin $(FW_OUT)/test/stamp

$(FWPACK): $(wildcard $(TOP)/firmware/lpu-fwpack/*.[ch] $(TOP)/firmware/lpu-fwpack/Makefile) \
		$(TOP)/firmware/lpu_fw.h $(TOP)/uapi/lpu_hw.h $(TOP)/tools/tool.mk
	@$(MAKE) --no-print-directory -C $(TOP)/firmware/lpu-fwpack BUILD=$(BUILD) all

$(FW_OUT)/lpu-v3.bin: $(TOP)/firmware/lpu-v3.json $(FW_KEYS)/test-signing-key.pem $(FWPACK)
	@mkdir -p $(@D)
	@echo "  FWPACK  $@"
	@$(FWPACK) pack $< --key $(FW_KEYS)/test-signing-key.pem -o $@

# One step makes every variant (they share the good image's offsets) and
# checks that each fails exactly the check it is named after.
$(FW_OUT)/test/stamp: $(FW_OUT)/lpu-v3.bin $(TOP)/firmware/lpu-v3.json \
		$(TOP)/firmware/mkvariants.sh $(wildcard $(FW_KEYS)/*.pem $(FW_KEYS)/*.der) $(FWPACK)
	@echo "  FWTEST  $(@D)"
	@$(TOP)/firmware/mkvariants.sh $(FWPACK) $(TOP)/firmware/lpu-v3.json $< $(FW_KEYS) $(@D)
	@for v in $(FW_VARIANTS); do [ -e $(@D)/$$v.bin ] || \
		{ echo "firmware: $(@D)/$$v.bin not made"; exit 1; }; done
	@touch $@

# `make install DESTDIR=... PREFIX=...`: the firmware goes where the kernel
# looks for it, /lib/firmware, whatever PREFIX says; the packer (to sign
# firmware with a key of one's own) to PREFIX/bin.
PREFIX ?= /usr/local
install: firmware
	install -D -m 0644 $(FW_OUT)/lpu-v3.bin $(DESTDIR)/lib/firmware/lpu/lpu-v3.bin
	install -D -m 0755 $(FWPACK) $(DESTDIR)$(PREFIX)/bin/lpu-fwpack

# ---- MoE test data (host side, before the initramfs) ---------------------
# Random checkpoints from tools/moe/gen_checkpoint.py, each compiled by
# lpu-compile for several weight dtypes, with the numpy reference's outputs
# (tools/moe/reference.py) for the same input. Everything is seeded, so the
# files are the same on every machine, and make redoes a step only when its
# inputs (the scripts, lpu-compile, this Makefile) change. Layout:
#   build/moe/ckpt/<checkpoint>/     config.json, *.safetensors, x.npy
#   build/moe/<checkpoint>-<dtype>/  schedule.lpus, compile.txt, x.npy,
#                                    ref/<output>.npy
# The guest gets the test cases in /opt/lpu/moe (tools/mkinitramfs.sh) and
# the bench cases in /opt/lpu/moe-bench (an extra archive, only for bench).
PYTHON := /usr/bin/python3
MOE := $(BUILD)/moe
MOE_PY := $(wildcard $(TOP)/tools/moe/*.py)
LPU_COMPILE := $(BUILD)/bin/lpu-compile

# Per checkpoint: generator arguments, tokens per run (rows of x.npy) and
# extra lpu-compile options.
# The issue's two: Mixtral-style hidden 256, 8 experts, top-2, 2 blocks;
# DeepSeek-style 16 routed experts, top-4, 1 shared expert.
MOE_GEN_mixtral := --style mixtral --hidden 256 --experts 8 --top-k 2 --blocks 2 --seed 11
MOE_T_mixtral := 32
MOE_GEN_deepseek := --style deepseek --hidden 256 --experts 16 --top-k 4 --shared 1 --blocks 2 --seed 12
MOE_T_deepseek := 32
# The small schedule of the refusal and mutation tests.
MOE_GEN_tiny := --style mixtral --hidden 64 --ffn 64 --experts 4 --top-k 2 --blocks 1 --seed 13
MOE_T_tiny := 8
# The router rules against the reference: int8 weights (exact logits) with
# gate rows 2j and 2j+1 equal, so every pair ties for every token and the
# lower index must win; and DeepSeek's sigmoid scoring with renormalised
# top-k weights.
MOE_GEN_tie := --style mixtral --hidden 64 --ffn 64 --experts 8 --top-k 3 --blocks 1 --seed 19 \
	--tie-pairs
MOE_T_tie := 16
MOE_GEN_sigmoid := --style deepseek --hidden 64 --ffn 64 --experts 8 --top-k 2 --shared 1 \
	--blocks 1 --seed 20 --scoring sigmoid --norm-topk
MOE_T_sigmoid := 16
# make demo compiles this one in the guest.
MOE_GEN_demo := --style mixtral --hidden 256 --ffn 512 --experts 8 --top-k 2 --blocks 1 --seed 14
MOE_T_demo := 64
# make bench: tokens/s of a block big enough that compute dominates the
# per-job overhead (512 tokens, 2 GFLOP per run, 48 MiB of weights), and E = 8, 16, 64 at k = 2 with C * E fixed (T = 256 and
# capacity factor 1: C = T * k / E, so C * E = 512).
MOE_GEN_tput := --style mixtral --hidden 512 --ffn 1024 --experts 8 --top-k 2 --blocks 1 --seed 15
MOE_T_tput := 512
MOE_GEN_e8 := --style mixtral --hidden 256 --ffn 512 --experts 8 --top-k 2 --blocks 1 --seed 16
MOE_T_e8 := 256
MOE_GEN_e16 := --style mixtral --hidden 256 --ffn 512 --experts 16 --top-k 2 --blocks 1 --seed 17
MOE_T_e16 := 256
MOE_GEN_e64 := --style mixtral --hidden 256 --ffn 512 --experts 64 --top-k 2 --blocks 1 --seed 18
MOE_T_e64 := 256
MOE_OPTS_e8 := --capacity-factor 1
MOE_OPTS_e16 := --capacity-factor 1
MOE_OPTS_e64 := --capacity-factor 1

MOE_TEST_CASES := mixtral-f32 mixtral-bf16 mixtral-int8 deepseek-f32 deepseek-bf16 \
	deepseek-int8 tiny-f32 tie-int8 sigmoid-f32
MOE_BENCH_CASES := tput-f32 e8-f32 e16-f32 e64-f32
MOE_CKPTS := mixtral deepseek tiny tie sigmoid demo tput e8 e16 e64

# A step that fails leaves no target behind; a checkpoint is generated
# into a temporary directory and only renamed into place when complete, so
# an interrupted generation is redone by the next make.
.DELETE_ON_ERROR:

$(MOE)/ckpt/%/config.json: $(MOE_PY) $(TOP)/Makefile
	@rm -rf $(@D) $(@D).tmp
	@echo "  GEN     $(@D)"
	@$(PYTHON) $(TOP)/tools/moe/gen_checkpoint.py $(@D).tmp $(MOE_GEN_$*) \
		--tokens $(MOE_T_$*) >/dev/null
	@mv $(@D).tmp $(@D)

# The compiler the cases need (also for `make moe-data` on a fresh clone).
$(LPU_COMPILE): $(wildcard $(TOP)/tools/lpu-compile/*.[ch] $(TOP)/libruntime/*.[ch] \
		$(TOP)/uapi/*.h $(TOP)/tools/tool.mk)
	@$(MAKE) --no-print-directory -C $(TOP)/tools/lpu-compile BUILD=$(BUILD) all

# $(1) checkpoint, $(2) weight dtype
define moe_case
$(MOE)/$(1)-$(2)/stamp: $(MOE)/ckpt/$(1)/config.json $(LPU_COMPILE) $(MOE_PY) $(TOP)/Makefile
	@rm -rf $$(@D) && mkdir -p $$(@D)
	@echo "  COMPILE $$(@D) ($(2))"
	@$(LPU_COMPILE) $(MOE)/ckpt/$(1) -o $$(@D)/schedule.lpus --dtype $(2) \
		--tokens $(MOE_T_$(1)) $(MOE_OPTS_$(1)) >$$(@D)/compile.txt
	@cp $(MOE)/ckpt/$(1)/x.npy $$(@D)/x.npy
	@echo "  REF     $$(@D)/ref"
	@$(PYTHON) $(TOP)/tools/moe/reference.py $(MOE)/ckpt/$(1) --dtype $(2) \
		$(MOE_OPTS_$(1)) --out $$(@D)/ref
	@touch $$@
endef
$(foreach c,$(MOE_TEST_CASES) $(MOE_BENCH_CASES),\
	$(eval $(call moe_case,$(firstword $(subst -, ,$(c))),$(lastword $(subst -, ,$(c))))))

# make demo compiles the demo checkpoint in the guest and compares the
# card's outputs with these.
$(MOE)/demo-ref/stamp: $(MOE)/ckpt/demo/config.json $(MOE_PY) $(TOP)/Makefile
	@rm -rf $(@D) && mkdir -p $(@D)
	@echo "  REF     $(@D)"
	@$(PYTHON) $(TOP)/tools/moe/reference.py $(MOE)/ckpt/demo --dtype f32 --out $(@D)
	@touch $@

# tools/mkinitramfs.sh copies the cases this list names into the guest.
moe-data: $(MOE_TEST_CASES:%=$(MOE)/%/stamp) $(MOE)/demo-ref/stamp
	@printf '%s\n' $(MOE_TEST_CASES) >$(MOE)/guest-cases
moe-bench-data: $(MOE_BENCH_CASES:%=$(MOE)/%/stamp)

guest: moe-data firmware
	@mkdir -p $(BUILD)/guest
	@$(TOP)/tools/mkinitramfs.sh $(KVER) $(BUILD)/guest/initramfs.cpio

# The bench cases, as an archive appended to the initramfs of bench runs.
$(BUILD)/guest/moe-bench.cpio: $(MOE_BENCH_CASES:%=$(MOE)/%/stamp)
	@rm -rf $(BUILD)/guest/moe-bench-stage
	@mkdir -p $(BUILD)/guest/moe-bench-stage/opt/lpu/moe-bench
	@for c in $(MOE_BENCH_CASES); do \
		mkdir -p $(BUILD)/guest/moe-bench-stage/opt/lpu/moe-bench/$$c; \
		cp $(MOE)/$$c/schedule.lpus $(MOE)/$$c/x.npy \
			$(BUILD)/guest/moe-bench-stage/opt/lpu/moe-bench/$$c/; \
	done
	@(cd $(BUILD)/guest/moe-bench-stage && find . | LC_ALL=C sort | \
		cpio -o -H newc --quiet) >$@
	@rm -rf $(BUILD)/guest/moe-bench-stage

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
	   $(MAKE) --no-print-directory -s check-fw-hang; \
	   $(TOP)/tools/check-debug.sh; } | awk -f $(TOP)/tools/tap-summary.awk

check-host:
	@$(TOP)/tools/tap-suite.sh tap-summary $(TOP)/tools/tests/tap-summary-test.sh
	@$(TOP)/tools/tap-suite.sh lpu-run-args $(TOP)/tools/tests/lpu-run-args-test.sh $(BUILD)/bin/lpu-run
	@$(TOP)/tools/tap-suite.sh liblpu-host $(MAKE) --no-print-directory -s -C libruntime BUILD=$(BUILD) check
	@$(TOP)/tools/tap-suite.sh lpu-compile-unit $(MAKE) --no-print-directory -s -C tools/lpu-compile BUILD=$(BUILD) check
	@$(TOP)/tools/tap-suite.sh lpu-compile-good $(TOP)/tools/tests/lpu-compile-good.sh $(BUILD)/bin/lpu-compile
	@$(TOP)/tools/tap-suite.sh lpu-compile-bad-inputs $(TOP)/tools/tests/lpu-compile-bad-inputs.sh $(BUILD)/bin/lpu-compile
	@$(TOP)/tools/tap-suite.sh lpu-smi-output $(MAKE) --no-print-directory -s -C tools/lpu-smi BUILD=$(BUILD) check
	@$(TOP)/tools/tap-suite.sh lpu-fwpack-unit $(MAKE) --no-print-directory -s -C firmware/lpu-fwpack BUILD=$(BUILD) check
	@$(TOP)/tools/tap-suite.sh lpu-fwpack-cli $(MAKE) --no-print-directory -s -C firmware/lpu-fwpack BUILD=$(BUILD) check-cli

check-qtest:
	@$(TOP)/tools/tap-suite.sh qtest-lpu-v3 $(TOP)/tools/build-qemu.sh --qtest

# The guest prints its own suite frames (tools/guest/run-selftests.sh); the
# boot itself is one more result, so a hung or panicked guest fails.
check-guest:
	@$(TOP)/tools/vm-run.sh --timeout $(GUEST_TIMEOUT) \
		--cmd 'sh /opt/lpu/run-selftests.sh' --log $(BUILD)/guest/check.log; \
	$(TOP)/tools/vm-suite.sh guest-vm $$? $(BUILD)/guest/check.log

# The firmware boot timeout needs a card that never leaves BOOTING
# (x-fw-boot-hang=on): a guest of its own.
check-fw-hang:
	@$(TOP)/tools/check-fw-hang.sh

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

# The MoE lines compare the card with the numpy reference on this host in
# the same run, both with one BLAS thread: QEMU's device model (vm-run.sh
# passes OPENBLAS_NUM_THREADS to QEMU) and numpy. The reference is timed
# first, the best of 3 batches of MOE_BENCH_REPS runs (lpu-bench takes the
# best of 3 batches too: other work on this machine only slows a batch
# down), and its tokens/s goes into the guest as the baseline.
MOE_BENCH_REPS ?= 10
# The bench data after `all` (not beside it under -j: both build lpu-compile).
bench: all
	@$(MAKE) --no-print-directory $(BUILD)/guest/moe-bench.cpio
	@for i in 1 2 3; do OPENBLAS_NUM_THREADS=1 $(PYTHON) $(TOP)/tools/moe/reference.py \
		$(MOE)/ckpt/tput --dtype f32 --exp numpy --time $(MOE_BENCH_REPS) || exit 1; \
	done >$(BUILD)/guest/bench-numpy.txt || { cat $(BUILD)/guest/bench-numpy.txt; exit 1; }
	@base=$$(sed -n 's/.*: \([0-9.]*\) tokens\/s.*/\1/p' $(BUILD)/guest/bench-numpy.txt | \
		sort -g | tail -n 1); \
	[ -n "$$base" ] || { echo "bench: no tokens/s from reference.py"; exit 1; }; \
	OPENBLAS_NUM_THREADS=1 $(TOP)/tools/vm-run.sh --timeout $(GUEST_TIMEOUT) --quiet-boot \
		--mem 2048 --extra-initrd $(BUILD)/guest/moe-bench.cpio \
		--cmd "lpu-bench && lpu-bench --moe /opt/lpu/moe-bench --moe-baseline $$base --moe-repeat $(MOE_BENCH_REPS)" \
		--log $(BUILD)/guest/bench.log; rc=$$?; \
	grep '^BENCH ' $(BUILD)/guest/bench.log; exit $$rc

lint: deps
	@$(MAKE) --no-print-directory qemu
	@$(TOP)/tools/lint.sh

clean:
	@for d in $(USER_DIRS) firmware/lpu-fwpack; do \
		$(MAKE) --no-print-directory -C $$d BUILD=$(BUILD) clean; done
	-$(MAKE) -C $(KDIR) M=$(TOP) clean
	rm -rf $(BUILD)
