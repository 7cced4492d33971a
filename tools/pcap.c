/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * pcap.c -- classic pcap reader (see pcap.h).  The format: a 24-byte file
 * header (magic, version 2.4, thiszone, sigfigs, snaplen, link type) then
 * records, each a 16-byte header (seconds, micro- or nanoseconds, captured
 * length, original length) followed by the captured bytes.  The magic
 * number's byte order gives the byte order of every other field.
 */
#include "pcap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAPNG_MAGIC    0x0a0d0d0au   /* section header block type */
#define PCAP_FILE_HDR_LEN 24
#define PCAP_REC_HDR_LEN  16

struct oko_pcap {
    FILE *f;
    char *path;
    bool swap;              /* file byte order differs from ours */
    bool nsec;              /* timestamps in nanoseconds */
    uint32_t snaplen;
    uint64_t nrecords;      /* records read so far */
    uint8_t *buf;
    size_t bufsize;
};

static int pcap_err(char *err, size_t errlen, int errnum, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

static int
pcap_err(char *err, size_t errlen, int errnum, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -errnum;
}

/* Reads a header field: in the writer's byte order, which is ours unless
 * the magic number came swapped. */
static uint32_t
get32(const struct oko_pcap *p, const uint8_t *b)
{
    uint32_t v;

    memcpy(&v, b, sizeof v);
    return p->swap ? __builtin_bswap32(v) : v;
}

static uint16_t
get16(const struct oko_pcap *p, const uint8_t *b)
{
    uint16_t v;

    memcpy(&v, b, sizeof v);
    return p->swap ? __builtin_bswap16(v) : v;
}

/* Reads exactly n bytes.  Returns n, a short count at end of file, or -1 on
 * a read error. */
static ssize_t
read_full(FILE *f, void *buf, size_t n)
{
    size_t got = fread(buf, 1, n, f);

    if (got < n && ferror(f)) {
        return -1;
    }
    return (ssize_t) got;
}

/* Opens and checks a pcap file; see pcap.h. */
int
oko_pcap_open(const char *path, struct oko_pcap **pcapp, char *err,
              size_t errlen)
{
    uint8_t hdr[PCAP_FILE_HDR_LEN];
    struct oko_pcap *p;
    uint32_t magic, linktype;
    uint16_t major, minor;
    ssize_t got;
    int ret;

    *pcapp = NULL;
    p = calloc(1, sizeof *p);
    if (!p) {
        return pcap_err(err, errlen, ENOMEM, "out of memory");
    }
    p->path = strdup(path);
    if (!p->path) {
        ret = pcap_err(err, errlen, ENOMEM, "out of memory");
        goto fail;
    }
    p->f = fopen(path, "rb");
    if (!p->f) {
        int e = errno;

        ret = pcap_err(err, errlen, e, "%s: %s", path, strerror(e));
        goto fail;
    }

    got = read_full(p->f, hdr, sizeof hdr);
    if (got < 0) {
        ret = pcap_err(err, errlen, EIO, "%s: read error: %s", path,
                       strerror(errno));
        goto fail;
    }
    if (got < 4) {
        ret = pcap_err(err, errlen, EINVAL,
                       "%s: not a pcap file (%zd bytes, too short)", path, got);
        goto fail;
    }
    memcpy(&magic, hdr, sizeof magic);
    if (magic == PCAP_MAGIC_USEC || magic == PCAP_MAGIC_NSEC) {
        p->swap = false;
    } else if (__builtin_bswap32(magic) == PCAP_MAGIC_USEC
               || __builtin_bswap32(magic) == PCAP_MAGIC_NSEC) {
        p->swap = true;
        magic = __builtin_bswap32(magic);
    } else if (magic == PCAPNG_MAGIC) {
        ret = pcap_err(err, errlen, EINVAL,
                       "%s: pcapng files are not supported; convert with "
                       "`editcap -F pcap IN OUT`", path);
        goto fail;
    } else {
        ret = pcap_err(err, errlen, EINVAL,
                       "%s: not a pcap file (bad magic number 0x%08x)", path,
                       magic);
        goto fail;
    }
    p->nsec = magic == PCAP_MAGIC_NSEC;
    if (got < PCAP_FILE_HDR_LEN) {
        ret = pcap_err(err, errlen, EINVAL,
                       "%s: truncated file header (%zd of %d bytes)", path,
                       got, PCAP_FILE_HDR_LEN);
        goto fail;
    }
    major = get16(p, hdr + 4);
    minor = get16(p, hdr + 6);
    if (major != 2) {
        ret = pcap_err(err, errlen, EINVAL,
                       "%s: unsupported pcap version %u.%u", path, major,
                       minor);
        goto fail;
    }
    p->snaplen = get32(p, hdr + 16);
    /* The upper 16 bits of the link-type field may carry FCS information
     * (draft-ietf-opsawg-pcap); the link type is the low 16 bits. */
    linktype = get32(p, hdr + 20);
    if ((linktype & 0xffffu) != OKO_PCAP_LINKTYPE_ETHERNET) {
        ret = pcap_err(err, errlen, EINVAL,
                       "%s: link type %u is not Ethernet (%d)", path,
                       linktype & 0xffffu, OKO_PCAP_LINKTYPE_ETHERNET);
        goto fail;
    }
    *pcapp = p;
    return 0;

fail:
    oko_pcap_close(p);
    return ret;
}

/* Reads the next record; returns 1, 0 at the end, or a negative errno
 * (see pcap.h). */
int
oko_pcap_next(struct oko_pcap *p, struct oko_pcap_pkt *pkt, char *err,
              size_t errlen)
{
    uint8_t hdr[PCAP_REC_HDR_LEN];
    uint32_t sec, frac, caplen, len;
    uint64_t recno = p->nrecords + 1;
    ssize_t got;

    got = read_full(p->f, hdr, sizeof hdr);
    if (got < 0) {
        return pcap_err(err, errlen, EIO, "%s: read error: %s", p->path,
                        strerror(errno));
    }
    if (got == 0) {
        return 0;
    }
    if (got < PCAP_REC_HDR_LEN) {
        return pcap_err(err, errlen, EINVAL,
                        "%s: record %" PRIu64 ": truncated header (%zd of %d "
                        "bytes)", p->path, recno, got, PCAP_REC_HDR_LEN);
    }
    sec = get32(p, hdr);
    frac = get32(p, hdr + 4);
    caplen = get32(p, hdr + 8);
    len = get32(p, hdr + 12);
    if (caplen > OKO_PCAP_MAX_CAPLEN) {
        return pcap_err(err, errlen, EINVAL,
                        "%s: record %" PRIu64 ": captured length %u larger "
                        "than %d (garbled file?)", p->path, recno, caplen,
                        OKO_PCAP_MAX_CAPLEN);
    }
    if (frac >= (p->nsec ? 1000000000u : 1000000u)) {
        return pcap_err(err, errlen, EINVAL,
                        "%s: record %" PRIu64 ": bad timestamp fraction %u "
                        "(garbled file?)", p->path, recno, frac);
    }
    if (caplen > p->bufsize) {
        size_t size = caplen < 2048 ? 2048 : caplen;
        uint8_t *buf = realloc(p->buf, size);

        if (!buf) {
            return pcap_err(err, errlen, ENOMEM, "out of memory");
        }
        p->buf = buf;
        p->bufsize = size;
    }
    got = caplen ? read_full(p->f, p->buf, caplen) : 0;
    if (got < 0) {
        return pcap_err(err, errlen, EIO, "%s: read error: %s", p->path,
                        strerror(errno));
    }
    if ((size_t) got < caplen) {
        return pcap_err(err, errlen, EINVAL,
                        "%s: record %" PRIu64 ": truncated data (%zd of %u "
                        "bytes)", p->path, recno, got, caplen);
    }
    p->nrecords = recno;
    pkt->data = p->buf;
    pkt->caplen = caplen;
    /* Some writers leave the original length 0 or smaller than what they
     * captured; the frame was at least as long as its capture. */
    pkt->len = len < caplen ? caplen : len;
    pkt->ts_ns = (uint64_t) sec * 1000000000u
                 + (p->nsec ? frac : (uint64_t) frac * 1000u);
    pkt->index = recno;
    return 1;
}

/* Returns whether the file has nanosecond timestamps. */
int
oko_pcap_is_nsec(const struct oko_pcap *p)
{
    return p->nsec;
}

/* Returns the snapshot length of the file header. */
uint32_t
oko_pcap_snaplen(const struct oko_pcap *p)
{
    return p->snaplen;
}

/* Closes the file and frees the reader (NULL is allowed). */
void
oko_pcap_close(struct oko_pcap *p)
{
    if (!p) {
        return;
    }
    if (p->f) {
        fclose(p->f);
    }
    free(p->buf);
    free(p->path);
    free(p);
}
