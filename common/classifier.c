/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * classifier.c -- the priority wildcard classifier with Oko's filter-chain
 * semantics.
 *
 * Two halves:
 *
 * struct cls, the writer's master table: every flow of every OpenFlow
 * table in insertion order, each with an id (its insertion number), and a
 * hash index on match identity.  Add is O(1) (it must find the flow it
 * replaces); delete and modify scan in O(n); they are control-path
 * operations.
 *
 * struct cls_snapshot, the readers' immutable lookup structure, rebuilt
 * from the master table after a batch of changes (O(n log n); about
 * 0.2 ms for 300 flows) into one block of memory with no pointers inside, only
 * offsets from its start.  A reader uses one snapshot for a whole burst;
 * the writer publishes a new one and frees the old one when no reader can
 * still use it.  In oko the classifier process both applies flow changes
 * (between bursts) and reads, so it frees the old snapshot right after the
 * switch; because the block is position-independent and comes from a
 * caller-supplied allocator, it can also be placed in hugepage memory and
 * read by other processes, with a generation-based grace period.
 *
 * Lookup order.  Every rule has a 64-bit rank: priority in the high bits,
 * then (2^40 - id), so that among equal priorities the flow added first
 * ranks higher.  Ranks are unique; "the first flow" always means the
 * highest rank.
 *
 * Tuple-space search.  Rules of a table are grouped by mask into
 * subtables; within a subtable, rules with the same masked key share one
 * entry of an open-addressing hash table, with their rules listed by
 * descending rank.  Subtables are ordered by their highest rank.  A
 * lookup visits subtables in that order, looks up the packet's masked key
 * in each, and walks the entry's rules: conditional rules (filter_prog !=
 * 0) are collected, and the first unconditional rule becomes the best
 * one, which ends the walk of that entry.  As soon as a subtable's highest
 * rank is below the best unconditional rank, no later subtable can add
 * anything and the search stops.  The chain is then the collected rules
 * ranked above the best unconditional rule, in rank order, followed by
 * it.
 */
#include "oko_flow.h"
#include "flow_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RANK_ID_BITS 40
#define RANK_ID_SPACE (UINT64_C(1) << RANK_ID_BITS)
#define SNAP_MAGIC 0x4f4b4353u     /* "OKCS" */
/* At most 2^21 rules, so that the block (about 900 bytes per rule in the
 * worst case) stays below 4 GB and its offsets fit in 32 bits. */
#define SNAP_MAX_RULES (1u << 21)
#define CLS_ALIGN 64

struct cls_mflow {
    struct oko_flow flow;
    uint64_t id;
};

struct cls {
    struct cls_allocator alloc;
    struct cls_mflow *flows;
    size_t n, cap;
    uint64_t next_id;
    uint64_t generation;
    /* Index of flows by match identity (oko_flow_same_match()), so that
     * an add finds the flow it replaces in O(1): open addressing, slots
     * hold a flow's position + 1, at most half full.  Rebuilt after
     * deletions, which move flows. */
    uint32_t *index;
    size_t index_mask;
};

/* A subtable: the rules of one table with one mask. */
struct cls_subtable {
    struct oko_flow_key mask;
    uint64_t max_rank;
    uint32_t slots_first;       /* index of its first slot */
    uint32_t slot_mask;         /* slots - 1 (a power of two) */
    uint32_t n_entries;
    uint8_t n_words;            /* mask words that are not zero ... */
    uint8_t words[OKO_FLOW_KEY_WORDS];  /* ... and their indexes */
};

/* A distinct masked key of a subtable and its rules. */
struct cls_sentry {
    struct oko_flow_key key;
    uint32_t hash;
    uint32_t refs_first;
    uint32_t n_refs;
    uint32_t pad;
};

/* A rule as an entry lists it: what the lookup needs, in 16 bytes. */
struct cls_ref {
    uint64_t rank;
    uint32_t rule;
    uint32_t cond;
};

