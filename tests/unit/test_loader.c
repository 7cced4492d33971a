/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_loader.c -- unit tests of the ELF loader (bpf/elf.c).
 *
 * Three sources of objects:
 *  - the test programs of tests/progs, built by make with clang, and the
 *    -mcpu=v3 and -g variants of them that the tests compile themselves
 *    when clang is available ($CLANG, else clang on PATH);
 *  - objects built here byte by byte (eb_build), for what clang does not
 *    emit: 65 maps, addends into the middle of a map, RELA, bad types;
 *  - valid objects mutated in memory: each corruption must be refused
 *    with errno set and a message naming the problem, and no corruption
 *    may crash the loader (the _asan build of this test checks that).
 */
#include "bpf_priv.h"
#include "cu_main.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif
#ifndef TOP_BUILDDIR
#define TOP_BUILDDIR "."
#endif

#define LDDW 0x18
#define CALL 0x85

/* ---------------------------------------------------------------------
 * Files and loading
 * ------------------------------------------------------------------- */

static uint8_t *
read_file(const char *path, size_t *len)
{
    uint8_t *buf = NULL;
    FILE *f = fopen(path, "rb");
    long size;

    if (!f) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0
        && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t) size);
        if (buf && fread(buf, 1, (size_t) size, f) != (size_t) size) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t) size;
    }
    fclose(f);
    return buf;
}

/* Reads tests/progs/NAME.o from the build tree; fails the test if it is
 * missing (make check builds them first). */
static uint8_t *
read_prog(const char *name, size_t *len)
{
    char path[512];
    uint8_t *buf;

    snprintf(path, sizeof path, "%s/tests/progs/%s.o", TOP_BUILDDIR, name);
    buf = read_file(path, len);
    if (!buf) {
        fprintf(stderr, "\ncannot read %s\n", path);
    }
    CU_ASSERT_PTR_NOT_NULL(buf);
    return buf;
}

static struct bpf_prog *
load_path(const char *path, const struct bpf_load_opts *opts)
{
    char err[256] = "";
    struct bpf_prog *prog = bpf_prog_load_file(path, opts, err, sizeof err);

    if (!prog) {
        fprintf(stderr, "\n%s: %s\n", path, err);
    }
    return prog;
}

static struct bpf_prog *
load_prog(const char *name, const struct bpf_load_opts *opts)
{
    char path[512];

    snprintf(path, sizeof path, "%s/tests/progs/%s.o", TOP_BUILDDIR, name);
    return load_path(path, opts);
}

/* Loads buf and checks that it is refused with errno eno and a message
 * containing word.  Prints what came if not. */
static bool
refused(const void *buf, size_t len, const struct bpf_load_opts *opts,
        int eno, const char *word, int line)
{
    char err[512] = "";
    struct bpf_prog *prog;

    errno = 0;
    prog = bpf_prog_load_elf(buf, len, opts, err, sizeof err);
    if (prog) {
        fprintf(stderr, "\nline %d: loaded, expected failure with '%s'\n",
                line, word);
        bpf_prog_free(prog);
        return false;
    }
    if (errno != eno || !strstr(err, word)) {
        fprintf(stderr, "\nline %d: errno %d (want %d), message '%s' (want "
                "'%s')\n", line, errno, eno, err, word);
        return false;
    }
    return true;
}

#define CU_ASSERT_REFUSED(BUF, LEN, ENO, WORD) \
    CU_ASSERT(refused(BUF, LEN, NULL, ENO, WORD, __LINE__))
#define CU_ASSERT_REFUSED_OPTS(BUF, LEN, OPTS, ENO, WORD) \
    CU_ASSERT(refused(BUF, LEN, OPTS, ENO, WORD, __LINE__))

/* Loads buf, which must succeed. */
static struct bpf_prog *
loaded(const void *buf, size_t len, int line)
{
    char err[512] = "";
    struct bpf_prog *prog = bpf_prog_load_elf(buf, len, NULL, err, sizeof err);

    if (!prog) {
        fprintf(stderr, "\nline %d: load failed: %s\n", line, err);
    }
    return prog;
}

/* Indexes of the instructions with opcode code, in order. */
static size_t
find_insns(const struct bpf_prog *prog, uint8_t code, size_t *out, size_t max)
{
    size_t i, n = 0;

    for (i = 0; i < prog->ninsns; i++) {
        if (prog->insns[i].code == code) {
            if (n < max) {
                out[n] = i;
            }
            n++;
            if (code == LDDW) {
                i++;
            }
        }
    }
    return n;
}

/* ---------------------------------------------------------------------
 * The checks of each test program, shared by its variants
 * ------------------------------------------------------------------- */

static void
check_maps_two(const struct bpf_prog *prog)
{
    static const struct {
        const char *name;
        struct bpf_map_def def;
    } want[] = {
        { "counters", { BPF_MAP_ARRAY, 4, 8, 16, 0 } },
        { "flows", { BPF_MAP_HASH, 8, 4, 1024, 0 } },
        { "seen", { BPF_MAP_BLOOM, 4, 4, 4096, 3 } },
    };
    size_t lddw[8], calls[8], i;

    CU_ASSERT_STRING_EQUAL(bpf_prog_section(prog), ".text");
    CU_ASSERT_EQUAL(bpf_prog_entry(prog), 0);
    CU_ASSERT_STRING_EQUAL(bpf_prog_symbol_at(prog, 0), "entry");
    CU_ASSERT_EQUAL_FATAL(bpf_prog_nmaps(prog), 3);
    for (i = 0; i < 3; i++) {
        const struct bpf_map_desc *m = bpf_prog_map(prog, i);

        CU_ASSERT_STRING_EQUAL(m->name, want[i].name);
        CU_ASSERT(!memcmp(&m->def, &want[i].def, sizeof m->def));
    }
    CU_ASSERT_PTR_NULL(bpf_prog_map(prog, 3));

    /* Each lddw names its own map, in source order. */
    CU_ASSERT_EQUAL_FATAL(find_insns(prog, LDDW, lddw, 8), 3);
    for (i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(prog->insns[lddw[i]].src, BPF_PSEUDO_MAP_IDX);
        CU_ASSERT_EQUAL(prog->insns[lddw[i]].imm, (int32_t) i);
        CU_ASSERT_EQUAL(prog->insns[lddw[i] + 1].imm, 0);
    }
    /* By id (1), by the alias ubpf_map_lookup (1), ubpf_map_add (4). */
    CU_ASSERT_EQUAL_FATAL(find_insns(prog, CALL, calls, 8), 3);
    CU_ASSERT_EQUAL(prog->insns[calls[0]].imm, BPF_HELPER_MAP_LOOKUP);
    CU_ASSERT_EQUAL(prog->insns[calls[1]].imm, BPF_HELPER_MAP_LOOKUP);
    CU_ASSERT_EQUAL(prog->insns[calls[2]].imm, BPF_HELPER_MAP_ADD);
    for (i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(prog->insns[calls[i]].src, 0);
    }
}

static void
check_bpf2bpf(const struct bpf_prog *prog)
{
    static const char *const callee[] = { "is_ipv4", "sum_bytes" };
    size_t calls[8], i, n, entry;

    CU_ASSERT_EQUAL_FATAL(prog->nsyms, 3);
    for (i = 1; i < prog->nsyms; i++) {
        CU_ASSERT(prog->syms[i - 1].idx < prog->syms[i].idx);
    }
    CU_ASSERT_STRING_EQUAL(prog->syms[0].name, "sum_bytes");
    CU_ASSERT_EQUAL(prog->syms[0].idx, 0);
    entry = bpf_prog_entry(prog);
    CU_ASSERT(entry > 0);
    CU_ASSERT_STRING_EQUAL(bpf_prog_symbol_at(prog, entry), "entry");

    /* One local call without relocation (static is_ipv4), one with
     * (global sum_bytes): both must land on their function. */
    n = find_insns(prog, CALL, calls, 8);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    for (i = 0; i < n; i++) {
        const struct bpf_inst *in = &prog->insns[calls[i]];
        int64_t target = (int64_t) calls[i] + 1 + in->imm;
        const char *name;

        CU_ASSERT_EQUAL(in->src, BPF_PSEUDO_CALL);
        CU_ASSERT_FATAL(target >= 0 && target < (int64_t) prog->ninsns);
        name = bpf_prog_symbol_at(prog, (size_t) target);
        CU_ASSERT_PTR_NOT_NULL_FATAL(name);
        CU_ASSERT_STRING_EQUAL(name, callee[i]);
    }
}

static void
check_strings(const struct bpf_prog *prog)
{
    static const uint32_t ports[8] = { 22, 53, 80, 123, 443, 8080, 8443,
                                       9999 };
    const char *ro;
    size_t lddw[8], calls[8], len, off;

    ro = bpf_prog_rodata(prog, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ro);
    CU_ASSERT_EQUAL_FATAL(find_insns(prog, LDDW, lddw, 8), 3);
    CU_ASSERT_EQUAL(prog->insns[lddw[0]].src, BPF_PSEUDO_RODATA);
    CU_ASSERT_EQUAL(prog->insns[lddw[1]].src, BPF_PSEUDO_RODATA);
    CU_ASSERT_EQUAL(prog->insns[lddw[2]].src, BPF_PSEUDO_RODATA);

    off = (size_t) prog->insns[lddw[0]].imm;
    CU_ASSERT_FATAL(off < len);
    CU_ASSERT_STRING_EQUAL(ro + off, "hello from oko, len %d\n");
    off = (size_t) prog->insns[lddw[1]].imm;
    CU_ASSERT_FATAL(off < len);
    CU_ASSERT_STRING_EQUAL(ro + off, "short frame: %d bytes\n");

    /* The table is in another section, placed 8-byte aligned after the
     * strings. */
    off = (size_t) prog->insns[lddw[2]].imm;
    CU_ASSERT_EQUAL(off % 8, 0);
    CU_ASSERT_FATAL(off + sizeof ports <= len);
    CU_ASSERT(!memcmp(ro + off, ports, sizeof ports));
    CU_ASSERT_EQUAL(prog->insns[lddw[0] + 1].imm, 0);

    CU_ASSERT_EQUAL_FATAL(find_insns(prog, CALL, calls, 8), 2);
    CU_ASSERT_EQUAL(prog->insns[calls[0]].imm, BPF_HELPER_PRINTF);
    CU_ASSERT_EQUAL(prog->insns[calls[1]].imm, BPF_HELPER_PRINTF);
    CU_ASSERT_EQUAL(prog->insns[calls[1]].src, 0);
}

