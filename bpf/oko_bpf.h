/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * oko_bpf.h -- the one public header of the oko eBPF library.
 *
 * The library loads filter programs from ELF objects (OKO-ABI.md section 1),
 * verifies them (section 3), runs them in an interpreter (section 2) and
 * keeps their maps (array, hash, Bloom filter, count-min sketch) in memory
 * supplied by the caller.  It has no DPDK dependency.
 *
 * Conventions: functions return 0 or a negative errno; constructors return
 * NULL and set errno; human-readable diagnostics go into a caller-supplied
 * buffer (char *err, size_t errlen), which may be NULL.
 *
 * Threads and processes: a struct bpf_prog is immutable after loading and
 * may be shared by threads of one process.  A struct bpf_vm is used by one
 * thread at a time.  A struct bpf_map is one position-independent block of
 * memory (no pointers inside): it may live in shared memory mapped at any
 * address in several processes, and its operations are safe for many
 * concurrent readers and writers (see bpf_map_create()).
 */
#ifndef OKO_BPF_H
#define OKO_BPF_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------
 * Instructions
 * ------------------------------------------------------------------- */

/* One eBPF instruction, as clang emits it (little-endian host). */
struct bpf_inst {
    uint8_t code;
    uint8_t dst : 4;
    uint8_t src : 4;
    int16_t off;
    int32_t imm;
};

/* Instruction classes. */
#define BPF_CLS_LD    0x00
#define BPF_CLS_LDX   0x01
#define BPF_CLS_ST    0x02
#define BPF_CLS_STX   0x03
#define BPF_CLS_ALU   0x04
#define BPF_CLS_JMP   0x05
#define BPF_CLS_JMP32 0x06
#define BPF_CLS_ALU64 0x07
#define BPF_CLASS(code) ((code) & 0x07)

/* Operand source and size / mode fields. */
#define BPF_SRC_K 0x00
#define BPF_SRC_X 0x08
#define BPF_SIZE_W  0x00
#define BPF_SIZE_H  0x08
#define BPF_SIZE_B  0x10
#define BPF_SIZE_DW 0x18
#define BPF_MODE_IMM    0x00
#define BPF_MODE_ABS    0x20
#define BPF_MODE_IND    0x40
#define BPF_MODE_MEM    0x60
#define BPF_MODE_ATOMIC 0xc0
#define BPF_OP(code)   ((code) & 0xf0)
#define BPF_SRC(code)  ((code) & 0x08)
#define BPF_SIZE(code) ((code) & 0x18)
#define BPF_MODE(code) ((code) & 0xe0)

/* ALU operations. */
#define BPF_ALU_ADD  0x00
#define BPF_ALU_SUB  0x10
#define BPF_ALU_MUL  0x20
#define BPF_ALU_DIV  0x30
#define BPF_ALU_OR   0x40
#define BPF_ALU_AND  0x50
#define BPF_ALU_LSH  0x60
#define BPF_ALU_RSH  0x70
#define BPF_ALU_NEG  0x80
#define BPF_ALU_MOD  0x90
#define BPF_ALU_XOR  0xa0
#define BPF_ALU_MOV  0xb0
#define BPF_ALU_ARSH 0xc0
#define BPF_ALU_END  0xd0  /* byte swap: src bit 0 = to little, 1 = to big */

/* Jump operations. */
#define BPF_JMP_JA   0x00
#define BPF_JMP_JEQ  0x10
#define BPF_JMP_JGT  0x20
#define BPF_JMP_JGE  0x30
#define BPF_JMP_JSET 0x40
#define BPF_JMP_JNE  0x50
#define BPF_JMP_JSGT 0x60
#define BPF_JMP_JSGE 0x70
#define BPF_JMP_CALL 0x80
#define BPF_JMP_EXIT 0x90
#define BPF_JMP_JLT  0xa0
#define BPF_JMP_JLE  0xb0
#define BPF_JMP_JSLT 0xc0
#define BPF_JMP_JSLE 0xd0

