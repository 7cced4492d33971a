/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * oko_net.h -- packet headers and constants for oko filter programs.
 *
 * Programs see the frame exactly as it came off the wire: every multi-byte
 * field below is in network byte order (use oko_ntohs()/oko_ntohl() from
 * oko_helpers.h).  The structs follow the wire layout without padding; the
 * _Static_asserts at the end keep them honest.  No libc header is needed.
 *
 * Parsing helpers (oko_parse_eth(), oko_parse_ipv4()) are always inlined
 * and written in the shape the verifier proves safe: a constant length
 * check before fixed-offset reads, and "pointer + size > end" checks right
 * before reads at variable offsets.
 */
#ifndef OKO_NET_H
#define OKO_NET_H 1

#include "oko_helpers.h"

/* ---------------------------------------------------------------------
 * Ethernet and VLAN (IEEE 802.3, 802.1Q, 802.1ad)
 * ------------------------------------------------------------------- */

#define OKO_ETH_ALEN     6
#define OKO_ETH_HLEN     14
#define OKO_VLAN_HLEN    4

#define OKO_ETH_P_IP     0x0800
#define OKO_ETH_P_ARP    0x0806
#define OKO_ETH_P_8021Q  0x8100     /* VLAN tag */
#define OKO_ETH_P_8021AD 0x88A8     /* service VLAN tag (QinQ) */
#define OKO_ETH_P_IPV6   0x86DD

struct oko_ethhdr {
    oko_u8 h_dest[OKO_ETH_ALEN];
    oko_u8 h_source[OKO_ETH_ALEN];
    oko_u16 h_proto;
};

/* What follows the Ethernet addresses in a tagged frame: the tag control
 * information (priority, DEI, VLAN id) and the encapsulated EtherType. */
struct oko_vlanhdr {
    oko_u16 h_vlan_tci;
    oko_u16 h_vlan_encapsulated_proto;
};

#define OKO_VLAN_VID_MASK 0x0fff

/* ARP for IPv4 over Ethernet (RFC 826). */
struct oko_arphdr {
    oko_u16 ar_hrd;
    oko_u16 ar_pro;
    oko_u8 ar_hln;
    oko_u8 ar_pln;
    oko_u16 ar_op;
};

#define OKO_ARPOP_REQUEST 1
#define OKO_ARPOP_REPLY   2

/* ---------------------------------------------------------------------
 * IPv4 (RFC 791) and IPv6 (RFC 8200)
 * ------------------------------------------------------------------- */

struct oko_iphdr {
    oko_u8 ver_ihl;             /* version (high nibble), IHL in words */
    oko_u8 tos;
    oko_u16 tot_len;
    oko_u16 id;
    oko_u16 frag_off;           /* flags (3 bits) and fragment offset */
    oko_u8 ttl;
    oko_u8 protocol;
    oko_u16 check;
    oko_u32 saddr;
    oko_u32 daddr;
};

#define OKO_IP_RF      0x8000   /* reserved fragment flag (host order) */
#define OKO_IP_DF      0x4000   /* don't fragment */
#define OKO_IP_MF      0x2000   /* more fragments */
#define OKO_IP_OFFMASK 0x1fff   /* fragment offset, 8-byte units */

#define OKO_IPPROTO_HOPOPTS  0    /* IPv6 hop-by-hop options */
#define OKO_IPPROTO_ICMP     1
#define OKO_IPPROTO_TCP      6
#define OKO_IPPROTO_UDP      17
#define OKO_IPPROTO_ROUTING  43   /* IPv6 routing header */
#define OKO_IPPROTO_FRAGMENT 44   /* IPv6 fragment header */
#define OKO_IPPROTO_ICMPV6   58
#define OKO_IPPROTO_NONE     59   /* IPv6: no next header */
#define OKO_IPPROTO_DSTOPTS  60   /* IPv6 destination options */

struct oko_ipv6hdr {
    oko_u32 ver_tc_flow;        /* version 4 bits, class 8, flow label 20 */
    oko_u16 payload_len;
    oko_u8 nexthdr;
    oko_u8 hop_limit;
    oko_u8 saddr[16];
    oko_u8 daddr[16];
};

