/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_btf.c -- libFuzzer target for the BTF parser (bpf/btf.c).  The
 * input is the content of a .BTF section.  The parser must refuse it with
 * a message or accept it; on an accepted BTF every accessor (kinds, names,
 * resolution, sizes, formatting of a zeroed value of every type, libbpf
 * map definitions of the .maps DATASEC) must stay in bounds and end.
 *
 * Build and run: make tests/fuzz/fuzz_btf && tests/fuzz/fuzz_btf
 * (seeds: the .BTF sections of objects built from tests/progs/xdp_*.c,
 * e.g. llvm-objcopy --dump-section .BTF=seed xdp_counter.o).
 */
#include "bpf_priv.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs one input through the parser and, if accepted, every accessor. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t zeros[1024];
    struct bpf_btf_map def;
    struct bpf_btf *btf;
    uint32_t id, n, sec, i, var;
    char err[256], buf[256];

    err[0] = '\0';
    btf = bpf_btf_parse(data, size, err, sizeof err);
    if (!btf) {
        if (!err[0]) {
            fprintf(stderr, "BTF refused without a message\n");
            abort();
        }
        return 0;
    }
    n = bpf_btf_ntypes(btf);
    for (id = 0; id < n && id < 4096; id++) {
        uint64_t sz;
        uint32_t r;

        bpf_btf_kind(btf, id);
        bpf_btf_name(btf, id);
        bpf_btf_resolve(btf, id, &r);
        bpf_btf_type_name(btf, id, buf, sizeof buf);
        if (bpf_btf_size(btf, id, &sz) == 0 && sz <= sizeof zeros) {
            bpf_btf_format(btf, id, zeros, (size_t) sz, buf, sizeof buf);
        }
    }
    sec = bpf_btf_find_datasec(btf, ".maps");
    for (i = 0; i < bpf_btf_datasec_var(btf, sec, 0, NULL); i++) {
        bpf_btf_datasec_var(btf, sec, i, &var);
        bpf_btf_map_def(btf, var, &def, err, sizeof err);
    }
    bpf_btf_free(btf);
    return 0;
}
