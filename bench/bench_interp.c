/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * bench_interp.c -- how fast the interpreter runs filter programs.
 *
 *     bench_interp [DIR] [-n PACKETS]
 *
 * Runs a built-in header-parsing filter (about 50 instructions: Ethernet,
 * IPv4, TCP, as a switch's filters do) and, if DIR is given, every *.o
 * program in it (the examples), on a small set of packets, PACKETS times
 * (default 2,000,000) per measurement, 5 measurements.  Prints, per
 * program and interpreter variant (fast = verified programs, checked =
 * BPF_VM_BOUNDS_CHECK): instructions executed per packet (counted by a
 * checked run), the median ns per run and ns per instruction, in CPU time
 * of the benchmarking thread.
 *
 * A benchmark, not a test: it never fails on timings.
 */
#include "oko_bpf.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Defined in bpf/interp.c: instructions executed by the last run of a
 * checked VM.  To move to oko_bpf.h. */

#define RUNS 5
#define DEFAULT_PACKETS 2000000u

#define INSN(CODE, DST, SRC, OFF, IMM)                                  \
    { .code = (CODE), .dst = (DST), .src = (SRC), .off = (OFF),         \
      .imm = (IMM) }
#define MOV_K(D, I) INSN(BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_K, D, 0, 0, I)
#define MOV_X(D, S) INSN(BPF_CLS_ALU64 | BPF_ALU_MOV | BPF_SRC_X, D, S, 0, 0)
#define ALU_K(OP, D, I) INSN(BPF_CLS_ALU64 | (OP) | BPF_SRC_K, D, 0, 0, I)
#define ALU_X(OP, D, S) INSN(BPF_CLS_ALU64 | (OP) | BPF_SRC_X, D, S, 0, 0)
#define BE(D, BITS) INSN(BPF_CLS_ALU | BPF_ALU_END | BPF_SRC_X, D, 0, 0, BITS)
#define LDX(SZ, D, S, OFF)                                              \
    INSN(BPF_CLS_LDX | BPF_MODE_MEM | (SZ), D, S, OFF, 0)
#define JMP_K(OP, D, I, OFF) INSN(BPF_CLS_JMP | (OP) | BPF_SRC_K, D, 0, OFF, I)
#define JMP_X(OP, D, S, OFF) INSN(BPF_CLS_JMP | (OP) | BPF_SRC_X, D, S, OFF, 0)
#define EXIT() INSN(BPF_CLS_JMP | BPF_JMP_EXIT, 0, 0, 0, 0)

/* Matches IPv4 TCP packets from 10.0.0.0/8 to port 80, 443 or 8080, TTL
 * above 1, not fragments, without RST, with a sane data offset.  DROP(n) is
 * the offset from instruction n to the final "r0 = 0". */
#define DROP_AT 48
#define DROP(n) (DROP_AT - (n) - 1)
static const struct bpf_inst builtin_filter[] = {
    /* 0 */ MOV_K(0, 0),
    /* 1 */ MOV_X(3, 1),
    /* 2 */ ALU_K(BPF_ALU_ADD, 3, 14),                  /* r3 = IPv4 header */
    /* 3 */ MOV_X(4, 1),
    /* 4 */ ALU_X(BPF_ALU_ADD, 4, 2),                   /* r4 = end */
    /* 5 */ MOV_X(5, 3),
    /* 6 */ ALU_K(BPF_ALU_ADD, 5, 20),
    /* 7 */ JMP_X(BPF_JMP_JGT, 5, 4, DROP(7)),
    /* 8 */ LDX(BPF_SIZE_H, 6, 1, 12),                  /* ethertype */
    /* 9 */ JMP_K(BPF_JMP_JNE, 6, 0x0008, DROP(9)),
    /* 10 */ LDX(BPF_SIZE_B, 6, 3, 0),                  /* version, IHL */
    /* 11 */ MOV_X(7, 6),
    /* 12 */ ALU_K(BPF_ALU_RSH, 7, 4),
    /* 13 */ JMP_K(BPF_JMP_JNE, 7, 4, DROP(13)),
    /* 14 */ ALU_K(BPF_ALU_AND, 6, 0xf),
    /* 15 */ ALU_K(BPF_ALU_LSH, 6, 2),
    /* 16 */ JMP_K(BPF_JMP_JLT, 6, 20, DROP(16)),
    /* 17 */ LDX(BPF_SIZE_B, 7, 3, 8),                  /* TTL */
    /* 18 */ JMP_K(BPF_JMP_JLE, 7, 1, DROP(18)),
    /* 19 */ LDX(BPF_SIZE_B, 7, 3, 9),                  /* protocol */
    /* 20 */ JMP_K(BPF_JMP_JNE, 7, 6, DROP(20)),
    /* 21 */ LDX(BPF_SIZE_H, 7, 3, 6),                  /* fragment */
    /* 22 */ BE(7, 16),
    /* 23 */ ALU_K(BPF_ALU_AND, 7, 0x3fff),
    /* 24 */ JMP_K(BPF_JMP_JNE, 7, 0, DROP(24)),
    /* 25 */ LDX(BPF_SIZE_W, 8, 3, 12),                 /* source */
    /* 26 */ BE(8, 32),
    /* 27 */ ALU_K(BPF_ALU_RSH, 8, 24),
    /* 28 */ JMP_K(BPF_JMP_JNE, 8, 10, DROP(28)),
    /* 29 */ ALU_X(BPF_ALU_ADD, 3, 6),                  /* r3 = TCP header */
    /* 30 */ MOV_X(5, 3),
    /* 31 */ ALU_K(BPF_ALU_ADD, 5, 20),
    /* 32 */ JMP_X(BPF_JMP_JGT, 5, 4, DROP(32)),
    /* 33 */ LDX(BPF_SIZE_H, 7, 3, 2),                  /* destination port */
    /* 34 */ BE(7, 16),
    /* 35 */ JMP_K(BPF_JMP_JEQ, 7, 80, 2),
    /* 36 */ JMP_K(BPF_JMP_JEQ, 7, 443, 1),
    /* 37 */ JMP_K(BPF_JMP_JNE, 7, 8080, DROP(37)),
    /* 38 */ LDX(BPF_SIZE_B, 8, 3, 13),                 /* flags */
    /* 39 */ JMP_K(BPF_JMP_JSET, 8, 0x04, DROP(39)),    /* RST */
    /* 40 */ LDX(BPF_SIZE_B, 9, 3, 12),                 /* data offset */
    /* 41 */ ALU_K(BPF_ALU_RSH, 9, 4),
    /* 42 */ JMP_K(BPF_JMP_JLT, 9, 5, DROP(42)),
    /* 43 */ ALU_K(BPF_ALU_LSH, 9, 2),
    /* 44 */ ALU_X(BPF_ALU_ADD, 9, 3),                  /* end of TCP header */
    /* 45 */ JMP_X(BPF_JMP_JGT, 9, 4, DROP(45)),
    /* 46 */ MOV_K(0, 1),
    /* 47 */ EXIT(),
    /* 48 */ MOV_K(0, 0),
    /* 49 */ EXIT(),
};

/* A TCP SYN 10.0.0.1:54321 -> 192.168.0.1:443 (matches the built-in
 * filter), the same to port 22 and an ARP frame (do not). */
static const uint8_t pkt_syn[] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
    0x08, 0x00,
    0x45, 0x00, 0x00, 0x28, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0xb1, 0xe6,
    0x0a, 0x00, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0x01,
    0xd4, 0x31, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x50, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
};