static void
check_loop_bounded(const struct bpf_prog *prog)
{
    bool back_edge = false;
    size_t i;

    CU_ASSERT_STRING_EQUAL(bpf_prog_section(prog), "filter");
    CU_ASSERT_EQUAL(bpf_prog_entry(prog), 0);
    CU_ASSERT_EQUAL(bpf_prog_nmaps(prog), 0);
    CU_ASSERT_STRING_EQUAL(bpf_prog_symbol_at(prog, 0), "entry");
    for (i = 0; i < prog->ninsns; i++) {
        uint8_t cls = BPF_CLASS(prog->insns[i].code);

        if ((cls == BPF_CLS_JMP || cls == BPF_CLS_JMP32)
            && BPF_OP(prog->insns[i].code) != BPF_JMP_CALL
            && BPF_OP(prog->insns[i].code) != BPF_JMP_EXIT
            && prog->insns[i].off < 0) {
            back_edge = true;
        }
    }
    CU_ASSERT(back_edge);
}

static const struct {
    const char *name;
    void (*check)(const struct bpf_prog *);
} progs[] = {
    { "maps_two", check_maps_two },
    { "bpf2bpf", check_bpf2bpf },
    { "strings", check_strings },
    { "loop_bounded", check_loop_bounded },
};
#define NPROGS (sizeof progs / sizeof progs[0])

static void
test_progs(void)
{
    size_t i;

    for (i = 0; i < NPROGS; i++) {
        struct bpf_prog *prog = load_prog(progs[i].name, NULL);

        CU_ASSERT_PTR_NOT_NULL(prog);
        if (prog) {
            progs[i].check(prog);
            bpf_prog_free(prog);
        }
    }
}

/* The -mcpu and -g variants of the test programs, if clang is there. */
static char variant_dir[] = "/tmp/oko-test-loader-XXXXXX";
static bool made_variant_dir, have_variants;

static void
remove_variants(void)
{
    DIR *d;
    struct dirent *e;
    char path[600];

    if (!made_variant_dir) {
        return;
    }
    d = opendir(variant_dir);
    while (d && (e = readdir(d))) {
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", variant_dir, e->d_name);
            unlink(path);
        }
    }
    if (d) {
        closedir(d);
    }
    rmdir(variant_dir);
}

/* Compiles the variants of the test programs into a private directory,
 * removed at exit. */
static bool
compile_variants(void)
{
    static const char *const flavours[][2] = {
        { "v3", "-mcpu=v3" }, { "g", "-g" }, { "v3g", "-mcpu=v3 -g" },
        { "v1", "-mcpu=v1" },
    };
    const char *clang = getenv("CLANG");
    char cmd[2048];
    size_t i, j;

    if (!clang || !*clang) {
        clang = "clang";
    }
    snprintf(cmd, sizeof cmd, "%s --version >/dev/null 2>&1", clang);
    if (system(cmd) != 0) {
        return false;
    }
    if (!mkdtemp(variant_dir)) {
        return false;
    }
    made_variant_dir = true;
    atexit(remove_variants);
    for (i = 0; i < NPROGS; i++) {
        for (j = 0; j < sizeof flavours / sizeof flavours[0]; j++) {
            snprintf(cmd, sizeof cmd, "%s -O2 -target bpf %s -I%s/include "
                     "-Wall -Werror -c %s/tests/progs/%s.c -o %s/%s.%s.o",
                     clang, flavours[j][1], TOP_SRCDIR, TOP_SRCDIR,
                     progs[i].name, variant_dir, progs[i].name,
                     flavours[j][0]);
            CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
        }
    }
    return true;
}

/* The -mcpu=v3, -mcpu=v1, -g (BTF and DWARF, with relocations on them)
 * variants load and satisfy the same checks; -g does not change the
 * code, so the relocated instructions are the same as without it. */
static void
test_variants(void)
{
    static const char *const flavours[] = { "v3", "g", "v3g", "v1" };
    size_t i, j;

    have_variants = compile_variants();
    if (!have_variants) {
        fprintf(stderr, "\nclang not found: variants not tested\n");
        return;
    }
    for (i = 0; i < NPROGS; i++) {
        struct bpf_prog *plain = load_prog(progs[i].name, NULL);

        CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
        for (j = 0; j < sizeof flavours / sizeof flavours[0]; j++) {
            struct bpf_prog *prog;
            char path[600];

            snprintf(path, sizeof path, "%s/%s.%s.o", variant_dir,
                     progs[i].name, flavours[j]);
            prog = load_path(path, NULL);
            CU_ASSERT_PTR_NOT_NULL(prog);
            if (!prog) {
                continue;
            }
            progs[i].check(prog);
            if (!strcmp(flavours[j], "g")) {
                CU_ASSERT_EQUAL(prog->ninsns, plain->ninsns);
                CU_ASSERT(prog->ninsns == plain->ninsns
                          && !memcmp(prog->insns, plain->insns,
                                     prog->ninsns * sizeof *prog->insns));
                CU_ASSERT_EQUAL(prog->rodata_len, plain->rodata_len);
            }
            bpf_prog_free(prog);
        }
        bpf_prog_free(plain);
    }
}

/* Every example object make built loads. */
static void
test_examples(void)
{
    char dir[512], path[1024];
    struct dirent *e;
    size_t n = 0;
    DIR *d;

    snprintf(dir, sizeof dir, "%s/examples/bpf", TOP_BUILDDIR);
    d = opendir(dir);
    if (!d) {
        fprintf(stderr, "\n%s: no examples built\n", dir);
        return;
    }
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        struct bpf_prog *prog;

        if (len < 3 || strcmp(e->d_name + len - 2, ".o")) {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        prog = load_path(path, NULL);
        CU_ASSERT_PTR_NOT_NULL(prog);
        if (prog) {
            CU_ASSERT(prog->ninsns > 0);
            CU_ASSERT(prog->entry < prog->ninsns);
        }
        bpf_prog_free(prog);
        n++;
    }
    closedir(d);
    fprintf(stderr, "\n%zu example objects loaded\n", n);
}