struct cls_snapshot {
    uint32_t magic;
    uint32_t n_rules;
    uint64_t generation;
    uint64_t size;
    uint32_t n_subtables;
    uint32_t n_entries;
    uint32_t n_slots;
    uint32_t rules_ofs;
    uint32_t subtables_ofs;
    uint32_t entries_ofs;
    uint32_t refs_ofs;
    uint32_t slots_ofs;
    /* Subtables of table t are [table_sub[t], table_sub[t + 1]); rules of
     * table t are [table_rule[t], table_rule[t + 1]). */
    uint32_t table_sub[OKO_TABLE_ALL + 2];
    uint32_t table_rule[OKO_TABLE_ALL + 2];
};

static uint64_t
rank_of(uint16_t priority, uint64_t id)
{
    return ((uint64_t) priority << RANK_ID_BITS) | (RANK_ID_SPACE - id);
}

static void *
cls_alloc(const struct cls_allocator *a, size_t size)
{
    void *p;

    if (a && a->alloc) {
        return a->alloc(a->ctx, size, CLS_ALIGN);
    }
    size = (size + CLS_ALIGN - 1) & ~(size_t) (CLS_ALIGN - 1);
    p = aligned_alloc(CLS_ALIGN, size);
    if (p) {
        memset(p, 0, size);
    }
    return p;
}

static void
cls_free_mem(const struct cls_allocator *a, void *p)
{
    if (a && a->alloc) {
        if (a->free) {
            a->free(a->ctx, p);
        }
        return;
    }
    free(p);
}

/* ---------------------------------------------------------------------
 * The master table
 * ------------------------------------------------------------------- */

/* Creates an empty classifier whose snapshots come from alloc (copied; NULL
 * for malloc).  Declared and documented in oko_flow.h. */
struct cls *
cls_create(const struct cls_allocator *alloc)
{
    struct cls *cls = calloc(1, sizeof *cls);

    if (!cls) {
        errno = ENOMEM;
        return NULL;
    }
    if (alloc) {
        cls->alloc = *alloc;
    }
    cls->next_id = 1;
    cls->generation = 1;
    return cls;
}

/* Frees cls and its flows (not the snapshots built from it).  Declared and
 * documented in oko_flow.h. */
void
cls_destroy(struct cls *cls)
{
    if (cls) {
        free(cls->index);
        free(cls->flows);
        free(cls);
    }
}

/* Normalises a flow as stored: key masked, request-only fields cleared. */
static void
normalise(struct oko_flow *f)
{
    uint8_t *k = (uint8_t *) &f->key;
    const uint8_t *m = (const uint8_t *) &f->mask;
    size_t i;

    for (i = 0; i < sizeof f->key; i++) {
        k[i] &= m[i];
    }
    f->cookie_mask = 0;
    f->pad = 0;
    if (f->n_actions > OKO_FLOW_MAX_ACTIONS) {
        f->n_actions = OKO_FLOW_MAX_ACTIONS;
    }
}

static uint32_t
identity_hash(const struct oko_flow *f)
{
    uint32_t h = oko_flow_key_hash(&f->mask, f->filter_prog);

    return oko_flow_key_hash(&f->key, h ^ ((uint32_t) f->priority << 8)
                             ^ f->table);
}

/* Returns the slot of f's identity in the index: the one holding an equal
 * flow, or the empty one where it would go. */
static size_t
index_find(const struct cls *cls, const struct oko_flow *f)
{
    size_t i = identity_hash(f) & cls->index_mask;

    while (cls->index[i]
           && !oko_flow_same_match(&cls->flows[cls->index[i] - 1].flow, f)) {
        i = (i + 1) & cls->index_mask;
    }
    return i;
}

/* Rebuilds the index for at least min_flows flows.  Returns 0 or
 * -ENOMEM (the old index is kept). */
static int
index_rebuild(struct cls *cls, size_t min_flows)
{
    size_t slots = 64, i;
    uint32_t *index;

    while (slots < 2 * min_flows) {
        slots *= 2;
    }
    index = calloc(slots, sizeof *index);
    if (!index) {
        return -ENOMEM;
    }
    free(cls->index);
    cls->index = index;
    cls->index_mask = slots - 1;
    for (i = 0; i < cls->n; i++) {
        cls->index[index_find(cls, &cls->flows[i].flow)] = (uint32_t) i + 1;
    }
    return 0;
}

