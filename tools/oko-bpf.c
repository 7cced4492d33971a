/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * oko-bpf.c -- the offline program tool: verify, disassemble, list maps,
 * run a filter program over a pcap file, and a plugin mode for the
 * bpf_conformance test runner.  See oko-bpf(1).
 *
 * Exit status: 0 success, 1 a program, verifier, input or run-time error
 * (one line "oko-bpf: ..." on stderr), 2 a usage error.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "oko_bpf.h"
#include "pcap.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define EXIT_USAGE 2
#define ERRLEN 512

/* Longest raw program file `disasm --raw` reads: BPF_MAX_INSNS slots. */
#define RAW_MAX_BYTES ((size_t) BPF_MAX_INSNS * sizeof(struct bpf_inst))

/* How many run-time faults `run` reports one by one on stderr before it
 * only counts them. */
#define RUN_MAX_FAULT_MSGS 10

static const char *const usage_main =
    "Usage: oko-bpf COMMAND [OPTIONS]\n"
    "Offline tool for oko filter programs (eBPF ELF objects).\n"
    "\n"
    "Commands:\n"
    "  verify PROG.o        load and verify a filter program\n"
    "  disasm PROG.o        disassemble a program\n"
    "  maps PROG.o          list the maps a program declares\n"
    "  run PROG.o --pcap F  run a program on every frame of a pcap file\n"
    "  plugin [MEMHEX]      bpf_conformance plugin: program in hex on stdin\n"
    "\n"
    "Options:\n"
    "  -h, --help           this help (or `oko-bpf COMMAND --help`)\n"
    "  -V, --version        print the version\n"
    "\n"
    "Exit status: 0 success, 1 program/verifier/input error, 2 usage error.\n";

static const char *const usage_verify =
    "Usage: oko-bpf verify PROG.o [--section S] [--entry E]\n"
    "Loads PROG.o and verifies it as a filter program (r1 = packet,\n"
    "r2 = its length).  Prints \"PROG.o: OK (...)\" or the loader's or\n"
    "verifier's message.\n"
    "\n"
    "  -s, --section S      code section (default: first non-empty one)\n"
    "  -e, --entry E        entry function (default: `entry` or section start)\n"
    "  -h, --help           this help\n";

static const char *const usage_disasm =
    "Usage: oko-bpf disasm PROG.o [--section S] [--entry E]\n"
    "       oko-bpf disasm --raw FILE\n"
    "Disassembles a program, one instruction per line: index, bytes, text.\n"
    "\n"
    "  -s, --section S      code section (default: first non-empty one)\n"
    "  -e, --entry E        entry function\n"
    "  -r, --raw            FILE holds raw 8-byte instructions, not ELF\n"
    "  -h, --help           this help\n";

static const char *const usage_maps =
    "Usage: oko-bpf maps PROG.o [--section S] [--entry E]\n"
    "Lists the maps PROG.o declares: id, name, type, sizes.\n"
    "\n"
    "  -s, --section S      code section (default: first non-empty one)\n"
    "  -e, --entry E        entry function\n"
    "  -h, --help           this help\n";

static const char *const usage_run =
    "Usage: oko-bpf run PROG.o --pcap FILE [OPTIONS]\n"
    "Runs PROG.o on every Ethernet frame of FILE (classic pcap) with fresh\n"
    "maps, prints how many frames matched (r0 == 1), then the maps.\n"
    "\n"
    "  -f, --pcap FILE      the capture to read (required)\n"
    "  -p, --per-packet     one line per frame\n"
    "  -q, --quiet          do not print the maps\n"
    "  -n, --count N        stop after N frames\n"
    "      --no-verify      skip the verifier; check accesses at run time\n"
    "  -s, --section S      code section (default: first non-empty one)\n"
    "  -e, --entry E        entry function\n"
    "  -h, --help           this help\n";

static const char *const usage_plugin =
    "Usage: oko-bpf plugin [MEMHEX] [--elf] [--interpret|--jit]\n"
    "       [--program HEX]\n"
    "Plugin for the bpf_conformance runner: reads one line of hex bytes\n"
    "(raw instructions, or an ELF object with --elf) from stdin, runs it\n"
    "with r1 = a copy of MEMHEX (hex bytes) and r2 = its length, and\n"
    "prints r0 in hex.  --jit runs the interpreter (there is no JIT yet).\n"
    "The same mode runs when the program is invoked as oko-bpf-plugin.\n";

/* ---------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------- */

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "oko-bpf: ..." on stderr. */
static void
msg(const char *fmt, ...)
{
    va_list ap;

    fputs("oko-bpf: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reports a usage error in one line and returns the exit status for it. */
static int
usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "oko-bpf: %s%s", cmd ? cmd : "", cmd ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try `oko-bpf %s%s--help`)\n", cmd ? cmd : "",
            cmd ? " " : "");
    return EXIT_USAGE;
}

