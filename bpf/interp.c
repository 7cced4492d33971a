/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * interp.c -- the eBPF interpreter (OKO-ABI.md section 2) and the VM
 * object.
 *
 * bpf_vm_create() decodes the program once into an array of struct
 * interp_insn, one per instruction slot, holding the address of the
 * instruction's handler (GCC's computed goto), its registers and offset, a
 * 64-bit operand prepared for the handler (the immediate sign- or
 * zero-extended as the operation needs it, the constant of an lddw with
 * map and read-only data addresses already resolved, the helper's
 * function pointer) and the jump or call target.  The hot loop is then
 * "do the operation, advance, goto *ip->handler" with no decoding and no
 * switch.
 *
 * The loop exists twice, built from the same text: this file includes
 * itself once per variant (INTERP_TEMPLATE below).  The fast variant
 * trusts the verifier and checks nothing per memory access; the checked
 * variant, used for BPF_VM_BOUNDS_CHECK, checks every load, store and
 * atomic with bpf_vm_check_access(), requires atomics to be aligned and
 * stops after INTERP_INSN_BUDGET executed instructions.  Everything else
 * is checked by both, because it costs nothing on the fast path: the call
 * depth (checked on calls only), falling off the end of the program (a
 * sentinel instruction after the last one) and LDABS/LDIND ranges.
 *
 * Semantics where eBPF leaves room, tested by the files in tests/vm:
 *  - shift amounts are masked: & 63 for 64-bit, & 31 for 32-bit operations;
 *  - division and modulo are unsigned; x / 0 = 0 and x % 0 = x;
 *  - every 32-bit ALU operation zero-extends its result to 64 bits;
 *  - LDABS/LDIND read the memory the run was given (r1 at entry), at
 *    imm (+ src for LDIND) computed in 64 bits; a load outside
 *    [0, len) ends the program with r0 = 0, which is not a fault;
 *  - r10 is read-only (bpf_vm_create rejects writes to it), so it is
 *    always the top of the current frame;
 *  - a local call gets a new 512-byte frame below its caller's, at most
 *    BPF_MAX_CALL_DEPTH calls deep; checked runs may access the frames of
 *    the current function and of its callers (pointer arguments);
 *  - only cpu v1 to v3 encodings: bpf_vm_create refuses the v4 ones
 *    (sdiv/smod, movsx, ldsx, gotol, callx, unconditional bswap).
 */
#ifndef INTERP_TEMPLATE

#include "bpf_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the interpreter assumes a little-endian host (BPF_END to-le)"
#endif

/* Instructions a run in bounds-check mode may execute before it is
 * stopped with -ELOOP: far more than any filter needs on one packet, little
 * enough that a fuzzer's infinite loop costs well under a second. */
#define INTERP_INSN_BUDGET (1u << 24)

/* Handlers, in no particular order.  OP_INVALID (0) marks decode failures
 * and is never stored into a decoded program. */
#define INTERP_OPS(X)                                                       \
    X(INVALID)                                                              \
    X(ADD64_K) X(ADD64_X) X(SUB64_K) X(SUB64_X) X(MUL64_K) X(MUL64_X)       \
    X(DIV64_K) X(DIV64_X) X(MOD64_K) X(MOD64_X) X(OR64_K) X(OR64_X)         \
    X(AND64_K) X(AND64_X) X(LSH64_K) X(LSH64_X) X(RSH64_K) X(RSH64_X)       \
    X(ARSH64_K) X(ARSH64_X) X(XOR64_K) X(XOR64_X) X(MOV64_K) X(MOV64_X)     \
    X(NEG64)                                                                \
    X(ADD32_K) X(ADD32_X) X(SUB32_K) X(SUB32_X) X(MUL32_K) X(MUL32_X)       \
    X(DIV32_K) X(DIV32_X) X(MOD32_K) X(MOD32_X) X(OR32_K) X(OR32_X)         \
    X(AND32_K) X(AND32_X) X(LSH32_K) X(LSH32_X) X(RSH32_K) X(RSH32_X)       \
    X(ARSH32_K) X(ARSH32_X) X(XOR32_K) X(XOR32_X) X(MOV32_K) X(MOV32_X)     \
    X(NEG32)                                                                \
    X(LE16) X(LE32) X(BE16) X(BE32) X(BE64) X(NOP)                          \
    X(JA)                                                                   \
    X(JEQ_K) X(JEQ_X) X(JGT_K) X(JGT_X) X(JGE_K) X(JGE_X)                   \
    X(JSET_K) X(JSET_X) X(JNE_K) X(JNE_X) X(JSGT_K) X(JSGT_X)               \
    X(JSGE_K) X(JSGE_X) X(JLT_K) X(JLT_X) X(JLE_K) X(JLE_X)                 \
    X(JSLT_K) X(JSLT_X) X(JSLE_K) X(JSLE_X)                                 \
    X(JEQ32_K) X(JEQ32_X) X(JGT32_K) X(JGT32_X) X(JGE32_K) X(JGE32_X)       \
    X(JSET32_K) X(JSET32_X) X(JNE32_K) X(JNE32_X) X(JSGT32_K) X(JSGT32_X)   \
    X(JSGE32_K) X(JSGE32_X) X(JLT32_K) X(JLT32_X) X(JLE32_K) X(JLE32_X)     \
    X(JSLT32_K) X(JSLT32_X) X(JSLE32_K) X(JSLE32_X)                         \
    X(CALL) X(CALL_LOCAL) X(EXIT)                                           \
    X(LDDW) X(LDDW_HI)                                                      \
    X(LDXB) X(LDXH) X(LDXW) X(LDXDW)                                        \
    X(STB) X(STH) X(STW) X(STDW)                                            \
    X(STXB) X(STXH) X(STXW) X(STXDW)                                        \
    X(AADD_W) X(AOR_W) X(AAND_W) X(AXOR_W)                                  \
    X(AFADD_W) X(AFOR_W) X(AFAND_W) X(AFXOR_W) X(AXCHG_W) X(ACMPXCHG_W)     \
    X(AADD_DW) X(AOR_DW) X(AAND_DW) X(AXOR_DW)                              \
    X(AFADD_DW) X(AFOR_DW) X(AFAND_DW) X(AFXOR_DW) X(AXCHG_DW)              \
    X(ACMPXCHG_DW)                                                          \
    X(LDABSB) X(LDABSH) X(LDABSW) X(LDINDB) X(LDINDH) X(LDINDW)             \
    X(END_OF_PROG)

enum interp_op {
#define INTERP_ENUM(name) OP_##name,
    INTERP_OPS(INTERP_ENUM)
#undef INTERP_ENUM
    OP__COUNT
};

/* One decoded instruction slot: 32 bytes, two per cache line. */
struct interp_insn {
    const void *handler;        /* label in the run function */
    union {
        uint64_t imm;           /* operand, extended as the op needs */
        bpf_helper_fn *fn;      /* OP_CALL */
    };
    const struct interp_insn *target;   /* jump or local call target */
    uint8_t dst;
    uint8_t src;
    int16_t off;
};

