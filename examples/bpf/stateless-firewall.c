/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * stateless-firewall.c -- drop IPv4 traffic to blacklisted destinations.
 *
 * What it does: for each IPv4 packet (untagged or behind one or two VLAN
 * tags) it looks the destination address up in the `blacklist` hash map,
 * which the controller fills at run time (`oko-tool map update`, or the
 * UPDATE_MAP OpenFlow message).  An entry's value is the rule's verdict:
 * non-zero blocks the destination, zero explicitly allows it.  When the
 * address has no entry, a small static rule set compiled into the program
 * applies: destinations in the documentation ranges of RFC 5737
 * (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), which never appear on a
 * real network, are blocked.  A zero-valued blacklist entry overrides the
 * static rules, so one map update punches a hole without recompiling.
 *
 * Maps:
 *   blacklist  hash,  key u32 IPv4 destination (network byte order),
 *              value u32 verdict (non-zero: block, 0: allow), 4096 entries.
 *   hits       hash,  key u32 IPv4 destination (network byte order),
 *              value u64 number of packets matched for it, 4096 entries.
 *   stats      array, 4 x u64: [0] IPv4 packets inspected, [1] matched by a
 *              blacklist entry, [2] matched by a static rule, [3] allowed by
 *              a zero-valued entry.
 *
 * Verdict: returns 1 (the flow matches; with actions=drop the packet is
 * dropped) for IPv4 packets to a blocked destination, 0 for everything
 * else (non-IPv4 frames, truncated headers, allowed destinations).
 */
#include "oko_helpers.h"
#include "oko_net.h"

OKO_MAP(blacklist, OKO_MAP_HASH, sizeof(oko_u32), sizeof(oko_u32), 4096, 0);
OKO_MAP(hits, OKO_MAP_HASH, sizeof(oko_u32), sizeof(oko_u64), 4096, 0);
OKO_MAP(stats, OKO_MAP_ARRAY, sizeof(oko_u32), sizeof(oko_u64), 4, 0);

enum {
    STAT_INSPECTED = 0,
    STAT_BLACKLIST = 1,
    STAT_STATIC = 2,
    STAT_ALLOWED = 3,
};

/* The static rules: prefixes (network order) and their masks. */
#define NET_TEST1 OKO_IPV4(192, 0, 2, 0)
#define NET_TEST2 OKO_IPV4(198, 51, 100, 0)
#define NET_TEST3 OKO_IPV4(203, 0, 113, 0)
#define MASK_24   OKO_IPV4(255, 255, 255, 0)

OKO_INLINE void
count_stat(oko_u32 idx)
{
    oko_u64 *v = oko_map_lookup(&stats, &idx);

    if (v) {
        __sync_fetch_and_add(v, 1);
    }
}

OKO_INLINE int
static_rules_block(oko_u32 daddr)
{
    oko_u32 net = daddr & MASK_24;

    return net == NET_TEST1 || net == NET_TEST2 || net == NET_TEST3;
}

/* Counts a match for daddr in `hits`, creating its entry on first use. */
OKO_INLINE void
count_hit(oko_u32 daddr)
{
    oko_u64 *n = oko_map_lookup(&hits, &daddr);

    if (n) {
        __sync_fetch_and_add(n, 1);
    } else {
        oko_u64 one = 1;

        /* Two instances racing here both insert 1: a lost count, never a
         * wrong verdict. */
        oko_map_update(&hits, &daddr, &one);
    }
}

/* The program: pkt is the Ethernet frame, len its length in bytes.
 * Returns 1 if the frame is IPv4 to a blocked destination (see above). */
oko_u64
entry(void *pkt, oko_u64 len)
{
    struct oko_ipv4_info info;
    oko_u32 daddr;
    oko_u32 *rule;

    if (!oko_parse_ipv4(pkt, len, &info)) {
        return 0;
    }
    daddr = info.ip->daddr;
    count_stat(STAT_INSPECTED);

    rule = oko_map_lookup(&blacklist, &daddr);
    if (rule) {
        if (*rule == 0) {
            count_stat(STAT_ALLOWED);
            return 0;
        }
        count_stat(STAT_BLACKLIST);
    } else if (static_rules_block(daddr)) {
        count_stat(STAT_STATIC);
    } else {
        return 0;
    }
    count_hit(daddr);
    return 1;
}
