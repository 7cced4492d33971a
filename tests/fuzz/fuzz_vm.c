/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_vm.c -- libFuzzer target for the verifier: a verified program must
 * never fault.
 *
 * The input is raw instructions (8 bytes each).  If its length is not a
 * multiple of 8, the first byte is a control byte that chooses the packet
 * contents.  The program is loaded with bpf_prog_load_raw(), given four
 * maps (lddw src 1, imm 0: array of 4 x 16-byte values, 1: hash 4 -> 8
 * bytes holding key 3, 2: count-min with 8-byte keys, 3: Bloom filter of
 * 6-byte elements) and read-only data (lddw src 2), and verified in
 * BPF_VERIFY_FILTER mode; if the verifier accepts it, it runs in a VM on
 * packets of 0 to 20, 25 to 70 and 1514 bytes, each in a malloc'd buffer of
 * exactly that length, so that AddressSanitizer reports any access out of
 * the packet, and UBSan any undefined behaviour.  A verifier that accepts
 * an endless loop shows up as a libFuzzer timeout.  Every rejection must
 * carry a message naming the instruction.
 *
 * Structured mode: an input whose length is 2 to 7 modulo 8 is not
 * instructions but a stream of choices for a generator that builds mostly
 * valid filters (length checks, packet and stack loads, ALU on mixed
 * registers, forward branches, packet end pointers, map lookups on an
 * array, hash, count-min and Bloom map with and without NULL checks,
 * helpers, atomics, small loops, a local function): random bytes rarely
 * pass the verifier, these usually do, and reach its deep paths.  Such a
 * program also runs in a VM with BPF_VM_BOUNDS_CHECK, whose run-time checks
 * see accesses that stay inside a malloc'd block (another map value, the
 * stack of another frame) and which ASan cannot.
 *
 * Seeds: tests/fuzz/corpus/vm (raw instruction files of small valid
 * programs; files named s_* are structured inputs).
 */
#include "bpf_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keeps one input well under libFuzzer's per-input timeout. */
#define FUZZ_MAX_STATES 30000


static void
fill_packet(uint8_t *pkt, size_t len, uint8_t ctrl)
{
    uint32_t x = 0x9e3779b9u * (ctrl + 1u);
    size_t i;

    for (i = 0; i < len; i++) {
        switch (ctrl & 3) {
        case 0:
            pkt[i] = 0;
            break;
        case 1:
            pkt[i] = 0xff;
            break;
        case 2:
            pkt[i] = (uint8_t) i;
            break;
        default:
            x = x * 1103515245u + 12345u;
            pkt[i] = (uint8_t) (x >> 16);
            break;
        }
    }
    /* Plausible Ethernet/IPv4/TCP fields help the fuzzer down parsers. */
    if ((ctrl & 4) && len >= 54) {
        pkt[12] = 0x08;
        pkt[13] = 0x00;
        pkt[14] = 0x45 + (ctrl >> 4 & 0xa);
        pkt[23] = 6;
        pkt[46] = 0x50 + (ctrl & 0xf0);
    }
}

static void
check(bool ok, const char *what, const char *err)
{
    if (!ok) {
        fprintf(stderr, "fuzz_vm: %s (%s)\n", what, err ? err : "");
        abort();
    }
}

/* ---------------------------------------------------------------------
 * Structured generator.
 * ------------------------------------------------------------------- */

#define GEN_MAX 1024

struct gen {
    const uint8_t *p;
    size_t n;
    struct bpf_inst insns[GEN_MAX + 64];
    size_t len;
    bool full;
};

static unsigned
gbyte(struct gen *g)
{
    if (!g->n) {
        return 0;
    }
    g->n--;
    return *g->p++;
}

static unsigned
gpick(struct gen *g, unsigned n)
{
    return n ? gbyte(g) % n : 0;
}

