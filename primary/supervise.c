/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * supervise.c -- `oko-primary --supervise`: spawns the secondaries with
 * posix_spawn (never a bare fork: nng is not fork-safe), restarts any that
 * dies with exponential backoff, stops them all at exit.  The primary keeps
 * forwarding whatever happens to them.
 *
 * Children are put in their own process group, so that a Ctrl-C on the
 * terminal reaches only the primary, which then stops them in order.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "primary.h"

extern char **environ;

/* Restart delays: doubled after each death of a child that ran less than
 * SV_STABLE_NS, from SV_BACKOFF_MIN_NS up to SV_BACKOFF_MAX_NS. */
#define SV_BACKOFF_MIN_NS (100ull * 1000 * 1000)
#define SV_BACKOFF_MAX_NS (10ull * 1000 * 1000 * 1000)
#define SV_STABLE_NS (10ull * 1000 * 1000 * 1000)
#define SV_MAX_CHILDREN (OKO_SHM_MAX_PROGS + OKO_SHM_MAX_CLASSIFIERS)
/* A ready filter whose heartbeat is this old is hung (a filter waiting on
 * a full ring keeps beating): it is killed, then restarted. */
#define SV_HUNG_NS (5ull * 1000 * 1000 * 1000)

struct sv_child {
    char what[32];              /* "filter 1", "classifier 0" */
    struct oko_argv argv;
    pid_t pid;                  /* 0 = not running */
    struct oko_shm_prog *prog;  /* filters: their program */
    unsigned int inst;          /* filters: instance slot */
    struct oko_shm_classifier *cls;     /* classifiers: their slot */
    uint64_t started_ns;
    uint64_t next_start_ns;     /* when to (re)start it */
    uint64_t backoff_ns;
    bool killed_hung;           /* SIGKILL sent for a stale heartbeat */
};

static struct sv_child children[SV_MAX_CHILDREN];
static int n_children;
static unsigned int stop_timeout;

/* Finds the binary NAME: next to argv0 (installed layout), in DIR beside
 * argv0's directory (build tree: primary/../filter-proc/), else NULL. */