/* Atomic operations (imm of a BPF_MODE_ATOMIC store). */
#define BPF_ATOMIC_ADD     0x00
#define BPF_ATOMIC_OR      0x40
#define BPF_ATOMIC_AND     0x50
#define BPF_ATOMIC_XOR     0xa0
#define BPF_ATOMIC_FETCH   0x01
#define BPF_ATOMIC_XCHG    (0xe0 | BPF_ATOMIC_FETCH)
#define BPF_ATOMIC_CMPXCHG (0xf0 | BPF_ATOMIC_FETCH)

/* Pseudo sources.  In a loaded program the loader has rewritten:
 *  - lddw against a map symbol:  src = BPF_PSEUDO_MAP_IDX, imm = map index
 *    (second slot imm = 0);
 *  - lddw against read-only data: src = BPF_PSEUDO_RODATA, imm = offset into
 *    the program's read-only data (second slot imm = 0);
 *  - call of a helper: src = 0, imm = helper id;
 *  - call of a local function: src = BPF_PSEUDO_CALL, imm = offset in
 *    instructions relative to the next instruction. */
#define BPF_PSEUDO_MAP_IDX 1
#define BPF_PSEUDO_RODATA  2
#define BPF_PSEUDO_CALL    1

#define BPF_NREGS        11
#define BPF_STACK_SIZE   512
#define BPF_MAX_INSNS    65536
#define BPF_MAX_MAPS     64
#define BPF_MAX_CALL_DEPTH 8
#define BPF_MAX_NAME     64

/* ---------------------------------------------------------------------
 * Maps (OKO-ABI.md section 2)
 * ------------------------------------------------------------------- */

enum bpf_map_type {
    BPF_MAP_ARRAY = 1,
    BPF_MAP_BLOOM = 2,
    BPF_MAP_CMS   = 3,     /* count-min sketch */
    BPF_MAP_HASH  = 4,
    /* Hash map with least-recently-used eviction, for the kernel's
     * BPF_MAP_TYPE_LRU_HASH and LRU_PERCPU_HASH of libbpf-style programs
     * (the loader accepts it; bpf_map_def_check() refuses it until maps.c
     * implements the eviction). */
    BPF_MAP_LRU_HASH = 5,
};

/* The 20-byte map definition of OKO-ABI.md, as it sits in the ELF. */
struct bpf_map_def {
    uint32_t type;
    uint32_t key_size;
    uint32_t value_size;
    uint32_t max_entries;
    uint32_t nb_hash_functions;
};

/* Limits enforced on every map definition. */
#define BPF_MAP_MAX_KEY_SIZE     512
#define BPF_MAP_MAX_VALUE_SIZE   65536
#define BPF_MAP_MAX_ENTRIES      (1u << 24)
#define BPF_MAP_MAX_HASH_FUNCS   16
#define BPF_MAP_MAX_BYTES        (1ull << 30)
/* Limit on the memory of all the maps of one program together (the sum of
 * bpf_map_mem_size() over its maps); a load beyond it fails with E2BIG. */
#define BPF_PROG_MAX_MAP_BYTES   (1ull << 30)

/* Caller-supplied allocator for map memory.  alloc returns zeroed memory of
 * at least size bytes aligned to align (a power of two, at most 64), or
 * NULL.  name is the map's name, for allocators that name their objects
 * (DPDK memzones).  A NULL allocator means malloc. */
struct bpf_allocator {
    void *(*alloc)(void *ctx, const char *name, size_t size, size_t align);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
};

struct bpf_map;

/* Checks a map definition: returns 0, or -EINVAL with a message in err
 * naming the bad field. */
int bpf_map_def_check(const struct bpf_map_def *def, char *err, size_t errlen);

/* Returns the number of bytes a map with definition def occupies, or 0 if
 * def is invalid. */
size_t bpf_map_mem_size(const struct bpf_map_def *def);

