/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * main.c -- oko-filter: the DPDK secondary that runs one filter program.
 *
 *   oko-filter [EAL args] -- --prog=ID [--instance=N] [--poll=adaptive|busy]
 *
 * It attaches to the registry of a running oko-primary, builds its own VM
 * from the program's ELF image in shared memory (no code pointer crosses
 * processes) with the program's maps attached from their memzones, then
 * loops: dequeue a burst from each of its input rings (from the
 * classifier, and from the filters before it in a chain), run the program
 * on each packet and write the verdict into the packet's chain-position
 * field; a packet that matched, or ends its chain, goes to the verdict
 * ring; one that did not match goes straight to the next filter of its
 * chain (DESIGN.md section 3).  It never frees or allocates packets and
 * writes only their chain-position field: a filter killed at any moment
 * leaks at most the burst it held, and its mempool cache is always empty.
 *
 * Multi-segment packets are copied into a per-process buffer so that the
 * program sees the whole frame; frames longer than the buffer (never, for
 * standard MTUs) are run on their first segment only and counted.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_ring.h>

#include "oko_dp.h"
#include "oko_shm.h"

#define FLT_MAX_BURST 256u
/* Heartbeat and counter flush every this many loop iterations; the primary
 * liveness check at most every FLT_ALIVE_NS. */
#define FLT_SLOW_ITERS 64
#define FLT_ALIVE_NS (100u * 1000 * 1000)
/* Largest frame seen whole when it spans several segments (jumbo). */
#define FLT_LINEAR_MAX 16384

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
    quit = sig;
}

struct flt_opts {
    unsigned int prog_id;
    unsigned int instance;
    enum oko_poll_mode poll;
    bool bounds_check;
};

/* Input rings: one from each classifier instance, one from each upstream
 * filter of a chain (found when the flow table changes). */
#define FLT_MAX_INPUTS (OKO_SHM_MAX_CLASSIFIERS + OKO_SHM_MAX_PROGS)
/* Distinct next filters one burst can be handed to; packets for more are
 * handed in the next pass over the burst. */
#define FLT_MAX_NEXT 4
/* Input rings are looked for again at least this often. */
#define FLT_RESCAN_NS (1000u * 1000 * 1000)

/* A next-filter ring, cached by program id. */
struct flt_next {
    uint32_t prog_id;
    struct rte_ring *ring;
};

/* A chain table, cached by generation. */
struct flt_chains {
    uint32_t generation;
    const struct oko_shm_chain_table *table;    /* NULL: none cached */
};

/* Everything this process attaches to or builds. */
struct flt {
    struct oko_shm_registry *reg;
    struct oko_shm_prog *sp;
    struct oko_shm_instance *inst;
    struct bpf_prog *prog;
    struct bpf_vm *vm;
    struct bpf_map *maps[OKO_SHM_MAX_PROG_MAPS];
    uint32_t id;
    struct rte_ring *in[FLT_MAX_INPUTS];
    uint32_t in_from[FLT_MAX_INPUTS];   /* 0: classifier, else program id */
    unsigned int n_in;
    struct rte_ring *verdict;
    struct flt_next next[OKO_SHM_MAX_PROGS];
    unsigned int n_next;
    struct flt_chains chains[2];        /* current and previous generation */
    unsigned int chains_victim;
    uint64_t flow_gen_seen;
    uint64_t next_rescan_ns;
    unsigned int burst;
    /* Local counters, flushed to inst every FLT_SLOW_ITERS iterations. */
    uint64_t pkts, matched, handed_off, chain_broken, linearised, truncated,
             out_full, heartbeat;
};

static uint8_t linear_buf[FLT_LINEAR_MAX];

static void
usage(FILE *f)
{
    fputs("usage: oko-filter [EAL args] -- --prog=ID [--instance=N] "
          "[--poll=adaptive|busy] [--bounds-check]\n", f);
}

