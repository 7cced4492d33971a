# bpf/ -- the eBPF library: loader, verifier, interpreter, maps, helpers,
# disassembler.  No DPDK dependency.
BPF_SOURCES = \
	bpf/oko_bpf.h \
	bpf/bpf_priv.h \
	bpf/prog.c \
	bpf/elf.c \
	bpf/btf.c \
	bpf/verify.c \
	bpf/interp.c \
	bpf/maps.c \
	bpf/lookup3.c \
	bpf/helpers.c \
	bpf/disasm.c

noinst_LTLIBRARIES += bpf/libokobpf.la
bpf_libokobpf_la_SOURCES = $(BPF_SOURCES)
bpf_libokobpf_la_CFLAGS = $(AM_CFLAGS) $(LIBELF_CFLAGS)
bpf_libokobpf_la_LIBADD = $(LIBELF_LIBS)

# The same library built with AddressSanitizer and UBSan, for the unit
# tests' sanitizer run (make check runs both).
if HAVE_ASAN
SANITIZE_CFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1
check_LTLIBRARIES += bpf/libokobpf_asan.la
bpf_libokobpf_asan_la_SOURCES = $(BPF_SOURCES)
bpf_libokobpf_asan_la_CFLAGS = $(AM_CFLAGS) $(LIBELF_CFLAGS) $(SANITIZE_CFLAGS)
bpf_libokobpf_asan_la_LIBADD = $(LIBELF_LIBS)
endif

EXTRA_DIST += bpf/README.md
