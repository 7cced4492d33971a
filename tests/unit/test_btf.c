/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_btf.c -- unit tests of the BTF parser (bpf/btf.c) and of the
 * libbpf/XDP flavour of the loader (bpf/elf.c): BTF-defined maps, flavour
 * detection, entry point, refusal of CO-RE, global data and unsupported
 * map types, and formatting of keys and values by their C types.
 *
 * Sources of objects:
 *  - the libbpf-style programs tests/progs/xdp_*.c, compiled here with
 *    clang against the system's libbpf headers (<bpf/bpf_helpers.h>, from
 *    Debian's libbpf-dev) into a private directory; if clang or the
 *    headers are missing, those tests say so and are skipped;
 *  - BTF built here record by record, for exact formatting checks and for
 *    what clang never emits (typedef loops, self-containing arrays);
 *  - the .BTF of the compiled programs, truncated and corrupted field by
 *    field and at random: each must be refused or parsed, never crash (the
 *    _asan build of this test checks that).
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

/* ---------------------------------------------------------------------
 * Compiling the libbpf-style programs
 * ------------------------------------------------------------------- */

static const char *const xdp_progs[] = {
    "xdp_counter", "xdp_conntrack", "xdp_bloom", "xdp_lpm", "xdp_core",
    "xdp_global",
};
#define NXDP (sizeof xdp_progs / sizeof xdp_progs[0])

static char prog_dir[] = "/tmp/oko-test-btf-XXXXXX";
static bool made_prog_dir;
static int have_progs = -1;     /* -1 not tried, 0 no clang/headers, 1 ok */

static void
remove_progs(void)
{
    char path[600];
    DIR *d;
    struct dirent *e;

    if (!made_prog_dir) {
        return;
    }
    d = opendir(prog_dir);
    while (d && (e = readdir(d))) {
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", prog_dir, e->d_name);
            unlink(path);
        }
    }
    if (d) {
        closedir(d);
    }
    rmdir(prog_dir);
}

/* Compiles tests/progs/xdp_*.c once.  <linux/bpf.h> includes <asm/types.h>,
 * which Debian keeps in the multiarch directory, hence the -I. */
static bool
compile_progs(void)
{
    static const char *const multiarch[] = {
        "/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu",
        "/usr/include/i386-linux-gnu", "/usr/include/powerpc64le-linux-gnu",
    };
    const char *clang = getenv("CLANG");
    const char *inc = NULL;
    char cmd[2048], path[600];
    size_t i;

    if (have_progs >= 0) {
        return have_progs;
    }
    have_progs = 0;
    if (!clang || !*clang) {
        clang = "clang";
    }
    snprintf(cmd, sizeof cmd, "%s --version >/dev/null 2>&1", clang);
    if (system(cmd) != 0 || access("/usr/include/bpf/bpf_helpers.h", R_OK)) {
        fprintf(stderr, "\nclang or libbpf headers (libbpf-dev) missing: "
                "libbpf-style programs not tested\n");
        return false;
    }
    for (i = 0; i < sizeof multiarch / sizeof multiarch[0]; i++) {
        snprintf(path, sizeof path, "%s/asm/types.h", multiarch[i]);
        if (!access(path, R_OK)) {
            inc = multiarch[i];
            break;
        }
    }
    if (!mkdtemp(prog_dir)) {
        return false;
    }
    made_prog_dir = true;
    atexit(remove_progs);
    for (i = 0; i < NXDP; i++) {
        snprintf(cmd, sizeof cmd, "%s -O2 -g -target bpf %s%s -Wall -Werror "
                 "-c %s/tests/progs/%s.c -o %s/%s.o", clang,
                 inc ? "-I" : "", inc ? inc : "", TOP_SRCDIR, xdp_progs[i],
                 prog_dir, xdp_progs[i]);
        if (system(cmd) != 0) {
            fprintf(stderr, "\nfailed: %s\n", cmd);
            CU_FAIL("cannot compile a libbpf-style test program");
            return false;
        }
    }
    have_progs = 1;
    return true;
}

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

static uint8_t *
read_obj(const char *name, size_t *len)
{
    char path[600];
    uint8_t *buf;

    snprintf(path, sizeof path, "%s/%s.o", prog_dir, name);
    buf = read_file(path, len);
    CU_ASSERT_PTR_NOT_NULL(buf);
    return buf;
}

static struct bpf_prog *
load_obj(const char *name, const struct bpf_load_opts *opts, char *err,
         size_t errlen)
{
    struct bpf_prog *prog;
    uint8_t *buf;
    size_t len = 0;

    buf = read_obj(name, &len);
    if (!buf) {
        return NULL;
    }
    prog = bpf_prog_load_elf(buf, len, opts, err, errlen);
    free(buf);
    return prog;
}

/* Finds section name in an ELF64 object (the compiled programs are well
 * formed) and returns its offset and size. */
