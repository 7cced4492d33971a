/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * disasm.c -- one eBPF instruction to text, in the syntax of llvm-objdump
 * ("r0 = *(u16 *)(r1 + 12)", "lock *(u64 *)(r0 + 0) += r1").  Jump targets
 * are shown as instruction indexes ("goto +3 <17>"), the pseudo lddw of a
 * loaded program as "map[N]" or "rodata+0xOFF", helper calls with the
 * helper's name.  Immediates of unsigned conditional jumps are printed in
 * hex (but negative ones and 0 to 9 in decimal), as the kernel's verifier
 * log does; other immediates in decimal.
 *
 * The encodings of ISA v4 (sign-extending loads and moves, signed division,
 * unconditional byte swaps, gotol) are decoded too, although oko runs only
 * v1 to v3: a disassembler shows what is there, the verifier rejects it.
 *
 * The disassembler takes anything: an instruction it cannot decode comes
 * out as "invalid opcode 0xNN" (or a more precise "invalid ..." line), never
 * as a crash, and the output is always NUL-terminated.
 */
#include "bpf_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Mode of the sign-extending loads of ISA v4 (LDX only). */
#define BPF_MODE_MEMSX 0x80

/* A bounded string builder: appends never overflow, the result is always
 * NUL-terminated (when there is room for at least the NUL). */
struct sbuf {
    char *buf;
    size_t len;
    size_t cap;
};

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int r;

    if (sb->cap == 0 || sb->len >= sb->cap - 1) {
        return;
    }
    va_start(ap, fmt);
    r = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
    va_end(ap);
    if (r < 0) {
        sb->buf[sb->len] = '\0';
        return;
    }
    sb->len += (size_t) r;
    if (sb->len >= sb->cap) {
        sb->len = sb->cap - 1;
    }
}

/* Register prefix: 'w' for the 32-bit view, 'r' for the 64-bit one. */
static char
reg_prefix(bool is32)
{
    return is32 ? 'w' : 'r';
}

static const char *
size_name(uint8_t code, bool is_signed)
{
    switch (BPF_SIZE(code)) {
    case BPF_SIZE_B:
        return is_signed ? "s8" : "u8";
    case BPF_SIZE_H:
        return is_signed ? "s16" : "u16";
    case BPF_SIZE_W:
        return is_signed ? "s32" : "u32";
    default:
        return is_signed ? "s64" : "u64";
    }
}

/* "r1 + 12" / "r10 - 4": a base register and an offset. */
static void
sb_regoff(struct sbuf *sb, unsigned reg, int64_t off)
{
    if (off < 0) {
        sb_printf(sb, "r%u - %" PRId64, reg, -off);
    } else {
        sb_printf(sb, "r%u + %" PRId64, reg, off);
    }
}

/* "(r1 + 12)": the address of a load or store. */
static void
sb_addr(struct sbuf *sb, unsigned reg, int16_t off)
{
    sb_printf(sb, "(");
    sb_regoff(sb, reg, off);
    sb_printf(sb, ")");
}

/* "+3 <17>": a jump offset and its target instruction. */
static void
sb_target(struct sbuf *sb, size_t idx, int64_t off)
{
    int64_t target = (int64_t) idx + 1 + off;

    sb_printf(sb, "%+" PRId64 " <%" PRId64 ">", off, target);
}

static void
sb_invalid(struct sbuf *sb, uint8_t code)
{
    sb_printf(sb, "invalid opcode 0x%02x", code);
}