static char *
find_sibling(const char *argv0, const char *dir, const char *name)
{
    char self[PATH_MAX], path[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    char *slash;

    if (n <= 0) {
        snprintf(self, sizeof self, "%s", argv0);
    } else {
        self[n] = '\0';
    }
    slash = strrchr(self, '/');
    if (!slash) {
        return NULL;
    }
    *slash = '\0';
    snprintf(path, sizeof path, "%s/%s", self, name);
    if (access(path, X_OK) == 0) {
        return strdup(path);
    }
    snprintf(path, sizeof path, "%s/../%s/%s", self, dir, name);
    if (access(path, X_OK) == 0) {
        return strdup(path);
    }
    return NULL;
}

static const char *
poll_name(enum oko_poll_mode m)
{
    return m == OKO_POLL_BUSY ? "busy" : "adaptive";
}

int
prim_sv_init(const struct prim_opts *o, struct oko_shm_registry *reg,
             const char *argv0)
{
    char *filter_bin = NULL, *cls_bin = NULL;
    int err = 0;

    stop_timeout = o->stop_timeout;
    filter_bin = o->filter_bin
                 ? strdup(o->filter_bin)
                 : find_sibling(argv0, "filter-proc", "oko-filter");
    if (!filter_bin || access(filter_bin, X_OK)) {
        oko_log(OKO_LOG_ERR, "--supervise: oko-filter not found (%s); "
                "use --filter-bin",
                filter_bin ? filter_bin : "next to oko-primary");
        err = -ENOENT;
        goto out;
    }
    if (!o->bypass) {
        cls_bin = o->classifier_bin ? strdup(o->classifier_bin)
                                    : find_sibling(argv0, "classifier-proc",
                                                   "oko-classifier");
        if (cls_bin && access(cls_bin, X_OK)) {
            oko_log(OKO_LOG_WARN, "%s: %s", cls_bin, strerror(errno));
            free(cls_bin);
            cls_bin = NULL;
        }
        if (!cls_bin) {
            oko_log(OKO_LOG_WARN, "oko-classifier not found: not started");
        }
    }

    if (cls_bin) {
        struct sv_child *c = &children[n_children++];

        snprintf(c->what, sizeof c->what, "classifier 0");
        c->cls = &reg->classifiers[0];
        err = err ? err : oko_argv_add(&c->argv, cls_bin);
        err = err ? err : oko_argv_add_secondary_eal(&c->argv, o->file_prefix,
                                                     OKO_LCORE_CLASSIFIER,
                                                     o->log_level);
        err = err ? err : oko_argv_add(&c->argv, "--");
        err = err ? err : oko_argv_addf(&c->argv, "--poll=%s",
                                        poll_name(o->poll));
        for (int i = 0; i < o->n_classifier_args; i++) {
            err = err ? err : oko_argv_add(&c->argv, o->classifier_args[i]);
        }
    }
    for (int i = 0; i < OKO_SHM_MAX_PROGS && !err; i++) {
        struct oko_shm_prog *p = &reg->progs[i];
        struct sv_child *c;

        if (p->state == OKO_PROG_FREE) {
            continue;
        }
        c = &children[n_children++];
        c->prog = p;
        c->inst = p->active;
        snprintf(c->what, sizeof c->what, "filter %u", p->id);
        err = err ? err : oko_argv_add(&c->argv, filter_bin);
        err = err ? err : oko_argv_add_secondary_eal(
            &c->argv, o->file_prefix,
            OKO_LCORE_FILTER_BASE + i * OKO_SHM_MAX_INSTANCES + c->inst,
            o->log_level);
        err = err ? err : oko_argv_add(&c->argv, "--");
        err = err ? err : oko_argv_addf(&c->argv, "--prog=%u", p->id);
        err = err ? err : oko_argv_addf(&c->argv, "--instance=%u", c->inst);
        err = err ? err : oko_argv_addf(&c->argv, "--poll=%s",
                                        poll_name(o->poll));
    }
    if (err) {
        oko_log(OKO_LOG_ERR, "--supervise: out of memory");
    }
out:
    free(filter_bin);
    free(cls_bin);
    return err;
}

static void
child_spawn(struct sv_child *c, uint64_t now)
{
    posix_spawnattr_t attr;
    sigset_t none, dfl;
    pid_t pid;
    int rc;

    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    sigaddset(&dfl, SIGTERM);
    sigaddset(&dfl, SIGINT);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK
                             | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setpgroup(&attr, 0);
    rc = posix_spawn(&pid, c->argv.argv[0], NULL, &attr, c->argv.argv,
                     environ);
    posix_spawnattr_destroy(&attr);
    if (rc) {
        oko_log(OKO_LOG_ERR, "%s: cannot start %s: %s", c->what,
                c->argv.argv[0], strerror(rc));
        c->backoff_ns = c->backoff_ns ? RTE_MIN(2 * c->backoff_ns,
                                                SV_BACKOFF_MAX_NS)
                                      : SV_BACKOFF_MIN_NS;
        c->next_start_ns = now + c->backoff_ns;
        return;
    }
    c->pid = pid;
    c->started_ns = now;
    c->killed_hung = false;
    if (c->prog) {
        __atomic_store_n(&c->prog->state, OKO_PROG_STARTING, __ATOMIC_RELEASE);
    }
    oko_log(OKO_LOG_INFO, "%s: started, pid %d", c->what, (int) pid);
}

static void
describe_status(int status, char *buf, size_t len)
{
    if (WIFEXITED(status)) {
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        snprintf(buf, len, "killed by signal %d (%s)%s", WTERMSIG(status),
                 strsignal(WTERMSIG(status)),
                 WCOREDUMP(status) ? ", core dumped" : "");
    } else {
        snprintf(buf, len, "wait status 0x%x", status);
    }
}

static void
child_died(struct sv_child *c, int status, uint64_t now)
{
    char why[96];
    uint64_t ran = now - c->started_ns;

    describe_status(status, why, sizeof why);
    if (ran >= SV_STABLE_NS || !c->backoff_ns) {
        c->backoff_ns = SV_BACKOFF_MIN_NS;
    } else {
        c->backoff_ns = RTE_MIN(2 * c->backoff_ns, SV_BACKOFF_MAX_NS);
    }
    c->next_start_ns = now + c->backoff_ns;
    oko_log(OKO_LOG_WARN, "%s (pid %d) %s after %.1f s; restarting in %.1f s",
            c->what, (int) c->pid, why, ran / 1e9, c->backoff_ns / 1e9);
    if (c->prog) {
        struct oko_shm_instance *in = &c->prog->inst[c->inst];
        uint64_t held = oko_shm_load(&in->holding);

        c->prog->last_exit = status;
        c->prog->restarts++;
        if (held) {
            /* The burst it had taken: the lifecycle work will recover
             * these mbufs; for now they are counted. */
            oko_shm_store(&c->prog->lost, c->prog->lost + held);
            oko_shm_store(&in->holding, 0);
            oko_log(OKO_LOG_WARN, "%s: %" PRIu64 " packet(s) it held are "
                    "lost", c->what, held);
        }
        __atomic_store_n(&in->ready, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&in->pid, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&c->prog->state, OKO_PROG_DOWN, __ATOMIC_RELEASE);
    } else if (c->cls) {
        __atomic_store_n(&c->cls->ready, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&c->cls->pid, 0, __ATOMIC_RELAXED);
    }
    c->pid = 0;
}

void
prim_sv_tick(struct oko_shm_registry *reg, uint64_t now)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < n_children; i++) {
            if (children[i].pid == pid) {
                child_died(&children[i], status, now);
            }
        }
    }
    for (int i = 0; i < n_children; i++) {
        struct sv_child *c = &children[i];

        if (!c->pid && now >= c->next_start_ns) {
            child_spawn(c, now);
        } else if (c->pid && !c->killed_hung) {
            const struct oko_shm_instance *in =
                c->prog ? &c->prog->inst[c->inst] : NULL;
            const uint32_t *ready = in ? &in->ready : &c->cls->ready;
            const int32_t *pid = in ? &in->pid : &c->cls->pid;
            uint64_t hb = oko_shm_load(in ? &in->heartbeat_ns
                                          : &c->cls->heartbeat_ns);

            if (__atomic_load_n(ready, __ATOMIC_ACQUIRE)
                && __atomic_load_n(pid, __ATOMIC_RELAXED) == c->pid
                && hb < now && now - hb > SV_HUNG_NS) {
                oko_log(OKO_LOG_WARN, "%s (pid %d) hung: no heartbeat for "
                        "%.1f s; SIGKILL", c->what, (int) c->pid,
                        (now - hb) / 1e9);
                kill(c->pid, SIGKILL);
                c->killed_hung = true;
            }
        }
    }
}