/* Prints a library message about file path: verbatim, prefixed with the
 * path unless the message already starts with it. */
static void
file_error(const char *path, const char *err)
{
    size_t n = strlen(path);

    if (!err[0]) {
        err = "unknown error";
    }
    if (!strncmp(err, path, n) && err[n] == ':') {
        msg("%s", err);
    } else {
        msg("%s: %s", path, err);
    }
}

static const char *
map_type_name(uint32_t type)
{
    switch (type) {
    case BPF_MAP_ARRAY:
        return "array";
    case BPF_MAP_BLOOM:
        return "bloom";
    case BPF_MAP_CMS:
        return "count-min";
    case BPF_MAP_HASH:
        return "hash";
    default:
        return "unknown";
    }
}

static bool
map_has_hashes(uint32_t type)
{
    return type == BPF_MAP_BLOOM || type == BPF_MAP_CMS;
}

static void
print_hex(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%02x", p[i]);
    }
}

/* ---------------------------------------------------------------------
 * Options shared by the commands that load an ELF file
 * ------------------------------------------------------------------- */

struct common_opts {
    struct bpf_load_opts load;
    const char *path;
};

static struct bpf_prog *
load_prog(const struct common_opts *co)
{
    char err[ERRLEN] = "";
    struct bpf_prog *prog;

    prog = bpf_prog_load_file(co->path, &co->load, err, sizeof err);
    if (!prog) {
        file_error(co->path, err[0] ? err : strerror(errno));
    }
    return prog;
}

/* Verifies prog as a filter.  Returns 0 or prints the verifier's message
 * and returns -1. */
static int
verify_prog(const struct common_opts *co, const struct bpf_prog *prog,
            struct bpf_verify_stats *stats)
{
    struct bpf_verify_opts vo = { .mode = BPF_VERIFY_FILTER };
    char err[ERRLEN] = "";

    memset(stats, 0, sizeof *stats);
    if (bpf_verify(prog, &vo, stats, err, sizeof err) < 0) {
        file_error(co->path, err);
        return -1;
    }
    return 0;
}

/* Parses the positional PROG.o argument left by getopt.  Returns 0 or a
 * usage exit status. */
static int
take_path(const char *cmd, int argc, char **argv, struct common_opts *co)
{
    if (optind >= argc) {
        return usage_error(cmd, "missing program file");
    }
    co->path = argv[optind++];
    if (optind < argc) {
        return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    }
    return 0;
}

/* getopt_long() that reports errors in our one-line format.  Returns the
 * option, -1 at the end, or '?' (already reported) on an error.  GNU
 * getopt permutes, so options may follow PROG.o. */
static int
next_opt(const char *cmd, int argc, char **argv, const char *shortopts,
         const struct option *longopts)
{
    const char *arg;
    int c;

    opterr = 0;
    c = getopt_long(argc, argv, shortopts, longopts, NULL);
    if (c != '?' && c != ':') {
        return c;
    }
    arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    if (c == ':') {
        if (!strncmp(arg, "--", 2)) {
            usage_error(cmd, "option '%s' needs an argument", arg);
        } else {
            usage_error(cmd, "option '-%c' needs an argument", optopt);
        }
    } else if (optopt == 0 || !strncmp(arg, "--", 2)) {
        usage_error(cmd, "bad option '%s'", arg);
    } else {
        usage_error(cmd, "unknown option '-%c'", optopt);
    }
    return '?';
}

/* ---------------------------------------------------------------------
 * verify, disasm, maps
 * ------------------------------------------------------------------- */

static int
cmd_verify(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "section", required_argument, NULL, 's' },
        { "entry", required_argument, NULL, 'e' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct common_opts co = { { NULL, NULL, BPF_FLAVOUR_AUTO }, NULL };
    struct bpf_verify_stats stats;
    struct bpf_prog *prog;
    size_t n;
    int c, ret;

    while ((c = next_opt("verify", argc, argv, ":s:e:h", longopts)) != -1) {
        switch (c) {
        case 's':
            co.load.section = optarg;
            break;
        case 'e':
            co.load.entry = optarg;
            break;
        case 'h':
            fputs(usage_verify, stdout);
            return 0;
        default:
            return EXIT_USAGE;
        }
    }
    ret = take_path("verify", argc, argv, &co);
    if (ret) {
        return ret;
    }
    prog = load_prog(&co);
    if (!prog) {
        return 1;
    }
    if (verify_prog(&co, prog, &stats) < 0) {
        bpf_prog_free(prog);
        return 1;
    }
    bpf_prog_insns(prog, &n);
    printf("%s: OK (%zu instructions, %zu maps, %" PRIu64 " states, "
           "max stack %" PRIu32 " bytes)\n", co.path, n, bpf_prog_nmaps(prog),
           stats.states_stored, stats.max_stack);
    bpf_prog_free(prog);
    return 0;
}