/* A caller's state saved by a local call. */
struct interp_frame {
    const struct interp_insn *ret;
    uint64_t saved[5];          /* r6..r9, r10 */
};

/* What bpf_vm.code points to. */
struct interp {
    size_t ninsns;              /* program slots, without the sentinel */
    uint8_t *stack;             /* BPF_MAX_CALL_DEPTH + 1 frames */
    uint64_t insn_count;        /* executed by the last checked run */
    struct interp_insn insns[]; /* ninsns + 1 (END_OF_PROG sentinel) */
};

#define INTERP_STACK_BYTES ((BPF_MAX_CALL_DEPTH + 1) * BPF_STACK_SIZE)

/* Records a fault of the current run: the run ends with r0 = 0,
 * vm->fault = -errnum and a message in vm->last_error.  Kept out of line
 * so that the run loop stays small. */
static void __attribute__((cold, noinline, format(printf, 3, 4)))
interp_fault(struct bpf_vm *vm, int errnum, const char *fmt, ...)
{
    va_list ap;

    vm->fault = -errnum;
    va_start(ap, fmt);
    vsnprintf(vm->last_error, sizeof vm->last_error, fmt, ap);
    va_end(ap);
}

/* Describes a failed memory access at instruction idx. */
static void __attribute__((cold, noinline))
interp_access_fault(struct bpf_vm *vm, size_t idx, const char *what,
                    const void *p, size_t n, bool misaligned)
{
    interp_fault(vm, EFAULT, "insn %zu: %s %s of %zu bytes at 0x%" PRIxPTR,
                 idx, misaligned ? "misaligned" : "out-of-bounds", what, n,
                 (uintptr_t) p);
}

/* A helper at instruction idx set vm->fault: prefixes its message with
 * the instruction. */
static void __attribute__((cold, noinline))
interp_helper_fault(struct bpf_vm *vm, size_t idx)
{
    char msg[sizeof vm->last_error];

    memcpy(msg, vm->last_error, sizeof msg);
    msg[sizeof msg - 1] = '\0';
    interp_fault(vm, EFAULT, "insn %zu: %s", idx,
                 msg[0] ? msg : "helper failed");
}

static inline bool
range_within(uintptr_t a, size_t n, const void *lo, const void *hi)
{
    uintptr_t l = (uintptr_t) lo, h = (uintptr_t) hi;

    return lo && a >= l && a <= h && n <= h - a;
}

bool
bpf_vm_check_access(struct bpf_vm *vm, const void *p, size_t n,
                    const uint8_t *stack_lo, const uint8_t *stack_hi,
                    bool write)
{
    const struct bpf_prog *prog = vm->prog;
    uintptr_t a = (uintptr_t) p;
    unsigned i, nvalues;

    if (n == 0) {
        /* An empty range touches nothing; helpers pass zero sizes. */
        return true;
    }
    if (stack_lo && range_within(a, n, stack_lo, stack_hi)) {
        return true;
    }
    if (range_within(a, n, vm->mem_lo, vm->mem_hi)) {
        return true;
    }
    if (!write && prog->rodata && prog->rodata_len
        && range_within(a, n, prog->rodata, prog->rodata + prog->rodata_len)) {
        return true;
    }
    /* helpers.c records values in a ring of ARRAY_SIZE(values) slots and
     * keeps counting, so nvalues may exceed the number of slots. */
    nvalues = vm->nvalues;
    if (nvalues > sizeof vm->values / sizeof vm->values[0]) {
        nvalues = sizeof vm->values / sizeof vm->values[0];
    }
    for (i = 0; i < nvalues; i++) {
        if (range_within(a, n, vm->values[i].lo, vm->values[i].hi)) {
            return true;
        }
    }
    return false;
}

/* The two run loops. */
#define INTERP_TEMPLATE 1
#define CHECKED 0
#define RUN_FN interp_run_fast
#include "interp.c"
#undef CHECKED
#undef RUN_FN
#define CHECKED 1
#define RUN_FN interp_run_checked
#include "interp.c"
#undef CHECKED
#undef RUN_FN
#undef INTERP_TEMPLATE

/* ---------------------------------------------------------------------
 * Decoding
 * ------------------------------------------------------------------- */

/* ALU operation (code >> 4) to handler, for K and X sources.  0 = none:
 * BPF_ALU_END is decoded separately, NEG has no X form. */
static const uint8_t alu64_ops[16][2] = {
    [BPF_ALU_ADD >> 4] = { OP_ADD64_K, OP_ADD64_X },
    [BPF_ALU_SUB >> 4] = { OP_SUB64_K, OP_SUB64_X },
    [BPF_ALU_MUL >> 4] = { OP_MUL64_K, OP_MUL64_X },
    [BPF_ALU_DIV >> 4] = { OP_DIV64_K, OP_DIV64_X },
    [BPF_ALU_OR >> 4] = { OP_OR64_K, OP_OR64_X },
    [BPF_ALU_AND >> 4] = { OP_AND64_K, OP_AND64_X },
    [BPF_ALU_LSH >> 4] = { OP_LSH64_K, OP_LSH64_X },
    [BPF_ALU_RSH >> 4] = { OP_RSH64_K, OP_RSH64_X },
    [BPF_ALU_NEG >> 4] = { OP_NEG64, 0 },
    [BPF_ALU_MOD >> 4] = { OP_MOD64_K, OP_MOD64_X },
    [BPF_ALU_XOR >> 4] = { OP_XOR64_K, OP_XOR64_X },
    [BPF_ALU_MOV >> 4] = { OP_MOV64_K, OP_MOV64_X },
    [BPF_ALU_ARSH >> 4] = { OP_ARSH64_K, OP_ARSH64_X },
};

static const uint8_t alu32_ops[16][2] = {
    [BPF_ALU_ADD >> 4] = { OP_ADD32_K, OP_ADD32_X },
    [BPF_ALU_SUB >> 4] = { OP_SUB32_K, OP_SUB32_X },
    [BPF_ALU_MUL >> 4] = { OP_MUL32_K, OP_MUL32_X },
    [BPF_ALU_DIV >> 4] = { OP_DIV32_K, OP_DIV32_X },
    [BPF_ALU_OR >> 4] = { OP_OR32_K, OP_OR32_X },
    [BPF_ALU_AND >> 4] = { OP_AND32_K, OP_AND32_X },
    [BPF_ALU_LSH >> 4] = { OP_LSH32_K, OP_LSH32_X },
    [BPF_ALU_RSH >> 4] = { OP_RSH32_K, OP_RSH32_X },
    [BPF_ALU_NEG >> 4] = { OP_NEG32, 0 },
    [BPF_ALU_MOD >> 4] = { OP_MOD32_K, OP_MOD32_X },
    [BPF_ALU_XOR >> 4] = { OP_XOR32_K, OP_XOR32_X },
    [BPF_ALU_MOV >> 4] = { OP_MOV32_K, OP_MOV32_X },
    [BPF_ALU_ARSH >> 4] = { OP_ARSH32_K, OP_ARSH32_X },
};