struct packet {
    uint8_t data[128];
    size_t len;
};

static struct packet packets[3];
#define NPACKETS (sizeof packets / sizeof packets[0])

static void
make_packets(void)
{
    memcpy(packets[0].data, pkt_syn, sizeof pkt_syn);
    packets[0].len = sizeof pkt_syn;
    packets[1] = packets[0];
    packets[1].data[36] = 0x00;         /* port 22 */
    packets[1].data[37] = 0x16;
    packets[2] = packets[0];
    packets[2].data[13] = 0x06;         /* ARP */
    packets[2].len = 42;
}

/* CPU time of this thread: the machines this runs on are often shared
 * (builds, other benchmarks, a hypervisor's steal time), and wall-clock
 * time would charge their time to the interpreter. */
static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}

/* Median ns per run of vm over n runs, cycling through the packets. */
static double
measure(struct bpf_vm *vm, unsigned n)
{
    double t[RUNS];
    volatile uint64_t sink = 0;
    int r;

    for (r = 0; r < RUNS; r++) {
        uint64_t start, acc = 0;
        unsigned i;

        start = now_ns();
        for (i = 0; i < n; i++) {
            const struct packet *p = &packets[i % NPACKETS];

            acc += bpf_vm_run(vm, (void *) p->data, p->len);
        }
        t[r] = (double) (now_ns() - start) / n;
        sink += acc;
    }
    (void) sink;
    qsort(t, RUNS, sizeof t[0], cmp_double);
    return t[RUNS / 2];
}

/* oko_printf lines of the examples are not what is measured. */
static void
discard_log(void *ctx, const char *line)
{
    (void) ctx;
    (void) line;
}

/* Benchmarks prog with maps in both variants and prints two rows. */
static int
bench_prog(const char *name, const struct bpf_prog *prog,
           struct bpf_map *const *maps, unsigned n)
{
    static const unsigned flags[2] = { 0, BPF_VM_BOUNDS_CHECK };
    double insns = 0;
    char err[256];
    size_t i;
    int f;

