/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * pkt_parse.c -- frame to struct oko_flow_key.
 *
 * One pass from the Ethernet header inwards.  Every read is preceded by a
 * check that the bytes lie inside the frame (or inside the IP datagram,
 * whose total length trims Ethernet padding), so a frame cut short at any
 * length is safe; the tests run every prefix of every test frame in an
 * exact-size heap buffer under AddressSanitizer.  A header that does not
 * fit stops the parse and leaves its own fields and those of the headers
 * after it zero, which is what the memset at the start gives for free.
 */
#include "oko_flow.h"
#include "flow_priv.h"

#include <string.h>

static inline uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t) ((p[0] << 8) | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}

static inline bool
is_vlan_tpid(uint16_t type)
{
    return type == ETH_TYPE_VLAN || type == ETH_TYPE_QINQ
           || type == ETH_TYPE_VLAN9100;
}

/* Parses the L4 header at ofs (end: the end of the IP payload).  Returns 0
 * or 1 when truncated. */
static int
parse_l4(const uint8_t *p, uint32_t ofs, uint32_t end, uint8_t proto,
         struct oko_flow_key *key, struct oko_pkt_layout *lay)
{
    uint32_t avail = end - ofs;

    lay->l4_ofs = (uint16_t) ofs;
    switch (proto) {
    case IPPROTO_TCP_:
        if (avail < TCP_HLEN) {
            return 1;
        }
        key->tp_src = rd16(p + ofs);
        key->tp_dst = rd16(p + ofs + 2);
        key->tcp_flags = rd16(p + ofs + 12) & TCP_FLAGS_MASK;
        return 0;
    case IPPROTO_UDP_:
        if (avail < UDP_HLEN) {
            return 1;
        }
        key->tp_src = rd16(p + ofs);
        key->tp_dst = rd16(p + ofs + 2);
        return 0;
    case IPPROTO_SCTP_:
        if (avail < SCTP_HLEN) {
            return 1;
        }
        key->tp_src = rd16(p + ofs);
        key->tp_dst = rd16(p + ofs + 2);
        return 0;
    case IPPROTO_ICMP_:
    case IPPROTO_ICMPV6_:
        /* The parse_ipv4/ipv6 callers only pass the protocol of their own
         * family, so ICMPv4 in IPv6 is never seen here as ICMP. */
        if (avail < ICMP_HLEN) {
            return 1;
        }
        key->icmp_type = p[ofs];
        key->icmp_code = p[ofs + 1];
        return 0;
    default:
        lay->l4_ofs = 0;
        return 0;
    }
}

static int
parse_ipv4(const uint8_t *p, uint32_t ofs, uint32_t len,
           struct oko_flow_key *key, struct oko_pkt_layout *lay)
{
    uint32_t ihl, tot_len, end;
    uint16_t frag;

    if (len - ofs < IPV4_HLEN || (p[ofs] >> 4) != 4) {
        return len - ofs < IPV4_HLEN;
    }
    ihl = (uint32_t) (p[ofs] & 0x0f) * 4;
    if (ihl < IPV4_HLEN) {
        return 0;               /* malformed: no IP fields */
    }
    if (len - ofs < ihl) {
        return 1;
    }
    lay->l3_ofs = (uint16_t) ofs;
    key->ip_tos = p[ofs + 1];
    key->ip_ttl = p[ofs + 8];
    key->ip_proto = p[ofs + 9];
    key->ipv4_src = rd32(p + ofs + 12);
    key->ipv4_dst = rd32(p + ofs + 16);
    frag = rd16(p + ofs + 6);
    if (frag & (IPV4_MF | IPV4_OFFMASK)) {
        key->ip_frag = OKO_FLOW_FRAG_ANY
                       | ((frag & IPV4_OFFMASK) ? OKO_FLOW_FRAG_LATER : 0);
    }
    /* The datagram's own length bounds L4 (Ethernet pads short frames);
     * a datagram longer than the frame was cut by a snap length: parse
     * what there is. */
    tot_len = rd16(p + ofs + 2);
    if (tot_len < ihl) {
        return 0;
    }
    end = len - ofs < tot_len ? len : ofs + tot_len;
    if (key->ip_frag & OKO_FLOW_FRAG_LATER) {
        return 0;
    }
    if (key->ip_proto == IPPROTO_ICMPV6_) {
        return 0;
    }
    return parse_l4(p, ofs + ihl, end, key->ip_proto, key, lay);
}

static int
parse_ipv6(const uint8_t *p, uint32_t ofs, uint32_t len,
           struct oko_flow_key *key, struct oko_pkt_layout *lay)
{
    uint32_t end, plen, hlen;
    uint8_t nh;
    int i;

    if (len - ofs < IPV6_HLEN || (p[ofs] >> 4) != 6) {
        return len - ofs < IPV6_HLEN;
    }
    lay->l3_ofs = (uint16_t) ofs;
    key->ip_tos = (uint8_t) (rd16(p + ofs) >> 4);
    key->ip_ttl = p[ofs + 7];
    memcpy(key->ipv6_src, p + ofs + 8, 16);
    memcpy(key->ipv6_dst, p + ofs + 24, 16);
    nh = p[ofs + 6];
    plen = rd16(p + ofs + 4);
    ofs += IPV6_HLEN;
    /* Payload length 0 is a jumbogram (or garbage): use the frame. */
    end = (plen == 0 || len - ofs < plen) ? len : ofs + plen;