static bool
find_section(const uint8_t *obj, size_t len, const char *name, size_t *off,
             size_t *size)
{
    Elf64_Ehdr eh;
    Elf64_Shdr sh, strsh;
    size_t i;

    if (len < sizeof eh) {
        return false;
    }
    memcpy(&eh, obj, sizeof eh);
    memcpy(&strsh, obj + eh.e_shoff + eh.e_shstrndx * sizeof sh, sizeof sh);
    for (i = 1; i < eh.e_shnum; i++) {
        memcpy(&sh, obj + eh.e_shoff + i * sizeof sh, sizeof sh);
        if (!strcmp((const char *) obj + strsh.sh_offset + sh.sh_name,
                    name)) {
            *off = sh.sh_offset;
            *size = sh.sh_size;
            return true;
        }
    }
    return false;
}

static const struct bpf_map_desc *
map_by_name(const struct bpf_prog *prog, const char *name)
{
    size_t i;

    for (i = 0; i < bpf_prog_nmaps(prog); i++) {
        if (!strcmp(bpf_prog_map(prog, i)->name, name)) {
            return bpf_prog_map(prog, i);
        }
    }
    return NULL;
}

static void
assert_type_name(const struct bpf_prog *prog, uint32_t id, const char *want)
{
    char buf[128];

    CU_ASSERT(bpf_prog_format_type(prog, id, buf, sizeof buf) > 0);
    if (strcmp(buf, want)) {
        fprintf(stderr, "\ntype %u is '%s', want '%s'\n", id, buf, want);
    }
    CU_ASSERT_STRING_EQUAL(buf, want);
}

static void
assert_format(const struct bpf_prog *prog, uint32_t id, const void *data,
              size_t len, const char *want)
{
    char buf[512];
    int ret = bpf_prog_format_value(prog, id, data, len, buf, sizeof buf);

    CU_ASSERT_EQUAL(ret, (int) strlen(want));
    if (strcmp(buf, want)) {
        fprintf(stderr, "\nformatted '%s', want '%s'\n", buf, want);
    }
    CU_ASSERT_STRING_EQUAL(buf, want);
}

/* ---------------------------------------------------------------------
 * The libbpf-style programs
 * ------------------------------------------------------------------- */

/* A hash keyed by a struct and a (per-CPU) array declared by sizes: types,
 * sizes, BTF key and value types, flavour, section, entry. */
static void
test_counter(void)
{
    static const uint8_t key[8] = { 10, 0, 0, 1, 6, 0, 0, 0 };
    static const uint8_t value[16] = { 5, 0, 0, 0, 0, 0, 0, 0,
                                       0xe8, 0x03, 0, 0, 0, 0, 0, 0 };
    const struct bpf_map_desc *m;
    struct bpf_prog *prog;
    char err[256];

    if (!compile_progs()) {
        return;
    }
    prog = load_obj("xdp_counter", NULL, err, sizeof err);
    if (!prog) {
        fprintf(stderr, "\n%s\n", err);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_EQUAL(bpf_prog_flavour(prog), BPF_FLAVOUR_XDP);
    CU_ASSERT_STRING_EQUAL(bpf_prog_section(prog), "xdp");
    CU_ASSERT_EQUAL(bpf_prog_entry(prog), 0);
    CU_ASSERT_STRING_EQUAL(bpf_prog_symbol_at(prog, 0), "xdp_count");
    CU_ASSERT_EQUAL(bpf_prog_nmaps(prog), 2);

    m = map_by_name(prog, "src_count");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->def.type, BPF_MAP_HASH);
    CU_ASSERT_EQUAL(m->def.key_size, 8);
    CU_ASSERT_EQUAL(m->def.value_size, 16);
    CU_ASSERT_EQUAL(m->def.max_entries, 1024);
    assert_type_name(prog, m->btf_key_type, "struct src_key");
    assert_type_name(prog, m->btf_value_type, "struct src_stats");
    assert_format(prog, m->btf_key_type, key, sizeof key,
                  "{ .saddr = 10.0.0.1, .proto = 6, .pad = 0x000000 }");
    assert_format(prog, m->btf_value_type, value, sizeof value,
                  "{ .packets = 5, .bytes = 1000 }");
    /* The wrong size is refused, not read past. */
    CU_ASSERT_EQUAL(bpf_prog_format_value(prog, m->btf_key_type, key, 4,
                                          err, sizeof err), -EINVAL);

    /* PERCPU_ARRAY: a plain (shared) array, sizes only, formatted as
     * hex. */
    m = map_by_name(prog, "proto_count");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->def.type, BPF_MAP_ARRAY);
    CU_ASSERT_EQUAL(m->def.key_size, 4);
    CU_ASSERT_EQUAL(m->def.value_size, 8);
    CU_ASSERT_EQUAL(m->def.max_entries, 256);
    CU_ASSERT_EQUAL(m->btf_key_type, 0);
    CU_ASSERT_EQUAL(m->btf_value_type, 0);
    assert_format(prog, 0, key, 4, "0x0a000001");
    CU_ASSERT_EQUAL(bpf_prog_format_type(prog, 0, err, sizeof err),
                    -ENOENT);

    /* Every lddw of a map was rewritten to a map index. */
    {
        size_t n, i, lddw = 0;
        const struct bpf_inst *insns = bpf_prog_insns(prog, &n);

        for (i = 0; i < n; i++) {
            if (insns[i].code == 0x18 && insns[i].src == BPF_PSEUDO_MAP_IDX) {
                CU_ASSERT(insns[i].imm >= 0 && insns[i].imm < 2);
                lddw++;
                i++;
            }
        }
        CU_ASSERT(lddw >= 3);
    }
    bpf_prog_free(prog);
}

