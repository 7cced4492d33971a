/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_classifier.c -- the classifier and the exact-match cache.
 *
 * The central test compares the tuple-space search with a reference model
 * written here (a list of flows in insertion order, a linear scan in
 * priority order): random flow tables of hundreds of flows with random
 * masks, priorities (with many ties) and filter programs, thousands of
 * random packets, after adds, replacements, strict and non-strict deletes
 * and modifications.  The chains must be identical, flow by flow.
 */
#include "oko_flow.h"
#include "cu_main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static uint32_t
rnd_below(uint32_t n)
{
    return (uint32_t) (rnd() % n);
}

static struct oko_flow
parse(const char *line)
{
    struct oko_flow f;
    char err[256];
    int r = oko_flow_parse(line, 0, &f, err, sizeof err);

    if (r) {
        printf("\n%s: %s\n", line, err);
    }
    CU_ASSERT_EQUAL_FATAL(r, 0);
    return f;
}

static struct oko_flow
parse_sel(const char *line)
{
    struct oko_flow f;
    char err[256];
    int r = oko_flow_parse(line, OKO_FLOW_PARSE_MATCH_ONLY, &f, err,
                           sizeof err);

    if (r) {
        printf("\n%s: %s\n", line, err);
    }
    CU_ASSERT_EQUAL_FATAL(r, 0);
    return f;
}

/* ---------------------------------------------------------------------
 * Reference model
 * ------------------------------------------------------------------- */

struct ref_flow {
    struct oko_flow flow;
    uint64_t id;
};

struct ref {
    struct ref_flow *flows;
    size_t n, cap;
    uint64_t next_id;
};

static bool
ref_matches(const struct oko_flow *f, const struct oko_flow_key *k)
{
    const uint8_t *kb = (const uint8_t *) k;
    const uint8_t *fk = (const uint8_t *) &f->key;
    const uint8_t *fm = (const uint8_t *) &f->mask;
    size_t i;

    for (i = 0; i < sizeof *k; i++) {
        if ((kb[i] & fm[i]) != fk[i]) {
            return false;
        }
    }
    return true;
}

static void
ref_add(struct ref *r, const struct oko_flow *f)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        struct oko_flow *g = &r->flows[i].flow;

        if (g->table == f->table && g->priority == f->priority
            && g->filter_prog == f->filter_prog
            && !memcmp(&g->key, &f->key, sizeof f->key)
            && !memcmp(&g->mask, &f->mask, sizeof f->mask)) {
            *g = *f;
            return;
        }
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->flows = realloc(r->flows, r->cap * sizeof *r->flows);
        CU_ASSERT_FATAL(r->flows != NULL);
    }
    r->flows[r->n].flow = *f;
    r->flows[r->n].id = ++r->next_id;
    r->n++;
}

/* Flow ids of the chain: the matching flows of table in priority order
 * (ties: lower id first), conditional ones until the first unconditional
 * one, inclusive.  Returns the count or -E2BIG. */
static int
ref_chain(const struct ref *r, uint8_t table, const struct oko_flow_key *k,
          uint64_t *ids)
{
    bool used[4096] = { false };
    int n = 0;

    CU_ASSERT_FATAL(r->n <= 4096);
    for (;;) {
        size_t i, best = SIZE_MAX;

        /* The next flow in lookup order among those not taken yet. */
        for (i = 0; i < r->n; i++) {
            const struct ref_flow *f = &r->flows[i];

            if (used[i] || f->flow.table != table
                || !ref_matches(&f->flow, k)) {
                continue;
            }
            if (best == SIZE_MAX
                || f->flow.priority > r->flows[best].flow.priority
                || (f->flow.priority == r->flows[best].flow.priority
                    && f->id < r->flows[best].id)) {
                best = i;
            }
        }
        if (best == SIZE_MAX) {
            return n;
        }
        used[best] = true;
        if (n == CLS_CHAIN_MAX) {
            return -E2BIG;
        }
        ids[n++] = r->flows[best].id;
        if (!r->flows[best].flow.filter_prog) {
            return n;
        }
    }
}

/* ---------------------------------------------------------------------
 * Random flows and packets
 * ------------------------------------------------------------------- */

/* Small value pools, so that random packets hit random flows. */
static const uint32_t ports_in[] = { 1, 2, 3, 4 };
static const uint16_t l4_ports[] = { 22, 53, 80, 443, 8080 };
static const uint32_t nets[] = { 0x0a000000, 0x0a000100, 0xc0a80000,
                                 0xc0a80100 };

static struct oko_flow_key
random_key(void)
{
    struct oko_flow_key k;

    memset(&k, 0, sizeof k);
    k.in_port = ports_in[rnd_below(4)];
    k.eth_src[5] = (uint8_t) rnd_below(4);
    k.eth_dst[5] = (uint8_t) rnd_below(4);
    if (rnd_below(4) == 0) {
        k.vlan_tci = (uint16_t) (OKO_FLOW_VLAN_PRESENT | rnd_below(3));
    }
    switch (rnd_below(8)) {
    case 7:
        /* Neither IP nor ARP, from a port no flow names: hits only
         * flows with few fields. */
        k.eth_type = 0x88cc;
        k.in_port = 5;
        return k;
    case 0:
        k.eth_type = 0x0806;
        k.arp_op = (uint16_t) (1 + rnd_below(2));
        k.ipv4_src = nets[rnd_below(4)] | rnd_below(4);
        k.ipv4_dst = nets[rnd_below(4)] | rnd_below(4);
        return k;
    case 1:
        k.eth_type = 0x86dd;
        k.ipv6_src[0] = 0x20;
        k.ipv6_src[15] = (uint8_t) rnd_below(4);
        k.ipv6_dst[15] = (uint8_t) rnd_below(4);
        k.ip_proto = rnd_below(2) ? 6 : 17;
        break;
    default:
        k.eth_type = 0x0800;
        k.ipv4_src = nets[rnd_below(4)] | rnd_below(4);
        k.ipv4_dst = nets[rnd_below(4)] | rnd_below(4);
        k.ip_proto = (uint8_t[]) { 6, 17, 1, 132 }[rnd_below(4)];
        k.ip_tos = (uint8_t) (rnd_below(2) << 2);
        break;
    }
    k.ip_ttl = 64;
    if (k.ip_proto == 1) {
        k.icmp_type = (uint8_t) (rnd_below(2) ? 8 : 0);
    } else {
        k.tp_src = l4_ports[rnd_below(5)];
        k.tp_dst = l4_ports[rnd_below(5)];
        if (k.ip_proto == 6) {
            k.tcp_flags = (uint16_t) rnd_below(0x20);
        }
    }
    return k;
}

