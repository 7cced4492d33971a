/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_interp.c -- unit tests of the interpreter (bpf/interp.c): programs
 * built as raw instruction arrays, run in both the fast and the checked
 * (BPF_VM_BOUNDS_CHECK) variants, asserting r0, faults and messages.
 * Exhaustive per-opcode edge cases live in the data files of tests/vm
 * (test_vmdata.c); this file covers what needs C around it: maps,
 * read-only data, helpers, call frames, rejected programs, faults.
 */
#include "bpf_priv.h"
#include "cu_main.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Defined in interp.c; not yet in a header. */

/* ---------------------------------------------------------------------
 * Instruction builders
 * ------------------------------------------------------------------- */

#define INSN(CODE, DST, SRC, OFF, IMM)                                  \
    ((struct bpf_inst) { .code = (CODE), .dst = (DST), .src = (SRC),    \
                         .off = (OFF), .imm = (IMM) })
#define ALU64_K(OP, D, I) INSN(BPF_CLS_ALU64 | (OP) | BPF_SRC_K, D, 0, 0, I)
#define ALU64_X(OP, D, S) INSN(BPF_CLS_ALU64 | (OP) | BPF_SRC_X, D, S, 0, 0)
#define ALU32_K(OP, D, I) INSN(BPF_CLS_ALU | (OP) | BPF_SRC_K, D, 0, 0, I)
#define ALU32_X(OP, D, S) INSN(BPF_CLS_ALU | (OP) | BPF_SRC_X, D, S, 0, 0)
#define MOV64_K(D, I) ALU64_K(BPF_ALU_MOV, D, I)
#define MOV64_X(D, S) ALU64_X(BPF_ALU_MOV, D, S)
#define MOV32_K(D, I) ALU32_K(BPF_ALU_MOV, D, I)
#define LDDW(D, V)                                                      \
    INSN(BPF_CLS_LD | BPF_MODE_IMM | BPF_SIZE_DW, D, 0, 0,              \
         (int32_t) (uint32_t) (V)),                                     \
    INSN(0, 0, 0, 0, (int32_t) (uint32_t) ((uint64_t) (V) >> 32))
#define LDDW_PSEUDO(D, SRC, I)                                          \
    INSN(BPF_CLS_LD | BPF_MODE_IMM | BPF_SIZE_DW, D, SRC, 0, I),        \
    INSN(0, 0, 0, 0, 0)
#define LDX(SZ, D, S, OFF)                                              \
    INSN(BPF_CLS_LDX | BPF_MODE_MEM | (SZ), D, S, OFF, 0)
#define ST(SZ, D, OFF, I) INSN(BPF_CLS_ST | BPF_MODE_MEM | (SZ), D, 0, OFF, I)
#define STX(SZ, D, S, OFF)                                              \
    INSN(BPF_CLS_STX | BPF_MODE_MEM | (SZ), D, S, OFF, 0)
#define ATOMIC(SZ, OP, D, S, OFF)                                       \
    INSN(BPF_CLS_STX | BPF_MODE_ATOMIC | (SZ), D, S, OFF, OP)
#define JMP_K(OP, D, I, OFF)                                            \
    INSN(BPF_CLS_JMP | (OP) | BPF_SRC_K, D, 0, OFF, I)
#define JMP_X(OP, D, S, OFF)                                            \
    INSN(BPF_CLS_JMP | (OP) | BPF_SRC_X, D, S, OFF, 0)
#define JA(OFF) INSN(BPF_CLS_JMP | BPF_JMP_JA, 0, 0, OFF, 0)
#define CALL(ID) INSN(BPF_CLS_JMP | BPF_JMP_CALL, 0, 0, 0, ID)
#define CALL_LOCAL(OFF)                                                 \
    INSN(BPF_CLS_JMP | BPF_JMP_CALL, 0, BPF_PSEUDO_CALL, 0, OFF)
#define EXIT() INSN(BPF_CLS_JMP | BPF_JMP_EXIT, 0, 0, 0, 0)
#define LDABS(SZ, I) INSN(BPF_CLS_LD | BPF_MODE_ABS | (SZ), 0, 0, 0, I)
#define LDIND(SZ, S, I) INSN(BPF_CLS_LD | BPF_MODE_IND | (SZ), 0, S, 0, I)

#define ARRAY_SIZE(a) (sizeof (a) / sizeof (a)[0])

/* Both variants of the interpreter. */
static const unsigned modes[] = { 0, BPF_VM_BOUNDS_CHECK };

/* Result of one run. */
struct outcome {
    int create;         /* 0 or the negative errno of bpf_vm_create */
    int exec;           /* 0 or the negative errno of bpf_vm_exec */
    uint64_t r0;
    char err[256];
    uint64_t insns;     /* executed, checked mode only */
};

/* Loads insns as a raw program, builds a VM with flags and runs it once on
 * mem. */