/* Conditional jumps (code >> 4) to handler; JA, CALL and EXIT are decoded
 * separately. */
static const uint8_t jmp64_ops[16][2] = {
    [BPF_JMP_JEQ >> 4] = { OP_JEQ_K, OP_JEQ_X },
    [BPF_JMP_JGT >> 4] = { OP_JGT_K, OP_JGT_X },
    [BPF_JMP_JGE >> 4] = { OP_JGE_K, OP_JGE_X },
    [BPF_JMP_JSET >> 4] = { OP_JSET_K, OP_JSET_X },
    [BPF_JMP_JNE >> 4] = { OP_JNE_K, OP_JNE_X },
    [BPF_JMP_JSGT >> 4] = { OP_JSGT_K, OP_JSGT_X },
    [BPF_JMP_JSGE >> 4] = { OP_JSGE_K, OP_JSGE_X },
    [BPF_JMP_JLT >> 4] = { OP_JLT_K, OP_JLT_X },
    [BPF_JMP_JLE >> 4] = { OP_JLE_K, OP_JLE_X },
    [BPF_JMP_JSLT >> 4] = { OP_JSLT_K, OP_JSLT_X },
    [BPF_JMP_JSLE >> 4] = { OP_JSLE_K, OP_JSLE_X },
};

static const uint8_t jmp32_ops[16][2] = {
    [BPF_JMP_JEQ >> 4] = { OP_JEQ32_K, OP_JEQ32_X },
    [BPF_JMP_JGT >> 4] = { OP_JGT32_K, OP_JGT32_X },
    [BPF_JMP_JGE >> 4] = { OP_JGE32_K, OP_JGE32_X },
    [BPF_JMP_JSET >> 4] = { OP_JSET32_K, OP_JSET32_X },
    [BPF_JMP_JNE >> 4] = { OP_JNE32_K, OP_JNE32_X },
    [BPF_JMP_JSGT >> 4] = { OP_JSGT32_K, OP_JSGT32_X },
    [BPF_JMP_JSGE >> 4] = { OP_JSGE32_K, OP_JSGE32_X },
    [BPF_JMP_JLT >> 4] = { OP_JLT32_K, OP_JLT32_X },
    [BPF_JMP_JLE >> 4] = { OP_JLE32_K, OP_JLE32_X },
    [BPF_JMP_JSLT >> 4] = { OP_JSLT32_K, OP_JSLT32_X },
    [BPF_JMP_JSLE >> 4] = { OP_JSLE32_K, OP_JSLE32_X },
};

/* Memory size field to byte-size index: W, H, B, DW. */
static const uint8_t size_index[4] = { 2, 1, 0, 3 };

static const uint8_t ldx_ops[4] = { OP_LDXB, OP_LDXH, OP_LDXW, OP_LDXDW };
static const uint8_t st_ops[4] = { OP_STB, OP_STH, OP_STW, OP_STDW };
static const uint8_t stx_ops[4] = { OP_STXB, OP_STXH, OP_STXW, OP_STXDW };
static const uint8_t ldabs_ops[3] = { OP_LDABSB, OP_LDABSH, OP_LDABSW };
static const uint8_t ldind_ops[3] = { OP_LDINDB, OP_LDINDH, OP_LDINDW };

/* Atomic operation (imm) to handler, for W and DW. */
static int
atomic_op(int32_t imm, bool dw)
{
    switch (imm) {
    case BPF_ATOMIC_ADD:
        return dw ? OP_AADD_DW : OP_AADD_W;
    case BPF_ATOMIC_OR:
        return dw ? OP_AOR_DW : OP_AOR_W;
    case BPF_ATOMIC_AND:
        return dw ? OP_AAND_DW : OP_AAND_W;
    case BPF_ATOMIC_XOR:
        return dw ? OP_AXOR_DW : OP_AXOR_W;
    case BPF_ATOMIC_ADD | BPF_ATOMIC_FETCH:
        return dw ? OP_AFADD_DW : OP_AFADD_W;
    case BPF_ATOMIC_OR | BPF_ATOMIC_FETCH:
        return dw ? OP_AFOR_DW : OP_AFOR_W;
    case BPF_ATOMIC_AND | BPF_ATOMIC_FETCH:
        return dw ? OP_AFAND_DW : OP_AFAND_W;
    case BPF_ATOMIC_XOR | BPF_ATOMIC_FETCH:
        return dw ? OP_AFXOR_DW : OP_AFXOR_W;
    case BPF_ATOMIC_XCHG:
        return dw ? OP_AXCHG_DW : OP_AXCHG_W;
    case BPF_ATOMIC_CMPXCHG:
        return dw ? OP_ACMPXCHG_DW : OP_ACMPXCHG_W;
    default:
        return OP_INVALID;
    }
}

#define LDDW_CODE (BPF_CLS_LD | BPF_MODE_IMM | BPF_SIZE_DW)

/* Checks that a jump or call from slot idx to target lands on the first
 * slot of an instruction. */
static int
check_target(const struct bpf_prog *prog, const uint8_t *second, size_t idx,
             int64_t target, const char *what, char *err, size_t errlen)
{
    if (target < 0 || (uint64_t) target >= prog->ninsns) {
        return bpf_set_err(err, errlen, EINVAL,
                           "insn %zu: %s target %" PRId64 " is outside the "
                           "program (0..%zu)", idx, what, target,
                           prog->ninsns - 1);
    }
    if (second[target]) {
        return bpf_set_err(err, errlen, EINVAL,
                           "insn %zu: %s target %" PRId64 " is the second "
                           "half of an lddw", idx, what, target);
    }
    return 0;
}

/* Decodes slot idx (not the second half of an lddw) into *d, except the
 * handler, and returns its operation (> 0) or a negative errno with a
 * message. */
