/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_helpers.c -- the helpers of OKO-ABI.md section 2, called the way
 * programs call them: from BPF instructions run by the VM.
 */
#include "bpf_priv.h"
#include "cu_main.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define INSN(c, d, s, o, i) \
    ((struct bpf_inst) { .code = (c), .dst = (d), .src = (s), .off = (o), .imm = (i) })
#define MOV64_IMM(d, i)  INSN(BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_K, d, 0, 0, i)
#define MOV64_REG(d, s)  INSN(BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, d, s, 0, 0)
#define ADD64_IMM(d, i)  INSN(BPF_CLS_ALU64 | BPF_ALU_ADD | BPF_SRC_K, d, 0, 0, i)
#define SUB64_REG(d, s)  INSN(BPF_CLS_ALU64 | BPF_ALU_SUB | BPF_SRC_X, d, s, 0, 0)
#define ST_DW(d, o, i)   INSN(BPF_CLS_ST | BPF_MODE_MEM | BPF_SIZE_DW, d, 0, o, i)
#define ST_W(d, o, i)    INSN(BPF_CLS_ST | BPF_MODE_MEM | BPF_SIZE_W, d, 0, o, i)
#define LDX_DW(d, s, o)  INSN(BPF_CLS_LDX | BPF_MODE_MEM | BPF_SIZE_DW, d, s, o, 0)
#define LDX_W(d, s, o)   INSN(BPF_CLS_LDX | BPF_MODE_MEM | BPF_SIZE_W, d, s, o, 0)
#define JEQ_IMM(d, i, o) INSN(BPF_CLS_JMP | BPF_JMP_JEQ | BPF_SRC_K, d, 0, o, i)
#define JA(o)            INSN(BPF_CLS_JMP | BPF_JMP_JA, 0, 0, o, 0)
#define CALL(id)         INSN(BPF_CLS_JMP | BPF_JMP_CALL, 0, 0, 0, id)
#define EXIT()           INSN(BPF_CLS_JMP | BPF_JMP_EXIT, 0, 0, 0, 0)
#define LDDW_PSEUDO(d, s, i) \
    INSN(BPF_CLS_LD | BPF_MODE_IMM | BPF_SIZE_DW, d, s, 0, i), INSN(0, 0, 0, 0, 0)

/* Builds a program by hand (bpf_prog_load_raw cannot express maps or
 * read-only data). */
static struct bpf_prog *
make_prog(const struct bpf_inst *insns, size_t n,
          const struct bpf_map_def *defs, size_t nmaps, const char *rodata)
{
    struct bpf_prog *prog = bpf_prog_alloc();
    size_t i;

    CU_ASSERT_FATAL(prog != NULL);
    prog->insns = malloc(n * sizeof *insns);
    CU_ASSERT_FATAL(prog->insns != NULL);
    memcpy(prog->insns, insns, n * sizeof *insns);
    prog->ninsns = n;
    for (i = 0; i < nmaps; i++) {
        snprintf(prog->maps[i].name, sizeof prog->maps[i].name, "m%zu", i);
        prog->maps[i].def = defs[i];
    }
    prog->nmaps = nmaps;
    if (rodata) {
        prog->rodata_len = strlen(rodata) + 1;
        prog->rodata = malloc(prog->rodata_len);
        CU_ASSERT_FATAL(prog->rodata != NULL);
        memcpy(prog->rodata, rodata, prog->rodata_len);
    }
    return prog;
}