static void
mask_all(void *p, size_t n)
{
    memset(p, 0xff, n);
}

/* A random flow: a random subset of fields of a random packet, so that it
 * matches something; a few masks are partial (prefixes, port ranges). */
static struct oko_flow
random_flow(uint8_t n_tables)
{
    struct oko_flow_key k = random_key();
    struct oko_flow f;
    uint8_t *kb, *mb;
    uint32_t which = rnd_below(16);
    size_t i;

    memset(&f, 0, sizeof f);
    f.key = k;
    /* Masks from a handful of shapes, to get tens of subtables as a real
     * table has, plus random extra fields. */
    if (which & 1) {
        f.mask.in_port = UINT32_MAX;
    }
    if (which & 2) {
        f.mask.eth_type = 0xffff;
        if (k.eth_type != 0x0806 && rnd_below(2)) {
            f.mask.ip_proto = 0xff;
            if (k.ip_proto != 1 && rnd_below(2)) {
                f.mask.tp_dst = rnd_below(4) ? 0xffff : 0xfff0;
            }
        }
        if (k.eth_type != 0x86dd && (which & 4)) {
            f.mask.ipv4_dst = UINT32_MAX << (8 * rnd_below(3));
        }
    }
    if (which & 8) {
        mask_all(f.mask.eth_dst, 6);
    }
    switch (rnd_below(8)) {
    case 0:
        f.mask.vlan_tci = 0x1fff;
        break;
    case 1:
        f.mask.ipv4_src = 0xffffff00;
        break;
    case 2:
        mask_all(f.mask.ipv6_src, 16);
        break;
    case 3:
        f.mask.tcp_flags = 0x012;
        break;
    default:
        break;
    }
    kb = (uint8_t *) &f.key;
    mb = (uint8_t *) &f.mask;
    /* Catch-all flows are rare, so that misses happen. */
    for (i = 0; i < sizeof f.key && !mb[i]; i++) {
        continue;
    }
    if (i == sizeof f.key && rnd_below(8)) {
        f.mask.eth_src[5] = 0xff;
        f.key.eth_src[5] = 9;   /* matches only packets made from it */
    }
    for (i = 0; i < sizeof f.key; i++) {
        kb[i] &= mb[i];
    }
    f.priority = (uint16_t) rnd_below(12);
    f.table = (uint8_t) rnd_below(n_tables);
    f.filter_prog = rnd_below(5) < 2 ? 1 + rnd_below(4) : 0;
    f.cookie = rnd_below(4);
    f.n_actions = 1;
    f.actions[0].type = OKO_ACT_OUTPUT;
    f.actions[0].arg = 1 + rnd_below(4);
    return f;
}

/* A packet: random, or a random flow's key with its wildcarded bits
 * randomised. */
static struct oko_flow_key
random_packet(const struct ref *r)
{
    struct oko_flow_key k = random_key();

    if (r->n && rnd_below(2)) {
        const struct oko_flow *f = &r->flows[rnd_below((uint32_t) r->n)].flow;
        const uint8_t *fk = (const uint8_t *) &f->key;
        const uint8_t *fm = (const uint8_t *) &f->mask;
        uint8_t *kb = (uint8_t *) &k;
        size_t i;

        for (i = 0; i < sizeof k; i++) {
            kb[i] = (uint8_t) ((kb[i] & ~fm[i]) | fk[i]);
        }
    }
    return k;
}

/* Compares lookups in snap with the reference for n_pkts packets. */
static void
compare(const struct ref *r, const struct cls_snapshot *snap,
        uint8_t n_tables, int n_pkts)
{
    int p, mismatches = 0, hits = 0, chains = 0, misses = 0;

    for (p = 0; p < n_pkts; p++) {
        struct oko_flow_key k = random_packet(r);
        uint8_t table = (uint8_t) rnd_below(n_tables);
        struct cls_chain c, cl;
        uint64_t ids[CLS_CHAIN_MAX];
        int n_ref = ref_chain(r, table, &k, ids);
        int n = cls_lookup(snap, table, &k, &c);
        int nl = cls_lookup_linear(snap, table, &k, &cl);
        bool same = n == n_ref && nl == n_ref;
        int i;

        if (same && n >= 0) {
            for (i = 0; i < n; i++) {
                same &= cls_snapshot_rule(snap, c.rules[i])->id == ids[i];
                same &= c.rules[i] == cl.rules[i];
            }
            same &= c.n_rules == n && cl.n_rules == n;
            same &= c.miss == (n == 0 || cls_snapshot_rule(
                                   snap, c.rules[n - 1])->flow.filter_prog
                               != 0);
            same &= c.miss == cl.miss;
        }
        if (!same) {
            if (mismatches++ < 3) {
                char text[512];

                oko_flow_key_format(&k, text, sizeof text);
                printf("\nmismatch in table %u for %s: tss %d, linear %d, "
                       "reference %d\n", table, text, n, nl, n_ref);
            }
        }
        hits += n_ref > 0 && !c.miss;
        misses += n_ref >= 0 && c.miss;
        chains += n_ref > 1;
    }
    CU_ASSERT_EQUAL(mismatches, 0);
    /* The test is only meaningful if packets hit flows and chains. */
    if (getenv("CLS_TEST_VERBOSE")) {
        printf("\n%zu flows: %d/%d packets hit, %d missed, %d chains\n",
               r->n, hits, n_pkts, misses, chains);
    }
    if (r->n >= 100) {
        CU_ASSERT(hits > n_pkts / 10);
        CU_ASSERT(chains > n_pkts / 50);
    }
}