static int32_t
gimm(struct gen *g)
{
    static const int32_t interesting[] = {
        0, 1, 2, 4, 7, 8, 13, 14, 20, 31, 32, 34, 54, 60, 63, 64, 100, 255,
        256, 511, 512, 1500, 65535, 65536, 0x7fffffff, -1, -2, -8, -16,
        -512, -513, (int32_t) 0x80000000, 0x40000000, 0xffff, 24, 40,
    };
    unsigned c = gbyte(g);

    if (c < 200) {
        return interesting[c % (sizeof interesting / sizeof interesting[0])];
    }
    return (int32_t) (gbyte(g) | gbyte(g) << 8 | gbyte(g) << 16
                      | gbyte(g) << 24);
}

static void
emit(struct gen *g, uint8_t code, unsigned dst, unsigned src, int16_t off,
     int32_t imm)
{
    if (g->len >= GEN_MAX + 60) {
        g->full = true;
        return;
    }
    g->insns[g->len++] = (struct bpf_inst) { .code = code, .dst = dst & 15,
                                             .src = src & 15, .off = off,
                                             .imm = imm };
}

static void
emit_lddw(struct gen *g, unsigned dst, unsigned src, int32_t imm, int32_t hi)
{
    emit(g, BPF_CLS_LD | BPF_MODE_IMM | BPF_SIZE_DW, dst, src, 0, imm);
    emit(g, 0, 0, 0, 0, hi);
}

static const uint8_t sizes[4] = { BPF_SIZE_B, BPF_SIZE_H, BPF_SIZE_W,
                                  BPF_SIZE_DW };
static const uint8_t alu_ops[] = {
    BPF_ALU_ADD, BPF_ALU_SUB, BPF_ALU_MUL, BPF_ALU_DIV, BPF_ALU_OR,
    BPF_ALU_AND, BPF_ALU_LSH, BPF_ALU_RSH, BPF_ALU_NEG, BPF_ALU_MOD,
    BPF_ALU_XOR, BPF_ALU_MOV, BPF_ALU_ARSH, BPF_ALU_ADD, BPF_ALU_AND,
    BPF_ALU_MOV,
};
static const uint8_t jmp_ops[] = {
    BPF_JMP_JEQ, BPF_JMP_JGT, BPF_JMP_JGE, BPF_JMP_JSET, BPF_JMP_JNE,
    BPF_JMP_JSGT, BPF_JMP_JSGE, BPF_JMP_JLT, BPF_JMP_JLE, BPF_JMP_JSLT,
    BPF_JMP_JSLE,
};

/* Registers the blocks work on: r0 and r3-r9 (r6 holds the packet and r7
 * the length at the start, but blocks may overwrite them). */
static unsigned
greg(struct gen *g)
{
    static const unsigned regs[] = { 0, 3, 4, 5, 6, 7, 8, 9, 0, 6, 8, 9 };

    return regs[gpick(g, sizeof regs / sizeof regs[0])];
}

/* Map lookup of map m with a key on the stack at fp - 8 - off; r0 is the
 * result. */
static void
gen_lookup(struct gen *g, unsigned m)
{
    unsigned kreg = greg(g);

    if (gpick(g, 4)) {
        emit(g, BPF_CLS_ST | BPF_MODE_MEM | BPF_SIZE_DW, 10, 0, -16, 0);
        emit(g, BPF_CLS_ST | BPF_MODE_MEM | BPF_SIZE_W, 10, 0, -16,
             (int32_t) gpick(g, 6));
    } else {
        emit(g, BPF_CLS_STX | BPF_MODE_MEM | BPF_SIZE_DW, 10, kreg, -16, 0);
    }
    emit_lddw(g, 1, BPF_PSEUDO_MAP_IDX, (int32_t) m, 0);
    emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, 2, 10, 0, 0);
    emit(g, BPF_CLS_ALU64 | BPF_ALU_ADD, 2, 0, 0,
         gpick(g, 8) ? -16 : -16 + (int32_t) gpick(g, 16) - 8);
    emit(g, BPF_CLS_JMP | BPF_JMP_CALL, 0, 0, 0, BPF_HELPER_MAP_LOOKUP);
}

