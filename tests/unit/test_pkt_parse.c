/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_pkt_parse.c -- oko_pkt_parse() on hand-built frames of every
 * protocol it knows, with and without VLAN tags, and on every prefix of
 * each frame in a heap buffer of exactly that size (so that the ASan build
 * catches any read past the end).
 */
#include "oko_flow.h"
#include "cu_main.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------
 * Frame builder
 * ------------------------------------------------------------------- */

struct frame {
    uint8_t b[512];
    uint32_t len;
};

static void
put8(struct frame *f, uint8_t v)
{
    f->b[f->len++] = v;
}

static void
put16(struct frame *f, uint16_t v)
{
    put8(f, (uint8_t) (v >> 8));
    put8(f, (uint8_t) v);
}

static void
put32(struct frame *f, uint32_t v)
{
    put16(f, (uint16_t) (v >> 16));
    put16(f, (uint16_t) v);
}

static void
putn(struct frame *f, const void *p, size_t n)
{
    memcpy(f->b + f->len, p, n);
    f->len += (uint32_t) n;
}

static void
zeros(struct frame *f, size_t n)
{
    memset(f->b + f->len, 0, n);
    f->len += (uint32_t) n;
}

static const uint8_t MAC_A[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b };
static const uint8_t V6_A[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t V6_B[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static void
eth(struct frame *f, uint16_t type)
{
    f->len = 0;
    putn(f, MAC_B, 6);          /* destination */
    putn(f, MAC_A, 6);          /* source */
    put16(f, type);
}

static void
vlan(struct frame *f, uint16_t tci, uint16_t type)
{
    put16(f, tci);
    put16(f, type);
}

/* IPv4 header with opt_words 32-bit words of options (NOPs). */
static void
ipv4(struct frame *f, uint8_t proto, uint16_t frag, unsigned int opt_words,
     uint16_t payload)
{
    unsigned int i;

    put8(f, (uint8_t) (0x40 | (5 + opt_words)));
    put8(f, 0xb9);                       /* DSCP 46, ECN 1 */
    put16(f, (uint16_t) (20 + 4 * opt_words + payload));
    put16(f, 0x1234);
    put16(f, frag);
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    put32(f, 0x0a000001);
    put32(f, 0x0a000002);
    for (i = 0; i < 4 * opt_words; i++) {
        put8(f, 1);
    }
}

static void
ipv6(struct frame *f, uint8_t nh, uint16_t payload)
{
    put32(f, 0x60000000u | (0xb9u << 20) | 0x12345);
    put16(f, payload);
    put8(f, nh);
    put8(f, 63);
    putn(f, V6_A, 16);
    putn(f, V6_B, 16);
}

/* An IPv6 extension header of 8 * (1 + len8) bytes. */
static void
ext(struct frame *f, uint8_t nh, uint8_t len8)
{
    put8(f, nh);
    put8(f, len8);
    zeros(f, 6 + 8 * (size_t) len8);
}

static void
tcp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t flags)
{
    put16(f, sport);
    put16(f, dport);
    put32(f, 1);
    put32(f, 0);
    put16(f, (uint16_t) (0x5000 | flags));
    put16(f, 1024);
    put32(f, 0);
}

static void
udp(struct frame *f, uint16_t sport, uint16_t dport)
{
    put16(f, sport);
    put16(f, dport);
    put16(f, 8);
    put16(f, 0);
}

static struct oko_flow_key
parse(const struct frame *f, int *ret, struct oko_pkt_layout *lay)
{
    struct oko_flow_key k;
    struct oko_pkt_layout l;
    int r;

    r = oko_pkt_parse(f->b, f->len, 7, &k, lay ? lay : &l);
    if (ret) {
        *ret = r;
    }
    return k;
}

/* Parses every prefix of f in an exact-size heap buffer: each must return
 * 1 (truncated) below need bytes and give the full key from need bytes
 * on; every field of a truncated parse is either zero or the full
 * parse's value. */
static void
check_prefixes(const struct frame *f, uint32_t need)
{
    struct oko_flow_key full, k;
    uint32_t len;
    int r;

    CU_ASSERT_EQUAL_FATAL(oko_pkt_parse(f->b, f->len, 7, &full, NULL), 0);
    for (len = 0; len <= f->len; len++) {
        uint8_t *buf = malloc(len ? len : 1);
        const uint8_t *pk = (const uint8_t *) &k;
        const uint8_t *pf = (const uint8_t *) &full;
        size_t i;
        bool sub = true;

        CU_ASSERT_FATAL(buf != NULL);
        memcpy(buf, f->b, len);
        r = oko_pkt_parse(buf, len, 7, &k, NULL);
        free(buf);
        if (len < need) {
            CU_ASSERT_EQUAL(r, 1);
            CU_ASSERT(memcmp(&k, &full, sizeof k) != 0);
        } else {
            CU_ASSERT_EQUAL(r, 0);
            CU_ASSERT(memcmp(&k, &full, sizeof k) == 0);
        }
        CU_ASSERT_EQUAL(k.in_port, 7);
        for (i = 4; i < sizeof k; i++) {
            sub &= pk[i] == 0 || pk[i] == pf[i];
        }
        CU_ASSERT(sub);
    }
}

/* ---------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------- */

static void
test_ipv4_tcp(void)
{
    struct frame f;
    struct oko_flow_key k;
    struct oko_pkt_layout lay;
    int r;

    eth(&f, 0x0800);
    ipv4(&f, 6, 0x4000, 0, 20);
    tcp(&f, 12345, 80, 0x012);  /* SYN|ACK */
    k = parse(&f, &r, &lay);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.in_port, 7);
    CU_ASSERT(!memcmp(k.eth_src, MAC_A, 6));
    CU_ASSERT(!memcmp(k.eth_dst, MAC_B, 6));
    CU_ASSERT_EQUAL(k.eth_type, 0x0800);
    CU_ASSERT_EQUAL(k.vlan_tci, 0);
    CU_ASSERT_EQUAL(k.ip_proto, 6);
    CU_ASSERT_EQUAL(k.ip_tos, 0xb9);
    CU_ASSERT_EQUAL(k.ip_ttl, 64);
    CU_ASSERT_EQUAL(k.ip_frag, 0);
    CU_ASSERT_EQUAL(k.ipv4_src, 0x0a000001);
    CU_ASSERT_EQUAL(k.ipv4_dst, 0x0a000002);
    CU_ASSERT_EQUAL(k.tp_src, 12345);
    CU_ASSERT_EQUAL(k.tp_dst, 80);
    CU_ASSERT_EQUAL(k.tcp_flags, 0x012);
    CU_ASSERT_EQUAL(lay.l3_ofs, 14);
    CU_ASSERT_EQUAL(lay.l4_ofs, 34);
    CU_ASSERT_EQUAL(lay.n_vlans, 0);
    check_prefixes(&f, f.len);
}

