# examples/ -- example filter programs (OKO-ABI.md), built with clang
# -target bpf in three flavours: -O2 (default cpu), -mcpu=v3, and -g (BTF).
EXAMPLE_NAMES = \
	stateless-firewall \
	rate-limiter \
	tcp-firewall \
	os-fingerprint \
	tcp-diag \
	bloom-blocklist \
	heavy-hitter

EXAMPLE_OBJS = \
	$(EXAMPLE_NAMES:%=examples/bpf/%.o) \
	$(EXAMPLE_NAMES:%=examples/bpf/%.v3.o) \
	$(EXAMPLE_NAMES:%=examples/bpf/%.g.o)

BPF_CFLAGS = -O2 -target bpf -I$(top_srcdir)/include -Wall -Werror

examples/bpf/%.o: $(top_srcdir)/examples/bpf/%.c $(top_srcdir)/include/oko_helpers.h $(top_srcdir)/include/oko_net.h
	@$(MKDIR_P) examples/bpf
	$(AM_V_GEN)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
examples/bpf/%.v3.o: $(top_srcdir)/examples/bpf/%.c $(top_srcdir)/include/oko_helpers.h $(top_srcdir)/include/oko_net.h
	@$(MKDIR_P) examples/bpf
	$(AM_V_GEN)$(CLANG) $(BPF_CFLAGS) -mcpu=v3 -c $< -o $@
examples/bpf/%.g.o: $(top_srcdir)/examples/bpf/%.c $(top_srcdir)/include/oko_helpers.h $(top_srcdir)/include/oko_net.h
	@$(MKDIR_P) examples/bpf
	$(AM_V_GEN)$(CLANG) $(BPF_CFLAGS) -g -c $< -o $@

noinst_DATA += $(EXAMPLE_OBJS)
CLEANFILES += $(EXAMPLE_OBJS)
EXTRA_DIST += $(EXAMPLE_NAMES:%=examples/bpf/%.c) examples/README.md examples/demo.flows

# Packet captures for the examples' tests and the demo, made by a script.
PCAPS = tests/pcaps/.stamp
tests/pcaps/.stamp: $(top_srcdir)/scripts/gen-pcaps.py
	@$(MKDIR_P) tests/pcaps
	$(AM_V_GEN)$(PYTHON3) $(top_srcdir)/scripts/gen-pcaps.py tests/pcaps && touch $@
noinst_DATA += $(PCAPS)
EXTRA_DIST += scripts/gen-pcaps.py
clean-local: clean-pcaps
clean-pcaps:
	rm -rf tests/pcaps