/* One block; jumps skip forward over at most `room` instructions to be
 * patched by the caller, so they are emitted with off = 0 and recorded. */
struct fixup {
    size_t at;          /* the jump */
    size_t skip;        /* blocks to skip */
};

static void
gen_block(struct gen *g, struct fixup *fx, size_t *nfx, size_t block)
{
    unsigned a = greg(g), b = greg(g), c = gbyte(g);
    uint8_t sz = sizes[gpick(g, 4)];
    bool is64 = gpick(g, 4) != 0;

    switch (c % 24) {
    case 0:     /* constant */
        emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV, a, 0, 0, gimm(g));
        break;
    case 1:     /* lddw constant */
        emit_lddw(g, a, 0, gimm(g), gimm(g));
        break;
    case 2: case 3:     /* ALU with immediate */
        emit(g, (is64 ? BPF_CLS_ALU64 : BPF_CLS_ALU) | alu_ops[gpick(g, 16)],
             a, 0, 0, gimm(g));
        if (BPF_OP(g->insns[g->len - 1].code) == BPF_ALU_NEG) {
            g->insns[g->len - 1].imm = 0;
        }
        break;
    case 4: case 5:     /* ALU with register */
        {
            uint8_t op = alu_ops[gpick(g, 16)];

            if (op == BPF_ALU_NEG) {
                op = BPF_ALU_ADD;
            }
            emit(g, (is64 ? BPF_CLS_ALU64 : BPF_CLS_ALU) | op | BPF_SRC_X,
                 a, b, 0, 0);
        }
        break;
    case 6:     /* packet load at a constant offset */
        emit(g, BPF_CLS_LDX | BPF_MODE_MEM | sz, a, gpick(g, 2) ? 6 : b,
             (int16_t) gimm(g), 0);
        break;
    case 7: case 8:     /* length check on r7 or a copy */
        emit(g, (gpick(g, 3) ? BPF_CLS_JMP : BPF_CLS_JMP32)
                | jmp_ops[gpick(g, 11)], gpick(g, 2) ? 7 : a, 0, 0,
             gimm(g));
        fx[(*nfx)++] = (struct fixup) { g->len - 1, gpick(g, 4) };
        break;
    case 9: case 10:    /* compare two registers */
        emit(g, (gpick(g, 3) ? BPF_CLS_JMP : BPF_CLS_JMP32)
                | jmp_ops[gpick(g, 11)] | BPF_SRC_X, a, b, 0, 0);
        fx[(*nfx)++] = (struct fixup) { g->len - 1, gpick(g, 4) };
        break;
    case 11:    /* packet pointer plus a scalar */
        emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, a, 6, 0, 0);
        emit(g, BPF_CLS_ALU64 | BPF_ALU_ADD | BPF_SRC_X, a, b, 0, 0);
        break;
    case 12:    /* load through any register */
        emit(g, BPF_CLS_LDX | BPF_MODE_MEM | sz, a, b,
             (int16_t) (gpick(g, 2) ? (int) gpick(g, 24) - 8 : gimm(g)), 0);
        break;
    case 13:    /* stack store */
        if (gpick(g, 2)) {
            emit(g, BPF_CLS_STX | BPF_MODE_MEM | sz, 10, a,
                 (int16_t) -(int) (1 + gpick(g, 64)), 0);
        } else {
            emit(g, BPF_CLS_STX | BPF_MODE_MEM | BPF_SIZE_DW, 10, a,
                 (int16_t) -(int) (8 * (1 + gpick(g, 8))), 0);
        }
        break;
    case 14:    /* stack load */
        emit(g, BPF_CLS_LDX | BPF_MODE_MEM | sz, a, gpick(g, 4) ? 10 : b,
             (int16_t) -(int) (gpick(g, 2) ? 8 * (1 + gpick(g, 8))
                                           : 1 + gpick(g, 64)), 0);
        break;
    case 15: case 16:   /* map lookup, NULL check, use */
        {
            unsigned m = gpick(g, 4);

            gen_lookup(g, m);
            if (gpick(g, 8)) {
                emit(g, BPF_CLS_JMP | (gpick(g, 2) ? BPF_JMP_JEQ
                                                   : BPF_JMP_JNE), 0, 0,
                     0, 0);
                fx[(*nfx)++] = (struct fixup) { g->len - 1, gpick(g, 3) };
            }
            if (gpick(g, 2)) {
                emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, a, 0, 0, 0);
            }
        }
        break;
    case 17:    /* atomic on the stack or through a register */
        {
            static const int32_t aops[] = {
                BPF_ATOMIC_ADD, BPF_ATOMIC_OR, BPF_ATOMIC_XOR,
                BPF_ATOMIC_ADD | BPF_ATOMIC_FETCH, BPF_ATOMIC_XCHG,
                BPF_ATOMIC_CMPXCHG, BPF_ATOMIC_AND | BPF_ATOMIC_FETCH,
            };

            emit(g, BPF_CLS_STX | BPF_MODE_ATOMIC
                    | (gpick(g, 2) ? BPF_SIZE_DW : BPF_SIZE_W),
                 gpick(g, 2) ? 10 : b, a,
                 (int16_t) (gpick(g, 2) ? -8 * (int) (1 + gpick(g, 8))
                                        : (int) gpick(g, 16)),
                 aops[gpick(g, 7)]);
        }
        break;
    case 18:    /* packet end pointer and a comparison with it */
        emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, a, 6, 0, 0);
        emit(g, BPF_CLS_ALU64 | BPF_ALU_ADD | BPF_SRC_X, a, 7, 0, 0);
        if (gpick(g, 2)) {
            emit(g, BPF_CLS_ALU64 | BPF_ALU_ADD, a, 0, 0,
                 (int32_t) gpick(g, 16) - 8);
        }
        emit(g, BPF_CLS_JMP | jmp_ops[gpick(g, 11)] | BPF_SRC_X,
             gpick(g, 2) ? a : b, gpick(g, 2) ? b : a, 0, 0);
        fx[(*nfx)++] = (struct fixup) { g->len - 1, gpick(g, 4) };
        break;
    case 19:    /* oko_hash(ptr, size) */
        emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, 1, a, 0, 0);
        if (gpick(g, 2)) {
            emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV, 2, 0, 0,
                 (int32_t) gpick(g, 40));
        } else {
            emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, 2, b, 0, 0);
        }
        emit(g, BPF_CLS_JMP | BPF_JMP_CALL, 0, 0, 0, BPF_HELPER_HASH);
        break;
    case 20:    /* small counted loop around nothing much */
        {
            size_t top;

            emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV, a, 0, 0, 0);
            top = g->len;
            {
                uint8_t op = alu_ops[gpick(g, 16)];

                emit(g, BPF_CLS_ALU64 | (op == BPF_ALU_NEG ? BPF_ALU_XOR : op)
                        | BPF_SRC_X, b, a, 0, 0);
            }
            emit(g, BPF_CLS_ALU64 | BPF_ALU_ADD, a, 0, 0,
                 1 + (int32_t) gpick(g, 3));
            emit(g, (gpick(g, 2) ? BPF_CLS_JMP : BPF_CLS_JMP32)
                    | (gpick(g, 2) ? BPF_JMP_JLT : BPF_JMP_JNE), a, 0,
                 (int16_t) (top - (g->len + 1)), 1 + (int32_t) gpick(g, 20));
        }
        break;
    case 21:    /* spill a register, maybe clobber part, fill */
        emit(g, BPF_CLS_STX | BPF_MODE_MEM | BPF_SIZE_DW, 10, a, -24, 0);
        if (gpick(g, 2)) {
            emit(g, BPF_CLS_ST | BPF_MODE_MEM | sizes[gpick(g, 3)], 10, 0,
                 (int16_t) (-24 + (int) gpick(g, 8)), gimm(g));
        }
        emit(g, BPF_CLS_LDX | BPF_MODE_MEM | sz, b, 10,
             (int16_t) (-24 + (sz == BPF_SIZE_DW ? 0 : (int) gpick(g, 4))),
             0);
        break;
    case 22:    /* call the local function (r1 = a) */
        emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, 1, a, 0, 0);
        emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, 2, b, 0, 0);
        emit(g, BPF_CLS_JMP | BPF_JMP_CALL, 0, BPF_PSEUDO_CALL, 0,
             (int32_t) (1000000 + block));  /* patched */
        emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, a, 0, 0, 0);
        break;
    default:    /* variable stack pointer or map value arithmetic */
        emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, a, gpick(g, 2) ? 10
                                                                  : 0, 0, 0);
        if (gpick(g, 2)) {
            emit(g, BPF_CLS_ALU64 | BPF_ALU_ADD | BPF_SRC_X, a, b, 0, 0);
        } else {
            emit(g, BPF_CLS_ALU64 | BPF_ALU_ADD, a, 0, 0,
                 -(int32_t) gpick(g, 600));
        }
        break;
    }
}