static void
test_vlan_udp(void)
{
    struct frame f;
    struct oko_flow_key k;
    struct oko_pkt_layout lay;
    int r;

    eth(&f, 0x8100);
    vlan(&f, (5 << 13) | 100, 0x0800);
    ipv4(&f, 17, 0, 0, 8);
    udp(&f, 53, 5353);
    k = parse(&f, &r, &lay);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.vlan_tci, (5 << 13) | OKO_FLOW_VLAN_PRESENT | 100);
    CU_ASSERT_EQUAL(k.vlan_inner_tci, 0);
    CU_ASSERT_EQUAL(k.eth_type, 0x0800);
    CU_ASSERT_EQUAL(k.ip_proto, 17);
    CU_ASSERT_EQUAL(k.tp_src, 53);
    CU_ASSERT_EQUAL(k.tp_dst, 5353);
    CU_ASSERT_EQUAL(k.tcp_flags, 0);
    CU_ASSERT_EQUAL(lay.n_vlans, 1);
    CU_ASSERT_EQUAL(lay.l3_ofs, 18);
    CU_ASSERT_EQUAL(lay.l4_ofs, 38);
    check_prefixes(&f, f.len);
}

static void
test_qinq_ipv6_tcp(void)
{
    struct frame f;
    struct oko_flow_key k;
    struct oko_pkt_layout lay;
    int r;

    eth(&f, 0x88a8);
    vlan(&f, 10, 0x8100);
    vlan(&f, (3 << 13) | 20, 0x86dd);
    ipv6(&f, 6, 20);
    tcp(&f, 1000, 443, 0x002);
    k = parse(&f, &r, &lay);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.vlan_tci, OKO_FLOW_VLAN_PRESENT | 10);
    CU_ASSERT_EQUAL(k.vlan_inner_tci, (3 << 13) | OKO_FLOW_VLAN_PRESENT | 20);
    CU_ASSERT_EQUAL(k.eth_type, 0x86dd);
    CU_ASSERT_EQUAL(k.ip_proto, 6);
    CU_ASSERT_EQUAL(k.ip_tos, 0xb9);
    CU_ASSERT_EQUAL(k.ip_ttl, 63);
    CU_ASSERT(!memcmp(k.ipv6_src, V6_A, 16));
    CU_ASSERT(!memcmp(k.ipv6_dst, V6_B, 16));
    CU_ASSERT_EQUAL(k.ipv4_src, 0);
    CU_ASSERT_EQUAL(k.tp_src, 1000);
    CU_ASSERT_EQUAL(k.tp_dst, 443);
    CU_ASSERT_EQUAL(k.tcp_flags, 0x002);
    CU_ASSERT_EQUAL(lay.n_vlans, 2);
    CU_ASSERT_EQUAL(lay.l3_ofs, 22);
    CU_ASSERT_EQUAL(lay.l4_ofs, 62);
    check_prefixes(&f, f.len);
}