/* Builds an IPv4 address in network order from its dotted quad, for
 * comparisons with oko_iphdr fields: OKO_IPV4(192, 0, 2, 1). */
#define OKO_IPV4(a, b, c, d)                                               \
    ((oko_u32) (((oko_u32) (d) << 24) | ((oko_u32) (c) << 16)              \
                | ((oko_u32) (b) << 8) | (oko_u32) (a)))

/* ---------------------------------------------------------------------
 * TCP (RFC 9293), UDP (RFC 768), ICMP (RFC 792)
 * ------------------------------------------------------------------- */

struct oko_tcphdr {
    oko_u16 source;
    oko_u16 dest;
    oko_u32 seq;
    oko_u32 ack_seq;
    oko_u8 doff_res;            /* data offset in words (high nibble) */
    oko_u8 flags;               /* OKO_TCP_* below */
    oko_u16 window;
    oko_u16 check;
    oko_u16 urg_ptr;
};

#define OKO_TCP_FIN 0x01
#define OKO_TCP_SYN 0x02
#define OKO_TCP_RST 0x04
#define OKO_TCP_PSH 0x08
#define OKO_TCP_ACK 0x10
#define OKO_TCP_URG 0x20
#define OKO_TCP_ECE 0x40
#define OKO_TCP_CWR 0x80

/* TCP option kinds (IANA). */
#define OKO_TCPOPT_EOL       0
#define OKO_TCPOPT_NOP       1
#define OKO_TCPOPT_MSS       2
#define OKO_TCPOPT_WSCALE    3
#define OKO_TCPOPT_SACK_PERM 4
#define OKO_TCPOPT_SACK      5
#define OKO_TCPOPT_TIMESTAMP 8

/* A TCP header carries at most 40 bytes of options. */
#define OKO_TCP_MAX_OPTLEN 40

struct oko_udphdr {
    oko_u16 source;
    oko_u16 dest;
    oko_u16 len;
    oko_u16 check;
};

struct oko_icmphdr {
    oko_u8 type;
    oko_u8 code;
    oko_u16 checksum;
    oko_u32 rest;               /* id + sequence for echo messages */
};

#define OKO_ICMP_ECHOREPLY    0
#define OKO_ICMP_DEST_UNREACH 3
#define OKO_ICMP_ECHO         8
#define OKO_ICMP_TIME_EXCEEDED 11

/* ICMPv6 (RFC 4443, 4861) uses the same first 8 bytes. */
#define OKO_ICMPV6_ECHO_REQUEST 128
#define OKO_ICMPV6_ECHO_REPLY   129
#define OKO_ICMPV6_NS           135   /* neighbour solicitation */
#define OKO_ICMPV6_NA           136   /* neighbour advertisement */

_Static_assert(sizeof(struct oko_ethhdr) == 14, "ethhdr is 14 bytes");
_Static_assert(sizeof(struct oko_vlanhdr) == 4, "vlanhdr is 4 bytes");
_Static_assert(sizeof(struct oko_arphdr) == 8, "arphdr is 8 bytes");
_Static_assert(sizeof(struct oko_iphdr) == 20, "iphdr is 20 bytes");
_Static_assert(sizeof(struct oko_ipv6hdr) == 40, "ipv6hdr is 40 bytes");
_Static_assert(sizeof(struct oko_tcphdr) == 20, "tcphdr is 20 bytes");
_Static_assert(sizeof(struct oko_udphdr) == 8, "udphdr is 8 bytes");
_Static_assert(sizeof(struct oko_icmphdr) == 8, "icmphdr is 8 bytes");

/* ---------------------------------------------------------------------
 * Parsing helpers
 * ------------------------------------------------------------------- */

/* 1 if a == b, else 0, for a, b < 2^63, computed without a branch.  The
 * verifier explores each side of a branch separately; code without
 * branches leaves it one path to check (see oko_parse_eth()). */