/* Longest part of a string shown after a read-only data lddw. */
#define RODATA_SHOW_MAX 48

/* Appends a C-style quoted copy of the NUL-terminated string at off in the
 * program's read-only data to line (size bytes), if there is one there. */
static void
append_rodata_string(const struct bpf_prog *prog, uint32_t off, char *line,
                     size_t size)
{
    char q[RODATA_SHOW_MAX * 4 + 1];
    size_t len, used = strlen(line), qn = 0;
    const uint8_t *ro = bpf_prog_rodata(prog, &len);
    const uint8_t *s, *end;

    if (!ro || off >= len || !memchr(ro + off, '\0', len - off)
        || used >= size) {
        return;
    }
    s = ro + off;
    end = s + strlen((const char *) s);
    for (; s < end && s - (ro + off) < RODATA_SHOW_MAX; s++) {
        /* Each character takes at most 4 bytes of q. */
        switch (*s) {
        case '\n':
            q[qn++] = '\\';
            q[qn++] = 'n';
            break;
        case '\t':
            q[qn++] = '\\';
            q[qn++] = 't';
            break;
        case '"':
        case '\\':
            q[qn++] = '\\';
            q[qn++] = (char) *s;
            break;
        default:
            if (isprint(*s)) {
                q[qn++] = (char) *s;
            } else {
                snprintf(q + qn, sizeof q - qn, "\\x%02x", *s);
                qn += 4;
            }
            break;
        }
    }
    q[qn] = '\0';
    snprintf(line + used, size - used, "  ; \"%s%s\"", q,
             s < end ? "..." : "");
}

/* Disassembles one instruction with names from prog: map names for a map
 * lddw, the string for a read-only data lddw, the function for a local
 * call.  Returns the number of slots. */
static int
disasm_line(const struct bpf_prog *prog, const struct bpf_inst *insns,
            size_t n, size_t i, char *line, size_t size)
{
    const struct bpf_inst *in = &insns[i];
    int slots = bpf_disasm_insn(insns, n, i, line, size);

    if (in->code == (BPF_CLS_LD | BPF_SIZE_DW | BPF_MODE_IMM) && slots == 2) {
        if (in->src == BPF_PSEUDO_MAP_IDX) {
            const struct bpf_map_desc *m = bpf_prog_map(prog,
                                                        (uint32_t) in->imm);

            if (m) {
                snprintf(line, size, "r%u = map %s ll", in->dst, m->name);
            }
        } else if (in->src == BPF_PSEUDO_RODATA) {
            append_rodata_string(prog, (uint32_t) in->imm, line, size);
        }
    } else if (in->code == (BPF_CLS_JMP | BPF_JMP_CALL)
               && in->src == BPF_PSEUDO_CALL) {
        int64_t target = (int64_t) i + 1 + in->imm;
        const char *name = NULL;
        char *lt = strrchr(line, '<');

        if (target >= 0 && (uint64_t) target < n) {
            name = bpf_prog_symbol_at(prog, (size_t) target);
        }
        if (name && lt) {
            snprintf(lt, size - (size_t) (lt - line), "<%s>", name);
        }
    }
    return slots;
}

static void
print_disasm(const struct bpf_prog *prog)
{
    const struct bpf_inst *insns;
    char line[256];
    size_t n, i;

    insns = bpf_prog_insns(prog, &n);
    for (i = 0; i < n;) {
        const char *sym = bpf_prog_symbol_at(prog, i);
        int slots;

        if (sym) {
            printf("%s%s:\n", i ? "\n" : "", sym);
        }
        slots = disasm_line(prog, insns, n, i, line, sizeof line);
        printf("%4zu:", i);
        for (int s = 0; s < slots && i + s < n; s++) {
            const struct bpf_inst *in = &insns[i + s];
            uint16_t off = (uint16_t) in->off;
            uint32_t imm = (uint32_t) in->imm;

            printf(" %02x %02x %02x %02x %02x %02x %02x %02x", in->code,
                   (unsigned) (in->dst | in->src << 4), off & 0xff, off >> 8,
                   imm & 0xff, (imm >> 8) & 0xff, (imm >> 16) & 0xff,
                   imm >> 24);
        }
        printf("  %s\n", line);
        i += (size_t) slots;
    }
}

