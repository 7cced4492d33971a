/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_maps.c -- maps (array, hash, Bloom filter, count-min sketch) and the
 * lookup3 hashes, through the public API of oko_bpf.h: semantics and error
 * codes, the hash positions OKO-ABI.md section 2 fixes, position
 * independence and validation of shared blocks, and concurrent use from
 * threads and processes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1           /* memfd_create */
#endif
#include "oko_bpf.h"
#include "cu_main.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------------
 * Utilities
 * ------------------------------------------------------------------- */

static struct bpf_map_def
mkdef(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t nh)
{
    struct bpf_map_def def = {
        .type = type, .key_size = ks, .value_size = vs, .max_entries = max,
        .nb_hash_functions = nh,
    };
    return def;
}

static struct bpf_map *
mkmap(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t nh)
{
    struct bpf_map_def def = mkdef(type, ks, vs, max, nh);
    struct bpf_map *map = bpf_map_create(&def, "test", NULL);

    CU_ASSERT_FATAL(map != NULL);
    return map;
}

/* xorshift64*: a small deterministic generator, one per thread. */
static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Value a writer stores for a key in the concurrency tests: derived from
 * the key only, so that concurrent writers of one key agree. */
struct kv_value {
    uint64_t key;
    uint64_t check;
};

static struct kv_value
value_for(uint64_t key)
{
    struct kv_value v = { key, ~key * UINT64_C(0x9e3779b97f4a7c15) };
    return v;
}

/* ---------------------------------------------------------------------
 * lookup3
 * ------------------------------------------------------------------- */

static void
test_lookup3_reference(void)
{
    static const char four[] = "Four score and seven years ago";
    uint32_t c, b;

    /* The values printed by driver5() of Bob Jenkins' lookup3.c. */
    CU_ASSERT_EQUAL(bpf_hashlittle("", 0, 0), 0xdeadbeef);
    CU_ASSERT_EQUAL(bpf_hashlittle(NULL, 0, 0), 0xdeadbeef);
    CU_ASSERT_EQUAL(bpf_hashlittle(four, 30, 0), 0x17770551);
    CU_ASSERT_EQUAL(bpf_hashlittle(four, 30, 1), 0xcd628161);

    c = 0, b = 0;
    bpf_hashlittle2("", 0, &c, &b);
    CU_ASSERT_EQUAL(c, 0xdeadbeef);
    CU_ASSERT_EQUAL(b, 0xdeadbeef);
    c = 0, b = 0xdeadbeef;
    bpf_hashlittle2("", 0, &c, &b);
    CU_ASSERT_EQUAL(c, 0xbd5b7dde);
    CU_ASSERT_EQUAL(b, 0xdeadbeef);
    c = 0xdeadbeef, b = 0xdeadbeef;
    bpf_hashlittle2("", 0, &c, &b);
    CU_ASSERT_EQUAL(c, 0x9c093ccd);
    CU_ASSERT_EQUAL(b, 0xbd5b7dde);
    c = 0, b = 0;
    bpf_hashlittle2(four, 30, &c, &b);
    CU_ASSERT_EQUAL(c, 0x17770551);
    CU_ASSERT_EQUAL(b, 0xce7226e6);
    c = 0, b = 1;
    bpf_hashlittle2(four, 30, &c, &b);
    CU_ASSERT_EQUAL(c, 0xe3607cae);
    CU_ASSERT_EQUAL(b, 0xbd371de4);
    c = 1, b = 0;
    bpf_hashlittle2(four, 30, &c, &b);
    CU_ASSERT_EQUAL(c, 0xcd628161);
    CU_ASSERT_EQUAL(b, 0x6cbea4b3);
}

/* Keys of every length up to 40 in buffers of exactly that size, at every
 * alignment: never a read past the end (ASan checks), the same hash
 * whatever the alignment, hashlittle2's primary hash equal to hashlittle,
 * and every byte influencing the result. */
static void
test_lookup3_lengths(void)
{
    uint8_t ref[40];

    for (size_t i = 0; i < sizeof ref; i++) {
        ref[i] = (uint8_t) (i * 37 + 11);
    }
    for (size_t len = 0; len <= sizeof ref; len++) {
        uint32_t h = bpf_hashlittle(ref, len, 7);

        for (size_t off = 0; off < 4; off++) {
            uint8_t *buf = malloc(off + len + 1);
            uint8_t *p;
            uint32_t c = 7, b = 0;

            CU_ASSERT_FATAL(buf != NULL);
            free(buf);
            /* Exact-size allocation, the key ending at its last byte. */
            buf = malloc(off + len ? off + len : 1);
            CU_ASSERT_FATAL(buf != NULL);
            p = buf + off;
            memcpy(p, ref, len);
            CU_ASSERT_EQUAL(bpf_hashlittle(p, len, 7), h);
            bpf_hashlittle2(p, len, &c, &b);
            CU_ASSERT_EQUAL(c, h);
            for (size_t j = 0; j < len; j++) {
                p[j] ^= 0x01;
                CU_ASSERT_NOT_EQUAL(bpf_hashlittle(p, len, 7), h);
                p[j] ^= 0x01;
            }
            free(buf);
        }
    }
}

/* ---------------------------------------------------------------------
 * Definitions
 * ------------------------------------------------------------------- */

static void
expect_def_error(struct bpf_map_def def, const char *needle)
{
    char err[256] = "";
    int r = bpf_map_def_check(&def, err, sizeof err);

    CU_ASSERT_EQUAL(r, -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
    if (!strstr(err, needle)) {
        fprintf(stderr, "\nexpected \"%s\" in \"%s\"\n", needle, err);
    }
    CU_ASSERT_EQUAL(bpf_map_mem_size(&def), 0);
    errno = 0;
    CU_ASSERT_PTR_NULL(bpf_map_create(&def, "bad", NULL));
    CU_ASSERT_EQUAL(errno, EINVAL);
}

static void
test_def_check(void)
{
    struct bpf_map_def def;
    char err[256];

    CU_ASSERT_EQUAL(bpf_map_def_check(NULL, err, sizeof err), -EINVAL);
    expect_def_error(mkdef(9, 4, 4, 1, 0), "map type 9 unknown");
    expect_def_error(mkdef(0, 4, 4, 1, 0), "map type 0 unknown");
    expect_def_error(mkdef(BPF_MAP_HASH, 0, 4, 1, 0), "key_size 0");
    expect_def_error(mkdef(BPF_MAP_HASH, 513, 4, 1, 0), "key_size 513");
    expect_def_error(mkdef(BPF_MAP_HASH, 4, 0, 1, 0), "value_size 0");
    expect_def_error(mkdef(BPF_MAP_HASH, 4, 65537, 1, 0),
                     "value_size 65537");
    expect_def_error(mkdef(BPF_MAP_HASH, 4, 4, 0, 0), "max_entries 0");
    expect_def_error(mkdef(BPF_MAP_HASH, 4, 4, (1u << 24) + 1, 0),
                     "max_entries 16777217");
    expect_def_error(mkdef(BPF_MAP_ARRAY, 8, 4, 1, 0), "key_size 8");
    expect_def_error(mkdef(BPF_MAP_BLOOM, 4, 8, 1, 1), "must equal");
    expect_def_error(mkdef(BPF_MAP_CMS, 4, 8, 1, 1), "must equal");
    expect_def_error(mkdef(BPF_MAP_BLOOM, 4, 4, 1, 0), "nb_hash_functions 0");
    expect_def_error(mkdef(BPF_MAP_CMS, 4, 4, 1, 17), "nb_hash_functions 17");
    /* Within every per-field limit, too big as a whole. */
    expect_def_error(mkdef(BPF_MAP_ARRAY, 4, 65536, 1u << 24, 0), "bytes");
    expect_def_error(mkdef(BPF_MAP_HASH, 512, 65536, 1u << 24, 0), "bytes");
    expect_def_error(mkdef(BPF_MAP_CMS, 4, 4, 1u << 24, 16), "bytes");

    /* Valid ones; array and hash ignore nb_hash_functions. */
    def = mkdef(BPF_MAP_ARRAY, 4, 8, 10, 12345);
    CU_ASSERT_EQUAL(bpf_map_def_check(&def, err, sizeof err), 0);
    def = mkdef(BPF_MAP_HASH, 13, 3, 10, 0xffffffff);
    CU_ASSERT_EQUAL(bpf_map_def_check(&def, err, sizeof err), 0);
    def = mkdef(BPF_MAP_BLOOM, 16, 16, 1u << 24, 16);
    CU_ASSERT_EQUAL(bpf_map_def_check(&def, NULL, 0), 0);
    def = mkdef(BPF_MAP_CMS, 1, 1, 1, 1);
    CU_ASSERT_EQUAL(bpf_map_def_check(&def, NULL, 0), 0);
    def = mkdef(BPF_MAP_HASH, 512, 65536, 1000, 0);
    CU_ASSERT_EQUAL(bpf_map_def_check(&def, NULL, 0), 0);
}

static void
test_mem_size(void)
{
    static const struct bpf_map_def defs[] = {
        { BPF_MAP_ARRAY, 4, 1, 1, 0 },
        { BPF_MAP_ARRAY, 4, 12, 1000, 0 },
        { BPF_MAP_HASH, 1, 1, 1, 0 },
        { BPF_MAP_HASH, 20, 100, 5000, 0 },
        { BPF_MAP_BLOOM, 7, 7, 100, 3 },
        { BPF_MAP_CMS, 2, 2, 1000, 4 },
    };

    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        size_t size = bpf_map_mem_size(&defs[i]);

        CU_ASSERT(size > 0);
        CU_ASSERT_EQUAL(size % 64, 0);
    }
    /* Sizes grow with what is stored. */
    CU_ASSERT(bpf_map_mem_size(&defs[1]) >= 1000 * 12);
    CU_ASSERT(bpf_map_mem_size(&defs[3]) >= 5000 * 120);
    CU_ASSERT(bpf_map_mem_size(&defs[5]) >= 4000 * 4);
}

