/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * bpf_priv.h -- declarations shared by the stages of bpf/ (loader,
 * verifier, interpreter, helpers, maps, disassembler).  Nothing outside
 * bpf/ includes this file (the unit tests in tests/unit may).
 */
#ifndef OKO_BPF_PRIV_H
#define OKO_BPF_PRIV_H 1

#include "oko_bpf.h"

#include <stdarg.h>

/* A named function (global or static) inside the code section. */
struct bpf_func_sym {
    size_t idx;                     /* first instruction */
    char name[BPF_MAX_NAME];
};

/* A loaded program.  Immutable after bpf_prog_load_*() returns. */
struct bpf_prog {
    struct bpf_inst *insns;         /* relocated, see BPF_PSEUDO_* */
    size_t ninsns;
    size_t entry;                   /* instruction index of the entry */
    struct bpf_map_desc maps[BPF_MAX_MAPS];
    size_t nmaps;
    uint8_t *rodata;                /* copy of read-only data referenced */
    size_t rodata_len;
    struct bpf_func_sym *syms;      /* sorted by idx */
    size_t nsyms;
    char section[BPF_MAX_NAME];
    bool raw;                       /* from bpf_prog_load_raw() */
    enum bpf_flavour flavour;       /* OKO (also raw) or XDP */
    struct bpf_btf *btf;            /* parsed .BTF (libbpf flavour), or
                                     * NULL; owned, freed with the prog */
};

/* Allocates an empty program (calloc).  NULL on ENOMEM. */
struct bpf_prog *bpf_prog_alloc(void);

/* Formats a message into err (if not NULL) and returns -errnum.  Used by
 * every stage so that diagnostics look alike. */