/* Reads a file of raw instructions into a program. */
static struct bpf_prog *
load_raw_file(const char *path)
{
    char err[ERRLEN] = "";
    struct bpf_prog *prog = NULL;
    struct bpf_inst *insns = NULL;
    struct stat st;
    size_t got;
    FILE *f;

    f = fopen(path, "rb");
    if (!f) {
        msg("%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        msg("%s: not a regular file", path);
        goto out;
    }
    if (st.st_size == 0 || (size_t) st.st_size > RAW_MAX_BYTES
        || st.st_size % sizeof(struct bpf_inst)) {
        msg("%s: size %lld is not a multiple of 8 between 8 and %zu", path,
            (long long) st.st_size, RAW_MAX_BYTES);
        goto out;
    }
    insns = malloc((size_t) st.st_size);
    if (!insns) {
        msg("out of memory");
        goto out;
    }
    got = fread(insns, 1, (size_t) st.st_size, f);
    if (got != (size_t) st.st_size) {
        msg("%s: short read", path);
        goto out;
    }
    prog = bpf_prog_load_raw(insns, got / sizeof *insns, err, sizeof err);
    if (!prog) {
        file_error(path, err);
    }

out:
    free(insns);
    fclose(f);
    return prog;
}

static int
cmd_disasm(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "section", required_argument, NULL, 's' },
        { "entry", required_argument, NULL, 'e' },
        { "raw", no_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct common_opts co = { { NULL, NULL, BPF_FLAVOUR_AUTO }, NULL };
    struct bpf_prog *prog;
    bool raw = false;
    int c, ret;

    while ((c = next_opt("disasm", argc, argv, ":s:e:rh", longopts)) != -1) {
        switch (c) {
        case 's':
            co.load.section = optarg;
            break;
        case 'e':
            co.load.entry = optarg;
            break;
        case 'r':
            raw = true;
            break;
        case 'h':
            fputs(usage_disasm, stdout);
            return 0;
        default:
            return EXIT_USAGE;
        }
    }
    ret = take_path("disasm", argc, argv, &co);
    if (ret) {
        return ret;
    }
    if (raw && (co.load.section || co.load.entry)) {
        return usage_error("disasm", "--raw takes no --section or --entry");
    }
    prog = raw ? load_raw_file(co.path) : load_prog(&co);
    if (!prog) {
        return 1;
    }
    print_disasm(prog);
    bpf_prog_free(prog);
    return fflush(stdout) ? 1 : 0;
}

static void
print_map_desc(size_t i, const struct bpf_map_desc *m)
{
    printf("%zu %s %s key %" PRIu32 " value %" PRIu32 " max_entries %" PRIu32,
           i, m->name, map_type_name(m->def.type), m->def.key_size,
           m->def.value_size, m->def.max_entries);
    if (map_has_hashes(m->def.type)) {
        printf(" hashes %" PRIu32, m->def.nb_hash_functions);
    }
    putchar('\n');
}

static int
cmd_maps(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "section", required_argument, NULL, 's' },
        { "entry", required_argument, NULL, 'e' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct common_opts co = { { NULL, NULL, BPF_FLAVOUR_AUTO }, NULL };
    struct bpf_prog *prog;
    int c, ret;

    while ((c = next_opt("maps", argc, argv, ":s:e:h", longopts)) != -1) {
        switch (c) {
        case 's':
            co.load.section = optarg;
            break;
        case 'e':
            co.load.entry = optarg;
            break;
        case 'h':
            fputs(usage_maps, stdout);
            return 0;
        default:
            return EXIT_USAGE;
        }
    }
    ret = take_path("maps", argc, argv, &co);
    if (ret) {
        return ret;
    }
    prog = load_prog(&co);
    if (!prog) {
        return 1;
    }
    for (size_t i = 0; i < bpf_prog_nmaps(prog); i++) {
        print_map_desc(i, bpf_prog_map(prog, i));
    }
    bpf_prog_free(prog);
    return fflush(stdout) ? 1 : 0;
}

/* ---------------------------------------------------------------------
 * run
 * ------------------------------------------------------------------- */

/* Maps of a program, created with the default (malloc) allocator. */
struct map_set {
    struct bpf_map *maps[BPF_MAX_MAPS];
    size_t n;
};

static void
maps_destroy(struct map_set *ms)
{
    for (size_t i = 0; i < ms->n; i++) {
        bpf_map_destroy(ms->maps[i], NULL);
    }
    ms->n = 0;
}

/* Creates the maps prog declares.  Returns 0, or -1 with a message in
 * err. */
static int
maps_create(const struct bpf_prog *prog, struct map_set *ms, char *err,
            size_t errlen)
{
    size_t n = bpf_prog_nmaps(prog);

    ms->n = 0;
    for (size_t i = 0; i < n && i < BPF_MAX_MAPS; i++) {
        const struct bpf_map_desc *m = bpf_prog_map(prog, i);

        ms->maps[i] = bpf_map_create(&m->def, m->name, NULL);
        if (!ms->maps[i]) {
            snprintf(err, errlen, "map %zu %s: cannot create: %s", i,
                     m->name, strerror(errno));
            maps_destroy(ms);
            return -1;
        }
        ms->n++;
    }
    return 0;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

/* One entry of a hash map, for sorting the dump by key. */
struct dump_entry {
    uint8_t *kv;            /* key_size bytes of key, then the value */
};

static size_t sort_key_size;

static int
cmp_entries(const void *a_, const void *b_)
{
    const struct dump_entry *a = a_, *b = b_;

    return memcmp(a->kv, b->kv, sort_key_size);
}

/* Prints a hash map sorted by key, so that dumps are stable. */
static int
dump_hash(size_t idx, struct bpf_map *map, const struct bpf_map_def *def,
          uint8_t *key, uint8_t *value)
{
    size_t ks = def->key_size, vs = def->value_size;
    struct dump_entry *ents = NULL;
    size_t n = 0, cap = 0, i;
    uint64_t cursor = 0;
    int ret = -1;

    while (bpf_map_next(map, &cursor, key, value) == 1) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct dump_entry *ne = realloc(ents, ncap * sizeof *ents);

            if (!ne) {
                goto out;
            }
            ents = ne;
            cap = ncap;
        }
        ents[n].kv = malloc(ks + vs);
        if (!ents[n].kv) {
            goto out;
        }
        memcpy(ents[n].kv, key, ks);
        memcpy(ents[n].kv + ks, value, vs);
        n++;
    }
    sort_key_size = ks;
    if (n) {
        qsort(ents, n, sizeof *ents, cmp_entries);
    }
    printf("map %zu %s (hash, key %zu, value %zu, max_entries %" PRIu32
           "): %zu entries\n", idx, bpf_map_get_name(map), ks, vs,
           def->max_entries, n);
    for (i = 0; i < n; i++) {
        fputs("  key ", stdout);
        print_hex(stdout, ents[i].kv, ks);
        fputs(" value ", stdout);
        print_hex(stdout, ents[i].kv + ks, vs);
        putchar('\n');
    }
    ret = 0;

out:
    for (i = 0; i < n; i++) {
        free(ents[i].kv);
    }
    free(ents);
    if (ret) {
        msg("out of memory dumping map %zu", idx);
    }
    return ret;
}