/* ---------------------------------------------------------------------
 * Creation, allocator, init
 * ------------------------------------------------------------------- */

struct test_alloc {
    int allocs, frees;
    size_t last_size, last_align;
    char last_name[BPF_MAX_NAME];
    void *last_ptr;
    bool fail;
};

static void *
talloc(void *ctx, const char *name, size_t size, size_t align)
{
    struct test_alloc *t = ctx;
    void *p;

    t->allocs++;
    t->last_size = size;
    t->last_align = align;
    snprintf(t->last_name, sizeof t->last_name, "%s", name);
    if (t->fail || posix_memalign(&p, align, size)) {
        return NULL;
    }
    memset(p, 0, size);
    t->last_ptr = p;
    return p;
}

static void
tfree(void *ctx, void *ptr)
{
    struct test_alloc *t = ctx;

    t->frees++;
    CU_ASSERT_PTR_EQUAL(ptr, t->last_ptr);
    free(ptr);
}

static void
test_create_allocator(void)
{
    struct test_alloc t = { 0 };
    struct bpf_allocator a = { talloc, tfree, &t };
    struct bpf_map_def def = mkdef(BPF_MAP_HASH, 4, 8, 100, 0);
    char longname[BPF_MAX_NAME + 1];
    struct bpf_map *map;

    map = bpf_map_create(&def, "flows", &a);
    CU_ASSERT_FATAL(map != NULL);
    CU_ASSERT_EQUAL(t.allocs, 1);
    CU_ASSERT_EQUAL(t.last_align, 64);
    CU_ASSERT_EQUAL(t.last_size, bpf_map_mem_size(&def));
    CU_ASSERT_STRING_EQUAL(t.last_name, "flows");
    CU_ASSERT_PTR_EQUAL(map, t.last_ptr);
    CU_ASSERT_STRING_EQUAL(bpf_map_get_name(map), "flows");
    CU_ASSERT_EQUAL(memcmp(bpf_map_get_def(map), &def, sizeof def), 0);
    CU_ASSERT_EQUAL(bpf_map_count(map), 0);
    bpf_map_destroy(map, &a);
    CU_ASSERT_EQUAL(t.frees, 1);
    bpf_map_destroy(NULL, &a);
    CU_ASSERT_EQUAL(t.frees, 1);

    t.fail = true;
    errno = 0;
    CU_ASSERT_PTR_NULL(bpf_map_create(&def, "x", &a));
    CU_ASSERT_EQUAL(errno, ENOMEM);
    t.fail = false;

    memset(longname, 'n', BPF_MAX_NAME);
    longname[BPF_MAX_NAME] = '\0';
    errno = 0;
    CU_ASSERT_PTR_NULL(bpf_map_create(&def, longname, &a));
    CU_ASSERT_EQUAL(errno, ENAMETOOLONG);
    longname[BPF_MAX_NAME - 1] = '\0';
    map = bpf_map_create(&def, longname, NULL);
    CU_ASSERT_FATAL(map != NULL);
    CU_ASSERT_STRING_EQUAL(bpf_map_get_name(map), longname);
    bpf_map_destroy(map, NULL);

    map = bpf_map_create(&def, NULL, NULL);
    CU_ASSERT_FATAL(map != NULL);
    CU_ASSERT_STRING_EQUAL(bpf_map_get_name(map), "");
    bpf_map_destroy(map, NULL);
}

/* bpf_map_init on dirty memory gives an empty map; it refuses memory that
 * is too small or misaligned. */
static void
test_init_dirty(void)
{
    struct bpf_map_def defs[] = {
        mkdef(BPF_MAP_ARRAY, 4, 8, 16, 0),
        mkdef(BPF_MAP_HASH, 4, 8, 16, 0),
        mkdef(BPF_MAP_BLOOM, 4, 4, 100, 2),
        mkdef(BPF_MAP_CMS, 4, 4, 100, 2),
    };

    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        size_t size = bpf_map_mem_size(&defs[i]);
        uint8_t *mem = NULL;
        struct bpf_map *map;
        uint64_t cursor = 0;
        uint32_t key = 3, scratch[2];
        uint8_t kbuf[8], vbuf[8];

        CU_ASSERT_FATAL(posix_memalign((void **) &mem, 64, size + 64) == 0);
        memset(mem, 0xa5, size + 64);
        errno = 0;
        CU_ASSERT_PTR_NULL(bpf_map_init(mem, size - 1, &defs[i], "m"));
        CU_ASSERT_EQUAL(errno, EINVAL);
        CU_ASSERT_PTR_NULL(bpf_map_init(mem + 8, size, &defs[i], "m"));
        CU_ASSERT_PTR_NULL(bpf_map_init(NULL, size, &defs[i], "m"));
        map = bpf_map_init(mem, size, &defs[i], "m");
        CU_ASSERT_FATAL(map == (void *) mem);
        /* Nothing written beyond the block. */
        CU_ASSERT_EQUAL(mem[size], 0xa5);
        CU_ASSERT_EQUAL(mem[size + 63], 0xa5);
        switch (defs[i].type) {
        case BPF_MAP_ARRAY: {
            uint64_t *v = bpf_map_lookup(map, &key, NULL);

            CU_ASSERT_FATAL(v != NULL);
            CU_ASSERT_EQUAL(*v, 0);
            break;
        }
        case BPF_MAP_HASH:
            CU_ASSERT_EQUAL(bpf_map_count(map), 0);
            CU_ASSERT_PTR_NULL(bpf_map_lookup(map, &key, NULL));
            CU_ASSERT_EQUAL(bpf_map_next(map, &cursor, kbuf, vbuf), 0);
            break;
        case BPF_MAP_BLOOM:
            CU_ASSERT_EQUAL(bpf_map_count(map), 0);
            CU_ASSERT_PTR_NULL(bpf_map_lookup(map, &key, scratch));
            break;
        case BPF_MAP_CMS: {
            uint32_t *est = bpf_map_lookup(map, &key, scratch);

            CU_ASSERT_FATAL(est != NULL);
            CU_ASSERT_EQUAL(*est, 0);
            CU_ASSERT_EQUAL(bpf_map_count(map), 0);
            break;
        }
        }
        free(mem);
    }
}

/* ---------------------------------------------------------------------
 * Array
 * ------------------------------------------------------------------- */