static void
test_random_vs_reference(void)
{
    int round;

    for (round = 0; round < 7; round++) {
        uint8_t n_tables = round < 3 || round == 6 ? 1 : 3;
        struct cls *cls = cls_create(NULL);
        struct ref r = { NULL, 0, 0, 0 };
        struct cls_snapshot *snap;
        int i, n_flows = 100 + 100 * round;

        CU_ASSERT_FATAL(cls != NULL);
        for (i = 0; i < n_flows; i++) {
            struct oko_flow f = random_flow(n_tables);
            int r1;

            if (round == 6) {
                /* Every flow names a port: packets from port 5 miss, after
                 * the filters that match them, if any. */
                f.mask.in_port = UINT32_MAX;
                f.key.in_port = 1 + rnd_below(4);
            }
            r1 = cls_add(cls, &f, NULL, 0);

            CU_ASSERT(r1 == 0 || r1 == 1);
            ref_add(&r, &f);
        }
        CU_ASSERT_EQUAL(cls_count(cls), r.n);
        snap = cls_snapshot_build(cls);
        CU_ASSERT_FATAL(snap != NULL);
        CU_ASSERT_EQUAL(cls_snapshot_n_rules(snap), r.n);
        CU_ASSERT(cls_snapshot_n_subtables(snap) > 10);
        compare(&r, snap, n_tables, 4000);
        cls_snapshot_free(snap, NULL);
        free(r.flows);
        cls_destroy(cls);
    }
}

/* Applies a selector to the reference: strict or not, delete or modify. */
static int
ref_apply(struct ref *r, const struct oko_flow *sel, bool strict,
          bool delete)
{
    size_t i, j = 0;
    int n = 0;

    for (i = 0; i < r->n; i++) {
        struct oko_flow *f = &r->flows[i].flow;
        const uint8_t *fk = (const uint8_t *) &f->key;
        const uint8_t *fm = (const uint8_t *) &f->mask;
        const uint8_t *sk = (const uint8_t *) &sel->key;
        const uint8_t *sm = (const uint8_t *) &sel->mask;
        bool hit = (sel->table == OKO_TABLE_ALL || sel->table == f->table)
                   && !((f->cookie ^ sel->cookie) & sel->cookie_mask);
        size_t b;

        if (strict) {
            hit = hit && f->priority == sel->priority
                  && f->filter_prog == sel->filter_prog
                  && !memcmp(&f->mask, &sel->mask, sizeof f->mask)
                  && !memcmp(&f->key, &sel->key, sizeof f->key);
        } else {
            hit = hit && (!sel->filter_prog
                          || sel->filter_prog == f->filter_prog);
            for (b = 0; hit && b < sizeof f->key; b++) {
                hit = !(sm[b] & ~fm[b]) && !((fk[b] ^ sk[b]) & sm[b]);
            }
        }
        if (hit) {
            n++;
            if (!delete) {
                memcpy(f->actions, sel->actions, sizeof f->actions);
                f->n_actions = sel->n_actions;
            }
        }
        if (!hit || !delete) {
            r->flows[j++] = r->flows[i];
        }
    }
    r->n = j;
    return n;
}

static void
test_delete_modify_random(void)
{
    struct cls *cls = cls_create(NULL);
    struct ref r = { NULL, 0, 0, 0 };
    int i, round;

    CU_ASSERT_FATAL(cls != NULL);
    for (i = 0; i < 400; i++) {
        struct oko_flow f = random_flow(2);

        cls_add(cls, &f, NULL, 0);
        ref_add(&r, &f);
    }
    for (round = 0; round < 60; round++) {
        struct cls_snapshot *snap;
        bool strict = rnd_below(2);
        bool del = rnd_below(3) != 0;
        struct oko_flow sel;
        int n_cls, n_ref;

        if (strict && r.n) {
            sel = r.flows[rnd_below((uint32_t) r.n)].flow;
            sel.cookie_mask = rnd_below(2) ? UINT64_MAX : 0;
        } else {
            /* A non-strict selector: a random flow's match with fewer
             * fields. */
            struct oko_flow src = random_flow(2);

            memset(&sel, 0, sizeof sel);
            sel.table = rnd_below(3) ? src.table : OKO_TABLE_ALL;
            sel.mask.eth_type = 0xffff;
            sel.key.eth_type = src.key.eth_type;
            sel.mask.in_port = rnd_below(2) ? src.mask.in_port : 0;
            sel.key.in_port = src.key.in_port & sel.mask.in_port;
            sel.cookie = src.cookie;
            sel.cookie_mask = rnd_below(2) ? 3 : 0;
            sel.filter_prog = rnd_below(4) ? 0 : src.filter_prog;
        }
        sel.n_actions = 1;
        sel.actions[0].type = OKO_ACT_OUTPUT;
        sel.actions[0].arg = 100 + (uint32_t) round;
        if (del) {
            n_cls = cls_delete(cls, &sel, strict);
        } else {
            n_cls = cls_modify(cls, &sel, strict);
        }
        n_ref = ref_apply(&r, &sel, strict, del);
        CU_ASSERT_EQUAL(n_cls, n_ref);
        CU_ASSERT_EQUAL(cls_count(cls), r.n);
        /* Add some back, so that the table does not drain. */
        for (i = 0; i < 20; i++) {
            struct oko_flow f = random_flow(2);

            cls_add(cls, &f, NULL, 0);
            ref_add(&r, &f);
        }
        snap = cls_snapshot_build(cls);
        CU_ASSERT_FATAL(snap != NULL);
        compare(&r, snap, 2, 300);
        /* The actions of every flow agree with the reference. */
        for (i = 0; i < (int) r.n; i++) {
            uint32_t j;
            bool found = false;

            for (j = 0; j < cls_snapshot_n_rules(snap); j++) {
                const struct cls_rule *cr = cls_snapshot_rule(snap, j);

                if (cr->id == r.flows[i].id) {
                    found = cr->flow.actions[0].arg
                            == r.flows[i].flow.actions[0].arg;
                }
            }
            CU_ASSERT(found);
        }
        cls_snapshot_free(snap, NULL);
    }
    free(r.flows);
    cls_destroy(cls);
}

/* ---------------------------------------------------------------------
 * Semantics on hand-written tables
 * ------------------------------------------------------------------- */

static struct oko_flow_key
tcp_key(uint32_t in_port, uint16_t dport)
{
    struct oko_flow_key k;

    memset(&k, 0, sizeof k);
    k.in_port = in_port;
    k.eth_type = 0x0800;
    k.ip_proto = 6;
    k.ipv4_src = 0x0a000001;
    k.ipv4_dst = 0x0a000002;
    k.tp_src = 1234;
    k.tp_dst = dport;
    return k;
}

/* Returns the priority of each rule of the chain as text, e.g.
 * "10f1 10f2 5", with fN for a filter. */
