/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_vm.c -- libFuzzer target for the verifier: a verified program must
 * never fault.
 *
 * The input is raw instructions (8 bytes each).  If its length is not a
 * multiple of 8, the first byte is a control byte that chooses the packet
 * contents.  The program is loaded with bpf_prog_load_raw() and verified in
 * BPF_VERIFY_FILTER mode; if the verifier accepts it, it runs in a VM on
 * packets of 0, 1, 14, 60 and 1514 bytes, each in a malloc'd buffer of
 * exactly that length, so that AddressSanitizer reports any access out of
 * the packet, and UBSan any undefined behaviour.  A verifier that accepts
 * an endless loop shows up as a libFuzzer timeout.  Every rejection must
 * carry a message naming the instruction.
 *
 * Seeds: tests/fuzz/corpus/vm (raw instruction files of small valid
 * programs).
 */
#include "bpf_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keeps one input well under libFuzzer's per-input timeout. */
#define FUZZ_MAX_STATES 30000

static const size_t pkt_lens[] = { 0, 1, 14, 60, 1514 };

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bpf_verify_opts opts = { .mode = BPF_VERIFY_FILTER,
                                    .max_states = FUZZ_MAX_STATES };
    struct bpf_verify_stats stats;
    struct bpf_inst *insns;
    struct bpf_prog *prog;
    struct bpf_vm *vm;
    uint8_t ctrl = 0;
    char err[256];
    size_t n, i;
    int ret;

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

    vm = bpf_vm_create(prog, NULL, 0, err, sizeof err);
    check(vm != NULL, "no VM for a verified program", err);
    for (i = 0; i < sizeof pkt_lens / sizeof pkt_lens[0]; i++) {
        uint8_t *pkt = malloc(pkt_lens[i]);

        if (!pkt && pkt_lens[i]) {
            break;
        }
        fill_packet(pkt, pkt_lens[i], ctrl);
        (void) bpf_vm_run(vm, pkt, pkt_lens[i]);
        free(pkt);
    }
    bpf_vm_destroy(vm);
    bpf_prog_free(prog);
    return 0;
}
