/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_verifier.c -- unit tests of bpf_verify(): hostile programs written
 * as raw instructions, each of which must be rejected with a message that
 * names the instruction, register and reason; safe programs that must be
 * accepted; and every clang-compiled program of the tree (examples, test
 * programs, and the C programs of tests/verifier, compiled here with
 * $CLANG), which must verify.
 */
#include "bpf_priv.h"
#include "cu_main.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif
#ifndef TOP_BUILDDIR
#define TOP_BUILDDIR TOP_SRCDIR
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Instruction builders. */
#define INSN(CODE, DST, SRC, OFF, IMM)                                    \
    ((struct bpf_inst) { .code = (CODE), .dst = (DST), .src = (SRC),      \
                         .off = (OFF), .imm = (IMM) })
#define MOV64_IMM(D, IMM) INSN(BPF_CLS_ALU64 | BPF_ALU_MOV, D, 0, 0, IMM)
#define MOV64_REG(D, S) \
    INSN(BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, D, S, 0, 0)
#define ALU64_IMM(OP, D, IMM) INSN(BPF_CLS_ALU64 | (OP), D, 0, 0, IMM)
#define ALU64_REG(OP, D, S) \
    INSN(BPF_CLS_ALU64 | (OP) | BPF_SRC_X, D, S, 0, 0)
#define ALU32_IMM(OP, D, IMM) INSN(BPF_CLS_ALU | (OP), D, 0, 0, IMM)
#define ALU32_REG(OP, D, S) INSN(BPF_CLS_ALU | (OP) | BPF_SRC_X, D, S, 0, 0)
#define LDX(SZ, D, S, OFF) \
    INSN(BPF_CLS_LDX | BPF_MODE_MEM | (SZ), D, S, OFF, 0)
#define STX(SZ, D, S, OFF) \
    INSN(BPF_CLS_STX | BPF_MODE_MEM | (SZ), D, S, OFF, 0)
#define ST(SZ, D, OFF, IMM) \
    INSN(BPF_CLS_ST | BPF_MODE_MEM | (SZ), D, 0, OFF, IMM)
#define ATOMIC(SZ, D, S, OFF, OP) \
    INSN(BPF_CLS_STX | BPF_MODE_ATOMIC | (SZ), D, S, OFF, OP)
#define JMP_IMM(OP, D, IMM, OFF) INSN(BPF_CLS_JMP | (OP), D, 0, OFF, IMM)
#define JMP_REG(OP, D, S, OFF) \
    INSN(BPF_CLS_JMP | (OP) | BPF_SRC_X, D, S, OFF, 0)
#define JMP32_IMM(OP, D, IMM, OFF) INSN(BPF_CLS_JMP32 | (OP), D, 0, OFF, IMM)
#define JMP32_REG(OP, D, S, OFF) \
    INSN(BPF_CLS_JMP32 | (OP) | BPF_SRC_X, D, S, OFF, 0)
#define JA(OFF) INSN(BPF_CLS_JMP | BPF_JMP_JA, 0, 0, OFF, 0)
#define CALL(ID) INSN(BPF_CLS_JMP | BPF_JMP_CALL, 0, 0, 0, ID)
#define CALL_LOCAL(REL) \
    INSN(BPF_CLS_JMP | BPF_JMP_CALL, 0, BPF_PSEUDO_CALL, 0, REL)
#define EXIT() INSN(BPF_CLS_JMP | BPF_JMP_EXIT, 0, 0, 0, 0)
#define LDDW(D, SRC, IMM) \
    INSN(BPF_CLS_LD | BPF_MODE_IMM | BPF_SIZE_DW, D, SRC, 0, IMM), \
    INSN(0, 0, 0, 0, 0)
#define LDABS(SZ, IMM) INSN(BPF_CLS_LD | BPF_MODE_ABS | (SZ), 0, 0, 0, IMM)
#define LDIND(SZ, S, IMM) INSN(BPF_CLS_LD | BPF_MODE_IND | (SZ), 0, S, 0, IMM)

#define B BPF_SIZE_B
#define H BPF_SIZE_H
#define W BPF_SIZE_W
#define DW BPF_SIZE_DW

/* "if len < N return 0" as the first three instructions. */
#define LEN_AT_LEAST(N)                                                   \
    JMP_IMM(BPF_JMP_JGE, 2, N, 2),                                        \
    MOV64_IMM(0, 0),                                                      \
    EXIT()

static char errbuf[512];
static struct bpf_verify_stats vstats;

/* Builds a program by hand: maps and read-only data that raw loading
 * cannot express. */
