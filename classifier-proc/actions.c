/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * actions.c -- oko-classifier's action stage: executes the actions of the
 * flow that decided a packet, and queues packets on output rings.
 *
 * OpenFlow port N is the primary's port N - 1 (DPDK port id).  A packet
 * sent to several ports is not copied: its reference count is raised and
 * the same mbuf goes on each TX ring (no action rewrites packets yet, and
 * the primary frees each reference after transmitting it).  NORMAL is an
 * L2 learning switch: the source MAC is learnt on the input port, a known
 * unicast destination goes out of its port, anything else is flooded.
 * CONTROLLER is counted and dropped until the ring to oko-ofctl exists.
 * Rewriting actions (set_field, strip_vlan, dec_ttl), send_maps and
 * goto_table are not executed yet: they are counted as "unsupported" (the
 * flow's outputs still apply) and reported at load time.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "clsp.h"

void
clsp_drop(struct clsp *c, struct rte_mbuf *m)
{
    if (likely(m->port < OKO_SHM_MAX_PORTS)) {
        c->ports[m->port].dropped++;
    }
    c->dropped++;
    rte_pktmbuf_free(m);
}

bool
clsp_out_add(struct clsp *c, struct clsp_out *o, struct rte_mbuf *m)
{
    if (unlikely(o->n == CLSP_PENDING)) {
        /* Only when a filter's input stays full while its verdicts bring
         * more work for it; every other producer checks room first. */
        c->tx_full++;
        clsp_drop(c, m);
        return false;
    }
    o->pkts[o->n++] = m;
    return true;
}

unsigned int
clsp_out_flush(struct clsp_out *o)
{
    unsigned int q;

    if (!o->n) {
        return 0;
    }
    q = rte_ring_sp_enqueue_burst(o->ring, (void **) o->pkts, o->n, NULL);
    if (q && q < o->n) {
        memmove(o->pkts, o->pkts + q, (o->n - q) * sizeof o->pkts[0]);
    }
    o->n -= q;
    return q;
}

static inline uint64_t
mac_u64(const uint8_t *p)
{
    return (uint64_t) p[0] << 40 | (uint64_t) p[1] << 32
           | (uint64_t) p[2] << 24 | (uint64_t) p[3] << 16
           | (uint64_t) p[4] << 8 | p[5];
}

/* Slot of mac in the table: a multiplicative hash, then up to
 * MAC_PROBES linear probes. */
#define MAC_PROBES 8

static inline uint32_t
mac_hash(uint64_t mac)
{
    return (uint32_t) ((mac * 0x9e3779b97f4a7c15ull) >> 40)
           & (CLSP_MAC_ENTRIES - 1);
}

/* Learns that mac lives behind port index port. */
static void
mac_learn(struct clsp *c, uint64_t mac, uint16_t port)
{
    uint32_t h = mac_hash(mac), victim = h;
    uint64_t oldest = UINT64_MAX;

    for (uint32_t i = 0; i < MAC_PROBES; i++) {
        struct clsp_mac *e = &c->macs[(h + i) & (CLSP_MAC_ENTRIES - 1)];

        if (e->mac == mac) {
            e->port = port;
            e->seen_ns = c->now_ns;
            return;
        }
        if (e->seen_ns < oldest) {
            oldest = e->seen_ns;
            victim = (h + i) & (CLSP_MAC_ENTRIES - 1);
        }
    }
    c->macs[victim].mac = mac;
    c->macs[victim].port = port;
    c->macs[victim].seen_ns = c->now_ns;
    c->mac_learned++;
}

/* Returns the port index of mac, or -1 if unknown or aged out. */
static int
mac_lookup(const struct clsp *c, uint64_t mac)
{
    uint32_t h = mac_hash(mac);

    for (uint32_t i = 0; i < MAC_PROBES; i++) {
        const struct clsp_mac *e = &c->macs[(h + i) & (CLSP_MAC_ENTRIES - 1)];

        if (e->mac == mac) {
            return c->now_ns - e->seen_ns < CLSP_MAC_AGE_NS ? e->port : -1;
        }
    }
    return -1;
}

/* Adds every port but in to the destination list; returns its length. */
static unsigned int
add_flood(const struct clsp *c, uint16_t in, uint16_t *dst, unsigned int n)
{
    for (uint16_t p = 0; p < c->n_ports && n < OKO_SHM_MAX_PORTS * 2; p++) {
        if (p != in) {
            dst[n++] = p;
        }
    }
    return n;
}

/* NORMAL: learn the source, then forward by destination. */
static unsigned int
add_normal(struct clsp *c, struct rte_mbuf *m, uint16_t in, uint16_t *dst,
           unsigned int n)
{
    const uint8_t *eth = rte_pktmbuf_mtod(m, const uint8_t *);
    int port;

    if (unlikely(rte_pktmbuf_data_len(m) < 14)) {
        return n;
    }
    if (!(eth[6] & 1)) {
        mac_learn(c, mac_u64(eth + 6), in);
    }
    port = eth[0] & 1 ? -1 : mac_lookup(c, mac_u64(eth));
    if (port < 0) {
        c->flooded++;
        return add_flood(c, in, dst, n);
    }
    if (port != in && n < OKO_SHM_MAX_PORTS * 2) {
        dst[n++] = port;
    }
    return n;
}

void
clsp_apply_rule(struct clsp *c, uint32_t rule, struct rte_mbuf *m)
{
    const struct oko_flow *f = &cls_snapshot_rule(c->snap, rule)->flow;
    uint16_t in = m->port, dst[OKO_SHM_MAX_PORTS * 2];
    unsigned int n = 0;

    c->rule_pkts[rule]++;
    c->rule_bytes[rule] += rte_pktmbuf_pkt_len(m);
    for (unsigned int i = 0; i < f->n_actions; i++) {
        const struct oko_action *a = &f->actions[i];

        if (a->type != OKO_ACT_OUTPUT) {
            c->unsupported++;
            continue;
        }
        if (a->arg >= 1 && a->arg <= c->n_ports) {
            if (n < RTE_DIM(dst)) {
                dst[n++] = a->arg - 1;
            }
        } else if (a->arg == OKO_PORT_IN_PORT) {
            if (n < RTE_DIM(dst) && in < c->n_ports) {
                dst[n++] = in;
            }
        } else if (a->arg == OKO_PORT_FLOOD || a->arg == OKO_PORT_ALL) {
            n = add_flood(c, in, dst, n);
        } else if (a->arg == OKO_PORT_NORMAL) {
            n = add_normal(c, m, in, dst, n);
        } else if (a->arg == OKO_PORT_CONTROLLER) {
            /* Packet-in goes over a ring to oko-ofctl once it exists. */
            c->to_controller++;
        } else {
            /* A port that does not exist, LOCAL, TABLE. */
            c->unsupported++;
        }
    }
    if (n == 0) {
        c->drop_action++;
        clsp_drop(c, m);
        return;
    }
    if (n > 1) {
        rte_mbuf_refcnt_update(m, (int16_t) (n - 1));
    }
    for (unsigned int i = 0; i < n; i++) {
        if (likely(clsp_out_add(c, &c->port_tx[dst[i]], m))) {
            c->ports[dst[i]].tx++;
            c->tx++;
        }
    }
}