/* Adds flow to cls, or replaces the flow with the same match in place.
 * Declared and documented in oko_flow.h. */
int
cls_add(struct cls *cls, const struct oko_flow *flow, char *err,
        size_t errlen)
{
    struct oko_flow f = *flow;
    size_t slot;

    if (f.table > OKO_TABLE_MAX) {
        if (err && errlen) {
            snprintf(err, errlen, "bad table %u (0 to %u)", f.table,
                     OKO_TABLE_MAX);
        }
        return -EINVAL;
    }
    if (cls->n >= SNAP_MAX_RULES || cls->next_id >= RANK_ID_SPACE) {
        if (err && errlen) {
            snprintf(err, errlen, "flow table full (%u flows)",
                     SNAP_MAX_RULES);
        }
        return -ENOSPC;
    }
    normalise(&f);
    if (2 * (cls->n + 1) > cls->index_mask + 1 || !cls->index) {
        if (index_rebuild(cls, cls->n + 1)) {
            if (err && errlen) {
                snprintf(err, errlen, "out of memory");
            }
            return -ENOMEM;
        }
    }
    slot = index_find(cls, &f);
    if (cls->index[slot]) {
        cls->flows[cls->index[slot] - 1].flow = f;
        cls->generation++;
        return 1;
    }
    if (cls->n == cls->cap) {
        size_t cap = cls->cap ? cls->cap * 2 : 64;
        struct cls_mflow *p = realloc(cls->flows, cap * sizeof *p);

        if (!p) {
            if (err && errlen) {
                snprintf(err, errlen, "out of memory");
            }
            return -ENOMEM;
        }
        cls->flows = p;
        cls->cap = cap;
    }
    cls->flows[cls->n].flow = f;
    cls->flows[cls->n].id = cls->next_id++;
    cls->index[slot] = (uint32_t) ++cls->n;
    cls->generation++;
    return 0;
}

static bool
selected(const struct oko_flow *flow, const struct oko_flow *sel, bool strict)
{
    if (strict) {
        return (sel->table == OKO_TABLE_ALL || sel->table == flow->table)
               && flow->priority == sel->priority
               && flow->filter_prog == sel->filter_prog
               && !((flow->cookie ^ sel->cookie) & sel->cookie_mask)
               && !memcmp(&flow->mask, &sel->mask, sizeof sel->mask)
               && oko_flow_key_match(&flow->key, &sel->key, &sel->mask);
    }
    return oko_flow_covered_by(flow, sel);
}

/* Deletes the flows sel selects: with strict, the one flow with the same
 * match as sel (table, priority, match, filter_prog) whose cookie matches
 * under sel->cookie_mask; otherwise every flow covered by sel (see
 * oko_flow_covered_by()).  Declared and documented in oko_flow.h. */
int
cls_delete(struct cls *cls, const struct oko_flow *sel, bool strict)
{
    size_t i, j = 0;
    int n = 0;

    for (i = 0; i < cls->n; i++) {
        if (selected(&cls->flows[i].flow, sel, strict)) {
            n++;
        } else {
            if (i != j) {
                cls->flows[j] = cls->flows[i];
            }
            j++;
        }
    }
    cls->n = j;
    if (n) {
        cls->generation++;
        /* Flows moved.  Without memory for a new index, drop it: the next
         * add rebuilds it. */
        if (index_rebuild(cls, cls->n)) {
            free(cls->index);
            cls->index = NULL;
            cls->index_mask = 0;
        }
    }
    return n;
}

/* Replaces the actions of the flows sel selects (same selection as
 * cls_delete()) with sel's actions.  Declared and documented in oko_flow.h. */
int
cls_modify(struct cls *cls, const struct oko_flow *sel, bool strict)
{
    unsigned int n_actions = sel->n_actions > OKO_FLOW_MAX_ACTIONS
                             ? OKO_FLOW_MAX_ACTIONS : sel->n_actions;
    size_t i;
    int n = 0;

    for (i = 0; i < cls->n; i++) {
        struct oko_flow *f = &cls->flows[i].flow;

        if (selected(f, sel, strict)) {
            memset(f->actions, 0, sizeof f->actions);
            memcpy(f->actions, sel->actions, n_actions * sizeof f->actions[0]);
            f->n_actions = (uint8_t) n_actions;
            n++;
        }
    }
    if (n) {
        cls->generation++;
    }
    return n;
}