/* Builds a program from the input; returns its length in instructions. */
static size_t
gen_program(struct gen *g)
{
    struct fixup fx[256];
    size_t starts[257], nfx = 0, nblocks, i, fstart;

    /* r6 = packet, r7 = length, maybe a first length check. */
    emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, 6, 1, 0, 0);
    emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, 7, 2, 0, 0);
    if (gpick(g, 4)) {
        emit(g, BPF_CLS_JMP | BPF_JMP_JGE, 7, 0, 2, (int32_t) gpick(g, 80));
        emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV, 0, 0, 0, 0);
        emit(g, BPF_CLS_JMP | BPF_JMP_EXIT, 0, 0, 0, 0);
    }
    /* Initialised stack and registers, so that blocks mostly verify. */
    for (i = 1; i <= 8; i++) {
        emit(g, BPF_CLS_ST | BPF_MODE_MEM | BPF_SIZE_DW, 10, 0,
             (int16_t) (-8 * (int) i), (int32_t) gpick(g, 4));
    }
    for (i = 0; i <= 9; i++) {
        if (i != 6 && i != 7 && i != 1) {
            emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV, (unsigned) i, 0, 0,
                 (int32_t) gpick(g, 16));
        }
    }
    nblocks = 1 + gpick(g, 32);
    for (i = 0; i < nblocks && !g->full && nfx < 250; i++) {
        starts[i] = g->len;
        gen_block(g, fx, &nfx, i);
        if (g->len && g->insns[g->len - 1].code
                      == (BPF_CLS_JMP | BPF_JMP_CALL)) {
            /* r1-r5 died in the call: give the blocks values again. */
            unsigned r;

            for (r = 3; r <= 5; r++) {
                emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV, r, 0, 0,
                     (int32_t) gpick(g, 16));
            }
        }
    }
    nblocks = i;
    starts[nblocks] = g->len;
    /* Epilogue: r0 = r0 & 1 (r0 may be a pointer: then rejected), or 1. */
    if (gpick(g, 2)) {
        emit(g, BPF_CLS_ALU64 | BPF_ALU_AND, 0, 0, 0, 1);
    } else {
        emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV, 0, 0, 0, 1);
    }
    emit(g, BPF_CLS_JMP | BPF_JMP_EXIT, 0, 0, 0, 0);
    /* The local function: reads r1 (pointer or not) at an offset. */
    fstart = g->len;
    switch (gpick(g, 4)) {
    case 0:
        emit(g, BPF_CLS_LDX | BPF_MODE_MEM | BPF_SIZE_B, 0, 1,
             (int16_t) gpick(g, 16), 0);
        break;
    case 1:
        emit(g, BPF_CLS_STX | BPF_MODE_MEM | BPF_SIZE_DW, 10, 1, -8, 0);
        emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, 0, 10, 0, 0);
        emit(g, BPF_CLS_ALU64 | BPF_ALU_ADD, 0, 0, 0, -8);
        break;
    case 2:
        emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, 0, 1, 0, 0);
        emit(g, BPF_CLS_ALU64 | BPF_ALU_ADD | BPF_SRC_X, 0, 2, 0, 0);
        break;
    default:
        emit(g, BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, 0, 2, 0, 0);
        break;
    }
    emit(g, BPF_CLS_JMP | BPF_JMP_EXIT, 0, 0, 0, 0);
    if (g->full) {
        return 0;
    }
    for (i = 0; i < nfx; i++) {
        size_t blk = 0, to;

        while (blk < nblocks && starts[blk + 1] <= fx[i].at) {
            blk++;
        }
        to = blk + 1 + fx[i].skip;
        to = to > nblocks ? nblocks : to;
        g->insns[fx[i].at].off = (int16_t) (starts[to] - fx[i].at - 1);
    }
    for (i = 0; i < g->len; i++) {
        if (g->insns[i].code == (BPF_CLS_JMP | BPF_JMP_CALL)
            && g->insns[i].src == BPF_PSEUDO_CALL) {
            g->insns[i].imm = (int32_t) (fstart - i - 1);
        }
    }
    return g->len;
}