static const char *
chain_text(const struct cls_snapshot *snap, const struct cls_chain *c,
           int n)
{
    static char buf[256];
    size_t len = 0;
    int i;

    buf[0] = '\0';
    if (n < 0) {
        snprintf(buf, sizeof buf, "error %d", n);
        return buf;
    }
    for (i = 0; i < n; i++) {
        const struct oko_flow *f = &cls_snapshot_rule(snap, c->rules[i])->flow;

        len += (size_t) snprintf(buf + len, sizeof buf - len, "%s%u",
                                 i ? " " : "", f->priority);
        if (f->filter_prog) {
            len += (size_t) snprintf(buf + len, sizeof buf - len, "f%u",
                                     f->filter_prog);
        }
    }
    if (c->miss) {
        snprintf(buf + len, sizeof buf - len, "%smiss", n ? " " : "");
    }
    return buf;
}

static void
test_chain_semantics(void)
{
    struct cls *cls = cls_create(NULL);
    struct cls_snapshot *snap;
    struct cls_chain c;
    struct oko_flow_key k;
    int n;

    CU_ASSERT_FATAL(cls != NULL);
    cls_add(cls, &(struct oko_flow) { 0 }, NULL, 0);    /* placeholder */
    cls_delete(cls, &(struct oko_flow) { .table = OKO_TABLE_ALL }, false);
    CU_ASSERT_EQUAL(cls_count(cls), 0);

    cls_add(cls, &(struct oko_flow) { 0 }, NULL, 0);
    CU_ASSERT_EQUAL(cls_count(cls), 1);
    cls_delete(cls, &(struct oko_flow) { .table = OKO_TABLE_ALL }, false);

    {
        struct oko_flow f1 = parse("priority=10,tcp,tp_dst=80,filter_prog=1,"
                                   "actions=drop");
        struct oko_flow f2 = parse("priority=10,in_port=1,filter_prog=2,"
                                   "actions=drop");
        struct oko_flow f3 = parse("priority=5,in_port=1,actions=output:2");
        struct oko_flow f4 = parse("priority=20,in_port=9,actions=output:1");
        struct oko_flow f5 = parse("priority=1,actions=output:3");
        struct oko_flow f6 = parse("priority=3,tcp,filter_prog=3,"
                                   "actions=drop");
        struct oko_flow f7 = parse("priority=5,in_port=2,filter_prog=4,"
                                   "actions=drop");
        struct oko_flow f8 = parse("priority=5,in_port=2,tcp,"
                                   "actions=output:4");

        CU_ASSERT_EQUAL(cls_add(cls, &f1, NULL, 0), 0);
        CU_ASSERT_EQUAL(cls_add(cls, &f2, NULL, 0), 0);
        CU_ASSERT_EQUAL(cls_add(cls, &f3, NULL, 0), 0);
        CU_ASSERT_EQUAL(cls_add(cls, &f4, NULL, 0), 0);
        CU_ASSERT_EQUAL(cls_add(cls, &f5, NULL, 0), 0);
        CU_ASSERT_EQUAL(cls_add(cls, &f6, NULL, 0), 0);
        CU_ASSERT_EQUAL(cls_add(cls, &f7, NULL, 0), 0);
        CU_ASSERT_EQUAL(cls_add(cls, &f8, NULL, 0), 0);
    }
    snap = cls_snapshot_build(cls);
    CU_ASSERT_FATAL(snap != NULL);

    /* Both filters above the first unconditional match (priority 5), in
     * priority order, ties in insertion order. */
    k = tcp_key(1, 80);
    n = cls_lookup(snap, 0, &k, &c);
    CU_ASSERT_STRING_EQUAL(chain_text(snap, &c, n), "10f1 10f2 5");

    /* Port 22: f1 does not match; the priority-3 filter is below the
     * unconditional priority-5 flow. */
    k = tcp_key(1, 22);
    n = cls_lookup(snap, 0, &k, &c);
    CU_ASSERT_STRING_EQUAL(chain_text(snap, &c, n), "10f2 5");

    /* in_port 3: f1, then f6 (priority 3), then the catch-all. */
    k = tcp_key(3, 80);
    n = cls_lookup(snap, 0, &k, &c);
    CU_ASSERT_STRING_EQUAL(chain_text(snap, &c, n), "10f1 3f3 1");

    /* in_port 9: an unconditional flow above every filter. */
    k = tcp_key(9, 80);
    n = cls_lookup(snap, 0, &k, &c);
    CU_ASSERT_STRING_EQUAL(chain_text(snap, &c, n), "20");

    /* Equal priority 5: the filter added first comes first. */
    k = tcp_key(2, 22);
    n = cls_lookup(snap, 0, &k, &c);
    CU_ASSERT_STRING_EQUAL(chain_text(snap, &c, n), "5f4 5");

    /* Table 1 is empty: a miss. */
    n = cls_lookup(snap, 1, &k, &c);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(c.miss, 1);
    cls_snapshot_free(snap, NULL);

    /* Without the catch-all, a packet may end with filters and a miss. */
    {
        struct oko_flow sel = parse_sel("priority=1");

        CU_ASSERT_EQUAL(cls_delete(cls, &sel, true), 1);
    }
    snap = cls_snapshot_build(cls);
    k = tcp_key(3, 80);
    n = cls_lookup(snap, 0, &k, &c);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_STRING_EQUAL(chain_text(snap, &c, n), "10f1 3f3 miss");
    cls_snapshot_free(snap, NULL);
    cls_destroy(cls);
}

static void
test_ties_and_replace(void)
{
    struct cls *cls = cls_create(NULL);
    struct cls_snapshot *snap;
    struct cls_chain c;
    struct oko_flow_key k = tcp_key(1, 80);
    struct oko_flow a = parse("priority=7,tcp,actions=output:1");
    struct oko_flow b = parse("priority=7,in_port=1,actions=output:2");
    struct oko_flow a2 = parse("priority=7,tcp,actions=output:3");
    int n;

    CU_ASSERT_EQUAL(cls_add(cls, &a, NULL, 0), 0);
    CU_ASSERT_EQUAL(cls_add(cls, &b, NULL, 0), 0);
    snap = cls_snapshot_build(cls);
    n = cls_lookup(snap, 0, &k, &c);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(cls_snapshot_rule(snap, c.rules[0])->flow.actions[0].arg,
                    1);
    cls_snapshot_free(snap, NULL);

    /* Re-adding a's match replaces it in place: it still wins the tie. */
    CU_ASSERT_EQUAL(cls_add(cls, &a2, NULL, 0), 1);
    CU_ASSERT_EQUAL(cls_count(cls), 2);
    snap = cls_snapshot_build(cls);
    n = cls_lookup(snap, 0, &k, &c);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(cls_snapshot_rule(snap, c.rules[0])->flow.actions[0].arg,
                    3);
    CU_ASSERT_EQUAL(cls_snapshot_rule(snap, c.rules[0])->id, 1);
    cls_snapshot_free(snap, NULL);

    /* Deleted and added again, it is the newest: b wins. */
    CU_ASSERT_EQUAL(cls_delete(cls, &a2, true), 1);
    CU_ASSERT_EQUAL(cls_add(cls, &a2, NULL, 0), 0);
    snap = cls_snapshot_build(cls);
    n = cls_lookup(snap, 0, &k, &c);
    CU_ASSERT_EQUAL(cls_snapshot_rule(snap, c.rules[0])->flow.actions[0].arg,
                    2);
    cls_snapshot_free(snap, NULL);
    cls_destroy(cls);
}

