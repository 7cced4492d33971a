/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * io.c -- oko-primary's port I/O loop.
 *
 * Normal mode: each port's received bursts go to its RX ring (consumer: the
 * classifier), and bursts from its TX ring (producer: the classifier) are
 * transmitted.  Packets a full ring cannot take are dropped and counted.
 *
 * --bypass-classifier (test and bring-up mode, until oko-classifier runs):
 * port 0's packets go to program 1's input ring in place of the
 * classifier's; its verdicts come back on the verdict ring: a match drops
 * the packet, no match sends it out of port 1.  Packets the input ring
 * cannot take get the program's fail policy (fail-open: out of port 1,
 * fail-closed: dropped).  Port 1's own receive side is not polled.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
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

/* One iteration of the normal mode.  Returns the packets handled. */
static unsigned int
io_normal(const struct oko_shm_registry *reg, struct prim_rings *rings,
          unsigned int burst)
{
    struct rte_mbuf *pkts[PRIM_MAX_BURST];
    unsigned int work = 0;

    for (uint16_t p = 0; p < reg->n_ports; p++) {
        uint16_t n = rte_eth_rx_burst(p, 0, pkts, burst);

        if (n) {
            unsigned int q = rte_ring_sp_enqueue_burst(rings->port_rx[p],
                                                       (void **) pkts, n,
                                                       NULL);

            counters[p].rx += n;
            if (q < n) {
                counters[p].rx_dropped += n - q;
                rte_pktmbuf_free_bulk(pkts + q, n - q);
            }
            work += n;
        }
        n = rte_ring_sc_dequeue_burst(rings->port_tx[p], (void **) pkts,
                                      burst, NULL);
        port_tx(p, pkts, n);
        work += n;
    }
    return work;
}

struct bypass {
    struct rte_ring *in;        /* program 1's input ring (we produce) */
    struct rte_ring *verdict;   /* its verdict ring (we consume) */
    const struct oko_shm_prog *prog;
    uint32_t generation;
};

/* One iteration of --bypass-classifier.  Returns the packets handled. */
static unsigned int
io_bypass(struct bypass *b, unsigned int burst)
{
    struct rte_mbuf *pkts[PRIM_MAX_BURST], *out[PRIM_MAX_BURST];
    uint16_t n, nout = 0;
    unsigned int q, work = 0;

    n = rte_eth_rx_burst(0, 0, pkts, burst);
    if (n) {
        counters[0].rx += n;
        for (uint16_t i = 0; i < n; i++) {
            struct oko_mbuf_chain *c = oko_mbuf_chain(pkts[i]);

            c->chain_id = 0;
            c->generation = b->generation;
            c->step = 0;
            c->verdict = OKO_VERDICT_NONE;
            c->flags = 0;
        }
        q = rte_ring_sp_enqueue_burst(b->in, (void **) pkts, n, NULL);
        if (q < n) {
            counters[0].fail_policy += n - q;
            if (b->prog->fail_policy == OKO_FAIL_CLOSED) {
                counters[1].filter_dropped += n - q;
                rte_pktmbuf_free_bulk(pkts + q, n - q);
            } else {
                for (uint16_t i = q; i < n; i++) {
                    out[nout++] = pkts[i];
                }
            }
        }
        work += n;
    }

    n = rte_ring_sc_dequeue_burst(b->verdict, (void **) pkts, burst, NULL);
    for (uint16_t i = 0; i < n; i++) {
        if (oko_mbuf_chain(pkts[i])->verdict == OKO_VERDICT_MATCH) {
            counters[1].filter_dropped++;
            rte_pktmbuf_free(pkts[i]);
        } else if (nout < PRIM_MAX_BURST) {
            out[nout++] = pkts[i];
        } else {
            /* Unreachable: nout <= 2 * burst <= PRIM_MAX_BURST by the
             * limits on --burst. */
            counters[1].tx_dropped++;
            rte_pktmbuf_free(pkts[i]);
        }
    }
    work += n;
    port_tx(1, out, nout);
    return work;
}

static int
bypass_init(const struct oko_shm_registry *reg, struct bypass *b)
{
    char name[OKO_SHM_NAMESIZE];

    b->prog = oko_shm_prog_find((struct oko_shm_registry *) reg, 1);
    b->generation = (uint32_t) reg->flow_generation;
    oko_shm_name(name, sizeof name, OKO_SHM_FLT_IN_CLS_RING, 1u, 0u);
    b->in = rte_ring_lookup(name);
    oko_shm_name(name, sizeof name, OKO_SHM_FLT_VERDICT_RING, 1u, 0u);
    b->verdict = rte_ring_lookup(name);
    if (!b->prog || !b->in || !b->verdict) {
        oko_log(OKO_LOG_ERR, "--bypass-classifier: program 1 or its rings "
                "are missing");
        return -ENOENT;
    }
    return 0;
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

    if (o->bypass && bypass_init(reg, &b)) {
        return -ENOENT;
    }
    memset(counters, 0, sizeof counters);
    oko_poller_init(&poller, o->poll);
    while (!prim_quit) {
        unsigned int work = o->bypass ? io_bypass(&b, burst)
                                      : io_normal(reg, rings, burst);

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
