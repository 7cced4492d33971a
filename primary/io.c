/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * io.c -- oko-primary's port I/O loop.
 *
 * Normal mode: each port's received bursts go to its RX ring (consumer: the
 * classifier), and bursts from its TX ring (producer: the classifier) are
 * transmitted.  While an RX ring is full and the classifier alive, the
 * port is not polled (back-pressure); with no live classifier, packets a
 * full ring cannot take are dropped and counted (rx-dropped).
 * When the primary supervises a classifier, the ports are polled once it
 * is ready.
 *
 * --bypass-classifier (test and bring-up mode, until oko-classifier runs):
 * port 0's packets go to program 1's input ring in place of the
 * classifier's -- or, with --bypass-chain=A,B,..., through the chain
 * A, B, ... which the primary publishes as chain 1 -- and their verdicts
 * come back on the verdict rings: a match drops the packet, no match sends
 * it out of port 1.  Port 0 is polled once every filter has reported
 * ready, so that a replayed pcap meets running filters.  While the first
 * filter's input ring is full, port 0 is not polled; if that filter is
 * dead or hung, the waiting packets get its fail policy (fail-open: out
 * of port 1, fail-closed: dropped).  Port 1's receive side is never
 * polled.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_memzone.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "primary.h"

#define PRIM_MAX_BURST 512u
/* Slow path (supervision, counters, statistics) every this many loop
 * iterations, at most every PRIM_TICK_NS. */
#define PRIM_SLOW_ITERS 64
#define PRIM_TICK_NS (50u * 1000 * 1000)

/* Counters of one port, private to the loop, flushed to the registry. */
struct port_counters {
    uint64_t rx, tx, rx_dropped, tx_dropped, filter_dropped, fail_policy;
};

static struct port_counters counters[OKO_SHM_MAX_PORTS];

static void
counters_flush(struct oko_shm_registry *reg)
{
    for (unsigned int i = 0; i < reg->n_ports; i++) {
        struct oko_shm_port *sp = &reg->ports[i];
        const struct port_counters *c = &counters[i];

        oko_shm_store(&sp->rx, c->rx);
        oko_shm_store(&sp->tx, c->tx);
        oko_shm_store(&sp->rx_dropped, c->rx_dropped);
        oko_shm_store(&sp->tx_dropped, c->tx_dropped);
        oko_shm_store(&sp->filter_dropped, c->filter_dropped);
        oko_shm_store(&sp->fail_policy, c->fail_policy);
    }
}

static void
stats_print(const struct oko_shm_registry *reg, FILE *f)
{
    for (unsigned int i = 0; i < reg->n_ports; i++) {
        const struct port_counters *c = &counters[i];

        fprintf(f, "port %u %s: rx %" PRIu64 " tx %" PRIu64 " rx-dropped %"
                PRIu64 " tx-dropped %" PRIu64 " filter-dropped %" PRIu64
                " fail-policy %" PRIu64 "\n", i, reg->ports[i].name, c->rx,
                c->tx, c->rx_dropped, c->tx_dropped, c->filter_dropped,
                c->fail_policy);
    }
    fflush(f);
}

/* Transmits n packets on port; frees and counts what the device refused. */
static inline void
port_tx(uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
    uint16_t sent = n ? rte_eth_tx_burst(port, 0, pkts, n) : 0;

    counters[port].tx += sent;
    if (sent < n) {
        counters[port].tx_dropped += n - sent;
        rte_pktmbuf_free_bulk(pkts + sent, n - sent);
    }
}

/* Received packets a full RX ring could not take yet, per port. */
struct rx_pending {
    uint16_t n;
    struct rte_mbuf *pkts[PRIM_MAX_BURST];
};

static struct rx_pending rx_pending[OKO_SHM_MAX_PORTS];

/* Whether the classifier takes packets: ready, with a heartbeat younger
 * than OKO_HEARTBEAT_STALE_MS.  Called only when a ring is full. */
