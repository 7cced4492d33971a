/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * main.c -- oko-classifier: the DPDK secondary that classifies packets,
 * runs their filter chains by ring hand-off and executes flow actions.
 *
 *   oko-classifier [EAL args] -- --flows=FILE [--poll=adaptive|busy]
 *
 * It attaches to the registry and rings of a running oko-primary, loads
 * the flow table from FILE into a classifier snapshot, publishes a new
 * flow-table generation (chains.c), waits (up to CLSP_FILTER_WAIT_NS) for
 * the filters the table uses, reports ready, then loops:
 *
 *  1. sends what its outputs held back (full rings);
 *  2. takes each filter's verdict burst: a match at step k executes the
 *     actions of the conditional flow of step k; no match goes on with
 *     the chain (the filters hand off by themselves; this happens when a
 *     chain was broken) or, at its end, executes the final flow's;
 *  3. takes each port's RX burst, parses every packet, looks it up (exact
 *     match cache, then the tuple-space classifier): a chain without
 *     conditional flows executes its flow's actions at once; otherwise the
 *     packet's chain position (chain id, generation, step 0) is written in
 *     its dynamic field and it goes to the first filter's input ring;
 *  4. every millisecond (busy or idle): heartbeat, counters, filter
 *     liveness; every 100 ms: primary liveness.
 *
 * Fail policy: a filter whose instance is not ready, or whose heartbeat is
 * older than OKO_HEARTBEAT_STALE_MS while packets wait for it, gets no
 * packets: its step is decided by
 * the program's policy (fail-open: no match, fail-closed: match), also for
 * the packets that were waiting for its full ring.  A live filter with a
 * full ring holds its packets back, and the port rings are not read until
 * they are sent: back-pressure, no loss.  Verdicts are always drained as
 * long as the port TX rings take packets, so the loop cannot deadlock with
 * a filter waiting on its verdict ring.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_ring.h>

#include "clsp.h"

/* Slow path (heartbeat, counters, liveness) every CLSP_TICK_NS, the
 * clock being read every CLSP_SLOW_ITERS busy iterations and at every
 * idle one (so that a sleeping loop still beats: the primary takes a
 * silent classifier for dead after OKO_HEARTBEAT_STALE_MS); primary
 * liveness at most every CLSP_ALIVE_NS. */
#define CLSP_SLOW_ITERS 64
#define CLSP_TICK_NS (1000ull * 1000)
#define CLSP_ALIVE_NS (100ull * 1000 * 1000)
/* How long the classifier waits at start for the filters its flows use,
 * before it reports ready anyway (then their fail policies apply). */
#define CLSP_FILTER_WAIT_NS (10ull * 1000 * 1000 * 1000)
/* Exact-match cache entries (about 200 bytes each). */
#define CLSP_EMC_ENTRIES 8192u

volatile sig_atomic_t clsp_quit;

static void
on_signal(int sig)
{
    clsp_quit = sig;
}

struct clsp_opts {
    const char *flows;
    enum oko_poll_mode poll;
};

static void
usage(FILE *f)
{
    fputs("usage: oko-classifier [EAL args] -- --flows=FILE "
          "[--poll=adaptive|busy]\n", f);
}

