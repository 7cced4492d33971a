/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * helpers.c -- the helper functions programs call (OKO-ABI.md section 2):
 * their prototypes, which the verifier checks arguments against, and their
 * implementations, which the VM calls.
 *
 * With a verified program the VM passes arguments straight through: the
 * verifier has proven their types and sizes.  With BPF_VM_BOUNDS_CHECK
 * (unverified programs: the conformance plugin, fuzzing) every pointer
 * argument is checked here against the regions the run may touch, and a
 * bad one ends the run through vm->fault.
 */
#include "bpf_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* oko_printf: at most this many lines per second per VM, with bursts of
 * the same size; the number dropped is reported with the next line. */
#define PRINTF_RATE 10
/* Longest line oko_printf produces, format and numbers included. */
#define PRINTF_MAX_LINE 256

static const struct bpf_helper_proto protos[] = {
    { BPF_HELPER_MAP_LOOKUP, "oko_map_lookup", "ubpf_map_lookup",
      { BPF_ARG_MAP, BPF_ARG_MAP_KEY }, BPF_RET_MAP_VALUE_OR_NULL },
    { BPF_HELPER_MAP_UPDATE, "oko_map_update", "ubpf_map_update",
      { BPF_ARG_MAP, BPF_ARG_MAP_KEY, BPF_ARG_MAP_VALUE }, BPF_RET_INTEGER },
    { BPF_HELPER_MAP_DELETE, "oko_map_delete", "ubpf_map_delete",
      { BPF_ARG_MAP, BPF_ARG_MAP_KEY }, BPF_RET_INTEGER },
    { BPF_HELPER_MAP_ADD, "oko_map_add", "ubpf_map_add",
      { BPF_ARG_MAP, BPF_ARG_MAP_KEY }, BPF_RET_INTEGER },
    { BPF_HELPER_TIME_GET_NS, "oko_time_get_ns", "ubpf_time_get_ns",
      { BPF_ARG_NONE }, BPF_RET_INTEGER },
    { BPF_HELPER_HASH, "oko_hash", "ubpf_hash",
      { BPF_ARG_MEM, BPF_ARG_MEM_SIZE }, BPF_RET_INTEGER },
    { BPF_HELPER_PRINTF, "oko_printf", "ubpf_printf",
      { BPF_ARG_RODATA_STR, BPF_ARG_ANYTHING, BPF_ARG_ANYTHING,
        BPF_ARG_ANYTHING }, BPF_RET_INTEGER },
};

const struct bpf_helper_proto *
bpf_helper_proto(int id)
{
    if (id < 1 || id > BPF_HELPER_MAX_ID) {
        return NULL;
    }
    return &protos[id - 1];
}

int
bpf_helper_by_name(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof protos / sizeof protos[0]; i++) {
        if (!strcmp(name, protos[i].name) || !strcmp(name, protos[i].alias)) {
            return protos[i].id;
        }
    }
    return -ENOENT;
}

const char *
bpf_helper_name(int id)
{
    const struct bpf_helper_proto *p = bpf_helper_proto(id);

    return p ? p->name : NULL;
}

uint32_t
bpf_helper_value_size(const struct bpf_map_def *def)
{
    return def->type == BPF_MAP_CMS ? sizeof(uint32_t) : def->value_size;
}

/* Ends the current run with a fault (bounds-check mode only). */
static uint64_t
helper_fault(struct bpf_vm *vm, const char *fmt, const char *what)
{
    if (!vm->fault) {
        vm->fault = 1;
        snprintf(vm->last_error, sizeof vm->last_error, fmt, what);
    }
    return 0;
}

/* Returns the index of map in vm, or -1 if it is not one of the program's
 * maps. */
static int
vm_map_index(const struct bpf_vm *vm, uint64_t map)
{
    size_t i;

    for (i = 0; i < vm->prog->nmaps; i++) {
        if ((uintptr_t) vm->maps[i] == map) {
            return (int) i;
        }
    }
    return -1;
}