static int
decode_insn(const struct bpf_vm *vm, const uint8_t *second, size_t idx,
            const struct interp_insn *ic_insns, struct interp_insn *d,
            char *err, size_t errlen)
{
    const struct bpf_prog *prog = vm->prog;
    const struct bpf_inst *in = &prog->insns[idx];
    uint8_t code = in->code;
    bool src_x = BPF_SRC(code) == BPF_SRC_X;
    bool writes_dst = false;
    int op = OP_INVALID;
    int ret;

    d->dst = in->dst;
    d->src = in->src;
    d->off = in->off;
    d->imm = (uint64_t) (int64_t) in->imm;
    d->target = NULL;

    switch (BPF_CLASS(code)) {
    case BPF_CLS_ALU64:
    case BPF_CLS_ALU: {
        bool is64 = BPF_CLASS(code) == BPF_CLS_ALU64;
        unsigned aop = BPF_OP(code);

        if (in->off != 0) {
            /* cpu v4 (sdiv, smod, movsx) sets off; not supported. */
            break;
        }
        writes_dst = true;
        if (aop == BPF_ALU_END) {
            if (is64) {
                break;      /* cpu v4 unconditional bswap */
            }
            if (in->imm != 16 && in->imm != 32 && in->imm != 64) {
                return bpf_set_err(err, errlen, EINVAL,
                                   "insn %zu: byte swap of %" PRId32
                                   " bits (16, 32 or 64)", idx, in->imm);
            }
            if (src_x) {
                op = in->imm == 16 ? OP_BE16 : in->imm == 32 ? OP_BE32
                     : OP_BE64;
            } else {
                op = in->imm == 16 ? OP_LE16 : in->imm == 32 ? OP_LE32
                     : OP_NOP;
            }
            break;
        }
        op = (is64 ? alu64_ops : alu32_ops)[aop >> 4][src_x];
        if (op == OP_INVALID || src_x) {
            break;
        }
        /* K forms: prepare the immediate once. */
        if (!is64) {
            d->imm = (uint32_t) in->imm;
        }
        if (aop == BPF_ALU_LSH || aop == BPF_ALU_RSH || aop == BPF_ALU_ARSH) {
            d->imm &= is64 ? 63 : 31;
        } else if (aop == BPF_ALU_DIV && in->imm == 0) {
            /* x / 0 = 0. */
            op = is64 ? OP_MOV64_K : OP_MOV32_K;
        } else if (aop == BPF_ALU_MOD && in->imm == 0) {
            /* x % 0 = x, zero-extended in 32-bit. */
            op = is64 ? OP_NOP : OP_MOV32_X;
            d->src = in->dst;
        }
        break;
    }

    case BPF_CLS_JMP:
    case BPF_CLS_JMP32: {
        bool is64 = BPF_CLASS(code) == BPF_CLS_JMP;
        unsigned jop = BPF_OP(code);

        if (is64 && jop == BPF_JMP_EXIT && !src_x) {
            op = OP_EXIT;
            break;
        }
        if (is64 && jop == BPF_JMP_CALL && !src_x) {
            if (in->src == BPF_PSEUDO_CALL) {
                ret = check_target(prog, second, idx,
                                   (int64_t) idx + 1 + in->imm,
                                   "call", err, errlen);
                if (ret < 0) {
                    return ret;
                }
                d->target = ic_insns + ((int64_t) idx + 1 + in->imm);
                op = OP_CALL_LOCAL;
            } else if (in->src == 0) {
                d->fn = bpf_helper_func(in->imm);
                if (!d->fn) {
                    return bpf_set_err(err, errlen, EINVAL,
                                       "insn %zu: unknown helper %" PRId32,
                                       idx, in->imm);
                }
                op = OP_CALL;
            } else {
                return bpf_set_err(err, errlen, EINVAL,
                                   "insn %zu: call with unknown src %u",
                                   idx, in->src);
            }
            break;
        }
        if (is64 && jop == BPF_JMP_JA && !src_x) {
            op = OP_JA;
        } else {
            op = (is64 ? jmp64_ops : jmp32_ops)[jop >> 4][src_x];
            if (op == OP_INVALID) {
                break;
            }
            if (!is64 && !src_x) {
                d->imm = (uint32_t) in->imm;
            }
        }
        ret = check_target(prog, second, idx, (int64_t) idx + 1 + in->off,
                           "jump", err, errlen);
        if (ret < 0) {
            return ret;
        }
        d->target = ic_insns + ((int64_t) idx + 1 + in->off);
        break;
    }

    case BPF_CLS_LD:
        if (code == LDDW_CODE) {
            uint32_t hi = (uint32_t) prog->insns[idx + 1].imm;

            writes_dst = true;
            op = OP_LDDW;
            switch (in->src) {
            case 0:
                d->imm = (uint32_t) in->imm | (uint64_t) hi << 32;
                break;
            case BPF_PSEUDO_MAP_IDX:
                if (in->imm < 0 || (size_t) in->imm >= prog->nmaps || hi) {
                    return bpf_set_err(err, errlen, EINVAL,
                                       "insn %zu: lddw of map %" PRId32
                                       ", the program has %zu", idx,
                                       in->imm, prog->nmaps);
                }
                d->imm = (uintptr_t) vm->maps[in->imm];
                break;
            case BPF_PSEUDO_RODATA:
                if (in->imm < 0 || (size_t) in->imm > prog->rodata_len
                    || !prog->rodata || hi) {
                    return bpf_set_err(err, errlen, EINVAL,
                                       "insn %zu: lddw of read-only data "
                                       "offset %" PRId32 ", there are %zu "
                                       "bytes", idx, in->imm,
                                       prog->rodata_len);
                }
                d->imm = (uintptr_t) (prog->rodata + in->imm);
                break;
            default:
                return bpf_set_err(err, errlen, EINVAL,
                                   "insn %zu: lddw with unknown src %u",
                                   idx, in->src);
            }
            d->src = 0;
        } else if (BPF_MODE(code) == BPF_MODE_ABS
                   && BPF_SIZE(code) != BPF_SIZE_DW) {
            op = ldabs_ops[size_index[BPF_SIZE(code) >> 3]];
            d->dst = 0;
            d->src = 0;
        } else if (BPF_MODE(code) == BPF_MODE_IND
                   && BPF_SIZE(code) != BPF_SIZE_DW) {
            op = ldind_ops[size_index[BPF_SIZE(code) >> 3]];
            d->dst = 0;
        }
        break;

    case BPF_CLS_LDX:
        if (BPF_MODE(code) == BPF_MODE_MEM) {
            op = ldx_ops[size_index[BPF_SIZE(code) >> 3]];
            writes_dst = true;
        }
        break;

    case BPF_CLS_ST:
        if (BPF_MODE(code) == BPF_MODE_MEM) {
            op = st_ops[size_index[BPF_SIZE(code) >> 3]];
        }
        break;

    case BPF_CLS_STX:
        if (BPF_MODE(code) == BPF_MODE_MEM) {
            op = stx_ops[size_index[BPF_SIZE(code) >> 3]];
        } else if (BPF_MODE(code) == BPF_MODE_ATOMIC
                   && (BPF_SIZE(code) == BPF_SIZE_W
                       || BPF_SIZE(code) == BPF_SIZE_DW)) {
            op = atomic_op(in->imm, BPF_SIZE(code) == BPF_SIZE_DW);
            if (op != OP_INVALID && (in->imm & BPF_ATOMIC_FETCH)
                && in->imm != BPF_ATOMIC_CMPXCHG && in->src == 10) {
                return bpf_set_err(err, errlen, EINVAL,
                                   "insn %zu: r10 is read-only", idx);
            }
        }
        break;
    }

    if (op == OP_INVALID) {
        return bpf_set_err(err, errlen, EINVAL,
                           "insn %zu: unknown instruction (code 0x%02x, "
                           "src %u, off %d, imm %" PRId32 ")", idx, code,
                           in->src, in->off, in->imm);
    }
    if (d->dst >= BPF_NREGS || d->src >= BPF_NREGS) {
        return bpf_set_err(err, errlen, EINVAL,
                           "insn %zu: bad register r%u", idx,
                           d->dst >= BPF_NREGS ? d->dst : d->src);
    }
    if (writes_dst && d->dst == 10) {
        return bpf_set_err(err, errlen, EINVAL,
                           "insn %zu: r10 is read-only", idx);
    }
    return op;
}