    /* Extension headers, at most IPV6_MAX_EXT of them so that a crafted
     * chain cannot make the parse slow. */
    for (i = 0; i < IPV6_MAX_EXT; i++) {
        switch (nh) {
        case IPPROTO_HOPOPTS_:
        case IPPROTO_ROUTING_:
        case IPPROTO_DSTOPTS_:
            if (end - ofs < 2) {
                return 1;
            }
            hlen = ((uint32_t) p[ofs + 1] + 1) * 8;
            break;
        case IPPROTO_AH_:
            if (end - ofs < 2) {
                return 1;
            }
            hlen = ((uint32_t) p[ofs + 1] + 2) * 4;
            break;
        case IPPROTO_FRAGMENT_:
            if (end - ofs < 8) {
                return 1;
            }
            hlen = 8;
            key->ip_frag = OKO_FLOW_FRAG_ANY;
            if (rd16(p + ofs + 2) & 0xfff8) {
                key->ip_frag |= OKO_FLOW_FRAG_LATER;
            }
            break;
        default:
            goto l4;
        }
        if (end - ofs < hlen) {
            return 1;
        }
        nh = p[ofs];
        ofs += hlen;
        if (key->ip_frag & OKO_FLOW_FRAG_LATER) {
            /* A later fragment: the next header is in the first one. */
            key->ip_proto = nh;
            return 0;
        }
    }
    return 0;                   /* too many extension headers: no L4 */

l4:
    key->ip_proto = nh;
    if (nh == IPPROTO_ICMP_) {
        return 0;
    }
    return parse_l4(p, ofs, end, nh, key, lay);
}

static int
parse_arp(const uint8_t *p, uint32_t ofs, uint32_t len,
          struct oko_flow_key *key, struct oko_pkt_layout *lay)
{
    const uint8_t *a = p + ofs;

    if (len - ofs < ARP_ETH_IPV4_LEN) {
        return 1;
    }
    /* Only Ethernet/IPv4 ARP has the fields of the key. */
    if (rd16(a) != 1 || rd16(a + 2) != ETH_TYPE_IPV4 || a[4] != 6
        || a[5] != 4) {
        return 0;
    }
    lay->l3_ofs = (uint16_t) ofs;
    key->arp_op = rd16(a + 6);
    memcpy(key->arp_sha, a + 8, 6);
    key->ipv4_src = rd32(a + 14);
    memcpy(key->arp_tha, a + 18, 6);
    key->ipv4_dst = rd32(a + 24);
    return 0;
}

/* Parses the frame of len bytes that came in on in_port into key (every
 * field written) and, if layout is not NULL, its header offsets.  Declared
 * and documented in oko_flow.h. */
int
oko_pkt_parse(const uint8_t *frame, uint32_t len, uint32_t in_port,
              struct oko_flow_key *key, struct oko_pkt_layout *layout)
{
    struct oko_pkt_layout lay;
    uint32_t ofs = ETH_HLEN;
    uint16_t type;
    int trunc = 0;

    memset(key, 0, sizeof *key);
    memset(&lay, 0, sizeof lay);
    key->in_port = in_port;
    if (len > UINT16_MAX) {
        /* Offsets in the layout are 16 bits; no Ethernet frame is longer
         * (jumbo frames are ~9 kB).  Parse the first 64 kB. */
        len = UINT16_MAX;
    }
    if (len < ETH_HLEN) {
        trunc = 1;
        goto out;
    }
    memcpy(key->eth_dst, frame, 6);
    memcpy(key->eth_src, frame + 6, 6);
    type = rd16(frame + 12);

    if (is_vlan_tpid(type)) {
        if (len - ofs < VLAN_HLEN) {
            trunc = 1;
            goto out;
        }
        key->vlan_tci = rd16(frame + ofs) | OKO_FLOW_VLAN_PRESENT;
        type = rd16(frame + ofs + 2);
        ofs += VLAN_HLEN;
        lay.n_vlans = 1;
        if (is_vlan_tpid(type)) {
            if (len - ofs < VLAN_HLEN) {
                trunc = 1;
                goto out;
            }
            key->vlan_inner_tci = rd16(frame + ofs) | OKO_FLOW_VLAN_PRESENT;
            type = rd16(frame + ofs + 2);
            ofs += VLAN_HLEN;
            lay.n_vlans = 2;
        }
    }
    if (type < ETH_TYPE_MIN) {
        type = OKO_FLOW_ETH_TYPE_NONE;
    }
    key->eth_type = type;

    switch (type) {
    case ETH_TYPE_IPV4:
        trunc = parse_ipv4(frame, ofs, len, key, &lay);
        break;
    case ETH_TYPE_IPV6:
        trunc = parse_ipv6(frame, ofs, len, key, &lay);
        break;
    case ETH_TYPE_ARP:
    case ETH_TYPE_RARP:
        trunc = parse_arp(frame, ofs, len, key, &lay);
        break;
    default:
        break;
    }
out:
    lay.truncated = (uint8_t) trunc;
    if (layout) {
        *layout = lay;
    }
    return trunc;
}