static void
test_delete_modify_cookies(void)
{
    struct cls *cls = cls_create(NULL);
    struct oko_flow f;
    char line[128];
    int i;

    for (i = 0; i < 8; i++) {
        snprintf(line, sizeof line, "cookie=0x%x,priority=%d,in_port=%d,"
                 "actions=output:1", 0x10 * (i % 4) + i, i, i);
        f = parse(line);
        CU_ASSERT_EQUAL(cls_add(cls, &f, NULL, 0), 0);
    }
    /* Cookies 0x00 0x11 0x22 0x33 0x04 0x15 0x26 0x37. */
    f = parse_sel("cookie=0x10/0xf0");
    CU_ASSERT_EQUAL(cls_modify(cls, &f, false), 2);
    f = parse_sel("cookie=0x20/0xf0");
    CU_ASSERT_EQUAL(cls_delete(cls, &f, false), 2);
    CU_ASSERT_EQUAL(cls_count(cls), 6);
    /* Strict: priority and match must both agree. */
    f = parse_sel("priority=3,in_port=4");
    CU_ASSERT_EQUAL(cls_delete(cls, &f, true), 0);
    f = parse_sel("priority=4,in_port=4");
    CU_ASSERT_EQUAL(cls_delete(cls, &f, true), 1);
    /* A strict delete with a wrong cookie does nothing. */
    f = parse_sel("priority=3,in_port=3,cookie=0x99");
    CU_ASSERT_EQUAL(cls_delete(cls, &f, true), 0);
    f = parse_sel("priority=3,in_port=3,cookie=0x33");
    CU_ASSERT_EQUAL(cls_delete(cls, &f, true), 1);
    /* Non-strict on a field: in_port=0 covers only that flow; the empty
     * selector covers all. */
    f = parse_sel("in_port=0");
    CU_ASSERT_EQUAL(cls_delete(cls, &f, false), 1);
    f = parse_sel("table=1");
    CU_ASSERT_EQUAL(cls_delete(cls, &f, false), 0);
    f = parse_sel("");
    CU_ASSERT_EQUAL(cls_delete(cls, &f, false), 3);
    CU_ASSERT_EQUAL(cls_count(cls), 0);
    cls_destroy(cls);
}

/* Early termination: once a high-priority exact flow matches, subtables
 * whose best rank is lower are not probed, and the chain stays right. */
static void
test_early_termination(void)
{
    struct cls *cls = cls_create(NULL);
    struct cls_snapshot *snap;
    struct cls_lookup_stats st = { 0, 0 };
    struct cls_chain c;
    struct oko_flow_key k;
    struct oko_flow f;
    char line[128];
    int i, n;

    f = parse("priority=100,in_port=1,tcp,tp_dst=80,actions=output:2");
    cls_add(cls, &f, NULL, 0);
    f = parse("priority=200,in_port=1,tcp,tp_dst=80,filter_prog=1,"
              "actions=drop");
    cls_add(cls, &f, NULL, 0);
    /* 50 lower-priority subtables (distinct masks). */
    for (i = 0; i < 50; i++) {
        snprintf(line, sizeof line, "priority=%d,ip,nw_src=10.0.0.0/%d,"
                 "actions=output:3", 10 + i, 8 + i % 25);
        f = parse(line);
        if (i >= 25) {
            f.mask.tp_src = 0xffff;
            f.mask.ip_proto = 0xff;
            f.key.ip_proto = 6;
            f.key.tp_src = 1234;
        }
        cls_add(cls, &f, NULL, 0);
    }
    /* One filter below the unconditional match, in its own subtable: not
     * part of the chain. */
    f = parse("priority=99,ip,nw_dst=10.0.0.2,filter_prog=2,actions=drop");
    cls_add(cls, &f, NULL, 0);
    snap = cls_snapshot_build(cls);
    CU_ASSERT(cls_snapshot_n_subtables(snap) >= 50);

    k = tcp_key(1, 80);
    n = cls_lookup_stats(snap, 0, &k, &c, &st);
    CU_ASSERT_STRING_EQUAL(chain_text(snap, &c, n), "200f1 100");
    CU_ASSERT_EQUAL(st.lookups, 1);
    CU_ASSERT_EQUAL(st.subtables_probed, 1);

    /* Port 81: the exact subtable misses; the filter at 99 and the
     * prefixes are probed in rank order until the best match (58: the /32
     * at 59 does not match 10.0.0.1) beats the rest. */
    memset(&st, 0, sizeof st);
    k = tcp_key(1, 81);
    n = cls_lookup_stats(snap, 0, &k, &c, &st);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_STRING_EQUAL(chain_text(snap, &c, n), "99f2 58");
    CU_ASSERT(st.subtables_probed < cls_snapshot_n_subtables(snap));
    n = cls_lookup_linear(snap, 0, &k, &c);
    CU_ASSERT_STRING_EQUAL(chain_text(snap, &c, n), "99f2 58");
    cls_snapshot_free(snap, NULL);
    cls_destroy(cls);
}