/* Returns the number of flows in cls.  Declared and documented in
 * oko_flow.h. */
size_t
cls_count(const struct cls *cls)
{
    return cls->n;
}

/* Returns the flow at position *pos (0 to start) of cls in insertion order
 * and advances *pos, or NULL at the end.  Declared and documented in
 * oko_flow.h. */
const struct oko_flow *
cls_next(const struct cls *cls, size_t *pos)
{
    if (*pos >= cls->n) {
        return NULL;
    }
    return &cls->flows[(*pos)++].flow;
}

/* Returns the generation of cls: it increases on every change, and the next
 * snapshot carries it.  Declared and documented in oko_flow.h. */
uint64_t
cls_generation(const struct cls *cls)
{
    return cls->generation;
}

/* ---------------------------------------------------------------------
 * Snapshots
 * ------------------------------------------------------------------- */

static inline uint64_t
kword(const struct oko_flow_key *k, size_t i)
{
    uint64_t w;

    memcpy(&w, (const uint8_t *) k + i * 8, 8);
    return w;
}

/* The hash of a key under a subtable's mask (the terms of flow_priv.h):
 * only the mask's non-zero words take part, so that the lookup reads only
 * those.  The final fold is a plain xor of the halves, without the
 * multiply of flow_hash_fold(): the table is at most half full and
 * compares entries in full, and the multiply cost 12% of the 300-flow
 * benchmark. */
static inline uint32_t
sub_hash(const struct cls_subtable *sub, const uint64_t *kw)
{
    uint64_t h = 0;
    unsigned int i;

    for (i = 0; i < sub->n_words; i++) {
        unsigned int w = sub->words[i];

        h += flow_hash_word(kw[w] & kword(&sub->mask, w), w);
    }
    return (uint32_t) (h ^ (h >> 32));
}

/* Build-time views of the master table. */
struct bref {
    const struct cls_mflow *m;
    uint64_t rank;
    uint32_t rule;              /* index in the snapshot's rules */
};

static int
cmp_rule_order(const void *a_, const void *b_)
{
    const struct bref *a = a_, *b = b_;

    if (a->m->flow.table != b->m->flow.table) {
        return a->m->flow.table < b->m->flow.table ? -1 : 1;
    }
    return a->rank > b->rank ? -1 : a->rank < b->rank;
}

static int
cmp_tuple_order(const void *a_, const void *b_)
{
    const struct bref *a = a_, *b = b_;
    int c;

    if (a->m->flow.table != b->m->flow.table) {
        return a->m->flow.table < b->m->flow.table ? -1 : 1;
    }
    c = memcmp(&a->m->flow.mask, &b->m->flow.mask, sizeof a->m->flow.mask);
    if (c) {
        return c;
    }
    c = memcmp(&a->m->flow.key, &b->m->flow.key, sizeof a->m->flow.key);
    if (c) {
        return c;
    }
    return a->rank > b->rank ? -1 : a->rank < b->rank;
}

struct bsub {
    uint32_t table;
    uint32_t first_entry;
    uint32_t n_entries;
    uint64_t max_rank;
    const struct oko_flow_key *mask;
};

static int
cmp_sub_order(const void *a_, const void *b_)
{
    const struct bsub *a = a_, *b = b_;

    if (a->table != b->table) {
        return a->table < b->table ? -1 : 1;
    }
    return a->max_rank > b->max_rank ? -1 : a->max_rank < b->max_rank;
}

static size_t
align_up(size_t x)
{
    return (x + CLS_ALIGN - 1) & ~(size_t) (CLS_ALIGN - 1);
}

/* Builds a snapshot of the current flows of cls into one block from cls's
 * allocator.  Declared and documented in oko_flow.h. */