/* Formats a map in memory mem of size bytes (at least
 * bpf_map_mem_size(def), 64-byte aligned, zeroed or not).  Returns the map,
 * which is mem itself, or NULL with errno set. */
struct bpf_map *bpf_map_init(void *mem, size_t size,
                             const struct bpf_map_def *def, const char *name);

/* Checks that mem holds a formatted map (magic and definition consistent
 * with size) and returns it, or NULL with errno = EINVAL.  Used by a process
 * attaching to a map another process created. */
struct bpf_map *bpf_map_attach(void *mem, size_t size);

/* Allocates (through a, or malloc if a is NULL) and formats a map.
 * Concurrency: every operation below may run concurrently from any number
 * of threads or processes (readers and writers); no operation takes a lock
 * that a dead process could leave held.  Value updates are not atomic as a
 * whole (a reader may see a value half-written), as in Linux; programs use
 * atomic instructions on map values for counters. */
struct bpf_map *bpf_map_create(const struct bpf_map_def *def, const char *name,
                               const struct bpf_allocator *a);

/* Frees a map made by bpf_map_create() with the same allocator. */
void bpf_map_destroy(struct bpf_map *map, const struct bpf_allocator *a);

/* The map's definition and name, as given at creation. */
const struct bpf_map_def *bpf_map_get_def(const struct bpf_map *map);
const char *bpf_map_get_name(const struct bpf_map *map);

/* Looks key up.  Array: key is a u32 index; returns a pointer to the value.
 * Hash: pointer to the value.  Bloom: non-NULL iff the element may be
 * present.  Count-min: pointer to a u32 holding the estimate.  For Bloom and
 * count-min, the returned pointer points into scratch, which must hold at
 * least bpf_map_scratch_size() bytes.  Returns NULL if absent. */
void *bpf_map_lookup(struct bpf_map *map, const void *key, void *scratch);

/* Size of the scratch buffer bpf_map_lookup() needs for map. */
size_t bpf_map_scratch_size(const struct bpf_map *map);

/* Inserts or replaces key's value.  Returns 0, -E2BIG if the map is full,
 * -EINVAL for an array index out of range or a Bloom/count-min map (use
 * bpf_map_add). */
int bpf_map_update(struct bpf_map *map, const void *key, const void *value);

/* Removes key.  Returns 0 or -ENOENT.  Array: zeroes the value.  Bloom and
 * count-min: -EINVAL (elements cannot be removed; use bpf_map_clear). */
int bpf_map_delete(struct bpf_map *map, const void *key);

/* Bloom: inserts elem.  Count-min: increments elem's counters.  Returns 0,
 * or -EINVAL for other map types. */
int bpf_map_add(struct bpf_map *map, const void *elem);

/* Empties the map (array: zeroes every value).  Not atomic with respect to
 * concurrent writers. */
int bpf_map_clear(struct bpf_map *map);

/* Number of live entries (hash: entries; array: max_entries; Bloom: bits
 * set; count-min: total of row 0). */
uint64_t bpf_map_count(const struct bpf_map *map);

/* Iterates over the map for dumps.  *cursor starts at 0.  Each call copies
 * the next entry into key_out (key_size bytes) and value_out (value_size
 * bytes) and returns 1, or returns 0 at the end.  Array: every index.
 * Hash: every live entry.  Bloom: key = u32 index of each set bit (key_out
 * must hold 4 bytes whatever key_size is; value_out is not written).
 * Count-min: key = u32 (row << 24 | column) of each non-zero counter
 * (key_out must hold 4 bytes), value = u32 count (value_out must hold 4
 * bytes).  Concurrent updates may or may not be seen. */
int bpf_map_next(struct bpf_map *map, uint64_t *cursor, void *key_out,
                 void *value_out);

/* Bob Jenkins' lookup3 hashes (OKO-ABI.md section 2). */
uint32_t bpf_hashlittle(const void *key, size_t length, uint32_t initval);
void bpf_hashlittle2(const void *key, size_t length, uint32_t *pc,
                     uint32_t *pb);