static struct bpf_prog *
make_prog(const struct bpf_inst *insns, size_t n,
          const struct bpf_map_def *maps, size_t nmaps, const char *rodata,
          size_t rodata_len)
{
    struct bpf_prog *prog;
    size_t i;

    prog = bpf_prog_load_raw(insns, n, errbuf, sizeof errbuf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    for (i = 0; i < nmaps; i++) {
        snprintf(prog->maps[i].name, sizeof prog->maps[i].name, "map%zu", i);
        prog->maps[i].def = maps[i];
    }
    prog->nmaps = nmaps;
    if (rodata) {
        prog->rodata = malloc(rodata_len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(prog->rodata);
        memcpy(prog->rodata, rodata, rodata_len);
        prog->rodata_len = rodata_len;
    }
    return prog;
}

static int
verify_prog(struct bpf_prog *prog, enum bpf_verify_mode mode,
            uint64_t max_states)
{
    struct bpf_verify_opts opts = { .mode = mode, .max_states = max_states };

    errbuf[0] = '\0';
    return bpf_verify(prog, &opts, &vstats, errbuf, sizeof errbuf);
}

/* Verifies and checks the result: want = 0 or a negative errno; phrases
 * (NULL-terminated) must all appear in the message. */
static void
check_prog(struct bpf_prog *prog, enum bpf_verify_mode mode, int want,
           const char *const *phrases, int line)
{
    int ret = verify_prog(prog, mode, 0);

    if (ret != want) {
        fprintf(stderr, "\nline %d: verify returned %d (want %d): %s\n",
                line, ret, want, errbuf);
    }
    CU_ASSERT_EQUAL(ret, want);
    for (; phrases && *phrases; phrases++) {
        if (!strstr(errbuf, *phrases)) {
            fprintf(stderr, "\nline %d: message \"%s\" lacks \"%s\"\n", line,
                    errbuf, *phrases);
            CU_FAIL("message lacks a phrase");
        }
    }
    if (want == 0) {
        CU_ASSERT_STRING_EQUAL(errbuf, "");
    }
    bpf_prog_free(prog);
}

#define PHRASES(...) ((const char *const[]) { __VA_ARGS__, NULL })
#define RAW(p) make_prog(p, ARRAY_SIZE(p), NULL, 0, NULL, 0)
#define REJECT(p, err, ...) \
    check_prog(RAW(p), BPF_VERIFY_FILTER, -(err), PHRASES(__VA_ARGS__), \
               __LINE__)
#define ACCEPT(p) check_prog(RAW(p), BPF_VERIFY_FILTER, 0, NULL, __LINE__)
#define REJECT_PROG(prog, err, ...) \
    check_prog(prog, BPF_VERIFY_FILTER, -(err), PHRASES(__VA_ARGS__), \
               __LINE__)
#define ACCEPT_PROG(prog) \
    check_prog(prog, BPF_VERIFY_FILTER, 0, NULL, __LINE__)

/* A hash map with 4-byte keys and 8-byte values. */
static const struct bpf_map_def hash_def = { BPF_MAP_HASH, 4, 8, 16, 0 };
#define MAPPED(p) make_prog(p, ARRAY_SIZE(p), &hash_def, 1, NULL, 0)

/* ---------------------------------------------------------------------
 * Packet bounds.
 * ------------------------------------------------------------------- */

static void
test_pkt_no_len_check(void)
{
    struct bpf_inst p[] = {
        LDX(B, 0, 1, 0),
        EXIT(),
    };

    REJECT(p, EACCES, "insn 0: r1: packet read of 1 bytes at offset 0 "
           "beyond proven length 0");
}

static void
test_pkt_check_14_read_14(void)
{
    struct bpf_inst bad[] = {
        LEN_AT_LEAST(14),
        LDX(B, 0, 1, 14),
        EXIT(),
    };
    struct bpf_inst good[] = {
        LEN_AT_LEAST(14),
        LDX(B, 0, 1, 13),
        EXIT(),
    };

    REJECT(bad, EACCES, "insn 3: r1: packet read of 1 bytes at offset 14 "
           "beyond proven length 14");
    ACCEPT(good);
}

static void
test_pkt_off_by_one(void)
{
    /* len >= 13 (clang's form: constant in a register), then u16 at 12. */
    struct bpf_inst bad[] = {
        MOV64_IMM(3, 13),
        JMP_REG(BPF_JMP_JGT, 3, 2, 2),
        LDX(H, 0, 1, 12),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst good[] = {
        MOV64_IMM(3, 14),
        JMP_REG(BPF_JMP_JGT, 3, 2, 2),
        LDX(H, 0, 1, 12),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };

    REJECT(bad, EACCES, "insn 2: r1: packet read of 2 bytes at offset 12 "
           "beyond proven length 13");
    ACCEPT(good);
}

static void
test_pkt_checked_on_wrong_branch(void)
{
    /* if len > 20 goto out; read pkt[10]: the read is on the short side. */
    struct bpf_inst p[] = {
        JMP_IMM(BPF_JMP_JGT, 2, 20, 2),
        LDX(B, 0, 1, 10),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };

    REJECT(p, EACCES, "insn 1: r1: packet read");
}

static void
test_pkt_variable_offset(void)
{
    /* off = pkt[0]; read pkt[off]: nothing bounds it against len. */
    struct bpf_inst unbounded[] = {
        LEN_AT_LEAST(1),
        LDX(B, 3, 1, 0),
        ALU64_REG(BPF_ALU_ADD, 1, 3),
        LDX(B, 0, 1, 0),
        EXIT(),
    };
    /* Same with "if off + 1 > len return 0". */
    struct bpf_inst related[] = {
        LEN_AT_LEAST(1),
        LDX(B, 3, 1, 0),
        MOV64_REG(4, 3),
        ALU64_IMM(BPF_ALU_ADD, 4, 1),
        JMP_REG(BPF_JMP_JGT, 4, 2, 3),
        ALU64_REG(BPF_ALU_ADD, 1, 3),
        LDX(B, 0, 1, 0),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* Off by one: two bytes read with one proven. */
    struct bpf_inst related_bad[] = {
        LEN_AT_LEAST(1),
        LDX(B, 3, 1, 0),
        MOV64_REG(4, 3),
        ALU64_IMM(BPF_ALU_ADD, 4, 1),
        JMP_REG(BPF_JMP_JGT, 4, 2, 3),
        ALU64_REG(BPF_ALU_ADD, 1, 3),
        LDX(H, 0, 1, 0),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* The relation holds only for the register compared: a different
     * value added to the pointer is not covered. */
    struct bpf_inst other_value[] = {
        LEN_AT_LEAST(2),
        LDX(B, 3, 1, 0),
        LDX(B, 5, 1, 1),
        MOV64_REG(4, 3),
        ALU64_IMM(BPF_ALU_ADD, 4, 1),
        JMP_REG(BPF_JMP_JGT, 4, 2, 3),
        ALU64_REG(BPF_ALU_ADD, 1, 5),
        LDX(B, 0, 1, 0),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* The compared register is overwritten after the check. */
    struct bpf_inst overwritten[] = {
        LEN_AT_LEAST(2),
        LDX(B, 3, 1, 0),
        MOV64_REG(4, 3),
        ALU64_IMM(BPF_ALU_ADD, 4, 1),
        JMP_REG(BPF_JMP_JGT, 4, 2, 4),
        LDX(B, 3, 1, 1),
        ALU64_REG(BPF_ALU_ADD, 1, 3),
        LDX(B, 0, 1, 0),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };

    REJECT(unbounded, EACCES, "insn 5: r1: packet read of 1 bytes at "
           "variable offset");
    ACCEPT(related);
    REJECT(related_bad, EACCES, "insn 8: r1: packet read of 2 bytes");
    REJECT(other_value, EACCES, "insn 9: r1: packet read");
    REJECT(overwritten, EACCES, "insn 9: r1: packet read");
}

static void
test_pkt_ip_header_idiom(void)
{
    /* off = 14 + ((pkt[14] & 0xf) << 2); if (off + 20 > len) return 0;
     * return pkt[off + 13]; -- as clang writes it. */
    struct bpf_inst good[] = {
        LEN_AT_LEAST(34),
        LDX(B, 3, 1, 14),
        ALU64_IMM(BPF_ALU_AND, 3, 15),
        ALU64_IMM(BPF_ALU_LSH, 3, 2),
        ALU64_IMM(BPF_ALU_ADD, 3, 14),
        MOV64_REG(4, 3),
        ALU64_IMM(BPF_ALU_ADD, 4, 20),
        JMP_REG(BPF_JMP_JGT, 4, 2, 4),
        MOV64_REG(5, 1),
        ALU64_REG(BPF_ALU_ADD, 5, 3),
        LDX(B, 0, 5, 13),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst bad[] = {
        LEN_AT_LEAST(34),
        LDX(B, 3, 1, 14),
        ALU64_IMM(BPF_ALU_AND, 3, 15),
        ALU64_IMM(BPF_ALU_LSH, 3, 2),
        ALU64_IMM(BPF_ALU_ADD, 3, 14),
        MOV64_REG(4, 3),
        ALU64_IMM(BPF_ALU_ADD, 4, 20),
        JMP_REG(BPF_JMP_JGT, 4, 2, 4),
        MOV64_REG(5, 1),
        ALU64_REG(BPF_ALU_ADD, 5, 3),
        LDX(B, 0, 5, 20),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };

    ACCEPT(good);
    REJECT(bad, EACCES, "insn 12: r5: packet read of 1 bytes at variable "
           "offset");
}

static void
test_pkt_end_pointer(void)
{
    /* end = pkt + len; if (pkt + 14 > end) return 0; read u16 at 12. */
    struct bpf_inst good[] = {
        MOV64_REG(3, 1),
        ALU64_REG(BPF_ALU_ADD, 3, 2),
        MOV64_REG(4, 1),
        ALU64_IMM(BPF_ALU_ADD, 4, 14),
        JMP_REG(BPF_JMP_JGT, 4, 3, 2),
        LDX(H, 0, 1, 12),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst bad[] = {
        MOV64_REG(3, 1),
        ALU64_REG(BPF_ALU_ADD, 3, 2),
        MOV64_REG(4, 1),
        ALU64_IMM(BPF_ALU_ADD, 4, 14),
        JMP_REG(BPF_JMP_JGT, 4, 3, 2),
        LDX(H, 0, 1, 13),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* The end pointer cannot be dereferenced. */
    struct bpf_inst deref_end[] = {
        MOV64_REG(3, 1),
        ALU64_REG(BPF_ALU_ADD, 3, 2),
        LDX(B, 0, 3, -1),
        EXIT(),
    };

    ACCEPT(good);
    REJECT(bad, EACCES, "insn 5: r1: packet read of 2 bytes at offset 13 "
           "beyond proven length 14");
    REJECT(deref_end, EACCES, "insn 2: r3:", "packet end");
}

static void
test_pkt_len_minus_const(void)
{
    /* r3 = len - 14; if (r3 < 20) return 0; read pkt[33]: unsound unless
     * len >= 14 is known (len - 14 wraps around for short frames). */
    struct bpf_inst wrap[] = {
        MOV64_REG(3, 2),
        ALU64_IMM(BPF_ALU_ADD, 3, -14),
        JMP_IMM(BPF_JMP_JLT, 3, 20, 2),
        LDX(B, 0, 1, 33),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst good[] = {
        LEN_AT_LEAST(14),
        MOV64_REG(3, 2),
        ALU64_IMM(BPF_ALU_ADD, 3, -14),
        JMP_IMM(BPF_JMP_JLT, 3, 20, 2),
        LDX(B, 0, 1, 33),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };

    REJECT(wrap, EACCES, "insn 3: r1: packet read");
    ACCEPT(good);
}

static void
test_pkt_write(void)
{
    struct bpf_inst p[] = {
        LEN_AT_LEAST(1),
        ST(B, 1, 0, 1),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst stx[] = {
        LEN_AT_LEAST(8),
        MOV64_IMM(3, 0),
        STX(DW, 1, 3, 0),
        MOV64_IMM(0, 0),
        EXIT(),
    };

    REJECT(p, EACCES, "insn 3: r1: write to read-only packet");
    REJECT(stx, EACCES, "insn 4: r1: write to read-only packet");
}

static void
test_ldabs(void)
{
    struct bpf_inst good[] = {
        LDABS(H, 12),
        MOV64_IMM(6, 3),
        LDIND(B, 6, 20),
        EXIT(),
    };
    struct bpf_inst clobbered[] = {
        LDABS(B, 0),
        LDX(B, 0, 1, 0),
        EXIT(),
    };

    ACCEPT(good);
    REJECT(clobbered, EACCES, "insn 1: r1: read of uninitialised register");
}

/* ---------------------------------------------------------------------
 * Registers, stack.
 * ------------------------------------------------------------------- */

static void
test_uninit_register(void)
{
    struct bpf_inst p[] = {
        MOV64_IMM(0, 1),
        ALU64_REG(BPF_ALU_ADD, 0, 3),
        EXIT(),
    };
    struct bpf_inst no_r0[] = {
        EXIT(),
    };

    REJECT(p, EACCES, "insn 1: r3: read of uninitialised register");
    REJECT(no_r0, EACCES, "insn 0: r0: read of uninitialised register");
}

static void
test_stack_uninit(void)
{
    struct bpf_inst whole[] = {
        LDX(DW, 0, 10, -8),
        EXIT(),
    };
    struct bpf_inst partial[] = {
        ST(W, 10, -8, 0),
        LDX(DW, 0, 10, -8),
        EXIT(),
    };
    struct bpf_inst good[] = {
        ST(W, 10, -8, 0),
        ST(W, 10, -4, 7),
        LDX(DW, 0, 10, -8),
        EXIT(),
    };

    REJECT(whole, EACCES, "insn 0: r10: stack read of uninitialised byte at "
           "fp-8");
    REJECT(partial, EACCES, "insn 1: r10: stack read of uninitialised byte "
           "at fp-4");
    ACCEPT(good);
}

static void
test_stack_bounds(void)
{
    struct bpf_inst at_fp[] = {
        ST(DW, 10, 0, 0),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst below[] = {
        ST(B, 10, -513, 0),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst straddle[] = {
        ST(DW, 10, -4, 0),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst deepest[] = {
        ST(B, 10, -512, 0),
        LDX(B, 0, 10, -512),
        EXIT(),
    };

    REJECT(at_fp, EACCES, "insn 0: r10: stack write of 8 bytes at fp+0 out "
           "of bounds");
    REJECT(below, EACCES, "insn 0: r10: stack write", "out of bounds");
    REJECT(straddle, EACCES, "insn 0: r10: stack write", "out of bounds");
    ACCEPT(deepest);
}

static void
test_spills(void)
{
    /* A pointer spilled and filled keeps its type. */
    struct bpf_inst fill[] = {
        LEN_AT_LEAST(1),
        STX(DW, 10, 1, -8),
        LDX(DW, 3, 10, -8),
        LDX(B, 0, 3, 0),
        EXIT(),
    };
    struct bpf_inst partial_spill[] = {
        STX(W, 10, 1, -8),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst partial_fill[] = {
        STX(DW, 10, 1, -8),
        LDX(W, 0, 10, -8),
        EXIT(),
    };
    /* Overwriting part of a spilled pointer leaves the rest unreadable. */
    struct bpf_inst scrubbed[] = {
        STX(DW, 10, 1, -8),
        ST(B, 10, -8, 0),
        LDX(B, 0, 10, -7),
        EXIT(),
    };
    /* A spilled scalar keeps its bounds. */
    struct bpf_inst bounds[] = {
        LEN_AT_LEAST(20),
        MOV64_IMM(3, 19),
        STX(DW, 10, 3, -16),
        LDX(DW, 4, 10, -16),
        ALU64_REG(BPF_ALU_ADD, 1, 4),
        LDX(B, 0, 1, 0),
        EXIT(),
    };

    ACCEPT(fill);
    REJECT(partial_spill, EACCES, "insn 0: r1: partial or unaligned spill "
           "of a pointer");
    REJECT(partial_fill, EACCES, "insn 1: r10:", "spilled pointer");
    REJECT(scrubbed, EACCES, "insn 2: r10: stack read of uninitialised "
           "byte at fp-7");
    ACCEPT(bounds);
}

/* ---------------------------------------------------------------------
 * Pointers.
 * ------------------------------------------------------------------- */

static void
test_pointer_leak_r0(void)
{
    struct bpf_inst pkt[] = {
        MOV64_REG(0, 1),
        EXIT(),
    };
    struct bpf_inst stack[] = {
        MOV64_REG(0, 10),
        ALU64_IMM(BPF_ALU_ADD, 0, -8),
        EXIT(),
    };

    REJECT(pkt, EACCES, "insn 1: r0: pointer leaked in return value");
    REJECT(stack, EACCES, "insn 2: r0: pointer leaked in return value");
}

static void
test_pointer_arith(void)
{
    struct bpf_inst mul[] = {
        ALU64_IMM(BPF_ALU_MUL, 1, 2),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst alu32[] = {
        ALU32_IMM(BPF_ALU_ADD, 1, 1),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst mov32[] = {
        ALU32_REG(BPF_ALU_MOV, 0, 1),
        EXIT(),
    };
    struct bpf_inst ptr_plus_ptr[] = {
        ALU64_REG(BPF_ALU_ADD, 1, 10),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst scalar_minus_ptr[] = {
        MOV64_IMM(3, 5),
        ALU64_REG(BPF_ALU_SUB, 3, 1),
        MOV64_REG(0, 3),
        EXIT(),
    };
    struct bpf_inst neg[] = {
        ALU64_IMM(BPF_ALU_NEG, 1, 0),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* Subtracting two packet pointers gives a scalar: fine to return. */
    struct bpf_inst diff[] = {
        MOV64_REG(3, 1),
        ALU64_IMM(BPF_ALU_ADD, 3, 4),
        ALU64_REG(BPF_ALU_SUB, 3, 1),
        MOV64_REG(0, 3),
        EXIT(),
    };

    REJECT(mul, EACCES, "insn 0: r1: pointer arithmetic other than");
    REJECT(alu32, EACCES, "insn 0: r1: 32-bit ALU on a pointer");
    REJECT(mov32, EACCES, "insn 0: r1: 32-bit move of a pointer");
    REJECT(ptr_plus_ptr, EACCES, "insn 0: r1: arithmetic on two pointers");
    REJECT(scalar_minus_ptr, EACCES, "insn 1: r1: pointer arithmetic");
    REJECT(neg, EACCES, "insn 0: r1: negation on a pointer");
    ACCEPT(diff);
}

static void
test_pointer_compare(void)
{
    struct bpf_inst with_const[] = {
        JMP_IMM(BPF_JMP_JGT, 1, 5, 0),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst with_scalar[] = {
        MOV64_IMM(3, 7),
        JMP_REG(BPF_JMP_JEQ, 3, 10, 0),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst jmp32[] = {
        MOV64_REG(3, 1),
        ALU64_REG(BPF_ALU_ADD, 3, 2),
        JMP32_REG(BPF_JMP_JGT, 1, 3, 0),
        MOV64_IMM(0, 0),
        EXIT(),
    };

    REJECT(with_const, EACCES, "insn 0: r1: comparison of a packet pointer "
           "with a scalar");
    REJECT(with_scalar, EACCES, "insn 1: r10: comparison of a stack "
           "pointer with a scalar");
    REJECT(jmp32, EACCES, "insn 2: r1: 32-bit comparison of a pointer");
}

/* ---------------------------------------------------------------------
 * Maps and helpers.
 * ------------------------------------------------------------------- */

/* key = 0 at fp-4; r0 = lookup(map, &key) */
#define LOOKUP_KEY0                                                       \
    ST(W, 10, -4, 0),                                                     \
    LDDW(1, BPF_PSEUDO_MAP_IDX, 0),                                       \
    MOV64_REG(2, 10),                                                     \
    ALU64_IMM(BPF_ALU_ADD, 2, -4),                                        \
    CALL(BPF_HELPER_MAP_LOOKUP)

static void
test_map_null(void)
{
    struct bpf_inst no_check[] = {
        LOOKUP_KEY0,
        LDX(DW, 0, 0, 0),
        EXIT(),
    };
    struct bpf_inst checked[] = {
        LOOKUP_KEY0,
        JMP_IMM(BPF_JMP_JEQ, 0, 0, 2),
        LDX(DW, 0, 0, 0),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* Dereference on the NULL side of the check. */
    struct bpf_inst wrong_side[] = {
        LOOKUP_KEY0,
        JMP_IMM(BPF_JMP_JNE, 0, 0, 2),
        LDX(DW, 0, 0, 0),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* The check of one lookup does not cover another. */
    struct bpf_inst other_lookup[] = {
        LOOKUP_KEY0,
        MOV64_REG(6, 0),
        LOOKUP_KEY0,
        JMP_IMM(BPF_JMP_JEQ, 0, 0, 2),
        LDX(DW, 0, 6, 0),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* A check of a copy covers the original. */
    struct bpf_inst copy[] = {
        LOOKUP_KEY0,
        MOV64_REG(6, 0),
        JMP_IMM(BPF_JMP_JEQ, 6, 0, 2),
        LDX(DW, 0, 0, 0),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* Arithmetic before the check. */
    struct bpf_inst arith[] = {
        LOOKUP_KEY0,
        ALU64_IMM(BPF_ALU_ADD, 0, 4),
        MOV64_IMM(0, 0),
        EXIT(),
    };

    REJECT_PROG(MAPPED(no_check), EACCES, "insn 6: r0: possible NULL map "
                "value dereference");
    ACCEPT_PROG(MAPPED(checked));
    REJECT_PROG(MAPPED(wrong_side), EACCES, "insn 7: r0: memory access "
                "through a scalar");
    REJECT_PROG(MAPPED(other_lookup), EACCES, "insn 14: r6: possible NULL "
                "map value dereference");
    ACCEPT_PROG(MAPPED(copy));
    REJECT_PROG(MAPPED(arith), EACCES, "insn 6: r0: arithmetic on a "
                "possibly-NULL map value pointer");
}

static void
test_map_value_bounds(void)
{
    struct bpf_inst oob[] = {
        LOOKUP_KEY0,
        JMP_IMM(BPF_JMP_JEQ, 0, 0, 2),
        LDX(DW, 0, 0, 4),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst neg[] = {
        LOOKUP_KEY0,
        JMP_IMM(BPF_JMP_JEQ, 0, 0, 3),
        ST(B, 0, -1, 1),
        MOV64_IMM(0, 0),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst atomic_ok[] = {
        LOOKUP_KEY0,
        JMP_IMM(BPF_JMP_JEQ, 0, 0, 2),
        MOV64_IMM(1, 1),
        ATOMIC(DW, 0, 1, 0, BPF_ATOMIC_ADD),
        MOV64_IMM(0, 0),
        EXIT(),
    };

    REJECT_PROG(MAPPED(oob), EACCES, "insn 7: r0: map value read of 8 bytes "
                "at offset 4 outside its 8 bytes");
    REJECT_PROG(MAPPED(neg), EACCES, "insn 7: r0: map value write of 1 bytes "
                "at offset -1");
    ACCEPT_PROG(MAPPED(atomic_ok));
}

static void
test_map_pointer_leaks(void)
{
    /* A pointer stored into a map value. */
    struct bpf_inst store[] = {
        LOOKUP_KEY0,
        JMP_IMM(BPF_JMP_JEQ, 0, 0, 1),
        STX(DW, 0, 10, 0),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* A pointer handed to oko_map_update as the value (spilled to the
     * stack first). */
    struct bpf_inst update[] = {
        ST(W, 10, -4, 0),
        STX(DW, 10, 1, -16),
        LDDW(1, BPF_PSEUDO_MAP_IDX, 0),
        MOV64_REG(2, 10),
        ALU64_IMM(BPF_ALU_ADD, 2, -4),
        MOV64_REG(3, 10),
        ALU64_IMM(BPF_ALU_ADD, 3, -16),
        CALL(BPF_HELPER_MAP_UPDATE),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* An atomic operation storing a pointer. */
    struct bpf_inst atomic[] = {
        LOOKUP_KEY0,
        MOV64_REG(6, 10),
        JMP_IMM(BPF_JMP_JEQ, 0, 0, 1),
        ATOMIC(DW, 0, 6, 0, BPF_ATOMIC_XCHG),
        MOV64_IMM(0, 0),
        EXIT(),
    };

    REJECT_PROG(MAPPED(store), EACCES, "insn 7: r10: pointer leaked into a "
                "map value");
    REJECT_PROG(MAPPED(update), EACCES, "insn 8: r3: map value",
                "spilled pointer");
    REJECT_PROG(MAPPED(atomic), EACCES, "insn 8: r6: pointer leaked "
                "through an atomic operation");
}

static void
test_helper_args(void)
{
    struct bpf_inst key_uninit[] = {
        LDDW(1, BPF_PSEUDO_MAP_IDX, 0),
        MOV64_REG(2, 10),
        ALU64_IMM(BPF_ALU_ADD, 2, -4),
        CALL(BPF_HELPER_MAP_LOOKUP),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst scalar_map[] = {
        ST(W, 10, -4, 0),
        MOV64_IMM(1, 0),
        MOV64_REG(2, 10),
        ALU64_IMM(BPF_ALU_ADD, 2, -4),
        CALL(BPF_HELPER_MAP_LOOKUP),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst pkt_as_map[] = {
        ST(W, 10, -4, 0),
        MOV64_REG(2, 10),
        ALU64_IMM(BPF_ALU_ADD, 2, -4),
        CALL(BPF_HELPER_MAP_LOOKUP),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* Key partly outside the stack. */
    struct bpf_inst key_oob[] = {
        LDDW(1, BPF_PSEUDO_MAP_IDX, 0),
        MOV64_REG(2, 10),
        ALU64_IMM(BPF_ALU_ADD, 2, -2),
        CALL(BPF_HELPER_MAP_LOOKUP),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* Key in the packet, proven long enough. */
    struct bpf_inst key_pkt[] = {
        LEN_AT_LEAST(4),
        MOV64_REG(2, 1),
        LDDW(1, BPF_PSEUDO_MAP_IDX, 0),
        CALL(BPF_HELPER_MAP_LOOKUP),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* oko_hash(fp - 8, 16): larger than what is there. */
    struct bpf_inst hash_too_big[] = {
        ST(DW, 10, -8, 0),
        MOV64_REG(1, 10),
        ALU64_IMM(BPF_ALU_ADD, 1, -8),
        MOV64_IMM(2, 16),
        CALL(BPF_HELPER_HASH),
        EXIT(),
    };
    /* oko_hash(fp - 16, 16) with 8 bytes initialised. */
    struct bpf_inst hash_uninit[] = {
        ST(DW, 10, -8, 0),
        MOV64_REG(1, 10),
        ALU64_IMM(BPF_ALU_ADD, 1, -16),
        MOV64_IMM(2, 16),
        CALL(BPF_HELPER_HASH),
        EXIT(),
    };
    /* Pointer as the size of oko_hash. */
    struct bpf_inst hash_ptr_size[] = {
        ST(DW, 10, -8, 0),
        MOV64_REG(1, 10),
        ALU64_IMM(BPF_ALU_ADD, 1, -8),
        MOV64_REG(2, 1),
        CALL(BPF_HELPER_HASH),
        EXIT(),
    };
    /* Hash over the packet with a variable size proven by len. */
    struct bpf_inst hash_pkt[] = {
        LEN_AT_LEAST(16),
        LDX(B, 2, 1, 0),
        ALU64_IMM(BPF_ALU_AND, 2, 15),
        CALL(BPF_HELPER_HASH),
        EXIT(),
    };
    struct bpf_inst hash_pkt_bad[] = {
        LEN_AT_LEAST(15),
        LDX(B, 2, 1, 0),
        ALU64_IMM(BPF_ALU_AND, 2, 31),
        CALL(BPF_HELPER_HASH),
        EXIT(),
    };
    /* Helper calls clobber r1-r5. */
    struct bpf_inst clobber[] = {
        CALL(BPF_HELPER_TIME_GET_NS),
        MOV64_REG(0, 3),
        EXIT(),
    };
    struct bpf_inst unknown_helper[] = {
        CALL(99),
        EXIT(),
    };

    REJECT_PROG(MAPPED(key_uninit), EACCES, "insn 4: r2: map key: stack read "
                "of uninitialised byte at fp-4");
    REJECT_PROG(MAPPED(scalar_map), EACCES, "insn 4: r1: oko_map_lookup "
                "expects a map, got a scalar");
    REJECT_PROG(MAPPED(pkt_as_map), EACCES, "insn 3: r1: oko_map_lookup "
                "expects a map, got a packet pointer");
    REJECT_PROG(MAPPED(key_oob), EACCES, "insn 4: r2: map key of 4 bytes at "
                "fp-2 outside the stack");
    ACCEPT_PROG(MAPPED(key_pkt));
    REJECT(hash_too_big, EACCES, "insn 4: r1: memory argument of 16 bytes "
           "at fp-8 outside the stack");
    REJECT(hash_uninit, EACCES, "insn 4: r1: memory argument: stack read "
           "of uninitialised byte at fp-16");
    REJECT(hash_ptr_size, EACCES, "insn 4: r2: size argument is a pointer");
    ACCEPT(hash_pkt);
    REJECT(hash_pkt_bad, EACCES, "insn 5: r1: packet memory argument");
    REJECT(clobber, EACCES, "insn 1: r3: read of uninitialised register");
    REJECT(unknown_helper, EINVAL, "insn 0: call to unknown helper 99");
}

static void
test_rodata(void)
{
    static const char ro[] = "x=%d\0noterm";
    struct bpf_inst printf_ok[] = {
        LDDW(1, BPF_PSEUDO_RODATA, 0),
        MOV64_IMM(2, 42),
        CALL(BPF_HELPER_PRINTF),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* The format uses one argument; r2 is not set. */
    struct bpf_inst printf_missing[] = {
        CALL(BPF_HELPER_TIME_GET_NS),
        LDDW(1, BPF_PSEUDO_RODATA, 0),
        CALL(BPF_HELPER_PRINTF),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst printf_ptr[] = {
        LDDW(1, BPF_PSEUDO_RODATA, 0),
        MOV64_REG(2, 10),
        CALL(BPF_HELPER_PRINTF),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst no_nul[] = {
        LDDW(1, BPF_PSEUDO_RODATA, 5),
        CALL(BPF_HELPER_PRINTF),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst write[] = {
        LDDW(1, BPF_PSEUDO_RODATA, 0),
        ST(B, 1, 0, 0),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst read_ok[] = {
        LDDW(1, BPF_PSEUDO_RODATA, 0),
        LDX(W, 0, 1, 7),
        EXIT(),
    };
    struct bpf_inst read_oob[] = {
        LDDW(1, BPF_PSEUDO_RODATA, 0),
        LDX(W, 0, 1, 9),
        EXIT(),
    };
    size_t len = sizeof ro - 1;     /* "noterm" has no NUL in the data */

    ACCEPT_PROG(make_prog(printf_ok, ARRAY_SIZE(printf_ok), NULL, 0, ro,
                          len));
    REJECT_PROG(make_prog(printf_missing, ARRAY_SIZE(printf_missing), NULL, 0,
                          ro, len), EACCES, "insn 3: r2: read of "
                "uninitialised register");
    REJECT_PROG(make_prog(printf_ptr, ARRAY_SIZE(printf_ptr), NULL, 0, ro,
                          len), EACCES, "insn 3: r2: pointer leaked to "
                "helper oko_printf");
    REJECT_PROG(make_prog(no_nul, ARRAY_SIZE(no_nul), NULL, 0, ro, len),
                EACCES, "insn 2: r1: string not NUL-terminated");
    REJECT_PROG(make_prog(write, ARRAY_SIZE(write), NULL, 0, ro, len),
                EACCES, "insn 2: r1: write to read-only data");
    ACCEPT_PROG(make_prog(read_ok, ARRAY_SIZE(read_ok), NULL, 0, ro, len));
    REJECT_PROG(make_prog(read_oob, ARRAY_SIZE(read_oob), NULL, 0, ro, len),
                EACCES, "insn 2: r1: read-only data read of 4 bytes at "
                "offset 9 outside its 11 bytes");
}

static void
test_atomics(void)
{
    struct bpf_inst on_pkt[] = {
        LEN_AT_LEAST(8),
        MOV64_IMM(3, 1),
        ATOMIC(DW, 1, 3, 0, BPF_ATOMIC_ADD),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst on_stack[] = {
        ST(DW, 10, -8, 0),
        MOV64_IMM(3, 1),
        ATOMIC(DW, 10, 3, -8, BPF_ATOMIC_ADD | BPF_ATOMIC_FETCH),
        MOV64_REG(0, 3),
        EXIT(),
    };
    struct bpf_inst on_uninit_stack[] = {
        MOV64_IMM(3, 1),
        ATOMIC(W, 10, 3, -8, BPF_ATOMIC_ADD),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst cmpxchg_no_r0[] = {
        ST(DW, 10, -8, 0),
        MOV64_IMM(3, 1),
        ATOMIC(DW, 10, 3, -8, BPF_ATOMIC_CMPXCHG),
        EXIT(),
    };

    REJECT(on_pkt, EACCES, "insn 4: r1: atomic operation on packet pointer");
    ACCEPT(on_stack);
    REJECT(on_uninit_stack, EACCES, "insn 1: r10: stack read of "
           "uninitialised byte at fp-8");
    /* Atomics must be naturally aligned: the checked VM (and CPUs other
     * than x86) fault on a misaligned one. */
    struct bpf_inst misaligned[] = {
        ST(DW, 10, -16, 0),
        ST(DW, 10, -8, 0),
        MOV64_IMM(3, 1),
        ATOMIC(DW, 10, 3, -12, BPF_ATOMIC_ADD),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst aligned_w[] = {
        ST(DW, 10, -8, 0),
        MOV64_IMM(3, 1),
        ATOMIC(W, 10, 3, -4, BPF_ATOMIC_XOR),
        MOV64_IMM(0, 0),
        EXIT(),
    };

    REJECT(cmpxchg_no_r0, EACCES, "insn 2: r0: read of uninitialised "
           "register");
    REJECT(misaligned, EACCES, "insn 3: r10: misaligned atomic operation "
           "of 8 bytes at offset -12");
    ACCEPT(aligned_w);
}

/* ---------------------------------------------------------------------
 * Control flow and malformed programs.
 * ------------------------------------------------------------------- */

static void
test_malformed(void)
{
    struct bpf_inst bad_opcode[] = {
        INSN(0xff, 0, 0, 0, 0),
        EXIT(),
    };
    struct bpf_inst r10_write[] = {
        MOV64_IMM(10, 0),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst bad_reg[] = {
        MOV64_IMM(11, 0),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst reserved[] = {
        INSN(BPF_CLS_ALU64 | BPF_ALU_ADD, 0, 0, 3, 1),
        EXIT(),
    };
    struct bpf_inst jump_out[] = {
        JA(100),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst jump_before[] = {
        MOV64_IMM(0, 0),
        JMP_IMM(BPF_JMP_JEQ, 0, 0, -3),
        EXIT(),
    };
    struct bpf_inst split_lddw[] = {
        JA(1),
        LDDW(0, 0, 1),
        EXIT(),
    };
    struct bpf_inst truncated_lddw[] = {
        MOV64_IMM(0, 0),
        EXIT(),
        INSN(BPF_CLS_LD | BPF_MODE_IMM | BPF_SIZE_DW, 0, 0, 0, 1),
    };
    struct bpf_inst fall_off[] = {
        MOV64_IMM(0, 0),
    };
    struct bpf_inst fall_off_branch[] = {
        MOV64_IMM(0, 0),
        JMP_IMM(BPF_JMP_JEQ, 2, 0, 1),
        EXIT(),
        MOV64_IMM(0, 1),
    };
    struct bpf_inst map_in_raw[] = {
        LDDW(1, BPF_PSEUDO_MAP_IDX, 0),
        MOV64_IMM(0, 0),
        EXIT(),
    };

    REJECT(bad_opcode, EINVAL, "insn 0: unknown opcode 0xff");
    REJECT(r10_write, EINVAL, "insn 0: r10: write to the frame pointer");
    REJECT(bad_reg, EINVAL, "insn 0: bad register r11");
    REJECT(reserved, EINVAL, "insn 0: reserved field off = 3 in use");
    REJECT(jump_out, EINVAL, "insn 0: jump to 101 out of range");
    REJECT(jump_before, EINVAL, "insn 1: jump to -1 out of range");
    REJECT(split_lddw, EINVAL, "insn 0: jump to 2 splits an lddw");
    REJECT(truncated_lddw, EINVAL, "insn 2: lddw is missing its second "
           "half");
    REJECT(fall_off, EINVAL, "insn 0: falls off the end");
    REJECT(fall_off_branch, EINVAL, "insn 3: falls off the end");
    REJECT(map_in_raw, EINVAL, "insn 0: r1: lddw of unknown map 0");
}

static void
test_division_by_zero(void)
{
    struct bpf_inst p[] = {
        MOV64_IMM(0, 5),
        MOV64_IMM(3, 0),
        ALU64_REG(BPF_ALU_DIV, 0, 3),
        ALU64_IMM(BPF_ALU_MOD, 0, 0),
        ALU32_REG(BPF_ALU_DIV, 0, 3),
        ALU32_REG(BPF_ALU_MOD, 0, 3),
        EXIT(),
    };

    ACCEPT(p);
}

static void
test_unbounded_loops(void)
{
    struct bpf_inst self[] = {
        JA(-1),
        EXIT(),
    };
    struct bpf_inst no_progress[] = {
        MOV64_IMM(0, 0),
        JMP_IMM(BPF_JMP_JGT, 0, 5, 1),
        JA(-2),
        EXIT(),
    };
    /* The counter moves, but away from the exit. */
    struct bpf_inst wrong_way[] = {
        MOV64_IMM(0, 0),
        JMP_IMM(BPF_JMP_JEQ, 0, 5, 2),
        ALU64_IMM(BPF_ALU_AND, 0, 3),
        JA(-3),
        EXIT(),
    };
    /* Counter bounded only by 2^32: the budget stops it. */
    struct bpf_inst long_loop[] = {
        MOV64_IMM(0, 0),
        ALU64_IMM(BPF_ALU_ADD, 0, 1),
        JMP_IMM(BPF_JMP_JLT, 0, 0x7fffffff, -2),
        EXIT(),
    };
    struct bpf_prog *prog;
    int ret;

    REJECT(self, EACCES, "insn 0: unbounded loop");
    REJECT(no_progress, EACCES, "insn 1: unbounded loop");
    REJECT(wrong_way, EACCES, "unbounded loop");
    prog = RAW(long_loop);
    ret = verify_prog(prog, BPF_VERIFY_FILTER, 10000);
    CU_ASSERT_EQUAL(ret, -E2BIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(errbuf, "program too complex"));
    CU_ASSERT_TRUE(vstats.insns_processed >= 10000);
    bpf_prog_free(prog);
}

static void
test_bounded_loop(void)
{
    /* for (i = 0; i < 16; i++) sum += pkt[i]; with len >= 16. */
    struct bpf_inst p[] = {
        LEN_AT_LEAST(16),
        MOV64_IMM(0, 0),
        MOV64_IMM(3, 0),
        MOV64_REG(4, 1),
        ALU64_REG(BPF_ALU_ADD, 4, 3),
        LDX(B, 5, 4, 0),
        ALU64_REG(BPF_ALU_ADD, 0, 5),
        ALU64_IMM(BPF_ALU_ADD, 3, 1),
        JMP_IMM(BPF_JMP_JLT, 3, 16, -6),
        EXIT(),
    };
    /* The same loop one byte too far. */
    struct bpf_inst bad[] = {
        LEN_AT_LEAST(16),
        MOV64_IMM(0, 0),
        MOV64_IMM(3, 0),
        MOV64_REG(4, 1),
        ALU64_REG(BPF_ALU_ADD, 4, 3),
        LDX(B, 5, 4, 0),
        ALU64_REG(BPF_ALU_ADD, 0, 5),
        ALU64_IMM(BPF_ALU_ADD, 3, 1),
        JMP_IMM(BPF_JMP_JLE, 3, 16, -6),
        EXIT(),
    };
    struct bpf_prog *prog = RAW(p);

    CU_ASSERT_EQUAL(verify_prog(prog, BPF_VERIFY_FILTER, 0), 0);
    CU_ASSERT_TRUE(vstats.loops >= 1);
    CU_ASSERT_TRUE(vstats.insns_processed > 16 * 6);
    bpf_prog_free(prog);
    REJECT(bad, EACCES, "insn 7: r4: packet read of 1 bytes at offset 16 "
           "beyond proven length 16");
}

static void
test_diamonds(void)
{
    /* 30 diamonds in a row: r4 = pkt[i] > 100 ? 1 : 2, each overwriting
     * the last; r0 = r4 & 1 at the end.  Without pruning: 2^30 paths. */
    struct bpf_inst p[3 + 30 * 5 + 3];
    struct bpf_prog *prog;
    struct timespec t0, t1;
    size_t n = 0;
    int i;

    p[n++] = JMP_IMM(BPF_JMP_JGE, 2, 30, 2);
    p[n++] = MOV64_IMM(0, 0);
    p[n++] = EXIT();
    for (i = 0; i < 30; i++) {
        p[n++] = LDX(B, 3, 1, i);
        p[n++] = JMP_IMM(BPF_JMP_JGT, 3, 100, 2);
        p[n++] = MOV64_IMM(4, 1);
        p[n++] = JA(1);
        p[n++] = MOV64_IMM(4, 2);
    }
    p[n++] = MOV64_REG(0, 4);
    p[n++] = ALU64_IMM(BPF_ALU_AND, 0, 1);
    p[n++] = EXIT();
    CU_ASSERT_EQUAL_FATAL(n, ARRAY_SIZE(p));
    prog = RAW(p);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CU_ASSERT_EQUAL(verify_prog(prog, BPF_VERIFY_FILTER, 0), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CU_ASSERT_TRUE(vstats.states_pruned > 0);
    CU_ASSERT_TRUE(vstats.insns_processed < 5000);
    CU_ASSERT_TRUE((t1.tv_sec - t0.tv_sec) * 1000000000ll
                   + (t1.tv_nsec - t0.tv_nsec) < 2000000000ll);
    bpf_prog_free(prog);
}

static void
test_precision(void)
{
    /* r4 = pkt[0] > 10 ? 100 : 5; at the join r4 does not matter yet, but
     * "if r4 == 5" then decides whether the out-of-bounds read runs: the
     * second path must not be pruned by the first. */
    struct bpf_inst reg[] = {
        LEN_AT_LEAST(1),
        LDX(B, 3, 1, 0),
        JMP_IMM(BPF_JMP_JGT, 3, 10, 2),
        MOV64_IMM(4, 5),
        JA(1),
        MOV64_IMM(4, 100),
        JMP_IMM(BPF_JMP_JEQ, 4, 5, 2),
        LDX(B, 0, 1, 20),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* The same through a stack spill and fill. */
    struct bpf_inst spill[] = {
        LEN_AT_LEAST(1),
        LDX(B, 3, 1, 0),
        JMP_IMM(BPF_JMP_JGT, 3, 10, 2),
        MOV64_IMM(4, 5),
        JA(1),
        MOV64_IMM(4, 100),
        STX(DW, 10, 4, -8),
        MOV64_IMM(4, 0),
        LDX(DW, 5, 10, -8),
        JMP_IMM(BPF_JMP_JEQ, 5, 5, 2),
        LDX(B, 0, 1, 20),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* The same with the value used as a packet offset. */
    struct bpf_inst offset[] = {
        LEN_AT_LEAST(8),
        LDX(B, 3, 1, 0),
        JMP_IMM(BPF_JMP_JGT, 3, 10, 2),
        MOV64_IMM(4, 5),
        JA(1),
        MOV64_IMM(4, 100),
        ALU64_REG(BPF_ALU_ADD, 1, 4),
        LDX(B, 0, 1, 0),
        EXIT(),
    };

    REJECT(reg, EACCES, "insn 9: r1: packet read of 1 bytes at offset 20");
    REJECT(spill, EACCES, "insn 12: r1: packet read of 1 bytes at offset "
           "20");
    REJECT(offset, EACCES, "insn 9: r1: packet read of 1 bytes at offset "
           "100");
}

static void
test_bpf2bpf(void)
{
    struct bpf_inst good[] = {
        MOV64_IMM(1, 5),
        CALL_LOCAL(1),
        EXIT(),
        MOV64_REG(0, 1),
        EXIT(),
    };
    /* r6 of the caller is not visible in the callee. */
    struct bpf_inst callee_r6[] = {
        MOV64_IMM(6, 1),
        CALL_LOCAL(1),
        EXIT(),
        MOV64_REG(0, 6),
        EXIT(),
    };
    /* r6 is preserved across the call. */
    struct bpf_inst saved_r6[] = {
        MOV64_IMM(6, 1),
        CALL_LOCAL(2),
        MOV64_REG(0, 6),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* Returning a pointer to the callee's own stack. */
    struct bpf_inst dangling[] = {
        CALL_LOCAL(1),
        EXIT(),
        MOV64_REG(0, 10),
        EXIT(),
    };
    /* The callee reads the packet: the caller's length check counts. */
    struct bpf_inst pkt_callee[] = {
        LEN_AT_LEAST(14),
        CALL_LOCAL(1),
        EXIT(),
        LDX(H, 0, 1, 12),
        EXIT(),
    };
    struct bpf_inst recursion[] = {
        CALL_LOCAL(-1),
        EXIT(),
    };
    struct bpf_inst bad_target[] = {
        CALL_LOCAL(10),
        EXIT(),
    };
    /* A pointer to the caller's stack, written by the callee. */
    struct bpf_inst caller_stack[] = {
        MOV64_REG(1, 10),
        ALU64_IMM(BPF_ALU_ADD, 1, -8),
        CALL_LOCAL(2),
        LDX(DW, 0, 10, -8),
        EXIT(),
        ST(DW, 1, 0, 7),
        MOV64_IMM(0, 0),
        EXIT(),
    };

    ACCEPT(good);
    REJECT(callee_r6, EACCES, "insn 3: r6: read of uninitialised register");
    ACCEPT(saved_r6);
    REJECT(dangling, EACCES, "insn 3: r0: pointer to the returning "
           "function's stack");
    ACCEPT(pkt_callee);
    REJECT(recursion, EINVAL, "insn 0: recursive call");
    REJECT(bad_target, EINVAL, "insn 0: call to 11 out of range");
    ACCEPT(caller_stack);
}

/* ---------------------------------------------------------------------
 * Regressions: programs the verifier once accepted and that read out of
 * bounds at run time.
 * ------------------------------------------------------------------- */

static void
test_map_value_minus_map_value(void)
{
    /* Two lookups of one array map return two different values: their
     * difference was taken for the constant difference of the offsets
     * (0), so v0 + (v1 - v0) * 10^6 was "v0 + 0". */
    static const struct bpf_map_def arr = { BPF_MAP_ARRAY, 4, 8, 2, 0 };
    struct bpf_inst p[] = {
        ST(W, 10, -4, 0),
        LDDW(1, BPF_PSEUDO_MAP_IDX, 0),
        MOV64_REG(2, 10),
        ALU64_IMM(BPF_ALU_ADD, 2, -4),
        CALL(BPF_HELPER_MAP_LOOKUP),
        JMP_IMM(BPF_JMP_JEQ, 0, 0, 13),
        MOV64_REG(6, 0),
        ST(W, 10, -8, 1),
        LDDW(1, BPF_PSEUDO_MAP_IDX, 0),
        MOV64_REG(2, 10),
        ALU64_IMM(BPF_ALU_ADD, 2, -8),
        CALL(BPF_HELPER_MAP_LOOKUP),
        JMP_IMM(BPF_JMP_JEQ, 0, 0, 5),
        ALU64_REG(BPF_ALU_SUB, 0, 6),       /* 15: value - value */
        ALU64_IMM(BPF_ALU_MUL, 0, 1000000),
        ALU64_REG(BPF_ALU_ADD, 6, 0),
        LDX(DW, 0, 6, 0),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* Offsets inside one stack frame still subtract to a constant. */
    struct bpf_inst stack[] = {
        MOV64_REG(3, 10),
        ALU64_IMM(BPF_ALU_ADD, 3, -16),
        MOV64_REG(4, 10),
        ALU64_IMM(BPF_ALU_ADD, 4, -8),
        ALU64_REG(BPF_ALU_SUB, 4, 3),       /* 8 */
        MOV64_REG(5, 10),
        ALU64_IMM(BPF_ALU_ADD, 5, -16),
        ALU64_REG(BPF_ALU_ADD, 5, 4),
        ST(DW, 5, 0, 1),
        LDX(DW, 0, 10, -8),
        EXIT(),
    };

    REJECT_PROG(make_prog(p, ARRAY_SIZE(p), &arr, 1, NULL, 0), EACCES,
                "insn 15: r0: arithmetic on two pointers");
    ACCEPT(stack);
}

static void
test_null_check_register_precision(void)
{
    /* r6 = time; if r6 == 0 (it is) r6 = 0; then "if r0 == r6" is a NULL
     * check only on the path where r6 is 0.  The first path stored r6 = 0
     * imprecisely at insn 4; the second path (r6 = time, non-zero) was
     * pruned there, and read through NULL when the lookup failed. */
    struct bpf_inst p[] = {
        CALL(BPF_HELPER_TIME_GET_NS),
        MOV64_REG(6, 0),
        JMP_IMM(BPF_JMP_JNE, 0, 0, 1),
        MOV64_IMM(6, 0),
        ST(W, 10, -4, 0),                   /* 4: the join */
        LDDW(1, BPF_PSEUDO_MAP_IDX, 0),
        MOV64_REG(2, 10),
        ALU64_IMM(BPF_ALU_ADD, 2, -4),
        CALL(BPF_HELPER_MAP_LOOKUP),
        JMP_REG(BPF_JMP_JEQ, 0, 6, 1),      /* 10 */
        LDX(DW, 0, 0, 0),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* With 0 in r6 on both paths the register form is a NULL check. */
    struct bpf_inst good[] = {
        CALL(BPF_HELPER_TIME_GET_NS),
        MOV64_IMM(6, 0),
        JMP_IMM(BPF_JMP_JNE, 0, 0, 1),
        MOV64_IMM(6, 0),
        ST(W, 10, -4, 0),
        LDDW(1, BPF_PSEUDO_MAP_IDX, 0),
        MOV64_REG(2, 10),
        ALU64_IMM(BPF_ALU_ADD, 2, -4),
        CALL(BPF_HELPER_MAP_LOOKUP),
        JMP_REG(BPF_JMP_JEQ, 6, 0, 1),
        LDX(DW, 0, 0, 0),
        MOV64_IMM(0, 0),
        EXIT(),
    };

    REJECT_PROG(MAPPED(p), EACCES, "insn 10: r0: comparison of a "
                "possibly-NULL map value pointer with a scalar");
    ACCEPT_PROG(MAPPED(good));
}

static void
test_linked_scalar_precision(void)
{
    /* r7 = r6 + 1 (linked).  Path A: r7 <= 4, which says nothing of r6
     * (r6 = -1 wraps); path B: r7 <= 100.  At the join (insn 14) the
     * check "r7 != 0" gives r6 in [0, 3] through the link, and r6 indexes
     * the packet.  Backtracking from r6 did not mark r7, whose bounds
     * decided r6's, so path B (r6 up to 99) was pruned at the join. */
    struct bpf_inst p[] = {
        LEN_AT_LEAST(4),
        MOV64_REG(9, 1),
        LDX(B, 6, 9, 0),
        ALU64_IMM(BPF_ALU_MUL, 6, 3),
        ALU64_IMM(BPF_ALU_ADD, 6, -1),
        MOV64_REG(7, 6),
        ALU64_IMM(BPF_ALU_ADD, 7, 1),
        LDX(B, 0, 9, 1),
        JMP_IMM(BPF_JMP_JNE, 0, 0, 2),
        JMP_IMM(BPF_JMP_JGT, 7, 4, 6),
        JA(1),
        JMP_IMM(BPF_JMP_JGT, 7, 100, 4),
        JMP_IMM(BPF_JMP_JEQ, 7, 0, 3),      /* 14: the join */
        MOV64_REG(1, 9),
        ALU64_REG(BPF_ALU_ADD, 1, 6),
        LDX(B, 0, 1, 0),                    /* 17 */
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* The same with the linked copy of r6 kept in a stack slot. */
    struct bpf_inst spilled[] = {
        LEN_AT_LEAST(4),
        MOV64_REG(9, 1),
        LDX(B, 6, 9, 0),
        ALU64_IMM(BPF_ALU_MUL, 6, 3),
        ALU64_IMM(BPF_ALU_ADD, 6, -1),
        MOV64_REG(7, 6),
        STX(DW, 10, 6, -8),
        MOV64_IMM(6, 0),
        ALU64_IMM(BPF_ALU_ADD, 7, 1),
        LDX(B, 0, 9, 1),
        JMP_IMM(BPF_JMP_JNE, 0, 0, 2),
        JMP_IMM(BPF_JMP_JGT, 7, 4, 7),
        JA(1),
        JMP_IMM(BPF_JMP_JGT, 7, 100, 5),
        JMP_IMM(BPF_JMP_JEQ, 7, 0, 4),      /* 16: the join */
        LDX(DW, 6, 10, -8),
        MOV64_REG(1, 9),
        ALU64_REG(BPF_ALU_ADD, 1, 6),
        LDX(B, 0, 1, 0),                    /* 20 */
        MOV64_IMM(0, 0),
        EXIT(),
    };

    /* The bound is a register (4 on the first path, 100 on the second):
     * it must be marked too. */
    struct bpf_inst bound_reg[] = {
        LEN_AT_LEAST(4),
        MOV64_REG(9, 1),
        LDX(B, 6, 9, 0),
        ALU64_IMM(BPF_ALU_MUL, 6, 3),
        ALU64_IMM(BPF_ALU_ADD, 6, -1),
        MOV64_REG(7, 6),
        ALU64_IMM(BPF_ALU_ADD, 7, 1),
        JMP_IMM(BPF_JMP_JEQ, 7, 0, 8),
        LDX(B, 0, 9, 1),
        MOV64_IMM(8, 100),
        JMP_IMM(BPF_JMP_JNE, 0, 0, 1),
        MOV64_IMM(8, 4),
        JMP_REG(BPF_JMP_JGT, 7, 8, 3),      /* 14: the join */
        MOV64_REG(1, 9),
        ALU64_REG(BPF_ALU_ADD, 1, 6),
        LDX(B, 0, 1, 0),                    /* 17 */
        MOV64_IMM(0, 0),
        EXIT(),
    };

    REJECT(p, EACCES, "insn 17: r1: packet read of 1 bytes at variable "
           "offset");
    REJECT(bound_reg, EACCES, "insn 17: r1: packet read of 1 bytes at "
           "variable offset");
    REJECT(spilled, EACCES, "insn 20: r1: packet read of 1 bytes at "
           "variable offset");
}

static void
test_jmp32_and_alu32(void)
{
    /* w3 = pkt[0] & 7; if (w3 > 5) return 0; return pkt[w3]; */
    struct bpf_inst good[] = {
        LEN_AT_LEAST(6),
        LDX(B, 3, 1, 0),
        ALU32_IMM(BPF_ALU_AND, 3, 7),
        JMP32_IMM(BPF_JMP_JGT, 3, 5, 3),
        ALU64_REG(BPF_ALU_ADD, 1, 3),
        LDX(B, 0, 1, 0),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    struct bpf_inst short_len[] = {
        LEN_AT_LEAST(5),
        LDX(B, 3, 1, 0),
        ALU32_IMM(BPF_ALU_AND, 3, 7),
        JMP32_IMM(BPF_JMP_JGT, 3, 5, 3),
        ALU64_REG(BPF_ALU_ADD, 1, 3),
        LDX(B, 0, 1, 0),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };
    /* A 32-bit signed test says nothing about the 64-bit register. */
    struct bpf_inst signed32[] = {
        LEN_AT_LEAST(16),
        LDX(DW, 3, 1, 0),
        JMP32_IMM(BPF_JMP_JSGT, 3, 5, 4),
        JMP32_IMM(BPF_JMP_JSLT, 3, 0, 3),
        ALU64_REG(BPF_ALU_ADD, 1, 3),
        LDX(B, 0, 1, 0),
        EXIT(),
        MOV64_IMM(0, 0),
        EXIT(),
    };

    ACCEPT(good);
    REJECT(short_len, EACCES, "insn 7: r1: packet read of 1 bytes at "
           "variable offset");
    REJECT(signed32, EACCES, "insn 6: r3: pointer arithmetic with an "
           "unbounded register");
}

static void
test_structural_mode(void)
{
    /* Out of bounds for the filter verifier, fine structurally. */
    struct bpf_inst oob[] = {
        LDX(DW, 0, 1, 100),
        ST(DW, 10, -8, 1),
        EXIT(),
    };
    struct bpf_inst bad[] = {
        JA(5),
        EXIT(),
    };
    struct bpf_prog *prog = RAW(oob);

    CU_ASSERT_EQUAL(verify_prog(prog, BPF_VERIFY_STRUCTURAL, 0), 0);
    CU_ASSERT_EQUAL(verify_prog(prog, BPF_VERIFY_FILTER, 0), -EACCES);
    bpf_prog_free(prog);
    prog = RAW(bad);
    CU_ASSERT_EQUAL(verify_prog(prog, BPF_VERIFY_STRUCTURAL, 0), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(errbuf, "insn 0: jump to 6 out of range"));
    bpf_prog_free(prog);
}

/* ---------------------------------------------------------------------
 * Clang-compiled programs.
 * ------------------------------------------------------------------- */

/* Verifies every .o of dir; returns how many were seen. */
static int
verify_objects(const char *dir, bool want_ok)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    int seen = 0;

    if (!d) {
        return 0;
    }
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        char path[4096], err[512];
        struct bpf_verify_stats st;
        struct bpf_prog *prog;
        int ret;

        if (len < 3 || strcmp(de->d_name + len - 2, ".o")) {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        prog = bpf_prog_load_file(path, NULL, err, sizeof err);
        if (!prog) {
            fprintf(stderr, "\n%s: load failed: %s\n", path, err);
            CU_FAIL("load failed");
            continue;
        }
        ret = bpf_verify(prog, NULL, &st, err, sizeof err);
        if ((ret == 0) != want_ok) {
            fprintf(stderr, "\n%s: verify returned %d: %s\n", path, ret, err);
            CU_FAIL("unexpected verifier verdict");
        }
        if (!want_ok) {
            CU_ASSERT_EQUAL(ret, -EACCES);
            CU_ASSERT_PTR_NOT_NULL(strstr(err, "insn "));
        }
        bpf_prog_free(prog);
        seen++;
    }
    closedir(d);
    return seen;
}

static void
test_tree_objects(void)
{
    /* make check builds them first; run by hand, they may be missing. */
    DIR *d = opendir(TOP_BUILDDIR "/examples/bpf");
    int seen;

    seen = verify_objects(TOP_BUILDDIR "/tests/progs", true);
    seen += verify_objects(TOP_BUILDDIR "/examples/bpf", true);
    if (d) {
        struct dirent *de;
        bool any = false;

        while ((de = readdir(d))) {
            size_t len = strlen(de->d_name);

            any |= len > 2 && !strcmp(de->d_name + len - 2, ".o");
        }
        closedir(d);
        if (any) {
            CU_ASSERT_TRUE(seen > 0);
        }
    }
    fprintf(stderr, "(%d objects) ", seen);
}

/* Compiles the C files of tests/verifier/<sub> with $CLANG into a temporary
 * directory and verifies them. */
static void
compile_and_verify(const char *sub, bool want_ok)
{
    char srcdir[4096], tmp[] = "/tmp/oko-verifier-XXXXXX";
    const char *clang = getenv("CLANG");
    struct dirent *de;
    int compiled = 0;
    DIR *d;

    if (!clang || !*clang) {
        clang = "clang";
    }
    snprintf(srcdir, sizeof srcdir, "%s/tests/verifier/%s", TOP_SRCDIR, sub);
    d = opendir(srcdir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmp));
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        char cmd[16384];
        int st;

        if (len < 3 || strcmp(de->d_name + len - 2, ".c")) {
            continue;
        }
        snprintf(cmd, sizeof cmd, "'%s' -O2 -target bpf -I'%s/include' "
                 "-c '%s/%s' -o '%s/%.*s.o' && '%s' -O2 -mcpu=v3 -target bpf "
                 "-I'%s/include' -c '%s/%s' -o '%s/%.*s.v3.o'", clang,
                 TOP_SRCDIR, srcdir, de->d_name, tmp, (int) len - 2,
                 de->d_name, clang, TOP_SRCDIR, srcdir, de->d_name, tmp,
                 (int) len - 2, de->d_name);
        st = system(cmd);
        if (st != 0) {
            fprintf(stderr, "\ncannot compile %s/%s (no clang?)\n", srcdir,
                    de->d_name);
            CU_FAIL("clang failed");
            continue;
        }
        compiled++;
    }
    closedir(d);
    CU_ASSERT_TRUE(compiled > 0);
    CU_ASSERT_EQUAL(verify_objects(tmp, want_ok), compiled * 2);
    {
        char cmd[4200];

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0) {
            fprintf(stderr, "cannot remove %s\n", tmp);
        }
    }
}

static void
test_clang_good(void)
{
    compile_and_verify("good", true);
}

static void
test_clang_bad(void)
{
    compile_and_verify("bad", false);
}

static const struct cu_test tests[] = {
    { "packet read without length check", test_pkt_no_len_check },
    { "length 14 checked, byte 14 read", test_pkt_check_14_read_14 },
    { "off-by-one u16 read", test_pkt_off_by_one },
    { "length checked on the wrong branch", test_pkt_checked_on_wrong_branch },
    { "variable packet offsets", test_pkt_variable_offset },
    { "IPv4 header length idiom", test_pkt_ip_header_idiom },
    { "packet end pointer idiom", test_pkt_end_pointer },
    { "length minus a constant", test_pkt_len_minus_const },
    { "packet write", test_pkt_write },
    { "LDABS/LDIND", test_ldabs },
    { "uninitialised registers", test_uninit_register },
    { "uninitialised stack", test_stack_uninit },
    { "stack bounds", test_stack_bounds },
    { "spills and fills", test_spills },
    { "pointer leak in r0", test_pointer_leak_r0 },
    { "pointer arithmetic", test_pointer_arith },
    { "pointer comparison", test_pointer_compare },
    { "map value NULL checks", test_map_null },
    { "map value bounds", test_map_value_bounds },
    { "pointer leaks into maps", test_map_pointer_leaks },
    { "helper arguments", test_helper_args },
    { "read-only data and printf", test_rodata },
    { "atomics", test_atomics },
    { "malformed programs", test_malformed },
    { "division by zero", test_division_by_zero },
    { "unbounded loops", test_unbounded_loops },
    { "bounded loop", test_bounded_loop },
    { "30 diamonds", test_diamonds },
    { "precision of pruned values", test_precision },
    { "BPF-to-BPF calls", test_bpf2bpf },
    { "ALU32 and JMP32", test_jmp32_and_alu32 },
    { "regression: map value - map value",
      test_map_value_minus_map_value },
    { "regression: NULL check against a register",
      test_null_check_register_precision },
    { "regression: precision of linked scalars",
      test_linked_scalar_precision },
    { "structural mode", test_structural_mode },
    { "objects of the tree", test_tree_objects },
    { "clang: safe programs", test_clang_good },
    { "clang: unsafe programs", test_clang_bad },
    { NULL, NULL }
};

CU_MAIN("verifier", tests)
