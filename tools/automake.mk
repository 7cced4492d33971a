# tools/ -- oko-bpf (offline program tool).
bin_PROGRAMS += tools/oko-bpf
tools_oko_bpf_SOURCES = tools/oko-bpf.c tools/pcap.c tools/pcap.h
tools_oko_bpf_CFLAGS = $(AM_CFLAGS)
tools_oko_bpf_LDADD = bpf/libokobpf.la $(LIBELF_LIBS)
man1_MANS += tools/oko-bpf.1
EXTRA_DIST += tools/oko-bpf.1 tools/README.md