static int
parse_args(int argc, char **argv, struct clsp_opts *o)
{
    static const struct option opts[] = {
        { "flows", required_argument, NULL, 'f' },
        { "poll", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int ch;

    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            o->flows = optarg;
            break;
        case 'P':
            if (oko_poll_parse(optarg, &o->poll)) {
                oko_log(OKO_LOG_ERR, "--poll expects adaptive or busy");
                return -EINVAL;
            }
            break;
        case 'h':
            usage(stdout);
            exit(EXIT_SUCCESS);
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        oko_log(OKO_LOG_ERR, "unexpected argument '%s'", argv[optind]);
        return -EINVAL;
    }
    return 0;
}

static struct rte_ring *
ring_find(const char *fmt, unsigned int a, unsigned int b)
{
    char name[OKO_SHM_NAMESIZE];
    struct rte_ring *r;

    if (oko_shm_name(name, sizeof name, fmt, a, b)) {
        return NULL;
    }
    r = rte_ring_lookup(name);
    if (!r) {
        oko_log(OKO_LOG_ERR, "no ring %s: is oko-primary running?", name);
    }
    return r;
}

/* Finds the stats memzone of classifier 0, or reserves it. */
static struct oko_shm_cls_stats *
stats_attach(void)
{
    char name[OKO_SHM_NAMESIZE];
    const struct rte_memzone *mz;

    if (oko_shm_name(name, sizeof name, OKO_SHM_CLS_STATS_MZ, 0u)) {
        return NULL;
    }
    mz = rte_memzone_lookup(name);
    if (!mz) {
        mz = rte_memzone_reserve_aligned(name,
                                         sizeof(struct oko_shm_cls_stats),
                                         SOCKET_ID_ANY, 0,
                                         RTE_CACHE_LINE_SIZE);
    }
    if (!mz || mz->len < sizeof(struct oko_shm_cls_stats)) {
        oko_log(OKO_LOG_ERR, "memzone %s: %s", name,
                mz ? "too small" : rte_strerror(rte_errno));
        return NULL;
    }
    return mz->addr;
}

/* Returns the index in c->progs of program id, adding it if new, or -1
 * if too many programs. */
static int
prog_index(struct clsp *c, uint32_t id)
{
    for (unsigned int i = 0; i < c->n_progs; i++) {
        if (c->progs[i].id == id) {
            return i;
        }
    }
    if (c->n_progs == OKO_SHM_MAX_PROGS) {
        return -1;
    }
    c->progs[c->n_progs].id = id;
    return c->n_progs++;
}

/* Loads the flow file, builds the snapshot, resolves the programs its
 * conditional flows use, publishes the flows' text. */
static int
flows_load(struct clsp *c, const char *path)
{
    char err[512];
    int n = 0;

    c->cls = cls_create(NULL);
    if (!c->cls) {
        oko_log(OKO_LOG_ERR, "out of memory");
        return -ENOMEM;
    }
    if (path) {
        n = oko_flow_file_load(path, c->cls, err, sizeof err);
        if (n < 0) {
            oko_log(OKO_LOG_ERR, "%s", err);
            return n;
        }
    } else {
        oko_log(OKO_LOG_WARN, "no --flows: every packet misses the table");
    }
    c->snap = cls_snapshot_build(c->cls);
    if (!c->snap) {
        oko_log(OKO_LOG_ERR, "cannot build the classifier: %s",
                strerror(errno));
        return -errno;
    }
    c->n_rules = cls_snapshot_n_rules(c->snap);
    c->rule_prog = calloc(c->n_rules + 1, sizeof *c->rule_prog);
    c->rule_pkts = calloc(c->n_rules + 1, sizeof *c->rule_pkts);
    c->rule_bytes = calloc(c->n_rules + 1, sizeof *c->rule_bytes);
    if (!c->rule_prog || !c->rule_pkts || !c->rule_bytes) {
        oko_log(OKO_LOG_ERR, "out of memory");
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < c->n_rules; i++) {
        const struct oko_flow *f = &cls_snapshot_rule(c->snap, i)->flow;
        int p;

        c->rule_prog[i] = CLSP_NO_PROG;
        if (f->filter_prog) {
            p = prog_index(c, f->filter_prog);
            if (p < 0) {
                oko_log(OKO_LOG_ERR, "flows use more than %d programs",
                        OKO_SHM_MAX_PROGS);
                return -E2BIG;
            }
            c->rule_prog[i] = p;
        }
        for (unsigned int k = 0; k < f->n_actions; k++) {
            if (f->actions[k].type != OKO_ACT_OUTPUT) {
                char text[OKO_SHM_FLOW_TEXT];

                oko_flow_format(f, text, sizeof text);
                oko_log(OKO_LOG_WARN, "flow \"%s\": only output actions run "
                        "yet; the others are counted as unsupported", text);
                break;
            }
        }
        if (f->table != 0) {
            oko_log(OKO_LOG_WARN, "flows of table %u are never looked up "
                    "(only table 0 is)", f->table);
        }
    }
    for (unsigned int i = 0; i < c->n_progs; i++) {
        struct clsp_prog *p = &c->progs[i];

        p->sp = oko_shm_prog_find(c->reg, p->id);
        if (!p->sp) {
            oko_log(OKO_LOG_WARN, "program %u is not loaded: its flows "
                    "never match (fail-open)", p->id);
            continue;
        }
        p->in.ring = ring_find(OKO_SHM_FLT_IN_CLS_RING, p->id, 0);
        p->verdict = ring_find(OKO_SHM_FLT_VERDICT_RING, p->id, 0);
        if (!p->in.ring || !p->verdict) {
            return -ENOENT;
        }
    }
    oko_log(OKO_LOG_INFO, "%d flow(s) from %s, %u subtable(s), %u "
            "program(s)", n, path ? path : "(none)",
            cls_snapshot_n_subtables(c->snap), c->n_progs);
    return 0;
}

/* Writes the flows' text to the stats memzone and zeroes its counters. */
static void
stats_publish(struct clsp *c)
{
    struct oko_shm_cls_stats *st = c->st;
    uint32_t n = RTE_MIN(c->n_rules, (uint32_t) OKO_SHM_CLS_MAX_FLOWS);

    __atomic_store_n(&st->n_flows, 0, __ATOMIC_RELEASE);
    memset(st, 0, offsetof(struct oko_shm_cls_stats, flows));
    for (uint32_t i = 0; i < n; i++) {
        st->flows[i].pkts = 0;
        st->flows[i].bytes = 0;
        oko_flow_format(&cls_snapshot_rule(c->snap, i)->flow,
                        st->flows[i].text, sizeof st->flows[i].text);
    }
    st->generation = c->generation;
    st->magic = OKO_SHM_MAGIC;
    __atomic_store_n(&st->n_flows, n, __ATOMIC_RELEASE);
}

static int
clsp_attach(struct clsp *c, const struct clsp_opts *o)
{
    char err[256];
    int rc;

    c->reg = oko_shm_registry_attach(err, sizeof err);
    if (!c->reg) {
        oko_log(OKO_LOG_ERR, "%s", err);
        return -ENOENT;
    }
    if (oko_dynfield_lookup()) {
        oko_log(OKO_LOG_ERR, "mbuf field %s not registered: is oko-primary "
                "running?", OKO_SHM_MBUF_DYNFIELD);
        return -ENOENT;
    }
    c->slot = &c->reg->classifiers[0];
    c->burst = RTE_MIN(c->reg->burst ? c->reg->burst : 32, CLSP_MAX_BURST);
    c->ring_size = c->reg->ring_size ? c->reg->ring_size : 1024;
    c->n_ports = RTE_MIN(c->reg->n_ports, (uint32_t) OKO_SHM_MAX_PORTS);
    for (unsigned int p = 0; p < c->n_ports; p++) {
        c->port_rx[p] = ring_find(OKO_SHM_PORT_RX_RING, p, 0);
        c->port_tx[p].ring = ring_find(OKO_SHM_PORT_TX_RING, p, 0);
        if (!c->port_rx[p] || !c->port_tx[p].ring) {
            return -ENOENT;
        }
    }
    c->st = stats_attach();
    c->emc = cls_emc_create(CLSP_EMC_ENTRIES);
    c->chains = calloc(OKO_SHM_MAX_CHAINS, sizeof *c->chains);
    c->chain_index = calloc(2 * OKO_SHM_MAX_CHAINS, sizeof *c->chain_index);
    c->macs = calloc(CLSP_MAC_ENTRIES, sizeof *c->macs);
    if (!c->st || !c->emc || !c->chains || !c->chain_index || !c->macs) {
        oko_log(OKO_LOG_ERR, "out of memory");
        return -ENOMEM;
    }
    rc = flows_load(c, o->flows);
    if (rc) {
        return rc;
    }
    rc = clsp_chains_init(c);
    if (rc) {
        return rc;
    }
    stats_publish(c);
    return 0;
}

/* Whether program p's active instance takes packets: ready (the
 * supervisor clears it when it reaps the process), and either beating
 * within OKO_HEARTBEAT_STALE_MS or with nothing waiting in its input ring
 * (an idle filter sleeps and beats slowly; a hung one stops draining its
 * ring and is caught at the next tick).  Slow path. */
static bool
prog_alive(const struct clsp_prog *p, uint64_t now)
{
    const struct oko_shm_instance *in;
    uint64_t hb;

    if (!p->sp) {
        return false;
    }
    in = &p->sp->inst[__atomic_load_n(&p->sp->active, __ATOMIC_RELAXED)];
    if (!__atomic_load_n(&in->ready, __ATOMIC_ACQUIRE)) {
        return false;
    }
    hb = oko_shm_load(&in->heartbeat_ns);
    return hb >= now || now - hb < OKO_HEARTBEAT_STALE_MS * 1000000ull
           || (rte_ring_count(p->in.ring) == 0 && p->in.n == 0);
}

/* Sends packet m, whose chain is ch, to step `step` of it: to the first
 * live filter from there on, applying the fail policy of the dead ones on
 * the way, or executes the final flow's actions. */
static void
dispatch(struct clsp *c, const struct clsp_chain *ch, uint32_t step,
         struct rte_mbuf *m)
{
    for (; step < ch->n_steps; step++) {
        struct clsp_prog *p = &c->progs[ch->step_prog[step]];

        if (likely(p->alive)) {
            struct oko_mbuf_chain *mc = oko_mbuf_chain(m);

            mc->step = step;
            mc->verdict = OKO_VERDICT_NONE;
            c->to_filters += clsp_out_add(c, &p->in, m);
            return;
        }
        if (p->sp && p->sp->fail_policy == OKO_FAIL_CLOSED) {
            c->fail_closed++;
            clsp_apply_rule(c, ch->step_rule[step], m);
            return;
        }
        c->fail_open++;
    }
    if (ch->has_final) {
        clsp_apply_rule(c, ch->final_rule, m);
    } else {
        c->table_miss++;
        clsp_drop(c, m);
    }
}

/* Classifies a burst received on port index port. */
static void
rx_burst(struct clsp *c, uint16_t port, struct rte_mbuf **pkts,
         unsigned int n)
{
    static struct oko_ratelimit rl = OKO_RATELIMIT_INIT(5, 10000);

    c->rx += n;
    c->ports[port].rx += n;
    for (unsigned int i = 0; i < n; i++) {
        struct rte_mbuf *m = pkts[i];
        struct oko_flow_key key;
        struct cls_chain scratch;
        const struct cls_chain *ch;
        uint32_t rule0;
        int rc;

        if (i + 1 < n) {
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
        }
        /* The PMD sets m->port; the ring says it too, and the ring wins. */
        m->port = port;
        oko_pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *),
                      rte_pktmbuf_data_len(m), port + 1u, &key, NULL);
        rc = cls_emc_classify(c->emc, c->snap, 0, &key,
                              oko_flow_key_hash(&key, 0), &scratch, &ch);
        if (unlikely(rc <= 0)) {
            if (rc < 0) {
                c->chain_errors++;
                oko_log_rl(&rl, OKO_LOG_WARN, "filter chain longer than %d "
                           "flows: packet dropped", CLS_CHAIN_MAX);
            } else {
                c->table_miss++;
            }
            clsp_drop(c, m);
            continue;
        }
        rule0 = ch->rules[0];
        if (likely(c->rule_prog[rule0] == CLSP_NO_PROG)) {
            clsp_apply_rule(c, rule0, m);
        } else {
            uint32_t id = clsp_chain_get(c, ch);
            struct oko_mbuf_chain *mc = oko_mbuf_chain(m);

            if (unlikely(!id)) {
                c->chain_errors++;
                clsp_drop(c, m);
                continue;
            }
            mc->chain_id = id;
            mc->generation = c->generation;
            mc->flags = 0;
            dispatch(c, &c->chains[id], 0, m);
        }
    }
}