static int
parse_args(int argc, char **argv, struct flt_opts *o)
{
    static const struct option opts[] = {
        { "prog", required_argument, NULL, 'p' },
        { "instance", required_argument, NULL, 'i' },
        { "poll", required_argument, NULL, 'P' },
        { "bounds-check", no_argument, NULL, 'b' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char *end;
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            o->prog_id = strtoul(optarg, &end, 10);
            if (*end || o->prog_id == 0 || o->prog_id > OKO_SHM_MAX_ID) {
                oko_log(OKO_LOG_ERR, "--prog: bad program id '%s'", optarg);
                return -EINVAL;
            }
            break;
        case 'i':
            o->instance = strtoul(optarg, &end, 10);
            if (*end || o->instance >= OKO_SHM_MAX_INSTANCES) {
                oko_log(OKO_LOG_ERR, "--instance: expected 0..%d",
                        OKO_SHM_MAX_INSTANCES - 1);
                return -EINVAL;
            }
            break;
        case 'P':
            if (oko_poll_parse(optarg, &o->poll)) {
                oko_log(OKO_LOG_ERR, "--poll expects adaptive or busy");
                return -EINVAL;
            }
            break;
        case 'b':
            o->bounds_check = true;
            break;
        case 'h':
            usage(stdout);
            exit(EXIT_SUCCESS);
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    if (!o->prog_id) {
        usage(stderr);
        return -EINVAL;
    }
    return 0;
}

static struct rte_ring *
ring_find(const char *fmt, unsigned int id, unsigned int c)
{
    char name[OKO_SHM_NAMESIZE];
    struct rte_ring *r;

    if (oko_shm_name(name, sizeof name, fmt, id, c)) {
        return NULL;
    }
    r = rte_ring_lookup(name);
    if (!r) {
        oko_log(OKO_LOG_ERR, "no ring %s: is oko-primary running?", name);
    }
    return r;
}

/* Attaches to the program's registry slot, image, maps and rings, and
 * builds the VM. */
static int
flt_attach(struct flt *f, const struct flt_opts *o)
{
    struct bpf_verify_opts vopts = { .mode = BPF_VERIFY_FILTER };
    const struct rte_memzone *mz;
    char err[256];
    size_t nmaps;

    f->reg = oko_shm_registry_attach(err, sizeof err);
    if (!f->reg) {
        oko_log(OKO_LOG_ERR, "%s", err);
        return -ENOENT;
    }
    if (oko_dynfield_lookup()) {
        oko_log(OKO_LOG_ERR, "mbuf field %s not registered: is oko-primary "
                "running?", OKO_SHM_MBUF_DYNFIELD);
        return -ENOENT;
    }
    f->sp = oko_shm_prog_find(f->reg, o->prog_id);
    if (!f->sp) {
        oko_log(OKO_LOG_ERR, "program %u is not loaded", o->prog_id);
        return -ENOENT;
    }
    mz = rte_memzone_lookup(f->sp->elf_mz);
    if (!mz || mz->len < f->sp->elf_len) {
        oko_log(OKO_LOG_ERR, "program %u: no memzone %s: is oko-primary "
                "running?", o->prog_id, f->sp->elf_mz);
        return -ENOENT;
    }
    f->prog = bpf_prog_load_elf(mz->addr, f->sp->elf_len, NULL, err,
                                sizeof err);
    if (!f->prog) {
        oko_log(OKO_LOG_ERR, "program %u: %s", o->prog_id, err);
        return -EINVAL;
    }
    /* Verified by the primary already; verifying again costs milliseconds
     * once and protects against a registry another build wrote. */
    if (bpf_verify(f->prog, &vopts, NULL, err, sizeof err)) {
        oko_log(OKO_LOG_ERR, "program %u rejected by the verifier: %s",
                o->prog_id, err);
        return -EACCES;
    }
    nmaps = bpf_prog_nmaps(f->prog);
    if (nmaps != f->sp->nmaps) {
        oko_log(OKO_LOG_ERR, "program %u declares %zu maps, the registry %u",
                o->prog_id, nmaps, f->sp->nmaps);
        return -EINVAL;
    }
    for (size_t i = 0; i < nmaps; i++) {
        const struct oko_shm_map *sm = &f->sp->maps[i];
        const struct bpf_map_desc *d = bpf_prog_map(f->prog, i);

        mz = rte_memzone_lookup(sm->mz_name);
        if (!mz) {
            oko_log(OKO_LOG_ERR, "program %u: no memzone %s for map %s: is "
                    "oko-primary running?", o->prog_id, sm->mz_name, sm->name);
            return -ENOENT;
        }
        f->maps[i] = bpf_map_attach(mz->addr, sm->size);
        if (!f->maps[i]
            || memcmp(bpf_map_get_def(f->maps[i]), &d->def, sizeof d->def)) {
            oko_log(OKO_LOG_ERR, "program %u: memzone %s does not hold map "
                    "%s as the program defines it", o->prog_id, sm->mz_name,
                    d->name);
            return -EINVAL;
        }
    }
    f->vm = bpf_vm_create(f->prog, nmaps ? f->maps : NULL,
                          o->bounds_check ? BPF_VM_BOUNDS_CHECK : 0,
                          err, sizeof err);
    if (!f->vm) {
        oko_log(OKO_LOG_ERR, "program %u: %s", o->prog_id, err);
        return -EINVAL;
    }
    f->id = o->prog_id;
    for (unsigned int c = 0; c < f->reg->n_classifiers
                         && c < OKO_SHM_MAX_CLASSIFIERS; c++) {
        f->in[f->n_in] = ring_find(OKO_SHM_FLT_IN_CLS_RING, o->prog_id, c);
        if (!f->in[f->n_in]) {
            return -ENOENT;
        }
        f->in_from[f->n_in++] = 0;
    }
    f->verdict = ring_find(OKO_SHM_FLT_VERDICT_RING, o->prog_id, 0);
    if (!f->verdict) {
        return -ENOENT;
    }
    f->burst = RTE_MIN(f->reg->burst ? f->reg->burst : 32, FLT_MAX_BURST);
    return 0;
}

/* Runs the program on one packet; returns its verdict. */
static inline uint8_t
flt_run(struct flt *f, struct rte_mbuf *m)
{
    void *data = rte_pktmbuf_mtod(m, void *);
    size_t len = rte_pktmbuf_data_len(m);

    if (unlikely(m->nb_segs > 1)) {
        if (rte_pktmbuf_pkt_len(m) <= sizeof linear_buf) {
            data = (void *) rte_pktmbuf_read(m, 0, rte_pktmbuf_pkt_len(m),
                                             linear_buf);
            len = rte_pktmbuf_pkt_len(m);
            f->linearised++;
        } else {
            f->truncated++;
        }
    }
    return bpf_vm_run(f->vm, data, len) == 1 ? OKO_VERDICT_MATCH
                                             : OKO_VERDICT_NOMATCH;
}

static void
flt_flush(struct flt *f, uint64_t now)
{
    struct oko_shm_instance *in = f->inst;

    oko_shm_store(&in->pkts, f->pkts);
    oko_shm_store(&in->matched, f->matched);
    oko_shm_store(&in->handed_off, f->handed_off);
    oko_shm_store(&in->chain_broken, f->chain_broken);
    oko_shm_store(&in->linearised, f->linearised);
    oko_shm_store(&in->truncated, f->truncated);
    oko_shm_store(&in->out_full, f->out_full);
    oko_shm_store(&in->heartbeat_ns, now);
    oko_shm_store(&in->heartbeat, ++f->heartbeat);
}

/* Looks for the input rings from upstream filters (OKO_SHM_FLT_IN_FLT_RING)
 * that a chain publisher created since the last scan.  Slow path: ring
 * lookups take the EAL's tailq lock. */
static void
flt_rescan_inputs(struct flt *f)
{
    for (int i = 0; i < OKO_SHM_MAX_PROGS && f->n_in < FLT_MAX_INPUTS; i++) {
        const struct oko_shm_prog *p = &f->reg->progs[i];
        char name[OKO_SHM_NAMESIZE];
        uint32_t up = p->id;
        struct rte_ring *r;
        bool known = false;

        if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) == OKO_PROG_FREE
            || up == f->id) {
            continue;
        }
        for (unsigned int k = 0; k < f->n_in && !known; k++) {
            known = f->in_from[k] == up;
        }
        if (known || oko_shm_name(name, sizeof name, OKO_SHM_FLT_IN_FLT_RING,
                                  f->id, up)) {
            continue;
        }
        r = rte_ring_lookup(name);
        if (r) {
            f->in[f->n_in] = r;
            f->in_from[f->n_in++] = up;
            oko_log(OKO_LOG_INFO, "program %u: input from filter %u (%s)",
                    f->id, up, name);
        }
    }
}

