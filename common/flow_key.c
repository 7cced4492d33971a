/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * flow_key.c -- hashing and masked comparison of flow keys, and the
 * relations between flows that the classifier's add, delete and modify
 * use.
 *
 * Keys are handled as OKO_FLOW_KEY_WORDS 64-bit words (struct oko_flow_key
 * is 8-byte aligned and has no implicit padding).  Words are loaded with
 * memcpy, which compilers turn into plain loads without breaking the
 * aliasing rules.
 */
#include "oko_flow.h"
#include "flow_priv.h"

#include <string.h>

_Static_assert(sizeof(struct oko_flow_key) == 88,
               "struct oko_flow_key must keep its fixed layout");
_Static_assert(sizeof(struct oko_flow_key) % 8 == 0,
               "struct oko_flow_key must be a whole number of words");
_Static_assert(offsetof(struct oko_flow_key, ipv6_src) == 56,
               "struct oko_flow_key has implicit padding");

static inline uint64_t
word(const struct oko_flow_key *k, size_t i)
{
    uint64_t w;

    memcpy(&w, (const uint8_t *) k + i * 8, 8);
    return w;
}

/* Returns a 32-bit hash of every word of key, seeded with basis.  Declared
 * and documented in oko_flow.h. */
uint32_t
oko_flow_key_hash(const struct oko_flow_key *key, uint32_t basis)
{
    uint64_t h = (uint64_t) basis * UINT64_C(0x9e3779b97f4a7c15);
    unsigned int i;

    for (i = 0; i < OKO_FLOW_KEY_WORDS; i++) {
        h += flow_hash_word(word(key, i), i);
    }
    return flow_hash_fold(h);
}

/* Returns a 32-bit hash of key & mask, seeded with basis: equal for two
 * keys that are equal under mask.  Declared and documented in oko_flow.h. */
uint32_t
oko_flow_key_hash_masked(const struct oko_flow_key *key,
                         const struct oko_flow_key *mask, uint32_t basis)
{
    uint64_t h = (uint64_t) basis * UINT64_C(0x9e3779b97f4a7c15);
    unsigned int i;

    for (i = 0; i < OKO_FLOW_KEY_WORDS; i++) {
        h += flow_hash_word(word(key, i) & word(mask, i), i);
    }
    return flow_hash_fold(h);
}

/* Returns true if key, under mask, equals match (which must already be
 * masked).  Declared and documented in oko_flow.h. */
bool
oko_flow_key_match(const struct oko_flow_key *key,
                   const struct oko_flow_key *match,
                   const struct oko_flow_key *mask)
{
    uint64_t diff = 0;
    size_t i;

    for (i = 0; i < OKO_FLOW_KEY_WORDS; i++) {
        diff |= (word(key, i) & word(mask, i)) ^ word(match, i);
    }
    return diff == 0;
}

/* Returns true if a and b have the same match: table, priority, mask,
 * masked key and filter_prog (the identity of a flow in OpenFlow's add and
 * strict delete).  Declared and documented in oko_flow.h. */
bool
oko_flow_same_match(const struct oko_flow *a, const struct oko_flow *b)
{
    return a->table == b->table && a->priority == b->priority
           && a->filter_prog == b->filter_prog
           && !memcmp(&a->mask, &b->mask, sizeof a->mask)
           && !memcmp(&a->key, &b->key, sizeof a->key);
}

/* Returns true if flow falls under the non-strict selector sel (as an
 * OpenFlow non-strict delete or modify): sel's table is flow's or
 * OKO_TABLE_ALL, flow's mask covers sel's mask, flow's key equals sel's key
 * under sel's mask, the cookies are equal under sel->cookie_mask, and
 * sel->filter_prog is 0 or equal to flow's.  Declared and documented in
 * oko_flow.h. */
bool
oko_flow_covered_by(const struct oko_flow *flow, const struct oko_flow *sel)
{
    size_t i;

    if (sel->table != OKO_TABLE_ALL && sel->table != flow->table) {
        return false;
    }
    if ((flow->cookie ^ sel->cookie) & sel->cookie_mask) {
        return false;
    }
    if (sel->filter_prog && sel->filter_prog != flow->filter_prog) {
        return false;
    }
    for (i = 0; i < OKO_FLOW_KEY_WORDS; i++) {
        uint64_t sm = word(&sel->mask, i);

        /* flow must be at least as specific as sel ... */
        if (sm & ~word(&flow->mask, i)) {
            return false;
        }
        /* ... and agree with sel on sel's bits. */
        if ((word(&flow->key, i) ^ word(&sel->key, i)) & sm) {
            return false;
        }
    }
    return true;
}

/* Returns true if flow (a complete flow) matches the packet key, ignoring
 * its filter program.  Declared and documented in oko_flow.h. */
bool
oko_flow_matches_key(const struct oko_flow *flow,
                     const struct oko_flow_key *key)
{
    return oko_flow_key_match(key, &flow->key, &flow->mask);
}