static void
test_ipv4_options(void)
{
    struct frame f;
    struct oko_flow_key k;
    struct oko_pkt_layout lay;
    int r;

    eth(&f, 0x0800);
    ipv4(&f, 17, 0, 3, 8);
    udp(&f, 1, 2);
    k = parse(&f, &r, &lay);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.tp_src, 1);
    CU_ASSERT_EQUAL(k.tp_dst, 2);
    CU_ASSERT_EQUAL(lay.l4_ofs, 14 + 32);
    check_prefixes(&f, f.len);
}

static void
test_ipv4_fragments(void)
{
    struct frame f;
    struct oko_flow_key k;
    int r;

    /* First fragment: MF set, offset 0: ports are there. */
    eth(&f, 0x0800);
    ipv4(&f, 17, 0x2000, 0, 8);
    udp(&f, 10, 20);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.ip_frag, OKO_FLOW_FRAG_ANY);
    CU_ASSERT_EQUAL(k.tp_src, 10);
    CU_ASSERT_EQUAL(k.tp_dst, 20);
    check_prefixes(&f, f.len);

    /* Later fragment: what follows the IP header is data, not UDP. */
    eth(&f, 0x0800);
    ipv4(&f, 17, 100, 0, 8);
    udp(&f, 10, 20);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.ip_frag, OKO_FLOW_FRAG_ANY | OKO_FLOW_FRAG_LATER);
    CU_ASSERT_EQUAL(k.ip_proto, 17);
    CU_ASSERT_EQUAL(k.tp_src, 0);
    CU_ASSERT_EQUAL(k.tp_dst, 0);
    check_prefixes(&f, 34);
}

static void
test_ipv4_icmp_sctp(void)
{
    struct frame f;
    struct oko_flow_key k;
    int r;

    eth(&f, 0x0800);
    ipv4(&f, 1, 0, 0, 8);
    put8(&f, 8);
    put8(&f, 0);
    zeros(&f, 6);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.ip_proto, 1);
    CU_ASSERT_EQUAL(k.icmp_type, 8);
    CU_ASSERT_EQUAL(k.icmp_code, 0);
    CU_ASSERT_EQUAL(k.tp_src, 0);
    check_prefixes(&f, 14 + 20 + 4);

    eth(&f, 0x0800);
    ipv4(&f, 3, 0, 0, 0);       /* destination unreachable, port */
    f.b[14 + 9] = 1;
    put8(&f, 3);
    put8(&f, 3);
    zeros(&f, 2);
    f.b[14 + 3] = 24;
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(k.icmp_type, 3);
    CU_ASSERT_EQUAL(k.icmp_code, 3);

    eth(&f, 0x0800);
    ipv4(&f, 132, 0, 0, 12);
    put16(&f, 2905);
    put16(&f, 2906);
    zeros(&f, 8);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.ip_proto, 132);
    CU_ASSERT_EQUAL(k.tp_src, 2905);
    CU_ASSERT_EQUAL(k.tp_dst, 2906);
    check_prefixes(&f, f.len);
}