static bool
classifier_alive(const struct oko_shm_registry *reg)
{
    const struct oko_shm_classifier *c = &reg->classifiers[0];
    uint64_t hb = oko_shm_load(&c->heartbeat_ns);
    uint64_t now = oko_now_ns();

    return __atomic_load_n(&c->ready, __ATOMIC_ACQUIRE)
           && (hb >= now || now - hb < OKO_HEARTBEAT_STALE_MS * 1000000ull);
}

/* Puts port p's pending packets on its RX ring.  While the ring is full
 * and the classifier alive, they wait and the port is not polled (its RX
 * queue absorbs the burst: back-pressure, as a NIC does); with no live
 * classifier they are dropped and counted.  Returns the packets that
 * left the pending list. */
static unsigned int
rx_push(const struct oko_shm_registry *reg, struct prim_rings *rings,
        uint16_t p)
{
    struct rx_pending *rp = &rx_pending[p];
    unsigned int q = rte_ring_sp_enqueue_burst(rings->port_rx[p],
                                               (void **) rp->pkts, rp->n,
                                               NULL);

    if (q < rp->n && !classifier_alive(reg)) {
        counters[p].rx_dropped += rp->n - q;
        rte_pktmbuf_free_bulk(rp->pkts + q, rp->n - q);
        q = rp->n;
    }
    if (q) {
        rp->n -= q;
        memmove(rp->pkts, rp->pkts + q, rp->n * sizeof rp->pkts[0]);
    }
    return q;
}

/* One iteration of the normal mode.  Ports are not polled before the
 * supervised classifier first reports ready (rx_on).  Returns the packets
 * handled. */
static unsigned int
io_normal(const struct oko_shm_registry *reg, struct prim_rings *rings,
          unsigned int burst, bool *rx_on)
{
    struct rte_mbuf *pkts[PRIM_MAX_BURST];
    unsigned int work = 0;

    if (unlikely(!*rx_on)
        && __atomic_load_n(&reg->classifiers[0].ready, __ATOMIC_ACQUIRE)) {
        *rx_on = true;
        oko_log(OKO_LOG_INFO, "classifier ready: polling the ports");
    }
    for (uint16_t p = 0; p < reg->n_ports; p++) {
        struct rx_pending *rp = &rx_pending[p];
        uint16_t n;

        if (unlikely(rp->n)) {
            work += rx_push(reg, rings, p);
        } else if (likely(*rx_on)) {
            n = rte_eth_rx_burst(p, 0, rp->pkts, burst);
            if (n) {
                counters[p].rx += n;
                rp->n = n;
                rx_push(reg, rings, p);
                work += n;
            }
        }
        n = rte_ring_sc_dequeue_burst(rings->port_tx[p], (void **) pkts,
                                      burst, NULL);
        port_tx(p, pkts, n);
        work += n;
    }
    return work;
}

struct bypass {
    struct rte_ring *in;        /* first filter's input ring (we produce) */
    const struct oko_shm_prog *first;
    unsigned int n;             /* filters in the chain */
    const struct oko_shm_prog *progs[OKO_SHM_MAX_CHAIN];
    struct rte_ring *verdict[OKO_SHM_MAX_CHAIN];  /* we consume them all */
    uint32_t chain_id;          /* 0 for a lone filter, else 1 */
    uint32_t generation;
    bool started;               /* every filter was ready once */
    uint16_t npending;          /* received, not yet in the input ring */
    struct rte_mbuf *pending[PRIM_MAX_BURST];
};

/* Whether program p's active instance is alive: ready, with a heartbeat
 * younger than OKO_HEARTBEAT_STALE_MS.  Called only when its input ring is
 * full, not per packet. */
static bool
filter_alive(const struct oko_shm_prog *p)
{
    const struct oko_shm_instance *in = &p->inst[p->active];
    uint64_t hb = oko_shm_load(&in->heartbeat_ns);
    uint64_t now = oko_now_ns();

    /* hb may be a little after now: the filter wrote it in between. */
    return __atomic_load_n(&in->ready, __ATOMIC_ACQUIRE)
           && (hb >= now || now - hb < OKO_HEARTBEAT_STALE_MS * 1000000ull);
}

