# relaywatch build. `make` builds build/relaywatch; `make test`, `make run`,
# `make bench` install their own dependencies first (scripts/setup.sh).
# Quiet by default, V=1 for the full commands.

BUILD    := build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
	    -Iinclude $(addprefix -I,$(USER_DIRS)) -I$(BUILD)
LDLIBS   := -lbpf -lelf -lz -lyaml -lcrypto -ljson-c -luring -lsystemd -lmicrohttpd -lpthread
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Wextra \
	    -Werror -Wno-unused-parameter -Iinclude -Ibpf -I$(BUILD)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
# user/: by layer; every layer's headers are included by name
USER_DIRS := user user/policy user/kernel user/events user/sinks user/cli \
	     user/report
USER_SRCS := $(filter-out user/cli/main.c,$(foreach d,$(USER_DIRS),$(wildcard $(d)/*.c)))
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
INTEG_SRCS := $(wildcard tests/integ/*.c)
INTEG_BINS := $(patsubst tests/integ/%.c,$(BUILD)/tests/integ_%,$(INTEG_SRCS))

.PHONY: all test unit run bench bench-report deps deps-test clean test-kernels man \
	install uninstall deb
.DELETE_ON_ERROR:

all: $(BUILD)/relaywatch

$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h $(wildcard bpf/*.h) include/relaywatch.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# a compat unit is its hook family's source built with RW_COMPAT
$(BUILD)/bpf/skb_compat.bpf.o: bpf/skb.bpf.c
$(BUILD)/bpf/sock_addr_compat.bpf.o: bpf/sock_addr.bpf.c

# The packet parsers verify in less than half the instructions as -mcpu=v2
# (measured: DNS 126k vs 285k), which is most of the start-up time.
$(BUILD)/bpf/skb.bpf.o $(BUILD)/bpf/skb_compat.bpf.o: BPF_CFLAGS := $(subst -mcpu=v3,-mcpu=v2,$(BPF_CFLAGS))
# the builds for kernels without bpf_loop include their twin's source
$(BUILD)/bpf/%_compat.bpf.o: bpf/%.bpf.c

$(BUILD)/relaywatch.bpf.o: $(BPF_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(BUILD)/relaywatch.skel.h: $(BUILD)/relaywatch.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name relaywatch > $@

$(BUILD)/user/%.o: user/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# only the modules that include the skeleton wait for the BPF build
SKEL_USERS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(shell grep -l 'relaywatch.skel.h' $(USER_SRCS) 2>/dev/null))
$(SKEL_USERS): $(BUILD)/relaywatch.skel.h

$(BUILD)/librw.a: $(USER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/relaywatch: $(BUILD)/user/cli/main.o $(BUILD)/librw.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# tests/integ/persist.c upgrades to two more builds of the same code:
# "rebuilt" has other BPF bytes and the same maps (adopted, its programs
# swapped in); "nextfmt" also claims another format of pinned state (a
# set made beside the old one)
NEXT := $(BUILD)/next
NEXT_SKEL_USERS := $(patsubst $(BUILD)/%,$(NEXT)/%,$(SKEL_USERS))
$(NEXT)/bpf/proc.bpf.o: bpf/proc.bpf.c $(BUILD)/vmlinux.h $(wildcard bpf/*.h) include/relaywatch.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DRW_BUILD_TAG=1 -c $< -o $@
$(NEXT)/relaywatch.bpf.o: $(filter-out $(BUILD)/bpf/proc.bpf.o,$(BPF_OBJS)) $(NEXT)/bpf/proc.bpf.o
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^
$(NEXT)/relaywatch.skel.h: $(NEXT)/relaywatch.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name relaywatch > $@
$(NEXT)/user/%.o: user/%.c $(NEXT)/relaywatch.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -I$(NEXT) $(CFLAGS) -MMD -MP -c $< -o $@
$(NEXT)/fmt/attach.o: user/kernel/attach.c $(NEXT)/relaywatch.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -I$(NEXT) $(CFLAGS) -DRW_FORMAT_NEXT -MMD -MP -c $< -o $@
$(BUILD)/tests/relaywatch-rebuilt: $(BUILD)/user/cli/main.o $(NEXT_SKEL_USERS) $(BUILD)/librw.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@
$(BUILD)/tests/relaywatch-nextfmt: $(BUILD)/user/cli/main.o $(filter-out %/attach.o,$(NEXT_SKEL_USERS)) $(NEXT)/fmt/attach.o $(BUILD)/librw.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@
NEXT_BINS := $(BUILD)/tests/relaywatch-rebuilt $(BUILD)/tests/relaywatch-nextfmt

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/librw.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(BUILD)/librw.a $(LDLIBS) -lcmocka -o $@

$(BUILD)/tests/integ_%: tests/integ/%.c $(BUILD)/librw.a $(wildcard tests/integ/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(BUILD)/librw.a $(LDLIBS) -lcmocka -lpthread -o $@

$(BUILD):
	$(Q)mkdir -p $@

# build and runtime packages only (make run); test adds the tests' own
deps:
	$(Q)bash scripts/setup.sh
deps-test:
	$(Q)bash scripts/setup.sh test

unit: $(UNIT_BINS)

# The README's test command: installs what it needs, mounts bpffs/tracefs.
test: deps-test
	$(Q)$(MAKE) --no-print-directory all unit $(INTEG_BINS) $(NEXT_BINS)
	$(Q)bash tests/run.sh

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./$(BUILD)/relaywatch trace $(ARGS)

# make test-kernels: the smoke suite on each kernel of tests/kernels/
# kernels.conf, booted under qemu; RW_KERNELS="6.1" runs a subset
$(BUILD)/kernels/rwclient: tests/kernels/rwclient.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -static $< -o $@

test-kernels:
	$(Q)bash scripts/setup.sh kernels
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/kernels/rwclient
	$(Q)bash tests/kernels/run.sh

$(BUILD)/bench: tests/bench/bench.c tests/bench/bench_util.h $(BUILD)/librw.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(BUILD)/librw.a $(LDLIBS) -o $@

$(BUILD)/bench_restart: tests/bench/restart.c tests/bench/bench_util.h $(BUILD)/librw.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(BUILD)/librw.a $(LDLIBS) -o $@

$(BUILD)/bench_sinks: tests/bench/sinks.c tests/bench/bench_util.h $(BUILD)/librw.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(BUILD)/librw.a $(LDLIBS) -o $@

$(BUILD)/bench_report: tests/bench/report.c tests/bench/bench_util.h $(BUILD)/librw.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(BUILD)/librw.a $(LDLIBS) -o $@

# make bench-report: relaywatch report's reading speed alone (no root,
# no kernel); REPORT_MB sets the generated log's size
REPORT_MB ?= 256
bench-report: $(BUILD)/bench_report
	$(Q)./$(BUILD)/bench_report $(REPORT_MB)

bench: deps-test
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/bench $(BUILD)/bench_restart $(BUILD)/bench_sinks $(BUILD)/bench_report
	$(Q)./$(BUILD)/bench $(ARGS)
	$(Q)./$(BUILD)/bench_restart
	$(Q)./$(BUILD)/bench_sinks
	$(Q)./$(BUILD)/bench_report $(REPORT_MB)

clean:
	$(Q)rm -rf $(BUILD)

# ---- install: PREFIX for the program, man page and completion; the
# configuration, log and unit go where Debian keeps them. DESTDIR stages.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
LOGDIR     ?= /var/log/relaywatch

man: $(BUILD)/relaywatch.8
$(BUILD)/relaywatch.8: user/cli/relaywatch.8.scd | $(BUILD)
	$(call msg,SCDOC,$@)
	$(Q)scdoc < $< > $@

# the policy is the administrator's once installed: never overwritten
install: $(BUILD)/relaywatch $(BUILD)/relaywatch.8
	$(call msg,INSTALL,$(DESTDIR)$(SBINDIR)/relaywatch)
	$(Q)install -D -m 0755 $(BUILD)/relaywatch $(DESTDIR)$(SBINDIR)/relaywatch
	$(Q)install -D -m 0644 $(BUILD)/relaywatch.8 $(DESTDIR)$(MANDIR)/man8/relaywatch.8
	$(Q)install -d $(DESTDIR)$(UNITDIR)
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' dist/relaywatch.service.in > $(DESTDIR)$(UNITDIR)/relaywatch.service
	$(Q)install -D -m 0644 dist/relaywatch.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/relaywatch
	$(Q)install -D -m 0644 dist/relaywatch.bash-completion $(DESTDIR)$(BASHCOMPDIR)/relaywatch
	$(Q)install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/relaywatch/intel.d
	$(Q)install -d -m 0750 $(DESTDIR)$(LOGDIR)
	$(Q)if [ -e $(DESTDIR)$(SYSCONFDIR)/relaywatch/policy.yaml ]; then \
		echo "  KEEP     $(DESTDIR)$(SYSCONFDIR)/relaywatch/policy.yaml (yours; the shipped one is etc/policy.yaml)"; \
	else \
		install -m 0644 etc/policy.yaml $(DESTDIR)$(SYSCONFDIR)/relaywatch/policy.yaml; \
	fi
	$(Q)install -m 0644 etc/intel.d/README $(DESTDIR)$(SYSCONFDIR)/relaywatch/intel.d/README

# removes what install put there, except the policy and intel files an
# administrator may have changed, and the logs
uninstall:
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/relaywatch $(DESTDIR)$(MANDIR)/man8/relaywatch.8 \
		$(DESTDIR)$(UNITDIR)/relaywatch.service \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d/relaywatch \
		$(DESTDIR)$(BASHCOMPDIR)/relaywatch \
		$(DESTDIR)$(SYSCONFDIR)/relaywatch/intel.d/README
	$(Q)echo "  KEPT     $(DESTDIR)$(SYSCONFDIR)/relaywatch/ and $(DESTDIR)$(LOGDIR)/ (remove them by hand)"

# make deb: a Debian package of this build (dpkg-deb; scripts/mkdeb.sh)
deb: $(BUILD)/relaywatch $(BUILD)/relaywatch.8
	$(Q)bash scripts/mkdeb.sh $(BUILD)

-include $(wildcard $(BUILD)/user/*.d $(BUILD)/user/*/*.d $(BUILD)/next/*/*/*.d $(BUILD)/next/fmt/*.d)

# data embedded with .incbin: rebuild when the file changes
$(BUILD)/user/policy/defaults.o: etc/trace-policy.yaml
$(BUILD)/user/policy/intel_data.o: etc/intel/endpoints.yaml
$(BUILD)/user/policy/geo_data.o: etc/geo/country.bin.z

# ---- wire parsers (bpf/wire.h): unit tests, kernel twin check, fuzzing
WIRE_DEPS := bpf/wire.h tests/unit/wire_cases.h
$(BUILD)/tests/test_wire $(BUILD)/tests/test_wire_proxy $(BUILD)/tests/test_wire_tcp: $(WIRE_DEPS)

# test-only BPF programs (tests/bpf): loaded and test-run, never attached
$(BUILD)/tests/%.bpf.o: tests/bpf/%.bpf.c tests/bpf/%.h $(BUILD)/vmlinux.h $(wildcard bpf/*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

.PRECIOUS: $(BUILD)/tests/%.bpf.o
$(BUILD)/tests/%.skel.h: $(BUILD)/tests/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

$(BUILD)/tests/integ_wire_check: tests/bpf/wire_check.c $(BUILD)/tests/wire_check.skel.h tests/bpf/wire_check.h $(WIRE_DEPS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BUILD)/tests $< -lbpf -lelf -lz -lcmocka -o $@

INTEG_BINS += $(BUILD)/tests/integ_wire_check

# make fuzz: each parser FUZZ_TIME seconds (libFuzzer + ASan + UBSan),
# corpus seeded with the unit-test payloads; crashes land in build/fuzz/
FUZZ_TIME ?= 600
FUZZ_PARSERS := dns tls http socks5 flow dnstcp
.PHONY: fuzz
$(BUILD)/fuzz/fuzz_wire: tests/fuzz/fuzz_wire.c $(WIRE_DEPS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O1 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
		-fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $< -o $@

# the configuration parsers: policy, intel, RIR (CONFIG_FUZZ picks one)
FUZZ_CONFIGS := policy intel rir
FUZZ_CONFIG_SRCS := tests/fuzz/fuzz_config.c user/log.c \
	$(addprefix user/policy/,policy.c policy_keys.c policy_match.c ydoc.c \
	  names.c intel.c intel_load.c intel_data.c cidr.c geo.c geo_data.c \
	  geo_tab.c)
$(BUILD)/fuzz/fuzz_config: $(FUZZ_CONFIG_SRCS) $(wildcard user/policy/*.h) etc/intel/endpoints.yaml etc/geo/country.bin.z
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O1 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
		-Iinclude $(addprefix -I,$(USER_DIRS)) \
		-fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(FUZZ_CONFIG_SRCS) \
		-lyaml -lcrypto -lz -o $@

fuzz: $(BUILD)/fuzz/fuzz_wire $(BUILD)/fuzz/fuzz_config
	$(Q)for p in $(FUZZ_CONFIGS); do \
		mkdir -p $(BUILD)/fuzz/corpus-$$p || exit 1; \
		cp tests/fuzz/seeds/$$p/* $(BUILD)/fuzz/corpus-$$p/ 2>/dev/null; \
		echo "  FUZZ     $$p $(FUZZ_TIME)s"; \
		CONFIG_FUZZ=$$p ./$(BUILD)/fuzz/fuzz_config $(BUILD)/fuzz/corpus-$$p \
			-max_total_time=$(FUZZ_TIME) -max_len=8192 \
			-dict=tests/fuzz/yaml.dict \
			-print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/$$p- \
			>$(BUILD)/fuzz/$$p.log 2>&1; rc=$$?; \
		tail -n 8 $(BUILD)/fuzz/$$p.log; [ $$rc = 0 ] || exit 1; \
	done
	$(Q)for p in $(FUZZ_PARSERS); do \
		mkdir -p $(BUILD)/fuzz/corpus-$$p || exit 1; \
		echo "  FUZZ     $$p $(FUZZ_TIME)s"; \
		WIRE_FUZZ=$$p WIRE_FUZZ_SEEDS=$(BUILD)/fuzz/corpus-$$p \
		./$(BUILD)/fuzz/fuzz_wire $(BUILD)/fuzz/corpus-$$p \
			-max_total_time=$(FUZZ_TIME) -max_len=4200 \
			-print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/$$p- \
			>$(BUILD)/fuzz/$$p.log 2>&1; rc=$$?; \
		tail -n 8 $(BUILD)/fuzz/$$p.log; [ $$rc = 0 ] || exit 1; \
	done