/* In bounds-check mode, checks that n bytes at p are readable. */
static bool
arg_readable(struct bpf_vm *vm, uint64_t p, size_t n)
{
    if (!(vm->flags & BPF_VM_BOUNDS_CHECK)) {
        return true;
    }
    return bpf_vm_check_access(vm, (const void *) (uintptr_t) p, n,
                               vm->stack_lo, vm->stack_hi, false);
}

/* Resolves the map argument, or faults.  Returns the map index or -1. */
static int
arg_map(struct bpf_vm *vm, uint64_t map)
{
    int idx = vm_map_index(vm, map);

    if (idx < 0 && (vm->flags & BPF_VM_BOUNDS_CHECK)) {
        helper_fault(vm, "%s: argument is not a map of the program",
                     "map helper");
    }
    return idx;
}

static uint64_t
helper_map_lookup(struct bpf_vm *vm, uint64_t map, uint64_t key,
                  uint64_t r3, uint64_t r4, uint64_t r5)
{
    const struct bpf_map_def *def;
    uint8_t *value;
    int idx = arg_map(vm, map);

    if (idx < 0) {
        return 0;
    }
    def = &vm->prog->maps[idx].def;
    if (!arg_readable(vm, key, def->key_size)) {
        return helper_fault(vm, "%s: key out of bounds", "oko_map_lookup");
    }
    value = bpf_map_lookup(vm->maps[idx], (const void *) (uintptr_t) key,
                           def->type == BPF_MAP_CMS && vm->site_scratch
                           ? (void *) &vm->site_scratch[vm->call_site]
                           : vm->scratch[idx]);
    if (value && (vm->flags & BPF_VM_BOUNDS_CHECK)) {
        /* Remember the value so that accesses through it pass the run-time
         * checks; the oldest is forgotten when the table is full. */
        unsigned slot = vm->nvalues++ % (sizeof vm->values
                                         / sizeof vm->values[0]);

        vm->values[slot].lo = value;
        vm->values[slot].hi = value + bpf_helper_value_size(def);
    }
    return (uintptr_t) value;
}

static uint64_t
helper_map_update(struct bpf_vm *vm, uint64_t map, uint64_t key,
                  uint64_t value, uint64_t r4, uint64_t r5)
{
    const struct bpf_map_def *def;
    int idx = arg_map(vm, map);

    if (idx < 0) {
        return (uint64_t) -EINVAL;
    }
    def = &vm->prog->maps[idx].def;
    if (!arg_readable(vm, key, def->key_size)
        || !arg_readable(vm, value, def->value_size)) {
        return helper_fault(vm, "%s: key or value out of bounds",
                            "oko_map_update");
    }
    return (uint64_t) (int64_t) bpf_map_update(
        vm->maps[idx], (const void *) (uintptr_t) key,
        (const void *) (uintptr_t) value);
}

static uint64_t
helper_map_delete(struct bpf_vm *vm, uint64_t map, uint64_t key,
                  uint64_t r3, uint64_t r4, uint64_t r5)
{
    int idx = arg_map(vm, map);

    if (idx < 0) {
        return (uint64_t) -EINVAL;
    }
    if (!arg_readable(vm, key, vm->prog->maps[idx].def.key_size)) {
        return helper_fault(vm, "%s: key out of bounds", "oko_map_delete");
    }
    return (uint64_t) (int64_t) bpf_map_delete(
        vm->maps[idx], (const void *) (uintptr_t) key);
}

static uint64_t
helper_map_add(struct bpf_vm *vm, uint64_t map, uint64_t elem,
               uint64_t r3, uint64_t r4, uint64_t r5)
{
    int idx = arg_map(vm, map);

    if (idx < 0) {
        return (uint64_t) -EINVAL;
    }
    if (!arg_readable(vm, elem, vm->prog->maps[idx].def.key_size)) {
        return helper_fault(vm, "%s: element out of bounds", "oko_map_add");
    }
    return (uint64_t) (int64_t) bpf_map_add(
        vm->maps[idx], (const void *) (uintptr_t) elem);
}

