/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * lookup3.c -- Bob Jenkins' lookup3 hashes hashlittle() and hashlittle2()
 * (public domain, 2006), written from the published algorithm.
 *
 * Filter programs and controllers compute the same hashes (OKO-ABI.md
 * section 2), so the results must equal the reference implementation's bit
 * for bit: hashlittle("", 0, 0) = 0xdeadbeef and
 * hashlittle("Four score and seven years ago", 30, 0) = 0x17770551.
 *
 * The reference reads the key a 32-bit word at a time when it is aligned,
 * including the word that holds the last bytes, i.e. it may read up to 3
 * bytes past the end of the key.  That is not allowed here (keys may end at
 * the end of a page, and the sanitizers check it), so every 32-bit word is
 * assembled from bytes; the compiler turns the assembly of a full word into
 * one unaligned load on little-endian machines.  The result is the same as
 * the reference's byte-at-a-time path, hence the same on every host.
 */
#include "oko_bpf.h"

#include <stddef.h>
#include <stdint.h>

#define ROT32(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

/* Mixes three 32-bit values reversibly. */
#define LOOKUP3_MIX(a, b, c)                        \
    do {                                            \
        a -= c; a ^= ROT32(c, 4);  c += b;          \
        b -= a; b ^= ROT32(a, 6);  a += c;          \
        c -= b; c ^= ROT32(b, 8);  b += a;          \
        a -= c; a ^= ROT32(c, 16); c += b;          \
        b -= a; b ^= ROT32(a, 19); a += c;          \
        c -= b; c ^= ROT32(b, 4);  b += a;          \
    } while (0)

/* Final mixing of three 32-bit values into c. */
#define LOOKUP3_FINAL(a, b, c)                      \
    do {                                            \
        c ^= b; c -= ROT32(b, 14);                  \
        a ^= c; a -= ROT32(c, 11);                  \
        b ^= a; b -= ROT32(a, 25);                  \
        c ^= b; c -= ROT32(b, 16);                  \
        a ^= c; a -= ROT32(c, 4);                   \
        b ^= a; b -= ROT32(a, 14);                  \
        c ^= b; c -= ROT32(b, 24);                  \
    } while (0)

/* Reads 4 bytes as a little-endian 32-bit value. */
static inline uint32_t
get_le32(const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}

/* The core of both hashes.  a, b, c hold the initial state; on return c is
 * the primary hash and b the secondary one. */
static void
lookup3(const uint8_t *k, size_t length, uint32_t *pa, uint32_t *pb,
        uint32_t *pc)
{
    uint32_t a = *pa, b = *pb, c = *pc;

    /* All but the last block: affect some 32 bits of (a, b, c). */
    while (length > 12) {
        a += get_le32(k);
        b += get_le32(k + 4);
        c += get_le32(k + 8);
        LOOKUP3_MIX(a, b, c);
        length -= 12;
        k += 12;
    }

    /* The last block: affect all 32 bits of (c).  Each case adds the bytes
     * it names and falls through to the lower ones. */
    switch (length) {
    case 12: c += (uint32_t) k[11] << 24; /* fall through */
    case 11: c += (uint32_t) k[10] << 16; /* fall through */
    case 10: c += (uint32_t) k[9] << 8;   /* fall through */
    case 9:  c += k[8];                   /* fall through */
    case 8:  b += (uint32_t) k[7] << 24;  /* fall through */
    case 7:  b += (uint32_t) k[6] << 16;  /* fall through */
    case 6:  b += (uint32_t) k[5] << 8;   /* fall through */
    case 5:  b += k[4];                   /* fall through */
    case 4:  a += (uint32_t) k[3] << 24;  /* fall through */
    case 3:  a += (uint32_t) k[2] << 16;  /* fall through */
    case 2:  a += (uint32_t) k[1] << 8;   /* fall through */
    case 1:  a += k[0];
        LOOKUP3_FINAL(a, b, c);
        break;
    case 0:
        /* Zero-length remainder: nothing left to add, no final mix. */
        break;
    }
    *pa = a;
    *pb = b;
    *pc = c;
}

/* Hashes length bytes at key with seed initval; returns the 32-bit hash.
 * This is lookup3's hashlittle(). */
uint32_t
bpf_hashlittle(const void *key, size_t length, uint32_t initval)
{
    uint32_t a, b, c;

    a = b = c = 0xdeadbeef + (uint32_t) length + initval;
    lookup3(key, length, &a, &b, &c);
    return c;
}

/* Hashes length bytes at key into two 32-bit values.  On entry *pc and *pb
 * are seeds (*pc the primary one); on return *pc is the primary hash (equal
 * to bpf_hashlittle(key, length, seed) when *pb was 0) and *pb the
 * secondary one.  This is lookup3's hashlittle2(). */
void
bpf_hashlittle2(const void *key, size_t length, uint32_t *pc, uint32_t *pb)
{
    uint32_t a, b, c;

    a = b = c = 0xdeadbeef + (uint32_t) length + *pc;
    c += *pb;
    lookup3(key, length, &a, &b, &c);
    *pc = c;
    *pb = b;
}
