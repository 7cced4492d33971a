/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * bloom-blocklist.c -- block SYN flooders with a Bloom filter.
 *
 * What it does: counts, per IPv4 source, the TCP SYNs (SYN set, ACK clear)
 * it sends in a window of SYN_WINDOW_NS.  A source that reaches
 * SYN_THRESHOLD SYNs within one window is inserted into the `blocked` Bloom
 * filter and its counter is deleted; from then on every packet from that
 * source matches, whatever its protocol.  The Bloom filter answers "maybe
 * present" for a small fraction of other sources too (false positives:
 * about 0.5% with 8192 bits, 3 hash functions and 500 blocked sources);
 * elements cannot be removed one by one, so the controller clears the
 * whole filter (`oko-tool map clear`) to forgive.  Sources below the
 * threshold -- clients opening a few connections -- are never blocked,
 * and a new window starts their count afresh.
 *
 * Maps:
 *   blocked     Bloom filter, element u32 IPv4 source (network order),
 *               8192 bits, 3 hash functions.
 *   syn_counts  hash, key u32 IPv4 source (network order), value
 *               struct syn_count (16 bytes, little-endian):
 *                 u32 syns          SYNs in the current window
 *                 u32 pad
 *                 u64 window_start  oko_time_get_ns() at the window start
 *               16384 entries.
 *
 * Verdict: returns 1 (the flow matches; with actions=drop the packet is
 * dropped) for every IPv4 packet whose source is in the Bloom filter,
 * including the SYN that crossed the threshold; 0 for everything else.
 */
#include "oko_helpers.h"
#include "oko_net.h"

#define SYN_THRESHOLD 10
#define SYN_WINDOW_NS 1000000000ull     /* 1 s */

struct syn_count {
    oko_u32 syns;
    oko_u32 pad;
    oko_u64 window_start;
};

OKO_MAP(blocked, OKO_MAP_BLOOM, sizeof(oko_u32), sizeof(oko_u32), 8192, 3);
OKO_MAP(syn_counts, OKO_MAP_HASH, sizeof(oko_u32), sizeof(struct syn_count),
        16384, 0);

/* The program: pkt is the Ethernet frame, len its length in bytes.
 * Returns 1 if the frame comes from a blocked IPv4 source (see above). */
oko_u64
entry(void *pkt, oko_u64 len)
{
    const oko_u8 *end = (const oko_u8 *) pkt + len;
    struct oko_ipv4_info info;
    const struct oko_tcphdr *th;
    struct syn_count *sc;
    oko_u32 saddr;
    oko_u64 now;

    if (!oko_parse_ipv4(pkt, len, &info)) {
        return 0;
    }
    saddr = info.ip->saddr;
    if (oko_map_lookup(&blocked, &saddr)) {
        return 1;
    }

    if (info.proto != OKO_IPPROTO_TCP || info.frag != 0) {
        return 0;
    }
    th = (const struct oko_tcphdr *) ((const oko_u8 *) pkt + info.l4off);
    if ((const oko_u8 *) (th + 1) > end) {
        return 0;
    }
    if ((th->flags & (OKO_TCP_SYN | OKO_TCP_ACK)) != OKO_TCP_SYN) {
        return 0;
    }

    now = oko_time_get_ns();
    sc = oko_map_lookup(&syn_counts, &saddr);
    if (!sc) {
        struct syn_count first;

        __builtin_memset(&first, 0, sizeof first);
        first.syns = 1;
        first.window_start = now;
        oko_map_update(&syn_counts, &saddr, &first);
        return 0;
    }
    if (now - sc->window_start > SYN_WINDOW_NS) {
        /* A new window.  Racing instances may both reset: harmless. */
        sc->window_start = now;
        sc->syns = 1;
        return 0;
    }
    /* No fetch-and-add result: -mcpu=v1/v2 have no atomic fetch.  Two
     * instances may both see the threshold crossed and both insert the
     * source, which is idempotent. */
    __sync_fetch_and_add(&sc->syns, 1);
    if (sc->syns < SYN_THRESHOLD) {
        return 0;
    }
    oko_map_add(&blocked, &saddr);
    oko_map_delete(&syn_counts, &saddr);
    return 1;
}
