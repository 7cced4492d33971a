/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * show.c -- `oko-primary --show`: attaches to a running oko-primary as a
 * DPDK secondary (lcore OKO_LCORE_TOOL) and prints its registry: ports
 * with counters, the classifier with its counters per port and per flow,
 * the mbuf pool's use, programs with state, instance, heartbeat, counters
 * and the number of entries of each map.  Read-only: it writes nothing shared.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mempool.h>
#include <rte_memzone.h>

#include "primary.h"

static const char *
map_type_name(uint32_t type)
{
    switch (type) {
    case BPF_MAP_ARRAY: return "array";
    case BPF_MAP_HASH: return "hash";
    case BPF_MAP_BLOOM: return "bloom";
    case BPF_MAP_CMS: return "count-min";
    default: return "?";
    }
}

static void
show_prog(const struct oko_shm_prog *p, uint64_t now)
{
    printf("program %u v%u %s state %s %s restarts %u lost %" PRIu64 "\n",
           p->id, p->version, p->name, oko_prog_state_name(p->state),
           oko_fail_policy_name(p->fail_policy), p->restarts,
           oko_shm_load(&p->lost));
    for (unsigned int i = 0; i < OKO_SHM_MAX_INSTANCES; i++) {
        const struct oko_shm_instance *in = &p->inst[i];
        uint64_t hb_ns = oko_shm_load(&in->heartbeat_ns);
        int32_t pid = __atomic_load_n(&in->pid, __ATOMIC_RELAXED);

        if (!pid && !hb_ns) {
            continue;
        }
        printf("  instance %u%s pid %d lcore %u ready %u heartbeat %" PRIu64
               " age-ms %" PRIu64 " pkts %" PRIu64 " matched %" PRIu64
               " handed-off %" PRIu64 " chain-broken %" PRIu64
               " linearised %" PRIu64 " truncated %" PRIu64 " out-full %"
               PRIu64 "\n", i, i == p->active ? " (active)" : "", pid,
               in->lcore, in->ready, oko_shm_load(&in->heartbeat),
               hb_ns && now > hb_ns ? (now - hb_ns) / 1000000 : 0,
               oko_shm_load(&in->pkts), oko_shm_load(&in->matched),
               oko_shm_load(&in->handed_off), oko_shm_load(&in->chain_broken),
               oko_shm_load(&in->linearised), oko_shm_load(&in->truncated),
               oko_shm_load(&in->out_full));
    }
    for (unsigned int i = 0; i < p->nmaps; i++) {
        const struct oko_shm_map *m = &p->maps[i];
        const struct rte_memzone *mz = rte_memzone_lookup(m->mz_name);
        struct bpf_map *map = mz ? bpf_map_attach(mz->addr, m->size) : NULL;

        printf("  map %u %s %s key %u value %u max %u memzone %s bytes %"
               PRIu64 " count ", i, m->name, map_type_name(m->def.type),
               m->def.key_size, m->def.value_size, m->def.max_entries,
               m->mz_name, m->size);
        if (map) {
            printf("%" PRIu64 "\n", bpf_map_count(map));
        } else {
            printf("? (%s)\n", mz ? "bad map block" : "memzone missing");
        }
    }
}

/* Prints what classifier instance ci counted: drop reasons, per port,
 * per flow (memzone OKO_SHM_CLS_STATS_MZ, absent until a classifier ran). */
static void
show_classifier_stats(const struct oko_shm_registry *reg, unsigned int ci)
{
    const struct oko_shm_cls_stats *st;
    const struct rte_memzone *mz;
    char name[OKO_SHM_NAMESIZE];
    uint32_t n;

    if (oko_shm_name(name, sizeof name, OKO_SHM_CLS_STATS_MZ, ci)
        || !(mz = rte_memzone_lookup(name)) || mz->len < sizeof *st) {
        return;
    }
    st = mz->addr;
    if (st->magic != OKO_SHM_MAGIC) {
        return;
    }
    printf("classifier %u generation %" PRIu64 " drop-action %" PRIu64
           " table-miss %" PRIu64 " fail-open %" PRIu64 " fail-closed %"
           PRIu64 " stale %" PRIu64 " chain-errors %" PRIu64 " tx-full %"
           PRIu64 " unsupported %" PRIu64 " mac-learned %" PRIu64
           " flooded %" PRIu64 "\n", ci, st->generation,
           oko_shm_load(&st->drop_action), oko_shm_load(&st->table_miss),
           oko_shm_load(&st->fail_open), oko_shm_load(&st->fail_closed),
           oko_shm_load(&st->stale), oko_shm_load(&st->chain_errors),
           oko_shm_load(&st->tx_full), oko_shm_load(&st->unsupported),
           oko_shm_load(&st->mac_learned), oko_shm_load(&st->flooded));
    for (unsigned int p = 0; p < reg->n_ports && p < OKO_SHM_MAX_PORTS;
         p++) {
        printf("classifier %u port %u rx %" PRIu64 " tx %" PRIu64
               " dropped %" PRIu64 "\n", ci, p,
               oko_shm_load(&st->ports[p].rx), oko_shm_load(&st->ports[p].tx),
               oko_shm_load(&st->ports[p].dropped));
    }
    n = __atomic_load_n(&st->n_flows, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n && i < OKO_SHM_CLS_MAX_FLOWS; i++) {
        printf("flow %u pkts %" PRIu64 " bytes %" PRIu64 " %.*s\n", i,
               oko_shm_load(&st->flows[i].pkts),
               oko_shm_load(&st->flows[i].bytes),
               (int) sizeof st->flows[i].text, st->flows[i].text);
    }
}