/* Prints map idx after a run (see oko-bpf(1) for the formats). */
static int
dump_map(size_t idx, struct bpf_map *map)
{
    const struct bpf_map_def *def = bpf_map_get_def(map);
    size_t ks = def->key_size < 8 ? 8 : def->key_size;
    size_t vs = def->value_size < 8 ? 8 : def->value_size;
    uint8_t *key = calloc(1, ks), *value = calloc(1, vs);
    uint64_t cursor, count = 0;
    int ret = 0;
    uint32_t k;

    if (!key || !value) {
        msg("out of memory dumping map %zu", idx);
        ret = -1;
        goto out;
    }
    if (def->type == BPF_MAP_HASH) {
        ret = dump_hash(idx, map, def, key, value);
        goto out;
    }

    /* First pass: count what will be printed, for the header. */
    cursor = 0;
    while (bpf_map_next(map, &cursor, key, value) == 1) {
        if (def->type != BPF_MAP_ARRAY
            || !all_zero(value, def->value_size)) {
            count++;
        }
    }
    printf("map %zu %s (%s, key %" PRIu32 ", value %" PRIu32
           ", max_entries %" PRIu32, idx, bpf_map_get_name(map),
           map_type_name(def->type), def->key_size, def->value_size,
           def->max_entries);
    if (map_has_hashes(def->type)) {
        printf(", hashes %" PRIu32, def->nb_hash_functions);
    }
    printf("): %" PRIu64 " %s\n", count,
           def->type == BPF_MAP_ARRAY ? "non-zero"
           : def->type == BPF_MAP_BLOOM ? "bits set" : "non-zero counters");

    cursor = 0;
    while (bpf_map_next(map, &cursor, key, value) == 1) {
        switch (def->type) {
        case BPF_MAP_ARRAY:
            if (all_zero(value, def->value_size)) {
                break;
            }
            fputs("  key ", stdout);
            print_hex(stdout, key, def->key_size);
            fputs(" value ", stdout);
            print_hex(stdout, value, def->value_size);
            putchar('\n');
            break;
        case BPF_MAP_BLOOM:
            memcpy(&k, key, sizeof k);
            printf("  bit %" PRIu32 "\n", k);
            break;
        case BPF_MAP_CMS: {
            uint32_t cnt;

            memcpy(&k, key, sizeof k);
            memcpy(&cnt, value, sizeof cnt);
            printf("  row %" PRIu32 " col %" PRIu32 " count %" PRIu32 "\n",
                   k >> 24, k & 0xffffffu, cnt);
            break;
        }
        default:
            break;
        }
    }

out:
    free(key);
    free(value);
    return ret;
}

struct run_opts {
    const char *pcap;
    bool per_packet;
    bool quiet;
    bool no_verify;
    uint64_t count;         /* 0 = all */
};

static int
parse_count(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!isdigit((unsigned char) s[0])) {
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v == 0) {
        return -1;
    }
    *out = v;
    return 0;
}