/* Gives the pending packets to the first filter.  A full input ring holds
 * the port back while the filter lives (the port's RX queue absorbs the
 * burst); when it is dead or hung, the pending packets get the program's
 * fail policy: fail-open appends them to out, fail-closed drops them. */
static void
bypass_push(struct bypass *b, struct rte_mbuf **out, uint16_t *nout)
{
    unsigned int q = rte_ring_sp_enqueue_burst(b->in, (void **) b->pending,
                                               b->npending, NULL);

    if (q < b->npending && !filter_alive(b->first)) {
        uint16_t rest = b->npending - q;

        counters[0].fail_policy += rest;
        if (b->first->fail_policy == OKO_FAIL_CLOSED) {
            counters[1].filter_dropped += rest;
            rte_pktmbuf_free_bulk(b->pending + q, rest);
        } else {
            memcpy(out + *nout, b->pending + q, rest * sizeof *out);
            *nout += rest;
        }
        q = b->npending;
    }
    if (q) {
        b->npending -= q;
        memmove(b->pending, b->pending + q, b->npending * sizeof *out);
    }
}

/* One iteration of --bypass-classifier.  Returns the packets handled. */
static unsigned int
io_bypass(struct bypass *b, unsigned int burst)
{
    struct rte_mbuf *pkts[PRIM_MAX_BURST], *out[PRIM_MAX_BURST];
    uint16_t n = 0, nout = 0;
    unsigned int work = 0;

    if (unlikely(!b->started)) {
        bool ready = true;

        for (unsigned int i = 0; i < b->n; i++) {
            const struct oko_shm_prog *p = b->progs[i];

            ready &= __atomic_load_n(&p->inst[p->active].ready,
                                     __ATOMIC_ACQUIRE) != 0;
        }
        if (ready) {
            b->started = true;
            oko_log(OKO_LOG_INFO, "filters ready: polling port 0");
        }
    } else if (b->npending) {
        bypass_push(b, out, &nout);
    } else {
        n = rte_eth_rx_burst(0, 0, b->pending, burst);
        if (n) {
            counters[0].rx += n;
            for (uint16_t i = 0; i < n; i++) {
                struct oko_mbuf_chain *c = oko_mbuf_chain(b->pending[i]);

                c->chain_id = b->chain_id;
                c->generation = b->generation;
                c->step = 0;
                c->verdict = OKO_VERDICT_NONE;
                c->flags = 0;
            }
            b->npending = n;
            bypass_push(b, out, &nout);
            work += n;
        }
    }
    port_tx(1, out, nout);

    for (unsigned int k = 0; k < b->n; k++) {
        nout = 0;
        n = rte_ring_sc_dequeue_burst(b->verdict[k], (void **) pkts, burst,
                                      NULL);
        for (uint16_t i = 0; i < n; i++) {
            if (oko_mbuf_chain(pkts[i])->verdict == OKO_VERDICT_MATCH) {
                counters[1].filter_dropped++;
                rte_pktmbuf_free(pkts[i]);
            } else {
                out[nout++] = pkts[i];
            }
        }
        work += n;
        port_tx(1, out, nout);
    }
    return work;
}

static struct rte_ring *
ring_get(const char *fmt, uint32_t a, uint32_t b_, bool create,
         unsigned int size)
{
    char name[OKO_SHM_NAMESIZE];
    struct rte_ring *r;

    if (oko_shm_name(name, sizeof name, fmt, a, b_)) {
        return NULL;
    }
    r = rte_ring_lookup(name);
    if (!r && create) {
        r = rte_ring_create(name, size, rte_socket_id(),
                            RING_F_SP_ENQ | RING_F_SC_DEQ);
    }
    if (!r) {
        oko_log(OKO_LOG_ERR, "ring %s: %s", name, rte_strerror(rte_errno));
    }
    return r;
}

/* Publishes the one chain of --bypass-chain as chain 1 of the current
 * generation, with its hand-off rings, as the classifier will. */