bool
prim_sv_has_classifier(void)
{
    for (int i = 0; i < n_children; i++) {
        if (children[i].cls) {
            return true;
        }
    }
    return false;
}

void
prim_sv_update_states(struct oko_shm_registry *reg)
{
    for (int i = 0; i < OKO_SHM_MAX_PROGS; i++) {
        struct oko_shm_prog *p = &reg->progs[i];
        uint32_t state = __atomic_load_n(&p->state, __ATOMIC_ACQUIRE);
        const struct oko_shm_instance *in = &p->inst[p->active];

        if ((state == OKO_PROG_STARTING || state == OKO_PROG_LOADED
             || state == OKO_PROG_DOWN)
            && __atomic_load_n(&in->ready, __ATOMIC_ACQUIRE)) {
            __atomic_store_n(&p->state, OKO_PROG_RUNNING, __ATOMIC_RELEASE);
        } else if (state == OKO_PROG_RUNNING
                   && !__atomic_load_n(&in->ready, __ATOMIC_ACQUIRE)) {
            /* An instance not started by us stopped. */
            __atomic_store_n(&p->state, OKO_PROG_DOWN, __ATOMIC_RELEASE);
        }
    }
}

void
prim_sv_stop(struct oko_shm_registry *reg)
{
    uint64_t deadline;
    int alive = 0, status;

    for (int i = 0; i < n_children; i++) {
        if (children[i].pid) {
            kill(children[i].pid, SIGTERM);
            alive++;
        }
    }
    deadline = oko_now_ns() + (uint64_t) stop_timeout * 1000000000u;
    while (alive) {
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        pid_t pid = waitpid(-1, &status, WNOHANG);

        if (pid > 0) {
            for (int i = 0; i < n_children; i++) {
                if (children[i].pid == pid) {
                    char why[96];

                    describe_status(status, why, sizeof why);
                    oko_log(OKO_LOG_INFO, "%s (pid %d) stopped: %s",
                            children[i].what, (int) pid, why);
                    children[i].pid = 0;
                    alive--;
                }
            }
            continue;
        }
        if (pid < 0 && errno == ECHILD) {
            break;
        }
        if (oko_now_ns() >= deadline) {
            for (int i = 0; i < n_children; i++) {
                if (children[i].pid) {
                    oko_log(OKO_LOG_WARN, "%s (pid %d) ignored SIGTERM for "
                            "%u s: SIGKILL", children[i].what,
                            (int) children[i].pid, stop_timeout);
                    kill(children[i].pid, SIGKILL);
                }
            }
            deadline = UINT64_MAX;
        }
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < n_children; i++) {
        if (children[i].prog) {
            children[i].prog->inst[children[i].inst].pid = 0;
        } else if (children[i].cls) {
            children[i].cls->pid = 0;
        }
        oko_argv_free(&children[i].argv);
    }
    n_children = 0;
}
