# classifier-proc/ -- oko-classifier, the DPDK secondary that classifies
# packets, runs filter chains by ring hand-off and executes actions.
# Shares OKO_DP_* (flags, helpers) with primary/automake.mk and links the
# flow library of common/.
bin_PROGRAMS += classifier-proc/oko-classifier
classifier_proc_oko_classifier_SOURCES = \
	classifier-proc/clsp.h \
	classifier-proc/main.c \
	classifier-proc/chains.c \
	classifier-proc/actions.c \
	$(OKO_DP_SOURCES)
classifier_proc_oko_classifier_CPPFLAGS = $(OKO_DP_CPPFLAGS)
classifier_proc_oko_classifier_CFLAGS = $(OKO_DP_CFLAGS)
classifier_proc_oko_classifier_LDADD = common/libokocommon.la $(OKO_DP_LDADD)

# Integration tests: the whole pipeline on DPDK virtual devices.
CLS_TESTS = tests/cls-forward.sh tests/cls-normal.sh tests/cls-filters.sh \
	tests/cls-restart.sh
TESTS += $(CLS_TESTS)
EXTRA_DIST += $(CLS_TESTS) tests/cls-lib.sh tests/cls-ref.py \
	classifier-proc/README.md
man1_MANS += classifier-proc/oko-classifier.1
EXTRA_DIST += classifier-proc/oko-classifier.1