uint64_t
bpf_time_get_ns(void)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC is read in user space from the TSC through the vDSO
     * when the kernel's clocksource is the TSC (the case on these
     * machines): about 20 ns, no system call, and already calibrated. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static uint64_t
helper_time_get_ns(struct bpf_vm *vm, uint64_t r1, uint64_t r2,
                   uint64_t r3, uint64_t r4, uint64_t r5)
{
    return bpf_time_get_ns();
}

static uint64_t
helper_hash(struct bpf_vm *vm, uint64_t ptr, uint64_t len, uint64_t r3,
            uint64_t r4, uint64_t r5)
{
    if (!arg_readable(vm, ptr, len)) {
        return helper_fault(vm, "%s: memory out of bounds", "oko_hash");
    }
    return bpf_hashlittle((const void *) (uintptr_t) ptr, len, 0);
}

/* Formats fmt with at most three integer arguments into buf.  Only integer
 * conversions are honoured (%d %i %u %x %X %o %c with the l/ll/h/z length
 * modifiers, flags, width and precision); anything else, %s and %p
 * included, is copied literally, so a program cannot make the switch read
 * memory through its format.  Returns the number of arguments consumed. */
static int
format_line(char *buf, size_t size, const char *fmt, const uint64_t args[3])
{
    size_t n = 0;
    int argi = 0;

    while (*fmt && n + 1 < size) {
        const char *start = fmt;
        char spec[32];
        size_t speclen;
        int longs = 0, shorts = 0;

        if (*fmt != '%') {
            buf[n++] = *fmt++;
            continue;
        }
        fmt++;
        if (*fmt == '%') {
            buf[n++] = '%';
            fmt++;
            continue;
        }
        while (*fmt && strchr("-+ #0", *fmt)) {
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9') {
            fmt++;
        }
        if (*fmt == '.') {
            fmt++;
            while (*fmt >= '0' && *fmt <= '9') {
                fmt++;
            }
        }
        while (*fmt == 'l' || *fmt == 'h' || *fmt == 'z') {
            longs += *fmt == 'l' || *fmt == 'z';
            shorts += *fmt == 'h';
            fmt++;
        }
        speclen = (size_t) (fmt - start);
        if (!*fmt || !strchr("diuxXoc", *fmt) || argi >= 3
            || speclen + 4 > sizeof spec) {
            /* Not a conversion we honour: copy what we skipped. */
            while (start < fmt && n + 1 < size) {
                buf[n++] = *start++;
            }
            continue;
        }
        /* Rebuild the conversion with a 64-bit length modifier, dropping
         * the program's own length modifiers. */
        {
            size_t k = 0;
            const char *p;
            char conv = *fmt++;
            uint64_t v = args[argi++];
            int w;

            for (p = start; p < start + speclen; p++) {
                if (*p != 'l' && *p != 'h' && *p != 'z') {
                    spec[k++] = *p;
                }
            }
            if (conv == 'c') {
                spec[k++] = 'c';
                spec[k] = '\0';
                w = snprintf(buf + n, size - n, spec, (int) (uint8_t) v);
            } else {
                spec[k++] = 'l';
                spec[k++] = 'l';
                spec[k++] = conv;
                spec[k] = '\0';
                if (!longs) {
                    /* int-sized argument, as the C caller meant it. */
                    v = (conv == 'd' || conv == 'i')
                        ? (uint64_t) (int64_t) (int32_t) v : (uint32_t) v;
                }
                if (shorts) {
                    v = (conv == 'd' || conv == 'i')
                        ? (uint64_t) (int64_t) (int16_t) v : (uint16_t) v;
                }
                w = snprintf(buf + n, size - n, spec, (long long) v);
            }
            if (w > 0) {
                n += (size_t) w < size - n ? (size_t) w : size - n - 1;
            }
        }
    }
    buf[n] = '\0';
    return argi;
}

/* Copies at most maxlen bytes of the format at f, up to its NUL, into a
 * buffer of PRINTF_MAX_LINE bytes, truncating as oko_printf does. */