static void
test_opts(void)
{
    struct bpf_load_opts opts = { 0 };
    struct bpf_prog *prog;
    uint8_t *buf;
    size_t len;

    /* An explicit entry symbol. */
    opts.entry = "sum_bytes";
    prog = load_prog("bpf2bpf", &opts);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_EQUAL(bpf_prog_entry(prog), 0);
    bpf_prog_free(prog);
    opts.entry = "is_ipv4";     /* a static function */
    prog = load_prog("bpf2bpf", &opts);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_STRING_EQUAL(bpf_prog_symbol_at(prog, bpf_prog_entry(prog)),
                           "is_ipv4");
    bpf_prog_free(prog);

    buf = read_prog("bpf2bpf", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    opts.entry = "no_such_function";
    CU_ASSERT_REFUSED_OPTS(buf, len, &opts, ENOENT, "no_such_function");
    free(buf);

    /* An explicit section; the empty .text is refused when asked for. */
    opts.entry = NULL;
    opts.section = "filter";
    prog = load_prog("loop_bounded", &opts);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_STRING_EQUAL(bpf_prog_section(prog), "filter");
    bpf_prog_free(prog);
    buf = read_prog("loop_bounded", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    opts.section = ".text";
    CU_ASSERT_REFUSED_OPTS(buf, len, &opts, EINVAL, "empty");
    opts.section = "nowhere";
    CU_ASSERT_REFUSED_OPTS(buf, len, &opts, ENOENT, "nowhere");
    opts.section = ".symtab";
    CU_ASSERT_REFUSED_OPTS(buf, len, &opts, EINVAL, "not executable");
    free(buf);

    /* bpf_prog_load_file on a missing file. */
    errno = 0;
    CU_ASSERT_PTR_NULL(bpf_prog_load_file("/nonexistent/x.o", NULL, NULL,
                                          0));
    CU_ASSERT_EQUAL(errno, ENOENT);
}

/* ---------------------------------------------------------------------
 * Raw access to an object, for mutations
 * ------------------------------------------------------------------- */

static Elf64_Ehdr
get_ehdr(const uint8_t *b)
{
    Elf64_Ehdr eh;

    memcpy(&eh, b, sizeof eh);
    return eh;
}

static void
put_ehdr(uint8_t *b, const Elf64_Ehdr *eh)
{
    memcpy(b, eh, sizeof *eh);
}

static Elf64_Shdr
get_shdr(const uint8_t *b, size_t i)
{
    Elf64_Ehdr eh = get_ehdr(b);
    Elf64_Shdr sh;

    memcpy(&sh, b + eh.e_shoff + i * sizeof sh, sizeof sh);
    return sh;
}

static void
put_shdr(uint8_t *b, size_t i, const Elf64_Shdr *sh)
{
    Elf64_Ehdr eh = get_ehdr(b);

    memcpy(b + eh.e_shoff + i * sizeof *sh, sh, sizeof *sh);
}

/* Index of the section called name, or 0. */
static size_t
find_section(const uint8_t *b, const char *name)
{
    Elf64_Ehdr eh = get_ehdr(b);
    Elf64_Shdr strs = get_shdr(b, eh.e_shstrndx);
    size_t i;

    for (i = 1; i < eh.e_shnum; i++) {
        Elf64_Shdr sh = get_shdr(b, i);

        if (!strcmp((const char *) b + strs.sh_offset + sh.sh_name, name)) {
            return i;
        }
    }
    return 0;
}

static size_t
find_section_type(const uint8_t *b, uint32_t type)
{
    Elf64_Ehdr eh = get_ehdr(b);
    size_t i;

    for (i = 1; i < eh.e_shnum; i++) {
        if (get_shdr(b, i).sh_type == type) {
            return i;
        }
    }
    return 0;
}

/* Offset in the object of symbol name's entry, or 0. */
static size_t
find_sym(const uint8_t *b, const char *name)
{
    size_t st = find_section_type(b, SHT_SYMTAB);
    Elf64_Shdr sh = get_shdr(b, st), strs = get_shdr(b, sh.sh_link);
    size_t i;

    for (i = 1; i < sh.sh_size / sizeof(Elf64_Sym); i++) {
        size_t off = sh.sh_offset + i * sizeof(Elf64_Sym);
        Elf64_Sym sym;

        memcpy(&sym, b + off, sizeof sym);
        if (!strcmp((const char *) b + strs.sh_offset + sym.st_name, name)) {
            return off;
        }
    }
    return 0;
}

static Elf64_Sym
get_sym(const uint8_t *b, size_t off)
{
    Elf64_Sym sym;

    memcpy(&sym, b + off, sizeof sym);
    return sym;
}

static void
put_sym(uint8_t *b, size_t off, const Elf64_Sym *sym)
{
    memcpy(b + off, sym, sizeof *sym);
}

/* Offset in the object of relocation i of .rel.text. */
static size_t
rel_off(const uint8_t *b, size_t i)
{
    return get_shdr(b, find_section(b, ".rel.text")).sh_offset
           + i * sizeof(Elf64_Rel);
}

static Elf64_Rel
get_rel(const uint8_t *b, size_t i)
{
    Elf64_Rel r;

    memcpy(&r, b + rel_off(b, i), sizeof r);
    return r;
}

static void
put_rel(uint8_t *b, size_t i, const Elf64_Rel *r)
{
    memcpy(b + rel_off(b, i), r, sizeof *r);
}

static uint8_t *
dup_buf(const uint8_t *b, size_t len)
{
    uint8_t *c = malloc(len);

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    memcpy(c, b, len);
    return c;
}

/* ---------------------------------------------------------------------
 * Mutations of maps_two.o and strings.o
 * ------------------------------------------------------------------- */

static void
test_bad_headers(void)
{
    uint8_t *orig, *b;
    Elf64_Ehdr eh;
    size_t len;

    orig = read_prog("maps_two", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(orig);

    CU_ASSERT_REFUSED(orig, 0, EINVAL, "truncated");
    CU_ASSERT_REFUSED(NULL, 0, EINVAL, "truncated");
    CU_ASSERT_REFUSED(orig, 10, EINVAL, "truncated");
    CU_ASSERT_REFUSED(orig, 40, EINVAL, "truncated");
    CU_ASSERT_REFUSED(orig, len - 1, EINVAL, "past the end");

    b = dup_buf(orig, len);
    b[0] = 0x7e;
    CU_ASSERT_REFUSED(b, len, EINVAL, "magic");
    memcpy(b, orig, len);
    b[EI_CLASS] = ELFCLASS32;
    CU_ASSERT_REFUSED(b, len, EINVAL, "ELF64");
    memcpy(b, orig, len);
    b[EI_DATA] = ELFDATA2MSB;
    CU_ASSERT_REFUSED(b, len, EINVAL, "little-endian");
    memcpy(b, orig, len);
    b[EI_VERSION] = 7;
    CU_ASSERT_REFUSED(b, len, EINVAL, "version");

    memcpy(b, orig, len);
    eh = get_ehdr(b);
    eh.e_machine = EM_X86_64;
    put_ehdr(b, &eh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "machine");
    eh.e_machine = EM_NONE;     /* accepted, as the prototype's objects */
    put_ehdr(b, &eh);
    {
        struct bpf_prog *prog = loaded(b, len, __LINE__);

        CU_ASSERT_PTR_NOT_NULL(prog);
        bpf_prog_free(prog);
    }
    eh = get_ehdr(orig);
    eh.e_type = ET_EXEC;
    put_ehdr(b, &eh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "ET_REL");
    eh = get_ehdr(orig);
    eh.e_shoff = len;
    put_ehdr(b, &eh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "past the end");
    eh.e_shoff = UINT64_MAX - 10;
    put_ehdr(b, &eh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "past the end");
    eh = get_ehdr(orig);
    eh.e_shoff = 0;
    put_ehdr(b, &eh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "no section header");
    eh = get_ehdr(orig);
    eh.e_shentsize = 40;
    put_ehdr(b, &eh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "section header size");
    eh = get_ehdr(orig);
    eh.e_shnum = 200;
    put_ehdr(b, &eh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "past the end");
    eh = get_ehdr(orig);
    eh.e_shstrndx = 100;
    put_ehdr(b, &eh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "string table");
    /* Extended numbering: the count in section 0, right or wrong. */
    eh = get_ehdr(orig);
    eh.e_shnum = 0;
    put_ehdr(b, &eh);
    {
        Elf64_Shdr sh0 = get_shdr(orig, 0);
        struct bpf_prog *prog;

        sh0.sh_size = get_ehdr(orig).e_shnum;
        put_shdr(b, 0, &sh0);
        prog = loaded(b, len, __LINE__);
        CU_ASSERT_PTR_NOT_NULL(prog);
        CU_ASSERT(prog && prog->nmaps == 3);
        bpf_prog_free(prog);
        sh0.sh_size = 1ull << 40;
        put_shdr(b, 0, &sh0);
        CU_ASSERT_REFUSED(b, len, EINVAL, "ELF");
        sh0.sh_size = get_ehdr(orig).e_shnum + 1;
        put_shdr(b, 0, &sh0);
        CU_ASSERT_REFUSED(b, len, EINVAL, "sections");
    }
    memcpy(b, orig, len);
    eh = get_ehdr(orig);
    eh.e_shstrndx = (uint16_t) find_section(orig, ".text");
    put_ehdr(b, &eh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "string table");

    free(b);
    free(orig);
}

static void
test_bad_sections(void)
{
    size_t len, text, maps, symtab, reltext;
    uint8_t *orig, *b;
    Elf64_Shdr sh;

    orig = read_prog("maps_two", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
    b = dup_buf(orig, len);
    text = find_section(orig, ".text");
    maps = find_section(orig, "maps");
    symtab = find_section(orig, ".symtab");
    reltext = find_section(orig, ".rel.text");
    CU_ASSERT_FATAL(text && maps && symtab && reltext);

    /* Section data past the end of the object. */
    sh = get_shdr(orig, text);
    sh.sh_offset = len - 4;
    put_shdr(b, text, &sh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "past the end");
    sh = get_shdr(orig, maps);
    sh.sh_size = 1u << 30;
    memcpy(b, orig, len);
    put_shdr(b, maps, &sh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "past the end");
    sh = get_shdr(orig, maps);
    sh.sh_offset = UINT64_MAX - 8;
    memcpy(b, orig, len);
    put_shdr(b, maps, &sh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "past the end");

    /* Code size. */
    sh = get_shdr(orig, text);
    sh.sh_size -= 4;
    memcpy(b, orig, len);
    put_shdr(b, text, &sh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "multiple of 8");

    /* Overlapping sections: the maps section moved onto the code. */
    sh = get_shdr(orig, maps);
    sh.sh_offset = get_shdr(orig, text).sh_offset + 8;
    memcpy(b, orig, len);
    put_shdr(b, maps, &sh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "overlap");

    /* Links. */
    sh = get_shdr(orig, symtab);
    sh.sh_link = 99;
    memcpy(b, orig, len);
    put_shdr(b, symtab, &sh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "sh_link");
    sh.sh_link = (uint32_t) text;
    put_shdr(b, symtab, &sh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "string table");
    sh = get_shdr(orig, symtab);
    sh.sh_entsize = 16;
    memcpy(b, orig, len);
    put_shdr(b, symtab, &sh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "entry size");
    sh = get_shdr(orig, reltext);
    sh.sh_info = 99;
    memcpy(b, orig, len);
    put_shdr(b, reltext, &sh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "sh_info");
    sh = get_shdr(orig, reltext);
    sh.sh_link = (uint32_t) maps;
    memcpy(b, orig, len);
    put_shdr(b, reltext, &sh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "not the symbol table");
    sh = get_shdr(orig, reltext);
    sh.sh_size -= 8;
    memcpy(b, orig, len);
    put_shdr(b, reltext, &sh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "entry size");

    /* The code section no longer executable: no code at all. */
    sh = get_shdr(orig, text);
    sh.sh_flags = SHF_ALLOC;
    memcpy(b, orig, len);
    put_shdr(b, text, &sh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "no code");

    /* A bad section name offset. */
    sh = get_shdr(orig, maps);
    sh.sh_name = 0x7fffffff;
    memcpy(b, orig, len);
    put_shdr(b, maps, &sh);
    CU_ASSERT_REFUSED(b, len, EINVAL, "name");

    free(b);
    free(orig);
}

static void
test_bad_symbols(void)
{
    size_t len, off;
    uint8_t *orig, *b;
    Elf64_Sym sym;

    orig = read_prog("maps_two", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
    b = dup_buf(orig, len);

    off = find_sym(orig, "flows");
    CU_ASSERT_FATAL(off != 0);
    sym = get_sym(orig, off);
    sym.st_shndx = 99;
    put_sym(b, off, &sym);
    CU_ASSERT_REFUSED(b, len, EINVAL, "section index");
    sym = get_sym(orig, off);
    sym.st_shndx = SHN_XINDEX;
    memcpy(b, orig, len);
    put_sym(b, off, &sym);
    CU_ASSERT_REFUSED(b, len, EINVAL, "extended");
    sym = get_sym(orig, off);
    sym.st_size = 16;
    memcpy(b, orig, len);
    put_sym(b, off, &sym);
    CU_ASSERT_REFUSED(b, len, EINVAL, "20-byte");
    sym = get_sym(orig, off);
    sym.st_value = 18;
    memcpy(b, orig, len);
    put_sym(b, off, &sym);
    CU_ASSERT_REFUSED(b, len, EINVAL, "misaligned");
    sym.st_value = 16;      /* overlaps counters */
    put_sym(b, off, &sym);
    CU_ASSERT_REFUSED(b, len, EINVAL, "overlap");
    sym.st_value = 24;      /* past the end of the 40-byte section */
    put_sym(b, off, &sym);
    CU_ASSERT_REFUSED(b, len, EINVAL, "past the end");
    sym.st_value = 0;       /* same offset as counters */
    put_sym(b, off, &sym);
    CU_ASSERT_REFUSED(b, len, EINVAL, "overlap");
    sym = get_sym(orig, off);
    sym.st_name = 0x7fffffff;
    memcpy(b, orig, len);
    put_sym(b, off, &sym);
    CU_ASSERT_REFUSED(b, len, EINVAL, "name");

    /* The entry function past the end of the code. */
    off = find_sym(orig, "entry");
    CU_ASSERT_FATAL(off != 0);
    sym = get_sym(orig, off);
    sym.st_value = 1u << 20;
    memcpy(b, orig, len);
    put_sym(b, off, &sym);
    CU_ASSERT_REFUSED(b, len, EINVAL, "entry");
    sym.st_value = 4;
    put_sym(b, off, &sym);
    CU_ASSERT_REFUSED(b, len, EINVAL, "not an instruction");

    /* Renaming a helper: unknown helper, named. */
    off = find_sym(orig, "ubpf_map_lookup");
    CU_ASSERT_FATAL(off != 0);
    {
        Elf64_Shdr st = get_shdr(orig, find_section_type(orig, SHT_SYMTAB));
        Elf64_Shdr strs = get_shdr(orig, st.sh_link);
        char *name;

        memcpy(b, orig, len);
        name = (char *) b + strs.sh_offset + get_sym(orig, off).st_name;
        memcpy(name, "ubpf_map_lookuQ", 15);
        CU_ASSERT_REFUSED(b, len, EINVAL, "unknown helper 'ubpf_map_lookuQ'");
    }
    free(b);
    free(orig);
}

static void
test_bad_maps(void)
{
    size_t len, maps;
    uint8_t *orig, *b;
    Elf64_Shdr sh;
    uint32_t v;

    orig = read_prog("maps_two", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
    b = dup_buf(orig, len);
    maps = find_section(orig, "maps");
    CU_ASSERT_FATAL(maps != 0);
    sh = get_shdr(orig, maps);

    /* flows (offset 20): key_size 0. */
    v = 0;
    memcpy(b + sh.sh_offset + 20 + 4, &v, 4);
    CU_ASSERT_REFUSED(b, len, EINVAL, "map 'flows'");
    memcpy(b, orig, len);
    memcpy(b + sh.sh_offset + 20 + 8, &v, 4);
    CU_ASSERT_REFUSED(b, len, EINVAL, "map 'flows'");
    memcpy(b, orig, len);
    memcpy(b + sh.sh_offset + 20 + 12, &v, 4);
    CU_ASSERT_REFUSED(b, len, EINVAL, "map 'flows'");
    /* counters: unknown type. */
    v = 9;
    memcpy(b, orig, len);
    memcpy(b + sh.sh_offset, &v, 4);
    CU_ASSERT_REFUSED(b, len, EINVAL, "map 'counters'");
    v = 0;
    memcpy(b + sh.sh_offset, &v, 4);
    CU_ASSERT_REFUSED(b, len, EINVAL, "map 'counters'");

    free(b);
    free(orig);
}

static void
test_bad_relocs(void)
{
    size_t len, text, lddw_off;
    uint8_t *orig, *b;
    Elf64_Rel r, r0;
    struct bpf_inst in;

    orig = read_prog("maps_two", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
    b = dup_buf(orig, len);
    text = find_section(orig, ".text");
    r0 = get_rel(orig, 0);      /* lddw of counters */
    CU_ASSERT_EQUAL_FATAL(ELF64_R_TYPE(r0.r_info), 1);
    lddw_off = get_shdr(orig, text).sh_offset + r0.r_offset;

    r = r0;
    r.r_offset = 0;             /* r1 = r2 */
    put_rel(b, 0, &r);
    CU_ASSERT_REFUSED(b, len, EINVAL, "not an lddw");
    r.r_offset = r0.r_offset + 1;
    put_rel(b, 0, &r);
    CU_ASSERT_REFUSED(b, len, EINVAL, "8-byte aligned");
    r.r_offset = 1u << 20;
    put_rel(b, 0, &r);
    CU_ASSERT_REFUSED(b, len, EINVAL, "past the end of the code");
    r.r_offset = r0.r_offset + 8;   /* the second half */
    put_rel(b, 0, &r);
    CU_ASSERT_REFUSED(b, len, EINVAL, "not an lddw");
    r = r0;
    r.r_info = ELF64_R_INFO(999, 1);
    put_rel(b, 0, &r);
    CU_ASSERT_REFUSED(b, len, EINVAL, "symbol index");
    r.r_info = ELF64_R_INFO(0, 1);
    put_rel(b, 0, &r);
    CU_ASSERT_REFUSED(b, len, EINVAL, "symbol index");
    r.r_info = ELF64_R_INFO(ELF64_R_SYM(r0.r_info), 3);
    put_rel(b, 0, &r);
    CU_ASSERT_REFUSED(b, len, EINVAL, "R_BPF_64_ABS32");
    r.r_info = ELF64_R_INFO(ELF64_R_SYM(r0.r_info), 2);
    put_rel(b, 0, &r);
    CU_ASSERT_REFUSED(b, len, EINVAL, "R_BPF_64_ABS64");
    r.r_info = ELF64_R_INFO(ELF64_R_SYM(r0.r_info), 0);
    put_rel(b, 0, &r);
    CU_ASSERT_REFUSED(b, len, EINVAL, "R_BPF_NONE");
    r.r_info = ELF64_R_INFO(ELF64_R_SYM(r0.r_info), 77);
    put_rel(b, 0, &r);
    CU_ASSERT_REFUSED(b, len, EINVAL, "type 77");
    r.r_info = ELF64_R_INFO(ELF64_R_SYM(r0.r_info), 10);
    put_rel(b, 0, &r);
    CU_ASSERT_REFUSED(b, len, EINVAL, "not a call");

    /* Two relocations of one instruction. */
    memcpy(b, orig, len);
    r = get_rel(orig, 1);
    r.r_offset = r0.r_offset;
    put_rel(b, 1, &r);
    CU_ASSERT_REFUSED(b, len, EINVAL, "two relocations");

    /* lddw without its second half. */
    memcpy(b, orig, len);
    memcpy(&in, b + lddw_off + 8, sizeof in);
    in.code = 0x05;
    memcpy(b + lddw_off + 8, &in, sizeof in);
    CU_ASSERT_REFUSED(b, len, EINVAL, "second half");

    /* The implicit addend moves the reference into the middle of flows,
     * past the last map of the section, past the section. */
    memcpy(b, orig, len);
    memcpy(&in, b + lddw_off, sizeof in);
    in.imm = 24;
    memcpy(b + lddw_off, &in, sizeof in);
    CU_ASSERT_REFUSED(b, len, EINVAL, "middle of map 'flows'");
    in.imm = 20;                /* counters + 20 = flows: allowed */
    memcpy(b + lddw_off, &in, sizeof in);
    {
        struct bpf_prog *prog = loaded(b, len, __LINE__);

        CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
        CU_ASSERT_EQUAL(prog->insns[r0.r_offset / 8].src,
                        BPF_PSEUDO_MAP_IDX);
        CU_ASSERT_EQUAL(prog->insns[r0.r_offset / 8].imm, 1);
        bpf_prog_free(prog);
    }
    in.imm = 40;
    memcpy(b + lddw_off, &in, sizeof in);
    CU_ASSERT_REFUSED(b, len, EINVAL, "not a map");
    in.imm = -4;
    memcpy(b + lddw_off, &in, sizeof in);
    CU_ASSERT_REFUSED(b, len, EINVAL, "not a map");

    free(b);
    free(orig);

    /* strings.o: the string offset in the immediate out of range. */
    orig = read_prog("strings", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
    b = dup_buf(orig, len);
    r0 = get_rel(orig, 0);
    lddw_off = get_shdr(orig, find_section(orig, ".text")).sh_offset
               + r0.r_offset;
    memcpy(&in, b + lddw_off, sizeof in);
    in.imm = 4000;
    memcpy(b + lddw_off, &in, sizeof in);
    CU_ASSERT_REFUSED(b, len, EINVAL, "out of range");
    memcpy(&in, b + lddw_off + 8, sizeof in);
    in.imm = 1;                 /* high half of the addend */
    memcpy(b + lddw_off + 8, &in, sizeof in);
    CU_ASSERT_REFUSED(b, len, EINVAL, "out of range");
    free(b);
    free(orig);
}

/* Truncating a valid object anywhere, or flipping any byte, never
 * crashes; a refusal always comes with errno and a message. */
static void
fuzz_one(const char *path)
{
    static const uint8_t flips[] = { 0xff, 0x01, 0x80 };
    size_t len, i, f, loads = 0, refusals = 0;
    uint8_t *orig, *b;

    orig = read_file(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(orig);

    for (i = 0; i < len; i++) {
        char err[256] = "";
        struct bpf_prog *prog;

        /* A fresh allocation of exactly i bytes, so ASan sees overreads. */
        b = malloc(i ? i : 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        memcpy(b, orig, i);
        errno = 0;
        prog = bpf_prog_load_elf(b, i, NULL, err, sizeof err);
        CU_ASSERT_PTR_NULL(prog);   /* the section table is at the end */
        CU_ASSERT(errno != 0 && err[0] != '\0');
        bpf_prog_free(prog);
        free(b);
    }

    b = dup_buf(orig, len);
    for (f = 0; f < sizeof flips; f++) {
        for (i = 0; i < len; i++) {
            char err[256] = "";
            struct bpf_prog *prog;

            b[i] ^= flips[f];
            errno = 0;
            prog = bpf_prog_load_elf(b, len, NULL, err, sizeof err);
            if (prog) {
                loads++;
                CU_ASSERT(prog->ninsns > 0 && prog->entry < prog->ninsns);
                CU_ASSERT(prog->nmaps <= BPF_MAX_MAPS);
                bpf_prog_free(prog);
            } else {
                refusals++;
                CU_ASSERT(errno != 0 && err[0] != '\0');
            }
            b[i] = orig[i];
        }
    }
    CU_ASSERT(refusals > 0);
    CU_ASSERT(loads > 0);      /* many bytes (padding, code) do not matter */
    free(b);
    free(orig);
}

static void
test_mutations(void)
{
    char path[600];
    size_t i;

    for (i = 0; i < NPROGS; i++) {
        snprintf(path, sizeof path, "%s/tests/progs/%s.o", TOP_BUILDDIR,
                 progs[i].name);
        fuzz_one(path);
    }
    /* With -g: BTF, DWARF and their relocations. */
    if (have_variants) {
        snprintf(path, sizeof path, "%s/maps_two.g.o", variant_dir);
        fuzz_one(path);
        snprintf(path, sizeof path, "%s/strings.v3g.o", variant_dir);
        fuzz_one(path);
    }
}

/* ---------------------------------------------------------------------
 * Objects built byte by byte
 * ------------------------------------------------------------------- */

/* A section of a built object; section i of the object is secs[i - 1]. */
struct eb_sec {
    const char *name;
    uint32_t type;
    uint64_t flags;
    const void *data;
    size_t size;
    uint32_t link;
    uint32_t info;
    uint64_t entsize;
};

/* Builds an ELF64 relocatable object for EM_BPF from secs, followed by a
 * section name table.  Returns it (malloc) and its length. */
static uint8_t *
eb_build(const struct eb_sec *secs, size_t n, size_t *lenp)
{
    size_t i, off, strs_len = 1, len, names_off;
    Elf64_Ehdr eh;
    Elf64_Shdr sh;
    uint8_t *b;

    for (i = 0; i < n; i++) {
        strs_len += strlen(secs[i].name) + 1;
    }
    strs_len += sizeof ".shstrtab";
    len = sizeof eh;
    for (i = 0; i < n; i++) {
        if (secs[i].type != SHT_NOBITS) {
            len += (secs[i].size + 7) & ~(size_t) 7;
        }
    }
    len += (strs_len + 7) & ~(size_t) 7;
    len += (n + 2) * sizeof sh;
    b = calloc(1, len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);

    memset(&eh, 0, sizeof eh);
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_REL;
    eh.e_machine = EM_BPF;
    eh.e_version = EV_CURRENT;
    eh.e_ehsize = sizeof eh;
    eh.e_shentsize = sizeof sh;
    eh.e_shnum = (uint16_t) (n + 2);
    eh.e_shstrndx = (uint16_t) (n + 1);
    eh.e_shoff = len - (n + 2) * sizeof sh;

    off = sizeof eh;
    names_off = 1;
    memset(&sh, 0, sizeof sh);
    memcpy(b + eh.e_shoff, &sh, sizeof sh);
    for (i = 0; i <= n; i++) {
        bool last = i == n;
        const char *name = last ? ".shstrtab" : secs[i].name;
        size_t size = last ? strs_len : secs[i].size;

        memset(&sh, 0, sizeof sh);
        sh.sh_name = (uint32_t) names_off;
        sh.sh_type = last ? SHT_STRTAB : secs[i].type;
        sh.sh_flags = last ? 0 : secs[i].flags;
        sh.sh_offset = off;
        sh.sh_size = size;
        sh.sh_link = last ? 0 : secs[i].link;
        sh.sh_info = last ? 0 : secs[i].info;
        sh.sh_addralign = 8;
        sh.sh_entsize = last ? 0 : secs[i].entsize;
        memcpy(b + eh.e_shoff + (i + 1) * sizeof sh, &sh, sizeof sh);
        memcpy(b + eh.e_shoff - ((strs_len + 7) & ~(size_t) 7) + names_off,
               name, strlen(name) + 1);
        names_off += strlen(name) + 1;
        if (!last && secs[i].type != SHT_NOBITS) {
            if (secs[i].size) {
                memcpy(b + off, secs[i].data, secs[i].size);
            }
            off += (secs[i].size + 7) & ~(size_t) 7;
        }
    }
    memcpy(b, &eh, sizeof eh);
    *lenp = len;
    return b;
}

/* A string table being built. */
struct eb_strtab {
    char buf[4096];
    size_t len;
};

static uint32_t
eb_str(struct eb_strtab *t, const char *s)
{
    size_t off = t->len ? t->len : 1;

    if (!t->len) {
        t->len = 1;
    }
    CU_ASSERT_FATAL(t->len + strlen(s) + 1 <= sizeof t->buf);
    memcpy(t->buf + off, s, strlen(s) + 1);
    t->len += strlen(s) + 1;
    return (uint32_t) off;
}

static Elf64_Sym
eb_sym(struct eb_strtab *t, const char *name, int bind, int type,
       uint16_t shndx, uint64_t value, uint64_t size)
{
    Elf64_Sym s;

    memset(&s, 0, sizeof s);
    s.st_name = name ? eb_str(t, name) : 0;
    s.st_info = ELF64_ST_INFO(bind, type);
    s.st_shndx = shndx;
    s.st_value = value;
    s.st_size = size;
    return s;
}

/* The usual layout: 1 .text, 2 maps, 3 .rodata, 4 .symtab, 5 .strtab,
 * 6 .rel.text (or .rela.text), then extras. */
enum { S_TEXT = 1, S_MAPS, S_RODATA, S_SYMTAB, S_STRTAB, S_REL };

struct eb_prog {
    const struct bpf_inst *insns;
    size_t ninsns;
    const void *maps;
    size_t maps_size;
    uint32_t maps_type;         /* 0: PROGBITS */
    uint64_t maps_flags;        /* 0: ALLOC|WRITE */
    const void *ro;
    size_t ro_size;
    const Elf64_Sym *syms;      /* without the null symbol */
    size_t nsyms;
    const struct eb_strtab *strs;
    const void *rels;
    size_t nrels;
    bool rela;
    const struct eb_sec *extra;
    size_t nextra;
};

static uint8_t *
eb_prog_build(const struct eb_prog *p, size_t *len)
{
    struct eb_sec secs[16];
    Elf64_Sym *syms;
    uint8_t *b;
    size_t i;

    syms = calloc(p->nsyms + 1, sizeof *syms);
    CU_ASSERT_PTR_NOT_NULL_FATAL(syms);
    if (p->nsyms) {
        memcpy(syms + 1, p->syms, p->nsyms * sizeof *syms);
    }
    secs[0] = (struct eb_sec) { ".text", SHT_PROGBITS,
                                SHF_ALLOC | SHF_EXECINSTR, p->insns,
                                p->ninsns * sizeof *p->insns, 0, 0, 0 };
    secs[1] = (struct eb_sec) { "maps", p->maps_type ? p->maps_type
                                                     : SHT_PROGBITS,
                                p->maps_flags ? p->maps_flags
                                              : SHF_ALLOC | SHF_WRITE,
                                p->maps,
                                p->maps_size, 0, 0, 0 };
    secs[2] = (struct eb_sec) { ".rodata", SHT_PROGBITS, SHF_ALLOC, p->ro,
                                p->ro_size, 0, 0, 0 };
    secs[3] = (struct eb_sec) { ".symtab", SHT_SYMTAB, 0, syms,
                                (p->nsyms + 1) * sizeof *syms, S_STRTAB, 1,
                                sizeof *syms };
    secs[4] = (struct eb_sec) { ".strtab", SHT_STRTAB, 0, p->strs->buf,
                                p->strs->len ? p->strs->len : 1, 0, 0, 0 };
    secs[5] = (struct eb_sec) { p->rela ? ".rela.text" : ".rel.text",
                                p->rela ? SHT_RELA : SHT_REL, 0, p->rels,
                                p->nrels * (p->rela ? sizeof(Elf64_Rela)
                                                    : sizeof(Elf64_Rel)),
                                S_SYMTAB, S_TEXT,
                                p->rela ? sizeof(Elf64_Rela)
                                        : sizeof(Elf64_Rel) };
    for (i = 0; i < p->nextra && i < 10; i++) {
        secs[6 + i] = p->extra[i];
    }
    b = eb_build(secs, 6 + i, len);
    free(syms);
    return b;
}

/* r1 = map 0 (lddw), r0 = 1, exit. */
static const struct bpf_inst lddw_prog[] = {
    { .code = LDDW, .dst = 1 }, { 0 },
    { .code = 0xb7, .dst = 0, .imm = 1 },
    { .code = 0x95 },
};

static void
put_map(uint8_t *at, uint32_t type, uint32_t k, uint32_t v, uint32_t n,
        uint32_t h)
{
    uint32_t d[5] = { type, k, v, n, h };

    memcpy(at, d, sizeof d);
}

static void
test_built_minimal(void)
{
    static const struct bpf_inst insns[] = {
        { .code = 0xb7, .dst = 0, .imm = 1 }, { .code = 0x95 },
    };
    struct eb_strtab strs = { .len = 0 };
    struct eb_prog p = { .insns = insns, .ninsns = 2, .strs = &strs };
    struct bpf_prog *prog;
    uint8_t *b;
    size_t len;

    b = eb_prog_build(&p, &len);
    prog = loaded(b, len, __LINE__);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_EQUAL(prog->ninsns, 2);
    CU_ASSERT_EQUAL(prog->entry, 0);
    CU_ASSERT_EQUAL(prog->nmaps, 0);
    CU_ASSERT_EQUAL(prog->nsyms, 0);
    CU_ASSERT_EQUAL(prog->rodata_len, 0);
    CU_ASSERT_STRING_EQUAL(prog->section, ".text");
    CU_ASSERT(!memcmp(prog->insns, insns, sizeof insns));
    bpf_prog_free(prog);
    free(b);
}

/* 64 maps load, with ids by offset whatever the symbol order; 65 do not. */
static void
test_built_many_maps(void)
{
    static uint8_t maps[65 * 20];
    static Elf64_Sym syms[65];
    struct eb_strtab strs = { .len = 0 };
    struct eb_prog p = { .insns = lddw_prog, .ninsns = 4, .maps = maps,
                         .syms = syms, .strs = &strs };
    Elf64_Rel rel;
    struct bpf_prog *prog;
    uint8_t *b;
    size_t len, i;

    for (i = 0; i < 65; i++) {
        char name[16];

        snprintf(name, sizeof name, "m%02zu", i);
        put_map(maps + i * 20, BPF_MAP_ARRAY, 4, (uint32_t) i + 1, 1, 0);
        /* Symbols in reverse order of offset. */
        syms[64 - i] = eb_sym(&strs, name, STB_GLOBAL, STT_OBJECT, S_MAPS,
                              i * 20, 20);
    }
    rel.r_offset = 0;
    p.rels = &rel;
    p.nrels = 1;

    /* Symbol k (from 1) is m(64 - k): the lddw refers to m37. */
    p.maps_size = 64 * 20;
    p.syms = syms + 1;
    p.nsyms = 64;
    rel.r_info = ELF64_R_INFO(64 - 37, 1);
    b = eb_prog_build(&p, &len);
    prog = loaded(b, len, __LINE__);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_EQUAL(prog->nmaps, 64);
    for (i = 0; i < 64; i++) {
        char name[16];

        snprintf(name, sizeof name, "m%02zu", i);
        CU_ASSERT_STRING_EQUAL(prog->maps[i].name, name);
        CU_ASSERT_EQUAL(prog->maps[i].def.value_size, i + 1);
    }
    CU_ASSERT_EQUAL(prog->insns[0].src, BPF_PSEUDO_MAP_IDX);
    CU_ASSERT_EQUAL(prog->insns[0].imm, 37);
    bpf_prog_free(prog);
    free(b);

    p.maps_size = 65 * 20;
    p.syms = syms;
    p.nsyms = 65;
    rel.r_info = ELF64_R_INFO(1, 1);
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, E2BIG, "too many maps");
    free(b);
}

/* Several maps through one section symbol plus addend, REL and RELA. */
static void
test_built_addends(void)
{
    static const struct bpf_inst insns[] = {
        { .code = LDDW, .dst = 1, .imm = 0 }, { 0 },
        { .code = LDDW, .dst = 2, .imm = 40 }, { 0 },
        { .code = LDDW, .dst = 3, .imm = 20 }, { 0 },
        { .code = 0xb7, .dst = 0, .imm = 1 },
        { .code = 0x95 },
    };
    uint8_t maps[60];
    Elf64_Sym syms[4];
    struct eb_strtab strs = { .len = 0 };
    struct eb_prog p = { .insns = insns, .ninsns = 8, .maps = maps,
                         .maps_size = sizeof maps, .syms = syms, .nsyms = 4,
                         .strs = &strs };
    Elf64_Rel rels[3];
    Elf64_Rela relas[3];
    struct bpf_prog *prog;
    uint8_t *b;
    size_t len, i;

    put_map(maps, BPF_MAP_ARRAY, 4, 4, 1, 0);
    put_map(maps + 20, BPF_MAP_HASH, 4, 4, 8, 0);
    put_map(maps + 40, BPF_MAP_CMS, 4, 4, 64, 2);
    syms[0] = eb_sym(&strs, NULL, STB_LOCAL, STT_SECTION, S_MAPS, 0, 0);
    syms[1] = eb_sym(&strs, "a", STB_LOCAL, STT_OBJECT, S_MAPS, 0, 20);
    syms[2] = eb_sym(&strs, "b", STB_GLOBAL, STT_OBJECT, S_MAPS, 20, 20);
    syms[3] = eb_sym(&strs, "c", STB_GLOBAL, STT_OBJECT, S_MAPS, 40, 20);
    for (i = 0; i < 3; i++) {
        rels[i].r_offset = i * 16;
        rels[i].r_info = ELF64_R_INFO(1, 1);    /* the section symbol */
    }
    p.rels = rels;
    p.nrels = 3;
    b = eb_prog_build(&p, &len);
    prog = loaded(b, len, __LINE__);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_EQUAL(prog->nmaps, 3);
    CU_ASSERT_EQUAL(prog->insns[0].imm, 0);
    CU_ASSERT_EQUAL(prog->insns[2].imm, 2);
    CU_ASSERT_EQUAL(prog->insns[4].imm, 1);
    CU_ASSERT_EQUAL(prog->insns[2].src, BPF_PSEUDO_MAP_IDX);
    CU_ASSERT_STRING_EQUAL(prog->maps[1].name, "b");
    CU_ASSERT_EQUAL(prog->maps[2].def.nb_hash_functions, 2);
    bpf_prog_free(prog);
    free(b);

    /* RELA: the explicit addend counts, the immediate does not. */
    for (i = 0; i < 3; i++) {
        relas[i].r_offset = i * 16;
        relas[i].r_info = ELF64_R_INFO(i == 1 ? 3 : 1, 1);
        relas[i].r_addend = i == 0 ? 40 : i == 1 ? 0 : 20;
    }
    p.rels = relas;
    p.rela = true;
    b = eb_prog_build(&p, &len);
    prog = loaded(b, len, __LINE__);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_EQUAL(prog->insns[0].imm, 2);
    CU_ASSERT_EQUAL(prog->insns[2].imm, 1);     /* symbol b */
    CU_ASSERT_EQUAL(prog->insns[4].imm, 1);
    bpf_prog_free(prog);
    free(b);
    relas[1].r_addend = 2;      /* b + 2 */
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, EINVAL, "middle of map 'b'");
    free(b);
}

static void
test_built_bad(void)
{
    static const struct bpf_inst call_prog[] = {
        { .code = CALL, .src = 1, .imm = -1 },
        { .code = 0xb7, .dst = 0, .imm = 1 },
        { .code = 0x95 },
    };
    uint8_t maps[20], btf[16] = { 0 };
    Elf64_Sym syms[3];
    struct eb_strtab strs = { .len = 0 };
    struct eb_prog p = { .insns = lddw_prog, .ninsns = 4, .maps = maps,
                         .maps_size = 20, .syms = syms, .nsyms = 1,
                         .strs = &strs };
    Elf64_Rel rel = { 0, ELF64_R_INFO(1, 1) }, btf_rel;
    struct eb_sec extra[2];
    struct bpf_prog *prog;
    uint8_t *b;
    size_t len;

    put_map(maps, BPF_MAP_HASH, 4, 4, 8, 0);
    syms[0] = eb_sym(&strs, "m", STB_GLOBAL, STT_OBJECT, S_MAPS, 0, 20);
    p.rels = &rel;
    p.nrels = 1;

    /* Relocations of other sections (BTF) are ignored, whatever their
     * type. */
    btf_rel.r_offset = 4;
    btf_rel.r_info = ELF64_R_INFO(1, 2);
    extra[0] = (struct eb_sec) { ".BTF", SHT_PROGBITS, 0, btf, sizeof btf,
                                 0, 0, 0 };
    extra[1] = (struct eb_sec) { ".rel.BTF", SHT_REL, 0, &btf_rel,
                                 sizeof btf_rel, S_SYMTAB, S_REL + 1,
                                 sizeof btf_rel };
    p.extra = extra;
    p.nextra = 2;
    b = eb_prog_build(&p, &len);
    prog = loaded(b, len, __LINE__);
    CU_ASSERT_PTR_NOT_NULL(prog);
    if (prog) {
        CU_ASSERT_EQUAL(prog->insns[0].src, BPF_PSEUDO_MAP_IDX);
    }
    bpf_prog_free(prog);
    free(b);
    p.extra = NULL;
    p.nextra = 0;

    /* const map definitions: the section named maps is read-only. */
    p.maps_flags = SHF_ALLOC;
    b = eb_prog_build(&p, &len);
    prog = loaded(b, len, __LINE__);
    CU_ASSERT_PTR_NOT_NULL(prog);
    if (prog) {
        CU_ASSERT_EQUAL(prog->nmaps, 1);
        CU_ASSERT_EQUAL(prog->insns[0].src, BPF_PSEUDO_MAP_IDX);
        CU_ASSERT_EQUAL(prog->rodata_len, 0);
    }
    bpf_prog_free(prog);
    free(b);
    p.maps_flags = 0;

    /* An lddw that claims a map without a relocation. */
    {
        struct bpf_inst fake[4];

        memcpy(fake, lddw_prog, sizeof fake);
        fake[0].src = BPF_PSEUDO_MAP_IDX;
        p.insns = fake;
        p.nrels = 0;
        b = eb_prog_build(&p, &len);
        CU_ASSERT_REFUSED(b, len, EINVAL, "no relocation");
        free(b);
        fake[0].src = BPF_PSEUDO_RODATA;
        b = eb_prog_build(&p, &len);
        CU_ASSERT_REFUSED(b, len, EINVAL, "no relocation");
        free(b);
        p.insns = lddw_prog;
        p.nrels = 1;
    }

    /* Maps in .bss are not initialised definitions. */
    p.maps_type = SHT_NOBITS;
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, EINVAL, "zero-initialised");
    free(b);
    p.maps_type = 0;

    /* A global variable in a map section. */
    syms[0].st_size = 4;
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, EINVAL, "not a 20-byte map definition");
    free(b);
    syms[0].st_size = 20;

    /* An lddw of an undefined symbol. */
    syms[0].st_shndx = SHN_UNDEF;
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, EINVAL, "undefined symbol 'm'");
    free(b);
    syms[0].st_shndx = SHN_ABS;
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, EINVAL, "not in a section");
    free(b);
    /* An lddw of code. */
    syms[0].st_shndx = S_TEXT;
    syms[0].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, EINVAL, "address of code");
    free(b);
    syms[0] = eb_sym(&strs, "m", STB_GLOBAL, STT_OBJECT, S_MAPS, 0, 20);

    /* Map names: empty, duplicated, too long. */
    syms[0].st_name = 0;
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, EINVAL, "no name");
    free(b);
    {
        char longname[100];

        memset(longname, 'x', sizeof longname - 1);
        longname[sizeof longname - 1] = '\0';
        syms[0] = eb_sym(&strs, longname, STB_GLOBAL, STT_OBJECT, S_MAPS, 0,
                         20);
        b = eb_prog_build(&p, &len);
        CU_ASSERT_REFUSED(b, len, EINVAL, "longer than");
        free(b);
    }
    {
        uint8_t two[40];

        put_map(two, BPF_MAP_HASH, 4, 4, 8, 0);
        put_map(two + 20, BPF_MAP_HASH, 4, 4, 8, 0);
        syms[0] = eb_sym(&strs, "dup", STB_GLOBAL, STT_OBJECT, S_MAPS, 0, 20);
        syms[1] = eb_sym(&strs, "dup", STB_LOCAL, STT_OBJECT, S_MAPS, 20, 20);
        p.maps = two;
        p.maps_size = sizeof two;
        p.nsyms = 2;
        b = eb_prog_build(&p, &len);
        CU_ASSERT_REFUSED(b, len, EINVAL, "two maps named 'dup'");
        free(b);
        p.maps = maps;
        p.maps_size = 20;
        p.nsyms = 1;
    }

    /* Calls: an unknown helper, a helper by both names, a function in
     * another section, a target outside the code. */
    p.insns = call_prog;
    p.ninsns = 3;
    rel.r_info = ELF64_R_INFO(1, 10);
    syms[0] = eb_sym(&strs, "oko_frobnicate", STB_GLOBAL, STT_NOTYPE,
                     SHN_UNDEF, 0, 0);
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, EINVAL, "unknown helper 'oko_frobnicate'");
    free(b);
    syms[0] = eb_sym(&strs, "oko_hash", STB_GLOBAL, STT_NOTYPE, SHN_UNDEF,
                     0, 0);
    b = eb_prog_build(&p, &len);
    prog = loaded(b, len, __LINE__);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_EQUAL(prog->insns[0].src, 0);
    CU_ASSERT_EQUAL(prog->insns[0].imm, BPF_HELPER_HASH);
    bpf_prog_free(prog);
    free(b);
    syms[0] = eb_sym(&strs, "f", STB_GLOBAL, STT_FUNC, S_RODATA, 0, 8);
    p.ro = btf;
    p.ro_size = 8;
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, EINVAL, "not in the code section");
    free(b);
    syms[0] = eb_sym(&strs, "f", STB_GLOBAL, STT_FUNC, S_TEXT, 16, 8);
    b = eb_prog_build(&p, &len);
    prog = loaded(b, len, __LINE__);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_EQUAL(prog->insns[0].src, BPF_PSEUDO_CALL);
    CU_ASSERT_EQUAL(prog->insns[0].imm, 1);     /* 2 - (0 + 1) */
    CU_ASSERT_STRING_EQUAL(bpf_prog_symbol_at(prog, 2), "f");
    bpf_prog_free(prog);
    free(b);
    {
        struct bpf_inst far[3];

        memcpy(far, call_prog, sizeof far);
        far[0].imm = 100;   /* implicit addend: past the end */
        p.insns = far;
        b = eb_prog_build(&p, &len);
        CU_ASSERT_REFUSED(b, len, EINVAL, "outside the code");
        free(b);
        p.insns = call_prog;
    }
    /* A call relocation on an lddw. */
    p.insns = lddw_prog;
    p.ninsns = 4;
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, EINVAL, "not a call");
    free(b);
}

