/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * heavy-hitter.c -- find the heavy hitters with a count-min sketch.
 *
 * What it does: counts the IPv4 packets of every source in a count-min
 * sketch (4 rows of 1024 counters: a fixed 16 KiB whatever the number of
 * sources) and matches the packets of sources whose estimated count is
 * above HH_THRESHOLD.  The estimate never undercounts; it may overcount
 * when sources collide in every row, which the 4 independent rows make
 * rare.  Because a sketch cannot list its keys, the sources found heavy are
 * also recorded in the `hitters` hash map, with the number of their packets
 * that matched, so the controller can read them.  Counts grow until the
 * controller clears the maps (`oko-tool map clear`): clearing them
 * periodically turns the threshold into a rate.
 *
 * Maps:
 *   sketch   count-min sketch, element u32 IPv4 source (network order),
 *            4 hash functions (rows) x 1024 columns of u32 counters.
 *   hitters  hash, key u32 IPv4 source (network order), value u64 packets
 *            of that source that matched (those above the threshold),
 *            1024 entries.
 *
 * Verdict: returns 1 (the flow matches; with actions=drop the packet is
 * dropped, with a meter or a queue it is policed) for IPv4 packets whose
 * source's estimate exceeds HH_THRESHOLD, counting this packet; 0 for
 * everything else.
 */
#include "oko_helpers.h"
#include "oko_net.h"

#define HH_THRESHOLD 100

OKO_MAP(sketch, OKO_MAP_CMS, sizeof(oko_u32), sizeof(oko_u32), 1024, 4);
OKO_MAP(hitters, OKO_MAP_HASH, sizeof(oko_u32), sizeof(oko_u64), 1024, 0);

/* The program: pkt is the Ethernet frame, len its length in bytes.
 * Counts the frame's IPv4 source; returns 1 if it is a heavy hitter. */
oko_u64
entry(void *pkt, oko_u64 len)
{
    struct oko_ipv4_info info;
    oko_u32 *estimate;
    oko_u64 *n;
    oko_u32 saddr;

    if (!oko_parse_ipv4(pkt, len, &info)) {
        return 0;
    }
    saddr = info.ip->saddr;
    oko_map_add(&sketch, &saddr);
    estimate = oko_map_lookup(&sketch, &saddr);
    if (!estimate || *estimate <= HH_THRESHOLD) {
        return 0;
    }

    n = oko_map_lookup(&hitters, &saddr);
    if (n) {
        __sync_fetch_and_add(n, 1);
    } else {
        oko_u64 one = 1;

        oko_map_update(&hitters, &saddr, &one);
    }
    return 1;
}
