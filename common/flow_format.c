/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * flow_format.c -- struct oko_flow and struct oko_flow_key to text, in the
 * syntax flow_parse.c reads.
 *
 * The output is canonical: metadata first, then the shorthand for the
 * protocol (tcp, udp6, arp, ...) or dl_type, then the match fields in the
 * order of flow_fields (first name of each key field), then filter_prog
 * and actions.  Parsing the output gives back an equal struct oko_flow;
 * the unit tests check this on every good line they parse.
 */
#include "oko_flow.h"
#include "flow_priv.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Appends printf-formatted text to b.  Declared and documented in
 * flow_priv.h. */
void
fmt_put(struct fmt_buf *b, const char *fmt, ...)
{
    size_t room = b->len < b->size ? b->size - b->len : 0;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(room ? b->buf + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) {
        b->len += (size_t) n;
    }
}

static int
prefix_len32(uint32_t mask)
{
    uint32_t inv = ~mask;

    /* Contiguous iff the inverted mask is 2^k - 1. */
    if (inv & (inv + 1)) {
        return -1;
    }
    return mask ? 32 - __builtin_popcount(inv) : 0;
}

/* Appends the text form of an IPv4 address (host order) with an optional
 * mask (CIDR length when contiguous) to b.  Declared and documented in
 * flow_priv.h. */
void
fmt_ipv4(struct fmt_buf *b, uint32_t addr, uint32_t mask)
{
    int plen = prefix_len32(mask);

    fmt_put(b, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff,
            (addr >> 8) & 0xff, addr & 0xff);
    if (mask == UINT32_MAX) {
        return;
    }
    if (plen >= 0) {
        fmt_put(b, "/%d", plen);
    } else {
        fmt_put(b, "/%u.%u.%u.%u", mask >> 24, (mask >> 16) & 0xff,
                (mask >> 8) & 0xff, mask & 0xff);
    }
}

/* Appends an IPv6 address with an optional mask to b.  Declared and
 * documented in flow_priv.h. */
void
fmt_ipv6(struct fmt_buf *b, const uint8_t addr[16], const uint8_t mask[16])
{
    char text[INET6_ADDRSTRLEN];
    uint8_t prefix[16];
    int i, plen = 0;

    inet_ntop(AF_INET6, addr, text, sizeof text);
    fmt_put(b, "%s", text);
    if (!mask) {
        return;
    }
    /* Count the leading ones; the mask is a prefix if it equals the mask
     * of that many bits. */
    for (i = 0; i < 16 && mask[i] == 0xff; i++) {
        plen += 8;
    }
    if (i < 16) {
        plen += __builtin_clz(~(uint32_t) mask[i] << 24 | 0x00ffffffu);
    }
    if (plen == 128) {
        return;
    }
    memset(prefix, 0, sizeof prefix);
    for (i = 0; i < plen / 8; i++) {
        prefix[i] = 0xff;
    }
    if (plen % 8) {
        prefix[plen / 8] = (uint8_t) (0xff << (8 - plen % 8));
    }
    if (!memcmp(prefix, mask, 16)) {
        fmt_put(b, "/%d", plen);
    } else {
        inet_ntop(AF_INET6, mask, text, sizeof text);
        fmt_put(b, "/%s", text);
    }
}

/* Appends a MAC address with an optional mask to b.  Declared and
 * documented in flow_priv.h. */
void
fmt_mac(struct fmt_buf *b, const uint8_t mac[6], const uint8_t mask[6])
{
    static const uint8_t ones[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

    fmt_put(b, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
            mac[3], mac[4], mac[5]);
    if (mask && memcmp(mask, ones, 6)) {
        fmt_put(b, "/%02x:%02x:%02x:%02x:%02x:%02x", mask[0], mask[1],
                mask[2], mask[3], mask[4], mask[5]);
    }
}

static uint32_t
get_int(const struct oko_flow_key *k, const struct fld *fd)
{
    const uint8_t *p = (const uint8_t *) k + fd->ofs;
    uint16_t v16;
    uint32_t v32;

    switch (fd->size) {
    case 1:
        return *p;
    case 2:
        memcpy(&v16, p, 2);
        return v16;
    default:
        memcpy(&v32, p, 4);
        return v32;
    }
}

static bool
all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    size_t i;

    for (i = 0; i < n; i++) {
        if (b[i]) {
            return false;
        }
    }
    return true;
}