static void
test_array(void)
{
    struct bpf_map *map = mkmap(BPF_MAP_ARRAY, 4, 12, 10, 0);
    uint8_t val[12], out[12];
    uint32_t key, k;
    uint64_t cursor = 0;
    uint8_t *p, *p0;
    int n;

    CU_ASSERT_EQUAL(bpf_map_scratch_size(map), 0);
    CU_ASSERT_EQUAL(bpf_map_count(map), 10);
    for (key = 0; key < 10; key++) {
        p = bpf_map_lookup(map, &key, NULL);
        CU_ASSERT_FATAL(p != NULL);
        /* 8-byte aligned for atomic instructions on values. */
        CU_ASSERT_EQUAL((uintptr_t) p % 8, 0);
        for (int i = 0; i < 12; i++) {
            CU_ASSERT_EQUAL(p[i], 0);
        }
    }
    key = 10;
    CU_ASSERT_PTR_NULL(bpf_map_lookup(map, &key, NULL));
    memset(val, 0x11, sizeof val);
    CU_ASSERT_EQUAL(bpf_map_update(map, &key, val), -EINVAL);
    CU_ASSERT_EQUAL(bpf_map_delete(map, &key), -ENOENT);
    key = UINT32_MAX;
    CU_ASSERT_PTR_NULL(bpf_map_lookup(map, &key, NULL));
    CU_ASSERT_EQUAL(bpf_map_update(map, &key, val), -EINVAL);

    for (key = 0; key < 10; key++) {
        memset(val, (int) key + 1, sizeof val);
        CU_ASSERT_EQUAL(bpf_map_update(map, &key, val), 0);
    }
    key = 4;
    p = bpf_map_lookup(map, &key, NULL);
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT_EQUAL(p[0], 5);
    CU_ASSERT_EQUAL(p[11], 5);
    /* In place: a write through the pointer is seen by the next lookup,
     * and updating from the map's own value is fine. */
    p[3] = 0x77;
    CU_ASSERT_EQUAL(bpf_map_update(map, &key, p), 0);
    CU_ASSERT_EQUAL(((uint8_t *) bpf_map_lookup(map, &key, NULL))[3], 0x77);
    /* Unaligned key. */
    {
        uint8_t kb[5] = { 0 };

        k = 4;
        memcpy(kb + 1, &k, 4);
        CU_ASSERT_PTR_EQUAL(bpf_map_lookup(map, kb + 1, NULL), p);
    }

    CU_ASSERT_EQUAL(bpf_map_delete(map, &key), 0);
    p = bpf_map_lookup(map, &key, NULL);
    CU_ASSERT_EQUAL(p[0] | p[3] | p[11], 0);

    /* Iteration: every index, in order. */
    n = 0;
    while (bpf_map_next(map, &cursor, &k, out)) {
        CU_ASSERT_EQUAL(k, (uint32_t) n);
        CU_ASSERT_EQUAL(out[0], k == 4 ? 0 : k + 1);
        n++;
    }
    CU_ASSERT_EQUAL(n, 10);
    CU_ASSERT_EQUAL(bpf_map_next(map, &cursor, &k, out), 0);

    CU_ASSERT_EQUAL(bpf_map_add(map, val), -EINVAL);
    CU_ASSERT_EQUAL(bpf_map_clear(map), 0);
    key = 0;
    p0 = bpf_map_lookup(map, &key, NULL);
    CU_ASSERT_EQUAL(p0[0], 0);
    CU_ASSERT_EQUAL(bpf_map_count(map), 10);
    bpf_map_destroy(map, NULL);
}

/* ---------------------------------------------------------------------
 * Hash
 * ------------------------------------------------------------------- */

static void
test_hash_basic(void)
{
    struct bpf_map *map = mkmap(BPF_MAP_HASH, 8, 16, 4, 0);
    uint64_t key, val[2], kout, vout[2], cursor;
    uint64_t *p;
    int n;

    CU_ASSERT_EQUAL(bpf_map_scratch_size(map), 0);
    key = 42;
    CU_ASSERT_PTR_NULL(bpf_map_lookup(map, &key, NULL));
    CU_ASSERT_EQUAL(bpf_map_delete(map, &key), -ENOENT);
    CU_ASSERT_EQUAL(bpf_map_add(map, &key), -EINVAL);

    for (key = 1; key <= 4; key++) {
        val[0] = key * 10;
        val[1] = key * 100;
        CU_ASSERT_EQUAL(bpf_map_update(map, &key, val), 0);
        CU_ASSERT_EQUAL(bpf_map_count(map), key);
    }
    /* Full: a new key is refused, an existing one is updated. */
    key = 5;
    CU_ASSERT_EQUAL(bpf_map_update(map, &key, val), -E2BIG);
    CU_ASSERT_EQUAL(bpf_map_count(map), 4);
    key = 2;
    val[0] = 2222;
    val[1] = 200;
    CU_ASSERT_EQUAL(bpf_map_update(map, &key, val), 0);
    p = bpf_map_lookup(map, &key, NULL);
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT_EQUAL((uintptr_t) p % 8, 0);
    CU_ASSERT_EQUAL(p[0], 2222);
    /* In place: the pointer sees later updates, writes through it stick,
     * and an update from the map's own value is fine. */
    val[0] = 3333;
    CU_ASSERT_EQUAL(bpf_map_update(map, &key, val), 0);
    CU_ASSERT_EQUAL(p[0], 3333);
    __atomic_fetch_add(&p[1], 1, __ATOMIC_RELAXED);
    CU_ASSERT_EQUAL(bpf_map_update(map, &key, p), 0);
    CU_ASSERT_EQUAL(((uint64_t *) bpf_map_lookup(map, &key, NULL))[1], 201);

    /* Iteration yields the live set exactly once. */
    cursor = 0;
    n = 0;
    {
        unsigned seen = 0;

        while (bpf_map_next(map, &cursor, &kout, vout)) {
            CU_ASSERT(kout >= 1 && kout <= 4);
            CU_ASSERT_FALSE(seen & (1u << kout));
            seen |= 1u << kout;
            CU_ASSERT_EQUAL(vout[1], kout == 2 ? 201 : kout * 100);
            n++;
        }
        CU_ASSERT_EQUAL(seen, 0x1e);
    }
    CU_ASSERT_EQUAL(n, 4);

    key = 3;
    CU_ASSERT_EQUAL(bpf_map_delete(map, &key), 0);
    CU_ASSERT_EQUAL(bpf_map_delete(map, &key), -ENOENT);
    CU_ASSERT_PTR_NULL(bpf_map_lookup(map, &key, NULL));
    CU_ASSERT_EQUAL(bpf_map_count(map), 3);
    key = 5;
    CU_ASSERT_EQUAL(bpf_map_update(map, &key, val), 0);
    CU_ASSERT_EQUAL(bpf_map_count(map), 4);
    CU_ASSERT_PTR_NOT_NULL(bpf_map_lookup(map, &key, NULL));

    CU_ASSERT_EQUAL(bpf_map_clear(map), 0);
    CU_ASSERT_EQUAL(bpf_map_count(map), 0);
    for (key = 1; key <= 5; key++) {
        CU_ASSERT_PTR_NULL(bpf_map_lookup(map, &key, NULL));
    }
    cursor = 0;
    CU_ASSERT_EQUAL(bpf_map_next(map, &cursor, &kout, vout), 0);
    for (key = 11; key <= 14; key++) {
        CU_ASSERT_EQUAL(bpf_map_update(map, &key, val), 0);
    }
    CU_ASSERT_EQUAL(bpf_map_count(map), 4);

    /* Arguments. */
    CU_ASSERT_EQUAL(bpf_map_update(map, NULL, val), -EINVAL);
    CU_ASSERT_EQUAL(bpf_map_update(map, &key, NULL), -EINVAL);
    CU_ASSERT_EQUAL(bpf_map_update(NULL, &key, val), -EINVAL);
    CU_ASSERT_PTR_NULL(bpf_map_lookup(NULL, &key, NULL));
    CU_ASSERT_PTR_NULL(bpf_map_lookup(map, NULL, NULL));
    bpf_map_destroy(map, NULL);
}

/* Odd key and value sizes; keys that differ in one byte only; a 1-byte
 * key space filled completely. */
