/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * rate-limiter.c -- per-source IPv4 packet rate limiter (token bucket).
 *
 * What it does: every IPv4 source address gets a token bucket that holds
 * at most RL_BURST packets and refills at RL_RATE packets per second.  A
 * packet that finds a token takes it and passes; a packet that finds the
 * bucket empty matches.  Tokens are kept in nanoseconds of credit
 * (RL_NS_PER_PKT = one packet), so refilling needs no division: credit
 * grows by the time elapsed since the source's last packet, capped at
 * RL_BURST packets' worth.  A new source starts with a full bucket.
 *
 * With the defaults (10 packets/s, burst 8) a source sending a fast burst
 * gets its first 8 packets through and the rest matched, then one more
 * packet every 100 ms.  Sources are forgotten only when the controller
 * deletes them; when the map is full, new sources are not limited (the
 * insert fails and the packet passes), which is the fail-open choice.
 *
 * Concurrency: several instances of the program may update one bucket at
 * once.  The read-modify-write of the credit is not atomic, so a race can
 * let one extra packet through or drop one too many; the counters are
 * updated atomically and stay exact.
 *
 * Maps:
 *   buckets  hash, key u32 IPv4 source (network byte order), value
 *            struct bucket (24 bytes, little-endian):
 *              u32 passed      packets that took a token
 *              u32 limited     packets that matched (over the limit)
 *              u64 credit_ns   credit left, RL_NS_PER_PKT per packet
 *              u64 last_ns     oko_time_get_ns() of the last refill
 *            65536 entries.
 *
 * Verdict: returns 1 (the flow matches; with actions=drop the packet is
 * dropped) for IPv4 packets whose source is over its rate; 0 for packets
 * within the rate and for everything that is not IPv4.
 */
#include "oko_helpers.h"
#include "oko_net.h"

#define RL_RATE       10                        /* packets per second */
#define RL_BURST      8                         /* bucket depth, packets */
#define RL_NS_PER_PKT (1000000000ull / RL_RATE)
#define RL_MAX_CREDIT (RL_BURST * RL_NS_PER_PKT)

struct bucket {
    oko_u32 passed;
    oko_u32 limited;
    oko_u64 credit_ns;
    oko_u64 last_ns;
};

OKO_MAP(buckets, OKO_MAP_HASH, sizeof(oko_u32), sizeof(struct bucket),
        65536, 0);

/* The program: pkt is the Ethernet frame, len its length in bytes.
 * Returns 1 if the frame's IPv4 source is over its rate (see above). */
oko_u64
entry(void *pkt, oko_u64 len)
{
    struct oko_ipv4_info info;
    struct bucket *b;
    oko_u64 now, credit;
    oko_u32 saddr;

    if (!oko_parse_ipv4(pkt, len, &info)) {
        return 0;
    }
    saddr = info.ip->saddr;
    now = oko_time_get_ns();

    b = oko_map_lookup(&buckets, &saddr);
    if (!b) {
        struct bucket nb;

        /* First packet of this source: a full bucket minus this packet. */
        __builtin_memset(&nb, 0, sizeof nb);
        nb.passed = 1;
        nb.credit_ns = RL_MAX_CREDIT - RL_NS_PER_PKT;
        nb.last_ns = now;
        oko_map_update(&buckets, &saddr, &nb);
        return 0;
    }

    /* Refill.  The clock is monotonic, but another instance may have
     * stored a later time than ours: never let credit go backwards. */
    credit = b->credit_ns;
    if (now > b->last_ns) {
        oko_u64 elapsed = now - b->last_ns;

        if (elapsed >= RL_MAX_CREDIT) {
            credit = RL_MAX_CREDIT;
        } else {
            credit += elapsed;
            if (credit > RL_MAX_CREDIT) {
                credit = RL_MAX_CREDIT;
            }
        }
        b->last_ns = now;
    }

    if (credit >= RL_NS_PER_PKT) {
        b->credit_ns = credit - RL_NS_PER_PKT;
        __sync_fetch_and_add(&b->passed, 1);
        return 0;
    }
    b->credit_ns = credit;
    __sync_fetch_and_add(&b->limited, 1);
    return 1;
}
