# bench/ -- benchmarks (make bench), never part of make check.
noinst_PROGRAMS += bench/bench_interp
bench_bench_interp_SOURCES = bench/bench_interp.c
bench_bench_interp_CFLAGS = $(AM_CFLAGS) -O2
bench_bench_interp_LDADD = bpf/libokobpf.la $(LIBELF_LIBS)

.PHONY: bench
bench: bench/bench_interp $(EXAMPLE_OBJS)
	$(top_builddir)/bench/bench_interp $(top_builddir)/examples/bpf