static const char *
sep(bool *first)
{
    if (*first) {
        *first = false;
        return "";
    }
    return ",";
}

static void
fmt_vlan(struct fmt_buf *b, bool *first, uint16_t v, uint16_t m)
{
    const uint16_t vid_m = OKO_FLOW_VLAN_PRESENT | OKO_FLOW_VLAN_VID_MASK;
    const uint16_t pcp_m = OKO_FLOW_VLAN_PRESENT | OKO_FLOW_VLAN_PCP_MASK;

    if (!m) {
        return;
    }
    if (m == 0xffff && v == 0) {
        fmt_put(b, "%sdl_vlan=0xffff", sep(first));
    } else if ((m == vid_m || m == 0xffff) && (v & OKO_FLOW_VLAN_PRESENT)) {
        fmt_put(b, "%sdl_vlan=%u", sep(first), v & OKO_FLOW_VLAN_VID_MASK);
        if (m == 0xffff) {
            fmt_put(b, ",dl_vlan_pcp=%u", v >> OKO_FLOW_VLAN_PCP_SHIFT);
        }
    } else if (m == pcp_m && (v & OKO_FLOW_VLAN_PRESENT)) {
        fmt_put(b, "%sdl_vlan_pcp=%u", sep(first),
                v >> OKO_FLOW_VLAN_PCP_SHIFT);
    } else {
        fmt_put(b, "%svlan_tci=0x%04x/0x%04x", sep(first), v, m);
    }
}

