/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * oko_helpers.h -- what a filter program for oko includes (OKO-ABI.md).
 *
 * Compile with:  clang -O2 -target bpf -I/usr/include/oko -c prog.c -o prog.o
 *
 * A program is a function
 *
 *     uint64_t entry(void *pkt, uint64_t len);
 *
 * that gets the Ethernet frame (read-only) and its length; the flow it is
 * attached to matches iff it returns exactly 1.  Maps are declared with
 * OKO_MAP() and used through the helpers below.
 */
#ifndef OKO_HELPERS_H
#define OKO_HELPERS_H 1

#ifndef __bpf__
#error "oko_helpers.h is for programs compiled with clang -target bpf"
#endif

typedef unsigned char      oko_u8;
typedef unsigned short     oko_u16;
typedef unsigned int       oko_u32;
typedef unsigned long long oko_u64;
typedef signed char        oko_s8;
typedef short              oko_s16;
typedef int                oko_s32;
typedef long long          oko_s64;

/* The 20-byte map definition of OKO-ABI.md section 1. */
struct oko_map_def {
    oko_u32 type;
    oko_u32 key_size;
    oko_u32 value_size;
    oko_u32 max_entries;
    oko_u32 nb_hash_functions;
};

#define OKO_MAP_ARRAY 1
#define OKO_MAP_BLOOM 2
#define OKO_MAP_CMS   3     /* count-min sketch */
#define OKO_MAP_HASH  4

/* Declares a map named NAME.  For Bloom filters and count-min sketches the
 * element is VSIZE bytes and KSIZE must equal it; NHASH is the number of
 * hash functions (rows of a count-min sketch). */
#define OKO_MAP(NAME, TYPE, KSIZE, VSIZE, MAX, NHASH)                      \
    struct oko_map_def NAME __attribute__((section("maps"), used)) = {    \
        .type = (TYPE), .key_size = (KSIZE), .value_size = (VSIZE),        \
        .max_entries = (MAX), .nb_hash_functions = (NHASH),                \
    }

/* Helpers, called by id (OKO-ABI.md section 2). */
static void *(*oko_map_lookup)(void *map, const void *key) = (void *) 1;
static int (*oko_map_update)(void *map, const void *key,
                             const void *value) = (void *) 2;
static int (*oko_map_delete)(void *map, const void *key) = (void *) 3;
static int (*oko_map_add)(void *map, const void *elem) = (void *) 4;
static oko_u64 (*oko_time_get_ns)(void) = (void *) 5;
static oko_u32 (*oko_hash)(const void *ptr, oko_u64 len) = (void *) 6;
static int (*oko_printf)(const char *fmt, ...) = (void *) 7;

/* Byte order: programs see packets in network order. */
#define oko_ntohs(x) __builtin_bswap16(x)
#define oko_htons(x) __builtin_bswap16(x)
#define oko_ntohl(x) __builtin_bswap32(x)
#define oko_htonl(x) __builtin_bswap32(x)

#define OKO_INLINE static inline __attribute__((always_inline))

#endif /* OKO_HELPERS_H */
