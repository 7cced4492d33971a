/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * main.c -- oko-primary: the DPDK primary process of the oko switch.
 *
 * It initialises the EAL from its own flags (and an optional key=value
 * configuration file), creates the mbuf pool, the registry, the port rings
 * and, for each --prog, the program's ELF image, maps and rings in hugepage
 * memory; then it does port I/O until SIGTERM/SIGINT, supervising the
 * secondaries when asked (--supervise).  `oko-primary --show` attaches to a
 * running primary instead and prints its registry.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf, vasprintf */
#endif
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>

#include "primary.h"

volatile sig_atomic_t prim_quit;

static void
on_signal(int sig)
{
    prim_quit = sig;
}

static void
usage(FILE *f)
{
    fputs(
"usage: oko-primary [OPTIONS]\n"
"EAL:\n"
"  --file-prefix=P        shared-file prefix of this switch (default oko)\n"
"  -m MB, --mem=MB        hugepage memory to reserve (default 256)\n"
"  --socket-mem=LIST      per-socket memory instead of -m\n"
"  --vdev=DEV             add a virtual device (net_pcap0,rx_pcap=in.pcap,...)\n"
"  --pci                  probe PCI devices (default: --no-pci)\n"
"  --share-ports          let secondaries probe the virtual devices (for\n"
"                         direct port I/O; breaks net_pcap output files)\n"
"  --eal=ARG              pass ARG to rte_eal_init as is (repeatable)\n"
"  --log-level=L          DPDK log level\n"
"Switch:\n"
"  --prog=ID:FILE.o[:fail-open|fail-closed]   load a filter program\n"
"  --supervise            spawn and restart oko-filter (and oko-classifier)\n"
"  --filter-bin=PATH      oko-filter binary (default: next to oko-primary)\n"
"  --classifier-bin=PATH  oko-classifier binary (skipped if absent)\n"
"  --classifier-arg=ARG   pass ARG to oko-classifier (repeatable)\n"
"  --bypass-classifier    test/bring-up mode: port 0 -> program 1 -> port 1\n"
"  --bypass-chain=ID,...  same, through a chain of filters (default 1)\n"
"  --poll=adaptive|busy   polling mode (default adaptive)\n"
"  --ring-size=N          ring entries, power of 2 (default 1024)\n"
"  --burst=N              burst size (default 32)\n"
"  --mbufs=N              mbufs in the pool (default 16383)\n"
"  --pid-file=PATH        write the pid to PATH\n"
"  --stats-interval=SEC   print port counters every SEC seconds\n"
"  --stop-timeout=SEC     SIGKILL children this long after SIGTERM (default 5)\n"
"  --config=FILE          read options from FILE (key=value lines)\n"
"  --show                 print the registry of a running oko-primary\n"
"  -h, --help\n", f);
}

enum {
    OPT_FILE_PREFIX = 256, OPT_SOCKET_MEM, OPT_VDEV, OPT_PCI,
    OPT_SHARE_PORTS, OPT_EAL, OPT_LOG_LEVEL, OPT_PROG, OPT_SUPERVISE, OPT_FILTER_BIN,
    OPT_CLASSIFIER_BIN, OPT_CLASSIFIER_ARG, OPT_BYPASS, OPT_BYPASS_CHAIN,
    OPT_POLL,
    OPT_RING_SIZE, OPT_BURST, OPT_MBUFS, OPT_PID_FILE, OPT_STATS_INTERVAL,
    OPT_STOP_TIMEOUT, OPT_CONFIG, OPT_SHOW,
};