/* Decodes vm->prog into ic->insns with the handlers of table.  Returns 0 or
 * -EINVAL with a message. */
static int
interp_decode(const struct bpf_vm *vm, struct interp *ic,
              const void *const *table, char *err, size_t errlen)
{
    const struct bpf_prog *prog = vm->prog;
    size_t n = prog->ninsns, i;
    uint8_t *second;
    int ret = 0;

    second = calloc(n, 1);
    if (!second) {
        return bpf_set_err(err, errlen, ENOMEM, "out of memory");
    }
    /* First pass: lddw pairs, so that jumps into their second halves can
     * be refused. */
    for (i = 0; i < n; i++) {
        const struct bpf_inst *in = &prog->insns[i];

        if (in->code != LDDW_CODE) {
            continue;
        }
        if (i + 1 >= n) {
            ret = bpf_set_err(err, errlen, EINVAL,
                              "insn %zu: lddw is truncated (no second "
                              "slot)", i);
            goto out;
        }
        if (in[1].code || in[1].dst || in[1].src || in[1].off) {
            ret = bpf_set_err(err, errlen, EINVAL,
                              "insn %zu: bad second slot of lddw", i + 1);
            goto out;
        }
        second[++i] = 1;
    }
    if (prog->entry >= n || second[prog->entry]) {
        ret = bpf_set_err(err, errlen, EINVAL,
                          "entry point %zu is not an instruction",
                          prog->entry);
        goto out;
    }
    for (i = 0; i < n; i++) {
        struct interp_insn *d = &ic->insns[i];
        int op;

        if (second[i]) {
            memset(d, 0, sizeof *d);
            d->handler = table[OP_LDDW_HI];
            continue;
        }
        op = decode_insn(vm, second, i, ic->insns, d, err, errlen);
        if (op < 0) {
            ret = op;
            goto out;
        }
        d->handler = table[op];
    }
    memset(&ic->insns[n], 0, sizeof ic->insns[n]);
    ic->insns[n].handler = table[OP_END_OF_PROG];

out:
    free(second);
    return ret;
}

/* ---------------------------------------------------------------------
 * The VM object
 * ------------------------------------------------------------------- */

struct bpf_vm *
bpf_vm_create(const struct bpf_prog *prog, struct bpf_map *const *maps,
              unsigned flags, char *err, size_t errlen)
{
    const void *const *table;
    struct bpf_vm *vm = NULL;
    struct interp *ic;
    size_t i;
    int ret;

    if (!prog || !prog->insns || prog->ninsns == 0
        || prog->ninsns > BPF_MAX_INSNS || prog->nmaps > BPF_MAX_MAPS) {
        ret = bpf_set_err(err, errlen, EINVAL, "not a loaded program");
        goto error;
    }
    if (flags & ~(unsigned) BPF_VM_BOUNDS_CHECK) {
        ret = bpf_set_err(err, errlen, EINVAL, "unknown flags 0x%x", flags);
        goto error;
    }
    if (bpf_prog_flavour(prog) == BPF_FLAVOUR_XDP) {
        /* The loader reads libbpf/XDP objects, but their helper ids are the
         * kernel's (6 is bpf_trace_printk there, oko_hash here) and their
         * context is struct xdp_md: running one with oko's helpers would
         * give wrong results. */
        ret = bpf_set_err(err, errlen, ENOTSUP, "programs of the libbpf/XDP "
                          "flavour cannot run yet (kernel helper ids and the "
                          "xdp_md context are not implemented)");
        goto error;
    }
    vm = calloc(1, sizeof *vm);
    if (!vm) {
        ret = bpf_set_err(err, errlen, ENOMEM, "out of memory");
        goto error;
    }
    vm->prog = prog;
    vm->flags = flags;
    for (i = 0; i < prog->nmaps; i++) {
        const struct bpf_map_def *def;
        size_t size;

        if (!maps || !maps[i]) {
            ret = bpf_set_err(err, errlen, EINVAL, "map %zu (%s): no map "
                              "given", i, prog->maps[i].name);
            goto error;
        }
        def = bpf_map_get_def(maps[i]);
        if (!def || memcmp(def, &prog->maps[i].def, sizeof *def)) {
            ret = bpf_set_err(err, errlen, EINVAL, "map %zu (%s): "
                              "definition differs", i, prog->maps[i].name);
            goto error;
        }
        vm->maps[i] = maps[i];
        if (def->type == BPF_MAP_CMS && !vm->site_scratch) {
            /* One estimate per instruction, so that the pointers two
             * lookup call sites return stay distinct for the whole run. */
            vm->site_scratch = calloc(prog->ninsns, sizeof(uint32_t));
            if (!vm->site_scratch) {
                ret = bpf_set_err(err, errlen, ENOMEM, "out of memory");
                goto error;
            }
        }
        size = bpf_map_scratch_size(maps[i]);
        vm->scratch[i] = malloc(size ? size : 1);
        if (!vm->scratch[i]) {
            ret = bpf_set_err(err, errlen, ENOMEM, "out of memory");
            goto error;
        }
    }

    ic = malloc(sizeof *ic + (prog->ninsns + 1) * sizeof ic->insns[0]);
    if (!ic) {
        ret = bpf_set_err(err, errlen, ENOMEM, "out of memory");
        goto error;
    }
    vm->code = ic;
    ic->ninsns = prog->ninsns;
    ic->insn_count = 0;
    /* Zeroed once, so that a program reading stack it never wrote (only
     * possible without the verifier) sees zeroes on the first run. */
    ic->stack = aligned_alloc(64, INTERP_STACK_BYTES);
    if (!ic->stack) {
        ret = bpf_set_err(err, errlen, ENOMEM, "out of memory");
        goto error;
    }
    memset(ic->stack, 0, INTERP_STACK_BYTES);
    vm->stack_lo = ic->stack;
    vm->stack_hi = ic->stack + INTERP_STACK_BYTES;

    if (flags & BPF_VM_BOUNDS_CHECK) {
        interp_run_checked(NULL, NULL, 0, &table);
    } else {
        interp_run_fast(NULL, NULL, 0, &table);
    }
    ret = interp_decode(vm, ic, table, err, errlen);
    if (ret < 0) {
        goto error;
    }
    return vm;

error:
    bpf_vm_destroy(vm);
    errno = -ret;
    return NULL;
}