static void
quiet_log(void *ctx, const char *line)
{
    (void) ctx;
    (void) line;
}

static const struct bpf_map_def gen_maps[4] = {
    { BPF_MAP_ARRAY, 4, 16, 4, 0 },
    { BPF_MAP_HASH, 4, 8, 16, 0 },
    { BPF_MAP_CMS, 8, 8, 64, 2 },
    { BPF_MAP_BLOOM, 6, 6, 256, 3 },
};
static const char gen_rodata[] = "v=%d\0n=%u %x\0\0abc";

/* Runs a verified program with maps in a fast VM (ASan watches) and a
 * bounds-checked one (which must not fault). */
static void
run_structured(struct bpf_prog *prog, uint8_t ctrl)
{
    struct bpf_map *maps[4];
    struct bpf_vm *vm, *cvm;
    char err[256];
    size_t i, len;

    for (i = 0; i < 4; i++) {
        maps[i] = bpf_map_create(&gen_maps[i], "m", NULL);
        check(maps[i] != NULL, "map create", "");
    }
    {
        uint32_t k = 3;
        uint64_t v = 7;
        uint8_t e[8] = { 0 };

        bpf_map_update(maps[1], &k, &v);
        bpf_map_add(maps[2], e);
        bpf_map_add(maps[3], e);
    }
    vm = bpf_vm_create(prog, maps, 0, err, sizeof err);
    check(vm != NULL, "no VM for a verified program", err);
    cvm = bpf_vm_create(prog, maps, BPF_VM_BOUNDS_CHECK, err, sizeof err);
    check(cvm != NULL, "no checked VM for a verified program", err);
    bpf_vm_set_log(vm, quiet_log, NULL);
    bpf_vm_set_log(cvm, quiet_log, NULL);
    for (len = 0; len <= 1514;
         len = len < 20 ? len + 1 : len < 70 ? len + 5 : 1514 + (len == 1514)) {
        uint8_t *pkt = malloc(len ? len : 1);
        uint64_t r0;
        int ret;

        check(pkt != NULL, "malloc", "");
        fill_packet(pkt, len, ctrl);
        (void) bpf_vm_run(vm, pkt, len);
        ret = bpf_vm_exec(cvm, pkt, len, &r0, err, sizeof err);
        /* The checked VM forgets map values after 16 lookups. */
        if (ret && cvm->nvalues <= 16) {
            check(false, "verified program faulted in the checked VM", err);
        }
        free(pkt);
    }
    bpf_vm_destroy(vm);
    bpf_vm_destroy(cvm);
    for (i = 0; i < 4; i++) {
        bpf_map_destroy(maps[i], NULL);
    }
}