static void
disasm_alu(struct sbuf *sb, const struct bpf_inst *in)
{
    static const char *const ops[16] = {
        [BPF_ALU_ADD >> 4] = "+=", [BPF_ALU_SUB >> 4] = "-=",
        [BPF_ALU_MUL >> 4] = "*=", [BPF_ALU_DIV >> 4] = "/=",
        [BPF_ALU_OR >> 4] = "|=", [BPF_ALU_AND >> 4] = "&=",
        [BPF_ALU_LSH >> 4] = "<<=", [BPF_ALU_RSH >> 4] = ">>=",
        [BPF_ALU_MOD >> 4] = "%=", [BPF_ALU_XOR >> 4] = "^=",
        [BPF_ALU_MOV >> 4] = "=", [BPF_ALU_ARSH >> 4] = "s>>=",
    };
    bool is32 = BPF_CLASS(in->code) == BPF_CLS_ALU;
    char p = reg_prefix(is32);
    uint8_t op = BPF_OP(in->code);
    bool x = BPF_SRC(in->code) == BPF_SRC_X;
    const char *opname;

    switch (op) {
    case BPF_ALU_NEG:
        if (x) {
            break;
        }
        sb_printf(sb, "%c%u = -%c%u", p, in->dst, p, in->dst);
        return;

    case BPF_ALU_END:
        if (in->imm != 16 && in->imm != 32 && in->imm != 64) {
            sb_printf(sb, "invalid byte swap width %d", in->imm);
            return;
        }
        if (!is32) {
            /* BPF_ALU64 | BPF_END: unconditional swap (ISA v4). */
            if (x) {
                break;
            }
            sb_printf(sb, "r%u = bswap%d r%u", in->dst, in->imm, in->dst);
            return;
        }
        sb_printf(sb, "r%u = %s%d r%u", in->dst, x ? "be" : "le", in->imm,
                  in->dst);
        return;

    case BPF_ALU_DIV:
    case BPF_ALU_MOD:
        /* off = 1 selects the signed variant (ISA v4). */
        if (in->off != 0 && in->off != 1) {
            sb_printf(sb, "invalid opcode 0x%02x (off %d)", in->code, in->off);
            return;
        }
        opname = op == BPF_ALU_DIV ? (in->off ? "s/=" : "/=")
                                   : (in->off ? "s%=" : "%=");
        if (x) {
            sb_printf(sb, "%c%u %s %c%u", p, in->dst, opname, p, in->src);
        } else {
            sb_printf(sb, "%c%u %s %d", p, in->dst, opname, in->imm);
        }
        return;

    case BPF_ALU_MOV:
        /* off = 8/16/32 on a register move sign-extends (ISA v4). */
        if (x && in->off != 0) {
            if (in->off != 8 && in->off != 16
                && (in->off != 32 || is32)) {
                sb_printf(sb, "invalid opcode 0x%02x (off %d)", in->code,
                          in->off);
                return;
            }
            sb_printf(sb, "%c%u = (s%d)%c%u", p, in->dst, in->off, p,
                      in->src);
            return;
        }
        /* fall through */
    default:
        opname = ops[op >> 4];
        if (!opname) {
            break;
        }
        if (x) {
            sb_printf(sb, "%c%u %s %c%u", p, in->dst, opname, p, in->src);
        } else {
            sb_printf(sb, "%c%u %s %d", p, in->dst, opname, in->imm);
        }
        return;
    }
    sb_invalid(sb, in->code);
}

static void
disasm_jmp(struct sbuf *sb, const struct bpf_inst *in, size_t idx)
{
    static const char *const ops[16] = {
        [BPF_JMP_JEQ >> 4] = "==", [BPF_JMP_JGT >> 4] = ">",
        [BPF_JMP_JGE >> 4] = ">=", [BPF_JMP_JSET >> 4] = "&",
        [BPF_JMP_JNE >> 4] = "!=", [BPF_JMP_JSGT >> 4] = "s>",
        [BPF_JMP_JSGE >> 4] = "s>=", [BPF_JMP_JLT >> 4] = "<",
        [BPF_JMP_JLE >> 4] = "<=", [BPF_JMP_JSLT >> 4] = "s<",
        [BPF_JMP_JSLE >> 4] = "s<=",
    };
    bool is32 = BPF_CLASS(in->code) == BPF_CLS_JMP32;
    char p = reg_prefix(is32);
    uint8_t op = BPF_OP(in->code);
    const char *opname;

    switch (op) {
    case BPF_JMP_JA:
        if (BPF_SRC(in->code) != BPF_SRC_K) {
            break;
        }
        if (is32) {
            /* gotol: 32-bit offset in imm (ISA v4). */
            sb_printf(sb, "gotol ");
            sb_target(sb, idx, in->imm);
        } else {
            sb_printf(sb, "goto ");
            sb_target(sb, idx, in->off);
        }
        return;

    case BPF_JMP_CALL:
        if (is32 || BPF_SRC(in->code) != BPF_SRC_K) {
            break;
        }
        if (in->src == BPF_PSEUDO_CALL) {
            sb_printf(sb, "call ");
            sb_target(sb, idx, in->imm);
        } else if (in->src == 0) {
            const char *name = bpf_helper_name(in->imm);

            if (name) {
                sb_printf(sb, "call %d (%s)", in->imm, name);
            } else {
                sb_printf(sb, "call %d", in->imm);
            }
        } else {
            sb_printf(sb, "invalid call (src %u)", in->src);
        }
        return;

    case BPF_JMP_EXIT:
        if (is32 || BPF_SRC(in->code) != BPF_SRC_K) {
            break;
        }
        sb_printf(sb, "exit");
        return;

    default:
        opname = ops[op >> 4];
        if (!opname) {
            break;
        }
        if (BPF_SRC(in->code) == BPF_SRC_X) {
            sb_printf(sb, "if %c%u %s %c%u goto ", p, in->dst, opname, p,
                      in->src);
        } else if (in->imm < 10 || op == BPF_JMP_JSGT || op == BPF_JMP_JSGE
                   || op == BPF_JMP_JSLT || op == BPF_JMP_JSLE) {
            sb_printf(sb, "if %c%u %s %d goto ", p, in->dst, opname,
                      in->imm);
        } else {
            sb_printf(sb, "if %c%u %s 0x%x goto ", p, in->dst, opname,
                      (unsigned) in->imm);
        }
        sb_target(sb, idx, in->off);
        return;
    }
    sb_invalid(sb, in->code);
}