static void
test_ipv6_ext_headers(void)
{
    struct frame f;
    struct oko_flow_key k;
    struct oko_pkt_layout lay;
    int r;

    /* Hop-by-hop (8 bytes), destination options (16 bytes), UDP. */
    eth(&f, 0x86dd);
    ipv6(&f, 0, 8 + 16 + 8);
    ext(&f, 60, 0);
    ext(&f, 17, 1);
    udp(&f, 7, 9);
    k = parse(&f, &r, &lay);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.ip_proto, 17);
    CU_ASSERT_EQUAL(k.tp_src, 7);
    CU_ASSERT_EQUAL(k.tp_dst, 9);
    CU_ASSERT_EQUAL(lay.l4_ofs, 14 + 40 + 24);
    check_prefixes(&f, f.len);

    /* Routing header, then ICMPv6 echo request. */
    eth(&f, 0x86dd);
    ipv6(&f, 43, 8 + 8);
    ext(&f, 58, 0);
    put8(&f, 128);
    put8(&f, 0);
    zeros(&f, 6);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.ip_proto, 58);
    CU_ASSERT_EQUAL(k.icmp_type, 128);
    CU_ASSERT_EQUAL(k.icmp_code, 0);
    check_prefixes(&f, 14 + 40 + 8 + 4);

    /* AH: length in 4-byte units minus 2 (here 16 bytes), then TCP. */
    eth(&f, 0x86dd);
    ipv6(&f, 51, 16 + 20);
    put8(&f, 6);
    put8(&f, 2);
    zeros(&f, 14);
    tcp(&f, 22, 2222, 0x010);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.ip_proto, 6);
    CU_ASSERT_EQUAL(k.tp_src, 22);
    CU_ASSERT_EQUAL(k.tp_dst, 2222);
    check_prefixes(&f, f.len);
}

static void
test_ipv6_fragments(void)
{
    struct frame f;
    struct oko_flow_key k;
    int r;

    /* First fragment (offset 0, M set): the TCP header follows. */
    eth(&f, 0x86dd);
    ipv6(&f, 44, 8 + 20);
    put8(&f, 6);
    put8(&f, 0);
    put16(&f, 0x0001);
    put32(&f, 0xabcd);
    tcp(&f, 5, 6, 0);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.ip_frag, OKO_FLOW_FRAG_ANY);
    CU_ASSERT_EQUAL(k.ip_proto, 6);
    CU_ASSERT_EQUAL(k.tp_src, 5);
    CU_ASSERT_EQUAL(k.tp_dst, 6);
    check_prefixes(&f, f.len);

    /* Later fragment: no ports. */
    eth(&f, 0x86dd);
    ipv6(&f, 44, 8 + 20);
    put8(&f, 6);
    put8(&f, 0);
    put16(&f, 0x0100);
    put32(&f, 0xabcd);
    tcp(&f, 5, 6, 0);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.ip_frag, OKO_FLOW_FRAG_ANY | OKO_FLOW_FRAG_LATER);
    CU_ASSERT_EQUAL(k.ip_proto, 6);
    CU_ASSERT_EQUAL(k.tp_src, 0);
    check_prefixes(&f, 14 + 40 + 8);
}

static void
test_ipv6_too_many_ext(void)
{
    struct frame f;
    struct oko_flow_key k;
    int i, r;

    eth(&f, 0x86dd);
    ipv6(&f, 60, 10 * 8 + 8);
    for (i = 0; i < 10; i++) {
        ext(&f, i < 9 ? 60 : 17, 0);
    }
    udp(&f, 1, 2);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.tp_src, 0);
    CU_ASSERT_EQUAL(k.tp_dst, 0);
    CU_ASSERT(!memcmp(k.ipv6_src, V6_A, 16));
}

static void
test_arp(void)
{
    struct frame f;
    struct oko_flow_key k;
    int r;

    eth(&f, 0x0806);
    put16(&f, 1);
    put16(&f, 0x0800);
    put8(&f, 6);
    put8(&f, 4);
    put16(&f, 1);
    putn(&f, MAC_A, 6);
    put32(&f, 0xc0a80001);
    zeros(&f, 6);
    put32(&f, 0xc0a80002);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.eth_type, 0x0806);
    CU_ASSERT_EQUAL(k.arp_op, 1);
    CU_ASSERT(!memcmp(k.arp_sha, MAC_A, 6));
    CU_ASSERT_EQUAL(k.ipv4_src, 0xc0a80001);
    CU_ASSERT_EQUAL(k.ipv4_dst, 0xc0a80002);
    CU_ASSERT_EQUAL(k.arp_tha[0], 0);
    check_prefixes(&f, f.len);

    /* Not Ethernet/IPv4 ARP: only the EtherType. */
    f.b[14 + 5] = 16;
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.eth_type, 0x0806);
    CU_ASSERT_EQUAL(k.arp_op, 0);
}

