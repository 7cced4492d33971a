/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * maps_two.c -- loader test program: two maps in the `maps` section, a
 * static map in `.data`, lookups through helpers called by id and by name.
 *
 * The loader must give the maps ids 0 and 1 (section `maps`, by offset)
 * and 2 (`.data`), and rewrite each lddw to the right map index: the two
 * maps of `maps` share a section symbol in some objects, so the addend
 * must be honoured.
 */
#include <oko_helpers.h>

OKO_MAP(counters, OKO_MAP_ARRAY, 4, 8, 16, 0);
OKO_MAP(flows, OKO_MAP_HASH, 8, 4, 1024, 0);

/* A static map in .data: named by its local symbol. */
static struct oko_map_def seen __attribute__((used)) = {
    .type = OKO_MAP_BLOOM, .key_size = 4, .value_size = 4,
    .max_entries = 4096, .nb_hash_functions = 3,
};

/* The prototype's helper names, called by name through a relocation. */
extern void *ubpf_map_lookup(void *map, const void *key);
extern int ubpf_map_add(void *map, const void *elem);

oko_u64
entry(void *pkt, oko_u64 len)
{
    oko_u32 idx = len & 15;
    oko_u64 key = len;
    oko_u64 *count;
    oko_u32 *val;

    count = oko_map_lookup(&counters, &idx);
    if (count) {
        __sync_fetch_and_add(count, 1);
    }
    val = ubpf_map_lookup(&flows, &key);
    if (val) {
        return *val == 7;
    }
    ubpf_map_add(&seen, &idx);
    return 0;
}
