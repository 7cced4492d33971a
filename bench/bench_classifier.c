/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * bench_classifier.c -- how fast the flow library classifies packets.
 *
 *     bench_classifier [-n PASSES]
 *
 * Over 65,536 distinct TCP/UDP 5-tuples (as frames and as parsed keys),
 * with a flow table of 1 flow and of 300 wildcard flows (random prefixes
 * of source and destination addresses, optional protocol and port, random
 * priorities, plus a catch-all), prints the time to build the snapshot
 * and ns per packet for: the packet parser; the tuple-space lookup alone
 * (and the subtables it probes on average); exact-match cache + lookup
 * with every 5-tuple active (the cache, 8,192 entries, mostly misses;
 * caching every miss, and one miss in 100 as OVS does); and with 4,096
 * active 5-tuples (mostly hits).  Each figure is the best of
 * PASSES (default 5) passes, in CPU time of the benchmarking thread (the
 * machine may be shared).
 *
 * A benchmark, not a test: it never fails on timings.
 */
#include "oko_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_TUPLES 65536
#define EMC_ENTRIES 8192
#define FRAME_LEN 64

static uint64_t rng = 88172645463325252ull;

static uint64_t
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Builds an Ethernet/IPv4/TCP-or-UDP frame of FRAME_LEN bytes. */
static void
make_frame(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto,
           uint16_t sport, uint16_t dport)
{
    memset(f, 0, FRAME_LEN);
    f[0] = 0x02;
    f[5] = 0x01;
    f[6] = 0x02;
    f[11] = 0x02;
    f[12] = 0x08;
    f[14] = 0x45;
    f[16] = 0;
    f[17] = FRAME_LEN - 14;
    f[22] = 64;
    f[23] = proto;
    f[26] = (uint8_t) (src >> 24);
    f[27] = (uint8_t) (src >> 16);
    f[28] = (uint8_t) (src >> 8);
    f[29] = (uint8_t) src;
    f[30] = (uint8_t) (dst >> 24);
    f[31] = (uint8_t) (dst >> 16);
    f[32] = (uint8_t) (dst >> 8);
    f[33] = (uint8_t) dst;
    f[34] = (uint8_t) (sport >> 8);
    f[35] = (uint8_t) sport;
    f[36] = (uint8_t) (dport >> 8);
    f[37] = (uint8_t) dport;
    if (proto == 6) {
        f[46] = 0x50;
        f[47] = 0x10;
    }
}

static void
add(struct cls *cls, const char *line)
{
    struct oko_flow f;
    char err[256];

    if (oko_flow_parse(line, 0, &f, err, sizeof err)
        || cls_add(cls, &f, err, sizeof err) < 0) {
        fprintf(stderr, "bench_classifier: %s: %s\n", line, err);
        exit(1);
    }
}

/* 300 wildcard flows over the 10.0.0.0/16 space of the tuples. */
static void
add_wildcards(struct cls *cls)
{
    static const int plens[] = { 8, 16, 20, 24, 28, 32 };
    char line[256];
    int i;

    for (i = 0; i < 300; i++) {
        uint32_t a = 0x0a000000 | (uint32_t) (rnd() & 0xffff);
        int pl = plens[rnd() % 6];
        int len = snprintf(line, sizeof line, "priority=%d,in_port=1,",
                           (int) (rnd() % 1000) + 1);
        uint32_t net = pl ? a & (0xffffffffu << (32 - pl)) : 0;
        const char *field = rnd() % 2 ? "nw_src" : "nw_dst";

        switch (rnd() % 4) {
        case 0:
            len += snprintf(line + len, sizeof line - (size_t) len,
                            "tcp,tp_dst=%d,", (int) (rnd() % 1024));
            break;
        case 1:
            len += snprintf(line + len, sizeof line - (size_t) len, "udp,");
            break;
        default:
            len += snprintf(line + len, sizeof line - (size_t) len, "ip,");
            break;
        }
        snprintf(line + len, sizeof line - (size_t) len,
                 "%s=%u.%u.%u.%u/%d,actions=output:%d", field, net >> 24,
                 (net >> 16) & 0xff, (net >> 8) & 0xff, net & 0xff, pl,
                 (int) (rnd() % 4) + 1);
        add(cls, line);
    }
    add(cls, "priority=0,actions=output:2");
}

struct data {
    uint8_t (*frames)[FRAME_LEN];
    struct oko_flow_key *keys;
    uint32_t *hashes;
};