static int
run_pcap(const struct common_opts *co, const struct run_opts *ro,
         struct bpf_vm *vm)
{
    uint64_t npkts = 0, matched = 0, faults = 0;
    char err[ERRLEN] = "";
    struct oko_pcap *pcap;
    struct oko_pcap_pkt pkt;
    int r;

    if (oko_pcap_open(ro->pcap, &pcap, err, sizeof err) < 0) {
        msg("%s", err);
        return -1;
    }
    while (!ro->count || npkts < ro->count) {
        uint64_t r0 = 0;
        uint8_t *frame;

        r = oko_pcap_next(pcap, &pkt, err, sizeof err);
        if (r < 0) {
            msg("%s", err);
            oko_pcap_close(pcap);
            return -1;
        }
        if (r == 0) {
            break;
        }
        npkts++;
        /* A fresh copy in a buffer of exactly the frame's size, so that a
         * program cannot see the previous frame or bytes past the end. */
        frame = malloc(pkt.caplen ? pkt.caplen : 1);
        if (!frame) {
            msg("out of memory");
            oko_pcap_close(pcap);
            return -1;
        }
        if (pkt.caplen) {
            memcpy(frame, pkt.data, pkt.caplen);
        }
        err[0] = '\0';
        r = bpf_vm_exec(vm, frame, pkt.caplen, &r0, err, sizeof err);
        free(frame);
        if (r < 0) {
            faults++;
            if (faults <= RUN_MAX_FAULT_MSGS) {
                msg("pkt %" PRIu64 ": %s", npkts, err[0] ? err
                    : strerror(-r));
            }
            if (ro->per_packet) {
                printf("pkt %" PRIu64 " len %" PRIu32 " error\n", npkts,
                       pkt.caplen);
            }
            continue;
        }
        if (r0 == 1) {
            matched++;
        }
        if (ro->per_packet) {
            printf("pkt %" PRIu64 " len %" PRIu32 " r0 0x%" PRIx64 " %s\n",
                   npkts, pkt.caplen, r0, r0 == 1 ? "match" : "no-match");
        }
    }
    oko_pcap_close(pcap);
    printf("packets %" PRIu64 " matched %" PRIu64 " not-matched %" PRIu64
           "\n", npkts, matched, npkts - matched);
    if (faults) {
        msg("%s: %" PRIu64 " of %" PRIu64 " packets ended with a run-time "
            "error (counted as not matched)", co->path, faults, npkts);
        return 1;
    }
    return 0;
}