int
prim_show(const struct prim_opts *o, const char *argv0)
{
    struct oko_argv eal = { 0 };
    char **eal_vec = NULL;
    struct oko_shm_registry *reg;
    struct rte_mempool *pool;
    char err[256];
    uint64_t now;
    int status = EXIT_FAILURE;

    if (oko_argv_add(&eal, argv0)
        || oko_argv_add_secondary_eal(&eal, o->file_prefix, OKO_LCORE_TOOL,
                                      o->log_level ? o->log_level : "error")) {
        oko_log(OKO_LOG_ERR, "out of memory");
        goto out;
    }
    eal_vec = oko_argv_vec(&eal);
    if (!eal_vec) {
        oko_log(OKO_LOG_ERR, "out of memory");
        goto out;
    }
    if (rte_eal_init(eal.argc, eal_vec) < 0) {
        oko_log(OKO_LOG_ERR, "cannot attach to --file-prefix=%s (%s): is "
                "oko-primary running?", o->file_prefix,
                rte_strerror(rte_errno));
        goto out;
    }
    reg = oko_shm_registry_attach(err, sizeof err);
    if (!reg) {
        oko_log(OKO_LOG_ERR, "%s", err);
        goto cleanup;
    }
    now = oko_now_ns();
    printf("primary pid %d up-ms %" PRIu64 " ports %u flow-generation %"
           PRIu64 " mode %s\n", reg->primary_pid,
           (now - reg->started_ns) / 1000000, reg->n_ports,
           oko_shm_load(&reg->flow_generation),
           reg->bypass ? "bypass-classifier" : "normal");
    for (unsigned int i = 0; i < reg->n_ports; i++) {
        const struct oko_shm_port *sp = &reg->ports[i];

        if (!sp->in_use) {
            continue;
        }
        printf("port %u %s rx %" PRIu64 " tx %" PRIu64 " rx-dropped %" PRIu64
               " tx-dropped %" PRIu64 " filter-dropped %" PRIu64
               " fail-policy %" PRIu64 "\n", i, sp->name,
               oko_shm_load(&sp->rx), oko_shm_load(&sp->tx),
               oko_shm_load(&sp->rx_dropped), oko_shm_load(&sp->tx_dropped),
               oko_shm_load(&sp->filter_dropped),
               oko_shm_load(&sp->fail_policy));
    }
    for (unsigned int i = 0; i < OKO_SHM_MAX_CLASSIFIERS; i++) {
        const struct oko_shm_classifier *c = &reg->classifiers[i];
        uint64_t hb_ns = oko_shm_load(&c->heartbeat_ns);
        int32_t pid = __atomic_load_n(&c->pid, __ATOMIC_RELAXED);

        if (!pid && !hb_ns) {
            continue;
        }
        printf("classifier %u pid %d lcore %u ready %u heartbeat %" PRIu64
               " age-ms %" PRIu64 " rx %" PRIu64 " tx %" PRIu64 " dropped %"
               PRIu64 " to-filters %" PRIu64 " from-filters %" PRIu64
               " to-controller %" PRIu64 " emc-hits %" PRIu64 " lookups %"
               PRIu64 "\n", i, pid, c->lcore, c->ready,
               oko_shm_load(&c->heartbeat),
               hb_ns && now > hb_ns ? (now - hb_ns) / 1000000 : 0,
               oko_shm_load(&c->rx), oko_shm_load(&c->tx),
               oko_shm_load(&c->dropped), oko_shm_load(&c->to_filters),
               oko_shm_load(&c->from_filters),
               oko_shm_load(&c->to_controller), oko_shm_load(&c->emc_hits),
               oko_shm_load(&c->lookups));
    }
    for (unsigned int i = 0; i < OKO_SHM_MAX_CLASSIFIERS; i++) {
        show_classifier_stats(reg, i);
    }
    pool = rte_mempool_lookup(OKO_SHM_MBUF_POOL);
    if (pool) {
        /* Counts include the per-lcore caches: in-use is what rings,
         * queues and processes hold. */
        printf("mbufs pool %s size %u in-use %u avail %u\n", pool->name,
               pool->size, rte_mempool_in_use_count(pool),
               rte_mempool_avail_count(pool));
    }
    for (int i = 0; i < OKO_SHM_MAX_PROGS; i++) {
        if (__atomic_load_n(&reg->progs[i].state, __ATOMIC_ACQUIRE)
            != OKO_PROG_FREE) {
            show_prog(&reg->progs[i], now);
        }
    }
    fflush(stdout);
    status = EXIT_SUCCESS;
cleanup:
    rte_eal_cleanup();
out:
    free(eal_vec);
    oko_argv_free(&eal);
    return status;
}