static void
run(const char *name, struct cls *cls, const struct data *d, int passes)
{
    double t_build = now_ns();
    struct cls_snapshot *snap = cls_snapshot_build(cls);
    double t_built = now_ns();
    struct cls_lookup_stats st = { 0, 0 };
    struct cls_chain chain;
    const struct cls_chain *cp;
    struct cls_emc *emc = cls_emc_create(EMC_ENTRIES);
    struct cls_emc *emc100 = cls_emc_create(EMC_ENTRIES);
    double best_lookup = 1e99, best_emc_all = 1e99, best_emc_hot = 1e99;
    double best_emc100 = 1e99;
    uint64_t sink = 0;
    int p, i;

    if (!snap || !emc || !emc100) {
        perror("bench_classifier");
        exit(1);
    }
    t_build = t_built - t_build;
    for (i = 0; i < N_TUPLES; i++) {
        cls_lookup_stats(snap, 0, &d->keys[i], &chain, &st);
    }
    for (p = 0; p < passes; p++) {
        double t0 = now_ns(), t;

        for (i = 0; i < N_TUPLES; i++) {
            sink += (uint64_t) cls_lookup(snap, 0, &d->keys[i], &chain);
            sink += chain.rules[0];
        }
        t = (now_ns() - t0) / N_TUPLES;
        best_lookup = t < best_lookup ? t : best_lookup;

        t0 = now_ns();
        for (i = 0; i < N_TUPLES; i++) {
            sink += (uint64_t) cls_emc_classify(emc, snap, 0, &d->keys[i],
                                                d->hashes[i], &chain, &cp);
            sink += cp->rules[0];
        }
        t = (now_ns() - t0) / N_TUPLES;
        best_emc_all = t < best_emc_all ? t : best_emc_all;

        cls_emc_set_insert_inv_prob(emc100, 100);
        t0 = now_ns();
        for (i = 0; i < N_TUPLES; i++) {
            sink += (uint64_t) cls_emc_classify(emc100, snap, 0, &d->keys[i],
                                                d->hashes[i], &chain, &cp);
            sink += cp->rules[0];
        }
        t = (now_ns() - t0) / N_TUPLES;
        best_emc100 = t < best_emc100 ? t : best_emc100;

        t0 = now_ns();
        for (i = 0; i < N_TUPLES; i++) {
            int j = i & 4095;

            sink += (uint64_t) cls_emc_classify(emc, snap, 0, &d->keys[j],
                                                d->hashes[j], &chain, &cp);
            sink += cp->rules[0];
        }
        t = (now_ns() - t0) / N_TUPLES;
        best_emc_hot = t < best_emc_hot ? t : best_emc_hot;
    }
    printf("%s: %u rules, %u subtables, snapshot built in %.0f us\n"
           "  lookup %.1f ns (%.1f subtables probed); exact-match cache + "
           "lookup: 64k active tuples %.1f ns (%.1f ns inserting 1 miss in "
           "100), 4k active tuples %.1f ns\n",
           name, cls_snapshot_n_rules(snap), cls_snapshot_n_subtables(snap),
           t_build / 1e3,
           best_lookup, (double) st.subtables_probed / (double) st.lookups,
           best_emc_all, best_emc100, best_emc_hot);
    if (sink == 42) {
        printf("\n");
    }
    cls_emc_destroy(emc);
    cls_emc_destroy(emc100);
    cls_snapshot_free(snap, NULL);
}

int
main(int argc, char **argv)
{
    struct data d;
    struct cls *one, *many;
    double best_parse = 1e99;
    uint64_t sink = 0;
    int passes = 5, p, i;

    if (argc == 3 && !strcmp(argv[1], "-n")) {
        passes = atoi(argv[2]) > 0 ? atoi(argv[2]) : 1;
    } else if (argc != 1) {
        fprintf(stderr, "usage: bench_classifier [-n PASSES]\n");
        return 2;
    }
    d.frames = malloc(sizeof *d.frames * N_TUPLES);
    d.keys = malloc(sizeof *d.keys * N_TUPLES);
    d.hashes = malloc(sizeof *d.hashes * N_TUPLES);
    if (!d.frames || !d.keys || !d.hashes) {
        perror("bench_classifier");
        return 1;
    }
    for (i = 0; i < N_TUPLES; i++) {
        /* Distinct by construction: i is spread over the address bits. */
        make_frame(d.frames[i], 0x0a000000 | (uint32_t) (i & 0xffff),
                   0x0a000000 | (uint32_t) (rnd() & 0xffff),
                   rnd() % 2 ? 6 : 17, (uint16_t) (1024 + rnd() % 60000),
                   (uint16_t) (rnd() % 1024));
    }
    for (p = 0; p < passes; p++) {
        double t0 = now_ns(), t;

        for (i = 0; i < N_TUPLES; i++) {
            sink += (uint64_t) oko_pkt_parse(d.frames[i], FRAME_LEN, 1,
                                             &d.keys[i], NULL);
            d.hashes[i] = oko_flow_key_hash(&d.keys[i], 0);
        }
        t = (now_ns() - t0) / N_TUPLES;
        best_parse = t < best_parse ? t : best_parse;
    }
    printf("parse + hash of 64-byte TCP/UDP frames: %.1f ns per packet%s\n",
           best_parse, sink ? " (some truncated!)" : "");

    one = cls_create(NULL);
    many = cls_create(NULL);
    if (!one || !many) {
        perror("bench_classifier");
        return 1;
    }
    add(one, "priority=1,in_port=1,actions=output:2");
    add_wildcards(many);
    run("1 flow", one, &d, passes);
    run("300 wildcard flows", many, &d, passes);
    cls_destroy(one);
    cls_destroy(many);
    free(d.frames);
    free(d.keys);
    free(d.hashes);
    return 0;
}
