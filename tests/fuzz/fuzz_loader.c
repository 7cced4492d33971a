/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_loader.c -- libFuzzer target for the ELF loader.  The input is an
 * object as a controller would send it.  The loader must not crash, leak
 * or read out of bounds, must explain every refusal, and every program it
 * accepts must be consistent: relocated instructions refer to maps and
 * read-only data that exist, the entry and the function symbols are
 * instructions of the program.  A broken invariant aborts, which libFuzzer
 * reports as a crash with the input that caused it.
 *
 * Seeds: tests/fuzz/corpus/loader.
 */
#include "bpf_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "loader invariant broken: %s\n", what);
        abort();
    }
}

static void
check_prog(const struct bpf_prog *prog)
{
    size_t n, i, rolen;
    const struct bpf_inst *insns = bpf_prog_insns(prog, &n);

    bpf_prog_rodata(prog, &rolen);
    check(n > 0 && n <= BPF_MAX_INSNS, "instruction count");
    check(bpf_prog_entry(prog) < n, "entry inside the program");
    check(bpf_prog_nmaps(prog) <= BPF_MAX_MAPS, "map count");
    check(strlen(bpf_prog_section(prog)) < BPF_MAX_NAME, "section name");
    for (i = 0; i < bpf_prog_nmaps(prog); i++) {
        const struct bpf_map_desc *m = bpf_prog_map(prog, i);

        check(m && memchr(m->name, '\0', sizeof m->name) && m->name[0],
              "map name");
        check(bpf_map_def_check(&m->def, NULL, 0) == 0, "map definition");
    }
    for (i = 0; i < prog->nsyms; i++) {
        check(prog->syms[i].idx < n, "symbol inside the program");
        check(!i || prog->syms[i - 1].idx <= prog->syms[i].idx,
              "symbols sorted");
        check(bpf_prog_symbol_at(prog, prog->syms[i].idx) != NULL,
              "symbol lookup");
    }
    for (i = 0; i < n; i++) {
        if (insns[i].code == (BPF_CLS_LD | BPF_SIZE_DW | BPF_MODE_IMM)
            && i + 1 < n) {
            if (insns[i].src == BPF_PSEUDO_MAP_IDX) {
                check(insns[i].imm >= 0
                      && (size_t) insns[i].imm < bpf_prog_nmaps(prog),
                      "map index");
            } else if (insns[i].src == BPF_PSEUDO_RODATA) {
                check(insns[i].imm >= 0 && (size_t) insns[i].imm < rolen,
                      "read-only data offset");
            }
            i++;
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bpf_load_opts opts = { .section = NULL, .entry = NULL };
    struct bpf_prog *prog;
    char err[256];

    err[0] = '\0';
    errno = 0;
    prog = bpf_prog_load_elf(data, size, &opts, err, sizeof err);
    if (prog) {
        check_prog(prog);
        bpf_prog_free(prog);
    } else {
        check(errno != 0, "errno set on failure");
        check(err[0] != '\0', "message on failure");
    }
    return 0;
}