static void
disasm_atomic(struct sbuf *sb, const struct bpf_inst *in)
{
    bool is32 = BPF_SIZE(in->code) == BPF_SIZE_W;
    char p = reg_prefix(is32);
    const char *sz = is32 ? "u32" : "u64";
    const char *op = NULL, *fetch = NULL;

    if (BPF_SIZE(in->code) != BPF_SIZE_W
        && BPF_SIZE(in->code) != BPF_SIZE_DW) {
        sb_invalid(sb, in->code);
        return;
    }
    switch (in->imm) {
    case BPF_ATOMIC_ADD:
        op = "+=";
        break;
    case BPF_ATOMIC_OR:
        op = "|=";
        break;
    case BPF_ATOMIC_AND:
        op = "&=";
        break;
    case BPF_ATOMIC_XOR:
        op = "^=";
        break;
    case BPF_ATOMIC_ADD | BPF_ATOMIC_FETCH:
        fetch = "add";
        break;
    case BPF_ATOMIC_OR | BPF_ATOMIC_FETCH:
        fetch = "or";
        break;
    case BPF_ATOMIC_AND | BPF_ATOMIC_FETCH:
        fetch = "and";
        break;
    case BPF_ATOMIC_XOR | BPF_ATOMIC_FETCH:
        fetch = "xor";
        break;
    case BPF_ATOMIC_XCHG:
        sb_printf(sb, "%c%u = %s(", p, in->src,
                  is32 ? "xchg32_32" : "xchg_64");
        sb_regoff(sb, in->dst, in->off);
        sb_printf(sb, ", %c%u)", p, in->src);
        return;
    case BPF_ATOMIC_CMPXCHG:
        sb_printf(sb, "%c0 = %s(", p, is32 ? "cmpxchg32_32" : "cmpxchg_64");
        sb_regoff(sb, in->dst, in->off);
        sb_printf(sb, ", %c0, %c%u)", p, p, in->src);
        return;
    default:
        sb_printf(sb, "invalid atomic operation 0x%x", (unsigned) in->imm);
        return;
    }
    if (op) {
        sb_printf(sb, "lock *(%s *)", sz);
        sb_addr(sb, in->dst, in->off);
        sb_printf(sb, " %s %c%u", op, p, in->src);
    } else {
        sb_printf(sb, "%c%u = atomic_fetch_%s((%s *)", p, in->src, fetch,
                  sz);
        sb_addr(sb, in->dst, in->off);
        sb_printf(sb, ", %c%u)", p, in->src);
    }
}