static struct outcome
run_raw(const struct bpf_inst *insns, size_t n, unsigned flags, void *mem,
        size_t len)
{
    struct outcome o;
    struct bpf_prog *prog;
    struct bpf_vm *vm;

    memset(&o, 0, sizeof o);
    prog = bpf_prog_load_raw(insns, n, o.err, sizeof o.err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    vm = bpf_vm_create(prog, NULL, flags, o.err, sizeof o.err);
    if (!vm) {
        o.create = -errno;
        CU_ASSERT(o.create < 0);
        bpf_prog_free(prog);
        return o;
    }
    o.exec = bpf_vm_exec(vm, mem, len, &o.r0, o.err, sizeof o.err);
    if (o.exec) {
        /* The message bpf_vm_last_error() gives matches. */
        CU_ASSERT_STRING_EQUAL(bpf_vm_last_error(vm), o.err);
        CU_ASSERT_EQUAL(bpf_vm_run(vm, mem, len), 0);
    } else {
        CU_ASSERT_STRING_EQUAL(bpf_vm_last_error(vm), "");
    }
    o.insns = bpf_vm_insn_count(vm);
    bpf_vm_destroy(vm);
    bpf_prog_free(prog);
    return o;
}

/* Runs in both variants and checks that r0 is expect. */
#define EXPECT_R0(insns, mem, len, expect)                              \
    do {                                                                \
        size_t m_;                                                      \
        for (m_ = 0; m_ < ARRAY_SIZE(modes); m_++) {                    \
            struct outcome o_ = run_raw(insns, ARRAY_SIZE(insns),       \
                                        modes[m_], mem, len);           \
            if (o_.create || o_.exec || o_.r0 != (uint64_t) (expect)) { \
                fprintf(stderr, "\n%s:%d mode %u: create %d exec %d "   \
                        "r0 0x%" PRIx64 " expected 0x%" PRIx64 " (%s)\n", \
                        __FILE__, __LINE__, modes[m_], o_.create,       \
                        o_.exec, o_.r0, (uint64_t) (expect), o_.err);   \
            }                                                           \
            CU_ASSERT_EQUAL(o_.create, 0);                              \
            CU_ASSERT_EQUAL(o_.exec, 0);                                \
            CU_ASSERT_EQUAL(o_.r0, (uint64_t) (expect));                \
        }                                                               \
    } while (0)

/* Expects bpf_vm_create to fail with EINVAL and a message containing
 * pattern, in both variants. */
#define EXPECT_REJECT(insns, pattern)                                   \
    do {                                                                \
        size_t m_;                                                      \
        for (m_ = 0; m_ < ARRAY_SIZE(modes); m_++) {                    \
            struct outcome o_ = run_raw(insns, ARRAY_SIZE(insns),       \
                                        modes[m_], NULL, 0);            \
            CU_ASSERT_EQUAL(o_.create, -EINVAL);                        \
            if (!strstr(o_.err, pattern)) {                             \
                fprintf(stderr, "\n%s:%d: '%s' lacks '%s'\n", __FILE__, \
                        __LINE__, o_.err, pattern);                     \
            }                                                           \
            CU_ASSERT_PTR_NOT_NULL(strstr(o_.err, pattern));            \
        }                                                               \
    } while (0)

/* Expects a checked run to fail with errnum and a message containing
 * pattern. */
#define EXPECT_FAULT(insns, mem, len, errnum, pattern)                  \
    do {                                                                \
        struct outcome o_ = run_raw(insns, ARRAY_SIZE(insns),           \
                                    BPF_VM_BOUNDS_CHECK, mem, len);     \
        CU_ASSERT_EQUAL(o_.create, 0);                                  \
        CU_ASSERT_EQUAL(o_.exec, -(errnum));                            \
        if (!strstr(o_.err, pattern)) {                                 \
            fprintf(stderr, "\n%s:%d: '%s' lacks '%s'\n", __FILE__,     \
                    __LINE__, o_.err, pattern);                         \
        }                                                               \
        CU_ASSERT_PTR_NOT_NULL(strstr(o_.err, pattern));                \
    } while (0)

/* ---------------------------------------------------------------------
 * ALU
 * ------------------------------------------------------------------- */

static void
test_alu64(void)
{
    const struct bpf_inst p[] = {
        MOV64_K(0, 7),
        ALU64_K(BPF_ALU_ADD, 0, -10),           /* -3 */
        MOV64_K(1, 5),
        ALU64_X(BPF_ALU_MUL, 0, 1),             /* -15 */
        ALU64_K(BPF_ALU_XOR, 0, -1),            /* 14 */
        ALU64_K(BPF_ALU_LSH, 0, 60),            /* 0xe000000000000000 */
        ALU64_K(BPF_ALU_ARSH, 0, 4),            /* 0xfe00000000000000 */
        MOV64_K(2, 56),
        ALU64_X(BPF_ALU_RSH, 0, 2),             /* 0xfe */
        ALU64_K(BPF_ALU_OR, 0, 0x100),          /* 0x1fe */
        ALU64_K(BPF_ALU_AND, 0, 0x1f0),         /* 0x1f0 */
        ALU64_K(BPF_ALU_SUB, 0, 0x10),          /* 0x1e0 */
        ALU64_K(BPF_ALU_DIV, 0, 3),             /* 0xa0 */
        ALU64_K(BPF_ALU_MOD, 0, 0x30),          /* 0x10 */
        ALU64_K(BPF_ALU_NEG, 0, 0),             /* -16 */
        EXIT(),
    };

    EXPECT_R0(p, NULL, 0, (uint64_t) -16);
}

static void
test_alu32_zero_extends(void)
{
    const struct bpf_inst p[] = {
        LDDW(0, 0xffffffff00000005ull),
        ALU32_K(BPF_ALU_ADD, 0, 1),             /* 6, upper half cleared */
        LDDW(1, 0xdeadbeef00000000ull),
        ALU32_X(BPF_ALU_OR, 1, 0),              /* 6 */
        ALU64_X(BPF_ALU_ADD, 0, 1),             /* 12 */
        MOV32_K(2, -1),                         /* 0x00000000ffffffff */
        ALU64_X(BPF_ALU_ADD, 0, 2),             /* 0x10000000b */
        EXIT(),
    };

    EXPECT_R0(p, NULL, 0, 0x10000000bull);
}

static void
test_div_mod_zero(void)
{
    const struct bpf_inst div64[] = {
        MOV64_K(0, 77), MOV64_K(1, 0), ALU64_X(BPF_ALU_DIV, 0, 1), EXIT(),
    };
    const struct bpf_inst div64k[] = {
        MOV64_K(0, 77), ALU64_K(BPF_ALU_DIV, 0, 0), EXIT(),
    };
    const struct bpf_inst mod64[] = {
        MOV64_K(0, -77), MOV64_K(1, 0), ALU64_X(BPF_ALU_MOD, 0, 1), EXIT(),
    };
    const struct bpf_inst mod64k[] = {
        MOV64_K(0, -77), ALU64_K(BPF_ALU_MOD, 0, 0), EXIT(),
    };
    const struct bpf_inst mod32[] = {
        /* x % 0 = x, zero-extended; the divisor's upper half is ignored */
        MOV64_K(0, -77), LDDW(1, 0x100000000ull),
        ALU32_X(BPF_ALU_MOD, 0, 1), EXIT(),
    };
    const struct bpf_inst mod32k[] = {
        MOV64_K(0, -77), ALU32_K(BPF_ALU_MOD, 0, 0), EXIT(),
    };
    const struct bpf_inst div32[] = {
        MOV64_K(0, -77), LDDW(1, 0x100000000ull),
        ALU32_X(BPF_ALU_DIV, 0, 1), EXIT(),
    };
    const struct bpf_inst div32k[] = {
        MOV64_K(0, -77), ALU32_K(BPF_ALU_DIV, 0, 0), EXIT(),
    };

    EXPECT_R0(div64, NULL, 0, 0);
    EXPECT_R0(div64k, NULL, 0, 0);
    EXPECT_R0(mod64, NULL, 0, (uint64_t) -77);
    EXPECT_R0(mod64k, NULL, 0, (uint64_t) -77);
    EXPECT_R0(mod32, NULL, 0, (uint32_t) -77);
    EXPECT_R0(mod32k, NULL, 0, (uint32_t) -77);
    EXPECT_R0(div32, NULL, 0, 0);
    EXPECT_R0(div32k, NULL, 0, 0);
}

static void
test_shift_masking(void)
{
    /* Shift amounts are masked: 64-bit & 63, 32-bit & 31. */
    const struct bpf_inst lsh64[] = {
        MOV64_K(0, 1), MOV64_K(1, 65), ALU64_X(BPF_ALU_LSH, 0, 1), EXIT(),
    };
    const struct bpf_inst lsh32[] = {
        MOV64_K(0, 1), MOV64_K(1, 33), ALU32_X(BPF_ALU_LSH, 0, 1), EXIT(),
    };
    const struct bpf_inst rsh64k[] = {
        MOV64_K(0, -1), ALU64_K(BPF_ALU_RSH, 0, 127), EXIT(),
    };
    const struct bpf_inst arsh32[] = {
        MOV32_K(0, (int32_t) 0x80000000), MOV64_K(1, 63),
        ALU32_X(BPF_ALU_ARSH, 0, 1), EXIT(),
    };

    EXPECT_R0(lsh64, NULL, 0, 2);
    EXPECT_R0(lsh32, NULL, 0, 2);
    EXPECT_R0(rsh64k, NULL, 0, 1);
    EXPECT_R0(arsh32, NULL, 0, 0xffffffffull);
}

static void
test_byte_swap(void)
{
    const struct bpf_inst be[] = {
        LDDW(0, 0x0102030405060708ull),
        INSN(BPF_CLS_ALU | BPF_ALU_END | BPF_SRC_X, 0, 0, 0, 64),
        EXIT(),
    };
    const struct bpf_inst be16[] = {
        LDDW(0, 0x0102030405060708ull),
        INSN(BPF_CLS_ALU | BPF_ALU_END | BPF_SRC_X, 0, 0, 0, 16),
        EXIT(),
    };
    const struct bpf_inst le32[] = {
        LDDW(0, 0x0102030405060708ull),
        INSN(BPF_CLS_ALU | BPF_ALU_END | BPF_SRC_K, 0, 0, 0, 32),
        EXIT(),
    };
    const struct bpf_inst bad[] = {
        MOV64_K(0, 1),
        INSN(BPF_CLS_ALU | BPF_ALU_END | BPF_SRC_K, 0, 0, 0, 24),
        EXIT(),
    };

    EXPECT_R0(be, NULL, 0, 0x0807060504030201ull);
    EXPECT_R0(be16, NULL, 0, 0x0807);
    EXPECT_R0(le32, NULL, 0, 0x05060708);
    EXPECT_REJECT(bad, "byte swap of 24 bits");
}

/* ---------------------------------------------------------------------
 * Jumps
 * ------------------------------------------------------------------- */

/* Runs "if a OP b goto +1; r0 = 0; exit; r0 = 1; exit" with a and b in
 * registers (X form) or b as immediate (K form), 64- or 32-bit. */
static uint64_t
jump_taken(uint8_t op, bool jmp32, bool k, uint64_t a, int64_t b)
{
    struct bpf_inst p[] = {
        LDDW(1, a),
        LDDW(2, (uint64_t) b),
        INSN((jmp32 ? BPF_CLS_JMP32 : BPF_CLS_JMP) | op
             | (k ? BPF_SRC_K : BPF_SRC_X), 1, k ? 0 : 2, 2, (int32_t) b),
        MOV64_K(0, 0),
        EXIT(),
        MOV64_K(0, 1),
        EXIT(),
    };
    struct outcome o = run_raw(p, ARRAY_SIZE(p), 0, NULL, 0);
    struct outcome c = run_raw(p, ARRAY_SIZE(p), BPF_VM_BOUNDS_CHECK,
                               NULL, 0);

    CU_ASSERT_EQUAL(o.create, 0);
    CU_ASSERT_EQUAL(o.exec, 0);
    CU_ASSERT_EQUAL(o.r0, c.r0);
    return o.r0;
}

static void
test_jumps(void)
{
    static const struct {
        uint8_t op;
        bool jmp32;
        uint64_t a;
        int64_t b;
        bool taken;
    } cases[] = {
        { BPF_JMP_JEQ, false, 5, 5, true },
        { BPF_JMP_JEQ, false, 0x100000005ull, 5, false },
        { BPF_JMP_JEQ, true, 0x100000005ull, 5, true },
        { BPF_JMP_JNE, false, 1, 2, true },
        { BPF_JMP_JNE, true, 0x700000002ull, 2, false },
        { BPF_JMP_JGT, false, (uint64_t) -1, 1, true },   /* unsigned */
        { BPF_JMP_JGT, false, 1, 1, false },
        { BPF_JMP_JGE, false, 1, 1, true },
        { BPF_JMP_JLT, false, 1, -1, true },
        { BPF_JMP_JLE, false, 2, 1, false },
        { BPF_JMP_JSGT, false, (uint64_t) -1, 1, false }, /* signed */
        { BPF_JMP_JSGT, false, 1, -1, true },
        { BPF_JMP_JSGE, false, (uint64_t) -5, -5, true },
        { BPF_JMP_JSLT, false, (uint64_t) -5, -4, true },
        { BPF_JMP_JSLE, false, (uint64_t) -4, -5, false },
        { BPF_JMP_JSET, false, 0x100000000ull, 0x7fffffff, false },
        { BPF_JMP_JSET, false, 6, 2, true },
        /* 32-bit: only the low halves count. */
        { BPF_JMP_JSGT, true, 0x00000000ffffffffull, 0, false },
        { BPF_JMP_JGT, true, 0x00000000ffffffffull, 0, true },
        { BPF_JMP_JSLT, true, 0x0000000080000000ull, 0, true },
        { BPF_JMP_JLT, true, 0xffffffff00000001ull, 2, true },
        { BPF_JMP_JSET, true, 0x100000000ull, 0x7fffffff, false },
        { BPF_JMP_JSGE, true, 0x1ffffffffull, -1, true },
        { BPF_JMP_JSLE, true, 0x1ffffffffull, -2, false },
        { BPF_JMP_JGE, true, 0x1ffffffffull, -1, true },
        { BPF_JMP_JLE, true, 0x200000000ull, 0, true },
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        int k;

        for (k = 0; k < 2; k++) {
            uint64_t r = jump_taken(cases[i].op, cases[i].jmp32, k,
                                    cases[i].a, cases[i].b);

            if (r != cases[i].taken) {
                fprintf(stderr, "\njump case %zu (%s): r0 %" PRIu64 "\n", i,
                        k ? "K" : "X", r);
            }
            CU_ASSERT_EQUAL(r, cases[i].taken);
        }
    }
}

static void
test_backward_loop(void)
{
    /* Sum 1..100 with a counted loop. */
    const struct bpf_inst p[] = {
        MOV64_K(0, 0),
        MOV64_K(1, 100),
        ALU64_X(BPF_ALU_ADD, 0, 1),
        ALU64_K(BPF_ALU_SUB, 1, 1),
        JMP_K(BPF_JMP_JNE, 1, 0, -3),
        EXIT(),
    };
    struct outcome o;

    EXPECT_R0(p, NULL, 0, 5050);
    o = run_raw(p, ARRAY_SIZE(p), BPF_VM_BOUNDS_CHECK, NULL, 0);
    /* 2 + 100 * 3 + 1 */
    CU_ASSERT_EQUAL(o.insns, 303);
}

/* ---------------------------------------------------------------------
 * lddw, maps, read-only data
 * ------------------------------------------------------------------- */

static void
test_lddw(void)
{
    const struct bpf_inst p[] = {
        LDDW(0, 0x8000000000000001ull),
        JA(2),
        LDDW(0, 0),                     /* skipped */
        EXIT(),
    };
    const struct bpf_inst truncated[] = {
        MOV64_K(0, 0),
        INSN(BPF_CLS_LD | BPF_MODE_IMM | BPF_SIZE_DW, 0, 0, 0, 1),
    };
    const struct bpf_inst bad_second[] = {
        INSN(BPF_CLS_LD | BPF_MODE_IMM | BPF_SIZE_DW, 0, 0, 0, 1),
        MOV64_K(0, 0),
        EXIT(),
    };
    const struct bpf_inst into_second[] = {
        JA(1),
        LDDW(0, 5),
        EXIT(),
    };
    const struct bpf_inst bad_src[] = {
        LDDW_PSEUDO(0, 3, 0),
        EXIT(),
    };
    const struct bpf_inst no_map[] = {
        LDDW_PSEUDO(0, BPF_PSEUDO_MAP_IDX, 0),
        EXIT(),
    };

    EXPECT_R0(p, NULL, 0, 0x8000000000000001ull);
    EXPECT_REJECT(truncated, "lddw is truncated");
    EXPECT_REJECT(bad_second, "bad second slot of lddw");
    EXPECT_REJECT(into_second, "second half of an lddw");
    EXPECT_REJECT(bad_src, "lddw with unknown src 3");
    EXPECT_REJECT(no_map, "lddw of map 0");
}

/* Builds a program the way the ELF loader would: with maps and read-only
 * data. */
static struct bpf_prog *
make_prog(const struct bpf_inst *insns, size_t n,
          const struct bpf_map_def *defs, size_t nmaps, const char *rodata,
          size_t rodata_len)
{
    struct bpf_prog *prog = bpf_prog_alloc();
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    prog->insns = malloc(n * sizeof *insns);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog->insns);
    memcpy(prog->insns, insns, n * sizeof *insns);
    prog->ninsns = n;
    for (i = 0; i < nmaps; i++) {
        snprintf(prog->maps[i].name, sizeof prog->maps[i].name, "map%zu", i);
        prog->maps[i].def = defs[i];
    }
    prog->nmaps = nmaps;
    if (rodata_len) {
        prog->rodata = malloc(rodata_len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(prog->rodata);
        memcpy(prog->rodata, rodata, rodata_len);
        prog->rodata_len = rodata_len;
    }
    return prog;
}

static void
test_maps_and_rodata(void)
{
    static const struct bpf_map_def array = {
        .type = BPF_MAP_ARRAY, .key_size = 4, .value_size = 8,
        .max_entries = 4,
    };
    static const struct bpf_map_def other = {
        .type = BPF_MAP_ARRAY, .key_size = 4, .value_size = 16,
        .max_entries = 4,
    };
    /* counter = lookup(map0, &key 2); atomic add 5; return *counter +
     * rodata[1]. */
    const struct bpf_inst p[] = {
        ST(BPF_SIZE_W, 10, -4, 2),
        LDDW_PSEUDO(1, BPF_PSEUDO_MAP_IDX, 0),
        MOV64_X(2, 10),
        ALU64_K(BPF_ALU_ADD, 2, -4),
        CALL(BPF_HELPER_MAP_LOOKUP),
        JMP_K(BPF_JMP_JNE, 0, 0, 1),
        EXIT(),
        MOV64_K(1, 5),
        ATOMIC(BPF_SIZE_DW, BPF_ATOMIC_ADD, 0, 1, 0),
        LDX(BPF_SIZE_DW, 6, 0, 0),
        LDDW_PSEUDO(2, BPF_PSEUDO_RODATA, 1),
        LDX(BPF_SIZE_B, 0, 2, 0),
        ALU64_X(BPF_ALU_ADD, 0, 6),
        EXIT(),
    };
    /* The same, writing into read-only data: a fault when checked. */
    const struct bpf_inst w[] = {
        LDDW_PSEUDO(2, BPF_PSEUDO_RODATA, 0),
        ST(BPF_SIZE_B, 2, 0, 1),
        MOV64_K(0, 1),
        EXIT(),
    };
    struct bpf_map *maps[2], *wrong[1];
    struct bpf_prog *prog, *wprog;
    char err[256];
    size_t m;

    maps[0] = bpf_map_create(&array, "map0", NULL);
    wrong[0] = bpf_map_create(&other, "map0", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(maps[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(wrong[0]);
    prog = make_prog(p, ARRAY_SIZE(p), &array, 1, "\x07\x20", 2);
    for (m = 0; m < ARRAY_SIZE(modes); m++) {
        struct bpf_vm *vm = bpf_vm_create(prog, maps, modes[m], err,
                                          sizeof err);
        uint64_t r0 = 0;

        CU_ASSERT_PTR_NOT_NULL_FATAL(vm);
        CU_ASSERT_EQUAL(bpf_vm_exec(vm, NULL, 0, &r0, err, sizeof err), 0);
        CU_ASSERT_EQUAL(r0, 0x20 + 5 + 10 * m);
        CU_ASSERT_EQUAL(bpf_vm_exec(vm, NULL, 0, &r0, err, sizeof err), 0);
        CU_ASSERT_EQUAL(r0, 0x20 + 10 + 10 * m);
        bpf_vm_destroy(vm);
    }

    /* Maps are checked against the program's definitions. */
    errno = 0;
    CU_ASSERT_PTR_NULL(bpf_vm_create(prog, wrong, 0, err, sizeof err));
    CU_ASSERT_EQUAL(errno, EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "map 0 (map0): definition differs");
    errno = 0;
    CU_ASSERT_PTR_NULL(bpf_vm_create(prog, NULL, 0, err, sizeof err));
    CU_ASSERT_EQUAL(errno, EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "map 0 (map0)"));
    bpf_prog_free(prog);

    wprog = make_prog(w, ARRAY_SIZE(w), NULL, 0, "ab", 3);
    {
        struct bpf_vm *vm = bpf_vm_create(wprog, NULL, BPF_VM_BOUNDS_CHECK,
                                          err, sizeof err);
        uint64_t r0 = 0;

        CU_ASSERT_PTR_NOT_NULL_FATAL(vm);
        CU_ASSERT_EQUAL(bpf_vm_exec(vm, NULL, 0, &r0, err, sizeof err),
                        -EFAULT);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "insn 2: out-of-bounds store "
                                      "of 1 bytes"));
        bpf_vm_destroy(vm);
    }
    bpf_prog_free(wprog);
    bpf_map_destroy(maps[0], NULL);
    bpf_map_destroy(wrong[0], NULL);
}

static void
capture_log(void *ctx, const char *line)
{
    snprintf(ctx, 64, "%s", line);
}

static void
test_printf_log(void)
{
    /* oko_printf("n=%d", 42) with the format in read-only data at offset
     * 2: the line reaches the VM's log sink. */
    static const char ro[] = "xyn=%d";
    const struct bpf_inst p[] = {
        LDDW_PSEUDO(1, BPF_PSEUDO_RODATA, 2),
        MOV64_K(2, 42),
        CALL(BPF_HELPER_PRINTF),
        MOV64_K(0, 1),
        EXIT(),
    };
    struct bpf_prog *prog = make_prog(p, ARRAY_SIZE(p), NULL, 0, ro,
                                      sizeof ro);
    char err[128];
    size_t m;

    for (m = 0; m < ARRAY_SIZE(modes); m++) {
        struct bpf_vm *vm = bpf_vm_create(prog, NULL, modes[m], err,
                                          sizeof err);
        char line[64] = "";
        uint64_t r0 = 0;

        CU_ASSERT_PTR_NOT_NULL_FATAL(vm);
        bpf_vm_set_log(vm, capture_log, line);
        CU_ASSERT_EQUAL(bpf_vm_exec(vm, NULL, 0, &r0, err, sizeof err), 0);
        CU_ASSERT_EQUAL(r0, 1);
        CU_ASSERT_STRING_EQUAL(line, "n=42");
        bpf_vm_destroy(vm);
    }
    bpf_prog_free(prog);
}

/* ---------------------------------------------------------------------
 * Calls
 * ------------------------------------------------------------------- */

static void
test_local_calls(void)
{
    /* main: r6 = 100; r1 = 7; call f; r0 += r6; store on stack, call g,
     * reload: callee frames must not clobber the caller's stack.
     * f(x) = x * 2 + g(); g() = 1000, using its own stack and r6. */
    const struct bpf_inst p[] = {
        MOV64_K(6, 100),                        /* 0 */
        ST(BPF_SIZE_DW, 10, -8, 0x55),          /* 1 */
        MOV64_K(1, 7),                          /* 2 */
        CALL_LOCAL(5),                          /* 3: f at 9 */
        ALU64_X(BPF_ALU_ADD, 0, 6),             /* 4: + 100 */
        LDX(BPF_SIZE_DW, 1, 10, -8),            /* 5 */
        ALU64_X(BPF_ALU_ADD, 0, 1),             /* 6: + 0x55 */
        EXIT(),                                 /* 7 */
        MOV64_K(0, -1),                         /* 8: never */
        /* f */
        MOV64_X(6, 1),                          /* 9 */
        ALU64_K(BPF_ALU_LSH, 6, 1),             /* 10 */
        ST(BPF_SIZE_DW, 10, -8, 0x77),          /* 11: own frame */
        CALL_LOCAL(3),                          /* 12: g at 16 */
        ALU64_X(BPF_ALU_ADD, 0, 6),             /* 13 */
        EXIT(),                                 /* 14 */
        MOV64_K(0, -1),                         /* 15: never */
        /* g */
        MOV64_K(6, -5),                         /* 16 */
        MOV64_K(0, 1000),                       /* 17 */
        EXIT(),                                 /* 18 */
    };

    EXPECT_R0(p, NULL, 0, 1000 + 14 + 100 + 0x55);
}

static void
test_call_depth(void)
{
    /* f calls itself forever. */
    const struct bpf_inst inf[] = {
        CALL_LOCAL(-1),
        EXIT(),
    };
    /* Depth exactly BPF_MAX_CALL_DEPTH: r1 counts down from 8. */
    const struct bpf_inst ok[] = {
        MOV64_K(1, BPF_MAX_CALL_DEPTH),         /* 0 */
        MOV64_K(0, 0),                          /* 1 */
        CALL_LOCAL(1),                          /* 2: f at 4 */
        EXIT(),                                 /* 3 */
        ALU64_K(BPF_ALU_ADD, 0, 1),             /* 4: f */
        ST(BPF_SIZE_DW, 10, -512, 1),           /* 5: bottom of frame */
        ALU64_K(BPF_ALU_SUB, 1, 1),             /* 6 */
        JMP_K(BPF_JMP_JEQ, 1, 0, 1),            /* 7 */
        CALL_LOCAL(-5),                         /* 8 */
        EXIT(),                                 /* 9 */
    };
    size_t m;

    EXPECT_R0(ok, NULL, 0, BPF_MAX_CALL_DEPTH);
    for (m = 0; m < ARRAY_SIZE(modes); m++) {
        struct outcome o = run_raw(inf, ARRAY_SIZE(inf), modes[m], NULL, 0);

        CU_ASSERT_EQUAL(o.create, 0);
        CU_ASSERT_EQUAL(o.exec, -ELOOP);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "insn 0: call depth exceeds"));
    }
}