static void
test_hash_key_sizes(void)
{
    struct bpf_map *map = mkmap(BPF_MAP_HASH, 13, 3, 100, 0);
    uint8_t key[13], val[3], kout[13], vout[3];
    uint64_t cursor = 0;
    int n = 0;

    memset(key, 0xee, sizeof key);
    for (int i = 0; i < 13; i++) {
        key[i] ^= 1;
        val[0] = (uint8_t) i;
        CU_ASSERT_EQUAL(bpf_map_update(map, key, val), 0);
        key[i] ^= 1;
    }
    CU_ASSERT_EQUAL(bpf_map_count(map), 13);
    CU_ASSERT_PTR_NULL(bpf_map_lookup(map, key, NULL));
    for (int i = 0; i < 13; i++) {
        uint8_t *v;

        key[i] ^= 1;
        v = bpf_map_lookup(map, key, NULL);
        CU_ASSERT_FATAL(v != NULL);
        CU_ASSERT_EQUAL((uintptr_t) v % 8, 0);
        CU_ASSERT_EQUAL(v[0], i);
        key[i] ^= 1;
    }
    while (bpf_map_next(map, &cursor, kout, vout)) {
        int diff = 0;

        for (int i = 0; i < 13; i++) {
            diff += kout[i] != 0xee;
        }
        CU_ASSERT_EQUAL(diff, 1);
        CU_ASSERT_EQUAL(kout[vout[0]], 0xee ^ 1);
        n++;
    }
    CU_ASSERT_EQUAL(n, 13);
    bpf_map_destroy(map, NULL);

    map = mkmap(BPF_MAP_HASH, 1, 1, 256, 0);
    for (int i = 0; i < 256; i++) {
        uint8_t k = (uint8_t) i, v = (uint8_t) ~i;

        CU_ASSERT_EQUAL(bpf_map_update(map, &k, &v), 0);
    }
    CU_ASSERT_EQUAL(bpf_map_count(map), 256);
    for (int i = 0; i < 256; i++) {
        uint8_t k = (uint8_t) i, *v = bpf_map_lookup(map, &k, NULL);

        CU_ASSERT_FATAL(v != NULL);
        CU_ASSERT_EQUAL(*v, (uint8_t) ~i);
    }
    bpf_map_destroy(map, NULL);

    /* The largest key. */
    map = mkmap(BPF_MAP_HASH, 512, 8, 10, 0);
    {
        uint8_t big[512];
        uint64_t v = 9;

        memset(big, 1, sizeof big);
        CU_ASSERT_EQUAL(bpf_map_update(map, big, &v), 0);
        big[511] = 2;
        CU_ASSERT_PTR_NULL(bpf_map_lookup(map, big, NULL));
        big[511] = 1;
        CU_ASSERT_EQUAL(*(uint64_t *) bpf_map_lookup(map, big, NULL), 9);
    }
    bpf_map_destroy(map, NULL);
}

/* 100k random operations in a small map against a reference model: every
 * result code, value and count must agree, and iteration must yield
 * exactly the model's set.  Deletes and re-inserts churn every slot many
 * times over. */