/* ---------------------------------------------------------------------
 * Programs
 * ------------------------------------------------------------------- */

/* Helper ids of OKO-ABI.md section 2.  oko_map_lookup on a count-min
 * sketch returns a pointer to the estimate that stays valid, and keeps its
 * value, for the whole run -- until the same call instruction runs again
 * (in a loop).  On a Bloom filter it points at a copy of the element of the
 * map's latest lookup. */
enum bpf_helper_id {
    BPF_HELPER_MAP_LOOKUP = 1,
    BPF_HELPER_MAP_UPDATE = 2,
    BPF_HELPER_MAP_DELETE = 3,
    BPF_HELPER_MAP_ADD    = 4,
    BPF_HELPER_TIME_GET_NS = 5,
    BPF_HELPER_HASH       = 6,
    BPF_HELPER_PRINTF     = 7,
    BPF_HELPER_MAX_ID     = 7,
};

/* Returns the helper id for a name (oko_map_lookup, ubpf_map_lookup, ...),
 * or -ENOENT. */
int bpf_helper_by_name(const char *name);
/* Returns the canonical name of a helper id, or NULL. */
const char *bpf_helper_name(int id);

/* A map as the program declares it. */
struct bpf_map_desc {
    char name[BPF_MAX_NAME];
    struct bpf_map_def def;
    /* BTF type ids of the key and value (libbpf flavour, `__type(key, T)`
     * and `__type(value, T)`), for bpf_prog_format_value(); 0 when the
     * program gave only a size or has no BTF. */
    uint32_t btf_key_type;
    uint32_t btf_value_type;
};

/* Program flavours (see bpf_load_opts.flavour). */
enum bpf_flavour {
    BPF_FLAVOUR_AUTO = 0,   /* load option only: decide from the object */
    BPF_FLAVOUR_OKO  = 1,   /* OKO-ABI.md: 20-byte map definitions, oko
                             * helper ids, entry(pkt, len) */
    BPF_FLAVOUR_XDP  = 2,   /* libbpf/XDP: BTF-defined maps in `.maps`,
                             * program in a section such as `xdp`, helper
                             * calls by kernel id (imm kept as is) */
};

/* Load options.  Zero-initialise and set what you need. */
struct bpf_load_opts {
    /* Code section.  NULL: in the oko flavour the executable section that
     * holds the global function `entry` if there is one, else the first
     * non-empty ALLOC|EXECINSTR section; in the XDP flavour the first
     * non-empty one with a program name (xdp, ...). */
    const char *section;
    const char *entry;      /* entry symbol; NULL = "entry" or section start */
    /* AUTO: the libbpf/XDP flavour if the object has a `.maps` section or
     * a code section named xdp, xdp/..., classifier, tc or socket...,
     * else oko. */
    enum bpf_flavour flavour;
};

struct bpf_prog;

/* Loads a program from an ELF relocatable object in memory (the buffer is
 * not kept).  Returns the program or NULL with errno set and a message in
 * err naming what is wrong (section, symbol, relocation, offset). */
struct bpf_prog *bpf_prog_load_elf(const void *elf, size_t len,
                                   const struct bpf_load_opts *opts,
                                   char *err, size_t errlen);

/* Same, from a file. */
struct bpf_prog *bpf_prog_load_file(const char *path,
                                    const struct bpf_load_opts *opts,
                                    char *err, size_t errlen);

/* Makes a program from raw instructions (no maps, no relocations; calls
 * name helpers by id; lddw is a plain 64-bit immediate).  Used by the
 * conformance plugin and tests.  Returns NULL with errno set. */
struct bpf_prog *bpf_prog_load_raw(const struct bpf_inst *insns, size_t n,
                                   char *err, size_t errlen);

/* Frees a program and everything it owns; NULL is allowed.  VMs built from
 * it must be destroyed first. */
void bpf_prog_free(struct bpf_prog *prog);

