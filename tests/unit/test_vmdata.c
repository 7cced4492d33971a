/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_vmdata.c -- runs every data-driven VM test (the .data files of
 * tests/vm) in both interpreter variants (fast and BPF_VM_BOUNDS_CHECK)
 * and reports each failing file by name.
 *
 * File format (text, in the spirit of the bpf_conformance suite):
 *
 *     # A comment: anything after '#' on any line is ignored.
 *     -- raw
 *     0xb7 0 0 0 42            # code dst src off imm
 *     b701000001000000         # or the 8 bytes of the instruction in hex,
 *                              # as llvm-objdump shows them
 *     lddw 1 0x1122334455667788    # two slots: lddw dst imm64
 *     0x95 0 0 0 0
 *     -- mem
 *     00 01 02 03              # input bytes in hex: r1 = mem, r2 = length
 *     -- result
 *     0x2a                     # expected r0 (hex with 0x, or decimal)
 *
 * Sections:
 *   -- raw      the program (required).  In the five-field form, code is
 *               hex (0x optional), dst and src decimal registers, off and
 *               imm signed decimal or 0x-hex (imm as a 32-bit pattern).
 *   -- mem      the input memory; none means r1 = NULL, r2 = 0.  The
 *               program may write it (each run gets a fresh copy).
 *   -- result   the value r0 must have; runs must not fault.
 *   -- error    a substring of the expected error: either bpf_vm_create
 *               rejects the program (checked in both variants), or a run
 *               with BPF_VM_BOUNDS_CHECK faults (the fast variant, which
 *               trusts the verifier, is then not run).
 * Exactly one of "-- result" and "-- error" is required.
 *
 * TOP_SRCDIR is defined on the compile line; OKO_VM_TESTS in the
 * environment overrides the directory.
 */
#include "oko_bpf.h"
#include "cu_main.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

/* The suite must not pass by finding nothing. */
#define MIN_DATA_FILES 60

#define MAX_INSNS 4096
#define MAX_MEM 65536

struct vm_case {
    struct bpf_inst insns[MAX_INSNS];
    size_t ninsns;
    uint8_t mem[MAX_MEM];
    size_t memlen;
    bool has_mem;
    bool has_result;
    uint64_t result;
    char error[256];        /* "" = none expected */
};

/* Parses a signed or unsigned integer (decimal, or hex with 0x) that must
 * fit in [lo, hi] when read as signed, or in [0, umax] when read as
 * unsigned.  Returns 0 or -1. */
