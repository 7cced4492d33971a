# filter-proc/ -- oko-filter, the DPDK secondary running one filter
# program.  Shares OKO_DP_* (flags, helpers) with primary/automake.mk.
bin_PROGRAMS += filter-proc/oko-filter
filter_proc_oko_filter_SOURCES = filter-proc/main.c $(OKO_DP_SOURCES)
filter_proc_oko_filter_CPPFLAGS = $(OKO_DP_CPPFLAGS)
filter_proc_oko_filter_CFLAGS = $(OKO_DP_CFLAGS)
filter_proc_oko_filter_LDADD = $(OKO_DP_LDADD)
EXTRA_DIST += filter-proc/README.md
man1_MANS += filter-proc/oko-filter.1
EXTRA_DIST += filter-proc/oko-filter.1