static int
bypass_publish_chain(const struct prim_opts *o, struct bypass *b)
{
    struct oko_shm_chain_table *t;
    const struct rte_memzone *mz;
    char name[OKO_SHM_NAMESIZE];
    size_t size = sizeof *t + 2 * sizeof t->chains[0];

    if (oko_shm_name(name, sizeof name, OKO_SHM_CHAIN_MZ, b->generation)) {
        return -ENAMETOOLONG;
    }
    mz = rte_memzone_reserve_aligned(name, size, SOCKET_ID_ANY, 0,
                                     RTE_CACHE_LINE_SIZE);
    if (!mz) {
        oko_log(OKO_LOG_ERR, "memzone %s: %s", name, rte_strerror(rte_errno));
        return -rte_errno;
    }
    t = mz->addr;
    memset(t, 0, size);
    t->generation = b->generation;
    t->n_chains = 2;
    t->chains[1].n = b->n;
    for (unsigned int i = 0; i < b->n; i++) {
        t->chains[1].prog[i] = b->progs[i]->id;
    }
    for (unsigned int i = 1; i < b->n; i++) {
        if (!ring_get(OKO_SHM_FLT_IN_FLT_RING, b->progs[i]->id,
                      b->progs[i - 1]->id, true, o->ring_size)) {
            return -ENOMEM;
        }
    }
    __atomic_store_n(&t->magic, OKO_SHM_MAGIC, __ATOMIC_RELEASE);
    b->chain_id = 1;
    return 0;
}

static int
bypass_init(const struct prim_opts *o, struct oko_shm_registry *reg,
            struct bypass *b)
{
    memset(b, 0, sizeof *b);
    b->generation = (uint32_t) reg->flow_generation;
    b->n = o->n_bypass_chain;
    for (unsigned int i = 0; i < b->n; i++) {
        b->progs[i] = oko_shm_prog_find(reg, o->bypass_chain[i]);
        if (!b->progs[i]) {
            oko_log(OKO_LOG_ERR, "--bypass-classifier: program %u is not "
                    "loaded", o->bypass_chain[i]);
            return -ENOENT;
        }
        b->verdict[i] = ring_get(OKO_SHM_FLT_VERDICT_RING, b->progs[i]->id,
                                 0, false, 0);
        if (!b->verdict[i]) {
            return -ENOENT;
        }
    }
    b->first = b->progs[0];
    b->in = ring_get(OKO_SHM_FLT_IN_CLS_RING, b->first->id, 0, false, 0);
    if (!b->in) {
        return -ENOENT;
    }
    return b->n > 1 ? bypass_publish_chain(o, b) : 0;
}

int
prim_io_loop(const struct prim_opts *o, struct oko_shm_registry *reg,
             struct prim_rings *rings)
{
    struct oko_poller poller;
    struct bypass b;
    uint64_t iter = 0, next_tick = 0, next_stats = 0;
    uint64_t stats_ns = (uint64_t) o->stats_interval * 1000000000u;
    unsigned int burst = RTE_MIN(o->burst, PRIM_MAX_BURST / 2);

    /* Without a supervised classifier (none yet, or one run by systemd),
     * the ports are polled from the start. */
    bool rx_on = !(o->supervise && prim_sv_has_classifier());

    if (o->bypass && bypass_init(o, reg, &b)) {
        return -ENOENT;
    }
    memset(counters, 0, sizeof counters);
    oko_poller_init(&poller, o->poll);
    while (!prim_quit) {
        unsigned int work = o->bypass ? io_bypass(&b, burst)
                                      : io_normal(reg, rings, burst, &rx_on);

        if (++iter % PRIM_SLOW_ITERS == 0) {
            uint64_t now = oko_now_ns();

            if (now >= next_tick) {
                next_tick = now + PRIM_TICK_NS;
                counters_flush(reg);
                prim_sv_update_states(reg);
                if (o->supervise) {
                    prim_sv_tick(reg, now);
                }
            }
            if (stats_ns && now >= next_stats) {
                if (next_stats) {
                    stats_print(reg, stdout);
                }
                next_stats = now + stats_ns;
            }
        }
        oko_poller_wait(&poller, work);
    }
    counters_flush(reg);
    stats_print(reg, stdout);
    return 0;
}
