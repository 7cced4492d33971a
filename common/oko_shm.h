/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * oko_shm.h -- names and layouts of every object oko's processes share.
 *
 * oko-primary creates every ring, memzone and mempool named here; the
 * secondaries (oko-classifier, oko-filter, oko-ofctl, `oko-primary --show`)
 * look them up by name.  A secondary that cannot find one says "is
 * oko-primary running?".
 *
 * Rules for the structures below, which live in hugepage memory mapped by
 * every process:
 *  - fixed size, no pointers (DPDK maps hugepages at the same address in
 *    secondaries, but nothing here relies on it), no function pointers;
 *  - every field has exactly one writer process, named in its comment; the
 *    others only read it, with relaxed atomic loads for counters;
 *  - counters are flushed by their writer every few iterations of its loop,
 *    never per packet.
 *
 * The format strings keep every name under RTE_MEMZONE_NAMESIZE (32) bytes
 * including DPDK's "RG_" / "MP_" prefixes for ids up to OKO_SHM_MAX_ID.
 */
#ifndef OKO_SHM_H
#define OKO_SHM_H 1

#include <stdint.h>

#include "oko_bpf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------
 * Names (snprintf formats).  Program ids are decimal, 1..OKO_SHM_MAX_ID.
 * ------------------------------------------------------------------- */

/* The registry memzone (struct oko_shm_registry). */
#define OKO_SHM_REGISTRY_MZ     "oko_registry"
/* The one packet mempool, for every port. */
#define OKO_SHM_MBUF_POOL       "oko_mbufs"
/* Name under which the chain-position mbuf dynamic field is registered. */
#define OKO_SHM_MBUF_DYNFIELD   "oko_dynfield_chain"

/* Port rings, per port id: received packets from the primary to the
 * classifier, and packets to transmit from the classifier to the primary. */
#define OKO_SHM_PORT_RX_RING    "oko_port%u_rx"
#define OKO_SHM_PORT_TX_RING    "oko_port%u_tx"

/* A program's ELF image, per program id and version. */
#define OKO_SHM_PROG_ELF_MZ     "oko_f%u_v%u_elf"
/* A program's map, per program id and map index: maps belong to the
 * program id, not to a version or a process. */
#define OKO_SHM_PROG_MAP_MZ     "oko_f%u_m%u"
/* A filter's input ring from classifier instance C (producer: the
 * classifier, or the primary in --bypass-classifier mode). */
#define OKO_SHM_FLT_IN_CLS_RING "oko_f%u_in_c%u"
/* A filter's input ring from the filter of program U, for chain hand-off
 * (producer: filter U; created when a chain needs that edge). */
#define OKO_SHM_FLT_IN_FLT_RING "oko_f%u_in_f%u"
/* A filter's verdict ring back to classifier instance C. */
#define OKO_SHM_FLT_VERDICT_RING "oko_f%u_vd_c%u"
/* The published filter-chain table of a flow-table generation. */
#define OKO_SHM_CHAIN_MZ        "oko_chains_g%u"
/* Per-flow and per-port counters of classifier instance C (struct
 * oko_shm_cls_stats; created by that classifier, found again by its
 * successor after a restart). */
#define OKO_SHM_CLS_STATS_MZ    "oko_c%u_stats"

/* Longest name any of the formats above produces, with DPDK's prefix. */
#define OKO_SHM_NAMESIZE        32
/* Largest program id, so that every name fits in OKO_SHM_NAMESIZE. */
#define OKO_SHM_MAX_ID          99999

/* ---------------------------------------------------------------------
 * Sizes
 * ------------------------------------------------------------------- */

#define OKO_SHM_MAX_PORTS       16
#define OKO_SHM_MAX_PROGS       32
#define OKO_SHM_MAX_PROG_MAPS   16
/* Instances of one program that can exist at once: the active one and,
 * during a hot-swap, its successor. */