static int
cmd_run(int argc, char **argv)
{
    enum { OPT_NO_VERIFY = 256 };
    static const struct option longopts[] = {
        { "pcap", required_argument, NULL, 'f' },
        { "per-packet", no_argument, NULL, 'p' },
        { "quiet", no_argument, NULL, 'q' },
        { "count", required_argument, NULL, 'n' },
        { "no-verify", no_argument, NULL, OPT_NO_VERIFY },
        { "section", required_argument, NULL, 's' },
        { "entry", required_argument, NULL, 'e' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct common_opts co = { { NULL, NULL, BPF_FLAVOUR_AUTO }, NULL };
    struct run_opts ro = { NULL, false, false, false, 0 };
    struct bpf_verify_stats stats;
    struct map_set ms = { .n = 0 };
    struct bpf_prog *prog = NULL;
    struct bpf_vm *vm = NULL;
    char err[ERRLEN] = "";
    int c, ret;

    while ((c = next_opt("run", argc, argv, ":f:pqn:s:e:h", longopts))
           != -1) {
        switch (c) {
        case 'f':
            ro.pcap = optarg;
            break;
        case 'p':
            ro.per_packet = true;
            break;
        case 'q':
            ro.quiet = true;
            break;
        case 'n':
            if (parse_count(optarg, &ro.count) < 0) {
                return usage_error("run", "--count needs a positive "
                                   "integer, not '%s'", optarg);
            }
            break;
        case OPT_NO_VERIFY:
            ro.no_verify = true;
            break;
        case 's':
            co.load.section = optarg;
            break;
        case 'e':
            co.load.entry = optarg;
            break;
        case 'h':
            fputs(usage_run, stdout);
            return 0;
        default:
            return EXIT_USAGE;
        }
    }
    ret = take_path("run", argc, argv, &co);
    if (ret) {
        return ret;
    }
    if (!ro.pcap) {
        return usage_error("run", "missing --pcap FILE");
    }

    ret = 1;
    prog = load_prog(&co);
    if (!prog) {
        goto out;
    }
    if (!ro.no_verify && verify_prog(&co, prog, &stats) < 0) {
        goto out;
    }
    if (maps_create(prog, &ms, err, sizeof err) < 0) {
        file_error(co.path, err);
        goto out;
    }
    vm = bpf_vm_create(prog, ms.n ? ms.maps : NULL,
                       ro.no_verify ? BPF_VM_BOUNDS_CHECK : 0, err,
                       sizeof err);
    if (!vm) {
        file_error(co.path, err[0] ? err : strerror(errno));
        goto out;
    }
    ret = run_pcap(&co, &ro, vm);
    if (ret < 0) {
        ret = 1;
        goto out;
    }
    if (!ro.quiet) {
        for (size_t i = 0; i < ms.n; i++) {
            if (dump_map(i, ms.maps[i]) < 0) {
                ret = 1;
                break;
            }
        }
    }
    if (fflush(stdout)) {
        ret = 1;
    }

out:
    bpf_vm_destroy(vm);
    maps_destroy(&ms);
    bpf_prog_free(prog);
    return ret;
}

/* ---------------------------------------------------------------------
 * plugin (bpf_conformance)
 * ------------------------------------------------------------------- */

static int
hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = tolower(c);
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/* Decodes hex bytes: tokens separated by white space, each one either a
 * single digit (one byte, as the runner's own decoder accepts) or an even
 * number of digits ("b7 00" and "b700" are the same two bytes).  Returns
 * 0 with a malloc'd buffer in *out (NULL if empty) or -1 with a message in
 * err. */
static int
parse_hex(const char *s, uint8_t **out, size_t *lenp, char *err,
          size_t errlen)
{
    size_t cap = strlen(s) / 2 + 1, len = 0;
    uint8_t *buf = malloc(cap);
    const char *p = s;

    *out = NULL;
    *lenp = 0;
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    while (*p) {
        const char *tok;
        size_t n;

        if (isspace((unsigned char) *p)) {
            p++;
            continue;
        }
        tok = p;
        while (*p && !isspace((unsigned char) *p)) {
            if (hexval((unsigned char) *p) < 0) {
                snprintf(err, errlen, "bad hex digit '%c' at offset %zu",
                         isprint((unsigned char) *p) ? *p : '?',
                         (size_t) (p - s));
                free(buf);
                return -1;
            }
            p++;
        }
        n = (size_t) (p - tok);
        if (n == 1) {
            buf[len++] = (uint8_t) hexval((unsigned char) tok[0]);
        } else if (n % 2) {
            snprintf(err, errlen, "odd number of hex digits at offset %zu",
                     (size_t) (tok - s));
            free(buf);
            return -1;
        } else {
            for (size_t i = 0; i < n; i += 2) {
                buf[len++] = (uint8_t) (hexval((unsigned char) tok[i]) << 4
                                        | hexval((unsigned char) tok[i + 1]));
            }
        }
    }
    if (len == 0) {
        free(buf);
        buf = NULL;
    }
    *out = buf;
    *lenp = len;
    return 0;
}

struct plugin_opts {
    const char *mem;        /* MEMHEX, or NULL */
    const char *program;    /* --program HEX, or NULL: read stdin */
    bool elf;
    bool jit;
};

/* Parses the plugin's arguments.  The runner passes "MEMHEX" and its
 * --plugin_options string as single arguments, either possibly empty, and
 * the options string may hold several options separated by spaces, so
 * arguments are split on white space here rather than left to getopt. */
static int
plugin_args(int argc, char **argv, struct plugin_opts *po, bool *help)
{
    bool have_mem = false;

    *help = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *copy, *tok, *save = NULL;
        int ret = 0;

        while (isspace((unsigned char) *a)) {
            a++;
        }
        if (strncmp(a, "-", 1)) {
            /* Not an option: the memory (may be empty or blank).  An empty
             * argument after it is an empty options string. */
            if (!*a && have_mem) {
                continue;
            }
            if (have_mem) {
                return usage_error("plugin", "unexpected argument '%s'",
                                   argv[i]);
            }
            po->mem = argv[i];
            have_mem = true;
            continue;
        }
        copy = strdup(a);
        if (!copy) {
            msg("out of memory");
            return 1;
        }
        for (tok = strtok_r(copy, " \t\r\n", &save); tok && !ret;
             tok = strtok_r(NULL, " \t\r\n", &save)) {
            if (!strcmp(tok, "--elf")) {
                po->elf = true;
            } else if (!strcmp(tok, "--jit")) {
                po->jit = true;
            } else if (!strcmp(tok, "--interpret")) {
                po->jit = false;
            } else if (!strcmp(tok, "--help") || !strcmp(tok, "-h")) {
                *help = true;
            } else if (!strcmp(tok, "--program")) {
                if (i + 1 >= argc || strtok_r(NULL, " \t\r\n", &save)) {
                    ret = usage_error("plugin", "--program needs one "
                                      "argument");
                } else {
                    po->program = argv[++i];
                }
            } else {
                ret = usage_error("plugin", "unknown option '%s'", tok);
            }
        }
        free(copy);
        if (ret) {
            return ret;
        }
    }
    return 0;
}

/* Reports a plugin failure on stderr and, as the runner compares a failed
 * plugin's stdout with the test's expected error, on stdout too. */
static int plugin_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
plugin_fail(const char *fmt, ...)
{
    char line[ERRLEN + 64];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("%s\n", line);
    fflush(stdout);
    msg("plugin: %s", line);
    return 1;
}

/* Reads one line from stdin into a malloc'd string without its newline. */
static char *
read_line(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);

    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
        line[--n] = '\0';
    }
    return line;
}