static void
test_chain_too_long(void)
{
    struct cls *cls = cls_create(NULL);
    struct cls_snapshot *snap;
    struct cls_chain c;
    struct oko_flow_key k = tcp_key(1, 80);
    struct oko_flow f;
    int i, n;

    /* CLS_CHAIN_MAX - 1 filters and an unconditional flow: fits. */
    for (i = 0; i < CLS_CHAIN_MAX - 1; i++) {
        f = parse("priority=10,tcp,actions=drop");
        f.filter_prog = 1 + (uint32_t) i;
        CU_ASSERT_EQUAL(cls_add(cls, &f, NULL, 0), 0);
    }
    f = parse("priority=5,actions=output:1");
    cls_add(cls, &f, NULL, 0);
    snap = cls_snapshot_build(cls);
    n = cls_lookup(snap, 0, &k, &c);
    CU_ASSERT_EQUAL(n, CLS_CHAIN_MAX);
    CU_ASSERT_EQUAL(c.miss, 0);
    cls_snapshot_free(snap, NULL);

    /* One filter more: too long for a chain. */
    f = parse("priority=9,in_port=1,filter_prog=99,actions=drop");
    cls_add(cls, &f, NULL, 0);
    snap = cls_snapshot_build(cls);
    CU_ASSERT_EQUAL(cls_lookup(snap, 0, &k, &c), -E2BIG);
    CU_ASSERT_EQUAL(cls_lookup_linear(snap, 0, &k, &c), -E2BIG);
    /* Unless a higher unconditional flow cuts it short. */
    cls_snapshot_free(snap, NULL);
    f = parse("priority=10,in_port=1,tcp,actions=output:2");
    cls_add(cls, &f, NULL, 0);
    snap = cls_snapshot_build(cls);
    n = cls_lookup(snap, 0, &k, &c);
    CU_ASSERT_EQUAL(n, CLS_CHAIN_MAX);
    cls_snapshot_free(snap, NULL);
    cls_destroy(cls);
}

/* ---------------------------------------------------------------------
 * Snapshots: allocator, position independence, generations
 * ------------------------------------------------------------------- */

struct count_alloc {
    int allocs, frees;
};

static void *
ca_alloc(void *ctx, size_t size, size_t align)
{
    struct count_alloc *ca = ctx;
    void *p = aligned_alloc(align, (size + align - 1) & ~(align - 1));

    ca->allocs++;
    if (p) {
        memset(p, 0, size);
    }
    return p;
}

static void
ca_free(void *ctx, void *p)
{
    struct count_alloc *ca = ctx;

    ca->frees++;
    free(p);
}

static void
test_snapshot_memory(void)
{
    struct count_alloc ca = { 0, 0 };
    struct cls_allocator a = { ca_alloc, ca_free, &ca };
    struct cls *cls = cls_create(&a);
    struct cls_snapshot *snap, *copy;
    struct ref r = { NULL, 0, 0, 0 };
    uint64_t gen0 = cls_generation(cls);
    size_t size;
    int i;

    for (i = 0; i < 200; i++) {
        struct oko_flow f = random_flow(1);

        cls_add(cls, &f, NULL, 0);
        ref_add(&r, &f);
    }
    CU_ASSERT(cls_generation(cls) > gen0);
    snap = cls_snapshot_build(cls);
    CU_ASSERT_FATAL(snap != NULL);
    CU_ASSERT_EQUAL(ca.allocs, 1);
    CU_ASSERT_EQUAL(cls_snapshot_generation(snap), cls_generation(cls));

    /* No pointers inside: a byte copy at another address works, after the
     * original is freed (and its memory poisoned by ASan). */
    size = cls_snapshot_size(snap);
    copy = aligned_alloc(64, (size + 63) & ~(size_t) 63);
    CU_ASSERT_FATAL(copy != NULL);
    memcpy(copy, snap, size);
    cls_snapshot_free(snap, &a);
    CU_ASSERT_EQUAL(ca.frees, 1);
    compare(&r, copy, 1, 2000);
    free(copy);

    /* Empty classifier: every lookup misses. */
    {
        struct cls *empty = cls_create(NULL);
        struct cls_snapshot *s = cls_snapshot_build(empty);
        struct oko_flow_key k = tcp_key(1, 1);
        struct cls_chain c;

        CU_ASSERT_FATAL(s != NULL);
        CU_ASSERT_EQUAL(cls_lookup(s, 0, &k, &c), 0);
        CU_ASSERT_EQUAL(c.miss, 1);
        CU_ASSERT_EQUAL(cls_lookup(s, 254, &k, &c), 0);
        cls_snapshot_free(s, NULL);
        cls_destroy(empty);
    }
    free(r.flows);
    cls_destroy(cls);
}

static void
test_iteration(void)
{
    struct cls *cls = cls_create(NULL);
    struct oko_flow f;
    const struct oko_flow *g;
    size_t pos = 0;
    char err[128];
    int n = 0;

    f = parse("priority=1,in_port=1,actions=drop");
    cls_add(cls, &f, NULL, 0);
    f = parse("priority=2,in_port=2,actions=drop");
    cls_add(cls, &f, NULL, 0);
    f.table = 255;
    CU_ASSERT_EQUAL(cls_add(cls, &f, err, sizeof err), -EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "bad table 255 (0 to 254)");
    while ((g = cls_next(cls, &pos)) != NULL) {
        CU_ASSERT_EQUAL(g->priority, (uint16_t) (n + 1));
        n++;
    }
    CU_ASSERT_EQUAL(n, 2);
    cls_destroy(cls);
}

static void
test_map_rules(void)
{
    struct cls *cls = cls_create(NULL);
    struct cls_snapshot *a, *b;
    uint32_t *map, i, j, kept = 0, gone = 0;
    struct oko_flow sel;
    int k;

    for (k = 0; k < 300; k++) {
        struct oko_flow f = random_flow(2);

        cls_add(cls, &f, NULL, 0);
    }
    a = cls_snapshot_build(cls);
    memset(&sel, 0, sizeof sel);
    sel.table = 1;
    CU_ASSERT(cls_delete(cls, &sel, false) > 0);
    for (k = 0; k < 50; k++) {
        struct oko_flow f = random_flow(2);

        cls_add(cls, &f, NULL, 0);
    }
    b = cls_snapshot_build(cls);
    map = calloc(cls_snapshot_n_rules(a), sizeof *map);
    CU_ASSERT_FATAL(map != NULL);
    CU_ASSERT_EQUAL(cls_snapshot_map_rules(a, b, map), 0);
    for (i = 0; i < cls_snapshot_n_rules(a); i++) {
        const struct cls_rule *ra = cls_snapshot_rule(a, i);

        if (map[i] != UINT32_MAX) {
            CU_ASSERT_EQUAL(cls_snapshot_rule(b, map[i])->id, ra->id);
            CU_ASSERT(!memcmp(&cls_snapshot_rule(b, map[i])->flow.key,
                              &ra->flow.key, sizeof ra->flow.key));
            kept++;
        } else {
            for (j = 0; j < cls_snapshot_n_rules(b); j++) {
                CU_ASSERT(cls_snapshot_rule(b, j)->id != ra->id);
            }
            /* Only table-1 flows were deleted. */
            CU_ASSERT_EQUAL(ra->flow.table, 1);
            gone++;
        }
    }
    CU_ASSERT(kept > 0);
    CU_ASSERT(gone > 0);
    free(map);
    cls_snapshot_free(a, NULL);
    cls_snapshot_free(b, NULL);
    cls_destroy(cls);
}