static void
test_helpers(void)
{
    static uint8_t pkt[] = "hello, world";
    const struct bpf_inst hash[] = {
        MOV64_K(2, 12),
        CALL(BPF_HELPER_HASH),
        EXIT(),
    };
    const struct bpf_inst bad_hash[] = {
        MOV64_K(2, 13),                         /* one past the end */
        CALL(BPF_HELPER_HASH),
        EXIT(),
    };
    const struct bpf_inst unknown[] = {
        CALL(9999),
        EXIT(),
    };
    const struct bpf_inst unknown0[] = {
        CALL(0),
        EXIT(),
    };
    const struct bpf_inst bad_src[] = {
        INSN(BPF_CLS_JMP | BPF_JMP_CALL, 0, 2, 0, 1),
        EXIT(),
    };

    EXPECT_R0(hash, pkt, 12, bpf_hashlittle(pkt, 12, 0));
    EXPECT_FAULT(bad_hash, pkt, 12, EFAULT, "insn 1: oko_hash");
    EXPECT_REJECT(unknown, "insn 0: unknown helper 9999");
    EXPECT_REJECT(unknown0, "unknown helper 0");
    EXPECT_REJECT(bad_src, "call with unknown src 2");
}

/* ---------------------------------------------------------------------
 * Memory
 * ------------------------------------------------------------------- */

