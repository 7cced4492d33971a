/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * flow_priv.h -- declarations shared by the files of the flow library
 * (common/).  Nothing outside common/ includes this header.
 */
#ifndef OKO_FLOW_PRIV_H
#define OKO_FLOW_PRIV_H 1

#include "oko_flow.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Wire constants.  Names end in '_' where libc uses the plain name. */
#define ETH_HLEN           14
#define VLAN_HLEN          4
#define ETH_TYPE_MIN       0x0600  /* below: an 802.3 length */
#define ETH_TYPE_IPV4      0x0800
#define ETH_TYPE_ARP       0x0806
#define ETH_TYPE_RARP      0x8035
#define ETH_TYPE_IPV6      0x86dd
#define ETH_TYPE_VLAN      0x8100
#define ETH_TYPE_QINQ      0x88a8
#define ETH_TYPE_VLAN9100  0x9100  /* pre-standard QinQ */
#define IPV4_HLEN          20
#define IPV4_MF            0x2000
#define IPV4_OFFMASK       0x1fff
#define IPV6_HLEN          40
#define IPV6_MAX_EXT       8
#define ARP_ETH_IPV4_LEN   28
#define TCP_HLEN           20
#define UDP_HLEN           8
#define SCTP_HLEN          12
#define ICMP_HLEN          4
#define TCP_FLAGS_MASK     0x0fff
#define IPPROTO_HOPOPTS_   0
#define IPPROTO_ICMP_      1
#define IPPROTO_TCP_       6
#define IPPROTO_UDP_       17
#define IPPROTO_ROUTING_   43
#define IPPROTO_FRAGMENT_  44
#define IPPROTO_AH_        51
#define IPPROTO_ICMPV6_    58
#define IPPROTO_DSTOPTS_   60
#define IPPROTO_SCTP_      132

/* Kinds of match fields in the flow syntax. */
enum fld_kind {
    FK_INT,         /* unsigned integer of size bytes, at most max */
    FK_PORT,        /* in_port: a port number or LOCAL */
    FK_MAC,
    FK_IPV4,
    FK_IPV6,
    FK_DL_VLAN,     /* dl_vlan: VID 0..4095 (tagged) or 0xffff (untagged) */
    FK_VLAN_VID,    /* vlan_vid: OpenFlow 1.3 OXM value with 0x1000 bit */
    FK_VLAN_PCP,    /* 0..7, implies a tag */
    FK_TOS,         /* nw_tos: the TOS byte, ECN bits zero */
    FK_DSCP,        /* 0..63 */
    FK_ECN,         /* 0..3 */
    FK_FRAG,        /* ip_frag keywords */
};

/* Prerequisites of match fields and set-field actions (OpenFlow 1.3
 * section 7.2.3.6). */
enum fld_prereq {
    PR_NONE,
    PR_IPV4,        /* ip */
    PR_IP_ANY,      /* ip or ipv6 */
    PR_IPV4_ARP,    /* ip or arp */
    PR_IPV6,
    PR_ARP,
    PR_L4,          /* tcp, udp or sctp, either IP version */
    PR_TCP,
    PR_UDP,
    PR_SCTP,
    PR_ICMP_ANY,    /* icmp or icmp6 */
    PR_ICMP4,
    PR_ICMP6,
};

/* A match field of the flow syntax. */
struct fld {
    const char *name;
    uint8_t kind;               /* enum fld_kind */
    uint8_t prereq;             /* enum fld_prereq */
    uint8_t maskable;
    uint8_t size;               /* bytes in the key */
    uint16_t ofs;               /* offset in struct oko_flow_key */
    uint32_t max;               /* FK_INT: largest value */
};

extern const struct fld flow_fields[];
extern const size_t flow_n_fields;

/* Returns true if the match of flow (key and mask) satisfies prereq. */
bool flow_prereq_ok(const struct oko_flow *flow, enum fld_prereq prereq);

/* Returns the phrase that follows "FIELD requires " for prereq. */
const char *flow_prereq_text(enum fld_prereq prereq);

/* snprintf into a growing position: the formatter's output buffer. */
struct fmt_buf {
    char *buf;
    size_t size;
    size_t len;                 /* bytes the full text needs so far */
};

/* Appends printf-formatted text to b. */
void fmt_put(struct fmt_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends the text form of an IPv4 address (host order) with an optional
 * mask (CIDR length when contiguous) to b. */
void fmt_ipv4(struct fmt_buf *b, uint32_t addr, uint32_t mask);

/* Appends an IPv6 address with an optional mask to b. */
void fmt_ipv6(struct fmt_buf *b, const uint8_t addr[16],
              const uint8_t mask[16]);

/* Appends a MAC address with an optional mask to b. */
void fmt_mac(struct fmt_buf *b, const uint8_t mac[6], const uint8_t mask[6]);

/* The flow-key hash: each 64-bit word is pre-mixed and multiplied by its
 * own odd constant, and the products are summed, so that the
 * multiplications of a key run in parallel instead of in a chain (about
 * 3x faster than a chained MurmurHash-style mix on this hardware).  The
 * high half of each product depends on every bit of its word; the final
 * step folds it into the low bits that index hash tables. */
static const uint64_t flow_hash_mul[OKO_FLOW_KEY_WORDS] = {
    UINT64_C(0x9e3779b97f4a7c15), UINT64_C(0xc2b2ae3d27d4eb4f),
    UINT64_C(0x165667b19e3779f9), UINT64_C(0xd6e8feb86659fd93),
    UINT64_C(0xff51afd7ed558ccd), UINT64_C(0xc4ceb9fe1a85ec53),
    UINT64_C(0x87c37b91114253d5), UINT64_C(0x4cf5ad432745937f),
    UINT64_C(0xa0761d6478bd642f), UINT64_C(0xe7037ed1a0b428db),
    UINT64_C(0x8ebc6af09c88c6e3),
};

/* The term of word number i (value x) in the sum. */
static inline uint64_t
flow_hash_word(uint64_t x, unsigned int i)
{
    return (x ^ (x >> 29)) * flow_hash_mul[i];
}

/* The 32-bit hash of a sum of terms. */
static inline uint32_t
flow_hash_fold(uint64_t h)
{
    h ^= h >> 32;
    h *= UINT64_C(0xd6e8feb86659fd93);
    return (uint32_t) (h >> 32);
}

#endif /* OKO_FLOW_PRIV_H */