/* Executes the verdicts of a burst from a filter's verdict ring. */
static void
verdict_burst(struct clsp *c, struct rte_mbuf **pkts, unsigned int n)
{
    c->from_filters += n;
    for (unsigned int i = 0; i < n; i++) {
        struct rte_mbuf *m = pkts[i];
        const struct oko_mbuf_chain *mc = oko_mbuf_chain(m);
        const struct clsp_chain *ch;

        if (unlikely(mc->generation != c->generation || mc->chain_id == 0
                     || mc->chain_id >= c->n_chains)) {
            /* Sent by a previous classifier of another flow table. */
            c->stale++;
            clsp_drop(c, m);
            continue;
        }
        ch = &c->chains[mc->chain_id];
        if (unlikely(mc->step >= ch->n_steps)) {
            c->stale++;
            clsp_drop(c, m);
        } else if (mc->verdict == OKO_VERDICT_MATCH) {
            clsp_apply_rule(c, ch->step_rule[mc->step], m);
        } else {
            dispatch(c, ch, mc->step + 1u, m);
        }
    }
}

/* Whether output o has room for burst more packets. */
static inline bool
room(const struct clsp_out *o, unsigned int burst)
{
    return o->n + burst <= CLSP_PENDING;
}

static bool
tx_room(const struct clsp *c)
{
    for (unsigned int p = 0; p < c->n_ports; p++) {
        if (!room(&c->port_tx[p], c->burst * 2)) {
            return false;
        }
    }
    return true;
}

