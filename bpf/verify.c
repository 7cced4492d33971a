/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * verify.c -- the verifier: the security boundary between a filter program
 * and the switch (OKO-ABI.md section 3).
 *
 * Two passes.  The structural pass checks every instruction (opcode,
 * registers, reserved fields, lddw pairs, helper ids), splits the code into
 * functions (the entry, every BPF-to-BPF call target and every function
 * symbol), checks that jumps stay inside their function and do not land on
 * the second half of an lddw, that no reachable instruction falls off the
 * end of its function and that calls do not recurse.  BPF_VERIFY_STRUCTURAL
 * stops there.
 *
 * In BPF_VERIFY_FILTER mode a static abstract interpretation then walks
 * every path, in the manner of the Linux verifier: registers carry a type
 * (scalar, packet pointer, packet end, stack, map, map value, possibly-NULL
 * map value, read-only data) and, for scalars and variable pointer offsets,
 * unsigned and signed 64-bit bounds plus a tnum (known bits).  32-bit
 * operations work on the zero-extended low halves of their operands.  The
 * stack of every frame is tracked byte by byte (uninitialised, scalar data,
 * spilled register).  Conditional jumps refine the bounds on both branches
 * and branches proven dead are not explored.
 *
 * The packet length is unknown at verification time.  A state carries the
 * proven minimum length L_min, raised whenever the length (r2, or a copy of
 * it plus a constant) is compared with a constant, and "relations": scalar
 * values are named by ids (a copy or a copy plus a constant keeps its id
 * and records the constant as a delta), and comparing value X + c with the
 * length records X + c <= L on the branch where it holds.  A packet pointer
 * pkt + X + k read with size s is in bounds if k + s fits a relation on X,
 * or if its largest offset fits L_min.  pkt + len is a packet-end pointer
 * and comparing packet pointers with it records the same facts.
 *
 * Termination: states are stored at jump targets; a path reaching a stored,
 * fully explored state that subsumes it is pruned.  Subsumption ignores
 * dead registers (static liveness) and the exact value of scalars no later
 * check depended on: as in Linux, a check that depends on a scalar (a
 * branch its value decides, pointer arithmetic, a helper's size) traces the
 * value back through the walked instructions and marks it "precise" in the
 * stored ancestors; a pruned path inherits the marks of the state that
 * pruned it.  Stored states are bucketed by the constant in one register or
 * stack slot (a loop counter) so that lookups stay short.  Reaching a state
 * subsumed by one of its own ancestors is an unbounded loop.  Bounded loops
 * are explored until their condition proves the exit, within a budget of
 * processed instructions and of state comparisons (-E2BIG "program too
 * complex").
 *
 * Assumption: the packet length passed to the VM is at most 2^32 - 1 (the
 * length register is a scalar in [0, 2^32 - 1]).
 *
 * Rejection classes (message "insn N: rX: reason"; return value):
 *
 *   malformed (-EINVAL)
 *     unknown opcode                     code 0x8e
 *     bad register / reserved field      dst 11; off != 0 in an ALU insn
 *     write to r10                       r10 = 0
 *     lddw split or truncated            jump to 5 splits an lddw
 *     jump out of range / of function    goto +100 in a 3-insn program
 *     fall off the end                   last reachable insn is not exit/ja
 *     unknown helper / bad call target   call 99; call into an lddw half
 *     recursion                          f calls f
 *   unsafe (-EACCES)
 *     uninitialised register             r0 = r2 + r3 with r3 never set
 *     uninitialised stack byte           r0 = *(u64 *)(r10 - 8) first
 *     packet out of bounds               read pkt[34] after len < 34 check
 *     write to read-only memory          *(u8 *)(r1 + 0) = 1
 *     stack out of bounds                *(u64 *)(r10 + 0); r10 - 520
 *     map value out of bounds            *(u64 *)(r0 + 4) on an 8-byte value
 *     possible NULL dereference          lookup result read before a check
 *     pointer leak                       return a pointer; store it in a map
 *     bad pointer arithmetic             ptr * 2; w1 += 1 on a pointer
 *     bad pointer comparison             if r1 > 5 with r1 a packet pointer
 *     bad helper argument                key on uninitialised stack; size
 *                                        larger than the buffer
 *     unbounded loop                     l: goto l
 *   too complex (-E2BIG)
 *     instruction budget exceeded        a loop bounded only by 2^32
 */
#include "bpf_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Default budget of instructions walked over all paths. */
#define DEFAULT_MAX_INSNS 1000000
/* Largest packet length the analysis assumes (see the header comment). */
#define MAX_PKT_LEN 0xffffffffull
/* Bound on pointer offsets and linked-scalar deltas: keeps every offset sum
 * far from wrapping around 2^64 (the Linux verifier uses 1 << 29 too). */
#define OFF_LIMIT (1ll << 29)
/* Pending branches kept at once (as Linux). */
#define MAX_PENDING 8192
/* Stored states per instruction and in all, for pruning. */
#define MAX_STATES_PER_INSN 16384
#define MAX_STATES_TOTAL 262144
/* Stored states of one instruction beyond which those that rarely prune
 * are dropped. */
#define EVICT_THRESHOLD 2048
/* Budget of state comparisons per instruction of the budget. */
#define CMP_PER_INSN 16
/* Length relations one state keeps. */
#define MAX_RELS 16
/* The id of the packet length value. */
#define LEN_ID 1

/* ---------------------------------------------------------------------
 * Tnums: (value, mask) = bits known to be value where mask is clear.
 * ------------------------------------------------------------------- */

struct tnum {
    uint64_t value;
    uint64_t mask;
};

static const struct tnum tnum_unknown = { 0, UINT64_MAX };

static struct tnum
tnum_const(uint64_t v)
{
    return (struct tnum) { v, 0 };
}

static bool
tnum_is_const(struct tnum a)
{
    return !a.mask;
}

static struct tnum
tnum_range(uint64_t min, uint64_t max)
{
    uint64_t chi = min ^ max, delta;
    int bits = chi ? 64 - __builtin_clzll(chi) : 0;

    if (bits > 63) {
        return tnum_unknown;
    }
    delta = (1ull << bits) - 1;
    return (struct tnum) { min & ~delta, delta };
}

static struct tnum
tnum_add(struct tnum a, struct tnum b)
{
    uint64_t sm = a.mask + b.mask, sv = a.value + b.value;
    uint64_t sigma = sm + sv, chi = sigma ^ sv;
    uint64_t mu = chi | a.mask | b.mask;

    return (struct tnum) { sv & ~mu, mu };
}

static struct tnum
tnum_sub(struct tnum a, struct tnum b)
{
    uint64_t dv = a.value - b.value;
    uint64_t alpha = dv + a.mask, beta = dv - b.mask;
    uint64_t mu = (alpha ^ beta) | a.mask | b.mask;

    return (struct tnum) { dv & ~mu, mu };
}

static struct tnum
tnum_and(struct tnum a, struct tnum b)
{
    uint64_t alpha = a.value | a.mask, beta = b.value | b.mask;
    uint64_t v = a.value & b.value;

    return (struct tnum) { v, alpha & beta & ~v };
}

static struct tnum
tnum_or(struct tnum a, struct tnum b)
{
    uint64_t v = a.value | b.value, mu = a.mask | b.mask;

    return (struct tnum) { v, mu & ~v };
}

static struct tnum
tnum_xor(struct tnum a, struct tnum b)
{
    uint64_t v = a.value ^ b.value, mu = a.mask | b.mask;

    return (struct tnum) { v & ~mu, mu };
}

static struct tnum
tnum_lshift(struct tnum a, unsigned s)
{
    return (struct tnum) { a.value << s, a.mask << s };
}

static struct tnum
tnum_rshift(struct tnum a, unsigned s)
{
    return (struct tnum) { a.value >> s, a.mask >> s };
}

static struct tnum
tnum_arshift(struct tnum a, unsigned s)
{
    return (struct tnum) { (uint64_t) ((int64_t) a.value >> s),
                           (uint64_t) ((int64_t) a.mask >> s) };
}

static struct tnum
tnum_mul(struct tnum a, struct tnum b)
{
    uint64_t acc_v = a.value * b.value;
    struct tnum acc_m = { 0, 0 };

    while (a.value || a.mask) {
        if (a.value & 1) {
            acc_m = tnum_add(acc_m, (struct tnum) { 0, b.mask });
        } else if (a.mask & 1) {
            acc_m = tnum_add(acc_m, (struct tnum) { 0, b.value | b.mask });
        }
        a = tnum_rshift(a, 1);
        b = tnum_lshift(b, 1);
    }
    return tnum_add(tnum_const(acc_v), acc_m);
}

static struct tnum
tnum_intersect(struct tnum a, struct tnum b)
{
    uint64_t v = a.value | b.value, mu = a.mask & b.mask;

    return (struct tnum) { v & ~mu, mu };
}

/* True if the two tnums share no value. */
static bool
tnum_conflict(struct tnum a, struct tnum b)
{
    return ((a.value ^ b.value) & ~(a.mask | b.mask)) != 0;
}

/* True if every value of b is a value of a. */
static bool
tnum_in(struct tnum a, struct tnum b)
{
    if (b.mask & ~a.mask) {
        return false;
    }
    b.value &= ~a.mask;
    return a.value == b.value;
}

static struct tnum
tnum_cast32(struct tnum a)
{
    return (struct tnum) { a.value & UINT32_MAX, a.mask & UINT32_MAX };
}

/* ---------------------------------------------------------------------
 * Abstract state.
 * ------------------------------------------------------------------- */

enum reg_type {
    NOT_INIT = 0,
    SCALAR,
    PTR_PKT,            /* packet + off + variable part */
    PTR_PKT_END,        /* packet + length + off */
    PTR_STACK,          /* frame pointer of frame `frameno` + off + var */
    PTR_MAP,            /* the map itself: helper argument only */
    PTR_MAP_VALUE,
    PTR_MAP_VALUE_OR_NULL,
    PTR_RODATA,
};

static const char *const reg_type_names[] = {
    [NOT_INIT] = "uninitialised",
    [SCALAR] = "scalar",
    [PTR_PKT] = "packet pointer",
    [PTR_PKT_END] = "packet end pointer",
    [PTR_STACK] = "stack pointer",
    [PTR_MAP] = "map pointer",
    [PTR_MAP_VALUE] = "map value pointer",
    [PTR_MAP_VALUE_OR_NULL] = "possibly-NULL map value pointer",
    [PTR_RODATA] = "read-only data pointer",
};

/* A register.  For a scalar the bounds describe its value; for a pointer
 * they describe its variable offset (always within [0, OFF_LIMIT]).  id:
 * scalars: value = val(id) + delta (linked copies); packet pointers:
 * variable offset = val(id) + delta; possibly-NULL map values: the id that
 * a NULL check resolves for every copy. */
struct reg {
    uint8_t type;
    uint8_t frameno;
    uint16_t map_idx;
    uint32_t id;
    bool precise;       /* stored states: the value matters below */
    int64_t off;
    int64_t delta;
    struct tnum var;
    uint64_t umin, umax;
    int64_t smin, smax;
};

/* Per-byte stack slot states. */
enum {
    STK_INVALID = 0,
    STK_MISC,           /* scalar data */
    STK_SPILL,          /* part of an 8-byte spilled register */
};

struct frame {
    struct reg regs[BPF_NREGS];
    int callsite;       /* the call instruction in the caller, -1 in main */
    int fstart;         /* first instruction of this function */
    uint32_t stack_size;    /* bytes tracked, multiple of 8 */
    uint8_t *slot_type;     /* byte j is at fp - 1 - j */
    struct reg *spills;     /* slot k = bytes [8k, 8k + 7] */
};

/* One walked instruction.  Stack spills and fills of 8-byte registers are
 * noted so that precision can be traced through the stack. */
enum hist_kind {
    HIST_PLAIN = 0,
    HIST_SPILL,         /* slot = own frame slot written */
    HIST_FILL,          /* slot = own frame slot read */
    HIST_FOREIGN_FILL,  /* register filled from another frame's stack */
    HIST_FRAME,         /* call or return: frames change */
};

struct hist {
    int32_t insn;
    uint8_t kind;
    uint8_t slot;
    /* Conditional jumps on scalars: the registers and spilled slots of the
     * innermost frame linked (same id) with an operand, whose bounds the
     * jump refines too (sync_linked). */
    uint16_t linked;
    uint64_t linked_slots;
};

struct rel {
    uint32_t id;
    int64_t c;          /* val(id) + c <= packet length */
};

struct vstate {
    struct frame *frames[BPF_MAX_CALL_DEPTH];
    int nframes;
    int insn;
    uint64_t lmin;      /* proven minimum packet length */
    int nrels;
    struct rel rels[MAX_RELS];
    struct vstate *parent;  /* closest stored ancestor */
    uint32_t branches;  /* stored states: unfinished paths below */
    struct vstate *next;    /* stored states: list of the instruction */
    uint32_t hits, misses;  /* stored states: pruning statistics */
    bool all_precise;       /* stored states: every scalar matters */
    /* Instructions walked since `parent` (for precision backtracking). */
    struct hist *hist;
    uint32_t nhist, hist_cap;
};

struct func {
    int start, end;     /* [start, end) */
};

struct idmap;
struct vbucket;

struct env {
    const struct bpf_prog *prog;
    const struct bpf_inst *insns;
    int n;
    bool filter;
    char *err;
    size_t errlen;
    struct bpf_verify_stats *stats;
    uint64_t max_insns;
    uint64_t ncompared;         /* state comparisons so far */
    bool hist_lost;             /* out of memory for a history */

    uint8_t *flags;     /* per instruction, INSN_* */
    int *func_of;       /* function index of each instruction */
    struct func *funcs;
    int nfuncs;
    uint16_t *live;     /* registers live before each instruction */

    struct idmap *idmap;        /* scratch for state comparisons */
    struct vstate **visited;    /* stored states per instruction (wild) */
    struct vbucket **buckets;   /* keyed stored states per instruction */
    struct vbucket **bhash;     /* the same buckets by (insn, val) */
    int16_t *vkey;              /* key of each instruction */
    uint32_t *nvisited;
    uint64_t nstored;
    struct vstate **pending;
    int npending;
    uint32_t next_id;
};

#define INSN_LDDW2     0x01     /* second half of an lddw */
#define INSN_PRUNE     0x02     /* store states here */
#define INSN_REACHED   0x04
#define INSN_FSTART    0x08     /* first instruction of a function */
#define INSN_BACKEDGE  0x10     /* counted in stats.loops */
#define INSN_JTARGET   0x20     /* target of a jump or call */

static int
verr(struct env *env, int errnum, int insn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
verr(struct env *env, int errnum, int insn, const char *fmt, ...)
{
    if (env->err && env->errlen) {
        char msg[200];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(env->err, env->errlen, "insn %d: %s", insn, msg);
    }
    return -errnum;
}

/* ---------------------------------------------------------------------
 * Scalar bounds.
 * ------------------------------------------------------------------- */

static void
reg_mark_unknown(struct reg *r)
{
    memset(r, 0, sizeof *r);
    r->type = SCALAR;
    r->var = tnum_unknown;
    r->umin = 0;
    r->umax = UINT64_MAX;
    r->smin = INT64_MIN;
    r->smax = INT64_MAX;
}

static void
reg_mark_const(struct reg *r, uint64_t v)
{
    memset(r, 0, sizeof *r);
    r->type = SCALAR;
    r->var = tnum_const(v);
    r->umin = r->umax = v;
    r->smin = r->smax = (int64_t) v;
}

/* Unknown scalar in [0, max]. */
static void
reg_mark_bounded(struct reg *r, uint64_t max)
{
    reg_mark_unknown(r);
    r->umax = max;
    r->var = tnum_range(0, max);
    r->smin = 0;
    r->smax = max > INT64_MAX ? INT64_MAX : (int64_t) max;
    if (max > INT64_MAX) {
        r->smin = INT64_MIN;
    }
}

static bool
reg_is_const(const struct reg *r)
{
    return r->type == SCALAR && tnum_is_const(r->var);
}

/* Tightens the bounds from each other (Linux __reg_bounds_sync). */
static void
reg_sync(struct reg *r)
{
    int pass;

    for (pass = 0; pass < 2; pass++) {
        uint64_t tmax = r->var.value | r->var.mask;
        int64_t tsmin = (int64_t) (r->var.value | (r->var.mask & (1ull << 63)));
        int64_t tsmax = (int64_t) (r->var.value
                                   | (r->var.mask & (uint64_t) INT64_MAX));

        if (r->umin < r->var.value) {
            r->umin = r->var.value;
        }
        if (r->umax > tmax) {
            r->umax = tmax;
        }
        if (r->smin < tsmin) {
            r->smin = tsmin;
        }
        if (r->smax > tsmax) {
            r->smax = tsmax;
        }
        if (r->smin >= 0 || r->smax < 0) {
            /* Both bounds on one side of the sign: they agree. */
            uint64_t lo = (uint64_t) r->smin > r->umin ? (uint64_t) r->smin
                                                       : r->umin;
            uint64_t hi = (uint64_t) r->smax < r->umax ? (uint64_t) r->smax
                                                       : r->umax;
            r->umin = lo;
            r->umax = hi;
            r->smin = (int64_t) lo;
            r->smax = (int64_t) hi;
        } else if ((int64_t) r->umax >= 0) {
            r->smin = (int64_t) r->umin;
            if ((uint64_t) r->smax < r->umax) {
                r->umax = (uint64_t) r->smax;
            }
            r->smax = (int64_t) r->umax;
        } else if ((int64_t) r->umin < 0) {
            if ((uint64_t) r->smin > r->umin) {
                r->umin = (uint64_t) r->smin;
            }
            r->smin = (int64_t) r->umin;
            r->smax = (int64_t) r->umax;
        }
        if (r->umin <= r->umax) {
            r->var = tnum_intersect(r->var, tnum_range(r->umin, r->umax));
        }
    }
}

/* True if the register's bounds admit no value (a dead branch). */
static bool
reg_empty(const struct reg *r)
{
    return r->umin > r->umax || r->smin > r->smax
           || r->var.value & r->var.mask;
}

/* The zero-extended low 32 bits of a scalar. */
static struct reg
reg_low32(const struct reg *r)
{
    struct reg v = *r;

    if (r->umax <= UINT32_MAX) {
        return v;
    }
    v.var = tnum_cast32(r->var);
    v.umin = 0;
    v.umax = UINT32_MAX;
    v.smin = 0;
    v.smax = UINT32_MAX;
    v.id = 0;
    v.delta = 0;
    reg_sync(&v);
    return v;
}

static bool
add_overflows_u(uint64_t a, uint64_t b)
{
    return a + b < a;
}

static bool
add_overflows_s(int64_t a, int64_t b, int64_t *res)
{
    return __builtin_add_overflow(a, b, res);
}

static bool
sub_overflows_s(int64_t a, int64_t b, int64_t *res)
{
    return __builtin_sub_overflow(a, b, res);
}

/* dst = dst op src on scalars, 64-bit.  Keeps dst's id only for additions
 * of constants (the caller handles ids). */
static void
scalar_alu64(struct reg *d, const struct reg *s, uint8_t op)
{
    struct reg r;
    int64_t t1, t2;
    bool sconst = tnum_is_const(s->var);
    uint64_t sv = s->var.value;

    reg_mark_unknown(&r);
    switch (op) {
    case BPF_ALU_ADD:
        r.var = tnum_add(d->var, s->var);
        if (!add_overflows_u(d->umin, s->umin)
            && !add_overflows_u(d->umax, s->umax)) {
            r.umin = d->umin + s->umin;
            r.umax = d->umax + s->umax;
        }
        if (!add_overflows_s(d->smin, s->smin, &t1)
            && !add_overflows_s(d->smax, s->smax, &t2)) {
            r.smin = t1;
            r.smax = t2;
        }
        break;
    case BPF_ALU_SUB:
        r.var = tnum_sub(d->var, s->var);
        if (d->umin >= s->umax) {
            r.umin = d->umin - s->umax;
            r.umax = d->umax - s->umin;
        }
        if (!sub_overflows_s(d->smin, s->smax, &t1)
            && !sub_overflows_s(d->smax, s->smin, &t2)) {
            r.smin = t1;
            r.smax = t2;
        }
        break;
    case BPF_ALU_MUL:
        r.var = tnum_mul(d->var, s->var);
        if (d->umax <= UINT32_MAX && s->umax <= UINT32_MAX) {
            r.umin = d->umin * s->umin;
            r.umax = d->umax * s->umax;
        }
        break;
    case BPF_ALU_AND:
        r.var = tnum_and(d->var, s->var);
        r.umax = d->umax < s->umax ? d->umax : s->umax;
        break;
    case BPF_ALU_OR:
        r.var = tnum_or(d->var, s->var);
        r.umin = d->umin > s->umin ? d->umin : s->umin;
        break;
    case BPF_ALU_XOR:
        r.var = tnum_xor(d->var, s->var);
        break;
    case BPF_ALU_LSH:
        if (sconst && sv < 64) {
            r.var = tnum_lshift(d->var, (unsigned) sv);
            if (sv == 0 || (d->umax >> (64 - sv)) == 0) {
                r.umin = d->umin << sv;
                r.umax = d->umax << sv;
            }
        }
        break;
    case BPF_ALU_RSH:
        if (sconst && sv < 64) {
            r.var = tnum_rshift(d->var, (unsigned) sv);
            r.umin = d->umin >> sv;
            r.umax = d->umax >> sv;
        } else if (s->umax < 64) {
            r.umin = d->umin >> s->umax;
            r.umax = d->umax >> s->umin;
        }
        break;
    case BPF_ALU_ARSH:
        if (sconst && sv < 64) {
            r.var = tnum_arshift(d->var, (unsigned) sv);
            r.smin = d->smin >> sv;
            r.smax = d->smax >> sv;
        }
        break;
    case BPF_ALU_DIV:
        /* x / 0 = 0. */
        if (sconst) {
            if (sv == 0) {
                reg_mark_const(&r, 0);
            } else {
                r.umin = d->umin / sv;
                r.umax = d->umax / sv;
            }
        } else {
            r.umax = d->umax;
        }
        break;
    case BPF_ALU_MOD:
        /* x % 0 = x, and x % y <= x. */
        if (sconst && sv == 0) {
            r = *d;
        } else if (sconst && d->umax < sv) {
            r = *d;
        } else {
            r.umax = d->umax;
            if (s->umin > 0 && s->umax - 1 < r.umax) {
                r.umax = s->umax - 1;
            }
        }
        break;
    case BPF_ALU_NEG:
        if (tnum_is_const(d->var)) {
            reg_mark_const(&r, -d->var.value);
        }
        break;
    default:
        break;
    }
    r.id = 0;
    r.delta = 0;
    r.type = SCALAR;
    reg_sync(&r);
    *d = r;
}

/* The same on 32-bit subregisters; the result is zero-extended. */
static void
scalar_alu32(struct reg *d, const struct reg *s, uint8_t op)
{
    struct reg a = reg_low32(d), b = reg_low32(s);

    if ((op == BPF_ALU_LSH || op == BPF_ALU_RSH || op == BPF_ALU_ARSH)
        && !(tnum_is_const(b.var) && b.var.value < 32)
        && !(op == BPF_ALU_RSH && b.umax < 32)) {
        reg_mark_bounded(d, UINT32_MAX);
        return;
    }
    if (op == BPF_ALU_ARSH) {
        if (tnum_is_const(a.var)) {
            reg_mark_const(d, (uint32_t) ((int32_t) a.var.value
                                          >> b.var.value));
        } else {
            reg_mark_bounded(d, UINT32_MAX);
        }
        return;
    }
    scalar_alu64(&a, &b, op);
    if (a.umax > UINT32_MAX || (op == BPF_ALU_SUB && a.umin > a.umax)) {
        struct reg t;

        reg_mark_bounded(&t, UINT32_MAX);
        t.var = tnum_cast32(a.var);
        reg_sync(&t);
        a = t;
    }
    *d = a;
}

/* ---------------------------------------------------------------------
 * States.
 * ------------------------------------------------------------------- */

static void
frame_free(struct frame *f)
{
    if (f) {
        free(f->slot_type);
        free(f->spills);
        free(f);
    }
}

static void
state_free(struct vstate *st)
{
    int i;

    if (!st) {
        return;
    }
    for (i = 0; i < st->nframes; i++) {
        frame_free(st->frames[i]);
    }
    free(st->hist);
    free(st);
}

static struct frame *
frame_copy(const struct frame *f)
{
    struct frame *c = malloc(sizeof *c);

    if (!c) {
        return NULL;
    }
    *c = *f;
    c->slot_type = NULL;
    c->spills = NULL;
    if (f->stack_size) {
        c->slot_type = malloc(f->stack_size);
        c->spills = malloc(f->stack_size / 8 * sizeof *c->spills);
        if (!c->slot_type || !c->spills) {
            frame_free(c);
            return NULL;
        }
        memcpy(c->slot_type, f->slot_type, f->stack_size);
        memcpy(c->spills, f->spills, f->stack_size / 8 * sizeof *c->spills);
    }
    return c;
}

static struct vstate *
state_copy(const struct vstate *st)
{
    struct vstate *c = calloc(1, sizeof *c);
    int i;

    if (!c) {
        return NULL;
    }
    *c = *st;
    c->next = NULL;
    c->branches = 0;
    c->hits = c->misses = 0;
    c->hist = NULL;
    c->hist_cap = 0;
    if (st->nhist) {
        c->hist = malloc(st->nhist * sizeof *c->hist);
        if (!c->hist) {
            c->nframes = 0;
            state_free(c);
            return NULL;
        }
        memcpy(c->hist, st->hist, st->nhist * sizeof *c->hist);
        c->hist_cap = st->nhist;
    }
    for (i = 0; i < st->nframes; i++) {
        c->frames[i] = frame_copy(st->frames[i]);
        if (!c->frames[i]) {
            c->nframes = i;
            state_free(c);
            return NULL;
        }
    }
    return c;
}

/* Makes the stack of f track at least size bytes. */
static int
frame_grow(struct frame *f, uint32_t size)
{
    uint8_t *t;
    struct reg *s;

    size = (size + 7) & ~7u;
    if (size <= f->stack_size) {
        return 0;
    }
    t = realloc(f->slot_type, size);
    if (!t) {
        return -ENOMEM;
    }
    f->slot_type = t;
    s = realloc(f->spills, size / 8 * sizeof *s);
    if (!s) {
        return -ENOMEM;
    }
    f->spills = s;
    memset(t + f->stack_size, STK_INVALID, size - f->stack_size);
    memset(s + f->stack_size / 8, 0, (size - f->stack_size) / 8 * sizeof *s);
    f->stack_size = size;
    return 0;
}

static struct frame *
cur_frame(struct vstate *st)
{
    return st->frames[st->nframes - 1];
}

static uint32_t
new_id(struct env *env)
{
    return ++env->next_id;
}

/* Calls fn on every register and spilled register of the state. */
#define FOR_EACH_REG(st, r, body)                                         \
    do {                                                                  \
        int fi_, ri_;                                                     \
        for (fi_ = 0; fi_ < (st)->nframes; fi_++) {                       \
            struct frame *f_ = (st)->frames[fi_];                         \
            for (ri_ = 0; ri_ < BPF_NREGS; ri_++) {                       \
                struct reg *r = &f_->regs[ri_];                           \
                body;                                                     \
            }                                                             \
            for (ri_ = 0; ri_ < (int) f_->stack_size / 8; ri_++) {        \
                if (f_->slot_type[ri_ * 8] == STK_SPILL) {                \
                    struct reg *r = &f_->spills[ri_];                     \
                    body;                                                 \
                }                                                         \
            }                                                             \
        }                                                                 \
    } while (0)

static bool
rel_id_used(struct vstate *st, uint32_t id)
{
    bool used = false;

    FOR_EACH_REG(st, r, {
        if ((r->type == SCALAR || r->type == PTR_PKT) && r->id == id) {
            used = true;
        }
    });
    return used;
}

/* Records val(id) + c <= packet length. */
static void
rel_add(struct vstate *st, uint32_t id, int64_t c)
{
    int i;

    if (!id || id == LEN_ID || c < -OFF_LIMIT || c > OFF_LIMIT) {
        return;
    }
    for (i = 0; i < st->nrels; i++) {
        if (st->rels[i].id == id) {
            if (st->rels[i].c < c) {
                st->rels[i].c = c;
            }
            return;
        }
    }
    if (st->nrels == MAX_RELS) {
        /* Forget a relation nothing refers to, else the oldest. */
        int victim = 0;

        for (i = 0; i < st->nrels; i++) {
            if (!rel_id_used(st, st->rels[i].id)) {
                victim = i;
                break;
            }
        }
        memmove(&st->rels[victim], &st->rels[victim + 1],
                (st->nrels - victim - 1) * sizeof st->rels[0]);
        st->nrels--;
    }
    st->rels[st->nrels].id = id;
    st->rels[st->nrels].c = c;
    st->nrels++;
}

static int64_t
rel_get(const struct vstate *st, uint32_t id, bool *found)
{
    int i;

    for (i = 0; i < st->nrels; i++) {
        if (st->rels[i].id == id) {
            *found = true;
            return st->rels[i].c;
        }
    }
    *found = false;
    return 0;
}

static void
lmin_raise(struct vstate *st, int64_t v)
{
    if (v > 0 && (uint64_t) v > st->lmin) {
        st->lmin = (uint64_t) v > MAX_PKT_LEN + 1 ? MAX_PKT_LEN + 1
                                                  : (uint64_t) v;
    }
}

/* A scalar linked to the length has value L + delta; derive L_min from its
 * lower bound. */
static void
lmin_from_len_reg(struct vstate *st, const struct reg *r)
{
    if (r->type != SCALAR || r->id != LEN_ID || r->umin > (uint64_t) OFF_LIMIT * 16) {
        return;
    }
    if (r->delta >= 0 || st->lmin >= (uint64_t) -r->delta) {
        lmin_raise(st, (int64_t) r->umin - r->delta);
    }
}

/* Pushes refined bounds of r to every scalar linked with it. */
static void
sync_linked(struct vstate *st, const struct reg *src)
{
    if (src->type != SCALAR || !src->id) {
        return;
    }
    FOR_EACH_REG(st, r, {
        if (r != src && r->type == SCALAR && r->id == src->id) {
            __int128 shift = (__int128) r->delta - src->delta;
            __int128 lo = (__int128) src->umin + shift;
            __int128 hi = (__int128) src->umax + shift;

            if (shift == 0) {
                r->umin = src->umin > r->umin ? src->umin : r->umin;
                r->umax = src->umax < r->umax ? src->umax : r->umax;
                r->smin = src->smin > r->smin ? src->smin : r->smin;
                r->smax = src->smax < r->smax ? src->smax : r->smax;
                r->var = tnum_intersect(r->var, src->var);
                reg_sync(r);
            } else if (lo >= 0 && hi <= (__int128) UINT64_MAX) {
                if ((uint64_t) lo > r->umin) {
                    r->umin = (uint64_t) lo;
                }
                if ((uint64_t) hi < r->umax) {
                    r->umax = (uint64_t) hi;
                }
                reg_sync(r);
            }
        }
    });
}

/* ---------------------------------------------------------------------
 * Structural pass.
 * ------------------------------------------------------------------- */

static int
check_insn_fields(struct env *env, int i)
{
    const struct bpf_inst *in = &env->insns[i];
    uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
    int n = env->n;

    if (in->dst > 10 || in->src > 10) {
        return verr(env, EINVAL, i, "bad register r%d",
                    in->dst > 10 ? in->dst : in->src);
    }
    switch (cls) {
    case BPF_CLS_ALU:
    case BPF_CLS_ALU64:
        if (op > BPF_ALU_END) {
            goto bad_opcode;
        }
        if (in->dst == 10) {
            return verr(env, EINVAL, i, "r10: write to the frame pointer");
        }
        if (op == BPF_ALU_END) {
            if (cls == BPF_CLS_ALU64 || in->src != 0 || in->off != 0
                || (in->imm != 16 && in->imm != 32 && in->imm != 64)) {
                if (cls == BPF_CLS_ALU64) {
                    goto bad_opcode;
                }
                return verr(env, EINVAL, i, "bad byte swap (reserved fields "
                            "or width %d)", in->imm);
            }
            return 0;
        }
        if (op == BPF_ALU_NEG) {
            if (BPF_SRC(in->code) != BPF_SRC_K || in->src || in->off
                || in->imm) {
                return verr(env, EINVAL, i, "reserved fields of neg in use");
            }
            return 0;
        }
        if (in->off != 0) {
            return verr(env, EINVAL, i, "reserved field off = %d in use",
                        in->off);
        }
        if (BPF_SRC(in->code) == BPF_SRC_K ? in->src != 0 : in->imm != 0) {
            return verr(env, EINVAL, i, "reserved field %s in use",
                        BPF_SRC(in->code) == BPF_SRC_K ? "src" : "imm");
        }
        return 0;
    case BPF_CLS_LDX:
        if (BPF_MODE(in->code) != BPF_MODE_MEM) {
            goto bad_opcode;
        }
        if (in->dst == 10) {
            return verr(env, EINVAL, i, "r10: write to the frame pointer");
        }
        if (in->imm) {
            return verr(env, EINVAL, i, "reserved field imm in use");
        }
        return 0;
    case BPF_CLS_ST:
        if (BPF_MODE(in->code) != BPF_MODE_MEM) {
            goto bad_opcode;
        }
        if (in->src) {
            return verr(env, EINVAL, i, "reserved field src in use");
        }
        return 0;
    case BPF_CLS_STX:
        if (BPF_MODE(in->code) == BPF_MODE_MEM) {
            if (in->imm) {
                return verr(env, EINVAL, i, "reserved field imm in use");
            }
            return 0;
        }
        if (BPF_MODE(in->code) != BPF_MODE_ATOMIC
            || (BPF_SIZE(in->code) != BPF_SIZE_W
                && BPF_SIZE(in->code) != BPF_SIZE_DW)) {
            goto bad_opcode;
        }
        switch (in->imm) {
        case BPF_ATOMIC_ADD: case BPF_ATOMIC_OR: case BPF_ATOMIC_AND:
        case BPF_ATOMIC_XOR:
        case BPF_ATOMIC_ADD | BPF_ATOMIC_FETCH:
        case BPF_ATOMIC_OR | BPF_ATOMIC_FETCH:
        case BPF_ATOMIC_AND | BPF_ATOMIC_FETCH:
        case BPF_ATOMIC_XOR | BPF_ATOMIC_FETCH:
        case BPF_ATOMIC_XCHG: case BPF_ATOMIC_CMPXCHG:
            return 0;
        default:
            return verr(env, EINVAL, i, "unknown atomic operation 0x%x",
                        (unsigned) in->imm);
        }
    case BPF_CLS_LD:
        if (BPF_MODE(in->code) == BPF_MODE_IMM) {
            if (BPF_SIZE(in->code) != BPF_SIZE_DW) {
                goto bad_opcode;
            }
            if (in->dst == 10) {
                return verr(env, EINVAL, i,
                            "r10: write to the frame pointer");
            }
            if (i + 1 >= n) {
                return verr(env, EINVAL, i, "lddw is missing its second "
                            "half");
            }
            if (in->off || in->src > BPF_PSEUDO_RODATA) {
                return verr(env, EINVAL, i, "bad lddw (src %d, off %d)",
                            in->src, in->off);
            }
            if (env->insns[i + 1].code || env->insns[i + 1].dst
                || env->insns[i + 1].src || env->insns[i + 1].off) {
                return verr(env, EINVAL, i + 1, "bad second half of lddw");
            }
            if (in->src == BPF_PSEUDO_MAP_IDX
                && (in->imm < 0 || (size_t) in->imm >= env->prog->nmaps
                    || env->insns[i + 1].imm)) {
                return verr(env, EINVAL, i, "r%d: lddw of unknown map %d",
                            in->dst, in->imm);
            }
            if (in->src == BPF_PSEUDO_RODATA
                && (in->imm < 0 || (size_t) in->imm > env->prog->rodata_len
                    || env->insns[i + 1].imm)) {
                return verr(env, EINVAL, i, "r%d: lddw of read-only data "
                            "offset %d out of range", in->dst, in->imm);
            }
            return 0;
        }
        if (BPF_MODE(in->code) == BPF_MODE_ABS
            || BPF_MODE(in->code) == BPF_MODE_IND) {
            if (BPF_SIZE(in->code) == BPF_SIZE_DW) {
                goto bad_opcode;
            }
            if (in->dst || in->off
                || (BPF_MODE(in->code) == BPF_MODE_ABS && in->src)) {
                return verr(env, EINVAL, i, "reserved fields of a packet "
                            "load in use");
            }
            return 0;
        }
        goto bad_opcode;
    case BPF_CLS_JMP:
    case BPF_CLS_JMP32:
        if (op == BPF_JMP_CALL || op == BPF_JMP_EXIT || op == BPF_JMP_JA) {
            if (cls == BPF_CLS_JMP32 || BPF_SRC(in->code) != BPF_SRC_K) {
                goto bad_opcode;
            }
            if (op == BPF_JMP_CALL) {
                if (in->dst || in->off
                    || (in->src != 0 && in->src != BPF_PSEUDO_CALL)) {
                    return verr(env, EINVAL, i, "reserved fields of call "
                                "in use");
                }
                if (in->src == 0 && !bpf_helper_proto(in->imm)) {
                    return verr(env, EINVAL, i, "call to unknown helper %d",
                                in->imm);
                }
            } else if (in->dst || in->src || in->imm
                       || (op == BPF_JMP_EXIT && in->off)) {
                return verr(env, EINVAL, i, "reserved fields of %s in use",
                            op == BPF_JMP_EXIT ? "exit" : "ja");
            }
            return 0;
        }
        if (op > BPF_JMP_JSLE) {
            goto bad_opcode;
        }
        if (BPF_SRC(in->code) == BPF_SRC_K ? in->src != 0 : in->imm != 0) {
            return verr(env, EINVAL, i, "reserved field %s in use",
                        BPF_SRC(in->code) == BPF_SRC_K ? "src" : "imm");
        }
        return 0;
    default:
        break;
    }
bad_opcode:
    return verr(env, EINVAL, i, "unknown opcode 0x%02x", in->code);
}

static bool
is_cond_jump(const struct bpf_inst *in)
{
    uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);

    return (cls == BPF_CLS_JMP || cls == BPF_CLS_JMP32)
           && op != BPF_JMP_JA && op != BPF_JMP_CALL && op != BPF_JMP_EXIT;
}

static bool
is_lddw(const struct bpf_inst *in)
{
    return in->code == (BPF_CLS_LD | BPF_MODE_IMM | BPF_SIZE_DW);
}

static bool
is_pseudo_call(const struct bpf_inst *in)
{
    return in->code == (BPF_CLS_JMP | BPF_JMP_CALL)
           && in->src == BPF_PSEUDO_CALL;
}

static int
cmp_int(const void *a, const void *b)
{
    int x = *(const int *) a, y = *(const int *) b;

    return (x > y) - (x < y);
}

/* Successors of instruction i inside its function; returns their count. */
static int
insn_succs(const struct env *env, int i, int succ[2])
{
    const struct bpf_inst *in = &env->insns[i];
    uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);

    if (cls == BPF_CLS_JMP || cls == BPF_CLS_JMP32) {
        if (op == BPF_JMP_EXIT) {
            return 0;
        }
        if (op == BPF_JMP_JA) {
            succ[0] = i + 1 + in->off;
            return 1;
        }
        if (op == BPF_JMP_CALL) {
            succ[0] = i + 1;
            return 1;
        }
        succ[0] = i + 1;
        succ[1] = i + 1 + in->off;
        return succ[1] == succ[0] ? 1 : 2;
    }
    succ[0] = i + (is_lddw(in) ? 2 : 1);
    return 1;
}

static int
check_structure(struct env *env)
{
    int n = env->n, i, j, nstarts = 0, *starts = NULL, *stack = NULL;
    int sp = 0, ret = 0;
    uint8_t *color = NULL;

    for (i = 0; i < n; i++) {
        if (env->flags[i] & INSN_LDDW2) {
            continue;
        }
        ret = check_insn_fields(env, i);
        if (ret) {
            return ret;
        }
        if (is_lddw(&env->insns[i])) {
            env->flags[i + 1] |= INSN_LDDW2;
        }
    }
    if (env->prog->entry >= (size_t) n
        || env->flags[env->prog->entry] & INSN_LDDW2) {
        return verr(env, EINVAL, (int) env->prog->entry,
                    "entry point out of range");
    }

    /* Function starts: 0, the entry, call targets, function symbols. */
    starts = malloc((n + 2 + env->prog->nsyms) * sizeof *starts);
    if (!starts) {
        return -ENOMEM;
    }
    starts[nstarts++] = 0;
    starts[nstarts++] = (int) env->prog->entry;
    for (i = 0; i < (int) env->prog->nsyms; i++) {
        if (env->prog->syms[i].idx < (size_t) n
            && !(env->flags[env->prog->syms[i].idx] & INSN_LDDW2)) {
            starts[nstarts++] = (int) env->prog->syms[i].idx;
        }
    }
    for (i = 0; i < n; i++) {
        const struct bpf_inst *in = &env->insns[i];
        int t;

        if (env->flags[i] & INSN_LDDW2) {
            continue;
        }
        if (in->code == (BPF_CLS_JMP | BPF_JMP_CALL) && in->src == 0) {
            continue;
        }
        if (!is_pseudo_call(in) && !is_cond_jump(in)
            && in->code != (BPF_CLS_JMP | BPF_JMP_JA)) {
            continue;
        }
        t = i + 1 + (is_pseudo_call(in) ? in->imm : in->off);
        if (is_pseudo_call(in)
            && ((int64_t) i + 1 + in->imm < 0
                || (int64_t) i + 1 + in->imm >= n)) {
            ret = verr(env, EINVAL, i, "call to %" PRId64 " out of range",
                       (int64_t) i + 1 + in->imm);
            goto out;
        }
        if (t < 0 || t >= n) {
            ret = verr(env, EINVAL, i, "jump to %d out of range", t);
            goto out;
        }
        if (env->flags[t] & INSN_LDDW2) {
            ret = verr(env, EINVAL, i, "%s %d splits an lddw",
                       is_pseudo_call(in) ? "call to" : "jump to", t);
            goto out;
        }
        env->flags[t] |= INSN_JTARGET;
        if (is_pseudo_call(in)) {
            starts[nstarts++] = t;
            env->flags[t] |= INSN_PRUNE;
        } else {
            env->flags[t] |= INSN_PRUNE;
            if (is_cond_jump(in) && i + 1 < n) {
                env->flags[i + 1] |= INSN_PRUNE;
            }
        }
    }
    qsort(starts, nstarts, sizeof *starts, cmp_int);
    env->funcs = malloc(nstarts * sizeof *env->funcs);
    if (!env->funcs) {
        ret = -ENOMEM;
        goto out;
    }
    for (i = 0; i < nstarts; i++) {
        if (env->nfuncs && env->funcs[env->nfuncs - 1].start == starts[i]) {
            continue;
        }
        if (env->nfuncs) {
            env->funcs[env->nfuncs - 1].end = starts[i];
        }
        env->funcs[env->nfuncs].start = starts[i];
        env->flags[starts[i]] |= INSN_FSTART;
        env->nfuncs++;
    }
    env->funcs[env->nfuncs - 1].end = n;
    for (i = 0, j = 0; i < n; i++) {
        while (i >= env->funcs[j].end) {
            j++;
        }
        env->func_of[i] = j;
    }

    /* Reachability, inside functions; calls make their targets reachable.
     * Also detects recursion with a DFS over the call graph. */
    stack = malloc((n + 1) * sizeof *stack);
    color = calloc(env->nfuncs, 1);
    if (!stack || !color) {
        ret = -ENOMEM;
        goto out;
    }
    stack[sp++] = (int) env->prog->entry;
    env->flags[env->prog->entry] |= INSN_REACHED;
    while (sp) {
        int s[2], ns, k;

        i = stack[--sp];
        ns = insn_succs(env, i, s);
        if (is_pseudo_call(&env->insns[i])) {
            int t = i + 1 + env->insns[i].imm;

            if (!(env->flags[t] & INSN_REACHED)) {
                env->flags[t] |= INSN_REACHED;
                stack[sp++] = t;
            }
        }
        for (k = 0; k < ns; k++) {
            int t = s[k];

            if (t >= n || env->func_of[t] != env->func_of[i]) {
                bool fall = k == 0 && (is_cond_jump(&env->insns[i])
                                       || BPF_CLASS(env->insns[i].code)
                                          != BPF_CLS_JMP
                                       || BPF_OP(env->insns[i].code)
                                          == BPF_JMP_CALL);

                ret = fall ? verr(env, EINVAL, i, "falls off the end of "
                                  "the %s", t >= n ? "program" : "function")
                           : verr(env, EINVAL, i, "jump to %d leaves its "
                                  "function", t);
                goto out;
            }
            if (!(env->flags[t] & INSN_REACHED)) {
                env->flags[t] |= INSN_REACHED;
                stack[sp++] = t;
            }
        }
    }

    /* Recursion: iterative DFS over functions (colour 1 = on the path). */
    {
        int *fstack = malloc((env->nfuncs + 1) * 2 * sizeof *fstack);
        int fsp = 0;

        if (!fstack) {
            ret = -ENOMEM;
            goto out;
        }
        fstack[fsp++] = env->func_of[env->prog->entry];
        fstack[fsp++] = env->funcs[env->func_of[env->prog->entry]].start;
        color[fstack[0]] = 1;
        while (fsp) {
            int f = fstack[fsp - 2], pos = fstack[fsp - 1];
            bool pushed = false;

            for (; pos < env->funcs[f].end; pos++) {
                const struct bpf_inst *in = &env->insns[pos];
                int g;

                if ((env->flags[pos] & INSN_LDDW2) || !is_pseudo_call(in)
                    || !(env->flags[pos] & INSN_REACHED)) {
                    continue;
                }
                g = env->func_of[pos + 1 + in->imm];
                if (color[g] == 1) {
                    free(fstack);
                    ret = verr(env, EINVAL, pos, "recursive call");
                    goto out;
                }
                if (color[g] == 0) {
                    if (fsp / 2 >= BPF_MAX_CALL_DEPTH) {
                        free(fstack);
                        ret = verr(env, EINVAL, pos, "calls nested deeper "
                                   "than %d", BPF_MAX_CALL_DEPTH);
                        goto out;
                    }
                    fstack[fsp - 1] = pos + 1;
                    color[g] = 1;
                    fstack[fsp++] = g;
                    fstack[fsp++] = env->funcs[g].start;
                    pushed = true;
                    break;
                }
            }
            if (!pushed) {
                color[f] = 2;
                fsp -= 2;
            }
        }
        free(fstack);
    }
out:
    free(starts);
    free(stack);
    free(color);
    return ret;
}

/* ---------------------------------------------------------------------
 * Register liveness (backward, per function).
 * ------------------------------------------------------------------- */

#define RBIT(r) ((uint16_t) (1u << (r)))
#define ARGS_MASK (RBIT(1) | RBIT(2) | RBIT(3) | RBIT(4) | RBIT(5))
#define CALLER_SAVED (RBIT(0) | ARGS_MASK)

/* Registers instruction i reads (use) and writes (def). */
static void
insn_use_def(const struct env *env, int i, uint16_t *use, uint16_t *def)
{
    const struct bpf_inst *in = &env->insns[i];
    uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
    uint16_t d = RBIT(in->dst), s = RBIT(in->src);

    *use = *def = 0;
    switch (cls) {
    case BPF_CLS_ALU:
    case BPF_CLS_ALU64:
        *def = d;
        if (op == BPF_ALU_MOV) {
            *use = BPF_SRC(in->code) == BPF_SRC_X ? s : 0;
        } else {
            *use = d | (BPF_SRC(in->code) == BPF_SRC_X ? s : 0);
        }
        break;
    case BPF_CLS_LDX:
        *use = s;
        *def = d;
        break;
    case BPF_CLS_ST:
        *use = d;
        break;
    case BPF_CLS_STX:
        *use = d | s;
        if (BPF_MODE(in->code) == BPF_MODE_ATOMIC) {
            if (in->imm == BPF_ATOMIC_CMPXCHG) {
                *use |= RBIT(0);
                *def = RBIT(0);
            } else if (in->imm & BPF_ATOMIC_FETCH) {
                *def = s;
            }
        }
        break;
    case BPF_CLS_LD:
        if (BPF_MODE(in->code) == BPF_MODE_IMM) {
            *def = d;
        } else {
            *use = BPF_MODE(in->code) == BPF_MODE_IND ? s : 0;
            *def = CALLER_SAVED;
        }
        break;
    case BPF_CLS_JMP:
    case BPF_CLS_JMP32:
        if (op == BPF_JMP_EXIT) {
            *use = RBIT(0);
        } else if (op == BPF_JMP_CALL) {
            if (in->src == BPF_PSEUDO_CALL) {
                *use = ARGS_MASK;
            } else {
                const struct bpf_helper_proto *p = bpf_helper_proto(in->imm);
                int k;

                for (k = 0; p && k < 5 && p->args[k] != BPF_ARG_NONE; k++) {
                    *use |= RBIT(k + 1);
                }
            }
            *def = CALLER_SAVED;
        } else if (op != BPF_JMP_JA) {
            *use = d | (BPF_SRC(in->code) == BPF_SRC_X ? s : 0);
        }
        break;
    default:
        break;
    }
}

/* Backward liveness of registers, per function (calls are summarised:
 * they read r1-r5 and clobber r0-r5). */
static int
compute_liveness(struct env *env)
{
    int n = env->n, i;
    bool changed = true;

    env->live = calloc(n + 1, sizeof *env->live);
    if (!env->live) {
        return -ENOMEM;
    }
    while (changed) {
        changed = false;
        for (i = n - 1; i >= 0; i--) {
            uint16_t use, def, lout = 0, lin;
            int s[2], ns, k;

            if (env->flags[i] & INSN_LDDW2) {
                continue;
            }
            ns = insn_succs(env, i, s);
            for (k = 0; k < ns; k++) {
                if (s[k] < n && env->func_of[s[k]] == env->func_of[i]) {
                    lout |= env->live[s[k]];
                }
            }
            insn_use_def(env, i, &use, &def);
            lin = (uint16_t) ((lout & ~def) | use | RBIT(10));
            if (lin != env->live[i]) {
                env->live[i] = lin;
                changed = true;
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * State comparison (pruning and loop detection).
 * ------------------------------------------------------------------- */

#define IDMAP_SIZE 256

/* Maps the ids of an old state to those of the current one.  For linked
 * scalars and packet offsets, shift = cur delta - old delta must be the
 * same for every register of one id. */
struct idmap {
    int n;
    uint32_t old[IDMAP_SIZE], cur[IDMAP_SIZE];
    int64_t shift[IDMAP_SIZE];
    /* Ids of the old state that link something: on two registers or
     * more, or named by a length relation. */
    int nneeded;
    uint32_t needed[IDMAP_SIZE];
    uint8_t count[IDMAP_SIZE];
};

static bool
check_id(struct idmap *m, uint32_t old, uint32_t cur, int64_t shift)
{
    int i;

    if (!old) {
        return true;
    }
    if (!cur) {
        return false;
    }
    if (old == LEN_ID || cur == LEN_ID) {
        return old == cur && shift == 0;
    }
    for (i = 0; i < m->n; i++) {
        if (m->old[i] == old) {
            return m->cur[i] == cur && m->shift[i] == shift;
        }
        if (m->cur[i] == cur) {
            return false;
        }
    }
    if (m->n == IDMAP_SIZE) {
        return false;
    }
    m->old[m->n] = old;
    m->cur[m->n] = cur;
    m->shift[m->n] = shift;
    m->n++;
    return true;
}

static void
id_count(struct idmap *m, uint32_t id, int by)
{
    int i;

    if (!id) {
        return;
    }
    for (i = 0; i < m->nneeded; i++) {
        if (m->needed[i] == id) {
            m->count[i] = (uint8_t) (m->count[i] + by > 2 ? 2
                                     : m->count[i] + by);
            return;
        }
    }
    if (m->nneeded < IDMAP_SIZE) {
        m->needed[m->nneeded] = id;
        m->count[m->nneeded] = (uint8_t) (by > 2 ? 2 : by);
        m->nneeded++;
    }
}

/* True if the old id links anything (else a register's id is ignored).
 * Unknown ids (table full) count as needed. */
static bool
id_needed(const struct idmap *m, uint32_t id)
{
    int i;

    if (id == LEN_ID) {
        return true;
    }
    for (i = 0; i < m->nneeded; i++) {
        if (m->needed[i] == id) {
            return m->count[i] >= 2;
        }
    }
    return true;
}

static bool
range_within(const struct reg *old, const struct reg *cur)
{
    return old->umin <= cur->umin && cur->umax <= old->umax
           && old->smin <= cur->smin && cur->smax <= old->smax
           && tnum_in(old->var, cur->var);
}

static bool
regsafe(const struct reg *old, const struct reg *cur, bool precise,
        struct idmap *m)
{
    if (old->type == NOT_INIT) {
        return true;
    }
    if (old->type != cur->type) {
        return false;
    }
    switch (old->type) {
    case SCALAR:
        /* Ranges only if the value matters below; links always (a
         * comparison of one copy refines the others). */
        if ((precise || old->precise) && !range_within(old, cur)) {
            return false;
        }
        if (old->id && !tnum_is_const(old->var) && id_needed(m, old->id)) {
            return check_id(m, old->id, cur->id, cur->delta - old->delta);
        }
        return true;
    case PTR_PKT:
        return old->off == cur->off && range_within(old, cur)
               && (!old->id || !id_needed(m, old->id)
                   || check_id(m, old->id, cur->id,
                               cur->delta - old->delta));
    case PTR_PKT_END:
        return old->off == cur->off;
    case PTR_STACK:
        return old->frameno == cur->frameno && old->off == cur->off
               && range_within(old, cur);
    case PTR_MAP:
        return old->map_idx == cur->map_idx;
    case PTR_MAP_VALUE:
    case PTR_RODATA:
        return old->map_idx == cur->map_idx && old->off == cur->off
               && range_within(old, cur);
    case PTR_MAP_VALUE_OR_NULL:
        return old->map_idx == cur->map_idx && old->off == cur->off
               && check_id(m, old->id, cur->id, 0);
    default:
        return false;
    }
}

static bool
stacksafe(const struct frame *old, const struct frame *cur, bool exact,
          struct idmap *m)
{
    uint32_t j;

    for (j = 0; j < old->stack_size; j++) {
        uint8_t ot = old->slot_type[j];
        uint8_t ct = j < cur->stack_size ? cur->slot_type[j] : STK_INVALID;

        if (ot == STK_INVALID) {
            continue;
        }
        if (ot == STK_MISC) {
            if (ct == STK_MISC) {
                continue;
            }
            if (ct == STK_SPILL && cur->spills[j / 8].type == SCALAR) {
                continue;
            }
            return false;
        }
        /* Spill: compare once per slot.  A spilled scalar whose value does
         * not matter is just scalar data. */
        if (ct != STK_SPILL) {
            if (ct == STK_MISC && old->spills[j / 8].type == SCALAR
                && !exact && !old->spills[j / 8].precise
                && !old->spills[j / 8].id) {
                continue;
            }
            return false;
        }
        if (j % 8 == 0 && !regsafe(&old->spills[j / 8], &cur->spills[j / 8],
                                   exact, m)) {
            return false;
        }
    }
    return true;
}

/* Registers of frame f live at the state's position. */
static uint16_t
frame_live_mask(const struct env *env, const struct vstate *st, int f)
{
    if (f == st->nframes - 1) {
        return env->live[st->insn];
    }
    return env->live[st->frames[f + 1]->callsite + 1]
           & (uint16_t) ~CALLER_SAVED;
}

/* True if every concrete state of cur is one of old (as far as the rest of
 * the program can tell).  exact: every live scalar matters (loops). */
static bool
states_subsumed(const struct env *env, const struct vstate *old,
                const struct vstate *cur, bool exact)
{
    struct idmap *m;
    bool ok = true;
    int f, r, i;

    if (old->nframes != cur->nframes || cur->lmin < old->lmin) {
        return false;
    }
    for (f = 0; f < old->nframes; f++) {
        if (old->frames[f]->callsite != cur->frames[f]->callsite) {
            return false;
        }
    }
    /* Quick pass: types and ranges of live registers, which is where
     * most comparisons fail. */
    for (f = 0; f < old->nframes; f++) {
        const struct frame *of = old->frames[f], *cf = cur->frames[f];
        uint16_t live = frame_live_mask(env, old, f);

        for (r = 0; r < BPF_NREGS; r++) {
            const struct reg *o = &of->regs[r], *c = &cf->regs[r];

            if (!(live & RBIT(r)) || o->type == NOT_INIT) {
                continue;
            }
            if (o->type != c->type) {
                return false;
            }
            if ((o->type != SCALAR || exact || o->precise
                 || old->all_precise)
                && o->type != PTR_MAP && o->type != PTR_PKT_END
                && o->type != PTR_MAP_VALUE_OR_NULL
                && (o->off != c->off || !range_within(o, c))) {
                return false;
            }
        }
    }
    m = env->idmap;
    m->n = 0;
    m->nneeded = 0;
    for (i = 0; i < old->nrels; i++) {
        id_count(m, old->rels[i].id, 2);
    }
    for (f = 0; f < old->nframes; f++) {
        const struct frame *of = old->frames[f];
        uint16_t live = frame_live_mask(env, old, f);

        for (r = 0; r < BPF_NREGS; r++) {
            const struct reg *g = &of->regs[r];

            if ((live & RBIT(r)) && ((g->type == SCALAR
                                      && !tnum_is_const(g->var))
                                     || g->type == PTR_PKT)) {
                id_count(m, g->id, 1);
            }
        }
        for (r = 0; r < (int) of->stack_size / 8; r++) {
            const struct reg *g = &of->spills[r];

            if (of->slot_type[r * 8] == STK_SPILL
                && ((g->type == SCALAR && !tnum_is_const(g->var))
                    || g->type == PTR_PKT)) {
                id_count(m, g->id, 1);
            }
        }
    }
    for (f = 0; f < old->nframes && ok; f++) {
        const struct frame *of = old->frames[f], *cf = cur->frames[f];
        uint16_t live = frame_live_mask(env, old, f);

        for (r = 0; r < BPF_NREGS && ok; r++) {
            if (!(live & RBIT(r))) {
                continue;
            }
            ok = regsafe(&of->regs[r], &cf->regs[r],
                         exact || old->all_precise, m);
        }
        if (ok) {
            ok = stacksafe(of, cf, exact || old->all_precise, m);
        }
    }
    for (i = 0; ok && i < old->nrels; i++) {
        int k;

        for (k = 0; k < m->n; k++) {
            if (m->old[k] == old->rels[i].id) {
                bool found;
                int64_t c = rel_get(cur, m->cur[k], &found);

                ok = found && c >= old->rels[i].c + m->shift[k];
                break;
            }
        }
    }
    return ok;
}

/* ---------------------------------------------------------------------
 * Abstract interpretation.
 * ------------------------------------------------------------------- */

static int
push_branch(struct env *env, struct vstate *st, int insn, struct vstate **out)
{
    struct vstate *c;

    if (env->npending >= MAX_PENDING) {
        return verr(env, E2BIG, insn, "program too complex (more than %d "
                    "pending branches)", MAX_PENDING);
    }
    c = state_copy(st);
    if (!c) {
        return verr(env, ENOMEM, insn, "out of memory");
    }
    c->insn = insn;
    if (c->parent) {
        c->parent->branches++;
    }
    env->pending[env->npending++] = c;
    *out = c;
    return 0;
}

/* A path ended (exit, pruned or dead): its stored ancestors may complete. */
static void
path_done(struct vstate *st)
{
    struct vstate *p = st->parent;

    while (p) {
        if (--p->branches) {
            break;
        }
        p = p->parent;
    }
}

/* ---------------------------------------------------------------------
 * Precision (as Linux's mark_chain_precision): stored states compare only
 * the scalars whose value some later check depended on.  When a check
 * depends on a scalar (a branch decided by its value, pointer arithmetic,
 * a helper's size argument, a comparison with the length), the walked
 * instructions are traced back to mark, in every stored ancestor, the
 * registers and spilled slots that value came from.
 * ------------------------------------------------------------------- */

static void
hist_push(struct env *env, struct vstate *st, int insn)
{
    if (st->nhist == st->hist_cap) {
        uint32_t cap = st->hist_cap ? st->hist_cap * 2 : 16;
        struct hist *h = realloc(st->hist, cap * sizeof *h);

        if (!h) {
            /* Without history, precision falls back to "everything". */
            env->hist_lost = true;
            return;
        }
        st->hist = h;
        st->hist_cap = cap;
    }
    st->hist[st->nhist].insn = insn;
    st->hist[st->nhist].kind = HIST_PLAIN;
    st->hist[st->nhist].slot = 0;
    st->hist[st->nhist].linked = 0;
    st->hist[st->nhist].linked_slots = 0;
    st->nhist++;
}

/* Records in the history entry of the conditional jump insn the
 * registers and spilled slots of the innermost frame linked with id. */
static void
hist_note_linked(struct vstate *st, int insn, uint32_t id)
{
    const struct frame *f = st->frames[st->nframes - 1];
    struct hist *h;
    uint32_t k;
    int r;

    if (!id || !st->nhist || st->hist[st->nhist - 1].insn != insn) {
        return;
    }
    h = &st->hist[st->nhist - 1];
    for (r = 0; r < BPF_NREGS; r++) {
        if (f->regs[r].type == SCALAR && f->regs[r].id == id) {
            h->linked |= RBIT(r);
        }
    }
    for (k = 0; k < f->stack_size / 8 && k < 64; k++) {
        if (f->slot_type[k * 8] == STK_SPILL && f->spills[k].type == SCALAR
            && f->spills[k].id == id) {
            h->linked_slots |= 1ull << k;
        }
    }
}

static void
hist_note(struct vstate *st, int insn, uint8_t kind, uint32_t slot)
{
    if (st->nhist && st->hist[st->nhist - 1].insn == insn) {
        st->hist[st->nhist - 1].kind = kind;
        st->hist[st->nhist - 1].slot = (uint8_t) slot;
    }
}

/* Marks every scalar of st and of all its ancestors as mattering. */
static void
mark_all_precise(struct vstate *st)
{
    for (; st && !st->all_precise; st = st->parent) {
        st->all_precise = true;
    }
}

/* Backtracks one instruction: regs/slots needed after it -> before it.
 * Returns false if it cannot (frames change): the caller falls back. */
static bool
backtrack_insn(const struct env *env, const struct hist *h, uint16_t *regs,
               uint64_t *slots)
{
    const struct bpf_inst *in = &env->insns[h->insn];
    uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
    uint16_t d = RBIT(in->dst), sb = RBIT(in->src);

    if (h->kind == HIST_FRAME) {
        return false;
    }
    if (h->kind == HIST_FOREIGN_FILL && (*regs & d)) {
        return false;
    }
    switch (cls) {
    case BPF_CLS_ALU:
    case BPF_CLS_ALU64:
        if (!(*regs & d)) {
            break;
        }
        if (op == BPF_ALU_MOV) {
            *regs &= (uint16_t) ~d;
            if (BPF_SRC(in->code) == BPF_SRC_X) {
                *regs |= sb;
            }
        } else if (BPF_SRC(in->code) == BPF_SRC_X && op != BPF_ALU_END
                   && op != BPF_ALU_NEG) {
            *regs |= sb;
        }
        break;
    case BPF_CLS_LDX:
        if (*regs & d) {
            *regs &= (uint16_t) ~d;
            if (h->kind == HIST_FILL) {
                *slots |= 1ull << h->slot;
            }
        }
        break;
    case BPF_CLS_ST:
    case BPF_CLS_STX:
        if (BPF_MODE(in->code) == BPF_MODE_ATOMIC) {
            if (in->imm == BPF_ATOMIC_CMPXCHG) {
                *regs &= (uint16_t) ~RBIT(0);
            } else if (in->imm & BPF_ATOMIC_FETCH) {
                *regs &= (uint16_t) ~sb;
            }
            break;
        }
        if (h->kind == HIST_SPILL && (*slots & (1ull << h->slot))) {
            *slots &= ~(1ull << h->slot);
            if (cls == BPF_CLS_STX) {
                *regs |= sb;
            }
        }
        break;
    case BPF_CLS_LD:
        if (BPF_MODE(in->code) == BPF_MODE_IMM) {
            *regs &= (uint16_t) ~d;
        } else {
            *regs &= (uint16_t) ~CALLER_SAVED;
        }
        break;
    case BPF_CLS_JMP:
    case BPF_CLS_JMP32:
        if (op == BPF_JMP_CALL) {
            *regs &= (uint16_t) ~CALLER_SAVED;
        } else if (op != BPF_JMP_JA && op != BPF_JMP_EXIT) {
            uint16_t ops = d | (BPF_SRC(in->code) == BPF_SRC_X ? sb : 0);

            /* The jump refined every copy linked with its operands: a
             * value that matters below through one of them depended on
             * the bounds of all of them and of the operands. */
            if ((*regs & h->linked) || (*slots & h->linked_slots)) {
                *regs |= h->linked | ops;
                *slots |= h->linked_slots;
            }
            if (BPF_SRC(in->code) == BPF_SRC_X && (*regs & ops)) {
                *regs |= ops;
            }
        }
        break;
    default:
        break;
    }
    return true;
}

/* The values of registers `regs` and stack slots `slots` of the innermost
 * frame of st matter: trace them back through st's history and mark them
 * in every stored ancestor. */
static void
mark_precise(struct env *env, struct vstate *st, uint16_t regs,
             uint64_t slots)
{
    struct vstate *cur = st;
    int depth = st->nframes;

    regs &= (uint16_t) ~RBIT(10);
    if (env->hist_lost) {
        mark_all_precise(st->parent);
        return;
    }
    while (regs || slots) {
        struct vstate *p;
        struct frame *f;
        uint32_t i;
        int r;

        for (i = cur->nhist; i-- > 0;) {
            if (!backtrack_insn(env, &cur->hist[i], &regs, &slots)) {
                mark_all_precise(cur->parent);
                return;
            }
            if (!regs && !slots) {
                return;
            }
        }
        p = cur->parent;
        if (!p) {
            return;
        }
        if (p->all_precise) {
            return;
        }
        if (p->nframes != depth) {
            mark_all_precise(p);
            return;
        }
        f = p->frames[depth - 1];
        for (r = 0; r < BPF_NREGS; r++) {
            if (!(regs & RBIT(r))) {
                continue;
            }
            if (f->regs[r].type != SCALAR || f->regs[r].precise) {
                /* Done before (or not a scalar): nothing new above. */
                regs &= (uint16_t) ~RBIT(r);
            } else {
                f->regs[r].precise = true;
            }
        }
        for (r = 0; r < 64; r++) {
            if (!(slots & (1ull << r))) {
                continue;
            }
            if ((uint32_t) r * 8 >= f->stack_size
                || f->slot_type[r * 8] != STK_SPILL
                || f->spills[r].type != SCALAR || f->spills[r].precise) {
                slots &= ~(1ull << r);
            } else {
                f->spills[r].precise = true;
            }
        }
        cur = p;
    }
}

/* cur was pruned by old: what old's future needed, cur's past must give. */
static void
propagate_precision(struct env *env, const struct vstate *old,
                    struct vstate *cur)
{
    const struct frame *f;
    uint16_t regs = 0;
    uint64_t slots = 0;
    int i;

    if (old->all_precise) {
        mark_all_precise(cur->parent);
        return;
    }
    for (i = 0; i + 1 < old->nframes; i++) {
        const struct frame *of = old->frames[i];
        int r;

        for (r = 0; r < BPF_NREGS; r++) {
            if (of->regs[r].type == SCALAR && of->regs[r].precise) {
                mark_all_precise(cur->parent);
                return;
            }
        }
        for (r = 0; r < (int) of->stack_size / 8; r++) {
            if (of->slot_type[r * 8] == STK_SPILL && of->spills[r].precise) {
                mark_all_precise(cur->parent);
                return;
            }
        }
    }
    f = old->frames[old->nframes - 1];
    for (i = 0; i < BPF_NREGS; i++) {
        if (f->regs[i].type == SCALAR && f->regs[i].precise) {
            regs |= RBIT(i);
        }
    }
    for (i = 0; i < (int) f->stack_size / 8 && i < 64; i++) {
        if (f->slot_type[i * 8] == STK_SPILL && f->spills[i].precise) {
            slots |= 1ull << i;
        }
    }
    if (regs || slots) {
        mark_precise(env, cur, regs, slots);
    }
}

static void
clear_precise(struct vstate *st)
{
    FOR_EACH_REG(st, r, {
        r->precise = false;
    });
    st->all_precise = false;
}

/* States stored at an instruction are bucketed by the constant value of
 * one "key" register or stack slot of the innermost frame (typically a
 * loop counter): an old state whose key is a constant can only subsume a
 * state with the same constant, so a lookup scans one bucket plus the
 * states whose key is not constant (the wild list, env->visited). */
struct vbucket {
    uint64_t val;
    int insn;
    struct vstate *head;
    struct vbucket *next;       /* buckets of the same instruction */
    struct vbucket *hnext;      /* chain of env->bhash */
};

/* All buckets are also in a hash table on (insn, val): a loop counter
 * makes thousands of buckets at one instruction, and a linear search made
 * verification quadratic (minutes for a 10-instruction loop). */
#define BHASH_SIZE 65536

static size_t
bhash(int insn, uint64_t val)
{
    uint64_t h = (val ^ ((uint64_t) (uint32_t) insn << 32))
                 * 0x9e3779b97f4a7c15ull;

    return (size_t) (h >> 48) & (BHASH_SIZE - 1);
}

#define KEY_NONE (-1)
/* Stored states at an instruction before a key is chosen. */
#define KEY_CHOOSE_AT 16

static bool
state_key(const struct vstate *st, int key, uint64_t *val)
{
    const struct frame *f = st->frames[st->nframes - 1];
    const struct reg *r;

    if (key < 0) {
        return false;
    }
    if (key < BPF_NREGS) {
        r = &f->regs[key];
    } else {
        uint32_t k = (uint32_t) (key - BPF_NREGS);

        if (k * 8 >= f->stack_size || f->slot_type[k * 8] != STK_SPILL) {
            return false;
        }
        r = &f->spills[k];
    }
    if (!reg_is_const(r)) {
        return false;
    }
    *val = r->var.value;
    return true;
}

static struct vbucket *
find_bucket(struct env *env, int insn, uint64_t val, bool create)
{
    size_t h = bhash(insn, val);
    struct vbucket *b;

    for (b = env->bhash[h]; b; b = b->hnext) {
        if (b->val == val && b->insn == insn) {
            return b;
        }
    }
    if (!create) {
        return NULL;
    }
    b = calloc(1, sizeof *b);
    if (b) {
        b->val = val;
        b->insn = insn;
        b->hnext = env->bhash[h];
        env->bhash[h] = b;
        b->next = env->buckets[insn];
        env->buckets[insn] = b;
    }
    return b;
}

/* Picks the key of instruction insn: the live register or spilled slot
 * with the most distinct constants among the wild states. */
static void
choose_key(struct env *env, int insn)
{
    int cand, best = KEY_NONE, best_n = 3;
    int ncand = BPF_NREGS + BPF_STACK_SIZE / 8;
    struct vstate *sl, *next;

    for (cand = 0; cand < ncand; cand++) {
        uint64_t vals[KEY_CHOOSE_AT];
        int nv = 0, i;

        if (cand < BPF_NREGS && (cand == 10
                                 || !(env->live[insn] & RBIT(cand)))) {
            continue;
        }
        for (sl = env->visited[insn]; sl && nv < KEY_CHOOSE_AT;
             sl = sl->next) {
            uint64_t v;

            if (!state_key(sl, cand, &v)) {
                continue;
            }
            for (i = 0; i < nv && vals[i] != v; i++) {
                continue;
            }
            if (i == nv) {
                vals[nv++] = v;
            }
        }
        if (nv > best_n) {
            best = cand;
            best_n = nv;
        }
    }
    env->vkey[insn] = (int16_t) best;
    if (best == KEY_NONE) {
        return;
    }
    sl = env->visited[insn];
    env->visited[insn] = NULL;
    for (; sl; sl = next) {
        struct vbucket *b = NULL;
        uint64_t v;

        next = sl->next;
        if (state_key(sl, best, &v)) {
            b = find_bucket(env, insn, v, true);
        }
        if (b) {
            sl->next = b->head;
            b->head = sl;
        } else {
            sl->next = env->visited[insn];
            env->visited[insn] = sl;
        }
    }
}

/* Compares cur with the states of one list.  Returns 1 (pruned), 0 or a
 * negative errno. */
static int
scan_states(struct env *env, struct vstate **head, struct vstate *cur)
{
    struct vstate *sl, **pp;
    int insn = cur->insn;

    for (pp = head; (sl = *pp) != NULL;) {
        if (++env->ncompared > env->max_insns * CMP_PER_INSN) {
            return verr(env, E2BIG, insn, "program too complex (more than "
                        "%" PRIu64 " state comparisons)",
                        env->max_insns * CMP_PER_INSN);
        }
        if (sl->branches) {
            if (states_subsumed(env, sl, cur, true)) {
                return verr(env, EACCES, insn, "unbounded loop");
            }
            pp = &sl->next;
            continue;
        }
        if (states_subsumed(env, sl, cur, false)) {
            propagate_precision(env, sl, cur);
            sl->hits++;
            if (env->stats) {
                env->stats->states_pruned++;
            }
            return 1;
        }
        /* States that rarely prune cost more to compare than they save
         * (the Linux heuristic).  A complete state is referenced by no
         * live path and can go. */
        if (++sl->misses > sl->hits * 3 + 3
            && env->nvisited[insn] > EVICT_THRESHOLD) {
            *pp = sl->next;
            env->nvisited[insn]--;
            env->nstored--;
            state_free(sl);
            continue;
        }
        pp = &sl->next;
    }
    return 0;
}

static int
is_state_visited(struct env *env, struct vstate *cur)
{
    struct vstate *copy, **head;
    struct vbucket *b = NULL;
    int insn = cur->insn, ret;
    uint64_t v;
    bool keyed;

    if (env->vkey[insn] == KEY_NONE - 1
        && env->nvisited[insn] >= KEY_CHOOSE_AT) {
        choose_key(env, insn);
    }
    keyed = state_key(cur, env->vkey[insn], &v);
    if (keyed) {
        b = find_bucket(env, insn, v, false);
        if (b) {
            ret = scan_states(env, &b->head, cur);
            if (ret) {
                return ret;
            }
        }
    }
    ret = scan_states(env, &env->visited[insn], cur);
    if (ret) {
        return ret;
    }
    if (env->nvisited[insn] >= MAX_STATES_PER_INSN
        || env->nstored >= MAX_STATES_TOTAL) {
        return 0;
    }
    if (keyed && !b) {
        b = find_bucket(env, insn, v, true);
        if (!b) {
            return verr(env, ENOMEM, insn, "out of memory");
        }
    }
    copy = state_copy(cur);
    if (!copy) {
        return verr(env, ENOMEM, insn, "out of memory");
    }
    head = keyed ? &b->head : &env->visited[insn];
    clear_precise(copy);
    cur->nhist = 0;     /* the copy keeps the history up to here */
    copy->parent = cur->parent;
    copy->branches = 1;
    copy->next = *head;
    *head = copy;
    env->nvisited[insn]++;
    env->nstored++;
    cur->parent = copy;
    if (env->stats) {
        env->stats->states_stored++;
    }
    return 0;
}

static int
check_reg_init(struct env *env, struct vstate *st, int regno)
{
    if (cur_frame(st)->regs[regno].type == NOT_INIT) {
        return verr(env, EACCES, st->insn, "r%d: read of uninitialised "
                    "register", regno);
    }
    return 0;
}

static void
note_stack_depth(struct env *env, int64_t lowest)
{
    if (env->stats && lowest < 0 && (uint64_t) -lowest > env->stats->max_stack) {
        env->stats->max_stack = (uint32_t) -lowest;
    }
}

/* Checks the offsets [lo, hi) of an access through a pointer with constant
 * part k, variable part [umin, umax] and size `size`. */
static void
access_range(const struct reg *p, int off, int size, int64_t *lo, int64_t *hi)
{
    *lo = p->off + off + (int64_t) p->umin;
    *hi = p->off + off + (int64_t) p->umax + size;
}

/* Checks a packet access of size bytes at p + off. */
static int
check_pkt_access(struct env *env, struct vstate *st, int regno,
                 const struct reg *p, int off, int64_t size, const char *what)
{
    int64_t lo, hi;
    bool found;

    access_range(p, off, (int) size, &lo, &hi);
    if (lo < 0) {
        return verr(env, EACCES, st->insn, "r%d: %s at negative packet "
                    "offset %" PRId64, regno, what, lo);
    }
    if ((uint64_t) hi <= st->lmin) {
        return 0;
    }
    if (p->id) {
        int64_t c = rel_get(st, p->id, &found);

        if (found && p->off + off + size <= c - p->delta) {
            return 0;
        }
    }
    if (p->umin == p->umax) {
        return verr(env, EACCES, st->insn, "r%d: packet %s of %" PRId64
                    " bytes at offset %" PRId64 " beyond proven length %"
                    PRIu64, regno, what, size, lo, st->lmin);
    }
    return verr(env, EACCES, st->insn, "r%d: packet %s of %" PRId64 " bytes "
                "at variable offset (up to %" PRId64 ") not proven within "
                "the packet length (proven %" PRIu64 ")", regno, what, size,
                hi - size, st->lmin);
}

/* Checks that the stack bytes [lo, hi) of frame f can be read as data.
 * pointer_ok: an exact 8-byte read of a spilled pointer is fine. */
static int
check_stack_read_bytes(struct env *env, struct vstate *st, int regno,
                       struct frame *f, int64_t lo, int64_t hi,
                       const char *what)
{
    int64_t o;

    for (o = lo; o < hi; o++) {
        uint32_t j = (uint32_t) (-o - 1);
        uint8_t t = j < f->stack_size ? f->slot_type[j] : STK_INVALID;

        if (t == STK_INVALID) {
            if (!strcmp(what, "read")) {
                return verr(env, EACCES, st->insn, "r%d: stack read of "
                            "uninitialised byte at fp%" PRId64, regno, o);
            }
            return verr(env, EACCES, st->insn, "r%d: %s: stack read of "
                        "uninitialised byte at fp%" PRId64, regno, what, o);
        }
        if (t == STK_SPILL && f->spills[j / 8].type != SCALAR) {
            return verr(env, EACCES, st->insn, "r%d: %s of part of a "
                        "spilled pointer at fp%" PRId64 " (pointer leak)",
                        regno < 0 ? 10 : regno, what, o);
        }
    }
    return 0;
}

/* Makes slot k of f lose its spilled register because bytes of it are
 * overwritten: scalar data stays readable, a pointer becomes unreadable. */
static void
scrub_spill(struct frame *f, uint32_t k)
{
    int b;
    uint8_t nt = f->spills[k].type == SCALAR ? STK_MISC : STK_INVALID;

    if (f->slot_type[k * 8] != STK_SPILL) {
        return;
    }
    for (b = 0; b < 8; b++) {
        f->slot_type[k * 8 + b] = nt;
    }
}

static int
check_stack_write(struct env *env, struct vstate *st, int regno,
                  const struct reg *p, int off, int size,
                  const struct reg *val)
{
    struct frame *f = st->frames[p->frameno];
    int64_t lo, hi, o;
    bool var = p->umin != p->umax;

    access_range(p, off, size, &lo, &hi);
    if (lo < -BPF_STACK_SIZE || hi > 0) {
        return verr(env, EACCES, st->insn, "r%d: stack write of %d bytes at "
                    "fp%+" PRId64 " out of bounds", regno, size, lo);
    }
    if (val && val->type != SCALAR) {
        int valno = env->insns[st->insn].src;

        if (var || size != 8 || lo % 8) {
            return verr(env, EACCES, st->insn, "r%d: partial or unaligned "
                        "spill of a pointer", valno);
        }
        if (val->type == PTR_STACK && val->frameno > p->frameno) {
            return verr(env, EACCES, st->insn, "r%d: pointer to a deeper "
                        "stack frame stored in a caller's frame", valno);
        }
    }
    if (frame_grow(f, (uint32_t) -lo)) {
        return verr(env, ENOMEM, st->insn, "out of memory");
    }
    note_stack_depth(env, lo);
    if (var) {
        /* Any byte of the range may be written: spills lose their value,
         * uninitialised bytes stay uninitialised. */
        for (o = lo; o < hi; o++) {
            uint32_t j = (uint32_t) (-o - 1);

            if (f->slot_type[j] == STK_SPILL) {
                scrub_spill(f, j / 8);
            }
        }
        return 0;
    }
    if (size == 8 && lo % 8 == 0) {
        uint32_t k = (uint32_t) (-lo - 1) / 8;
        int b;

        if (p->frameno == st->nframes - 1) {
            hist_note(st, st->insn, HIST_SPILL, k);
        }
        for (b = 0; b < 8; b++) {
            f->slot_type[k * 8 + b] = STK_SPILL;
        }
        if (val) {
            f->spills[k] = *val;
        } else {
            reg_mark_unknown(&f->spills[k]);
        }
        return 0;
    }
    for (o = lo; o < hi; o++) {
        uint32_t j = (uint32_t) (-o - 1);

        if (f->slot_type[j] == STK_SPILL) {
            scrub_spill(f, j / 8);
        }
    }
    for (o = lo; o < hi; o++) {
        f->slot_type[(uint32_t) (-o - 1)] = STK_MISC;
    }
    return 0;
}

/* Loads into *dst from the stack. */
static int
check_stack_read(struct env *env, struct vstate *st, int regno,
                 const struct reg *p, int off, int size, struct reg *dst)
{
    struct frame *f = st->frames[p->frameno];
    int64_t lo, hi;
    int ret;

    access_range(p, off, size, &lo, &hi);
    if (lo < -BPF_STACK_SIZE || hi > 0) {
        return verr(env, EACCES, st->insn, "r%d: stack read of %d bytes at "
                    "fp%+" PRId64 " out of bounds", regno, size, lo);
    }
    if (p->umin == p->umax && size == 8 && lo % 8 == 0) {
        uint32_t k = (uint32_t) (-lo - 1) / 8;

        if (k * 8 < f->stack_size && f->slot_type[k * 8] == STK_SPILL) {
            *dst = f->spills[k];
            hist_note(st, st->insn, p->frameno == st->nframes - 1
                                    ? HIST_FILL : HIST_FOREIGN_FILL, k);
            return 0;
        }
    }
    ret = check_stack_read_bytes(env, st, regno, f, lo, hi, "read");
    if (ret) {
        return ret;
    }
    reg_mark_bounded(dst, size == 8 ? UINT64_MAX
                                    : (1ull << (size * 8)) - 1);
    return 0;
}

/* The memory access of instruction st->insn through register regno. */
static int
check_mem_access(struct env *env, struct vstate *st, int regno, int off,
                 int size, bool write, const struct reg *val, struct reg *dst)
{
    struct frame *fr = cur_frame(st);
    struct reg *p = &fr->regs[regno];
    int64_t lo, hi;
    uint32_t limit;

    switch (p->type) {
    case NOT_INIT:
        return verr(env, EACCES, st->insn, "r%d: read of uninitialised "
                    "register", regno);
    case SCALAR:
        return verr(env, EACCES, st->insn, "r%d: memory access through a "
                    "scalar", regno);
    case PTR_MAP_VALUE_OR_NULL:
        return verr(env, EACCES, st->insn, "r%d: possible NULL map value "
                    "dereference", regno);
    case PTR_MAP:
        return verr(env, EACCES, st->insn, "r%d: memory access through a "
                    "map pointer", regno);
    case PTR_PKT_END:
        return verr(env, EACCES, st->insn, "r%d: memory access through the "
                    "packet end pointer", regno);
    case PTR_PKT:
        if (write) {
            return verr(env, EACCES, st->insn, "r%d: write to read-only "
                        "packet", regno);
        }
        {
            int ret = check_pkt_access(env, st, regno, p, off, size,
                                       "read");
            if (ret) {
                return ret;
            }
        }
        reg_mark_bounded(dst, size == 8 ? UINT64_MAX
                                        : (1ull << (size * 8)) - 1);
        return 0;
    case PTR_STACK:
        if (p->frameno >= st->nframes) {
            return verr(env, EACCES, st->insn, "r%d: stale stack pointer",
                        regno);
        }
        if (write) {
            return check_stack_write(env, st, regno, p, off, size, val);
        }
        return check_stack_read(env, st, regno, p, off, size, dst);
    case PTR_MAP_VALUE:
    case PTR_RODATA:
        if (p->type == PTR_RODATA) {
            if (write) {
                return verr(env, EACCES, st->insn, "r%d: write to read-only "
                            "data", regno);
            }
            limit = (uint32_t) env->prog->rodata_len;
        } else {
            limit = bpf_helper_value_size(&env->prog->maps[p->map_idx].def);
        }
        access_range(p, off, size, &lo, &hi);
        if (lo < 0 || hi > (int64_t) limit) {
            return verr(env, EACCES, st->insn, "r%d: %s %s of %d bytes at "
                        "offset %" PRId64 " outside its %u bytes", regno,
                        p->type == PTR_RODATA ? "read-only data" : "map value",
                        write ? "write" : "read", size, lo, limit);
        }
        if (write && val && val->type != SCALAR) {
            return verr(env, EACCES, st->insn, "r%d: pointer leaked into a "
                        "map value", regno);
        }
        if (!write) {
            if (p->type == PTR_RODATA && p->umin == p->umax
                && env->prog->rodata) {
                uint64_t v = 0;

                memcpy(&v, env->prog->rodata + lo, size);
                reg_mark_const(dst, v);
            } else {
                reg_mark_bounded(dst, size == 8 ? UINT64_MAX
                                                : (1ull << (size * 8)) - 1);
            }
        }
        return 0;
    default:
        break;
    }
    return verr(env, EACCES, st->insn, "r%d: bad memory access", regno);
}

static int
insn_size(uint8_t code)
{
    switch (BPF_SIZE(code)) {
    case BPF_SIZE_B: return 1;
    case BPF_SIZE_H: return 2;
    case BPF_SIZE_W: return 4;
    default: return 8;
    }
}

static int
do_atomic(struct env *env, struct vstate *st, const struct bpf_inst *in)
{
    struct frame *fr = cur_frame(st);
    struct reg *p = &fr->regs[in->dst], *src = &fr->regs[in->src];
    int size = insn_size(in->code), ret;
    struct reg tmp;

    ret = check_reg_init(env, st, in->src);
    if (ret) {
        return ret;
    }
    if (src->type != SCALAR) {
        return verr(env, EACCES, st->insn, "r%d: pointer leaked through an "
                    "atomic operation", in->src);
    }
    if (in->imm == BPF_ATOMIC_CMPXCHG) {
        ret = check_reg_init(env, st, 0);
        if (ret) {
            return ret;
        }
        if (fr->regs[0].type != SCALAR) {
            return verr(env, EACCES, st->insn, "r0: pointer leaked through "
                        "cmpxchg");
        }
    }
    ret = check_reg_init(env, st, in->dst);
    if (ret) {
        return ret;
    }
    if (p->type != PTR_STACK && p->type != PTR_MAP_VALUE) {
        if (p->type == PTR_MAP_VALUE_OR_NULL) {
            return verr(env, EACCES, st->insn, "r%d: possible NULL map "
                        "value dereference", in->dst);
        }
        return verr(env, EACCES, st->insn, "r%d: atomic operation on %s "
                    "(only the stack and map values)", in->dst,
                    reg_type_names[p->type]);
    }
    /* Atomics must be naturally aligned (as in Linux; the checked VM and
     * CPUs other than x86 fault otherwise).  Stack frames, map values and
     * Bloom/count-min scratch buffers are 8-byte aligned, so the offset
     * alone decides. */
    if (((uint64_t) (p->off + in->off) | p->var.value | p->var.mask)
        & (uint64_t) (size - 1)) {
        return verr(env, EACCES, st->insn, "r%d: misaligned atomic operation "
                    "of %d bytes at offset %" PRId64 "%s", in->dst, size,
                    p->off + in->off,
                    p->umin == p->umax ? "" : " plus a variable");
    }
    /* Read, then write back scalar data. */
    ret = check_mem_access(env, st, in->dst, in->off, size, false, NULL,
                           &tmp);
    if (ret) {
        return ret;
    }
    if (p->type == PTR_STACK) {
        int64_t lo, hi;

        access_range(p, in->off, size, &lo, &hi);
        ret = check_stack_read_bytes(env, st, in->dst,
                                     st->frames[p->frameno], lo, hi,
                                     "atomic operation");
        if (ret) {
            return ret;
        }
        reg_mark_unknown(&tmp);
        ret = check_stack_write(env, st, in->dst, p, in->off, size,
                                size == 8 ? &tmp : NULL);
        if (ret) {
            return ret;
        }
    } else {
        ret = check_mem_access(env, st, in->dst, in->off, size, true, src,
                               NULL);
        if (ret) {
            return ret;
        }
    }
    if (in->imm == BPF_ATOMIC_CMPXCHG) {
        reg_mark_bounded(&fr->regs[0], size == 8 ? UINT64_MAX : UINT32_MAX);
    } else if (in->imm & BPF_ATOMIC_FETCH) {
        reg_mark_bounded(&fr->regs[in->src],
                         size == 8 ? UINT64_MAX : UINT32_MAX);
    }
    return 0;
}

/* Checks that size bytes at the pointer in regno are readable as data
 * (helper arguments). */
static int
check_helper_mem(struct env *env, struct vstate *st, int regno,
                 uint64_t size, const char *what)
{
    struct reg *p = &cur_frame(st)->regs[regno];
    int64_t lo, hi;
    uint32_t limit;

    if (size > BPF_STACK_SIZE * 128) {
        return verr(env, EACCES, st->insn, "r%d: %s size %" PRIu64 " too "
                    "large", regno, what, size);
    }
    switch (p->type) {
    case PTR_STACK:
        access_range(p, 0, (int) size, &lo, &hi);
        if (lo < -BPF_STACK_SIZE || hi > 0) {
            return verr(env, EACCES, st->insn, "r%d: %s of %" PRIu64 " bytes "
                        "at fp%+" PRId64 " outside the stack", regno, what,
                        size, lo);
        }
        note_stack_depth(env, lo);
        return check_stack_read_bytes(env, st, regno,
                                      st->frames[p->frameno], lo, hi, what);
    case PTR_PKT:
        return check_pkt_access(env, st, regno, p, 0, (int64_t) size, what);
    case PTR_MAP_VALUE:
    case PTR_RODATA:
        limit = p->type == PTR_RODATA
                ? (uint32_t) env->prog->rodata_len
                : bpf_helper_value_size(&env->prog->maps[p->map_idx].def);
        access_range(p, 0, (int) size, &lo, &hi);
        if (lo < 0 || hi > (int64_t) limit) {
            return verr(env, EACCES, st->insn, "r%d: %s of %" PRIu64 " bytes "
                        "at offset %" PRId64 " outside its %u bytes", regno,
                        what, size, lo, limit);
        }
        return 0;
    case NOT_INIT:
        return verr(env, EACCES, st->insn, "r%d: read of uninitialised "
                    "register", regno);
    case PTR_MAP_VALUE_OR_NULL:
        return verr(env, EACCES, st->insn, "r%d: possible NULL map value "
                    "passed as %s", regno, what);
    default:
        return verr(env, EACCES, st->insn, "r%d: %s is a %s, not a pointer "
                    "to memory", regno, what, reg_type_names[p->type]);
    }
}

/* Number of conversions (arguments used) of the format string the rodata
 * pointer r points to; 5 if it cannot tell. */
static int
printf_conversions(const struct env *env, const struct reg *r)
{
    const uint8_t *ro = env->prog->rodata;
    size_t len = env->prog->rodata_len;
    size_t o;

    if (r->type != PTR_RODATA || r->umin != r->umax || !ro || r->off < 0) {
        return 5;
    }
    o = (size_t) (r->off + (int64_t) r->umin);
    if (o >= len) {
        return 5;
    }
    /* The same parser oko_printf uses at run time: only the arguments it
     * will read need to be initialised. */
    return bpf_printf_nargs((const char *) ro + o, len - o);
}

static int
do_helper_call(struct env *env, struct vstate *st, const struct bpf_inst *in)
{
    const struct bpf_helper_proto *proto = bpf_helper_proto(in->imm);
    struct frame *fr = cur_frame(st);
    const struct bpf_map_def *def = NULL;
    int k, ret, map_idx = -1, mem_reg = -1, nused = 5;

    if (proto->args[0] == BPF_ARG_RODATA_STR) {
        nused = 1 + printf_conversions(env, &fr->regs[1]);
    }

    for (k = 0; k < 5 && proto->args[k] != BPF_ARG_NONE; k++) {
        int regno = k + 1;
        struct reg *r = &fr->regs[regno];

        if (proto->args[k] == BPF_ARG_ANYTHING && regno > nused
            && r->type == NOT_INIT) {
            /* An argument the format string does not use. */
            continue;
        }
        ret = check_reg_init(env, st, regno);
        if (ret) {
            return ret;
        }
        switch (proto->args[k]) {
        case BPF_ARG_ANYTHING:
            if (r->type != SCALAR) {
                return verr(env, EACCES, st->insn, "r%d: pointer leaked to "
                            "helper %s", regno, proto->name);
            }
            break;
        case BPF_ARG_MAP:
            if (r->type != PTR_MAP) {
                return verr(env, EACCES, st->insn, "r%d: %s expects a map, "
                            "got a %s", regno, proto->name,
                            reg_type_names[r->type]);
            }
            map_idx = r->map_idx;
            def = &env->prog->maps[map_idx].def;
            break;
        case BPF_ARG_MAP_KEY:
        case BPF_ARG_MAP_VALUE:
            if (!def) {
                return verr(env, EACCES, st->insn, "r%d: no map before the "
                            "key", regno);
            }
            ret = check_helper_mem(env, st, regno,
                                   proto->args[k] == BPF_ARG_MAP_KEY
                                   ? def->key_size : def->value_size,
                                   proto->args[k] == BPF_ARG_MAP_KEY
                                   ? "map key" : "map value");
            if (ret) {
                return ret;
            }
            break;
        case BPF_ARG_MEM:
            mem_reg = regno;
            break;
        case BPF_ARG_MEM_SIZE:
            if (r->type != SCALAR) {
                return verr(env, EACCES, st->insn, "r%d: size argument is a "
                            "pointer", regno);
            }
            if (mem_reg < 0) {
                return verr(env, EACCES, st->insn, "r%d: size without "
                            "memory", regno);
            }
            mark_precise(env, st, RBIT(regno), 0);
            ret = check_helper_mem(env, st, mem_reg, r->umax, "memory "
                                   "argument");
            if (ret) {
                return ret;
            }
            break;
        case BPF_ARG_RODATA_STR: {
            const uint8_t *ro = env->prog->rodata;
            size_t len = env->prog->rodata_len, o;
            bool nul = false;

            if (r->type != PTR_RODATA || r->umin != r->umax) {
                return verr(env, EACCES, st->insn, "r%d: %s expects a "
                            "constant string in read-only data", regno,
                            proto->name);
            }
            for (o = (size_t) (r->off + (int64_t) r->umin);
                 ro && o < len; o++) {
                if (!ro[o]) {
                    nul = true;
                    break;
                }
            }
            if (!nul) {
                return verr(env, EACCES, st->insn, "r%d: string not "
                            "NUL-terminated in read-only data", regno);
            }
            break;
        }
        default:
            break;
        }
    }
    for (k = 1; k <= 5; k++) {
        memset(&fr->regs[k], 0, sizeof fr->regs[k]);
    }
    if (proto->ret == BPF_RET_MAP_VALUE_OR_NULL && map_idx >= 0) {
        struct reg *r0 = &fr->regs[0];

        memset(r0, 0, sizeof *r0);
        r0->type = PTR_MAP_VALUE_OR_NULL;
        r0->map_idx = (uint16_t) map_idx;
        r0->id = new_id(env);
        r0->var = tnum_const(0);
    } else {
        reg_mark_unknown(&fr->regs[0]);
    }
    return 0;
}

/* Pointer arithmetic: dst (pointer or scalar) op= src. */
static int
do_ptr_alu(struct env *env, struct vstate *st, const struct bpf_inst *in,
           struct reg *dst, struct reg *src)
{
    uint8_t op = BPF_OP(in->code);
    struct reg *ptr, *sc;
    int pregno;
    bool ptr_is_dst = dst->type != SCALAR;

    if (BPF_CLASS(in->code) == BPF_CLS_ALU) {
        return verr(env, EACCES, st->insn, "r%d: 32-bit ALU on a pointer",
                    ptr_is_dst ? in->dst : in->src);
    }
    if (dst->type != SCALAR && src->type != SCALAR) {
        /* ptr - ptr of the same packet or stack frame: a scalar. */
        if (op == BPF_ALU_SUB && dst->type == PTR_PKT_END
            && src->type == PTR_PKT && src->umin == src->umax) {
            int64_t e = dst->off - src->off - (int64_t) src->umin;

            reg_mark_unknown(dst);
            dst->id = LEN_ID;
            dst->delta = e;
            if (e >= 0 || st->lmin >= (uint64_t) -e) {
                dst->umin = st->lmin + e;
                dst->umax = MAX_PKT_LEN + e;
                reg_sync(dst);
            }
            return 0;
        }
        /* Two packet pointers, or two pointers into one stack frame, are
         * offsets from one base.  Two map value pointers are not: two
         * lookups of one map return different values, so their difference
         * is an address difference (a leak, and no constant). */
        if (op == BPF_ALU_SUB && dst->type == src->type
            && (dst->type == PTR_PKT || dst->type == PTR_STACK)
            && dst->frameno == src->frameno) {
            if (dst->umin == dst->umax && src->umin == src->umax) {
                reg_mark_const(dst, (uint64_t) (dst->off + (int64_t) dst->umin
                                                - src->off
                                                - (int64_t) src->umin));
            } else {
                reg_mark_unknown(dst);
            }
            return 0;
        }
        return verr(env, EACCES, st->insn, "r%d: arithmetic on two pointers",
                    in->dst);
    }
    ptr = ptr_is_dst ? dst : src;
    sc = ptr_is_dst ? src : dst;
    pregno = ptr_is_dst ? in->dst : in->src;
    if (sc->type == SCALAR && (!ptr_is_dst || BPF_SRC(in->code) == BPF_SRC_X)) {
        /* The pointer's offset depends on the scalar's value. */
        mark_precise(env, st, RBIT(ptr_is_dst ? in->src : in->dst), 0);
    }
    if (op != BPF_ALU_ADD && !(op == BPF_ALU_SUB && ptr_is_dst)) {
        return verr(env, EACCES, st->insn, "r%d: pointer arithmetic other "
                    "than adding or subtracting a scalar", pregno);
    }
    switch (ptr->type) {
    case PTR_PKT:
    case PTR_STACK:
    case PTR_MAP_VALUE:
    case PTR_RODATA:
        break;
    case PTR_PKT_END:
        if (tnum_is_const(sc->var)) {
            break;
        }
        /* fall through */
    default:
        return verr(env, EACCES, st->insn, "r%d: arithmetic on a %s",
                    pregno, reg_type_names[ptr->type]);
    }
    if (sc->type == NOT_INIT) {
        return verr(env, EACCES, st->insn, "r%d: read of uninitialised "
                    "register", ptr_is_dst ? in->src : in->dst);
    }
    /* pkt + len is the packet end. */
    if (op == BPF_ALU_ADD && ptr->type == PTR_PKT && sc->id == LEN_ID
        && ptr->umin == ptr->umax && ptr->umin == 0) {
        struct reg r;

        memset(&r, 0, sizeof r);
        r.type = PTR_PKT_END;
        r.off = ptr->off + sc->delta;
        r.var = tnum_const(0);
        *dst = r;
        return 0;
    }
    if (tnum_is_const(sc->var)) {
        int64_t c = (int64_t) sc->var.value, noff;

        if (op == BPF_ALU_SUB) {
            if (c == INT64_MIN) {
                goto out_of_range;
            }
            c = -c;
        }
        noff = ptr->off + c;
        if (c < -OFF_LIMIT || c > OFF_LIMIT || noff < -OFF_LIMIT
            || noff > OFF_LIMIT) {
            goto out_of_range;
        }
        {
            struct reg r = *ptr;

            r.off = noff;
            *dst = r;
        }
        return 0;
    }
    if (op == BPF_ALU_SUB) {
        return verr(env, EACCES, st->insn, "r%d: subtraction of a variable "
                    "from a pointer", pregno);
    }
    if (sc->umax > (uint64_t) OFF_LIMIT) {
        return verr(env, EACCES, st->insn, "r%d: pointer arithmetic with an "
                    "unbounded register (max %" PRIu64 ")",
                    ptr_is_dst ? in->src : in->dst, sc->umax);
    }
    {
        struct reg r = *ptr;
        struct reg v;

        if (ptr->umin == ptr->umax && ptr->umin == 0) {
            if (!sc->id) {
                sc->id = new_id(env);
                sc->delta = 0;
            }
            r.id = sc->id;
            r.delta = sc->delta;
            r.var = sc->var;
            r.umin = sc->umin;
            r.umax = sc->umax;
            r.smin = sc->smin;
            r.smax = sc->smax;
        } else {
            v.var = ptr->var;
            v.umin = ptr->umin;
            v.umax = ptr->umax;
            v.smin = ptr->smin;
            v.smax = ptr->smax;
            v.type = SCALAR;
            v.id = 0;
            scalar_alu64(&v, sc, BPF_ALU_ADD);
            if (v.umax > (uint64_t) OFF_LIMIT) {
                goto out_of_range;
            }
            r.var = v.var;
            r.umin = v.umin;
            r.umax = v.umax;
            r.smin = v.smin;
            r.smax = v.smax;
            r.id = ptr->type == PTR_PKT ? new_id(env) : 0;
            r.delta = 0;
        }
        *dst = r;
    }
    return 0;

out_of_range:
    return verr(env, EACCES, st->insn, "r%d: pointer offset out of range",
                pregno);
}

static int
do_alu(struct env *env, struct vstate *st, const struct bpf_inst *in)
{
    struct frame *fr = cur_frame(st);
    struct reg *dst = &fr->regs[in->dst];
    struct reg srcv, *src;
    uint8_t op = BPF_OP(in->code);
    bool is64 = BPF_CLASS(in->code) == BPF_CLS_ALU64;
    int ret;

    if (BPF_SRC(in->code) == BPF_SRC_X && op != BPF_ALU_END
        && op != BPF_ALU_NEG) {
        ret = check_reg_init(env, st, in->src);
        if (ret) {
            return ret;
        }
        src = &fr->regs[in->src];
    } else {
        reg_mark_const(&srcv, is64 ? (uint64_t) (int64_t) in->imm
                                   : (uint32_t) in->imm);
        src = &srcv;
    }

    if (op == BPF_ALU_MOV) {
        if (is64) {
            if (src != &srcv && src->type == SCALAR && !src->id
                && !tnum_is_const(src->var)) {
                src->id = new_id(env);
                src->delta = 0;
            }
            *dst = *src;
            return 0;
        }
        if (src->type != SCALAR) {
            return verr(env, EACCES, st->insn, "r%d: 32-bit move of a "
                        "pointer", in->src);
        }
        if (src->umax <= UINT32_MAX) {
            if (src != &srcv && !src->id && !tnum_is_const(src->var)) {
                src->id = new_id(env);
                src->delta = 0;
            }
            *dst = *src;
        } else {
            *dst = reg_low32(src);
        }
        return 0;
    }

    ret = check_reg_init(env, st, in->dst);
    if (ret) {
        return ret;
    }
    if (dst->type != SCALAR || src->type != SCALAR) {
        if (op == BPF_ALU_NEG || op == BPF_ALU_END) {
            return verr(env, EACCES, st->insn, "r%d: %s on a pointer",
                        in->dst, op == BPF_ALU_NEG ? "negation"
                                                   : "byte swap");
        }
        return do_ptr_alu(env, st, in, dst, src);
    }

    if (op == BPF_ALU_END) {
        int bits = in->imm;
        uint64_t mask = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;

        if (!(in->code & BPF_SRC_X)) {
            /* To little endian: a truncation on this host. */
            if (bits < 64) {
                struct reg m;

                reg_mark_const(&m, mask);
                scalar_alu64(dst, &m, BPF_ALU_AND);
            }
        } else if (tnum_is_const(dst->var)) {
            uint64_t v = dst->var.value;

            v = bits == 16 ? __builtin_bswap16((uint16_t) v)
                : bits == 32 ? __builtin_bswap32((uint32_t) v)
                : __builtin_bswap64(v);
            reg_mark_const(dst, v);
        } else {
            reg_mark_bounded(dst, mask);
        }
        return 0;
    }

    /* Additions of constants keep the link between copies. */
    if ((op == BPF_ALU_ADD || op == BPF_ALU_SUB) && tnum_is_const(src->var)
        && dst->id && !tnum_is_const(dst->var)) {
        int64_t c = (int64_t) src->var.value, nd;
        uint32_t id = dst->id;
        struct reg before = *dst;

        if (!is64) {
            c = (int64_t) (int32_t) (uint32_t) src->var.value;
        }
        if (op == BPF_ALU_SUB) {
            c = c == INT64_MIN ? INT64_MAX : -c;
        }
        nd = dst->delta + c;
        if (is64) {
            scalar_alu64(dst, src, op);
        } else {
            scalar_alu32(dst, src, op);
        }
        /* The 32-bit form is the same operation if nothing wrapped. */
        if (c > -OFF_LIMIT && c < OFF_LIMIT && nd > -OFF_LIMIT
            && nd < OFF_LIMIT
            && (is64 || (before.umax <= UINT32_MAX
                         && (__int128) before.umin + c >= 0
                         && (__int128) before.umax + c <= UINT32_MAX))) {
            dst->id = id;
            dst->delta = nd;
        }
        return 0;
    }
    if (is64) {
        scalar_alu64(dst, src, op);
    } else {
        scalar_alu32(dst, src, op);
    }
    return 0;
}

/* Branch outcome from bounds: 1 taken, 0 not taken, -1 unknown. */
static int
branch_taken(const struct reg *a, const struct reg *b, uint8_t op)
{
    switch (op) {
    case BPF_JMP_JEQ:
        if (tnum_is_const(a->var) && tnum_is_const(b->var)) {
            return a->var.value == b->var.value;
        }
        if (a->umin > b->umax || a->umax < b->umin || a->smin > b->smax
            || a->smax < b->smin || tnum_conflict(a->var, b->var)) {
            return 0;
        }
        return -1;
    case BPF_JMP_JNE: {
        int t = branch_taken(a, b, BPF_JMP_JEQ);

        return t < 0 ? -1 : !t;
    }
    case BPF_JMP_JSET:
        if (a->var.value & b->var.value) {
            return 1;
        }
        if (!((a->var.value | a->var.mask) & (b->var.value | b->var.mask))) {
            return 0;
        }
        return -1;
    case BPF_JMP_JGT:
        return a->umin > b->umax ? 1 : a->umax <= b->umin ? 0 : -1;
    case BPF_JMP_JGE:
        return a->umin >= b->umax ? 1 : a->umax < b->umin ? 0 : -1;
    case BPF_JMP_JLT:
        return a->umax < b->umin ? 1 : a->umin >= b->umax ? 0 : -1;
    case BPF_JMP_JLE:
        return a->umax <= b->umin ? 1 : a->umin > b->umax ? 0 : -1;
    case BPF_JMP_JSGT:
        return a->smin > b->smax ? 1 : a->smax <= b->smin ? 0 : -1;
    case BPF_JMP_JSGE:
        return a->smin >= b->smax ? 1 : a->smax < b->smin ? 0 : -1;
    case BPF_JMP_JSLT:
        return a->smax < b->smin ? 1 : a->smin >= b->smax ? 0 : -1;
    case BPF_JMP_JSLE:
        return a->smax <= b->smin ? 1 : a->smin > b->smax ? 0 : -1;
    default:
        return -1;
    }
}

static uint8_t
negate_op(uint8_t op)
{
    switch (op) {
    case BPF_JMP_JEQ: return BPF_JMP_JNE;
    case BPF_JMP_JNE: return BPF_JMP_JEQ;
    case BPF_JMP_JGT: return BPF_JMP_JLE;
    case BPF_JMP_JGE: return BPF_JMP_JLT;
    case BPF_JMP_JLT: return BPF_JMP_JGE;
    case BPF_JMP_JLE: return BPF_JMP_JGT;
    case BPF_JMP_JSGT: return BPF_JMP_JSLE;
    case BPF_JMP_JSGE: return BPF_JMP_JSLT;
    case BPF_JMP_JSLT: return BPF_JMP_JSGE;
    case BPF_JMP_JSLE: return BPF_JMP_JSGT;
    default: return op;     /* JSET: handled by the caller */
    }
}

/* The operator with its operands swapped. */
static uint8_t
swap_op(uint8_t op)
{
    switch (op) {
    case BPF_JMP_JGT: return BPF_JMP_JLT;
    case BPF_JMP_JGE: return BPF_JMP_JLE;
    case BPF_JMP_JLT: return BPF_JMP_JGT;
    case BPF_JMP_JLE: return BPF_JMP_JGE;
    case BPF_JMP_JSGT: return BPF_JMP_JSLT;
    case BPF_JMP_JSGE: return BPF_JMP_JSLE;
    case BPF_JMP_JSLT: return BPF_JMP_JSGT;
    case BPF_JMP_JSLE: return BPF_JMP_JSGE;
    default: return op;
    }
}

static uint64_t
umax64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static uint64_t
umin64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static int64_t
smax64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t
smin64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Refines scalars a and b assuming "a op b" holds (op not JSET-negated:
 * jset_false means "a & b == 0"). */
static void
refine(struct reg *a, struct reg *b, uint8_t op, bool jset_false)
{
    switch (op) {
    case BPF_JMP_JEQ:
        a->umin = b->umin = umax64(a->umin, b->umin);
        a->umax = b->umax = umin64(a->umax, b->umax);
        a->smin = b->smin = smax64(a->smin, b->smin);
        a->smax = b->smax = smin64(a->smax, b->smax);
        if (!tnum_conflict(a->var, b->var)) {
            a->var = b->var = tnum_intersect(a->var, b->var);
        } else {
            a->umin = 1;
            a->umax = 0;
        }
        break;
    case BPF_JMP_JNE:
        if (tnum_is_const(b->var)) {
            uint64_t v = b->var.value;

            if (a->umin == v && a->umin < UINT64_MAX) {
                a->umin++;
            }
            if (a->umax == v && a->umax > 0) {
                a->umax--;
            }
            if (a->smin == (int64_t) v && a->smin < INT64_MAX) {
                a->smin++;
            }
            if (a->smax == (int64_t) v && a->smax > INT64_MIN) {
                a->smax--;
            }
            if (tnum_is_const(a->var) && a->var.value == v) {
                a->umin = 1;
                a->umax = 0;
            }
        }
        if (tnum_is_const(a->var)) {
            uint64_t v = a->var.value;

            if (b->umin == v && b->umin < UINT64_MAX) {
                b->umin++;
            }
            if (b->umax == v && b->umax > 0) {
                b->umax--;
            }
        }
        break;
    case BPF_JMP_JSET:
        if (jset_false) {
            if (tnum_is_const(b->var)) {
                a->var.value &= ~b->var.value;
                a->var.mask &= ~b->var.value;
            }
        } else if (tnum_is_const(b->var) && b->var.value
                   && !(b->var.value & (b->var.value - 1))) {
            a->var.value |= b->var.value;
            a->var.mask &= ~b->var.value;
        }
        break;
    case BPF_JMP_JGT:
        if (b->umin == UINT64_MAX) {
            a->umin = 1;
            a->umax = 0;
            break;
        }
        a->umin = umax64(a->umin, b->umin + 1);
        if (a->umax == 0) {
            b->umin = 1;
            b->umax = 0;
            break;
        }
        b->umax = umin64(b->umax, a->umax - 1);
        break;
    case BPF_JMP_JGE:
        a->umin = umax64(a->umin, b->umin);
        b->umax = umin64(b->umax, a->umax);
        break;
    case BPF_JMP_JLT:
        refine(b, a, BPF_JMP_JGT, false);
        return;
    case BPF_JMP_JLE:
        refine(b, a, BPF_JMP_JGE, false);
        return;
    case BPF_JMP_JSGT:
        if (b->smin == INT64_MAX || a->smax == INT64_MIN) {
            a->umin = 1;
            a->umax = 0;
            break;
        }
        a->smin = smax64(a->smin, b->smin + 1);
        b->smax = smin64(b->smax, a->smax - 1);
        break;
    case BPF_JMP_JSGE:
        a->smin = smax64(a->smin, b->smin);
        b->smax = smin64(b->smax, a->smax);
        break;
    case BPF_JMP_JSLT:
        refine(b, a, BPF_JMP_JSGT, false);
        return;
    case BPF_JMP_JSLE:
        refine(b, a, BPF_JMP_JSGE, false);
        return;
    default:
        break;
    }
    if (!reg_empty(a)) {
        reg_sync(a);
    }
    if (!reg_empty(b)) {
        reg_sync(b);
    }
}

/* Records the packet length facts that "a op b" implies, where b is linked
 * to the length (b = L + e) and a = val(a.id) + a.delta. */
static void
len_relation(struct vstate *st, const struct reg *a, const struct reg *b,
             uint8_t op)
{
    int strict;
    int64_t e = b->delta;

    if (a->type != SCALAR || b->type != SCALAR || b->id != LEN_ID
        || !a->id || a->id == LEN_ID) {
        return;
    }
    switch (op) {
    case BPF_JMP_JLE: case BPF_JMP_JSLE: case BPF_JMP_JEQ:
        strict = 0;
        break;
    case BPF_JMP_JLT: case BPF_JMP_JSLT:
        strict = 1;
        break;
    default:
        return;
    }
    if ((op == BPF_JMP_JSLE || op == BPF_JMP_JSLT)
        && (a->smin < 0 || b->smin < 0)) {
        return;
    }
    if (e < 0 && st->lmin < (uint64_t) -e) {
        return;
    }
    /* val(a) + strict <= L + e, with no wrap-around (see check_pkt_access):
     * val(a.id) + a.delta + strict - e <= L. */
    rel_add(st, a->id, a->delta + strict - e);
}

/* Packet pointer p (op) packet end: on the branch where p <= end. */
static void
pkt_end_relation(struct vstate *st, struct reg *p, const struct reg *end,
                 uint8_t op)
{
    int strict;

    switch (op) {
    case BPF_JMP_JLE:
        strict = 0;
        break;
    case BPF_JMP_JLT:
        strict = 1;
        break;
    default:
        return;
    }
    if (p->umin == p->umax) {
        lmin_raise(st, p->off + (int64_t) p->umin + strict - end->off);
    } else if (p->id) {
        rel_add(st, p->id, p->delta + p->off + strict - end->off);
    }
}

/* Resolves a NULL check of id on every copy. */
static void
mark_null_check(struct vstate *st, uint32_t id, bool is_null)
{
    FOR_EACH_REG(st, r, {
        if (r->type == PTR_MAP_VALUE_OR_NULL && r->id == id) {
            if (is_null) {
                reg_mark_const(r, 0);
            } else {
                r->type = PTR_MAP_VALUE;
                r->id = 0;
            }
        }
    });
}

/* Applies "a op b" to state st (regs are in st's current frame; b may be a
 * constant: bregno < 0, bconst).  Returns false if the branch is dead. */
static bool
apply_cond(struct vstate *st, int aregno, int bregno, const struct reg *bconst,
           uint8_t op, bool jset_false, bool is32)
{
    struct frame *fr = cur_frame(st);
    struct reg *a = &fr->regs[aregno];
    struct reg bcopy = *bconst;
    struct reg *b = bregno >= 0 ? &fr->regs[bregno] : &bcopy;

    if (a->type == SCALAR && b->type == SCALAR) {
        if (is32 && !(a->umax <= INT32_MAX && b->umax <= INT32_MAX)) {
            return true;    /* No refinement on partial views. */
        }
        if (is32 && (op == BPF_JMP_JSET) && jset_false) {
            /* Only the low halves are tested. */
            return true;
        }
        {
            /* The length is refined only against constants: its bounds
             * from comparisons with other values would only multiply the
             * states (the relations keep what matters). */
            struct reg a0 = *a, b0 = *b;
            bool keep_a = a->id == LEN_ID && !reg_is_const(b);
            bool keep_b = b->id == LEN_ID && !reg_is_const(a);

            refine(a, b, op, jset_false);
            if (reg_empty(a) || reg_empty(b)) {
                return false;
            }
            if (keep_a) {
                *a = a0;
            }
            if (keep_b) {
                *b = b0;
            }
        }
        sync_linked(st, a);
        if (bregno >= 0) {
            sync_linked(st, b);
        }
        if (op != BPF_JMP_JSET) {
            len_relation(st, a, b, op);
            len_relation(st, b, a, swap_op(op));
        }
        lmin_from_len_reg(st, a);
        if (bregno >= 0) {
            lmin_from_len_reg(st, b);
        }
        FOR_EACH_REG(st, r, {
            if (r->type == SCALAR && r->id == LEN_ID) {
                lmin_from_len_reg(st, r);
            }
        });
        return true;
    }
    if (a->type == PTR_MAP_VALUE_OR_NULL || b->type == PTR_MAP_VALUE_OR_NULL) {
        struct reg *p = a->type == PTR_MAP_VALUE_OR_NULL ? a : b;

        mark_null_check(st, p->id, op == BPF_JMP_JEQ);
        return true;
    }
    if (a->type == PTR_PKT && b->type == PTR_PKT_END) {
        pkt_end_relation(st, a, b, op);
    } else if (a->type == PTR_PKT_END && b->type == PTR_PKT) {
        pkt_end_relation(st, b, a, swap_op(op));
    }
    return true;
}

static int
do_cond_jump(struct env *env, struct vstate *st, const struct bpf_inst *in,
             struct vstate **other)
{
    struct frame *fr = cur_frame(st);
    uint8_t op = BPF_OP(in->code);
    bool is32 = BPF_CLASS(in->code) == BPF_CLS_JMP32;
    struct reg *a = &fr->regs[in->dst], bconst, *b;
    int bregno = -1, taken = -1, ret, target = st->insn + 1 + in->off;
    struct vstate *tst = NULL;

    ret = check_reg_init(env, st, in->dst);
    if (ret) {
        return ret;
    }
    if (BPF_SRC(in->code) == BPF_SRC_X) {
        ret = check_reg_init(env, st, in->src);
        if (ret) {
            return ret;
        }
        bregno = in->src;
        b = &fr->regs[bregno];
    } else {
        reg_mark_const(&bconst, is32 ? (uint32_t) in->imm
                                     : (uint64_t) (int64_t) in->imm);
        b = &bconst;
    }
    *other = NULL;

    if (a->type != SCALAR || b->type != SCALAR) {
        struct reg *p = a->type != SCALAR ? a : b;
        int pregno = a->type != SCALAR ? in->dst : bregno;
        const struct reg *o = p == a ? b : a;
        bool null_check = o->type == SCALAR && reg_is_const(o)
                          && o->var.value == 0
                          && (op == BPF_JMP_JEQ || op == BPF_JMP_JNE);

        if (is32) {
            return verr(env, EACCES, st->insn, "r%d: 32-bit comparison of "
                        "a pointer", pregno);
        }
        bool both_pkt = (a->type == PTR_PKT || a->type == PTR_PKT_END)
                        && (b->type == PTR_PKT || b->type == PTR_PKT_END);
        bool unsigned_op = op == BPF_JMP_JEQ || op == BPF_JMP_JNE
                           || op == BPF_JMP_JGT || op == BPF_JMP_JGE
                           || op == BPF_JMP_JLT || op == BPF_JMP_JLE;

        if (null_check && (p->type == PTR_MAP_VALUE_OR_NULL
                           || p->type == PTR_MAP_VALUE)) {
            /* The outcome depends on the scalar being exactly 0: when it is
             * a register, a pruned path must have 0 there too. */
            int oregno = p == a ? bregno : in->dst;

            if (oregno >= 0) {
                mark_precise(env, st, RBIT(oregno), 0);
            }
            if (p->type == PTR_MAP_VALUE) {
                taken = op == BPF_JMP_JNE;
            }
            /* A possibly-NULL value is resolved below on both branches. */
        } else if (both_pkt && unsigned_op) {
            /* Packet pointers compared with each other. */
        } else {
            return verr(env, EACCES, st->insn, "r%d: comparison of a %s "
                        "with a %s", pregno, reg_type_names[p->type],
                        reg_type_names[o->type]);
        }
    } else {
        struct reg av = *a, bv = *b;

        if (is32) {
            av = reg_low32(a);
            bv = reg_low32(b);
        }
        if (is32 && op >= BPF_JMP_JSGT && op != BPF_JMP_JLT
            && op != BPF_JMP_JLE
            && !(av.umax <= INT32_MAX && bv.umax <= INT32_MAX)) {
            /* Signed 32-bit: bit 31 is the sign, the views do not say. */
            taken = -1;
            if (tnum_is_const(av.var) && tnum_is_const(bv.var)) {
                int32_t x = (int32_t) (uint32_t) av.var.value;
                int32_t y = (int32_t) (uint32_t) bv.var.value;

                taken = op == BPF_JMP_JSGT ? x > y
                        : op == BPF_JMP_JSGE ? x >= y
                        : op == BPF_JMP_JSLT ? x < y : x <= y;
            }
        } else {
            taken = branch_taken(&av, &bv, op);
        }
        /* A scalar compared with the length needs an id to be named. */
        if (taken < 0 && bregno >= 0) {
            if (b->id == LEN_ID && !a->id && !tnum_is_const(a->var)) {
                a->id = new_id(env);
                a->delta = 0;
            } else if (a->id == LEN_ID && !b->id && !tnum_is_const(b->var)) {
                b->id = new_id(env);
                b->delta = 0;
            }
        }
    }

    if (a->type == SCALAR && b->type == SCALAR
        && (taken >= 0 || a->id == LEN_ID || b->id == LEN_ID)) {
        /* The branch is decided by, or the length learns from, the
         * values compared. */
        mark_precise(env, st, (uint16_t) (RBIT(in->dst)
                                          | (bregno >= 0 ? RBIT(bregno) : 0)),
                     0);
    }
    if (taken == 1 || taken == 0) {
        if (taken) {
            st->insn = target;
        } else {
            st->insn++;
        }
        return 0;
    }

    /* Both branches: the taken one is pushed, the other continues.  The
     * refinement reaches the copies linked with the operands: note them
     * for precision tracking (in both branches' histories). */
    if (a->type == SCALAR && b->type == SCALAR) {
        hist_note_linked(st, st->insn, a->id);
        if (bregno >= 0) {
            hist_note_linked(st, st->insn, b->id);
        }
    }
    ret = push_branch(env, st, target, &tst);
    if (ret) {
        return ret;
    }
    {
        bool alive_t, alive_f;
        uint8_t nop = op == BPF_JMP_JSET ? op : negate_op(op);

        alive_t = apply_cond(tst, in->dst, bregno, b, op, false, is32);
        alive_f = apply_cond(st, in->dst, bregno, b, nop,
                             op == BPF_JMP_JSET, is32);
        if ((!alive_t || !alive_f) && a->type == SCALAR && b->type == SCALAR) {
            mark_precise(env, st, (uint16_t) (RBIT(in->dst)
                                              | (bregno >= 0 ? RBIT(bregno)
                                                             : 0)), 0);
        }
        if (!alive_t) {
            env->npending--;
            path_done(tst);
            state_free(tst);
            tst = NULL;
        }
        *other = tst;
        if (!alive_f) {
            return 1;
        }
    }
    st->insn++;
    return 0;
}

static int
do_ld_pkt(struct env *env, struct vstate *st, const struct bpf_inst *in)
{
    struct frame *fr = cur_frame(st);
    int size = insn_size(in->code), k, ret;

    if (BPF_MODE(in->code) == BPF_MODE_IND) {
        ret = check_reg_init(env, st, in->src);
        if (ret) {
            return ret;
        }
        if (fr->regs[in->src].type != SCALAR) {
            return verr(env, EACCES, st->insn, "r%d: pointer used as a "
                        "packet offset", in->src);
        }
    }
    for (k = 1; k <= 5; k++) {
        memset(&fr->regs[k], 0, sizeof fr->regs[k]);
    }
    reg_mark_bounded(&fr->regs[0], size == 4 ? UINT32_MAX
                                             : (1ull << (size * 8)) - 1);
    return 0;
}

static int
do_call(struct env *env, struct vstate *st, const struct bpf_inst *in)
{
    struct frame *caller = cur_frame(st), *callee;
    int target = st->insn + 1 + in->imm, k;

    if (st->nframes >= BPF_MAX_CALL_DEPTH) {
        return verr(env, EACCES, st->insn, "calls nested deeper than %d",
                    BPF_MAX_CALL_DEPTH);
    }
    callee = calloc(1, sizeof *callee);
    if (!callee) {
        return verr(env, ENOMEM, st->insn, "out of memory");
    }
    hist_note(st, st->insn, HIST_FRAME, 0);
    callee->callsite = st->insn;
    callee->fstart = target;
    for (k = 1; k <= 5; k++) {
        callee->regs[k] = caller->regs[k];
    }
    callee->regs[10].type = PTR_STACK;
    callee->regs[10].frameno = (uint8_t) st->nframes;
    callee->regs[10].var = tnum_const(0);
    st->frames[st->nframes++] = callee;
    st->insn = target;
    return 0;
}

/* Returns 1 when the path ends (exit of the main function). */
static int
do_exit(struct env *env, struct vstate *st)
{
    struct frame *fr = cur_frame(st), *caller;
    struct reg r0 = fr->regs[0];
    int k;

    if (r0.type == NOT_INIT) {
        return verr(env, EACCES, st->insn, "r0: read of uninitialised "
                    "register (no return value)");
    }
    if (st->nframes == 1) {
        if (r0.type != SCALAR) {
            return verr(env, EACCES, st->insn, "r0: pointer leaked in return "
                        "value (%s)", reg_type_names[r0.type]);
        }
        return 1;
    }
    if (r0.type == PTR_STACK && r0.frameno == st->nframes - 1) {
        return verr(env, EACCES, st->insn, "r0: pointer to the returning "
                    "function's stack");
    }
    hist_note(st, st->insn, HIST_FRAME, 0);
    caller = st->frames[st->nframes - 2];
    caller->regs[0] = r0;
    for (k = 1; k <= 5; k++) {
        memset(&caller->regs[k], 0, sizeof caller->regs[k]);
    }
    st->insn = fr->callsite + 1;
    frame_free(fr);
    st->nframes--;
    return 0;
}

/* True if instructions idx and idx + 1 are "r <<= 32; r >>= 32" with
 * nothing jumping between them. */
static bool
is_zext_pair(const struct env *env, int idx)
{
    const struct bpf_inst *a = &env->insns[idx], *b = a + 1;

    return idx + 1 < env->n
           && a->code == (BPF_CLS_ALU64 | BPF_ALU_LSH | BPF_SRC_K)
           && a->imm == 32
           && b->code == (BPF_CLS_ALU64 | BPF_ALU_RSH | BPF_SRC_K)
           && b->imm == 32 && b->dst == a->dst
           && !(env->flags[idx + 1] & (INSN_JTARGET | INSN_PRUNE));
}

/* Executes one instruction.  Returns 0 (continue at st->insn), 1 (the
 * path ended) or a negative errno.  *other is a new pending branch. */
static int
step(struct env *env, struct vstate *st, struct vstate **other)
{
    const struct bpf_inst *in = &env->insns[st->insn];
    struct frame *fr = cur_frame(st);
    uint8_t cls = BPF_CLASS(in->code);
    int ret, idx = st->insn;

    *other = NULL;
    switch (cls) {
    case BPF_CLS_ALU:
    case BPF_CLS_ALU64:
        if (is_zext_pair(env, idx) && fr->regs[in->dst].type == SCALAR) {
            /* r <<= 32; r >>= 32: the u32 cast of clang's older CPUs.  On
             * a value below 2^32 it is the identity, links included. */
            struct reg *d = &fr->regs[in->dst];

            if (d->umax > UINT32_MAX) {
                *d = reg_low32(d);
            }
            st->insn += 2;
            return 0;
        }
        ret = do_alu(env, st, in);
        if (ret) {
            return ret;
        }
        st->insn++;
        return 0;
    case BPF_CLS_LDX: {
        struct reg v;

        ret = check_reg_init(env, st, in->src);
        if (ret) {
            return ret;
        }
        ret = check_mem_access(env, st, in->src, in->off,
                               insn_size(in->code), false, NULL, &v);
        if (ret) {
            return ret;
        }
        fr->regs[in->dst] = v;
        st->insn++;
        return 0;
    }
    case BPF_CLS_ST:
    case BPF_CLS_STX: {
        struct reg imm, *val;

        if (cls == BPF_CLS_STX && BPF_MODE(in->code) == BPF_MODE_ATOMIC) {
            ret = do_atomic(env, st, in);
            if (ret) {
                return ret;
            }
            st->insn++;
            return 0;
        }
        ret = check_reg_init(env, st, in->dst);
        if (ret) {
            return ret;
        }
        if (cls == BPF_CLS_STX) {
            ret = check_reg_init(env, st, in->src);
            if (ret) {
                return ret;
            }
            val = &fr->regs[in->src];
        } else {
            reg_mark_const(&imm, insn_size(in->code) == 8
                                 ? (uint64_t) (int64_t) in->imm
                                 : (uint64_t) (uint32_t) in->imm
                                   & (insn_size(in->code) == 4 ? UINT32_MAX
                                      : (1ull << (insn_size(in->code) * 8))
                                        - 1));
            val = &imm;
        }
        if (val->type != SCALAR && fr->regs[in->dst].type != PTR_STACK) {
            return verr(env, EACCES, st->insn, "r%d: pointer leaked into "
                        "%s", in->src,
                        fr->regs[in->dst].type == PTR_MAP_VALUE
                        ? "a map value" : "memory");
        }
        {
            struct reg vcopy = *val;

            ret = check_mem_access(env, st, in->dst, in->off,
                                   insn_size(in->code), true, &vcopy, NULL);
        }
        if (ret) {
            return ret;
        }
        st->insn++;
        return 0;
    }
    case BPF_CLS_LD:
        if (BPF_MODE(in->code) == BPF_MODE_IMM) {
            struct reg *d = &fr->regs[in->dst];

            if (in->src == BPF_PSEUDO_MAP_IDX) {
                memset(d, 0, sizeof *d);
                d->type = PTR_MAP;
                d->map_idx = (uint16_t) in->imm;
                d->var = tnum_const(0);
            } else if (in->src == BPF_PSEUDO_RODATA) {
                memset(d, 0, sizeof *d);
                d->type = PTR_RODATA;
                d->off = in->imm;
                d->var = tnum_const(0);
            } else {
                reg_mark_const(d, (uint64_t) (uint32_t) in->imm
                                  | (uint64_t) (uint32_t) in[1].imm << 32);
            }
            st->insn += 2;
            return 0;
        }
        ret = do_ld_pkt(env, st, in);
        if (ret) {
            return ret;
        }
        st->insn++;
        return 0;
    case BPF_CLS_JMP:
    case BPF_CLS_JMP32:
        switch (BPF_OP(in->code)) {
        case BPF_JMP_JA:
            st->insn += 1 + in->off;
            if (in->off < 0) {
                env->flags[idx] |= INSN_BACKEDGE;
            }
            return 0;
        case BPF_JMP_EXIT:
            return do_exit(env, st);
        case BPF_JMP_CALL:
            if (in->src == BPF_PSEUDO_CALL) {
                return do_call(env, st, in);
            }
            ret = do_helper_call(env, st, in);
            if (ret) {
                return ret;
            }
            st->insn++;
            return 0;
        default:
            if (in->off < 0) {
                env->flags[idx] |= INSN_BACKEDGE;
            }
            return do_cond_jump(env, st, in, other);
        }
    default:
        break;
    }
    return verr(env, EINVAL, idx, "unknown opcode 0x%02x", in->code);
}

static int
do_check(struct env *env)
{
    struct vstate *cur;
    struct frame *f0;
    uint64_t processed = 0;
    int ret = 0;

    cur = calloc(1, sizeof *cur);
    f0 = calloc(1, sizeof *f0);
    if (!cur || !f0) {
        free(cur);
        free(f0);
        return -ENOMEM;
    }
    cur->frames[0] = f0;
    cur->nframes = 1;
    cur->insn = (int) env->prog->entry;
    f0->callsite = -1;
    f0->fstart = cur->insn;
    f0->regs[1].type = PTR_PKT;
    f0->regs[1].var = tnum_const(0);
    reg_mark_bounded(&f0->regs[2], MAX_PKT_LEN);
    f0->regs[2].id = LEN_ID;
    f0->regs[10].type = PTR_STACK;
    f0->regs[10].var = tnum_const(0);
    env->next_id = LEN_ID;

    for (;;) {
        struct vstate *other = NULL;

        if (!cur) {
            if (!env->npending) {
                break;
            }
            cur = env->pending[--env->npending];
        }
        if (++processed > env->max_insns) {
            ret = verr(env, E2BIG, cur->insn, "program too complex (more "
                       "than %" PRIu64 " instructions processed)",
                       env->max_insns);
            break;
        }
        if (env->flags[cur->insn] & INSN_PRUNE) {
            ret = is_state_visited(env, cur);
            if (ret < 0) {
                break;
            }
            if (ret == 1) {
                path_done(cur);
                state_free(cur);
                cur = NULL;
                ret = 0;
                continue;
            }
        }
        hist_push(env, cur, cur->insn);
        ret = step(env, cur, &other);
        if (ret < 0) {
            break;
        }
        if (ret == 1) {
            path_done(cur);
            state_free(cur);
            cur = NULL;
            ret = 0;
        }
    }
    if (env->stats) {
        env->stats->insns_processed = processed;
    }
    state_free(cur);
    while (env->npending) {
        state_free(env->pending[--env->npending]);
    }
    return ret;
}

static void
free_state_list(struct vstate *s)
{
    while (s) {
        struct vstate *next = s->next;

        state_free(s);
        s = next;
    }
}

int
bpf_verify(const struct bpf_prog *prog, const struct bpf_verify_opts *opts,
           struct bpf_verify_stats *stats, char *err, size_t errlen)
{
    struct env env;
    int ret, i;

    if (stats) {
        memset(stats, 0, sizeof *stats);
    }
    if (err && errlen) {
        err[0] = '\0';
    }
    if (!prog || !prog->insns || prog->ninsns == 0) {
        return bpf_set_err(err, errlen, EINVAL, "program is empty");
    }
    if (prog->ninsns > BPF_MAX_INSNS) {
        return bpf_set_err(err, errlen, E2BIG, "program has %zu "
                           "instructions, more than %d", prog->ninsns,
                           BPF_MAX_INSNS);
    }
    if (prog->nmaps > BPF_MAX_MAPS) {
        return bpf_set_err(err, errlen, EINVAL, "too many maps");
    }
    memset(&env, 0, sizeof env);
    env.prog = prog;
    env.insns = prog->insns;
    env.n = (int) prog->ninsns;
    env.filter = !opts || opts->mode == BPF_VERIFY_FILTER;
    env.err = err;
    env.errlen = errlen;
    env.stats = stats;
    env.max_insns = opts && opts->max_states ? opts->max_states
                                             : DEFAULT_MAX_INSNS;
    if (opts && opts->mode != BPF_VERIFY_FILTER
        && opts->mode != BPF_VERIFY_STRUCTURAL) {
        return bpf_set_err(err, errlen, EINVAL, "unknown verifier mode %d",
                           (int) opts->mode);
    }
    env.flags = calloc(env.n + 1, 1);
    env.func_of = calloc(env.n + 1, sizeof *env.func_of);
    if (!env.flags || !env.func_of) {
        ret = bpf_set_err(err, errlen, ENOMEM, "out of memory");
        goto out;
    }
    ret = check_structure(&env);
    if (ret || !env.filter) {
        goto out;
    }
    for (i = 0; i < (int) prog->nmaps; i++) {
        /* The loader checked the definitions; programs built by hand did
         * not.  Helpers rely on them (a Bloom filter reads value_size
         * bytes of a key_size key). */
        if (bpf_map_def_check(&prog->maps[i].def, NULL, 0) < 0
            || bpf_helper_value_size(&prog->maps[i].def) == 0
            || prog->maps[i].def.key_size == 0
            || prog->maps[i].def.key_size > BPF_MAP_MAX_KEY_SIZE
            || prog->maps[i].def.value_size > BPF_MAP_MAX_VALUE_SIZE) {
            ret = bpf_set_err(err, errlen, EINVAL, "map %d (%s) has a bad "
                              "definition", i, prog->maps[i].name);
            goto out;
        }
    }
    ret = compute_liveness(&env);
    if (ret) {
        bpf_set_err(err, errlen, ENOMEM, "out of memory");
        goto out;
    }
    env.visited = calloc(env.n + 1, sizeof *env.visited);
    env.nvisited = calloc(env.n + 1, sizeof *env.nvisited);
    env.buckets = calloc(env.n + 1, sizeof *env.buckets);
    env.bhash = calloc(BHASH_SIZE, sizeof *env.bhash);
    env.vkey = malloc((env.n + 1) * sizeof *env.vkey);
    if (env.vkey) {
        for (i = 0; i <= env.n; i++) {
            env.vkey[i] = KEY_NONE - 1;     /* not chosen yet */
        }
    }
    env.pending = calloc(MAX_PENDING, sizeof *env.pending);
    env.idmap = malloc(sizeof *env.idmap);
    if (!env.visited || !env.nvisited || !env.pending || !env.idmap
        || !env.buckets || !env.bhash || !env.vkey) {
        ret = bpf_set_err(err, errlen, ENOMEM, "out of memory");
        goto out;
    }
    ret = do_check(&env);
    if (stats) {
        for (i = 0; i < env.n; i++) {
            if (env.flags[i] & INSN_BACKEDGE) {
                stats->loops++;
            }
        }
    }

out:
    if (env.visited) {
        for (i = 0; i < env.n; i++) {
            free_state_list(env.visited[i]);
        }
    }
    if (env.buckets) {
        for (i = 0; i < env.n; i++) {
            struct vbucket *b = env.buckets[i];

            while (b) {
                struct vbucket *next = b->next;

                free_state_list(b->head);
                free(b);
                b = next;
            }
        }
    }
    free(env.visited);
    free(env.buckets);
    free(env.bhash);
    free(env.vkey);
    free(env.nvisited);
    free(env.pending);
    free(env.idmap);
    free(env.live);
    free(env.flags);
    free(env.func_of);
    free(env.funcs);
    if (ret == 0 && err && errlen) {
        err[0] = '\0';
    }
    return ret;
}