struct cls_snapshot *
cls_snapshot_build(const struct cls *cls)
{
    struct bref *ord = NULL;
    struct bsub *subs = NULL;
    uint32_t *entry_first = NULL;   /* first ord index of each entry */
    uint32_t n = (uint32_t) cls->n, n_sub = 0, n_ent = 0, n_slots = 0;
    struct cls_snapshot *snap = NULL;
    size_t size, o_rules, o_subs, o_ents, o_refs, o_slots;
    uint8_t *base;
    uint32_t i, s;

    if (cls->n > SNAP_MAX_RULES) {
        errno = E2BIG;
        return NULL;
    }
    ord = calloc(n ? n : 1, sizeof *ord);
    subs = calloc(n ? n : 1, sizeof *subs);
    entry_first = calloc(n + 1, sizeof *entry_first);
    if (!ord || !subs || !entry_first) {
        goto nomem;
    }

    /* Rule order: table, then rank. */
    for (i = 0; i < n; i++) {
        ord[i].m = &cls->flows[i];
        ord[i].rank = rank_of(cls->flows[i].flow.priority, cls->flows[i].id);
    }
    qsort(ord, n, sizeof *ord, cmp_rule_order);
    for (i = 0; i < n; i++) {
        ord[i].rule = i;
    }

    /* Tuple order: table, mask, key, rank; then cut into subtables and
     * entries. */
    qsort(ord, n, sizeof *ord, cmp_tuple_order);
    for (i = 0; i < n; i++) {
        const struct oko_flow *f = &ord[i].m->flow;
        const struct oko_flow *p = i ? &ord[i - 1].m->flow : NULL;
        bool new_sub = !p || p->table != f->table
                       || memcmp(&p->mask, &f->mask, sizeof f->mask);

        if (new_sub || memcmp(&p->key, &f->key, sizeof f->key)) {
            entry_first[n_ent] = i;
            if (new_sub) {
                subs[n_sub].table = f->table;
                subs[n_sub].first_entry = n_ent;
                subs[n_sub].mask = &f->mask;
                subs[n_sub].max_rank = 0;
                n_sub++;
            }
            subs[n_sub - 1].n_entries++;
            if (ord[i].rank > subs[n_sub - 1].max_rank) {
                subs[n_sub - 1].max_rank = ord[i].rank;
            }
            n_ent++;
        }
    }
    entry_first[n_ent] = n;
    qsort(subs, n_sub, sizeof *subs, cmp_sub_order);
    for (s = 0; s < n_sub; s++) {
        uint32_t slots = 2;

        while (slots < 2 * subs[s].n_entries) {
            slots *= 2;
        }
        n_slots += slots;
    }

    o_rules = align_up(sizeof *snap);
    o_subs = align_up(o_rules + (size_t) n * sizeof(struct cls_rule));
    o_ents = align_up(o_subs + (size_t) n_sub * sizeof(struct cls_subtable));
    o_refs = align_up(o_ents + (size_t) n_ent * sizeof(struct cls_sentry));
    o_slots = align_up(o_refs + (size_t) n * sizeof(struct cls_ref));
    size = align_up(o_slots + (size_t) n_slots * sizeof(uint32_t));
    if (size > UINT32_MAX) {
        free(ord);
        free(subs);
        free(entry_first);
        errno = E2BIG;
        return NULL;
    }
    snap = cls_alloc(&cls->alloc, size);
    if (!snap) {
        goto nomem;
    }
    base = (uint8_t *) snap;
    memset(snap, 0, sizeof *snap);
    snap->magic = SNAP_MAGIC;
    snap->n_rules = n;
    snap->generation = cls->generation;
    snap->size = size;
    snap->n_subtables = n_sub;
    snap->n_entries = n_ent;
    snap->n_slots = n_slots;
    snap->rules_ofs = (uint32_t) o_rules;
    snap->subtables_ofs = (uint32_t) o_subs;
    snap->entries_ofs = (uint32_t) o_ents;
    snap->refs_ofs = (uint32_t) o_refs;
    snap->slots_ofs = (uint32_t) o_slots;

    {
        struct cls_rule *rules = (struct cls_rule *) (base + o_rules);
        struct cls_subtable *st = (struct cls_subtable *) (base + o_subs);
        struct cls_sentry *ents = (struct cls_sentry *) (base + o_ents);
        struct cls_ref *refs = (struct cls_ref *) (base + o_refs);
        uint32_t *slots = (uint32_t *) (base + o_slots);
        uint32_t slot_pos = 0, e, t;

        for (i = 0; i < n; i++) {
            struct cls_rule *r = &rules[ord[i].rule];

            r->flow = ord[i].m->flow;
            r->id = ord[i].m->id;
            r->rank = ord[i].rank;
            refs[i].rank = ord[i].rank;
            refs[i].rule = ord[i].rule;
            refs[i].cond = r->flow.filter_prog != 0;
        }
        for (t = 0, i = 0; t <= OKO_TABLE_ALL + 1; t++) {
            while (i < n && rules[i].flow.table < t) {
                i++;
            }
            snap->table_rule[t] = i;
        }
        for (t = 0, s = 0; t <= OKO_TABLE_ALL + 1; t++) {
            while (s < n_sub && subs[s].table < t) {
                s++;
            }
            snap->table_sub[t] = s;
        }
        for (e = 0; e < n_ent; e++) {
            ents[e].refs_first = entry_first[e];
            ents[e].n_refs = entry_first[e + 1] - entry_first[e];
            ents[e].key = ord[entry_first[e]].m->flow.key;
        }
        for (s = 0; s < n_sub; s++) {
            struct cls_subtable *sub = &st[s];
            uint32_t nslots = 2;
            unsigned int w;

            while (nslots < 2 * subs[s].n_entries) {
                nslots *= 2;
            }
            sub->mask = *subs[s].mask;
            sub->max_rank = subs[s].max_rank;
            sub->slots_first = slot_pos;
            sub->slot_mask = nslots - 1;
            sub->n_entries = subs[s].n_entries;
            for (w = 0; w < OKO_FLOW_KEY_WORDS; w++) {
                if (kword(&sub->mask, w)) {
                    sub->words[sub->n_words++] = (uint8_t) w;
                }
            }
            for (e = subs[s].first_entry;
                 e < subs[s].first_entry + subs[s].n_entries; e++) {
                uint64_t kw[OKO_FLOW_KEY_WORDS];
                uint32_t h, j;

                memcpy(kw, &ents[e].key, sizeof kw);
                h = sub_hash(sub, kw);
                ents[e].hash = h;
                for (j = h & sub->slot_mask; slots[slot_pos + j];
                     j = (j + 1) & sub->slot_mask) {
                    continue;
                }
                slots[slot_pos + j] = e + 1;
            }
            slot_pos += nslots;
        }
    }
    free(ord);
    free(subs);
    free(entry_first);
    return snap;

nomem:
    free(ord);
    free(subs);
    free(entry_first);
    errno = ENOMEM;
    return NULL;
}

