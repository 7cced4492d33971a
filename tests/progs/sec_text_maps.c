/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * sec_text_maps.c -- loader test program: the global `entry` in the section
 * `filter` calls a static noinline function in .text that uses a map and a
 * helper.  The relocations of .text (map, helper) must be applied to the
 * copy the loader appends after `filter`.
 */
#include <oko_helpers.h>

OKO_MAP(hits, OKO_MAP_ARRAY, 4, 8, 4, 0);

static __attribute__((noinline)) oko_u64
count_hit(oko_u32 idx)
{
    oko_u64 *v = oko_map_lookup(&hits, &idx);

    if (!v) {
        return 0;
    }
    *v += 1;
    return *v;
}

__attribute__((section("filter"))) oko_u64
entry(void *pkt, oko_u64 len)
{
    (void) pkt;
    return count_hit(len & 3);
}
