# SPDX-License-Identifier: MIT
# Shared build rules of the command-line tools in tools/<name>/. A tool's
# Makefile sets NAME, SRCS, HEADERS and PKGS (pkg-config modules), then
# includes this file. Tools link liblpu statically, so they run without an
# installed library (in the guest, or from the build tree); one that does
# not use it (firmware/lpu-fwpack) sets NO_LIBLPU := 1.

BUILD ?= $(abspath ../../build)
REPO := $(abspath ../..)

CC ?= cc
PKG_CONFIG ?= pkg-config

CFLAGS := -Wall -Wextra -Werror -O2 -g -std=gnu11 -D_GNU_SOURCE \
	-I$(REPO)/uapi -I$(REPO)/libruntime \
	$(shell $(PKG_CONFIG) --cflags $(PKGS)) $(EXTRA_CFLAGS)
LIBLPU := $(if $(NO_LIBLPU),,$(BUILD)/lib/liblpu.a)
LDLIBS := $(LIBLPU) $(shell $(PKG_CONFIG) --libs $(PKGS))

OBJDIR := $(BUILD)/obj/$(NAME)
OBJS := $(SRCS:%.c=$(OBJDIR)/%.o)
BIN := $(BUILD)/bin/$(NAME)

.PHONY: all clean liblpu

all: $(BIN)

liblpu:
	$(MAKE) -C $(REPO)/libruntime BUILD=$(BUILD) $(BUILD)/lib/liblpu.a

$(BUILD)/lib/liblpu.a: liblpu

$(OBJDIR)/%.o: %.c $(HEADERS) | $(OBJDIR)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BIN): $(OBJS) $(LIBLPU) | $(BUILD)/bin
	$(CC) -o $@ $(OBJS) $(LDLIBS)

$(OBJDIR) $(BUILD)/bin:
	mkdir -p $@

clean:
	rm -rf $(OBJDIR) $(BIN)