void
bpf_vm_destroy(struct bpf_vm *vm)
{
    struct interp *ic;
    size_t i;

    if (!vm) {
        return;
    }
    ic = vm->code;
    if (ic) {
        free(ic->stack);
        free(ic);
    }
    for (i = 0; i < BPF_MAX_MAPS; i++) {
        free(vm->scratch[i]);
    }
    free(vm->site_scratch);
    free(vm);
}

void
bpf_vm_set_log(struct bpf_vm *vm, bpf_log_fn *fn, void *ctx)
{
    vm->log_fn = fn;
    vm->log_ctx = ctx;
}

uint64_t
bpf_vm_run(struct bpf_vm *vm, void *mem, size_t len)
{
    vm->mem_lo = mem;
    vm->mem_hi = (const uint8_t *) mem + (mem ? len : 0);
    vm->fault = 0;
    vm->last_error[0] = '\0';
    if (len > UINT32_MAX) {
        /* The verifier proves packet accesses for lengths below 2^32 only
         * (r2 is a 32-bit quantity to it): refuse to run on more. */
        vm->fault = -E2BIG;
        snprintf(vm->last_error, sizeof vm->last_error,
                 "input of %zu bytes is longer than 4 GiB - 1", len);
        return 0;
    }
    if (vm->flags & BPF_VM_BOUNDS_CHECK) {
        vm->nvalues = 0;
        return interp_run_checked(vm, mem, mem ? len : 0, NULL);
    }
    return interp_run_fast(vm, mem, mem ? len : 0, NULL);
}

int
bpf_vm_exec(struct bpf_vm *vm, void *mem, size_t len, uint64_t *r0,
            char *err, size_t errlen)
{
    uint64_t ret = bpf_vm_run(vm, mem, len);

    if (vm->fault) {
        /* Helpers set fault to 1; the interpreter to a negative errno. */
        int errnum = vm->fault < 0 ? -vm->fault : EFAULT;

        return bpf_set_err(err, errlen, errnum, "%s",
                           vm->last_error[0] ? vm->last_error
                           : "run-time fault");
    }
    if (r0) {
        *r0 = ret;
    }
    return 0;
}

const char *
bpf_vm_last_error(const struct bpf_vm *vm)
{
    return vm->last_error;
}

/* Returns the number of instructions the last run executed, counted only
 * by a VM created with BPF_VM_BOUNDS_CHECK (0 for others): for benchmarks
 * and statistics.  A run stopped by a fault counts up to the faulting
 * instruction. */
uint64_t
bpf_vm_insn_count(const struct bpf_vm *vm)
{
    const struct interp *ic = vm->code;

    return ic->insn_count;
}

#else /* INTERP_TEMPLATE */

/* ---------------------------------------------------------------------
 * The run loop, included twice: CHECKED is 0 or 1, RUN_FN its name.
 *
 * With table != NULL, stores the handler table (indexed by enum
 * interp_op) into *table and returns: bpf_vm_create() builds decoded
 * programs from it.  Otherwise runs vm's program on mem (len bytes) and
 * returns r0, or 0 after a fault.
 * ------------------------------------------------------------------- */