static void
fmt_match(struct fmt_buf *b, bool *first, const struct oko_flow_key *k,
          const struct oko_flow_key *m)
{
    static const char *const done[] = {
        /* Printed by the code around the loop, or aliases. */
        "dl_type", "eth_type", "nw_proto", "ip_proto", "dl_vlan", "vlan_vid",
        "dl_vlan_pcp", "vlan_pcp", "vlan_tci", "nw_tos", "ip_dscp", "nw_ecn",
        "ip_ecn", "ip_frag",
    };
    bool is_arp = m->eth_type == 0xffff
                  && (k->eth_type == ETH_TYPE_ARP
                      || k->eth_type == ETH_TYPE_RARP);
    bool is_ip4 = m->eth_type == 0xffff && k->eth_type == ETH_TYPE_IPV4;
    bool is_ip6 = m->eth_type == 0xffff && k->eth_type == ETH_TYPE_IPV6;
    bool proto_known = m->ip_proto == 0xff && (is_ip4 || is_ip6);
    const char *shorthand = NULL;
    uint8_t seen[sizeof(struct oko_flow_key)];
    size_t i, j;

    /* The protocol: a shorthand where one exists. */
    if (proto_known) {
        static const struct {
            uint8_t proto;
            const char *v4, *v6;
        } sh[] = {
            { IPPROTO_TCP_, "tcp", "tcp6" },
            { IPPROTO_UDP_, "udp", "udp6" },
            { IPPROTO_SCTP_, "sctp", "sctp6" },
            { IPPROTO_ICMP_, "icmp", NULL },
            { IPPROTO_ICMPV6_, NULL, "icmp6" },
        };

        for (i = 0; i < sizeof sh / sizeof sh[0]; i++) {
            if (sh[i].proto == k->ip_proto) {
                shorthand = is_ip4 ? sh[i].v4 : sh[i].v6;
            }
        }
    }
    if (shorthand) {
        fmt_put(b, "%s%s", sep(first), shorthand);
    } else if (is_ip4 || is_ip6) {
        fmt_put(b, "%s%s", sep(first), is_ip4 ? "ip" : "ipv6");
        if (m->ip_proto) {
            fmt_put(b, ",nw_proto=%u", k->ip_proto);
        }
    } else if (m->eth_type == 0xffff && k->eth_type == ETH_TYPE_ARP) {
        fmt_put(b, "%sarp", sep(first));
    } else if (m->eth_type == 0xffff && k->eth_type == ETH_TYPE_RARP) {
        fmt_put(b, "%srarp", sep(first));
    } else if (m->eth_type) {
        fmt_put(b, "%sdl_type=0x%04x", sep(first), k->eth_type);
    }

    fmt_vlan(b, first, k->vlan_tci, m->vlan_tci);
    if (m->ip_tos & 0xfc) {
        fmt_put(b, "%sip_dscp=%u", sep(first), k->ip_tos >> 2);
    }
    if (m->ip_tos & 0x03) {
        fmt_put(b, "%sip_ecn=%u", sep(first), k->ip_tos & 3);
    }
    if (m->ip_frag) {
        static const char *const kw[4][4] = {
            /* [mask][value] */
            [OKO_FLOW_FRAG_ANY] = { "no", "yes", NULL, NULL },
            [OKO_FLOW_FRAG_LATER] = { "not_later", NULL, NULL, NULL },
            [3] = { "no", "first", NULL, "later" },
        };
        const char *s = kw[m->ip_frag & 3][k->ip_frag & 3];

        fmt_put(b, "%sip_frag=%s", sep(first), s ? s : "?");
    }

    /* The other fields, once per key offset, by their first name (ARP
     * addresses by their ARP names). */
    memset(seen, 0, sizeof seen);
    for (i = 0; i < flow_n_fields; i++) {
        const struct fld *fd = &flow_fields[i];
        const uint8_t *kp = (const uint8_t *) k + fd->ofs;
        const uint8_t *mp = (const uint8_t *) m + fd->ofs;
        bool skip = false;

        for (j = 0; j < sizeof done / sizeof done[0]; j++) {
            skip |= !strcmp(fd->name, done[j]);
        }
        if (fd->ofs == offsetof(struct oko_flow_key, ipv4_src)
            || fd->ofs == offsetof(struct oko_flow_key, ipv4_dst)) {
            /* nw_src for IP, arp_spa for ARP. */
            skip |= is_arp ? fd->prereq != PR_ARP : fd->prereq != PR_IPV4_ARP;
        }
        if (skip || seen[fd->ofs] || all_zero(mp, fd->size)) {
            continue;
        }
        seen[fd->ofs] = 1;
        fmt_put(b, "%s%s=", sep(first), fd->name);
        switch (fd->kind) {
        case FK_MAC:
            fmt_mac(b, kp, mp);
            break;
        case FK_IPV4: {
            uint32_t a, am;

            memcpy(&a, kp, 4);
            memcpy(&am, mp, 4);
            fmt_ipv4(b, a, am);
            break;
        }
        case FK_IPV6:
            fmt_ipv6(b, kp, mp);
            break;
        case FK_PORT:
            if (k->in_port == OKO_PORT_LOCAL) {
                fmt_put(b, "LOCAL");
            } else {
                fmt_put(b, "%u", k->in_port);
            }
            break;
        default: {
            uint32_t v = get_int(k, fd), mv = get_int(m, fd);
            uint32_t full = fd->size == 4 ? UINT32_MAX
                            : (1u << (8 * fd->size)) - 1;

            if (fd->maskable && mv != full) {
                fmt_put(b, "0x%x/0x%x", v, mv);
            } else {
                fmt_put(b, "%u", v);
            }
            break;
        }
        }
    }
}

static const char *
port_name(uint32_t port)
{
    switch (port) {
    case OKO_PORT_IN_PORT:
        return "IN_PORT";
    case OKO_PORT_NORMAL:
        return "NORMAL";
    case OKO_PORT_FLOOD:
        return "FLOOD";
    case OKO_PORT_ALL:
        return "ALL";
    case OKO_PORT_LOCAL:
        return "LOCAL";
    default:
        return NULL;
    }
}

