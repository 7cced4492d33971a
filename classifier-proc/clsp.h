/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * clsp.h -- declarations private to oko-classifier (classifier-proc/
 * only): the process state, the filter-chain table it publishes, and the
 * action stage.
 */
#ifndef OKO_CLSP_H
#define OKO_CLSP_H 1

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "oko_dp.h"
#include "oko_flow.h"
#include "oko_shm.h"

/* Largest burst taken from one ring at a time. */
#define CLSP_MAX_BURST 64u
/* Packets an output can hold back while its ring is full: room for
 * several bursts, so that one input burst always fits (see clsp_room). */
#define CLSP_PENDING (8u * CLSP_MAX_BURST)
/* rule_prog[] value of an unconditional rule. */
#define CLSP_NO_PROG UINT16_MAX
/* Entries of the NORMAL action's MAC table (power of two) and their
 * lifetime without traffic, as OVS's default mac-aging-time. */
#define CLSP_MAC_ENTRIES 4096u
#define CLSP_MAC_AGE_NS (300ull * 1000 * 1000 * 1000)

/* Set by the signal handlers. */
extern volatile sig_atomic_t clsp_quit;

/* An output ring (a port's TX ring, a filter's input ring) and the packets
 * it could not take yet, sent first on the next attempt (order kept). */
struct clsp_out {
    struct rte_ring *ring;
    uint32_t n;
    struct rte_mbuf *pkts[CLSP_PENDING];
};

/* A filter program the flow table refers to. */
struct clsp_prog {
    uint32_t id;
    struct oko_shm_prog *sp;            /* NULL: not loaded */
    struct clsp_out in;                 /* its input ring from us */
    struct rte_ring *verdict;           /* its verdict ring to us */
    bool alive;                         /* as of the latest slow tick */
};

/* A published chain, as the classifier needs it: which rule each step's
 * match selects, and the rule that applies when no filter matches. */
struct clsp_chain {
    struct cls_chain key;               /* the lookup result it stands for */
    uint32_t hash;
    uint8_t n_steps;
    uint8_t has_final;                  /* 0: a table miss ends it */
    uint16_t pad;
    uint32_t final_rule;
    uint32_t step_rule[OKO_SHM_MAX_CHAIN];
    uint16_t step_prog[OKO_SHM_MAX_CHAIN];      /* index in progs[] */
};

/* One entry of the NORMAL action's MAC learning table. */
struct clsp_mac {
    uint64_t mac;                       /* 0: free */
    uint64_t seen_ns;
    uint16_t port;                      /* port index */
};

/* Per-port counters, private, flushed to the stats memzone. */
struct clsp_port_ctr {
    uint64_t rx, tx, dropped;
};

/* Everything the process attaches to, builds and counts. */
struct clsp {
    struct oko_shm_registry *reg;
    struct oko_shm_classifier *slot;
    struct oko_shm_cls_stats *st;
    unsigned int burst;
    unsigned int ring_size;
    unsigned int n_ports;
    struct rte_ring *port_rx[OKO_SHM_MAX_PORTS];
    struct clsp_out port_tx[OKO_SHM_MAX_PORTS];

    /* Flow table: the master table and its current snapshot. */
    struct cls *cls;
    struct cls_snapshot *snap;
    struct cls_emc *emc;
    uint32_t n_rules;
    uint16_t *rule_prog;                /* per rule: index in progs[] */
    uint64_t *rule_pkts, *rule_bytes;   /* per rule counters */
    struct clsp_prog progs[OKO_SHM_MAX_PROGS];
    unsigned int n_progs;

    /* Chains of the current generation (chains.c). */
    uint32_t generation;
    struct oko_shm_chain_table *ct;
    struct clsp_chain *chains;          /* OKO_SHM_MAX_CHAINS entries */
    uint32_t n_chains;
    uint16_t *chain_index;              /* hash -> chain id, 0 = empty */
    bool edges[OKO_SHM_MAX_PROGS][OKO_SHM_MAX_PROGS];  /* rings made */

    struct clsp_mac *macs;              /* CLSP_MAC_ENTRIES */
    uint64_t now_ns;                    /* coarse clock of the slow path */

    /* Counters, flushed every few iterations. */
    struct clsp_port_ctr ports[OKO_SHM_MAX_PORTS];
    uint64_t rx, tx, dropped, to_filters, from_filters, to_controller;
    uint64_t drop_action, table_miss, fail_open, fail_closed, stale,
             chain_errors, tx_full, unsupported, mac_learned, flooded;
};

/* chains.c: reserves the chain table of a new generation (the registry's
 * flow_generation + 1, or the first free one after it), creates the
 * hand-off rings between the programs the flow table uses, then publishes
 * the generation in the registry.  Returns 0 or a negative errno (logged). */
int clsp_chains_init(struct clsp *c);

/* chains.c: returns the id of the published chain standing for lookup
 * result ch (whose first rule is conditional), publishing it (and any
 * hand-off ring it needs) if it is new; 0 if it cannot be published (more
 * than OKO_SHM_MAX_CHAIN programs, table full).  Fast path: one hash and
 * one comparison for a known chain. */
uint32_t clsp_chain_get(struct clsp *c, const struct cls_chain *ch);

/* actions.c: counts packet m against rule and executes the rule's actions
 * (output, in_port, flood/all, normal, controller, drop).  The mbuf is
 * consumed: queued on one or more TX outputs (its reference count raised
 * for each extra copy) or freed. */
void clsp_apply_rule(struct clsp *c, uint32_t rule, struct rte_mbuf *m);

/* actions.c: queues m on output o.  Returns true, or false if o's pending
 * space is exhausted: m was then dropped (one reference freed) and
 * counted. */
bool clsp_out_add(struct clsp *c, struct clsp_out *o, struct rte_mbuf *m);

/* actions.c: enqueues as many of o's pending packets as its ring takes.
 * Returns the number sent. */
unsigned int clsp_out_flush(struct clsp_out *o);

/* actions.c: drops m (freed) and counts it against its input port. */
void clsp_drop(struct clsp *c, struct rte_mbuf *m);

#endif /* OKO_CLSP_H */
