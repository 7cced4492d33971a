/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * bpf2bpf.c -- loader test program: BPF-to-BPF calls.  entry is not the
 * first function of .text, so the loader must find it by its symbol; the
 * subprograms are one global and one static function, both noinline.
 */
#include <oko_helpers.h>

/* A global subprogram, placed before entry in .text. */
__attribute__((noinline)) oko_u64
sum_bytes(const oko_u8 *p, oko_u64 n)
{
    oko_u64 s = 0;

    if (n > 4) {
        n = 4;
    }
    for (oko_u64 i = 0; i < n && i < 4; i++) {
        s += p[i];
    }
    return s;
}

/* A static subprogram. */
static __attribute__((noinline)) oko_u64
is_ipv4(const oko_u8 *pkt, oko_u64 len)
{
    if (len < 14) {
        return 0;
    }
    return pkt[12] == 0x08 && pkt[13] == 0x00;
}

oko_u64
entry(void *pkt, oko_u64 len)
{
    if (!is_ipv4(pkt, len)) {
        return 0;
    }
    return sum_bytes(pkt, len) > 100;
}