/* Returns chain chain_id of generation gen, or NULL if the generation's
 * table or the chain does not exist.  Tables are immutable once published,
 * so the two latest generations are cached; a miss (new generation) looks
 * the memzone up once. */
static const struct oko_shm_chain *
flt_chain(struct flt *f, uint32_t gen, uint32_t chain_id)
{
    const struct oko_shm_chain_table *t = NULL;

    for (unsigned int i = 0; i < RTE_DIM(f->chains); i++) {
        if (f->chains[i].table && f->chains[i].generation == gen) {
            t = f->chains[i].table;
        }
    }
    if (unlikely(!t)) {
        char name[OKO_SHM_NAMESIZE];
        const struct rte_memzone *mz;

        if (oko_shm_name(name, sizeof name, OKO_SHM_CHAIN_MZ, gen)
            || !(mz = rte_memzone_lookup(name))) {
            return NULL;
        }
        t = mz->addr;
        if (t->magic != OKO_SHM_MAGIC || t->generation != gen
            || sizeof *t + (size_t) t->n_chains * sizeof t->chains[0]
               > mz->len) {
            return NULL;
        }
        f->chains[f->chains_victim].generation = gen;
        f->chains[f->chains_victim].table = t;
        f->chains_victim ^= 1;
    }
    return chain_id < t->n_chains ? &t->chains[chain_id] : NULL;
}