static void
copy_format(char fmtbuf[PRINTF_MAX_LINE], const char *f, size_t maxlen)
{
    size_t len = strnlen(f, maxlen < PRINTF_MAX_LINE - 1
                            ? maxlen : PRINTF_MAX_LINE - 1);

    memcpy(fmtbuf, f, len);
    fmtbuf[len] = '\0';
}

int
bpf_printf_nargs(const char *fmt, size_t maxlen)
{
    static const uint64_t zeros[3];
    char fmtbuf[PRINTF_MAX_LINE], line[PRINTF_MAX_LINE];

    /* Zero arguments print shortest, so this consumes at least as many
     * arguments as any real call with the same format. */
    copy_format(fmtbuf, fmt, maxlen);
    return format_line(line, sizeof line, fmtbuf, zeros);
}

static uint64_t
helper_printf(struct bpf_vm *vm, uint64_t fmt, uint64_t a1, uint64_t a2,
              uint64_t a3, uint64_t r5)
{
    char line[PRINTF_MAX_LINE], out[PRINTF_MAX_LINE + 48];
    const uint64_t args[3] = { a1, a2, a3 };
    const char *f = (const char *) (uintptr_t) fmt;
    struct bpf_ratelimit *rl = &vm->printf_rl;
    uint64_t now;
    size_t avail;

    /* The format must be a NUL-terminated string in the program's
     * read-only data: the verifier proves it, and this rechecks it in
     * bounds-check mode. */
    if (vm->flags & BPF_VM_BOUNDS_CHECK) {
        const uint8_t *lo = vm->prog->rodata;
        const uint8_t *hi = lo + vm->prog->rodata_len;

        if (!lo || (const uint8_t *) f < lo || (const uint8_t *) f >= hi
            || !memchr(f, '\0', (size_t) (hi - (const uint8_t *) f))) {
            return helper_fault(vm, "%s: format is not a string in "
                                "read-only data", "oko_printf");
        }
    }
    now = bpf_time_get_ns();
    if (now - rl->last_ns >= 1000000000ull / PRINTF_RATE) {
        uint64_t refill = (now - rl->last_ns) / (1000000000ull / PRINTF_RATE);

        rl->tokens = refill >= PRINTF_RATE ? PRINTF_RATE
                     : rl->tokens + (uint32_t) refill > PRINTF_RATE
                     ? PRINTF_RATE : rl->tokens + (uint32_t) refill;
        rl->last_ns = now;
    }
    if (!rl->tokens) {
        rl->dropped++;
        return 0;
    }
    rl->tokens--;

    avail = vm->prog->rodata_len
            - (size_t) ((const uint8_t *) f - vm->prog->rodata);
    {
        char fmtbuf[PRINTF_MAX_LINE];

        copy_format(fmtbuf, f, avail);
        format_line(line, sizeof line, fmtbuf, args);
    }
    line[strcspn(line, "\n")] = '\0';
    if (rl->dropped) {
        snprintf(out, sizeof out, "%s (%" PRIu32 " lines suppressed)", line,
                 rl->dropped);
        rl->dropped = 0;
    } else {
        snprintf(out, sizeof out, "%s", line);
    }
    if (vm->log_fn) {
        vm->log_fn(vm->log_ctx, out);
    } else {
        fprintf(stderr, "oko_printf: %s\n", out);
    }
    return 0;
}

static bpf_helper_fn *const funcs[] = {
    [BPF_HELPER_MAP_LOOKUP] = helper_map_lookup,
    [BPF_HELPER_MAP_UPDATE] = helper_map_update,
    [BPF_HELPER_MAP_DELETE] = helper_map_delete,
    [BPF_HELPER_MAP_ADD] = helper_map_add,
    [BPF_HELPER_TIME_GET_NS] = helper_time_get_ns,
    [BPF_HELPER_HASH] = helper_hash,
    [BPF_HELPER_PRINTF] = helper_printf,
};

bpf_helper_fn *
bpf_helper_func(int id)
{
    if (id < 1 || id > BPF_HELPER_MAX_ID) {
        return NULL;
    }
    return funcs[id];
}