/* Read-only data: through a symbol with an addend, out of range, and the
 * 8-byte alignment of the second section. */
static void
test_built_rodata(void)
{
    static const char ro[] = "abc\0defgh";
    static const char ro2[] = "XYZ";
    struct bpf_inst insns[6] = {
        { .code = LDDW, .dst = 1, .imm = 4 }, { 0 },
        { .code = LDDW, .dst = 2, .imm = 1 }, { 0 },
        { .code = 0xb7, .dst = 0, .imm = 1 },
        { .code = 0x95 },
    };
    Elf64_Sym syms[2];
    struct eb_strtab strs = { .len = 0 };
    struct eb_sec extra = { ".rodata.str1.1", SHT_PROGBITS,
                            SHF_ALLOC | SHF_MERGE | SHF_STRINGS, ro2,
                            sizeof ro2, 0, 0, 1 };
    struct eb_prog p = { .insns = insns, .ninsns = 6, .ro = ro,
                         .ro_size = sizeof ro, .syms = syms, .nsyms = 2,
                         .strs = &strs, .extra = &extra, .nextra = 1 };
    Elf64_Rel rels[2] = { { 0, ELF64_R_INFO(1, 1) },
                          { 16, ELF64_R_INFO(2, 1) } };
    const char *data;
    struct bpf_prog *prog;
    uint8_t *b;
    size_t len;

    syms[0] = eb_sym(&strs, "tbl", STB_LOCAL, STT_OBJECT, S_RODATA, 0,
                     sizeof ro);
    syms[1] = eb_sym(&strs, NULL, STB_LOCAL, STT_SECTION, S_REL + 1, 0, 0);
    p.rels = rels;
    p.nrels = 2;
    b = eb_prog_build(&p, &len);
    prog = loaded(b, len, __LINE__);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    data = bpf_prog_rodata(prog, &len);
    CU_ASSERT_EQUAL(len, 16 + sizeof ro2);
    CU_ASSERT_EQUAL(prog->insns[0].src, BPF_PSEUDO_RODATA);
    CU_ASSERT_EQUAL(prog->insns[0].imm, 4);
    CU_ASSERT_STRING_EQUAL(data + prog->insns[0].imm, "defgh");
    CU_ASSERT_EQUAL(prog->insns[2].src, BPF_PSEUDO_RODATA);
    CU_ASSERT_EQUAL(prog->insns[2].imm, 16 + 1);
    CU_ASSERT_STRING_EQUAL(data + prog->insns[2].imm, "YZ");
    bpf_prog_free(prog);
    free(b);

    insns[0].imm = sizeof ro;   /* one past the end */
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, EINVAL, "out of range");
    free(b);
    insns[0].imm = 0;
    syms[0].st_value = 1000;    /* symbol past its section */
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, EINVAL, "past the end of .rodata");
    free(b);
}