/* Returns the ring to the filter after this one in packet m's chain, or
 * NULL if this filter is the chain's last (or the chain is broken, which
 * is counted: the packet then returns with its verdict). */
static struct rte_ring *
flt_next_ring(struct flt *f, const struct oko_mbuf_chain *c)
{
    const struct oko_shm_chain *ch = flt_chain(f, c->generation, c->chain_id);
    char name[OKO_SHM_NAMESIZE];
    struct rte_ring *r;
    uint32_t next;

    if (unlikely(!ch || c->step >= ch->n || ch->n > OKO_SHM_MAX_CHAIN
                 || ch->prog[c->step] != f->id)) {
        f->chain_broken++;
        return NULL;
    }
    if (c->step + 1u >= ch->n) {
        return NULL;
    }
    next = ch->prog[c->step + 1];
    for (unsigned int i = 0; i < f->n_next; i++) {
        if (f->next[i].prog_id == next) {
            return f->next[i].ring;
        }
    }
    if (oko_shm_name(name, sizeof name, OKO_SHM_FLT_IN_FLT_RING, next, f->id)
        || !(r = rte_ring_lookup(name)) || f->n_next == RTE_DIM(f->next)) {
        f->chain_broken++;
        return NULL;
    }
    f->next[f->n_next].prog_id = next;
    f->next[f->n_next++].ring = r;
    return r;
}

/* Enqueues n packets on r, waiting while it is full: a filter never drops
 * (back-pressure reaches the producer upstream, which applies the fail
 * policy when this filter looks dead).  Returns false if the filter must
 * stop (signal, primary gone). */
static bool
flt_enqueue_all(struct flt *f, struct rte_ring *r, struct rte_mbuf **pkts,
                unsigned int n, struct oko_poller *poller)
{
    unsigned int sent = 0;
    uint64_t waits = 0;

    while (sent < n) {
        unsigned int q = rte_ring_sp_enqueue_burst(r, (void **) pkts + sent,
                                                   n - sent, NULL);

        sent += q;
        if (q) {
            /* What a SIGKILL now would lose (one store per enqueue). */
            oko_shm_store(&f->inst->holding,
                          oko_shm_load(&f->inst->holding) - q);
        }
        if (sent < n) {
            f->out_full++;
            /* Waiting for a slow consumer is not hanging: keep the
             * heartbeat going, and give up only if told to or if the
             * primary is gone (checked at the slow-path rate). */
            if (++waits % FLT_SLOW_ITERS == 0) {
                flt_flush(f, oko_now_ns());
                if (quit || !rte_eal_primary_proc_alive(NULL)) {
                    return false;
                }
            }
            oko_poller_wait(poller, 0);
        }
    }
    return true;
}

/* Runs a burst and sends each packet on: matched or end of its chain, back
 * on the verdict ring; not matched with a next filter, to that filter's
 * ring with its step advanced.  Returns false if the filter must stop. */
static bool
flt_burst(struct flt *f, struct rte_mbuf **pkts, unsigned int n,
          struct oko_poller *poller)
{
    struct rte_mbuf *back[FLT_MAX_BURST], *fwd[FLT_MAX_NEXT][FLT_MAX_BURST];
    struct rte_mbuf *later[FLT_MAX_BURST];
    struct rte_ring *fwd_ring[FLT_MAX_NEXT];
    unsigned int nback = 0, nfwd[FLT_MAX_NEXT] = { 0 }, ngroups = 0;
    unsigned int nlater = 0;

