/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * chains.c -- the filter-chain table oko-classifier publishes for its
 * flow-table generation (DESIGN.md section 3, common/oko_shm.h).
 *
 * A lookup returns the packet's chain as rule indexes (conditional rules,
 * then the final unconditional rule).  The first time a given result is
 * seen, it gets a chain id: its steps are the distinct programs of its
 * conditional rules, in order (a program that did not match the first
 * rule naming it would not match a later one either: it sees the same
 * packet), written to the shared table (memzone OKO_SHM_CHAIN_MZ, room
 * for OKO_SHM_MAX_CHAINS) and published by raising n_chains with a
 * release store: the filters read the steps, the classifier keeps which
 * rule each step's match selects.  Published chains never change; a new
 * flow table gets a new generation and table.
 *
 * The hand-off ring between two programs (OKO_SHM_FLT_IN_FLT_RING) is
 * created before a chain using that edge is published: for every ordered
 * pair of the programs the flow table uses when the generation is set up
 * (so that the filters find them when the generation changes), else when
 * a chain first needs it (the filter then finds it within a second; the
 * packets wait in the ring meanwhile).
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_memzone.h>
#include <rte_ring.h>

#include "clsp.h"

/* Slots of the chain-id hash index (power of two, twice the table). */
#define CHAIN_INDEX_SLOTS (2u * OKO_SHM_MAX_CHAINS)
/* Above this many programs, edges are made on demand only (n^2 rings). */
#define EDGES_EAGER_MAX_PROGS 8

/* Creates (or finds) the ring from program index a to program index b. */
static int
edge_make(struct clsp *c, unsigned int a, unsigned int b)
{
    char name[OKO_SHM_NAMESIZE];
    struct rte_ring *r;

    if (c->edges[a][b]) {
        return 0;
    }
    if (oko_shm_name(name, sizeof name, OKO_SHM_FLT_IN_FLT_RING,
                     c->progs[b].id, c->progs[a].id)) {
        return -ENAMETOOLONG;
    }
    r = rte_ring_lookup(name);
    if (!r) {
        r = rte_ring_create(name, c->ring_size, rte_socket_id(),
                            RING_F_SP_ENQ | RING_F_SC_DEQ);
    }
    if (!r) {
        oko_log(OKO_LOG_ERR, "cannot create hand-off ring %s: %s", name,
                rte_strerror(rte_errno));
        return -rte_errno;
    }
    c->edges[a][b] = true;
    return 0;
}

int
clsp_chains_init(struct clsp *c)
{
    const struct rte_memzone *mz = NULL;
    char name[OKO_SHM_NAMESIZE];
    size_t size = sizeof *c->ct
                  + (size_t) OKO_SHM_MAX_CHAINS * sizeof c->ct->chains[0];
    uint64_t gen = oko_shm_load(&c->reg->flow_generation) + 1;

    /* A table of a generation that a previous classifier published, and
     * that filters may still hold packets of, is never reused. */
    for (unsigned int tries = 0; !mz && tries < 64; tries++, gen++) {
        if (oko_shm_name(name, sizeof name, OKO_SHM_CHAIN_MZ,
                         (unsigned int) gen)) {
            return -ENAMETOOLONG;
        }
        if (rte_memzone_lookup(name)) {
            continue;
        }
        mz = rte_memzone_reserve_aligned(name, size, SOCKET_ID_ANY, 0,
                                         RTE_CACHE_LINE_SIZE);
        if (!mz) {
            oko_log(OKO_LOG_ERR, "cannot reserve memzone %s: %s", name,
                    rte_strerror(rte_errno));
            return -ENOMEM;
        }
    }
    if (!mz) {
        oko_log(OKO_LOG_ERR, "no free chain-table generation");
        return -EEXIST;
    }
    gen--;
    c->ct = mz->addr;
    memset(c->ct, 0, size);
    c->ct->generation = (uint32_t) gen;
    c->ct->n_chains = 1;
    c->generation = (uint32_t) gen;
    c->n_chains = 1;
    memset(c->chain_index, 0, CHAIN_INDEX_SLOTS * sizeof c->chain_index[0]);
    memset(c->edges, 0, sizeof c->edges);
    if (c->n_progs <= EDGES_EAGER_MAX_PROGS) {
        for (unsigned int a = 0; a < c->n_progs; a++) {
            for (unsigned int b = 0; b < c->n_progs; b++) {
                if (a != b && c->progs[a].sp && c->progs[b].sp
                    && edge_make(c, a, b)) {
                    return -ENOMEM;
                }
            }
        }
    }
    __atomic_store_n(&c->ct->magic, OKO_SHM_MAGIC, __ATOMIC_RELEASE);
    __atomic_store_n(&c->reg->flow_generation, gen, __ATOMIC_RELEASE);
    oko_log(OKO_LOG_INFO, "flow-table generation %u published (%s)",
            c->generation, name);
    return 0;
}

