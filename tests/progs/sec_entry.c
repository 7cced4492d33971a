/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * sec_entry.c -- loader test program: the global `entry` is in the section
 * `filter`, after a non-empty .text that holds another global function.
 * With no section named, the loader must pick `filter` (the section of
 * `entry`), not the first executable section.
 */
#include <oko_helpers.h>

/* In .text, which comes first; never the program. */
__attribute__((noinline)) oko_u64
not_the_entry(void *pkt, oko_u64 len)
{
    (void) pkt;
    return len + 40;
}

__attribute__((section("filter"))) oko_u64
entry(void *pkt, oko_u64 len)
{
    (void) pkt;
    return len == 16 ? 7 : 3;
}