#define OKO_SHM_MAX_INSTANCES   2
#define OKO_SHM_MAX_CLASSIFIERS 1
#define OKO_SHM_MAX_CHAIN       8
/* Chains one generation's table holds, chain 0 (unused) included. */
#define OKO_SHM_MAX_CHAINS      4096
/* Flows whose counters a classifier publishes (the others are counted in
 * its totals only), and the room for each flow's text. */
#define OKO_SHM_CLS_MAX_FLOWS   4096
#define OKO_SHM_FLOW_TEXT       232

/* EAL lcore ids, unique per process (DPDK-NOTES.md: two processes on one
 * lcore id corrupt the shared mempool caches). */
#define OKO_LCORE_PRIMARY       0
#define OKO_LCORE_CLASSIFIER    1       /* + classifier instance */
#define OKO_LCORE_OFCTL         8
#define OKO_LCORE_FILTER_BASE   16      /* + slot * MAX_INSTANCES + inst */
#define OKO_LCORE_TOOL          127     /* --show and other inspectors */

/* A filter instance whose heartbeat is older than this is hung or dead:
 * its upstream applies the program's fail policy instead of waiting. */
#define OKO_HEARTBEAT_STALE_MS  250

#define OKO_SHM_MAGIC           0x4f4b4f52u     /* "OKOR" */
#define OKO_SHM_ABI_VERSION     2   /* 2: holding, lost, cls stats */

/* ---------------------------------------------------------------------
 * The mbuf dynamic field: a packet's position in its filter chain.
 * ------------------------------------------------------------------- */

enum oko_verdict {
    OKO_VERDICT_NONE = 0,       /* not run yet */
    OKO_VERDICT_NOMATCH = 1,    /* the program returned anything but 1 */
    OKO_VERDICT_MATCH = 2,      /* the program returned 1 */
};

/* Written by whoever holds the mbuf (one process at a time, by ring
 * hand-off).  chain_id 0 means "no chain": the packet goes to the filter
 * whose ring it was put on and comes back with its verdict. */
struct oko_mbuf_chain {
    uint32_t chain_id;          /* index in the generation's chain table */
    uint32_t generation;        /* flow-table generation of chain_id */
    uint16_t step;              /* index of the current filter in the chain */
    uint8_t verdict;            /* enum oko_verdict of the latest filter */
    uint8_t flags;              /* reserved, 0 */
};

/* ---------------------------------------------------------------------
 * Filter chains (written once by their publisher, then immutable)
 * ------------------------------------------------------------------- */

struct oko_shm_chain {
    uint32_t n;                         /* filters in the chain */
    uint32_t prog[OKO_SHM_MAX_CHAIN];   /* program ids, in order */
};

/* Memzone OKO_SHM_CHAIN_MZ: header followed by n_chains chains; chain 0
 * is unused (chain_id 0 means no chain).  magic is OKO_SHM_MAGIC; the
 * publisher fills everything, then creates the hand-off rings
 * (OKO_SHM_FLT_IN_FLT_RING) its chains need, then bumps the registry's
 * flow_generation; it frees a table only when no packet of its generation
 * can be in flight.
 *
 * The table may be reserved larger than n_chains (oko-classifier reserves
 * room for OKO_SHM_MAX_CHAINS) and grow while its generation is current:
 * chains are only ever appended, each one written completely before
 * n_chains is raised past it with a release store, so a reader that sees
 * chain_id < n_chains sees that chain whole, and a published chain never
 * changes. */
struct oko_shm_chain_table {
    uint32_t magic;
    uint32_t generation;
    uint32_t n_chains;
    uint32_t pad;
    struct oko_shm_chain chains[];
};

/* ---------------------------------------------------------------------
 * The registry
 * ------------------------------------------------------------------- */