/* Code size limits. */
static void
test_built_sizes(void)
{
    struct eb_strtab strs = { .len = 0 };
    struct eb_prog p = { .strs = &strs };
    struct bpf_inst *big;
    uint8_t *b;
    size_t len;

    big = calloc(BPF_MAX_INSNS + 1, sizeof *big);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    big[BPF_MAX_INSNS].code = 0x95;
    p.insns = big;
    p.ninsns = BPF_MAX_INSNS + 1;
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, E2BIG, "more than");
    free(b);
    p.ninsns = BPF_MAX_INSNS;
    big[BPF_MAX_INSNS - 1].code = 0x95;
    b = eb_prog_build(&p, &len);
    {
        struct bpf_prog *prog = loaded(b, len, __LINE__);

        CU_ASSERT_PTR_NOT_NULL(prog);
        bpf_prog_free(prog);
    }
    free(b);
    p.ninsns = 0;           /* only an empty .text: no code */
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, EINVAL, "no code");
    free(b);
    free(big);
}

/* ---------------------------------------------------------------------
 * Program sections and the functions clang puts in .text
 * ------------------------------------------------------------------- */

/* Verifies prog, runs it on a 16-byte buffer with maps (or none) and
 * returns r0; UINT64_MAX if it does not verify or run. */