/* Frees a snapshot made by cls_snapshot_build() with the same allocator.
 * Declared and documented in oko_flow.h. */
void
cls_snapshot_free(struct cls_snapshot *snap, const struct cls_allocator *alloc)
{
    if (snap) {
        cls_free_mem(alloc, snap);
    }
}

/* Returns the generation of cls the snapshot was built from.  Declared and
 * documented in oko_flow.h. */
uint64_t
cls_snapshot_generation(const struct cls_snapshot *snap)
{
    return snap->generation;
}

/* Returns the size in bytes of the snapshot's block.  Declared and
 * documented in oko_flow.h. */
size_t
cls_snapshot_size(const struct cls_snapshot *snap)
{
    return snap->size;
}

/* Returns the number of rules in snap: rules are indexed 0..n-1, ordered by
 * table, then lookup order (priority descending, then insertion).  Declared
 * and documented in oko_flow.h. */
uint32_t
cls_snapshot_n_rules(const struct cls_snapshot *snap)
{
    return snap->n_rules;
}

/* Returns the number of subtables (distinct masks per table) of snap.
 * Declared and documented in oko_flow.h. */
uint32_t
cls_snapshot_n_subtables(const struct cls_snapshot *snap)
{
    return snap->n_subtables;
}

/* Returns rule idx of snap (idx < cls_snapshot_n_rules()).  Declared and
 * documented in oko_flow.h. */
