/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * loop_bounded.c -- loader test program: a loop the compiler keeps (no
 * unrolling), bounded by a constant, over the first bytes of the frame.
 * The program is in a named section (`filter`), so clang emits an empty
 * `.text` that the loader must skip.
 */
#include <oko_helpers.h>

#define SCAN_BYTES 32

__attribute__((section("filter"))) oko_u64
entry(void *pkt, oko_u64 len)
{
    const oko_u8 *p = pkt;
    oko_u32 zeros = 0;

    if (len < SCAN_BYTES) {
        return 0;
    }
#pragma clang loop unroll(disable)
    for (oko_u32 i = 0; i < SCAN_BYTES; i++) {
        zeros += p[i] == 0;
    }
    return zeros > 8;
}