int bpf_set_err(char *err, size_t errlen, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---------------------------------------------------------------------
 * BTF (btf.c)
 * ------------------------------------------------------------------- */

struct bpf_btf;

/* A libbpf-style map definition read from BTF: kernel values, not yet
 * mapped to oko's map types (the loader does that). */
struct bpf_btf_map {
    char name[BPF_MAX_NAME];
    uint32_t type;              /* kernel BPF_MAP_TYPE_* */
    bool has_type;
    uint32_t key_size;
    uint32_t value_size;
    uint32_t max_entries;
    uint32_t map_flags;
    uint64_t map_extra;
    uint32_t key_type;          /* BTF ids, 0 if given as a size */
    uint32_t value_type;
};

struct bpf_btf *bpf_btf_parse(const void *data, size_t len, char *err,
                              size_t errlen);
void bpf_btf_free(struct bpf_btf *btf);
uint32_t bpf_btf_ntypes(const struct bpf_btf *btf);
int bpf_btf_kind(const struct bpf_btf *btf, uint32_t id);
const char *bpf_btf_name(const struct bpf_btf *btf, uint32_t id);
const char *bpf_btf_str(const struct bpf_btf *btf, uint32_t off);
int bpf_btf_resolve(const struct bpf_btf *btf, uint32_t id, uint32_t *out);
int bpf_btf_size(const struct bpf_btf *btf, uint32_t id, uint64_t *size);
uint32_t bpf_btf_find_datasec(const struct bpf_btf *btf, const char *name);
uint32_t bpf_btf_datasec_var(const struct bpf_btf *btf, uint32_t sec,
                             uint32_t i, uint32_t *var);
int bpf_btf_map_def(const struct bpf_btf *btf, uint32_t var,
                    struct bpf_btf_map *def, char *err, size_t errlen);
int bpf_btf_format(const struct bpf_btf *btf, uint32_t id, const void *data,
                   size_t len, char *buf, size_t buflen);
int bpf_btf_type_name(const struct bpf_btf *btf, uint32_t id, char *buf,
                      size_t buflen);

/* ---------------------------------------------------------------------
 * Helpers: one prototype table used by the verifier (argument types) and
 * one function table used by the VM (implementation).
 * ------------------------------------------------------------------- */

enum bpf_arg_type {
    BPF_ARG_NONE = 0,       /* no more arguments */
    BPF_ARG_ANYTHING,       /* any initialised scalar (oko_printf's value
                             * arguments: only those its format consumes,
                             * see bpf_printf_nargs()) */
    BPF_ARG_MAP,            /* a map pointer (from lddw of a map) */
    BPF_ARG_MAP_KEY,        /* pointer to key_size readable bytes of the
                             * map in the previous argument */
    BPF_ARG_MAP_VALUE,      /* pointer to value_size readable bytes */
    BPF_ARG_MEM,            /* pointer to readable memory; the size is the
                             * next argument */
    BPF_ARG_MEM_SIZE,       /* scalar size of the previous BPF_ARG_MEM,
                             * proven in bounds */
    BPF_ARG_RODATA_STR,     /* pointer into read-only data holding a
                             * NUL-terminated string */
};

enum bpf_ret_type {
    BPF_RET_INTEGER = 0,        /* scalar */
    BPF_RET_MAP_VALUE_OR_NULL,  /* pointer to the map's value (size from
                                 * bpf_helper_value_size), or NULL */
};

struct bpf_helper_proto {
    int id;
    const char *name;           /* canonical (oko_map_lookup) */
    const char *alias;          /* prototype's name (ubpf_map_lookup) */
    enum bpf_arg_type args[5];
    enum bpf_ret_type ret;
};

/* Returns how many of oko_printf's three value arguments the format fmt
 * (at most maxlen bytes, NUL-terminated or not) consumes: 0 to 3.  The
 * verifier requires exactly those arguments to be initialised scalars. */
int bpf_printf_nargs(const char *fmt, size_t maxlen);

/* Returns the prototype of helper id, or NULL if there is none. */
const struct bpf_helper_proto *bpf_helper_proto(int id);

/* Number of bytes readable through the pointer bpf_map_lookup returns for a
 * map with definition def: value_size for array and hash, value_size for
 * Bloom (a copy of the element), 4 for count-min. */
uint32_t bpf_helper_value_size(const struct bpf_map_def *def);

struct bpf_vm;

/* A helper's implementation.  Arguments are r1..r5; the return is r0. */
typedef uint64_t bpf_helper_fn(struct bpf_vm *vm, uint64_t r1, uint64_t r2,
                               uint64_t r3, uint64_t r4, uint64_t r5);

/* Returns the implementation of helper id, or NULL. */
bpf_helper_fn *bpf_helper_func(int id);

/* Rate limiter for oko_printf: at most burst lines, refilled at rate per
 * second. */
struct bpf_ratelimit {
    uint64_t last_ns;
    uint32_t tokens;
    uint32_t dropped;
};

/* The part of a VM that helpers see.  The interpreter keeps its decoded
 * code behind `code`. */
struct bpf_vm {
    const struct bpf_prog *prog;
    struct bpf_map *maps[BPF_MAX_MAPS];
    void *scratch[BPF_MAX_MAPS];    /* per map, bpf_map_scratch_size() */
    /* Count-min lookups write their estimate into site_scratch[call_site]
     * (one u32 per instruction, allocated when the program has a count-min
     * map): the pointers two lookup call sites return stay distinct for
     * the whole run.  The interpreter sets call_site to the instruction
     * index of each helper call. */
    uint32_t *site_scratch;
    uint32_t call_site;
    unsigned flags;
    bpf_log_fn *log_fn;
    void *log_ctx;
    struct bpf_ratelimit printf_rl;
    /* With BPF_VM_BOUNDS_CHECK: the memory regions a run may touch.  The
     * interpreter sets mem_lo/mem_hi at the start of each run and
     * stack_lo/stack_hi to the whole stack area (all call frames) at
     * creation; helpers check pointer arguments against them. */
    const uint8_t *mem_lo, *mem_hi;
    const uint8_t *stack_lo, *stack_hi;
    /* Map value pointers handed out during the current run (bounds check
     * mode only), so that accesses through them can be checked. */
    struct { uint8_t *lo, *hi; } values[16];
    unsigned nvalues;
    int fault;                      /* set by a failed runtime check */
    char last_error[160];
    void *code;                     /* interpreter-private */
};

/* Checks at run time (BPF_VM_BOUNDS_CHECK) that [p, p + n) lies in the
 * stack of the current frame, mem, the read-only data, or a handed-out map
 * value.  Returns true if allowed. */
bool bpf_vm_check_access(struct bpf_vm *vm, const void *p, size_t n,
                         const uint8_t *stack_lo, const uint8_t *stack_hi,
                         bool write);

#endif /* OKO_BPF_PRIV_H */