static void
test_llc_and_unknown(void)
{
    struct frame f;
    struct oko_flow_key k;
    int r;

    eth(&f, 0x0040);            /* 802.3 length */
    zeros(&f, 64);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.eth_type, OKO_FLOW_ETH_TYPE_NONE);

    eth(&f, 0x88cc);            /* LLDP: no L3 */
    zeros(&f, 40);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.eth_type, 0x88cc);
    CU_ASSERT_EQUAL(k.ip_proto, 0);
    check_prefixes(&f, 14);
}

static void
test_padding_and_bad_headers(void)
{
    struct frame f;
    struct oko_flow_key k;
    int r;

    /* Ethernet padding after a short datagram must not be parsed as L4:
     * a UDP header needs 8 bytes but the datagram carries 4. */
    eth(&f, 0x0800);
    ipv4(&f, 17, 0, 0, 4);
    put16(&f, 1111);
    put16(&f, 2222);
    zeros(&f, 60 - f.len);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 1);
    CU_ASSERT_EQUAL(k.ip_proto, 17);
    CU_ASSERT_EQUAL(k.tp_src, 0);

    /* Padding after a complete datagram is ignored. */
    eth(&f, 0x0800);
    ipv4(&f, 17, 0, 0, 8);
    udp(&f, 3, 4);
    zeros(&f, 60 - f.len);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.tp_src, 3);

    /* IHL below 5: no IP fields at all. */
    eth(&f, 0x0800);
    ipv4(&f, 17, 0, 0, 8);
    f.b[14] = 0x44;
    udp(&f, 3, 4);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(k.eth_type, 0x0800);
    CU_ASSERT_EQUAL(k.ipv4_src, 0);
    CU_ASSERT_EQUAL(k.tp_src, 0);

    /* Wrong IP version under the IPv4 EtherType. */
    eth(&f, 0x0800);
    ipv4(&f, 17, 0, 0, 8);
    f.b[14] = 0x65;
    udp(&f, 3, 4);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(k.ipv4_src, 0);

    /* Total length shorter than the header: IP fields, no L4. */
    eth(&f, 0x0800);
    ipv4(&f, 17, 0, 0, 8);
    f.b[14 + 3] = 10;
    udp(&f, 3, 4);
    k = parse(&f, &r, NULL);
    CU_ASSERT_EQUAL(k.ipv4_src, 0x0a000001);
    CU_ASSERT_EQUAL(k.tp_src, 0);
}

static void
test_key_fully_written(void)
{
    struct frame f;
    struct oko_flow_key a, b;

    eth(&f, 0x8100);
    vlan(&f, 42, 0x0800);
    ipv4(&f, 6, 0, 0, 20);
    tcp(&f, 1, 2, 0x3f);
    memset(&a, 0xaa, sizeof a);
    memset(&b, 0x55, sizeof b);
    oko_pkt_parse(f.b, f.len, 3, &a, NULL);
    oko_pkt_parse(f.b, f.len, 3, &b, NULL);
    CU_ASSERT(memcmp(&a, &b, sizeof a) == 0);
    CU_ASSERT_EQUAL(oko_flow_key_hash(&a, 0), oko_flow_key_hash(&b, 0));
    CU_ASSERT_NOT_EQUAL(oko_flow_key_hash(&a, 0), oko_flow_key_hash(&a, 1));
}

static const struct cu_test tests[] = {
    { "IPv4 TCP", test_ipv4_tcp },
    { "802.1Q VLAN, UDP", test_vlan_udp },
    { "802.1ad + 802.1Q, IPv6 TCP", test_qinq_ipv6_tcp },
    { "IPv4 options", test_ipv4_options },
    { "IPv4 fragments", test_ipv4_fragments },
    { "ICMP and SCTP", test_ipv4_icmp_sctp },
    { "IPv6 extension headers", test_ipv6_ext_headers },
    { "IPv6 fragments", test_ipv6_fragments },
    { "IPv6 extension header limit", test_ipv6_too_many_ext },
    { "ARP", test_arp },
    { "802.3 and unknown EtherTypes", test_llc_and_unknown },
    { "padding and bad headers", test_padding_and_bad_headers },
    { "every key byte written", test_key_fully_written },
    { NULL, NULL }
};
CU_MAIN("pkt_parse", tests)
