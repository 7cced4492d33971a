/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * pcap.h -- a small reader for classic pcap files (not pcapng), without
 * libpcap: both byte orders, microsecond and nanosecond timestamps, link
 * type Ethernet only.  Used by `oko-bpf run`.
 */
#ifndef OKO_TOOLS_PCAP_H
#define OKO_TOOLS_PCAP_H 1

#include <stddef.h>
#include <stdint.h>

/* Largest captured length of one record we accept (libpcap's
 * MAXIMUM_SNAPLEN): a larger one means a garbled file. */
#define OKO_PCAP_MAX_CAPLEN 262144

/* Link type of Ethernet frames (LINKTYPE_ETHERNET). */
#define OKO_PCAP_LINKTYPE_ETHERNET 1

struct oko_pcap;

/* One record.  data points into the reader's buffer and stays valid until
 * the next call of oko_pcap_next() or oko_pcap_close(). */
struct oko_pcap_pkt {
    const uint8_t *data;
    uint32_t caplen;        /* bytes in data */
    uint32_t len;           /* length of the frame on the wire */
    uint64_t ts_ns;         /* timestamp, nanoseconds since the epoch */
    uint64_t index;         /* 1 for the first record */
};

/* Opens the pcap file at path and checks its header (magic number,
 * version, link type).  On success stores the reader in *pcapp and returns
 * 0; otherwise returns a negative errno with a message in err that names
 * the file and the problem. */
int oko_pcap_open(const char *path, struct oko_pcap **pcapp, char *err,
                  size_t errlen);

/* Reads the next record into *pkt.  Returns 1 if there is one, 0 at the end
 * of the file, or a negative errno (-EINVAL truncated or garbled record,
 * -EIO read error, -ENOMEM) with a message in err. */
int oko_pcap_next(struct oko_pcap *pcap, struct oko_pcap_pkt *pkt,
                  char *err, size_t errlen);

/* Whether timestamps in the file are in nanoseconds (else microseconds). */
int oko_pcap_is_nsec(const struct oko_pcap *pcap);

/* The snapshot length from the file header. */
uint32_t oko_pcap_snaplen(const struct oko_pcap *pcap);

/* Closes the file and frees the reader.  pcap may be NULL. */
void oko_pcap_close(struct oko_pcap *pcap);

#endif /* OKO_TOOLS_PCAP_H */
