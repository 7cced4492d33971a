/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * maps.c -- eBPF maps: array, hash, Bloom filter, count-min sketch.
 *
 * Layout.  A map is one contiguous block: a header (magic, version, the
 * definition, the name, the geometry derived from the definition, and the
 * live-entry counter on its own cache line) followed by 64-byte aligned
 * data.  There are no pointers inside, only offsets from the start of the
 * block, so the block may sit in shared memory mapped at a different
 * address in each process; bpf_map_attach() validates a block another
 * process formatted.  Values are 8-byte aligned so that programs may use
 * 64-bit atomic instructions on them.
 *
 *   array    max_entries values of round_up(value_size, 8) bytes.
 *   Bloom    a bit array of max_entries bits, in 64-bit words.
 *   count-   nb_hash_functions rows of max_entries u32 counters.
 *   min
 *   hash     open addressing with linear probing over nslots slots (the
 *            power of two >= 2 * max_entries): an array of slot metadata
 *            (struct hash_meta: a control word and a probe length) and an
 *            array of entries (key, then value, each rounded up to 8
 *            bytes).
 *
 * Concurrency model.  Every operation may run concurrently with every
 * other, from threads of one process and from different processes.  No
 * operation takes a lock or waits for another thread, so a process that dies
 * in the middle of an operation cannot block the others; the worst it can
 * leave behind is one hash slot that stays reserved (and counted) until
 * bpf_map_clear().
 *
 *   Array: values are read and written in place.  An update is a memcpy:
 *   a concurrent reader may see a value half-written (as in Linux).
 *
 *   Bloom: insertion sets bits with atomic OR; a lookup reads the bits.
 *
 *   Count-min: counters are incremented with a compare-and-swap loop that
 *   saturates at UINT32_MAX instead of wrapping (a wrapped counter would turn
 *   a heavy hitter into a light one); concurrent increments all count.
 *
 *   Hash: each slot has a 32-bit control word
 *
 *       bits 31..16  tag: the upper 16 bits of the key's hash
 *       bits 15..2   generation, incremented each time the slot is claimed
 *       bits  1..0   state: EMPTY, BUSY (claimed, key and value being
 *                    written) or FULL (published)
 *
 *   and a probe length: one more than the largest distance from this home
 *   slot at which a key hashing to it was ever placed (0: none), which only
 *   grows until bpf_map_clear().  Lookups probe home .. home + probe - 1 and
 *   stop there, so a deleted slot simply becomes EMPTY again: there are no
 *   tombstones to pile up.  Being a high-water mark, the probe length
 *   creeps up under churn, but only like the maximum of many small
 *   displacements: with 1M entries of a full map replaced 16 times over it
 *   went from 2.9 to 5.8 slots on average (one cache line of metadata),
 *   while live keys sat 1.3 slots from home.
 *
 *   A lookup loads the control word (acquire), compares tag and key, then
 *   re-reads the control word: if it changed (the slot was deleted or
 *   reused meanwhile) the comparison is redone, so a torn key never
 *   matches.  The value pointer it returns points into the map; if the key
 *   is deleted and its slot reused by another key while a caller still
 *   holds the pointer, the pointer then designates the other key's value
 *   (as with Linux's preallocated hash maps).
 *
 *   An update first looks the key up and, if found, copies the value in
 *   place (not atomic as a whole, like the array).  Otherwise it reserves
 *   one unit of the live-entry counter (-E2BIG if max_entries are already
 *   reserved), claims the first EMPTY slot from the home slot with a CAS to
 *   BUSY, writes key and value, raises the home's probe length, and
 *   publishes the slot with a sequentially consistent CAS to FULL.
 *
 *   Two writers inserting the same key at the same time may both miss each
 *   other and publish two copies.  Each writer therefore re-scans the
 *   key's probe range after publishing: of two FULL copies, the one farther
 *   from the home slot is removed, by whichever writer sees the pair.
 *   Because both writers publish before they scan (both sequentially
 *   consistent), at least the second one to publish sees the other copy, so
 *   once every writer has returned a key is present at most once.  While
 *   they run, a lookup may find either copy.  A writer never waits on a
 *   BUSY slot, so a dead writer cannot stall anyone.
 *
 *   A delete CASes every FULL copy of the key to EMPTY and decrements the
 *   counter once per slot it freed.  The counter counts FULL slots plus
 *   inserts in flight; at rest it equals the number of entries.  Because
 *   writers reserve before they know which copy of a key survives, an
 *   insert of a new key into a map within a few entries of max_entries may
 *   fail with -E2BIG while concurrent inserts of another key are still
 *   deduplicating (at most one unit per writer in flight).  An insert that
 *   finds the map full looks its key up again, so that it succeeds as an
 *   update if a racing insert of the same key has published meanwhile.
 *
 *   bpf_map_clear() resets every slot and the counter one after the other.
 *   It is not atomic with respect to concurrent writers: an insert running
 *   across a clear may be lost, or survive while the counter no longer
 *   counts it, until the next clear.
 *
 * The contents of shared memory are trusted no more than needed: every
 * index is reduced modulo the geometry checked at attach time and every
 * probe is bounded by the number of slots, so corrupted contents give
 * wrong answers, never an access outside the block or an endless loop.
 */
#include "bpf_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* "OKOMAP01" read as a little-endian u64; also rejects a block formatted
 * on a host of the other byte order. */
#define MAP_MAGIC   UINT64_C(0x313050414d4f4b4f)
/* Bumped whenever the layout of the block changes. */
#define MAP_VERSION 1u
/* Alignment of the block and of its data (one cache line). */
#define MAP_ALIGN   64u

#define ROUND_UP(x, a) (((x) + (a) - 1) / (a) * (a))

/* Geometry of a map, derived from its definition by map_layout(). */
struct map_layout {
    uint64_t mem_size;      /* bytes of the whole block */
    uint64_t data_off;      /* offset of the data from the block start */
    uint64_t nslots;        /* array: values; hash: slots (a power of two);
                             * Bloom: bits; count-min: counters per row */
    uint64_t stride;        /* array, hash: bytes per value / entry */
    uint64_t value_off;     /* hash: offset of the value in an entry */
    uint64_t entries_off;   /* hash: offset of the entries from the block */
};

/* The header at the start of every map block. */
struct bpf_map {
    uint64_t magic;             /* MAP_MAGIC, written last by init */
    uint32_t version;           /* MAP_VERSION */
    uint32_t hdr_size;          /* sizeof(struct bpf_map) */
    struct bpf_map_def def;
    uint32_t pad;
    char name[BPF_MAX_NAME];    /* NUL-terminated */
    struct map_layout layout;
    /* Hash: live entries plus inserts in flight.  Alone on its cache line
     * because every insert and delete writes it. */
    uint64_t count __attribute__((aligned(MAP_ALIGN)));
} __attribute__((aligned(MAP_ALIGN)));

/* Processes built separately share blocks: pin the header's layout. */
_Static_assert(sizeof(struct bpf_map) == 256, "map header is 256 bytes");
_Static_assert(offsetof(struct bpf_map, count) == 192,
               "map counter is on the header's last cache line");

/* Hash slot metadata. */
struct hash_meta {
    uint32_t ctrl;              /* tag | generation | state */
    uint32_t probe;             /* probe length of keys homed here */
};

#define SLOT_EMPTY 0u
#define SLOT_BUSY  1u
#define SLOT_FULL  2u
#define CTRL_STATE(c)  ((c) & 3u)
#define CTRL_GEN_MASK  0xfffcu
#define CTRL_GEN_ONE   4u
#define CTRL_TAG(c)    ((c) >> 16)

static uint32_t
ctrl_make(uint32_t tag, uint32_t gen_bits, uint32_t state)
{
    return tag << 16 | (gen_bits & CTRL_GEN_MASK) | state;
}

/* ---------------------------------------------------------------------
 * Definition and layout
 * ------------------------------------------------------------------- */

static const char *
map_type_name(uint32_t type)
{
    switch (type) {
    case BPF_MAP_ARRAY: return "array";
    case BPF_MAP_BLOOM: return "Bloom filter";
    case BPF_MAP_CMS:   return "count-min sketch";
    case BPF_MAP_HASH:  return "hash";
    default:            return "unknown";
    }
}

/* Computes the layout of a map whose definition passed the field checks.
 * With the limits of oko_bpf.h every product below stays under 2^43, so
 * 64-bit arithmetic cannot overflow. */
static void
map_layout(const struct bpf_map_def *def, struct map_layout *l)
{
    uint64_t hdr = ROUND_UP(sizeof(struct bpf_map), MAP_ALIGN);
    uint64_t data = 0;

    memset(l, 0, sizeof *l);
    l->data_off = hdr;
    l->nslots = def->max_entries;
    switch (def->type) {
    case BPF_MAP_ARRAY:
        l->stride = ROUND_UP((uint64_t) def->value_size, 8);
        data = l->nslots * l->stride;
        break;
    case BPF_MAP_BLOOM:
        data = (l->nslots + 63) / 64 * sizeof(uint64_t);
        break;
    case BPF_MAP_CMS:
        data = (uint64_t) def->nb_hash_functions * l->nslots
               * sizeof(uint32_t);
        break;
    case BPF_MAP_HASH:
        /* At most half full, so that linear probes stay short. */
        l->nslots = 2;
        while (l->nslots < 2 * (uint64_t) def->max_entries) {
            l->nslots <<= 1;
        }
        l->value_off = ROUND_UP((uint64_t) def->key_size, 8);
        l->stride = l->value_off + ROUND_UP((uint64_t) def->value_size, 8);
        l->entries_off = hdr + ROUND_UP(l->nslots * sizeof(struct hash_meta),
                                        MAP_ALIGN);
        data = l->entries_off - hdr + l->nslots * l->stride;
        break;
    }
    l->mem_size = ROUND_UP(hdr + data, MAP_ALIGN);
}

/* Checks a map definition: returns 0, or -EINVAL with a message in err
 * naming the bad field. */
int
bpf_map_def_check(const struct bpf_map_def *def, char *err, size_t errlen)
{
    struct map_layout l;

    if (!def) {
        return bpf_set_err(err, errlen, EINVAL, "map definition missing");
    }
    if (def->type < BPF_MAP_ARRAY || def->type > BPF_MAP_HASH) {
        return bpf_set_err(err, errlen, EINVAL, "map type %"PRIu32" unknown",
                           def->type);
    }
    if (def->key_size == 0) {
        return bpf_set_err(err, errlen, EINVAL,
                           "key_size 0 must be non-zero");
    }
    if (def->key_size > BPF_MAP_MAX_KEY_SIZE) {
        return bpf_set_err(err, errlen, EINVAL,
                           "key_size %"PRIu32" exceeds the limit %d",
                           def->key_size, BPF_MAP_MAX_KEY_SIZE);
    }
    if (def->value_size == 0) {
        return bpf_set_err(err, errlen, EINVAL,
                           "value_size 0 must be non-zero");
    }
    if (def->value_size > BPF_MAP_MAX_VALUE_SIZE) {
        return bpf_set_err(err, errlen, EINVAL,
                           "value_size %"PRIu32" exceeds the limit %d",
                           def->value_size, BPF_MAP_MAX_VALUE_SIZE);
    }
    if (def->max_entries == 0) {
        return bpf_set_err(err, errlen, EINVAL,
                           "max_entries 0 must be non-zero");
    }
    if (def->max_entries > BPF_MAP_MAX_ENTRIES) {
        return bpf_set_err(err, errlen, EINVAL,
                           "max_entries %"PRIu32" exceeds the limit %u",
                           def->max_entries, BPF_MAP_MAX_ENTRIES);
    }
    switch (def->type) {
    case BPF_MAP_ARRAY:
        if (def->key_size != sizeof(uint32_t)) {
            return bpf_set_err(err, errlen, EINVAL,
                               "key_size %"PRIu32" of an array map must be "
                               "4 (a u32 index)", def->key_size);
        }
        break;
    case BPF_MAP_BLOOM:
    case BPF_MAP_CMS:
        if (def->key_size != def->value_size) {
            return bpf_set_err(err, errlen, EINVAL,
                               "key_size %"PRIu32" of a %s must equal "
                               "value_size %"PRIu32" (the element size)",
                               def->key_size, map_type_name(def->type),
                               def->value_size);
        }
        if (def->nb_hash_functions < 1
            || def->nb_hash_functions > BPF_MAP_MAX_HASH_FUNCS) {
            return bpf_set_err(err, errlen, EINVAL,
                               "nb_hash_functions %"PRIu32" of a %s must be "
                               "between 1 and %d", def->nb_hash_functions,
                               map_type_name(def->type),
                               BPF_MAP_MAX_HASH_FUNCS);
        }
        break;
    default:
        /* Array and hash maps have no hash functions; the prototype's
         * programs leave anything in nb_hash_functions, so it is ignored. */
        break;
    }
    map_layout(def, &l);
    if (l.mem_size > BPF_MAP_MAX_BYTES || l.mem_size > SIZE_MAX) {
        return bpf_set_err(err, errlen, EINVAL,
                           "%s map of max_entries %"PRIu32", key_size "
                           "%"PRIu32", value_size %"PRIu32" needs %"PRIu64
                           " bytes, more than the limit %llu",
                           map_type_name(def->type), def->max_entries,
                           def->key_size, def->value_size, l.mem_size,
                           BPF_MAP_MAX_BYTES);
    }
    return 0;
}

/* Returns the number of bytes a map with definition def occupies (a
 * multiple of 64), or 0 if def is invalid. */
size_t
bpf_map_mem_size(const struct bpf_map_def *def)
{
    struct map_layout l;

    if (bpf_map_def_check(def, NULL, 0) < 0) {
        return 0;
    }
    map_layout(def, &l);
    return l.mem_size;
}

/* ---------------------------------------------------------------------
 * Creation and attachment
 * ------------------------------------------------------------------- */

/* Formats a map in mem (size bytes, 64-byte aligned, zeroed or not) for
 * definition def and name (NULL = "", at most BPF_MAX_NAME - 1 bytes).
 * Returns mem as a map, or NULL with errno = EINVAL (bad definition, size
 * or alignment) or ENAMETOOLONG. */
struct bpf_map *
bpf_map_init(void *mem, size_t size, const struct bpf_map_def *def,
             const char *name)
{
    struct bpf_map *map = mem;
    struct map_layout l;
    size_t name_len;

    if (!mem || (uintptr_t) mem % MAP_ALIGN
        || bpf_map_def_check(def, NULL, 0) < 0) {
        errno = EINVAL;
        return NULL;
    }
    map_layout(def, &l);
    if (size < l.mem_size) {
        errno = EINVAL;
        return NULL;
    }
    if (!name) {
        name = "";
    }
    name_len = strnlen(name, BPF_MAX_NAME);
    if (name_len >= BPF_MAX_NAME) {
        errno = ENAMETOOLONG;
        return NULL;
    }

    /* Clear the magic first, so that an attacher never sees a valid magic
     * in front of a half-formatted block. */
    __atomic_store_n(&map->magic, 0, __ATOMIC_RELEASE);
    memset((uint8_t *) mem + sizeof map->magic, 0,
           l.mem_size - sizeof map->magic);
    map->version = MAP_VERSION;
    map->hdr_size = sizeof *map;
    map->def = *def;
    memcpy(map->name, name, name_len);
    map->layout = l;
    __atomic_store_n(&map->magic, MAP_MAGIC, __ATOMIC_RELEASE);
    return map;
}

/* Validates the block of size bytes at mem as a map formatted by
 * bpf_map_init(), possibly in another process at another address: magic,
 * version, definition, name, geometry and size.  Returns the map, or NULL
 * with errno = EINVAL. */
struct bpf_map *
bpf_map_attach(void *mem, size_t size)
{
    struct bpf_map *map = mem;
    struct bpf_map_def def;
    struct map_layout l, stored;

    if (!mem || (uintptr_t) mem % MAP_ALIGN || size < sizeof *map
        || __atomic_load_n(&map->magic, __ATOMIC_ACQUIRE) != MAP_MAGIC
        || map->version != MAP_VERSION || map->hdr_size != sizeof *map) {
        goto invalid;
    }
    def = map->def;
    if (bpf_map_def_check(&def, NULL, 0) < 0
        || !memchr(map->name, '\0', sizeof map->name)) {
        goto invalid;
    }
    map_layout(&def, &l);
    stored = map->layout;
    if (memcmp(&l, &stored, sizeof l) || l.mem_size > size) {
        goto invalid;
    }
    return map;

invalid:
    errno = EINVAL;
    return NULL;
}

/* Allocates a map through a (NULL: the C library, 64-byte aligned) and
 * formats it.  Returns the map, or NULL with errno = EINVAL (bad
 * definition), ENAMETOOLONG or ENOMEM.  The caller frees it with
 * bpf_map_destroy() and the same allocator. */
struct bpf_map *
bpf_map_create(const struct bpf_map_def *def, const char *name,
               const struct bpf_allocator *a)
{
    struct bpf_map *map;
    size_t size;
    void *mem;
    int error;

    size = bpf_map_mem_size(def);
    if (!size) {
        errno = EINVAL;
        return NULL;
    }
    if (name && strnlen(name, BPF_MAX_NAME) >= BPF_MAX_NAME) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    if (a && a->alloc) {
        mem = a->alloc(a->ctx, name ? name : "", size, MAP_ALIGN);
    } else if (posix_memalign(&mem, MAP_ALIGN, size)) {
        mem = NULL;
    }
    if (!mem) {
        errno = ENOMEM;
        return NULL;
    }
    map = bpf_map_init(mem, size, def, name);
    if (!map) {
        error = errno;
        goto error_free;
    }
    return map;

error_free:
    if (a && a->alloc) {
        if (a->free) {
            a->free(a->ctx, mem);
        }
    } else {
        free(mem);
    }
    errno = error;
    return NULL;
}

/* Frees map (NULL is allowed), which bpf_map_create() allocated through
 * the same allocator a. */
void
bpf_map_destroy(struct bpf_map *map, const struct bpf_allocator *a)
{
    if (!map) {
        return;
    }
    if (a && a->alloc) {
        if (a->free) {
            a->free(a->ctx, map);
        }
    } else {
        free(map);
    }
}

/* Returns the map's definition (inside the map), or NULL for a NULL
 * map. */
const struct bpf_map_def *
bpf_map_get_def(const struct bpf_map *map)
{
    return map ? &map->def : NULL;
}

/* Returns the map's name (inside the map, NUL-terminated), or "" for a
 * NULL map. */
const char *
bpf_map_get_name(const struct bpf_map *map)
{
    return map ? map->name : "";
}

/* Returns the bytes of scratch space bpf_map_lookup() needs: the element
 * for a Bloom filter, a u32 for a count-min sketch, none otherwise. */
size_t
bpf_map_scratch_size(const struct bpf_map *map)
{
    if (!map) {
        return 0;
    }
    switch (map->def.type) {
    case BPF_MAP_BLOOM:
        return map->def.value_size;
    case BPF_MAP_CMS:
        return sizeof(uint32_t);
    default:
        return 0;
    }
}

static uint8_t *
map_data(const struct bpf_map *map)
{
    return (uint8_t *) map + map->layout.data_off;
}

/* ---------------------------------------------------------------------
 * Array
 * ------------------------------------------------------------------- */

/* Returns the value of the index in key, or NULL if out of range. */
static void *
array_value(struct bpf_map *map, const void *key)
{
    uint32_t idx;

    memcpy(&idx, key, sizeof idx);
    if (idx >= map->layout.nslots) {
        return NULL;
    }
    return map_data(map) + idx * map->layout.stride;
}

/* ---------------------------------------------------------------------
 * Bloom filter and count-min sketch
 * ------------------------------------------------------------------- */

/* Hash function i of an element is (h1 + i * h2) mod max_entries, in u32
 * arithmetic (OKO-ABI.md section 2). */
struct sketch_hash {
    uint32_t h1, h2;
};

static struct sketch_hash
sketch_hash(const struct bpf_map *map, const void *elem)
{
    struct sketch_hash sh;

    if (map->def.nb_hash_functions <= 1) {
        sh.h1 = bpf_hashlittle(elem, map->def.value_size, 0);
        sh.h2 = 0;
    } else {
        sh.h1 = 0;
        sh.h2 = 0;
        bpf_hashlittle2(elem, map->def.value_size, &sh.h1, &sh.h2);
    }
    return sh;
}

static uint64_t
sketch_index(const struct bpf_map *map, const struct sketch_hash *sh,
             uint32_t i)
{
    return (uint32_t) (sh->h1 + i * sh->h2) % map->layout.nslots;
}

static uint64_t *
bloom_bits(const struct bpf_map *map)
{
    return (uint64_t *) map_data(map);
}

static uint32_t *
cms_counters(const struct bpf_map *map)
{
    return (uint32_t *) map_data(map);
}

static void *
bloom_lookup(struct bpf_map *map, const void *elem, void *scratch)
{
    uint64_t *bits = bloom_bits(map);
    struct sketch_hash sh = sketch_hash(map, elem);

    for (uint32_t i = 0; i < map->def.nb_hash_functions; i++) {
        uint64_t idx = sketch_index(map, &sh, i);
        uint64_t w = __atomic_load_n(&bits[idx / 64], __ATOMIC_RELAXED);

        if (!(w & (UINT64_C(1) << (idx % 64)))) {
            return NULL;
        }
    }
    memmove(scratch, elem, map->def.value_size);
    return scratch;
}

static void
bloom_add(struct bpf_map *map, const void *elem)
{
    uint64_t *bits = bloom_bits(map);
    struct sketch_hash sh = sketch_hash(map, elem);

    for (uint32_t i = 0; i < map->def.nb_hash_functions; i++) {
        uint64_t idx = sketch_index(map, &sh, i);
        uint64_t bit = UINT64_C(1) << (idx % 64);

        /* Skip the locked write when the bit is already set: common for a
         * filter that has seen the element before. */
        if (!(__atomic_load_n(&bits[idx / 64], __ATOMIC_RELAXED) & bit)) {
            __atomic_fetch_or(&bits[idx / 64], bit, __ATOMIC_RELAXED);
        }
    }
}

static void *
cms_lookup(struct bpf_map *map, const void *elem, void *scratch)
{
    uint32_t *ctr = cms_counters(map);
    struct sketch_hash sh = sketch_hash(map, elem);
    uint32_t min = UINT32_MAX;

    for (uint32_t i = 0; i < map->def.nb_hash_functions; i++) {
        uint64_t col = sketch_index(map, &sh, i);
        uint32_t v = __atomic_load_n(&ctr[i * map->layout.nslots + col],
                                     __ATOMIC_RELAXED);

        if (v < min) {
            min = v;
        }
    }
    memcpy(scratch, &min, sizeof min);
    return scratch;
}

static void
cms_add(struct bpf_map *map, const void *elem)
{
    uint32_t *ctr = cms_counters(map);
    struct sketch_hash sh = sketch_hash(map, elem);

    for (uint32_t i = 0; i < map->def.nb_hash_functions; i++) {
        uint32_t *p = &ctr[i * map->layout.nslots
                           + sketch_index(map, &sh, i)];
        uint32_t v = __atomic_load_n(p, __ATOMIC_RELAXED);

        /* Saturate rather than wrap. */
        while (v != UINT32_MAX
               && !__atomic_compare_exchange_n(p, &v, v + 1, true,
                                               __ATOMIC_RELAXED,
                                               __ATOMIC_RELAXED)) {
            continue;
        }
    }
}

/* ---------------------------------------------------------------------
 * Hash
 * ------------------------------------------------------------------- */

/* What a hash operation needs, read once from the header. */
struct hash_ctx {
    struct bpf_map *map;
    struct hash_meta *meta;
    uint8_t *entries;
    uint64_t nslots;
    uint64_t mask;
    uint64_t stride;
    uint64_t value_off;
    uint32_t key_size;
    uint32_t value_size;
    /* Of the key being operated on. */
    uint64_t home;
    uint32_t tag;
};

static void
hash_ctx_init(struct hash_ctx *hc, struct bpf_map *map, const void *key)
{
    uint32_t h;

    hc->map = map;
    hc->meta = (struct hash_meta *) map_data(map);
    hc->entries = (uint8_t *) map + map->layout.entries_off;
    hc->nslots = map->layout.nslots;
    hc->mask = hc->nslots - 1;
    hc->stride = map->layout.stride;
    hc->value_off = map->layout.value_off;
    hc->key_size = map->def.key_size;
    hc->value_size = map->def.value_size;
    if (key) {
        h = bpf_hashlittle(key, hc->key_size, 0);
        hc->home = h & hc->mask;
        hc->tag = h >> 16;
    } else {
        hc->home = 0;
        hc->tag = 0;
    }
}

static uint8_t *
hash_key(const struct hash_ctx *hc, uint64_t slot)
{
    return hc->entries + slot * hc->stride;
}

static uint8_t *
hash_value(const struct hash_ctx *hc, uint64_t slot)
{
    return hc->entries + slot * hc->stride + hc->value_off;
}

/* Number of slots to probe from the key's home, bounded by the table. */
static uint64_t
hash_probe_len(const struct hash_ctx *hc)
{
    uint64_t n = __atomic_load_n(&hc->meta[hc->home].probe, __ATOMIC_ACQUIRE);

    return n < hc->nslots ? n : hc->nslots;
}

/* Returns true if slot holds the key (FULL, same tag, same bytes), and
 * stores in *ctrlp the control word under which the match was seen.  The
 * control word is re-read after the comparison, so a slot deleted or
 * reused meanwhile is never reported on the strength of a torn key. */
static bool
hash_slot_match(const struct hash_ctx *hc, uint64_t slot, const void *key,
                uint32_t *ctrlp)
{
    uint32_t *ctrl = &hc->meta[slot].ctrl;
    uint32_t c = __atomic_load_n(ctrl, __ATOMIC_ACQUIRE);

    for (;;) {
        uint32_t c2;
        bool eq;

        if (CTRL_STATE(c) != SLOT_FULL || CTRL_TAG(c) != hc->tag) {
            return false;
        }
        eq = !memcmp(hash_key(hc, slot), key, hc->key_size);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        c2 = __atomic_load_n(ctrl, __ATOMIC_RELAXED);
        if (c2 == c) {
            *ctrlp = c;
            return eq;
        }
        /* Changed under us: the slot was freed or reused.  Look again. */
        c = __atomic_load_n(ctrl, __ATOMIC_ACQUIRE);
    }
}

/* Finds the key's first copy; returns its slot or -1. */
static int64_t
hash_find(const struct hash_ctx *hc, const void *key)
{
    uint64_t n = hash_probe_len(hc);

    for (uint64_t d = 0; d < n; d++) {
        uint64_t slot = (hc->home + d) & hc->mask;
        uint32_t c;

        if (hash_slot_match(hc, slot, key, &c)) {
            return slot;
        }
    }
    return -1;
}

/* Reserves one unit of the live-entry counter; false if max_entries are
 * already reserved. */
static bool
hash_count_reserve(struct bpf_map *map)
{
    uint64_t n = __atomic_load_n(&map->count, __ATOMIC_RELAXED);

    do {
        if (n >= map->def.max_entries) {
            return false;
        }
    } while (!__atomic_compare_exchange_n(&map->count, &n, n + 1, true,
                                          __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    return true;
}

/* Returns one unit to the counter.  Never goes below 0, which only a
 * bpf_map_clear() racing with writers could otherwise cause. */
static void
hash_count_release(struct bpf_map *map)
{
    uint64_t n = __atomic_load_n(&map->count, __ATOMIC_RELAXED);

    do {
        if (n == 0) {
            return;
        }
    } while (!__atomic_compare_exchange_n(&map->count, &n, n - 1, true,
                                          __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
}

/* Frees slot if its control word is still c (FULL).  Returns true if this
 * call freed it. */
static bool
hash_slot_free(const struct hash_ctx *hc, uint64_t slot, uint32_t c)
{
    if (!__atomic_compare_exchange_n(&hc->meta[slot].ctrl, &c,
                                     c & CTRL_GEN_MASK, false,
                                     __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
        return false;
    }
    hash_count_release(hc->map);
    return true;
}

/* Raises the probe length of the home slot to at least len. */
static void
hash_raise_probe(const struct hash_ctx *hc, uint32_t len)
{
    uint32_t *p = &hc->meta[hc->home].probe;
    uint32_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);

    while (cur < len
           && !__atomic_compare_exchange_n(p, &cur, len, true,
                                           __ATOMIC_SEQ_CST,
                                           __ATOMIC_RELAXED)) {
        continue;
    }
}

/* After publishing the key in slot at distance dist from its home, removes
 * any duplicate a concurrent writer of the same key published: of each
 * pair, the copy farther from home goes. */
static void
hash_dedup(const struct hash_ctx *hc, const void *key, uint64_t slot,
           uint64_t dist, uint32_t ctrl)
{
    uint64_t n;

    /* Order our publication before the loads of the scan (see the
     * concurrency model at the top of the file). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    n = hash_probe_len(hc);
    for (uint64_t d = 0; d < n; d++) {
        uint64_t other = (hc->home + d) & hc->mask;
        uint32_t c;

        if (other == slot || !hash_slot_match(hc, other, key, &c)) {
            continue;
        }
        if (d > dist) {
            hash_slot_free(hc, other, c);
        } else {
            hash_slot_free(hc, slot, ctrl);
            return;
        }
    }
}

static int
hash_update(struct bpf_map *map, const void *key, const void *value)
{
    struct hash_ctx hc;
    uint32_t c, busy, full;
    int64_t found;
    uint64_t d, slot;

    hash_ctx_init(&hc, map, key);
    found = hash_find(&hc, key);
    if (found >= 0) {
        memmove(hash_value(&hc, found), value, hc.value_size);
        return 0;
    }

    if (!hash_count_reserve(map)) {
        /* Full, or a concurrent insert of this very key (several cores
         * seeing a new flow at once) took the last unit: that one is an
         * update then. */
        found = hash_find(&hc, key);
        if (found >= 0) {
            memmove(hash_value(&hc, found), value, hc.value_size);
            return 0;
        }
        return -E2BIG;
    }
    /* Claim the first EMPTY slot from home.  The reservation guarantees
     * that at most max_entries <= nslots / 2 slots are in use. */
    for (d = 0; d < hc.nslots; d++) {
        slot = (hc.home + d) & hc.mask;
        c = __atomic_load_n(&hc.meta[slot].ctrl, __ATOMIC_RELAXED);
        if (CTRL_STATE(c) != SLOT_EMPTY) {
            continue;
        }
        busy = ctrl_make(hc.tag, c + CTRL_GEN_ONE, SLOT_BUSY);
        if (__atomic_compare_exchange_n(&hc.meta[slot].ctrl, &c, busy, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
            goto claimed;
        }
    }
    /* Only reachable if the table changed under us all the way round. */
    hash_count_release(map);
    return -E2BIG;

claimed:
    /* A reader that sees the new key bytes must also see the new control
     * word (the writer side of the seqlock-like check in
     * hash_slot_match()). */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memmove(hash_key(&hc, slot), key, hc.key_size);
    memmove(hash_value(&hc, slot), value, hc.value_size);
    hash_raise_probe(&hc, d + 1);
    full = (busy & ~3u) | SLOT_FULL;
    if (!__atomic_compare_exchange_n(&hc.meta[slot].ctrl, &busy, full, false,
                                     __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
        /* bpf_map_clear() reset the slot (and the counter) meanwhile: the
         * insert is ordered before the clear. */
        return 0;
    }
    hash_dedup(&hc, key, slot, d, full);
    return 0;
}

static int
hash_delete(struct bpf_map *map, const void *key)
{
    struct hash_ctx hc;
    bool freed = false;
    uint64_t n;

    hash_ctx_init(&hc, map, key);
    n = hash_probe_len(&hc);
    /* Free every copy: two may exist while concurrent inserts of the key
     * have not finished deduplicating. */
    for (uint64_t d = 0; d < n; d++) {
        uint64_t slot = (hc.home + d) & hc.mask;
        uint32_t c;

        while (hash_slot_match(&hc, slot, key, &c)) {
            if (hash_slot_free(&hc, slot, c)) {
                freed = true;
                break;
            }
        }
    }
    return freed ? 0 : -ENOENT;
}

static void
hash_clear(struct bpf_map *map)
{
    struct hash_ctx hc;

    hash_ctx_init(&hc, map, NULL);
    for (uint64_t s = 0; s < hc.nslots; s++) {
        uint32_t c = __atomic_load_n(&hc.meta[s].ctrl, __ATOMIC_RELAXED);

        /* Keep the generation so that readers' checks still see a change. */
        while (!__atomic_compare_exchange_n(&hc.meta[s].ctrl, &c,
                                            ((c & CTRL_GEN_MASK) + CTRL_GEN_ONE)
                                            & CTRL_GEN_MASK,
                                            true, __ATOMIC_RELEASE,
                                            __ATOMIC_RELAXED)) {
            continue;
        }
        __atomic_store_n(&hc.meta[s].probe, 0, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&map->count, 0, __ATOMIC_SEQ_CST);
}

static int
hash_next(struct bpf_map *map, uint64_t *cursor, void *key_out,
          void *value_out)
{
    struct hash_ctx hc;

    hash_ctx_init(&hc, map, NULL);
    for (uint64_t s = *cursor; s < hc.nslots; s++) {
        uint32_t *ctrl = &hc.meta[s].ctrl;
        uint32_t c = __atomic_load_n(ctrl, __ATOMIC_ACQUIRE);

        while (CTRL_STATE(c) == SLOT_FULL) {
            uint32_t c2;

            if (key_out) {
                memcpy(key_out, hash_key(&hc, s), hc.key_size);
            }
            if (value_out) {
                memcpy(value_out, hash_value(&hc, s), hc.value_size);
            }
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            c2 = __atomic_load_n(ctrl, __ATOMIC_RELAXED);
            if (c2 == c) {
                *cursor = s + 1;
                return 1;
            }
            c = __atomic_load_n(ctrl, __ATOMIC_ACQUIRE);
        }
    }
    *cursor = hc.nslots;
    return 0;
}

/* ---------------------------------------------------------------------
 * Operations
 * ------------------------------------------------------------------- */

/* Looks key up (see oko_bpf.h).  Array and hash: returns a pointer to the
 * value inside the map.  Bloom: returns scratch holding a copy of the
 * element if every one of its bits is set.  Count-min: returns scratch
 * holding the u32 estimate (the minimum over the rows).  Returns NULL if
 * absent, or if an argument is NULL. */
void *
bpf_map_lookup(struct bpf_map *map, const void *key, void *scratch)
{
    struct hash_ctx hc;
    int64_t slot;

    if (!map || !key) {
        return NULL;
    }
    switch (map->def.type) {
    case BPF_MAP_ARRAY:
        return array_value(map, key);
    case BPF_MAP_HASH:
        hash_ctx_init(&hc, map, key);
        slot = hash_find(&hc, key);
        return slot >= 0 ? hash_value(&hc, slot) : NULL;
    case BPF_MAP_BLOOM:
        return scratch ? bloom_lookup(map, key, scratch) : NULL;
    case BPF_MAP_CMS:
        return scratch ? cms_lookup(map, key, scratch) : NULL;
    default:
        return NULL;
    }
}

/* Inserts or replaces key's value (array, hash).  Returns 0; -E2BIG if a
 * hash map already holds max_entries other keys; -EINVAL for an array
 * index out of range, a Bloom or count-min map, or a NULL argument. */
int
bpf_map_update(struct bpf_map *map, const void *key, const void *value)
{
    void *dst;

    if (!map || !key || !value) {
        return -EINVAL;
    }
    switch (map->def.type) {
    case BPF_MAP_ARRAY:
        dst = array_value(map, key);
        if (!dst) {
            return -EINVAL;
        }
        memmove(dst, value, map->def.value_size);
        return 0;
    case BPF_MAP_HASH:
        return hash_update(map, key, value);
    default:
        return -EINVAL;
    }
}

/* Removes key: returns 0, or -ENOENT if absent (hash) or out of range
 * (array, whose values are zeroed instead of removed).  -EINVAL for a
 * Bloom or count-min map or a NULL argument. */
int
bpf_map_delete(struct bpf_map *map, const void *key)
{
    void *dst;

    if (!map || !key) {
        return -EINVAL;
    }
    switch (map->def.type) {
    case BPF_MAP_ARRAY:
        dst = array_value(map, key);
        if (!dst) {
            return -ENOENT;
        }
        memset(dst, 0, map->def.value_size);
        return 0;
    case BPF_MAP_HASH:
        return hash_delete(map, key);
    default:
        return -EINVAL;
    }
}

/* Bloom: inserts elem (value_size bytes).  Count-min: increments elem's
 * counters, saturating at UINT32_MAX.  Returns 0, or -EINVAL for other map
 * types or a NULL argument. */
int
bpf_map_add(struct bpf_map *map, const void *elem)
{
    if (!map || !elem) {
        return -EINVAL;
    }
    switch (map->def.type) {
    case BPF_MAP_BLOOM:
        bloom_add(map, elem);
        return 0;
    case BPF_MAP_CMS:
        cms_add(map, elem);
        return 0;
    default:
        return -EINVAL;
    }
}

/* Empties the map: array values and sketch counters are zeroed, hash
 * entries removed.  Not atomic with respect to concurrent writers (see the
 * concurrency model above).  Returns 0, or -EINVAL for a NULL map. */
int
bpf_map_clear(struct bpf_map *map)
{
    if (!map) {
        return -EINVAL;
    }
    switch (map->def.type) {
    case BPF_MAP_HASH:
        hash_clear(map);
        break;
    case BPF_MAP_BLOOM: {
        uint64_t *bits = bloom_bits(map);

        for (uint64_t i = 0; i < (map->layout.nslots + 63) / 64; i++) {
            __atomic_store_n(&bits[i], 0, __ATOMIC_RELAXED);
        }
        break;
    }
    case BPF_MAP_CMS: {
        uint32_t *ctr = cms_counters(map);
        uint64_t n = map->layout.nslots * map->def.nb_hash_functions;

        for (uint64_t i = 0; i < n; i++) {
            __atomic_store_n(&ctr[i], 0, __ATOMIC_RELAXED);
        }
        break;
    }
    default:
        memset(map_data(map), 0, map->layout.nslots * map->layout.stride);
        break;
    }
    return 0;
}

/* Returns the number of live entries: hash, the entries (plus inserts in
 * flight); array, max_entries; Bloom, the bits set; count-min, the total
 * of row 0 (the number of additions, unless a counter saturated). */
uint64_t
bpf_map_count(const struct bpf_map *map)
{
    uint64_t n = 0;

    if (!map) {
        return 0;
    }
    switch (map->def.type) {
    case BPF_MAP_HASH:
        return __atomic_load_n(&map->count, __ATOMIC_RELAXED);
    case BPF_MAP_BLOOM: {
        const uint64_t *bits = bloom_bits(map);

        for (uint64_t i = 0; i < (map->layout.nslots + 63) / 64; i++) {
            n += __builtin_popcountll(__atomic_load_n(&bits[i],
                                                      __ATOMIC_RELAXED));
        }
        return n;
    }
    case BPF_MAP_CMS: {
        const uint32_t *ctr = cms_counters(map);

        for (uint64_t i = 0; i < map->layout.nslots; i++) {
            n += __atomic_load_n(&ctr[i], __ATOMIC_RELAXED);
        }
        return n;
    }
    default:
        return map->layout.nslots;
    }
}

/* Iterates over the map (see oko_bpf.h); *cursor starts at 0 and is
 * advanced past the entry returned.  key_out or value_out may be NULL to
 * skip the copy.  Array: key = u32 index, value = the value, for every
 * index.  Hash: every live entry.  Bloom: key = u32 index of each set bit
 * (key_out must hold 4 bytes whatever the element size); value_out is
 * not written.  Count-min: key = u32 (row << 24 | column), value = u32
 * count of each non-zero counter (both must hold 4 bytes).  Returns 1
 * with an entry, 0 at the end (or for a NULL map or cursor). */
int
bpf_map_next(struct bpf_map *map, uint64_t *cursor, void *key_out,
             void *value_out)
{
    uint64_t i;

    if (!map || !cursor) {
        return 0;
    }
    switch (map->def.type) {
    case BPF_MAP_HASH:
        return hash_next(map, cursor, key_out, value_out);
    case BPF_MAP_ARRAY:
        i = *cursor;
        if (i >= map->layout.nslots) {
            *cursor = map->layout.nslots;
            return 0;
        }
        if (key_out) {
            uint32_t idx = i;

            memcpy(key_out, &idx, sizeof idx);
        }
        if (value_out) {
            memcpy(value_out, map_data(map) + i * map->layout.stride,
                   map->def.value_size);
        }
        *cursor = i + 1;
        return 1;
    case BPF_MAP_BLOOM: {
        const uint64_t *bits = bloom_bits(map);

        for (i = *cursor; i < map->layout.nslots; i++) {
            uint64_t w = __atomic_load_n(&bits[i / 64], __ATOMIC_RELAXED)
                         >> (i % 64);

            if (!w) {
                /* Nothing more in this word: go to the next one. */
                i |= 63;
                continue;
            }
            i += __builtin_ctzll(w);
            if (i >= map->layout.nslots) {
                break;
            }
            if (key_out) {
                uint32_t idx = i;

                memcpy(key_out, &idx, sizeof idx);
            }
            *cursor = i + 1;
            return 1;
        }
        *cursor = map->layout.nslots;
        return 0;
    }
    case BPF_MAP_CMS: {
        const uint32_t *ctr = cms_counters(map);
        uint64_t m = map->layout.nslots;
        uint64_t n = m * map->def.nb_hash_functions;

        for (i = *cursor; i < n; i++) {
            uint32_t v = __atomic_load_n(&ctr[i], __ATOMIC_RELAXED);

            if (v) {
                uint32_t key = (uint32_t) (i / m) << 24 | (uint32_t) (i % m);

                if (key_out) {
                    memcpy(key_out, &key, sizeof key);
                }
                if (value_out) {
                    memcpy(value_out, &v, sizeof v);
                }
                *cursor = i + 1;
                return 1;
            }
        }
        *cursor = n;
        return 0;
    }
    default:
        return 0;
    }
}
