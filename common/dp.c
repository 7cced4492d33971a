/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * dp.c -- helpers shared by oko's DPDK processes (see oko_dp.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf, vasprintf */
#endif
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memzone.h>
#include <rte_pause.h>

#include "oko_dp.h"

/* ---------------------------------------------------------------------
 * Logging
 * ------------------------------------------------------------------- */

static const char *log_progname = "oko";
static enum oko_log_level log_max = OKO_LOG_INFO;

static const char *const log_level_names[] = {
    [OKO_LOG_ERR] = "error",
    [OKO_LOG_WARN] = "warning",
    [OKO_LOG_INFO] = "info",
    [OKO_LOG_DEBUG] = "debug",
};

void
oko_log_init(const char *progname, enum oko_log_level max)
{
    const char *slash = strrchr(progname, '/');

    log_progname = slash ? slash + 1 : progname;
    log_max = max;
}

static void
log_v(enum oko_log_level level, uint64_t suppressed, const char *fmt,
      va_list ap)
{
    char line[1024];
    int n;

    if (level > log_max) {
        return;
    }
    n = snprintf(line, sizeof line, "%s[%d]: %s: ", log_progname,
                 (int) getpid(), log_level_names[level]);
    if (n < 0 || (size_t) n >= sizeof line) {
        return;
    }
    vsnprintf(line + n, sizeof line - n, fmt, ap);
    /* One write per line, so that the lines of several processes sharing
     * a terminal or a log file do not interleave. */
    if (suppressed) {
        fprintf(stderr, "%s (%" PRIu64 " similar lines suppressed)\n", line,
                suppressed);
    } else {
        fprintf(stderr, "%s\n", line);
    }
}

void
oko_log(enum oko_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_v(level, 0, fmt, ap);
    va_end(ap);
}

void
oko_log_rl(struct oko_ratelimit *rl, enum oko_log_level level,
           const char *fmt, ...)
{
    uint64_t now = oko_now_ns();
    uint64_t suppressed;
    va_list ap;

    if (now - rl->window_start_ns >= rl->interval_ns) {
        rl->window_start_ns = now;
        rl->used = 0;
    }
    if (rl->used >= rl->burst) {
        rl->suppressed++;
        return;
    }
    rl->used++;
    suppressed = rl->suppressed;
    rl->suppressed = 0;
    va_start(ap, fmt);
    log_v(level, suppressed, fmt, ap);
    va_end(ap);
}

uint64_t
oko_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* ---------------------------------------------------------------------
 * Adaptive polling
 * ------------------------------------------------------------------- */

int
oko_poll_parse(const char *s, enum oko_poll_mode *mode)
{
    if (!strcmp(s, "busy")) {
        *mode = OKO_POLL_BUSY;
    } else if (!strcmp(s, "adaptive")) {
        *mode = OKO_POLL_ADAPTIVE;
    } else {
        return -EINVAL;
    }
    return 0;
}

void
oko_poller_init(struct oko_poller *p, enum oko_poll_mode mode)
{
    memset(p, 0, sizeof *p);
    p->mode = mode;
}

void
oko_poller_wait(struct oko_poller *p, unsigned int work)
{
    struct timespec ts;

    if (work) {
        p->idle = 0;
        p->sleep_us = OKO_POLL_SLEEP_US;
        p->sleeps_at = 0;
        return;
    }
    if (p->mode == OKO_POLL_BUSY) {
        rte_pause();
        return;
    }
    if (p->idle < OKO_POLL_SPIN_ITERS) {
        p->idle++;
        rte_pause();
        return;
    }
    if (p->idle < OKO_POLL_SPIN_ITERS + OKO_POLL_YIELD_ITERS) {
        p->idle++;
        sched_yield();
        return;
    }
    if (p->sleep_us < OKO_POLL_SLEEP_US) {
        p->sleep_us = OKO_POLL_SLEEP_US;
    } else if (++p->sleeps_at >= OKO_POLL_SLEEPS_PER_STEP
               && p->sleep_us < OKO_POLL_SLEEP_MAX_US) {
        p->sleeps_at = 0;
        p->sleep_us = RTE_MIN(2 * p->sleep_us,
                              (uint32_t) OKO_POLL_SLEEP_MAX_US);
    }
    ts.tv_sec = 0;
    ts.tv_nsec = p->sleep_us * 1000l;
    p->sleeps++;
    nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------------
 * The mbuf dynamic field
 * ------------------------------------------------------------------- */

int oko_dynfield_offset = -1;

static const struct rte_mbuf_dynfield dynfield_desc = {
    .name = OKO_SHM_MBUF_DYNFIELD,
    .size = sizeof(struct oko_mbuf_chain),
    .align = __alignof__(struct oko_mbuf_chain),
};

int
oko_dynfield_register(void)
{
    int off = rte_mbuf_dynfield_register(&dynfield_desc);

    if (off < 0) {
        return -rte_errno;
    }
    oko_dynfield_offset = off;
    return 0;
}

int
oko_dynfield_lookup(void)
{
    int off = rte_mbuf_dynfield_lookup(OKO_SHM_MBUF_DYNFIELD, NULL);

    if (off < 0) {
        return -ENOENT;
    }
    oko_dynfield_offset = off;
    return 0;
}

/* ---------------------------------------------------------------------
 * Argument vectors
 * ------------------------------------------------------------------- */

int
oko_argv_add(struct oko_argv *a, const char *s)
{
    char *copy;

    if (a->argc + 2 > a->cap) {
        int cap = a->cap ? a->cap * 2 : 16;
        char **v = realloc(a->argv, cap * sizeof *v);

        if (!v) {
            return -ENOMEM;
        }
        a->argv = v;
        a->cap = cap;
    }
    copy = strdup(s);
    if (!copy) {
        return -ENOMEM;
    }
    a->argv[a->argc++] = copy;
    a->argv[a->argc] = NULL;
    return 0;
}

int
oko_argv_addf(struct oko_argv *a, const char *fmt, ...)
{
    char *s;
    va_list ap;
    int n, err;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return -ENOMEM;
    }
    err = oko_argv_add(a, s);
    free(s);
    return err;
}