const struct cls_rule *
cls_snapshot_rule(const struct cls_snapshot *snap, uint32_t idx)
{
    const struct cls_rule *rules = (const struct cls_rule *)
        ((const uint8_t *) snap + snap->rules_ofs);

    return &rules[idx];
}

struct id_idx {
    uint64_t id;
    uint32_t idx;
};

static int
cmp_id(const void *a_, const void *b_)
{
    const struct id_idx *a = a_, *b = b_;

    return a->id < b->id ? -1 : a->id > b->id;
}

/* Maps the rules of snapshot from to those of snapshot to by flow id, so
 * that per-rule state (counters, last-used times) survives a new
 * generation: map[i] (an array of cls_snapshot_n_rules(from) entries) is
 * set to the index in to of from's rule i, or UINT32_MAX if that flow is
 * gone.  Declared and documented in oko_flow.h. */
int
cls_snapshot_map_rules(const struct cls_snapshot *from,
                       const struct cls_snapshot *to, uint32_t *map)
{
    uint32_t n = to->n_rules, i;
    struct id_idx *v = malloc((n ? n : 1) * sizeof *v);

    if (!v) {
        return -ENOMEM;
    }
    for (i = 0; i < n; i++) {
        v[i].id = cls_snapshot_rule(to, i)->id;
        v[i].idx = i;
    }
    qsort(v, n, sizeof *v, cmp_id);
    for (i = 0; i < from->n_rules; i++) {
        struct id_idx k = { cls_snapshot_rule(from, i)->id, 0 };
        const struct id_idx *hit = bsearch(&k, v, n, sizeof *v, cmp_id);

        map[i] = hit ? hit->idx : UINT32_MAX;
    }
    free(v);
    return 0;
}

/* ---------------------------------------------------------------------
 * Lookup
 * ------------------------------------------------------------------- */

/* Conditional candidates, kept sorted by descending rank in at most
 * CLS_CHAIN_MAX places; dropped_max remembers the best rank that did not
 * fit, so that the end can tell whether the real chain was longer. */
struct cands {
    unsigned int n;
    uint64_t dropped_max;
    uint64_t rank[CLS_CHAIN_MAX];
    uint32_t rule[CLS_CHAIN_MAX];
};

static inline void
cands_add(struct cands *c, uint64_t rank, uint32_t rule)
{
    unsigned int i;

    if (c->n == CLS_CHAIN_MAX) {
        if (rank < c->rank[CLS_CHAIN_MAX - 1]) {
            if (rank > c->dropped_max) {
                c->dropped_max = rank;
            }
            return;
        }
        if (c->rank[CLS_CHAIN_MAX - 1] > c->dropped_max) {
            c->dropped_max = c->rank[CLS_CHAIN_MAX - 1];
        }
        c->n--;
    }
    for (i = c->n; i > 0 && c->rank[i - 1] < rank; i--) {
        c->rank[i] = c->rank[i - 1];
        c->rule[i] = c->rule[i - 1];
    }
    c->rank[i] = rank;
    c->rule[i] = rule;
    c->n++;
}

/* Writes the chain from the candidates and the best unconditional rule
 * (best = its rank, 0 for none). */
static int
finish_chain(const struct cands *c, uint64_t best, uint32_t best_rule,
             struct cls_chain *chain)
{
    unsigned int i, k = 0;

    if (c->dropped_max > best) {
        return -E2BIG;
    }
    while (k < c->n && c->rank[k] > best) {
        k++;
    }
    if (k + (best != 0) > CLS_CHAIN_MAX) {
        return -E2BIG;
    }
    for (i = 0; i < k; i++) {
        chain->rules[i] = c->rule[i];
    }
    if (best) {
        chain->rules[k++] = best_rule;
    }
    chain->n_rules = (uint8_t) k;
    chain->miss = best == 0;
    chain->pad = 0;
    return (int) k;
}

