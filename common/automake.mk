# common/ -- the flow library: packet parser, flow syntax, priority
# wildcard classifier with filter chains, exact-match cache.  Pure C, no
# DPDK: the classifier process wires it to its rings.
COMMON_SOURCES = \
	common/oko_flow.h \
	common/flow_priv.h \
	common/pkt_parse.c \
	common/flow_key.c \
	common/flow_parse.c \
	common/flow_format.c \
	common/flow_file.c \
	common/classifier.c \
	common/emc.c

noinst_LTLIBRARIES += common/libokocommon.la
common_libokocommon_la_SOURCES = $(COMMON_SOURCES)
common_libokocommon_la_CFLAGS = $(AM_CFLAGS) -O2

# CUnit suites, built plainly and against the ASan+UBSan build of the
# library, as tests/automake.mk does for bpf/.
COMMON_UNIT_TESTS = \
	tests/unit/test_pkt_parse \
	tests/unit/test_flow_parse \
	tests/unit/test_classifier

COMMON_UNIT_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/common
COMMON_UNIT_LDADD = common/libokocommon.la $(CUNIT_LIBS)

check_PROGRAMS += $(COMMON_UNIT_TESTS)
TESTS += $(COMMON_UNIT_TESTS)
tests_unit_test_pkt_parse_SOURCES = tests/unit/test_pkt_parse.c tests/unit/cu_main.h
tests_unit_test_pkt_parse_CPPFLAGS = $(COMMON_UNIT_CPPFLAGS)
tests_unit_test_pkt_parse_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_pkt_parse_LDADD = $(COMMON_UNIT_LDADD)
tests_unit_test_flow_parse_SOURCES = tests/unit/test_flow_parse.c tests/unit/cu_main.h
tests_unit_test_flow_parse_CPPFLAGS = $(COMMON_UNIT_CPPFLAGS)
tests_unit_test_flow_parse_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_flow_parse_LDADD = $(COMMON_UNIT_LDADD)
tests_unit_test_classifier_SOURCES = tests/unit/test_classifier.c tests/unit/cu_main.h
tests_unit_test_classifier_CPPFLAGS = $(COMMON_UNIT_CPPFLAGS)
tests_unit_test_classifier_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_classifier_LDADD = $(COMMON_UNIT_LDADD)

if HAVE_ASAN
check_LTLIBRARIES += common/libokocommon_asan.la
common_libokocommon_asan_la_SOURCES = $(COMMON_SOURCES)
common_libokocommon_asan_la_CFLAGS = $(AM_CFLAGS) $(SANITIZE_CFLAGS)

COMMON_ASAN_TESTS = \
	tests/unit/test_pkt_parse_asan \
	tests/unit/test_flow_parse_asan \
	tests/unit/test_classifier_asan
COMMON_ASAN_LDADD = common/libokocommon_asan.la $(CUNIT_LIBS)
check_PROGRAMS += $(COMMON_ASAN_TESTS)
TESTS += $(COMMON_ASAN_TESTS)
tests_unit_test_pkt_parse_asan_SOURCES = $(tests_unit_test_pkt_parse_SOURCES)
tests_unit_test_pkt_parse_asan_CPPFLAGS = $(COMMON_UNIT_CPPFLAGS)
tests_unit_test_pkt_parse_asan_CFLAGS = $(UNIT_CFLAGS) $(SANITIZE_CFLAGS)
tests_unit_test_pkt_parse_asan_LDADD = $(COMMON_ASAN_LDADD)
tests_unit_test_flow_parse_asan_SOURCES = $(tests_unit_test_flow_parse_SOURCES)
tests_unit_test_flow_parse_asan_CPPFLAGS = $(COMMON_UNIT_CPPFLAGS)
tests_unit_test_flow_parse_asan_CFLAGS = $(UNIT_CFLAGS) $(SANITIZE_CFLAGS)
tests_unit_test_flow_parse_asan_LDADD = $(COMMON_ASAN_LDADD)
tests_unit_test_classifier_asan_SOURCES = $(tests_unit_test_classifier_SOURCES)
tests_unit_test_classifier_asan_CPPFLAGS = $(COMMON_UNIT_CPPFLAGS)
tests_unit_test_classifier_asan_CFLAGS = $(UNIT_CFLAGS) $(SANITIZE_CFLAGS)
tests_unit_test_classifier_asan_LDADD = $(COMMON_ASAN_LDADD)
endif

# How fast the classifier looks up (make bench-classifier; not a test).
noinst_PROGRAMS += bench/bench_classifier
bench_bench_classifier_SOURCES = bench/bench_classifier.c
bench_bench_classifier_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/common
bench_bench_classifier_CFLAGS = $(AM_CFLAGS) -O2
bench_bench_classifier_LDADD = common/libokocommon.la

.PHONY: bench-classifier
bench-classifier: bench/bench_classifier
	$(top_builddir)/bench/bench_classifier

EXTRA_DIST += common/README.md