static void
fmt_action(struct fmt_buf *b, const struct oko_flow *f,
           const struct oko_action *a)
{
    static const char *const names[] = {
        [OKO_FIELD_ETH_SRC] = "eth_src", [OKO_FIELD_ETH_DST] = "eth_dst",
        [OKO_FIELD_VLAN_VID] = "vlan_vid", [OKO_FIELD_VLAN_PCP] = "vlan_pcp",
        [OKO_FIELD_IPV4_SRC] = "ipv4_src", [OKO_FIELD_IPV4_DST] = "ipv4_dst",
        [OKO_FIELD_IPV6_SRC] = "ipv6_src", [OKO_FIELD_IPV6_DST] = "ipv6_dst",
        [OKO_FIELD_IP_DSCP] = "ip_dscp", [OKO_FIELD_IP_ECN] = "ip_ecn",
        [OKO_FIELD_IP_TTL] = "nw_ttl", [OKO_FIELD_TP_SRC] = "tp_src",
        [OKO_FIELD_TP_DST] = "tp_dst",
    };
    const char *name;

    switch (a->type) {
    case OKO_ACT_OUTPUT:
        if (a->arg == OKO_PORT_CONTROLLER) {
            fmt_put(b, "CONTROLLER:%u", a->max_len);
        } else if ((name = port_name(a->arg)) != NULL) {
            fmt_put(b, "%s", name);
        } else {
            fmt_put(b, "output:%u", a->arg);
        }
        break;
    case OKO_ACT_STRIP_VLAN:
        fmt_put(b, "strip_vlan");
        break;
    case OKO_ACT_DEC_TTL:
        fmt_put(b, "dec_ttl");
        break;
    case OKO_ACT_SEND_MAPS:
        if (a->arg == OKO_SEND_MAPS_ALL) {
            fmt_put(b, "send_maps");
        } else {
            fmt_put(b, "send_maps:%u", a->arg);
        }
        break;
    case OKO_ACT_GOTO_TABLE:
        fmt_put(b, "goto_table:%u", a->arg);
        break;
    case OKO_ACT_SET_FIELD:
        fmt_put(b, "set_field:");
        name = a->field < sizeof names / sizeof names[0] ? names[a->field]
               : NULL;
        switch (a->field) {
        case OKO_FIELD_ETH_SRC:
        case OKO_FIELD_ETH_DST:
            fmt_mac(b, a->value.mac, NULL);
            break;
        case OKO_FIELD_IPV4_SRC:
        case OKO_FIELD_IPV4_DST:
            fmt_ipv4(b, a->value.u32, UINT32_MAX);
            break;
        case OKO_FIELD_IPV6_SRC:
        case OKO_FIELD_IPV6_DST:
            fmt_ipv6(b, a->value.ipv6, NULL);
            break;
        case OKO_FIELD_VLAN_VID:
        case OKO_FIELD_TP_SRC:
        case OKO_FIELD_TP_DST:
            fmt_put(b, "%u", a->value.u16);
            break;
        default:
            fmt_put(b, "%u", a->value.u8);
            break;
        }
        if (a->field == OKO_FIELD_TP_SRC || a->field == OKO_FIELD_TP_DST) {
            /* The protocol-specific name, when the match fixes it. */
            const char *proto = NULL;

            if (f->mask.ip_proto == 0xff) {
                proto = f->key.ip_proto == IPPROTO_TCP_ ? "tcp"
                        : f->key.ip_proto == IPPROTO_UDP_ ? "udp"
                        : f->key.ip_proto == IPPROTO_SCTP_ ? "sctp" : NULL;
            }
            if (proto) {
                fmt_put(b, "->%s_%s", proto,
                        a->field == OKO_FIELD_TP_SRC ? "src" : "dst");
                break;
            }
        }
        fmt_put(b, "->%s", name ? name : "?");
        break;
    default:
        fmt_put(b, "unknown_action_%u", a->type);
        break;
    }
}

/* Formats only the actions of flow ("drop", "output:2,CONTROLLER:65535",
 * ...) into buf like snprintf.  Declared and documented in oko_flow.h. */
int
oko_flow_format_actions(const struct oko_flow *flow, char *buf, size_t size)
{
    struct fmt_buf b = { buf, size, 0 };
    unsigned int i;

    if (size) {
        buf[0] = '\0';
    }
    if (!flow->n_actions) {
        fmt_put(&b, "drop");
    }
    for (i = 0; i < flow->n_actions && i < OKO_FLOW_MAX_ACTIONS; i++) {
        if (i) {
            fmt_put(&b, ",");
        }
        fmt_action(&b, flow, &flow->actions[i]);
    }
    return (int) b.len;
}

/* Formats flow in the syntax oko_flow_parse() reads (so that parsing the
 * text gives back an equal flow) into buf like snprintf: returns the length
 * the full text needs; the text is truncated if that is >= size.  Declared
 * and documented in oko_flow.h. */
