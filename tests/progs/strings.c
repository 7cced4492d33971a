/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * strings.c -- loader test program: printf formats and a constant table
 * in read-only data.
 *
 * clang puts the string literals in a mergeable `.rodata.str1.1` section,
 * referenced through the section symbol with the offset in the lddw's
 * immediate, and the table in `.rodata`, referenced through its own
 * symbol.  The loader copies both into the program's read-only data.
 */
#include <oko_helpers.h>

/* A constant table, kept in .rodata and indexed at run time. */
static const oko_u32 ports[8] = { 22, 53, 80, 123, 443, 8080, 8443, 9999 };

/* The printf helper called by name: the prototype's alias. */
extern int ubpf_printf(const char *fmt, ...);

oko_u64
entry(void *pkt, oko_u64 len)
{
    const oko_u8 *p = pkt;

    /* oko_printf takes a format and exactly three integers. */
    oko_printf("hello from oko, len %d\n", (int) len, 0, 0);
    if (len < 14) {
        ubpf_printf("short frame: %d bytes\n", (int) len, 0, 0);
        return 0;
    }
    return ports[p[13] & 7] == len;
}