/* The instructions after relocation, and their number. */
const struct bpf_inst *bpf_prog_insns(const struct bpf_prog *prog,
                                      size_t *n);
/* Instruction index of the entry point. */
size_t bpf_prog_entry(const struct bpf_prog *prog);
/* Number of maps the program declares; their ids are 0 .. n - 1. */
size_t bpf_prog_nmaps(const struct bpf_prog *prog);
/* Name and definition of map idx, or NULL if idx is out of range. */
const struct bpf_map_desc *bpf_prog_map(const struct bpf_prog *prog,
                                        size_t idx);
/* Name of the code section the program came from ("" for raw). */
const char *bpf_prog_section(const struct bpf_prog *prog);
/* Read-only data (string literals) the program refers to. */
const void *bpf_prog_rodata(const struct bpf_prog *prog, size_t *len);
/* Name of the function symbol at instruction idx, or NULL. */
const char *bpf_prog_symbol_at(const struct bpf_prog *prog, size_t idx);

/* The program's flavour: BPF_FLAVOUR_OKO or BPF_FLAVOUR_XDP (never AUTO).
 * In the XDP flavour, helper calls (src 0) carry kernel helper ids
 * (bpf_map_lookup_elem = 1, ...), not the ids of OKO-ABI.md. */
enum bpf_flavour bpf_prog_flavour(const struct bpf_prog *prog);

/* Formats len bytes of a map key or value by the C type btf_type of the
 * program's BTF (bpf_map_desc.btf_key_type / btf_value_type) into buf
 * (buflen bytes, NUL-terminated when buflen > 0), C-initialiser style:
 *   structs, unions     { .saddr = 10.0.0.1, .count = 5 }
 *   integers            decimal (signed if the type is); bool true/false;
 *                       a 4-byte integer member whose name contains "addr"
 *                       or starts with "ip" as an IPv4 dotted quad of its
 *                       bytes in memory (network) order
 *   enums               the enumerator's name, else the number
 *   arrays of bytes     hex: 0x0a0b0c (u8, char and other 1-byte ints)
 *   other arrays        [ 1, 2, 3 ]
 *   pointers            0x hex; floats %g; bitfields decimal.
 * btf_type 0, or a program without BTF, gives the bytes in hex (0x...).
 * Returns the length of the whole text as snprintf does (>= buflen means
 * it was cut), or -EINVAL (len is not the type's size, or a type without
 * values), -ENOENT (no such type), -ELOOP (type graph too deep or
 * cyclic). */
int bpf_prog_format_value(const struct bpf_prog *prog, uint32_t btf_type,
                          const void *data, size_t len, char *buf,
                          size_t buflen);

/* Writes the C name of BTF type btf_type of the program ("struct
 * src_key", "__u32", "__u8[6]") into buf as snprintf does.  Returns the
 * length of the whole name, or -ENOENT if there is no such type (or no
 * BTF). */
int bpf_prog_format_type(const struct bpf_prog *prog, uint32_t btf_type,
                         char *buf, size_t buflen);

/* ---------------------------------------------------------------------
 * Verifier (OKO-ABI.md section 3)
 * ------------------------------------------------------------------- */

enum bpf_verify_mode {
    /* Filter programs: r1 = read-only packet, r2 = its length. */
    BPF_VERIFY_FILTER = 0,
    /* Structural checks only (opcodes, registers, jump targets, lddw
     * pairs, helper ids, call targets, reachable exit); memory accesses are
     * checked at run time by a VM created with BPF_VM_BOUNDS_CHECK.  For
     * conformance programs, which write memory and are not filters. */
    BPF_VERIFY_STRUCTURAL = 1,
};

struct bpf_verify_opts {
    enum bpf_verify_mode mode;
    uint64_t max_states;    /* 0 = default (1M explored instructions) */
};