static uint64_t __attribute__((noinline))
RUN_FN(struct bpf_vm *vm, uint8_t *mem, size_t len,
       const void *const **table)
{
    static const void *const labels[OP__COUNT] = {
#define INTERP_LABEL(name) [OP_##name] = &&L_##name,
        INTERP_OPS(INTERP_LABEL)
#undef INTERP_LABEL
    };
    struct interp_frame frames[BPF_MAX_CALL_DEPTH];
    const struct interp_insn *code, *ip;
    const uint8_t *stack_top;
    uint64_t r[BPF_NREGS];
    unsigned depth = 0;
    struct interp *ic;
#if CHECKED
    uint64_t budget = INTERP_INSN_BUDGET;
#endif
    /* The failed access, for the message. */
    const char *what;
    const void *fp;
    size_t fn;

    if (table) {
        *table = labels;
        return 0;
    }
    ic = vm->code;
    code = ic->insns;
    stack_top = ic->stack + INTERP_STACK_BYTES;
    memset(r, 0, sizeof r);
    r[1] = (uintptr_t) mem;
    r[2] = len;
    r[10] = (uintptr_t) stack_top;
    ip = code + vm->prog->entry;

#define DST r[ip->dst]
#define SRC r[ip->src]
#define IMM ip->imm
#define INSN_IDX ((size_t) (ip - code))

    /* Every executed instruction goes through DISPATCH once. */
#if CHECKED
#define DISPATCH()                                                      \
    do {                                                                \
        if (__builtin_expect(--budget == 0, 0)) {                       \
            goto out_budget;                                            \
        }                                                               \
        goto *ip->handler;                                              \
    } while (0)
#else
#define DISPATCH() goto *ip->handler
#endif
#define NEXT() do { ip++; DISPATCH(); } while (0)
#define JUMP_IF(cond)                                                   \
    do {                                                                \
        ip = (cond) ? ip->target : ip + 1;                       \
        DISPATCH();                                                     \
    } while (0)

    /* Address of a memory operand: base register + signed offset, in
     * 64-bit wrapping arithmetic. */
#define MEM_ADDR(base) \
    ((uint8_t *) (uintptr_t) ((base) + (uint64_t) (int64_t) ip->off))
    /* The live stack: the current frame (r10 - 512 .. r10) and those of
     * its callers above it, which callees may reach through pointers. */
#define STACK_LO ((const uint8_t *) (uintptr_t) r[10] - BPF_STACK_SIZE)
#define CHECK_ACCESS(p, n, w, kind)                                     \
    do {                                                                \
        if (CHECKED && !bpf_vm_check_access(vm, p, n, STACK_LO,         \
                                            stack_top, w)) {            \
            what = kind;                                                \
            fp = p;                                                     \
            fn = n;                                                     \
            goto out_access;                                            \
        }                                                               \
    } while (0)
#define CHECK_ATOMIC(p, n)                                              \
    do {                                                                \
        CHECK_ACCESS(p, n, true, "atomic");                             \
        if (CHECKED && ((uintptr_t) (p) & ((n) - 1))) {                 \
            what = "atomic";                                            \
            fp = p;                                                     \
            fn = n;                                                     \
            goto out_misaligned;                                        \
        }                                                               \
    } while (0)

    DISPATCH();

    /* ALU: 64-bit operations wrap; 32-bit ones work on the low halves
     * and zero-extend (the assignment of a uint32_t to a uint64_t). */
#define ALU_BIN(NAME, OP)                                               \
L_##NAME##64_K: DST = DST OP IMM; NEXT();                               \
L_##NAME##64_X: DST = DST OP SRC; NEXT();                               \
L_##NAME##32_K: DST = (uint32_t) ((uint32_t) DST OP (uint32_t) IMM); NEXT(); \
L_##NAME##32_X: DST = (uint32_t) ((uint32_t) DST OP (uint32_t) SRC); NEXT();

    ALU_BIN(ADD, +)
    ALU_BIN(SUB, -)
    ALU_BIN(MUL, *)
    ALU_BIN(OR, |)
    ALU_BIN(AND, &)
    ALU_BIN(XOR, ^)
#undef ALU_BIN

    /* Immediate divisors and shift amounts were prepared at decode
     * (zero divisors rewritten, shift amounts masked). */
L_DIV64_K: DST = DST / IMM; NEXT();
L_DIV64_X: DST = SRC ? DST / SRC : 0; NEXT();
L_DIV32_K: DST = (uint32_t) DST / (uint32_t) IMM; NEXT();
L_DIV32_X:
    DST = (uint32_t) SRC ? (uint32_t) DST / (uint32_t) SRC : 0;
    NEXT();
L_MOD64_K: DST = DST % IMM; NEXT();
L_MOD64_X: DST = SRC ? DST % SRC : DST; NEXT();
L_MOD32_K: DST = (uint32_t) DST % (uint32_t) IMM; NEXT();
L_MOD32_X:
    DST = (uint32_t) SRC ? (uint32_t) DST % (uint32_t) SRC
                         : (uint32_t) DST;
    NEXT();
L_LSH64_K: DST = DST << IMM; NEXT();
L_LSH64_X: DST = DST << (SRC & 63); NEXT();
L_LSH32_K: DST = (uint32_t) ((uint32_t) DST << IMM); NEXT();
L_LSH32_X: DST = (uint32_t) ((uint32_t) DST << (SRC & 31)); NEXT();
L_RSH64_K: DST = DST >> IMM; NEXT();
L_RSH64_X: DST = DST >> (SRC & 63); NEXT();
L_RSH32_K: DST = (uint32_t) DST >> IMM; NEXT();
L_RSH32_X: DST = (uint32_t) DST >> (SRC & 31); NEXT();
    /* GCC defines >> of a negative value as arithmetic. */
L_ARSH64_K: DST = (uint64_t) ((int64_t) DST >> IMM); NEXT();
L_ARSH64_X: DST = (uint64_t) ((int64_t) DST >> (SRC & 63)); NEXT();
L_ARSH32_K: DST = (uint32_t) ((int32_t) DST >> IMM); NEXT();
L_ARSH32_X: DST = (uint32_t) ((int32_t) DST >> (SRC & 31)); NEXT();
L_NEG64: DST = 0 - DST; NEXT();
L_NEG32: DST = (uint32_t) (0 - (uint32_t) DST); NEXT();
L_MOV64_K: DST = IMM; NEXT();
L_MOV64_X: DST = SRC; NEXT();
L_MOV32_K: DST = (uint32_t) IMM; NEXT();
L_MOV32_X: DST = (uint32_t) SRC; NEXT();

    /* Byte swaps; on a little-endian host to-le only truncates. */
L_LE16: DST = (uint16_t) DST; NEXT();
L_LE32: DST = (uint32_t) DST; NEXT();
L_BE16: DST = __builtin_bswap16((uint16_t) DST); NEXT();
L_BE32: DST = __builtin_bswap32((uint32_t) DST); NEXT();
L_BE64: DST = __builtin_bswap64(DST); NEXT();
L_NOP: NEXT();

    /* Jumps.  K operands were sign-extended to 64 bits for JMP and
     * zero-extended from 32 bits for JMP32. */
L_JA: ip = ip->target; DISPATCH();
#define JMP_CMP(NAME, OP, T64, T32)                                      \
L_##NAME##_K: JUMP_IF((T64) DST OP (T64) IMM);                          \
L_##NAME##_X: JUMP_IF((T64) DST OP (T64) SRC);                          \
L_##NAME##32_K: JUMP_IF((T32) DST OP (T32) IMM);                        \
L_##NAME##32_X: JUMP_IF((T32) DST OP (T32) SRC);

    JMP_CMP(JEQ, ==, uint64_t, uint32_t)
    JMP_CMP(JNE, !=, uint64_t, uint32_t)
    JMP_CMP(JGT, >, uint64_t, uint32_t)
    JMP_CMP(JGE, >=, uint64_t, uint32_t)
    JMP_CMP(JLT, <, uint64_t, uint32_t)
    JMP_CMP(JLE, <=, uint64_t, uint32_t)
    JMP_CMP(JSGT, >, int64_t, int32_t)
    JMP_CMP(JSGE, >=, int64_t, int32_t)
    JMP_CMP(JSLT, <, int64_t, int32_t)
    JMP_CMP(JSLE, <=, int64_t, int32_t)
#undef JMP_CMP
L_JSET_K: JUMP_IF(DST & IMM);
L_JSET_X: JUMP_IF(DST & SRC);
L_JSET32_K: JUMP_IF((uint32_t) DST & (uint32_t) IMM);
L_JSET32_X: JUMP_IF((uint32_t) DST & (uint32_t) SRC);

    /* Calls. */
L_CALL:
    if (CHECKED) {
        /* Helpers check pointer arguments against the live stack. */
        vm->stack_lo = STACK_LO;
    }
    vm->call_site = (uint32_t) INSN_IDX;
    r[0] = ip->fn(vm, r[1], r[2], r[3], r[4], r[5]);
    if (__builtin_expect(vm->fault != 0, 0)) {
        goto out_helper;
    }
    NEXT();
L_CALL_LOCAL: {
        struct interp_frame *f;

        if (__builtin_expect(depth == BPF_MAX_CALL_DEPTH, 0)) {
            goto out_depth;
        }
        f = &frames[depth++];
        f->ret = ip + 1;
        memcpy(f->saved, &r[6], sizeof f->saved);
        r[10] -= BPF_STACK_SIZE;
        ip = ip->target;
        DISPATCH();
    }
L_EXIT:
    if (depth == 0) {
        goto out;
    } else {
        const struct interp_frame *f = &frames[--depth];

        memcpy(&r[6], f->saved, sizeof f->saved);
        ip = f->ret;
        DISPATCH();
    }

L_LDDW: DST = IMM; ip += 2; DISPATCH();

    /* Loads and stores: memcpy of a constant size compiles to one move
     * and allows any alignment. */
#define LOAD(NAME, T)                                                   \
L_##NAME: {                                                             \
        const uint8_t *p_ = MEM_ADDR(SRC);                              \
        T v_;                                                           \
                                                                        \
        CHECK_ACCESS(p_, sizeof(T), false, "load");                     \
        memcpy(&v_, p_, sizeof(T));                                     \
        DST = v_;                                                       \
        NEXT();                                                         \
    }