static inline int
lookup(const struct cls_snapshot *snap, uint8_t table,
       const struct oko_flow_key *key, struct cls_chain *chain,
       uint64_t *probed)
{
    const uint8_t *base = (const uint8_t *) snap;
    const struct cls_subtable *subs =
        (const struct cls_subtable *) (base + snap->subtables_ofs);
    const struct cls_sentry *ents =
        (const struct cls_sentry *) (base + snap->entries_ofs);
    const struct cls_ref *refs =
        (const struct cls_ref *) (base + snap->refs_ofs);
    const uint32_t *slots = (const uint32_t *) (base + snap->slots_ofs);
    uint32_t s = snap->table_sub[table], end = snap->table_sub[table + 1];
    uint64_t kw[OKO_FLOW_KEY_WORDS];
    uint64_t best = 0;
    uint32_t best_rule = 0;
    struct cands c;

    c.n = 0;
    c.dropped_max = 0;
    memcpy(kw, key, sizeof kw);
    for (; s < end; s++) {
        const struct cls_subtable *sub = &subs[s];
        const struct cls_sentry *e = NULL;
        uint32_t h, j, slot, r;

        if (sub->max_rank < best) {
            break;              /* nothing below can rank higher */
        }
        ++*probed;
        h = sub_hash(sub, kw);
        for (j = h & sub->slot_mask;
             (slot = slots[sub->slots_first + j]) != 0;
             j = (j + 1) & sub->slot_mask) {
            const struct cls_sentry *cand = &ents[slot - 1];
            uint64_t diff = 0;
            unsigned int i;

            if (cand->hash != h) {
                continue;
            }
            for (i = 0; i < sub->n_words; i++) {
                unsigned int w = sub->words[i];

                diff |= (kw[w] & kword(&sub->mask, w)) ^ kword(&cand->key, w);
            }
            if (!diff) {
                e = cand;
                break;
            }
        }
        if (!e) {
            continue;
        }
        for (r = e->refs_first; r < e->refs_first + e->n_refs; r++) {
            const struct cls_ref *ref = &refs[r];

            if (ref->rank < best) {
                break;
            }
            if (!ref->cond) {
                best = ref->rank;
                best_rule = ref->rule;
                break;
            }
            cands_add(&c, ref->rank, ref->rule);
        }
    }
    return finish_chain(&c, best, best_rule, chain);
}

/* Looks the packet key up in table of snap and writes its filter chain (see
 * struct cls_chain): every conditional flow whose other fields match and
 * that comes before the first matching unconditional flow in lookup order
 * (priority descending; equal priorities in insertion order), then that
 * unconditional flow, if any.  Declared and documented in oko_flow.h. */
int
cls_lookup(const struct cls_snapshot *snap, uint8_t table,
           const struct oko_flow_key *key, struct cls_chain *chain)
{
    uint64_t probed = 0;

    return lookup(snap, table, key, chain, &probed);
}

/* Like cls_lookup(), and adds to stats how many subtables it probed.
 * Declared and documented in oko_flow.h. */
int
cls_lookup_stats(const struct cls_snapshot *snap, uint8_t table,
                 const struct oko_flow_key *key, struct cls_chain *chain,
                 struct cls_lookup_stats *stats)
{
    uint64_t probed = 0;
    int r = lookup(snap, table, key, chain, &probed);

    stats->lookups++;
    stats->subtables_probed += probed;
    return r;
}

/* The same as cls_lookup() by a linear scan of every rule: the reference
 * the tests compare against, and a fallback for debugging.  Declared and
 * documented in oko_flow.h. */
int
cls_lookup_linear(const struct cls_snapshot *snap, uint8_t table,
                  const struct oko_flow_key *key, struct cls_chain *chain)
{
    uint32_t i, k = 0;

    for (i = snap->table_rule[table]; i < snap->table_rule[table + 1]; i++) {
        const struct cls_rule *r = cls_snapshot_rule(snap, i);

        if (!oko_flow_matches_key(&r->flow, key)) {
            continue;
        }
        if (k == CLS_CHAIN_MAX) {
            return -E2BIG;
        }
        chain->rules[k++] = i;
        if (!r->flow.filter_prog) {
            chain->n_rules = (uint8_t) k;
            chain->miss = 0;
            chain->pad = 0;
            return (int) k;
        }
    }
    chain->n_rules = (uint8_t) k;
    chain->miss = 1;
    chain->pad = 0;
    return (int) k;
}
