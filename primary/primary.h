/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * primary.h -- declarations private to oko-primary (primary/ only).
 */
#ifndef OKO_PRIMARY_H
#define OKO_PRIMARY_H 1

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_ring.h>

#include "oko_dp.h"
#include "oko_shm.h"

#define PRIM_MAX_VDEVS 32
#define PRIM_MAX_EXTRA 32

/* A --prog ID:FILE[:POLICY] request. */
struct prim_prog_req {
    uint32_t id;
    const char *path;
    uint32_t fail_policy;
};

/* Everything the command line and the configuration file set. */
struct prim_opts {
    const char *file_prefix;
    const char *mem;                    /* -m, MiB */
    const char *socket_mem;
    const char *log_level;
    const char *vdevs[PRIM_MAX_VDEVS];
    int n_vdevs;
    const char *eal_extra[PRIM_MAX_EXTRA];
    int n_eal_extra;
    bool pci;
    bool share_ports;                   /* let secondaries probe vdevs */
    struct prim_prog_req progs[OKO_SHM_MAX_PROGS];
    int n_progs;
    bool supervise;
    bool bypass;
    uint32_t bypass_chain[OKO_SHM_MAX_CHAIN];   /* program ids */
    unsigned int n_bypass_chain;
    bool show;
    enum oko_poll_mode poll;
    const char *pid_file;
    unsigned int stats_interval;        /* seconds, 0 = never */
    unsigned int stop_timeout;          /* seconds */
    const char *filter_bin;
    const char *classifier_bin;
    const char *classifier_args[PRIM_MAX_EXTRA];
    int n_classifier_args;
    unsigned int ring_size;
    unsigned int burst;
    unsigned int nb_mbufs;
};

/* Set by the signal handlers. */
extern volatile sig_atomic_t prim_quit;

/* The port and filter rings the I/O loop uses. */
struct prim_rings {
    struct rte_ring *port_rx[OKO_SHM_MAX_PORTS];
    struct rte_ring *port_tx[OKO_SHM_MAX_PORTS];
};

/* ports.c: configures and starts every probed port with one RX and one TX
 * queue from pool, creates its rings and fills reg->ports.  Returns 0 or a
 * negative errno with a message in err. */
int prim_ports_init(const struct prim_opts *o, struct rte_mempool *pool,
                    struct oko_shm_registry *reg, struct prim_rings *rings,
                    char *err, size_t errlen);

/* ports.c: stops and closes every port (net_pcap flushes its output file
 * on close). */
void prim_ports_fini(struct oko_shm_registry *reg);

/* registry.c: loads, verifies and registers program req: its ELF image and
 * maps go to memzones, its rings are created.  Returns 0 or a negative
 * errno with a message in err. */
int prim_prog_load(const struct prim_opts *o, struct oko_shm_registry *reg,
                   const struct prim_prog_req *req, char *err, size_t errlen);

/* io.c: runs the port I/O loop until prim_quit, calling the supervisor and
 * statistics every few iterations.  Returns 0 or a negative errno. */
int prim_io_loop(const struct prim_opts *o, struct oko_shm_registry *reg,
                 struct prim_rings *rings);

/* supervise.c: prepares the child processes to supervise (one oko-filter
 * per loaded program, oko-classifier if its binary exists and the
 * classifier is not bypassed).  argv0 locates the sibling binaries. */
int prim_sv_init(const struct prim_opts *o, struct oko_shm_registry *reg,
                 const char *argv0);

/* supervise.c: reaps dead children, logs why they died and (re)starts the
 * ones due.  Called from the I/O loop's slow path. */
void prim_sv_tick(struct oko_shm_registry *reg, uint64_t now_ns);

/* supervise.c: stops every child: SIGTERM, then SIGKILL after the
 * configured timeout; reaps them all. */
void prim_sv_stop(struct oko_shm_registry *reg);

/* supervise.c: whether an oko-classifier is among the supervised
 * children. */
bool prim_sv_has_classifier(void);

/* supervise.c: updates program states from their instances' readiness. */
void prim_sv_update_states(struct oko_shm_registry *reg);

/* show.c: attaches to a running oko-primary as a secondary and prints its
 * registry.  Returns the process exit status. */
int prim_show(const struct prim_opts *o, const char *argv0);

#endif /* OKO_PRIMARY_H */