#define CHURN_MAX   16
#define CHURN_KEYS  48
static void
test_hash_churn(void)
{
    struct bpf_map *map = mkmap(BPF_MAP_HASH, 4, 4, CHURN_MAX, 0);
    bool present[CHURN_KEYS] = { false };
    uint32_t model[CHURN_KEYS] = { 0 };
    unsigned nlive = 0;
    uint64_t seed = 12345;
    int bad = 0;

    for (int op = 0; op < 100000 && bad < 10; op++) {
        uint64_t r = rnd(&seed);
        uint32_t key = (uint32_t) (r % CHURN_KEYS) * 7919 + 1;
        unsigned ki = r % CHURN_KEYS;
        uint32_t val = (uint32_t) (r >> 32);
        uint32_t *p;
        int ret;

        switch ((r >> 16) % 3) {
        case 0:
            ret = bpf_map_update(map, &key, &val);
            if (present[ki] || nlive < CHURN_MAX) {
                bad += ret != 0;
                if (!present[ki]) {
                    nlive++;
                }
                present[ki] = true;
                model[ki] = val;
            } else {
                bad += ret != -E2BIG;
            }
            break;
        case 1:
            ret = bpf_map_delete(map, &key);
            bad += ret != (present[ki] ? 0 : -ENOENT);
            if (present[ki]) {
                present[ki] = false;
                nlive--;
            }
            break;
        default:
            p = bpf_map_lookup(map, &key, NULL);
            bad += present[ki] ? !p || *p != model[ki] : p != NULL;
            break;
        }
        bad += bpf_map_count(map) != nlive;
        if (op % 1000 == 0 || op == 99999) {
            bool seen[CHURN_KEYS] = { false };
            uint64_t cursor = 0;
            uint32_t k, v;
            unsigned n = 0;

            while (bpf_map_next(map, &cursor, &k, &v)) {
                unsigned i = (k - 1) / 7919;

                if ((k - 1) % 7919 || i >= CHURN_KEYS || !present[i]
                    || seen[i] || model[i] != v) {
                    bad++;
                    continue;
                }
                seen[i] = true;
                n++;
            }
            bad += n != nlive;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    bpf_map_destroy(map, NULL);
}

/* A map of max_entries 8 (16 slots) where every insert is a new key and
 * every key is deleted again: 100k inserts must all succeed although every
 * slot is freed and reused thousands of times. */
static void
test_hash_reuse(void)
{
    struct bpf_map *map = mkmap(BPF_MAP_HASH, 8, 8, 8, 0);
    uint64_t ring[8];
    int bad = 0;

    for (uint64_t i = 0; i < 100000; i++) {
        uint64_t key = i * 0x9e3779b97f4a7c15, *p;

        if (i >= 8) {
            bad += bpf_map_delete(map, &ring[i % 8]) != 0;
        }
        ring[i % 8] = key;
        bad += bpf_map_update(map, &key, &i) != 0;
        p = bpf_map_lookup(map, &key, NULL);
        bad += !p || *p != i;
        if (i >= 8) {
            bad += bpf_map_lookup(map, &ring[(i + 1) % 8], NULL) == NULL;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(bpf_map_count(map), 8);
    bpf_map_destroy(map, NULL);
}

/* ---------------------------------------------------------------------
 * Bloom filter
 * ------------------------------------------------------------------- */

/* The bit positions OKO-ABI.md section 2 fixes for an element. */
static void
abi_positions(const void *elem, uint32_t n, uint32_t k, uint32_t m,
              uint32_t *pos)
{
    if (k == 1) {
        pos[0] = bpf_hashlittle(elem, n, 0) % m;
    } else {
        uint32_t h1 = 0, h2 = 0;

        bpf_hashlittle2(elem, n, &h1, &h2);
        for (uint32_t i = 0; i < k; i++) {
            pos[i] = (h1 + i * h2) % m;
        }
    }
}

static void
test_bloom_positions(void)
{
    static const uint32_t ks[] = { 1, 3, 16 };

    for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
        uint32_t k = ks[t], m = 100003;
        struct bpf_map *map = mkmap(BPF_MAP_BLOOM, 6, 6, m, k);
        uint8_t elem[6] = { 10, 0, 0, 1, 0x1f, 0x90 };
        uint32_t pos[16], idx, sentinel = 0xabcdabcd;
        bool want[16] = { false };
        uint64_t cursor = 0;
        unsigned nset = 0;

        abi_positions(elem, 6, k, m, pos);
        CU_ASSERT_EQUAL(bpf_map_add(map, elem), 0);
        /* Every set bit is one of the element's positions, and all of
         * them are set. */
        while (bpf_map_next(map, &cursor, &idx, &sentinel)) {
            bool found = false;

            for (uint32_t i = 0; i < k; i++) {
                if (pos[i] == idx) {
                    want[i] = found = true;
                }
            }
            CU_ASSERT(found);
            nset++;
        }
        CU_ASSERT_EQUAL(sentinel, 0xabcdabcd);
        for (uint32_t i = 0; i < k; i++) {
            CU_ASSERT(want[i]);
        }
        CU_ASSERT_EQUAL(bpf_map_count(map), nset);
        CU_ASSERT(nset >= 1 && nset <= k);
        bpf_map_destroy(map, NULL);
    }
}

static void
test_bloom(void)
{
    struct bpf_map *map = mkmap(BPF_MAP_BLOOM, 4, 4, 10000, 3);
    uint32_t scratch = 0, *p, x;
    unsigned fp = 0;

    CU_ASSERT_EQUAL(bpf_map_scratch_size(map), 4);
    x = 7;
    CU_ASSERT_PTR_NULL(bpf_map_lookup(map, &x, &scratch));
    CU_ASSERT_PTR_NULL(bpf_map_lookup(map, &x, NULL));
    CU_ASSERT_EQUAL(bpf_map_update(map, &x, &x), -EINVAL);
    CU_ASSERT_EQUAL(bpf_map_delete(map, &x), -EINVAL);

    for (x = 0; x < 1000; x++) {
        uint32_t e = x * 2654435761u;

        CU_ASSERT_EQUAL(bpf_map_add(map, &e), 0);
    }
    /* No false negatives; the pointer is scratch holding the element. */
    for (x = 0; x < 1000; x++) {
        uint32_t e = x * 2654435761u;

        p = bpf_map_lookup(map, &e, &scratch);
        CU_ASSERT_PTR_EQUAL(p, &scratch);
        CU_ASSERT_EQUAL(scratch, e);
    }
    /* False positives: with n = 1000, m = 10000, k = 3 theory says
     * (1 - e^(-0.3))^3 = 1.7%. */
    for (x = 0; x < 20000; x++) {
        uint32_t e = x * 2654435761u + 1;

        fp += bpf_map_lookup(map, &e, &scratch) != NULL;
    }
    CU_ASSERT(fp < 20000 * 4 / 100);
    CU_ASSERT(bpf_map_count(map) > 2000 && bpf_map_count(map) <= 3000);

    /* Lookup with the scratch buffer as key. */
    scratch = 0;
    CU_ASSERT_PTR_EQUAL(bpf_map_lookup(map, &scratch, &scratch), &scratch);

    CU_ASSERT_EQUAL(bpf_map_clear(map), 0);
    CU_ASSERT_EQUAL(bpf_map_count(map), 0);
    x = 0;
    CU_ASSERT_PTR_NULL(bpf_map_lookup(map, &x, &scratch));
    bpf_map_destroy(map, NULL);

    /* A filter of 1 bit: everything is present once anything was added. */
    map = mkmap(BPF_MAP_BLOOM, 1, 1, 1, 2);
    {
        uint8_t a = 1, b = 2, s;
        uint32_t idx;
        uint64_t cursor = 0;

        CU_ASSERT_PTR_NULL(bpf_map_lookup(map, &b, &s));
        CU_ASSERT_EQUAL(bpf_map_add(map, &a), 0);
        CU_ASSERT_PTR_NOT_NULL(bpf_map_lookup(map, &b, &s));
        CU_ASSERT_EQUAL(bpf_map_next(map, &cursor, &idx, NULL), 1);
        CU_ASSERT_EQUAL(idx, 0);
        CU_ASSERT_EQUAL(bpf_map_next(map, &cursor, &idx, NULL), 0);
    }
    bpf_map_destroy(map, NULL);
}

/* ---------------------------------------------------------------------
 * Count-min sketch
 * ------------------------------------------------------------------- */

static void
test_cms_positions(void)
{
    uint32_t k = 4, m = 997;
    struct bpf_map *map = mkmap(BPF_MAP_CMS, 5, 5, m, k);
    uint8_t elem[5] = { 'h', 'e', 'l', 'l', 'o' };
    uint32_t pos[4], key, val;
    uint64_t cursor = 0;
    unsigned n = 0;

    abi_positions(elem, 5, k, m, pos);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(bpf_map_add(map, elem), 0);
    }
    while (bpf_map_next(map, &cursor, &key, &val)) {
        uint32_t row = key >> 24, col = key & 0xffffff;

        CU_ASSERT_FATAL(row < k);
        CU_ASSERT_EQUAL(row, n);
        CU_ASSERT_EQUAL(col, pos[row]);
        CU_ASSERT_EQUAL(val, 3);
        n++;
    }
    CU_ASSERT_EQUAL(n, k);
    CU_ASSERT_EQUAL(bpf_map_count(map), 3);
    bpf_map_destroy(map, NULL);

    /* One row: hashlittle(elem, n, 0) mod m. */
    map = mkmap(BPF_MAP_CMS, 5, 5, m, 1);
    CU_ASSERT_EQUAL(bpf_map_add(map, elem), 0);
    cursor = 0;
    CU_ASSERT_EQUAL(bpf_map_next(map, &cursor, &key, &val), 1);
    CU_ASSERT_EQUAL(key, bpf_hashlittle(elem, 5, 0) % m);
    CU_ASSERT_EQUAL(val, 1);
    CU_ASSERT_EQUAL(bpf_map_next(map, &cursor, &key, &val), 0);
    bpf_map_destroy(map, NULL);
}

static void
test_cms(void)
{
    struct bpf_map *map = mkmap(BPF_MAP_CMS, 4, 4, 4096, 4);
    static uint32_t truth[5000];
    uint32_t scratch, *p, x;
    uint64_t total = 0;
    uint64_t seed = 99;
    int bad = 0;

    CU_ASSERT_EQUAL(bpf_map_scratch_size(map), 4);
    CU_ASSERT_EQUAL(bpf_map_update(map, &x, &x), -EINVAL);
    CU_ASSERT_EQUAL(bpf_map_delete(map, &x), -EINVAL);
    CU_ASSERT_PTR_NULL(bpf_map_lookup(map, &x, NULL));

    /* A few elements in a wide sketch: exact. */
    for (x = 1; x <= 5; x++) {
        for (uint32_t i = 0; i < x * 10; i++) {
            CU_ASSERT_EQUAL(bpf_map_add(map, &x), 0);
        }
    }
    for (x = 1; x <= 5; x++) {
        p = bpf_map_lookup(map, &x, &scratch);
        CU_ASSERT_PTR_EQUAL(p, &scratch);
        CU_ASSERT_EQUAL(scratch, x * 10);
    }
    x = 6;
    CU_ASSERT_EQUAL(*(uint32_t *) bpf_map_lookup(map, &x, &scratch), 0);
    CU_ASSERT_EQUAL(bpf_map_count(map), 150);
    CU_ASSERT_EQUAL(bpf_map_clear(map), 0);
    CU_ASSERT_EQUAL(bpf_map_count(map), 0);

    /* Many elements: estimates never below the truth. */
    for (int i = 0; i < 100000; i++) {
        x = (uint32_t) (rnd(&seed) % 5000);
        truth[x]++;
        total++;
        bpf_map_add(map, &x);
    }
    for (x = 0; x < 5000; x++) {
        p = bpf_map_lookup(map, &x, &scratch);
        bad += !p || *p < truth[x];
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(bpf_map_count(map), total);
    bpf_map_destroy(map, NULL);
}

/* Counters saturate at UINT32_MAX.  The test finds the counter by looking
 * for the only non-zero u32 of the block (white box: one row of 4). */
static void
test_cms_saturation(void)
{
    struct bpf_map_def def = mkdef(BPF_MAP_CMS, 4, 4, 4, 1);
    struct bpf_map *map = bpf_map_create(&def, "sat", NULL);
    size_t size = bpf_map_mem_size(&def);
    uint32_t elem = 77, scratch, *words = (uint32_t *) map, *ctr = NULL;
    int nonzero = 0;

    CU_ASSERT_FATAL(map != NULL);
    CU_ASSERT_EQUAL(bpf_map_add(map, &elem), 0);
    for (size_t i = 64 / 4; i < size / 4; i++) {
        if (words[i] == 1) {
            ctr = &words[i];
            nonzero++;
        }
    }
    CU_ASSERT_FATAL(nonzero == 1 && ctr != NULL);
    *ctr = UINT32_MAX - 1;
    CU_ASSERT_EQUAL(bpf_map_add(map, &elem), 0);
    CU_ASSERT_EQUAL(*(uint32_t *) bpf_map_lookup(map, &elem, &scratch),
                    UINT32_MAX);
    CU_ASSERT_EQUAL(bpf_map_add(map, &elem), 0);
    CU_ASSERT_EQUAL(bpf_map_add(map, &elem), 0);
    CU_ASSERT_EQUAL(*(uint32_t *) bpf_map_lookup(map, &elem, &scratch),
                    UINT32_MAX);
    CU_ASSERT_EQUAL(bpf_map_count(map), UINT32_MAX);
    bpf_map_destroy(map, NULL);
}

/* ---------------------------------------------------------------------
 * Attach: position independence and validation
 * ------------------------------------------------------------------- */

static void
test_attach_moved(void)
{
    struct bpf_map_def defs[] = {
        mkdef(BPF_MAP_HASH, 4, 8, 100, 0),
        mkdef(BPF_MAP_ARRAY, 4, 8, 100, 0),
        mkdef(BPF_MAP_BLOOM, 4, 4, 1000, 3),
        mkdef(BPF_MAP_CMS, 4, 4, 1000, 3),
    };

    for (size_t t = 0; t < sizeof defs / sizeof defs[0]; t++) {
        struct bpf_map *map = bpf_map_create(&defs[t], "moved", NULL);
        size_t size = bpf_map_mem_size(&defs[t]);
        struct bpf_map *copy;
        uint8_t *mem = NULL;
        uint32_t scratch;

        CU_ASSERT_FATAL(map != NULL);
        for (uint32_t k = 0; k < 50; k++) {
            uint64_t v = k * 3;

            if (defs[t].type == BPF_MAP_HASH || defs[t].type == BPF_MAP_ARRAY) {
                CU_ASSERT_EQUAL(bpf_map_update(map, &k, &v), 0);
            } else {
                CU_ASSERT_EQUAL(bpf_map_add(map, &k), 0);
            }
        }
        /* Another address, 64-byte aligned but otherwise unrelated. */
        CU_ASSERT_FATAL(posix_memalign((void **) &mem, 4096, size + 4096)
                        == 0);
        memcpy(mem + 192, map, size);
        bpf_map_destroy(map, NULL);
        copy = bpf_map_attach(mem + 192, size);
        CU_ASSERT_FATAL(copy != NULL);
        CU_ASSERT_STRING_EQUAL(bpf_map_get_name(copy), "moved");
        CU_ASSERT_EQUAL(memcmp(bpf_map_get_def(copy), &defs[t],
                               sizeof defs[t]), 0);
        for (uint32_t k = 0; k < 50; k++) {
            void *p = bpf_map_lookup(copy, &k, &scratch);

            CU_ASSERT_FATAL(p != NULL);
            if (defs[t].type == BPF_MAP_HASH || defs[t].type == BPF_MAP_ARRAY) {
                CU_ASSERT_EQUAL(*(uint64_t *) p, k * 3);
                CU_ASSERT((uint8_t *) p > mem && (uint8_t *) p < mem + 192 + size);
            } else if (defs[t].type == BPF_MAP_CMS) {
                CU_ASSERT(*(uint32_t *) p >= 1);
            }
        }
        if (defs[t].type == BPF_MAP_HASH) {
            uint32_t k = 1000;
            uint64_t v = 1;

            CU_ASSERT_EQUAL(bpf_map_count(copy), 50);
            CU_ASSERT_EQUAL(bpf_map_update(copy, &k, &v), 0);
            CU_ASSERT_EQUAL(bpf_map_delete(copy, &k), 0);
            k = 7;
            CU_ASSERT_EQUAL(bpf_map_delete(copy, &k), 0);
            CU_ASSERT_EQUAL(bpf_map_count(copy), 49);
        }
        /* A larger size than needed is fine. */
        CU_ASSERT_PTR_EQUAL(bpf_map_attach(mem + 192, size + 64), copy);
        free(mem);
    }
}

static void
test_attach_rejects(void)
{
    struct bpf_map_def def = mkdef(BPF_MAP_HASH, 4, 8, 16, 0);
    size_t size = bpf_map_mem_size(&def);
    uint8_t *mem = NULL, *tmp = NULL;
    uint64_t seed = 7;
    struct bpf_map *map;
    int accepted = 0;

    CU_ASSERT_FATAL(posix_memalign((void **) &mem, 64, size) == 0);
    CU_ASSERT_FATAL(posix_memalign((void **) &tmp, 64, size) == 0);

    /* Garbage. */
    for (int round = 0; round < 100; round++) {
        for (size_t i = 0; i < size; i++) {
            mem[i] = (uint8_t) rnd(&seed);
        }
        errno = 0;
        CU_ASSERT_PTR_NULL(bpf_map_attach(mem, size));
        CU_ASSERT_EQUAL(errno, EINVAL);
    }
    memset(mem, 0, size);
    CU_ASSERT_PTR_NULL(bpf_map_attach(mem, size));
    CU_ASSERT_PTR_NULL(bpf_map_attach(NULL, size));

    map = bpf_map_init(mem, size, &def, "good");
    CU_ASSERT_FATAL(map != NULL);
    CU_ASSERT_PTR_EQUAL(bpf_map_attach(mem, size), map);
    /* Truncated: every size below the real one. */
    for (size_t s = 0; s < size; s++) {
        if (bpf_map_attach(mem, s)) {
            accepted++;
        }
    }
    CU_ASSERT_EQUAL(accepted, 0);
    /* Misaligned. */
    memcpy(tmp, mem, size);
    CU_ASSERT_PTR_NULL(bpf_map_attach(mem + 8, size - 8));

    /* Every single-byte corruption of the first 256 bytes either is
     * rejected or leaves a map that works without a fault. */
    accepted = 0;
    for (size_t i = 0; i < 256 && i < size; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(mem, tmp, size);
            mem[i] ^= (uint8_t) (1u << bit);
            map = bpf_map_attach(mem, size);
            if (map) {
                /* Sizes may have changed within the same geometry: use
                 * buffers large enough for any. */
                uint8_t k[BPF_MAP_MAX_KEY_SIZE] = { 3 }, v[256] = { 4 };
                uint8_t kb[BPF_MAP_MAX_KEY_SIZE], vb[256];
                uint64_t cursor = 0;

                accepted++;
                bpf_map_update(map, k, v);
                bpf_map_lookup(map, k, vb);
                while (bpf_map_next(map, &cursor, kb, vb)) {
                    continue;
                }
                bpf_map_delete(map, k);
                bpf_map_count(map);
            }
        }
    }
    /* Name bytes, padding and the counter may change; the 128 bits of
     * magic, version and header size, at least, may not. */
    CU_ASSERT(accepted > 0);
    CU_ASSERT(256 * 8 - accepted >= 128);

    /* A definition changed to another valid one no longer matches the
     * geometry or the size. */
    memcpy(mem, tmp, size);
    CU_ASSERT_PTR_NOT_NULL(bpf_map_attach(mem, size));
    {
        struct bpf_map_def big = mkdef(BPF_MAP_HASH, 4, 8, 1000, 0);
        size_t bsize = bpf_map_mem_size(&big);
        uint8_t *bmem = NULL;

        CU_ASSERT_FATAL(posix_memalign((void **) &bmem, 64, bsize) == 0);
        CU_ASSERT_FATAL(bpf_map_init(bmem, bsize, &big, "big") != NULL);
        CU_ASSERT_PTR_NULL(bpf_map_attach(bmem, size));
        CU_ASSERT_PTR_NULL(bpf_map_attach(bmem, bsize - 64));
        CU_ASSERT_PTR_NOT_NULL(bpf_map_attach(bmem, bsize));
        free(bmem);
    }
    free(tmp);
    free(mem);
}

/* ---------------------------------------------------------------------
 * Concurrency
 * ------------------------------------------------------------------- */

#define CT_THREADS   4
#define CT_OWNED     16           /* keys each thread owns, never deleted */
#define CT_SHARED    256          /* keys every thread inserts and deletes */
#define CT_MAX       (CT_THREADS * CT_OWNED + CT_SHARED / 2)

struct ct_arg {
    struct bpf_map *map;
    int id;
    double seconds;
    const bool *go;
    uint64_t ops;
    uint64_t shared_hits;
    int errors;
};

static uint64_t
owned_key(int thread, int i)
{
    return UINT64_C(1) << 40 | (uint64_t) thread << 20 | (uint64_t) i;
}

static void *
ct_worker(void *arg_)
{
    struct ct_arg *arg = arg_;
    uint64_t seed = 0x1234567 + arg->id * 7777;
    double end;

    while (!__atomic_load_n(arg->go, __ATOMIC_ACQUIRE)) {
        continue;
    }
    end = now_s() + arg->seconds;
    while (now_s() < end) {
        for (int i = 0; i < 256; i++) {
            uint64_t r = rnd(&seed);
            /* Half of the operations hit 8 hot keys, so that writers of
             * one key race all the time. */
            uint64_t key = r & 1 ? (r >> 8) % 8 : (r >> 8) % CT_SHARED;
            struct kv_value v = value_for(key), *p;
            int ret;

            switch ((r >> 4) % 4) {
            case 0:
            case 1:
                ret = bpf_map_update(arg->map, &key, &v);
                arg->errors += ret != 0 && ret != -E2BIG;
                break;
            case 2:
                ret = bpf_map_delete(arg->map, &key);
                arg->errors += ret != 0 && ret != -ENOENT;
                break;
            default:
                /* The value of a shared key is not checked: the key may be
                 * deleted and its slot reused by another key while we read
                 * (the documented lifetime of a value pointer). */
                p = bpf_map_lookup(arg->map, &key, NULL);
                arg->shared_hits += p != NULL;
                break;
            }
            /* The keys this thread owns are always there. */
            key = owned_key(arg->id, (int) (r >> 40) % CT_OWNED);
            p = bpf_map_lookup(arg->map, &key, NULL);
            arg->errors += !p || p->key != key;
            arg->ops += 2;
        }
    }
    return NULL;
}

/* After the writers stopped: no duplicate keys, the count equals the
 * entries iteration finds, every value intact, every owned key present. */
static void
check_hash_invariants(struct bpf_map *map, int nthreads, int nowned)
{
    static uint64_t keys[CT_MAX * 2];
    uint64_t cursor = 0, key;
    struct kv_value v;
    size_t n = 0;
    int dups = 0, badval = 0, missing = 0;

    while (bpf_map_next(map, &cursor, &key, &v)) {
        CU_ASSERT_FATAL(n < sizeof keys / sizeof keys[0]);
        for (size_t i = 0; i < n; i++) {
            dups += keys[i] == key;
        }
        badval += v.key != key || v.check != value_for(key).check;
        keys[n++] = key;
    }
    CU_ASSERT_EQUAL(dups, 0);
    CU_ASSERT_EQUAL(badval, 0);
    CU_ASSERT_EQUAL(bpf_map_count(map), n);
    CU_ASSERT(n <= bpf_map_get_def(map)->max_entries);
    for (int t = 0; t < nthreads; t++) {
        for (int i = 0; i < nowned; i++) {
            key = owned_key(t, i);
            missing += bpf_map_lookup(map, &key, NULL) == NULL;
        }
    }
    CU_ASSERT_EQUAL(missing, 0);
    /* Each listed key is found by lookup and deletes exactly once. */
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT(bpf_map_lookup(map, &keys[i], NULL) != NULL);
        CU_ASSERT_EQUAL(bpf_map_delete(map, &keys[i]), 0);
        CU_ASSERT_EQUAL(bpf_map_delete(map, &keys[i]), -ENOENT);
    }
    CU_ASSERT_EQUAL(bpf_map_count(map), 0);
}

static void
test_hash_threads(void)
{
    struct bpf_map *map = mkmap(BPF_MAP_HASH, 8, sizeof(struct kv_value),
                                CT_MAX, 0);
    struct ct_arg args[CT_THREADS];
    pthread_t th[CT_THREADS];
    bool go = false;
    uint64_t ops = 0, hits = 0;
    int errors = 0;

    for (int t = 0; t < CT_THREADS; t++) {
        for (int i = 0; i < CT_OWNED; i++) {
            uint64_t key = owned_key(t, i);
            struct kv_value v = value_for(key);

            CU_ASSERT_EQUAL_FATAL(bpf_map_update(map, &key, &v), 0);
        }
    }
    for (int t = 0; t < CT_THREADS; t++) {
        args[t] = (struct ct_arg) {
            .map = map, .id = t, .seconds = 0.5, .go = &go,
        };
        CU_ASSERT_FATAL(pthread_create(&th[t], NULL, ct_worker, &args[t])
                        == 0);
    }
    __atomic_store_n(&go, true, __ATOMIC_RELEASE);
    for (int t = 0; t < CT_THREADS; t++) {
        pthread_join(th[t], NULL);
        ops += args[t].ops;
        hits += args[t].shared_hits;
        errors += args[t].errors;
    }
    CU_ASSERT_EQUAL(errors, 0);
    CU_ASSERT(ops > 1000);
    CU_ASSERT(hits > 0);
    check_hash_invariants(map, CT_THREADS, CT_OWNED);
    bpf_map_destroy(map, NULL);
}

/* All threads insert the same 64 new keys at once, from a barrier, 200
 * times: the duplicate-insert race happens constantly, and each key must
 * be there exactly once afterwards.  The map has room for 64 keys plus one
 * in-flight duplicate per other writer (see maps.c on -E2BIG near full). */
struct race_arg {
    struct bpf_map *map;
    pthread_barrier_t *barrier;
    int id;
    int errors;
};

static void *
race_worker(void *arg_)
{
    struct race_arg *arg = arg_;

    for (int round = 0; round < 200; round++) {
        pthread_barrier_wait(arg->barrier);
        for (uint64_t k = 0; k < 64; k++) {
            uint64_t key = (uint64_t) round << 32 | k;
            struct kv_value v = value_for(key);

            arg->errors += bpf_map_update(arg->map, &key, &v) != 0;
        }
        pthread_barrier_wait(arg->barrier);
        /* Thread 0 checks and empties the map while the others wait. */
        if (arg->id == 0) {
            uint64_t cursor = 0, key;
            struct kv_value v;
            uint64_t seen = 0;
            int n = 0;

            while (bpf_map_next(arg->map, &cursor, &key, &v)) {
                if ((key >> 32) != (uint64_t) round || (key & 0xffffffff) >= 64
                    || seen & (UINT64_C(1) << (key & 63))) {
                    arg->errors++;
                    continue;
                }
                seen |= UINT64_C(1) << (key & 63);
                n++;
            }
            arg->errors += n != 64 || bpf_map_count(arg->map) != 64;
            for (uint64_t k = 0; k < 64; k++) {
                key = (uint64_t) round << 32 | k;
                arg->errors += bpf_map_delete(arg->map, &key) != 0;
            }
            arg->errors += bpf_map_count(arg->map) != 0;
        }
        pthread_barrier_wait(arg->barrier);
    }
    return NULL;
}

static void
test_hash_same_key_race(void)
{
    struct bpf_map *map = mkmap(BPF_MAP_HASH, 8, sizeof(struct kv_value),
                                64 + CT_THREADS - 1, 0);
    struct race_arg args[CT_THREADS];
    pthread_t th[CT_THREADS];
    pthread_barrier_t barrier;
    int errors = 0;

    pthread_barrier_init(&barrier, NULL, CT_THREADS);
    for (int t = 0; t < CT_THREADS; t++) {
        args[t] = (struct race_arg) { map, &barrier, t, 0 };
        CU_ASSERT_FATAL(pthread_create(&th[t], NULL, race_worker, &args[t])
                        == 0);
    }
    for (int t = 0; t < CT_THREADS; t++) {
        pthread_join(th[t], NULL);
        errors += args[t].errors;
    }
    pthread_barrier_destroy(&barrier);
    CU_ASSERT_EQUAL(errors, 0);
    bpf_map_destroy(map, NULL);
}

/* bpf_map_clear() racing with writers is not atomic, but nothing hangs or
 * faults, and after a quiet clear the map is exact again. */
struct clear_arg {
    struct bpf_map *map;
    const bool *stop;
    int id;
    int errors;
};

static void *
clear_worker(void *arg_)
{
    struct clear_arg *arg = arg_;
    uint64_t seed = 4242 + arg->id;

    while (!__atomic_load_n(arg->stop, __ATOMIC_ACQUIRE)) {
        uint64_t r = rnd(&seed), key = (r >> 8) % 128;
        struct kv_value v = value_for(key);
        int ret;

        if (arg->id == 0) {
            if (r % 64 == 0) {
                arg->errors += bpf_map_clear(arg->map) != 0;
            }
            continue;
        }
        if (r & 1) {
            ret = bpf_map_update(arg->map, &key, &v);
            arg->errors += ret != 0 && ret != -E2BIG;
        } else {
            ret = bpf_map_delete(arg->map, &key);
            arg->errors += ret != 0 && ret != -ENOENT;
        }
    }
    return NULL;
}

static void
test_hash_clear_race(void)
{
    struct bpf_map *map = mkmap(BPF_MAP_HASH, 8, sizeof(struct kv_value),
                                64, 0);
    struct clear_arg args[CT_THREADS];
    pthread_t th[CT_THREADS];
    bool stop = false;
    int errors = 0, n = 0;
    uint64_t cursor = 0, key;
    struct kv_value v;

    for (int t = 0; t < CT_THREADS; t++) {
        args[t] = (struct clear_arg) { map, &stop, t, 0 };
        CU_ASSERT_FATAL(pthread_create(&th[t], NULL, clear_worker, &args[t])
                        == 0);
    }
    usleep(200 * 1000);
    __atomic_store_n(&stop, true, __ATOMIC_RELEASE);
    for (int t = 0; t < CT_THREADS; t++) {
        pthread_join(th[t], NULL);
        errors += args[t].errors;
    }
    CU_ASSERT_EQUAL(errors, 0);
    CU_ASSERT(bpf_map_count(map) <= 64);

    CU_ASSERT_EQUAL(bpf_map_clear(map), 0);
    CU_ASSERT_EQUAL(bpf_map_count(map), 0);
    for (key = 1000; key < 1064; key++) {
        v = value_for(key);
        CU_ASSERT_EQUAL(bpf_map_update(map, &key, &v), 0);
    }
    CU_ASSERT_EQUAL(bpf_map_update(map, &key, &v), -E2BIG);
    while (bpf_map_next(map, &cursor, &key, &v)) {
        CU_ASSERT(key >= 1000 && key < 1064);
        n++;
    }
    CU_ASSERT_EQUAL(n, 64);
    CU_ASSERT_EQUAL(bpf_map_count(map), 64);
    bpf_map_destroy(map, NULL);
}

struct sketch_arg {
    struct bpf_map *map;
    int id;
    int errors;
};

#define SK_ADDS 100000

static void *
sketch_worker(void *arg_)
{
    struct sketch_arg *arg = arg_;

    for (uint32_t i = 0; i < SK_ADDS; i++) {
        /* Element 0 from every thread; elements 1000 + i spread out. */
        uint32_t e = i % 2 ? 0 : 1000 + (i / 2) % 512;

        arg->errors += bpf_map_add(arg->map, &e) != 0;
    }
    return NULL;
}

static void
test_sketch_threads(void)
{
    struct bpf_map *cms = mkmap(BPF_MAP_CMS, 4, 4, 1 << 16, 3);
    struct bpf_map *bloom = mkmap(BPF_MAP_BLOOM, 4, 4, 1 << 16, 3);
    struct bpf_map *maps[2] = { cms, bloom };
    struct sketch_arg args[CT_THREADS];
    pthread_t th[CT_THREADS];
    uint32_t scratch, e;
    int errors = 0;

    for (int m = 0; m < 2; m++) {
        for (int t = 0; t < CT_THREADS; t++) {
            args[t] = (struct sketch_arg) { maps[m], t, 0 };
            CU_ASSERT_FATAL(pthread_create(&th[t], NULL, sketch_worker,
                                           &args[t]) == 0);
        }
        for (int t = 0; t < CT_THREADS; t++) {
            pthread_join(th[t], NULL);
            errors += args[t].errors;
        }
    }
    CU_ASSERT_EQUAL(errors, 0);
    /* Every increment counted: the total of a row is exact, and the hot
     * element's estimate is at least its count. */
    CU_ASSERT_EQUAL(bpf_map_count(cms), (uint64_t) CT_THREADS * SK_ADDS);
    e = 0;
    CU_ASSERT(*(uint32_t *) bpf_map_lookup(cms, &e, &scratch)
              >= CT_THREADS * SK_ADDS / 2);
    CU_ASSERT(*(uint32_t *) bpf_map_lookup(cms, &e, &scratch)
              <= CT_THREADS * SK_ADDS / 2 + 1000);
    for (e = 1000; e < 1512; e++) {
        CU_ASSERT_PTR_NOT_NULL(bpf_map_lookup(bloom, &e, &scratch));
    }
    e = 0;
    CU_ASSERT_PTR_NOT_NULL(bpf_map_lookup(bloom, &e, &scratch));
    bpf_map_destroy(cms, NULL);
    bpf_map_destroy(bloom, NULL);
}

/* A map in a memfd shared by two processes, mapped at different addresses:
 * parent and child insert disjoint key sets at the same time, and a shared
 * count-min sketch counts both. */
static void
test_hash_fork(void)
{
    struct bpf_map_def def = mkdef(BPF_MAP_HASH, 8, sizeof(struct kv_value),
                                   4096, 0);
    struct bpf_map_def cdef = mkdef(BPF_MAP_CMS, 4, 4, 64, 2);
    size_t size = bpf_map_mem_size(&def), csize = bpf_map_mem_size(&cdef);
    struct bpf_map *map, *cms;
    int fd, status = -1, errors = 0;
    uint8_t *mem;
    uint32_t e = 5, scratch;
    pid_t pid;

    fd = memfd_create("oko-test-maps", 0);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(ftruncate(fd, size + csize) == 0);
    mem = mmap(NULL, size + csize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CU_ASSERT_FATAL(mem != MAP_FAILED);
    map = bpf_map_init(mem, size, &def, "shared");
    cms = bpf_map_init(mem + size, csize, &cdef, "shared_cms");
    CU_ASSERT_FATAL(map != NULL && cms != NULL);

    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        /* Child: map the memory again elsewhere and attach. */
        uint8_t *cmem = mmap(NULL, size + csize + 4096,
                             PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        struct bpf_map *cmap, *ccms;
        int bad = 0;

        if (cmem == MAP_FAILED || cmem == mem) {
            _exit(10);
        }
        munmap(mem, size + csize);
        cmap = bpf_map_attach(cmem, size);
        ccms = bpf_map_attach(cmem + size, csize);
        if (!cmap || !ccms) {
            _exit(11);
        }
        for (uint64_t k = 1; k < 4000; k += 2) {
            struct kv_value v = value_for(k);

            bad += bpf_map_update(cmap, &k, &v) != 0;
            bad += bpf_map_add(ccms, &e) != 0;
        }
        _exit(bad ? 12 : 0);
    }
    for (uint64_t k = 0; k < 4000; k += 2) {
        struct kv_value v = value_for(k);

        errors += bpf_map_update(map, &k, &v) != 0;
        errors += bpf_map_add(cms, &e) != 0;
    }
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_EQUAL(errors, 0);
    CU_ASSERT_EQUAL(bpf_map_count(map), 4000);
    for (uint64_t k = 0; k < 4000; k++) {
        struct kv_value *p = bpf_map_lookup(map, &k, NULL);

        errors += !p || p->key != k || p->check != value_for(k).check;
    }
    CU_ASSERT_EQUAL(errors, 0);
    CU_ASSERT_EQUAL(*(uint32_t *) bpf_map_lookup(cms, &e, &scratch), 4000);
    munmap(mem, size + csize);
    close(fd);
}

static const struct cu_test tests[] = {
    { "lookup3 reference values", test_lookup3_reference },
    { "lookup3 lengths, alignment, no overread", test_lookup3_lengths },
    { "definition checks", test_def_check },
    { "memory sizes", test_mem_size },
    { "create with an allocator", test_create_allocator },
    { "init on dirty memory", test_init_dirty },
    { "array", test_array },
    { "hash basics", test_hash_basic },
    { "hash key sizes", test_hash_key_sizes },
    { "hash churn against a model", test_hash_churn },
    { "hash slot reuse", test_hash_reuse },
    { "Bloom bit positions (OKO-ABI)", test_bloom_positions },
    { "Bloom filter", test_bloom },
    { "count-min positions (OKO-ABI)", test_cms_positions },
    { "count-min sketch", test_cms },
    { "count-min saturation", test_cms_saturation },
    { "attach at another address", test_attach_moved },
    { "attach rejects garbage", test_attach_rejects },
    { "hash from 4 threads", test_hash_threads },
    { "hash same-key insert race", test_hash_same_key_race },
    { "hash clear racing writers", test_hash_clear_race },
    { "sketches from 4 threads", test_sketch_threads },
    { "hash shared by two processes", test_hash_fork },
    { NULL, NULL }
};

CU_MAIN("maps", tests)
