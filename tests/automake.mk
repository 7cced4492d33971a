# tests/ -- everything make check runs.
#
# Unit tests are CUnit programs, one per module, built twice: plainly and
# against the ASan+UBSan build of the library (the *_asan programs).
UNIT_TESTS = \
	tests/unit/test_loader \
	tests/unit/test_verifier \
	tests/unit/test_interp \
	tests/unit/test_maps \
	tests/unit/test_helpers \
	tests/unit/test_vmdata

UNIT_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"' -DTOP_BUILDDIR='"$(abs_top_builddir)"'
UNIT_LDADD = bpf/libokobpf.la $(LIBELF_LIBS) $(CUNIT_LIBS)

check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
tests_unit_test_loader_SOURCES = tests/unit/test_loader.c tests/unit/cu_main.h
tests_unit_test_loader_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_loader_LDADD = $(UNIT_LDADD)
tests_unit_test_verifier_SOURCES = tests/unit/test_verifier.c tests/unit/cu_main.h
tests_unit_test_verifier_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_verifier_LDADD = $(UNIT_LDADD)
tests_unit_test_interp_SOURCES = tests/unit/test_interp.c tests/unit/cu_main.h
tests_unit_test_interp_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_interp_LDADD = $(UNIT_LDADD)
tests_unit_test_maps_SOURCES = tests/unit/test_maps.c tests/unit/cu_main.h
tests_unit_test_maps_CFLAGS = $(UNIT_CFLAGS) -pthread
tests_unit_test_maps_LDADD = $(UNIT_LDADD) -lpthread
tests_unit_test_helpers_SOURCES = tests/unit/test_helpers.c tests/unit/cu_main.h
tests_unit_test_helpers_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_helpers_LDADD = $(UNIT_LDADD)
tests_unit_test_vmdata_SOURCES = tests/unit/test_vmdata.c tests/unit/cu_main.h
tests_unit_test_vmdata_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_vmdata_LDADD = $(UNIT_LDADD)

if HAVE_ASAN
ASAN_TESTS = \
	tests/unit/test_loader_asan \
	tests/unit/test_verifier_asan \
	tests/unit/test_interp_asan \
	tests/unit/test_maps_asan \
	tests/unit/test_helpers_asan \
	tests/unit/test_vmdata_asan
ASAN_LDADD = bpf/libokobpf_asan.la $(LIBELF_LIBS) $(CUNIT_LIBS)
check_PROGRAMS += $(ASAN_TESTS)
TESTS += $(ASAN_TESTS)
tests_unit_test_loader_asan_SOURCES = $(tests_unit_test_loader_SOURCES)
tests_unit_test_loader_asan_CFLAGS = $(UNIT_CFLAGS) $(SANITIZE_CFLAGS)
tests_unit_test_loader_asan_LDADD = $(ASAN_LDADD)
tests_unit_test_verifier_asan_SOURCES = $(tests_unit_test_verifier_SOURCES)
tests_unit_test_verifier_asan_CFLAGS = $(UNIT_CFLAGS) $(SANITIZE_CFLAGS)
tests_unit_test_verifier_asan_LDADD = $(ASAN_LDADD)
tests_unit_test_interp_asan_SOURCES = $(tests_unit_test_interp_SOURCES)
tests_unit_test_interp_asan_CFLAGS = $(UNIT_CFLAGS) $(SANITIZE_CFLAGS)
tests_unit_test_interp_asan_LDADD = $(ASAN_LDADD)
tests_unit_test_maps_asan_SOURCES = $(tests_unit_test_maps_SOURCES)
tests_unit_test_maps_asan_CFLAGS = $(UNIT_CFLAGS) $(SANITIZE_CFLAGS) -pthread
tests_unit_test_maps_asan_LDADD = $(ASAN_LDADD) -lpthread
tests_unit_test_helpers_asan_SOURCES = $(tests_unit_test_helpers_SOURCES)
tests_unit_test_helpers_asan_CFLAGS = $(UNIT_CFLAGS) $(SANITIZE_CFLAGS)
tests_unit_test_helpers_asan_LDADD = $(ASAN_LDADD)
tests_unit_test_vmdata_asan_SOURCES = $(tests_unit_test_vmdata_SOURCES)
tests_unit_test_vmdata_asan_CFLAGS = $(UNIT_CFLAGS) $(SANITIZE_CFLAGS)
tests_unit_test_vmdata_asan_LDADD = $(ASAN_LDADD)
endif