/* LRU hash: loads as BPF_MAP_LRU_HASH (maps.c decides whether it can
 * create one), with an enum in the value. */
static void
test_conntrack(void)
{
    static const uint8_t key[16] = { 192, 168, 0, 1, 10, 0, 0, 2,
                                     0x30, 0x39, 0, 80, 6, 0, 0, 0 };
    uint8_t value[24] = { 0 };
    const struct bpf_map_desc *m;
    struct bpf_prog *prog;
    char err[256];

    if (!compile_progs()) {
        return;
    }
    prog = load_obj("xdp_conntrack", NULL, err, sizeof err);
    if (!prog) {
        fprintf(stderr, "\n%s\n", err);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_EQUAL(bpf_prog_flavour(prog), BPF_FLAVOUR_XDP);
    CU_ASSERT_EQUAL(bpf_prog_nmaps(prog), 1);
    m = map_by_name(prog, "conntrack");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->def.type, BPF_MAP_LRU_HASH);
    CU_ASSERT_EQUAL(m->def.key_size, 16);
    CU_ASSERT_EQUAL(m->def.value_size, 16);
    CU_ASSERT_EQUAL(m->def.max_entries, 4096);
    assert_type_name(prog, m->btf_key_type, "struct ct_key");
    assert_type_name(prog, m->btf_value_type, "struct ct_entry");
    /* Ports are __be16: printed as the integer in host order. */
    assert_format(prog, m->btf_key_type, key, sizeof key,
                  "{ .saddr = 192.168.0.1, .daddr = 10.0.0.2, "
                  ".sport = 14640, .dport = 20480, .proto = 6, "
                  ".pad = 0x000000 }");
    value[0] = 42;
    value[8] = 1;
    value[12] = 3;
    assert_format(prog, m->btf_value_type, value, 16,
                  "{ .last_seen = 42, .state = CT_ESTABLISHED, "
                  ".packets = 3 }");
    value[8] = 7;
    assert_format(prog, m->btf_value_type, value, 16,
                  "{ .last_seen = 42, .state = 7, .packets = 3 }");
    bpf_prog_free(prog);
}

/* Kernel Bloom filter: value only, map_extra = number of hashes. */
static void
test_bloom(void)
{
    const struct bpf_map_desc *m;
    struct bpf_prog *prog;
    char err[256];

    if (!compile_progs()) {
        return;
    }
    prog = load_obj("xdp_bloom", NULL, err, sizeof err);
    if (!prog) {
        fprintf(stderr, "\n%s\n", err);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    m = map_by_name(prog, "blocklist");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->def.type, BPF_MAP_BLOOM);
    CU_ASSERT_EQUAL(m->def.key_size, 4);
    CU_ASSERT_EQUAL(m->def.value_size, 4);
    CU_ASSERT_EQUAL(m->def.nb_hash_functions, 3);
    /* 1000 elements x 3 hashes x 7/5 = 4200 bits, rounded up to 8192. */
    CU_ASSERT_EQUAL(m->def.max_entries, 8192);
    CU_ASSERT_EQUAL(bpf_map_def_check(&m->def, err, sizeof err), 0);
    assert_type_name(prog, m->btf_key_type, "__u32");
    assert_type_name(prog, m->btf_value_type, "__u32");
    bpf_prog_free(prog);
}

/* What the libbpf flavour refuses, with messages that say what and
 * where. */
static void
test_refused(void)
{
    struct bpf_prog *prog;
    char err[256];

    if (!compile_progs()) {
        return;
    }
    prog = load_obj("xdp_lpm", NULL, err, sizeof err);
    CU_ASSERT_PTR_NULL(prog);
    CU_ASSERT_EQUAL(errno, ENOTSUP);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'prefixes'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "BPF_MAP_TYPE_LPM_TRIE"));

    prog = load_obj("xdp_core", NULL, err, sizeof err);
    CU_ASSERT_PTR_NULL(prog);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "CO-RE relocations are not "
                                       "supported"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "insn "));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "struct xdp_md"));

    /* No .maps: the flavour comes from the section name `classifier`. */
    prog = load_obj("xdp_global", NULL, err, sizeof err);
    CU_ASSERT_PTR_NULL(prog);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'packets'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "global data"));
}

