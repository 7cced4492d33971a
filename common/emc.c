/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * emc.c -- the exact-match cache in front of the classifier.
 *
 * A packet's full key (and the table it is looked up in) determines its
 * chain, so the chain of a flow's second packet comes from here without
 * touching the subtables.  The cache is an array of sets of two entries,
 * indexed by the low bits of the key's hash; an entry stores the whole
 * key (a hit is an exact comparison, never a hash collision), the chain,
 * and the generation of the snapshot that computed it.  A lookup with a
 * newer generation does not match older entries: publishing a snapshot
 * invalidates the cache without touching it, and stale entries are the
 * first ones replaced.  Generations start at 1 (struct cls), so a zeroed
 * entry is empty.  No allocation after creation.
 */
#include "oko_flow.h"
#include "flow_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EMC_WAYS 2

struct emc_entry {
    uint64_t generation;        /* 0: empty */
    uint64_t stamp;             /* insertion order, for eviction */
    uint32_t hash;
    uint8_t table;
    uint8_t pad[3];
    struct oko_flow_key key;
    struct cls_chain chain;
};

struct cls_emc {
    uint32_t set_mask;
    uint32_t insert_inv_prob;   /* cache one miss in this many; 0: none */
    uint64_t rng;               /* xorshift state for insert_inv_prob */
    struct cls_emc_stats stats;
    struct emc_entry *entries;
};

/* Creates a cache of n_entries (a power of two >= 2) entries.  Declared and
 * documented in oko_flow.h. */
struct cls_emc *
cls_emc_create(uint32_t n_entries)
{
    struct cls_emc *emc;

    if (n_entries < EMC_WAYS || (n_entries & (n_entries - 1))) {
        errno = EINVAL;
        return NULL;
    }
    emc = calloc(1, sizeof *emc);
    if (!emc) {
        errno = ENOMEM;
        return NULL;
    }
    emc->entries = aligned_alloc(64, (size_t) n_entries
                                 * sizeof *emc->entries);
    if (!emc->entries) {
        free(emc);
        errno = ENOMEM;
        return NULL;
    }
    memset(emc->entries, 0, (size_t) n_entries * sizeof *emc->entries);
    emc->set_mask = n_entries / EMC_WAYS - 1;
    emc->insert_inv_prob = 1;
    emc->rng = UINT64_C(0x2545f4914f6cdd1d);
    return emc;
}

/* Frees emc.  Declared and documented in oko_flow.h. */
void
cls_emc_destroy(struct cls_emc *emc)
{
    if (emc) {
        free(emc->entries);
        free(emc);
    }
}

/* Makes cls_emc_classify() cache only about one miss in inv_prob (1, the
 * default: every miss; 0: none), as OVS does with emc-insert-inv-prob.
 * Declared and documented in oko_flow.h. */
void
cls_emc_set_insert_inv_prob(struct cls_emc *emc, uint32_t inv_prob)
{
    emc->insert_inv_prob = inv_prob;
}

/* Returns true if this miss should be cached. */
static inline bool
should_insert(struct cls_emc *emc)
{
    if (emc->insert_inv_prob <= 1) {
        return emc->insert_inv_prob == 1;
    }
    emc->rng ^= emc->rng << 13;
    emc->rng ^= emc->rng >> 7;
    emc->rng ^= emc->rng << 17;
    return emc->rng % emc->insert_inv_prob == 0;
}

/* Empties emc.  Declared and documented in oko_flow.h. */
void
cls_emc_flush(struct cls_emc *emc)
{
    memset(emc->entries, 0,
           ((size_t) emc->set_mask + 1) * EMC_WAYS * sizeof *emc->entries);
}

static inline bool
key_equal(const struct oko_flow_key *a, const struct oko_flow_key *b)
{
    uint64_t wa[OKO_FLOW_KEY_WORDS], wb[OKO_FLOW_KEY_WORDS], d = 0;
    size_t i;

    memcpy(wa, a, sizeof wa);
    memcpy(wb, b, sizeof wb);
    for (i = 0; i < OKO_FLOW_KEY_WORDS; i++) {
        d |= wa[i] ^ wb[i];
    }
    return d == 0;
}

/* Returns the cached chain of key (whose oko_flow_key_hash(key, 0) is hash)
 * in table for generation, or NULL on a miss.  Declared and documented in
 * oko_flow.h. */
const struct cls_chain *
cls_emc_lookup(struct cls_emc *emc, uint64_t generation, uint8_t table,
               const struct oko_flow_key *key, uint32_t hash)
{
    struct emc_entry *set = &emc->entries[(hash & emc->set_mask) * EMC_WAYS];
    unsigned int i;

    for (i = 0; i < EMC_WAYS; i++) {
        struct emc_entry *e = &set[i];

        if (e->hash == hash && e->generation == generation
            && e->table == table && key_equal(&e->key, key)) {
            emc->stats.hits++;
            return &e->chain;
        }
    }
    emc->stats.misses++;
    return NULL;
}

/* Caches chain as the result of key (whose oko_flow_key_hash(key, 0) is
 * hash) in table for generation, evicting a stale entry or the older of the
 * two candidates.  Declared and documented in oko_flow.h. */
void
cls_emc_insert(struct cls_emc *emc, uint64_t generation, uint8_t table,
               const struct oko_flow_key *key, uint32_t hash,
               const struct cls_chain *chain)
{
    struct emc_entry *set = &emc->entries[(hash & emc->set_mask) * EMC_WAYS];
    struct emc_entry *victim = NULL;
    unsigned int i;

    for (i = 0; i < EMC_WAYS; i++) {
        struct emc_entry *e = &set[i];

        if (e->generation != generation
            || (e->hash == hash && e->table == table
                && key_equal(&e->key, key))) {
            victim = e;         /* stale, empty, or the same key */
            break;
        }
        if (!victim || e->stamp < victim->stamp) {
            victim = e;
        }
    }
    victim->generation = generation;
    victim->stamp = ++emc->stats.inserts;
    victim->hash = hash;
    victim->table = table;
    victim->key = *key;
    victim->chain = *chain;
}

/* Returns emc's counters.  Declared and documented in oko_flow.h. */
void
cls_emc_get_stats(const struct cls_emc *emc, struct cls_emc_stats *st)
{
    *st = emc->stats;
}

/* Looks key up in emc and, on a miss, in snap (cls_lookup()), caching the
 * result.  Declared and documented in oko_flow.h. */
int
cls_emc_classify(struct cls_emc *emc, const struct cls_snapshot *snap,
                 uint8_t table, const struct oko_flow_key *key,
                 uint32_t hash, struct cls_chain *scratch,
                 const struct cls_chain **chain)
{
    uint64_t gen = cls_snapshot_generation(snap);
    const struct cls_chain *c = cls_emc_lookup(emc, gen, table, key, hash);
    int r;

    if (c) {
        *chain = c;
        return c->n_rules;
    }
    r = cls_lookup(snap, table, key, scratch);
    *chain = scratch;
    if (r >= 0 && should_insert(emc)) {
        cls_emc_insert(emc, gen, table, key, hash, scratch);
    }
    return r;
}