static void
test_stack(void)
{
    /* Every size, unaligned, negative offsets, read back as one DW. */
    const struct bpf_inst p[] = {
        ST(BPF_SIZE_DW, 10, -16, 0),
        ST(BPF_SIZE_DW, 10, -8, 0),
        ST(BPF_SIZE_B, 10, -16, 0x11),
        ST(BPF_SIZE_H, 10, -15, 0x2233),
        MOV64_K(1, 0x44556677),
        STX(BPF_SIZE_W, 10, 1, -13),
        LDDW(2, 0x8899aabbccddeeffull),
        STX(BPF_SIZE_DW, 10, 2, -9),            /* unaligned */
        LDX(BPF_SIZE_DW, 0, 10, -16),
        LDX(BPF_SIZE_B, 3, 10, -3),             /* 0x99 */
        ALU64_X(BPF_ALU_XOR, 0, 3),
        EXIT(),
    };

    /* bytes -16..-9: 11 33 22 77 66 55 44 ff */
    EXPECT_R0(p, NULL, 0, 0xff44556677223311ull ^ 0x99);
}

static void
test_mem_access(void)
{
    uint8_t mem[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    const struct bpf_inst load[] = {
        LDX(BPF_SIZE_W, 0, 1, 4),
        EXIT(),
    };
    const struct bpf_inst load_oob[] = {
        LDX(BPF_SIZE_W, 0, 1, 5),
        EXIT(),
    };
    const struct bpf_inst load_neg[] = {
        LDX(BPF_SIZE_B, 0, 1, -1),
        EXIT(),
    };
    const struct bpf_inst store_oob[] = {
        ST(BPF_SIZE_DW, 1, 1, 0),
        MOV64_K(0, 1),
        EXIT(),
    };
    const struct bpf_inst stack_above[] = {
        STX(BPF_SIZE_B, 10, 1, 0),              /* r10 + 0 is past the top */
        EXIT(),
    };
    const struct bpf_inst stack_below[] = {
        LDX(BPF_SIZE_B, 0, 10, -513),
        EXIT(),
    };
    const struct bpf_inst wild[] = {
        LDDW(1, 0xffffffffffff0000ull),
        LDX(BPF_SIZE_DW, 0, 1, 0),
        EXIT(),
    };
    const struct bpf_inst store_mem[] = {
        /* Checked mode lets programs write their input. */
        ST(BPF_SIZE_H, 1, 6, 0x0102),
        LDX(BPF_SIZE_H, 0, 1, 6),
        EXIT(),
    };
    const struct bpf_inst wrap[] = {
        /* Offsets are signed 16 bit: r1 + 8 - 8. */
        MOV64_X(2, 1),
        ALU64_K(BPF_ALU_ADD, 2, 8),
        LDX(BPF_SIZE_B, 0, 2, -8),
        EXIT(),
    };

    CU_ASSERT_EQUAL(run_raw(load, 2, BPF_VM_BOUNDS_CHECK, mem, 8).r0,
                    0x08070605);
    EXPECT_FAULT(load_oob, mem, 8, EFAULT,
                 "insn 0: out-of-bounds load of 4 bytes at 0x");
    EXPECT_FAULT(load_neg, mem, 8, EFAULT, "out-of-bounds load of 1 bytes");
    EXPECT_FAULT(store_oob, mem, 8, EFAULT,
                 "insn 0: out-of-bounds store of 8 bytes");
    EXPECT_FAULT(stack_above, mem, 8, EFAULT, "out-of-bounds store");
    EXPECT_FAULT(stack_below, mem, 8, EFAULT, "out-of-bounds load");
    EXPECT_FAULT(wild, mem, 8, EFAULT,
                 "insn 2: out-of-bounds load of 8 bytes at "
                 "0xffffffffffff0000");
    EXPECT_FAULT(load, NULL, 0, EFAULT, "out-of-bounds load");
    CU_ASSERT_EQUAL(run_raw(store_mem, 3, BPF_VM_BOUNDS_CHECK, mem, 8).r0,
                    0x0102);
    CU_ASSERT_EQUAL(mem[6], 0x02);
    CU_ASSERT_EQUAL(mem[7], 0x01);
    EXPECT_R0(wrap, mem, 8, 1);
}

static void
test_atomics(void)
{
    /* Each case: stack slot at r10-8 = init, r1 = operand, r0 = the
     * comparand; one atomic operation; then the program returns the slot,
     * r1 or r0 (three runs), which must be slot, out_src and out_r0. */
    static const struct {
        int32_t op;
        bool dw;
        uint64_t init, operand, r0;
        uint64_t slot, out_src, out_r0;
    } cases[] = {
        { BPF_ATOMIC_ADD, true, 40, 2, 0, 42, 2, 0 },
        { BPF_ATOMIC_ADD | BPF_ATOMIC_FETCH, true, 40, 2, 0, 42, 40, 0 },
        { BPF_ATOMIC_OR, true, 0x0f, 0xf0, 0, 0xff, 0xf0, 0 },
        { BPF_ATOMIC_OR | BPF_ATOMIC_FETCH, true, 0x0f, 0xf0, 0, 0xff, 0x0f,
          0 },
        { BPF_ATOMIC_AND, true, 0x3c, 0x0f, 0, 0x0c, 0x0f, 0 },
        { BPF_ATOMIC_AND | BPF_ATOMIC_FETCH, true, 0x3c, 0x0f, 0, 0x0c, 0x3c,
          0 },
        { BPF_ATOMIC_XOR, true, 0xff, 0x0f, 0, 0xf0, 0x0f, 0 },
        { BPF_ATOMIC_XOR | BPF_ATOMIC_FETCH, true, 0xff, 0x0f, 0, 0xf0, 0xff,
          0 },
        { BPF_ATOMIC_XCHG, true, 0x1111111122222222ull, 7, 0, 7,
          0x1111111122222222ull, 0 },
        /* cmpxchg, equal: stores src, r0 = old */
        { BPF_ATOMIC_CMPXCHG, true, 5, 9, 5, 9, 9, 5 },
        /* cmpxchg, different: memory unchanged, r0 = old */
        { BPF_ATOMIC_CMPXCHG, true, 5, 9, 6, 5, 9, 5 },
        /* 32-bit: upper half of the slot untouched, fetch zero-extends */
        { BPF_ATOMIC_ADD, false, 0xaaaaaaaaffffffffull, 1, 0,
          0xaaaaaaaa00000000ull, 1, 0 },
        { BPF_ATOMIC_ADD | BPF_ATOMIC_FETCH, false, 0xaaaaaaaa80000000ull,
          0xffffffff00000001ull, 0, 0xaaaaaaaa80000001ull, 0x80000000, 0 },
        { BPF_ATOMIC_OR | BPF_ATOMIC_FETCH, false, 0x1, 0x100000002ull, 0,
          0x3, 0x1, 0 },
        { BPF_ATOMIC_AND | BPF_ATOMIC_FETCH, false, 0xff000000ffull, 0xf0,
          0, 0xff000000f0ull, 0xff, 0 },
        { BPF_ATOMIC_XOR | BPF_ATOMIC_FETCH, false, 0xf0f0f0f0ull, -1ull, 0,
          0x0f0f0f0full, 0xf0f0f0f0ull, 0 },
        { BPF_ATOMIC_XCHG, false, 0x1234567890abcdefull, 0xffffffff00000005ull,
          0, 0x1234567800000005ull, 0x90abcdefull, 0 },
        { BPF_ATOMIC_CMPXCHG, false, 0x77777777deadbeefull, 0x11,
          0x55555555deadbeefull, 0x7777777700000011ull, 0x11, 0xdeadbeef },
        { BPF_ATOMIC_CMPXCHG, false, 0x77777777deadbeefull, 0x11,
          0xdeadbeeeull, 0x77777777deadbeefull, 0x11, 0xdeadbeef },
    };
    size_t i;
    int which;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        for (which = 0; which < 3; which++) {
            const struct bpf_inst p[] = {
                LDDW(2, cases[i].init),
                STX(BPF_SIZE_DW, 10, 2, -8),
                LDDW(1, cases[i].operand),
                LDDW(0, cases[i].r0),
                ATOMIC(cases[i].dw ? BPF_SIZE_DW : BPF_SIZE_W, cases[i].op,
                       10, 1, -8),
            };
            struct bpf_inst q[ARRAY_SIZE(p) + 2];
            uint64_t expect = which == 0 ? cases[i].slot
                              : which == 1 ? cases[i].out_src
                              : cases[i].out_r0;
            size_t m, n = ARRAY_SIZE(p);

            memcpy(q, p, sizeof p);
            if (which == 0) {
                q[n++] = LDX(BPF_SIZE_DW, 0, 10, -8);
            } else if (which == 1) {
                q[n++] = MOV64_X(0, 1);
            }
            q[n++] = EXIT();
            for (m = 0; m < ARRAY_SIZE(modes); m++) {
                struct outcome o = run_raw(q, n, modes[m], NULL, 0);

                if (o.exec || o.r0 != expect) {
                    fprintf(stderr, "\natomic case %zu output %d mode %u: "
                            "0x%" PRIx64 " expected 0x%" PRIx64 " (%s)\n",
                            i, which, modes[m], o.r0, expect, o.err);
                }
                CU_ASSERT_EQUAL(o.create, 0);
                CU_ASSERT_EQUAL(o.exec, 0);
                CU_ASSERT_EQUAL(o.r0, expect);
            }
        }
    }
}