static uint64_t
run16(const struct bpf_prog *prog, struct bpf_map *const *maps)
{
    uint8_t buf[16] = { 0 };
    char err[256] = "";
    struct bpf_vm *vm;
    uint64_t r0 = UINT64_MAX;

    if (bpf_verify(prog, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "\nverifier: %s\n", err);
        return UINT64_MAX;
    }
    vm = bpf_vm_create(prog, maps, BPF_VM_BOUNDS_CHECK, err, sizeof err);
    if (!vm) {
        fprintf(stderr, "\nvm: %s\n", err);
        return UINT64_MAX;
    }
    if (bpf_vm_exec(vm, buf, sizeof buf, &r0, err, sizeof err)) {
        fprintf(stderr, "\nrun: %s\n", err);
        r0 = UINT64_MAX;
    }
    bpf_vm_destroy(vm);
    return r0;
}

/* Index of the function symbol name in prog, or SIZE_MAX. */
static size_t
func_index(const struct bpf_prog *prog, const char *name)
{
    size_t i;

    for (i = 0; i < prog->ninsns; i++) {
        const char *at = bpf_prog_symbol_at(prog, i);

        if (at && !strcmp(at, name)) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* `entry` in section `filter` after a non-empty .text: the section of
 * `entry` is the program, not the first executable section. */
static void
test_sec_entry(void)
{
    struct bpf_load_opts opts = { .section = NULL };
    struct bpf_prog *prog;
    uint8_t *b;
    size_t len;

    prog = load_prog("sec_entry", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_STRING_EQUAL(bpf_prog_section(prog), "filter");
    CU_ASSERT_EQUAL(prog->entry, 0);
    CU_ASSERT_EQUAL(prog->ninsns, 4);   /* .text is not called: not added */
    CU_ASSERT_EQUAL(run16(prog, NULL), 7);
    bpf_prog_free(prog);

    /* Naming .text still loads it, as asked. */
    opts.section = ".text";
    prog = load_prog("sec_entry", &opts);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_STRING_EQUAL(bpf_prog_section(prog), ".text");
    CU_ASSERT_EQUAL(run16(prog, NULL), 16 + 40);
    bpf_prog_free(prog);

    /* A named section and an entry that is not in it: refused. */
    b = read_prog("sec_entry", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    opts.section = "filter";
    opts.entry = "not_the_entry";
    CU_ASSERT_REFUSED_OPTS(b, len, &opts, ENOENT, "not_the_entry");
    opts.section = ".text";
    opts.entry = "entry";
    CU_ASSERT_REFUSED_OPTS(b, len, &opts, ENOENT, "not found in section");
    free(b);
}

/* `entry` in `filter` calls a static noinline function clang put in
 * .text: .text is appended and the call points at the copy. */
static void
test_sec_text_call(void)
{
    struct bpf_load_opts opts = { .section = NULL };
    struct bpf_prog *prog;
    size_t twice;
    uint8_t *b;
    size_t len;

    prog = load_prog("sec_text_call", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_STRING_EQUAL(bpf_prog_section(prog), "filter");
    CU_ASSERT_STRING_EQUAL(bpf_prog_symbol_at(prog, prog->entry), "entry");
    twice = func_index(prog, "twice");
    CU_ASSERT(twice != SIZE_MAX && twice > prog->entry);
    CU_ASSERT_PTR_NULL(bpf_prog_symbol_at(prog, twice + 1));
    CU_ASSERT_EQUAL(func_index(prog, "other_entry"), SIZE_MAX);
    CU_ASSERT_EQUAL(run16(prog, NULL), 2 * 16 + 1);
    bpf_prog_free(prog);

    /* The same with the section named, with and without the entry. */
    opts.section = "filter";
    prog = load_prog("sec_text_call", &opts);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_STRING_EQUAL(bpf_prog_symbol_at(prog, prog->entry), "entry");
    CU_ASSERT_EQUAL(run16(prog, NULL), 2 * 16 + 1);
    bpf_prog_free(prog);
    opts.entry = "entry";
    prog = load_prog("sec_text_call", &opts);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_EQUAL(run16(prog, NULL), 2 * 16 + 1);
    bpf_prog_free(prog);

    /* The second program section, which calls the same function. */
    opts.section = "filter2";
    opts.entry = NULL;
    prog = load_prog("sec_text_call", &opts);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_STRING_EQUAL(bpf_prog_section(prog), "filter2");
    CU_ASSERT_STRING_EQUAL(bpf_prog_symbol_at(prog, prog->entry),
                           "other_entry");
    CU_ASSERT(func_index(prog, "twice") != SIZE_MAX);
    CU_ASSERT_EQUAL(func_index(prog, "entry"), SIZE_MAX);
    CU_ASSERT_EQUAL(run16(prog, NULL), 2 * 16 + 100);
    bpf_prog_free(prog);

    /* `entry` named explicitly but in another section: refused, not run
     * from the wrong place. */
    b = read_prog("sec_text_call", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    opts.entry = "entry";
    CU_ASSERT_REFUSED_OPTS(b, len, &opts, ENOENT, "'entry' not found");
    opts.section = "filter";
    opts.entry = "twice";       /* in .text, appended but not the section */
    CU_ASSERT_REFUSED_OPTS(b, len, &opts, ENOENT, "'twice' not found");
    free(b);
}

/* The appended .text function uses a map and a helper: its relocations
 * are applied to the copy. */
static void
test_sec_text_maps(void)
{
    struct bpf_prog *prog;
    struct bpf_map *map;
    uint32_t idx = 0;
    uint64_t *v;

    prog = load_prog("sec_text_maps", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_STRING_EQUAL(bpf_prog_section(prog), "filter");
    CU_ASSERT_EQUAL_FATAL(prog->nmaps, 1);
    CU_ASSERT_STRING_EQUAL(prog->maps[0].name, "hits");
    CU_ASSERT(func_index(prog, "count_hit") != SIZE_MAX);
    map = bpf_map_create(&prog->maps[0].def, "hits", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(map);
    CU_ASSERT_EQUAL(run16(prog, &map), 1);
    CU_ASSERT_EQUAL(run16(prog, &map), 2);
    v = bpf_map_lookup(map, &idx, NULL);   /* 16 & 3 = 0 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(*v, 2);
    bpf_map_destroy(map, NULL);
    bpf_prog_free(prog);
}

/* The maps of one program may not need more than BPF_PROG_MAX_MAP_BYTES
 * together, even if each is within BPF_MAP_MAX_BYTES. */
static void
test_built_map_total(void)
{
    static uint8_t maps[3 * 20];
    Elf64_Sym syms[3];
    struct eb_strtab strs = { .len = 0 };
    struct eb_prog p = { .insns = lddw_prog, .ninsns = 4, .maps = maps,
                         .maps_size = sizeof maps, .syms = syms, .nsyms = 3,
                         .strs = &strs };
    Elf64_Rel rel = { 0, ELF64_R_INFO(1, 1) };
    struct bpf_prog *prog;
    uint64_t total = 0;
    uint8_t *b;
    size_t len, i;

    /* 256 MiB, 768 MiB and 256 MiB of values. */
    put_map(maps, BPF_MAP_ARRAY, 4, 65536, 4096, 0);
    put_map(maps + 20, BPF_MAP_ARRAY, 4, 65536, 12288, 0);
    put_map(maps + 40, BPF_MAP_ARRAY, 4, 65536, 4096, 0);
    syms[0] = eb_sym(&strs, "small", STB_GLOBAL, STT_OBJECT, S_MAPS, 0, 20);
    syms[1] = eb_sym(&strs, "large", STB_GLOBAL, STT_OBJECT, S_MAPS, 20, 20);
    syms[2] = eb_sym(&strs, "other", STB_GLOBAL, STT_OBJECT, S_MAPS, 40, 20);
    p.rels = &rel;
    p.nrels = 1;
    b = eb_prog_build(&p, &len);
    CU_ASSERT_REFUSED(b, len, E2BIG, "'large'");
    CU_ASSERT_REFUSED(b, len, E2BIG, "in total");
    free(b);

    /* Only the first map: 256 MiB, loads. */
    p.maps_size = 20;
    p.nsyms = 1;
    b = eb_prog_build(&p, &len);
    prog = loaded(b, len, __LINE__);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    for (i = 0; i < prog->nmaps; i++) {
        total += bpf_map_mem_size(&prog->maps[i].def);
    }
    CU_ASSERT(total > 0 && total <= BPF_PROG_MAX_MAP_BYTES);
    bpf_prog_free(prog);
    free(b);
}

static const struct cu_test tests[] = {
    { "test programs load with maps, calls, strings", test_progs },
    { "-mcpu=v3, -mcpu=v1 and -g variants", test_variants },
    { "example objects", test_examples },
    { "entry and section options", test_opts },
    { "bad ELF headers", test_bad_headers },
    { "bad section headers", test_bad_sections },
    { "bad symbols", test_bad_symbols },
    { "bad map definitions", test_bad_maps },
    { "bad relocations", test_bad_relocs },
    { "truncations and byte flips", test_mutations },
    { "built: minimal object", test_built_minimal },
    { "built: 64 and 65 maps", test_built_many_maps },
    { "built: map addends, REL and RELA", test_built_addends },
    { "built: bad maps, calls, ignored BTF relocations", test_built_bad },
    { "built: read-only data", test_built_rodata },
    { "built: code size limits", test_built_sizes },
    { "entry in a named section, not .text", test_sec_entry },
    { "named section calling into .text", test_sec_text_call },
    { "maps in an appended .text function", test_sec_text_maps },
    { "built: total map memory limit", test_built_map_total },
    { NULL, NULL }
};

CU_MAIN("loader", tests)