static const struct option long_opts[] = {
    { "file-prefix", required_argument, NULL, OPT_FILE_PREFIX },
    { "mem", required_argument, NULL, 'm' },
    { "socket-mem", required_argument, NULL, OPT_SOCKET_MEM },
    { "vdev", required_argument, NULL, OPT_VDEV },
    { "pci", no_argument, NULL, OPT_PCI },
    { "share-ports", no_argument, NULL, OPT_SHARE_PORTS },
    { "eal", required_argument, NULL, OPT_EAL },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "prog", required_argument, NULL, OPT_PROG },
    { "supervise", no_argument, NULL, OPT_SUPERVISE },
    { "filter-bin", required_argument, NULL, OPT_FILTER_BIN },
    { "classifier-bin", required_argument, NULL, OPT_CLASSIFIER_BIN },
    { "classifier-arg", required_argument, NULL, OPT_CLASSIFIER_ARG },
    { "bypass-classifier", no_argument, NULL, OPT_BYPASS },
    { "bypass-chain", required_argument, NULL, OPT_BYPASS_CHAIN },
    { "poll", required_argument, NULL, OPT_POLL },
    { "ring-size", required_argument, NULL, OPT_RING_SIZE },
    { "burst", required_argument, NULL, OPT_BURST },
    { "mbufs", required_argument, NULL, OPT_MBUFS },
    { "pid-file", required_argument, NULL, OPT_PID_FILE },
    { "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
    { "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
    { "config", required_argument, NULL, OPT_CONFIG },
    { "show", no_argument, NULL, OPT_SHOW },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static int
parse_uint(const char *s, const char *what, unsigned long min,
           unsigned long max, unsigned int *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        oko_log(OKO_LOG_ERR, "%s: '%s' is not an integer in [%lu, %lu]",
                what, s, min, max);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

/* Parses ID:FILE[:fail-open|fail-closed].  The string is kept (options
 * point into argv or into the configuration file's lines, which live until
 * exit). */
static int
parse_prog(char *s, struct prim_prog_req *req)
{
    char *colon = strchr(s, ':');
    char *policy;
    unsigned int id;

    if (!colon) {
        goto bad;
    }
    *colon = '\0';
    if (parse_uint(s, "--prog id", 1, OKO_SHM_MAX_ID, &id)) {
        return -EINVAL;
    }
    req->id = id;
    req->path = colon + 1;
    req->fail_policy = OKO_FAIL_OPEN;
    policy = strrchr(req->path, ':');
    if (policy) {
        if (!strcmp(policy + 1, "fail-open")) {
            req->fail_policy = OKO_FAIL_OPEN;
        } else if (!strcmp(policy + 1, "fail-closed")) {
            req->fail_policy = OKO_FAIL_CLOSED;
        } else {
            goto bad;
        }
        *policy = '\0';
    }
    if (!*req->path) {
        goto bad;
    }
    return 0;

bad:
    oko_log(OKO_LOG_ERR, "--prog expects ID:FILE.o[:fail-open|fail-closed]");
    return -EINVAL;
}

/* Parses --bypass-chain=ID[,ID...]. */
static int
parse_chain(const char *s, struct prim_opts *o)
{
    char buf[256], *save = NULL, *tok;

    snprintf(buf, sizeof buf, "%s", s);
    o->n_bypass_chain = 0;
    for (tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        unsigned int id;

        if (o->n_bypass_chain == OKO_SHM_MAX_CHAIN) {
            oko_log(OKO_LOG_ERR, "--bypass-chain: at most %d filters",
                    OKO_SHM_MAX_CHAIN);
            return -E2BIG;
        }
        if (parse_uint(tok, "--bypass-chain", 1, OKO_SHM_MAX_ID, &id)) {
            return -EINVAL;
        }
        for (unsigned int i = 0; i < o->n_bypass_chain; i++) {
            if (o->bypass_chain[i] == id) {
                oko_log(OKO_LOG_ERR, "--bypass-chain: program %u twice", id);
                return -EINVAL;
            }
        }
        o->bypass_chain[o->n_bypass_chain++] = id;
    }
    return o->n_bypass_chain ? 0 : -EINVAL;
}

static int parse_args(int argc, char **argv, struct prim_opts *o);

/* Reads FILE: one option per line, "key = value" or "key" for flags, the
 * keys being the long option names; '#' starts a comment.  Lines are
 * turned into "--key=value" arguments and parsed like the command line. */
static int
read_config(const char *path, struct prim_opts *o)
{
    char *args[256];
    int n = 1, err = 0;
    size_t cap = 0;
    char *line = NULL;
    FILE *f = fopen(path, "r");
    unsigned int lineno = 0;

    if (!f) {
        oko_log(OKO_LOG_ERR, "%s: %s", path, strerror(errno));
        return -errno;
    }
    args[0] = (char *) "oko-primary";
    while (getline(&line, &cap, f) > 0) {
        char *p = line, *eq, *end, *arg;

        lineno++;
        if ((end = strchr(p, '#'))) {
            *end = '\0';
        }
        p += strspn(p, " \t\r\n");
        end = p + strlen(p);
        while (end > p && strchr(" \t\r\n", end[-1])) {
            *--end = '\0';
        }
        if (!*p) {
            continue;
        }
        if (n >= (int) RTE_DIM(args) - 1) {
            oko_log(OKO_LOG_ERR, "%s:%u: too many options", path, lineno);
            err = -E2BIG;
            break;
        }
        eq = strchr(p, '=');
        if (eq) {
            char *k_end = eq;

            while (k_end > p && strchr(" \t", k_end[-1])) {
                k_end--;
            }
            *k_end = '\0';
            eq++;
            eq += strspn(eq, " \t");
            if (asprintf(&arg, "--%s=%s", p, eq) < 0) {
                err = -ENOMEM;
                break;
            }
        } else if (asprintf(&arg, "--%s", p) < 0) {
            err = -ENOMEM;
            break;
        }
        /* Kept until exit: options point into these strings. */
        args[n++] = arg;
    }
    free(line);
    fclose(f);
    if (!err) {
        int saved_optind = optind;

        args[n] = NULL;
        optind = 1;
        err = parse_args(n, args, o);
        optind = saved_optind;
    }
    return err;
}

static int
parse_args(int argc, char **argv, struct prim_opts *o)
{
    int c;

    while ((c = getopt_long(argc, argv, "m:h", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_FILE_PREFIX: o->file_prefix = optarg; break;
        case 'm': o->mem = optarg; break;
        case OPT_SOCKET_MEM: o->socket_mem = optarg; break;
        case OPT_LOG_LEVEL: o->log_level = optarg; break;
        case OPT_PCI: o->pci = true; break;
        case OPT_SHARE_PORTS: o->share_ports = true; break;
        case OPT_SUPERVISE: o->supervise = true; break;
        case OPT_BYPASS: o->bypass = true; break;
        case OPT_BYPASS_CHAIN:
            if (parse_chain(optarg, o)) {
                return -EINVAL;
            }
            o->bypass = true;
            break;
        case OPT_SHOW: o->show = true; break;
        case OPT_FILTER_BIN: o->filter_bin = optarg; break;
        case OPT_CLASSIFIER_BIN: o->classifier_bin = optarg; break;
        case OPT_PID_FILE: o->pid_file = optarg; break;
        case OPT_VDEV:
            if (o->n_vdevs == PRIM_MAX_VDEVS) {
                oko_log(OKO_LOG_ERR, "too many --vdev");
                return -E2BIG;
            }
            o->vdevs[o->n_vdevs++] = optarg;
            break;
        case OPT_EAL:
            if (o->n_eal_extra == PRIM_MAX_EXTRA) {
                oko_log(OKO_LOG_ERR, "too many --eal");
                return -E2BIG;
            }
            o->eal_extra[o->n_eal_extra++] = optarg;
            break;
        case OPT_CLASSIFIER_ARG:
            if (o->n_classifier_args == PRIM_MAX_EXTRA) {
                oko_log(OKO_LOG_ERR, "too many --classifier-arg");
                return -E2BIG;
            }
            o->classifier_args[o->n_classifier_args++] = optarg;
            break;
        case OPT_PROG:
            if (o->n_progs == OKO_SHM_MAX_PROGS) {
                oko_log(OKO_LOG_ERR, "too many --prog (at most %d)",
                        OKO_SHM_MAX_PROGS);
                return -E2BIG;
            }
            if (parse_prog(optarg, &o->progs[o->n_progs])) {
                return -EINVAL;
            }
            o->n_progs++;
            break;
        case OPT_POLL:
            if (oko_poll_parse(optarg, &o->poll)) {
                oko_log(OKO_LOG_ERR, "--poll expects adaptive or busy");
                return -EINVAL;
            }
            break;
        case OPT_RING_SIZE:
            if (parse_uint(optarg, "--ring-size", 64, 1u << 20, &o->ring_size)
                || !rte_is_power_of_2(o->ring_size)) {
                oko_log(OKO_LOG_ERR, "--ring-size must be a power of 2");
                return -EINVAL;
            }
            break;
        case OPT_BURST:
            if (parse_uint(optarg, "--burst", 1, 512, &o->burst)) {
                return -EINVAL;
            }
            break;
        case OPT_MBUFS:
            if (parse_uint(optarg, "--mbufs", 1024, 1u << 24, &o->nb_mbufs)) {
                return -EINVAL;
            }
            break;
        case OPT_STATS_INTERVAL:
            if (parse_uint(optarg, "--stats-interval", 0, 86400,
                           &o->stats_interval)) {
                return -EINVAL;
            }
            break;
        case OPT_STOP_TIMEOUT:
            if (parse_uint(optarg, "--stop-timeout", 0, 3600,
                           &o->stop_timeout)) {
                return -EINVAL;
            }
            break;
        case OPT_CONFIG:
            if (read_config(optarg, o)) {
                return -EINVAL;
            }
            break;
        case 'h':
            usage(stdout);
            exit(EXIT_SUCCESS);
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        oko_log(OKO_LOG_ERR, "unexpected argument '%s'", argv[optind]);
        return -EINVAL;
    }
    return 0;
}

/* Builds the primary's EAL arguments from the options. */
static int
build_eal_args(const struct prim_opts *o, const char *argv0,
               struct oko_argv *a)
{
    int err = oko_argv_add(a, argv0);

    err = err ? err : oko_argv_addf(a, "--file-prefix=%s", o->file_prefix);
    err = err ? err : oko_argv_addf(a, "--lcores=%u@(0,1)", OKO_LCORE_PRIMARY);
    if (o->socket_mem) {
        err = err ? err : oko_argv_addf(a, "--socket-mem=%s", o->socket_mem);
    } else {
        err = err ? err : oko_argv_addf(a, "-m%s", o->mem);
    }
    if (!o->pci) {
        err = err ? err : oko_argv_add(a, "--no-pci");
    }
    err = err ? err : oko_argv_add(a, "--no-telemetry");
    if (o->log_level) {
        err = err ? err : oko_argv_addf(a, "--log-level=%s", o->log_level);
    }
    for (int i = 0; i < o->n_vdevs; i++) {
        err = err ? err : oko_argv_addf(a, "--vdev=%s", o->vdevs[i]);
    }
    for (int i = 0; i < o->n_eal_extra; i++) {
        err = err ? err : oko_argv_add(a, o->eal_extra[i]);
    }
    return err;
}

/* Reserves and initialises the registry memzone. */
static struct oko_shm_registry *
registry_create(const struct prim_opts *o)
{
    const struct rte_memzone *mz;
    struct oko_shm_registry *reg;

    mz = rte_memzone_reserve_aligned(OKO_SHM_REGISTRY_MZ, sizeof *reg,
                                     SOCKET_ID_ANY, 0, RTE_CACHE_LINE_SIZE);
    if (!mz) {
        oko_log(OKO_LOG_ERR, "cannot reserve memzone %s: %s (is another "
                "oko-primary running with --file-prefix=%s?)",
                OKO_SHM_REGISTRY_MZ, rte_strerror(rte_errno), o->file_prefix);
        return NULL;
    }
    reg = mz->addr;
    memset(reg, 0, sizeof *reg);
    reg->abi_version = OKO_SHM_ABI_VERSION;
    reg->primary_pid = getpid();
    reg->started_ns = oko_now_ns();
    reg->ring_size = o->ring_size;
    reg->burst = o->burst;
    reg->bypass = o->bypass;
    reg->n_classifiers = OKO_SHM_MAX_CLASSIFIERS;
    reg->dynfield_offset = oko_dynfield_offset;
    /* Published last: a secondary that sees the magic sees the rest. */
    __atomic_store_n(&reg->magic, OKO_SHM_MAGIC, __ATOMIC_RELEASE);
    return reg;
}

static int
write_pid_file(const char *path)
{
    FILE *f = fopen(path, "w");

    if (!f) {
        oko_log(OKO_LOG_ERR, "%s: %s", path, strerror(errno));
        return -errno;
    }
    fprintf(f, "%d\n", (int) getpid());
    if (fclose(f)) {
        oko_log(OKO_LOG_ERR, "%s: %s", path, strerror(errno));
        return -EIO;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct prim_opts o = {
        .file_prefix = "oko",
        .mem = "256",
        .poll = OKO_POLL_ADAPTIVE,
        .stop_timeout = 5,
        .ring_size = 1024,
        .burst = 32,
        .nb_mbufs = 16383,
    };
    struct prim_rings rings;
    struct oko_argv eal = { 0 };
    char **eal_vec = NULL;
    struct oko_shm_registry *reg = NULL;
    struct rte_mempool *pool;
    struct sigaction sa;
    bool eal_up = false, pid_written = false, ports_up = false;
    char err[512];
    int status = EXIT_FAILURE;

    oko_log_init(argv[0], OKO_LOG_INFO);
    if (parse_args(argc, argv, &o)) {
        return EXIT_FAILURE;
    }
    if (o.show) {
        return prim_show(&o, argv[0]);
    }
    if (o.bypass && o.n_bypass_chain == 0) {
        o.bypass_chain[o.n_bypass_chain++] = 1;
    }
    if (o.bypass && o.n_progs == 0) {
        oko_log(OKO_LOG_ERR,
                "--bypass-classifier needs a program (--prog=1:FILE.o)");
        return EXIT_FAILURE;
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    if (build_eal_args(&o, argv[0], &eal)) {
        oko_log(OKO_LOG_ERR, "out of memory");
        goto out;
    }
    eal_vec = oko_argv_vec(&eal);
    if (!eal_vec) {
        oko_log(OKO_LOG_ERR, "out of memory");
        goto out;
    }
    if (rte_eal_init(eal.argc, eal_vec) < 0) {
        oko_log(OKO_LOG_ERR, "rte_eal_init: %s", rte_strerror(rte_errno));
        goto out;
    }
    eal_up = true;
    if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
        oko_log(OKO_LOG_ERR, "not the primary process of --file-prefix=%s",
                o.file_prefix);
        goto out;
    }
    if (oko_dynfield_register()) {
        oko_log(OKO_LOG_ERR, "cannot register the mbuf dynamic field");
        goto out;
    }
    pool = rte_pktmbuf_pool_create(OKO_SHM_MBUF_POOL, o.nb_mbufs, 256, 0,
                                   RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
    if (!pool) {
        oko_log(OKO_LOG_ERR, "cannot create the mbuf pool (%u mbufs): %s",
                o.nb_mbufs, rte_strerror(rte_errno));
        goto out;
    }
    reg = registry_create(&o);
    if (!reg) {
        goto out;
    }
    if (prim_ports_init(&o, pool, reg, &rings, err, sizeof err)) {
        oko_log(OKO_LOG_ERR, "%s", err);
        goto out;
    }
    ports_up = true;
    if (o.bypass && reg->n_ports < 2) {
        oko_log(OKO_LOG_ERR, "--bypass-classifier needs two ports (have %u)",
                reg->n_ports);
        goto out;
    }
    for (int i = 0; i < o.n_progs; i++) {
        if (prim_prog_load(&o, reg, &o.progs[i], err, sizeof err)) {
            oko_log(OKO_LOG_ERR, "%s", err);
            goto out;
        }
    }
    if (o.pid_file) {
        if (write_pid_file(o.pid_file)) {
            goto out;
        }
        pid_written = true;
    }
    if (o.supervise && prim_sv_init(&o, reg, argv[0])) {
        goto out;
    }
    oko_log(OKO_LOG_INFO, "ready: %u port(s), %d program(s)%s%s",
            reg->n_ports, o.n_progs, o.supervise ? ", supervising" : "",
            o.bypass ? ", classifier bypassed" : "");

    status = prim_io_loop(&o, reg, &rings) ? EXIT_FAILURE : EXIT_SUCCESS;
    oko_log(OKO_LOG_INFO, "stopping (signal %d)", (int) prim_quit);

out:
    if (o.supervise && reg) {
        prim_sv_stop(reg);
    }
    if (ports_up) {
        prim_ports_fini(reg);
    }
    if (pid_written) {
        unlink(o.pid_file);
    }
    if (eal_up) {
        rte_eal_cleanup();
    }
    free(eal_vec);
    oko_argv_free(&eal);
    return status;
}