/* What the verifier did, for `oko-bpf verify` and `prog show`. */
struct bpf_verify_stats {
    uint64_t insns_processed;   /* instructions walked over all paths */
    uint64_t states_stored;     /* states kept for pruning */
    uint64_t states_pruned;     /* paths cut by an equivalent state */
    uint32_t max_stack;         /* deepest stack byte used */
    uint32_t loops;             /* back-edges with a proven bound */
};

/* Verifies prog against the maps it declares.  Returns 0 if every path is
 * safe, or -EACCES (unsafe), -EINVAL (malformed), -E2BIG (too complex) with
 * err = "insn N: rX: reason".  stats may be NULL. */
int bpf_verify(const struct bpf_prog *prog, const struct bpf_verify_opts *opts,
               struct bpf_verify_stats *stats, char *err, size_t errlen);

/* ---------------------------------------------------------------------
 * Virtual machine
 * ------------------------------------------------------------------- */

#define BPF_VM_BOUNDS_CHECK 0x1  /* check every memory access at run time */

struct bpf_vm;

/* Log sink for oko_printf; NULL = stderr.  Called through a rate limiter. */
typedef void bpf_log_fn(void *ctx, const char *line);

/* Builds a VM for prog (which must outlive it): pre-decodes the program
 * and binds map index i to maps[i] (maps must have bpf_prog_nmaps()
 * entries whose definitions equal the program's, or be NULL when it has
 * none).  Returns NULL with errno set and a message in err. */
struct bpf_vm *bpf_vm_create(const struct bpf_prog *prog,
                             struct bpf_map *const *maps, unsigned flags,
                             char *err, size_t errlen);
/* Frees a VM (not the program nor the maps it was built with); NULL is
 * allowed. */
void bpf_vm_destroy(struct bpf_vm *vm);

/* Sends the VM's oko_printf lines to fn(ctx, line) instead of stderr. */
void bpf_vm_set_log(struct bpf_vm *vm, bpf_log_fn *fn, void *ctx);

/* Runs the program on mem (len bytes, less than 2^32; a longer input ends
 * the run at once with r0 = 0): r1 = mem, r2 = len.  Returns r0.
 * For a verified program this never faults.  With BPF_VM_BOUNDS_CHECK, a
 * bad access or instruction ends the run with r0 = 0 and
 * bpf_vm_last_error() says why. */
uint64_t bpf_vm_run(struct bpf_vm *vm, void *mem, size_t len);

/* Like bpf_vm_run, but returns 0 and stores r0, or a negative errno
 * (-EFAULT bad access, -EINVAL bad instruction, -ELOOP instruction budget
 * exceeded) with a message in err. */
int bpf_vm_exec(struct bpf_vm *vm, void *mem, size_t len, uint64_t *r0,
                char *err, size_t errlen);

/* Message of the fault that ended the latest run, or "" if that run ended
 * normally. */
const char *bpf_vm_last_error(const struct bpf_vm *vm);

/* Number of instructions the latest run with BPF_VM_BOUNDS_CHECK executed
 * (runs without it do not count, to keep the fast path lean). */
uint64_t bpf_vm_insn_count(const struct bpf_vm *vm);

/* Runs a filter program on a packet: true iff it returned exactly 1. */
static inline bool
bpf_vm_match(struct bpf_vm *vm, const void *pkt, size_t len)
{
    return bpf_vm_run(vm, (void *) pkt, len) == 1;
}

/* Monotonic nanoseconds (TSC-based where available), as oko_time_get_ns. */
uint64_t bpf_time_get_ns(void);

/* ---------------------------------------------------------------------
 * Disassembler
 * ------------------------------------------------------------------- */

/* Writes instruction idx of insns (n instructions) in a readable form
 * into buf ("r0 = *(u16 *)(r1 + 12)").  Returns the number of instruction
 * slots it took (2 for lddw, else 1). */
int bpf_disasm_insn(const struct bpf_inst *insns, size_t n, size_t idx,
                    char *buf, size_t buflen);

#ifdef __cplusplus
}
#endif

#endif /* OKO_BPF_H */