static bool
all_room(const struct clsp *c)
{
    if (!tx_room(c)) {
        return false;
    }
    for (unsigned int i = 0; i < c->n_progs; i++) {
        if (c->progs[i].in.n) {
            /* Hold the ports back while a filter's ring is full. */
            return false;
        }
    }
    return true;
}

static unsigned int
flush_all(struct clsp *c)
{
    unsigned int sent = 0;

    for (unsigned int i = 0; i < c->n_progs; i++) {
        if (c->progs[i].in.n) {
            sent += clsp_out_flush(&c->progs[i].in);
        }
    }
    for (unsigned int p = 0; p < c->n_ports; p++) {
        if (c->port_tx[p].n) {
            sent += clsp_out_flush(&c->port_tx[p]);
        }
    }
    return sent;
}

/* Re-decides the packets held back for program p, which is no longer
 * alive: its fail policy applies to them. */
static void
prog_failover(struct clsp *c, struct clsp_prog *p)
{
    struct rte_mbuf *held[CLSP_PENDING];
    unsigned int n = p->in.n;

    memcpy(held, p->in.pkts, n * sizeof held[0]);
    p->in.n = 0;
    c->to_filters -= n;
    for (unsigned int i = 0; i < n; i++) {
        const struct oko_mbuf_chain *mc = oko_mbuf_chain(held[i]);

        dispatch(c, &c->chains[mc->chain_id], mc->step, held[i]);
    }
}

