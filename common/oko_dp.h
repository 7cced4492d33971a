/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * oko_dp.h -- small helpers shared by oko's DPDK processes: the adaptive
 * poller, the chain-position mbuf dynamic field, EAL argument vectors for
 * secondaries, shared-object names and registry lookup, and logging with a
 * rate limiter.
 *
 * Conventions as in the rest of oko: functions return 0 or a negative
 * errno; diagnostics go into a caller-supplied (char *err, size_t errlen).
 */
#ifndef OKO_DP_H
#define OKO_DP_H 1

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "oko_shm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------
 * Logging
 * ------------------------------------------------------------------- */

enum oko_log_level {
    OKO_LOG_ERR = 0,
    OKO_LOG_WARN,
    OKO_LOG_INFO,
    OKO_LOG_DEBUG,
};

/* Sets the program name printed before every line and the most verbose
 * level printed (default OKO_LOG_INFO). */
void oko_log_init(const char *progname, enum oko_log_level max);

/* Prints one line "progname[pid]: level: message" to stderr. */
void oko_log(enum oko_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A token bucket for logs that a packet can trigger: at most `burst` lines
 * per `interval_ns`; the rest are counted and reported with the next line
 * that passes.  One limiter per call site, used by one thread. */
struct oko_ratelimit {
    uint64_t interval_ns;
    uint32_t burst;
    uint32_t used;
    uint64_t window_start_ns;
    uint64_t suppressed;
};

#define OKO_RATELIMIT_INIT(BURST, INTERVAL_MS) \
    { (uint64_t) (INTERVAL_MS) * 1000000u, (BURST), 0, 0, 0 }

/* Logs through limiter rl: prints the line unless the limiter's budget for
 * the current interval is spent, in which case it only counts it. */
void oko_log_rl(struct oko_ratelimit *rl, enum oko_log_level level,
                const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* CLOCK_MONOTONIC in nanoseconds (a vDSO call, not a syscall). */
uint64_t oko_now_ns(void);

/* ---------------------------------------------------------------------
 * Adaptive polling
 * ------------------------------------------------------------------- */

enum oko_poll_mode {
    OKO_POLL_ADAPTIVE = 0,      /* spin, then yield, then sleep when idle */
    OKO_POLL_BUSY = 1,          /* spin forever: dedicated cores only */
};

/* Idle iterations spent in each stage before moving to the next one.  A
 * spin iteration costs ~100 ns, a yield ~1 us when the core is shared.
 * Then the poller sleeps OKO_POLL_SLEEP_US, doubling the sleep every
 * OKO_POLL_SLEEPS_PER_STEP sleeps up to OKO_POLL_SLEEP_MAX_US: a pause of
 * a few milliseconds costs a few tens of microseconds of latency, and a
 * pipeline idle for longer costs each process about 500 wake-ups per
 * second (~1% of a core here), at the price of up to 2 ms for the first
 * packet after the pause (absorbed by the RX descriptors and rings).
 * --poll=busy avoids both. */
#define OKO_POLL_SPIN_ITERS     512
#define OKO_POLL_YIELD_ITERS    64
#define OKO_POLL_SLEEP_US       50
#define OKO_POLL_SLEEP_MAX_US   2000
#define OKO_POLL_SLEEPS_PER_STEP 64

struct oko_poller {
    enum oko_poll_mode mode;
    uint32_t idle;              /* consecutive idle iterations */
    uint32_t sleep_us;          /* current sleep */
    uint32_t sleeps_at;         /* sleeps done at this length */
    uint64_t sleeps;            /* statistics */
};

/* Parses "busy" or "adaptive" into *mode.  Returns 0 or -EINVAL. */
int oko_poll_parse(const char *s, enum oko_poll_mode *mode);

/* Initialises poller p in the given mode. */
void oko_poller_init(struct oko_poller *p, enum oko_poll_mode mode);

/* Called once per loop iteration: work is the number of packets (or other
 * units of work) the iteration did.  Returns at once when there was work;
 * otherwise pauses according to the mode and how long the loop has been
 * idle. */
void oko_poller_wait(struct oko_poller *p, unsigned int work);

/* ---------------------------------------------------------------------
 * The chain-position mbuf dynamic field (struct oko_mbuf_chain)
 * ------------------------------------------------------------------- */

/* Offset of the field in this process, set by one of the two calls below. */
extern int oko_dynfield_offset;

/* Registers the field (primary).  Returns 0 or a negative errno. */
int oko_dynfield_register(void);

/* Looks the field up (secondaries).  Returns 0, or -ENOENT if the primary
 * has not registered it. */
int oko_dynfield_lookup(void);

/* The chain position of mbuf m. */
static inline struct oko_mbuf_chain *
oko_mbuf_chain(struct rte_mbuf *m)
{
    return RTE_MBUF_DYNFIELD(m, oko_dynfield_offset, struct oko_mbuf_chain *);
}

/* ---------------------------------------------------------------------
 * Argument vectors (EAL arguments of secondaries, posix_spawn argv)
 * ------------------------------------------------------------------- */

/* A NULL-terminated, growable argv whose strings it owns. */
struct oko_argv {
    char **argv;
    int argc;
    int cap;
};

/* Appends a copy of s.  Returns 0 or -ENOMEM. */
int oko_argv_add(struct oko_argv *a, const char *s);

/* Appends a formatted string.  Returns 0 or -ENOMEM. */
int oko_argv_addf(struct oko_argv *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Returns a shallow copy of a's vector (NULL-terminated), to give to
 * rte_eal_init(), which permutes its argv and overwrites one entry with
 * argv[0]: a->argv stays intact for oko_argv_free().  Free it with free().
 * Returns NULL if out of memory. */
char **oko_argv_vec(const struct oko_argv *a);

/* Frees every string and the vector; leaves a empty and reusable. */
void oko_argv_free(struct oko_argv *a);

/* Appends the EAL arguments of a secondary process of the oko instance
 * whose shared files carry file_prefix (NULL: DPDK's default), on EAL
 * lcore id lcore: --proc-type=secondary, --file-prefix, --lcores=N@(0,1)
 * (floating over the first two CPUs), --no-pci, --no-telemetry, and
 * log_level if not NULL.  Returns 0 or -ENOMEM. */
int oko_argv_add_secondary_eal(struct oko_argv *a, const char *file_prefix,
                               unsigned int lcore, const char *log_level);

/* ---------------------------------------------------------------------
 * Shared objects
 * ------------------------------------------------------------------- */

/* Formats a shared-object name from one of the OKO_SHM_* formats into
 * buf (OKO_SHM_NAMESIZE bytes).  Returns 0, or -ENAMETOOLONG if it does
 * not fit with DPDK's 3-byte ring prefix. */
int oko_shm_name(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Finds the registry (after rte_eal_init).  Returns it, or NULL with a
 * message in err ("... is oko-primary running?"). */
struct oko_shm_registry *oko_shm_registry_attach(char *err, size_t errlen);

/* Returns the registry slot of program id, or NULL. */
struct oko_shm_prog *oko_shm_prog_find(struct oko_shm_registry *reg,
                                       uint32_t id);

/* Names of enum oko_prog_state and enum oko_fail_policy values. */
const char *oko_prog_state_name(uint32_t state);
const char *oko_fail_policy_name(uint32_t policy);

/* Relaxed atomic store and load of a shared 64-bit counter: one writer,
 * any number of readers, no torn values. */
static inline void
oko_shm_store(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline uint64_t
oko_shm_load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

#ifdef __cplusplus
}
#endif

#endif /* OKO_DP_H */
