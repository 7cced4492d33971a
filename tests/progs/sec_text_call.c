/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * sec_text_call.c -- loader test program: the global `entry` in the
 * section `filter` calls a static noinline function, which clang places in
 * .text.  The loader must pick `filter`, append .text after it and point
 * the call at the appended copy.  A second program section, `filter2`,
 * calls the same function (selected with the section option).
 */
#include <oko_helpers.h>

static __attribute__((noinline)) oko_u64
twice(oko_u64 x)
{
    return x * 2;
}

__attribute__((section("filter"))) oko_u64
entry(void *pkt, oko_u64 len)
{
    (void) pkt;
    return twice(len) + 1;
}

__attribute__((section("filter2"))) oko_u64
other_entry(void *pkt, oko_u64 len)
{
    (void) pkt;
    return twice(len) + 100;
}