static void
test_atomic_faults(void)
{
    uint8_t mem[16] = { 0 };
    const struct bpf_inst misaligned[] = {
        MOV64_K(2, 1),
        ATOMIC(BPF_SIZE_W, BPF_ATOMIC_ADD, 10, 2, -6),
        EXIT(),
    };
    const struct bpf_inst oob[] = {
        MOV64_K(2, 1),
        ATOMIC(BPF_SIZE_DW, BPF_ATOMIC_ADD, 1, 2, 16),
        EXIT(),
    };
    const struct bpf_inst bad_op[] = {
        ATOMIC(BPF_SIZE_DW, 0x10, 10, 1, -8),
        EXIT(),
    };
    const struct bpf_inst bad_size[] = {
        ATOMIC(BPF_SIZE_B, BPF_ATOMIC_ADD, 10, 1, -8),
        EXIT(),
    };
    const struct bpf_inst fetch_r10[] = {
        ATOMIC(BPF_SIZE_DW, BPF_ATOMIC_XCHG, 1, 10, 0),
        EXIT(),
    };

    EXPECT_FAULT(misaligned, mem, 16, EFAULT, "misaligned atomic of 4");
    EXPECT_FAULT(oob, mem, 16, EFAULT, "out-of-bounds atomic of 8");
    EXPECT_REJECT(bad_op, "unknown instruction");
    EXPECT_REJECT(bad_size, "unknown instruction");
    EXPECT_REJECT(fetch_r10, "r10 is read-only");
}