/* The flavour option: AUTO decides from the object, OKO and XDP force it;
 * the prototype's programs stay oko's. */
static void
test_flavour(void)
{
    struct bpf_load_opts opts = { 0 };
    struct bpf_prog *prog;
    char path[600], err[256];

    snprintf(path, sizeof path, "%s/tests/progs/maps_two.o", TOP_BUILDDIR);
    prog = bpf_prog_load_file(path, NULL, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    CU_ASSERT_EQUAL(bpf_prog_flavour(prog), BPF_FLAVOUR_OKO);
    CU_ASSERT_EQUAL(bpf_prog_map(prog, 0)->btf_key_type, 0);
    bpf_prog_free(prog);

    opts.flavour = BPF_FLAVOUR_XDP;
    prog = bpf_prog_load_file(path, &opts, err, sizeof err);
    CU_ASSERT_PTR_NULL(prog);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not supported in the libbpf "
                                       "flavour"));

    opts.flavour = (enum bpf_flavour) 7;
    prog = bpf_prog_load_file(path, &opts, err, sizeof err);
    CU_ASSERT_PTR_NULL(prog);
    CU_ASSERT_EQUAL(errno, EINVAL);

    {
        static const struct bpf_inst ret0[] = {
            { .code = 0xb7 }, { .code = 0x95 },
        };

        prog = bpf_prog_load_raw(ret0, 2, err, sizeof err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
        CU_ASSERT_EQUAL(bpf_prog_flavour(prog), BPF_FLAVOUR_OKO);
        assert_format(prog, 5, "\x01\x02", 2, "0x0102");
        bpf_prog_free(prog);
    }

    if (!compile_progs()) {
        return;
    }
    /* Forced oko: the 32-byte .maps definitions are not 20-byte ones. */
    opts.flavour = BPF_FLAVOUR_OKO;
    prog = load_obj("xdp_counter", &opts, err, sizeof err);
    CU_ASSERT_PTR_NULL(prog);
    CU_ASSERT(err[0] != '\0');
    opts.flavour = BPF_FLAVOUR_XDP;
    opts.section = "xdp";
    opts.entry = "xdp_count";
    prog = load_obj("xdp_counter", &opts, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(prog);
    bpf_prog_free(prog);
}

/* ---------------------------------------------------------------------
 * BTF built by hand
 * ------------------------------------------------------------------- */

struct bb {
    uint8_t types[4096];
    size_t tlen;
    char strs[1024];
    size_t slen;
    uint32_t ntypes;
};

static void
bb_init(struct bb *b)
{
    memset(b, 0, sizeof *b);
    b->slen = 1;        /* "" */
}

static uint32_t
bb_str(struct bb *b, const char *s)
{
    uint32_t off = (uint32_t) b->slen;

    memcpy(b->strs + b->slen, s, strlen(s) + 1);
    b->slen += strlen(s) + 1;
    return off;
}

static void
bb_u32(struct bb *b, uint32_t v)
{
    memcpy(b->types + b->tlen, &v, 4);
    b->tlen += 4;
}

/* Adds a type record and returns its id; the caller appends the tail. */
static uint32_t
bb_type(struct bb *b, const char *name, uint32_t kind, uint32_t vlen,
        bool kflag, uint32_t size_type)
{
    bb_u32(b, name ? bb_str(b, name) : 0);
    bb_u32(b, kind << 24 | vlen | (kflag ? 1u << 31 : 0));
    bb_u32(b, size_type);
    return ++b->ntypes;
}

static void
bb_member(struct bb *b, const char *name, uint32_t type, uint32_t off)
{
    bb_u32(b, bb_str(b, name));
    bb_u32(b, type);
    bb_u32(b, off);
}

/* Lays out header + types + strings; returns a malloc'ed blob. */
static uint8_t *
bb_blob(const struct bb *b, size_t *len)
{
    uint32_t hdr[6];
    uint8_t *blob;

    *len = 24 + b->tlen + b->slen;
    blob = malloc(*len);
    hdr[0] = 0xeB9F | 1u << 16;
    hdr[1] = 24;
    hdr[2] = 0;
    hdr[3] = (uint32_t) b->tlen;
    hdr[4] = (uint32_t) b->tlen;
    hdr[5] = (uint32_t) b->slen;
    memcpy(blob, hdr, sizeof hdr);
    memcpy(blob + 24, b->types, b->tlen);
    memcpy(blob + 24 + b->tlen, b->strs, b->slen);
    return blob;
}

enum {
    K_INT = 1, K_PTR = 2, K_ARRAY = 3, K_STRUCT = 4, K_ENUM = 6,
    K_TYPEDEF = 8, K_CONST = 10, K_VAR = 14, K_DATASEC = 15,
};

/* The types of the formatting test; returns the id of `flow_t`. */
static void
bb_flow(struct bb *b)
{
    bb_type(b, "unsigned int", K_INT, 0, false, 4);         /* 1 */
    bb_u32(b, 32);
    bb_type(b, "unsigned char", K_INT, 0, false, 1);        /* 2 */
    bb_u32(b, 8);
    bb_type(b, "int", K_INT, 0, false, 4);                  /* 3 */
    bb_u32(b, 1u << 24 | 32);
    bb_type(b, NULL, K_ARRAY, 0, false, 0);                 /* 4 u8[6] */
    bb_u32(b, 2); bb_u32(b, 1); bb_u32(b, 6);
    bb_type(b, "dir", K_ENUM, 2, false, 4);                 /* 5 */
    bb_u32(b, bb_str(b, "IN")); bb_u32(b, 0);
    bb_u32(b, bb_str(b, "OUT")); bb_u32(b, 1);
    bb_type(b, "_Bool", K_INT, 0, false, 1);                /* 6 */
    bb_u32(b, 4u << 24 | 8);
    bb_type(b, NULL, K_ARRAY, 0, false, 0);                 /* 7 int[2] */
    bb_u32(b, 3); bb_u32(b, 1); bb_u32(b, 2);
    bb_type(b, "flow", K_STRUCT, 7, true, 28);              /* 8 */
    bb_member(b, "saddr", 1, 0);
    bb_member(b, "mac", 4, 32);
    bb_member(b, "dir", 5, 80);
    bb_member(b, "ok", 6, 112);
    bb_member(b, "flags", 1, 3u << 24 | 120);
    bb_member(b, "delta", 3, 128);
    bb_member(b, "v", 7, 160);
    bb_type(b, "flow_t", K_TYPEDEF, 0, false, 8);           /* 9 */
    bb_type(b, "loop_a", K_TYPEDEF, 0, false, 11);          /* 10 */
    bb_type(b, "loop_b", K_TYPEDEF, 0, false, 10);          /* 11 */
    bb_type(b, NULL, K_ARRAY, 0, false, 0);                 /* 12 self[2] */
    bb_u32(b, 12); bb_u32(b, 1); bb_u32(b, 2);
    bb_type(b, NULL, K_PTR, 0, false, 8);                   /* 13 */
    bb_type(b, NULL, K_CONST, 0, false, 9);                 /* 14 */
}

static void
test_format(void)
{
    static const uint8_t data[28] = {
        192, 168, 1, 2,  0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
        1, 0, 0, 0,  1,  0x05,  0xfd, 0xff, 0xff, 0xff,
        7, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
    };
    static const char want[] = "{ .saddr = 192.168.1.2, .mac = "
        "0x001122334455, .dir = OUT, .ok = true, .flags = 5, .delta = -3, "
        ".v = [ 7, -1 ] }";
    struct bpf_btf *btf;
    struct bb b;
    uint8_t *blob;
    uint64_t size;
    uint32_t id;
    char buf[256], err[200];
    size_t len;

    bb_init(&b);
    bb_flow(&b);
    blob = bb_blob(&b, &len);
    btf = bpf_btf_parse(blob, len, err, sizeof err);
    if (!btf) {
        fprintf(stderr, "\n%s\n", err);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(btf);
    CU_ASSERT_EQUAL(bpf_btf_ntypes(btf), 15);
    CU_ASSERT_EQUAL(bpf_btf_format(btf, 9, data, sizeof data, buf,
                                   sizeof buf), (int) strlen(want));
    CU_ASSERT_STRING_EQUAL(buf, want);
    CU_ASSERT_EQUAL(bpf_btf_format(btf, 14, data, sizeof data, buf,
                                   sizeof buf), (int) strlen(want));
    /* Cut output: snprintf semantics. */
    CU_ASSERT_EQUAL(bpf_btf_format(btf, 8, data, sizeof data, buf, 10),
                    (int) strlen(want));
    CU_ASSERT_EQUAL(strlen(buf), 9);
    CU_ASSERT_EQUAL(bpf_btf_format(btf, 8, data, sizeof data, NULL, 0),
                    (int) strlen(want));
    CU_ASSERT_EQUAL(bpf_btf_format(btf, 8, data, 27, buf, sizeof buf),
                    -EINVAL);
    CU_ASSERT_EQUAL(bpf_btf_format(btf, 99, data, 4, buf, sizeof buf),
                    -ENOENT);
    CU_ASSERT_EQUAL(bpf_btf_format(btf, 1, data, 4, buf, sizeof buf), 8);
    CU_ASSERT_STRING_EQUAL(buf, "33663168");
    CU_ASSERT(bpf_btf_format(btf, 13, data, 8, buf, sizeof buf) > 0);
    CU_ASSERT_STRING_EQUAL(buf, "0x332211000201a8c0");

    /* Names. */
    CU_ASSERT(bpf_btf_type_name(btf, 9, buf, sizeof buf) > 0);
    CU_ASSERT_STRING_EQUAL(buf, "flow_t");
    CU_ASSERT(bpf_btf_type_name(btf, 4, buf, sizeof buf) > 0);
    CU_ASSERT_STRING_EQUAL(buf, "unsigned char[6]");
    CU_ASSERT(bpf_btf_type_name(btf, 13, buf, sizeof buf) > 0);
    CU_ASSERT_STRING_EQUAL(buf, "struct flow *");
    CU_ASSERT(bpf_btf_type_name(btf, 14, buf, sizeof buf) > 0);
    CU_ASSERT_STRING_EQUAL(buf, "const flow_t");

    /* Sizes, resolution, and the loops: errors, not hangs. */
    CU_ASSERT_EQUAL(bpf_btf_size(btf, 9, &size), 0);
    CU_ASSERT_EQUAL(size, 28);
    CU_ASSERT_EQUAL(bpf_btf_size(btf, 4, &size), 0);
    CU_ASSERT_EQUAL(size, 6);
    CU_ASSERT_EQUAL(bpf_btf_size(btf, 13, &size), 0);
    CU_ASSERT_EQUAL(size, 8);
    CU_ASSERT_EQUAL(bpf_btf_resolve(btf, 14, &id), 0);
    CU_ASSERT_EQUAL(id, 8);
    CU_ASSERT_EQUAL(bpf_btf_resolve(btf, 10, &id), -ELOOP);
    CU_ASSERT_EQUAL(bpf_btf_size(btf, 10, &size), -ELOOP);
    CU_ASSERT_EQUAL(bpf_btf_size(btf, 12, &size), -ELOOP);
    CU_ASSERT_EQUAL(bpf_btf_format(btf, 10, data, 4, buf, sizeof buf),
                    -ELOOP);
    CU_ASSERT_EQUAL(bpf_btf_format(btf, 12, data, 4, buf, sizeof buf),
                    -ELOOP);
    CU_ASSERT_EQUAL(bpf_btf_type_name(btf, 12, buf, sizeof buf) > 0, true);
    CU_ASSERT_EQUAL(bpf_btf_resolve(btf, 15, &id), -ENOENT);
    bpf_btf_free(btf);
    free(blob);
}

/* Sizes that overflow and arrays of billions of empty elements are
 * refused, quickly. */
static void
test_huge(void)
{
    struct bpf_btf *btf;
    struct bb b;
    uint8_t *blob;
    uint64_t size;
    char buf[64];
    size_t len;

    bb_init(&b);
    bb_type(&b, "int", K_INT, 0, false, 4);                 /* 1 */
    bb_u32(&b, 1u << 24 | 32);
    bb_type(&b, "empty", K_STRUCT, 0, false, 0);            /* 2 */
    bb_type(&b, NULL, K_ARRAY, 0, false, 0);                /* 3 */
    bb_u32(&b, 2); bb_u32(&b, 1); bb_u32(&b, 0xffffffff);
    bb_type(&b, NULL, K_ARRAY, 0, false, 0);                /* 4 */
    bb_u32(&b, 1); bb_u32(&b, 1); bb_u32(&b, 0x10000);
    bb_type(&b, NULL, K_ARRAY, 0, false, 0);                /* 5 */
    bb_u32(&b, 4); bb_u32(&b, 1); bb_u32(&b, 0x10000);
    bb_type(&b, NULL, K_ARRAY, 0, false, 0);                /* 6 */
    bb_u32(&b, 5); bb_u32(&b, 1); bb_u32(&b, 0x10000);
    blob = bb_blob(&b, &len);
    btf = bpf_btf_parse(blob, len, NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(btf);
    CU_ASSERT_EQUAL(bpf_btf_size(btf, 3, &size), 0);
    CU_ASSERT_EQUAL(size, 0);
    CU_ASSERT_EQUAL(bpf_btf_format(btf, 3, "", 0, buf, sizeof buf), -E2BIG);
    CU_ASSERT_EQUAL(bpf_btf_size(btf, 4, &size), 0);
    CU_ASSERT_EQUAL(size, 0x40000);
    CU_ASSERT_EQUAL(bpf_btf_size(btf, 5, &size), -E2BIG);
    CU_ASSERT_EQUAL(bpf_btf_size(btf, 6, &size), -E2BIG);
    bpf_btf_free(btf);
    free(blob);
}

/* A hand-built libbpf map definition with every field, and the ways one
 * can be wrong. */
static void
test_map_def(void)
{
    struct bpf_btf_map def;
    struct bpf_btf *btf;
    struct bb b;
    uint8_t *blob;
    char err[200];
    size_t len;
    uint32_t sec, var;

    bb_init(&b);
    bb_type(&b, "int", K_INT, 0, false, 4);                 /* 1 */
    bb_u32(&b, 1u << 24 | 32);
    bb_type(&b, NULL, K_ARRAY, 0, false, 0);                /* 2 int[9] */
    bb_u32(&b, 1); bb_u32(&b, 1); bb_u32(&b, 9);
    bb_type(&b, NULL, K_PTR, 0, false, 2);                  /* 3 */
    bb_type(&b, NULL, K_ARRAY, 0, false, 0);                /* 4 int[100] */
    bb_u32(&b, 1); bb_u32(&b, 1); bb_u32(&b, 100);
    bb_type(&b, NULL, K_PTR, 0, false, 4);                  /* 5 */
    bb_type(&b, NULL, K_PTR, 0, false, 1);                  /* 6 int * */
    bb_type(&b, NULL, K_STRUCT, 4, false, 32);              /* 7 */
    bb_member(&b, "type", 3, 0);
    bb_member(&b, "max_entries", 5, 64);
    bb_member(&b, "key", 6, 128);
    bb_member(&b, "value_size", 5, 192);
    bb_type(&b, "m", K_VAR, 0, false, 7);                   /* 8 */
    bb_u32(&b, 1);
    bb_type(&b, ".maps", K_DATASEC, 1, false, 32);          /* 9 */
    bb_u32(&b, 8); bb_u32(&b, 0); bb_u32(&b, 32);
    bb_type(&b, NULL, K_STRUCT, 1, false, 8);               /* 10 */
    bb_member(&b, "inner", 6, 0);
    bb_type(&b, "bad", K_VAR, 0, false, 10);                /* 11 */
    bb_u32(&b, 1);
    bb_type(&b, "notstruct", K_VAR, 0, false, 1);           /* 12 */
    bb_u32(&b, 1);
    blob = bb_blob(&b, &len);
    btf = bpf_btf_parse(blob, len, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(btf);
    sec = bpf_btf_find_datasec(btf, ".maps");
    CU_ASSERT_EQUAL(sec, 9);
    CU_ASSERT_EQUAL(bpf_btf_datasec_var(btf, sec, 0, &var), 1);
    CU_ASSERT_EQUAL(var, 8);
    CU_ASSERT_EQUAL(bpf_btf_map_def(btf, var, &def, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(def.name, "m");
    CU_ASSERT_EQUAL(def.type, 9);
    CU_ASSERT_EQUAL(def.max_entries, 100);
    CU_ASSERT_EQUAL(def.key_size, 4);
    CU_ASSERT_EQUAL(def.key_type, 1);
    CU_ASSERT_EQUAL(def.value_size, 100);
    CU_ASSERT_EQUAL(def.value_type, 0);
    CU_ASSERT(bpf_btf_map_def(btf, 11, &def, err, sizeof err) < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown field 'inner'"));
    CU_ASSERT(bpf_btf_map_def(btf, 12, &def, err, sizeof err) < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a struct"));
    CU_ASSERT(bpf_btf_map_def(btf, 1, &def, err, sizeof err) < 0);
    CU_ASSERT(bpf_btf_map_def(btf, 99, &def, err, sizeof err) < 0);
    bpf_btf_free(btf);
    free(blob);
}

/* ---------------------------------------------------------------------
 * Malformed BTF
 * ------------------------------------------------------------------- */

/* Exercises everything a parsed BTF offers, to catch reads out of
 * bounds in the accessors of a BTF that passed the checks. */
static void
walk_btf(const struct bpf_btf *btf)
{
    static const uint8_t zeros[512];
    uint32_t id, n = bpf_btf_ntypes(btf), sec, i, var;
    struct bpf_btf_map def;
    char buf[128];

    for (id = 0; id < n && id < 2000; id++) {
        uint64_t size;

        bpf_btf_kind(btf, id);
        bpf_btf_name(btf, id);
        bpf_btf_type_name(btf, id, buf, sizeof buf);
        if (bpf_btf_size(btf, id, &size) == 0 && size <= sizeof zeros) {
            bpf_btf_format(btf, id, zeros, (size_t) size, buf, sizeof buf);
        }
    }
    sec = bpf_btf_find_datasec(btf, ".maps");
    for (i = 0; i < bpf_btf_datasec_var(btf, sec, 0, NULL); i++) {
        bpf_btf_datasec_var(btf, sec, i, &var);
        bpf_btf_map_def(btf, var, &def, buf, sizeof buf);
    }
}

/* Every truncation of a real .BTF is refused; every header field and
 * every word of every type record, set to hostile values, is refused or
 * parsed into something the accessors handle. */
static void
test_malformed(void)
{
    static const uint32_t hostile[] = {
        0, 1, 3, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
        0x0f000000, 0x13000000, 0x14000000, 0x1f00ffff, 0x8400ffff,
    };
    size_t obj_len, off, size, cut, i, j;
    struct bpf_btf *btf;
    uint8_t *obj, *copy;
    char err[256];
    unsigned refused = 0;

    if (!compile_progs()) {
        return;
    }
    obj = read_obj("xdp_conntrack", &obj_len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
    CU_ASSERT_FATAL(find_section(obj, obj_len, ".BTF", &off, &size));
    copy = malloc(size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(copy);

    btf = bpf_btf_parse(obj + off, size, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(btf);
    walk_btf(btf);
    bpf_btf_free(btf);

    for (cut = 0; cut < size; cut++) {
        memcpy(copy, obj + off, cut);
        btf = bpf_btf_parse(copy, cut, err, sizeof err);
        CU_ASSERT_PTR_NULL(btf);
        CU_ASSERT(err[0] != '\0');
        bpf_btf_free(btf);
    }
    CU_ASSERT_PTR_NULL(bpf_btf_parse(NULL, 0, err, sizeof err));
    CU_ASSERT_EQUAL(errno, EINVAL);

    /* Header bytes and words, then every 32-bit word of the type section
     * (record heads, member and tail words alike). */
    for (i = 0; i + 4 <= size; i += 4) {
        uint32_t hdr_len, type_len;

        memcpy(&hdr_len, obj + off + 4, 4);
        memcpy(&type_len, obj + off + 12, 4);
        if (i >= hdr_len + type_len && i >= 24) {
            break;          /* the string section: below */
        }
        for (j = 0; j < sizeof hostile / sizeof hostile[0]; j++) {
            memcpy(copy, obj + off, size);
            memcpy(copy + i, &hostile[j], 4);
            btf = bpf_btf_parse(copy, size, err, sizeof err);
            if (btf) {
                walk_btf(btf);
                bpf_btf_free(btf);
            } else {
                CU_ASSERT(err[0] != '\0');
                refused++;
            }
        }
    }
    CU_ASSERT(refused > 100);
    for (i = 0; i < 24; i++) {
        memcpy(copy, obj + off, size);
        copy[i] ^= 0xff;
        btf = bpf_btf_parse(copy, size, err, sizeof err);
        /* Magic, version, flags, lengths and offsets: every flip is
         * refused (the sections move out of bounds or misalign). */
        CU_ASSERT_PTR_NULL(btf);
        bpf_btf_free(btf);
    }

    /* A corrupted .BTF inside the object: the load fails and says so. */
    {
        uint8_t *o2 = malloc(obj_len);

        CU_ASSERT_PTR_NOT_NULL_FATAL(o2);
        memcpy(o2, obj, obj_len);
        o2[off] ^= 0xff;
        CU_ASSERT_PTR_NULL(bpf_prog_load_elf(o2, obj_len, NULL, err,
                                             sizeof err));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "section .BTF"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "magic"));
        free(o2);
    }
    free(copy);
    free(obj);
}

/* Random corruption of the .BTF, .BTF.ext and .maps of the objects, with a
 * fixed seed: loading must fail cleanly or succeed, never crash. */
static void
test_random(void)
{
    static const char *const secs[] = { ".BTF", ".BTF.ext", ".maps" };
    uint32_t seed = 0x0c0ffee;
    size_t p, s, k, n;
    char err[256];

    if (!compile_progs()) {
        return;
    }
    for (p = 0; p < NXDP; p++) {
        size_t obj_len, off, size;
        uint8_t *obj = read_obj(xdp_progs[p], &obj_len), *copy;

        CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
        copy = malloc(obj_len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
        for (s = 0; s < sizeof secs / sizeof secs[0]; s++) {
            if (!find_section(obj, obj_len, secs[s], &off, &size) || !size) {
                continue;
            }
            for (n = 0; n < 400; n++) {
                struct bpf_prog *prog;
                struct bpf_btf *btf;

                memcpy(copy, obj, obj_len);
                for (k = 0; k < 1 + n % 4; k++) {
                    seed = seed * 1103515245u + 12345u;
                    copy[off + (seed >> 8) % size] ^=
                        (uint8_t) (1u << ((seed >> 4) % 8));
                }
                prog = bpf_prog_load_elf(copy, obj_len, NULL, err,
                                         sizeof err);
                if (!prog) {
                    CU_ASSERT(err[0] != '\0');
                }
                bpf_prog_free(prog);
                if (s == 0) {
                    btf = bpf_btf_parse(copy + off, size, err, sizeof err);
                    if (btf) {
                        walk_btf(btf);
                    }
                    bpf_btf_free(btf);
                }
            }
        }
        free(copy);
        free(obj);
    }
}

static const struct cu_test tests[] = {
    { "libbpf program: hash with struct key, per-CPU array", test_counter },
    { "libbpf program: LRU connection tracker", test_conntrack },
    { "libbpf program: Bloom filter", test_bloom },
    { "libbpf programs refused: LPM trie, CO-RE, global data",
      test_refused },
    { "flavour detection and override", test_flavour },
    { "formatting by C type, sizes, typedef loops", test_format },
    { "huge and empty arrays", test_huge },
    { "libbpf map definitions from BTF", test_map_def },
    { "malformed BTF: truncations and hostile fields", test_malformed },
    { "random corruption of BTF sections", test_random },
    { NULL, NULL },
};

CU_MAIN("btf", tests)