static void
stats_flush(struct clsp *c, uint64_t now)
{
    struct oko_shm_classifier *s = c->slot;
    struct oko_shm_cls_stats *st = c->st;
    struct cls_emc_stats es;
    uint32_t nf = RTE_MIN(c->n_rules, (uint32_t) OKO_SHM_CLS_MAX_FLOWS);

    cls_emc_get_stats(c->emc, &es);
    oko_shm_store(&s->rx, c->rx);
    oko_shm_store(&s->tx, c->tx);
    oko_shm_store(&s->dropped, c->dropped);
    oko_shm_store(&s->to_filters, c->to_filters);
    oko_shm_store(&s->from_filters, c->from_filters);
    oko_shm_store(&s->to_controller, c->to_controller);
    oko_shm_store(&s->emc_hits, es.hits);
    oko_shm_store(&s->lookups, es.misses);
    oko_shm_store(&st->drop_action, c->drop_action);
    oko_shm_store(&st->table_miss, c->table_miss);
    oko_shm_store(&st->fail_open, c->fail_open);
    oko_shm_store(&st->fail_closed, c->fail_closed);
    oko_shm_store(&st->stale, c->stale);
    oko_shm_store(&st->chain_errors, c->chain_errors);
    oko_shm_store(&st->tx_full, c->tx_full);
    oko_shm_store(&st->unsupported, c->unsupported);
    oko_shm_store(&st->mac_learned, c->mac_learned);
    oko_shm_store(&st->flooded, c->flooded);
    for (unsigned int p = 0; p < c->n_ports; p++) {
        oko_shm_store(&st->ports[p].rx, c->ports[p].rx);
        oko_shm_store(&st->ports[p].tx, c->ports[p].tx);
        oko_shm_store(&st->ports[p].dropped, c->ports[p].dropped);
    }
    for (uint32_t i = 0; i < nf; i++) {
        oko_shm_store(&st->flows[i].pkts, c->rule_pkts[i]);
        oko_shm_store(&st->flows[i].bytes, c->rule_bytes[i]);
    }
    oko_shm_store(&s->heartbeat_ns, now);
    oko_shm_store(&s->heartbeat, oko_shm_load(&s->heartbeat) + 1);
}

