# tools/ -- oko-bpf (offline program tool).
bin_PROGRAMS += tools/oko-bpf
tools_oko_bpf_SOURCES = tools/oko-bpf.c tools/pcap.c tools/pcap.h
tools_oko_bpf_CFLAGS = $(AM_CFLAGS)
tools_oko_bpf_LDADD = bpf/libokobpf.la $(LIBELF_LIBS)
man1_MANS += tools/oko-bpf.1
EXTRA_DIST += tools/oko-bpf.1 tools/README.md

# The bpf_conformance runner starts its plugin without a command word: a
# link named oko-bpf-plugin starts oko-bpf in plugin mode.
install-exec-hook:
	cd $(DESTDIR)$(bindir) && $(LN_S) -f oko-bpf oko-bpf-plugin
uninstall-hook:
	rm -f $(DESTDIR)$(bindir)/oko-bpf-plugin