/* Hash of a lookup result: its rule indexes and miss flag. */
static inline uint32_t
chain_hash(const struct cls_chain *ch)
{
    return rte_hash_crc(ch->rules, ch->n_rules * sizeof ch->rules[0],
                        ch->n_rules | (uint32_t) ch->miss << 8);
}

static inline bool
chain_same(const struct cls_chain *a, const struct cls_chain *b)
{
    return a->n_rules == b->n_rules && a->miss == b->miss
           && !memcmp(a->rules, b->rules, a->n_rules * sizeof a->rules[0]);
}

/* Builds and publishes chain id for lookup result ch.  Returns 0 or a
 * negative errno. */
static int
chain_publish(struct clsp *c, uint32_t id, const struct cls_chain *ch,
              uint32_t hash)
{
    struct clsp_chain *lc = &c->chains[id];
    struct oko_shm_chain *sc = &c->ct->chains[id];
    unsigned int n_cond = ch->n_rules - (ch->miss ? 0 : 1);

    memset(lc, 0, sizeof *lc);
    lc->key = *ch;
    lc->hash = hash;
    lc->has_final = !ch->miss;
    lc->final_rule = ch->miss ? 0 : ch->rules[ch->n_rules - 1];
    for (unsigned int i = 0; i < n_cond; i++) {
        uint16_t p = c->rule_prog[ch->rules[i]];
        bool seen = false;

        for (unsigned int k = 0; k < lc->n_steps && !seen; k++) {
            seen = lc->step_prog[k] == p;
        }
        if (seen) {
            continue;
        }
        if (p == CLSP_NO_PROG || lc->n_steps == OKO_SHM_MAX_CHAIN) {
            return -E2BIG;
        }
        lc->step_prog[lc->n_steps] = p;
        lc->step_rule[lc->n_steps++] = ch->rules[i];
    }
    for (unsigned int k = 0; k + 1 < lc->n_steps; k++) {
        unsigned int a = lc->step_prog[k], b = lc->step_prog[k + 1];

        if (c->progs[a].sp && c->progs[b].sp && edge_make(c, a, b)) {
            return -ENOMEM;
        }
    }
    sc->n = lc->n_steps;
    for (unsigned int k = 0; k < lc->n_steps; k++) {
        sc->prog[k] = c->progs[lc->step_prog[k]].id;
    }
    __atomic_store_n(&c->ct->n_chains, id + 1, __ATOMIC_RELEASE);
    return 0;
}

uint32_t
clsp_chain_get(struct clsp *c, const struct cls_chain *ch)
{
    uint32_t hash = chain_hash(ch);
    uint32_t slot = hash & (CHAIN_INDEX_SLOTS - 1);
    static struct oko_ratelimit rl = OKO_RATELIMIT_INIT(5, 10000);
    uint32_t id;

    for (;;) {
        id = c->chain_index[slot];
        if (!id) {
            break;
        }
        if (c->chains[id].hash == hash && chain_same(&c->chains[id].key, ch)) {
            return id;
        }
        slot = (slot + 1) & (CHAIN_INDEX_SLOTS - 1);
    }
    /* A new chain: rare (once per distinct lookup result). */
    id = c->n_chains;
    if (id >= OKO_SHM_MAX_CHAINS) {
        oko_log_rl(&rl, OKO_LOG_WARN, "chain table of generation %u full "
                   "(%u chains): packet dropped", c->generation,
                   OKO_SHM_MAX_CHAINS);
        return 0;
    }
    if (chain_publish(c, id, ch, hash)) {
        oko_log_rl(&rl, OKO_LOG_WARN, "cannot publish a chain of %u rules "
                   "(more than %d programs?): packet dropped", ch->n_rules,
                   OKO_SHM_MAX_CHAIN);
        return 0;
    }
    c->n_chains = id + 1;
    c->chain_index[slot] = (uint16_t) id;
    return id;
}