OKO_INLINE oko_u64
oko_same(oko_u64 a, oko_u64 b)
{
    return ((a ^ b) - 1) >> 63;
}

/* Reads the EtherType of the frame at pkt (len bytes), skipping up to two
 * VLAN tags (802.1Q, or 802.1ad, followed by 802.1Q).  Stores the offset of
 * the network header in *l3off and returns the EtherType in host order, or
 * returns 0 if the frame is too short.  The offset is 14, 18 or 22.
 *
 * Written without branches but the length checks: the tag count moves the
 * read offset arithmetically (an untagged frame re-reads its EtherType),
 * so a program has one path to verify after this, not one per tag count. */
OKO_INLINE oko_u16
oko_parse_eth(const void *pkt, oko_u64 len, oko_u32 *l3off)
{
    const oko_u8 *end = (const oko_u8 *) pkt + len;
    const oko_u8 *q;
    oko_u64 off, proto, tag;

    if (len < OKO_ETH_HLEN) {
        return 0;
    }
    /* The EtherType (or tag protocol id) field sits at offset 12. */
    off = 12;
    proto = oko_ntohs(*(const oko_u16 *) ((const oko_u8 *) pkt + off));
    tag = oko_same(proto, OKO_ETH_P_8021Q) | oko_same(proto, OKO_ETH_P_8021AD);
    off += tag * OKO_VLAN_HLEN;
    q = (const oko_u8 *) pkt + off;
    if (q + 2 > end) {
        return 0;
    }
    proto = oko_ntohs(*(const oko_u16 *) q);
    /* Inside a tag, only an 802.1Q tag may follow. */
    tag &= oko_same(proto, OKO_ETH_P_8021Q);
    off += tag * OKO_VLAN_HLEN;
    q = (const oko_u8 *) pkt + off;
    if (q + 2 > end) {
        return 0;
    }
    proto = oko_ntohs(*(const oko_u16 *) q);
    *l3off = (oko_u32) off + 2;
    return (oko_u16) proto;
}

/* Where an IPv4 packet's parts are, as found by oko_parse_ipv4(). */
struct oko_ipv4_info {
    const struct oko_iphdr *ip;     /* the IPv4 header inside the frame */
    oko_u32 l4off;                  /* offset of the transport header */
    oko_u32 hlen;                   /* IPv4 header length in bytes */
    oko_u32 tot_len;                /* IPv4 total length (host order) */
    oko_u16 frag;                   /* fragment offset (0 = first or none) */
    oko_u8 proto;                   /* transport protocol */
};

/* Finds the IPv4 header of the frame at pkt (len bytes), VLAN tags
 * skipped.  Fills *info and returns 1 if the frame is IPv4 with a complete
 * header (version 4, IHL >= 5); returns 0 otherwise.  The transport header
 * is not checked: callers bound it against the frame themselves. */
OKO_INLINE int
oko_parse_ipv4(const void *pkt, oko_u64 len, struct oko_ipv4_info *info)
{
    const oko_u8 *end = (const oko_u8 *) pkt + len;
    const struct oko_iphdr *ip;
    oko_u32 l3off = 0;
    oko_u32 hlen;

    if (oko_parse_eth(pkt, len, &l3off) != OKO_ETH_P_IP) {
        return 0;
    }
    ip = (const struct oko_iphdr *) ((const oko_u8 *) pkt + l3off);
    if ((const oko_u8 *) (ip + 1) > end) {
        return 0;
    }
    if ((ip->ver_ihl >> 4) != 4) {
        return 0;
    }
    hlen = (oko_u32) (ip->ver_ihl & 0x0f) << 2;
    if (hlen < sizeof(struct oko_iphdr)) {
        return 0;
    }
    info->ip = ip;
    info->hlen = hlen;
    info->l4off = l3off + hlen;
    info->tot_len = oko_ntohs(ip->tot_len);
    info->frag = oko_ntohs(ip->frag_off) & OKO_IP_OFFMASK;
    info->proto = ip->protocol;
    return 1;
}

#endif /* OKO_NET_H */