static int
parse_int(const char *s, int64_t lo, int64_t hi, uint64_t umax,
          int64_t *out)
{
    char *end;
    bool neg = *s == '-';
    uint64_t v;

    errno = 0;
    v = strtoull(neg ? s + 1 : s, &end, 0);
    if (errno || end == s || *end || (neg && !isdigit((unsigned char) s[1]))) {
        return -1;
    }
    if (neg) {
        if (v > (uint64_t) -(lo + 1) + 1) {
            return -1;
        }
        *out = (int64_t) (0 - v);
    } else if (v <= (uint64_t) hi) {
        *out = (int64_t) v;
    } else if (v <= umax) {
        /* A bit pattern (0xffffffff for imm): keep the low bits. */
        *out = (int64_t) v;
    } else {
        return -1;
    }
    return 0;
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Parses one line of "-- raw" (comment stripped, not empty). */
static int
parse_insn_line(struct vm_case *c, char *line, char *why, size_t whylen)
{
    char *tok[8];
    int ntok = 0;
    char *save = NULL, *t;

    for (t = strtok_r(line, " \t", &save); t && ntok < 8;
         t = strtok_r(NULL, " \t", &save)) {
        tok[ntok++] = t;
    }
    if (t) {
        snprintf(why, whylen, "too many fields");
        return -1;
    }
    if (ntok == 3 && !strcmp(tok[0], "lddw")) {
        int64_t dst, imm;

        if (parse_int(tok[1], 0, 15, 15, &dst)
            || parse_int(tok[2], INT64_MIN, INT64_MAX, UINT64_MAX, &imm)) {
            snprintf(why, whylen, "bad lddw");
            return -1;
        }
        if (c->ninsns + 2 > MAX_INSNS) {
            snprintf(why, whylen, "too many instructions");
            return -1;
        }
        c->insns[c->ninsns++] = (struct bpf_inst) {
            .code = BPF_CLS_LD | BPF_MODE_IMM | BPF_SIZE_DW, .dst = dst,
            .imm = (int32_t) (uint32_t) (uint64_t) imm,
        };
        c->insns[c->ninsns++] = (struct bpf_inst) {
            .imm = (int32_t) (uint32_t) ((uint64_t) imm >> 32),
        };
        return 0;
    }
    if (c->ninsns + 1 > MAX_INSNS) {
        snprintf(why, whylen, "too many instructions");
        return -1;
    }
    if (ntok == 1 && strlen(tok[0]) == 16) {
        uint8_t b[8];
        int i;

        for (i = 0; i < 8; i++) {
            int h = hexval(tok[0][2 * i]), l = hexval(tok[0][2 * i + 1]);

            if (h < 0 || l < 0) {
                snprintf(why, whylen, "bad hex instruction");
                return -1;
            }
            b[i] = (uint8_t) (h << 4 | l);
        }
        memcpy(&c->insns[c->ninsns++], b, sizeof b);
        return 0;
    }
    if (ntok == 5) {
        int64_t f[5];
        char code[24];

        /* The code is hex with or without 0x. */
        snprintf(code, sizeof code, "%s%s",
                 strncmp(tok[0], "0x", 2) ? "0x" : "", tok[0]);
        if (parse_int(code, 0, 255, 255, &f[0])
            || parse_int(tok[1], 0, 15, 15, &f[1])
            || parse_int(tok[2], 0, 15, 15, &f[2])
            || parse_int(tok[3], INT16_MIN, INT16_MAX, UINT16_MAX, &f[3])
            || parse_int(tok[4], INT32_MIN, INT32_MAX, UINT32_MAX, &f[4])) {
            snprintf(why, whylen, "bad field");
            return -1;
        }
        c->insns[c->ninsns++] = (struct bpf_inst) {
            .code = (uint8_t) f[0], .dst = (uint8_t) f[1],
            .src = (uint8_t) f[2], .off = (int16_t) (uint16_t) f[3],
            .imm = (int32_t) (uint32_t) f[4],
        };
        return 0;
    }
    snprintf(why, whylen, "expected 'code dst src off imm', 16 hex digits "
             "or 'lddw dst imm64'");
    return -1;
}

/* Reads path into *c.  Returns 0, or -1 with a reason in why. */
static int
parse_file(const char *path, struct vm_case *c, char *why, size_t whylen)
{
    enum { NONE, RAW, MEM, RESULT, ERROR } sect = NONE;
    char line[1024];
    unsigned lineno = 0;
    bool has_raw = false;
    FILE *f;
    int ret = -1;

    memset(c, 0, sizeof *c);
    f = fopen(path, "r");
    if (!f) {
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *p = line, *e;
        char reason[128];

        lineno++;
        line[strcspn(line, "#")] = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        while (isspace((unsigned char) *p)) {
            p++;
        }
        e = p + strlen(p);
        while (e > p && isspace((unsigned char) e[-1])) {
            *--e = '\0';
        }
        if (!*p) {
            continue;
        }
        if (!strncmp(p, "--", 2)) {
            const char *name = p + 2;

            while (isspace((unsigned char) *name)) {
                name++;
            }
            if (!strcmp(name, "raw")) {
                sect = RAW;
                has_raw = true;
            } else if (!strcmp(name, "mem")) {
                sect = MEM;
                c->has_mem = true;
            } else if (!strcmp(name, "result")) {
                sect = RESULT;
            } else if (!strcmp(name, "error")) {
                sect = ERROR;
            } else {
                snprintf(why, whylen, "line %u: unknown section '%s'",
                         lineno, name);
                goto out;
            }
            continue;
        }
        switch (sect) {
        case NONE:
            snprintf(why, whylen, "line %u: text before a section", lineno);
            goto out;
        case RAW:
            if (parse_insn_line(c, p, reason, sizeof reason)) {
                snprintf(why, whylen, "line %u: %s", lineno, reason);
                goto out;
            }
            break;
        case MEM:
            while (*p) {
                int h, l;

                if (isspace((unsigned char) *p)) {
                    p++;
                    continue;
                }
                h = hexval(p[0]);
                l = p[1] ? hexval(p[1]) : -1;
                if (h < 0 || l < 0 || c->memlen >= MAX_MEM) {
                    snprintf(why, whylen, "line %u: bad memory byte",
                             lineno);
                    goto out;
                }
                c->mem[c->memlen++] = (uint8_t) (h << 4 | l);
                p += 2;
            }
            break;
        case RESULT: {
            int64_t v;

            if (c->has_result
                || parse_int(p, INT64_MIN, INT64_MAX, UINT64_MAX, &v)) {
                snprintf(why, whylen, "line %u: bad result", lineno);
                goto out;
            }
            c->has_result = true;
            c->result = (uint64_t) v;
            break;
        }
        case ERROR:
            if (c->error[0]) {
                snprintf(why, whylen, "line %u: one error line only",
                         lineno);
                goto out;
            }
            if (strlen(p) >= sizeof c->error) {
                snprintf(why, whylen, "line %u: error pattern too long",
                         lineno);
                goto out;
            }
            memcpy(c->error, p, strlen(p) + 1);
            break;
        }
    }
    if (!has_raw || c->ninsns == 0) {
        snprintf(why, whylen, "no program (-- raw)");
    } else if (c->has_result == !!c->error[0]) {
        snprintf(why, whylen, "needs exactly one of -- result and -- error");
    } else {
        ret = 0;
    }
out:
    fclose(f);
    return ret;
}

/* Runs a parsed case in one variant.  Returns 0 or -1 with why. */
static int
run_case(const struct vm_case *c, unsigned flags, char *why, size_t whylen)
{
    const char *mode = flags ? "checked" : "fast";
    struct bpf_prog *prog;
    struct bpf_vm *vm;
    uint8_t *mem = NULL;
    char err[256];
    uint64_t r0 = 0;
    int ret = -1, rc;

    err[0] = '\0';
    prog = bpf_prog_load_raw(c->insns, c->ninsns, err, sizeof err);
    if (!prog) {
        snprintf(why, whylen, "%s: load failed: %s", mode, err);
        return -1;
    }
    vm = bpf_vm_create(prog, NULL, flags, err, sizeof err);
    if (!vm) {
        if (c->error[0] && strstr(err, c->error)) {
            ret = 0;
        } else {
            snprintf(why, whylen, "%s: bpf_vm_create: %s", mode, err);
        }
        goto out_prog;
    }
    if (c->error[0] && !flags) {
        /* A run-time fault is only defined with bounds checks. */
        ret = 0;
        goto out_vm;
    }
    if (c->has_mem) {
        mem = malloc(c->memlen ? c->memlen : 1);
        if (!mem) {
            snprintf(why, whylen, "out of memory");
            goto out_vm;
        }
        memcpy(mem, c->mem, c->memlen);
    }
    rc = bpf_vm_exec(vm, mem, c->memlen, &r0, err, sizeof err);
    if (c->error[0]) {
        if (rc == 0) {
            snprintf(why, whylen, "%s: expected error '%s', got r0 = 0x%"
                     PRIx64, mode, c->error, r0);
        } else if (!strstr(err, c->error)) {
            snprintf(why, whylen, "%s: expected error '%s', got '%s'", mode,
                     c->error, err);
        } else {
            ret = 0;
        }
    } else if (rc) {
        snprintf(why, whylen, "%s: unexpected error: %s", mode, err);
    } else if (r0 != c->result) {
        snprintf(why, whylen, "%s: r0 = 0x%" PRIx64 ", expected 0x%" PRIx64,
                 mode, r0, c->result);
    } else {
        ret = 0;
    }
    free(mem);
out_vm:
    bpf_vm_destroy(vm);
out_prog:
    bpf_prog_free(prog);
    return ret;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
test_data_files(void)
{
    const char *dir = getenv("OKO_VM_TESTS");
    char **names = NULL;
    size_t nnames = 0, cap = 0, i, failed = 0;
    struct vm_case *c;
    struct dirent *de;
    DIR *d;

    if (!dir) {
        dir = TOP_SRCDIR "/tests/vm";
    }
    d = opendir(dir);
    if (!d) {
        fprintf(stderr, "\n%s: %s\n", dir, strerror(errno));
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);

        if (len > 5 && !strcmp(de->d_name + len - 5, ".data")) {
            if (nnames == cap) {
                char **n;

                cap = cap ? 2 * cap : 64;
                n = realloc(names, cap * sizeof *names);
                CU_ASSERT_PTR_NOT_NULL_FATAL(n);
                names = n;
            }
            names[nnames] = strdup(de->d_name);
            CU_ASSERT_PTR_NOT_NULL_FATAL(names[nnames]);
            nnames++;
        }
    }
    closedir(d);
    if (nnames) {
        qsort(names, nnames, sizeof *names, cmp_names);
    }

    c = malloc(sizeof *c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    for (i = 0; i < nnames; i++) {
        char path[4096], why[1024];
        int m;

        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (parse_file(path, c, why, sizeof why)) {
            fprintf(stderr, "\n  FAIL %s: %s", names[i], why);
            failed++;
            continue;
        }
        for (m = 0; m < 2; m++) {
            if (run_case(c, m ? BPF_VM_BOUNDS_CHECK : 0, why, sizeof why)) {
                fprintf(stderr, "\n  FAIL %s: %s", names[i], why);
                failed++;
                break;
            }
        }
    }
    printf("(%zu files, %zu failed) ", nnames, failed);
    if (nnames < MIN_DATA_FILES) {
        fprintf(stderr, "\nonly %zu data files in %s (at least %d "
                "expected)\n", nnames, dir, MIN_DATA_FILES);
    }
    CU_ASSERT(nnames >= MIN_DATA_FILES);
    CU_ASSERT_EQUAL(failed, 0);
    for (i = 0; i < nnames; i++) {
        free(names[i]);
    }
    free(names);
    free(c);
}

/* The parser itself: malformed files are reported, not run. */
static void
test_parser(void)
{
    static const struct {
        const char *text;
        bool ok;
    } cases[] = {
        { "-- raw\n0xb7 0 0 0 7\n0x95 0 0 0 0\n-- result\n7\n", true },
        { "-- raw\nb700000007000000\n9500000000000000\n-- result\n0x7\n",
          true },
        { "-- raw\nlddw 0 -1\n95 0 0 0 0\n-- result\n0xffffffffffffffff\n",
          true },
        { "-- raw\n95 0 0 0 0\n-- error\nfoo # bar\n", true },
        { "-- raw\n0xb7 0 0 0\n-- result\n7\n", false },
        { "-- raw\n0xb7 16 0 0 0\n-- result\n7\n", false },
        { "-- raw\n0xb7 0 0 0 0x100000000\n-- result\n7\n", false },
        { "-- raw\n0x95 0 0 0 0\n", false },
        { "-- raw\n0x95 0 0 0 0\n-- result\n1\n-- error\nx\n", false },
        { "-- mem\n0\n", false },
        { "0x95 0 0 0 0\n", false },
        { "-- raw\n0x95 0 0 0 0\n-- mem\nzz\n-- result\n0\n", false },
    };
    struct vm_case *c = malloc(sizeof *c);
    char path[] = "/tmp/oko-vmdata-XXXXXX";
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char why[256];
        int fd = mkstemp(path);
        FILE *f;
        int ret;

        CU_ASSERT_FATAL(fd >= 0);
        f = fdopen(fd, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs(cases[i].text, f);
        fclose(f);
        ret = parse_file(path, c, why, sizeof why);
        if ((ret == 0) != cases[i].ok) {
            fprintf(stderr, "\nparser case %zu: %s\n", i,
                    ret ? why : "accepted");
        }
        CU_ASSERT_EQUAL(ret == 0, cases[i].ok);
        if (i == 3 && ret == 0) {
            CU_ASSERT_STRING_EQUAL(c->error, "foo");
        }
        unlink(path);
        strcpy(path, "/tmp/oko-vmdata-XXXXXX");
    }
    free(c);
}

static const struct cu_test tests[] = {
    { "data file parser", test_parser },
    { "tests/vm data files in both interpreter variants", test_data_files },
    { NULL, NULL },
};

CU_MAIN("vmdata", tests)