char **
oko_argv_vec(const struct oko_argv *a)
{
    char **v = malloc((a->argc + 1) * sizeof *v);

    if (v) {
        memcpy(v, a->argv, a->argc * sizeof *v);
        v[a->argc] = NULL;
    }
    return v;
}

void
oko_argv_free(struct oko_argv *a)
{
    for (int i = 0; i < a->argc; i++) {
        free(a->argv[i]);
    }
    free(a->argv);
    memset(a, 0, sizeof *a);
}

int
oko_argv_add_secondary_eal(struct oko_argv *a, const char *file_prefix,
                           unsigned int lcore, const char *log_level)
{
    int err = 0;

    err = err ? err : oko_argv_add(a, "--proc-type=secondary");
    if (file_prefix) {
        err = err ? err : oko_argv_addf(a, "--file-prefix=%s", file_prefix);
    }
    /* Floating over CPUs 0 and 1 lets the kernel balance the processes; the
     * id only has to be unique (see OKO_LCORE_*). */
    err = err ? err : oko_argv_addf(a, "--lcores=%u@(0,1)", lcore);
    err = err ? err : oko_argv_add(a, "--no-pci");
    err = err ? err : oko_argv_add(a, "--no-telemetry");
    if (log_level) {
        err = err ? err : oko_argv_addf(a, "--log-level=%s", log_level);
    }
    return err;
}

/* ---------------------------------------------------------------------
 * Shared objects
 * ------------------------------------------------------------------- */

int
oko_shm_name(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    /* Rings live in memzones named "RG_<name>". */
    if (n < 0 || (size_t) n + sizeof RTE_RING_MZ_PREFIX > OKO_SHM_NAMESIZE
        || (size_t) n >= size) {
        return -ENAMETOOLONG;
    }
    return 0;
}

struct oko_shm_registry *
oko_shm_registry_attach(char *err, size_t errlen)
{
    const struct rte_memzone *mz;
    struct oko_shm_registry *reg;

    /* A secondary attaches to the files a dead primary left behind without
     * complaint: check that the primary is alive first. */
    if (!rte_eal_primary_proc_alive(NULL)) {
        snprintf(err, errlen, "the primary process is gone (stale files "
                 "under /var/run/dpdk): is oko-primary running?");
        return NULL;
    }
    mz = rte_memzone_lookup(OKO_SHM_REGISTRY_MZ);
    if (!mz) {
        snprintf(err, errlen, "no memzone %s: is oko-primary running?",
                 OKO_SHM_REGISTRY_MZ);
        return NULL;
    }
    reg = mz->addr;
    if (mz->len < sizeof *reg || reg->magic != OKO_SHM_MAGIC
        || reg->abi_version != OKO_SHM_ABI_VERSION) {
        snprintf(err, errlen, "memzone %s has the wrong layout (ABI %u, "
                 "expected %u): oko-primary and this program come from "
                 "different builds", OKO_SHM_REGISTRY_MZ,
                 reg->abi_version, OKO_SHM_ABI_VERSION);
        return NULL;
    }
    return reg;
}

struct oko_shm_prog *
oko_shm_prog_find(struct oko_shm_registry *reg, uint32_t id)
{
    for (int i = 0; i < OKO_SHM_MAX_PROGS; i++) {
        struct oko_shm_prog *p = &reg->progs[i];

        if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) != OKO_PROG_FREE
            && p->id == id) {
            return p;
        }
    }
    return NULL;
}

const char *
oko_prog_state_name(uint32_t state)
{
    static const char *const names[] = {
        [OKO_PROG_FREE] = "free",
        [OKO_PROG_LOADED] = "loaded",
        [OKO_PROG_STARTING] = "starting",
        [OKO_PROG_RUNNING] = "running",
        [OKO_PROG_DOWN] = "down",
        [OKO_PROG_UNLOADING] = "unloading",
    };

    return state < RTE_DIM(names) ? names[state] : "?";
}

const char *
oko_fail_policy_name(uint32_t policy)
{
    return policy == OKO_FAIL_CLOSED ? "fail-closed" : "fail-open";
}