static int
cmd_plugin(int argc, char **argv)
{
    struct bpf_verify_opts vo = { .mode = BPF_VERIFY_STRUCTURAL };
    struct plugin_opts po = { NULL, NULL, false, false };
    uint8_t *code = NULL, *mem = NULL;
    size_t codelen = 0, memlen = 0;
    struct map_set ms = { .n = 0 };
    struct bpf_prog *prog = NULL;
    struct bpf_inst *insns = NULL;
    struct bpf_vm *vm = NULL;
    char err[ERRLEN] = "";
    char *line = NULL;
    uint64_t r0 = 0;
    bool help;
    int ret;

    ret = plugin_args(argc, argv, &po, &help);
    if (ret) {
        return ret;
    }
    if (help) {
        fputs(usage_plugin, stdout);
        return 0;
    }

    ret = 1;
    if (po.mem && parse_hex(po.mem, &mem, &memlen, err, sizeof err) < 0) {
        plugin_fail("bad memory argument: %s", err);
        goto out;
    }
    if (!po.program) {
        line = read_line();
        if (!line) {
            plugin_fail("no program on standard input");
            goto out;
        }
    }
    if (parse_hex(po.program ? po.program : line, &code, &codelen, err,
                  sizeof err) < 0) {
        plugin_fail("bad program: %s", err);
        goto out;
    }
    if (codelen == 0) {
        plugin_fail("empty program");
        goto out;
    }

    if (po.elf) {
        prog = bpf_prog_load_elf(code, codelen, NULL, err, sizeof err);
    } else if (codelen % sizeof(struct bpf_inst)) {
        plugin_fail("program length %zu is not a multiple of %zu", codelen,
                    sizeof(struct bpf_inst));
        goto out;
    } else {
        /* A copy with the alignment of struct bpf_inst. */
        insns = malloc(codelen);
        if (!insns) {
            plugin_fail("out of memory");
            goto out;
        }
        memcpy(insns, code, codelen);
        prog = bpf_prog_load_raw(insns, codelen / sizeof *insns, err,
                                 sizeof err);
    }
    if (!prog) {
        plugin_fail("Failed to load code: %s", err[0] ? err
                    : strerror(errno));
        goto out;
    }
    if (bpf_verify(prog, &vo, NULL, err, sizeof err) < 0) {
        plugin_fail("Failed to verify code: %s", err);
        goto out;
    }
    if (maps_create(prog, &ms, err, sizeof err) < 0) {
        plugin_fail("Failed to create maps: %s", err);
        goto out;
    }
    vm = bpf_vm_create(prog, ms.n ? ms.maps : NULL, BPF_VM_BOUNDS_CHECK, err,
                       sizeof err);
    if (!vm) {
        plugin_fail("Failed to create VM: %s", err[0] ? err
                    : strerror(errno));
        goto out;
    }
    /* As ubpf's plugin: r1 = NULL and r2 = 0 when there is no memory. */
    if (bpf_vm_exec(vm, mem, memlen, &r0, err, sizeof err) < 0) {
        plugin_fail("Failed to execute program: %s", err);
        goto out;
    }
    printf("%" PRIx64 "\n", r0);
    ret = fflush(stdout) ? 1 : 0;

out:
    bpf_vm_destroy(vm);
    maps_destroy(&ms);
    bpf_prog_free(prog);
    free(insns);
    free(code);
    free(mem);
    free(line);
    return ret;
}

/* ---------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------- */

int
main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int argc, char **argv);
    } cmds[] = {
        { "verify", cmd_verify },
        { "disasm", cmd_disasm },
        { "maps", cmd_maps },
        { "run", cmd_run },
        { "plugin", cmd_plugin },
    };
    const char *base = argv[0] ? strrchr(argv[0], '/') : NULL;

    base = base ? base + 1 : argv[0] ? argv[0] : "";
    if (!strcmp(base, "oko-bpf-plugin")) {
        return cmd_plugin(argc, argv);
    }
    if (argc < 2) {
        return usage_error(NULL, "missing command");
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")
        || !strcmp(argv[1], "help")) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("oko-bpf %s\n", PACKAGE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (!strcmp(argv[1], cmds[i].name)) {
            return cmds[i].fn(argc - 1, argv + 1);
        }
    }
    if (argv[1][0] == '-') {
        return usage_error(NULL, "unknown option '%s'", argv[1]);
    }
    return usage_error(NULL, "unknown command '%s'", argv[1]);
}