    /* Instructions per packet, averaged over the packet set. */
    {
        struct bpf_vm *vm = bpf_vm_create(prog, maps, BPF_VM_BOUNDS_CHECK,
                                          err, sizeof err);

        if (!vm) {
            fprintf(stderr, "%s: %s\n", name, err);
            return -1;
        }
        for (i = 0; i < NPACKETS; i++) {
            uint64_t r0;

            if (bpf_vm_exec(vm, packets[i].data, packets[i].len, &r0, err,
                            sizeof err)) {
                fprintf(stderr, "%s: packet %zu: %s\n", name, i, err);
                bpf_vm_destroy(vm);
                return -1;
            }
            insns += (double) bpf_vm_insn_count(vm);
        }
        insns /= NPACKETS;
        bpf_vm_destroy(vm);
    }
    for (f = 0; f < 2; f++) {
        struct bpf_vm *vm = bpf_vm_create(prog, maps, flags[f], err,
                                          sizeof err);
        double ns;

        if (!vm) {
            fprintf(stderr, "%s: %s\n", name, err);
            return -1;
        }
        bpf_vm_set_log(vm, discard_log, NULL);
        ns = measure(vm, n);
        printf("%-34s %-8s %10.1f %10.2f %10.3f %10.2f\n", name,
               f ? "checked" : "fast", insns, ns, ns / insns, 1000.0 / ns);
        bpf_vm_destroy(vm);
    }
    return 0;
}

/* Loads, verifies and benchmarks one ELF object. */
static void
bench_file(const char *path, unsigned n)
{
    struct bpf_map *maps[BPF_MAX_MAPS] = { NULL };
    struct bpf_prog *prog;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char err[256];
    size_t i, nmaps;

    prog = bpf_prog_load_file(path, NULL, err, sizeof err);
    if (!prog) {
        fprintf(stderr, "%s: %s\n", base, err);
        return;
    }
    /* The fast variant trusts the verifier: only verified programs. */
    if (bpf_verify(prog, NULL, NULL, err, sizeof err) < 0) {
        fprintf(stderr, "%s: verifier: %s\n", base, err);
        bpf_prog_free(prog);
        return;
    }
    nmaps = bpf_prog_nmaps(prog);
    for (i = 0; i < nmaps; i++) {
        const struct bpf_map_desc *d = bpf_prog_map(prog, i);

        maps[i] = bpf_map_create(&d->def, d->name, NULL);
        if (!maps[i]) {
            fprintf(stderr, "%s: map %s: %s\n", base, d->name,
                    strerror(errno));
            goto out;
        }
    }
    bench_prog(base, prog, maps, n);
out:
    for (i = 0; i < nmaps; i++) {
        if (maps[i]) {
            bpf_map_destroy(maps[i], NULL);
        }
    }
    bpf_prog_free(prog);
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

int
main(int argc, char **argv)
{
    const char *dir = NULL;
    unsigned n = DEFAULT_PACKETS;
    struct bpf_prog *prog;
    char err[256];
    int i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) {
            n = (unsigned) strtoul(argv[++i], NULL, 0);
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            fprintf(stderr, "usage: %s [DIR] [-n PACKETS]\n", argv[0]);
            return 2;
        }
    }
    if (n == 0) {
        n = DEFAULT_PACKETS;
    }
    make_packets();
    printf("%u packets per measurement, median of %d; %zu packets cycled\n",
           n, RUNS, NPACKETS);
    printf("%-34s %-8s %10s %10s %10s %10s\n", "program", "variant",
           "insns/pkt", "ns/run", "ns/insn", "Mpps");

    prog = bpf_prog_load_raw(builtin_filter,
                             sizeof builtin_filter / sizeof builtin_filter[0],
                             err, sizeof err);
    if (!prog) {
        fprintf(stderr, "built-in filter: %s\n", err);
        return 1;
    }
    if (bench_prog("built-in tcp filter", prog, NULL, n) < 0) {
        bpf_prog_free(prog);
        return 1;
    }
    bpf_prog_free(prog);

    if (dir) {
        char **names = NULL;
        size_t nnames = 0, k;
        struct dirent *de;
        DIR *d = opendir(dir);

        if (!d) {
            fprintf(stderr, "%s: %s (only the built-in filter was run)\n",
                    dir, strerror(errno));
            return 0;
        }
        while ((de = readdir(d))) {
            size_t len = strlen(de->d_name);
            char **nn;

            if (len < 3 || strcmp(de->d_name + len - 2, ".o")) {
                continue;
            }
            nn = realloc(names, (nnames + 1) * sizeof *names);
            if (!nn) {
                break;
            }
            names = nn;
            names[nnames] = malloc(strlen(dir) + len + 2);
            if (!names[nnames]) {
                break;
            }
            sprintf(names[nnames], "%s/%s", dir, de->d_name);
            nnames++;
        }
        closedir(d);
        if (nnames) {
            qsort(names, nnames, sizeof *names, cmp_names);
        }
        for (k = 0; k < nnames; k++) {
            bench_file(names[k], n);
            free(names[k]);
        }
        free(names);
    }
    return 0;
}