static void
test_ldabs_ldind(void)
{
    uint8_t pkt[6] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc };
    const struct bpf_inst w[] = { LDABS(BPF_SIZE_W, 2), EXIT() };
    const struct bpf_inst h[] = { LDABS(BPF_SIZE_H, 4), EXIT() };
    const struct bpf_inst b[] = { LDABS(BPF_SIZE_B, 5), EXIT() };
    const struct bpf_inst w_oob[] = {
        MOV64_K(0, 99), LDABS(BPF_SIZE_W, 3), MOV64_K(0, 7), EXIT(),
    };
    const struct bpf_inst b_oob[] = { LDABS(BPF_SIZE_B, 6), EXIT() };
    const struct bpf_inst neg[] = { LDABS(BPF_SIZE_B, -1), EXIT() };
    const struct bpf_inst ind[] = {
        /* r1 changes: LDIND still reads the packet of the run. */
        MOV64_K(3, 1), MOV64_K(1, 0),
        LDIND(BPF_SIZE_H, 3, 2), EXIT(),
    };
    const struct bpf_inst ind_neg[] = {
        MOV64_K(3, -2), LDIND(BPF_SIZE_B, 3, 3), EXIT(),  /* offset 1 */
    };
    const struct bpf_inst ind_oob[] = {
        MOV64_K(3, -2), LDIND(BPF_SIZE_B, 3, 1), MOV64_K(0, 7), EXIT(),
    };
    const struct bpf_inst ind_huge[] = {
        LDDW(3, 0x7fffffffffffffffull), LDIND(BPF_SIZE_W, 3, 0x7fffffff),
        MOV64_K(0, 7), EXIT(),
    };
    const struct bpf_inst bad[] = {
        INSN(BPF_CLS_LD | BPF_MODE_ABS | BPF_SIZE_DW, 0, 0, 0, 0), EXIT(),
    };

    EXPECT_R0(w, pkt, 6, 0x56789abc);
    EXPECT_R0(h, pkt, 6, 0x9abc);
    EXPECT_R0(b, pkt, 6, 0xbc);
    EXPECT_R0(w_oob, pkt, 6, 0);
    EXPECT_R0(b_oob, pkt, 6, 0);
    EXPECT_R0(neg, pkt, 6, 0);
    EXPECT_R0(ind, pkt, 6, 0x789a);
    EXPECT_R0(ind_neg, pkt, 6, 0x34);
    EXPECT_R0(ind_oob, pkt, 6, 0);
    EXPECT_R0(ind_huge, pkt, 6, 0);
    EXPECT_R0(w, NULL, 0, 0);
    EXPECT_REJECT(bad, "unknown instruction");
}