/* The slow path: liveness of the filters (and fail-over of what waits for
 * a dead one), counters, heartbeat.  Returns false if the primary is
 * gone. */
static bool
slow_tick(struct clsp *c, uint64_t now, uint64_t *next_alive)
{
    c->now_ns = now;
    for (unsigned int i = 0; i < c->n_progs; i++) {
        struct clsp_prog *p = &c->progs[i];
        bool alive = prog_alive(p, now);

        if (alive != p->alive) {
            oko_log(OKO_LOG_WARN, "filter %u %s", p->id,
                    alive ? "is up: sending it packets"
                          : "is down: applying its fail policy");
            p->alive = alive;
        }
        if (!alive && p->in.n) {
            prog_failover(c, p);
        }
    }
    stats_flush(c, now);
    if (now >= *next_alive) {
        *next_alive = now + CLSP_ALIVE_NS;
        if (!rte_eal_primary_proc_alive(NULL)) {
            oko_log(OKO_LOG_WARN, "oko-primary is gone: exiting");
            return false;
        }
    }
    return true;
}

static void
clsp_loop(struct clsp *c, enum oko_poll_mode mode)
{
    struct rte_mbuf *pkts[CLSP_MAX_BURST];
    struct oko_poller poller;
    uint64_t iter = 0, next_alive = 0, next_tick = 0;

    oko_poller_init(&poller, mode);
    while (!clsp_quit) {
        unsigned int work = flush_all(c);

        for (unsigned int i = 0; i < c->n_progs && tx_room(c); i++) {
            struct clsp_prog *p = &c->progs[i];
            unsigned int n;

            if (!p->verdict) {
                continue;
            }
            n = rte_ring_sc_dequeue_burst(p->verdict, (void **) pkts,
                                          c->burst, NULL);
            if (n) {
                verdict_burst(c, pkts, n);
                work += n;
            }
        }
        for (uint16_t port = 0; port < c->n_ports && all_room(c); port++) {
            unsigned int n = rte_ring_sc_dequeue_burst(c->port_rx[port],
                                                       (void **) pkts,
                                                       c->burst, NULL);

            if (n) {
                rx_burst(c, port, pkts, n);
                work += n;
            }
        }
        work += flush_all(c);

        if (++iter % CLSP_SLOW_ITERS == 0 || !work) {
            uint64_t now = oko_now_ns();

            if (now >= next_tick) {
                next_tick = now + CLSP_TICK_NS;
                if (!slow_tick(c, now, &next_alive)) {
                    return;
                }
            }
        }
        oko_poller_wait(&poller, work);
    }
}