    for (unsigned int i = 0; i < n; i++) {
        struct oko_mbuf_chain *c = oko_mbuf_chain(pkts[i]);
        uint8_t v = flt_run(f, pkts[i]);
        struct rte_ring *r = NULL;
        unsigned int g;

        c->verdict = v;
        if (v == OKO_VERDICT_MATCH) {
            f->matched++;
        } else if (c->chain_id) {
            r = flt_next_ring(f, c);
        }
        if (!r) {
            back[nback++] = pkts[i];
            continue;
        }
        for (g = 0; g < ngroups && fwd_ring[g] != r; g++) {
            continue;
        }
        if (g == ngroups) {
            if (ngroups == FLT_MAX_NEXT) {
                /* Rare: more next filters than groups; sent after this
                 * burst's groups, still in order per ring. */
                later[nlater++] = pkts[i];
                continue;
            }
            fwd_ring[ngroups++] = r;
        }
        c->step++;
        c->verdict = OKO_VERDICT_NONE;
        fwd[g][nfwd[g]++] = pkts[i];
    }
    f->pkts += n;
    for (unsigned int g = 0; g < ngroups; g++) {
        f->handed_off += nfwd[g];
        if (!flt_enqueue_all(f, fwd_ring[g], fwd[g], nfwd[g], poller)) {
            return false;
        }
    }
    for (unsigned int i = 0; i < nlater; i++) {
        struct oko_mbuf_chain *c = oko_mbuf_chain(later[i]);
        struct rte_ring *r = flt_next_ring(f, c);

        c->step++;
        c->verdict = OKO_VERDICT_NONE;
        f->handed_off++;
        if (!flt_enqueue_all(f, r, &later[i], 1, poller)) {
            return false;
        }
    }
    return flt_enqueue_all(f, f->verdict, back, nback, poller);
}

static void
flt_loop(struct flt *f, const struct flt_opts *o)
{
    struct rte_mbuf *pkts[FLT_MAX_BURST];
    struct oko_poller poller;
    uint64_t iter = 0, next_alive = 0;

    oko_poller_init(&poller, o->poll);
    while (!quit) {
        unsigned int work = 0;

        for (unsigned int k = 0; k < f->n_in; k++) {
            unsigned int n = rte_ring_sc_dequeue_burst(f->in[k],
                                                       (void **) pkts,
                                                       f->burst, NULL);

            if (n) {
                work += n;
                oko_shm_store(&f->inst->holding, n);
                if (!flt_burst(f, pkts, n, &poller)) {
                    return;
                }
            }
        }

        if (++iter % FLT_SLOW_ITERS == 0) {
            uint64_t now = oko_now_ns();
            uint64_t gen = oko_shm_load(&f->reg->flow_generation);

            flt_flush(f, now);
            if (gen != f->flow_gen_seen || now >= f->next_rescan_ns) {
                f->flow_gen_seen = gen;
                f->next_rescan_ns = now + FLT_RESCAN_NS;
                flt_rescan_inputs(f);
            }
            if (now >= next_alive) {
                next_alive = now + FLT_ALIVE_NS;
                if (!rte_eal_primary_proc_alive(NULL)) {
                    oko_log(OKO_LOG_WARN, "oko-primary is gone: exiting");
                    return;
                }
            }
        }
        oko_poller_wait(&poller, work);
    }
}

int
main(int argc, char **argv)
{
    struct flt_opts o = { .poll = OKO_POLL_ADAPTIVE };
    struct flt f;
    struct sigaction sa;
    int rc, status = EXIT_FAILURE;

    memset(&f, 0, sizeof f);
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
    if (parse_args(argc, argv, &o) || flt_attach(&f, &o)) {
        goto out;
    }

    f.inst = &f.sp->inst[o.instance];
    memset((char *) f.inst + offsetof(struct oko_shm_instance, heartbeat), 0,
           sizeof *f.inst - offsetof(struct oko_shm_instance, heartbeat));
    f.inst->lcore = rte_lcore_id();
    f.inst->started_ns = oko_now_ns();
    flt_flush(&f, f.inst->started_ns);
    __atomic_store_n(&f.inst->pid, getpid(), __ATOMIC_RELAXED);
    __atomic_store_n(&f.inst->ready, 1, __ATOMIC_RELEASE);
    oko_log(OKO_LOG_INFO, "program %u (%s) instance %u running on lcore %u",
            o.prog_id, f.sp->name, o.instance, rte_lcore_id());

    flt_loop(&f, &o);

    flt_flush(&f, oko_now_ns());
    __atomic_store_n(&f.inst->ready, 0, __ATOMIC_RELEASE);
    oko_log(OKO_LOG_INFO, "program %u instance %u stopping: %" PRIu64
            " packets, %" PRIu64 " matched", o.prog_id, o.instance, f.pkts,
            f.matched);
    status = EXIT_SUCCESS;
out:
    bpf_vm_destroy(f.vm);
    bpf_prog_free(f.prog);
    rte_eal_cleanup();
    return status;
}