/* ---------------------------------------------------------------------
 * Rejected programs and faults
 * ------------------------------------------------------------------- */

static void
test_reject_garbage(void)
{
    const struct bpf_inst jump_past[] = { JA(1), EXIT() };
    const struct bpf_inst jump_before[] = { JA(-2), EXIT() };
    const struct bpf_inst call_past[] = { CALL_LOCAL(5), EXIT() };
    const struct bpf_inst bad_reg[] = { MOV64_K(11, 0), EXIT() };
    const struct bpf_inst bad_src_reg[] = { MOV64_X(0, 12), EXIT() };
    const struct bpf_inst write_r10[] = { MOV64_K(10, 0), EXIT() };
    const struct bpf_inst load_r10[] = { LDX(BPF_SIZE_DW, 10, 1, 0), EXIT() };
    const struct bpf_inst bad_code[] = { INSN(0xff, 0, 0, 0, 0), EXIT() };
    const struct bpf_inst neg_x[] = { ALU64_X(BPF_ALU_NEG, 0, 1), EXIT() };
    const struct bpf_inst v4_sdiv[] = {
        INSN(BPF_CLS_ALU64 | BPF_ALU_DIV | BPF_SRC_K, 0, 0, 1, 3), EXIT(),
    };
    const struct bpf_inst jmp32_ja[] = {
        INSN(BPF_CLS_JMP32 | BPF_JMP_JA, 0, 0, 0, 0), EXIT(),
    };
    const struct bpf_inst exit_x[] = {
        INSN(BPF_CLS_JMP | BPF_JMP_EXIT | BPF_SRC_X, 0, 0, 0, 0),
    };
    struct bpf_prog *prog;
    char err[128];

    EXPECT_REJECT(jump_past, "insn 0: jump target 2 is outside");
    EXPECT_REJECT(jump_before, "jump target -1 is outside");
    EXPECT_REJECT(call_past, "call target 6 is outside");
    EXPECT_REJECT(bad_reg, "bad register r11");
    EXPECT_REJECT(bad_src_reg, "bad register r12");
    EXPECT_REJECT(write_r10, "r10 is read-only");
    EXPECT_REJECT(load_r10, "r10 is read-only");
    EXPECT_REJECT(bad_code, "insn 0: unknown instruction (code 0xff");
    EXPECT_REJECT(neg_x, "unknown instruction");
    EXPECT_REJECT(v4_sdiv, "unknown instruction");
    EXPECT_REJECT(jmp32_ja, "unknown instruction");
    EXPECT_REJECT(exit_x, "unknown instruction");

    /* Unknown flags, bad entry point, NULL program. */
    prog = bpf_prog_load_raw(exit_x, 1, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    errno = 0;
    CU_ASSERT_PTR_NULL(bpf_vm_create(prog, NULL, 0x80, err, sizeof err));
    CU_ASSERT_EQUAL(errno, EINVAL);
    prog->insns[0] = EXIT();
    prog->entry = 1;
    CU_ASSERT_PTR_NULL(bpf_vm_create(prog, NULL, 0, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "entry point 1"));
    bpf_prog_free(prog);
    CU_ASSERT_PTR_NULL(bpf_vm_create(NULL, NULL, 0, NULL, 0));
}

static void
test_faults(void)
{
    const struct bpf_inst inf[] = { JA(-1) };
    const struct bpf_inst fall[] = { MOV64_K(0, 3) };
    const struct bpf_inst fall_cond[] = {
        MOV64_K(0, 3), JMP_K(BPF_JMP_JEQ, 0, 4, -2),
    };
    size_t m;

    EXPECT_FAULT(inf, NULL, 0, ELOOP, "insn 0: more than 16777216");
    for (m = 0; m < ARRAY_SIZE(modes); m++) {
        struct outcome o = run_raw(fall, 1, modes[m], NULL, 0);

        CU_ASSERT_EQUAL(o.exec, -EINVAL);
        CU_ASSERT_STRING_EQUAL(o.err, "insn 0: execution ran past the last "
                               "instruction");
        o = run_raw(fall_cond, 2, modes[m], NULL, 0);
        CU_ASSERT_EQUAL(o.exec, -EINVAL);
    }
}

static void
test_run_after_fault(void)
{
    /* A VM stays usable after a fault; the message is per run. */
    uint8_t mem[4] = { 9, 0, 0, 0 };
    const struct bpf_inst p[] = {
        LDX(BPF_SIZE_W, 0, 1, 0),
        EXIT(),
    };
    struct bpf_prog *prog;
    struct bpf_vm *vm;
    char err[128];

    prog = bpf_prog_load_raw(p, ARRAY_SIZE(p), err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    vm = bpf_vm_create(prog, NULL, BPF_VM_BOUNDS_CHECK, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(vm);
    CU_ASSERT_EQUAL(bpf_vm_run(vm, mem, 3), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(bpf_vm_last_error(vm), "out-of-bounds"));
    CU_ASSERT_EQUAL(bpf_vm_run(vm, mem, 4), 9);
    CU_ASSERT_STRING_EQUAL(bpf_vm_last_error(vm), "");
    CU_ASSERT_TRUE(bpf_vm_match(vm, (uint8_t[]) { 1, 0, 0, 0 }, 4));
    CU_ASSERT_FALSE(bpf_vm_match(vm, (uint8_t[]) { 1, 0, 0, 1 }, 4));
    bpf_vm_destroy(vm);
    bpf_prog_free(prog);
}

static void
test_check_access(void)
{
    static const uint8_t ro[4] = "abc";
    uint8_t mem[8] = { 0 }, stack[16] = { 0 }, value[4] = { 0 };
    struct bpf_prog prog;
    struct bpf_vm vm;

    memset(&prog, 0, sizeof prog);
    memset(&vm, 0, sizeof vm);
    prog.rodata = (uint8_t *) ro;
    prog.rodata_len = sizeof ro;
    vm.prog = &prog;
    vm.mem_lo = mem;
    vm.mem_hi = mem + sizeof mem;
    CU_ASSERT_TRUE(bpf_vm_check_access(&vm, mem, 8, stack, stack + 16, true));
    CU_ASSERT_FALSE(bpf_vm_check_access(&vm, mem + 1, 8, stack, stack + 16,
                                        false));
    CU_ASSERT_FALSE(bpf_vm_check_access(&vm,
                                        (const void *) ((uintptr_t) mem - 1),
                                        1, NULL, NULL, false));
    CU_ASSERT_TRUE(bpf_vm_check_access(&vm, stack + 8, 8, stack, stack + 16,
                                       true));
    CU_ASSERT_FALSE(bpf_vm_check_access(&vm, stack + 8, 9, stack, stack + 16,
                                        true));
    CU_ASSERT_TRUE(bpf_vm_check_access(&vm, ro, 4, NULL, NULL, false));
    CU_ASSERT_FALSE(bpf_vm_check_access(&vm, ro, 4, NULL, NULL, true));
    CU_ASSERT_FALSE(bpf_vm_check_access(&vm, value, 4, NULL, NULL, false));
    /* Wrap-around of p + n. */
    CU_ASSERT_FALSE(bpf_vm_check_access(&vm, mem + 4, SIZE_MAX, NULL, NULL,
                                        false));
    vm.values[0].lo = value;
    vm.values[0].hi = value + 4;
    vm.nvalues = 1;
    CU_ASSERT_TRUE(bpf_vm_check_access(&vm, value, 4, NULL, NULL, true));
    CU_ASSERT_FALSE(bpf_vm_check_access(&vm, value + 1, 4, NULL, NULL, true));
    /* helpers.c keeps counting past the 16 slots. */
    vm.nvalues = 40;
    CU_ASSERT_TRUE(bpf_vm_check_access(&vm, value, 4, NULL, NULL, true));
}

static void
discard_log(void *ctx, const char *line)
{
    (void) ctx;
    (void) line;
}

/* True if no instruction of p uses r10 other than as the base of a load
 * or store, and none calls a helper. */
static bool
address_free(const struct bpf_inst *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        uint8_t cls = BPF_CLASS(p[i].code);
        bool base_dst = cls == BPF_CLS_ST || cls == BPF_CLS_STX;
        bool base_src = cls == BPF_CLS_LDX;

        if ((p[i].dst == 10 && !base_dst) || (p[i].src == 10 && !base_src)
            || (p[i].code == (BPF_CLS_JMP | BPF_JMP_CALL) && p[i].src == 0)) {
            return false;
        }
    }
    return true;
}

/* Random instruction streams: bpf_vm_create must reject them cleanly or
 * build a VM whose checked runs end without crashing (ASan build), and
 * whose fast runs agree with the checked ones where those succeed. */
static void
test_random_programs(void)
{
    static const uint8_t codes[] = {
        0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x47, 0x4f, 0x57,
        0x5f, 0x67, 0x6f, 0x77, 0x7f, 0x87, 0x97, 0x9f, 0xa7, 0xaf, 0xb7,
        0xbf, 0xc7, 0xcf, 0x04, 0x0c, 0x14, 0x34, 0x3c, 0x94, 0x9c, 0xb4,
        0xbc, 0xc4, 0xd4, 0xdc, 0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x45,
        0x55, 0x65, 0x6d, 0xa5, 0xad, 0xc5, 0xcd, 0x16, 0x1e, 0x66, 0x85,
        0x95, 0x95, 0x95, 0x18, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x61,
        0x69, 0x71, 0x79, 0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b,
        0xc3, 0xdb,
    };
    uint8_t mem[64];
    uint32_t seed = 12345;
    unsigned created = 0, compared = 0, i;

#define RNG() (seed = seed * 1103515245u + 12345u, seed >> 8)
    for (i = 0; i < sizeof mem; i++) {
        mem[i] = (uint8_t) i;
    }
    for (i = 0; i < 20000; i++) {
        struct bpf_inst p[12];
        struct bpf_prog *prog;
        struct bpf_vm *vm;
        size_t n = 1 + RNG() % ARRAY_SIZE(p), j;
        char err[160];

        for (j = 0; j < n; j++) {
            p[j].code = RNG() % 64 ? codes[RNG() % sizeof codes]
                                   : (uint8_t) RNG();
            /* Mostly valid registers and short, mostly forward jumps. */
            p[j].dst = RNG() % 32 ? RNG() % 10 : RNG() % 16;
            p[j].src = RNG() % 32 ? RNG() % 11 : RNG() % 16;
            p[j].off = (int16_t) (RNG() % 8 ? (int) (RNG() % 4)
                                            : (int) (RNG() % 16) - 8);
            p[j].imm = RNG() % 4 ? (int32_t) (RNG() % 64) - 8
                                 : (int32_t) RNG();
            if (p[j].code == 0xc3 || p[j].code == 0xdb) {
                static const int32_t ops[] = { 0x00, 0x01, 0x40, 0x41, 0x50,
                                               0x51, 0xa0, 0xa1, 0xe1, 0xf1 };
                p[j].imm = ops[RNG() % ARRAY_SIZE(ops)];
            }
            if (p[j].code == 0x85 && RNG() % 2) {
                p[j].imm = 1 + RNG() % 7;
                p[j].src = RNG() % 3 ? 0 : 1;
            }
            if ((p[j].code & 7) == BPF_CLS_ALU
                || (p[j].code & 7) == BPF_CLS_ALU64) {
                p[j].off = RNG() % 32 ? 0 : p[j].off;  /* off: cpu v4 */
            }
            if (p[j].code == 0x18 && j + 1 < n && RNG() % 8) {
                p[j].src = RNG() % 4 ? 0 : RNG() % 4;
                p[++j] = (struct bpf_inst) { .imm = (int32_t) RNG() };
            }
        }
        prog = bpf_prog_load_raw(p, n, err, sizeof err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
        vm = bpf_vm_create(prog, NULL, BPF_VM_BOUNDS_CHECK, err, sizeof err);
        if (vm) {
            uint64_t r0 = 0, r0_fast = 0;

            created++;
            bpf_vm_set_log(vm, discard_log, NULL);
            (void) bpf_vm_exec(vm, mem, sizeof mem, &r0, err, sizeof err);
            bpf_vm_destroy(vm);
            /* Differential check on programs whose results cannot depend
             * on addresses: without memory (r1 = 0), with r10 used only
             * as a load or store base, and no helpers (time differs).
             * Where the checked run succeeds, it proved every access in
             * bounds, and the fast variant must compute the same r0.
             * Fresh VMs: both start with a zeroed stack. */
            if (!address_free(p, n)) {
                bpf_prog_free(prog);
                continue;
            }
            vm = bpf_vm_create(prog, NULL, BPF_VM_BOUNDS_CHECK, err,
                               sizeof err);
            CU_ASSERT_PTR_NOT_NULL_FATAL(vm);
            if (bpf_vm_exec(vm, NULL, 0, &r0, err, sizeof err)) {
                bpf_vm_destroy(vm);
                bpf_prog_free(prog);
                continue;
            }
            bpf_vm_destroy(vm);
            vm = bpf_vm_create(prog, NULL, 0, err, sizeof err);
            CU_ASSERT_PTR_NOT_NULL_FATAL(vm);
            CU_ASSERT_EQUAL(bpf_vm_exec(vm, NULL, 0, &r0_fast, err,
                                        sizeof err), 0);
            CU_ASSERT_EQUAL(r0, r0_fast);
            compared++;
            bpf_vm_destroy(vm);
        } else {
            if (getenv("SHOW_REJECTS")) {
                printf("%s\n", err);
            }
            CU_ASSERT(errno == EINVAL);
            CU_ASSERT(err[0] != '\0');
        }
        bpf_prog_free(prog);
    }
#undef RNG
    /* The generator must exercise the run loop, not only the decoder. */
    CU_ASSERT(created > 5000);
    CU_ASSERT(compared > 1000);
    printf("(%u of 20000 created, %u compared with the fast variant) ",
           created, compared);
}

static const struct cu_test tests[] = {
    { "ALU64 operations", test_alu64 },
    { "ALU32 operations zero-extend", test_alu32_zero_extends },
    { "division and modulo by zero", test_div_mod_zero },
    { "shift amounts are masked", test_shift_masking },
    { "byte swaps", test_byte_swap },
    { "conditional jumps, JMP and JMP32", test_jumps },
    { "backward loop and instruction count", test_backward_loop },
    { "lddw and malformed lddw", test_lddw },
    { "maps and read-only data", test_maps_and_rodata },
    { "oko_printf reaches the log sink", test_printf_log },
    { "local calls keep r6-r9 and frames", test_local_calls },
    { "call depth limit", test_call_depth },
    { "helper calls", test_helpers },
    { "stack stores and loads of every size", test_stack },
    { "memory bounds in checked mode", test_mem_access },
    { "atomic operations", test_atomics },
    { "atomic faults", test_atomic_faults },
    { "LDABS and LDIND", test_ldabs_ldind },
    { "bpf_vm_create rejects garbage", test_reject_garbage },
    { "instruction budget and running off the end", test_faults },
    { "a VM runs again after a fault", test_run_after_fault },
    { "bpf_vm_check_access regions", test_check_access },
    { "random programs do not crash", test_random_programs },
    { NULL, NULL },
};

CU_MAIN("interp", tests)