enum oko_prog_state {
    OKO_PROG_FREE = 0,          /* slot unused */
    OKO_PROG_LOADED = 1,        /* image and maps ready, no instance yet */
    OKO_PROG_STARTING = 2,      /* an instance was spawned, not ready */
    OKO_PROG_RUNNING = 3,       /* the active instance runs */
    OKO_PROG_DOWN = 4,          /* the instance died; restart pending */
    OKO_PROG_UNLOADING = 5,
};

enum oko_fail_policy {
    OKO_FAIL_OPEN = 0,          /* dead filter: the flow does not match */
    OKO_FAIL_CLOSED = 1,        /* dead filter: the flow matches */
};

/* One map of a program.  Written by the primary at load. */
struct oko_shm_map {
    char name[BPF_MAX_NAME];            /* as the program names it */
    char mz_name[OKO_SHM_NAMESIZE];     /* memzone holding the map block */
    struct bpf_map_def def;
    uint32_t pad;
    uint64_t size;                      /* bytes of the map block */
};

/* One running instance of a program.  Every field is written by the
 * oko-filter process of that instance, except pid which the supervisor
 * also clears when it reaps the process. */
struct oko_shm_instance {
    int32_t pid;                /* 0 = no process */
    uint32_t lcore;
    uint32_t ready;             /* 1 once attached and polling */
    uint32_t pad;
    uint64_t heartbeat;         /* bumped every few loop iterations */
    uint64_t heartbeat_ns;      /* CLOCK_MONOTONIC of the latest bump */
    uint64_t started_ns;
    uint64_t pkts;              /* packets run */
    uint64_t matched;           /* ... that returned 1 */
    uint64_t handed_off;        /* ... passed to the next filter */
    uint64_t chain_broken;      /* chain or next ring missing: verdict sent */
    uint64_t linearised;        /* multi-segment packets copied */
    uint64_t truncated;         /* ... too long: first segment only */
    uint64_t out_full;          /* verdict/hand-off ring full, retried */
    uint64_t holding;           /* packets taken from an input ring and not
                                 * yet passed on: lost if it dies now */
} __attribute__((aligned(64)));

/* One program.  Written by the primary (load, unload, supervision),
 * except inst[], written by the filter instances. */
struct oko_shm_prog {
    uint32_t id;
    uint32_t version;
    uint32_t state;             /* enum oko_prog_state */
    uint32_t fail_policy;       /* enum oko_fail_policy */
    char name[64];              /* file name it was loaded from */
    char elf_mz[OKO_SHM_NAMESIZE];
    uint64_t elf_len;
    uint32_t nmaps;
    uint32_t active;            /* index of the active instance in inst[] */
    uint32_t restarts;          /* instances restarted by the supervisor */
    int32_t last_exit;          /* wait status of the latest dead instance */
    uint64_t lost;              /* packets dead instances held (holding) */
    struct oko_shm_map maps[OKO_SHM_MAX_PROG_MAPS];
    struct oko_shm_instance inst[OKO_SHM_MAX_INSTANCES];
} __attribute__((aligned(64)));

/* One classifier instance.  Written by that oko-classifier process,
 * except pid, which the supervisor also clears when it reaps it. */
struct oko_shm_classifier {
    int32_t pid;                /* 0 = no process */
    uint32_t lcore;
    uint32_t ready;             /* 1 once attached and polling */
    uint32_t pad;
    uint64_t heartbeat;         /* bumped every few loop iterations */
    uint64_t heartbeat_ns;      /* CLOCK_MONOTONIC of the latest bump */
    uint64_t started_ns;
    uint64_t rx;                /* packets taken from the port rings */
    uint64_t tx;                /* packets put on the port TX rings */
    uint64_t dropped;           /* drop actions and full rings */
    uint64_t to_filters;        /* packets sent into filter chains */
    uint64_t from_filters;      /* final verdicts received */
    uint64_t to_controller;     /* packet-ins */
    uint64_t emc_hits;          /* exact-match cache hits */
    uint64_t lookups;           /* wildcard classifier lookups */
} __attribute__((aligned(64)));