/* Instruction classes LD (lddw, legacy packet loads), LDX, ST, STX. */
static int
disasm_mem(struct sbuf *sb, const struct bpf_inst *insns, size_t n,
           size_t idx)
{
    const struct bpf_inst *in = &insns[idx];
    uint8_t cls = BPF_CLASS(in->code);
    uint8_t mode = BPF_MODE(in->code);

    switch (cls) {
    case BPF_CLS_LD:
        if (mode == BPF_MODE_IMM && BPF_SIZE(in->code) == BPF_SIZE_DW) {
            uint64_t imm64;

            if (idx + 1 >= n) {
                sb_printf(sb, "invalid lddw (missing second slot)");
                return 1;
            }
            imm64 = (uint32_t) in->imm
                    | ((uint64_t) (uint32_t) insns[idx + 1].imm << 32);
            switch (in->src) {
            case 0:
                /* Small constants in decimal, addresses and masks in
                 * hex. */
                if ((int64_t) imm64 >= -65536 && (int64_t) imm64 <= 65536) {
                    sb_printf(sb, "r%u = %" PRId64 " ll", in->dst,
                              (int64_t) imm64);
                } else {
                    sb_printf(sb, "r%u = 0x%" PRIx64 " ll", in->dst, imm64);
                }
                break;
            case BPF_PSEUDO_MAP_IDX:
                sb_printf(sb, "r%u = map[%u] ll", in->dst,
                          (unsigned) in->imm);
                break;
            case BPF_PSEUDO_RODATA:
                sb_printf(sb, "r%u = rodata+0x%x ll", in->dst,
                          (unsigned) in->imm);
                break;
            default:
                sb_printf(sb, "invalid lddw (src %u)", in->src);
                break;
            }
            return 2;
        }
        if ((mode == BPF_MODE_ABS || mode == BPF_MODE_IND)
            && BPF_SIZE(in->code) != BPF_SIZE_DW) {
            const char *sz = size_name(in->code, false);

            sb_printf(sb, "r0 = *(%s *)skb[", sz);
            if (mode == BPF_MODE_ABS) {
                sb_printf(sb, "%d", in->imm);
            } else {
                sb_regoff(sb, in->src, in->imm);
            }
            sb_printf(sb, "]");
            return 1;
        }
        break;

    case BPF_CLS_LDX:
        if (mode == BPF_MODE_MEM
            || (mode == BPF_MODE_MEMSX && BPF_SIZE(in->code) != BPF_SIZE_DW)) {
            sb_printf(sb, "r%u = *(%s *)", in->dst,
                      size_name(in->code, mode == BPF_MODE_MEMSX));
            sb_addr(sb, in->src, in->off);
            return 1;
        }
        break;

    case BPF_CLS_ST:
        if (mode == BPF_MODE_MEM) {
            sb_printf(sb, "*(%s *)", size_name(in->code, false));
            sb_addr(sb, in->dst, in->off);
            sb_printf(sb, " = %d", in->imm);
            return 1;
        }
        break;

    case BPF_CLS_STX:
        if (mode == BPF_MODE_MEM) {
            sb_printf(sb, "*(%s *)", size_name(in->code, false));
            sb_addr(sb, in->dst, in->off);
            sb_printf(sb, " = r%u", in->src);
            return 1;
        }
        if (mode == BPF_MODE_ATOMIC) {
            disasm_atomic(sb, in);
            return 1;
        }
        break;
    }
    sb_invalid(sb, in->code);
    return 1;
}

/* Writes instruction idx of insns (n of them) as text into buf (buflen
 * bytes, always NUL-terminated if buflen > 0; buf may be NULL when buflen
 * is 0).  Returns the number of slots the instruction takes: 2 for a
 * complete lddw, else 1, also for an index out of range, so that a caller
 * stepping through a program always advances. */
int
bpf_disasm_insn(const struct bpf_inst *insns, size_t n, size_t idx,
                char *buf, size_t buflen)
{
    struct sbuf sb = { buf, 0, buf ? buflen : 0 };
    const struct bpf_inst *in;
    int slots = 1;

    if (sb.cap) {
        buf[0] = '\0';
    }
    if (!insns || idx >= n) {
        sb_printf(&sb, "invalid instruction index %zu", idx);
        return 1;
    }
    in = &insns[idx];
    switch (BPF_CLASS(in->code)) {
    case BPF_CLS_ALU:
    case BPF_CLS_ALU64:
        disasm_alu(&sb, in);
        break;
    case BPF_CLS_JMP:
    case BPF_CLS_JMP32:
        disasm_jmp(&sb, in, idx);
        break;
    default:
        slots = disasm_mem(&sb, insns, n, idx);
        break;
    }
    return slots;
}