#define STORE(NAME, T, VALUE)                                           \
L_##NAME: {                                                             \
        uint8_t *p_ = MEM_ADDR(DST);                                    \
        T v_ = (T) (VALUE);                                             \
                                                                        \
        CHECK_ACCESS(p_, sizeof(T), true, "store");                     \
        memcpy(p_, &v_, sizeof(T));                                     \
        NEXT();                                                         \
    }
    LOAD(LDXB, uint8_t)
    LOAD(LDXH, uint16_t)
    LOAD(LDXW, uint32_t)
    LOAD(LDXDW, uint64_t)
    STORE(STB, uint8_t, IMM)
    STORE(STH, uint16_t, IMM)
    STORE(STW, uint32_t, IMM)
    STORE(STDW, uint64_t, IMM)
    STORE(STXB, uint8_t, SRC)
    STORE(STXH, uint16_t, SRC)
    STORE(STXW, uint32_t, SRC)
    STORE(STXDW, uint64_t, SRC)
#undef LOAD
#undef STORE

    /* Atomics: map values are shared between threads and processes.  The
     * fetch forms put the old value (zero-extended) into src. */
#define ATOMIC(NAME, T, BUILTIN, FETCH)                                 \
L_##NAME: {                                                             \
        T *p_ = (T *) MEM_ADDR(DST);                                    \
        T old_;                                                         \
                                                                        \
        CHECK_ATOMIC(p_, sizeof(T));                                    \
        old_ = BUILTIN(p_, (T) SRC, __ATOMIC_SEQ_CST);                  \
        if (FETCH) {                                                    \
            SRC = old_;                                                 \
        }                                                               \
        NEXT();                                                         \
    }
    ATOMIC(AADD_W, uint32_t, __atomic_fetch_add, false)
    ATOMIC(AOR_W, uint32_t, __atomic_fetch_or, false)
    ATOMIC(AAND_W, uint32_t, __atomic_fetch_and, false)
    ATOMIC(AXOR_W, uint32_t, __atomic_fetch_xor, false)
    ATOMIC(AFADD_W, uint32_t, __atomic_fetch_add, true)
    ATOMIC(AFOR_W, uint32_t, __atomic_fetch_or, true)
    ATOMIC(AFAND_W, uint32_t, __atomic_fetch_and, true)
    ATOMIC(AFXOR_W, uint32_t, __atomic_fetch_xor, true)
    ATOMIC(AXCHG_W, uint32_t, __atomic_exchange_n, true)
    ATOMIC(AADD_DW, uint64_t, __atomic_fetch_add, false)
    ATOMIC(AOR_DW, uint64_t, __atomic_fetch_or, false)
    ATOMIC(AAND_DW, uint64_t, __atomic_fetch_and, false)
    ATOMIC(AXOR_DW, uint64_t, __atomic_fetch_xor, false)
    ATOMIC(AFADD_DW, uint64_t, __atomic_fetch_add, true)
    ATOMIC(AFOR_DW, uint64_t, __atomic_fetch_or, true)
    ATOMIC(AFAND_DW, uint64_t, __atomic_fetch_and, true)
    ATOMIC(AFXOR_DW, uint64_t, __atomic_fetch_xor, true)
    ATOMIC(AXCHG_DW, uint64_t, __atomic_exchange_n, true)
#undef ATOMIC
    /* Compares with r0; the old value goes to r0 whether or not the
     * exchange happened (on failure the builtin stores it in exp_). */
#define CMPXCHG(NAME, T)                                                \
L_##NAME: {                                                             \
        T *p_ = (T *) MEM_ADDR(DST);                                    \
        T exp_ = (T) r[0];                                              \
                                                                        \
        CHECK_ATOMIC(p_, sizeof(T));                                    \
        __atomic_compare_exchange_n(p_, &exp_, (T) SRC, false,          \
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
        r[0] = exp_;                                                    \
        NEXT();                                                         \
    }
    CMPXCHG(ACMPXCHG_W, uint32_t)
    CMPXCHG(ACMPXCHG_DW, uint64_t)
#undef CMPXCHG

    /* Legacy packet loads into r0, network to host order.  The offset is
     * computed in 64 bits; negative or past-the-end offsets (wrapped to
     * huge unsigned values) end the program with r0 = 0. */
#define LDPKT(NAME, T, BASE, SWAP)                                      \
L_##NAME: {                                                             \
        uint64_t o_ = (BASE) + IMM;                                     \
        T v_;                                                           \
                                                                        \
        if (o_ >= len || len - o_ < sizeof(T)) {                        \
            goto out_zero;                                              \
        }                                                               \
        memcpy(&v_, mem + o_, sizeof(T));                               \
        r[0] = SWAP(v_);                                                \
        NEXT();                                                         \
    }
#define NOSWAP(x) (x)
    LDPKT(LDABSB, uint8_t, 0, NOSWAP)
    LDPKT(LDABSH, uint16_t, 0, __builtin_bswap16)
    LDPKT(LDABSW, uint32_t, 0, __builtin_bswap32)
    LDPKT(LDINDB, uint8_t, SRC, NOSWAP)
    LDPKT(LDINDH, uint16_t, SRC, __builtin_bswap16)
    LDPKT(LDINDW, uint32_t, SRC, __builtin_bswap32)
#undef NOSWAP
#undef LDPKT

    /* Never reached: bpf_vm_create refuses jumps into an lddw and the
     * lddw handler skips its second half.  Kept as a fault, not a crash. */
L_LDDW_HI:
L_INVALID:
    interp_fault(vm, EINVAL, "insn %zu: invalid instruction", INSN_IDX);
    goto out_fault;

L_END_OF_PROG:
    interp_fault(vm, EINVAL, "insn %zu: execution ran past the last "
                 "instruction", INSN_IDX - 1);
    goto out_fault;

out_depth:
    interp_fault(vm, ELOOP, "insn %zu: call depth exceeds %d", INSN_IDX,
                 BPF_MAX_CALL_DEPTH);
    goto out_fault;

out_access:
    interp_access_fault(vm, INSN_IDX, what, fp, fn, false);
    goto out_fault;

out_misaligned:
    interp_access_fault(vm, INSN_IDX, what, fp, fn, true);
    goto out_fault;

out_helper:
    interp_helper_fault(vm, INSN_IDX);
    goto out_fault;

#if CHECKED
out_budget:
    interp_fault(vm, ELOOP, "insn %zu: more than %u instructions executed "
                 "(infinite loop?)", INSN_IDX, INTERP_INSN_BUDGET);
    goto out_fault;
#endif

out_fault:
out_zero:
    r[0] = 0;
out:
#if CHECKED
    ic->insn_count = INTERP_INSN_BUDGET - budget;
#endif
    return r[0];

#undef DST
#undef SRC
#undef IMM
#undef INSN_IDX
#undef DISPATCH
#undef NEXT
#undef JUMP_IF
#undef MEM_ADDR
#undef STACK_LO
#undef CHECK_ACCESS
#undef CHECK_ATOMIC
}

#endif /* INTERP_TEMPLATE */