# BPF objects the unit tests load (written in C, compiled by clang).
TEST_PROG_NAMES = \
	maps_two \
	bpf2bpf \
	strings \
	loop_bounded \
	sec_entry \
	sec_text_call \
	sec_text_maps

TEST_PROG_OBJS = $(TEST_PROG_NAMES:%=tests/progs/%.o)
tests/progs/%.o: $(top_srcdir)/tests/progs/%.c $(top_srcdir)/include/oko_helpers.h $(top_srcdir)/include/oko_net.h
	@$(MKDIR_P) tests/progs
	$(AM_V_GEN)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
check_DATA = $(TEST_PROG_OBJS) $(EXAMPLE_OBJS) $(PCAPS)
CLEANFILES += $(TEST_PROG_OBJS)
EXTRA_DIST += $(TEST_PROG_NAMES:%=tests/progs/%.c) tests/vm tests/verifier

# End-to-end tests through the tools, as users run them.
SHELL_TESTS = \
	tests/examples.sh \
	tests/oko-bpf.sh \
	tests/plugin.sh \
	tests/fuzz.sh
TESTS += $(SHELL_TESTS)
EXTRA_DIST += $(SHELL_TESTS) tests/lib.sh

# libFuzzer targets (clang), run briefly by tests/fuzz.sh and for as long
# as asked by `make fuzz FUZZ_SECONDS=N`.
FUZZ_TARGETS = tests/fuzz/fuzz_loader tests/fuzz/fuzz_vm
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I$(top_srcdir)/bpf -I$(top_builddir) $(LIBELF_CFLAGS)
FUZZ_BPF_SRCS = $(filter %.c,$(BPF_SOURCES:%=$(top_srcdir)/%))
tests/fuzz/%: $(top_srcdir)/tests/fuzz/%.c $(FUZZ_BPF_SRCS) $(top_srcdir)/bpf/oko_bpf.h $(top_srcdir)/bpf/bpf_priv.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_GEN)$(CLANG) $(FUZZ_CFLAGS) $< $(FUZZ_BPF_SRCS) $(LIBELF_LIBS) -o $@
if HAVE_FUZZ
check_DATA += $(FUZZ_TARGETS)
endif
CLEANFILES += $(FUZZ_TARGETS)
EXTRA_DIST += $(FUZZ_TARGETS:%=%.c) tests/fuzz/corpus

FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz: $(FUZZ_TARGETS) $(EXAMPLE_OBJS) $(TEST_PROG_OBJS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) top_srcdir=$(abs_top_srcdir) top_builddir=$(abs_top_builddir) \
		$(SHELL) $(top_srcdir)/tests/fuzz.sh

# BTF parser and the libbpf/XDP flavour of the loader (issue 7).  The test
# compiles tests/progs/xdp_*.c itself with clang against the system's
# libbpf headers (libbpf-dev), and skips them if those are missing.
# tests/fuzz/fuzz_btf.c builds with `make tests/fuzz/fuzz_btf` (the
# pattern rule above).
check_PROGRAMS += tests/unit/test_btf
TESTS += tests/unit/test_btf
tests_unit_test_btf_SOURCES = tests/unit/test_btf.c tests/unit/cu_main.h
tests_unit_test_btf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_btf_LDADD = $(UNIT_LDADD)
if HAVE_ASAN
check_PROGRAMS += tests/unit/test_btf_asan
TESTS += tests/unit/test_btf_asan
tests_unit_test_btf_asan_SOURCES = $(tests_unit_test_btf_SOURCES)
tests_unit_test_btf_asan_CFLAGS = $(UNIT_CFLAGS) $(SANITIZE_CFLAGS)
tests_unit_test_btf_asan_LDADD = $(ASAN_LDADD)
endif
EXTRA_DIST += tests/progs/xdp_counter.c tests/progs/xdp_conntrack.c \
	tests/progs/xdp_bloom.c tests/progs/xdp_lpm.c tests/progs/xdp_core.c \
	tests/progs/xdp_global.c tests/fuzz/fuzz_btf.c