/* Waits until every loaded program the flows use has a ready instance,
 * or CLSP_FILTER_WAIT_NS, beating meanwhile.  Returns false on a
 * signal. */
static bool
wait_filters(struct clsp *c)
{
    uint64_t start = oko_now_ns(), now = start;
    struct timespec ts = { 0, 20 * 1000 * 1000 };

    for (;;) {
        unsigned int missing = 0;

        for (unsigned int i = 0; i < c->n_progs; i++) {
            c->progs[i].alive = prog_alive(&c->progs[i], now);
            missing += c->progs[i].sp && !c->progs[i].alive;
        }
        if (!missing) {
            return true;
        }
        if (now - start >= CLSP_FILTER_WAIT_NS) {
            oko_log(OKO_LOG_WARN, "%u filter(s) not ready after %llu s: "
                    "starting with their fail policy", missing,
                    CLSP_FILTER_WAIT_NS / 1000000000ull);
            return true;
        }
        if (clsp_quit || !rte_eal_primary_proc_alive(NULL)) {
            return false;
        }
        stats_flush(c, now);
        nanosleep(&ts, NULL);
        now = oko_now_ns();
    }
}

static void
clsp_free(struct clsp *c)
{
    cls_snapshot_free(c->snap, NULL);
    cls_destroy(c->cls);
    cls_emc_destroy(c->emc);
    free(c->rule_prog);
    free(c->rule_pkts);
    free(c->rule_bytes);
    free(c->chains);
    free(c->chain_index);
    free(c->macs);
}

int
main(int argc, char **argv)
{
    struct clsp_opts o = { .poll = OKO_POLL_ADAPTIVE };
    static struct clsp c;
    struct sigaction sa;
    int rc, status = EXIT_FAILURE;

    oko_log_init(argv[0], OKO_LOG_INFO);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* When the supervising primary dies without stopping us. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);

    rc = rte_eal_init(argc, argv);
    if (rc < 0) {
        oko_log(OKO_LOG_ERR, "rte_eal_init: %s: is oko-primary running?",
                rte_strerror(rte_errno));
        return EXIT_FAILURE;
    }
    argc -= rc;
    argv += rc;
    if (rte_eal_process_type() != RTE_PROC_SECONDARY) {
        oko_log(OKO_LOG_ERR, "must run as a secondary "
                "(--proc-type=secondary) of oko-primary");
        goto out;
    }
    optind = 1;
    if (parse_args(argc, argv, &o) || clsp_attach(&c, &o)) {
        goto out;
    }
    c.now_ns = oko_now_ns();
    memset((char *) c.slot + offsetof(struct oko_shm_classifier, heartbeat),
           0, sizeof *c.slot - offsetof(struct oko_shm_classifier,
                                        heartbeat));
    c.slot->lcore = rte_lcore_id();
    c.slot->started_ns = c.now_ns;
    __atomic_store_n(&c.slot->pid, getpid(), __ATOMIC_RELAXED);
    stats_flush(&c, c.now_ns);
    if (!wait_filters(&c)) {
        goto out;
    }
    __atomic_store_n(&c.slot->ready, 1, __ATOMIC_RELEASE);
    oko_log(OKO_LOG_INFO, "running on lcore %u: %u port(s), %u flow(s), "
            "generation %u", rte_lcore_id(), c.n_ports, c.n_rules,
            c.generation);

    clsp_loop(&c, o.poll);

    stats_flush(&c, oko_now_ns());
    __atomic_store_n(&c.slot->ready, 0, __ATOMIC_RELEASE);
    oko_log(OKO_LOG_INFO, "stopping: %" PRIu64 " packets in, %" PRIu64
            " out, %" PRIu64 " dropped, %" PRIu64 " to filters",
            c.rx, c.tx, c.dropped, c.to_filters);
    status = EXIT_SUCCESS;
out:
    clsp_free(&c);
    rte_eal_cleanup();
    return status;
}