int
oko_flow_format(const struct oko_flow *flow, char *buf, size_t size)
{
    struct fmt_buf b = { buf, size, 0 };
    bool first = true;
    unsigned int i;

    if (size) {
        buf[0] = '\0';
    }
    if (flow->table) {
        if (flow->table == OKO_TABLE_ALL) {
            fmt_put(&b, "%stable=all", sep(&first));
        } else {
            fmt_put(&b, "%stable=%u", sep(&first), flow->table);
        }
    }
    fmt_put(&b, "%spriority=%u", sep(&first), flow->priority);
    if (flow->cookie || (flow->cookie_mask
                         && flow->cookie_mask != UINT64_MAX)) {
        fmt_put(&b, ",cookie=0x%" PRIx64, flow->cookie);
        if (flow->cookie_mask && flow->cookie_mask != UINT64_MAX) {
            fmt_put(&b, "/0x%" PRIx64, flow->cookie_mask);
        }
    }
    if (flow->idle_timeout) {
        fmt_put(&b, ",idle_timeout=%u", flow->idle_timeout);
    }
    if (flow->hard_timeout) {
        fmt_put(&b, ",hard_timeout=%u", flow->hard_timeout);
    }
    fmt_match(&b, &first, &flow->key, &flow->mask);
    if (flow->filter_prog) {
        fmt_put(&b, ",filter_prog=%u", flow->filter_prog);
    }
    fmt_put(&b, ",actions=");
    if (!flow->n_actions) {
        fmt_put(&b, "drop");
    }
    for (i = 0; i < flow->n_actions && i < OKO_FLOW_MAX_ACTIONS; i++) {
        if (i) {
            fmt_put(&b, ",");
        }
        fmt_action(&b, flow, &flow->actions[i]);
    }
    return (int) b.len;
}

/* Formats key as a flow match (every field that is relevant for its
 * protocol, no actions) into buf like snprintf: returns the length the full
 * text needs; the text is truncated if that is >= size.  Declared and
 * documented in oko_flow.h. */
int
oko_flow_key_format(const struct oko_flow_key *key, char *buf, size_t size)
{
    struct oko_flow_key mask;
    struct fmt_buf b = { buf, size, 0 };
    bool first = true;
    bool ip = key->eth_type == ETH_TYPE_IPV4 || key->eth_type == ETH_TYPE_IPV6;
    bool arp = key->eth_type == ETH_TYPE_ARP || key->eth_type == ETH_TYPE_RARP;
    bool ports = ip && (key->ip_proto == IPPROTO_TCP_
                        || key->ip_proto == IPPROTO_UDP_
                        || key->ip_proto == IPPROTO_SCTP_);
    bool icmp = (key->eth_type == ETH_TYPE_IPV4
                 && key->ip_proto == IPPROTO_ICMP_)
                || (key->eth_type == ETH_TYPE_IPV6
                    && key->ip_proto == IPPROTO_ICMPV6_);

    if (size) {
        buf[0] = '\0';
    }
    /* A mask with the fields that make sense for this packet. */
    memset(&mask, 0, sizeof mask);
    mask.in_port = UINT32_MAX;
    memset(mask.eth_src, 0xff, 6);
    memset(mask.eth_dst, 0xff, 6);
    mask.eth_type = 0xffff;
    mask.vlan_tci = key->vlan_tci ? 0xffff : 0;
    if (ip) {
        mask.ip_proto = 0xff;
        mask.ip_tos = 0xff;
        mask.ip_ttl = 0xff;
        mask.ip_frag = 0x03;
        if (key->eth_type == ETH_TYPE_IPV4) {
            mask.ipv4_src = mask.ipv4_dst = UINT32_MAX;
        } else {
            memset(mask.ipv6_src, 0xff, 16);
            memset(mask.ipv6_dst, 0xff, 16);
        }
    }
    if (ports && !(key->ip_frag & OKO_FLOW_FRAG_LATER)) {
        mask.tp_src = mask.tp_dst = 0xffff;
        if (key->ip_proto == IPPROTO_TCP_) {
            mask.tcp_flags = TCP_FLAGS_MASK;
        }
    }
    if (icmp && !(key->ip_frag & OKO_FLOW_FRAG_LATER)) {
        mask.icmp_type = mask.icmp_code = 0xff;
    }
    if (arp) {
        mask.arp_op = 0xffff;
        mask.ipv4_src = mask.ipv4_dst = UINT32_MAX;
        memset(mask.arp_sha, 0xff, 6);
        memset(mask.arp_tha, 0xff, 6);
    }
    fmt_match(&b, &first, key, &mask);
    return (int) b.len;
}