static void
test_names(void)
{
    static const char *const names[] = {
        NULL, "oko_map_lookup", "oko_map_update", "oko_map_delete",
        "oko_map_add", "oko_time_get_ns", "oko_hash", "oko_printf",
    };
    static const char *const aliases[] = {
        NULL, "ubpf_map_lookup", "ubpf_map_update", "ubpf_map_delete",
        "ubpf_map_add", "ubpf_time_get_ns", "ubpf_hash", "ubpf_printf",
    };
    int id;

    for (id = 1; id <= BPF_HELPER_MAX_ID; id++) {
        CU_ASSERT_EQUAL(bpf_helper_by_name(names[id]), id);
        CU_ASSERT_EQUAL(bpf_helper_by_name(aliases[id]), id);
        CU_ASSERT_STRING_EQUAL(bpf_helper_name(id), names[id]);
        CU_ASSERT_PTR_NOT_NULL(bpf_helper_func(id));
        CU_ASSERT_EQUAL(bpf_helper_proto(id)->id, id);
    }
    CU_ASSERT_EQUAL(bpf_helper_by_name("bpf_map_lookup_elem"), -ENOENT);
    CU_ASSERT_EQUAL(bpf_helper_by_name(""), -ENOENT);
    CU_ASSERT_PTR_NULL(bpf_helper_name(0));
    CU_ASSERT_PTR_NULL(bpf_helper_name(BPF_HELPER_MAX_ID + 1));
    CU_ASSERT_PTR_NULL(bpf_helper_func(-1));
    CU_ASSERT_PTR_NULL(bpf_helper_proto(1000));
}