/* Many flows: adds and replacements go through the master table's index
 * (a linear search would take minutes under ASan here). */
static void
test_many_flows(void)
{
    struct cls *cls = cls_create(NULL);
    struct cls_snapshot *snap;
    struct cls_chain c;
    struct oko_flow f, sel;
    int i, replaced = 0, n;

    memset(&f, 0, sizeof f);
    f.mask.in_port = UINT32_MAX;
    f.mask.tp_dst = 0xffff;
    for (i = 0; i < 50000; i++) {
        f.key.in_port = (uint32_t) i % 1000;
        f.key.tp_dst = (uint16_t) (i / 1000);
        f.priority = (uint16_t) (i % 7);
        CU_ASSERT_EQUAL_FATAL(cls_add(cls, &f, NULL, 0), 0);
    }
    /* The same matches again, with new actions: all replaced. */
    f.n_actions = 1;
    f.actions[0].type = OKO_ACT_OUTPUT;
    f.actions[0].arg = 7;
    for (i = 0; i < 50000; i++) {
        f.key.in_port = (uint32_t) i % 1000;
        f.key.tp_dst = (uint16_t) (i / 1000);
        f.priority = (uint16_t) (i % 7);
        replaced += cls_add(cls, &f, NULL, 0) == 1;
    }
    CU_ASSERT_EQUAL(replaced, 50000);
    CU_ASSERT_EQUAL(cls_count(cls), 50000);
    /* Delete a tenth, then re-add: new flows again. */
    memset(&sel, 0, sizeof sel);
    sel.table = OKO_TABLE_ALL;
    sel.mask.tp_dst = 0xffff;
    for (i = 0; i < 5; i++) {
        sel.key.tp_dst = (uint16_t) i;
        CU_ASSERT_EQUAL(cls_delete(cls, &sel, false), 1000);
    }
    CU_ASSERT_EQUAL(cls_count(cls), 45000);
    f.key.in_port = 3;
    f.key.tp_dst = 2;
    f.priority = (uint16_t) 2003 % 7;
    CU_ASSERT_EQUAL(cls_add(cls, &f, NULL, 0), 0);
    f.key.tp_dst = 20;
    f.priority = (uint16_t) 20003 % 7;
    CU_ASSERT_EQUAL(cls_add(cls, &f, NULL, 0), 1);
    snap = cls_snapshot_build(cls);
    CU_ASSERT_FATAL(snap != NULL);
    CU_ASSERT_EQUAL(cls_snapshot_n_rules(snap), 45001);
    f.key.tp_dst = 20;
    n = cls_lookup(snap, 0, &f.key, &c);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(cls_snapshot_rule(snap, c.rules[0])->flow.actions[0].arg,
                    7);
    cls_snapshot_free(snap, NULL);
    cls_destroy(cls);
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    CU_ASSERT_FATAL(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void
test_flow_file(void)
{
    char path[] = "/tmp/oko_test_flows_XXXXXX", err[512], expect[600];
    struct cls *cls = cls_create(NULL);
    struct cls_snapshot *snap;
    struct cls_chain c;
    struct oko_flow_key k = tcp_key(1, 80);
    int fd = mkstemp(path), n;

    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    write_file(path, "# the demo table\n"
               "\n"
               "priority=10,in_port=1,tcp,tp_dst=80,filter_prog=1,"
               "actions=drop   # filtered web\n"
               "  priority=1,in_port=1,actions=output:2\r\n"
               "priority=0,actions=drop\n");
    n = oko_flow_file_load(path, cls, err, sizeof err);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(cls_count(cls), 3);
    snap = cls_snapshot_build(cls);
    n = cls_lookup(snap, 0, &k, &c);
    CU_ASSERT_STRING_EQUAL(chain_text(snap, &c, n), "10f1 1");
    cls_snapshot_free(snap, NULL);

    /* An error on line 3: nothing is added. */
    write_file(path, "priority=5,actions=drop\n\nudp,tp_dst=99999,"
               "actions=drop\n");
    n = oko_flow_file_load(path, cls, err, sizeof err);
    CU_ASSERT_EQUAL(n, -EINVAL);
    snprintf(expect, sizeof expect, "%s:3: value 99999 out of range for "
             "tp_dst (0 to 65535) (token 2 \"tp_dst=99999\" at column 5)",
             path);
    CU_ASSERT_STRING_EQUAL(err, expect);
    CU_ASSERT_EQUAL(cls_count(cls), 3);

    unlink(path);
    CU_ASSERT_EQUAL(oko_flow_file_load(path, cls, err, sizeof err), -ENOENT);
    CU_ASSERT(strstr(err, "No such file") != NULL);
    cls_destroy(cls);
}

/* ---------------------------------------------------------------------
 * Exact-match cache
 * ------------------------------------------------------------------- */

static void
test_emc(void)
{
    struct cls *cls = cls_create(NULL);
    struct cls_emc *emc = cls_emc_create(64);
    struct cls_snapshot *snap, *snap2;
    struct cls_emc_stats st;
    struct cls_chain scratch;
    const struct cls_chain *c;
    struct oko_flow_key k = tcp_key(1, 80), k2 = tcp_key(2, 80);
    struct oko_flow f;
    uint32_t h = oko_flow_key_hash(&k, 0), h2 = oko_flow_key_hash(&k2, 0);
    int n, i;

    CU_ASSERT_FATAL(emc != NULL);
    CU_ASSERT_PTR_NULL(cls_emc_create(3));
    CU_ASSERT_EQUAL(errno, EINVAL);
    f = parse("priority=10,tcp,filter_prog=1,actions=drop");
    cls_add(cls, &f, NULL, 0);
    f = parse("priority=5,in_port=1,actions=output:2");
    cls_add(cls, &f, NULL, 0);
    snap = cls_snapshot_build(cls);

    /* Miss, then hit with the same chain. */
    n = cls_emc_classify(emc, snap, 0, &k, h, &scratch, &c);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_PTR_EQUAL(c, &scratch);
    n = cls_emc_classify(emc, snap, 0, &k, h, &scratch, &c);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT(c != &scratch);
    CU_ASSERT_EQUAL(c->rules[0], scratch.rules[0]);
    CU_ASSERT_EQUAL(c->rules[1], scratch.rules[1]);
    cls_emc_get_stats(emc, &st);
    CU_ASSERT_EQUAL(st.hits, 1);
    CU_ASSERT_EQUAL(st.misses, 1);
    CU_ASSERT_EQUAL(st.inserts, 1);

    /* Another key, another table: their own entries. */
    n = cls_emc_classify(emc, snap, 0, &k2, h2, &scratch, &c);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(c->miss, 1);
    CU_ASSERT_PTR_NULL(cls_emc_lookup(emc, cls_snapshot_generation(snap), 1,
                                      &k, h));
    CU_ASSERT_PTR_NOT_NULL(cls_emc_lookup(emc, cls_snapshot_generation(snap),
                                          0, &k2, h2));

    /* A flow-table change: the new generation misses, then caches the new
     * chain. */
    f = parse("priority=20,in_port=1,actions=output:9");
    cls_add(cls, &f, NULL, 0);
    snap2 = cls_snapshot_build(cls);
    CU_ASSERT(cls_snapshot_generation(snap2) != cls_snapshot_generation(snap));
    CU_ASSERT_PTR_NULL(cls_emc_lookup(emc, cls_snapshot_generation(snap2), 0,
                                      &k, h));
    n = cls_emc_classify(emc, snap2, 0, &k, h, &scratch, &c);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(cls_snapshot_rule(snap2, c->rules[0])->flow.priority, 20);
    n = cls_emc_classify(emc, snap2, 0, &k, h, &scratch, &c);
    CU_ASSERT(c != &scratch);
    CU_ASSERT_EQUAL(cls_snapshot_rule(snap2, c->rules[0])->flow.priority, 20);

    /* Three keys in one 2-way set (same hash): the oldest is evicted, and
     * a wrong key with the same hash never hits. */
    {
        struct oko_flow_key a = tcp_key(1, 1), b = tcp_key(1, 2),
                            d = tcp_key(1, 3);
        uint64_t g = cls_snapshot_generation(snap2);
        struct cls_chain ca = { .n_rules = 1, .rules = { 11 } };
        struct cls_chain cb = { .n_rules = 1, .rules = { 22 } };
        struct cls_chain cd = { .n_rules = 1, .rules = { 33 } };

        cls_emc_insert(emc, g, 0, &a, 77, &ca);
        cls_emc_insert(emc, g, 0, &b, 77, &cb);
        CU_ASSERT_EQUAL(cls_emc_lookup(emc, g, 0, &a, 77)->rules[0], 11);
        CU_ASSERT_EQUAL(cls_emc_lookup(emc, g, 0, &b, 77)->rules[0], 22);
        CU_ASSERT_PTR_NULL(cls_emc_lookup(emc, g, 0, &d, 77));
        cls_emc_insert(emc, g, 0, &d, 77, &cd);
        CU_ASSERT_PTR_NULL(cls_emc_lookup(emc, g, 0, &a, 77));
        CU_ASSERT_EQUAL(cls_emc_lookup(emc, g, 0, &b, 77)->rules[0], 22);
        CU_ASSERT_EQUAL(cls_emc_lookup(emc, g, 0, &d, 77)->rules[0], 33);
        /* Re-inserting a present key updates it in place. */
        cls_emc_insert(emc, g, 0, &b, 77, &ca);
        CU_ASSERT_EQUAL(cls_emc_lookup(emc, g, 0, &b, 77)->rules[0], 11);
        CU_ASSERT_EQUAL(cls_emc_lookup(emc, g, 0, &d, 77)->rules[0], 33);
    }

    /* Flush empties it. */
    cls_emc_flush(emc);
    CU_ASSERT_PTR_NULL(cls_emc_lookup(emc, cls_snapshot_generation(snap2), 0,
                                      &k, h));

    /* Many keys through a small cache: every answer is still right. */
    for (i = 0; i < 2000; i++) {
        struct oko_flow_key x = tcp_key(1 + (uint32_t) (i % 3),
                                        (uint16_t) (i % 10));
        struct cls_chain ref;
        int nr = cls_lookup(snap2, 0, &x, &ref);

        n = cls_emc_classify(emc, snap2, 0, &x, oko_flow_key_hash(&x, 0),
                             &scratch, &c);
        CU_ASSERT_EQUAL(n, nr);
        CU_ASSERT_EQUAL(c->n_rules, ref.n_rules);
        CU_ASSERT_EQUAL(c->miss, ref.miss);
        CU_ASSERT(!memcmp(c->rules, ref.rules,
                          ref.n_rules * sizeof ref.rules[0]));
    }
    cls_emc_get_stats(emc, &st);
    CU_ASSERT(st.hits > 1000);

    /* Insertion probability: never, then about one miss in four. */
    cls_emc_flush(emc);
    cls_emc_set_insert_inv_prob(emc, 0);
    for (i = 0; i < 100; i++) {
        n = cls_emc_classify(emc, snap2, 0, &k, h, &scratch, &c);
        CU_ASSERT_PTR_EQUAL(c, &scratch);
    }
    cls_emc_set_insert_inv_prob(emc, 4);
    {
        int first_hit = -1;

        for (i = 0; i < 100 && first_hit < 0; i++) {
            cls_emc_classify(emc, snap2, 0, &k, h, &scratch, &c);
            if (c != &scratch) {
                first_hit = i;
            }
        }
        CU_ASSERT(first_hit > 0 && first_hit < 100);
    }

    cls_snapshot_free(snap, NULL);
    cls_snapshot_free(snap2, NULL);
    cls_emc_destroy(emc);
    cls_destroy(cls);
}

static const struct cu_test tests[] = {
    { "TSS equals the reference on random tables", test_random_vs_reference },
    { "delete and modify against the reference", test_delete_modify_random },
    { "filter chain semantics", test_chain_semantics },
    { "ties and replacement", test_ties_and_replace },
    { "delete/modify with cookies, strict", test_delete_modify_cookies },
    { "early termination", test_early_termination },
    { "chain length limit", test_chain_too_long },
    { "snapshot memory and position independence", test_snapshot_memory },
    { "iteration and bad table", test_iteration },
    { "50,000 flows", test_many_flows },
    { "flow files", test_flow_file },
    { "rule mapping across snapshots", test_map_rules },
    { "exact-match cache", test_emc },
    { NULL, NULL }
};
CU_MAIN("classifier", tests)
