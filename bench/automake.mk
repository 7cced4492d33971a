# bench/ -- benchmarks (make bench), never part of make check.
noinst_PROGRAMS += bench/bench_interp
bench_bench_interp_SOURCES = bench/bench_interp.c
bench_bench_interp_CFLAGS = $(AM_CFLAGS) -O2
bench_bench_interp_LDADD = bpf/libokobpf.la $(LIBELF_LIBS)

.PHONY: bench
bench: bench/bench_interp $(EXAMPLE_OBJS)
	$(top_builddir)/bench/bench_interp $(top_builddir)/examples/bpf

# make bench-dp: data-plane Mpps and cycles/packet vs. dpdk-testpmd
# (bench/README.md); the CSV goes to the build directory.
EXTRA_DIST += bench/bench-dp.sh bench/README.md
.PHONY: bench-dp
bench-dp: primary/oko-primary classifier-proc/oko-classifier filter-proc/oko-filter $(EXAMPLE_OBJS)
	top_builddir=$(abs_top_builddir) top_srcdir=$(abs_top_srcdir) \
	    OUT=$(abs_top_builddir)/bench-dp-$$(date +%Y%m%d-%H%M%S).csv \
	    $(SHELL) $(top_srcdir)/bench/bench-dp.sh
