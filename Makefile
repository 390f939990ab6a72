# bpflet: one entry point. make | make check | make bench | make demo | make deps | make clean
#
# Layout of the build: everything goes to build/ (never committed).
#   build/bpf/*.bpf.o      BPF objects (clang -target bpf -g, BTF kept)
#   build/skel/*.skel.h    libbpf skeletons (bpftool gen skeleton)
#   build/obj/...          userspace objects; build/asan/... the same with ASan+UBSan for tests
#   build/bin/             bpflet, bpflet-cni, bpfletctl and test/bench binaries

CC ?= gcc
BPF_CLANG ?= $(shell command -v clang-19 || command -v clang)
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)

B := build
PKGS := libbpf libxdp jansson yaml-0.1 libnl-3.0 libnl-route-3.0 libevent libcurl openssl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Iheaders -I. -I$(B)/skel
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDLIBS = $(PKG_LIBS) -lelf -lz -lpthread
CP_LIBS = $(shell pkg-config --libs libnghttp2 libevent_openssl sqlite3 2>/dev/null)
BPF_CFLAGS := -target bpf -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-D__TARGET_ARCH_x86 -Iheaders -Ibpf -I$(ARCH_INC)

# ---- sources, grouped by what links them ----
BPF_SRCS := $(wildcard bpf/*.bpf.c) $(wildcard selftests/bench/*.bpf.c)
BPF_OBJS := $(patsubst %.bpf.c,$(B)/bpf/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS := $(patsubst %.bpf.c,$(B)/skel/%.skel.h,$(notdir $(BPF_SRCS)))
BPF_HDRS := $(wildcard bpf/lib/*.h) $(wildcard headers/bpflet/*.h)

COMMON_SRCS := $(wildcard agent/common/*.c)
COMPILE_SRCS := $(wildcard controlplane/compile/*.c) $(wildcard agent/manifests/*.c)
DATAPLANE_SRCS := $(wildcard agent/dataplane/*.c)
AGENT_SRCS := $(wildcard agent/*.c) $(wildcard agent/kube/*.c)
# the pure part of agent/kube (no sockets, no event loop), unit-tested on its own
KUBE_PURE_SRCS := agent/kube/kubeconfig.c $(wildcard agent/kube/informer_state.c) agent/kube/svc_index.c \
	agent/kube/parse_ahead.c
CNI_LIB_SRCS := $(filter-out agent/cni/main.c,$(wildcard agent/cni/*.c))
CTL_SRCS := $(wildcard tools/bpfletctl/*.c)
CP_SRCS := $(wildcard controlplane/apiserver/*.c controlplane/store/*.c controlplane/controllers/*.c)
# server-side apply reads YAML bodies with the manifest loader's YAML→JSON reader
CP_SRCS += agent/manifests/yaml_json.c agent/manifests/yaml_scalar.c
UNIT_CP_SRCS := $(wildcard selftests/unit/controlplane/*.c)
UNIT_COMPILE_SRCS := $(wildcard selftests/unit/compile/*.c)
UNIT_CNI_SRCS := $(wildcard selftests/unit/cni/*.c)
UNIT_DP_SRCS := $(wildcard selftests/unit/dataplane/*.c)
UNIT_KUBE_SRCS := $(wildcard selftests/unit/kube/*.c)
BPFTEST_SRCS := $(wildcard selftests/bpf/*.c)
BENCH_SRCS := $(wildcard selftests/bench/*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
asan = $(patsubst %.c,$(B)/asan/%.o,$(1))

BINS := $(B)/bin/bpflet $(B)/bin/bpflet-cni $(B)/bin/bpfletctl
TEST_BINS := $(B)/bin/test_compile $(B)/bin/test_cni $(B)/bin/test_dataplane $(B)/bin/test_kube $(B)/bin/test_bpf \
	$(B)/bin/xdp_second $(B)/bin/tcp_rr $(B)/bin/kp_fe_wait
# the control plane joins the build as soon as it has an entry point
ifneq ($(wildcard controlplane/main.c),)
BINS += $(B)/bin/bpflet-controlplane
TEST_BINS += $(B)/bin/test_controlplane
endif
BENCH_BINS := $(B)/bin/bench_prog $(B)/bin/tcp_rr $(B)/bin/bench_maglev $(B)/bin/bench_policy \
	$(B)/bin/kp_fe_wait
ifneq ($(wildcard controlplane/main.c),)
BENCH_BINS += $(B)/bin/bench_cp $(B)/bin/bench_kube_change
endif

.PHONY: all check bench bench-plot demo deps clean format test-unit test-bpf test-e2e
# keep the BPF objects: bpftool and tests load them too, not only the skeletons
.SECONDARY: $(BPF_OBJS)
all: $(BINS)

# ---- BPF ----
$(B)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(B)/bpf
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@
$(B)/bpf/%.bpf.o: selftests/bench/%.bpf.c $(BPF_HDRS) $(wildcard selftests/bench/*.h) | $(B)/bpf
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@
$(B)/skel/%.skel.h: $(B)/bpf/%.bpf.o | $(B)/skel
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

# ---- userspace ----
$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@
$(B)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@
# Only code that embeds a BPF object waits for the skeletons.
SKEL_USERS := $(call obj,$(DATAPLANE_SRCS) $(BENCH_SRCS)) $(call asan,$(BPFTEST_SRCS))
$(SKEL_USERS): $(SKELS)

$(B)/bin/bpflet: $(call obj,$(AGENT_SRCS) $(DATAPLANE_SRCS) $(COMPILE_SRCS) $(COMMON_SRCS)) | $(B)/bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(B)/bin/bpflet-cni: $(call obj,agent/cni/main.c $(CNI_LIB_SRCS) $(COMMON_SRCS)) | $(B)/bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(B)/bin/bpfletctl: $(call obj,$(CTL_SRCS) $(COMMON_SRCS)) | $(B)/bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs libpcap)
$(B)/bin/bpflet-controlplane: $(call obj,controlplane/main.c $(CP_SRCS) $(COMMON_SRCS)) | $(B)/bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(CP_LIBS)

# Unit tests (Criterion): pure code, no root, sanitizers on.
$(B)/bin/test_compile: $(call asan,$(UNIT_COMPILE_SRCS) $(COMPILE_SRCS) $(COMMON_SRCS)) | $(B)/bin
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS) -lcriterion
$(B)/bin/test_cni: $(call asan,$(UNIT_CNI_SRCS) $(CNI_LIB_SRCS) $(COMMON_SRCS)) | $(B)/bin
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS) -lcriterion
$(B)/bin/test_controlplane: $(call asan,$(UNIT_CP_SRCS) $(CP_SRCS) $(COMMON_SRCS)) | $(B)/bin
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS) $(CP_LIBS) -lcriterion
$(B)/bin/test_dataplane: $(call asan,$(UNIT_DP_SRCS) agent/dataplane/svc_sync.c agent/dataplane/id_table.c controlplane/compile/maglev.c $(COMMON_SRCS)) | $(B)/bin
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS) -lcriterion
$(B)/bin/test_kube: $(call asan,$(UNIT_KUBE_SRCS) $(KUBE_PURE_SRCS) agent/manifests/yaml_json.c agent/manifests/yaml_scalar.c $(COMMON_SRCS)) | $(B)/bin
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS) -lcriterion
# BPF_PROG_TEST_RUN cases: need root, sanitizers on.
$(B)/bin/test_bpf: $(call asan,$(BPFTEST_SRCS) controlplane/compile/maglev.c agent/dataplane/ct_gc.c agent/dataplane/ct_migrate.c agent/dataplane/svc_sync.c agent/dataplane/id_table.c agent/dataplane/batch_writer.c agent/dataplane/id_stats.c agent/dataplane/mon_flag.c agent/dataplane/pol_migrate.c agent/dataplane/pol_sync.c $(COMPILE_SRCS) $(COMMON_SRCS)) | $(B)/bin
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS)
$(B)/bin/xdp_second: $(call obj,selftests/e2e/xdp_second.c) | $(B)/bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(B)/bin/bench_prog: $(call obj,selftests/bench/bench_prog.c selftests/bpf/packet.c $(COMMON_SRCS)) | $(B)/bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(B)/bin/bench_policy: $(call obj,selftests/bench/bench_policy.c selftests/bench/np_objects.c selftests/bpf/packet.c agent/dataplane/pol_sync.c $(COMPILE_SRCS) $(COMMON_SRCS)) | $(B)/bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(B)/bin/bench_maglev: $(call obj,selftests/bench/bench_maglev.c agent/dataplane/svc_sync.c agent/dataplane/id_table.c controlplane/compile/maglev.c) | $(B)/bin
	$(CC) $(CFLAGS) -o $@ $^
$(B)/bin/tcp_rr: $(call obj,selftests/bench/tcp_rr.c) | $(B)/bin
	$(CC) $(CFLAGS) -o $@ $^
$(B)/bin/kp_fe_wait: $(call obj,selftests/bench/kp_fe_wait.c) | $(B)/bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(B)/bin/bench_cp: $(call obj,selftests/bench/controlplane/bench_cp.c selftests/bench/np_objects.c selftests/bench/bench_http.c $(CP_SRCS) $(COMMON_SRCS)) | $(B)/bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(CP_LIBS)
$(B)/bin/bench_kube_change: $(call obj,selftests/bench/bench_kube_change.c selftests/bench/bench_http.c) | $(B)/bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lpthread

$(B)/bpf $(B)/skel $(B)/bin:
	mkdir -p $@

# ---- entry points ----
deps:
	bash scripts/deps.sh

check: all $(TEST_BINS)
	bash selftests/run_all.sh

test-unit: $(B)/bin/test_compile $(B)/bin/test_cni $(B)/bin/test_dataplane $(B)/bin/test_kube
	$(B)/bin/test_compile && $(B)/bin/test_cni && $(B)/bin/test_dataplane && $(B)/bin/test_kube
test-bpf: all $(B)/bin/test_bpf
	$(B)/bin/test_bpf
test-e2e: all
	bash selftests/e2e/run.sh

bench: all $(BENCH_BINS)
	bash selftests/bench/run.sh

# docs/bench-kp.png from the last kube-proxy comparison (build/bench-kp.json)
bench-plot:
	bash selftests/bench/kp_plot.sh

demo: all
	bash scripts/demo.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
