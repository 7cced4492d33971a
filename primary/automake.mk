# primary/ -- oko-primary, the DPDK primary process, and the small
# data-path helpers of common/ that every DPDK process links (common/dp.c;
# the lead may move them to a libokodp.la in common/automake.mk).
#
# DPDK's CFLAGS carry -include rte_config.h -march=corei7; its headers
# build cleanly with -Wall -Wextra -Werror, so nothing is relaxed.
OKO_DP_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS) -O2
OKO_DP_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/common
OKO_DP_LDADD = bpf/libokobpf.la $(LIBELF_LIBS) $(DPDK_LIBS)
OKO_DP_SOURCES = common/oko_shm.h common/oko_dp.h common/dp.c

bin_PROGRAMS += primary/oko-primary
primary_oko_primary_SOURCES = \
	primary/primary.h \
	primary/main.c \
	primary/ports.c \
	primary/registry.c \
	primary/io.c \
	primary/supervise.c \
	primary/show.c \
	$(OKO_DP_SOURCES)
primary_oko_primary_CPPFLAGS = $(OKO_DP_CPPFLAGS)
primary_oko_primary_CFLAGS = $(OKO_DP_CFLAGS)
primary_oko_primary_LDADD = $(OKO_DP_LDADD)

# Integration test: real processes on DPDK virtual devices.
TESTS += tests/dp-basic.sh tests/dp-chain.sh
EXTRA_DIST += primary/README.md tests/dp-basic.sh tests/dp-chain.sh
man1_MANS += primary/oko-primary.1
EXTRA_DIST += primary/oko-primary.1