/* Gives prog the generator's maps (lddw src 1, imm 0-3) and read-only
 * data (lddw src 2). */
static void
attach_maps(struct bpf_prog *prog)
{
    size_t i;

    for (i = 0; i < 4; i++) {
        snprintf(prog->maps[i].name, sizeof prog->maps[i].name, "m%zu", i);
        prog->maps[i].def = gen_maps[i];
    }
    prog->nmaps = 4;
    prog->rodata = malloc(sizeof gen_rodata);
    if (prog->rodata) {
        memcpy(prog->rodata, gen_rodata, sizeof gen_rodata);
        prog->rodata_len = sizeof gen_rodata;
    }
}

static int
fuzz_structured(const uint8_t *data, size_t size)
{
    struct bpf_verify_opts opts = { .mode = BPF_VERIFY_FILTER,
                                    .max_states = FUZZ_MAX_STATES };
    struct gen *g = calloc(1, sizeof *g);
    struct bpf_prog *prog;
    char err[256];
    size_t n;
    int ret;

    if (!g || size < 2) {
        free(g);
        return 0;
    }
    g->p = data + 1;
    g->n = size - 1;
    n = gen_program(g);
    if (!n) {
        free(g);
        return 0;
    }
    prog = bpf_prog_load_raw(g->insns, n, err, sizeof err);
    free(g);
    if (!prog) {
        return 0;
    }
    attach_maps(prog);
    err[0] = '\0';
    ret = bpf_verify(prog, &opts, NULL, err, sizeof err);
    if (ret) {
        check(ret == -EACCES || ret == -EINVAL || ret == -E2BIG
              || ret == -ENOMEM, "unexpected error", err);
        check(ret == -ENOMEM || strncmp(err, "insn ", 5) == 0,
              "rejection without an instruction", err);
    } else {
        run_structured(prog, data[0]);
    }
    bpf_prog_free(prog);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bpf_verify_opts opts = { .mode = BPF_VERIFY_FILTER,
                                    .max_states = FUZZ_MAX_STATES };
    struct bpf_verify_stats stats;
    struct bpf_inst *insns;
    struct bpf_prog *prog;
    uint8_t ctrl = 0;
    char err[256];
    size_t n;
    int ret;

    if (size % sizeof(struct bpf_inst) >= 2) {
        return fuzz_structured(data, size);
    }
    if (size % sizeof(struct bpf_inst)) {
        ctrl = data[0];
        data++;
        size--;
    }
    n = size / sizeof(struct bpf_inst);
    if (n == 0 || n > 4096) {
        return 0;
    }
    insns = malloc(n * sizeof *insns);
    if (!insns) {
        return 0;
    }
    memcpy(insns, data, n * sizeof *insns);
    prog = bpf_prog_load_raw(insns, n, err, sizeof err);
    free(insns);
    if (!prog) {
        return 0;
    }
    attach_maps(prog);

    /* The structural mode must agree with itself and never crash. */
    opts.mode = BPF_VERIFY_STRUCTURAL;
    err[0] = '\0';
    ret = bpf_verify(prog, &opts, NULL, err, sizeof err);
    check(ret == 0 || ret == -EINVAL || ret == -E2BIG,
          "structural mode returned an unexpected error", err);
    check(ret == 0 || strncmp(err, "insn ", 5) == 0,
          "structural rejection without an instruction", err);

    opts.mode = BPF_VERIFY_FILTER;
    err[0] = '\0';
    ret = bpf_verify(prog, &opts, &stats, err, sizeof err);
    if (ret) {
        check(ret == -EACCES || ret == -EINVAL || ret == -E2BIG
              || ret == -ENOMEM, "unexpected error", err);
        check(ret == -ENOMEM || strncmp(err, "insn ", 5) == 0,
              "rejection without an instruction", err);
        bpf_prog_free(prog);
        return 0;
    }
    check(err[0] == '\0', "message on success", err);

    run_structured(prog, ctrl);
    bpf_prog_free(prog);
    return 0;
}