/* Counters of the flows of classifier instance C, in memzone
 * OKO_SHM_CLS_STATS_MZ.  Written by that oko-classifier only; flows[i] is
 * rule i of its current flow-table snapshot (text written before n_flows
 * is raised past it). */
struct oko_shm_cls_flow {
    uint64_t pkts;
    uint64_t bytes;
    char text[OKO_SHM_FLOW_TEXT];       /* the flow, as oko_flow_format() */
};

/* What the classifier did with the packets of one port (OpenFlow port
 * number = index + 1). */
struct oko_shm_cls_port {
    uint64_t rx;                /* taken from the port's RX ring */
    uint64_t tx;                /* put on the port's TX ring */
    uint64_t dropped;           /* received, then dropped (any reason) */
    uint64_t pad;
};

struct oko_shm_cls_stats {
    uint32_t magic;             /* OKO_SHM_MAGIC once initialised */
    uint32_t n_flows;           /* entries of flows[] in use */
    uint64_t generation;        /* flow-table generation of flows[] */
    /* Drop and fail-policy reasons, totals. */
    uint64_t drop_action;       /* flows whose actions drop */
    uint64_t table_miss;        /* no flow matched */
    uint64_t fail_open;         /* dead/absent filter: taken as no match */
    uint64_t fail_closed;       /* dead filter: taken as a match */
    uint64_t stale;             /* verdicts of an older generation */
    uint64_t chain_errors;      /* chain too long or chain table full */
    uint64_t tx_full;           /* a port TX ring refused packets */
    uint64_t unsupported;       /* actions this classifier does not run */
    uint64_t mac_learned;       /* NORMAL: MAC table insertions */
    uint64_t flooded;           /* NORMAL: unknown or broadcast, flooded */
    struct oko_shm_cls_port ports[OKO_SHM_MAX_PORTS];
    struct oko_shm_cls_flow flows[OKO_SHM_CLS_MAX_FLOWS];
};

/* One port.  Written by the primary, which does port I/O. */
struct oko_shm_port {
    uint32_t in_use;
    uint16_t port_id;           /* DPDK ethdev port id */
    uint8_t mac[6];
    char name[64];              /* device name (net_pcap0, 0000:01:00.0) */
    uint64_t rx;                /* packets received */
    uint64_t tx;                /* packets transmitted */
    uint64_t rx_dropped;        /* received, but the next ring was full */
    uint64_t tx_dropped;        /* the device refused them */
    uint64_t filter_dropped;    /* --bypass-classifier: a filter matched */
    uint64_t fail_policy;       /* --bypass-classifier: filter ring full */
} __attribute__((aligned(64)));

/* Memzone OKO_SHM_REGISTRY_MZ.  Header fields are written by the primary
 * before any secondary starts, except flow_generation (the flow table's
 * publisher). */
struct oko_shm_registry {
    uint32_t magic;             /* OKO_SHM_MAGIC */
    uint32_t abi_version;       /* OKO_SHM_ABI_VERSION */
    int32_t primary_pid;
    uint32_t n_ports;
    uint64_t started_ns;        /* CLOCK_MONOTONIC at primary start */
    uint64_t flow_generation;   /* incremented at each flow-table change */
    uint32_t ring_size;
    uint32_t burst;
    uint32_t bypass;            /* 1 in --bypass-classifier mode */
    uint32_t n_classifiers;
    int32_t dynfield_offset;    /* of struct oko_mbuf_chain in the mbuf */
    uint32_t pad;
    struct oko_shm_port ports[OKO_SHM_MAX_PORTS];
    struct oko_shm_classifier classifiers[OKO_SHM_MAX_CLASSIFIERS];
    struct oko_shm_prog progs[OKO_SHM_MAX_PROGS];
};

#ifdef __cplusplus
}
#endif

#endif /* OKO_SHM_H */