static void
test_hash(void)
{
    /* oko_hash over the 8 bytes of 0x0807060504030201 stored on the stack
     * equals lookup3 hashlittle with seed 0 of the same bytes. */
    const struct bpf_inst insns[] = {
        INSN(BPF_CLS_LD | BPF_MODE_IMM | BPF_SIZE_DW, 3, 0, 0, 0x04030201),
        INSN(0, 0, 0, 0, 0x08070605),
        INSN(BPF_CLS_STX | BPF_MODE_MEM | BPF_SIZE_DW, 10, 3, -8, 0),
        MOV64_REG(1, 10),
        ADD64_IMM(1, -8),
        MOV64_IMM(2, 8),
        CALL(BPF_HELPER_HASH),
        EXIT(),
    };
    const uint8_t bytes[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct bpf_prog *prog;
    struct bpf_vm *vm;
    char err[256];

    prog = bpf_prog_load_raw(insns, sizeof insns / sizeof insns[0], err,
                             sizeof err);
    CU_ASSERT_FATAL(prog != NULL);
    vm = bpf_vm_create(prog, NULL, 0, err, sizeof err);
    CU_ASSERT_FATAL(vm != NULL);
    CU_ASSERT_EQUAL(bpf_vm_run(vm, NULL, 0), bpf_hashlittle(bytes, 8, 0));
    CU_ASSERT_EQUAL(bpf_hashlittle("", 0, 0), 0xdeadbeef);
    bpf_vm_destroy(vm);
    bpf_prog_free(prog);
}

static void
test_time(void)
{
    /* r0 = time() - time(): the clock never goes backwards. */
    const struct bpf_inst insns[] = {
        CALL(BPF_HELPER_TIME_GET_NS),
        MOV64_REG(6, 0),
        CALL(BPF_HELPER_TIME_GET_NS),
        SUB64_REG(0, 6),
        EXIT(),
    };
    struct bpf_prog *prog = bpf_prog_load_raw(insns, 5, NULL, 0);
    struct bpf_vm *vm = bpf_vm_create(prog, NULL, 0, NULL, 0);
    uint64_t before = bpf_time_get_ns(), d;

    CU_ASSERT_FATAL(vm != NULL);
    d = bpf_vm_run(vm, NULL, 0);
    CU_ASSERT(d < 1000000000ull);               /* not negative */
    CU_ASSERT(bpf_time_get_ns() >= before);
    bpf_vm_destroy(vm);
    bpf_prog_free(prog);
}

struct log_capture {
    char lines[64][300];
    int n;
};

static void
capture(void *ctx, const char *line)
{
    struct log_capture *c = ctx;

    if (c->n < 64) {
        snprintf(c->lines[c->n], sizeof c->lines[0], "%s", line);
    }
    c->n++;
}

static void
run_printf(const char *fmt, uint64_t a1, uint64_t a2, uint64_t a3,
           struct log_capture *cap)
{
    const struct bpf_inst insns[] = {
        LDDW_PSEUDO(1, BPF_PSEUDO_RODATA, 0),
        LDDW_PSEUDO(2, 0, (int32_t) a1),
        LDDW_PSEUDO(3, 0, (int32_t) a2),
        LDDW_PSEUDO(4, 0, (int32_t) a3),
        CALL(BPF_HELPER_PRINTF),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_prog *prog = make_prog(insns, sizeof insns / sizeof insns[0],
                                      NULL, 0, fmt);
    struct bpf_vm *vm;
    char err[256];

    prog->insns[3].imm = (int32_t) (a1 >> 32);
    prog->insns[5].imm = (int32_t) (a2 >> 32);
    prog->insns[7].imm = (int32_t) (a3 >> 32);
    vm = bpf_vm_create(prog, NULL, 0, err, sizeof err);
    CU_ASSERT_FATAL(vm != NULL);
    bpf_vm_set_log(vm, capture, cap);
    bpf_vm_run(vm, NULL, 0);
    bpf_vm_destroy(vm);
    bpf_prog_free(prog);
}

static void
test_printf(void)
{
    struct log_capture cap = { .n = 0 };

    run_printf("x=%d y=%u z=%x\n", (uint64_t) -5, 7, 0xbeef, &cap);
    CU_ASSERT_EQUAL(cap.n, 1);
    CU_ASSERT_STRING_EQUAL(cap.lines[0], "x=-5 y=7 z=beef");

    cap.n = 0;
    run_printf("%llu %lld %5d|", 1ull << 40, (uint64_t) -1, 42, &cap);
    CU_ASSERT_STRING_EQUAL(cap.lines[0], "1099511627776 -1    42|");

    /* No memory is read through the format: %s and %p stay literal, and a
     * fourth conversion has no argument. */
    cap.n = 0;
    run_printf("%s %p %d %d %d %d 100%%", 1, 2, 3, &cap);
    CU_ASSERT_STRING_EQUAL(cap.lines[0], "%s %p 1 2 3 %d 100%");
}

static void
test_printf_rate_limit(void)
{
    /* A loop of 100 oko_printf calls in one run logs at most a burst. */
    const struct bpf_inst insns[] = {
        MOV64_IMM(6, 100),
        LDDW_PSEUDO(1, BPF_PSEUDO_RODATA, 0),
        MOV64_REG(2, 6),
        CALL(BPF_HELPER_PRINTF),
        ADD64_IMM(6, -1),
        JEQ_IMM(6, 0, 1),
        JA(-7),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_prog *prog = make_prog(insns, sizeof insns / sizeof insns[0],
                                      NULL, 0, "n=%d");
    struct log_capture cap = { .n = 0 };
    struct bpf_vm *vm = bpf_vm_create(prog, NULL, 0, NULL, 0);

    CU_ASSERT_FATAL(vm != NULL);
    bpf_vm_set_log(vm, capture, &cap);
    bpf_vm_run(vm, NULL, 0);
    CU_ASSERT(cap.n >= 1 && cap.n <= 10);
    CU_ASSERT_STRING_EQUAL(cap.lines[0], "n=100");
    bpf_vm_destroy(vm);
    bpf_prog_free(prog);
}

/* update(key 7 -> 0x1122334455667788), lookup(7), return *value. */
static void
test_map_helpers_hash(void)
{
    const struct bpf_map_def def = { BPF_MAP_HASH, 4, 8, 16, 0 };
    const struct bpf_inst insns[] = {
        ST_W(10, -4, 7),                        /* key */
        LDDW_PSEUDO(1, 0, 0x55667788),
        INSN(BPF_CLS_STX | BPF_MODE_MEM | BPF_SIZE_DW, 10, 1, -16, 0),
        LDDW_PSEUDO(1, BPF_PSEUDO_MAP_IDX, 0),
        MOV64_REG(2, 10), ADD64_IMM(2, -4),
        MOV64_REG(3, 10), ADD64_IMM(3, -16),
        CALL(BPF_HELPER_MAP_UPDATE),
        MOV64_REG(6, 0),                        /* update's result */
        LDDW_PSEUDO(1, BPF_PSEUDO_MAP_IDX, 0),
        MOV64_REG(2, 10), ADD64_IMM(2, -4),
        CALL(BPF_HELPER_MAP_LOOKUP),
        JEQ_IMM(0, 0, 2),
        LDX_DW(0, 0, 0),
        EXIT(),
        MOV64_IMM(0, -1),
        EXIT(),
    };
    struct bpf_prog *prog = make_prog(insns, sizeof insns / sizeof insns[0],
                                      &def, 1, NULL);
    struct bpf_map *map = bpf_map_create(&def, "m0", NULL);
    uint32_t key = 7;
    uint64_t *v;
    struct bpf_vm *vm;
    char err[256];

    prog->insns[2].imm = 0x11223344;
    CU_ASSERT_FATAL(map != NULL);
    vm = bpf_vm_create(prog, &map, 0, err, sizeof err);
    CU_ASSERT_FATAL(vm != NULL);
    CU_ASSERT_EQUAL(bpf_vm_run(vm, NULL, 0), 0x1122334455667788ull);
    v = bpf_map_lookup(map, &key, NULL);
    CU_ASSERT_FATAL(v != NULL);
    CU_ASSERT_EQUAL(*v, 0x1122334455667788ull);
    CU_ASSERT_EQUAL(bpf_map_count(map), 1);
    bpf_vm_destroy(vm);
    bpf_map_destroy(map, NULL);
    bpf_prog_free(prog);
}

/* add(elem) three times to a count-min sketch; lookup gives 3; delete on it
 * is refused with -EINVAL. */
static void
test_map_helpers_cms(void)
{
    const struct bpf_map_def def = { BPF_MAP_CMS, 4, 4, 64, 3 };
    const struct bpf_inst insns[] = {
        ST_W(10, -4, 0x0a000001),
        MOV64_IMM(6, 3),
        LDDW_PSEUDO(1, BPF_PSEUDO_MAP_IDX, 0),
        MOV64_REG(2, 10), ADD64_IMM(2, -4),
        CALL(BPF_HELPER_MAP_ADD),
        ADD64_IMM(6, -1),
        JEQ_IMM(6, 0, 1),
        JA(-8),
        LDDW_PSEUDO(1, BPF_PSEUDO_MAP_IDX, 0),
        MOV64_REG(2, 10), ADD64_IMM(2, -4),
        CALL(BPF_HELPER_MAP_DELETE),
        MOV64_REG(7, 0),
        LDDW_PSEUDO(1, BPF_PSEUDO_MAP_IDX, 0),
        MOV64_REG(2, 10), ADD64_IMM(2, -4),
        CALL(BPF_HELPER_MAP_LOOKUP),
        JEQ_IMM(0, 0, 3),
        LDX_W(0, 0, 0),
        INSN(BPF_CLS_ALU64 | BPF_ALU_LSH | BPF_SRC_K, 7, 0, 0, 32),
        INSN(BPF_CLS_ALU64 | BPF_ALU_OR | BPF_SRC_X, 0, 7, 0, 0),
        EXIT(),
    };
    struct bpf_prog *prog = make_prog(insns, sizeof insns / sizeof insns[0],
                                      &def, 1, NULL);
    struct bpf_map *map = bpf_map_create(&def, "m0", NULL);
    struct bpf_vm *vm;
    uint64_t r0;
    char err[256];

    CU_ASSERT_FATAL(map != NULL);
    vm = bpf_vm_create(prog, &map, 0, err, sizeof err);
    CU_ASSERT_FATAL(vm != NULL);
    r0 = bpf_vm_run(vm, NULL, 0);
    CU_ASSERT_EQUAL((uint32_t) r0, 3);                       /* estimate */
    CU_ASSERT_EQUAL((int32_t) (r0 >> 32), -EINVAL);          /* delete */
    bpf_vm_destroy(vm);
    bpf_map_destroy(map, NULL);
    bpf_prog_free(prog);
}

/* Two count-min lookups from two call sites: the first pointer still holds
 * its own estimate after the second lookup (OKO-ABI.md: the pointer stays
 * valid for the whole run). */
static void
test_cms_pointers_distinct(void)
{
    const struct bpf_map_def def = { BPF_MAP_CMS, 4, 4, 64, 3 };
#define KEY_AT(o) LDDW_PSEUDO(1, BPF_PSEUDO_MAP_IDX, 0), MOV64_REG(2, 10), \
                  ADD64_IMM(2, o)
    const struct bpf_inst insns[] = {
        ST_W(10, -4, 0x0a000001),
        ST_W(10, -8, 0x0a000002),
        KEY_AT(-4), CALL(BPF_HELPER_MAP_ADD),
        KEY_AT(-8), CALL(BPF_HELPER_MAP_ADD),
        KEY_AT(-8), CALL(BPF_HELPER_MAP_ADD),
        KEY_AT(-4), CALL(BPF_HELPER_MAP_LOOKUP), MOV64_REG(6, 0),
        KEY_AT(-8), CALL(BPF_HELPER_MAP_LOOKUP), MOV64_REG(7, 0),
        JEQ_IMM(6, 0, 7),
        JEQ_IMM(7, 0, 6),
        LDX_W(0, 6, 0),
        LDX_W(1, 7, 0),
        INSN(BPF_CLS_ALU64 | BPF_ALU_LSH | BPF_SRC_K, 1, 0, 0, 32),
        INSN(BPF_CLS_ALU64 | BPF_ALU_OR | BPF_SRC_X, 0, 1, 0, 0),
        EXIT(),
        MOV64_IMM(0, -1),
        EXIT(),
    };
#undef KEY_AT
    struct bpf_prog *prog = make_prog(insns, sizeof insns / sizeof insns[0],
                                      &def, 1, NULL);
    struct bpf_map *map = bpf_map_create(&def, "m0", NULL);
    struct bpf_vm *vm;
    char err[256];

    CU_ASSERT_FATAL(map != NULL);
    vm = bpf_vm_create(prog, &map, 0, err, sizeof err);
    CU_ASSERT_FATAL(vm != NULL);
    /* Estimates are at least the true counts: 1 for A, 2 for B; with 64
     * columns and 3 rows these two keys do not collide everywhere. */
    CU_ASSERT_EQUAL(bpf_vm_run(vm, NULL, 0), (2ull << 32) | 1);
    bpf_vm_destroy(vm);
    bpf_map_destroy(map, NULL);
    bpf_prog_free(prog);
}

/* In bounds-check mode, a key pointer outside every region ends the run
 * with an error instead of reading it. */
static void
test_checked_bad_key(void)
{
    const struct bpf_map_def def = { BPF_MAP_HASH, 4, 8, 16, 0 };
    const struct bpf_inst insns[] = {
        LDDW_PSEUDO(1, BPF_PSEUDO_MAP_IDX, 0),
        LDDW_PSEUDO(2, 0, 0x1000),              /* wild pointer */
        CALL(BPF_HELPER_MAP_LOOKUP),
        MOV64_IMM(0, 5),
        EXIT(),
    };
    struct bpf_prog *prog = make_prog(insns, sizeof insns / sizeof insns[0],
                                      &def, 1, NULL);
    struct bpf_map *map = bpf_map_create(&def, "m0", NULL);
    struct bpf_vm *vm;
    uint64_t r0 = 99;
    char err[256];
    int rc;

    CU_ASSERT_FATAL(map != NULL);
    vm = bpf_vm_create(prog, &map, BPF_VM_BOUNDS_CHECK, err, sizeof err);
    CU_ASSERT_FATAL(vm != NULL);
    rc = bpf_vm_exec(vm, NULL, 0, &r0, err, sizeof err);
    CU_ASSERT(rc < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "oko_map_lookup"));
    bpf_vm_destroy(vm);
    bpf_map_destroy(map, NULL);
    bpf_prog_free(prog);
}

static const struct cu_test tests[] = {
    { "names, aliases and prototypes", test_names },
    { "oko_hash is lookup3 hashlittle", test_hash },
    { "oko_time_get_ns is monotonic", test_time },
    { "oko_printf formats integers only", test_printf },
    { "oko_printf is rate-limited", test_printf_rate_limit },
    { "map update and lookup on a hash map", test_map_helpers_hash },
    { "map add, lookup, delete on a count-min sketch", test_map_helpers_cms },
    { "count-min pointers of two call sites stay distinct",
      test_cms_pointers_distinct },
    { "bounds-check mode rejects a wild key", test_checked_bad_key },
    { NULL, NULL }
};

CU_MAIN("helpers", tests)
